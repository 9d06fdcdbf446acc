//! Why a server refused a login, as far as it says so in machine-readable form, or in one of
//! the well-known texts of large providers.
//!
//! - IMAP response codes (RFC 5530): `UNAVAILABLE`, `AUTHENTICATIONFAILED`,
//!   `AUTHORIZATIONFAILED`, `EXPIRED`, `PRIVACYREQUIRED`, `CONTACTADMIN`, and `ALERT`
//!   (RFC 3501 §7.1: text the user must see).
//! - POP3 extended response codes (RFC 2449 §8, RFC 3206): `[IN-USE]`, `[LOGIN-DELAY]`,
//!   `[SYS/TEMP]`, `[SYS/PERM]`, `[AUTH]`.
//! - SMTP reply codes and enhanced status codes (RFC 3463, RFC 4954 §6, RFC 7372): `454 4.7.0`
//!   temporary failure, `535 5.7.8` bad credentials, `534 5.7.9` mechanism too weak,
//!   `530 5.7.0` authentication required, `5.7.14`-style "log in via your web browser".
//! - Provider texts: "application-specific password required", "log in via your web
//!   browser", "IMAP access is disabled" and their relatives.
//!
//! Pure: text in, a [`Refusal`] out. What the user is told is decided in `report`.

use super::imap::Response;
use crate::model::Protocol;

/// What a refusal means for the user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Reason {
    /// Wrong user name or password (IMAP `AUTHENTICATIONFAILED`, POP3 `[AUTH]`, SMTP 5.7.8),
    /// or a refusal that says nothing more precise.
    BadCredentials,
    /// IMAP `UNAVAILABLE`, POP3 `[SYS/TEMP]`: a part of the server is down for now.
    ServerUnavailable,
    /// SMTP 454 / 4.7.x (and any other 4xx to AUTH): temporary authentication failure.
    TemporaryFailure,
    /// POP3 `[SYS/PERM]`: a permanent problem on the server's side.
    ServerError,
    /// IMAP `AUTHORIZATIONFAILED`: authenticated, but not allowed to use this identity.
    NotAuthorized,
    /// IMAP `EXPIRED`: the password (or account) has expired.
    PasswordExpired,
    /// IMAP `PRIVACYREQUIRED`: the server wants an encrypted connection or another mechanism.
    PrivacyRequired,
    /// IMAP `CONTACTADMIN`: only the administrator can fix this.
    ContactAdmin,
    /// POP3 `[IN-USE]` (and `[LOGIN-DELAY]`): another session holds the mailbox.
    MailboxInUse,
    /// SMTP 5.7.9 (without a provider text): the mechanism is too weak for this account.
    MechanismTooWeak,
    /// SMTP 5.7.0 / 530: refused for a security policy reason.
    PolicyRefused,
    /// Provider text: an application-specific password is required.
    AppPasswordRequired,
    /// Provider text or SMTP 5.7.14: sign in through the web first.
    WebLoginRequired,
    /// Provider text: access by this protocol is turned off in the account's settings.
    AccessDisabled,
    /// IMAP `[ALERT]` with a text we don't recognise: the text itself is the message.
    Alert,
}

/// A classified refusal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub reason: Reason,
    /// What the server said in machine-readable form: `UNAVAILABLE`, `IN-USE`, `SYS/TEMP`,
    /// `454 4.7.0`, ... (None when it said nothing machine-readable).
    pub server_code: Option<String>,
    /// The server's human text (for IMAP `[ALERT]`, exactly what must be shown).
    pub text: String,
    /// The reply as the server said it (IMAP `[CODE] text`, POP3's text after `-ERR`, SMTP
    /// `code text`), for the report.
    pub said: String,
}

impl Refusal {
    /// Temporary: the same attempt may well work later, nothing in the settings is wrong.
    pub fn is_temporary(&self) -> bool {
        matches!(
            self.reason,
            Reason::ServerUnavailable | Reason::TemporaryFailure | Reason::MailboxInUse
        )
    }
}

