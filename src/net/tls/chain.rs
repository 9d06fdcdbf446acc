//! What the certificates a server sent say about why they are not trusted, in terms a user
//! can act on, and whether the server sent certificates that don't belong to its chain.
//!
//! rustls answers `UnknownIssuer` both for a private CA and for a server that forgot its
//! intermediate certificate; the difference is in the names: walk the sent certificates from
//! the leaf up (each one's issuer is the next one's subject) and look at where the walk stops.
//!
//! * The leaf is its own issuer: self-signed.
//! * The walk ends at a self-issued certificate the server sent (its root): an untrusted root.
//! * The walk ends at a certificate whose issuer was not sent and is no trust anchor: the
//!   missing issuer is an intermediate when the certificate says where to download its issuer
//!   (Authority Information Access "CA Issuers", which public CAs always include), or when the
//!   user trusts a private CA with `--ca-file` and the certificate is not issued by it
//!   directly; otherwise it is an unknown (private) CA.
//! * The issuer is a trust anchor and the chain still failed: something else (rustls's words).
//!
//! Pure functions over DER bytes: no I/O, no clock.

use rustls::RootCertStore;
use x509_parser::prelude::*;

/// The subjects of the trust anchors (system store and `--ca-file`), as webpki keeps them
/// (the DER contents of the Name, without its SEQUENCE header): copied, not parsed again.
#[derive(Debug, Default, Clone)]
pub struct Anchors {
    subjects: Vec<Vec<u8>>,
    /// `--ca-file` added anchors: the user trusts a private PKI.
    ca_files: bool,
}

impl Anchors {
    pub fn new(roots: &RootCertStore, ca_files_given: bool) -> Anchors {
        Anchors {
            subjects: roots
                .roots
                .iter()
                .map(|ta| ta.subject.as_ref().to_vec())
                .collect(),
            ca_files: ca_files_given,
        }
    }

    fn contains(&self, name: &[u8]) -> bool {
        self.subjects.iter().any(|s| s == name)
    }
}

/// The contents of a DER Name (what webpki compares), without its SEQUENCE header.
fn name_contents(raw: &[u8]) -> Vec<u8> {
    match x509_parser::der_parser::der::der_read_element_header(raw) {
        Ok((contents, _)) => contents.to_vec(),
        Err(_) => raw.to_vec(),
    }
}

/// Why the chain is not trusted, when the names explain it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChainProblem {
    /// The server's certificate is its own issuer.
    SelfSigned,
    /// The server sent its root certificate `root`, which is no trust anchor here.
    UntrustedRoot { root: String },
    /// The issuer was not sent, is no trust anchor, and nothing suggests an intermediate:
    /// an unknown (private) CA.
    UnknownIssuer { issuer: String },
    /// The intermediate certificate `issuer` was not sent. `ca_issuers`: where the certificate
    /// that names it says it can be downloaded (may be empty).
    Incomplete {
        issuer: String,
        ca_issuers: Vec<String>,
    },
    /// The chain reaches a trust anchor and still fails (bad signature, an expired
    /// intermediate, …): rustls's words.
    Other { detail: String },
}

/// What the chain a server sent shows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChainFindings {
    /// Set when the chain is not trusted.
    pub problem: Option<ChainProblem>,
    /// Subjects of sent certificates that are not part of the chain (unrelated or repeated).
    pub extras: Vec<String>,
    /// The chain's certificates were sent, but not each followed by its issuer.
    pub misordered: bool,
}

/// Names and links of one certificate.
struct Names {
    der: Vec<u8>,
    subject_raw: Vec<u8>,
    issuer_raw: Vec<u8>,
    subject: String,
    issuer: String,
    subject_key_id: Option<Vec<u8>>,
    authority_key_id: Option<Vec<u8>>,
    ca_issuers: Vec<String>,
}

