//! Drives endpoints: one generic driver ([`driver`]) runs the protocol state machines of
//! `proto` over real connections (connect, TLS when the machine asks, deadlines, byte limits,
//! trace); [`login`] decides which attempts go on which connection; [`handoff`] gives verified
//! logged-in sessions to the code that continues on them. Results are facts ([`facts`]):
//! `report` words them. Protocol decisions are made by `proto`.

// No unwrap or expect outside tests; a remaining expect states its invariant (issue 13).
#![deny(clippy::unwrap_used, clippy::expect_used)]

pub mod driver;
pub mod facts;
pub mod handoff;
pub mod login;

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::model::timing::RunClock;
use crate::model::Endpoint;
use crate::net::connect::{self as net, ConnectTo};
use crate::net::tls::TlsContext;
use facts::EndpointFacts;

/// Per-phase time limits; each is also capped by the overall deadline.
#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    pub connect: Duration,
    pub greeting: Duration,
    pub tls: Duration,
    pub command: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            connect: Duration::from_secs(10),
            greeting: Duration::from_secs(10),
            tls: Duration::from_secs(10),
            command: Duration::from_secs(10),
        }
    }
}

/// The protocol trace (`-v`): one line per protocol line, on stderr, escaped.
#[derive(Clone, Default)]
pub struct Trace {
    enabled: bool,
}

impl Trace {
    pub fn stderr() -> Self {
        Trace { enabled: true }
    }
    pub fn off() -> Self {
        Trace { enabled: false }
    }
    pub fn enabled(&self) -> bool {
        self.enabled
    }
    pub fn line(&self, label: &str, dir: &str, text: &str) {
        if self.enabled {
            eprintln!("[{label}] {dir} {}", crate::model::terminal_safe(text));
        }
    }
}

/// Everything a session needs, passed down as a value (no globals).
#[derive(Clone)]
pub struct SessionConfig {
    pub timeouts: Timeouts,
    pub deadline: Instant,
    pub tls: TlsContext,
    pub connect_to: Arc<Vec<ConnectTo>>,
    /// System resolver, or `--dns-server`.
    pub dns: net::Dns,
    pub trace: Trace,
    /// Name we announce in EHLO.
    pub ehlo_name: String,
    /// `--check-injection`: pipeline a harmless command with STARTTLS and report a server
    /// that answers it inside TLS (CVE-2011-0411 class). Never combined with credentials.
    pub check_injection: bool,
    /// `check --round-trip`: verified logged-in sessions are kept here instead of closed.
    pub keep: Option<handoff::Keeper>,
    /// The run's clock: phases are recorded in ms since the run started.
    pub clock: RunClock,
}

impl SessionConfig {
    /// The end of a phase that may take `d`, never past the overall deadline.
    pub fn phase(&self, d: Duration) -> Instant {
        (Instant::now() + d).min(self.deadline)
    }
}

/// Probes one endpoint without logging in.
pub async fn probe_endpoint(endpoint: &Endpoint, cfg: &SessionConfig) -> EndpointFacts {
    let start = Instant::now();
    let mut facts = EndpointFacts::new(endpoint);
    if let Some(driver) = driver::open(endpoint, cfg, &mut facts).await {
        driver.close(&mut facts).await;
    }
    facts.elapsed_ms = start.elapsed().as_millis() as u64;
    facts
}
