//! The report model (serialised as the stable JSON contract, docs/json.md) and its human rendering.

// No unwrap or expect outside tests; a remaining expect states its invariant (issue 13).
#![deny(clippy::unwrap_used, clippy::expect_used)]

pub mod causes;
pub mod discovery;
pub mod endpoint;
pub mod escape;
pub mod html;
pub mod human;
pub mod nagios;
pub mod problem;
pub mod prometheus;
pub mod roundtrip;
pub mod summary;
pub mod tls_problems;
pub mod waterfall;

use serde::{Deserialize, Serialize};

pub use crate::model::timing;
use crate::model::{AuthMethod, Endpoint, Protocol, Security};
pub use problem::{Code, Problem, Severity};

/// Overall state of one endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Ok,
    Warning,
    Error,
    /// Nothing listens on this port of a discovered or guessed candidate (its only problem is
    /// `not-offered`): the provider does not offer it here; not a failure of the account.
    #[serde(rename = "not-offered")]
    NotOffered,
}

pub use crate::net::tls::{CertReport, ChainCert, PinForm, TlsReport};

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
    /// The discovery source this endpoint came from (`check` without `--server`).
    pub source: Option<String>,
    /// Login verification (`check`); null for `probe`.
    pub login: Option<LoginReport>,
    /// IMAP after a login: the special folders found (absent otherwise).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub folders: Option<crate::model::Folders>,
    /// The user named this endpoint (`--server`): it must work for the run to succeed.
    /// Discovered candidates and `probe HOST`'s standard ports are not named.
    #[serde(default)]
    pub named: bool,
    /// The trust policy's decision: credentials may go here, and it may be recommended and
    /// written (`app::trust`).
    #[serde(default)]
    pub trusted: bool,
    /// Why (or why not); null only in reports of older versions.
    #[serde(default)]
    pub trust_reason: Option<crate::model::TrustReason>,
    pub problems: Vec<Problem>,
    pub elapsed_ms: u64,
    /// What the time went on, in order, in ms since the run started (docs/json.md).
    #[serde(default)]
    pub phases: timing::Phases,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LoginStatus {
    Ok,
    Failed,
    /// No credentials available (no terminal to ask on).
    Skipped,
    /// Credentials available but deliberately not sent here (TLS problem, plaintext, ...).
    NotAttempted,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoginAttempt {
    pub mechanism: String,
    pub status: LoginStatus,
    pub message: String,
    /// The user name of this attempt, when it is not the one given (the local part tried
    /// after the full address was refused).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoginReport {
    pub status: LoginStatus,
    /// The mechanism that worked (or the last one tried).
    pub mechanism: Option<String>,
    pub auth_method: Option<AuthMethod>,
    pub username: Option<String>,
    pub message: String,
    pub attempts: Vec<LoginAttempt>,
}

/// Storage use of the mailbox.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Quota {
    pub used_bytes: Option<u64>,
    pub limit_bytes: Option<u64>,
    pub percent: Option<f64>,
    pub messages: Option<u64>,
    /// `imap-quota` (GETQUOTAROOT) or `pop3-stat`.
    pub source: String,
    /// The endpoint it was read from.
    pub url: String,
}

/// `mailsetup check` output.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CheckReport {
    pub version: u32,
    pub command: String,
    pub address: String,
    pub username: String,
    pub insecure: bool,
    pub endpoints: Vec<EndpointReport>,
    pub quota: Option<Quota>,
    /// The IMAP server's special folders (Sent, Drafts, Trash, Junk, Archive), when a login
    /// worked on an IMAP endpoint.
    #[serde(default)]
    pub folders: Option<crate::model::Folders>,
    /// What discovery tried and found (null with `--server`).
    pub discovery: Option<crate::discover::Discovery>,
    /// The settings a mail client should use, from the best working endpoints.
    pub recommended: Option<Recommended>,
    /// Problems of the account as a whole (e.g. quota-nearly-full).
    pub problems: Vec<Problem>,
    pub elapsed_ms: u64,
    /// `--round-trip`: the test message's journey (null without it).
    #[serde(default)]
    pub round_trip: Option<roundtrip::RoundTripReport>,
}

