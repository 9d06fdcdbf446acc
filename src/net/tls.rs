//! TLS: one rustls configuration (ring provider, TLS 1.2+), trust roots, and a verifier that
//! records everything about the server certificate before deciding — so a refused
//! certificate is still reported in full, while the handshake itself fails closed.
//!
//! What decides is the [`VerifierKind`], chosen once per run: the trust store (system roots
//! and `--ca-file`), pins (`--pin-sha256`: only a matching certificate, the chain is not
//! required), or nothing (`--insecure`). The facts about the certificate (chain, name, dates,
//! [`chain::classify_chain`]) are gathered the same way under every kind.

mod cert;
pub mod chain;
pub mod pin;
mod verifier;

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, UnixTime};
use rustls::RootCertStore;

pub use cert::rfc3339;
pub use chain::{Anchors, ChainFindings, ChainProblem};
pub use pin::Pin;
use serde::{Deserialize, Serialize};
use verifier::RecordingVerifier;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertReport {
    pub subject: String,
    pub issuer: String,
    pub sans: Vec<String>,
    pub not_before: String,
    pub not_after: String,
    pub days_left: i64,
    pub trusted: bool,
    pub hostname_match: bool,
    /// SHA-256 of the DER certificate, lowercase hex (a `--pin-sha256` value).
    pub sha256: String,
    /// SHA-256 of the certificate's SubjectPublicKeyInfo, base64 (RFC 7469; a `--pin-sha256`
    /// value, also written `sha256//…`). Survives a renewal that keeps the key.
    #[serde(default)]
    pub spki_sha256: String,
    /// The certificate was accepted because it matches a `--pin-sha256`.
    #[serde(default)]
    pub pinned: bool,
    /// Which form of pin matched; null when none did (or no pin was given).
    #[serde(default)]
    pub pin_matched: Option<PinForm>,
    /// The certificate's "CA Issuers" URLs (Authority Information Access): where its issuer's
    /// certificate can be downloaded.
    #[serde(default)]
    pub ca_issuers: Vec<String>,
    /// The other certificates the server sent after this one, in the order sent.
    #[serde(default)]
    pub chain: Vec<ChainCert>,
}

/// A form of `--pin-sha256`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PinForm {
    /// SHA-256 of the whole certificate (hex), as in `sha256`.
    CertificateSha256,
    /// SHA-256 of the public key (base64, RFC 7469), as in `spki_sha256`.
    SpkiSha256,
}

/// One certificate of the chain a server sent (besides its own).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainCert {
    pub subject: String,
    pub issuer: String,
    pub sha256: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TlsReport {
    /// `TLSv1.3`, `TLSv1.2`; null when the handshake was abandoned (e.g. a refused certificate).
    pub version: Option<String>,
    pub cipher: Option<String>,
    pub certificate: Option<CertReport>,
}

/// How certificates are judged in a run; chosen once, when the context is built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VerifierKind {
    /// The system trust store plus `--ca-file`: chain, host name and dates must all be valid.
    Authorities,
    /// `--pin-sha256`: only a certificate matching one of the pins is accepted (curl's
    /// `--pinnedpubkey`); chain, name and dates are reported but not required.
    Pinned(Vec<Pin>),
    /// `--insecure`: any certificate is accepted; what is wrong with it is still reported.
    Insecure,
}

impl VerifierKind {
    /// The kind for the command-line flags (`--insecure` and `--pin-sha256` exclude each
    /// other; the command line refuses both at once).
    pub fn from_flags(insecure: bool, pins: Vec<Pin>) -> VerifierKind {
        if !pins.is_empty() {
            VerifierKind::Pinned(pins)
        } else if insecure {
            VerifierKind::Insecure
        } else {
            VerifierKind::Authorities
        }
    }

    /// The verdict on a certificate: `valid` = chain, name and dates all good.
    fn decide(&self, valid: bool, cert_sha256: &[u8], spki_sha256: &[u8]) -> Verdict {
        match self {
            VerifierKind::Authorities if valid => Verdict::Valid,
            VerifierKind::Authorities => Verdict::Refused,
            VerifierKind::Pinned(pins) => match pin::matching(pins, cert_sha256, spki_sha256) {
                Some(form) => Verdict::Pinned(form),
                None => Verdict::PinMismatch,
            },
            VerifierKind::Insecure if valid => Verdict::Valid,
            VerifierKind::Insecure => Verdict::Insecure,
        }
    }
}

/// What the verifier decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Chain, host name and dates are valid.
    Valid,
    /// Accepted because it matches a pin (whatever the chain, name and dates say).
    Pinned(PinForm),
    /// Accepted only because of `--insecure`.
    Insecure,
    /// Refused: the chain, the name or the dates fail.
    Refused,
    /// Refused: pins were given and none matches.
    PinMismatch,
}

impl Verdict {
    pub fn accepted(self) -> bool {
        matches!(
            self,
            Verdict::Valid | Verdict::Pinned(_) | Verdict::Insecure
        )
    }
}

/// Trust configuration for a run.
#[derive(Clone)]
pub struct TlsContext {
    provider: Arc<CryptoProvider>,
    /// The provider set to TLS 1.3 and 1.2 (checked once, in [`TlsContext::new`]).
    versions: rustls::ConfigBuilder<rustls::ClientConfig, rustls::WantsVerifier>,
    roots: Arc<RootCertStore>,
    anchors: Arc<Anchors>,
    kind: Arc<VerifierKind>,
}

