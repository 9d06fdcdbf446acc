//! Phases as data: what an endpoint (or a discovery lookup) spent its time on, each phase with
//! its start and end in milliseconds since the run started, on one clock for the whole run,
//! so every endpoint and lookup can be drawn on one time axis (the waterfall).
//!
//! The session records phases sequentially: [`Phases::begin`] ends the phase before it (as
//! `ok`) and opens the next; whatever stops a session ends the open phase with the status of
//! the problem that stopped it. So a failure always lands on the phase that was running.

use std::time::Instant;

use serde::{Deserialize, Serialize};

/// The run's clock: every phase is measured from its `origin`.
#[derive(Debug, Clone, Copy)]
pub struct RunClock {
    origin: Instant,
}

impl Default for RunClock {
    fn default() -> Self {
        RunClock::starting_now()
    }
}

impl RunClock {
    pub fn starting_now() -> Self {
        RunClock {
            origin: Instant::now(),
        }
    }

    /// Milliseconds from the run's start to `t` (0 for instants before it).
    pub fn ms(&self, t: Instant) -> u64 {
        t.saturating_duration_since(self.origin).as_millis() as u64
    }

    pub fn now_ms(&self) -> u64 {
        self.ms(Instant::now())
    }
}

/// Names of phases: a stable contract (docs/json.md), values are only added.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PhaseName {
    /// Name resolution of the host to connect to; in discovery, a DNS lookup (SRV, MX,
    /// guessed host names).
    Dns,
    /// TCP connect (all addresses raced).
    Connect,
    /// Waiting for the server's greeting.
    Greeting,
    /// The STARTTLS/STLS command and its reply.
    Starttls,
    /// The TLS handshake (implicit TLS, or after STARTTLS), certificate check included.
    TlsHandshake,
    /// CAPABILITY / CAPA / EHLO (before and after TLS on STARTTLS endpoints).
    Capabilities,
    /// One login attempt.
    Login,
    /// Quota and message count after a login.
    Quota,
    /// The send-and-receive round trip, when it runs.
    RoundTrip,
    /// Discovery: an HTTP(S) request (autoconfig, ISPDB, Autodiscover).
    Http,
    /// Discovery: a lookup in the built-in provider database.
    Database,
}

impl PhaseName {
    pub fn as_str(self) -> &'static str {
        match self {
            PhaseName::Dns => "dns",
            PhaseName::Connect => "connect",
            PhaseName::Greeting => "greeting",
            PhaseName::Starttls => "starttls",
            PhaseName::TlsHandshake => "tls-handshake",
            PhaseName::Capabilities => "capabilities",
            PhaseName::Login => "login",
            PhaseName::Quota => "quota",
            PhaseName::RoundTrip => "round-trip",
            PhaseName::Http => "http",
            PhaseName::Database => "database",
        }
    }
}

/// How a phase ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PhaseStatus {
    Ok,
    /// A lookup that answered "nothing here" (discovery).
    NotFound,
    Error,
    Timeout,
}

impl PhaseStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            PhaseStatus::Ok => "ok",
            PhaseStatus::NotFound => "not-found",
            PhaseStatus::Error => "error",
            PhaseStatus::Timeout => "timeout",
        }
    }
}

/// One phase on the run's time axis.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Phase {
    pub name: PhaseName,
    pub start_ms: u64,
    pub end_ms: u64,
    pub status: PhaseStatus,
}

/// The phases of one endpoint, recorded one after another. Serialised as the plain list.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Phases {
    done: Vec<Phase>,
    /// The running phase: (name, start_ms).
    #[serde(skip)]
    open: Option<(PhaseName, u64)>,
}

impl Phases {
    /// Ends the running phase as `ok` at `at_ms` and starts `name` there.
    pub fn begin(&mut self, name: PhaseName, at_ms: u64) {
        self.end(at_ms, PhaseStatus::Ok);
        self.open = Some((name, at_ms));
    }

    /// Ends the running phase (if any) at `at_ms` with `status`.
    pub fn end(&mut self, at_ms: u64, status: PhaseStatus) {
        if let Some((name, start_ms)) = self.open.take() {
            self.done.push(Phase {
                name,
                start_ms,
                end_ms: at_ms.max(start_ms),
                status,
            });
        }
    }

    /// Adds a finished phase (e.g. from a reconnection recorded elsewhere).
    pub fn push(&mut self, phase: Phase) {
        self.done.push(phase);
    }

    pub fn is_running(&self) -> bool {
        self.open.is_some()
    }

    pub fn list(&self) -> &[Phase] {
        &self.done
    }

    pub fn into_list(mut self, at_ms: u64, status: PhaseStatus) -> Vec<Phase> {
        self.end(at_ms, status);
        self.done
    }
}

impl From<Vec<Phase>> for Phases {
    fn from(done: Vec<Phase>) -> Self {
        Phases { done, open: None }
    }
}

/// The earliest start and latest end over phases (None when there are none).
pub fn span(phases: &[Phase]) -> Option<(u64, u64)> {
    let start = phases.iter().map(|p| p.start_ms).min()?;
    let end = phases.iter().map(|p| p.end_ms).max()?;
    Some((start, end))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phases_are_sequential_and_the_last_takes_the_failure() {
        let mut p = Phases::default();
        p.begin(PhaseName::Dns, 0);
        p.begin(PhaseName::Connect, 2);
        p.begin(PhaseName::Greeting, 5);
        p.end(9, PhaseStatus::Timeout);
        p.end(12, PhaseStatus::Error); // nothing open: no-op
        let json = serde_json::to_string(&p).unwrap();
        assert_eq!(
            json,
            r#"[{"name":"dns","start_ms":0,"end_ms":2,"status":"ok"},{"name":"connect","start_ms":2,"end_ms":5,"status":"ok"},{"name":"greeting","start_ms":5,"end_ms":9,"status":"timeout"}]"#
        );
        let back: Phases = serde_json::from_str(&json).unwrap();
        assert_eq!(back.list().len(), 3);
        assert_eq!(span(back.list()), Some((0, 9)));
    }

    #[test]
    fn an_end_before_the_start_is_clamped() {
        let mut p = Phases::default();
        p.begin(PhaseName::Login, 10);
        p.end(3, PhaseStatus::Ok);
        assert_eq!(p.list()[0].end_ms, 10);
    }
}
