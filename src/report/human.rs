//! Human-readable rendering: a compact table of endpoints, then certificates, problems with
//! what to do, storage, the recommended settings to copy, and a summary. Colour only when the
//! caller says so (a terminal, NO_COLOR unset). Every server-controlled string goes through
//! `terminal_safe`.

use std::fmt::Write;

use super::escape::terminal_safe as safe;
use super::{
    CheckReport, Code, EndpointReport, LoginStatus, ProbeReport, Quota, Recommended, Severity,
    Status,
};
use crate::model::{AuthMethod, Security};

/// How to render: with ANSI colour or not.
#[derive(Debug, Clone, Copy, Default)]
pub struct Style {
    pub color: bool,
}

impl Style {
    fn paint(&self, code: &str, s: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    }
    fn status(&self, s: Status) -> String {
        match s {
            Status::Ok => self.paint("32", "ok"),
            Status::Warning => self.paint("33", "warning"),
            Status::Error => self.paint("1;31", "error"),
            Status::NotOffered => self.paint("2", "not-offered"),
        }
    }
    fn severity(&self, s: Severity) -> String {
        match s {
            Severity::Error => self.paint("1;31", "error"),
            Severity::Warning => self.paint("33", "warning"),
            Severity::Info => self.paint("36", "info"),
        }
    }
    fn bold(&self, s: &str) -> String {
        self.paint("1", s)
    }
}

fn tls_cell(e: &EndpointReport) -> String {
    match &e.tls {
        None if e.security == Security::Plain => "none".into(),
        None => "-".into(),
        Some(t) => t.version.clone().unwrap_or_else(|| "refused".into()),
    }
}

fn cert_cell(e: &EndpointReport) -> String {
    let Some(c) = e.tls.as_ref().and_then(|t| t.certificate.as_ref()) else {
        return "-".into();
    };
    let mut s = String::new();
    let has = |code: Code| e.problems.iter().any(|p| p.code == code);
    s.push_str(if c.pinned {
        "pinned"
    } else if has(Code::TlsCertSelfSigned) {
        "self-signed"
    } else if has(Code::TlsCertChainIncomplete) {
        "incomplete chain"
    } else if !c.trusted {
        "untrusted"
    } else if !c.hostname_match {
        "wrong name"
    } else if c.days_left < 0 {
        "expired"
    } else {
        "valid"
    });
    let _ = write!(s, ", {} d", c.days_left);
    s
}

/// The trust policy's decision: its reason, and loudly when it says no.
fn trust_cell(e: &EndpointReport) -> String {
    match e.trust_reason {
        Some(r) if e.trusted => r.as_str().to_string(),
        Some(r) => format!("NO ({r})"),
        None => "-".into(),
    }
}

fn login_cell(e: &EndpointReport) -> String {
    match &e.login {
        None => String::new(),
        Some(l) => match l.status {
            LoginStatus::Ok => format!("ok {}", l.mechanism.as_deref().unwrap_or("")),
            LoginStatus::Failed => format!("FAILED {}", l.mechanism.as_deref().unwrap_or("")),
            LoginStatus::Skipped => "skipped".into(),
            LoginStatus::NotAttempted => "not sent".into(),
        },
    }
}

/// The endpoint table (one row per endpoint that answered or failed), then the ports of
/// candidates where nothing listens collapsed into one line. Cells are padded before
/// colouring so columns line up.
fn table(out: &mut String, all: &[EndpointReport], with_login: bool, st: Style) {
    let (not_offered, endpoints): (Vec<&EndpointReport>, Vec<&EndpointReport>) =
        all.iter().partition(|e| e.status == Status::NotOffered);
    let mut rows: Vec<[String; 7]> = vec![[
        "ENDPOINT".into(),
        "STATUS".into(),
        "TRUST".into(),
        "TLS".into(),
        "CERTIFICATE".into(),
        "AUTH MECHANISMS".into(),
        if with_login {
            "LOGIN".into()
        } else {
            String::new()
        },
    ]];
    for e in &endpoints {
        rows.push([
            safe(&e.url),
            String::new(),
            trust_cell(e),
            tls_cell(e),
            cert_cell(e),
            safe(&e.auth_mechanisms.join(" ")),
            if with_login {
                safe(&login_cell(e))
            } else {
                String::new()
            },
        ]);
    }
    let width = |i: usize| rows.iter().map(|r| r[i].chars().count()).max().unwrap_or(0);
    let widths: Vec<usize> = (0..7).map(width).collect();
    for (n, r) in rows.iter().enumerate() {
        let mut line = String::new();
        for (i, cell) in r.iter().enumerate() {
            let w = if i == 1 { 7 } else { widths[i] };
            let text = if i == 1 && n > 0 {
                let s = endpoints[n - 1].status;
                let word = s.as_str();
                format!(
                    "{}{}",
                    st.status(s),
                    " ".repeat(w.saturating_sub(word.len()))
                )
            } else if n == 0 {
                st.bold(&format!("{cell:<w$}"))
            } else {
                format!("{cell:<w$}")
            };
            line.push_str(&text);
            line.push_str("  ");
        }
        let _ = writeln!(out, "{}", line.trim_end());
    }
    if !not_offered.is_empty() {
        let urls: Vec<String> = not_offered.iter().map(|e| safe(&e.url)).collect();
        let _ = writeln!(
            out,
            "Not offered (nothing listens there): {}",
            urls.join(", ")
        );
    }
}

