//! `--format nagios` and `--format prometheus`: exit codes, status lines and perfdata of the
//! monitoring-plugin guidelines (parsed by a strict parser of their grammar, below), thresholds,
//! and the Prometheus text format parsed by the real `prometheus_client` parser (Debian
//! `python3-prometheus-client`).

mod support;

use std::io::Write;
use std::process::{Command, Stdio};

use serde_json::Value;
use support::certs::TestCa;
use support::fake::{expect_tagged, send, FakeServer, Step};
use support::run::{mailsetup, path_str, Run};
use support::stack::MailStack;

const HOST: &str = "mail.example.test";

// ---------------------------------------------------------------------------------------
// A strict parser of the plugin output grammar (Monitoring Plugins Development Guidelines,
// "Plugin Output" and "Performance data"):
//   first line:  TEXT [| PERFDATA]      further lines: long output
//   PERFDATA:    'label'=value[UOM];[warn];[crit];[min];[max]  separated by single spaces
//   label:       any characters but '=' and "'", quoted with ' when it contains a space
//   value:       [-]digits[.digits]   UOM: none, s, ms, us, %, B, KB, MB, TB, c
//   warn/crit:   a range [@][start:][end], start may be ~; min/max: plain numbers
// ---------------------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq)]
struct Perf {
    label: String,
    value: f64,
    uom: String,
    warn: Option<String>,
    crit: Option<String>,
    min: Option<f64>,
    max: Option<f64>,
}

fn is_number(s: &str) -> bool {
    let s = s.strip_prefix('-').unwrap_or(s);
    let mut parts = s.splitn(2, '.');
    let int = parts.next().unwrap_or("");
    let frac = parts.next();
    !int.is_empty()
        && int.bytes().all(|b| b.is_ascii_digit())
        && frac.is_none_or(|f| !f.is_empty() && f.bytes().all(|b| b.is_ascii_digit()))
}

fn is_range(s: &str) -> bool {
    let s = s.strip_prefix('@').unwrap_or(s);
    match s.split_once(':') {
        None => is_number(s),
        Some((start, end)) => {
            (start.is_empty() || start == "~" || is_number(start))
                && (end.is_empty() || is_number(end))
                && !(start.is_empty() && end.is_empty())
        }
    }
}

fn parse_perfdata(s: &str) -> Vec<Perf> {
    assert!(
        !s.is_empty() && !s.starts_with(' ') && !s.ends_with(' '),
        "{s:?}"
    );
    let mut out = Vec::new();
    let mut rest = s;
    while !rest.is_empty() {
        let (label, after) = if let Some(q) = rest.strip_prefix('\'') {
            let end = q
                .find('\'')
                .unwrap_or_else(|| panic!("unterminated label in {s:?}"));
            (q[..end].to_string(), &q[end + 1..])
        } else {
            let end = rest
                .find('=')
                .unwrap_or_else(|| panic!("no '=' in {rest:?}"));
            let l = &rest[..end];
            assert!(
                !l.contains(' ') && !l.contains('\''),
                "unquoted label {l:?}"
            );
            (l.to_string(), &rest[end..])
        };
        assert!(!label.is_empty() && !label.contains('='), "label {label:?}");
        let after = after
            .strip_prefix('=')
            .unwrap_or_else(|| panic!("expected '=' after {label:?}"));
        let (item, next) = after.split_once(' ').unwrap_or((after, ""));
        assert!(!next.starts_with(' '), "double space in {s:?}");
        let fields: Vec<&str> = item.split(';').collect();
        assert!(fields.len() <= 5, "too many fields in {item:?}");
        let v = fields[0];
        let num_end = v
            .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-'))
            .unwrap_or(v.len());
        let (value, uom) = v.split_at(num_end);
        assert!(is_number(value), "value {value:?} in {item:?}");
        assert!(
            ["", "s", "ms", "us", "%", "B", "KB", "MB", "TB", "c"].contains(&uom),
            "UOM {uom:?} in {item:?}"
        );
        let field = |i: usize| {
            fields
                .get(i)
                .filter(|f| !f.is_empty())
                .map(|f| f.to_string())
        };
        for i in [1, 2] {
            if let Some(r) = field(i) {
                assert!(is_range(&r), "threshold {r:?} in {item:?}");
            }
        }
        for i in [3, 4] {
            if let Some(n) = field(i) {
                assert!(is_number(&n), "min/max {n:?} in {item:?}");
            }
        }
        out.push(Perf {
            label,
            value: value.parse().unwrap(),
            uom: uom.to_string(),
            warn: field(1),
            crit: field(2),
            min: field(3).map(|n| n.parse().unwrap()),
            max: field(4).map(|n| n.parse().unwrap()),
        });
        rest = next;
    }
    out
}

