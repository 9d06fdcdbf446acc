//! `mailsetup discover someone@gmail.com --offline` in a fresh network namespace (`unshare
//! --net`): the namespace has only a loopback interface, and it is down, so no packet can
//! leave the process at all. The provider's settings must still come out, from the
//! built-in DB alone.

use std::io::Write;
use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::harness::str_of;
use super::support::run::Run;

/// Runs `PROGRAM ARGS` inside a new, empty network namespace. `None` (after a loud notice)
/// when namespaces can't be made here (not root, no `unshare`), unless
/// `MAILSETUP_REQUIRE_STACK=1`, which makes that a failure.
fn in_empty_netns(program: &str, args: &[&str]) -> Option<Run> {
    let start = Instant::now();
    let out = Command::new("unshare")
        .arg("--net")
        .arg("--")
        .arg(program)
        .args(args)
        .stdin(Stdio::null())
        .env_remove("NO_COLOR")
        .output();
    let why = match &out {
        Err(e) => format!("cannot run unshare: {e}"),
        Ok(o)
            if o.status.code() == Some(1)
                && o.stdout.is_empty()
                && String::from_utf8_lossy(&o.stderr).starts_with("unshare:") =>
        {
            format!(
                "unshare failed: {}",
                String::from_utf8_lossy(&o.stderr).trim()
            )
        }
        Ok(o) => {
            return Some(Run {
                code: o.status.code().unwrap_or(-1),
                stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
                stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
                elapsed: start.elapsed(),
            })
        }
    };
    if std::env::var("MAILSETUP_REQUIRE_STACK").as_deref() == Ok("1") {
        panic!("a network namespace is required (MAILSETUP_REQUIRE_STACK=1): {why}");
    }
    let _ = writeln!(
        std::io::stderr(),
        "\n!!!!!!!! SKIPPED: no network namespace ({why}); run as root with util-linux unshare.\n"
    );
    None
}

fn bin() -> String {
    super::support::bin()
        .to_str()
        .expect("utf-8 path")
        .to_string()
}

#[test]
fn offline_discover_prints_gmail_settings_with_no_network_at_all() {
    // 1. The namespace really is cut off: only `lo`, and a listener on this host's
    //    loopback is unreachable from inside.
    let Some(dev) = in_empty_netns("cat", &["/proc/net/dev"]) else {
        return;
    };
    let ifaces: Vec<&str> = dev
        .stdout
        .lines()
        .skip(2)
        .filter_map(|l| l.split(':').next())
        .map(str::trim)
        .collect();
    assert_eq!(ifaces, ["lo"], "{}", dev.stdout);
    let outside = TcpListener::bind("127.0.0.1:0").unwrap();
    outside.set_nonblocking(true).unwrap();
    let url = format!("imaps://127.0.0.1:{}", outside.local_addr().unwrap().port());
    let probe = in_empty_netns(
        &bin(),
        &["probe", "--server", &url, "--json", "--timeout", "5"],
    )
    .expect("namespace worked a moment ago");
    let ep = &probe.json()["endpoints"][0];
    assert_eq!(ep["status"], "error", "{}", probe.stdout);
    assert!(
        outside.accept().is_err(),
        "a connection from inside the namespace reached the host"
    );

    // 2. Human output: the provider and its servers.
    let human = in_empty_netns(&bin(), &["discover", "someone@gmail.com", "--offline"]).unwrap();
    assert_eq!(human.code, 0, "{}\n{}", human.stdout, human.stderr);
    for want in [
        "Google Mail",
        "imaps://imap.gmail.com:993",
        "pop3s://pop.gmail.com:995",
        "smtps://smtp.gmail.com:465",
        "builtin-db",
        "someone@gmail.com",
    ] {
        assert!(
            human.stdout.contains(want),
            "{want} missing:\n{}",
            human.stdout
        );
    }
    assert!(
        human.elapsed < Duration::from_secs(5),
        "{:?}",
        human.elapsed
    );

    // 3. JSON: the built-in DB is the only source consulted.
    let run = in_empty_netns(
        &bin(),
        &["discover", "someone@gmail.com", "--offline", "--json"],
    )
    .unwrap();
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let v = run.json();
    let attempts = v["attempts"].as_array().expect("attempts");
    let sources: Vec<String> = attempts.iter().map(|a| str_of(&a["source"])).collect();
    assert_eq!(sources, ["builtin-db"], "{}", run.stdout);
    assert_eq!(attempts[0]["result"], "found");
    assert_eq!(v["provider"], "Google Mail");
    let candidates: Vec<(String, String, u64, String, String)> = v["candidates"]
        .as_array()
        .expect("candidates")
        .iter()
        .map(|c| {
            let ep = &c["endpoint"];
            (
                str_of(&ep["protocol"]),
                str_of(&ep["host"]),
                ep["port"].as_u64().unwrap_or(0),
                str_of(&ep["security"]),
                str_of(&c["username"]),
            )
        })
        .collect();
    let gmail = |p: &str, h: &str, port: u64| {
        (
            p.into(),
            h.into(),
            port,
            "tls".into(),
            "someone@gmail.com".into(),
        )
    };
    assert_eq!(
        candidates,
        [
            gmail("imap", "imap.gmail.com", 993),
            gmail("pop3", "pop.gmail.com", 995),
            gmail("smtp", "smtp.gmail.com", 465),
        ]
    );
    assert!(v["candidates"]
        .as_array()
        .unwrap()
        .iter()
        .all(|c| c["source"] == "builtin-db" && c["trusted"] == true));
}
