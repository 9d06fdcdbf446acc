//! fetchmail (6.4 or later): one `poll` entry. Strings are `"…"` with `\\` and
//! `\042` for a double quote ([`quote::fetchmail_string`]). fetchmail cannot run
//! a password command and refuses an rc file others can read: always mode 0600.

use crate::model::{Protocol, Security};

use super::{quote, Ctx, OutputFile, Password, WriteError};

pub(crate) fn render(ctx: &Ctx<'_>) -> Result<Vec<OutputFile>, WriteError> {
    let encrypted = ctx.password_auth("incoming", ctx.incoming)?;
    let server = ctx.incoming;
    let user = ctx.username("incoming", server)?;
    // APOP is a protocol of its own to fetchmail; other logins are an `auth` word.
    let (protocol, auth) = match (server.endpoint.protocol, encrypted) {
        (Protocol::Pop3, Some("apop")) => ("APOP", "password"),
        (Protocol::Pop3, enc) => ("POP3", enc.unwrap_or("password")),
        (_, enc) => ("IMAP", enc.unwrap_or("password")),
    };

    let mut out = String::new();
    let runner = match (ctx.password(), ctx.opts.mailsetup_exe.as_deref()) {
        (Password::Command(cmd), Some(_)) => {
            // fetchmail cannot run a password command: `mailsetup fetchmail` runs this one and
            // hands fetchmail the file with the password on its standard input.
            out.push_str(&format!("{PASSWORD_COMMAND_MARK}{cmd}\n"));
            true
        }
        _ => false,
    };
    out.push_str(&format!(
        "poll {} protocol {protocol} port {}\n",
        quote::fetchmail_string(&server.endpoint.host),
        server.endpoint.port
    ));
    out.push_str(&format!("    auth {auth}\n"));
    let keep = ctx.pop3.keep || !ctx.is_pop3();
    // Server options (uidl) must come before the user options below.
    if keep && ctx.is_pop3() {
        out.push_str("    uidl\n");
    }
    out.push_str(&format!("    user {}\n", quote::fetchmail_string(user)));
    if let Password::Embedded(secret) = ctx.password() {
        out.push_str(&format!(
            "    password {}\n",
            quote::fetchmail_string(secret)
        ));
    }
    match server.endpoint.security {
        Security::Tls => out.push_str("    ssl\n    sslproto \"TLS1.2+\"\n    sslcertck\n"),
        // Without `ssl`, an sslproto other than '' makes STARTTLS mandatory (6.4+).
        Security::StartTls => out.push_str("    sslproto \"TLS1.2+\"\n    sslcertck\n"),
        Security::Plain => out.push_str("    sslproto \"\"\n"),
    }
    if keep {
        out.push_str("    keep\n");
    } else {
        out.push_str("    nokeep\n");
    }
    let maildir = ctx.maildir();
    if let Some(exe) = ctx.opts.mailsetup_exe.as_deref() {
        // No local mail server needed: each message goes straight into the Maildir.
        let mda = quote::shell_join([exe, "deliver", maildir.as_str()]);
        quote::refuse_chars(
            "mail directory",
            &mda,
            &['%'],
            "fetchmail's mda option replaces %-sequences; choose a path without %",
        )?;
        out.push_str(&format!("    mda {}\n", quote::fetchmail_string(&mda)));
    }

    let mut notes = Vec::new();
    if runner {
        notes.push(
            "fetchmail cannot run a password command: start it as `mailsetup fetchmail` (any \
             fetchmail options after it), which reads the password and hands it to fetchmail on \
             its standard input; plain `fetchmail` asks for it."
                .into(),
        );
    } else if ctx.embeds_password() {
        notes.push(
            "The password is written into this file (--embed-password); it is created mode 0600."
                .into(),
        );
    } else {
        notes.push(format!(
            "fetchmail cannot run a password command: it reads the password from ~/.netrc \
             (machine {} login … password …) or asks for it; or write it here with --embed-password.",
            server.endpoint.host
        ));
    }
    if ctx.opts.mailsetup_exe.is_some() {
        notes.push(format!(
            "fetchmail delivers each message into {maildir} (through `mailsetup deliver`, no \
             local mail server needed). It refuses an rc file others can read: keep it mode 0600."
        ));
    } else {
        notes.push(
            "fetchmail hands each message to the local mail server (port 25) for delivery; add an `mda` \
             line to deliver differently. It refuses an rc file others can read: keep it mode 0600."
                .into(),
        );
    }
    if !ctx.is_pop3() {
        notes.push(
            "IMAP: fetchmail leaves messages on the server (keep) and fetches only unseen ones."
                .into(),
        );
    }
    notes.extend(ctx.pop3_notes(false));
    notes.extend(ctx.plain_notes());
    let body = out;
    let out = format!("# {}\n{body}", super::header(ctx));
    let mut file = ctx.file(
        "fetchmail/fetchmailrc",
        Some("~/.fetchmailrc"),
        out,
        true,
        notes,
    );
    file.install = ctx.block(
        &[("~/.fetchmailrc", true)],
        "~/.fetchmailrc",
        body.clone(),
        body,
    );
    if ctx.opts.mailsetup_exe.is_some() {
        file.dirs = vec![super::NeededDir {
            path: maildir,
            maildir: true,
        }];
    }
    file.start = Some(if runner {
        "mailsetup fetchmail".into()
    } else {
        "fetchmail".into()
    });
    // A one-shot fetch to offer right after setup only when `mailsetup fetchmail` runs it.
    file.fetches = runner;
    Ok(vec![file])
}

/// The comment line before a poll entry that names its password command.
pub const PASSWORD_COMMAND_MARK: &str = "# mailsetup-password-command: ";

/// The rc text with a `password` line after the `user` line of every entry that follows a
/// [`PASSWORD_COMMAND_MARK`] comment; `password_of` runs that command.
pub fn with_passwords<E>(
    rc: &str,
    mut password_of: impl FnMut(&str) -> Result<crate::model::Secret, E>,
) -> Result<zeroize::Zeroizing<String>, E> {
    let mut out = zeroize::Zeroizing::new(String::with_capacity(rc.len() + 64));
    let mut pending: Option<String> = None;
    for line in rc.split_inclusive('\n') {
        out.push_str(line);
        if let Some(cmd) = line.trim_end().strip_prefix(PASSWORD_COMMAND_MARK) {
            pending = Some(cmd.to_string());
            continue;
        }
        if line.trim_start().starts_with("user ") {
            if let Some(cmd) = pending.take() {
                let secret = password_of(&cmd)?;
                if !out.ends_with('\n') {
                    out.push('\n');
                }
                out.push_str(&format!(
                    "    password {}\n",
                    quote::fetchmail_string(secret.expose())
                ));
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;
    use super::super::{render, WriteOptions};

    #[test]
    fn pop3_keep_with_uidl() {
        let f = &render("fetchmail", &pop3(), &WriteOptions::default()).unwrap()[0];
        let c = &f.contents;
        assert!(
            c.contains("poll \"pop.example.org\" protocol POP3 port 995\n"),
            "{c}"
        );
        assert!(c.contains("    ssl\n"));
        assert!(c.contains("    auth password\n    uidl\n    user "));
        assert!(c.ends_with("    keep\n"));
        assert!(!c.contains("password "));
        assert_eq!(f.mode, 0o600);
    }
}
