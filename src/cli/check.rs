//! `mailsetup check`, and the check run that `write --email` and `setup` share.

use anyhow::{bail, Result};
use clap::Args;

use std::time::Instant;

use super::credentials::CredentialArgs;
use super::discover::{DiscoveryArgs, CHECK_DISCOVERY_BUDGET};
use super::live::Live;
use super::write::OutputTargetArgs;
use super::{write_stdout, Format, NetArgs, OutputArgs, Prefer};
use crate::app::check::{CheckRequest, Target};
use crate::app::plan::{discover_targets, Discovered, DiscoveryPlan};
use crate::app::progress::{Event, Progress};
use crate::app::roundtrip::RoundTripOptions;
use crate::model::{Address, Endpoint, Pop3Policy, Protocol};
use crate::report::{CheckReport, Code, Problem};
use crate::session::handoff::Keeper;
use crate::session::login::{Credentials, LoginOptions};

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The email address of the account
    #[arg(value_name = "EMAIL")]
    pub email: String,

    /// Check exactly this endpoint (repeatable); same URL forms as `probe --server`
    #[arg(long = "server", value_name = "URL")]
    pub server: Vec<Endpoint>,

    #[command(flatten)]
    pub credentials: CredentialArgs,

    /// Try every offered login mechanism and report each (does "encrypted password" work?)
    #[arg(long = "all-mechanisms")]
    pub all_mechanisms: bool,

    /// Allow sending credentials to a +plain endpoint (readable by anyone on the network)
    #[arg(long = "allow-plaintext-login")]
    pub allow_plaintext_login: bool,

    /// Incoming protocol to recommend when both work
    #[arg(long, value_enum, default_value_t = Prefer::Imap)]
    pub prefer: Prefer,

    /// Every checked endpoint counts for the exit status (for monitoring a server): an error
    /// on any discovered server, or a refused port, fails the run
    #[arg(long)]
    pub strict: bool,

    /// Your name as it should appear in sent mail (used in the recommended settings)
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,

    #[command(flatten)]
    pub discovery: DiscoveryArgs,

    /// After the logins verified, send a test message to yourself through the recommended
    /// outgoing server, watch it arrive on the recommended incoming server, then delete it
    #[arg(long = "round-trip")]
    pub round_trip: bool,

    /// How long the test message may take to arrive, in seconds
    #[arg(
        long = "round-trip-timeout",
        value_name = "SECS",
        default_value_t = 60.0
    )]
    pub round_trip_timeout: f64,

    /// Send the test message to this address instead (another mailbox, an autoresponder) and
    /// only report whether the server accepted it; implies --round-trip
    #[arg(long = "round-trip-to", value_name = "ADDRESS")]
    pub round_trip_to: Option<Address>,

    /// After a successful check, write configs for these mail clients from the recommended
    /// settings (repeatable; see `mailsetup write --list`)
    #[arg(
        long = "write",
        value_name = "CLIENT",
        value_parser = super::client_arg::ClientParser,
        hide_possible_values = true
    )]
    pub write: Vec<crate::clients::Client>,

    #[command(flatten)]
    pub target: OutputTargetArgs,

    #[command(flatten)]
    pub net: NetArgs,

    #[command(flatten)]
    pub output: OutputArgs,
}

/// Everything one check run needs.
pub struct CheckPlan<'a> {
    pub address: Address,
    /// Exactly these endpoints; empty = the standard endpoints of the address's domain.
    pub servers: &'a [Endpoint],
    pub credentials: Option<Credentials>,
    pub username: Option<String>,
    pub net: &'a NetArgs,
    pub verbose: bool,
    pub options: LoginOptions,
    pub prefer: Protocol,
    pub display_name: Option<String>,
    pub pop3: Pop3Policy,
    /// Show live progress on stderr (terminal only).
    pub live: bool,
    /// How discovery runs when no `--server` is given.
    pub discovery: &'a DiscoveryArgs,
    /// `--round-trip`: send a test message after the check and watch it arrive.
    pub round_trip: Option<RoundTripOptions>,
    /// `--strict`: every endpoint counts.
    pub strict: bool,
    /// Asks the user to confirm a provider derived from the MX record (the wizard); without
    /// it, such a provider stays untrusted unless `--trust-mx` was given.
    pub confirm_mx: Option<&'a (dyn Fn(&crate::discover::Discovery) -> bool + Sync)>,
}

