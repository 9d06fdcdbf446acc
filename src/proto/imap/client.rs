//! The IMAP client state machine (RFC 3501, RFC 9051): greeting, capabilities, STARTTLS,
//! login (LOGIN or AUTHENTICATE with any SASL mechanism), quota, logout — sans-I/O.
//!
//! Round trips, as few as the protocol allows: on implicit TLS the greeting's `[CAPABILITY]`
//! is used (no CAPABILITY command); on a STARTTLS endpoint CAPABILITY and STARTTLS go out
//! together (STARTTLS last: nothing is ever pipelined after it), and the capabilities are read
//! again inside TLS (never the pre-TLS ones); PLAIN goes with its initial response (SASL-IR);
//! after the login the tagged OK's `[CAPABILITY]` is used, and GETQUOTAROOT, STATUS and LOGOUT
//! go out together.

use super::{
    auth_mechanisms, check_starttls_reply, expect_completion, login_disabled, parse_quota,
    parse_status_messages, Response, ResponseParser, Status, Tags,
};
use crate::model::{Mechanism, Protocol, Security};
use crate::proto::client::{
    ClientMachine, Event, Failure, InjectionVerdict, Interruption, LoginImpossible, LoginRequest,
    Outbox, Outcome, QuotaFacts, Setup, Step, Transmit, Wait,
};
use crate::proto::folders::{self, ListEntry, ListForm};
use crate::proto::sasl::SaslClient;
use crate::proto::{offered_mechanisms, LineReader, StartTlsRefusal, MAX_LINE};

mod greeting;
mod login;
mod post_login;

/// The IMAP client.
pub struct Client {
    setup: Setup,
    /// TLS protects the connection now.
    tls: bool,
    reader: LineReader,
    parser: ResponseParser,
    tags: Tags,
    out: Outbox,
    state: State,
    /// The capabilities a login uses (after TLS; updated by the tagged OK of a login).
    caps: Vec<String>,
    login: Option<Run>,
    /// The capabilities were read after the login (a tagged OK's `[CAPABILITY]`, or the
    /// command): servers announce more once logged in.
    caps_after_login: bool,
    /// An untagged `CAPABILITY` sent during a login exchange (Dovecot sends the post-login
    /// list so, before its tagged OK): adopted only when that login succeeds.
    auth_caps: Option<Vec<String>>,
}

/// What the post-login pipeline collects.
struct AfterLogin {
    end: String,
    quota: Option<QuotaFacts>,
    /// The LIST form used and the entries read (bounded by [`folders::MAX_FOLDERS`]).
    list: Option<(ListForm, Vec<ListEntry>)>,
    /// LIST and GETQUOTAROOT wait for the capabilities read after login (the LIST form and
    /// QUOTA depend on them).
    list_pending: bool,
    quota_pending: bool,
    keep: bool,
}

/// A login in progress: the request and how far it got.
struct Run {
    req: LoginRequest,
    /// Index of the next mechanism to try.
    next: usize,
    /// A login succeeded on this connection (no further login on it).
    logged_in: bool,
}

enum State {
    Greeting,
    /// CAPABILITY sent; `starttls`: the tag of the STARTTLS pipelined after it (STARTTLS
    /// endpoints before TLS), with the tag of `--check-injection`'s NOOP.
    Capability {
        tag: String,
        found: Option<Vec<String>>,
        starttls: Option<(String, Option<String>)>,
    },
    /// The pre-TLS capabilities allowed STARTTLS; its completion is awaited.
    StartTls {
        tag: String,
    },
    /// NeedTls was emitted: any byte now is an injection.
    AwaitTls,
    /// `--check-injection`: after the handshake, a vulnerable server answers the NOOP.
    InjectionWindow,
    /// Secured: waiting for `login` or `close`.
    Ready,
    /// A login command is out.
    Auth {
        tag: String,
        mechanism: Mechanism,
        sasl: Option<SaslClient>,
        /// LOGIN with synchronising literals: the literal parts still to send.
        literals: Vec<Transmit>,
        /// A SASL error made us cancel with `*`: the completion is awaited, then unverified.
        cancelled: Option<String>,
    },
    /// After the login, pipelined: CAPABILITY (when needed), GETQUOTAROOT and STATUS (the
    /// quota), LIST (the folders), LOGOUT (unless the session is kept); `end` is the tag
    /// whose completion ends the wait.
    AfterLogin(Box<AfterLogin>),
    Finished,
}

