//! Login verification on one endpoint: which methods, in which order, on which connection,
//! and when credentials must not be sent at all.

use std::time::Instant;

use super::{open_state, ProtoState, SessionConfig};
use crate::model::timing::{PhaseName, PhaseStatus};
use crate::model::{AuthMethod, Endpoint, Secret, Security};
use crate::proto::imap;
use crate::proto::sasl::Mechanism;
use crate::report::{Code, EndpointReport, LoginAttempt, LoginReport, LoginStatus, Problem, Quota};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CredentialKind {
    Password,
    OAuth2Token,
}

impl CredentialKind {
    pub fn noun(self) -> &'static str {
        match self {
            CredentialKind::Password => "password",
            CredentialKind::OAuth2Token => "OAuth2 token",
        }
    }
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
        self.mechanism().auth_method()
    }

    /// The mechanism as client configs name it.
    pub fn mechanism(self) -> crate::model::Mechanism {
        use crate::model::Mechanism as M;
        match self {
            Method::Sasl(Mechanism::Plain) => M::Plain,
            Method::Sasl(Mechanism::Login) => M::Login,
            Method::Sasl(Mechanism::CramMd5) => M::CramMd5,
            Method::Sasl(Mechanism::ScramSha1) => M::ScramSha1,
            Method::Sasl(Mechanism::ScramSha256) => M::ScramSha256,
            Method::Sasl(Mechanism::XOAuth2) => M::XOAuth2,
            Method::Sasl(Mechanism::OAuthBearer) => M::OAuthBearer,
            Method::Apop => M::Apop,
            Method::ImapLogin => M::LoginCommand,
            Method::Pop3User => M::User,
        }
    }
}

