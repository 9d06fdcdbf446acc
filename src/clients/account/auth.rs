//! Which logins a client's config can carry: OAuth2 only through a token command, and an
//! "encrypted password" only with a mechanism the client can be configured for.

use crate::model::{AuthMethod, Mechanism, Protocol, ServerSettings};

use super::super::{Client, ClientInfo, WriteError, CLIENTS};
use super::Ctx;

/// Clients whose configs can run a token command for XOAUTH2 (see each writer).
/// In this order in the refusal that names them.
pub(crate) const OAUTH2_CLIENTS: &[Client] = &[
    Client::Msmtp,
    Client::Mbsync,
    Client::NeoMutt,
    Client::Mutt,
    Client::Aerc,
    Client::Mpop,
    Client::Getmail,
    Client::OfflineImap,
];

impl Ctx<'_> {
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
                    OAUTH2_CLIENTS
                        .iter()
                        .map(|c| c.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
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
                let others: Vec<&str> = CLIENTS
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
}