#[derive(Debug, thiserror::Error)]
pub enum TlsSetupError {
    #[error("cannot read CA file {path}: {reason}")]
    CaFile { path: String, reason: String },
    /// The crypto provider cannot do TLS 1.3 and 1.2 (a build without them).
    #[error("this build of mailsetup cannot do TLS 1.2 and 1.3: {0}")]
    Versions(String),
}

impl TlsContext {
    /// System trust store plus the certificates in `extra_ca_files`, judged by `kind`.
    pub fn new(
        extra_ca_files: &[impl AsRef<Path>],
        kind: VerifierKind,
    ) -> Result<Self, TlsSetupError> {
        let mut roots = RootCertStore::empty();
        let native = rustls_native_certs::load_native_certs();
        for cert in native.certs {
            let _ = roots.add(cert);
        }
        for path in extra_ca_files {
            let path = path.as_ref();
            let err = |reason: String| TlsSetupError::CaFile {
                path: path.display().to_string(),
                reason,
            };
            let data = std::fs::read(path).map_err(|e| err(e.to_string()))?;
            let mut found = 0;
            for item in rustls::pki_types::pem::PemObject::pem_slice_iter(&data) {
                let cert: CertificateDer<'static> = item.map_err(|e| err(e.to_string()))?;
                roots
                    .add(cert)
                    .map_err(|e| err(format!("not a usable CA certificate: {e}")))?;
                found += 1;
            }
            if found == 0 {
                return Err(err("no PEM certificate in it".into()));
            }
        }
        let anchors = Anchors::new(&roots, !extra_ca_files.is_empty());
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let versions = rustls::ClientConfig::builder_with_provider(provider.clone())
            .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
            .map_err(|e| TlsSetupError::Versions(e.to_string()))?;
        Ok(TlsContext {
            provider,
            versions,
            roots: Arc::new(roots),
            anchors: Arc::new(anchors),
            kind: Arc::new(kind),
        })
    }

    /// How certificates of mail servers are judged in this run.
    pub fn kind(&self) -> &VerifierKind {
        &self.kind
    }

    /// `--insecure`: certificate checks are off (reported on every endpoint).
    pub fn insecure(&self) -> bool {
        matches!(*self.kind, VerifierKind::Insecure)
    }

    /// A client config for a mail server, whose verifier records its findings in `slot`.
    pub fn client_config(&self, slot: Arc<Mutex<Option<CertCheck>>>) -> Arc<rustls::ClientConfig> {
        self.config_of(self.kind.clone(), slot)
    }

    /// A client config for HTTPS discovery lookups. Pins name mail servers' certificates, so
    /// with `--pin-sha256` these are judged by the trust store (`--insecure` still applies).
    pub fn discovery_config(
        &self,
        slot: Arc<Mutex<Option<CertCheck>>>,
    ) -> Arc<rustls::ClientConfig> {
        let kind = match *self.kind {
            VerifierKind::Pinned(_) => Arc::new(VerifierKind::Authorities),
            _ => self.kind.clone(),
        };
        self.config_of(kind, slot)
    }

    fn config_of(
        &self,
        kind: Arc<VerifierKind>,
        slot: Arc<Mutex<Option<CertCheck>>>,
    ) -> Arc<rustls::ClientConfig> {
        let verifier = Arc::new(RecordingVerifier {
            provider: self.provider.clone(),
            roots: self.roots.clone(),
            anchors: self.anchors.clone(),
            kind,
            slot,
        });
        let config = self
            .versions
            .clone()
            .dangerous()
            .with_custom_certificate_verifier(verifier)
            .with_no_client_auth();
        Arc::new(config)
    }
}

/// What the verifier found about the server's certificate.
#[derive(Debug, Clone)]
pub struct CertCheck {
    pub report: CertReport,
    pub expired: bool,
    pub not_yet_valid: bool,
    /// Why the chain is not trusted, when it isn't (rustls's words).
    pub trust_error: Option<String>,
    /// Why, in the chain's own terms, and certificates sent that don't belong to it.
    pub chain: ChainFindings,
    pub verdict: Verdict,
}

impl CertCheck {
    /// Chain, host name and dates all valid (whatever the verdict).
    pub fn valid(&self) -> bool {
        self.trust_error.is_none()
            && self.report.hostname_match
            && !self.expired
            && !self.not_yet_valid
    }

    /// The verifier accepted the certificate.
    pub fn accepted(&self) -> bool {
        self.verdict.accepted()
    }
}

/// The report for a finished handshake.
pub fn tls_report(conn: &rustls::ClientConnection, check: Option<CertCheck>) -> TlsReport {
    TlsReport {
        version: conn.protocol_version().map(version_name),
        cipher: conn
            .negotiated_cipher_suite()
            .map(|s| format!("{:?}", s.suite())),
        certificate: check.map(|c| c.report),
    }
}

fn version_name(v: rustls::ProtocolVersion) -> String {
    match v {
        rustls::ProtocolVersion::TLSv1_3 => "TLSv1.3".into(),
        rustls::ProtocolVersion::TLSv1_2 => "TLSv1.2".into(),
        other => format!("{other:?}"),
    }
}

pub fn unix_now() -> UnixTime {
    UnixTime::since_unix_epoch(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default(),
    )
}

#[cfg(test)]
#[path = "tls_tests.rs"]
mod tests;
