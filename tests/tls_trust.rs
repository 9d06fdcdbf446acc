//! Certificate trust against scripted TLS servers (issue 12, items 6 and 12):
//!
//! * A pin restricts (curl's `--pinnedpubkey`): a certificate matching a `--pin-sha256` is
//!   accepted without a CA (reported `pinned`, with the form that matched); a CA-valid
//!   certificate matching no pin is refused (`tls-pin-mismatch`) and gets no password. Both
//!   forms are taken: the certificate's SHA-256 in hex, the public key's SHA-256 in base64
//!   (RFC 7469, bare or `sha256//…`); anything else is a usage error.
//! * Which certificate problem it is: self-signed, a private CA, a missing intermediate
//!   (named, with its download URL when the certificate carries one), and certificates sent
//!   that are not part of the chain (a warning; the login still works).
//!
//! The same server with the whole chain logs in, so each refusal is the certificate's doing.
//! The missing intermediate and both pin forms are also shown against the real Dovecot of
//! scripts/mailstack (`incomplete.example.test` is served without its intermediate,
//! `chain.example.test` with it).

mod support;

use std::time::Duration;

use serde_json::Value;
use support::certs::{self_signed_leaf, Leaf, TestCa};
use support::fake::{expect_tagged, send, FakeServer, Step};
use support::run::{assert_no_secret, codes, mailsetup, Run};
use support::stack::MailStack;

const HOST: &str = "fake.example.test";
const URL: &str = "imaps://fake.example.test:993";
const USER: &str = "victim@example.test";
const CANARY: &str = "Canary-Pw-7e1f0c";

/// Implicit-TLS IMAP with `tls` that logs anyone in with AUTHENTICATE PLAIN, then records
/// everything until the client hangs up (so a password sent where it must not be is caught).
fn imaps_login(tls: std::sync::Arc<rustls::ServerConfig>) -> FakeServer {
    FakeServer::start(vec![
        Step::StartTls(tls),
        send("* OK ready\r\n"),
        expect_tagged("CAPABILITY"),
        send("* CAPABILITY IMAP4rev1 AUTH=PLAIN SASL-IR\r\n{tag} OK done\r\n"),
        expect_tagged("AUTHENTICATE PLAIN"),
        send("{tag} OK Logged in\r\n"),
        Step::ReadUntilEof,
    ])
}

/// `mailsetup check USER --server URL --json`, the canary password in the environment,
/// trusting `ca_pem` (if any); asserts the password is never printed.
fn check(s: &FakeServer, ca_pem: Option<&str>, extra: &[&str]) -> Run {
    run("check", s, ca_pem, extra)
}

fn run(cmd: &str, s: &FakeServer, ca_pem: Option<&str>, extra: &[&str]) -> Run {
    let connect_to = format!("{HOST}:993:127.0.0.1:{}", s.port);
    let ca_file = tempfile::NamedTempFile::new().unwrap();
    let ca_path = ca_file.path().to_str().unwrap().to_string();
    let mut args = vec![cmd];
    if cmd == "check" {
        args.extend([USER, "--password-env", "SECRET"]);
    }
    args.extend(["--server", URL]);
    args.extend(["--connect-to", &connect_to, "--json", "--timeout", "5"]);
    if let Some(pem) = ca_pem {
        std::fs::write(ca_file.path(), pem).unwrap();
        args.extend(["--ca-file", &ca_path]);
    }
    args.extend(extra);
    let r = mailsetup(&args, &[("SECRET", CANARY)]);
    s.wait_done(s.connections(), Duration::from_secs(5));
    assert_no_secret("stdout/stderr", r.all_output().as_bytes(), USER, CANARY);
    r
}

fn endpoint(r: &Run) -> Value {
    let eps = r.endpoints();
    assert_eq!(eps.len(), 1, "{}", r.stdout);
    eps[0].clone()
}

