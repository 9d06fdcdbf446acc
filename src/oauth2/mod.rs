//! OAuth2 accounts: get tokens (device code, or browser with PKCE), keep them, refresh them,
//! revoke them. Used by `mailsetup oauth2 login|token|logout`, by `check`/`setup` for accounts
//! that log in with XOAUTH2/OAUTHBEARER, and — through `mailsetup oauth2 token ADDRESS` — by
//! every written mail-client config that can run a token command.
//!
//! - [`provider`]: endpoints from the built-in database and the issuer's metadata;
//! - [`flow`]: the grants, on the `oauth2` crate;
//! - [`http`]: verified HTTPS only, bounded;
//! - [`store`]: the account file, the tokens (0600 file store), the refresh lock.

// No unwrap or expect outside tests; a remaining expect states its invariant (issue 13).
#![deny(clippy::unwrap_used, clippy::expect_used)]

pub mod flow;
pub mod http;
pub mod provider;
pub mod store;

use std::path::PathBuf;
use std::time::Duration;

use crate::model::Secret;
pub use flow::Prompt;
use store::{Account, ClientRegistration, Paths, TokenStore};

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
}

/// What a successful login did.
#[derive(Debug, Clone)]
pub struct LoginOutcome {
    pub account: Account,
    pub flow: FlowChoice,
    /// Where the tokens went.
    pub stored_in: String,
    pub has_refresh_token: bool,
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
    })
}

fn graphical_session() -> bool {
    cfg!(target_os = "macos")
        || std::env::var_os("DISPLAY").is_some_and(|v| !v.is_empty())
        || std::env::var_os("WAYLAND_DISPLAY").is_some_and(|v| !v.is_empty())
}

/// Runs a flow for a planned account and stores the result. Nothing is stored unless the
/// provider issued tokens.
pub async fn login(
    req: &LoginRequest,
    account: Account,
    paths: &Paths,
    show: &(dyn Fn(Prompt) + Sync),
) -> Result<LoginOutcome, OAuth2Error> {
    let http = http::Https::new(&account.ca_files)?;
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
    let store = paths.token_store();
    let _lock = paths.lock(&account.address)?;
    paths.save_account(&account)?;
    store.save(&account.address, &tokens)?;
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
        has_refresh_token: tokens.refresh_token.is_some(),
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

/// Whether `tokens` can be handed out as they are.
fn fresh(tokens: &Tokens, now: u64) -> bool {
    match tokens.expires_at {
        // No expiry given: use it until a server refuses it... but we cannot know; refresh
        // when we can, else hand it out.
        None => tokens.refresh_token.is_none(),
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
/// account's lock is held from reading the tokens to storing the refreshed ones.
pub async fn access_token(address: &str, paths: &Paths) -> Result<(Secret, String), OAuth2Error> {
    let account = paths
        .load_account(address)?
        .ok_or_else(|| OAuth2Error::NotLoggedIn(address.to_string()))?;
    let store = paths.token_store();
    let paths2 = paths.clone();
    let addr = account.address.clone();
    // flock blocks: keep it off the async workers' toes.
    let lock = tokio::task::spawn_blocking(move || paths2.lock(&addr))
        .await
        .map_err(|e| OAuth2Error::Store(e.to_string()))??;
    let tokens = store
        .load(&account.address)?
        .ok_or_else(|| OAuth2Error::NotLoggedIn(address.to_string()))?;
    if fresh(&tokens, unix_now()) {
        return Ok((Secret::new(tokens.access_token.clone()), account.username));
    }
    let Some(refresh_token) = tokens.refresh_token.clone() else {
        return Err(OAuth2Error::LoginRequired(
            "the access token expired and the provider gave no refresh token".into(),
        ));
    };
    let http = http::Https::new(&account.ca_files)?;
    let new = flow::refresh(&account, &http, &refresh_token).await?;
    store.save(&account.address, &new)?;
    drop(lock);
    Ok((Secret::new(new.access_token.clone()), account.username))
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
/// for `address` (also when revocation failed: the user asked to forget it).
pub async fn logout(address: &str, paths: &Paths) -> Result<LogoutOutcome, OAuth2Error> {
    let mut out = LogoutOutcome::default();
    let account = paths.load_account(address)?;
    let store = paths.token_store();
    let _lock = match &account {
        Some(a) => Some(paths.lock(&a.address)?),
        None => None,
    };
    let tokens = store.load(address)?;
    if let (Some(account), Some(rt)) = (
        &account,
        tokens.as_ref().and_then(|t| t.refresh_token.clone()),
    ) {
        match http::Https::new(&account.ca_files) {
            Ok(http) => match flow::revoke(account, &http, &rt).await {
                Ok(true) => out.revoked = true,
                Ok(false) => {
                    out.revoke_note = Some("the provider publishes no revocation endpoint".into())
                }
                Err(e) => out.revoke_note = Some(e.to_string()),
            },
            Err(e) => out.revoke_note = Some(e.to_string()),
        }
    }
    out.deleted |= store.delete(address)?;
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
        assert!(fresh(&t(Some(now + 301), Some(3600), true), now));
        assert!(!fresh(&t(Some(now + 299), Some(3600), true), now));
        // An 8-second token: fresh for its first half.
        assert!(fresh(&t(Some(now + 5), Some(8), true), now));
        assert!(!fresh(&t(Some(now + 4), Some(8), true), now));
        assert!(!fresh(&t(Some(now), Some(8), false), now));
        // No expiry known: refresh when possible.
        assert!(!fresh(&t(None, None, true), now));
        assert!(fresh(&t(None, None, false), now));
    }
}
