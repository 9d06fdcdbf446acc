//! `mailsetup setup`: the wizard for end users. Asks for the address, name and password,
//! checks the account with live progress, explains the result in plain words, lets the user
//! choose IMAP or POP3 when both work, offers the mail clients installed here, shows the
//! files it will write and writes them only after a yes. Every answer also has a flag, and
//! `--yes` runs it with no terminal at all.

use std::io::IsTerminal;

use anyhow::{bail, Context as _, Result};
use clap::Args;
use dialoguer::{Confirm, Input, MultiSelect, Select};

use super::check::{run_check, CheckPlan};
use super::credentials::CredentialArgs;
use super::discover::DiscoveryArgs;
use super::write::{
    describe_installed, describe_plan, emit, on_path, plan_install, render_all, tilde,
    write_options, OutputTargetArgs,
};
use super::{stdout_style, NetArgs, Prefer};
use crate::app::check::{recommend, Preferences};
use crate::app::files::{self, Destination};
use crate::app::roundtrip::{RoundTripOptions, DEFAULT_TIMEOUT};
use crate::clients::{Client, CLIENTS};
use crate::model::{Address, Endpoint, Protocol, Security, ServerSettings};
use crate::report::escape::terminal_safe as safe;
use crate::report::roundtrip::RoundTripStatus;
use crate::report::{human, CheckReport, LoginStatus, Recommended};
use crate::secrets::{SecretKey, Store, StoreEnv, StoreKind};
use crate::session::login::{Credentials, LoginOptions};

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
        value_enum,
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
            Some(&confirm_mx_provider)
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
    let both = works(&report, Protocol::Imap) && works(&report, Protocol::Pop3);
    println!();
    explain_problems(&report);

    // 4. IMAP or POP3.
    let prefer = match args.prefer {
        Some(p) => p.protocol(),
        None if both && ask => choose_protocol(&report)?,
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
    println!("{}", plain(&rec.settings.incoming, "Incoming mail"));
    println!("{}", plain(&rec.settings.outgoing, "Outgoing mail"));
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
        test_message_step(&report, &rec, round_trip_creds, &args.net, runtime)?;
    }

    // 5. Which clients. A client that can't read mail over the chosen protocol gets the other
    // one when that works too (mpop is POP3-only, mbsync IMAP-only).
    let incoming = rec.settings.incoming.endpoint.protocol;
    let other = match incoming {
        Protocol::Imap => Protocol::Pop3,
        _ => Protocol::Imap,
    };
    let other_rec = if works(&report, other) {
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
    let chosen = choose_clients(&args, ask, incoming, other_rec.is_some().then_some(other))?;
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
        choose_store(&args, ask, runtime)?
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
    println!("\nDone. {} is set up.", safe(&address.to_string()));
    if let Some(s) = &store {
        println!("  Password: in {}.", s.describe());
    } else if args.target.embed_password {
        println!("  Password: written into the files (mode 0600), as you asked.");
    }
    let f = &rec.settings.folders;
    let named: Vec<String> = [
        ("Sent", &f.sent),
        ("Drafts", &f.drafts),
        ("Trash", &f.trash),
        ("Junk", &f.junk),
        ("Archive", &f.archive),
    ]
    .iter()
    .filter_map(|(role, folder)| {
        folder
            .as_ref()
            .map(|x| format!("{role} = \"{}\"", safe(&x.name)))
    })
    .collect();
    if !named.is_empty() {
        println!("  Server folders mapped: {}.", named.join(", "));
    }
    if f.server_saves_sent {
        println!("  Your provider files sent mail itself: the programs keep no second copy.");
    }
    for line in done_files.lines() {
        println!("  {}", line[..1].to_uppercase() + &line[1..]);
    }
    let maildirs: Vec<String> = made_dirs
        .iter()
        .filter(|d| !["cur", "new", "tmp"].iter().any(|s| d.ends_with(s)))
        .map(|d| tilde(d))
        .collect();
    if !maildirs.is_empty() {
        println!("  Made {}.", maildirs.join(", "));
    }
    if plan.is_none() {
        for n in &notes {
            println!("  Note: {}", safe(n));
        }
    } else {
        for n in notes
            .iter()
            .filter(|n| n.contains("Thunderbird") || n.contains("import"))
        {
            println!("  Note: {}", safe(n));
        }
    }
    let starts: Vec<(String, String)> = files
        .iter()
        .filter_map(|f| {
            let cmd = f.start.clone()?;
            Some((cmd, f.client.to_string()))
        })
        .collect();
    if !starts.is_empty() {
        println!("\nStart your mail programs:");
        for (cmd, _) in &starts {
            println!("  {cmd}");
        }
    }
    if plan.is_some() && ask {
        let first = files.iter().find_map(|f| {
            let cmd = f.start.as_deref().filter(|_| f.fetches)?;
            Some((f.client, cmd.to_string()))
        });
        if let Some((client, cmd)) = first {
            if Confirm::new()
                .with_prompt(format!("Fetch your mail now with {client} (`{cmd}`)?"))
                .default(false)
                .interact()?
            {
                let cmd = cmd.replacen("mailsetup", &crate::clients::quote::shell_word(&exe), 1);
                let status = std::process::Command::new("sh")
                    .arg("-c")
                    .arg(&cmd)
                    .status()
                    .with_context(|| format!("running {cmd}"))?;
                println!(
                    "{client} {}",
                    if status.success() {
                        "finished."
                    } else {
                        "reported a problem (see above)."
                    }
                );
            }
        }
    }
    Ok(0)
}

