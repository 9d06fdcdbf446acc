//! Self-test of the test support: scripted fake servers and throwaway certificates.

mod support;

use std::io::{ErrorKind, Read};
use std::net::TcpStream as StdTcpStream;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rustls::pki_types::ServerName;
use support::certs::{self_signed_leaf, TestCa};
use support::fake::{
    expect, expect_tagged, imap_greeting, pop3_greeting, send, smtp_greeting, Blackhole,
    FakeOptions, FakeServer, SilentServer, Step,
};
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

const WAIT: Duration = Duration::from_secs(10);

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

async fn read_line<R: AsyncRead + Unpin>(r: &mut BufReader<R>) -> String {
    let mut s = String::new();
    tokio::time::timeout(WAIT, r.read_line(&mut s))
        .await
        .expect("read_line timed out")
        .expect("read_line");
    s
}

async fn tls_connect(
    ca: &TestCa,
    tcp: TcpStream,
    name: &str,
) -> std::io::Result<tokio_rustls::client::TlsStream<TcpStream>> {
    let connector = TlsConnector::from(ca.client_config());
    let name = ServerName::try_from(name.to_string()).unwrap();
    tokio::time::timeout(WAIT, connector.connect(name, tcp))
        .await
        .expect("TLS handshake timed out")
}

async fn write<W: AsyncWrite + Unpin>(w: &mut W, data: &[u8]) {
    w.write_all(data).await.unwrap();
    w.flush().await.unwrap();
}

#[tokio::test]
async fn imap_starttls_script_end_to_end_with_transcript_split() {
    let ca = TestCa::new("selftest");
    let leaf = ca.leaf(&["localhost", "127.0.0.1"]);
    let server = FakeServer::start_once(vec![
        imap_greeting(),
        expect_tagged("CAPABILITY"),
        send("* CAPABILITY IMAP4rev1 STARTTLS\r\n{tag} OK done\r\n"),
        expect_tagged("STARTTLS"),
        send("{tag} OK begin TLS\r\n"),
        Step::StartTls(leaf.server_config()),
        expect_tagged("LOGIN"),
        send("{tag} OK logged in\r\n"),
        expect_tagged("LOGOUT"),
        send("* BYE bye\r\n{tag} OK\r\n"),
    ]);

    let tcp = TcpStream::connect(server.addr()).await.unwrap();
    let mut r = BufReader::new(tcp);
    assert!(read_line(&mut r)
        .await
        .starts_with("* OK [CAPABILITY IMAP4rev1 STARTTLS"));
    write(r.get_mut(), b"a1 CAPABILITY\r\n").await;
    assert_eq!(
        read_line(&mut r).await,
        "* CAPABILITY IMAP4rev1 STARTTLS\r\n"
    );
    assert_eq!(read_line(&mut r).await, "a1 OK done\r\n");
    write(r.get_mut(), b"a2 STARTTLS\r\n").await;
    assert_eq!(read_line(&mut r).await, "a2 OK begin TLS\r\n");
    assert!(r.buffer().is_empty());
    let tcp = r.into_inner();

    let tls = tls_connect(&ca, tcp, "localhost").await.expect("handshake");
    let mut r = BufReader::new(tls);
    write(r.get_mut(), b"a3 LOGIN user canary-pw-123\r\n").await;
    assert_eq!(read_line(&mut r).await, "a3 OK logged in\r\n");
    write(r.get_mut(), b"a4 LOGOUT\r\n").await;
    assert_eq!(read_line(&mut r).await, "* BYE bye\r\n");
    assert_eq!(read_line(&mut r).await, "a4 OK\r\n");
    // The server closes: close_notify then EOF.
    let mut rest = Vec::new();
    tokio::time::timeout(WAIT, r.read_to_end(&mut rest))
        .await
        .unwrap()
        .unwrap();
    assert!(rest.is_empty());
    drop(r);

    assert!(server.wait_done(1, WAIT), "{}", server.debug_dump());
    assert_eq!(server.transcript(), b"a1 CAPABILITY\r\na2 STARTTLS\r\n");
    assert_eq!(
        server.received_in_tls(),
        b"a3 LOGIN user canary-pw-123\r\na4 LOGOUT\r\n"
    );
    assert!(!contains(&server.transcript(), b"canary"));
    let all = server.received_all();
    assert!(contains(&all, b"a2 STARTTLS") && contains(&all, b"canary-pw-123"));
    assert_eq!(server.connections(), 1);
    assert!(server.errors().is_empty(), "{:?}", server.errors());
    // start_once: the listener is gone now.
    let refused = StdTcpStream::connect_timeout(&server.addr(), Duration::from_secs(2));
    assert_eq!(refused.unwrap_err().kind(), ErrorKind::ConnectionRefused);
}

