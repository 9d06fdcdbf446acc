//! The trust policy: decided once, from the facts discovery reports (source, transport,
//! whether the host lies inside the address's domain, the MX host an entry was derived from)
//! and the user's vouchers (`--trust-host`, `--trust-mx`, the wizard's question). The decision
//! is recorded on every candidate and endpoint (`trusted`, `trust_reason`) and applied
//! everywhere: credentials go only to trusted endpoints, only trusted endpoints are
//! recommended, and `write`/`setup` refuse to write an untrusted one.
//!
//! The rule table (README "Security", docs/json.md):
//!
//! | facts | reason | trusted |
//! |---|---|---|
//! | the user named the endpoint (`--server`, `probe HOST`) | `named` | yes |
//! | host inside the address's domain (any source) | `in-domain` | yes |
//! | the provider database lists the address's own domain | `provider-db` | yes |
//! | the domain's own autoconfig file, every request over verified HTTPS | `https-config` | yes |
//! | derived from the MX record, MX host inside the address's domain | `mx-in-domain` | yes |
//! | `--trust-host HOST` | `trust-host` | yes |
//! | derived from an MX host outside the domain, confirmed (`--trust-mx`, wizard) | `trust-mx` | yes |
//! | derived from an MX host outside the domain, not confirmed | `mx-unconfirmed` | no |
//! | any other host outside the domain (SRV, plain HTTP, Autodiscover) | `outside-domain` | no |
//! | a report of an older version, host outside the domain | `unrecorded` | no |

use crate::discover::{Candidate, Discovery, Source};
use crate::model::{host_in_domain, Address, Transport, TrustReason};
use crate::report::{Code, Problem};

/// Everything the policy decides from, besides each candidate's own facts.
#[derive(Debug, Clone)]
pub struct TrustPolicy {
    domain_ascii: String,
    trust_hosts: Vec<String>,
    trust_mx: bool,
}

impl TrustPolicy {
    pub fn new(address: &Address, trust_hosts: &[String], trust_mx: bool) -> Self {
        TrustPolicy {
            domain_ascii: crate::discover::idn::to_ascii(&address.domain)
                .unwrap_or_else(|_| address.domain.to_ascii_lowercase()),
            trust_hosts: trust_hosts
                .iter()
                .map(|h| {
                    crate::discover::idn::to_ascii(h.trim())
                        .unwrap_or_else(|_| h.trim().to_ascii_lowercase())
                })
                .collect(),
            trust_mx,
        }
    }

    /// The user vouched for this host with `--trust-host`.
    pub fn vouched(&self, host: &str) -> bool {
        self.trust_hosts
            .iter()
            .any(|h| h.eq_ignore_ascii_case(host))
    }

    /// The decision for one discovered candidate. Automatic reasons come first, the user's
    /// vouchers only where no automatic reason holds.
    pub fn decide(&self, c: &Candidate) -> TrustReason {
        let host = &c.endpoint.host;
        let automatic = if c.in_domain || host_in_domain(host, &self.domain_ascii) {
            Some(TrustReason::InDomain)
        } else {
            match (c.source, c.transport) {
                (Source::BuiltinDb | Source::Ispdb, _) => Some(TrustReason::ProviderDb),
                (Source::Autoconfig | Source::AutoconfigWellknown, Transport::Https) => {
                    Some(TrustReason::HttpsConfig)
                }
                (Source::MxBuiltinDb | Source::MxIspdb, _)
                    if c.mx_host
                        .as_deref()
                        .is_some_and(|mx| host_in_domain(mx, &self.domain_ascii)) =>
                {
                    Some(TrustReason::MxInDomain)
                }
                _ => None,
            }
        };
        let from_mx = matches!(c.source, Source::MxBuiltinDb | Source::MxIspdb);
        match automatic {
            Some(r) => r,
            None if self.vouched(host) => TrustReason::TrustHost,
            None if from_mx && self.trust_mx => TrustReason::TrustMx,
            None if from_mx => TrustReason::MxUnconfirmed,
            None => TrustReason::OutsideDomain,
        }
    }

    /// Records the decision on every candidate of a discovery.
    pub fn apply(&self, d: &mut Discovery) {
        for c in &mut d.candidates {
            let reason = self.decide(c);
            c.trusted = reason.trusted();
            c.trust_reason = Some(reason);
        }
    }

    /// The decision for a host a saved report names: the report's own record when it has
    /// one (still overridden by `--trust-host`), else — a report of an older version — the
    /// host must lie inside the address's domain.
    pub fn recorded(&self, host: &str, recorded: Option<TrustReason>) -> TrustReason {
        match recorded {
            Some(r) if r.trusted() => r,
            _ if self.vouched(host) => TrustReason::TrustHost,
            Some(r) => r,
            None if host_in_domain(host, &self.domain_ascii) => TrustReason::InDomain,
            None => TrustReason::Unrecorded,
        }
    }
}

