//! `check --round-trip` against the real stack (Dovecot + Postfix from scripts/mailstack):
//! a test message goes out through submission, is watched arriving (IMAP IDLE, POP3), and
//! is deleted again — exactly it: a separate IMAP login (Python's imaplib, an independent
//! client) sees the mailbox as before. A full mailbox, a refused sender and a submission
//! server that never delivers are reported as what they are.

mod support;

use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::Value;
use support::certs::TestCa;
use support::fake::{expect, send, FakeServer, Step};
use support::run::{assert_no_secret, codes, mailsetup, Run};
use support::stack::MailStack;

const HOST: &str = "mail.example.test";

/// `mailsetup check USER --server ... --round-trip ... --json` against the stack.
fn round_trip(s: &MailStack, user: &str, password: &str, servers: &[&str], extra: &[&str]) -> Run {
    let ca = s.ca_file().to_str().unwrap().to_string();
    let mut args: Vec<String> = vec![
        "check".into(),
        user.into(),
        "--password-env".into(),
        "PW".into(),
    ];
    for url in servers {
        args.extend(["--server".to_string(), format!("{url}://{HOST}")]);
    }
    args.extend(s.connect_to_args(HOST));
    args.extend(["--ca-file".into(), ca, "--round-trip".into()]);
    args.extend(extra.iter().map(|a| a.to_string()));
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let r = mailsetup(&refs, &[("PW", password)]);
    assert_no_secret("output", r.all_output().as_bytes(), user, password);
    r
}

fn rt(r: &Run) -> Value {
    let v = r.json()["round_trip"].clone();
    assert!(
        v.is_object(),
        "no round_trip block: {}\n{}",
        r.stdout,
        r.stderr
    );
    v
}

fn stage_names(rt: &Value) -> Vec<String> {
    rt["stages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["stage"].as_str().unwrap().to_string())
        .collect()
}

/// An independent IMAP client (Python's imaplib over TLS, trusting the stack's CA).
const IMAPLIB: &str = r#"
import imaplib, os, ssl, sys
ctx = ssl.create_default_context(cafile=os.environ["CA"])
m = imaplib.IMAP4_SSL("127.0.0.1", int(os.environ["PORT"]), ssl_context=ctx)
m.login(os.environ["USER_NAME"], os.environ["PW"])
m.select("INBOX")
if sys.argv[1] == "flag-deleted":
    typ, data = m.uid("STORE", sys.argv[2], "+FLAGS", "(\\Deleted)")
    assert typ == "OK", data
typ, data = m.uid("FETCH", "1:*", "(UID FLAGS)")
assert typ == "OK", data
for item in data:
    if item:
        print(item.decode())
m.logout()
"#;

/// `UID n FLAGS (...)` lines of INBOX as seen by a separate IMAP login.
fn imap_listing(s: &MailStack, user: &str, password: &str, action: &[&str]) -> Vec<String> {
    let python = if std::path::Path::new("/usr/bin/python3").exists() {
        "/usr/bin/python3"
    } else {
        "python3"
    };
    let out = Command::new(python)
        .arg("-c")
        .arg(IMAPLIB)
        .args(if action.is_empty() {
            &["list"][..]
        } else {
            action
        })
        .env("CA", s.ca_file())
        .env("PORT", s.get("IMAPS_PORT"))
        .env("USER_NAME", user)
        .env("PW", password)
        .stdin(Stdio::null())
        .output()
        .expect("run python3 imaplib");
    assert!(
        out.status.success(),
        "imaplib failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let mut lines: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| {
            // "3 (UID 3 FLAGS (\Seen))" → "UID 3 FLAGS (\Seen)"
            let l = l.trim();
            let inner = l.split_once(" (").map(|(_, r)| r).unwrap_or(l);
            inner.strip_suffix(')').unwrap_or(inner).to_string()
        })
        .filter(|l| !l.is_empty())
        .collect();
    lines.sort();
    lines
}

/// Three messages in `user`'s inbox, one of them flagged \Deleted (never expunged by us).
fn preload(s: &MailStack, user: &str, password: &str) -> Vec<String> {
    for i in 1..=3 {
        s.sendmail(
            "someone@example.test",
            user,
            &format!(
                "From: someone@example.test\r\nTo: {user}\r\nSubject: keep me {i}\r\nMessage-ID: <keep-{i}@example.test>\r\n\r\nMessage {i} stays.\r\n"
            ),
        );
    }
    assert_eq!(
        s.wait_inbox_count(user, 3, Duration::from_secs(10)),
        3,
        "{}",
        s.log_tail(20)
    );
    let first_uid = imap_listing(s, user, password, &[])[0]
        .split_whitespace()
        .nth(1)
        .unwrap()
        .to_string();
    let before = imap_listing(s, user, password, &["flag-deleted", &first_uid]);
    assert_eq!(before.len(), 3);
    assert!(before.iter().any(|l| l.contains("\\Deleted")), "{before:?}");
    before
}

