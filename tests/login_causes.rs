//! The cause, not only "login failed": scripted servers refuse a login with each listed
//! machine-readable reason (IMAP RFC 5530 codes and [ALERT], POP3 RFC 2449/3206 codes, SMTP
//! RFC 3463/4954 enhanced status codes) and each gets its own problem code, its own advice and
//! the server's code next to ours; the real Dovecot's wrong-password reply stays `login-failed`.

mod support;

use std::collections::HashSet;
use std::time::Duration;

use serde_json::Value;
use support::certs::TestCa;
use support::fake::{expect, expect_tagged, send, FakeServer, Step};
use support::run::{assert_no_secret, mailsetup, path_str, Run};
use support::stack::MailStack;

const HOST: &str = "fake.example.test";
const USER: &str = "victim@example.test";
const PASSWORD: &str = "Cause-Canary-77f1";

fn check(url: &str, s: &FakeServer, ca: &TestCa, format: &[&str]) -> Run {
    let dir = tempfile::tempdir().unwrap();
    let ca_file = ca.write_ca_pem(dir.path());
    let port = url.rsplit(':').next().unwrap();
    let mut args = vec![
        "check".to_string(),
        USER.into(),
        "--server".into(),
        url.into(),
        "--connect-to".into(),
        format!("{HOST}:{port}:127.0.0.1:{}", s.port),
        "--ca-file".into(),
        path_str(&ca_file),
        "--password-env".into(),
        "PW".into(),
        "--timeout".into(),
        "5".into(),
    ];
    args.extend(format.iter().map(|s| s.to_string()));
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let r = mailsetup(&refs, &[("PW", PASSWORD)]);
    s.wait_done(s.connections(), Duration::from_secs(5));
    assert_no_secret("output", r.all_output().as_bytes(), USER, PASSWORD);
    r
}

fn imaps(ca: &TestCa, refusal: &str) -> FakeServer {
    FakeServer::start(vec![
        Step::StartTls(ca.leaf(&[HOST]).server_config()),
        send("* OK ready\r\n"),
        expect_tagged("CAPABILITY"),
        send("* CAPABILITY IMAP4rev1 AUTH=PLAIN SASL-IR\r\n{tag} OK done\r\n"),
        expect_tagged("AUTHENTICATE PLAIN"),
        send(format!("{{tag}} {refusal}\r\n")),
        Step::ReadUntilEof,
    ])
}

fn pop3s(ca: &TestCa, refusal: &str) -> FakeServer {
    FakeServer::start(vec![
        Step::StartTls(ca.leaf(&[HOST]).server_config()),
        send("+OK ready\r\n"),
        expect("CAPA"),
        send("+OK\r\nUSER\r\n.\r\n"),
        expect("USER victim@example.test"),
        send("+OK\r\n"),
        expect("PASS"),
        send(format!("{refusal}\r\n")),
        Step::ReadUntilEof,
    ])
}

fn smtps(ca: &TestCa, refusal: &str) -> FakeServer {
    FakeServer::start(vec![
        Step::StartTls(ca.leaf(&[HOST]).server_config()),
        send("220 fake ESMTP\r\n"),
        expect("EHLO"),
        send("250-fake\r\n250 AUTH PLAIN\r\n"),
        expect("AUTH PLAIN"),
        send(refusal),
        Step::ReadUntilEof,
    ])
}

/// The login problem of the only endpoint: (code, server_code, hint, message).
fn cause(r: &Run) -> (String, Option<String>, String, String) {
    let ep = &r.endpoints()[0];
    assert_eq!(ep["login"]["status"], "failed", "{}", r.stdout);
    let p: &Value = ep["problems"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["code"].as_str().unwrap().starts_with("login-"))
        .unwrap_or_else(|| panic!("no login problem: {}", r.stdout));
    (
        p["code"].as_str().unwrap().into(),
        p["server_code"].as_str().map(String::from),
        p["hint"].as_str().unwrap().into(),
        p["message"].as_str().unwrap().into(),
    )
}

