//! Login verification on one endpoint: which methods, in which order, on which connection,
//! and when credentials must not be sent at all.

use std::time::Instant;

use super::{open_state, ProtoState, SessionConfig};
use crate::model::{AuthMethod, Endpoint, Secret, Security};
use crate::proto::imap;
use crate::proto::sasl::Mechanism;
use crate::report::{Code, EndpointReport, LoginAttempt, LoginReport, LoginStatus, Problem, Quota};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CredentialKind {
    Password,
    OAuth2Token,
}

/// What we log in with. The secret leaves only through `Secret::expose` at the wire.
#[derive(Debug, Clone)]
pub struct Credentials {
    pub username: String,
    pub secret: Secret,
    pub kind: CredentialKind,
}

/// One way to log in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Sasl(Mechanism),
    /// POP3 APOP (challenge-response with the greeting's timestamp).
    Apop,
    /// IMAP `LOGIN user pass`.
    ImapLogin,
    /// POP3 `USER` / `PASS`.
    Pop3User,
}

impl Method {
    /// Names as reported; the IMAP LOGIN command is `LOGIN-COMMAND` to tell it from SASL LOGIN.
    pub fn name(self) -> &'static str {
        match self {
            Method::Sasl(m) => m.name(),
            Method::Apop => "APOP",
            Method::ImapLogin => "LOGIN-COMMAND",
            Method::Pop3User => "USER",
        }
    }

    pub fn auth_method(self) -> AuthMethod {
        match self {
            Method::Sasl(m) => m.auth_method(),
            Method::Apop => AuthMethod::PasswordEncrypted,
            Method::ImapLogin | Method::Pop3User => AuthMethod::PasswordCleartext,
        }
    }

    /// Preference: challenge-response before cleartext; SASL before legacy commands.
    fn rank(self) -> u8 {
        match self {
            Method::Sasl(Mechanism::ScramSha256) => 0,
            Method::Sasl(Mechanism::ScramSha1) => 1,
            Method::Sasl(Mechanism::CramMd5) => 2,
            Method::Apop => 3,
            Method::Sasl(Mechanism::Plain) => 4,
            Method::Sasl(Mechanism::Login) => 5,
            Method::ImapLogin => 6,
            Method::Pop3User => 7,
            Method::Sasl(Mechanism::OAuthBearer) => 8,
            Method::Sasl(Mechanism::XOAuth2) => 9,
        }
    }
}

/// The result of one login attempt, judged strictly.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The protocol's one success reply to our own command.
    Ok(String),
    /// A clear refusal (IMAP tagged NO, POP3 -ERR, SMTP 5xx).
    Refused(String),
    /// Anything else: BAD, BYE, another tag, 250, endless challenges, timeouts.
    Unverified(String),
}

pub fn percent(used: Option<u64>, limit: Option<u64>) -> Option<f64> {
    match (used, limit) {
        (Some(u), Some(l)) if l > 0 => Some(((u as f64 / l as f64) * 1000.0).round() / 10.0),
        _ => None,
    }
}

#[derive(Debug, Clone)]
pub struct LoginOptions {
    /// `--allow-plaintext-login`: credentials may go to a `+plain` endpoint.
    pub allow_plaintext: bool,
    /// `--all-mechanisms`: try every offered method and report each.
    pub all_mechanisms: bool,
    /// The user gave `--username`: discovered user-name forms don't replace it.
    pub username_given: bool,
}

/// The methods a server offers that we can use with these credentials, best first.
pub fn offered_methods(state: &ProtoState, kind: CredentialKind) -> Vec<Method> {
    let mut methods: Vec<Method> = Vec::new();
    let sasl = |names: &[String], out: &mut Vec<Method>| {
        for n in names {
            if let Some(m) = Mechanism::from_name(n) {
                out.push(Method::Sasl(m));
            }
        }
    };
    match state {
        ProtoState::Imap(st) => {
            sasl(&imap::auth_mechanisms(&st.capabilities), &mut methods);
            methods.push(Method::ImapLogin);
        }
        ProtoState::Pop3(st) => {
            sasl(&crate::proto::pop3::auth_mechanisms(&st.capa), &mut methods);
            let caps = crate::proto::pop3::capabilities(&st.capa);
            if crate::proto::pop3::user_pass_offered(&caps) {
                methods.push(Method::Pop3User);
            }
            if st.apop_timestamp.is_some() {
                methods.push(Method::Apop);
            }
        }
        ProtoState::Smtp(ehlo) => sasl(&crate::proto::smtp::auth_mechanisms(ehlo), &mut methods),
    }
    methods.retain(|m| match kind {
        CredentialKind::Password => m.auth_method() != AuthMethod::OAuth2,
        CredentialKind::OAuth2Token => m.auth_method() == AuthMethod::OAuth2,
    });
    methods.sort_by_key(|m| m.rank());
    methods.dedup();
    methods
}

