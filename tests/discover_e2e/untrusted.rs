//! An SRV target outside the address's domain (RFC 8314 §5.1, RFC 7817: an unsigned SRV
//! answer proves nothing about who runs the target) is probed but gets no credentials; a
//! scripted IMAPS server there records everything it receives. The control test shows the
//! same server does record a password when the user vouches for the host (`--trust-host`),
//! so the "nothing received" finding is not an artefact of the script.

use std::time::Duration;

use super::harness::{loopback, E2e};
use super::support::certs::TestCa;
use super::support::dns::Record;
use super::support::fake::{expect_tagged, send, FakeServer, Step};
use super::support::run::{assert_no_secret, codes, secret_forms};

const OUTSIDE: &str = "imap.elsewhere.test";

/// Implicit-TLS IMAP with a certificate the client trusts (test CA): greeting, CAPABILITY
/// (no AUTH=: a client would use the LOGIN command, password in the clear inside TLS), then
/// either refuse a LOGIN (`answer_login`) or just record until the client hangs up. Returns
/// the server and its certificate's SHA-256: a pin restricts, so the run pins it too.
fn fake_imaps(ca: &TestCa, answer_login: bool) -> (FakeServer, String) {
    let leaf = ca.leaf(&[OUTSIDE]);
    let mut script = vec![
        Step::StartTls(leaf.server_config()),
        send("* OK fake IMAP ready\r\n"),
        expect_tagged("CAPABILITY"),
        send("* CAPABILITY IMAP4rev1\r\n{tag} OK done\r\n"),
    ];
    if answer_login {
        script.push(expect_tagged("LOGIN"));
        script.push(send("{tag} NO [AUTHENTICATIONFAILED] fake refuses\r\n"));
    }
    script.push(Step::ReadUntilEof);
    (FakeServer::start(script), leaf.sha256_hex())
}

fn contains_ci(haystack: &[u8], needle: &str) -> bool {
    let h = String::from_utf8_lossy(haystack).to_ascii_uppercase();
    h.contains(&needle.to_ascii_uppercase())
}

