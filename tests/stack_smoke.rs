//! Proves that the real local mail stack (`scripts/mailstack`, Dovecot + Postfix on
//! 127.0.0.1) works: greetings on all six ports, certificates that verify against the test CA,
//! SNI-selected bad certificates, AUTH only after STARTTLS, delivery into Dovecot, the
//! preloaded quota user, parallel stacks and a clean stop.
//!
//! Each test skips (loudly) when Dovecot/Postfix are not installed; run `scripts/test`.

mod support;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use support::stack::MailStack;

const HOST: &str = "mail.example.test";
const IO_TIMEOUT: Duration = Duration::from_secs(10);

/// Output of a finished command.
struct Run {
    ok: bool,
    stdout: String,
    stderr: String,
}

impl Run {
    fn all(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }
}

/// Runs a command with `input` on stdin (then closed), bounded by `timeout`.
fn run_with_input(cmd: &mut Command, input: &[u8], timeout: Duration) -> Run {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("spawn {cmd:?}: {e}"));
    let mut stdin = child.stdin.take().unwrap();
    let input = input.to_vec();
    // Write from a thread: a command that does not read must not block us.
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let out_t = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = out.read_to_end(&mut s);
        s
    });
    let err_t = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = err.read_to_end(&mut s);
        s
    });
    let deadline = Instant::now() + timeout;
    let status = loop {
        if let Some(st) = child.try_wait().expect("wait") {
            break st;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            let stdout = String::from_utf8_lossy(&out_t.join().unwrap()).into_owned();
            let stderr = String::from_utf8_lossy(&err_t.join().unwrap()).into_owned();
            panic!(
                "{cmd:?} did not finish within {timeout:?}\nstdout:\n{stdout}\nstderr:\n{stderr}"
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let _ = writer.join();
    Run {
        ok: status.success(),
        stdout: String::from_utf8_lossy(&out_t.join().unwrap()).into_owned(),
        stderr: String::from_utf8_lossy(&err_t.join().unwrap()).into_owned(),
    }
}

/// `openssl s_client` to 127.0.0.1:port with SNI `servername`, trusting the stack's CA,
/// failing on any verification error. `extra` adds e.g. `-starttls imap`. Lines of `input`
/// are sent (as CRLF) after the handshake; the server closing the connection ends it.
fn s_client(stack: &MailStack, port: u16, servername: &str, extra: &[&str], input: &str) -> Run {
    let mut cmd = Command::new("openssl");
    cmd.arg("s_client")
        .arg("-connect")
        .arg(format!("127.0.0.1:{port}"))
        .args(["-servername", servername])
        .arg("-CAfile")
        .arg(stack.ca_file())
        .args(["-verify_return_error", "-ign_eof", "-nocommands", "-crlf"])
        .args(extra);
    run_with_input(&mut cmd, input.as_bytes(), Duration::from_secs(20))
}

/// Connects in plaintext and returns the first line the server sends.
fn plain_greeting(port: u16) -> String {
    let stream = TcpStream::connect(("127.0.0.1", port))
        .unwrap_or_else(|e| panic!("connect 127.0.0.1:{port}: {e}"));
    stream.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
    let mut line = String::new();
    BufReader::new(&stream)
        .read_line(&mut line)
        .unwrap_or_else(|e| panic!("read greeting on {port}: {e}"));
    line.trim_end().to_string()
}

/// Reads one (possibly multi-line) SMTP reply; returns its lines.
fn smtp_reply(reader: &mut impl BufRead) -> Vec<String> {
    let mut lines = Vec::new();
    loop {
        let mut line = String::new();
        let n = reader.read_line(&mut line).expect("read SMTP reply");
        assert!(
            n > 0,
            "connection closed in the middle of an SMTP reply: {lines:?}"
        );
        let line = line.trim_end().to_string();
        let last = line.len() < 4 || line.as_bytes()[3] == b' ';
        lines.push(line);
        if last {
            return lines;
        }
    }
}

fn base64(data: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut s = String::new();
    for c in data.chunks(3) {
        let b = [c[0], *c.get(1).unwrap_or(&0), *c.get(2).unwrap_or(&0)];
        let n = (b[0] as u32) << 16 | (b[1] as u32) << 8 | b[2] as u32;
        for i in 0..4 {
            if i <= c.len() {
                s.push(T[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                s.push('=');
            }
        }
    }
    s
}

/// Live (non-zombie) processes that belong to the stack in `dir`: command line mentioning
/// the dir, Dovecot process titles with the stack's instance name, or Postfix daemons whose
/// environment has MAIL_CONFIG=<dir>/postfix.
fn stack_processes(dir: &Path, instance: &str) -> Vec<String> {
    let dir_slash = format!("{}/", dir.display());
    let inst_slash = format!("{instance}/");
    let mail_config = format!("MAIL_CONFIG={}/postfix", dir.display());
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if !name.bytes().all(|b| b.is_ascii_digit()) || name == std::process::id().to_string() {
            continue;
        }
        let p = entry.path();
        // Zombies and kernel threads have an empty command line.
        let cmdline = std::fs::read(p.join("cmdline")).unwrap_or_default();
        if cmdline.is_empty() {
            continue;
        }
        let cmd = String::from_utf8_lossy(&cmdline).replace('\0', " ");
        let environ = std::fs::read(p.join("environ")).unwrap_or_default();
        let in_env = environ
            .split(|&b| b == 0)
            .any(|v| v == mail_config.as_bytes());
        if cmd.contains(&dir_slash) || cmd.contains(&inst_slash) || in_env {
            found.push(format!("{name}: {cmd}"));
        }
    }
    found
}

fn pid_alive(pid: &str) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        // "pid (comm) S ..." — state after the last ')'.
        Ok(stat) => !matches!(
            stat.rsplit_once(')')
                .map(|(_, r)| r.trim_start().chars().next()),
            Some(Some('Z' | 'X'))
        ),
        Err(_) => false,
    }
}

#[test]
fn six_ports_greet_and_their_tls_verifies() {
    let Some(stack) = MailStack::start("six_ports_greet_and_their_tls_verifies") else {
        return;
    };

    // Plaintext greetings.
    let imap = plain_greeting(stack.port("IMAP_PORT"));
    assert!(imap.starts_with("* OK"), "IMAP greeting: {imap}");
    let pop3 = plain_greeting(stack.port("POP3_PORT"));
    assert!(pop3.starts_with("+OK"), "POP3 greeting: {pop3}");
    // APOP is enabled: the greeting carries a <timestamp@host> challenge.
    let stamp = pop3
        .split_once('<')
        .and_then(|(_, r)| r.split_once('>'))
        .map(|(s, _)| s);
    assert!(
        matches!(stamp, Some(s) if s.contains('@')),
        "POP3 greeting has no APOP timestamp: {pop3}"
    );
    let smtp = plain_greeting(stack.port("SUBMISSION_PORT"));
    assert!(smtp.starts_with("220 "), "submission greeting: {smtp}");

    // Implicit TLS: verified handshake for mail.example.test, then the greeting.
    for (key, input, greeting) in [
        ("IMAPS_PORT", "a1 LOGOUT\n", "* OK"),
        ("POP3S_PORT", "QUIT\n", "+OK"),
        ("SUBMISSIONS_PORT", "QUIT\n", "220 "),
    ] {
        let r = s_client(&stack, stack.port(key), HOST, &[], input);
        assert!(r.ok, "{key}: s_client failed:\n{}", r.all());
        assert!(
            r.stdout.contains("Verify return code: 0 (ok)"),
            "{key}: not verified:\n{}",
            r.all()
        );
        assert!(
            r.stdout.lines().any(|l| l.starts_with(greeting)),
            "{key}: no {greeting:?} greeting:\n{}",
            r.all()
        );
        assert!(
            r.stdout.contains("TLSv1.3") || r.stdout.contains("TLSv1.2"),
            "{key}: unexpected protocol:\n{}",
            r.all()
        );
    }

    // STARTTLS on the plaintext ports: s_client reads the greeting and upgrades.
    for (key, proto, input, reply) in [
        ("IMAP_PORT", "imap", "a1 LOGOUT\n", "* BYE"),
        ("POP3_PORT", "pop3", "QUIT\n", "+OK"),
        ("SUBMISSION_PORT", "smtp", "QUIT\n", "221"),
    ] {
        let r = s_client(&stack, stack.port(key), HOST, &["-starttls", proto], input);
        assert!(
            r.ok,
            "{key}: s_client -starttls {proto} failed:\n{}",
            r.all()
        );
        assert!(
            r.stdout.contains("Verify return code: 0 (ok)"),
            "{key}: not verified:\n{}",
            r.all()
        );
        assert!(
            r.stdout.lines().any(|l| l.starts_with(reply)),
            "{key}: no {reply:?} after STARTTLS:\n{}",
            r.all()
        );
    }

    // The other CA is not trusted by anything: verification against it must fail.
    let mut cmd = Command::new("openssl");
    cmd.args([
        "s_client",
        "-connect",
        &format!("127.0.0.1:{}", stack.port("IMAPS_PORT")),
    ])
    .args([
        "-servername",
        HOST,
        "-verify_return_error",
        "-CAfile",
        stack.get("OTHER_CA_FILE"),
    ]);
    let r = run_with_input(&mut cmd, b"", Duration::from_secs(20));
    assert!(
        !r.ok,
        "verification against OTHER_CA_FILE unexpectedly succeeded:\n{}",
        r.all()
    );
}

#[test]
fn sni_selects_the_expired_and_future_certificates() {
    let Some(stack) = MailStack::start("sni_selects_the_expired_and_future_certificates") else {
        return;
    };
    let imaps = stack.port("IMAPS_PORT");

    let r = s_client(&stack, imaps, "expired.example.test", &[], "a1 LOGOUT\n");
    assert!(!r.ok, "expired certificate verified:\n{}", r.all());
    assert!(
        r.all().contains("certificate has expired"),
        "no expiry error:\n{}",
        r.all()
    );

    // The served certificate itself: the one issued for 2020-01-01..2021-01-01.
    let mut cmd = Command::new("openssl");
    cmd.args([
        "s_client",
        "-connect",
        &format!("127.0.0.1:{imaps}"),
        "-servername",
        "expired.example.test",
    ]);
    let served = run_with_input(&mut cmd, b"", Duration::from_secs(20));
    let pem_start = served
        .stdout
        .find("-----BEGIN CERTIFICATE-----")
        .expect("certificate in s_client output");
    let pem_end = served.stdout.find("-----END CERTIFICATE-----").unwrap()
        + "-----END CERTIFICATE-----\n".len();
    let pem = &served.stdout[pem_start..pem_end.min(served.stdout.len())];
    let mut x509 = Command::new("openssl");
    x509.args(["x509", "-noout", "-subject", "-enddate"]);
    let info = run_with_input(&mut x509, pem.as_bytes(), Duration::from_secs(10));
    assert!(info.ok, "openssl x509 failed:\n{}", info.all());
    assert!(
        info.stdout.contains("notAfter=Jan  1 00:00:00 2021 GMT"),
        "{}",
        info.stdout
    );
    assert!(
        info.stdout.contains("expired.example.test"),
        "{}",
        info.stdout
    );

    let r = s_client(&stack, imaps, "future.example.test", &[], "a1 LOGOUT\n");
    assert!(!r.ok, "not-yet-valid certificate verified:\n{}", r.all());
    assert!(
        r.all().contains("certificate is not yet valid"),
        "no not-yet-valid error:\n{}",
        r.all()
    );

    // The default name still gets the good certificate on the same port.
    let r = s_client(&stack, imaps, HOST, &[], "a1 LOGOUT\n");
    assert!(
        r.ok && r.stdout.contains("Verify return code: 0 (ok)"),
        "{}",
        r.all()
    );
}

#[test]
fn submission_offers_auth_only_after_starttls() {
    let Some(stack) = MailStack::start("submission_offers_auth_only_after_starttls") else {
        return;
    };
    let port = stack.port("SUBMISSION_PORT");

    // Before STARTTLS: STARTTLS offered, AUTH not; AUTH is refused.
    let stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut w = stream;
    let greeting = smtp_reply(&mut reader);
    assert!(greeting[0].starts_with("220 "), "{greeting:?}");
    w.write_all(b"EHLO x\r\n").unwrap();
    let ehlo = smtp_reply(&mut reader);
    assert!(ehlo.iter().all(|l| l.starts_with("250")), "{ehlo:?}");
    assert!(
        ehlo.iter().any(|l| l[4..].starts_with("STARTTLS")),
        "no STARTTLS: {ehlo:?}"
    );
    assert!(
        !ehlo.iter().any(|l| l[4..].starts_with("AUTH")),
        "AUTH offered before STARTTLS: {ehlo:?}"
    );
    w.write_all(b"AUTH PLAIN AGRlbW9AZXhhbXBsZS50ZXN0AGRlbW8tcGFzc3dvcmQtMQ==\r\n")
        .unwrap();
    let auth = smtp_reply(&mut reader);
    assert!(auth[0].starts_with("530"), "AUTH before STARTTLS: {auth:?}");
    w.write_all(b"QUIT\r\n").unwrap();

    // After STARTTLS: AUTH with the Dovecot mechanisms.
    let r = s_client(
        &stack,
        port,
        HOST,
        &["-starttls", "smtp", "-quiet"],
        "EHLO x\nQUIT\n",
    );
    assert!(r.ok, "{}", r.all());
    let auth_line = r
        .stdout
        .lines()
        .find(|l| l.starts_with("250-AUTH") || l.starts_with("250 AUTH"));
    let auth_line = auth_line.unwrap_or_else(|| panic!("no AUTH after STARTTLS:\n{}", r.all()));
    for mech in ["PLAIN", "LOGIN"] {
        assert!(auth_line.contains(mech), "{auth_line}");
    }

    // Implicit TLS port: AUTH right away.
    let r = s_client(
        &stack,
        stack.port("SUBMISSIONS_PORT"),
        HOST,
        &["-quiet"],
        "EHLO x\nQUIT\n",
    );
    assert!(r.ok, "{}", r.all());
    assert!(
        r.stdout.lines().any(|l| l.starts_with("250-AUTH")),
        "no AUTH on submissions:\n{}",
        r.all()
    );
}

#[test]
fn local_delivery_reaches_dovecot_and_quota_user_is_preloaded() {
    let Some(stack) =
        MailStack::start("local_delivery_reaches_dovecot_and_quota_user_is_preloaded")
    else {
        return;
    };
    let quota_user = stack.get("QUOTA_USER");
    assert_eq!(stack.inbox_count(quota_user), 3);
    assert_eq!(stack.get("QUOTA_MESSAGES"), "3");
    assert!(stack.get("QUOTA_STORAGE_KIB").parse::<u32>().unwrap() > 0);
    assert_eq!(stack.get("QUOTA_LIMIT_KIB"), "10");
    assert_eq!(stack.inbox_count(stack.get("OTHER_USER")), 0);

    let demo = stack.get("USER");
    let before = stack.inbox_count(demo);
    let from = stack.get("OTHER_USER");
    // One deterministic path on every machine: Postfix's own sendmail (pickup -> cleanup ->
    // qmgr -> LMTP -> Dovecot). Authenticated submission is the next test's subject.
    stack.sendmail(
        from,
        demo,
        &format!("From: {from}\nTo: {demo}\nSubject: stack smoke (sendmail)\n\nhello from the smoke test\n"),
    );
    let n = stack.wait_inbox_count(demo, before + 1, Duration::from_secs(15));
    assert_eq!(
        n,
        before + 1,
        "message not delivered to {demo}:\n{}",
        stack.log_tail(20)
    );
}

#[test]
fn authenticated_submission_delivers_through_lmtp() {
    let Some(stack) = MailStack::start("authenticated_submission_delivers_through_lmtp") else {
        return;
    };
    let (user, pass, demo) = (
        stack.get("OTHER_USER"),
        stack.get("OTHER_PASSWORD"),
        stack.get("USER"),
    );
    let before = stack.inbox_count(demo);

    // Wrong password: 535, nothing else accepted.
    let bad = base64(format!("\0{user}\0wrong-password").as_bytes());
    let r = s_client(
        &stack,
        stack.port("SUBMISSIONS_PORT"),
        HOST,
        &["-quiet"],
        &format!("EHLO x\nAUTH PLAIN {bad}\nQUIT\n"),
    );
    assert!(
        r.stdout.lines().any(|l| l.starts_with("535")),
        "wrong password not refused:\n{}",
        r.all()
    );

    // Right password, a message to demo@ (pipelined; Postfix reads the commands in turn).
    let good = base64(format!("\0{user}\0{pass}").as_bytes());
    let session = format!(
        "EHLO x\nAUTH PLAIN {good}\nMAIL FROM:<{user}>\nRCPT TO:<{demo}>\nDATA\n\
         From: {user}\nTo: {demo}\nSubject: stack smoke (submissions)\n\nhello\n.\nQUIT\n"
    );
    let r = s_client(
        &stack,
        stack.port("SUBMISSIONS_PORT"),
        HOST,
        &["-quiet"],
        &session,
    );
    assert!(
        r.stdout.lines().any(|l| l.starts_with("235")),
        "AUTH failed:\n{}",
        r.all()
    );
    assert!(
        r.stdout
            .lines()
            .any(|l| l.starts_with("250 2.0.0 Ok: queued")),
        "not queued:\n{}",
        r.all()
    );
    let n = stack.wait_inbox_count(demo, before + 1, Duration::from_secs(15));
    assert_eq!(
        n,
        before + 1,
        "message not delivered to {demo}:\n{}",
        stack.log_tail(20)
    );
}

#[test]
fn two_stacks_run_at_once_and_stop_leaves_nothing() {
    let Some(mut a) = MailStack::start("two_stacks_run_at_once_and_stop_leaves_nothing") else {
        return;
    };
    let Some(b) = MailStack::start("two_stacks_run_at_once_and_stop_leaves_nothing") else {
        return;
    };
    assert_ne!(a.dir(), b.dir());
    let keys = [
        "IMAP_PORT",
        "IMAPS_PORT",
        "POP3_PORT",
        "POP3S_PORT",
        "SUBMISSION_PORT",
        "SUBMISSIONS_PORT",
    ];
    let mut ports: Vec<u16> = keys
        .iter()
        .map(|k| a.port(k))
        .chain(keys.iter().map(|k| b.port(k)))
        .collect();
    ports.sort_unstable();
    ports.dedup();
    assert_eq!(ports.len(), 12, "ports are shared between the stacks");
    for s in [&a, &b] {
        assert!(plain_greeting(s.port("IMAP_PORT")).starts_with("* OK"));
        assert!(plain_greeting(s.port("SUBMISSION_PORT")).starts_with("220 "));
    }
    let connect_to = a.connect_to_args(HOST);
    assert_eq!(connect_to.len(), 12);
    assert_eq!(connect_to[0], "--connect-to");
    assert_eq!(
        connect_to[1],
        format!("{HOST}:993:127.0.0.1:{}", a.port("IMAPS_PORT"))
    );
    assert_eq!(
        connect_to[11],
        format!("{HOST}:587:127.0.0.1:{}", a.port("SUBMISSION_PORT"))
    );

    let a_dir = a.dir().to_path_buf();
    let a_instance = a.get("DOVECOT_INSTANCE").to_string();
    let a_pids = [
        a.get("DOVECOT_PID").to_string(),
        a.get("POSTFIX_PID").to_string(),
    ];
    assert!(
        !stack_processes(&a_dir, &a_instance).is_empty(),
        "no processes found for stack a"
    );

    a.stop();
    let pgrep = Command::new("pgrep")
        .arg("-af")
        .arg(format!("{}/", a_dir.display()))
        .output()
        .expect("pgrep");
    assert!(
        pgrep.stdout.is_empty(),
        "processes of {} left after stop:\n{}",
        a_dir.display(),
        String::from_utf8_lossy(&pgrep.stdout)
    );
    let left = stack_processes(&a_dir, &a_instance);
    assert!(
        left.is_empty(),
        "processes of stack a left after stop: {left:#?}"
    );
    for pid in &a_pids {
        assert!(!pid_alive(pid), "pid {pid} still alive after stop");
    }
    a.stop(); // idempotent

    // b is unaffected.
    assert!(plain_greeting(b.port("IMAP_PORT")).starts_with("* OK"));
    assert!(plain_greeting(b.port("POP3_PORT")).starts_with("+OK"));

    // `stop` succeeds quietly on a dir that never ran a stack and on one that doesn't exist.
    let empty = tempfile::Builder::new()
        .prefix("ms")
        .tempdir_in("/tmp")
        .unwrap();
    for dir in [empty.path().to_path_buf(), empty.path().join("missing")] {
        let out = Command::new("bash")
            .arg(support::stack::stack_script())
            .arg("stop")
            .arg(&dir)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert!(out.status.success(), "stop {}: {out:?}", dir.display());
        assert!(
            out.stdout.is_empty() && out.stderr.is_empty(),
            "stop {} was not quiet: {out:?}",
            dir.display()
        );
    }
}