impl Client {
    /// A machine for a connection that is open (implicit TLS: already inside TLS).
    pub fn new(setup: Setup) -> Self {
        let mut out = Outbox::default();
        out.step(Step::Greeting);
        Client {
            tls: setup.security == Security::Tls,
            setup,
            reader: LineReader::new(MAX_LINE),
            parser: ResponseParser::new(),
            tags: Tags::default(),
            out,
            state: State::Greeting,
            caps: Vec::new(),
            login: None,
            caps_after_login: false,
            auth_caps: None,
        }
    }

    fn fail(&mut self, f: Failure) {
        self.state = State::Finished;
        self.out.event(Event::Failed(f));
    }

    fn command(&mut self, cmd: &str) -> String {
        let tag = self.tags.next_tag();
        self.out.send(Transmit::plain(super::command(&tag, cmd)));
        tag
    }

    /// Processes every complete response in the buffer.
    fn pump(&mut self) {
        loop {
            if matches!(self.state, State::Finished | State::Ready) {
                return;
            }
            if matches!(self.state, State::AwaitTls) {
                // Bytes after the positive STARTTLS reply, before the handshake.
                if let Some(f) = crate::proto::client::bytes_before_tls(&self.reader) {
                    self.fail(f);
                }
                return;
            }
            if matches!(self.state, State::InjectionWindow) {
                if let Some(f) = crate::proto::client::injection_reply(&mut self.reader, "NOOP") {
                    self.fail(f);
                }
                return;
            }
            let resp = match self.parser.next(&mut self.reader) {
                Ok(Some(r)) => r,
                Ok(None) => return,
                Err(e) => {
                    self.proto_error(e);
                    return;
                }
            };
            self.on_response(resp);
        }
    }

    fn proto_error(&mut self, e: crate::proto::ProtoError) {
        if matches!(self.state, State::Auth { .. }) {
            self.end_attempt(Outcome::Unverified(e.to_string()));
        } else if let State::AfterLogin(after) = &self.state {
            // The quota and folders are extra: without them the run still stands.
            let keep = after.keep;
            self.finish(!keep);
        } else {
            self.fail(Failure::Proto(e));
        }
    }

