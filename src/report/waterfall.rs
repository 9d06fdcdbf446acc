//! The waterfall: every discovery lookup and every endpoint on one time axis, drawn from the
//! recorded phases. [`rows`] is shared by the text form (`--timings`) and the HTML report.

use std::fmt::Write;

use super::escape::terminal_safe as safe;
use super::EndpointReport;
use crate::discover::Discovery;
use crate::model::timing::{span, Phase, PhaseName, PhaseStatus};

/// What a row shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowKind {
    Attempt,
    Endpoint,
}

impl RowKind {
    pub fn as_str(self) -> &'static str {
        match self {
            RowKind::Attempt => "attempt",
            RowKind::Endpoint => "endpoint",
        }
    }
}

/// One line of the waterfall.
#[derive(Debug, Clone)]
pub struct Row<'a> {
    pub kind: RowKind,
    /// Stable key: the endpoint's URL, or `attempt-N` (its index in `discovery.attempts`).
    pub key: String,
    /// What is shown (untrusted for attempts: a URL or DNS name from discovery).
    pub label: String,
    pub phases: &'a [Phase],
}

/// Discovery attempts first (in report order), then endpoints (in report order).
pub fn rows<'a>(discovery: Option<&'a Discovery>, endpoints: &'a [EndpointReport]) -> Vec<Row<'a>> {
    let mut out = Vec::new();
    if let Some(d) = discovery {
        for (i, a) in d.attempts.iter().enumerate() {
            out.push(Row {
                kind: RowKind::Attempt,
                key: format!("attempt-{i}"),
                label: format!("{} {}", a.source.as_str(), a.target),
                phases: &a.phases,
            });
        }
    }
    for e in endpoints {
        out.push(Row {
            kind: RowKind::Endpoint,
            key: e.url.clone(),
            label: e.url.clone(),
            phases: e.phases.list(),
        });
    }
    out
}

/// The end of the time axis: the latest phase end (at least 1 ms).
pub fn axis_end(rows: &[Row]) -> u64 {
    rows.iter()
        .filter_map(|r| span(r.phases).map(|(_, e)| e))
        .max()
        .unwrap_or(0)
        .max(1)
}

/// One letter per phase in the text waterfall.
pub fn letter(name: PhaseName) -> char {
    match name {
        PhaseName::Dns => 'd',
        PhaseName::Connect => 'c',
        PhaseName::Greeting => 'g',
        PhaseName::Starttls => 's',
        PhaseName::TlsHandshake => 't',
        PhaseName::Capabilities => 'a',
        PhaseName::Login => 'l',
        PhaseName::Quota => 'q',
        PhaseName::RoundTrip => 'r',
        PhaseName::Http => 'h',
        PhaseName::Database => 'b',
    }
}

const COLUMNS: u64 = 40;

/// The waterfall as text: one line per row, a bar of phase letters (upper case where the
/// phase failed or timed out) on a shared axis, then the phases with their durations.
pub fn render_text(rows: &[Row]) -> String {
    let mut out = String::new();
    if rows.iter().all(|r| r.phases.is_empty()) {
        return out;
    }
    let end = axis_end(rows);
    let per_col = end.div_ceil(COLUMNS).max(1);
    let _ = writeln!(
        out,
        "\nTimings (ms since the run started; one column = {per_col} ms; capital letter = failed):"
    );
    let _ = writeln!(
        out,
        "  legend: d dns, c connect, g greeting, s starttls, t tls-handshake, a capabilities, l login, q quota, r round-trip, h http, b database"
    );
    let labels: Vec<String> = rows.iter().map(|r| clip(&safe(&r.label), 48)).collect();
    let w = labels.iter().map(|l| l.chars().count()).max().unwrap_or(0);
    for (row, label) in rows.iter().zip(&labels) {
        let mut bar = vec![' '; COLUMNS as usize];
        for p in row.phases {
            let first = (p.start_ms / per_col).min(COLUMNS - 1) as usize;
            let last = if p.end_ms > p.start_ms {
                ((p.end_ms - 1) / per_col).min(COLUMNS - 1) as usize
            } else {
                first
            };
            let mut c = letter(p.name);
            if matches!(p.status, PhaseStatus::Error | PhaseStatus::Timeout) {
                c = c.to_ascii_uppercase();
            }
            for cell in bar.iter_mut().take(last + 1).skip(first) {
                *cell = c;
            }
        }
        let bar: String = bar.into_iter().collect();
        let (start, stop) = span(row.phases).unwrap_or((0, 0));
        let detail: Vec<String> = row
            .phases
            .iter()
            .map(|p| {
                let status = match p.status {
                    PhaseStatus::Ok => String::new(),
                    s => format!(" {}", s.as_str()),
                };
                format!("{} {}{status}", p.name.as_str(), p.end_ms - p.start_ms)
            })
            .collect();
        let _ = writeln!(
            out,
            "  {label:<w$}  |{bar}|  {start:>5}-{stop:<5} ms  {}",
            detail.join(", ")
        );
    }
    out
}