/// Well-known provider texts, lower-case fragments. Checked in this order.
const PROVIDER_TEXTS: &[(&str, Reason)] = &[
    ("application-specific password", Reason::AppPasswordRequired),
    ("application specific password", Reason::AppPasswordRequired),
    ("app-specific password", Reason::AppPasswordRequired),
    ("app specific password", Reason::AppPasswordRequired),
    ("app password", Reason::AppPasswordRequired),
    ("invalidsecondfactor", Reason::AppPasswordRequired),
    ("log in via your web browser", Reason::WebLoginRequired),
    ("login via your web browser", Reason::WebLoginRequired),
    ("sign in via your web browser", Reason::WebLoginRequired),
    ("web login required", Reason::WebLoginRequired),
    ("please verify your account", Reason::WebLoginRequired),
    ("not enabled for imap", Reason::AccessDisabled),
    ("not enabled for pop", Reason::AccessDisabled),
    ("imap access is disabled", Reason::AccessDisabled),
    ("imap access disabled", Reason::AccessDisabled),
    ("imap is disabled", Reason::AccessDisabled),
    ("pop access is disabled", Reason::AccessDisabled),
    ("pop3 access is disabled", Reason::AccessDisabled),
    ("pop access disabled", Reason::AccessDisabled),
    ("pop3 access disabled", Reason::AccessDisabled),
    ("pop is disabled", Reason::AccessDisabled),
    ("enable imap", Reason::AccessDisabled),
    ("enable pop", Reason::AccessDisabled),
    (
        "smtpclientauthentication is disabled",
        Reason::AccessDisabled,
    ),
    ("smtp auth is disabled", Reason::AccessDisabled),
];

/// The reason a provider's text names, if it is one of the well-known ones.
pub fn provider_text(text: &str) -> Option<Reason> {
    let lower = text.to_ascii_lowercase();
    PROVIDER_TEXTS
        .iter()
        .find(|(needle, _)| lower.contains(needle))
        .map(|(_, r)| *r)
}

/// An IMAP `NO` to a login: `code` is the response code without brackets (`ALERT`,
/// `UNAVAILABLE`, `AUTHENTICATIONFAILED`, ...), `text` what follows it.
pub fn imap(code: Option<&str>, text: &str) -> Refusal {
    let atom = code
        .map(|c| {
            c.split_whitespace()
                .next()
                .unwrap_or("")
                .to_ascii_uppercase()
        })
        .filter(|a| !a.is_empty());
    let specific = match atom.as_deref() {
        Some("UNAVAILABLE") => Some(Reason::ServerUnavailable),
        Some("AUTHORIZATIONFAILED") => Some(Reason::NotAuthorized),
        Some("EXPIRED") => Some(Reason::PasswordExpired),
        Some("PRIVACYREQUIRED") => Some(Reason::PrivacyRequired),
        Some("CONTACTADMIN") => Some(Reason::ContactAdmin),
        Some("INUSE") => Some(Reason::MailboxInUse),
        _ => None,
    };
    let reason = specific
        .or_else(|| provider_text(text))
        .or_else(|| (atom.as_deref() == Some("ALERT")).then_some(Reason::Alert))
        .or_else(|| (atom.as_deref() == Some("WEBALERT")).then_some(Reason::WebLoginRequired))
        .unwrap_or(Reason::BadCredentials);
    Refusal {
        reason,
        said: match code {
            Some(c) => format!("[{c}] {text}"),
            None => text.to_string(),
        },
        server_code: atom,
        text: text.to_string(),
    }
}

/// An IMAP tagged `NO` response (or any other response: only `NO`'s code counts).
pub fn imap_response(resp: &Response) -> Refusal {
    match resp {
        Response::Tagged { code, text, .. } | Response::Untagged { code, text, .. } => {
            imap(code.as_deref(), text)
        }
        Response::Continuation { text } => imap(None, text),
    }
}

/// A POP3 `-ERR` to a login command: `text` is what follows `-ERR `.
pub fn pop3(text: &str) -> Refusal {
    let (code, rest) = match text.strip_prefix('[').and_then(|t| t.split_once(']')) {
        Some((code, rest)) => (Some(code.trim().to_ascii_uppercase()), rest.trim_start()),
        None => (None, text),
    };
    // Hierarchical codes (RFC 2449 §8): the first component decides, `SYS/TEMP` etc.
    let specific = match code.as_deref() {
        Some("IN-USE") | Some("LOGIN-DELAY") => Some(Reason::MailboxInUse),
        Some(c) if c == "SYS/TEMP" || c.starts_with("SYS/TEMP/") => Some(Reason::ServerUnavailable),
        Some(c) if c == "SYS/PERM" || c.starts_with("SYS/PERM/") => Some(Reason::ServerError),
        _ => None,
    };
    let reason = specific
        .or_else(|| provider_text(rest))
        .unwrap_or(Reason::BadCredentials);
    Refusal {
        reason,
        server_code: code,
        text: rest.to_string(),
        said: text.to_string(),
    }
}

