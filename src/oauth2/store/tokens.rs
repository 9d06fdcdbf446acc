//! The tokens of an account and the stores that keep them: [`FileStore`] (everything in the
//! 0600 tokens file, the fallback) and [`SecretTokenStore`] (the refresh token in the system
//! secret store, the access token in the tokens file); [`AccountTokens`] is the one an
//! account's file names.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use zeroize::Zeroize;

use super::{file_stem, read_json, remove, store_err, write_private};
use crate::model::Secret;
use crate::oauth2::OAuth2Error;
use crate::secrets::{SecretKey, SecretKind, Store, StoreKind};

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

/// Where an account's tokens are kept. Every call is made with the account's lock held
/// ([`Paths::lock`]), so a refresh (read, spend the refresh token, store the rotated one) is
/// atomic with respect to other `mailsetup` processes.
#[allow(async_fn_in_trait)] // used inside this crate only; the futures need not be `Send`
pub trait TokenStore {
    /// The access token and its expiry; `refresh_token` is filled only by a store that keeps
    /// it in the same place (the file store). Never touches the system secret store.
    async fn load(&self, address: &str) -> Result<Option<Tokens>, OAuth2Error>;
    /// The refresh token, read only when a refresh (or a revocation) needs it.
    async fn refresh_token(&self, address: &str) -> Result<Option<Secret>, OAuth2Error>;
    /// Stores the tokens (the refresh token, when there is one, first).
    async fn save(&self, address: &str, tokens: &Tokens) -> Result<(), OAuth2Error>;
    /// Deletes the tokens; true when there were some.
    async fn delete(&self, address: &str) -> Result<bool, OAuth2Error>;
    /// For messages: where the tokens are.
    fn describe(&self, address: &str) -> String;
}

/// The 0600-file store: everything in `<address>.tokens.json`. The fallback when no system
/// secret store is usable (or the user chose `--store file`), and the home of the access token
/// for [`SecretTokenStore`].
pub struct FileStore {
    dir: PathBuf,
}

impl FileStore {
    pub fn new(dir: PathBuf) -> Self {
        FileStore { dir }
    }

    pub fn path(&self, address: &str) -> PathBuf {
        self.dir.join(format!("{}.tokens.json", file_stem(address)))
    }

    fn load_file(&self, address: &str) -> Result<Option<Tokens>, OAuth2Error> {
        read_json(&self.path(address))
    }

    fn save_file(&self, address: &str, tokens: &Tokens) -> Result<(), OAuth2Error> {
        let mut text = serde_json::to_string(tokens).map_err(|e| store_err(&self.dir, e))?;
        let r = write_private(&self.path(address), text.as_bytes());
        text.zeroize();
        r
    }

    fn delete_file(&self, address: &str) -> Result<bool, OAuth2Error> {
        remove(&self.path(address))
    }
}

impl TokenStore for FileStore {
    async fn load(&self, address: &str) -> Result<Option<Tokens>, OAuth2Error> {
        self.load_file(address)
    }

    async fn refresh_token(&self, address: &str) -> Result<Option<Secret>, OAuth2Error> {
        Ok(self
            .load_file(address)?
            .and_then(|t| t.refresh_token.clone())
            .map(Secret::new))
    }

    async fn save(&self, address: &str, tokens: &Tokens) -> Result<(), OAuth2Error> {
        self.save_file(address, tokens)
    }

    async fn delete(&self, address: &str) -> Result<bool, OAuth2Error> {
        self.delete_file(address)
    }

    fn describe(&self, address: &str) -> String {
        format!("{} (mode 0600)", self.path(address).display())
    }
}

/// The refresh token in a [`crate::secrets::Store`] (the keyring or `pass`), kind
/// `oauth2-refresh-token`; the access token and its expiry in the account's 0600 tokens file.
///
/// Why the access token stays in the file: it lives about an hour, is replaced at every
/// refresh, and is read by every poll of every mail program (`oauth2 token` runs on each
/// connection). Reading it from a file keeps those calls fast and working where the secret
/// store is not reachable (no D-Bus session in a cron job, a GnuPG agent without a
/// passphrase); only a refresh — at most once per lifetime — needs the store. The refresh
/// token, which stays valid for months, is what the store protects. Both are written under
/// the account's `flock` (see [`TokenStore`]): the rotated refresh token first, then the
/// access token, so a failure in between leaves a working refresh token behind.
pub struct SecretTokenStore {
    store: Store,
    access: FileStore,
}