fn clip(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let cut: String = s.chars().take(max - 1).collect();
        format!("{cut}…")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::timing::Phases;
    use crate::model::Endpoint;

    fn endpoint(url: &str, phases: Vec<Phase>) -> EndpointReport {
        let ep: Endpoint = url.parse().unwrap();
        let mut e = EndpointReport::new(&ep);
        e.phases = Phases::from(phases);
        e
    }

    fn ph(name: PhaseName, start_ms: u64, end_ms: u64, status: PhaseStatus) -> Phase {
        Phase {
            name,
            start_ms,
            end_ms,
            status,
        }
    }

    #[test]
    fn bars_share_one_axis_and_failures_are_capital() {
        let eps = vec![
            endpoint(
                "imaps://h:993",
                vec![
                    ph(PhaseName::Dns, 0, 0, PhaseStatus::Ok),
                    ph(PhaseName::Connect, 0, 10, PhaseStatus::Ok),
                    ph(PhaseName::TlsHandshake, 10, 40, PhaseStatus::Ok),
                ],
            ),
            endpoint(
                "smtp://h:587",
                vec![
                    ph(PhaseName::Connect, 0, 20, PhaseStatus::Ok),
                    ph(PhaseName::Greeting, 20, 80, PhaseStatus::Timeout),
                ],
            ),
        ];
        let text = render_text(&rows(None, &eps));
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[1].contains("one column = 2 ms"), "{text}");
        let imaps = lines.iter().find(|l| l.contains("imaps://")).unwrap();
        let bar = imaps.split('|').nth(1).unwrap();
        assert_eq!(bar.len(), 40);
        assert_eq!(&bar[..5], "ccccc");
        assert_eq!(&bar[5..20], "ttttttttttttttt");
        assert_eq!(bar[20..].trim(), "");
        let smtp = lines.iter().find(|l| l.contains("smtp://")).unwrap();
        let bar = smtp.split('|').nth(1).unwrap();
        assert_eq!(&bar[10..40], "G".repeat(30));
        assert!(smtp.contains("greeting 60 timeout"), "{smtp}");
        assert!(smtp.contains("0-80"), "{smtp}");
    }

    #[test]
    fn nothing_recorded_prints_nothing() {
        let eps = vec![endpoint("imaps://h:993", vec![])];
        assert_eq!(render_text(&rows(None, &eps)), "");
    }

    #[test]
    fn labels_are_escaped() {
        let d = crate::discover::Discovery {
            attempts: vec![crate::discover::Attempt {
                source: crate::discover::Source::Srv,
                target: "_imaps._tcp.\x1b[2Jevil".into(),
                result: crate::discover::AttemptResult::NotFound,
                detail: String::new(),
                elapsed_ms: 1,
                phases: vec![ph(PhaseName::Dns, 0, 1, PhaseStatus::NotFound)],
                dropped: 0,
                problem: None,
            }],
            candidates: vec![],
            provider: None,
            dropped: 0,
        };
        let text = render_text(&rows(Some(&d), &[]));
        assert!(!text.contains('\x1b'));
        assert!(text.contains("\\u{1b}[2Jevil"));
    }
}
