//! Watching the mailbox over IMAP with async-imap, on a handed-over, logged-in session.
//!
//! * SELECT and IDLE go out together; the server pushes `EXISTS` when mail arrives. Without
//!   IDLE the watch polls with NOOP, backing off.
//! * When new mail shows, the test message is found by its token (`UID SEARCH ... HEADER
//!   X-Mailsetup-Token`), its headers fetched, and exactly it deleted: `UID STORE +FLAGS.SILENT
//!   (\Deleted)` then `UID EXPUNGE` of its UID (UIDPLUS), never a plain EXPUNGE, which would
//!   also remove other mail the user flagged for deletion. Without UIDPLUS it stays flagged
//!   and the report says so.
//! * With SEARCHRES (RFC 5182) the search, fetch, store and expunge go out in one flight,
//!   together with IDLE's DONE, all referring to the saved result `$` — one round trip from
//!   the notification to a clean mailbox. Without it, async-imap's `uid_search`, `uid_fetch`,
//!   `uid_store` and `uid_expunge` run one after another.
//!
//! Every read goes through `Bounded` (byte, line and literal limits) and a deadline.

use std::time::{Duration, Instant};

use async_imap::imap_proto::{MailboxDatum, RequestId, Response, ResponseCode, Status};
use async_imap::{Authenticator, Client, Session};

mod find;

use tokio::io::AsyncWriteExt;

use super::bounded::{Bounded, ImapHandoff, Tripped, HANDOFF_MECHANISM};
use super::message::TOKEN_HEADER;
use crate::proto::guard::Limits;
use crate::report::roundtrip::{Cleanup, WatchMethod};
use crate::report::{Code, Problem};
use crate::session::handoff::{Facts, VerifiedStream};

type Stream = ImapHandoff<Bounded<VerifiedStream>>;

/// What one IMAP watch may receive: enough for a busy mailbox's notifications and one header
/// block, far below what would hurt (a hostile server's endless output stops here).
const LIMITS: Limits = Limits {
    total: 2 * 1024 * 1024,
    line: 64 * 1024,
    literal: Some(256 * 1024),
};

/// Where to look for the test message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Among {
    /// Messages that arrived after SELECT (UID at least the UIDNEXT it reported).
    New,
    /// Messages after the first `n` (sequence numbers): those that arrived since something
    /// counted `n` messages.
    After(u64),
    /// The whole mailbox.
    All,
}

/// The test message, found.
#[derive(Debug, Clone)]
pub struct Found {
    pub seen_at: Instant,
    pub fetched_at: Instant,
    pub headers: Vec<u8>,
    /// How it was cleaned up and when; `None` with the problem in `cleanup_problem`.
    pub removed: Option<(Cleanup, Instant)>,
    pub cleanup_problem: Option<Problem>,
}

/// An IMAP watch in progress.
pub struct ImapWatch {
    session: Session<Stream>,
    tripped: Tripped,
    idle: bool,
    searchres: bool,
    uidplus: bool,
    /// The IDLE command in progress.
    idling: Option<RequestId>,
    /// The highest `EXISTS` seen.
    exists: u32,
    /// `UIDNEXT` at SELECT: the test message's UID is at least this.
    uid_from: u32,
    command_timeout: Duration,
    poll: Duration,
}

struct NeverAsked;

impl Authenticator for NeverAsked {
    type Response = Vec<u8>;
    fn process(&mut self, _: &[u8]) -> Vec<u8> {
        Vec::new()
    }
}

fn has(caps: &[String], name: &str) -> bool {
    caps.iter().any(|c| c.eq_ignore_ascii_case(name))
}

fn watch_failed(what: &str, detail: impl std::fmt::Display) -> Problem {
    Problem::error(Code::RoundtripWatchFailed, format!("{what}: {detail}"))
}

impl ImapWatch {
    /// Starts the async-imap session on the handed-over stream, selects INBOX and starts
    /// IDLE (or the first poll).
    pub async fn start(
        stream: VerifiedStream,
        facts: &Facts,
        command_timeout: Duration,
        deadline: Instant,
    ) -> Result<ImapWatch, Problem> {
        let bounded = Bounded::new(stream, LIMITS, facts.trace.clone(), facts.label.clone());
        let tripped = bounded.tripped();
        let client = Client::new(ImapHandoff::new(bounded));
        let until = (Instant::now() + command_timeout).min(deadline);
        let session = match tokio::time::timeout_at(
            until.into(),
            client.authenticate(HANDOFF_MECHANISM, NeverAsked),
        )
        .await
        {
            Ok(Ok(s)) => s,
            Ok(Err((e, _))) => return Err(watch_failed("starting the IMAP watch", e)),
            Err(_) => return Err(watch_failed("starting the IMAP watch", "timed out")),
        };
        let caps = &facts.capabilities;
        let mut w = ImapWatch {
            session,
            tripped,
            idle: has(caps, "IDLE"),
            searchres: has(caps, "SEARCHRES"),
            uidplus: has(caps, "UIDPLUS"),
            idling: None,
            exists: 0,
            uid_from: 1,
            command_timeout,
            poll: Duration::from_millis(250),
        };
        w.select_and_idle(deadline).await?;
        Ok(w)
    }

