//! SMTP replies: `smtp::ReplyParser` over arbitrarily segmented server bytes, and the EHLO,
//! AUTH and STARTTLS helpers applied to every reply.

#![no_main]

mod common;

use libfuzzer_sys::fuzz_target;
use mailsetup::proto::smtp::{self, Reply};
use mailsetup::proto::{LineReader, MAX_REPLY_LINES};

fuzz_target!(|data: &[u8]| {
    let wire = common::Wire::new(data);
    let mut reader = LineReader::new(wire.max_line);
    let mut parser = smtp::ReplyParser::new();
    'feed: for seg in wire.segments() {
        reader.push(seg);
        loop {
            match parser.next(&mut reader) {
                Ok(Some(reply)) => check_reply(&reply),
                Ok(None) => break,
                Err(_) => break 'feed,
            }
        }
        assert!(
            reader.buffered() <= wire.max_line,
            "LineReader holds {} bytes without an error (max_line {})",
            reader.buffered(),
            wire.max_line
        );
    }
});

fn check_reply(reply: &Reply) {
    assert!(
        (200..=599).contains(&reply.code),
        "reply code {}",
        reply.code
    );
    assert!(!reply.lines.is_empty() && reply.lines.len() <= MAX_REPLY_LINES);
    let _ = reply.text();
    let _ = reply.is_positive();
    let keywords = smtp::ehlo_keywords(reply);
    assert!(keywords.iter().all(|k| !k.is_empty() && !k.contains('=')));
    let _ = smtp::starttls_offered(&keywords);
    let _ = smtp::ehlo_capabilities(reply);
    let _ = smtp::auth_mechanisms(reply);
    // Only 220 to STARTTLS allows the TLS upgrade; 220 is also the only good greeting.
    assert_eq!(smtp::check_starttls_reply(reply).is_ok(), reply.code == 220);
    assert_eq!(smtp::check_greeting(reply).is_ok(), reply.code == 220);
}
