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

/// One authentication exchange.
pub struct SaslClient {
    mech: Mechanism,
    user: String,
    secret: Zeroizing<String>,
    /// For OAUTHBEARER's host/port fields.
    host: String,
    port: u16,
    round: usize,
    scram: Option<ScramState>,
    /// After an OAuth error challenge we answer once with a dummy, then expect failure.
    oauth_error: bool,
}

struct ScramState {
    client_first_bare: String,
    nonce: String,
    server_signature: Option<Vec<u8>>,
    verified: bool,
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
            scram: None,
            oauth_error: false,
        }
    }

    pub fn mechanism(&self) -> Mechanism {
        self.mech
    }

    /// With a fixed nonce, for tests against RFC vectors.
    pub fn with_nonce(mut self, nonce: &str) -> Self {
        self.scram = Some(ScramState::new(&self.user, nonce));
        self
    }

    /// The initial response, for mechanisms that send one.
    pub fn initial_response(&mut self) -> Option<Response> {
        match self.mech {
            Mechanism::Plain => {
                let mut v = Vec::new();
                v.push(0);
                v.extend_from_slice(self.user.as_bytes());
                v.push(0);
                v.extend_from_slice(self.secret.as_bytes());
                Some(Zeroizing::new(v))
            }
            Mechanism::XOAuth2 => Some(Zeroizing::new(
                format!(
                    "user={}\x01auth=Bearer {}\x01\x01",
                    self.user, &*self.secret
                )
                .into_bytes(),
            )),
            Mechanism::OAuthBearer => Some(Zeroizing::new(
                format!(
                    "n,a={},\x01host={}\x01port={}\x01auth=Bearer {}\x01\x01",
                    saslname(&self.user),
                    self.host,
                    self.port,
                    &*self.secret
                )
                .into_bytes(),
            )),
            Mechanism::ScramSha1 | Mechanism::ScramSha256 => {
                if self.scram.is_none() {
                    self.scram = Some(ScramState::new(&self.user, &random_nonce()));
                }
                let s = self.scram.as_ref().expect("just set");
                Some(Zeroizing::new(
                    format!("n,,{}", s.client_first_bare).into_bytes(),
                ))
            }
            Mechanism::Login | Mechanism::CramMd5 => None,
        }
    }

    /// Answers one decoded server challenge.
    pub fn step(&mut self, challenge: &[u8]) -> Result<Response, SaslError> {
        self.round += 1;
        if self.round > MAX_ROUND_TRIPS {
            return Err(SaslError::TooManyRoundTrips(self.round));
        }
        let bad = |reason: &str| SaslError::BadChallenge {
            mech: self.mech.name(),
            reason: reason.to_string(),
        };
        match self.mech {
            Mechanism::Plain => {
                // A server that sends an empty challenge wants the initial response now.
                if challenge.is_empty() && self.round == 1 {
                    Ok(self.initial_response().expect("PLAIN has one"))
                } else {
                    Err(bad("PLAIN takes no challenge"))
                }
            }
            Mechanism::Login => match self.round {
                1 => Ok(Zeroizing::new(self.user.as_bytes().to_vec())),
                2 => Ok(Zeroizing::new(self.secret.as_bytes().to_vec())),
                _ => Err(bad("LOGIN asks only for a user name and a password")),
            },
            Mechanism::CramMd5 => {
                if self.round != 1 || challenge.is_empty() {
                    return Err(bad("CRAM-MD5 takes exactly one non-empty challenge"));
                }
                let mut mac = <Hmac<md5::Md5> as Mac>::new_from_slice(self.secret.as_bytes())
                    .expect("HMAC takes any key length");
                mac.update(challenge);
                let digest = mac.finalize().into_bytes();
                Ok(Zeroizing::new(
                    format!("{} {}", self.user, hex(&digest)).into_bytes(),
                ))
            }
            Mechanism::XOAuth2 | Mechanism::OAuthBearer => {
                if challenge.is_empty() && self.round == 1 {
                    return Ok(self.initial_response().expect("OAuth has one"));
                }
                // An error report (JSON); RFC 7628 §3.2.3: answer with a dummy to get the failure.
                if self.oauth_error {
                    return Err(bad("the server repeated its OAuth error challenge"));
                }
                self.oauth_error = true;
                Ok(Zeroizing::new(match self.mech {
                    Mechanism::OAuthBearer => vec![1],
                    _ => vec![],
                }))
            }
            Mechanism::ScramSha1 | Mechanism::ScramSha256 => self.scram_step(challenge),
        }
    }

    fn scram_step(&mut self, challenge: &[u8]) -> Result<Response, SaslError> {
        let mech = self.mech;
        let bad = |reason: &str| SaslError::BadChallenge {
            mech: mech.name(),
            reason: reason.to_string(),
        };
        let text = std::str::from_utf8(challenge).map_err(|_| bad("not UTF-8"))?;
        if self.scram.is_none() {
            // Server sent an empty challenge first: the client-first message comes now.
            if text.is_empty() && self.round == 1 {
                return Ok(self.initial_response().expect("SCRAM has one"));
            }
            return Err(bad("challenge before client-first"));
        }
        let secret = self.secret.clone();
        let state = self.scram.as_mut().expect("checked");
        if let Some(expected) = &state.server_signature {
            // server-final: v=signature (or e=error)
            let v = attr(text, 'v').ok_or_else(|| bad("no server signature"))?;
            let got = base64::engine::general_purpose::STANDARD
                .decode(v)
                .map_err(|_| bad("server signature is not base64"))?;
            if &got != expected {
                return Err(SaslError::ServerSignatureMismatch);
            }
            state.verified = true;
            return Ok(Zeroizing::new(Vec::new()));
        }
        if text.starts_with("m=") {
            return Err(bad("mandatory extension not supported"));
        }
        let nonce = attr(text, 'r').ok_or_else(|| bad("no nonce"))?;
        if !nonce.starts_with(&state.nonce) || nonce.len() == state.nonce.len() {
            return Err(bad("the server nonce does not extend ours"));
        }
        let salt = base64::engine::general_purpose::STANDARD
            .decode(attr(text, 's').ok_or_else(|| bad("no salt"))?)
            .map_err(|_| bad("salt is not base64"))?;
        let iterations: u32 = attr(text, 'i')
            .and_then(|i| i.parse().ok())
            .ok_or_else(|| bad("no iteration count"))?;
        // Bound the work a hostile server can make us do.
        if !(1..=1_000_000).contains(&iterations) {
            return Err(bad("iteration count out of range"));
        }
        let without_proof = format!("c=biws,r={nonce}");
        let auth_message = format!("{},{},{}", state.client_first_bare, text, without_proof);
        let (proof, server_sig) = scram_proof(mech, &secret, &salt, iterations, &auth_message);
        state.server_signature = Some(server_sig);
        let proof = base64::engine::general_purpose::STANDARD.encode(proof);
        Ok(Zeroizing::new(
            format!("{without_proof},p={proof}").into_bytes(),
        ))
    }

    /// Called on the server's success: SCRAM must have verified the server by now.
    pub fn check_success(&self) -> Result<(), SaslError> {
        match &self.scram {
            Some(s) if matches!(self.mech, Mechanism::ScramSha1 | Mechanism::ScramSha256) => {
                if s.verified {
                    Ok(())
                } else {
                    Err(SaslError::ServerNotVerified)
                }
            }
            _ => Ok(()),
        }
    }

    /// A success message may carry the SCRAM server-final (SMTP 235 / IMAP OK with data):
    /// verify it if it is there.
    pub fn success_data(&mut self, data: &[u8]) -> Result<(), SaslError> {
        let pending = self
            .scram
            .as_ref()
            .is_some_and(|s| s.server_signature.is_some() && !s.verified);
        if pending && !data.is_empty() {
            self.scram_step(data)?;
        }
        Ok(())
    }
}

