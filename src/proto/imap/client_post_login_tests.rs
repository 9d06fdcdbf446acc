//! Byte-level tests of the IMAP machine after a login: the pipeline of quota, folders and
//! goodbye, and kept sessions.

use super::*;

#[test]
fn after_login_the_folders_go_in_the_same_pipeline_as_the_quota() {
    let mut m = Client::new(setup(Security::Tls));
    exchange(
        &mut m,
        "* OK [CAPABILITY IMAP4rev1 SASL-IR AUTH=PLAIN] ready\r\n",
    );
    m.login(LoginRequest {
        folders: true,
        ..request(&[Mechanism::Plain], true)
    });
    drain(&mut m);
    let (sent, _) = exchange(
        &mut m,
        "A1 OK [CAPABILITY IMAP4rev1 QUOTA SPECIAL-USE] Logged in\r\n",
    );
    assert_eq!(
        sent,
        "A2 STATUS INBOX (MESSAGES)\r\nA3 GETQUOTAROOT INBOX\r\n\
         A4 LIST \"\" \"*\" RETURN (SPECIAL-USE)\r\nA5 LOGOUT\r\n",
        "one write: quota, folders (the form the OK's capabilities allow), goodbye"
    );
    let (sent, ev) = exchange(
        &mut m,
        "* STATUS INBOX (MESSAGES 0)\r\nA2 OK\r\nA3 NO no quota\r\n\
         * LIST (\\HasNoChildren \\Sent) \"/\" \"Sent Messages\"\r\n\
         * LIST (\\HasNoChildren) \"/\" INBOX\r\nA4 OK\r\n",
    );
    assert_eq!(sent, "");
    let Some(Event::Folders(f)) = ev.iter().find(|e| matches!(e, Event::Folders(_))) else {
        panic!("{ev:?}")
    };
    assert_eq!(
        f.sent.as_ref().map(|s| s.name.as_str()),
        Some("Sent Messages"),
        "{f:?}"
    );
    assert_eq!(ev.last(), Some(&Event::Finished { remaining: vec![] }));
}

#[test]
fn without_capabilities_in_the_ok_list_waits_for_them() {
    let mut m = Client::new(setup(Security::Tls));
    exchange(&mut m, "* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] ready\r\n");
    m.login(LoginRequest {
        folders: true,
        ..request(&[Mechanism::Plain], false)
    });
    drain(&mut m);
    let (sent, _) = exchange(&mut m, "+ \r\n");
    assert!(sent.ends_with("\r\n"), "the PLAIN response: {sent:?}");
    let (sent, _) = exchange(&mut m, "A1 OK Logged in\r\n");
    assert_eq!(
        sent, "A2 CAPABILITY\r\n",
        "the LIST form depends on the capabilities after login"
    );
    let (sent, _) = exchange(&mut m, "* CAPABILITY IMAP4rev1 XLIST\r\nA2 OK\r\n");
    assert_eq!(sent, "A3 XLIST \"\" \"*\"\r\nA4 LOGOUT\r\n");
    let (_, ev) = exchange(
        &mut m,
        "* XLIST (\\HasNoChildren \\Trash) \"/\" Papierkorb\r\nA3 OK\r\n",
    );
    let Some(Event::Folders(f)) = ev.iter().find(|e| matches!(e, Event::Folders(_))) else {
        panic!("{ev:?}")
    };
    assert_eq!(
        f.trash.as_ref().map(|s| s.name.as_str()),
        Some("Papierkorb")
    );
}

#[test]
fn a_kept_session_sends_no_logout_and_hands_over_what_it_did_not_read() {
    let mut m = Client::new(setup(Security::Tls));
    exchange(
        &mut m,
        "* OK [CAPABILITY IMAP4rev1 SASL-IR AUTH=PLAIN] ready\r\n",
    );
    m.login(LoginRequest {
        keep: true,
        ..request(&[Mechanism::Plain], true)
    });
    drain(&mut m);
    let (sent, _) = exchange(
        &mut m,
        "A1 OK [CAPABILITY IMAP4rev1 QUOTA IDLE] Logged in\r\n",
    );
    assert_eq!(
        sent, "A2 STATUS INBOX (MESSAGES)\r\nA3 GETQUOTAROOT INBOX\r\n",
        "no LOGOUT: the session continues"
    );
    let (sent, ev) = exchange(
        &mut m,
        "* STATUS INBOX (MESSAGES 1)\r\nA2 OK\r\nA3 OK\r\n* 2 EXISTS\r\n* 1 REC",
    );
    assert_eq!(sent, "");
    assert!(
        ev.contains(&Event::Kept {
            capabilities: vec!["IMAP4REV1".into(), "QUOTA".into(), "IDLE".into()]
        }),
        "{ev:?}"
    );
    assert_eq!(ev.last(), Some(&Event::Finished { remaining: vec![] }));
    assert_eq!(
        m.take_buffered(),
        b"* 2 EXISTS\r\n* 1 REC",
        "bytes after the last reply are handed over, not consumed"
    );
}

