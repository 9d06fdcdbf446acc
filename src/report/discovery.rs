//! Account-level problems from a discovery run: what its bounds left out, which answers were
//! refused or abandoned. Shown by `discover` (human output) and at the top level of `check`.

use crate::discover::{AttemptProblem, Discovery, MAX_PER_LOOKUP, MAX_PER_RUN};

use super::{Code, Problem};

/// One warning per attempt with a named problem (in attempt order), then one for the drops.
pub fn problems(d: &Discovery) -> Vec<Problem> {
    let mut out: Vec<Problem> = d
        .attempts
        .iter()
        .filter_map(|a| {
            let code = match a.problem? {
                AttemptProblem::DiscoveryDocumentRefused => Code::DiscoveryDocumentRefused,
                AttemptProblem::DiscoveryParseTimeout => Code::DiscoveryParseTimeout,
                AttemptProblem::DiscoveryNotWaitedFor => {
                    return Some(Problem::info(
                        Code::DiscoveryNotWaitedFor,
                        format!("{} {}: {}", a.source, a.target, a.detail),
                    ))
                }
            };
            Some(Problem::warning(
                code,
                format!("{} {}: {}", a.source, a.target, a.detail),
            ))
        })
        .collect();
    if d.dropped > 0 {
        let lookups: Vec<String> = d
            .attempts
            .iter()
            .filter(|a| a.dropped > 0)
            .map(|a| format!("{} {} listed {} more", a.source, a.target, a.dropped))
            .collect();
        out.push(Problem::warning(
            Code::DiscoveryCandidatesDropped,
            format!(
                "{} server(s) found by discovery were not probed (at most {MAX_PER_LOOKUP} per lookup, {MAX_PER_RUN} in all){}",
                d.dropped,
                if lookups.is_empty() {
                    String::new()
                } else {
                    format!(": {}", lookups.join("; "))
                }
            ),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::discover::{Attempt, AttemptResult, Source};

    fn attempt(target: &str, dropped: usize, problem: Option<AttemptProblem>) -> Attempt {
        Attempt {
            source: Source::Autoconfig,
            target: target.into(),
            result: AttemptResult::Error,
            detail: "why".into(),
            elapsed_ms: 1,
            dropped,
            problem,
            phases: Vec::new(),
        }
    }

    #[test]
    fn named_attempts_and_drops_become_warnings() {
        let d = Discovery {
            attempts: vec![
                attempt("https://a", 0, None),
                attempt(
                    "http://b",
                    0,
                    Some(AttemptProblem::DiscoveryDocumentRefused),
                ),
                attempt("http://c", 0, Some(AttemptProblem::DiscoveryParseTimeout)),
                attempt("https://d", 1348, None),
            ],
            candidates: vec![],
            provider: None,
            dropped: 1348 + 10,
        };
        let p = problems(&d);
        let codes: Vec<Code> = p.iter().map(|p| p.code).collect();
        assert_eq!(
            codes,
            [
                Code::DiscoveryDocumentRefused,
                Code::DiscoveryParseTimeout,
                Code::DiscoveryCandidatesDropped
            ]
        );
        assert_eq!(p[0].message, "autoconfig http://b: why");
        assert!(
            p[2].message.starts_with("1358 server(s)"),
            "{}",
            p[2].message
        );
        assert!(p[2].message.contains("https://d listed 1348 more"));
        assert_eq!(
            Code::DiscoveryCandidatesDropped.as_str(),
            "discovery-candidates-dropped"
        );
        // The attempt's code and the problem code are the same word.
        assert_eq!(
            Code::DiscoveryParseTimeout.as_str(),
            AttemptProblem::DiscoveryParseTimeout.as_str()
        );
        assert_eq!(
            Code::DiscoveryDocumentRefused.as_str(),
            AttemptProblem::DiscoveryDocumentRefused.as_str()
        );
        let quiet = Discovery {
            attempts: vec![attempt("https://a", 0, None)],
            candidates: vec![],
            provider: None,
            dropped: 0,
        };
        assert!(problems(&quiet).is_empty());
    }
}
