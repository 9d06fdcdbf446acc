//! HTTPS for OAuth2: reqwest on the project's rustls configuration (ring), with certificate
//! verification that never bends (no `--insecure`, no pins: only the system roots plus
//! `--ca-file`), https URLs only, no redirects followed, bodies capped and every request
//! bounded in time. The `oauth2` crate sends its requests through [`Https::send`].

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::OAuth2Error;
use crate::net::tls::TlsContext;

/// Largest response body read from an authorization server.
pub const MAX_BODY: usize = 256 * 1024;
/// Time allowed for one request, body included.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Clone)]
pub struct Https {
    client: reqwest::Client,
}

/// A transport failure (the server's OAuth2 error answers are responses, not this).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct HttpError(pub String);

impl Https {
    /// A client trusting the system roots plus `ca_files`.
    pub fn new(ca_files: &[PathBuf]) -> Result<Https, OAuth2Error> {
        let tls = TlsContext::new(ca_files, crate::net::tls::VerifierKind::Authorities)
            .map_err(|e| OAuth2Error::Http(format!("--ca-file: {e}")))?;
        let mut config = (*tls.client_config(Arc::new(Mutex::new(None)))).clone();
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        let client = reqwest::Client::builder()
            .tls_backend_preconfigured(config)
            .http1_only()
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(REQUEST_TIMEOUT)
            .user_agent(concat!("mailsetup/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| OAuth2Error::Http(format!("HTTP client: {}", chain(&e))))?;
        Ok(Https { client })
    }

    /// GET a JSON document (status 200 only).
    pub async fn get_json<T: for<'de> serde::Deserialize<'de>>(
        &self,
        url: &str,
    ) -> Result<T, OAuth2Error> {
        let parsed = https_url(url)?;
        let resp = self
            .client
            .get(parsed)
            .header(reqwest::header::ACCEPT, "application/json")
            .send()
            .await
            .map_err(|e| OAuth2Error::Http(format!("{url}: {}", chain(&e))))?;
        let status = resp.status().as_u16();
        let body = read_body(resp)
            .await
            .map_err(|e| OAuth2Error::Http(format!("{url}: {e}")))?;
        if status != 200 {
            return Err(OAuth2Error::Metadata(format!("{url}: HTTP {status}")));
        }
        serde_json::from_slice(&body)
            .map_err(|e| OAuth2Error::Metadata(format!("{url}: not the expected JSON ({e})")))
    }

    /// One request of the `oauth2` crate.
    pub async fn send(&self, req: oauth2::HttpRequest) -> Result<oauth2::HttpResponse, HttpError> {
        let url = req.uri().to_string();
        let parsed = https_url(&url).map_err(|e| HttpError(e.to_string()))?;
        let (parts, body) = req.into_parts();
        let mut builder = self.client.request(parts.method, parsed);
        for (name, value) in parts.headers.iter() {
            builder = builder.header(name, value);
        }
        let resp = builder
            .body(body)
            .send()
            .await
            .map_err(|e| HttpError(format!("{}: {}", origin(&url), chain(&e))))?;
        let status = resp.status();
        let headers = resp.headers().clone();
        let body = read_body(resp)
            .await
            .map_err(|e| HttpError(format!("{}: {e}", origin(&url))))?;
        let mut out = http::Response::builder().status(status);
        for (name, value) in headers.iter() {
            out = out.header(name, value);
        }
        out.body(body).map_err(|e| HttpError(e.to_string()))
    }
}

/// Only https URLs are used for OAuth2 endpoints.
pub fn https_url(url: &str) -> Result<reqwest::Url, OAuth2Error> {
    let parsed = reqwest::Url::parse(url)
        .map_err(|e| OAuth2Error::Metadata(format!("{url:?} is not a URL: {e}")))?;
    if parsed.scheme() != "https" {
        return Err(OAuth2Error::Insecure(format!(
            "{} is not an https URL; tokens and codes are only sent over verified HTTPS",
            origin(url)
        )));
    }
    Ok(parsed)
}

/// Scheme, host and port of a URL (query strings can carry codes; never shown).
fn origin(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(u) => format!(
            "{}://{}{}{}",
            u.scheme(),
            u.host_str().unwrap_or_default(),
            u.port().map(|p| format!(":{p}")).unwrap_or_default(),
            u.path()
        ),
        Err(_) => "the endpoint".into(),
    }
}

async fn read_body(mut resp: reqwest::Response) -> Result<Vec<u8>, String> {
    if resp.content_length().is_some_and(|n| n > MAX_BODY as u64) {
        return Err("response larger than 256 KiB".into());
    }
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(|e| chain(&e))? {
        if body.len() + chunk.len() > MAX_BODY {
            return Err("response larger than 256 KiB".into());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// The messages of an error and its sources, without repeats.
fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut cur = Some(e);
    while let Some(err) = cur {
        let msg = err.to_string();
        if !parts.iter().any(|p| p.contains(&msg)) {
            parts.push(msg);
        }
        cur = err.source();
    }
    parts.join(": ")
}