/// Sends the test message through the chosen servers (fresh sessions: the check's are
/// closed by now) and says in plain words whether it arrived.
fn test_message_step(
    report: &CheckReport,
    rec: &Recommended,
    credentials: Credentials,
    net: &NetArgs,
    runtime: &tokio::runtime::Runtime,
) -> Result<()> {
    println!(
        "\nSending a test message to {} and waiting for it to arrive (up to {} s)…",
        safe(&report.address),
        DEFAULT_TIMEOUT.as_secs()
    );
    let mut chosen = report.clone();
    chosen.recommended = Some(rec.clone());
    let opts = RoundTripOptions {
        timeout: DEFAULT_TIMEOUT,
        to: None,
        credentials: Some(credentials),
        allow_plaintext: false,
    };
    let cfg = net.session_config(false)?;
    let rt = runtime.block_on(crate::app::roundtrip::run(&chosen, &opts, &cfg, None));
    if rt.status == RoundTripStatus::Delivered && !rt.failed() {
        println!(
            "Test message: delivered in {:.1} s and deleted again — sending and receiving both work.",
            rt.delivery_ms.unwrap_or_default() as f64 / 1000.0
        );
    } else {
        let mut block = String::new();
        crate::report::roundtrip::render(&mut block, &rt, stdout_style());
        print!("{block}");
        println!("Logging in works, but the test message did not make the whole trip (see above); the settings are still written if you go on.");
    }
    Ok(())
}

/// The secret store for the password: `--store-password`, else (with no other password
/// source) a choice among the stores usable here, keyring first; `--yes` takes the first.
fn choose_store(
    args: &SetupArgs,
    ask: bool,
    runtime: &tokio::runtime::Runtime,
) -> Result<Option<Store>> {
    let env = StoreEnv::from_process();
    if let Some(kind) = args.target.store_password {
        let store = Store::new(kind, env);
        runtime
            .block_on(store.available())
            .map_err(|e| anyhow::anyhow!("--store-password {kind}: {e}"))?;
        return Ok(Some(store));
    }
    if args.target.embed_password || args.credentials.password_command.is_some() {
        return Ok(None);
    }
    let mut usable = Vec::new();
    for kind in StoreKind::ALL {
        let store = Store::new(kind, env.clone());
        if runtime.block_on(store.available()).is_ok() {
            usable.push(store);
        }
    }
    if !ask {
        return match usable.into_iter().find(|s| s.kind() != StoreKind::File) {
            Some(s) => Ok(Some(s)),
            None => bail!("no secret store is usable here (no Secret Service, pass not initialised): add --store-password file (a private file), or --embed-password"),
        };
    }
    let items: Vec<String> = usable
        .iter()
        .map(|s| match s.kind() {
            StoreKind::Keyring => format!("{} (recommended)", s.describe()),
            StoreKind::Pass => s.describe(),
            StoreKind::File => format!("{} that only you can read", s.describe()),
        })
        .collect();
    println!();
    let i = Select::new()
        .with_prompt("Where should your password be kept?")
        .items(&items)
        .default(0)
        .interact()?;
    Ok(Some(usable.swap_remove(i)))
}

/// The provider was derived from the domain's MX record, which only says where mail is
/// delivered (and is an unauthenticated DNS answer): show the provider, the MX host and the
/// servers, and let the user vouch for it with one key.
fn confirm_mx_provider(d: &crate::discover::Discovery) -> bool {
    use crate::model::TrustReason;
    let unconfirmed: Vec<&crate::discover::Candidate> = d
        .candidates
        .iter()
        .filter(|c| c.trust_reason == Some(TrustReason::MxUnconfirmed))
        .collect();
    let mx = unconfirmed
        .iter()
        .find_map(|c| c.mx_host.as_deref())
        .unwrap_or("?");
    let provider = d.provider.as_deref().unwrap_or("a mail provider");
    eprintln!(
        "\nYour domain's mail is delivered to {} — that looks like {}.",
        safe(mx),
        safe(provider)
    );
    eprintln!("If your mail is hosted there, these are its servers:");
    let mut hosts: Vec<String> = unconfirmed.iter().map(|c| c.endpoint.to_string()).collect();
    hosts.dedup();
    for h in &hosts {
        eprintln!("  {}", safe(h));
    }
    Confirm::new()
        .with_prompt(format!(
            "Is {} your mail provider? (your password goes to these servers only if you say yes)",
            safe(provider)
        ))
        .default(false)
        .interact()
        .unwrap_or(false)
}

