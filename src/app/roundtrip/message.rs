//! The test message, composed with lettre's message builder (headers encoded and folded by
//! lettre, addresses validated by it). Pure: no I/O.

use std::time::SystemTime;

use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use lettre::message::Mailbox;
use lettre::Message;

/// The header that carries the token; the round trip finds the message by it.
pub const TOKEN_HEADER: &str = "X-Mailsetup-Token";
pub const SUBJECT: &str = "mailsetup round-trip test";

/// A composed test message.
#[derive(Debug, Clone)]
pub struct TestMessage {
    pub token: String,
    pub message_id: String,
    pub from: String,
    pub to: String,
    /// RFC 5322 bytes, CRLF line ends (not yet dot-stuffed).
    pub bytes: Vec<u8>,
}

/// Why a test message could not be composed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ComposeError(String);

/// A fresh token: a random UUID, as 32 lower-case hex digits (fits a header, a Message-ID and
/// an IMAP SEARCH atom without quoting).
pub fn new_token() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

/// Composes the message from `from` to `to`, carrying `token`. `deleted_afterwards`: the
/// body says mailsetup deletes it again (the round trip to the account itself); otherwise
/// (`--round-trip-to`) that the recipient may delete it.
pub fn compose(
    from: &str,
    to: &str,
    token: &str,
    date: SystemTime,
    deleted_afterwards: bool,
) -> Result<TestMessage, ComposeError> {
    let from_box: Mailbox = from
        .parse()
        .map_err(|e| ComposeError(format!("{from:?} can't be a sender address: {e}")))?;
    let to_box: Mailbox = to
        .parse()
        .map_err(|e| ComposeError(format!("{to:?} can't be a recipient address: {e}")))?;
    let domain = from_box.email.domain().to_string();
    let message_id = format!("<mailsetup-roundtrip.{token}@{domain}>");
    let token_header = HeaderName::new_from_ascii(TOKEN_HEADER.to_string())
        .map_err(|e| ComposeError(format!("header name: {e}")))?;
    // Lines under 76 characters: the body stays 7bit, readable as is.
    let body = if deleted_afterwards {
        format!(
            "This is a test message from mailsetup (`mailsetup check --round-trip`).\r\n\
             It checks that mail sent through your outgoing server arrives in your\r\n\
             mailbox.\r\n\
             \r\n\
             mailsetup deletes it again as soon as it has arrived. If you can read\r\n\
             this, the clean-up did not happen: you may delete it yourself.\r\n\
             \r\n\
             Token: {token}\r\n"
        )
    } else {
        format!(
            "This is a test message from mailsetup (`mailsetup check --round-trip-to`),\r\n\
             sent by {from} to check that mail from that account is delivered.\r\n\
             \r\n\
             Nothing needs to be done about it; you may delete it.\r\n\
             \r\n\
             Token: {token}\r\n"
        )
    };
    let message = Message::builder()
        .from(from_box)
        .to(to_box)
        .subject(SUBJECT)
        .date(date)
        .message_id(Some(message_id.clone()))
        .raw_header(HeaderValue::new(token_header, token.to_string()))
        .header(ContentType::TEXT_PLAIN)
        .body(body)
        .map_err(|e| ComposeError(format!("composing the test message: {e}")))?;
    Ok(TestMessage {
        token: token.to_string(),
        message_id,
        from: from.to_string(),
        to: to.to_string(),
        bytes: message.formatted(),
    })
}

/// The value of `name` in a header block (unfolded), first occurrence.
pub fn header_value(headers: &[u8], name: &str) -> Option<String> {
    header_values(headers, name).into_iter().next()
}

/// Every value of `name` in a header block, in order, unfolded.
pub fn header_values(headers: &[u8], name: &str) -> Vec<String> {
    let text = String::from_utf8_lossy(headers);
    let mut out = Vec::new();
    let mut current: Option<String> = None;
    for line in text.split('\n') {
        let line = line.trim_end_matches('\r');
        if line.is_empty() {
            break;
        }
        if line.starts_with([' ', '\t']) {
            if let Some(c) = current.as_mut() {
                c.push(' ');
                c.push_str(line.trim());
            }
            continue;
        }
        if let Some(done) = current.take() {
            out.push(done);
        }
        if let Some((n, v)) = line.split_once(':') {
            if n.trim().eq_ignore_ascii_case(name) {
                current = Some(v.trim().to_string());
            }
        }
    }
    if let Some(done) = current {
        out.push(done);
    }
    out
}

