//! Client config writers: one module per mail client, each a pure function from
//! [`AccountSettings`] to the files that client reads.
//!
//! Nothing here touches the file system or the network; writing the returned
//! [`OutputFile`]s (atomically, with their modes) is the caller's business.
//! Every value goes into a file escaped for that file's syntax, or the writer
//! refuses with [`WriteError::UnsafeValue`] naming the value, the reason and the fix.

mod account;
mod aerc;
mod apple;
mod claws;
mod evolution;
pub mod fetchmail;
mod getmail;
mod himalaya;
mod ids;
mod k9;
mod mbsync;
mod mpop;
mod msmtp;
mod mutt;
mod offlineimap;
mod outlook;
mod output;
pub mod quote;
mod registry;
mod thunderbird;
mod xml;

use crate::model::{AccountSettings, Secret};

pub(crate) use account::{Ctx, Password};
pub(crate) use ids::{header, stable_digest, stable_uuid};
pub use output::{block_markers, Block, Install, NeededDir, OutputFile};
pub use registry::{Client, ClientInfo, EncryptedLogin, CLIENTS};

/// How the written configs get the password, and where local mail goes.
#[derive(Debug, Clone, Default)]
pub struct WriteOptions {
    /// A shell command printing the password on its first output line. When unset,
    /// clients that can run a command use `pass show mail/<address>`.
    pub password_command: Option<String>,
    /// Write the password itself into the file (only with `--embed-password`); such
    /// files are mode 0600.
    pub embed_password: Option<Secret>,
    /// Local mail directory for mbsync, OfflineIMAP, getmail and mpop
    /// (default `~/Mail/<account name>`).
    pub maildir: Option<String>,
    /// Account name used inside the configs (default: derived from the address).
    pub account_name: Option<String>,
    /// Absolute path of the mailsetup binary, when configs may call it (fetchmail's
    /// `mda … deliver` and `mailsetup fetchmail`); `None` keeps configs free of it.
    pub mailsetup_exe: Option<String>,
    /// For OAuth2 accounts: the command printing a fresh access token (default
    /// `mailsetup oauth2 token <address>`; the CLI passes its own absolute path).
    pub oauth2_token_command: Option<String>,
}

/// Why a config could not be written.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error(
        "unknown mail client {name:?}; run `mailsetup write --list` to see the supported clients"
    )]
    UnknownClient { name: String },
    #[error("cannot write the {client} configuration for this account: {reason}")]
    Unsupported { client: Client, reason: String },
    #[error("refusing to write the {field}: it {reason}")]
    UnsafeValue { field: String, reason: String },
    #[error("the account settings are not usable: {reason}")]
    InvalidSettings { reason: String },
}

/// Renders the config files of the client with CLI id `name` for one account (see
/// [`Client::render`]; an unknown id is [`WriteError::UnknownClient`]).
pub fn render(
    name: &str,
    settings: &AccountSettings,
    opts: &WriteOptions,
) -> Result<Vec<OutputFile>, WriteError> {
    let client = Client::from_id(name).ok_or_else(|| WriteError::UnknownClient {
        name: name.to_string(),
    })?;
    client.render(settings, opts)
}

impl Client {
    /// Renders this client's config files for one account.
    pub fn render(
        self,
        settings: &AccountSettings,
        opts: &WriteOptions,
    ) -> Result<Vec<OutputFile>, WriteError> {
        let ctx = Ctx::new(self.info(), settings, opts)?;
        match self {
            Client::Thunderbird => thunderbird::render(&ctx),
            Client::AppleMail => apple::render(&ctx),
            Client::Outlook => outlook::render(&ctx),
            Client::K9 => k9::render(&ctx),
            Client::NeoMutt => mutt::render(&ctx, mutt::Flavour::NeoMutt),
            Client::Mutt => mutt::render(&ctx, mutt::Flavour::Mutt),
            Client::Aerc => aerc::render(&ctx),
            Client::Himalaya => himalaya::render(&ctx),
            Client::Mbsync => mbsync::render(&ctx),
            Client::Msmtp => msmtp::render(&ctx),
            Client::Mpop => mpop::render(&ctx),
            Client::Fetchmail => fetchmail::render(&ctx),
            Client::Getmail => getmail::render(&ctx),
            Client::OfflineImap => offlineimap::render(&ctx),
            Client::ClawsMail => claws::render(&ctx),
            Client::Evolution => evolution::render(&ctx),
        }
    }
}