    fn on_response(&mut self, resp: Response) {
        match std::mem::replace(&mut self.state, State::Finished) {
            State::Greeting => self.on_greeting(resp),
            State::Capability {
                tag,
                mut found,
                starttls,
            } => {
                if let Some(c) = resp.capabilities() {
                    found = Some(c);
                }
                match expect_completion(&resp, &tag) {
                    Ok(super::Step::Data) => {
                        self.state = State::Capability {
                            tag,
                            found,
                            starttls,
                        }
                    }
                    Ok(super::Step::Done {
                        status: Status::Ok, ..
                    }) => match found {
                        Some(caps) => self.on_capabilities(caps, starttls),
                        None => self.fail(Failure::CommandFailed {
                            command: "CAPABILITY",
                            reply: "the server sent no CAPABILITY data".into(),
                        }),
                    },
                    Ok(super::Step::Done { status, text, .. }) => {
                        self.fail(Failure::CommandFailed {
                            command: "CAPABILITY",
                            reply: format!("{} {text}", status.as_str()),
                        })
                    }
                    Err(e) => self.fail(Failure::Proto(e)),
                }
            }
            State::StartTls { tag } => match expect_completion(&resp, &tag) {
                Ok(super::Step::Data) => self.state = State::StartTls { tag },
                Ok(super::Step::Done { status, text, .. }) => {
                    match check_starttls_reply(status, &text) {
                        Ok(()) if self.reader.buffered() > 0 => {
                            let buffered = self.reader.buffered();
                            self.fail(Failure::StartTls(StartTlsRefusal::Injection { buffered }))
                        }
                        Ok(()) => {
                            self.state = State::AwaitTls;
                            self.out.event(Event::NeedTls);
                        }
                        Err(r) => self.fail(Failure::StartTls(r)),
                    }
                }
                Err(e) => self.fail(Failure::Proto(e)),
            },
            State::Auth {
                tag,
                mechanism,
                sasl,
                literals,
                cancelled,
            } => self.on_auth_response(resp, tag, mechanism, sasl, literals, cancelled),
            State::AfterLogin(mut after) => {
                if let Response::Untagged { keyword, text, .. } = &resp {
                    match (keyword.as_str(), after.quota.as_mut(), after.list.as_mut()) {
                        ("QUOTA", Some(q), _) => {
                            if let Some((_, used, limit)) = parse_quota(text)
                                .into_iter()
                                .find(|(name, _, _)| name == "STORAGE")
                            {
                                q.storage =
                                    Some((used.saturating_mul(1024), limit.saturating_mul(1024)));
                            }
                        }
                        ("STATUS", Some(q), _) => q.messages = parse_status_messages(text),
                        (k, _, Some((form, entries)))
                            if k == form.keyword() && entries.len() < folders::MAX_FOLDERS =>
                        {
                            entries.extend(folders::parse_list(text));
                        }
                        _ => {}
                    }
                }
                if let Some(caps) = resp.capabilities() {
                    self.caps = caps;
                }
                match &resp {
                    Response::Tagged { tag, .. } if *tag == after.end => {
                        self.after_login_done(*after)
                    }
                    _ => self.state = State::AfterLogin(after),
                }
            }
            other => self.state = other,
        }
    }

    /// The run ends: LOGOUT (unless the quota pipeline sent it), and what is left for a fresh
    /// connection: with `--all-mechanisms` every planned method not tried yet; otherwise
    /// nothing (after a success, a refusal of the last method, or an unverified answer).
    fn finish_run(&mut self) {
        self.finish(true);
    }

    fn finish(&mut self, logout: bool) {
        let remaining = self.take_remaining();
        if logout {
            self.command("LOGOUT");
        }
        self.state = State::Finished;
        self.out.event(Event::Finished { remaining });
    }

    fn take_remaining(&mut self) -> Vec<Mechanism> {
        match self.login.take() {
            Some(run) if run.req.all => run.req.mechanisms[run.next..].to_vec(),
            _ => Vec::new(),
        }
    }

    fn logout(&mut self) {
        self.command("LOGOUT");
        self.state = State::Finished;
        self.out.event(Event::Finished {
            remaining: Vec::new(),
        });
    }
}

impl ClientMachine for Client {
    fn feed(&mut self, data: &[u8]) {
        self.reader.push(data);
        self.pump();
    }

    fn interrupted(&mut self, why: Interruption) {
        let waiting_for = self.waiting().words();
        match self.state {
            State::Finished => {}
            State::Auth { .. } => {
                self.end_attempt(Outcome::Unverified(why.words(waiting_for)));
            }
            // The quota and folders are extra: without them the run still stands (the
            // connection is not handed over: its state is unknown).
            State::AfterLogin(_) => self.finish(false),
            _ => {
                let greeting = matches!(self.state, State::Greeting);
                self.fail(Failure::Interrupted {
                    why,
                    waiting_for,
                    greeting,
                });
            }
        }
    }

    fn poll_transmit(&mut self) -> Option<Transmit> {
        self.out.transmits.pop_front()
    }