/// Recommended account settings. `verified` is true when login worked on both servers;
/// false when they were only probed (no credentials), so the user name is a guess.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recommended {
    #[serde(flatten)]
    pub settings: crate::model::AccountSettings,
    pub verified: bool,
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
            source: None,
            login: None,
            folders: None,
            named: false,
            trusted: false,
            trust_reason: None,
            problems: Vec::new(),
            elapsed_ms: 0,
            phases: timing::Phases::default(),
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
        self.problems.sort_by_key(|p| (p.severity, p.code));
        self.problems.dedup();
        self.status = status_of(&self.problems);
    }
}

pub fn status_of(problems: &[Problem]) -> Status {
    if problems.iter().any(|p| p.severity == Severity::Error) {
        Status::Error
    } else if problems.iter().any(|p| p.severity == Severity::Warning) {
        Status::Warning
    } else if problems.iter().any(|p| p.code == Code::NotOffered) {
        Status::NotOffered
    } else {
        Status::Ok
    }
}

impl Status {
    /// The JSON word.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Warning => "warning",
            Status::Error => "error",
            Status::NotOffered => "not-offered",
        }
    }

    /// The endpoint answered and passed its checks (warnings allowed).
    pub fn works(self) -> bool {
        matches!(self, Status::Ok | Status::Warning)
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

/// Deterministic order: protocol, then preference (implicit TLS first), then host and port.
pub fn sort_endpoints(endpoints: &mut [EndpointReport]) {
    endpoints.sort_by(|a, b| {
        (a.protocol, a.security, &a.host, a.port).cmp(&(b.protocol, b.security, &b.host, b.port))
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn certificates_of_older_reports_still_read() {
        // A certificate as reports before issue 12 wrote it (no pin or chain fields).
        let old = r#"{"subject":"CN=a","issuer":"CN=b","sans":["a"],"not_before":"x",
            "not_after":"y","days_left":3,"trusted":true,"hostname_match":true,"sha256":"00"}"#;
        let c: CertReport = serde_json::from_str(old).unwrap();
        assert!(!c.pinned && c.pin_matched.is_none() && c.spki_sha256.is_empty());
        assert!(c.chain.is_empty() && c.ca_issuers.is_empty());
        let v = serde_json::to_value(CertReport {
            pinned: true,
            pin_matched: Some(PinForm::SpkiSha256),
            ..c
        })
        .unwrap();
        assert_eq!(v["pin_matched"], "spki-sha256");
        assert_eq!(
            serde_json::to_value(PinForm::CertificateSha256).unwrap(),
            "certificate-sha256"
        );
    }
}

/// The status of a phase stopped by `problems` (the worst one decides): a timeout when the
/// first error is one, an error for any other error, else ok.
pub fn phase_status(problems: &[Problem]) -> crate::model::timing::PhaseStatus {
    use crate::model::timing::PhaseStatus;
    let timeout = |c: Code| {
        matches!(
            c,
            Code::Timeout
                | Code::GreetingTimeout
                | Code::ConnectTimeout
                | Code::TlsHandshakeTimeout
        )
    };
    match problems.iter().find(|p| p.severity == Severity::Error) {
        Some(p) if timeout(p.code) => PhaseStatus::Timeout,
        Some(_) => PhaseStatus::Error,
        None => PhaseStatus::Ok,
    }
}

#[cfg(test)]
mod phase_status_tests {
    use super::*;
    use crate::model::timing::PhaseStatus;

    #[test]
    fn status_from_problems() {
        let t = Problem::error(Code::GreetingTimeout, "x");
        let e = Problem::error(Code::ConnectRefused, "x");
        let w = Problem::warning(Code::CertExpiresSoon, "x");
        assert_eq!(phase_status(&[t]), PhaseStatus::Timeout);
        assert_eq!(phase_status(&[w.clone(), e]), PhaseStatus::Error);
        assert_eq!(phase_status(&[w]), PhaseStatus::Ok);
    }
}
