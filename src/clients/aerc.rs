//! aerc: one `[account]` section of accounts.conf (go-ini syntax). Values are
//! wrapped in backticks so go-ini keeps `#`, `;` and quotes literally; URLs carry
//! the username percent-encoded. aerc refuses an accounts.conf readable by others,
//! so the file is always mode 0600.

use crate::model::{AuthMethod, Security, ServerSettings};

use super::{quote, Ctx, OutputFile, Password, WriteError};

pub fn render(ctx: &Ctx<'_>) -> Result<Vec<OutputFile>, WriteError> {
    ctx.password_auth("incoming", ctx.incoming)?;
    ctx.password_auth("outgoing", ctx.outgoing)?;
    let secret = match ctx.password() {
        Password::Embedded(s) => Some(s),
        Password::Command(_) => None,
    };

    let in_user = ctx.username("incoming", ctx.incoming)?;
    let source = url(ctx.incoming, Some(in_user), secret);
    let out_user = match ctx.outgoing.auth {
        AuthMethod::None => None,
        _ => Some(ctx.username("outgoing", ctx.outgoing)?),
    };
    let outgoing = url(ctx.outgoing, out_user, secret);

    let mut out = String::new();
    out.push_str(&format!("# {}\n", super::header(ctx)));
    out.push_str(&format!("[{}]\n", ctx.account));
    kv(&mut out, "source", "incoming username", &source)?;
    if secret.is_none() {
        kv(
            &mut out,
            "source-cred-cmd",
            "password command",
            ctx.password_command(),
        )?;
    }
    kv(&mut out, "outgoing", "outgoing username", &outgoing)?;
    if secret.is_none() && out_user.is_some() {
        kv(
            &mut out,
            "outgoing-cred-cmd",
            "password command",
            ctx.password_command(),
        )?;
    }
    kv(&mut out, "default", "default folder", "INBOX")?;
    let from = quote::rfc5322_mailbox(ctx.display_name, ctx.address);
    kv(&mut out, "from", "display name", &from)?;

    let mut notes = ctx.password_notes(true, true);
    notes.push(
        "aerc reads accounts.conf only when no one else can read it: keep it mode 0600.".into(),
    );
    notes.extend(ctx.plain_notes());
    Ok(vec![ctx.file(
        "aerc/accounts.conf",
        Some("~/.config/aerc/accounts.conf"),
        out,
        true,
        notes,
    )])
}

/// `key = `value``; `field` names the user's value in a refusal.
fn kv(out: &mut String, key: &str, field: &str, value: &str) -> Result<(), WriteError> {
    let quoted = quote::go_ini_string(field, value)?;
    out.push_str(&format!("{key:<17} = {quoted}\n"));
    Ok(())
}

/// `imaps://user@host:port`; `imap://` is STARTTLS in aerc and `+insecure` is no TLS.
fn url(server: &ServerSettings, user: Option<&str>, secret: Option<&str>) -> String {
    let base = match (server.endpoint.protocol, server.endpoint.security) {
        (crate::model::Protocol::Smtp, Security::Tls) => "smtps",
        (crate::model::Protocol::Smtp, Security::StartTls) => "smtp",
        (crate::model::Protocol::Smtp, Security::Plain) => "smtp+insecure",
        (_, Security::Tls) => "imaps",
        (_, Security::StartTls) => "imap",
        (_, Security::Plain) => "imap+insecure",
    };
    let scheme = match (server.endpoint.protocol, server.auth) {
        // The cred-cmd prints an access token (no token_endpoint: aerc uses it as it is).
        (_, AuthMethod::OAuth2) => match server.mechanism {
            Some(crate::model::Mechanism::OAuthBearer) => format!("{base}+oauthbearer"),
            _ => format!("{base}+xoauth2"),
        },
        (crate::model::Protocol::Smtp, AuthMethod::None) => format!("{base}+none"),
        (crate::model::Protocol::Smtp, _) => format!("{base}+plain"),
        _ => base.to_string(),
    };
    let host = if server.endpoint.host.contains(':') {
        format!("[{}]", server.endpoint.host)
    } else {
        server.endpoint.host.clone()
    };
    let userinfo = match (user, secret) {
        (Some(u), Some(p)) => format!("{}:{}@", quote::url_userinfo(u), quote::url_userinfo(p)),
        (Some(u), None) => format!("{}@", quote::url_userinfo(u)),
        (None, _) => String::new(),
    };
    format!("{scheme}://{userinfo}{host}:{}", server.endpoint.port)
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;
    use super::super::{render, WriteOptions};

    #[test]
    fn urls_and_commands_are_backticked() {
        let f = &render("aerc", &imap(), &WriteOptions::default()).unwrap()[0];
        let c = &f.contents;
        assert!(
            c.contains("source            = `imaps://alice%40example.com@imap.example.com:993`"),
            "{c}"
        );
        assert!(c.contains(
            "outgoing          = `smtps+plain://alice%40example.com@smtp.example.com:465`"
        ));
        assert!(c.contains("source-cred-cmd   = `pass show mail/alice@example.com`"));
        assert!(c.contains("from              = `\"Alice Example\" <alice@example.com>`"));
        assert_eq!(f.mode, 0o600);
    }

    #[test]
    fn go_ini_interpolation_is_refused() {
        let mut s = imap();
        s.display_name = Some("%(source)s".into());
        assert!(render("aerc", &s, &WriteOptions::default()).is_err());
    }
}
