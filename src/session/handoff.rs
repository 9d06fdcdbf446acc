//! The seam between this layer and code that continues on a logged-in session
//! (`check --round-trip`: our SMTP submission, async-imap, async-pop).
//!
//! Everything before the handoff stays ours: connect, TLS and its certificate check, the
//! STARTTLS rules, greeting, capabilities and a login judged by our strict rules. A
//! [`VerifiedStream`] exists only after all of that passed. Whatever the server had already
//! sent but we had not read is handed over explicitly (served first by the stream), never
//! dropped and never read by us as part of a later reply.
//!
//! Two ways in, one type out:
//! * [`Keeper`]: the check keeps the sessions it verified (`SessionConfig::keep`) instead of
//!   logging out, and the round trip continues on the recommended ones — no new connection,
//!   TLS handshake or login, which is what keeps the round trip within a few round trips.
//! * [`authenticated_stream`]: a fresh session (POP3 polling: a POP3 session never sees mail
//!   that arrived after its login; or when no kept session is there).
//!
//! Both run on the one driver (`session::driver`) and the protocol machines: the machine
//! skips its goodbye and hands over the bytes it had not consumed.

use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use super::driver::{self, Driver, Stop};
use super::facts::{EndpointFacts, LoginFacts, UserAttempt, Withheld};
use super::login::{CredentialKind, Credentials};
use super::{SessionConfig, Trace};
use crate::model::{Endpoint, Mechanism, Protocol, Security};
use crate::net::stream::Stream;
use crate::proto::client::{LoginRequest, Outcome};

/// What the session layer verified about a handed-over session.
#[derive(Clone)]
pub struct Facts {
    pub endpoint: Endpoint,
    /// IMAP: capabilities read after login; POP3: the CAPA lines read over TLS; SMTP: the EHLO
    /// lines read over TLS (keyword and parameters, e.g. `SIZE 10240000`).
    pub capabilities: Vec<String>,
    /// The login method that succeeded (`PLAIN`, `LOGIN-COMMAND`, `USER`, ...).
    pub mechanism: String,
    pub username: String,
    /// True when this is the check's own session, continued; false for a fresh one.
    pub kept: bool,
    /// Bytes that had arrived before the handoff; the stream serves them first.
    pub handed_over: usize,
    /// The `-v` trace and this session's label in it.
    pub trace: Trace,
    pub label: String,
}

impl std::fmt::Debug for Facts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Facts")
            .field("endpoint", &self.endpoint.url())
            .field("capabilities", &self.capabilities)
            .field("mechanism", &self.mechanism)
            .field("kept", &self.kept)
            .field("handed_over", &self.handed_over)
            .finish_non_exhaustive()
    }
}

/// A connected, secured, logged-in stream. Reads first return the bytes that had arrived
/// before the handoff, then the socket's.
pub struct VerifiedStream {
    handed_over: Vec<u8>,
    pos: usize,
    stream: Stream,
    label: String,
}

impl std::fmt::Debug for VerifiedStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "VerifiedStream({})", self.label)
    }
}

fn gone() -> io::Error {
    io::Error::from(io::ErrorKind::NotConnected)
}

impl AsyncRead for VerifiedStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        if this.pos < this.handed_over.len() {
            let n = buf.remaining().min(this.handed_over.len() - this.pos);
            buf.put_slice(&this.handed_over[this.pos..this.pos + n]);
            this.pos += n;
            return Poll::Ready(Ok(()));
        }
        match &mut this.stream {
            Stream::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
            Stream::Gone => Poll::Ready(Err(gone())),
        }
    }
}

impl AsyncWrite for VerifiedStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match &mut self.stream {
            Stream::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
            Stream::Gone => Poll::Ready(Err(gone())),
        }
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match &mut self.stream {
            Stream::Plain(s) => Pin::new(s).poll_flush(cx),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
            Stream::Gone => Poll::Ready(Err(gone())),
        }
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match &mut self.stream {
            Stream::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
            Stream::Gone => Poll::Ready(Ok(())),
        }
    }
}

