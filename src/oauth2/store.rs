//! Where OAuth2 state lives, per account (address):
//!
//! - `<data>/oauth2/<address>.account.json` (0600): the provider's endpoints, the client
//!   registration, the scope, the extra CA files trusted at login and which secret store holds
//!   the refresh token ([`Account::refresh_token_store`]) — no token;
//! - the refresh token in the system secret store ([`SecretTokenStore`]: the keyring or `pass`,
//!   through [`crate::secrets`], kind `oauth2-refresh-token`), chosen at `oauth2 login`
//!   (`--store`, else the keyring, else `pass`);
//! - `<data>/oauth2/<address>.tokens.json` (0600 in a 0700 directory): the current access token
//!   and its expiry — and, only when no system store was usable at sign-in or the user chose
//!   `--store file`, the refresh token too ([`FileStore`], the fallback);
//! - `<data>/oauth2/<address>.lock`: the `flock` that serialises refreshes, so two mail clients
//!   asking at once never both spend the same (rotating) refresh token;
//! - `<config>/mailsetup/oauth2-clients.json` (0600): client registrations the user gave once,
//!   by issuer, so later logins for the same provider need no flag.
//!
//! `<data>` is `$XDG_DATA_HOME/mailsetup` or `~/.local/share/mailsetup`; `<config>` is
//! `$XDG_CONFIG_HOME` or `~/.config`.

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use zeroize::Zeroize;

use super::OAuth2Error;
use crate::secrets::{Store, StoreEnv, StoreKind};

mod tokens;
pub use tokens::{AccountTokens, FileStore, SecretTokenStore, TokenStore, Tokens};

/// The non-secret part of an OAuth2 account: who to ask and how.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Account {
    pub address: String,
    /// The name the mail servers expect in XOAUTH2/OAUTHBEARER (`user=`).
    pub username: String,
    pub issuer: String,
    pub authorization_endpoint: Option<String>,
    pub token_endpoint: String,
    pub device_authorization_endpoint: Option<String>,
    pub revocation_endpoint: Option<String>,
    pub scope: String,
    pub client_id: String,
    /// Installed-application "secrets" are not confidential (RFC 8252 §8.5), but are kept
    /// in this 0600 file all the same.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<String>,
    /// Extra CA certificates trusted for the token endpoint (given with --ca-file at login).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ca_files: Vec<PathBuf>,
    /// Which secret store holds the refresh token: `keyring` or `pass`; `file` when the user
    /// chose the tokens file (`--store file`). Absent: the tokens file, because no system
    /// store was usable at sign-in (or the sign-in predates them, or the provider gave no
    /// refresh token); such a refresh token moves into the system store at the next refresh
    /// when one can take it without asking ([`crate::oauth2::access_token`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token_store: Option<StoreKind>,
}

/// A client registration remembered per issuer.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ClientRegistration {
    pub client_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<String>,
}

/// The directories this module uses.
#[derive(Debug, Clone)]
pub struct Paths {
    /// `<data>/oauth2`
    pub accounts: PathBuf,
    /// `<config>/mailsetup/oauth2-clients.json`
    pub clients_file: PathBuf,
    /// Where the secret stores are (HOME, XDG_DATA_HOME, PASSWORD_STORE_DIR).
    pub secrets: StoreEnv,
}

impl Paths {
    /// From the environment (XDG base directories, else `$HOME`).
    pub fn from_env() -> Result<Paths, OAuth2Error> {
        let home = || {
            std::env::var_os("HOME")
                .filter(|h| !h.is_empty())
                .map(PathBuf::from)
                .ok_or_else(|| {
                    OAuth2Error::Store(
                        "neither XDG_DATA_HOME nor HOME is set: cannot tell where to keep tokens"
                            .into(),
                    )
                })
        };
        let xdg = |var: &str| {
            std::env::var_os(var)
                .map(PathBuf::from)
                .filter(|p| p.is_absolute())
        };
        let data = match xdg("XDG_DATA_HOME") {
            Some(d) => d,
            None => home()?.join(".local/share"),
        };
        let config = match xdg("XDG_CONFIG_HOME") {
            Some(d) => d,
            None => home()?.join(".config"),
        };
        Ok(Paths {
            accounts: data.join("mailsetup").join("oauth2"),
            clients_file: config.join("mailsetup").join("oauth2-clients.json"),
            secrets: StoreEnv::from_process(),
        })
    }

    pub fn account_file(&self, address: &str) -> PathBuf {
        self.accounts
            .join(format!("{}.account.json", file_stem(address)))
    }

    pub fn lock_file(&self, address: &str) -> PathBuf {
        self.accounts.join(format!("{}.lock", file_stem(address)))
    }

    /// The 0600 tokens file store (the fallback).
    pub fn file_store(&self) -> FileStore {
        FileStore::new(self.accounts.clone())
    }

    /// `kind`'s store for refresh tokens (the access token in the tokens file).
    pub fn secret_store(&self, kind: StoreKind) -> SecretTokenStore {
        SecretTokenStore::new(
            Store::new(kind, self.secrets.clone()),
            self.accounts.clone(),
        )
    }

    /// The store `account`'s tokens are in (its file says which).
    pub fn token_store(&self, account: &Account) -> AccountTokens {
        match account.refresh_token_store {
            Some(kind @ (StoreKind::Keyring | StoreKind::Pass)) => {
                AccountTokens::Secret(self.secret_store(kind))
            }
            Some(StoreKind::File) | None => AccountTokens::File(self.file_store()),
        }
    }

