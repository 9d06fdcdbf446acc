//! Scripted fake mail servers for hostile-server tests.
//!
//! [`FakeServer`] listens on `127.0.0.1:<ephemeral>` and runs a script ([`Step`]s, in order)
//! on every accepted connection, one connection after another, in a background thread with
//! its own tokio runtime, so plain `#[test]`s can spawn the `mailsetup` binary against
//! `server.port`. Everything the server reads is recorded exactly as it crossed the wire:
//! before the first [`Step::StartTls`] into [`FakeServer::transcript`], afterwards
//! (decrypted) into [`FakeServer::received_in_tls`].
//!
//! Rules worth knowing:
//! * Implicit TLS (993/995/465) = `Step::StartTls(cfg)` as the first step.
//! * Every blocking point has a timeout ([`FakeOptions::timeout`], default 10 s); reads are
//!   bounded (64 KiB per line, 16 MiB per connection).
//! * Read steps that hit EOF, a timeout or an IO error, and failed writes in `Send`/`SendSplit`,
//!   record an error and end that connection. `Expect` mismatches are recorded and the script
//!   continues. In `Drip`/`SendForever` a failed or stalled write (client gave up) ends the
//!   connection *without* an error: that is the expected outcome of those attacks.
//! * When the script ends (or at `Close`) the server shuts down its sending side (TLS:
//!   close_notify), then keeps reading and recording until the client closes, for at most
//!   [`FakeOptions::linger`] (default 2 s). To capture what a client sends after the last
//!   scripted reply (e.g. a password sent in plaintext), end with `ReadUntilEof`/`Silence`.
//! * Bytes that arrive before the handshake but after the STARTTLS command line was read
//!   (a client that does not wait for the STARTTLS reply) are recorded in the plaintext
//!   transcript, reported in `errors()`, and then fed to the TLS handshake.
//! * The transcript is complete only once the connection has finished; after the client
//!   process has exited, call [`FakeServer::wait_done`] before asserting on it.
//! * Dropping the server aborts the current connection and joins the thread.

use std::borrow::Cow;
use std::io;
use std::net::{SocketAddr, TcpStream as StdTcpStream};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::task::{Context, Poll};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// Default timeout for every blocking point of a script.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
/// Longest line `Expect`/`ReadLine`/`ExpectTagged` will buffer.
pub const MAX_LINE: usize = 64 * 1024;
/// Most bytes read from one connection before it is aborted.
pub const MAX_CONN_BYTES: usize = 16 * 1024 * 1024;

/// One step of a fake-server script.
#[derive(Clone, Debug)]
pub enum Step {
    /// Write these bytes in one write + flush (TCP_NODELAY is set: one segment in practice).
    /// `{tag}` is replaced by the tag remembered by the last `ExpectTagged`, if any.
    Send(Vec<u8>),
    /// Several write+flush calls with `Duration` between them (controls segment boundaries).
    SendSplit(Vec<Vec<u8>>, Duration),
    /// Read one LF-terminated line (≤ 64 KiB) and check it starts with this prefix
    /// (ASCII case-insensitive). A mismatch is recorded in `errors()`; the script goes on.
    Expect(String),
    /// Read one line, whatever it is.
    ReadLine,
    /// IMAP: read `TAG CMD…`, check `CMD…` starts with the prefix (case-insensitive),
    /// remember `TAG` for `{tag}` in later sends.
    ExpectTagged(String),
    /// Do nothing for this long.
    Sleep(Duration),
    /// Switch to TLS (server side). Everything after runs inside TLS.
    StartTls(Arc<rustls::ServerConfig>),
    /// Send one byte at a time (write + flush each) with this delay between bytes.
    Drip(Vec<u8>, Duration),
    /// Keep writing `line` until the client stops reading/disconnects or exactly `max_bytes`
    /// bytes have been written (the last line may be cut).
    SendForever { line: Vec<u8>, max_bytes: usize },
    /// Read and record whatever arrives, send nothing, for this long (or until EOF).
    /// What is read stays buffered for later `Expect` steps.
    Silence(Duration),
    /// Shut down gracefully (see module docs) and end the script for this connection.
    Close,
    /// Record everything until the client closes (bounded by the timeout; no EOF = error).
    ReadUntilEof,
}

