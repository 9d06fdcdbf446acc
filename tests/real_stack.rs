//! `probe` and `check` against the real local stack: Dovecot (IMAP, POP3) and Postfix
//! (submission, SASL through Dovecot), started by scripts/mailstack on loopback.

mod support;

use std::time::{Duration, Instant};

use serde_json::Value;
use support::fake::Blackhole;
use support::run::{assert_no_secret, codes, mailsetup, Run};
use support::stack::MailStack;

const HOST: &str = "mail.example.test";

fn stack(name: &str) -> Option<MailStack> {
    MailStack::start(name)
}

/// `mailsetup CMD ...` against the stack, addressed by `host`, trusting the stack's CA.
fn run_against(s: &MailStack, host: &str, args: &[&str], env: &[(&str, &str)]) -> Run {
    let ca = s.ca_file().to_str().unwrap().to_string();
    let mut all: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    all.extend(s.connect_to_args(host));
    all.extend(["--ca-file".into(), ca, "--json".into()]);
    let refs: Vec<&str> = all.iter().map(String::as_str).collect();
    mailsetup(&refs, env)
}

/// The six standard endpoints of the stack's host, as `--server` arguments.
fn six_servers(host: &str) -> Vec<String> {
    ["imaps", "imap", "pop3s", "pop3", "smtps", "smtp"]
        .iter()
        .flat_map(|s| ["--server".to_string(), format!("{s}://{host}")])
        .collect()
}

fn check(s: &MailStack, user: &str, password: &str, extra: &[&str]) -> Run {
    let mut args: Vec<String> = vec![
        "check".into(),
        user.into(),
        "--password-env".into(),
        "PW".into(),
    ];
    args.extend(six_servers(HOST));
    args.extend(extra.iter().map(|s| s.to_string()));
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    run_against(s, HOST, &refs, &[("PW", password)])
}

fn by_url<'a>(eps: &'a [Value], url: &str) -> &'a Value {
    eps.iter()
        .find(|e| e["url"] == url)
        .unwrap_or_else(|| panic!("no endpoint {url}"))
}

#[test]
fn probe_reports_six_ok_endpoints_with_tls_details() {
    let Some(s) = stack("probe_reports_six_ok_endpoints_with_tls_details") else {
        return;
    };
    let r = run_against(&s, HOST, &["probe", HOST], &[]);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let json = r.json();
    assert_eq!(json["version"], 1);
    assert_eq!(json["command"], "probe");
    assert!(json["elapsed_ms"].as_u64().is_some());
    let eps = r.endpoints();
    let urls: Vec<&str> = eps.iter().map(|e| e["url"].as_str().unwrap()).collect();
    assert_eq!(
        urls,
        [
            "imaps://mail.example.test:993",
            "imap://mail.example.test:143",
            "pop3s://mail.example.test:995",
            "pop3://mail.example.test:110",
            "smtps://mail.example.test:465",
            "smtp://mail.example.test:587"
        ]
    );
    for e in &eps {
        assert_eq!(e["status"], "ok", "{e}");
        assert!(e["connect_ms"].as_u64().is_some());
        let tls = &e["tls"];
        assert!(
            ["TLSv1.3", "TLSv1.2"].contains(&tls["version"].as_str().unwrap()),
            "{tls}"
        );
        assert!(tls["cipher"].as_str().unwrap().starts_with("TLS"));
        let cert = &tls["certificate"];
        assert_eq!(cert["trusted"], true);
        assert_eq!(cert["hostname_match"], true);
        assert_eq!(cert["sans"], serde_json::json!([HOST, "127.0.0.1"]));
        assert_eq!(cert["sha256"].as_str().unwrap().len(), 64);
        assert!(cert["days_left"].as_i64().unwrap() > 30);
        assert!(cert["not_after"].as_str().unwrap().ends_with('Z'));
        let mechs: Vec<&str> = e["auth_mechanisms"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m.as_str().unwrap())
            .collect();
        for m in ["PLAIN", "LOGIN", "CRAM-MD5"] {
            assert!(mechs.contains(&m), "{} lacks {m}: {mechs:?}", e["url"]);
        }
        assert!(e["problems"].as_array().unwrap().is_empty(), "{e}");
    }
    // Capabilities are the ones read over TLS: STARTTLS itself is no longer offered there.
    let imap = by_url(&eps, "imap://mail.example.test:143");
    assert!(imap["capabilities_before_tls"]
        .to_string()
        .contains("STARTTLS"));
    assert!(!imap["capabilities"].to_string().contains("STARTTLS"));
}

