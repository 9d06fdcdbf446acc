//! Discovery end to end: `mailsetup check EMAIL` WITHOUT `--server`, one test domain per
//! source, each found ONLY by that source (dnsmasq for A/MX/SRV, local HTTP(S) servers for
//! autoconfig and Autodiscover) and then verified with a real login into the local mail stack
//! (Dovecot + Postfix). Host names other than the stack's own are accepted by pinning the
//! stack's leaf (`--pin-sha256`), reported as `tls-pin-matched`.
//!
//! Also: `discover --offline` inside a network namespace without network (offline.rs), and an
//! SRV target outside the address's domain that never receives credentials (untrusted.rs).
//!
//! Nothing here touches an address outside 127.0.0.0/8: dnsmasq answers only `.test` names,
//! with loopback addresses, and every other host is mapped with `--connect-to`.

mod support;

#[path = "discover_e2e/harness.rs"]
mod harness;
#[path = "discover_e2e/offline.rs"]
mod offline;
#[path = "discover_e2e/progressive.rs"]
mod progressive;
#[path = "discover_e2e/untrusted.rs"]
mod untrusted;

use harness::{
    assert_verified, attempts_of, config_xml, loopback, pox_settings, str_of, url_of, E2e, Expect,
    AD_PATH, CONFIG_PATH, WELLKNOWN_PATH,
};
use support::dns::Record;
use support::http::{route, HttpServer, Reply};
use support::run::{assert_no_secret, codes};

/// `--connect-to HOST:PORT:127.0.0.1:TARGET`.
fn map(host: &str, port: u16, target: u16) -> [String; 2] {
    [
        "--connect-to".into(),
        format!("{host}:{port}:127.0.0.1:{target}"),
    ]
}

fn args<const N: usize>(groups: [[String; 2]; N]) -> Vec<String> {
    groups.into_iter().flatten().collect()
}

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

#[test]
fn isp_autoconfig_over_https_then_real_login() {
    let Some(e) = E2e::start("isp_autoconfig_over_https_then_real_login", |_| vec![]) else {
        return;
    };
    let xml = config_xml(
        "acfg.test",
        ("imap", "in.acfg.test", 993, "SSL"),
        ("out.acfg.test", 465, "SSL"),
    );
    // HTTPS with a certificate from the test CA, trusted through --ca-file.
    let web = HttpServer::https(
        e.ca.leaf(&["autoconfig.acfg.test"]).server_config(),
        vec![route("autoconfig.acfg.test", CONFIG_PATH, Reply::xml(&xml))],
    );
    let run = e.check(
        "demo@acfg.test",
        &args([
            map("autoconfig.acfg.test", 443, web.port()),
            e.to_stack("in.acfg.test", 993, "IMAPS_PORT"),
            e.to_stack("out.acfg.test", 465, "SUBMISSIONS_PORT"),
        ]),
    );
    let v = assert_verified(
        &run,
        &Expect {
            source: "autoconfig",
            urls: strings(&["imaps://in.acfg.test:993", "smtps://out.acfg.test:465"]),
            incoming: "imaps://in.acfg.test:993".into(),
            outgoing: "smtps://out.acfg.test:465".into(),
            // From the file's %EMAILLOCALPART%@example.test: the discovered form was used.
            username: "demo@example.test",
            also_found: &[],
        },
    );
    let ac = attempts_of(&v, "autoconfig");
    assert_eq!(ac.len(), 1, "http is not tried once https answered: {ac:?}");
    assert_eq!(
        ac[0]["target"],
        "https://autoconfig.acfg.test/mail/config-v1.1.xml?emailaddress=demo%40acfg.test"
    );
    assert_eq!(v["discovery"]["provider"], "acfg.test mail");
    let reqs = web.requests();
    assert_eq!(reqs.len(), 1, "{reqs:#?}");
    assert!(reqs[0].tls && reqs[0].method == "GET");
    assert!(reqs[0].header("authorization").is_none());
    assert_no_secret(
        "autoconfig request",
        format!("{reqs:?}").as_bytes(),
        e.user(),
        e.password(),
    );
}

