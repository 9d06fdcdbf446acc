//! `mailsetup discover`, and the discovery options `check`, `write` and `setup` share.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Result;
use clap::Args;
use serde::Serialize;

use super::{write_stdout, NetArgs, OutputArgs};
use crate::discover::{self, idn, AttemptResult, Candidate, DiscoverConfig, Discovery, Source};
use crate::model::Address;
use crate::net::tls::TlsContext;
use crate::report::escape::terminal_safe as safe;
use crate::report::human::Style;

/// How discovery runs.
#[derive(Debug, Clone, Args)]
pub struct DiscoveryArgs {
    /// Don't guess host names (imap.DOMAIN, mail.DOMAIN, ...) when nothing else finds servers
    #[arg(long = "no-guess")]
    pub no_guess: bool,

    /// Only these sources (comma-separated): autoconfig, autoconfig-wellknown, ispdb, builtin-db,
    /// mx-ispdb, mx-builtin-db, srv, autodiscover, guess
    #[arg(long, value_name = "LIST", value_delimiter = ',')]
    pub sources: Vec<Source>,

    /// Vouch for a discovered host the trust policy does not trust (outside the address's
    /// domain, named by DNS, plain HTTP or Autodiscover): it may then receive the password and
    /// be recommended and written (repeatable)
    #[arg(long = "trust-host", value_name = "HOST")]
    pub trust_host: Vec<String>,

    /// Confirm the provider found through the domain's MX record (a custom domain hosted by a
    /// provider): its servers may then receive the password and be recommended and written
    #[arg(long = "trust-mx")]
    pub trust_mx: bool,
}

impl DiscoveryArgs {
    pub fn config(
        &self,
        net: &NetArgs,
        tls: TlsContext,
        deadline: Instant,
        offline: bool,
    ) -> DiscoverConfig {
        let mut cfg = DiscoverConfig::new(tls, deadline);
        cfg.dns_server = net.dns_server;
        cfg.connect_to = Arc::new(net.connect_to.clone());
        cfg.offline = offline;
        cfg.guess = !self.no_guess;
        cfg.sources = (!self.sources.is_empty()).then(|| self.sources.clone());
        cfg
    }

    /// The trust policy for `address` with these vouchers.
    pub fn policy(&self, address: &Address) -> crate::app::trust::TrustPolicy {
        crate::app::trust::TrustPolicy::new(address, &self.trust_host, self.trust_mx)
    }
}

#[derive(Debug, Args)]
pub struct DiscoverArgs {
    /// The email address whose servers to find
    #[arg(value_name = "EMAIL")]
    pub email: String,

    /// Use only the built-in provider database: no network access at all
    #[arg(long)]
    pub offline: bool,

    #[command(flatten)]
    pub discovery: DiscoveryArgs,

    #[command(flatten)]
    pub net: NetArgs,

    #[command(flatten)]
    pub output: OutputArgs,
}

/// `mailsetup discover` output.
#[derive(Debug, Serialize)]
struct DiscoverReport {
    version: u32,
    command: &'static str,
    address: String,
    #[serde(flatten)]
    discovery: Discovery,
    elapsed_ms: u64,
}

/// Longest a discovery may take inside a `check`: the probes need the rest of the deadline.
pub const CHECK_DISCOVERY_BUDGET: Duration = Duration::from_secs(8);

pub async fn command(args: DiscoverArgs) -> Result<i32> {
    let address: Address = args.email.parse().map_err(anyhow::Error::msg)?;
    super::output::validate(&args.output)?;
    let start = Instant::now();
    let session = args.net.session_config(args.output.verbose)?;
    let mut cfg = args.discovery.config(
        &args.net,
        session.tls.clone(),
        session.deadline,
        args.offline,
    );
    cfg.clock = session.clock;
    let mut discovery = discover::discover(&address, &cfg).await;
    args.discovery.policy(&address).apply(&mut discovery);
    let report = DiscoverReport {
        version: 1,
        command: "discover",
        address: address.to_string(),
        discovery,
        elapsed_ms: start.elapsed().as_millis() as u64,
    };
    let (text, code) = super::output::discover(
        &report.address,
        &report.discovery,
        report.elapsed_ms,
        &args.output,
        || super::json_text(&report),
        || {
            render(
                &address,
                &report.discovery,
                report.elapsed_ms,
                super::stdout_style(),
            )
        },
    )?;
    write_stdout(&text)?;
    Ok(code)
}

/// Human rendering: what was tried, then the ranked candidates.
pub fn render(address: &Address, d: &Discovery, elapsed_ms: u64, style: Style) -> String {
    let mut out = String::new();
    out.push_str(&format!(
        "Servers for {}{}\n\nTried:\n",
        safe(&format!(
            "{}@{}",
            address.local,
            idn::display(&address.domain)
        )),
        d.provider
            .as_deref()
            .map(|p| format!(" (provider: {})", safe(p)))
            .unwrap_or_default()
    ));
    let w = d
        .attempts
        .iter()
        .map(|a| a.source.as_str().len())
        .max()
        .unwrap_or(0);
    for a in &d.attempts {
        let result = match a.result {
            AttemptResult::Found => "found",
            AttemptResult::NotFound => "not found",
            AttemptResult::Error => "error",
            AttemptResult::Timeout => "timeout",
        };
        let mut notes = String::new();
        if let Some(p) = a.problem {
            notes.push_str(&format!(" [{}]", p.as_str()));
        }
        if a.dropped > 0 {
            notes.push_str(&format!(" [{} more not used]", a.dropped));
        }
        out.push_str(&format!(
            "  {:<w$}  {:<9}  {}  {} ({} ms){notes}\n",
            a.source.as_str(),
            result,
            safe(&a.target),
            safe(&a.detail),
            a.elapsed_ms
        ));
    }
    if d.candidates.is_empty() {
        out.push_str(
            "\nNo servers found. Check the address's domain, or give the servers with --server.\n",
        );
    } else {
        out.push_str("\nCandidates, best first:\n");
        for c in &d.candidates {
            out.push_str(&candidate_line(c));
        }
    }
    // Bounds that cut discovery short (dropped servers, refused or abandoned answers).
    let problems = crate::report::discovery::problems(d);
    crate::report::human::problems(&mut out, &[], &problems, style);
    out.push_str(&format!("\n({:.2} s)\n", elapsed_ms as f64 / 1000.0));
    out
}

fn candidate_line(c: &Candidate) -> String {
    let auth: Vec<&str> = c.auth.iter().map(|a| a.as_str()).collect();
    let reason = c.trust_reason.map(|r| r.as_str()).unwrap_or("undecided");
    let trust = if c.trusted {
        format!("trusted: {reason}")
    } else {
        match (c.trust_reason, c.mx_host.as_deref()) {
            (Some(crate::model::TrustReason::MxUnconfirmed), Some(mx)) => format!(
                "NOT TRUSTED: {reason} (provider derived from MX {}; confirm with --trust-mx)",
                safe(mx)
            ),
            _ => format!(
                "NOT TRUSTED: {reason} (no password, never recommended; vouch with --trust-host {})",
                safe(&c.endpoint.host)
            ),
        }
    };
    format!(
        "  {:<40} user {}  {}from {} ({})  {}\n",
        safe(&format!(
            "{}://{}:{}",
            c.endpoint.scheme(),
            idn::display(&c.endpoint.host),
            c.endpoint.port
        )),
        safe(&c.username),
        if auth.is_empty() {
            String::new()
        } else {
            format!("auth {}  ", auth.join(","))
        },
        c.source.as_str(),
        c.transport_word(),
        trust
    )
}