/// Whether login worked on some endpoint of this protocol.
fn works(r: &CheckReport, p: Protocol) -> bool {
    r.endpoints.iter().any(|e| {
        e.protocol == p
            && e.login
                .as_ref()
                .is_some_and(|l| l.status == LoginStatus::Ok)
    })
}

/// "Incoming mail: IMAP on imap.example.com, encrypted (SSL/TLS, port 993) — your password works"
pub fn plain(s: &ServerSettings, label: &str) -> String {
    let how = match s.endpoint.security {
        Security::Tls => format!("encrypted (SSL/TLS, port {})", s.endpoint.port),
        Security::StartTls => format!("encrypted with STARTTLS (port {})", s.endpoint.port),
        Security::Plain => format!("NOT encrypted (port {})", s.endpoint.port),
    };
    format!(
        "{label}: {} on {}, {how} — your password works",
        s.endpoint.protocol.as_str().to_uppercase(),
        safe(&s.endpoint.host)
    )
}

/// Problems worth telling an end user, each with what to do.
fn explain_problems(r: &CheckReport) {
    let mut out = String::new();
    human::problems(&mut out, &r.endpoints, &r.problems, stdout_style());
    if !out.is_empty() {
        println!("Some ways to reach your mail did not work (that's fine, one working way is enough):{out}");
    }
}

/// The IMAP/POP3 choice, in the provider help page's terms.
fn choose_protocol(r: &CheckReport) -> Result<Protocol> {
    println!(
        "Your account works with both IMAP and POP3. Which one should your mail client use?\n"
    );
    println!(
        "  IMAP keeps your mail on the server. Every device (phone, laptop, webmail) sees the same"
    );
    println!("       mailbox; the server's copy is the real one.");
    println!("  POP3 downloads your mail to this one device and, by default, removes it from the server;");
    println!("       the copy on this computer is then the real one (keep backups).");
    let mut storage = String::new();
    if let Some(q) = &r.quota {
        human::storage(&mut storage, q);
    }
    println!(
        "\n  Both use your account's storage (IMAP, and POP3 when it leaves copies on the server).{}",
        storage.trim_end().replace("\nStorage:", "\n  Storage now:")
    );
    let i = Select::new()
        .with_prompt("Use")
        .items([
            "IMAP — keep mail on the server (best for several devices)",
            "POP3 — download mail to this computer",
        ])
        .default(0)
        .interact()?;
    Ok(if i == 0 {
        Protocol::Imap
    } else {
        Protocol::Pop3
    })
}

/// Clients to write for: flags, or a choice with the installed ones first and preselected.
/// Clients of `alternative` only (when it works too) are offered as well.
fn choose_clients(
    args: &SetupArgs,
    ask: bool,
    incoming: Protocol,
    alternative: Option<Protocol>,
) -> Result<Vec<Client>> {
    if !args.clients.is_empty() {
        return Ok(args.clients.clone());
    }
    let mut fitting: Vec<(Client, String, bool)> = CLIENTS
        .iter()
        .filter(|c| {
            c.incoming.contains(&incoming)
                || c.incoming.is_empty()
                || alternative.is_some_and(|a| c.incoming.contains(&a))
        })
        .map(|c| {
            let via = if !c.incoming.is_empty() && !c.incoming.contains(&incoming) {
                format!(" (over {})", c.incoming[0].as_str().to_uppercase())
            } else {
                String::new()
            };
            (
                c.client,
                format!("{}{via}", c.description),
                c.binary.is_some_and(on_path),
            )
        })
        .collect();
    fitting.sort_by_key(|(_, _, installed)| !installed);
    if !ask {
        return Ok(fitting.iter().filter(|c| c.2).map(|c| c.0).collect());
    }
    let items: Vec<String> = fitting
        .iter()
        .map(|(n, d, i)| format!("{n:<12} {d}{}", if *i { "  [installed]" } else { "" }))
        .collect();
    let defaults: Vec<bool> = fitting.iter().map(|c| c.2).collect();
    // The echo after the answer names the chosen programs only (dialoguer would repeat every
    // chosen line in full on one long line).
    let picked = MultiSelect::new()
        .with_prompt("Write settings for which mail programs? (space toggles, enter accepts)")
        .items(&items)
        .defaults(&defaults)
        .report(false)
        .interact()?;
    let chosen: Vec<Client> = picked.into_iter().map(|i| fitting[i].0).collect();
    println!(
        "Write settings for which mail programs?: {}",
        if chosen.is_empty() {
            "none".to_string()
        } else {
            chosen
                .iter()
                .map(|c| c.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        }
    );
    Ok(chosen)
}
