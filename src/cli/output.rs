//! Report outputs beyond the table and JSON: `--html FILE`, `--timings`, `--format nagios`
//! (with its thresholds) and `--format prometheus`, for `check`, `probe` and `discover`.

use std::ffi::OsString;
use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{bail, Context as _, Result};
use clap::Args;

use super::{stdout_style, Format, OutputArgs};
use crate::discover::Discovery;
use crate::report::nagios::{self, Thresholds};
use crate::report::{html, human, prometheus, waterfall, CheckReport, ProbeReport};

/// Options of the extra outputs (flattened into `OutputArgs`).
#[derive(Debug, Args, Clone)]
pub struct ReportArgs {
    /// Also write a self-contained HTML report to FILE (verdict, problems and what to do, timing
    /// waterfall, certificates, discovery; no password; no external resources)
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,

    /// Human output: also print the timing waterfall (every phase of every endpoint and lookup)
    #[arg(long)]
    pub timings: bool,

    #[command(flatten)]
    pub thresholds: ThresholdArgs,
}

/// `--format nagios` thresholds.
#[derive(Debug, Args, Clone)]
#[command(next_help_heading = "Monitoring thresholds (--format nagios)")]
pub struct ThresholdArgs {
    /// WARNING when a certificate has fewer days left than this
    #[arg(long = "warn-cert-days", value_name = "DAYS", default_value_t = 21)]
    pub warn_cert_days: i64,

    /// CRITICAL when a certificate has fewer days left than this
    #[arg(long = "crit-cert-days", value_name = "DAYS", default_value_t = 7)]
    pub crit_cert_days: i64,

    /// WARNING when more than this percentage of the mailbox quota is used
    #[arg(long = "warn-quota", value_name = "PERCENT", default_value_t = 85.0)]
    pub warn_quota: f64,

    /// CRITICAL when more than this percentage of the mailbox quota is used
    #[arg(long = "crit-quota", value_name = "PERCENT", default_value_t = 95.0)]
    pub crit_quota: f64,

    /// WARNING when the whole run takes longer than this many seconds
    #[arg(long = "warn-time", value_name = "SECS")]
    pub warn_time: Option<f64>,

    /// CRITICAL when the whole run takes longer than this many seconds
    #[arg(long = "crit-time", value_name = "SECS")]
    pub crit_time: Option<f64>,
}

impl ThresholdArgs {
    pub fn thresholds(&self) -> Result<Thresholds> {
        let pct = |name: &str, v: f64| -> Result<()> {
            if !(v.is_finite() && (0.0..=100.0).contains(&v)) {
                bail!("{name} must be a percentage between 0 and 100");
            }
            Ok(())
        };
        pct("--warn-quota", self.warn_quota)?;
        pct("--crit-quota", self.crit_quota)?;
        for (name, v) in [
            ("--warn-time", self.warn_time),
            ("--crit-time", self.crit_time),
        ] {
            if let Some(v) = v {
                if !(v.is_finite() && v > 0.0) {
                    bail!("{name} must be a positive number of seconds");
                }
            }
        }
        if self.crit_cert_days > self.warn_cert_days {
            bail!("--crit-cert-days must not be above --warn-cert-days");
        }
        if self.crit_quota < self.warn_quota {
            bail!("--crit-quota must not be below --warn-quota");
        }
        if let (Some(w), Some(c)) = (self.warn_time, self.crit_time) {
            if c < w {
                bail!("--crit-time must not be below --warn-time");
            }
        }
        Ok(Thresholds {
            warn_cert_days: self.warn_cert_days,
            crit_cert_days: self.crit_cert_days,
            warn_quota: self.warn_quota,
            crit_quota: self.crit_quota,
            warn_time: self.warn_time,
            crit_time: self.crit_time,
        })
    }
}

/// Whether argv asks for `--format nagios`: then even a usage error must exit 3 (UNKNOWN)
/// with a plugin status line, which is decided before clap parses anything.
pub fn nagios_requested(args: &[OsString]) -> bool {
    args.iter().enumerate().any(|(i, a)| {
        a == "--format=nagios"
            || (a == "--format" && args.get(i + 1).is_some_and(|n| n == "nagios"))
    })
}

/// The UNKNOWN status line for a usage error in nagios mode.
pub fn nagios_unknown(message: &str) -> (String, i32) {
    let first = message
        .lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or(message);
    let first = first.trim().trim_start_matches("error: ");
    let out = nagios::unknown(first);
    (out.text, out.state.code())
}

