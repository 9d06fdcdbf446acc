//! `mailsetup oauth2 login|token|logout`: OAuth2 sign-in for an account, the token command
//! written mail-client configs run, and sign-out.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{bail, Result};
use clap::{Args, Subcommand, ValueEnum};

use super::exit;
use crate::oauth2::store::Paths;
use crate::oauth2::{FlowChoice, LoginRequest, OAuth2Error, Prompt};
use crate::report::escape::terminal_safe;
use crate::secrets::StoreKind;

#[derive(Debug, Args)]
pub struct OAuth2Args {
    #[command(subcommand)]
    pub command: OAuth2Command,
}

#[derive(Debug, Subcommand)]
pub enum OAuth2Command {
    /// Sign in with the provider (browser with PKCE, or a device code) and store the tokens
    #[command(
        long_about = "Sign in with the provider and store the tokens. The provider's endpoints \
come from the built-in provider database and the issuer's published metadata (or --oauth2-issuer). \
The browser sign-in (authorization code with PKCE) opens your browser when there is one and receives \
the answer on 127.0.0.1; the device sign-in shows a web address and a code to enter on any device \
(for terminals and SSH sessions). The refresh token goes to the system secret store (--store; by \
default the keyring, else pass, else a 0600 file next to the account); nothing is stored unless the \
sign-in succeeded."
    )]
    Login(LoginArgs),

    /// Print a fresh access token for ADDRESS on stdout (the command mail clients run)
    #[command(
        long_about = "Print a fresh access token for ADDRESS on standard output, and nothing \
else: the command written mail-client configs run. The stored token is refreshed when less than \
5 minutes (or half its lifetime) remain; several clients may ask at once. Exit status 4 means the \
provider no longer accepts the stored sign-in: run `mailsetup oauth2 login ADDRESS` again."
    )]
    Token(TokenArgs),

    /// Revoke the sign-in at the provider (where supported) and delete what is stored
    Logout(TokenArgs),
}

/// The OAuth2 client registration (mailsetup ships no client ID of its own or anyone else's).
#[derive(Debug, Clone, Args, Default)]
pub struct ClientArgs {
    /// OAuth2 client ID registered with the provider (remembered per provider)
    #[arg(long = "oauth2-client-id", value_name = "ID")]
    pub client_id: Option<String>,

    /// The client secret the provider issued with the client ID, if any (installed-application
    /// secrets are not confidential; remembered with the ID in a 0600 file)
    #[arg(
        long = "oauth2-client-secret",
        value_name = "SECRET",
        requires = "client_id"
    )]
    pub client_secret: Option<String>,

    /// The authorization server's issuer URL, for providers the built-in database does not know
    #[arg(long = "oauth2-issuer", value_name = "URL")]
    pub issuer: Option<String>,

    /// Scopes to ask for (space-separated; default: the provider's mail scope)
    #[arg(long = "oauth2-scope", value_name = "SCOPES")]
    pub scope: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Flow {
    /// The browser when there is a graphical session, else the device code
    Auto,
    /// Show a web address and a code to enter on any device
    Device,
    /// Authorization code with PKCE through the browser and a 127.0.0.1 redirect
    Browser,
}

#[derive(Debug, Args)]
pub struct LoginArgs {
    /// The email address of the account
    #[arg(value_name = "EMAIL")]
    pub email: String,

    #[command(flatten)]
    pub client: ClientArgs,

    /// How to sign in
    #[arg(long, value_enum, default_value_t = Flow::Auto)]
    pub flow: Flow,

    /// Don't start a browser; print the address to open instead
    #[arg(long = "no-browser")]
    pub no_browser: bool,

    /// The login name the mail servers expect (default: the email address)
    #[arg(long, value_name = "NAME")]
    pub username: Option<String>,

    /// Extra trusted CA certificates (PEM) for the provider's HTTPS endpoints (remembered for
    /// this account's token refreshes)
    #[arg(long = "ca-file", value_name = "PEM")]
    pub ca_file: Vec<PathBuf>,

    /// Seconds to wait for the sign-in to be completed
    #[arg(long, value_name = "SECS", default_value_t = 300)]
    pub timeout: u64,