#[tokio::test]
async fn implicit_tls_and_sha256_fingerprint_match_peer_certificate() {
    let ca = TestCa::new("implicit");
    let leaf = ca.leaf(&["mail.fake.test"]);
    let server = FakeServer::start_once(vec![
        Step::StartTls(leaf.server_config()),
        smtp_greeting(),
        expect("EHLO"),
        send("250 fake.test\r\n"),
    ]);
    let tcp = TcpStream::connect(server.addr()).await.unwrap();
    let tls = tls_connect(&ca, tcp, "mail.fake.test")
        .await
        .expect("handshake");
    let peer = tls.get_ref().1.peer_certificates().unwrap()[0].to_vec();
    assert_eq!(peer, leaf.cert_der);
    // Independent SHA-256: rustls' own hash provider (not the code in certs.rs).
    let rustls::SupportedCipherSuite::Tls13(suite) =
        rustls::crypto::ring::cipher_suite::TLS13_AES_128_GCM_SHA256
    else {
        unreachable!()
    };
    let digest = suite.common.hash_provider.hash(&peer);
    let expected: String = digest.as_ref().iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(leaf.sha256_hex(), expected);
    assert_eq!(leaf.sha256_hex().len(), 64);
    assert!(leaf
        .sha256_hex()
        .chars()
        .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c)));

    let mut r = BufReader::new(tls);
    assert_eq!(
        read_line(&mut r).await,
        "220 fake.test ESMTP fake ready\r\n"
    );
    write(r.get_mut(), b"ehlo me\r\n").await;
    assert_eq!(read_line(&mut r).await, "250 fake.test\r\n");
    drop(r);
    assert!(server.wait_done(1, WAIT));
    assert!(server.transcript().is_empty());
    assert_eq!(server.received_in_tls(), b"ehlo me\r\n");
    assert!(server.errors().is_empty(), "{:?}", server.errors());
}

#[test]
fn send_split_arrives_in_separate_reads() {
    let server = FakeServer::start_once(vec![Step::SendSplit(
        vec![b"+OK ".to_vec(), b"hello\r\n".to_vec()],
        Duration::from_millis(300),
    )]);
    let mut s = StdTcpStream::connect(server.addr()).unwrap();
    s.set_read_timeout(Some(WAIT)).unwrap();
    let mut buf = [0u8; 64];
    let n = s.read(&mut buf).unwrap();
    assert_eq!(&buf[..n], b"+OK ");
    let t = Instant::now();
    let n = s.read(&mut buf).unwrap();
    assert_eq!(&buf[..n], b"hello\r\n");
    assert!(t.elapsed() >= Duration::from_millis(150));
}

#[test]
fn drip_sends_one_byte_per_write() {
    let server = FakeServer::start_once(vec![Step::Drip(
        b"+OK\r\n".to_vec(),
        Duration::from_millis(100),
    )]);
    let start = Instant::now();
    let mut s = StdTcpStream::connect(server.addr()).unwrap();
    s.set_read_timeout(Some(WAIT)).unwrap();
    let mut got = Vec::new();
    let mut reads = 0;
    let mut buf = [0u8; 64];
    while got.len() < 5 {
        let n = s.read(&mut buf).unwrap();
        assert!(n > 0, "early EOF");
        got.extend_from_slice(&buf[..n]);
        reads += 1;
    }
    assert_eq!(got, b"+OK\r\n");
    // 5 separate 1-byte writes 100 ms apart; allow one coalesced read on a loaded machine.
    assert!(reads >= 4, "only {reads} reads");
    assert!(start.elapsed() >= Duration::from_millis(350));
}

