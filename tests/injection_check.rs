//! `probe --check-injection`: STARTTLS command injection (CVE-2011-0411 class) on the server side.
//! Scripted vulnerable servers answer the pipelined command inside TLS; the real Dovecot and
//! Postfix do not.

mod support;

use std::time::Duration;

use support::certs::TestCa;
use support::fake::{expect, expect_tagged, send, FakeServer, Step};
use support::run::{codes, mailsetup, Run};
use support::stack::MailStack;

const HOST: &str = "fake.example.test";

fn probe(url: &str, s: &FakeServer, ca: &TestCa) -> Run {
    let port = url.rsplit(':').next().unwrap();
    let connect_to = format!("{HOST}:{port}:127.0.0.1:{}", s.port);
    let ca_file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(ca_file.path(), ca.ca_pem()).unwrap();
    let r = mailsetup(
        &[
            "probe",
            "--check-injection",
            "--server",
            url,
            "--connect-to",
            &connect_to,
            "--ca-file",
            ca_file.path().to_str().unwrap(),
            "--json",
            "--timeout",
            "8",
        ],
        &[],
    );
    s.wait_done(s.connections(), Duration::from_secs(5));
    r
}

/// A server that keeps the pipelined line and executes it after the handshake.
fn vulnerable(
    ca: &TestCa,
    pre: Vec<Step>,
    read_starttls: Step,
    ok: &str,
    pipelined_answer: &str,
) -> Vec<Step> {
    let mut v = pre;
    v.extend([
        read_starttls,
        Step::ReadLine, // the pipelined command, read in plaintext and kept
        send(ok),
        Step::StartTls(ca.leaf(&[HOST]).server_config()),
        send(pipelined_answer), // ... and answered inside TLS: the vulnerability
        Step::ReadUntilEof,
    ]);
    v
}

#[test]
fn vulnerable_imap_server_is_reported() {
    let ca = TestCa::new("inj-imap");
    let pre = vec![
        send("* OK ready\r\n"),
        expect_tagged("CAPABILITY"),
        send("* CAPABILITY IMAP4rev1 STARTTLS\r\n{tag} OK done\r\n"),
    ];
    let s = FakeServer::start(vulnerable(
        &ca,
        pre,
        expect_tagged("STARTTLS"),
        "{tag} OK begin TLS\r\n",
        "A3 OK NOOP completed\r\n",
    ));
    let r = probe("imap://fake.example.test:143", &s, &ca);
    assert_eq!(r.code, 1, "{}", r.stdout);
    assert!(
        codes(&r.endpoints()[0]).contains(&"server-starttls-command-injection".to_string()),
        "{}",
        r.stdout
    );
    // The check pipelined exactly one harmless command, in the same segment as STARTTLS.
    let wire = String::from_utf8_lossy(&s.transcript()).to_string();
    assert!(wire.contains("A2 STARTTLS\r\nA3 NOOP\r\n"), "{wire:?}");
}

#[test]
fn vulnerable_pop3_and_smtp_servers_are_reported() {
    let ca = TestCa::new("inj-other");
    let pop = vulnerable(
        &ca,
        vec![
            send("+OK ready\r\n"),
            expect("CAPA"),
            send("+OK\r\nSTLS\r\n.\r\n"),
        ],
        expect("STLS"),
        "+OK begin\r\n",
        "+OK noop\r\n",
    );
    let s = FakeServer::start(pop);
    let r = probe("pop3://fake.example.test:110", &s, &ca);
    assert!(
        codes(&r.endpoints()[0]).contains(&"server-starttls-command-injection".to_string()),
        "{}",
        r.stdout
    );
    assert_eq!(r.code, 1);
    let smtp = vulnerable(
        &ca,
        vec![
            send("220 fake\r\n"),
            expect("EHLO"),
            send("250-fake\r\n250 STARTTLS\r\n"),
        ],
        expect("STARTTLS"),
        "220 go ahead\r\n",
        "250 2.0.0 Ok\r\n",
    );
    let s = FakeServer::start(smtp);
    let r = probe("smtp://fake.example.test:587", &s, &ca);
    assert!(
        codes(&r.endpoints()[0]).contains(&"server-starttls-command-injection".to_string()),
        "{}",
        r.stdout
    );
    assert_eq!(r.code, 1);
}

#[test]
fn server_that_discards_the_pipelined_command_is_not_vulnerable() {
    let ca = TestCa::new("inj-safe");
    let s = FakeServer::start(vec![
        send("220 fake\r\n"),
        expect("EHLO"),
        send("250-fake\r\n250 STARTTLS\r\n"),
        expect("STARTTLS"),
        Step::ReadLine, // the pipelined RSET is read and discarded
        send("220 go ahead\r\n"),
        Step::StartTls(ca.leaf(&[HOST]).server_config()),
        expect("EHLO"),
        send("250-fake\r\n250 AUTH PLAIN\r\n"),
        Step::ReadUntilEof,
    ]);
    let r = probe("smtp://fake.example.test:587", &s, &ca);
    assert_eq!(r.code, 0, "{}", r.stdout);
    let ep = &r.endpoints()[0];
    assert_eq!(codes(ep), ["starttls-injection-not-vulnerable"]);
    assert_eq!(ep["auth_mechanisms"], serde_json::json!(["PLAIN"]));
}

#[test]
fn real_dovecot_and_postfix_are_not_vulnerable() {
    let Some(s) = MailStack::start("real_dovecot_and_postfix_are_not_vulnerable") else {
        return;
    };
    let ca = s.ca_file().to_str().unwrap().to_string();
    let mut args: Vec<String> = vec![
        "probe".into(),
        "--check-injection".into(),
        "--json".into(),
        "--ca-file".into(),
        ca,
    ];
    for u in ["imap", "pop3", "smtp"] {
        args.extend(["--server".into(), format!("{u}://mail.example.test")]);
    }
    args.extend(s.connect_to_args("mail.example.test"));
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let r = mailsetup(&refs, &[]);
    assert_eq!(r.code, 0, "{}", r.stdout);
    for e in r.endpoints() {
        assert_eq!(codes(&e), ["starttls-injection-not-vulnerable"], "{e}");
        assert_eq!(e["status"], "ok");
        assert!(
            !e["capabilities"].as_array().unwrap().is_empty(),
            "the endpoint is still fully probed: {e}"
        );
    }
}
