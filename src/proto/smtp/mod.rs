//! SMTP submission client side (RFC 5321, STARTTLS RFC 3207, AUTH RFC 4954).

pub mod client;

pub use client::Client;

use super::{lossy, text, LineReader, ProtoError, StartTlsRefusal, MAX_REPLY, MAX_REPLY_LINES};

/// A complete (possibly multi-line) reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub code: u16,
    pub lines: Vec<String>,
}

impl Reply {
    pub fn text(&self) -> String {
        self.lines.join(" / ")
    }
    pub fn is_positive(&self) -> bool {
        (200..400).contains(&self.code)
    }
}

/// Accumulates `ddd-text` lines until the final `ddd text`.
#[derive(Debug, Default)]
pub struct ReplyParser {
    code: Option<u16>,
    lines: Vec<String>,
    bytes: usize,
}

impl ReplyParser {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn next(&mut self, r: &mut LineReader) -> Result<Option<Reply>, ProtoError> {
        while let Some(line) = r.next_line()? {
            self.bytes += line.len() + 2;
            if self.bytes > MAX_REPLY {
                return Err(ProtoError::ReplyTooLarge { limit: MAX_REPLY });
            }
            if self.lines.len() >= MAX_REPLY_LINES {
                return Err(ProtoError::TooManyLines {
                    limit: MAX_REPLY_LINES,
                });
            }
            let (code, last, rest) = split_line(&line)?;
            if let Some(prev) = self.code {
                if prev != code {
                    return Err(ProtoError::Malformed(format!(
                        "reply code changed from {prev} to {code} inside one reply"
                    )));
                }
            }
            self.code = Some(code);
            self.lines.push(rest);
            if last {
                self.code = None;
                self.bytes = 0;
                return Ok(Some(Reply {
                    code,
                    lines: std::mem::take(&mut self.lines),
                }));
            }
        }
        Ok(None)
    }
}

fn split_line(line: &[u8]) -> Result<(u16, bool, String), ProtoError> {
    let bad = || ProtoError::Malformed(text(line));
    if line.len() < 3
        || !line[..3].iter().all(u8::is_ascii_digit)
        || !(b'2'..=b'5').contains(&line[0])
    {
        return Err(bad());
    }
    let code: u16 = std::str::from_utf8(&line[..3])
        .map_err(|_| bad())?
        .parse()
        .map_err(|_| bad())?;
    match line.get(3) {
        None => Ok((code, true, String::new())),
        Some(b' ') => Ok((code, true, lossy(&line[4..]))),
        Some(b'-') => Ok((code, false, lossy(&line[4..]))),
        Some(_) => Err(bad()),
    }
}

/// EHLO keywords (upper-case), skipping the first line (the server's name).
pub fn ehlo_keywords(reply: &Reply) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for l in reply.lines.iter().skip(1) {
        if let Some(word) = l.split_ascii_whitespace().next() {
            let word = word.to_ascii_uppercase();
            let word = word.split('=').next().unwrap_or_default().to_string();
            if !word.is_empty() && !out.contains(&word) {
                out.push(word);
            }
        }
    }
    out
}

/// The EHLO lines after the first, as capability strings (keyword and parameters).
pub fn ehlo_capabilities(reply: &Reply) -> Vec<String> {
    reply
        .lines
        .iter()
        .skip(1)
        .map(|l| l.trim().to_string())
        .filter(|l| !l.is_empty())
        .collect()
}

/// SASL mechanisms from `AUTH ...` (and the old `AUTH=...`) EHLO lines.
pub fn auth_mechanisms(reply: &Reply) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for l in reply.lines.iter().skip(1) {
        let upper = l.to_ascii_uppercase();
        let rest = upper
            .strip_prefix("AUTH ")
            .or_else(|| upper.strip_prefix("AUTH="));
        if let Some(rest) = rest {
            for m in rest.split_ascii_whitespace() {
                if !out.iter().any(|o| o == m) {
                    out.push(m.to_string());
                }
            }
        }
    }
    out
}

