//! The SMTP submission client state machine (RFC 5321, STARTTLS RFC 3207, AUTH RFC 4954):
//! greeting, EHLO, STARTTLS, AUTH with any SASL mechanism — sans-I/O.
//!
//! AUTH goes with its initial response where the mechanism has one (one round trip for
//! PLAIN); only `235` is success. After the login QUIT goes out and its answer is not awaited.

use zeroize::Zeroizing;

use super::{
    auth_mechanisms, check_greeting, check_starttls_reply, command, ehlo_capabilities,
    ehlo_keywords, starttls_offered, Reply, ReplyParser,
};
use crate::model::{Mechanism, Protocol, Security};
use crate::proto::client::{
    Attempt, Capabilities, ClientMachine, Event, Failure, InjectionVerdict, Interruption,
    LoginImpossible, LoginRequest, Outbox, Outcome, Setup, Step, Transmit, Wait,
};
use crate::proto::sasl::{self, SaslClient};
use crate::proto::{offered_mechanisms, refusal, LineReader, StartTlsRefusal, MAX_LINE};

/// The SMTP client.
pub struct Client {
    setup: Setup,
    tls: bool,
    reader: LineReader,
    parser: ReplyParser,
    out: Outbox,
    state: State,
    /// The EHLO reply of the connection a login uses.
    ehlo: Option<Reply>,
    login: Option<Run>,
}

struct Run {
    req: LoginRequest,
    next: usize,
}

enum State {
    Greeting,
    /// EHLO sent (`before_tls`: a STARTTLS endpoint's plaintext EHLO).
    Ehlo {
        before_tls: bool,
    },
    StartTls,
    AwaitTls,
    InjectionWindow,
    Ready,
    Auth {
        mechanism: Mechanism,
        client: Box<SaslClient>,
        /// A SASL error made us cancel with `*`: the server's answer is awaited.
        cancelled: Option<String>,
    },
    Finished,
}

impl Client {
    pub fn new(setup: Setup) -> Self {
        let mut out = Outbox::default();
        out.step(Step::Greeting);
        Client {
            tls: setup.security == Security::Tls,
            setup,
            reader: LineReader::new(MAX_LINE),
            parser: ReplyParser::new(),
            out,
            state: State::Greeting,
            ehlo: None,
            login: None,
        }
    }

    fn fail(&mut self, f: Failure) {
        self.state = State::Finished;
        self.out.event(Event::Failed(f));
    }

    fn ehlo(&mut self, before_tls: bool) {
        self.out.step(Step::Capabilities);
        self.out.send(Transmit::plain(command(&format!(
            "EHLO {}",
            self.setup.ehlo_name
        ))));
        self.state = State::Ehlo { before_tls };
    }

    fn pump(&mut self) {
        loop {
            match self.state {
                State::Finished | State::Ready => return,
                State::AwaitTls => {
                    // Bytes after the positive STARTTLS reply, before the handshake.
                    if let Some(f) = crate::proto::client::bytes_before_tls(&self.reader) {
                        self.fail(f);
                    }
                    return;
                }
                State::InjectionWindow => {
                    if let Some(f) = crate::proto::client::injection_reply(&mut self.reader, "RSET")
                    {
                        self.fail(f);
                    }
                    return;
                }
                _ => {}
            }
            let reply = match self.parser.next(&mut self.reader) {
                Ok(Some(r)) => r,
                Ok(None) => return,
                Err(e) => {
                    if matches!(self.state, State::Auth { .. }) {
                        return self.end_attempt(Outcome::Unverified(e.to_string()), false);
                    }
                    return self.fail(Failure::Proto(e));
                }
            };
            self.on_reply(reply);
        }
    }

