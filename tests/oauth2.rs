//! OAuth2 accounts end to end, against a REAL authorization server (oidc-provider, started by
//! `scripts/mailstack` in its OAuth2 mode) and a Dovecot that validates the tokens by
//! introspection (IMAP, POP3, and Postfix submission through Dovecot SASL). The tests play
//! the user on the server's own pages (tests/oauth2-server/user_agent.py) and the mail
//! clients are the real programs, run with the configs mailsetup wrote.
//!
//! Access tokens live 8 seconds in the test server (so expiry happens within a test); the
//! device authorization response advertises a 1 s polling interval.

mod support;

use std::time::Duration;

use support::oauth2::{files_below, url_in, OAuthWorld, HOST};

/// Asserts that none of `secrets` occurs in `haystack` (raw or inside an XOAUTH2/OAUTHBEARER
/// payload in base64).
fn assert_no_token(what: &str, haystack: &str, user: &str, secrets: &[String]) {
    for s in secrets {
        support::run::assert_no_secret(what, haystack.as_bytes(), user, s);
    }
}

fn device_agent(deny: bool) -> impl Fn(&str) -> Vec<String> {
    move |line: &str| {
        let mut a = vec![
            "device".to_string(),
            url_in(line),
            "oauth@example.test".to_string(),
        ];
        if deny {
            a.push("--deny".into());
        }
        a
    }
}

fn browser_agent(extra: &'static [&'static str]) -> impl Fn(&str) -> Vec<String> {
    move |line: &str| {
        let mut a = vec![
            "authorize".to_string(),
            url_in(line),
            "oauth@example.test".to_string(),
        ];
        a.extend(extra.iter().map(|s| s.to_string()));
        a
    }
}

const DEVICE_LINE: &str = "carries the code";
const BROWSER_LINE: &str = "/auth?";

