//! Sans-I/O protocol cores: bytes in, typed replies out; commands formatted as bytes.
//!
//! Nothing here touches a socket or a clock. The session layer feeds bytes into a
//! [`LineReader`] and asks the protocol modules for complete replies. Every protocol
//! security decision (STARTTLS replies, PREAUTH, LOGINDISABLED, what counts as success)
//! is made here, so it is unit-testable byte for byte and fuzzable.

// No unwrap or expect outside tests; a remaining expect states its invariant (issue 13).
#![deny(clippy::unwrap_used, clippy::expect_used)]

pub mod client;
#[cfg(test)]
pub(crate) mod client_test_support;
pub mod folders;
pub mod guard;
pub mod imap;
pub mod lines;
pub mod pop3;
pub mod refusal;
pub mod sasl;
pub mod smtp;

pub use lines::LineReader;

use crate::model::{Mechanism, Protocol};

/// Preference among login mechanisms inside each class (SCRAM before CRAM-MD5 before APOP;
/// SASL PLAIN, which takes an initial response, before LOGIN and the legacy commands).
pub const PREFERENCE: [Mechanism; 10] = [
    Mechanism::ScramSha256,
    Mechanism::ScramSha1,
    Mechanism::CramMd5,
    Mechanism::Apop,
    Mechanism::Plain,
    Mechanism::Login,
    Mechanism::LoginCommand,
    Mechanism::User,
    Mechanism::OAuthBearer,
    Mechanism::XOAuth2,
];

/// Position of `m` in [`PREFERENCE`].
pub fn preference(m: Mechanism) -> usize {
    PREFERENCE
        .iter()
        .position(|p| *p == m)
        .unwrap_or(PREFERENCE.len())
}

/// The login mechanisms a server offers, from what it advertised on the connection a login
/// would use (capabilities read after TLS), in [`PREFERENCE`] order. `sasl` is the SASL list
/// (IMAP `AUTH=`, POP3 `SASL`, SMTP `AUTH`); the legacy commands come from the protocol's
/// own rules: IMAP `LOGIN` unless `LOGINDISABLED`, POP3 `USER`/`PASS` when advertised (or
/// no CAPA at all), POP3 `APOP` when the greeting carried a timestamp that may be used.
pub fn offered_mechanisms(
    protocol: Protocol,
    capabilities: &[String],
    sasl: &[String],
    apop_timestamp: bool,
) -> Vec<Mechanism> {
    let mut out: Vec<Mechanism> = sasl
        .iter()
        .filter_map(|n| Mechanism::from_name(n))
        .filter(|m| sasl::Mechanism::from_model(*m).is_some())
        .collect();
    match protocol {
        Protocol::Imap => {
            if !imap::login_disabled(capabilities) {
                out.push(Mechanism::LoginCommand);
            }
        }
        Protocol::Pop3 => {
            if pop3::user_pass_offered(capabilities) {
                out.push(Mechanism::User);
            }
            if apop_timestamp {
                out.push(Mechanism::Apop);
            }
        }
        Protocol::Smtp => {}
    }
    out.sort_by_key(|m| preference(*m));
    out.dedup();
    out
}

/// Limits on what a server may send us.
pub const MAX_LINE: usize = 16 * 1024;
/// Total bytes of one (multi-line) reply.
pub const MAX_REPLY: usize = 256 * 1024;
/// Lines of one multi-line reply (SMTP `250-` continuation, POP3 CAPA).
pub const MAX_REPLY_LINES: usize = 1000;
/// Largest IMAP literal we accept in a reply.
pub const MAX_LITERAL: u64 = 64 * 1024;

#[cfg(test)]
mod offered_tests {
    use super::*;

    fn caps(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_string).collect()
    }

    #[test]
    fn logindisabled_leaves_authenticate() {
        let c = caps("IMAP4REV1 LOGINDISABLED AUTH=CRAM-MD5");
        assert_eq!(
            offered_mechanisms(Protocol::Imap, &c, &imap::auth_mechanisms(&c), false),
            [Mechanism::CramMd5]
        );
        let c = caps("IMAP4REV1 AUTH=PLAIN AUTH=SCRAM-SHA-256 AUTH=XOAUTH2");
        assert_eq!(
            offered_mechanisms(Protocol::Imap, &c, &imap::auth_mechanisms(&c), false),
            [
                Mechanism::ScramSha256,
                Mechanism::Plain,
                Mechanism::LoginCommand,
                Mechanism::XOAuth2
            ]
        );
    }

    #[test]
    fn legacy_names_are_not_taken_from_sasl_lists() {
        let sasl = caps("USER APOP LOGIN-COMMAND LOGIN GSSAPI");
        assert_eq!(
            offered_mechanisms(Protocol::Smtp, &[], &sasl, true),
            [Mechanism::Login]
        );
        assert_eq!(
            offered_mechanisms(Protocol::Pop3, &caps("SASL STLS"), &caps("CRAM-MD5"), true),
            [Mechanism::CramMd5, Mechanism::Apop]
        );
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProtoError {
    #[error("the server sent a line longer than {limit} bytes")]
    LineTooLong { limit: usize },
    #[error("the server's reply is larger than {limit} bytes")]
    ReplyTooLarge { limit: usize },
    #[error("the server's reply has more than {limit} lines")]
    TooManyLines { limit: usize },
    #[error("the server announced a {size}-byte literal (limit {limit})")]
    LiteralTooLarge { size: u64, limit: u64 },
    #[error("unexpected reply from the server: {0}")]
    Malformed(String),
}

/// A server line as text for PARSING: lossy UTF-8, never shortened (its length is bounded by
/// the protocol limits of the framing, [`MAX_LINE`] and [`MAX_REPLY`]). Server data is parsed
/// from this, never from [`text`], which is made for display.
pub fn lossy(line: &[u8]) -> String {
    String::from_utf8_lossy(line).into_owned()
}

/// Lossy, bounded text of a server line, for DISPLAY only (messages and reports).
pub fn text(line: &[u8]) -> String {
    const MAX: usize = 512;
    let s = String::from_utf8_lossy(line);
    if s.chars().count() > MAX {
        let cut: String = s.chars().take(MAX).collect();
        format!("{cut}…")
    } else {
        s.into_owned()
    }
}

/// A decision about whether the connection may be upgraded to TLS now.
/// After the positive STARTTLS reply, any byte already buffered was sent by someone
/// before the handshake and would be read as if it came from inside TLS: abort.
pub fn starttls_buffer_check(buffered: usize) -> Result<(), StartTlsRefusal> {
    if buffered == 0 {
        Ok(())
    } else {
        Err(StartTlsRefusal::Injection { buffered })
    }
}

/// Why a STARTTLS upgrade did not happen. Never followed by plaintext use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StartTlsRefusal {
    /// The server does not advertise STARTTLS / STLS.
    NotOffered,
    /// The server answered the command with something other than the exact positive reply.
    Rejected(String),
    /// Bytes followed the positive reply before the handshake.
    Injection { buffered: usize },
    /// IMAP PREAUTH greeting: already authenticated in plaintext, STARTTLS impossible.
    PreAuth(String),
}