/// Turns a kept, logged-in session into the handed-over pair.
fn hand_over(k: Kept, kept: bool) -> (VerifiedStream, Facts) {
    k.trace.line(
        &k.label,
        "--",
        &format!(
            "logged-in session handed over ({} byte(s) already received, passed on)",
            k.buffered.len()
        ),
    );
    let facts = Facts {
        endpoint: k.endpoint,
        capabilities: k.capabilities,
        mechanism: k.mechanism.name().to_string(),
        username: k.username,
        kept,
        handed_over: k.buffered.len(),
        trace: k.trace,
        label: k.label.clone(),
    };
    let stream = VerifiedStream {
        handed_over: k.buffered,
        pos: 0,
        stream: k.stream,
        label: k.label,
    };
    (stream, facts)
}

/// A session kept after a verified login: the socket and what it had not consumed.
struct Kept {
    endpoint: Endpoint,
    mechanism: Mechanism,
    username: String,
    capabilities: Vec<String>,
    stream: Stream,
    buffered: Vec<u8>,
    trace: Trace,
    label: String,
}

impl Kept {
    fn new(
        endpoint: &Endpoint,
        mechanism: Mechanism,
        username: &str,
        capabilities: Vec<String>,
        driver: Driver,
    ) -> Self {
        let (stream, buffered, trace, label) = driver.into_kept();
        Kept {
            endpoint: endpoint.clone(),
            mechanism,
            username: username.to_string(),
            capabilities,
            stream,
            buffered,
            trace,
            label,
        }
    }

    /// Logs out politely (best effort, bounded) and closes.
    async fn close(mut self) {
        use tokio::io::AsyncWriteExt;
        let bye: &[u8] = match self.endpoint.protocol {
            Protocol::Imap => b"Z LOGOUT\r\n",
            Protocol::Pop3 | Protocol::Smtp => b"QUIT\r\n",
        };
        self.trace
            .line(&self.label, "C:", String::from_utf8_lossy(bye).trim_end());
        let deadline = std::time::Instant::now() + std::time::Duration::from_millis(500);
        let _ = tokio::time::timeout_at(deadline.into(), async {
            self.stream.write_all(bye).await?;
            self.stream.shutdown().await
        })
        .await;
    }
}

/// Holds the sessions a check verified, for the round trip to continue on
/// (`SessionConfig::keep`). Sessions nobody takes are closed by [`Keeper::close_all`].
#[derive(Clone, Default)]
pub struct Keeper(Arc<Mutex<Vec<Kept>>>);

impl Keeper {
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Kept>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Called by login verification after a verified login (and the quota read) whose
    /// machine kept the session. Gives the driver back when one is already kept for
    /// `endpoint`.
    pub(super) fn keep(
        &self,
        endpoint: &Endpoint,
        mechanism: Mechanism,
        username: &str,
        capabilities: Vec<String>,
        driver: Driver,
    ) -> Option<Driver> {
        let mut kept = self.lock();
        if kept.iter().any(|k| &k.endpoint == endpoint) {
            return Some(driver);
        }
        kept.push(Kept::new(
            endpoint,
            mechanism,
            username,
            capabilities,
            driver,
        ));
        None
    }

    /// The verified session of `endpoint`, if the check kept one.
    pub fn take(&self, endpoint: &Endpoint) -> Option<(VerifiedStream, Facts)> {
        let k = {
            let mut kept = self.lock();
            let i = kept.iter().position(|k| &k.endpoint == endpoint)?;
            kept.swap_remove(i)
        };
        Some(hand_over(k, true))
    }

    /// Endpoints with a kept session.
    pub fn endpoints(&self) -> Vec<Endpoint> {
        self.lock().iter().map(|k| k.endpoint.clone()).collect()
    }

    /// Logs out of every session not taken, all at once.
    pub async fn close_all(&self) {
        let all: Vec<Kept> = std::mem::take(&mut *self.lock());
        let mut set = tokio::task::JoinSet::new();
        for k in all {
            set.spawn(k.close());
        }
        while set.join_next().await.is_some() {}
    }
}

