//! POP3 replies: single-line status replies and multi-line bodies (CAPA, ...) over
//! arbitrarily segmented server bytes, and the helpers applied to them.
//! Flag bit 0: after every `+OK` a multi-line body follows (as after CAPA).

#![no_main]

mod common;

use libfuzzer_sys::fuzz_target;
use mailsetup::proto::pop3::{self, MultiLine, Reply};
use mailsetup::proto::{LineReader, MAX_REPLY_LINES};

fuzz_target!(|data: &[u8]| {
    let wire = common::Wire::new(data);
    let multi_after_ok = wire.flags & 1 != 0;
    let _ = pop3::parse_reply(wire.payload());

    let mut reader = LineReader::new(wire.max_line);
    let mut body: Option<MultiLine> = None;
    let mut greeted = false;
    'feed: for seg in wire.segments() {
        reader.push(seg);
        loop {
            if let Some(ml) = body.as_mut() {
                match ml.next(&mut reader) {
                    Ok(Some(lines)) => {
                        assert!(lines.len() <= MAX_REPLY_LINES);
                        check_body(&lines);
                        body = None;
                    }
                    Ok(None) => break,
                    Err(_) => break 'feed,
                }
            } else {
                match pop3::next_reply(&mut reader) {
                    Ok(Some(reply)) => {
                        if !greeted {
                            greeted = true;
                            let g = pop3::check_greeting(&reply);
                            assert_eq!(g.is_ok(), matches!(reply, Reply::Ok(_)));
                            if let Ok(g) = g {
                                if let Some(ts) = &g.apop_timestamp {
                                    assert!(
                                        ts.len() <= 256 && ts.starts_with('<') && ts.ends_with('>')
                                    );
                                }
                            }
                        }
                        check_reply(&reply);
                        if multi_after_ok && matches!(reply, Reply::Ok(_)) {
                            body = Some(MultiLine::new());
                        }
                    }
                    Ok(None) => break,
                    Err(_) => break 'feed,
                }
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
    // Only +OK to STLS allows the TLS upgrade.
    assert_eq!(
        pop3::check_stls_reply(reply).is_ok(),
        matches!(reply, Reply::Ok(_))
    );
    let _ = pop3::check_greeting(reply);
    let text = match reply {
        Reply::Ok(t) | Reply::Err(t) | Reply::Continuation(t) => t,
    };
    let _ = pop3::parse_stat(text);
}

fn check_body(lines: &[String]) {
    let caps = pop3::capabilities(lines);
    assert!(caps.len() <= lines.len());
    let _ = pop3::starttls_offered(&caps);
    let _ = pop3::auth_mechanisms(lines);
    for l in lines {
        let _ = pop3::parse_stat(l);
    }
}