#[test]
fn device_flow_check_refresh_concurrency_revocation_and_no_token_anywhere() {
    let Some(w) = OAuthWorld::start(
        "device_flow_check_refresh_concurrency_revocation_and_no_token_anywhere",
        &[],
    ) else {
        return;
    };
    let user = w.user().to_string();
    let mut seen: Vec<String> = Vec::new();
    let mut outputs = String::new();

    // No client registered yet: the error says where to register one.
    let r = w.mailsetup(
        &[
            "oauth2",
            "login",
            &user,
            "--oauth2-issuer",
            w.issuer(),
            "--ca-file",
            &w.ca(),
        ],
        &[],
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains("--oauth2-client-id"), "{}", r.stderr);
    // Nothing stored yet: `oauth2 token` says to log in, with its own exit code.
    let r = w.token();
    assert_eq!((r.code, r.stdout.as_str()), (4, ""), "{}", r.stderr);
    assert!(r.stderr.contains("mailsetup oauth2 login"), "{}", r.stderr);

    // The device flow: mailsetup shows the code; the user confirms it on the server's page.
    let agent = device_agent(false);
    let login = w.login(
        &[
            "--flow",
            "device",
            "--oauth2-client-id",
            w.stack.get("OAUTH2_CLIENT_ID"),
        ],
        DEVICE_LINE,
        Some(&agent),
    );
    assert_eq!(
        login.run.code, 0,
        "{}\n{}\n{}",
        login.run.stdout, login.run.stderr, login.user_agent
    );
    assert!(
        login.user_agent.contains("device page: sign-in success"),
        "{}",
        login.user_agent
    );
    assert!(
        login.run.stderr.contains("enter the code"),
        "{}",
        login.run.stderr
    );
    assert!(
        login.run.stdout.contains("oauth2 token oauth@example.test"),
        "{}",
        login.run.stdout
    );
    outputs.push_str(&login.run.all_output());
    // No secret store here (support::oauth2 gives mailsetup no D-Bus session and no pass):
    // the refresh token is in the 0600 tokens file, and the user is told so.
    assert!(
        login
            .run
            .stdout
            .contains("no system secret store is usable here"),
        "{}",
        login.run.stdout
    );
    let account: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(w.account_file()).unwrap()).unwrap();
    assert!(account.get("refresh_token_store").is_none(), "{account}");
    use std::os::unix::fs::PermissionsExt;
    for f in [w.tokens_file(), w.account_file()] {
        let mode = std::fs::metadata(&f).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{}", f.display());
    }
    let first_refresh = w.stored_refresh_token().expect("a refresh token is stored");
    seen.push(first_refresh);

    // A fresh token is handed out as it is: two calls, no refresh.
    let refreshes_before = w.refreshes(200);
    let a = w.token();
    let b = w.token();
    assert_eq!((a.code, b.code), (0, 0), "{}{}", a.stderr, b.stderr);
    assert_eq!(a.stdout, b.stdout);
    assert_eq!(a.stdout.lines().count(), 1, "only the token on stdout");
    assert!(a.stderr.is_empty(), "{}", a.stderr);
    let token1 = a.stdout.trim().to_string();
    seen.push(token1.clone());
    assert_eq!(w.refreshes(200), refreshes_before);

    // check: every endpoint logs in with the stored sign-in (no credential flag needed).
    let mut args = vec![
        "check".to_string(),
        user.clone(),
        "--ca-file".into(),
        w.ca(),
        "--json".into(),
        "-v".into(),
    ];
    for (scheme, key) in [
        ("imaps", "IMAPS_PORT"),
        ("imap", "IMAP_PORT"),
        ("pop3s", "POP3S_PORT"),
        ("pop3", "POP3_PORT"),
        ("smtps", "SUBMISSIONS_PORT"),
        ("smtp", "SUBMISSION_PORT"),
    ] {
        args.push("--server".into());
        args.push(format!("{scheme}://{HOST}:{}", w.stack.port(key)));
    }
    args.extend(w.connect_to());
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    let check = w.mailsetup(&argv, &[]);
    outputs.push_str(&check.all_output());
    assert_eq!(check.code, 0, "{}\n{}", check.stdout, check.stderr);
    let report = check.json();
    for e in report["endpoints"].as_array().unwrap() {
        let login = &e["login"];
        assert_eq!(login["status"], "ok", "{e}");
        assert_eq!(login["auth_method"], "oauth2", "{e}");
        let mech = login["mechanism"].as_str().unwrap();
        assert!(mech == "OAUTHBEARER" || mech == "XOAUTH2", "{e}");
    }
    let rec = &report["recommended"];
    assert_eq!(rec["incoming"]["auth"], "oauth2", "{rec}");
    assert_eq!(rec["outgoing"]["auth"], "oauth2", "{rec}");
    assert_eq!(rec["verified"], true);
    // Dovecot validated the token (introspection) for IMAP, POP3 and Postfix's SASL.
    let dovecot = std::fs::read_to_string(w.stack.get("DOVECOT_LOG")).unwrap();
    for service in ["imap-login", "pop3-login"] {
        assert!(
            dovecot.lines().any(|l| l.contains(service)
                && l.contains("Login: user=<oauth@example.test>")
                && (l.contains("method=OAUTHBEARER") || l.contains("method=XOAUTH2"))),
            "no OAuth2 {service} login in Dovecot's log:\n{}",
            w.stack.log_tail(40)
        );
    }
    // Postfix logs SASL methods only with a message; its logins (through Dovecot's auth
    // socket) show as introspections: one per endpoint, IMAP and POP3 ones included.
    let introspected = w
        .server_log()
        .iter()
        .filter(|e| {
            e["path"] == "/token/introspection"
                && e["active"] == true
                && e["sub"] == "oauth@example.test"
        })
        .count();
    assert!(
        introspected >= 6,
        "{introspected} introspections for 6 logins"
    );

    // Expiry: the access token is refreshed (and rotated); the old one is refused by Dovecot.
    std::thread::sleep(Duration::from_secs(9));
    let c = w.token();
    assert_eq!(c.code, 0, "{}", c.stderr);
    let token2 = c.stdout.trim().to_string();
    assert_ne!(token2, token1, "an expired token was handed out");
    seen.push(token2.clone());
    assert_eq!(w.refreshes(200), refreshes_before + 1);
    let rotated = w.stored_refresh_token().unwrap();
    assert!(
        !seen.contains(&rotated),
        "the refresh token was not rotated"
    );
    seen.push(rotated);
    let old = w.mailsetup(
        &[
            "check",
            &user,
            "--server",
            &format!("imaps://{HOST}:{}", w.stack.port("IMAPS_PORT")),
            "--ca-file",
            &w.ca(),
            "--protocols",
            "imap",
            "--oauth2-token-command",
            "printf %s \"$OLD_TOKEN\"",
            "--json",
        ]
        .into_iter()
        .map(str::to_string)
        .chain(w.connect_to())
        .collect::<Vec<_>>()
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>(),
        &[("OLD_TOKEN", &token1)],
    );
    assert_eq!(
        old.code, 1,
        "an expired token still logs in: {}",
        old.stdout
    );
    assert_eq!(old.endpoints()[0]["login"]["status"], "failed");

    // Two (four) clients at once after expiry: one refresh, everyone gets the same token,
    // and the rotated refresh token still works afterwards.
    std::thread::sleep(Duration::from_secs(9));
    let before = w.refreshes(200);
    let handles: Vec<_> = (0..4)
        .map(|_| {
            let mut cmd = w.command(&["oauth2", "token", &user], &[]);
            std::thread::spawn(move || cmd.output().unwrap())
        })
        .collect();
    let outs: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    let tokens: Vec<String> = outs
        .iter()
        .map(|o| {
            assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
            String::from_utf8_lossy(&o.stdout).trim().to_string()
        })
        .collect();
    assert!(tokens.windows(2).all(|p| p[0] == p[1]), "different tokens");
    assert_eq!(w.refreshes(200), before + 1, "one refresh for four callers");
    assert_eq!(w.refreshes(400), 0, "a refresh token was spent twice");
    seen.push(tokens[0].clone());
    seen.push(w.stored_refresh_token().unwrap());

    // The refresh token revoked at the provider: a clear message and exit status 4.
    w.revoke_at_server(&w.stored_refresh_token().unwrap());
    std::thread::sleep(Duration::from_secs(9));
    let r = w.token();
    assert_eq!((r.code, r.stdout.as_str()), (4, ""), "{}", r.stderr);
    assert!(
        r.stderr
            .contains("run `mailsetup oauth2 login ADDRESS` again"),
        "{}",
        r.stderr
    );
    outputs.push_str(&r.all_output());

    // Nothing printed, traced or written contains a token (raw or in a SASL payload).
    assert_no_token("mailsetup's output", &outputs, &user, &seen);
    assert_no_token(
        "the account file",
        &std::fs::read_to_string(w.account_file()).unwrap(),
        &user,
        &seen,
    );
    assert_no_token(
        "the authorization server's log",
        &std::fs::read_to_string(w.stack.get("OAUTH2_LOG")).unwrap(),
        &user,
        &seen,
    );

    // Logout deletes what is stored (and tries to revoke).
    let r = w.mailsetup(&["oauth2", "logout", &user], &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(!w.tokens_file().exists() && !w.account_file().exists());
    assert_eq!(w.token().code, 4);
}

