//! `--pin-sha256` values: the certificate's SHA-256 (hex, as in the report's `sha256`) or the
//! public key's SHA-256 (base64 of SHA-256 over the SubjectPublicKeyInfo, RFC 7469, also
//! written `sha256//BASE64` as curl's `--pinnedpubkey` takes it).

use base64::Engine as _;

use super::PinForm;

/// One pin.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pin {
    /// SHA-256 of the DER certificate.
    Certificate([u8; 32]),
    /// SHA-256 of the DER SubjectPublicKeyInfo.
    Spki([u8; 32]),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{value:?} is not a SHA-256 pin: give the certificate's SHA-256 (64 hex digits, colons allowed; `sha256` in the JSON report) or the public key's SHA-256 in base64 (RFC 7469, optionally written sha256//BASE64; `spki_sha256` in the JSON report)")]
pub struct PinError {
    value: String,
}

impl Pin {
    pub fn form(&self) -> PinForm {
        match self {
            Pin::Certificate(_) => PinForm::CertificateSha256,
            Pin::Spki(_) => PinForm::SpkiSha256,
        }
    }
}

impl std::str::FromStr for Pin {
    type Err = PinError;

    fn from_str(s: &str) -> Result<Pin, PinError> {
        let err = || PinError {
            value: s.to_string(),
        };
        let v = s.trim();
        if let Some(b64) = v
            .get(..8)
            .filter(|p| p.eq_ignore_ascii_case("sha256//"))
            .map(|_| &v[8..])
        {
            return spki(b64).map(Pin::Spki).ok_or_else(err);
        }
        // 64 hex digits can't be base64 of 32 bytes (that has 43 or 44 characters).
        if v.chars().all(|c| c.is_ascii_hexdigit() || c == ':') {
            let hex: String = v.chars().filter(|c| *c != ':').collect();
            if hex.len() == 64 {
                let mut out = [0u8; 32];
                for (i, byte) in out.iter_mut().enumerate() {
                    *byte = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).map_err(|_| err())?;
                }
                return Ok(Pin::Certificate(out));
            }
        }
        spki(v).map(Pin::Spki).ok_or_else(err)
    }
}

/// Base64 (standard alphabet, padding optional) of exactly 32 bytes.
fn spki(b64: &str) -> Option<[u8; 32]> {
    let b64 = b64.trim_end_matches('=');
    let bytes = base64::engine::general_purpose::STANDARD_NO_PAD
        .decode(b64)
        .ok()?;
    bytes.try_into().ok()
}

/// The form of the first pin that matches a certificate with these digests.
pub fn matching(pins: &[Pin], cert_sha256: &[u8], spki_sha256: &[u8]) -> Option<PinForm> {
    pins.iter()
        .find(|p| match p {
            Pin::Certificate(h) => h.as_slice() == cert_sha256,
            Pin::Spki(h) => h.as_slice() == spki_sha256,
        })
        .map(Pin::form)
}

/// Base64 as the report shows an SPKI digest (and `--pin-sha256` takes it).
pub fn spki_base64(digest: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(digest)
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEX: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    fn cert_bytes() -> [u8; 32] {
        let mut b = [0u8; 32];
        for (i, x) in b.iter_mut().enumerate() {
            *x = [0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef][i % 8];
        }
        b
    }

    #[test]
    fn certificate_hash_in_hex_with_or_without_colons() {
        assert_eq!(HEX.parse(), Ok(Pin::Certificate(cert_bytes())));
        assert_eq!(
            HEX.to_uppercase().parse(),
            Ok(Pin::Certificate(cert_bytes()))
        );
        let colons: Vec<String> = (0..32).map(|i| HEX[2 * i..2 * i + 2].to_string()).collect();
        assert_eq!(colons.join(":").parse(), Ok(Pin::Certificate(cert_bytes())));
    }

    #[test]
    fn spki_in_base64_bare_or_with_curls_prefix() {
        let digest = [7u8; 32];
        let b64 = spki_base64(&digest);
        assert_eq!(b64.len(), 44);
        assert_eq!(b64.parse(), Ok(Pin::Spki(digest)));
        assert_eq!(format!("sha256//{b64}").parse(), Ok(Pin::Spki(digest)));
        assert_eq!(b64.trim_end_matches('=').parse(), Ok(Pin::Spki(digest)));
    }

    #[test]
    fn other_values_are_refused_with_both_forms_named() {
        for bad in [
            "",
            "abc",
            &HEX[..62],
            &format!("{HEX}00"),
            "sha256//",
            "sha256//AAAA",
            // base64 of 33 bytes
            &base64::engine::general_purpose::STANDARD.encode([1u8; 33]),
            // hex under curl's prefix
            &format!("sha256//{HEX}"),
            "not a pin at all",
        ] {
            let e = bad.parse::<Pin>().unwrap_err().to_string();
            assert!(
                e.contains("64 hex digits") && e.contains("RFC 7469"),
                "{bad}: {e}"
            );
        }
    }

    #[test]
    fn matching_says_which_form() {
        let cert = [1u8; 32];
        let key = [2u8; 32];
        assert_eq!(matching(&[], &cert, &key), None);
        assert_eq!(
            matching(&[Pin::Spki([9; 32]), Pin::Spki(key)], &cert, &key),
            Some(PinForm::SpkiSha256)
        );
        assert_eq!(
            matching(&[Pin::Certificate(cert)], &cert, &key),
            Some(PinForm::CertificateSha256)
        );
        // A certificate digest never matches as a key digest.
        assert_eq!(matching(&[Pin::Spki(cert)], &cert, &key), None);
    }
}