/// Runs a check and returns its report.
pub async fn run_check(plan: CheckPlan<'_>) -> Result<CheckReport> {
    let mut cfg = plan.net.session_config(plan.verbose)?;
    // With --round-trip the check keeps its verified sessions for the round trip.
    let keeper = plan.round_trip.as_ref().map(|_| Keeper::new());
    cfg.keep = keeper.clone();
    let live = Live::for_stderr(plan.live);
    let progress = live.as_ref().map(|l| l.progress()).unwrap_or_default();
    let wanted: Vec<Protocol> = [Protocol::Imap, Protocol::Pop3, Protocol::Smtp]
        .into_iter()
        .filter(|p| plan.net.wants(*p))
        .collect();
    let found = if plan.servers.is_empty() {
        // Discovery gets part of the deadline; the probes need the rest.
        let deadline = (Instant::now() + CHECK_DISCOVERY_BUDGET).min(cfg.deadline);
        let mut dcfg = plan
            .discovery
            .config(plan.net, cfg.tls.clone(), deadline, false);
        dcfg.on_attempt = Some(source_progress(&progress));
        dcfg.clock = cfg.clock;
        let discovery_plan = DiscoveryPlan {
            address: &plan.address,
            config: &dcfg,
            trust_hosts: &plan.discovery.trust_host,
            trust_mx: plan.discovery.trust_mx,
            wanted: &wanted,
            confirm_mx: plan.confirm_mx,
        };
        discover_targets(discovery_plan, || {
            if let Some(l) = &live {
                l.clear();
            }
        })
        .await
    } else {
        Discovered {
            targets: plan
                .servers
                .iter()
                .filter(|e| wanted.contains(&e.protocol))
                .cloned()
                .map(Target::given)
                .collect(),
            discovery: None,
            more: None,
        }
    };
    let Discovered {
        targets,
        discovery,
        more,
    } = found;
    if targets.is_empty() && discovery.is_none() && more.is_none() {
        bail!("no endpoint left to check after --protocols");
    }
    if plan.credentials.is_none() {
        eprintln!("mailsetup: no password given and no terminal to ask on: probing only, login is skipped (use --password-command, --password-env or --password-file)");
    }
    let username = plan
        .credentials
        .as_ref()
        .map(|c| c.username.clone())
        .or(plan.username)
        .unwrap_or_else(|| plan.address.to_string());
    let req = CheckRequest {
        address: plan.address,
        username,
        endpoints: targets,
        discovery,
        credentials: plan.credentials,
        options: plan.options,
        prefer: plan.prefer,
        display_name: plan.display_name,
        pop3: plan.pop3,
        strict: plan.strict,
        more,
    };
    let mut report = crate::app::check::run(req, &cfg, &progress).await;
    if let Some(l) = &live {
        l.clear();
    }
    if report.endpoints.is_empty() {
        report.problems.push(Problem::error(
            Code::DiscoveryFailed,
            format!("no mail server was found for {}", report.address),
        ));
    }
    if let Some(opts) = &plan.round_trip {
        if live.is_some() {
            eprintln!(
                "mailsetup: sending a test message to {} and watching for it (up to {:.0} s)...",
                opts.to.as_deref().unwrap_or(&report.address),
                opts.timeout.as_secs_f64()
            );
        }
        let rt = crate::app::roundtrip::run(&report, opts, &cfg, keeper.as_ref()).await;
        report.round_trip = Some(rt);
        crate::app::roundtrip::record_phases(&mut report);
    }
    // What discovery's bounds left out or refused (problems stay ordered by severity, code).
    if let Some(d) = &report.discovery {
        let found = crate::report::discovery::problems(d);
        if !found.is_empty() {
            report.problems.extend(found);
            report.problems.sort_by_key(|p| (p.severity, p.code));
        }
    }
    Ok(report)
}

