//! Certificate and handshake facts (`net::tls`, `net::stream`) in words: what is wrong with a
//! certificate or a handshake, and how bad that is under the run's verifier kind.

use super::{Code, PinForm, Problem, Severity};
use crate::net::stream::HandshakeFailure;
use crate::net::tls::{CertCheck, ChainFindings, ChainProblem, Verdict};

/// Problems from the certificate check. What decided (the verdict of the run's verifier
/// kind) is an error when it refused; the other findings are errors when they are the
/// reason for a refusal, warnings when `--insecure` overrode them, and information when a pin
/// decided (then they are facts, not reasons).
pub fn cert_problems(check: Option<&CertCheck>) -> Vec<Problem> {
    use Severity;
    let Some(c) = check else { return vec![] };
    let mut out = vec![];
    let findings = match c.verdict {
        Verdict::Valid | Verdict::Refused => Severity::Error,
        Verdict::Insecure => Severity::Warning,
        Verdict::Pinned(_) | Verdict::PinMismatch => Severity::Info,
    };
    let finding = |code: Code, message: String| Problem::new(findings, code, message);
    if let Some(e) = &c.trust_error {
        out.push(chain_problem(c, e, findings));
    }
    if c.expired {
        out.push(finding(
            Code::TlsCertExpired,
            format!("the certificate expired on {}", c.report.not_after),
        ));
    }
    if c.not_yet_valid {
        out.push(finding(
            Code::TlsCertNotYetValid,
            format!("the certificate is only valid from {}", c.report.not_before),
        ));
    }
    if !c.report.hostname_match {
        out.push(finding(
            Code::TlsCertHostnameMismatch,
            format!(
                "the certificate is not valid for this host name; it names: {}",
                if c.report.sans.is_empty() {
                    c.report.subject.clone()
                } else {
                    c.report.sans.join(", ")
                }
            ),
        ));
    }
    if let Some(p) = chain_layout_problem(&c.chain, findings.max(Severity::Warning)) {
        out.push(p);
    }
    match c.verdict {
        Verdict::Pinned(form) => out.push(Problem::info(
            Code::TlsPinMatched,
            format!(
                "certificate accepted because its {} matches --pin-sha256 ({})",
                match form {
                    PinForm::CertificateSha256 => "SHA-256",
                    PinForm::SpkiSha256 => "public key's SHA-256",
                },
                match form {
                    PinForm::CertificateSha256 => c.report.sha256.clone(),
                    PinForm::SpkiSha256 => format!("sha256//{}", c.report.spki_sha256),
                }
            ),
        )),
        Verdict::PinMismatch => out.push(Problem::error(
            Code::TlsPinMismatch,
            format!(
                "the certificate matches no --pin-sha256: its SHA-256 is {}, its public key's sha256//{}",
                c.report.sha256, c.report.spki_sha256
            ),
        )),
        Verdict::Insecure => out.push(Problem::warning(
            Code::TlsInsecureAccepted,
            "this certificate would have been refused; accepted only because of --insecure",
        )),
        Verdict::Valid | Verdict::Refused => {}
    }
    if c.valid() && (0..30).contains(&c.report.days_left) {
        out.push(Problem::warning(
            Code::CertExpiresSoon,
            format!(
                "the certificate expires in {} days ({})",
                c.report.days_left, c.report.not_after
            ),
        ));
    }
    out
}

