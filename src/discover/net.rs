//! Discovery's I/O: DNS through hickory-resolver (system configuration or `--dns-server`) and
//! HTTP(S) through reqwest with the project's rustls setup. `--connect-to` applies to HTTP:
//! names go through [`resolve_target`] before DNS, as for mail connections.
//!
//! Redirects are never followed by reqwest; callers follow them by their own rules. Bodies
//! are capped at [`MAX_BODY`]; every request and query has a timeout, capped by the deadline.

use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hickory_resolver::proto::rr::RData;
use hickory_resolver::TokioResolver;
use reqwest::Url;

use crate::net::connect::{resolve_target, ConnectTo};
use crate::net::tls::{CertCheck, TlsContext, Verdict};

use super::srv::SrvRecord;

/// Largest HTTP body read.
pub const MAX_BODY: usize = 1024 * 1024;
/// Time allowed for one HTTP request, body included (Thunderbird uses 5 s for autoconfig).
pub const HTTP_TIMEOUT: Duration = Duration::from_secs(5);
/// Time allowed for one DNS query.
pub const DNS_TIMEOUT: Duration = Duration::from_secs(5);

/// Why a lookup did not give an answer. `NotFound` means "there is nothing here" (no such
/// name, no such record, HTTP 404/410); the rest are failures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NetError {
    NotFound(String),
    Timeout(String),
    Failed(String),
    /// The body exceeded [`MAX_BODY`] (not read further).
    TooLarge(String),
}

impl NetError {
    pub fn detail(&self) -> &str {
        match self {
            NetError::NotFound(s)
            | NetError::Timeout(s)
            | NetError::Failed(s)
            | NetError::TooLarge(s) => s,
        }
    }
}

/// DNS and HTTP for one discovery run.
#[derive(Clone)]
pub struct Net {
    dns: Result<TokioResolver, String>,
    connect_to: Arc<Vec<ConnectTo>>,
    tls: TlsContext,
    deadline: Instant,
}

fn fqdn(name: &str) -> String {
    format!("{}.", name.trim_end_matches('.'))
}

impl Net {
    pub fn new(
        dns_server: Option<SocketAddr>,
        connect_to: Arc<Vec<ConnectTo>>,
        tls: TlsContext,
        deadline: Instant,
    ) -> Net {
        let dns = match dns_server {
            // The user named a server: ask it, not /etc/hosts.
            Some(addr) => crate::net::connect::resolver_for(addr),
            None => TokioResolver::builder_tokio()
                .and_then(|b| b.build())
                .map_err(|e| format!("system resolver: {e}")),
        };
        Net {
            dns,
            connect_to,
            tls,
            deadline,
        }
    }

    fn phase(&self, d: Duration) -> tokio::time::Instant {
        tokio::time::Instant::from_std((Instant::now() + d).min(self.deadline))
    }

    fn resolver(&self) -> Result<&TokioResolver, NetError> {
        self.dns
            .as_ref()
            .map_err(|e| NetError::Failed(format!("no DNS resolver: {e}")))
    }

    async fn dns<T, F>(&self, what: &str, fut: F) -> Result<T, NetError>
    where
        F: std::future::Future<Output = Result<T, hickory_resolver::net::NetError>>,
    {
        match tokio::time::timeout_at(self.phase(DNS_TIMEOUT), fut).await {
            Err(_) => Err(NetError::Timeout(format!("no DNS answer for {what}"))),
            Ok(Err(e)) if e.is_no_records_found() || e.is_nx_domain() => {
                Err(NetError::NotFound(format!("no DNS record for {what}")))
            }
            Ok(Err(e)) => Err(NetError::Failed(format!("DNS error for {what}: {e}"))),
            Ok(Ok(v)) => Ok(v),
        }
    }

    /// The MX host with the lowest preference (ties: the first answer).
    pub async fn mx(&self, domain: &str) -> Result<(String, u16), NetError> {
        let what = format!("MX {domain}");
        let lookup = self
            .dns(&what, self.resolver()?.mx_lookup(fqdn(domain)))
            .await?;
        lookup
            .answers()
            .iter()
            .filter_map(|r| match &r.data {
                RData::MX(mx) => Some((mx.exchange.to_ascii(), mx.preference)),
                _ => None,
            })
            .map(|(h, p)| (h.trim_end_matches('.').to_ascii_lowercase(), p))
            .filter(|(h, _)| !h.is_empty())
            .min_by_key(|(_, p)| *p)
            .ok_or(NetError::NotFound(format!("no MX record for {domain}")))
    }

    /// The SRV records of `name`, unordered.
    pub async fn srv(&self, name: &str) -> Result<Vec<SrvRecord>, NetError> {
        let lookup = self
            .dns(name, self.resolver()?.srv_lookup(fqdn(name)))
            .await?;
        Ok(lookup
            .answers()
            .iter()
            .filter_map(|r| match &r.data {
                RData::SRV(s) => Some(SrvRecord::new(
                    s.priority,
                    s.weight,
                    s.port,
                    &s.target.to_ascii(),
                )),
                _ => None,
            })
            .collect())
    }

    /// The addresses `host` resolves to.
    pub async fn addresses(&self, host: &str) -> Result<Vec<IpAddr>, NetError> {
        if let Ok(ip) = host.parse::<IpAddr>() {
            return Ok(vec![ip]);
        }
        let lookup = self
            .dns(host, self.resolver()?.lookup_ip(fqdn(host)))
            .await?;
        let ips: Vec<IpAddr> = lookup.iter().collect();
        if ips.is_empty() {
            return Err(NetError::NotFound(format!("no address for {host}")));
        }
        Ok(ips)
    }