#[test]
fn browser_flow_with_pkce_and_its_failures_store_nothing() {
    let Some(w) = OAuthWorld::start("browser_flow_with_pkce_and_its_failures_store_nothing", &[])
    else {
        return;
    };
    let client = ["--flow", "browser", "--oauth2-client-id", "mailsetup-test"];

    // A redirect with another state (a forged or stale answer) is refused.
    let agent = browser_agent(&["--state", "forged-state"]);
    let l = w.login(&client, BROWSER_LINE, Some(&agent));
    assert_eq!(l.run.code, 1, "{}\n{}", l.run.stderr, l.user_agent);
    assert!(l.run.stderr.contains("state"), "{}", l.run.stderr);
    assert!(l.user_agent.contains("HTTP 400"), "{}", l.user_agent);
    assert!(
        !w.tokens_file().exists(),
        "tokens stored after a state mismatch"
    );

    // A code bound to another PKCE challenge: the server refuses our verifier.
    let agent = browser_agent(&["--new-challenge"]);
    let l = w.login(&client, BROWSER_LINE, Some(&agent));
    assert_eq!(l.run.code, 1, "{}\n{}", l.run.stderr, l.user_agent);
    assert!(l.run.stderr.contains("invalid_grant"), "{}", l.run.stderr);
    assert!(
        !w.tokens_file().exists(),
        "tokens stored after a PKCE failure"
    );

    // The user denies consent.
    let agent = browser_agent(&["--deny"]);
    let l = w.login(&client, BROWSER_LINE, Some(&agent));
    assert_eq!(l.run.code, 1, "{}\n{}", l.run.stderr, l.user_agent);
    assert!(l.run.stderr.contains("denied"), "{}", l.run.stderr);
    assert!(!w.tokens_file().exists(), "tokens stored after a denial");

    // The real thing: S256 challenge in the URL, one redirect to 127.0.0.1, tokens stored.
    let agent = browser_agent(&[]);
    let l = w.login(&client, BROWSER_LINE, Some(&agent));
    assert_eq!(l.run.code, 0, "{}\n{}", l.run.stderr, l.user_agent);
    assert!(
        l.run.stderr.contains("code_challenge_method=S256"),
        "{}",
        l.run.stderr
    );
    assert!(
        l.run
            .stderr
            .contains("redirect_uri=http%3A%2F%2F127.0.0.1%3A"),
        "{}",
        l.run.stderr
    );
    assert!(l.user_agent.contains("HTTP 200"), "{}", l.user_agent);
    assert!(w.tokens_file().exists());
    let t = w.token();
    assert_eq!(t.code, 0, "{}", t.stderr);
    // The listener closed after the one redirect.
    let port: u16 = l
        .run
        .stderr
        .split("127.0.0.1%3A")
        .nth(1)
        .and_then(|s| s.split('%').next())
        .and_then(|p| p.parse().ok())
        .expect("the redirect port");
    assert!(std::net::TcpStream::connect(("127.0.0.1", port)).is_err());

    // A second login for the same provider needs no client ID: it was remembered.
    let agent = browser_agent(&[]);
    let l = w.login(&["--flow", "browser"], BROWSER_LINE, Some(&agent));
    assert_eq!(l.run.code, 0, "{}\n{}", l.run.stderr, l.user_agent);
}

