//! Hostile servers against `probe` and `check`: STARTTLS stripping, response injection,
//! PREAUTH, pre-TLS state, certificate failures, TLS versions, resource limits, terminal
//! injection. Every case asserts the problem code, the exit code, and (for `check`) that
//! the canary password never reached the server in plaintext or our output.

mod support;

use std::time::Duration;

use support::certs::{self_signed_leaf, Leaf, TestCa};
use support::fake::{expect, expect_tagged, send, FakeServer, SilentServer, Step};
use support::run::{assert_no_secret, codes, mailsetup, Run};

const HOST: &str = "fake.example.test";
const USER: &str = "victim@example.test";
const CANARY: &str = "Canary-Pw-7f3e9a";

struct Tls {
    ca_file: tempfile::NamedTempFile,
    leaf: Leaf,
}

fn tls() -> Tls {
    let ca = TestCa::new("hostile");
    let ca_file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(ca_file.path(), ca.ca_pem()).unwrap();
    Tls {
        leaf: ca.leaf(&[HOST]),
        ca_file,
    }
}

fn starttls(t: &Tls) -> Step {
    Step::StartTls(t.leaf.server_config())
}

/// `probe`/`check` of one URL against a fake server.
fn run(cmd: &str, url: &str, server: &FakeServer, t: &Tls, extra: &[&str]) -> Run {
    let port = url.rsplit(':').next().unwrap();
    let connect_to = format!("{HOST}:{port}:127.0.0.1:{}", server.port);
    let mut args = vec![cmd];
    if cmd == "check" {
        args.extend([USER, "--password-env", "CANARY"]);
    }
    args.extend(["--server", url, "--connect-to", &connect_to, "--ca-file"]);
    let ca = t.ca_file.path().to_str().unwrap().to_string();
    args.push(&ca);
    args.push("--json");
    if !extra.contains(&"--timeout") {
        args.extend(["--timeout", "5"]);
    }
    args.extend(extra);
    let r = mailsetup(&args, &[("CANARY", CANARY)]);
    server.wait_done(server.connections(), Duration::from_secs(5));
    r
}

/// One endpoint's problem codes, with the exit code, and the leak checks.
fn verdict(r: &Run, server: &FakeServer) -> (Vec<String>, i32) {
    assert_no_secret(
        "plaintext received by the server",
        &server.transcript(),
        USER,
        CANARY,
    );
    assert_no_secret("stdout/stderr", r.all_output().as_bytes(), USER, CANARY);
    let eps = r.endpoints();
    assert_eq!(eps.len(), 1, "{}", r.stdout);
    (codes(&eps[0]), r.code)
}

fn assert_code(r: &Run, server: &FakeServer, code: &str) {
    let (codes, exit) = verdict(r, server);
    assert!(
        codes.iter().any(|c| c == code),
        "expected {code}, got {codes:?}\n{}",
        r.stdout
    );
    assert_eq!(exit, 1, "{}", r.stdout);
}

fn imap_pre(caps: &str) -> Vec<Step> {
    vec![
        send(format!("* OK [CAPABILITY {caps}] ready\r\n")),
        expect_tagged("CAPABILITY"),
        send(format!("* CAPABILITY {caps}\r\n{{tag}} OK done\r\n")),
    ]
}

fn then(mut a: Vec<Step>, b: Vec<Step>) -> Vec<Step> {
    a.extend(b);
    a
}

// ---- IMAP -------------------------------------------------------------------------------

#[test]
fn imap_starttls_not_offered_is_an_error_and_no_password_is_sent() {
    let t = tls();
    let s = FakeServer::start(then(
        imap_pre("IMAP4rev1 AUTH=PLAIN"),
        vec![Step::ReadUntilEof],
    ));
    for cmd in ["probe", "check"] {
        let r = run(cmd, "imap://fake.example.test:143", &s, &t, &[]);
        assert_code(&r, &s, "starttls-not-offered");
    }
    assert!(!String::from_utf8_lossy(&s.transcript()).contains("LOGIN"));
}