#[test]
fn wellknown_over_the_http_fallback_then_real_login() {
    let Some(e) = E2e::start(
        "wellknown_over_the_http_fallback_then_real_login",
        |_| vec![],
    ) else {
        return;
    };
    let xml = config_xml(
        "wk.test",
        ("imap", "in.wk.test", 143, "STARTTLS"),
        ("out.wk.test", 587, "STARTTLS"),
    );
    // Nothing listens for https://wk.test (refused): the plain-http fallback answers.
    let web = HttpServer::http(vec![route("wk.test", WELLKNOWN_PATH, Reply::xml(&xml))]);
    let run = e.check(
        "demo@wk.test",
        &args([
            map("wk.test", 443, e.closed_port),
            map("wk.test", 80, web.port()),
            e.to_stack("in.wk.test", 143, "IMAP_PORT"),
            e.to_stack("out.wk.test", 587, "SUBMISSION_PORT"),
        ]),
    );
    let v = assert_verified(
        &run,
        &Expect {
            source: "autoconfig-wellknown",
            urls: strings(&["imap://in.wk.test:143", "smtp://out.wk.test:587"]),
            incoming: "imap://in.wk.test:143".into(),
            outgoing: "smtp://out.wk.test:587".into(),
            username: "demo@example.test",
            // .well-known lives on the bare domain, so that host must be reachable, and
            // guessing counts it; guesses are dropped once another source found servers.
            also_found: &[("guess", "wk.test")],
        },
    );
    let wk = attempts_of(&v, "autoconfig-wellknown");
    let summary: Vec<(String, String)> = wk
        .iter()
        .map(|a| (str_of(&a["target"]), str_of(&a["result"])))
        .collect();
    assert_eq!(
        summary,
        [
            (
                "https://wk.test/.well-known/autoconfig/mail/config-v1.1.xml?emailaddress=demo%40wk.test".to_string(),
                "error".to_string()
            ),
            (
                "http://wk.test/.well-known/autoconfig/mail/config-v1.1.xml?emailaddress=demo%40wk.test".to_string(),
                "found".to_string()
            ),
        ]
    );
    let reqs = web.requests();
    assert_eq!(reqs.len(), 1, "{reqs:#?}");
    assert!(!reqs[0].tls && reqs[0].path() == WELLKNOWN_PATH);
}

#[test]
fn srv_records_then_real_login() {
    let Some(e) = E2e::start("srv_records_then_real_login", |s| {
        let mut r = vec![loopback("box.srv.test")];
        for (label, key) in [
            ("_imaps", "IMAPS_PORT"),
            ("_imap", "IMAP_PORT"),
            ("_pop3s", "POP3S_PORT"),
            ("_pop3", "POP3_PORT"),
            ("_submissions", "SUBMISSIONS_PORT"),
            ("_submission", "SUBMISSION_PORT"),
        ] {
            let name = format!("{label}._tcp.srv.test");
            r.push(Record::srv(&name, "box.srv.test", s.port(key), 0, 0));
        }
        r
    }) else {
        return;
    };
    // RFC 6186: the user name is the address; the stack knows demo@example.test only.
    let run = e.check(
        "demo@srv.test",
        &strings(&["--username", "demo@example.test"]),
    );
    let url = |scheme: &str, key: &str| format!("{scheme}://box.srv.test:{}", e.port(key));
    assert_verified(
        &run,
        &Expect {
            source: "srv",
            urls: vec![
                url("imaps", "IMAPS_PORT"),
                url("imap", "IMAP_PORT"),
                url("pop3s", "POP3S_PORT"),
                url("pop3", "POP3_PORT"),
                url("smtps", "SUBMISSIONS_PORT"),
                url("smtp", "SUBMISSION_PORT"),
            ],
            incoming: url("imaps", "IMAPS_PORT"),
            outgoing: url("smtps", "SUBMISSIONS_PORT"),
            username: "demo@example.test",
            also_found: &[],
        },
    );
}

