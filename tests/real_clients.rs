//! Real mail clients against the real local stack (issue 5, first acceptance point): each
//! client runs with only the file `mailsetup write` generated plus the password command, and
//! the test checks what a user would see — mail in the local Maildir, mail still on the POP3
//! server, a sent message in the recipient's IMAP inbox, the inbox on the mutt screen.
//!
//! How every client is run (`Client`):
//! - inside a private mount namespace (`unshare --mount`), where
//!   /etc/ssl/certs/ca-certificates.crt is the system bundle plus the stack's test CA (GnuTLS
//!   clients read that file; OpenSSL's default file /usr/lib/ssl/cert.pem and Python's
//!   default both point at it) and /etc/hosts also maps mail.example.test to 127.0.0.1. The
//!   generated files name mail.example.test: isync 1.4 does not match IP addresses in a
//!   certificate. Nothing outside the namespace changes, and the generated file is not touched;
//! - with the environment cleared, a fresh HOME (the `~/Mail/demo` Maildir lands there),
//!   stdin from /dev/null (or the message to send) and under `timeout`;
//! - NeoMutt and Mutt have no batch mode for reading (with stdin not a terminal they try to
//!   send mail), so they run in a pseudo-terminal (`script`) with `-e 'push <quit>'`: the
//!   inbox index must appear with the marker subject, and any prompt fails the test.
//!
//! Every non-interactive client is also run once without the test CA and must refuse: the
//! generated file keeps certificate verification on.
//!
//! The tests skip (loudly) when the stack can't run here; the clients are installed by
//! `scripts/install-test-deps` and a missing one is a failure.

mod support;

use std::ffi::{OsStr, OsString};
use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use support::run::mailsetup;
use support::stack::MailStack;

/// The host name the generated files name (resolved to 127.0.0.1 inside the sandbox).
const HOST: &str = "mail.example.test";
/// The CA bundle GnuTLS, OpenSSL and Python read on Debian.
const SYSTEM_BUNDLE: &str = "/etc/ssl/certs/ca-certificates.crt";
/// The Maildir given to `mailsetup write --maildir`, below the client's HOME.
const MAILDIR: &str = "~/Mail/demo";
/// Bound for one client run; a client waiting at a prompt is killed after it.
const CLIENT_TIMEOUT_SECS: u32 = 60;
/// Bound for NeoMutt/Mutt in a terminal (they wait at a prompt forever).
const TERMINAL_TIMEOUT_SECS: u32 = 20;
/// Bound for a message to reach a Dovecot mailbox.
const DELIVERY_TIMEOUT: Duration = Duration::from_secs(20);
/// Run by `sh -c` in the new mount namespace: $1 = CA bundle ("-": leave the system's),
/// $2 = hosts file, then the command.
const SANDBOX_SH: &str = r#"set -e
if [ "$1" != - ]; then mount --bind "$1" /etc/ssl/certs/ca-certificates.crt; fi
mount --bind "$2" /etc/hosts
shift 2
exec "$@""#;

// ---------------------------------------------------------------------------- the world

/// One test's stack plus its sandbox files: the password file, the CA bundle, the hosts
/// file, the generated configs (`cfg-TAG/`) and the clients' homes (`home-TAG/`).
struct World {
    stack: MailStack,
    dir: tempfile::TempDir,
}

