//! IMAP4rev1/rev2 client side, as much as probing and login need (RFC 3501, RFC 9051).

pub mod client;

pub use client::Client;

use super::{lossy, text, LineReader, ProtoError, StartTlsRefusal, MAX_LITERAL, MAX_REPLY};

/// Status of a tagged or untagged condition response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Ok,
    No,
    Bad,
    PreAuth,
    Bye,
}

/// One logical server response (literals already folded in).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Response {
    /// `* ...`: `keyword` is the upper-cased first atom after the star (for `* 3 EXISTS`,
    /// `EXISTS` with `number = Some(3)`); `status` is set for OK/NO/BAD/PREAUTH/BYE.
    Untagged {
        keyword: String,
        number: Option<u64>,
        status: Option<Status>,
        code: Option<String>,
        text: String,
    },
    /// `TAG OK|NO|BAD [CODE] text`.
    Tagged {
        tag: String,
        status: Status,
        code: Option<String>,
        text: String,
    },
    /// `+ text` (command continuation request).
    Continuation { text: String },
}

impl Response {
    /// Capabilities carried by this response: `* CAPABILITY ...` or an `[CAPABILITY ...]` code.
    pub fn capabilities(&self) -> Option<Vec<String>> {
        match self {
            Response::Untagged { keyword, text, .. } if keyword == "CAPABILITY" => {
                Some(split_capabilities(text))
            }
            Response::Untagged {
                code: Some(code), ..
            }
            | Response::Tagged {
                code: Some(code), ..
            } => {
                let (name, rest) = code.split_once(' ').unwrap_or((code, ""));
                name.eq_ignore_ascii_case("CAPABILITY")
                    .then(|| split_capabilities(rest))
            }
            _ => None,
        }
    }
}

/// Upper-cased capability atoms, deduplicated, in server order. Every atom of the line counts
/// (the line itself is bounded by the framing's 16 KiB): a server may put STARTTLS or AUTH=
/// last on a long line.
pub fn split_capabilities(s: &str) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    s.split_ascii_whitespace()
        .map(str::to_ascii_uppercase)
        .filter(|atom| seen.insert(atom.clone()))
        .collect()
}

/// `AUTH=` mechanisms from a capability list, upper-case.
pub fn auth_mechanisms(caps: &[String]) -> Vec<String> {
    caps.iter()
        .filter_map(|c| c.strip_prefix("AUTH="))
        .map(str::to_string)
        .collect()
}

/// Reassembles responses from lines, folding in `{N}` literals (bounded).
#[derive(Debug, Default)]
pub struct ResponseParser {
    acc: Vec<u8>,
    literal: Option<usize>,
}

impl ResponseParser {
    pub fn new() -> Self {
        Self::default()
    }

    /// The next complete response, or `None` when more bytes are needed.
    pub fn next(&mut self, r: &mut LineReader) -> Result<Option<Response>, ProtoError> {
        loop {
            if let Some(n) = self.literal {
                let Some(bytes) = r.take_bytes(n) else {
                    return Ok(None);
                };
                self.acc.extend_from_slice(&bytes);
                self.literal = None;
            }
            let Some(line) = r.next_line()? else {
                return Ok(None);
            };
            self.acc.extend_from_slice(&line);
            if self.acc.len() > MAX_REPLY {
                return Err(ProtoError::ReplyTooLarge { limit: MAX_REPLY });
            }
            match literal_size(&line) {
                Some(size) if size > MAX_LITERAL => {
                    return Err(ProtoError::LiteralTooLarge {
                        size,
                        limit: MAX_LITERAL,
                    })
                }
                Some(size) => {
                    self.acc.extend_from_slice(b"\r\n");
                    self.literal = Some(size as usize);
                }
                None => {
                    let full = std::mem::take(&mut self.acc);
                    return parse_response(&full).map(Some);
                }
            }
        }
    }
}

/// `{N}` or `{N+}` at the end of a line.
pub fn literal_size(line: &[u8]) -> Option<u64> {
    let inner = line.strip_suffix(b"}")?;
    let open = inner.iter().rposition(|&b| b == b'{')?;
    let digits = &inner[open + 1..];
    let digits = digits.strip_suffix(b"+").unwrap_or(digits);
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(digits)
        .ok()?
        .parse::<u64>()
        .ok()
        .or(Some(u64::MAX))
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Ok => "OK",
            Status::No => "NO",
            Status::Bad => "BAD",
            Status::PreAuth => "PREAUTH",
            Status::Bye => "BYE",
        }
    }
}

