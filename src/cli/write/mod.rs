//! `mailsetup write CLIENT…` and `check --write`: account settings → client config files.
//! Settings without a check come from `settings.rs`; the install plan is put in words by `plan.rs`.

use std::path::PathBuf;

use anyhow::{bail, Context as _, Result};
use clap::Args;

use crate::app::files::{self, Destination};
use crate::clients::{self, Client, OutputFile, WriteOptions, CLIENTS};
use crate::model::{AccountSettings, Address, AuthMethod, Endpoint, Pop3Policy, Secret};
use crate::report::escape::terminal_safe as safe;
use crate::session::login::LoginOptions;

use super::credentials::CredentialArgs;
use super::{NetArgs, Prefer};

mod plan;
mod settings;

use plan::indent;
pub use plan::{describe_installed, describe_plan, plan_install, tilde};
pub use settings::{settings_from_report, settings_from_servers};

#[derive(Debug, Args)]
pub struct WriteArgs {
    /// Mail clients to write for (see --list)
    #[arg(
        value_name = "CLIENT",
        required_unless_present = "list",
        value_parser = super::client_arg::ClientParser,
        hide_possible_values = true
    )]
    pub clients: Vec<Client>,

    /// List the supported mail clients (installed ones marked) and exit
    #[arg(long)]
    pub list: bool,

    /// Take the settings from a saved `mailsetup check --json` report
    #[arg(long, value_name = "REPORT.json", conflicts_with_all = ["server", "email"])]
    pub from: Option<PathBuf>,

    /// The account's address. With --server the servers are used as given (no network);
    /// alone, a check runs first and its verified settings are written
    #[arg(long, value_name = "EMAIL")]
    pub email: Option<String>,

    /// Server URLs to configure (imaps://h:993, smtps://h:465, ...), with --email
    #[arg(long = "server", value_name = "URL", requires = "email")]
    pub server: Vec<Endpoint>,

    /// Your name as it should appear in sent mail
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,

    /// Incoming protocol to use when both work (with --email)
    #[arg(long, value_enum, default_value_t = Prefer::Imap)]
    pub prefer: Prefer,

    #[command(flatten)]
    pub discovery: super::discover::DiscoveryArgs,

    #[command(flatten)]
    pub credentials: CredentialArgs,

    #[command(flatten)]
    pub target: OutputTargetArgs,

    #[command(flatten)]
    pub net: NetArgs,
}

pub fn command(args: WriteArgs, runtime: &tokio::runtime::Runtime) -> Result<i32> {
    if args.list {
        print!("{}", list());
        return Ok(0);
    }
    let pop3 = args.target.pop3_policy();
    let explicit_pop3 =
        args.target.pop3_delete || args.target.pop3_keep || args.target.pop3_keep_days.is_some();
    let mut embed: Option<Secret> = None;
    let settings = if let Some(from) = &args.from {
        settings_from_report(
            from,
            explicit_pop3.then_some(pop3),
            &args.discovery.trust_host,
        )?
    } else {
        let Some(email) = &args.email else {
            bail!("where do the settings come from? give --from REPORT.json (a saved `mailsetup check --json`), --email EMAIL with --server URLs, or --email EMAIL alone to run a check first");
        };
        let address: Address = email.parse().map_err(anyhow::Error::msg)?;
        if !args.server.is_empty() {
            let mut s = settings_from_servers(
                &address,
                &args.server,
                args.credentials.username.as_deref(),
                args.name.clone(),
                pop3,
            )?;
            // An OAuth2 account (--oauth2, or a sign-in stored by `mailsetup oauth2 login`).
            if args.credentials.oauth2 || crate::oauth2::has_login(&address.to_string()) {
                s.incoming.auth = AuthMethod::OAuth2;
                s.outgoing.auth = AuthMethod::OAuth2;
            }
            s
        } else {
            let creds = args.credentials.load(&address.to_string())?;
            embed = creds.as_ref().map(|c| c.secret.clone());
            let plan = super::check::CheckPlan {
                address,
                servers: &[],
                credentials: creds,
                username: args.credentials.username.clone(),
                net: &args.net,
                verbose: false,
                options: LoginOptions {
                    allow_plaintext: false,
                    all_mechanisms: false,
                    username_given: args.credentials.username.is_some(),
                },
                prefer: args.prefer.protocol(),
                display_name: args.name.clone(),
                pop3,
                live: true,
                discovery: &args.discovery,
                round_trip: None,
                strict: false,
                confirm_mx: None,
            };
            let report = runtime.block_on(super::check::run_check(plan))?;
            match report.recommended {
                Some(rec) if rec.verified => rec.settings,
                _ => bail!("the check found no verified incoming and outgoing server; run `mailsetup check {email}` to see why"),
            }
        }
    };
    if args.target.embed_password && embed.is_none() {
        let creds = args
            .credentials
            .load(&settings.address)?
            .context("--embed-password needs the password: --password-command, --password-env, --password-file, or a terminal")?;
        embed = Some(creds.secret);
    }
    let mut password_command = args.credentials.password_command.clone();
    if let Some(kind) = args.target.store_password {
        let secret = match embed.take() {
            Some(s) => s,
            None => args
                .credentials
                .load(&settings.address)?
                .context("--store-password needs the password: --password-command, --password-env, --password-file, or a terminal")?
                .secret,
        };
        let (store, reader) = store_password(kind, &settings.address, &secret, runtime)?;
        eprintln!(
            "mailsetup: stored the password in {}; the configs read it with `{reader}`",
            store.describe()
        );
        password_command = Some(reader);
    }
    if !args.target.embed_password {
        embed = None;
    }
    let mut opts = write_options(password_command, embed, &args.target);
    if args.target.install || args.target.store_password.is_some() {
        opts.mailsetup_exe = Some(mailsetup_exe()?);
    }
    let files = render_all(&args.clients, &settings, &opts)?;
    print!("{}", emit(files, &args.target)?);
    Ok(0)
}

