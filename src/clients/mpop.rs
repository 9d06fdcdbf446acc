//! mpop: a POP3 account delivering into a local Maildir. Same syntax as msmtp
//! ([`quote::msmtp_string`]); the keep policy is `keep on|off`.

use crate::model::Security;

use super::{quote, Ctx, OutputFile, Password, WriteError};

pub fn render(ctx: &Ctx<'_>) -> Result<Vec<OutputFile>, WriteError> {
    let encrypted = ctx.password_auth("incoming", ctx.incoming)?;
    let server = ctx.incoming;
    let name = &ctx.account;
    let user = ctx.username("incoming", server)?;
    let maildir = ctx.maildir();

    let mut out = String::new();
    out.push_str(&format!("account {name}\n"));
    out.push_str(&format!("host {}\n", server.endpoint.host));
    out.push_str(&format!("port {}\n", server.endpoint.port));
    let (tls, starttls) = match server.endpoint.security {
        Security::Tls => ("on", "off"),
        Security::StartTls => ("on", "on"),
        Security::Plain => ("off", "off"),
    };
    out.push_str(&format!("tls {tls}\ntls_starttls {starttls}\n"));
    // The verified challenge-response method exactly: `auth on` would let mpop pick USER
    // first, which a server offering only "encrypted password" refuses. OAuth2: XOAUTH2 with
    // a fresh access token from passwordeval.
    let method = if ctx.oauth2() {
        ctx.oauth2_mechanism(ctx.incoming)
    } else {
        encrypted.unwrap_or("on")
    };
    out.push_str(&format!("auth {method}\n"));
    out.push_str(&format!("user {}\n", quote::msmtp_string(user)));
    match ctx.password() {
        Password::Embedded(secret) => {
            out.push_str(&format!("password {}\n", quote::msmtp_string(secret)))
        }
        Password::Command(cmd) => {
            out.push_str(&format!("passwordeval {}\n", quote::msmtp_string(cmd)))
        }
    }
    out.push_str(&format!(
        "keep {}\n",
        if ctx.pop3.keep { "on" } else { "off" }
    ));
    out.push_str("only_new on\n");
    out.push_str(&format!(
        "delivery maildir {}\n",
        quote::msmtp_string(&maildir)
    ));
    let body = out;
    let alone = format!("{body}\naccount default : {name}\n");
    let out = format!("# {}\ndefaults\n\n{alone}", super::header(ctx));

    let mut notes = ctx.password_notes(true, true);
    notes.extend(ctx.pop3_notes(false));
    notes.extend(ctx.plain_notes());
    let mut file = ctx.file(
        "mpop/mpoprc",
        Some("~/.config/mpop/config"),
        out,
        ctx.embeds_password(),
        notes,
    );
    file.install = ctx.block(
        &[("~/.mpoprc", true), ("~/.config/mpop/config", true)],
        "~/.config/mpop/config",
        alone,
        body,
    );
    file.dirs = vec![super::NeededDir {
        path: maildir,
        maildir: true,
    }];
    file.start = Some(format!("mpop {name}"));
    file.fetches = true;
    Ok(vec![file])
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;
    use super::super::{render, WriteOptions};

    #[test]
    fn keep_policy_is_explicit() {
        let f = &render("mpop", &pop3(), &WriteOptions::default()).unwrap()[0];
        assert!(f.contents.contains("keep on\n"), "{}", f.contents);
        assert!(f
            .notes
            .iter()
            .any(|n| n.contains("cannot delete messages after 14 days")));
        let mut s = pop3();
        s.pop3.keep = false;
        let f = &render("mpop", &s, &WriteOptions::default()).unwrap()[0];
        assert!(f.contents.contains("keep off\n"));
    }
}