impl From<crate::model::Mechanism> for Method {
    fn from(m: crate::model::Mechanism) -> Self {
        use crate::model::Mechanism as M;
        match m {
            M::LoginCommand => Method::ImapLogin,
            M::User => Method::Pop3User,
            M::Apop => Method::Apop,
            M::Plain => Method::Sasl(Mechanism::Plain),
            M::Login => Method::Sasl(Mechanism::Login),
            M::CramMd5 => Method::Sasl(Mechanism::CramMd5),
            M::ScramSha1 => Method::Sasl(Mechanism::ScramSha1),
            M::ScramSha256 => Method::Sasl(Mechanism::ScramSha256),
            M::XOAuth2 => Method::Sasl(Mechanism::XOAuth2),
            M::OAuthBearer => Method::Sasl(Mechanism::OAuthBearer),
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

/// The methods a server offers that we can use with these credentials, best first
/// (the protocol rules live in [`crate::proto::offered_mechanisms`]).
pub fn offered_methods(state: &ProtoState, kind: CredentialKind) -> Vec<Method> {
    use crate::proto::{pop3, smtp};
    let offered = match state {
        ProtoState::Imap(st) => crate::proto::offered_mechanisms(
            crate::model::Protocol::Imap,
            &st.capabilities,
            &imap::auth_mechanisms(&st.capabilities),
            false,
        ),
        ProtoState::Pop3(st) => crate::proto::offered_mechanisms(
            crate::model::Protocol::Pop3,
            &pop3::capabilities(&st.capa),
            &pop3::auth_mechanisms(&st.capa),
            st.apop_timestamp.is_some(),
        ),
        ProtoState::Smtp(ehlo) => crate::proto::offered_mechanisms(
            crate::model::Protocol::Smtp,
            &smtp::ehlo_keywords(ehlo),
            &smtp::auth_mechanisms(ehlo),
            false,
        ),
    };
    offered
        .into_iter()
        .filter(|m| match kind {
            CredentialKind::Password => m.auth_method() != AuthMethod::OAuth2,
            CredentialKind::OAuth2Token => m.auth_method() == AuthMethod::OAuth2,
        })
        .map(Method::from)
        .collect()
}

/// The attempts to make: all (`--all-mechanisms`), or the best method of the preferred class
/// and, should the server refuse it, the best of the other password class. Inside TLS the
/// normal password comes first: it is what the report will recommend (safe over TLS, every
/// client can do it), so "login verified" is true of the recommended settings; when the
/// server refuses it (a provider offering only "encrypted password" may still advertise
/// USER), the challenge-response method is verified instead. On a connection without TLS
/// (only with the user's consent) challenge-response comes first, so the password itself
/// crosses the wire only when nothing else works.
fn plan(methods: &[Method], all: bool, tls: bool) -> Vec<Method> {
    if all {
        return methods.to_vec();
    }
    let best = |class: AuthMethod| methods.iter().find(|m| m.auth_method() == class).copied();
    let (first, second) = if tls {
        (AuthMethod::PasswordCleartext, AuthMethod::PasswordEncrypted)
    } else {
        (AuthMethod::PasswordEncrypted, AuthMethod::PasswordCleartext)
    };
    let out: Vec<Method> = [best(first), best(second)].into_iter().flatten().collect();
    if out.is_empty() {
        // OAuth2 tokens: the best offered token mechanism.
        methods.iter().take(1).copied().collect()
    } else {
        out
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
    cfg.end_phase(&mut rep, PhaseStatus::Ok);
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
    let login_disabled =
        matches!(&state, ProtoState::Imap(st) if imap::login_disabled(&st.capabilities));
    if login_disabled && endpoint.security == Security::Plain {
        // Without TLS, LOGINDISABLED means no credential of any form, consent or not.
        refuse(rep, Problem::error(
            Code::LoginDisabled,
            "the server advertises LOGINDISABLED on this connection without TLS; no credentials were sent",
        ));
        close(&mut conn, state).await;
        return None;
    }
    let methods = offered_methods(&state, creds.kind);
    if methods.is_empty() && login_disabled {
        let offered = if rep.auth_mechanisms.is_empty() {
            "none".to_string()
        } else {
            rep.auth_mechanisms.join(" ")
        };
        refuse(
            rep,
            Problem::error(
                Code::LoginDisabled,
                format!(
                    "the server forbids the LOGIN command (LOGINDISABLED) and offers no AUTHENTICATE mechanism usable with a {} (offered: {offered}); no credentials were sent",
                    creds.kind.noun()
                ),
            ),
        );
        close(&mut conn, state).await;
        return None;
    }
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
                    creds.kind.noun()
                ),
            ),
        );
        close(&mut conn, state).await;
        return None;
    }