/// `Step::Send` of a string or bytes.
pub fn send(data: impl AsRef<[u8]>) -> Step {
    Step::Send(data.as_ref().to_vec())
}

/// `Step::Expect` with this prefix.
pub fn expect(prefix: &str) -> Step {
    Step::Expect(prefix.to_string())
}

/// `Step::ExpectTagged` with this command prefix.
pub fn expect_tagged(cmd_prefix: &str) -> Step {
    Step::ExpectTagged(cmd_prefix.to_string())
}

/// `* OK [CAPABILITY IMAP4rev1 STARTTLS AUTH=PLAIN] fake ready\r\n`
pub fn imap_greeting() -> Step {
    send("* OK [CAPABILITY IMAP4rev1 STARTTLS AUTH=PLAIN] fake ready\r\n")
}

/// `+OK fake POP3 ready\r\n`
pub fn pop3_greeting() -> Step {
    send("+OK fake POP3 ready\r\n")
}

/// `220 fake.test ESMTP fake ready\r\n`
pub fn smtp_greeting() -> Step {
    send("220 fake.test ESMTP fake ready\r\n")
}

/// Options for [`FakeServer::start_with`].
#[derive(Clone, Debug)]
pub struct FakeOptions {
    /// Serve at most this many connections, then close the listener (later connects are
    /// refused). `None` = until dropped.
    pub max_connections: Option<usize>,
    /// Timeout of every blocking point (reads, writes, handshake, `ReadUntilEof`).
    pub timeout: Duration,
    /// After the script ends: how long to keep reading until the client closes.
    pub linger: Duration,
}

impl Default for FakeOptions {
    fn default() -> Self {
        FakeOptions {
            max_connections: None,
            timeout: DEFAULT_TIMEOUT,
            linger: Duration::from_secs(2),
        }
    }
}

/// What happened on one connection.
#[derive(Clone, Debug, Default)]
pub struct ConnLog {
    /// Bytes received before `StartTls`, exactly as on the wire.
    pub plaintext: Vec<u8>,
    /// Bytes received after `StartTls`, decrypted.
    pub tls: Vec<u8>,
    /// Expect mismatches, IO errors, timeouts, handshake failures.
    pub errors: Vec<String>,
    /// Application bytes written by the server.
    pub bytes_sent: usize,
    /// The script (and the final linger) has completed.
    pub finished: bool,
}

#[derive(Default)]
struct State {
    conns: Vec<ConnLog>,
    server_errors: Vec<String>,
}

#[derive(Default)]
struct Shared {
    state: Mutex<State>,
    cv: Condvar,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn update<R>(&self, f: impl FnOnce(&mut State) -> R) -> R {
        let r = f(&mut self.lock());
        self.cv.notify_all();
        r
    }

    fn conn<R>(&self, idx: usize, f: impl FnOnce(&mut ConnLog) -> R) -> R {
        self.update(|s| f(&mut s.conns[idx]))
    }
}

/// A scripted fake server; see the module docs.
pub struct FakeServer {
    pub port: u16,
    shared: Arc<Shared>,
    stop: watch::Sender<bool>,
    thread: Option<JoinHandle<()>>,
}

impl FakeServer {
    /// Serves connections one after another, each with the full script, until dropped.
    pub fn start(script: Vec<Step>) -> FakeServer {
        Self::start_with(script, FakeOptions::default())
    }

    /// Serves only the first connection; later connects are refused.
    pub fn start_once(script: Vec<Step>) -> FakeServer {
        Self::start_n(script, 1)
    }

    /// Serves `n` connections (one after another), then closes the listener.
    pub fn start_n(script: Vec<Step>, n: usize) -> FakeServer {
        Self::start_with(
            script,
            FakeOptions {
                max_connections: Some(n),
                ..FakeOptions::default()
            },
        )
    }

