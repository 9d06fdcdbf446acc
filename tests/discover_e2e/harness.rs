//! The end-to-end harness: the real mail stack, a dnsmasq for the test domain (records built
//! from the stack's ports), a throwaway CA for the HTTP(S) autoconfig servers, and
//! `mailsetup check EMAIL` (no `--server`) run against all of it.
//!
//! Every run gets `--dns-server` (dnsmasq answers only `.test` names, all with loopback
//! addresses, and refuses the rest), so no lookup or connection ever leaves 127.0.0.0/8.
//! The online ISPDB host is also mapped to a closed loopback port, belt and braces.

use std::net::TcpListener;
use std::path::PathBuf;

use base64::Engine as _;
use serde_json::Value;

use super::support::certs::TestCa;
use super::support::dns::{Record, TestDns};
use super::support::run::{assert_no_secret, codes, mailsetup, Run};
use super::support::stack::MailStack;

pub const CONFIG_PATH: &str = "/mail/config-v1.1.xml";
pub const WELLKNOWN_PATH: &str = "/.well-known/autoconfig/mail/config-v1.1.xml";
pub const AD_PATH: &str = "/autodiscover/autodiscover.xml";
/// The variable the password is passed in (never argv).
pub const PW_VAR: &str = "MAILSETUP_E2E_PASSWORD";

/// One scenario's world. Dropped in reverse order: DNS first, then the stack.
pub struct E2e {
    pub dns: TestDns,
    pub stack: MailStack,
    /// CA for the test's HTTPS servers (and fake mail servers), trusted with `--ca-file`.
    pub ca: TestCa,
    ca_file: PathBuf,
    /// SHA-256 of the stack's leaf (valid for mail.example.test and 127.0.0.1 only): pinned,
    /// so candidates with other host names can be logged into.
    pub pin: String,
    /// A loopback port where nothing listens (connections are refused at once).
    pub closed_port: u16,
    _dir: tempfile::TempDir,
}

impl E2e {
    /// Starts the stack, then dnsmasq with `records(&stack)`. `None` (after a loud notice)
    /// when the stack or dnsmasq cannot run here; `MAILSETUP_REQUIRE_STACK=1` panics instead.
    pub fn start(name: &str, records: impl FnOnce(&MailStack) -> Vec<Record>) -> Option<E2e> {
        let stack = MailStack::start(name)?;
        let dns = TestDns::start(&records(&stack))?;
        let ca = TestCa::new(name);
        let dir = tempfile::tempdir().expect("tempdir");
        let ca_file = ca.write_ca_pem(dir.path());
        let pin = leaf_sha256(stack.get("CERT_FILE"));
        Some(E2e {
            dns,
            stack,
            ca,
            ca_file,
            pin,
            closed_port: closed_port(),
            _dir: dir,
        })
    }

    /// A stack port by `stack.env` key (`IMAPS_PORT`, ...).
    pub fn port(&self, key: &str) -> u16 {
        self.stack.port(key)
    }

    /// `--connect-to HOST:PORT:127.0.0.1:<stack port KEY>`.
    pub fn to_stack(&self, host: &str, port: u16, key: &str) -> [String; 2] {
        [
            "--connect-to".into(),
            format!("{host}:{port}:127.0.0.1:{}", self.port(key)),
        ]
    }

    pub fn password(&self) -> &str {
        self.stack.get("PASSWORD")
    }

    /// The stack's main Dovecot log.
    pub fn stack_log(&self) -> &str {
        self.stack.get("DOVECOT_LOG")
    }

    pub fn user(&self) -> &str {
        self.stack.get("USER")
    }

    /// `mailsetup check EMAIL --json` with discovery, the password in the environment, both
    /// CAs trusted, the stack's leaf pinned, and `extra` arguments.
    pub fn check(&self, email: &str, extra: &[String]) -> Run {
        self.check_as(email, extra, "json", true)
    }

    /// As [`E2e::check`], with the human output.
    pub fn check_human(&self, email: &str, extra: &[String]) -> Run {
        self.check_as(email, extra, "human", true)
    }

    /// As [`E2e::check`], without any password (probing only, as a helpdesk might first run).
    pub fn check_without_password(&self, email: &str, extra: &[String]) -> Run {
        self.check_as(email, extra, "json", false)
    }

