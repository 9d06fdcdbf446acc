//! `--format nagios`: the monitoring-plugin conventions (Nagios, Icinga, Naemon, Shinken).
//!
//! - Exit status 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN (usage errors: the CLI's job).
//! - First line: `MAILSETUP STATE - the worst finding | perfdata`; then one line per endpoint.
//! - Perfdata `'label'=value[UOM];[warn];[crit];[min];[max]` with threshold ranges as the
//!   guidelines define them (`21:` = alert below 21, `85` = alert above 85).
//!
//! Certificate expiry and quota are judged by the thresholds given here, not by the report's
//! fixed `cert-expires-soon` (30 days) and `quota-nearly-full` (90 %) warnings; every other
//! problem counts by its severity (error = CRITICAL, warning = WARNING).

use std::fmt::Write;

use super::escape::terminal_safe;
use super::{
    summary, CheckReport, Code, EndpointReport, LoginStatus, ProbeReport, Problem, Quota, Severity,
    Status,
};

/// The plugin states, in the order of their exit codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum State {
    Ok = 0,
    Warning = 1,
    Critical = 2,
    Unknown = 3,
}

impl State {
    pub fn code(self) -> i32 {
        self as i32
    }
    pub fn as_str(self) -> &'static str {
        match self {
            State::Ok => "OK",
            State::Warning => "WARNING",
            State::Critical => "CRITICAL",
            State::Unknown => "UNKNOWN",
        }
    }
}

/// Thresholds (`--warn-cert-days` …). Defaults: certificate 21/7 days, quota 85/95 %.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Thresholds {
    /// WARNING when a certificate has fewer days left than this.
    pub warn_cert_days: i64,
    /// CRITICAL when a certificate has fewer days left than this.
    pub crit_cert_days: i64,
    /// WARNING when more than this percentage of the quota is used.
    pub warn_quota: f64,
    /// CRITICAL when more than this percentage of the quota is used.
    pub crit_quota: f64,
    /// WARNING when the whole run took longer than this many seconds.
    pub warn_time: Option<f64>,
    /// CRITICAL when the whole run took longer than this many seconds.
    pub crit_time: Option<f64>,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            warn_cert_days: 21,
            crit_cert_days: 7,
            warn_quota: 85.0,
            crit_quota: 95.0,
            warn_time: None,
            crit_time: None,
        }
    }
}

/// What the plugin prints and how it exits.
#[derive(Debug, Clone, PartialEq)]
pub struct PluginOutput {
    pub state: State,
    pub text: String,
}

/// The UNKNOWN output for a usage error or bad input.
pub fn unknown(message: &str) -> PluginOutput {
    PluginOutput {
        state: State::Unknown,
        text: format!("MAILSETUP UNKNOWN - {}\n", one_line(message)),
    }
}

/// Server text on one plugin line: visible escapes, and no `|` (it starts the perfdata).
fn one_line(s: &str) -> String {
    terminal_safe(s).replace('|', "/")
}

/// Codes the thresholds decide in this mode.
fn judged_by_thresholds(code: Code) -> bool {
    matches!(code, Code::CertExpiresSoon | Code::QuotaNearlyFull)
}

fn state_of(severity: Severity) -> State {
    match severity {
        Severity::Error => State::Critical,
        Severity::Warning => State::Warning,
        Severity::Info => State::Ok,
    }
}

/// A perfdata label: letters, digits, `._-` only, so no quoting is ever needed.
fn label(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '_'
            }
        })
        .collect()
}

fn secs(ms: u64) -> String {
    format!("{:.3}", ms as f64 / 1000.0)
}

