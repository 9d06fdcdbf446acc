//! `mailsetup check`: probe every endpoint and verify login on each, all at once.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Instant;

use super::progress::{Event, Progress};
use crate::discover::{Candidate, Discovery, Source};
use crate::model::{
    AccountSettings, Address, AuthMethod, Endpoint, Mechanism, Pop3Policy, Protocol, Security,
    ServerSettings, TrustReason,
};
use crate::report::{
    sort_endpoints, CheckReport, Code, EndpointReport, LoginStatus, Problem, Quota, Recommended,
    Status,
};
use crate::session::facts::{LoginFacts, Withheld};
use crate::session::login::{check_endpoint, Credentials, LoginOptions};
use crate::session::SessionConfig;

/// At this use of the quota a warning is raised.
pub const QUOTA_WARNING_PERCENT: f64 = 90.0;

pub struct CheckRequest {
    pub address: Address,
    pub username: String,
    pub endpoints: Vec<Target>,
    /// What discovery found, when it ran (its candidates carry the trust decisions).
    pub discovery: Option<crate::discover::Discovery>,
    pub credentials: Option<Credentials>,
    pub options: LoginOptions,
    /// Incoming protocol preferred for `recommended` (IMAP unless `--prefer pop3`).
    pub prefer: Protocol,
    pub display_name: Option<String>,
    pub pop3: Pop3Policy,
    /// `--strict`: every probed endpoint counts, a refused port of a candidate included.
    pub strict: bool,
    /// Progressive discovery: `endpoints` are what the first answering sources found, and
    /// this yields the final discovery with its targets once they are checked ([`MoreTargets`]).
    pub more: Option<MoreTargets>,
}

/// The rest of a discovery still under way when the check started: awaited after the first
/// targets are checked, it yields the final discovery (trust decisions applied) and every
/// target it lists. Targets not checked yet are checked then; checked ones it no longer lists
/// (an HTTP answer the HTTPS one overrode, guesses once a real source answered) are dropped.
pub type MoreTargets = Pin<Box<dyn Future<Output = (Vec<Target>, Discovery)> + Send>>;

/// One endpoint to check.
#[derive(Debug, Clone)]
pub struct Target {
    pub endpoint: Endpoint,
    /// The trust policy's decision ([`super::trust`]).
    pub trust: TrustReason,
    /// Why credentials must not go there (the `untrusted-candidate` problem), when untrusted.
    pub untrusted: Option<Problem>,
    /// The user name this endpoint expects (from discovery), unless the user gave one.
    pub username: Option<String>,
    /// The discovery source it came from.
    pub source: Option<String>,
    /// Notes from discovery to show on this endpoint (e.g. the provider wants OAuth2).
    pub notes: Vec<Problem>,
    /// The user named it (`--server`); discovered and guessed candidates are not named.
    pub named: bool,
    /// A provider template fixes the form of the user name (ISPDB, autoconfig,
    /// Autodiscover): no other form is tried.
    pub username_fixed: bool,
}

impl Target {
    /// An endpoint the user named: trusted, and the only kind `--allow-plaintext-login`
    /// applies to.
    pub fn given(endpoint: Endpoint) -> Self {
        Target {
            endpoint,
            trust: TrustReason::Named,
            untrusted: None,
            username: None,
            source: None,
            notes: Vec::new(),
            named: true,
            username_fixed: false,
        }
    }

    /// A discovered candidate, with the policy's decision (already recorded on it).
    pub fn discovered(c: &Candidate) -> Self {
        let trust = c.trust_reason.unwrap_or(TrustReason::OutsideDomain);
        Target {
            endpoint: c.endpoint.clone(),
            trust,
            untrusted: (!trust.trusted()).then(|| {
                super::trust::untrusted_problem(&c.endpoint.host, Some(c.source.as_str()), Some(c))
            }),
            username: Some(c.username.clone()),
            source: Some(c.source.as_str().to_string()),
            notes: oauth2_only_note(c),
            named: false,
            username_fixed: !matches!(c.source, Source::Srv | Source::Guess),
        }
    }
}

