//! Helper for `scripts/bench` (not part of mailsetup): a delaying TCP proxy and blackholed
//! ports on 127.0.0.1, because netem is not available on the machines this runs on.
//!
//! ```text
//! bench_proxy [--delay-ms MS] [--connect-delay-ms MS] [--forward TARGET_PORT]...
//!             [--blackholes N] [--free-ports N]
//! ```
//!
//! * `--forward P`: listen on a fresh 127.0.0.1 port; each accepted connection waits the
//!   connect delay (default: MS, the connect's own round trip, roughly; 0 to measure only the
//!   protocol's round trips, as issue 13's budgets are stated), connects to 127.0.0.1:P, then
//!   relays both directions, every chunk delivered MS after it
//!   was read (latency, not bandwidth: chunks are pipelined, order kept, half-close passed on).
//!   So each direction gets MS added; a request/response round trip 2 × MS.
//! * `--blackholes N`: N ports where a TCP connect hangs (listener with backlog 0 whose accept
//!   queue is filled by our own connections; Linux then drops SYNs).
//! * `--free-ports N`: N ports free for UDP and TCP (released again; for dnsmasq).
//!
//! Prints `forward TARGET LISTEN`, `blackhole PORT`, `free PORT` lines, then `ready`, and runs
//! until killed. Only loopback is ever bound or connected to.

use std::io::{self, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpStream as StdTcpStream, UdpSocket};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::sync::mpsc;
use tokio::time::Instant;

const LOOPBACK: Ipv4Addr = Ipv4Addr::LOCALHOST;

struct Options {
    delay: Duration,
    connect_delay: Option<Duration>,
    forwards: Vec<u16>,
    blackholes: usize,
    free_ports: usize,
}

fn usage() -> ! {
    eprintln!(
        "usage: bench_proxy [--delay-ms MS] [--connect-delay-ms MS] [--forward TARGET_PORT]... [--blackholes N] [--free-ports N]"
    );
    std::process::exit(2)
}

fn options() -> Options {
    let mut o = Options {
        delay: Duration::from_millis(50),
        connect_delay: None,
        forwards: Vec::new(),
        blackholes: 0,
        free_ports: 0,
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let value: u64 = match args.next().map(|v| v.parse()) {
            Some(Ok(v)) => v,
            _ => usage(),
        };
        match flag.as_str() {
            "--delay-ms" => o.delay = Duration::from_millis(value),
            "--connect-delay-ms" => o.connect_delay = Some(Duration::from_millis(value)),
            "--forward" => o
                .forwards
                .push(u16::try_from(value).unwrap_or_else(|_| usage())),
            "--blackholes" => o.blackholes = value as usize,
            "--free-ports" => o.free_ports = value as usize,
            _ => usage(),
        }
    }
    o
}

/// Relays `r` to `w`, each chunk written `delay` after it was read.
async fn pipe(mut r: OwnedReadHalf, mut w: OwnedWriteHalf, delay: Duration) {
    let (tx, mut rx) = mpsc::unbounded_channel::<(Instant, Option<Vec<u8>>)>();
    let writer = tokio::spawn(async move {
        while let Some((due, chunk)) = rx.recv().await {
            tokio::time::sleep_until(due).await;
            match chunk {
                Some(bytes) => {
                    if w.write_all(&bytes).await.is_err() {
                        break;
                    }
                }
                None => {
                    let _ = w.shutdown().await;
                    break;
                }
            }
        }
    });
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let chunk = match r.read(&mut buf).await {
            Ok(0) | Err(_) => None,
            Ok(n) => Some(buf[..n].to_vec()),
        };
        let end = chunk.is_none();
        if tx.send((Instant::now() + delay, chunk)).is_err() || end {
            break;
        }
    }
    drop(tx);
    let _ = writer.await;
}

async fn relay(client: TcpStream, target: SocketAddr, delay: Duration, connect_delay: Duration) {
    // The connect's own round trip, roughly: the upstream connection starts that much later.
    tokio::time::sleep(connect_delay).await;
    let Ok(upstream) = TcpStream::connect(target).await else {
        return;
    };
    let _ = client.set_nodelay(true);
    let _ = upstream.set_nodelay(true);
    let (cr, cw) = client.into_split();
    let (ur, uw) = upstream.into_split();
    tokio::join!(pipe(cr, uw, delay), pipe(ur, cw, delay));
}

async fn forward(target_port: u16, delay: Duration, connect_delay: Duration) -> io::Result<u16> {
    let listener = TcpListener::bind((LOOPBACK, 0)).await?;
    let port = listener.local_addr()?.port();
    let target = SocketAddr::from((LOOPBACK, target_port));
    tokio::spawn(async move {
        loop {
            if let Ok((client, _)) = listener.accept().await {
                tokio::spawn(relay(client, target, delay, connect_delay));
            }
        }
    });
    Ok(port)
}

/// A port where connects hang; the listener and fillers must stay alive.
fn blackhole(keep: &mut Vec<Box<dyn std::any::Any>>) -> io::Result<u16> {
    let sock = TcpSocket::new_v4()?;
    sock.bind(SocketAddr::from((LOOPBACK, 0)))?;
    let listener = sock.listen(0)?;
    let addr = listener.local_addr()?;
    keep.push(Box::new(listener));
    for _ in 0..16 {
        match StdTcpStream::connect_timeout(&addr, Duration::from_millis(300)) {
            Ok(s) => keep.push(Box::new(s)),
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock
                ) =>
            {
                return Ok(addr.port())
            }
            Err(e) => return Err(e),
        }
    }
    Err(io::Error::other("the accept queue never filled"))
}

fn free_port() -> io::Result<u16> {
    for _ in 0..50 {
        let udp = UdpSocket::bind((LOOPBACK, 0))?;
        let port = udp.local_addr()?.port();
        if std::net::TcpListener::bind((LOOPBACK, port)).is_ok() {
            return Ok(port);
        }
    }
    Err(io::Error::other("no port free for both UDP and TCP"))
}

#[tokio::main]
async fn main() -> io::Result<()> {
    let o = options();
    let mut out = io::stdout().lock();
    for &target in &o.forwards {
        let port = forward(target, o.delay, o.connect_delay.unwrap_or(o.delay)).await?;
        writeln!(out, "forward {target} {port}")?;
    }
    let mut keep: Vec<Box<dyn std::any::Any>> = Vec::new();
    for _ in 0..o.blackholes {
        writeln!(out, "blackhole {}", blackhole(&mut keep)?)?;
    }
    for _ in 0..o.free_ports {
        writeln!(out, "free {}", free_port()?)?;
    }
    writeln!(out, "ready")?;
    out.flush()?;
    drop(out);
    std::future::pending::<()>().await;
    drop(keep);
    Ok(())
}
