//! Shared by the wire-protocol targets: how the first input bytes choose the line limit and
//! the TCP segment boundaries the payload arrives in.

#![allow(dead_code)] // not every target uses every helper

use mailsetup::proto::{MAX_LINE, MAX_REPLY};

/// At most this many capability atoms fit in one reply (one byte and a space each).
pub const MAX_ATOMS: usize = MAX_REPLY / 2 + 1;

/// The input split into its framing header and the server's bytes.
pub struct Wire<'a> {
    /// Line limit handed to `LineReader::new`: the real one, or a small one so that the
    /// long-line paths are reachable with small inputs.
    pub max_line: usize,
    /// Free bits for the target's own choices (third header byte).
    pub flags: u8,
    payload: &'a [u8],
    mode: u8,
    rng: u32,
}

impl<'a> Wire<'a> {
    /// Header: byte 0 = split mode (low 2 bits) and line limit (bits 2-3); byte 1 = seed of
    /// the segment sizes; byte 2 = target flags. Missing bytes count as 0.
    pub fn new(data: &'a [u8]) -> Self {
        let at = |i: usize| data.get(i).copied().unwrap_or(0);
        let max_line = match (at(0) >> 2) & 3 {
            0 | 1 => MAX_LINE,
            2 => 64,
            _ => 512,
        };
        Wire {
            max_line,
            flags: at(2),
            payload: data.get(3..).unwrap_or(&[]),
            mode: at(0) & 3,
            rng: u32::from(at(1)).wrapping_mul(2_654_435_761) | 1,
        }
    }

    pub fn payload(&self) -> &'a [u8] {
        self.payload
    }

    /// The payload as segments: whole, byte by byte, 1-16 bytes, or 1-4096 bytes.
    pub fn segments(&self) -> Vec<&'a [u8]> {
        let mut out = Vec::new();
        let mut rest = self.payload;
        let mut rng = self.rng;
        while !rest.is_empty() {
            rng ^= rng << 13;
            rng ^= rng >> 17;
            rng ^= rng << 5;
            let n = match self.mode {
                0 => rest.len(),
                1 => 1,
                2 => 1 + (rng % 16) as usize,
                _ => 1 + (rng % 4096) as usize,
            }
            .min(rest.len());
            let (seg, tail) = rest.split_at(n);
            out.push(seg);
            rest = tail;
        }
        out
    }
}
