//! The built-in provider database: a snapshot of Thunderbird's ISPDB (`data/ispdb`, MPL-2.0,
//! see its README and LICENSE), embedded in the binary.
//!
//! `build.rs` embeds every file and a sorted `<domain>` → file table; nothing is parsed at
//! start-up. A lookup is a binary search plus parsing the one matching file.

use super::config_v11::{self, ProviderConfig};

mod generated {
    include!(concat!(env!("OUT_DIR"), "/ispdb_index.rs"));
}

/// Number of provider files embedded.
pub fn file_count() -> usize {
    generated::FILES.len()
}

/// Every domain the database knows, sorted (ASCII, lowercase; some are MX host suffixes).
pub fn domains() -> impl Iterator<Item = &'static str> {
    generated::DOMAINS.iter().map(|(d, _)| *d)
}

/// The raw provider file for `domain` (ASCII/punycode, any case): `(file name, XML)`.
pub fn lookup_xml(domain: &str) -> Option<(&'static str, &'static str)> {
    let domain = domain.trim_end_matches('.').to_ascii_lowercase();
    let i = generated::DOMAINS
        .binary_search_by(|(d, _)| (*d).cmp(domain.as_str()))
        .ok()?;
    generated::FILES
        .get(usize::from(generated::DOMAINS[i].1))
        .copied()
}

/// The parsed provider settings for `domain`, when the database lists it.
pub fn lookup(domain: &str) -> Option<ProviderConfig> {
    let (_, xml) = lookup_xml(domain)?;
    config_v11::parse(xml).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Protocol, Security};

    #[test]
    fn knows_the_snapshot() {
        assert_eq!(file_count(), 163);
        assert_eq!(domains().count(), 962);
        let v: Vec<&str> = domains().collect();
        assert!(
            v.windows(2).all(|w| w[0] < w[1]),
            "table is sorted and unique"
        );
    }

    #[test]
    fn every_file_parses_and_the_index_matches_the_parser() {
        for (name, xml) in generated::FILES.iter() {
            let cfg = config_v11::parse(xml).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert!(
                !cfg.incoming.is_empty() && !cfg.outgoing.is_empty(),
                "{name}"
            );
            for d in &cfg.domains {
                let (owner, _) =
                    lookup_xml(d).unwrap_or_else(|| panic!("{d} of {name} not indexed"));
                // A domain listed by two files belongs to the first one by name.
                if owner != *name {
                    assert!(owner < *name, "{d}: {owner} vs {name}");
                }
            }
        }
    }

    #[test]
    fn gmail_and_mx_suffixes() {
        let g = lookup("GMAIL.com.").unwrap();
        assert_eq!(g.display_name.as_deref(), Some("Google Mail"));
        let imap = &g.incoming[0];
        assert_eq!(
            (
                imap.protocol,
                imap.hostname.as_str(),
                imap.port,
                imap.security
            ),
            (Protocol::Imap, "imap.gmail.com", 993, Security::Tls)
        );
        assert!(lookup("mail.protection.outlook.com").is_some());
        assert!(lookup("example.invalid").is_none());
        assert!(lookup("").is_none());
        // Exchange-only server types in that file are skipped, not fatal.
        assert!(!lookup("office365.com").unwrap().skipped.is_empty());
    }

    #[test]
    fn lookups_hit_and_miss_repeatably() {
        // Static data: nothing is parsed at start-up; a hit is one binary search and one
        // parse (speed is measured by scripts/bench, not here).
        for _ in 0..3 {
            assert!(lookup("gmail.com").is_some());
            assert!(lookup_xml("no-such-domain.example").is_none());
        }
    }
}