/// (state word, status text, perfdata, long output lines).
fn parse_plugin(r: &Run) -> (String, String, Vec<Perf>, Vec<String>) {
    assert!(r.stdout.ends_with('\n'), "{:?}", r.stdout);
    let mut lines = r.stdout.lines();
    let first = lines.next().expect("a status line");
    let long: Vec<String> = lines.map(String::from).collect();
    for l in &long {
        assert!(
            !l.contains('|'),
            "long output carries no perfdata here: {l}"
        );
    }
    let (text, perf) = first.split_once(" | ").expect("perfdata after ' | '");
    assert_eq!(first.matches('|').count(), 1, "{first}");
    let text = text.strip_prefix("MAILSETUP ").expect("service name");
    let (state, rest) = text.split_once(" - ").expect("'STATE - text'");
    let want = match r.code {
        0 => "OK",
        1 => "WARNING",
        2 => "CRITICAL",
        3 => "UNKNOWN",
        c => panic!("exit {c} is not a plugin state"),
    };
    assert_eq!(state, want, "exit code and status word agree: {first}");
    (state.into(), rest.into(), parse_perfdata(perf), long)
}

fn perf<'a>(p: &'a [Perf], label: &str) -> &'a Perf {
    p.iter()
        .find(|x| x.label == label)
        .unwrap_or_else(|| panic!("no perfdata {label}: {p:?}"))
}

#[test]
fn the_perfdata_parser_is_strict() {
    let p = parse_perfdata("time=0.19s;1;2;0; 'a b'=3%;~:5;@10:20;0;100 cert_days=-3;21:;7:;;");
    assert_eq!(p.len(), 3);
    assert_eq!(p[1].label, "a b");
    assert_eq!(p[2].value, -3.0);
    for bad in [
        "time=abc",
        "time=1x",
        "time=1;;;;;",
        "a b=1",
        "time=1;5:x",
        "time=1 ",
        "time=1  b=2",
    ] {
        assert!(
            std::panic::catch_unwind(|| parse_perfdata(bad)).is_err(),
            "accepted {bad:?}"
        );
    }
}

// ---------------------------------------------------------------------------------------

fn stack_check(s: &MailStack, extra: &[&str]) -> Run {
    let mut args: Vec<String> = vec![
        "check".into(),
        s.get("QUOTA_USER").into(),
        "--password-env".into(),
        "PW".into(),
        "--ca-file".into(),
        path_str(&s.ca_file()),
    ];
    for scheme in ["imaps", "imap", "pop3s", "pop3", "smtps", "smtp"] {
        args.extend(["--server".into(), format!("{scheme}://{HOST}")]);
    }
    args.extend(s.connect_to_args(HOST));
    args.extend(extra.iter().map(|x| x.to_string()));
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    mailsetup(&refs, &[("PW", s.get("QUOTA_PASSWORD"))])
}

