//! fetchmail (6.4 or later): one `poll` entry. Strings are `"…"` with `\\` and
//! `\042` for a double quote ([`quote::fetchmail_string`]). fetchmail cannot run
//! a password command and refuses an rc file others can read: always mode 0600.

use crate::model::{Protocol, Security};

use super::{quote, Ctx, OutputFile, Password, WriteError};

pub fn render(ctx: &Ctx<'_>) -> Result<Vec<OutputFile>, WriteError> {
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
    out.push_str(&format!("# {}\n", super::header(ctx)));
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

    let mut notes = Vec::new();
    if ctx.embeds_password() {
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
    notes.push(
        "fetchmail hands each message to the local mail server (port 25) for delivery; add an `mda` \
         line to deliver differently. It refuses an rc file others can read: keep it mode 0600."
            .into(),
    );
    if !ctx.is_pop3() {
        notes.push(
            "IMAP: fetchmail leaves messages on the server (keep) and fetches only unseen ones."
                .into(),
        );
    }
    notes.extend(ctx.pop3_notes(false));
    notes.extend(ctx.plain_notes());
    Ok(vec![ctx.file(
        "fetchmail/fetchmailrc",
        Some("~/.fetchmailrc"),
        out,
        true,
        notes,
    )])
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
