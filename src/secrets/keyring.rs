//! The system keyring: the freedesktop Secret Service on Linux (GNOME Keyring, KWallet), the
//! Keychain on macOS. Items carry the attributes `service=mailsetup`, `account=ADDRESS`,
//! `kind=password|oauth2-refresh-token`, so `secret-tool lookup service mailsetup account
//! ADDRESS kind password` finds them too.

use super::{SecretError, SecretKey};

/// The service name / attribute value items are filed under.
pub const SERVICE: &str = "mailsetup";

#[allow(dead_code)]
fn failed(reason: impl ToString) -> SecretError {
    SecretError::Failed {
        store: "system keyring".into(),
        reason: reason.to_string(),
    }
}

#[allow(dead_code)]
fn unavailable(reason: impl ToString) -> SecretError {
    SecretError::Unavailable {
        store: "system keyring".into(),
        reason: reason.to_string(),
    }
}

#[allow(dead_code)]
fn locked(reason: impl ToString) -> SecretError {
    SecretError::Locked {
        store: "system keyring".into(),
        reason: reason.to_string(),
    }
}

#[cfg(target_os = "linux")]
mod imp {
    use std::collections::HashMap;
    use std::time::Duration;

    use secret_service::{EncryptionType, Error, SecretService};
    use zeroize::Zeroizing;

    use super::{failed, locked, unavailable, SecretError, SecretKey, SERVICE};
    use crate::model::Secret;
    use crate::secrets::{READ_TIMEOUT, WRITE_TIMEOUT};

    pub const DESCRIPTION: &str = "the system keyring (Secret Service)";

    /// Connecting is quick or never: a missing bus fails at once, a hung one is cut here.
    const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

    fn map(e: Error) -> SecretError {
        match e {
            Error::Locked => locked("unlock it (log in to the desktop session) and try again"),
            Error::Unavailable => unavailable(
                "no D-Bus session or no Secret Service provider (such as gnome-keyring-daemon) \
                 is running",
            ),
            Error::Prompt | Error::PromptDisconnected => {
                locked("the unlock prompt was dismissed or could not be shown")
            }
            other => failed(other),
        }
    }

    async fn bounded<T>(
        limit: Duration,
        what: &str,
        fut: impl std::future::Future<Output = Result<T, SecretError>>,
    ) -> Result<T, SecretError> {
        match tokio::time::timeout(limit, fut).await {
            Ok(r) => r,
            Err(_) => Err(locked(format!(
                "no answer within {} s while {what} (is an unlock prompt waiting?)",
                limit.as_secs()
            ))),
        }
    }

    async fn connect() -> Result<SecretService<'static>, SecretError> {
        if std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_none()
            && std::env::var_os("XDG_RUNTIME_DIR").is_none()
        {
            return Err(unavailable(
                "no D-Bus session (DBUS_SESSION_BUS_ADDRESS is not set)",
            ));
        }
        match tokio::time::timeout(CONNECT_TIMEOUT, SecretService::connect(EncryptionType::Dh))
            .await
        {
            Ok(r) => r.map_err(map),
            Err(_) => Err(unavailable("the D-Bus session did not answer in time")),
        }
    }

    fn attributes(key: SecretKey<'_>) -> HashMap<&str, &str> {
        HashMap::from([
            ("service", SERVICE),
            ("account", key.account),
            ("kind", key.kind.as_str()),
        ])
    }

    pub async fn available() -> Result<(), SecretError> {
        bounded(READ_TIMEOUT, "connecting", async {
            let ss = connect().await?;
            ss.get_all_collections().await.map_err(map)?;
            Ok(())
        })
        .await
    }

    /// The default collection exists and is unlocked: a write needs no prompt.
    pub async fn unlocked() -> bool {
        let check = bounded(READ_TIMEOUT, "connecting", async {
            let ss = connect().await?;
            let collection = ss.get_default_collection().await.map_err(map)?;
            collection.is_locked().await.map_err(map)
        });
        matches!(check.await, Ok(false))
    }

    pub async fn get(key: SecretKey<'_>) -> Result<Option<Secret>, SecretError> {
        bounded(READ_TIMEOUT, "reading", async {
            let ss = connect().await?;
            let found = ss.search_items(attributes(key)).await.map_err(map)?;
            if let Some(item) = found.unlocked.first() {
                let bytes = Zeroizing::new(item.get_secret().await.map_err(map)?);
                let text = std::str::from_utf8(&bytes)
                    .map_err(|_| failed("the stored secret is not UTF-8 text"))?;
                return Ok(Some(Secret::new(text.to_string())));
            }
            if !found.locked.is_empty() {
                return Err(locked(
                    "the secret is there but its keyring is locked; unlock it (log in to the \
                     desktop session) and try again",
                ));
            }
            Ok(None)
        })
        .await
    }

    pub async fn set(key: SecretKey<'_>, secret: &Secret) -> Result<(), SecretError> {
        bounded(WRITE_TIMEOUT, "storing", async {
            let ss = connect().await?;
            let collection = match ss.get_default_collection().await {
                Ok(c) => c,
                // No default collection yet (a fresh keyring daemon): create the login one.
                Err(Error::NoResult) | Err(Error::ZbusFdo(_)) => ss
                    .create_collection("Login", "default")
                    .await
                    .map_err(map)?,
                Err(e) => return Err(map(e)),
            };
            if collection.is_locked().await.map_err(map)? {
                collection.unlock().await.map_err(map)?;
            }
            let label = format!("mailsetup: {} for {}", key.kind.as_str(), key.account);
            collection
                .create_item(
                    &label,
                    attributes(key),
                    secret.expose().as_bytes(),
                    true,
                    "text/plain",
                )
                .await
                .map_err(map)?;
            Ok(())
        })
        .await
    }

    pub async fn delete(key: SecretKey<'_>) -> Result<bool, SecretError> {
        bounded(READ_TIMEOUT, "deleting", async {
            let ss = connect().await?;
            let found = ss.search_items(attributes(key)).await.map_err(map)?;
            if found.unlocked.is_empty() && !found.locked.is_empty() {
                return Err(locked("the secret's keyring is locked; unlock it first"));
            }
            for item in &found.unlocked {
                item.delete().await.map_err(map)?;
            }
            Ok(!found.unlocked.is_empty())
        })
        .await
    }
}