impl SecretTokenStore {
    pub fn new(store: Store, dir: PathBuf) -> Self {
        SecretTokenStore {
            store,
            access: FileStore::new(dir),
        }
    }

    pub fn kind(&self) -> StoreKind {
        self.store.kind()
    }

    fn key(address: &str) -> SecretKey<'_> {
        SecretKey {
            account: address,
            kind: SecretKind::OAuth2RefreshToken,
        }
    }

    /// Stores only the refresh token of `tokens` (nothing when there is none).
    pub async fn refresh_token_set(
        &self,
        address: &str,
        tokens: &Tokens,
    ) -> Result<(), OAuth2Error> {
        match &tokens.refresh_token {
            Some(rt) => self
                .store
                .set(Self::key(address), &Secret::new(rt.clone()))
                .await
                .map_err(|e| self.err(e)),
            None => Ok(()),
        }
    }

    /// Writes the tokens file with the access token and its expiry only.
    pub fn save_access(&self, address: &str, tokens: &Tokens) -> Result<(), OAuth2Error> {
        let access = Tokens {
            access_token: tokens.access_token.clone(),
            refresh_token: None,
            expires_at: tokens.expires_at,
            lifetime: tokens.lifetime,
        };
        self.access.save_file(address, &access)
    }

    /// Deletes only the refresh token (the tokens file is left alone).
    pub async fn refresh_token_delete(&self, address: &str) -> Result<bool, OAuth2Error> {
        self.store
            .delete(Self::key(address))
            .await
            .map_err(|e| self.err(e))
    }

    fn err(&self, e: crate::secrets::SecretError) -> OAuth2Error {
        OAuth2Error::Store(format!(
            "{}, where the refresh token is kept: {e}",
            self.store.describe()
        ))
    }
}

impl TokenStore for SecretTokenStore {
    async fn load(&self, address: &str) -> Result<Option<Tokens>, OAuth2Error> {
        // A refresh token left in the file (a move interrupted half-way) is never used: the
        // store's is the current one. The next save rewrites the file without it.
        Ok(self.access.load_file(address)?.map(|mut t| {
            if let Some(r) = &mut t.refresh_token {
                r.zeroize();
            }
            t.refresh_token = None;
            t
        }))
    }

    async fn refresh_token(&self, address: &str) -> Result<Option<Secret>, OAuth2Error> {
        self.store
            .get(Self::key(address))
            .await
            .map_err(|e| self.err(e))
    }

    async fn save(&self, address: &str, tokens: &Tokens) -> Result<(), OAuth2Error> {
        self.refresh_token_set(address, tokens).await?;
        self.save_access(address, tokens)
    }

    async fn delete(&self, address: &str) -> Result<bool, OAuth2Error> {
        let secret = self.refresh_token_delete(address).await?;
        Ok(self.access.delete_file(address)? | secret)
    }

    fn describe(&self, address: &str) -> String {
        format!(
            "{} (the short-lived access token in {}, mode 0600)",
            self.store.describe(),
            self.access.path(address).display()
        )
    }
}

/// The store an account's tokens are in, as its account file records.
pub enum AccountTokens {
    File(FileStore),
    Secret(SecretTokenStore),
}

impl AccountTokens {
    /// The system store, when the refresh token is in one.
    pub fn secret_store(&self) -> Option<StoreKind> {
        match self {
            AccountTokens::File(_) => None,
            AccountTokens::Secret(s) => Some(s.kind()),
        }
    }
}

