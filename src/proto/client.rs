//! What the three client state machines (`imap::Client`, `pop3::Client`, `smtp::Client`)
//! share: the sans-I/O interface the one driver (`session::driver`) runs them through, and the
//! facts they report.
//!
//! A machine is fed the server's bytes (`feed`, `eof`), hands out what to send
//! (`poll_transmit`) and what happened (`poll_event`), and asks the driver to start TLS with
//! [`Event::NeedTls`]. It never touches a socket or a clock: deadlines, byte limits of the
//! connection and the TLS handshake are the driver's. Every protocol rule — the STARTTLS
//! prefix and its buffer rule, discarding pre-TLS state, re-reading capabilities, PREAUTH and
//! LOGINDISABLED, what counts as a login success, quota — is decided here, byte for byte.

use std::collections::VecDeque;

use zeroize::Zeroizing;

pub use super::refusal::Refusal;
use super::{ProtoError, StartTlsRefusal};
use crate::model::{AuthMethod, Mechanism, Protocol, Secret, Security};

/// The STARTTLS buffer rule, one place for the three machines: while a machine waits for the
/// TLS handshake after the server's positive STARTTLS reply, any byte already received was
/// sent before TLS and would be read as if it came inside it — an injection: abort.
pub(crate) fn bytes_before_tls(reader: &super::lines::LineReader) -> Option<Failure> {
    let buffered = reader.buffered();
    (buffered > 0).then_some(Failure::StartTls(StartTlsRefusal::Injection { buffered }))
}

/// The injection check's verdict (`--check-injection`): a reply inside TLS to the command
/// pipelined in plaintext with STARTTLS (`pipelined`) means the server executed it.
pub(crate) fn injection_reply(
    reader: &mut super::lines::LineReader,
    pipelined: &'static str,
) -> Option<Failure> {
    if reader.buffered() == 0 {
        return None;
    }
    let reply = reader
        .next_line()
        .ok()
        .flatten()
        .map(|l| super::text(&l))
        .unwrap_or_default();
    Some(Failure::InjectionExecuted { pipelined, reply })
}

/// Bytes for the wire, and what the `-v` trace may show of them (secrets redacted).
#[derive(Clone)]
pub struct Transmit {
    pub bytes: Zeroizing<Vec<u8>>,
    pub shown: String,
}

impl Transmit {
    /// A command without secrets: shown as sent (without its line end).
    pub fn plain(bytes: Vec<u8>) -> Self {
        let shown = String::from_utf8_lossy(&bytes)
            .trim_end_matches("\r\n")
            .replace("\r\n", " ⏎ ");
        Transmit {
            bytes: Zeroizing::new(bytes),
            shown,
        }
    }

    /// A command carrying a secret: `shown` is what the trace prints instead.
    pub fn secret(bytes: Zeroizing<Vec<u8>>, shown: impl Into<String>) -> Self {
        Transmit {
            bytes,
            shown: shown.into(),
        }
    }
}

impl std::fmt::Debug for Transmit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Transmit({:?})", self.shown)
    }
}

/// A step of the conversation the driver times (`phases` in the report).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Greeting,
    Capabilities,
    StartTls,
    Login,
    Quota,
}

