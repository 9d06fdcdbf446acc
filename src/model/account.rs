//! An account's settings: the address, how a client logs in (auth classes and concrete
//! mechanisms), the server settings a report recommends, and the special folders.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::{validate_host, Endpoint};

/// An email address split at its last `@`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Address {
    pub local: String,
    pub domain: String,
}

impl Address {
    pub fn as_string(&self) -> String {
        format!("{}@{}", self.local, self.domain)
    }
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}@{}", self.local, self.domain)
    }
}

impl FromStr for Address {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        let (local, domain) = s
            .rsplit_once('@')
            .ok_or_else(|| format!("{s:?} is not an email address (no '@')"))?;
        if local.is_empty() || domain.is_empty() {
            return Err(format!("{s:?} is not an email address"));
        }
        if s.chars().any(|c| c.is_control() || c.is_whitespace()) {
            return Err(format!(
                "{s:?} is not an email address (spaces or control characters)"
            ));
        }
        validate_host(domain).map_err(|e| format!("{s:?}: {e}"))?;
        Ok(Address {
            local: local.to_string(),
            domain: domain.to_ascii_lowercase(),
        })
    }
}

/// How a client proves identity, in Thunderbird's vocabulary (config-v1.1 `<authentication>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AuthMethod {
    /// The password itself crosses the (TLS-protected) wire: LOGIN, PLAIN, USER/PASS.
    PasswordCleartext,
    /// Challenge-response: CRAM-MD5, SCRAM, APOP.
    PasswordEncrypted,
    #[serde(rename = "oauth2")]
    OAuth2,
    /// No authentication.
    None,
}

impl AuthMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            AuthMethod::PasswordCleartext => "password-cleartext",
            AuthMethod::PasswordEncrypted => "password-encrypted",
            AuthMethod::OAuth2 => "oauth2",
            AuthMethod::None => "none",
        }
    }
}

impl AuthMethod {
    /// Thunderbird's (and the provider pages') words for this class.
    pub fn label(self) -> &'static str {
        match self {
            AuthMethod::PasswordCleartext => "Normal password",
            AuthMethod::PasswordEncrypted => "Encrypted password",
            AuthMethod::OAuth2 => "OAuth2",
            AuthMethod::None => "No authentication",
        }
    }
}

/// One concrete login mechanism, as a client config names it. `auth` is its class.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Mechanism {
    /// SASL PLAIN.
    #[serde(rename = "PLAIN")]
    Plain,
    /// SASL LOGIN.
    #[serde(rename = "LOGIN")]
    Login,
    /// The IMAP `LOGIN` command.
    #[serde(rename = "LOGIN-COMMAND")]
    LoginCommand,
    /// POP3 `USER`/`PASS`.
    #[serde(rename = "USER")]
    User,
    #[serde(rename = "CRAM-MD5")]
    CramMd5,
    #[serde(rename = "SCRAM-SHA-1")]
    ScramSha1,
    #[serde(rename = "SCRAM-SHA-256")]
    ScramSha256,
    /// POP3 `APOP`.
    #[serde(rename = "APOP")]
    Apop,
    #[serde(rename = "XOAUTH2")]
    XOAuth2,
    #[serde(rename = "OAUTHBEARER")]
    OAuthBearer,
}

impl Mechanism {
    pub const ALL: [Mechanism; 10] = [
        Mechanism::Plain,
        Mechanism::Login,
        Mechanism::LoginCommand,
        Mechanism::User,
        Mechanism::CramMd5,
        Mechanism::ScramSha1,
        Mechanism::ScramSha256,
        Mechanism::Apop,
        Mechanism::XOAuth2,
        Mechanism::OAuthBearer,
    ];

    /// The name as reports show it (`login.mechanism`).
    pub fn name(self) -> &'static str {
        match self {
            Mechanism::Plain => "PLAIN",
            Mechanism::Login => "LOGIN",
            Mechanism::LoginCommand => "LOGIN-COMMAND",
            Mechanism::User => "USER",
            Mechanism::CramMd5 => "CRAM-MD5",
            Mechanism::ScramSha1 => "SCRAM-SHA-1",
            Mechanism::ScramSha256 => "SCRAM-SHA-256",
            Mechanism::Apop => "APOP",
            Mechanism::XOAuth2 => "XOAUTH2",
            Mechanism::OAuthBearer => "OAUTHBEARER",
        }
    }

    pub fn from_name(s: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|m| m.name().eq_ignore_ascii_case(s))
    }

    /// Thunderbird's class: normal password, encrypted password, OAuth2.
    pub fn auth_method(self) -> AuthMethod {
        match self {
            Mechanism::Plain | Mechanism::Login | Mechanism::LoginCommand | Mechanism::User => {
                AuthMethod::PasswordCleartext
            }
            Mechanism::CramMd5
            | Mechanism::ScramSha1
            | Mechanism::ScramSha256
            | Mechanism::Apop => AuthMethod::PasswordEncrypted,
            Mechanism::XOAuth2 | Mechanism::OAuthBearer => AuthMethod::OAuth2,
        }
    }
}

impl fmt::Display for Mechanism {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One server as a client should be configured for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerSettings {
    #[serde(flatten)]
    pub endpoint: Endpoint,
    pub username: String,
    pub auth: AuthMethod,
    /// The mechanism of that class to configure: the one whose login was verified, or (not
    /// verified) the best one the server offers. Null in reports of older versions and when
    /// nothing is known; writers then use the class's usual mechanism.
    #[serde(default)]
    pub mechanism: Option<Mechanism>,
}

/// What a POP3 client does with mail after download.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pop3Policy {
    /// Leave messages on the server (uses the account's storage quota).
    pub keep: bool,
    /// Delete from the server after this many days (only with `keep`).
    pub keep_days: Option<u32>,
}

impl Default for Pop3Policy {
    fn default() -> Self {
        Pop3Policy {
            keep: true,
            keep_days: None,
        }
    }
}

/// Everything a mail client needs for one account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountSettings {
    pub address: String,
    pub display_name: Option<String>,
    pub incoming: ServerSettings,
    pub outgoing: ServerSettings,
    #[serde(default)]
    pub pop3: Pop3Policy,
    /// The server's special folders (IMAP), when known; absent in reports older than this field.
    #[serde(default, skip_serializing_if = "Folders::is_empty")]
    pub folders: Folders,
}

/// How a folder's role was learned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FoundBy {
    /// An RFC 6154 special-use attribute (`\Sent`, …) in the LIST reply.
    SpecialUse,
    /// Gmail's older XLIST attributes.
    Xlist,
    /// A well-known or localized name (`Sent Items`, `Gesendet`, …): the server said nothing.
    Name,
}

/// One folder on the server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Folder {
    /// The name as the server sends it (IMAP modified UTF-7), e.g. `Entw&APw-rfe`.
    pub raw: String,
    /// The name decoded to Unicode, e.g. `Entwürfe`.
    pub name: String,
    pub found_by: FoundBy,
}

/// The server's special folders and how sent mail is filed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Folders {
    pub sent: Option<Folder>,
    pub drafts: Option<Folder>,
    pub trash: Option<Folder>,
    pub junk: Option<Folder>,
    pub archive: Option<Folder>,
    /// The hierarchy delimiter (`/`, `.`), when the server named one.
    #[serde(default)]
    pub delimiter: Option<String>,
    /// The provider files every message sent through its SMTP server in the Sent folder by
    /// itself (Gmail, Outlook.com): clients must not store a second copy.
    #[serde(default)]
    pub server_saves_sent: bool,
}

impl Folders {
    pub fn is_empty(&self) -> bool {
        *self == Folders::default()
    }
}
