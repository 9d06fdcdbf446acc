//! `check --round-trip`: after the logins verified, send a test message through the
//! recommended outgoing server and watch it arrive on the recommended incoming server —
//! delivery time, the stage where it stopped, cleaned up afterwards.
//!
//! ```text
//!  t0 ─┬─ SMTP (kept session): MAIL, RCPT, DATA ─┐ waits for the watch ─ message ─ 250 = submitted
//!      └─ IMAP (kept session): SELECT + IDLE ────┘ … EXISTS = first seen
//!            DONE + UID SEARCH (SAVE) + UID FETCH $ + UID STORE $ + UID EXPUNGE $ = fetched, removed
//! ```
//!
//! Sessions come from the session layer only (`session::handoff`): the check's own verified,
//! logged-in sessions when it kept them, otherwise fresh ones it verifies the same way. The
//! crates run on those streams and nowhere else: lettre composes the message
//! ([`message`]), async-imap watches, finds, fetches and deletes ([`imap_watch`]), async-pop
//! lists, reads and deletes ([`pop3_watch`]); the submission itself is ours ([`submit`]).
//! Every stream is bounded ([`bounded`]); every step has a deadline, under one overall one.

mod bounded;
mod imap_watch;
pub mod message;
mod pop3_watch;
mod submit;

use std::collections::HashSet;
use std::time::{Duration, Instant, SystemTime};

use crate::model::timing::{Phase, PhaseName, PhaseStatus};
use crate::model::{Endpoint, Protocol};
use crate::proto::ProtoError;
use crate::report::roundtrip::{
    Cleanup, RoundTripReport, RoundTripStatus, Stage, StageName, WatchMethod,
};
use crate::report::{CheckReport, Code, LoginStatus, Problem};
use crate::session::handoff::{authenticated_stream, Facts, Keeper, VerifiedStream};
use crate::session::login::Credentials;
use crate::session::SessionConfig;
use imap_watch::{Among, Found, ImapWatch};
use submit::SubmitError;

/// `--round-trip-timeout` default.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

/// What the user asked for.
#[derive(Debug, Clone)]
pub struct RoundTripOptions {
    /// How long after submission the message may take to arrive.
    pub timeout: Duration,
    /// `--round-trip-to`: send there and only report acceptance.
    pub to: Option<String>,
    /// For sessions the check did not keep (POP3 polls, or a check that kept none).
    pub credentials: Option<Credentials>,
    /// `--allow-plaintext-login`.
    pub allow_plaintext: bool,
}

/// The problem code for a tripped limit.
pub(crate) fn limit_code(e: &ProtoError) -> Code {
    match e {
        ProtoError::LineTooLong { .. } => Code::LineTooLong,
        ProtoError::ReplyTooLarge { .. }
        | ProtoError::TooManyLines { .. }
        | ProtoError::LiteralTooLarge { .. } => Code::ReplyTooLarge,
        ProtoError::Malformed(_) => Code::ProtocolError,
    }
}

/// One endpoint of the round trip: where, as whom, with which verified login method.
#[derive(Debug, Clone)]
struct Side {
    endpoint: Endpoint,
    username: String,
    method: Option<String>,
}

impl Side {
    fn of(report: &CheckReport, server: &crate::model::ServerSettings) -> Side {
        let method = report
            .endpoints
            .iter()
            .find(|e| e.endpoint() == server.endpoint)
            .and_then(|e| e.login.as_ref())
            .filter(|l| l.status == LoginStatus::Ok)
            .and_then(|l| l.mechanism.clone());
        Side {
            endpoint: server.endpoint.clone(),
            username: server.username.clone(),
            method,
        }
    }
}

/// Everything the steps share.
struct Run<'a> {
    opts: &'a RoundTripOptions,
    cfg: SessionConfig,
    command: Duration,
    deadline: Instant,
}

impl Run<'_> {
    /// The kept session of `side`, or a fresh one verified by the session layer.
    async fn session(
        &self,
        side: &Side,
        kept: Option<(VerifiedStream, Facts)>,
    ) -> Result<(VerifiedStream, Facts), Problem> {
        if let Some(k) = kept {
            return Ok(k);
        }
        let Some(creds) = &self.opts.credentials else {
            return Err(Problem::error(
                Code::RoundtripWatchFailed,
                format!(
                    "no session to {} and no credentials to open one",
                    side.endpoint.url()
                ),
            ));
        };
        let creds = Credentials {
            username: side.username.clone(),
            ..creds.clone()
        };
        authenticated_stream(
            &side.endpoint,
            &self.cfg,
            &creds,
            self.opts.allow_plaintext,
            side.method.as_deref(),
        )
        .await
        .map_err(|facts| {
            let p = crate::report::endpoint::first_error(&facts);
            Problem {
                message: format!(
                    "opening a session to {}: {}",
                    side.endpoint.url(),
                    p.message
                ),
                ..p
            }
        })
    }
}

