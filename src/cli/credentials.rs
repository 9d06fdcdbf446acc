//! Where a password or token comes from: a command, an environment variable, a file, stdin,
//! or a no-echo prompt. Never argv.

use std::io::{IsTerminal, Read};
use std::process::{Command, Stdio};

use anyhow::{bail, Context as _, Result};
use zeroize::Zeroizing;

use crate::model::Secret;
use crate::session::login::{CredentialKind, Credentials};

/// The error for `--password VALUE`: argv is visible to every user of the machine (`ps`).
pub const PASSWORD_IN_ARGV: &str = "mailsetup never takes a password on the command line (other users can read it with `ps`). \
Use --password-command CMD (e.g. 'pass show mail/me'), --password-env VAR, --password-file PATH (- for stdin), \
or run it in a terminal to be asked without echo.";

/// True for `--password` and `--password=...` (but not `--password-file` and friends).
pub fn is_password_flag(arg: &std::ffi::OsStr) -> bool {
    let a = arg.to_string_lossy();
    a == "--password" || a.starts_with("--password=") || a == "--pass" || a.starts_with("--pass=")
}

#[derive(Debug, Clone, clap::Args)]
pub struct CredentialArgs {
    /// User name for login (default: the full email address)
    #[arg(long, value_name = "NAME")]
    pub username: Option<String>,

    /// Run CMD with `sh -c` and use the first line of its output as the password
    #[arg(long = "password-command", value_name = "CMD", group = "credential")]
    pub password_command: Option<String>,

    /// Read the password from environment variable VAR
    #[arg(long = "password-env", value_name = "VAR", group = "credential")]
    pub password_env: Option<String>,

    /// Read the password from the first line of PATH (- reads standard input)
    #[arg(long = "password-file", value_name = "PATH", group = "credential")]
    pub password_file: Option<String>,

    /// Run CMD with `sh -c`; its first output line is an OAuth2 access token (XOAUTH2/OAUTHBEARER)
    #[arg(
        long = "oauth2-token-command",
        value_name = "CMD",
        group = "credential"
    )]
    pub oauth2_token_command: Option<String>,

    /// Log in with the OAuth2 sign-in stored by `mailsetup oauth2 login` (the default when
    /// one is stored for the address and no other credential is given)
    #[arg(long = "oauth2", group = "credential")]
    pub oauth2: bool,
}

impl CredentialArgs {
    /// The credentials for this run, or `None` when there are none and no terminal to ask on.
    pub fn load(&self, default_username: &str) -> Result<Option<Credentials>> {
        let mut username = self
            .username
            .clone()
            .unwrap_or_else(|| default_username.to_string());
        if username.is_empty() || username.chars().any(|c| c.is_control()) {
            bail!("--username must not be empty or contain control characters");
        }
        let (secret, kind) = if let Some(cmd) = &self.password_command {
            (
                run_command(cmd, "--password-command")?,
                CredentialKind::Password,
            )
        } else if let Some(cmd) = &self.oauth2_token_command {
            (
                run_command(cmd, "--oauth2-token-command")?,
                CredentialKind::OAuth2Token,
            )
        } else if let Some(var) = &self.password_env {
            let value = Zeroizing::new(std::env::var(var).with_context(|| {
                format!("--password-env {var}: the variable is not set (or not UTF-8)")
            })?);
            (
                first_line(value.as_bytes(), "--password-env")?,
                CredentialKind::Password,
            )
        } else if let Some(path) = &self.password_file {
            let mut data = Zeroizing::new(Vec::new());
            if path == "-" {
                std::io::stdin()
                    .lock()
                    .read_to_end(&mut data)
                    .context("reading the password from standard input")?;
            } else {
                data = Zeroizing::new(
                    std::fs::read(path).with_context(|| format!("--password-file {path}"))?,
                );
            }
            (
                first_line(&data, "--password-file")?,
                CredentialKind::Password,
            )
        } else if self.oauth2 || crate::oauth2::has_login(default_username) {
            // The stored sign-in knows the login name the provider expects.
            if self.username.is_none() {
                if let Some(a) = crate::oauth2::store::Paths::from_env()
                    .ok()
                    .and_then(|p| p.load_account(default_username).ok().flatten())
                {
                    username = a.username;
                }
            }
            // The stored sign-in, through the same command written configs run: a fresh
            // token arrives on a pipe, never in argv.
            (
                run_command(
                    &super::oauth2::token_command(default_username),
                    "--oauth2 (mailsetup oauth2 token)",
                )?,
                CredentialKind::OAuth2Token,
            )
        } else if std::io::stdin().is_terminal() && std::io::stderr().is_terminal() {
            let pw = dialoguer::Password::new()
                .with_prompt(format!("Password for {username}"))
                .allow_empty_password(false)
                .interact()
                .context("reading the password from the terminal")?;
            (Secret::new(pw), CredentialKind::Password)
        } else {
            return Ok(None);
        };
        Ok(Some(Credentials::new(username, secret, kind)))
    }
}

/// Runs a password command (`sh -c`) and returns the first line of its output.
pub fn run_password_command(cmd: &str, what: &str) -> Result<Secret> {
    run_command(cmd, what)
}

fn run_command(cmd: &str, flag: &str) -> Result<Secret> {
    let out = Command::new("sh")
        .arg("-c")
        .arg(cmd)
        .stdin(Stdio::inherit())
        .stderr(Stdio::inherit())
        .stdout(Stdio::piped())
        .output()
        .with_context(|| format!("{flag}: could not run sh"))?;
    let stdout = Zeroizing::new(out.stdout);
    if !out.status.success() {
        bail!(
            "{flag}: the command failed ({}); run it by hand to see why",
            out.status
        );
    }
    first_line(&stdout, flag)
}

/// The first line of `data` as the secret. Borrowed until the one copy that goes into the
/// [`Secret`] (no intermediate buffer keeps the password after use).
fn first_line(data: &[u8], flag: &str) -> Result<Secret> {
    let end = data.iter().position(|&b| b == b'\n').unwrap_or(data.len());
    let line = std::str::from_utf8(&data[..end])
        .map_err(|_| anyhow::anyhow!("{flag}: the password is not UTF-8 text"))?;
    let trimmed = line.trim_end_matches(['\n', '\r']);
    if trimmed.is_empty() {
        bail!("{flag}: gave an empty password");
    }
    if trimmed.chars().any(|c| c.is_control()) {
        bail!("{flag}: the password contains control characters");
    }
    Ok(Secret::new(trimmed.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_flags_are_recognised_exactly() {
        for a in ["--password", "--password=x", "--pass=y"] {
            assert!(is_password_flag(a.as_ref()), "{a}");
        }
        for a in ["--password-file", "--password-env=X", "--passwordx", "-p"] {
            assert!(!is_password_flag(a.as_ref()), "{a}");
        }
    }

    #[test]
    fn first_line_only() {
        assert_eq!(
            first_line(b"s3cret\r\nrest", "f").unwrap().expose(),
            "s3cret"
        );
        assert!(first_line(b"\n", "f").is_err());
    }

    #[test]
    fn command_output() {
        let s = run_command("printf 'abc\\ndef'", "--password-command").unwrap();
        assert_eq!(s.expose(), "abc");
        assert!(run_command("exit 3", "--password-command").is_err());
    }
}
