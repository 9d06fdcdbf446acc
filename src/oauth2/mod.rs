//! OAuth2 accounts: get tokens (device code, or browser with PKCE), keep them, refresh them,
//! revoke them. Used by `mailsetup oauth2 login|token|logout`, by `check`/`setup` for accounts
//! that log in with XOAUTH2/OAUTHBEARER, and — through `mailsetup oauth2 token ADDRESS` — by
//! every written mail-client config that can run a token command.
//!
//! - [`provider`]: endpoints from the built-in database and the issuer's metadata;
//! - [`flow`]: the grants, on the `oauth2` crate;
//! - [`http`]: verified HTTPS only, bounded;
//! - [`store`]: the account file, the tokens (the refresh token in the system secret store,
//!   the access token in a 0600 file; everything in the file when no store is usable), the
//!   refresh lock.

// No unwrap or expect outside tests; a remaining expect states its invariant (issue 13).
#![deny(clippy::unwrap_used, clippy::expect_used)]

pub mod flow;
pub mod http;
pub mod provider;
pub mod store;

use std::path::PathBuf;
use std::time::Duration;

use crate::model::Secret;
use crate::secrets::{self, StoreKind};
pub use flow::Prompt;
use store::{Account, AccountTokens, ClientRegistration, Paths, TokenStore};

/// Refresh when less than this is left of the access token (or less than half its lifetime,
/// for servers that hand out tokens shorter than ten minutes).
pub const REFRESH_MARGIN: Duration = Duration::from_secs(300);

