//! The facts and the decision of the trust policy: how a setting reached us, and why an
//! endpoint may (or may not) receive credentials.

use std::fmt;

use serde::{Deserialize, Serialize};

/// How a discovered setting reached us: a fact for the trust policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Transport {
    /// Shipped inside the binary (the built-in provider database).
    Builtin,
    /// Fetched over HTTPS with a verified certificate, every redirect included.
    Https,
    /// Fetched over plain HTTP (or after a plain-HTTP redirect): anyone on the path could
    /// have written it.
    Http,
    /// An unauthenticated DNS answer (SRV, MX, a guessed name that resolves).
    Dns,
}

/// Why an endpoint may, or may not, receive credentials and be recommended and written
/// (the trust policy's decision, recorded on every candidate and endpoint).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TrustReason {
    /// The user named it (`--server`, `probe HOST`).
    Named,
    /// The user vouched for the host (`--trust-host`).
    TrustHost,
    /// The host lies inside the address's domain.
    InDomain,
    /// The provider database (built in or online) lists the address's own domain.
    ProviderDb,
    /// The domain's own autoconfig file, fetched over verified HTTPS.
    HttpsConfig,
    /// Derived from the MX record, whose host lies inside the address's domain.
    MxInDomain,
    /// Derived from the MX record; the user confirmed the provider (`--trust-mx`, or the
    /// wizard's question).
    TrustMx,
    /// Untrusted: a host outside the address's domain, named by an unauthenticated source
    /// (DNS, plain HTTP, Autodiscover).
    OutsideDomain,
    /// Untrusted until confirmed: the provider was derived from an MX host outside the
    /// address's domain (a custom domain hosted by a provider, or a forged DNS answer).
    MxUnconfirmed,
    /// Untrusted: a report of an older version, which did not record trust, naming a host
    /// outside the address's domain.
    Unrecorded,
}

impl TrustReason {
    pub fn trusted(self) -> bool {
        !matches!(
            self,
            TrustReason::OutsideDomain | TrustReason::MxUnconfirmed | TrustReason::Unrecorded
        )
    }

    pub fn as_str(self) -> &'static str {
        match self {
            TrustReason::Named => "named",
            TrustReason::TrustHost => "trust-host",
            TrustReason::InDomain => "in-domain",
            TrustReason::ProviderDb => "provider-db",
            TrustReason::HttpsConfig => "https-config",
            TrustReason::MxInDomain => "mx-in-domain",
            TrustReason::TrustMx => "trust-mx",
            TrustReason::OutsideDomain => "outside-domain",
            TrustReason::MxUnconfirmed => "mx-unconfirmed",
            TrustReason::Unrecorded => "unrecorded",
        }
    }
}

impl fmt::Display for TrustReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `host` equals `domain` or lies below it (both ASCII; case-insensitive).
pub fn host_in_domain(host: &str, domain: &str) -> bool {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    let domain = domain.trim_end_matches('.').to_ascii_lowercase();
    !domain.is_empty()
        && (host == domain
            || (host.len() > domain.len()
                && host.ends_with(&domain)
                && host.as_bytes()[host.len() - domain.len() - 1] == b'.'))
}
