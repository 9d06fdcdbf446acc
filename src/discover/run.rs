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
use std::time::Instant;

use tokio::sync::Notify;

use crate::model::timing::{Phase, PhaseName, PhaseStatus, RunClock};
use crate::model::{Address, Transport};

use super::bounds::{self, AttemptProblem, Unfinished, MAX_PER_LOOKUP, MAX_PER_RUN};
use super::net::Net;
use super::xml::decode_body;
use super::{guess, ispdb, Attempt, AttemptResult, Candidate, DiscoverConfig, Discovery, Source};

#[path = "running.rs"]
mod running;
pub use running::{discover, start, Running};

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
#[path = "run_tests.rs"]
mod tests;