/// The endpoint's problem with `code`.
fn problem<'a>(ep: &'a Value, code: &str) -> &'a Value {
    ep["problems"]
        .as_array()
        .expect("problems")
        .iter()
        .find(|p| p["code"] == code)
        .unwrap_or_else(|| panic!("no {code} in {:?}", codes(ep)))
}

/// Nothing of the password reached the server, in plaintext or inside TLS.
fn assert_nothing_sent(s: &FakeServer) {
    assert_no_secret("plaintext received", &s.transcript(), USER, CANARY);
    assert_no_secret("received in TLS", &s.received_in_tls(), USER, CANARY);
    assert!(
        !String::from_utf8_lossy(&s.received_in_tls()).contains("AUTHENTICATE"),
        "{}",
        s.debug_dump()
    );
}

fn assert_logged_in(r: &Run, s: &FakeServer) -> Value {
    let ep = endpoint(r);
    assert_eq!(ep["login"]["status"], "ok", "{}", r.stdout);
    assert_eq!(r.code, 0, "{}", r.stdout);
    assert!(String::from_utf8_lossy(&s.received_in_tls()).contains("AUTHENTICATE PLAIN"));
    ep
}

// ---- A pin restricts ------------------------------------------------------------------------

#[test]
fn a_matching_pin_accepts_a_self_signed_certificate_in_every_form() {
    let leaf = self_signed_leaf(&[HOST]);
    let hex = leaf.sha256_hex();
    let colons = hex
        .as_bytes()
        .chunks(2)
        .map(|c| std::str::from_utf8(c).unwrap().to_uppercase())
        .collect::<Vec<_>>()
        .join(":");
    let spki = leaf.spki_sha256_base64();
    let other = self_signed_leaf(&[HOST]);
    let cases = [
        (hex.clone(), "certificate-sha256"),
        (colons, "certificate-sha256"),
        (spki.clone(), "spki-sha256"),
        (format!("sha256//{spki}"), "spki-sha256"),
        // curl's list form: the second pin matches.
        (
            format!("sha256//{};sha256//{spki}", other.spki_sha256_base64()),
            "spki-sha256",
        ),
    ];
    for (pin, form) in cases {
        let s = imaps_login(leaf.server_config());
        let r = check(&s, None, &["--pin-sha256", &pin]);
        let ep = assert_logged_in(&r, &s);
        let cert = &ep["tls"]["certificate"];
        assert_eq!(cert["pinned"], true, "{pin}: {cert}");
        assert_eq!(cert["pin_matched"], form, "{pin}");
        assert_eq!(cert["sha256"], hex.as_str());
        assert_eq!(cert["spki_sha256"], spki.as_str(), "the report's key pin");
        // The missing CA is reported alongside, as information.
        assert_eq!(cert["trusted"], false);
        assert_eq!(problem(&ep, "tls-pin-matched")["severity"], "info");
        assert_eq!(problem(&ep, "tls-cert-self-signed")["severity"], "info");
        assert_eq!(ep["status"], "ok", "{pin}: {:?}", codes(&ep));
    }
}

#[test]
fn a_ca_valid_certificate_matching_no_pin_is_refused_and_gets_no_password() {
    let ca = TestCa::new("pin-mismatch");
    let leaf = ca.leaf(&[HOST]);
    let stranger = self_signed_leaf(&[HOST]);
    for pin in [stranger.sha256_hex(), stranger.spki_sha256_base64()] {
        let s = imaps_login(leaf.server_config());
        let r = check(&s, Some(&ca.ca_pem()), &["--pin-sha256", &pin]);
        let ep = endpoint(&r);
        assert_eq!(r.code, 1, "{}", r.stdout);
        assert_eq!(problem(&ep, "tls-pin-mismatch")["severity"], "error");
        assert_eq!(ep["status"], "error");
        assert_eq!(ep["login"]["status"], "not-attempted", "{}", ep["login"]);
        assert_nothing_sent(&s);
        // The refused certificate is still reported in full.
        let cert = &ep["tls"]["certificate"];
        assert_eq!(cert["trusted"], true, "{cert}");
        assert_eq!(cert["hostname_match"], true);
        assert_eq!(cert["pinned"], false);
        assert_eq!(cert["pin_matched"], Value::Null);
        assert_eq!(cert["sha256"], leaf.sha256_hex().as_str());
        assert_eq!(cert["spki_sha256"], leaf.spki_sha256_base64().as_str());
        // The message gives both values the user could pin after checking them.
        let msg = problem(&ep, "tls-pin-mismatch")["message"]
            .as_str()
            .unwrap()
            .to_string();
        assert!(msg.contains(&leaf.sha256_hex()), "{msg}");
        assert!(msg.contains(&leaf.spki_sha256_base64()), "{msg}");
    }
}

