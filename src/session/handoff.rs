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
//! The sans-I/O driver of issue 13 re-points both to itself; callers only see
//! `(VerifiedStream, Facts)`.

use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use super::conn::{Conn, Stream};
use super::login::{offered_methods, CredentialKind, Credentials, Method, Outcome};
use super::{open_state, ProtoState, SessionConfig, Trace};
use crate::model::{Endpoint, Security};
use crate::report::{Code, EndpointReport, Problem};

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

/// Turns a verified, logged-in connection into the handed-over pair.
fn hand_over(
    endpoint: &Endpoint,
    conn: Conn,
    state: &ProtoState,
    method: Method,
    username: &str,
    kept: bool,
) -> (VerifiedStream, Facts) {
    let capabilities = match state {
        ProtoState::Imap(st) => st.capabilities.clone(),
        ProtoState::Pop3(st) => st.capa.clone(),
        ProtoState::Smtp(ehlo) => crate::proto::smtp::ehlo_capabilities(ehlo),
    };
    let (trace, label) = conn.trace_label();
    let (stream, handed_over) = conn.into_parts();
    trace.line(
        &label,
        "--",
        &format!(
            "logged-in session handed over ({} byte(s) already received, passed on)",
            handed_over.len()
        ),
    );
    let facts = Facts {
        endpoint: endpoint.clone(),
        capabilities,
        mechanism: method.name().to_string(),
        username: username.to_string(),
        kept,
        handed_over: handed_over.len(),
        trace,
        label: label.clone(),
    };
    let stream = VerifiedStream {
        handed_over,
        pos: 0,
        stream,
        label,
    };
    (stream, facts)
}

/// Logs out politely (best effort, bounded) and closes.
async fn close(mut conn: Conn, state: ProtoState) {
    match state {
        ProtoState::Imap(mut st) => super::imap::logout(&mut conn, &mut st).await,
        ProtoState::Pop3(_) => super::pop3::quit(&mut conn).await,
        ProtoState::Smtp(_) => super::smtp::quit(&mut conn).await,
    }
    conn.shutdown().await;
}

struct Kept {
    endpoint: Endpoint,
    method: Method,
    username: String,
    conn: Conn,
    state: ProtoState,
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

    /// Called by login verification after a verified login (and the quota read): keeps the
    /// session instead of closing it. Gives it back when one is already kept for `endpoint`.
    pub(super) fn offer(
        &self,
        endpoint: &Endpoint,
        method: Method,
        username: &str,
        conn: Conn,
        state: ProtoState,
    ) -> Option<(Conn, ProtoState)> {
        let mut kept = self.lock();
        if kept.iter().any(|k| &k.endpoint == endpoint) {
            return Some((conn, state));
        }
        kept.push(Kept {
            endpoint: endpoint.clone(),
            method,
            username: username.to_string(),
            conn,
            state,
        });
        None
    }

    /// The verified session of `endpoint`, if the check kept one.
    pub fn take(&self, endpoint: &Endpoint) -> Option<(VerifiedStream, Facts)> {
        let k = {
            let mut kept = self.lock();
            let i = kept.iter().position(|k| &k.endpoint == endpoint)?;
            kept.swap_remove(i)
        };
        Some(hand_over(
            &k.endpoint,
            k.conn,
            &k.state,
            k.method,
            &k.username,
            true,
        ))
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
            set.spawn(close(k.conn, k.state));
        }
        while set.join_next().await.is_some() {}
    }
}