#[derive(Debug, thiserror::Error)]
pub enum OAuth2Error {
    #[error("no OAuth2 login is stored for {0}: run `mailsetup oauth2 login {0}`")]
    NotLoggedIn(String),
    #[error("the provider no longer accepts the stored refresh token ({0}): run `mailsetup oauth2 login ADDRESS` again")]
    LoginRequired(String),
    #[error("no OAuth2 client is registered for {issuer}. {help}")]
    NoClient { issuer: String, help: String },
    #[error("no OAuth2 provider is known for {0}: give its issuer with --oauth2-issuer URL")]
    UnknownProvider(String),
    #[error("the {flow} sign-in is not possible: {why}")]
    FlowUnavailable { flow: &'static str, why: String },
    #[error("provider metadata: {0}")]
    Metadata(String),
    #[error("{0}")]
    Insecure(String),
    #[error("{0}")]
    Http(String),
    #[error("{what} was refused: {code}{}", description.as_deref().map(|d| format!(" ({d})")).unwrap_or_default())]
    Server {
        what: String,
        code: String,
        description: Option<String>,
    },
    #[error("the sign-in was denied (consent not given); nothing was stored")]
    Denied,
    #[error("the device code expired before the sign-in was completed; nothing was stored: run the login again")]
    Expired,
    #[error("no sign-in within {} s; nothing was stored", .0.as_secs())]
    TimedOut(Duration),
    #[error("the answer to the loopback address did not carry this sign-in's state (a forged or stale redirect); nothing was stored")]
    StateMismatch,
    #[error("token store: {0}")]
    Store(String),
}

impl OAuth2Error {
    /// The user must log in (again): the case `oauth2 token` reports with its own exit code.
    pub fn needs_login(&self) -> bool {
        matches!(
            self,
            OAuth2Error::NotLoggedIn(_) | OAuth2Error::LoginRequired(_)
        )
    }
}

pub(crate) fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Which grant to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlowChoice {
    /// Browser with PKCE when there is a graphical session, else the device code.
    Auto,
    Device,
    Browser,
}

/// Everything `login` needs.
#[derive(Debug, Clone)]
pub struct LoginRequest {
    pub address: String,
    /// The login name for XOAUTH2/OAUTHBEARER (default: the address).
    pub username: Option<String>,
    /// An issuer URL, for providers the built-in database does not know.
    pub issuer: Option<String>,
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
    pub scope: Option<String>,
    pub ca_files: Vec<PathBuf>,
    pub flow: FlowChoice,
    pub open_browser: bool,
    pub timeout: Duration,
    /// Where to keep the refresh token; `None`: the keyring, else `pass`, else the 0600
    /// tokens file.
    pub store: Option<StoreKind>,
}

/// What a successful login did.
#[derive(Debug, Clone)]
pub struct LoginOutcome {
    pub account: Account,
    pub flow: FlowChoice,
    /// Where the tokens went.
    pub stored_in: String,
    pub has_refresh_token: bool,
    /// The refresh token went to the tokens file because no system secret store is usable
    /// here (not because the user chose the file).
    pub file_fallback: bool,
    /// Things the user should know (an old store that could not be cleaned up).
    pub notes: Vec<String>,
}

/// Endpoints and registration for `req`, before any flow runs.
pub async fn plan_login(req: &LoginRequest, paths: &Paths) -> Result<Account, OAuth2Error> {
    let domain = req
        .address
        .rsplit_once('@')
        .map(|(_, d)| d.to_ascii_lowercase())
        .unwrap_or_default();
    let http = http::Https::new(&req.ca_files)?;
    let mut meta = match (&req.issuer, provider::from_builtin_db(&domain)) {
        (Some(issuer), _) => provider::Metadata {
            issuer: issuer.trim_end_matches('/').to_string(),
            ..Default::default()
        },
        (None, Some(m)) => m,
        (None, None) => return Err(OAuth2Error::UnknownProvider(domain)),
    };
    provider::issuer_url(&meta.issuer)?;
    provider::complete(&mut meta, &http).await?;
    let token_endpoint = meta.token_endpoint.clone().ok_or_else(|| {
        OAuth2Error::Metadata(format!("{} publishes no token endpoint", meta.issuer))
    })?;
    let remembered = paths.load_clients()?.remove(&meta.issuer);
    let registration = match (&req.client_id, remembered) {
        (Some(id), _) => ClientRegistration {
            client_id: id.clone(),
            client_secret: req.client_secret.clone(),
        },
        (None, Some(r)) => r,
        (None, None) => {
            return Err(OAuth2Error::NoClient {
                help: provider::registration_help(&meta.issuer),
                issuer: meta.issuer,
            })
        }
    };
    Ok(Account {
        address: req.address.clone(),
        username: req.username.clone().unwrap_or_else(|| req.address.clone()),
        scope: req
            .scope
            .clone()
            .unwrap_or_else(|| provider::default_scope(&meta)),
        issuer: meta.issuer,
        authorization_endpoint: meta.authorization_endpoint,
        token_endpoint,
        device_authorization_endpoint: meta.device_authorization_endpoint,
        revocation_endpoint: meta.revocation_endpoint,
        client_id: registration.client_id,
        client_secret: registration.client_secret,
        ca_files: req.ca_files.clone(),
        // Decided by `login`, once the tokens are there.
        refresh_token_store: None,
    })
}

fn graphical_session() -> bool {
    cfg!(target_os = "macos")
        || std::env::var_os("DISPLAY").is_some_and(|v| !v.is_empty())
        || std::env::var_os("WAYLAND_DISPLAY").is_some_and(|v| !v.is_empty())
}

/// Where a login keeps the refresh token: the store the user named (which must be usable),
/// else the first usable system store, else the tokens file. Decided before the flow runs, so
/// nobody signs in for a store that cannot take the result.
async fn login_store(req: &LoginRequest, paths: &Paths) -> Result<Option<StoreKind>, OAuth2Error> {
    match req.store {
        Some(StoreKind::File) => Ok(Some(StoreKind::File)),
        Some(kind) => {
            let store = secrets::Store::new(kind, paths.secrets.clone());
            store
                .available()
                .await
                .map_err(|e| OAuth2Error::Store(format!("--store {kind}: {e}")))?;
            Ok(Some(kind))
        }
        None => Ok(secrets::default_store(&paths.secrets)
            .await
            .map(|s| s.kind())),
    }
}

/// Runs a flow for a planned account and stores the result. Nothing is stored unless the
/// provider issued tokens.
pub async fn login(
    req: &LoginRequest,
    mut account: Account,
    paths: &Paths,
    show: &(dyn Fn(Prompt) + Sync),
) -> Result<LoginOutcome, OAuth2Error> {
    let http = http::Https::new(&account.ca_files)?;
    let chosen = login_store(req, paths).await?;
    let flow = match req.flow {
        FlowChoice::Auto => {
            let can_browser = account.authorization_endpoint.is_some();
            let can_device = account.device_authorization_endpoint.is_some();
            if can_browser && (graphical_session() || !can_device) {
                FlowChoice::Browser
            } else {
                FlowChoice::Device
            }
        }
        f => f,
    };
    let tokens = match flow {
        FlowChoice::Device => flow::device(&account, &http, req.timeout, show).await?,
        _ => flow::browser(&account, &http, req.timeout, req.open_browser, show).await?,
    };
    let has_refresh_token = tokens.refresh_token.is_some();
    // Without a refresh token there is nothing for a secret store to keep.
    account.refresh_token_store = match chosen {
        Some(StoreKind::Keyring | StoreKind::Pass) if !has_refresh_token => None,
        other => other,
    };
    let store = paths.token_store(&account);
    let _lock = paths.lock(&account.address)?;
    let previous = paths.load_account(&account.address).ok().flatten();
    // The refresh token first (the store may refuse it), then the account that points there.
    store.save(&account.address, &tokens).await?;
    paths.save_account(&account)?;
    let mut notes = Vec::new();
    // A refresh token kept elsewhere by an earlier sign-in is stale now: remove it.
    if let Some(old) = previous.and_then(|p| p.refresh_token_store) {
        if matches!(old, StoreKind::Keyring | StoreKind::Pass) && store.secret_store() != Some(old)
        {
            let old_store = paths.secret_store(old);
            if let Err(e) = old_store.refresh_token_delete(&account.address).await {
                notes.push(format!(
                    "the previous sign-in's refresh token could not be removed ({e}); delete it with `mailsetup password delete --store {old} --kind oauth2-refresh-token {}`",
                    account.address
                ));
            }
        }
    }
    if req.client_id.is_some() {
        paths.remember_client(
            &account.issuer,
            &ClientRegistration {
                client_id: account.client_id.clone(),
                client_secret: account.client_secret.clone(),
            },
        )?;
    }
    Ok(LoginOutcome {
        stored_in: store.describe(&account.address),
        has_refresh_token,
        file_fallback: has_refresh_token && chosen.is_none(),
        notes,
        account,
        flow,
    })
}

/// Whether an OAuth2 login is stored for `address`.
pub fn has_login(address: &str) -> bool {
    Paths::from_env()
        .ok()
        .and_then(|p| p.load_account(address).ok().flatten())
        .is_some()
}

/// Whether `tokens` can be handed out as they are. `can_refresh`: a refresh token is stored
/// (in the tokens or in a secret store).
fn fresh(tokens: &Tokens, can_refresh: bool, now: u64) -> bool {
    match tokens.expires_at {
        // No expiry given: use it until a server refuses it... but we cannot know; refresh
        // when we can, else hand it out.
        None => !can_refresh,
        Some(at) => {
            let margin = match tokens.lifetime {
                Some(l) => REFRESH_MARGIN.as_secs().min(l / 2),
                None => REFRESH_MARGIN.as_secs(),
            };
            at > now + margin
        }
    }
}

use store::Tokens;

/// A fresh access token for `address` (refreshed when less than [`REFRESH_MARGIN`] remains),
/// with the login name to present it with. Safe when several processes ask at once: the
/// account's lock is held from reading the tokens to storing the refreshed ones. A fresh
/// access token comes from the tokens file alone; the secret store is asked for the refresh
/// token only when a refresh is due.
pub async fn access_token(address: &str, paths: &Paths) -> Result<(Secret, String), OAuth2Error> {
    let probe = paths
        .load_account(address)?
        .ok_or_else(|| OAuth2Error::NotLoggedIn(address.to_string()))?;
    let paths2 = paths.clone();
    let addr = probe.address.clone();
    // flock blocks: keep it off the async workers' toes.
    let lock = tokio::task::spawn_blocking(move || paths2.lock(&addr))
        .await
        .map_err(|e| OAuth2Error::Store(e.to_string()))??;
    // Read the account again under the lock: another process may have moved the refresh
    // token meanwhile.
    let mut account = paths
        .load_account(address)?
        .ok_or_else(|| OAuth2Error::NotLoggedIn(address.to_string()))?;
    let store = paths.token_store(&account);
    let tokens = store
        .load(&account.address)
        .await?
        .ok_or_else(|| OAuth2Error::NotLoggedIn(address.to_string()))?;
    let can_refresh = tokens.refresh_token.is_some() || store.secret_store().is_some();
    if fresh(&tokens, can_refresh, unix_now()) {
        return Ok((Secret::new(tokens.access_token.clone()), account.username));
    }
    let Some(refresh_token) = store.refresh_token(&account.address).await? else {
        return Err(OAuth2Error::LoginRequired(
            "the access token expired and the provider gave no refresh token".into(),
        ));
    };
    let http = http::Https::new(&account.ca_files)?;
    let new = flow::refresh(&account, &http, refresh_token.expose()).await?;
    if account.refresh_token_store.is_none() && new.refresh_token.is_some() {
        if let Some(kind) = move_target(paths).await {
            move_refresh_token(&mut account, kind, &new, paths).await?;
            drop(lock);
            return Ok((Secret::new(new.access_token.clone()), account.username));
        }
    }
    store.save(&account.address, &new).await?;
    drop(lock);
    Ok((Secret::new(new.access_token.clone()), account.username))
}

/// A system store that can take a refresh token kept in the tokens file only because none was
/// usable at sign-in (or the sign-in predates them), without asking anybody: `oauth2 token`
/// runs inside mail programs and must never wait on an unlock prompt or a pinentry.
async fn move_target(paths: &Paths) -> Option<StoreKind> {
    let store = secrets::default_store(&paths.secrets).await?;
    store.writable_unattended().await.then(|| store.kind())
}

/// Moves an account's refresh token out of the tokens file into `kind`, with the tokens a
/// refresh just returned (the rotated refresh token is the one that moves). Order: the secret
/// store, then the account file that points there, then the tokens file without the refresh
/// token. A failure before the account file is rewritten keeps everything in the file.
async fn move_refresh_token(
    account: &mut Account,
    kind: StoreKind,
    new: &Tokens,
    paths: &Paths,
) -> Result<(), OAuth2Error> {
    let target = paths.secret_store(kind);
    let file = paths.file_store();
    if target
        .refresh_token_set(&account.address, new)
        .await
        .is_err()
    {
        return file.save(&account.address, new).await;
    }
    account.refresh_token_store = Some(kind);
    if let Err(e) = paths.save_account(account) {
        let _ = target.refresh_token_delete(&account.address).await;
        account.refresh_token_store = None;
        file.save(&account.address, new).await?;
        return Err(e);
    }
    target.save_access(&account.address, new)
}

/// What `logout` did.
#[derive(Debug, Clone, Default)]
pub struct LogoutOutcome {
    /// The provider revoked the refresh token.
    pub revoked: bool,
    /// Why revocation did not happen (no endpoint, server error), when it did not.
    pub revoke_note: Option<String>,
    /// Something was deleted.
    pub deleted: bool,
}

/// Revokes the refresh token where the provider supports it, then deletes everything stored
/// for `address` (also when revocation failed: the user asked to forget it). When the refresh
/// token is in a secret store that cannot be reached here, nothing is deleted (a token left in
/// a keyring nobody knows about would outlive the sign-in).
pub async fn logout(address: &str, paths: &Paths) -> Result<LogoutOutcome, OAuth2Error> {
    let mut out = LogoutOutcome::default();
    let account = paths.load_account(address)?;
    let store = match &account {
        Some(a) => paths.token_store(a),
        None => AccountTokens::File(paths.file_store()),
    };
    let _lock = match &account {
        Some(a) => Some(paths.lock(&a.address)?),
        None => None,
    };
    let refresh_token = store.refresh_token(address).await.map_err(|e| match e {
        OAuth2Error::Store(m) => OAuth2Error::Store(format!(
            "{m}; nothing was deleted: sign out where that store is usable (your desktop session)"
        )),
        other => other,
    })?;
    if let (Some(account), Some(rt)) = (&account, refresh_token) {
        match http::Https::new(&account.ca_files) {
            Ok(http) => match flow::revoke(account, &http, rt.expose()).await {
                Ok(true) => out.revoked = true,
                Ok(false) => {
                    out.revoke_note = Some("the provider publishes no revocation endpoint".into())
                }
                Err(e) => out.revoke_note = Some(e.to_string()),
            },
            Err(e) => out.revoke_note = Some(e.to_string()),
        }
    }
    out.deleted |= store.delete(address).await?;
    // A tokens file from before a move (or a fallback sign-in) goes too.
    out.deleted |= paths.file_store().delete(address).await?;
    out.deleted |= paths.delete_account(address)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(expires_at: Option<u64>, lifetime: Option<u64>, rt: bool) -> Tokens {
        Tokens {
            access_token: "a".into(),
            refresh_token: rt.then(|| "r".into()),
            expires_at,
            lifetime,
        }
    }

    #[test]
    fn refresh_margin_is_five_minutes_or_half_the_lifetime() {
        let now = 1_000_000;
        // A one-hour token: fresh until five minutes are left.
        assert!(fresh(&t(Some(now + 301), Some(3600), true), true, now));
        assert!(!fresh(&t(Some(now + 299), Some(3600), true), true, now));
        // An 8-second token: fresh for its first half.
        assert!(fresh(&t(Some(now + 5), Some(8), true), true, now));
        assert!(!fresh(&t(Some(now + 4), Some(8), true), true, now));
        assert!(!fresh(&t(Some(now), Some(8), false), false, now));
        // No expiry known: refresh when possible (the refresh token in the tokens or in a
        // secret store).
        assert!(!fresh(&t(None, None, true), true, now));
        assert!(!fresh(&t(None, None, false), true, now));
        assert!(fresh(&t(None, None, false), false, now));
    }
}
