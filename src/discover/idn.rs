//! Internationalised domain names: ASCII (punycode) for DNS and HTTP, Unicode for display.

/// The ASCII form (UTS #46, punycode) of a domain or host name; IP literals unchanged.
pub fn to_ascii(name: &str) -> Result<String, String> {
    let name = name.trim_end_matches('.');
    if name.parse::<std::net::IpAddr>().is_ok() {
        return Ok(name.to_string());
    }
    if name.is_empty() {
        return Err("empty domain name".into());
    }
    let bad = || format!("{name:?} is not a valid domain name");
    let ascii = idna::domain_to_ascii(name).map_err(|_| bad())?;
    // UTS #46 in URL mode lets spaces and some punctuation through; host names don't.
    let ok = ascii
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_'));
    if !ok || ascii.is_empty() {
        return Err(bad());
    }
    Ok(ascii)
}

/// The Unicode form of a domain or host name for display (unchanged when not punycode).
pub fn to_unicode(name: &str) -> String {
    let (unicode, result) = idna::domain_to_unicode(name);
    match result {
        Ok(()) => unicode,
        Err(_) => name.to_string(),
    }
}

/// A name for display: its Unicode form, followed by the punycode when the Unicode form mixes
/// scripts (`pаypal.example` with a Cyrillic `а` shows as `pаypal.example (xn--pypal-4ve.example)`),
/// so a look-alike can't pass for the real name.
pub fn display(name: &str) -> String {
    use unicode_script::{Script, UnicodeScript};
    let unicode = to_unicode(name);
    if unicode.is_ascii() {
        return unicode;
    }
    let mut scripts: Vec<Script> = unicode
        .chars()
        .map(|c| c.script())
        .filter(|s| !matches!(s, Script::Common | Script::Inherited | Script::Unknown))
        .collect();
    scripts.sort_by_key(|s| s.full_name());
    scripts.dedup();
    if scripts.len() > 1 {
        let ascii = to_ascii(name).unwrap_or_else(|_| name.to_string());
        format!("{unicode} ({ascii})")
    } else {
        unicode
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        assert_eq!(to_ascii("Bücher.Example").unwrap(), "xn--bcher-kva.example");
        assert_eq!(to_ascii("example.com.").unwrap(), "example.com");
        assert_eq!(to_ascii("127.0.0.1").unwrap(), "127.0.0.1");
        assert_eq!(to_ascii("::1").unwrap(), "::1");
        assert_eq!(
            to_unicode("imap.xn--bcher-kva.example"),
            "imap.bücher.example"
        );
        assert_eq!(to_unicode("plain.example"), "plain.example");
        assert!(to_ascii("").is_err());
        assert!(to_ascii("a b.example").is_err());
    }

    #[test]
    fn mixed_scripts_show_their_punycode() {
        // One script: the Unicode form alone.
        assert_eq!(display("imap.xn--bcher-kva.example"), "imap.bücher.example");
        assert_eq!(display("plain.example"), "plain.example");
        // Latin with a Cyrillic "а" (U+0430): the punycode next to it.
        let spoof = to_ascii("p\u{430}ypal.example").unwrap();
        assert_eq!(display(&spoof), format!("p\u{430}ypal.example ({spoof})"));
    }
}
