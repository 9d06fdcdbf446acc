//! Login strictness against scripted servers: only SMTP 235, our own tagged OK, and POP3 +OK
//! to PASS/APOP/the last AUTH step count as success; credentials never go where they must not.

mod support;

use std::time::Duration;

use support::certs::TestCa;
use support::fake::{expect, expect_tagged, send, FakeServer, Step};
use support::run::{assert_no_secret, codes, mailsetup, Run};

const HOST: &str = "fake.example.test";
const USER: &str = "victim@example.test";
const CANARY: &str = "Canary-Pw-51c0de";

/// Where a run's secret comes from.
#[derive(Clone, Copy)]
enum Cred<'a> {
    Password(&'a str),
    TokenCommand(&'a str),
    Nothing,
}

/// `mailsetup check USER --server URL --json` against a fake server, trusting `ca`; asserts
/// the secret never shows up in what the binary printed.
fn run_check(url: &str, s: &FakeServer, ca: &TestCa, cred: Cred, extra: &[&str]) -> Run {
    let port = url.rsplit(':').next().unwrap();
    let connect_to = format!("{HOST}:{port}:127.0.0.1:{}", s.port);
    let ca_file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(ca_file.path(), ca.ca_pem()).unwrap();
    let ca_path = ca_file.path().to_str().unwrap().to_string();
    let mut args = vec![
        "check",
        USER,
        "--server",
        url,
        "--connect-to",
        &connect_to,
        "--ca-file",
        &ca_path,
        "--json",
    ];
    if !extra.contains(&"--timeout") {
        args.extend(["--timeout", "5"]);
    }
    let token_cmd;
    let (env, secret): (Vec<(&str, &str)>, Option<&str>) = match cred {
        Cred::Password(p) => {
            args.extend(["--password-env", "SECRET"]);
            (vec![("SECRET", p)], Some(p))
        }
        Cred::TokenCommand(t) => {
            token_cmd = format!("echo {t}");
            args.extend(["--oauth2-token-command", &token_cmd]);
            (vec![], Some(t))
        }
        Cred::Nothing => (vec![], None),
    };
    args.extend(extra);
    let r = mailsetup(&args, &env);
    s.wait_done(s.connections(), Duration::from_secs(5));
    if let Some(secret) = secret {
        assert_no_secret("stdout/stderr", r.all_output().as_bytes(), USER, secret);
    }
    r
}

fn check(url: &str, s: &FakeServer, ca: &TestCa, extra: &[&str]) -> Run {
    run_check(url, s, ca, Cred::Password(CANARY), extra)
}

fn login_verdict(r: &Run) -> (String, Vec<String>, i32) {
    let ep = &r.endpoints()[0];
    (
        ep["login"]["status"].as_str().unwrap_or("null").to_string(),
        codes(ep),
        r.code,
    )
}

fn imaps(ca: &TestCa, caps: &str, after_auth: Vec<Step>) -> Vec<Step> {
    let mut v = vec![
        Step::StartTls(ca.leaf(&[HOST]).server_config()),
        send("* OK ready\r\n"),
        expect_tagged("CAPABILITY"),
        send(format!("* CAPABILITY {caps}\r\n{{tag}} OK done\r\n")),
    ];
    v.extend(after_auth);
    v.push(Step::ReadUntilEof);
    v
}

#[test]
fn imap_only_our_tagged_ok_is_success() {
    let ca = TestCa::new("login");
    let cases = [
        ("X77 OK LOGIN completed\r\n", "login-unverified"),
        ("{tag} BAD syntax\r\n", "login-unverified"),
        ("* BYE go away\r\n", "login-unverified"),
        (
            "{tag} NO [AUTHENTICATIONFAILED] Authentication failed\r\n",
            "login-failed",
        ),
        ("* OK [ALERT] fine, sure\r\n", "login-unverified"),
    ];
    for (reply, code) in cases {
        let s = FakeServer::start(imaps(
            &ca,
            "IMAP4rev1 AUTH=PLAIN SASL-IR",
            vec![expect_tagged("AUTHENTICATE PLAIN"), send(reply)],
        ));
        let r = check("imaps://fake.example.test:993", &s, &ca, &[]);
        let (status, codes, exit) = login_verdict(&r);
        assert_eq!(status, "failed", "{reply}: {}", r.stdout);
        assert!(codes.contains(&code.to_string()), "{reply}: {codes:?}");
        assert_eq!(exit, 1);
        assert_no_secret("plaintext on the wire", &s.transcript(), USER, CANARY);
    }
}

#[test]
fn imap_success_is_reported_with_the_mechanism() {
    let ca = TestCa::new("login-ok");
    let s = FakeServer::start(imaps(
        &ca,
        "IMAP4rev1 AUTH=PLAIN SASL-IR",
        vec![
            expect_tagged("AUTHENTICATE PLAIN"),
            send("{tag} OK Logged in\r\n"),
        ],
    ));
    let r = check("imaps://fake.example.test:993", &s, &ca, &[]);
    let ep = &r.endpoints()[0];
    assert_eq!(ep["login"]["status"], "ok", "{}", r.stdout);
    assert_eq!(ep["login"]["mechanism"], "PLAIN");
    assert_eq!(ep["login"]["auth_method"], "password-cleartext");
    assert_eq!(r.code, 0);
    // The password did cross the wire, but only inside TLS.
    assert!(String::from_utf8_lossy(&s.received_in_tls()).contains("AUTHENTICATE PLAIN"));
    assert_no_secret("plaintext on the wire", &s.transcript(), USER, CANARY);
}

#[test]
fn smtp_only_235_is_success() {
    let ca = TestCa::new("smtp-login");
    for (reply, code) in [
        ("250 2.0.0 OK\r\n", "login-unverified"),
        ("535 5.7.8 Authentication failed\r\n", "login-failed"),
        (
            "334 \r\n334 \r\n334 \r\n334 \r\n334 \r\n334 \r\n334 \r\n334 \r\n",
            "login-unverified",
        ),
    ] {
        let s = FakeServer::start(vec![
            Step::StartTls(ca.leaf(&[HOST]).server_config()),
            send("220 fake ESMTP\r\n"),
            expect("EHLO"),
            send("250-fake\r\n250 AUTH PLAIN\r\n"),
            expect("AUTH PLAIN"),
            send(reply),
            Step::ReadUntilEof,
        ]);
        let r = check("smtps://fake.example.test:465", &s, &ca, &[]);
        let (status, codes, exit) = login_verdict(&r);
        assert_eq!(
            (status.as_str(), exit),
            ("failed", 1),
            "{reply}: {}",
            r.stdout
        );
        assert!(codes.contains(&code.to_string()), "{reply}: {codes:?}");
    }
}

#[test]
fn pop3_only_ok_to_pass_is_success() {
    let ca = TestCa::new("pop-login");
    for (reply, status, code) in [
        ("+ what?\r\n", "failed", Some("login-unverified")),
        (
            "-ERR [AUTH] Authentication failed.\r\n",
            "failed",
            Some("login-failed"),
        ),
        ("+OK Logged in.\r\n", "ok", None),
    ] {
        let s = FakeServer::start(vec![
            Step::StartTls(ca.leaf(&[HOST]).server_config()),
            send("+OK ready\r\n"),
            expect("CAPA"),
            send("+OK\r\nUSER\r\n.\r\n"),
            expect("USER victim@example.test"),
            send("+OK\r\n"),
            expect("PASS"),
            send(reply),
            Step::ReadUntilEof,
        ]);
        let r = check("pop3s://fake.example.test:995", &s, &ca, &[]);
        let (st, codes, _) = login_verdict(&r);
        assert_eq!(st, status, "{reply}: {}", r.stdout);
        if let Some(code) = code {
            assert!(codes.contains(&code.to_string()), "{reply}: {codes:?}");
        }
    }
}

#[test]
fn plain_endpoint_gets_no_password_without_consent() {
    let ca = TestCa::new("plain");
    let s = FakeServer::start(vec![
        send("* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] ready\r\n"),
        expect_tagged("CAPABILITY"),
        send("* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\n{tag} OK done\r\n"),
        Step::ReadUntilEof,
    ]);
    let r = check("imap+plain://fake.example.test:143", &s, &ca, &[]);
    let (status, codes, exit) = login_verdict(&r);
    assert_eq!(status, "not-attempted");
    assert!(
        codes.contains(&"plaintext-login-refused".to_string()),
        "{codes:?}"
    );
    assert!(
        codes.contains(&"plaintext-endpoint".to_string()),
        "{codes:?}"
    );
    assert_eq!(exit, 0, "warnings only");
    let wire = String::from_utf8_lossy(&s.transcript()).to_string();
    assert!(
        !wire.contains("AUTHENTICATE") && !wire.contains("LOGIN "),
        "{wire}"
    );
    assert_no_secret("plaintext on the wire", &s.transcript(), USER, CANARY);
}

#[test]
fn logindisabled_stops_even_an_allowed_plaintext_login() {
    let ca = TestCa::new("logindisabled");
    let s = FakeServer::start(vec![
        send("* OK [CAPABILITY IMAP4rev1 LOGINDISABLED AUTH=PLAIN] ready\r\n"),
        expect_tagged("CAPABILITY"),
        send("* CAPABILITY IMAP4rev1 LOGINDISABLED AUTH=PLAIN\r\n{tag} OK done\r\n"),
        Step::ReadUntilEof,
    ]);
    let r = check(
        "imap+plain://fake.example.test:143",
        &s,
        &ca,
        &["--allow-plaintext-login"],
    );
    let (status, codes, exit) = login_verdict(&r);
    assert_eq!(status, "not-attempted");
    assert!(codes.contains(&"login-disabled".to_string()), "{codes:?}");
    assert_eq!(exit, 1);
    assert_no_secret("plaintext on the wire", &s.transcript(), USER, CANARY);
}

#[test]
fn allowed_plaintext_login_really_is_sent_only_with_consent() {
    let ca = TestCa::new("consent");
    let s = FakeServer::start(vec![
        send("* OK ready\r\n"),
        expect_tagged("CAPABILITY"),
        send("* CAPABILITY IMAP4rev1\r\n{tag} OK done\r\n"),
        expect_tagged("LOGIN"),
        send("{tag} OK welcome\r\n"),
        Step::ReadUntilEof,
    ]);
    let r = check(
        "imap+plain://fake.example.test:143",
        &s,
        &ca,
        &["--allow-plaintext-login"],
    );
    assert_eq!(r.endpoints()[0]["login"]["status"], "ok", "{}", r.stdout);
    assert!(
        String::from_utf8_lossy(&s.transcript()).contains(CANARY),
        "consented plaintext login goes on the wire"
    );
}

#[test]
fn no_credentials_without_a_terminal_means_skipped() {
    let ca = TestCa::new("skip");
    let s = FakeServer::start(imaps(&ca, "IMAP4rev1 AUTH=PLAIN", vec![]));
    let r = run_check("imaps://fake.example.test:993", &s, &ca, Cred::Nothing, &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.endpoints()[0]["login"]["status"], "skipped");
    assert!(codes(&r.json()).contains(&"login-skipped".to_string()));
    assert!(r.stderr.contains("login is skipped"), "{}", r.stderr);
}

#[test]
fn password_in_argv_is_refused() {
    for args in [
        &["check", USER, "--password", "hunter2"][..],
        &["check", USER, "--password=hunter2"][..],
    ] {
        let r = mailsetup(args, &[]);
        assert_eq!(r.code, 2);
        assert!(
            r.stderr.contains("--password-command") && r.stderr.contains("--password-env"),
            "{}",
            r.stderr
        );
        assert!(!r.all_output().contains("hunter2"));
    }
}

#[test]
fn literal_password_is_redacted_in_the_trace() {
    let ca = TestCa::new("literal");
    let pw = "Pässwörd-Literal-9";
    let s = FakeServer::start(imaps(
        &ca,
        "IMAP4rev1 LITERAL+",
        vec![
            expect_tagged("LOGIN {"),
            Step::ReadLine,
            Step::ReadLine,
            send("{tag} OK welcome\r\n"),
        ],
    ));
    let r = run_check(
        "imaps://fake.example.test:993",
        &s,
        &ca,
        Cred::Password(pw),
        &["-v", "--timeout", "3"],
    );
    assert_eq!(
        r.endpoints()[0]["login"]["status"],
        "ok",
        "{}\n{}",
        r.stdout,
        r.stderr
    );
    assert_eq!(r.endpoints()[0]["login"]["mechanism"], "LOGIN-COMMAND");
    assert!(
        String::from_utf8_lossy(&s.received_in_tls()).contains(pw),
        "sent as a literal inside TLS"
    );
    assert!(r.stderr.contains("<redacted literal>"), "{}", r.stderr);
    assert_no_secret("-v output", r.all_output().as_bytes(), USER, pw);
}

#[test]
fn oauth2_token_uses_xoauth2_and_a_refusal_is_reported() {
    let ca = TestCa::new("oauth");
    let token = "ya29.Token-Canary-0a1b";
    let ok = FakeServer::start(imaps(
        &ca,
        "IMAP4rev1 SASL-IR AUTH=PLAIN AUTH=XOAUTH2",
        vec![
            expect_tagged("AUTHENTICATE XOAUTH2 "),
            send("{tag} OK Success\r\n"),
        ],
    ));
    // The server's JSON error arrives as a continuation; the client answers with an empty line.
    let refused = FakeServer::start(imaps(
        &ca,
        "IMAP4rev1 SASL-IR AUTH=XOAUTH2",
        vec![
            expect_tagged("AUTHENTICATE XOAUTH2 "),
            send("+ eyJzdGF0dXMiOiI0MDEiLCJzY2hlbWVzIjoiQmVhcmVyIn0=\r\n"),
            expect(""),
            send("{tag} NO [AUTHENTICATIONFAILED] Invalid credentials\r\n"),
        ],
    ));
    for (server, status) in [(&ok, "ok"), (&refused, "failed")] {
        let r = run_check(
            "imaps://fake.example.test:993",
            server,
            &ca,
            Cred::TokenCommand(token),
            &["-v", "--timeout", "3"],
        );
        let login = &r.endpoints()[0]["login"];
        assert_eq!(login["status"], status, "{}\n{}", r.stdout, r.stderr);
        assert_eq!(login["mechanism"], "XOAUTH2");
        assert_eq!(login["auth_method"], "oauth2");
        assert_no_secret("output", r.all_output().as_bytes(), USER, token);
        assert_no_secret("plaintext on the wire", &server.transcript(), USER, token);
    }
}

/// The CRAM-MD5 response `USER HEXDIGEST`, base64, as the client sent it inside TLS.
fn assert_cram_md5_response_in(wire: &[u8]) {
    use base64::Engine as _;
    let text = String::from_utf8_lossy(wire);
    let answered = text.lines().any(|l| {
        base64::engine::general_purpose::STANDARD
            .decode(l.trim())
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .is_some_and(|s| {
                s.strip_prefix(&format!("{USER} "))
                    .is_some_and(|d| d.len() == 32 && d.bytes().all(|b| b.is_ascii_hexdigit()))
            })
    });
    assert!(answered, "no CRAM-MD5 response in:\n{text}");
}

/// LOGINDISABLED forbids the LOGIN command only (RFC 3501 §6.2.3): with AUTH=CRAM-MD5 on
/// offer, `AUTHENTICATE CRAM-MD5` is the way in.
#[test]
fn imap_logindisabled_with_cram_md5_authenticates() {
    let ca = TestCa::new("logindisabled-cram");
    let s = FakeServer::start(imaps(
        &ca,
        "IMAP4rev1 LOGINDISABLED AUTH=CRAM-MD5",
        vec![
            expect_tagged("AUTHENTICATE CRAM-MD5"),
            send("+ PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2UucmVzdG9uLm1jaS5uZXQ+\r\n"),
            expect(""),
            send("{tag} OK Logged in\r\n"),
        ],
    ));
    let r = check("imaps://fake.example.test:993", &s, &ca, &[]);
    let ep = &r.endpoints()[0];
    assert_eq!(ep["login"]["status"], "ok", "{}", r.stdout);
    assert_eq!(ep["login"]["mechanism"], "CRAM-MD5");
    assert_eq!(ep["login"]["auth_method"], "password-encrypted");
    assert_eq!(r.code, 0);
    let wire = s.received_in_tls();
    assert!(!String::from_utf8_lossy(&wire).contains(" LOGIN "));
    assert_cram_md5_response_in(&wire);
    assert_no_secret("on the wire", &s.transcript(), USER, CANARY);
    let rec = &r.json()["recommended"];
    assert!(rec.is_null(), "no outgoing server was checked: {rec}");
}

/// LOGINDISABLED and nothing else usable: refused with `login-disabled`, nothing sent.
#[test]
fn imap_logindisabled_alone_sends_nothing() {
    let ca = TestCa::new("logindisabled-alone");
    let s = FakeServer::start(imaps(&ca, "IMAP4rev1 LOGINDISABLED AUTH=GSSAPI", vec![]));
    let r = check("imaps://fake.example.test:993", &s, &ca, &[]);
    let (status, codes, exit) = login_verdict(&r);
    assert_eq!(status, "not-attempted", "{}", r.stdout);
    assert!(codes.contains(&"login-disabled".to_string()), "{codes:?}");
    assert_eq!(exit, 1);
    let wire = String::from_utf8_lossy(&s.received_in_tls()).to_string();
    assert!(
        !wire.contains("AUTHENTICATE") && !wire.contains("LOGIN "),
        "{wire}"
    );
    assert_no_secret("on the wire", &s.transcript(), USER, CANARY);
}

/// POP3 without USER in CAPA offers no USER/PASS, not "no login": its SASL CRAM-MD5 is used.
#[test]
fn pop3_without_user_authenticates_with_cram_md5() {
    let ca = TestCa::new("pop-cram");
    let s = FakeServer::start(vec![
        Step::StartTls(ca.leaf(&[HOST]).server_config()),
        send("+OK ready\r\n"),
        expect("CAPA"),
        send("+OK\r\nTOP\r\nUIDL\r\nSASL CRAM-MD5\r\n.\r\n"),
        expect("AUTH CRAM-MD5"),
        send("+ PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2UucmVzdG9uLm1jaS5uZXQ+\r\n"),
        expect(""),
        send("+OK Logged in.\r\n"),
        Step::ReadUntilEof,
    ]);
    let r = check("pop3s://fake.example.test:995", &s, &ca, &[]);
    let ep = &r.endpoints()[0];
    assert_eq!(ep["login"]["status"], "ok", "{}", r.stdout);
    assert_eq!(ep["login"]["mechanism"], "CRAM-MD5");
    let wire = s.received_in_tls();
    assert!(!String::from_utf8_lossy(&wire).contains("USER "));
    assert_cram_md5_response_in(&wire);
    assert_no_secret("on the wire", &s.transcript(), USER, CANARY);
}

/// POP3 with neither USER nor a usable SASL mechanism: nothing is sent.
#[test]
fn pop3_without_a_usable_mechanism_sends_nothing() {
    let ca = TestCa::new("pop-none");
    let s = FakeServer::start(vec![
        Step::StartTls(ca.leaf(&[HOST]).server_config()),
        send("+OK ready\r\n"),
        expect("CAPA"),
        send("+OK\r\nTOP\r\nSASL GSSAPI\r\n.\r\n"),
        Step::ReadUntilEof,
    ]);
    let r = check("pop3s://fake.example.test:995", &s, &ca, &[]);
    let (status, codes, exit) = login_verdict(&r);
    assert_eq!(status, "not-attempted", "{}", r.stdout);
    assert!(
        codes.contains(&"login-mechanism-unsupported".to_string()),
        "{codes:?}"
    );
    assert_eq!(exit, 1);
    let wire = String::from_utf8_lossy(&s.received_in_tls()).to_string();
    assert!(!wire.contains("USER ") && !wire.contains("AUTH "), "{wire}");
}

/// SMTP offering only CRAM-MD5: `AUTH CRAM-MD5`, and 235 is success.
#[test]
fn smtp_with_only_cram_md5_authenticates() {
    let ca = TestCa::new("smtp-cram");
    let s = FakeServer::start(vec![
        Step::StartTls(ca.leaf(&[HOST]).server_config()),
        send("220 fake ESMTP\r\n"),
        expect("EHLO"),
        send("250-fake\r\n250 AUTH CRAM-MD5\r\n"),
        expect("AUTH CRAM-MD5"),
        send("334 PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2UucmVzdG9uLm1jaS5uZXQ+\r\n"),
        expect(""),
        send("235 2.7.0 Authentication successful\r\n"),
        Step::ReadUntilEof,
    ]);
    let r = check("smtps://fake.example.test:465", &s, &ca, &[]);
    let ep = &r.endpoints()[0];
    assert_eq!(ep["login"]["status"], "ok", "{}", r.stdout);
    assert_eq!(ep["login"]["mechanism"], "CRAM-MD5");
    assert_cram_md5_response_in(&s.received_in_tls());
    assert_no_secret("on the wire", &s.transcript(), USER, CANARY);
}
