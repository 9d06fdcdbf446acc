//! `report::escape::terminal_safe`: server text made safe for a terminal must contain no
//! control character and no bidirectional override or isolate.

#![no_main]

use libfuzzer_sys::fuzz_target;
use mailsetup::report::escape::terminal_safe;

fuzz_target!(|data: &[u8]| {
    let lossy;
    let s = match std::str::from_utf8(data) {
        Ok(s) => s,
        Err(_) => {
            lossy = String::from_utf8_lossy(data);
            &lossy
        }
    };
    let out = terminal_safe(s);
    for c in out.chars() {
        assert!(!c.is_control(), "control character {c:?} in {out:?}");
        assert!(
            !matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'),
            "bidi control U+{:04X} in {out:?}",
            c as u32
        );
    }
    // Text with nothing to escape passes through unchanged.
    if !s
        .chars()
        .any(|c| c.is_control() || c == '\\' || !c.is_alphanumeric() && !c.is_ascii())
    {
        assert_eq!(out, s);
    }
});
