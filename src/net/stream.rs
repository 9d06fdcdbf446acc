//! The byte stream under a session: TCP, then (implicit TLS, or after STARTTLS) TLS — and the
//! handshake, reported as facts: the certificate check, the TLS version and cipher, and when
//! it failed, how (a timeout, a refused certificate, plaintext where TLS should be, an old TLS).

use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Instant;

use rustls::pki_types::ServerName;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

use super::tls::{tls_report, CertCheck, TlsContext, TlsReport};

/// Remembers the first bytes read through it: after a failed handshake, plaintext there
/// means the peer spoke the mail protocol instead of TLS (or injected bytes after STARTTLS).
pub struct Tap<S> {
    inner: S,
    first: Arc<Mutex<Vec<u8>>>,
}

const TAP_BYTES: usize = 64;

impl<S: AsyncRead + Unpin> AsyncRead for Tap<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let res = Pin::new(&mut self.inner).poll_read(cx, buf);
        if res.is_ready() {
            let mut first = self.first.lock().unwrap_or_else(|e| e.into_inner());
            if first.len() < TAP_BYTES {
                let new = &buf.filled()[before..];
                let take = new.len().min(TAP_BYTES - first.len());
                first.extend_from_slice(&new[..take]);
            }
        }
        res
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Tap<S> {
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

pub type TlsStream = tokio_rustls::client::TlsStream<Tap<TcpStream>>;

/// The socket under a session.
pub enum Stream {
    Plain(TcpStream),
    Tls(Box<TlsStream>),
    Gone,
}

impl Stream {
    pub fn is_tls(&self) -> bool {
        matches!(self, Stream::Tls(_))
    }

    /// Bytes that already arrived in the kernel and were not read yet (plain TCP only): what
    /// the driver must show the protocol machine before a STARTTLS handshake.
    pub fn pending_plain(&self) -> Vec<u8> {
        let mut probe = [0u8; 64];
        match self {
            Stream::Plain(s) => match s.try_read(&mut probe) {
                Ok(n) => probe[..n].to_vec(),
                Err(_) => Vec::new(),
            },
            _ => Vec::new(),
        }
    }
}

fn gone() -> io::Error {
    io::Error::from(io::ErrorKind::NotConnected)
}

impl AsyncRead for Stream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
            Stream::Gone => Poll::Ready(Err(gone())),
        }
    }
}

impl AsyncWrite for Stream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
            Stream::Gone => Poll::Ready(Err(gone())),
        }
    }
    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_flush(cx),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
            Stream::Gone => Poll::Ready(Err(gone())),
        }
    }
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
            Stream::Gone => Poll::Ready(Ok(())),
        }
    }
}

/// What [`HandshakeFailure::VersionTooOld`] holds when the server answered with a
/// `protocol_version` alert (rather than a handshake rustls could not accept).
pub const PROTOCOL_VERSION_ALERT: &str = "protocol_version alert";

/// How a handshake failed (facts; `report` words them).
#[derive(Debug, Clone, PartialEq)]
pub enum HandshakeFailure {
    /// The handshake did not finish before its deadline.
    Timeout,
    /// The verifier refused the certificate (its findings are in the certificate check).
    CertificateRefused,
    /// The peer answered in plaintext where TLS should be: the mail protocol on a TLS port,
    /// or bytes injected after STARTTLS.
    Plaintext { first: Vec<u8> },
    /// The server speaks only TLS older than 1.2.
    VersionTooOld(String),
    /// No common parameters.
    Incompatible(String),
    /// The host can't be a TLS server name.
    BadName(String),
    /// Anything else (a reset, an alert).
    Other(String),
}

/// What a handshake showed: the report (version, cipher, certificate) and the check behind it.
#[derive(Debug, Clone, Default)]
pub struct HandshakeFacts {
    pub report: Option<TlsReport>,
    pub check: Option<CertCheck>,
}

/// Runs the TLS handshake on `tcp` for `sni`. The certificate is recorded either way; the
/// handshake fails closed on a certificate problem unless the verifier kind (`--insecure`, a
/// matching pin) accepts it.
pub async fn handshake(
    tcp: TcpStream,
    ctx: &TlsContext,
    sni: &str,
    deadline: Instant,
) -> (Result<Box<TlsStream>, HandshakeFailure>, HandshakeFacts) {
    let slot = Arc::new(Mutex::new(None));
    let config = ctx.client_config(slot.clone());
    let first = Arc::new(Mutex::new(Vec::new()));
    let tap = Tap {
        inner: tcp,
        first: first.clone(),
    };
    let name = match ServerName::try_from(sni.to_string()) {
        Ok(n) => n,
        Err(e) => {
            return (
                Err(HandshakeFailure::BadName(format!(
                    "{sni:?} can't be used as a TLS server name: {e}"
                ))),
                HandshakeFacts::default(),
            )
        }
    };
    let connector = tokio_rustls::TlsConnector::from(config);
    let result = tokio::time::timeout_at(deadline.into(), connector.connect(name, tap)).await;
    let check = slot.lock().unwrap_or_else(|e| e.into_inner()).take();
    let unfinished = |check: &Option<CertCheck>| TlsReport {
        version: None,
        cipher: None,
        certificate: check.as_ref().map(|c| c.report.clone()),
    };
    match result {
        Err(_) => (
            Err(HandshakeFailure::Timeout),
            HandshakeFacts {
                report: Some(unfinished(&check)),
                check,
            },
        ),
        Ok(Err(e)) => {
            let refused = check.as_ref().is_some_and(|c| !c.accepted());
            let failure = if refused {
                HandshakeFailure::CertificateRefused
            } else {
                let seen = first.lock().unwrap_or_else(|e| e.into_inner()).clone();
                classify(&e, seen)
            };
            (
                Err(failure),
                HandshakeFacts {
                    report: Some(unfinished(&check)),
                    check,
                },
            )
        }
        Ok(Ok(stream)) => {
            let (_, conn) = stream.get_ref();
            let report = tls_report(conn, check.clone());
            (
                Ok(Box::new(stream)),
                HandshakeFacts {
                    report: Some(report),
                    check,
                },
            )
        }
    }
}

fn classify(e: &io::Error, first: Vec<u8>) -> HandshakeFailure {
    // A TLS record starts with a content type 20..=24; anything else is not TLS.
    if first.first().is_some_and(|b| !(20..=24).contains(b)) {
        return HandshakeFailure::Plaintext { first };
    }
    match e.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>()) {
        Some(rustls::Error::PeerIncompatible(p)) => {
            let s = format!("{p:?}");
            if s.contains("Tls12") || s.contains("Version") {
                HandshakeFailure::VersionTooOld(s)
            } else {
                HandshakeFailure::Incompatible(s)
            }
        }
        Some(rustls::Error::AlertReceived(a))
            if *a == rustls::AlertDescription::ProtocolVersion =>
        {
            HandshakeFailure::VersionTooOld(PROTOCOL_VERSION_ALERT.into())
        }
        Some(other) => HandshakeFailure::Other(other.to_string()),
        None => HandshakeFailure::Other(e.to_string()),
    }
}