#[test]
fn device_flow_denied_and_expired_store_nothing() {
    let Some(w) = OAuthWorld::start(
        "device_flow_denied_and_expired_store_nothing",
        // Long enough for the denial below even on a loaded machine; short enough to wait for.
        &[("MAILSTACK_OAUTH2_DEVICE_TTL", "20")],
    ) else {
        return;
    };
    let client = ["--flow", "device", "--oauth2-client-id", "mailsetup-test"];
    let agent = device_agent(true);
    let l = w.login(&client, DEVICE_LINE, Some(&agent));
    assert_eq!(l.run.code, 1, "{}\n{}", l.run.stderr, l.user_agent);
    assert!(
        l.run.stderr.contains("denied (consent not given)"),
        "{}",
        l.run.stderr
    );
    assert!(!w.tokens_file().exists());

    // Nobody enters the code: mailsetup stops when it expires.
    let l = w.login(&client, DEVICE_LINE, None);
    assert_eq!(l.run.code, 1, "{}", l.run.stderr);
    assert!(
        l.run.stderr.contains("device code expired"),
        "{}",
        l.run.stderr
    );
    // It stopped at the server's expires_in (20 s), not at --timeout (60 s).
    assert!(
        l.run.elapsed >= Duration::from_secs(19) && l.run.elapsed < Duration::from_secs(50),
        "{:?}",
        l.run.elapsed
    );
    assert!(!w.tokens_file().exists());
    assert!(!w.account_file().exists());
}

#[test]
fn device_flow_honours_slow_down() {
    // The server advertises 1 s but wants 3 s between polls: it answers slow_down, and the
    // client must then wait 5 s more per poll (RFC 8628 §3.5).
    let Some(w) = OAuthWorld::start(
        "device_flow_honours_slow_down",
        &[("MAILSTACK_OAUTH2_DEVICE_MIN_INTERVAL", "3")],
    ) else {
        return;
    };
    let client = ["--flow", "device", "--oauth2-client-id", "mailsetup-test"];
    // The user confirms only after 4 s, so the client polls (every 1 s as advertised) while
    // the request is pending: the second poll comes too soon and gets slow_down.
    let agent = |line: &str| {
        let mut a = device_agent(false)(line);
        a.extend(["--wait".to_string(), "4".to_string()]);
        a
    };
    let l = w.login(&client, DEVICE_LINE, Some(&agent));
    assert_eq!(l.run.code, 0, "{}\n{}", l.run.stderr, l.user_agent);
    let polls: Vec<serde_json::Value> = w
        .server_log()
        .into_iter()
        .filter(|e| e["grant_type"] == "urn:ietf:params:oauth:grant-type:device_code")
        .collect();
    let slow = polls
        .iter()
        .position(|e| e["error"] == "slow_down")
        .expect("the server said slow_down");
    let next = &polls[slow + 1];
    let gap = next["since_last_poll_ms"].as_u64().unwrap();
    assert!(gap >= 6000, "polled again after {gap} ms, not 1 + 5 s");
    assert_eq!(polls.last().unwrap()["status"], 200);
}