/// How the mailbox is being watched.
enum Watcher {
    Imap(Box<ImapWatch>),
    /// The unique ids already there (or already looked at).
    Pop3(HashSet<String>),
}

fn ms(from: Instant, to: Instant) -> u64 {
    to.saturating_duration_since(from).as_millis() as u64
}

/// Runs the round trip after `report`'s check. `keeper` holds the check's verified sessions;
/// the ones not used here are logged out meanwhile.
pub async fn run(
    report: &CheckReport,
    opts: &RoundTripOptions,
    cfg: &SessionConfig,
    keeper: Option<&Keeper>,
) -> RoundTripReport {
    let t0 = Instant::now();
    let token = message::new_token();
    let to = opts.to.clone().unwrap_or_else(|| report.address.clone());
    let mut out = RoundTripReport {
        status: RoundTripStatus::Failed,
        from: report.address.clone(),
        to: to.clone(),
        token: token.clone(),
        message_id: String::new(),
        submit_url: None,
        submit_reply: None,
        queue_id: None,
        watch_url: None,
        watch_method: None,
        stages: Vec::new(),
        delivery_ms: None,
        stopped_at: Some(StageName::Submitted),
        cleanup: None,
        received: Vec::new(),
        timeout_ms: opts.timeout.as_millis() as u64,
        problems: Vec::new(),
        elapsed_ms: 0,
        started_ms: cfg.clock.ms(t0),
    };
    let closing = keeper.cloned();
    let not_run = |mut out: RoundTripReport, p: Problem| async move {
        if let Some(k) = closing {
            k.close_all().await;
        }
        out.problems.push(p);
        out.elapsed_ms = ms(t0, Instant::now());
        out
    };
    let deleted_afterwards = opts.to.is_none();
    let msg = match message::compose(
        &report.address,
        &to,
        &token,
        SystemTime::now(),
        deleted_afterwards,
    ) {
        Ok(m) => m,
        Err(e) => {
            let p = Problem::error(Code::RoundtripNotRun, e.to_string());
            return not_run(out, p).await;
        }
    };
    out.message_id = msg.message_id.clone();
    let Some(rec) = report.recommended.as_ref().filter(|r| r.verified) else {
        let p = Problem::error(
            Code::RoundtripNotRun,
            "no test message was sent: the check did not verify a login on an incoming and an outgoing server",
        );
        return not_run(out, p).await;
    };
    let outgoing = Side::of(report, &rec.settings.outgoing);
    let incoming = Side::of(report, &rec.settings.incoming);
    let send_only = opts.to.is_some();
    out.submit_url = Some(outgoing.endpoint.url());
    if !send_only {
        out.watch_url = Some(incoming.endpoint.url());
    }

    let command = cfg.timeouts.command;
    let deadline = t0 + opts.timeout + 3 * command;
    let run = Run {
        opts,
        cfg: SessionConfig {
            deadline,
            check_injection: false,
            keep: None,
            ..cfg.clone()
        },
        command,
        deadline,
    };
    // The two sessions this needs; every other kept session is logged out meanwhile.
    let kept_out = keeper.and_then(|k| k.take(&outgoing.endpoint));
    let kept_in = keeper
        .filter(|_| !send_only)
        .and_then(|k| k.take(&incoming.endpoint));
    let closing = keeper
        .cloned()
        .map(|k| tokio::spawn(async move { k.close_all().await }));

    // Submission and the start of the watch run at once. The message data waits for the
    // watch, except where the watch can tell that the message got in ahead of it: IMAP, when
    // the check counted the inbox (a SELECT showing more messages than that is searched at once).
    let counted = messages_counted_by_the_check(report);
    let early = send_only || (incoming.endpoint.protocol == Protocol::Imap && counted.is_some());
    let (go_tx, go_rx) = tokio::sync::oneshot::channel::<bool>();
    let submission = async {
        let (stream, facts) = run
            .session(&outgoing, kept_out)
            .await
            .map_err(SubmitError::Failed)?;
        let go = async { go_rx.await.unwrap_or(false) };
        let r = submit::submit(stream, &facts, &msg, &to, go, command, deadline).await;
        r.map(|a| (a, Instant::now()))
    };
    let watch_start = async {
        let mut go_tx = Some(go_tx);
        if early {
            go_tx.take().map(|tx| tx.send(true));
        }
        let w = if send_only {
            Ok(None)
        } else {
            start_watch(&run, &incoming, kept_in).await.map(Some)
        };
        if let Some(tx) = go_tx {
            let _ = tx.send(w.is_ok());
        }
        w
    };
    let (submitted, watcher) = tokio::join!(submission, watch_start);

    let watcher = match watcher {
        Ok(w) => w,
        Err(p) => {
            out.problems.push(p);
            None
        }
    };
    let submitted_at = match submitted {
        Ok((accepted, at)) => {
            out.submit_reply = Some(accepted.reply);
            out.queue_id = accepted.queue_id;
            out.stages.push(Stage {
                stage: StageName::Submitted,
                at_ms: ms(t0, at),
            });
            at
        }
        Err(e) => {
            match e {
                SubmitError::Rejected { at, reply } => {
                    out.status = RoundTripStatus::SubmitRejected;
                    let kind = submit::refusal_kind(&reply)
                        .map(|k| format!(" ({k})"))
                        .unwrap_or_default();
                    out.problems.push(Problem::error(
                        Code::RoundtripSubmitRejected,
                        format!(
                            "{} refused the test message at {at}{kind}: {reply}",
                            outgoing.endpoint.url()
                        ),
                    ));
                    out.submit_reply = Some(reply);
                }
                // A watch that could not start is already reported; "not sent" adds nothing.
                SubmitError::Failed(p)
                    if p.code == Code::RoundtripWatchFailed && !out.problems.is_empty() => {}
                SubmitError::Failed(p) => out.problems.push(p),
            }
            if let Some(Watcher::Imap(w)) = watcher {
                w.logout().await;
            }
            return finish(out, t0, closing).await;
        }
    };
    if send_only {
        out.status = RoundTripStatus::Accepted;
        out.stopped_at = None;
        return finish(out, t0, closing).await;
    }
    out.stopped_at = Some(StageName::FirstSeen);
    let Some(watcher) = watcher else {
        return finish(out, t0, closing).await;
    };
    let until = (submitted_at + opts.timeout).min(deadline);
    let found = match watcher {
        Watcher::Imap(mut w) => {
            out.watch_method = Some(w.method());
            let found = watch_imap(&mut w, &token, counted, until, deadline).await;
            w.logout().await;
            found
        }
        Watcher::Pop3(seen) => {
            out.watch_method = Some(WatchMethod::Pop3Poll);
            watch_pop3(&run, &incoming, &token, seen, until).await
        }
    };
    match found {
        Ok(Some(f)) => delivered(&mut out, t0, submitted_at, f),
        Ok(None) => {
            out.status = RoundTripStatus::NotDelivered;
            out.problems.push(Problem::error(
                Code::RoundtripNotDelivered,
                format!(
                    "{} accepted the test message, but it did not arrive in {} within {} s{}",
                    outgoing.endpoint.url(),
                    incoming.endpoint.url(),
                    opts.timeout.as_secs_f64(),
                    quota_reason(report)
                ),
            ));
        }
        Err(p) => out.problems.push(p),
    }
    finish(out, t0, closing).await
}

