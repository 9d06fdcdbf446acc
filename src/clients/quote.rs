//! Escaping primitives shared by the client writers.
//!
//! Every value a writer puts into a file goes through one of these, chosen for the
//! file's syntax. Each primitive either returns text that the client's own parser
//! reads back as exactly the input, or refuses with [`WriteError::UnsafeValue`]
//! saying which value, why, and what to do. Control characters (CR and LF above
//! all) are refused everywhere: no single-line format can carry them.

use super::WriteError;

/// Builds the error for a refused value. `reason` says why and what to do.
pub fn unsafe_value(field: &str, reason: impl Into<String>) -> WriteError {
    WriteError::UnsafeValue {
        field: field.to_string(),
        reason: reason.into(),
    }
}

/// Characters that end or split a line in some parser: every Unicode control
/// character (C0, DEL, C1 including NEL) plus the Unicode line and paragraph
/// separators, which Python's `splitlines` honours.
pub fn is_line_breaking(c: char) -> bool {
    c.is_control() || c == '\u{2028}' || c == '\u{2029}'
}

/// Refuses control characters (always) in a single-line value, and the invisible format
/// characters (bidi overrides, zero-width characters) that make a file read differently on
/// screen than it parses.
pub fn single_line(field: &str, value: &str) -> Result<(), WriteError> {
    if let Some(c) = value.chars().find(|&c| is_line_breaking(c)) {
        return Err(unsafe_value(
            field,
            format!(
                "contains the control character U+{:04X}; control characters (line breaks, tabs, \
                 escapes) cannot be written safely into any client configuration, remove it",
                c as u32
            ),
        ));
    }
    if let Some(c) = value.chars().find(|&c| crate::model::is_deceptive_char(c)) {
        return Err(unsafe_value(
            field,
            format!(
                "contains the invisible character U+{:04X} (a bidi control or zero-width \
                 character), which would make the file read differently than it works; remove it",
                c as u32
            ),
        ));
    }
    Ok(())
}

/// Refuses leading or trailing whitespace, which line-oriented parsers strip silently.
pub fn no_outer_whitespace(field: &str, value: &str) -> Result<(), WriteError> {
    if value.trim() != value {
        return Err(unsafe_value(
            field,
            "starts or ends with whitespace, which client parsers strip; remove the spaces",
        ));
    }
    Ok(())
}

/// Refuses `needle` in `value`, explaining why.
pub fn refuse_substring(
    field: &str,
    value: &str,
    needle: &str,
    why: &str,
) -> Result<(), WriteError> {
    if value.contains(needle) {
        return Err(unsafe_value(
            field,
            format!("contains {needle:?}, which {why}"),
        ));
    }
    Ok(())
}

/// Refuses any of `chars` in `value`, explaining why.
pub fn refuse_chars(field: &str, value: &str, chars: &[char], why: &str) -> Result<(), WriteError> {
    if let Some(c) = value.chars().find(|c| chars.contains(c)) {
        return Err(unsafe_value(field, format!("contains {c:?}, which {why}")));
    }
    Ok(())
}

/// POSIX shell quoting of one word, for commands run by `sh -c`.
///
/// Words made only of characters no shell treats specially stay bare (so
/// `pass show mail/me@example.com` reads naturally); anything else is put in
/// single quotes, where the shell interprets nothing, with `'` written as `'\''`.
pub fn shell_word(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "@%+=:,./_-".contains(c));
    if plain {
        return word.to_string();
    }
    let mut out = String::with_capacity(word.len() + 2);
    out.push('\'');
    for c in word.chars() {
        if c == '\'' {
            out.push_str("'\\''");
        } else {
            out.push(c);
        }
    }
    out.push('\'');
    out
}

/// POSIX shell command line from separate words.
pub fn shell_join<'a>(words: impl IntoIterator<Item = &'a str>) -> String {
    words
        .into_iter()
        .map(shell_word)
        .collect::<Vec<_>>()
        .join(" ")
}

/// Refuses what XML 1.0 cannot carry at all, even escaped: control characters
/// and the noncharacters U+FFFE/U+FFFF. (The XML writer escapes the rest.)
pub fn xml_text(field: &str, value: &str) -> Result<(), WriteError> {
    single_line(field, value)?;
    if let Some(c) = value.chars().find(|&c| c == '\u{FFFE}' || c == '\u{FFFF}') {
        return Err(unsafe_value(
            field,
            format!(
                "contains U+{:04X}, which XML cannot represent; remove it",
                c as u32
            ),
        ));
    }
    Ok(())
}

