//! The one driver: runs any protocol's client state machine (`proto::{imap,pop3,smtp}::Client`)
//! over a real connection. It connects, starts TLS when the machine asks, times every wait
//! (greeting, command, handshake, the overall deadline), bounds what a connection may receive,
//! writes the trace, and records what happened as facts. Every protocol decision is the
//! machine's; every word for the user is `report`'s.

use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::facts::EndpointFacts;
use super::{SessionConfig, Trace};
use crate::model::timing::{PhaseName, PhaseStatus};
use crate::model::{Endpoint, Mechanism, Protocol, Security};
use crate::net::connect::{self as net, ConnectError};
use crate::net::stream::{self, HandshakeFailure, Stream};
use crate::proto::client::{
    Attempt, ClientMachine, Event, Failure, Interruption, LoginImpossible, LoginRequest, Setup,
    Step, Wait,
};

/// Upper bound on what one connection may receive before we stop reading.
pub const MAX_RECEIVED: usize = 4 * 1024 * 1024;

/// How long a server gets to answer a command pipelined with STARTTLS, inside TLS, before
/// we call it safe (`--check-injection`).
pub const INJECTION_WAIT: Duration = Duration::from_millis(1500);

/// Why a run of the driver stopped.
#[derive(Debug, Clone, PartialEq)]
pub enum Stop {
    /// Secured and greeted: a login may start, or the session is closed.
    Ready,
    /// The conversation ended. `remaining`: planned attempts that need a fresh connection.
    Finished { remaining: Vec<Mechanism> },
    /// The conversation failed (the facts say how).
    Failed,
    /// `--check-injection`: the server aborted the TLS handshake after STARTTLS and the
    /// pipelined command (the safe answer); the endpoint needs a fresh connection.
    InjectionRefused,
}

/// A connection and the machine that speaks on it.
pub struct Driver {
    pub(super) stream: Stream,
    pub(super) machine: Box<dyn ClientMachine>,
    pub(super) trace: Trace,
    pub(super) label: String,
    cfg: SessionConfig,
    sni: String,
    received: usize,
    /// What the machine waited for when the last bytes came (the words of a failure).
    waiting_for: &'static str,
    /// The machine was interrupted since the last step began (timeout, close, error).
    interrupted: Option<Interruption>,
    /// Login attempts and their results since the last [`Driver::take_login`].
    pub(super) attempts: Vec<Attempt>,
    pub(super) impossible: Option<LoginImpossible>,
    /// A kept session's capabilities ([`Event::Kept`]).
    pub(super) kept: Option<Vec<String>>,
}

/// Connects to `endpoint` and runs its machine until a login may start. `None` when the
/// endpoint did not pass every check: the facts say why. With `--check-injection`, a
/// server that aborts the handshake because of the pipelined command is probed again on a
/// fresh connection without the check.
pub async fn open(
    endpoint: &Endpoint,
    cfg: &SessionConfig,
    facts: &mut EndpointFacts,
) -> Option<Driver> {
    let opened = open_once(endpoint, cfg, facts).await;
    if !matches!(opened, Err(Stop::InjectionRefused)) {
        return opened.ok();
    }
    let plain = SessionConfig {
        check_injection: false,
        ..cfg.clone()
    };
    let phases = std::mem::take(&mut facts.phases);
    *facts = EndpointFacts::new(endpoint);
    facts.phases = phases;
    facts.injection = Some(super::facts::Injection::RefusedHandshake);
    open_once(endpoint, &plain, facts).await.ok()
}