#[test]
fn imap_idle_round_trip_is_delivered_and_leaves_the_mailbox_as_before() {
    let Some(s) = MailStack::start("imap_idle_round_trip") else {
        return;
    };
    let (user, pw) = (s.get("USER").to_string(), s.get("PASSWORD").to_string());
    let before = preload(&s, &user, &pw);

    let r = round_trip(
        &s,
        &user,
        &pw,
        &["imaps", "imap", "smtps", "smtp"],
        &["--round-trip-timeout", "30", "--json"],
    );
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let v = rt(&r);
    assert_eq!(v["status"], "delivered", "{v:#}");
    assert_eq!(v["watch_method"], "imap-idle");
    assert_eq!(v["watch_url"], "imaps://mail.example.test:993");
    assert_eq!(v["submit_url"], "smtps://mail.example.test:465");
    assert_eq!(
        stage_names(&v),
        ["submitted", "first-seen", "fetched", "removed"]
    );
    assert_eq!(v["cleanup"], "expunged");
    assert!(v["stopped_at"].is_null());
    let delay = v["delivery_ms"].as_u64().expect("delivery_ms");
    let at = |i: usize| v["stages"][i]["at_ms"].as_u64().unwrap();
    assert!(at(0) <= at(1) && at(1) <= at(2) && at(2) <= at(3), "{v:#}");
    assert_eq!(delay, at(1) - at(0));
    assert!(
        v["submit_reply"].as_str().unwrap().starts_with("250 "),
        "{v:#}"
    );
    // Postfix says "queued as ID"; the same id is in the delivered message's Received header.
    let queue_id = v["queue_id"].as_str().expect("queue id").to_string();
    let received = v["received"].as_array().unwrap();
    assert!(
        received
            .iter()
            .any(|h| h.as_str().unwrap().contains(&queue_id)),
        "{queue_id} not in {received:?}"
    );
    // Postfix offers PIPELINING and CHUNKING: MAIL, RCPT and BDAT went in one flight.
    let postfix_log = std::fs::read_to_string(s.get("POSTFIX_LOG")).unwrap();
    assert!(
        postfix_log.contains("mail=1 rcpt=1 bdat=1"),
        "{}",
        s.log_tail(20)
    );
    let token = v["token"].as_str().unwrap();
    assert_eq!(token.len(), 32);
    assert!(v["message_id"].as_str().unwrap().contains(token));
    assert!(codes(&v).is_empty(), "{v:#}");
    // On the run's time axis: a round-trip phase on the two endpoints it used.
    for (url, until) in [
        ("smtps://mail.example.test:465", at(0)),
        (
            "imaps://mail.example.test:993",
            v["elapsed_ms"].as_u64().unwrap(),
        ),
    ] {
        let ep = r.endpoints().into_iter().find(|e| e["url"] == url).unwrap();
        let phase = ep["phases"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == "round-trip")
            .unwrap_or_else(|| panic!("{url}: {ep:#}"))
            .clone();
        let start = v["started_ms"].as_u64().unwrap();
        assert_eq!(phase["start_ms"].as_u64().unwrap(), start, "{phase}");
        assert_eq!(phase["end_ms"].as_u64().unwrap(), start + until, "{phase}");
        assert_eq!(phase["status"], "ok");
    }

    // Exactly the test message is gone: same messages, same UIDs, same flags (the one
    // flagged \Deleted is still there: no plain EXPUNGE happened).
    let after = imap_listing(&s, &user, &pw, &[]);
    assert_eq!(after, before);
    assert_eq!(s.inbox_count(&user), 3);
}

#[test]
fn pop3_round_trip_is_delivered_and_deletes_exactly_the_test_message() {
    let Some(s) = MailStack::start("pop3_round_trip") else {
        return;
    };
    let (user, pw) = (s.get("USER").to_string(), s.get("PASSWORD").to_string());
    let before = preload(&s, &user, &pw);

    let r = round_trip(
        &s,
        &user,
        &pw,
        &["pop3s", "smtp"],
        &["--round-trip-timeout", "30", "--json"],
    );
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let v = rt(&r);
    assert_eq!(v["status"], "delivered", "{v:#}");
    assert_eq!(v["watch_method"], "pop3-poll");
    assert_eq!(v["watch_url"], "pop3s://mail.example.test:995");
    assert_eq!(v["submit_url"], "smtp://mail.example.test:587");
    assert_eq!(
        stage_names(&v),
        ["submitted", "first-seen", "fetched", "removed"]
    );
    assert_eq!(v["cleanup"], "deleted");
    assert!(v["delivery_ms"].as_u64().is_some());
    assert!(codes(&v).is_empty(), "{v:#}");

    let after = imap_listing(&s, &user, &pw, &[]);
    assert_eq!(after, before);
}

