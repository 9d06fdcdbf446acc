//! Problems: every user-visible failure, with a stable code and a hint on what to do next.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
    Info,
}

/// Stable problem codes. The kebab-case names are a public contract (docs/json.md):
/// add new ones, never rename.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Code {
    DnsFailed,
    ConnectRefused,
    /// Nothing listens on a port of a discovered or guessed candidate (info).
    NotOffered,
    ConnectTimeout,
    ConnectFailed,
    GreetingTimeout,
    ConnectionClosed,
    TlsHandshakeFailed,
    TlsHandshakeTimeout,
    TlsCertUntrusted,
    TlsCertExpired,
    TlsCertNotYetValid,
    TlsCertHostnameMismatch,
    TlsVersionTooOld,
    TlsInsecureAccepted,
    TlsPinMatched,
    TlsPlaintextOnTlsPort,
    CertExpiresSoon,
    PlaintextEndpoint,
    StarttlsNotOffered,
    StarttlsRejected,
    StarttlsInjection,
    PreauthBeforeTls,
    ServerRefused,
    ProtocolError,
    LineTooLong,
    ReplyTooLarge,
    Timeout,
    LoginFailed,
    LoginMechanismUnsupported,
    PlaintextLoginRefused,
    LoginDisabled,
    LoginUnverified,
    LoginSkipped,
    LoginEncryptedFailed,
    QuotaNearlyFull,
    UntrustedCandidate,
    /// Nothing trusted works, only untrusted candidates (top level).
    NoTrustedServer,
    ServerStarttlsCommandInjection,
    StarttlsInjectionNotVulnerable,
    DiscoveryFailed,
    Oauth2Required,
    /// Discovery found more servers than it probes (16 per lookup, 64 per run).
    DiscoveryCandidatesDropped,
    /// A discovery answer exceeded a bound (size, XML nesting/elements/attributes/text).
    DiscoveryDocumentRefused,
    /// Parsing a discovery answer had not finished at the deadline: abandoned.
    DiscoveryParseTimeout,
    /// `check` went ahead without a discovery lookup that was still running (info).
    DiscoveryNotWaitedFor,
    RoundtripSubmitRejected,
    RoundtripNotDelivered,
    RoundtripCleanupFailed,
    RoundtripWatchFailed,
    RoundtripNotRun,
    /// The server's certificate is self-signed (its own issuer).
    TlsCertSelfSigned,
    /// The server did not send the intermediate certificate between its own and a trusted CA.
    TlsCertChainIncomplete,
    /// The server sent certificates that are not part of its chain, or sent them out of order.
    TlsCertChainExtra,
    /// `--pin-sha256` was given and the certificate matches none of the pins.
    TlsPinMismatch,
    // Precise login refusal causes (proto::refusal, report::causes).
    LoginServerUnavailable,
    LoginTemporaryFailure,
    LoginServerError,
    LoginNotAuthorized,
    LoginPasswordExpired,
    LoginPrivacyRequired,
    LoginContactAdmin,
    LoginMailboxInUse,
    LoginMechanismTooWeak,
    LoginPolicyRefused,
    LoginAppPasswordRequired,
    LoginWebLoginRequired,
    LoginAccessDisabled,
    LoginServerAlert,
    /// The server refused the full address and accepted the local part as the user name.
    LoginUsernameLocalPart,
}

impl Code {
    pub fn as_str(self) -> String {
        serde_json::to_value(self)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default()
    }

