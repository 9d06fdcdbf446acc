//! Command line: clap types, dispatch, output format, exit codes. The only place that
//! knows about argv, TTYs and stdout.

pub mod assets;
pub mod check;
mod client_arg;
pub mod credentials;
pub mod discover;
pub mod fetchmail;
pub mod live;
pub mod oauth2;
pub mod output;
pub mod password;
pub mod setup;
pub mod write;

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _, Result};
use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::model::{Endpoint, Protocol};
use crate::net::connect::ConnectTo;
use crate::net::tls::{Pin, TlsContext, VerifierKind};
use crate::report::human;
use crate::session::{SessionConfig, Timeouts, Trace};

/// Exit codes (documented in README and `--help`).
pub mod exit {
    /// The account works (or, with --strict, every endpoint is ok; warnings allowed).
    pub const OK: i32 = 0;
    /// No working incoming or outgoing server, a named endpoint failed, or (--strict) any error.
    pub const ENDPOINT_ERROR: i32 = 1;
    /// Usage error or bad input (bad URL, unreadable file, ...).
    pub const USAGE: i32 = 2;
    /// `oauth2 token`: no usable sign-in (none stored, or the provider refused the refresh
    /// token): run `mailsetup oauth2 login ADDRESS` again.
    pub const LOGIN_REQUIRED: i32 = 4;
}

const AFTER_HELP: &str = "\
Exit status: 0 the account works (a working incoming and outgoing server, login verified when a
password was given, and every --server endpoint ok), 1 it does not, 2 usage or bad input. Ports
where nothing listens on discovered servers are reported as not offered; --strict counts every
endpoint. With --format nagios: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN (usage or bad input).
JSON output (--json) is a stable contract: see docs/json.md.";

#[derive(Debug, Parser)]
#[command(
    name = "mailsetup",
    version,
    about = "Get an email account working, and say exactly why it isn't",
    long_about = "Get an email account working, and say exactly why it isn't.\n\n\
mailsetup finds and tests a mail provider's IMAP, POP3 and SMTP servers: every documented \
port and TLS mode at once, with certificates, capabilities and login mechanisms.",
    after_help = AFTER_HELP,
    propagate_version = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Probe a server's six standard endpoints at once (no login)
    #[command(after_help = AFTER_HELP, long_about = "Probe a server's six standard endpoints at once: \
imaps://HOST:993, imap://HOST:143 (STARTTLS required), pop3s://HOST:995, pop3://HOST:110 (STLS required), \
smtps://HOST:465 and smtp://HOST:587 (STARTTLS required). Reports TLS version and certificate, capabilities \
read after TLS, and the login mechanisms offered. Never logs in.")]
    Probe(ProbeArgs),

    /// Verify login on IMAP, POP3 and SMTP, and report the storage quota
    #[command(after_help = AFTER_HELP, long_about = "Probe the account's endpoints as `probe` does, then log in on \
each endpoint that passed its TLS checks, with the best mechanism offered (challenge-response before \
cleartext; --all-mechanisms tries each). Reports quota (IMAP GETQUOTAROOT, POP3 STAT). The password comes \
from --password-command, --password-env, --password-file or a no-echo prompt; never from argv. Without \
any of them and without a terminal, login is skipped and said so.")]
    Check(check::CheckArgs),

    /// Write working account configs for mail clients (`--list` shows them)
    #[command(after_help = AFTER_HELP, long_about = "Write working account configs for mail clients. The settings come from a saved \
`mailsetup check --json` report (--from), from explicit --server URLs with --email, or from a fresh check (--email alone). \
Where the client supports it the config runs a password command (--password-command, default `pass show mail/ADDRESS`); \
the password itself is written only with --embed-password, and then the file is mode 0600. Files are written atomically \
and never over an existing file without --force (the old one is kept as .bak).")]
    Write(write::WriteArgs),

    /// Find an address's mail servers: provider database, autoconfig, MX, SRV, Autodiscover, guesses
    #[command(after_help = AFTER_HELP, long_about = "Find an address's mail servers. Every source runs at once: \