    pub fn load_account(&self, address: &str) -> Result<Option<Account>, OAuth2Error> {
        read_json(&self.account_file(address))
    }

    pub fn save_account(&self, account: &Account) -> Result<(), OAuth2Error> {
        let text =
            serde_json::to_string_pretty(account).map_err(|e| store_err(&self.accounts, e))? + "\n";
        write_private(&self.account_file(&account.address), text.as_bytes())
    }

    pub fn delete_account(&self, address: &str) -> Result<bool, OAuth2Error> {
        let a = remove(&self.account_file(address))?;
        let _ = std::fs::remove_file(self.lock_file(address));
        Ok(a)
    }

    pub fn load_clients(&self) -> Result<BTreeMap<String, ClientRegistration>, OAuth2Error> {
        Ok(read_json(&self.clients_file)?.unwrap_or_default())
    }

    /// Remembers `reg` for `issuer` (other issuers' entries are kept).
    pub fn remember_client(
        &self,
        issuer: &str,
        reg: &ClientRegistration,
    ) -> Result<(), OAuth2Error> {
        let mut all = self.load_clients()?;
        all.insert(issuer.to_string(), reg.clone());
        let text = serde_json::to_string_pretty(&all)
            .map_err(|e| store_err(&self.clients_file, e))?
            + "\n";
        write_private(&self.clients_file, text.as_bytes())
    }

    /// Takes the account's lock (blocks until no other process holds it). Released on drop.
    pub fn lock(&self, address: &str) -> Result<AccountLock, OAuth2Error> {
        make_private_dir(&self.accounts)?;
        let path = self.lock_file(address);
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .mode(0o600)
            .open(&path)
            .map_err(|e| store_err(&path, e))?;
        fs4::FileExt::lock(&file).map_err(|e| store_err(&path, e))?;
        Ok(AccountLock { _file: file })
    }
}

/// Held while tokens are read, refreshed and written; `flock` is released when the file closes.
pub struct AccountLock {
    _file: File,
}

/// A file-name-safe, injective form of an address: letters, digits and `.@+-_` stay (the
/// domain lowercased), every other byte becomes `%XX`.
pub fn file_stem(address: &str) -> String {
    let normalized = match address.rsplit_once('@') {
        Some((l, d)) => format!("{l}@{}", d.to_ascii_lowercase()),
        None => address.to_string(),
    };
    let mut out = String::new();
    for b in normalized.bytes() {
        if b.is_ascii_alphanumeric() || b"@+-_".contains(&b) || (b == b'.' && !out.is_empty()) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn store_err(path: &Path, e: impl std::fmt::Display) -> OAuth2Error {
    OAuth2Error::Store(format!("{}: {e}", path.display()))
}

fn make_private_dir(dir: &Path) -> Result<(), OAuth2Error> {
    std::fs::create_dir_all(dir).map_err(|e| store_err(dir, e))?;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
        .map_err(|e| store_err(dir, e))
}

fn read_json<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<Option<T>, OAuth2Error> {
    let mut text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(store_err(path, e)),
    };
    let parsed = serde_json::from_str(&text).map_err(|e| {
        store_err(
            path,
            format!("not readable ({e}); delete it and log in again"),
        )
    });
    text.zeroize();
    parsed.map(Some)
}

/// Writes `data` to `path` through a 0600 temporary file in the same (0700) directory, then
/// renames it into place: readers see the old or the new file, never a part.
fn write_private(path: &Path, data: &[u8]) -> Result<(), OAuth2Error> {
    let dir = path.parent().unwrap_or(Path::new("."));
    make_private_dir(dir)?;
    let tmp = dir.join(format!(
        ".{}.{}.tmp",
        path.file_name().unwrap_or_default().to_string_lossy(),
        std::process::id()
    ));
    let result = (|| {
        let mut f = OpenOptions::new()
            .create(true)
            .truncate(true)
            .write(true)
            .mode(0o600)
            .open(&tmp)?;
        f.set_permissions(std::fs::Permissions::from_mode(0o600))?;
        f.write_all(data)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.map_err(|e| store_err(path, e))
}

fn remove(path: &Path) -> Result<bool, OAuth2Error> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(store_err(path, e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_stems_are_safe_and_distinct() {
        assert_eq!(file_stem("Me@Example.COM"), "Me@example.com");
        assert_eq!(file_stem("../x@y"), "%2E.%2Fx@y");
        assert_ne!(file_stem("a/b@c"), file_stem("a_b@c"));
        assert!(!file_stem("a b\n@c").contains([' ', '\n', '/']));
    }

    #[test]
    fn the_account_file_records_the_store_and_old_files_still_read() {
        let old = r#"{"address":"a@b.c","username":"a@b.c","issuer":"https://i","authorization_endpoint":null,
            "token_endpoint":"https://i/t","device_authorization_endpoint":null,"revocation_endpoint":null,
            "scope":"s","client_id":"c"}"#;
        let mut a: Account = serde_json::from_str(old).unwrap();
        assert_eq!(a.refresh_token_store, None);
        assert!(!serde_json::to_string(&a)
            .unwrap()
            .contains("refresh_token_store"));
        a.refresh_token_store = Some(StoreKind::Keyring);
        let text = serde_json::to_string(&a).unwrap();
        assert!(
            text.contains(r#""refresh_token_store":"keyring""#),
            "{text}"
        );
        assert_eq!(serde_json::from_str::<Account>(&text).unwrap(), a);
    }
}
