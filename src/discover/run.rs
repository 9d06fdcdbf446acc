//! The discovery run: every enabled source at once under one deadline, each lookup recorded
//! as an [`Attempt`] the moment it starts, so a source still running at the deadline is
//! reported `timeout` while everything already found stands.

use std::sync::{Arc, Mutex};
use std::time::Instant;

use tokio::task::JoinSet;

use crate::model::{Address, Transport};
use crate::report::timing::{Phase, PhaseName, PhaseStatus, RunClock};

use super::net::Net;
use super::{
    guess, idn, ispdb, merge, Attempt, AttemptResult, Candidate, DiscoverConfig, Discovery, Source,
};

/// One recorded lookup; `done` stays `None` while it runs.
struct Slot {
    source: Source,
    target: String,
    started: Instant,
    done: Option<(AttemptResult, String, u64)>,
    ended: Option<Instant>,
}

#[derive(Default)]
struct State {
    slots: Vec<Slot>,
    /// (attempt id, candidate): the id orders candidates deterministically.
    candidates: Vec<(usize, Candidate)>,
    providers: Vec<(Source, String)>,
}

/// Shared by all source tasks of one run.
#[derive(Default)]
pub(super) struct Recorder(Mutex<State>, Option<super::AttemptHook>, RunClock);