#[cfg(test)]
pub(crate) mod test_support {
    use crate::model::{AccountSettings, AuthMethod, Endpoint, Pop3Policy, ServerSettings};

    pub fn server(url: &str, user: &str) -> ServerSettings {
        ServerSettings {
            endpoint: url.parse::<Endpoint>().unwrap(),
            username: user.to_string(),
            auth: AuthMethod::PasswordCleartext,
            mechanism: None,
        }
    }

    pub fn imap() -> AccountSettings {
        AccountSettings {
            address: "alice@example.com".into(),
            display_name: Some("Alice Example".into()),
            incoming: server("imaps://imap.example.com:993", "alice@example.com"),
            outgoing: server("smtps://smtp.example.com:465", "alice@example.com"),
            pop3: Pop3Policy::default(),
            folders: Default::default(),
        }
    }

    pub fn pop3() -> AccountSettings {
        AccountSettings {
            address: "bob@example.org".into(),
            display_name: Some("Bob".into()),
            incoming: server("pop3s://pop.example.org:995", "bob"),
            outgoing: server("smtp://smtp.example.org:587", "bob"),
            pop3: Pop3Policy {
                keep: true,
                keep_days: Some(14),
            },
            folders: Default::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::test_support::*;
    use super::*;
    use crate::model::Protocol;

    #[test]
    fn every_client_renders_or_refuses_cleanly() {
        let opts = WriteOptions::default();
        for info in CLIENTS {
            for settings in [imap(), pop3()] {
                match render(info.name, &settings, &opts) {
                    Ok(files) => {
                        assert!(!files.is_empty(), "{}", info.name);
                        for f in &files {
                            assert_eq!(f.client, info.client);
                            assert!(f.path.starts_with(info.name), "{:?}", f.path);
                            assert!(f.contents.ends_with('\n'), "{} {:?}", info.name, f.path);
                            assert!(!f.contents.contains('\r'));
                        }
                    }
                    Err(WriteError::Unsupported { client, .. }) => assert_eq!(client, info.client),
                    Err(e) => panic!("{}: {e}", info.name),
                }
            }
        }
    }

    #[test]
    fn unknown_client_is_an_error() {
        let err = render("pine", &imap(), &WriteOptions::default()).unwrap_err();
        assert!(err.to_string().contains("--list"), "{err}");
    }

    #[test]
    fn imap_only_clients_refuse_pop3_with_alternatives() {
        for name in ["mbsync", "offlineimap", "aerc", "himalaya"] {
            let err = render(name, &pop3(), &WriteOptions::default()).unwrap_err();
            assert!(matches!(err, WriteError::Unsupported { .. }), "{name}");
            assert!(err.to_string().contains("mpop"), "{err}");
        }
        let err = render("mpop", &imap(), &WriteOptions::default()).unwrap_err();
        assert!(err.to_string().contains("mbsync"), "{err}");
    }

    #[test]
    fn output_is_deterministic() {
        let opts = WriteOptions::default();
        for info in CLIENTS {
            let a = render(info.name, &imap(), &opts).ok();
            let b = render(info.name, &imap(), &opts).ok();
            assert_eq!(a, b, "{}", info.name);
        }
    }

    #[test]
    fn embedded_passwords_make_files_private() {
        let opts = WriteOptions {
            embed_password: Some(Secret::new("s3cret\"'`$".into())),
            ..Default::default()
        };
        for info in CLIENTS {
            for settings in [imap(), pop3()] {
                let Ok(files) = render(info.name, &settings, &opts) else {
                    continue;
                };
                for f in files {
                    if f.contents.contains("s3cret") || f.contents.contains("s3cret%22") {
                        assert_eq!(f.mode, 0o600, "{} {:?}", info.name, f.path);
                    }
                }
            }
        }
    }

    #[test]
    fn aerc_and_fetchmail_are_always_private() {
        let opts = WriteOptions::default();
        for (name, settings) in [
            ("aerc", imap()),
            ("fetchmail", pop3()),
            ("fetchmail", imap()),
        ] {
            for f in render(name, &settings, &opts).unwrap() {
                assert_eq!(f.mode, 0o600, "{name}");
            }
        }
    }

    #[test]
    fn control_characters_are_refused_everywhere() {
        for info in CLIENTS {
            let s = if info.incoming == [Protocol::Pop3] {
                pop3()
            } else {
                imap()
            };
            let mut bad_name = s.clone();
            bad_name.display_name = Some("Eve\nset imap_pass=x".into());
            let mut bad_user = s.clone();
            bad_user.incoming.username = "eve\r\nX".into();
            bad_user.outgoing.username = "eve\r\nX".into();
            for bad in [bad_name, bad_user] {
                let err = render(info.name, &bad, &WriteOptions::default()).unwrap_err();
                assert!(
                    matches!(err, WriteError::UnsafeValue { .. }),
                    "{}: {err}",
                    info.name
                );
            }
            let opts = WriteOptions {
                password_command: Some("pass show x\nrm -rf ~".into()),
                ..Default::default()
            };
            assert!(render(info.name, &s, &opts).is_err(), "{}", info.name);
        }
    }

    #[test]
    fn account_names_are_checked_or_derived() {
        let opts = WriteOptions {
            account_name: Some("work]\n[x".into()),
            ..Default::default()
        };
        assert!(render("aerc", &imap(), &opts).is_err());
        let opts = WriteOptions {
            account_name: Some("work mail".into()),
            ..Default::default()
        };
        assert!(matches!(
            render("mbsync", &imap(), &opts),
            Err(WriteError::UnsafeValue { .. })
        ));
        let mut s = imap();
        s.address = "we\"ird/x@example.com".into();
        let files = render("mbsync", &s, &WriteOptions::default()).unwrap();
        assert!(files[0]
            .contents
            .contains("IMAPAccount we_ird_x@example.com"));
    }

    #[test]
    fn oauth2_accounts_use_the_token_command_or_are_refused() {
        let opts = WriteOptions {
            oauth2_token_command: Some("/opt/ms/mailsetup oauth2 token alice@example.com".into()),
            password_command: Some("pass show nothing".into()),
            ..Default::default()
        };
        for info in CLIENTS {
            for mut s in [imap(), pop3()] {
                s.incoming.auth = crate::model::AuthMethod::OAuth2;
                s.outgoing.auth = crate::model::AuthMethod::OAuth2;
                match render(info.name, &s, &opts) {
                    Ok(files) => {
                        let all: String = files.iter().map(|f| f.contents.as_str()).collect();
                        assert!(!all.contains("pass show nothing"), "{}: {all}", info.name);
                        if account::OAUTH2_CLIENTS.contains(&info.client) {
                            assert!(
                                all.contains("/opt/ms/mailsetup oauth2 token"),
                                "{}: {all}",
                                info.name
                            );
                            assert!(
                                all.to_ascii_lowercase().contains("xoauth2"),
                                "{}: {all}",
                                info.name
                            );
                        }
                    }
                    Err(WriteError::Unsupported { reason, .. }) => {
                        let supports_protocol = info.incoming.is_empty()
                            || info.incoming.contains(&s.incoming.endpoint.protocol);
                        if supports_protocol
                            && !(info.name == "getmail"
                                && s.incoming.endpoint.protocol == Protocol::Pop3)
                        {
                            assert!(
                                !account::OAUTH2_CLIENTS.contains(&info.client),
                                "{}: {reason}",
                                info.name
                            );
                            assert!(reason.contains("OAuth2"), "{}: {reason}", info.name);
                        }
                    }
                    Err(e) => panic!("{}: {e}", info.name),
                }
            }
        }
    }

    #[test]
    fn oauth2_configs_by_client() {
        let opts = WriteOptions {
            oauth2_token_command: Some("/usr/bin/mailsetup oauth2 token alice@example.com".into()),
            ..Default::default()
        };
        let mut s = imap();
        s.incoming.auth = crate::model::AuthMethod::OAuth2;
        s.outgoing.auth = crate::model::AuthMethod::OAuth2;
        let text = |c: &str| render(c, &s, &opts).unwrap()[0].contents.clone();
        let m = text("msmtp");
        assert!(m.contains("auth xoauth2\n"), "{m}");
        assert!(m.contains("passwordeval \"/usr/bin/mailsetup oauth2 token alice@example.com\""));
        let b = text("mbsync");
        assert!(
            b.contains("AuthMechs XOAUTH2\n") && b.contains("PassCmd \"/usr/bin/mailsetup"),
            "{b}"
        );
        let n = text("neomutt");
        assert!(n.contains("set imap_authenticators = \"xoauth2\"\n"), "{n}");
        assert!(n.contains("set imap_oauth_refresh_command = \"/usr/bin/mailsetup oauth2 token alice@example.com\"\n"), "{n}");
        assert!(n.contains("set smtp_oauth_refresh_command = "), "{n}");
        assert!(!n.contains("imap_pass") && !n.contains("smtp_pass"), "{n}");
        let a = text("aerc");
        assert!(
            a.contains("`imaps+xoauth2://alice%40example.com@imap.example.com:993`"),
            "{a}"
        );
        assert!(
            a.contains("`smtps+xoauth2://alice%40example.com@smtp.example.com:465`"),
            "{a}"
        );
        assert!(
            a.contains("outgoing-cred-cmd = `/usr/bin/mailsetup oauth2 token alice@example.com`"),
            "{a}"
        );
        let o = text("offlineimap");
        assert!(
            o.contains("auth_mechanisms = XOAUTH2\n") && o.contains("oauth2_access_token_eval = "),
            "{o}"
        );
        assert!(text("getmail").contains("use_xoauth2 = true\n"));
        // Embedding never applies to OAuth2: there is no password.
        let embed = WriteOptions {
            embed_password: Some(Secret::new("pw".into())),
            ..opts.clone()
        };
        let f = &render("msmtp", &s, &embed).unwrap()[0];
        assert!(
            !f.contents.contains("pw\"") && f.mode == 0o644,
            "{}",
            f.contents
        );
        // A verified OAUTHBEARER is configured where the client can do it; mbsync's SASL
        // plugin, getmail and OfflineIMAP know only XOAUTH2.
        let mut bearer = s.clone();
        bearer.incoming.mechanism = Some(crate::model::Mechanism::OAuthBearer);
        bearer.outgoing.mechanism = Some(crate::model::Mechanism::OAuthBearer);
        let text = |c: &str| render(c, &bearer, &opts).unwrap()[0].contents.clone();
        assert!(text("msmtp").contains("auth oauthbearer\n"));
        assert!(text("neomutt").contains("set imap_authenticators = \"oauthbearer\"\n"));
        assert!(text("aerc").contains("imaps+oauthbearer://"));
        assert!(text("mbsync").contains("AuthMechs XOAUTH2\n"));
        let err = render("claws-mail", &s, &opts).unwrap_err().to_string();
        assert!(
            err.contains("cannot be given a command") && err.contains("msmtp"),
            "{err}"
        );
    }

    #[test]
    fn stable_uuids_look_like_uuids() {
        let u = stable_uuid(&["a"]);
        assert_eq!(u.len(), 36);
        assert_eq!(&u[14..15], "5");
        assert_eq!(u, stable_uuid(&["a"]));
        assert_ne!(u, stable_uuid(&["b"]));
        assert_ne!(stable_uuid(&["a", "b"]), stable_uuid(&["ab"]));
    }
}
