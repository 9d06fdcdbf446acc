//! Submission of the test message on a handed-over, logged-in SMTP session: MAIL, RCPT and
//! `BDAT n LAST` with the message in one flight when the server offers PIPELINING and CHUNKING
//! (RFC 2920, RFC 3030: one round trip); otherwise MAIL, RCPT and DATA (pipelined when it can),
//! then the message after the `354` (two round trips); then QUIT.
//!
//! Our own code, not lettre's transport: lettre's `AsyncSmtpConnection` can only start by
//! reading a greeting and sending EHLO itself, its STARTTLS and AUTH are unsafe for us
//! (ARCHITECTURE.md), and it sends MAIL, RCPT and DATA one round trip at a time. The replies
//! are read with the bounded `proto::smtp` parser, like every other SMTP reply.

use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::bounded::Bounded;
use super::message::{dot_stuffed, TestMessage};
use crate::proto::guard::Limits;
use crate::proto::smtp::{Reply, ReplyParser};
use crate::proto::{LineReader, MAX_LINE};
use crate::report::{Code, Problem};
use crate::session::handoff::{Facts, VerifiedStream};

/// What the server said when it took the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accepted {
    pub reply: String,
    pub queue_id: Option<String>,
}

/// Why the message was not taken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SubmitError {
    /// A clear refusal: at which command, and the server's reply.
    Rejected { at: &'static str, reply: String },
    /// The conversation broke (timeout, closed, malformed, limits).
    Failed(Problem),
}

const LIMITS: Limits = Limits {
    total: 1024 * 1024,
    line: MAX_LINE,
    literal: None,
};

struct SmtpIo {
    stream: Bounded<VerifiedStream>,
    reader: LineReader,
    command_timeout: Duration,
    deadline: Instant,
}

impl SmtpIo {
    fn phase(&self) -> Instant {
        (Instant::now() + self.command_timeout).min(self.deadline)
    }

    async fn send(&mut self, bytes: &[u8]) -> Result<(), Problem> {
        let until = self.phase();
        let fut = async {
            self.stream.write_all(bytes).await?;
            self.stream.flush().await
        };
        match tokio::time::timeout_at(until.into(), fut).await {
            Err(_) => Err(Problem::error(
                Code::Timeout,
                "timed out sending to the submission server",
            )),
            Ok(Err(e)) => Err(Problem::error(
                Code::ConnectionClosed,
                format!("the submission connection failed while sending: {e}"),
            )),
            Ok(Ok(())) => Ok(()),
        }
    }

    async fn reply(&mut self, waiting_for: &str) -> Result<Reply, Problem> {
        let until = self.phase();
        let mut parser = ReplyParser::new();
        let tripped = self.stream.tripped();
        loop {
            match parser.next(&mut self.reader) {
                Ok(Some(r)) => return Ok(r),
                Ok(None) => {}
                Err(e) => {
                    return Err(Problem::error(
                        Code::ProtocolError,
                        format!("{e} (while waiting for {waiting_for})"),
                    ))
                }
            }
            let mut buf = [0u8; 4096];
            match tokio::time::timeout_at(until.into(), self.stream.read(&mut buf)).await {
                Err(_) => {
                    return Err(Problem::error(
                        Code::Timeout,
                        format!("no answer from the submission server while waiting for {waiting_for}"),
                    ))
                }
                Ok(Ok(0)) => {
                    return Err(Problem::error(
                        Code::ConnectionClosed,
                        format!("the submission server closed the connection while we waited for {waiting_for}"),
                    ))
                }
                Ok(Ok(n)) => self.reader.push(&buf[..n]),
                Ok(Err(e)) => {
                    let problem = match tripped.get() {
                        Some(limit) => Problem::error(
                            super::limit_code(&limit),
                            format!("{limit} (while waiting for {waiting_for})"),
                        ),
                        None => Problem::error(
                            Code::ConnectionClosed,
                            format!("the submission connection failed while waiting for {waiting_for}: {e}"),
                        ),
                    };
                    return Err(problem);
                }
            }
        }
    }
}

fn keywords(facts: &Facts) -> Vec<String> {
    facts
        .capabilities
        .iter()
        .filter_map(|l| l.split_ascii_whitespace().next())
        .map(|w| w.to_ascii_uppercase())
        .collect()
}

fn shown(r: &Reply) -> String {
    format!("{} {}", r.code, r.text())
}

