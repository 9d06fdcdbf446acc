//! One connection: a TCP or TLS stream, a bounded line buffer, deadlines and the protocol trace.

use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context as TaskContext, Poll};
use std::time::Instant;

use rustls::pki_types::ServerName;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::TcpStream;

use super::Trace;
use crate::net::tls::{CertCheck, ChainFindings, ChainProblem, TlsContext, Verdict};
use crate::proto::{LineReader, ProtoError, MAX_LINE};
use crate::report::{Code, EndpointReport, PinForm, Problem, TlsReport};

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
        cx: &mut TaskContext<'_>,
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
        cx: &mut TaskContext<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

pub(super) type TlsStream = tokio_rustls::client::TlsStream<Tap<TcpStream>>;

/// The socket under a connection (`pub(super)`: `session::handoff` takes it over).
pub(super) enum Stream {
    Plain(TcpStream),
    Tls(Box<TlsStream>),
    Gone,
}

/// A connection to one endpoint.
pub struct Conn {
    stream: Stream,
    pub reader: LineReader,
    trace: Trace,
    label: String,
    /// Bytes received in total (bounded per connection).
    received: usize,
}

/// Upper bound on what one connection may receive before we stop reading.
const MAX_RECEIVED: usize = 4 * 1024 * 1024;

impl Conn {
    pub fn new(stream: TcpStream, trace: Trace, label: String) -> Self {
        Conn {
            stream: Stream::Plain(stream),
            reader: LineReader::new(MAX_LINE),
            trace,
            label,
            received: 0,
        }
    }

    pub fn is_tls(&self) -> bool {
        matches!(self.stream, Stream::Tls(_))
    }

    fn trace(&self, dir: &str, text: &str) {
        self.trace.line(&self.label, dir, text);
    }

    /// Writes a command. `shown` replaces the bytes in the trace (secrets redacted).
    pub async fn send(
        &mut self,
        bytes: &[u8],
        shown: Option<&str>,
        deadline: Instant,
    ) -> Result<(), Problem> {
        match shown {
            Some(s) => self.trace("C:", s),
            None => self.trace(
                "C:",
                String::from_utf8_lossy(bytes).trim_end_matches("\r\n"),
            ),
        }
        let fut = async {
            match &mut self.stream {
                Stream::Plain(s) => {
                    s.write_all(bytes).await?;
                    s.flush().await
                }
                Stream::Tls(s) => {
                    s.write_all(bytes).await?;
                    s.flush().await
                }
                Stream::Gone => Err(io::Error::from(io::ErrorKind::NotConnected)),
            }
        };
        match tokio::time::timeout_at(deadline.into(), fut).await {
            Err(_) => Err(Problem::error(Code::Timeout, "timed out sending a command")),
            Ok(Err(e)) => Err(Problem::error(
                Code::ConnectionClosed,
                format!("the connection failed while sending: {e}"),
            )),
            Ok(Ok(())) => Ok(()),
        }
    }

    /// One read into the line buffer.
    async fn fill(
        &mut self,
        deadline: Instant,
        waiting_for: &str,
        timeout_code: Code,
    ) -> Result<(), Problem> {
        let mut buf = [0u8; 8192];
        let fut = async {
            match &mut self.stream {
                Stream::Plain(s) => s.read(&mut buf).await,
                Stream::Tls(s) => s.read(&mut buf).await,
                Stream::Gone => Err(io::Error::from(io::ErrorKind::NotConnected)),
            }
        };
        match tokio::time::timeout_at(deadline.into(), fut).await {
            Err(_) => Err(Problem::error(
                timeout_code,
                format!("no complete answer while waiting for {waiting_for}"),
            )),
            Ok(Err(e)) => Err(Problem::error(
                Code::ConnectionClosed,
                format!("the connection failed while waiting for {waiting_for}: {e}"),
            )),
            Ok(Ok(0)) => Err(Problem::error(
                Code::ConnectionClosed,
                format!("the server closed the connection while we waited for {waiting_for}"),
            )),
            Ok(Ok(n)) => {
                self.received += n;
                if self.received > MAX_RECEIVED {
                    return Err(Problem::error(
                        Code::ReplyTooLarge,
                        format!("the server sent more than {MAX_RECEIVED} bytes"),
                    ));
                }
                if self.trace.enabled() {
                    let text = String::from_utf8_lossy(&buf[..n]);
                    for line in text.split_inclusive('\n') {
                        self.trace("S:", line.trim_end_matches(['\r', '\n']));
                    }
                }
                self.reader.push(&buf[..n]);
                Ok(())
            }
        }
    }