the built-in provider database (Thunderbird's ISPDB), the online ISPDB, the provider's autoconfig (https, then http; \
autoconfig.DOMAIN and DOMAIN/.well-known), the MX host's provider, RFC 6186/8314 SRV records, Microsoft Autodiscover, \
and host-name guesses. Reports every attempt and the merged, ranked candidates. Touches no mail port; --offline uses \
the built-in database only and makes no network access at all.")]
    Discover(discover::DiscoverArgs),

    /// The wizard: from "I have an address and a password" to a working mail client
    #[command(after_help = AFTER_HELP, long_about = "The wizard for end users: asks for your address, name and \
password, finds and checks your provider's servers with live progress, explains the result in plain words, \
lets you choose IMAP or POP3 when both work, offers the mail programs installed here, shows the files it will \
write and writes them after you agree. Every answer is also a flag; with --yes it never asks (for scripts).")]
    Setup(setup::SetupArgs),

    /// Keep a password (or OAuth2 token) in the secret store; mail clients read it back with `password get`
    #[command(
        long_about = "Keep an account's password (or OAuth2 refresh token) in a secret store: the system \
keyring (Secret Service on Linux, the macOS Keychain), pass, or a private file (mode 0600). `set` reads it from a \
no-echo prompt or the first line of standard input (never the command line); `get` prints only the secret, for a \
mail client's password command. Exit status: 0 done, 3 no such secret, 4 the store is locked or not usable here, \
2 usage."
    )]
    Password(password::PasswordArgs),

    /// Run fetchmail with the passwords its mailsetup entries name (it can't run a password command itself)
    Fetchmail(fetchmail::FetchmailArgs),

    /// Deliver one message from standard input into a Maildir (fetchmail's mda)
    #[command(hide = true)]
    Deliver(fetchmail::DeliverArgs),
    /// OAuth2 accounts: sign in (browser or device code), print fresh tokens, sign out
    #[command(
        after_help = "Exit status: 0 ok, 1 the sign-in or a request failed, 2 usage or bad input, \
4 (oauth2 token) no usable sign-in: run `mailsetup oauth2 login ADDRESS` again."
    )]
    Oauth2(oauth2::OAuth2Args),
}

#[derive(Debug, Args)]
pub struct ProbeArgs {
    /// Host whose standard endpoints are probed
    #[arg(value_name = "HOST", required_unless_present = "server")]
    pub host: Option<String>,

    /// Probe exactly this endpoint instead (repeatable): imaps://h:993, imap://h:143 (STARTTLS),
    /// pop3s://, pop3://, smtps://, smtp:// and the +plain variants (imap+plain://h:143) for servers without TLS
    #[arg(long = "server", value_name = "URL")]
    pub server: Vec<Endpoint>,

    /// Also test each STARTTLS endpoint for STARTTLS command injection (CVE-2011-0411 class):
    /// a harmless command (NOOP/RSET) is pipelined with STARTTLS; a server that answers it
    /// inside TLS is vulnerable. Never uses credentials.
    #[arg(long = "check-injection")]
    pub check_injection: bool,

    /// Every probed endpoint counts for the exit status (for monitoring a server): a refused
    /// standard port is then an error too
    #[arg(long)]
    pub strict: bool,

    #[command(flatten)]
    pub net: NetArgs,

    #[command(flatten)]
    pub output: OutputArgs,
}

/// Connection options shared by every command that touches the network.
#[derive(Debug, Args, Clone)]
pub struct NetArgs {
    /// Only these protocols (comma-separated: imap,pop3,smtp)
    #[arg(long, value_name = "LIST", value_delimiter = ',')]
    pub protocols: Vec<Protocol>,

    /// Overall deadline in seconds
    #[arg(long, value_name = "SECS", default_value_t = 30.0)]
    pub timeout: f64,