/// What happened, in order.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// A step of the conversation begins (the previous one ends).
    Step(Step),
    /// The server's greeting, as text for the report.
    Greeting(String),
    /// What a STARTTLS endpoint advertised in plaintext: shown, never used.
    CapabilitiesBeforeTls(Vec<String>),
    /// Start TLS now: the positive STARTTLS reply came and nothing followed it. The driver
    /// must feed any byte it already holds before the handshake; the machine refuses them.
    NeedTls,
    /// The capabilities on the connection a login would use (read after TLS), with the SASL
    /// mechanisms and the login mechanisms they offer.
    Capabilities(Capabilities),
    /// Secured and greeted: a login may start ([`ClientMachine::login`]), or the machine is
    /// closed ([`ClientMachine::close`]).
    Ready,
    /// `--check-injection`: whether the server answered, inside TLS, the command pipelined
    /// with STARTTLS (the driver waited; see [`ClientMachine::injection_window_closed`]).
    Injection(InjectionVerdict),
    /// One login attempt finished.
    Attempt(Attempt),
    /// What the mailbox uses (after a successful login, when asked for).
    Quota(QuotaFacts),
    /// IMAP: the special folders (after a successful login, when asked for).
    Folders(Box<crate::model::Folders>),
    /// The logged-in session is kept ([`LoginRequest::keep`]): no goodbye was sent; the
    /// driver hands the connection over with [`ClientMachine::take_buffered`]. The
    /// capabilities are the ones after login (IMAP), the CAPA lines (POP3) or the EHLO lines
    /// with their parameters (SMTP).
    Kept { capabilities: Vec<String> },
    /// A login cannot start on this connection: nothing was sent.
    LoginImpossible(LoginImpossible),
    /// The conversation ended; `remaining` are planned attempts left that need a fresh
    /// connection (after a success with `--all-mechanisms`, or when the connection became
    /// unusable after an attempt).
    Finished { remaining: Vec<Mechanism> },
    /// The conversation failed: nothing more will happen on this connection.
    Failed(Failure),
}

/// Capabilities as the report shows them.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Capabilities {
    /// IMAP capability atoms, POP3 CAPA keywords, SMTP EHLO lines (upper-cased keywords).
    pub list: Vec<String>,
    /// SASL mechanisms offered, upper-case.
    pub sasl: Vec<String>,
    /// The login mechanisms the server offers on this connection ([`super::offered_mechanisms`]).
    pub offered: Vec<Mechanism>,
    /// IMAP `LOGINDISABLED`.
    pub login_disabled: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InjectionVerdict {
    /// The server answered the pipelined command inside TLS (CVE-2011-0411 class).
    Vulnerable,
    /// Nothing came: the command was discarded.
    NotVulnerable,
}

/// One login attempt, judged strictly.
#[derive(Debug, Clone, PartialEq)]
pub struct Attempt {
    pub mechanism: Mechanism,
    pub outcome: Outcome,
}

/// The result of one login attempt.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// The protocol's one success reply to our own command.
    Ok(String),
    /// A clear refusal (IMAP tagged NO, POP3 -ERR, SMTP 4xx/5xx), classified from the
    /// server's codes and text.
    Refused(Refusal),
    /// Anything else: BAD, BYE, another tag, 250, endless challenges, a SCRAM server that
    /// could not prove it knows the password.
    Unverified(String),
}

/// What a mailbox uses: IMAP `GETQUOTAROOT` (STORAGE in KiB) and `STATUS (MESSAGES)`, or
/// POP3 `STAT` (messages and octets, no limit).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct QuotaFacts {
    /// (used, limit) in bytes; a limit of 0 means none.
    pub storage: Option<(u64, u64)>,
    pub messages: Option<u64>,
    /// POP3 STAT's octets (no limit known).
    pub octets: Option<u64>,
}

/// Why no login could start (nothing was sent).
#[derive(Debug, Clone, PartialEq)]
pub enum LoginImpossible {
    /// IMAP `LOGINDISABLED` on a connection without TLS: no credential of any form.
    LoginDisabledWithoutTls,
    /// No TLS on this connection and the user did not allow plaintext for this (plain)
    /// endpoint: no credential of any form.
    PlaintextNotAllowed,
    /// IMAP `LOGINDISABLED` and no offered AUTHENTICATE mechanism usable with the credentials.
    LoginDisabled { offered: Vec<String> },
    /// No offered mechanism usable with the credentials.
    NoUsableMechanism { offered: Vec<String> },
}

/// What interrupted a conversation from outside the protocol (the driver's facts).
#[derive(Debug, Clone, PartialEq)]
pub enum Interruption {
    /// The phase's deadline (or the overall one) passed.
    Timeout,
    /// The server closed the connection.
    Closed,
    /// The connection failed (reset, TLS error inside the session).
    Io(String),
    /// The server sent more than a connection may carry.
    TooMuchData { limit: usize },
}

impl Interruption {
    /// What happened, while waiting for `what` (for a login attempt's message).
    pub fn words(&self, what: &str) -> String {
        match self {
            Interruption::Timeout => format!("no complete answer while waiting for {what}"),
            Interruption::Closed => {
                format!("the server closed the connection while we waited for {what}")
            }
            Interruption::Io(e) => format!("the connection failed while waiting for {what}: {e}"),
            Interruption::TooMuchData { limit } => {
                format!("the server sent more than {limit} bytes")
            }
        }
    }
}

