//! Where mailsetup keeps secrets (account passwords, and OAuth2 refresh tokens): the system's
//! secret store, `pass`, or — only when the user chooses it — a private file.
//!
//! One small API for every store: [`Store::get`], [`Store::set`], [`Store::delete`], keyed by
//! ([`SecretKey`]: account address, [`SecretKind`]). The generated mail-client configs read a
//! password back non-interactively by running [`Store::reader_command`]
//! (`mailsetup password get --store KIND ADDRESS`), never through argv, never from a file the
//! user did not choose.
//!
//! - [`StoreKind::Keyring`]: the Secret Service on Linux (GNOME Keyring, KWallet; D-Bus, through
//!   the `secret-service` crate), the Keychain on macOS (`security-framework`).
//! - [`StoreKind::Pass`]: the `pass` password store, only when it is initialised; the secret
//!   travels on `pass`'s stdin.
//! - [`StoreKind::File`]: one file per secret below `$XDG_DATA_HOME/mailsetup/secrets`, mode
//!   0600 in a 0700 directory.
//!
//! Every call is bounded in time: a locked keyring or a pinentry waiting for a passphrase
//! becomes [`SecretError::Locked`] / [`SecretError::Unavailable`], never a hang.

// No unwrap or expect outside tests; a remaining expect states its invariant (issue 13).
#![deny(clippy::unwrap_used, clippy::expect_used)]

mod file;
mod keyring;
mod pass;

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use crate::model::Secret;

/// Which store. Serialised by its name (`keyring`, `pass`, `file`), e.g. in an OAuth2
/// account file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StoreKind {
    /// The system keyring (Secret Service / macOS Keychain).
    Keyring,
    /// `pass` (the standard Unix password manager), when initialised.
    Pass,
    /// A private file (mode 0600), only when the user chooses it.
    File,
}

impl StoreKind {
    pub const ALL: [StoreKind; 3] = [StoreKind::Keyring, StoreKind::Pass, StoreKind::File];

    pub fn as_str(self) -> &'static str {
        match self {
            StoreKind::Keyring => "keyring",
            StoreKind::Pass => "pass",
            StoreKind::File => "file",
        }
    }
}

impl fmt::Display for StoreKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for StoreKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "keyring" => Ok(StoreKind::Keyring),
            "pass" => Ok(StoreKind::Pass),
            "file" => Ok(StoreKind::File),
            other => Err(format!(
                "unknown secret store {other:?} (expected keyring, pass or file)"
            )),
        }
    }
}

/// What a secret is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SecretKind {
    /// The account's password.
    Password,
    /// An OAuth2 refresh token.
    OAuth2RefreshToken,
}

impl SecretKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SecretKind::Password => "password",
            SecretKind::OAuth2RefreshToken => "oauth2-refresh-token",
        }
    }
}

impl FromStr for SecretKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "password" => Ok(SecretKind::Password),
            "oauth2-refresh-token" => Ok(SecretKind::OAuth2RefreshToken),
            other => Err(format!(
                "unknown secret kind {other:?} (expected password or oauth2-refresh-token)"
            )),
        }
    }
}

/// The key of one secret: the account (its email address) and what the secret is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SecretKey<'a> {
    pub account: &'a str,
    pub kind: SecretKind,
}

impl<'a> SecretKey<'a> {
    pub fn password(account: &'a str) -> Self {
        SecretKey {
            account,
            kind: SecretKind::Password,
        }
    }
}

/// Why a store could not answer.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SecretError {
    /// The store exists but is locked (and may not be unlocked without asking the user).
    #[error("the {store} is locked: {reason}")]
    Locked { store: String, reason: String },
    /// The store can't be used here (no D-Bus session, no Secret Service, `pass` not set up…).
    #[error("the {store} is not available: {reason}")]
    Unavailable { store: String, reason: String },
    /// Anything else the store reported.
    #[error("the {store} failed: {reason}")]
    Failed { store: String, reason: String },
    /// The secret can't be stored as given.
    #[error("{0}")]
    Invalid(String),
}