    /// Connect to TARGET_HOST:TARGET_PORT instead of HOST:PORT (curl's syntax, repeatable;
    /// TLS still checks the certificate against HOST). Test a new server before a DNS change.
    #[arg(long = "connect-to", value_name = "HOST:PORT:TARGET_HOST:TARGET_PORT")]
    pub connect_to: Vec<ConnectTo>,

    /// Extra trusted CA certificates (PEM), on top of the system store (repeatable)
    #[arg(long = "ca-file", value_name = "PEM")]
    pub ca_file: Vec<PathBuf>,

    /// Accept invalid certificates (reported as a problem on every endpoint). Prefer --ca-file or --pin-sha256
    #[arg(long, conflicts_with = "pin_sha256")]
    pub insecure: bool,

    /// Accept only a mail server certificate matching this pin (curl's --pinnedpubkey): the
    /// certificate's SHA-256 (64 hex digits, colons allowed) or its public key's SHA-256 in
    /// base64 (RFC 7469, also written sha256//BASE64). The CA chain is then not required; a
    /// certificate matching no pin is refused even when a CA vouches for it. Repeatable, or
    /// several separated by ';'
    #[arg(long = "pin-sha256", value_name = "PIN", value_delimiter = ';')]
    pub pin_sha256: Vec<Pin>,

    /// DNS server for every lookup (discovery and connections), e.g. 127.0.0.1:5353; default: the system resolver
    #[arg(long = "dns-server", value_name = "IP[:PORT]", value_parser = parse_dns_server)]
    pub dns_server: Option<std::net::SocketAddr>,
}

fn parse_dns_server(s: &str) -> Result<std::net::SocketAddr, String> {
    if let Ok(a) = s.parse::<std::net::SocketAddr>() {
        return Ok(a);
    }
    s.trim_start_matches('[')
        .trim_end_matches(']')
        .parse::<std::net::IpAddr>()
        .map(|ip| std::net::SocketAddr::new(ip, 53))
        .map_err(|_| format!("{s:?} is not an IP address with an optional port (e.g. 127.0.0.1:5353 or [::1]:53)"))
}

/// `--prefer`: which incoming protocol to recommend when both work.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Prefer {
    /// Mail stays on the server; several devices see the same mailbox
    Imap,
    /// Mail is downloaded to one device
    Pop3,
}

