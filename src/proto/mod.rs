//! Sans-I/O protocol cores: bytes in, typed replies out; commands formatted as bytes.
//!
//! Nothing here touches a socket or a clock. The session layer feeds bytes into a
//! [`LineReader`] and asks the protocol modules for complete replies. Every protocol
//! security decision (STARTTLS replies, PREAUTH, LOGINDISABLED, what counts as success)
//! is made here, so it is unit-testable byte for byte and fuzzable.

pub mod folders;
pub mod imap;
pub mod lines;
pub mod pop3;
pub mod sasl;
pub mod smtp;

pub use lines::LineReader;

/// Limits on what a server may send us.
pub const MAX_LINE: usize = 16 * 1024;
/// Total bytes of one (multi-line) reply.
pub const MAX_REPLY: usize = 256 * 1024;
/// Lines of one multi-line reply (SMTP `250-` continuation, POP3 CAPA).
pub const MAX_REPLY_LINES: usize = 1000;
/// Largest IMAP literal we accept in a reply.
pub const MAX_LITERAL: u64 = 64 * 1024;

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

/// Lossy, bounded text of a server line, for messages and reports.
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