impl World {
    /// Starts the stack (None: skipped, the notice is printed) and prepares the sandbox.
    fn start(test_name: &str) -> Option<World> {
        let stack = MailStack::start(test_name)?;
        // Readable by `nobody` (getmail6 refuses to run as root).
        let dir = tempfile::Builder::new()
            .prefix("rc")
            .tempdir_in("/tmp")
            .expect("create the sandbox dir");
        set_mode(dir.path(), 0o755);

        let password = format!("{}\n", stack.get("PASSWORD"));
        let system = std::fs::read_to_string(SYSTEM_BUNDLE)
            .unwrap_or_else(|e| panic!("read the system CA bundle {SYSTEM_BUNDLE}: {e}"));
        let ca = read(&stack.ca_file());
        let hosts = std::fs::read_to_string("/etc/hosts").unwrap_or_default();
        for (name, text) in [
            ("password", password),
            ("ca-bundle.crt", format!("{system}\n{ca}")),
            ("hosts", format!("{hosts}\n127.0.0.1 {HOST}\n")),
        ] {
            let path = dir.path().join(name);
            std::fs::write(&path, text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            set_mode(&path, 0o644);
        }
        Some(World { stack, dir })
    }

    fn user(&self) -> &str {
        self.stack.get("USER")
    }

    fn other_user(&self) -> &str {
        self.stack.get("OTHER_USER")
    }

    fn password_command(&self) -> String {
        format!("cat {}", self.dir.path().join("password").display())
    }

    /// `SCHEME://mail.example.test:PORT` for one of the stack's ports.
    fn url(&self, scheme: &str, port_key: &str) -> String {
        format!("{scheme}://{HOST}:{}", self.stack.port(port_key))
    }

    /// `mailsetup write CLIENTS --email demo@… --server … --password-command … --maildir
    /// ~/Mail/demo --out cfg-TAG`; must succeed.
    fn write(&self, tag: &str, clients: &[&str], servers: &[String]) -> Written {
        let out = self.dir.path().join(format!("cfg-{tag}"));
        let password_command = self.password_command();
        let mut args: Vec<&str> = vec!["write"];
        args.extend_from_slice(clients);
        args.extend(["--email", self.user()]);
        for server in servers {
            args.extend(["--server", server.as_str()]);
        }
        args.extend(["--password-command", &password_command]);
        args.extend(["--maildir", MAILDIR, "--out", out.to_str().unwrap()]);
        let run = mailsetup(&args, &[]);
        assert_eq!(
            run.code, 0,
            "mailsetup {args:?} failed:\n{}\n{}",
            run.stdout, run.stderr
        );
        Written {
            dir: out,
            notes: run.stderr,
        }
    }

    /// `SCHEME://mail.example.test:PORT` on the stack's "encrypted password only" Dovecot.
    fn enc_url(&self, scheme: &str, port_key: &str) -> String {
        self.url(scheme, &format!("ENC_{port_key}"))
    }

    /// `mailsetup check demo@… --server … --prefer PREFER --json` (the stack's host mapped to
    /// loopback with --connect-to, its CA trusted); must succeed. Returns the saved report.
    fn check_report(&self, tag: &str, prefer: &str, servers: &[String]) -> PathBuf {
        let ca = self.stack.ca_file();
        let addr = self.stack.get("ADDR");
        let mut args: Vec<String> = vec![
            "check".into(),
            self.user().into(),
            "--password-command".into(),
            self.password_command(),
            "--prefer".into(),
            prefer.into(),
            "--ca-file".into(),
            ca.to_str().unwrap().into(),
            "--json".into(),
        ];
        for server in servers {
            let port = server.rsplit(':').next().unwrap();
            args.extend(["--server".into(), server.clone()]);
            args.extend([
                "--connect-to".into(),
                format!("{HOST}:{port}:{addr}:{port}"),
            ]);
        }
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        let run = mailsetup(&refs, &[]);
        assert_eq!(
            run.code, 0,
            "mailsetup {args:?} failed:\n{}\n{}",
            run.stdout, run.stderr
        );
        let path = self.dir.path().join(format!("report-{tag}.json"));
        std::fs::write(&path, &run.stdout).unwrap();
        path
    }

    /// `mailsetup write CLIENTS --from REPORT --password-command … --maildir ~/Mail/demo --out
    /// cfg-TAG`; must succeed.
    fn write_from(&self, tag: &str, clients: &[&str], report: &Path) -> Written {
        let out = self.dir.path().join(format!("cfg-{tag}"));
        let password_command = self.password_command();
        let mut args: Vec<&str> = vec!["write"];
        args.extend_from_slice(clients);
        args.extend(["--from", report.to_str().unwrap()]);
        args.extend(["--password-command", &password_command]);
        args.extend(["--maildir", MAILDIR, "--out", out.to_str().unwrap()]);
        let run = mailsetup(&args, &[]);
        assert_eq!(
            run.code, 0,
            "mailsetup {args:?} failed:\n{}\n{}",
            run.stdout, run.stderr
        );
        Written {
            dir: out,
            notes: run.stderr,
        }
    }

    /// Every login the "encrypted password only" Dovecot logged used CRAM-MD5; returns how
    /// many there were.
    fn enc_logins_all_cram_md5(&self) -> usize {
        let log = read(Path::new(self.stack.get("ENC_DOVECOT_LOG")));
        let logins: Vec<&str> = log.lines().filter(|l| l.contains("Login: user=")).collect();
        assert!(
            logins.iter().all(|l| l.contains("method=CRAM-MD5")),
            "a login without CRAM-MD5:\n{log}"
        );
        logins.len()
    }

    /// A fresh, empty HOME for one client run.
    fn home(&self, tag: &str) -> PathBuf {
        let home = self.dir.path().join(format!("home-{tag}"));
        std::fs::create_dir(&home).unwrap_or_else(|e| panic!("{}: {e}", home.display()));
        home
    }

    /// Puts a message with `subject` into demo@'s INBOX (local Postfix injection) and waits
    /// until Dovecot has it.
    fn deliver_to_demo(&self, subject: &str) {
        let (from, to) = (self.other_user(), self.user());
        let before = self.stack.inbox_count(to);
        self.stack.sendmail(from, to, &message(from, to, subject));
        let n = self
            .stack
            .wait_inbox_count(to, before + 1, DELIVERY_TIMEOUT);
        assert_eq!(
            n,
            before + 1,
            "test message not delivered to {to}:\n{}",
            self.stack.log_tail(20)
        );
    }

    /// The message is still on the POP3 server after the client ran (keep).
    fn assert_still_on_server(&self, what: &str) {
        assert_eq!(
            self.stack.inbox_count(self.user()),
            1,
            "{what}: the message is no longer on the server (keep not honoured):\n{}",
            self.stack.log_tail(20)
        );
    }
}

/// The files one `mailsetup write` produced.
struct Written {
    dir: PathBuf,
    /// What mailsetup printed on stderr (the notes for the user).
    notes: String,
}

impl Written {
    /// `DIR/CLIENT/FILE`, which must exist.
    fn file(&self, rel: &str) -> PathBuf {
        let path = self.dir.join(rel);
        assert!(
            path.is_file(),
            "mailsetup did not write {}; notes:\n{}",
            path.display(),
            self.notes
        );
        path
    }
}

fn message(from: &str, to: &str, subject: &str) -> String {
    format!("From: {from}\nTo: {to}\nSubject: {subject}\n\nWritten by tests/real_clients.rs.\n")
}

// ---------------------------------------------------------------------------- the runner

/// One run of a real client in the sandbox (see the file comment).
struct Client<'w> {
    world: &'w World,
    program: &'static str,
    args: Vec<OsString>,
    home: PathBuf,
    input: Vec<u8>,
    trust_test_ca: bool,
    as_nobody: bool,
    in_terminal: bool,
    timeout_secs: u32,
}

