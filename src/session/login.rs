//! Login verification on one endpoint: when credentials must not be sent at all, which
//! attempts go on which connection (a fresh, freshly verified connection for each attempt a
//! used one can't carry), and the second form of the user name. The attempts themselves — and
//! what counts as success — are the protocol machine's ([`crate::proto::client`]).

use std::time::Instant;

use super::driver::{self, Driver, Stop};
pub use super::facts::CredentialKind;
use super::facts::{EndpointFacts, LoginFacts, UserAttempt, Withheld};
use super::SessionConfig;
use crate::model::{Endpoint, Mechanism, Protocol, Secret, Security};
use crate::proto::client::{plan, Attempt, LoginRequest, Outcome};
use crate::proto::refusal::Reason;

/// What we log in with. The secret leaves only through `Secret::expose` at the wire.
#[derive(Debug, Clone)]
pub struct Credentials {
    pub username: String,
    pub secret: Secret,
    pub kind: CredentialKind,
    /// Another form of the user name, tried once when the server refuses `username` as wrong
    /// credentials: the local part, when the user gave no `--username` and no provider
    /// template fixes the form (many small providers log users in with the local part).
    pub alternative: Option<String>,
}

impl Credentials {
    pub fn new(username: String, secret: Secret, kind: CredentialKind) -> Self {
        Credentials {
            username,
            secret,
            kind,
            alternative: None,
        }
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

/// Probes an endpoint, then verifies login on it when that is safe.
pub async fn check_endpoint(
    endpoint: &Endpoint,
    cfg: &SessionConfig,
    creds: Option<&Credentials>,
    opts: &LoginOptions,
) -> EndpointFacts {
    let start = Instant::now();
    let mut facts = EndpointFacts::new(endpoint);
    let opened = driver::open(endpoint, cfg, &mut facts).await;
    verify(endpoint, cfg, creds, opts, opened, &mut facts).await;
    facts.elapsed_ms = start.elapsed().as_millis() as u64;
    facts
}

async fn verify(
    endpoint: &Endpoint,
    cfg: &SessionConfig,
    creds: Option<&Credentials>,
    opts: &LoginOptions,
    opened: Option<Driver>,
    facts: &mut EndpointFacts,
) {
    let Some(creds) = creds else {
        facts.login = Some(LoginFacts::NoCredentials);
        if let Some(d) = opened {
            d.close(facts).await;
        }
        return;
    };
    let Some(first) = opened else {
        facts.login = Some(LoginFacts::Withheld(Withheld::ConnectionFailed {
            username: creds.username.clone(),
        }));
        return;
    };
    if endpoint.security == Security::Plain && !opts.allow_plaintext {
        facts.login = Some(LoginFacts::Withheld(Withheld::Plaintext {
            username: creds.username.clone(),
        }));
        first.close(facts).await;
        return;
    }
    let offered = facts
        .capabilities
        .as_ref()
        .map(|c| c.offered.clone())
        .unwrap_or_default();
    let tls = endpoint.security != Security::Plain;
    let token = creds.kind == CredentialKind::OAuth2Token;
    let planned = plan(&offered, token, opts.all_mechanisms, tls);
    let mut run = Run {
        endpoint,
        cfg,
        creds,
        attempts: Vec::new(),
        kept: false,
    };
    let impossible = run
        .attempts_on(
            Some(first),
            &creds.username,
            planned.clone(),
            opts,
            false,
            facts,
        )
        .await;
    if let Some(why) = impossible {
        facts.login = Some(LoginFacts::Impossible {
            why,
            kind: creds.kind,
            username: creds.username.clone(),
        });
        return;
    }
    // The full address was refused as wrong credentials: the local part, once.
    if let Some((alternative, mechanism)) = run.alternative() {
        run.attempts_on(None, &alternative, vec![mechanism], opts, true, facts)
            .await;
    }
    facts.login = Some(LoginFacts::Attempted {
        attempts: run.attempts,
        kind: creds.kind,
    });
}

/// The attempts of one endpoint, across connections.
struct Run<'a> {
    endpoint: &'a Endpoint,
    cfg: &'a SessionConfig,
    creds: &'a Credentials,
    attempts: Vec<UserAttempt>,
    /// A session was kept for `check --round-trip`.
    kept: bool,
}

impl Run<'_> {
    /// Runs `mechanisms` as `username`, on `first` (a ready connection) and then on fresh
    /// connections for what a connection can't carry. Returns why no login could start, when
    /// the server leaves no way (nothing was sent).
    async fn attempts_on(
        &mut self,
        mut first: Option<Driver>,
        username: &str,
        mut pending: Vec<Mechanism>,
        opts: &LoginOptions,
        alternative: bool,
        facts: &mut EndpointFacts,
    ) -> Option<crate::proto::client::LoginImpossible> {
        let mut fresh = first.is_none();
        loop {
            let (mut driver, mut scratch) = match first.take() {
                Some(d) => (d, None),
                None => {
                    // Each further attempt gets a fresh, freshly verified connection.
                    let mut scratch = EndpointFacts::new(self.endpoint);
                    let reopened = driver::open(self.endpoint, self.cfg, &mut scratch).await;
                    match reopened {
                        Some(d) => (d, Some(scratch)),
                        None => {
                            for p in scratch.phases.list() {
                                facts.phases.push(p.clone());
                            }
                            if pending.is_empty() {
                                return None;
                            }
                            let mechanism = pending.remove(0);
                            self.push(
                                username,
                                alternative,
                                Attempt {
                                    mechanism,
                                    outcome: Outcome::Unverified(
                                        "could not reconnect: the new connection did not pass its checks".into(),
                                    ),
                                },
                            );
                            if pending.is_empty() {
                                return None;
                            }
                            continue;
                        }
                    }
                }
            };
            let succeeded = self.succeeded();
            let request = LoginRequest {
                username: username.to_string(),
                secret: self.creds.secret.clone(),
                mechanisms: std::mem::take(&mut pending),
                all: opts.all_mechanisms,
                quota: facts.quota.is_none() && self.endpoint.protocol != Protocol::Smtp,
                folders: facts.folders.is_none() && self.endpoint.protocol == Protocol::Imap,
                keep: self.cfg.keep.is_some() && !self.kept && !succeeded,
                host: self.endpoint.host.clone(),
                port: self.endpoint.port,
                // Reached on a plain endpoint only with --allow-plaintext-login (see above).
                plaintext_allowed: opts.allow_plaintext,
            };
            let target = scratch.as_mut().unwrap_or(facts);
            let stop = driver.login(request, target).await;
            if let Some(s) = scratch.take() {
                for p in s.phases.list() {
                    facts.phases.push(p.clone());
                }
                if facts.quota.is_none() {
                    facts.quota = s.quota;
                }
                if facts.folders.is_none() {
                    facts.folders = s.folders;
                }
            }
            for a in std::mem::take(&mut driver.attempts) {
                self.push(username, alternative, a);
            }
            if let Some(why) = driver.impossible.take() {
                driver.shutdown().await;
                // Only the first connection decides that no login is possible.
                return (!fresh).then_some(why);
            }
            fresh = true;
            match (driver.kept.take(), &self.cfg.keep) {
                (Some(capabilities), Some(keeper)) => {
                    let mechanism = self.success_mechanism().unwrap_or(Mechanism::Plain);
                    self.kept = true;
                    if let Some(mut d) =
                        keeper.keep(self.endpoint, mechanism, username, capabilities, driver)
                    {
                        d.shutdown().await;
                    }
                }
                _ => driver.shutdown().await,
            }
            match stop {
                Stop::Finished { remaining } if !remaining.is_empty() => pending = remaining,
                _ => return None,
            }
        }
    }