/// Checks the output options before any network work (a bad threshold is a usage error).
pub fn validate(output: &OutputArgs) -> Result<()> {
    if output.format() == Format::Nagios {
        output.report.thresholds.thresholds()?;
    }
    Ok(())
}

fn meta() -> html::Meta {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    html::Meta {
        tool: format!("mailsetup {}", env!("CARGO_PKG_VERSION")),
        generated_at: crate::net::tls::rfc3339(now),
    }
}

fn now_unix() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| (d.as_millis() as f64) / 1000.0)
        .unwrap_or(0.0)
}

fn write_html(output: &OutputArgs, page: impl FnOnce(&html::Meta) -> String) -> Result<()> {
    if let Some(path) = &output.report.html {
        crate::app::files::write_report(path, &page(&meta()))
            .with_context(|| format!("--html {}", path.display()))?;
    }
    Ok(())
}

/// What to print and the exit status, for `check`; `code` is the command's own exit status
/// (`app::check::exit_code`), replaced by the plugin state in nagios mode.
pub fn check(report: &CheckReport, output: &OutputArgs, code: i32) -> Result<(String, i32)> {
    write_html(output, |m| html::render_check(report, m, code))?;
    Ok(match output.format() {
        Format::Json => (super::json_text(report)?, code),
        Format::Human => {
            let mut text = human::render_check(report, stdout_style());
            if output.report.timings {
                text.push_str(&waterfall::render_text(&waterfall::rows(
                    report.discovery.as_ref(),
                    &report.endpoints,
                )));
            }
            (text, code)
        }
        Format::Nagios => {
            let out = nagios::render_check(report, &output.report.thresholds.thresholds()?, code);
            (out.text, out.state.code())
        }
        Format::Prometheus => (prometheus::render_check(report, now_unix(), code), code),
    })
}

/// What to print and the exit status, for `probe` (`code`: `app::probe::exit_code`).
pub fn probe(report: &ProbeReport, output: &OutputArgs, code: i32) -> Result<(String, i32)> {
    write_html(output, |m| html::render_probe(report, m, code))?;
    Ok(match output.format() {
        Format::Json => (super::json_text(report)?, code),
        Format::Human => {
            let mut text = human::render_probe(report, stdout_style());
            if output.report.timings {
                text.push_str(&waterfall::render_text(&waterfall::rows(
                    None,
                    &report.endpoints,
                )));
            }
            (text, code)
        }
        Format::Nagios => {
            let out = nagios::render_probe(report, &output.report.thresholds.thresholds()?, code);
            (out.text, out.state.code())
        }
        Format::Prometheus => (prometheus::render_probe(report, now_unix(), code), code),
    })
}

/// What to print and the exit status, for `discover`; `json` and `human` are the command's
/// own renderings.
pub fn discover(
    address: &str,
    d: &Discovery,
    elapsed_ms: u64,
    output: &OutputArgs,
    json: impl FnOnce() -> Result<String>,
    human: impl FnOnce() -> String,
) -> Result<(String, i32)> {
    write_html(output, |m| html::render_discover(address, d, elapsed_ms, m))?;
    let code = if d.candidates.is_empty() { 1 } else { 0 };
    Ok(match output.format() {
        Format::Json => (json()?, code),
        Format::Human => {
            let mut text = human();
            if output.report.timings {
                text.push_str(&waterfall::render_text(&waterfall::rows(Some(d), &[])));
            }
            (text, code)
        }
        Format::Nagios => {
            let out = nagios::render_discover(
                address,
                d,
                elapsed_ms,
                &output.report.thresholds.thresholds()?,
            );
            (out.text, out.state.code())
        }
        Format::Prometheus => (
            prometheus::render_discover(address, d, elapsed_ms, now_unix()),
            code,
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn os(v: &[&str]) -> Vec<OsString> {
        v.iter().map(OsString::from).collect()
    }

    #[test]
    fn nagios_mode_is_seen_before_parsing() {
        assert!(nagios_requested(&os(&[
            "mailsetup",
            "check",
            "--format",
            "nagios"
        ])));
        assert!(nagios_requested(&os(&[
            "mailsetup",
            "probe",
            "--format=nagios",
            "--bogus"
        ])));
        assert!(!nagios_requested(&os(&[
            "mailsetup",
            "check",
            "--format",
            "json"
        ])));
        assert!(!nagios_requested(&os(&["mailsetup", "check", "nagios"])));
        let (text, code) = nagios_unknown("error: unexpected argument '--bogus' found\n\nUsage: …");
        assert_eq!(code, 3);
        assert_eq!(
            text,
            "MAILSETUP UNKNOWN - unexpected argument '--bogus' found\n"
        );
    }
}
