//! The SMTP machine byte by byte: exact server bytes in, exact client bytes and events out.

use super::*;
use crate::proto::client_test_support::{drain, exchange, login_request, setup};

fn request(mechanisms: &[Mechanism]) -> LoginRequest {
    login_request(mechanisms, false, 465)
}

fn ready(ehlo: &str) -> Client {
    let mut m = Client::new(setup(Security::Tls));
    let (sent, _) = exchange(&mut m, "220 mail ESMTP\r\n");
    assert_eq!(sent, "EHLO mailsetup.invalid\r\n");
    let (_, ev) = exchange(&mut m, ehlo);
    assert!(ev.contains(&Event::Ready), "{ev:?}");
    m
}

#[test]
fn plain_with_its_initial_response_then_quit_without_waiting() {
    let mut m = ready("250-mail\r\n250-AUTH PLAIN LOGIN CRAM-MD5\r\n250 8BITMIME\r\n");
    m.login(request(&[Mechanism::Plain, Mechanism::CramMd5]));
    let (sent, _) = drain(&mut m);
    assert_eq!(
        sent,
        "AUTH PLAIN AGRlbW9AZXhhbXBsZS50ZXN0AHMzY3JldC1wdw==\r\n"
    );
    let (sent, ev) = exchange(&mut m, "235 2.7.0 Authentication successful\r\n");
    assert_eq!(sent, "QUIT\r\n");
    assert_eq!(
        ev,
        [
            Event::Attempt(Attempt {
                mechanism: Mechanism::Plain,
                outcome: Outcome::Ok("235 2.7.0 Authentication successful".into())
            }),
            Event::Finished { remaining: vec![] }
        ]
    );
    assert_eq!(m.waiting(), Wait::Nothing, "QUIT's answer is not awaited");
}

#[test]
fn only_235_is_success() {
    for (reply, ok) in [
        ("250 2.0.0 OK\r\n", false),
        ("535 5.7.8 Authentication failed\r\n", false),
        ("235 ok\r\n", true),
    ] {
        let mut m = ready("250-mail\r\n250 AUTH PLAIN\r\n");
        m.login(request(&[Mechanism::Plain]));
        drain(&mut m);
        let (_, ev) = exchange(&mut m, reply);
        let Some(Event::Attempt(a)) = ev.first() else {
            panic!("{ev:?}")
        };
        assert_eq!(matches!(a.outcome, Outcome::Ok(_)), ok, "{reply}");
    }
    // Endless 334: bounded by the SASL round trips, then cancelled and unverified.
    let mut m = ready("250-mail\r\n250 AUTH LOGIN\r\n");
    m.login(request(&[Mechanism::Login]));
    drain(&mut m);
    let mut last = Vec::new();
    for _ in 0..8 {
        let (_, ev) = exchange(&mut m, "334 \r\n");
        last.extend(ev);
    }
    let (_, ev) = exchange(&mut m, "501 cancelled\r\n");
    last.extend(ev);
    assert!(
        last.iter()
            .any(|e| matches!(e, Event::Attempt(a) if matches!(a.outcome, Outcome::Unverified(_)))),
        "{last:?}"
    );
}