/// The provider's published configuration allows only OAuth2 here: say so, since a password
/// login will most likely be refused.
fn oauth2_only_note(c: &Candidate) -> Vec<Problem> {
    if !c.auth.is_empty() && c.auth.iter().all(|a| *a == AuthMethod::OAuth2) {
        vec![Problem::info(
            Code::Oauth2Required,
            format!(
                "{}'s published configuration allows only OAuth2 on this server",
                c.endpoint.host
            ),
        )]
    } else {
        Vec::new()
    }
}

/// Check targets from a discovery whose candidates carry the policy's decisions.
pub fn targets_from(d: &crate::discover::Discovery) -> Vec<Target> {
    d.candidates.iter().map(Target::discovered).collect()
}

pub async fn run(mut req: CheckRequest, cfg: &SessionConfig, progress: &Progress) -> CheckReport {
    let start = Instant::now();
    let creds = Arc::new(req.credentials.clone());
    // Plaintext stays explicit: `--allow-plaintext-login` applies only to endpoints the user
    // named, and such an endpoint is checked after the TLS endpoints, so it gets the password
    // only when no TLS endpoint of its protocol worked.
    let (plain, first): (Vec<Target>, Vec<Target>) = req.endpoints.iter().cloned().partition(|t| {
        t.endpoint.security == Security::Plain && t.named && req.options.allow_plaintext
    });
    let tls_opts = LoginOptions {
        allow_plaintext: false,
        ..req.options.clone()
    };
    let mut results = check_all(first.clone(), cfg, &creds, &tls_opts, progress).await;
    if let Some(more) = req.more.take() {
        let (all, found) = more.await;
        let same = |a: &Target, b: &Target| {
            a.endpoint == b.endpoint
                && a.trust == b.trust
                && a.username == b.username
                && a.username_fixed == b.username_fixed
                && a.source == b.source
        };
        // One run connects to at most as many servers as discovery hands on (a hostile
        // source listing thousands must not get more by answering late).
        let room = crate::discover::MAX_PER_RUN.saturating_sub(results.len());
        let new: Vec<Target> = all
            .iter()
            .filter(|a| !results.iter().any(|(t, _)| same(t, a)))
            .take(room)
            .cloned()
            .collect();
        results.extend(check_all(new, cfg, &creds, &tls_opts, progress).await);
        results = all
            .iter()
            .filter_map(|a| {
                let i = results.iter().position(|(t, _)| same(t, a))?;
                Some(results.swap_remove(i))
            })
            .collect();
        req.discovery = Some(found);
    }
    if !plain.is_empty() {
        let tls_works = |p: Protocol| {
            results.iter().any(
                |(t, r): &(Target, Option<(EndpointReport, Option<Quota>)>)| {
                    t.endpoint.protocol == p
                        && r.as_ref().is_some_and(|(rep, _)| {
                            rep.status.works()
                                && rep
                                    .login
                                    .as_ref()
                                    .is_none_or(|l| l.status == LoginStatus::Ok)
                        })
                },
            )
        };
        let (allowed, refused): (Vec<Target>, Vec<Target>) = plain
            .into_iter()
            .partition(|t| !tls_works(t.endpoint.protocol));
        let mut later = check_all(allowed, cfg, &creds, &req.options, progress).await;
        let mut kept = check_all(refused, cfg, &creds, &tls_opts, progress).await;
        for (t, r) in &mut kept {
            if let Some((rep, _)) = r {
                tls_works_instead(rep, t.endpoint.protocol);
            }
        }
        later.extend(kept);
        results.extend(later);
    }
    let mut endpoints = Vec::new();
    let mut quotas = Vec::new();
    for (t, r) in results {
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
                record_target(&mut rep, &t);
                rep.finish();
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
    let recommended = recommend(
        &req.address.to_string(),
        &req.username,
        &endpoints,
        req.discovery.as_ref(),
        &prefs,
    );
    if recommended.is_none() {
        problems.extend(untrusted_only(&endpoints));
    }
    let folders = super::folders::best(&endpoints);
    CheckReport {
        version: 1,
        command: "check".into(),
        address: req.address.to_string(),
        username: req.username,
        insecure: cfg.tls.insecure(),
        endpoints,
        quota,
        folders,
        discovery: req.discovery.clone(),
        recommended,
        problems,
        elapsed_ms: start.elapsed().as_millis() as u64,
        round_trip: None,
    }
}

type Checked = (Target, Option<(EndpointReport, Option<Quota>)>);

/// A plain endpoint the user allowed plaintext for, kept from the password because the same
/// protocol works over TLS: say so (rather than "add --allow-plaintext-login").
fn tls_works_instead(rep: &mut EndpointReport, protocol: Protocol) {
    let why = format!(
        "the password was not sent: {} works over TLS, so it does not cross the network \
         unencrypted here (--allow-plaintext-login applies only when no TLS endpoint works)",
        protocol.as_str().to_uppercase()
    );
    for p in &mut rep.problems {
        if p.code == Code::PlaintextLoginRefused {
            p.message = why.clone();
        }
    }
    if let Some(l) = &mut rep.login {
        if l.status == LoginStatus::NotAttempted {
            l.message = why;
        }
    }
}

/// Checks every target at once; results in the targets' order (`None`: cut off by the
/// overall deadline).
async fn check_all(
    targets: Vec<Target>,
    cfg: &SessionConfig,
    creds: &Arc<Option<Credentials>>,
    opts: &LoginOptions,
    progress: &Progress,
) -> Vec<Checked> {
    let opts = Arc::new(opts.clone());
    let results = super::run_all(targets.clone(), cfg.deadline, |t| {
        let (cfg, creds, opts, progress) =
            (cfg.clone(), creds.clone(), opts.clone(), progress.clone());
        async move {
            progress.emit(Event::EndpointStarted {
                url: t.endpoint.url(),
            });
            // A discovered user-name form applies unless the user gave --username; without
            // either, the local part is the second form tried (issue 14).
            let creds: Option<Credentials> = creds.as_ref().clone().map(|mut c| {
                if let (Some(u), false) = (&t.username, opts.username_given) {
                    c.username = u.clone();
                }
                if !opts.username_given && !t.username_fixed {
                    c.alternative = crate::session::login::local_part(&c.username);
                }
                c
            });
            // Credentials go only where the trust policy allows (the endpoint is still
            // probed, and the report says why nothing was sent).
            let untrusted = t.untrusted.is_some();
            let sent = creds.as_ref().filter(|_| !untrusted);
            let mut facts = check_endpoint(&t.endpoint, &cfg, sent, &opts).await;
            if let (true, Some(c)) = (untrusted, &creds) {
                facts.login = Some(LoginFacts::Withheld(Withheld::Untrusted {
                    username: c.username.clone(),
                }));
            }
            let (mut rep, quota) = crate::report::endpoint::build(&facts);
            record_target(&mut rep, &t);
            rep.finish();
            progress.finished(&rep);
            (rep, quota)
        }
    })
    .await;
    targets.into_iter().zip(results).collect()
}

/// What the plan knew about an endpoint goes onto its report: origin, trust decision (and,
/// when untrusted, the problem that says why — with or without credentials in the run), notes.
fn record_target(rep: &mut EndpointReport, t: &Target) {
    rep.source = t.source.clone();
    rep.named = t.named;
    rep.trusted = t.trust.trusted();
    rep.trust_reason = Some(t.trust);
    if let Some(p) = &t.untrusted {
        if !rep.has(Code::UntrustedCandidate) {
            rep.problems.push(p.clone());
        }
        // Credentials withheld by the policy: the login says why in the policy's words.
        if let Some(l) = &mut rep.login {
            if l.status == LoginStatus::NotAttempted {
                l.message = p.message.clone();
            }
        }
    }
    rep.problems.extend(t.notes.iter().cloned());
}

/// When nothing trusted works but an untrusted endpoint does: say why it is not recommended
/// and how to vouch for it.
fn untrusted_only(endpoints: &[EndpointReport]) -> Option<Problem> {
    let mut hosts: Vec<&str> = endpoints
        .iter()
        .filter(|e| !e.trusted && e.status.works())
        .map(|e| e.host.as_str())
        .collect();
    hosts.sort();
    hosts.dedup();
    if hosts.is_empty() {
        return None;
    }
    let flags: Vec<String> = hosts.iter().map(|h| format!("--trust-host {h}")).collect();
    Some(Problem::error(
        Code::NoTrustedServer,
        format!(
            "no trusted server works for both incoming and outgoing mail; only {} answered, \
             which nothing vouches for (see untrusted-candidate), so nothing is recommended. If \
             it is your provider's server, run again with {}",
            hosts.join(", "),
            flags.join(" ")
        ),
    ))
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

/// Whether an endpoint can carry the account: the trust policy trusts it, it works, has TLS,
/// and — when logins were attempted in this run — its login was verified.
pub fn usable(e: &EndpointReport, need_login: bool) -> bool {
    e.trusted
        && e.status.works()
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

/// The best usable endpoint of one direction: the preferred protocol, then the source's tier
/// ([`Candidate::tier`]: provider database and HTTPS autoconfig, then in-domain DNS sources,
/// then plain HTTP, then guesses), then implicit TLS over STARTTLS (RFC 8314), then discovery's
/// own order; host names never decide between sources (named endpoints: host and port).
fn best<'a>(
    endpoints: &'a [EndpointReport],
    discovery: Option<&crate::discover::Discovery>,
    incoming: bool,
    prefer: Protocol,
) -> Option<&'a EndpointReport> {
    let need_login = logins_attempted(endpoints);
    let rank = |e: &EndpointReport| -> (u8, usize) {
        discovery
            .and_then(|d| {
                d.candidates
                    .iter()
                    .enumerate()
                    .find(|(_, c)| c.endpoint == e.endpoint())
                    .map(|(i, c)| (c.tier(), i))
            })
            .unwrap_or((0, 0))
    };
    endpoints
        .iter()
        .filter(|e| (e.protocol != Protocol::Smtp) == incoming)
        .filter(|e| usable(e, need_login))
        .min_by_key(|e| {
            let (tier, order) = rank(e);
            (
                e.protocol != prefer,
                tier,
                e.security,
                order,
                e.host.clone(),
                e.port,
            )
        })
}

/// The exit status of a check (README "Exit status"): 0 when the account works — a usable
/// incoming and outgoing endpoint (login verified when credentials were given) for every
/// direction that was checked, and every endpoint the user named is fine; 1 otherwise, or when
/// the account as a whole has an error. Errors of other discovered candidates are reported at
/// their severity but don't fail a working account; `--strict` makes every endpoint count; a
/// failed `--round-trip` fails the check.
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
        checked
            && best(
                &report.endpoints,
                report.discovery.as_ref(),
                incoming,
                prefer,
            )
            .is_none()
    });
    // `--round-trip`: mail that does not make the whole trip fails the check.
    let round_trip_failed = report.round_trip.as_ref().is_some_and(|r| r.failed());
    let failed = account_error
        || named_error
        || direction_missing
        || (strict && any_error)
        || round_trip_failed;
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
    discovery: Option<&crate::discover::Discovery>,
    prefs: &Preferences,
) -> Option<Recommended> {
    let incoming = best(endpoints, discovery, true, prefs.prefer)?;
    let outgoing = best(endpoints, discovery, false, prefs.prefer)?;
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
        verified: logins_attempted(endpoints),
    })
}
