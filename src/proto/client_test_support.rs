//! What the byte-level tests of the three machines share: a setup, a login request, and
//! feeding server bytes to read back exactly what the machine sent and which events it gave.

use crate::model::{Mechanism, Secret, Security};
use crate::proto::client::{ClientMachine, Event, LoginRequest, Setup};

/// The test password (asserted absent wherever it must not go).
pub const PW: &str = "s3cret-pw";

pub fn setup(security: Security) -> Setup {
    Setup {
        security,
        check_injection: false,
        ehlo_name: "mailsetup.invalid".into(),
    }
}

/// Feeds `server` and returns everything sent since the last call (as text) and the events.
pub fn exchange(m: &mut impl ClientMachine, server: &str) -> (String, Vec<Event>) {
    m.feed(server.as_bytes());
    drain(m)
}

/// Everything sent since the last call (as text) and the events, `Step`s left out.
pub fn drain(m: &mut impl ClientMachine) -> (String, Vec<Event>) {
    let mut sent = String::new();
    while let Some(t) = m.poll_transmit() {
        sent.push_str(&String::from_utf8_lossy(&t.bytes));
    }
    let mut events = Vec::new();
    while let Some(e) = m.poll_event() {
        if !matches!(e, Event::Step(_)) {
            events.push(e);
        }
    }
    (sent, events)
}

/// A login for demo@example.test with [`PW`], without plaintext consent.
pub fn login_request(mechanisms: &[Mechanism], quota: bool, port: u16) -> LoginRequest {
    LoginRequest {
        username: "demo@example.test".into(),
        secret: Secret::new(PW.into()),
        mechanisms: mechanisms.to_vec(),
        all: false,
        quota,
        folders: false,
        keep: false,
        host: "mail.example.test".into(),
        port,
        plaintext_allowed: false,
    }
}
