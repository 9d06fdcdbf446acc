//! `--html FILE`: one self-contained page for a helpdesk ticket — verdict, problems with what
//! to do, recommended settings, the waterfall, every endpoint and discovery attempt, the
//! certificates, the tool version and time.
//!
//! Self-contained: inline CSS and inline SVG only, no script, no font, no image, no link; a
//! Content-Security-Policy of `default-src 'none'` makes the browser refuse any request the
//! page could still cause. Readable without JavaScript and printable.
//!
//! Escaping: the page is built with `maud`, whose `html!` escapes every spliced value; the
//! only unescaped text is our own constant style sheet. Server text additionally goes through
//! [`terminal_safe`] so control and bidi characters are shown, not obeyed.

use maud::{html, Markup, PreEscaped, DOCTYPE};

use super::escape::terminal_safe;
use super::waterfall::{self, Row};
use super::{
    summary, CheckReport, EndpointReport, LoginStatus, ProbeReport, Problem, Quota, Recommended,
    Severity, Status,
};
use crate::discover::{AttemptResult, Discovery};
use crate::model::{AuthMethod, Security};

/// Where and when the report was made.
#[derive(Debug, Clone)]
pub struct Meta {
    /// `mailsetup 0.1.0`
    pub tool: String,
    /// RFC 3339, UTC.
    pub generated_at: String,
}

/// Server-controlled text, made visible (control and bidi characters escaped).
fn t(s: &str) -> String {
    terminal_safe(s)
}

