//! The POP3 client state machine (RFC 1939, CAPA RFC 2449, STLS RFC 2595, AUTH RFC 5034):
//! greeting, CAPA, STLS, login (USER/PASS, APOP, AUTH with any SASL mechanism), STAT — sans-I/O.
//!
//! Replies are matched to commands in order (a queue of what is expected), which is what
//! makes pipelining safe where the server advertises `PIPELINING`: USER and PASS together, and
//! a login that completes in one command (PLAIN with its initial response, USER/PASS, APOP)
//! together with STAT. Never across STLS: nothing follows it but `--check-injection`'s NOOP.

use std::collections::VecDeque;

use zeroize::Zeroizing;

use super::{
    auth_mechanisms, capabilities, check_greeting, check_stls_reply, command, next_reply,
    parse_stat, starttls_offered, MultiLine, Reply,
};
use crate::model::{Mechanism, Protocol, Security};
use crate::proto::client::{
    Capabilities, ClientMachine, Event, Failure, InjectionVerdict, Interruption, LoginImpossible,
    LoginRequest, Outbox, Outcome, QuotaFacts, Setup, Step, Transmit, Wait,
};
use crate::proto::sasl::{self, SaslClient};
use crate::proto::{offered_mechanisms, refusal, LineReader, StartTlsRefusal, MAX_LINE};

mod login;

/// The POP3 client.
pub struct Client {
    setup: Setup,
    tls: bool,
    reader: LineReader,
    out: Outbox,
    /// What the next replies answer, in order.
    expect: VecDeque<Expect>,
    /// A multi-line body being collected (CAPA).
    body: Option<MultiLine>,
    /// The CAPA lines of the connection a login uses.
    capa: Vec<String>,
    /// The greeting's APOP timestamp, while it may be used (never after STLS).
    apop_timestamp: Option<String>,
    phase: Phase,
    login: Option<Run>,
}

struct Run {
    req: LoginRequest,
    next: usize,
    logged_in: bool,
    /// The running attempt.
    current: Option<Mechanism>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Greeting,
    Talking,
    AwaitTls,
    InjectionWindow,
    Ready,
    Finished,
}

/// One reply we wait for.
enum Expect {
    Greeting,
    /// CAPA's status line, then its body; `before_tls`: a STARTTLS endpoint's first CAPA.
    Capa {
        before_tls: bool,
    },
    Stls,
    User,
    Pass,
    Apop,
    /// An AUTH exchange in progress.
    Auth(Box<SaslClient>),
    Stat,
    /// A pipelined command whose reply no longer matters (after a failed login).
    Ignore,
}

impl Client {
    pub fn new(setup: Setup) -> Self {
        let mut out = Outbox::default();
        out.step(Step::Greeting);
        Client {
            tls: setup.security == Security::Tls,
            setup,
            reader: LineReader::new(MAX_LINE),
            out,
            expect: VecDeque::from([Expect::Greeting]),
            body: None,
            capa: Vec::new(),
            apop_timestamp: None,
            phase: Phase::Greeting,
            login: None,
        }
    }

    fn fail(&mut self, f: Failure) {
        self.phase = Phase::Finished;
        self.expect.clear();
        self.out.event(Event::Failed(f));
    }

    fn send(&mut self, cmd: &str, then: Expect) {
        self.out.send(Transmit::plain(command(cmd)));
        self.expect.push_back(then);
    }

    fn pump(&mut self) {
        loop {
            match self.phase {
                Phase::Finished | Phase::Ready => return,
                Phase::AwaitTls => {
                    // Bytes after the positive STARTTLS reply, before the handshake.
                    if let Some(f) = crate::proto::client::bytes_before_tls(&self.reader) {
                        self.fail(f);
                    }
                    return;
                }
                Phase::InjectionWindow => {
                    if let Some(f) = crate::proto::client::injection_reply(&mut self.reader, "NOOP")
                    {
                        self.fail(f);
                    }
                    return;
                }
                Phase::Greeting | Phase::Talking => {}
            }
            if let Some(body) = &mut self.body {
                match body.next(&mut self.reader) {
                    Ok(Some(lines)) => {
                        self.body = None;
                        self.on_capa(lines);
                        continue;
                    }
                    Ok(None) => return,
                    Err(e) => return self.proto_error(e),
                }
            }
            let reply = match next_reply(&mut self.reader) {
                Ok(Some(r)) => r,
                Ok(None) => return,
                Err(e) => return self.proto_error(e),
            };
            let Some(expect) = self.expect.pop_front() else {
                return self.fail(Failure::Proto(crate::proto::ProtoError::Malformed(
                    "a reply to no command".into(),
                )));
            };
            self.on_reply(expect, reply);
        }
    }

    fn proto_error(&mut self, e: crate::proto::ProtoError) {
        if self.in_login() {
            self.end_attempt(Outcome::Unverified(e.to_string()));
        } else {
            self.fail(Failure::Proto(e));
        }
    }

