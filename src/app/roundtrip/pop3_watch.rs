//! Watching the mailbox over POP3 with async-pop (UIDL, TOP, DELE, QUIT), on handed-over,
//! logged-in sessions.
//!
//! A POP3 session sees the mailbox as it was at login, so the watch polls: each poll is a
//! fresh session from the session layer (`handoff::authenticated_stream`), which lists the
//! unique ids, reads the headers (`TOP n 0`) of messages not seen before, and deletes exactly
//! the test message (`DELE n`, committed by `QUIT`). The first listing (the baseline) comes
//! from the check's own session when it was kept: it shows the mailbox at the check's login,
//! before the test message was sent.
//!
//! async-pop always reads a greeting first; the session layer read and checked the real one,
//! so `Pop3Greeting` serves a stand-in. It has no STLS and would choose its own login
//! (SASL PLAIN, then USER/PASS): it is used only after our login, never for either.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use async_pop::error::ErrorKind;
use async_pop::response::types::DataType;
use async_pop::response::uidl::UidlResponse;

use super::bounded::{Bounded, Pop3Greeting, Tripped};
use super::imap_watch::Found;
use super::message::carries_token;
use crate::proto::guard::Limits;
use crate::report::roundtrip::Cleanup;
use crate::report::{Code, Problem};
use crate::session::handoff::{Facts, VerifiedStream};

const LIMITS: Limits = Limits {
    total: 4 * 1024 * 1024,
    line: 64 * 1024,
    literal: None,
};

/// How many unseen messages one poll reads the headers of (newest first).
const MAX_TOPS_PER_POLL: usize = 50;

type Client = async_pop::Client<Pop3Greeting<Bounded<VerifiedStream>>>;

/// One async-pop session on a handed-over stream.
pub struct Pop3Session {
    client: Client,
    tripped: Tripped,
    command_timeout: Duration,
}

impl Pop3Session {
    pub async fn open(
        stream: VerifiedStream,
        facts: &Facts,
        command_timeout: Duration,
        deadline: Instant,
    ) -> Result<Pop3Session, Problem> {
        let bounded = Bounded::new(stream, LIMITS, facts.trace.clone(), facts.label.clone());
        let tripped = bounded.tripped();
        let until = (Instant::now() + command_timeout).min(deadline);
        // Reads the stand-in greeting, then asks the server for CAPA (UIDL, TOP).
        let client =
            match tokio::time::timeout_at(until.into(), async_pop::new(Pop3Greeting::new(bounded)))
                .await
            {
                Ok(Ok(c)) => c,
                Ok(Err(e)) => return Err(problem(&tripped, "starting the POP3 session", &e)),
                Err(_) => return Err(timeout("starting the POP3 session")),
            };
        Ok(Pop3Session {
            client,
            tripped,
            command_timeout,
        })
    }

    fn until(&self, deadline: Instant) -> Instant {
        (Instant::now() + self.command_timeout).min(deadline)
    }

    /// `(message number, unique id)` of every message.
    pub async fn uidl(&mut self, deadline: Instant) -> Result<Vec<(usize, String)>, Problem> {
        let until = self.until(deadline);
        let listed = tokio::time::timeout_at(until.into(), self.client.uidl(None)).await;
        match listed {
            Err(_) => Err(timeout("listing the mailbox (UIDL)")),
            Ok(Err(e)) => Err(problem(&self.tripped, "listing the mailbox (UIDL)", &e)),
            Ok(Ok(UidlResponse::Multiple(list))) => Ok(list
                .items()
                .iter()
                .filter_map(|u| Some((u.index().value().ok()?, u.id().as_str_lossy().into_owned())))
                .collect()),
            Ok(Ok(UidlResponse::Single(u))) => Ok(u
                .index()
                .value()
                .ok()
                .map(|n| vec![(n, u.id().as_str_lossy().into_owned())])
                .unwrap_or_default()),
        }
    }

    /// The header block of message `n` (`TOP n 0`).
    pub async fn headers(&mut self, n: usize, deadline: Instant) -> Result<Vec<u8>, Problem> {
        let until = self.until(deadline);
        match tokio::time::timeout_at(until.into(), self.client.top(n, 0)).await {
            Err(_) => Err(timeout("reading headers (TOP)")),
            Ok(Err(e)) => Err(problem(&self.tripped, "reading headers (TOP)", &e)),
            Ok(Ok(bytes)) => Ok(bytes.to_vec()),
        }
    }

