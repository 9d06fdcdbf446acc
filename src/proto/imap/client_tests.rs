//! The IMAP machine byte by byte: exact server bytes in, exact client bytes and events out.

use super::*;
use crate::model::Secret;
use crate::proto::client_test_support::{drain, exchange, login_request, setup, PW};

fn request(mechanisms: &[Mechanism], quota: bool) -> LoginRequest {
    login_request(mechanisms, quota, 993)
}

fn attempts(events: &[Event]) -> Vec<(Mechanism, &Outcome)> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Attempt(a) => Some((a.mechanism, &a.outcome)),
            _ => None,
        })
        .collect()
}

#[test]
fn implicit_tls_uses_the_greeting_capabilities_and_pipelines_after_login() {
    let mut m = Client::new(setup(Security::Tls));
    let (sent, ev) = exchange(
        &mut m,
        "* OK [CAPABILITY IMAP4rev1 SASL-IR AUTH=PLAIN AUTH=CRAM-MD5] ready\r\n",
    );
    assert_eq!(sent, "", "no CAPABILITY: the greeting had them");
    assert!(ev.contains(&Event::Ready), "{ev:?}");
    let Some(Event::Capabilities(c)) = ev.iter().find(|e| matches!(e, Event::Capabilities(_)))
    else {
        panic!("{ev:?}")
    };
    assert_eq!(
        c.offered,
        [
            Mechanism::CramMd5,
            Mechanism::Plain,
            Mechanism::LoginCommand
        ]
    );
    m.login(request(&[Mechanism::Plain], true));
    let (sent, _) = drain(&mut m);
    // PLAIN with its initial response (SASL-IR): "\0demo@example.test\0s3cret-pw".
    assert_eq!(
        sent,
        "A1 AUTHENTICATE PLAIN AGRlbW9AZXhhbXBsZS50ZXN0AHMzY3JldC1wdw==\r\n"
    );
    let (sent, ev) = exchange(&mut m, "A1 OK [CAPABILITY IMAP4rev1 QUOTA] Logged in\r\n");
    assert_eq!(
        sent, "A2 STATUS INBOX (MESSAGES)\r\nA3 GETQUOTAROOT INBOX\r\nA4 LOGOUT\r\n",
        "the quota commands and LOGOUT in one write, no CAPABILITY (the OK carried it)"
    );
    assert_eq!(
        attempts(&ev),
        [(Mechanism::Plain, &Outcome::Ok("Logged in".into()))]
    );
    let (sent, ev) = exchange(
        &mut m,
        "* STATUS INBOX (MESSAGES 3)\r\nA2 OK\r\n\
         * QUOTAROOT INBOX \"User quota\"\r\n* QUOTA \"User quota\" (STORAGE 4 10)\r\nA3 OK\r\n",
    );
    assert_eq!(sent, "");
    assert_eq!(
        ev,
        [
            Event::Quota(QuotaFacts {
                storage: Some((4096, 10240)),
                messages: Some(3),
                octets: None
            }),
            Event::Finished { remaining: vec![] }
        ]
    );
}

#[test]
fn implicit_tls_without_greeting_capabilities_asks_for_them() {
    let mut m = Client::new(setup(Security::Tls));
    let (sent, _) = exchange(&mut m, "* OK ready\r\n");
    assert_eq!(sent, "A1 CAPABILITY\r\n");
    let (_, ev) = exchange(
        &mut m,
        "* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\nA1 OK done\r\n",
    );
    assert!(ev.contains(&Event::Ready));
}

