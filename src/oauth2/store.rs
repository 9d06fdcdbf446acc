//! Where OAuth2 state lives on disk, per account (address):
//!
//! - `<data>/oauth2/<address>.account.json` (0600): the provider's endpoints, the client
//!   registration, the scope and the extra CA files trusted at login — no token;
//! - the tokens (refresh token, the current access token and its expiry) in a [`TokenStore`];
//!   until the system secret store is available to this module, [`FileStore`] keeps them in
//!   `<data>/oauth2/<address>.tokens.json`, created mode 0600 in a 0700 directory;
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

/// Tokens of one account. Zeroed on drop; never printed (`Debug` is redacted).
#[derive(Clone, Serialize, Deserialize, Default)]
pub struct Tokens {
    pub access_token: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    /// Unix time at which the access token expires (when the server said).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<u64>,
    /// The lifetime the server gave the access token, in seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lifetime: Option<u64>,
}

impl Drop for Tokens {
    fn drop(&mut self) {
        self.access_token.zeroize();
        if let Some(r) = &mut self.refresh_token {
            r.zeroize();
        }
    }
}

impl std::fmt::Debug for Tokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Tokens(<redacted>)")
    }
}

/// Where refresh and access tokens are kept.
pub trait TokenStore {
    fn load(&self, address: &str) -> Result<Option<Tokens>, OAuth2Error>;
    fn save(&self, address: &str, tokens: &Tokens) -> Result<(), OAuth2Error>;
    /// Deletes the tokens; true when there were some.
    fn delete(&self, address: &str) -> Result<bool, OAuth2Error>;
    /// For messages: where the tokens are.
    fn describe(&self, address: &str) -> String;
}

/// The 0600-file fallback store.
pub struct FileStore {
    dir: PathBuf,
}

impl FileStore {
    pub fn new(dir: PathBuf) -> Self {
        FileStore { dir }
    }

    fn path(&self, address: &str) -> PathBuf {
        self.dir.join(format!("{}.tokens.json", file_stem(address)))
    }
}

impl TokenStore for FileStore {
    fn load(&self, address: &str) -> Result<Option<Tokens>, OAuth2Error> {
        read_json(&self.path(address))
    }

    fn save(&self, address: &str, tokens: &Tokens) -> Result<(), OAuth2Error> {
        let mut text = serde_json::to_string(tokens).map_err(|e| store_err(&self.dir, e))?;
        let r = write_private(&self.path(address), text.as_bytes());
        text.zeroize();
        r
    }

    fn delete(&self, address: &str) -> Result<bool, OAuth2Error> {
        remove(&self.path(address))
    }

    fn describe(&self, address: &str) -> String {
        format!("{} (mode 0600)", self.path(address).display())
    }
}

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
        })
    }

    pub fn account_file(&self, address: &str) -> PathBuf {
        self.accounts
            .join(format!("{}.account.json", file_stem(address)))
    }

    pub fn lock_file(&self, address: &str) -> PathBuf {
        self.accounts.join(format!("{}.lock", file_stem(address)))
    }

    pub fn token_store(&self) -> FileStore {
        FileStore::new(self.accounts.clone())
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
    fn tokens_are_private_files_and_never_debug_printed() {
        let dir = tempfile::tempdir().unwrap();
        let store = FileStore::new(dir.path().join("oauth2"));
        let t = Tokens {
            access_token: "at-secret".into(),
            refresh_token: Some("rt-secret".into()),
            expires_at: Some(1),
            lifetime: Some(1),
        };
        assert!(!format!("{t:?}").contains("secret"));
        store.save("a@b", &t).unwrap();
        let path = dir.path().join("oauth2/a@b.tokens.json");
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let dmode = std::fs::metadata(dir.path().join("oauth2"))
            .unwrap()
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(dmode, 0o700);
        let back = store.load("a@b").unwrap().unwrap();
        assert_eq!(back.refresh_token.as_deref(), Some("rt-secret"));
        assert!(store.delete("a@b").unwrap());
        assert!(store.load("a@b").unwrap().is_none());
        assert!(!store.delete("a@b").unwrap());
    }
}
