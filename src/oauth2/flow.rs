//! The two ways to get tokens, on the `oauth2` crate:
//!
//! - the device authorization grant (RFC 8628) for terminals and SSH sessions: show the
//!   verification URL and the user code, poll at the server's interval (the crate adds 5 s on
//!   every `slow_down`), stop at `expires_in` or our own timeout;
//! - the authorization code grant with PKCE S256 (RFC 7636) and a loopback redirect (RFC 8252
//!   §7.3): a listener on 127.0.0.1 on a random port accepts ONE redirect, checks `state`
//!   exactly, answers the browser and closes; the code is exchanged with the verifier.
//!
//! Plus refresh (RFC 6749 §6) and revocation (RFC 7009). Nothing here stores anything.

use std::time::Duration;

use oauth2::basic::{BasicClient, BasicErrorResponseType};
use oauth2::{
    AuthType, AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken,
    DeviceAuthorizationUrl, DeviceCodeErrorResponseType, EndpointMaybeSet, EndpointNotSet,
    EndpointSet, ErrorResponse, PkceCodeChallenge, RedirectUrl, RefreshToken, RequestTokenError,
    RevocationUrl, Scope, StandardDeviceAuthorizationResponse, StandardRevocableToken,
    TokenResponse, TokenUrl,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::http::{https_url, HttpError, Https};
use super::store::{Account, Tokens};
use super::OAuth2Error;

type Client =
    BasicClient<EndpointMaybeSet, EndpointMaybeSet, EndpointNotSet, EndpointMaybeSet, EndpointSet>;

/// What the user must be told while a flow waits for them.
#[derive(Debug, Clone)]
pub enum Prompt {
    /// Open `uri` and enter `user_code` (or open `complete`, which carries the code).
    Device {
        uri: String,
        complete: Option<String>,
        user_code: String,
        expires_in: Duration,
    },
    /// Open `url` in a browser on this machine (`opened`: we started one).
    Browser { url: String, opened: bool },
}

fn endpoint<T>(
    url: Option<&str>,
    make: fn(String) -> Result<T, oauth2::url::ParseError>,
) -> Result<Option<T>, OAuth2Error> {
    url.map(|u| required_endpoint(u, make)).transpose()
}

fn required_endpoint<T>(
    u: &str,
    make: fn(String) -> Result<T, oauth2::url::ParseError>,
) -> Result<T, OAuth2Error> {
    https_url(u)?;
    make(u.to_string()).map_err(|e| OAuth2Error::Metadata(format!("{u}: {e}")))
}

fn client(account: &Account) -> Result<Client, OAuth2Error> {
    let token = required_endpoint(&account.token_endpoint, TokenUrl::new)?;
    let mut c = BasicClient::new(ClientId::new(account.client_id.clone()))
        .set_auth_uri_option(endpoint(
            account.authorization_endpoint.as_deref(),
            AuthUrl::new,
        )?)
        .set_device_authorization_url_option(endpoint(
            account.device_authorization_endpoint.as_deref(),
            DeviceAuthorizationUrl::new,
        )?)
        .set_revocation_url_option(endpoint(
            account.revocation_endpoint.as_deref(),
            RevocationUrl::new,
        )?)
        .set_token_uri(token);
    if let Some(secret) = &account.client_secret {
        // Installed-app secrets go in the body, as Google and Microsoft expect.
        c = c
            .set_client_secret(ClientSecret::new(secret.clone()))
            .set_auth_type(AuthType::RequestBody);
    }
    Ok(c)
}

fn scopes(account: &Account) -> Vec<Scope> {
    account
        .scope
        .split_whitespace()
        .map(|s| Scope::new(s.to_string()))
        .collect()
}

/// The server's error answer, said plainly. `error_description` is server text: escaped by
/// the caller before a terminal.
fn server_error<T: ErrorResponse + std::fmt::Debug>(
    e: RequestTokenError<HttpError, T>,
    what: &str,
) -> OAuth2Error {
    match e {
        RequestTokenError::ServerResponse(r) => {
            // The standard fields, read back through serde (the crate keeps them private
            // behind per-type accessors).
            let v = serde_json::to_value(&r).unwrap_or_default();
            let code = v["error"].as_str().unwrap_or("unknown_error").to_string();
            let description = v["error_description"].as_str().map(str::to_string);
            OAuth2Error::Server {
                what: what.to_string(),
                code,
                description,
            }
        }
        RequestTokenError::Request(h) => OAuth2Error::Http(format!("{what}: {h}")),
        // The body may hold tokens: never shown.
        RequestTokenError::Parse(e, _) => OAuth2Error::Http(format!(
            "{what}: the server's answer is not a valid token response ({})",
            e.path()
        )),
        RequestTokenError::Other(s) => OAuth2Error::Http(format!("{what}: {s}")),
    }
}

fn tokens_from(resp: &oauth2::basic::BasicTokenResponse, old_refresh: Option<&str>) -> Tokens {
    let lifetime = resp.expires_in().map(|d| d.as_secs());
    Tokens {
        access_token: resp.access_token().secret().clone(),
        refresh_token: resp
            .refresh_token()
            .map(|r| r.secret().clone())
            .or_else(|| old_refresh.map(str::to_string)),
        expires_at: lifetime.map(|l| super::unix_now() + l),
        lifetime,
    }
}

/// RFC 8628: ask for a device code, show it, poll until the user has answered.
pub async fn device(
    account: &Account,
    http: &Https,
    timeout: Duration,
    show: &(dyn Fn(Prompt) + Sync),
) -> Result<Tokens, OAuth2Error> {
    let c = client(account)?;
    let send = |req| {
        let h = http.clone();
        async move { h.send(req).await }
    };
    let details: StandardDeviceAuthorizationResponse = c
        .exchange_device_code()
        .map_err(|_| OAuth2Error::FlowUnavailable {
            flow: "device",
            why: "the provider publishes no device authorization endpoint".into(),
        })?
        .add_scopes(scopes(account))
        .request_async(&send)
        .await
        .map_err(|e| server_error(e, "the device authorization request"))?;
    show(Prompt::Device {
        uri: details.verification_uri().to_string(),
        complete: details
            .verification_uri_complete()
            .map(|u| u.secret().to_string()),
        user_code: details.user_code().secret().to_string(),
        expires_in: details.expires_in(),
    });
    let result = c
        .exchange_device_access_token(&details)
        .request_async(&send, tokio::time::sleep, Some(timeout))
        .await;
    match result {
        Ok(resp) => Ok(tokens_from(&resp, None)),
        Err(RequestTokenError::ServerResponse(r)) => Err(match r.error() {
            DeviceCodeErrorResponseType::AccessDenied => OAuth2Error::Denied,
            DeviceCodeErrorResponseType::ExpiredToken => OAuth2Error::Expired,
            _ => server_error(RequestTokenError::ServerResponse(r), "the token request"),
        }),
        Err(e) => Err(server_error(e, "the token request")),
    }
}

/// Largest HTTP request the loopback listener reads.
const MAX_REDIRECT_REQUEST: usize = 16 * 1024;

/// RFC 7636 + RFC 8252: authorization code with PKCE through a loopback redirect.
pub async fn browser(
    account: &Account,
    http: &Https,
    timeout: Duration,
    open_browser: bool,
    show: &(dyn Fn(Prompt) + Sync),
) -> Result<Tokens, OAuth2Error> {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
        .await
        .map_err(|e| OAuth2Error::Http(format!("cannot listen on 127.0.0.1: {e}")))?;
    let port = listener
        .local_addr()
        .map_err(|e| OAuth2Error::Http(e.to_string()))?
        .port();
    let redirect = format!("http://127.0.0.1:{port}/");
    let c = client(account)?.set_redirect_uri(
        RedirectUrl::new(redirect.clone()).map_err(|e| OAuth2Error::Metadata(e.to_string()))?,
    );
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, state) = c
        .authorize_url(CsrfToken::new_random)
        .map_err(|_| OAuth2Error::FlowUnavailable {
            flow: "browser",
            why: "the provider publishes no authorization endpoint".into(),
        })?
        .add_scopes(scopes(account))
        .set_pkce_challenge(challenge)
        .url();
    let opened = open_browser && launch_browser(url.as_str());
    show(Prompt::Browser {
        url: url.to_string(),
        opened,
    });
    let code = tokio::time::timeout(
        timeout,
        receive_redirect(listener, state.secret(), &issuer_for_iss(account)),
    )
    .await
    .map_err(|_| OAuth2Error::TimedOut(timeout))??;
    drop(state);
    let send = |req| {
        let h = http.clone();
        async move { h.send(req).await }
    };
    let resp = c
        .exchange_code(AuthorizationCode::new(code))
        .set_pkce_verifier(verifier)
        .request_async(&send)
        .await
        .map_err(|e| server_error(e, "exchanging the authorization code"))?;
    Ok(tokens_from(&resp, None))
}

