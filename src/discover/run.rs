//! The discovery run: every enabled source at once under one deadline, each lookup recorded
//! as an [`Attempt`] the moment it starts, so a source still running at the deadline is
//! reported `timeout` while everything already found stands.
//!
//! [`discover`] waits for every source. `check` runs progressively instead ([`start`]): it
//! probes what the first answering sources found ([`Running::answered`]) while the others
//! still run; once those are verified it waits for the lookups still running at most a short
//! grace ([`Running::settle`]), probes what they add, and reports the lookups it stopped
//! waiting for as `timeout` with the `discovery-not-waited-for` problem.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::Notify;
use tokio::task::JoinSet;

use crate::model::timing::{Phase, PhaseName, PhaseStatus, RunClock};
use crate::model::{Address, Transport};

use super::bounds::{self, AttemptProblem, Unfinished, MAX_PER_LOOKUP, MAX_PER_RUN};
use super::net::Net;
use super::xml::decode_body;
use super::{
    guess, idn, ispdb, Attempt, AttemptResult, Candidate, DiscoverConfig, Discovery, Source,
};

/// One recorded lookup; `done` stays `None` while it runs.
struct Slot {
    source: Source,
    target: String,
    started: Instant,
    done: Option<(AttemptResult, String, u64)>,
    /// Candidates beyond [`MAX_PER_LOOKUP`], dropped.
    dropped: usize,
    problem: Option<AttemptProblem>,
    /// Its answer is being parsed (off the async workers) right now.
    parsing: bool,
    ended: Option<Instant>,
    /// Not needed after all (the HTTP twin of an HTTPS lookup that found settings): left
    /// out of the report, as if it had never started.
    withdrawn: bool,
}

#[derive(Default)]
struct State {
    slots: Vec<Slot>,
    /// (attempt id, candidate): the id orders candidates deterministically.
    candidates: Vec<(usize, Candidate)>,
    providers: Vec<(Source, String)>,
}

/// Shared by all source tasks of one run: the state, the progress hook, the run's clock, and
/// a wake-up for whoever waits on the run (each ended lookup notifies it).
#[derive(Default)]
pub(super) struct Recorder(Mutex<State>, Option<super::AttemptHook>, RunClock, Notify);

/// How the run stopped, for [`Recorder::finish`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stop {
    /// Every source ended by itself.
    Complete,
    /// The deadline passed.
    Deadline,
    /// `check` went ahead without the lookups still running.
    NotWaited,
    /// A look at the run so far (candidates only; not reported).
    Snapshot,
}

/// A lookup's outcome.
pub(super) struct Outcome {
    pub result: AttemptResult,
    pub detail: String,
    pub candidates: Vec<Candidate>,
    pub provider: Option<String>,
    pub problem: Option<AttemptProblem>,
}

impl Outcome {
    pub fn found(
        detail: impl Into<String>,
        candidates: Vec<Candidate>,
        provider: Option<String>,
    ) -> Self {
        Outcome {
            result: AttemptResult::Found,
            detail: detail.into(),
            candidates,
            provider,
            problem: None,
        }
    }

    pub fn empty(result: AttemptResult, detail: impl Into<String>) -> Self {
        Outcome {
            result,
            detail: detail.into(),
            candidates: Vec::new(),
            provider: None,
            problem: None,
        }
    }

    /// An answer ignored because it exceeded a bound (when `bound`; else unchanged).
    pub fn refused_if(mut self, bound: bool) -> Self {
        if bound {
            self.problem = Some(AttemptProblem::DiscoveryDocumentRefused);
        }
        self
    }

    fn parse_timeout() -> Self {
        let mut o = Outcome::empty(
            AttemptResult::Timeout,
            "parsing the answer had not finished at the deadline: abandoned",
        );
        o.problem = Some(AttemptProblem::DiscoveryParseTimeout);
        o
    }

    pub fn from_error(e: &super::net::NetError) -> Self {
        use super::net::NetError::*;
        let result = match e {
            NotFound(_) => AttemptResult::NotFound,
            Timeout(_) => AttemptResult::Timeout,
            Failed(_) | TooLarge(_) => AttemptResult::Error,
        };
        Outcome::empty(result, e.detail()).refused_if(matches!(e, TooLarge(_)))
    }

    pub fn is_found(&self) -> bool {
        self.result == AttemptResult::Found
    }
}

impl Recorder {
    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Registers a lookup as started; returns its id.
    pub fn begin(&self, source: Source, target: impl Into<String>) -> usize {
        let target = target.into();
        if let Some(hook) = &self.1 {
            hook(source, &target, None);
        }
        let mut st = self.state();
        st.slots.push(Slot {
            source,
            target,
            started: Instant::now(),
            done: None,
            dropped: 0,
            problem: None,
            parsing: false,
            ended: None,
            withdrawn: false,
        });
        st.slots.len() - 1
    }