/// What a client run printed and how it ended.
struct Outcome {
    command: String,
    code: i32,
    stdout: String,
    stderr: String,
}

impl<'w> Client<'w> {
    fn new(world: &'w World, program: &'static str, home: &Path) -> Self {
        Client {
            world,
            program,
            args: Vec::new(),
            home: home.to_path_buf(),
            input: Vec::new(),
            trust_test_ca: true,
            as_nobody: false,
            in_terminal: false,
            timeout_secs: CLIENT_TIMEOUT_SECS,
        }
    }

    fn arg(mut self, arg: impl AsRef<OsStr>) -> Self {
        self.args.push(arg.as_ref().to_os_string());
        self
    }

    /// Bytes on the client's stdin (default: none, i.e. EOF at once).
    fn input(mut self, input: &str) -> Self {
        self.input = input.as_bytes().to_vec();
        self
    }

    /// Leave the system CA bundle as it is: the stack's certificate is then untrusted.
    fn without_test_ca(mut self) -> Self {
        self.trust_test_ca = false;
        self
    }

    /// Run as `nobody`; HOME is handed over to it first.
    fn run_as_nobody(mut self) -> Self {
        self.as_nobody = true;
        self
    }

    /// Run in a pseudo-terminal (`script`), bounded by TERMINAL_TIMEOUT_SECS; stdout then is
    /// the terminal output.
    fn in_terminal(mut self) -> Self {
        self.in_terminal = true;
        self.timeout_secs = TERMINAL_TIMEOUT_SECS;
        self
    }

    fn run(&self) -> Outcome {
        assert!(
            program_exists(self.program),
            "{} is not installed: run scripts/install-test-deps (as root)",
            self.program
        );
        let dir = self.world.dir.path();
        let mut cmd = Command::new("timeout");
        cmd.args(["--kill-after=5", &self.timeout_secs.to_string()])
            .args(["unshare", "--mount", "--propagation", "private"])
            .args(["sh", "-c", SANDBOX_SH, "sh"]);
        if self.trust_test_ca {
            cmd.arg(dir.join("ca-bundle.crt"));
        } else {
            cmd.arg("-");
        }
        cmd.arg(dir.join("hosts"));
        if self.as_nobody {
            let status = Command::new("chown")
                .args(["-R", "nobody:"])
                .arg(&self.home)
                .status()
                .expect("run chown");
            assert!(status.success(), "chown -R nobody: {}", self.home.display());
            cmd.args([
                "setpriv",
                "--reuid=nobody",
                "--regid=nogroup",
                "--clear-groups",
            ]);
        }
        let mut words: Vec<OsString> = vec![self.program.into()];
        words.extend(self.args.iter().cloned());
        let command = words
            .iter()
            .map(|w| sh_quote(&w.to_string_lossy()))
            .collect::<Vec<_>>()
            .join(" ");
        if self.in_terminal {
            // -e: exit with the client's status; the typescript itself goes nowhere.
            cmd.args(["script", "-q", "-e", "-c", &command, "/dev/null"]);
        } else {
            cmd.args(&words);
        }
        cmd.env_clear()
            .env(
                "PATH",
                "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            )
            .env("HOME", &self.home)
            .env("TERM", "xterm")
            .env("LANG", "C.UTF-8")
            .current_dir(&self.home)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());

        let start = Instant::now();
        let mut child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("spawn {command}: {e}"));
        let mut stdin = child.stdin.take().unwrap();
        let input = self.input.clone();
        // From a thread: a client that does not read must not block us.
        let writer = std::thread::spawn(move || {
            let _ = stdin.write_all(&input);
        });
        let out = child
            .wait_with_output()
            .unwrap_or_else(|e| panic!("wait for {command}: {e}"));
        let _ = writer.join();
        let outcome = Outcome {
            command: format!(
                "{command}  (HOME={}{}{}{})",
                self.home.display(),
                if self.trust_test_ca {
                    ""
                } else {
                    ", test CA NOT trusted"
                },
                if self.as_nobody { ", as nobody" } else { "" },
                if self.in_terminal { ", in a pty" } else { "" }
            ),
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        };
        // timeout(1) exits 124 (137 after the KILL) when the bound was reached.
        assert!(
            !matches!(outcome.code, 124 | 137),
            "timed out after {:?} (waiting at a prompt?):\n{}",
            start.elapsed(),
            outcome.describe()
        );
        outcome
    }
}

impl Outcome {
    fn ok(&self) -> bool {
        self.code == 0
    }

    fn describe(&self) -> String {
        format!(
            "$ {}\nexit status {}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.command, self.code, self.stdout, self.stderr
        )
    }

