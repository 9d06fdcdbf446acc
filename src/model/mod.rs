//! Domain types shared by every layer. Imports nothing of ours.

// No unwrap or expect outside tests; a remaining expect states its invariant (issue 13).
#![deny(clippy::unwrap_used, clippy::expect_used)]

mod account;
mod endpoint;
mod secret;
mod text;
pub mod timing;
mod trust;

pub use account::{
    AccountSettings, Address, AuthMethod, Folder, Folders, FoundBy, Mechanism, Pop3Policy,
    ServerSettings,
};
pub use endpoint::{split_host_port, validate_host, Endpoint, Protocol, Security};
pub use secret::Secret;
pub use text::{is_deceptive_char, is_unsafe_char, terminal_safe};
pub use trust::{host_in_domain, Transport, TrustReason};

#[cfg(test)]
mod tests;