impl ScramState {
    fn new(user: &str, nonce: &str) -> Self {
        ScramState {
            client_first_bare: format!("n={},r={nonce}", saslname(user)),
            nonce: nonce.to_string(),
            server_signature: None,
            verified: false,
        }
    }
}

/// RFC 5802 §3: the client proof and the expected server signature.
fn scram_proof(
    mech: Mechanism,
    password: &str,
    salt: &[u8],
    iterations: u32,
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
    let iterations = std::num::NonZeroU32::new(iterations).expect("range-checked by the caller");
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

fn random_nonce() -> String {
    use ring::rand::SecureRandom;
    let mut bytes = [0u8; 18];
    ring::rand::SystemRandom::new()
        .fill(&mut bytes)
        .expect("the system random source works");
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// POP3 APOP: `md5(timestamp + password)` in lowercase hex (RFC 1939 §7).
pub fn apop_digest(timestamp: &str, password: &str) -> Zeroizing<String> {
    let mut h = md5::Md5::new();
    h.update(timestamp.as_bytes());
    h.update(password.as_bytes());
    Zeroizing::new(hex(&h.finalize()))
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
mod tests {
    use super::*;

    #[test]
    fn plain_initial_response() {
        let mut c = SaslClient::new(Mechanism::Plain, "tim", "tanstaaftanstaaf", "h", 1);
        assert_eq!(&**c.initial_response().unwrap(), b"\0tim\0tanstaaftanstaaf");
    }

    #[test]
    fn cram_md5_rfc2195_vector() {
        let mut c = SaslClient::new(Mechanism::CramMd5, "tim", "tanstaaftanstaaf", "h", 1);
        assert!(c.initial_response().is_none());
        let r = c
            .step(b"<1896.697170952@postoffice.reston.mci.net>")
            .unwrap();
        assert_eq!(&**r, b"tim b913a602c7eda7a495b4e6e7334d3890");
        assert!(c.step(b"again").is_err());
    }

    #[test]
    fn apop_rfc1939_vector() {
        assert_eq!(
            &*apop_digest("<1896.697170952@dbc.mtview.ca.us>", "tanstaaf"),
            "c4c9334bac560ecc979e58001b3e22fb"
        );
    }

    #[test]
    fn scram_sha1_rfc5802_vector() {
        let mut c = SaslClient::new(Mechanism::ScramSha1, "user", "pencil", "h", 1)
            .with_nonce("fyko+d2lbbFgONRv9qkxdawL");
        assert_eq!(
            &**c.initial_response().unwrap(),
            b"n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL"
        );
        let r = c
            .step(b"r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096")
            .unwrap();
        assert_eq!(
            std::str::from_utf8(&r).unwrap(),
            "c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts="
        );
        assert_eq!(c.check_success(), Err(SaslError::ServerNotVerified));
        assert!(c.step(b"v=rmF9pqV8S7suAoZWja4dJRkFsKQ=").is_ok());
        assert!(c.check_success().is_ok());
    }

    #[test]
    fn scram_sha256_rfc7677_vector() {
        let mut c = SaslClient::new(Mechanism::ScramSha256, "user", "pencil", "h", 1)
            .with_nonce("rOprNGfwEbeRWgbNEkqO");
        c.initial_response();
        let r = c
            .step(b"r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096")
            .unwrap();
        assert_eq!(
            std::str::from_utf8(&r).unwrap(),
            "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="
        );
        assert_eq!(
            c.step(b"v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=")
                .err(),
            None
        );
    }

    #[test]
    fn scram_rejects_a_server_that_does_not_know_the_password() {
        let mut c =
            SaslClient::new(Mechanism::ScramSha1, "user", "pencil", "h", 1).with_nonce("abc");
        c.initial_response();
        c.step(b"r=abcdef,s=QSXCR+Q6sek8bf92,i=4096").unwrap();
        assert_eq!(
            c.step(b"v=AAAA").err(),
            Some(SaslError::ServerSignatureMismatch)
        );
        let mut c =
            SaslClient::new(Mechanism::ScramSha1, "user", "pencil", "h", 1).with_nonce("abc");
        c.initial_response();
        assert!(
            c.step(b"r=xyz,s=QSXCR+Q6sek8bf92,i=4096").is_err(),
            "nonce must extend ours"
        );
        let mut c =
            SaslClient::new(Mechanism::ScramSha1, "user", "pencil", "h", 1).with_nonce("abc");
        c.initial_response();
        assert!(
            c.step(b"r=abcd,s=QSXC,i=999999999").is_err(),
            "iteration bound"
        );
    }

    #[test]
    fn login_and_bounded_round_trips() {
        let mut c = SaslClient::new(Mechanism::Login, "u", "p", "h", 1);
        assert_eq!(&**c.step(b"Username:").unwrap(), b"u");
        assert_eq!(&**c.step(b"Password:").unwrap(), b"p");
        assert!(c.step(b"More:").is_err());
    }

    #[test]
    fn oauth_error_gets_one_dummy_answer() {
        let mut c = SaslClient::new(Mechanism::OAuthBearer, "u@x", "tok", "imap.x", 993);
        let ir = c.initial_response().unwrap();
        assert_eq!(
            &**ir,
            b"n,a=u@x,\x01host=imap.x\x01port=993\x01auth=Bearer tok\x01\x01"
        );
        assert_eq!(
            &**c.step(b"{\"status\":\"invalid_token\"}").unwrap(),
            b"\x01"
        );
        assert!(c.step(b"{}").is_err());
        let mut c = SaslClient::new(Mechanism::XOAuth2, "u", "tok", "h", 1);
        assert_eq!(
            &**c.initial_response().unwrap(),
            b"user=u\x01auth=Bearer tok\x01\x01"
        );
    }

    #[test]
    fn challenges_decode() {
        assert_eq!(decode_challenge("").unwrap(), b"");
        assert_eq!(decode_challenge("=").unwrap(), b"");
        assert_eq!(decode_challenge("VXNlcm5hbWU6").unwrap(), b"Username:");
        assert!(decode_challenge("***").is_err());
    }
}