    /// The usual next step for this problem.
    pub fn hint(self) -> &'static str {
        use Code::*;
        match self {
            DnsFailed => "Check the spelling of the host name; if it is new, its DNS records may not exist yet (test the new server before a DNS change with --connect-to).",
            ConnectRefused => "Nothing listens on this port: the server may not offer this protocol/port, or a firewall rejects it. Try the other port for this protocol.",
            NotOffered => "Nothing to do: the provider does not offer this port (nothing listens there). Use the ports that work; only a mail program set to this port would fail.",
            ConnectTimeout => "No answer at all: a firewall drops the traffic (common on hotel, guest and corporate networks for ports 25/465/587) or the host is down. Try another network or port.",
            ConnectFailed => "The connection could not be made; check the host name and your network.",
            GreetingTimeout => "The port accepts connections but the server never greeted: it may be overloaded, or this port speaks another protocol (or TLS: try the implicit-TLS URL).",
            ConnectionClosed => "The server closed the connection; it may limit connections per IP or reject this client's address.",
            TlsHandshakeFailed => "TLS could not be negotiated. Check that this port really uses this TLS mode (993/995/465 implicit TLS, 143/110/587 STARTTLS).",
            TlsHandshakeTimeout => "The server stopped answering during the TLS handshake; a middlebox may be interfering.",
            TlsCertUntrusted => "The certificate comes from a certificate authority this computer does not trust (a private or unknown CA). If it is your organisation's own CA, get its CA certificate from the administrator and add --ca-file CA.pem (and install it in your mail programs); otherwise ask the provider for a certificate from a public CA. To accept exactly this server, pin it with --pin-sha256.",
            TlsCertSelfSigned => "The server's certificate is self-signed: nobody vouches for it, so an attacker's certificate would look the same. Ask the administrator for a certificate from a CA (Let's Encrypt is free). If you run the server yourself and checked the fingerprint on it, accept exactly this certificate with --pin-sha256 (sha256 or spki_sha256 from this report).",
            TlsCertChainIncomplete => "The server sends its own certificate without the intermediate certificate that links it to a trusted CA, the most common server mistake; many mail programs will refuse it too. The administrator must configure the full chain (the certificate file must hold the server certificate followed by the intermediate, e.g. Let's Encrypt's fullchain.pem). --ca-file is not the fix.",
            TlsCertChainExtra => "Nothing breaks for mailsetup, but the server sends certificates that are not part of its chain (or in the wrong order), which stricter mail programs may refuse: the administrator should serve only the server certificate followed by its intermediates, in order.",
            TlsPinMismatch => "The certificate matches none of the --pin-sha256 values, so nothing was sent. If the server renewed its certificate, check the new one (sha256 / spki_sha256 in this report) with the administrator and pin that; an spki_sha256 pin survives renewals that keep the key.",
            TlsCertExpired => "The server's certificate has expired: the administrator must renew it. Don't work around this for real accounts.",
            TlsCertNotYetValid => "The certificate is not valid yet: check this computer's clock, or the server's certificate dates.",
            TlsCertHostnameMismatch => "The certificate is for another name: use the host name the certificate names (see sans), which is usually the provider's documented server name.",
            TlsVersionTooOld => "The server only speaks TLS older than 1.2, which is insecure (RFC 8996); the server must be upgraded.",
            TlsInsecureAccepted => "Certificate checks were turned off with --insecure: the connection could be intercepted. Use --ca-file or --pin-sha256 instead.",
            TlsPinMatched => "The certificate was accepted because it matches --pin-sha256; with a pin, the CA chain is not required.",
            TlsPlaintextOnTlsPort => "The server answered in plaintext on a TLS port: use the STARTTLS URL for this port (imap://, pop3://, smtp://).",
            CertExpiresSoon => "The certificate expires soon; tell the server's administrator.",
            PlaintextEndpoint => "This endpoint has no TLS: a password sent here can be read by anyone on the network. Use the TLS or STARTTLS endpoint.",
            StarttlsNotOffered => "The server does not offer STARTTLS here (or something on the network removed it). Use the implicit-TLS port (993/995/465) instead; never send a password on this connection.",
            StarttlsRejected => "The server refused STARTTLS (or something on the network interfered). Use the implicit-TLS port (993/995/465) instead.",
            StarttlsInjection => "Data arrived after the STARTTLS reply but before encryption began: a man-in-the-middle or a broken server. The connection was abandoned; use the implicit-TLS port and report it to the network or server administrator.",
            PreauthBeforeTls => "The server said PREAUTH before TLS, so the connection can't be secured (a downgrade). Use the implicit-TLS port 993.",
            ServerRefused => "The server refused service; it may block your address or be over capacity. Try again later or from another network.",
            ProtocolError => "The server's reply did not follow the protocol: this port may speak another protocol, or something between you and the server interferes.",
            LineTooLong => "The server sent an absurdly long line; it is broken or hostile.",
            ReplyTooLarge => "The server sent an absurdly large reply; it is broken or hostile.",
            Timeout => "The server stopped answering in time; try again, or raise --timeout.",
            LoginFailed => "Check the password. Try the other user name form (the full address, or only the part before @ with --username). If two-step verification is on, the provider may require an app password or OAuth2; IMAP/POP access may also have to be enabled in the provider's webmail settings.",
            LoginMechanismUnsupported => "The server offers no login method mailsetup can use with the credentials given (e.g. only OAuth2, or only GSSAPI/NTLM). For OAuth2 sign in once with `mailsetup oauth2 login ADDRESS` (then check uses it), or give --oauth2-token-command.",
            PlaintextLoginRefused => "This endpoint has no TLS, so the password was not sent. Use the TLS or STARTTLS endpoint; only if you accept that anyone on the network can read it, add --allow-plaintext-login.",
            LoginDisabled => "The server forbids the LOGIN command (LOGINDISABLED) and offers no login mechanism mailsetup can use here: use a TLS-protected endpoint, or ask the provider which login it supports.",
            LoginUnverified => "The server's answer to the login was neither a clear success nor a clear refusal; the login could not be verified. The server may be broken or something interferes.",
            LoginSkipped => "No password was given and there is no terminal to ask on: pass --password-command, --password-env or --password-file.",
            LoginUsernameLocalPart => "Nothing to do: mailsetup uses the form of the user name the server accepted (the part before the @) in what it recommends and writes. If you set up a client by hand, enter that user name.",
            LoginEncryptedFailed => "The challenge-response method (\"encrypted password\") failed but the normal password worked: choose \"Normal password\" in your mail client (it is safe over TLS).",
            QuotaNearlyFull => "The mailbox is almost full: delete or archive mail (IMAP and POP3 \"leave on server\" both use this storage), or upgrade the plan; new mail may bounce when it is full.",
            ServerStarttlsCommandInjection => "The server keeps commands sent before TLS started and runs them inside TLS (CVE-2011-0411 class). Its administrator must update the server software; meanwhile prefer the implicit-TLS port.",
            StarttlsInjectionNotVulnerable => "Nothing to do: a server that ignores or refuses commands pipelined with STARTTLS is safe.",
            DiscoveryFailed => "No source knew this domain's mail servers. Check the spelling of the address; ask the provider for its IMAP/POP3/SMTP server names and give them with --server.",
            Oauth2Required => "If a password login is refused here, the provider wants OAuth2: sign in with `mailsetup oauth2 login ADDRESS` (or the setup wizard), or use an app password if the provider offers them.",
            DiscoveryCandidatesDropped => "A source listed more servers than any real provider has; only the best-ranked were probed (16 per lookup, 64 in all). A config file or DNS zone listing that many is broken or hostile: if the provider's servers are not among those probed, give them with --server.",
            DiscoveryDocumentRefused => "A discovery answer was far larger or more complex than any real one (size, nesting, elements, attributes) and was ignored: the server is broken or hostile. If nothing else found your servers, give them with --server.",
            DiscoveryParseTimeout => "Reading a discovery answer took until the deadline and was abandoned: the server sent something absurd. If nothing else found your servers, give them with --server (or raise --timeout).",
            DiscoveryNotWaitedFor => "This lookup had not answered when the servers found by the others were verified, and the check went ahead without it (a web or DNS server that accepts but never answers). If the recommendation looks wrong, run `mailsetup discover` to wait for every source, or give the servers with --server.",
            UntrustedCandidate => "This server came from a source that can't vouch for it (it lies outside your address's domain, named by DNS, plain HTTP or Autodiscover, or derived from the MX record), so no password was sent and it is never recommended or written. If it is your provider's, add --trust-host HOST (or --trust-mx to confirm a provider found through MX).",
            NoTrustedServer => "Check the address's spelling. If the servers listed are really your provider's (your provider's help pages name them), vouch for them with --trust-host HOST; otherwise ask the provider for its server names and give them with --server.",
            LoginServerUnavailable => "A part of the server (its password check or its mail storage) is down for the moment; your settings may well be right. Try again in a few minutes; if it lasts, tell the provider.",
            LoginTemporaryFailure => "The server could not check the password just now (its authentication service is busy, or it slows down an address after several failed attempts). Wait a few minutes and try once more; retrying in a loop prolongs a lockout.",
            LoginServerError => "The server reports a permanent problem on its side (not your password). Tell the provider's support, quoting the server's message.",
            LoginNotAuthorized => "The password was accepted, but this account may not use the mailbox it asked for (wrong user name form, a shared mailbox, or the account is not allowed to use this service). Check the user name, or ask the administrator to grant access.",
            LoginPasswordExpired => "The password (or the account) has expired: set a new password in the provider's webmail or account page, then try again with the new one.",
            LoginPrivacyRequired => "The server refuses this login on this connection for privacy reasons: use the implicit-TLS port (993/995/465) or a stronger login method.",
            LoginContactAdmin => "The server says only its administrator can fix this login (e.g. the account is locked or not set up for mail): contact your provider's support or your IT department.",
            LoginMailboxInUse => "Another program holds the mailbox: a POP3 mailbox can be open in only one session at a time. Close other mail programs or phones that fetch this account over POP3 (or wait until they finish), then try again.",
            LoginMechanismTooWeak => "The server wants a stronger login method for this account than the one tried; with two-step verification the provider usually requires an app password or OAuth2 (--oauth2-token-command).",
            LoginPolicyRefused => "The server refused the login for a security policy reason rather than the password (it may want TLS first, another port, or block your network or country). Read the server's message; try the implicit-TLS port or another network.",
            LoginAppPasswordRequired => "The provider requires an app password for mail programs (two-step verification is on): create one in the provider's account security settings and use it instead of your normal password.",
            LoginWebLoginRequired => "The provider blocked this sign-in until you confirm it: sign in once in a web browser (from the same network), confirm the security prompt, then try again. If it keeps happening, use an app password or OAuth2.",
            LoginAccessDisabled => "Access by this protocol is turned off for the account: enable IMAP/POP (or authenticated SMTP) in the provider's webmail settings, or ask the administrator to allow it.",
            LoginServerAlert => "The server sent an alert meant for you (quoted above): it says what is wrong and what to do.",
            RoundtripSubmitRejected => "The submission server refused the test message; its reply says why. \"Relay access denied\" or \"not owned by user\": the sender address must be one your login may use (check the address and user name; some providers only allow the login's own address). \"Message too big\" or a quota reply: the account's sending or storage limit is reached. Fix that in the provider's settings, then run the round trip again.",
            RoundtripNotDelivered => "The server accepted the message but it did not arrive in time. A full mailbox (see Storage), a spam filter or a slow queue delays or refuses delivery: check the mailbox quota and the spam/junk folder, look for a bounce in the inbox, try a longer --round-trip-timeout, or ask the provider whether mail for this address is delivered to this mailbox.",
            RoundtripCleanupFailed => "The test message arrived but could not be deleted again: delete the message with the subject \"mailsetup round-trip test\" in your mail client.",
            RoundtripWatchFailed => "The mailbox could not be watched for the test message (the server broke off or misbehaved while we waited); the message may still arrive: look for the subject \"mailsetup round-trip test\" and delete it. Run the round trip again, or with -v to see the conversation.",
            RoundtripNotRun => "The round trip needs a verified incoming and outgoing server: fix the problems of the check first (see above), then run it again.",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    pub severity: Severity,
    pub code: Code,
    pub message: String,
    pub hint: Option<String>,
    /// The server's own machine-readable reason, next to our code: IMAP response code
    /// (`UNAVAILABLE`), POP3 extended code (`IN-USE`), SMTP reply and enhanced status
    /// (`454 4.7.0`). Absent when the server gave none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_code: Option<String>,
}

impl Problem {
    pub fn new(severity: Severity, code: Code, message: impl Into<String>) -> Self {
        Problem {
            severity,
            code,
            message: message.into(),
            hint: Some(code.hint().to_string()),
            server_code: None,
        }
    }