impl Prefer {
    pub fn protocol(self) -> Protocol {
        match self {
            Prefer::Imap => Protocol::Imap,
            Prefer::Pop3 => Protocol::Pop3,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Human,
    Json,
    /// Monitoring plugin (Nagios, Icinga, Naemon): status line, perfdata, exit 0/1/2/3
    Nagios,
    /// Prometheus text format for node_exporter's textfile collector
    Prometheus,
}

#[derive(Debug, Args, Clone)]
pub struct OutputArgs {
    /// Output format
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,

    /// Shorthand for --format json
    #[arg(long)]
    pub json: bool,

    /// Protocol trace on stderr (secrets redacted)
    #[arg(short, long)]
    pub verbose: bool,

    #[command(flatten)]
    pub report: output::ReportArgs,
}

impl OutputArgs {
    pub fn format(&self) -> Format {
        if self.json {
            Format::Json
        } else {
            self.format
        }
    }
}

impl NetArgs {
    /// The session configuration for a run starting now.
    pub fn session_config(&self, verbose: bool) -> Result<SessionConfig> {
        if !(self.timeout.is_finite() && self.timeout > 0.0 && self.timeout <= 3600.0) {
            bail!("--timeout must be a number of seconds between 0 and 3600");
        }
        let kind = VerifierKind::from_flags(self.insecure, self.pin_sha256.clone());
        let tls = TlsContext::new(&self.ca_file, kind).context("--ca-file")?;
        Ok(SessionConfig {
            timeouts: Timeouts::default(),
            deadline: Instant::now() + Duration::from_secs_f64(self.timeout),
            tls,
            connect_to: Arc::new(self.connect_to.clone()),
            dns: match self.dns_server {
                Some(addr) => crate::net::connect::Dns::server(addr)
                    .map_err(|e| anyhow::anyhow!("--dns-server {addr}: {e}"))?,
                None => crate::net::connect::Dns::System,
            },
            trace: if verbose {
                Trace::stderr()
            } else {
                Trace::off()
            },
            ehlo_name: "mailsetup.invalid".into(),
            check_injection: false,
            keep: None,
            clock: crate::model::timing::RunClock::starting_now(),
        })
    }

    pub fn wants(&self, p: Protocol) -> bool {
        self.protocols.is_empty() || self.protocols.contains(&p)
    }
}

/// Runs the parsed command; returns the process exit code.
pub fn run(cli: Cli) -> Result<i32> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let result = match cli.command {
        Command::Probe(args) => runtime.block_on(probe(args)),
        Command::Check(args) => check::command(args, &runtime),
        Command::Write(args) => write::command(args, &runtime),
        Command::Discover(args) => runtime.block_on(discover::command(args)),
        Command::Setup(args) => setup::command(args, &runtime),
        Command::Password(args) => password::command(args, &runtime),
        Command::Fetchmail(args) => fetchmail::fetchmail(args),
        Command::Deliver(args) => fetchmail::deliver(args),
        Command::Oauth2(args) => oauth2::command(args, &runtime),
    };
    // Work abandoned at the deadline (a parse on the blocking pool) may still be running:
    // dropping the runtime would wait for it, so let it go (the process exits next).
    runtime.shutdown_background();
    result
}

async fn probe(args: ProbeArgs) -> Result<i32> {
    output::validate(&args.output)?;
    let endpoints: Vec<Endpoint> = if !args.server.is_empty() {
        args.server.clone()
    } else {
        let host = args
            .host
            .as_deref()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase();
        crate::model::validate_host(&host).map_err(anyhow::Error::msg)?;
        Endpoint::standard(&host)
    };
    let endpoints: Vec<Endpoint> = endpoints
        .into_iter()
        .filter(|e| args.net.wants(e.protocol))
        .collect();
    if endpoints.is_empty() {
        bail!("no endpoint left to probe after --protocols");
    }
    let mut cfg = args.net.session_config(args.output.verbose)?;
    cfg.check_injection = args.check_injection;
    let live = live::Live::for_stderr(args.output.format() == Format::Human);
    let progress = live.as_ref().map(|l| l.progress()).unwrap_or_default();
    let plan = crate::app::probe::ProbePlan {
        endpoints,
        named: !args.server.is_empty(),
        strict: args.strict,
    };
    let report = crate::app::probe::run(&plan, &cfg, &progress).await;
    if let Some(l) = &live {
        l.clear();
    }
    let code = crate::app::probe::exit_code(&report, args.strict);
    let (text, code) = output::probe(&report, &args.output, code)?;
    write_stdout(&text)?;
    Ok(code)
}

/// NO_COLOR is set (https://no-color.org): no colour and no progress animation.
pub fn no_color() -> bool {
    std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty())
}

/// Colour only on a terminal, and never with NO_COLOR set (https://no-color.org).
pub fn stdout_style() -> human::Style {
    use std::io::IsTerminal;
    human::Style {
        color: !no_color() && std::io::stdout().is_terminal(),
    }
}

/// The JSON contract on stdout: pretty, and safe to view on a terminal (every character that
/// could move the cursor or reorder text is a `\uXXXX` escape; the value is unchanged).
pub fn json_text<T: serde::Serialize>(report: &T) -> Result<String> {
    Ok(crate::report::escape::json_safe(&serde_json::to_string_pretty(report)?) + "\n")
}

fn write_stdout(text: &str) -> Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|_| out.flush()) {
        Ok(()) => Ok(()),
        // A closed pipe (`| head`) is not an error worth a message.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(e.into()),
    }
}