#[cfg(target_os = "macos")]
mod imp {
    //! The login Keychain through Security.framework's generic-password items
    //! (service `mailsetup`, account `KIND:ADDRESS`). Compiled on macOS; not tested on this
    //! project's Linux machines.
    use security_framework::passwords::{
        delete_generic_password, get_generic_password, set_generic_password,
    };

    use super::{failed, SecretError, SecretKey, SERVICE};
    use crate::model::Secret;

    pub const DESCRIPTION: &str = "the macOS Keychain";
    /// errSecItemNotFound.
    const NOT_FOUND: i32 = -25300;

    fn account(key: SecretKey<'_>) -> String {
        format!("{}:{}", key.kind.as_str(), key.account)
    }

    pub async fn available() -> Result<(), SecretError> {
        Ok(())
    }

    /// A locked login Keychain shows its own prompt; unattended writes are not attempted.
    pub async fn unlocked() -> bool {
        false
    }

    pub async fn get(key: SecretKey<'_>) -> Result<Option<Secret>, SecretError> {
        match get_generic_password(SERVICE, &account(key)) {
            Ok(bytes) => {
                let bytes = zeroize::Zeroizing::new(bytes);
                let text = std::str::from_utf8(&bytes)
                    .map_err(|_| failed("the stored secret is not UTF-8 text"))?;
                Ok(Some(Secret::new(text.to_string())))
            }
            Err(e) if e.code() == NOT_FOUND => Ok(None),
            Err(e) => Err(failed(e)),
        }
    }

    pub async fn set(key: SecretKey<'_>, secret: &Secret) -> Result<(), SecretError> {
        set_generic_password(SERVICE, &account(key), secret.expose().as_bytes()).map_err(failed)
    }

    pub async fn delete(key: SecretKey<'_>) -> Result<bool, SecretError> {
        match delete_generic_password(SERVICE, &account(key)) {
            Ok(()) => Ok(true),
            Err(e) if e.code() == NOT_FOUND => Ok(false),
            Err(e) => Err(failed(e)),
        }
    }
}

#[cfg(not(any(target_os = "linux", target_os = "macos")))]
mod imp {
    use super::{unavailable, SecretError, SecretKey};
    use crate::model::Secret;

    pub const DESCRIPTION: &str = "the system keyring";

    pub async fn available() -> Result<(), SecretError> {
        Err(unavailable(
            "not supported on this system; use pass or file",
        ))
    }
    pub async fn unlocked() -> bool {
        false
    }
    pub async fn get(_: SecretKey<'_>) -> Result<Option<Secret>, SecretError> {
        available().await.map(|_| None)
    }
    pub async fn set(_: SecretKey<'_>, _: &Secret) -> Result<(), SecretError> {
        available().await
    }
    pub async fn delete(_: SecretKey<'_>) -> Result<bool, SecretError> {
        available().await.map(|_| false)
    }
}

pub use imp::{available, delete, get, set, unlocked, DESCRIPTION};