impl TokenStore for AccountTokens {
    async fn load(&self, address: &str) -> Result<Option<Tokens>, OAuth2Error> {
        match self {
            AccountTokens::File(s) => s.load(address).await,
            AccountTokens::Secret(s) => s.load(address).await,
        }
    }
    async fn refresh_token(&self, address: &str) -> Result<Option<Secret>, OAuth2Error> {
        match self {
            AccountTokens::File(s) => s.refresh_token(address).await,
            AccountTokens::Secret(s) => s.refresh_token(address).await,
        }
    }
    async fn save(&self, address: &str, tokens: &Tokens) -> Result<(), OAuth2Error> {
        match self {
            AccountTokens::File(s) => s.save(address, tokens).await,
            AccountTokens::Secret(s) => s.save(address, tokens).await,
        }
    }
    async fn delete(&self, address: &str) -> Result<bool, OAuth2Error> {
        match self {
            AccountTokens::File(s) => s.delete(address).await,
            AccountTokens::Secret(s) => s.delete(address).await,
        }
    }
    fn describe(&self, address: &str) -> String {
        match self {
            AccountTokens::File(s) => s.describe(address),
            AccountTokens::Secret(s) => s.describe(address),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secrets::StoreEnv;
    use std::os::unix::fs::PermissionsExt;

    #[tokio::test]
    async fn tokens_are_private_files_and_never_debug_printed() {
        let dir = tempfile::tempdir().unwrap();
        let store = FileStore::new(dir.path().join("oauth2"));
        let t = Tokens {
            access_token: "at-secret".into(),
            refresh_token: Some("rt-secret".into()),
            expires_at: Some(1),
            lifetime: Some(1),
        };
        assert!(!format!("{t:?}").contains("secret"));
        store.save("a@b", &t).await.unwrap();
        let path = dir.path().join("oauth2/a@b.tokens.json");
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let dmode = std::fs::metadata(dir.path().join("oauth2"))
            .unwrap()
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(dmode, 0o700);
        let back = store.load("a@b").await.unwrap().unwrap();
        assert_eq!(back.refresh_token.as_deref(), Some("rt-secret"));
        let rt = store.refresh_token("a@b").await.unwrap().unwrap();
        assert_eq!(rt.expose(), "rt-secret");
        assert!(store.delete("a@b").await.unwrap());
        assert!(store.load("a@b").await.unwrap().is_none());
        assert!(!store.delete("a@b").await.unwrap());
    }

    /// The secret-store split, with the `secrets` file store standing in for the keyring (the
    /// keyring itself is exercised in tests/oauth2.rs with a real Secret Service).
    #[tokio::test]
    async fn the_refresh_token_goes_to_the_secret_store_and_only_the_access_token_to_the_file() {
        let home = tempfile::tempdir().unwrap();
        let env = StoreEnv {
            home: Some(home.path().to_path_buf()),
            ..Default::default()
        };
        let dir = home.path().join("oauth2");
        let store = SecretTokenStore::new(Store::new(StoreKind::File, env.clone()), dir.clone());
        let t = Tokens {
            access_token: "at-1".into(),
            refresh_token: Some("rt-1".into()),
            expires_at: Some(7),
            lifetime: Some(8),
        };
        store.save("a@b.c", &t).await.unwrap();
        let file = std::fs::read_to_string(dir.join("a@b.c.tokens.json")).unwrap();
        assert!(file.contains("at-1") && !file.contains("rt-1"), "{file}");
        let back = store.load("a@b.c").await.unwrap().unwrap();
        assert_eq!(
            (back.access_token.as_str(), back.expires_at),
            ("at-1", Some(7))
        );
        assert!(back.refresh_token.is_none());
        assert_eq!(
            store
                .refresh_token("a@b.c")
                .await
                .unwrap()
                .unwrap()
                .expose(),
            "rt-1"
        );
        let key = SecretKey {
            account: "a@b.c",
            kind: SecretKind::OAuth2RefreshToken,
        };
        let direct = Store::new(StoreKind::File, env.clone());
        assert_eq!(direct.get(key).await.unwrap().unwrap().expose(), "rt-1");
        // A refresh token left in the file by an interrupted move is ignored, then dropped.
        std::fs::write(
            dir.join("a@b.c.tokens.json"),
            r#"{"access_token":"at-1","refresh_token":"stale"}"#,
        )
        .unwrap();
        assert!(store
            .load("a@b.c")
            .await
            .unwrap()
            .unwrap()
            .refresh_token
            .is_none());
        assert!(store.delete("a@b.c").await.unwrap());
        assert!(direct.get(key).await.unwrap().is_none());
        assert!(!dir.join("a@b.c.tokens.json").exists());
    }
}