#[test]
fn mx_host_to_builtin_db_then_real_login() {
    // A customer domain hosted by Microsoft 365: MX <tenant>.mail.protection.outlook.com,
    // which the built-in DB maps to Microsoft's servers; those are mapped to the stack.
    let Some(e) = E2e::start("mx_host_to_builtin_db_then_real_login", |_| {
        vec![Record::mx(
            "mxdb.test",
            "mxdb-test.mail.protection.outlook.com",
            10,
        )]
    }) else {
        return;
    };
    let mut extra = args([
        e.to_stack("outlook.office365.com", 993, "IMAPS_PORT"),
        e.to_stack("outlook.office365.com", 995, "POP3S_PORT"),
        e.to_stack("smtp.office365.com", 587, "SUBMISSION_PORT"),
    ]);
    extra.extend(strings(&["--username", "demo@example.test"]));
    // An MX record is no proof of who hosts the domain: without the user's confirmation the
    // provider's servers are probed but get no password and are not recommended.
    let unconfirmed = e.check("demo@mxdb.test", &extra);
    assert_eq!(unconfirmed.code, 1, "{}", unconfirmed.stdout);
    let u = unconfirmed.json();
    for ep in unconfirmed.endpoints() {
        assert_eq!(ep["trusted"], false, "{ep}");
        assert_eq!(ep["trust_reason"], "mx-unconfirmed", "{ep}");
        assert_eq!(ep["login"]["status"], "not-attempted", "{ep}");
        assert!(
            codes(&ep).contains(&"untrusted-candidate".to_string()),
            "{ep}"
        );
    }
    assert!(u["recommended"].is_null(), "{}", u["recommended"]);
    assert!(
        codes(&u).contains(&"no-trusted-server".to_string()),
        "{}",
        u["problems"]
    );
    for c in u["discovery"]["candidates"].as_array().unwrap() {
        assert_eq!(c["mx_host"], "mxdb-test.mail.protection.outlook.com", "{c}");
        assert_eq!(c["trusted"], false, "{c}");
    }
    let log = std::fs::read_to_string(e.stack_log()).unwrap();
    assert!(!log.contains("Login: user="), "a login happened:\n{log}");

    // Confirmed (--trust-mx, as the wizard's question does): verified end to end.
    extra.push("--trust-mx".into());
    let run = e.check("demo@mxdb.test", &extra);
    let v = assert_verified(
        &run,
        &Expect {
            source: "mx-builtin-db",
            urls: strings(&[
                "imaps://outlook.office365.com:993",
                "pop3s://outlook.office365.com:995",
                "smtp://smtp.office365.com:587",
            ]),
            incoming: "imaps://outlook.office365.com:993".into(),
            outgoing: "smtp://smtp.office365.com:587".into(),
            username: "demo@example.test",
            also_found: &[],
        },
    );
    assert_eq!(v["discovery"]["provider"], "Microsoft 365");
    let mx: Vec<String> = attempts_of(&v, "mx-builtin-db")
        .iter()
        .map(|a| format!("{} {}", str_of(&a["target"]), str_of(&a["result"])))
        .collect();
    assert_eq!(
        mx,
        ["MX mxdb.test found", "mail.protection.outlook.com found"],
        "the MX host minus its first label is in the DB"
    );
}

#[test]
fn autodiscover_then_real_login() {
    let Some(e) = E2e::start("autodiscover_then_real_login", |_| vec![]) else {
        return;
    };
    let pox = pox_settings(
        &[
            ("IMAP", "in.ad.test", 993),
            ("POP3", "in.ad.test", 995),
            ("SMTP", "out.ad.test", 465),
        ],
        "demo@example.test",
    );
    let web = HttpServer::https(
        e.ca.leaf(&["autodiscover.ad.test"]).server_config(),
        vec![route("autodiscover.ad.test", AD_PATH, Reply::xml(&pox))],
    );
    let run = e.check(
        "demo@ad.test",
        &args([
            map("autodiscover.ad.test", 443, web.port()),
            e.to_stack("in.ad.test", 993, "IMAPS_PORT"),
            e.to_stack("in.ad.test", 995, "POP3S_PORT"),
            e.to_stack("out.ad.test", 465, "SUBMISSIONS_PORT"),
        ]),
    );
    assert_verified(
        &run,
        &Expect {
            source: "autodiscover",
            urls: strings(&[
                "imaps://in.ad.test:993",
                "pop3s://in.ad.test:995",
                "smtps://out.ad.test:465",
            ]),
            incoming: "imaps://in.ad.test:993".into(),
            outgoing: "smtps://out.ad.test:465".into(),
            // <LoginName> from the answer.
            username: "demo@example.test",
            also_found: &[],
        },
    );
    let reqs = web.requests();
    assert_eq!(reqs.len(), 1, "{reqs:#?}");
    assert_eq!((reqs[0].method.as_str(), reqs[0].tls), ("POST", true));
    let body = String::from_utf8_lossy(&reqs[0].body);
    assert!(
        body.contains("<EMailAddress>demo@ad.test</EMailAddress>"),
        "{body}"
    );
    assert!(reqs[0].header("authorization").is_none());
    assert_no_secret(
        "Autodiscover request",
        format!("{reqs:?}").as_bytes(),
        e.user(),
        e.password(),
    );
}

