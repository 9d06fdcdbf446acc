//! Discovery: from an address to candidate endpoints. DNS and HTTP only, never a mail port.
//!
//! Every source runs at once under one deadline ([`discover`]); each lookup is reported as an
//! [`Attempt`], and what the sources found is merged into one ranked, deduplicated candidate
//! list. The pure parts (formats, names, orderings) live in their own modules and are
//! unit-tested; `net` and `run` do the I/O.

pub mod autodiscover;
mod bounds;
pub mod config_v11;
pub mod guess;
pub mod idn;
pub mod ispdb;
mod net;
mod run;
mod sources;
pub mod srv;
pub mod xml;

use std::net::SocketAddr;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Instant;

use serde::{Deserialize, Serialize};

use crate::model::{AuthMethod, Endpoint, Transport, TrustReason};
use crate::net::connect::ConnectTo;
use crate::net::tls::TlsContext;

pub use bounds::{AttemptProblem, MAX_PER_LOOKUP, MAX_PER_RUN};
pub use run::{discover, start, Running};

/// Where a candidate came from. Declared in rank order (best first): the provider's own
/// autoconfig, then the ISPDB (online, then built in), the same for the MX host, then SRV,
/// Autodiscover, and guesses last.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Source {
    /// `autoconfig.<d>/mail/config-v1.1.xml` (https, then http).
    Autoconfig,
    /// `<d>/.well-known/autoconfig/mail/config-v1.1.xml` (https, then http).
    AutoconfigWellknown,
    /// `https://autoconfig.thunderbird.net/v1.1/<d>`.
    Ispdb,
    /// The ISPDB snapshot embedded in the binary.
    BuiltinDb,
    /// The online ISPDB, for the domain of the MX host.
    MxIspdb,
    /// The built-in DB, for the domain of the MX host.
    MxBuiltinDb,
    /// RFC 6186 / RFC 8314 SRV records.
    Srv,
    /// Microsoft Autodiscover (POX).
    Autodiscover,
    /// Thunderbird's host-name guesses that resolve.
    Guess,
}

impl Source {
    pub const ALL: [Source; 9] = [
        Source::Autoconfig,
        Source::AutoconfigWellknown,
        Source::Ispdb,
        Source::BuiltinDb,
        Source::MxIspdb,
        Source::MxBuiltinDb,
        Source::Srv,
        Source::Autodiscover,
        Source::Guess,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Source::Autoconfig => "autoconfig",
            Source::AutoconfigWellknown => "autoconfig-wellknown",
            Source::Ispdb => "ispdb",
            Source::BuiltinDb => "builtin-db",
            Source::MxIspdb => "mx-ispdb",
            Source::MxBuiltinDb => "mx-builtin-db",
            Source::Srv => "srv",
            Source::Autodiscover => "autodiscover",
            Source::Guess => "guess",
        }
    }

    /// Built-in DB and ISPDB entries are vetted provider data: their hosts are trusted.
    pub fn is_provider_db(self) -> bool {
        matches!(
            self,
            Source::Ispdb | Source::BuiltinDb | Source::MxIspdb | Source::MxBuiltinDb
        )
    }
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Source {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim().to_ascii_lowercase();
        Source::ALL
            .into_iter()
            .find(|x| x.as_str() == s)
            .ok_or_else(|| {
                let all: Vec<&str> = Source::ALL.iter().map(|x| x.as_str()).collect();
                format!(
                    "unknown discovery source {s:?} (one of: {})",
                    all.join(", ")
                )
            })
    }
}

