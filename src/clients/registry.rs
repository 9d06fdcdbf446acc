//! The closed set of supported clients ([`Client`]) and what each can be configured for
//! ([`ClientInfo`], [`CLIENTS`]).

use crate::model::{Mechanism, Protocol};

/// A supported mail client. Its id ([`Client::as_str`], also its `Display`) is what the CLI
/// takes (`write CLIENT`, `--client`, `check --write`), what `write --list` prints, and the
/// first component of every path it writes (`mbsync/mbsyncrc`).
///
/// This layer has no clap dependency: `cli::client_arg` implements clap's `ValueEnum` for it
/// from [`Client::ALL`] and [`Client::as_str`] (the orphan rule allows that anywhere in this
/// crate, so no newtype is needed), which keeps the spellings in one place — here.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Client {
    Thunderbird,
    AppleMail,
    Outlook,
    K9,
    NeoMutt,
    Mutt,
    Aerc,
    Himalaya,
    Mbsync,
    Msmtp,
    Mpop,
    Fetchmail,
    Getmail,
    OfflineImap,
    ClawsMail,
    Evolution,
}

impl Client {
    /// Every client, in the order `write --list` shows them (the order of [`CLIENTS`]).
    pub const ALL: [Client; 16] = [
        Client::Thunderbird,
        Client::AppleMail,
        Client::Outlook,
        Client::K9,
        Client::NeoMutt,
        Client::Mutt,
        Client::Aerc,
        Client::Himalaya,
        Client::Mbsync,
        Client::Msmtp,
        Client::Mpop,
        Client::Fetchmail,
        Client::Getmail,
        Client::OfflineImap,
        Client::ClawsMail,
        Client::Evolution,
    ];

    /// The CLI id, e.g. `mbsync`, `apple-mail`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Client::Thunderbird => "thunderbird",
            Client::AppleMail => "apple-mail",
            Client::Outlook => "outlook",
            Client::K9 => "k9",
            Client::NeoMutt => "neomutt",
            Client::Mutt => "mutt",
            Client::Aerc => "aerc",
            Client::Himalaya => "himalaya",
            Client::Mbsync => "mbsync",
            Client::Msmtp => "msmtp",
            Client::Mpop => "mpop",
            Client::Fetchmail => "fetchmail",
            Client::Getmail => "getmail",
            Client::OfflineImap => "offlineimap",
            Client::ClawsMail => "claws-mail",
            Client::Evolution => "evolution",
        }
    }

    /// The client with this CLI id (exact spelling).
    pub fn from_id(id: &str) -> Option<Client> {
        Client::ALL.into_iter().find(|c| c.as_str() == id)
    }

    /// What this client can be configured for.
    pub fn info(self) -> &'static ClientInfo {
        // In bounds and the right entry: checked at compile time below.
        &CLIENTS[self as usize]
    }
}

impl std::fmt::Display for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // `pad`, so widths like `{:<12}` apply as they do to the id string.
        f.pad(self.as_str())
    }
}

/// A supported client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientInfo {
    pub client: Client,
    /// CLI id: `client.as_str()`, kept as a field for callers that iterate [`CLIENTS`].
    pub name: &'static str,
    pub description: &'static str,
    /// Incoming protocols it can be configured for (empty: outgoing only).
    pub incoming: &'static [Protocol],
    /// Whether it sends mail (and so uses the outgoing server).
    pub outgoing: bool,
    /// Executable whose presence means the client is installed.
    pub binary: Option<&'static str>,
    /// The "encrypted password" (challenge-response) logins this client can be configured
    /// for, with the word its config uses; empty: it can't do any.
    pub encrypted: &'static [EncryptedLogin],
}

/// One challenge-response login a client can be configured for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EncryptedLogin {
    pub mechanism: Mechanism,
    /// How the client's config names it; empty when the client negotiates it by itself and
    /// its config has no (portable) way to name it.
    pub word: &'static str,
    /// The protocols the client can do it on.
    pub protocols: &'static [Protocol],
}

const ALL_PROTOCOLS: &[Protocol] = &[Protocol::Imap, Protocol::Pop3, Protocol::Smtp];
const POP3: &[Protocol] = &[Protocol::Pop3];
const IMAP_SMTP: &[Protocol] = &[Protocol::Imap, Protocol::Smtp];

const fn enc(
    mechanism: Mechanism,
    word: &'static str,
    protocols: &'static [Protocol],
) -> EncryptedLogin {
    EncryptedLogin {
        mechanism,
        word,
        protocols,
    }
}