/// The parts of the environment the stores depend on, captured once (no global state).
#[derive(Debug, Clone, Default)]
pub struct StoreEnv {
    pub home: Option<PathBuf>,
    /// `$XDG_DATA_HOME` (default `~/.local/share`).
    pub data_home: Option<PathBuf>,
    /// `$PASSWORD_STORE_DIR` (default `~/.password-store`).
    pub password_store_dir: Option<PathBuf>,
}

impl StoreEnv {
    /// From this process's environment.
    pub fn from_process() -> Self {
        let var = |k: &str| {
            std::env::var_os(k)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        };
        StoreEnv {
            home: var("HOME"),
            data_home: var("XDG_DATA_HOME"),
            password_store_dir: var("PASSWORD_STORE_DIR"),
        }
    }
}

/// Bound for a read (never interactive).
pub const READ_TIMEOUT: Duration = Duration::from_secs(20);
/// Bound for a write, which may show an unlock prompt on a desktop.
pub const WRITE_TIMEOUT: Duration = Duration::from_secs(120);

/// One secret store.
#[derive(Debug, Clone)]
pub struct Store {
    kind: StoreKind,
    env: StoreEnv,
}

impl Store {
    pub fn new(kind: StoreKind, env: StoreEnv) -> Self {
        Store { kind, env }
    }

    pub fn kind(&self) -> StoreKind {
        self.kind
    }

    /// In words, for the user: "the system keyring (Secret Service)".
    pub fn describe(&self) -> String {
        match self.kind {
            StoreKind::Keyring => keyring::DESCRIPTION.to_string(),
            StoreKind::Pass => "the pass password store".to_string(),
            StoreKind::File => match file::dir(&self.env) {
                Ok(d) => format!("a private file in {}", d.display()),
                Err(_) => "a private file".to_string(),
            },
        }
    }

    /// Whether the store can be used here, without changing anything.
    pub async fn available(&self) -> Result<(), SecretError> {
        match self.kind {
            StoreKind::Keyring => keyring::available().await,
            StoreKind::Pass => pass::available(&self.env).map(|_| ()),
            StoreKind::File => file::dir(&self.env).map(|_| ()),
        }
    }

    /// Whether [`Store::set`] would go through without asking anybody: the keyring's default
    /// collection exists and is unlocked (no unlock prompt), `pass` is initialised (inserting
    /// encrypts to the public key: no pinentry), the file store has a directory. For unattended
    /// callers (`oauth2 token`, run by mail programs), which must never wait on a prompt.
    pub async fn writable_unattended(&self) -> bool {
        match self.kind {
            StoreKind::Keyring => keyring::unlocked().await,
            StoreKind::Pass | StoreKind::File => self.available().await.is_ok(),
        }
    }

    /// The secret, `None` when the store has none for this key. Never asks the user.
    pub async fn get(&self, key: SecretKey<'_>) -> Result<Option<Secret>, SecretError> {
        check_key(key)?;
        match self.kind {
            StoreKind::Keyring => keyring::get(key).await,
            StoreKind::Pass => pass::get(&self.env, key).await,
            StoreKind::File => file::get(&self.env, key),
        }
    }

    /// Stores (or replaces) the secret.
    pub async fn set(&self, key: SecretKey<'_>, secret: &Secret) -> Result<(), SecretError> {
        check_key(key)?;
        if secret.is_empty() {
            return Err(SecretError::Invalid("the secret is empty".into()));
        }
        if secret.expose().chars().any(|c| c.is_control()) {
            return Err(SecretError::Invalid(
                "the secret contains a control character (such as a line break)".into(),
            ));
        }
        match self.kind {
            StoreKind::Keyring => keyring::set(key, secret).await,
            StoreKind::Pass => pass::set(&self.env, key, secret).await,
            StoreKind::File => file::set(&self.env, key, secret),
        }
    }