#[test]
fn a_pin_of_the_ca_valid_certificate_itself_is_accepted_and_said() {
    let ca = TestCa::new("pin-same");
    let leaf = ca.leaf(&[HOST]);
    let s = imaps_login(leaf.server_config());
    let r = check(
        &s,
        Some(&ca.ca_pem()),
        &["--pin-sha256", &leaf.spki_sha256_base64()],
    );
    let ep = assert_logged_in(&r, &s);
    assert_eq!(ep["tls"]["certificate"]["pinned"], true);
    assert_eq!(ep["tls"]["certificate"]["trusted"], true);
    assert_eq!(codes(&ep), vec!["tls-pin-matched".to_string()]);
}

#[test]
fn bad_pin_values_and_pin_with_insecure_are_usage_errors() {
    let hex = "ab".repeat(32);
    for bad in [
        "abc".to_string(),
        hex[..62].to_string(),
        format!("{hex}00"),
        "sha256//not-base64!".to_string(),
        format!("sha256//{hex}"),
        format!("{hex};nonsense"),
    ] {
        let r = mailsetup(
            &["probe", "--server", URL, "--pin-sha256", &bad, "--json"],
            &[],
        );
        assert_eq!(r.code, 2, "{bad}: {}", r.all_output());
        assert!(
            r.stderr.contains("--pin-sha256")
                && r.stderr.contains("64 hex digits")
                && r.stderr.contains("RFC 7469"),
            "{bad}: {}",
            r.stderr
        );
        assert!(r.stdout.is_empty(), "{}", r.stdout);
    }
    let r = mailsetup(
        &[
            "probe",
            "--server",
            URL,
            "--pin-sha256",
            &hex,
            "--insecure",
            "--json",
        ],
        &[],
    );
    assert_eq!(r.code, 2, "{}", r.all_output());
    assert!(
        r.stderr.contains("--insecure") && r.stderr.contains("cannot be used with"),
        "{}",
        r.stderr
    );
}

// ---- Which certificate problem it is --------------------------------------------------------

/// A root trusted with --ca-file, an intermediate it signed, and a leaf the intermediate signed.
struct Pki {
    root: TestCa,
    intermediate: TestCa,
}

fn pki(name: &str) -> Pki {
    let root = TestCa::new(name);
    let intermediate = root.intermediate(name);
    Pki { root, intermediate }
}