/// A lookup's outcome.
pub(super) struct Outcome {
    pub result: AttemptResult,
    pub detail: String,
    pub candidates: Vec<Candidate>,
    pub provider: Option<String>,
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
        }
    }

    pub fn empty(result: AttemptResult, detail: impl Into<String>) -> Self {
        Outcome {
            result,
            detail: detail.into(),
            candidates: Vec::new(),
            provider: None,
        }
    }

    pub fn from_error(e: &super::net::NetError) -> Self {
        use super::net::NetError::*;
        let result = match e {
            NotFound(_) => AttemptResult::NotFound,
            Timeout(_) => AttemptResult::Timeout,
            Failed(_) => AttemptResult::Error,
        };
        Outcome::empty(result, e.detail())
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
            ended: None,
        });
        st.slots.len() - 1
    }

    /// Records how a lookup ended, with what it found.
    pub fn end(&self, id: usize, outcome: Outcome) {
        let mut st = self.state();
        let source = st.slots[id].source;
        let elapsed = st.slots[id].started.elapsed().as_millis() as u64;
        let detail = one_line(&outcome.detail);
        if let Some(hook) = &self.1 {
            hook(source, &st.slots[id].target, Some(outcome.result));
        }
        st.slots[id].done = Some((outcome.result, detail, elapsed));
        st.slots[id].ended = Some(Instant::now());
        st.candidates
            .extend(outcome.candidates.into_iter().map(|c| (id, c)));
        if let Some(p) = outcome.provider {
            st.providers.push((source, p));
        }
    }

    /// Sources that recorded nothing before the deadline get one `timeout` attempt.
    fn unstarted(&self, sources: &[Source], target: &str) {
        for &s in sources {
            if !self.state().slots.iter().any(|x| x.source == s) {
                let id = self.begin(s, target);
                self.end(
                    id,
                    Outcome::empty(AttemptResult::Timeout, "not started before the deadline"),
                );
            }
        }
    }

    /// The report. Unfinished lookups are `timeout` when the deadline stopped the run, else
    /// `error` (their task ended without saying how: a bug, reported rather than hidden).
    fn finish(&self, deadline_hit: bool, address: &Address, domain_ascii: &str) -> Discovery {
        let st = self.state();
        let mut order: Vec<usize> = (0..st.slots.len()).collect();
        order.sort_by_key(|&i| (st.slots[i].source, i));
        let attempts: Vec<Attempt> = order
            .iter()
            .map(|&i| {
                let s = &st.slots[i];
                let (result, detail, elapsed_ms) = match &s.done {
                    Some((r, d, e)) => (*r, d.clone(), *e),
                    None if deadline_hit => (
                        AttemptResult::Timeout,
                        "still running at the deadline".to_string(),
                        s.started.elapsed().as_millis() as u64,
                    ),
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
                    phases: vec![phase],
                }
            })
            .collect();
        let mut found: Vec<(usize, Candidate)> = st.candidates.clone();
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
        Discovery {
            attempts,
            candidates: merge(found),
            provider,
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
}

/// Runs every enabled source at once and returns what was found by the deadline.
///
/// Offline (`cfg.offline`), only the built-in DB is consulted and nothing touches the
/// network. No mail port is ever connected to: guessed hosts are only resolved.
pub async fn discover(address: &Address, cfg: &DiscoverConfig) -> Discovery {
    let rec = Arc::new(Recorder(
        Mutex::default(),
        cfg.on_attempt.clone(),
        cfg.clock,
    ));
    let domain_ascii = match idn::to_ascii(&address.domain) {
        Ok(d) => d,
        Err(e) => {
            for s in Source::ALL.into_iter().filter(|s| cfg.enabled(*s)) {
                let id = rec.begin(s, address.domain.clone());
                rec.end(id, Outcome::empty(AttemptResult::Error, e.clone()));
            }
            return rec.finish(false, address, "");
        }
    };
    if cfg.enabled(Source::BuiltinDb) {
        builtin_db(&rec, address, &domain_ascii);
    }
    let network: Vec<Source> = Source::ALL
        .into_iter()
        .filter(|s| *s != Source::BuiltinDb && cfg.enabled(*s))
        .collect();
    if network.is_empty() {
        return rec.finish(false, address, &domain_ascii);
    }
    let ctx = Arc::new(Ctx {
        address: address.clone(),
        domain_ascii: domain_ascii.clone(),
        net: Net::new(
            cfg.dns_server,
            cfg.connect_to.clone(),
            cfg.tls.clone(),
            cfg.deadline,
        ),
        rec: rec.clone(),
        cfg: cfg.clone(),
    });
    let mut tasks = JoinSet::new();
    // The source each task reports under, to notice a task the deadline stopped unstarted.
    let mut labels = Vec::new();
    for source in network {
        let ctx = ctx.clone();
        match source {
            Source::Autoconfig | Source::AutoconfigWellknown | Source::Ispdb => {
                tasks.spawn(super::sources::config_source(ctx, source));
            }
            // One task serves both MX sources; it reports under the first enabled one.
            Source::MxBuiltinDb => {
                tasks.spawn(super::sources::mx(ctx));
            }
            Source::MxIspdb if !cfg.enabled(Source::MxBuiltinDb) => {
                tasks.spawn(super::sources::mx(ctx));
            }
            Source::Srv => {
                tasks.spawn(super::sources::srv(ctx));
            }
            Source::Autodiscover => {
                tasks.spawn(super::sources::autodiscover(ctx));
            }
            Source::Guess => {
                tasks.spawn(super::sources::guess(ctx));
            }
            Source::MxIspdb | Source::BuiltinDb => continue,
        }
        labels.push(source);
    }
    let deadline = tokio::time::Instant::from_std(cfg.deadline);
    let deadline_hit = loop {
        match tokio::time::timeout_at(deadline, tasks.join_next()).await {
            Err(_) => break true,
            Ok(None) => break false,
            Ok(Some(_)) => {}
        }
    };
    tasks.abort_all();
    if deadline_hit {
        rec.unstarted(&labels, &domain_ascii);
    }
    rec.finish(deadline_hit, address, &domain_ascii)
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
        let d = rec.finish(true, &a, "d.org");
        assert_eq!(d.attempts[0].source, Source::Autoconfig, "ranked by source");
        assert_eq!(d.attempts[0].result, AttemptResult::Timeout);
        assert_eq!(d.attempts[1].result, AttemptResult::NotFound);
        let d = rec.finish(false, &a, "d.org");
        assert_eq!(d.attempts[0].result, AttemptResult::Error);
    }
}
