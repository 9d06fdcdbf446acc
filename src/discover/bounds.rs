//! What one discovery run may cost, whatever the network answers.
//!
//! - **Candidates.** A lookup contributes at most [`MAX_PER_LOOKUP`] candidates and a run hands
//!   at most [`MAX_PER_RUN`] on to probing; the rest are counted as dropped (on the attempt
//!   and on the run) and never probed. Which ones are kept is the rank order of
//!   [`super::merge`], so the choice is deterministic and the best-ranked survive.
//! - **Parsing.** A parser is pure computation: no `.await`, so no timeout can interrupt it
//!   while it runs on an async worker. Documents from the network are parsed on tokio's
//!   blocking pool and raced against the run's deadline ([`off_runtime`]); a parse still
//!   running then is abandoned and reported as [`AttemptProblem::ParseTimeout`]. (The parsers
//!   are bounded themselves — see [`super::xml`] — so an abandoned thread finishes soon; the
//!   process does not wait for it at exit, see `cli::run`.)

use std::collections::HashSet;
use std::time::Instant;

use serde::{Deserialize, Serialize};

use super::{merge, Candidate, Source};

/// Most candidates one lookup (one URL, one DNS name, one database entry) contributes.
pub const MAX_PER_LOOKUP: usize = 16;
/// Most candidates one discovery run hands on to probing.
pub const MAX_PER_RUN: usize = 64;

/// Why an attempt is worth a named problem beyond its result. The kebab-case names are the
/// problem codes `check` reports at the top level (docs/json.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AttemptProblem {
    /// The answer exceeded a bound (body size, XML nesting, elements, attributes, text) and
    /// was ignored.
    DiscoveryDocumentRefused,
    /// Parsing the answer had not finished at the deadline and was abandoned.
    DiscoveryParseTimeout,
    /// `check` went ahead without this lookup: it was still running when every source that
    /// could rank above the answered ones had ended, or the grace for it had passed.
    DiscoveryNotWaitedFor,
}

impl AttemptProblem {
    pub fn as_str(self) -> &'static str {
        match self {
            AttemptProblem::DiscoveryDocumentRefused => "discovery-document-refused",
            AttemptProblem::DiscoveryParseTimeout => "discovery-parse-timeout",
            AttemptProblem::DiscoveryNotWaitedFor => "discovery-not-waited-for",
        }
    }
}

/// Ranks and deduplicates `found` as [`merge`] does and keeps the first `max`; returns them
/// and how many distinct endpoints were dropped. Exactly `merge(found)` truncated to `max`,
/// computed `max` at a time (each step keeps the best `max` of what it has seen, which is
/// exact for a stable sort), so a lookup with thousands of entries costs O(n·max), not the
/// O(n²) of one big merge.
pub fn keep_best(found: Vec<Candidate>, max: usize) -> (Vec<Candidate>, usize) {
    // What merge would keep: guesses only when nothing else was found (not a bound's drop).
    let guesses_only = found.iter().all(|c| c.source == Source::Guess);
    let distinct = found
        .iter()
        .filter(|c| guesses_only || c.source != Source::Guess)
        .map(|c| &c.endpoint)
        .collect::<HashSet<_>>()
        .len();
    let mut kept: Vec<Candidate> = Vec::new();
    let mut rest = found.into_iter().peekable();
    while rest.peek().is_some() {
        kept.extend(rest.by_ref().take(max.max(1)));
        kept = merge(kept);
        kept.truncate(max);
    }
    let dropped = distinct.saturating_sub(kept.len());
    (kept, dropped)
}

/// Why [`off_runtime`] gave no result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unfinished {
    /// The deadline came first; the work was abandoned (its thread finishes on its own).
    Deadline,
    /// The work panicked: a parser bug, reported rather than propagated.
    Panicked,
}