#[test]
fn a_missing_intermediate_is_named_and_the_full_chain_works() {
    let p = pki("chain");
    let leaf = p.intermediate.leaf(&[HOST]);

    // Served without its intermediate: refused, the intermediate named, no password sent.
    let s = imaps_login(leaf.server_config());
    let r = check(&s, Some(&p.root.ca_pem()), &[]);
    let ep = endpoint(&r);
    assert_eq!(r.code, 1, "{}", r.stdout);
    let prob = problem(&ep, "tls-cert-chain-incomplete");
    assert_eq!(prob["severity"], "error");
    let msg = prob["message"].as_str().unwrap();
    assert!(msg.contains(&p.intermediate.subject()), "{msg}");
    let hint = prob["hint"].as_str().unwrap();
    assert!(hint.contains("--ca-file is not the fix"), "{hint}");
    assert!(
        !codes(&ep).contains(&"tls-cert-untrusted".to_string()),
        "{:?}",
        codes(&ep)
    );
    assert_eq!(ep["tls"]["certificate"]["issuer"], p.intermediate.subject());
    assert_eq!(ep["tls"]["certificate"]["chain"], serde_json::json!([]));
    assert_eq!(ep["login"]["status"], "not-attempted");
    assert_nothing_sent(&s);

    // The same leaf with its intermediate: trusted, logged in, nothing to report.
    let s = imaps_login(leaf.server_config_with_chain(&[p.intermediate.ca_der()]));
    let r = check(&s, Some(&p.root.ca_pem()), &[]);
    let ep = assert_logged_in(&r, &s);
    assert_eq!(ep["status"], "ok", "{:?}", codes(&ep));
    assert!(codes(&ep).is_empty(), "{:?}", codes(&ep));
    let cert = &ep["tls"]["certificate"];
    assert_eq!(cert["trusted"], true);
    assert_eq!(cert["chain"][0]["subject"], p.intermediate.subject());
    assert_eq!(cert["chain"][0]["issuer"], p.root.subject());
}

#[test]
fn a_missing_intermediate_is_found_by_its_download_url_even_without_ca_file() {
    let p = pki("aia");
    let url = "http://ca.example.test/aia-intermediate.der";
    let leaf = p.intermediate.leaf_with_ca_issuers(&[HOST], url);
    for ca in [Some(p.root.ca_pem()), None] {
        let s = imaps_login(leaf.server_config());
        let r = check(&s, ca.as_deref(), &[]);
        let ep = endpoint(&r);
        assert_eq!(r.code, 1, "{}", r.stdout);
        let msg = problem(&ep, "tls-cert-chain-incomplete")["message"]
            .as_str()
            .unwrap()
            .to_string();
        assert!(
            msg.contains(&p.intermediate.subject()) && msg.contains(url),
            "{msg}"
        );
        assert_eq!(ep["tls"]["certificate"]["ca_issuers"][0], url);
        assert_nothing_sent(&s);
    }
}

#[test]
fn a_private_ca_is_untrusted_and_a_self_signed_certificate_says_so() {
    // A leaf from a CA this run does not trust (and that gives no download URL).
    let private = TestCa::new("private");
    let s = imaps_login(private.leaf(&[HOST]).server_config());
    let r = check(&s, None, &[]);
    let ep = endpoint(&r);
    assert_eq!(r.code, 1);
    let prob = problem(&ep, "tls-cert-untrusted");
    assert_eq!(prob["severity"], "error");
    assert!(
        prob["message"]
            .as_str()
            .unwrap()
            .contains(&private.subject()),
        "{prob}"
    );
    assert!(
        !codes(&ep).contains(&"tls-cert-chain-incomplete".to_string()),
        "{:?}",
        codes(&ep)
    );
    assert_nothing_sent(&s);

    // A private root sent along: still untrusted, the root named.
    let p = pki("private-sent");
    let leaf = p.intermediate.leaf(&[HOST]);
    let s = imaps_login(leaf.server_config_with_chain(&[p.intermediate.ca_der(), p.root.ca_der()]));
    let r = check(&s, None, &[]);
    let ep = endpoint(&r);
    let prob = problem(&ep, "tls-cert-untrusted");
    assert!(
        prob["message"]
            .as_str()
            .unwrap()
            .contains(&p.root.subject()),
        "{prob}"
    );
    assert_nothing_sent(&s);

    // Self-signed: its own code, whatever --ca-file holds.
    let s = imaps_login(self_signed_leaf(&[HOST]).server_config());
    let r = check(&s, Some(&private.ca_pem()), &[]);
    let ep = endpoint(&r);
    assert_eq!(problem(&ep, "tls-cert-self-signed")["severity"], "error");
    assert_eq!(
        codes(&ep),
        vec!["tls-cert-self-signed".to_string()],
        "one reason, not two"
    );
    assert_nothing_sent(&s);
}

