//! Running the real `mailsetup` binary and reading what it printed.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::Value;

/// What one run of the binary produced.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
}

impl Run {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is not JSON ({e}):\n{}\nstderr:\n{}",
                self.stdout, self.stderr
            )
        })
    }

    /// The endpoints array of a JSON report.
    pub fn endpoints(&self) -> Vec<Value> {
        self.json()["endpoints"]
            .as_array()
            .expect("endpoints array")
            .clone()
    }

    /// Everything printed, for leak scans.
    pub fn all_output(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }
}

/// Runs `mailsetup ARGS` with extra environment, stdin closed (never a TTY).
pub fn mailsetup(args: &[&str], env: &[(&str, &str)]) -> Run {
    let start = Instant::now();
    let mut cmd = Command::new(super::bin());
    cmd.args(args).stdin(Stdio::null()).env_remove("NO_COLOR");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("run mailsetup");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        elapsed: start.elapsed(),
    }
}

/// Problem codes of one endpoint (or of a top-level report).
pub fn codes(v: &Value) -> Vec<String> {
    v["problems"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|p| p["code"].as_str().unwrap_or_default().to_string())
                .collect()
        })
        .unwrap_or_default()
}

/// Every form in which a password could show up: raw, and base64 of the SASL payloads
/// and of the password alone (LOGIN mechanism), with and without a user name.
pub fn secret_forms(user: &str, password: &str) -> Vec<Vec<u8>> {
    let b64 = |b: &[u8]| {
        base64::engine::general_purpose::STANDARD
            .encode(b)
            .into_bytes()
    };
    let plain = [
        b"\0".as_slice(),
        user.as_bytes(),
        b"\0",
        password.as_bytes(),
    ]
    .concat();
    vec![
        password.as_bytes().to_vec(),
        b64(password.as_bytes()),
        b64(&plain),
        b64(format!("\0{user}\0{password}").as_bytes()),
        b64(format!("user={user}\x01auth=Bearer {password}\x01\x01").as_bytes()),
    ]
}

/// Panics when `haystack` contains any form of the password.
pub fn assert_no_secret(what: &str, haystack: &[u8], user: &str, password: &str) {
    for form in secret_forms(user, password) {
        assert!(
            !haystack.windows(form.len()).any(|w| w == form.as_slice()),
            "{what} contains the password (form {:?})",
            String::from_utf8_lossy(&form)
        );
    }
}

pub fn path_str(p: &Path) -> String {
    p.to_str().expect("utf-8 path").to_string()
}