    /// Full control.
    pub fn start_with(script: Vec<Step>, opts: FakeOptions) -> FakeServer {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind fake server");
        listener
            .set_nonblocking(true)
            .expect("nonblocking listener");
        let port = listener.local_addr().expect("local addr").port();
        let shared = Arc::new(Shared::default());
        let (stop, stop_rx) = watch::channel(false);
        let sh = shared.clone();
        let thread = std::thread::Builder::new()
            .name(format!("fake-server-{port}"))
            .spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("fake server runtime");
                rt.block_on(accept_loop(listener, script, opts, sh, stop_rx));
            })
            .expect("spawn fake server thread");
        FakeServer {
            port,
            shared,
            stop,
            thread: Some(thread),
        }
    }

    /// `127.0.0.1:port`.
    pub fn addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.port))
    }

    /// Everything received in plaintext (before `StartTls`), concatenated over connections.
    pub fn transcript(&self) -> Vec<u8> {
        self.shared
            .lock()
            .conns
            .iter()
            .flat_map(|c| c.plaintext.iter().copied())
            .collect()
    }

    /// Everything received after `StartTls` (decrypted), concatenated over connections.
    pub fn received_in_tls(&self) -> Vec<u8> {
        self.shared
            .lock()
            .conns
            .iter()
            .flat_map(|c| c.tls.iter().copied())
            .collect()
    }

    /// Per connection: plaintext then TLS, concatenated over connections.
    pub fn received_all(&self) -> Vec<u8> {
        self.shared
            .lock()
            .conns
            .iter()
            .flat_map(|c| c.plaintext.iter().chain(c.tls.iter()).copied())
            .collect()
    }

    /// Number of connections accepted so far.
    pub fn connections(&self) -> usize {
        self.shared.lock().conns.len()
    }

    /// All errors, each prefixed with `conn N: ` (N from 0).
    pub fn errors(&self) -> Vec<String> {
        let st = self.shared.lock();
        let mut out: Vec<String> = st
            .server_errors
            .iter()
            .map(|e| format!("server: {e}"))
            .collect();
        for (i, c) in st.conns.iter().enumerate() {
            out.extend(c.errors.iter().map(|e| format!("conn {i}: {e}")));
        }
        out
    }

    /// Per-connection logs (copies).
    pub fn connection_logs(&self) -> Vec<ConnLog> {
        self.shared.lock().conns.clone()
    }

    /// Waits until at least `n` connections have finished their script (and linger).
    /// Returns false on timeout.
    pub fn wait_done(&self, n: usize, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let mut st = self.shared.lock();
        loop {
            if st.conns.iter().filter(|c| c.finished).count() >= n {
                return true;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            st = self
                .shared
                .cv
                .wait_timeout(st, left)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }

    /// Text dump of all logs for assertion messages.
    pub fn debug_dump(&self) -> String {
        let mut s = String::new();
        for (i, c) in self.connection_logs().iter().enumerate() {
            s.push_str(&format!(
                "--- conn {i} (finished: {}, sent {} bytes)\nplaintext: {}\ntls: {}\nerrors: {:?}\n",
                c.finished,
                c.bytes_sent,
                show(&c.plaintext, 4096),
                show(&c.tls, 4096),
                c.errors
            ));
        }
        s
    }
}

impl Drop for FakeServer {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

async fn accept_loop(
    listener: std::net::TcpListener,
    script: Vec<Step>,
    opts: FakeOptions,
    shared: Arc<Shared>,
    mut stop: watch::Receiver<bool>,
) {
    let mut listener = match TcpListener::from_std(listener) {
        Ok(l) => Some(l),
        Err(e) => {
            shared.update(|s| s.server_errors.push(format!("listener: {e}")));
            return;
        }
    };
    if opts.max_connections == Some(0) {
        listener = None;
    }
    let mut served = 0usize;
    while let Some(l) = &listener {
        let accepted = tokio::select! {
            r = l.accept() => r,
            _ = stop.wait_for(|s| *s) => break,
        };
        let stream = match accepted {
            Ok((stream, _)) => stream,
            Err(e) => {
                shared.update(|s| s.server_errors.push(format!("accept: {e}")));
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        served += 1;
        let idx = shared.update(|s| {
            s.conns.push(ConnLog::default());
            s.conns.len() - 1
        });
        let mut conn = Conn::new(stream, idx, shared.clone(), &opts);
        let stopped = tokio::select! {
            _ = conn.run(&script) => false,
            _ = stop.wait_for(|s| *s) => true,
        };
        drop(conn);
        if opts.max_connections.is_some_and(|max| served >= max) {
            // Close the listener before anyone can observe `finished`.
            listener = None;
        }
        shared.conn(idx, |c| c.finished = true);
        if stopped {
            break;
        }
    }
}

enum Io {
    Plain(TcpStream),
    Tls(Box<tokio_rustls::server::TlsStream<Prefixed>>),
    Gone,
}

/// A TCP stream that first yields bytes already read from it (pending at `StartTls`).
struct Prefixed {
    pre: Vec<u8>,
    pos: usize,
    inner: TcpStream,
}

impl AsyncRead for Prefixed {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.pos < this.pre.len() {
            let n = buf.remaining().min(this.pre.len() - this.pos);
            buf.put_slice(&this.pre[this.pos..this.pos + n]);
            this.pos += n;
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut this.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for Prefixed {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }
    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

enum Flow {
    Continue,
    Stop,
}

struct Conn {
    io: Io,
    buf: Vec<u8>,
    tls: bool,
    eof: bool,
    total_read: usize,
    tag: Option<Vec<u8>>,
    idx: usize,
    shared: Arc<Shared>,
    timeout: Duration,
    linger: Duration,
}

/// Printable, escaped, truncated form of received bytes.
pub fn show(data: &[u8], max: usize) -> String {
    let cut = &data[..data.len().min(max)];
    let mut s = cut.escape_ascii().to_string();
    if data.len() > max {
        s.push_str(&format!("…(+{} bytes)", data.len() - max));
    }
    s
}

fn starts_with_ci(line: &[u8], prefix: &[u8]) -> bool {
    line.len() >= prefix.len() && line[..prefix.len()].eq_ignore_ascii_case(prefix)
}

fn trim_eol(line: &[u8]) -> &[u8] {
    let l = line.strip_suffix(b"\n").unwrap_or(line);
    l.strip_suffix(b"\r").unwrap_or(l)
}

fn replace_all(data: &[u8], pat: &[u8], with: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len());
    let mut i = 0;
    while i < data.len() {
        if data[i..].starts_with(pat) {
            out.extend_from_slice(with);
            i += pat.len();
        } else {
            out.push(data[i]);
            i += 1;
        }
    }
    out
}

impl Conn {
    fn new(stream: TcpStream, idx: usize, shared: Arc<Shared>, opts: &FakeOptions) -> Conn {
        let _ = stream.set_nodelay(true);
        Conn {
            io: Io::Plain(stream),
            buf: Vec::new(),
            tls: false,
            eof: false,
            total_read: 0,
            tag: None,
            idx,
            shared,
            timeout: opts.timeout,
            linger: opts.linger,
        }
    }

    fn error(&self, msg: String) {
        self.shared.conn(self.idx, |c| c.errors.push(msg));
    }

    async fn run(&mut self, script: &[Step]) {
        for step in script {
            match self.step(step).await {
                Ok(Flow::Continue) => {}
                Ok(Flow::Stop) => return,
                Err(e) => {
                    self.error(e);
                    break;
                }
            }
        }
        self.close().await;
    }

    // ---- reading ----

    async fn io_read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match &mut self.io {
            Io::Plain(s) => s.read(buf).await,
            Io::Tls(s) => s.read(buf).await,
            Io::Gone => Ok(0),
        }
    }

    /// Reads once. `Ok(None)` = deadline passed, `Ok(Some(0))` = EOF.
    async fn read_some(&mut self, deadline: Instant) -> io::Result<Option<usize>> {
        if self.eof {
            return Ok(Some(0));
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Ok(None);
        }
        let mut tmp = vec![0u8; 16 * 1024];
        let n = match tokio::time::timeout(left, self.io_read(&mut tmp)).await {
            Err(_) => return Ok(None),
            Ok(Ok(n)) => n,
            Ok(Err(e)) if e.kind() == io::ErrorKind::UnexpectedEof => 0,
            Ok(Err(e)) => return Err(e),
        };
        if n == 0 {
            self.eof = true;
            return Ok(Some(0));
        }
        let data = &tmp[..n];
        let tls = self.tls;
        self.shared.conn(self.idx, |c| {
            if tls {
                c.tls.extend_from_slice(data);
            } else {
                c.plaintext.extend_from_slice(data);
            }
        });
        self.buf.extend_from_slice(data);
        self.total_read += n;
        if self.total_read > MAX_CONN_BYTES {
            return Err(io::Error::other(format!(
                "client sent more than {MAX_CONN_BYTES} bytes"
            )));
        }
        Ok(Some(n))
    }

    async fn read_line(&mut self) -> Result<Vec<u8>, String> {
        let deadline = Instant::now() + self.timeout;
        loop {
            if let Some(pos) = self.buf.iter().position(|&b| b == b'\n') {
                return Ok(self.buf.drain(..=pos).collect());
            }
            if self.buf.len() >= MAX_LINE {
                let l: Vec<u8> = self.buf.drain(..MAX_LINE).collect();
                return Err(format!(
                    "line longer than {MAX_LINE} bytes: {}",
                    show(&l, 200)
                ));
            }
            match self.read_some(deadline).await {
                Ok(Some(0)) if self.buf.is_empty() => return Err("EOF".into()),
                Ok(Some(0)) => {
                    return Err(format!("EOF after partial line {}", show(&self.buf, 200)))
                }
                Ok(Some(_)) => {}
                Ok(None) => {
                    return Err(format!(
                        "timeout after {:?} (pending: {})",
                        self.timeout,
                        show(&self.buf, 200)
                    ))
                }
                Err(e) => return Err(format!("read error: {e}")),
            }
        }
    }

    // ---- writing ----

    async fn write_flush(&mut self, data: &[u8]) -> io::Result<()> {
        let t = self.timeout;
        let fut = async {
            match &mut self.io {
                Io::Plain(s) => {
                    s.write_all(data).await?;
                    s.flush().await
                }
                Io::Tls(s) => {
                    s.write_all(data).await?;
                    s.flush().await
                }
                Io::Gone => Err(io::Error::from(io::ErrorKind::NotConnected)),
            }
        };
        match tokio::time::timeout(t, fut).await {
            Ok(r) => r?,
            Err(_) => return Err(io::Error::new(io::ErrorKind::TimedOut, "write timed out")),
        }
        let n = data.len();
        self.shared.conn(self.idx, |c| c.bytes_sent += n);
        Ok(())
    }

    fn subst<'a>(&self, data: &'a [u8]) -> Cow<'a, [u8]> {
        match &self.tag {
            Some(tag) if data.windows(5).any(|w| w == b"{tag}") => {
                Cow::Owned(replace_all(data, b"{tag}", tag))
            }
            _ => Cow::Borrowed(data),
        }
    }

    /// Graceful close: shut down our side, record until the client closes (≤ linger).
    async fn close(&mut self) {
        let t = Duration::from_secs(1);
        match &mut self.io {
            Io::Plain(s) => {
                let _ = tokio::time::timeout(t, s.shutdown()).await;
            }
            Io::Tls(s) => {
                let _ = tokio::time::timeout(t, s.shutdown()).await;
            }
            Io::Gone => {}
        }
        let deadline = Instant::now() + self.linger;
        while let Ok(Some(n)) = self.read_some(deadline).await {
            if n == 0 {
                break;
            }
        }
        self.io = Io::Gone;
    }

    // ---- steps ----

    async fn step(&mut self, step: &Step) -> Result<Flow, String> {
        match step {
            Step::Send(data) => {
                let data = self.subst(data).into_owned();
                self.write_flush(&data)
                    .await
                    .map_err(|e| format!("Send {}: {e}", show(&data, 100)))?;
            }
            Step::SendSplit(parts, delay) => {
                for (i, part) in parts.iter().enumerate() {
                    if i > 0 {
                        tokio::time::sleep(*delay).await;
                    }
                    let part = self.subst(part).into_owned();
                    self.write_flush(&part)
                        .await
                        .map_err(|e| format!("SendSplit part {i}: {e}"))?;
                }
            }
            Step::Expect(prefix) => {
                let line = self
                    .read_line()
                    .await
                    .map_err(|e| format!("Expect({prefix:?}): {e}"))?;
                if !starts_with_ci(&line, prefix.as_bytes()) {
                    self.error(format!("Expect({prefix:?}): got {}", show(&line, 200)));
                }
            }
            Step::ReadLine => {
                self.read_line()
                    .await
                    .map_err(|e| format!("ReadLine: {e}"))?;
            }
            Step::ExpectTagged(prefix) => {
                let line = self
                    .read_line()
                    .await
                    .map_err(|e| format!("ExpectTagged({prefix:?}): {e}"))?;
                let l = trim_eol(&line);
                let (tag, rest) = match l.iter().position(|&b| b == b' ') {
                    Some(p) => (&l[..p], &l[p + 1..]),
                    None => (l, &l[l.len()..]),
                };
                self.tag = Some(tag.to_vec());
                if tag.is_empty() || !starts_with_ci(rest, prefix.as_bytes()) {
                    self.error(format!(
                        "ExpectTagged({prefix:?}): got {}",
                        show(&line, 200)
                    ));
                }
            }
            Step::Sleep(d) => tokio::time::sleep(*d).await,
            Step::StartTls(cfg) => {
                let tcp = match std::mem::replace(&mut self.io, Io::Gone) {
                    Io::Plain(s) => s,
                    other => {
                        self.io = other;
                        return Err("StartTls: connection is not plaintext".into());
                    }
                };
                let pending = std::mem::take(&mut self.buf);
                if !pending.is_empty() {
                    self.error(format!(
                        "StartTls: {} bytes were already received before the handshake: {}",
                        pending.len(),
                        show(&pending, 200)
                    ));
                }
                let stream = Prefixed {
                    pre: pending,
                    pos: 0,
                    inner: tcp,
                };
                let acceptor = tokio_rustls::TlsAcceptor::from(cfg.clone());
                match tokio::time::timeout(self.timeout, acceptor.accept(stream)).await {
                    Err(_) => return Err("StartTls: handshake timed out".into()),
                    Ok(Err(e)) => return Err(format!("StartTls: handshake failed: {e}")),
                    Ok(Ok(s)) => {
                        self.io = Io::Tls(Box::new(s));
                        self.tls = true;
                        self.eof = false;
                    }
                }
            }
            Step::Drip(data, delay) => {
                let data = self.subst(data).into_owned();
                for (i, b) in data.iter().enumerate() {
                    if i > 0 {
                        tokio::time::sleep(*delay).await;
                    }
                    if self.write_flush(&[*b]).await.is_err() {
                        return Ok(Flow::Stop);
                    }
                }
            }
            Step::SendForever { line, max_bytes } => {
                if line.is_empty() {
                    return Err("SendForever: empty line".into());
                }
                let reps = (64 * 1024 / line.len()).max(1);
                let chunk = line.repeat(reps);
                let mut sent = 0usize;
                while sent < *max_bytes {
                    let n = chunk.len().min(max_bytes - sent);
                    if self.write_flush(&chunk[..n]).await.is_err() {
                        return Ok(Flow::Stop);
                    }
                    sent += n;
                }
            }
            Step::Silence(d) => {
                let deadline = Instant::now() + *d;
                loop {
                    match self.read_some(deadline).await {
                        Ok(None) | Ok(Some(0)) => break,
                        Ok(Some(_)) => {}
                        Err(e) => return Err(format!("Silence: read error: {e}")),
                    }
                }
            }
            Step::Close => {
                self.close().await;
                return Ok(Flow::Stop);
            }
            Step::ReadUntilEof => {
                let deadline = Instant::now() + self.timeout;
                loop {
                    match self.read_some(deadline).await {
                        Ok(Some(0)) => break,
                        Ok(Some(_)) => {}
                        Ok(None) => {
                            return Err(format!("ReadUntilEof: no EOF within {:?}", self.timeout))
                        }
                        Err(e) => return Err(format!("ReadUntilEof: read error: {e}")),
                    }
                }
            }
        }
        Ok(Flow::Continue)
    }
}

/// A listener that accepts connections and never sends anything (keeps them open).
pub struct SilentServer {
    pub port: u16,
    accepted: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl SilentServer {
    pub fn start() -> SilentServer {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind silent server");
        listener.set_nonblocking(true).expect("nonblocking");
        let port = listener.local_addr().expect("local addr").port();
        let accepted = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (acc, st) = (accepted.clone(), stop.clone());
        let thread = std::thread::Builder::new()
            .name(format!("silent-server-{port}"))
            .spawn(move || {
                let mut held: Vec<StdTcpStream> = Vec::new();
                while !st.load(Ordering::SeqCst) {
                    match listener.accept() {
                        Ok((s, _)) => {
                            held.push(s);
                            acc.fetch_add(1, Ordering::SeqCst);
                        }
                        Err(_) => std::thread::sleep(Duration::from_millis(5)),
                    }
                }
            })
            .expect("spawn silent server");
        SilentServer {
            port,
            accepted,
            stop,
            thread: Some(thread),
        }
    }

    /// Connections accepted so far.
    pub fn connections(&self) -> usize {
        self.accepted.load(Ordering::SeqCst)
    }
}

impl Drop for SilentServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// A port on 127.0.0.1 where TCP connects hang (SYN never answered): a listener with
/// backlog 0 whose accept queue is filled by a connection of our own and never accepted.
/// Linux drops SYNs to a listener whose accept queue is full.
pub struct Blackhole {
    pub port: u16,
    _listener: std::net::TcpListener,
    _fillers: Vec<StdTcpStream>,
}

impl Blackhole {
    /// Panics if the accept queue cannot be filled (see [`Blackhole::try_new`]).
    pub fn start() -> Blackhole {
        Self::try_new().expect("blackhole listener")
    }

    /// Binds, listens with backlog 0 and connects fillers until a connect times out.
    pub fn try_new() -> io::Result<Blackhole> {
        // std cannot choose the backlog; tokio's TcpSocket can. Its runtime is built on a
        // separate thread so this also works when called from inside an async test.
        let listener = std::thread::scope(|sc| {
            sc.spawn(|| -> io::Result<std::net::TcpListener> {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_io()
                    .build()?;
                rt.block_on(async {
                    let sock = tokio::net::TcpSocket::new_v4()?;
                    sock.bind(SocketAddr::from(([127, 0, 0, 1], 0)))?;
                    sock.listen(0)?.into_std()
                })
            })
            .join()
            .unwrap_or_else(|_| Err(io::Error::other("blackhole setup thread panicked")))
        })?;
        let addr = listener.local_addr()?;
        let mut fillers = Vec::new();
        for _ in 0..16 {
            match StdTcpStream::connect_timeout(&addr, Duration::from_millis(300)) {
                Ok(s) => fillers.push(s),
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock
                    ) =>
                {
                    return Ok(Blackhole {
                        port: addr.port(),
                        _listener: listener,
                        _fillers: fillers,
                    });
                }
                Err(e) => return Err(e),
            }
        }
        Err(io::Error::other(
            "blackhole: accept queue never filled (16 connects succeeded)",
        ))
    }

    /// `127.0.0.1:port`.
    pub fn addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.port))
    }
}