    fn in_login(&self) -> bool {
        self.login.as_ref().is_some_and(|r| r.current.is_some())
    }

    fn on_reply(&mut self, expect: Expect, reply: Reply) {
        match expect {
            Expect::Greeting => match check_greeting(&reply) {
                Ok(g) => {
                    self.out.event(Event::Greeting(format!("+OK {}", g.text)));
                    // APOP's timestamp from a plaintext greeting is usable only where no TLS
                    // comes later (after STLS it is discarded with the rest).
                    self.apop_timestamp = g.apop_timestamp;
                    self.phase = Phase::Talking;
                    self.out.step(Step::Capabilities);
                    let before_tls = self.setup.security == Security::StartTls && !self.tls;
                    self.send("CAPA", Expect::Capa { before_tls });
                }
                Err(_) if matches!(reply, Reply::Err(_)) => {
                    let Reply::Err(t) = reply else { return };
                    self.fail(Failure::ServerRefused(format!("-ERR {t}")))
                }
                Err(e) => self.fail(Failure::NotAGreeting(e.to_string())),
            },
            Expect::Capa { before_tls } => match reply {
                Reply::Ok(_) => {
                    self.body = Some(MultiLine::new());
                    // The body belongs to this CAPA: remember which one.
                    self.expect.push_front(Expect::Capa { before_tls });
                }
                // No CAPA support: an RFC 1939 server, no capabilities to show.
                Reply::Err(_) => {
                    self.expect.push_front(Expect::Capa { before_tls });
                    self.on_capa(Vec::new());
                }
                Reply::Continuation(t) => self.fail(Failure::Proto(
                    crate::proto::ProtoError::Malformed(format!("unexpected '+ {t}' to CAPA")),
                )),
            },
            Expect::Stls => match check_stls_reply(&reply) {
                Ok(()) if self.reader.buffered() > 0 => {
                    let buffered = self.reader.buffered();
                    self.fail(Failure::StartTls(StartTlsRefusal::Injection { buffered }))
                }
                Ok(()) => {
                    self.phase = Phase::AwaitTls;
                    self.out.event(Event::NeedTls);
                }
                Err(r) => self.fail(Failure::StartTls(r)),
            },
            Expect::User => match reply {
                Reply::Ok(_) => {
                    // PASS follows now unless it was pipelined already.
                    if !matches!(self.expect.front(), Some(Expect::Pass)) {
                        self.send_pass();
                    }
                }
                Reply::Err(t) => {
                    self.ignore_pipelined();
                    self.end_attempt(Outcome::Refused(refusal::pop3(&t)))
                }
                Reply::Continuation(t) => {
                    self.end_attempt(Outcome::Unverified(format!("unexpected '+ {t}'")))
                }
            },
            Expect::Pass | Expect::Apop => self.judge(reply, None),
            Expect::Auth(mut client) => match reply {
                Reply::Continuation(text) => {
                    match sasl::decode_challenge(&text).and_then(|c| client.step(&c)) {
                        Ok(r) => {
                            let line =
                                Zeroizing::new(format!("{}\r\n", &*sasl::encode_response(&r)));
                            self.out.send(Transmit::secret(
                                Zeroizing::new(line.as_bytes().to_vec()),
                                "<redacted SASL response>",
                            ));
                            self.expect.push_front(Expect::Auth(client));
                        }
                        Err(e) => {
                            self.out.send(Transmit::plain(command("*")));
                            self.ignore_pipelined();
                            self.expect.push_front(Expect::Ignore);
                            self.end_attempt(Outcome::Unverified(e.to_string()));
                        }
                    }
                }
                other => self.judge(other, Some(&client)),
            },
            Expect::Stat => {
                let facts = match reply {
                    Reply::Ok(t) => parse_stat(&t).map(|(messages, octets)| QuotaFacts {
                        storage: None,
                        messages: Some(messages),
                        octets: Some(octets),
                    }),
                    _ => None,
                };
                if let Some(f) = facts {
                    self.out.event(Event::Quota(f));
                }
                self.finish_run();
            }
            Expect::Ignore => {}
        }
    }

    /// Replies of commands pipelined after a failed login no longer matter.
    fn ignore_pipelined(&mut self) {
        for e in self.expect.iter_mut() {
            *e = Expect::Ignore;
        }
    }

    fn on_capa(&mut self, lines: Vec<String>) {
        let Some(Expect::Capa { before_tls }) = self.expect.pop_front() else {
            return;
        };
        let caps = capabilities(&lines);
        if before_tls {
            self.out.event(Event::CapabilitiesBeforeTls(caps.clone()));
            if let Err(r) = starttls_offered(&caps) {
                return self.fail(Failure::StartTls(r));
            }
            self.out.step(Step::StartTls);
            let mut bytes = command("STLS");
            if self.setup.check_injection {
                bytes.extend(command("NOOP"));
            }
            self.out.send(Transmit::plain(bytes));
            self.expect.push_back(Expect::Stls);
            return;
        }
        let sasl = auth_mechanisms(&lines);
        let offered =
            offered_mechanisms(Protocol::Pop3, &caps, &sasl, self.apop_timestamp.is_some());
        self.out.event(Event::Capabilities(Capabilities {
            list: caps,
            sasl,
            offered,
            login_disabled: false,
        }));
        self.capa = lines;
        self.phase = Phase::Ready;
        self.out.event(Event::Ready);
    }

