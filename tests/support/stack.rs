//! The real local mail stack (Dovecot + Postfix on 127.0.0.1), started per test by
//! `scripts/mailstack` in a fresh temporary directory and stopped on drop.
//!
//! ```ignore
//! let Some(stack) = support::stack::MailStack::start("imap_login_works") else { return };
//! let port = stack.port("IMAPS_PORT");
//! ```
//!
//! Keys of `stack.env` (see `scripts/mailstack`): HOST, ADDR, DOMAIN, IMAP_PORT, IMAPS_PORT,
//! POP3_PORT, POP3S_PORT, SUBMISSION_PORT, SUBMISSIONS_PORT, CA_FILE, OTHER_CA_FILE, USER,
//! PASSWORD, QUOTA_USER, QUOTA_PASSWORD, QUOTA_MESSAGES, QUOTA_STORAGE_KIB, QUOTA_LIMIT_KIB,
//! QUOTA_VSIZE_BYTES, OTHER_USER, OTHER_PASSWORD, DOVECOT_CONF, MAIL_ROOT, DOVECOT_PID,
//! POSTFIX_DIR, POSTFIX_PID, logs and more.
//!
//! Only std and `tempfile` are used here.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// `scripts/mailstack` of this crate.
pub fn stack_script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("scripts")
        .join("mailstack")
}

/// Exit code of `scripts/mailstack start` when a package or the vmail user is missing.
const EXIT_NOT_INSTALLED: i32 = 3;

/// A running stack. Stopped (all its processes gone) when dropped; its directory is then removed.
pub struct MailStack {
    // Removed when dropped, which happens after `Drop::drop` has stopped the daemons.
    dir: tempfile::TempDir,
    env: BTreeMap<String, String>,
    stopped: bool,
}

impl MailStack {
    /// Starts a fresh stack in a temp dir. Returns None when the stack can't run on this
    /// machine (dovecot or postfix missing, not root, vmail user missing) after writing a loud
    /// skip notice straight to the process's stderr (libtest does not capture that). With
    /// `MAILSETUP_REQUIRE_STACK=1` those cases panic instead. A stack that is installed but
    /// fails to start always panics with the script's output.
    pub fn start(test_name: &str) -> Option<MailStack> {
        Self::start_with_env(test_name, &[])
    }

