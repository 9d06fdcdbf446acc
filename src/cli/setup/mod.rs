//! `mailsetup setup`: the wizard for end users. Asks for the address, name and password,
//! checks the account with live progress, explains the result in plain words, lets the user
//! choose IMAP or POP3 when both work, offers the mail clients installed here, shows the
//! files it will write and writes them only after a yes. Every answer also has a flag, and
//! `--yes` runs it with no terminal at all.

use std::io::IsTerminal;

use anyhow::{bail, Context as _, Result};
use clap::Args;
use dialoguer::{Confirm, Input};

mod ask;
mod words;

pub use words::plain;

use super::check::{run_check, CheckPlan};
use super::credentials::CredentialArgs;
use super::discover::DiscoveryArgs;
use super::write::{
    describe_installed, describe_plan, emit, plan_install, render_all, write_options,
    OutputTargetArgs,
};
use super::{stdout_style, NetArgs, Prefer};
use crate::app::check::{recommend, Preferences};
use crate::app::files::{self, Destination};
use crate::clients::Client;
use crate::model::{Address, Endpoint, Protocol};
use crate::report::escape::terminal_safe as safe;
use crate::report::human;
use crate::secrets::SecretKey;
use crate::session::login::LoginOptions;

#[derive(Debug, Args)]
pub struct SetupArgs {
    /// Your email address (asked when missing)
    #[arg(long, value_name = "EMAIL")]
    pub email: Option<String>,

    /// Your name as it should appear in sent mail (asked when missing)
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,

    /// Use these servers instead of discovering them (repeatable URLs, as `check --server`)
    #[arg(long = "server", value_name = "URL")]
    pub server: Vec<Endpoint>,

    /// Mail clients to write configs for (repeatable; default: ask, offering the installed ones)
    #[arg(
        long = "client",
        value_name = "CLIENT",
        value_parser = super::client_arg::ClientParser,
        hide_possible_values = true
    )]
    pub clients: Vec<Client>,

    /// IMAP or POP3 when both work (default: ask; IMAP with --yes)
    #[arg(long, value_enum)]
    pub prefer: Option<Prefer>,

    /// Answer every question with its flag or default; never prompt (for scripts)
    #[arg(long, short = 'y')]
    pub yes: bool,

    /// Send a test message to yourself after the check and watch it arrive (asked when
    /// interactive; the message is deleted again)
    #[arg(long = "round-trip")]
    pub round_trip: bool,

    #[command(flatten)]
    pub discovery: DiscoveryArgs,

    #[command(flatten)]
    pub credentials: CredentialArgs,

    /// OAuth2 sign-in when the provider uses it: browser (PKCE) or device code
    #[arg(long = "oauth2-flow", value_enum, default_value_t = super::oauth2::Flow::Auto)]
    pub oauth2_flow: super::oauth2::Flow,

    #[command(flatten)]
    pub oauth2: super::oauth2::ClientArgs,

    #[command(flatten)]
    pub target: OutputTargetArgs,

    #[command(flatten)]
    pub net: NetArgs,
}

/// Whether questions may be asked.
fn interactive(args: &SetupArgs) -> bool {
    !args.yes && std::io::stdin().is_terminal() && std::io::stderr().is_terminal()
}

