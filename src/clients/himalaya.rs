//! Himalaya CLI: config.toml. The main file uses the v2 schema (himalaya 2.x:
//! `imap.server`, `imap.sasl.plain.*`, `smtp.*`); a second file in the v1 schema
//! (himalaya 1.x: `backend.*`, `message.send.backend.*`) is written beside it for
//! users still on 1.x.
//!
//! Strings are TOML basic strings ([`quote::toml_string`]). Himalaya v2 expands
//! `$VAR` and a leading `~` in usernames, so those are refused there.

use crate::model::{AuthMethod, Protocol, Security, ServerSettings};

use super::{quote, Ctx, OutputFile, Password, WriteError};

pub fn render(ctx: &Ctx<'_>) -> Result<Vec<OutputFile>, WriteError> {
    ctx.password_auth("incoming", ctx.incoming)?;
    ctx.password_auth("outgoing", ctx.outgoing)?;
    let in_user = ctx.username("incoming", ctx.incoming)?;
    let out_user = match ctx.outgoing.auth {
        AuthMethod::None => None,
        _ => Some(ctx.username("outgoing", ctx.outgoing)?),
    };
    for (which, user) in [("incoming", Some(in_user)), ("outgoing", out_user)] {
        if let Some(user) = user {
            let field = format!("{which} username");
            quote::refuse_chars(
                &field,
                user,
                &['$'],
                "Himalaya expands as an environment variable in usernames; it cannot be written for Himalaya",
            )?;
            if user.starts_with('~') {
                return Err(quote::unsafe_value(
                    &field,
                    "starts with '~', which Himalaya expands to a home directory; it cannot be written for Himalaya",
                ));
            }
        }
    }
    let secret_key = match ctx.password() {
        Password::Embedded(s) => ("raw", s),
        Password::Command(c) => ("command", c),
    };

    let table = format!("accounts.{}", quote::toml_key(&ctx.account));
    let mut v2 = String::new();
    v2.push_str("# Himalaya 2.x (v2 schema): one account, written by mailsetup.\n");
    v2.push_str(&format!("[{table}]\n"));
    kv(&mut v2, "default", "true");
    kv(&mut v2, "email", &quote::toml_string(ctx.address));
    if let Some(name) = ctx.display_name {
        kv(&mut v2, "display-name", &quote::toml_string(name));
    }
    for (proto, server, user) in [
        ("imap", ctx.incoming, Some(in_user)),
        ("smtp", ctx.outgoing, out_user),
    ] {
        v2.push('\n');
        kv(
            &mut v2,
            &format!("{proto}.server"),
            &quote::toml_string(&v2_server(server)),
        );
        if server.endpoint.security == Security::StartTls {
            kv(&mut v2, &format!("{proto}.starttls"), "true");
        }
        if let Some(user) = user {
            kv(
                &mut v2,
                &format!("{proto}.sasl.plain.username"),
                &quote::toml_string(user),
            );
            kv(
                &mut v2,
                &format!("{proto}.sasl.plain.password.{}", secret_key.0),
                &quote::toml_string(secret_key.1),
            );
        }
    }

    let f = &ctx.folders;
    let aliases = [
        ("sent", &f.sent),
        ("drafts", &f.drafts),
        ("trash", &f.trash),
    ];
    if aliases.iter().any(|(_, f)| f.is_some()) || f.server_saves_sent {
        v2.push('\n');
    }
    for (alias, folder) in aliases {
        if let Some(folder) = folder {
            kv(
                &mut v2,
                &format!("folder.aliases.{alias}"),
                &quote::toml_string(&folder.name),
            );
        }
    }
    if f.server_saves_sent {
        kv(&mut v2, "message.send.save-copy", "false");
    }

    let mut notes = ctx.password_notes(true, true);
    notes.push(
        "himalaya/config.toml is for Himalaya 2.x; for Himalaya 1.x use himalaya/config.v1.toml instead."
            .into(),
    );
    notes.extend(ctx.plain_notes());
    let alone = v2
        .split_once('\n')
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    let beside = alone.replacen("default = true\n", "", 1);
    let mut main = ctx.file(
        "himalaya/config.toml",
        Some("~/.config/himalaya/config.toml"),
        v2,
        ctx.embeds_password(),
        notes,
    );
    main.install = ctx.block(
        &[("~/.config/himalaya/config.toml", true)],
        "~/.config/himalaya/config.toml",
        alone,
        beside,
    );
    main.start = Some(format!("himalaya envelope list --account {}", ctx.account));
    let mut files = vec![main];

    // v1: only when the account fits its schema (SMTP without login does not).
    if let Some(out_user) = out_user {
        let mut v1 = String::new();
        v1.push_str("# Himalaya 1.x (v1 schema): one account, written by mailsetup.\n");
        v1.push_str(&format!("[{table}]\n"));
        kv(&mut v1, "default", "true");
        kv(&mut v1, "email", &quote::toml_string(ctx.address));
        if let Some(name) = ctx.display_name {
            kv(&mut v1, "display-name", &quote::toml_string(name));
        }
        let secret_v1 = match ctx.password() {
            Password::Embedded(s) => ("raw", s),
            Password::Command(c) => ("cmd", c),
        };
        for (prefix, kind, server, user) in [
            ("backend", "imap", ctx.incoming, in_user),
            ("message.send.backend", "smtp", ctx.outgoing, out_user),
        ] {
            v1.push('\n');
            kv(
                &mut v1,
                &format!("{prefix}.type"),
                &quote::toml_string(kind),
            );
            kv(
                &mut v1,
                &format!("{prefix}.host"),
                &quote::toml_string(&server.endpoint.host),
            );
            kv(
                &mut v1,
                &format!("{prefix}.port"),
                &server.endpoint.port.to_string(),
            );
            kv(
                &mut v1,
                &format!("{prefix}.encryption.type"),
                &quote::toml_string(match server.endpoint.security {
                    Security::Tls => "tls",
                    Security::StartTls => "start-tls",
                    Security::Plain => "none",
                }),
            );
            kv(
                &mut v1,
                &format!("{prefix}.login"),
                &quote::toml_string(user),
            );
            kv(
                &mut v1,
                &format!("{prefix}.auth.type"),
                &quote::toml_string("password"),
            );
            kv(
                &mut v1,
                &format!("{prefix}.auth.{}", secret_v1.0),
                &quote::toml_string(secret_v1.1),
            );
        }
        files.push(ctx.file(
            "himalaya/config.v1.toml",
            None,
            v1,
            ctx.embeds_password(),
            vec!["For Himalaya 1.x: use this file as ~/.config/himalaya/config.toml.".into()],
        ));
    }
    Ok(files)
}