#[test]
fn starttls_goes_last_in_one_write_and_pre_tls_state_is_discarded() {
    let mut m = Client::new(setup(Security::StartTls));
    let (sent, _) = exchange(
        &mut m,
        "* OK [CAPABILITY IMAP4rev1 STARTTLS AUTH=EVIL] hi\r\n",
    );
    assert_eq!(sent, "A1 CAPABILITY\r\nA2 STARTTLS\r\n");
    let (sent, ev) = exchange(
        &mut m,
        "* CAPABILITY IMAP4rev1 STARTTLS AUTH=EVIL\r\nA1 OK done\r\nA2 OK begin\r\n",
    );
    assert_eq!(sent, "");
    assert_eq!(
        ev,
        [
            Event::Greeting("OK [CAPABILITY IMAP4rev1 STARTTLS AUTH=EVIL] hi".into()),
            Event::CapabilitiesBeforeTls(caps("IMAP4REV1 STARTTLS AUTH=EVIL")),
            Event::NeedTls
        ]
        .into_iter()
        .filter(|e| !matches!(e, Event::Greeting(_)))
        .collect::<Vec<_>>()
    );
    m.tls_established();
    let (sent, _) = drain(&mut m);
    assert_eq!(
        sent, "A3 CAPABILITY\r\n",
        "capabilities are read again inside TLS"
    );
    let (_, ev) = exchange(&mut m, "* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\nA3 OK\r\n");
    let Some(Event::Capabilities(c)) = ev.iter().find(|e| matches!(e, Event::Capabilities(_)))
    else {
        panic!("{ev:?}")
    };
    assert_eq!(c.sasl, ["PLAIN"], "nothing from before TLS survives");
}

#[test]
fn bytes_after_the_positive_starttls_reply_abort() {
    // Same segment.
    let mut m = Client::new(setup(Security::StartTls));
    exchange(&mut m, "* OK hi\r\n");
    let (_, ev) = exchange(
        &mut m,
        "* CAPABILITY IMAP4rev1 STARTTLS\r\nA1 OK\r\nA2 OK begin\r\n* OK [CAPABILITY AUTH=PLAIN] injected\r\n",
    );
    assert!(
        matches!(
            ev.last(),
            Some(Event::Failed(Failure::StartTls(
                StartTlsRefusal::Injection { .. }
            )))
        ),
        "{ev:?}"
    );
    assert!(!ev.contains(&Event::NeedTls));
    // A later segment, before the handshake (the driver feeds what it holds).
    let mut m = Client::new(setup(Security::StartTls));
    exchange(&mut m, "* OK hi\r\n");
    let (_, ev) = exchange(
        &mut m,
        "* CAPABILITY IMAP4rev1 STARTTLS\r\nA1 OK\r\nA2 OK begin\r\n",
    );
    assert!(ev.contains(&Event::NeedTls));
    let (_, ev) = exchange(&mut m, "x");
    assert_eq!(
        ev,
        [Event::Failed(Failure::StartTls(
            StartTlsRefusal::Injection { buffered: 1 }
        ))]
    );
}

#[test]
fn starttls_missing_or_refused_never_continues_in_plaintext() {
    let mut m = Client::new(setup(Security::StartTls));
    exchange(&mut m, "* OK hi\r\n");
    let (sent, ev) = exchange(&mut m, "* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\nA1 OK\r\n");
    assert_eq!(sent, "");
    assert!(matches!(
        ev.last(),
        Some(Event::Failed(Failure::StartTls(
            StartTlsRefusal::NotOffered
        )))
    ));
    for reply in ["A2 NO later\r\n", "A2 BAD what\r\n"] {
        let mut m = Client::new(setup(Security::StartTls));
        exchange(&mut m, "* OK hi\r\n");
        let (sent, ev) = exchange(
            &mut m,
            &format!("* CAPABILITY IMAP4rev1 STARTTLS\r\nA1 OK\r\n{reply}"),
        );
        assert_eq!(sent, "", "{reply}");
        assert!(
            matches!(
                ev.last(),
                Some(Event::Failed(Failure::StartTls(StartTlsRefusal::Rejected(
                    _
                ))))
            ),
            "{reply}: {ev:?}"
        );
    }
}

