//! From a classified login refusal (`proto::refusal`) to the problem the user sees: our code,
//! the server's code next to it, and the server's own words (an IMAP `[ALERT]` verbatim).

use super::{Code, Problem};
use crate::proto::refusal::{Reason, Refusal};

/// Our problem code for a refusal reason.
pub fn code(reason: Reason) -> Code {
    match reason {
        Reason::BadCredentials => Code::LoginFailed,
        Reason::ServerUnavailable => Code::LoginServerUnavailable,
        Reason::TemporaryFailure => Code::LoginTemporaryFailure,
        Reason::ServerError => Code::LoginServerError,
        Reason::NotAuthorized => Code::LoginNotAuthorized,
        Reason::PasswordExpired => Code::LoginPasswordExpired,
        Reason::PrivacyRequired => Code::LoginPrivacyRequired,
        Reason::ContactAdmin => Code::LoginContactAdmin,
        Reason::MailboxInUse => Code::LoginMailboxInUse,
        Reason::MechanismTooWeak => Code::LoginMechanismTooWeak,
        Reason::PolicyRefused => Code::LoginPolicyRefused,
        Reason::AppPasswordRequired => Code::LoginAppPasswordRequired,
        Reason::WebLoginRequired => Code::LoginWebLoginRequired,
        Reason::AccessDisabled => Code::LoginAccessDisabled,
        Reason::Alert => Code::LoginServerAlert,
    }
}

/// The problem for a refused login as `username` with `mechanism`; `said` is the refusal as
/// the session reported it (quoted in the message).
pub fn login_refused(refusal: &Refusal, username: &str, mechanism: &str, said: &str) -> Problem {
    let what = match refusal.reason {
        Reason::BadCredentials => "",
        Reason::ServerUnavailable => "the server is temporarily unable to log anyone in",
        Reason::TemporaryFailure => "the server had a temporary authentication failure",
        Reason::ServerError => "the server reported a permanent problem on its side",
        Reason::NotAuthorized => "the login was authenticated but not authorized",
        Reason::PasswordExpired => "the password has expired",
        Reason::PrivacyRequired => "the server requires more privacy for this login",
        Reason::ContactAdmin => "the server says to contact the administrator",
        Reason::MailboxInUse => "the mailbox is in use by another session",
        Reason::MechanismTooWeak => "the login method is too weak for this account",
        Reason::PolicyRefused => "the server refused the login for a security policy reason",
        Reason::AppPasswordRequired => "the provider requires an app password",
        Reason::WebLoginRequired => "the provider wants a sign-in through its website first",
        Reason::AccessDisabled => "access by this protocol is turned off for the account",
        Reason::Alert => "the server refused the login with an alert",
    };
    let message = if refusal.server_code.as_deref() == Some("ALERT") {
        format!(
            "{what} (login as {username:?} with {mechanism}); the server says: {}",
            refusal.text
        )
    } else if refusal.reason == Reason::BadCredentials {
        format!("the server refused the login as {username:?} with {mechanism}: {said}")
    } else {
        format!("{what} (login as {username:?} with {mechanism}): {said}")
    };
    Problem::error(code(refusal.reason), message).with_server_code(refusal.server_code.clone())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Protocol;
    use crate::proto::refusal::from_outcome_text;

    #[test]
    fn each_listed_reason_has_its_own_code_and_hint() {
        let cases = [
            (
                Protocol::Imap,
                "[UNAVAILABLE] try later",
                "login-server-unavailable",
            ),
            (
                Protocol::Imap,
                "[ALERT] Application-specific password required",
                "login-app-password-required",
            ),
            (Protocol::Pop3, "[IN-USE] locked", "login-mailbox-in-use"),
            (
                Protocol::Smtp,
                "454 4.7.0 Temporary authentication failure",
                "login-temporary-failure",
            ),
            (
                Protocol::Smtp,
                "535 5.7.8 Authentication failed",
                "login-failed",
            ),
            (
                Protocol::Imap,
                "[AUTHENTICATIONFAILED] Authentication failed.",
                "login-failed",
            ),
        ];
        let mut hints = std::collections::HashSet::new();
        for (proto, said, want) in cases {
            let r = from_outcome_text(proto, said);
            let p = login_refused(&r, "u@example.test", "PLAIN", said);
            assert_eq!(p.code.as_str(), want, "{said}");
            assert!(p.server_code.is_some(), "{said}");
            hints.insert(p.hint.clone().unwrap());
        }
        assert_eq!(hints.len(), 5, "five distinct pieces of advice");
    }

    #[test]
    fn alert_text_is_quoted_verbatim() {
        let r = from_outcome_text(Protocol::Imap, "[ALERT] Mailbox <b>migrating</b> now");
        let p = login_refused(&r, "u", "PLAIN", "[ALERT] Mailbox <b>migrating</b> now");
        assert_eq!(p.code, Code::LoginServerAlert);
        assert!(p
            .message
            .ends_with("the server says: Mailbox <b>migrating</b> now"));
        assert_eq!(p.server_code.as_deref(), Some("ALERT"));
    }
}
