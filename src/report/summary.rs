//! The one problem a summary line names: the worst, first by severity, then in report order
//! (endpoints as sorted, then the account's problems).

use super::{EndpointReport, Problem, Severity};

/// A problem and where it was found.
#[derive(Debug, Clone, Copy)]
pub struct Located<'a> {
    /// None: the account as a whole.
    pub endpoint: Option<&'a EndpointReport>,
    pub problem: &'a Problem,
}

impl Located<'_> {
    /// `imaps://h:993: message` (or just the message for account problems).
    pub fn describe(&self) -> String {
        match self.endpoint {
            Some(e) => format!("{}: {}", e.url, self.problem.message),
            None => self.problem.message.clone(),
        }
    }
}

/// Every problem with its place, in report order.
pub fn all<'a>(endpoints: &'a [EndpointReport], account: &'a [Problem]) -> Vec<Located<'a>> {
    endpoints
        .iter()
        .flat_map(|e| {
            e.problems.iter().map(move |p| Located {
                endpoint: Some(e),
                problem: p,
            })
        })
        .chain(account.iter().map(|p| Located {
            endpoint: None,
            problem: p,
        }))
        .collect()
}

/// The worst problem that passes `keep` (errors before warnings before info).
pub fn worst_where<'a>(
    endpoints: &'a [EndpointReport],
    account: &'a [Problem],
    keep: impl Fn(&Problem) -> bool,
) -> Option<Located<'a>> {
    all(endpoints, account)
        .into_iter()
        .filter(|l| keep(l.problem))
        .min_by_key(|l| l.problem.severity)
}

/// The worst problem that is at least a warning.
pub fn worst_problem<'a>(
    endpoints: &'a [EndpointReport],
    account: &'a [Problem],
) -> Option<Located<'a>> {
    worst_where(endpoints, account, |p| p.severity != Severity::Info)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::Code;

    #[test]
    fn errors_win_then_report_order() {
        let a: crate::model::Endpoint = "imaps://h:993".parse().unwrap();
        let b: crate::model::Endpoint = "smtps://h:465".parse().unwrap();
        let mut ea = EndpointReport::new(&a);
        ea.problems
            .push(Problem::warning(Code::CertExpiresSoon, "soon"));
        let mut eb = EndpointReport::new(&b);
        eb.problems.push(Problem::error(Code::LoginFailed, "no"));
        eb.problems.push(Problem::error(Code::Timeout, "slow"));
        let eps = [ea, eb];
        let w = worst_problem(&eps, &[]).unwrap();
        assert_eq!(w.problem.code, Code::LoginFailed);
        assert_eq!(w.describe(), "smtps://h:465: no");
        let info = [Problem::info(Code::LoginSkipped, "x")];
        assert!(worst_problem(&[], &info).is_none());
    }
}