/// msmtp and mpop (GNU SASL) and mbsync (Cyrus SASL with libsasl2-modules) do SCRAM too.
const GSASL: &[EncryptedLogin] = &[
    enc(Mechanism::CramMd5, "cram-md5", ALL_PROTOCOLS),
    enc(Mechanism::ScramSha1, "scram-sha-1", ALL_PROTOCOLS),
    enc(Mechanism::ScramSha256, "scram-sha-256", ALL_PROTOCOLS),
    enc(Mechanism::Apop, "apop", POP3),
];
/// Mutt: Cyrus SASL authenticators, and its own APOP for POP3.
const MUTT: &[EncryptedLogin] = &[
    enc(Mechanism::CramMd5, "cram-md5", ALL_PROTOCOLS),
    enc(Mechanism::ScramSha1, "scram-sha-1", ALL_PROTOCOLS),
    enc(Mechanism::ScramSha256, "scram-sha-256", ALL_PROTOCOLS),
    enc(Mechanism::Apop, "apop", POP3),
];
/// NeoMutt: its own APOP; SASL mechanisms are negotiated by its SASL library (Cyrus or GNU
/// SASL), and a build with GNU SASL (Debian 12's 20220429) rejects every SASL name in
/// `*_authenticators` ("is not a valid authenticator"), so for those nothing is written
/// (`""`): the server's offer, which the check verified, decides.
const NEOMUTT: &[EncryptedLogin] = &[
    enc(Mechanism::CramMd5, "", ALL_PROTOCOLS),
    enc(Mechanism::ScramSha1, "", ALL_PROTOCOLS),
    enc(Mechanism::ScramSha256, "", ALL_PROTOCOLS),
    enc(Mechanism::Apop, "apop", POP3),
];

const IMAP_POP3: &[Protocol] = &[Protocol::Imap, Protocol::Pop3];
const IMAP_ONLY: &[Protocol] = &[Protocol::Imap];
const POP3_ONLY: &[Protocol] = &[Protocol::Pop3];