/// A fresh session on `endpoint`, verified and logged in by this layer's own rules, with
/// `method` (by its reported name) when the server still offers it, else the best offered.
/// `allow_plaintext` is the user's `--allow-plaintext-login`. On failure, the facts of the
/// attempt (`report` words them).
pub async fn authenticated_stream(
    endpoint: &Endpoint,
    cfg: &SessionConfig,
    creds: &Credentials,
    allow_plaintext: bool,
    method: Option<&str>,
) -> Result<(VerifiedStream, Facts), Box<EndpointFacts>> {
    // Credentials never go with the STARTTLS injection check.
    let cfg = SessionConfig {
        check_injection: false,
        ..cfg.clone()
    };
    let mut facts = EndpointFacts::new(endpoint);
    let Some(mut driver) = driver::open(endpoint, &cfg, &mut facts).await else {
        facts.login = Some(LoginFacts::Withheld(Withheld::ConnectionFailed {
            username: creds.username.clone(),
        }));
        return Err(Box::new(facts));
    };
    if endpoint.security == Security::Plain && !allow_plaintext {
        facts.login = Some(LoginFacts::Withheld(Withheld::Plaintext {
            username: creds.username.clone(),
        }));
        driver.close(&mut facts).await;
        return Err(Box::new(facts));
    }
    let offered: Vec<Mechanism> = facts
        .capabilities
        .as_ref()
        .map(|c| c.offered.clone())
        .unwrap_or_default()
        .into_iter()
        .filter(|m| {
            (m.auth_method() == crate::model::AuthMethod::OAuth2)
                == (creds.kind == CredentialKind::OAuth2Token)
        })
        .collect();
    let chosen: Vec<Mechanism> = method
        .and_then(|name| offered.iter().find(|m| m.name() == name))
        .or(offered.first())
        .into_iter()
        .copied()
        .collect();
    let request = LoginRequest {
        username: creds.username.clone(),
        secret: creds.secret.clone(),
        mechanisms: chosen,
        all: false,
        quota: false,
        folders: false,
        keep: true,
        host: endpoint.host.clone(),
        port: endpoint.port,
        plaintext_allowed: allow_plaintext,
    };
    let stop = driver.login(request, &mut facts).await;
    let attempts: Vec<UserAttempt> = std::mem::take(&mut driver.attempts)
        .into_iter()
        .map(|attempt| UserAttempt {
            username: creds.username.clone(),
            attempt,
            alternative: false,
        })
        .collect();
    if let Some(why) = driver.impossible.take() {
        facts.login = Some(LoginFacts::Impossible {
            why,
            kind: creds.kind,
            username: creds.username.clone(),
        });
        driver.shutdown().await;
        return Err(Box::new(facts));
    }
    let success = attempts
        .iter()
        .find(|a| matches!(a.attempt.outcome, Outcome::Ok(_)))
        .map(|a| a.mechanism());
    facts.login = Some(LoginFacts::Attempted {
        attempts,
        kind: creds.kind,
    });
    match (success, driver.kept.take(), stop) {
        (Some(mechanism), Some(capabilities), Stop::Finished { .. }) => {
            let k = Kept::new(endpoint, mechanism, &creds.username, capabilities, driver);
            Ok(hand_over(k, false))
        }
        _ => {
            driver.shutdown().await;
            Err(Box::new(facts))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::{TcpListener, TcpStream};

    #[tokio::test]
    async fn bytes_that_arrived_before_the_handoff_are_passed_on_first() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let client = TcpStream::connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        let (mut server, _) = listener.accept().await.unwrap();
        let endpoint: Endpoint = "imaps://h:993".parse().unwrap();
        let k = Kept {
            endpoint: endpoint.clone(),
            mechanism: Mechanism::Plain,
            username: "u".into(),
            capabilities: vec!["PIPELINING".into(), "SIZE 1000".into()],
            stream: Stream::Plain(client),
            // Arrived in the same read as the last reply, not consumed yet.
            buffered: b"* 3 EXISTS\r\n* 1 REC".to_vec(),
            trace: Trace::off(),
            label: endpoint.url(),
        };
        let (mut s, facts) = hand_over(k, true);
        assert_eq!(facts.handed_over, 19);
        assert_eq!(facts.capabilities, ["PIPELINING", "SIZE 1000"]);
        assert_eq!(facts.mechanism, "PLAIN");
        assert!(facts.kept);
        server.write_all(b"ENT\r\n").await.unwrap();
        let mut got = vec![0u8; 24];
        s.read_exact(&mut got).await.unwrap();
        assert_eq!(
            got, b"* 3 EXISTS\r\n* 1 RECENT\r\n",
            "in order, nothing lost"
        );
        s.write_all(b"A1 NOOP\r\n").await.unwrap();
        let mut sent = vec![0u8; 9];
        server.read_exact(&mut sent).await.unwrap();
        assert_eq!(sent, b"A1 NOOP\r\n");
    }
}