#[test]
fn written_configs_keep_working_across_token_expiries() {
    let Some(w) = OAuthWorld::start("written_configs_keep_working_across_token_expiries", &[])
    else {
        return;
    };
    let user = w.user().to_string();
    let agent = device_agent(false);
    let l = w.login(
        &["--flow", "device", "--oauth2-client-id", "mailsetup-test"],
        DEVICE_LINE,
        Some(&agent),
    );
    assert_eq!(l.run.code, 0, "{}\n{}", l.run.stderr, l.user_agent);

    // write: a fresh check with the stored sign-in, then the configs.
    let out = w.dir.path().join("cfg");
    let imaps = format!("imaps://{HOST}:{}", w.stack.port("IMAPS_PORT"));
    let smtps = format!("smtps://{HOST}:{}", w.stack.port("SUBMISSIONS_PORT"));
    let mut args: Vec<String> = [
        "write",
        "msmtp",
        "mbsync",
        "neomutt",
        "--email",
        &user,
        "--server",
        &imaps,
        "--server",
        &smtps,
        "--ca-file",
        &w.ca(),
        "--maildir",
        "~/Mail/oauth",
        "--out",
        out.to_str().unwrap(),
    ]
    .into_iter()
    .map(str::to_string)
    .collect();
    args.extend(w.connect_to());
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    let r = w.mailsetup(&argv, &[]);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stderr.contains("libkdexoauth2") && r.stderr.contains("(found)"),
        "the SASL plugin note: {}",
        r.stderr
    );
    let msmtprc = out.join("msmtp/msmtprc");
    let mbsyncrc = out.join("mbsync/mbsyncrc");
    let muttrc = out.join("neomutt/neomuttrc");
    let token_cmd = format!("{} oauth2 token {user}", support::bin().display());
    for f in [&msmtprc, &mbsyncrc, &muttrc] {
        let text = std::fs::read_to_string(f).unwrap();
        assert!(text.contains(&token_cmd), "{}:\n{text}", f.display());
    }
    std::fs::create_dir_all(w.home().join("Mail/oauth")).unwrap();

    let mut seen = vec![w.stored_refresh_token().unwrap()];
    let mut sent = 0;
    for round in 1..=3 {
        // msmtp sends to the account itself through submission with XOAUTH2.
        let subject = format!("oauth2 round {round}");
        let msg = format!("From: {user}\nTo: {user}\nSubject: {subject}\n\nround {round}\n");
        let m = w.client(
            "msmtp",
            &["-C", msmtprc.to_str().unwrap(), &user],
            &msg,
            false,
        );
        assert_eq!(m.code, 0, "msmtp, round {round}: {}{}", m.stdout, m.stderr);
        sent += 1;
        let n = w
            .stack
            .wait_inbox_count(&user, sent, Duration::from_secs(20));
        assert_eq!(n, sent, "round {round}:\n{}", w.stack.log_tail(20));

        // mbsync reads it over IMAP (XOAUTH2 through the Cyrus SASL plugin).
        let s = w.client(
            "mbsync",
            &["-c", mbsyncrc.to_str().unwrap(), "-a"],
            "",
            false,
        );
        assert_eq!(s.code, 0, "mbsync, round {round}: {}{}", s.stdout, s.stderr);
        let maildir = w.home().join("Mail/oauth/INBOX");
        let got: String = files_below(&maildir)
            .iter()
            .filter_map(|p| std::fs::read_to_string(p).ok())
            .collect();
        assert!(
            got.contains(&format!("Subject: {subject}")),
            "round {round}: mbsync did not fetch {subject:?}"
        );

        // NeoMutt opens the INBOX without any prompt.
        let n = w.client(
            "neomutt",
            &["-F", muttrc.to_str().unwrap(), "-e", "push <quit>"],
            "",
            true,
        );
        let screen = n.stdout.to_lowercase();
        assert!(
            screen.contains(&subject.to_lowercase()) && !screen.contains("password"),
            "round {round}: NeoMutt screen:\n{}",
            n.stdout
        );
        seen.push(w.stored_refresh_token().unwrap());
        // Let the access token expire before the next round.
        std::thread::sleep(Duration::from_secs(9));
    }
    assert!(
        w.refreshes(200) >= 2,
        "the configs did not get refreshed tokens: {} refreshes",
        w.refreshes(200)
    );
    let dovecot = std::fs::read_to_string(w.stack.get("DOVECOT_LOG")).unwrap();
    let oauth_logins = dovecot
        .lines()
        .filter(|l| l.contains("Login: user=<oauth@example.test>, method=XOAUTH2"))
        .count();
    assert!(
        oauth_logins >= 6,
        "{oauth_logins} XOAUTH2 logins:\n{dovecot}"
    );
    let postfix = std::fs::read_to_string(w.stack.get("POSTFIX_LOG")).unwrap();
    let submissions = postfix
        .lines()
        .filter(|l| l.contains("sasl_method=XOAUTH2, sasl_username=oauth@example.test"))
        .count();
    assert_eq!(
        submissions, 3,
        "msmtp's XOAUTH2 submissions in Postfix's log:\n{postfix}"
    );
    // No token in the written files.
    for f in files_below(&out) {
        let text = std::fs::read_to_string(&f).unwrap_or_default();
        assert_no_token(&f.display().to_string(), &text, &user, &seen);
    }
}

