//! msmtp: an SMTP account for sending. msmtp arguments take one outer pair of
//! double quotes and no escapes ([`quote::msmtp_string`]). `from` is a pattern
//! (`%U`, `*`, `?`, `[…]` are special), so addresses with those are refused.

use crate::model::{AuthMethod, Security};

use super::{quote, Ctx, OutputFile, Password, WriteError};

pub fn render(ctx: &Ctx<'_>) -> Result<Vec<OutputFile>, WriteError> {
    let encrypted = ctx.password_auth("outgoing", ctx.outgoing)?;
    quote::refuse_chars(
        "email address",
        ctx.address,
        &['%', '*', '?', '['],
        "msmtp's `from` treats as a substitution or wildcard; send with a simpler address",
    )?;
    let server = ctx.outgoing;
    let name = &ctx.account;

    let mut out = String::new();
    out.push_str(&format!("# {}\n", super::header(ctx)));
    out.push_str("defaults\n\n");
    out.push_str(&format!("account {name}\n"));
    out.push_str(&format!("host {}\n", server.endpoint.host));
    out.push_str(&format!("port {}\n", server.endpoint.port));
    let (tls, starttls) = match server.endpoint.security {
        Security::Tls => ("on", "off"),
        Security::StartTls => ("on", "on"),
        Security::Plain => ("off", "off"),
    };
    out.push_str(&format!("tls {tls}\ntls_starttls {starttls}\n"));
    match (server.auth, encrypted) {
        // XOAUTH2: what every OAuth2 mail provider accepts (Microsoft has no OAUTHBEARER);
        // passwordeval prints a fresh access token.
        (AuthMethod::OAuth2, _) => {
            out.push_str(&format!("auth {}\n", ctx.oauth2_mechanism(server)))
        }
        (_, Some(mech)) => out.push_str(&format!("auth {mech}\n")),
        (AuthMethod::None, None) => out.push_str("auth off\n"),
        _ => out.push_str("auth on\n"),
    }
    if server.auth != AuthMethod::None {
        let user = ctx.username("outgoing", server)?;
        out.push_str(&format!("user {}\n", quote::msmtp_string(user)));
        match ctx.password() {
            Password::Embedded(secret) => {
                out.push_str(&format!("password {}\n", quote::msmtp_string(secret)))
            }
            Password::Command(cmd) => {
                out.push_str(&format!("passwordeval {}\n", quote::msmtp_string(cmd)))
            }
        }
    }
    out.push_str(&format!("from {}\n", quote::msmtp_string(ctx.address)));
    out.push_str(&format!("\naccount default : {name}\n"));

    let mut notes = ctx.password_notes(true, true);
    notes.push(format!(
        "Send with `msmtp -a {name} recipient@example.org < message`, or set msmtp as the sendmail program."
    ));
    notes.extend(ctx.plain_notes());
    Ok(vec![ctx.file(
        "msmtp/msmtprc",
        Some("~/.msmtprc"),
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
    fn starttls_submission() {
        let f = &render("msmtp", &pop3(), &WriteOptions::default()).unwrap()[0];
        let c = &f.contents;
        assert!(c.contains("port 587\ntls on\ntls_starttls on\n"), "{c}");
        assert!(c.contains("passwordeval \"pass show mail/bob@example.org\"\n"));
        assert!(c.contains("from \"bob@example.org\"\n"));
    }

    #[test]
    fn wildcard_addresses_are_refused() {
        let mut s = imap();
        s.address = "a%U@example.com".into();
        assert!(render("msmtp", &s, &WriteOptions::default()).is_err());
    }
}