/// One line per distinct certificate: who it is for, who issued it, how long it is valid.
fn certificates(out: &mut String, endpoints: &[EndpointReport]) {
    let mut seen: Vec<&str> = Vec::new();
    for e in endpoints {
        let Some(c) = e.tls.as_ref().and_then(|t| t.certificate.as_ref()) else {
            continue;
        };
        if seen.contains(&c.sha256.as_str()) {
            continue;
        }
        if seen.is_empty() {
            out.push_str("\nCertificates:\n");
        }
        seen.push(&c.sha256);
        let names = if c.sans.is_empty() {
            c.subject.clone()
        } else {
            c.sans.join(", ")
        };
        let _ = writeln!(
            out,
            "  {}: issued by {}, valid until {} ({} days), SHA-256 {}{}{}",
            safe(&names),
            safe(&c.issuer),
            safe(&c.not_after),
            c.days_left,
            &c.sha256,
            if c.spki_sha256.is_empty() {
                String::new()
            } else {
                format!(", key sha256//{}", safe(&c.spki_sha256))
            },
            if c.pinned { " (pinned)" } else { "" }
        );
    }
}

pub fn problems(
    out: &mut String,
    endpoints: &[EndpointReport],
    account: &[super::Problem],
    st: Style,
) {
    let any = endpoints
        .iter()
        .any(|e| e.status != Status::NotOffered && !e.problems.is_empty())
        || !account.is_empty();
    if !any {
        return;
    }
    out.push_str("\nProblems:\n");
    let mut hints_shown: Vec<super::Code> = Vec::new();
    let mut one = |out: &mut String, where_: &str, p: &super::Problem| {
        let server = p
            .server_code
            .as_deref()
            .map(|c| format!(" (server: {})", safe(c)))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "  {where_}{} {}{server}: {}",
            st.severity(p.severity),
            p.code.as_str(),
            safe(&p.message)
        );
        // A hint is shown once per code: the same advice under six endpoints is noise.
        if let Some(h) = &p.hint {
            if !hints_shown.contains(&p.code) {
                hints_shown.push(p.code);
                let _ = writeln!(out, "      what to do: {h}");
            }
        }
    };
    // Not-offered ports are listed under the table already.
    for e in endpoints.iter().filter(|e| e.status != Status::NotOffered) {
        for p in &e.problems {
            one(out, &format!("{}  ", safe(&e.url)), p);
        }
    }
    for p in account {
        one(out, "", p);
    }
}

pub fn storage(out: &mut String, q: &Quota) {
    let mut line = String::from("\nStorage: ");
    match (q.used_bytes, q.limit_bytes, q.percent) {
        (Some(u), Some(l), Some(p)) => {
            let _ = write!(line, "{} of {} used ({p:.1} %)", bytes(u), bytes(l));
        }
        (Some(u), _, _) => {
            let _ = write!(line, "{} used (the server reports no limit)", bytes(u));
        }
        _ => line.push_str("unknown"),
    }
    if let Some(m) = q.messages {
        let _ = write!(line, ", {m} messages in the inbox");
    }
    let _ = writeln!(out, "{line} [{} via {}]", q.source, safe(&q.url));
}

