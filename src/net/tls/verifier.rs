//! The recording certificate verifier: gathers every fact about the server's certificate
//! (chain, name, dates, pins, [`super::chain::classify_chain`]) under any [`VerifierKind`],
//! stores them for the report, then lets the kind decide — the handshake fails closed on a
//! refusal.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::server::ParsedCertificate;
use rustls::{DigitallySignedStruct, RootCertStore, SignatureScheme};

use super::cert::{chain_cert, describe};
use super::{chain, pin, Anchors, CertCheck, Verdict, VerifierKind};

#[derive(Debug)]
pub(super) struct RecordingVerifier {
    pub(super) provider: Arc<CryptoProvider>,
    pub(super) roots: Arc<RootCertStore>,
    pub(super) anchors: Arc<Anchors>,
    pub(super) kind: Arc<VerifierKind>,
    pub(super) slot: Arc<Mutex<Option<CertCheck>>>,
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