    fn assert_ok(self, world: &World) -> Self {
        assert!(
            self.ok(),
            "client failed:\n{}\n{}",
            self.describe(),
            world.stack.log_tail(15)
        );
        self
    }

    /// The run failed, and because of the certificate.
    fn assert_refused_certificate(&self) {
        assert!(
            !self.ok(),
            "the client succeeded without trusting the test CA: certificate verification is off:\n{}",
            self.describe()
        );
        let all = format!("{}{}", self.stdout, self.stderr).to_lowercase();
        assert!(
            all.contains("certificate"),
            "the client failed without the test CA, but not for the certificate:\n{}",
            self.describe()
        );
    }
}

/// Runs `client` (whose HOME is `home`) without the test CA and checks it refuses the
/// server's certificate and downloads nothing.
fn assert_refuses_untrusted_server(home: &Path, client: Client<'_>) {
    client.without_test_ca().run().assert_refused_certificate();
    let got = files_below(home, &|p| p.parent().is_some_and(is_maildir_subdir));
    assert!(
        got.is_empty(),
        "mail was downloaded without a trusted certificate: {got:?}"
    );
}

// ---------------------------------------------------------------------------- the tests

#[test]
fn mbsync_syncs_the_inbox_into_a_maildir_over_imaps_and_starttls() {
    let Some(w) = World::start("mbsync_syncs_the_inbox_into_a_maildir_over_imaps_and_starttls")
    else {
        return;
    };
    let subject = "marker for mbsync";
    w.deliver_to_demo(subject);
    let smtps = w.url("smtps", "SUBMISSIONS_PORT");
    let mut first = None;
    for (tag, incoming) in [
        ("imaps", w.url("imaps", "IMAPS_PORT")),
        ("starttls", w.url("imap", "IMAP_PORT")),
    ] {
        let rc = w
            .write(tag, &["mbsync"], &[incoming, smtps.clone()])
            .file("mbsync/mbsyncrc");
        let home = w.home(tag);
        // As the note says: create the mail directory first.
        mkdir(&home.join("Mail/demo"));
        let mbsync = || {
            Client::new(&w, "mbsync", &home)
                .arg("-c")
                .arg(&rc)
                .arg("-a")
        };
        mbsync().run().assert_ok(&w);
        assert_one_message(&home.join("Mail/demo/INBOX"), subject, tag);
        // A second sync finds nothing new and duplicates nothing.
        mbsync().run().assert_ok(&w);
        assert_one_message(&home.join("Mail/demo/INBOX"), subject, tag);
        first.get_or_insert(rc);
    }
    assert_eq!(
        w.stack.inbox_count(w.user()),
        1,
        "mbsync changed the server"
    );

    let home = w.home("untrusted");
    mkdir(&home.join("Mail/demo"));
    let rc = first.unwrap();
    assert_refuses_untrusted_server(
        &home,
        Client::new(&w, "mbsync", &home)
            .arg("-c")
            .arg(&rc)
            .arg("-a"),
    );
}

#[test]
fn offlineimap_syncs_the_inbox_into_a_maildir() {
    let Some(w) = World::start("offlineimap_syncs_the_inbox_into_a_maildir") else {
        return;
    };
    let subject = "marker for offlineimap";
    w.deliver_to_demo(subject);
    // Implicit TLS only: the writer refuses imap:// for OfflineIMAP (no mandatory STARTTLS).
    let rc = w
        .write(
            "imaps",
            &["offlineimap"],
            &[
                w.url("imaps", "IMAPS_PORT"),
                w.url("smtps", "SUBMISSIONS_PORT"),
            ],
        )
        .file("offlineimap/offlineimaprc");
    let offlineimap = |home: &Path| {
        Client::new(&w, "offlineimap", home)
            .arg("-c")
            .arg(&rc)
            .arg("-o")
    };
    let home = w.home("imaps");
    offlineimap(&home).run().assert_ok(&w);
    assert_one_message(&home.join("Mail/demo/INBOX"), subject, "offlineimap");
    offlineimap(&home).run().assert_ok(&w);
    assert_one_message(&home.join("Mail/demo/INBOX"), subject, "offlineimap again");
    assert_eq!(
        w.stack.inbox_count(w.user()),
        1,
        "offlineimap changed the server"
    );

    let home = w.home("untrusted");
    assert_refuses_untrusted_server(&home, offlineimap(&home));
}