#[test]
fn nagios_real_stack_all_ok_and_thresholds_honoured() {
    let Some(s) = MailStack::start("nagios_real_stack_all_ok_and_thresholds_honoured") else {
        return;
    };
    let ok = stack_check(&s, &["--format", "nagios"]);
    assert_eq!(ok.code, 0, "{}\n{}", ok.stdout, ok.stderr);
    let (_, text, p, long) = parse_plugin(&ok);
    assert_eq!(
        text,
        "quota@example.test: 6 endpoints ok, login verified on 6, quota 40.0 % used"
    );
    assert_eq!(long.len(), 6, "one line per endpoint: {long:?}");
    for l in &long {
        assert!(l.contains(" OK: TLSv1."), "{l}");
        assert!(l.contains("login ok ("), "{l}");
    }
    let time = perf(&p, "time");
    assert_eq!((time.uom.as_str(), time.min), ("s", Some(0.0)));
    assert!(time.value > 0.0);
    let per_endpoint: Vec<&Perf> = p.iter().filter(|x| x.label.starts_with("time_")).collect();
    assert_eq!(per_endpoint.len(), 6, "{p:?}");
    assert!(per_endpoint
        .iter()
        .all(|x| x.uom == "s" && x.value <= time.value));
    assert_eq!(perf(&p, "time_imaps_mail.example.test_993").uom, "s");
    let cert = perf(&p, "cert_days");
    assert!((360.0..=366.0).contains(&cert.value), "{cert:?}");
    assert_eq!(
        (cert.warn.as_deref(), cert.crit.as_deref()),
        (Some("21:"), Some("7:"))
    );
    let quota = perf(&p, "quota_pct");
    assert_eq!(
        (
            quota.value,
            quota.uom.as_str(),
            quota.warn.as_deref(),
            quota.crit.as_deref()
        ),
        (40.0, "%", Some("85"), Some("95"))
    );
    assert_eq!((quota.min, quota.max), (Some(0.0), Some(100.0)));
    let used = perf(&p, "quota_used");
    assert_eq!(
        (used.value, used.uom.as_str(), used.max),
        (4096.0, "B", Some(10240.0))
    );

    // Quota thresholds.
    let warn = stack_check(&s, &["--format", "nagios", "--warn-quota", "30"]);
    assert_eq!(warn.code, 1, "{}", warn.stdout);
    let (_, text, p, _) = parse_plugin(&warn);
    assert!(
        text.contains("the mailbox uses 40.0 % of its quota (warning above 30"),
        "{text}"
    );
    assert_eq!(perf(&p, "quota_pct").warn.as_deref(), Some("30"));
    let crit = stack_check(
        &s,
        &[
            "--format",
            "nagios",
            "--warn-quota",
            "30",
            "--crit-quota",
            "35",
        ],
    );
    assert_eq!(crit.code, 2, "{}", crit.stdout);
    // Certificate thresholds (the stack's certificate has about 364 days left).
    let cert_warn = stack_check(&s, &["--format", "nagios", "--warn-cert-days", "400"]);
    assert_eq!(cert_warn.code, 1, "{}", cert_warn.stdout);
    let (_, text, p, _) = parse_plugin(&cert_warn);
    assert!(text.contains("expires in 36"), "{text}");
    assert_eq!(perf(&p, "cert_days").warn.as_deref(), Some("400:"));
    let cert_crit = stack_check(
        &s,
        &[
            "--format",
            "nagios",
            "--warn-cert-days",
            "500",
            "--crit-cert-days",
            "400",
        ],
    );
    assert_eq!(cert_crit.code, 2, "{}", cert_crit.stdout);
    // Time thresholds.
    let slow = stack_check(&s, &["--format", "nagios", "--warn-time", "0.001"]);
    assert_eq!(slow.code, 1, "{}", slow.stdout);
    let (_, text, p, _) = parse_plugin(&slow);
    assert!(text.contains("the check took"), "{text}");
    assert_eq!(perf(&p, "time").warn.as_deref(), Some("0.001"));
    let slower = stack_check(
        &s,
        &[
            "--format",
            "nagios",
            "--warn-time",
            "0.001",
            "--crit-time",
            "0.002",
        ],
    );
    assert_eq!(slower.code, 2, "{}", slower.stdout);

    // Prometheus from the same stack, parsed by prometheus_client.
    let prom = stack_check(&s, &["--format", "prometheus"]);
    assert_eq!(prom.code, 0, "{}", prom.stderr);
    let Some(families) = parse_prometheus(
        "nagios_real_stack_all_ok_and_thresholds_honoured",
        &prom.stdout,
    ) else {
        return;
    };
    let fam = |name: &str| -> &Value {
        families
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["name"] == name)
            .unwrap_or_else(|| panic!("no family {name}"))
    };
    for f in families.as_array().unwrap() {
        assert_eq!(f["type"], "gauge", "{f}");
        assert!(!f["help"].as_str().unwrap().is_empty(), "{f}");
    }
    let up = fam("mailsetup_endpoint_up")["samples"].as_array().unwrap();
    assert_eq!(up.len(), 6);
    assert!(up
        .iter()
        .all(|s| s["value"] == 1.0 && s["labels"]["target"] == "quota@example.test"));
    assert_eq!(fam("mailsetup_run_success")["samples"][0]["value"], 1.0);
    assert_eq!(
        fam("mailsetup_quota_used_ratio")["samples"][0]["value"],
        0.4
    );
    assert_eq!(
        fam("mailsetup_quota_limit_bytes")["samples"][0]["value"],
        10240.0
    );
    let days = fam("mailsetup_certificate_days_left")["samples"]
        .as_array()
        .unwrap();
    assert_eq!(days.len(), 6);
    let phases = fam("mailsetup_endpoint_phase_seconds")["samples"]
        .as_array()
        .unwrap();
    let imap_phases: Vec<&str> = phases
        .iter()
        .filter(|s| s["labels"]["url"] == "imap://mail.example.test:143")
        .map(|s| s["labels"]["phase"].as_str().unwrap())
        .collect();
    for want in [
        "connect",
        "greeting",
        "starttls",
        "tls-handshake",
        "capabilities",
        "login",
        "quota",
    ] {
        assert!(imap_phases.contains(&want), "{want}: {imap_phases:?}");
    }
    let logins = fam("mailsetup_endpoint_login_success")["samples"]
        .as_array()
        .unwrap();
    assert_eq!(logins.len(), 6);
}