    pub async fn dele(&mut self, n: usize, deadline: Instant) -> Result<(), Problem> {
        let until = self.until(deadline);
        match tokio::time::timeout_at(until.into(), self.client.dele(n)).await {
            Err(_) => Err(timeout("deleting the test message (DELE)")),
            Ok(Err(e)) => Err(problem(
                &self.tripped,
                "deleting the test message (DELE)",
                &e,
            )),
            Ok(Ok(_)) => Ok(()),
        }
    }

    /// QUIT; its `+OK` commits deletions.
    pub async fn quit(mut self, deadline: Instant) -> Result<(), Problem> {
        let until = self.until(deadline);
        match tokio::time::timeout_at(until.into(), self.client.quit()).await {
            Err(_) => Err(timeout("ending the session (QUIT)")),
            Ok(Err(e)) => Err(problem(&self.tripped, "ending the session (QUIT)", &e)),
            Ok(Ok(_)) => Ok(()),
        }
    }
}

fn timeout(while_: &str) -> Problem {
    Problem::error(
        Code::Timeout,
        format!("the POP3 server stopped answering while {while_}"),
    )
}

fn problem(tripped: &Tripped, while_: &str, e: &async_pop::error::Error) -> Problem {
    if let Some(limit) = tripped.get() {
        return Problem::error(
            super::limit_code(&limit),
            format!("{limit} (while {while_}; the POP3 watch was stopped)"),
        );
    }
    let detail = match e.kind() {
        ErrorKind::ServerError(text) => format!("-ERR {text}"),
        _ => e.to_string(),
    };
    Problem::error(Code::RoundtripWatchFailed, format!("{while_}: {detail}"))
}

/// The unique ids a POP3 session lists (the baseline), then QUIT.
pub async fn baseline(
    stream: VerifiedStream,
    facts: &Facts,
    command_timeout: Duration,
    deadline: Instant,
) -> Result<HashSet<String>, Problem> {
    let mut s = Pop3Session::open(stream, facts, command_timeout, deadline).await?;
    let ids = s
        .uidl(deadline)
        .await?
        .into_iter()
        .map(|(_, id)| id)
        .collect();
    // Nothing to commit; a failed QUIT does not matter for the listing.
    let _ = s.quit(deadline).await;
    Ok(ids)
}

/// One poll: a fresh session's listing, the headers of unseen messages, and — when the test
/// message is there — its deletion. `seen` grows by every unique id whose headers were read.
pub async fn poll_once(
    stream: VerifiedStream,
    facts: &Facts,
    token: &str,
    seen: &mut HashSet<String>,
    command_timeout: Duration,
    deadline: Instant,
) -> Result<Option<Found>, Problem> {
    let mut s = Pop3Session::open(stream, facts, command_timeout, deadline).await?;
    let listed = s.uidl(deadline).await?;
    let listed_at = Instant::now();
    let mut unseen: Vec<(usize, String)> = listed
        .into_iter()
        .filter(|(_, id)| !seen.contains(id))
        .collect();
    unseen.sort_by_key(|u| std::cmp::Reverse(u.0));
    unseen.truncate(MAX_TOPS_PER_POLL);
    for (n, id) in unseen {
        let headers = s.headers(n, deadline).await?;
        seen.insert(id);
        if !carries_token(&headers, token) {
            continue;
        }
        let fetched_at = Instant::now();
        let cleanup = match s.dele(n, deadline).await {
            Ok(()) => s
                .quit(deadline)
                .await
                .map(|()| (Cleanup::Deleted, Instant::now())),
            Err(p) => {
                let _ = s.quit(deadline).await;
                Err(p)
            }
        };
        let (removed, cleanup_problem) = match cleanup {
            Ok(done) => (Some(done), None),
            Err(p) => (
                None,
                Some(Problem::error(
                    Code::RoundtripCleanupFailed,
                    format!(
                        "the test message arrived but was not deleted: {}",
                        p.message
                    ),
                )),
            ),
        };
        return Ok(Some(Found {
            seen_at: listed_at,
            fetched_at,
            headers,
            removed,
            cleanup_problem,
        }));
    }
    let _ = s.quit(deadline).await;
    Ok(None)
}