/// Where and how config files are written (shared by `write`, `check --write` and `setup`).
#[derive(Debug, Clone, Args)]
pub struct OutputTargetArgs {
    /// Directory to write the files into, to copy them yourself (`-` prints them to stdout);
    /// `write` defaults to `.`, `setup` installs unless this is given
    #[arg(long, value_name = "DIR")]
    pub out: Option<String>,

    /// Install each file where its client looks (e.g. ~/.mbsyncrc): a new file, or a marked block
    /// added to (or replaced in) an existing one — nothing else in it changes, the old version is
    /// kept as FILE.bak — and the directories the client needs
    #[arg(long, conflicts_with = "out")]
    pub install: bool,

    /// Keep the password in this store (keyring, pass, or file: a private file) and let the
    /// configs read it back with `mailsetup password get`
    #[arg(long = "store-password", value_name = "STORE", value_parser = parse_store, conflicts_with = "embed_password")]
    pub store_password: Option<crate::secrets::StoreKind>,

    /// Show what would be written, write nothing
    #[arg(long = "dry-run")]
    pub dry_run: bool,

    /// Replace existing files (the old one is kept as FILE.bak)
    #[arg(long)]
    pub force: bool,

    /// Write the password itself into the files (mode 0600) instead of a password command
    #[arg(long = "embed-password")]
    pub embed_password: bool,

    /// POP3: delete mail from the server after download (default: keep it there)
    #[arg(long = "pop3-delete", conflicts_with = "pop3_keep")]
    pub pop3_delete: bool,

    /// POP3: keep mail on the server after download (the default)
    #[arg(long = "pop3-keep")]
    pub pop3_keep: bool,

    /// POP3: delete mail from the server this many days after download
    #[arg(
        long = "pop3-keep-days",
        value_name = "N",
        conflicts_with = "pop3_delete"
    )]
    pub pop3_keep_days: Option<u32>,

    /// Local Maildir for fetching clients (mbsync, mpop, getmail, OfflineIMAP, …)
    #[arg(long, value_name = "DIR")]
    pub maildir: Option<String>,
}

fn parse_store(s: &str) -> Result<crate::secrets::StoreKind, String> {
    s.parse()
}

impl OutputTargetArgs {
    /// `--out`, `.` when not given.
    pub fn out_dir(&self) -> &str {
        self.out.as_deref().unwrap_or(".")
    }

    pub fn pop3_policy(&self) -> Pop3Policy {
        Pop3Policy {
            keep: !self.pop3_delete,
            keep_days: self.pop3_keep_days,
        }
    }
}

/// Prints the supported clients (installed ones marked).
pub fn list() -> String {
    let mut out = String::new();
    for c in CLIENTS {
        let installed = c.binary.is_some_and(on_path);
        out.push_str(&format!(
            "{:<12} {}{}\n",
            c.name,
            c.description,
            if installed { "  [installed]" } else { "" }
        ));
    }
    out
}