    pub fn method(&self) -> WatchMethod {
        if self.idle {
            WatchMethod::ImapIdle
        } else {
            WatchMethod::ImapPoll
        }
    }

    fn phase(&self, deadline: Instant) -> Instant {
        (Instant::now() + self.command_timeout).min(deadline)
    }

    /// A problem for an error of the crate or the stream, naming a tripped limit first.
    fn problem(&self, while_: &str, e: impl std::fmt::Display) -> Problem {
        match self.tripped.get() {
            Some(limit) => Problem::error(
                super::limit_code(&limit),
                format!("{limit} (while {while_}; the IMAP watch was stopped)"),
            ),
            None => watch_failed(while_, e),
        }
    }

    async fn send(&mut self, cmd: &str, deadline: Instant) -> Result<RequestId, Problem> {
        let until = self.phase(deadline);
        match tokio::time::timeout_at(until.into(), self.session.run_command(cmd)).await {
            Ok(Ok(id)) => Ok(id),
            Ok(Err(e)) => Err(self.problem("sending a command", e)),
            Err(_) => Err(Problem::error(
                Code::Timeout,
                "timed out sending to the IMAP server",
            )),
        }
    }

    async fn send_done(&mut self, deadline: Instant) -> Result<(), Problem> {
        let until = self.phase(deadline);
        match tokio::time::timeout_at(until.into(), self.session.run_command_untagged("DONE")).await
        {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(self.problem("ending IDLE", e)),
            Err(_) => Err(Problem::error(
                Code::Timeout,
                "timed out sending to the IMAP server",
            )),
        }
    }

