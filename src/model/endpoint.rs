//! Protocols, security modes and endpoints in their URL form (`imaps://host:993`), with the
//! host and port rules they are parsed by.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A mail access or submission protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    Imap,
    Pop3,
    Smtp,
}

impl Protocol {
    pub const ALL: [Protocol; 3] = [Protocol::Imap, Protocol::Pop3, Protocol::Smtp];

    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Imap => "imap",
            Protocol::Pop3 => "pop3",
            Protocol::Smtp => "smtp",
        }
    }

    /// The standard port for this protocol with this transport security
    /// (RFC 8314: implicit TLS 993/995/465; STARTTLS 143/110/587).
    pub fn default_port(self, security: Security) -> u16 {
        match (self, security) {
            (Protocol::Imap, Security::Tls) => 993,
            (Protocol::Imap, _) => 143,
            (Protocol::Pop3, Security::Tls) => 995,
            (Protocol::Pop3, _) => 110,
            (Protocol::Smtp, Security::Tls) => 465,
            (Protocol::Smtp, Security::StartTls) => 587,
            (Protocol::Smtp, Security::Plain) => 25,
        }
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Protocol {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "imap" => Ok(Protocol::Imap),
            "pop3" | "pop" => Ok(Protocol::Pop3),
            "smtp" | "submission" => Ok(Protocol::Smtp),
            other => Err(format!(
                "unknown protocol {other:?} (expected imap, pop3 or smtp)"
            )),
        }
    }
}

/// Transport security of an endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Security {
    /// Implicit TLS: TLS from the first byte (RFC 8314).
    Tls,
    /// STARTTLS / STLS upgrade, required: never continues in plaintext.
    #[serde(rename = "starttls")]
    StartTls,
    /// No TLS at all. Probed and flagged, never logged into without explicit consent.
    Plain,
}

impl Security {
    pub fn as_str(self) -> &'static str {
        match self {
            Security::Tls => "tls",
            Security::StartTls => "starttls",
            Security::Plain => "plain",
        }
    }
}

impl fmt::Display for Security {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One server port speaking one protocol with one transport security.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Endpoint {
    pub protocol: Protocol,
    pub host: String,
    pub port: u16,
    pub security: Security,
}

impl Endpoint {
    pub fn new(protocol: Protocol, host: &str, port: u16, security: Security) -> Self {
        Endpoint {
            protocol,
            host: host.to_ascii_lowercase(),
            port,
            security,
        }
    }

    /// The six standard endpoints of a host: IMAP 993/143, POP3 995/110, SMTP 465/587.
    pub fn standard(host: &str) -> Vec<Endpoint> {
        let mut out = Vec::with_capacity(6);
        for protocol in Protocol::ALL {
            for security in [Security::Tls, Security::StartTls] {
                out.push(Endpoint::new(
                    protocol,
                    host,
                    protocol.default_port(security),
                    security,
                ));
            }
        }
        out
    }

    /// URL scheme: `imaps`, `imap` (STARTTLS required), `imap+plain`, and likewise.
    pub fn scheme(&self) -> &'static str {
        match (self.protocol, self.security) {
            (Protocol::Imap, Security::Tls) => "imaps",
            (Protocol::Imap, Security::StartTls) => "imap",
            (Protocol::Imap, Security::Plain) => "imap+plain",
            (Protocol::Pop3, Security::Tls) => "pop3s",
            (Protocol::Pop3, Security::StartTls) => "pop3",
            (Protocol::Pop3, Security::Plain) => "pop3+plain",
            (Protocol::Smtp, Security::Tls) => "smtps",
            (Protocol::Smtp, Security::StartTls) => "smtp",
            (Protocol::Smtp, Security::Plain) => "smtp+plain",
        }
    }

    pub fn url(&self) -> String {
        self.to_string()
    }