#[test]
fn imap_starttls_no_and_bad_are_rejections() {
    let t = tls();
    for reply in ["{tag} NO not now\r\n", "{tag} BAD what\r\n"] {
        let s = FakeServer::start(then(
            imap_pre("IMAP4rev1 STARTTLS AUTH=PLAIN"),
            vec![expect_tagged("STARTTLS"), send(reply), Step::ReadUntilEof],
        ));
        let r = run("check", "imap://fake.example.test:143", &s, &t, &[]);
        assert_code(&r, &s, "starttls-rejected");
    }
}

#[test]
fn imap_starttls_reply_with_another_tag_is_not_accepted() {
    let t = tls();
    let s = FakeServer::start(then(
        imap_pre("IMAP4rev1 STARTTLS"),
        vec![
            expect_tagged("STARTTLS"),
            send("X99 OK begin TLS\r\n"),
            Step::ReadUntilEof,
        ],
    ));
    let r = run("check", "imap://fake.example.test:143", &s, &t, &[]);
    assert_code(&r, &s, "protocol-error");
}

#[test]
fn imap_injection_in_the_same_segment_aborts() {
    let t = tls();
    let s = FakeServer::start(then(
        imap_pre("IMAP4rev1 STARTTLS"),
        vec![
            expect_tagged("STARTTLS"),
            send("{tag} OK begin TLS\r\n* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\n"),
            Step::ReadUntilEof,
        ],
    ));
    let r = run("check", "imap://fake.example.test:143", &s, &t, &[]);
    assert_code(&r, &s, "starttls-injection");
}

#[test]
fn imap_injection_in_a_later_segment_aborts() {
    let t = tls();
    let s = FakeServer::start(then(
        imap_pre("IMAP4rev1 STARTTLS"),
        vec![
            expect_tagged("STARTTLS"),
            Step::SendSplit(
                vec![
                    b"{tag} OK begin TLS\r\n".to_vec(),
                    b"* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] injected\r\n".to_vec(),
                ],
                Duration::from_millis(30),
            ),
            Step::ReadUntilEof,
        ],
    ));
    let r = run("check", "imap://fake.example.test:143", &s, &t, &[]);
    assert_code(&r, &s, "starttls-injection");
}

#[test]
fn imap_partial_line_injection_aborts() {
    let t = tls();
    let s = FakeServer::start(then(
        imap_pre("IMAP4rev1 STARTTLS"),
        vec![
            expect_tagged("STARTTLS"),
            send("{tag} OK begin TLS\r\n* OK partial"),
            Step::ReadUntilEof,
        ],
    ));
    let r = run("check", "imap://fake.example.test:143", &s, &t, &[]);
    assert_code(&r, &s, "starttls-injection");
}

#[test]
fn imap_preauth_on_a_starttls_endpoint_aborts() {
    let t = tls();
    let s = FakeServer::start(vec![
        send("* PREAUTH [CAPABILITY IMAP4rev1 STARTTLS] welcome back\r\n"),
        Step::ReadUntilEof,
    ]);
    let r = run("check", "imap://fake.example.test:143", &s, &t, &[]);
    assert_code(&r, &s, "preauth-before-tls");
}

#[test]
fn imap_capabilities_from_before_tls_are_discarded() {
    let t = tls();
    let s = FakeServer::start(then(
        imap_pre("IMAP4rev1 STARTTLS AUTH=PLAIN AUTH=EVIL-PRE-TLS"),
        vec![
            expect_tagged("STARTTLS"),
            send("{tag} OK begin\r\n"),
            starttls(&t),
            expect_tagged("CAPABILITY"),
            send("* CAPABILITY IMAP4rev1 AUTH=SCRAM-SHA-256\r\n{tag} OK done\r\n"),
            Step::ReadUntilEof,
        ],
    ));
    let r = run("probe", "imap://fake.example.test:143", &s, &t, &[]);
    assert_eq!(r.code, 0, "{}", r.stdout);
    let ep = &r.endpoints()[0];
    assert_eq!(ep["auth_mechanisms"], serde_json::json!(["SCRAM-SHA-256"]));
    assert_eq!(
        ep["capabilities"],
        serde_json::json!(["IMAP4REV1", "AUTH=SCRAM-SHA-256"])
    );
    assert!(ep["capabilities_before_tls"]
        .to_string()
        .contains("EVIL-PRE-TLS"));
    assert_eq!(ep["tls"]["certificate"]["trusted"], true);
}

