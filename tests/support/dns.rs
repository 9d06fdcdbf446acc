//! A test DNS server: dnsmasq on `127.0.0.1:<free port>`, authoritative for `.test` only
//! (anything else is REFUSED, so nothing leaks to a real resolver).
//!
//! ```ignore
//! let Some(dns) = TestDns::start(&[Record::a("imap.x.test", "127.0.0.1"),
//!                                  Record::srv("_imaps._tcp.x.test", "imap.x.test", 993, 0, 0)])
//! else { return }; // dnsmasq missing: loud skip notice already written
//! cfg.dns_server = Some(dns.addr());
//! ```
//!
//! When dnsmasq is not installed, [`TestDns::start`] writes a loud notice to stderr and returns
//! `None` — unless `MAILSETUP_REQUIRE_STACK=1`, where it panics. Dropping the server kills it.

use std::io::Write;
use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// One record to publish.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Record {
    /// `host-record=NAME,IP` (A or AAAA).
    A { name: String, ip: String },
    /// `mx-host=DOMAIN,HOST,PREF`.
    Mx {
        domain: String,
        host: String,
        pref: u16,
    },
    /// `srv-host=NAME,TARGET,PORT,PRIO,WEIGHT`.
    Srv {
        name: String,
        target: String,
        port: u16,
        prio: u16,
        weight: u16,
    },
    /// `srv-host=NAME` alone: the "not offered" answer (`0 0 1 .`).
    SrvNotOffered { name: String },
    /// `address=/DOMAIN/IP`: every name under DOMAIN (and DOMAIN itself) resolves to IP.
    Domain { domain: String, ip: String },
}

impl Record {
    pub fn a(name: &str, ip: &str) -> Record {
        Record::A {
            name: name.into(),
            ip: ip.into(),
        }
    }
    pub fn mx(domain: &str, host: &str, pref: u16) -> Record {
        Record::Mx {
            domain: domain.into(),
            host: host.into(),
            pref,
        }
    }
    pub fn srv(name: &str, target: &str, port: u16, prio: u16, weight: u16) -> Record {
        Record::Srv {
            name: name.into(),
            target: target.into(),
            port,
            prio,
            weight,
        }
    }
    pub fn srv_not_offered(name: &str) -> Record {
        Record::SrvNotOffered { name: name.into() }
    }
    pub fn domain(domain: &str, ip: &str) -> Record {
        Record::Domain {
            domain: domain.into(),
            ip: ip.into(),
        }
    }

    fn conf_line(&self) -> String {
        match self {
            Record::A { name, ip } => format!("host-record={name},{ip}"),
            Record::Mx { domain, host, pref } => format!("mx-host={domain},{host},{pref}"),
            Record::Srv {
                name,
                target,
                port,
                prio,
                weight,
            } => {
                format!("srv-host={name},{target},{port},{prio},{weight}")
            }
            Record::SrvNotOffered { name } => format!("srv-host={name}"),
            Record::Domain { domain, ip } => format!("address=/{domain}/{ip}"),
        }
    }
}

/// A running dnsmasq.
pub struct TestDns {
    child: Child,
    addr: SocketAddr,
    _dir: tempfile::TempDir,
    log: PathBuf,
}

fn loud_skip(why: &str) -> Option<TestDns> {
    if std::env::var("MAILSETUP_REQUIRE_STACK").as_deref() == Ok("1") {
        panic!("MAILSETUP_REQUIRE_STACK=1 but the test DNS server cannot run: {why}");
    }
    // libtest captures print!/eprintln!, not writes to the stderr handle: this is seen.
    let _ = writeln!(
        std::io::stderr(),
        "\n!!!!!!!! SKIPPED: test DNS server unavailable ({why}).\n\
         !!!!!!!! Install dnsmasq-base, or set MAILSETUP_REQUIRE_STACK=1 to make this a failure.\n"
    );
    None
}

fn dnsmasq_path() -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin".into(), "/sbin".into()])
        .map(|d| d.join("dnsmasq"))
        .find(|p| p.is_file())
}

/// A port free for both UDP and TCP on 127.0.0.1 (a short race remains; `start` retries).
fn free_port() -> Option<u16> {
    for _ in 0..20 {
        let udp = UdpSocket::bind("127.0.0.1:0").ok()?;
        let port = udp.local_addr().ok()?.port();
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return Some(port);
        }
    }
    None
}

impl TestDns {
    /// Starts dnsmasq serving `records` (and NXDOMAIN for every other `.test` name).
    pub fn start(records: &[Record]) -> Option<TestDns> {
        let Some(bin) = dnsmasq_path() else {
            return loud_skip("dnsmasq not found");
        };
        for _ in 0..3 {
            if let Some(dns) = Self::try_start(&bin, records) {
                return Some(dns);
            }
        }
        loud_skip("dnsmasq did not start (see its log above)")
    }

    fn try_start(bin: &PathBuf, records: &[Record]) -> Option<TestDns> {
        let dir = tempfile::tempdir().expect("tempdir");
        let port = free_port()?;
        let mut conf = format!(
            "port={port}\nlisten-address=127.0.0.1\nbind-interfaces\nno-resolv\nno-hosts\n\
             keep-in-foreground\npid-file=\nlog-facility=-\nlocal=/test/\nlocal-ttl=300\n"
        );
        for r in records {
            conf.push_str(&r.conf_line());
            conf.push('\n');
        }
        let conf_path = dir.path().join("dnsmasq.conf");
        std::fs::write(&conf_path, conf).expect("write dnsmasq.conf");
        let log = dir.path().join("dnsmasq.log");
        let log_file = std::fs::File::create(&log).expect("create log");
        let child = Command::new(bin)
            .arg(format!("--conf-file={}", conf_path.display()))
            .stdin(Stdio::null())
            .stdout(log_file.try_clone().expect("clone log"))
            .stderr(log_file)
            .spawn()
            .ok()?;
        let addr: SocketAddr = ([127, 0, 0, 1], port).into();
        let mut dns = TestDns {
            child,
            addr,
            _dir: dir,
            log,
        };
        let until = Instant::now() + Duration::from_secs(5);
        while Instant::now() < until {
            if let Ok(Some(_)) = dns.child.try_wait() {
                let _ = writeln!(std::io::stderr(), "dnsmasq exited: {}", dns.log_text());
                return None;
            }
            if TcpStream::connect_timeout(&addr, Duration::from_millis(100)).is_ok() {
                return Some(dns);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }

    /// Where to send queries (`--dns-server`).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// What dnsmasq logged so far.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for TestDns {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
