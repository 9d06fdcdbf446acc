//! `mailsetup password set|get|delete ADDRESS`: the secret store from the command line, for
//! users, scripts and the mail clients' password commands (`get` prints only the secret).

use std::io::{IsTerminal, Read, Write};

use anyhow::{bail, Context as _, Result};
use clap::{Args, Subcommand};
use zeroize::Zeroizing;

use crate::model::{Address, Secret};
use crate::secrets::{self, SecretError, SecretKey, SecretKind, Store, StoreEnv, StoreKind};

/// Exit status of `password get` when the store has no such secret.
pub const EXIT_NOT_FOUND: i32 = 3;
/// Exit status when the store is locked or can't be used here.
pub const EXIT_LOCKED: i32 = 4;

#[derive(Debug, Args)]
pub struct PasswordArgs {
    #[command(subcommand)]
    pub action: PasswordAction,
}

#[derive(Debug, Subcommand)]
pub enum PasswordAction {
    /// Store a secret (read from a no-echo prompt, or from the first line of standard input)
    Set(PasswordTarget),
    /// Print the secret on standard output (nothing else); exit 3 when absent, 4 when the store is locked or unavailable
    Get(PasswordTarget),
    /// Remove the secret; exit 3 when there was none
    Delete(PasswordTarget),
}

#[derive(Debug, Args)]
pub struct PasswordTarget {
    /// The account's email address
    #[arg(value_name = "ADDRESS")]
    pub address: String,

    /// keyring (Secret Service / macOS Keychain), pass, or file (mode 0600). Default for set:
    /// keyring, else pass; for get and delete: every usable store, in that order
    #[arg(long, value_name = "STORE", value_parser = parse_store)]
    pub store: Option<StoreKind>,

    /// What the secret is: password, or oauth2-refresh-token
    #[arg(long, value_name = "KIND", default_value = "password", value_parser = parse_kind)]
    pub kind: SecretKind,
}

fn parse_store(s: &str) -> Result<StoreKind, String> {
    s.parse()
}

fn parse_kind(s: &str) -> Result<SecretKind, String> {
    s.parse()
}

pub fn command(args: PasswordArgs, runtime: &tokio::runtime::Runtime) -> Result<i32> {
    let env = StoreEnv::from_process();
    match args.action {
        PasswordAction::Set(t) => {
            let address = checked(&t.address)?;
            let store = match t.store {
                Some(k) => Store::new(k, env),
                None => runtime
                    .block_on(secrets::default_store(&env))
                    .context("no secret store is usable here (no Secret Service, pass not initialised): choose one with --store keyring|pass|file")?,
            };
            let secret = read_secret(&address, t.kind)?;
            let key = SecretKey {
                account: &address,
                kind: t.kind,
            };
            match runtime.block_on(store.set(key, &secret)) {
                Ok(()) => {
                    eprintln!(
                        "mailsetup: stored the {} for {address} in {}",
                        t.kind.as_str(),
                        store.describe()
                    );
                    Ok(0)
                }
                Err(e) => report(e),
            }
        }
        PasswordAction::Get(t) => {
            let address = checked(&t.address)?;
            let key = SecretKey {
                account: &address,
                kind: t.kind,
            };
            let found = match t.store {
                Some(k) => runtime
                    .block_on(Store::new(k, env).get(key))
                    .map(|s| s.map(|s| (k, s))),
                None => runtime.block_on(secrets::find(&env, key)),
            };
            match found {
                Ok(Some((_, secret))) => {
                    let line = Zeroizing::new(format!("{}\n", secret.expose()));
                    let mut out = std::io::stdout().lock();
                    out.write_all(line.as_bytes())
                        .and_then(|_| out.flush())
                        .context("writing the secret to standard output")?;
                    Ok(0)
                }
                Ok(None) => {
                    eprintln!(
                        "mailsetup: no {} for {address} in {}; store it with `mailsetup password set {address}`",
                        t.kind.as_str(),
                        where_(t.store, &StoreEnv::from_process())
                    );
                    Ok(EXIT_NOT_FOUND)
                }
                Err(e) => report(e),
            }
        }
        PasswordAction::Delete(t) => {
            let address = checked(&t.address)?;
            let key = SecretKey {
                account: &address,
                kind: t.kind,
            };
            let stores: Vec<StoreKind> = match t.store {
                Some(k) => vec![k],
                None => StoreKind::ALL.to_vec(),
            };
            let mut deleted = false;
            for kind in stores {
                let store = Store::new(kind, env.clone());
                if t.store.is_none() && runtime.block_on(store.available()).is_err() {
                    continue;
                }
                match runtime.block_on(store.delete(key)) {
                    Ok(d) => {
                        if d {
                            eprintln!(
                                "mailsetup: deleted the {} for {address} from {}",
                                t.kind.as_str(),
                                store.describe()
                            );
                        }
                        deleted |= d;
                    }
                    Err(e) => return report(e),
                }
            }
            if deleted {
                Ok(0)
            } else {
                eprintln!("mailsetup: no {} for {address} to delete", t.kind.as_str());
                Ok(EXIT_NOT_FOUND)
            }
        }
    }
}

fn where_(store: Option<StoreKind>, env: &StoreEnv) -> String {
    match store {
        Some(k) => Store::new(k, env.clone()).describe(),
        None => "any secret store usable here".into(),
    }
}

fn checked(address: &str) -> Result<String> {
    let a: Address = address.parse().map_err(anyhow::Error::msg)?;
    Ok(a.to_string())
}

/// The error on stderr, and the exit status for it.
fn report(e: SecretError) -> Result<i32> {
    match e {
        SecretError::Locked { .. } | SecretError::Unavailable { .. } => {
            eprintln!("mailsetup: {e}");
            Ok(EXIT_LOCKED)
        }
        SecretError::Invalid(_) => bail!("{e}"),
        SecretError::Failed { .. } => {
            eprintln!("mailsetup: {e}");
            Ok(1)
        }
    }
}

/// From a no-echo prompt on a terminal, else the first line of standard input.
fn read_secret(address: &str, kind: SecretKind) -> Result<Secret> {
    if std::io::stdin().is_terminal() && std::io::stderr().is_terminal() {
        let what = match kind {
            SecretKind::Password => "Password",
            SecretKind::OAuth2RefreshToken => "OAuth2 refresh token",
        };
        let pw = dialoguer::Password::new()
            .with_prompt(format!("{what} for {address}"))
            .allow_empty_password(false)
            .interact()
            .context("reading the secret from the terminal")?;
        return Ok(Secret::new(pw));
    }
    let mut data = Zeroizing::new(Vec::new());
    std::io::stdin()
        .lock()
        .take(64 * 1024)
        .read_to_end(&mut data)
        .context("reading the secret from standard input")?;
    let text = std::str::from_utf8(&data).context("the secret is not UTF-8 text")?;
    let line = text.lines().next().unwrap_or_default();
    if line.is_empty() {
        bail!("no secret on standard input (give it on the first line)");
    }
    Ok(Secret::new(line.to_string()))
}
