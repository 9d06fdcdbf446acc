//! Hostile discovery answers are bounded (issue 12, items 9 and 11), end to end through the
//! real binary: dnsmasq for DNS (`.test` only, everything else refused), local HTTP(S) servers
//! for autoconfig and Autodiscover, `--connect-to` for the rest, nothing beyond 127.0.0.0/8.
//!
//! - Tens of thousands of servers across the sources: at most 16 per lookup and 64 per run
//!   reach the report and the probes (a listener counts the connections), every drop is
//!   counted (`dropped` per attempt and per run) and named (`discovery-candidates-dropped`);
//!   the 20,000-server file itself exceeds the document bounds and is refused by name.
//!   Peak memory stays under 64 MB (measured with /usr/bin/time, as tests/resource_limits.rs).
//! - An autoconfig file just under the body cap whose one start tag carries ~95,000
//!   attributes (once 13 s of CPU, RUSTSEC-2026-0194), and the same for Autodiscover:
//!   `discover --timeout 5` returns within 6 s with `discovery-document-refused`.

mod support;

use std::io::Write as _;
use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;
use support::certs::TestCa;
use support::dns::{Record, TestDns};
use support::http::{route, HttpServer, Reply};
use support::run::codes;

const CONFIG_PATH: &str = "/mail/config-v1.1.xml";
const WELLKNOWN_PATH: &str = "/.well-known/autoconfig/mail/config-v1.1.xml";
const AD_PATH: &str = "/autodiscover/autodiscover.xml";
/// The HTTP body cap (src/discover/net.rs) and XML input cap (src/discover/xml.rs).
const BODY_CAP: usize = 1024 * 1024;
const LIMIT_KB: u64 = 64 * 1024;
const PER_LOOKUP: usize = 16;
const PER_RUN: usize = 64;