#[test]
fn guessed_hosts_then_real_login() {
    let Some(e) = E2e::start("guessed_hosts_then_real_login", |_| {
        vec![loopback("imap.guess.test"), loopback("smtp.guess.test")]
    }) else {
        return;
    };
    // Standard ports to the stack's ports; the host is kept, so connections resolve it
    // through dnsmasq (127.0.0.1).
    let keep = |host: &str, port: u16, key: &str| -> [String; 2] {
        [
            "--connect-to".into(),
            format!("{host}:{port}::{}", e.port(key)),
        ]
    };
    let mut extra = args([
        keep("imap.guess.test", 993, "IMAPS_PORT"),
        keep("imap.guess.test", 143, "IMAP_PORT"),
        keep("smtp.guess.test", 465, "SUBMISSIONS_PORT"),
        keep("smtp.guess.test", 587, "SUBMISSION_PORT"),
    ]);
    extra.extend(strings(&["--username", "demo@example.test"]));
    let run = e.check("demo@guess.test", &extra);
    let v = assert_verified(
        &run,
        &Expect {
            source: "guess",
            urls: strings(&[
                "imaps://imap.guess.test:993",
                "imap://imap.guess.test:143",
                "smtps://smtp.guess.test:465",
                "smtp://smtp.guess.test:587",
            ]),
            incoming: "imaps://imap.guess.test:993".into(),
            outgoing: "smtps://smtp.guess.test:465".into(),
            username: "demo@example.test",
            also_found: &[],
        },
    );
    let mut found: Vec<String> = attempts_of(&v, "guess")
        .iter()
        .filter(|a| a["result"] == "found")
        .map(|a| str_of(&a["target"]))
        .collect();
    found.sort();
    assert_eq!(found, ["imap.guess.test", "smtp.guess.test"]);
    assert_eq!(attempts_of(&v, "guess").len(), 6, "Thunderbird's six hosts");
}

/// The provider page's shape (SMTP on 465 only, nothing on the other standard ports), found
/// by guessing: the ports where nothing listens are `not-offered`, not errors, and the working
/// account exits 0; `--strict` (monitoring a server) counts them and fails.
#[test]
fn guessed_host_with_only_implicit_tls_is_a_working_account() {
    let Some(e) = E2e::start(
        "guessed_host_with_only_implicit_tls_is_a_working_account",
        |_| vec![loopback("mail.only-tls.test")],
    ) else {
        return;
    };
    let host = "mail.only-tls.test";
    let keep = |port: u16, target: u16| -> [String; 2] {
        ["--connect-to".into(), format!("{host}:{port}::{target}")]
    };
    let mut extra = args([
        keep(993, e.port("IMAPS_PORT")),
        keep(465, e.port("SUBMISSIONS_PORT")),
        keep(143, e.closed_port),
        keep(995, e.closed_port),
        keep(110, e.closed_port),
        keep(587, e.closed_port),
    ]);
    extra.extend(strings(&["--username", "demo@example.test"]));
    let run = e.check("demo@only-tls.test", &extra);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let v = run.json();
    let eps = run.endpoints();
    assert_eq!(eps.len(), 6, "{}", run.stdout);
    for ep in &eps {
        let url = str_of(&ep["url"]);
        let works = url == format!("imaps://{host}:993") || url == format!("smtps://{host}:465");
        if works {
            assert_eq!(ep["status"], "ok", "{ep}");
            assert_eq!(ep["login"]["status"], "ok", "{ep}");
        } else {
            assert_eq!(ep["status"], "not-offered", "{ep}");
            let problems = ep["problems"].as_array().unwrap();
            assert_eq!(problems.len(), 1, "{ep}");
            assert_eq!(problems[0]["code"], "not-offered");
            assert_eq!(problems[0]["severity"], "info");
        }
    }
    assert_eq!(
        url_of(&v["recommended"]["incoming"]),
        format!("imaps://{host}:993")
    );
    assert_eq!(
        url_of(&v["recommended"]["outgoing"]),
        format!("smtps://{host}:465")
    );

    // Human output: the refused ports collapse into one line.
    let h = e.check_human("demo@only-tls.test", &extra);
    assert_eq!(h.code, 0, "{}", h.stdout);
    assert!(
        h.stdout.contains(&format!(
            "Not offered (nothing listens there): imap://{host}:143, pop3s://{host}:995, pop3://{host}:110, smtp://{host}:587"
        )),
        "{}",
        h.stdout
    );
    assert!(!h.stdout.contains("connect-refused"), "{}", h.stdout);

    // --strict: every endpoint counts.
    let mut strict = extra.clone();
    strict.push("--strict".into());
    let s = e.check("demo@only-tls.test", &strict);
    assert_eq!(s.code, 1, "{}", s.stdout);
    let refused = s
        .endpoints()
        .iter()
        .filter(|ep| codes(ep).contains(&"connect-refused".to_string()))
        .count();
    assert_eq!(refused, 4, "{}", s.stdout);
}