#[test]
fn msmtp_sends_mail_that_arrives_over_smtps_and_starttls() {
    let Some(w) = World::start("msmtp_sends_mail_that_arrives_over_smtps_and_starttls") else {
        return;
    };
    let (from, to) = (w.user(), w.other_user());
    let imaps = w.url("imaps", "IMAPS_PORT");
    let mut sent = Vec::new();
    let mut first = None;
    for (tag, outgoing) in [
        ("smtps", w.url("smtps", "SUBMISSIONS_PORT")),
        ("starttls", w.url("smtp", "SUBMISSION_PORT")),
    ] {
        let rc = w
            .write(tag, &["msmtp"], &[imaps.clone(), outgoing])
            .file("msmtp/msmtprc");
        let subject = format!("marker for msmtp over {tag}");
        let home = w.home(tag);
        Client::new(&w, "msmtp", &home)
            .arg("-C")
            .arg(&rc)
            .arg(to)
            .input(&message(from, to, &subject))
            .run()
            .assert_ok(&w);
        sent.push(subject);
        let n = w.stack.wait_inbox_count(to, sent.len(), DELIVERY_TIMEOUT);
        assert_eq!(
            n,
            sent.len(),
            "the message sent with msmtp over {tag} did not arrive:\n{}",
            w.stack.log_tail(20)
        );
        first.get_or_insert(rc);
    }

    // Read back over IMAP as the recipient.
    let inbox = imap_fetch_inbox(&w.stack, to, w.stack.get("OTHER_PASSWORD"));
    for subject in &sent {
        assert!(
            inbox.contains(&format!("Subject: {subject}\r\n")),
            "{subject:?} not in {to}'s INBOX over IMAP:\n{inbox}"
        );
    }
    assert!(
        inbox.contains(&format!("From: {from}\r\n")),
        "sender not kept:\n{inbox}"
    );

    let home = w.home("untrusted");
    let rc = first.unwrap();
    Client::new(&w, "msmtp", &home)
        .arg("-C")
        .arg(&rc)
        .arg(to)
        .input(&message(from, to, "must not be sent"))
        .without_test_ca()
        .run()
        .assert_refused_certificate();
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(
        w.stack.inbox_count(to),
        sent.len(),
        "a message was sent without a trusted certificate"
    );
}

#[test]
fn mpop_downloads_over_pop3s_and_starttls_and_keeps_the_mail() {
    let Some(w) = World::start("mpop_downloads_over_pop3s_and_starttls_and_keeps_the_mail") else {
        return;
    };
    let subject = "marker for mpop";
    w.deliver_to_demo(subject);
    let smtps = w.url("smtps", "SUBMISSIONS_PORT");
    let mut first = None;
    for (tag, incoming) in [
        ("pop3s", w.url("pop3s", "POP3S_PORT")),
        ("starttls", w.url("pop3", "POP3_PORT")),
    ] {
        let written = w.write(tag, &["mpop"], &[incoming, smtps.clone()]);
        let rc = written.file("mpop/mpoprc");
        assert_keep_warning(&written);
        let home = w.home(tag);
        make_maildir(&home.join("Mail/demo")); // as the note says
                                               // The default account, as a user runs it: `mpop`.
        let mpop = || Client::new(&w, "mpop", &home).arg("-C").arg(&rc);
        mpop().run().assert_ok(&w);
        assert_one_message(&home.join("Mail/demo"), subject, tag);
        w.assert_still_on_server(&format!("mpop over {tag}"));
        // only_new: the kept message is not downloaded again.
        mpop().run().assert_ok(&w);
        assert_one_message(&home.join("Mail/demo"), subject, tag);
        first.get_or_insert(rc);
    }

    let home = w.home("untrusted");
    make_maildir(&home.join("Mail/demo"));
    let rc = first.unwrap();
    assert_refuses_untrusted_server(&home, Client::new(&w, "mpop", &home).arg("-C").arg(&rc));
}

#[test]
fn fetchmail_downloads_over_pop3s_and_starttls_and_keeps_the_mail() {
    let Some(w) = World::start("fetchmail_downloads_over_pop3s_and_starttls_and_keeps_the_mail")
    else {
        return;
    };
    let subject = "marker for fetchmail";
    w.deliver_to_demo(subject);
    let smtps = w.url("smtps", "SUBMISSIONS_PORT");
    // fetchmail cannot run a password command; the documented way (mailsetup's note) is
    // ~/.netrc. It delivers through an MDA here (the note: by default it hands mail to port
    // 25): one file per message in ~/fetched. As root fetchmail locks the machine-wide
    // /var/run/fetchmail.pid, which would make parallel runs fail: --pidfile keeps it in HOME.
    let prepare = |home: &Path| {
        let netrc = home.join(".netrc");
        std::fs::write(
            &netrc,
            format!(
                "machine {HOST} login {} password {}\n",
                w.user(),
                w.stack.get("PASSWORD")
            ),
        )
        .unwrap();
        set_mode(&netrc, 0o600);
        mkdir(&home.join("fetched"));
    };
    let fetchmail = |rc: &Path, home: &Path| {
        let mda = format!(
            "cat > \"$(mktemp {}/msg.XXXXXX)\"",
            home.join("fetched").display()
        );
        Client::new(&w, "fetchmail", home)
            .arg("-f")
            .arg(rc)
            .arg("--mda")
            .arg(mda)
            .arg("--pidfile")
            .arg(home.join("fetchmail.pid"))
    };
    let mut first = None;
    for (tag, incoming) in [
        ("pop3s", w.url("pop3s", "POP3S_PORT")),
        ("starttls", w.url("pop3", "POP3_PORT")),
    ] {
        let written = w.write(tag, &["fetchmail"], &[incoming, smtps.clone()]);
        let rc = written.file("fetchmail/fetchmailrc");
        assert!(
            written.notes.contains(".netrc"),
            "the note no longer points at ~/.netrc:\n{}",
            written.notes
        );
        assert_keep_warning(&written);
        let home = w.home(tag);
        prepare(&home);
        fetchmail(&rc, &home).run().assert_ok(&w);
        assert_one_file_with(&home.join("fetched"), subject, tag);
        w.assert_still_on_server(&format!("fetchmail over {tag}"));
        // uidl + keep: the second run sees the message as old and fetches nothing (exit 1,
        // fetchmail's "no new mail").
        let again = fetchmail(&rc, &home).run();
        assert_eq!(again.code, 1, "second run:\n{}", again.describe());
        assert_one_file_with(&home.join("fetched"), subject, tag);
        first.get_or_insert(rc);
    }

    let home = w.home("untrusted");
    prepare(&home);
    let rc = first.unwrap();
    fetchmail(&rc, &home)
        .without_test_ca()
        .run()
        .assert_refused_certificate();
    assert!(files_below(&home.join("fetched"), &|_| true).is_empty());
}

