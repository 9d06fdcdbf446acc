//! The POP3 machine byte by byte: exact server bytes in, exact client bytes and events out.

use super::*;
use crate::proto::client::Attempt;
use crate::proto::client_test_support::{drain, exchange, login_request, setup, PW};

fn request(mechanisms: &[Mechanism], quota: bool) -> LoginRequest {
    login_request(mechanisms, quota, 995)
}

fn outcomes(events: &[Event]) -> Vec<(Mechanism, &Outcome)> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Attempt(a) => Some((a.mechanism, &a.outcome)),
            _ => None,
        })
        .collect()
}

/// pop3s up to Ready with these CAPA lines.
fn ready(capa: &str, greeting: &str) -> Client {
    let mut m = Client::new(setup(Security::Tls));
    let (sent, _) = exchange(&mut m, greeting);
    assert_eq!(sent, "CAPA\r\n");
    let (_, ev) = exchange(&mut m, &format!("+OK\r\n{capa}.\r\n"));
    assert!(ev.contains(&Event::Ready), "{ev:?}");
    m
}

#[test]
fn plain_with_its_initial_response_and_stat_go_out_together() {
    let mut m = ready(
        "USER\r\nPIPELINING\r\nSASL PLAIN CRAM-MD5\r\n",
        "+OK ready\r\n",
    );
    m.login(request(&[Mechanism::Plain, Mechanism::CramMd5], true));
    let (sent, _) = drain(&mut m);
    assert_eq!(
        sent,
        "AUTH PLAIN AGRlbW9AZXhhbXBsZS50ZXN0AHMzY3JldC1wdw==\r\nSTAT\r\n"
    );
    let (sent, ev) = exchange(&mut m, "+OK Logged in.\r\n+OK 3 3840\r\n");
    assert_eq!(sent, "QUIT\r\n");
    assert_eq!(
        ev,
        [
            Event::Attempt(Attempt {
                mechanism: Mechanism::Plain,
                outcome: Outcome::Ok("Logged in.".into())
            }),
            Event::Quota(QuotaFacts {
                storage: None,
                messages: Some(3),
                octets: Some(3840)
            }),
            Event::Finished { remaining: vec![] }
        ]
    );
}

#[test]
fn a_refused_normal_password_falls_back_to_cram_md5_on_the_same_connection() {
    // Dovecot with auth_mechanisms = cram-md5 advertises USER and refuses it.
    let mut m = ready("USER\r\nPIPELINING\r\nSASL CRAM-MD5\r\n", "+OK ready\r\n");
    m.login(request(&[Mechanism::User, Mechanism::CramMd5], true));
    let (sent, _) = drain(&mut m);
    assert_eq!(sent, "USER demo@example.test\r\nPASS s3cret-pw\r\nSTAT\r\n");
    // STAT's answer to a failed login is read and ignored.
    let (sent, ev) = exchange(
        &mut m,
        "+OK\r\n-ERR [AUTH] Unsupported authentication mechanism.\r\n-ERR not logged in\r\n",
    );
    assert_eq!(sent, "AUTH CRAM-MD5\r\n");
    assert!(matches!(
        outcomes(&ev)[0],
        (Mechanism::User, Outcome::Refused(_))
    ));
    let (sent, _) = exchange(
        &mut m,
        "+ PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2UucmVzdG9uLm1jaS5uZXQ+\r\n",
    );
    assert!(!sent.contains(PW) && sent.ends_with("\r\n"));
    let (sent, ev) = exchange(&mut m, "+OK in\r\n");
    assert_eq!(sent, "STAT\r\n");
    assert_eq!(
        outcomes(&ev),
        [(Mechanism::CramMd5, &Outcome::Ok("in".into()))]
    );
}