    /// Removes the secret; `false` when there was none.
    pub async fn delete(&self, key: SecretKey<'_>) -> Result<bool, SecretError> {
        check_key(key)?;
        match self.kind {
            StoreKind::Keyring => keyring::delete(key).await,
            StoreKind::Pass => pass::delete(&self.env, key).await,
            StoreKind::File => file::delete(&self.env, key),
        }
    }

    /// The command (argv) that prints this secret on stdout, for a mail client's password
    /// command: `EXE password get --store KIND [--kind K] ADDRESS`. `exe` is the absolute path
    /// of the mailsetup binary.
    pub fn reader_command(&self, exe: &str, key: SecretKey<'_>) -> Vec<String> {
        let mut argv = vec![
            exe.to_string(),
            "password".into(),
            "get".into(),
            "--store".into(),
            self.kind.as_str().into(),
        ];
        if key.kind != SecretKind::Password {
            argv.push("--kind".into());
            argv.push(key.kind.as_str().into());
        }
        argv.push(key.account.to_string());
        argv
    }
}

/// Accounts are email addresses: no control characters, no whitespace, bounded.
fn check_key(key: SecretKey<'_>) -> Result<(), SecretError> {
    let a = key.account;
    if a.is_empty() || a.len() > 320 || a.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(SecretError::Invalid(format!(
            "{a:?} is not an account name (an email address without spaces)"
        )));
    }
    Ok(())
}

/// Looks the secret up in every store that is usable here, in the order keyring, pass, file;
/// the first that has it wins. `Err` only when no store had it and one of them was locked.
pub async fn find(
    env: &StoreEnv,
    key: SecretKey<'_>,
) -> Result<Option<(StoreKind, Secret)>, SecretError> {
    let mut locked = None;
    for kind in StoreKind::ALL {
        let store = Store::new(kind, env.clone());
        if store.available().await.is_err() {
            continue;
        }
        match store.get(key).await {
            Ok(Some(s)) => return Ok(Some((kind, s))),
            Ok(None) => {}
            Err(e @ SecretError::Locked { .. }) => locked = Some(e),
            Err(_) => {}
        }
    }
    match locked {
        Some(e) => Err(e),
        None => Ok(None),
    }
}

/// The first store usable here among keyring and pass (the file store is never a default).
pub async fn default_store(env: &StoreEnv) -> Option<Store> {
    for kind in [StoreKind::Keyring, StoreKind::Pass] {
        let store = Store::new(kind, env.clone());
        if store.available().await.is_ok() {
            return Some(store);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for k in StoreKind::ALL {
            assert_eq!(k.as_str().parse::<StoreKind>().unwrap(), k);
        }
        for k in [SecretKind::Password, SecretKind::OAuth2RefreshToken] {
            assert_eq!(k.as_str().parse::<SecretKind>().unwrap(), k);
        }
        assert!("vault".parse::<StoreKind>().is_err());
    }

    #[test]
    fn reader_command_is_argv() {
        let s = Store::new(StoreKind::Keyring, StoreEnv::default());
        assert_eq!(
            s.reader_command("/usr/bin/mailsetup", SecretKey::password("a@b.c")),
            [
                "/usr/bin/mailsetup",
                "password",
                "get",
                "--store",
                "keyring",
                "a@b.c"
            ]
        );
        let key = SecretKey {
            account: "a@b.c",
            kind: SecretKind::OAuth2RefreshToken,
        };
        assert_eq!(
            s.reader_command("m", key)[5..],
            ["--kind", "oauth2-refresh-token", "a@b.c"]
        );
    }

    #[test]
    fn bad_keys_are_refused() {
        for bad in ["", "a b@c", "a\n@c"] {
            assert!(check_key(SecretKey::password(bad)).is_err(), "{bad:?}");
        }
    }
}