/// Why a conversation failed. Facts; `report` turns them into problems and hints.
#[derive(Debug, Clone, PartialEq)]
pub enum Failure {
    /// A framing or parsing limit, or a malformed reply.
    Proto(ProtoError),
    /// `* BYE`, `-ERR` or a 4xx/5xx greeting: the server refuses service.
    ServerRefused(String),
    /// Not a greeting of this protocol.
    NotAGreeting(String),
    /// STARTTLS could not happen (never followed by plaintext use).
    StartTls(StartTlsRefusal),
    /// A command needed to secure or probe the connection failed (CAPABILITY, EHLO).
    CommandFailed {
        command: &'static str,
        reply: String,
    },
    /// The driver interrupted the wait for something (timeout, closed, I/O error).
    Interrupted {
        why: Interruption,
        waiting_for: &'static str,
        greeting: bool,
    },
    /// `--check-injection`: the server executed the command pipelined with STARTTLS.
    InjectionExecuted {
        pipelined: &'static str,
        reply: String,
    },
}

/// What the machine waits for: the driver's deadline for it and the words for a timeout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wait {
    /// The greeting (the greeting timeout applies).
    Greeting,
    /// The reply to a command (the command timeout applies).
    Reply(&'static str),
    /// `--check-injection`: after the handshake, the window in which a vulnerable server
    /// answers the pipelined command (the driver closes it with
    /// [`ClientMachine::injection_window_closed`]).
    InjectionWindow,
    /// Nothing: the machine has something to say, or is finished.
    Nothing,
}

impl Wait {
    /// What is awaited, in the words of an interruption's message ("… waiting for {words}").
    pub fn words(self) -> &'static str {
        match self {
            Wait::Greeting => "the greeting",
            Wait::Reply(w) => w,
            Wait::InjectionWindow => "anything",
            Wait::Nothing => "nothing",
        }
    }
}

/// Who logs in, with what, and how: given to [`ClientMachine::login`].
pub struct LoginRequest {
    pub username: String,
    pub secret: Secret,
    /// The mechanisms to try, in order ([`plan`]); each after the previous was refused
    /// (or, with `all`, after each result).
    pub mechanisms: Vec<Mechanism>,
    /// `--all-mechanisms`: go on after a success too (on a fresh connection).
    pub all: bool,
    /// Read the quota after the first successful login.
    pub quota: bool,
    /// IMAP: list the folders after the first successful login.
    pub folders: bool,
    /// Keep the session after the first successful login (`check --round-trip`): no
    /// goodbye, [`Event::Kept`] instead of the logout.
    pub keep: bool,
    /// For OAUTHBEARER's host/port fields.
    pub host: String,
    pub port: u16,
    /// `--allow-plaintext-login` for a plain endpoint. Without it a machine sends no
    /// credential on a connection without TLS, whoever asks; a STARTTLS endpoint never does.
    pub plaintext_allowed: bool,
}

impl LoginRequest {
    /// Whether a credential may go on this connection: inside TLS, or on a plain endpoint
    /// the user allowed plaintext for.
    pub fn may_send(&self, security: Security, tls: bool) -> bool {
        tls || (security == Security::Plain && self.plaintext_allowed)
    }
}

impl std::fmt::Debug for LoginRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginRequest")
            .field("username", &self.username)
            .field("secret", &self.secret)
            .field("mechanisms", &self.mechanisms)
            .field("all", &self.all)
            .field("quota", &self.quota)
            .field("folders", &self.folders)
            .field("keep", &self.keep)
            .field("plaintext_allowed", &self.plaintext_allowed)
            .finish()
    }
}

