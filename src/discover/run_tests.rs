//! Unit tests of the discovery run's recorder (src/discover/run.rs).

use super::*;

#[test]
fn details_are_one_line() {
    assert_eq!(one_line("a\r\nb\x1b[31m"), "a  b [31m");
    assert_eq!(one_line(&"x".repeat(600)).chars().count(), 501);
}

#[test]
fn unfinished_attempts_become_timeouts_only_at_the_deadline() {
    let a: Address = "u@d.org".parse().unwrap();
    let rec = Recorder::default();
    let done = rec.begin(Source::Srv, "_imaps._tcp.d.org");
    rec.begin(Source::Autoconfig, "https://autoconfig.d.org/");
    rec.end(done, Outcome::empty(AttemptResult::NotFound, "none"));
    let d = rec.finish(Stop::Deadline, &a, "d.org");
    assert_eq!(d.attempts[0].source, Source::Autoconfig, "ranked by source");
    assert_eq!(d.attempts[0].result, AttemptResult::Timeout);
    assert_eq!(d.attempts[1].result, AttemptResult::NotFound);
    let d = rec.finish(Stop::Complete, &a, "d.org");
    assert_eq!(d.attempts[0].result, AttemptResult::Error);
}

fn servers(prefix: &str, n: usize) -> Vec<Candidate> {
    (0..n)
        .map(|i| {
            Candidate::new(
                format!("imaps://{prefix}{i}.d.org:993").parse().unwrap(),
                "u@d.org".into(),
                vec![],
                Source::Srv,
                Transport::Dns,
                "d.org",
            )
        })
        .collect()
}

#[test]
fn lookups_and_runs_are_bounded_and_drops_counted() {
    let a: Address = "u@d.org".parse().unwrap();
    let rec = Recorder::default();
    // Six lookups: 20,000 servers, 16, 15, then three of 20 each.
    for (i, n) in [20_000, 16, 15, 20, 20, 20].into_iter().enumerate() {
        let id = rec.begin(Source::Srv, format!("name{i}"));
        rec.end(id, Outcome::found("x", servers(&format!("h{i}-"), n), None));
    }
    let d = rec.finish(Stop::Complete, &a, "d.org");
    let per: Vec<usize> = d.attempts.iter().map(|a| a.dropped).collect();
    assert_eq!(per, [20_000 - 16, 0, 0, 4, 4, 4]);
    // 16 + 16 + 15 + 3 × 16 = 95 kept by the lookups, 64 by the run.
    assert_eq!(d.candidates.len(), MAX_PER_RUN);
    assert_eq!(d.dropped, 20_000 - 16 + 12 + (95 - 64));
    // Rank order, then discovery order: the first lookup's first 16 come first.
    assert_eq!(d.candidates[0].endpoint.host, "h0-0.d.org");
    assert_eq!(d.candidates[15].endpoint.host, "h0-15.d.org");
    assert_eq!(d.candidates[16].endpoint.host, "h1-0.d.org");
}

#[test]
fn a_parse_cut_by_the_deadline_is_a_named_timeout() {
    let a: Address = "u@d.org".parse().unwrap();
    let rec = Recorder::default();
    let id = rec.begin(Source::Autoconfig, "https://autoconfig.d.org/");
    rec.parsing(id, true);
    let other = rec.begin(Source::Autodiscover, "https://d.org/autodiscover");
    let d = rec.finish(Stop::Deadline, &a, "d.org");
    assert_eq!(d.attempts[0].result, AttemptResult::Timeout);
    assert_eq!(
        d.attempts[0].problem,
        Some(AttemptProblem::DiscoveryParseTimeout)
    );
    assert!(
        d.attempts[0].detail.contains("parsing"),
        "{:?}",
        d.attempts[0]
    );
    assert_eq!(d.attempts[1].problem, None);
    // Ended by the parser itself: the same named result.
    rec.end(other, Outcome::parse_timeout());
    let d = rec.finish(Stop::Deadline, &a, "d.org");
    assert_eq!(
        d.attempts[1].problem,
        Some(AttemptProblem::DiscoveryParseTimeout)
    );
}

fn one(url: &str, source: Source, transport: Transport) -> Vec<Candidate> {
    vec![Candidate::new(
        url.parse().unwrap(),
        "u@d.org".into(),
        vec![],
        source,
        transport,
        "d.org",
    )]
}

#[test]
fn https_wins_over_an_http_answer_of_the_same_source() {
    let a: Address = "u@d.org".parse().unwrap();
    let rec = Recorder::default();
    let https = rec.begin(Source::Autoconfig, "https://autoconfig.d.org/x");
    let http = rec.begin(Source::Autoconfig, "http://autoconfig.d.org/x");
    // Plain HTTP answers first, with another server; HTTPS then finds settings.
    let planted = one(
        "imaps://evil.example:993",
        Source::Autoconfig,
        Transport::Http,
    );
    rec.end(http, Outcome::found("x", planted, None));
    let snapshot = rec.finish(Stop::Snapshot, &a, "d.org");
    assert_eq!(snapshot.candidates.len(), 1, "used while HTTPS is pending");
    let real = one(
        "imaps://imap.d.org:993",
        Source::Autoconfig,
        Transport::Https,
    );
    rec.end(https, Outcome::found("x", real, None));
    let d = rec.finish(Stop::Complete, &a, "d.org");
    let hosts: Vec<&str> = d
        .candidates
        .iter()
        .map(|c| c.endpoint.host.as_str())
        .collect();
    assert_eq!(hosts, ["imap.d.org"]);
    assert_eq!(d.attempts.len(), 2, "both lookups are reported");
}

#[test]
fn a_withdrawn_lookup_is_not_reported() {
    let a: Address = "u@d.org".parse().unwrap();
    let rec = Recorder::default();
    let https = rec.begin(Source::Autoconfig, "https://autoconfig.d.org/x");
    let http = rec.begin(Source::Autoconfig, "http://autoconfig.d.org/x");
    let real = one(
        "imaps://imap.d.org:993",
        Source::Autoconfig,
        Transport::Https,
    );
    rec.end(https, Outcome::found("x", real, None));
    rec.withdraw(http);
    let d = rec.finish(Stop::Complete, &a, "d.org");
    assert_eq!(d.attempts.len(), 1, "{:?}", d.attempts);
    assert!(d.attempts[0].target.starts_with("https://"));
}

#[test]
fn lookups_not_waited_for_are_named() {
    let a: Address = "u@d.org".parse().unwrap();
    let rec = Recorder::default();
    let srv = rec.begin(Source::Srv, "_imaps._tcp.d.org");
    rec.begin(Source::Autoconfig, "https://autoconfig.d.org/x");
    let found = one("imaps://imap.d.org:993", Source::Srv, Transport::Dns);
    rec.end(srv, Outcome::found("x", found, None));
    rec.unstarted(
        &[Source::Srv, Source::Autodiscover],
        "d.org",
        Stop::NotWaited,
    );
    let d = rec.finish(Stop::NotWaited, &a, "d.org");
    let not_waited: Vec<Source> = d
        .attempts
        .iter()
        .filter(|a| a.problem == Some(AttemptProblem::DiscoveryNotWaitedFor))
        .map(|a| a.source)
        .collect();
    assert_eq!(not_waited, [Source::Autoconfig, Source::Autodiscover]);
    assert!(d
        .attempts
        .iter()
        .filter(|a| a.source != Source::Srv)
        .all(|a| a.result == AttemptResult::Timeout));
    assert_eq!(d.candidates.len(), 1);
}