#[test]
fn setup_wizard_signs_in_with_oauth2_and_writes_token_configs() {
    let Some(w) = OAuthWorld::start(
        "setup_wizard_signs_in_with_oauth2_and_writes_token_configs",
        &[],
    ) else {
        return;
    };
    let out = w.dir.path().join("cfg");
    let imaps = format!("imaps://{HOST}:{}", w.stack.port("IMAPS_PORT"));
    let smtps = format!("smtps://{HOST}:{}", w.stack.port("SUBMISSIONS_PORT"));
    let ca = w.ca();
    let mut args: Vec<String> = [
        "setup",
        "--yes",
        "--email",
        w.user(),
        "--oauth2-issuer",
        w.issuer(),
        "--oauth2-client-id",
        "mailsetup-test",
        "--oauth2-flow",
        "device",
        "--server",
        &imaps,
        "--server",
        &smtps,
        "--client",
        "msmtp",
        "--client",
        "fetchmail",
        "--ca-file",
        &ca,
        "--out",
        out.to_str().unwrap(),
    ]
    .into_iter()
    .map(str::to_string)
    .collect();
    args.extend(w.connect_to());
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    let agent = device_agent(false);
    let r = w.run_with_user(&argv, DEVICE_LINE, Some(&agent));
    assert_eq!(
        r.run.code, 0,
        "{}\n{}\n{}",
        r.run.stdout, r.run.stderr, r.user_agent
    );
    assert!(
        r.run.stdout.contains("Signed in with OAuth2"),
        "{}",
        r.run.stdout
    );
    assert!(
        r.run.stdout.contains("Authentication: OAuth2"),
        "{}",
        r.run.stdout
    );
    // fetchmail cannot run a token command: skipped with the reason, not a broken file.
    assert!(
        r.run.stdout.contains("Skipping fetchmail") && r.run.stdout.contains("OAuth2"),
        "{}",
        r.run.stdout
    );
    assert!(!out.join("fetchmail").exists());
    let msmtprc = std::fs::read_to_string(out.join("msmtp/msmtprc")).unwrap();
    // The check verified OAUTHBEARER, so that is what msmtp is told to use.
    assert!(msmtprc.contains("auth oauthbearer\n"), "{msmtprc}");
    assert!(
        msmtprc.contains(&format!("oauth2 token {}", w.user())),
        "{msmtprc}"
    );
    // The written file works: msmtp sends with it.
    let user = w.user().to_string();
    let msg = format!("From: {user}\nTo: {user}\nSubject: from the wizard\n\nhi\n");
    let path = out.join("msmtp/msmtprc");
    let m = w.client("msmtp", &["-C", path.to_str().unwrap(), &user], &msg, false);
    assert_eq!(m.code, 0, "{}{}", m.stdout, m.stderr);
    assert_eq!(
        w.stack.wait_inbox_count(&user, 1, Duration::from_secs(20)),
        1
    );
}

/// The keyring tests' access-token lifetime: a token is fresh for its first half (8 s, room
/// for a loaded machine between a login and the next call), and the 9 s sleeps below pass that
/// half, so the next call refreshes.
const ACCESS_TTL: &str = "16";

/// Every file below the desktop's HOME: none holds any of `tokens` (raw or base64).
fn assert_no_token_in_home(d: &support::desktop::Desktop, user: &str, tokens: &[String]) {
    let files = d.files();
    assert!(!files.is_empty(), "nothing under HOME");
    for f in files {
        let bytes = std::fs::read(&f).unwrap();
        for t in tokens {
            support::run::assert_no_secret(&f.display().to_string(), &bytes, user, t);
        }
    }
}