    let mut attempts: Vec<(Method, Outcome)> = Vec::new();
    let mut quota = None;
    let mut current = Some((conn, state));
    for method in plan(
        &methods,
        opts.all_mechanisms,
        endpoint.security != Security::Plain,
    ) {
        let (mut conn, mut state) = match current.take() {
            Some(c) => c,
            None => {
                // Each further attempt gets a fresh, freshly verified connection.
                let mut scratch = EndpointReport::new(endpoint);
                let reopened = open_state(endpoint, cfg, &mut scratch).await;
                cfg.end_phase(&mut scratch, PhaseStatus::Ok);
                for phase in scratch.phases.list() {
                    rep.phases.push(phase.clone());
                }
                match reopened {
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
        cfg.begin_phase(rep, PhaseName::Login);
        let outcome = attempt(&mut conn, &mut state, method, creds, cfg, endpoint).await;
        cfg.end_phase(
            rep,
            match outcome {
                Outcome::Ok(_) => PhaseStatus::Ok,
                _ => PhaseStatus::Error,
            },
        );
        // SMTP has no quota to ask for.
        if matches!(outcome, Outcome::Ok(_))
            && quota.is_none()
            && !matches!(state, ProtoState::Smtp(_))
        {
            cfg.begin_phase(rep, PhaseName::Quota);
            quota = match &mut state {
                ProtoState::Imap(st) => {
                    let q = super::imap::quota(&mut conn, st, cfg, &endpoint.url()).await;
                    rep.folders = super::imap::folders(&mut conn, st, cfg).await;
                    q
                }
                ProtoState::Pop3(_) => super::pop3::quota(&mut conn, cfg, &endpoint.url()).await,
                ProtoState::Smtp(_) => None,
            };
            let status = if quota.is_some() {
                PhaseStatus::Ok
            } else {
                PhaseStatus::Error
            };
            cfg.end_phase(rep, status);
        }
        // `check --round-trip` continues on the verified session (session::handoff).
        let unkept = match (&outcome, &cfg.keep) {
            (Outcome::Ok(_), Some(keeper)) => {
                keeper.offer(endpoint, method, &creds.username, conn, state)
            }
            _ => Some((conn, state)),
        };
        if let Some((mut conn, state)) = unkept {
            close(&mut conn, state).await;
        }
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
                    // The server's reason decides the code: login-failed only for credentials.
                    let refusal = crate::proto::refusal::from_outcome_text(rep.protocol, t);
                    rep.problems.push(crate::report::causes::login_refused(
                        &refusal,
                        &creds.username,
                        m.name(),
                        t,
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
    fn plan_verifies_the_normal_password_inside_tls_with_an_encrypted_fallback() {
        let methods = vec![
            Method::Sasl(Mechanism::ScramSha256),
            Method::Sasl(Mechanism::CramMd5),
            Method::Sasl(Mechanism::Plain),
            Method::ImapLogin,
        ];
        assert_eq!(
            plan(&methods, false, true),
            [
                Method::Sasl(Mechanism::Plain),
                Method::Sasl(Mechanism::ScramSha256)
            ]
        );
        // Without TLS (only with consent): challenge-response first.
        assert_eq!(
            plan(&methods, false, false),
            [
                Method::Sasl(Mechanism::ScramSha256),
                Method::Sasl(Mechanism::Plain)
            ]
        );
        assert_eq!(
            plan(&methods[1..2], false, true),
            [Method::Sasl(Mechanism::CramMd5)]
        );
        assert_eq!(plan(&methods, true, true).len(), 4);
        let oauth = [Method::Sasl(Mechanism::OAuthBearer)];
        assert_eq!(plan(&oauth, false, true), oauth);
    }

    fn imap_state(caps: &str) -> ProtoState {
        ProtoState::Imap(super::super::imap::ImapState::for_capabilities(
            imap::split_capabilities(caps),
        ))
    }

    #[test]
    fn logindisabled_removes_only_the_login_command() {
        let st = imap_state("IMAP4rev1 LOGINDISABLED AUTH=CRAM-MD5");
        assert_eq!(
            offered_methods(&st, CredentialKind::Password),
            [Method::Sasl(Mechanism::CramMd5)]
        );
        assert_eq!(
            plan(&offered_methods(&st, CredentialKind::Password), false, true),
            [Method::Sasl(Mechanism::CramMd5)]
        );
        let st = imap_state("IMAP4rev1 LOGINDISABLED");
        assert!(offered_methods(&st, CredentialKind::Password).is_empty());
        let st = imap_state("IMAP4rev1 AUTH=PLAIN");
        assert_eq!(
            offered_methods(&st, CredentialKind::Password),
            [Method::Sasl(Mechanism::Plain), Method::ImapLogin]
        );
    }

    #[test]
    fn pop3_without_user_offers_only_its_sasl_mechanisms() {
        let st = ProtoState::Pop3(super::super::pop3::Pop3State {
            apop_timestamp: None,
            capa: vec!["TOP".into(), "SASL CRAM-MD5".into()],
        });
        assert_eq!(
            offered_methods(&st, CredentialKind::Password),
            [Method::Sasl(Mechanism::CramMd5)]
        );
        let st = ProtoState::Pop3(super::super::pop3::Pop3State {
            apop_timestamp: None,
            capa: vec!["TOP".into(), "SASL GSSAPI".into()],
        });
        assert!(offered_methods(&st, CredentialKind::Password).is_empty());
    }

    #[test]
    fn percent_rounds() {
        assert_eq!(percent(Some(9), Some(10)), Some(90.0));
        assert_eq!(percent(Some(1), Some(3)), Some(33.3));
        assert_eq!(percent(Some(1), None), None);
    }
}