    fn check_as(&self, email: &str, extra: &[String], format: &str, password: bool) -> Run {
        let mut args: Vec<String> =
            vec!["check".into(), email.into(), format!("--format={format}")];
        if password {
            args.extend(["--password-env".into(), PW_VAR.into()]);
        }
        args.extend([
            "--dns-server".into(),
            self.dns.addr().to_string(),
            "--ca-file".into(),
            self.stack.get("CA_FILE").into(),
            "--ca-file".into(),
            self.ca_file.to_str().expect("utf-8 path").into(),
            "--pin-sha256".into(),
            self.pin.clone(),
            "--connect-to".into(),
            format!(
                "autoconfig.thunderbird.net:443:127.0.0.1:{}",
                self.closed_port
            ),
            "--timeout".into(),
            "25".into(),
        ]);
        args.extend(extra.iter().cloned());
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        let run = mailsetup(&refs, &[(PW_VAR, self.password())]);
        assert_no_secret(
            "mailsetup output",
            run.all_output().as_bytes(),
            self.user(),
            self.password(),
        );
        run
    }
}

/// What one scenario must show: every candidate and every successful lookup came from
/// `source`, the checked endpoints are exactly `urls` (each logged into), and `recommended`
/// names `incoming` / `outgoing` (URLs) with `username`.
pub struct Expect<'a> {
    pub source: &'a str,
    pub urls: Vec<String>,
    pub incoming: String,
    pub outgoing: String,
    pub username: &'a str,
    /// `(source, target)` lookups of other sources that may also succeed, each with a reason
    /// in the test (candidates from them must still be dropped).
    pub also_found: &'a [(&'a str, &'a str)],
}

/// Asserts a discovered-and-verified check report; returns the report for more checks.
pub fn assert_verified(run: &Run, want: &Expect<'_>) -> Value {
    let context = || {
        format!(
            "exit {}\nstdout:\n{}\nstderr:\n{}",
            run.code, run.stdout, run.stderr
        )
    };
    assert_eq!(run.code, 0, "{}", context());
    let v = run.json();
    let d = &v["discovery"];
    assert!(d.is_object(), "no discovery in the report: {}", context());

    // Found only by this source: every lookup that found something, every candidate.
    let found: Vec<(String, String)> = d["attempts"]
        .as_array()
        .expect("attempts")
        .iter()
        .filter(|a| a["result"] == "found")
        .map(|a| (str_of(&a["source"]), str_of(&a["target"])))
        .collect();
    assert!(!found.is_empty(), "nothing found: {}", context());
    let others: Vec<&(String, String)> = found
        .iter()
        .filter(|(s, t)| s != want.source && !want.also_found.contains(&(s.as_str(), t.as_str())))
        .collect();
    assert!(
        others.is_empty(),
        "other sources found something too: {others:?}"
    );
    for c in d["candidates"].as_array().expect("candidates") {
        assert_eq!(c["source"], want.source, "candidate {c}");
        assert_eq!(c["trusted"], true, "candidate {c}");
    }

    // Every candidate endpoint was checked, and logged into.
    let eps = run.endpoints();
    let mut got: Vec<String> = eps.iter().map(|e| str_of(&e["url"])).collect();
    let mut urls = want.urls.clone();
    got.sort();
    urls.sort();
    assert_eq!(got, urls, "{}", context());
    for e in &eps {
        let url = str_of(&e["url"]);
        assert_eq!(e["source"], want.source, "{url}");
        assert_eq!(e["status"], "ok", "{url}: {e}");
        assert_eq!(e["login"]["status"], "ok", "{url}: {}", e["login"]);
        assert_eq!(e["login"]["username"], want.username, "{url}");
        // Names other than the stack's own are accepted through the pin, and say so.
        if e["host"] != "mail.example.test" {
            assert!(
                codes(e).contains(&"tls-pin-matched".to_string()),
                "{url}: {:?}",
                codes(e)
            );
        }
    }

    let rec = &v["recommended"];
    assert_eq!(rec["verified"], true, "recommended: {rec}");
    assert_eq!(
        url_of(&rec["incoming"]),
        want.incoming,
        "recommended: {rec}"
    );
    assert_eq!(
        url_of(&rec["outgoing"]),
        want.outgoing,
        "recommended: {rec}"
    );
    assert_eq!(rec["incoming"]["username"], want.username);
    assert_eq!(rec["outgoing"]["username"], want.username);
    v
}