/// The sans-I/O interface of a client state machine.
pub trait ClientMachine: Send {
    /// Bytes read from the connection.
    fn feed(&mut self, data: &[u8]);
    /// Something outside the protocol interrupted the wait (timeout, closed connection, I/O
    /// error, too much data): the machine reports it in its terms (a failed step, or an
    /// unverified login attempt) and finishes.
    fn interrupted(&mut self, why: Interruption);
    /// The next bytes to send, in order.
    fn poll_transmit(&mut self) -> Option<Transmit>;
    /// The next event, in order.
    fn poll_event(&mut self) -> Option<Event>;
    /// The TLS handshake the machine asked for is done: pre-TLS state is discarded.
    fn tls_established(&mut self);
    /// After [`Event::Ready`]: log in. Nothing is sent when no offered mechanism is planned.
    fn login(&mut self, request: LoginRequest);
    /// After [`Event::Ready`] (or a finished login): say goodbye and finish.
    fn close(&mut self);
    /// `--check-injection`: the driver's wait after the handshake passed with nothing read.
    fn injection_window_closed(&mut self);
    /// What the machine waits for now.
    fn waiting(&self) -> Wait;
    /// Bytes received and not consumed.
    fn buffered(&self) -> usize;
    /// After [`Event::Kept`]: the bytes received and not consumed, for whoever continues on
    /// the session (they are no longer the machine's).
    fn take_buffered(&mut self) -> Vec<u8>;
    /// The protocol.
    fn protocol(&self) -> Protocol;
}

/// How a machine starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Setup {
    /// Implicit TLS (already active when the machine starts), STARTTLS required, or none.
    pub security: Security,
    /// `probe --check-injection`: pipeline a harmless command with STARTTLS.
    pub check_injection: bool,
    /// The name announced in SMTP EHLO.
    pub ehlo_name: String,
}

/// The mechanisms to try for a login, in order: all offered (`--all-mechanisms`), or the best
/// of the preferred class and, should the server refuse it, the best of the other password
/// class. Inside TLS the normal password comes first — it is what the report recommends (safe
/// over TLS, every client can do it), so "login verified" is true of the recommended
/// settings; when the server refuses it (a provider offering only "encrypted password" may
/// still advertise POP3 `USER`), the challenge-response method is verified instead. Without
/// TLS (only with the user's consent) challenge-response comes first. OAuth2 tokens: the best
/// offered token mechanism.
pub fn plan(offered: &[Mechanism], token: bool, all: bool, tls: bool) -> Vec<Mechanism> {
    let usable: Vec<Mechanism> = offered
        .iter()
        .copied()
        .filter(|m| (m.auth_method() == AuthMethod::OAuth2) == token)
        .collect();
    if all || token {
        return if all {
            usable
        } else {
            usable.into_iter().take(1).collect()
        };
    }
    let best = |class: AuthMethod| usable.iter().copied().find(|m| m.auth_method() == class);
    let (first, second) = if tls {
        (AuthMethod::PasswordCleartext, AuthMethod::PasswordEncrypted)
    } else {
        (AuthMethod::PasswordEncrypted, AuthMethod::PasswordCleartext)
    };
    [best(first), best(second)].into_iter().flatten().collect()
}

/// The queues every machine keeps.
#[derive(Debug, Default)]
pub(crate) struct Outbox {
    pub transmits: VecDeque<Transmit>,
    pub events: VecDeque<Event>,
}

impl Outbox {
    pub fn send(&mut self, t: Transmit) {
        self.transmits.push_back(t);
    }
    pub fn event(&mut self, e: Event) {
        self.events.push_back(e);
    }
    pub fn step(&mut self, s: Step) {
        self.events.push_back(Event::Step(s));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Mechanism::*;

    #[test]
    fn plan_verifies_the_normal_password_inside_tls_with_an_encrypted_fallback() {
        let offered = [ScramSha256, CramMd5, Plain, LoginCommand, XOAuth2];
        assert_eq!(plan(&offered, false, false, true), [Plain, ScramSha256]);
        assert_eq!(plan(&offered, false, false, false), [ScramSha256, Plain]);
        assert_eq!(plan(&[CramMd5], false, false, true), [CramMd5]);
        assert_eq!(
            plan(&offered, false, true, true),
            [ScramSha256, CramMd5, Plain, LoginCommand]
        );
        assert_eq!(plan(&offered, true, false, true), [XOAuth2]);
        assert!(plan(&[XOAuth2], false, false, true).is_empty());
    }
}
