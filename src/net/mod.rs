//! The network layer below every protocol: TCP connections (all addresses raced, happy
//! eyeballs), `--connect-to`, the resolver (`--dns-server`), and TLS — the trust context, the
//! verifier kinds chosen once (system roots and `--ca-file`, pinned, insecure) and the
//! certificate facts a report shows. Facts only: no problem or hint is worded here.

// No unwrap or expect outside tests; a remaining expect states its invariant (issue 13).
#![deny(clippy::unwrap_used, clippy::expect_used)]

pub mod connect;
pub mod stream;
pub mod tls;
