//! Thunderbird: an autoconfig file (config-v1.1.xml, REFERENCE §3), the format
//! Thunderbird reads from autoconfig.<domain> or from its `isp/` folder.

use crate::model::{AuthMethod, Protocol, Security, ServerSettings};

use super::xml::XmlDoc;
use super::{quote, Ctx, OutputFile, WriteError};

/// Thunderbird replaces these in `<username>`; a literal one would be rewritten.
const PLACEHOLDERS: [&str; 4] = [
    "%EMAILADDRESS%",
    "%EMAILLOCALPART%",
    "%EMAILDOMAIN%",
    "%REALNAME%",
];

pub fn render(ctx: &Ctx<'_>) -> Result<Vec<OutputFile>, WriteError> {
    let mut doc = XmlDoc::new();
    doc.open("clientConfig", &[("version", "1.1")])?;
    doc.open("emailProvider", &[("id", ctx.domain)])?;
    doc.text("domain", ctx.domain)?;
    doc.text("displayName", ctx.domain)?;
    doc.text("displayShortName", ctx.domain)?;

    let incoming = ctx.incoming;
    let kind = match incoming.endpoint.protocol {
        Protocol::Pop3 => "pop3",
        _ => "imap",
    };
    doc.open("incomingServer", &[("type", kind)])?;
    server_body(ctx, &mut doc, "incoming", incoming)?;
    if ctx.is_pop3() {
        doc.open("pop3", &[])?;
        doc.text(
            "leaveMessagesOnServer",
            if ctx.pop3.keep { "true" } else { "false" },
        )?;
        if let (true, Some(days)) = (ctx.pop3.keep, ctx.pop3.keep_days) {
            doc.text("daysToLeaveMessagesOnServer", &days.to_string())?;
        }
        doc.text("downloadOnBiff", "true")?;
        doc.close("pop3");
    }
    doc.close("incomingServer");

    doc.open("outgoingServer", &[("type", "smtp")])?;
    server_body(ctx, &mut doc, "outgoing", ctx.outgoing)?;
    doc.close("outgoingServer");

    doc.close("emailProvider");
    doc.close("clientConfig");

    let mut notes = vec![format!(
        "Thunderbird reads this file when it is served at https://autoconfig.{d}/mail/config-v1.1.xml \
         (or https://{d}/.well-known/autoconfig/mail/config-v1.1.xml), or when it is copied into the \
         isp/ folder of the Thunderbird installation; then add the account with its address.",
        d = ctx.domain
    )];
    notes.extend(ctx.password_notes(false, false));
    notes.extend(ctx.pop3_notes(true));
    notes.extend(ctx.plain_notes());
    if [incoming.auth, ctx.outgoing.auth].contains(&AuthMethod::OAuth2) {
        notes.push(
            "OAuth2 works only for providers Thunderbird has built-in OAuth2 details for.".into(),
        );
    }
    Ok(vec![ctx.file(
        "thunderbird/config-v1.1.xml",
        None,
        doc.finish(),
        false,
        notes,
    )])
}

fn server_body(
    ctx: &Ctx<'_>,
    doc: &mut XmlDoc,
    which: &str,
    server: &ServerSettings,
) -> Result<(), WriteError> {
    doc.text("hostname", &server.endpoint.host)?;
    doc.text("port", &server.endpoint.port.to_string())?;
    doc.text(
        "socketType",
        match server.endpoint.security {
            Security::Tls => "SSL",
            Security::StartTls => "STARTTLS",
            Security::Plain => "plain",
        },
    )?;
    if server.auth != AuthMethod::None || !server.username.is_empty() {
        let username = ctx.username(which, server)?;
        doc.text("username", &username_template(ctx, which, username)?)?;
    }
    let encrypted = ctx.encrypted_auth(which, server)?;
    doc.text(
        "authentication",
        match (server.auth, encrypted) {
            (_, Some(word)) => word,
            (AuthMethod::OAuth2, None) => "OAuth2",
            (AuthMethod::None, None) => "none",
            _ => "password-cleartext",
        },
    )?;
    Ok(())
}

/// The username, written as a placeholder when it is the address or its local part.
fn username_template(ctx: &Ctx<'_>, which: &str, username: &str) -> Result<String, WriteError> {
    if username == ctx.address {
        return Ok("%EMAILADDRESS%".into());
    }
    if username == ctx.local_part {
        return Ok("%EMAILLOCALPART%".into());
    }
    for placeholder in PLACEHOLDERS {
        quote::refuse_substring(
            &format!("{which} username"),
            username,
            placeholder,
            "Thunderbird replaces with account data; such a username cannot be written for Thunderbird",
        )?;
    }
    Ok(username.to_string())
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;
    use super::super::{render, WriteOptions};

    #[test]
    fn imap_file_matches_the_reference_shape() {
        let f = &render("thunderbird", &imap(), &WriteOptions::default()).unwrap()[0];
        let c = &f.contents;
        assert!(c.contains("<incomingServer type=\"imap\">"), "{c}");
        assert!(c.contains("<socketType>SSL</socketType>"));
        assert!(c.contains("<username>%EMAILADDRESS%</username>"));
        assert!(c.contains("<authentication>password-cleartext</authentication>"));
        assert!(!c.contains("<pop3>"));
        assert_eq!(f.mode, 0o644);
    }

    #[test]
    fn pop3_carries_the_keep_policy() {
        let f = &render("thunderbird", &pop3(), &WriteOptions::default()).unwrap()[0];
        assert!(f
            .contents
            .contains("<leaveMessagesOnServer>true</leaveMessagesOnServer>"));
        assert!(f
            .contents
            .contains("<daysToLeaveMessagesOnServer>14</daysToLeaveMessagesOnServer>"));
        assert!(f.contents.contains("<username>%EMAILLOCALPART%</username>"));
        assert!(f.contents.contains("<socketType>STARTTLS</socketType>"));
        assert!(f.notes.iter().any(|n| n.contains("14 days")));
    }

    #[test]
    fn literal_placeholders_in_usernames_are_refused() {
        let mut s = imap();
        s.incoming.username = "x%EMAILDOMAIN%".into();
        assert!(render("thunderbird", &s, &WriteOptions::default()).is_err());
        s.incoming.username = "100%user".into();
        assert!(render("thunderbird", &s, &WriteOptions::default()).is_ok());
    }
}