    /// Where to keep the refresh token: keyring (Secret Service / macOS Keychain), pass, or file
    /// (mode 0600, next to the account). Default: keyring, else pass, else the file
    #[arg(long, value_name = "STORE", value_parser = parse_store)]
    pub store: Option<StoreKind>,
}

fn parse_store(s: &str) -> Result<StoreKind, String> {
    s.parse()
}

#[derive(Debug, Args)]
pub struct TokenArgs {
    /// The email address of the account
    #[arg(value_name = "EMAIL")]
    pub email: String,
}

pub fn command(args: OAuth2Args, runtime: &tokio::runtime::Runtime) -> Result<i32> {
    let paths = Paths::from_env()?;
    match args.command {
        OAuth2Command::Login(a) => runtime.block_on(login(a, &paths)),
        OAuth2Command::Token(a) => runtime.block_on(token(a, &paths)),
        OAuth2Command::Logout(a) => runtime.block_on(logout(a, &paths)),
    }
}

fn address(email: &str) -> Result<String> {
    let a: crate::model::Address = email.parse().map_err(anyhow::Error::msg)?;
    Ok(a.to_string())
}

/// The absolute command written configs run for a fresh token.
pub fn token_command(address: &str) -> String {
    let exe = std::env::current_exe()
        .ok()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|| "mailsetup".into());
    crate::clients::quote::shell_join([exe.as_str(), "oauth2", "token", address])
}

/// Directories where Cyrus SASL looks for mechanism plugins (Debian/Ubuntu multiarch, other
/// Linux distributions, Homebrew).
const SASL_PLUGIN_DIRS: &[&str] = &[
    "/usr/lib/x86_64-linux-gnu/sasl2",
    "/usr/lib/aarch64-linux-gnu/sasl2",
    "/usr/lib/sasl2",
    "/usr/lib64/sasl2",
    "/usr/local/lib/sasl2",
    "/opt/homebrew/lib/sasl2",
];

/// The XOAUTH2 plugin for Cyrus SASL, which mbsync needs for `AuthMechs XOAUTH2`, if found:
/// KDE's `libkdexoauth2` (Debian: libsasl2-modules-kdexoauth2) or `libxoauth2`
/// (cyrus-sasl-xoauth2).
pub fn sasl_xoauth2_plugin() -> Option<PathBuf> {
    let dirs = std::env::var_os("SASL_PATH")
        .map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .unwrap_or_default();
    dirs.into_iter()
        .chain(SASL_PLUGIN_DIRS.iter().map(PathBuf::from))
        .filter_map(|d| std::fs::read_dir(d).ok())
        .flat_map(|rd| rd.filter_map(|e| e.ok()).map(|e| e.path()))
        .find(|p| {
            let name = p.file_name().unwrap_or_default().to_string_lossy();
            name.starts_with("libkdexoauth2.so") || name.starts_with("libxoauth2.so")
        })
}

/// What to tell the user about mbsync's XOAUTH2 plugin.
pub fn sasl_xoauth2_note() -> String {
    match sasl_xoauth2_plugin() {
        Some(p) => format!(
            "mbsync logs in with XOAUTH2 through the Cyrus SASL plugin {} (found).",
            p.display()
        ),
        None => "mbsync needs a Cyrus SASL XOAUTH2 plugin for `AuthMechs XOAUTH2`, and none was \
                 found: install libsasl2-modules-kdexoauth2 (Debian, Ubuntu) or cyrus-sasl-xoauth2, \
                 or mbsync will say that no authentication mechanism is available."
            .into(),
    }
}

/// Prints what the user must do to sign in (stderr; stdout stays for results).
pub fn show_prompt(p: Prompt) {
    match p {
        Prompt::Device {
            uri,
            complete,
            user_code,
            expires_in,
        } => {
            let secs = expires_in.as_secs();
            let within = if secs < 120 {
                format!("{secs} seconds")
            } else {
                format!("{} minutes", secs / 60)
            };
            eprintln!(
                "To sign in, open {} on any device and enter the code {} (within {within}).",
                terminal_safe(&uri),
                terminal_safe(&user_code),
            );
            if let Some(c) = complete {
                eprintln!(
                    "Or open this address, which carries the code: {}",
                    terminal_safe(&c)
                );
            }
            eprintln!("Waiting for the sign-in…");
        }
        Prompt::Browser { url, opened } => {
            if opened {
                eprintln!("Your browser was opened to sign in. If it did not open, visit:");
            } else {
                eprintln!("To sign in, open this address in a browser on this computer:");
            }
            eprintln!("{}", terminal_safe(&url));
            eprintln!("Waiting for the sign-in…");
        }
    }
}