/// A loopback port where nothing listens (connections are refused at once).
fn closed_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A loopback listener that accepts and closes every connection, counting them.
struct CountingListener {
    port: u16,
    count: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl CountingListener {
    fn start() -> CountingListener {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.set_nonblocking(true).unwrap();
        let port = l.local_addr().unwrap().port();
        let count = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (c, s) = (count.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            while !s.load(Ordering::SeqCst) {
                match l.accept() {
                    Ok((conn, _)) => {
                        c.fetch_add(1, Ordering::SeqCst);
                        drop(conn);
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        CountingListener {
            port,
            count,
            stop,
            thread: Some(thread),
        }
    }

    fn connections(&self) -> usize {
        self.count.load(Ordering::SeqCst)
    }
}

impl Drop for CountingListener {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// A run of the binary under /usr/bin/time.
struct Timed {
    code: i32,
    stdout: String,
    stderr: String,
    elapsed: Duration,
    /// Peak RSS in KiB (0 when /usr/bin/time is missing and the stack is not required).
    rss_kb: u64,
}

impl Timed {
    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is not JSON ({e}):\n{}\nstderr:\n{}",
                self.stdout, self.stderr
            )
        })
    }

    fn assert_memory(&self, what: &str) {
        println!(
            "{what}: exit {} in {:.2} s, peak RSS {} KiB",
            self.code,
            self.elapsed.as_secs_f64(),
            self.rss_kb
        );
        if Path::new("/usr/bin/time").exists() {
            assert!(self.rss_kb > 0, "{what}: no RSS figure");
            assert!(
                self.rss_kb < LIMIT_KB,
                "{what}: peak RSS {} KiB ≥ 64 MB",
                self.rss_kb
            );
        }
    }
}

fn timed(args: &[String]) -> Timed {
    let time = Path::new("/usr/bin/time");
    if !time.exists() {
        let msg = "discovery_bounds: /usr/bin/time is missing (Debian package `time`, installed by scripts/install-test-deps)";
        if std::env::var("MAILSETUP_REQUIRE_STACK").as_deref() == Ok("1") {
            panic!("{msg}");
        }
        let _ = writeln!(
            std::io::stderr(),
            "\n*** SKIPPED peak-memory measurement: {msg} ***\n"
        );
    }
    let rss_file = tempfile::NamedTempFile::new().unwrap();
    let mut cmd = if time.exists() {
        let mut c = Command::new(time);
        c.args(["-f", "%M", "-o", rss_file.path().to_str().unwrap()])
            .arg(support::bin());
        c
    } else {
        Command::new(support::bin())
    };
    let start = Instant::now();
    let out = cmd
        .args(args)
        .stdin(Stdio::null())
        .env_remove("NO_COLOR")
        .output()
        .unwrap();
    let elapsed = start.elapsed();
    // GNU time writes "Command exited with non-zero status N" before the figure.
    let rss_kb = std::fs::read_to_string(rss_file.path())
        .unwrap_or_default()
        .lines()
        .last()
        .and_then(|l| l.trim().parse().ok())
        .unwrap_or(0);
    Timed {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        elapsed,
        rss_kb,
    }
}

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

/// A config-v1.1 file listing `n` IMAP servers `{prefix}{i}.{domain}:{port}` (implicit TLS).
fn config_with_servers(domain: &str, prefix: &str, n: usize, port: u16) -> String {
    let mut xml = format!(
        "<?xml version=\"1.0\"?><clientConfig version=\"1.1\"><emailProvider id=\"{domain}\">"
    );
    for i in 0..n {
        xml.push_str(&format!(
            "<incomingServer type=\"imap\"><hostname>{prefix}{i}.{domain}</hostname>\
             <port>{port}</port><socketType>SSL</socketType></incomingServer>"
        ));
    }
    xml.push_str("</emailProvider></clientConfig>");
    xml
}

/// An Autodiscover POX answer listing `n` IMAP servers.
fn pox_with_servers(domain: &str, prefix: &str, n: usize, port: u16) -> String {
    let mut xml = String::from(
        "<?xml version=\"1.0\"?><Autodiscover xmlns=\"http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006\">\
         <Response xmlns=\"http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a\">\
         <Account><Action>settings</Action>",
    );
    for i in 0..n {
        xml.push_str(&format!(
            "<Protocol><Type>IMAP</Type><Server>{prefix}{i}.{domain}</Server>\
             <Port>{port}</Port><SSL>on</SSL></Protocol>"
        ));
    }
    xml.push_str("</Account></Response></Autodiscover>");
    xml
}

/// `<open` + distinct empty attributes until the document is just under the body cap +
/// `close`: the measured attack (~95,000 attributes on one start tag).
fn attribute_bomb(open: &str, close: &str) -> String {
    let mut doc = String::from(open);
    let mut i = 0usize;
    while doc.len() + close.len() + 16 < BODY_CAP - 8 * 1024 {
        doc.push_str(&format!(" a{i:x}=\"\""));
        i += 1;
    }
    doc.push_str(close);
    assert!(
        doc.len() < BODY_CAP && i > 90_000,
        "{} bytes, {i}",
        doc.len()
    );
    doc
}

fn attempts<'a>(v: &'a Value, source: &str) -> Vec<&'a Value> {
    v["attempts"]
        .as_array()
        .expect("attempts")
        .iter()
        .filter(|a| a["source"] == source)
        .collect()
}

/// The scenario of item 9: 20,000-odd servers across every source of `big.test`.
struct Flood {
    dns: TestDns,
    http: HttpServer,
    https: HttpServer,
    listener: CountingListener,
    ca_file: std::path::PathBuf,
    closed: u16,
    _dir: tempfile::TempDir,
}

const SRV_SERVICES: [&str; 6] = [
    "_imaps._tcp",
    "_imap._tcp",
    "_pop3s._tcp",
    "_pop3._tcp",
    "_submissions._tcp",
    "_submission._tcp",
];
const SRV_TARGETS: usize = 20;
/// Servers in the file that exceeds the bounds.
const HUGE: usize = 20_000;
/// Servers per admissible document (under the element bound of 4,096).
const WELLKNOWN_SERVERS: usize = 1000;
const AD_SERVERS: usize = 800;

