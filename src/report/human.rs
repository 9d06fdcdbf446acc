//! Human-readable rendering. Every server-controlled string goes through `terminal_safe`.

use std::fmt::Write;

use super::escape::terminal_safe as safe;
use super::{EndpointReport, ProbeReport, Severity, Status};

fn status_word(s: Status) -> &'static str {
    match s {
        Status::Ok => "ok",
        Status::Warning => "warning",
        Status::Error => "error",
    }
}

/// One endpoint as a block: a summary line, then details, then problems with hints.
pub fn endpoint_block(out: &mut String, e: &EndpointReport) {
    let _ = write!(out, "{:<8} {}", status_word(e.status), safe(&e.url));
    if let Some(addr) = &e.address {
        let _ = write!(out, "  via {}", safe(addr));
    }
    if let Some(ms) = e.connect_ms {
        let _ = write!(out, "  connect {ms} ms");
    }
    out.push('\n');
    if let Some(tls) = &e.tls {
        let mut line = String::from("         tls: ");
        match (&tls.version, &tls.cipher) {
            (Some(v), Some(c)) => {
                let _ = write!(line, "{v} {c}");
            }
            _ => line.push_str("handshake abandoned"),
        }
        if let Some(c) = &tls.certificate {
            let _ = write!(
                line,
                "; certificate {} (issuer {}), {} days left, {}, {}",
                safe(&c.subject),
                safe(&c.issuer),
                c.days_left,
                if c.trusted { "trusted" } else { "NOT trusted" },
                if c.hostname_match { "name matches" } else { "name does NOT match" }
            );
            if !c.sans.is_empty() {
                let _ = write!(line, "; names: {}", safe(&c.sans.join(", ")));
            }
        }
        out.push_str(&line);
        out.push('\n');
    }
    if let Some(g) = &e.greeting {
        let _ = writeln!(out, "         greeting: {}", safe(g));
    }
    if !e.auth_mechanisms.is_empty() {
        let _ = writeln!(out, "         auth: {}", safe(&e.auth_mechanisms.join(" ")));
    }
    if let Some(before) = &e.capabilities_before_tls {
        let auth_before = before
            .iter()
            .any(|c| c.starts_with("AUTH") || c == "SASL" || c.starts_with("SASL "));
        if auth_before {
            let _ = writeln!(out, "         note: authentication was advertised before TLS");
        }
    }
    for p in &e.problems {
        let sev = match p.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "info",
        };
        let _ = writeln!(out, "         {sev} {}: {}", p.code.as_str(), safe(&p.message));
        if let Some(h) = &p.hint {
            let _ = writeln!(out, "           what to do: {h}");
        }
    }
}

pub fn render_probe(r: &ProbeReport) -> String {
    let mut out = String::new();
    for e in &r.endpoints {
        endpoint_block(&mut out, e);
    }
    let count = |s: Status| r.endpoints.iter().filter(|e| e.status == s).count();
    let _ = writeln!(
        out,
        "\n{} endpoints: {} ok, {} warning, {} error ({:.2} s){}",
        r.endpoints.len(),
        count(Status::Ok),
        count(Status::Warning),
        count(Status::Error),
        r.elapsed_ms as f64 / 1000.0,
        if r.insecure {
            " — certificate checks were OFF (--insecure)"
        } else {
            ""
        }
    );
    out
}