#[allow(clippy::too_many_arguments)]
pub fn login_request(
    email: &str,
    client: &ClientArgs,
    flow: Flow,
    open_browser: bool,
    username: Option<String>,
    ca_files: Vec<PathBuf>,
    timeout: Duration,
    store: Option<StoreKind>,
) -> Result<LoginRequest> {
    let address = address(email)?;
    if let Some(id) = &client.client_id {
        if id.trim().is_empty() || id.chars().any(char::is_control) {
            bail!("--oauth2-client-id must not be empty or contain control characters");
        }
    }
    Ok(LoginRequest {
        address,
        username,
        issuer: client.issuer.clone(),
        client_id: client.client_id.clone(),
        client_secret: client.client_secret.clone(),
        scope: client.scope.clone(),
        ca_files,
        flow: match flow {
            Flow::Auto => FlowChoice::Auto,
            Flow::Device => FlowChoice::Device,
            Flow::Browser => FlowChoice::Browser,
        },
        open_browser,
        timeout,
        store,
    })
}

async fn login(args: LoginArgs, paths: &Paths) -> Result<i32> {
    let req = login_request(
        &args.email,
        &args.client,
        args.flow,
        !args.no_browser,
        args.username.clone(),
        args.ca_file.clone(),
        Duration::from_secs(args.timeout.clamp(1, 3600)),
        args.store,
    )?;
    let outcome = async {
        let account = crate::oauth2::plan_login(&req, paths).await?;
        crate::oauth2::login(&req, account, paths, &show_prompt).await
    }
    .await;
    match outcome {
        Ok(o) => {
            let mut text = format!(
                "Signed in: {} with {} ({} sign-in).\nTokens stored in {}.\n",
                o.account.address,
                terminal_safe(&o.account.issuer),
                match o.flow {
                    FlowChoice::Device => "device code",
                    _ => "browser",
                },
                o.stored_in
            );
            if !o.has_refresh_token {
                text.push_str("note: the provider gave no refresh token: when the access token expires, sign in again.\n");
            }
            if o.file_fallback {
                text.push_str(FILE_FALLBACK_NOTE);
            }
            for n in &o.notes {
                text.push_str(&format!("note: {}\n", terminal_safe(n)));
            }
            text.push_str(&format!(
                "Mail programs get fresh access tokens by running: {}\n",
                token_command(&o.account.address)
            ));
            super::write_stdout(&text)?;
            Ok(exit::OK)
        }
        Err(e) => Ok(report(&e)),
    }
}

const FILE_FALLBACK_NOTE: &str = "note: no system secret store is usable here (no Secret Service on a D-Bus session, pass not initialised), so the refresh token is in that 0600 file; it moves into the keyring (or pass) by itself at the first refresh where one is usable.\n";