/// One endpoint a source proposes, ready to probe.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Candidate {
    /// Host in ASCII (punycode); see [`idn::to_unicode`] for display.
    pub endpoint: Endpoint,
    /// The login name, already expanded for the address.
    pub username: String,
    /// Methods the source names, preferred first. Empty: the source said nothing usable
    /// (SRV, guesses, Autodiscover SPA), so the server's capabilities decide.
    pub auth: Vec<AuthMethod>,
    pub source: Source,
    /// How the source's answer reached us (a fact for the trust policy).
    pub transport: Transport,
    /// The host lies inside the address's domain (a fact for the trust policy).
    pub in_domain: bool,
    /// For entries derived from the MX record: the MX host they came from.
    #[serde(default)]
    pub mx_host: Option<String>,
    /// The trust policy's decision (`app::trust`): credentials may go here, and it may be
    /// recommended and written. Discovery itself leaves it false, the reason unset.
    pub trusted: bool,
    #[serde(default)]
    pub trust_reason: Option<TrustReason>,
}

impl Candidate {
    /// A candidate with its facts; the trust decision comes later (`app::trust`).
    pub fn new(
        endpoint: Endpoint,
        username: String,
        auth: Vec<AuthMethod>,
        source: Source,
        transport: Transport,
        address_domain_ascii: &str,
    ) -> Self {
        let in_domain = host_in_domain(&endpoint.host, address_domain_ascii);
        Candidate {
            endpoint,
            username,
            auth,
            source,
            transport,
            in_domain,
            mx_host: None,
            trusted: false,
            trust_reason: None,
        }
    }

    /// How the answer came, in words: `https`, `http`, `dns`, `built in`.
    pub fn transport_word(&self) -> &'static str {
        match self.transport {
            Transport::Builtin => "built in",
            Transport::Https => "https",
            Transport::Http => "plain http",
            Transport::Dns => "dns",
        }
    }

    /// Ranking between sources, explicit (lower is better): the provider database and the
    /// domain's own autoconfig over verified HTTPS; then the DNS-derived sources inside the
    /// domain (SRV, the MX host's provider) and Autodiscover; then anything learned over plain
    /// HTTP or naming a host outside the domain by DNS; guesses last. Host names never decide
    /// between sources.
    pub fn tier(&self) -> u8 {
        match (self.source, self.transport) {
            (Source::BuiltinDb | Source::Ispdb, _) => 0,
            (Source::Autoconfig | Source::AutoconfigWellknown, Transport::Https) => 0,
            (Source::Guess, _) => 3,
            (_, Transport::Http) => 2,
            (Source::Srv, Transport::Dns) if !self.in_domain => 2,
            _ => 1,
        }
    }
}

/// How one lookup ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AttemptResult {
    Found,
    NotFound,
    Error,
    Timeout,
}

impl AttemptResult {
    pub fn as_str(self) -> &'static str {
        match self {
            AttemptResult::Found => "found",
            AttemptResult::NotFound => "not-found",
            AttemptResult::Error => "error",
            AttemptResult::Timeout => "timeout",
        }
    }
}

/// One lookup: a URL fetched, a DNS name queried, a database consulted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attempt {
    pub source: Source,
    /// The URL or DNS name (ASCII), or the domain for database lookups.
    pub target: String,
    pub result: AttemptResult,
    /// What was found, or why not (one line, from the network: escape before printing).
    pub detail: String,
    pub elapsed_ms: u64,
    /// Distinct candidates this lookup found beyond [`MAX_PER_LOOKUP`]: never probed.
    #[serde(default)]
    pub dropped: usize,
    /// A named problem with this lookup's answer (hostile or broken), when there is one.
    #[serde(default)]
    pub problem: Option<AttemptProblem>,
    /// The lookup on the run's time axis (ms since the run started): one phase named `dns`,
    /// `http` or `database` (docs/json.md).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub phases: Vec<crate::model::timing::Phase>,
}

/// Everything discovery learned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Discovery {
    /// Every lookup, grouped by source in rank order.
    pub attempts: Vec<Attempt>,
    /// Merged, deduplicated by endpoint, ranked (see [`merge`]).
    pub candidates: Vec<Candidate>,
    /// The provider's name from the best-ranked config file that named one.
    pub provider: Option<String>,
    /// Candidates left out by the bounds, never probed: every attempt's `dropped` plus those
    /// ranked beyond [`MAX_PER_RUN`] after merging.
    #[serde(default)]
    pub dropped: usize,
}