#[test]
fn a_full_mailbox_is_reported_as_not_delivered_with_the_reason() {
    let Some(s) =
        MailStack::start_with_env("round_trip_quota_full", &[("MAILSTACK_QUOTA_FULL", "1")])
    else {
        return;
    };
    let (user, pw) = (
        s.get("QUOTA_USER").to_string(),
        s.get("QUOTA_PASSWORD").to_string(),
    );
    let messages: usize = s.get("QUOTA_MESSAGES").parse().unwrap();
    let r = round_trip(
        &s,
        &user,
        &pw,
        &["imaps", "smtps"],
        &["--round-trip-timeout", "4", "--json"],
    );
    assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
    let v = rt(&r);
    // Submission took it ...
    assert_eq!(v["status"], "not-delivered", "{v:#}");
    assert!(
        v["submit_reply"].as_str().unwrap().starts_with("250 "),
        "{v:#}"
    );
    assert_eq!(stage_names(&v), ["submitted"]);
    assert_eq!(v["stopped_at"], "first-seen");
    // ... delivery refused it (the stack's own log says why) ...
    assert!(
        std::fs::read_to_string(s.get("POSTFIX_LOG"))
            .unwrap()
            .contains("Quota exceeded"),
        "{}",
        s.log_tail(20)
    );
    // ... and the report names the reason the server exposes: the full mailbox.
    let p = v["problems"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["code"] == "roundtrip-not-delivered")
        .unwrap_or_else(|| panic!("{v:#}"));
    let msg = p["message"].as_str().unwrap();
    assert!(
        msg.contains("% full") && msg.contains("refuses new mail"),
        "{msg}"
    );
    assert!(p["hint"].as_str().unwrap().contains("quota"));
    assert!(codes(&r.json()).contains(&"quota-nearly-full".to_string()));
    // Within the timeout (plus the check and the goodbyes).
    let elapsed = v["elapsed_ms"].as_u64().unwrap();
    assert!((4000..7000).contains(&elapsed), "{elapsed} ms");
    assert_eq!(s.inbox_count(&user), messages);
}

#[test]
fn a_sender_the_login_does_not_own_is_submit_rejected_with_the_servers_text() {
    let Some(s) = MailStack::start_with_env(
        "round_trip_sender_refused",
        &[("MAILSTACK_SENDER_LOGIN_MAPS", "1")],
    ) else {
        return;
    };
    // other@'s address, demo@'s login: Postfix's smtpd_sender_login_maps refuses it.
    let (login, pw) = (s.get("USER").to_string(), s.get("PASSWORD").to_string());
    let other = s.get("OTHER_USER").to_string();
    let args = ["--username", login.as_str(), "--round-trip-timeout", "10"];
    let r = round_trip(
        &s,
        &other,
        &pw,
        &["imaps", "smtps"],
        &[&args[..], &["--json"]].concat(),
    );
    assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
    let v = rt(&r);
    assert_eq!(v["status"], "submit-rejected", "{v:#}");
    assert_eq!(v["stopped_at"], "submitted");
    assert!(v["stages"].as_array().unwrap().is_empty());
    let server_text = format!("Sender address rejected: not owned by user {login}");
    assert!(
        v["submit_reply"].as_str().unwrap().starts_with("553 5.7.1"),
        "{v:#}"
    );
    assert!(
        v["submit_reply"].as_str().unwrap().contains(&server_text),
        "{v:#}"
    );
    let p = &v["problems"][0];
    assert_eq!(p["code"], "roundtrip-submit-rejected");
    assert!(p["message"].as_str().unwrap().contains(&server_text), "{p}");
    assert!(
        p["message"]
            .as_str()
            .unwrap()
            .contains("not one this login may send as"),
        "{p}"
    );

    // The human block shows the server's text (escaped: nothing but printable text).
    let human = round_trip(&s, &other, &pw, &["imaps", "smtps"], &args);
    assert_eq!(human.code, 1);
    assert!(human.stdout.contains(&server_text), "{}", human.stdout);
    assert!(
        human.stdout.contains("REFUSED by the submission server"),
        "{}",
        human.stdout
    );
    assert!(!human.stdout.contains('\x1b'));
    assert_eq!(s.inbox_count(&other), 0);
    assert_eq!(s.inbox_count(&login), 0);
}