#[test]
fn each_listed_reason_gets_its_own_code_and_advice() {
    let ca = TestCa::new("causes");
    let cases: Vec<(&str, FakeServer, &str, &str)> = vec![
        (
            "imaps://fake.example.test:993",
            imaps(&ca, "NO [UNAVAILABLE] Temporary authentication failure"),
            "login-server-unavailable",
            "UNAVAILABLE",
        ),
        (
            "imaps://fake.example.test:993",
            imaps(
                &ca,
                "NO [ALERT] Application-specific password required: https://support.google.com/accounts/answer/185833 (Failure)",
            ),
            "login-app-password-required",
            "ALERT",
        ),
        (
            "pop3s://fake.example.test:995",
            pop3s(&ca, "-ERR [IN-USE] Mailbox is locked by another POP3 session"),
            "login-mailbox-in-use",
            "IN-USE",
        ),
        (
            "smtps://fake.example.test:465",
            smtps(&ca, "454 4.7.0 Temporary authentication failure\r\n"),
            "login-temporary-failure",
            "454 4.7.0",
        ),
        (
            "smtps://fake.example.test:465",
            smtps(&ca, "535 5.7.8 Error: authentication failed: authentication failure\r\n"),
            "login-failed",
            "535 5.7.8",
        ),
    ];
    let mut hints = HashSet::new();
    for (url, server, want_code, want_server_code) in &cases {
        let r = check(url, server, &ca, &["--json"]);
        assert_eq!(r.code, 1, "{}", r.stdout);
        let (code, server_code, hint, message) = cause(&r);
        assert_eq!(&code, want_code, "{url}: {}", r.stdout);
        assert_eq!(server_code.as_deref(), Some(*want_server_code), "{url}");
        assert!(!hint.is_empty());
        hints.insert(hint);
        if *want_server_code == "ALERT" {
            // The alert is shown verbatim.
            assert!(
                message.ends_with("the server says: Application-specific password required: https://support.google.com/accounts/answer/185833 (Failure)"),
                "{message}"
            );
        }
        // Exactly one login problem: the precise cause replaces login-failed.
        let login_problems = r.endpoints()[0]["problems"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|p| p["code"].as_str().unwrap().starts_with("login-"))
            .count();
        assert_eq!(login_problems, 1, "{}", r.stdout);
    }
    assert_eq!(hints.len(), cases.len(), "each reason has its own advice");
}

#[test]
fn the_cause_is_shown_to_humans_and_monitoring() {
    let ca = TestCa::new("causes-human");
    let s = pop3s(
        &ca,
        "-ERR [IN-USE] Mailbox is locked by another POP3 session",
    );
    let human = check("pop3s://fake.example.test:995", &s, &ca, &["--timings"]);
    assert!(
        human.stdout.contains(
            "login-mailbox-in-use (server: IN-USE): the mailbox is in use by another session"
        ),
        "{}",
        human.stdout
    );
    assert!(
        human.stdout.contains("Close other mail programs"),
        "{}",
        human.stdout
    );
    let nagios = check(
        "pop3s://fake.example.test:995",
        &s,
        &ca,
        &["--format", "nagios"],
    );
    assert_eq!(nagios.code, 2, "{}", nagios.stdout);
    assert!(
        nagios
            .stdout
            .starts_with("MAILSETUP CRITICAL - victim@example.test: login-mailbox-in-use: pop3s://fake.example.test:995:"),
        "{}",
        nagios.stdout
    );
    assert!(nagios
        .stdout
        .lines()
        .next()
        .unwrap()
        .contains("(server: IN-USE) | "));
}

#[test]
fn real_dovecot_and_postfix_wrong_password_stays_login_failed() {
    let Some(stack) =
        MailStack::start("real_dovecot_and_postfix_wrong_password_stays_login_failed")
    else {
        return;
    };
    let host = "mail.example.test";
    let mut args: Vec<String> = vec![
        "check".into(),
        stack.get("USER").into(),
        "--password-env".into(),
        "PW".into(),
        "--json".into(),
        "--ca-file".into(),
        path_str(&stack.ca_file()),
    ];
    for s in ["imaps", "pop3s", "smtps"] {
        args.extend(["--server".into(), format!("{s}://{host}")]);
    }
    args.extend(stack.connect_to_args(host));
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let r = mailsetup(&refs, &[("PW", "definitely-wrong")]);
    assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
    let mut server_codes = Vec::new();
    for ep in r.endpoints() {
        let (code, server_code, _, _) = cause(&Run {
            code: r.code,
            stdout: serde_json::json!({ "endpoints": [ep.clone()] }).to_string(),
            stderr: String::new(),
            elapsed: r.elapsed,
        });
        assert_eq!(code, "login-failed", "{}: {ep}", ep["url"]);
        server_codes.push((ep["url"].as_str().unwrap().to_string(), server_code));
    }
    // What Dovecot and Postfix said in machine-readable form, next to our code.
    assert_eq!(
        server_codes,
        vec![
            (
                "imaps://mail.example.test:993".into(),
                Some("AUTHENTICATIONFAILED".into())
            ),
            ("pop3s://mail.example.test:995".into(), Some("AUTH".into())),
            (
                "smtps://mail.example.test:465".into(),
                Some("535 5.7.8".into())
            ),
        ],
        "{}",
        r.stdout
    );
}