    fn on_reply(&mut self, reply: Reply) {
        match std::mem::replace(&mut self.state, State::Finished) {
            State::Greeting => {
                if check_greeting(&reply).is_err() {
                    let text = format!("{} {}", reply.code, reply.text());
                    return self.fail(if (400..600).contains(&reply.code) {
                        Failure::ServerRefused(text)
                    } else {
                        Failure::NotAGreeting(text)
                    });
                }
                self.out
                    .event(Event::Greeting(format!("{} {}", reply.code, reply.text())));
                let before_tls = self.setup.security == Security::StartTls && !self.tls;
                self.ehlo(before_tls);
            }
            State::Ehlo { before_tls } => {
                if reply.code != 250 {
                    return self.fail(Failure::CommandFailed {
                        command: "EHLO",
                        reply: format!("{} {}", reply.code, reply.text()),
                    });
                }
                if before_tls {
                    self.out
                        .event(Event::CapabilitiesBeforeTls(ehlo_capabilities(&reply)));
                    if let Err(r) = starttls_offered(&ehlo_keywords(&reply)) {
                        return self.fail(Failure::StartTls(r));
                    }
                    self.out.step(Step::StartTls);
                    let mut bytes = command("STARTTLS");
                    if self.setup.check_injection {
                        bytes.extend(command("RSET"));
                    }
                    self.out.send(Transmit::plain(bytes));
                    self.state = State::StartTls;
                    return;
                }
                let sasl = auth_mechanisms(&reply);
                let offered =
                    offered_mechanisms(Protocol::Smtp, &ehlo_keywords(&reply), &sasl, false);
                self.out.event(Event::Capabilities(Capabilities {
                    list: ehlo_capabilities(&reply),
                    sasl,
                    offered,
                    login_disabled: false,
                }));
                self.ehlo = Some(reply);
                self.state = State::Ready;
                self.out.event(Event::Ready);
            }
            // Only 220 to our STARTTLS allows the upgrade (RFC 3207 §4).
            State::StartTls => match check_starttls_reply(&reply) {
                Ok(()) if self.reader.buffered() > 0 => {
                    let buffered = self.reader.buffered();
                    self.fail(Failure::StartTls(StartTlsRefusal::Injection { buffered }))
                }
                Ok(()) => {
                    self.state = State::AwaitTls;
                    self.out.event(Event::NeedTls);
                }
                Err(r) => self.fail(Failure::StartTls(r)),
            },
            State::Auth {
                mechanism,
                mut client,
                cancelled,
            } => match (reply.code, cancelled) {
                (_, Some(why)) => self.end_attempt(Outcome::Unverified(why), true),
                (334, None) => {
                    let challenge = reply.lines.first().cloned().unwrap_or_default();
                    match sasl::decode_challenge(&challenge).and_then(|c| client.step(&c)) {
                        Ok(r) => {
                            let line =
                                Zeroizing::new(format!("{}\r\n", &*sasl::encode_response(&r)));
                            self.out.send(Transmit::secret(
                                Zeroizing::new(line.as_bytes().to_vec()),
                                "<redacted SASL response>",
                            ));
                            self.state = State::Auth {
                                mechanism,
                                client,
                                cancelled: None,
                            };
                        }
                        Err(e) => {
                            // Cancel (RFC 4954 §4) and read the server's answer to it.
                            self.out.send(Transmit::plain(command("*")));
                            self.state = State::Auth {
                                mechanism,
                                client,
                                cancelled: Some(e.to_string()),
                            };
                        }
                    }
                }
                // Only 235 is success, and SCRAM must have proved the server knows the password.
                (235, None) => match client.check_success() {
                    Ok(()) => {
                        self.out.event(Event::Attempt(Attempt {
                            mechanism,
                            outcome: Outcome::Ok(format!("235 {}", reply.text())),
                        }));
                        let keep = self.login.as_ref().is_some_and(|r| r.req.keep);
                        if keep {
                            self.kept();
                        } else {
                            self.finish_run();
                        }
                    }
                    Err(e) => self.end_attempt(Outcome::Unverified(e.to_string()), false),
                },
                (400..=599, None) => self.end_attempt(
                    Outcome::Refused(refusal::smtp(reply.code, &reply.text())),
                    true,
                ),
                (code, None) => self.end_attempt(
                    Outcome::Unverified(format!("{code} {}", reply.text())),
                    false,
                ),
            },
            other => self.state = other,
        }
    }

    fn next_attempt(&mut self) {
        let Some(run) = &mut self.login else {
            return self.quit(Vec::new());
        };
        if run.next >= run.req.mechanisms.len() {
            return self.finish_run();
        }
        let mechanism = run.req.mechanisms[run.next];
        run.next += 1;
        self.out.step(Step::Login);
        let Some(mech) = sasl::Mechanism::from_model(mechanism) else {
            self.out.event(Event::Attempt(Attempt {
                mechanism,
                outcome: Outcome::Unverified("not an SMTP method".into()),
            }));
            return self.next_attempt();
        };
        let mut client = SaslClient::new(
            mech,
            &run.req.username,
            run.req.secret.expose(),
            &run.req.host,
            run.req.port,
        );
        let line = match client.initial_response() {
            Some(ir) => {
                let enc = sasl::encode_response(&ir);
                Zeroizing::new(format!(
                    "AUTH {} {}\r\n",
                    mech.name(),
                    if enc.is_empty() { "=" } else { &enc }
                ))
            }
            None => Zeroizing::new(format!("AUTH {}\r\n", mech.name())),
        };
        self.out.send(Transmit::secret(
            Zeroizing::new(line.as_bytes().to_vec()),
            format!("AUTH {} <redacted>", mech.name()),
        ));
        self.state = State::Auth {
            mechanism,
            client: Box::new(client),
            cancelled: None,
        };
    }