/// Whether an executable of this name is on $PATH.
pub fn on_path(binary: &str) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::env::var_os("PATH").is_some_and(|paths| {
        std::env::split_paths(&paths).any(|dir| {
            std::fs::metadata(dir.join(binary))
                .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
    })
}

/// Renders every client's files.
pub fn render_all(
    clients: &[Client],
    settings: &AccountSettings,
    opts: &WriteOptions,
) -> Result<Vec<OutputFile>> {
    let mut files = Vec::new();
    // OAuth2 accounts: configs run this very program for fresh tokens (absolute path).
    let mut opts = opts.clone();
    if opts.oauth2_token_command.is_none() {
        opts.oauth2_token_command = Some(super::oauth2::token_command(&settings.address));
    }
    for &client in clients {
        let mut rendered = client
            .render(settings, &opts)
            .map_err(|e| anyhow::anyhow!("{client}: {e}"))?;
        if client == Client::Mbsync && settings.incoming.auth == AuthMethod::OAuth2 {
            let note = super::oauth2::sasl_xoauth2_note();
            for f in &mut rendered {
                f.notes.push(note.clone());
            }
        }
        files.extend(rendered);
    }
    Ok(files)
}

/// Writes (or shows) the files; returns what to tell the user.
pub fn emit(files: Vec<OutputFile>, target: &OutputTargetArgs) -> Result<String> {
    let mut report = String::new();
    let mut notes: Vec<String> = Vec::new();
    for f in &files {
        for n in &f.notes {
            if !notes.contains(n) {
                notes.push(n.clone());
            }
        }
    }
    if target.install && !target.dry_run {
        let plan = plan_install(&files)?;
        report.push_str(&describe_plan(&plan));
        let (done, _) = files::install(&plan)?;
        report.push_str(&describe_installed(&done));
    } else if target.out_dir() == "-" {
        for f in &files {
            report.push_str(&format!(
                "# ==> {} ({}) <==\n{}\n",
                f.path.display(),
                f.client,
                crate::report::escape::terminal_safe_lines(&f.contents)
            ));
        }
    } else {
        let dest = if target.install {
            Destination::Install
        } else {
            Destination::Dir(PathBuf::from(target.out_dir()))
        };
        let planned = files::plan(files, &dest)?;
        if target.dry_run {
            for p in &planned {
                report.push_str(&format!(
                    "would write {} (mode {:o}, {})\n{}\n",
                    p.target.display(),
                    p.file.mode,
                    p.file.client,
                    indent(&crate::report::escape::terminal_safe_lines(
                        &p.file.contents
                    ))
                ));
            }
        } else {
            for w in files::write_all(&planned, target.force)? {
                report.push_str(&format!("wrote {} (mode {:o})", w.path.display(), w.mode));
                if let Some(b) = &w.backup {
                    report.push_str(&format!(", previous file kept as {}", b.display()));
                }
                report.push('\n');
            }
        }
    }
    for n in notes {
        eprintln!("note: {}", safe(&n));
    }
    Ok(report)
}

/// The absolute path of this mailsetup binary (what configs run to read a stored password).
pub fn mailsetup_exe() -> Result<String> {
    let exe = std::env::current_exe().context("finding the mailsetup binary")?;
    let exe = exe.canonicalize().unwrap_or(exe);
    exe.to_str()
        .map(str::to_string)
        .context("the path of the mailsetup binary is not UTF-8")
}

/// Stores the password in `kind` and returns the store and the command configs read it with.
pub fn store_password(
    kind: crate::secrets::StoreKind,
    address: &str,
    secret: &Secret,
    runtime: &tokio::runtime::Runtime,
) -> Result<(crate::secrets::Store, String)> {
    use crate::secrets::{SecretKey, Store, StoreEnv};
    let store = Store::new(kind, StoreEnv::from_process());
    let key = SecretKey::password(address);
    runtime
        .block_on(store.available())
        .map_err(|e| anyhow::anyhow!("--store-password {kind}: {e}"))?;
    runtime
        .block_on(store.set(key, secret))
        .map_err(|e| anyhow::anyhow!("--store-password {kind}: {e}"))?;
    let exe = mailsetup_exe()?;
    let argv = store.reader_command(&exe, key);
    let reader = clients::quote::shell_join(argv.iter().map(String::as_str));
    Ok((store, reader))
}

/// The options every writer gets.
pub fn write_options(
    password_command: Option<String>,
    embed: Option<Secret>,
    target: &OutputTargetArgs,
) -> WriteOptions {
    WriteOptions {
        password_command,
        embed_password: embed,
        maildir: target.maildir.clone(),
        account_name: None,
        mailsetup_exe: None,
        oauth2_token_command: None,
    }
}
