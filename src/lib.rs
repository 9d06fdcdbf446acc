//! mailsetup: discover, probe and verify mail servers, and write working client configs.
//!
//! Layers (see ARCHITECTURE.md): `model` is imported by all; `proto` is sans-I/O;
//! `session` drives one endpoint; `clients` are pure writers; `report` is the output model;
//! `app` orchestrates; `cli` (in the binary crate side) parses argv.

pub mod app;
pub mod cli;
pub mod clients;
pub mod discover;
pub mod model;
pub mod net;
pub mod oauth2;
pub mod proto;
pub mod report;
pub mod secrets;
pub mod session;
