//! IMAP parsing and rules: greetings, completions, literals, quota, quoting.

use super::*;

fn parse_all(bytes: &[u8]) -> Result<Vec<Response>, ProtoError> {
    let mut r = LineReader::new(1024);
    r.push(bytes);
    let mut p = ResponseParser::new();
    let mut out = vec![];
    while let Some(resp) = p.next(&mut r)? {
        out.push(resp);
    }
    Ok(out)
}

#[test]
fn greeting_with_capabilities() {
    let rs =
        parse_all(b"* OK [CAPABILITY IMAP4rev1 STARTTLS AUTH=PLAIN] Dovecot ready.\r\n").unwrap();
    let g = check_greeting(&rs[0], false).unwrap();
    assert_eq!(
        g,
        Greeting::Ok {
            capabilities: Some(vec![
                "IMAP4REV1".into(),
                "STARTTLS".into(),
                "AUTH=PLAIN".into()
            ])
        }
    );
}

#[test]
fn preauth_before_tls_is_refused() {
    let rs = parse_all(b"* PREAUTH IMAP4rev1 logged in\r\n").unwrap();
    assert!(matches!(
        check_greeting(&rs[0], false),
        Err(GreetingError::PreAuthBeforeTls(_))
    ));
    assert_eq!(check_greeting(&rs[0], true).unwrap(), Greeting::PreAuth);
}

#[test]
fn bye_greeting() {
    let rs = parse_all(b"* BYE go away\r\n").unwrap();
    assert_eq!(
        check_greeting(&rs[0], true),
        Err(GreetingError::Bye("go away".into()))
    );
}

#[test]
fn capability_and_completion() {
    let rs = parse_all(
        b"* CAPABILITY IMAP4rev1 AUTH=PLAIN AUTH=CRAM-MD5 LOGINDISABLED\r\nA1 OK done\r\n",
    )
    .unwrap();
    let caps = rs[0].capabilities().unwrap();
    assert_eq!(auth_mechanisms(&caps), ["PLAIN", "CRAM-MD5"]);
    assert!(login_disabled(&caps));
    assert_eq!(expect_completion(&rs[0], "A1").unwrap(), Step::Data);
    assert!(matches!(
        expect_completion(&rs[1], "A1").unwrap(),
        Step::Done {
            status: Status::Ok,
            ..
        }
    ));
}

#[test]
fn other_tags_are_never_our_completion() {
    let rs = parse_all(b"A7 OK begin TLS\r\n").unwrap();
    assert!(expect_completion(&rs[0], "A2").is_err());
}

#[test]
fn starttls_needs_tagged_ok() {
    assert!(check_starttls_reply(Status::Ok, "go").is_ok());
    assert!(matches!(
        check_starttls_reply(Status::No, "x"),
        Err(StartTlsRefusal::Rejected(_))
    ));
    assert!(matches!(
        check_starttls_reply(Status::Bad, "x"),
        Err(StartTlsRefusal::Rejected(_))
    ));
    assert_eq!(
        starttls_offered(&["IMAP4REV1".into()]),
        Err(StartTlsRefusal::NotOffered)
    );
}

#[test]
fn literals_are_folded_and_bounded() {
    let rs = parse_all(b"* LIST () \"/\" {5}\r\nINBOX\r\nA1 OK\r\n").unwrap();
    assert_eq!(rs.len(), 2);
    match &rs[0] {
        Response::Untagged { keyword, text, .. } => {
            assert_eq!(keyword, "LIST");
            assert!(text.ends_with("{5}\r\nINBOX"), "{text}");
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        parse_all(b"* OK {9999999999}\r\n"),
        Err(ProtoError::LiteralTooLarge { .. })
    ));
    assert!(matches!(
        parse_all(b"* OK {99999999999999999999999}\r\n"),
        Err(ProtoError::LiteralTooLarge { .. })
    ));
}

#[test]
fn literal_waits_for_bytes() {
    let mut r = LineReader::new(1024);
    let mut p = ResponseParser::new();
    r.push(b"* X {4}\r\nab");
    assert_eq!(p.next(&mut r).unwrap(), None);
    r.push(b"cd tail\r\n");
    assert!(p.next(&mut r).unwrap().is_some());
}

#[test]
fn garbage_is_malformed() {
    assert!(parse_all(b"HTTP/1.1 400 Bad Request\r\n").is_err());
    assert!(parse_all(b"*\r\n").is_err());
    assert!(parse_all(b"\r\n").is_err());
}

#[test]
fn quota_and_status() {
    assert_eq!(
        parse_quota("\"User quota\" (STORAGE 4 10 MESSAGE 3 100)"),
        [
            ("STORAGE".to_string(), 4, 10),
            ("MESSAGE".to_string(), 3, 100)
        ]
    );
    assert_eq!(parse_quota("\"\" ()"), []);
    assert_eq!(parse_quota("garbage"), []);
    assert_eq!(parse_status_messages("INBOX (MESSAGES 3)"), Some(3));
    assert_eq!(
        parse_status_messages("\"a (b)\" (UIDNEXT 4 MESSAGES 12)"),
        Some(12)
    );
}

#[test]
fn quoting() {
    assert_eq!(quoted("a\"b\\c").unwrap(), "\"a\\\"b\\\\c\"");
    assert_eq!(quoted("pässword"), None);
    assert_eq!(quoted("a\r\n"), None);
}

#[test]
fn a_long_capability_line_keeps_its_last_atoms() {
    // Cyrus or a Dovecot with many plugins: far beyond any display length.
    let filler: String = (0..400).map(|i| format!("X-EXTENSION-{i} ")).collect();
    let line = format!("* CAPABILITY IMAP4rev1 {filler}STARTTLS LOGINDISABLED AUTH=PLAIN\r\n");
    assert!(line.len() > 4096);
    let rs = parse_all_big(line.as_bytes()).unwrap();
    let caps = rs[0].capabilities().unwrap();
    assert_eq!(caps.len(), 404);
    assert_eq!(
        &caps[caps.len() - 3..],
        ["STARTTLS", "LOGINDISABLED", "AUTH=PLAIN"]
    );
    assert!(starttls_offered(&caps).is_ok());
    assert_eq!(auth_mechanisms(&caps), ["PLAIN"]);
    // The same as a greeting code and a tagged OK code.
    let greeting = format!("* OK [CAPABILITY IMAP4rev1 {filler}STARTTLS] hi\r\n");
    let rs = parse_all_big(greeting.as_bytes()).unwrap();
    assert!(starttls_offered(&rs[0].capabilities().unwrap()).is_ok());
}

fn parse_all_big(bytes: &[u8]) -> Result<Vec<Response>, ProtoError> {
    let mut r = LineReader::new(crate::proto::MAX_LINE);
    r.push(bytes);
    let mut p = ResponseParser::new();
    let mut out = vec![];
    while let Some(resp) = p.next(&mut r)? {
        out.push(resp);
    }
    Ok(out)
}

#[test]
fn continuation() {
    let rs = parse_all(b"+ PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2U+\r\n+\r\n").unwrap();
    assert!(matches!(&rs[0], Response::Continuation { text } if text.starts_with("PDE4")));
    assert!(matches!(&rs[1], Response::Continuation { text } if text.is_empty()));
}
