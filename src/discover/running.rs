//! Starting a discovery run and waiting on it: all at once ([`discover`]), or progressively
//! for `check` ([`start`], [`Running::answered`], [`Running::settle`]).

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::Notify;
use tokio::task::JoinSet;

use crate::model::Address;

use super::super::net::Net;
use super::super::{idn, AttemptResult, DiscoverConfig, Discovery, Source};
use super::{builtin_db, Ctx, Outcome, Recorder, State, Stop};

/// Runs every enabled source at once and returns what was found by the deadline, waiting for
/// every source (the `discover` command).
///
/// Offline (`cfg.offline`), only the built-in DB is consulted and nothing touches the
/// network. No mail port is ever connected to: guessed hosts are only resolved.
pub async fn discover(address: &Address, cfg: &DiscoverConfig) -> Discovery {
    start(address, cfg).complete().await
}

/// The least [`Running::settle`] still waits after the first servers were verified.
pub const SETTLE_MIN: Duration = Duration::from_millis(250);

/// A discovery run under way ([`start`]).
pub struct Running {
    rec: Arc<Recorder>,
    /// One task per source; each yields its label when it ends.
    tasks: JoinSet<Source>,
    /// The source each task reports under, to notice a task stopped unstarted.
    labels: Vec<Source>,
    /// Sources whose every lookup has ended (the built-in DB from the start).
    ended: Vec<Source>,
    /// When [`Running::answered`] returned servers.
    answered_at: Option<Instant>,
    address: Address,
    domain_ascii: String,
    deadline: Instant,
    /// The run needed no task (offline, or an address that cannot be looked up).
    over: Option<Discovery>,
}

/// What ended a wait on the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Waited {
    /// Every source ended.
    AllEnded,
    Deadline,
    /// The condition waited for holds.
    Condition,
    /// The wait's own limit passed.
    Limit,
}

/// Starts every enabled source at once (on the current tokio runtime) and returns at once.
pub fn start(address: &Address, cfg: &DiscoverConfig) -> Running {
    let rec = Arc::new(Recorder(
        Mutex::default(),
        cfg.on_attempt.clone(),
        cfg.clock,
        Notify::new(),
    ));
    let mut run = Running {
        rec: rec.clone(),
        tasks: JoinSet::new(),
        labels: Vec::new(),
        ended: vec![Source::BuiltinDb],
        answered_at: None,
        address: address.clone(),
        domain_ascii: String::new(),
        deadline: cfg.deadline,
        over: None,
    };
    let domain_ascii = match idn::to_ascii(&address.domain) {
        Ok(d) => d,
        Err(e) => {
            for s in Source::ALL.into_iter().filter(|s| cfg.enabled(*s)) {
                let id = rec.begin(s, address.domain.clone());
                rec.end(id, Outcome::empty(AttemptResult::Error, e.clone()));
            }
            run.over = Some(rec.finish(Stop::Complete, address, ""));
            return run;
        }
    };
    run.domain_ascii = domain_ascii.clone();
    if cfg.enabled(Source::BuiltinDb) {
        builtin_db(&rec, address, &domain_ascii);
    }
    let network: Vec<Source> = Source::ALL
        .into_iter()
        .filter(|s| *s != Source::BuiltinDb && cfg.enabled(*s))
        .collect();
    if network.is_empty() {
        run.over = Some(rec.finish(Stop::Complete, address, &domain_ascii));
        return run;
    }
    let ctx = Arc::new(Ctx {
        address: address.clone(),
        domain_ascii,
        net: Net::new(
            cfg.dns_server,
            cfg.connect_to.clone(),
            cfg.tls.clone(),
            cfg.deadline,
        ),
        rec,
        cfg: cfg.clone(),
    });
    for source in network {
        let ctx = ctx.clone();
        let tasks = &mut run.tasks;
        match source {
            Source::Autoconfig | Source::AutoconfigWellknown | Source::Ispdb => {
                spawn(
                    tasks,
                    source,
                    super::super::sources::config_source(ctx, source),
                );
            }
            // One task serves both MX sources; it reports under the first enabled one.
            Source::MxBuiltinDb => {
                spawn(tasks, source, super::super::sources::mx(ctx));
            }
            Source::MxIspdb if !cfg.enabled(Source::MxBuiltinDb) => {
                spawn(tasks, source, super::super::sources::mx(ctx));
            }
            Source::Srv => {
                spawn(tasks, source, super::super::sources::srv(ctx));
            }
            Source::Autodiscover => {
                spawn(tasks, source, super::super::sources::autodiscover(ctx));
            }
            Source::Guess => {
                spawn(tasks, source, super::super::sources::guess(ctx));
            }
            Source::MxIspdb | Source::BuiltinDb => continue,
        }
        run.labels.push(source);
    }
    run
}

