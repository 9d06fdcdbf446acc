//! One endpoint's facts (`session::facts`) in words: the [`EndpointReport`] with its problems,
//! the login verdict and the quota. The session layer records what happened; this is the one
//! place that says what it means and what to do.

use super::tls_problems::{cert_problems, handshake_problem};
use super::{Code, EndpointReport, LoginAttempt, LoginReport, LoginStatus, Problem, Quota};
use crate::model::{AuthMethod, Protocol, Security};
use crate::net::connect::ConnectError;
use crate::proto::client::{Failure, Interruption, LoginImpossible, Outcome, QuotaFacts};
use crate::proto::{ProtoError, StartTlsRefusal};
use crate::session::facts::{
    CredentialKind, EndpointFacts, Injection, LoginFacts, UserAttempt, Withheld,
};

/// The report of one endpoint, and the quota read there (after a login).
pub fn build(facts: &EndpointFacts) -> (EndpointReport, Option<Quota>) {
    let endpoint = &facts.endpoint;
    let mut rep = EndpointReport::new(endpoint);
    rep.address = facts.address.clone();
    rep.connect_ms = facts.connect_ms;
    rep.greeting = facts.greeting.clone();
    rep.tls = facts.tls.as_ref().and_then(|t| t.report.clone());
    rep.capabilities_before_tls = facts.capabilities_before_tls.clone();
    if let Some(c) = &facts.capabilities {
        rep.capabilities = c.list.clone();
        rep.auth_mechanisms = c.sasl.clone();
    }
    rep.folders = facts.folders.clone();
    rep.phases = facts.phases.clone();
    rep.elapsed_ms = facts.elapsed_ms;
    rep.problems = problems(facts);
    let (login, login_problems) = login(facts);
    rep.login = login;
    rep.problems.extend(login_problems);
    rep.finish();
    let quota = facts
        .quota
        .map(|q| quota(endpoint.protocol, q, &endpoint.url()));
    (rep, quota)
}

/// The first error of a session that did not lead to a usable session (`check --round-trip`'s
/// fresh sessions), with a fallback that says so.
pub fn first_error(facts: &EndpointFacts) -> Problem {
    let (rep, _) = build(facts);
    rep.problems
        .iter()
        .find(|p| p.severity == super::Severity::Error)
        .or(rep.problems.first())
        .cloned()
        .unwrap_or_else(|| {
            Problem::error(
                Code::ConnectFailed,
                "the connection did not pass its checks",
            )
        })
}