fn json_file(path: &std::path::Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn with_a_keyring_the_refresh_token_lives_in_it_and_nowhere_under_home() {
    let Some(w) = OAuthWorld::start(
        "with_a_keyring_the_refresh_token_lives_in_it_and_nowhere_under_home",
        &[("MAILSTACK_OAUTH2_ACCESS_TTL", ACCESS_TTL)],
    ) else {
        return;
    };
    // A desktop session: private D-Bus, gnome-keyring-daemon unlocked, a fresh HOME.
    let d = support::desktop::Desktop::start(&w.stack, true);
    let user = w.user().to_string();
    let (account_file, tokens_file) = w.desktop_files(&d);

    // --store keyring where there is no D-Bus session: refused before anyone signs in.
    let ca = w.ca();
    let r = w.desktop_mailsetup(
        &d,
        &[
            "oauth2",
            "login",
            &user,
            "--oauth2-issuer",
            w.issuer(),
            "--ca-file",
            &ca,
            "--oauth2-client-id",
            "mailsetup-test",
            "--flow",
            "device",
            "--store",
            "keyring",
        ],
        false,
    );
    assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stderr.contains("--store keyring") && r.stderr.contains("not available"),
        "{}",
        r.stderr
    );
    assert!(!r.stderr.contains("To sign in"), "{}", r.stderr);
    assert!(!account_file.exists() && !tokens_file.exists());

    // The device flow in the desktop session: the keyring is the default store.
    let login = w.desktop_login(&d, &[], true);
    assert_eq!(
        login.run.code, 0,
        "{}\n{}\n{}",
        login.run.stdout, login.run.stderr, login.user_agent
    );
    assert!(
        login
            .run
            .stdout
            .contains("the system keyring (Secret Service)")
            && !login.run.stdout.contains("no system secret store"),
        "{}",
        login.run.stdout
    );
    assert_eq!(json_file(&account_file)["refresh_token_store"], "keyring");
    // The keyring holds the refresh token (libsecret's own tool reads it), and mailsetup's
    // password reader finds the same item.
    let rt1 = w
        .keyring_refresh_token(&d)
        .expect("the refresh token is in the keyring");
    let got = d.run_ok(
        support::bin().to_str().unwrap(),
        &[
            "password",
            "get",
            "--store",
            "keyring",
            "--kind",
            "oauth2-refresh-token",
            &user,
        ],
        "",
    );
    assert_eq!(String::from_utf8_lossy(&got.stdout).trim(), rt1);
    // The access token (and only it) is in the 0600 tokens file.
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&tokens_file)
        .unwrap()
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(mode, 0o600);
    let tokens = json_file(&tokens_file);
    assert!(tokens.get("refresh_token").is_none(), "{tokens}");
    let access1 = tokens["access_token"].as_str().unwrap().to_string();
    let mut refresh_tokens = vec![rt1.clone()];
    assert_no_token_in_home(&d, &user, &refresh_tokens);
    assert_no_token(
        "mailsetup's output",
        &login.run.all_output(),
        &user,
        &refresh_tokens,
    );

    // A fresh access token needs no keyring: handed out with no D-Bus session at all.
    let refreshes = w.refreshes(200);
    let t = w.desktop_mailsetup(&d, &["oauth2", "token", &user], false);
    assert_eq!(t.code, 0, "{}", t.stderr);
    assert_eq!(t.stdout.trim(), access1);
    assert_eq!(w.refreshes(200), refreshes);

    // Expired, and the keyring out of reach: a clear error, and the refresh token is not
    // spent (the server saw no refresh).
    std::thread::sleep(Duration::from_secs(9));
    let t = w.desktop_mailsetup(&d, &["oauth2", "token", &user], false);
    assert_eq!((t.code, t.stdout.as_str()), (1, ""), "{}", t.stderr);
    assert!(
        t.stderr
            .contains("system keyring (Secret Service), where the refresh token is kept")
            && t.stderr.contains("not available"),
        "{}",
        t.stderr
    );
    assert_eq!(w.refreshes(200), refreshes);

    // In the session: refreshed through the keyring, the rotated refresh token back in it.
    let t = w.desktop_mailsetup(&d, &["oauth2", "token", &user], true);
    assert_eq!(t.code, 0, "{}", t.stderr);
    let access2 = t.stdout.trim().to_string();
    assert!(!access2.is_empty() && access2 != access1);
    assert_eq!(w.refreshes(200), refreshes + 1);
    let rt2 = w.keyring_refresh_token(&d).unwrap();
    assert_ne!(rt2, rt1, "the refresh token was not rotated");
    refresh_tokens.push(rt2.clone());
    assert_eq!(json_file(&tokens_file)["access_token"], access2.as_str());
    assert!(json_file(&tokens_file).get("refresh_token").is_none());
    assert_no_token_in_home(&d, &user, &refresh_tokens);
    // The refreshed token logs in (Dovecot validates it at the authorization server).
    let imaps = format!("imaps://{HOST}:{}", w.stack.port("IMAPS_PORT"));
    let mut args: Vec<String> = [
        "check",
        &user,
        "--server",
        &imaps,
        "--ca-file",
        &ca,
        "--protocols",
        "imap",
        "--oauth2-token-command",
        "printf %s \"$NEW_TOKEN\"",
        "--json",
    ]
    .into_iter()
    .map(str::to_string)
    .collect();
    args.extend(w.connect_to());
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    let c = w.mailsetup(&argv, &[("NEW_TOKEN", &access2)]);
    assert_eq!(c.code, 0, "{}\n{}", c.stdout, c.stderr);
    assert_eq!(c.endpoints()[0]["login"]["status"], "ok");

    // Logout revokes with the keyring's refresh token and removes it from the keyring.
    let r = w.desktop_mailsetup(&d, &["oauth2", "logout", &user], true);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stdout.contains("The provider revoked the sign-in.")
            && r.stdout.contains("Deleted the stored sign-in"),
        "{}",
        r.stdout
    );
    assert_eq!(w.keyring_refresh_token(&d), None);
    assert!(!account_file.exists() && !tokens_file.exists());
    let t = w.desktop_mailsetup(&d, &["oauth2", "token", &user], true);
    assert_eq!(t.code, 4, "{}", t.stderr);
}