async fn open_once(
    endpoint: &Endpoint,
    cfg: &SessionConfig,
    facts: &mut EndpointFacts,
) -> Result<Driver, Stop> {
    let clock = cfg.clock;
    facts.phases.begin(PhaseName::Dns, clock.now_ms());
    let mut resolved = None;
    let connected = net::connect_timed(
        &cfg.connect_to,
        &cfg.dns,
        &endpoint.host,
        endpoint.port,
        cfg.phase(cfg.timeouts.connect),
        &mut resolved,
    )
    .await;
    if let Some(t) = resolved {
        facts.phases.begin(PhaseName::Connect, clock.ms(t));
    }
    let connected = match connected {
        Ok(c) => c,
        Err(e) => {
            let status = match e {
                ConnectError::Timeout { .. } => PhaseStatus::Timeout,
                _ => PhaseStatus::Error,
            };
            facts.phases.end(clock.now_ms(), status);
            facts.connect_error = Some(e);
            return Err(Stop::Failed);
        }
    };
    facts.address = Some(connected.peer.to_string());
    facts.connect_ms = Some(connected.elapsed.as_millis() as u64);
    let label = endpoint.url();
    cfg.trace
        .line(&label, "--", &format!("connected to {}", connected.peer));
    let setup = Setup {
        security: endpoint.security,
        check_injection: cfg.check_injection && endpoint.security == Security::StartTls,
        ehlo_name: cfg.ehlo_name.clone(),
    };
    let machine: Box<dyn ClientMachine> = match endpoint.protocol {
        Protocol::Imap => Box::new(crate::proto::imap::client::Client::new(setup)),
        Protocol::Pop3 => Box::new(crate::proto::pop3::client::Client::new(setup)),
        Protocol::Smtp => Box::new(crate::proto::smtp::client::Client::new(setup)),
    };
    let mut driver = Driver {
        stream: Stream::Plain(connected.stream),
        machine,
        trace: cfg.trace.clone(),
        label,
        cfg: cfg.clone(),
        sni: endpoint.host.clone(),
        received: 0,
        waiting_for: "the greeting",
        interrupted: None,
        attempts: Vec::new(),
        impossible: None,
        kept: None,
    };
    if endpoint.security == Security::Tls {
        driver.handshake(facts, false).await?;
    }
    match driver.run(facts).await {
        Stop::Ready => {
            facts.ready = true;
            Ok(driver)
        }
        other => {
            driver.shutdown().await;
            Err(other)
        }
    }
}

impl Driver {
    fn note(&self, text: &str) {
        self.trace.line(&self.label, "--", text);
    }

    /// Runs the machine until it is ready for a login, finished, or failed.
    pub async fn run(&mut self, facts: &mut EndpointFacts) -> Stop {
        loop {
            self.flush(self.cfg.phase(self.cfg.timeouts.command)).await;
            let mut stop = None;
            let mut handled = false;
            while let Some(event) = self.machine.poll_event() {
                handled = true;
                if let Some(s) = self.on_event(event, facts).await {
                    stop = Some(s);
                    if matches!(stop, Some(Stop::InjectionRefused)) {
                        return Stop::InjectionRefused;
                    }
                }
            }
            if let Some(stop) = stop {
                // A goodbye queued with the end goes out, best effort and briefly.
                let brief = (Instant::now() + Duration::from_millis(500)).min(self.cfg.deadline);
                self.flush(brief).await;
                return stop;
            }
            if handled {
                // Handling may have queued more to send (after the TLS handshake).
                continue;
            }
            let (deadline, window) = match self.machine.waiting() {
                Wait::Greeting => (self.cfg.phase(self.cfg.timeouts.greeting), false),
                Wait::Reply(_) => (self.cfg.phase(self.cfg.timeouts.command), false),
                Wait::InjectionWindow => (self.cfg.phase(INJECTION_WAIT), true),
                // Nothing to wait for and nothing said: the machine is done.
                Wait::Nothing => return Stop::Finished { remaining: vec![] },
            };
            self.waiting_for = self.machine.waiting().words();
            self.read(deadline, window).await;
        }
    }