impl Names {
    fn parse(der: &[u8]) -> Option<Names> {
        let (_, cert) = X509Certificate::from_der(der).ok()?;
        let mut names = Names {
            der: der.to_vec(),
            subject_raw: name_contents(cert.subject().as_raw()),
            issuer_raw: name_contents(cert.issuer().as_raw()),
            subject: cert.subject().to_string(),
            issuer: cert.issuer().to_string(),
            subject_key_id: None,
            authority_key_id: None,
            ca_issuers: ca_issuers(&cert),
        };
        for ext in cert.extensions() {
            match ext.parsed_extension() {
                ParsedExtension::SubjectKeyIdentifier(k) => {
                    names.subject_key_id = Some(k.0.to_vec());
                }
                ParsedExtension::AuthorityKeyIdentifier(a) => {
                    names.authority_key_id = a.key_identifier.as_ref().map(|k| k.0.to_vec());
                }
                _ => {}
            }
        }
        Some(names)
    }

    fn self_issued(&self) -> bool {
        self.subject_raw == self.issuer_raw
    }

    /// Whether `other` may be this certificate's issuer (names match; key ids, when both
    /// certificates carry them, too).
    fn issued_by(&self, other: &Names) -> bool {
        other.der != self.der
            && other.subject_raw == self.issuer_raw
            && match (&self.authority_key_id, &other.subject_key_id) {
                (Some(a), Some(s)) => a == s,
                _ => true,
            }
    }
}

/// The "CA Issuers" URLs of a certificate's Authority Information Access extension.
pub fn ca_issuers(cert: &X509Certificate<'_>) -> Vec<String> {
    let mut out = Vec::new();
    for ext in cert.extensions() {
        if let ParsedExtension::AuthorityInfoAccess(aia) = ext.parsed_extension() {
            for desc in &aia.accessdescs {
                if desc.access_method
                    == x509_parser::oid_registry::OID_PKIX_ACCESS_DESCRIPTOR_CA_ISSUERS
                {
                    if let GeneralName::URI(uri) = desc.access_location {
                        out.push(uri.to_string());
                    }
                }
            }
        }
    }
    out
}