    /// Takes back a lookup that turned out not to be needed (see [`Slot::withdrawn`]).
    pub fn withdraw(&self, id: usize) {
        self.state().slots[id].withdrawn = true;
        self.3.notify_one();
    }

    /// Marks a lookup's answer as being parsed (or no longer).
    fn parsing(&self, id: usize, parsing: bool) {
        self.state().slots[id].parsing = parsing;
    }

    /// Records how a lookup ended, with what it found: at most [`MAX_PER_LOOKUP`] candidates,
    /// the best-ranked; the rest are counted as dropped.
    pub fn end(&self, id: usize, outcome: Outcome) {
        let (kept, dropped) = bounds::keep_best(outcome.candidates, MAX_PER_LOOKUP);
        let mut st = self.state();
        let source = st.slots[id].source;
        let elapsed = st.slots[id].started.elapsed().as_millis() as u64;
        let detail = one_line(&outcome.detail);
        if let Some(hook) = &self.1 {
            hook(source, &st.slots[id].target, Some(outcome.result));
        }
        let slot = &mut st.slots[id];
        slot.done = Some((outcome.result, detail, elapsed));
        slot.ended = Some(Instant::now());
        slot.dropped = dropped;
        slot.problem = outcome.problem;
        slot.parsing = false;
        st.candidates.extend(kept.into_iter().map(|c| (id, c)));
        if let Some(p) = outcome.provider {
            st.providers.push((source, p));
        }
        drop(st);
        self.3.notify_one();
    }

    /// Sources that recorded nothing before the run stopped get one `timeout` attempt.
    fn unstarted(&self, sources: &[Source], target: &str, stop: Stop) {
        for &s in sources {
            if !self.state().slots.iter().any(|x| x.source == s) {
                let id = self.begin(s, target);
                let mut outcome =
                    Outcome::empty(AttemptResult::Timeout, "not started before the deadline");
                if stop == Stop::NotWaited {
                    outcome.detail = "not started: not waited for (the check went ahead with \
                                      the servers the other sources found)"
                        .into();
                    outcome.problem = Some(AttemptProblem::DiscoveryNotWaitedFor);
                }
                self.end(id, outcome);
            }
        }
    }

    /// The report. Unfinished lookups are `timeout` when the deadline stopped the run (with
    /// `discovery-parse-timeout` when their answer was being parsed), else `error` (their task
    /// ended without saying how: a bug, reported rather than hidden). At most [`MAX_PER_RUN`]
    /// candidates, the best-ranked; the rest are counted as dropped.
    fn finish(&self, stop: Stop, address: &Address, domain_ascii: &str) -> Discovery {
        let deadline_hit = stop == Stop::Deadline;
        let st = self.state();
        let mut order: Vec<usize> = (0..st.slots.len())
            .filter(|&i| !st.slots[i].withdrawn)
            .collect();
        order.sort_by_key(|&i| (st.slots[i].source, i));
        let attempts: Vec<Attempt> = order
            .iter()
            .map(|&i| {
                let s = &st.slots[i];
                let mut problem = s.problem;
                let (result, detail, elapsed_ms) = match &s.done {
                    Some((r, d, e)) => (*r, d.clone(), *e),
                    None if deadline_hit && s.parsing => {
                        let o = Outcome::parse_timeout();
                        problem = o.problem;
                        (o.result, o.detail, s.started.elapsed().as_millis() as u64)
                    }
                    None if deadline_hit => (
                        AttemptResult::Timeout,
                        "still running at the deadline".to_string(),
                        s.started.elapsed().as_millis() as u64,
                    ),
                    None if stop == Stop::NotWaited || stop == Stop::Snapshot => {
                        problem = Some(AttemptProblem::DiscoveryNotWaitedFor);
                        (
                            AttemptResult::Timeout,
                            format!(
                                "no answer after {} ms: not waited for (the check went ahead \
                                 with the servers the other sources found)",
                                s.started.elapsed().as_millis()
                            ),
                            s.started.elapsed().as_millis() as u64,
                        )
                    }
                    None => (
                        AttemptResult::Error,
                        "stopped without a result".to_string(),
                        s.started.elapsed().as_millis() as u64,
                    ),
                };
                let phase = Phase {
                    name: lookup_kind(s.source, &s.target),
                    start_ms: self.2.ms(s.started),
                    end_ms: self.2.ms(s.ended.unwrap_or_else(Instant::now)),
                    status: match result {
                        AttemptResult::Found => PhaseStatus::Ok,
                        AttemptResult::NotFound => PhaseStatus::NotFound,
                        AttemptResult::Error => PhaseStatus::Error,
                        AttemptResult::Timeout => PhaseStatus::Timeout,
                    },
                };
                Attempt {
                    source: s.source,
                    target: s.target.clone(),
                    result,
                    detail,
                    elapsed_ms,
                    dropped: s.dropped,
                    problem,
                    phases: vec![phase],
                }
            })
            .collect();
        // HTTPS wins: what a plain-HTTP lookup found is dropped when the same source's HTTPS
        // lookup found settings (the two run side by side; see `sources::config_source`).
        let https_found: Vec<Source> = st
            .slots
            .iter()
            .filter(|s| {
                s.target.starts_with("https://")
                    && matches!(s.done, Some((AttemptResult::Found, _, _)))
            })
            .map(|s| s.source)
            .collect();
        let mut found: Vec<(usize, Candidate)> = st
            .candidates
            .iter()
            .filter(|(id, _)| {
                let s = &st.slots[*id];
                let overridden = s.target.starts_with("http://")
                    && matches!(s.source, Source::Autoconfig | Source::AutoconfigWellknown)
                    && https_found.contains(&s.source);
                !(s.withdrawn || overridden)
            })
            .cloned()
            .collect();
        found.sort_by_key(|(id, _)| *id);
        let mut found: Vec<Candidate> = found.into_iter().map(|(_, c)| c).collect();
        // Guesses: computed from the hosts that resolved, in Thunderbird's order.
        let resolved: Vec<String> = attempts
            .iter()
            .filter(|a| a.source == Source::Guess && a.result == AttemptResult::Found)
            .map(|a| a.target.clone())
            .collect();
        found.extend(guess::candidates(&resolved, domain_ascii, address));
        let provider = st
            .providers
            .iter()
            .min_by_key(|(s, _)| *s)
            .map(|(_, p)| p.clone());
        let (candidates, beyond_run) = bounds::keep_best(found, MAX_PER_RUN);
        let dropped = attempts.iter().map(|a| a.dropped).sum::<usize>() + beyond_run;
        Discovery {
            attempts,
            candidates,
            provider,
            dropped,
        }
    }
}