#[test]
fn srv_target_outside_the_domain_gets_no_credentials() {
    let ca = TestCa::new("outside");
    let (fake, fake_pin) = fake_imaps(&ca, false);
    let fake_port = fake.port;
    let Some(e) = E2e::start("srv_target_outside_the_domain_gets_no_credentials", |s| {
        vec![
            Record::srv("_imaps._tcp.srvout.test", OUTSIDE, fake_port, 0, 0),
            loopback(OUTSIDE),
            // The outgoing server lies inside the domain: it gets the password.
            Record::srv(
                "_submissions._tcp.srvout.test",
                "relay.srvout.test",
                s.port("SUBMISSIONS_PORT"),
                0,
                0,
            ),
            loopback("relay.srvout.test"),
        ]
    }) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let outside_ca = ca.write_ca_pem(dir.path());
    let run = e.check(
        "demo@srvout.test",
        &[
            "--username".into(),
            "demo@example.test".into(),
            "--ca-file".into(),
            outside_ca.to_str().unwrap().into(),
            "--pin-sha256".into(),
            fake_pin.clone(),
        ],
    );
    let ctx = format!("exit {}\n{}\n{}", run.code, run.stdout, run.stderr);
    let v = run.json();
    let outside_url = format!("imaps://{OUTSIDE}:{fake_port}");
    let eps = run.endpoints();
    let outside = eps
        .iter()
        .find(|e| e["url"] == outside_url.as_str())
        .unwrap_or_else(|| panic!("{outside_url} not checked: {ctx}"));
    assert_eq!(outside["source"], "srv");
    assert!(
        codes(outside).contains(&"untrusted-candidate".to_string()),
        "{:?}",
        codes(outside)
    );
    assert_eq!(
        outside["login"]["status"], "not-attempted",
        "{}",
        outside["login"]
    );
    // It was really probed (TLS and CAPABILITY worked): only the login was withheld.
    assert_eq!(outside["status"], "warning", "{outside}");
    assert_eq!(
        outside["capabilities"][0]
            .as_str()
            .map(str::to_ascii_uppercase)
            .as_deref(),
        Some("IMAP4REV1"),
        "{outside}"
    );
    let candidate = v["discovery"]["candidates"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["endpoint"]["host"] == OUTSIDE)
        .expect("candidate");
    assert_eq!(candidate["trusted"], false);

    // The target inside the domain, in the same run, was logged into.
    let relay_url = format!("smtps://relay.srvout.test:{}", e.port("SUBMISSIONS_PORT"));
    let relay = eps
        .iter()
        .find(|e| e["url"] == relay_url.as_str())
        .unwrap_or_else(|| panic!("{relay_url} not checked: {ctx}"));
    assert_eq!(relay["login"]["status"], "ok", "{}", relay["login"]);
    // No verified incoming server: nothing to recommend, and the account does not work as
    // found (exit status: a working incoming and outgoing server are both needed).
    assert!(v["recommended"].is_null(), "{}", v["recommended"]);
    assert_eq!(run.code, 1, "{ctx}");

    // What the outside server received: a CAPABILITY inside TLS, a LOGOUT, nothing else.
    assert!(
        fake.wait_done(1, Duration::from_secs(15)),
        "{}",
        fake.debug_dump()
    );
    assert_eq!(fake.connections(), 1, "{}", fake.debug_dump());
    let tls = fake.received_in_tls();
    assert!(contains_ci(&tls, "CAPABILITY"), "{}", fake.debug_dump());
    for verb in [" LOGIN ", "AUTHENTICATE", "AUTH "] {
        assert!(!contains_ci(&tls, verb), "{verb:?}: {}", fake.debug_dump());
    }
    for user in [e.user(), "demo@srvout.test", "demo"] {
        assert_no_secret(
            "plaintext transcript",
            &fake.transcript(),
            user,
            e.password(),
        );
        assert_no_secret("TLS transcript", &tls, user, e.password());
    }
    assert!(
        !contains_ci(&fake.received_all(), "demo@"),
        "{}",
        fake.debug_dump()
    );
}

#[test]
fn trust_host_lets_the_password_reach_the_outside_target_control() {
    let ca = TestCa::new("outside-control");
    let (fake, fake_pin) = fake_imaps(&ca, true);
    let fake_port = fake.port;
    let Some(e) = E2e::start(
        "trust_host_lets_the_password_reach_the_outside_target_control",
        |_| {
            vec![
                Record::srv("_imaps._tcp.vouched.test", OUTSIDE, fake_port, 0, 0),
                loopback(OUTSIDE),
            ]
        },
    ) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let outside_ca = ca.write_ca_pem(dir.path());
    let run = e.check(
        "demo@vouched.test",
        &[
            "--trust-host".into(),
            OUTSIDE.into(),
            "--ca-file".into(),
            outside_ca.to_str().unwrap().into(),
            "--pin-sha256".into(),
            fake_pin.clone(),
        ],
    );
    let eps = run.endpoints();
    assert_eq!(eps.len(), 1, "{}", run.stdout);
    assert!(!codes(&eps[0]).contains(&"untrusted-candidate".to_string()));
    assert_eq!(eps[0]["login"]["status"], "failed", "{}", eps[0]["login"]);
    assert!(
        fake.wait_done(1, Duration::from_secs(15)),
        "{}",
        fake.debug_dump()
    );
    let tls = fake.received_in_tls();
    let forms = secret_forms("demo@vouched.test", e.password());
    assert!(
        forms
            .iter()
            .any(|f| tls.windows(f.len()).any(|w| w == f.as_slice())),
        "the fake should have recorded the password: {}",
        fake.debug_dump()
    );
}