/// Settings for one discovery run, passed down as a value.
#[derive(Clone)]
pub struct DiscoverConfig {
    /// Sources still running then are reported `timeout`; what was found stands.
    pub deadline: Instant,
    /// `--dns-server`; `None`: the system resolver configuration.
    pub dns_server: Option<SocketAddr>,
    /// `--connect-to`, applied to HTTP lookups as to mail connections.
    pub connect_to: Arc<Vec<ConnectTo>>,
    /// Trust roots (`--ca-file`) for HTTPS lookups.
    pub tls: TlsContext,
    /// The built-in DB only: no network access at all.
    pub offline: bool,
    /// Check Thunderbird's guessed host names.
    pub guess: bool,
    /// `--sources`: only these (`None`: all).
    pub sources: Option<Vec<Source>>,
    /// Called when a lookup starts (`None`) and ends (its result), for live progress.
    pub on_attempt: Option<AttemptHook>,
    /// The run's clock: each attempt's phase is in ms since the run started.
    pub clock: crate::model::timing::RunClock,
}

/// A progress callback: (source, target, `None` at start / the result at the end).
pub type AttemptHook = Arc<dyn Fn(Source, &str, Option<AttemptResult>) + Send + Sync>;

impl DiscoverConfig {
    /// All sources, guessing on, system resolver, no `--connect-to`.
    pub fn new(tls: TlsContext, deadline: Instant) -> Self {
        DiscoverConfig {
            deadline,
            dns_server: None,
            connect_to: Arc::new(Vec::new()),
            tls,
            offline: false,
            guess: true,
            sources: None,
            on_attempt: None,
            clock: crate::model::timing::RunClock::starting_now(),
        }
    }

    /// Whether `source` runs under this configuration.
    pub fn enabled(&self, source: Source) -> bool {
        if self.offline && source != Source::BuiltinDb {
            return false;
        }
        if source == Source::Guess && !self.guess {
            return false;
        }
        self.sources.as_ref().is_none_or(|s| s.contains(&source))
    }
}

pub use crate::model::host_in_domain;