async fn start_watch(
    run: &Run<'_>,
    incoming: &Side,
    kept: Option<(VerifiedStream, Facts)>,
) -> Result<Watcher, Problem> {
    let (stream, facts) = run.session(incoming, kept).await?;
    match incoming.endpoint.protocol {
        Protocol::Imap => ImapWatch::start(stream, &facts, run.command, run.deadline)
            .await
            .map(|w| Watcher::Imap(Box::new(w))),
        // A kept session lists the mailbox as it was at the check's login: before the message.
        Protocol::Pop3 => pop3_watch::baseline(stream, &facts, run.command, run.deadline)
            .await
            .map(Watcher::Pop3),
        Protocol::Smtp => Err(Problem::error(
            Code::RoundtripNotRun,
            "the incoming server is an SMTP server",
        )),
    }
}

async fn watch_imap(
    w: &mut ImapWatch,
    token: &str,
    counted: Option<u64>,
    until: Instant,
    deadline: Instant,
) -> Result<Option<Found>, Problem> {
    // More messages at SELECT than the check counted: the test message may have got in ahead
    // of the watch (IDLE would never announce it), so look among those first.
    if let Some(n) = counted.filter(|n| u64::from(w.exists()) > *n) {
        if let Some(found) = w
            .find(token, Instant::now(), Among::After(n), deadline)
            .await?
        {
            return Ok(Some(found));
        }
        w.resume(deadline).await?;
    }
    loop {
        if !w.wait_for_new(until).await? {
            break;
        }
        let seen_at = Instant::now();
        if let Some(found) = w.find(token, seen_at, Among::New, deadline).await? {
            return Ok(Some(found));
        }
        w.resume(deadline).await?;
    }
    // Once more over the whole mailbox, in case the message got in ahead of the watch
    // unnoticed (another client expunged mail meanwhile, so the count did not show it).
    w.find(token, Instant::now(), Among::All, deadline).await
}