/// What kind of lookup an attempt is: an HTTP(S) request, a database lookup, or DNS.
fn lookup_kind(source: Source, target: &str) -> PhaseName {
    let t = target.to_ascii_lowercase();
    if t.starts_with("http://") || t.starts_with("https://") || t.starts_with("get ") {
        PhaseName::Http
    } else if matches!(source, Source::BuiltinDb | Source::MxBuiltinDb) && !t.starts_with("mx ") {
        PhaseName::Database
    } else {
        PhaseName::Dns
    }
}

/// Details are single lines: control characters become spaces, length is capped.
fn one_line(s: &str) -> String {
    let mut out: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(500)
        .collect();
    if s.chars().count() > 500 {
        out.push('…');
    }
    out
}

/// What every source task gets.
pub(super) struct Ctx {
    pub address: Address,
    pub domain_ascii: String,
    pub net: Net,
    pub rec: Arc<Recorder>,
    pub cfg: DiscoverConfig,
}

impl Ctx {
    /// The deadline has passed: start no further lookup (it could only time out).
    pub fn expired(&self) -> bool {
        Instant::now() >= self.cfg.deadline
    }

    /// Parses attempt `id`'s answer with `parse`, off the async workers and only until the
    /// deadline (see [`bounds`]): `Err` is the attempt's outcome when it did not finish.
    pub async fn parse<T: Send + 'static>(
        &self,
        id: usize,
        body: Vec<u8>,
        parse: fn(&str) -> T,
    ) -> Result<T, Outcome> {
        self.rec.parsing(id, true);
        let done = bounds::off_runtime(self.cfg.deadline, move || parse(&decode_body(&body))).await;
        self.rec.parsing(id, false);
        match done {
            Ok(v) => Ok(v),
            Err(Unfinished::Deadline) => Err(Outcome::parse_timeout()),
            Err(Unfinished::Panicked) => Err(Outcome::empty(
                AttemptResult::Error,
                "the parser failed on this answer (a bug in mailsetup: please report it)",
            )),
        }
    }
}

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
                spawn(tasks, source, super::sources::config_source(ctx, source));
            }
            // One task serves both MX sources; it reports under the first enabled one.
            Source::MxBuiltinDb => {
                spawn(tasks, source, super::sources::mx(ctx));
            }
            Source::MxIspdb if !cfg.enabled(Source::MxBuiltinDb) => {
                spawn(tasks, source, super::sources::mx(ctx));
            }
            Source::Srv => {
                spawn(tasks, source, super::sources::srv(ctx));
            }
            Source::Autodiscover => {
                spawn(tasks, source, super::sources::autodiscover(ctx));
            }
            Source::Guess => {
                spawn(tasks, source, super::sources::guess(ctx));
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

fn builtin_db(rec: &Recorder, address: &Address, domain_ascii: &str) {
    let id = rec.begin(Source::BuiltinDb, domain_ascii);
    let outcome = match ispdb::lookup_xml(domain_ascii) {
        None => Outcome::empty(
            AttemptResult::NotFound,
            "not in the built-in provider database",
        ),
        Some((file, xml)) => match super::config_v11::parse(xml) {
            Ok(cfg) => {
                let name = cfg.name();
                let detail = format!("{} ({file})", name.as_deref().unwrap_or("provider"));
                Outcome::found(
                    detail,
                    cfg.candidates(address, Source::BuiltinDb, Transport::Builtin),
                    name,
                )
            }
            Err(e) => Outcome::empty(AttemptResult::Error, format!("{file}: {e}")),
        },
    };
    rec.end(id, outcome);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn details_are_one_line() {
        assert_eq!(one_line("a\r\nb\x1b[31m"), "a  b [31m");
        assert_eq!(one_line(&"x".repeat(600)).chars().count(), 501);
    }

    #[test]
    fn unfinished_attempts_become_timeouts_only_at_the_deadline() {
        let a: Address = "u@d.org".parse().unwrap();
        let rec = Recorder::default();
        let done = rec.begin(Source::Srv, "_imaps._tcp.d.org");
        rec.begin(Source::Autoconfig, "https://autoconfig.d.org/");
        rec.end(done, Outcome::empty(AttemptResult::NotFound, "none"));
        let d = rec.finish(Stop::Deadline, &a, "d.org");
        assert_eq!(d.attempts[0].source, Source::Autoconfig, "ranked by source");
        assert_eq!(d.attempts[0].result, AttemptResult::Timeout);
        assert_eq!(d.attempts[1].result, AttemptResult::NotFound);
        let d = rec.finish(Stop::Complete, &a, "d.org");
        assert_eq!(d.attempts[0].result, AttemptResult::Error);
    }

    fn servers(prefix: &str, n: usize) -> Vec<Candidate> {
        (0..n)
            .map(|i| {
                Candidate::new(
                    format!("imaps://{prefix}{i}.d.org:993").parse().unwrap(),
                    "u@d.org".into(),
                    vec![],
                    Source::Srv,
                    Transport::Dns,
                    "d.org",
                )
            })
            .collect()
    }

    #[test]
    fn lookups_and_runs_are_bounded_and_drops_counted() {
        let a: Address = "u@d.org".parse().unwrap();
        let rec = Recorder::default();
        // Six lookups: 20,000 servers, 16, 15, then three of 20 each.
        for (i, n) in [20_000, 16, 15, 20, 20, 20].into_iter().enumerate() {
            let id = rec.begin(Source::Srv, format!("name{i}"));
            rec.end(id, Outcome::found("x", servers(&format!("h{i}-"), n), None));
        }
        let d = rec.finish(Stop::Complete, &a, "d.org");
        let per: Vec<usize> = d.attempts.iter().map(|a| a.dropped).collect();
        assert_eq!(per, [20_000 - 16, 0, 0, 4, 4, 4]);
        // 16 + 16 + 15 + 3 × 16 = 95 kept by the lookups, 64 by the run.
        assert_eq!(d.candidates.len(), MAX_PER_RUN);
        assert_eq!(d.dropped, 20_000 - 16 + 12 + (95 - 64));
        // Rank order, then discovery order: the first lookup's first 16 come first.
        assert_eq!(d.candidates[0].endpoint.host, "h0-0.d.org");
        assert_eq!(d.candidates[15].endpoint.host, "h0-15.d.org");
        assert_eq!(d.candidates[16].endpoint.host, "h1-0.d.org");
    }

    #[test]
    fn a_parse_cut_by_the_deadline_is_a_named_timeout() {
        let a: Address = "u@d.org".parse().unwrap();
        let rec = Recorder::default();
        let id = rec.begin(Source::Autoconfig, "https://autoconfig.d.org/");
        rec.parsing(id, true);
        let other = rec.begin(Source::Autodiscover, "https://d.org/autodiscover");
        let d = rec.finish(Stop::Deadline, &a, "d.org");
        assert_eq!(d.attempts[0].result, AttemptResult::Timeout);
        assert_eq!(
            d.attempts[0].problem,
            Some(AttemptProblem::DiscoveryParseTimeout)
        );
        assert!(
            d.attempts[0].detail.contains("parsing"),
            "{:?}",
            d.attempts[0]
        );
        assert_eq!(d.attempts[1].problem, None);
        // Ended by the parser itself: the same named result.
        rec.end(other, Outcome::parse_timeout());
        let d = rec.finish(Stop::Deadline, &a, "d.org");
        assert_eq!(
            d.attempts[1].problem,
            Some(AttemptProblem::DiscoveryParseTimeout)
        );
    }
}