    /// The next response, handed to `f`, or `None` at `until`. `EXISTS` is noted on the way;
    /// `BYE` is an error.
    async fn next_with<T>(
        &mut self,
        until: Instant,
        while_: &str,
        f: impl FnOnce(&Response<'_>) -> T,
    ) -> Result<Option<T>, Problem> {
        match tokio::time::timeout_at(until.into(), self.session.read_response()).await {
            Err(_) => Ok(None),
            Ok(Ok(Some(r))) => {
                let resp = r.parsed();
                match resp {
                    Response::Data {
                        status: Status::Bye,
                        outcome,
                    } => {
                        let text = outcome.information.as_deref().unwrap_or_default();
                        return Err(Problem::error(
                            Code::ConnectionClosed,
                            format!("the IMAP server said BYE while {while_}: {text}"),
                        ));
                    }
                    Response::MailboxData(MailboxDatum::Exists(n)) => self.exists = *n,
                    _ => {}
                }
                Ok(Some(f(resp)))
            }
            Ok(Ok(None)) => Err(Problem::error(
                Code::ConnectionClosed,
                format!("the IMAP server closed the connection while {while_}"),
            )),
            Ok(Err(e)) => Err(self.problem(while_, e)),
        }
    }

    /// Like `next_with`, but the end of the phase is an error.
    async fn must_next<T>(
        &mut self,
        until: Instant,
        while_: &str,
        f: impl FnOnce(&Response<'_>) -> T,
    ) -> Result<T, Problem> {
        self.next_with(until, while_, f).await?.ok_or_else(|| {
            Problem::error(
                Code::Timeout,
                format!("the IMAP server stopped answering while {while_}"),
            )
        })
    }

    /// Waits for the completion of `tag` (other responses only update `EXISTS`).
    async fn completion(
        &mut self,
        tag: &RequestId,
        until: Instant,
        while_: &str,
    ) -> Result<(), Problem> {
        loop {
            let done = self
                .must_next(
                    until,
                    while_,
                    |r| matches!(r, Response::Done { tag: t, .. } if t == tag),
                )
                .await?;
            if done {
                return Ok(());
            }
        }
    }

    /// SELECT INBOX, with IDLE pipelined when offered.
    async fn select_and_idle(&mut self, deadline: Instant) -> Result<(), Problem> {
        let select = self.send("SELECT INBOX", deadline).await?;
        let idle = if self.idle {
            Some(self.send("IDLE", deadline).await?)
        } else {
            None
        };
        let until = self.phase(deadline);
        let mut selected = false;
        let mut idle_started = idle.is_none();
        while !(selected && idle_started) {
            let event = self
                .must_next(until, "selecting INBOX", |r| match r {
                    Response::Data {
                        status: Status::Ok,
                        outcome,
                    } => match outcome.code {
                        Some(ResponseCode::UidNext(n)) => Event::UidNext(n),
                        _ => Event::Other,
                    },
                    Response::Continue(_) => Event::Continue,
                    Response::Done {
                        tag,
                        status,
                        outcome,
                    } => Event::Done(
                        tag.clone(),
                        *status == Status::Ok,
                        format!(
                            "{status:?} {}",
                            outcome.information.as_deref().unwrap_or_default()
                        ),
                    ),
                    _ => Event::Other,
                })
                .await?;
            match event {
                Event::UidNext(n) => self.uid_from = n.max(1),
                Event::Continue if idle.is_some() => idle_started = true,
                Event::Done(tag, ok, text) if tag == select => {
                    if !ok {
                        return Err(watch_failed("the IMAP server refused SELECT INBOX", text));
                    }
                    selected = true;
                }
                Event::Done(tag, ..) if Some(&tag) == idle.as_ref() => {
                    // IDLE refused although advertised: poll instead.
                    self.idle = false;
                    idle_started = true;
                }
                _ => {}
            }
        }
        self.idling = if self.idle { idle } else { None };
        Ok(())
    }

    /// Waits until the mailbox shows more messages than before, or `until`. True = new mail.
    pub async fn wait_for_new(&mut self, until: Instant) -> Result<bool, Problem> {
        let before = self.exists;
        if self.idling.is_some() {
            while self
                .next_with(until, "waiting for the test message", |_| ())
                .await?
                .is_some()
            {
                if self.exists > before {
                    return Ok(true);
                }
            }
            return Ok(false);
        }
        // Polling: NOOP after a growing pause.
        loop {
            let pause = self
                .poll
                .min(until.saturating_duration_since(Instant::now()));
            tokio::time::sleep(pause).await;
            self.poll = (self.poll * 3 / 2).min(Duration::from_secs(5));
            if Instant::now() >= until {
                return Ok(false);
            }
            let noop = self.send("NOOP", until).await?;
            self.completion(&noop, self.phase(until), "polling with NOOP")
                .await?;
            if self.exists > before {
                return Ok(true);
            }
        }
    }

    /// How many messages the mailbox holds (the latest `EXISTS`).
    pub fn exists(&self) -> u32 {
        self.exists
    }

    /// Ends IDLE (when idling) and looks for the test message `among` some messages; when
    /// found, fetches its headers and deletes it. `seen_at` is when the notification that led
    /// here arrived.
    pub async fn find(
        &mut self,
        token: &str,
        seen_at: Instant,
        among: Among,
        deadline: Instant,
    ) -> Result<Option<Found>, Problem> {
        let set = match among {
            Among::New => format!("UID {}:*", self.uid_from),
            Among::After(n) => format!("{}:*", n.saturating_add(1)),
            Among::All => "1:*".to_string(),
        };
        let criteria = format!("{set} HEADER {TOKEN_HEADER} {token}");
        if self.searchres && self.uidplus {
            match self
                .find_in_one_flight(&criteria, token, seen_at, deadline)
                .await?
            {
                find::FlightResult::Done(found) => return Ok(found),
                // The server refused SEARCH RETURN (SAVE) after all: one command at a time.
                find::FlightResult::Unsupported => self.searchres = false,
            }
        } else {
            self.end_idle(deadline).await?;
        }
        self.find_step_by_step(&criteria, token, seen_at, deadline)
            .await
    }

    async fn end_idle(&mut self, deadline: Instant) -> Result<(), Problem> {
        let Some(idle) = self.idling.take() else {
            return Ok(());
        };
        self.send_done(deadline).await?;
        self.completion(&idle, self.phase(deadline), "ending IDLE")
            .await
    }

    /// Re-enters IDLE after new mail that was not the test message.
    pub async fn resume(&mut self, deadline: Instant) -> Result<(), Problem> {
        if !self.idle || self.idling.is_some() {
            return Ok(());
        }
        let idle = self.send("IDLE", deadline).await?;
        let until = self.phase(deadline);
        loop {
            let event = self
                .must_next(until, "starting IDLE", |r| match r {
                    Response::Continue(_) => Some(true),
                    Response::Done { tag, .. } if *tag == idle => Some(false),
                    _ => None,
                })
                .await?;
            match event {
                Some(true) => {
                    self.idling = Some(idle);
                    return Ok(());
                }
                Some(false) => {
                    self.idle = false;
                    return Ok(());
                }
                None => {}
            }
        }
    }

    /// LOGOUT and close, without waiting for the goodbye (as the session layer does: nothing
    /// depends on it, and it would cost a round trip).
    pub async fn logout(mut self) {
        let until = Instant::now() + Duration::from_millis(500);
        if self.idling.take().is_some() {
            let _ = self.send_done(until).await;
        }
        let _ = self.send("LOGOUT", until).await;
        let stream: &mut Stream = self.session.as_mut();
        let _ = tokio::time::timeout(Duration::from_millis(200), stream.shutdown()).await;
    }
}

/// What a response meant, taken out of async-imap's borrowed response.
pub(super) enum Event {
    UidNext(u32),
    Continue,
    Headers(Vec<u8>),
    Expunge,
    /// Tag, whether the status is OK, status and text.
    Done(RequestId, bool, String),
    Other,
}