async fn watch_pop3(
    run: &Run<'_>,
    incoming: &Side,
    token: &str,
    mut seen: HashSet<String>,
    until: Instant,
) -> Result<Option<Found>, Problem> {
    let mut pause = Duration::from_millis(200);
    loop {
        tokio::time::sleep(pause.min(until.saturating_duration_since(Instant::now()))).await;
        pause = (pause * 2).min(Duration::from_secs(5));
        if Instant::now() >= until {
            return Ok(None);
        }
        let (stream, facts) = run.session(incoming, None).await?;
        let found =
            pop3_watch::poll_once(stream, &facts, token, &mut seen, run.command, run.deadline)
                .await?;
        if found.is_some() {
            return Ok(found);
        }
    }
}

fn delivered(out: &mut RoundTripReport, t0: Instant, submitted_at: Instant, f: Found) {
    out.status = RoundTripStatus::Delivered;
    // From the reported stage times, so the figures add up exactly.
    out.delivery_ms = Some(ms(t0, f.seen_at).saturating_sub(ms(t0, submitted_at)));
    out.stages.push(Stage {
        stage: StageName::FirstSeen,
        at_ms: ms(t0, f.seen_at),
    });
    out.stages.push(Stage {
        stage: StageName::Fetched,
        at_ms: ms(t0, f.fetched_at),
    });
    out.received = message::header_values(&f.headers, "Received")
        .into_iter()
        .take(10)
        .map(|r| crate::proto::text(r.as_bytes()))
        .collect();
    match f.removed {
        Some((how, at)) => {
            out.cleanup = Some(how);
            out.stages.push(Stage {
                stage: StageName::Removed,
                at_ms: ms(t0, at),
            });
            out.stopped_at = None;
        }
        None => {
            out.cleanup = Some(Cleanup::Failed);
            out.stopped_at = Some(StageName::Removed);
        }
    }
    out.problems.extend(f.cleanup_problem);
}

/// Adds the round trip to the timing of the two endpoints it used (a `round-trip` phase on the
/// run's clock): the outgoing one until submission, the incoming one until the end.
pub fn record_phases(report: &mut CheckReport) {
    let Some(rt) = report.round_trip.clone() else {
        return;
    };
    let start = rt.started_ms;
    let end = start + rt.elapsed_ms;
    let timeout = |p: &Problem| {
        matches!(
            p.code,
            Code::RoundtripNotDelivered | Code::Timeout | Code::ConnectTimeout
        )
    };
    let incoming_status = match rt.status {
        RoundTripStatus::Delivered if !rt.failed() => PhaseStatus::Ok,
        _ if rt.problems.iter().any(timeout) => PhaseStatus::Timeout,
        _ => PhaseStatus::Error,
    };
    let (submit_end, submit_status) = match rt.at(StageName::Submitted) {
        Some(at) => (start + at, PhaseStatus::Ok),
        None => (end, PhaseStatus::Error),
    };
    for e in report.endpoints.iter_mut() {
        let phase = if Some(&e.url) == rt.submit_url.as_ref() {
            (submit_end, submit_status)
        } else if Some(&e.url) == rt.watch_url.as_ref() {
            (end, incoming_status)
        } else {
            continue;
        };
        e.phases.push(Phase {
            name: PhaseName::RoundTrip,
            start_ms: start,
            end_ms: phase.0,
            status: phase.1,
        });
    }
}

/// How many messages the check saw in the inbox over IMAP (`STATUS INBOX (MESSAGES)`, during
/// the check, so before anything was sent).
fn messages_counted_by_the_check(report: &CheckReport) -> Option<u64> {
    report
        .quota
        .as_ref()
        .filter(|q| q.source == "imap-quota")
        .and_then(|q| q.messages)
}

/// What the server exposes about why mail may not arrive: a (nearly) full mailbox.
fn quota_reason(report: &CheckReport) -> String {
    let Some(q) = &report.quota else {
        return String::new();
    };
    match q.percent {
        Some(p) if p >= crate::app::check::QUOTA_WARNING_PERCENT => format!(
            "; the mailbox is {p:.0} % full ({} of {} bytes, {}), and a full mailbox refuses new mail",
            q.used_bytes.unwrap_or_default(),
            q.limit_bytes.unwrap_or_default(),
            q.source
        ),
        _ => String::new(),
    }
}

async fn finish(
    mut out: RoundTripReport,
    t0: Instant,
    closing: Option<tokio::task::JoinHandle<()>>,
) -> RoundTripReport {
    if let Some(c) = closing {
        let _ = c.await;
    }
    out.problems.sort_by_key(|p| (p.severity, p.code));
    out.elapsed_ms = ms(t0, Instant::now());
    out
}
