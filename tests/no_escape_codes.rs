//! Colour and progress only on a terminal: NO_COLOR, a pipe and --json print no escape codes.

mod support;

use std::process::{Command, Stdio};

use support::certs::TestCa;
use support::fake::{expect_tagged, send, FakeServer, Step};

const HOST: &str = "fake.example.test";

fn server(ca: &TestCa) -> FakeServer {
    FakeServer::start(vec![
        Step::StartTls(ca.leaf(&[HOST]).server_config()),
        send("* OK ready\r\n"),
        expect_tagged("CAPABILITY"),
        send("* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\n{tag} OK done\r\n"),
        Step::ReadUntilEof,
    ])
}

/// Runs `mailsetup probe ...` inside a pseudo-terminal (util-linux `script`) and returns
/// every byte the terminal received.
fn in_terminal(args: &str, env: &[(&str, &str)]) -> Vec<u8> {
    let cmd = format!("{} {args}", support::bin().display());
    let mut c = Command::new("script");
    c.args(["-qec", &cmd, "/dev/null"])
        .stdin(Stdio::null())
        .env_remove("NO_COLOR");
    for (k, v) in env {
        c.env(k, v);
    }
    let out = c.output().expect("script(1) from util-linux/bsdutils");
    out.stdout
}

#[test]
fn escape_codes_only_on_a_colour_terminal() {
    let ca = TestCa::new("colour");
    let s = server(&ca);
    let ca_file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(ca_file.path(), ca.ca_pem()).unwrap();
    let args = format!(
        "probe --server imaps://{HOST}:993 --connect-to {HOST}:993:127.0.0.1:{} --ca-file {}",
        s.port,
        ca_file.path().display()
    );
    // A terminal without NO_COLOR: colour (the control run, proving the check can fail).
    let colour = in_terminal(&args, &[]);
    assert!(
        colour.contains(&0x1b),
        "expected colour on a terminal: {:?}",
        String::from_utf8_lossy(&colour)
    );
    // NO_COLOR on a terminal: none.
    let plain = in_terminal(&args, &[("NO_COLOR", "1")]);
    assert!(
        !plain.contains(&0x1b),
        "{:?}",
        String::from_utf8_lossy(&plain)
    );
    assert!(String::from_utf8_lossy(&plain).contains("imaps://fake.example.test:993"));
    // --json on a terminal: none.
    let json = in_terminal(&format!("{args} --json"), &[]);
    assert!(
        !json.contains(&0x1b),
        "{:?}",
        String::from_utf8_lossy(&json)
    );
    // A pipe: none, on stdout or stderr.
    let piped: Vec<&str> = args.split(' ').collect();
    let r = support::run::mailsetup(&piped, &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(!r.stdout.contains('\x1b') && !r.stderr.contains('\x1b'));
}