#[test]
fn without_user_in_capa_the_sasl_mechanism_is_used_and_nothing_else() {
    let mut m = ready("TOP\r\nSASL CRAM-MD5\r\n", "+OK ready\r\n");
    m.login(request(&[Mechanism::User, Mechanism::CramMd5], false));
    let (sent, _) = drain(&mut m);
    assert_eq!(sent, "AUTH CRAM-MD5\r\n");
    let mut m = ready("TOP\r\nSASL GSSAPI\r\n", "+OK ready\r\n");
    m.login(request(&[Mechanism::User, Mechanism::Plain], false));
    let (sent, ev) = drain(&mut m);
    assert_eq!(sent, "QUIT\r\n");
    assert!(matches!(
        ev[0],
        Event::LoginImpossible(LoginImpossible::NoUsableMechanism { .. })
    ));
}

#[test]
fn only_ok_to_the_last_step_is_success() {
    for (reply, ok) in [
        ("+ what?\r\n", false),
        ("-ERR [AUTH] Authentication failed.\r\n", false),
        ("+OK Logged in.\r\n", true),
    ] {
        let mut m = ready("USER\r\n", "+OK ready\r\n");
        m.login(request(&[Mechanism::User], false));
        assert_eq!(drain(&mut m).0, "USER demo@example.test\r\n");
        assert_eq!(exchange(&mut m, "+OK\r\n").0, "PASS s3cret-pw\r\n");
        let (_, ev) = exchange(&mut m, reply);
        assert_eq!(matches!(outcomes(&ev)[0].1, Outcome::Ok(_)), ok, "{reply}");
    }
}

#[test]
fn stls_and_its_buffer_rule_and_the_apop_timestamp_is_dropped() {
    let mut m = Client::new(setup(Security::StartTls));
    let (sent, _) = exchange(&mut m, "+OK ready <1896.697170952@dbc.mtview.ca.us>\r\n");
    assert_eq!(sent, "CAPA\r\n");
    let (sent, ev) = exchange(&mut m, "+OK\r\nSTLS\r\nUSER\r\nSASL EVIL\r\n.\r\n");
    assert_eq!(sent, "STLS\r\n");
    assert!(matches!(ev.last(), Some(Event::CapabilitiesBeforeTls(_))));
    let (_, ev) = exchange(&mut m, "+OK Begin TLS\r\n");
    assert_eq!(ev, [Event::NeedTls]);
    m.tls_established();
    let (sent, _) = drain(&mut m);
    assert_eq!(sent, "CAPA\r\n");
    let (_, ev) = exchange(&mut m, "+OK\r\nUSER\r\n.\r\n");
    let Some(Event::Capabilities(c)) = ev.iter().find(|e| matches!(e, Event::Capabilities(_)))
    else {
        panic!("{ev:?}")
    };
    assert_eq!(
        c.offered,
        [Mechanism::User],
        "no APOP after STLS, no pre-TLS SASL"
    );
    // Injection: bytes after +OK in the same segment.
    let mut m = Client::new(setup(Security::StartTls));
    exchange(&mut m, "+OK ready\r\n");
    exchange(&mut m, "+OK\r\nSTLS\r\n.\r\n");
    let (_, ev) = exchange(&mut m, "+OK go\r\n+OK injected\r\n");
    assert!(matches!(
        ev.last(),
        Some(Event::Failed(Failure::StartTls(
            StartTlsRefusal::Injection { .. }
        )))
    ));
    // Not offered, refused.
    let mut m = Client::new(setup(Security::StartTls));
    exchange(&mut m, "+OK ready\r\n");
    let (sent, ev) = exchange(&mut m, "+OK\r\nUSER\r\n.\r\n");
    assert_eq!(sent, "");
    assert!(matches!(
        ev.last(),
        Some(Event::Failed(Failure::StartTls(
            StartTlsRefusal::NotOffered
        )))
    ));
    let mut m = Client::new(setup(Security::StartTls));
    exchange(&mut m, "+OK ready\r\n");
    exchange(&mut m, "+OK\r\nSTLS\r\n.\r\n");
    let (_, ev) = exchange(&mut m, "-ERR no\r\n");
    assert!(matches!(
        ev.last(),
        Some(Event::Failed(Failure::StartTls(StartTlsRefusal::Rejected(
            _
        ))))
    ));
}

