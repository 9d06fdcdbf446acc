//! The validated view of one render call ([`Ctx`]) that every writer works from:
//! the account's values checked once for what no format can carry, and the password
//! source; the logins a client can carry are in `auth.rs`, the shared notes (password,
//! POP3 storage, no-TLS) in `notes.rs`.

use std::path::PathBuf;

use crate::model::{
    AccountSettings, AuthMethod, Folder, Folders, Mechanism, Pop3Policy, Protocol, ServerSettings,
};

use super::{quote, Client, ClientInfo, OutputFile, WriteError, WriteOptions};

mod auth;
mod notes;

#[cfg(test)]
pub(crate) use auth::OAUTH2_CLIENTS;

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
    /// The server's special folders (IMAP accounts only; names no format can carry dropped).
    pub folders: Folders,
    pub opts: &'a WriteOptions,
    password_command: String,
    default_password_command: bool,
    /// The servers this client uses log in with OAuth2: the "password" is an access token
    /// printed by `token_command`.
    oauth2: bool,
    token_command: String,
}

impl<'a> Ctx<'a> {
    pub(super) fn new(
        info: &'static ClientInfo,
        settings: &'a AccountSettings,
        opts: &'a WriteOptions,
    ) -> Result<Self, WriteError> {
        let client = info.client;
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
            if incoming.auth == AuthMethod::None && client != Client::Thunderbird {
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
            folders: usable_folders(settings),
            opts,
            password_command,
            default_password_command,
        })
    }

    pub fn client(&self) -> Client {
        self.info.client
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

    /// The local mail directory (no trailing slash): `--maildir`, else `~/Mail/ACCOUNT` for
    /// mbsync and `~/Mail/ACCOUNT-CLIENT` for the others.
    pub fn maildir(&self) -> String {
        match self.opts.maildir.as_deref() {
            Some(dir) if dir.len() > 1 => dir.trim_end_matches('/').to_string(),
            Some(dir) => dir.to_string(),
            // mbsync's tree is ~/Mail/ACCOUNT; every other client gets a Maildir of its own
            // beside it, so two programs never fetch into (or sync from) the same one.
            None if self.client() == Client::Mbsync => format!("~/Mail/{}", self.account),
            None => format!("~/Mail/{}-{}", self.account, self.client()),
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

    /// Installed as a marked block in the client's shared file.
    pub fn block(
        &self,
        search: &[(&'static str, bool)],
        create: &'static str,
        alone: String,
        beside: String,
    ) -> super::Install {
        super::Install::Block(super::Block {
            account: self.account.clone(),
            search: search.to_vec(),
            create,
            inherit: None,
            alone,
            beside,
        })
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
            install: super::Install::File,
            dirs: Vec::new(),
            start: None,
            fetches: false,
        }
    }
}

/// The folders worth writing: IMAP only, names without control characters, not empty.
fn usable_folders(settings: &AccountSettings) -> Folders {
    if settings.incoming.endpoint.protocol != Protocol::Imap {
        return Folders {
            server_saves_sent: settings.folders.server_saves_sent,
            ..Folders::default()
        };
    }
    let ok = |f: &Option<Folder>| {
        f.clone().filter(|f| {
            !f.raw.is_empty()
                && !f.name.is_empty()
                && quote::single_line("folder", &f.raw).is_ok()
                && quote::single_line("folder", &f.name).is_ok()
                && !f.name.eq_ignore_ascii_case("INBOX")
        })
    };
    let f = &settings.folders;
    Folders {
        sent: ok(&f.sent),
        drafts: ok(&f.drafts),
        trash: ok(&f.trash),
        junk: ok(&f.junk),
        archive: ok(&f.archive),
        delimiter: f.delimiter.clone(),
        server_saves_sent: f.server_saves_sent,
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
