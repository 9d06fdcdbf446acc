//! Stable identifiers (UUIDs, digests) derived from the account, so output is deterministic,
//! and the header line every file starts with.

use super::Ctx;

/// A stable UUID (version 5 layout) derived from `parts`, so output is deterministic.
pub(crate) fn stable_uuid(parts: &[&str]) -> String {
    let digest = stable_digest(parts);
    let mut b = [0u8; 16];
    b.copy_from_slice(&digest[..16]);
    b[6] = (b[6] & 0x0f) | 0x50;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

/// SHA-256 over a fixed prefix and `parts` (NUL-separated), truncated to 20 bytes.
pub(crate) fn stable_digest(parts: &[&str]) -> [u8; 20] {
    let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
    ctx.update(b"mailsetup client config\0");
    for part in parts {
        ctx.update(part.as_bytes());
        ctx.update(&[0u8]);
    }
    let mut out = [0u8; 20];
    out.copy_from_slice(&ctx.finish().as_ref()[..20]);
    out
}

/// The first comment line of a file: what it is, free of user data.
pub(crate) fn header(ctx: &Ctx<'_>) -> String {
    format!(
        "{}: one account, written by mailsetup.",
        ctx.info.description
    )
}