/// The `untrusted-candidate` problem for an endpoint the policy does not trust: why, and how
/// the user vouches for it.
pub fn untrusted_problem(host: &str, source: Option<&str>, c: Option<&Candidate>) -> Problem {
    let reason = c.and_then(|c| c.trust_reason);
    let message = match (reason, c.and_then(|c| c.mx_host.as_deref())) {
        (Some(TrustReason::MxUnconfirmed), Some(mx)) => format!(
            "{host} was derived from the domain's MX record ({mx}), which only says where mail \
             is delivered: probed, but no password is sent to it, and it is not recommended or \
             written until you confirm the provider (--trust-mx, or --trust-host {host})"
        ),
        _ => format!(
            "{host} came from {} and lies outside the address's domain: probed, but no password \
             is sent to it, and it is not recommended or written (add --trust-host {host} if it \
             is right)",
            source.unwrap_or("discovery")
        ),
    };
    Problem::warning(Code::UntrustedCandidate, message)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Endpoint;

    fn cand(url: &str, source: Source, transport: Transport, mx: Option<&str>) -> Candidate {
        let e: Endpoint = url.parse().unwrap();
        let mut c = Candidate::new(e, "u@d.org".into(), vec![], source, transport, "d.org");
        c.mx_host = mx.map(str::to_string);
        c
    }

    fn policy(hosts: &[&str], mx: bool) -> TrustPolicy {
        let a: Address = "u@d.org".parse().unwrap();
        let hosts: Vec<String> = hosts.iter().map(|h| h.to_string()).collect();
        TrustPolicy::new(&a, &hosts, mx)
    }

    #[test]
    fn the_rule_table() {
        use Source::*;
        use Transport::*;
        use TrustReason::*;
        let p = policy(&[], false);
        let cases = [
            (cand("imaps://imap.d.org", Srv, Dns, None), InDomain),
            (cand("imaps://imap.d.org", Autoconfig, Http, None), InDomain),
            (
                cand("imaps://imap.gmail.com", BuiltinDb, Builtin, None),
                ProviderDb,
            ),
            (
                cand("imaps://imap.host.net", Ispdb, Https, None),
                ProviderDb,
            ),
            (
                cand("imaps://imap.host.net", Autoconfig, Https, None),
                HttpsConfig,
            ),
            (
                cand("imaps://imap.host.net", AutoconfigWellknown, Http, None),
                OutsideDomain,
            ),
            (cand("imaps://imap.host.net", Srv, Dns, None), OutsideDomain),
            (
                cand("imaps://imap.host.net", Autodiscover, Https, None),
                OutsideDomain,
            ),
            (
                cand(
                    "imaps://outlook.office365.com",
                    MxBuiltinDb,
                    Builtin,
                    Some("d-org.mail.protection.outlook.com"),
                ),
                MxUnconfirmed,
            ),
            (
                cand(
                    "imaps://imap.host.net",
                    MxIspdb,
                    Https,
                    Some("mx.sub.d.org"),
                ),
                MxInDomain,
            ),
        ];
        for (c, want) in cases {
            assert_eq!(p.decide(&c), want, "{} from {:?}", c.endpoint, c.source);
            assert_eq!(
                want.trusted(),
                !matches!(want, OutsideDomain | MxUnconfirmed)
            );
        }
        // The user's vouchers, only where no automatic reason holds.
        let p = policy(&["IMAP.host.net"], true);
        assert_eq!(
            p.decide(&cand("imaps://imap.host.net", Srv, Dns, None)),
            TrustHost
        );
        assert_eq!(
            p.decide(&cand("imaps://imap.d.org", Srv, Dns, None)),
            InDomain
        );
        assert_eq!(
            p.decide(&cand(
                "imaps://o.office365.com",
                MxBuiltinDb,
                Builtin,
                Some("mx.x.net")
            )),
            TrustMx
        );
    }

    #[test]
    fn saved_reports_without_a_record_trust_only_the_domain() {
        let p = policy(&[], false);
        assert_eq!(p.recorded("mail.d.org", None), TrustReason::InDomain);
        assert_eq!(p.recorded("mail.evil.net", None), TrustReason::Unrecorded);
        assert_eq!(
            p.recorded("mail.evil.net", Some(TrustReason::OutsideDomain)),
            TrustReason::OutsideDomain
        );
        assert_eq!(
            p.recorded("imap.gmail.com", Some(TrustReason::ProviderDb)),
            TrustReason::ProviderDb
        );
        let p = policy(&["mail.evil.net"], false);
        assert_eq!(p.recorded("mail.evil.net", None), TrustReason::TrustHost);
    }
}