    fn push(&mut self, username: &str, alternative: bool, attempt: Attempt) {
        self.attempts.push(UserAttempt {
            username: username.to_string(),
            attempt,
            alternative,
        });
    }

    fn succeeded(&self) -> bool {
        self.success_mechanism().is_some()
    }

    fn success_mechanism(&self) -> Option<Mechanism> {
        self.attempts
            .iter()
            .find(|a| matches!(a.attempt.outcome, Outcome::Ok(_)))
            .map(|a| a.mechanism())
    }

    /// The second form of the user name and the mechanism to try it with: only when nothing
    /// worked and the server refused the given form as wrong credentials (one more failure,
    /// not one per mechanism: servers may lock accounts after repeated failures).
    fn alternative(&self) -> Option<(String, Mechanism)> {
        let alternative = self.creds.alternative.as_ref()?;
        if self.succeeded() || alternative == &self.creds.username {
            return None;
        }
        self.attempts.iter().find_map(|a| match &a.attempt.outcome {
            Outcome::Refused(r) if r.reason == Reason::BadCredentials => {
                Some((alternative.clone(), a.mechanism()))
            }
            _ => None,
        })
    }
}

/// The local part of an address used as a user name (`gus@example.org` → `gus`), when it is
/// one.
pub fn local_part(username: &str) -> Option<String> {
    let (local, domain) = username.rsplit_once('@')?;
    (!local.is_empty() && !domain.is_empty()).then(|| local.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_part_of_an_address() {
        assert_eq!(local_part("gus@example.org").as_deref(), Some("gus"));
        assert_eq!(local_part("gus"), None);
        assert_eq!(local_part("@example.org"), None);
        assert_eq!(local_part("a@b@example.org").as_deref(), Some("a@b"));
    }
}