/// Server data is parsed from its bytes, never from text cut for display: a 4 KiB
/// CAPABILITY line (Cyrus, a Dovecot with many plugins) with STARTTLS last before TLS and
/// AUTH=PLAIN last after it → STARTTLS done, login ok.
#[test]
fn imap_long_capability_lines_keep_their_last_atoms() {
    let t = tls();
    let filler: String = (0..330).map(|i| format!("X-EXTENSION-{i:04} ")).collect();
    assert!(filler.len() > 4000);
    let before = format!("IMAP4rev1 {filler}STARTTLS");
    let after = format!("IMAP4rev1 {filler}AUTH=PLAIN");
    let s = FakeServer::start(then(
        vec![
            send("* OK ready\r\n"),
            expect_tagged("CAPABILITY"),
            send(format!("* CAPABILITY {before}\r\n{{tag}} OK done\r\n")),
        ],
        vec![
            expect_tagged("STARTTLS"),
            send("{tag} OK begin\r\n"),
            starttls(&t),
            expect_tagged("CAPABILITY"),
            send(format!("* CAPABILITY {after}\r\n{{tag}} OK done\r\n")),
            expect_tagged("AUTHENTICATE PLAIN"),
            send("{tag} OK logged in\r\n"),
            Step::ReadUntilEof,
        ],
    ));
    let r = run("check", "imap://fake.example.test:143", &s, &t, &[]);
    let (codes, exit) = verdict(&r, &s);
    assert_eq!(exit, 0, "{codes:?}\n{}", r.stdout);
    let ep = &r.endpoints()[0];
    assert_eq!(ep["login"]["status"], "ok", "{}", ep["login"]);
    assert_eq!(ep["login"]["mechanism"], "PLAIN");
    assert_eq!(ep["auth_mechanisms"], serde_json::json!(["PLAIN"]));
    assert_eq!(ep["capabilities"].as_array().unwrap().len(), 332);
}

// ---- POP3 -------------------------------------------------------------------------------

fn pop3_pre(capa: &str) -> Vec<Step> {
    vec![
        send("+OK ready\r\n"),
        expect("CAPA"),
        send(format!("+OK\r\n{capa}.\r\n")),
    ]
}

#[test]
fn pop3_stls_not_offered_and_rejected() {
    let t = tls();
    let s = FakeServer::start(then(
        pop3_pre("USER\r\nSASL PLAIN\r\n"),
        vec![Step::ReadUntilEof],
    ));
    let r = run("check", "pop3://fake.example.test:110", &s, &t, &[]);
    assert_code(&r, &s, "starttls-not-offered");
    let s = FakeServer::start(then(
        pop3_pre("USER\r\nSTLS\r\n"),
        vec![
            expect("STLS"),
            send("-ERR not today\r\n"),
            Step::ReadUntilEof,
        ],
    ));
    let r = run("check", "pop3://fake.example.test:110", &s, &t, &[]);
    assert_code(&r, &s, "starttls-rejected");
}

#[test]
fn pop3_stls_injection_aborts() {
    let t = tls();
    let s = FakeServer::start(then(
        pop3_pre("USER\r\nSTLS\r\n"),
        vec![
            expect("STLS"),
            send("+OK begin\r\n+OK injected\r\n"),
            Step::ReadUntilEof,
        ],
    ));
    let r = run("check", "pop3://fake.example.test:110", &s, &t, &[]);
    assert_code(&r, &s, "starttls-injection");
}

// ---- SMTP -------------------------------------------------------------------------------

fn smtp_pre(ext: &str) -> Vec<Step> {
    vec![
        send("220 fake ESMTP\r\n"),
        expect("EHLO"),
        send(format!("250-fake\r\n{ext}250 8BITMIME\r\n")),
    ]
}

