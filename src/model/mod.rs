//! Domain types shared by every layer. Imports nothing of ours.

pub mod timing;

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

/// A mail access or submission protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    Imap,
    Pop3,
    Smtp,
}

impl Protocol {
    pub const ALL: [Protocol; 3] = [Protocol::Imap, Protocol::Pop3, Protocol::Smtp];

    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Imap => "imap",
            Protocol::Pop3 => "pop3",
            Protocol::Smtp => "smtp",
        }
    }

    /// The standard port for this protocol with this transport security
    /// (RFC 8314: implicit TLS 993/995/465; STARTTLS 143/110/587).
    pub fn default_port(self, security: Security) -> u16 {
        match (self, security) {
            (Protocol::Imap, Security::Tls) => 993,
            (Protocol::Imap, _) => 143,
            (Protocol::Pop3, Security::Tls) => 995,
            (Protocol::Pop3, _) => 110,
            (Protocol::Smtp, Security::Tls) => 465,
            (Protocol::Smtp, Security::StartTls) => 587,
            (Protocol::Smtp, Security::Plain) => 25,
        }
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Protocol {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "imap" => Ok(Protocol::Imap),
            "pop3" | "pop" => Ok(Protocol::Pop3),
            "smtp" | "submission" => Ok(Protocol::Smtp),
            other => Err(format!(
                "unknown protocol {other:?} (expected imap, pop3 or smtp)"
            )),
        }
    }
}

/// Transport security of an endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Security {
    /// Implicit TLS: TLS from the first byte (RFC 8314).
    Tls,
    /// STARTTLS / STLS upgrade, required: never continues in plaintext.
    #[serde(rename = "starttls")]
    StartTls,
    /// No TLS at all. Probed and flagged, never logged into without explicit consent.
    Plain,
}

impl Security {
    pub fn as_str(self) -> &'static str {
        match self {
            Security::Tls => "tls",
            Security::StartTls => "starttls",
            Security::Plain => "plain",
        }
    }
}

impl fmt::Display for Security {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One server port speaking one protocol with one transport security.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Endpoint {
    pub protocol: Protocol,
    pub host: String,
    pub port: u16,
    pub security: Security,
}

impl Endpoint {
    pub fn new(protocol: Protocol, host: &str, port: u16, security: Security) -> Self {
        Endpoint {
            protocol,
            host: host.to_ascii_lowercase(),
            port,
            security,
        }
    }

    /// The six standard endpoints of a host: IMAP 993/143, POP3 995/110, SMTP 465/587.
    pub fn standard(host: &str) -> Vec<Endpoint> {
        let mut out = Vec::with_capacity(6);
        for protocol in Protocol::ALL {
            for security in [Security::Tls, Security::StartTls] {
                out.push(Endpoint::new(
                    protocol,
                    host,
                    protocol.default_port(security),
                    security,
                ));
            }
        }
        out
    }

    /// URL scheme: `imaps`, `imap` (STARTTLS required), `imap+plain`, and likewise.
    pub fn scheme(&self) -> &'static str {
        match (self.protocol, self.security) {
            (Protocol::Imap, Security::Tls) => "imaps",
            (Protocol::Imap, Security::StartTls) => "imap",
            (Protocol::Imap, Security::Plain) => "imap+plain",
            (Protocol::Pop3, Security::Tls) => "pop3s",
            (Protocol::Pop3, Security::StartTls) => "pop3",
            (Protocol::Pop3, Security::Plain) => "pop3+plain",
            (Protocol::Smtp, Security::Tls) => "smtps",
            (Protocol::Smtp, Security::StartTls) => "smtp",
            (Protocol::Smtp, Security::Plain) => "smtp+plain",
        }
    }

    pub fn url(&self) -> String {
        self.to_string()
    }

    /// Ordering key used for reports: protocol, then preference (implicit TLS first, RFC 8314).
    pub fn sort_key(&self) -> (Protocol, Security, &str, u16) {
        (self.protocol, self.security, self.host.as_str(), self.port)
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.host.contains(':') {
            write!(f, "{}://[{}]:{}", self.scheme(), self.host, self.port)
        } else {
            write!(f, "{}://{}:{}", self.scheme(), self.host, self.port)
        }
    }
}

