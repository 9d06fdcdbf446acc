//! Outlook: a Microsoft Autodiscover POX response (REFERENCE §4) describing the
//! IMAP or POP3 and SMTP servers, to be served at the domain's Autodiscover URL.

use crate::model::{AuthMethod, Protocol, Security, ServerSettings};

use super::xml::XmlDoc;
use super::{Ctx, OutputFile, WriteError};

const RESPONSE_NS: &str = "http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006";
const OUTLOOK_NS: &str =
    "http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a";

pub fn render(ctx: &Ctx<'_>) -> Result<Vec<OutputFile>, WriteError> {
    // Outlook's "SPA" is NTLM, not CRAM-MD5: an encrypted-password-only server is refused.
    ctx.password_auth("incoming", ctx.incoming)?;
    ctx.password_auth("outgoing", ctx.outgoing)?;

    let mut doc = XmlDoc::new();
    doc.open("Autodiscover", &[("xmlns", RESPONSE_NS)])?;
    doc.open("Response", &[("xmlns", OUTLOOK_NS)])?;
    if let Some(name) = ctx.display_name {
        doc.open("User", &[])?;
        doc.text("DisplayName", name)?;
        doc.close("User");
    }
    doc.open("Account", &[])?;
    doc.text("AccountType", "email")?;
    doc.text("Action", "settings")?;
    let kind = match ctx.incoming.endpoint.protocol {
        Protocol::Pop3 => "POP3",
        _ => "IMAP",
    };
    protocol(ctx, &mut doc, kind, "incoming", ctx.incoming)?;
    protocol(ctx, &mut doc, "SMTP", "outgoing", ctx.outgoing)?;
    doc.close("Account");
    doc.close("Response");
    doc.close("Autodiscover");

    let mut notes = vec![format!(
        "Serve this file as the answer to POST https://autodiscover.{d}/autodiscover/autodiscover.xml \
         (or https://{d}/autodiscover/autodiscover.xml), content type text/xml.",
        d = ctx.domain
    )];
    notes.extend(ctx.password_notes(false, false));
    if ctx.is_pop3() {
        notes.push(
            "Autodiscover cannot carry the POP3 keep policy; set \"Leave a copy of messages on the \
             server\" in Outlook's account settings."
                .into(),
        );
        notes.extend(ctx.pop3_notes(false));
    }
    notes.extend(ctx.plain_notes());
    Ok(vec![ctx.file(
        "outlook/autodiscover.xml",
        None,
        doc.finish(),
        false,
        notes,
    )])
}

fn protocol(
    ctx: &Ctx<'_>,
    doc: &mut XmlDoc,
    kind: &str,
    which: &str,
    server: &ServerSettings,
) -> Result<(), WriteError> {
    doc.open("Protocol", &[])?;
    doc.text("Type", kind)?;
    doc.text("Server", &server.endpoint.host)?;
    doc.text("Port", &server.endpoint.port.to_string())?;
    doc.text("DomainRequired", "off")?;
    let needs_auth = server.auth != AuthMethod::None;
    if needs_auth {
        doc.text("LoginName", ctx.username(which, server)?)?;
    }
    // SPA is NTLM; password logins must switch it off (it defaults to on).
    doc.text("SPA", "off")?;
    let (ssl, encryption) = match server.endpoint.security {
        Security::Tls => ("on", "SSL"),
        Security::StartTls => ("on", "TLS"),
        Security::Plain => ("off", "None"),
    };
    doc.text("SSL", ssl)?;
    doc.text("Encryption", encryption)?;
    doc.text("AuthRequired", if needs_auth { "on" } else { "off" })?;
    if kind == "SMTP" {
        doc.text("UsePOPAuth", "off")?;
        doc.text("SMTPLast", "off")?;
    }
    doc.close("Protocol");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;
    use super::super::{render, WriteOptions};

    #[test]
    fn starttls_is_encryption_tls() {
        let f = &render("outlook", &pop3(), &WriteOptions::default()).unwrap()[0];
        let c = &f.contents;
        assert!(c.contains("<Type>POP3</Type>"), "{c}");
        assert!(c.contains("<Encryption>TLS</Encryption>"));
        assert!(c.contains("<Encryption>SSL</Encryption>"));
        assert!(c.contains("<SPA>off</SPA>"));
    }
}
