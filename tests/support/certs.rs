//! Throwaway X.509 certificates for tests (rcgen 0.13, ECDSA P-256, ring).
//!
//! * [`TestCa::new`] makes a self-signed CA (`basicConstraints CA:TRUE`).
//! * [`TestCa::leaf`] issues a server certificate valid from now-1 day to now+365 days.
//! * [`TestCa::leaf_valid_days`] issues one whose validity is given in days relative to
//!   now (negative = in the past), e.g. `(-30, -1)` expired, `(1, 30)` not yet valid,
//!   `(-1, 10)` expires in 10 days. [`TestCa::leaf_with_validity`] takes `SystemTime`s.
//! * [`self_signed_leaf`] is a leaf that no CA vouches for ("untrusted" tests).
//! * [`TestCa::intermediate`] makes an intermediate CA signed by this one;
//!   [`TestCa::leaf_with_ca_issuers`] a leaf carrying an AIA "CA Issuers" URL (as public CAs
//!   issue them); [`Leaf::server_config_with_chain`] serves a leaf followed by other
//!   certificates (an intermediate, or unrelated ones).
//! * [`Leaf::server_config`] gives a rustls `ServerConfig` (ring provider, TLS 1.2 + 1.3)
//!   for [`super::fake::Step::StartTls`]; [`TestCa::client_config`] gives a client config
//!   trusting only this CA.
//!
//! Names in `dns_names` that parse as IP addresses become IP SANs, everything else a DNS SAN;
//! the first name is also the subject CN.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rcgen::{
    BasicConstraints, Certificate, CertificateParams, CustomExtension, DnType,
    ExtendedKeyUsagePurpose, IsCa, KeyPair, KeyUsagePurpose,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

const DAY: u64 = 24 * 60 * 60;

/// A throwaway certificate authority.
pub struct TestCa {
    name: String,
    common_name: String,
    cert: Certificate,
    key: KeyPair,
}

/// A server certificate with its private key (PKCS#8), in PEM and DER.
#[derive(Clone, Debug)]
pub struct Leaf {
    pub cert_pem: String,
    pub key_pem: String,
    pub cert_der: Vec<u8>,
    pub key_der: Vec<u8>,
}

/// Sets `field` of `params` to `t` (second precision, UTC). rcgen's `OffsetDateTime` is
/// only reached by inference, so this file needs no direct `time` dependency.
fn to_rcgen_time(t: SystemTime, params: &mut CertificateParams, field: TimeField) {
    let epoch = rcgen::date_time_ymd(1970, 1, 1);
    let value = match t.duration_since(UNIX_EPOCH) {
        Ok(d) => epoch + Duration::from_secs(d.as_secs()),
        Err(e) => epoch - Duration::from_secs(e.duration().as_secs()),
    };
    match field {
        TimeField::NotBefore => params.not_before = value,
        TimeField::NotAfter => params.not_after = value,
    }
}

enum TimeField {
    NotBefore,
    NotAfter,
}

fn days_from_now(days: i64) -> SystemTime {
    let now = SystemTime::now();
    let d = Duration::from_secs(days.unsigned_abs() * DAY);
    if days >= 0 {
        now + d
    } else {
        now - d
    }
}

fn leaf_params(
    dns_names: &[&str],
    not_before: SystemTime,
    not_after: SystemTime,
) -> CertificateParams {
    let names: Vec<String> = dns_names.iter().map(|s| s.to_string()).collect();
    let mut params = CertificateParams::new(names).expect("valid SAN names");
    params.distinguished_name = rcgen::DistinguishedName::new();
    params.distinguished_name.push(
        DnType::CommonName,
        dns_names.first().copied().unwrap_or("fake.test"),
    );
    params.is_ca = IsCa::ExplicitNoCa;
    params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    params.use_authority_key_identifier_extension = true;
    to_rcgen_time(not_before, &mut params, TimeField::NotBefore);
    to_rcgen_time(not_after, &mut params, TimeField::NotAfter);
    params
}

fn make_leaf(cert: &Certificate, key: &KeyPair) -> Leaf {
    Leaf {
        cert_pem: cert.pem(),
        key_pem: key.serialize_pem(),
        cert_der: cert.der().to_vec(),
        key_der: key.serialize_der(),
    }
}

