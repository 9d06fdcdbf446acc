//! TCP connect: `--connect-to` mapping, DNS, all addresses raced (happy eyeballs), deadlines.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::net::TcpStream;
use tokio::task::JoinSet;

/// One `--connect-to HOST:PORT:TARGET_HOST:TARGET_PORT` rule (curl's syntax and meaning):
/// an empty HOST or PORT matches any; an empty target keeps the original. TLS still
/// uses the original host name for SNI and certificate checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectTo {
    pub host: Option<String>,
    pub port: Option<u16>,
    pub target_host: Option<String>,
    pub target_port: Option<u16>,
}

impl std::str::FromStr for ConnectTo {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let usage = || {
            format!("--connect-to {s:?}: expected HOST:PORT:TARGET_HOST:TARGET_PORT (curl's syntax; IPv6 in brackets; empty fields match any / keep the original)")
        };
        let fields = split_fields(s).ok_or_else(usage)?;
        if fields.len() != 4 {
            return Err(usage());
        }
        let host = |f: &str| -> Option<String> {
            let f = f.trim_start_matches('[').trim_end_matches(']');
            (!f.is_empty()).then(|| f.to_ascii_lowercase())
        };
        let port = |f: &str| -> Result<Option<u16>, String> {
            if f.is_empty() {
                Ok(None)
            } else {
                f.parse::<u16>().map(Some).map_err(|_| usage())
            }
        };
        Ok(ConnectTo {
            host: host(&fields[0]),
            port: port(&fields[1])?,
            target_host: host(&fields[2]),
            target_port: port(&fields[3])?,
        })
    }
}

/// Splits on ':' outside brackets.
fn split_fields(s: &str) -> Option<Vec<String>> {
    let mut out = vec![String::new()];
    let mut depth = 0;
    for c in s.chars() {
        match c {
            '[' => {
                depth += 1;
                out.last_mut()?.push(c);
            }
            ']' => {
                depth -= 1;
                out.last_mut()?.push(c);
            }
            ':' if depth == 0 => out.push(String::new()),
            c => out.last_mut()?.push(c),
        }
    }
    (depth == 0).then_some(out)
}