    /// Reads until `parse` yields a value. Every parse error and limit becomes a problem.
    pub async fn read<T>(
        &mut self,
        deadline: Instant,
        waiting_for: &str,
        timeout_code: Code,
        mut parse: impl FnMut(&mut LineReader) -> Result<Option<T>, ProtoError>,
    ) -> Result<T, Problem> {
        loop {
            match parse(&mut self.reader) {
                Ok(Some(v)) => return Ok(v),
                Ok(None) => {}
                Err(e) => return Err(proto_problem(e, waiting_for)),
            }
            self.fill(deadline, waiting_for, timeout_code).await?;
        }
    }

    /// Bytes that already arrived in the kernel but were not read yet (plain TCP only).
    fn kernel_pending(&self) -> usize {
        let mut probe = [0u8; 64];
        match &self.stream {
            // 0 = EOF or nothing pending: the handshake will fail on its own.
            Stream::Plain(s) => s.try_read(&mut probe).unwrap_or_default(),
            _ => 0,
        }
    }

    /// Waits up to `wait` for any bytes at all and returns how many are buffered.
    /// Used by the STARTTLS command-injection check, where silence is the good answer.
    pub async fn bytes_within(&mut self, wait: std::time::Duration, deadline: Instant) -> usize {
        let until = (Instant::now() + wait).min(deadline);
        while self.reader.buffered() == 0 && Instant::now() < until {
            if self.fill(until, "anything", Code::Timeout).await.is_err() {
                break;
            }
        }
        self.reader.buffered()
    }

    /// Whether anything at all is waiting after a positive STARTTLS reply.
    pub fn pending_after_starttls(&self) -> usize {
        self.reader.buffered() + self.kernel_pending()
    }

    /// Runs the TLS handshake (implicit TLS, or after a positive STARTTLS reply).
    /// Certificate findings go into `rep` either way; the handshake fails closed on a
    /// certificate problem unless `--insecure` or a matching `--pin-sha256` allows it.
    pub async fn start_tls(
        &mut self,
        tls: &TlsContext,
        sni: &str,
        after_starttls: bool,
        deadline: Instant,
        rep: &mut EndpointReport,
    ) -> Result<(), Vec<Problem>> {
        // State from before TLS is discarded, whatever it was.
        self.reader.clear();
        let Stream::Plain(tcp) = std::mem::replace(&mut self.stream, Stream::Gone) else {
            return Err(vec![Problem::error(
                Code::ProtocolError,
                "internal: TLS started twice",
            )]);
        };
        let slot = Arc::new(Mutex::new(None));
        let config = tls.client_config(slot.clone());
        let first = Arc::new(Mutex::new(Vec::new()));
        let tap = Tap {
            inner: tcp,
            first: first.clone(),
        };
        let name = ServerName::try_from(sni.to_string()).map_err(|e| {
            vec![Problem::error(
                Code::TlsHandshakeFailed,
                format!("{sni:?} can't be used as a TLS server name: {e}"),
            )]
        })?;
        self.trace("--", "TLS handshake");
        let connector = tokio_rustls::TlsConnector::from(config);
        let result = tokio::time::timeout_at(deadline.into(), connector.connect(name, tap)).await;
        let check = slot.lock().unwrap_or_else(|e| e.into_inner()).take();
        let mut problems = cert_problems(check.as_ref());
        match result {
            Err(_) => {
                rep.tls = Some(TlsReport {
                    version: None,
                    cipher: None,
                    certificate: check.map(|c| c.report),
                });
                problems.push(Problem::error(
                    Code::TlsHandshakeTimeout,
                    "the TLS handshake did not finish in time",
                ));
                Err(problems)
            }
            Ok(Err(e)) => {
                rep.tls = Some(TlsReport {
                    version: None,
                    cipher: None,
                    certificate: check.as_ref().map(|c| c.report.clone()),
                });
                let cert_refused = check.as_ref().is_some_and(|c| !c.accepted());
                if !cert_refused {
                    let seen = first.lock().unwrap_or_else(|e| e.into_inner()).clone();
                    problems.push(handshake_problem(&e, &seen, after_starttls));
                }
                Err(problems)
            }
            Ok(Ok(stream)) => {
                let (_, conn) = stream.get_ref();
                let report = crate::net::tls::tls_report(conn, check.clone());
                self.trace(
                    "--",
                    &format!(
                        "TLS established: {} {}",
                        report.version.as_deref().unwrap_or("?"),
                        report.cipher.as_deref().unwrap_or("?")
                    ),
                );
                rep.tls = Some(report);
                rep.problems.extend(problems);
                self.stream = Stream::Tls(Box::new(stream));
                Ok(())
            }
        }
    }

