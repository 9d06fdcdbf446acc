//! SASL client mechanisms against hostile challenges: every mechanism answers a
//! fuzzer-chosen sequence of challenges; it must never panic and must give up after
//! `MAX_ROUND_TRIPS`.
//!
//! Input: byte 0 = flags, then challenges separated by `\n`.
//! Flags: bits 0-2 mechanism (mod 7); bit 3 skip `initial_response()`; bit 4 random SCRAM
//! nonce (default: the fixed nonce `fyko+d2lbbFgONRv9qkxdawL`, so SCRAM server messages can
//! extend it); bit 5 challenges are base64 text for `decode_challenge` (else raw bytes);
//! bit 6 the last challenge is passed to `success_data` instead of `step`.

#![no_main]

use libfuzzer_sys::fuzz_target;
use mailsetup::proto::sasl::{self, Mechanism, SaslClient, SaslError, MAX_ROUND_TRIPS};

/// Client nonces of the RFC 5802 (SCRAM-SHA-1) and RFC 7677 (SCRAM-SHA-256) examples.
const NONCE_SHA1: &str = "fyko+d2lbbFgONRv9qkxdawL";
const NONCE_SHA256: &str = "rOprNGfwEbeRWgbNEkqO";

/// SCRAM iteration counts up to 1,000,000 are accepted by design (a bounded cost, about a
/// second of PBKDF2); the target skips challenges above this so the fuzzer keeps its speed.
const MAX_FUZZ_ITERATIONS: u32 = 4096;

fuzz_target!(|data: &[u8]| {
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    let mech = Mechanism::ALL[usize::from(flags & 7) % Mechanism::ALL.len()];
    assert_eq!(Mechanism::from_name(mech.name()), Some(mech));
    let mut client = SaslClient::new(mech, "user", "pencil", "mail.example.com", 993);
    if flags & 16 == 0 {
        let nonce = match mech {
            Mechanism::ScramSha1 => NONCE_SHA1,
            _ => NONCE_SHA256,
        };
        client = client.with_nonce(nonce);
    }
    if flags & 8 == 0 {
        let _ = client.initial_response();
    }

    let mut pieces: Vec<&[u8]> = rest.split(|&b| b == b'\n').collect();
    let final_data = if flags & 64 != 0 { pieces.pop() } else { None };

    let mut steps = 0usize;
    for piece in pieces {
        let text = String::from_utf8_lossy(piece);
        let decoded = sasl::decode_challenge(&text);
        let challenge: Vec<u8> = if flags & 32 != 0 {
            match decoded {
                Ok(d) => d,
                Err(_) => continue, // the session fails the login here
            }
        } else {
            piece.to_vec()
        };
        if expensive(&challenge) {
            continue;
        }
        steps += 1;
        let result = client.step(&challenge);
        if steps > MAX_ROUND_TRIPS {
            assert!(
                matches!(result, Err(SaslError::TooManyRoundTrips(_))),
                "{mech:?} answered challenge #{steps}: {:?}",
                result.as_ref().map(|r| r.len())
            );
        }
        if let Ok(r) = &result {
            let _ = sasl::encode_response(r);
        }
    }
    // Whatever happened so far, the exchange is bounded.
    while steps <= MAX_ROUND_TRIPS {
        steps += 1;
        let result = client.step(b"");
        if steps > MAX_ROUND_TRIPS {
            assert!(matches!(result, Err(SaslError::TooManyRoundTrips(_))));
        }
    }

    if let Some(d) = final_data {
        if !expensive(d) {
            let _ = client.success_data(d);
        }
    }
    let _ = client.check_success();
});

/// A SCRAM server-first message with an iteration count above [`MAX_FUZZ_ITERATIONS`].
fn expensive(challenge: &[u8]) -> bool {
    let Ok(text) = std::str::from_utf8(challenge) else {
        return false;
    };
    text.split(',').any(|part| {
        part.strip_prefix("i=")
            .and_then(|i| i.parse::<u32>().ok())
            .is_some_and(|i| i > MAX_FUZZ_ITERATIONS)
    })
}