/// An SMTP reply to AUTH that is not `235`/`334`: its basic code and its text (the text of
/// each line, as [`super::smtp::Reply::text`] joins them; the first may start with an
/// enhanced status code).
pub fn smtp(code: u16, text: &str) -> Refusal {
    let enhanced = enhanced_status(text);
    let (class, subject, detail) = enhanced.unwrap_or((code / 100, 0, 0));
    let from_code = match (class, subject, detail) {
        (4, _, _) => Some(Reason::TemporaryFailure),
        (5, 7, 8) => Some(Reason::BadCredentials),
        (5, 7, 14) => Some(Reason::WebLoginRequired),
        _ => None,
    };
    let from_basic = match code {
        400..=499 => Some(Reason::TemporaryFailure),
        _ => None,
    };
    // A provider's text is more precise than 5.7.9/5.7.0 (Google answers "534 5.7.9
    // Application-specific password required"), but never turns a temporary failure into a
    // permanent one.
    let reason = from_code
        .filter(|r| *r != Reason::BadCredentials)
        .or(from_basic)
        .or_else(|| provider_text(text))
        .or(from_code)
        .or(match (class, subject, detail) {
            (5, 7, 9) => Some(Reason::MechanismTooWeak),
            (5, 7, 0) => Some(Reason::PolicyRefused),
            (5, 7, 11) => Some(Reason::PrivacyRequired),
            _ => None,
        })
        .or((code == 530).then_some(Reason::PolicyRefused))
        .or((code == 534).then_some(Reason::MechanismTooWeak))
        .unwrap_or(Reason::BadCredentials);
    let server_code = match enhanced {
        Some((c, s, d)) => format!("{code} {c}.{s}.{d}"),
        None => code.to_string(),
    };
    Refusal {
        reason,
        server_code: Some(server_code),
        text: strip_enhanced(text).to_string(),
        said: format!("{code} {text}"),
    }
}

/// `class.subject.detail` at the start of a reply text (RFC 3463 §2; RFC 2034 §4).
pub fn enhanced_status(text: &str) -> Option<(u16, u16, u16)> {
    let first = text.split_whitespace().next()?;
    let mut parts = first.split('.');
    let class: u16 = parts.next()?.parse().ok()?;
    let subject: u16 = parts.next()?.parse().ok()?;
    let detail: u16 = parts.next()?.parse().ok()?;
    if parts.next().is_some() || !matches!(class, 2 | 4 | 5) || subject > 999 || detail > 999 {
        return None;
    }
    Some((class, subject, detail))
}

fn strip_enhanced(text: &str) -> &str {
    match enhanced_status(text) {
        Some(_) => text
            .trim_start()
            .split_once(char::is_whitespace)
            .map(|(_, rest)| rest.trim_start())
            .unwrap_or(""),
        None => text,
    }
}