/// Every client `render` knows, in the order `--list` shows them.
pub const CLIENTS: &[ClientInfo] = &[
    ClientInfo {
        client: Client::Thunderbird,
        name: Client::Thunderbird.as_str(),
        description: "Thunderbird (autoconfig file config-v1.1.xml)",
        incoming: IMAP_POP3,
        outgoing: true,
        binary: Some("thunderbird"),
        encrypted: &[
            enc(Mechanism::CramMd5, "password-encrypted", ALL_PROTOCOLS),
            enc(Mechanism::Apop, "password-encrypted", POP3),
        ],
    },
    ClientInfo {
        client: Client::AppleMail,
        name: Client::AppleMail.as_str(),
        description: "Apple Mail on macOS and iOS (.mobileconfig profile)",
        incoming: IMAP_POP3,
        outgoing: true,
        binary: None,
        encrypted: &[enc(Mechanism::CramMd5, "EmailAuthCRAMMD5", ALL_PROTOCOLS)],
    },
    ClientInfo {
        client: Client::Outlook,
        name: Client::Outlook.as_str(),
        description: "Outlook (Autodiscover POX response to serve)",
        incoming: IMAP_POP3,
        outgoing: true,
        binary: None,
        encrypted: &[],
    },
    ClientInfo {
        client: Client::K9,
        name: Client::K9.as_str(),
        description: "K-9 Mail / Thunderbird for Android (.k9s settings import)",
        incoming: IMAP_POP3,
        outgoing: true,
        binary: None,
        encrypted: &[enc(Mechanism::CramMd5, "CRAM_MD5", ALL_PROTOCOLS)],
    },
    ClientInfo {
        client: Client::NeoMutt,
        name: Client::NeoMutt.as_str(),
        description: "NeoMutt (neomuttrc)",
        incoming: IMAP_POP3,
        outgoing: true,
        binary: Some("neomutt"),
        encrypted: NEOMUTT,
    },
    ClientInfo {
        client: Client::Mutt,
        name: Client::Mutt.as_str(),
        description: "Mutt (muttrc)",
        incoming: IMAP_POP3,
        outgoing: true,
        binary: Some("mutt"),
        encrypted: MUTT,
    },
    ClientInfo {
        client: Client::Aerc,
        name: Client::Aerc.as_str(),
        description: "aerc (accounts.conf)",
        incoming: IMAP_ONLY,
        outgoing: true,
        binary: Some("aerc"),
        encrypted: &[],
    },
    ClientInfo {
        client: Client::Himalaya,
        name: Client::Himalaya.as_str(),
        description: "Himalaya CLI (config.toml, v2 schema; a v1 file too)",
        incoming: IMAP_ONLY,
        outgoing: true,
        binary: Some("himalaya"),
        encrypted: &[],
    },
    ClientInfo {
        client: Client::Mbsync,
        name: Client::Mbsync.as_str(),
        description: "isync/mbsync IMAP to Maildir sync (.mbsyncrc, isync 1.4 and 1.5)",
        incoming: IMAP_ONLY,
        outgoing: false,
        binary: Some("mbsync"),
        encrypted: &[
            enc(Mechanism::CramMd5, "CRAM-MD5", ALL_PROTOCOLS),
            enc(Mechanism::ScramSha1, "SCRAM-SHA-1", ALL_PROTOCOLS),
            enc(Mechanism::ScramSha256, "SCRAM-SHA-256", ALL_PROTOCOLS),
        ],
    },
    ClientInfo {
        client: Client::Msmtp,
        name: Client::Msmtp.as_str(),
        description: "msmtp SMTP sender (.msmtprc)",
        incoming: &[],
        outgoing: true,
        binary: Some("msmtp"),
        encrypted: GSASL,
    },
    ClientInfo {
        client: Client::Mpop,
        name: Client::Mpop.as_str(),
        description: "mpop POP3 to Maildir fetcher (.mpoprc)",
        incoming: POP3_ONLY,
        outgoing: false,
        binary: Some("mpop"),
        encrypted: GSASL,
    },
    ClientInfo {
        client: Client::Fetchmail,
        name: Client::Fetchmail.as_str(),
        description: "fetchmail (.fetchmailrc, 6.4 or later)",
        incoming: IMAP_POP3,
        outgoing: false,
        binary: Some("fetchmail"),
        encrypted: &[
            enc(Mechanism::CramMd5, "cram-md5", ALL_PROTOCOLS),
            enc(Mechanism::Apop, "apop", POP3),
        ],
    },
    ClientInfo {
        client: Client::Getmail,
        name: Client::Getmail.as_str(),
        description: "getmail6 (getmailrc)",
        incoming: IMAP_POP3,
        outgoing: false,
        binary: Some("getmail"),
        encrypted: &[
            enc(Mechanism::CramMd5, "use_cram_md5", IMAP_SMTP),
            enc(Mechanism::Apop, "use_apop", POP3),
        ],
    },
    ClientInfo {
        client: Client::OfflineImap,
        name: Client::OfflineImap.as_str(),
        description: "OfflineIMAP 3 IMAP to Maildir sync (.offlineimaprc)",
        incoming: IMAP_ONLY,
        outgoing: false,
        binary: Some("offlineimap"),
        encrypted: &[enc(Mechanism::CramMd5, "CRAM-MD5", ALL_PROTOCOLS)],
    },
    ClientInfo {
        client: Client::ClawsMail,
        name: Client::ClawsMail.as_str(),
        description: "Claws Mail (accountrc section to merge)",
        incoming: IMAP_POP3,
        outgoing: true,
        binary: Some("claws-mail"),
        encrypted: &[
            enc(Mechanism::CramMd5, "2", IMAP_SMTP),
            enc(Mechanism::Apop, "use_apop_auth", POP3),
        ],
    },
    ClientInfo {
        client: Client::Evolution,
        name: Client::Evolution.as_str(),
        description: "GNOME Evolution (ESource .source files)",
        incoming: IMAP_POP3,
        outgoing: true,
        binary: Some("evolution"),
        encrypted: &[
            enc(Mechanism::CramMd5, "CRAM-MD5", ALL_PROTOCOLS),
            enc(Mechanism::Apop, "+APOP", POP3),
        ],
    },
];

// `Client::info` indexes CLIENTS by discriminant: every client has its entry at its own
// position, and the table lists each client once (checked when compiling, never at run time).
const _: () = {
    assert!(CLIENTS.len() == Client::ALL.len());
    let mut i = 0;
    while i < CLIENTS.len() {
        assert!(CLIENTS[i].client as usize == i);
        assert!(Client::ALL[i] as usize == i);
        i += 1;
    }
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_and_match_the_table() {
        for (i, c) in Client::ALL.into_iter().enumerate() {
            assert_eq!(Client::from_id(c.as_str()), Some(c));
            assert_eq!(c.to_string(), c.as_str());
            assert_eq!(format!("{c:<12}|"), format!("{:<12}|", c.as_str()));
            assert_eq!(c.info().client, c);
            assert_eq!(CLIENTS[i].name, c.as_str());
        }
        assert_eq!(Client::from_id("pine"), None);
        assert_eq!(Client::from_id("Mbsync"), None);
    }
}