/// Ranks and deduplicates candidates given in discovery order: by [`Candidate::tier`], then
/// source, then IMAP before POP3 before SMTP, then implicit TLS before STARTTLS before plain;
/// ties keep their order. An endpoint found twice keeps its best-ranked entry. Guesses are
/// dropped when any other source found something (Thunderbird guesses only when all else
/// fails).
pub fn merge(mut found: Vec<Candidate>) -> Vec<Candidate> {
    if found.iter().any(|c| c.source != Source::Guess) {
        found.retain(|c| c.source != Source::Guess);
    }
    found.sort_by_key(|c| (c.tier(), c.source, c.endpoint.protocol, c.endpoint.security));
    let mut out: Vec<Candidate> = Vec::with_capacity(found.len());
    for c in found {
        if !out.iter().any(|o| o.endpoint == c.endpoint) {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Protocol, Security};

    fn cand(url: &str, source: Source, transport: Transport) -> Candidate {
        Candidate::new(
            url.parse().unwrap(),
            "u@d.org".into(),
            vec![],
            source,
            transport,
            "d.org",
        )
    }

    #[test]
    fn sources_serialise_kebab_case_and_parse_back() {
        for s in Source::ALL {
            let json = serde_json::to_string(&s).unwrap();
            assert_eq!(json, format!("\"{}\"", s.as_str()));
            assert_eq!(s.as_str().parse::<Source>().unwrap(), s);
        }
        assert_eq!(Source::AutoconfigWellknown.as_str(), "autoconfig-wellknown");
        assert!("dns".parse::<Source>().is_err());
        let a = Attempt {
            source: Source::MxBuiltinDb,
            target: "x".into(),
            result: AttemptResult::NotFound,
            detail: String::new(),
            elapsed_ms: 3,
            dropped: 0,
            problem: None,
            phases: Vec::new(),
        };
        assert_eq!(
            serde_json::to_string(&a).unwrap(),
            r#"{"source":"mx-builtin-db","target":"x","result":"not-found","detail":"","elapsed_ms":3,"dropped":0,"problem":null}"#
        );
        // Reports of older versions (without the bounds fields) still read.
        let old: Attempt = serde_json::from_str(
            r#"{"source":"srv","target":"x","result":"found","detail":"","elapsed_ms":1}"#,
        )
        .unwrap();
        assert_eq!((old.dropped, old.problem), (0, None));
    }

    #[test]
    fn merge_ranks_by_tier_then_source_and_dedupes() {
        use Transport::*;
        let merged = merge(vec![
            cand("smtps://smtp.d.org:465", Source::Srv, Dns),
            cand("pop3s://pop.d.org:995", Source::Srv, Dns),
            cand("imap://imap.d.org:143", Source::Srv, Dns),
            cand("imaps://imap.d.org:993", Source::Srv, Dns),
            cand("imap://imap.d.org:143", Source::BuiltinDb, Builtin),
            cand("imaps://imap.d.org:993", Source::Guess, Dns),
        ]);
        let got: Vec<(String, Source)> = merged
            .iter()
            .map(|c| (c.endpoint.url(), c.source))
            .collect();
        assert_eq!(
            got,
            [
                ("imap://imap.d.org:143".into(), Source::BuiltinDb),
                ("imaps://imap.d.org:993".into(), Source::Srv),
                ("pop3s://pop.d.org:995".into(), Source::Srv),
                ("smtps://smtp.d.org:465".into(), Source::Srv),
            ]
        );
        let only_guesses = merge(vec![cand("imaps://imap.d.org:993", Source::Guess, Dns)]);
        assert_eq!(only_guesses.len(), 1);
        // HTTPS autoconfig ranks above in-domain SRV, which ranks above plain HTTP and SRV
        // targets outside the domain; the host name never decides.
        let m = merge(vec![
            cand("imaps://zzz.d.org:993", Source::Autoconfig, Http),
            cand("imaps://aaa.outside.net:993", Source::Srv, Dns),
            cand("imaps://mmm.d.org:993", Source::Srv, Dns),
            cand("imap://yyy.d.org:143", Source::AutoconfigWellknown, Https),
        ]);
        let order: Vec<(String, u8)> = m
            .iter()
            .map(|c| (c.endpoint.host.clone(), c.tier()))
            .collect();
        assert_eq!(
            order,
            [
                ("yyy.d.org".to_string(), 0),
                ("mmm.d.org".to_string(), 1),
                ("zzz.d.org".to_string(), 2),
                ("aaa.outside.net".to_string(), 2),
            ]
        );
        assert_eq!(m[0].endpoint.protocol, Protocol::Imap);
        assert_eq!(m[1].endpoint.security, Security::Tls);
        assert!(m.iter().all(|c| !c.trusted && c.trust_reason.is_none()));
    }

    #[test]
    fn domain_membership() {
        assert!(host_in_domain("imap.d.org", "d.org"));
        assert!(host_in_domain("D.org.", "d.org"));
        assert!(!host_in_domain("evild.org", "d.org"));
        assert!(!host_in_domain("d.org.evil.net", "d.org"));
        assert!(!host_in_domain("x", ""));
    }

    #[test]
    fn offline_and_filters() {
        let tls =
            TlsContext::new(&[] as &[&str], crate::net::tls::VerifierKind::Authorities).unwrap();
        let mut cfg = DiscoverConfig::new(tls, Instant::now());
        assert!(Source::ALL.iter().all(|s| cfg.enabled(*s)));
        cfg.guess = false;
        assert!(!cfg.enabled(Source::Guess));
        cfg.sources = Some(vec![Source::Srv, Source::BuiltinDb]);
        assert!(cfg.enabled(Source::Srv) && !cfg.enabled(Source::Ispdb));
        cfg.offline = true;
        let on: Vec<Source> = Source::ALL
            .into_iter()
            .filter(|s| cfg.enabled(*s))
            .collect();
        assert_eq!(on, [Source::BuiltinDb]);
    }
}