#[test]
fn getmail_downloads_over_pop3s_and_keeps_the_mail() {
    let Some(w) = World::start("getmail_downloads_over_pop3s_and_keeps_the_mail") else {
        return;
    };
    let subject = "marker for getmail";
    w.deliver_to_demo(subject);
    // Implicit TLS only: the writer refuses pop3:// for getmail6 (no STARTTLS there).
    let written = w.write(
        "pop3s",
        &["getmail"],
        &[
            w.url("pop3s", "POP3S_PORT"),
            w.url("smtps", "SUBMISSIONS_PORT"),
        ],
    );
    let rc = written.file("getmail/getmailrc");
    assert_keep_warning(&written);
    // getmail6 refuses to run as root: run it as nobody, owning HOME, the Maildir (created
    // first, as the note says) and its state directory.
    let prepare = |home: &Path| {
        make_maildir(&home.join("Mail/demo"));
        mkdir(&home.join(".getmail"));
    };
    let getmail = |home: &Path| {
        Client::new(&w, "getmail", home)
            .arg("--rcfile")
            .arg(&rc)
            .arg("--getmaildir")
            .arg(home.join(".getmail"))
            .run_as_nobody()
    };
    let home = w.home("pop3s");
    prepare(&home);
    getmail(&home).run().assert_ok(&w);
    assert_one_message(&home.join("Mail/demo"), subject, "getmail");
    w.assert_still_on_server("getmail");
    // read_all = false: nothing new the second time.
    getmail(&home).run().assert_ok(&w);
    assert_one_message(&home.join("Mail/demo"), subject, "getmail again");
    w.assert_still_on_server("getmail again");

    let home = w.home("untrusted");
    prepare(&home);
    assert_refuses_untrusted_server(&home, getmail(&home));
}

#[test]
fn neomutt_opens_the_imap_inbox_without_a_prompt() {
    mutt_opens_the_imap_inbox("neomutt", "neomutt/neomuttrc");
}

#[test]
fn mutt_opens_the_imap_inbox_without_a_prompt() {
    mutt_opens_the_imap_inbox("mutt", "mutt/muttrc");
}

/// NeoMutt or Mutt, over IMAPS and IMAP+STARTTLS: started with the generated file (and the
/// Debian system rc, which names the CA bundle) in a pseudo-terminal, it must show the INBOX
/// index with the marker message and quit, with no password, certificate or other prompt.
fn mutt_opens_the_imap_inbox(program: &'static str, file: &str) {
    let test_name = format!("{program}_opens_the_imap_inbox_without_a_prompt");
    let Some(w) = World::start(&test_name) else {
        return;
    };
    let subject = format!("marker for {program}");
    w.deliver_to_demo(&subject);
    let smtps = w.url("smtps", "SUBMISSIONS_PORT");
    for (tag, incoming) in [
        ("imaps", w.url("imaps", "IMAPS_PORT")),
        ("starttls", w.url("imap", "IMAP_PORT")),
    ] {
        let rc = w
            .write(tag, &[program], &[incoming, smtps.clone()])
            .file(file);
        let home = w.home(tag);
        let screen = Client::new(&w, program, &home)
            .arg("-F")
            .arg(&rc)
            .arg("-e")
            .arg("push <quit>")
            .in_terminal()
            .run()
            .assert_ok(&w);
        let text = screen.stdout.to_lowercase();
        for prompt in [
            "password",
            "username",
            "(r)eject",
            "accept",
            "([yes]/no)",
            "(yes/no)",
        ] {
            assert!(
                !text.contains(prompt),
                "{program} over {tag} prompted ({prompt:?}):\n{}",
                screen.describe()
            );
        }
        assert!(
            screen.stdout.contains(&subject),
            "{program} over {tag} did not show the INBOX with {subject:?}:\n{}\n{}",
            screen.describe(),
            w.stack.log_tail(15)
        );
    }
    let log = read(Path::new(w.stack.get("DOVECOT_LOG")));
    let logins = log
        .lines()
        .filter(|l| {
            l.contains("imap-login: Info: Login: user=<demo@example.test>") && l.contains("TLS")
        })
        .count();
    assert!(
        logins >= 2,
        "Dovecot logged {logins} TLS IMAP logins:\n{log}"
    );
}