/// The discovery attempts of one source.
pub fn attempts_of<'a>(v: &'a Value, source: &str) -> Vec<&'a Value> {
    v["discovery"]["attempts"]
        .as_array()
        .expect("attempts")
        .iter()
        .filter(|a| a["source"] == source)
        .collect()
}

pub fn str_of(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_string()
}

/// The URL of a RECOMMENDED server object (`protocol`, `host`, `port`, `security`).
pub fn url_of(server: &Value) -> String {
    let scheme = match (server["protocol"].as_str(), server["security"].as_str()) {
        (Some("imap"), Some("tls")) => "imaps",
        (Some("imap"), Some("starttls")) => "imap",
        (Some("pop3"), Some("tls")) => "pop3s",
        (Some("pop3"), Some("starttls")) => "pop3",
        (Some("smtp"), Some("tls")) => "smtps",
        (Some("smtp"), Some("starttls")) => "smtp",
        _ => return format!("unexpected server object {server}"),
    };
    format!("{scheme}://{}:{}", str_of(&server["host"]), server["port"])
}

/// SHA-256 (lowercase hex) of the first certificate in a PEM file.
pub fn leaf_sha256(pem_path: &str) -> String {
    let pem = std::fs::read_to_string(pem_path).unwrap_or_else(|e| panic!("{pem_path}: {e}"));
    let b64: String = pem
        .lines()
        .skip_while(|l| !l.starts_with("-----BEGIN CERTIFICATE-----"))
        .skip(1)
        .take_while(|l| !l.starts_with("-----END"))
        .collect();
    let der = base64::engine::general_purpose::STANDARD
        .decode(b64.trim())
        .expect("PEM body");
    ring::digest::digest(&ring::digest::SHA256, &der)
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A loopback port nothing listens on (bound, then released).
pub fn closed_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

/// A config-v1.1 file: one incoming and one outgoing server, `%EMAILLOCALPART%@example.test`
/// as the user name (the stack knows only example.test users), so the test also proves the
/// discovered user name is the one logged in with.
pub fn config_xml(
    domain: &str,
    incoming: (&str, &str, u16, &str),
    outgoing: (&str, u16, &str),
) -> String {
    let (kind, in_host, in_port, in_sock) = incoming;
    let (out_host, out_port, out_sock) = outgoing;
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<clientConfig version="1.1"><emailProvider id="{domain}"><domain>{domain}</domain>
<displayName>{domain} mail</displayName>
<incomingServer type="{kind}"><hostname>{in_host}</hostname><port>{in_port}</port><socketType>{in_sock}</socketType>
<username>%EMAILLOCALPART%@example.test</username><authentication>password-cleartext</authentication></incomingServer>
<outgoingServer type="smtp"><hostname>{out_host}</hostname><port>{out_port}</port><socketType>{out_sock}</socketType>
<username>%EMAILLOCALPART%@example.test</username><authentication>password-cleartext</authentication></outgoingServer>
</emailProvider></clientConfig>"#
    )
}

/// An Autodiscover POX settings answer: `(type, host, port)` per server, each with
/// `<LoginName>login</LoginName>` and SSL on (the kind of TLS follows from the port).
pub fn pox_settings(servers: &[(&str, &str, u16)], login: &str) -> String {
    let protocols: String = servers
        .iter()
        .map(|(kind, host, port)| {
            format!(
                "<Protocol><Type>{kind}</Type><Server>{host}</Server><Port>{port}</Port>\
                 <LoginName>{login}</LoginName><SPA>off</SPA><SSL>on</SSL>\
                 <AuthRequired>on</AuthRequired></Protocol>"
            )
        })
        .collect();
    format!(
        "<?xml version=\"1.0\"?><Autodiscover xmlns=\"http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006\">\
         <Response xmlns=\"http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a\">\
         <Account><AccountType>email</AccountType><Action>settings</Action>{protocols}</Account>\
         </Response></Autodiscover>"
    )
}

/// An A record to 127.0.0.1.
pub fn loopback(name: &str) -> Record {
    Record::a(name, "127.0.0.1")
}
