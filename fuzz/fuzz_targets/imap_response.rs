//! IMAP responses: `LineReader` + `imap::ResponseParser` over arbitrarily segmented server
//! bytes, and every helper the session applies to what comes out.

#![no_main]

mod common;

use libfuzzer_sys::fuzz_target;
use mailsetup::proto::imap::{self, Greeting, GreetingError, Response, Status, Step};
use mailsetup::proto::{LineReader, MAX_LITERAL};

fuzz_target!(|data: &[u8]| {
    let wire = common::Wire::new(data);
    let payload = wire.payload();

    // Pure helpers on the raw bytes as well as on parsed text.
    let _ = imap::literal_size(payload);
    let _ = imap::parse_response(payload);

    let mut reader = LineReader::new(wire.max_line);
    let mut parser = imap::ResponseParser::new();
    'feed: for seg in wire.segments() {
        reader.push(seg);
        loop {
            match parser.next(&mut reader) {
                Ok(Some(resp)) => check_response(&resp),
                Ok(None) => break,
                Err(_) => break 'feed, // the session closes the connection here
            }
        }
        // Bounded buffering: with no error, what is held is at most one unfinished line or
        // one unfinished literal.
        let bound = wire.max_line.max(MAX_LITERAL as usize);
        assert!(
            reader.buffered() <= bound,
            "LineReader holds {} bytes without an error (bound {bound})",
            reader.buffered()
        );
    }
});

fn check_response(resp: &Response) {
    let caps = resp.capabilities();
    if let Some(caps) = &caps {
        // Every atom of a (bounded) line counts: STARTTLS or AUTH= may come last.
        assert!(caps.len() <= crate::common::MAX_ATOMS);
        let _ = imap::auth_mechanisms(caps);
        let _ = imap::starttls_offered(caps);
        let _ = imap::login_disabled(caps);
        let _ = imap::literal_plus(caps);
        let _ = imap::sasl_ir(caps);
        let _ = imap::has_quota(caps);
    }

    // PREAUTH must never be accepted on a connection TLS does not protect yet.
    match imap::check_greeting(resp, false) {
        Ok(Greeting::PreAuth) => panic!("PREAUTH accepted before TLS: {resp:?}"),
        Ok(Greeting::Ok { .. }) => assert!(matches!(
            resp,
            Response::Untagged {
                status: Some(Status::Ok),
                ..
            }
        )),
        Err(
            GreetingError::PreAuthBeforeTls(_)
            | GreetingError::Bye(_)
            | GreetingError::Unexpected(_),
        ) => {}
    }
    let _ = imap::check_greeting(resp, true);

    // Only a reply tagged with our own tag completes our command.
    match imap::expect_completion(resp, "A1") {
        Ok(Step::Done { status, text, .. }) => {
            assert!(matches!(resp, Response::Tagged { tag, .. } if tag == "A1"));
            let starttls = imap::check_starttls_reply(status, &text);
            assert_eq!(starttls.is_ok(), status == Status::Ok);
        }
        Ok(Step::Data) => assert!(!matches!(resp, Response::Tagged { .. })),
        Err(_) => {}
    }

    let text = match resp {
        Response::Untagged { text, code, .. } | Response::Tagged { text, code, .. } => {
            if let Some(code) = code {
                let _ = imap::parse_quota(code);
            }
            text
        }
        Response::Continuation { text } => text,
    };
    let _ = imap::parse_quota(text);
    let _ = imap::parse_status_messages(text);
    let _ = imap::literal_size(text.as_bytes());
    let _ = imap::quoted(text);
    let _ = imap::split_capabilities(text);
}