/// Plaintext stays explicit: `--allow-plaintext-login` never applies to a discovered endpoint
/// (here an autoconfig file, fetched over HTTPS, listing IMAP without TLS inside the domain).
#[test]
fn allow_plaintext_login_never_applies_to_discovered_endpoints() {
    let Some(e) = E2e::start(
        "allow_plaintext_login_never_applies_to_discovered_endpoints",
        |_| vec![],
    ) else {
        return;
    };
    let xml = config_xml(
        "plainin.test",
        ("imap", "in.plainin.test", 143, "plain"),
        ("out.plainin.test", 465, "SSL"),
    );
    let web = HttpServer::https(
        e.ca.leaf(&["autoconfig.plainin.test"]).server_config(),
        vec![route(
            "autoconfig.plainin.test",
            CONFIG_PATH,
            Reply::xml(&xml),
        )],
    );
    let run = e.check(
        "demo@plainin.test",
        &args([
            map("autoconfig.plainin.test", 443, web.port()),
            e.to_stack("in.plainin.test", 143, "IMAP_PORT"),
            e.to_stack("out.plainin.test", 465, "SUBMISSIONS_PORT"),
            [
                "--allow-plaintext-login".into(),
                "--username=demo@example.test".into(),
            ],
        ]),
    );
    let eps = run.endpoints();
    let plain = eps
        .iter()
        .find(|ep| ep["url"] == "imap+plain://in.plainin.test:143")
        .unwrap_or_else(|| panic!("{}", run.stdout));
    assert_eq!(plain["named"], false);
    assert_eq!(plain["login"]["status"], "not-attempted", "{plain}");
    assert!(
        codes(plain).contains(&"plaintext-login-refused".to_string()),
        "{plain}"
    );
    let log = std::fs::read_to_string(e.stack_log()).unwrap();
    assert!(
        !log.lines()
            .any(|l| l.contains("imap-login") && l.contains("Login: user=")),
        "an IMAP login happened:\n{log}"
    );
}

/// Plaintext stays explicit: even for a named `+plain` endpoint with the user's consent, the
/// password goes there only when no TLS endpoint of the same protocol works.
#[test]
fn plain_endpoint_gets_no_password_when_tls_works_for_its_protocol() {
    let Some(e) = E2e::start(
        "plain_endpoint_gets_no_password_when_tls_works_for_its_protocol",
        |_| vec![],
    ) else {
        return;
    };
    let servers = [
        format!("imaps://mail.example.test:{}", e.port("IMAPS_PORT")),
        format!("imap+plain://mail.example.test:{}", e.port("IMAP_PORT")),
        format!("smtps://mail.example.test:{}", e.port("SUBMISSIONS_PORT")),
    ];
    let mut extra: Vec<String> = vec!["--allow-plaintext-login".into()];
    for s in &servers {
        extra.extend(["--server".into(), s.clone()]);
        let port = s.rsplit(':').next().unwrap();
        extra.extend([
            "--connect-to".into(),
            format!("mail.example.test:{port}:127.0.0.1:{port}"),
        ]);
    }
    let run = e.check("demo@example.test", &extra);
    assert_eq!(run.code, 0, "{}", run.stdout);
    let eps = run.endpoints();
    let by = |url: &str| eps.iter().find(|ep| ep["url"] == url).unwrap().clone();
    assert_eq!(by(&servers[0])["login"]["status"], "ok");
    let plain = by(&servers[1]);
    assert_eq!(plain["login"]["status"], "not-attempted", "{plain}");
    assert!(
        plain["login"]["message"]
            .as_str()
            .unwrap()
            .contains("works over TLS"),
        "{plain}"
    );
    // Dovecot logged exactly one IMAP login, and it was inside TLS.
    let log = std::fs::read_to_string(e.stack_log()).unwrap();
    let logins: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("imap-login") && l.contains("Login: user="))
        .collect();
    assert_eq!(logins.len(), 1, "{log}");
    assert!(logins[0].contains("TLS"), "{log}");
}
