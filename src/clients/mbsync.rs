//! isync/mbsync: an IMAP account synced to a local Maildir. Written for isync 1.4
//! (Debian 12 ships 1.4.4) and also valid for 1.5: `SSLType` (1.5 still accepts
//! it beside the newer `TLSType`) and `Far`/`Near` channel sides (new in 1.4).
//! Arguments are quoted with [`quote::mbsync_string`].

use crate::model::{AuthMethod, Security};

use super::{quote, Ctx, OutputFile, Password, WriteError};

pub fn render(ctx: &Ctx<'_>) -> Result<Vec<OutputFile>, WriteError> {
    let encrypted = ctx.password_auth("incoming", ctx.incoming)?;
    let user = ctx.username("incoming", ctx.incoming)?;
    let name = &ctx.account;
    let maildir = ctx.maildir();

    let mut out = String::new();
    out.push_str(&format!("# {}\n", super::header(ctx)));
    out.push_str(&format!("IMAPAccount {name}\n"));
    out.push_str(&format!("Host {}\n", ctx.incoming.endpoint.host));
    out.push_str(&format!("Port {}\n", ctx.incoming.endpoint.port));
    out.push_str(&format!("User {}\n", quote::mbsync_string(user)));
    match ctx.password() {
        Password::Embedded(secret) => {
            out.push_str(&format!("Pass {}\n", quote::mbsync_string(secret)));
        }
        Password::Command(cmd) => {
            // A leading '+' tells mbsync the command talks to the terminal; a
            // space in front keeps a command that really starts with '+' intact.
            let cmd = if cmd.starts_with('+') {
                format!(" {cmd}")
            } else {
                cmd.to_string()
            };
            out.push_str(&format!("PassCmd {}\n", quote::mbsync_string(&cmd)));
        }
    }
    out.push_str(&format!(
        "SSLType {}\n",
        match ctx.incoming.endpoint.security {
            Security::Tls => "IMAPS",
            Security::StartTls => "STARTTLS",
            Security::Plain => "None",
        }
    ));
    match (ctx.incoming.auth, encrypted) {
        // Through a Cyrus SASL XOAUTH2 plugin; PassCmd prints a fresh access token.
        (AuthMethod::OAuth2, _) => out.push_str("AuthMechs XOAUTH2\n"),
        (_, Some(mech)) => out.push_str(&format!("AuthMechs {mech}\n")),
        (_, None) => out.push_str("AuthMechs LOGIN PLAIN\n"),
    }

    out.push_str(&format!("\nIMAPStore {name}-remote\nAccount {name}\n"));
    out.push_str(&format!("\nMaildirStore {name}-local\n"));
    out.push_str("SubFolders Verbatim\n");
    out.push_str(&format!(
        "Path {}\n",
        quote::mbsync_string(&format!("{maildir}/"))
    ));
    out.push_str(&format!(
        "Inbox {}\n",
        quote::mbsync_string(&format!("{maildir}/INBOX"))
    ));

    out.push_str(&format!("\nChannel {name}\n"));
    out.push_str(&format!("Far :{name}-remote:\n"));
    out.push_str(&format!("Near :{name}-local:\n"));
    out.push_str("Patterns *\n");
    out.push_str("Create Near\n");
    out.push_str("Expunge None\n");
    out.push_str("SyncState *\n");
    out.push_str("CopyArrivalDate yes\n");

    let mut notes = ctx.password_notes(true, true);
    notes.push(format!(
        "Create the mail directory first (mkdir -p {maildir}), then run `mbsync {name}`."
    ));
    notes.extend(ctx.plain_notes());
    Ok(vec![ctx.file(
        "mbsync/mbsyncrc",
        Some("~/.mbsyncrc"),
        out,
        ctx.embeds_password(),
        notes,
    )])
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;
    use super::super::{render, WriteOptions};

    #[test]
    fn isync_14_syntax() {
        let f = &render("mbsync", &imap(), &WriteOptions::default()).unwrap()[0];
        let c = &f.contents;
        assert!(c.contains("SSLType IMAPS\n"), "{c}");
        assert!(!c.contains("TLSType"));
        assert!(c.contains("PassCmd \"pass show mail/alice@example.com\"\n"));
        assert!(c.contains("Far :alice@example.com-remote:\n"));
        assert!(c.contains("Path \"~/Mail/alice@example.com/\"\n"));
        assert!(!c.contains("Master") && !c.contains("Slave"));
    }
}