#[test]
fn certificates_not_in_the_chain_are_a_warning_and_the_login_works() {
    let p = pki("extra");
    let leaf = p.intermediate.leaf(&[HOST]);
    let unrelated = TestCa::new("unrelated");
    let cases: [(Vec<Vec<u8>>, &str, String); 2] = [
        (
            vec![p.intermediate.ca_der(), unrelated.ca_der()],
            "not part of its chain",
            unrelated.subject(),
        ),
        // Root before the intermediate: each certificate should be followed by its issuer.
        (
            vec![p.root.ca_der(), p.intermediate.ca_der()],
            "out of order",
            String::new(),
        ),
    ];
    for (chain, says, names) in cases {
        let s = imaps_login(leaf.server_config_with_chain(&chain));
        let r = check(&s, Some(&p.root.ca_pem()), &[]);
        let ep = assert_logged_in(&r, &s);
        assert_eq!(ep["status"], "warning", "{:?}", codes(&ep));
        assert_eq!(codes(&ep), vec!["tls-cert-chain-extra".to_string()]);
        let prob = problem(&ep, "tls-cert-chain-extra");
        assert_eq!(prob["severity"], "warning");
        let msg = prob["message"].as_str().unwrap();
        assert!(msg.contains(says) && msg.contains(&names), "{msg}");
        assert_eq!(ep["tls"]["certificate"]["trusted"], true);
    }
}

#[test]
fn probe_reports_the_chain_problem_too() {
    // Same classification without a credential in play (probe).
    let p = pki("probe-chain");
    let leaf: Leaf = p.intermediate.leaf(&[HOST]);
    let s = FakeServer::start(vec![
        Step::StartTls(leaf.server_config()),
        send("* OK ready\r\n"),
        Step::ReadUntilEof,
    ]);
    let r = run("probe", &s, Some(&p.root.ca_pem()), &[]);
    assert_eq!(r.code, 1, "{}", r.stdout);
    let ep = endpoint(&r);
    assert!(codes(&ep).contains(&"tls-cert-chain-incomplete".to_string()));
    assert!(s.received_in_tls().is_empty());
}

// ---- Against the real Dovecot ---------------------------------------------------------------

/// `mailsetup ARGS --connect-to (host's six ports → the stack) --ca-file (stack CA) --json`,
/// the stack user's password in the environment.
fn stack_run(s: &MailStack, host: &str, args: &[&str]) -> Run {
    let mut all: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    all.extend(s.connect_to_args(host));
    all.extend(["--ca-file".into(), s.get("CA_FILE").into(), "--json".into()]);
    let refs: Vec<&str> = all.iter().map(String::as_str).collect();
    let r = mailsetup(&refs, &[("PW", s.get("PASSWORD"))]);
    assert_no_secret(
        "stdout/stderr",
        r.all_output().as_bytes(),
        s.get("USER"),
        s.get("PASSWORD"),
    );
    r
}

/// `check USER` against imaps, pop3s and STARTTLS IMAP of `host`, plus `extra`.
fn stack_check(s: &MailStack, host: &str, extra: &[&str]) -> Run {
    let servers = [
        format!("imaps://{host}"),
        format!("pop3s://{host}"),
        format!("imap://{host}"),
    ];
    let mut args = vec!["check", s.get("USER"), "--password-env", "PW"];
    for url in &servers {
        args.extend(["--server", url]);
    }
    args.extend(extra);
    stack_run(s, host, &args)
}

/// Successful logins Dovecot has logged so far.
fn dovecot_logins(s: &MailStack) -> usize {
    std::fs::read_to_string(s.get("DOVECOT_LOG"))
        .unwrap_or_default()
        .matches("Login: user=<")
        .count()
}