/// The provider page mailsetup starts from ("Encrypted password" only): the files written
/// from `check --prefer imap` make mbsync sync the INBOX and NeoMutt and Mutt open it, with
/// CRAM-MD5 — the only login that server offers.
#[test]
fn encrypted_password_only_imap_works_in_mbsync_neomutt_and_mutt() {
    let Some(w) = World::start("encrypted_password_only_imap_works_in_mbsync_neomutt_and_mutt")
    else {
        return;
    };
    let subject = "marker for CRAM-MD5 over IMAP";
    w.deliver_to_demo(subject);
    let report = w.check_report(
        "imap",
        "imap",
        &[
            w.enc_url("imaps", "IMAPS_PORT"),
            w.enc_url("imap", "IMAP_PORT"),
            w.url("smtps", "SUBMISSIONS_PORT"),
        ],
    );
    let written = w.write_from("imap", &["mbsync", "neomutt", "mutt"], &report);
    let mbsyncrc = written.file("mbsync/mbsyncrc");
    assert!(
        read(&mbsyncrc).contains("AuthMechs CRAM-MD5\n"),
        "{}",
        read(&mbsyncrc)
    );
    let home = w.home("mbsync");
    mkdir(&home.join("Mail/demo"));
    Client::new(&w, "mbsync", &home)
        .arg("-c")
        .arg(&mbsyncrc)
        .arg("-a")
        .run()
        .assert_ok(&w);
    assert_one_message(&home.join("Mail/demo/INBOX"), subject, "mbsync, CRAM-MD5");

    // Mutt names the mechanism; NeoMutt's SASL library negotiates it (see clients::NEOMUTT).
    for (program, file, line) in [
        (
            "mutt",
            "mutt/muttrc",
            Some("set imap_authenticators = \"cram-md5\""),
        ),
        ("neomutt", "neomutt/neomuttrc", None),
    ] {
        let muttrc = written.file(file);
        let text = read(&muttrc);
        match line {
            Some(line) => assert!(text.contains(line), "{text}"),
            None => assert!(!text.contains("_authenticators"), "{text}"),
        }
        let home = w.home(program);
        let screen = Client::new(&w, program, &home)
            .arg("-F")
            .arg(&muttrc)
            .arg("-e")
            .arg("push <quit>")
            .in_terminal()
            .run()
            .assert_ok(&w);
        let lower = screen.stdout.to_lowercase();
        assert!(
            screen.stdout.contains(subject)
                && !lower.contains("password:")
                && !lower.contains("error in"),
            "{program} did not show the INBOX cleanly, without a prompt:\n{}",
            screen.describe()
        );
    }
    // check (imaps, imap) + mbsync + NeoMutt + Mutt logged in, all with CRAM-MD5.
    assert!(w.enc_logins_all_cram_md5() >= 5);
}

/// The same server over POP3: the files written from `check --prefer pop3` make mpop and
/// fetchmail download over POP3 (keeping the mail on the server) with CRAM-MD5, although the
/// server advertises USER (and refuses it: "normal password" is not what it takes).
#[test]
fn encrypted_password_only_pop3_works_in_mpop_and_fetchmail() {
    let Some(w) = World::start("encrypted_password_only_pop3_works_in_mpop_and_fetchmail") else {
        return;
    };
    let subject = "marker for CRAM-MD5 over POP3";
    w.deliver_to_demo(subject);
    let smtps = w.url("smtps", "SUBMISSIONS_PORT");
    for (tag, incoming) in [
        ("pop3s", w.enc_url("pop3s", "POP3S_PORT")),
        ("stls", w.enc_url("pop3", "POP3_PORT")),
    ] {
        let report = w.check_report(tag, "pop3", &[incoming, smtps.clone()]);
        let written = w.write_from(tag, &["mpop", "fetchmail"], &report);

        let mpoprc = written.file("mpop/mpoprc");
        assert!(
            read(&mpoprc).contains("auth cram-md5\n"),
            "{}",
            read(&mpoprc)
        );
        let home = w.home(&format!("mpop-{tag}"));
        make_maildir(&home.join("Mail/demo"));
        Client::new(&w, "mpop", &home)
            .arg("-C")
            .arg(&mpoprc)
            .run()
            .assert_ok(&w);
        assert_one_message(&home.join("Mail/demo"), subject, &format!("mpop {tag}"));
        w.assert_still_on_server(&format!("mpop over {tag}"));

        let rc = written.file("fetchmail/fetchmailrc");
        assert!(read(&rc).contains("    auth cram-md5\n"), "{}", read(&rc));
        let home = w.home(&format!("fetchmail-{tag}"));
        // As in fetchmail_downloads_over_pop3s_and_starttls_and_keeps_the_mail: the password
        // from ~/.netrc, delivery through an MDA into ~/fetched.
        let netrc = home.join(".netrc");
        std::fs::write(
            &netrc,
            format!(
                "machine {HOST} login {} password {}\n",
                w.user(),
                w.stack.get("PASSWORD")
            ),
        )
        .unwrap();
        set_mode(&netrc, 0o600);
        mkdir(&home.join("fetched"));
        let mda = format!(
            "cat > \"$(mktemp {}/msg.XXXXXX)\"",
            home.join("fetched").display()
        );
        Client::new(&w, "fetchmail", &home)
            .arg("-f")
            .arg(&rc)
            .arg("--mda")
            .arg(mda)
            .arg("--pidfile")
            .arg(home.join("fetchmail.pid"))
            .run()
            .assert_ok(&w);
        assert_one_file_with(&home.join("fetched"), subject, &format!("fetchmail {tag}"));
        w.assert_still_on_server(&format!("fetchmail over {tag}"));
    }
    // Two checks and four client runs, all with CRAM-MD5.
    assert!(w.enc_logins_all_cram_md5() >= 6);
}

