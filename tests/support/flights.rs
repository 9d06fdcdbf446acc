//! A loopback proxy that counts round trips by the direction changes of the byte flow.
//!
//! Every chunk read from one side is forwarded to the other after a fixed delay, in order, so
//! writes a side makes back to back (a command and a TLS close_notify, two pipelined
//! commands) travel as one flight, while an answer always comes one delay later. The proxy
//! records the direction of every chunk in the order it arrived; a *flight* is a maximal run of
//! chunks in one direction. The client waited for a server flight exactly when its next flight
//! came after it, so the round trips of a conversation are the server flights followed by a
//! client flight — less half a round trip when the server spoke first (a plaintext greeting
//! reaches the client half a round trip after the TCP handshake, which the proxy does not
//! delay). The count does not depend on timing, only on who waited for whom.
//!
//! Only std is used.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// Who sent a chunk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dir {
    ClientToServer,
    ServerToClient,
}

/// One proxied connection's log.
#[derive(Debug, Default, Clone)]
pub struct Log {
    pub chunks: Vec<(Dir, usize)>,
}

impl Log {
    /// Maximal runs of one direction, with their byte counts.
    pub fn flights(&self) -> Vec<(Dir, usize)> {
        let mut out: Vec<(Dir, usize)> = Vec::new();
        for &(d, n) in &self.chunks {
            match out.last_mut() {
                Some((last, total)) if *last == d => *total += n,
                _ => out.push((d, n)),
            }
        }
        out
    }

    /// Round trips the client waited for (see the module comment).
    pub fn round_trips(&self) -> f64 {
        let flights = self.flights();
        let waited = flights
            .windows(2)
            .filter(|w| w[0].0 == Dir::ServerToClient && w[1].0 == Dir::ClientToServer)
            .count() as f64;
        let server_first = flights
            .first()
            .is_some_and(|(d, _)| *d == Dir::ServerToClient);
        if server_first {
            waited - 0.5
        } else {
            waited
        }
    }
}

/// A delaying, counting proxy in front of `upstream`.
pub struct FlightProxy {
    pub port: u16,
    logs: Arc<Mutex<Vec<Arc<Mutex<Log>>>>>,
}

impl FlightProxy {
    pub fn start(upstream: u16, delay: Duration) -> FlightProxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the flight proxy");
        let port = listener.local_addr().expect("local addr").port();
        let logs: Arc<Mutex<Vec<Arc<Mutex<Log>>>>> = Arc::default();
        let all = logs.clone();
        thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(client) = client else { return };
                let Ok(server) = TcpStream::connect(("127.0.0.1", upstream)) else {
                    continue;
                };
                let log = Arc::new(Mutex::new(Log::default()));
                all.lock().unwrap().push(log.clone());
                for (from, to, dir) in [
                    (
                        client.try_clone().unwrap(),
                        server.try_clone().unwrap(),
                        Dir::ClientToServer,
                    ),
                    (server, client, Dir::ServerToClient),
                ] {
                    pump(from, to, dir, delay, log.clone());
                }
            }
        });
        FlightProxy { port, logs }
    }

    /// The logs of every connection so far, in the order they were accepted.
    pub fn logs(&self) -> Vec<Log> {
        self.logs
            .lock()
            .unwrap()
            .iter()
            .map(|l| l.lock().unwrap().clone())
            .collect()
    }
}

/// Reads `from`, records each chunk, and forwards it to `to` after `delay` (in order).
fn pump(mut from: TcpStream, mut to: TcpStream, dir: Dir, delay: Duration, log: Arc<Mutex<Log>>) {
    let (tx, rx) = mpsc::channel::<(Instant, Vec<u8>)>();
    thread::spawn(move || {
        let mut buf = vec![0u8; 16 * 1024];
        loop {
            match from.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    log.lock().unwrap().chunks.push((dir, n));
                    if tx
                        .send((Instant::now() + delay, buf[..n].to_vec()))
                        .is_err()
                    {
                        break;
                    }
                }
            }
        }
        // Dropping `tx` ends the writer after what is queued.
    });
    thread::spawn(move || {
        while let Ok((at, bytes)) = rx.recv() {
            let now = Instant::now();
            if at > now {
                thread::sleep(at - now);
            }
            if to.write_all(&bytes).is_err() {
                break;
            }
        }
        let _ = to.shutdown(Shutdown::Write);
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counting() {
        use Dir::*;
        let log = |d: &[Dir]| Log {
            chunks: d.iter().map(|d| (*d, 1)).collect(),
        };
        // imaps: handshake, greeting, AUTH, quota, close_notify.
        let imaps = log(&[
            ClientToServer,
            ServerToClient,
            ClientToServer,
            ServerToClient,
            ClientToServer,
            ServerToClient,
            ClientToServer,
            ServerToClient,
            ClientToServer,
        ]);
        assert_eq!(imaps.round_trips(), 4.0);
        // A plaintext greeting first: half a round trip less.
        let plain = log(&[
            ServerToClient,
            ClientToServer,
            ServerToClient,
            ClientToServer,
        ]);
        assert_eq!(plain.round_trips(), 1.5);
        // A last server flight nobody waited for (QUIT's 221) does not count.
        let quit = log(&[
            ClientToServer,
            ServerToClient,
            ClientToServer,
            ServerToClient,
        ]);
        assert_eq!(quit.round_trips(), 1.0);
    }
}