/// The issuer as RFC 9207's `iss` carries it (a URL).
fn issuer_for_iss(account: &Account) -> String {
    if account.issuer.contains("://") {
        account.issuer.clone()
    } else {
        format!("https://{}", account.issuer)
    }
}

/// Waits for the one redirect to the loopback address; answers the browser; returns the code.
/// Requests for other paths (a browser's favicon) get 404 and do not count.
async fn receive_redirect(
    listener: tokio::net::TcpListener,
    expected_state: &str,
    expected_issuer: &str,
) -> Result<String, OAuth2Error> {
    loop {
        let (mut sock, _) = listener
            .accept()
            .await
            .map_err(|e| OAuth2Error::Http(format!("loopback listener: {e}")))?;
        let mut buf = Vec::new();
        let read = tokio::time::timeout(Duration::from_secs(10), async {
            let mut chunk = [0u8; 2048];
            while !buf.windows(4).any(|w| w == b"\r\n\r\n") && buf.len() < MAX_REDIRECT_REQUEST {
                let n = sock.read(&mut chunk).await?;
                if n == 0 {
                    break;
                }
                buf.extend_from_slice(&chunk[..n]);
            }
            Ok::<_, std::io::Error>(())
        })
        .await;
        if !matches!(read, Ok(Ok(()))) {
            continue;
        }
        let line = String::from_utf8_lossy(&buf);
        let target = line
            .lines()
            .next()
            .and_then(|l| l.strip_prefix("GET "))
            .and_then(|l| l.split(' ').next())
            .unwrap_or("");
        let (path, query) = target.split_once('?').unwrap_or((target, ""));
        if path != "/" {
            respond(&mut sock, "404 Not Found", "Not here.").await;
            continue;
        }
        let params: std::collections::HashMap<String, String> =
            oauth2::url::form_urlencoded::parse(query.as_bytes())
                .into_owned()
                .collect();
        let state_ok = params.get("state").map(String::as_str) == Some(expected_state);
        // RFC 9207: a server that names itself must be the one we asked (mix-up defence).
        let iss_ok = params
            .get("iss")
            .is_none_or(|i| i.trim_end_matches('/') == expected_issuer.trim_end_matches('/'));
        let outcome = if !state_ok {
            Err(OAuth2Error::StateMismatch)
        } else if !iss_ok {
            Err(OAuth2Error::Http(format!(
                "the redirect names the issuer {:?}, not {expected_issuer}; nothing was stored",
                params.get("iss").map(String::as_str).unwrap_or_default()
            )))
        } else if let Some(err) = params.get("error") {
            if err == "access_denied" {
                Err(OAuth2Error::Denied)
            } else {
                Err(OAuth2Error::Server {
                    what: "the authorization request".into(),
                    code: err.clone(),
                    description: params.get("error_description").cloned(),
                })
            }
        } else if let Some(code) = params.get("code").filter(|c| !c.is_empty()) {
            Ok(code.clone())
        } else {
            Err(OAuth2Error::Http(
                "the redirect carried neither a code nor an error".into(),
            ))
        };
        match &outcome {
            Ok(_) => {
                respond(
                    &mut sock,
                    "200 OK",
                    "mailsetup received the sign-in. You can close this window and return to the terminal.",
                )
                .await
            }
            Err(e) => {
                respond(
                    &mut sock,
                    "400 Bad Request",
                    &format!("mailsetup did not accept this sign-in: {e}"),
                )
                .await
            }
        }
        // One redirect only: the listener closes when it is dropped here.
        return outcome;
    }
}