// ---------------------------------------------------------------------------- helpers

/// The keep warning mailsetup prints for a POP3 account that leaves mail on the server.
fn assert_keep_warning(written: &Written) {
    assert!(
        written.notes.contains("stay on the server"),
        "no keep warning:\n{}",
        written.notes
    );
}

/// Exactly one message in the Maildir `root` (its new/ or cur/), and it has `subject`.
fn assert_one_message(root: &Path, subject: &str, what: &str) {
    let messages: Vec<PathBuf> = ["new", "cur"]
        .iter()
        .flat_map(|sub| files_below(&root.join(sub), &|_| true))
        .collect();
    assert_eq!(
        messages.len(),
        1,
        "{what}: expected one message in the Maildir {}, found {messages:?}",
        root.display()
    );
    let text = read(&messages[0]);
    assert!(
        text.contains(&format!("Subject: {subject}\n")),
        "{what}: {} is not the test message:\n{text}",
        messages[0].display()
    );
}

/// Exactly one file in `dir`, containing the test message.
fn assert_one_file_with(dir: &Path, subject: &str, what: &str) {
    let files = files_below(dir, &|_| true);
    assert_eq!(
        files.len(),
        1,
        "{what}: expected one message, found {files:?}"
    );
    let text = read(&files[0]);
    assert!(
        text.contains(&format!("Subject: {subject}\n")),
        "{what}: {} is not the test message:\n{text}",
        files[0].display()
    );
}

/// Files (recursively) below `dir` accepted by `keep`; none when `dir` does not exist.
fn files_below(dir: &Path, keep: &dyn Fn(&Path) -> bool) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return found;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            found.extend(files_below(&path, keep));
        } else if keep(&path) {
            found.push(path);
        }
    }
    found.sort();
    found
}

fn is_maildir_subdir(dir: &Path) -> bool {
    matches!(dir.file_name().and_then(OsStr::to_str), Some("new" | "cur"))
}

fn make_maildir(root: &Path) {
    for sub in ["cur", "new", "tmp"] {
        mkdir(&root.join(sub));
    }
}

fn mkdir(dir: &Path) {
    std::fs::create_dir_all(dir).unwrap_or_else(|e| panic!("mkdir {}: {e}", dir.display()));
}

fn read(path: &Path) -> String {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    String::from_utf8_lossy(&bytes).into_owned()
}

fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .unwrap_or_else(|e| panic!("chmod {}: {e}", path.display()));
}

fn program_exists(name: &str) -> bool {
    ["/usr/local/bin", "/usr/bin", "/bin", "/usr/sbin", "/sbin"]
        .iter()
        .any(|d| Path::new(d).join(name).is_file())
}

/// `s` as one word for `sh`.
fn sh_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// Logs in to the stack's IMAPS port as `user` (verifying the certificate against the test
/// CA) and returns everything `FETCH 1:* BODY.PEEK[]` of INBOX sent back.
fn imap_fetch_inbox(stack: &MailStack, user: &str, password: &str) -> String {
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(stack.ca_file()).expect("read the test CA") {
        roots
            .add(cert.expect("parse the test CA"))
            .expect("add the test CA");
    }
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("protocol versions")
    .with_root_certificates(roots)
    .with_no_client_auth();
    let conn = rustls::ClientConnection::new(
        Arc::new(config),
        ServerName::try_from(HOST).expect("server name"),
    )
    .expect("TLS client");
    let tcp = TcpStream::connect(("127.0.0.1", stack.port("IMAPS_PORT"))).expect("connect IMAPS");
    tcp.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut io = BufReader::new(rustls::StreamOwned::new(conn, tcp));

    let mut line = Vec::new();
    let mut read_line = |io: &mut BufReader<_>| -> String {
        line.clear();
        io.read_until(b'\n', &mut line).expect("read from IMAP");
        String::from_utf8_lossy(&line).into_owned()
    };
    let greeting = read_line(&mut io);
    assert!(greeting.starts_with("* OK"), "IMAP greeting: {greeting:?}");
    let mut transcript = String::new();
    for (tag, command) in [
        ("a1", format!("LOGIN \"{user}\" \"{password}\"")),
        ("a2", "SELECT INBOX".to_string()),
        ("a3", "FETCH 1:* BODY.PEEK[]".to_string()),
        ("a4", "LOGOUT".to_string()),
    ] {
        let stream = io.get_mut();
        stream
            .write_all(format!("{tag} {command}\r\n").as_bytes())
            .and_then(|()| stream.flush())
            .expect("write to IMAP");
        loop {
            let l = read_line(&mut io);
            assert!(
                !l.is_empty(),
                "IMAP connection closed after {tag} {command}"
            );
            if let Some(status) = l.strip_prefix(&format!("{tag} ")) {
                assert!(status.starts_with("OK"), "{tag} {command}: {l}");
                break;
            }
            transcript.push_str(&l);
        }
    }
    transcript
}
