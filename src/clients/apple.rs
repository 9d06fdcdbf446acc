//! Apple Mail (macOS, iOS, iPadOS): a configuration profile (.mobileconfig) with
//! one `com.apple.mail.managed` payload. The profile is an XML property list.

use crate::model::{AuthMethod, Protocol, Security, ServerSettings};

use super::xml::XmlDoc;
use super::{stable_uuid, Ctx, OutputFile, Password, WriteError};

enum Value<'a> {
    Str(&'a str),
    Owned(String),
    Int(u16),
    Bool(bool),
}

pub fn render(ctx: &Ctx<'_>) -> Result<Vec<OutputFile>, WriteError> {
    let in_enc = ctx.password_auth("incoming", ctx.incoming)?;
    let out_enc = ctx.password_auth("outgoing", ctx.outgoing)?;
    let in_user = ctx.username("incoming", ctx.incoming)?;
    let out_user = if ctx.outgoing.auth == AuthMethod::None {
        None
    } else {
        Some(ctx.username("outgoing", ctx.outgoing)?)
    };

    let payload_uuid = stable_uuid(&["apple-mail", "payload", ctx.address, &ctx.account]);
    let profile_uuid = stable_uuid(&["apple-mail", "profile", ctx.address, &ctx.account]);
    let description = format!("Mail account {}", ctx.address);

    let mut payload: Vec<(&str, Value)> = vec![
        ("EmailAccountDescription", Value::Str(ctx.address)),
        (
            "EmailAccountType",
            Value::Str(match ctx.incoming.endpoint.protocol {
                Protocol::Pop3 => "EmailTypePOP",
                _ => "EmailTypeIMAP",
            }),
        ),
        ("EmailAddress", Value::Str(ctx.address)),
        (
            "IncomingMailServerAuthentication",
            Value::Str(auth(ctx.incoming, in_enc)),
        ),
        (
            "IncomingMailServerHostName",
            Value::Str(&ctx.incoming.endpoint.host),
        ),
        (
            "IncomingMailServerPortNumber",
            Value::Int(ctx.incoming.endpoint.port),
        ),
        (
            "IncomingMailServerUseSSL",
            Value::Bool(uses_tls(ctx.incoming)),
        ),
        ("IncomingMailServerUsername", Value::Str(in_user)),
        (
            "OutgoingMailServerAuthentication",
            Value::Str(auth(ctx.outgoing, out_enc)),
        ),
        (
            "OutgoingMailServerHostName",
            Value::Str(&ctx.outgoing.endpoint.host),
        ),
        (
            "OutgoingMailServerPortNumber",
            Value::Int(ctx.outgoing.endpoint.port),
        ),
        (
            "OutgoingMailServerUseSSL",
            Value::Bool(uses_tls(ctx.outgoing)),
        ),
        ("PayloadDescription", Value::Owned(description.clone())),
        (
            "PayloadDisplayName",
            Value::Owned(format!("Mail ({})", ctx.address)),
        ),
        (
            "PayloadIdentifier",
            Value::Owned(format!("org.mailsetup.mail.{payload_uuid}")),
        ),
        ("PayloadType", Value::Str("com.apple.mail.managed")),
        ("PayloadUUID", Value::Owned(payload_uuid.clone())),
        ("PayloadVersion", Value::Int(1)),
    ];
    if let Some(name) = ctx.display_name {
        payload.push(("EmailAccountName", Value::Str(name)));
    }
    if let Some(user) = out_user {
        payload.push(("OutgoingMailServerUsername", Value::Str(user)));
    }
    if let Password::Embedded(secret) = ctx.password() {
        payload.push(("IncomingPassword", Value::Str(secret)));
        if out_user.is_some() {
            payload.push(("OutgoingPassword", Value::Str(secret)));
        }
    }
    payload.sort_by(|a, b| a.0.cmp(b.0));

    let mut doc = XmlDoc::new();
    doc.doctype(
        "plist PUBLIC \"-//Apple//DTD PLIST 1.0//EN\" \"http://www.apple.com/DTDs/PropertyList-1.0.dtd\"",
    );
    doc.open("plist", &[("version", "1.0")])?;
    doc.open("dict", &[])?;
    doc.text("key", "PayloadContent")?;
    doc.open("array", &[])?;
    doc.open("dict", &[])?;
    write_entries(&mut doc, &payload)?;
    doc.close("dict");
    doc.close("array");
    let top: Vec<(&str, Value)> = vec![
        ("PayloadDescription", Value::Owned(description)),
        (
            "PayloadDisplayName",
            Value::Owned(format!("Mail: {}", ctx.address)),
        ),
        (
            "PayloadIdentifier",
            Value::Owned(format!("org.mailsetup.profile.{profile_uuid}")),
        ),
        ("PayloadRemovalDisallowed", Value::Bool(false)),
        ("PayloadType", Value::Str("Configuration")),
        ("PayloadUUID", Value::Owned(profile_uuid.clone())),
        ("PayloadVersion", Value::Int(1)),
    ];
    write_entries(&mut doc, &top)?;
    doc.close("dict");
    doc.close("plist");

    let mut notes = vec![
        "Open the .mobileconfig on the Mac (System Settings > Privacy & Security > Profiles) or \
         send it to the iPhone/iPad and install it under Settings > General > VPN & Device \
         Management."
            .to_string(),
    ];
    notes.extend(ctx.password_notes(false, true));
    for server in [ctx.incoming, ctx.outgoing] {
        if server.endpoint.security == Security::StartTls {
            notes.push(format!(
                "Apple's profile has no STARTTLS switch: \"use SSL\" is on for {} and Apple Mail \
                 upgrades with STARTTLS on that port; check the account's server settings after \
                 installing.",
                server.endpoint
            ));
        }
    }
    if ctx.is_pop3() {
        notes.push(
            "A profile cannot set what Apple Mail does with POP3 messages after download; choose \
             \"Remove copy from server\" in the account's advanced settings."
                .into(),
        );
        notes.extend(ctx.pop3_notes(false));
    }
    notes.extend(ctx.plain_notes());
    Ok(vec![ctx.file(
        format!("apple-mail/{}.mobileconfig", ctx.account),
        None,
        doc.finish(),
        ctx.embeds_password(),
        notes,
    )])
}

