//! Certificate facts for the report: subject, issuer, names, dates, digests, the sent chain.

use rustls::pki_types::{CertificateDer, UnixTime};

use super::{chain, CertReport, ChainCert};

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// What [`describe`] reads besides the report: the validity window in Unix seconds and the
/// DER SubjectPublicKeyInfo (None when the certificate can't be parsed).
pub(super) struct Facts {
    pub(super) validity: Option<(i64, i64)>,
    pub(super) spki: Option<Vec<u8>>,
}

/// Certificate details for the report.
pub(super) fn describe(der: &CertificateDer<'_>, now: UnixTime) -> (CertReport, Facts) {
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
pub(super) fn chain_cert(der: &CertificateDer<'_>) -> ChainCert {
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