#[test]
fn postfix_offers_auth_only_after_starttls() {
    let Some(s) = stack("postfix_offers_auth_only_after_starttls") else {
        return;
    };
    let r = run_against(
        &s,
        HOST,
        &["probe", "--server", "smtp://mail.example.test:587"],
        &[],
    );
    assert_eq!(r.code, 0, "{}", r.stdout);
    let ep = &r.endpoints()[0];
    let before = ep["capabilities_before_tls"].as_array().unwrap();
    assert!(before.iter().any(|c| c == "STARTTLS"));
    assert!(
        !before
            .iter()
            .any(|c| c.as_str().unwrap().starts_with("AUTH")),
        "{before:?}"
    );
    assert!(ep["capabilities"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c.as_str().unwrap().starts_with("AUTH ")));
    assert!(!ep["auth_mechanisms"].as_array().unwrap().is_empty());
}

#[test]
fn wrong_hostname_untrusted_and_expired_certificates_fail_closed() {
    let Some(s) = stack("wrong_hostname_untrusted_and_expired_certificates_fail_closed") else {
        return;
    };
    // Wrong name: the stack's certificate is for mail.example.test.
    let r = run_against(
        &s,
        "wrong.example.test",
        &["probe", "wrong.example.test"],
        &[],
    );
    assert_eq!(r.code, 1);
    for e in r.endpoints() {
        assert!(
            codes(&e).contains(&"tls-cert-hostname-mismatch".to_string()),
            "{e}"
        );
        assert_eq!(e["tls"]["certificate"]["hostname_match"], false);
    }
    // Untrusted: no --ca-file.
    let mut args: Vec<String> = vec!["probe".into(), HOST.into(), "--json".into()];
    args.extend(s.connect_to_args(HOST));
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let r = mailsetup(&refs, &[]);
    assert_eq!(r.code, 1);
    for e in r.endpoints() {
        assert!(codes(&e).contains(&"tls-cert-untrusted".to_string()), "{e}");
        assert_eq!(e["tls"]["certificate"]["trusted"], false);
    }
    // Expired: Dovecot serves an expired certificate for this SNI name.
    let host = s.get("EXPIRED_HOST").to_string();
    let r = run_against(
        &s,
        &host,
        &["probe", &host, "--protocols", "imap,pop3"],
        &[],
    );
    assert_eq!(r.code, 1);
    let eps = r.endpoints();
    assert_eq!(eps.len(), 4);
    for e in eps {
        assert!(codes(&e).contains(&"tls-cert-expired".to_string()), "{e}");
        assert!(e["tls"]["certificate"]["days_left"].as_i64().unwrap() < 0);
    }
}

#[test]
fn stopped_stack_is_refused_everywhere_quickly() {
    let Some(mut s) = stack("stopped_stack_is_refused_everywhere_quickly") else {
        return;
    };
    let connect_to = s.connect_to_args(HOST);
    let ca = s.ca_file().to_str().unwrap().to_string();
    s.stop();
    let mut args: Vec<String> = vec![
        "probe".into(),
        HOST.into(),
        "--json".into(),
        "--ca-file".into(),
        ca,
    ];
    args.extend(connect_to);
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let start = Instant::now();
    let r = mailsetup(&refs, &[]);
    assert!(
        start.elapsed() < Duration::from_secs(1),
        "took {:?}",
        start.elapsed()
    );
    assert_eq!(r.code, 1);
    let eps = r.endpoints();
    assert_eq!(eps.len(), 6);
    for e in eps {
        assert_eq!(codes(&e), ["connect-refused"], "{e}");
    }
}

