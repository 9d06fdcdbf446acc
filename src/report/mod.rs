//! The report model (serialised as the stable JSON contract, docs/json.md) and its human rendering.

pub mod escape;
pub mod human;
pub mod problem;

use serde::{Deserialize, Serialize};

use crate::model::{Endpoint, Protocol, Security};
pub use problem::{Code, Problem, Severity};

/// Overall state of one endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Ok,
    Warning,
    Error,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertReport {
    pub subject: String,
    pub issuer: String,
    pub sans: Vec<String>,
    pub not_before: String,
    pub not_after: String,
    pub days_left: i64,
    pub trusted: bool,
    pub hostname_match: bool,
    pub sha256: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TlsReport {
    /// `TLSv1.3`, `TLSv1.2`; null when the handshake was abandoned (e.g. a refused certificate).
    pub version: Option<String>,
    pub cipher: Option<String>,
    pub certificate: Option<CertReport>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EndpointReport {
    pub protocol: Protocol,
    pub host: String,
    pub port: u16,
    pub security: Security,
    pub url: String,
    pub status: Status,
    /// The socket address actually connected to (after --connect-to and DNS).
    pub address: Option<String>,
    pub connect_ms: Option<u64>,
    pub greeting: Option<String>,
    pub tls: Option<TlsReport>,
    /// For STARTTLS endpoints: what the server advertised before TLS (never trusted, only shown).
    pub capabilities_before_tls: Option<Vec<String>>,
    /// Capabilities read over TLS (or in plaintext on a plain endpoint).
    pub capabilities: Vec<String>,
    pub auth_mechanisms: Vec<String>,
    pub problems: Vec<Problem>,
    pub elapsed_ms: u64,
}

impl EndpointReport {
    pub fn new(endpoint: &Endpoint) -> Self {
        EndpointReport {
            protocol: endpoint.protocol,
            host: endpoint.host.clone(),
            port: endpoint.port,
            security: endpoint.security,
            url: endpoint.url(),
            status: Status::Ok,
            address: None,
            connect_ms: None,
            greeting: None,
            tls: None,
            capabilities_before_tls: None,
            capabilities: Vec::new(),
            auth_mechanisms: Vec::new(),
            problems: Vec::new(),
            elapsed_ms: 0,
        }
    }

    pub fn endpoint(&self) -> Endpoint {
        Endpoint {
            protocol: self.protocol,
            host: self.host.clone(),
            port: self.port,
            security: self.security,
        }
    }

    pub fn has(&self, code: Code) -> bool {
        self.problems.iter().any(|p| p.code == code)
    }

    /// Sorts problems (errors first, then by code) and derives the status from them.
    pub fn finish(&mut self) {
        self.problems
            .sort_by(|a, b| (a.severity, a.code).cmp(&(b.severity, b.code)));
        self.problems.dedup();
        self.status = status_of(&self.problems);
    }
}

pub fn status_of(problems: &[Problem]) -> Status {
    if problems.iter().any(|p| p.severity == Severity::Error) {
        Status::Error
    } else if problems.iter().any(|p| p.severity == Severity::Warning) {
        Status::Warning
    } else {
        Status::Ok
    }
}

/// `mailsetup probe` output.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ProbeReport {
    pub version: u32,
    pub command: String,
    pub insecure: bool,
    pub endpoints: Vec<EndpointReport>,
    pub elapsed_ms: u64,
}

impl ProbeReport {
    /// 0 when every endpoint is ok or warning, 1 when any has an error.
    pub fn exit_code(&self) -> i32 {
        if self.endpoints.iter().any(|e| e.status == Status::Error) {
            1
        } else {
            0
        }
    }
}

/// Deterministic order: protocol, then preference (implicit TLS first), then host and port.
pub fn sort_endpoints(endpoints: &mut [EndpointReport]) {
    endpoints.sort_by(|a, b| {
        (a.protocol, a.security, &a.host, a.port).cmp(&(b.protocol, b.security, &b.host, b.port))
    });
}
