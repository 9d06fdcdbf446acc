//! RFC 6186 / RFC 8314 SRV records for mail: the six service names, RFC 2782 ordering, and
//! the `.` target meaning "not offered here".

use crate::model::{validate_host, Address, Endpoint, Protocol, Security, Transport};

use super::{Candidate, Source};

/// A mail service published with SRV.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Service {
    /// `_imaps._tcp` and the like.
    pub label: &'static str,
    pub protocol: Protocol,
    pub security: Security,
}

/// The six services, implicit TLS first within each protocol (RFC 8314 §5.1).
pub const SERVICES: [Service; 6] = [
    Service {
        label: "_imaps._tcp",
        protocol: Protocol::Imap,
        security: Security::Tls,
    },
    Service {
        label: "_imap._tcp",
        protocol: Protocol::Imap,
        security: Security::StartTls,
    },
    Service {
        label: "_pop3s._tcp",
        protocol: Protocol::Pop3,
        security: Security::Tls,
    },
    Service {
        label: "_pop3._tcp",
        protocol: Protocol::Pop3,
        security: Security::StartTls,
    },
    Service {
        label: "_submissions._tcp",
        protocol: Protocol::Smtp,
        security: Security::Tls,
    },
    Service {
        label: "_submission._tcp",
        protocol: Protocol::Smtp,
        security: Security::StartTls,
    },
];

impl Service {
    /// The name to query for an (ASCII) domain.
    pub fn name(&self, domain_ascii: &str) -> String {
        format!("{}.{domain_ascii}", self.label)
    }
}

/// One SRV answer (target without its trailing dot; `.` stays `.`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SrvRecord {
    pub priority: u16,
    pub weight: u16,
    pub port: u16,
    pub target: String,
}

impl SrvRecord {
    pub fn new(priority: u16, weight: u16, port: u16, target: &str) -> Self {
        let t = target.trim_end_matches('.');
        SrvRecord {
            priority,
            weight,
            port,
            target: if t.is_empty() {
                ".".into()
            } else {
                t.to_ascii_lowercase()
            },
        }
    }
}

/// What one SRV name says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SrvAnswer {
    /// A single record with target `.`: the service is decidedly not offered (RFC 2782).
    NotOffered,
    /// Usable targets in preference order.
    Targets(Vec<SrvRecord>),
}

/// Orders records: lower priority first; within a priority, higher weight first (the
/// deterministic reading of RFC 2782's weighted choice: every target is probed at once
/// anyway, the order only ranks them). `.` targets and port 0 are dropped.
pub fn order(mut records: Vec<SrvRecord>) -> SrvAnswer {
    if records.len() == 1 && records[0].target == "." {
        return SrvAnswer::NotOffered;
    }
    records.retain(|r| r.target != "." && r.port != 0);
    records.sort_by(|a, b| {
        a.priority
            .cmp(&b.priority)
            .then(b.weight.cmp(&a.weight))
            .then_with(|| a.target.cmp(&b.target))
            .then(a.port.cmp(&b.port))
    });
    records.dedup_by(|a, b| a.target == b.target && a.port == b.port);
    SrvAnswer::Targets(records)
}

/// Candidates for one service's ordered targets. A DNS answer (RFC 8314 §5.1, RFC 7817:
/// without DNSSEC no proof of identity) vouches only for hosts inside the address's domain;
/// the trust policy (`app::trust`) decides from these facts.
pub fn candidates(service: &Service, targets: &[SrvRecord], address: &Address) -> Vec<Candidate> {
    let domain_ascii = super::idn::to_ascii(&address.domain).unwrap_or_default();
    targets
        .iter()
        .filter(|r| validate_host(&r.target).is_ok())
        .map(|r| {
            Candidate::new(
                Endpoint::new(service.protocol, &r.target, r.port, service.security),
                // RFC 6186 §3: try the full address first.
                address.as_string(),
                Vec::new(),
                Source::Srv,
                Transport::Dns,
                &domain_ascii,
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        let names: Vec<String> = SERVICES.iter().map(|s| s.name("example.com")).collect();
        assert_eq!(
            names,
            [
                "_imaps._tcp.example.com",
                "_imap._tcp.example.com",
                "_pop3s._tcp.example.com",
                "_pop3._tcp.example.com",
                "_submissions._tcp.example.com",
                "_submission._tcp.example.com"
            ]
        );
    }

    #[test]
    fn priority_then_weight() {
        let recs = vec![
            SrvRecord::new(20, 0, 993, "c.example.com."),
            SrvRecord::new(10, 5, 993, "b.example.com."),
            SrvRecord::new(10, 60, 993, "A.example.com."),
            SrvRecord::new(10, 60, 993, "a.example.com"),
            SrvRecord::new(5, 0, 0, "zero-port.example.com"),
        ];
        let SrvAnswer::Targets(t) = order(recs) else {
            panic!()
        };
        let got: Vec<&str> = t.iter().map(|r| r.target.as_str()).collect();
        assert_eq!(got, ["a.example.com", "b.example.com", "c.example.com"]);
    }

    #[test]
    fn dot_means_not_offered() {
        assert_eq!(
            order(vec![SrvRecord::new(0, 0, 1, ".")]),
            SrvAnswer::NotOffered
        );
        assert_eq!(
            order(vec![SrvRecord::new(0, 0, 0, "")]),
            SrvAnswer::NotOffered
        );
        assert_eq!(order(vec![]), SrvAnswer::Targets(vec![]));
        let mixed = order(vec![
            SrvRecord::new(0, 0, 1, "."),
            SrvRecord::new(1, 0, 993, "h.x"),
        ]);
        assert_eq!(
            mixed,
            SrvAnswer::Targets(vec![SrvRecord::new(1, 0, 993, "h.x")])
        );
    }

    #[test]
    fn targets_inside_the_domain_are_marked_as_such() {
        let a: Address = "u@example.com".parse().unwrap();
        let t = [
            SrvRecord::new(0, 0, 993, "imap.example.com"),
            SrvRecord::new(0, 0, 993, "example.com"),
            SrvRecord::new(1, 0, 993, "imap.example.com.evil.net"),
            SrvRecord::new(1, 0, 993, "notexample.com"),
            SrvRecord::new(1, 0, 993, "bad host"),
        ];
        let c = candidates(&SERVICES[0], &t, &a);
        let got: Vec<(String, bool)> = c.iter().map(|c| (c.endpoint.url(), c.in_domain)).collect();
        assert_eq!(
            got,
            [
                ("imaps://imap.example.com:993".into(), true),
                ("imaps://example.com:993".into(), true),
                ("imaps://imap.example.com.evil.net:993".into(), false),
                ("imaps://notexample.com:993".into(), false),
            ]
        );
        assert!(c.iter().all(|c| c.username == "u@example.com"
            && c.source == Source::Srv
            && c.transport == Transport::Dns));
    }
}