/// The settings block to copy into a mail client, in the words mail clients use.
pub fn recommended_block(out: &mut String, rec: &Recommended, st: Style) {
    let _ = writeln!(
        out,
        "\n{} ({}):",
        st.bold("Recommended settings"),
        if rec.verified {
            "login verified"
        } else {
            "NOT verified: no password was given"
        }
    );
    for (label, s) in [
        ("Incoming", &rec.settings.incoming),
        ("Outgoing", &rec.settings.outgoing),
    ] {
        let sec = match s.endpoint.security {
            Security::Tls => "SSL/TLS",
            Security::StartTls => "STARTTLS",
            Security::Plain => "none",
        };
        // The seed's words; the mechanism when it is not the obvious one of its class.
        let auth = match (s.auth, s.mechanism) {
            (AuthMethod::PasswordEncrypted | AuthMethod::OAuth2, Some(m)) => {
                format!("{} ({})", s.auth.label(), m.name())
            }
            _ => s.auth.label().to_string(),
        };
        let _ = writeln!(
            out,
            "  {label}: {}\n    Server: {}\n    Port: {}\n    Connection security: {sec}\n    User name: {}\n    Authentication: {auth}",
            s.endpoint.protocol.as_str().to_uppercase(),
            safe(&s.endpoint.host),
            s.endpoint.port,
            safe(&s.username),
        );
    }
}

fn summary(
    out: &mut String,
    endpoints: &[EndpointReport],
    elapsed_ms: u64,
    insecure: bool,
    logins: Option<usize>,
) {
    let count = |s: Status| endpoints.iter().filter(|e| e.status == s).count();
    let _ = write!(
        out,
        "\n{} endpoints: {} ok, {} warning, {} error",
        endpoints.len(),
        count(Status::Ok),
        count(Status::Warning),
        count(Status::Error)
    );
    let not_offered = count(Status::NotOffered);
    if not_offered > 0 {
        let _ = write!(out, ", {not_offered} not offered");
    }
    if let Some(n) = logins {
        let _ = write!(out, "; login verified on {n}");
    }
    let _ = writeln!(
        out,
        " ({:.2} s){}",
        elapsed_ms as f64 / 1000.0,
        if insecure {
            " — certificate checks were OFF (--insecure)"
        } else {
            ""
        }
    );
}

pub fn render_probe(r: &ProbeReport, st: Style) -> String {
    let mut out = String::new();
    table(&mut out, &r.endpoints, false, st);
    certificates(&mut out, &r.endpoints);
    problems(&mut out, &r.endpoints, &[], st);
    summary(&mut out, &r.endpoints, r.elapsed_ms, r.insecure, None);
    out
}

pub fn render_check(r: &CheckReport, st: Style) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Account {} (user name {})\n",
        safe(&r.address),
        safe(&r.username)
    );
    table(&mut out, &r.endpoints, true, st);
    certificates(&mut out, &r.endpoints);
    problems(&mut out, &r.endpoints, &r.problems, st);
    if let Some(q) = &r.quota {
        storage(&mut out, q);
    }
    if let Some(rec) = &r.recommended {
        recommended_block(&mut out, rec, st);
    }
    if let Some(rt) = &r.round_trip {
        super::roundtrip::render(&mut out, rt, st);
    }
    let logins = r
        .endpoints
        .iter()
        .filter(|e| {
            e.login
                .as_ref()
                .is_some_and(|l| l.status == LoginStatus::Ok)
        })
        .count();
    summary(
        &mut out,
        &r.endpoints,
        r.elapsed_ms,
        r.insecure,
        Some(logins),
    );
    out
}

fn bytes(n: u64) -> String {
    if n >= 1 << 30 {
        format!("{:.1} GiB", n as f64 / (1u64 << 30) as f64)
    } else if n >= 1 << 20 {
        format!("{:.1} MiB", n as f64 / (1u64 << 20) as f64)
    } else if n >= 1 << 10 {
        format!("{:.1} KiB", n as f64 / 1024.0)
    } else {
        format!("{n} bytes")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Endpoint;

    fn sample() -> ProbeReport {
        let ep: Endpoint = "imaps://h:993".parse().unwrap();
        let mut e = EndpointReport::new(&ep);
        e.greeting = Some("\x1b[31mevil".into());
        e.problems.push(super::super::Problem::error(
            super::super::Code::TlsCertExpired,
            "expired \x1b]0;x\x07",
        ));
        e.finish();
        ProbeReport {
            version: 1,
            command: "probe".into(),
            insecure: false,
            endpoints: vec![e],
            elapsed_ms: 5,
        }
    }

    #[test]
    fn no_escape_codes_without_colour() {
        let out = render_probe(&sample(), Style { color: false });
        assert!(!out.contains('\x1b'), "{out:?}");
        assert!(out.contains("tls-cert-expired"));
        assert!(out.contains("what to do:"));
    }

    #[test]
    fn colour_only_wraps_our_own_words() {
        let out = render_probe(&sample(), Style { color: true });
        assert!(out.contains("\x1b[1;31merror\x1b[0m"));
        assert!(
            out.contains("\\u{1b}]0;x"),
            "server text stays escaped: {out:?}"
        );
    }
}
