//! Issue 14, "setup ends with mail working": the wizard in a real terminal, as an unprivileged
//! user with a fresh HOME and a real Secret Service, against the real stack; then every
//! installed mail client works with nothing else done. Also: existing configs of another
//! account survive (and a second run changes nothing outside its block), `setup --yes` with
//! pass and with the file store, the password command's exit codes, and folder mapping
//! against servers that name their special folders differently or not at all.

mod support;

use std::path::{Path, PathBuf};
use std::time::Duration;

use support::desktop::{Desktop, Tmux, HOST};
use support::run::assert_no_secret;
use support::stack::MailStack;

const ADDRESS: &str = "demo@example.test";

fn bin() -> String {
    support::bin().display().to_string()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// `--server` URLs naming mail.example.test (IMAPS, POP3S, SMTPS).
fn servers(s: &MailStack) -> Vec<String> {
    [
        ("imaps", "IMAPS_PORT"),
        ("pop3s", "POP3S_PORT"),
        ("smtps", "SUBMISSIONS_PORT"),
    ]
    .iter()
    .flat_map(|(scheme, key)| {
        [
            "--server".to_string(),
            format!("{scheme}://{HOST}:{}", s.get(key)),
        ]
    })
    .collect()
}

fn message(from: &str, to: &str, subject: &str) -> String {
    format!(
        "From: {from}\nTo: {to}\nSubject: {subject}\nMessage-ID: <{}@test>\n\nbody\n",
        subject.replace(' ', "-")
    )
}

/// Messages below a Maildir (new/ and cur/) that contain `subject`.
fn maildir_has(dir: &Path, subject: &str) -> usize {
    ["new", "cur"]
        .iter()
        .filter_map(|sub| std::fs::read_dir(dir.join(sub)).ok())
        .flatten()
        .flatten()
        .filter(|e| {
            std::fs::read_to_string(e.path())
                .map(|t| t.contains(&format!("Subject: {subject}")))
                .unwrap_or(false)
        })
        .count()
}

/// No file below HOME holds the password in any form.
fn scan_for_password(d: &Desktop, password: &str) {
    let files = d.files();
    assert!(!files.is_empty());
    for f in files {
        let bytes = std::fs::read(&f).unwrap();
        assert_no_secret(&f.display().to_string(), &bytes, ADDRESS, password);
    }
}

/// NeoMutt or Mutt in a pseudo-terminal: opens its mailbox, must show `subject`, must not prompt.
fn mutt_shows(d: &Desktop, program: &str, extra: &str, subject: &str) {
    let cmd = format!("{program} {extra} -e 'push <quit>'");
    let out = d.run("script", &["-q", "-e", "-c", &cmd, "/dev/null"], "");
    let screen = text(&out.stdout);
    for prompt in ["password", "username", "(r)eject", "([yes]/no)", "(yes/no)"] {
        assert!(
            !screen.to_lowercase().contains(prompt),
            "{program} prompted ({prompt:?}):\n{screen}"
        );
    }
    assert!(
        screen.contains(subject),
        "{program} {extra} did not show {subject:?} (exit {}):\n{screen}\n{}",
        out.status,
        text(&out.stderr)
    );
}

#[test]
fn wizard_in_a_terminal_leaves_every_installed_client_working_with_the_keyring() {
    let Some(s) = MailStack::start_with_env(
        "wizard_in_a_terminal_leaves_every_installed_client_working_with_the_keyring",
        &[("MAILSTACK_FOLDERS", "standard")],
    ) else {
        return;
    };
    let password = s.get("PASSWORD").to_string();
    let other = s.get("OTHER_USER").to_string();
    let subject = "marker for the wizard";
    s.sendmail(&other, ADDRESS, &message(&other, ADDRESS, subject));
    assert_eq!(s.wait_inbox_count(ADDRESS, 1, Duration::from_secs(20)), 1);
    s.save(
        ADDRESS,
        "Sent",
        &message(ADDRESS, &other, "already in Sent"),
    );
    let d = Desktop::start(&s, true);

    let cmd = format!(
        "{} setup {} --ca-file {}",
        bin(),
        servers(&s).join(" "),
        s.ca_file().display()
    );
    let t = Tmux::start(&d, "wizard", &cmd);
    t.wait_for("Your email address", 30);
    t.keys(&[ADDRESS, "Enter"]);
    t.wait_for("Your name", 30);
    t.keys(&["Dee Mo", "Enter"]);
    t.wait_for("Password for", 30);
    t.keys(&[&password, "Enter"]);
    t.wait_for("Which one should your mail client use?", 60);
    t.keys(&["Enter"]);
    // The wizard's test message (tests/wizard_pty.rs proves it): not here, where the mailbox
    // must stay as the clients below expect it.
    t.wait_for("Send a test message to yourself", 30);
    t.keys(&["n"]);
    t.wait_for("Write settings for which mail programs?", 30);
    t.keys(&["Enter"]);
    let screen = t.wait_for("Where should your password be kept?", 30);
    // The echo of the choice names the programs only, on one short line.
    let echo = screen
        .lines()
        .find(|l| l.starts_with("Write settings for which mail programs?: "))
        .unwrap_or_else(|| panic!("no echo of the chosen programs:\n{screen}"));
    assert!(!echo.contains("[installed]") && echo.len() < 200, "{echo}");
    for client in [
        "neomutt",
        "mutt",
        "aerc",
        "himalaya",
        "mbsync",
        "msmtp",
        "mpop",
        "fetchmail",
        "getmail",
        "offlineimap",
    ] {
        assert!(echo.contains(client), "{client} not chosen: {echo}");
    }
    t.keys(&["Enter"]);
    let screen = t.wait_for("Write them?", 30);
    assert!(screen.contains("create ~/.mbsyncrc"), "{screen}");
    assert!(
        screen.contains("the system keyring (Secret Service)"),
        "{screen}"
    );
    t.keys(&["y"]);
    t.wait_for("Fetch your mail now with mbsync", 60);
    t.keys(&["y"]);
    let screen = t.wait_for("WIZARD-EXIT=", 120);
    assert!(screen.contains("WIZARD-EXIT=0"), "{screen}");
    assert!(screen.contains("mbsync finished."), "{screen}");
    assert!(
        screen.contains("Password: in the system keyring"),
        "{screen}"
    );
    assert!(screen.contains("Start your mail programs:"), "{screen}");
    assert!(screen.contains(&format!("mbsync {ADDRESS}")), "{screen}");
    assert!(
        !screen.contains(&password),
        "the password was echoed:\n{screen}"
    );
    drop(t);

    let home = d.home.clone();
    let mail = |suffix: &str| home.join(format!("Mail/{ADDRESS}{suffix}"));

    // The keyring holds the password; no written file does, in any encoding.
    let found = d.run_ok(
        "secret-tool",
        &[
            "lookup",
            "service",
            "mailsetup",
            "account",
            ADDRESS,
            "kind",
            "password",
        ],
        "",
    );
    assert_eq!(text(&found.stdout).trim_end(), password);
    scan_for_password(&d, &password);

    // mbsync (its first sync ran from the wizard): INBOX and Sent, under the server's names.
    assert_eq!(maildir_has(&mail("/INBOX"), subject), 1, "mbsync INBOX");
    assert_eq!(
        maildir_has(&mail("/Sent"), "already in Sent"),
        1,
        "mbsync Sent"
    );
    d.run_ok("mbsync", &[ADDRESS], "");
    assert_eq!(maildir_has(&mail("/INBOX"), subject), 1, "mbsync again");

    // msmtp sends; the message arrives and is there over IMAP.
    let before = s.inbox_count(&other);
    d.run_ok(
        "msmtp",
        &["-a", ADDRESS, &other],
        &message(ADDRESS, &other, "sent with the wizard's msmtp config"),
    );
    assert_eq!(
        s.wait_inbox_count(&other, before + 1, Duration::from_secs(20)),
        before + 1
    );

    // The fetchers (mpop over POP3, which is all it speaks; fetchmail and getmail over IMAP),
    // each into its own Maildir; the server keeps the mail.
    // (fetchmail over IMAP fetches unseen mail only, and a POP3 download marks it seen: first.)
    d.run_ok(&bin(), &["fetchmail", "--pidfile", "fetchmail.pid"], "");
    assert_eq!(maildir_has(&mail("-fetchmail"), subject), 1, "fetchmail");
    d.run_ok(
        "getmail",
        &["--rcfile", &format!("getmailrc-{ADDRESS}")],
        "",
    );
    assert_eq!(maildir_has(&mail("-getmail"), subject), 1, "getmail");
    d.run_ok("offlineimap", &["-a", ADDRESS, "-o", "-u", "quiet"], "");
    assert_eq!(
        maildir_has(&mail("-offlineimap/INBOX"), subject),
        1,
        "offlineimap"
    );
    assert_eq!(s.inbox_count(ADDRESS), 1, "the server kept the mail");

    // NeoMutt and Mutt open INBOX without a prompt, with the server's Sent folder as record.
    for program in ["neomutt", "mutt"] {
        mutt_shows(&d, program, "", subject);
        let q = d.run_ok(program, &["-Q", "record"], "");
        assert!(
            text(&q.stdout).contains("Sent"),
            "{program}: {}",
            text(&q.stdout)
        );
    }

    // Himalaya lists the envelopes with its generated file.
    let h = d.run_ok("himalaya", &["envelope", "list", "--account", ADDRESS], "");
    assert!(
        text(&h.stdout).contains(subject),
        "himalaya:\n{}",
        text(&h.stdout)
    );

    // aerc shows the inbox in a terminal.
    let aerc = Tmux::start(&d, "aerc", "aerc");
    aerc.wait_for(subject, 30);
    drop(aerc);
    scan_for_password(&d, &password);
}

#[test]
fn existing_configs_of_another_account_keep_working_and_a_second_run_changes_nothing() {
    let Some(s) = MailStack::start(
        "existing_configs_of_another_account_keep_working_and_a_second_run_changes_nothing",
    ) else {
        return;
    };
    let other = s.get("OTHER_USER").to_string();
    let other_pw = s.get("OTHER_PASSWORD").to_string();
    let d = Desktop::start(&s, false);
    let home = d.home.clone();
    // The other account's own files, as a user wrote them (password inline, mode 0600).
    let muttrc = format!(
        "# my mutt\nset from = \"{other}\"\nset imap_user = \"{other}\"\nset imap_pass = \"{other_pw}\"\n\
         set folder = \"imaps://{HOST}:{}/\"\nset spoolfile = \"+INBOX\"\nset ssl_force_tls = yes\n",
        s.get("IMAPS_PORT")
    );
    let msmtprc = format!(
        "account other\nhost {HOST}\nport {}\ntls on\ntls_starttls off\nauth on\nuser \"{other}\"\n\
         password \"{other_pw}\"\nfrom \"{other}\"\n\naccount default : other\n",
        s.get("SUBMISSIONS_PORT")
    );
    for (name, body) in [(".muttrc", &muttrc), (".msmtprc", &msmtprc)] {
        std::fs::write(home.join(name), body).unwrap();
    }
    for name in [".muttrc", ".msmtprc"] {
        let p = home.join(name);
        assert!(std::process::Command::new("chown")
            .arg("nobody:nogroup")
            .arg(&p)
            .status()
            .unwrap()
            .success());
        assert!(std::process::Command::new("chmod")
            .arg("600")
            .arg(&p)
            .status()
            .unwrap()
            .success());
    }
    s.sendmail(
        ADDRESS,
        &other,
        &message(ADDRESS, &other, "for the other account"),
    );
    s.sendmail(&other, ADDRESS, &message(&other, ADDRESS, "for demo"));
    assert_eq!(s.wait_inbox_count(ADDRESS, 1, Duration::from_secs(20)), 1);

    let pwfile = d.dir().join("pw");
    std::fs::write(&pwfile, format!("{}\n", s.get("PASSWORD"))).unwrap();
    let setup = |pw: &Path| {
        let mut args = vec!["setup", "--yes", "--email", ADDRESS];
        let srv = servers(&s);
        args.extend(srv.iter().map(String::as_str));
        let ca = s.ca_file().display().to_string();
        let pwp = pw.display().to_string();
        args.extend(["--ca-file", &ca, "--password-file", &pwp]);
        args.extend([
            "--store-password",
            "file",
            "--client",
            "mutt",
            "--client",
            "msmtp",
        ]);
        let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        d.run_ok(&bin(), &refs, "")
    };
    // The password file must be readable by the desktop's user.
    std::process::Command::new("chmod")
        .arg("644")
        .arg(&pwfile)
        .status()
        .unwrap();
    let out = setup(&pwfile);
    let shown = text(&out.stdout);
    assert!(shown.contains("change ~/.muttrc"), "{shown}");
    let after_first: Vec<(PathBuf, Vec<u8>)> = d
        .files()
        .into_iter()
        .map(|f| {
            let b = std::fs::read(&f).unwrap();
            (f, b)
        })
        .collect();
    // The user's own lines are all still there, first, unchanged; the old file is kept.
    let now = std::fs::read_to_string(home.join(".muttrc")).unwrap();
    assert!(now.starts_with(&muttrc), "{now}");
    assert_eq!(
        std::fs::read_to_string(home.join(".muttrc.bak")).unwrap(),
        muttrc
    );
    let now = std::fs::read_to_string(home.join(".msmtprc")).unwrap();
    assert!(now.starts_with(&msmtprc), "{now}");
    assert!(!now[msmtprc.len()..].contains("account default"), "{now}");

    // Both accounts work: msmtp sends as either; mutt opens the other account's inbox as
    // before, and demo's when its folder is opened.
    for (account, to) in [("other", ADDRESS.to_string()), (ADDRESS, other.clone())] {
        let before = s.inbox_count(&to);
        d.run_ok(
            "msmtp",
            &["-a", account, &to],
            &message("x@example.test", &to, &format!("via {account}")),
        );
        assert_eq!(
            s.wait_inbox_count(&to, before + 1, Duration::from_secs(20)),
            before + 1
        );
    }
    mutt_shows(&d, "mutt", "", "for the other account");
    let demo_inbox = format!(
        "imaps://demo%40example.test@{HOST}:{}/INBOX",
        s.get("IMAPS_PORT")
    );
    mutt_shows(&d, "mutt", &format!("-f '{demo_inbox}'"), "for demo");

    // A second run for the same account changes no byte anywhere.
    setup(&pwfile);
    for (f, before) in after_first {
        assert_eq!(
            std::fs::read(&f).unwrap(),
            before,
            "{} changed",
            f.display()
        );
    }
}

#[test]
fn setup_yes_with_pass_fetches_over_pop3_and_keeps_the_mail() {
    let Some(s) = MailStack::start("setup_yes_with_pass_fetches_over_pop3_and_keeps_the_mail")
    else {
        return;
    };
    let password = s.get("PASSWORD").to_string();
    let d = Desktop::start(&s, false);
    // A throwaway GnuPG key without passphrase, and `pass init` with it.
    d.run_ok(
        "gpg",
        &[
            "--batch",
            "--passphrase",
            "",
            "--quick-gen-key",
            "mailsetup-test@example.invalid",
            "default",
            "default",
            "never",
        ],
        "",
    );
    d.run_ok("pass", &["init", "mailsetup-test@example.invalid"], "");
    let subject = "marker for pass";
    s.sendmail(
        s.get("OTHER_USER"),
        ADDRESS,
        &message(s.get("OTHER_USER"), ADDRESS, subject),
    );
    assert_eq!(s.wait_inbox_count(ADDRESS, 1, Duration::from_secs(20)), 1);
    let pwfile = d.dir().join("pw");
    std::fs::write(&pwfile, format!("{password}\n")).unwrap();
    std::process::Command::new("chmod")
        .arg("644")
        .arg(&pwfile)
        .status()
        .unwrap();
    let mut args: Vec<String> = ["setup", "--yes", "--prefer", "pop3", "--email", ADDRESS]
        .iter()
        .map(|s| s.to_string())
        .collect();
    args.extend(servers(&s));
    args.extend(
        [
            "--ca-file",
            &s.ca_file().display().to_string(),
            "--password-file",
            &pwfile.display().to_string(),
            "--store-password",
            "pass",
            "--client",
            "mpop",
            "--client",
            "fetchmail",
            "--client",
            "getmail",
        ]
        .iter()
        .map(|s| s.to_string()),
    );
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = d.run_ok(&bin(), &refs, "");
    assert!(
        text(&out.stdout).contains("Password: in the pass password store"),
        "{}",
        text(&out.stdout)
    );
    let shown = d.run_ok("pass", &["show", &format!("mail/{ADDRESS}")], "");
    assert_eq!(text(&shown.stdout).trim_end(), password);

    let mail = |c: &str| d.home.join(format!("Mail/{ADDRESS}-{c}"));
    d.run_ok("mpop", &[ADDRESS], "");
    d.run_ok(&bin(), &["fetchmail", "--pidfile", "fetchmail.pid"], "");
    d.run_ok(
        "getmail",
        &["--rcfile", &format!("getmailrc-{ADDRESS}")],
        "",
    );
    for c in ["mpop", "fetchmail", "getmail"] {
        assert_eq!(maildir_has(&mail(c), subject), 1, "{c}");
    }
    let rc = std::fs::read_to_string(d.home.join(".fetchmailrc")).unwrap();
    assert!(rc.contains("protocol POP3"), "{rc}");
    assert_eq!(
        s.inbox_count(ADDRESS),
        1,
        "POP3 keep: the server still has the mail"
    );
    scan_for_password(&d, &password);
}

#[test]
fn password_command_exit_codes() {
    let Some(s) = MailStack::start("password_command_exit_codes") else {
        return;
    };
    let d = Desktop::start(&s, true);
    let b = bin();
    let get = |store: &str| d.run(&b, &["password", "get", "--store", store, ADDRESS], "");
    assert_eq!(get("keyring").status.code(), Some(3), "absent");
    d.run_ok(
        &b,
        &["password", "set", "--store", "keyring", ADDRESS],
        "s3cret pw\n",
    );
    let out = get("keyring");
    assert_eq!(
        (out.status.code(), text(&out.stdout)),
        (Some(0), "s3cret pw\n".to_string())
    );
    // Without --store every usable store is asked.
    assert_eq!(
        text(&d.run_ok(&b, &["password", "get", ADDRESS], "").stdout),
        "s3cret pw\n"
    );
    d.run_ok(&b, &["password", "delete", ADDRESS], "");
    assert_eq!(get("keyring").status.code(), Some(3), "deleted");
    // The file store: mode 0600, and the secret is nowhere else.
    d.run_ok(
        &b,
        &["password", "set", "--store", "file", ADDRESS],
        "file pw\n",
    );
    assert_eq!(text(&get("file").stdout), "file pw\n");
    // No D-Bus session: the keyring is unavailable (4), not a hang.
    let nobus = Desktop::start(&s, false);
    let out = nobus.run(&b, &["password", "get", "--store", "keyring", ADDRESS], "");
    assert_eq!(out.status.code(), Some(4), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("D-Bus"), "{}", text(&out.stderr));
    // pass not initialised: unavailable too.
    let out = nobus.run(&b, &["password", "get", "--store", "pass", ADDRESS], "");
    assert_eq!(out.status.code(), Some(4), "{}", text(&out.stderr));
}

/// `check --json` against a server that names its folders this way.
fn folders_of(profile: &str) -> (MailStack, serde_json::Value) {
    let s = MailStack::start_with_env(
        &format!("folders_{profile}"),
        &[("MAILSTACK_FOLDERS", profile)],
    )
    .expect("stack");
    let pwfile = s.dir().join("demo.pw");
    std::fs::write(&pwfile, s.get("PASSWORD")).unwrap();
    let url = format!("imaps://{HOST}:{}", s.get("IMAPS_PORT"));
    let smtp = format!("smtps://{HOST}:{}", s.get("SUBMISSIONS_PORT"));
    let c1 = format!(
        "{HOST}:{}:127.0.0.1:{}",
        s.get("IMAPS_PORT"),
        s.get("IMAPS_PORT")
    );
    let c2 = format!(
        "{HOST}:{}:127.0.0.1:{}",
        s.get("SUBMISSIONS_PORT"),
        s.get("SUBMISSIONS_PORT")
    );
    let run = support::run::mailsetup(
        &[
            "check",
            ADDRESS,
            "--server",
            &url,
            "--server",
            &smtp,
            "--connect-to",
            &c1,
            "--connect-to",
            &c2,
            "--ca-file",
            &s.ca_file().display().to_string(),
            "--password-file",
            &pwfile.display().to_string(),
            "--json",
        ],
        &[],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let json = run.json();
    assert_eq!(
        json["recommended"]["folders"], json["folders"],
        "carried into the settings"
    );
    (s, json["folders"].clone())
}

fn folder(f: &serde_json::Value, role: &str) -> (String, String, String) {
    let v = &f[role];
    (
        v["raw"].as_str().unwrap_or_default().to_string(),
        v["name"].as_str().unwrap_or_default().to_string(),
        v["found_by"].as_str().unwrap_or_default().to_string(),
    )
}

#[test]
fn folders_under_other_names_are_found_by_special_use_or_by_name() {
    if std::process::Command::new("dovecot")
        .arg("--version")
        .output()
        .is_err()
        && std::env::var("MAILSETUP_REQUIRE_STACK").as_deref() != Ok("1")
    {
        eprintln!("SKIPPED folders test: no dovecot");
        return;
    }
    let (_s, f) = folders_of("sent-messages");
    assert_eq!(
        folder(&f, "sent"),
        (
            "Sent Messages".into(),
            "Sent Messages".into(),
            "special-use".into()
        )
    );
    assert_eq!(folder(&f, "trash").0, "Deleted Messages");
    let (_s, f) = folders_of("german");
    assert_eq!(
        folder(&f, "sent"),
        ("Gesendet".into(), "Gesendet".into(), "special-use".into())
    );
    assert_eq!(
        folder(&f, "drafts"),
        (
            "Entw&APw-rfe".into(),
            "Entwürfe".into(),
            "special-use".into()
        )
    );
    assert_eq!(folder(&f, "archive").0, "Archiv");
    let (_s, f) = folders_of("no-special-use");
    assert_eq!(
        folder(&f, "sent"),
        ("Sent Items".into(), "Sent Items".into(), "name".into())
    );
    assert_eq!(folder(&f, "trash").0, "Deleted Items");
    assert_eq!(folder(&f, "junk").0, "Junk E-mail");
}

#[test]
fn gmail_style_hierarchy_is_mapped_in_mbsync_and_neomutt() {
    let Some(s) = MailStack::start_with_env(
        "gmail_style_hierarchy_is_mapped_in_mbsync_and_neomutt",
        &[("MAILSTACK_FOLDERS", "gmail")],
    ) else {
        return;
    };
    s.save(
        ADDRESS,
        "[Gmail]/Sent Mail",
        &message(ADDRESS, "x@example.test", "sent from the web"),
    );
    // setup --yes with the keyring, no terminal.
    let d = Desktop::start(&s, true);
    let pwfile = d.dir().join("pw");
    std::fs::write(&pwfile, format!("{}\n", s.get("PASSWORD"))).unwrap();
    std::process::Command::new("chmod")
        .arg("644")
        .arg(&pwfile)
        .status()
        .unwrap();
    let mut args: Vec<String> = ["setup", "--yes", "--email", ADDRESS]
        .iter()
        .map(|s| s.to_string())
        .collect();
    args.extend(servers(&s));
    args.extend(
        [
            "--ca-file",
            &s.ca_file().display().to_string(),
            "--password-file",
            &pwfile.display().to_string(),
            "--store-password",
            "keyring",
            "--client",
            "mbsync",
            "--client",
            "neomutt",
        ]
        .iter()
        .map(|s| s.to_string()),
    );
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    d.run_ok(&bin(), &refs, "");
    d.run_ok("mbsync", &[ADDRESS], "");
    assert_eq!(
        maildir_has(
            &d.home.join(format!("Mail/{ADDRESS}/Sent")),
            "sent from the web"
        ),
        1,
        "[Gmail]/Sent Mail is synced into the local Sent"
    );
    let q = d.run_ok("neomutt", &["-Q", "record"], "");
    assert!(
        text(&q.stdout).contains("[Gmail]/Sent Mail"),
        "{}",
        text(&q.stdout)
    );
}

#[test]
fn write_install_with_the_file_store_sends_with_msmtp() {
    let Some(s) = MailStack::start("write_install_with_the_file_store_sends_with_msmtp") else {
        return;
    };
    let d = Desktop::start(&s, false);
    let password = s.get("PASSWORD").to_string();
    let other = s.get("OTHER_USER").to_string();
    let smtps = format!("smtps://{HOST}:{}", s.get("SUBMISSIONS_PORT"));
    let imaps = format!("imaps://{HOST}:{}", s.get("IMAPS_PORT"));
    // The password on stdin (--password-file -), never in argv.
    let out = d.run_ok(
        &bin(),
        &[
            "write",
            "msmtp",
            "--email",
            ADDRESS,
            "--server",
            &imaps,
            "--server",
            &smtps,
            "--password-file",
            "-",
            "--store-password",
            "file",
            "--install",
        ],
        &format!("{password}\n"),
    );
    let shown = text(&out.stdout);
    assert!(shown.contains("created ~/.config/msmtp/config"), "{shown}");
    let secret = d
        .home
        .join(format!(".local/share/mailsetup/secrets/password/{ADDRESS}"));
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&secret).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let rc = std::fs::read_to_string(d.home.join(".config/msmtp/config")).unwrap();
    assert!(
        rc.contains("password get --store file demo@example.test"),
        "{rc}"
    );
    let before = s.inbox_count(&other);
    d.run_ok(
        "msmtp",
        &["-a", ADDRESS, &other],
        &message(ADDRESS, &other, "via write --install"),
    );
    assert_eq!(
        s.wait_inbox_count(&other, before + 1, Duration::from_secs(20)),
        before + 1
    );
    // Only the chosen secret file holds the password.
    for f in d.files().into_iter().filter(|f| *f != secret) {
        assert_no_secret(
            &f.display().to_string(),
            &std::fs::read(&f).unwrap(),
            ADDRESS,
            &password,
        );
    }
}

/// Issue 14, item 5: an account whose login name is only the local part (`gus`, address
/// `gus@example.test`; the server refuses the full address). Without `--username`, `check`
/// tries the full address, then the local part once, reports the form that worked and
/// recommends it; `setup --yes` writes it, and mbsync and msmtp then work untouched.
#[test]
fn a_login_name_that_is_only_the_local_part_is_found_and_written() {
    let Some(s) = MailStack::start("a_login_name_that_is_only_the_local_part_is_found_and_written")
    else {
        return;
    };
    let address = s.get("LOCAL_ADDRESS").to_string();
    let login = s.get("LOCAL_LOGIN").to_string();
    let password = s.get("LOCAL_PASSWORD").to_string();
    let other = s.get("OTHER_USER").to_string();
    let d = Desktop::start(&s, false);
    let ca = s.ca_file().display().to_string();
    let srv = servers(&s);

    let mut args = vec!["check", &address, "--ca-file", &ca, "--password-file", "-"];
    args.extend(srv.iter().map(String::as_str));
    args.push("--json");
    let out = d.run_ok(&bin(), &args, &format!("{password}\n"));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    for e in json["endpoints"].as_array().unwrap() {
        let l = &e["login"];
        assert_eq!(l["status"], "ok", "{e}");
        assert_eq!(l["username"], login.as_str(), "{e}");
        let attempts = l["attempts"].as_array().unwrap();
        // The full address first (each offered method refused), then the local part once.
        let (last, first) = attempts.split_last().unwrap();
        assert!(!first.is_empty(), "{l}");
        assert!(
            first
                .iter()
                .all(|a| a["status"] == "failed" && a.get("username").is_none()),
            "{l}"
        );
        assert_eq!(last["status"], "ok", "{l}");
        assert_eq!(last["username"], login.as_str(), "{l}");
        assert!(
            e["problems"]
                .as_array()
                .unwrap()
                .iter()
                .any(|p| p["code"] == "login-username-local-part"),
            "{e}"
        );
    }
    let rec = &json["recommended"];
    assert_eq!(rec["verified"], true, "{rec}");
    assert_eq!(rec["incoming"]["username"], login.as_str(), "{rec}");
    assert_eq!(rec["outgoing"]["username"], login.as_str(), "{rec}");

    // setup --yes writes that form; the clients work with nothing else done.
    let mut args = vec!["setup", "--yes", "--email", &address, "--ca-file", &ca];
    args.extend(srv.iter().map(String::as_str));
    args.extend([
        "--password-file",
        "-",
        "--store-password",
        "file",
        "--client",
        "mbsync",
        "--client",
        "msmtp",
    ]);
    d.run_ok(&bin(), &args, &format!("{password}\n"));
    let mbsyncrc = std::fs::read_to_string(d.home.join(".mbsyncrc")).unwrap();
    assert!(
        mbsyncrc.contains(&format!("User \"{login}\"\n")),
        "{mbsyncrc}"
    );
    // (Postfix delivers by address, and this account's mailbox is known by its login only.)
    s.save(&login, "INBOX", &message(&other, &address, "for gus"));
    assert_eq!(s.inbox_count(&login), 1);
    d.run_ok("mbsync", &[&address], "");
    assert_eq!(
        maildir_has(&d.home.join(format!("Mail/{address}/INBOX")), "for gus"),
        1,
        "mbsync fetched as {login}"
    );
    let before = s.inbox_count(&other);
    d.run_ok(
        "msmtp",
        &["-a", &address, &other],
        &message(&address, &other, "from gus"),
    );
    assert_eq!(
        s.wait_inbox_count(&other, before + 1, Duration::from_secs(20)),
        before + 1
    );
}
