//! `pass`, the standard Unix password manager (GnuPG-encrypted files below
//! `~/.password-store`). Used only when the store is initialised (`.gpg-id` exists). The
//! password entry is `mail/ADDRESS` (the name mailsetup's configs have always suggested);
//! other kinds live at `mail/ADDRESS/KIND`. Secrets go to `pass insert` on stdin, never argv.

use std::path::PathBuf;
use std::process::Stdio;

use tokio::io::AsyncWriteExt;
use zeroize::Zeroizing;

use super::{SecretError, SecretKey, SecretKind, StoreEnv, READ_TIMEOUT, WRITE_TIMEOUT};
use crate::model::Secret;

const STORE: &str = "pass password store";

fn err(kind: fn(String, String) -> SecretError, reason: impl ToString) -> SecretError {
    kind(STORE.to_string(), reason.to_string())
}
fn unavailable(store: String, reason: String) -> SecretError {
    SecretError::Unavailable { store, reason }
}
fn failed(store: String, reason: String) -> SecretError {
    SecretError::Failed { store, reason }
}
fn locked(store: String, reason: String) -> SecretError {
    SecretError::Locked { store, reason }
}

/// The entry name of a secret.
pub fn entry(key: SecretKey<'_>) -> String {
    match key.kind {
        SecretKind::Password => format!("mail/{}", key.account),
        other => format!("mail/{}/{}", key.account, other.as_str()),
    }
}

/// The store directory, when it is initialised and `pass` is installed.
pub fn available(env: &StoreEnv) -> Result<PathBuf, SecretError> {
    let dir = match (&env.password_store_dir, &env.home) {
        (Some(d), _) => d.clone(),
        (None, Some(h)) => h.join(".password-store"),
        (None, None) => return Err(err(unavailable, "$HOME is not set")),
    };
    if !dir.join(".gpg-id").is_file() {
        return Err(err(
            unavailable,
            format!(
                "{} is not initialised (run `pass init YOUR-GPG-KEY-ID` first)",
                dir.display()
            ),
        ));
    }
    if which("pass").is_none() {
        return Err(err(unavailable, "the `pass` program is not installed"));
    }
    Ok(dir)
}

fn which(program: &str) -> Option<PathBuf> {
    let paths = std::env::var_os("PATH")?;
    std::env::split_paths(&paths)
        .map(|d| d.join(program))
        .find(|p| p.is_file())
}

struct Output {
    code: Option<i32>,
    stdout: Zeroizing<Vec<u8>>,
    stderr: String,
}

/// Runs `pass ARGS` with `input` on stdin, bounded in time; stdout capped at 64 KiB.
async fn run(
    env: &StoreEnv,
    args: &[&str],
    input: Option<&[u8]>,
    limit: std::time::Duration,
) -> Result<Output, SecretError> {
    let dir = available(env)?;
    let mut cmd = tokio::process::Command::new("pass");
    cmd.args(args)
        .env("PASSWORD_STORE_DIR", &dir)
        .stdin(if input.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    if let Some(home) = &env.home {
        cmd.env("HOME", home);
    }
    let mut child = cmd
        .spawn()
        .map_err(|e| err(unavailable, format!("cannot run pass: {e}")))?;
    let stdin = child.stdin.take();
    let work = async {
        if let (Some(mut w), Some(bytes)) = (stdin, input) {
            w.write_all(bytes).await?;
            w.shutdown().await?;
        }
        child.wait_with_output().await
    };
    let out = match tokio::time::timeout(limit, work).await {
        Ok(r) => r.map_err(|e| err(failed, e))?,
        Err(_) => {
            return Err(err(
                locked,
                format!(
                    "pass did not finish within {} s (is GnuPG waiting for a passphrase?)",
                    limit.as_secs()
                ),
            ))
        }
    };
    let mut stdout = Zeroizing::new(out.stdout);
    stdout.truncate(64 * 1024);
    let stderr: String = String::from_utf8_lossy(&out.stderr)
        .chars()
        .take(500)
        .collect();
    Ok(Output {
        code: out.status.code(),
        stdout,
        stderr: stderr.trim().to_string(),
    })
}

pub async fn get(env: &StoreEnv, key: SecretKey<'_>) -> Result<Option<Secret>, SecretError> {
    let name = entry(key);
    let out = run(env, &["show", &name], None, READ_TIMEOUT).await?;
    if out.code == Some(0) {
        let text = std::str::from_utf8(&out.stdout)
            .map_err(|_| err(failed, "the stored secret is not UTF-8 text"))?;
        let first = text.lines().next().unwrap_or_default();
        if first.is_empty() {
            return Ok(None);
        }
        return Ok(Some(Secret::new(first.to_string())));
    }
    if out.stderr.contains("is not in the password store") {
        return Ok(None);
    }
    if out
        .stderr
        .to_ascii_lowercase()
        .contains("decryption failed")
        || out.stderr.contains("pinentry")
        || out.stderr.contains("No secret key")
    {
        return Err(err(
            locked,
            format!("GnuPG could not decrypt: {}", out.stderr),
        ));
    }
    Err(err(failed, format!("pass show failed: {}", out.stderr)))
}

pub async fn set(env: &StoreEnv, key: SecretKey<'_>, secret: &Secret) -> Result<(), SecretError> {
    let name = entry(key);
    let input = Zeroizing::new(format!("{}\n", secret.expose()).into_bytes());
    let out = run(
        env,
        &["insert", "--multiline", "--force", &name],
        Some(&input),
        WRITE_TIMEOUT,
    )
    .await?;
    if out.code == Some(0) {
        Ok(())
    } else {
        Err(err(failed, format!("pass insert failed: {}", out.stderr)))
    }
}

pub async fn delete(env: &StoreEnv, key: SecretKey<'_>) -> Result<bool, SecretError> {
    if get(env, key).await?.is_none() {
        return Ok(false);
    }
    let name = entry(key);
    let out = run(env, &["rm", "--force", &name], None, READ_TIMEOUT).await?;
    if out.code == Some(0) {
        Ok(true)
    } else {
        Err(err(failed, format!("pass rm failed: {}", out.stderr)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_keep_the_documented_name() {
        assert_eq!(entry(SecretKey::password("a@b.c")), "mail/a@b.c");
        let key = SecretKey {
            account: "a@b.c",
            kind: SecretKind::OAuth2RefreshToken,
        };
        assert_eq!(entry(key), "mail/a@b.c/oauth2-refresh-token");
    }

    #[test]
    fn uninitialised_store_is_unavailable() {
        let dir = tempfile::tempdir().unwrap();
        let env = StoreEnv {
            home: Some(dir.path().to_path_buf()),
            ..Default::default()
        };
        assert!(matches!(
            available(&env),
            Err(SecretError::Unavailable { .. })
        ));
    }
}