/// The RFC 7469 pin of the first certificate in a PEM file, computed by openssl.
fn openssl_spki_pin(pem: &str) -> String {
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg(
            "openssl x509 -in \"$1\" -pubkey -noout | openssl pkey -pubin -outform der \
             | openssl dgst -sha256 -binary | openssl base64 -A",
        )
        .arg("sh")
        .arg(pem)
        .output()
        .expect("openssl");
    assert!(out.status.success(), "{out:?}");
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

#[test]
fn real_dovecot_missing_intermediate_is_named_and_the_full_chain_logs_in() {
    let Some(s) = MailStack::start("real_dovecot_missing_intermediate") else {
        return;
    };
    let incomplete = s.get("INCOMPLETE_HOST").to_string();
    let chain = s.get("CHAIN_HOST").to_string();
    let url = s.get("CA_ISSUERS_URL").to_string();
    let intermediate = "O=mailstack, CN=mailstack test intermediate CA";

    // Without the intermediate: every TLS endpoint names it and its URL; nothing logs in.
    let before = dovecot_logins(&s);
    let r = stack_check(&s, &incomplete, &[]);
    assert_eq!(r.code, 1, "{}", r.stdout);
    let eps = r.endpoints();
    assert_eq!(eps.len(), 3, "{}", r.stdout);
    for ep in &eps {
        let prob = problem(ep, "tls-cert-chain-incomplete");
        assert_eq!(prob["severity"], "error");
        let msg = prob["message"].as_str().unwrap();
        assert!(msg.contains(intermediate) && msg.contains(&url), "{msg}");
        assert!(!codes(ep).contains(&"tls-cert-untrusted".to_string()));
        assert_eq!(ep["tls"]["certificate"]["ca_issuers"][0], url.as_str());
        assert_eq!(ep["login"]["status"], "not-attempted", "{}", ep["login"]);
    }
    assert_eq!(dovecot_logins(&s), before, "{}", s.log_tail(20));

    // The same Dovecot and key with the chain: logged in everywhere, nothing to report.
    let r = stack_check(&s, &chain, &[]);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, s.log_tail(20));
    for ep in r.endpoints() {
        assert_eq!(ep["login"]["status"], "ok", "{}", ep["login"]);
        assert!(codes(&ep).is_empty(), "{:?}", codes(&ep));
        assert_eq!(
            ep["tls"]["certificate"]["chain"][0]["subject"], intermediate,
            "{}",
            ep["tls"]["certificate"]
        );
    }
}

#[test]
fn real_dovecot_pins_restrict_in_both_forms() {
    let Some(s) = MailStack::start("real_dovecot_pins_restrict") else {
        return;
    };
    let incomplete = s.get("INCOMPLETE_HOST").to_string();
    let chain_leaf = format!("{}/tls/{incomplete}.pem", s.get("STACK_DIR"));
    // The key pin as openssl computes it, in curl's form.
    let spki = openssl_spki_pin(&chain_leaf);

    // The incomplete chain is accepted through the pin (the chain is not required) ...
    let pin = format!("sha256//{spki}");
    let r = stack_check(&s, &incomplete, &["--pin-sha256", &pin]);
    assert_eq!(r.code, 0, "{}", r.stdout);
    for ep in r.endpoints() {
        assert_eq!(ep["login"]["status"], "ok", "{}", ep["login"]);
        let cert = &ep["tls"]["certificate"];
        assert_eq!(cert["pinned"], true);
        assert_eq!(cert["pin_matched"], "spki-sha256");
        assert_eq!(cert["spki_sha256"], spki.as_str());
        assert_eq!(
            problem(&ep, "tls-cert-chain-incomplete")["severity"],
            "info"
        );
    }

    // ... and the stack's CA-valid main certificate, which matches no pin, is refused.
    let before = dovecot_logins(&s);
    let r = stack_check(&s, s.get("HOST"), &["--pin-sha256", &pin]);
    assert_eq!(r.code, 1, "{}", r.stdout);
    for ep in r.endpoints() {
        assert_eq!(problem(&ep, "tls-pin-mismatch")["severity"], "error");
        assert_eq!(ep["tls"]["certificate"]["trusted"], true);
        assert_eq!(ep["login"]["status"], "not-attempted", "{}", ep["login"]);
    }
    assert_eq!(dovecot_logins(&s), before, "{}", s.log_tail(20));
}