/// Sends `msg` to `rcpt` over the handed-over session, then QUIT. The message data goes out
/// only once `go` says so (the mailbox watch is ready, so the message can't arrive unseen);
/// MAIL, RCPT and DATA don't wait for it. `go` false: nothing is sent, the session ends.
pub async fn submit(
    stream: VerifiedStream,
    facts: &Facts,
    msg: &TestMessage,
    rcpt: &str,
    go: impl std::future::Future<Output = bool>,
    command_timeout: Duration,
    deadline: Instant,
) -> Result<Accepted, SubmitError> {
    let keywords = keywords(facts);
    let has = |k: &str| keywords.iter().any(|w| w == k);
    let mut io = SmtpIo {
        stream: Bounded::new(stream, LIMITS, facts.trace.clone(), facts.label.clone()),
        reader: LineReader::new(MAX_LINE),
        command_timeout,
        deadline,
    };
    let mut mail = format!("MAIL FROM:<{}>", msg.from);
    if has("SIZE") {
        mail.push_str(&format!(" SIZE={}", msg.bytes.len()));
    }
    if !(msg.from.is_ascii() && rcpt.is_ascii()) {
        if !has("SMTPUTF8") {
            return Err(SubmitError::Failed(Problem::error(
                Code::RoundtripSubmitRejected,
                "the address is not plain ASCII and the server does not offer SMTPUTF8",
            )));
        }
        mail.push_str(" SMTPUTF8");
    }
    if has("PIPELINING") && has("CHUNKING") {
        return submit_bdat(io, &mail, rcpt, msg, go).await;
    }
    let commands = [
        ("MAIL FROM", format!("{mail}\r\n")),
        ("RCPT TO", format!("RCPT TO:<{rcpt}>\r\n")),
        ("DATA", "DATA\r\n".to_string()),
    ];
    let expected = |at: &str, code: u16| match at {
        "MAIL FROM" => code == 250,
        "RCPT TO" => code == 250 || code == 251,
        _ => code == 354,
    };
    let failed = SubmitError::Failed;
    if has("PIPELINING") {
        // One flight; every reply is read so the first refusal is the one reported.
        let all: String = commands.iter().map(|(_, c)| c.as_str()).collect();
        io.send(all.as_bytes()).await.map_err(failed)?;
        let mut refusal = None;
        for (at, _) in &commands {
            let r = io.reply(&format!("the {at} reply")).await.map_err(failed)?;
            if !expected(at, r.code) && refusal.is_none() {
                refusal = Some(SubmitError::Rejected {
                    at,
                    reply: shown(&r),
                });
            }
        }
        if let Some(r) = refusal {
            // A DATA that was (wrongly) accepted after a refusal is left unfinished: the
            // connection is dropped, so nothing can be delivered.
            quit(&mut io).await;
            return Err(r);
        }
    } else {
        for (at, cmd) in &commands {
            io.send(cmd.as_bytes()).await.map_err(failed)?;
            let r = io.reply(&format!("the {at} reply")).await.map_err(failed)?;
            if !expected(at, r.code) {
                quit(&mut io).await;
                return Err(SubmitError::Rejected {
                    at,
                    reply: shown(&r),
                });
            }
        }
    }
    if !go.await {
        // In DATA mode a QUIT would be message text: just close; without the final "."
        // the server discards what it has.
        let _ = tokio::time::timeout(Duration::from_millis(200), io.stream.shutdown()).await;
        return Err(not_sent());
    }
    io.send(&dot_stuffed(&msg.bytes)).await.map_err(failed)?;
    let r = io
        .reply("the reply to the message data")
        .await
        .map_err(failed)?;
    quit(&mut io).await;
    if r.code != 250 {
        return Err(SubmitError::Rejected {
            at: "end of data",
            reply: shown(&r),
        });
    }
    Ok(Accepted {
        reply: shown(&r),
        queue_id: queue_id(&r.text()),
    })
}

fn not_sent() -> SubmitError {
    SubmitError::Failed(Problem::error(
        Code::RoundtripWatchFailed,
        "the test message was not sent: the mailbox could not be watched",
    ))
}

/// MAIL, RCPT and `BDAT n LAST` with the message, in one write; then the three replies. The
/// first refusal is the one reported (a server that refused MAIL still reads the chunk).
async fn submit_bdat(
    mut io: SmtpIo,
    mail: &str,
    rcpt: &str,
    msg: &TestMessage,
    go: impl std::future::Future<Output = bool>,
) -> Result<Accepted, SubmitError> {
    if !go.await {
        quit(&mut io).await;
        return Err(not_sent());
    }
    let mut flight = format!(
        "{mail}\r\nRCPT TO:<{rcpt}>\r\nBDAT {} LAST\r\n",
        msg.bytes.len()
    )
    .into_bytes();
    flight.extend_from_slice(&msg.bytes);
    io.send(&flight).await.map_err(SubmitError::Failed)?;
    let mut last = None;
    for (at, ok) in [
        ("MAIL FROM", &[250][..]),
        ("RCPT TO", &[250, 251][..]),
        ("BDAT", &[250][..]),
    ] {
        let r = io.reply(&format!("the {at} reply")).await;
        match r {
            Ok(r) if ok.contains(&r.code) => last = Some(r),
            Ok(r) => {
                quit(&mut io).await;
                return Err(SubmitError::Rejected {
                    at,
                    reply: shown(&r),
                });
            }
            Err(p) => return Err(SubmitError::Failed(p)),
        }
    }
    quit(&mut io).await;
    let r =
        last.ok_or_else(|| SubmitError::Failed(Problem::error(Code::ProtocolError, "no reply")))?;
    Ok(Accepted {
        reply: shown(&r),
        queue_id: queue_id(&r.text()),
    })
}