impl Flood {
    fn start() -> Option<Flood> {
        let listener = CountingListener::start();
        let port = listener.port;
        let mut records = vec![Record::domain("big.test", "127.0.0.1")];
        for svc in SRV_SERVICES {
            for i in 0..SRV_TARGETS {
                let target = format!("s{}-{i}.big.test", &svc[1..svc.find('.').unwrap()]);
                records.push(Record::srv(&format!("{svc}.big.test"), &target, port, 0, 1));
            }
        }
        let dns = TestDns::start(&records)?;
        let ca = TestCa::new("discovery-bounds");
        let dir = tempfile::tempdir().unwrap();
        let ca_file = ca.write_ca_pem(dir.path());
        // autoconfig (http fallback): 20,000 servers, ~1.8 MB: over the body cap.
        let huge = config_with_servers("big.test", "a", HUGE, port);
        assert!(huge.len() > BODY_CAP);
        let http = HttpServer::http(vec![route(
            "autoconfig.big.test",
            CONFIG_PATH,
            Reply::xml(&huge),
        )]);
        // .well-known (https) and both Autodiscover URLs: as many servers as the bounds admit.
        let wellknown = config_with_servers("big.test", "w", WELLKNOWN_SERVERS, port);
        let https = HttpServer::https(
            ca.leaf(&["big.test", "autodiscover.big.test"])
                .server_config(),
            vec![
                route("big.test", WELLKNOWN_PATH, Reply::xml(&wellknown)),
                route(
                    "big.test",
                    AD_PATH,
                    Reply::xml(&pox_with_servers("big.test", "d", AD_SERVERS, port)),
                ),
                route(
                    "autodiscover.big.test",
                    AD_PATH,
                    Reply::xml(&pox_with_servers("big.test", "e", AD_SERVERS, port)),
                ),
            ],
        );
        Some(Flood {
            dns,
            http,
            https,
            listener,
            ca_file,
            closed: closed_port(),
            _dir: dir,
        })
    }

    /// Servers listed in all: over 20,000.
    fn listed() -> usize {
        HUGE + WELLKNOWN_SERVERS + 2 * AD_SERVERS + SRV_SERVICES.len() * SRV_TARGETS
    }

    fn args(&self, command: &str, format: &str) -> Vec<String> {
        let c = self.closed;
        let mut a = strings(&[command, "user@big.test", "--no-guess"]);
        a.push(format!("--format={format}"));
        a.extend([
            "--dns-server".into(),
            self.dns.addr().to_string(),
            "--ca-file".into(),
            self.ca_file.to_str().unwrap().into(),
            "--timeout".into(),
            "20".into(),
        ]);
        for rule in [
            format!("autoconfig.big.test:443:127.0.0.1:{c}"),
            format!("autoconfig.big.test:80:127.0.0.1:{}", self.http.port()),
            format!("big.test:443:127.0.0.1:{}", self.https.port()),
            format!("autodiscover.big.test:443:127.0.0.1:{}", self.https.port()),
            format!("autodiscover.big.test:80:127.0.0.1:{c}"),
            format!("autoconfig.thunderbird.net:443:127.0.0.1:{c}"),
        ] {
            a.push("--connect-to".into());
            a.push(rule);
        }
        a
    }
}