/// muttrc double-quoted string: `\`, `"`, backtick and `$` escaped with a backslash.
///
/// Inside `"…"` Mutt expands `$VAR` and runs `` `cmd` ``; a backslash makes the next
/// character literal (letters after a backslash are escapes such as `\n`, but we
/// never emit a backslash before a letter).
pub fn mutt_string(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        if matches!(c, '\\' | '"' | '`' | '$') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

/// isync/mbsync quoted argument: `"…"` with `\"` and `\\`.
pub fn mbsync_string(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        if matches!(c, '\\' | '"') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

/// msmtp/mpop argument: one outer pair of double quotes, no escapes at all.
/// msmtp removes exactly the first and last `"`, so inner quotes survive as-is.
pub fn msmtp_string(value: &str) -> String {
    format!("\"{value}\"")
}

/// fetchmail rc string: `"…"` where `\` is `\\` and `"` (which the lexer cannot
/// carry inside a string at all) is the octal escape `\042`.
pub fn fetchmail_string(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\042"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A Python string literal in pure ASCII (safe whatever encoding the reader
/// assumes): `'…'` with `\\`, `\'` and `\uXXXX`/`\UXXXXXXXX` for non-ASCII.
pub fn python_string(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('\'');
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            c if c.is_ascii() && !c.is_ascii_control() => out.push(c),
            c if (c as u32) <= 0xFFFF => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push_str(&format!("\\U{:08x}", c as u32)),
        }
    }
    out.push('\'');
    out
}

/// A Python tuple literal of strings, e.g. `('sh', '-c', 'cmd')`.
pub fn python_tuple<'a>(items: impl IntoIterator<Item = &'a str>) -> String {
    let items: Vec<String> = items.into_iter().map(python_string).collect();
    if items.len() == 1 {
        format!("({},)", items[0])
    } else {
        format!("({})", items.join(", "))
    }
}

/// Python `configparser` with interpolation (OfflineIMAP): `%` must be `%%`.
pub fn configparser_interpolated(value: &str) -> String {
    value.replace('%', "%%")
}