#[test]
fn preauth_before_tls_aborts() {
    let mut m = Client::new(setup(Security::StartTls));
    let (sent, ev) = exchange(&mut m, "* PREAUTH [CAPABILITY IMAP4rev1 STARTTLS] hi\r\n");
    assert_eq!(sent, "");
    assert!(matches!(
        ev.last(),
        Some(Event::Failed(Failure::StartTls(StartTlsRefusal::PreAuth(
            _
        ))))
    ));
}

#[test]
fn logindisabled_with_cram_md5_authenticates() {
    let mut m = Client::new(setup(Security::Tls));
    exchange(
        &mut m,
        "* OK [CAPABILITY IMAP4rev1 LOGINDISABLED AUTH=CRAM-MD5] hi\r\n",
    );
    m.login(request(
        &[Mechanism::LoginCommand, Mechanism::CramMd5],
        false,
    ));
    let (sent, _) = drain(&mut m);
    assert_eq!(sent, "A1 AUTHENTICATE CRAM-MD5\r\n");
    // RFC 2195's challenge; the answer is "demo@example.test <hmac-md5 hex>".
    let (sent, _) = exchange(
        &mut m,
        "+ PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2UucmVzdG9uLm1jaS5uZXQ+\r\n",
    );
    use base64::Engine as _;
    let answer = base64::engine::general_purpose::STANDARD
        .decode(sent.trim_end())
        .unwrap();
    let answer = String::from_utf8(answer).unwrap();
    assert!(answer.starts_with("demo@example.test "), "{answer}");
    assert_eq!(answer.len(), "demo@example.test ".len() + 32);
    let (sent, ev) = exchange(&mut m, "A1 OK done\r\n");
    assert_eq!(sent, "A2 LOGOUT\r\n");
    assert_eq!(
        attempts(&ev),
        [(Mechanism::CramMd5, &Outcome::Ok("done".into()))]
    );
}

#[test]
fn logindisabled_alone_sends_no_credential() {
    let mut m = Client::new(setup(Security::Tls));
    exchange(
        &mut m,
        "* OK [CAPABILITY IMAP4rev1 LOGINDISABLED AUTH=GSSAPI] hi\r\n",
    );
    m.login(request(&[Mechanism::LoginCommand, Mechanism::Plain], false));
    let (sent, ev) = drain(&mut m);
    assert_eq!(sent, "A1 LOGOUT\r\n", "nothing but LOGOUT");
    assert_eq!(
        ev[0],
        Event::LoginImpossible(LoginImpossible::LoginDisabled {
            offered: vec!["GSSAPI".into()]
        })
    );
    // Without TLS, LOGINDISABLED means nothing at all, whatever is offered — even when the
    // user allowed plaintext for this plain endpoint.
    let mut m = Client::new(setup(Security::Plain));
    exchange(&mut m, "* OK hi\r\n");
    exchange(
        &mut m,
        "* CAPABILITY IMAP4rev1 LOGINDISABLED AUTH=PLAIN\r\nA1 OK\r\n",
    );
    m.login(LoginRequest {
        plaintext_allowed: true,
        ..request(&[Mechanism::Plain], false)
    });
    let (sent, ev) = drain(&mut m);
    assert!(
        !sent.contains("AUTHENTICATE") && !sent.contains(PW),
        "{sent}"
    );
    assert_eq!(
        ev[0],
        Event::LoginImpossible(LoginImpossible::LoginDisabledWithoutTls)
    );
}

