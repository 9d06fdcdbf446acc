//! SASL client mechanisms (sans-I/O): PLAIN, LOGIN, CRAM-MD5, SCRAM-SHA-1/-256, XOAUTH2,
//! OAUTHBEARER; and POP3's APOP digest. Bytes in (decoded challenges), bytes out (responses,
//! which the caller base64-encodes). Responses hold secrets: they are zeroed on drop.

use base64::Engine as _;
use hmac::{Hmac, Mac};
use md5::Digest as _;
use zeroize::Zeroizing;

use crate::model::AuthMethod;

/// Most server challenges we answer in one exchange before giving up (bounds endless `334`/`+`).
pub const MAX_ROUND_TRIPS: usize = 6;

/// A mechanism name as offered by servers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Mechanism {
    ScramSha256,
    ScramSha1,
    CramMd5,
    Plain,
    Login,
    OAuthBearer,
    XOAuth2,
}

impl Mechanism {
    pub const ALL: [Mechanism; 7] = [
        Mechanism::ScramSha256,
        Mechanism::ScramSha1,
        Mechanism::CramMd5,
        Mechanism::Plain,
        Mechanism::Login,
        Mechanism::OAuthBearer,
        Mechanism::XOAuth2,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Mechanism::ScramSha256 => "SCRAM-SHA-256",
            Mechanism::ScramSha1 => "SCRAM-SHA-1",
            Mechanism::CramMd5 => "CRAM-MD5",
            Mechanism::Plain => "PLAIN",
            Mechanism::Login => "LOGIN",
            Mechanism::OAuthBearer => "OAUTHBEARER",
            Mechanism::XOAuth2 => "XOAUTH2",
        }
    }

    pub fn from_name(s: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|m| m.name().eq_ignore_ascii_case(s))
    }

    /// The SASL mechanism behind a login mechanism (none for IMAP LOGIN, POP3 USER and APOP).
    pub fn from_model(m: crate::model::Mechanism) -> Option<Self> {
        use crate::model::Mechanism as M;
        Some(match m {
            M::Plain => Mechanism::Plain,
            M::Login => Mechanism::Login,
            M::CramMd5 => Mechanism::CramMd5,
            M::ScramSha1 => Mechanism::ScramSha1,
            M::ScramSha256 => Mechanism::ScramSha256,
            M::XOAuth2 => Mechanism::XOAuth2,
            M::OAuthBearer => Mechanism::OAuthBearer,
            M::LoginCommand | M::User | M::Apop => return None,
        })
    }

    /// Thunderbird's category of this mechanism.
    pub fn auth_method(self) -> AuthMethod {
        match self {
            Mechanism::ScramSha256 | Mechanism::ScramSha1 | Mechanism::CramMd5 => {
                AuthMethod::PasswordEncrypted
            }
            Mechanism::Plain | Mechanism::Login => AuthMethod::PasswordCleartext,
            Mechanism::OAuthBearer | Mechanism::XOAuth2 => AuthMethod::OAuth2,
        }
    }

    pub fn is_oauth(self) -> bool {
        self.auth_method() == AuthMethod::OAuth2
    }

    /// Whether the client sends a response before any challenge (SASL-IR / AUTH with initial response).
    pub fn client_first(self) -> bool {
        !matches!(self, Mechanism::Login | Mechanism::CramMd5)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SaslError {
    #[error("the server sent {0} challenges; giving up (limit {MAX_ROUND_TRIPS})")]
    TooManyRoundTrips(usize),
    #[error("the server's challenge is not valid for {mech}: {reason}")]
    BadChallenge { mech: &'static str, reason: String },
    #[error("the server could not prove it knows the password (SCRAM server signature mismatch): it may be an impostor")]
    ServerSignatureMismatch,
    #[error("the server finished SCRAM without proving it knows the password")]
    ServerNotVerified,
}

/// Secret bytes for the wire.
pub type Response = Zeroizing<Vec<u8>>;

/// One authentication exchange, as an explicit state machine (no `Option` standing in for a
/// state): every server challenge moves it forward or ends it with an error.
pub struct SaslClient {
    mech: Mechanism,
    user: String,
    secret: Zeroizing<String>,
    /// For OAUTHBEARER's host/port fields.
    host: String,
    port: u16,
    /// Challenges answered so far (bounded by [`MAX_ROUND_TRIPS`]).
    round: usize,
    state: State,
}

/// Where an exchange stands.
enum State {
    /// Nothing sent yet (the initial response, if the mechanism has one, is still to come).
    Start,
    /// PLAIN, XOAUTH2, OAUTHBEARER: the credentials went out; only the result is left.
    Sent,
    /// LOGIN: the user name went out, the password is next.
    LoginUserSent,
    /// CRAM-MD5: the digest went out.
    CramSent,
    /// SCRAM: client-first sent, the server-first (nonce, salt, iterations) is expected.
    ScramClientFirst {
        client_first_bare: String,
        nonce: String,
    },
    /// SCRAM: client-final sent; the server must prove it knows the password.
    ScramClientFinal { server_signature: Vec<u8> },
    /// SCRAM: the server's signature matched.
    ScramVerified,
    /// OAuth: the server sent its error report and got the one dummy answer (RFC 7628 §3.2.3).
    OAuthErrorAnswered,
}

impl SaslClient {
    pub fn new(mech: Mechanism, user: &str, secret: &str, host: &str, port: u16) -> Self {
        SaslClient {
            mech,
            user: user.to_string(),
            secret: Zeroizing::new(secret.to_string()),
            host: host.to_string(),
            port,
            round: 0,
            state: State::Start,
        }
    }

    pub fn mechanism(&self) -> Mechanism {
        self.mech
    }

    /// With a fixed nonce, for tests against RFC vectors.
    pub fn with_nonce(mut self, nonce: &str) -> Self {
        if matches!(self.mech, Mechanism::ScramSha1 | Mechanism::ScramSha256) {
            self.state = State::ScramClientFirst {
                client_first_bare: format!("n={},r={nonce}", saslname(&self.user)),
                nonce: nonce.to_string(),
            };
        }
        self
    }

    /// The initial response, for mechanisms that send one (client-first mechanisms).
    pub fn initial_response(&mut self) -> Option<Response> {
        match self.mech {
            Mechanism::Login | Mechanism::CramMd5 => None,
            Mechanism::Plain | Mechanism::XOAuth2 | Mechanism::OAuthBearer => {
                self.state = State::Sent;
                Some(self.credentials_message())
            }
            Mechanism::ScramSha1 | Mechanism::ScramSha256 => {
                let (bare, nonce) = match std::mem::replace(&mut self.state, State::Start) {
                    State::ScramClientFirst {
                        client_first_bare,
                        nonce,
                    } => (client_first_bare, nonce),
                    _ => {
                        let nonce = random_nonce();
                        (format!("n={},r={nonce}", saslname(&self.user)), nonce)
                    }
                };
                let message = format!("n,,{bare}").into_bytes();
                self.state = State::ScramClientFirst {
                    client_first_bare: bare,
                    nonce,
                };
                Some(Zeroizing::new(message))
            }
        }
    }

    /// PLAIN's, XOAUTH2's and OAUTHBEARER's one message.
    fn credentials_message(&self) -> Response {
        Zeroizing::new(match self.mech {
            Mechanism::XOAuth2 => format!(
                "user={}\x01auth=Bearer {}\x01\x01",
                self.user, &*self.secret
            )
            .into_bytes(),
            Mechanism::OAuthBearer => format!(
                "n,a={},\x01host={}\x01port={}\x01auth=Bearer {}\x01\x01",
                saslname(&self.user),
                self.host,
                self.port,
                &*self.secret
            )
            .into_bytes(),
            _ => {
                let mut v = Vec::with_capacity(self.user.len() + self.secret.len() + 2);
                v.push(0);
                v.extend_from_slice(self.user.as_bytes());
                v.push(0);
                v.extend_from_slice(self.secret.as_bytes());
                v
            }
        })
    }

    fn bad(&self, reason: &str) -> SaslError {
        SaslError::BadChallenge {
            mech: self.mech.name(),
            reason: reason.to_string(),
        }
    }

    /// Answers one decoded server challenge.
    pub fn step(&mut self, challenge: &[u8]) -> Result<Response, SaslError> {
        self.round += 1;
        if self.round > MAX_ROUND_TRIPS {
            return Err(SaslError::TooManyRoundTrips(self.round));
        }
        match (std::mem::replace(&mut self.state, State::Start), self.mech) {
            // A server that sends an empty challenge first wants the initial response now.
            (State::Start, Mechanism::Plain | Mechanism::XOAuth2 | Mechanism::OAuthBearer)
                if challenge.is_empty() =>
            {
                self.state = State::Sent;
                Ok(self.credentials_message())
            }
            (State::Start, Mechanism::ScramSha1 | Mechanism::ScramSha256)
                if challenge.is_empty() =>
            {
                self.initial_response()
                    .ok_or_else(|| self.bad("no client-first"))
            }
            (State::Start, Mechanism::Login) => {
                self.state = State::LoginUserSent;
                Ok(Zeroizing::new(self.user.as_bytes().to_vec()))
            }
            (State::LoginUserSent, Mechanism::Login) => {
                self.state = State::Sent;
                Ok(Zeroizing::new(self.secret.as_bytes().to_vec()))
            }
            (State::Start, Mechanism::CramMd5) if !challenge.is_empty() => {
                let digest = hmac_md5_hex(self.secret.as_bytes(), challenge);
                self.state = State::CramSent;
                Ok(Zeroizing::new(
                    format!("{} {}", self.user, &*digest).into_bytes(),
                ))
            }
            // An OAuth error report (JSON); RFC 7628 §3.2.3: answer once with a dummy to get
            // the failure.
            (State::Sent, Mechanism::XOAuth2 | Mechanism::OAuthBearer) => {
                self.state = State::OAuthErrorAnswered;
                Ok(Zeroizing::new(match self.mech {
                    Mechanism::OAuthBearer => vec![1],
                    _ => vec![],
                }))
            }
            (
                State::ScramClientFirst {
                    client_first_bare,
                    nonce,
                },
                Mechanism::ScramSha1 | Mechanism::ScramSha256,
            ) => self.scram_server_first(challenge, &client_first_bare, &nonce),
            (State::ScramClientFinal { server_signature }, _) => {
                self.scram_server_final(challenge, &server_signature)?;
                self.state = State::ScramVerified;
                Ok(Zeroizing::new(Vec::new()))
            }
            (State::OAuthErrorAnswered, _) => {
                Err(self.bad("the server repeated its OAuth error challenge"))
            }
            (State::Start, Mechanism::CramMd5) => {
                Err(self.bad("CRAM-MD5 takes exactly one non-empty challenge"))
            }
            (State::Sent | State::LoginUserSent, _) | (State::CramSent, _) => {
                Err(self
                    .bad("the server sent another challenge after the mechanism's last message"))
            }
            (State::ScramVerified, _) => {
                Err(self.bad("a challenge after the server's final message"))
            }
            (State::Start | State::ScramClientFirst { .. }, _) => {
                Err(self.bad("a challenge this mechanism does not take"))
            }
        }
    }

    /// SCRAM server-first → client-final with the proof (RFC 5802 §5).
    fn scram_server_first(
        &mut self,
        challenge: &[u8],
        client_first_bare: &str,
        nonce: &str,
    ) -> Result<Response, SaslError> {
        let text = std::str::from_utf8(challenge).map_err(|_| self.bad("not UTF-8"))?;
        if text.starts_with("m=") {
            return Err(self.bad("mandatory extension not supported"));
        }
        let server_nonce = attr(text, 'r').ok_or_else(|| self.bad("no nonce"))?;
        if !server_nonce.starts_with(nonce) || server_nonce.len() == nonce.len() {
            return Err(self.bad("the server nonce does not extend ours"));
        }
        let salt = base64::engine::general_purpose::STANDARD
            .decode(attr(text, 's').ok_or_else(|| self.bad("no salt"))?)
            .map_err(|_| self.bad("salt is not base64"))?;
        let iterations = attr(text, 'i')
            .and_then(|i| i.parse::<u32>().ok())
            .ok_or_else(|| self.bad("no iteration count"))?;
        // Bound the work a hostile server can make us do.
        let iterations = std::num::NonZeroU32::new(iterations)
            .filter(|i| i.get() <= 1_000_000)
            .ok_or_else(|| self.bad("iteration count out of range"))?;
        let without_proof = format!("c=biws,r={server_nonce}");
        let auth_message = format!("{client_first_bare},{text},{without_proof}");
        let (proof, server_signature) =
            scram_proof(self.mech, &self.secret, &salt, iterations, &auth_message);
        self.state = State::ScramClientFinal { server_signature };
        let proof = base64::engine::general_purpose::STANDARD.encode(proof);
        Ok(Zeroizing::new(
            format!("{without_proof},p={proof}").into_bytes(),
        ))
    }

    /// SCRAM server-final: `v=signature` must match (or `e=error`).
    fn scram_server_final(&self, challenge: &[u8], expected: &[u8]) -> Result<(), SaslError> {
        let text = std::str::from_utf8(challenge).map_err(|_| self.bad("not UTF-8"))?;
        let v = attr(text, 'v').ok_or_else(|| self.bad("no server signature"))?;
        let got = base64::engine::general_purpose::STANDARD
            .decode(v)
            .map_err(|_| self.bad("server signature is not base64"))?;
        if got != expected {
            return Err(SaslError::ServerSignatureMismatch);
        }
        Ok(())
    }

    /// Called on the server's success: SCRAM must have verified the server by now.
    pub fn check_success(&self) -> Result<(), SaslError> {
        match (&self.state, self.mech) {
            (State::ScramVerified, _) => Ok(()),
            (_, Mechanism::ScramSha1 | Mechanism::ScramSha256) => Err(SaslError::ServerNotVerified),
            _ => Ok(()),
        }
    }

    /// A success message may carry the SCRAM server-final (SMTP 235 / IMAP OK with data):
    /// verify it if it is there.
    pub fn success_data(&mut self, data: &[u8]) -> Result<(), SaslError> {
        if let State::ScramClientFinal { server_signature } = &self.state {
            if !data.is_empty() {
                self.scram_server_final(data, server_signature)?;
                self.state = State::ScramVerified;
            }
        }
        Ok(())
    }
}

/// CRAM-MD5 (RFC 2195): HMAC-MD5 of the challenge keyed with the password, lowercase hex.
fn hmac_md5_hex(key: &[u8], challenge: &[u8]) -> Zeroizing<String> {
    // HMAC accepts keys of any length (RFC 2104): `new_from_slice` cannot fail for it.
    let mut mac = match <Hmac<md5::Md5> as Mac>::new_from_slice(key) {
        Ok(m) => m,
        Err(_) => return Zeroizing::new(String::new()),
    };
    mac.update(challenge);
    Zeroizing::new(hex::encode(mac.finalize().into_bytes()))
}

/// RFC 5802 §3: the client proof and the expected server signature.
fn scram_proof(
    mech: Mechanism,
    password: &str,
    salt: &[u8],
    iterations: std::num::NonZeroU32,
    auth_message: &str,
) -> (Vec<u8>, Vec<u8>) {
    use ring::{digest, hmac, pbkdf2};
    let (pbkdf, hmac_alg, digest_alg) = match mech {
        Mechanism::ScramSha1 => (
            pbkdf2::PBKDF2_HMAC_SHA1,
            hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY,
            &digest::SHA1_FOR_LEGACY_USE_ONLY,
        ),
        _ => (
            pbkdf2::PBKDF2_HMAC_SHA256,
            hmac::HMAC_SHA256,
            &digest::SHA256,
        ),
    };
    let mut salted = Zeroizing::new(vec![0u8; digest_alg.output_len()]);
    pbkdf2::derive(pbkdf, iterations, salt, password.as_bytes(), &mut salted);
    let mac = |key: &[u8], msg: &[u8]| -> Vec<u8> {
        hmac::sign(&hmac::Key::new(hmac_alg, key), msg)
            .as_ref()
            .to_vec()
    };
    let client_key = Zeroizing::new(mac(&salted, b"Client Key"));
    let stored_key = digest::digest(digest_alg, &client_key);
    let client_signature = mac(stored_key.as_ref(), auth_message.as_bytes());
    let proof: Vec<u8> = client_key
        .iter()
        .zip(client_signature.iter())
        .map(|(a, b)| a ^ b)
        .collect();
    let server_key = mac(&salted, b"Server Key");
    (proof, mac(&server_key, auth_message.as_bytes()))
}

/// `attr=value` from a comma-separated SCRAM message.
fn attr(msg: &str, name: char) -> Option<&str> {
    msg.split(',').find_map(|part| {
        let mut chars = part.chars();
        (chars.next() == Some(name) && chars.next() == Some('=')).then(|| &part[2..])
    })
}

/// RFC 5802 saslname: `=` → `=3D`, `,` → `=2C`.
fn saslname(user: &str) -> String {
    user.replace('=', "=3D").replace(',', "=2C")
}

/// A fresh client nonce. Startup invariant: the system random source works (ring reads
/// getrandom; a machine without it cannot do TLS either), so a failure here is a bug.
fn random_nonce() -> String {
    use ring::rand::SecureRandom;
    let mut bytes = [0u8; 18];
    // invariant: ring's SystemRandom reads getrandom(2), which does not fail on a supported
    // system once the kernel's pool is seeded; the TLS handshake before any SASL exchange has
    // already drawn from the same source, so it works here.
    #[allow(clippy::expect_used)]
    ring::rand::SystemRandom::new()
        .fill(&mut bytes)
        .expect("the system random source works (startup invariant)");
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// POP3 APOP: `md5(timestamp + password)` in lowercase hex (RFC 1939 §7).
pub fn apop_digest(timestamp: &str, password: &str) -> Zeroizing<String> {
    let mut h = md5::Md5::new();
    h.update(timestamp.as_bytes());
    h.update(password.as_bytes());
    Zeroizing::new(hex::encode(h.finalize()))
}

/// Decodes a base64 challenge; an empty or `=` challenge is empty.
pub fn decode_challenge(text: &str) -> Result<Vec<u8>, SaslError> {
    let t = text.trim();
    if t.is_empty() || t == "=" {
        return Ok(Vec::new());
    }
    base64::engine::general_purpose::STANDARD
        .decode(t)
        .map_err(|_| SaslError::BadChallenge {
            mech: "SASL",
            reason: "challenge is not base64".into(),
        })
}

pub fn encode_response(r: &[u8]) -> Zeroizing<String> {
    Zeroizing::new(base64::engine::general_purpose::STANDARD.encode(r))
}

#[cfg(test)]
#[path = "sasl_tests.rs"]
mod tests;
