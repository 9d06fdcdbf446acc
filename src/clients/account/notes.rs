//! The notes every writer shares: how the password reaches the client, what POP3 does to the
//! server's copy, and servers used without TLS.

use crate::model::Security;

use super::super::quote;
use super::Ctx;

impl Ctx<'_> {
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
}
