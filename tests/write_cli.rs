//! `mailsetup write` and `check --write`: where settings come from, and how files are written
//! (atomic, never over an existing file without --force, secrets mode 0600).

mod support;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use support::run::mailsetup;
use support::stack::MailStack;

const SERVERS: [&str; 4] = [
    "--server",
    "imaps://mail.example.test",
    "--server",
    "smtps://mail.example.test",
];

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

#[test]
fn writes_from_server_urls_and_refuses_to_overwrite() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().to_str().unwrap();
    let mut args = vec![
        "write",
        "mbsync",
        "msmtp",
        "aerc",
        "--email",
        "me@example.test",
        "--out",
        out,
    ];
    args.extend(SERVERS);
    let r = mailsetup(&args, &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let mbsyncrc = dir.path().join("mbsync/mbsyncrc");
    let text = std::fs::read_to_string(&mbsyncrc).unwrap();
    assert!(
        text.contains("Host mail.example.test") && text.contains("SSLType IMAPS"),
        "{text}"
    );
    assert!(
        text.contains("PassCmd \"pass show mail/me@example.test\""),
        "{text}"
    );
    assert!(
        r.stderr.contains("pass insert mail/me@example.test"),
        "the suggested password command is explained: {}",
        r.stderr
    );
    // aerc's file is always private; files without secrets are not.
    assert_eq!(mode(&dir.path().join("aerc/accounts.conf")), 0o600);
    assert_eq!(mode(&mbsyncrc), 0o644);

    // Again: refused, and nothing changes.
    std::fs::write(&mbsyncrc, "my own edits\n").unwrap();
    let r = mailsetup(&args, &[]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("already exists") && r.stderr.contains("--force"),
        "{}",
        r.stderr
    );
    assert_eq!(
        std::fs::read_to_string(&mbsyncrc).unwrap(),
        "my own edits\n"
    );

    // --force replaces it and keeps the old one.
    args.push("--force");
    let r = mailsetup(&args, &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        std::fs::read_to_string(dir.path().join("mbsync/mbsyncrc.bak")).unwrap(),
        "my own edits\n"
    );
    assert!(std::fs::read_to_string(&mbsyncrc)
        .unwrap()
        .contains("SSLType IMAPS"));
}

#[test]
fn embedded_password_makes_the_file_private() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().to_str().unwrap();
    let mut args = vec![
        "write",
        "msmtp",
        "--email",
        "me@example.test",
        "--out",
        out,
        "--embed-password",
        "--password-env",
        "PW",
    ];
    args.extend(SERVERS);
    let r = mailsetup(&args, &[("PW", "Embed-Me-42")]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let f = dir.path().join("msmtp/msmtprc");
    assert!(std::fs::read_to_string(&f).unwrap().contains("Embed-Me-42"));
    assert_eq!(mode(&f), 0o600);
    assert!(!r.stdout.contains("Embed-Me-42") && !r.stderr.contains("Embed-Me-42"));
}

#[test]
fn dry_run_and_stdout_write_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("x");
    let mut args = vec![
        "write",
        "fetchmail",
        "--email",
        "me@example.test",
        "--out",
        out.to_str().unwrap(),
        "--dry-run",
    ];
    args.extend([
        "--server",
        "pop3s://pop.example.test",
        "--server",
        "smtp://smtp.example.test",
    ]);
    let r = mailsetup(&args, &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout.contains("would write") && r.stdout.contains("keep"),
        "{}",
        r.stdout
    );
    assert!(
        r.stderr.to_lowercase().contains("storage"),
        "the POP3 storage warning is shown: {}",
        r.stderr
    );
    assert!(!out.exists());
    let mut args = vec![
        "write",
        "fetchmail",
        "--email",
        "me@example.test",
        "--out",
        "-",
        "--pop3-delete",
    ];
    args.extend([
        "--server",
        "pop3s://pop.example.test",
        "--server",
        "smtp://smtp.example.test",
    ]);
    let r = mailsetup(&args, &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout.contains("poll \"pop.example.test\"") && r.stdout.contains("nokeep"),
        "{}",
        r.stdout
    );
    assert!(r.stderr.contains("deleted from the server"), "{}", r.stderr);
}

#[test]
fn bad_input_is_refused_with_a_reason() {
    let r = mailsetup(
        &[
            "write",
            "nosuchclient",
            "--email",
            "a@b.test",
            "--server",
            "imaps://h",
            "--server",
            "smtps://h",
        ],
        &[],
    );
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("--list"), "{}", r.stderr);
    let r = mailsetup(&["write", "mbsync"], &[]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("--from") && r.stderr.contains("--email"),
        "{}",
        r.stderr
    );
    // A display name with a control character is refused, not written.
    let dir = tempfile::tempdir().unwrap();
    let mut args = vec![
        "write",
        "neomutt",
        "--email",
        "a@b.test",
        "--name",
        "Evil\u{7}Name",
        "--out",
        dir.path().to_str().unwrap(),
    ];
    args.extend(SERVERS);
    let r = mailsetup(&args, &[]);
    assert_eq!(r.code, 2, "{}", r.stdout);
    assert!(r.stderr.contains("refusing"), "{}", r.stderr);
    assert!(
        std::fs::read_dir(dir.path()).unwrap().next().is_none(),
        "nothing written"
    );
}

#[test]
fn from_a_saved_check_report_and_check_write() {
    let Some(s) = MailStack::start("from_a_saved_check_report_and_check_write") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let ca = s.ca_file().to_str().unwrap().to_string();
    let mut check: Vec<String> = [
        "check",
        s.get("USER"),
        "--password-env",
        "PW",
        "--ca-file",
        &ca,
        "--json",
    ]
    .iter()
    .map(|a| a.to_string())
    .collect();
    for u in ["imaps", "pop3s", "smtps"] {
        check.extend(["--server".into(), format!("{u}://mail.example.test")]);
    }
    check.extend(s.connect_to_args("mail.example.test"));
    let refs: Vec<&str> = check.iter().map(String::as_str).collect();
    let r = mailsetup(&refs, &[("PW", s.get("PASSWORD"))]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let report = dir.path().join("report.json");
    std::fs::write(&report, &r.stdout).unwrap();

    let out = dir.path().join("cfg");
    let w = mailsetup(
        &[
            "write",
            "thunderbird",
            "msmtp",
            "--from",
            report.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(w.code, 0, "{}", w.stderr);
    let tb = std::fs::read_to_string(out.join("thunderbird/config-v1.1.xml")).unwrap();
    assert!(
        tb.contains("<hostname>mail.example.test</hostname>") && tb.contains("<port>993</port>"),
        "{tb}"
    );
    assert!(tb.contains("<socketType>SSL</socketType>"));

    // check --write: the same in one step, only after a successful check.
    let out2 = dir.path().join("cfg2");
    let mut refs2 = refs.clone();
    refs2.retain(|a| *a != "--json");
    refs2.extend(["--write", "mbsync", "--out", out2.to_str().unwrap()]);
    let r = mailsetup(&refs2, &[("PW", s.get("PASSWORD"))]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(out2.join("mbsync/mbsyncrc").exists());
    // A failed check writes nothing.
    let out3 = dir.path().join("cfg3");
    let mut refs3 = refs.clone();
    refs3.retain(|a| *a != "--json");
    refs3.extend(["--write", "mbsync", "--out", out3.to_str().unwrap()]);
    let r = mailsetup(&refs3, &[("PW", "wrong")]);
    assert_eq!(r.code, 1);
    assert!(!out3.exists(), "no configs from a failed check");
    assert!(r.stderr.contains("not writing"), "{}", r.stderr);
}
