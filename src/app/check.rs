//! `mailsetup check`: probe every endpoint and verify login on each, all at once.

use std::sync::Arc;
use std::time::Instant;

use super::progress::{Event, Progress};
use crate::model::{
    AccountSettings, Address, AuthMethod, Endpoint, Pop3Policy, Protocol, Security, ServerSettings,
};
use crate::report::{
    sort_endpoints, CheckReport, Code, EndpointReport, LoginStatus, Problem, Recommended, Status,
};
use crate::session::login::{check_endpoint, Credentials, LoginOptions};
use crate::session::SessionConfig;

/// At this use of the quota a warning is raised.
pub const QUOTA_WARNING_PERCENT: f64 = 90.0;

pub struct CheckRequest {
    pub address: Address,
    pub username: String,
    pub endpoints: Vec<Target>,
    /// What discovery found, when it ran.
    pub discovery: Option<crate::discover::Discovery>,
    pub credentials: Option<Credentials>,
    pub options: LoginOptions,
    /// Incoming protocol preferred for `recommended` (IMAP unless `--prefer pop3`).
    pub prefer: Protocol,
    pub display_name: Option<String>,
    pub pop3: Pop3Policy,
}

/// One endpoint to check.
#[derive(Debug, Clone)]
pub struct Target {
    pub endpoint: Endpoint,
    /// Whether credentials may go there (`Err` = why not: untrusted discovery source).
    pub trusted: Result<(), Problem>,
    /// The user name this endpoint expects (from discovery), unless the user gave one.
    pub username: Option<String>,
    /// The discovery source it came from.
    pub source: Option<String>,
    /// Notes from discovery to show on this endpoint (e.g. the provider wants OAuth2).
    pub notes: Vec<Problem>,
}

impl Target {
    /// An endpoint the user named (or the address's own domain): it may receive credentials.
    pub fn given(endpoint: Endpoint) -> Self {
        Target {
            endpoint,
            trusted: Ok(()),
            username: None,
            source: None,
            notes: Vec::new(),
        }
    }
}

pub async fn run(req: CheckRequest, cfg: &SessionConfig, progress: &Progress) -> CheckReport {
    let start = Instant::now();
    let creds = Arc::new(req.credentials.clone());
    let opts = Arc::new(req.options.clone());
    let results = super::run_all(req.endpoints.clone(), cfg.deadline, |t| {
        let (cfg, creds, opts, progress) =
            (cfg.clone(), creds.clone(), opts.clone(), progress.clone());
        async move {
            progress.emit(Event::EndpointStarted {
                url: t.endpoint.url(),
            });
            // A discovered user-name form applies unless the user gave --username.
            let creds: Option<Credentials> = creds.as_ref().clone().map(|mut c| {
                if let (Some(u), false) = (&t.username, opts.username_given) {
                    c.username = u.clone();
                }
                c
            });
            let (mut rep, quota) =
                check_endpoint(&t.endpoint, &cfg, creds.as_ref(), &opts, t.trusted).await;
            rep.source = t.source;
            rep.problems.extend(t.notes);
            rep.finish();
            progress.finished(&rep);
            (rep, quota)
        }
    })
    .await;
    let mut endpoints = Vec::new();
    let mut quotas = Vec::new();
    for (r, t) in results.into_iter().zip(req.endpoints.iter()) {
        let ep = &t.endpoint;
        match r {
            Some((rep, quota)) => {
                if let Some(q) = quota {
                    quotas.push((ep.protocol, ep.security, q));
                }
                endpoints.push(rep);
            }
            None => endpoints.push(super::probe::deadline_report(ep)),
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
    let prefs = Preferences {
        prefer: req.prefer,
        display_name: req.display_name.clone(),
        pop3: req.pop3,
    };
    let recommended = recommend(&req.address.to_string(), &req.username, &endpoints, &prefs);
    let folders = super::folders::best(&endpoints);
    CheckReport {
        version: 1,
        command: "check".into(),
        address: req.address.to_string(),
        username: req.username,
        insecure: cfg.tls.insecure,
        endpoints,
        quota,
        folders,
        discovery: req.discovery.clone(),
        recommended,
        problems,
        elapsed_ms: start.elapsed().as_millis() as u64,
    }
}

/// The best incoming and outgoing endpoint: login verified if any login was verified, else
/// (no credentials) the best endpoint that passed every check. Preference: the preferred
/// protocol, then implicit TLS over STARTTLS (RFC 8314), never a plain endpoint.
/// The authentication to configure. Over TLS the plain password is as safe as a
/// challenge-response and every client supports it, so it is recommended whenever the
/// server offers it (Thunderbird's own choice); otherwise the method that was verified.
fn recommended_auth(e: &EndpointReport) -> AuthMethod {
    let verified = e
        .login
        .as_ref()
        .filter(|l| l.status == LoginStatus::Ok)
        .and_then(|l| l.auth_method);
    if verified == Some(AuthMethod::OAuth2) {
        return AuthMethod::OAuth2;
    }
    let caps = &e.capabilities;
    let cleartext_offered = e
        .auth_mechanisms
        .iter()
        .any(|m| m == "PLAIN" || m == "LOGIN")
        || match e.protocol {
            Protocol::Imap => !crate::proto::imap::login_disabled(caps),
            Protocol::Pop3 => crate::proto::pop3::user_pass_offered(caps),
            Protocol::Smtp => false,
        };
    if e.security != Security::Plain && cleartext_offered {
        AuthMethod::PasswordCleartext
    } else {
        verified.unwrap_or(AuthMethod::PasswordCleartext)
    }
}

/// What the user chose that shapes the recommendation.
#[derive(Debug, Clone)]
pub struct Preferences {
    pub prefer: Protocol,
    pub display_name: Option<String>,
    pub pop3: Pop3Policy,
}

pub fn recommend(
    address: &str,
    default_username: &str,
    endpoints: &[EndpointReport],
    prefs: &Preferences,
) -> Option<Recommended> {
    let verified = |e: &EndpointReport| {
        e.login
            .as_ref()
            .is_some_and(|l| l.status == LoginStatus::Ok)
    };
    let usable = |e: &EndpointReport| e.status != Status::Error && e.security != Security::Plain;
    let pick = |incoming: bool, need_login: bool| -> Option<&EndpointReport> {
        endpoints
            .iter()
            .filter(|e| (e.protocol != Protocol::Smtp) == incoming)
            .filter(|e| usable(e) && (!need_login || verified(e)))
            .min_by_key(|e| {
                (
                    e.protocol != prefs.prefer,
                    e.security,
                    e.host.clone(),
                    e.port,
                )
            })
    };
    // With credentials every login is ok, failed or deliberately not attempted; without, skipped.
    let logged_in = endpoints.iter().any(|e| {
        e.login
            .as_ref()
            .is_some_and(|l| l.status != LoginStatus::Skipped)
    });
    let (incoming, outgoing) = (pick(true, logged_in)?, pick(false, logged_in)?);
    let server = |e: &EndpointReport| ServerSettings {
        endpoint: e.endpoint(),
        username: e
            .login
            .as_ref()
            .and_then(|l| l.username.clone())
            .unwrap_or_else(|| default_username.to_string()),
        auth: recommended_auth(e),
    };
    let mut settings = AccountSettings {
        address: address.to_string(),
        display_name: prefs.display_name.clone(),
        incoming: server(incoming),
        outgoing: server(outgoing),
        pop3: prefs.pop3,
        folders: Default::default(),
    };
    super::folders::attach(&mut settings, endpoints);
    Some(Recommended {
        settings,
        verified: logged_in,
    })
}
