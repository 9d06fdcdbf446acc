//! `check --round-trip` against scripted hostile servers: the watch side's endless IDLE output
//! and giant FETCH literals stay bounded (a named problem, peak memory < 64 MB, measured with
//! /usr/bin/time like tests/resource_limits.rs), and a refusal's server text is escaped.

mod support;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use support::certs::TestCa;
use support::fake::{expect, expect_tagged, send, FakeServer, Step};
use support::run::codes;

const HOST: &str = "fake.example.test";
const USER: &str = "victim@fake.example.test";
const LIMIT_KB: u64 = 64 * 1024;

/// An IMAP server that logs the check in properly, lets the round trip SELECT and IDLE, then
/// runs `after_idle`.
fn imap_watch_side(ca: &TestCa, caps: &str, after_idle: Vec<Step>) -> FakeServer {
    imap_watch_side_with(
        ca,
        caps,
        "* 0 EXISTS\r\n* OK [UIDNEXT 7] next\r\n",
        after_idle,
    )
}

/// As `imap_watch_side`, with `selected` as the untagged part of the SELECT reply.
fn imap_watch_side_with(
    ca: &TestCa,
    caps: &str,
    selected: &str,
    after_idle: Vec<Step>,
) -> FakeServer {
    let mut script = vec![
        Step::StartTls(ca.leaf(&[HOST]).server_config()),
        send("* OK fake IMAP ready\r\n"),
        expect_tagged("CAPABILITY"),
        send(format!("* CAPABILITY {caps}\r\n{{tag}} OK done\r\n")),
        expect_tagged("AUTHENTICATE PLAIN"),
        send("{tag} OK logged in\r\n"),
        expect_tagged("CAPABILITY"),
        send(format!("* CAPABILITY {caps}\r\n{{tag}} OK done\r\n")),
        expect_tagged("STATUS INBOX"),
        send("* STATUS INBOX (MESSAGES 0)\r\n{tag} OK done\r\n"),
        // The folders, once the capabilities after login are known (no SPECIAL-USE here).
        expect_tagged("LIST"),
        send("* LIST (\\HasNoChildren) \"/\" INBOX\r\n{tag} OK done\r\n"),
        expect_tagged("SELECT INBOX"),
        send(format!("{selected}{{tag}} OK [READ-WRITE] selected\r\n")),
        expect_tagged("IDLE"),
        send("+ idling\r\n"),
    ];
    script.extend(after_idle);
    FakeServer::start_once(script)
}

/// A submission server that accepts everything; `rcpt_reply` answers RCPT TO.
fn smtp_side(ca: &TestCa, rcpt_reply: &str) -> FakeServer {
    FakeServer::start_once(vec![
        Step::StartTls(ca.leaf(&[HOST]).server_config()),
        send("220 fake ESMTP\r\n"),
        expect("EHLO"),
        send("250-fake\r\n250-PIPELINING\r\n250 AUTH PLAIN\r\n"),
        expect("AUTH PLAIN"),
        send("235 2.7.0 ok\r\n"),
        expect("MAIL FROM:<"),
        expect("RCPT TO:<"),
        expect("DATA"),
        send(format!("250 2.1.0 Ok\r\n{rcpt_reply}\r\n354 go ahead\r\n")),
        Step::Silence(Duration::from_millis(1000)),
        send("250 2.0.0 Ok: queued as HOSTILE1\r\n"),
        Step::Silence(Duration::from_millis(2000)),
        Step::Close,
    ])
}

struct Outcome {
    json: Value,
    stdout: String,
    exit: i32,
    elapsed: Duration,
    rss_kib: u64,
}

/// `mailsetup check USER --server imaps://... --server smtps://... --round-trip` under
/// /usr/bin/time (peak RSS), against the two fakes.
fn run(imap: &FakeServer, smtp: &FakeServer, ca: &TestCa, json: bool) -> Outcome {
    run_with(imap, smtp, ca, json, "10")
}