/// A TOML basic string: `"…"` with `\\`, `\"` and `\uXXXX` for control characters.
pub fn toml_string(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A TOML bare key if possible, else a quoted key.
pub fn toml_key(key: &str) -> String {
    let bare = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if bare {
        key.to_string()
    } else {
        toml_string(key)
    }
}

/// GLib key-file value (`g_key_file_set_string` rules): `\` is `\\`, and spaces at
/// either end are `\s` so the parser does not strip them. Control characters must
/// have been refused already.
pub fn gkeyfile_string(value: &str) -> String {
    let chars: Vec<char> = value.chars().collect();
    let first_non_space = chars.iter().position(|&c| c != ' ').unwrap_or(chars.len());
    let last_non_space = chars.iter().rposition(|&c| c != ' ').map_or(0, |i| i + 1);
    let mut out = String::with_capacity(value.len());
    for (i, &c) in chars.iter().enumerate() {
        match c {
            '\\' => out.push_str("\\\\"),
            ' ' if i < first_non_space || i >= last_non_space => out.push_str("\\s"),
            c => out.push(c),
        }
    }
    out
}

/// Percent-encodes the user part of a URL: everything but RFC 3986 unreserved
/// characters, so `@`, `:`, `%` and `/` in a username cannot change the URL.
pub fn url_userinfo(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// go-ini value (aerc): wrapped in backticks, the only quoting go-ini offers that
/// turns off `#`/`;` comments and quote stripping. Backticks inside cannot be
/// represented and `%(name)s` is go-ini's interpolation: both are refused.
pub fn go_ini_string(field: &str, value: &str) -> Result<String, WriteError> {
    single_line(field, value)?;
    refuse_chars(
        field,
        value,
        &['`'],
        "aerc's configuration parser (go-ini) cannot carry inside a value; remove it",
    )?;
    refuse_substring(
        field,
        value,
        "%(",
        "aerc's configuration parser (go-ini) would treat as a reference to another setting; remove it",
    )?;
    Ok(format!("`{value}`"))
}

/// RFC 5322 `display-name <addr>` with the name as a quoted-string (`\"`, `\\`).
pub fn rfc5322_mailbox(display_name: Option<&str>, address: &str) -> String {
    match display_name {
        None | Some("") => address.to_string(),
        Some(name) => {
            let mut quoted = String::with_capacity(name.len() + 2);
            quoted.push('"');
            for c in name.chars() {
                if matches!(c, '\\' | '"') {
                    quoted.push('\\');
                }
                quoted.push(c);
            }
            quoted.push('"');
            format!("{quoted} <{address}>")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_always_refused() {
        for bad in [
            "a\nb",
            "a\rb",
            "a\tb",
            "\u{0}",
            "\u{1b}[31m",
            "\u{7f}",
            "\u{85}",
            "\u{2028}",
        ] {
            let err = single_line("display name", bad).unwrap_err();
            assert!(matches!(err, WriteError::UnsafeValue { .. }), "{bad:?}");
            assert!(err.to_string().contains("display name"), "{err}");
        }
        assert!(single_line("x", "Zoë \"Q\" #1 %s $HOME `id` \\ ; @").is_ok());
    }

    #[test]
    fn shell_words_round_trip_through_sh() {
        assert_eq!(shell_word("mail/me@example.com"), "mail/me@example.com");
        assert_eq!(shell_word(""), "''");
        assert_eq!(shell_word("it's"), "'it'\\''s'");
        assert_eq!(shell_word("$(id)"), "'$(id)'");
        assert_eq!(shell_join(["pass", "show", "a b"]), "pass show 'a b'");
        // The real shell reads each back as one word, unchanged.
        for word in [
            "plain", "a b", "it's", "$(id)", "`id`", "\\", "\"q\"", "%(x)s", "ünï", "a;b|c&d",
        ] {
            let out = std::process::Command::new("/bin/sh")
                .arg("-c")
                .arg(format!("printf '%s' {}", shell_word(word)))
                .output()
                .expect("run sh");
            assert_eq!(String::from_utf8(out.stdout).unwrap(), word);
        }
    }

    #[test]
    fn mutt_strings_escape_expansions() {
        assert_eq!(mutt_string(r#"a"b\c`d`$e"#), r#""a\"b\\c\`d\`\$e""#);
        assert_eq!(mutt_string("#; '"), "\"#; '\"");
    }

    #[test]
    fn mbsync_and_msmtp_strings() {
        assert_eq!(mbsync_string(r#"a"b\c"#), r#""a\"b\\c""#);
        assert_eq!(msmtp_string(r#"a"b\c"#), r#""a"b\c""#);
    }

    #[test]
    fn fetchmail_strings_cannot_contain_a_raw_quote() {
        let s = fetchmail_string(r#"a"b\c"#);
        assert_eq!(s, r#""a\042b\\c""#);
        assert_eq!(s.matches('"').count(), 2);
    }

    #[test]
    fn python_strings_are_ascii_and_escaped() {
        assert_eq!(python_string(r"it's \ ok"), r"'it\'s \\ ok'");
        assert_eq!(python_string("Zoë 😀"), "'Zo\\u00eb \\U0001f600'");
        assert_eq!(python_tuple(["sh", "-c", "x"]), "('sh', '-c', 'x')");
        assert_eq!(python_tuple(["INBOX"]), "('INBOX',)");
        assert_eq!(configparser_interpolated("100%(x)s"), "100%%(x)s");
    }

    #[test]
    fn toml_strings_and_keys() {
        assert_eq!(toml_string(r#"a"b\c"#), r#""a\"b\\c""#);
        assert_eq!(toml_key("me-at_x1"), "me-at_x1");
        assert_eq!(toml_key("me@x.org"), "\"me@x.org\"");
    }

    #[test]
    fn gkeyfile_keeps_outer_spaces_and_backslashes() {
        assert_eq!(gkeyfile_string("  a b  "), "\\s\\sa b\\s\\s");
        assert_eq!(gkeyfile_string("a\\b"), "a\\\\b");
        assert_eq!(gkeyfile_string("   "), "\\s\\s\\s");
        assert_eq!(gkeyfile_string(""), "");
    }

    #[test]
    fn userinfo_is_percent_encoded() {
        assert_eq!(url_userinfo("me@example.com"), "me%40example.com");
        assert_eq!(url_userinfo("a%b:c/d"), "a%25b%3Ac%2Fd");
        assert_eq!(url_userinfo("ü"), "%C3%BC");
    }

    #[test]
    fn go_ini_values_are_backticked_or_refused() {
        assert_eq!(go_ini_string("f", "a#b;c\"d'").unwrap(), "`a#b;c\"d'`");
        assert!(go_ini_string("f", "a`b").is_err());
        assert!(go_ini_string("f", "%(x)s").is_err());
        assert!(go_ini_string("f", "a\nb").is_err());
    }

    #[test]
    fn rfc5322_display_names_are_quoted() {
        assert_eq!(rfc5322_mailbox(None, "a@b"), "a@b");
        assert_eq!(
            rfc5322_mailbox(Some(r#"Doe, "J" \x"#), "a@b"),
            r#""Doe, \"J\" \\x" <a@b>"#
        );
    }

    #[test]
    fn xml_refuses_noncharacters() {
        assert!(xml_text("f", "a\u{FFFE}").is_err());
        assert!(xml_text("f", "]]></x>&").is_ok());
    }
}