    fn pipelining(&self) -> bool {
        capabilities(&self.capa).iter().any(|c| c == "PIPELINING")
    }

    fn finish_run(&mut self) {
        let (remaining, keep) = match self.login.take() {
            Some(run) => (
                if run.req.all {
                    run.req.mechanisms[run.next..].to_vec()
                } else {
                    Vec::new()
                },
                run.logged_in && run.req.keep,
            ),
            None => (Vec::new(), false),
        };
        if keep {
            // No QUIT: the logged-in session is handed over.
            self.expect.clear();
            self.phase = Phase::Finished;
            self.out.event(Event::Kept {
                capabilities: self.capa.clone(),
            });
            self.out.event(Event::Finished { remaining });
        } else {
            self.quit(remaining);
        }
    }

    /// QUIT (its answer is not awaited) and finish.
    fn quit(&mut self, remaining: Vec<Mechanism>) {
        self.out.send(Transmit::plain(command("QUIT")));
        self.expect.clear();
        self.phase = Phase::Finished;
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
        if self.phase == Phase::Finished {
            return;
        }
        if self.in_login() {
            self.ignore_pipelined();
            self.end_attempt(Outcome::Unverified(why.words(waiting_for)));
            self.phase = Phase::Finished;
        } else if matches!(self.expect.front(), Some(Expect::Stat)) {
            // The quota is extra: without it the run still stands (the session is not
            // handed over: an answer may still be on its way).
            if let Some(run) = &mut self.login {
                run.req.keep = false;
            }
            self.finish_run();
        } else {
            let greeting = self.phase == Phase::Greeting;
            self.fail(Failure::Interrupted {
                why,
                waiting_for,
                greeting,
            });
        }
    }

    fn poll_transmit(&mut self) -> Option<Transmit> {
        self.out.transmits.pop_front()
    }

    fn poll_event(&mut self) -> Option<Event> {
        self.out.events.pop_front()
    }

    fn tls_established(&mut self) {
        // Everything learned before TLS is discarded: the capabilities are read again, and
        // the APOP timestamp (from the plaintext greeting, so attacker-controlled) is dropped.
        self.tls = true;
        self.reader.clear();
        self.expect.clear();
        self.body = None;
        self.capa.clear();
        self.apop_timestamp = None;
        if self.setup.check_injection {
            self.phase = Phase::InjectionWindow;
        } else {
            self.capa_again();
        }
    }

    fn injection_window_closed(&mut self) {
        if self.phase == Phase::InjectionWindow {
            self.out
                .event(Event::Injection(InjectionVerdict::NotVulnerable));
            self.capa_again();
        }
    }

    fn login(&mut self, req: LoginRequest) {
        if self.phase != Phase::Ready {
            return;
        }
        if !req.may_send(self.setup.security, self.tls) {
            self.out
                .event(Event::LoginImpossible(LoginImpossible::PlaintextNotAllowed));
            return self.quit(Vec::new());
        }
        let caps = capabilities(&self.capa);
        let sasl = auth_mechanisms(&self.capa);
        let offered =
            offered_mechanisms(Protocol::Pop3, &caps, &sasl, self.apop_timestamp.is_some());
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
            logged_in: false,
            current: None,
        });
        self.next_attempt();
    }

    fn close(&mut self) {
        if self.phase == Phase::Ready {
            self.quit(Vec::new());
        }
    }

    fn waiting(&self) -> Wait {
        match (self.phase, self.expect.front()) {
            (Phase::Greeting, _) => Wait::Greeting,
            (Phase::InjectionWindow, _) => Wait::InjectionWindow,
            (Phase::Talking, Some(Expect::Capa { .. })) => Wait::Reply("the CAPA reply"),
            (Phase::Talking, Some(Expect::Stls)) => Wait::Reply("the STLS reply"),
            (Phase::Talking, Some(Expect::Stat)) => Wait::Reply("the STAT reply"),
            (Phase::Talking, Some(_)) => Wait::Reply("the login reply"),
            _ => Wait::Nothing,
        }
    }

    fn buffered(&self) -> usize {
        self.reader.buffered()
    }

    fn take_buffered(&mut self) -> Vec<u8> {
        self.reader.take_buffered()
    }

    fn protocol(&self) -> Protocol {
        Protocol::Pop3
    }
}

impl Client {
    fn capa_again(&mut self) {
        self.phase = Phase::Talking;
        self.out.step(Step::Capabilities);
        self.send("CAPA", Expect::Capa { before_tls: false });
    }
}

#[cfg(test)]
#[path = "client_tests.rs"]
mod tests;