/// A submission server (scripted) that accepts the message and never delivers it.
fn accepting_smtp(ca: &TestCa) -> FakeServer {
    FakeServer::start_once(vec![
        Step::StartTls(ca.leaf(&["fake.example.test"]).server_config()),
        send("220 fake.example.test ESMTP\r\n"),
        expect("EHLO"),
        send("250-fake.example.test\r\n250-PIPELINING\r\n250-SIZE 10000000\r\n250 AUTH PLAIN\r\n"),
        expect("AUTH PLAIN"),
        send("235 2.7.0 Authentication successful\r\n"),
        expect("MAIL FROM:<"),
        expect("RCPT TO:<"),
        expect("DATA"),
        send("250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n354 go ahead\r\n"),
        // The message, read and dropped.
        Step::Silence(Duration::from_millis(1500)),
        send("250 2.0.0 Ok: queued as FAKE0042\r\n"),
        Step::Silence(Duration::from_millis(500)),
        send("221 bye\r\n"),
        Step::Close,
    ])
}

#[test]
fn a_server_that_accepts_and_never_delivers_is_not_delivered_at_the_timeout() {
    let Some(s) = MailStack::start("round_trip_never_delivered") else {
        return;
    };
    let ca = TestCa::new("round-trip-smtp");
    let smtp = accepting_smtp(&ca);
    let dir = tempfile::tempdir().unwrap();
    let fake_ca = ca.write_ca_pem(dir.path());
    let (user, pw) = (s.get("USER").to_string(), s.get("PASSWORD").to_string());
    let smtp_to = format!("fake.example.test:465:127.0.0.1:{}", smtp.port);
    let r = round_trip(
        &s,
        &user,
        &pw,
        &["imaps"],
        &[
            "--server",
            "smtps://fake.example.test",
            "--connect-to",
            &smtp_to,
            "--ca-file",
            fake_ca.to_str().unwrap(),
            "--round-trip-timeout",
            "3",
            "--json",
        ],
    );
    assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
    let v = rt(&r);
    assert_eq!(v["status"], "not-delivered", "{v:#}");
    assert_eq!(v["submit_url"], "smtps://fake.example.test:465");
    assert_eq!(v["queue_id"], "FAKE0042");
    assert_eq!(v["watch_method"], "imap-idle");
    assert_eq!(v["stopped_at"], "first-seen");
    assert_eq!(codes(&v), ["roundtrip-not-delivered"]);
    assert_eq!(v["timeout_ms"], 3000);
    // The watch ends at the timeout, not before and not much after.
    let submitted = v["stages"][0]["at_ms"].as_u64().unwrap();
    let elapsed = v["elapsed_ms"].as_u64().unwrap();
    assert!(elapsed >= submitted + 3000, "{v:#}");
    assert!(elapsed < submitted + 5000, "{v:#}");
    // The fake got the whole message (the token in it) inside TLS.
    smtp.wait_done(1, Duration::from_secs(5));
    let wire = String::from_utf8_lossy(&smtp.received_in_tls()).into_owned();
    assert!(
        wire.contains(&format!(
            "X-Mailsetup-Token: {}",
            v["token"].as_str().unwrap()
        )),
        "{wire}"
    );
    assert!(
        wire.contains("\r\n.\r\n"),
        "the data was terminated: {wire}"
    );
    assert_eq!(s.inbox_count(&user), 0);
}

#[test]
fn round_trip_to_another_address_only_sends_and_reports_acceptance() {
    let Some(s) = MailStack::start("round_trip_to_other") else {
        return;
    };
    let (user, pw) = (s.get("USER").to_string(), s.get("PASSWORD").to_string());
    let other = s.get("OTHER_USER").to_string();
    let r = round_trip(
        &s,
        &user,
        &pw,
        &["imaps", "smtps"],
        &["--round-trip-to", &other, "--json"],
    );
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let v = rt(&r);
    assert_eq!(v["status"], "accepted", "{v:#}");
    assert_eq!(v["to"], other.as_str());
    assert_eq!(v["from"], user.as_str());
    assert!(
        v["watch_url"].is_null() && v["watch_method"].is_null(),
        "{v:#}"
    );
    assert_eq!(stage_names(&v), ["submitted"]);
    assert!(v["stopped_at"].is_null());
    assert!(v["queue_id"].as_str().is_some());
    // It went where it was sent, and stays there (it is not ours to delete).
    assert_eq!(
        s.wait_inbox_count(&other, 1, Duration::from_secs(10)),
        1,
        "{}",
        s.log_tail(20)
    );
    assert_eq!(s.inbox_count(&user), 0);
}