#[test]
fn only_our_tagged_ok_is_success_and_a_refusal_moves_to_the_next_method() {
    type Judge = fn(&Outcome) -> bool;
    let cases: [(&str, Judge); 4] = [
        ("A2 OK fine\r\n", |o| matches!(o, Outcome::Unverified(_))),
        ("A1 BAD nope\r\n", |o| matches!(o, Outcome::Unverified(_))),
        ("* BYE gone\r\n", |o| matches!(o, Outcome::Unverified(_))),
        (
            "A1 NO [AUTHENTICATIONFAILED] Authentication failed\r\n",
            |o| matches!(o, Outcome::Refused(_)),
        ),
    ];
    for (reply, want) in cases {
        let mut m = Client::new(setup(Security::Tls));
        exchange(
            &mut m,
            "* OK [CAPABILITY IMAP4rev1 SASL-IR AUTH=PLAIN AUTH=CRAM-MD5] hi\r\n",
        );
        m.login(request(&[Mechanism::Plain, Mechanism::CramMd5], false));
        drain(&mut m);
        let (sent, ev) = exchange(&mut m, &format!("* OK [ALERT] not for us\r\n{reply}"));
        let a = attempts(&ev);
        assert!(want(a[0].1), "{reply}: {ev:?}");
        if matches!(a[0].1, Outcome::Refused(_)) {
            assert_eq!(sent, "A2 AUTHENTICATE CRAM-MD5\r\n", "same connection");
        } else {
            assert_eq!(sent, "A2 LOGOUT\r\n", "{reply}");
        }
    }
}

#[test]
fn an_unquotable_password_goes_as_synchronising_literals() {
    let mut m = Client::new(setup(Security::Tls));
    exchange(&mut m, "* OK [CAPABILITY IMAP4rev1] hi\r\n");
    let mut req = request(&[Mechanism::LoginCommand], false);
    req.secret = Secret::new("pässword".into());
    m.login(req);
    let (sent, _) = drain(&mut m);
    assert_eq!(sent, "A1 LOGIN {17}\r\n");
    let (sent, _) = exchange(&mut m, "+ go\r\n");
    assert_eq!(sent, "demo@example.test {9}\r\n");
    let (sent, _) = exchange(&mut m, "+ go\r\n");
    assert_eq!(sent, "pässword\r\n");
    let (_, ev) = exchange(&mut m, "A1 OK in\r\n");
    assert!(matches!(attempts(&ev)[0].1, Outcome::Ok(_)));
}

#[test]
fn the_trace_never_shows_a_secret() {
    let mut m = Client::new(setup(Security::Tls));
    exchange(
        &mut m,
        "* OK [CAPABILITY IMAP4rev1 SASL-IR AUTH=PLAIN] hi\r\n",
    );
    m.login(request(&[Mechanism::Plain, Mechanism::LoginCommand], false));
    let mut shown = Vec::new();
    while let Some(t) = m.poll_transmit() {
        shown.push(t.shown.clone());
    }
    m.feed(b"A1 NO bad\r\n");
    while let Some(t) = m.poll_transmit() {
        shown.push(t.shown.clone());
    }
    assert_eq!(
        shown,
        [
            "A1 AUTHENTICATE PLAIN <redacted>",
            "A2 LOGIN \"demo@example.test\" <redacted>"
        ]
    );
}

#[test]
fn check_injection_pipelines_noop_and_judges_the_answer_inside_tls() {
    let mut s = setup(Security::StartTls);
    s.check_injection = true;
    let mut m = Client::new(s.clone());
    let (sent, _) = exchange(&mut m, "* OK hi\r\n");
    assert_eq!(sent, "A1 CAPABILITY\r\nA2 STARTTLS\r\nA3 NOOP\r\n");
    let (_, ev) = exchange(
        &mut m,
        "* CAPABILITY IMAP4rev1 STARTTLS\r\nA1 OK\r\nA2 OK\r\n",
    );
    assert!(ev.contains(&Event::NeedTls));
    m.tls_established();
    assert_eq!(m.waiting(), Wait::InjectionWindow);
    let (_, ev) = exchange(&mut m, "A3 OK NOOP done\r\n");
    assert!(matches!(
        ev.last(),
        Some(Event::Failed(Failure::InjectionExecuted {
            pipelined: "NOOP",
            ..
        }))
    ));
    // Nothing came: not vulnerable, and the probe goes on.
    let mut m = Client::new(s);
    exchange(&mut m, "* OK hi\r\n");
    exchange(
        &mut m,
        "* CAPABILITY IMAP4rev1 STARTTLS\r\nA1 OK\r\nA2 OK\r\n",
    );
    m.tls_established();
    m.injection_window_closed();
    let (sent, ev) = drain(&mut m);
    assert_eq!(ev, [Event::Injection(InjectionVerdict::NotVulnerable)]);
    assert_eq!(sent, "A4 CAPABILITY\r\n");
}

