//! Drives one endpoint: connect, TLS or STARTTLS, greeting, capabilities (and, later, login).
//! Protocol decisions are made by `proto`; this layer does I/O, deadlines and limits.

pub mod conn;
pub mod handoff;
mod imap;
pub mod login;
mod pop3;
mod smtp;

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::model::timing::{PhaseName, PhaseStatus, RunClock};
use crate::model::{Endpoint, Protocol, Security};
use crate::net::connect::{self as net, ConnectError, ConnectTo};
use crate::net::tls::TlsContext;
use crate::proto::StartTlsRefusal;
use crate::report::escape::terminal_safe;
use crate::report::{Code, EndpointReport, Problem};
use conn::Conn;

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
            eprintln!("[{label}] {dir} {}", terminal_safe(text));
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
    /// Starts phase `name` of `rep` now (the running phase ends as ok).
    pub fn begin_phase(&self, rep: &mut EndpointReport, name: PhaseName) {
        rep.phases.begin(name, self.clock.now_ms());
    }

    /// Ends the running phase of `rep` now.
    pub fn end_phase(&self, rep: &mut EndpointReport, status: PhaseStatus) {
        rep.phases.end(self.clock.now_ms(), status);
    }

    /// The end of a phase that may take `d`, never past the overall deadline.
    pub fn phase(&self, d: Duration) -> Instant {
        (Instant::now() + d).min(self.deadline)
    }
}

/// Probes one endpoint without logging in.
pub async fn probe_endpoint(endpoint: &Endpoint, cfg: &SessionConfig) -> EndpointReport {
    let start = Instant::now();
    let mut rep = EndpointReport::new(endpoint);
    if let Some(mut conn) = open(endpoint, cfg, &mut rep).await {
        cfg.end_phase(&mut rep, PhaseStatus::Ok);
        conn.shutdown().await;
    }
    rep.elapsed_ms = start.elapsed().as_millis() as u64;
    rep.finish();
    rep
}

/// Protocol state after a secured session is established.
pub enum ProtoState {
    Imap(imap::ImapState),
    Pop3(pop3::Pop3State),
    /// The EHLO reply read over the secured connection.
    Smtp(crate::proto::smtp::Reply),
}

/// Connects and secures a session up to the point where login could start.
/// Returns the connection only when every check passed (the state a credential may follow).
pub async fn open(
    endpoint: &Endpoint,
    cfg: &SessionConfig,
    rep: &mut EndpointReport,
) -> Option<Conn> {
    open_state(endpoint, cfg, rep).await.map(|(conn, _)| conn)
}

/// As [`open`], with the protocol state a login continues from.
pub async fn open_state(
    endpoint: &Endpoint,
    cfg: &SessionConfig,
    rep: &mut EndpointReport,
) -> Option<(Conn, ProtoState)> {
    let opened = open_once(endpoint, cfg, rep).await;
    if opened.is_none() {
        // Whatever stopped the session ends the phase that was running.
        cfg.end_phase(rep, crate::report::phase_status(&rep.problems));
    }
    if opened.is_none() && cfg.check_injection && rep.has(Code::StarttlsInjectionNotVulnerable) {
        // The injection check cost us this connection; probe normally on a fresh one.
        let verdict: Vec<Problem> = rep
            .problems
            .iter()
            .filter(|p| p.code == Code::StarttlsInjectionNotVulnerable)
            .cloned()
            .collect();
        *rep = EndpointReport::new(endpoint);
        let plain_cfg = SessionConfig {
            check_injection: false,
            ..cfg.clone()
        };
        let opened = open_once(endpoint, &plain_cfg, rep).await;
        if opened.is_none() {
            cfg.end_phase(rep, crate::report::phase_status(&rep.problems));
        }
        rep.problems.extend(verdict);
        return opened;
    }
    opened
}

async fn open_once(
    endpoint: &Endpoint,
    cfg: &SessionConfig,
    rep: &mut EndpointReport,
) -> Option<(Conn, ProtoState)> {
    if endpoint.security == Security::Plain {
        rep.problems.push(Problem::warning(
            Code::PlaintextEndpoint,
            "no TLS on this endpoint: anything sent here, passwords included, can be read on the network",
        ));
    }
    cfg.begin_phase(rep, PhaseName::Dns);
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
        rep.phases.begin(PhaseName::Connect, cfg.clock.ms(t));
    }
    let connected = match connected {
        Ok(c) => c,
        Err(e) => {
            rep.problems.push(connect_problem(&e));
            return None;
        }
    };
    rep.address = Some(connected.peer.to_string());
    rep.connect_ms = Some(connected.elapsed.as_millis() as u64);
    let label = endpoint.url();
    cfg.trace
        .line(&label, "--", &format!("connected to {}", connected.peer));
    let mut conn = Conn::new(connected.stream, cfg.trace.clone(), label);

    if endpoint.security == Security::Tls {
        cfg.begin_phase(rep, PhaseName::TlsHandshake);
        if let Err(problems) = conn
            .start_tls(
                &cfg.tls,
                &endpoint.host,
                false,
                cfg.phase(cfg.timeouts.tls),
                rep,
            )
            .await
        {
            rep.problems.extend(problems);
            return None;
        }
    }
    let result = match endpoint.protocol {
        Protocol::Imap => imap::establish_state(&mut conn, endpoint, cfg, rep)
            .await
            .map(ProtoState::Imap),
        Protocol::Pop3 => pop3::establish_state(&mut conn, endpoint, cfg, rep)
            .await
            .map(ProtoState::Pop3),
        Protocol::Smtp => smtp::establish_state(&mut conn, endpoint, cfg, rep)
            .await
            .map(ProtoState::Smtp),
    };
    match result {
        Ok(state) => Some((conn, state)),
        Err(problems) => {
            rep.problems.extend(problems);
            conn.shutdown().await;
            None
        }
    }
}

