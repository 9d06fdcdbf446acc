//! Guessing (REFERENCE.md §2.5): Thunderbird's host list and order of preference. Discovery
//! only checks which hosts resolve; the caller probes the endpoints (no mail port here).

use crate::model::{Address, Endpoint, Protocol, Security, Transport};

use super::{Candidate, Source};

/// Hosts tried for incoming mail, in Thunderbird's order.
pub fn incoming_hosts(domain_ascii: &str) -> Vec<String> {
    ["imap.", "pop3.", "pop.", "mail.", ""]
        .iter()
        .map(|p| format!("{p}{domain_ascii}"))
        .collect()
}

/// Hosts tried for outgoing mail, in Thunderbird's order.
pub fn outgoing_hosts(domain_ascii: &str) -> Vec<String> {
    ["smtp.", "mail.", ""]
        .iter()
        .map(|p| format!("{p}{domain_ascii}"))
        .collect()
}

/// Every distinct host to check, incoming order first.
pub fn hosts(domain_ascii: &str) -> Vec<String> {
    let mut out = incoming_hosts(domain_ascii);
    for h in outgoing_hosts(domain_ascii) {
        if !out.contains(&h) {
            out.push(h);
        }
    }
    out
}

/// The protocols a guessed host is tried for: `imap.` only IMAP, `pop3.`/`pop.` only POP3,
/// `smtp.` only SMTP, `mail.` and the bare domain all three.
fn protocols_for(host: &str, domain_ascii: &str) -> &'static [Protocol] {
    match host.strip_suffix(domain_ascii) {
        Some("imap.") => &[Protocol::Imap],
        Some("pop3.") | Some("pop.") => &[Protocol::Pop3],
        Some("smtp.") => &[Protocol::Smtp],
        _ => &Protocol::ALL,
    }
}

/// Guessed endpoints for the hosts that resolved, most preferred first: IMAP before POP3
/// before SMTP, implicit TLS before STARTTLS, then Thunderbird's host order for that direction. Plain endpoints
/// are never guessed (RFC 8314: credentials are not tested without TLS).
pub fn candidates(resolved: &[String], domain_ascii: &str, address: &Address) -> Vec<Candidate> {
    let mut out = Vec::new();
    for protocol in Protocol::ALL {
        for security in [Security::Tls, Security::StartTls] {
            let list = match protocol {
                Protocol::Smtp => outgoing_hosts(domain_ascii),
                _ => incoming_hosts(domain_ascii),
            };
            for host in list {
                if !resolved.contains(&host)
                    || !protocols_for(&host, domain_ascii).contains(&protocol)
                {
                    continue;
                }
                // Every guessed host is inside the address's domain by construction.
                out.push(Candidate::new(
                    Endpoint::new(protocol, &host, protocol.default_port(security), security),
                    address.as_string(),
                    Vec::new(),
                    Source::Guess,
                    Transport::Dns,
                    domain_ascii,
                ));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thunderbird_host_lists() {
        assert_eq!(
            incoming_hosts("d.org"),
            [
                "imap.d.org",
                "pop3.d.org",
                "pop.d.org",
                "mail.d.org",
                "d.org"
            ]
        );
        assert_eq!(
            outgoing_hosts("d.org"),
            ["smtp.d.org", "mail.d.org", "d.org"]
        );
        assert_eq!(
            hosts("d.org"),
            [
                "imap.d.org",
                "pop3.d.org",
                "pop.d.org",
                "mail.d.org",
                "d.org",
                "smtp.d.org"
            ]
        );
    }

    #[test]
    fn preference_order() {
        let a: Address = "u@d.org".parse().unwrap();
        let resolved = vec![
            "mail.d.org".to_string(),
            "imap.d.org".into(),
            "smtp.d.org".into(),
        ];
        let urls: Vec<String> = candidates(&resolved, "d.org", &a)
            .iter()
            .map(|c| c.endpoint.url())
            .collect();
        assert_eq!(
            urls,
            [
                "imaps://imap.d.org:993",
                "imaps://mail.d.org:993",
                "imap://imap.d.org:143",
                "imap://mail.d.org:143",
                "pop3s://mail.d.org:995",
                "pop3://mail.d.org:110",
                "smtps://smtp.d.org:465",
                "smtps://mail.d.org:465",
                "smtp://smtp.d.org:587",
                "smtp://mail.d.org:587",
            ]
        );
        assert!(candidates(&[], "d.org", &a).is_empty());
    }
}
