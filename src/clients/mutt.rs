//! NeoMutt and Mutt: one muttrc. The two differ only in variable names
//! (NeoMutt's `real_name`/`spool_file` versus Mutt's `realname`/`spoolfile`).
//!
//! Strings are written in double quotes with `\`, `"`, `` ` `` and `$` escaped
//! ([`quote::mutt_string`]). The password command runs inside backticks in a
//! double-quoted string, where Mutt hands the raw text between the backticks to
//! `sh -c`: such a command must not contain a backtick itself.

use crate::model::{AuthMethod, Security, ServerSettings};

use super::{quote, Ctx, OutputFile, Password, WriteError};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavour {
    NeoMutt,
    Mutt,
}

pub fn render(ctx: &Ctx<'_>, flavour: Flavour) -> Result<Vec<OutputFile>, WriteError> {
    // Empty words: the client negotiates the mechanism itself (see clients::NEOMUTT).
    let in_enc = ctx
        .password_auth("incoming", ctx.incoming)?
        .filter(|w| !w.is_empty());
    let out_enc = ctx
        .password_auth("outgoing", ctx.outgoing)?
        .filter(|w| !w.is_empty());
    let (real_name, spool_file, file, install) = match flavour {
        Flavour::NeoMutt => (
            "real_name",
            "spool_file",
            "neomutt/neomuttrc",
            "~/.config/neomutt/neomuttrc",
        ),
        Flavour::Mutt => ("realname", "spoolfile", "mutt/muttrc", "~/.muttrc"),
    };
    let pass = if ctx.oauth2() {
        String::new()
    } else {
        pass_value(ctx, flavour)?
    };
    // OAuth2: XOAUTH2 (every OAuth2 provider takes it), the token from the refresh command.
    let token_cmd = quote::mutt_string(ctx.password_command());
    let in_user = ctx.username("incoming", ctx.incoming)?;

    let mut out = String::new();
    out.push_str(&format!("# {}\n", super::header(ctx)));
    set(&mut out, "from", &quote::mutt_string(ctx.address));
    if let Some(name) = ctx.display_name {
        set(&mut out, real_name, &quote::mutt_string(name));
    }
    set(&mut out, "use_from", "yes");
    let any_plain = [ctx.incoming, ctx.outgoing]
        .iter()
        .any(|s| s.endpoint.security == Security::Plain);
    set(
        &mut out,
        "ssl_force_tls",
        if any_plain { "no" } else { "yes" },
    );
    set(
        &mut out,
        "ssl_starttls",
        if any_plain { "no" } else { "yes" },
    );

    let incoming_url = server_url(ctx.incoming, None);
    if ctx.is_pop3() {
        out.push_str("\n# Incoming: POP3\n");
        set(&mut out, "pop_user", &quote::mutt_string(in_user));
        if ctx.oauth2() {
            let mech = ctx.oauth2_mechanism(ctx.incoming);
            set(&mut out, "pop_authenticators", &format!("\"{mech}\""));
            set(&mut out, "pop_oauth_refresh_command", &token_cmd);
        } else {
            set(&mut out, "pop_pass", &pass);
        }
        set(&mut out, "pop_host", &quote::mutt_string(&incoming_url));
        set(&mut out, spool_file, &quote::mutt_string(&incoming_url));
        // pop_delete: what <fetch-mail> does with downloaded messages.
        set(
            &mut out,
            "pop_delete",
            if ctx.pop3.keep { "no" } else { "yes" },
        );
        if let Some(mech) = in_enc {
            set(&mut out, "pop_authenticators", &format!("\"{mech}\""));
        }
    } else {
        out.push_str("\n# Incoming: IMAP\n");
        set(&mut out, "imap_user", &quote::mutt_string(in_user));
        if ctx.oauth2() {
            let mech = ctx.oauth2_mechanism(ctx.incoming);
            set(&mut out, "imap_authenticators", &format!("\"{mech}\""));
            set(&mut out, "imap_oauth_refresh_command", &token_cmd);
        } else {
            set(&mut out, "imap_pass", &pass);
        }
        set(&mut out, "folder", &quote::mutt_string(&incoming_url));
        set(&mut out, spool_file, "\"+INBOX\"");
        if let Some(mech) = in_enc {
            set(&mut out, "imap_authenticators", &format!("\"{mech}\""));
        }
    }

    out.push_str("\n# Outgoing: SMTP\n");
    let out_user = match ctx.outgoing.auth {
        AuthMethod::None => None,
        _ => Some(ctx.username("outgoing", ctx.outgoing)?),
    };
    set(
        &mut out,
        "smtp_url",
        &quote::mutt_string(&server_url(ctx.outgoing, out_user)),
    );
    if out_user.is_some() && ctx.oauth2() {
        let mech = ctx.oauth2_mechanism(ctx.outgoing);
        set(&mut out, "smtp_authenticators", &format!("\"{mech}\""));
        set(&mut out, "smtp_oauth_refresh_command", &token_cmd);
    } else if out_user.is_some() {
        set(&mut out, "smtp_pass", &pass);
    }
    if let Some(mech) = out_enc {
        set(&mut out, "smtp_authenticators", &format!("\"{mech}\""));
    }

    let mut notes = ctx.password_notes(true, true);
    notes.extend(ctx.pop3_notes(false));
    if ctx.is_pop3() {
        notes.push(
            "The inbox is read directly on the POP3 server; <fetch-mail> (G) downloads into the local \
             mailbox and then follows the keep policy (pop_delete)."
                .into(),
        );
    }
    notes.extend(ctx.plain_notes());
    Ok(vec![ctx.file(
        file,
        Some(install),
        out,
        ctx.embeds_password(),
        notes,
    )])
}