#[test]
fn smtp_starttls_not_offered_rejected_and_odd_replies() {
    let t = tls();
    let s = FakeServer::start(then(
        smtp_pre("250-AUTH PLAIN LOGIN\r\n"),
        vec![Step::ReadUntilEof],
    ));
    let r = run("check", "smtp://fake.example.test:587", &s, &t, &[]);
    assert_code(&r, &s, "starttls-not-offered");
    for reply in [
        "454 4.7.0 TLS not available\r\n",
        "502 no\r\n",
        "354 go ahead\r\n",
        "250 ok\r\n",
    ] {
        let s = FakeServer::start(then(
            smtp_pre("250-STARTTLS\r\n250-AUTH PLAIN\r\n"),
            vec![expect("STARTTLS"), send(reply), Step::ReadUntilEof],
        ));
        let r = run("check", "smtp://fake.example.test:587", &s, &t, &[]);
        assert_code(&r, &s, "starttls-rejected");
    }
}

#[test]
fn smtp_starttls_injection_aborts() {
    let t = tls();
    let s = FakeServer::start(then(
        smtp_pre("250-STARTTLS\r\n"),
        vec![
            expect("STARTTLS"),
            send("220 go\r\n250-fake\r\n250 AUTH PLAIN\r\n"),
            Step::ReadUntilEof,
        ],
    ));
    let r = run("check", "smtp://fake.example.test:587", &s, &t, &[]);
    assert_code(&r, &s, "starttls-injection");
}

// ---- TLS and certificates -----------------------------------------------------------------

#[test]
fn self_signed_certificate_is_refused_and_no_password_sent() {
    let t = tls();
    let leaf = self_signed_leaf(&[HOST]);
    let s = FakeServer::start(vec![
        Step::StartTls(leaf.server_config()),
        send("* OK ready\r\n"),
        Step::ReadUntilEof,
    ]);
    let r = run("check", "imaps://fake.example.test:993", &s, &t, &[]);
    // Issue 12: a self-signed certificate has its own code (was tls-cert-untrusted).
    assert_code(&r, &s, "tls-cert-self-signed");
    let ep = &r.endpoints()[0];
    assert_eq!(ep["tls"]["certificate"]["sha256"], leaf.sha256_hex());
    assert_eq!(ep["login"]["status"], "not-attempted");
    assert!(
        s.received_in_tls().is_empty(),
        "nothing may be sent over a refused certificate"
    );
}

#[test]
fn pinned_certificate_is_accepted_and_reported() {
    let t = tls();
    let leaf = self_signed_leaf(&[HOST]);
    let s = FakeServer::start(vec![
        Step::StartTls(leaf.server_config()),
        send("* OK ready\r\n"),
        expect_tagged("CAPABILITY"),
        send("* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\n{tag} OK done\r\n"),
        Step::ReadUntilEof,
    ]);
    let pin = leaf.sha256_hex();
    let r = run(
        "probe",
        "imaps://fake.example.test:993",
        &s,
        &t,
        &["--pin-sha256", &pin],
    );
    let (codes, exit) = verdict(&r, &s);
    assert_eq!(exit, 0, "{}", r.stdout);
    assert!(codes.contains(&"tls-pin-matched".to_string()), "{codes:?}");
}

#[test]
fn wrong_name_and_expired_certificates() {
    let ca = TestCa::new("hostile2");
    let ca_file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(ca_file.path(), ca.ca_pem()).unwrap();
    let cases = [
        (
            ca.leaf(&["other.example.test"]),
            "tls-cert-hostname-mismatch",
        ),
        (ca.leaf_valid_days(&[HOST], -400, -35), "tls-cert-expired"),
        (
            ca.leaf_valid_days(&[HOST], 30, 400),
            "tls-cert-not-yet-valid",
        ),
    ];
    for (leaf, code) in cases {
        let t = Tls {
            ca_file: tempfile::NamedTempFile::new().unwrap(),
            leaf,
        };
        std::fs::write(t.ca_file.path(), ca.ca_pem()).unwrap();
        let s = FakeServer::start(vec![
            starttls(&t),
            send("* OK ready\r\n"),
            Step::ReadUntilEof,
        ]);
        let r = run("check", "imaps://fake.example.test:993", &s, &t, &[]);
        assert_code(&r, &s, code);
        assert!(s.received_in_tls().is_empty());
    }
}

