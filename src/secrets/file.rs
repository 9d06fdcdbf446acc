//! The file store, only when the user chooses it: one file per secret,
//! `$XDG_DATA_HOME/mailsetup/secrets/KIND/ADDRESS` (address percent-encoded), mode 0600 in
//! directories of mode 0700, written to a temporary file and renamed into place.
//! (Not through app/files.rs: this layer sits below app, and a secret file is never merged,
//! diffed or backed up.)

use std::fs::{self, OpenOptions};
use std::io::{Read, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::PathBuf;

use zeroize::Zeroizing;

use super::{SecretError, SecretKey, StoreEnv};
use crate::model::Secret;

const STORE: &str = "secret file store";
/// A secret larger than this is not ours.
const MAX_SECRET: u64 = 64 * 1024;

fn failed(reason: impl ToString) -> SecretError {
    SecretError::Failed {
        store: STORE.into(),
        reason: reason.to_string(),
    }
}

/// `$XDG_DATA_HOME/mailsetup/secrets` (default `~/.local/share/mailsetup/secrets`).
pub fn dir(env: &StoreEnv) -> Result<PathBuf, SecretError> {
    let base = match (&env.data_home, &env.home) {
        (Some(d), _) => d.clone(),
        (None, Some(h)) => h.join(".local/share"),
        (None, None) => {
            return Err(SecretError::Unavailable {
                store: STORE.into(),
                reason: "$HOME is not set".into(),
            })
        }
    };
    Ok(base.join("mailsetup").join("secrets"))
}

/// File name for an account: letters, digits and `._@+-` kept, the rest `%XX`.
fn file_name(account: &str) -> String {
    let mut out = String::new();
    for b in account.bytes() {
        if b.is_ascii_alphanumeric() || b"._@+-".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    if out.starts_with('.') {
        out.replace_range(0..1, "%2E");
    }
    out
}

fn path(env: &StoreEnv, key: SecretKey<'_>) -> Result<PathBuf, SecretError> {
    Ok(dir(env)?
        .join(key.kind.as_str())
        .join(file_name(key.account)))
}

pub fn get(env: &StoreEnv, key: SecretKey<'_>) -> Result<Option<Secret>, SecretError> {
    let p = path(env, key)?;
    let mut f = match fs::File::open(&p) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(failed(format!("{}: {e}", p.display()))),
    };
    let meta = f.metadata().map_err(failed)?;
    if meta.permissions().mode() & 0o077 != 0 {
        return Err(failed(format!(
            "{} can be read by other users; refusing to use it (chmod 600 it, then store the \
             password again)",
            p.display()
        )));
    }
    let mut bytes = Zeroizing::new(Vec::new());
    Read::by_ref(&mut f)
        .take(MAX_SECRET)
        .read_to_end(&mut bytes)
        .map_err(failed)?;
    let text = std::str::from_utf8(&bytes).map_err(|_| failed("not UTF-8 text"))?;
    let line = text.lines().next().unwrap_or_default();
    Ok((!line.is_empty()).then(|| Secret::new(line.to_string())))
}

pub fn set(env: &StoreEnv, key: SecretKey<'_>, secret: &Secret) -> Result<(), SecretError> {
    let p = path(env, key)?;
    let parent = p
        .parent()
        .ok_or_else(|| failed(format!("{}: no parent directory", p.display())))?;
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(parent)
        .map_err(|e| failed(format!("{}: {e}", parent.display())))?;
    let tmp = parent.join(format!(".tmp-{}", std::process::id()));
    let _ = fs::remove_file(&tmp);
    let written = (|| {
        let mut f = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp)?;
        f.write_all(secret.expose().as_bytes())?;
        f.write_all(b"\n")?;
        f.sync_all()?;
        fs::rename(&tmp, &p)
    })();
    if let Err(e) = written {
        let _ = fs::remove_file(&tmp);
        return Err(failed(format!("{}: {e}", p.display())));
    }
    Ok(())
}

pub fn delete(env: &StoreEnv, key: SecretKey<'_>) -> Result<bool, SecretError> {
    let p = path(env, key)?;
    match fs::remove_file(&p) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(failed(format!("{}: {e}", p.display()))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secrets::{SecretKind, Store, StoreKind};

    #[test]
    fn names_are_safe() {
        assert_eq!(file_name("a@b.c"), "a@b.c");
        assert_eq!(file_name("../x/y@z"), "%2E.%2Fx%2Fy@z");
    }

    #[tokio::test]
    async fn set_get_delete_with_private_modes() {
        let home = tempfile::tempdir().unwrap();
        let env = StoreEnv {
            home: Some(home.path().to_path_buf()),
            ..Default::default()
        };
        let store = Store::new(StoreKind::File, env.clone());
        let key = SecretKey::password("me@example.test");
        assert_eq!(
            store
                .get(key)
                .await
                .unwrap()
                .map(|s| s.expose().to_string()),
            None
        );
        store.set(key, &Secret::new("pw 1".into())).await.unwrap();
        store.set(key, &Secret::new("pw 2".into())).await.unwrap();
        assert_eq!(store.get(key).await.unwrap().unwrap().expose(), "pw 2");
        let p = path(&env, key).unwrap();
        assert_eq!(
            fs::metadata(&p).unwrap().permissions().mode() & 0o777,
            0o600
        );
        assert_eq!(
            fs::metadata(p.parent().unwrap())
                .unwrap()
                .permissions()
                .mode()
                & 0o777,
            0o700
        );
        let token = SecretKey {
            account: "me@example.test",
            kind: SecretKind::OAuth2RefreshToken,
        };
        assert!(store.get(token).await.unwrap().is_none());
        assert!(store.delete(key).await.unwrap());
        assert!(!store.delete(key).await.unwrap());
        // A file others can read is refused.
        store.set(key, &Secret::new("pw".into())).await.unwrap();
        fs::set_permissions(&p, fs::Permissions::from_mode(0o644)).unwrap();
        assert!(store.get(key).await.is_err());
    }
}
