//! Characters that must not reach a terminal unescaped, or that make a name read differently.

/// A character that can change what a terminal (or a log viewed in one) shows: controls (C0,
/// DEL, C1), format characters (Unicode Cf: bidi overrides and isolates, zero-width
/// characters, BOM, tags) and the line and paragraph separators (U+2028, U+2029).
pub fn is_unsafe_char(c: char) -> bool {
    use unicode_general_category::{get_general_category, GeneralCategory as G};
    matches!(
        get_general_category(c),
        G::Control | G::Format | G::LineSeparator | G::ParagraphSeparator
    )
}

/// A character that makes text read differently than it is, with no other use in a name:
/// bidi marks, embeddings, overrides and isolates (U+061C, U+200E, U+200F, U+202A–U+202E,
/// U+2066–U+2069), zero-width space, word joiner and invisible operators (U+200B,
/// U+2060–U+2064), BOM (U+FEFF), interlinear annotations (U+FFF9–U+FFFB) and tags
/// (U+E0000–U+E007F). Zero-width (non-)joiners (U+200C, U+200D), which Persian, Indic scripts
/// and emoji sequences need, are not among them.
pub fn is_deceptive_char(c: char) -> bool {
    matches!(c,
        '\u{061c}' | '\u{200b}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}'
        | '\u{2060}'..='\u{2064}' | '\u{2066}'..='\u{2069}' | '\u{feff}'
        | '\u{fff9}'..='\u{fffb}' | '\u{e0000}'..='\u{e007f}')
}

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
            c if is_unsafe_char(c) => {
                out.push_str(&format!("\\u{{{:x}}}", c as u32));
            }
            '\\' => out.push_str("\\\\"),
            c => out.push(c),
        }
    }
    out
}