/// `prometheus_client`'s text parser on `text`: a list of families as JSON
/// (None with a loud skip when Debian's python3-prometheus-client is missing).
fn parse_prometheus(test: &str, text: &str) -> Option<Value> {
    const SCRIPT: &str = r#"
import json, sys
from prometheus_client.parser import text_string_to_metric_families
out = []
for f in text_string_to_metric_families(sys.stdin.read()):
    out.append({"name": f.name, "type": f.type, "help": f.documentation,
                "samples": [{"name": s.name, "labels": s.labels, "value": s.value} for s in f.samples]})
print(json.dumps(out))
"#;
    let probe = Command::new("/usr/bin/python3")
        .args(["-c", "import prometheus_client"])
        .stderr(Stdio::null())
        .status();
    if !probe.is_ok_and(|s| s.success()) {
        if std::env::var("MAILSETUP_REQUIRE_STACK").is_ok_and(|v| v == "1") {
            panic!("[{test}] /usr/bin/python3 with prometheus_client is required: install python3-prometheus-client (scripts/install-test-deps)");
        }
        eprintln!(
            "\n######## SKIPPED: {test}: python3-prometheus-client is not installed ########\n"
        );
        return None;
    }
    let mut child = Command::new("/usr/bin/python3")
        .args(["-c", SCRIPT])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "prometheus_client refused the text:\n{}\n{text}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    // Every sample belongs to its family (a gauge has no suffixed series).
    for f in v.as_array().unwrap() {
        for s in f["samples"].as_array().unwrap() {
            assert_eq!(s["name"], f["name"]);
        }
    }
    Some(v)
}

#[test]
fn prometheus_label_values_survive_a_real_parser() {
    use mailsetup::model::{Endpoint, Protocol, Security};
    use mailsetup::report::{Code, EndpointReport, ProbeReport, Problem};
    // Hosts never contain these, but the format must hold whatever a label carries.
    let weird = "we\"ird\\host\nname";
    let ep = Endpoint {
        protocol: Protocol::Imap,
        host: weird.into(),
        port: 993,
        security: Security::Tls,
    };
    let mut e = EndpointReport::new(&ep);
    e.problems.push(Problem::error(Code::ConnectRefused, "x"));
    e.finish();
    let r = ProbeReport {
        version: 1,
        command: "probe".into(),
        insecure: false,
        endpoints: vec![e],
        elapsed_ms: 7,
    };
    let text = mailsetup::report::prometheus::render_probe(&r, 1_700_000_000.5, 1);
    let Some(v) = parse_prometheus("prometheus_label_values_survive_a_real_parser", &text) else {
        return;
    };
    let up = v
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "mailsetup_endpoint_up")
        .unwrap();
    assert_eq!(up["samples"][0]["labels"]["host"], weird);
    assert_eq!(up["samples"][0]["value"], 0.0);
    let problem = v
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "mailsetup_problem")
        .unwrap();
    assert_eq!(problem["samples"][0]["labels"]["code"], "connect-refused");
}

// ---------------------------------------------------------------------------------------