impl FromStr for Endpoint {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (scheme, rest) = s.split_once("://").ok_or_else(|| {
            format!("{s:?} is not a server URL; expected e.g. imaps://mail.example.com:993")
        })?;
        let (protocol, security) = match scheme.to_ascii_lowercase().as_str() {
            "imaps" => (Protocol::Imap, Security::Tls),
            "imap" => (Protocol::Imap, Security::StartTls),
            "imap+plain" => (Protocol::Imap, Security::Plain),
            "pop3s" | "pops" => (Protocol::Pop3, Security::Tls),
            "pop3" | "pop" => (Protocol::Pop3, Security::StartTls),
            "pop3+plain" | "pop+plain" => (Protocol::Pop3, Security::Plain),
            "smtps" | "submissions" => (Protocol::Smtp, Security::Tls),
            "smtp" | "submission" => (Protocol::Smtp, Security::StartTls),
            "smtp+plain" => (Protocol::Smtp, Security::Plain),
            other => {
                return Err(format!(
                    "unknown URL scheme {other:?}; use imaps, imap, imap+plain, pop3s, pop3, pop3+plain, smtps, smtp or smtp+plain"
                ))
            }
        };
        let authority = rest.trim_end_matches('/');
        if authority.contains('/') || authority.contains('@') || authority.contains('?') {
            return Err(format!(
                "{s:?}: a server URL has only a host and an optional port (no user, path or query)"
            ));
        }
        let (host, port) = split_host_port(authority).map_err(|e| format!("{s:?}: {e}"))?;
        let port = match port {
            Some(p) => p,
            None => protocol.default_port(security),
        };
        validate_host(&host).map_err(|e| format!("{s:?}: {e}"))?;
        Ok(Endpoint::new(protocol, &host, port, security))
    }
}

/// Splits `host`, `host:port`, `[v6]` or `[v6]:port`.
pub fn split_host_port(s: &str) -> Result<(String, Option<u16>), String> {
    if let Some(rest) = s.strip_prefix('[') {
        let (host, after) = rest
            .split_once(']')
            .ok_or_else(|| "unclosed '[' in IPv6 address".to_string())?;
        let port = match after {
            "" => None,
            p => {
                Some(parse_port(p.strip_prefix(':').ok_or_else(|| {
                    format!("unexpected {p:?} after IPv6 address")
                })?)?)
            }
        };
        return Ok((host.to_string(), port));
    }
    match s.rsplit_once(':') {
        Some((h, p)) if !h.contains(':') => Ok((h.to_string(), Some(parse_port(p)?))),
        Some(_) => Err("IPv6 addresses must be in brackets, e.g. [::1]:993".into()),
        None => Ok((s.to_string(), None)),
    }
}

fn parse_port(p: &str) -> Result<u16, String> {
    match p.parse::<u16>() {
        Ok(0) | Err(_) => Err(format!("{p:?} is not a valid port (1-65535)")),
        Ok(n) => Ok(n),
    }
}

/// A host name or IP literal we are willing to connect to: no spaces, controls or URL syntax.
pub fn validate_host(host: &str) -> Result<(), String> {
    if host.is_empty() {
        return Err("empty host name".into());
    }
    if host.len() > 253 {
        return Err("host name longer than 253 characters".into());
    }
    if host.parse::<std::net::IpAddr>().is_ok() {
        return Ok(());
    }
    let ok = host
        .chars()
        .all(|c| c.is_alphanumeric() || c == '-' || c == '.' || c == '_');
    if !ok || host.starts_with('.') || host.starts_with('-') {
        return Err(format!("{host:?} is not a valid host name"));
    }
    Ok(())
}

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

/// How a discovered setting reached us: a fact for the trust policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Transport {
    /// Shipped inside the binary (the built-in provider database).
    Builtin,
    /// Fetched over HTTPS with a verified certificate, every redirect included.
    Https,
    /// Fetched over plain HTTP (or after a plain-HTTP redirect): anyone on the path could
    /// have written it.
    Http,
    /// An unauthenticated DNS answer (SRV, MX, a guessed name that resolves).
    Dns,
}

/// Why an endpoint may, or may not, receive credentials and be recommended and written
/// (the trust policy's decision, recorded on every candidate and endpoint).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TrustReason {
    /// The user named it (`--server`, `probe HOST`).
    Named,
    /// The user vouched for the host (`--trust-host`).
    TrustHost,
    /// The host lies inside the address's domain.
    InDomain,
    /// The provider database (built in or online) lists the address's own domain.
    ProviderDb,
    /// The domain's own autoconfig file, fetched over verified HTTPS.
    HttpsConfig,
    /// Derived from the MX record, whose host lies inside the address's domain.
    MxInDomain,
    /// Derived from the MX record; the user confirmed the provider (`--trust-mx`, or the
    /// wizard's question).
    TrustMx,
    /// Untrusted: a host outside the address's domain, named by an unauthenticated source
    /// (DNS, plain HTTP, Autodiscover).
    OutsideDomain,
    /// Untrusted until confirmed: the provider was derived from an MX host outside the
    /// address's domain (a custom domain hosted by a provider, or a forged DNS answer).
    MxUnconfirmed,
    /// Untrusted: a report of an older version, which did not record trust, naming a host
    /// outside the address's domain.
    Unrecorded,
}

impl TrustReason {
    pub fn trusted(self) -> bool {
        !matches!(
            self,
            TrustReason::OutsideDomain | TrustReason::MxUnconfirmed | TrustReason::Unrecorded
        )
    }

    pub fn as_str(self) -> &'static str {
        match self {
            TrustReason::Named => "named",
            TrustReason::TrustHost => "trust-host",
            TrustReason::InDomain => "in-domain",
            TrustReason::ProviderDb => "provider-db",
            TrustReason::HttpsConfig => "https-config",
            TrustReason::MxInDomain => "mx-in-domain",
            TrustReason::TrustMx => "trust-mx",
            TrustReason::OutsideDomain => "outside-domain",
            TrustReason::MxUnconfirmed => "mx-unconfirmed",
            TrustReason::Unrecorded => "unrecorded",
        }
    }
}

