//! Folders in the report and the recommended settings: which IMAP endpoint's folder list is
//! used, and which providers file sent mail themselves.

use crate::model::{AccountSettings, Folders, Protocol, Security};
use crate::report::EndpointReport;

/// SMTP hosts whose provider saves a copy of every message sent through it in the Sent folder
/// by itself, so a client that also uploads a copy stores every message twice.
/// - Gmail: "Gmail automatically saves a copy of the message in the Sent folder" for mail
///   sent with its SMTP server (Google, "Read Gmail messages on other email clients using
///   IMAP": support.google.com/mail/answer/7126229 — tell the client not to save sent mail).
/// - Outlook.com / Microsoft 365: messages submitted over SMTP AUTH are saved to Sent Items
///   (Microsoft, "POP, IMAP, and SMTP settings for Outlook.com" and Exchange Online's
///   SMTP client submission documentation).
const FILES_SENT_ITSELF: &[&str] = &[
    "smtp.gmail.com",
    "smtp.googlemail.com",
    "smtp-mail.outlook.com",
    "smtp.office365.com",
    "smtp.outlook.com",
];

/// Whether the provider behind this SMTP host files sent mail by itself.
pub fn server_saves_sent(smtp_host: &str) -> bool {
    let host = smtp_host.trim_end_matches('.').to_ascii_lowercase();
    FILES_SENT_ITSELF.contains(&host.as_str())
}

/// The folders of the best IMAP endpoint that listed them (implicit TLS first).
pub fn best(endpoints: &[EndpointReport]) -> Option<Folders> {
    endpoints
        .iter()
        .filter(|e| e.protocol == Protocol::Imap && e.security != Security::Plain)
        .filter_map(|e| e.folders.as_ref().map(|f| (e.security, f)))
        .min_by_key(|(s, _)| *s)
        .map(|(_, f)| f.clone())
}

/// Puts the folders of the incoming IMAP endpoint (or the best one) and the sent-mail rule
/// of the outgoing server into the settings.
pub fn attach(settings: &mut AccountSettings, endpoints: &[EndpointReport]) {
    let mut folders = Folders::default();
    if settings.incoming.endpoint.protocol == Protocol::Imap {
        let own = endpoints
            .iter()
            .find(|e| e.endpoint() == settings.incoming.endpoint)
            .and_then(|e| e.folders.clone());
        if let Some(f) = own.or_else(|| best(endpoints)) {
            folders = f;
        }
    }
    folders.server_saves_sent = server_saves_sent(&settings.outgoing.endpoint.host);
    settings.folders = folders;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gmail_and_outlook_file_sent_mail() {
        assert!(server_saves_sent("smtp.gmail.com"));
        assert!(server_saves_sent("SMTP.Office365.com."));
        assert!(!server_saves_sent("mail.example.test"));
    }
}