#[test]
fn a_refresh_token_in_the_file_moves_into_the_keyring_at_the_next_refresh_unless_chosen() {
    let Some(w) = OAuthWorld::start(
        "a_refresh_token_in_the_file_moves_into_the_keyring_at_the_next_refresh_unless_chosen",
        &[("MAILSTACK_OAUTH2_ACCESS_TTL", ACCESS_TTL)],
    ) else {
        return;
    };
    let d = support::desktop::Desktop::start(&w.stack, true);
    let user = w.user().to_string();
    let (account_file, tokens_file) = w.desktop_files(&d);
    // The desktop's login keyring exists (something was stored in it before), as on any
    // desktop in use: an unattended move never creates or unlocks a collection.
    d.run_ok(
        "secret-tool",
        &[
            "store",
            "--label=other",
            "service",
            "other-app",
            "account",
            "x",
        ],
        "other secret",
    );

    // Signed in where no store is usable (an SSH login): the fallback file, and the note.
    let login = w.desktop_login(&d, &[], false);
    assert_eq!(
        login.run.code, 0,
        "{}\n{}",
        login.run.stdout, login.run.stderr
    );
    assert!(
        login
            .run
            .stdout
            .contains("no system secret store is usable here"),
        "{}",
        login.run.stdout
    );
    assert!(json_file(&account_file)
        .get("refresh_token_store")
        .is_none());
    let rt1 = json_file(&tokens_file)["refresh_token"]
        .as_str()
        .expect("the refresh token is in the file")
        .to_string();

    // In the desktop session, a token call that does not refresh moves nothing: the move
    // happens with a refresh, never on a plain read.
    let before = w.refreshes(200);
    let t = w.desktop_mailsetup(&d, &["oauth2", "token", &user], true);
    assert_eq!(t.code, 0, "{}", t.stderr);
    let refreshed = w.refreshes(200) > before;
    assert_eq!(
        w.keyring_refresh_token(&d).is_some(),
        refreshed,
        "moved into the keyring without a refresh, or refreshed without moving"
    );

    // At the next refresh the (rotated) refresh token moves into the keyring.
    std::thread::sleep(Duration::from_secs(9));
    let t = w.desktop_mailsetup(&d, &["oauth2", "token", &user], true);
    assert_eq!(t.code, 0, "{}", t.stderr);
    assert!(t.stderr.is_empty(), "{}", t.stderr);
    let rt2 = w.keyring_refresh_token(&d).expect("moved into the keyring");
    assert_ne!(rt2, rt1);
    assert_eq!(json_file(&account_file)["refresh_token_store"], "keyring");
    assert!(json_file(&tokens_file).get("refresh_token").is_none());
    assert_no_token_in_home(&d, &user, &[rt1.clone(), rt2.clone()]);
    // And it keeps working from there.
    std::thread::sleep(Duration::from_secs(9));
    let before = w.refreshes(200);
    let t = w.desktop_mailsetup(&d, &["oauth2", "token", &user], true);
    assert_eq!(t.code, 0, "{}", t.stderr);
    assert_eq!(w.refreshes(200), before + 1);
    let rt3 = w.keyring_refresh_token(&d).unwrap();
    assert_ne!(rt3, rt2);
    assert_eq!(w.refreshes(400), 0, "a refresh token was spent twice");

    // Signing in again with --store file (the user's choice) takes the token out of the
    // keyring, and a refresh leaves it in the file.
    let login = w.desktop_login(&d, &["--store", "file"], true);
    assert_eq!(
        login.run.code, 0,
        "{}\n{}",
        login.run.stdout, login.run.stderr
    );
    assert!(
        !login
            .run
            .stdout
            .contains("no system secret store is usable here"),
        "{}",
        login.run.stdout
    );
    assert_eq!(json_file(&account_file)["refresh_token_store"], "file");
    assert_eq!(w.keyring_refresh_token(&d), None);
    let rt4 = json_file(&tokens_file)["refresh_token"]
        .as_str()
        .unwrap()
        .to_string();
    std::thread::sleep(Duration::from_secs(9));
    let t = w.desktop_mailsetup(&d, &["oauth2", "token", &user], true);
    assert_eq!(t.code, 0, "{}", t.stderr);
    let rt5 = json_file(&tokens_file)["refresh_token"]
        .as_str()
        .expect("still in the file")
        .to_string();
    assert_ne!(rt5, rt4);
    assert_eq!(w.keyring_refresh_token(&d), None);
    assert_eq!(json_file(&account_file)["refresh_token_store"], "file");

    let r = w.desktop_mailsetup(&d, &["oauth2", "logout", &user], true);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert!(!account_file.exists() && !tokens_file.exists());
}