    /// The same problem, carrying the server's code.
    pub fn with_server_code(mut self, server_code: Option<String>) -> Self {
        self.server_code = server_code;
        self
    }
    pub fn error(code: Code, message: impl Into<String>) -> Self {
        Self::new(Severity::Error, code, message)
    }
    pub fn warning(code: Code, message: impl Into<String>) -> Self {
        Self::new(Severity::Warning, code, message)
    }
    pub fn info(code: Code, message: impl Into<String>) -> Self {
        Self::new(Severity::Info, code, message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_kebab_case() {
        assert_eq!(
            Code::TlsCertHostnameMismatch.as_str(),
            "tls-cert-hostname-mismatch"
        );
        assert_eq!(Code::PreauthBeforeTls.as_str(), "preauth-before-tls");
        assert_eq!(Code::StarttlsInjection.as_str(), "starttls-injection");
        assert_eq!(Code::DnsFailed.as_str(), "dns-failed");
        assert_eq!(Code::TlsCertSelfSigned.as_str(), "tls-cert-self-signed");
        assert_eq!(
            Code::TlsCertChainIncomplete.as_str(),
            "tls-cert-chain-incomplete"
        );
        assert_eq!(Code::TlsCertChainExtra.as_str(), "tls-cert-chain-extra");
        assert_eq!(Code::TlsPinMismatch.as_str(), "tls-pin-mismatch");
    }
}