/// A fresh session on `endpoint`, verified and logged in by this layer's own rules, with
/// `method` (by its reported name) when the server still offers it, else the best offered.
/// `allow_plaintext` is the user's `--allow-plaintext-login`.
pub async fn authenticated_stream(
    endpoint: &Endpoint,
    cfg: &SessionConfig,
    creds: &Credentials,
    allow_plaintext: bool,
    method: Option<&str>,
) -> Result<(VerifiedStream, Facts), Problem> {
    // Credentials never go with the STARTTLS injection check.
    let cfg = SessionConfig {
        check_injection: false,
        ..cfg.clone()
    };
    let mut rep = EndpointReport::new(endpoint);
    let Some((mut conn, mut state)) = open_state(endpoint, &cfg, &mut rep).await else {
        rep.finish();
        return Err(rep.problems.into_iter().next().unwrap_or_else(|| {
            Problem::error(
                Code::ConnectFailed,
                "the connection did not pass its checks",
            )
        }));
    };
    let refuse = |problem: Problem, conn: Conn, state: ProtoState| async move {
        close(conn, state).await;
        Err(problem)
    };
    if endpoint.security == Security::Plain && !allow_plaintext {
        return refuse(
            Problem::warning(
                Code::PlaintextLoginRefused,
                "the password was not sent: this endpoint has no TLS",
            ),
            conn,
            state,
        )
        .await;
    }
    if let ProtoState::Imap(st) = &state {
        if crate::proto::imap::login_disabled(&st.capabilities) {
            return refuse(
                Problem::error(
                    Code::LoginDisabled,
                    "the server advertises LOGINDISABLED on this connection; no credentials were sent",
                ),
                conn,
                state,
            )
            .await;
        }
    }
    let methods = offered_methods(&state, creds.kind);
    let chosen = method
        .and_then(|name| methods.iter().find(|m| m.name() == name))
        .or(methods.first())
        .copied();
    let Some(chosen) = chosen else {
        let kind = match creds.kind {
            CredentialKind::Password => "password",
            CredentialKind::OAuth2Token => "OAuth2 token",
        };
        return refuse(
            Problem::error(
                Code::LoginMechanismUnsupported,
                format!("no usable login method for a {kind}"),
            ),
            conn,
            state,
        )
        .await;
    };
    let outcome = match &mut state {
        ProtoState::Imap(st) => {
            super::imap::login(&mut conn, st, chosen, creds, &cfg, endpoint).await
        }
        ProtoState::Pop3(st) => {
            super::pop3::login(&mut conn, st, chosen, creds, &cfg, endpoint).await
        }
        ProtoState::Smtp(_) => super::smtp::login(&mut conn, chosen, creds, &cfg, endpoint).await,
    };
    match outcome {
        Outcome::Ok(_) => {}
        Outcome::Refused(text) => {
            let p = Problem::error(
                Code::LoginFailed,
                format!(
                    "the server refused the login as {:?} with {}: {text}",
                    creds.username,
                    chosen.name()
                ),
            );
            return refuse(p, conn, state).await;
        }
        Outcome::Unverified(text) => {
            let p = Problem::error(
                Code::LoginUnverified,
                format!("login with {} could not be verified: {text}", chosen.name()),
            );
            return refuse(p, conn, state).await;
        }
    }
    // Servers announce more after login (IDLE, UIDPLUS, ...): read the capabilities again.
    if let ProtoState::Imap(st) = &mut state {
        match super::imap::capability(&mut conn, &mut st.parser, &mut st.tags, &cfg).await {
            Ok(caps) => st.capabilities = caps,
            Err(problems) => {
                let p = problems.into_iter().next().unwrap_or_else(|| {
                    Problem::error(Code::ProtocolError, "CAPABILITY after login failed")
                });
                return refuse(p, conn, state).await;
            }
        }
    }
    Ok(hand_over(
        endpoint,
        conn,
        &state,
        chosen,
        &creds.username,
        false,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::sasl::Mechanism;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::{TcpListener, TcpStream};

    #[tokio::test]
    async fn bytes_that_arrived_before_the_handoff_are_passed_on_first() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let client = TcpStream::connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        let (mut server, _) = listener.accept().await.unwrap();
        let mut conn = Conn::new(client, Trace::off(), "imaps://h:993".into());
        // Arrived in the same read as the last reply, not consumed yet.
        conn.reader.push(b"* 3 EXISTS\r\n* 1 REC");
        let endpoint: Endpoint = "imaps://h:993".parse().unwrap();
        let state = ProtoState::Smtp(crate::proto::smtp::Reply {
            code: 250,
            lines: vec!["h".into(), "PIPELINING".into(), "SIZE 1000".into()],
        });
        let (mut s, facts) = hand_over(
            &endpoint,
            conn,
            &state,
            Method::Sasl(Mechanism::Plain),
            "u",
            true,
        );
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