fn set(out: &mut String, name: &str, value: &str) {
    out.push_str(&format!("set {name} = {value}\n"));
}

/// `imaps://[user@]host:port/` with the user percent-encoded.
fn server_url(server: &ServerSettings, user: Option<&str>) -> String {
    let host = if server.endpoint.host.contains(':') {
        format!("[{}]", server.endpoint.host)
    } else {
        server.endpoint.host.clone()
    };
    let scheme = match (server.endpoint.protocol, server.endpoint.security) {
        (crate::model::Protocol::Imap, Security::Tls) => "imaps",
        (crate::model::Protocol::Imap, _) => "imap",
        (crate::model::Protocol::Pop3, Security::Tls) => "pops",
        (crate::model::Protocol::Pop3, _) => "pop",
        (crate::model::Protocol::Smtp, Security::Tls) => "smtps",
        (crate::model::Protocol::Smtp, _) => "smtp",
    };
    let userinfo = user
        .map(|u| format!("{}@", quote::url_userinfo(u)))
        .unwrap_or_default();
    format!("{scheme}://{userinfo}{host}:{}/", server.endpoint.port)
}

/// The quoted value for `*_pass`: a backtick command or the embedded secret.
///
/// Mutt hands the text between the backticks to the shell as it is. NeoMutt
/// first runs it through its own tokenizer, which expands `$name` and consumes
/// backslashes, so for NeoMutt both are escaped with a backslash.
fn pass_value(ctx: &Ctx<'_>, flavour: Flavour) -> Result<String, WriteError> {
    match ctx.password() {
        Password::Embedded(secret) => Ok(quote::mutt_string(secret)),
        Password::Command(cmd) => {
            quote::refuse_chars(
                "password command",
                cmd,
                &['`'],
                "cannot appear inside Mutt's `command` substitution; wrap the command in a script",
            )?;
            if flavour == Flavour::Mutt && cmd.ends_with('\\') {
                return Err(quote::unsafe_value(
                    "password command",
                    "ends with a backslash, which would escape Mutt's closing backtick; remove it",
                ));
            }
            let cmd = match flavour {
                Flavour::Mutt => cmd.to_string(),
                Flavour::NeoMutt => cmd.replace('\\', "\\\\").replace('$', "\\$"),
            };
            Ok(format!("\"`{cmd}`\""))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;
    use super::super::{render, WriteOptions};

    #[test]
    fn neomutt_and_mutt_use_their_own_names() {
        let neo = &render("neomutt", &imap(), &WriteOptions::default()).unwrap()[0];
        assert!(
            neo.contents.contains("set real_name = \"Alice Example\""),
            "{}",
            neo.contents
        );
        assert!(neo.contents.contains("set spool_file = \"+INBOX\""));
        assert!(neo
            .contents
            .contains("set imap_pass = \"`pass show mail/alice@example.com`\""));
        assert!(neo
            .contents
            .contains("set smtp_url = \"smtps://alice%40example.com@smtp.example.com:465/\""));
        let mutt = &render("mutt", &imap(), &WriteOptions::default()).unwrap()[0];
        assert!(mutt.contents.contains("set realname = "));
        assert!(mutt.contents.contains("set spoolfile = "));
    }

    #[test]
    fn backticks_in_the_command_are_refused() {
        let opts = WriteOptions {
            password_command: Some("echo `id`".into()),
            ..Default::default()
        };
        assert!(render("mutt", &imap(), &opts).is_err());
    }

    #[test]
    fn hostile_names_are_escaped() {
        let mut s = imap();
        s.display_name = Some("\"; set x=`id` $HOME \\".into());
        let f = &render("neomutt", &s, &WriteOptions::default()).unwrap()[0];
        assert!(
            f.contents
                .contains(r#"set real_name = "\"; set x=\`id\` \$HOME \\""#),
            "{}",
            f.contents
        );
    }
}