fn write_entries(doc: &mut XmlDoc, entries: &[(&str, Value)]) -> Result<(), WriteError> {
    for (key, value) in entries {
        doc.text("key", key)?;
        match value {
            Value::Str(s) => doc.text("string", s)?,
            Value::Owned(s) => doc.text("string", s)?,
            Value::Int(n) => doc.text("integer", &n.to_string())?,
            Value::Bool(true) => doc.empty("true"),
            Value::Bool(false) => doc.empty("false"),
        }
    }
    Ok(())
}

fn uses_tls(server: &ServerSettings) -> bool {
    server.endpoint.security != Security::Plain
}

fn auth(server: &ServerSettings, encrypted: Option<&'static str>) -> &'static str {
    match (server.auth, encrypted) {
        (_, Some(word)) => word,
        (AuthMethod::None, None) => "EmailAuthNone",
        _ => "EmailAuthPassword",
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;
    use super::super::{render, WriteOptions};

    #[test]
    fn payload_is_a_managed_mail_account() {
        let f = &render("apple-mail", &imap(), &WriteOptions::default()).unwrap()[0];
        let c = &f.contents;
        assert!(c.contains("<!DOCTYPE plist PUBLIC"), "{c}");
        assert!(c.contains("<string>com.apple.mail.managed</string>"));
        assert!(c.contains("<string>EmailTypeIMAP</string>"));
        assert!(!c.contains("IncomingPassword"));
        assert_eq!(
            f.path.to_str(),
            Some("apple-mail/alice@example.com.mobileconfig")
        );
    }

    #[test]
    fn oauth2_is_unsupported() {
        let mut s = imap();
        s.incoming.auth = crate::model::AuthMethod::OAuth2;
        assert!(render("apple-mail", &s, &WriteOptions::default()).is_err());
    }
}