impl fmt::Display for TrustReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A character that can change what a terminal (or a log viewed in one) shows: controls (C0,
/// DEL, C1), format characters (Unicode Cf: bidi overrides and isolates, zero-width
/// characters, BOM, tags) and the line and paragraph separators (U+2028, U+2029).
pub fn is_unsafe_char(c: char) -> bool {
    use unicode_general_category::{get_general_category, GeneralCategory as G};
    matches!(
        get_general_category(c),
        G::Control | G::Format | G::LineSeparator | G::ParagraphSeparator
    )
}

/// A character that makes text read differently than it is, with no other use in a name:
/// bidi marks, embeddings, overrides and isolates (U+061C, U+200E, U+200F, U+202A–U+202E,
/// U+2066–U+2069), zero-width space, word joiner and invisible operators (U+200B,
/// U+2060–U+2064), BOM (U+FEFF), interlinear annotations (U+FFF9–U+FFFB) and tags
/// (U+E0000–U+E007F). Zero-width (non-)joiners (U+200C, U+200D), which Persian, Indic scripts
/// and emoji sequences need, are not among them.
pub fn is_deceptive_char(c: char) -> bool {
    matches!(c,
        '\u{061c}' | '\u{200b}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}'
        | '\u{2060}'..='\u{2064}' | '\u{2066}'..='\u{2069}' | '\u{feff}'
        | '\u{fff9}'..='\u{fffb}' | '\u{e0000}'..='\u{e007f}')
}

/// `host` equals `domain` or lies below it (both ASCII; case-insensitive).
pub fn host_in_domain(host: &str, domain: &str) -> bool {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    let domain = domain.trim_end_matches('.').to_ascii_lowercase();
    !domain.is_empty()
        && (host == domain
            || (host.len() > domain.len()
                && host.ends_with(&domain)
                && host.as_bytes()[host.len() - domain.len() - 1] == b'.'))
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

/// A secret (password or token): redacted in Debug/Display, zeroed on drop.
/// The only way to the bytes is [`Secret::expose`], called where they go on an encrypted wire.
#[derive(Clone)]
pub struct Secret(Zeroizing<String>);

impl Secret {
    pub fn new(s: String) -> Self {
        Secret(Zeroizing::new(s))
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// Replaces control characters (C0, DEL, C1), bidirectional overrides and other invisible
/// format characters with visible escapes, so server text can't move the cursor, change
/// colours, retitle the terminal or reorder what the user reads.
pub fn terminal_safe(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '\n' => out.push_str("\\n"),
            c if is_unsafe_char(c) => {
                out.push_str(&format!("\\u{{{:x}}}", c as u32));
            }
            '\\' => out.push_str("\\\\"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoint_urls_round_trip() {
        for url in [
            "imaps://mail.example.com:993",
            "imap://mail.example.com:143",
            "imap+plain://mail.example.com:143",
            "pop3s://h:995",
            "pop3://h:110",
            "pop3+plain://h:110",
            "smtps://h:465",
            "smtp://h:587",
            "smtp+plain://h:25",
            "imaps://[::1]:993",
        ] {
            let e: Endpoint = url.parse().unwrap();
            assert_eq!(e.to_string(), url);
        }
    }

    #[test]
    fn default_ports_follow_rfc8314() {
        let e: Endpoint = "smtp://MAIL.Example.com".parse().unwrap();
        assert_eq!(
            (e.port, e.security, e.host.as_str()),
            (587, Security::StartTls, "mail.example.com")
        );
        let e: Endpoint = "pop3s://h".parse().unwrap();
        assert_eq!(e.port, 995);
    }

    #[test]
    fn bad_urls_are_refused_with_a_reason() {
        for bad in [
            "mail.example.com",
            "http://h",
            "imaps://user@h",
            "imaps://h:0",
            "imaps://h:99999",
            "imaps://h/path",
            "imaps://::1:993",
            "imaps://bad host",
            "imaps://h\r\n:993",
        ] {
            assert!(bad.parse::<Endpoint>().is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn standard_endpoints_are_the_six_documented_ones() {
        let urls: Vec<String> = Endpoint::standard("h").iter().map(|e| e.url()).collect();
        assert_eq!(
            urls,
            [
                "imaps://h:993",
                "imap://h:143",
                "pop3s://h:995",
                "pop3://h:110",
                "smtps://h:465",
                "smtp://h:587"
            ]
        );
    }

    #[test]
    fn secret_never_formats() {
        let s = Secret::new("hunter2".into());
        assert_eq!(format!("{s} {s:?}"), "<redacted> Secret(<redacted>)");
        assert_eq!(s.expose(), "hunter2");
    }

    #[test]
    fn addresses_parse_at_last_at() {
        let a: Address = "\"a@b\"@Example.COM".parse().unwrap();
        assert_eq!(a.domain, "example.com");
        assert!("nobody".parse::<Address>().is_err());
        assert!("a b@c".parse::<Address>().is_err());
    }
}