/// Runs `mailsetup write msmtp mbsync --from REPORT --out DIR [extra]`.
fn write_from(
    report: &std::path::Path,
    out: &std::path::Path,
    extra: &[&str],
) -> super::support::run::Run {
    let mut args = vec![
        "write",
        "msmtp",
        "mbsync",
        "--from",
        report.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--password-command",
        "true",
    ];
    args.extend_from_slice(extra);
    super::support::run::mailsetup(&args, &[])
}

/// Every file below `dir`, with its contents.
fn files_in(dir: &std::path::Path) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(files_in(&p));
        } else {
            out.push((
                p.display().to_string(),
                std::fs::read_to_string(&p).unwrap_or_default(),
            ));
        }
    }
    out
}

/// A helpdesk's first run has no password: the trust policy still decides, records its
/// decision on every endpoint, and keeps an outside host that would sort first (it offers
/// implicit TLS where the domain's own server only has STARTTLS) out of the recommendation and
/// out of the files `write --from` produces.
#[test]
fn outside_host_that_would_sort_first_is_never_recommended_or_written() {
    const OUT: &str = "aaa.outside.test";
    let Some(e) = E2e::start(
        "outside_host_that_would_sort_first_is_never_recommended_or_written",
        |s| {
            vec![
                Record::srv("_imaps._tcp.first.test", OUT, s.port("IMAPS_PORT"), 0, 0),
                Record::srv(
                    "_imap._tcp.first.test",
                    "mail.first.test",
                    s.port("IMAP_PORT"),
                    0,
                    0,
                ),
                Record::srv(
                    "_submissions._tcp.first.test",
                    OUT,
                    s.port("SUBMISSIONS_PORT"),
                    0,
                    0,
                ),
                Record::srv(
                    "_submission._tcp.first.test",
                    "mail.first.test",
                    s.port("SUBMISSION_PORT"),
                    0,
                    0,
                ),
                loopback(OUT),
                loopback("mail.first.test"),
            ]
        },
    ) else {
        return;
    };
    let run = e.check_without_password("demo@first.test", &[]);
    let v = run.json();
    assert_eq!(run.code, 0, "{}", run.stdout);
    for ep in run.endpoints() {
        let outside = ep["host"] == OUT;
        assert_eq!(ep["trusted"], !outside, "{ep}");
        assert_eq!(
            ep["trust_reason"],
            if outside {
                "outside-domain"
            } else {
                "in-domain"
            },
            "{ep}"
        );
        assert_eq!(
            codes(&ep).contains(&"untrusted-candidate".to_string()),
            outside,
            "{ep}"
        );
        assert_eq!(ep["login"]["status"], "skipped", "{ep}");
    }
    let rec = &v["recommended"];
    assert_eq!(rec["verified"], false);
    assert_eq!(rec["incoming"]["host"], "mail.first.test", "{rec}");
    assert_eq!(rec["incoming"]["security"], "starttls", "{rec}");
    assert_eq!(rec["outgoing"]["host"], "mail.first.test", "{rec}");
    for c in v["discovery"]["candidates"].as_array().unwrap() {
        let outside = c["endpoint"]["host"] == OUT;
        assert_eq!(c["trusted"], !outside, "{c}");
        assert_eq!(c["transport"], "dns", "{c}");
    }
    // Written from that report: only the domain's own server appears in the files.
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("report.json");
    std::fs::write(&report, &run.stdout).unwrap();
    let out = dir.path().join("out");
    let w = write_from(&report, &out, &[]);
    assert_eq!(w.code, 0, "{}\n{}", w.stdout, w.stderr);
    let files = files_in(&out);
    assert_eq!(files.len(), 2, "{files:?}");
    for (path, text) in &files {
        assert!(!text.contains(OUT), "{path}:\n{text}");
        assert!(text.contains("mail.first.test"), "{path}:\n{text}");
    }
}