    /// Whether a `--connect-to` rule names this host explicitly (the host then needs no DNS).
    pub fn mapped(&self, host: &str) -> bool {
        // Only a rule that sends a mail port of this host elsewhere makes DNS unnecessary.
        const MAIL_PORTS: [u16; 6] = [993, 143, 995, 110, 465, 587];
        self.connect_to.iter().any(|r| {
            r.host
                .as_deref()
                .is_some_and(|h| h.eq_ignore_ascii_case(host))
                && r.target_host.is_some()
                && r.port.is_none_or(|p| MAIL_PORTS.contains(&p))
        })
    }

    /// One HTTP request, no redirect followed. 2xx and 3xx come back as responses; other
    /// statuses as errors (404/410: `NotFound`).
    pub async fn request(
        &self,
        method: reqwest::Method,
        url: &Url,
        body: Option<String>,
    ) -> Result<Response, NetError> {
        let host = url.host_str().unwrap_or_default().to_string();
        let port = url.port_or_known_default().unwrap_or(443);
        let slot = Arc::new(Mutex::new(None));
        let mut tls = (*self.tls.discovery_config(slot.clone())).clone();
        tls.alpn_protocols = vec![b"http/1.1".to_vec()];
        let client = reqwest::Client::builder()
            .tls_backend_preconfigured(tls)
            .http1_only()
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("mailsetup/", env!("CARGO_PKG_VERSION")))
            .dns_resolver(MappedResolver {
                net: self.clone(),
                port,
            })
            .build()
            .map_err(|e| NetError::Failed(format!("HTTP client: {}", chain(&e))))?;
        let mut req = client.request(method, url.clone());
        if let Some(b) = body {
            req = req
                .header(reqwest::header::CONTENT_TYPE, "text/xml; charset=utf-8")
                .body(b);
        }
        let work = async {
            let mut resp = req.send().await.map_err(|e| classify(&e, &host))?;
            let status = resp.status().as_u16();
            let location = resp
                .headers()
                .get(reqwest::header::LOCATION)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string);
            if resp.content_length().is_some_and(|n| n > MAX_BODY as u64) {
                return Err(NetError::TooLarge(format!(
                    "HTTP {status}: body larger than 1 MiB"
                )));
            }
            let mut body = Vec::new();
            while let Some(chunk) = resp.chunk().await.map_err(|e| classify(&e, &host))? {
                if body.len() + chunk.len() > MAX_BODY {
                    return Err(NetError::TooLarge(format!(
                        "HTTP {status}: body larger than 1 MiB"
                    )));
                }
                body.extend_from_slice(&chunk);
            }
            Ok(Response {
                status,
                location,
                body,
                tls_note: None,
            })
        };
        let result = match tokio::time::timeout_at(self.phase(HTTP_TIMEOUT), work).await {
            Err(_) => Err(NetError::Timeout(format!("no HTTP answer from {host}"))),
            Ok(r) => r,
        };
        let mut resp = result?;
        resp.tls_note = slot
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
            .and_then(unverified_note);
        match resp.status {
            200..=399 => Ok(resp),
            404 | 410 => Err(NetError::NotFound(format!("HTTP {}", resp.status))),
            s => Err(NetError::Failed(format!("HTTP {s}"))),
        }
    }
}

/// An HTTP answer (2xx or 3xx).
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub location: Option<String>,
    pub body: Vec<u8>,
    /// Set when the certificate was accepted only because of `--insecure`.
    pub tls_note: Option<String>,
}

impl Response {
    /// The redirect target of a 3xx answer, resolved against `base`.
    pub fn redirect_target(&self, base: &Url) -> Option<Url> {
        if !(300..400).contains(&self.status) {
            return None;
        }
        base.join(self.location.as_deref()?).ok()
    }
}

fn unverified_note(check: &CertCheck) -> Option<String> {
    (check.verdict == Verdict::Insecure)
        .then(|| "certificate NOT verified (accepted because of --insecure)".to_string())
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

fn classify(e: &reqwest::Error, host: &str) -> NetError {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cur {
        if let Some(r) = err.downcast_ref::<ResolveFailure>() {
            return r.0.clone();
        }
        cur = err.source();
    }
    if e.is_timeout() {
        return NetError::Timeout(format!("no HTTP answer from {host}"));
    }
    NetError::Failed(chain(e))
}

/// A DNS failure carried through reqwest, to be reported as such.
#[derive(Debug)]
struct ResolveFailure(NetError);

impl std::fmt::Display for ResolveFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0.detail())
    }
}

impl std::error::Error for ResolveFailure {}

/// reqwest's resolver hook: `--connect-to` first, then our DNS. reqwest uses the returned
/// port unless the URL names one explicitly.
struct MappedResolver {
    net: Net,
    port: u16,
}

impl reqwest::dns::Resolve for MappedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let net = self.net.clone();
        let (host, port) = resolve_target(&net.connect_to, name.as_str(), self.port);
        Box::pin(async move {
            let ips = net
                .addresses(host.trim_start_matches('[').trim_end_matches(']'))
                .await
                .map_err(|e| {
                    Box::new(ResolveFailure(e)) as Box<dyn std::error::Error + Send + Sync>
                })?;
            let addrs: Vec<SocketAddr> = ips
                .into_iter()
                .map(|ip| SocketAddr::new(ip, port))
                .collect();
            Ok(Box::new(addrs.into_iter()) as reqwest::dns::Addrs)
        })
    }
}