#[test]
fn apop_on_implicit_tls_uses_the_greeting_timestamp() {
    let mut m = ready(
        "SASL PLAIN\r\n",
        "+OK ready <1896.697170952@dbc.mtview.ca.us>\r\n",
    );
    m.login(request(&[Mechanism::Apop], false));
    let (sent, _) = drain(&mut m);
    let digest = crate::proto::sasl::apop_digest("<1896.697170952@dbc.mtview.ca.us>", PW);
    assert_eq!(sent, format!("APOP demo@example.test {}\r\n", &*digest));
}

#[test]
fn a_server_without_capa_is_an_rfc_1939_server() {
    let mut m = Client::new(setup(Security::Tls));
    exchange(&mut m, "+OK ready\r\n");
    let (_, ev) = exchange(&mut m, "-ERR unknown command\r\n");
    let Some(Event::Capabilities(c)) = ev.iter().find(|e| matches!(e, Event::Capabilities(_)))
    else {
        panic!("{ev:?}")
    };
    assert_eq!(c.offered, [Mechanism::User]);
}

#[test]
fn greetings_that_refuse_or_are_not_pop3() {
    let mut m = Client::new(setup(Security::Tls));
    let (_, ev) = exchange(&mut m, "-ERR go away\r\n");
    assert!(matches!(
        ev.last(),
        Some(Event::Failed(Failure::ServerRefused(_)))
    ));
    let mut m = Client::new(setup(Security::Tls));
    let (_, ev) = exchange(&mut m, "* OK imap?\r\n");
    assert!(matches!(ev.last(), Some(Event::Failed(Failure::Proto(_)))));
}

#[test]
fn a_kept_session_sends_no_quit_and_hands_over_the_rest() {
    let mut m = ready("USER\r\nSASL PLAIN\r\nUIDL\r\n", "+OK ready\r\n");
    m.login(LoginRequest {
        keep: true,
        ..request(&[Mechanism::Plain], false)
    });
    drain(&mut m);
    let (sent, ev) = exchange(&mut m, "+OK Logged in.\r\n+OK 2 40");
    assert_eq!(sent, "", "no QUIT: the session continues");
    assert!(
        ev.contains(&Event::Kept {
            capabilities: vec!["USER".into(), "SASL PLAIN".into(), "UIDL".into()]
        }),
        "{ev:?}"
    );
    assert_eq!(ev.last(), Some(&Event::Finished { remaining: vec![] }));
    assert_eq!(m.take_buffered(), b"+OK 2 40");
}

#[test]
fn an_interrupted_stat_is_never_handed_over() {
    let mut m = ready("USER\r\nSASL PLAIN\r\n", "+OK ready\r\n");
    m.login(LoginRequest {
        keep: true,
        ..request(&[Mechanism::Plain], true)
    });
    drain(&mut m);
    let (_, ev) = exchange(&mut m, "+OK Logged in.\r\n");
    assert!(!ev.iter().any(|e| matches!(e, Event::Kept { .. })));
    m.interrupted(Interruption::Timeout);
    let (sent, ev) = drain(&mut m);
    assert_eq!(sent, "QUIT\r\n", "a session in an unknown state is closed");
    assert!(
        !ev.iter().any(|e| matches!(e, Event::Kept { .. })),
        "{ev:?}"
    );
}

#[test]
fn no_credential_without_tls_unless_plaintext_was_allowed() {
    let mut m = Client::new(setup(Security::Plain));
    exchange(&mut m, "+OK ready\r\n");
    exchange(&mut m, "+OK\r\nUSER\r\nSASL PLAIN\r\n.\r\n");
    m.login(request(&[Mechanism::Plain, Mechanism::User], false));
    let (sent, ev) = drain(&mut m);
    assert!(
        !sent.contains(PW) && !sent.contains("USER") && !sent.contains("AUTH"),
        "{sent}"
    );
    assert!(
        ev.contains(&Event::LoginImpossible(
            LoginImpossible::PlaintextNotAllowed
        )),
        "{ev:?}"
    );
}