/// Whether a header block is the test message carrying `token`.
pub fn carries_token(headers: &[u8], token: &str) -> bool {
    header_values(headers, TOKEN_HEADER)
        .iter()
        .any(|v| v == token)
}

/// SMTP DATA transparency (RFC 5321 §4.5.2): a line starting with `.` gets another `.`;
/// the terminating `.` line is appended.
pub fn dot_stuffed(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len() + 8);
    let mut at_line_start = true;
    for &b in bytes {
        if at_line_start && b == b'.' {
            out.push(b'.');
        }
        out.push(b);
        at_line_start = b == b'\n';
    }
    if !out.ends_with(b"\r\n") {
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b".\r\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> TestMessage {
        compose(
            "demo@example.test",
            "demo@example.test",
            "0123456789abcdef0123456789abcdef",
            SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_767_225_600),
            true,
        )
        .unwrap()
    }

    #[test]
    fn the_message_carries_the_token_in_a_header_and_the_message_id() {
        let m = sample();
        let text = String::from_utf8(m.bytes.clone()).unwrap();
        assert!(
            text.contains("X-Mailsetup-Token: 0123456789abcdef0123456789abcdef\r\n"),
            "{text}"
        );
        assert_eq!(
            m.message_id,
            "<mailsetup-roundtrip.0123456789abcdef0123456789abcdef@example.test>"
        );
        assert_eq!(
            header_value(&m.bytes, "message-id").as_deref(),
            Some(m.message_id.as_str())
        );
        assert!(text.contains("From: demo@example.test\r\n"));
        assert!(text.contains("To: demo@example.test\r\n"));
        assert!(text.contains("Subject: mailsetup round-trip test\r\n"));
        assert!(
            text.contains("Date: Thu, 01 Jan 2026 00:00:00 +0000\r\n"),
            "{text}"
        );
        assert!(text.contains("as soon as it has arrived"));
        assert!(text.contains("Content-Transfer-Encoding: 7bit"), "{text}");
        assert!(carries_token(&m.bytes, &m.token));
        assert!(!carries_token(&m.bytes, "0123"));
        assert!(m.bytes.is_ascii());
    }

    #[test]
    fn addresses_that_would_inject_are_refused() {
        let t = new_token();
        assert_eq!(t.len(), 32);
        assert!(compose(
            "a@b.test\r\nBcc: x@y.test",
            "a@b.test",
            &t,
            SystemTime::now(),
            true
        )
        .is_err());
        assert!(compose(
            "a@b.test",
            "a@b.test>\r\nRCPT TO:<x@y.test",
            &t,
            SystemTime::now(),
            false
        )
        .is_err());
        assert_ne!(new_token(), t);
    }

    #[test]
    fn a_message_to_someone_else_does_not_promise_its_deletion() {
        let m = compose(
            "a@b.test",
            "c@d.test",
            &new_token(),
            SystemTime::now(),
            false,
        )
        .unwrap();
        let text = String::from_utf8(m.bytes).unwrap();
        assert!(text.contains("you may delete it"), "{text}");
        assert!(!text.contains("deletes it again"), "{text}");
    }

    #[test]
    fn folded_headers_are_unfolded() {
        let h = b"Received: from a\r\n\tby b; Thu\r\nReceived: from c\r\nX: y\r\n\r\nbody: no\r\n";
        assert_eq!(
            header_values(h, "received"),
            vec!["from a by b; Thu".to_string(), "from c".to_string()]
        );
        assert_eq!(header_value(h, "body"), None);
    }

    #[test]
    fn dot_stuffing() {
        assert_eq!(
            dot_stuffed(b"a\r\n.b\r\n..\r\n"),
            b"a\r\n..b\r\n...\r\n.\r\n"
        );
        assert_eq!(dot_stuffed(b".x"), b"..x\r\n.\r\n");
    }
}