#[test]
fn six_blackholed_ports_cost_one_timeout() {
    let holes: Vec<Blackhole> = (0..6).map(|_| Blackhole::start()).collect();
    let mut args: Vec<String> = vec![
        "probe".into(),
        HOST.into(),
        "--json".into(),
        "--timeout".into(),
        "3".into(),
    ];
    for (hole, port) in holes.iter().zip([993, 143, 995, 110, 465, 587]) {
        args.extend([
            "--connect-to".into(),
            format!("{HOST}:{port}:127.0.0.1:{}", hole.port),
        ]);
    }
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let start = Instant::now();
    let r = mailsetup(&refs, &[]);
    let took = start.elapsed();
    assert!(took <= Duration::from_millis(3500), "took {took:?}");
    assert_eq!(r.code, 1);
    for e in r.endpoints() {
        let c = codes(&e);
        assert!(c == ["connect-timeout"] || c == ["greeting-timeout"], "{e}");
    }
}

#[test]
fn right_password_logs_in_everywhere() {
    let Some(s) = stack("right_password_logs_in_everywhere") else {
        return;
    };
    let r = check(&s, s.get("USER"), s.get("PASSWORD"), &[]);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let json = r.json();
    assert_eq!(json["command"], "check");
    for e in r.endpoints() {
        assert_eq!(e["login"]["status"], "ok", "{e}");
        assert_eq!(e["login"]["username"], s.get("USER"));
        assert!(e["login"]["mechanism"].as_str().is_some());
    }
    // The recommendation: IMAP over POP3, implicit TLS over STARTTLS, login verified.
    let rec = &json["recommended"];
    assert_eq!(rec["verified"], true);
    assert_eq!(rec["incoming"]["protocol"], "imap");
    assert_eq!(rec["incoming"]["security"], "tls");
    assert_eq!(rec["incoming"]["port"], 993);
    assert_eq!(rec["outgoing"]["protocol"], "smtp");
    assert_eq!(rec["outgoing"]["security"], "tls");
    assert_eq!(rec["incoming"]["username"], s.get("USER"));
    let r = check(&s, s.get("USER"), s.get("PASSWORD"), &["--prefer", "pop3"]);
    assert_eq!(r.json()["recommended"]["incoming"]["protocol"], "pop3");
    assert_eq!(r.json()["recommended"]["incoming"]["port"], 995);
}

