//! `mailsetup probe`: every endpoint at once, no login.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::model::Endpoint;
use crate::report::{sort_endpoints, Code, EndpointReport, ProbeReport, Problem};
use crate::session::{probe_endpoint, SessionConfig};

/// How many endpoints are worked on at once.
pub const DEFAULT_CONCURRENCY: usize = 32;

/// Probes all endpoints concurrently; the wall time is the slowest endpoint, bounded by the deadline.
pub async fn probe_all(endpoints: Vec<Endpoint>, cfg: &SessionConfig) -> Vec<EndpointReport> {
    let semaphore = Arc::new(Semaphore::new(DEFAULT_CONCURRENCY));
    let mut set = JoinSet::new();
    for (i, ep) in endpoints.iter().cloned().enumerate() {
        let cfg = cfg.clone();
        let semaphore = semaphore.clone();
        set.spawn(async move {
            let _permit = semaphore.acquire_owned().await;
            (i, probe_endpoint(&ep, &cfg).await)
        });
    }
    let mut reports: Vec<Option<EndpointReport>> = vec![None; endpoints.len()];
    // Every phase is already capped by the deadline; the grace only covers scheduling.
    let hard_stop = tokio::time::Instant::from_std(cfg.deadline + Duration::from_millis(300));
    while let Ok(Some(joined)) = tokio::time::timeout_at(hard_stop, set.join_next()).await {
        if let Ok((i, rep)) = joined {
            reports[i] = Some(rep);
        }
    }
    set.abort_all();
    let mut out: Vec<EndpointReport> = reports
        .into_iter()
        .zip(endpoints.iter())
        .map(|(rep, ep)| {
            rep.unwrap_or_else(|| {
                let mut r = EndpointReport::new(ep);
                r.problems.push(Problem::error(
                    Code::Timeout,
                    "the overall deadline (--timeout) ran out",
                ));
                r.finish();
                r
            })
        })
        .collect();
    if cfg.tls.insecure {
        mark_insecure(&mut out);
    }
    sort_endpoints(&mut out);
    out
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

pub async fn run(endpoints: Vec<Endpoint>, cfg: &SessionConfig) -> ProbeReport {
    let start = Instant::now();
    let endpoints = probe_all(endpoints, cfg).await;
    ProbeReport {
        version: 1,
        command: "probe".into(),
        insecure: cfg.tls.insecure,
        endpoints,
        elapsed_ms: start.elapsed().as_millis() as u64,
    }
}
