//! `mailsetup check`, and the check run that `write --email` and `setup` share.

use anyhow::{bail, Result};
use clap::Args;

use super::credentials::CredentialArgs;
use super::live::Live;
use super::write::OutputTargetArgs;
use super::{stdout_style, write_stdout, Format, NetArgs, OutputArgs, Prefer};
use crate::app::check::CheckRequest;
use crate::model::{Address, Endpoint, Pop3Policy, Protocol};
use crate::report::{human, CheckReport};
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

    /// Your name as it should appear in sent mail (used in the recommended settings)
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,

    /// After a successful check, write configs for these mail clients from the recommended
    /// settings (repeatable; see `mailsetup write --list`)
    #[arg(long = "write", value_name = "CLIENT")]
    pub write: Vec<String>,

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
}

/// Runs a check and returns its report.
pub async fn run_check(plan: CheckPlan<'_>) -> Result<CheckReport> {
    let endpoints: Vec<Endpoint> = if plan.servers.is_empty() {
        Endpoint::standard(&plan.address.domain)
    } else {
        plan.servers.to_vec()
    };
    let endpoints: Vec<Endpoint> = endpoints
        .into_iter()
        .filter(|e| plan.net.wants(e.protocol))
        .collect();
    if endpoints.is_empty() {
        bail!("no endpoint left to check after --protocols");
    }
    if plan.credentials.is_none() {
        eprintln!("mailsetup: no password given and no terminal to ask on: probing only, login is skipped (use --password-command, --password-env or --password-file)");
    }
    let cfg = plan.net.session_config(plan.verbose)?;
    let username = plan
        .credentials
        .as_ref()
        .map(|c| c.username.clone())
        .or(plan.username)
        .unwrap_or_else(|| plan.address.to_string());
    let req = CheckRequest {
        address: plan.address,
        username,
        // Endpoints the user named, or the address's own domain: both may receive credentials.
        endpoints: endpoints.into_iter().map(|e| (e, Ok(()))).collect(),
        credentials: plan.credentials,
        options: plan.options,
        prefer: plan.prefer,
        display_name: plan.display_name,
        pop3: plan.pop3,
    };
    let live = Live::for_stderr(plan.live);
    let progress = live.as_ref().map(|l| l.progress()).unwrap_or_default();
    let report = crate::app::check::run(req, &cfg, &progress).await;
    if let Some(l) = &live {
        l.clear();
    }
    Ok(report)
}

pub fn command(args: CheckArgs, runtime: &tokio::runtime::Runtime) -> Result<i32> {
    let address: Address = args.email.parse().map_err(anyhow::Error::msg)?;
    for c in &args.write {
        if crate::clients::client_info(c).is_none() {
            bail!("--write {c}: unknown mail client; run `mailsetup write --list`");
        }
    }
    // Read credentials before the clock starts: a prompt may take a while.
    let creds = args.credentials.load(&address.to_string())?;
    let embed = if args.target.embed_password {
        creds.as_ref().map(|c| c.secret.clone())
    } else {
        None
    };
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
        },
        prefer: args.prefer.protocol(),
        display_name: args.name.clone(),
        pop3: args.target.pop3_policy(),
        live: args.output.format() == Format::Human,
    };
    let report = runtime.block_on(run_check(plan))?;
    let text = match args.output.format() {
        Format::Json => serde_json::to_string_pretty(&report)? + "\n",
        Format::Human => human::render_check(&report, stdout_style()),
    };
    write_stdout(&text)?;
    let code = report.exit_code();
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
