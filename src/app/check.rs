//! `mailsetup check`: probe every endpoint and verify login on each, all at once.

use std::sync::Arc;
use std::time::Instant;

use super::progress::{Event, Progress};
use crate::model::{
    AccountSettings, Address, AuthMethod, Endpoint, Mechanism, Pop3Policy, Protocol, Security,
    ServerSettings,
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
    /// `--strict`: every probed endpoint counts, a refused port of a candidate included.
    pub strict: bool,
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
    /// The user named it (`--server`); discovered and guessed candidates are not named.
    pub named: bool,
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
            named: true,
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
            rep.named = t.named;
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
            None => {
                let mut rep = super::probe::deadline_report(ep);
                rep.named = t.named;
                endpoints.push(rep);
            }
        }
    }
    super::probe::not_offered(&mut endpoints, req.strict);
    if cfg.tls.insecure() {
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
    CheckReport {
        version: 1,
        command: "check".into(),
        address: req.address.to_string(),
        username: req.username,
        insecure: cfg.tls.insecure(),
        endpoints,
        quota,
        discovery: req.discovery.clone(),
        recommended,
        problems,
        elapsed_ms: start.elapsed().as_millis() as u64,
    }
}

/// The authentication to configure on an endpoint, with its mechanism: the class that
/// logged in (normal password preferred inside TLS when several did), or — not verified —
/// the best class the server offers. Never a class the server does not offer.
fn recommended_auth(e: &EndpointReport) -> (AuthMethod, Option<Mechanism>) {
    let classes = if e.security == Security::Plain {
        [
            AuthMethod::PasswordEncrypted,
            AuthMethod::PasswordCleartext,
            AuthMethod::OAuth2,
        ]
    } else {
        [
            AuthMethod::PasswordCleartext,
            AuthMethod::PasswordEncrypted,
            AuthMethod::OAuth2,
        ]
    };
    let choose = |mechanisms: &[Mechanism]| {
        classes.iter().find_map(|class| {
            mechanisms
                .iter()
                .filter(|m| m.auth_method() == *class)
                .min_by_key(|m| crate::proto::preference(**m))
                .copied()
        })
    };
    let verified: Vec<Mechanism> = e
        .login
        .iter()
        .filter(|l| l.status == LoginStatus::Ok)
        .flat_map(|l| &l.attempts)
        .filter(|a| a.status == LoginStatus::Ok)
        .filter_map(|a| Mechanism::from_name(&a.mechanism))
        .collect();
    let offered =
        crate::proto::offered_mechanisms(e.protocol, &e.capabilities, &e.auth_mechanisms, false);
    match choose(&verified).or_else(|| choose(&offered)) {
        Some(m) => (m.auth_method(), Some(m)),
        None => (AuthMethod::PasswordCleartext, None),
    }
}

/// Whether an endpoint can carry the account: it works, has TLS, and — when logins were
/// attempted in this run — its login was verified.
pub fn usable(e: &EndpointReport, need_login: bool) -> bool {
    e.status.works()
        && e.security != Security::Plain
        && (!need_login
            || e.login
                .as_ref()
                .is_some_and(|l| l.status == LoginStatus::Ok))
}

/// Whether logins were attempted in this run (credentials given): every login is then ok,
/// failed or deliberately not attempted; without credentials every one is skipped.
fn logins_attempted(endpoints: &[EndpointReport]) -> bool {
    endpoints.iter().any(|e| {
        e.login
            .as_ref()
            .is_some_and(|l| l.status != LoginStatus::Skipped)
    })
}

/// The best usable endpoint of one direction: the preferred protocol, then implicit TLS over
/// STARTTLS (RFC 8314), then host and port for a stable choice.
fn best(endpoints: &[EndpointReport], incoming: bool, prefer: Protocol) -> Option<&EndpointReport> {
    let need_login = logins_attempted(endpoints);
    endpoints
        .iter()
        .filter(|e| (e.protocol != Protocol::Smtp) == incoming)
        .filter(|e| usable(e, need_login))
        .min_by_key(|e| (e.protocol != prefer, e.security, e.host.clone(), e.port))
}

/// The exit status of a check (README "Exit status"): 0 when the account works — a usable
/// incoming and outgoing endpoint (login verified when credentials were given) for every
/// direction that was checked, and every endpoint the user named is fine; 1 otherwise, or when
/// the account as a whole has an error. Errors of other discovered candidates are reported at
/// their severity but don't fail a working account; `--strict` makes every endpoint count.
pub fn exit_code(report: &CheckReport, strict: bool, prefer: Protocol) -> i32 {
    let account_error = report
        .problems
        .iter()
        .any(|p| p.severity == crate::report::Severity::Error);
    let any_error = report
        .endpoints
        .iter()
        .any(|e| e.status == Status::Error || (strict && e.status == Status::NotOffered));
    let named_error = report
        .endpoints
        .iter()
        .any(|e| e.named && !e.status.works());
    let direction_missing = [true, false].into_iter().any(|incoming| {
        let checked = report
            .endpoints
            .iter()
            .any(|e| !e.named && (e.protocol != Protocol::Smtp) == incoming);
        checked && best(&report.endpoints, incoming, prefer).is_none()
    });
    let failed = account_error || named_error || direction_missing || (strict && any_error);
    i32::from(failed)
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
    let incoming = best(endpoints, true, prefs.prefer)?;
    let outgoing = best(endpoints, false, prefs.prefer)?;
    let server = |e: &EndpointReport| {
        let (auth, mechanism) = recommended_auth(e);
        ServerSettings {
            endpoint: e.endpoint(),
            username: e
                .login
                .as_ref()
                .and_then(|l| l.username.clone())
                .unwrap_or_else(|| default_username.to_string()),
            auth,
            mechanism,
        }
    };
    Some(Recommended {
        settings: AccountSettings {
            address: address.to_string(),
            display_name: prefs.display_name.clone(),
            incoming: server(incoming),
            outgoing: server(outgoing),
            pop3: prefs.pop3,
        },
        verified: logins_attempted(endpoints),
    })
}
