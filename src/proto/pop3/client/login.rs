//! The POP3 machine's login attempts: USER/PASS (PASS pipelined where the server allows),
//! APOP, AUTH with any SASL mechanism; what counts as success; STAT pipelined with a login that
//! completes in one command.

use zeroize::Zeroizing;

use super::{Client, Expect, Phase};
use crate::model::Mechanism;
use crate::proto::client::{Attempt, Event, Outcome, Step, Transmit};
use crate::proto::pop3::{command, Reply};
use crate::proto::refusal;
use crate::proto::sasl::{self, SaslClient};

impl Client {
    /// The final reply of a login command: only `+OK` is success (and SCRAM must have proved
    /// the server knows the password).
    pub(super) fn judge(&mut self, reply: Reply, client: Option<&SaslClient>) {
        match reply {
            Reply::Ok(t) => match client.map(|c| c.check_success()) {
                Some(Err(e)) => {
                    self.ignore_pipelined();
                    self.end_attempt(Outcome::Unverified(e.to_string()))
                }
                _ => self.succeeded(t),
            },
            Reply::Err(t) => {
                self.ignore_pipelined();
                self.end_attempt(Outcome::Refused(refusal::pop3(&t)))
            }
            Reply::Continuation(t) => {
                self.ignore_pipelined();
                self.end_attempt(Outcome::Unverified(format!("unexpected '+ {t}'")))
            }
        }
    }

    pub(super) fn next_attempt(&mut self) {
        let Some(run) = &mut self.login else {
            return self.quit(Vec::new());
        };
        if run.logged_in || run.next >= run.req.mechanisms.len() {
            return self.finish_run();
        }
        let mechanism = run.req.mechanisms[run.next];
        run.next += 1;
        run.current = Some(mechanism);
        let user = run.req.username.clone();
        let secret = run.req.secret.clone();
        let (host, port, quota) = (run.req.host.clone(), run.req.port, run.req.quota);
        self.out.step(Step::Login);
        self.phase = Phase::Talking;
        if user.contains(['\r', '\n']) {
            return self.end_attempt(Outcome::Unverified(
                "the user name contains a line break".into(),
            ));
        }
        let pipelining = self.pipelining();
        // A login that completes in one command may carry STAT with it.
        let mut one_shot = false;
        match mechanism {
            Mechanism::User => {
                self.out
                    .send(Transmit::plain(command(&format!("USER {user}"))));
                self.expect.push_back(Expect::User);
                if pipelining {
                    self.send_pass();
                    one_shot = true;
                }
            }
            Mechanism::Apop => {
                let Some(ts) = self.apop_timestamp.clone() else {
                    return self.end_attempt(Outcome::Unverified(
                        "the greeting has no usable APOP timestamp".into(),
                    ));
                };
                let digest = sasl::apop_digest(&ts, secret.expose());
                let line = Zeroizing::new(format!("APOP {user} {}\r\n", &*digest));
                self.out.send(Transmit::secret(
                    Zeroizing::new(line.as_bytes().to_vec()),
                    format!("APOP {user} <redacted>"),
                ));
                self.expect.push_back(Expect::Apop);
                one_shot = true;
            }
            m => {
                let Some(mech) = sasl::Mechanism::from_model(m) else {
                    return self.end_attempt(Outcome::Unverified("not a POP3 method".into()));
                };
                let mut client = SaslClient::new(mech, &user, secret.expose(), &host, port);
                let line = match client.initial_response() {
                    Some(ir) => {
                        let enc = sasl::encode_response(&ir);
                        one_shot = mech == sasl::Mechanism::Plain;
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
                self.expect.push_back(Expect::Auth(Box::new(client)));
            }
        }
        if one_shot && pipelining && quota {
            self.out.step(Step::Quota);
            self.send("STAT", Expect::Stat);
        }
    }

    pub(super) fn send_pass(&mut self) {
        let Some(run) = &self.login else { return };
        let line = Zeroizing::new(format!("PASS {}\r\n", run.req.secret.expose()));
        self.out.send(Transmit::secret(
            Zeroizing::new(line.as_bytes().to_vec()),
            "PASS <redacted>",
        ));
        // After USER's reply (nothing else queued) or pipelined right after USER.
        self.expect.push_back(Expect::Pass);
    }

    pub(super) fn succeeded(&mut self, text: String) {
        let Some(run) = &mut self.login else { return };
        let mechanism = run.current.take().unwrap_or(Mechanism::User);
        run.logged_in = true;
        let quota = std::mem::take(&mut run.req.quota);
        self.out.event(Event::Attempt(Attempt {
            mechanism,
            outcome: Outcome::Ok(text),
        }));
        let stat_pipelined = self.expect.iter().any(|e| matches!(e, Expect::Stat));
        if quota && !stat_pipelined {
            self.out.step(Step::Quota);
            self.send("STAT", Expect::Stat);
        } else if !quota {
            self.expect.retain(|e| !matches!(e, Expect::Stat));
            self.finish_run();
        }
    }

    /// Ends the running attempt with a failure; a refusal leaves the connection usable.
    pub(super) fn end_attempt(&mut self, outcome: Outcome) {
        let mechanism = self
            .login
            .as_mut()
            .and_then(|r| r.current.take())
            .unwrap_or(Mechanism::User);
        let usable = matches!(outcome, Outcome::Refused(_));
        self.out
            .event(Event::Attempt(Attempt { mechanism, outcome }));
        if usable {
            self.next_attempt();
        } else {
            self.finish_run();
        }
    }
}