fn parse_status(word: &str) -> Option<Status> {
    match word.to_ascii_uppercase().as_str() {
        "OK" => Some(Status::Ok),
        "NO" => Some(Status::No),
        "BAD" => Some(Status::Bad),
        "PREAUTH" => Some(Status::PreAuth),
        "BYE" => Some(Status::Bye),
        _ => None,
    }
}

/// Splits `[CODE ...] text` into the code and the text.
fn split_code(rest: &str) -> (Option<String>, String) {
    if let Some(inner) = rest.strip_prefix('[') {
        if let Some(end) = inner.find(']') {
            return (
                Some(inner[..end].to_string()),
                inner[end + 1..].trim_start().to_string(),
            );
        }
    }
    (None, rest.to_string())
}

/// Parses one logical response line (from its bytes: a display cut would lose the last
/// capability atoms of a long CAPABILITY line).
pub fn parse_response(line: &[u8]) -> Result<Response, ProtoError> {
    let s = lossy(line);
    if let Some(rest) = s
        .strip_prefix("+ ")
        .or(if s == "+" { Some("") } else { None })
    {
        return Ok(Response::Continuation {
            text: rest.to_string(),
        });
    }
    let (first, rest) = s.split_once(' ').unwrap_or((s.as_str(), ""));
    if first == "*" {
        let (word, after) = rest.split_once(' ').unwrap_or((rest, ""));
        if let Ok(n) = word.parse::<u64>() {
            let (kw, tail) = after.split_once(' ').unwrap_or((after, ""));
            return Ok(Response::Untagged {
                keyword: kw.to_ascii_uppercase(),
                number: Some(n),
                status: None,
                code: None,
                text: tail.to_string(),
            });
        }
        if word.is_empty() {
            return Err(ProtoError::Malformed(text(line)));
        }
        let status = parse_status(word);
        let (code, text) = if status.is_some() {
            split_code(after)
        } else {
            (None, after.to_string())
        };
        return Ok(Response::Untagged {
            keyword: word.to_ascii_uppercase(),
            number: None,
            status,
            code,
            text,
        });
    }
    if first.is_empty()
        || !first
            .bytes()
            .all(|b| b.is_ascii_graphic() && b != b'*' && b != b'+')
    {
        return Err(ProtoError::Malformed(text(line)));
    }
    let (word, after) = rest.split_once(' ').unwrap_or((rest, ""));
    match parse_status(word) {
        Some(status @ (Status::Ok | Status::No | Status::Bad)) => {
            let (code, text) = split_code(after);
            Ok(Response::Tagged {
                tag: first.to_string(),
                status,
                code,
                text,
            })
        }
        _ => Err(ProtoError::Malformed(text(line))),
    }
}

/// Our command tags: `A1`, `A2`, ...
#[derive(Debug, Default)]
pub struct Tags(u32);

impl Tags {
    pub fn next_tag(&mut self) -> String {
        self.0 += 1;
        format!("A{}", self.0)
    }
}

/// `TAG COMMAND\r\n`.
pub fn command(tag: &str, cmd: &str) -> Vec<u8> {
    format!("{tag} {cmd}\r\n").into_bytes()
}

/// What the greeting allows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Greeting {
    /// `* OK`: capabilities included when the server put them in the greeting.
    Ok { capabilities: Option<Vec<String>> },
    /// `* PREAUTH` on an implicit-TLS connection.
    PreAuth,
}

/// Why a greeting ends the session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GreetingError {
    /// `* BYE`: the server refuses service.
    Bye(String),
    /// `* PREAUTH` before TLS: a STARTTLS endpoint can't be secured any more.
    PreAuthBeforeTls(String),
    /// Anything that is not a greeting.
    Unexpected(String),
}

/// Judges the greeting. `tls_active` is whether TLS protects the connection already.
pub fn check_greeting(resp: &Response, tls_active: bool) -> Result<Greeting, GreetingError> {
    match resp {
        Response::Untagged {
            status: Some(Status::Ok),
            ..
        } => Ok(Greeting::Ok {
            capabilities: resp.capabilities(),
        }),
        Response::Untagged {
            status: Some(Status::PreAuth),
            text,
            ..
        } => {
            if tls_active {
                Ok(Greeting::PreAuth)
            } else {
                Err(GreetingError::PreAuthBeforeTls(text.clone()))
            }
        }
        Response::Untagged {
            status: Some(Status::Bye),
            text,
            ..
        } => Err(GreetingError::Bye(text.clone())),
        other => Err(GreetingError::Unexpected(describe(other))),
    }
}

/// The outcome of a command: untagged data collected, then our tagged completion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Untagged data or a continuation request; keep reading.
    Data,
    /// Our command completed.
    Done {
        status: Status,
        code: Option<String>,
        text: String,
    },
}

