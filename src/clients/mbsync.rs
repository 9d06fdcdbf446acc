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

    const CHANNEL_OPTIONS: &str = "Create Near\nExpunge None\nSyncState *\nCopyArrivalDate yes\n";
    let f = &ctx.folders;
    let mapped: Vec<(&str, &str)> = [
        ("Sent", &f.sent),
        ("Drafts", &f.drafts),
        ("Trash", &f.trash),
        ("Junk", &f.junk),
        ("Archive", &f.archive),
    ]
    .into_iter()
    .filter_map(|(near, far)| far.as_ref().map(|far| (near, far.raw.as_str())))
    .collect();
    if mapped.is_empty() {
        out.push_str(&format!("\nChannel {name}\n"));
        out.push_str(&format!("Far :{name}-remote:\n"));
        out.push_str(&format!("Near :{name}-local:\n"));
        out.push_str("Patterns *\n");
        out.push_str(CHANNEL_OPTIONS);
    } else {
        // The server's special folders under the same local names on every server
        // (Sent, Drafts, …), whatever the server calls them; everything else as it is.
        // isync 1.4 passes IMAP names through unconverted: the far side uses the raw
        // (modified UTF-7) names.
        let mut channels = Vec::new();
        let mut exclude = vec!["INBOX".to_string()];
        for (near, far) in std::iter::once(("INBOX", "INBOX")).chain(mapped.iter().copied()) {
            let channel = format!("{name}-{}", near.to_ascii_lowercase());
            out.push_str(&format!("\nChannel {channel}\n"));
            out.push_str(&format!(
                "Far {}\n",
                quote::mbsync_string(&format!(":{name}-remote:{far}"))
            ));
            out.push_str(&format!("Near :{name}-local:{near}\n"));
            out.push_str(CHANNEL_OPTIONS);
            channels.push(channel);
            for n in [near, far] {
                if !exclude.iter().any(|e| e == n) {
                    exclude.push(n.to_string());
                }
            }
        }
        let rest = format!("{name}-other");
        out.push_str(&format!("\nChannel {rest}\n"));
        out.push_str(&format!("Far :{name}-remote:\n"));
        out.push_str(&format!("Near :{name}-local:\n"));
        let excluded: Vec<String> = exclude
            .iter()
            .map(|e| quote::mbsync_string(&format!("!{e}")))
            .collect();
        out.push_str(&format!("Patterns * {}\n", excluded.join(" ")));
        out.push_str(CHANNEL_OPTIONS);
        channels.push(rest);
        out.push_str(&format!("\nGroup {name}\n"));
        for c in channels {
            out.push_str(&format!("Channel {c}\n"));
        }
    }

    let mut notes = ctx.password_notes(true, true);
    notes.push(format!(
        "Run `mbsync {name}`; mail goes to {maildir} (the directory must exist: mailsetup makes it when it installs the file)."
    ));
    notes.extend(ctx.plain_notes());
    let body = out;
    let out = format!("# {}\n{body}", super::header(ctx));
    let mut file = ctx.file(
        "mbsync/mbsyncrc",
        Some("~/.mbsyncrc"),
        out,
        ctx.embeds_password(),
        notes,
    );
    file.install = ctx.block(&[("~/.mbsyncrc", true)], "~/.mbsyncrc", body.clone(), body);
    file.dirs = vec![super::NeededDir {
        path: maildir,
        maildir: false,
    }];
    file.start = Some(format!("mbsync {name}"));
    file.fetches = true;
    Ok(vec![file])
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