#[test]
fn all_mechanisms_are_each_verified() {
    let Some(s) = stack("all_mechanisms_are_each_verified") else {
        return;
    };
    let r = check(&s, s.get("USER"), s.get("PASSWORD"), &["--all-mechanisms"]);
    assert_eq!(r.code, 0, "{}", r.stdout);
    let eps = r.endpoints();
    for e in &eps {
        let attempts = e["login"]["attempts"].as_array().unwrap();
        let ok: Vec<&str> = attempts
            .iter()
            .filter(|a| a["status"] == "ok")
            .map(|a| a["mechanism"].as_str().unwrap())
            .collect();
        for m in ["PLAIN", "LOGIN", "CRAM-MD5"] {
            assert!(ok.contains(&m), "{}: {ok:?}", e["url"]);
        }
        if e["protocol"] == "pop3" {
            assert!(ok.contains(&"USER"), "{ok:?}");
            // APOP's timestamp comes from the greeting: usable on pop3s (inside TLS), never
            // after STLS, where the greeting was plaintext state.
            let apop = ok.contains(&"APOP");
            assert_eq!(apop, e["security"] == "tls", "{}: {ok:?}", e["url"]);
        }
        assert_eq!(
            ok.len(),
            attempts.len(),
            "every offered method works: {attempts:?}"
        );
    }
    let pop = by_url(&eps, "pop3s://mail.example.test:995");
    let apop = pop["login"]["attempts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["mechanism"] == "APOP")
        .unwrap();
    assert_eq!(apop["status"], "ok");
}

#[test]
fn wrong_password_fails_with_a_hint() {
    let Some(s) = stack("wrong_password_fails_with_a_hint") else {
        return;
    };
    let r = check(&s, s.get("USER"), "definitely-wrong", &[]);
    assert_eq!(r.code, 1);
    for e in r.endpoints() {
        assert_eq!(e["login"]["status"], "failed", "{e}");
        let problem = e["problems"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["code"] == "login-failed")
            .expect("login-failed");
        assert!(problem["hint"].as_str().unwrap().contains("app password"));
    }
}

#[test]
fn quota_from_imap_and_from_pop3() {
    let Some(s) = stack("quota_from_imap_and_from_pop3") else {
        return;
    };
    let (user, pw) = (s.get("QUOTA_USER"), s.get("QUOTA_PASSWORD"));
    let messages: u64 = s.get("QUOTA_MESSAGES").parse().unwrap();
    let r = check(&s, user, pw, &["--protocols", "imap"]);
    let q = &r.json()["quota"];
    assert_eq!(q["source"], "imap-quota", "{}", r.stdout);
    let used_kib: u64 = s.get("QUOTA_STORAGE_KIB").parse().unwrap();
    let limit_kib: u64 = s.get("QUOTA_LIMIT_KIB").parse().unwrap();
    assert_eq!(q["used_bytes"], used_kib * 1024);
    assert_eq!(q["limit_bytes"], limit_kib * 1024);
    let expected = (used_kib as f64 / limit_kib as f64 * 1000.0).round() / 10.0;
    assert_eq!(q["percent"].as_f64().unwrap(), expected);
    assert_eq!(q["messages"], messages);
    let r = check(&s, user, pw, &["--protocols", "pop3"]);
    let q = &r.json()["quota"];
    assert_eq!(q["source"], "pop3-stat", "{}", r.stdout);
    assert_eq!(q["messages"], messages);
    assert!(q["used_bytes"].as_u64().unwrap() > 0);
    assert_eq!(q["limit_bytes"], Value::Null);
}

#[test]
fn verbose_json_run_never_prints_the_password() {
    let Some(s) = stack("verbose_json_run_never_prints_the_password") else {
        return;
    };
    let (user, pw) = (s.get("USER"), s.get("PASSWORD"));
    let r = check(&s, user, pw, &["--all-mechanisms", "-v"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stderr.contains("AUTHENTICATE PLAIN <redacted>"),
        "the trace shows the redacted command"
    );
    assert!(r.stderr.contains("PASS <redacted>"));
    assert_no_secret("-v --json output", r.all_output().as_bytes(), user, pw);
}

#[test]
fn password_is_not_in_the_process_argv() {
    let hole = Blackhole::start();
    let dir = tempfile::tempdir().unwrap();
    let pw_file = dir.path().join("pw");
    std::fs::write(&pw_file, "Argv-Canary-1234\n").unwrap();
    let child = std::process::Command::new(support::bin())
        .args([
            "check",
            "u@example.test",
            "--password-file",
            pw_file.to_str().unwrap(),
            "--timeout",
            "2",
            "--json",
        ])
        .args([
            "--server",
            "imaps://mail.example.test",
            "--connect-to",
            &format!("mail.example.test:993:127.0.0.1:{}", hole.port),
        ])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(500));
    let cmdline = std::fs::read(format!("/proc/{}/cmdline", child.id())).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(!cmdline.is_empty());
    assert!(!String::from_utf8_lossy(&cmdline).contains("Argv-Canary-1234"));
    assert!(!String::from_utf8_lossy(&out.stdout).contains("Argv-Canary-1234"));
}

/// The provider page mailsetup starts from: IMAP 993/143 and POP3 995/110 with "Encrypted
/// password" only (the stack's second Dovecot: CRAM-MD5, IMAP says LOGINDISABLED, POP3
/// advertises USER but refuses it). Every login works with CRAM-MD5, the run succeeds, and the
/// recommendation says "encrypted password" whichever incoming protocol is preferred.
#[test]
fn encrypted_password_only_server_is_verified_and_recommended_as_such() {
    let Some(s) = stack("encrypted_password_only_server_is_verified_and_recommended_as_such")
    else {
        return;
    };
    let enc = |scheme: &str, key: &str| format!("{scheme}://{HOST}:{}", s.port(key));
    let servers = [
        enc("imaps", "ENC_IMAPS_PORT"),
        enc("imap", "ENC_IMAP_PORT"),
        enc("pop3s", "ENC_POP3S_PORT"),
        enc("pop3", "ENC_POP3_PORT"),
        enc("smtps", "SUBMISSIONS_PORT"),
    ];
    let addr = s.get("ADDR");
    for prefer in ["imap", "pop3"] {
        let mut args: Vec<String> = vec![
            "check".into(),
            s.get("USER").into(),
            "--password-env".into(),
            "PW".into(),
            "--prefer".into(),
            prefer.into(),
            "--ca-file".into(),
            s.ca_file().to_str().unwrap().into(),
            "--json".into(),
        ];
        for url in &servers {
            args.extend(["--server".into(), url.clone()]);
            let port = url.rsplit(':').next().unwrap();
            args.extend([
                "--connect-to".into(),
                format!("{HOST}:{port}:{addr}:{port}"),
            ]);
        }
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        let r = mailsetup(&refs, &[("PW", s.get("PASSWORD"))]);
        assert_eq!(r.code, 0, "--prefer {prefer}:\n{}\n{}", r.stdout, r.stderr);
        let eps = r.endpoints();
        assert_eq!(eps.len(), 5);
        for e in eps.iter().filter(|e| e["protocol"] != "smtp") {
            assert_eq!(e["status"], "ok", "{e}");
            assert_eq!(e["login"]["status"], "ok", "{e}");
            assert_eq!(e["login"]["mechanism"], "CRAM-MD5", "{e}");
            assert_eq!(e["login"]["auth_method"], "password-encrypted", "{e}");
            let mechs: Vec<&str> = e["auth_mechanisms"]
                .as_array()
                .unwrap()
                .iter()
                .map(|m| m.as_str().unwrap())
                .collect();
            assert_eq!(mechs, ["CRAM-MD5"], "{}", e["url"]);
        }
        // IMAP: LOGINDISABLED is advertised, and AUTHENTICATE CRAM-MD5 was the way in.
        let imaps = by_url(&eps, &servers[0]);
        assert!(
            imaps["capabilities"]
                .as_array()
                .unwrap()
                .iter()
                .any(|c| c == "LOGINDISABLED"),
            "{imaps}"
        );
        let rec = &r.json()["recommended"];
        assert_eq!(rec["verified"], true);
        assert_eq!(rec["incoming"]["protocol"], prefer);
        assert_eq!(rec["incoming"]["auth"], "password-encrypted", "{rec}");
        assert_eq!(rec["incoming"]["mechanism"], "CRAM-MD5", "{rec}");
        assert_eq!(rec["outgoing"]["auth"], "password-cleartext", "{rec}");
        // The human form says it in the provider page's words.
        let mut human: Vec<&str> = refs.iter().copied().filter(|a| *a != "--json").collect();
        human.push("--format=human");
        let h = mailsetup(&human, &[("PW", s.get("PASSWORD"))]);
        assert!(
            h.stdout
                .contains("Authentication: Encrypted password (CRAM-MD5)"),
            "{}",
            h.stdout
        );
    }
    // Dovecot's own log: every login on the encrypted-only instance used CRAM-MD5.
    let log = std::fs::read_to_string(s.get("ENC_DOVECOT_LOG")).unwrap();
    let logins: Vec<&str> = log.lines().filter(|l| l.contains("Login: user=")).collect();
    assert!(logins.len() >= 8, "{log}");
    assert!(
        logins.iter().all(|l| l.contains("method=CRAM-MD5")),
        "{log}"
    );
}