/// QUIT and close, without waiting for the goodbye: the message is already accepted or
/// refused, and the session layer's QUIT does not wait either.
async fn quit(io: &mut SmtpIo) {
    io.command_timeout = Duration::from_millis(500);
    let _ = io.send(b"QUIT\r\n").await;
    let _ = tokio::time::timeout(Duration::from_millis(200), io.stream.shutdown()).await;
}

/// The queue id in a `250` reply, for the servers that say it in a known form:
/// Postfix `queued as 4Xyz`, Exim `id=1tAbc-000Def-Gh`, Sendmail `5ABC123 Message accepted`.
pub fn queue_id(text: &str) -> Option<String> {
    let word_after = |marker: &str| -> Option<String> {
        let lower = text.to_ascii_lowercase();
        let i = lower.find(marker)? + marker.len();
        let id: String = text[i..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '.')
            .collect();
        let id = id.trim_end_matches('.').to_string();
        (!id.is_empty()).then_some(id)
    };
    if let Some(id) = word_after("queued as ") {
        return Some(id);
    }
    if let Some(id) = word_after("id=") {
        return Some(id);
    }
    let words: Vec<&str> = text.split_ascii_whitespace().collect();
    if let Some(pos) = words.iter().position(|w| w.eq_ignore_ascii_case("message")) {
        if words
            .get(pos + 1)
            .is_some_and(|w| w.eq_ignore_ascii_case("accepted"))
            && pos >= 1
        {
            let id = words[pos - 1];
            if id.chars().all(|c| c.is_ascii_alphanumeric()) && id.len() >= 6 {
                return Some(id.to_string());
            }
        }
    }
    None
}

/// The user's words for a refusal, from the reply's codes and text.
pub fn refusal_kind(reply: &str) -> Option<&'static str> {
    let lower = reply.to_ascii_lowercase();
    if lower.contains("relay") {
        Some("relaying denied: this server does not accept mail for that recipient from this login")
    } else if lower.contains("not owned")
        || lower.contains("sender address rejected")
        || lower.contains("5.7.60")
    {
        Some("the sender address is not one this login may send as")
    } else if lower.contains("5.3.4")
        || lower.contains("too big")
        || lower.contains("too large")
        || lower.contains("size")
    {
        Some("the message is too big for this server")
    } else if lower.contains("5.2.2")
        || lower.contains("4.2.2")
        || lower.contains("quota")
        || lower.contains("mailbox full")
        || lower.contains("insufficient")
    {
        Some("a storage or sending quota is exhausted")
    } else if lower.starts_with("530") || lower.contains("authentication required") {
        Some("the server wants an authenticated session")
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queue_ids_of_common_servers() {
        assert_eq!(
            queue_id("2.0.0 Ok: queued as 4ZxYw12AbC").as_deref(),
            Some("4ZxYw12AbC")
        );
        assert_eq!(
            queue_id("OK id=1tAbCd-000EfG-Hi").as_deref(),
            Some("1tAbCd-000EfG-Hi")
        );
        assert_eq!(
            queue_id("2.0.0 5B1CDEFG012345 Message accepted for delivery").as_deref(),
            Some("5B1CDEFG012345")
        );
        assert_eq!(queue_id("2.6.0 <x@y> Queued mail for delivery"), None);
        assert_eq!(queue_id("2.0.0 OK  1712345678 - gsmtp"), None);
    }

    #[test]
    fn refusals_in_the_users_words() {
        assert!(refusal_kind("554 5.7.1 <x@y.test>: Relay access denied")
            .unwrap()
            .contains("relay"));
        assert!(refusal_kind(
            "553 5.7.1 <other@example.test>: Sender address rejected: not owned by user demo@example.test"
        )
        .unwrap()
        .contains("sender address"));
        assert!(refusal_kind("552 5.3.4 Message size exceeds fixed limit")
            .unwrap()
            .contains("too big"));
        assert!(refusal_kind("452 4.2.2 Mailbox full")
            .unwrap()
            .contains("quota"));
        assert_eq!(refusal_kind("550 5.1.1 unknown"), None);
    }
}