/// Classifies a response while waiting for the completion of the command tagged `our_tag`.
/// A tagged reply with any other tag is a protocol violation (a reply to a command we
/// never sent: injected or desynchronised), never a completion; a `* BYE` ends the session.
pub fn expect_completion(resp: &Response, our_tag: &str) -> Result<Step, ProtoError> {
    match resp {
        Response::Tagged {
            tag,
            status,
            code,
            text,
        } => {
            if tag == our_tag {
                Ok(Step::Done {
                    status: *status,
                    code: code.clone(),
                    text: text.clone(),
                })
            } else {
                Err(ProtoError::Malformed(format!(
                    "reply tagged {tag:?} while waiting for {our_tag:?}"
                )))
            }
        }
        Response::Untagged {
            status: Some(Status::Bye),
            text,
            ..
        } => Err(ProtoError::Malformed(format!(
            "server closed the session: BYE {text}"
        ))),
        _ => Ok(Step::Data),
    }
}

/// Whether a capability list lets us ask for STARTTLS.
pub fn starttls_offered(caps: &[String]) -> Result<(), StartTlsRefusal> {
    if caps.iter().any(|c| c == "STARTTLS") {
        Ok(())
    } else {
        Err(StartTlsRefusal::NotOffered)
    }
}

/// Judges the completion of our STARTTLS command: only the tagged OK counts.
pub fn check_starttls_reply(status: Status, text: &str) -> Result<(), StartTlsRefusal> {
    match status {
        Status::Ok => Ok(()),
        other => Err(StartTlsRefusal::Rejected(format!(
            "{} {text}",
            other.as_str()
        ))),
    }
}

/// `LOGINDISABLED`: the server forbids LOGIN on this connection (RFC 3501 §6.2.3).
pub fn login_disabled(caps: &[String]) -> bool {
    caps.iter().any(|c| c == "LOGINDISABLED")
}

/// Resources from the text of a `* QUOTA root (STORAGE used limit ...)` response (RFC 9208),
/// as (resource, usage, limit); STORAGE is in KiB.
pub fn parse_quota(text: &str) -> Vec<(String, u64, u64)> {
    let Some(open) = text.find('(') else {
        return vec![];
    };
    let Some(close) = text[open..].find(')') else {
        return vec![];
    };
    let words: Vec<&str> = text[open + 1..open + close]
        .split_ascii_whitespace()
        .collect();
    words
        .chunks(3)
        .filter_map(|c| match c {
            [name, used, limit] => Some((
                name.to_ascii_uppercase(),
                used.parse().ok()?,
                limit.parse().ok()?,
            )),
            _ => None,
        })
        .collect()
}

/// `MESSAGES n` from the text of a `* STATUS mailbox (MESSAGES n ...)` response.
pub fn parse_status_messages(text: &str) -> Option<u64> {
    let open = text.rfind('(')?;
    let inner = text[open + 1..].trim_end_matches(')');
    let words: Vec<&str> = inner.split_ascii_whitespace().collect();
    words
        .chunks(2)
        .find(|c| {
            c.first()
                .is_some_and(|w| w.eq_ignore_ascii_case("MESSAGES"))
        })
        .and_then(|c| c.get(1)?.parse().ok())
}

/// An IMAP string argument: quoted when it is plain printable ASCII, otherwise `None`
/// (the caller must send a literal).
pub fn quoted(s: &str) -> Option<String> {
    if s.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        Some(format!(
            "\"{}\"",
            s.replace('\\', "\\\\").replace('"', "\\\"")
        ))
    } else {
        None
    }
}

/// [`quoted`] for a secret: the quoted copy is zeroed when dropped.
pub fn quoted_secret(s: &str) -> Option<zeroize::Zeroizing<String>> {
    quoted(s).map(zeroize::Zeroizing::new)
}

/// Whether the server takes non-synchronising literals (`{n+}`, RFC 7888).
pub fn literal_plus(caps: &[String]) -> bool {
    caps.iter().any(|c| c == "LITERAL+")
}

pub fn sasl_ir(caps: &[String]) -> bool {
    caps.iter().any(|c| c == "SASL-IR")
}

pub fn has_quota(caps: &[String]) -> bool {
    caps.iter().any(|c| c == "QUOTA" || c.starts_with("QUOTA="))
}

fn describe(resp: &Response) -> String {
    match resp {
        Response::Untagged { keyword, text, .. } => format!("* {keyword} {text}"),
        Response::Tagged {
            tag, status, text, ..
        } => format!("{tag} {} {text}", status.as_str()),
        Response::Continuation { text } => format!("+ {text}"),
    }
}

#[cfg(test)]
mod tests;