fn num(x: f64) -> String {
    let s = format!("{x:.3}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// The certificate with the fewest days left among those the endpoints presented.
fn min_cert_days(endpoints: &[EndpointReport]) -> Option<(i64, &EndpointReport)> {
    endpoints
        .iter()
        .filter_map(|e| {
            let c = e.tls.as_ref()?.certificate.as_ref()?;
            Some((c.days_left, e))
        })
        .min_by_key(|(d, _)| *d)
}

struct Findings {
    list: Vec<(State, String)>,
}

impl Findings {
    fn add(&mut self, state: State, text: String) {
        if state != State::Ok {
            self.list.push((state, text));
        }
    }
    /// The worst state, and the first finding with it.
    fn worst(&self) -> Option<&(State, String)> {
        let max = self.list.iter().map(|(s, _)| *s).max()?;
        self.list.iter().find(|(s, _)| *s == max)
    }
}

/// Everything the plugin judges, shared by check and probe.
struct Subject<'a> {
    what: String,
    endpoints: &'a [EndpointReport],
    account: &'a [Problem],
    quota: Option<&'a Quota>,
    elapsed_ms: u64,
    /// The command's own verdict (exit status 1): never reported as OK.
    failed: bool,
    ok_text: String,
}

fn evaluate(s: &Subject, th: &Thresholds) -> PluginOutput {
    let mut f = Findings { list: Vec::new() };
    if let Some(w) = summary::worst_where(s.endpoints, s.account, |p| {
        p.severity != Severity::Info && !judged_by_thresholds(p.code)
    }) {
        let mut text = format!("{}: {}", w.problem.code.as_str(), w.describe());
        if let Some(sc) = &w.problem.server_code {
            let _ = write!(text, " (server: {sc})");
        }
        // An error the account does not depend on (another discovered server; the command
        // exited 0) is a warning here; --strict makes every endpoint count.
        let state = match state_of(w.problem.severity) {
            State::Critical if !s.failed => {
                text.push_str(" (the account works without it; --strict counts it)");
                State::Warning
            }
            st => st,
        };
        f.add(state, text);
    }
    if s.failed && f.list.is_empty() {
        f.add(State::Critical, "the check failed".into());
    }
    if let Some((days, e)) = min_cert_days(s.endpoints) {
        let state = if days < th.crit_cert_days {
            State::Critical
        } else if days < th.warn_cert_days {
            State::Warning
        } else {
            State::Ok
        };
        let text = if days < 0 {
            format!("the certificate of {} expired {} days ago", e.url, -days)
        } else {
            format!(
                "the certificate of {} expires in {days} days (warning below {}, critical below {})",
                e.url, th.warn_cert_days, th.crit_cert_days
            )
        };
        f.add(state, text);
    }
    if let Some(p) = s.quota.and_then(|q| q.percent) {
        let state = if p > th.crit_quota {
            State::Critical
        } else if p > th.warn_quota {
            State::Warning
        } else {
            State::Ok
        };
        f.add(
            state,
            format!(
                "the mailbox uses {p:.1} % of its quota (warning above {}, critical above {})",
                num(th.warn_quota),
                num(th.crit_quota)
            ),
        );
    }
    let elapsed = s.elapsed_ms as f64 / 1000.0;
    let time_state = match (th.warn_time, th.crit_time) {
        (_, Some(c)) if elapsed > c => State::Critical,
        (Some(w), _) if elapsed > w => State::Warning,
        _ => State::Ok,
    };
    f.add(time_state, format!("the check took {elapsed:.2} s"));

    let (state, headline) = match f.worst() {
        Some((st, text)) => (*st, text.clone()),
        None => (State::Ok, s.ok_text.clone()),
    };
    let mut out = format!(
        "MAILSETUP {} - {}: {} | {}\n",
        state.as_str(),
        one_line(&s.what),
        one_line(&headline),
        perfdata(s, th)
    );
    for e in s.endpoints {
        out.push_str(&endpoint_line(e));
        out.push('\n');
    }
    for (st, text) in f.list.iter().filter(|(_, t)| *t != headline) {
        let _ = writeln!(out, "also {}: {}", st.as_str(), one_line(text));
    }
    PluginOutput { state, text: out }
}

fn perfdata(s: &Subject, th: &Thresholds) -> String {
    let mut p: Vec<String> = Vec::new();
    let opt = |x: Option<f64>| x.map(num).unwrap_or_default();
    p.push(format!(
        "time={}s;{};{};0;",
        secs(s.elapsed_ms),
        opt(th.warn_time),
        opt(th.crit_time)
    ));
    for e in s.endpoints {
        p.push(format!(
            "time_{}_{}_{}={}s;;;0;",
            e.url.split("://").next().unwrap_or("x"),
            label(&e.host),
            e.port,
            secs(e.elapsed_ms)
        ));
    }
    if let Some((days, _)) = min_cert_days(s.endpoints) {
        p.push(format!(
            "cert_days={days};{}:;{}:;;",
            th.warn_cert_days, th.crit_cert_days
        ));
    }
    if let Some(q) = s.quota {
        if let Some(pct) = q.percent {
            p.push(format!(
                "quota_pct={}%;{};{};0;100",
                num(pct),
                num(th.warn_quota),
                num(th.crit_quota)
            ));
        }
        if let Some(used) = q.used_bytes {
            let max = q.limit_bytes.map(|l| l.to_string()).unwrap_or_default();
            p.push(format!("quota_used={used}B;;;0;{max}"));
        }
    }
    p.join(" ")
}

fn endpoint_line(e: &EndpointReport) -> String {
    let state = match e.status {
        Status::Ok => "OK",
        Status::Warning => "WARNING",
        Status::Error => "CRITICAL",
        Status::NotOffered => "NOT OFFERED",
    };
    let mut parts: Vec<String> = Vec::new();
    if let Some(tls) = &e.tls {
        if let Some(v) = &tls.version {
            parts.push(v.clone());
        }
        if let Some(c) = &tls.certificate {
            parts.push(format!("certificate {} days", c.days_left));
        }
    }
    if let Some(l) = &e.login {
        parts.push(match l.status {
            LoginStatus::Ok => format!("login ok ({})", l.mechanism.as_deref().unwrap_or("")),
            LoginStatus::Failed => "login FAILED".into(),
            LoginStatus::Skipped => "login skipped".into(),
            LoginStatus::NotAttempted => "login not attempted".into(),
        });
    }
    parts.push(format!("{} ms", e.elapsed_ms));
    let mut line = format!("{} {state}: {}", e.url, parts.join(", "));
    if let Some(p) = e
        .problems
        .iter()
        .filter(|p| p.severity != Severity::Info)
        .min_by_key(|p| p.severity)
    {
        let _ = write!(line, "; {}: {}", p.code.as_str(), p.message);
    }
    one_line(&line)
}

/// `check --format nagios`; `exit_code` is the command's own verdict (`app::check::exit_code`).
pub fn render_check(r: &CheckReport, th: &Thresholds, exit_code: i32) -> PluginOutput {
    let logins = r
        .endpoints
        .iter()
        .filter(|e| {
            e.login
                .as_ref()
                .is_some_and(|l| l.status == LoginStatus::Ok)
        })
        .count();
    let ok_text = format!(
        "{} endpoints ok, login verified on {logins}{}",
        r.endpoints.len(),
        match r.quota.as_ref().and_then(|q| q.percent) {
            Some(p) => format!(", quota {p:.1} % used"),
            None => String::new(),
        }
    );
    evaluate(
        &Subject {
            what: r.address.clone(),
            endpoints: &r.endpoints,
            account: &r.problems,
            quota: r.quota.as_ref(),
            elapsed_ms: r.elapsed_ms,
            failed: exit_code != 0,
            ok_text,
        },
        th,
    )
}

/// `probe --format nagios`; `exit_code` is the command's own verdict (`app::probe::exit_code`).
pub fn render_probe(r: &ProbeReport, th: &Thresholds, exit_code: i32) -> PluginOutput {
    evaluate(
        &Subject {
            what: r
                .endpoints
                .first()
                .map(|e| e.host.clone())
                .unwrap_or_default(),
            endpoints: &r.endpoints,
            account: &[],
            quota: None,
            elapsed_ms: r.elapsed_ms,
            failed: exit_code != 0,
            ok_text: format!("{} endpoints ok", r.endpoints.len()),
        },
        th,
    )
}

/// `discover --format nagios`: OK when servers were found, CRITICAL when none.
pub fn render_discover(
    address: &str,
    d: &crate::discover::Discovery,
    elapsed_ms: u64,
    th: &Thresholds,
) -> PluginOutput {
    let elapsed = elapsed_ms as f64 / 1000.0;
    let (mut state, mut text) = if d.candidates.is_empty() {
        (State::Critical, "no mail server found".to_string())
    } else {
        (
            State::Ok,
            format!("{} candidate endpoints found", d.candidates.len()),
        )
    };
    let time_state = match (th.warn_time, th.crit_time) {
        (_, Some(c)) if elapsed > c => State::Critical,
        (Some(w), _) if elapsed > w => State::Warning,
        _ => State::Ok,
    };
    if time_state > state {
        state = time_state;
        text = format!("discovery took {elapsed:.2} s");
    }
    let opt = |x: Option<f64>| x.map(num).unwrap_or_default();
    let mut out = format!(
        "MAILSETUP {} - {}: {} | time={}s;{};{};0; candidates={};;;0;\n",
        state.as_str(),
        one_line(address),
        text,
        secs(elapsed_ms),
        opt(th.warn_time),
        opt(th.crit_time),
        d.candidates.len()
    );
    for c in &d.candidates {
        let _ = writeln!(
            out,
            "{} from {}",
            one_line(&c.endpoint.to_string()),
            c.source.as_str()
        );
    }
    PluginOutput { state, text: out }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Endpoint;
    use crate::report::{CertReport, TlsReport};

    fn endpoint(url: &str, days: Option<i64>, problems: Vec<Problem>) -> EndpointReport {
        let ep: Endpoint = url.parse().unwrap();
        let mut e = EndpointReport::new(&ep);
        e.elapsed_ms = 42;
        e.tls = days.map(|d| TlsReport {
            version: Some("TLSv1.3".into()),
            cipher: None,
            certificate: Some(CertReport {
                subject: "CN=h".into(),
                issuer: "CN=ca".into(),
                sans: vec!["h".into()],
                not_before: "x".into(),
                not_after: "y".into(),
                days_left: d,
                trusted: true,
                hostname_match: true,
                sha256: "00".into(),
                ..CertReport::default()
            }),
        });
        e.problems = problems;
        e.finish();
        e
    }

    fn probe(eps: Vec<EndpointReport>) -> ProbeReport {
        ProbeReport {
            version: 1,
            command: "probe".into(),
            insecure: false,
            endpoints: eps,
            elapsed_ms: 1234,
        }
    }

    #[test]
    fn certificate_thresholds_decide_not_the_fixed_warning() {
        let soon = Problem::warning(Code::CertExpiresSoon, "expires in 10 days");
        let r = probe(vec![endpoint("imaps://h:993", Some(10), vec![soon])]);
        let out = render_probe(&r, &Thresholds::default(), 0);
        assert_eq!(out.state, State::Warning, "{}", out.text);
        assert!(out.text.starts_with(
            "MAILSETUP WARNING - h: the certificate of imaps://h:993 expires in 10 days"
        ));
        assert!(out.text.contains("cert_days=10;21:;7:;;"), "{}", out.text);
        let relaxed = Thresholds {
            warn_cert_days: 5,
            crit_cert_days: 2,
            ..Thresholds::default()
        };
        assert_eq!(render_probe(&r, &relaxed, 0).state, State::Ok);
        let strict = Thresholds {
            warn_cert_days: 30,
            crit_cert_days: 14,
            ..Thresholds::default()
        };
        assert_eq!(render_probe(&r, &strict, 0).state, State::Critical);
    }

    #[test]
    fn errors_are_critical_and_named_with_the_server_code() {
        let p = Problem::error(Code::LoginTemporaryFailure, "454 | oops\nx")
            .with_server_code(Some("454 4.7.0".into()));
        let r = probe(vec![
            endpoint("imaps://h:993", Some(300), vec![]),
            endpoint("smtps://h:465", Some(300), vec![p]),
        ]);
        let out = render_probe(&r, &Thresholds::default(), 1);
        assert_eq!(out.state, State::Critical);
        let first = out.text.lines().next().unwrap();
        assert!(first.starts_with("MAILSETUP CRITICAL - h: login-temporary-failure: smtps://h:465: 454 / oops\\nx (server: 454 4.7.0) | "), "{first}");
        assert_eq!(first.matches('|').count(), 1, "{first}");
        assert_eq!(out.text.lines().count(), 3, "{}", out.text);
        assert!(out.text.contains("time_imaps_h_993=0.042s;;;0;"));
    }

    #[test]
    fn an_error_the_account_does_not_depend_on_is_a_warning() {
        let p = Problem::error(Code::TlsCertExpired, "expired");
        let r = probe(vec![
            endpoint("imaps://h:993", Some(300), vec![]),
            endpoint("imap://other:143", Some(300), vec![p]),
        ]);
        let lenient = render_probe(&r, &Thresholds::default(), 0);
        assert_eq!(lenient.state, State::Warning, "{}", lenient.text);
        assert!(
            lenient.text.contains("--strict counts it"),
            "{}",
            lenient.text
        );
        assert_eq!(
            render_probe(&r, &Thresholds::default(), 1).state,
            State::Critical
        );
    }

    #[test]
    fn time_thresholds() {
        let r = probe(vec![endpoint("imaps://h:993", Some(300), vec![])]);
        let th = Thresholds {
            warn_time: Some(1.0),
            crit_time: Some(2.0),
            ..Thresholds::default()
        };
        let out = render_probe(&r, &th, 0);
        assert_eq!(out.state, State::Warning);
        assert!(out.text.contains("time=1.234s;1;2;0;"), "{}", out.text);
    }

    #[test]
    fn usage_errors_are_unknown() {
        let u = unknown("--warn-quota: invalid | value");
        assert_eq!(u.state.code(), 3);
        assert_eq!(
            u.text,
            "MAILSETUP UNKNOWN - --warn-quota: invalid / value\n"
        );
    }
}
