//! OAuth2 test world: the mail stack in its OAuth2 mode (a real authorization server,
//! oidc-provider, plus Dovecot validating tokens by introspection), a private HOME for
//! mailsetup's token store, and the user agent (`tests/oauth2-server/user_agent.py`) that
//! plays the user on the server's pages.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::Value;

use super::desktop::Desktop;
use super::run::Run;
use super::stack::MailStack;

/// The host name the stack's certificate names (clients reach it through /etc/hosts in a
/// private mount namespace; mailsetup through --connect-to).
pub const HOST: &str = "mail.example.test";

pub struct OAuthWorld {
    pub stack: MailStack,
    pub dir: tempfile::TempDir,
}

/// Builds the user agent's arguments from the line mailsetup printed.
pub type Agent<'a> = &'a dyn Fn(&str) -> Vec<String>;

/// A `mailsetup oauth2 login` run that waited for the user.
pub struct LoginRun {
    pub run: Run,
    /// What the user agent printed (one line per page).
    pub user_agent: String,
}

impl OAuthWorld {
    /// Starts the stack in OAuth2 mode with `env` (e.g. short lifetimes); None when skipped.
    pub fn start(test_name: &str, env: &[(&str, &str)]) -> Option<OAuthWorld> {
        let mut all = vec![("MAILSTACK_OAUTH2", "1")];
        all.extend_from_slice(env);
        let stack = MailStack::start_with_env(test_name, &all)?;
        let dir = tempfile::Builder::new()
            .prefix("oa")
            .tempdir_in("/tmp")
            .expect("temp dir");
        std::fs::create_dir(dir.path().join("home")).unwrap();
        let system =
            std::fs::read_to_string("/etc/ssl/certs/ca-certificates.crt").unwrap_or_default();
        let ca = std::fs::read_to_string(stack.ca_file()).unwrap();
        std::fs::write(dir.path().join("ca-bundle.crt"), format!("{system}\n{ca}")).unwrap();
        let hosts = std::fs::read_to_string("/etc/hosts").unwrap_or_default();
        std::fs::write(
            dir.path().join("hosts"),
            format!("{hosts}\n127.0.0.1 {HOST}\n"),
        )
        .unwrap();
        Some(OAuthWorld { stack, dir })
    }

    pub fn home(&self) -> PathBuf {
        self.dir.path().join("home")
    }

    pub fn user(&self) -> &str {
        self.stack.get("OAUTH2_USER")
    }

    pub fn issuer(&self) -> &str {
        self.stack.get("OAUTH2_ISSUER")
    }

    pub fn ca(&self) -> String {
        self.stack.get("CA_FILE").to_string()
    }

    /// The token store's files for the user.
    pub fn tokens_file(&self) -> PathBuf {
        self.home()
            .join(".local/share/mailsetup/oauth2")
            .join(format!("{}.tokens.json", self.user()))
    }

    pub fn account_file(&self) -> PathBuf {
        self.home()
            .join(".local/share/mailsetup/oauth2")
            .join(format!("{}.account.json", self.user()))
    }

    /// The stored refresh token (read like the user could; never printed by the tests).
    pub fn stored_refresh_token(&self) -> Option<String> {
        let text = std::fs::read_to_string(self.tokens_file()).ok()?;
        let v: Value = serde_json::from_str(&text).ok()?;
        v["refresh_token"].as_str().map(str::to_string)
    }

