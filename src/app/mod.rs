//! Orchestration: runs the pipeline slices behind each command, in parallel, under one deadline.

pub mod check;
pub mod files;
pub mod folders;
pub mod plan;
pub mod probe;
pub mod progress;
pub mod roundtrip;
pub mod trust;

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::Semaphore;
use tokio::task::JoinSet;

/// How many endpoints are worked on at once.
pub const DEFAULT_CONCURRENCY: usize = 32;

/// Runs `work` on every item at once (at most `DEFAULT_CONCURRENCY` in flight) and returns the
/// results in the items' order; an item still running at `deadline` (plus a short grace for
/// scheduling: every phase below is already capped by the deadline) is `None`.
pub async fn run_all<I, T, F, Fut>(items: Vec<I>, deadline: Instant, work: F) -> Vec<Option<T>>
where
    I: Send + 'static,
    T: Send + 'static,
    F: Fn(I) -> Fut,
    Fut: Future<Output = T> + Send + 'static,
{
    let semaphore = Arc::new(Semaphore::new(DEFAULT_CONCURRENCY));
    let mut set = JoinSet::new();
    let n = items.len();
    for (i, item) in items.into_iter().enumerate() {
        let semaphore = semaphore.clone();
        let fut = work(item);
        set.spawn(async move {
            let _permit = semaphore.acquire_owned().await;
            (i, fut.await)
        });
    }
    let mut out: Vec<Option<T>> = (0..n).map(|_| None).collect();
    let hard_stop = tokio::time::Instant::from_std(deadline + Duration::from_millis(300));
    while let Ok(Some(joined)) = tokio::time::timeout_at(hard_stop, set.join_next()).await {
        if let Ok((i, value)) = joined {
            out[i] = Some(value);
        }
    }
    set.abort_all();
    out
}
