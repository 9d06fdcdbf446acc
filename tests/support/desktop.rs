//! A user's desktop session for the real mail clients, as on a fresh machine: an unprivileged
//! user (`nobody`) with a fresh, empty HOME, a private D-Bus session with a real Secret Service
//! (gnome-keyring-daemon, unlocked with a test password), and a private mount namespace per
//! command in which /etc/hosts names mail.example.test and the system CA bundle also holds the
//! stack's test CA (the generated files are used exactly as written).
//!
//! Everything runs as that user: the wizard (in tmux), `mailsetup password get` called by the
//! clients, and the clients themselves, all inside the same D-Bus session. The D-Bus and
//! keyring daemons are stopped by PID when the desktop is dropped.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use super::stack::MailStack;

/// The host name the stack's certificate names (127.0.0.1 inside the sandbox).
pub const HOST: &str = "mail.example.test";
/// The keyring's unlock password.
pub const KEYRING_PASSWORD: &str = "keyring-test-password";
const USER: &str = "nobody";
const GROUP: &str = "nogroup";
/// Run by `sh -c` in the new mount namespace: $1 = CA bundle, $2 = hosts file, then the command.
const SANDBOX_SH: &str = r#"set -e
mount --bind "$1" /etc/ssl/certs/ca-certificates.crt
mount --bind "$2" /etc/hosts
shift 2
exec "$@""#;

pub struct Desktop {
    dir: tempfile::TempDir,
    pub home: PathBuf,
    pub bus: Option<String>,
    pids: Vec<u32>,
}

fn chown(path: &Path) {
    let ok = Command::new("chown")
        .args(["-R", &format!("{USER}:{GROUP}")])
        .arg(path)
        .status()
        .unwrap()
        .success();
    assert!(ok, "chown {}", path.display());
}

fn mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

impl Desktop {
    /// A fresh desktop for `stack`; with `keyring`, a D-Bus session and an unlocked
    /// gnome-keyring-daemon (their absence is a failure: scripts/install-test-deps installs them).
    pub fn start(stack: &MailStack, keyring: bool) -> Desktop {
        let dir = tempfile::Builder::new()
            .prefix("dk")
            .tempdir_in("/tmp")
            .unwrap();
        mode(dir.path(), 0o755);
        let home = dir.path().join("home");
        std::fs::create_dir(&home).unwrap();
        let system = std::fs::read_to_string("/etc/ssl/certs/ca-certificates.crt").unwrap();
        let ca = std::fs::read_to_string(stack.ca_file()).unwrap();
        let hosts = std::fs::read_to_string("/etc/hosts").unwrap_or_default();
        std::fs::write(dir.path().join("bundle.pem"), format!("{system}\n{ca}")).unwrap();
        std::fs::write(
            dir.path().join("hosts"),
            format!("{hosts}\n127.0.0.1 {HOST}\n"),
        )
        .unwrap();
        for f in ["bundle.pem", "hosts"] {
            mode(&dir.path().join(f), 0o644);
        }
        chown(&home);
        mode(&home, 0o700);
        // Sockets and test files the user must own (tmux servers, password files).
        let run = dir.path().join("run");
        std::fs::create_dir(&run).unwrap();
        chown(&run);
        let mut desktop = Desktop {
            dir,
            home,
            bus: None,
            pids: Vec::new(),
        };
        if keyring {
            desktop.start_keyring();
        }
        desktop
    }