#[test]
fn insecure_accepts_but_reports_on_every_endpoint() {
    let t = tls();
    let leaf = self_signed_leaf(&[HOST]);
    let s = FakeServer::start(vec![
        Step::StartTls(leaf.server_config()),
        send("* OK ready\r\n"),
        expect_tagged("CAPABILITY"),
        send("* CAPABILITY IMAP4rev1\r\n{tag} OK done\r\n"),
        Step::ReadUntilEof,
    ]);
    let r = run(
        "probe",
        "imaps://fake.example.test:993",
        &s,
        &t,
        &["--insecure"],
    );
    let (codes, exit) = verdict(&r, &s);
    assert_eq!(exit, 0);
    assert!(
        codes.contains(&"tls-insecure-accepted".to_string()),
        "{codes:?}"
    );
    assert_eq!(r.json()["insecure"], true);
}

#[test]
fn tls_below_1_2_is_refused() {
    let t = tls();
    // What a TLS 1.0/1.1-only server answers to a 1.2+ ClientHello: a protocol_version alert.
    let s = FakeServer::start(vec![
        Step::Silence(Duration::from_millis(300)),
        send([0x15, 0x03, 0x01, 0x00, 0x02, 0x02, 0x46]),
    ]);
    let r = run("check", "imaps://fake.example.test:993", &s, &t, &[]);
    assert_code(&r, &s, "tls-version-too-old");
}

#[test]
fn plaintext_on_a_tls_port_is_named() {
    let t = tls();
    let s = FakeServer::start(vec![send("* OK plain IMAP here\r\n"), Step::ReadUntilEof]);
    let r = run("check", "imaps://fake.example.test:993", &s, &t, &[]);
    assert_code(&r, &s, "tls-plaintext-on-tls-port");
}

// ---- limits, time, terminal ---------------------------------------------------------------

#[test]
fn endless_line_is_cut_off() {
    let t = tls();
    let s = FakeServer::start(vec![Step::SendForever {
        line: b"* OK xxxxxxxxxxxxxxxxxxxxxxxxxxxxxx".to_vec(),
        max_bytes: 10_000_000,
    }]);
    let r = run("check", "imap+plain://fake.example.test:143", &s, &t, &[]);
    assert_code(&r, &s, "line-too-long");
}

#[test]
fn endless_ehlo_continuation_is_cut_off() {
    let t = tls();
    let s = FakeServer::start(vec![
        send("220 fake\r\n"),
        expect("EHLO"),
        Step::SendForever {
            line: b"250-X\r\n".to_vec(),
            max_bytes: 5_000_000,
        },
    ]);
    let r = run("check", "smtp+plain://fake.example.test:25", &s, &t, &[]);
    assert_code(&r, &s, "reply-too-large");
}

#[test]
fn giant_literal_is_refused() {
    let t = tls();
    let s = FakeServer::start(vec![send("* OK {9999999999}\r\n"), Step::ReadUntilEof]);
    let r = run("check", "imap+plain://fake.example.test:143", &s, &t, &[]);
    assert_code(&r, &s, "reply-too-large");
}

#[test]
fn silent_server_costs_one_greeting_timeout() {
    let silent = SilentServer::start();
    let connect_to = format!("{HOST}:143:127.0.0.1:{}", silent.port);
    let r = mailsetup(
        &[
            "probe",
            "--server",
            "imap://fake.example.test:143",
            "--connect-to",
            &connect_to,
            "--json",
            "--timeout",
            "2",
        ],
        &[],
    );
    assert_eq!(r.code, 1);
    assert!(
        codes(&r.endpoints()[0]).contains(&"greeting-timeout".to_string()),
        "{}",
        r.stdout
    );
    assert!(
        r.elapsed < Duration::from_millis(3500),
        "took {:?}",
        r.elapsed
    );
}