fn probe_fake(leaf_days: (i64, i64), extra: &[&str]) -> Run {
    let ca = TestCa::new("nagios-cert");
    let host = "fake.example.test";
    let s = FakeServer::start(vec![
        Step::StartTls(
            ca.leaf_valid_days(&[host], leaf_days.0, leaf_days.1)
                .server_config(),
        ),
        send("* OK ready\r\n"),
        expect_tagged("CAPABILITY"),
        send("* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\n{tag} OK done\r\n"),
        Step::ReadUntilEof,
    ]);
    let dir = tempfile::tempdir().unwrap();
    let ca_file = ca.write_ca_pem(dir.path());
    let mut args: Vec<String> = vec![
        "probe".into(),
        "--server".into(),
        format!("imaps://{host}:993"),
        "--connect-to".into(),
        format!("{host}:993:127.0.0.1:{}", s.port),
        "--ca-file".into(),
        path_str(&ca_file),
        "--timeout".into(),
        "5".into(),
        "--format".into(),
        "nagios".into(),
    ];
    args.extend(extra.iter().map(|x| x.to_string()));
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    mailsetup(&refs, &[])
}

#[test]
fn nagios_certificate_in_the_warning_window_and_expired() {
    let soon = probe_fake((-1, 10), &[]);
    assert_eq!(soon.code, 1, "{}\n{}", soon.stdout, soon.stderr);
    let (_, text, p, long) = parse_plugin(&soon);
    assert!(
        text.starts_with(
            "fake.example.test: the certificate of imaps://fake.example.test:993 expires in "
        ),
        "{text}"
    );
    let days = perf(&p, "cert_days").value;
    assert!((9.0..=10.0).contains(&days), "{days}");
    assert_eq!(long.len(), 1);
    // The thresholds decide, not the report's fixed 30-day warning.
    let relaxed = probe_fake(
        (-1, 10),
        &["--warn-cert-days", "5", "--crit-cert-days", "2"],
    );
    assert_eq!(relaxed.code, 0, "{}", relaxed.stdout);
    let strict = probe_fake((-1, 10), &["--crit-cert-days", "14"]);
    assert_eq!(strict.code, 2, "{}", strict.stdout);

    let expired = probe_fake((-30, -2), &[]);
    assert_eq!(expired.code, 2, "{}\n{}", expired.stdout, expired.stderr);
    let (_, text, p, _) = parse_plugin(&expired);
    assert!(text.contains("tls-cert-expired"), "{text}");
    assert!(perf(&p, "cert_days").value < 0.0);
}

#[test]
fn nagios_unreachable_server_is_critical() {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    drop(l);
    let r = mailsetup(
        &[
            "probe",
            "--server",
            &format!("imaps://127.0.0.1:{port}"),
            "--format",
            "nagios",
            "--timeout",
            "5",
        ],
        &[],
    );
    assert_eq!(r.code, 2, "{}\n{}", r.stdout, r.stderr);
    let (_, text, p, long) = parse_plugin(&r);
    assert!(text.contains("connect-refused"), "{text}");
    assert!(perf(&p, "time").value >= 0.0);
    assert!(
        p.iter().all(|x| x.label != "cert_days"),
        "no certificate seen"
    );
    assert_eq!(long.len(), 1);
    assert!(long[0].contains("CRITICAL"), "{long:?}");
}

#[test]
fn nagios_usage_errors_are_unknown() {
    for args in [
        &[
            "probe",
            "--format",
            "nagios",
            "--warn-quota",
            "abc",
            "h.example",
        ][..],
        &["probe", "--format=nagios", "--no-such-option"][..],
        &["check", "not-an-address", "--format", "nagios"][..],
        &[
            "probe",
            "h.example",
            "--format",
            "nagios",
            "--crit-cert-days",
            "30",
        ][..],
        &[
            "check",
            "a@example.test",
            "--format",
            "nagios",
            "--password",
            "hunter2",
        ][..],
    ] {
        let r = mailsetup(args, &[]);
        assert_eq!(r.code, 3, "{args:?}: {}\n{}", r.stdout, r.stderr);
        assert!(
            r.stdout.starts_with("MAILSETUP UNKNOWN - "),
            "{args:?}: {}",
            r.stdout
        );
        assert_eq!(r.stdout.lines().count(), 1, "{}", r.stdout);
        assert!(!r.all_output().contains("hunter2"));
    }
    // Without nagios mode a usage error stays exit 2.
    assert_eq!(mailsetup(&["probe", "--no-such-option"], &[]).code, 2);
}