#[test]
fn a_kept_session_without_capabilities_in_the_ok_reads_them() {
    let mut m = Client::new(setup(Security::Tls));
    exchange(
        &mut m,
        "* OK [CAPABILITY IMAP4rev1 SASL-IR AUTH=PLAIN] ready\r\n",
    );
    m.login(LoginRequest {
        keep: true,
        ..request(&[Mechanism::Plain], false)
    });
    drain(&mut m);
    let (sent, _) = exchange(&mut m, "A1 OK Logged in\r\n");
    assert_eq!(sent, "A2 CAPABILITY\r\n");
    let (_, ev) = exchange(&mut m, "* CAPABILITY IMAP4rev1 IDLE\r\nA2 OK\r\n");
    assert!(
        ev.contains(&Event::Kept {
            capabilities: vec!["IMAP4REV1".into(), "IDLE".into()]
        }),
        "{ev:?}"
    );
}

#[test]
fn getquotaroot_only_where_quota_is_advertised_after_login() {
    let mut m = Client::new(setup(Security::Tls));
    exchange(
        &mut m,
        "* OK [CAPABILITY IMAP4rev1 SASL-IR AUTH=PLAIN] ready\r\n",
    );
    m.login(request(&[Mechanism::Plain], true));
    drain(&mut m);
    let (sent, _) = exchange(&mut m, "A1 OK Logged in\r\n");
    assert_eq!(
        sent, "A2 CAPABILITY\r\nA3 STATUS INBOX (MESSAGES)\r\n",
        "QUOTA unknown yet: the capabilities first, STATUS (base IMAP) with them"
    );
    let (sent, ev) = exchange(
        &mut m,
        "* CAPABILITY IMAP4rev1\r\nA2 OK\r\n* STATUS INBOX (MESSAGES 5)\r\nA3 OK\r\n",
    );
    assert_eq!(
        sent, "A4 LOGOUT\r\n",
        "no QUOTA after login: no GETQUOTAROOT"
    );
    assert_eq!(
        ev,
        [
            Event::Quota(QuotaFacts {
                storage: None,
                messages: Some(5),
                octets: None
            }),
            Event::Finished { remaining: vec![] }
        ]
    );
}

#[test]
fn capabilities_sent_untagged_with_a_successful_login_are_used() {
    // Dovecot: `* CAPABILITY …` (the post-login list), then `A1 OK Logged in`.
    let mut m = Client::new(setup(Security::Tls));
    exchange(&mut m, "* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] ready\r\n");
    m.login(LoginRequest {
        folders: true,
        ..request(&[Mechanism::Plain], false)
    });
    drain(&mut m);
    exchange(&mut m, "+ \r\n");
    let (sent, _) = exchange(
        &mut m,
        "* CAPABILITY IMAP4rev1 SPECIAL-USE\r\nA1 OK Logged in\r\n",
    );
    assert_eq!(
        sent, "A2 LIST \"\" \"*\" RETURN (SPECIAL-USE)\r\nA3 LOGOUT\r\n",
        "no CAPABILITY round trip: the list came with the login"
    );
}

#[test]
fn capabilities_sent_untagged_with_a_refused_login_are_not_used() {
    let mut m = Client::new(setup(Security::Tls));
    exchange(
        &mut m,
        "* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN AUTH=LOGIN] ready\r\n",
    );
    m.login(LoginRequest {
        folders: true,
        ..request(&[Mechanism::Plain, Mechanism::Login], false)
    });
    drain(&mut m);
    exchange(&mut m, "+ \r\n");
    let (sent, _) = exchange(
        &mut m,
        "* CAPABILITY IMAP4rev1 XLIST\r\nA1 NO [AUTHENTICATIONFAILED] no\r\n",
    );
    assert!(sent.starts_with("A2 AUTHENTICATE LOGIN"), "{sent:?}");
    exchange(&mut m, "+ VXNlcm5hbWU6\r\n");
    exchange(&mut m, "+ UGFzc3dvcmQ6\r\n");
    let (sent, _) = exchange(&mut m, "A2 OK Logged in\r\n");
    assert_eq!(
        sent, "A3 CAPABILITY\r\n",
        "the refused attempt's list is not the logged-in one"
    );
}
