//! `--format prometheus`: the Prometheus text exposition format as node_exporter's textfile
//! collector reads it (write to a `*.prom` file atomically, e.g. from a cron job). One gauge
//! family per figure, each with `# HELP` and `# TYPE`; label values escaped (`\\`, `\"`, `\n`).

use std::collections::BTreeMap;
use std::fmt::Write;

use super::{CheckReport, EndpointReport, LoginStatus, ProbeReport, Quota, Severity, Status};
use crate::discover::Discovery;
use crate::model::timing::PhaseName;

/// A label value as the exposition format wants it.
pub fn escape_label(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for c in v.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

fn escape_help(v: &str) -> String {
    v.replace('\\', "\\\\").replace('\n', "\\n")
}

/// A float as the format wants it (no NaN/Inf ever produced here).
fn value(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        format!("{}", x as i64)
    } else {
        format!("{x}")
    }
}

/// A sample's labels, in order.
type Labels = Vec<(&'static str, String)>;

/// Gauge families collected in a fixed order, samples in insertion order.
#[derive(Default)]
struct Families {
    order: Vec<&'static str>,
    help: BTreeMap<&'static str, &'static str>,
    samples: BTreeMap<&'static str, Vec<(Labels, f64)>>,
}

impl Families {
    fn gauge(&mut self, name: &'static str, help: &'static str, labels: Labels, v: f64) {
        if !self.help.contains_key(name) {
            self.order.push(name);
            self.help.insert(name, help);
        }
        let samples = self.samples.entry(name).or_default();
        // A label set appears once per family.
        if !samples.iter().any(|(l, _)| *l == labels) {
            samples.push((labels, v));
        }
    }

    fn render(&self) -> String {
        let mut out = String::new();
        for name in &self.order {
            let _ = writeln!(out, "# HELP {name} {}", escape_help(self.help[name]));
            let _ = writeln!(out, "# TYPE {name} gauge");
            for (labels, v) in &self.samples[name] {
                let l: Vec<String> = labels
                    .iter()
                    .map(|(k, v)| format!("{k}=\"{}\"", escape_label(v)))
                    .collect();
                let _ = writeln!(out, "{name}{{{}}} {}", l.join(","), value(*v));
            }
        }
        out
    }
}

fn run_labels(command: &str, target: &str) -> Labels {
    vec![
        ("command", command.to_string()),
        ("target", target.to_string()),
    ]
}

fn endpoint_labels(target: &str, e: &EndpointReport) -> Labels {
    vec![
        ("target", target.to_string()),
        ("url", e.url.clone()),
        ("protocol", e.protocol.as_str().to_string()),
        ("host", e.host.clone()),
        ("port", e.port.to_string()),
        ("security", e.security.as_str().to_string()),
    ]
}

fn with(mut labels: Labels, k: &'static str, v: impl Into<String>) -> Labels {
    labels.push((k, v.into()));
    labels
}

fn run(f: &mut Families, command: &str, target: &str, ok: bool, elapsed_ms: u64, now_unix: f64) {
    let l = run_labels(command, target);
    f.gauge(
        "mailsetup_run_success",
        "1 when the run found no error (exit status 0), else 0.",
        l.clone(),
        if ok { 1.0 } else { 0.0 },
    );
    f.gauge(
        "mailsetup_run_duration_seconds",
        "Wall time of the whole run.",
        l.clone(),
        elapsed_ms as f64 / 1000.0,
    );
    f.gauge(
        "mailsetup_run_timestamp_seconds",
        "When the run finished, in Unix seconds.",
        l,
        now_unix,
    );
}

fn endpoints(f: &mut Families, target: &str, eps: &[EndpointReport]) {
    for e in eps {
        let l = endpoint_labels(target, e);
        f.gauge(
            "mailsetup_endpoint_up",
            "1 when the endpoint works (status ok or warning), 0 when not (error, or not offered).",
            l.clone(),
            if e.status.works() { 1.0 } else { 0.0 },
        );
        f.gauge(
            "mailsetup_endpoint_status",
            "Worst problem of the endpoint: 0 ok, 1 warning, 2 error, 3 not offered (nothing listens on this port of a discovered server).",
            l.clone(),
            match e.status {
                Status::Ok => 0.0,
                Status::Warning => 1.0,
                Status::Error => 2.0,
                Status::NotOffered => 3.0,
            },
        );
        f.gauge(
            "mailsetup_endpoint_duration_seconds",
            "Time spent on the endpoint (connect to close).",
            l.clone(),
            e.elapsed_ms as f64 / 1000.0,
        );
        // Phases of one name (capabilities before and after STARTTLS) are added up.
        let mut per_phase: BTreeMap<PhaseName, u64> = BTreeMap::new();
        for p in e.phases.list() {
            *per_phase.entry(p.name).or_default() += p.end_ms - p.start_ms;
        }
        for (name, ms) in per_phase {
            f.gauge(
                "mailsetup_endpoint_phase_seconds",
                "Time of each phase of the endpoint (dns, connect, greeting, starttls, tls-handshake, capabilities, login, quota, round-trip).",
                with(l.clone(), "phase", name.as_str()),
                ms as f64 / 1000.0,
            );
        }
        if let Some(login) = &e.login {
            if matches!(login.status, LoginStatus::Ok | LoginStatus::Failed) {
                f.gauge(
                    "mailsetup_endpoint_login_success",
                    "1 when the login was verified, 0 when it failed (absent when not attempted).",
                    l.clone(),
                    if login.status == LoginStatus::Ok {
                        1.0
                    } else {
                        0.0
                    },
                );
            }
        }
        if let Some(c) = e.tls.as_ref().and_then(|t| t.certificate.as_ref()) {
            f.gauge(
                "mailsetup_certificate_days_left",
                "Days until the endpoint's certificate expires (negative: expired).",
                l.clone(),
                c.days_left as f64,
            );
            f.gauge(
                "mailsetup_certificate_valid",
                "1 when the certificate is trusted, names the host and is within its validity.",
                l.clone(),
                if c.trusted && c.hostname_match && c.days_left >= 0 {
                    1.0
                } else {
                    0.0
                },
            );
        }
        for p in &e.problems {
            f.gauge(
                "mailsetup_problem",
                "1 for each problem found on the endpoint, by code and severity (docs/json.md).",
                with(
                    with(l.clone(), "code", p.code.as_str()),
                    "severity",
                    match p.severity {
                        Severity::Error => "error",
                        Severity::Warning => "warning",
                        Severity::Info => "info",
                    },
                ),
                1.0,
            );
        }
    }
}

fn quota(f: &mut Families, target: &str, q: &Quota) {
    let l = vec![
        ("target", target.to_string()),
        ("source", q.source.clone()),
        ("url", q.url.clone()),
    ];
    if let Some(u) = q.used_bytes {
        f.gauge(
            "mailsetup_quota_used_bytes",
            "Storage used by the mailbox.",
            l.clone(),
            u as f64,
        );
    }
    if let Some(x) = q.limit_bytes {
        f.gauge(
            "mailsetup_quota_limit_bytes",
            "Storage limit of the mailbox.",
            l.clone(),
            x as f64,
        );
    }
    if let Some(p) = q.percent {
        f.gauge(
            "mailsetup_quota_used_ratio",
            "Share of the storage limit used (0 to 1).",
            l.clone(),
            p / 100.0,
        );
    }
    if let Some(m) = q.messages {
        f.gauge(
            "mailsetup_quota_messages",
            "Messages in the inbox.",
            l,
            m as f64,
        );
    }
}

/// `check --format prometheus`; `exit_code` is the command's own verdict.
pub fn render_check(r: &CheckReport, now_unix: f64, exit_code: i32) -> String {
    let mut f = Families::default();
    run(
        &mut f,
        "check",
        &r.address,
        exit_code == 0,
        r.elapsed_ms,
        now_unix,
    );
    endpoints(&mut f, &r.address, &r.endpoints);
    if let Some(q) = &r.quota {
        quota(&mut f, &r.address, q);
    }
    for p in &r.problems {
        f.gauge(
            "mailsetup_account_problem",
            "1 for each problem of the account as a whole, by code and severity.",
            vec![
                ("target", r.address.clone()),
                ("code", p.code.as_str()),
                (
                    "severity",
                    match p.severity {
                        Severity::Error => "error",
                        Severity::Warning => "warning",
                        Severity::Info => "info",
                    }
                    .into(),
                ),
            ],
            1.0,
        );
    }
    f.render()
}

/// `probe --format prometheus`; `exit_code` is the command's own verdict.
pub fn render_probe(r: &ProbeReport, now_unix: f64, exit_code: i32) -> String {
    let target = r
        .endpoints
        .first()
        .map(|e| e.host.clone())
        .unwrap_or_default();
    let mut f = Families::default();
    run(
        &mut f,
        "probe",
        &target,
        exit_code == 0,
        r.elapsed_ms,
        now_unix,
    );
    endpoints(&mut f, &target, &r.endpoints);
    f.render()
}

pub fn render_discover(address: &str, d: &Discovery, elapsed_ms: u64, now_unix: f64) -> String {
    let mut f = Families::default();
    run(
        &mut f,
        "discover",
        address,
        !d.candidates.is_empty(),
        elapsed_ms,
        now_unix,
    );
    f.gauge(
        "mailsetup_discovery_candidates",
        "Candidate endpoints discovery found.",
        vec![("target", address.to_string())],
        d.candidates.len() as f64,
    );
    for a in &d.attempts {
        f.gauge(
            "mailsetup_discovery_attempt_seconds",
            "Time of each discovery lookup, by source, what was looked up, and result.",
            vec![
                ("target", address.to_string()),
                ("source", a.source.as_str().to_string()),
                ("lookup", a.target.clone()),
                ("result", a.result.as_str().to_string()),
            ],
            a.elapsed_ms as f64 / 1000.0,
        );
    }
    f.render()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Endpoint;

    #[test]
    fn labels_are_escaped() {
        assert_eq!(escape_label("a\\b\"c\nd"), "a\\\\b\\\"c\\nd");
        assert_eq!(value(1.0), "1");
        assert_eq!(value(0.25), "0.25");
        assert_eq!(value(-3.0), "-3");
    }

    #[test]
    fn one_family_per_figure_with_help_and_type() {
        let ep: Endpoint = "imaps://h:993".parse().unwrap();
        let mut e = EndpointReport::new(&ep);
        e.elapsed_ms = 1500;
        let r = ProbeReport {
            version: 1,
            command: "probe".into(),
            insecure: false,
            endpoints: vec![e.clone(), e],
            elapsed_ms: 2000,
        };
        let text = render_probe(&r, 1_700_000_000.0, 0);
        assert_eq!(
            text.matches("# TYPE mailsetup_endpoint_up gauge").count(),
            1
        );
        assert_eq!(
            text.matches("mailsetup_endpoint_up{").count(),
            1,
            "a duplicate label set is written once: {text}"
        );
        assert!(text.contains(
            "mailsetup_run_timestamp_seconds{command=\"probe\",target=\"h\"} 1700000000"
        ));
        assert!(text.contains("mailsetup_endpoint_duration_seconds{target=\"h\",url=\"imaps://h:993\",protocol=\"imap\",host=\"h\",port=\"993\",security=\"tls\"} 1.5"), "{text}");
    }
}