    /// Sends every queued transmit in one write (pipelined where the machine queued more
    /// than one). A failed write interrupts the machine.
    async fn flush(&mut self, deadline: Instant) {
        let mut bytes = zeroize::Zeroizing::new(Vec::new());
        while let Some(t) = self.machine.poll_transmit() {
            self.trace.line(&self.label, "C:", &t.shown);
            bytes.extend_from_slice(&t.bytes);
        }
        if bytes.is_empty() {
            return;
        }
        let write = async {
            self.stream.write_all(&bytes).await?;
            self.stream.flush().await
        };
        let why = match tokio::time::timeout_at(deadline.into(), write).await {
            Ok(Ok(())) => return,
            Err(_) => Interruption::Timeout,
            Ok(Err(e)) => Interruption::Io(format!("sending failed: {e}")),
        };
        self.interrupt(why);
    }

    fn interrupt(&mut self, why: Interruption) {
        self.interrupted = Some(why.clone());
        self.machine.interrupted(why);
    }

    /// One read, fed to the machine; a timeout, close, error or too much data interrupts it.
    async fn read(&mut self, deadline: Instant, window: bool) {
        let mut buf = vec![0u8; 8192];
        match tokio::time::timeout_at(deadline.into(), self.stream.read(&mut buf)).await {
            Err(_) if window => self.machine.injection_window_closed(),
            Err(_) => self.interrupt(Interruption::Timeout),
            Ok(Err(e)) => self.interrupt(Interruption::Io(e.to_string())),
            Ok(Ok(0)) => self.interrupt(Interruption::Closed),
            Ok(Ok(n)) => {
                self.received += n;
                if self.received > MAX_RECEIVED {
                    return self.interrupt(Interruption::TooMuchData {
                        limit: MAX_RECEIVED,
                    });
                }
                if self.trace.enabled() {
                    let text = String::from_utf8_lossy(&buf[..n]);
                    for line in text.split_inclusive('\n') {
                        self.trace
                            .line(&self.label, "S:", line.trim_end_matches(['\r', '\n']));
                    }
                }
                self.machine.feed(&buf[..n]);
            }
        }
    }

    async fn on_event(&mut self, event: Event, facts: &mut EndpointFacts) -> Option<Stop> {
        let now = self.cfg.clock.now_ms();
        match event {
            Event::Step(step) => {
                self.interrupted = None;
                facts.phases.begin(phase_of(step), now);
            }
            Event::Greeting(g) => facts.greeting = Some(g),
            Event::CapabilitiesBeforeTls(c) => facts.capabilities_before_tls = Some(c),
            Event::Capabilities(c) => facts.capabilities = Some(c),
            Event::NeedTls => {
                // Bytes already in the kernel after the positive reply are the machine's to
                // judge (an injection); only an empty line may be upgraded.
                let pending = self.stream.pending_plain();
                if !pending.is_empty() {
                    self.machine.feed(&pending);
                    return None;
                }
                if let Err(stop) = self.handshake(facts, true).await {
                    return Some(stop);
                }
                self.machine.tls_established();
            }
            Event::Ready => return Some(Stop::Ready),
            Event::Injection(_) => facts.injection = Some(super::facts::Injection::NotVulnerable),
            Event::Attempt(a) => {
                let status = match a.outcome {
                    crate::proto::client::Outcome::Ok(_) => PhaseStatus::Ok,
                    _ => self.status(),
                };
                facts.phases.end(now, status);
                self.attempts.push(a);
            }
            Event::Quota(q) => {
                facts.quota.get_or_insert(q);
            }
            Event::Folders(f) => {
                facts.folders.get_or_insert(*f);
            }
            Event::LoginImpossible(l) => self.impossible = Some(l),
            Event::Kept { capabilities } => self.kept = Some(capabilities),
            Event::Finished { remaining } => {
                facts.phases.end(now, self.status());
                return Some(Stop::Finished { remaining });
            }
            Event::Failed(f) => {
                let status = match &f {
                    Failure::Interrupted {
                        why: Interruption::Timeout,
                        ..
                    } => PhaseStatus::Timeout,
                    _ => PhaseStatus::Error,
                };
                facts.phases.end(now, status);
                facts.failure = Some((f, self.waiting_for));
                return Some(Stop::Failed);
            }
        }
        None
    }

