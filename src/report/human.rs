//! Human-readable rendering. Every server-controlled string goes through `terminal_safe`.

use std::fmt::Write;

use super::escape::terminal_safe as safe;
use super::{CheckReport, EndpointReport, LoginStatus, ProbeReport, Severity, Status};

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
                if c.hostname_match {
                    "name matches"
                } else {
                    "name does NOT match"
                }
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
            let _ = writeln!(
                out,
                "         note: authentication was advertised before TLS"
            );
        }
    }
    if let Some(l) = &e.login {
        let who = l
            .username
            .as_deref()
            .map(|u| format!(" as {}", safe(u)))
            .unwrap_or_default();
        let how = match (&l.mechanism, l.auth_method) {
            (Some(m), Some(a)) => format!(" with {} ({})", safe(m), a.as_str()),
            _ => String::new(),
        };
        let status = match l.status {
            LoginStatus::Ok => "ok",
            LoginStatus::Failed => "FAILED",
            LoginStatus::Skipped => "skipped",
            LoginStatus::NotAttempted => "not attempted",
        };
        let _ = writeln!(out, "         login: {status}{who}{how}");
        if l.attempts.len() > 1 {
            for a in &l.attempts {
                let st = if a.status == LoginStatus::Ok {
                    "ok"
                } else {
                    "failed"
                };
                let _ = writeln!(
                    out,
                    "           {:<14} {st}: {}",
                    safe(&a.mechanism),
                    safe(&a.message)
                );
            }
        }
    }
    for p in &e.problems {
        let sev = match p.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "info",
        };
        let _ = writeln!(
            out,
            "         {sev} {}: {}",
            p.code.as_str(),
            safe(&p.message)
        );
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

pub fn render_check(r: &CheckReport) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Account {} (user name {})\n",
        safe(&r.address),
        safe(&r.username)
    );
    for e in &r.endpoints {
        endpoint_block(&mut out, e);
    }
    if let Some(q) = &r.quota {
        let mut line = String::from("\nStorage: ");
        match (q.used_bytes, q.limit_bytes, q.percent) {
            (Some(u), Some(l), Some(p)) => {
                let _ = write!(line, "{} of {} used ({p:.1} %)", bytes(u), bytes(l));
            }
            (Some(u), _, _) => {
                let _ = write!(line, "{} used (no limit reported)", bytes(u));
            }
            _ => line.push_str("unknown"),
        }
        if let Some(m) = q.messages {
            let _ = write!(line, ", {m} messages in the inbox");
        }
        let _ = writeln!(out, "{line} [{}]", q.source);
    }
    if let Some(rec) = &r.recommended {
        let _ = writeln!(
            out,
            "\nRecommended settings ({}):",
            if rec.verified { "login verified" } else { "NOT verified: no password was given" }
        );
        for (label, s) in [("Incoming", &rec.settings.incoming), ("Outgoing", &rec.settings.outgoing)] {
            let sec = match s.endpoint.security {
                crate::model::Security::Tls => "SSL/TLS",
                crate::model::Security::StartTls => "STARTTLS",
                crate::model::Security::Plain => "none",
            };
            let auth = match s.auth {
                crate::model::AuthMethod::PasswordCleartext => "normal password",
                crate::model::AuthMethod::PasswordEncrypted => "encrypted password",
                crate::model::AuthMethod::OAuth2 => "OAuth2",
                crate::model::AuthMethod::None => "none",
            };
            let _ = writeln!(
                out,
                "  {label}: {:<4}  server {}  port {}  security {sec}  user name {}  authentication {auth}",
                s.endpoint.protocol.as_str().to_uppercase(),
                safe(&s.endpoint.host),
                s.endpoint.port,
                safe(&s.username),
            );
        }
    }
    for p in &r.problems {
        let _ = writeln!(out, "{}: {}", p.code.as_str(), safe(&p.message));
        if let Some(h) = &p.hint {
            let _ = writeln!(out, "  what to do: {h}");
        }
    }
    let count = |s: Status| r.endpoints.iter().filter(|e| e.status == s).count();
    let logins = r
        .endpoints
        .iter()
        .filter(|e| {
            e.login
                .as_ref()
                .is_some_and(|l| l.status == LoginStatus::Ok)
        })
        .count();
    let _ = writeln!(
        out,
        "\n{} endpoints: {} ok, {} warning, {} error; login verified on {} ({:.2} s){}",
        r.endpoints.len(),
        count(Status::Ok),
        count(Status::Warning),
        count(Status::Error),
        logins,
        r.elapsed_ms as f64 / 1000.0,
        if r.insecure {
            " — certificate checks were OFF (--insecure)"
        } else {
            ""
        }
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
