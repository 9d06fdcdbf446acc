//! Making server-controlled text safe for a terminal.

pub use crate::model::terminal_safe;

/// For showing whole files (`write --out -`, `--dry-run`): every control, deceptive (bidi,
/// zero-width) and separator character becomes a visible `\u{…}` escape, while line breaks,
/// tabs, backslashes and joiners a script needs stay as they are, so a
/// valid config (writers refuse such characters already) prints byte for byte — this is the
/// last line of defence, not a quoting scheme.
pub fn terminal_safe_lines(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        let shown_wrong = (c.is_control() && !matches!(c, '\n' | '\t'))
            || crate::model::is_deceptive_char(c)
            || matches!(c, '\u{2028}' | '\u{2029}');
        if shown_wrong {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

fn dangerous(c: char) -> bool {
    crate::model::is_unsafe_char(c)
}

/// A serialized JSON document made safe to view on a terminal (a CI log): every character
/// that could move the cursor, recolour or reorder text is written as a `\uXXXX` escape
/// (a surrogate pair beyond the BMP). JSON's own syntax is ASCII, so such characters can only
/// stand inside strings, where the escape is the same value: the document stays valid and
/// reads back to the original text. (serde_json escapes C0 already; DEL, C1, Unicode Cf and
/// U+2028/U+2029 it writes raw.)
pub fn json_safe(json: &str) -> String {
    let mut out = String::with_capacity(json.len());
    for c in json.chars() {
        if dangerous(c) && !matches!(c, '\n' | '\t' | '\r') {
            let mut units = [0u16; 2];
            for u in c.encode_utf16(&mut units) {
                out.push_str(&format!("\\u{u:04x}"));
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_terminal_controls() {
        assert_eq!(terminal_safe("ok"), "ok");
        assert_eq!(terminal_safe("\x1b[2J\x07"), "\\u{1b}[2J\\u{7}");
        assert_eq!(terminal_safe("a\u{202e}b"), "a\\u{202e}b");
        assert_eq!(terminal_safe("\u{9b}31m"), "\\u{9b}31m");
        assert_eq!(terminal_safe("x\r\ny"), "x\\r\\ny");
        assert_eq!(terminal_safe("ünïcode ✓"), "ünïcode ✓");
        // Unicode Cf beyond the usual suspects: a tag character, Arabic letter mark, soft hyphen.
        assert_eq!(
            terminal_safe("a\u{e0041}\u{61c}\u{ad}b"),
            "a\\u{e0041}\\u{61c}\\u{ad}b"
        );
    }

    #[test]
    fn whole_files_keep_their_bytes_and_lose_their_tricks() {
        let file = "set x = \"a\\\"b\"\n\tindented\n";
        assert_eq!(terminal_safe_lines(file), file);
        assert_eq!(
            terminal_safe_lines("name = A\u{202e}gpj.exe\n\u{1b}]0;t\u{7}"),
            "name = A\\u{202e}gpj.exe\n\\u{1b}]0;t\\u{7}"
        );
    }

    #[test]
    fn json_keeps_its_value_and_loses_its_tricks() {
        let value = serde_json::json!({
            "greeting": "\u{1b}[2J\u{7}ok \u{202e}evil\u{2066}x\u{2028}y\u{7f}\u{9b}z\u{e0001}",
            "plain": "ünïcode ✓ \t\n",
        });
        let raw = serde_json::to_string_pretty(&value).unwrap();
        let safe = json_safe(&raw);
        for bad in [
            '\u{1b}',
            '\u{7}',
            '\u{202e}',
            '\u{2066}',
            '\u{2028}',
            '\u{7f}',
            '\u{9b}',
            '\u{e0001}',
        ] {
            assert!(!safe.contains(bad), "{bad:?} in {safe}");
        }
        assert!(safe.contains("\\udb40\\udc01"), "{safe}");
        let back: serde_json::Value = serde_json::from_str(&safe).unwrap();
        assert_eq!(back, value);
    }
}