/// Where to really connect for `host:port`: the first matching rule wins, as in curl.
pub fn resolve_target(rules: &[ConnectTo], host: &str, port: u16) -> (String, u16) {
    for r in rules {
        let host_ok = r
            .host
            .as_deref()
            .is_none_or(|h| h.eq_ignore_ascii_case(host));
        let port_ok = r.port.is_none_or(|p| p == port);
        if host_ok && port_ok {
            return (
                r.target_host.clone().unwrap_or_else(|| host.to_string()),
                r.target_port.unwrap_or(port),
            );
        }
    }
    (host.to_string(), port)
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ConnectError {
    #[error("could not resolve {host}: {reason}")]
    Dns { host: String, reason: String },
    #[error("connection refused by {addrs}")]
    Refused { addrs: String },
    #[error("no answer from {addrs} within {secs:.1} s")]
    Timeout { addrs: String, secs: f64 },
    #[error("could not connect to {addrs}: {reason}")]
    Other { addrs: String, reason: String },
}

/// A successful connection.
pub struct Connected {
    pub stream: TcpStream,
    pub peer: SocketAddr,
    pub elapsed: Duration,
}

/// Delay before starting the next address (RFC 8305 recommends 250 ms).
const ATTEMPT_DELAY: Duration = Duration::from_millis(250);

/// Name resolution: the system's (getaddrinfo), or the DNS server given with `--dns-server`.
#[derive(Clone, Default)]
pub enum Dns {
    #[default]
    System,
    Server(Arc<hickory_resolver::TokioResolver>),
}

impl Dns {
    /// A resolver that asks only `server` (UDP and TCP), never /etc/hosts.
    pub fn server(server: SocketAddr) -> Result<Dns, String> {
        resolver_for(server).map(|r| Dns::Server(Arc::new(r)))
    }
}

/// A hickory resolver that asks only `server`; shared with discovery.
pub fn resolver_for(server: SocketAddr) -> Result<hickory_resolver::TokioResolver, String> {
    use hickory_resolver::config::{NameServerConfig, ResolveHosts, ResolverConfig};
    use hickory_resolver::net::runtime::TokioRuntimeProvider;
    let mut ns = NameServerConfig::udp_and_tcp(server.ip());
    for c in &mut ns.connections {
        c.port = server.port();
    }
    let mut builder = hickory_resolver::TokioResolver::builder_with_config(
        ResolverConfig::from_name_servers(vec![ns]),
        TokioRuntimeProvider::default(),
    );
    builder.options_mut().use_hosts_file = ResolveHosts::Never;
    builder.build().map_err(|e| e.to_string())
}

/// Resolves and connects before `deadline`, racing all addresses with a stagger.
pub async fn connect(
    rules: &[ConnectTo],
    dns: &Dns,
    host: &str,
    port: u16,
    deadline: Instant,
) -> Result<Connected, ConnectError> {
    connect_timed(rules, dns, host, port, deadline, &mut None).await
}

/// As [`connect`]; `resolved` is set to when name resolution finished (the DNS/connect
/// boundary of the report's phases), also when the connect itself then fails.
pub async fn connect_timed(
    rules: &[ConnectTo],
    dns: &Dns,
    host: &str,
    port: u16,
    deadline: Instant,
    resolved: &mut Option<Instant>,
) -> Result<Connected, ConnectError> {
    let start = Instant::now();
    let (target_host, target_port) = resolve_target(rules, host, port);
    let addrs = resolve(dns, &target_host, target_port, deadline).await?;
    *resolved = Some(Instant::now());
    let shown = addrs
        .iter()
        .map(|a| a.to_string())
        .collect::<Vec<_>>()
        .join(", ");

    let mut attempts = JoinSet::new();
    for (i, addr) in interleave_families(addrs).into_iter().enumerate() {
        attempts.spawn(async move {
            tokio::time::sleep(ATTEMPT_DELAY * i as u32).await;
            (addr, TcpStream::connect(addr).await)
        });
    }
    let mut last_err: Option<std::io::Error> = None;
    let tdeadline = tokio::time::Instant::from_std(deadline);
    loop {
        match tokio::time::timeout_at(tdeadline, attempts.join_next()).await {
            Err(_) => {
                return Err(ConnectError::Timeout {
                    addrs: shown,
                    secs: start.elapsed().as_secs_f64(),
                })
            }
            Ok(None) => break,
            Ok(Some(Ok((peer, Ok(stream))))) => {
                let _ = stream.set_nodelay(true);
                return Ok(Connected {
                    stream,
                    peer,
                    elapsed: start.elapsed(),
                });
            }
            Ok(Some(Ok((_, Err(e))))) => {
                // Keep the most telling error: a refusal beats anything else.
                if last_err
                    .as_ref()
                    .is_none_or(|prev| prev.kind() != std::io::ErrorKind::ConnectionRefused)
                {
                    last_err = Some(e);
                }
            }
            Ok(Some(Err(join))) => {
                last_err = Some(std::io::Error::other(join.to_string()));
            }
        }
    }
    match last_err {
        Some(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
            Err(ConnectError::Refused { addrs: shown })
        }
        Some(e) if e.kind() == std::io::ErrorKind::TimedOut => Err(ConnectError::Timeout {
            addrs: shown,
            secs: start.elapsed().as_secs_f64(),
        }),
        Some(e) => Err(ConnectError::Other {
            addrs: shown,
            reason: e.to_string(),
        }),
        None => Err(ConnectError::Other {
            addrs: shown,
            reason: "no address to try".into(),
        }),
    }
}

async fn resolve(
    dns: &Dns,
    host: &str,
    port: u16,
    deadline: Instant,
) -> Result<Vec<SocketAddr>, ConnectError> {
    if let Ok(ip) = host.parse::<std::net::IpAddr>() {
        return Ok(vec![SocketAddr::new(ip, port)]);
    }
    let dns_err = |reason: String| ConnectError::Dns {
        host: host.to_string(),
        reason,
    };
    if let Dns::Server(resolver) = dns {
        let name = format!("{}.", host.trim_end_matches('.'));
        let lookup = resolver.lookup_ip(name);
        return match tokio::time::timeout_at(tokio::time::Instant::from_std(deadline), lookup).await
        {
            Err(_) => Err(dns_err("timed out".into())),
            Ok(Err(e)) => Err(dns_err(e.to_string())),
            Ok(Ok(ips)) => {
                let v: Vec<SocketAddr> = ips.iter().map(|ip| SocketAddr::new(ip, port)).collect();
                if v.is_empty() {
                    Err(dns_err("no addresses".into()))
                } else {
                    Ok(v)
                }
            }
        };
    }
    let lookup = tokio::net::lookup_host((host.to_string(), port));
    match tokio::time::timeout_at(tokio::time::Instant::from_std(deadline), lookup).await {
        Err(_) => Err(dns_err("timed out".into())),
        Ok(Err(e)) => Err(dns_err(e.to_string())),
        Ok(Ok(it)) => {
            let mut v: Vec<SocketAddr> = Vec::new();
            for a in it {
                if !v.contains(&a) {
                    v.push(a);
                }
            }
            if v.is_empty() {
                Err(dns_err("no addresses".into()))
            } else {
                Ok(v)
            }
        }
    }
}

/// Alternates address families, starting with the resolver's first choice (RFC 8305 §4).
fn interleave_families(addrs: Vec<SocketAddr>) -> Vec<SocketAddr> {
    let first_v6 = addrs.first().is_some_and(|a| a.is_ipv6());
    let (mut a, mut b): (Vec<_>, Vec<_>) = addrs.into_iter().partition(|x| x.is_ipv6() == first_v6);
    a.reverse();
    b.reverse();
    let mut out = Vec::new();
    while !a.is_empty() || !b.is_empty() {
        out.extend(a.pop());
        out.extend(b.pop());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connect_to_parses_curl_syntax() {
        let r: ConnectTo = "mail.example.test:993:127.0.0.1:4993".parse().unwrap();
        assert_eq!(
            resolve_target(std::slice::from_ref(&r), "mail.example.test", 993),
            ("127.0.0.1".into(), 4993)
        );
        assert_eq!(
            resolve_target(&[r], "mail.example.test", 143),
            ("mail.example.test".into(), 143)
        );
        let any: ConnectTo = "::[::1]:".parse().unwrap();
        assert_eq!(resolve_target(&[any], "x", 25), ("::1".into(), 25));
        assert!("a:b".parse::<ConnectTo>().is_err());
        assert!("h:99999:x:1".parse::<ConnectTo>().is_err());
    }

    #[test]
    fn first_matching_rule_wins() {
        let rules: Vec<ConnectTo> = ["h:1:a:10", "h::b:20"]
            .iter()
            .map(|s| s.parse().unwrap())
            .collect();
        assert_eq!(resolve_target(&rules, "h", 1), ("a".into(), 10));
        assert_eq!(resolve_target(&rules, "h", 2), ("b".into(), 20));
    }

    #[test]
    fn families_interleave() {
        let v: Vec<SocketAddr> = ["[::1]:1", "[::2]:1", "127.0.0.1:1"]
            .iter()
            .map(|s| s.parse().unwrap())
            .collect();
        let out = interleave_families(v);
        assert_eq!(out[0].to_string(), "[::1]:1");
        assert_eq!(out[1].to_string(), "127.0.0.1:1");
        assert_eq!(out[2].to_string(), "[::2]:1");
    }

    #[tokio::test]
    async fn refused_is_reported_fast() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        drop(l);
        let deadline = Instant::now() + Duration::from_secs(5);
        let err = connect(&[], &Dns::System, "127.0.0.1", port, deadline)
            .await
            .err()
            .unwrap();
        assert!(matches!(err, ConnectError::Refused { .. }), "{err:?}");
    }
}
