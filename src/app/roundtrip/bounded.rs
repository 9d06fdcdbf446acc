//! Our limits around the crates: every byte a server sends passes a [`StreamGuard`] before a
//! crate sees it (total, line and IMAP literal caps, see `proto::guard`), and every line in
//! both directions goes to the `-v` trace, escaped. Plus the two adapters that let async-imap
//! and async-pop start on a session our session layer already opened and logged into.

use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use crate::proto::guard::{Limits, StreamGuard};
use crate::proto::ProtoError;
use crate::session::Trace;

/// Where a tripped guard leaves its verdict for the caller (the crates only see an I/O error).
#[derive(Clone, Default, Debug)]
pub struct Tripped(Arc<Mutex<Option<ProtoError>>>);

impl Tripped {
    pub fn get(&self) -> Option<ProtoError> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
    fn set(&self, e: ProtoError) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = Some(e);
    }
}

/// A guarded, traced stream.
pub struct Bounded<S> {
    inner: S,
    guard: StreamGuard,
    tripped: Tripped,
    trace: Trace,
    label: String,
    /// Partial lines for the trace (bounded: a trace line is cut, never grown without end).
    read_line: Vec<u8>,
    write_line: Vec<u8>,
}

const TRACE_LINE: usize = 512;

impl<S> std::fmt::Debug for Bounded<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Bounded({})", self.label)
    }
}

impl<S> Bounded<S> {
    pub fn new(inner: S, limits: Limits, trace: Trace, label: String) -> Self {
        Bounded {
            inner,
            guard: StreamGuard::new(limits),
            tripped: Tripped::default(),
            trace,
            label,
            read_line: Vec::new(),
            write_line: Vec::new(),
        }
    }

    /// The cell that holds the guard's verdict once it refused the flow.
    pub fn tripped(&self) -> Tripped {
        self.tripped.clone()
    }

    fn trace_bytes(trace: &Trace, label: &str, dir: &str, acc: &mut Vec<u8>, bytes: &[u8]) {
        if !trace.enabled() {
            return;
        }
        for &b in bytes {
            if b == b'\n' {
                let line = String::from_utf8_lossy(acc);
                trace.line(label, dir, line.trim_end_matches('\r'));
                acc.clear();
            } else if acc.len() < TRACE_LINE {
                acc.push(b);
            }
        }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Bounded<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        if let Some(e) = this.tripped.get() {
            return Poll::Ready(Err(io::Error::new(io::ErrorKind::InvalidData, e)));
        }
        let before = buf.filled().len();
        match Pin::new(&mut this.inner).poll_read(cx, buf) {
            Poll::Ready(Ok(())) => {
                let new = &buf.filled()[before..];
                if let Err(e) = this.guard.accept(new) {
                    this.tripped.set(e.clone());
                    // Nothing of the refused read reaches the crate.
                    buf.set_filled(before);
                    return Poll::Ready(Err(io::Error::new(io::ErrorKind::InvalidData, e)));
                }
                let new = buf.filled()[before..].to_vec();
                Self::trace_bytes(&this.trace, &this.label, "S:", &mut this.read_line, &new);
                Poll::Ready(Ok(()))
            }
            other => other,
        }
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Bounded<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        let res = Pin::new(&mut this.inner).poll_write(cx, buf);
        if let Poll::Ready(Ok(n)) = &res {
            Self::trace_bytes(
                &this.trace,
                &this.label,
                "C:",
                &mut this.write_line,
                &buf[..*n],
            );
        }
        res
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// The name of the pseudo-mechanism async-imap is asked to "authenticate" with. It never
/// reaches the server: [`ImapHandoff`] answers it locally.
pub const HANDOFF_MECHANISM: &str = "X-MAILSETUP-HANDOFF";

enum HandoffState {
    /// Waiting for the crate's one `TAG AUTHENTICATE X-MAILSETUP-HANDOFF` line.
    Intercept(Vec<u8>),
    /// Serving the local tagged OK.
    Reply(Vec<u8>, usize),
    /// Everything goes to the server.
    Pass,
}

/// async-imap hands out its `Session` (SELECT, IDLE, SEARCH, FETCH, STORE, UID EXPUNGE) only
/// after a login it performed itself, and it would judge that login by its own rules. The
/// session layer has already logged in with ours, so this adapter answers the crate's
/// authentication command locally (`TAG OK`) and passes everything after it to the server.
/// Nothing of the exchange reaches the server; any other first command is an error.
pub struct ImapHandoff<S> {
    inner: S,
    state: HandoffState,
}

impl<S> std::fmt::Debug for ImapHandoff<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ImapHandoff")
    }
}

impl<S> ImapHandoff<S> {
    pub fn new(inner: S) -> Self {
        ImapHandoff {
            inner,
            state: HandoffState::Intercept(Vec::new()),
        }
    }
}

fn handoff_error(what: &str) -> io::Error {
    io::Error::other(format!("session handoff to async-imap: {what}"))
}