fn ca_params(common_name: &str) -> CertificateParams {
    let mut params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
    params.distinguished_name = rcgen::DistinguishedName::new();
    params
        .distinguished_name
        .push(DnType::CommonName, common_name);
    params
        .distinguished_name
        .push(DnType::OrganizationName, "mailsetup tests");
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    to_rcgen_time(days_from_now(-1), &mut params, TimeField::NotBefore);
    to_rcgen_time(days_from_now(3650), &mut params, TimeField::NotAfter);
    params
}

/// The DER value of an Authority Information Access extension with one "CA Issuers" URI
/// (RFC 5280 4.2.2.1); short URLs only (< 100 bytes: one-byte DER lengths).
fn ca_issuers_extension(url: &str) -> CustomExtension {
    assert!(url.len() < 100, "URL too long for this encoder");
    // AccessDescription ::= SEQUENCE { id-ad-caIssuers, [6] IA5String uniformResourceIdentifier }
    let mut desc = vec![0x06, 0x08, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x30, 0x02];
    desc.extend([0x86, url.len() as u8]);
    desc.extend_from_slice(url.as_bytes());
    let mut one = vec![0x30, desc.len() as u8];
    one.extend(desc);
    let mut all = vec![0x30, one.len() as u8];
    all.extend(one);
    // id-pe-authorityInfoAccess
    CustomExtension::from_oid_content(&[1, 3, 6, 1, 5, 5, 7, 1, 1], all)
}

impl TestCa {
    /// A self-signed CA named `name` (CN "`name` Test CA"), valid now-1 day .. now+10 years.
    pub fn new(name: &str) -> TestCa {
        let key = KeyPair::generate().expect("generate CA key");
        let common_name = format!("{name} Test CA");
        let cert = ca_params(&common_name)
            .self_signed(&key)
            .expect("self-sign CA");
        TestCa {
            name: name.to_string(),
            common_name,
            cert,
            key,
        }
    }

    /// An intermediate CA (CN "`name` Intermediate CA") signed by this CA.
    pub fn intermediate(&self, name: &str) -> TestCa {
        let key = KeyPair::generate().expect("generate intermediate key");
        let common_name = format!("{name} Intermediate CA");
        let mut params = ca_params(&common_name);
        params.use_authority_key_identifier_extension = true;
        let cert = params
            .signed_by(&key, &self.cert, &self.key)
            .expect("sign intermediate");
        TestCa {
            name: name.to_string(),
            common_name,
            cert,
            key,
        }
    }

    /// The CA's subject as the report prints it (`CN=…, O=mailsetup tests`).
    pub fn subject(&self) -> String {
        format!("CN={}, O=mailsetup tests", self.common_name)
    }

    /// The CA's name as given to [`TestCa::new`].
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The CA certificate in PEM.
    pub fn ca_pem(&self) -> String {
        self.cert.pem()
    }

    /// The CA certificate in DER.
    pub fn ca_der(&self) -> Vec<u8> {
        self.cert.der().to_vec()
    }

    /// Writes the CA certificate to `<dir>/<name>-ca.pem` and returns that path.
    pub fn write_ca_pem(&self, dir: &Path) -> PathBuf {
        let path = dir.join(format!("{}-ca.pem", self.name));
        std::fs::write(&path, self.ca_pem()).expect("write CA PEM");
        path
    }

    /// A server leaf for `dns_names`, valid now-1 day .. now+365 days.
    pub fn leaf(&self, dns_names: &[&str]) -> Leaf {
        self.leaf_valid_days(dns_names, -1, 365)
    }

    /// A server leaf valid from `now + from_days` to `now + to_days` (days may be negative).
    /// Expired: `(-30, -1)`; not yet valid: `(1, 30)`; expires in 10 days: `(-1, 10)`.
    pub fn leaf_valid_days(&self, dns_names: &[&str], from_days: i64, to_days: i64) -> Leaf {
        self.leaf_with_validity(dns_names, days_from_now(from_days), days_from_now(to_days))
    }

    /// A server leaf with an explicit validity window.
    pub fn leaf_with_validity(
        &self,
        dns_names: &[&str],
        not_before: SystemTime,
        not_after: SystemTime,
    ) -> Leaf {
        let key = KeyPair::generate().expect("generate leaf key");
        let params = leaf_params(dns_names, not_before, not_after);
        let cert = params
            .signed_by(&key, &self.cert, &self.key)
            .expect("sign leaf");
        make_leaf(&cert, &key)
    }