/// What went wrong (or is worth knowing) before any login.
fn problems(facts: &EndpointFacts) -> Vec<Problem> {
    let mut out = Vec::new();
    if facts.endpoint.security == Security::Plain {
        out.push(Problem::warning(
            Code::PlaintextEndpoint,
            "no TLS on this endpoint: anything sent here, passwords included, can be read on the network",
        ));
    }
    if let Some(e) = &facts.connect_error {
        out.push(connect_problem(e));
    }
    if let Some(t) = &facts.tls {
        out.extend(cert_problems(t.check.as_ref()));
    }
    if let Some((f, after_starttls)) = &facts.handshake_failure {
        out.extend(handshake_problem(f, *after_starttls));
    }
    if let Some((f, waiting_for)) = &facts.failure {
        out.push(failure_problem(facts.endpoint.protocol, f, waiting_for));
    }
    let pipelined = match facts.endpoint.protocol {
        Protocol::Smtp => "RSET",
        Protocol::Imap | Protocol::Pop3 => "NOOP",
    };
    match facts.injection {
        Some(Injection::NotVulnerable) => out.push(Problem::info(
            Code::StarttlsInjectionNotVulnerable,
            format!("the {pipelined} pipelined with STARTTLS was not executed inside TLS: not vulnerable to STARTTLS command injection"),
        )),
        Some(Injection::RefusedHandshake) => out.push(Problem::info(
            Code::StarttlsInjectionNotVulnerable,
            "the server refused the command pipelined with STARTTLS (it aborted the handshake): not vulnerable to STARTTLS command injection",
        )),
        None => {}
    }
    out
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

/// Turns a STARTTLS refusal into the problem the user sees.
pub fn starttls_problem(r: &StartTlsRefusal) -> Problem {
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

fn failure_problem(protocol: Protocol, f: &Failure, waiting_for: &str) -> Problem {
    match f {
        Failure::Proto(e) => {
            let code = match e {
                ProtoError::LineTooLong { .. } => Code::LineTooLong,
                ProtoError::ReplyTooLarge { .. }
                | ProtoError::TooManyLines { .. }
                | ProtoError::LiteralTooLarge { .. } => Code::ReplyTooLarge,
                ProtoError::Malformed(_) => Code::ProtocolError,
            };
            Problem::error(code, format!("{e} (while waiting for {waiting_for})"))
        }
        Failure::ServerRefused(t) => Problem::error(
            Code::ServerRefused,
            match protocol {
                Protocol::Imap => format!("the server said BYE: {t}"),
                _ => format!("the server refuses service: {t}"),
            },
        ),
        Failure::NotAGreeting(t) => Problem::error(
            Code::ProtocolError,
            match protocol {
                Protocol::Imap => format!("not an IMAP greeting: {t}"),
                _ => t.clone(),
            },
        ),
        Failure::StartTls(r) => starttls_problem(r),
        Failure::CommandFailed { command, reply } => Problem::error(
            Code::ProtocolError,
            match *command {
                _ if reply.starts_with("the server") => reply.clone(),
                "EHLO" => format!("the server refused EHLO: {reply}"),
                c => format!("{c} failed: {reply}"),
            },
        ),
        Failure::Interrupted {
            why,
            waiting_for,
            greeting,
        } => {
            let code = match why {
                Interruption::Timeout if *greeting => Code::GreetingTimeout,
                Interruption::Timeout => Code::Timeout,
                Interruption::Closed | Interruption::Io(_) => Code::ConnectionClosed,
                Interruption::TooMuchData { .. } => Code::ReplyTooLarge,
            };
            Problem::error(code, why.words(waiting_for))
        }
        Failure::InjectionExecuted { pipelined, reply } => Problem::error(
            Code::ServerStarttlsCommandInjection,
            format!(
                "the server executed the {pipelined} we pipelined with STARTTLS and answered it inside TLS ({reply:?}): \
                 an attacker can inject commands into the encrypted session (CVE-2011-0411 class)"
            ),
        ),
    }
}

fn not_attempted(message: &str, username: &str) -> LoginReport {
    LoginReport {
        status: LoginStatus::NotAttempted,
        mechanism: None,
        auth_method: None,
        username: Some(username.to_string()),
        message: message.to_string(),
        attempts: vec![],
    }
}

/// The login verdict and its problems.
fn login(facts: &EndpointFacts) -> (Option<LoginReport>, Vec<Problem>) {
    let Some(login) = &facts.login else {
        return (None, vec![]);
    };
    let refused = |problem: Problem, username: &str| {
        (
            Some(not_attempted(&problem.message, username)),
            vec![problem],
        )
    };
    match login {
        LoginFacts::NoCredentials => (
            Some(LoginReport {
                status: LoginStatus::Skipped,
                mechanism: None,
                auth_method: None,
                username: None,
                message: "no password given and no terminal to ask on: login not checked".into(),
                attempts: vec![],
            }),
            vec![],
        ),
        LoginFacts::Withheld(Withheld::ConnectionFailed { username }) => (
            Some(not_attempted(
                "the connection did not pass its checks (see problems), so no credentials were sent",
                username,
            )),
            vec![],
        ),
        LoginFacts::Withheld(Withheld::Untrusted { username }) => (
            Some(not_attempted(
                "no credentials were sent: the trust policy does not trust this server (see untrusted-candidate)",
                username,
            )),
            vec![],
        ),
        LoginFacts::Withheld(Withheld::Plaintext { username }) => refused(
            Problem::warning(
                Code::PlaintextLoginRefused,
                "the password was not sent: this endpoint has no TLS (add --allow-plaintext-login to send it anyway)",
            ),
            username,
        ),
        LoginFacts::Impossible {
            why,
            kind,
            username,
        } => refused(impossible_problem(why, *kind), username),
        LoginFacts::Attempted { attempts, .. } => summarize(attempts),
    }
}

fn impossible_problem(why: &LoginImpossible, kind: CredentialKind) -> Problem {
    let list = |offered: &[String]| {
        if offered.is_empty() {
            "none".to_string()
        } else {
            offered.join(" ")
        }
    };
    match why {
        LoginImpossible::PlaintextNotAllowed => Problem::error(
            Code::PlaintextLoginRefused,
            "this connection has no TLS and plaintext login was not allowed; no credentials were sent",
        ),
        LoginImpossible::LoginDisabledWithoutTls => Problem::error(
            Code::LoginDisabled,
            "the server advertises LOGINDISABLED on this connection without TLS; no credentials were sent",
        ),
        LoginImpossible::LoginDisabled { offered } => Problem::error(
            Code::LoginDisabled,
            format!(
                "the server forbids the LOGIN command (LOGINDISABLED) and offers no AUTHENTICATE mechanism usable with a {} (offered: {}); no credentials were sent",
                kind.noun(),
                list(offered)
            ),
        ),
        LoginImpossible::NoUsableMechanism { offered } => Problem::error(
            Code::LoginMechanismUnsupported,
            format!(
                "no usable login method for a {} (server offers: {})",
                kind.noun(),
                list(offered)
            ),
        ),
    }
}

fn summarize(attempts: &[UserAttempt]) -> (Option<LoginReport>, Vec<Problem>) {
    let mut problems = Vec::new();
    let reports: Vec<LoginAttempt> = attempts
        .iter()
        .map(|a| {
            let (status, message) = match &a.attempt.outcome {
                Outcome::Ok(t) => (LoginStatus::Ok, t.clone()),
                Outcome::Refused(r) => (LoginStatus::Failed, r.said.clone()),
                Outcome::Unverified(t) => (LoginStatus::Failed, format!("unverified: {t}")),
            };
            LoginAttempt {
                mechanism: a.mechanism().name().to_string(),
                status,
                message,
                username: a.alternative.then(|| a.username.clone()),
            }
        })
        .collect();
    let Some(last) = attempts.last() else {
        return (None, problems);
    };
    let first_username = attempts[0].username.clone();
    let success = attempts
        .iter()
        .find(|a| matches!(a.attempt.outcome, Outcome::Ok(_)));
    let encrypted_failed = attempts.iter().any(|a| {
        a.mechanism().auth_method() == AuthMethod::PasswordEncrypted
            && !matches!(a.attempt.outcome, Outcome::Ok(_))
            && !a.alternative
    });
    if let Some(ok) = success {
        let m = ok.mechanism();
        if encrypted_failed && m.auth_method() == AuthMethod::PasswordCleartext && !ok.alternative {
            problems.push(Problem::warning(
                Code::LoginEncryptedFailed,
                format!(
                    "login with {} worked, but the challenge-response method failed",
                    m.name()
                ),
            ));
        }
        if ok.alternative {
            problems.push(Problem::info(
                Code::LoginUsernameLocalPart,
                format!(
                    "the server refused the user name {first_username:?} and accepted {:?}: that is the user name to use",
                    ok.username
                ),
            ));
        }
        let Outcome::Ok(text) = &ok.attempt.outcome else {
            return (None, problems);
        };
        return (
            Some(LoginReport {
                status: LoginStatus::Ok,
                mechanism: Some(m.name().to_string()),
                auth_method: Some(m.auth_method()),
                username: Some(ok.username.clone()),
                message: text.clone(),
                attempts: reports,
            }),
            problems,
        );
    }
    let refused = attempts.iter().find_map(|a| match &a.attempt.outcome {
        Outcome::Refused(r) => Some((a, r)),
        _ => None,
    });
    let message = match (refused, &last.attempt.outcome) {
        (Some((a, r)), _) => {
            // The server's reason decides the code: login-failed only for credentials.
            problems.push(super::causes::login_refused(
                r,
                &a.username,
                a.mechanism().name(),
                &r.said,
            ));
            r.said.clone()
        }
        (None, Outcome::Unverified(t)) | (None, Outcome::Ok(t)) => {
            problems.push(Problem::error(
                Code::LoginUnverified,
                format!(
                    "login with {} could not be verified: {t}",
                    last.mechanism().name()
                ),
            ));
            t.clone()
        }
        (None, Outcome::Refused(r)) => r.said.clone(),
    };
    (
        Some(LoginReport {
            status: LoginStatus::Failed,
            mechanism: Some(last.mechanism().name().to_string()),
            auth_method: Some(last.mechanism().auth_method()),
            username: Some(first_username),
            message,
            attempts: reports,
        }),
        problems,
    )
}

/// The quota as reported: IMAP's storage and message count, or POP3 STAT's size.
fn quota(protocol: Protocol, q: QuotaFacts, url: &str) -> Quota {
    let (used, limit) = match (protocol, q.storage) {
        (Protocol::Pop3, _) => (q.octets, None),
        (_, Some((u, l))) => (Some(u), (l > 0).then_some(l)),
        (_, None) => (None, None),
    };
    Quota {
        used_bytes: used,
        limit_bytes: limit,
        percent: percent(used, limit),
        messages: q.messages,
        source: match protocol {
            Protocol::Pop3 => "pop3-stat",
            _ => "imap-quota",
        }
        .into(),
        url: url.to_string(),
    }
}

pub fn percent(used: Option<u64>, limit: Option<u64>) -> Option<f64> {
    match (used, limit) {
        (Some(u), Some(l)) if l > 0 => Some(((u as f64 / l as f64) * 1000.0).round() / 10.0),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_rounds() {
        assert_eq!(percent(Some(9), Some(10)), Some(90.0));
        assert_eq!(percent(Some(1), Some(3)), Some(33.3));
        assert_eq!(percent(Some(1), None), None);
    }
}
