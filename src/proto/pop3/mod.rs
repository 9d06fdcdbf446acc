//! POP3 client side (RFC 1939, CAPA RFC 2449, STLS RFC 2595, AUTH RFC 5034).

pub mod client;

pub use client::Client;

use super::{lossy, text, LineReader, ProtoError, StartTlsRefusal, MAX_REPLY, MAX_REPLY_LINES};

/// A single-line status reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    Ok(String),
    Err(String),
    /// `+ base64`: a SASL continuation during AUTH.
    Continuation(String),
}

/// Parses one status line. Anything but `+OK`, `-ERR` or `+ ` is a protocol error.
pub fn parse_reply(line: &[u8]) -> Result<Reply, ProtoError> {
    let s = lossy(line);
    let upper = s.to_ascii_uppercase();
    if upper == "+OK" || upper.starts_with("+OK ") {
        Ok(Reply::Ok(s.get(4..).unwrap_or("").to_string()))
    } else if upper == "-ERR" || upper.starts_with("-ERR ") {
        Ok(Reply::Err(s.get(5..).unwrap_or("").to_string()))
    } else if let Some(rest) = s.strip_prefix("+ ") {
        Ok(Reply::Continuation(rest.to_string()))
    } else if s == "+" {
        Ok(Reply::Continuation(String::new()))
    } else {
        Err(ProtoError::Malformed(text(line)))
    }
}

/// The next single-line reply, `None` when more bytes are needed.
pub fn next_reply(r: &mut LineReader) -> Result<Option<Reply>, ProtoError> {
    match r.next_line()? {
        Some(line) => parse_reply(&line).map(Some),
        None => Ok(None),
    }
}

/// Collects the body of a multi-line reply (after its `+OK` line) up to the lone `.`.
#[derive(Debug, Default)]
pub struct MultiLine {
    lines: Vec<String>,
    bytes: usize,
}

impl MultiLine {
    pub fn new() -> Self {
        Self::default()
    }

    /// The complete body (dot-unstuffed), `None` while more is needed.
    pub fn next(&mut self, r: &mut LineReader) -> Result<Option<Vec<String>>, ProtoError> {
        while let Some(line) = r.next_line()? {
            if line == b"." {
                return Ok(Some(std::mem::take(&mut self.lines)));
            }
            self.bytes += line.len() + 2;
            if self.bytes > MAX_REPLY {
                return Err(ProtoError::ReplyTooLarge { limit: MAX_REPLY });
            }
            if self.lines.len() >= MAX_REPLY_LINES {
                return Err(ProtoError::TooManyLines {
                    limit: MAX_REPLY_LINES,
                });
            }
            let line = line.strip_prefix(b".").unwrap_or(&line);
            self.lines.push(lossy(line));
        }
        Ok(None)
    }
}

/// Server greeting: `+OK`, with the APOP timestamp when present (RFC 1939 §7).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Greeting {
    pub text: String,
    pub apop_timestamp: Option<String>,
}

pub fn check_greeting(reply: &Reply) -> Result<Greeting, ProtoError> {
    match reply {
        Reply::Ok(t) => Ok(Greeting {
            text: t.clone(),
            apop_timestamp: apop_timestamp(t),
        }),
        Reply::Err(t) => Err(ProtoError::Malformed(format!(
            "server refused service: -ERR {t}"
        ))),
        Reply::Continuation(t) => Err(ProtoError::Malformed(format!("+ {t}"))),
    }
}

/// `<...@...>` msg-id in the greeting, used by APOP.
fn apop_timestamp(t: &str) -> Option<String> {
    let start = t.find('<')?;
    let end = start + t[start..].find('>')?;
    let ts = &t[start..=end];
    (ts.contains('@') && ts.len() <= 256 && ts.bytes().all(|b| b.is_ascii_graphic()))
        .then(|| ts.to_string())
}

/// Capabilities from a CAPA body: the first word of each line, upper-case.
pub fn capabilities(lines: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for l in lines {
        if let Some(word) = l.split_ascii_whitespace().next() {
            let word = word.to_ascii_uppercase();
            if !out.contains(&word) {
                out.push(word);
            }
        }
    }
    out
}

/// SASL mechanisms from the `SASL` line of a CAPA body.
pub fn auth_mechanisms(lines: &[String]) -> Vec<String> {
    lines
        .iter()
        .filter_map(|l| {
            let mut words = l.split_ascii_whitespace();
            words
                .next()
                .filter(|w| w.eq_ignore_ascii_case("SASL"))
                .map(|_| words.map(|w| w.to_ascii_uppercase()).collect::<Vec<_>>())
        })
        .flatten()
        .collect()
}