    /// The status of the running phase as it ends: ok unless the machine was interrupted.
    fn status(&self) -> PhaseStatus {
        match &self.interrupted {
            None => PhaseStatus::Ok,
            Some(Interruption::Timeout) => PhaseStatus::Timeout,
            Some(_) => PhaseStatus::Error,
        }
    }

    /// The TLS handshake, on implicit TLS or after a positive STARTTLS reply.
    async fn handshake(
        &mut self,
        facts: &mut EndpointFacts,
        after_starttls: bool,
    ) -> Result<(), Stop> {
        facts
            .phases
            .begin(PhaseName::TlsHandshake, self.cfg.clock.now_ms());
        let Stream::Plain(tcp) = std::mem::replace(&mut self.stream, Stream::Gone) else {
            // The machines ask for TLS once; a second request is a failed conversation.
            facts.handshake_failure = Some((
                HandshakeFailure::Other("TLS was requested twice".into()),
                after_starttls,
            ));
            return Err(Stop::Failed);
        };
        self.note("TLS handshake");
        let deadline = self.cfg.phase(self.cfg.timeouts.tls);
        let (result, hf) = stream::handshake(tcp, &self.cfg.tls, &self.sni, deadline).await;
        facts.tls = Some(hf);
        match result {
            Ok(tls) => {
                if let Some(r) = facts.tls.as_ref().and_then(|t| t.report.as_ref()) {
                    self.note(&format!(
                        "TLS established: {} {}",
                        r.version.as_deref().unwrap_or("?"),
                        r.cipher.as_deref().unwrap_or("?")
                    ));
                }
                self.stream = Stream::Tls(tls);
                Ok(())
            }
            Err(f) => {
                // A server that drops the handshake because of the pipelined command refuses
                // the injection: the safe behaviour, not a TLS problem of the endpoint.
                if after_starttls
                    && self.cfg.check_injection
                    && matches!(
                        f,
                        HandshakeFailure::Other(_) | HandshakeFailure::Incompatible(_)
                    )
                {
                    facts
                        .phases
                        .end(self.cfg.clock.now_ms(), PhaseStatus::Error);
                    return Err(Stop::InjectionRefused);
                }
                let status = if f == HandshakeFailure::Timeout {
                    PhaseStatus::Timeout
                } else {
                    PhaseStatus::Error
                };
                facts.phases.end(self.cfg.clock.now_ms(), status);
                facts.handshake_failure = Some((f, after_starttls));
                Err(Stop::Failed)
            }
        }
    }

    /// Starts a login on a ready connection and runs it to its end.
    pub async fn login(&mut self, request: LoginRequest, facts: &mut EndpointFacts) -> Stop {
        self.machine.login(request);
        self.run(facts).await
    }

    /// Says goodbye on a ready connection and closes it.
    pub async fn close(mut self, facts: &mut EndpointFacts) {
        self.machine.close();
        let _ = self.run(facts).await;
        self.shutdown().await;
    }

    /// Best-effort polite close of the socket.
    pub async fn shutdown(&mut self) {
        let deadline = Instant::now() + Duration::from_millis(200);
        let _ = tokio::time::timeout_at(deadline.into(), self.stream.shutdown()).await;
    }

    /// A kept session: the socket, and whatever arrived but was not read yet.
    pub(super) fn into_kept(mut self) -> (Stream, Vec<u8>, Trace, String) {
        let buffered = self.machine.take_buffered();
        (self.stream, buffered, self.trace, self.label)
    }
}

fn phase_of(step: Step) -> PhaseName {
    match step {
        Step::Greeting => PhaseName::Greeting,
        Step::Capabilities => PhaseName::Capabilities,
        Step::StartTls => PhaseName::Starttls,
        Step::Login => PhaseName::Login,
        Step::Quota => PhaseName::Quota,
    }
}