    /// `mailsetup ARGS` with this world's HOME (and no XDG overrides).
    pub fn mailsetup(&self, args: &[&str], env: &[(&str, &str)]) -> Run {
        let start = Instant::now();
        let mut cmd = self.command(args, env);
        let out = cmd.stdin(Stdio::null()).output().expect("run mailsetup");
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            elapsed: start.elapsed(),
        }
    }

    /// `mailsetup ARGS` with this world's HOME, no XDG overrides, no graphical session and no
    /// secret store (no D-Bus session, no pass): the tokens go to the 0600 file fallback, and
    /// the tester's own keyring is never touched. (`tests/oauth2.rs` runs the keyring path in
    /// a `support::desktop::Desktop`.)
    pub fn command(&self, args: &[&str], env: &[(&str, &str)]) -> Command {
        let mut cmd = Command::new(super::bin());
        cmd.args(args)
            .env("HOME", self.home())
            .env_remove("XDG_DATA_HOME")
            .env_remove("XDG_CONFIG_HOME")
            .env_remove("DISPLAY")
            .env_remove("WAYLAND_DISPLAY")
            .env_remove("NO_COLOR")
            .env_remove("DBUS_SESSION_BUS_ADDRESS")
            .env_remove("XDG_RUNTIME_DIR")
            .env_remove("PASSWORD_STORE_DIR");
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd
    }

    /// `mailsetup oauth2 token USER`.
    pub fn token(&self) -> Run {
        self.mailsetup(&["oauth2", "token", self.user()], &[])
    }

    /// Runs `mailsetup oauth2 login USER --oauth2-issuer … --ca-file … EXTRA`; when stderr shows
    /// the line `wait_for` matches, runs the user agent with `agent(line)` (None: no user ever
    /// comes); then waits for mailsetup to finish.
    pub fn login(&self, extra: &[&str], wait_for: &str, agent: Option<Agent<'_>>) -> LoginRun {
        let ca = self.ca();
        let mut args = vec![
            "oauth2",
            "login",
            self.user(),
            "--oauth2-issuer",
            self.issuer(),
            "--ca-file",
            &ca,
            "--timeout",
            "60",
        ];
        args.extend_from_slice(extra);
        self.run_with_user(&args, wait_for, agent)
    }

    /// Runs `mailsetup ARGS`; when stderr shows a line containing `wait_for`, runs the user
    /// agent with `agent(line)` (None: no user ever comes); then waits for mailsetup.
    pub fn run_with_user(
        &self,
        args: &[&str],
        wait_for: &str,
        agent: Option<Agent<'_>>,
    ) -> LoginRun {
        run_with_user(self.command(args, &[]), &self.ca(), wait_for, agent)
    }

    /// `mailsetup ARGS` as a desktop's user, in its sandbox, bounded in time; `dbus`: inside
    /// the desktop's D-Bus session (where its keyring is), else with no D-Bus session at all
    /// (a cron job, an SSH login).
    pub fn desktop_command(&self, d: &Desktop, args: &[&str], dbus: bool) -> Command {
        let bin = super::bin();
        let mut words = vec!["--kill-after=5", "90", bin.to_str().unwrap()];
        words.extend_from_slice(args);
        let mut cmd = d.command("timeout", &words);
        if !dbus {
            cmd.env_remove("DBUS_SESSION_BUS_ADDRESS");
        }
        cmd
    }

    /// Like [`OAuthWorld::mailsetup`], in a desktop (see [`OAuthWorld::desktop_command`]).
    pub fn desktop_mailsetup(&self, d: &Desktop, args: &[&str], dbus: bool) -> Run {
        let start = Instant::now();
        let out = self
            .desktop_command(d, args, dbus)
            .stdin(Stdio::null())
            .output()
            .expect("run mailsetup");
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            elapsed: start.elapsed(),
        }
    }

    /// `mailsetup oauth2 login USER --flow device …` in a desktop, the user agent confirming
    /// the code.
    pub fn desktop_login(&self, d: &Desktop, extra: &[&str], dbus: bool) -> LoginRun {
        let ca = self.ca();
        let mut args = vec![
            "oauth2",
            "login",
            self.user(),
            "--oauth2-issuer",
            self.issuer(),
            "--ca-file",
            &ca,
            "--timeout",
            "60",
            "--flow",
            "device",
            "--oauth2-client-id",
            "mailsetup-test",
        ];
        args.extend_from_slice(extra);
        let user = self.user().to_string();
        let agent = move |line: &str| vec!["device".to_string(), url_in(line), user.clone()];
        run_with_user(
            self.desktop_command(d, &args, dbus),
            &ca,
            "carries the code",
            Some(&agent),
        )
    }

    /// The account file and the tokens file in a desktop's HOME.
    pub fn desktop_files(&self, d: &Desktop) -> (PathBuf, PathBuf) {
        let dir = d.home.join(".local/share/mailsetup/oauth2");
        (
            dir.join(format!("{}.account.json", self.user())),
            dir.join(format!("{}.tokens.json", self.user())),
        )
    }

    /// The refresh token in the desktop's keyring, read with libsecret's own `secret-tool`
    /// (None when the keyring has none).
    pub fn keyring_refresh_token(&self, d: &Desktop) -> Option<String> {
        let out = d.run(
            "secret-tool",
            &[
                "lookup",
                "service",
                "mailsetup",
                "account",
                self.user(),
                "kind",
                "oauth2-refresh-token",
            ],
            "",
        );
        let text = String::from_utf8_lossy(&out.stdout).trim().to_string();
        (out.status.success() && !text.is_empty()).then_some(text)
    }

    /// The authorization server's request log (JSON lines; it never holds a token).
    pub fn server_log(&self) -> Vec<Value> {
        std::fs::read_to_string(self.stack.get("OAUTH2_LOG"))
            .unwrap_or_default()
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect()
    }

    /// How many refresh-token grants the server answered with `status`.
    pub fn refreshes(&self, status: u64) -> usize {
        self.server_log()
            .iter()
            .filter(|e| e["grant_type"] == "refresh_token" && e["status"] == status)
            .count()
    }

    /// Revokes `token` at the server's revocation endpoint, as the user would in the
    /// provider's security settings.
    pub fn revoke_at_server(&self, token: &str) {
        let url = format!("{}/token/revocation", self.issuer());
        let mut child = Command::new("python3")
            .arg(user_agent_script())
            .args(["revoke", &url, self.stack.get("OAUTH2_CLIENT_ID")])
            .env("USER_AGENT_CA_FILE", self.ca())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run user_agent.py revoke");
        use std::io::Write;
        writeln!(child.stdin.take().unwrap(), "{token}").unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "revoke failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// `--connect-to HOST:P:127.0.0.1:P` for each of the stack's mail ports (mailsetup runs
    /// outside the clients' namespace, where HOST does not resolve).
    pub fn connect_to(&self) -> Vec<String> {
        let mut out = Vec::new();
        for key in [
            "IMAPS_PORT",
            "IMAP_PORT",
            "POP3S_PORT",
            "POP3_PORT",
            "SUBMISSIONS_PORT",
            "SUBMISSION_PORT",
        ] {
            let p = self.stack.port(key);
            out.push("--connect-to".into());
            out.push(format!("{HOST}:{p}:127.0.0.1:{p}"));
        }
        out
    }

    /// Runs a real mail client in a private mount namespace where the system CA bundle also
    /// holds the test CA and /etc/hosts names HOST, with this world's HOME; bounded in time.
    /// `terminal`: inside `script` (a pseudo-terminal).
    pub fn client(&self, program: &str, args: &[&str], input: &str, terminal: bool) -> Run {
        const SANDBOX_SH: &str = r#"set -e
mount --bind "$1" /etc/ssl/certs/ca-certificates.crt
mount --bind "$2" /etc/hosts
shift 2
exec "$@""#;
        let start = Instant::now();
        let mut cmd = Command::new("timeout");
        cmd.args(["--kill-after=5", if terminal { "20" } else { "60" }])
            .args(["unshare", "--mount", "--propagation", "private"])
            .args(["sh", "-c", SANDBOX_SH, "sh"])
            .arg(self.dir.path().join("ca-bundle.crt"))
            .arg(self.dir.path().join("hosts"));
        if terminal {
            let command = std::iter::once(program)
                .chain(args.iter().copied())
                .map(sh_quote)
                .collect::<Vec<_>>()
                .join(" ");
            cmd.args(["script", "-q", "-e", "-c", &command, "/dev/null"]);
        } else {
            cmd.arg(program).args(args);
        }
        cmd.env_clear()
            .env(
                "PATH",
                "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            )
            .env("HOME", self.home())
            .env("TERM", "xterm")
            .env("LANG", "C.UTF-8")
            .current_dir(self.home())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("spawn client");
        {
            use std::io::Write;
            let mut stdin = child.stdin.take().unwrap();
            let _ = stdin.write_all(input.as_bytes());
        }
        let out = child.wait_with_output().unwrap();
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            elapsed: start.elapsed(),
        }
    }
}