    /// Ends an attempt that failed; after a clear refusal the next method follows on the same
    /// connection.
    fn end_attempt(&mut self, outcome: Outcome, usable: bool) {
        let mechanism = match &self.state {
            State::Auth { mechanism, .. } => *mechanism,
            _ => self
                .login
                .as_ref()
                .and_then(|r| r.req.mechanisms.get(r.next.saturating_sub(1)).copied())
                .unwrap_or(Mechanism::Plain),
        };
        let refused = matches!(outcome, Outcome::Refused(_));
        self.out
            .event(Event::Attempt(Attempt { mechanism, outcome }));
        self.state = State::Ready;
        if usable && refused {
            self.next_attempt();
        } else {
            self.finish_run();
        }
    }

    fn finish_run(&mut self) {
        let remaining = match self.login.take() {
            Some(run) if run.req.all => run.req.mechanisms[run.next..].to_vec(),
            _ => Vec::new(),
        };
        self.quit(remaining);
    }

    /// After a success with [`LoginRequest::keep`]: no QUIT, the session is handed over.
    fn kept(&mut self) {
        let remaining = match self.login.take() {
            Some(run) if run.req.all => run.req.mechanisms[run.next..].to_vec(),
            _ => Vec::new(),
        };
        let capabilities = self
            .ehlo
            .as_ref()
            .map(ehlo_capabilities)
            .unwrap_or_default();
        self.state = State::Finished;
        self.out.event(Event::Kept { capabilities });
        self.out.event(Event::Finished { remaining });
    }

    /// QUIT (its answer is not awaited) and finish.
    fn quit(&mut self, remaining: Vec<Mechanism>) {
        self.out.send(Transmit::plain(command("QUIT")));
        self.state = State::Finished;
        self.out.event(Event::Finished { remaining });
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
                self.end_attempt(Outcome::Unverified(why.words(waiting_for)), false);
            }
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
        // The pre-TLS EHLO is discarded; RFC 3207 §4.2 requires a fresh EHLO.
        self.tls = true;
        self.reader.clear();
        self.parser = ReplyParser::new();
        self.ehlo = None;
        if self.setup.check_injection {
            self.state = State::InjectionWindow;
        } else {
            self.ehlo(false);
        }
    }

    fn injection_window_closed(&mut self) {
        if matches!(self.state, State::InjectionWindow) {
            self.out
                .event(Event::Injection(InjectionVerdict::NotVulnerable));
            self.ehlo(false);
        }
    }

    fn login(&mut self, req: LoginRequest) {
        if !matches!(self.state, State::Ready) {
            return;
        }
        if !req.may_send(self.setup.security, self.tls) {
            self.out
                .event(Event::LoginImpossible(LoginImpossible::PlaintextNotAllowed));
            return self.quit(Vec::new());
        }
        let Some(ehlo) = &self.ehlo else { return };
        let sasl = auth_mechanisms(ehlo);
        let offered = offered_mechanisms(Protocol::Smtp, &ehlo_keywords(ehlo), &sasl, false);
        let mechanisms: Vec<Mechanism> = req
            .mechanisms
            .iter()
            .copied()
            .filter(|m| offered.contains(m))
            .collect();
        if mechanisms.is_empty() {
            self.out
                .event(Event::LoginImpossible(LoginImpossible::NoUsableMechanism {
                    offered: sasl,
                }));
            return self.quit(Vec::new());
        }
        self.login = Some(Run {
            req: LoginRequest { mechanisms, ..req },
            next: 0,
        });
        self.next_attempt();
    }

    fn close(&mut self) {
        if matches!(self.state, State::Ready) {
            self.quit(Vec::new());
        }
    }

    fn waiting(&self) -> Wait {
        match self.state {
            State::Greeting => Wait::Greeting,
            State::Ehlo { .. } => Wait::Reply("the EHLO reply"),
            State::StartTls => Wait::Reply("the STARTTLS reply"),
            State::Auth { .. } => Wait::Reply("the login reply"),
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
        Protocol::Smtp
    }
}

#[cfg(test)]
#[path = "client_tests.rs"]
mod tests;
