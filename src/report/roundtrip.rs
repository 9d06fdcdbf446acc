//! The `round_trip` block of a check report (`check --round-trip`, docs/json.md) and its
//! human rendering: one block, every server string escaped.

use std::fmt::Write;

use serde::{Deserialize, Serialize};

use super::escape::terminal_safe as safe;
use super::human::Style;
use super::{Problem, Severity};

/// How the round trip ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RoundTripStatus {
    /// Sent, seen arriving, fetched (and cleaned up, see `cleanup`).
    Delivered,
    /// `--round-trip-to`: the server accepted the message; nothing was watched.
    Accepted,
    /// Accepted by the submission server, not seen in the mailbox before the timeout.
    NotDelivered,
    /// The submission server refused the message.
    SubmitRejected,
    /// The round trip could not run to an answer (no verified server, the watch failed).
    Failed,
}

/// A point the test message reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum StageName {
    /// The submission server accepted it (`250` after the data).
    Submitted,
    /// The mailbox showed it (IMAP: the notification or poll that found it; POP3: the listing).
    FirstSeen,
    /// Its headers were read back.
    Fetched,
    /// It was deleted again.
    Removed,
}

impl StageName {
    pub fn as_str(self) -> &'static str {
        match self {
            StageName::Submitted => "submitted",
            StageName::FirstSeen => "first seen",
            StageName::Fetched => "fetched",
            StageName::Removed => "removed",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stage {
    pub stage: StageName,
    /// Milliseconds since the round trip started (after the check).
    pub at_ms: u64,
}

/// How the mailbox was watched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum WatchMethod {
    /// IMAP IDLE: the server pushed the new message.
    ImapIdle,
    /// IMAP without IDLE: NOOP polls with backoff.
    ImapPoll,
    /// POP3: a fresh login per poll (a POP3 session never sees mail that arrives after login).
    Pop3Poll,
}

/// What happened to the test message afterwards.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Cleanup {
    /// IMAP `UID EXPUNGE` of exactly that message (UIDPLUS).
    Expunged,
    /// IMAP without UIDPLUS: flagged `\Deleted` and left for the mail client to expunge (a
    /// plain EXPUNGE could remove other mail flagged for deletion).
    FlaggedDeleted,
    /// POP3 `DELE` of exactly that message, committed by `QUIT`.
    Deleted,
    /// The deletion was refused or could not be confirmed (see problems).
    Failed,
}

/// The `round_trip` block of `mailsetup check --round-trip`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoundTripReport {
    pub status: RoundTripStatus,
    /// Envelope and header sender: the account's address.
    pub from: String,
    /// The account's address, or `--round-trip-to`.
    pub to: String,
    /// The unique token in the `X-Mailsetup-Token` header and the Message-ID.
    pub token: String,
    pub message_id: String,
    /// The submission endpoint used (the recommended outgoing server).
    pub submit_url: Option<String>,
    /// The submission server's final reply (`250 2.0.0 Ok: queued as ...`) or its refusal.
    pub submit_reply: Option<String>,
    /// The queue id from that reply, when it names one.
    pub queue_id: Option<String>,
    /// The mailbox endpoint watched (the recommended incoming server); null with `--round-trip-to`.
    pub watch_url: Option<String>,
    pub watch_method: Option<WatchMethod>,
    /// The stages reached, in order.
    pub stages: Vec<Stage>,
    /// Delivery delay: first seen minus submitted.
    pub delivery_ms: Option<u64>,
    /// The first stage NOT reached (null when every stage expected was reached).
    pub stopped_at: Option<StageName>,
    pub cleanup: Option<Cleanup>,
    /// `Received:` headers of the delivered message, newest first (at most 10, unfolded).
    pub received: Vec<String>,
    /// `--round-trip-timeout` in milliseconds.
    pub timeout_ms: u64,
    pub problems: Vec<Problem>,
    pub elapsed_ms: u64,
    /// When the round trip started, in ms since the run started (the clock of `phases`).
    #[serde(default)]
    pub started_ms: u64,
}

impl RoundTripReport {
    /// The round trip failed (the check exits 1).
    pub fn failed(&self) -> bool {
        !matches!(
            self.status,
            RoundTripStatus::Delivered | RoundTripStatus::Accepted
        ) || self.problems.iter().any(|p| p.severity == Severity::Error)
    }

    pub fn at(&self, stage: StageName) -> Option<u64> {
        self.stages
            .iter()
            .find(|s| s.stage == stage)
            .map(|s| s.at_ms)
    }
}

fn secs(ms: u64) -> String {
    format!("{:.2} s", ms as f64 / 1000.0)
}

/// The block without colour and without its leading blank line (the HTML report shows it).
pub fn text_block(r: &RoundTripReport) -> String {
    let mut out = String::new();
    render(&mut out, r, Style { color: false });
    out.trim_start_matches('\n').to_string()
}