fn run_with(
    imap: &FakeServer,
    smtp: &FakeServer,
    ca: &TestCa,
    json: bool,
    round_trip_timeout: &str,
) -> Outcome {
    let time = std::path::Path::new("/usr/bin/time");
    if !time.exists() {
        let msg = "round_trip_hostile: /usr/bin/time is missing (Debian package `time`, installed by scripts/install-test-deps)";
        if std::env::var("MAILSETUP_REQUIRE_STACK").as_deref() == Ok("1") {
            panic!("{msg}");
        }
        use std::io::Write;
        let _ = writeln!(
            std::io::stderr(),
            "\n*** SKIPPED peak-memory measurement: {msg} ***\n"
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let ca_file = ca.write_ca_pem(dir.path());
    let rss_file = dir.path().join("rss");
    let mut cmd = if time.exists() {
        let mut c = Command::new(time);
        c.args(["-f", "%M", "-o", rss_file.to_str().unwrap()])
            .arg(support::bin());
        c
    } else {
        Command::new(support::bin())
    };
    cmd.args([
        "check",
        USER,
        "--server",
        &format!("imaps://{HOST}"),
        "--server",
        &format!("smtps://{HOST}"),
        "--connect-to",
        &format!("{HOST}:993:127.0.0.1:{}", imap.port),
        "--connect-to",
        &format!("{HOST}:465:127.0.0.1:{}", smtp.port),
        "--ca-file",
        ca_file.to_str().unwrap(),
        "--password-env",
        "PW",
        "--timeout",
        "10",
        "--round-trip",
        "--round-trip-timeout",
        round_trip_timeout,
    ]);
    if json {
        cmd.arg("--json");
    }
    let start = Instant::now();
    let out = cmd
        .env("PW", "Hostile-Pw-1")
        .env_remove("NO_COLOR")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let elapsed = start.elapsed();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let json = if json {
        serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"))
    } else {
        Value::Null
    };
    let rss_kib = std::fs::read_to_string(&rss_file)
        .unwrap_or_default()
        .lines()
        .last()
        .and_then(|l| l.trim().parse().ok())
        .unwrap_or(0);
    Outcome {
        json,
        stdout,
        exit: out.status.code().unwrap_or(-1),
        elapsed,
        rss_kib,
    }
}

fn assert_bounded(name: &str, o: &Outcome, code: &str, words: &str) {
    let rt = &o.json["round_trip"];
    println!(
        "{name}: {:?} in {:.2} s, peak RSS {} KiB",
        codes(rt),
        o.elapsed.as_secs_f64(),
        o.rss_kib
    );
    // The check itself was fine; the round trip failed at the watch, with a named problem.
    assert_eq!(
        o.json["endpoints"][0]["login"]["status"], "ok",
        "{name}: {:#}",
        o.json
    );
    assert_eq!(rt["status"], "failed", "{name}: {rt:#}");
    assert_eq!(rt["stopped_at"], "first-seen", "{name}: {rt:#}");
    assert_eq!(codes(rt), [code], "{name}: {rt:#}");
    let msg = rt["problems"][0]["message"].as_str().unwrap();
    assert!(
        msg.contains(words) && msg.contains("IMAP watch was stopped"),
        "{name}: {msg}"
    );
    assert_eq!(o.exit, 1, "{name}");
    assert!(
        o.elapsed < Duration::from_secs(10),
        "{name}: took {:?}",
        o.elapsed
    );
    if std::path::Path::new("/usr/bin/time").exists() {
        assert!(o.rss_kib > 0, "{name}: no RSS figure");
        assert!(
            o.rss_kib < LIMIT_KB,
            "{name}: peak RSS {} KiB ≥ 64 MB",
            o.rss_kib
        );
    }
}

#[test]
fn endless_idle_output_is_cut_off() {
    let ca = TestCa::new("rt-endless-idle");
    let imap = imap_watch_side(
        &ca,
        "IMAP4rev1 AUTH=PLAIN SASL-IR IDLE UIDPLUS",
        vec![Step::SendForever {
            line: b"* OK still here, and here, and here\r\n".to_vec(),
            max_bytes: 200_000_000,
        }],
    );
    let smtp = smtp_side(&ca, "250 2.1.5 Ok");
    let o = run(&imap, &smtp, &ca, true);
    assert_bounded("endless IDLE output", &o, "reply-too-large", "larger than");
    // The message was submitted before the watch failed.
    assert_eq!(o.json["round_trip"]["queue_id"], "HOSTILE1");
}

#[test]
fn a_giant_fetch_literal_is_refused_before_it_is_allocated() {
    let ca = TestCa::new("rt-giant-literal");
    // Without SEARCHRES: async-imap's uid_search, then uid_fetch meets the literal.
    // With SEARCHRES: the one-flight search/fetch/store/expunge meets it.
    let giant = [
        send("* 1 FETCH (UID 7 BODY[HEADER] {400000000}\r\n"),
        Step::SendForever {
            line: vec![b'x'; 65536],
            max_bytes: 200_000_000,
        },
    ];
    let step_by_step = [
        send("* 1 EXISTS\r\n"),
        expect("DONE"),
        send("{tag} OK idle done\r\n"),
        expect_tagged("UID SEARCH UID 7:* HEADER X-Mailsetup-Token"),
        send("* SEARCH 7\r\n{tag} OK searched\r\n"),
        expect_tagged("UID FETCH 7 (UID BODY.PEEK[HEADER])"),
    ];
    let one_flight = [
        send("* 1 EXISTS\r\n"),
        expect("DONE"),
        expect_tagged("UID SEARCH RETURN (SAVE) UID 7:* HEADER X-Mailsetup-Token"),
        expect_tagged("UID FETCH $"),
        expect_tagged("UID STORE $ +FLAGS.SILENT (\\Deleted)"),
        expect_tagged("UID EXPUNGE $"),
    ];
    for (name, caps, script) in [
        (
            "giant literal, step by step",
            "IMAP4rev1 AUTH=PLAIN SASL-IR IDLE UIDPLUS",
            &step_by_step[..],
        ),
        (
            "giant literal, one flight",
            "IMAP4rev1 AUTH=PLAIN SASL-IR IDLE UIDPLUS SEARCHRES",
            &one_flight[..],
        ),
    ] {
        let mut after_idle = script.to_vec();
        after_idle.extend(giant.iter().cloned());
        let imap = imap_watch_side(&ca, caps, after_idle);
        let smtp = smtp_side(&ca, "250 2.1.5 Ok");
        let o = run(&imap, &smtp, &ca, true);
        assert_bounded(name, &o, "reply-too-large", "400000000-byte literal");
        imap.wait_done(1, Duration::from_secs(5));
        assert!(
            imap.errors().iter().all(|e| !e.contains("expected")),
            "{name}: the client did not send what was expected: {:?}",
            imap.errors()
        );
    }
}

#[test]
fn a_refusal_is_shown_escaped() {
    let ca = TestCa::new("rt-refusal");
    let imap = imap_watch_side(
        &ca,
        "IMAP4rev1 AUTH=PLAIN SASL-IR IDLE UIDPLUS",
        vec![Step::ReadUntilEof],
    );
    let smtp = smtp_side(
        &ca,
        "554 5.7.1 \x1b]0;owned\x07\x1b[2J<victim> Relay access denied",
    );
    let o = run(&imap, &smtp, &ca, false);
    assert_eq!(o.exit, 1, "{}", o.stdout);
    assert!(
        o.stdout.contains("REFUSED by the submission server"),
        "{}",
        o.stdout
    );
    assert!(o.stdout.contains("Relay access denied"), "{}", o.stdout);
    assert!(o.stdout.contains("relaying denied"), "{}", o.stdout);
    assert!(
        !o.stdout.contains('\x1b') && !o.stdout.contains('\x07'),
        "{:?}",
        o.stdout
    );
}

#[test]
fn mail_that_got_in_before_the_watch_is_looked_for_at_once() {
    // The check counts 0 messages; SELECT then shows 1: the test message may have arrived
    // before IDLE began (IDLE would never announce it), so the watch searches the messages
    // after the counted ones at once, then goes back to IDLE.
    let ca = TestCa::new("rt-ahead");
    let imap = imap_watch_side_with(
        &ca,
        "IMAP4rev1 AUTH=PLAIN SASL-IR IDLE UIDPLUS",
        "* 1 EXISTS\r\n* OK [UIDNEXT 8] next\r\n",
        vec![
            expect("DONE"),
            send("{tag} OK idle done\r\n"),
            expect_tagged("UID SEARCH 1:* HEADER X-Mailsetup-Token"),
            send("* SEARCH\r\n{tag} OK nothing\r\n"),
            expect_tagged("IDLE"),
            send("+ idling\r\n"),
            // At the timeout: one more search over the whole mailbox, then goodbye.
            expect("DONE"),
            send("{tag} OK idle done\r\n"),
            expect_tagged("UID SEARCH 1:* HEADER X-Mailsetup-Token"),
            send("* SEARCH\r\n{tag} OK nothing\r\n"),
            Step::ReadUntilEof,
        ],
    );
    let smtp = smtp_side(&ca, "250 2.1.5 Ok");
    let o = run_with(&imap, &smtp, &ca, true, "3");
    let rt = &o.json["round_trip"];
    assert_eq!(rt["status"], "not-delivered", "{rt:#}");
    assert_eq!(codes(rt), ["roundtrip-not-delivered"], "{rt:#}");
    imap.wait_done(1, Duration::from_secs(5));
    assert!(imap.errors().is_empty(), "{:?}", imap.errors());
    let wire = String::from_utf8_lossy(&imap.received_in_tls()).into_owned();
    let search = wire
        .find("UID SEARCH 1:* HEADER X-Mailsetup-Token")
        .unwrap();
    assert!(wire[search..].contains(" IDLE\r\n"), "back to IDLE: {wire}");
}
