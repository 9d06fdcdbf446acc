//! The `setup` wizard driven through a real pseudo-terminal (tmux) against the real stack,
//! to the end; then a real mail client (msmtp) sends mail with the config it wrote.

mod support;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use support::stack::MailStack;

/// A tmux session running one command in a pseudo-terminal.
struct Pty {
    name: String,
}

impl Pty {
    fn start(name: &str, cmd: &str) -> Option<Pty> {
        if Command::new("tmux").arg("-V").output().is_err() {
            let msg = "wizard_pty: tmux is not installed (installed by scripts/test)";
            assert!(
                std::env::var("MAILSETUP_REQUIRE_STACK").as_deref() != Ok("1"),
                "{msg}"
            );
            use std::io::Write;
            let _ = writeln!(std::io::stderr(), "\n*** SKIPPED {name}: {msg} ***\n");
            return None;
        }
        let ok = Command::new("tmux")
            .args(["new-session", "-d", "-s", name, "-x", "160", "-y", "60"])
            .arg(format!("{cmd}; echo WIZARD-EXIT=$?; sleep 600"))
            .env_remove("NO_COLOR")
            .status()
            .unwrap()
            .success();
        assert!(ok, "tmux new-session failed");
        Some(Pty {
            name: name.to_string(),
        })
    }

    fn screen(&self) -> String {
        let out = Command::new("tmux")
            .args(["capture-pane", "-p", "-J", "-S", "-200", "-t", &self.name])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Waits until the screen shows `text` (bounded), returning the screen.
    fn wait_for(&self, text: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let s = self.screen();
            if s.contains(text) {
                return s;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {text:?}; screen:\n{s}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn keys(&self, keys: &[&str]) {
        let mut cmd = Command::new("tmux");
        cmd.args(["send-keys", "-t", &self.name]);
        cmd.args(keys);
        assert!(cmd.status().unwrap().success());
    }
}

impl Drop for Pty {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["kill-session", "-t", &self.name])
            .status();
    }
}

/// Runs a real client with the test CA added to the system trust store, in a private mount
/// namespace (the generated file is used as written; only the machine's trust is extended).
fn with_test_ca(
    ca: &Path,
    dir: &Path,
    program: &str,
    args: &[&str],
    stdin: &str,
) -> std::process::Output {
    let bundle = dir.join("bundle.pem");
    let mut all = std::fs::read("/etc/ssl/certs/ca-certificates.crt").unwrap_or_default();
    all.extend(std::fs::read(ca).unwrap());
    std::fs::write(&bundle, all).unwrap();
    let script = format!(
        "mount --bind {} /etc/ssl/certs/ca-certificates.crt && exec \"$0\" \"$@\"",
        bundle.display()
    );
    let mut child = Command::new("unshare")
        .args([
            "--mount",
            "--propagation",
            "private",
            "sh",
            "-c",
            &script,
            program,
        ])
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn wizard_to_the_end_then_msmtp_sends_with_the_written_config() {
    let Some(s) = MailStack::start("wizard_to_the_end_then_msmtp_sends_with_the_written_config")
    else {
        return;
    };
    let out = tempfile::tempdir().unwrap();
    let servers: Vec<String> = [
        ("imaps", "IMAPS_PORT"),
        ("pop3s", "POP3S_PORT"),
        ("smtps", "SUBMISSIONS_PORT"),
    ]
    .iter()
    .map(|(scheme, key)| format!("--server {scheme}://127.0.0.1:{}", s.get(key)))
    .collect();
    let cmd = format!(
        "{} setup {} --ca-file {} --out {} --client msmtp --embed-password",
        support::bin().display(),
        servers.join(" "),
        s.ca_file().display(),
        out.path().display()
    );
    let name = format!("wiz{}", std::process::id());
    let Some(pty) = Pty::start(&name, &cmd) else {
        return;
    };
    pty.wait_for("Your email address");
    pty.keys(&["demo@example.test", "Enter"]);
    pty.wait_for("Your name");
    pty.keys(&["Demo User", "Enter"]);
    pty.wait_for("Password for demo@example.test");
    pty.keys(&[s.get("PASSWORD"), "Enter"]);
    // Both IMAP and POP3 work: the wizard explains the choice; Enter takes IMAP.
    let screen = pty.wait_for("Which one should your mail client use?");
    assert!(
        screen.contains("IMAP keeps your mail on the server"),
        "{screen}"
    );
    assert!(
        screen.contains("Storage now:"),
        "the quota is shown: {screen}"
    );
    assert!(
        !screen.contains(s.get("PASSWORD")),
        "the password is not echoed: {screen}"
    );
    pty.keys(&["Enter"]);
    // The test message (Enter = yes): sent through the chosen servers, seen arriving, deleted.
    pty.wait_for("Send a test message to yourself");
    pty.keys(&["Enter"]);
    let screen = pty.wait_for("Write them?");
    assert!(
        screen.contains("Test message: delivered in")
            && screen.contains("sending and receiving both work"),
        "{screen}"
    );
    assert_eq!(
        s.inbox_count("demo@example.test"),
        0,
        "the test message was deleted again"
    );
    assert!(
        screen.contains("Incoming mail: IMAP on 127.0.0.1, encrypted (SSL/TLS"),
        "{screen}"
    );
    assert!(screen.contains("— your password works"), "{screen}");
    assert!(screen.contains("msmtp/msmtprc"), "{screen}");
    pty.keys(&["y"]);
    let screen = pty.wait_for("WIZARD-EXIT=");
    assert!(screen.contains("WIZARD-EXIT=0"), "{screen}");
    assert!(screen.contains("Done."), "{screen}");

    // The written config works with the real client: msmtp sends, the message arrives.
    let rc = out.path().join("msmtp/msmtprc");
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&rc).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let other = s.get("OTHER_USER").to_string();
    let before = s.inbox_count(&other);
    let msg = format!("From: demo@example.test\r\nTo: {other}\r\nSubject: sent by the wizard's msmtprc\r\n\r\nhello\r\n");
    let sent = with_test_ca(
        &s.ca_file(),
        out.path(),
        "msmtp",
        &[
            "-C",
            rc.to_str().unwrap(),
            "-a",
            "demo@example.test",
            &other,
        ],
        &msg,
    );
    assert!(
        sent.status.success(),
        "msmtp failed: {}",
        String::from_utf8_lossy(&sent.stderr)
    );
    assert_eq!(
        s.wait_inbox_count(&other, before + 1, Duration::from_secs(20)),
        before + 1,
        "the message arrived"
    );
}