/// The wizard's OAuth2 step, before credentials are loaded. Runs when no credential was given
/// on the command line, nothing is stored for the address yet, and the provider signs mail
/// programs in with OAuth2 (its built-in database entry has an `<oAuth2>` block) or the user
/// named an issuer. Interactive: explains, asks, and asks for a client registration when none
/// is known (saying where to get one). With --yes: signs in when a client ID is known.
pub fn wizard_sign_in(
    args: &super::setup::SetupArgs,
    address: &crate::model::Address,
    ask: bool,
    runtime: &tokio::runtime::Runtime,
) -> Result<()> {
    let c = &args.credentials;
    let explicit = c.password_command.is_some()
        || c.password_env.is_some()
        || c.password_file.is_some()
        || c.oauth2_token_command.is_some()
        || c.oauth2;
    let email = address.to_string();
    if explicit || crate::oauth2::has_login(&email) {
        return Ok(());
    }
    let db = crate::oauth2::provider::from_builtin_db(&address.domain);
    let issuer = match (&args.oauth2.issuer, &db) {
        (Some(i), _) => i.clone(),
        (None, Some(m)) => m.issuer.clone(),
        (None, None) => return Ok(()),
    };
    let paths = Paths::from_env()?;
    let mut client = args.oauth2.clone();
    let remembered = paths
        .load_clients()?
        .contains_key(issuer.trim_end_matches('/'));
    if ask {
        println!(
            "
Your provider ({}) lets mail programs sign in with OAuth2: you sign in on its own              page and mailsetup keeps a token instead of your password.",
            terminal_safe(&issuer)
        );
        let yes = dialoguer::Confirm::new()
            .with_prompt("Sign in with OAuth2 now? (no: use a password or an app password)")
            .default(true)
            .interact()?;
        if !yes {
            return Ok(());
        }
        if client.client_id.is_none() && !remembered {
            println!(
                "
mailsetup needs an OAuth2 client ID registered with this provider (it ships                  none borrowed from other programs).
{}
",
                crate::oauth2::provider::registration_help(&issuer)
            );
            let id: String = dialoguer::Input::new()
                .with_prompt("Client ID")
                .interact_text()?;
            let secret: String = dialoguer::Input::new()
                .with_prompt("Client secret (empty if none was issued)")
                .allow_empty(true)
                .interact_text()?;
            client.client_id = Some(id.trim().to_string());
            client.client_secret = (!secret.trim().is_empty()).then(|| secret.trim().to_string());
        }
    } else if client.client_id.is_none() && !remembered {
        // --yes without a registration: the password path decides (and says what is missing).
        return Ok(());
    }
    let req = login_request(
        &email,
        &client,
        args.oauth2_flow,
        true,
        args.credentials.username.clone(),
        args.net.ca_file.clone(),
        Duration::from_secs(300),
        args.target.store_password,
    )?;
    let outcome = runtime.block_on(async {
        let account = crate::oauth2::plan_login(&req, &paths).await?;
        crate::oauth2::login(&req, account, &paths, &show_prompt).await
    });
    match outcome {
        Ok(o) => {
            println!(
                "Signed in with OAuth2; the token is stored in {}.",
                o.stored_in
            );
            if o.file_fallback {
                print!("{FILE_FALLBACK_NOTE}");
            }
            Ok(())
        }
        Err(e) => bail!("OAuth2 sign-in: {e}"),
    }
}

/// Prints an OAuth2 error and returns the exit code for it.
fn report(e: &OAuth2Error) -> i32 {
    eprintln!("mailsetup: {}", terminal_safe(&e.to_string()));
    if e.needs_login() {
        exit::LOGIN_REQUIRED
    } else {
        exit::ENDPOINT_ERROR
    }
}

async fn token(args: TokenArgs, paths: &Paths) -> Result<i32> {
    let address = address(&args.email)?;
    match crate::oauth2::access_token(&address, paths).await {
        Ok((token, _username)) => {
            let mut line = zeroize::Zeroizing::new(String::with_capacity(token.expose().len() + 1));
            line.push_str(token.expose());
            line.push('\n');
            super::write_stdout(&line)?;
            Ok(exit::OK)
        }
        Err(e) => Ok(report(&e)),
    }
}

async fn logout(args: TokenArgs, paths: &Paths) -> Result<i32> {
    let address = address(&args.email)?;
    let o = match crate::oauth2::logout(&address, paths).await {
        Ok(o) => o,
        Err(e) => return Ok(report(&e)),
    };
    let mut text = String::new();
    if o.revoked {
        text.push_str("The provider revoked the sign-in.\n");
    } else if let Some(note) = &o.revoke_note {
        text.push_str(&format!(
            "note: not revoked at the provider ({}); revoke mailsetup's access in your account's security settings if needed.\n",
            terminal_safe(note)
        ));
    }
    if o.deleted {
        text.push_str(&format!("Deleted the stored sign-in for {address}.\n"));
    } else {
        text.push_str(&format!("Nothing was stored for {address}.\n"));
    }
    super::write_stdout(&text)?;
    Ok(exit::OK)
}
