//! Shared test support: the real local mail stack, scripted fake servers, certificates.
//! Each integration test file includes it with `mod support;`.
#![allow(dead_code, unused_imports)]

pub mod browser;
pub mod certs;
pub mod desktop;
pub mod dns;
pub mod fake;
pub mod flights;
pub mod http;
pub mod oauth2;
pub mod run;
pub mod stack;

use std::path::PathBuf;

/// Path of the `mailsetup` binary built by cargo for integration tests.
pub fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_mailsetup"))
}
