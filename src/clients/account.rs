//! The validated view of one render call ([`Ctx`]) that every writer works from:
//! the account's values checked once for what no format can carry, the password
//! source, the shared notes (password, POP3 storage, no-TLS), and stable IDs.

use std::path::PathBuf;

use crate::model::{
    AccountSettings, AuthMethod, Mechanism, Pop3Policy, Protocol, Security, ServerSettings,
};

use super::{quote, ClientInfo, OutputFile, WriteError, WriteOptions};

/// Where a config gets the password from.
pub(crate) enum Password<'a> {
    /// The secret itself (only with `--embed-password`).
    Embedded(&'a str),
    /// A shell command printing it.
    Command(&'a str),
}

/// Validated view of one render call, shared by the writers.
pub(crate) struct Ctx<'a> {
    pub info: &'static ClientInfo,
    pub address: &'a str,
    pub local_part: &'a str,
    pub domain: &'a str,
    pub display_name: Option<&'a str>,
    /// Safe identifier: letters, digits and `._@+-` only.
    pub account: String,
    pub incoming: &'a ServerSettings,
    pub outgoing: &'a ServerSettings,
    pub pop3: Pop3Policy,
    pub opts: &'a WriteOptions,
    password_command: String,
    default_password_command: bool,
    /// The servers this client uses log in with OAuth2: the "password" is an access token
    /// printed by `token_command`.
    oauth2: bool,
    token_command: String,
}

/// Clients whose configs can run a token command for XOAUTH2 (see each writer).
pub(crate) const OAUTH2_CLIENTS: &[&str] = &[
    "msmtp",
    "mbsync",
    "neomutt",
    "mutt",
    "aerc",
    "mpop",
    "getmail",
    "offlineimap",
];

impl<'a> Ctx<'a> {
    pub(super) fn new(
        info: &'static ClientInfo,
        settings: &'a AccountSettings,
        opts: &'a WriteOptions,
    ) -> Result<Self, WriteError> {
        let client = info.name;
        let address = settings.address.as_str();
        quote::single_line("email address", address)?;
        if address.is_empty() || address.chars().any(char::is_whitespace) {
            return Err(invalid(format!(
                "{address:?} is not an email address (empty or containing spaces)"
            )));
        }
        let (local_part, domain) = address
            .rsplit_once('@')
            .filter(|(l, d)| !l.is_empty() && !d.is_empty())
            .ok_or_else(|| invalid(format!("{address:?} is not an email address (no '@')")))?;

        let display_name = match settings.display_name.as_deref() {
            None | Some("") => None,
            Some(name) => {
                quote::single_line("display name", name)?;
                quote::no_outer_whitespace("display name", name)?;
                Some(name)
            }
        };

        let account = match opts.account_name.as_deref() {
            Some(name) => {
                quote::single_line("account name", name)?;
                let ok = !name.is_empty()
                    && name.len() <= 64
                    && name.chars().all(is_account_char)
                    && name
                        .chars()
                        .next()
                        .is_some_and(|c| c.is_ascii_alphanumeric());
                if !ok {
                    return Err(quote::unsafe_value(
                        "account name",
                        format!(
                            "is {name:?}, not a plain name; use 1 to 64 letters, digits and . _ @ + - \
                             (starting with a letter or digit), since it becomes a section or channel name"
                        ),
                    ));
                }
                name.to_string()
            }
            None => address
                .chars()
                .map(|c| if is_account_char(c) { c } else { '_' })
                .collect(),
        };

        let incoming = &settings.incoming;
        let outgoing = &settings.outgoing;
        if !info.incoming.is_empty() {
            check_server("incoming", incoming)?;
            let protocol = incoming.endpoint.protocol;
            if protocol == Protocol::Smtp {
                return Err(invalid(
                    "the incoming server speaks SMTP; it must be IMAP or POP3".into(),
                ));
            }
            if !info.incoming.contains(&protocol) {
                let supported: Vec<&str> = info.incoming.iter().map(|p| p.as_str()).collect();
                return Err(WriteError::Unsupported {
                    client,
                    reason: format!(
                        "{client} reads mail only over {}; this account's incoming server is {}{}",
                        supported.join(" and ").to_uppercase(),
                        protocol.as_str().to_uppercase(),
                        alternatives(protocol)
                    ),
                });
            }
            if incoming.auth == AuthMethod::None && client != "thunderbird" {
                return Err(WriteError::Unsupported {
                    client,
                    reason: "the incoming server is set up without authentication, which this \
                             client cannot express"
                        .into(),
                });
            }
        }
        if info.outgoing {
            check_server("outgoing", outgoing)?;
            if outgoing.endpoint.protocol != Protocol::Smtp {
                return Err(invalid("the outgoing server must speak SMTP".into()));
            }
        }

        let (password_command, default_password_command) = match opts.password_command.as_deref() {
            Some(cmd) => {
                quote::single_line("password command", cmd)?;
                if cmd.trim().is_empty() {
                    return Err(quote::unsafe_value(
                        "password command",
                        "is empty; give a command that prints the password, e.g. \
                         `pass show mail/you@example.com`",
                    ));
                }
                (cmd.to_string(), false)
            }
            None => (
                quote::shell_join(["pass", "show", &format!("mail/{address}")]),
                true,
            ),
        };
        if let Some(secret) = &opts.embed_password {
            if secret.is_empty() {
                return Err(quote::unsafe_value("password", "is empty"));
            }
            if secret.expose().chars().any(quote::is_line_breaking) {
                return Err(quote::unsafe_value(
                    "password",
                    "contains a control character (such as a line break), which no configuration \
                     file can hold; use --password-command instead of --embed-password",
                ));
            }
        }
        if let Some(dir) = opts.maildir.as_deref() {
            quote::single_line("mail directory", dir)?;
            quote::no_outer_whitespace("mail directory", dir)?;
            if dir.is_empty() {
                return Err(quote::unsafe_value("mail directory", "is empty"));
            }
        }

        let mut used = Vec::new();
        if !info.incoming.is_empty() {
            used.push(incoming.auth);
        }
        if info.outgoing {
            used.push(outgoing.auth);
        }
        let oauth2 = used.contains(&AuthMethod::OAuth2);
        if oauth2 && used.iter().any(|a| *a != AuthMethod::OAuth2) {
            return Err(WriteError::Unsupported {
                client,
                reason: "one server of this account logs in with OAuth2 and the other with a \
                         password; write the two servers with separate clients"
                    .into(),
            });
        }
        let token_command = match opts.oauth2_token_command.as_deref() {
            Some(cmd) => {
                quote::single_line("token command", cmd)?;
                cmd.to_string()
            }
            None => quote::shell_join(["mailsetup", "oauth2", "token", address]),
        };

        Ok(Ctx {
            oauth2,
            token_command,
            info,
            address,
            local_part,
            domain,
            display_name,
            account,
            incoming,
            outgoing,
            pop3: settings.pop3,
            opts,
            password_command,
            default_password_command,
        })
    }

