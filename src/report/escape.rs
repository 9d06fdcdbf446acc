//! Making server-controlled text safe for a terminal.

/// Replaces control characters (C0, DEL, C1), bidirectional overrides and other invisible
/// format characters with visible escapes, so server text can't move the cursor, change
/// colours, retitle the terminal or reorder what the user reads.
pub fn terminal_safe(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '\n' => out.push_str("\\n"),
            c if dangerous(c) => {
                out.push_str(&format!("\\u{{{:x}}}", c as u32));
            }
            '\\' => out.push_str("\\\\"),
            c => out.push(c),
        }
    }
    out
}

fn dangerous(c: char) -> bool {
    c.is_control()
        || matches!(c,
            '\u{061c}' | '\u{200b}'..='\u{200f}' | '\u{2028}'..='\u{202e}' |
            '\u{2060}'..='\u{2069}' | '\u{feff}' | '\u{fff9}'..='\u{fffb}')
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
    }
}
