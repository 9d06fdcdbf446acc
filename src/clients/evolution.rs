//! GNOME Evolution: three ESource key files (GLib key-file syntax) — the mail
//! account, its identity and its SMTP transport — linked by their UIDs. Values
//! use GKeyFile escapes ([`quote::gkeyfile_string`]).

use crate::model::{AuthMethod, Protocol, Security, ServerSettings};

use super::{quote, stable_digest, Ctx, OutputFile, WriteError};

pub fn render(ctx: &Ctx<'_>) -> Result<Vec<OutputFile>, WriteError> {
    ctx.password_only("incoming", ctx.incoming)?;
    ctx.password_only("outgoing", ctx.outgoing)?;
    let uid = |role: &str| -> String {
        let d = stable_digest(&["evolution", role, ctx.address, &ctx.account]);
        d.iter().map(|b| format!("{b:02x}")).collect()
    };
    let (account_uid, identity_uid, transport_uid) =
        (uid("account"), uid("identity"), uid("transport"));
    let pop3 = ctx.incoming.endpoint.protocol == Protocol::Pop3;
    let e = quote::gkeyfile_string;

    let mut account = KeyFile::new(ctx);
    account.group("Data Source");
    account.kv("DisplayName", &e(&ctx.account));
    account.kv("Enabled", "true");
    account.kv("Parent", "");
    account.group("Mail Account");
    account.kv("BackendName", if pop3 { "pop" } else { "imapx" });
    account.kv("IdentityUid", &identity_uid);
    account.kv("NeedsInitialSetup", "true");
    authentication(ctx, &mut account, "incoming", ctx.incoming)?;
    if pop3 {
        account.group("Pop Backend");
        account.kv("KeepOnServer", if ctx.pop3.keep { "true" } else { "false" });
        let days = match (ctx.pop3.keep, ctx.pop3.keep_days) {
            (true, Some(days)) => days,
            _ => 0,
        };
        account.kv("DeleteAfterDays", &days.to_string());
    }

    let mut identity = KeyFile::new(ctx);
    identity.group("Data Source");
    identity.kv("DisplayName", &e(ctx.address));
    identity.kv("Enabled", "true");
    identity.kv("Parent", &account_uid);
    identity.group("Mail Identity");
    identity.kv("Address", &e(ctx.address));
    identity.kv("Name", &e(ctx.display_name.unwrap_or("")));
    identity.group("Mail Submission");
    identity.kv("TransportUid", &transport_uid);

    let mut transport = KeyFile::new(ctx);
    transport.group("Data Source");
    transport.kv("DisplayName", &e(ctx.address));
    transport.kv("Enabled", "true");
    transport.kv("Parent", &account_uid);
    transport.group("Mail Transport");
    transport.kv("BackendName", "smtp");
    authentication(ctx, &mut transport, "outgoing", ctx.outgoing)?;

    let mut notes = vec![
        "Copy the three .source files into ~/.config/evolution/sources/ and restart Evolution \
         (or run `systemctl --user restart evolution-source-registry`)."
            .to_string(),
    ];
    notes.extend(ctx.password_notes(false, false));
    notes.extend(ctx.pop3_notes(true));
    notes.extend(ctx.plain_notes());
    let install = |uid: &str| format!("~/.config/evolution/sources/{uid}.source");
    Ok(vec![
        ctx.file(
            format!("evolution/{account_uid}.source"),
            Some(&install(&account_uid)),
            account.finish(),
            false,
            notes,
        ),
        ctx.file(
            format!("evolution/{identity_uid}.source"),
            Some(&install(&identity_uid)),
            identity.finish(),
            false,
            Vec::new(),
        ),
        ctx.file(
            format!("evolution/{transport_uid}.source"),
            Some(&install(&transport_uid)),
            transport.finish(),
            false,
            Vec::new(),
        ),
    ])
}

fn authentication(
    ctx: &Ctx<'_>,
    file: &mut KeyFile,
    which: &str,
    server: &ServerSettings,
) -> Result<(), WriteError> {
    file.group("Authentication");
    file.kv("Host", &server.endpoint.host);
    let encrypted = ctx.encrypted_auth(which, server)?;
    file.kv(
        "Method",
        match (server.auth, encrypted) {
            (_, Some(word)) => word,
            (AuthMethod::None, None) => "none",
            _ => "PLAIN",
        },
    );
    file.kv("Port", &server.endpoint.port.to_string());
    if server.auth != AuthMethod::None {
        file.kv(
            "User",
            &quote::gkeyfile_string(ctx.username(which, server)?),
        );
        file.kv("RememberPassword", "true");
    }
    file.group("Security");
    file.kv(
        "Method",
        match server.endpoint.security {
            Security::Tls => "ssl-on-alternate-port",
            Security::StartTls => "starttls-on-standard-port",
            Security::Plain => "none",
        },
    );
    Ok(())
}

/// Key file text, built group by group (values already escaped).
struct KeyFile {
    text: String,
    has_group: bool,
}

impl KeyFile {
    fn new(ctx: &Ctx<'_>) -> Self {
        KeyFile {
            text: format!("# {}\n", super::header(ctx)),
            has_group: false,
        }
    }

    fn group(&mut self, name: &str) {
        if self.has_group {
            self.text.push('\n');
        }
        self.has_group = true;
        self.text.push_str(&format!("[{name}]\n"));
    }

    fn kv(&mut self, key: &str, value: &str) {
        self.text.push_str(&format!("{key}={value}\n"));
    }

    fn finish(self) -> String {
        self.text
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;
    use super::super::{render, WriteOptions};

    #[test]
    fn three_linked_sources() {
        let files = render("evolution", &pop3(), &WriteOptions::default()).unwrap();
        assert_eq!(files.len(), 3);
        let account = &files[0].contents;
        assert!(
            account.contains("[Mail Account]\nBackendName=pop\n"),
            "{account}"
        );
        assert!(account.contains("[Pop Backend]\nKeepOnServer=true\nDeleteAfterDays=14\n"));
        let identity_uid = files[1].path.file_stem().unwrap().to_str().unwrap();
        assert!(account.contains(&format!("IdentityUid={identity_uid}\n")));
        let transport_uid = files[2].path.file_stem().unwrap().to_str().unwrap();
        assert!(files[1]
            .contents
            .contains(&format!("TransportUid={transport_uid}\n")));
        assert!(files[2]
            .contents
            .contains("[Security]\nMethod=starttls-on-standard-port\n"));
    }
}