async fn respond(sock: &mut tokio::net::TcpStream, status: &str, text: &str) {
    let body = format!(
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>mailsetup</title></head><body><p>{}</p></body></html>",
        text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
    );
    let resp = format!(
        "HTTP/1.1 {status}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\nCache-Control: no-store\r\n\r\n{body}",
        body.len()
    );
    let _ = tokio::time::timeout(Duration::from_secs(5), sock.write_all(resp.as_bytes())).await;
    let _ = sock.shutdown().await;
}

/// Opens `url` in the user's browser when there is a graphical session. The URL carries no
/// secret (only `state` and the PKCE challenge).
fn launch_browser(url: &str) -> bool {
    let graphical = cfg!(target_os = "macos")
        || std::env::var_os("DISPLAY").is_some_and(|v| !v.is_empty())
        || std::env::var_os("WAYLAND_DISPLAY").is_some_and(|v| !v.is_empty());
    if !graphical {
        return false;
    }
    let program = if cfg!(target_os = "macos") {
        "open"
    } else {
        "xdg-open"
    };
    std::process::Command::new(program)
        .arg(url)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .is_ok()
}

/// A new access token from the refresh token. `invalid_grant` (revoked, expired, reused)
/// means the user has to log in again.
pub async fn refresh(
    account: &Account,
    http: &Https,
    refresh_token: &str,
) -> Result<Tokens, OAuth2Error> {
    let c = client(account)?;
    let send = |req| {
        let h = http.clone();
        async move { h.send(req).await }
    };
    let rt = RefreshToken::new(refresh_token.to_string());
    let result = c.exchange_refresh_token(&rt).request_async(&send).await;
    match result {
        Ok(resp) => Ok(tokens_from(&resp, Some(refresh_token))),
        Err(RequestTokenError::ServerResponse(r))
            if matches!(
                r.error(),
                BasicErrorResponseType::InvalidGrant | BasicErrorResponseType::UnauthorizedClient
            ) =>
        {
            Err(OAuth2Error::LoginRequired(
                r.error_description()
                    .cloned()
                    .unwrap_or_else(|| r.error().to_string()),
            ))
        }
        Err(e) => Err(server_error(e, "refreshing the access token")),
    }
}

/// RFC 7009: revokes the refresh token (and with it, on most servers, the grant).
/// `Ok(false)`: the provider publishes no revocation endpoint.
pub async fn revoke(
    account: &Account,
    http: &Https,
    refresh_token: &str,
) -> Result<bool, OAuth2Error> {
    let c = client(account)?;
    let Ok(req) = c.revoke_token(StandardRevocableToken::RefreshToken(RefreshToken::new(
        refresh_token.to_string(),
    ))) else {
        return Ok(false);
    };
    let send = |req| {
        let h = http.clone();
        async move { h.send(req).await }
    };
    req.request_async(&send)
        .await
        .map_err(|e| server_error(e, "revoking the refresh token"))?;
    Ok(true)
}
