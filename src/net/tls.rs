//! TLS: one rustls configuration (ring provider, TLS 1.2+), trust roots, and a verifier that
//! records everything about the server certificate before deciding — so a refused
//! certificate is still reported in full, while the handshake itself fails closed.
//!
//! What decides is the [`VerifierKind`], chosen once per run: the trust store (system roots
//! and `--ca-file`), pins (`--pin-sha256`: only a matching certificate, the chain is not
//! required), or nothing (`--insecure`). The facts about the certificate (chain, name, dates,
//! [`chain::classify_chain`]) are gathered the same way under every kind.

pub mod chain;
pub mod pin;

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::server::ParsedCertificate;
use rustls::{DigitallySignedStruct, RootCertStore, SignatureScheme};

pub use chain::{Anchors, ChainFindings, ChainProblem};
pub use pin::Pin;
use serde::{Deserialize, Serialize};

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
    roots: Arc<RootCertStore>,
    anchors: Arc<Anchors>,
    kind: Arc<VerifierKind>,
}

#[derive(Debug, thiserror::Error)]
pub enum TlsSetupError {
    #[error("cannot read CA file {path}: {reason}")]
    CaFile { path: String, reason: String },
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
        Ok(TlsContext {
            provider: Arc::new(rustls::crypto::ring::default_provider()),
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
        let config = rustls::ClientConfig::builder_with_provider(self.provider.clone())
            .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
            .expect("ring supports TLS 1.2 and 1.3")
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

#[derive(Debug)]
struct RecordingVerifier {
    provider: Arc<CryptoProvider>,
    roots: Arc<RootCertStore>,
    anchors: Arc<Anchors>,
    kind: Arc<VerifierKind>,
    slot: Arc<Mutex<Option<CertCheck>>>,
}

impl ServerCertVerifier for RecordingVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        use rustls::CertificateError as E;
        let check = self.check(end_entity, intermediates, server_name, now);
        let refused = |e: E| Err(rustls::Error::InvalidCertificate(e));
        let verdict = match check.verdict {
            Verdict::Valid | Verdict::Pinned(_) | Verdict::Insecure => {
                Ok(ServerCertVerified::assertion())
            }
            Verdict::PinMismatch => refused(E::ApplicationVerificationFailure),
            Verdict::Refused if check.trust_error.is_some() => refused(E::UnknownIssuer),
            Verdict::Refused if check.expired => refused(E::Expired),
            Verdict::Refused if check.not_yet_valid => refused(E::NotValidYet),
            Verdict::Refused => refused(E::NotValidForName),
        };
        *self.slot.lock().unwrap_or_else(|e| e.into_inner()) = Some(check);
        verdict
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

impl RecordingVerifier {
    fn check(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        now: UnixTime,
    ) -> CertCheck {
        let cert_digest = ring::digest::digest(&ring::digest::SHA256, end_entity.as_ref());
        let (mut report, facts) = describe(end_entity, now);
        report.chain = intermediates.iter().map(|c| chain_cert(c)).collect();
        let spki_digest = facts
            .spki
            .as_deref()
            .map(|spki| ring::digest::digest(&ring::digest::SHA256, spki));
        report.spki_sha256 = spki_digest
            .as_ref()
            .map(|d| pin::spki_base64(d.as_ref()))
            .unwrap_or_default();
        let now_secs = now.as_secs() as i64;
        let (expired, not_yet_valid, check_time) = match facts.validity {
            Some((nb, na)) => (
                now_secs > na,
                now_secs < nb,
                // Judge the chain at a moment inside the leaf's validity, so "untrusted"
                // and "expired" are reported independently.
                if now_secs > na || now_secs < nb {
                    UnixTime::since_unix_epoch(Duration::from_secs(((nb + na) / 2).max(0) as u64))
                } else {
                    now
                },
            ),
            None => (false, false, now),
        };
        let parsed = ParsedCertificate::try_from(end_entity);
        let trust_error = match &parsed {
            Err(e) => Some(e.to_string()),
            Ok(p) => rustls::client::verify_server_cert_signed_by_trust_anchor(
                p,
                &self.roots,
                intermediates,
                check_time,
                self.provider.signature_verification_algorithms.all,
            )
            .err()
            .map(|e| e.to_string()),
        };
        let sent: Vec<&[u8]> = intermediates.iter().map(|c| c.as_ref()).collect();
        let chain = chain::classify_chain(
            end_entity.as_ref(),
            &sent,
            &self.anchors,
            trust_error.as_deref(),
        );
        let hostname_match = parsed
            .as_ref()
            .is_ok_and(|p| rustls::client::verify_server_name(p, server_name).is_ok());
        report.trusted = trust_error.is_none();
        report.hostname_match = hostname_match;
        let valid = trust_error.is_none() && hostname_match && !expired && !not_yet_valid;
        // A certificate without a parseable key matches no key pin.
        let verdict = self.kind.decide(
            valid,
            cert_digest.as_ref(),
            spki_digest.as_ref().map_or(&[][..], |d| d.as_ref()),
        );
        if let Verdict::Pinned(form) = verdict {
            report.pinned = true;
            report.pin_matched = Some(form);
        }
        CertCheck {
            report,
            expired,
            not_yet_valid,
            trust_error,
            chain,
            verdict,
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// What [`describe`] reads besides the report: the validity window in Unix seconds and the
/// DER SubjectPublicKeyInfo (None when the certificate can't be parsed).
struct Facts {
    validity: Option<(i64, i64)>,
    spki: Option<Vec<u8>>,
}

/// Certificate details for the report.
fn describe(der: &CertificateDer<'_>, now: UnixTime) -> (CertReport, Facts) {
    use x509_parser::prelude::*;
    let mut report = CertReport {
        subject: String::new(),
        issuer: String::new(),
        sans: Vec::new(),
        not_before: String::new(),
        not_after: String::new(),
        days_left: 0,
        trusted: false,
        hostname_match: false,
        sha256: sha256_hex(der.as_ref()),
        spki_sha256: String::new(),
        pinned: false,
        pin_matched: None,
        ca_issuers: Vec::new(),
        chain: Vec::new(),
    };
    let Ok((_, cert)) = X509Certificate::from_der(der.as_ref()) else {
        report.subject = "(unparseable certificate)".into();
        return (
            report,
            Facts {
                validity: None,
                spki: None,
            },
        );
    };
    report.subject = cert.subject().to_string();
    report.issuer = cert.issuer().to_string();
    if let Ok(Some(san)) = cert.subject_alternative_name() {
        for name in &san.value.general_names {
            match name {
                GeneralName::DNSName(d) => report.sans.push(d.to_string()),
                GeneralName::IPAddress(ip) => report.sans.push(format_ip(ip)),
                _ => {}
            }
        }
    }
    report.ca_issuers = chain::ca_issuers(&cert);
    let nb = cert.validity().not_before.timestamp();
    let na = cert.validity().not_after.timestamp();
    report.not_before = rfc3339(nb);
    report.not_after = rfc3339(na);
    report.days_left = (na - now.as_secs() as i64).div_euclid(86_400);
    let facts = Facts {
        validity: Some((nb, na)),
        spki: Some(cert.public_key().raw.to_vec()),
    };
    (report, facts)
}

fn sha256_hex(der: &[u8]) -> String {
    hex(ring::digest::digest(&ring::digest::SHA256, der).as_ref())
}

/// One certificate of the sent chain, for the report.
fn chain_cert(der: &CertificateDer<'_>) -> ChainCert {
    use x509_parser::prelude::*;
    let (subject, issuer) = match X509Certificate::from_der(der.as_ref()) {
        Ok((_, c)) => (c.subject().to_string(), c.issuer().to_string()),
        Err(_) => ("(unparseable certificate)".into(), String::new()),
    };
    ChainCert {
        subject,
        issuer,
        sha256: sha256_hex(der.as_ref()),
    }
}

fn format_ip(b: &[u8]) -> String {
    match b.len() {
        4 => std::net::Ipv4Addr::new(b[0], b[1], b[2], b[3]).to_string(),
        16 => {
            let mut a = [0u8; 16];
            a.copy_from_slice(b);
            std::net::Ipv6Addr::from(a).to_string()
        }
        _ => hex(b),
    }
}

/// Unix seconds → `YYYY-MM-DDTHH:MM:SSZ` (proleptic Gregorian, UTC).
pub fn rfc3339(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
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
mod tests {
    use super::*;

    #[test]
    fn the_kind_alone_decides() {
        let (cert, key) = ([1u8; 32], [2u8; 32]);
        let a = VerifierKind::Authorities;
        assert_eq!(a.decide(true, &cert, &key), Verdict::Valid);
        assert_eq!(a.decide(false, &cert, &key), Verdict::Refused);
        let i = VerifierKind::Insecure;
        assert_eq!(i.decide(true, &cert, &key), Verdict::Valid);
        assert_eq!(i.decide(false, &cert, &key), Verdict::Insecure);
        // A pin restricts: validity does not matter either way.
        let p = VerifierKind::Pinned(vec![Pin::Spki(key)]);
        for valid in [true, false] {
            assert_eq!(
                p.decide(valid, &cert, &key),
                Verdict::Pinned(PinForm::SpkiSha256)
            );
            assert_eq!(p.decide(valid, &key, &cert), Verdict::PinMismatch);
        }
        assert_eq!(
            VerifierKind::from_flags(false, vec![Pin::Certificate(cert)]),
            VerifierKind::Pinned(vec![Pin::Certificate(cert)])
        );
        assert_eq!(
            VerifierKind::from_flags(true, vec![]),
            VerifierKind::Insecure
        );
        assert_eq!(VerifierKind::from_flags(false, vec![]), a);
        assert!(!Verdict::PinMismatch.accepted() && !Verdict::Refused.accepted());
    }

    #[test]
    fn rfc3339_dates() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(4_102_444_799), "2099-12-31T23:59:59Z");
        assert_eq!(rfc3339(-86_400), "1969-12-31T00:00:00Z");
    }
}
