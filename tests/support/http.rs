//! A small static HTTP/1.1 server for tests, plain or HTTPS (tokio-rustls), on
//! `127.0.0.1:<ephemeral>`, in a background thread with its own tokio runtime.
//!
//! Routes map `(Host, path)` to a canned answer (status, headers, body, optional delay);
//! anything else gets 404. Every request is recorded (method, path with query, Host,
//! headers, body, whether it came over TLS), so tests can assert what a client sent.
//! One request per connection (`Connection: close`). Dropping the server stops it.
//!
//! ```ignore
//! let ca = TestCa::new("http");
//! let srv = HttpServer::https(ca.leaf(&["autoconfig.x.test"]).server_config(), vec![
//!     route("autoconfig.x.test", "/mail/config-v1.1.xml", Reply::xml(CONFIG)),
//!     route("", "/old", Reply::redirect(302, "https://x.test/new")),
//! ]);
//! // reach it by name: --connect-to autoconfig.x.test:443:127.0.0.1:<srv.port()>
//! ```

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::watch;

/// Longest request head read.
const MAX_HEAD: usize = 64 * 1024;
/// Longest request body read.
const MAX_BODY: usize = 1024 * 1024;

/// A canned answer.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// Wait this long before answering (a slow source).
    pub delay: Duration,
}

impl Reply {
    pub fn new(status: u16, body: impl Into<Vec<u8>>) -> Reply {
        Reply {
            status,
            headers: Vec::new(),
            body: body.into(),
            delay: Duration::ZERO,
        }
    }
    /// 200 with `Content-Type: text/xml`.
    pub fn xml(body: &str) -> Reply {
        Reply::new(200, body).header("Content-Type", "text/xml; charset=utf-8")
    }
    pub fn status(status: u16) -> Reply {
        Reply::new(status, Vec::new())
    }
    /// A redirect (`301`, `302`, `307`, ...) to `location`.
    pub fn redirect(status: u16, location: &str) -> Reply {
        Reply::status(status).header("Location", location)
    }
    pub fn header(mut self, name: &str, value: &str) -> Reply {
        self.headers.push((name.into(), value.into()));
        self
    }
    pub fn delayed(mut self, d: Duration) -> Reply {
        self.delay = d;
        self
    }
}

/// A route: requests whose Host (without port) equals `host` (empty: any host) and whose
/// path (without query) equals `path` get `reply`. The first matching route wins.
#[derive(Debug, Clone)]
pub struct Route {
    pub host: String,
    pub path: String,
    pub reply: Reply,
}

pub fn route(host: &str, path: &str, reply: Reply) -> Route {
    Route {
        host: host.to_ascii_lowercase(),
        path: path.into(),
        reply,
    }
}

/// One request as the server received it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub method: String,
    /// Path and query, as sent.
    pub target: String,
    /// Host header without port, lowercased.
    pub host: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub tls: bool,
}

impl Request {
    pub fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or("")
    }
    pub fn query(&self) -> Option<&str> {
        self.target.split_once('?').map(|(_, q)| q)
    }
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// A running server.
pub struct HttpServer {
    addr: SocketAddr,
    requests: Arc<Mutex<Vec<Request>>>,
    stop: watch::Sender<bool>,
    thread: Option<JoinHandle<()>>,
}

impl HttpServer {
    /// Plain HTTP.
    pub fn http(routes: Vec<Route>) -> HttpServer {
        HttpServer::start(None, routes)
    }

    /// HTTPS with this server config (e.g. [`super::certs::Leaf::server_config`]).
    pub fn https(tls: Arc<rustls::ServerConfig>, routes: Vec<Route>) -> HttpServer {
        HttpServer::start(Some(tls), routes)
    }