#[test]
fn drip_feed_is_bounded_by_the_deadline() {
    let t = tls();
    let s = FakeServer::start(vec![Step::Drip(
        b"* OK a very slow greeting indeed\r\n".to_vec(),
        Duration::from_millis(500),
    )]);
    let r = run(
        "check",
        "imap+plain://fake.example.test:143",
        &s,
        &t,
        &["--timeout", "2"],
    );
    let (codes, exit) = verdict(&r, &s);
    assert_eq!(exit, 1);
    assert!(codes.contains(&"greeting-timeout".to_string()), "{codes:?}");
    assert!(
        r.elapsed < Duration::from_millis(3500),
        "took {:?}",
        r.elapsed
    );
}

#[test]
fn server_text_is_escaped_for_the_terminal() {
    // Control sequences in the greeting (shown in the -v trace) and in a STARTTLS refusal
    // (quoted in the problem message on stdout).
    let evil = "\x1b]0;pwned\x07\x1b[2J\u{202e}evil";
    let s = FakeServer::start(vec![
        send(format!("* OK {evil} ready\r\n")),
        expect_tagged("CAPABILITY"),
        send("* CAPABILITY IMAP4rev1 STARTTLS\r\n{tag} OK done\r\n"),
        expect_tagged("STARTTLS"),
        send(format!("{{tag}} NO {evil}\r\n")),
        Step::ReadUntilEof,
    ]);
    let connect_to = format!("{HOST}:143:127.0.0.1:{}", s.port);
    let r = mailsetup(
        &[
            "probe",
            "--server",
            "imap://fake.example.test:143",
            "--connect-to",
            &connect_to,
            "-v",
        ],
        &[],
    );
    assert_eq!(r.code, 1);
    for out in [&r.stdout, &r.stderr] {
        assert!(
            !out.contains('\x1b') && !out.contains('\x07') && !out.contains('\u{202e}'),
            "raw control in output: {out:?}"
        );
        assert!(
            out.contains("\\u{1b}]0;pwned\\u{7}"),
            "escaped form missing: {out}"
        );
    }
    assert!(r.stdout.contains("starttls-rejected"), "{}", r.stdout);
}

/// The same hostile text through `--json` (a CI log viewed in a terminal): no raw ESC, BEL,
/// U+202E or U+2066 anywhere in the bytes, and a JSON parser reads back the original text.
#[test]
fn server_text_in_json_is_escaped_and_reads_back_unchanged() {
    let evil = "\x1b]0;pwned\x07\x1b[2J\u{202e}evil\u{2066}iso\u{2028}line\u{9b}c1";
    let s = FakeServer::start(vec![
        send(format!("* OK {evil} ready\r\n")),
        expect_tagged("CAPABILITY"),
        send("* CAPABILITY IMAP4rev1 STARTTLS\r\n{tag} OK done\r\n"),
        expect_tagged("STARTTLS"),
        send(format!("{{tag}} NO {evil}\r\n")),
        Step::ReadUntilEof,
    ]);
    let connect_to = format!("{HOST}:143:127.0.0.1:{}", s.port);
    let r = mailsetup(
        &[
            "probe",
            "--server",
            "imap://fake.example.test:143",
            "--connect-to",
            &connect_to,
            "--json",
        ],
        &[],
    );
    assert_eq!(r.code, 1);
    for bad in ['\x1b', '\x07', '\u{202e}', '\u{2066}', '\u{2028}', '\u{9b}'] {
        assert!(
            !r.stdout.contains(bad),
            "raw {bad:?} in the JSON bytes: {:?}",
            r.stdout
        );
    }
    let ep = &r.endpoints()[0];
    assert_eq!(ep["greeting"], format!("OK {evil} ready"), "{}", r.stdout);
    let refusal = ep["problems"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["code"] == "starttls-rejected")
        .expect("starttls-rejected");
    assert!(
        refusal["message"].as_str().unwrap().contains(evil),
        "{refusal}"
    );
}