#[test]
fn starttls_only_220_and_nothing_after_it() {
    for (reply, upgrade) in [
        ("220 go ahead\r\n", true),
        ("454 TLS not available\r\n", false),
        ("502 no\r\n", false),
        ("354 huh\r\n", false),
        ("250 ok\r\n", false),
    ] {
        let mut m = Client::new(setup(Security::StartTls));
        exchange(&mut m, "220 mail ESMTP\r\n");
        let (sent, _) = exchange(&mut m, "250-mail\r\n250-STARTTLS\r\n250 AUTH PLAIN\r\n");
        assert_eq!(sent, "STARTTLS\r\n");
        let (_, ev) = exchange(&mut m, reply);
        assert_eq!(ev.contains(&Event::NeedTls), upgrade, "{reply}: {ev:?}");
    }
    let mut m = Client::new(setup(Security::StartTls));
    exchange(&mut m, "220 mail ESMTP\r\n");
    exchange(&mut m, "250-mail\r\n250 STARTTLS\r\n");
    let (_, ev) = exchange(&mut m, "220 go\r\n250 injected\r\n");
    assert!(matches!(
        ev.last(),
        Some(Event::Failed(Failure::StartTls(
            StartTlsRefusal::Injection { .. }
        )))
    ));
    // After TLS: a fresh EHLO, the pre-TLS one forgotten.
    let mut m = Client::new(setup(Security::StartTls));
    exchange(&mut m, "220 mail ESMTP\r\n");
    exchange(&mut m, "250-mail\r\n250-STARTTLS\r\n250 AUTH EVIL\r\n");
    exchange(&mut m, "220 go\r\n");
    m.tls_established();
    assert_eq!(drain(&mut m).0, "EHLO mailsetup.invalid\r\n");
    let (_, ev) = exchange(&mut m, "250-mail\r\n250 AUTH PLAIN\r\n");
    let Some(Event::Capabilities(c)) = ev.iter().find(|e| matches!(e, Event::Capabilities(_)))
    else {
        panic!("{ev:?}")
    };
    assert_eq!(c.sasl, ["PLAIN"]);
}

#[test]
fn cram_md5_only_and_a_refusal_then_the_next_method() {
    let mut m = ready("250-mail\r\n250 AUTH PLAIN CRAM-MD5\r\n");
    m.login(request(&[Mechanism::Plain, Mechanism::CramMd5]));
    drain(&mut m);
    let (sent, ev) = exchange(&mut m, "535 5.7.8 Authentication credentials invalid\r\n");
    assert_eq!(sent, "AUTH CRAM-MD5\r\n");
    let Some(Event::Attempt(a)) = ev.first() else {
        panic!("{ev:?}")
    };
    let Outcome::Refused(r) = &a.outcome else {
        panic!("{a:?}")
    };
    assert_eq!(r.server_code.as_deref(), Some("535 5.7.8"));
    let (sent, _) = exchange(
        &mut m,
        "334 PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2UucmVzdG9uLm1jaS5uZXQ+\r\n",
    );
    assert!(sent.ends_with("\r\n") && !sent.contains("s3cret"));
}

#[test]
fn greetings_and_ehlo_refusals() {
    let mut m = Client::new(setup(Security::Tls));
    let (_, ev) = exchange(&mut m, "554 go away\r\n");
    assert!(matches!(
        ev.last(),
        Some(Event::Failed(Failure::ServerRefused(_)))
    ));
    let mut m = Client::new(setup(Security::Tls));
    exchange(&mut m, "220 hi\r\n");
    let (_, ev) = exchange(&mut m, "502 no EHLO\r\n");
    assert!(matches!(
        ev.last(),
        Some(Event::Failed(Failure::CommandFailed {
            command: "EHLO",
            ..
        }))
    ));
}

#[test]
fn a_kept_session_sends_no_quit_and_reports_the_ehlo_lines() {
    let mut m = ready("250-mail\r\n250-AUTH PLAIN\r\n250 SIZE 10240000\r\n");
    m.login(LoginRequest {
        keep: true,
        ..request(&[Mechanism::Plain])
    });
    drain(&mut m);
    let (sent, ev) = exchange(&mut m, "235 2.7.0 ok\r\n");
    assert_eq!(
        sent, "",
        "no QUIT: the message is submitted on this session"
    );
    assert!(
        ev.contains(&Event::Kept {
            capabilities: vec!["AUTH PLAIN".into(), "SIZE 10240000".into()]
        }),
        "{ev:?}"
    );
}

#[test]
fn no_credential_without_tls_unless_plaintext_was_allowed() {
    let mut m = Client::new(setup(Security::Plain));
    exchange(&mut m, "220 ready\r\n");
    exchange(&mut m, "250-mail.example.test\r\n250 AUTH PLAIN LOGIN\r\n");
    m.login(request(&[Mechanism::Plain, Mechanism::Login]));
    let (sent, ev) = drain(&mut m);
    assert!(!sent.contains("AUTH"), "{sent}");
    assert!(
        ev.contains(&Event::LoginImpossible(
            LoginImpossible::PlaintextNotAllowed
        )),
        "{ev:?}"
    );
}