#[test]
fn send_forever_stops_at_max_bytes() {
    let server = FakeServer::start_once(vec![
        smtp_greeting(),
        Step::SendForever {
            line: b"250-X\r\n".to_vec(),
            max_bytes: 200_000,
        },
    ]);
    let mut s = StdTcpStream::connect(server.addr()).unwrap();
    s.set_read_timeout(Some(WAIT)).unwrap();
    let mut all = Vec::new();
    s.read_to_end(&mut all).unwrap();
    let greeting = b"220 fake.test ESMTP fake ready\r\n";
    assert_eq!(all.len(), greeting.len() + 200_000);
    assert!(all.starts_with(greeting));
    assert!(all[greeting.len()..].starts_with(b"250-X\r\n250-X\r\n"));
    drop(s);
    assert!(server.wait_done(1, WAIT));
    assert_eq!(
        server.connection_logs()[0].bytes_sent,
        greeting.len() + 200_000
    );
    assert!(server.errors().is_empty(), "{:?}", server.errors());
}

#[test]
fn send_forever_ends_quietly_when_client_hangs_up() {
    let server = FakeServer::start_once(vec![Step::SendForever {
        line: b"* 1 EXISTS\r\n".to_vec(),
        max_bytes: 1 << 30,
    }]);
    let mut s = StdTcpStream::connect(server.addr()).unwrap();
    s.set_read_timeout(Some(WAIT)).unwrap();
    let mut buf = vec![0u8; 4096];
    s.read_exact(&mut buf).unwrap();
    drop(s);
    assert!(
        server.wait_done(1, WAIT),
        "server kept sending after hang-up"
    );
    assert!(server.connection_logs()[0].bytes_sent < 1 << 30);
    assert!(server.errors().is_empty(), "{:?}", server.errors());
}

#[test]
fn blackhole_connect_times_out_instead_of_being_refused() {
    let hole = Blackhole::start();
    let start = Instant::now();
    let err = StdTcpStream::connect_timeout(&hole.addr(), Duration::from_secs(1))
        .expect_err("connect to blackhole succeeded");
    assert!(
        matches!(err.kind(), ErrorKind::TimedOut | ErrorKind::WouldBlock),
        "unexpected error: {err:?}"
    );
    assert!(start.elapsed() >= Duration::from_millis(900));
}

#[test]
fn silent_server_accepts_and_says_nothing() {
    let server = SilentServer::start();
    let mut s = StdTcpStream::connect(("127.0.0.1", server.port)).unwrap();
    s.set_read_timeout(Some(Duration::from_millis(400)))
        .unwrap();
    let mut buf = [0u8; 16];
    let err = s.read(&mut buf).expect_err("silent server sent something");
    assert!(matches!(
        err.kind(),
        ErrorKind::WouldBlock | ErrorKind::TimedOut
    ));
    assert_eq!(server.connections(), 1);
}

async fn handshake_error(ca: &TestCa, cfg: Arc<rustls::ServerConfig>) -> (String, FakeServer) {
    let server = FakeServer::start_once(vec![Step::StartTls(cfg), send("* OK hi\r\n")]);
    let tcp = TcpStream::connect(server.addr()).await.unwrap();
    let err = match tls_connect(ca, tcp, "localhost").await {
        Ok(_) => panic!("handshake succeeded"),
        Err(e) => e.to_string(),
    };
    assert!(server.wait_done(1, WAIT));
    (err, server)
}

#[tokio::test]
async fn expired_leaf_is_rejected_by_rustls_client() {
    let ca = TestCa::new("expired");
    let leaf = ca.leaf_valid_days(&["localhost"], -30, -1);
    let (err, server) = handshake_error(&ca, leaf.server_config()).await;
    assert!(err.to_lowercase().contains("expired"), "{err}");
    let errors = server.errors();
    assert!(
        errors
            .iter()
            .any(|e| e.contains("StartTls: handshake failed")),
        "{errors:?}"
    );
}

#[tokio::test]
async fn not_yet_valid_untrusted_and_wrong_name_are_rejected() {
    let ca = TestCa::new("misc");
    let future = ca.leaf_valid_days(&["localhost"], 2, 30);
    let (err, _s) = handshake_error(&ca, future.server_config()).await;
    assert!(err.to_lowercase().contains("not valid yet"), "{err}");

    let selfsigned = self_signed_leaf(&["localhost"]);
    let (err, _s) = handshake_error(&ca, selfsigned.server_config()).await;
    assert!(err.contains("UnknownIssuer"), "{err}");

    let other = TestCa::new("other").leaf(&["localhost"]);
    let (err, _s) = handshake_error(&ca, other.server_config()).await;
    assert!(err.contains("UnknownIssuer"), "{err}");

    let wrong = ca.leaf(&["elsewhere.test"]);
    let (err, _s) = handshake_error(&ca, wrong.server_config()).await;
    assert!(err.to_lowercase().contains("not valid for name"), "{err}");
}