/// Why the chain is not trusted, with the code that tells the user what to do.
fn chain_problem(c: &CertCheck, rustls_words: &str, severity: Severity) -> Problem {
    let (code, message) = match &c.chain.problem {
        Some(ChainProblem::SelfSigned) => (
            Code::TlsCertSelfSigned,
            format!(
                "the certificate is self-signed (issued by itself, {}): no authority vouches for it",
                c.report.subject
            ),
        ),
        Some(ChainProblem::Incomplete { issuer, ca_issuers }) => (
            Code::TlsCertChainIncomplete,
            format!(
                "the chain is incomplete: the server did not send the certificate of the intermediate CA \"{issuer}\", which issued its certificate{}",
                match ca_issuers.first() {
                    Some(url) => format!(" (the certificate says it can be downloaded from {url})"),
                    None => " (it is not among the trusted authorities either, so if it is in fact a private root CA, the --ca-file given is not the one that issued this certificate)".into(),
                }
            ),
        ),
        Some(ChainProblem::UntrustedRoot { root }) => (
            Code::TlsCertUntrusted,
            format!("the chain ends at the root CA \"{root}\", which is not a trusted authority here"),
        ),
        Some(ChainProblem::UnknownIssuer { issuer }) => (
            Code::TlsCertUntrusted,
            format!("the certificate is issued by \"{issuer}\", which is not a trusted authority here (a private or unknown CA)"),
        ),
        Some(ChainProblem::Other { detail }) => (
            Code::TlsCertUntrusted,
            format!("the certificate chain is not trusted ({detail}); issuer: {}", c.report.issuer),
        ),
        None => (
            Code::TlsCertUntrusted,
            format!("the certificate chain is not trusted ({rustls_words}); issuer: {}", c.report.issuer),
        ),
    };
    Problem::new(severity, code, message)
}

/// Certificates sent that are not part of the chain, or a chain sent out of order.
fn chain_layout_problem(chain: &ChainFindings, severity: Severity) -> Option<Problem> {
    let mut parts = Vec::new();
    if !chain.extras.is_empty() {
        let names: Vec<String> = chain.extras.iter().map(|s| format!("\"{s}\"")).collect();
        parts.push(format!(
            "the server sent certificates that are not part of its chain: {}",
            names.join(", ")
        ));
    }
    if chain.misordered {
        parts.push(
            "the server sent its chain out of order (each certificate should be followed by its issuer)"
                .to_string(),
        );
    }
    (!parts.is_empty()).then(|| Problem::new(severity, Code::TlsCertChainExtra, parts.join("; ")))
}

/// How a handshake failed, in words (a refused certificate is worded by [`cert_problems`]).
pub fn handshake_problem(f: &HandshakeFailure, after_starttls: bool) -> Option<Problem> {
    Some(match f {
        HandshakeFailure::CertificateRefused => return None,
        HandshakeFailure::Timeout => Problem::error(
            Code::TlsHandshakeTimeout,
            "the TLS handshake did not finish in time",
        ),
        HandshakeFailure::Plaintext { first } => {
            let shown = crate::proto::text(first);
            if after_starttls {
                Problem::error(
                    Code::StarttlsInjection,
                    format!("plaintext arrived where the TLS handshake should be: {shown:?}"),
                )
            } else {
                Problem::error(
                    Code::TlsPlaintextOnTlsPort,
                    format!("the server answered in plaintext instead of TLS: {shown:?}"),
                )
            }
        }
        HandshakeFailure::VersionTooOld(s) if s == crate::net::stream::PROTOCOL_VERSION_ALERT => Problem::error(
            Code::TlsVersionTooOld,
            "the server rejected TLS 1.2 and 1.3 (protocol_version alert): it only speaks an older, insecure TLS",
        ),
        HandshakeFailure::VersionTooOld(s) => Problem::error(
            Code::TlsVersionTooOld,
            format!("the server does not speak TLS 1.2 or 1.3 ({s})"),
        ),
        HandshakeFailure::Incompatible(s) => Problem::error(
            Code::TlsHandshakeFailed,
            format!("no common TLS parameters: {s}"),
        ),
        HandshakeFailure::BadName(s) => Problem::error(Code::TlsHandshakeFailed, s.clone()),
        HandshakeFailure::Other(s) => Problem::error(
            Code::TlsHandshakeFailed,
            format!("TLS handshake failed: {s}"),
        ),
    })
}
