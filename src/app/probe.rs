//! `mailsetup probe`: every endpoint at once, no login.

use std::time::Instant;

use super::progress::{Event, Progress};
use crate::model::Endpoint;
use crate::report::{sort_endpoints, Code, EndpointReport, ProbeReport, Problem};
use crate::session::{probe_endpoint, SessionConfig};

/// What a probe run covers.
#[derive(Debug, Clone)]
pub struct ProbePlan {
    pub endpoints: Vec<Endpoint>,
    /// The user named these endpoints (`--server`), rather than a host's standard ports.
    pub named: bool,
    /// `--strict`: every endpoint counts, a refused port included.
    pub strict: bool,
}

/// Probes all endpoints concurrently; the wall time is the slowest endpoint, bounded by the deadline.
pub async fn probe_all(
    plan: &ProbePlan,
    cfg: &SessionConfig,
    progress: &Progress,
) -> Vec<EndpointReport> {
    let named = plan.named;
    let results = super::run_all(plan.endpoints.clone(), cfg.deadline, |ep| {
        let (cfg, progress) = (cfg.clone(), progress.clone());
        async move {
            progress.emit(Event::EndpointStarted { url: ep.url() });
            let (mut rep, _) = crate::report::endpoint::build(&probe_endpoint(&ep, &cfg).await);
            named_by_user(&mut rep, named);
            progress.finished(&rep);
            rep
        }
    })
    .await;
    let mut out: Vec<EndpointReport> = results
        .into_iter()
        .zip(plan.endpoints.iter())
        .map(|(rep, ep)| {
            rep.unwrap_or_else(|| {
                let mut rep = deadline_report(ep);
                named_by_user(&mut rep, named);
                rep
            })
        })
        .collect();
    not_offered(&mut out, plan.strict);
    if cfg.tls.insecure() {
        mark_insecure(&mut out);
    }
    sort_endpoints(&mut out);
    out
}

/// `probe` touches only what the user named (a host, or `--server` URLs): trusted as named.
/// `named` says whether each endpoint itself was named (`--server`), not only its host.
fn named_by_user(rep: &mut EndpointReport, named: bool) {
    rep.named = named;
    rep.trusted = true;
    rep.trust_reason = Some(crate::model::TrustReason::Named);
}

/// On a host that accepts a connection on some port, a candidate port the user did not name (discovered,
/// guessed, a host's standard port) where nothing listens is a port the provider does not
/// offer: `not-offered` (info), not an error; no answer at all there is a warning. A host
/// where nothing answers keeps its errors (it is down, or the wrong host), and so does what
/// the user named and everything under `--strict`.
pub fn not_offered(reports: &mut [EndpointReport], strict: bool) {
    if strict {
        return;
    }
    let alive: Vec<String> = reports
        .iter()
        .filter(|r| r.address.is_some())
        .map(|r| r.host.clone())
        .collect();
    for rep in reports.iter_mut() {
        if rep.named || !alive.contains(&rep.host) {
            continue;
        }
        for p in &mut rep.problems {
            match p.code {
                Code::ConnectRefused => {
                    *p =
                        Problem::info(Code::NotOffered, format!("not offered here: {}", p.message));
                }
                Code::ConnectTimeout => p.severity = crate::report::Severity::Warning,
                _ => {}
            }
        }
        rep.finish();
    }
}

/// The exit status of a probe: as for `check` (see [`super::check::exit_code`]), a host's
/// standard ports need one working incoming and one working outgoing endpoint among the
/// protocols probed; named endpoints (`--server`) must each work; `--strict` counts all.
pub fn exit_code(report: &ProbeReport, strict: bool) -> i32 {
    let eps = &report.endpoints;
    if strict {
        return i32::from(eps.iter().any(|e| !e.status.works()));
    }
    let named_failed = eps.iter().any(|e| e.named && !e.status.works());
    let direction_missing = [true, false].into_iter().any(|incoming| {
        let of_dir = |e: &&EndpointReport| {
            !e.named && (e.protocol != crate::model::Protocol::Smtp) == incoming
        };
        eps.iter().any(|e| of_dir(&e))
            && !eps
                .iter()
                .filter(of_dir)
                .any(|e| super::check::usable(e, false))
    });
    i32::from(named_failed || direction_missing)
}

/// The report of an endpoint the overall deadline cut off.
pub fn deadline_report(ep: &Endpoint) -> EndpointReport {
    let mut r = EndpointReport::new(ep);
    r.problems.push(Problem::error(
        Code::Timeout,
        "the overall deadline (--timeout) ran out",
    ));
    r.finish();
    r
}

/// `--insecure` is reported on every endpoint of the run.
pub fn mark_insecure(reports: &mut [EndpointReport]) {
    for r in reports {
        if !r.has(Code::TlsInsecureAccepted) {
            r.problems.push(Problem::warning(
                Code::TlsInsecureAccepted,
                "certificate checks are off for this run (--insecure): this endpoint's identity was not verified",
            ));
        }
        r.finish();
    }
}

pub async fn run(plan: &ProbePlan, cfg: &SessionConfig, progress: &Progress) -> ProbeReport {
    let start = Instant::now();
    let endpoints = probe_all(plan, cfg, progress).await;
    ProbeReport {
        version: 1,
        command: "probe".into(),
        insecure: cfg.tls.insecure(),
        endpoints,
        elapsed_ms: start.elapsed().as_millis() as u64,
    }
}