    pub fn start(tls: Option<Arc<rustls::ServerConfig>>, routes: Vec<Route>) -> HttpServer {
        let std_listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        std_listener.set_nonblocking(true).expect("nonblocking");
        let addr = std_listener.local_addr().expect("local addr");
        let requests = Arc::new(Mutex::new(Vec::new()));
        let (stop, mut stopped) = watch::channel(false);
        let recorded = requests.clone();
        let routes = Arc::new(routes);
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async move {
                let listener = TcpListener::from_std(std_listener).expect("listener");
                let acceptor = tls.map(tokio_rustls::TlsAcceptor::from);
                loop {
                    tokio::select! {
                        _ = stopped.changed() => break,
                        accepted = listener.accept() => {
                            let Ok((stream, _)) = accepted else { continue };
                            let routes = routes.clone();
                            let recorded = recorded.clone();
                            let acceptor = acceptor.clone();
                            tokio::spawn(async move {
                                match acceptor {
                                    None => serve(stream, false, &routes, &recorded).await,
                                    Some(a) => {
                                        let hs = tokio::time::timeout(Duration::from_secs(10), a.accept(stream)).await;
                                        if let Ok(Ok(s)) = hs {
                                            serve(s, true, &routes, &recorded).await;
                                        }
                                    }
                                }
                            });
                        }
                    }
                }
            });
            rt.shutdown_background();
        });
        HttpServer {
            addr,
            requests,
            stop,
            thread: Some(thread),
        }
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// Every request received so far, in arrival order.
    pub fn requests(&self) -> Vec<Request> {
        self.requests
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

impl Drop for HttpServer {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Reads one request, records it, answers, closes.
async fn serve<S: AsyncRead + AsyncWrite + Unpin>(
    mut s: S,
    tls: bool,
    routes: &[Route],
    recorded: &Mutex<Vec<Request>>,
) {
    let read = async {
        let mut buf = Vec::new();
        let mut chunk = [0u8; 4096];
        let head_end = loop {
            if let Some(i) = find(&buf, b"\r\n\r\n") {
                break i + 4;
            }
            if buf.len() > MAX_HEAD {
                return None;
            }
            let n = s.read(&mut chunk).await.ok()?;
            if n == 0 {
                return None;
            }
            buf.extend_from_slice(&chunk[..n]);
        };
        let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
        let mut lines = head.split("\r\n");
        let mut first = lines.next()?.split(' ');
        let (method, target) = (first.next()?.to_string(), first.next()?.to_string());
        let headers: Vec<(String, String)> = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
            .collect();
        let len: usize = headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
            .and_then(|(_, v)| v.parse().ok())
            .unwrap_or(0)
            .min(MAX_BODY);
        let mut body = buf[head_end..].to_vec();
        while body.len() < len {
            let n = s.read(&mut chunk).await.ok()?;
            if n == 0 {
                break;
            }
            body.extend_from_slice(&chunk[..n]);
        }
        body.truncate(len);
        let host = headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("host"))
            .map(|(_, v)| {
                v.rsplit_once(':')
                    .map_or(v.as_str(), |(h, _)| h)
                    .to_ascii_lowercase()
            })
            .unwrap_or_default();
        Some(Request {
            method,
            target,
            host,
            headers,
            body,
            tls,
        })
    };
    let Ok(Some(req)) = tokio::time::timeout(Duration::from_secs(10), read).await else {
        return;
    };
    let reply = routes
        .iter()
        .find(|r| (r.host.is_empty() || r.host == req.host) && r.path == req.path())
        .map(|r| r.reply.clone())
        .unwrap_or_else(|| Reply::new(404, "not found"));
    recorded.lock().unwrap_or_else(|e| e.into_inner()).push(req);
    if !reply.delay.is_zero() {
        tokio::time::sleep(reply.delay).await;
    }
    let mut out = format!(
        "HTTP/1.1 {} X\r\nContent-Length: {}\r\nConnection: close\r\n",
        reply.status,
        reply.body.len()
    );
    for (k, v) in &reply.headers {
        out.push_str(&format!("{k}: {v}\r\n"));
    }
    out.push_str("\r\n");
    let mut bytes = out.into_bytes();
    bytes.extend_from_slice(&reply.body);
    let _ = s.write_all(&bytes).await;
    let _ = s.flush().await;
    let _ = s.shutdown().await;
}
