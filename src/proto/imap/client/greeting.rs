//! The IMAP machine's opening: the greeting, and the capabilities — from the greeting on implicit
//! TLS, or CAPABILITY (with STARTTLS pipelined after it on a STARTTLS endpoint before TLS).

use super::{describe, Client, State};
use crate::model::{Protocol, Security};
use crate::proto::client::{Capabilities, Event, Failure, Step, Transmit};
use crate::proto::imap::{
    self, auth_mechanisms, check_greeting, login_disabled, starttls_offered, Greeting,
    GreetingError, Response,
};
use crate::proto::{offered_mechanisms, StartTlsRefusal};

impl Client {
    pub(super) fn on_greeting(&mut self, resp: Response) {
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
                let mut bytes = imap::command(&cap, "CAPABILITY");
                bytes.extend(imap::command(&st, "STARTTLS"));
                let noop = self.setup.check_injection.then(|| {
                    let t = self.tags.next_tag();
                    bytes.extend(imap::command(&t, "NOOP"));
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

    pub(super) fn on_capabilities(
        &mut self,
        caps: Vec<String>,
        starttls: Option<(String, Option<String>)>,
    ) {
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
}