/// The human block: a headline, one line per stage, then the problems with what to do.
pub fn render(out: &mut String, r: &RoundTripReport, st: Style) {
    let paint = |code: &str, s: &str| {
        if st.color {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    };
    let watch = match (r.watch_method, &r.watch_url) {
        (Some(WatchMethod::ImapIdle), Some(u)) => {
            format!(", watched with IMAP IDLE on {}", safe(u))
        }
        (Some(WatchMethod::ImapPoll), Some(u)) => {
            format!(", watched by IMAP polling on {}", safe(u))
        }
        (Some(WatchMethod::Pop3Poll), Some(u)) => {
            format!(", watched by POP3 polling on {}", safe(u))
        }
        _ => String::new(),
    };
    let headline = match r.status {
        RoundTripStatus::Delivered => paint(
            "32",
            &format!("delivered in {}", secs(r.delivery_ms.unwrap_or_default())),
        ),
        RoundTripStatus::Accepted => paint("32", &format!("accepted for {}", safe(&r.to))),
        RoundTripStatus::NotDelivered => paint(
            "1;31",
            &format!("NOT delivered within {}", secs(r.timeout_ms)),
        ),
        RoundTripStatus::SubmitRejected => paint("1;31", "REFUSED by the submission server"),
        RoundTripStatus::Failed => paint("1;31", "FAILED"),
    };
    let _ = writeln!(
        out,
        "\n{} ({} → {}): {headline}{watch}",
        paint("1", "Round trip"),
        safe(&r.from),
        safe(&r.to)
    );
    for s in &r.stages {
        let detail = match s.stage {
            StageName::Submitted => format!(
                "via {}: {}",
                safe(r.submit_url.as_deref().unwrap_or("-")),
                safe(r.submit_reply.as_deref().unwrap_or(""))
            ),
            StageName::FirstSeen => match r.delivery_ms {
                Some(d) => format!("delivery took {}", secs(d)),
                None => String::new(),
            },
            StageName::Fetched => format!("{} Received header(s)", r.received.len()),
            StageName::Removed => match r.cleanup {
                Some(Cleanup::Expunged) => "UID EXPUNGE of exactly this message".into(),
                Some(Cleanup::FlaggedDeleted) => {
                    "flagged \\Deleted, left for your mail client to expunge".into()
                }
                Some(Cleanup::Deleted) => "DELE of exactly this message".into(),
                _ => String::new(),
            },
        };
        let _ = writeln!(
            out,
            "  {:<11} {:>8}  {detail}",
            s.stage.as_str(),
            secs(s.at_ms)
        );
    }
    if let Some(stopped) = r.stopped_at {
        let _ = writeln!(out, "  stopped before: {}", stopped.as_str());
    }
    if r.status == RoundTripStatus::SubmitRejected {
        if let Some(reply) = &r.submit_reply {
            let _ = writeln!(out, "  server said: {}", safe(reply));
        }
    }
    let _ = writeln!(
        out,
        "  message id {} (token {})",
        safe(&r.message_id),
        safe(&r.token)
    );
    for p in &r.problems {
        let sev = match p.severity {
            Severity::Error => paint("1;31", "error"),
            Severity::Warning => paint("33", "warning"),
            Severity::Info => paint("36", "info"),
        };
        let _ = writeln!(out, "  {sev} {}: {}", p.code.as_str(), safe(&p.message));
        if let Some(h) = &p.hint {
            let _ = writeln!(out, "      what to do: {h}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::Code;

    fn sample() -> RoundTripReport {
        RoundTripReport {
            status: RoundTripStatus::SubmitRejected,
            from: "a@example.test".into(),
            to: "a@example.test".into(),
            token: "t0k".into(),
            message_id: "<mailsetup-roundtrip.t0k@example.test>".into(),
            submit_url: Some("smtps://mail.example.test:465".into()),
            submit_reply: Some("553 5.7.1 \x1b[2Jnot owned".into()),
            queue_id: None,
            watch_url: None,
            watch_method: None,
            stages: vec![],
            delivery_ms: None,
            stopped_at: Some(StageName::Submitted),
            cleanup: None,
            received: vec![],
            timeout_ms: 60_000,
            problems: vec![Problem::error(
                Code::RoundtripSubmitRejected,
                "refused at MAIL FROM: 553 \x1b]0;x\x07",
            )],
            elapsed_ms: 12,
            started_ms: 300,
        }
    }

    #[test]
    fn json_names_are_kebab_case() {
        let v = serde_json::to_value(sample()).unwrap();
        assert_eq!(v["status"], "submit-rejected");
        assert_eq!(v["stopped_at"], "submitted");
        assert_eq!(
            serde_json::to_value(StageName::FirstSeen).unwrap(),
            "first-seen"
        );
        assert_eq!(
            serde_json::to_value(Cleanup::FlaggedDeleted).unwrap(),
            "flagged-deleted"
        );
        assert_eq!(
            serde_json::to_value(WatchMethod::ImapIdle).unwrap(),
            "imap-idle"
        );
    }

    #[test]
    fn the_html_report_shows_the_block_escaped() {
        let mut r = sample();
        r.submit_reply = Some("553 <script>alert(1)</script> \u{202e}".into());
        let report = crate::report::CheckReport {
            version: 1,
            command: "check".into(),
            address: "a@example.test".into(),
            username: "a@example.test".into(),
            insecure: false,
            endpoints: vec![],
            quota: None,
            discovery: None,
            recommended: None,
            problems: vec![],
            elapsed_ms: 1,
            round_trip: Some(r),
        };
        let meta = crate::report::html::Meta {
            tool: "mailsetup 0.0.0".into(),
            generated_at: "2026-01-01T00:00:00Z".into(),
        };
        let page = crate::report::html::render_check(&report, &meta, 1);
        assert!(page.contains("id=\"round-trip\""), "{page}");
        assert!(page.contains("REFUSED by the submission server"), "{page}");
        assert!(!page.contains("<script>"), "{page}");
        assert!(
            page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
            "{page}"
        );
        assert!(
            page.contains("\\u{202e}"),
            "bidi override shown, not obeyed"
        );
    }

    #[test]
    fn server_text_is_escaped_in_the_block() {
        let mut out = String::new();
        render(&mut out, &sample(), Style { color: false });
        assert!(!out.contains('\x1b'), "{out:?}");
        assert!(out.contains("REFUSED"), "{out}");
        assert!(out.contains("roundtrip-submit-rejected"), "{out}");
        assert!(sample().failed());
    }
}