    fn poll_event(&mut self) -> Option<Event> {
        self.out.events.pop_front()
    }

    fn tls_established(&mut self) {
        // Everything learned before TLS is discarded.
        self.tls = true;
        self.reader.clear();
        self.parser = ResponseParser::new();
        self.caps.clear();
        if self.setup.check_injection {
            self.state = State::InjectionWindow;
        } else {
            self.read_capabilities_again();
        }
    }

    fn injection_window_closed(&mut self) {
        if matches!(self.state, State::InjectionWindow) {
            self.out
                .event(Event::Injection(InjectionVerdict::NotVulnerable));
            self.read_capabilities_again();
        }
    }

    fn login(&mut self, req: LoginRequest) {
        if !matches!(self.state, State::Ready) {
            return;
        }
        if !req.may_send(self.setup.security, self.tls) {
            self.out
                .event(Event::LoginImpossible(LoginImpossible::PlaintextNotAllowed));
            return self.logout();
        }
        let disabled = login_disabled(&self.caps);
        if disabled && !self.tls {
            self.out.event(Event::LoginImpossible(
                LoginImpossible::LoginDisabledWithoutTls,
            ));
            return self.logout();
        }
        let sasl = auth_mechanisms(&self.caps);
        let offered = offered_mechanisms(Protocol::Imap, &self.caps, &sasl, false);
        let mechanisms: Vec<Mechanism> = req
            .mechanisms
            .iter()
            .copied()
            .filter(|m| offered.contains(m))
            .collect();
        if mechanisms.is_empty() {
            self.out.event(Event::LoginImpossible(if disabled {
                LoginImpossible::LoginDisabled { offered: sasl }
            } else {
                LoginImpossible::NoUsableMechanism { offered: sasl }
            }));
            return self.logout();
        }
        self.login = Some(Run {
            req: LoginRequest { mechanisms, ..req },
            next: 0,
            logged_in: false,
        });
        self.next_attempt();
    }

    fn close(&mut self) {
        if matches!(self.state, State::Ready) {
            self.logout();
        }
    }

    fn waiting(&self) -> Wait {
        match &self.state {
            State::Greeting => Wait::Greeting,
            State::Capability { .. } => Wait::Reply("the CAPABILITY reply"),
            State::StartTls { .. } => Wait::Reply("the STARTTLS reply"),
            State::Auth { .. } => Wait::Reply("the login reply"),
            State::AfterLogin(_) => Wait::Reply("the quota and folder replies"),
            State::InjectionWindow => Wait::InjectionWindow,
            State::AwaitTls | State::Ready | State::Finished => Wait::Nothing,
        }
    }

    fn buffered(&self) -> usize {
        self.reader.buffered()
    }

    fn take_buffered(&mut self) -> Vec<u8> {
        self.reader.take_buffered()
    }

    fn protocol(&self) -> Protocol {
        Protocol::Imap
    }
}

impl Client {
    /// Inside TLS (or plain): CAPABILITY again.
    fn read_capabilities_again(&mut self) {
        self.out.step(Step::Capabilities);
        let tag = self.command("CAPABILITY");
        self.state = State::Capability {
            tag,
            found: None,
            starttls: None,
        };
    }
}

/// A response as the report shows it (the greeting).
fn describe(resp: &Response) -> String {
    match resp {
        Response::Untagged {
            keyword,
            code,
            text,
            ..
        } => match code {
            Some(c) => format!("{keyword} [{c}] {text}"),
            None => format!("{keyword} {text}"),
        },
        Response::Tagged {
            tag, status, text, ..
        } => format!("{tag} {} {text}", status.as_str()),
        Response::Continuation { text } => format!("+ {text}"),
    }
}

/// Upper-cased atoms of a capability text (for tests).
#[cfg(test)]
fn caps(s: &str) -> Vec<String> {
    super::split_capabilities(s)
}

#[cfg(test)]
#[path = "client_tests.rs"]
mod tests;