/// The discovery object (`discover` prints it flattened, `check` under `discovery`) bounds
/// what it lists and accounts for every drop.
fn assert_bounded_discovery(d: &Value) {
    let candidates = d["candidates"].as_array().expect("candidates");
    assert_eq!(candidates.len(), PER_RUN, "{:#?}", d["attempts"]);
    // The 20,000-server file is refused by the body/document bound, by name.
    let ac = attempts(d, "autoconfig");
    let huge = ac
        .iter()
        .find(|a| a["target"].as_str().unwrap().starts_with("http://"))
        .expect("the http autoconfig lookup");
    assert_eq!(huge["result"], "error", "{huge:#}");
    assert_eq!(huge["problem"], "discovery-document-refused", "{huge:#}");
    // Each admissible lookup kept 16 and says how many it dropped.
    let wk = attempts(d, "autoconfig-wellknown");
    let wk = wk
        .iter()
        .find(|a| a["result"] == "found")
        .expect("wellknown");
    assert_eq!(wk["dropped"], WELLKNOWN_SERVERS - PER_LOOKUP, "{wk:#}");
    let ad: Vec<&Value> = attempts(d, "autodiscover")
        .into_iter()
        .filter(|a| a["result"] == "found")
        .collect();
    assert_eq!(ad.len(), 2, "{:#?}", attempts(d, "autodiscover"));
    for a in &ad {
        assert_eq!(a["dropped"], AD_SERVERS - PER_LOOKUP, "{a:#}");
    }
    let srv: Vec<&Value> = attempts(d, "srv");
    assert_eq!(srv.len(), 6);
    for a in &srv {
        assert_eq!(a["result"], "found", "{a:#}");
        assert_eq!(a["dropped"], SRV_TARGETS - PER_LOOKUP, "{a:#}");
    }
    // Kept by the lookups: 16 × (1 + 2 + 6) = 144; by the run: 64.
    let per_lookup: u64 = d["attempts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["dropped"].as_u64().unwrap())
        .sum();
    assert_eq!(
        per_lookup as usize,
        (WELLKNOWN_SERVERS - PER_LOOKUP)
            + 2 * (AD_SERVERS - PER_LOOKUP)
            + 6 * (SRV_TARGETS - PER_LOOKUP)
    );
    assert_eq!(
        d["dropped"].as_u64().unwrap() as usize,
        per_lookup as usize + (9 * PER_LOOKUP - PER_RUN)
    );
    // Rank order decides what is kept: the config files before SRV and Autodiscover.
    assert_eq!(candidates[0]["source"], "autoconfig-wellknown");
    assert_eq!(candidates[0]["endpoint"]["host"], "w0.big.test");
    assert_eq!(candidates[15]["endpoint"]["host"], "w15.big.test");
}

#[test]
fn twenty_thousand_servers_are_bounded_in_discover() {
    let Some(f) = Flood::start() else {
        return;
    };
    let run = timed(&f.args("discover", "json"));
    assert_eq!(run.code, 0, "{}", run.stderr);
    let v = run.json();
    assert!(Flood::listed() > 20_000);
    assert_bounded_discovery(&v);
    run.assert_memory("discover, 20,000+ servers");
    assert_eq!(f.listener.connections(), 0, "discover never connects");

    let human = timed(&f.args("discover", "human"));
    assert_eq!(human.code, 0, "{}", human.stderr);
    let out = &human.stdout;
    assert!(
        out.contains("[984 more not used]") && out.contains("[784 more not used]"),
        "{out}"
    );
    assert!(out.contains("discovery-candidates-dropped"), "{out}");
    assert!(out.contains("discovery-document-refused"), "{out}");
    let listed = out
        .lines()
        .skip_while(|l| !l.starts_with("Candidates"))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .count();
    assert_eq!(listed, PER_RUN, "{out}");
}

#[test]
fn twenty_thousand_servers_are_bounded_in_check() {
    let Some(f) = Flood::start() else {
        return;
    };
    let run = timed(&f.args("check", "json"));
    let v = run.json();
    assert_bounded_discovery(&v["discovery"]);
    let endpoints = v["endpoints"].as_array().expect("endpoints");
    assert!(
        !endpoints.is_empty() && endpoints.len() <= PER_RUN,
        "{} endpoints probed",
        endpoints.len()
    );
    // What reached the servers: at most one connection per kept candidate.
    let conns = f.listener.connections();
    assert!(
        (1..=PER_RUN).contains(&conns),
        "{conns} connections for {} endpoints",
        endpoints.len()
    );
    let top = codes(&v);
    assert!(
        top.contains(&"discovery-candidates-dropped".to_string())
            && top.contains(&"discovery-document-refused".to_string()),
        "{top:?}"
    );
    run.assert_memory("check, 20,000+ servers");

    let human = timed(&f.args("check", "human"));
    assert!(
        human.stdout.contains("discovery-candidates-dropped"),
        "{}",
        human.stdout
    );
}

/// `discover --timeout 5 --json` for `email`, everything else refused at once.
fn discover_hostile(email: &str, dns: &TestDns, rules: &[String], ca_file: &Path) -> Timed {
    let mut a = strings(&["discover", email, "--json", "--timeout", "5"]);
    a.extend([
        "--dns-server".into(),
        dns.addr().to_string(),
        "--ca-file".into(),
        ca_file.to_str().unwrap().into(),
    ]);
    for r in rules {
        a.push("--connect-to".into());
        a.push(r.clone());
    }
    timed(&a)
}

fn assert_refused_in_time(run: &Timed, source: &str, what: &str) {
    run.assert_memory(what);
    assert!(
        run.elapsed <= Duration::from_secs(6),
        "{what}: took {:?}",
        run.elapsed
    );
    let v = run.json();
    let named: Vec<&Value> = attempts(&v, source)
        .into_iter()
        .filter(|a| a["problem"] == "discovery-document-refused")
        .collect();
    assert!(!named.is_empty(), "{what}: {:#}", v["attempts"]);
    assert!(
        named[0]["detail"]
            .as_str()
            .unwrap()
            .contains("more than 32 attributes on one element"),
        "{:#}",
        named[0]
    );
    assert!(v["candidates"].as_array().unwrap().is_empty());
    assert_eq!(run.code, 1, "nothing found");
}

#[test]
fn autoconfig_with_95000_attributes_on_one_tag_is_refused_within_the_timeout() {
    let Some(dns) = TestDns::start(&[]) else {
        return;
    };
    let bomb = attribute_bomb(
        "<?xml version=\"1.0\"?><clientConfig version=\"1.1\"><emailProvider id=\"x\"",
        "><incomingServer type=\"imap\"><hostname>imap.attr.test</hostname>\
         <socketType>SSL</socketType></incomingServer></emailProvider></clientConfig>",
    );
    let http = HttpServer::http(vec![route(
        "autoconfig.attr.test",
        CONFIG_PATH,
        Reply::xml(&bomb),
    )]);
    let c = closed_port();
    let dir = tempfile::tempdir().unwrap();
    let ca_file = TestCa::new("attr").write_ca_pem(dir.path());
    let run = discover_hostile(
        "user@attr.test",
        &dns,
        &[
            format!("autoconfig.attr.test:443:127.0.0.1:{c}"),
            format!("autoconfig.attr.test:80:127.0.0.1:{}", http.port()),
            format!("attr.test:443:127.0.0.1:{c}"),
            format!("attr.test:80:127.0.0.1:{c}"),
            format!("autodiscover.attr.test:443:127.0.0.1:{c}"),
            format!("autodiscover.attr.test:80:127.0.0.1:{c}"),
            format!("autoconfig.thunderbird.net:443:127.0.0.1:{c}"),
        ],
        &ca_file,
    );
    assert_refused_in_time(&run, "autoconfig", "autoconfig attribute bomb");
    // The file was really fetched and answered (the refusal is the parser's, not the network's).
    let reqs = http.requests();
    assert_eq!(reqs.len(), 1, "{reqs:#?}");
}

#[test]
fn autodiscover_with_95000_attributes_on_one_tag_is_refused_within_the_timeout() {
    let Some(dns) = TestDns::start(&[]) else {
        return;
    };
    let ca = TestCa::new("attr-ad");
    let dir = tempfile::tempdir().unwrap();
    let ca_file = ca.write_ca_pem(dir.path());
    let bomb = attribute_bomb(
        "<?xml version=\"1.0\"?><Autodiscover",
        "><Response><Account><Action>settings</Action><Protocol><Type>IMAP</Type>\
         <Server>imap.attrad.test</Server></Protocol></Account></Response></Autodiscover>",
    );
    let https = HttpServer::https(
        ca.leaf(&["attrad.test", "autodiscover.attrad.test"])
            .server_config(),
        vec![
            route("attrad.test", AD_PATH, Reply::xml(&bomb)),
            route("autodiscover.attrad.test", AD_PATH, Reply::xml(&bomb)),
        ],
    );
    let c = closed_port();
    let run = discover_hostile(
        "user@attrad.test",
        &dns,
        &[
            format!("attrad.test:443:127.0.0.1:{}", https.port()),
            format!("autodiscover.attrad.test:443:127.0.0.1:{}", https.port()),
            format!("autodiscover.attrad.test:80:127.0.0.1:{c}"),
            format!("autoconfig.attrad.test:443:127.0.0.1:{c}"),
            format!("autoconfig.attrad.test:80:127.0.0.1:{c}"),
            format!("attrad.test:80:127.0.0.1:{c}"),
            format!("autoconfig.thunderbird.net:443:127.0.0.1:{c}"),
        ],
        &ca_file,
    );
    assert_refused_in_time(&run, "autodiscover", "Autodiscover attribute bomb");
    let posts = https
        .requests()
        .into_iter()
        .filter(|r| r.method == "POST")
        .count();
    assert!(posts >= 1, "the bomb was fetched");
}