pub fn check_greeting(reply: &Reply) -> Result<(), ProtoError> {
    if reply.code == 220 {
        Ok(())
    } else {
        Err(ProtoError::Malformed(format!(
            "server refused service: {} {}",
            reply.code,
            reply.text()
        )))
    }
}

pub fn starttls_offered(keywords: &[String]) -> Result<(), StartTlsRefusal> {
    if keywords.iter().any(|k| k == "STARTTLS") {
        Ok(())
    } else {
        Err(StartTlsRefusal::NotOffered)
    }
}

/// Only `220` to our STARTTLS allows the upgrade (RFC 3207 §4).
pub fn check_starttls_reply(reply: &Reply) -> Result<(), StartTlsRefusal> {
    if reply.code == 220 {
        Ok(())
    } else {
        Err(StartTlsRefusal::Rejected(format!(
            "{} {}",
            reply.code,
            reply.text()
        )))
    }
}

pub fn command(cmd: &str) -> Vec<u8> {
    format!("{cmd}\r\n").into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn replies(bytes: &[u8]) -> Result<Vec<Reply>, ProtoError> {
        let mut r = LineReader::new(1024);
        r.push(bytes);
        let mut p = ReplyParser::new();
        let mut out = vec![];
        while let Some(x) = p.next(&mut r)? {
            out.push(x);
        }
        Ok(out)
    }

    #[test]
    fn ehlo_reply() {
        let rs = replies(b"250-mail.example.test\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250-STARTTLS\r\n250-AUTH PLAIN LOGIN\r\n250-AUTH=PLAIN LOGIN CRAM-MD5\r\n250 8BITMIME\r\n").unwrap();
        assert_eq!(rs.len(), 1);
        let kw = ehlo_keywords(&rs[0]);
        assert_eq!(kw, ["PIPELINING", "SIZE", "STARTTLS", "AUTH", "8BITMIME"]);
        assert_eq!(auth_mechanisms(&rs[0]), ["PLAIN", "LOGIN", "CRAM-MD5"]);
        assert!(starttls_offered(&kw).is_ok());
    }

    #[test]
    fn a_long_auth_line_keeps_its_last_mechanism() {
        let filler: String = (0..300).map(|i| format!("X-MECH-{i} ")).collect();
        let bytes = format!("250-mail\r\n250-AUTH {filler}PLAIN\r\n250 STARTTLS\r\n");
        let mut r = LineReader::new(crate::proto::MAX_LINE);
        r.push(bytes.as_bytes());
        let reply = ReplyParser::new().next(&mut r).unwrap().unwrap();
        assert_eq!(
            auth_mechanisms(&reply).last().map(String::as_str),
            Some("PLAIN")
        );
        assert!(starttls_offered(&ehlo_keywords(&reply)).is_ok());
    }

    #[test]
    fn starttls_only_220() {
        for (bytes, ok) in [
            (&b"220 go ahead\r\n"[..], true),
            (b"454 TLS not available\r\n", false),
            (b"502 no\r\n", false),
            (b"354 huh\r\n", false),
            (b"250 ok\r\n", false),
        ] {
            let r = &replies(bytes).unwrap()[0];
            assert_eq!(check_starttls_reply(r).is_ok(), ok, "{bytes:?}");
        }
    }

    #[test]
    fn malformed_and_mixed_codes() {
        assert!(replies(b"250-a\r\n251 b\r\n").is_err());
        assert!(replies(b"hello\r\n").is_err());
        assert!(replies(b"999 x\r\n").is_err());
        assert!(replies(b"250x\r\n").is_err());
        assert_eq!(replies(b"220\r\n").unwrap()[0].code, 220);
    }

    #[test]
    fn endless_continuation_is_bounded() {
        let mut r = LineReader::new(1024);
        let mut p = ReplyParser::new();
        let mut err = None;
        for _ in 0..2000 {
            r.push(b"250-X\r\n");
            if let Err(e) = p.next(&mut r) {
                err = Some(e);
                break;
            }
        }
        assert!(matches!(err, Some(ProtoError::TooManyLines { .. })));
    }
}
