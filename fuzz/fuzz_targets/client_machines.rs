//! The three client state machines (IMAP, POP3, SMTP) driven as the session driver drives
//! them, by arbitrary, arbitrarily segmented server bytes: NeedTls is answered with
//! `tls_established`, Ready with a login (every mechanism the server offers), the injection
//! window is closed after each segment. Checked: no panic; bounded buffering; the secret never
//! in what the trace shows; and no byte of the secret on the wire before TLS on a STARTTLS
//! endpoint, nor on a plain one unless the login request carries the user's consent
//! (`plaintext_allowed`, a flag bit: the machine itself refuses without it).

#![no_main]

mod common;

use libfuzzer_sys::fuzz_target;
use mailsetup::model::{Mechanism, Secret, Security};
use mailsetup::proto::client::{ClientMachine, Event, LoginRequest, Setup, Wait};
use mailsetup::proto::{imap, pop3, smtp, MAX_LITERAL, MAX_REPLY};

const SECRET: &str = "Fuzz-Secret-9q";

fuzz_target!(|data: &[u8]| {
    let wire = common::Wire::new(data);
    let security = match wire.flags & 3 {
        0 => Security::Tls,
        1 => Security::StartTls,
        _ => Security::Plain,
    };
    let setup = Setup {
        security,
        check_injection: wire.flags & 4 != 0,
        ehlo_name: "fuzz.invalid".into(),
    };
    let mut m: Box<dyn ClientMachine> = match (wire.flags >> 3) % 3 {
        0 => Box::new(imap::Client::new(setup)),
        1 => Box::new(pop3::Client::new(setup)),
        _ => Box::new(smtp::Client::new(setup)),
    };
    let all = wire.flags & 0x40 != 0;
    let consent = wire.flags & 0x80 != 0;
    // The secret may cross without TLS only on a plain endpoint the user allowed.
    let may_leak = security == Security::Plain && consent;
    let mut tls = security == Security::Tls;
    for seg in wire.segments() {
        m.feed(seg);
        drive(m.as_mut(), &mut tls, all, consent, may_leak);
        if m.waiting() == Wait::InjectionWindow {
            m.injection_window_closed();
            drive(m.as_mut(), &mut tls, all, consent, may_leak);
        }
        // Bounded: at most one unfinished line or literal (or reply) is held.
        let bound = MAX_REPLY.max(MAX_LITERAL as usize) + wire.max_line;
        assert!(m.buffered() <= bound, "holds {} bytes", m.buffered());
    }
});

fn drive(m: &mut dyn ClientMachine, tls: &mut bool, all: bool, consent: bool, may_leak: bool) {
    for _ in 0..64 {
        let mut progressed = false;
        while let Some(t) = m.poll_transmit() {
            progressed = true;
            assert!(!t.shown.contains(SECRET), "the trace shows the secret: {}", t.shown);
            let wire = String::from_utf8_lossy(&t.bytes);
            if !*tls && !may_leak {
                assert!(!wire.contains(SECRET), "the secret before TLS: {wire:?}");
                assert!(
                    !wire.contains("RnV6ei1TZWNyZXQtOXE"),
                    "the base64 secret before TLS: {wire:?}"
                );
            }
        }
        while let Some(e) = m.poll_event() {
            progressed = true;
            match e {
                Event::NeedTls => {
                    *tls = true;
                    m.tls_established();
                }
                Event::Kept { .. } => {
                    let _ = m.take_buffered();
                }
                Event::Ready => m.login(LoginRequest {
                    username: "fuzz@example.test".into(),
                    secret: Secret::new(SECRET.into()),
                    mechanisms: Mechanism::ALL.to_vec(),
                    all,
                    quota: true,
                    folders: true,
                    keep: all,
                    host: "fuzz.example.test".into(),
                    port: 993,
                    plaintext_allowed: consent,
                }),
                _ => {}
            }
        }
        if !progressed {
            return;
        }
    }
}