const CSS: &str = r#"
:root { --ok:#1a7f37; --warn:#9a6700; --err:#cf222e; --info:#0969da; --mute:#57606a; --line:#d0d7de; }
* { box-sizing: border-box; }
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; margin: 0 auto; padding: 1.5rem; max-width: 1100px; color: #1f2328; background: #fff; line-height: 1.4; }
h1 { font-size: 1.5rem; margin: 0 0 .25rem; }
h2 { font-size: 1.15rem; margin: 1.6rem 0 .5rem; border-bottom: 1px solid var(--line); padding-bottom: .2rem; }
.meta { color: var(--mute); font-size: .85rem; }
.verdict { border-radius: 6px; padding: .8rem 1rem; margin: 1rem 0; border: 2px solid; }
.verdict.ok { border-color: var(--ok); background: #dafbe1; }
.verdict.warning { border-color: var(--warn); background: #fff8c5; }
.verdict.error { border-color: var(--err); background: #ffebe9; }
.verdict strong { font-size: 1.2rem; }
table { border-collapse: collapse; width: 100%; font-size: .85rem; margin: .3rem 0; }
th, td { border: 1px solid var(--line); padding: .25rem .4rem; text-align: left; vertical-align: top; }
th { background: #f6f8fa; }
td.text, span.text { font-family: ui-monospace, "DejaVu Sans Mono", monospace; white-space: pre-wrap; word-break: break-all; }
.badge { display: inline-block; padding: 0 .35rem; border-radius: 4px; color: #fff; font-size: .75rem; font-weight: 600; }
.badge.ok { background: var(--ok); } .badge.warning { background: var(--warn); }
.badge.error { background: var(--err); } .badge.info { background: var(--info); }
.badge.not-offered { background: var(--mute); }
.hint { color: #1f2328; }
.muted { color: var(--mute); }
dl.settings { display: grid; grid-template-columns: max-content 1fr; gap: .1rem 1rem; margin: .3rem 0 .8rem; }
dl.settings dt { color: var(--mute); } dl.settings dd { margin: 0; font-weight: 600; }
svg.waterfall { width: 100%; height: auto; font-family: ui-monospace, "DejaVu Sans Mono", monospace; }
svg.waterfall text { font-size: 11px; fill: #1f2328; }
svg.waterfall .axis { stroke: var(--line); }
svg.waterfall rect.bar { stroke: none; }
svg.waterfall rect.bar.st-error, svg.waterfall rect.bar.st-timeout { stroke: var(--err); stroke-width: 2; }
.ph-dns { fill: #8250df; } .ph-connect { fill: #0969da; } .ph-greeting { fill: #1b7c83; }
.ph-starttls { fill: #bf8700; } .ph-tls-handshake { fill: #fb8500; } .ph-capabilities { fill: #57606a; }
.ph-login { fill: #1a7f37; } .ph-quota { fill: #4ac26b; } .ph-round-trip { fill: #bc4c00; }
.ph-http { fill: #6639ba; } .ph-database { fill: #8c959f; }
.legend span { display: inline-block; margin-right: .8rem; font-size: .8rem; }
.legend svg { vertical-align: middle; }
footer { margin-top: 2rem; color: var(--mute); font-size: .8rem; border-top: 1px solid var(--line); padding-top: .5rem; }
@media print {
  body { padding: 0; max-width: none; font-size: 10pt; }
  h2 { break-after: avoid; }
  table, svg, .verdict, dl { break-inside: avoid; }
  .verdict { background: none !important; }
}
"#;

/// A whole page around `body`.
fn page(title: &str, meta: &Meta, body: Markup) -> String {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="generator" content=(meta.tool);
                title { (title) }
                style { (PreEscaped(CSS)) }
            }
            body {
                h1 { (title) }
                p.meta { "Made by " (meta.tool) " on " (meta.generated_at) ". This report contains no password or token." }
                (body)
                footer {
                    (meta.tool) " · " (meta.generated_at)
                    " · times are milliseconds since the run started · server text is shown as received (escaped)"
                }
            }
        }
    }
    .into_string()
}

fn status_word(s: Status) -> &'static str {
    match s {
        Status::Ok => "ok",
        Status::Warning => "warning",
        Status::Error => "error",
        Status::NotOffered => "not-offered",
    }
}

fn severity_word(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "info",
    }
}

fn verdict(status: Status, headline: &str, detail: &str) -> Markup {
    html! {
        div.verdict.(status_word(status)) id="verdict" data-status=(status_word(status)) {
            strong { (headline) }
            @if !detail.is_empty() { p { (t(detail)) } }
        }
    }
}

/// The verdict of a set of endpoints plus account-level problems; `failed` is the command's
/// own verdict (its exit status), which decides between "not working" and "works".
fn verdict_of(
    endpoints: &[EndpointReport],
    account: &[Problem],
    good: &str,
    failed: bool,
) -> Markup {
    let worst = summary::worst_problem(endpoints, account);
    match worst {
        Some(w) if failed => verdict(
            Status::Error,
            &format!("Not working: {}", w.problem.code.as_str()),
            &w.describe(),
        ),
        None if failed => verdict(Status::Error, "Not working", ""),
        Some(w) => verdict(
            Status::Warning,
            &format!(
                "Works, with {}: {}",
                if w.problem.severity == Severity::Error {
                    "a problem elsewhere"
                } else {
                    "a warning"
                },
                w.problem.code.as_str()
            ),
            &w.describe(),
        ),
        None => verdict(Status::Ok, good, ""),
    }
}

fn problems(endpoints: &[EndpointReport], account: &[Problem]) -> Markup {
    let rows: Vec<(String, &Problem)> = endpoints
        .iter()
        .flat_map(|e| e.problems.iter().map(move |p| (e.url.clone(), p)))
        .chain(account.iter().map(|p| ("account".to_string(), p)))
        .collect();
    html! {
        h2 id="problems" { "Problems and what to do" }
        @if rows.is_empty() {
            p { "No problems found." }
        } @else {
            table.problems {
                thead { tr { th { "severity" } th { "where" } th { "problem" } th { "what happened" } th { "what to do" } } }
                tbody {
                    @for (place, p) in &rows {
                        tr data-code=(p.code.as_str()) {
                            td { span.badge.(severity_word(p.severity)) { (severity_word(p.severity)) } }
                            td { (t(place)) }
                            td {
                                code { (p.code.as_str()) }
                                @if let Some(sc) = &p.server_code { br; span.muted { "server: " span.text { (t(sc)) } } }
                            }
                            td.text { (t(&p.message)) }
                            td.hint { (p.hint.as_deref().unwrap_or("")) }
                        }
                    }
                }
            }
        }
    }
}

fn security_words(s: Security) -> &'static str {
    match s {
        Security::Tls => "SSL/TLS",
        Security::StartTls => "STARTTLS",
        Security::Plain => "none",
    }
}

fn recommended(rec: Option<&Recommended>) -> Markup {
    html! {
        h2 id="recommended" { "Recommended settings" }
        @match rec {
            None => p { "None: no incoming and outgoing server passed every check." },
            Some(rec) => {
                p { @if rec.verified { "Login verified with these settings." } @else { "Not verified: no password was given, so only the servers were checked." } }
                @for (label, s) in [("Incoming", &rec.settings.incoming), ("Outgoing", &rec.settings.outgoing)] {
                    h3 { (label) ": " (s.endpoint.protocol.as_str().to_uppercase()) }
                    dl.settings {
                        dt { "Server" } dd { (t(&s.endpoint.host)) }
                        dt { "Port" } dd { (s.endpoint.port) }
                        dt { "Connection security" } dd { (security_words(s.endpoint.security)) }
                        dt { "User name" } dd { (t(&s.username)) }
                        dt { "Authentication" } dd { (match s.auth {
                            AuthMethod::PasswordCleartext => "Normal password",
                            AuthMethod::PasswordEncrypted => "Encrypted password",
                            AuthMethod::OAuth2 => "OAuth2",
                            AuthMethod::None => "No authentication",
                        }) }
                    }
                }
            }
        }
    }
}

/// `check --round-trip`: the same block as the terminal's (server text already made visible
/// there), escaped by maud like everything else.
fn round_trip(rt: Option<&super::roundtrip::RoundTripReport>) -> Markup {
    html! {
        @if let Some(rt) = rt {
            h2 id="round-trip" { "Round trip" }
            pre { (super::roundtrip::text_block(rt)) }
        }
    }
}

fn quota(q: Option<&Quota>) -> Markup {
    html! {
        @if let Some(q) = q {
            h2 id="quota" { "Storage" }
            p {
                @match (q.used_bytes, q.limit_bytes, q.percent) {
                    (Some(u), Some(l), Some(p)) => { (bytes(u)) " of " (bytes(l)) " used (" (format!("{p:.1}")) " %)" },
                    (Some(u), _, _) => { (bytes(u)) " used (the server reports no limit)" },
                    _ => "unknown",
                }
                @if let Some(m) = q.messages { ", " (m) " messages in the inbox" }
                span.muted { " [" (q.source) " via " (t(&q.url)) "]" }
            }
        }
    }
}

/// Layout of the SVG waterfall (also written into data attributes for tests and tools).
const LABEL_W: f64 = 330.0;
const CHART_W: f64 = 640.0;
const ROW_H: f64 = 18.0;
const TOP: f64 = 22.0;

/// A round tick step giving about six ticks over `end` ms.
fn tick_step(end: u64) -> u64 {
    let raw = (end as f64 / 6.0).max(1.0);
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * mag);
    step.max(1.0) as u64
}

fn waterfall(rows: &[Row]) -> Markup {
    let end = waterfall::axis_end(rows);
    let scale = CHART_W / end as f64;
    let height = TOP + ROW_H * rows.len() as f64 + 6.0;
    let width = LABEL_W + CHART_W + 20.0;
    let step = tick_step(end);
    let ticks: Vec<u64> = (0..=end / step).map(|i| i * step).collect();
    let names: Vec<&str> = {
        let mut v: Vec<_> = rows
            .iter()
            .flat_map(|r| r.phases.iter().map(|p| p.name))
            .collect();
        v.sort();
        v.dedup();
        v.into_iter().map(|n| n.as_str()).collect()
    };
    html! {
        h2 id="waterfall" { "Timing waterfall" }
        @if rows.iter().all(|r| r.phases.is_empty()) {
            p { "No timings were recorded." }
        } @else {
            p.legend {
                @for n in &names {
                    span { svg width="12" height="12" { rect class={ "ph-" (n) } width="12" height="12" {} } " " (n) }
                }
                span.muted { "red outline = failed or timed out" }
            }
            svg.waterfall id="waterfall-chart" xmlns="http://www.w3.org/2000/svg" role="img"
                viewBox=(format!("0 0 {width} {height}")) width=(width) height=(height)
                data-origin-x=(LABEL_W) data-px-per-ms=(scale) data-end-ms=(end) {
                title { "Phases of every discovery lookup and endpoint, in milliseconds since the run started" }
                @for tick in &ticks {
                    @let x = LABEL_W + *tick as f64 * scale;
                    line.axis x1=(x) x2=(x) y1=(TOP - 4.0) y2=(height) {}
                    text x=(x) y=(TOP - 8.0) text-anchor="middle" { (tick) " ms" }
                }
                @for (i, row) in rows.iter().enumerate() {
                    @let y = TOP + ROW_H * i as f64;
                    g.row data-kind=(row.kind.as_str()) data-key=(row.key) {
                        text x="4" y=(y + 12.0) { (clip(&t(&row.label), 46)) }
                        @for (j, p) in row.phases.iter().enumerate() {
                            @let w = ((p.end_ms - p.start_ms) as f64 * scale).max(1.0);
                            rect class={ "bar ph-" (p.name.as_str()) " st-" (p.status.as_str()) }
                                x=(LABEL_W + p.start_ms as f64 * scale) y=(y + 3.0) width=(w) height=(ROW_H - 6.0)
                                data-index=(j) data-phase=(p.name.as_str()) data-start-ms=(p.start_ms)
                                data-end-ms=(p.end_ms) data-status=(p.status.as_str()) {
                                title { (t(&row.label)) ": " (p.name.as_str()) " " (p.start_ms) "–" (p.end_ms) " ms (" (p.status.as_str()) ")" }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}

fn bytes(n: u64) -> String {
    const K: f64 = 1024.0;
    match n {
        n if n >= 1 << 30 => format!("{:.1} GiB", n as f64 / (K * K * K)),
        n if n >= 1 << 20 => format!("{:.1} MiB", n as f64 / (K * K)),
        n if n >= 1 << 10 => format!("{:.1} KiB", n as f64 / K),
        n => format!("{n} bytes"),
    }
}

fn clip(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let cut: String = s.chars().take(max - 1).collect();
        format!("{cut}…")
    }
}

fn login_cell(e: &EndpointReport) -> Markup {
    html! {
        @match &e.login {
            None => "",
            Some(l) => {
                (match l.status {
                    LoginStatus::Ok => "ok",
                    LoginStatus::Failed => "failed",
                    LoginStatus::Skipped => "skipped",
                    LoginStatus::NotAttempted => "not sent",
                })
                @if let Some(m) = &l.mechanism { " " (m) }
                @if let Some(u) = &l.username { br; span.muted { "as " (t(u)) } }
                @if !l.message.is_empty() { br; span.text { (t(&l.message)) } }
            }
        }
    }
}

fn endpoints_table(endpoints: &[EndpointReport]) -> Markup {
    html! {
        h2 id="endpoints" { "Endpoints" }
        table.endpoints {
            thead { tr { th { "endpoint" } th { "status" } th { "TLS" } th { "greeting" } th { "login methods" } th { "login" } th { "time" } } }
            tbody {
                @for e in endpoints {
                    tr data-url=(e.url) {
                        td {
                            code { (t(&e.url)) }
                            @if let Some(a) = &e.address { br; span.muted { "at " (a) } }
                            @if let Some(s) = &e.source { br; span.muted { "from " (s) } }
                        }
                        td { span.badge.(status_word(e.status)) { (status_word(e.status)) } }
                        td {
                            @match &e.tls {
                                None => { @if e.security == Security::Plain { "none" } @else { "-" } },
                                Some(tls) => {
                                    (tls.version.as_deref().unwrap_or("refused"))
                                    @if let Some(c) = &tls.cipher { br; span.muted { (c) } }
                                },
                            }
                        }
                        td.text.greeting { (e.greeting.as_deref().map(t).unwrap_or_default()) }
                        td { (t(&e.auth_mechanisms.join(" "))) }
                        td { (login_cell(e)) }
                        td { (e.elapsed_ms) " ms" }
                    }
                }
            }
        }
    }
}

fn certificates(endpoints: &[EndpointReport]) -> Markup {
    let mut certs: Vec<(&super::CertReport, Vec<&str>)> = Vec::new();
    for e in endpoints {
        if let Some(c) = e.tls.as_ref().and_then(|x| x.certificate.as_ref()) {
            match certs.iter_mut().find(|(x, _)| x.sha256 == c.sha256) {
                Some((_, urls)) => urls.push(&e.url),
                None => certs.push((c, vec![&e.url])),
            }
        }
    }
    html! {
        @if !certs.is_empty() {
            h2 id="certificates" { "Certificates" }
            @for (c, urls) in &certs {
                table.certificate data-sha256=(c.sha256) {
                    tbody {
                        tr { th { "subject" } td.text { (t(&c.subject)) } }
                        tr { th { "issuer" } td.text { (t(&c.issuer)) } }
                        tr { th { "names (SANs)" } td.text { (t(&c.sans.join(", "))) } }
                        tr { th { "valid" } td { (t(&c.not_before)) " to " (t(&c.not_after)) } }
                        tr { th { "days left" } td data-days-left=(c.days_left) {
                            (c.days_left)
                            @if c.days_left < 0 { " (expired)" }
                        } }
                        tr { th { "trusted / name matches" } td {
                            (if c.trusted { "trusted" } else { "NOT trusted" }) " / "
                            (if c.hostname_match { "name matches" } else { "name does NOT match" })
                        } }
                        tr { th { "SHA-256 fingerprint" } td.text { (c.sha256) } }
                        tr { th { "used by" } td { (t(&urls.join(", "))) } }
                    }
                }
            }
        }
    }
}

fn discovery(d: Option<&Discovery>) -> Markup {
    html! {
        @if let Some(d) = d {
            h2 id="discovery" { "Discovery: every lookup" }
            @if let Some(p) = &d.provider { p { "Provider: " (t(p)) } }
            table.attempts {
                thead { tr { th { "source" } th { "looked up" } th { "result" } th { "detail" } th { "time" } } }
                tbody {
                    @for (i, a) in d.attempts.iter().enumerate() {
                        tr data-key=(format!("attempt-{i}")) data-result=(a.result.as_str()) {
                            td { (a.source.as_str()) }
                            td.text { (t(&a.target)) }
                            td { span.badge.(match a.result {
                                AttemptResult::Found => "ok",
                                AttemptResult::NotFound => "info",
                                AttemptResult::Error | AttemptResult::Timeout => "error",
                            }) { (a.result.as_str()) } }
                            td.text { (t(&a.detail)) }
                            td { (a.elapsed_ms) " ms" }
                        }
                    }
                }
            }
            h3 { "Candidates, best first" }
            @if d.candidates.is_empty() {
                p { "No server was found." }
            } @else {
                table.candidates {
                    thead { tr { th { "endpoint" } th { "user name" } th { "source" } th { "credentials" } } }
                    tbody {
                        @for c in &d.candidates {
                            tr {
                                td { code { (t(&c.endpoint.to_string())) } }
                                td { (t(&c.username)) }
                                td { (c.source.as_str()) }
                                td { @if c.trusted { "may be sent" } @else { "not sent (outside the address's domain)" } }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// `check --html`; `exit_code` is the command's own verdict (`app::check::exit_code`).
pub fn render_check(r: &CheckReport, meta: &Meta, exit_code: i32) -> String {
    let rows = waterfall::rows(r.discovery.as_ref(), &r.endpoints);
    let good = match &r.recommended {
        Some(rec) if rec.verified => "Working: login verified on the recommended servers",
        Some(_) => "Servers reachable (login not checked: no password given)",
        None => "Checked",
    };
    let body = html! {
        p { "Account " strong { (t(&r.address)) } ", user name " strong { (t(&r.username)) }
            " · " (plural(r.endpoints.len(), "endpoint")) " · " (r.elapsed_ms) " ms"
            @if r.insecure { " · " strong { "certificate checks were OFF (--insecure)" } } }
        (verdict_of(&r.endpoints, &r.problems, good, exit_code != 0))
        (problems(&r.endpoints, &r.problems))
        (recommended(r.recommended.as_ref()))
        (round_trip(r.round_trip.as_ref()))
        (quota(r.quota.as_ref()))
        (waterfall(&rows))
        (endpoints_table(&r.endpoints))
        (certificates(&r.endpoints))
        (discovery(r.discovery.as_ref()))
    };
    page(&format!("mailsetup check {}", t(&r.address)), meta, body)
}

/// `probe --html`; `exit_code` is the command's own verdict (`app::probe::exit_code`).
pub fn render_probe(r: &ProbeReport, meta: &Meta, exit_code: i32) -> String {
    let rows = waterfall::rows(None, &r.endpoints);
    let body = html! {
        p { (plural(r.endpoints.len(), "endpoint")) " probed (no login) · " (r.elapsed_ms) " ms"
            @if r.insecure { " · " strong { "certificate checks were OFF (--insecure)" } } }
        (verdict_of(&r.endpoints, &[], "All endpoints reachable and secure", exit_code != 0))
        (problems(&r.endpoints, &[]))
        (waterfall(&rows))
        (endpoints_table(&r.endpoints))
        (certificates(&r.endpoints))
    };
    let host = r
        .endpoints
        .first()
        .map(|e| e.host.as_str())
        .unwrap_or_default();
    page(&format!("mailsetup probe {}", t(host)), meta, body)
}

/// `discover --html`.
pub fn render_discover(address: &str, d: &Discovery, elapsed_ms: u64, meta: &Meta) -> String {
    let rows = waterfall::rows(Some(d), &[]);
    let body = html! {
        p { "Address " strong { (t(address)) } " · " (plural(d.attempts.len(), "lookup")) " · " (elapsed_ms) " ms · no mail port was touched" }
        @if d.candidates.is_empty() {
            (verdict(Status::Error, "No mail server found", "No source knew this domain's mail servers. Check the spelling of the address; ask the provider for its server names."))
        } @else {
            (verdict(Status::Ok, &format!("{} candidate endpoints found", d.candidates.len()), ""))
        }
        (waterfall(&rows))
        (discovery(Some(d)))
    };
    page(&format!("mailsetup discover {}", t(address)), meta, body)
}

#[cfg(test)]
#[path = "html_tests.rs"]
mod tests;