pub fn command(args: SetupArgs, runtime: &tokio::runtime::Runtime) -> Result<i32> {
    let ask = interactive(&args);
    if !ask && !args.yes {
        bail!("setup asks questions, but there is no terminal: give the answers as flags and add --yes (see `mailsetup setup --help`)");
    }
    if ask {
        println!("Let's set up your email. Press Ctrl-C at any time to stop; nothing is written until you agree.\n");
    }

    // 1. Who: address, name, password.
    let address: Address = match &args.email {
        Some(e) => e.parse().map_err(anyhow::Error::msg)?,
        None if ask => Input::<String>::new()
            .with_prompt("Your email address")
            .validate_with(|s: &String| s.parse::<Address>().map(|_| ()))
            .interact_text()?
            .parse()
            .map_err(anyhow::Error::msg)?,
        None => bail!("--email is required with --yes"),
    };
    let name = match &args.name {
        Some(n) => Some(n.clone()),
        None if ask => {
            let n: String = Input::new()
                .with_prompt("Your name (shown to the people you write to)")
                .allow_empty(true)
                .interact_text()?;
            (!n.trim().is_empty()).then(|| n.trim().to_string())
        }
        None => None,
    };
    // Providers that sign mail programs in with OAuth2: offer (or, given a client
    // registration with --yes, run) the sign-in; the stored sign-in is then the credential.
    super::oauth2::wizard_sign_in(&args, &address, ask, runtime)?;
    let creds = args
        .credentials
        .load(&address.to_string())?
        .context("setup needs your password: --password-command, --password-env or --password-file (or run it in a terminal)")?;
    let secret = creds.secret.clone();
    let round_trip_creds = creds.clone();
    // An OAuth2 sign-in is kept by `mailsetup oauth2`; only a password goes to a secret store.
    let is_password = creds.kind == crate::session::login::CredentialKind::Password;

    // 2. Check, with live progress.
    if ask {
        println!("\nLooking up your provider's servers and trying your password on each of them…");
    }
    let plan = CheckPlan {
        address: address.clone(),
        servers: &args.server,
        credentials: Some(creds),
        username: args.credentials.username.clone(),
        net: &args.net,
        verbose: false,
        options: LoginOptions {
            allow_plaintext: false,
            all_mechanisms: false,
            username_given: args.credentials.username.is_some(),
        },
        prefer: args.prefer.unwrap_or(Prefer::Imap).protocol(),
        display_name: name.clone(),
        pop3: args.target.pop3_policy(),
        live: true,
        discovery: &args.discovery,
        round_trip: None,
        strict: false,
        confirm_mx: if ask {
            Some(&ask::confirm_mx_provider)
        } else {
            None
        },
    };
    let report = runtime.block_on(run_check(plan))?;

    // 3. The result in plain words.
    let Some(first) = report.recommended.clone().filter(|r| r.verified) else {
        println!(
            "\nmailsetup could not find a working incoming and outgoing server for {}.\n",
            safe(&address.to_string())
        );
        print!("{}", human::render_check(&report, stdout_style()));
        return Ok(1);
    };
    let both = words::works(&report, Protocol::Imap) && words::works(&report, Protocol::Pop3);
    println!();
    words::explain_problems(&report);

    // 4. IMAP or POP3.
    let prefer = match args.prefer {
        Some(p) => p.protocol(),
        None if both && ask => ask::choose_protocol(&report)?,
        None => first.settings.incoming.endpoint.protocol,
    };
    let mut pop3 = args.target.pop3_policy();
    let explicit_pop3 =
        args.target.pop3_delete || args.target.pop3_keep || args.target.pop3_keep_days.is_some();
    if prefer == Protocol::Pop3 && ask && !explicit_pop3 {
        pop3.keep = Confirm::new()
            .with_prompt(
                "Leave a copy of each message on the server? (safer, but uses your storage)",
            )
            .default(true)
            .interact()?;
    }
    let prefs = Preferences {
        prefer,
        display_name: name,
        pop3,
    };
    let rec = recommend(
        &report.address,
        &report.username,
        &report.endpoints,
        report.discovery.as_ref(),
        &prefs,
    )
    .unwrap_or(first);
    println!();
    println!("{}", words::plain(&rec.settings.incoming, "Incoming mail"));
    println!("{}", words::plain(&rec.settings.outgoing, "Outgoing mail"));
    let mut block = String::new();
    human::recommended_block(&mut block, &rec, stdout_style());
    print!("{block}");

    // 4b. A test message: does mail actually flow through these servers?
    let test_message = args.round_trip
        || (ask && Confirm::new()
            .with_prompt(
                "Send a test message to yourself to check that mail arrives? (it is deleted again)",
            )
            .default(true)
            .interact()?);
    if test_message {
        words::test_message_step(&report, &rec, round_trip_creds, &args.net, runtime)?;
    }

    // 5. Which clients. A client that can't read mail over the chosen protocol gets the other
    // one when that works too (mpop is POP3-only, mbsync IMAP-only).
    let incoming = rec.settings.incoming.endpoint.protocol;
    let other = match incoming {
        Protocol::Imap => Protocol::Pop3,
        _ => Protocol::Imap,
    };
    let other_rec = if words::works(&report, other) {
        let prefs = Preferences {
            prefer: other,
            ..prefs.clone()
        };
        recommend(
            &report.address,
            &report.username,
            &report.endpoints,
            report.discovery.as_ref(),
            &prefs,
        )
        .filter(|r| r.verified && r.settings.incoming.endpoint.protocol == other)
    } else {
        None
    };
    let chosen = ask::choose_clients(&args, ask, incoming, other_rec.is_some().then_some(other))?;
    if chosen.is_empty() {
        println!("\nNo mail client chosen: nothing written. The settings above are all any mail client needs.");
        return Ok(0);
    }
    let settings_for = |client: Client| {
        let info = client.info();
        match &other_rec {
            Some(o) if !info.incoming.is_empty() && !info.incoming.contains(&incoming) => {
                &o.settings
            }
            _ => &rec.settings,
        }
    };

    // 6. Where the password goes.
    let install = args.target.install || args.target.out.is_none();
    let store = if is_password {
        ask::choose_store(&args, ask, runtime)?
    } else {
        None
    };
    let exe = super::write::mailsetup_exe()?;
    let password_command = match &store {
        Some(s) => Some(crate::clients::quote::shell_join(
            s.reader_command(&exe, SecretKey::password(&address.to_string()))
                .iter()
                .map(String::as_str),
        )),
        None => args.credentials.password_command.clone(),
    };
    let embed = args.target.embed_password.then(|| secret.clone());
    let mut opts = write_options(password_command.clone(), embed, &args.target);
    if install || store.is_some() {
        opts.mailsetup_exe = Some(exe.clone());
    }

    // 7. Show what will change, ask, write.
    // A client that can't express this account is skipped with its reason, not fatal here.
    let mut files = Vec::new();
    let mut notes: Vec<String> = Vec::new();
    for &c in &chosen {
        match render_all(&[c], settings_for(c), &opts) {
            Ok(f) => files.extend(f),
            Err(e) => println!("Skipping {c}: {}", safe(&format!("{e:#}"))),
        }
    }
    if files.is_empty() {
        println!("Nothing to write.");
        return Ok(1);
    }
    for f in &files {
        for n in &f.notes {
            if !notes.contains(n) {
                notes.push(n.clone());
            }
        }
    }
    let plan = if install {
        let plan = plan_install(&files)?;
        println!("\nThis is what will change (nothing else is touched):");
        print!("{}", describe_plan(&plan));
        Some(plan)
    } else {
        let dest = Destination::Dir(args.target.out_dir().into());
        println!("\nThese files will be written:");
        for p in &files::plan(files.clone(), &dest)? {
            println!(
                "  {} ({}, mode {:o})",
                p.target.display(),
                p.file.client,
                p.file.mode
            );
        }
        None
    };
    if let Some(s) = &store {
        println!(
            "  store  the password in {} (the mail programs read it with `{}`)",
            s.describe(),
            safe(password_command.as_deref().unwrap_or_default())
        );
    }
    if ask
        && !Confirm::new()
            .with_prompt("Write them?")
            .default(true)
            .interact()?
    {
        println!("Nothing written.");
        return Ok(0);
    }
    if let Some(s) = &store {
        runtime
            .block_on(s.set(SecretKey::password(&address.to_string()), &secret))
            .map_err(|e| anyhow::anyhow!("storing the password: {e}"))?;
    }
    let mut done_files = String::new();
    let mut made_dirs = Vec::new();
    match &plan {
        Some(plan) => {
            let (done, made) = files::install(plan)?;
            done_files = describe_installed(&done);
            made_dirs = made;
        }
        None => {
            print!("{}", emit(files.clone(), &args.target)?);
        }
    }

    // 8. The end screen: what was done, how to start each program.
    words::end_screen(&words::Done {
        address: &address,
        store: store.as_ref(),
        embedded: args.target.embed_password,
        folders: &rec.settings.folders,
        installed: &done_files,
        made_dirs: &made_dirs,
        installing: plan.is_some(),
        notes: &notes,
        files: &files,
    });
    if plan.is_some() && ask {
        ask::offer_fetch(&files, &exe)?;
    }
    Ok(0)
}
