//! The IMAP machine's login attempts: LOGIN (quoted, or as literals) or AUTHENTICATE with any
//! SASL mechanism (with its initial response where SASL-IR allows), one attempt after another
//! while the server refuses clearly.

use zeroize::Zeroizing;

use super::{Client, State};
use crate::model::Mechanism;
use crate::proto::client::{Attempt, Event, Outcome, Step, Transmit};
use crate::proto::imap::{
    self, expect_completion, literal_plus, quoted, quoted_secret, sasl_ir, Response, Status,
};
use crate::proto::refusal;
use crate::proto::sasl::{self, SaslClient};

impl Client {
    /// Starts the next planned attempt, or finishes.
    pub(super) fn next_attempt(&mut self) {
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
    pub(super) fn on_auth_response(
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
            Ok(imap::Step::Data) => {
                self.state = State::Auth {
                    tag,
                    mechanism,
                    sasl,
                    literals,
                    cancelled,
                }
            }
            Ok(imap::Step::Done { status, code, text }) => {
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
    pub(super) fn end_attempt(&mut self, outcome: Outcome) {
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