#[test]
fn certificate_contents_are_as_documented() {
    use x509_parser::prelude::*;
    let dir = tempfile::tempdir().unwrap();
    let ca = TestCa::new("contents");
    let path = ca.write_ca_pem(dir.path());
    assert_eq!(path, dir.path().join("contents-ca.pem"));
    let pem = std::fs::read_to_string(&path).unwrap();
    assert_eq!(pem, ca.ca_pem());
    assert!(pem.starts_with("-----BEGIN CERTIFICATE-----"));

    let ca_der = ca.ca_der();
    let (_, ca_cert) = X509Certificate::from_der(&ca_der).unwrap();
    let bc = ca_cert.basic_constraints().unwrap().unwrap().value;
    assert!(bc.ca);

    let leaf = ca.leaf_valid_days(&["imap.fake.test", "127.0.0.1"], -1, 10);
    assert!(leaf.key_pem.contains("PRIVATE KEY"));
    assert!(leaf.cert_pem.starts_with("-----BEGIN CERTIFICATE-----"));
    let (_, cert) = X509Certificate::from_der(&leaf.cert_der).unwrap();
    assert!(!cert.basic_constraints().unwrap().unwrap().value.ca);
    assert!(
        cert.extended_key_usage()
            .unwrap()
            .unwrap()
            .value
            .server_auth
    );
    assert_eq!(cert.issuer(), ca_cert.subject());
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let left_days = (cert.validity().not_after.timestamp() - now) as f64 / 86400.0;
    assert!((9.9..=10.1).contains(&left_days), "{left_days}");
    let since_days = (now - cert.validity().not_before.timestamp()) as f64 / 86400.0;
    assert!((0.9..=1.1).contains(&since_days), "{since_days}");
    let san = cert.subject_alternative_name().unwrap().unwrap().value;
    assert!(san
        .general_names
        .iter()
        .any(|n| matches!(n, GeneralName::DNSName("imap.fake.test"))));
    assert!(san
        .general_names
        .iter()
        .any(|n| matches!(n, GeneralName::IPAddress(&[127, 0, 0, 1]))));

    let (crt, key) = leaf.write_pem(dir.path(), "leaf");
    assert_eq!(std::fs::read_to_string(crt).unwrap(), leaf.cert_pem);
    assert_eq!(std::fs::read_to_string(key).unwrap(), leaf.key_pem);
}

#[test]
fn expect_mismatch_is_recorded_and_script_continues() {
    let server = FakeServer::start_once(vec![
        send("+OK ready\r\n"),
        expect("CAPA"),
        send("+OK after mismatch\r\n"),
        expect("QUIT"),
    ]);
    let mut s = StdTcpStream::connect(server.addr()).unwrap();
    s.set_read_timeout(Some(WAIT)).unwrap();
    let mut r = std::io::BufReader::new(s.try_clone().unwrap());
    let mut line = String::new();
    std::io::BufRead::read_line(&mut r, &mut line).unwrap();
    assert_eq!(line, "+OK ready\r\n");
    std::io::Write::write_all(&mut s, b"USER bob\r\n").unwrap();
    line.clear();
    std::io::BufRead::read_line(&mut r, &mut line).unwrap();
    assert_eq!(line, "+OK after mismatch\r\n");
    drop(r);
    drop(s);
    assert!(server.wait_done(1, WAIT));
    let errors = server.errors();
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert!(
        errors[0].contains("Expect(\"CAPA\"): got USER bob"),
        "{errors:?}"
    );
    assert!(errors[1].contains("Expect(\"QUIT\"): EOF"), "{errors:?}");
}

#[tokio::test]
async fn bytes_pipelined_after_starttls_are_in_plaintext_transcript_and_reported() {
    let ca = TestCa::new("pipeline");
    let leaf = ca.leaf(&["localhost"]);
    let server = FakeServer::start_once(vec![
        smtp_greeting(),
        expect("STARTTLS"),
        send("220 go ahead\r\n"),
        Step::StartTls(leaf.server_config()),
    ]);
    let tcp = TcpStream::connect(server.addr()).await.unwrap();
    let mut r = BufReader::new(tcp);
    read_line(&mut r).await;
    write(r.get_mut(), b"STARTTLS\r\nAUTH PLAIN AGNhbmFyeQBwdw==\r\n").await;
    assert_eq!(read_line(&mut r).await, "220 go ahead\r\n");
    drop(r);
    assert!(server.wait_done(1, WAIT));
    assert_eq!(
        server.transcript(),
        b"STARTTLS\r\nAUTH PLAIN AGNhbmFyeQBwdw==\r\n"
    );
    let errors = server.errors();
    assert!(
        errors
            .iter()
            .any(|e| e.contains("already received before the handshake")),
        "{errors:?}"
    );
}