/// Spawns a source's task, which yields `source` when it ends.
fn spawn(
    tasks: &mut JoinSet<Source>,
    source: Source,
    task: impl std::future::Future<Output = ()> + Send + 'static,
) {
    tasks.spawn(async move {
        task.await;
        source
    });
}

impl Running {
    /// Waits until every source has ended or the deadline has passed: the whole report.
    pub async fn complete(mut self) -> Discovery {
        if let Some(d) = self.over.take() {
            return d;
        }
        let waited = self.wait(None, |_, _| false).await;
        self.stop(waited)
    }

    /// Waits until some source has ended with servers found (all of its lookups: SRV's six
    /// names, say, not only the first to answer); returns what the run has found so far.
    /// `None` when the run ended (every source, or the deadline) before: call
    /// [`Running::complete`] for the report.
    pub async fn answered(&mut self) -> Option<Discovery> {
        if self.over.is_some() {
            return None;
        }
        let found = |st: &State, ended: &[Source]| {
            st.candidates.iter().any(|(id, _)| {
                let s = st.slots[*id].source;
                // One task serves both MX sources, under the first enabled one's label.
                ended.contains(&s) || (s == Source::MxIspdb && ended.contains(&Source::MxBuiltinDb))
            })
        };
        if self.wait(None, found).await != Waited::Condition {
            return None;
        }
        self.answered_at = Some(Instant::now());
        Some(
            self.rec
                .finish(Stop::Snapshot, &self.address, &self.domain_ascii),
        )
    }

    /// Waits for the lookups still running (a source that answers in time can still outrank
    /// what was found, and the report lists every answer) at most `grace` from now, or — after
    /// [`Running::answered`] — until `grace` after that answer but at least [`SETTLE_MIN`]
    /// from now (the first servers were being verified meanwhile, so the grace overlaps their
    /// verification instead of adding to it); then stops the rest and returns the report, the
    /// lookups not waited for marked as such.
    pub async fn settle(mut self, grace: Duration) -> Discovery {
        if let Some(d) = self.over.take() {
            return d;
        }
        let now = Instant::now();
        let limit = match self.answered_at {
            Some(at) => (at + grace).max(now + SETTLE_MIN.min(grace)),
            None => now + grace,
        };
        let waited = self.wait(Some(limit), |_, _| false).await;
        self.stop(waited)
    }

    /// Waits until `done` holds, every task ended, the deadline, or `limit`.
    async fn wait(
        &mut self,
        limit: Option<Instant>,
        done: impl Fn(&State, &[Source]) -> bool,
    ) -> Waited {
        loop {
            if done(&self.rec.state(), &self.ended) {
                return Waited::Condition;
            }
            if self.tasks.is_empty() {
                return Waited::AllEnded;
            }
            let now = Instant::now();
            if now >= self.deadline {
                return Waited::Deadline;
            }
            if limit.is_some_and(|l| now >= l) {
                return Waited::Limit;
            }
            let until = limit.map_or(self.deadline, |l| l.min(self.deadline));
            tokio::select! {
                ended = self.tasks.join_next() => {
                    if let Some(Ok(source)) = ended {
                        self.ended.push(source);
                    }
                }
                _ = self.rec.3.notified() => {}
                _ = tokio::time::sleep_until(tokio::time::Instant::from_std(until)) => {}
            }
        }
    }

    /// Stops what still runs and makes the report.
    fn stop(&mut self, waited: Waited) -> Discovery {
        self.tasks.abort_all();
        // Sources skip lookups once the deadline has passed (`Ctx::expired`) and may then all
        // end before the timer is noticed: the deadline was still what stopped them.
        let stop = match waited {
            Waited::Deadline => Stop::Deadline,
            _ if Instant::now() >= self.deadline => Stop::Deadline,
            Waited::AllEnded => Stop::Complete,
            Waited::Condition | Waited::Limit => Stop::NotWaited,
        };
        if stop != Stop::Complete {
            self.rec.unstarted(&self.labels, &self.domain_ascii, stop);
        }
        self.rec.finish(stop, &self.address, &self.domain_ascii)
    }
}