/// Classifies a refusal as the session reports it in a login outcome: IMAP `[CODE] text`,
/// POP3 the text after `-ERR `, SMTP `ddd text`.
pub fn from_outcome_text(protocol: Protocol, s: &str) -> Refusal {
    match protocol {
        Protocol::Imap => match s.strip_prefix('[').and_then(|t| t.split_once(']')) {
            Some((code, rest)) => imap(Some(code), rest.trim_start()),
            None => imap(None, s),
        },
        Protocol::Pop3 => pop3(s),
        Protocol::Smtp => {
            let code = s.get(..3).and_then(|c| c.parse::<u16>().ok());
            match code {
                Some(c) if (200..600).contains(&c) => smtp(c, s[3..].trim_start()),
                _ => Refusal {
                    reason: provider_text(s).unwrap_or(Reason::BadCredentials),
                    server_code: None,
                    text: s.to_string(),
                    said: s.to_string(),
                },
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::{imap as pimap, pop3 as ppop3, smtp as psmtp, LineReader, MAX_LINE};

    /// Server bytes → the protocol's own parser → the classifier.
    fn imap_bytes(bytes: &[u8]) -> Refusal {
        let mut r = LineReader::new(MAX_LINE);
        r.push(bytes);
        let resp = pimap::ResponseParser::new()
            .next(&mut r)
            .unwrap()
            .expect("a complete response");
        imap_response(&resp)
    }

    fn pop3_bytes(bytes: &[u8]) -> Refusal {
        let mut r = LineReader::new(MAX_LINE);
        r.push(bytes);
        match ppop3::next_reply(&mut r).unwrap().expect("a reply") {
            ppop3::Reply::Err(t) => pop3(&t),
            other => panic!("not -ERR: {other:?}"),
        }
    }

    fn smtp_bytes(bytes: &[u8]) -> Refusal {
        let mut r = LineReader::new(MAX_LINE);
        r.push(bytes);
        let reply = psmtp::ReplyParser::new()
            .next(&mut r)
            .unwrap()
            .expect("a reply");
        smtp(reply.code, &reply.text())
    }

    #[test]
    fn imap_response_codes() {
        let cases: &[(&[u8], Reason, &str)] = &[
            (
                b"A3 NO [UNAVAILABLE] Temporary authentication failure\r\n",
                Reason::ServerUnavailable,
                "UNAVAILABLE",
            ),
            (
                b"A3 NO [AUTHENTICATIONFAILED] Authentication failed.\r\n",
                Reason::BadCredentials,
                "AUTHENTICATIONFAILED",
            ),
            (
                b"A3 NO [AUTHORIZATIONFAILED] No such authorization-ID\r\n",
                Reason::NotAuthorized,
                "AUTHORIZATIONFAILED",
            ),
            (
                b"A3 NO [EXPIRED] That password isn't valid any more\r\n",
                Reason::PasswordExpired,
                "EXPIRED",
            ),
            (
                b"A3 NO [PRIVACYREQUIRED] Connection security required\r\n",
                Reason::PrivacyRequired,
                "PRIVACYREQUIRED",
            ),
            (
                b"A3 NO [CONTACTADMIN] Call the helpdesk\r\n",
                Reason::ContactAdmin,
                "CONTACTADMIN",
            ),
            (
                b"A3 NO [ALERT] Your mailbox is being migrated until Monday\r\n",
                Reason::Alert,
                "ALERT",
            ),
            (
                b"A3 NO [unavailable] lower-case code\r\n",
                Reason::ServerUnavailable,
                "UNAVAILABLE",
            ),
        ];
        for (bytes, reason, code) in cases {
            let r = imap_bytes(bytes);
            assert_eq!(r.reason, *reason, "{}", String::from_utf8_lossy(bytes));
            assert_eq!(r.server_code.as_deref(), Some(*code));
        }
        let plain = imap_bytes(b"A3 NO Login failed\r\n");
        assert_eq!(plain.reason, Reason::BadCredentials);
        assert_eq!(plain.server_code, None);
        assert_eq!(plain.text, "Login failed");
    }

    #[test]
    fn imap_alert_text_is_kept_verbatim_and_provider_texts_are_recognised() {
        let r = imap_bytes(
            b"A2 NO [ALERT] Application-specific password required: https://support.google.com/accounts/answer/185833 (Failure)\r\n",
        );
        assert_eq!(r.reason, Reason::AppPasswordRequired);
        assert_eq!(r.server_code.as_deref(), Some("ALERT"));
        assert!(r
            .text
            .starts_with("Application-specific password required: https://"));
        let web = imap_bytes(
            b"A2 NO [ALERT] Please log in via your web browser: https://support.google.com/mail/accounts/answer/78754 (Failure)\r\n",
        );
        assert_eq!(web.reason, Reason::WebLoginRequired);
        let disabled = imap_bytes(
            b"A2 NO [ALERT] Your account is not enabled for IMAP use. Please visit your Gmail settings page and enable your account for IMAP access. (Failure)\r\n",
        );
        assert_eq!(disabled.reason, Reason::AccessDisabled);
        let hostile = imap_bytes(b"A2 NO [ALERT] <script>alert(1)</script>\r\n");
        assert_eq!(hostile.reason, Reason::Alert);
        assert_eq!(hostile.text, "<script>alert(1)</script>");
        // A specific code wins over a text that mentions something else.
        let r = imap_bytes(b"A2 NO [UNAVAILABLE] app password backend down\r\n");
        assert_eq!(r.reason, Reason::ServerUnavailable);
    }

    #[test]
    fn pop3_extended_codes() {
        let cases: &[(&[u8], Reason, Option<&str>)] = &[
            (
                b"-ERR [IN-USE] Mailbox is locked by another POP3 session\r\n",
                Reason::MailboxInUse,
                Some("IN-USE"),
            ),
            (
                b"-ERR [LOGIN-DELAY] Wait 10 minutes between logins\r\n",
                Reason::MailboxInUse,
                Some("LOGIN-DELAY"),
            ),
            (
                b"-ERR [SYS/TEMP] Backend unavailable\r\n",
                Reason::ServerUnavailable,
                Some("SYS/TEMP"),
            ),
            (
                b"-ERR [SYS/PERM] Mail store corrupted\r\n",
                Reason::ServerError,
                Some("SYS/PERM"),
            ),
            (
                b"-ERR [AUTH] Authentication failed.\r\n",
                Reason::BadCredentials,
                Some("AUTH"),
            ),
            (b"-ERR bad password\r\n", Reason::BadCredentials, None),
            (
                b"-ERR [AUTH] POP access is disabled for this account\r\n",
                Reason::AccessDisabled,
                Some("AUTH"),
            ),
        ];
        for (bytes, reason, code) in cases {
            let r = pop3_bytes(bytes);
            assert_eq!(r.reason, *reason, "{}", String::from_utf8_lossy(bytes));
            assert_eq!(r.server_code.as_deref(), *code);
        }
        assert_eq!(
            pop3_bytes(b"-ERR [IN-USE] Mailbox is locked\r\n").text,
            "Mailbox is locked"
        );
        assert!(pop3_bytes(b"-ERR [IN-USE] x\r\n").is_temporary());
    }

    #[test]
    fn smtp_enhanced_status_codes() {
        let cases: &[(&[u8], Reason, &str)] = &[
            (
                b"454 4.7.0 Temporary authentication failure\r\n",
                Reason::TemporaryFailure,
                "454 4.7.0",
            ),
            (
                b"535 5.7.8 Error: authentication failed: authentication failure\r\n",
                Reason::BadCredentials,
                "535 5.7.8",
            ),
            (
                b"534 5.7.9 Authentication mechanism is too weak\r\n",
                Reason::MechanismTooWeak,
                "534 5.7.9",
            ),
            (
                b"530 5.7.0 Authentication required\r\n",
                Reason::PolicyRefused,
                "530 5.7.0",
            ),
            (
                b"534-5.7.9 Application-specific password required. Learn more at\r\n534 5.7.9  https://support.google.com/mail/?p=InvalidSecondFactor\r\n",
                Reason::AppPasswordRequired,
                "534 5.7.9",
            ),
            (
                b"534-5.7.14 <https://accounts.google.com/signin/continue?x> Please log in\r\n534 5.7.14 via your web browser and then try again.\r\n",
                Reason::WebLoginRequired,
                "534 5.7.14",
            ),
            (
                b"535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant.\r\n",
                Reason::AccessDisabled,
                "535 5.7.139",
            ),
            (b"421 too busy\r\n", Reason::TemporaryFailure, "421"),
            (b"535 Authentication failed\r\n", Reason::BadCredentials, "535"),
            (
                b"538 5.7.11 Encryption required\r\n",
                Reason::PrivacyRequired,
                "538 5.7.11",
            ),
        ];
        for (bytes, reason, code) in cases {
            let r = smtp_bytes(bytes);
            assert_eq!(r.reason, *reason, "{}", String::from_utf8_lossy(bytes));
            assert_eq!(r.server_code.as_deref(), Some(*code));
        }
        assert_eq!(
            smtp_bytes(b"454 4.7.0 Temporary authentication failure\r\n").text,
            "Temporary authentication failure"
        );
        // A temporary failure stays temporary whatever its text says.
        assert_eq!(
            smtp_bytes(b"454 4.7.0 app password service down\r\n").reason,
            Reason::TemporaryFailure
        );
    }

    #[test]
    fn enhanced_status_parsing_is_strict() {
        assert_eq!(enhanced_status("5.7.8 x"), Some((5, 7, 8)));
        assert_eq!(enhanced_status("4.7.0"), Some((4, 7, 0)));
        assert_eq!(enhanced_status("5.7 x"), None);
        assert_eq!(enhanced_status("3.7.8 x"), None);
        assert_eq!(enhanced_status("5.7.8.1 x"), None);
        assert_eq!(enhanced_status("hello"), None);
        assert_eq!(enhanced_status(""), None);
    }

    #[test]
    fn outcome_texts_round_trip() {
        assert_eq!(
            from_outcome_text(Protocol::Imap, "[UNAVAILABLE] down").reason,
            Reason::ServerUnavailable
        );
        assert_eq!(
            from_outcome_text(Protocol::Imap, "Invalid credentials").reason,
            Reason::BadCredentials
        );
        assert_eq!(
            from_outcome_text(Protocol::Pop3, "[IN-USE] locked").reason,
            Reason::MailboxInUse
        );
        let r = from_outcome_text(Protocol::Smtp, "454 4.7.0 Temporary authentication failure");
        assert_eq!(r.reason, Reason::TemporaryFailure);
        assert_eq!(r.server_code.as_deref(), Some("454 4.7.0"));
        assert_eq!(
            from_outcome_text(Protocol::Smtp, "garbage").reason,
            Reason::BadCredentials
        );
    }
}