/// Examines the chain the server sent: `leaf` and the certificates after it (`sent`), in the
/// order sent. `untrusted` is rustls's reason when the chain did not verify (None: it did).
pub fn classify_chain(
    leaf: &[u8],
    sent: &[&[u8]],
    anchors: &Anchors,
    untrusted: Option<&str>,
) -> ChainFindings {
    let other = |detail: &str| ChainProblem::Other {
        detail: detail.to_string(),
    };
    let Some(leaf) = Names::parse(leaf) else {
        return ChainFindings {
            problem: untrusted.map(other),
            ..ChainFindings::default()
        };
    };
    let sent: Vec<Option<Names>> = sent.iter().map(|d| Names::parse(d)).collect();

    // Walk up from the leaf through what was sent: `path` holds indices into `sent`.
    let mut path: Vec<usize> = Vec::new();
    let mut top = &leaf;
    while !top.self_issued() {
        let next = sent
            .iter()
            .enumerate()
            .find(|(i, n)| !path.contains(i) && n.as_ref().is_some_and(|n| top.issued_by(n)));
        match next {
            Some((i, Some(n))) => {
                path.push(i);
                top = n;
            }
            _ => break,
        }
    }
    let extras = sent
        .iter()
        .enumerate()
        .filter(|(i, _)| !path.contains(i))
        .map(|(_, n)| match n {
            Some(n) => n.subject.clone(),
            None => "(unparseable certificate)".to_string(),
        })
        .collect();
    let misordered = path.windows(2).any(|w| w[0] > w[1]);

    let problem = untrusted.map(|detail| {
        if leaf.self_issued() {
            ChainProblem::SelfSigned
        } else if top.self_issued() {
            if anchors.contains(&top.subject_raw) {
                other(detail)
            } else {
                ChainProblem::UntrustedRoot {
                    root: top.subject.clone(),
                }
            }
        } else if anchors.contains(&top.issuer_raw) {
            other(detail)
        } else if !top.ca_issuers.is_empty() || anchors.ca_files {
            ChainProblem::Incomplete {
                issuer: top.issuer.clone(),
                ca_issuers: top.ca_issuers.clone(),
            }
        } else {
            ChainProblem::UnknownIssuer {
                issuer: top.issuer.clone(),
            }
        }
    });
    ChainFindings {
        problem,
        extras,
        misordered,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rcgen::{
        BasicConstraints, CertificateParams, CustomExtension, DnType, IsCa, KeyPair,
        KeyUsagePurpose,
    };

    struct Ca {
        cert: rcgen::Certificate,
        key: KeyPair,
    }

    fn ca_params(cn: &str) -> CertificateParams {
        let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
        p.distinguished_name = rcgen::DistinguishedName::new();
        p.distinguished_name.push(DnType::CommonName, cn);
        p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        p.key_usages = vec![KeyUsagePurpose::KeyCertSign];
        p.use_authority_key_identifier_extension = true;
        p
    }

    fn root(cn: &str) -> Ca {
        let key = KeyPair::generate().unwrap();
        let cert = ca_params(cn).self_signed(&key).unwrap();
        Ca { cert, key }
    }

    fn intermediate(cn: &str, by: &Ca) -> Ca {
        let key = KeyPair::generate().unwrap();
        let cert = ca_params(cn).signed_by(&key, &by.cert, &by.key).unwrap();
        Ca { cert, key }
    }

    /// DER of an AuthorityInfoAccess value with one caIssuers URI.
    fn aia(url: &str) -> CustomExtension {
        let mut desc = vec![0x06, 0x08, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x30, 0x02];
        desc.push(0x86);
        desc.push(url.len() as u8);
        desc.extend_from_slice(url.as_bytes());
        let mut seq = vec![0x30, desc.len() as u8];
        seq.extend(desc);
        let mut outer = vec![0x30, seq.len() as u8];
        outer.extend(seq);
        CustomExtension::from_oid_content(&[1, 3, 6, 1, 5, 5, 7, 1, 1], outer)
    }

    fn leaf(by: Option<&Ca>, aia_url: Option<&str>) -> Vec<u8> {
        let mut p = CertificateParams::new(vec!["mail.example.test".to_string()]).unwrap();
        p.distinguished_name = rcgen::DistinguishedName::new();
        p.distinguished_name
            .push(DnType::CommonName, "mail.example.test");
        p.is_ca = IsCa::ExplicitNoCa;
        p.use_authority_key_identifier_extension = true;
        if let Some(url) = aia_url {
            p.custom_extensions.push(aia(url));
        }
        let key = KeyPair::generate().unwrap();
        match by {
            Some(ca) => p.signed_by(&key, &ca.cert, &ca.key),
            None => p.self_signed(&key),
        }
        .unwrap()
        .der()
        .to_vec()
    }

    fn der(ca: &Ca) -> Vec<u8> {
        ca.cert.der().to_vec()
    }

    fn anchors(system: &[&Ca], ca_files: &[&Ca]) -> Anchors {
        let mut roots = RootCertStore::empty();
        for c in system.iter().chain(ca_files) {
            roots.add(c.cert.der().clone()).unwrap();
        }
        Anchors::new(&roots, !ca_files.is_empty())
    }

    const FAIL: Option<&str> = Some("invalid peer certificate: UnknownIssuer");

    #[test]
    fn self_signed_leaf() {
        let f = classify_chain(&leaf(None, None), &[], &Anchors::default(), FAIL);
        assert_eq!(f.problem, Some(ChainProblem::SelfSigned));
        assert!(f.extras.is_empty() && !f.misordered);
    }

    #[test]
    fn missing_intermediate_with_aia_is_incomplete_and_names_it() {
        let r = root("Root R");
        let i = intermediate("Intermediate I", &r);
        let l = leaf(Some(&i), Some("http://ca.example.test/i.der"));
        // Even with no --ca-file at all: the URL says there is an issuer to fetch.
        let f = classify_chain(&l, &[], &anchors(&[&r], &[]), FAIL);
        assert_eq!(
            f.problem,
            Some(ChainProblem::Incomplete {
                issuer: "CN=Intermediate I".into(),
                ca_issuers: vec!["http://ca.example.test/i.der".into()],
            })
        );
    }

    #[test]
    fn missing_intermediate_under_a_ca_file_root_is_incomplete() {
        let r = root("Root R");
        let i = intermediate("Intermediate I", &r);
        let l = leaf(Some(&i), None);
        let f = classify_chain(&l, &[], &anchors(&[], &[&r]), FAIL);
        assert_eq!(
            f.problem,
            Some(ChainProblem::Incomplete {
                issuer: "CN=Intermediate I".into(),
                ca_issuers: vec![],
            })
        );
    }

    #[test]
    fn a_second_missing_level_is_named_after_the_sent_intermediate() {
        let r = root("Root R");
        let i1 = intermediate("Intermediate 1", &r);
        let i2 = intermediate("Intermediate 2", &i1);
        let l = leaf(Some(&i2), None);
        let f = classify_chain(&l, &[&der(&i2)], &anchors(&[], &[&r]), FAIL);
        assert_eq!(
            f.problem,
            Some(ChainProblem::Incomplete {
                issuer: "CN=Intermediate 1".into(),
                ca_issuers: vec![],
            })
        );
        assert!(f.extras.is_empty());
    }

    #[test]
    fn private_ca_not_sent_without_hints_is_an_unknown_issuer() {
        let private = root("Private CA");
        let l = leaf(Some(&private), None);
        let f = classify_chain(&l, &[], &Anchors::default(), FAIL);
        assert_eq!(
            f.problem,
            Some(ChainProblem::UnknownIssuer {
                issuer: "CN=Private CA".into()
            })
        );
    }

    #[test]
    fn a_sent_untrusted_root_is_named() {
        let private = root("Private CA");
        let i = intermediate("Private Intermediate", &private);
        let l = leaf(Some(&i), None);
        let f = classify_chain(&l, &[&der(&i), &der(&private)], &Anchors::default(), FAIL);
        assert_eq!(
            f.problem,
            Some(ChainProblem::UntrustedRoot {
                root: "CN=Private CA".into()
            })
        );
        assert!(f.extras.is_empty() && !f.misordered);
    }

    #[test]
    fn a_known_issuer_leaves_rustls_words() {
        let r = root("Root R");
        let l = leaf(Some(&r), None);
        let f = classify_chain(&l, &[], &anchors(&[&r], &[]), Some("BadSignature"));
        assert_eq!(
            f.problem,
            Some(ChainProblem::Other {
                detail: "BadSignature".into()
            })
        );
    }

    #[test]
    fn trusted_chains_have_no_problem_but_extras_and_order_are_seen() {
        let r = root("Root R");
        let i1 = intermediate("Intermediate 1", &r);
        let i2 = intermediate("Intermediate 2", &i1);
        let stray = root("Unrelated CA");
        let l = leaf(Some(&i2), None);
        let a = anchors(&[&r], &[]);
        let good = classify_chain(&l, &[&der(&i2), &der(&i1)], &a, None);
        assert_eq!(good, ChainFindings::default());
        let extra = classify_chain(&l, &[&der(&i2), &der(&stray), &der(&i1)], &a, None);
        assert_eq!(extra.extras, vec!["CN=Unrelated CA".to_string()]);
        assert!(!extra.misordered && extra.problem.is_none());
        let swapped = classify_chain(&l, &[&der(&i1), &der(&i2)], &a, None);
        assert!(swapped.misordered && swapped.extras.is_empty());
        let twice = classify_chain(&l, &[&der(&i2), &der(&i2), &der(&i1)], &a, None);
        assert_eq!(twice.extras, vec!["CN=Intermediate 2".to_string()]);
        let garbage = classify_chain(&l, &[&der(&i2), b"junk", &der(&i1)], &a, None);
        assert_eq!(
            garbage.extras,
            vec!["(unparseable certificate)".to_string()]
        );
    }

    #[test]
    fn an_unparseable_leaf_keeps_the_reason() {
        let f = classify_chain(b"junk", &[], &Anchors::default(), Some("BadEncoding"));
        assert_eq!(
            f.problem,
            Some(ChainProblem::Other {
                detail: "BadEncoding".into()
            })
        );
    }
}