/// The STARTTLS upgrade after a positive reply, shared by the three protocols:
/// nothing may be buffered; then the handshake with pre-TLS state discarded.
async fn upgrade_after_starttls(
    conn: &mut Conn,
    endpoint: &Endpoint,
    cfg: &SessionConfig,
    rep: &mut EndpointReport,
) -> Result<(), Vec<Problem>> {
    if let Err(StartTlsRefusal::Injection { buffered }) =
        crate::proto::starttls_buffer_check(conn.pending_after_starttls())
    {
        return Err(vec![Problem::error(
            Code::StarttlsInjection,
            format!("{buffered} byte(s) arrived after the positive STARTTLS reply, before encryption began"),
        )]);
    }
    cfg.begin_phase(rep, PhaseName::TlsHandshake);
    let result = conn
        .start_tls(
            &cfg.tls,
            &endpoint.host,
            true,
            cfg.phase(cfg.timeouts.tls),
            rep,
        )
        .await;
    match result {
        // A server that drops the handshake because of the pipelined command refuses the
        // injection: the safe behaviour, not a TLS problem of the endpoint.
        Err(problems)
            if cfg.check_injection
                && problems.iter().all(|p| {
                    matches!(p.code, Code::TlsHandshakeFailed | Code::ConnectionClosed)
                }) =>
        {
            rep.tls = None;
            Err(vec![Problem::info(
                Code::StarttlsInjectionNotVulnerable,
                "the server refused the command pipelined with STARTTLS (it aborted the handshake): not vulnerable to STARTTLS command injection",
            )])
        }
        other => other,
    }
}

/// The STARTTLS command, with a harmless command pipelined in the same segment when
/// `--check-injection` asks for it.
fn starttls_bytes(cfg: &SessionConfig, starttls: Vec<u8>, probe: Vec<u8>) -> Vec<u8> {
    if cfg.check_injection {
        [starttls, probe].concat()
    } else {
        starttls
    }
}

/// How long a server gets to answer a pipelined command inside TLS before we call it safe.
const INJECTION_WAIT: Duration = Duration::from_millis(1500);

/// After the handshake of a `--check-injection` run: a vulnerable server now answers the
/// command we pipelined with STARTTLS, before we have sent anything inside TLS.
async fn injection_verdict(
    conn: &mut Conn,
    cfg: &SessionConfig,
    rep: &mut EndpointReport,
    pipelined: &str,
) -> Result<(), Vec<Problem>> {
    if !cfg.check_injection {
        return Ok(());
    }
    let seen = conn.bytes_within(INJECTION_WAIT, cfg.deadline).await;
    if seen > 0 {
        let text = conn
            .reader
            .next_line()
            .ok()
            .flatten()
            .map(|l| crate::proto::text(&l))
            .unwrap_or_default();
        return Err(vec![Problem::error(
            Code::ServerStarttlsCommandInjection,
            format!(
                "the server executed the {pipelined} we pipelined with STARTTLS and answered it inside TLS ({text:?}): \
                 an attacker can inject commands into the encrypted session (CVE-2011-0411 class)"
            ),
        )]);
    }
    rep_not_vulnerable(rep, pipelined);
    Ok(())
}

fn rep_not_vulnerable(rep: &mut EndpointReport, pipelined: &str) {
    rep.problems.push(Problem::info(
        Code::StarttlsInjectionNotVulnerable,
        format!("the {pipelined} pipelined with STARTTLS was not executed inside TLS: not vulnerable to STARTTLS command injection"),
    ));
}

/// Turns a STARTTLS refusal into the problem the user sees.
fn starttls_problem(r: StartTlsRefusal) -> Problem {
    match r {
        StartTlsRefusal::NotOffered => Problem::error(
            Code::StarttlsNotOffered,
            "the server does not advertise STARTTLS, so this connection can't be encrypted",
        ),
        StartTlsRefusal::Rejected(reply) => Problem::error(
            Code::StarttlsRejected,
            format!("the server refused STARTTLS: {reply}"),
        ),
        StartTlsRefusal::Injection { buffered } => Problem::error(
            Code::StarttlsInjection,
            format!("{buffered} byte(s) arrived after the positive STARTTLS reply, before encryption began"),
        ),
        StartTlsRefusal::PreAuth(text) => Problem::error(
            Code::PreauthBeforeTls,
            format!("the server greeted with PREAUTH before TLS: {text}"),
        ),
    }
}

fn connect_problem(e: &ConnectError) -> Problem {
    let code = match e {
        ConnectError::Dns { .. } => Code::DnsFailed,
        ConnectError::Refused { .. } => Code::ConnectRefused,
        ConnectError::Timeout { .. } => Code::ConnectTimeout,
        ConnectError::Other { .. } => Code::ConnectFailed,
    };
    Problem::error(code, e.to_string())
}