    pub fn client(&self) -> &'static str {
        self.info.name
    }

    pub fn is_pop3(&self) -> bool {
        self.incoming.endpoint.protocol == Protocol::Pop3
    }

    pub fn password(&self) -> Password<'_> {
        if self.oauth2 {
            return Password::Command(&self.token_command);
        }
        match &self.opts.embed_password {
            Some(secret) => Password::Embedded(secret.expose()),
            None => Password::Command(&self.password_command),
        }
    }

    pub fn embeds_password(&self) -> bool {
        !self.oauth2 && self.opts.embed_password.is_some()
    }

    /// The servers this client uses log in with OAuth2 (XOAUTH2 with a token command).
    pub fn oauth2(&self) -> bool {
        self.oauth2
    }

    /// The OAuth2 SASL mechanism for `server`, for clients that can do both: the verified
    /// one when the check verified OAUTHBEARER, else XOAUTH2 (which every OAuth2 mail provider
    /// takes; Microsoft offers only it). Lowercase, as msmtp, mpop, Mutt and aerc spell it.
    pub fn oauth2_mechanism(&self, server: &ServerSettings) -> &'static str {
        match server.mechanism {
            Some(Mechanism::OAuthBearer) => "oauthbearer",
            _ => "xoauth2",
        }
    }

    /// The password command (user's, or the `pass show` default); for OAuth2 accounts the
    /// command printing a fresh access token.
    pub fn password_command(&self) -> &str {
        if self.oauth2 {
            return &self.token_command;
        }
        &self.password_command
    }

    /// The local mail directory (no trailing slash).
    pub fn maildir(&self) -> String {
        match self.opts.maildir.as_deref() {
            Some(dir) if dir.len() > 1 => dir.trim_end_matches('/').to_string(),
            Some(dir) => dir.to_string(),
            None => format!("~/Mail/{}", self.account),
        }
    }

    /// A server's username, checked for what no format can carry.
    pub fn username(&self, which: &str, server: &'a ServerSettings) -> Result<&'a str, WriteError> {
        let field = format!("{which} username");
        quote::single_line(&field, &server.username)?;
        quote::no_outer_whitespace(&field, &server.username)?;
        if server.username.is_empty() && server.auth != AuthMethod::None {
            return Err(invalid(format!("the {which} server needs a username")));
        }
        Ok(&server.username)
    }

    /// Refuses OAuth2 for clients whose configs mailsetup writes with password login only.
    /// Clients that can run a token command ([`OAUTH2_CLIENTS`]) pass: their writers use
    /// XOAUTH2 with `mailsetup oauth2 token`.
    pub fn password_only(&self, which: &str, server: &ServerSettings) -> Result<(), WriteError> {
        if server.auth == AuthMethod::OAuth2 && !OAUTH2_CLIENTS.contains(&self.client()) {
            return Err(WriteError::Unsupported {
                client: self.client(),
                reason: format!(
                    "the {which} server wants OAuth2, and {} cannot be given a command that prints \
                     a fresh access token (`mailsetup oauth2 token`), so a written account would \
                     stop working within the hour; use one of {}, or let the program sign in with \
                     the provider itself",
                    self.info.description,
                    OAUTH2_CLIENTS.join(", ")
                ),
            });
        }
        Ok(())
    }

    /// How this client's config names the server's login when it is an "encrypted password"
    /// (`Some(word)`); `None` for any other class. Follows the recommendation exactly: the
    /// verified mechanism (CRAM-MD5 when a report of an older version does not say). Refuses
    /// a mechanism this client can't be configured for, naming the clients that can.
    pub fn encrypted_auth(
        &self,
        which: &str,
        server: &ServerSettings,
    ) -> Result<Option<&'static str>, WriteError> {
        let client = self.client();
        match server.auth {
            AuthMethod::PasswordEncrypted => {
                let mechanism = server
                    .mechanism
                    .filter(|m| m.auth_method() == AuthMethod::PasswordEncrypted)
                    .unwrap_or(Mechanism::CramMd5);
                let protocol = server.endpoint.protocol;
                let can = |info: &ClientInfo| {
                    info.encrypted
                        .iter()
                        .find(|e| e.mechanism == mechanism && e.protocols.contains(&protocol))
                        .map(|e| e.word)
                };
                if let Some(word) = can(self.info) {
                    return Ok(Some(word));
                }
                let others: Vec<&str> = super::CLIENTS
                    .iter()
                    .filter(|c| {
                        let role = if protocol == Protocol::Smtp {
                            c.outgoing
                        } else {
                            c.incoming.contains(&protocol)
                        };
                        role && can(c).is_some()
                    })
                    .map(|c| c.name)
                    .collect();
                Err(WriteError::Unsupported {
                    client,
                    reason: format!(
                        "the {which} server takes an encrypted password ({mechanism}) and no \
                         normal password, which {client} cannot be configured for; {}",
                        if others.is_empty() {
                            "no supported client can".to_string()
                        } else {
                            format!("clients that can: {}", others.join(", "))
                        }
                    ),
                })
            }
            _ => Ok(None),
        }
    }

    /// Both checks for a password-only client: no OAuth2, and an encrypted mechanism it can do.
    pub fn password_auth(
        &self,
        which: &str,
        server: &ServerSettings,
    ) -> Result<Option<&'static str>, WriteError> {
        self.password_only(which, server)?;
        self.encrypted_auth(which, server)
    }

    /// Notes about how the password reaches the client.
    pub fn password_notes(&self, supports_command: bool, supports_embedding: bool) -> Vec<String> {
        let mut notes = Vec::new();
        if self.oauth2 {
            notes.push(format!(
                "OAuth2: the program gets a fresh access token by running `{}` (sign in once with \
                 `mailsetup oauth2 login {}`; tokens are refreshed as they expire).",
                self.token_command, self.address
            ));
            return notes;
        }
        if self.embeds_password() {
            if supports_embedding {
                notes.push(
                    "The password is written into this file (--embed-password); it is created \
                     mode 0600."
                        .into(),
                );
            } else {
                notes.push(format!(
                    "{} cannot take the password from this file; it asks for it on first use and \
                     stores it itself.",
                    self.info.description
                ));
            }
        } else if supports_command {
            if self.default_password_command {
                notes.push(format!(
                    "The password is read by running `{cmd}`; store it there first (`{ins}`), \
                     or choose another command with --password-command.",
                    cmd = self.password_command,
                    ins = quote::shell_join(["pass", "insert", &format!("mail/{}", self.address)]),
                ));
            } else {
                notes.push(format!(
                    "The password is read by running `{}`.",
                    self.password_command
                ));
            }
        } else {
            notes.push(format!(
                "{} asks for the password on first use and stores it itself.",
                self.info.description
            ));
        }
        notes
    }

    /// The POP3 storage note and policy notes. `days` says whether the client can
    /// delete kept messages after N days.
    pub fn pop3_notes(&self, days: bool) -> Vec<String> {
        if !self.is_pop3() {
            return Vec::new();
        }
        let note = if self.pop3.keep {
            match self.pop3.keep_days {
                Some(n) if days => format!(
                    "POP3: downloaded messages stay on the server for {n} days, then are deleted; \
                     until then they count against the account's storage quota."
                ),
                Some(n) => format!(
                    "POP3: {} cannot delete messages after {n} days, so every downloaded message \
                     stays on the server and keeps using the account's storage quota; delete old \
                     mail on the server from time to time.",
                    self.client()
                ),
                None => "POP3: downloaded messages stay on the server (keep) and keep using the \
                         account's storage quota; delete old mail on the server from time to time, \
                         or use --pop3-keep-days."
                    .to_string(),
            }
        } else {
            "POP3: messages are deleted from the server after download; this computer then holds \
             the only copy."
                .to_string()
        };
        vec![note]
    }

    /// Warnings for servers used without TLS.
    pub fn plain_notes(&self) -> Vec<String> {
        let mut servers = Vec::new();
        if !self.info.incoming.is_empty() {
            servers.push(self.incoming);
        }
        if self.info.outgoing {
            servers.push(self.outgoing);
        }
        servers
            .into_iter()
            .filter(|s| s.endpoint.security == Security::Plain)
            .map(|s| {
                format!(
                    "{} is configured WITHOUT TLS: the password and all mail cross the network \
                     unencrypted.",
                    s.endpoint
                )
            })
            .collect()
    }

    /// Builds an output file; `secret` makes it mode 0600.
    pub fn file(
        &self,
        path: impl Into<PathBuf>,
        install_path: Option<&str>,
        contents: String,
        secret: bool,
        notes: Vec<String>,
    ) -> OutputFile {
        OutputFile {
            client: self.client(),
            path: path.into(),
            install_path: install_path.map(str::to_string),
            contents,
            mode: if secret { 0o600 } else { 0o644 },
            notes,
        }
    }
}