    /// A server leaf for `dns_names` that names `url` as where its issuer's certificate can be
    /// downloaded (AIA "CA Issuers"), valid now-1 day .. now+365 days.
    pub fn leaf_with_ca_issuers(&self, dns_names: &[&str], url: &str) -> Leaf {
        let key = KeyPair::generate().expect("generate leaf key");
        let mut params = leaf_params(dns_names, days_from_now(-1), days_from_now(365));
        params.custom_extensions.push(ca_issuers_extension(url));
        let cert = params
            .signed_by(&key, &self.cert, &self.key)
            .expect("sign leaf");
        make_leaf(&cert, &key)
    }

    /// A rustls client config (ring, TLS 1.2 + 1.3) trusting only this CA.
    pub fn client_config(&self) -> Arc<rustls::ClientConfig> {
        let mut roots = rustls::RootCertStore::empty();
        roots
            .add(CertificateDer::from(self.ca_der()))
            .expect("add CA to root store");
        let cfg = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .expect("protocol versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
        Arc::new(cfg)
    }
}

/// A self-signed server leaf (no CA), valid now-1 day .. now+365 days.
pub fn self_signed_leaf(dns_names: &[&str]) -> Leaf {
    let key = KeyPair::generate().expect("generate key");
    let params = leaf_params(dns_names, days_from_now(-1), days_from_now(365));
    let cert = params.self_signed(&key).expect("self-sign leaf");
    make_leaf(&cert, &key)
}

impl Leaf {
    /// A rustls server config: ring provider, TLS 1.2 and 1.3, chain = this leaf only.
    pub fn server_config(&self) -> Arc<rustls::ServerConfig> {
        self.server_config_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
    }

    /// Like [`Leaf::server_config`] but offering only the given protocol versions
    /// (e.g. `&[&rustls::version::TLS12]`).
    pub fn server_config_versions(
        &self,
        versions: &[&'static rustls::SupportedProtocolVersion],
    ) -> Arc<rustls::ServerConfig> {
        let cfg = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_protocol_versions(versions)
        .expect("protocol versions")
        .with_no_client_auth()
        .with_single_cert(
            vec![CertificateDer::from(self.cert_der.clone())],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(self.key_der.clone())),
        )
        .expect("server cert/key");
        Arc::new(cfg)
    }

    /// Like [`Leaf::server_config`], but the server sends `chain` (DER certificates, in this
    /// order) after the leaf.
    pub fn server_config_with_chain(&self, chain: &[Vec<u8>]) -> Arc<rustls::ServerConfig> {
        let mut certs = vec![CertificateDer::from(self.cert_der.clone())];
        certs.extend(chain.iter().map(|c| CertificateDer::from(c.clone())));
        let cfg = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .expect("protocol versions")
        .with_no_client_auth()
        .with_single_cert(
            certs,
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(self.key_der.clone())),
        )
        .expect("server cert/key");
        Arc::new(cfg)
    }

    /// RFC 7469 pin: base64 of the SHA-256 of the public key (SubjectPublicKeyInfo DER), taken
    /// from the key pair rather than parsed out of the certificate.
    pub fn spki_sha256_base64(&self) -> String {
        use base64::Engine as _;
        let key = KeyPair::from_pem(&self.key_pem).expect("leaf key");
        let digest = ring::digest::digest(&ring::digest::SHA256, &key.public_key_der());
        base64::engine::general_purpose::STANDARD.encode(digest.as_ref())
    }

    /// Lowercase hex SHA-256 of the DER certificate, no separators.
    pub fn sha256_hex(&self) -> String {
        ring::digest::digest(&ring::digest::SHA256, &self.cert_der)
            .as_ref()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    /// Writes `<dir>/<stem>.crt` and `<dir>/<stem>.key` (PEM) and returns both paths.
    pub fn write_pem(&self, dir: &Path, stem: &str) -> (PathBuf, PathBuf) {
        let cert = dir.join(format!("{stem}.crt"));
        let key = dir.join(format!("{stem}.key"));
        std::fs::write(&cert, &self.cert_pem).expect("write cert PEM");
        std::fs::write(&key, &self.key_pem).expect("write key PEM");
        (cert, key)
    }
}