fn kv(out: &mut String, key: &str, value: &str) {
    out.push_str(&format!("{key} = {value}\n"));
}

/// `imaps://host:port`, `imap://host:port` (with `starttls = true` when required).
fn v2_server(server: &ServerSettings) -> String {
    let scheme = match (server.endpoint.protocol, server.endpoint.security) {
        (Protocol::Smtp, Security::Tls) => "smtps",
        (Protocol::Smtp, _) => "smtp",
        (_, Security::Tls) => "imaps",
        (_, _) => "imap",
    };
    let host = if server.endpoint.host.contains(':') {
        format!("[{}]", server.endpoint.host)
    } else {
        server.endpoint.host.clone()
    };
    format!("{scheme}://{host}:{}", server.endpoint.port)
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;
    use super::super::{render, WriteOptions};

    #[test]
    fn v2_and_v1_files() {
        let files = render("himalaya", &imap(), &WriteOptions::default()).unwrap();
        assert_eq!(files.len(), 2);
        let v2 = &files[0].contents;
        assert!(v2.contains("[accounts.\"alice@example.com\"]"), "{v2}");
        assert!(v2.contains("imap.server = \"imaps://imap.example.com:993\""));
        assert!(
            v2.contains("imap.sasl.plain.password.command = \"pass show mail/alice@example.com\"")
        );
        let v1 = &files[1].contents;
        assert!(v1.contains("backend.encryption.type = \"tls\""), "{v1}");
        assert!(v1.contains("message.send.backend.auth.cmd = "));
    }

    #[test]
    fn shell_expansions_in_usernames_are_refused() {
        let mut s = imap();
        s.incoming.username = "$USER".into();
        assert!(render("himalaya", &s, &WriteOptions::default()).is_err());
    }
}
