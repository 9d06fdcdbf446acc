//! What the wizard tells: servers and problems in plain words, the test message's result, and
//! the end screen.

use std::path::PathBuf;

use anyhow::Result;

use super::super::write::tilde;
use super::super::{stdout_style, NetArgs};
use crate::app::roundtrip::{RoundTripOptions, DEFAULT_TIMEOUT};
use crate::clients::OutputFile;
use crate::model::{Address, Folders, Protocol, Security, ServerSettings};
use crate::report::escape::terminal_safe as safe;
use crate::report::roundtrip::RoundTripStatus;
use crate::report::{human, CheckReport, LoginStatus, Recommended};
use crate::secrets::Store;
use crate::session::login::Credentials;

/// Sends the test message through the chosen servers (fresh sessions: the check's are
/// closed by now) and says in plain words whether it arrived.
pub(super) fn test_message_step(
    report: &CheckReport,
    rec: &Recommended,
    credentials: Credentials,
    net: &NetArgs,
    runtime: &tokio::runtime::Runtime,
) -> Result<()> {
    println!(
        "\nSending a test message to {} and waiting for it to arrive (up to {} s)…",
        safe(&report.address),
        DEFAULT_TIMEOUT.as_secs()
    );
    let mut chosen = report.clone();
    chosen.recommended = Some(rec.clone());
    let opts = RoundTripOptions {
        timeout: DEFAULT_TIMEOUT,
        to: None,
        credentials: Some(credentials),
        allow_plaintext: false,
    };
    let cfg = net.session_config(false)?;
    let rt = runtime.block_on(crate::app::roundtrip::run(&chosen, &opts, &cfg, None));
    if rt.status == RoundTripStatus::Delivered && !rt.failed() {
        println!(
            "Test message: delivered in {:.1} s and deleted again — sending and receiving both work.",
            rt.delivery_ms.unwrap_or_default() as f64 / 1000.0
        );
    } else {
        let mut block = String::new();
        crate::report::roundtrip::render(&mut block, &rt, stdout_style());
        print!("{block}");
        println!("Logging in works, but the test message did not make the whole trip (see above); the settings are still written if you go on.");
    }
    Ok(())
}

/// Whether login worked on some endpoint of this protocol.
pub(super) fn works(r: &CheckReport, p: Protocol) -> bool {
    r.endpoints.iter().any(|e| {
        e.protocol == p
            && e.login
                .as_ref()
                .is_some_and(|l| l.status == LoginStatus::Ok)
    })
}

/// "Incoming mail: IMAP on imap.example.com, encrypted (SSL/TLS, port 993) — your password works"
pub fn plain(s: &ServerSettings, label: &str) -> String {
    let how = match s.endpoint.security {
        Security::Tls => format!("encrypted (SSL/TLS, port {})", s.endpoint.port),
        Security::StartTls => format!("encrypted with STARTTLS (port {})", s.endpoint.port),
        Security::Plain => format!("NOT encrypted (port {})", s.endpoint.port),
    };
    format!(
        "{label}: {} on {}, {how} — your password works",
        s.endpoint.protocol.as_str().to_uppercase(),
        safe(&s.endpoint.host)
    )
}

/// Problems worth telling an end user, each with what to do.
pub(super) fn explain_problems(r: &CheckReport) {
    let mut out = String::new();
    human::problems(&mut out, &r.endpoints, &r.problems, stdout_style());
    if !out.is_empty() {
        println!("Some ways to reach your mail did not work (that's fine, one working way is enough):{out}");
    }
}

/// What setup did, for the end screen.
pub(super) struct Done<'a> {
    pub address: &'a Address,
    pub store: Option<&'a Store>,
    /// The password was written into the files (`--embed-password`).
    pub embedded: bool,
    pub folders: &'a Folders,
    /// What installing did (`describe_installed`), empty when writing into a directory.
    pub installed: &'a str,
    pub made_dirs: &'a [PathBuf],
    /// Installed where the clients look (else written into `--out`).
    pub installing: bool,
    pub notes: &'a [String],
    pub files: &'a [OutputFile],
}

/// The end screen: what was done, how to start each program.
pub(super) fn end_screen(d: &Done<'_>) {
    println!("\nDone. {} is set up.", safe(&d.address.to_string()));
    if let Some(s) = d.store {
        println!("  Password: in {}.", s.describe());
    } else if d.embedded {
        println!("  Password: written into the files (mode 0600), as you asked.");
    }
    let f = d.folders;
    let named: Vec<String> = [
        ("Sent", &f.sent),
        ("Drafts", &f.drafts),
        ("Trash", &f.trash),
        ("Junk", &f.junk),
        ("Archive", &f.archive),
    ]
    .iter()
    .filter_map(|(role, folder)| {
        folder
            .as_ref()
            .map(|x| format!("{role} = \"{}\"", safe(&x.name)))
    })
    .collect();
    if !named.is_empty() {
        println!("  Server folders mapped: {}.", named.join(", "));
    }
    if f.server_saves_sent {
        println!("  Your provider files sent mail itself: the programs keep no second copy.");
    }
    for line in d.installed.lines() {
        let mut chars = line.chars();
        let first: String = chars
            .next()
            .map(char::to_uppercase)
            .into_iter()
            .flatten()
            .collect();
        println!("  {first}{}", chars.as_str());
    }
    let maildirs: Vec<String> = d
        .made_dirs
        .iter()
        .filter(|d| !["cur", "new", "tmp"].iter().any(|s| d.ends_with(s)))
        .map(|d| tilde(d))
        .collect();
    if !maildirs.is_empty() {
        println!("  Made {}.", maildirs.join(", "));
    }
    if !d.installing {
        for n in d.notes {
            println!("  Note: {}", safe(n));
        }
    } else {
        for n in d
            .notes
            .iter()
            .filter(|n| n.contains("Thunderbird") || n.contains("import"))
        {
            println!("  Note: {}", safe(n));
        }
    }
    let starts: Vec<&str> = d.files.iter().filter_map(|f| f.start.as_deref()).collect();
    if !starts.is_empty() {
        println!("\nStart your mail programs:");
        for cmd in &starts {
            println!("  {cmd}");
        }
    }
}