/// Only an outside host works for incoming mail: nothing is recommended (a problem says why
/// and how to vouch), `write --from` refuses with exit 2 and touches nothing; vouched for with
/// `--trust-host`, it is recommended and written. A report of an older version (no trust
/// records) naming that host is refused the same way unless `write --trust-host` names it.
#[test]
fn untrusted_settings_are_never_written_without_trust_host() {
    const OUT: &str = "imap.outside.test";
    let Some(e) = E2e::start(
        "untrusted_settings_are_never_written_without_trust_host",
        |s| {
            vec![
                Record::srv("_imaps._tcp.only.test", OUT, s.port("IMAPS_PORT"), 0, 0),
                Record::srv(
                    "_submissions._tcp.only.test",
                    "smtp.only.test",
                    s.port("SUBMISSIONS_PORT"),
                    0,
                    0,
                ),
                loopback(OUT),
                loopback("smtp.only.test"),
            ]
        },
    ) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let run = e.check_without_password("demo@only.test", &[]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    let v = run.json();
    assert!(v["recommended"].is_null(), "{}", v["recommended"]);
    let problems = v["problems"].as_array().unwrap();
    let why = problems
        .iter()
        .find(|p| p["code"] == "no-trusted-server")
        .unwrap_or_else(|| panic!("{problems:?}"));
    assert!(
        why["message"]
            .as_str()
            .unwrap()
            .contains(&format!("--trust-host {OUT}")),
        "{why}"
    );
    let report = dir.path().join("untrusted.json");
    std::fs::write(&report, &run.stdout).unwrap();
    let out = dir.path().join("out-refused");
    let w = write_from(&report, &out, &[]);
    assert_eq!(w.code, 2, "{}\n{}", w.stdout, w.stderr);
    assert!(!out.exists(), "a refused write touched {}", out.display());

    // Vouched for: recommended (trust-host) and written.
    let run = e.check_without_password("demo@only.test", &["--trust-host".into(), OUT.into()]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    let v = run.json();
    assert_eq!(
        v["recommended"]["incoming"]["host"], OUT,
        "{}",
        v["recommended"]
    );
    let ep = run
        .endpoints()
        .into_iter()
        .find(|ep| ep["host"] == OUT)
        .unwrap();
    assert_eq!(
        (ep["trusted"].clone(), ep["trust_reason"].clone()),
        (true.into(), "trust-host".into())
    );
    let trusted = dir.path().join("trusted.json");
    std::fs::write(&trusted, &run.stdout).unwrap();
    let out = dir.path().join("out-vouched");
    let w = write_from(&trusted, &out, &[]);
    assert_eq!(w.code, 0, "{}\n{}", w.stdout, w.stderr);
    assert!(files_in(&out).iter().any(|(_, t)| t.contains(OUT)));

    // The same report as an older version wrote it (no trust records): refused, naming the
    // host and the flag; `write --trust-host` vouches.
    let mut old = v.clone();
    for ep in old["endpoints"].as_array_mut().unwrap() {
        let ep = ep.as_object_mut().unwrap();
        ep.remove("trusted");
        ep.remove("trust_reason");
    }
    let legacy = dir.path().join("legacy.json");
    std::fs::write(&legacy, serde_json::to_string_pretty(&old).unwrap()).unwrap();
    let out = dir.path().join("out-legacy");
    let w = write_from(&legacy, &out, &[]);
    assert_eq!(w.code, 2, "{}\n{}", w.stdout, w.stderr);
    assert!(
        w.stderr.contains(OUT) && w.stderr.contains("--trust-host"),
        "{}",
        w.stderr
    );
    assert!(!out.exists());
    let w = write_from(&legacy, &out, &["--trust-host", OUT]);
    assert_eq!(w.code, 0, "{}\n{}", w.stdout, w.stderr);
    assert!(files_in(&out).iter().any(|(_, t)| t.contains(OUT)));
}
