//! The IMAP client state machine (RFC 3501, RFC 9051): greeting, capabilities, STARTTLS,
//! login (LOGIN or AUTHENTICATE with any SASL mechanism), quota, logout — sans-I/O.
//!
//! Round trips, as few as the protocol allows: on implicit TLS the greeting's `[CAPABILITY]`
//! is used (no CAPABILITY command); on a STARTTLS endpoint CAPABILITY and STARTTLS go out
//! together (STARTTLS last: nothing is ever pipelined after it), and the capabilities are read
//! again inside TLS (never the pre-TLS ones); PLAIN goes with its initial response (SASL-IR);
//! after the login the tagged OK's `[CAPABILITY]` is used, and GETQUOTAROOT, STATUS and LOGOUT
//! go out together.

use zeroize::Zeroizing;

use super::{
    auth_mechanisms, check_greeting, check_starttls_reply, expect_completion, has_quota,
    literal_plus, login_disabled, parse_quota, parse_status_messages, quoted, quoted_secret,
    sasl_ir, starttls_offered, Greeting, GreetingError, Response, ResponseParser, Status, Tags,
};
use crate::model::{Mechanism, Protocol, Security};
use crate::proto::client::{
    Attempt, Capabilities, ClientMachine, Event, Failure, InjectionVerdict, Interruption,
    LoginImpossible, LoginRequest, Outbox, Outcome, QuotaFacts, Setup, Step, Transmit, Wait,
};
use crate::proto::folders::{self, ListEntry, ListForm};
use crate::proto::sasl::{self, SaslClient};
use crate::proto::{offered_mechanisms, refusal, LineReader, StartTlsRefusal, MAX_LINE};

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
                if self.reader.buffered() > 0 {
                    // Bytes after the positive STARTTLS reply, before the handshake.
                    let buffered = self.reader.buffered();
                    self.fail(Failure::StartTls(StartTlsRefusal::Injection { buffered }));
                }
                return;
            }
            if matches!(self.state, State::InjectionWindow) {
                if self.reader.buffered() > 0 {
                    let reply = self
                        .reader
                        .next_line()
                        .ok()
                        .flatten()
                        .map(|l| crate::proto::text(&l))
                        .unwrap_or_default();
                    self.fail(Failure::InjectionExecuted {
                        pipelined: "NOOP",
                        reply,
                    });
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

    fn on_greeting(&mut self, resp: Response) {
        match check_greeting(&resp, self.tls) {
            Err(GreetingError::Bye(t)) => return self.fail(Failure::ServerRefused(t)),
            Err(GreetingError::PreAuthBeforeTls(t)) => {
                return self.fail(Failure::StartTls(StartTlsRefusal::PreAuth(t)))
            }
            Err(GreetingError::Unexpected(t)) => return self.fail(Failure::NotAGreeting(t)),
            Ok(_) => {}
        }
        self.out.event(Event::Greeting(describe(&resp)));
        let greeting_caps = match check_greeting(&resp, self.tls) {
            Ok(Greeting::Ok { capabilities }) => capabilities,
            _ => None,
        };
        self.out.step(Step::Capabilities);
        match (self.setup.security, greeting_caps) {
            // Implicit TLS: the greeting's capabilities are the connection's (no CAPABILITY).
            (Security::Tls, Some(caps)) => self.on_capabilities(caps, None),
            (Security::StartTls, _) if !self.tls => {
                // CAPABILITY and STARTTLS together, STARTTLS last (and --check-injection's
                // NOOP in the same write, as an attacker would).
                let cap = self.tags.next_tag();
                let st = self.tags.next_tag();
                let mut bytes = super::command(&cap, "CAPABILITY");
                bytes.extend(super::command(&st, "STARTTLS"));
                let noop = self.setup.check_injection.then(|| {
                    let t = self.tags.next_tag();
                    bytes.extend(super::command(&t, "NOOP"));
                    t
                });
                self.out.send(Transmit::plain(bytes));
                self.state = State::Capability {
                    tag: cap,
                    found: None,
                    starttls: Some((st, noop)),
                };
            }
            _ => {
                let tag = self.command("CAPABILITY");
                self.state = State::Capability {
                    tag,
                    found: None,
                    starttls: None,
                };
            }
        }
    }

    fn on_capabilities(&mut self, caps: Vec<String>, starttls: Option<(String, Option<String>)>) {
        match starttls {
            Some((tag, _noop)) => {
                self.out.event(Event::CapabilitiesBeforeTls(caps.clone()));
                if let Err(r) = starttls_offered(&caps) {
                    return self.fail(Failure::StartTls(r));
                }
                self.out.step(Step::StartTls);
                self.state = State::StartTls { tag };
            }
            None => {
                let sasl = auth_mechanisms(&caps);
                let offered = offered_mechanisms(Protocol::Imap, &caps, &sasl, false);
                self.out.event(Event::Capabilities(Capabilities {
                    login_disabled: login_disabled(&caps),
                    list: caps.clone(),
                    sasl,
                    offered,
                }));
                self.caps = caps;
                self.state = State::Ready;
                self.out.event(Event::Ready);
            }
        }
    }

    /// Starts the next planned attempt, or finishes.
    fn next_attempt(&mut self) {
        let Some(run) = &mut self.login else {
            return self.logout();
        };
        if run.logged_in || run.next >= run.req.mechanisms.len() {
            return self.finish_run();
        }
        let mechanism = run.req.mechanisms[run.next];
        run.next += 1;
        let tag = self.tags.next_tag();
        self.out.step(Step::Login);
        let (user, secret) = (run.req.username.clone(), run.req.secret.clone());
        let (host, port) = (run.req.host.clone(), run.req.port);
        match mechanism {
            Mechanism::LoginCommand => {
                let shown_user = quoted(&user).unwrap_or_else(|| "{literal}".into());
                match (quoted(&user), quoted_secret(secret.expose())) {
                    (Some(u), Some(p)) => {
                        let line = Zeroizing::new(format!("{tag} LOGIN {u} {}\r\n", &*p));
                        self.out.send(Transmit::secret(
                            Zeroizing::new(line.as_bytes().to_vec()),
                            format!("{tag} LOGIN {shown_user} <redacted>"),
                        ));
                        self.state = State::Auth {
                            tag,
                            mechanism,
                            sasl: None,
                            literals: Vec::new(),
                            cancelled: None,
                        };
                    }
                    _ => {
                        let mut parts =
                            login_literals(&tag, &user, secret.expose(), literal_plus(&self.caps));
                        let first = parts.remove(0);
                        self.out.send(first);
                        if literal_plus(&self.caps) {
                            for p in parts.drain(..) {
                                self.out.send(p);
                            }
                        }
                        self.state = State::Auth {
                            tag,
                            mechanism,
                            sasl: None,
                            literals: parts,
                            cancelled: None,
                        };
                    }
                }
            }
            m => {
                let Some(mech) = sasl::Mechanism::from_model(m) else {
                    // APOP and USER are POP3's: not an IMAP method.
                    self.out.event(Event::Attempt(Attempt {
                        mechanism: m,
                        outcome: Outcome::Unverified("not an IMAP method".into()),
                    }));
                    return self.next_attempt();
                };
                let mut client = SaslClient::new(mech, &user, secret.expose(), &host, port);
                let line = if mech.client_first() && sasl_ir(&self.caps) {
                    let ir = client.initial_response().unwrap_or_default();
                    let enc = sasl::encode_response(&ir);
                    let enc = if enc.is_empty() {
                        "=".to_string()
                    } else {
                        enc.to_string()
                    };
                    Zeroizing::new(format!("{tag} AUTHENTICATE {} {enc}\r\n", mech.name()))
                } else {
                    Zeroizing::new(format!("{tag} AUTHENTICATE {}\r\n", mech.name()))
                };
                self.out.send(Transmit::secret(
                    Zeroizing::new(line.as_bytes().to_vec()),
                    format!("{tag} AUTHENTICATE {} <redacted>", mech.name()),
                ));
                self.state = State::Auth {
                    tag,
                    mechanism,
                    sasl: Some(client),
                    literals: Vec::new(),
                    cancelled: None,
                };
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn on_auth_response(
        &mut self,
        resp: Response,
        tag: String,
        mechanism: Mechanism,
        mut sasl: Option<SaslClient>,
        mut literals: Vec<Transmit>,
        cancelled: Option<String>,
    ) {
        if let Response::Continuation { text } = &resp {
            if cancelled.is_some() {
                return self.end_attempt(Outcome::Unverified(format!(
                    "unexpected continuation request: + {text}"
                )));
            }
            if !literals.is_empty() {
                // A synchronising literal may be sent now.
                self.out.send(literals.remove(0));
                self.state = State::Auth {
                    tag,
                    mechanism,
                    sasl,
                    literals,
                    cancelled,
                };
                return;
            }
            let Some(client) = sasl.as_mut() else {
                return self.end_attempt(Outcome::Unverified(format!(
                    "unexpected continuation request: + {text}"
                )));
            };
            match sasl::decode_challenge(text).and_then(|c| client.step(&c)) {
                Ok(r) => {
                    let line = Zeroizing::new(format!("{}\r\n", &*sasl::encode_response(&r)));
                    self.out.send(Transmit::secret(
                        Zeroizing::new(line.as_bytes().to_vec()),
                        "<redacted SASL response>",
                    ));
                    self.state = State::Auth {
                        tag,
                        mechanism,
                        sasl,
                        literals,
                        cancelled,
                    };
                }
                Err(e) => {
                    // Cancel (RFC 3501 §6.2.2) and wait for the completion.
                    self.out.send(Transmit::plain(b"*\r\n".to_vec()));
                    self.state = State::Auth {
                        tag,
                        mechanism,
                        sasl,
                        literals,
                        cancelled: Some(e.to_string()),
                    };
                }
            }
            return;
        }
        if let Some(caps) = resp.capabilities() {
            if matches!(resp, Response::Tagged { .. }) {
                self.caps = caps;
                self.caps_after_login = true;
                self.auth_caps = None;
            } else {
                self.auth_caps = Some(caps);
            }
        }
        match expect_completion(&resp, &tag) {
            Ok(super::Step::Data) => {
                self.state = State::Auth {
                    tag,
                    mechanism,
                    sasl,
                    literals,
                    cancelled,
                }
            }
            Ok(super::Step::Done { status, code, text }) => {
                let outcome = match (status, cancelled) {
                    (_, Some(why)) => Outcome::Unverified(why),
                    (Status::Ok, None) => match sasl.as_ref().map(|c| c.check_success()) {
                        Some(Err(e)) => Outcome::Unverified(e.to_string()),
                        _ => Outcome::Ok(text),
                    },
                    (Status::No, None) => Outcome::Refused(refusal::imap(code.as_deref(), &text)),
                    (other, None) => Outcome::Unverified(format!("{} {text}", other.as_str())),
                };
                self.state = State::Ready;
                if let (Outcome::Ok(_), Some(caps)) = (&outcome, self.auth_caps.take()) {
                    self.caps = caps;
                    self.caps_after_login = true;
                }
                let next = match &outcome {
                    Outcome::Ok(_) => Self::after_login,
                    // A clear refusal leaves the connection usable for the next method.
                    Outcome::Refused(_) => Self::next_attempt,
                    Outcome::Unverified(_) => Self::finish_run,
                };
                self.out
                    .event(Event::Attempt(Attempt { mechanism, outcome }));
                next(self);
            }
            Err(e) => self.end_attempt(Outcome::Unverified(e.to_string())),
        }
    }

    /// Ends the running attempt with `outcome`: the connection is not usable for more.
    fn end_attempt(&mut self, outcome: Outcome) {
        let mechanism = match &self.state {
            State::Auth { mechanism, .. } => *mechanism,
            _ => self
                .login
                .as_ref()
                .and_then(|r| r.req.mechanisms.get(r.next.saturating_sub(1)).copied())
                .unwrap_or(Mechanism::LoginCommand),
        };
        self.out
            .event(Event::Attempt(Attempt { mechanism, outcome }));
        self.state = State::Ready;
        self.finish_run();
    }

    /// After a success: the capabilities (when the OK carried none and they are needed), the
    /// quota and the folders (when asked for, once), pipelined; then goodbye, or the session
    /// is kept. Commands that depend on the capabilities after login (GETQUOTAROOT needs
    /// QUOTA, the LIST form SPECIAL-USE or XLIST) follow their answer when the OK carried
    /// none: one more round trip, only for servers that don't send them with the OK.
    fn after_login(&mut self) {
        let (quota, list, keep) = match &mut self.login {
            Some(run) => {
                run.logged_in = true;
                (
                    std::mem::take(&mut run.req.quota),
                    std::mem::take(&mut run.req.folders),
                    run.req.keep,
                )
            }
            None => (false, false, false),
        };
        // Servers announce more after login (Dovecot: QUOTA, SPECIAL-USE).
        let caps = !self.caps_after_login && (keep || list || (quota && !has_quota(&self.caps)));
        if !quota && !list && !caps {
            return self.finish_kept(keep);
        }
        self.out.step(Step::Quota);
        let mut after = AfterLogin {
            end: String::new(),
            quota: quota.then(QuotaFacts::default),
            list: None,
            list_pending: list,
            quota_pending: quota,
            keep,
        };
        let mut bytes = Vec::new();
        if caps {
            after.end = self.tags.next_tag();
            bytes.extend(super::command(&after.end, "CAPABILITY"));
        }
        if quota {
            after.end = self.tags.next_tag();
            bytes.extend(super::command(&after.end, "STATUS INBOX (MESSAGES)"));
        }
        if caps {
            self.out.send(Transmit::plain(bytes));
            self.state = State::AfterLogin(Box::new(after));
        } else {
            self.second_stage(after, bytes);
        }
    }

    /// The commands that depend on the capabilities after login, and the goodbye, appended
    /// to `bytes` and sent; finishes at once when nothing is left to wait for.
    fn second_stage(&mut self, mut after: AfterLogin, mut bytes: Vec<u8>) {
        if std::mem::take(&mut after.quota_pending) && has_quota(&self.caps) {
            after.end = self.tags.next_tag();
            bytes.extend(super::command(&after.end, "GETQUOTAROOT INBOX"));
        }
        if std::mem::take(&mut after.list_pending) {
            let form = ListForm::for_capabilities(&self.caps);
            after.end = self.tags.next_tag();
            bytes.extend(super::command(&after.end, form.command()));
            after.list = Some((form, Vec::new()));
        }
        let logout = !after.keep;
        if logout {
            bytes.extend(super::command(&self.tags.next_tag(), "LOGOUT"));
        }
        if !bytes.is_empty() {
            self.out.send(Transmit::plain(bytes));
        }
        if after.end.is_empty() {
            // Nothing to wait for (LOGOUT's answer is not awaited).
            return self.after_login_done(after);
        }
        self.state = State::AfterLogin(Box::new(after));
    }

    /// The post-login pipeline is answered: its facts, then the end (LOGOUT went with it).
    fn after_login_done(&mut self, mut after: AfterLogin) {
        if after.list_pending || after.quota_pending {
            after.end = String::new();
            return self.second_stage(after, Vec::new());
        }
        if let Some(q) = after.quota {
            self.out.event(Event::Quota(q));
        }
        if let Some((form, entries)) = after.list {
            self.out
                .event(Event::Folders(Box::new(folders::choose(&entries, form))));
        }
        if after.keep {
            self.finish_kept(true);
        } else {
            self.finish(false);
        }
    }

    /// After a success: the session is kept (no LOGOUT), or the run ends.
    fn finish_kept(&mut self, keep: bool) {
        if !keep {
            return self.finish_run();
        }
        let remaining = self.take_remaining();
        self.state = State::Finished;
        self.out.event(Event::Kept {
            capabilities: self.caps.clone(),
        });
        self.out.event(Event::Finished { remaining });
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
        let waiting_for = self.waiting_words();
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
    fn waiting_words(&self) -> &'static str {
        match self.waiting() {
            Wait::Greeting => "the greeting",
            Wait::Reply(w) => w,
            Wait::InjectionWindow => "anything",
            Wait::Nothing => "nothing",
        }
    }

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

/// `TAG LOGIN {n}` user `{m}` password as three transmits, for names that can't be quoted
/// (non-ASCII): with LITERAL+ they go out at once, otherwise each after a continuation.
fn login_literals(tag: &str, user: &str, pass: &str, plus: bool) -> Vec<Transmit> {
    let marker = |n: usize| {
        if plus {
            format!("{{{n}+}}")
        } else {
            format!("{{{n}}}")
        }
    };
    let (user, pass) = (user.as_bytes(), pass.as_bytes());
    vec![
        Transmit::plain(format!("{tag} LOGIN {}\r\n", marker(user.len())).into_bytes()),
        Transmit::secret(
            Zeroizing::new([user, format!(" {}\r\n", marker(pass.len())).as_bytes()].concat()),
            "<literal user name>",
        ),
        Transmit::secret(
            Zeroizing::new([pass, b"\r\n"].concat()),
            "<redacted literal>",
        ),
    ]
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
