//! `mailsetup check`: probe every endpoint and verify login on each, all at once.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::model::{Address, Endpoint, Protocol};
use crate::report::{sort_endpoints, CheckReport, Code, EndpointReport, Problem, Quota};
use crate::session::login::{check_endpoint, Credentials, LoginOptions};
use crate::session::SessionConfig;

/// At this use of the quota a warning is raised.
pub const QUOTA_WARNING_PERCENT: f64 = 90.0;

pub struct CheckRequest {
    pub address: Address,
    pub username: String,
    /// Endpoints with whether credentials may go to them (`Err` = why not).
    pub endpoints: Vec<(Endpoint, Result<(), Problem>)>,
    pub credentials: Option<Credentials>,
    pub options: LoginOptions,
}

pub async fn run(req: CheckRequest, cfg: &SessionConfig) -> CheckReport {
    let start = Instant::now();
    let semaphore = Arc::new(Semaphore::new(super::probe::DEFAULT_CONCURRENCY));
    let creds = Arc::new(req.credentials);
    let opts = Arc::new(req.options);
    let mut set = JoinSet::new();
    for (i, (ep, trusted)) in req.endpoints.iter().cloned().enumerate() {
        let (cfg, semaphore, creds, opts) =
            (cfg.clone(), semaphore.clone(), creds.clone(), opts.clone());
        set.spawn(async move {
            let _permit = semaphore.acquire_owned().await;
            (
                i,
                check_endpoint(&ep, &cfg, creds.as_ref().as_ref(), &opts, trusted).await,
            )
        });
    }
    let mut results: Vec<Option<(EndpointReport, Option<Quota>)>> = vec![None; req.endpoints.len()];
    let hard_stop = tokio::time::Instant::from_std(cfg.deadline + Duration::from_millis(300));
    while let Ok(Some(joined)) = tokio::time::timeout_at(hard_stop, set.join_next()).await {
        if let Ok((i, r)) = joined {
            results[i] = Some(r);
        }
    }
    set.abort_all();
    let mut endpoints = Vec::new();
    let mut quotas = Vec::new();
    for (r, (ep, _)) in results.into_iter().zip(req.endpoints.iter()) {
        match r {
            Some((rep, quota)) => {
                if let Some(q) = quota {
                    quotas.push((ep.sort_key().0, ep.sort_key().1, q));
                }
                endpoints.push(rep);
            }
            None => {
                let mut rep = EndpointReport::new(ep);
                rep.problems.push(Problem::error(
                    Code::Timeout,
                    "the overall deadline (--timeout) ran out",
                ));
                rep.finish();
                endpoints.push(rep);
            }
        }
    }
    if cfg.tls.insecure {
        super::probe::mark_insecure(&mut endpoints);
    }
    sort_endpoints(&mut endpoints);
    // IMAP's quota knows the limit; POP3 only the use. Prefer IMAP, then implicit TLS.
    quotas.sort_by_key(|(p, s, _)| (*p != Protocol::Imap, *s));
    let quota = quotas.into_iter().map(|(_, _, q)| q).next();
    let mut problems = Vec::new();
    if let Some(q) = &quota {
        if q.percent.is_some_and(|p| p >= QUOTA_WARNING_PERCENT) {
            problems.push(Problem::warning(
                Code::QuotaNearlyFull,
                format!(
                    "the mailbox uses {:.1} % of its storage",
                    q.percent.unwrap_or_default()
                ),
            ));
        }
    }
    if creds.is_none() {
        problems.push(Problem::info(
            Code::LoginSkipped,
            "no password given and no terminal to ask on: servers were probed, login was not checked",
        ));
    }
    CheckReport {
        version: 1,
        command: "check".into(),
        address: req.address.to_string(),
        username: req.username,
        insecure: cfg.tls.insecure,
        endpoints,
        quota,
        problems,
        elapsed_ms: start.elapsed().as_millis() as u64,
    }
}