impl<S: AsyncRead + Unpin> AsyncRead for ImapHandoff<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        match &mut this.state {
            HandoffState::Intercept(_) => {
                Poll::Ready(Err(handoff_error("read before the handoff command")))
            }
            HandoffState::Reply(bytes, pos) => {
                let n = buf.remaining().min(bytes.len() - *pos);
                buf.put_slice(&bytes[*pos..*pos + n]);
                *pos += n;
                if *pos == bytes.len() {
                    this.state = HandoffState::Pass;
                }
                Poll::Ready(Ok(()))
            }
            HandoffState::Pass => Pin::new(&mut this.inner).poll_read(cx, buf),
        }
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for ImapHandoff<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        match &mut this.state {
            HandoffState::Intercept(line) => {
                line.extend_from_slice(buf);
                if line.len() > 128 {
                    return Poll::Ready(Err(handoff_error("unexpected first command")));
                }
                if let Some(text) = line.strip_suffix(b"\r\n") {
                    let text = String::from_utf8_lossy(text).into_owned();
                    let mut words = text.split(' ');
                    let (tag, cmd, mech) = (words.next(), words.next(), words.next());
                    match (tag, cmd, mech, words.next()) {
                        (Some(tag), Some("AUTHENTICATE"), Some(HANDOFF_MECHANISM), None)
                            if !tag.is_empty() =>
                        {
                            let reply = format!("{tag} OK session handed over by mailsetup\r\n");
                            this.state = HandoffState::Reply(reply.into_bytes(), 0);
                        }
                        _ => return Poll::Ready(Err(handoff_error("unexpected first command"))),
                    }
                }
                Poll::Ready(Ok(buf.len()))
            }
            HandoffState::Reply(..) => Poll::Ready(Err(handoff_error(
                "write before the handoff reply was read",
            ))),
            HandoffState::Pass => Pin::new(&mut this.inner).poll_write(cx, buf),
        }
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.state {
            HandoffState::Pass => Pin::new(&mut self.inner).poll_flush(cx),
            _ => Poll::Ready(Ok(())),
        }
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// async-pop's `new()` always reads a greeting first. On a handed-over POP3 session the
/// greeting was read (and checked) by the session layer long ago, so this adapter serves a
/// stand-in greeting line once; everything else is the server's.
pub struct Pop3Greeting<S> {
    inner: S,
    greeting: &'static [u8],
    pos: usize,
}

impl<S> std::fmt::Debug for Pop3Greeting<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Pop3Greeting")
    }
}

impl<S> Pop3Greeting<S> {
    pub fn new(inner: S) -> Self {
        Pop3Greeting {
            inner,
            greeting: b"+OK greeting already read and checked by mailsetup\r\n",
            pos: 0,
        }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Pop3Greeting<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        if this.pos < this.greeting.len() {
            let n = buf.remaining().min(this.greeting.len() - this.pos);
            buf.put_slice(&this.greeting[this.pos..this.pos + n]);
            this.pos += n;
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut this.inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Pop3Greeting<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    fn limits() -> Limits {
        Limits {
            total: 64,
            line: 32,
            literal: Some(16),
        }
    }

    #[tokio::test]
    async fn the_guard_stops_the_flow_and_names_why() {
        let (mut server, client) = tokio::io::duplex(1024);
        let mut b = Bounded::new(client, limits(), Trace::off(), "t".into());
        let tripped = b.tripped();
        server
            .write_all(b"* 1 FETCH (BODY[] {999}\r\n")
            .await
            .unwrap();
        let mut buf = [0u8; 256];
        let err = b.read(&mut buf).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
        assert!(matches!(
            tripped.get(),
            Some(ProtoError::LiteralTooLarge { size: 999, .. })
        ));
        // And it stays refused.
        assert!(b.read(&mut buf).await.is_err());
    }

    #[tokio::test]
    async fn the_handoff_answers_only_its_own_command_locally() {
        let (mut server, client) = tokio::io::duplex(1024);
        let mut h = ImapHandoff::new(client);
        h.write_all(b"A0001 AUTHENTICATE X-MAILSETUP-HANDOFF\r\n")
            .await
            .unwrap();
        let mut buf = [0u8; 128];
        let n = h.read(&mut buf).await.unwrap();
        assert_eq!(&buf[..n], b"A0001 OK session handed over by mailsetup\r\n");
        // Afterwards everything is the server's, both ways.
        h.write_all(b"A0002 NOOP\r\n").await.unwrap();
        let n = server.read(&mut buf).await.unwrap();
        assert_eq!(
            &buf[..n],
            b"A0002 NOOP\r\n",
            "the handoff line never reached the server"
        );
        server.write_all(b"A0002 OK\r\n").await.unwrap();
        let n = h.read(&mut buf).await.unwrap();
        assert_eq!(&buf[..n], b"A0002 OK\r\n");

        let (_server, client) = tokio::io::duplex(1024);
        let mut h = ImapHandoff::new(client);
        assert!(h.write_all(b"A0001 LOGIN user pass\r\n").await.is_err());
    }

    #[tokio::test]
    async fn the_pop3_greeting_stands_in_once() {
        let (mut server, client) = tokio::io::duplex(1024);
        let mut g = Pop3Greeting::new(client);
        let mut all = Vec::new();
        server.write_all(b"+OK 2 messages\r\n").await.unwrap();
        drop(server);
        g.read_to_end(&mut all).await.unwrap();
        assert!(all.starts_with(b"+OK greeting already read"));
        assert!(all.ends_with(b"\r\n+OK 2 messages\r\n"));
    }
}
