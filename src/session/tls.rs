//! TLS: one rustls configuration (ring provider, TLS 1.2+), trust roots, and a verifier that
//! records everything about the server certificate before deciding — so a refused
//! certificate is still reported in full, while the handshake itself fails closed.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::server::ParsedCertificate;
use rustls::{DigitallySignedStruct, RootCertStore, SignatureScheme};

use crate::report::{CertReport, TlsReport};

/// Trust configuration for a run.
#[derive(Clone)]
pub struct TlsContext {
    provider: Arc<CryptoProvider>,
    roots: Arc<RootCertStore>,
    /// `--insecure`: accept any certificate (reported on every endpoint).
    pub insecure: bool,
    /// `--pin-sha256`: accept exactly these leaf certificates.
    pub pins: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum TlsSetupError {
    #[error("cannot read CA file {path}: {reason}")]
    CaFile { path: String, reason: String },
}

impl TlsContext {
    /// System trust store plus the certificates in `extra_ca_files`.
    pub fn new(
        extra_ca_files: &[impl AsRef<Path>],
        insecure: bool,
        pins: Vec<String>,
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
        Ok(TlsContext {
            provider: Arc::new(rustls::crypto::ring::default_provider()),
            roots: Arc::new(roots),
            insecure,
            pins: pins
                .into_iter()
                .map(|p| normalize_fingerprint(&p))
                .collect(),
        })
    }

    /// A client config whose verifier records its findings in `slot`.
    pub fn client_config(&self, slot: Arc<Mutex<Option<CertCheck>>>) -> Arc<rustls::ClientConfig> {
        let verifier = Arc::new(RecordingVerifier {
            provider: self.provider.clone(),
            roots: self.roots.clone(),
            insecure: self.insecure,
            pins: self.pins.clone(),
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

/// `AA:bb:..` or `aabb..` → lowercase hex without separators.
pub fn normalize_fingerprint(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_ascii_hexdigit())
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// What the verifier found about the server's certificate.
#[derive(Debug, Clone)]
pub struct CertCheck {
    pub report: CertReport,
    pub expired: bool,
    pub not_yet_valid: bool,
    pub pinned: bool,
    /// Why the chain is not trusted, when it isn't.
    pub trust_error: Option<String>,
    /// The verifier accepted the certificate (all checks passed, or pinned, or --insecure).
    pub accepted: bool,
}

#[derive(Debug)]
struct RecordingVerifier {
    provider: Arc<CryptoProvider>,
    roots: Arc<RootCertStore>,
    insecure: bool,
    pins: Vec<String>,
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
        let check = self.check(end_entity, intermediates, server_name, now);
        let verdict = if check.accepted {
            Ok(ServerCertVerified::assertion())
        } else if check.trust_error.is_some() {
            Err(rustls::Error::InvalidCertificate(
                rustls::CertificateError::UnknownIssuer,
            ))
        } else if check.expired {
            Err(rustls::Error::InvalidCertificate(
                rustls::CertificateError::Expired,
            ))
        } else if check.not_yet_valid {
            Err(rustls::Error::InvalidCertificate(
                rustls::CertificateError::NotValidYet,
            ))
        } else {
            Err(rustls::Error::InvalidCertificate(
                rustls::CertificateError::NotValidForName,
            ))
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
        let sha256 = hex(ring::digest::digest(&ring::digest::SHA256, end_entity.as_ref()).as_ref());
        let (mut report, validity) = describe(end_entity, &sha256, now);
        let now_secs = now.as_secs() as i64;
        let (expired, not_yet_valid, check_time) = match validity {
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
        let hostname_match = parsed
            .as_ref()
            .is_ok_and(|p| rustls::client::verify_server_name(p, server_name).is_ok());
        report.trusted = trust_error.is_none();
        report.hostname_match = hostname_match;
        let pinned = self.pins.contains(&sha256);
        let valid = trust_error.is_none() && hostname_match && !expired && !not_yet_valid;
        CertCheck {
            report,
            expired,
            not_yet_valid,
            pinned,
            trust_error,
            accepted: valid || pinned || self.insecure,
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Certificate details for the report, and its validity window in Unix seconds.
fn describe(
    der: &CertificateDer<'_>,
    sha256: &str,
    now: UnixTime,
) -> (CertReport, Option<(i64, i64)>) {
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
        sha256: sha256.to_string(),
    };
    let Ok((_, cert)) = X509Certificate::from_der(der.as_ref()) else {
        report.subject = "(unparseable certificate)".into();
        return (report, None);
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
    let nb = cert.validity().not_before.timestamp();
    let na = cert.validity().not_after.timestamp();
    report.not_before = rfc3339(nb);
    report.not_after = rfc3339(na);
    report.days_left = (na - now.as_secs() as i64).div_euclid(86_400);
    (report, Some((nb, na)))
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
    fn rfc3339_dates() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(4_102_444_799), "2099-12-31T23:59:59Z");
        assert_eq!(rfc3339(-86_400), "1969-12-31T00:00:00Z");
    }

    #[test]
    fn fingerprints_normalize() {
        assert_eq!(normalize_fingerprint("AB:cd:0F"), "abcd0f");
    }
}