    /// The socket and whatever arrived but was not read yet, for `session::handoff`.
    pub(super) fn into_parts(mut self) -> (Stream, Vec<u8>) {
        let buffered = self.reader.take_buffered();
        (std::mem::replace(&mut self.stream, Stream::Gone), buffered)
    }

    /// The trace and its label, for `session::handoff`.
    pub(super) fn trace_label(&self) -> (Trace, String) {
        (self.trace.clone(), self.label.clone())
    }

    /// Best-effort polite close.
    pub async fn shutdown(&mut self) {
        let deadline = Instant::now() + std::time::Duration::from_millis(200);
        let fut = async {
            match &mut self.stream {
                Stream::Plain(s) => {
                    let _ = s.shutdown().await;
                }
                Stream::Tls(s) => {
                    let _ = s.shutdown().await;
                }
                Stream::Gone => {}
            }
        };
        let _ = tokio::time::timeout_at(deadline.into(), fut).await;
    }
}

/// Problems from the certificate check. What decided (the verdict of the run's verifier
/// kind) is an error when it refused; the other findings are errors when they are the
/// reason for a refusal, warnings when `--insecure` overrode them, and information when a pin
/// decided (then they are facts, not reasons).
fn cert_problems(check: Option<&CertCheck>) -> Vec<Problem> {
    use crate::report::Severity;
    let Some(c) = check else { return vec![] };
    let mut out = vec![];
    let findings = match c.verdict {
        Verdict::Valid | Verdict::Refused => Severity::Error,
        Verdict::Insecure => Severity::Warning,
        Verdict::Pinned(_) | Verdict::PinMismatch => Severity::Info,
    };
    let finding = |code: Code, message: String| Problem::new(findings, code, message);
    if let Some(e) = &c.trust_error {
        out.push(chain_problem(c, e, findings));
    }
    if c.expired {
        out.push(finding(
            Code::TlsCertExpired,
            format!("the certificate expired on {}", c.report.not_after),
        ));
    }
    if c.not_yet_valid {
        out.push(finding(
            Code::TlsCertNotYetValid,
            format!("the certificate is only valid from {}", c.report.not_before),
        ));
    }
    if !c.report.hostname_match {
        out.push(finding(
            Code::TlsCertHostnameMismatch,
            format!(
                "the certificate is not valid for this host name; it names: {}",
                if c.report.sans.is_empty() {
                    c.report.subject.clone()
                } else {
                    c.report.sans.join(", ")
                }
            ),
        ));
    }
    if let Some(p) = chain_layout_problem(&c.chain, findings.max(Severity::Warning)) {
        out.push(p);
    }
    match c.verdict {
        Verdict::Pinned(form) => out.push(Problem::info(
            Code::TlsPinMatched,
            format!(
                "certificate accepted because its {} matches --pin-sha256 ({})",
                match form {
                    PinForm::CertificateSha256 => "SHA-256",
                    PinForm::SpkiSha256 => "public key's SHA-256",
                },
                match form {
                    PinForm::CertificateSha256 => c.report.sha256.clone(),
                    PinForm::SpkiSha256 => format!("sha256//{}", c.report.spki_sha256),
                }
            ),
        )),
        Verdict::PinMismatch => out.push(Problem::error(
            Code::TlsPinMismatch,
            format!(
                "the certificate matches no --pin-sha256: its SHA-256 is {}, its public key's sha256//{}",
                c.report.sha256, c.report.spki_sha256
            ),
        )),
        Verdict::Insecure => out.push(Problem::warning(
            Code::TlsInsecureAccepted,
            "this certificate would have been refused; accepted only because of --insecure",
        )),
        Verdict::Valid | Verdict::Refused => {}
    }
    if c.valid() && (0..30).contains(&c.report.days_left) {
        out.push(Problem::warning(
            Code::CertExpiresSoon,
            format!(
                "the certificate expires in {} days ({})",
                c.report.days_left, c.report.not_after
            ),
        ));
    }
    out
}