    /// Ordering key used for reports: protocol, then preference (implicit TLS first, RFC 8314).
    pub fn sort_key(&self) -> (Protocol, Security, &str, u16) {
        (self.protocol, self.security, self.host.as_str(), self.port)
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.host.contains(':') {
            write!(f, "{}://[{}]:{}", self.scheme(), self.host, self.port)
        } else {
            write!(f, "{}://{}:{}", self.scheme(), self.host, self.port)
        }
    }
}

impl FromStr for Endpoint {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (scheme, rest) = s.split_once("://").ok_or_else(|| {
            format!("{s:?} is not a server URL; expected e.g. imaps://mail.example.com:993")
        })?;
        let (protocol, security) = match scheme.to_ascii_lowercase().as_str() {
            "imaps" => (Protocol::Imap, Security::Tls),
            "imap" => (Protocol::Imap, Security::StartTls),
            "imap+plain" => (Protocol::Imap, Security::Plain),
            "pop3s" | "pops" => (Protocol::Pop3, Security::Tls),
            "pop3" | "pop" => (Protocol::Pop3, Security::StartTls),
            "pop3+plain" | "pop+plain" => (Protocol::Pop3, Security::Plain),
            "smtps" | "submissions" => (Protocol::Smtp, Security::Tls),
            "smtp" | "submission" => (Protocol::Smtp, Security::StartTls),
            "smtp+plain" => (Protocol::Smtp, Security::Plain),
            other => {
                return Err(format!(
                    "unknown URL scheme {other:?}; use imaps, imap, imap+plain, pop3s, pop3, pop3+plain, smtps, smtp or smtp+plain"
                ))
            }
        };
        let authority = rest.trim_end_matches('/');
        if authority.contains('/') || authority.contains('@') || authority.contains('?') {
            return Err(format!(
                "{s:?}: a server URL has only a host and an optional port (no user, path or query)"
            ));
        }
        let (host, port) = split_host_port(authority).map_err(|e| format!("{s:?}: {e}"))?;
        let port = match port {
            Some(p) => p,
            None => protocol.default_port(security),
        };
        validate_host(&host).map_err(|e| format!("{s:?}: {e}"))?;
        Ok(Endpoint::new(protocol, &host, port, security))
    }
}

/// Splits `host`, `host:port`, `[v6]` or `[v6]:port`.
pub fn split_host_port(s: &str) -> Result<(String, Option<u16>), String> {
    if let Some(rest) = s.strip_prefix('[') {
        let (host, after) = rest
            .split_once(']')
            .ok_or_else(|| "unclosed '[' in IPv6 address".to_string())?;
        let port = match after {
            "" => None,
            p => {
                Some(parse_port(p.strip_prefix(':').ok_or_else(|| {
                    format!("unexpected {p:?} after IPv6 address")
                })?)?)
            }
        };
        return Ok((host.to_string(), port));
    }
    match s.rsplit_once(':') {
        Some((h, p)) if !h.contains(':') => Ok((h.to_string(), Some(parse_port(p)?))),
        Some(_) => Err("IPv6 addresses must be in brackets, e.g. [::1]:993".into()),
        None => Ok((s.to_string(), None)),
    }
}

fn parse_port(p: &str) -> Result<u16, String> {
    match p.parse::<u16>() {
        Ok(0) | Err(_) => Err(format!("{p:?} is not a valid port (1-65535)")),
        Ok(n) => Ok(n),
    }
}

/// A host name or IP literal we are willing to connect to: no spaces, controls or URL syntax.
pub fn validate_host(host: &str) -> Result<(), String> {
    if host.is_empty() {
        return Err("empty host name".into());
    }
    if host.len() > 253 {
        return Err("host name longer than 253 characters".into());
    }
    if host.parse::<std::net::IpAddr>().is_ok() {
        return Ok(());
    }
    let ok = host
        .chars()
        .all(|c| c.is_alphanumeric() || c == '-' || c == '.' || c == '_');
    if !ok || host.starts_with('.') || host.starts_with('-') {
        return Err(format!("{host:?} is not a valid host name"));
    }
    Ok(())
}
