//! `mailsetup probe`: every endpoint at once, no login.

use std::time::Instant;

use super::progress::{Event, Progress};
use crate::model::Endpoint;
use crate::report::{sort_endpoints, Code, EndpointReport, ProbeReport, Problem};
use crate::session::{probe_endpoint, SessionConfig};

/// Probes all endpoints concurrently; the wall time is the slowest endpoint, bounded by the deadline.
pub async fn probe_all(
    endpoints: Vec<Endpoint>,
    cfg: &SessionConfig,
    progress: &Progress,
) -> Vec<EndpointReport> {
    let results = super::run_all(endpoints.clone(), cfg.deadline, |ep| {
        let (cfg, progress) = (cfg.clone(), progress.clone());
        async move {
            progress.emit(Event::EndpointStarted { url: ep.url() });
            let rep = probe_endpoint(&ep, &cfg).await;
            progress.finished(&rep);
            rep
        }
    })
    .await;
    let mut out: Vec<EndpointReport> = results
        .into_iter()
        .zip(endpoints.iter())
        .map(|(rep, ep)| rep.unwrap_or_else(|| deadline_report(ep)))
        .collect();
    if cfg.tls.insecure {
        mark_insecure(&mut out);
    }
    sort_endpoints(&mut out);
    out
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

pub async fn run(
    endpoints: Vec<Endpoint>,
    cfg: &SessionConfig,
    progress: &Progress,
) -> ProbeReport {
    let start = Instant::now();
    let endpoints = probe_all(endpoints, cfg, progress).await;
    ProbeReport {
        version: 1,
        command: "probe".into(),
        insecure: cfg.tls.insecure,
        endpoints,
        elapsed_ms: start.elapsed().as_millis() as u64,
    }
}
