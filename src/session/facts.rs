//! What a session found on one endpoint, as facts: the session layer records them, `report`
//! turns them into problems and hints (the only place user-facing words are made).

use crate::model::timing::Phases;
use crate::model::{Endpoint, Folders, Mechanism};
use crate::net::connect::ConnectError;
use crate::net::stream::{HandshakeFacts, HandshakeFailure};
use crate::proto::client::{Attempt, Capabilities, Failure, LoginImpossible, QuotaFacts};

/// Everything one endpoint showed, in the order it happened.
#[derive(Debug, Clone)]
pub struct EndpointFacts {
    pub endpoint: Endpoint,
    /// The socket address connected to (after `--connect-to` and DNS).
    pub address: Option<String>,
    pub connect_ms: Option<u64>,
    pub connect_error: Option<ConnectError>,
    /// The TLS handshake: version, cipher, certificate and the check behind it.
    pub tls: Option<HandshakeFacts>,
    /// How the handshake failed; `after_starttls` tells a STARTTLS upgrade from implicit TLS.
    pub handshake_failure: Option<(HandshakeFailure, bool)>,
    pub greeting: Option<String>,
    /// STARTTLS endpoints: what the server advertised before TLS (shown, never used).
    pub capabilities_before_tls: Option<Vec<String>>,
    /// The capabilities of the connection a login uses.
    pub capabilities: Option<Capabilities>,
    /// The protocol conversation failed, and what it waited for then.
    pub failure: Option<(Failure, &'static str)>,
    /// `--check-injection`'s verdict, when it ran.
    pub injection: Option<Injection>,
    /// The endpoint passed every check: secured, greeted, capabilities read.
    pub ready: bool,
    /// Login verification (`check`).
    pub login: Option<LoginFacts>,
    /// What the mailbox uses (after a login).
    pub quota: Option<QuotaFacts>,
    /// IMAP: the special folders (after a login).
    pub folders: Option<Folders>,
    pub phases: Phases,
    pub elapsed_ms: u64,
}

impl EndpointFacts {
    pub fn new(endpoint: &Endpoint) -> Self {
        EndpointFacts {
            endpoint: endpoint.clone(),
            address: None,
            connect_ms: None,
            connect_error: None,
            tls: None,
            handshake_failure: None,
            greeting: None,
            capabilities_before_tls: None,
            capabilities: None,
            failure: None,
            injection: None,
            ready: false,
            login: None,
            quota: None,
            folders: None,
            phases: Phases::default(),
            elapsed_ms: 0,
        }
    }
}

/// The STARTTLS command-injection check (`probe --check-injection`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Injection {
    /// Nothing came back inside TLS for the pipelined command.
    NotVulnerable,
    /// The server aborted the handshake because of the pipelined command (safe); the
    /// endpoint was then probed on a fresh connection without the check.
    RefusedHandshake,
}

/// Login verification on one endpoint.
#[derive(Debug, Clone)]
pub enum LoginFacts {
    /// No credentials in the run (no terminal to ask on).
    NoCredentials,
    /// Credentials withheld: nothing was sent.
    Withheld(Withheld),
    /// The server leaves no way to log in with these credentials: nothing was sent.
    Impossible {
        why: LoginImpossible,
        kind: CredentialKind,
        username: String,
    },
    /// Attempts were made (in order, over one or more connections).
    Attempted {
        attempts: Vec<UserAttempt>,
        kind: CredentialKind,
    },
}

/// Why credentials were not sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Withheld {
    /// The connection did not pass its checks.
    ConnectionFailed { username: String },
    /// A plaintext endpoint without `--allow-plaintext-login`.
    Plaintext { username: String },
    /// The trust policy does not trust the endpoint (`app::trust`).
    Untrusted { username: String },
}

/// One attempt, with the user name it used.
#[derive(Debug, Clone, PartialEq)]
pub struct UserAttempt {
    pub username: String,
    pub attempt: Attempt,
    /// This form of the user name was tried because the given one was refused (the local
    /// part after the full address).
    pub alternative: bool,
}

impl UserAttempt {
    pub fn mechanism(&self) -> Mechanism {
        self.attempt.mechanism
    }
}

/// What a credential is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CredentialKind {
    Password,
    OAuth2Token,
}

impl CredentialKind {
    pub fn noun(self) -> &'static str {
        match self {
            CredentialKind::Password => "password",
            CredentialKind::OAuth2Token => "OAuth2 token",
        }
    }
}
