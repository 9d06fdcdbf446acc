//! K-9 Mail / Thunderbird for Android: a settings export file (.k9s) holding one
//! account, in the format the app's "Import settings" reads
//! (`<k9settings format="1" version="…">`, elements as in its SettingsExporter).

use crate::model::{AuthMethod, Protocol, Security, ServerSettings};

use super::xml::XmlDoc;
use super::{stable_uuid, Ctx, OutputFile, Password, WriteError};

/// Settings content version the file declares. The importer validates the values
/// against the settings known at this version and upgrades them to its own.
const CONTENT_VERSION: &str = "83";

pub fn render(ctx: &Ctx<'_>) -> Result<Vec<OutputFile>, WriteError> {
    let uuid = stable_uuid(&["k9", ctx.address, &ctx.account]);
    let mut doc = XmlDoc::new();
    doc.open(
        "k9settings",
        &[("format", "1"), ("version", CONTENT_VERSION)],
    )?;
    doc.open("accounts", &[])?;
    doc.open("account", &[("uuid", &uuid)])?;
    doc.text("name", &ctx.account)?;

    let kind = match ctx.incoming.endpoint.protocol {
        Protocol::Pop3 => "POP3",
        _ => "IMAP",
    };
    server(
        ctx,
        &mut doc,
        "incoming-server",
        kind,
        "incoming",
        ctx.incoming,
    )?;
    server(
        ctx,
        &mut doc,
        "outgoing-server",
        "SMTP",
        "outgoing",
        ctx.outgoing,
    )?;

    doc.open("settings", &[])?;
    // NEVER keeps POP3 mail on the server; DELETE removes it when it is deleted
    // in the app. K-9 never deletes on download and has no "after N days".
    let delete_policy = if ctx.is_pop3() && ctx.pop3.keep {
        "NEVER"
    } else {
        "DELETE"
    };
    doc.text_with("value", &[("key", "deletePolicy")], delete_policy)?;
    doc.close("settings");

    doc.open("identities", &[])?;
    doc.open("identity", &[])?;
    doc.text("name", ctx.display_name.unwrap_or(""))?;
    doc.text("email", ctx.address)?;
    doc.text("description", ctx.address)?;
    doc.close("identity");
    doc.close("identities");

    doc.close("account");
    doc.close("accounts");
    doc.close("k9settings");

    let mut notes = vec![
        "In K-9 Mail / Thunderbird for Android: Settings > Import settings, pick this file, and \
         import the account."
            .to_string(),
    ];
    notes.extend(ctx.password_notes(false, true));
    if ctx.is_pop3() {
        if !ctx.pop3.keep {
            notes.push(
                "K-9 never deletes POP3 mail right after download; it is set to delete a message \
                 from the server when you delete it in the app."
                    .into(),
            );
        }
        notes.extend(ctx.pop3_notes(false));
    }
    notes.extend(ctx.plain_notes());
    Ok(vec![ctx.file(
        format!("k9/{}.k9s", ctx.account),
        None,
        doc.finish(),
        ctx.embeds_password(),
        notes,
    )])
}

fn server(
    ctx: &Ctx<'_>,
    doc: &mut XmlDoc,
    element: &str,
    kind: &str,
    which: &str,
    server: &ServerSettings,
) -> Result<(), WriteError> {
    doc.open(element, &[("type", kind)])?;
    doc.text("host", &server.endpoint.host)?;
    doc.text("port", &server.endpoint.port.to_string())?;
    doc.text(
        "connection-security",
        match server.endpoint.security {
            Security::Tls => "SSL_TLS_REQUIRED",
            Security::StartTls => "STARTTLS_REQUIRED",
            Security::Plain => "NONE",
        },
    )?;
    let encrypted = ctx.encrypted_auth(which, server)?;
    doc.text(
        "authentication-type",
        match (server.auth, encrypted) {
            (_, Some(word)) => word,
            (AuthMethod::OAuth2, None) => "XOAUTH2",
            (AuthMethod::None, None) => "NONE",
            _ => "PLAIN",
        },
    )?;
    if server.auth != AuthMethod::None {
        doc.text("username", ctx.username(which, server)?)?;
        if let Password::Embedded(secret) = ctx.password() {
            if server.auth != AuthMethod::OAuth2 {
                doc.text("password", secret)?;
            }
        }
    }
    if kind == "IMAP" {
        doc.open("extra", &[])?;
        doc.text_with("value", &[("key", "autoDetectNamespace")], "true")?;
        doc.close("extra");
    }
    doc.close(element);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;
    use super::super::{render, WriteOptions};

    #[test]
    fn k9_file_has_account_identity_and_policy() {
        let f = &render("k9", &pop3(), &WriteOptions::default()).unwrap()[0];
        let c = &f.contents;
        assert!(
            c.contains("<k9settings format=\"1\" version=\"83\">"),
            "{c}"
        );
        assert!(c.contains("<incoming-server type=\"POP3\">"));
        assert!(c.contains("<connection-security>STARTTLS_REQUIRED</connection-security>"));
        assert!(c.contains("<value key=\"deletePolicy\">NEVER</value>"));
        assert!(c.contains("<email>bob@example.org</email>"));
    }
}