#[test]
fn data_after_last_step_and_silence_are_recorded() {
    let server = FakeServer::start_once(vec![
        send("+OK\r\n"),
        Step::Silence(Duration::from_millis(300)),
        expect("USER"),
        send("+OK\r\n"),
        Step::ReadUntilEof,
    ]);
    let mut s = StdTcpStream::connect(server.addr()).unwrap();
    s.set_read_timeout(Some(WAIT)).unwrap();
    let mut buf = [0u8; 5];
    s.read_exact(&mut buf).unwrap();
    // Sent during Silence: recorded, and still matched by the Expect afterwards.
    std::io::Write::write_all(&mut s, b"USER bob\r\n").unwrap();
    s.read_exact(&mut buf).unwrap();
    std::io::Write::write_all(&mut s, b"PASS canary\r\n").unwrap();
    drop(s);
    assert!(server.wait_done(1, WAIT));
    assert_eq!(server.transcript(), b"USER bob\r\nPASS canary\r\n");
    assert!(server.errors().is_empty(), "{:?}", server.errors());
}

#[test]
fn serves_connections_one_after_another_with_the_same_script() {
    let server = FakeServer::start(vec![pop3_greeting(), expect("QUIT"), send("+OK bye\r\n")]);
    for i in 0..3 {
        let mut s = StdTcpStream::connect(server.addr()).unwrap();
        s.set_read_timeout(Some(WAIT)).unwrap();
        let mut buf = [0u8; 21];
        s.read_exact(&mut buf).unwrap();
        assert_eq!(&buf, b"+OK fake POP3 ready\r\n");
        std::io::Write::write_all(&mut s, format!("QUIT {i}\r\n").as_bytes()).unwrap();
        let mut rest = Vec::new();
        s.read_to_end(&mut rest).unwrap();
        assert_eq!(rest, b"+OK bye\r\n");
    }
    assert!(server.wait_done(3, WAIT));
    assert_eq!(server.connections(), 3);
    assert_eq!(server.transcript(), b"QUIT 0\r\nQUIT 1\r\nQUIT 2\r\n");
    assert!(server.errors().is_empty(), "{:?}", server.errors());
}

#[test]
fn timeouts_and_drop_never_hang() {
    // A read step times out per the options.
    let server = FakeServer::start_with(
        vec![expect("EHLO")],
        FakeOptions {
            timeout: Duration::from_millis(300),
            linger: Duration::from_millis(100),
            ..FakeOptions::default()
        },
    );
    let s = StdTcpStream::connect(server.addr()).unwrap();
    assert!(server.wait_done(1, WAIT));
    assert!(
        server.errors()[0].contains("timeout"),
        "{:?}",
        server.errors()
    );
    drop(s);

    // Dropping a server in the middle of a long step returns promptly.
    let server = FakeServer::start(vec![Step::Sleep(Duration::from_secs(600))]);
    let _s = StdTcpStream::connect(server.addr()).unwrap();
    std::thread::sleep(Duration::from_millis(100));
    let t = Instant::now();
    drop(server);
    assert!(t.elapsed() < Duration::from_secs(2));
}

#[test]
fn overlong_line_is_bounded() {
    let server = FakeServer::start_once(vec![expect("A1")]);
    let mut s = StdTcpStream::connect(server.addr()).unwrap();
    let junk = vec![b'x'; 200 * 1024];
    let _ = std::io::Write::write_all(&mut s, &junk);
    assert!(server.wait_done(1, WAIT));
    let errors = server.errors();
    assert!(
        errors[0].contains("line longer than 65536 bytes"),
        "{errors:?}"
    );
}

#[tokio::test]
async fn blackhole_works_from_async_tests_too() {
    let hole = Blackhole::start();
    let r = tokio::time::timeout(Duration::from_millis(800), TcpStream::connect(hole.addr())).await;
    assert!(r.is_err(), "connect finished: {r:?}");
}