fn is_account_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "._@+-".contains(c)
}

fn invalid(reason: String) -> WriteError {
    WriteError::InvalidSettings { reason }
}

fn alternatives(protocol: Protocol) -> &'static str {
    match protocol {
        Protocol::Pop3 => " (for POP3 use mpop, fetchmail or getmail)",
        Protocol::Imap => " (for IMAP use mbsync, offlineimap, fetchmail or getmail)",
        Protocol::Smtp => "",
    }
}

fn check_server(which: &str, server: &ServerSettings) -> Result<(), WriteError> {
    crate::model::validate_host(&server.endpoint.host)
        .map_err(|e| invalid(format!("{which} server: {e}")))?;
    if server.endpoint.port == 0 {
        return Err(invalid(format!("{which} server: port 0")));
    }
    Ok(())
}

/// A stable UUID (version 5 layout) derived from `parts`, so output is deterministic.
pub(crate) fn stable_uuid(parts: &[&str]) -> String {
    let digest = stable_digest(parts);
    let mut b = [0u8; 16];
    b.copy_from_slice(&digest[..16]);
    b[6] = (b[6] & 0x0f) | 0x50;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

/// SHA-256 over a fixed prefix and `parts` (NUL-separated), truncated to 20 bytes.
pub(crate) fn stable_digest(parts: &[&str]) -> [u8; 20] {
    let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
    ctx.update(b"mailsetup client config\0");
    for part in parts {
        ctx.update(part.as_bytes());
        ctx.update(&[0u8]);
    }
    let mut out = [0u8; 20];
    out.copy_from_slice(&ctx.finish().as_ref()[..20]);
    out
}

/// The first comment line of a file: what it is, free of user data.
pub(crate) fn header(ctx: &Ctx<'_>) -> String {
    format!(
        "{}: one account, written by mailsetup.",
        ctx.info.description
    )
}
