//! Headless Chromium (Debian's `chromium`) driven through the DevTools protocol by
//! `tests/browser/inspect.mjs` (pinned `playwright-core`, installed by
//! `scripts/install-test-deps` with `npm ci`). [`inspect`] opens an HTML file and returns what
//! the browser saw: console messages, every request (DevTools Network domain and Chromium's own
//! network log), facts from the live DOM, the waterfall's bars with their rendered geometry,
//! and a full-page screenshot.
//!
//! When Chromium, node or the npm package is missing, [`inspect`] writes a loud SKIPPED notice
//! and returns `None` — unless `MAILSETUP_REQUIRE_STACK=1`, where it panics.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

pub const CHROMIUM: &str = "/usr/bin/chromium";

fn browser_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("browser")
}

fn unavailable_reason() -> Option<String> {
    if !Path::new(CHROMIUM).exists() {
        return Some(format!(
            "{CHROMIUM} is not installed (Debian package chromium)"
        ));
    }
    let node = Command::new("node")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    if !node.is_ok_and(|s| s.success()) {
        return Some("node is not installed (Debian package nodejs)".into());
    }
    if !browser_dir()
        .join("node_modules/playwright-core/package.json")
        .exists()
    {
        return Some("tests/browser/node_modules is missing (npm ci in tests/browser)".into());
    }
    None
}

fn skip(test_name: &str, reason: &str) -> Option<Value> {
    if std::env::var("MAILSETUP_REQUIRE_STACK").is_ok_and(|v| v == "1") {
        panic!(
            "[{test_name}] headless Chromium is required (MAILSETUP_REQUIRE_STACK=1) but cannot run: {reason}. \
             Install it with scripts/install-test-deps (as root)."
        );
    }
    let mut err = std::io::stderr().lock();
    let _ = writeln!(
        err,
        "\n######## SKIPPED: {test_name} did NOT test anything ########\n\
         ## headless Chromium cannot run here: {reason}\n\
         ## Install it with `scripts/install-test-deps` (as root); MAILSETUP_REQUIRE_STACK=1 makes this a failure.\n\
         ############################################################\n"
    );
    None
}

/// Opens `html` in headless Chromium, writes a full-page screenshot to `screenshot`, and
/// returns the inspection (see `tests/browser/inspect.mjs`).
pub fn inspect(test_name: &str, html: &Path, screenshot: &Path) -> Option<Value> {
    if let Some(reason) = unavailable_reason() {
        return skip(test_name, &reason);
    }
    let work = tempfile::tempdir().expect("temp dir");
    let netlog = work.path().join("netlog.json");
    let mut child = Command::new("node")
        .arg(browser_dir().join("inspect.mjs"))
        .arg(html)
        .arg(screenshot)
        .arg(&netlog)
        .env("CHROMIUM", CHROMIUM)
        .env("TMPDIR", work.path())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start node");
    let deadline = Instant::now() + Duration::from_secs(120);
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait for node") {
            break s;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("[{test_name}] the Chromium inspection did not finish within 120 s");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut stdout = String::new();
    let mut stderr = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut stdout)
        .unwrap();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert!(
        status.success(),
        "[{test_name}] inspect.mjs failed ({status}):\n{stderr}\n{stdout}"
    );
    Some(serde_json::from_str(&stdout).unwrap_or_else(|e| {
        panic!("[{test_name}] inspect.mjs printed no JSON ({e}):\n{stdout}\n{stderr}")
    }))
}

/// Requests the page caused: the DevTools Network domain's list (deduplicated) and the
/// entries of Chromium's network log whose initiator is a document, not the browser itself.
pub fn page_requests(v: &Value) -> (Vec<String>, Vec<String>) {
    let mut devtools: Vec<String> = v["requests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_str().unwrap().to_string())
        .collect();
    devtools.sort();
    devtools.dedup();
    assert!(v.get("netlogError").is_none(), "netlog unreadable: {v}");
    let netlog: Vec<String> = v["netlog"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["initiator"] != "not an origin")
        .map(|r| r["url"].as_str().unwrap().to_string())
        .collect();
    (devtools, netlog)
}