#[test]
fn all_mechanisms_leaves_the_rest_for_a_fresh_connection() {
    let mut m = Client::new(setup(Security::Tls));
    exchange(
        &mut m,
        "* OK [CAPABILITY IMAP4rev1 SASL-IR AUTH=PLAIN AUTH=CRAM-MD5] hi\r\n",
    );
    let mut req = request(&[Mechanism::CramMd5, Mechanism::Plain], false);
    req.all = true;
    m.login(req);
    drain(&mut m);
    exchange(&mut m, "+ PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2U+\r\n");
    let (sent, ev) = exchange(&mut m, "A1 OK in\r\n");
    assert_eq!(sent, "A2 LOGOUT\r\n");
    assert_eq!(
        ev.last(),
        Some(&Event::Finished {
            remaining: vec![Mechanism::Plain]
        })
    );
}

#[test]
fn interruptions_become_failures_or_unverified_attempts() {
    let mut m = Client::new(setup(Security::Tls));
    m.interrupted(Interruption::Timeout);
    let (_, ev) = drain(&mut m);
    assert!(matches!(
        ev.last(),
        Some(Event::Failed(Failure::Interrupted { greeting: true, .. }))
    ));
    let mut m = Client::new(setup(Security::Tls));
    exchange(
        &mut m,
        "* OK [CAPABILITY IMAP4rev1 SASL-IR AUTH=PLAIN] hi\r\n",
    );
    m.login(request(&[Mechanism::Plain], false));
    drain(&mut m);
    m.interrupted(Interruption::Closed);
    let (_, ev) = drain(&mut m);
    assert!(matches!(attempts(&ev)[0].1, Outcome::Unverified(t) if t.contains("closed")));
}

#[test]
fn a_long_capability_line_before_tls_keeps_starttls() {
    let filler: String = (0..330).map(|i| format!("X-EXTENSION-{i:04} ")).collect();
    let mut m = Client::new(setup(Security::StartTls));
    exchange(&mut m, "* OK hi\r\n");
    let (_, ev) = exchange(
        &mut m,
        &format!("* CAPABILITY IMAP4rev1 {filler}STARTTLS\r\nA1 OK\r\nA2 OK\r\n"),
    );
    assert!(ev.contains(&Event::NeedTls), "{ev:?}");
}

// The post-login pipeline: quota, folders, kept sessions.
#[path = "client_post_login_tests.rs"]
mod post_login;

#[test]
fn no_credential_without_tls_unless_plaintext_was_allowed() {
    let plain = || {
        let mut m = Client::new(setup(Security::Plain));
        exchange(&mut m, "* OK hi\r\n");
        exchange(&mut m, "* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\nA1 OK\r\n");
        m
    };
    let mut m = plain();
    m.login(request(&[Mechanism::Plain, Mechanism::LoginCommand], false));
    let (sent, ev) = drain(&mut m);
    assert_eq!(sent, "A2 LOGOUT\r\n", "nothing but LOGOUT");
    assert_eq!(
        ev[0],
        Event::LoginImpossible(LoginImpossible::PlaintextNotAllowed)
    );
    // With the user's consent (--allow-plaintext-login), a plain endpoint gets the login.
    let mut m = plain();
    m.login(LoginRequest {
        plaintext_allowed: true,
        ..request(&[Mechanism::Plain], false)
    });
    let (sent, _) = drain(&mut m);
    assert!(sent.starts_with("A2 AUTHENTICATE PLAIN"), "{sent}");
}