/// USER/PASS is available: advertised in CAPA, or assumed when the server has no CAPA
/// (RFC 1939 servers predate it).
pub fn user_pass_offered(caps: &[String]) -> bool {
    caps.is_empty() || caps.iter().any(|c| c == "USER")
}

pub fn starttls_offered(caps: &[String]) -> Result<(), StartTlsRefusal> {
    if caps.iter().any(|c| c == "STLS") {
        Ok(())
    } else {
        Err(StartTlsRefusal::NotOffered)
    }
}

/// Only `+OK` to our STLS allows the upgrade.
pub fn check_stls_reply(reply: &Reply) -> Result<(), StartTlsRefusal> {
    match reply {
        Reply::Ok(_) => Ok(()),
        Reply::Err(t) => Err(StartTlsRefusal::Rejected(format!("-ERR {t}"))),
        Reply::Continuation(t) => Err(StartTlsRefusal::Rejected(format!("+ {t}"))),
    }
}

/// `+OK messages octets` from STAT (RFC 1939 §5).
pub fn parse_stat(text: &str) -> Option<(u64, u64)> {
    let mut w = text.split_ascii_whitespace();
    Some((w.next()?.parse().ok()?, w.next()?.parse().ok()?))
}

/// `COMMAND\r\n`.
pub fn command(cmd: &str) -> Vec<u8> {
    format!("{cmd}\r\n").into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn greeting_with_apop_timestamp() {
        let r = parse_reply(b"+OK Dovecot ready. <1896.697170952@dbc.mtview.ca.us>").unwrap();
        let g = check_greeting(&r).unwrap();
        assert_eq!(
            g.apop_timestamp.as_deref(),
            Some("<1896.697170952@dbc.mtview.ca.us>")
        );
        let g = check_greeting(&parse_reply(b"+OK hi").unwrap()).unwrap();
        assert_eq!(g.apop_timestamp, None);
    }

    #[test]
    fn replies() {
        assert_eq!(parse_reply(b"+OK").unwrap(), Reply::Ok(String::new()));
        assert_eq!(
            parse_reply(b"-ERR nope").unwrap(),
            Reply::Err("nope".into())
        );
        assert_eq!(
            parse_reply(b"+ abc").unwrap(),
            Reply::Continuation("abc".into())
        );
        assert!(parse_reply(b"* OK imap?").is_err());
        assert!(parse_reply(b"+OKAY").is_err());
    }

    #[test]
    fn capa_body() {
        let mut r = LineReader::new(1024);
        r.push(b"TOP\r\nUSER\r\nSASL PLAIN login CRAM-MD5\r\nSTLS\r\n..odd\r\n.\r\n");
        let body = MultiLine::new().next(&mut r).unwrap().unwrap();
        assert_eq!(capabilities(&body), ["TOP", "USER", "SASL", "STLS", ".ODD"]);
        assert_eq!(auth_mechanisms(&body), ["PLAIN", "LOGIN", "CRAM-MD5"]);
        assert!(starttls_offered(&capabilities(&body)).is_ok());
    }

    #[test]
    fn a_long_sasl_line_keeps_its_last_mechanism() {
        let filler: String = (0..300).map(|i| format!("X-MECH-{i} ")).collect();
        let body = format!("SASL {filler}CRAM-MD5\r\n.\r\n");
        let mut r = LineReader::new(crate::proto::MAX_LINE);
        r.push(body.as_bytes());
        let lines = MultiLine::new().next(&mut r).unwrap().unwrap();
        assert_eq!(
            auth_mechanisms(&lines).last().map(String::as_str),
            Some("CRAM-MD5")
        );
        let long_ok = format!("+OK {}", "x".repeat(3000));
        assert_eq!(
            parse_reply(long_ok.as_bytes()).unwrap(),
            Reply::Ok("x".repeat(3000))
        );
    }

    #[test]
    fn endless_capa_is_bounded() {
        let mut r = LineReader::new(1024);
        let mut m = MultiLine::new();
        let mut err = None;
        for _ in 0..2000 {
            r.push(b"X\r\n");
            if let Err(e) = m.next(&mut r) {
                err = Some(e);
                break;
            }
        }
        assert!(matches!(err, Some(ProtoError::TooManyLines { .. })));
    }

    #[test]
    fn stat() {
        assert_eq!(parse_stat("3 3840"), Some((3, 3840)));
        assert_eq!(parse_stat("x"), None);
    }

    #[test]
    fn stls_needs_ok() {
        assert!(check_stls_reply(&Reply::Ok("Begin TLS".into())).is_ok());
        assert!(check_stls_reply(&Reply::Err("no".into())).is_err());
        assert!(check_stls_reply(&Reply::Continuation(String::new())).is_err());
    }
}