    fn start_keyring(&mut self) {
        for program in ["dbus-daemon", "gnome-keyring-daemon", "secret-tool"] {
            assert!(
                Path::new("/usr/bin").join(program).exists(),
                "{program} is not installed: run scripts/install-test-deps (as root)"
            );
        }
        let out = self
            .command(
                "dbus-daemon",
                &["--session", "--fork", "--print-address=1", "--print-pid=1"],
            )
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        let mut lines = text.lines();
        let (Some(addr), Some(pid)) = (lines.next(), lines.next()) else {
            panic!(
                "dbus-daemon: {text}{}",
                String::from_utf8_lossy(&out.stderr)
            );
        };
        self.pids.push(pid.trim().parse().unwrap());
        self.bus = Some(addr.trim().to_string());
        let mut keyring = self
            .command(
                "gnome-keyring-daemon",
                &["--foreground", "--unlock", "--components=secrets"],
            )
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        keyring
            .stdin
            .take()
            .unwrap()
            .write_all(KEYRING_PASSWORD.as_bytes())
            .unwrap();
        self.pids.push(keyring.id());
        // Ready when a secret can be stored without a prompt: the daemon answers on the bus
        // AND its default collection exists and is unlocked. (A lookup alone answers "no such
        // secret" before the collection is there; a store at that moment asks for a prompt,
        // which a headless session dismisses.) The probe secret is removed again.
        let deadline = Instant::now() + Duration::from_secs(20);
        let bin = super::bin();
        let probe = "probe@example.invalid";
        loop {
            let mut set = self
                .command(
                    bin.to_str().unwrap(),
                    &["password", "set", "--store", "keyring", probe],
                )
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap();
            set.stdin
                .take()
                .unwrap()
                .write_all(b"probe-secret\n")
                .unwrap();
            let out = set.wait_with_output().unwrap();
            if out.status.success() {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "the Secret Service did not come up: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            std::thread::sleep(Duration::from_millis(200));
        }
        let deleted = self
            .command(
                bin.to_str().unwrap(),
                &["password", "delete", "--store", "keyring", probe],
            )
            .output()
            .unwrap();
        assert!(
            deleted.status.success(),
            "the probe secret was not removed: {}",
            String::from_utf8_lossy(&deleted.stderr)
        );
        // gnome-keyring-daemon is reaped by the test process's exit; keep the Child around.
        std::mem::forget(keyring);
    }

    /// The desktop's private directory (not the HOME), for test files.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// `program args` in the sandbox, as the desktop's user, with only HOME, PATH, LANG, TERM
    /// and the D-Bus address in its environment.
    pub fn command(&self, program: &str, args: &[&str]) -> Command {
        let mut cmd = Command::new("unshare");
        cmd.args([
            "--mount",
            "--propagation",
            "private",
            "sh",
            "-c",
            SANDBOX_SH,
            "sh",
        ])
        .arg(self.dir.path().join("bundle.pem"))
        .arg(self.dir.path().join("hosts"))
        .args([
            "setpriv",
            &format!("--reuid={USER}"),
            &format!("--regid={GROUP}"),
            "--clear-groups",
            program,
        ])
        .args(args)
        .env_clear()
        .env(
            "PATH",
            "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        )
        .env("HOME", &self.home)
        .env("LANG", "C.UTF-8")
        .env("TERM", "xterm")
        // nobody's login shell is nologin; tmux and script run commands with $SHELL.
        .env("SHELL", "/bin/sh")
        .current_dir(&self.home)
        .stdin(Stdio::null());
        if let Some(bus) = &self.bus {
            cmd.env("DBUS_SESSION_BUS_ADDRESS", bus);
        }
        cmd
    }

    /// Runs `program args` (bounded by `timeout`), with `input` on stdin.
    pub fn run(&self, program: &str, args: &[&str], input: &str) -> Output {
        let mut words = vec!["--kill-after=5", "90", program];
        words.extend_from_slice(args);
        let mut child = self
            .command("timeout", &words)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        let input = input.as_bytes().to_vec();
        let writer = std::thread::spawn(move || {
            let _ = stdin.write_all(&input);
        });
        let out = child.wait_with_output().unwrap();
        let _ = writer.join();
        assert_ne!(out.status.code(), Some(124), "{program} {args:?} timed out");
        out
    }

    /// Like [`Desktop::run`], and the command must succeed.
    pub fn run_ok(&self, program: &str, args: &[&str], input: &str) -> Output {
        let out = self.run(program, args, input);
        assert!(
            out.status.success(),
            "{program} {args:?} failed ({}):\n{}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }

    /// Every regular file below HOME.
    pub fn files(&self) -> Vec<PathBuf> {
        fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
            let Ok(entries) = std::fs::read_dir(dir) else {
                return;
            };
            for e in entries.flatten() {
                let p = e.path();
                let Ok(t) = e.file_type() else { continue };
                if t.is_dir() {
                    walk(&p, out);
                } else if t.is_file() {
                    out.push(p);
                }
            }
        }
        let mut out = Vec::new();
        walk(&self.home, &mut out);
        out.sort();
        out
    }
}

impl Drop for Desktop {
    fn drop(&mut self) {
        for pid in self.pids.iter().rev() {
            let _ = Command::new("kill").arg(pid.to_string()).status();
        }
    }
}

/// A tmux session inside a desktop (its own server socket, so it inherits the desktop's
/// environment and mount namespace).
pub struct Tmux<'d> {
    desktop: &'d Desktop,
    socket: String,
}

impl<'d> Tmux<'d> {
    pub fn start(desktop: &'d Desktop, name: &str, cmd: &str) -> Tmux<'d> {
        let socket = desktop
            .dir()
            .join("run")
            .join(format!("tmux-{name}.sock"))
            .display()
            .to_string();
        let ok = desktop
            .command(
                "tmux",
                &[
                    "-S",
                    &socket,
                    "new-session",
                    "-d",
                    "-s",
                    "t",
                    "-x",
                    "200",
                    "-y",
                    "60",
                    &format!("{cmd}; echo WIZARD-EXIT=$?; sleep 600"),
                ],
            )
            .status()
            .unwrap()
            .success();
        assert!(ok, "tmux new-session failed");
        Tmux { desktop, socket }
    }

    pub fn screen(&self) -> String {
        let out = self
            .desktop
            .command(
                "tmux",
                &[
                    "-S",
                    &self.socket,
                    "capture-pane",
                    "-p",
                    "-J",
                    "-S",
                    "-500",
                    "-t",
                    "t",
                ],
            )
            .output()
            .unwrap();
        if !out.status.success() {
            return format!("(tmux: {})", String::from_utf8_lossy(&out.stderr).trim());
        }
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    pub fn wait_for(&self, text: &str, secs: u64) -> String {
        let deadline = Instant::now() + Duration::from_secs(secs);
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

    pub fn keys(&self, keys: &[&str]) {
        let mut args = vec!["-S", self.socket.as_str(), "send-keys", "-t", "t"];
        args.extend_from_slice(keys);
        assert!(self
            .desktop
            .command("tmux", &args)
            .status()
            .unwrap()
            .success());
    }
}

impl Drop for Tmux<'_> {
    fn drop(&mut self) {
        let _ = self
            .desktop
            .command("tmux", &["-S", &self.socket, "kill-server"])
            .status();
    }
}