/// Why the chain is not trusted, with the code that tells the user what to do.
fn chain_problem(c: &CertCheck, rustls_words: &str, severity: crate::report::Severity) -> Problem {
    let (code, message) = match &c.chain.problem {
        Some(ChainProblem::SelfSigned) => (
            Code::TlsCertSelfSigned,
            format!(
                "the certificate is self-signed (issued by itself, {}): no authority vouches for it",
                c.report.subject
            ),
        ),
        Some(ChainProblem::Incomplete { issuer, ca_issuers }) => (
            Code::TlsCertChainIncomplete,
            format!(
                "the chain is incomplete: the server did not send the certificate of the intermediate CA \"{issuer}\", which issued its certificate{}",
                match ca_issuers.first() {
                    Some(url) => format!(" (the certificate says it can be downloaded from {url})"),
                    None => " (it is not among the trusted authorities either, so if it is in fact a private root CA, the --ca-file given is not the one that issued this certificate)".into(),
                }
            ),
        ),
        Some(ChainProblem::UntrustedRoot { root }) => (
            Code::TlsCertUntrusted,
            format!("the chain ends at the root CA \"{root}\", which is not a trusted authority here"),
        ),
        Some(ChainProblem::UnknownIssuer { issuer }) => (
            Code::TlsCertUntrusted,
            format!("the certificate is issued by \"{issuer}\", which is not a trusted authority here (a private or unknown CA)"),
        ),
        Some(ChainProblem::Other { detail }) => (
            Code::TlsCertUntrusted,
            format!("the certificate chain is not trusted ({detail}); issuer: {}", c.report.issuer),
        ),
        None => (
            Code::TlsCertUntrusted,
            format!("the certificate chain is not trusted ({rustls_words}); issuer: {}", c.report.issuer),
        ),
    };
    Problem::new(severity, code, message)
}

/// Certificates sent that are not part of the chain, or a chain sent out of order.
fn chain_layout_problem(
    chain: &ChainFindings,
    severity: crate::report::Severity,
) -> Option<Problem> {
    let mut parts = Vec::new();
    if !chain.extras.is_empty() {
        let names: Vec<String> = chain.extras.iter().map(|s| format!("\"{s}\"")).collect();
        parts.push(format!(
            "the server sent certificates that are not part of its chain: {}",
            names.join(", ")
        ));
    }
    if chain.misordered {
        parts.push(
            "the server sent its chain out of order (each certificate should be followed by its issuer)"
                .to_string(),
        );
    }
    (!parts.is_empty()).then(|| Problem::new(severity, Code::TlsCertChainExtra, parts.join("; ")))
}

fn handshake_problem(e: &io::Error, first: &[u8], after_starttls: bool) -> Problem {
    let rustls_err = e.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>());
    // A TLS record starts with a content type 20..=24; anything else is not TLS.
    let plaintext = first.first().is_some_and(|b| !(20..=24).contains(b));
    if plaintext {
        let shown = crate::proto::text(first);
        return if after_starttls {
            Problem::error(
                Code::StarttlsInjection,
                format!("plaintext arrived where the TLS handshake should be: {shown:?}"),
            )
        } else {
            Problem::error(
                Code::TlsPlaintextOnTlsPort,
                format!("the server answered in plaintext instead of TLS: {shown:?}"),
            )
        };
    }
    match rustls_err {
        Some(rustls::Error::PeerIncompatible(p)) => {
            let s = format!("{p:?}");
            if s.contains("Tls12") || s.contains("Version") {
                Problem::error(Code::TlsVersionTooOld, format!("the server does not speak TLS 1.2 or 1.3 ({s})"))
            } else {
                Problem::error(Code::TlsHandshakeFailed, format!("no common TLS parameters: {s}"))
            }
        }
        Some(rustls::Error::AlertReceived(a)) if *a == rustls::AlertDescription::ProtocolVersion => Problem::error(
            Code::TlsVersionTooOld,
            "the server rejected TLS 1.2 and 1.3 (protocol_version alert): it only speaks an older, insecure TLS",
        ),
        Some(other) => Problem::error(Code::TlsHandshakeFailed, format!("TLS handshake failed: {other}")),
        None => Problem::error(Code::TlsHandshakeFailed, format!("TLS handshake failed: {e}")),
    }
}

fn proto_problem(e: ProtoError, waiting_for: &str) -> Problem {
    let code = match e {
        ProtoError::LineTooLong { .. } => Code::LineTooLong,
        ProtoError::ReplyTooLarge { .. }
        | ProtoError::TooManyLines { .. }
        | ProtoError::LiteralTooLarge { .. } => Code::ReplyTooLarge,
        ProtoError::Malformed(_) => Code::ProtocolError,
    };
    Problem::error(code, format!("{e} (while waiting for {waiting_for})"))
}