/// Discovery lookups as progress lines ("srv _imaps._tcp.example.com  found").
fn source_progress(progress: &Progress) -> crate::discover::AttemptHook {
    let progress = progress.clone();
    std::sync::Arc::new(move |source, target, result| {
        let name = format!("{} {}", source.as_str(), target);
        match result {
            None => progress.emit(Event::SourceStarted { name }),
            Some(r) => progress.emit(Event::SourceFinished {
                name,
                result: serde_json::to_value(r)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_default(),
            }),
        }
    })
}

/// `--round-trip`, `--round-trip-to`, `--round-trip-timeout` as options (None: no round trip).
fn round_trip_options(
    args: &CheckArgs,
    credentials: Option<Credentials>,
) -> Result<Option<RoundTripOptions>> {
    if !args.round_trip && args.round_trip_to.is_none() {
        return Ok(None);
    }
    let secs = args.round_trip_timeout;
    if !(secs.is_finite() && secs > 0.0 && secs <= 3600.0) {
        bail!("--round-trip-timeout must be between 0 and 3600 seconds");
    }
    Ok(Some(RoundTripOptions {
        timeout: std::time::Duration::from_secs_f64(secs),
        to: args.round_trip_to.as_ref().map(|a| a.to_string()),
        credentials,
        allow_plaintext: args.allow_plaintext_login,
    }))
}

pub fn command(args: CheckArgs, runtime: &tokio::runtime::Runtime) -> Result<i32> {
    let address: Address = args.email.parse().map_err(anyhow::Error::msg)?;
    super::output::validate(&args.output)?;
    // Read credentials before the clock starts: a prompt may take a while.
    let creds = args.credentials.load(&address.to_string())?;
    let embed = if args.target.embed_password {
        creds.as_ref().map(|c| c.secret.clone())
    } else {
        None
    };
    let round_trip = round_trip_options(&args, creds.clone())?;
    let plan = CheckPlan {
        address,
        servers: &args.server,
        credentials: creds,
        username: args.credentials.username.clone(),
        net: &args.net,
        verbose: args.output.verbose,
        options: LoginOptions {
            allow_plaintext: args.allow_plaintext_login,
            all_mechanisms: args.all_mechanisms,
            username_given: args.credentials.username.is_some(),
        },
        prefer: args.prefer.protocol(),
        display_name: args.name.clone(),
        pop3: args.target.pop3_policy(),
        live: args.output.format() == Format::Human,
        discovery: &args.discovery,
        round_trip,
        strict: args.strict,
        confirm_mx: None,
    };
    let prefer = plan.prefer;
    let report = runtime.block_on(run_check(plan))?;
    let code = crate::app::check::exit_code(&report, args.strict, prefer);
    let (text, code) = super::output::check(&report, &args.output, code)?;
    write_stdout(&text)?;
    if !args.write.is_empty() {
        match (&report.recommended, code) {
            (Some(rec), 0) if rec.verified => {
                let opts = super::write::write_options(
                    args.credentials.password_command.clone(),
                    embed,
                    &args.target,
                );
                let files = super::write::render_all(&args.write, &rec.settings, &opts)?;
                eprint!("{}", super::write::emit(files, &args.target)?);
            }
            _ => {
                eprintln!("mailsetup: not writing client configs: the check did not verify a working incoming and outgoing server (see the problems above)");
                return Ok(code.max(1));
            }
        }
    }
    Ok(code)
}