    /// Like [`MailStack::start`], with environment for `scripts/mailstack start` (e.g.
    /// `MAILSTACK_OAUTH2=1` for the OAuth2 mode; see `scripts/mailstack --help`).
    pub fn start_with_env(test_name: &str, env: &[(&str, &str)]) -> Option<MailStack> {
        if let Some(reason) = unavailable_reason() {
            return skip(test_name, &reason);
        }
        // Short path: Unix socket paths (Dovecot's, below DIR/run) are limited to 108 bytes.
        let dir = tempfile::Builder::new()
            .prefix("ms")
            .tempdir_in("/tmp")
            .expect("create a temp dir for the mail stack in /tmp");
        // Dovecot's login/mail processes (dovenull, vmail) and Postfix (postfix) must
        // traverse it; tempdirs are created 0700. (The script does this too.)
        set_mode(dir.path(), 0o755);

        let out = run_script_env("start", dir.path(), env);
        if !out.status.success() {
            if out.status.code() == Some(EXIT_NOT_INSTALLED) {
                let reason = format!(
                    "scripts/mailstack: {}",
                    String::from_utf8_lossy(&out.stderr).trim()
                );
                // Make sure nothing half-started survives the skip.
                let _ = run_script("stop", dir.path());
                return skip(test_name, &reason);
            }
            let _ = run_script("stop", dir.path());
            panic!(
                "[{test_name}] scripts/mailstack start {} failed ({}):\n--- stdout ---\n{}\n--- stderr ---\n{}",
                dir.path().display(),
                out.status,
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let env_path = dir.path().join("stack.env");
        let text = std::fs::read_to_string(&env_path)
            .unwrap_or_else(|e| panic!("[{test_name}] read {}: {e}", env_path.display()));
        let env = parse_env(&text);
        Some(MailStack {
            dir,
            env,
            stopped: false,
        })
    }

    /// A value from `stack.env`; panics (listing the known keys) when the key is missing.
    pub fn get(&self, key: &str) -> &str {
        match self.env.get(key) {
            Some(v) => v,
            None => panic!(
                "stack.env has no key {key:?}; keys: {}",
                self.env.keys().cloned().collect::<Vec<_>>().join(", ")
            ),
        }
    }

    /// A port from `stack.env`, e.g. `port("IMAPS_PORT")`.
    pub fn port(&self, key: &str) -> u16 {
        let v = self.get(key);
        v.parse()
            .unwrap_or_else(|_| panic!("stack.env {key}={v:?} is not a port"))
    }

    /// The test CA that signed the stack's certificates (trust it in clients).
    pub fn ca_file(&self) -> PathBuf {
        PathBuf::from(self.get("CA_FILE"))
    }

    /// The stack's directory (configs, logs, maildirs, stack.env).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// All of `stack.env`.
    pub fn env(&self) -> &BTreeMap<String, String> {
        &self.env
    }

    /// `--connect-to` arguments mapping `host`'s six standard ports (993, 143, 995, 110, 465,
    /// 587) to 127.0.0.1:<stack port>, e.g. `["--connect-to", "mail.example.test:993:127.0.0.1:41234", ...]`.
    pub fn connect_to_args(&self, host: &str) -> Vec<String> {
        let map = [
            (993, "IMAPS_PORT"),
            (143, "IMAP_PORT"),
            (995, "POP3S_PORT"),
            (110, "POP3_PORT"),
            (465, "SUBMISSIONS_PORT"),
            (587, "SUBMISSION_PORT"),
        ];
        let addr = self.get("ADDR");
        let mut args = Vec::with_capacity(map.len() * 2);
        for (std_port, key) in map {
            args.push("--connect-to".to_string());
            args.push(format!("{host}:{std_port}:{addr}:{}", self.port(key)));
        }
        args
    }

    /// Number of messages in `user`'s INBOX (asked from Dovecot with doveadm).
    pub fn inbox_count(&self, user: &str) -> usize {
        let out = Command::new(sbin("doveadm"))
            .arg("-c")
            .arg(self.get("DOVECOT_CONF"))
            .args([
                "-f", "flow", "mailbox", "status", "-u", user, "messages", "INBOX",
            ])
            .stdin(Stdio::null())
            .output()
            .expect("run doveadm");
        let stdout = String::from_utf8_lossy(&out.stdout);
        if !out.status.success() {
            panic!(
                "doveadm mailbox status -u {user} failed ({}): {stdout}{}",
                out.status,
                String::from_utf8_lossy(&out.stderr)
            );
        }
        // "INBOX messages=3"
        stdout
            .split_whitespace()
            .find_map(|w| w.strip_prefix("messages="))
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("unexpected doveadm output: {stdout:?}"))
    }

    /// Polls `inbox_count(user)` until it is at least `want` or `timeout` passes; returns the
    /// last count seen.
    pub fn wait_inbox_count(&self, user: &str, want: usize, timeout: Duration) -> usize {
        let deadline = Instant::now() + timeout;
        loop {
            let n = self.inbox_count(user);
            if n >= want || Instant::now() >= deadline {
                return n;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Hands `message` (RFC 5322 text) to this stack's Postfix with its `sendmail -C`
    /// (no SMTP, no auth): the local pickup → cleanup → qmgr → LMTP → Dovecot path.
    pub fn sendmail(&self, from: &str, to: &str, message: &str) {
        let mut child = Command::new(sbin("sendmail"))
            .arg("-C")
            .arg(self.get("POSTFIX_DIR"))
            .args(["-f", from, "--", to])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run Postfix sendmail");
        child
            .stdin
            .take()
            .unwrap()
            .write_all(message.as_bytes())
            .expect("write to sendmail");
        let out = child.wait_with_output().expect("wait for sendmail");
        assert!(
            out.status.success(),
            "sendmail -C {} failed ({}): {}{}",
            self.get("POSTFIX_DIR"),
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// The last `lines` lines of the Dovecot and Postfix logs, for failure messages.
    pub fn log_tail(&self, lines: usize) -> String {
        let mut s = String::new();
        for key in ["DOVECOT_LOG", "POSTFIX_LOG"] {
            let path = self.get(key);
            let text = std::fs::read_to_string(path).unwrap_or_default();
            let all: Vec<&str> = text.lines().collect();
            s.push_str(&format!("--- {path} ---\n"));
            for l in &all[all.len().saturating_sub(lines)..] {
                s.push_str(l);
                s.push('\n');
            }
        }
        s
    }

    /// Stops Dovecot and Postfix; no process of the stack remains afterwards. Idempotent.
    pub fn stop(&mut self) {
        if self.stopped {
            return;
        }
        self.stopped = true;
        let out = run_script("stop", self.dir.path());
        if !out.status.success() {
            // Don't panic in Drop (it could abort during unwinding); say it loudly instead.
            let _ = writeln!(
                std::io::stderr(),
                "scripts/mailstack stop {} failed ({}): {}{}",
                self.dir.path().display(),
                out.status,
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
}

impl Drop for MailStack {
    fn drop(&mut self) {
        self.stop()
    }
}

/// Runs `scripts/mailstack CMD DIR` with no stdin, capturing its output. Started through
/// bash so that a lost executable bit does not matter.
fn run_script(cmd: &str, dir: &Path) -> Output {
    run_script_env(cmd, dir, &[])
}

fn run_script_env(cmd: &str, dir: &Path, env: &[(&str, &str)]) -> Output {
    Command::new("bash")
        .arg(stack_script())
        .arg(cmd)
        .arg(dir)
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("run bash {} {cmd}: {e}", stack_script().display()))
}

/// Why the stack cannot run here, if it cannot (checked before creating anything).
fn unavailable_reason() -> Option<String> {
    let missing: Vec<&str> = ["dovecot", "doveadm", "postfix", "openssl"]
        .into_iter()
        .filter(|b| find_program(b).is_none())
        .collect();
    if !missing.is_empty() {
        return Some(format!("not installed: {}", missing.join(", ")));
    }
    if !is_root() {
        return Some("not running as root (Dovecot and Postfix must switch users)".into());
    }
    None
}

/// Program lookup in PATH plus the sbin directories (often missing from a user's PATH).
fn find_program(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(
            ["/usr/sbin", "/usr/bin", "/sbin", "/bin", "/usr/local/sbin"]
                .iter()
                .map(PathBuf::from),
        )
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

/// A program's full path when known, else its bare name.
fn sbin(name: &str) -> PathBuf {
    find_program(name).unwrap_or_else(|| PathBuf::from(name))
}

fn is_root() -> bool {
    // /proc/self/status "Uid:\treal\teffective\t..." (std has no getuid).
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("Uid:"))
                .and_then(|rest| rest.split_whitespace().nth(1).map(|e| e == "0"))
        })
        .unwrap_or(false)
}

fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode));
}

/// `KEY=value` lines; blank lines and `#` comments ignored.
fn parse_env(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect()
}

/// Skip (loud notice on the real stderr, return None) or, with MAILSETUP_REQUIRE_STACK=1, panic.
fn skip(test_name: &str, reason: &str) -> Option<MailStack> {
    if std::env::var("MAILSETUP_REQUIRE_STACK")
        .map(|v| v == "1")
        .unwrap_or(false)
    {
        panic!(
            "[{test_name}] the real mail stack is required (MAILSETUP_REQUIRE_STACK=1) but cannot run: {reason}. \
             Install it with scripts/install-test-deps (as root)."
        );
    }
    // Straight to fd 2: eprintln! output is captured by libtest and shown only on failure.
    let mut err = std::io::stderr().lock();
    let _ = writeln!(
        err,
        "\n\
         ######## SKIPPED: {test_name} did NOT test anything ########\n\
         ## The real mail stack (Dovecot + Postfix, scripts/mailstack) cannot run here:\n\
         ##   {reason}\n\
         ## Install it with `scripts/install-test-deps` (as root) and run the tests with\n\
         ## `scripts/test`; set MAILSETUP_REQUIRE_STACK=1 to make this a failure instead.\n\
         ############################################################\n"
    );
    let _ = err.flush();
    None
}