/// The attempts to make: all, or the best one plus the best cleartext one as a fallback when
/// the best is challenge-response (so a broken CRAM-MD5 setup is told apart from a wrong password).
fn plan(methods: &[Method], all: bool) -> Vec<Method> {
    if all {
        return methods.to_vec();
    }
    let mut out: Vec<Method> = methods.iter().take(1).copied().collect();
    if out
        .first()
        .is_some_and(|m| m.auth_method() == AuthMethod::PasswordEncrypted)
    {
        if let Some(clear) = methods
            .iter()
            .find(|m| m.auth_method() == AuthMethod::PasswordCleartext)
        {
            out.push(*clear);
        }
    }
    out
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

/// Probes an endpoint, then verifies login on it when that is safe.
/// `trusted` is `Err(problem)` when the endpoint must not receive credentials (untrusted source).
pub async fn check_endpoint(
    endpoint: &Endpoint,
    cfg: &SessionConfig,
    creds: Option<&Credentials>,
    opts: &LoginOptions,
    trusted: Result<(), Problem>,
) -> (EndpointReport, Option<Quota>) {
    let start = Instant::now();
    let mut rep = EndpointReport::new(endpoint);
    let opened = open_state(endpoint, cfg, &mut rep).await;
    let quota = verify(endpoint, cfg, creds, opts, trusted, opened, &mut rep).await;
    rep.elapsed_ms = start.elapsed().as_millis() as u64;
    rep.finish();
    (rep, quota)
}

async fn verify(
    endpoint: &Endpoint,
    cfg: &SessionConfig,
    creds: Option<&Credentials>,
    opts: &LoginOptions,
    trusted: Result<(), Problem>,
    opened: Option<(super::conn::Conn, ProtoState)>,
    rep: &mut EndpointReport,
) -> Option<Quota> {
    let Some(creds) = creds else {
        rep.login = Some(LoginReport {
            status: LoginStatus::Skipped,
            mechanism: None,
            auth_method: None,
            username: None,
            message: "no password given and no terminal to ask on: login not checked".into(),
            attempts: vec![],
        });
        if let Some((mut conn, state)) = opened {
            close(&mut conn, state).await;
        }
        return None;
    };
    let Some((mut conn, state)) = opened else {
        rep.login = Some(not_attempted(
            "the connection did not pass its checks (see problems), so no credentials were sent",
            &creds.username,
        ));
        return None;
    };
    let refuse = |rep: &mut EndpointReport, problem: Problem| {
        rep.login = Some(not_attempted(&problem.message, &creds.username));
        rep.problems.push(problem);
    };
    if let Err(problem) = trusted {
        refuse(rep, problem);
        close(&mut conn, state).await;
        return None;
    }
    if endpoint.security == Security::Plain && !opts.allow_plaintext {
        refuse(rep, Problem::warning(
            Code::PlaintextLoginRefused,
            "the password was not sent: this endpoint has no TLS (add --allow-plaintext-login to send it anyway)",
        ));
        close(&mut conn, state).await;
        return None;
    }
    if let ProtoState::Imap(st) = &state {
        if imap::login_disabled(&st.capabilities) {
            refuse(rep, Problem::error(
                Code::LoginDisabled,
                "the server advertises LOGINDISABLED on this connection; no credentials were sent",
            ));
            close(&mut conn, state).await;
            return None;
        }
    }
    let methods = offered_methods(&state, creds.kind);
    if methods.is_empty() {
        let offered = if rep.auth_mechanisms.is_empty() {
            "none".to_string()
        } else {
            rep.auth_mechanisms.join(" ")
        };
        refuse(
            rep,
            Problem::error(
                Code::LoginMechanismUnsupported,
                format!(
                    "no usable login method for a {} (server offers: {offered})",
                    match creds.kind {
                        CredentialKind::Password => "password",
                        CredentialKind::OAuth2Token => "OAuth2 token",
                    }
                ),
            ),
        );
        close(&mut conn, state).await;
        return None;
    }

    let mut attempts: Vec<(Method, Outcome)> = Vec::new();
    let mut quota = None;
    let mut current = Some((conn, state));
    for method in plan(&methods, opts.all_mechanisms) {
        let (mut conn, mut state) = match current.take() {
            Some(c) => c,
            None => {
                // Each further attempt gets a fresh, freshly verified connection.
                let mut scratch = EndpointReport::new(endpoint);
                match open_state(endpoint, cfg, &mut scratch).await {
                    Some(c) => c,
                    None => {
                        let why = scratch
                            .problems
                            .first()
                            .map(|p| p.message.clone())
                            .unwrap_or_default();
                        attempts.push((
                            method,
                            Outcome::Unverified(format!("could not reconnect: {why}")),
                        ));
                        continue;
                    }
                }
            }
        };
        let outcome = attempt(&mut conn, &mut state, method, creds, cfg, endpoint).await;
        if matches!(outcome, Outcome::Ok(_)) && quota.is_none() {
            quota = match &mut state {
                ProtoState::Imap(st) => {
                    let q = super::imap::quota(&mut conn, st, cfg, &endpoint.url()).await;
                    rep.folders = super::imap::folders(&mut conn, st, cfg).await;
                    q
                }
                ProtoState::Pop3(_) => super::pop3::quota(&mut conn, cfg, &endpoint.url()).await,
                ProtoState::Smtp(_) => None,
            };
        }
        close(&mut conn, state).await;
        let stop = !opts.all_mechanisms && !matches!(outcome, Outcome::Refused(_));
        attempts.push((method, outcome));
        if stop {
            break;
        }
    }
    rep.login = Some(summarize(&attempts, creds, rep));
    quota
}

async fn attempt(
    conn: &mut super::conn::Conn,
    state: &mut ProtoState,
    method: Method,
    creds: &Credentials,
    cfg: &SessionConfig,
    endpoint: &Endpoint,
) -> Outcome {
    match state {
        ProtoState::Imap(st) => super::imap::login(conn, st, method, creds, cfg, endpoint).await,
        ProtoState::Pop3(st) => super::pop3::login(conn, st, method, creds, cfg, endpoint).await,
        ProtoState::Smtp(_) => super::smtp::login(conn, method, creds, cfg, endpoint).await,
    }
}

async fn close(conn: &mut super::conn::Conn, state: ProtoState) {
    match state {
        ProtoState::Imap(mut st) => super::imap::logout(conn, &mut st).await,
        ProtoState::Pop3(_) => super::pop3::quit(conn).await,
        ProtoState::Smtp(_) => super::smtp::quit(conn).await,
    }
    conn.shutdown().await;
}

fn summarize(
    attempts: &[(Method, Outcome)],
    creds: &Credentials,
    rep: &mut EndpointReport,
) -> LoginReport {
    let reports: Vec<LoginAttempt> = attempts
        .iter()
        .map(|(m, o)| {
            let (status, message) = match o {
                Outcome::Ok(t) => (LoginStatus::Ok, t.clone()),
                Outcome::Refused(t) => (LoginStatus::Failed, t.clone()),
                Outcome::Unverified(t) => (LoginStatus::Failed, format!("unverified: {t}")),
            };
            LoginAttempt {
                mechanism: m.name().to_string(),
                status,
                message,
            }
        })
        .collect();
    let success = attempts.iter().find(|(_, o)| matches!(o, Outcome::Ok(_)));
    let encrypted_failed = attempts.iter().any(|(m, o)| {
        m.auth_method() == AuthMethod::PasswordEncrypted && !matches!(o, Outcome::Ok(_))
    });
    match success {
        Some((m, Outcome::Ok(text))) => {
            if encrypted_failed && m.auth_method() == AuthMethod::PasswordCleartext {
                rep.problems.push(Problem::warning(
                    Code::LoginEncryptedFailed,
                    format!(
                        "login with {} worked, but the challenge-response method failed",
                        m.name()
                    ),
                ));
            }
            LoginReport {
                status: LoginStatus::Ok,
                mechanism: Some(m.name().to_string()),
                auth_method: Some(m.auth_method()),
                username: Some(creds.username.clone()),
                message: text.clone(),
                attempts: reports,
            }
        }
        _ => {
            let (last_m, last_o) = attempts.last().expect("at least one attempt");
            let refused = attempts.iter().find_map(|(m, o)| match o {
                Outcome::Refused(t) => Some((m, t)),
                _ => None,
            });
            let message = match (refused, last_o) {
                (Some((m, t)), _) => {
                    rep.problems.push(Problem::error(
                        Code::LoginFailed,
                        format!(
                            "the server refused the login as {:?} with {}: {t}",
                            creds.username,
                            m.name()
                        ),
                    ));
                    t.clone()
                }
                (None, Outcome::Unverified(t))
                | (None, Outcome::Refused(t))
                | (None, Outcome::Ok(t)) => {
                    rep.problems.push(Problem::error(
                        Code::LoginUnverified,
                        format!("login with {} could not be verified: {t}", last_m.name()),
                    ));
                    t.clone()
                }
            };
            LoginReport {
                status: LoginStatus::Failed,
                mechanism: Some(last_m.name().to_string()),
                auth_method: Some(last_m.auth_method()),
                username: Some(creds.username.clone()),
                message,
                attempts: reports,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plan_prefers_challenge_response_with_cleartext_fallback() {
        let methods = vec![
            Method::Sasl(Mechanism::CramMd5),
            Method::Sasl(Mechanism::Plain),
            Method::ImapLogin,
        ];
        assert_eq!(
            plan(&methods, false),
            [
                Method::Sasl(Mechanism::CramMd5),
                Method::Sasl(Mechanism::Plain)
            ]
        );
        assert_eq!(plan(&methods[1..], false), [Method::Sasl(Mechanism::Plain)]);
        assert_eq!(plan(&methods, true).len(), 3);
    }

    #[test]
    fn percent_rounds() {
        assert_eq!(percent(Some(9), Some(10)), Some(90.0));
        assert_eq!(percent(Some(1), Some(3)), Some(33.3));
        assert_eq!(percent(Some(1), None), None);
    }
}