/// Runs `cmd` (a `mailsetup` command that signs in); when its stderr shows a line containing
/// `wait_for`, runs the user agent with `agent(line)` (None: no user ever comes); then waits
/// for it to finish.
pub fn run_with_user(
    mut cmd: Command,
    ca: &str,
    wait_for: &str,
    agent: Option<Agent<'_>>,
) -> LoginRun {
    let start = Instant::now();
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn mailsetup oauth2 login");
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = mpsc::channel::<String>();
    let reader = std::thread::spawn(move || {
        let mut all = String::new();
        for line in BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            all.push_str(&line);
            all.push('\n');
            let _ = tx.send(line);
        }
        all
    });
    let mut user_agent = String::new();
    if let Some(agent) = agent {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok(line) if line.contains(wait_for) => {
                    let out = run_user_agent(ca, &agent(&line));
                    user_agent = out;
                    break;
                }
                Ok(_) => continue,
                Err(_) => {
                    let _ = child.kill();
                    panic!("mailsetup oauth2 login never printed {wait_for:?}");
                }
            }
        }
    }
    let deadline = Instant::now() + Duration::from_secs(90);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("mailsetup oauth2 login did not finish");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = child.wait_with_output().unwrap();
    let stderr = reader.join().unwrap();
    LoginRun {
        run: Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr,
            elapsed: start.elapsed(),
        },
        user_agent,
    }
}

pub fn user_agent_script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/oauth2-server/user_agent.py")
}

/// Runs the user agent; returns what it printed (stdout and stderr).
pub fn run_user_agent(ca: &str, args: &[String]) -> String {
    let out = Command::new("timeout")
        .args(["60", "python3"])
        .arg(user_agent_script())
        .args(args)
        .env("USER_AGENT_CA_FILE", ca)
        .stdin(Stdio::null())
        .output()
        .expect("run user_agent.py");
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// The first https URL in a line.
pub fn url_in(line: &str) -> String {
    let start = line.find("https://").expect("a URL in the line");
    line[start..].split_whitespace().next().unwrap().to_string()
}

fn sh_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

/// Every file below `dir`, recursively.
pub fn files_below(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(files_below(&p));
            } else {
                out.push(p);
            }
        }
    }
    out
}