/// Runs `work` on the blocking pool and waits for it until `deadline`, no longer.
pub async fn off_runtime<T, F>(deadline: Instant, work: F) -> Result<T, Unfinished>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    let task = tokio::task::spawn_blocking(work);
    match tokio::time::timeout_at(tokio::time::Instant::from_std(deadline), task).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(_)) => Err(Unfinished::Panicked),
        // Dropping the handle detaches the blocking task: nothing waits for it.
        Err(_) => Err(Unfinished::Deadline),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;
    use std::time::Duration;

    #[test]
    fn problems_serialise_as_their_codes() {
        for p in [
            AttemptProblem::DiscoveryDocumentRefused,
            AttemptProblem::DiscoveryParseTimeout,
            AttemptProblem::DiscoveryNotWaitedFor,
        ] {
            assert_eq!(
                serde_json::to_string(&p).unwrap(),
                format!("\"{}\"", p.as_str())
            );
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn work_still_running_at_the_deadline_is_abandoned() {
        let (release, wait) = mpsc::channel::<()>();
        let (done_tx, done_rx) = mpsc::channel::<()>();
        let deadline = Instant::now() + Duration::from_millis(200);
        // Blocks until the test releases it: only the deadline can end the wait.
        let r = off_runtime(deadline, move || {
            let _ = wait.recv();
            let _ = done_tx.send(());
            42
        })
        .await;
        assert_eq!(r, Err(Unfinished::Deadline));
        assert!(
            done_rx.try_recv().is_err(),
            "the work was still running when the result came back"
        );
        release.send(()).unwrap();
        done_rx.recv().unwrap();
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn finished_work_and_panics_are_reported() {
        let far = Instant::now() + Duration::from_secs(60);
        assert_eq!(off_runtime(far, || 7).await, Ok(7));
        let r: Result<(), _> = off_runtime(far, || panic!("parser bug")).await;
        assert_eq!(r, Err(Unfinished::Panicked));
    }

    fn cand(url: &str) -> Candidate {
        Candidate::new(
            url.parse().unwrap(),
            "u@d.org".into(),
            vec![],
            Source::Autoconfig,
            crate::model::Transport::Https,
            "d.org",
        )
    }

    #[test]
    fn keeps_the_best_ranked_distinct_endpoints() {
        // 40 IMAP over STARTTLS, 40 SMTP over implicit TLS, 40 IMAP over implicit TLS, plus
        // duplicates: rank order keeps the implicit-TLS IMAP ones, in file order.
        let mut found = Vec::new();
        for i in 0..40 {
            found.push(cand(&format!("imap://s{i}.d.org:143")));
            found.push(cand(&format!("smtps://o{i}.d.org:465")));
            found.push(cand(&format!("imaps://i{i}.d.org:993")));
            found.push(cand(&format!("imaps://i{i}.d.org:993")));
        }
        let (kept, dropped) = keep_best(found, MAX_PER_LOOKUP);
        assert_eq!(dropped, 120 - MAX_PER_LOOKUP);
        let urls: Vec<String> = kept.iter().map(|c| c.endpoint.url()).collect();
        let want: Vec<String> = (0..MAX_PER_LOOKUP)
            .map(|i| format!("imaps://i{i}.d.org:993"))
            .collect();
        assert_eq!(urls, want);
        let (few, none) = keep_best(vec![cand("imaps://a.d.org:993")], MAX_PER_LOOKUP);
        assert_eq!((few.len(), none), (1, 0));
        assert_eq!(keep_best(Vec::new(), 1), (Vec::new(), 0));
    }

    #[test]
    fn keep_best_equals_one_big_merge() {
        use crate::model::{Endpoint, Protocol, Security};
        // A mix of sources (guesses too), protocols, securities and duplicates across them,
        // in a scrambled but fixed order.
        let sources = [
            Source::Guess,
            Source::Srv,
            Source::Autoconfig,
            Source::BuiltinDb,
        ];
        let protocols = [Protocol::Smtp, Protocol::Imap, Protocol::Pop3];
        let securities = [Security::Plain, Security::StartTls, Security::Tls];
        let mut found = Vec::new();
        for i in 0..300usize {
            let j = (i * 7919) % 301;
            let mut c = cand("imaps://x.d.org:993");
            c.source = sources[j % 4];
            c.endpoint = Endpoint::new(
                protocols[j % 3],
                &format!("h{}.d.org", j % 37),
                100 + (j % 5) as u16,
                securities[(j / 3) % 3],
            );
            found.push(c);
        }
        for max in [1, 5, 16, 64, 1000] {
            let mut want = merge(found.clone());
            let distinct = want.len();
            want.truncate(max);
            let (got, dropped) = keep_best(found.clone(), max);
            assert_eq!(got, want, "max {max}");
            assert_eq!(dropped, distinct - want.len());
        }
        let only_guesses: Vec<Candidate> = found
            .iter()
            .filter(|c| c.source == Source::Guess)
            .cloned()
            .collect();
        let mut want = merge(only_guesses.clone());
        want.truncate(16);
        assert_eq!(keep_best(only_guesses, 16).0, want);
    }

    #[test]
    fn empty_and_small_inputs() {
        let (few, none) = keep_best(vec![cand("imaps://a.d.org:993")], MAX_PER_LOOKUP);
        assert_eq!((few.len(), none), (1, 0));
        assert_eq!(keep_best(Vec::new(), 1), (Vec::new(), 0));
    }
}
