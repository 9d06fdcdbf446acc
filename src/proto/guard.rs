//! A byte-flow guard for a server stream that a third-party client crate parses
//! (`check --round-trip`: async-imap, async-pop). The crate never sees a byte this guard has
//! not accepted: the stream as a whole, each line and each IMAP literal stay within limits,
//! and a literal's announced size is refused before any of its bytes (or the buffer the crate
//! would allocate for it) exist. Sans-I/O: bytes in, verdict out.

use super::ProtoError;

/// Limits for one guarded stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Bytes the server may send over the stream's whole life.
    pub total: usize,
    /// Longest line outside a literal.
    pub line: usize,
    /// Largest IMAP literal (`{N}` at a line end); `None` for protocols without literals.
    pub literal: Option<u64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Inside a line: how long it is so far.
    Line(usize),
    /// Inside a literal: how many bytes remain.
    Literal(u64),
}

/// Tracks the flow; see the module docs.
#[derive(Debug, Clone)]
pub struct StreamGuard {
    limits: Limits,
    total: usize,
    state: State,
    /// The last bytes of the current line (enough to recognise `{N}` before the line end).
    tail: Vec<u8>,
}

/// Room for `{` + 20 digits + `+}` + CR.
const TAIL: usize = 32;

impl StreamGuard {
    pub fn new(limits: Limits) -> Self {
        StreamGuard {
            limits,
            total: 0,
            state: State::Line(0),
            tail: Vec::with_capacity(TAIL),
        }
    }

    /// Bytes accepted so far.
    pub fn total(&self) -> usize {
        self.total
    }

    /// Checks the next bytes of the flow. An error is final: the stream must not be read on.
    pub fn accept(&mut self, bytes: &[u8]) -> Result<(), ProtoError> {
        self.total = self.total.saturating_add(bytes.len());
        if self.total > self.limits.total {
            return Err(ProtoError::ReplyTooLarge {
                limit: self.limits.total,
            });
        }
        let mut i = 0;
        while i < bytes.len() {
            match self.state {
                State::Literal(remaining) => {
                    let take = remaining.min((bytes.len() - i) as u64);
                    i += take as usize;
                    self.state = match remaining - take {
                        0 => State::Line(0),
                        left => State::Literal(left),
                    };
                }
                State::Line(len) => {
                    let b = bytes[i];
                    i += 1;
                    if b == b'\n' {
                        self.state = self.after_line_end()?;
                        self.tail.clear();
                        continue;
                    }
                    let len = len + 1;
                    if len > self.limits.line {
                        return Err(ProtoError::LineTooLong {
                            limit: self.limits.line,
                        });
                    }
                    if self.tail.len() == TAIL {
                        self.tail.remove(0);
                    }
                    self.tail.push(b);
                    self.state = State::Line(len);
                }
            }
        }
        Ok(())
    }

    /// At a line end: a literal follows when the line ended in `{N}` (IMAP only).
    fn after_line_end(&self) -> Result<State, ProtoError> {
        let Some(limit) = self.limits.literal else {
            return Ok(State::Line(0));
        };
        let line = self.tail.strip_suffix(b"\r").unwrap_or(&self.tail);
        match super::imap::literal_size(line) {
            Some(size) if size > limit => Err(ProtoError::LiteralTooLarge { size, limit }),
            Some(0) | None => Ok(State::Line(0)),
            Some(size) => Ok(State::Literal(size)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn imap() -> StreamGuard {
        StreamGuard::new(Limits {
            total: 1000,
            line: 40,
            literal: Some(100),
        })
    }

    #[test]
    fn ordinary_lines_pass() {
        let mut g = imap();
        g.accept(b"* 3 EXISTS\r\n* OK [UIDNEXT 9] next\r\nA1 OK done\r\n")
            .unwrap();
        assert_eq!(g.total(), 47);
    }

    #[test]
    fn a_line_without_end_is_refused_at_the_limit() {
        let mut g = imap();
        g.accept(&[b'x'; 40]).unwrap();
        assert_eq!(
            g.accept(b"x"),
            Err(ProtoError::LineTooLong { limit: 40 }),
            "the 41st byte of one line"
        );
    }

    #[test]
    fn a_literal_may_hold_long_runs_and_line_ends() {
        let mut g = imap();
        g.accept(b"* 1 FETCH (BODY[HEADER] {90}\r\n").unwrap();
        // 90 bytes without a newline: longer than a line may be, fine inside the literal.
        g.accept(&[b'y'; 90]).unwrap();
        g.accept(b")\r\nA2 OK\r\n").unwrap();
        // Split across reads, with CRLF inside.
        let mut g = imap();
        g.accept(b"* 1 FETCH (X {5}\r").unwrap();
        g.accept(b"\na\r\nb").unwrap();
        g.accept(b"c)\r\n").unwrap();
    }

    #[test]
    fn an_oversized_literal_is_refused_when_announced() {
        let mut g = imap();
        assert_eq!(
            g.accept(b"* 1 FETCH (BODY[] {9999999999}\r\n"),
            Err(ProtoError::LiteralTooLarge {
                size: 9_999_999_999,
                limit: 100
            })
        );
        // Announced across two reads (the size digits split).
        let mut g = imap();
        g.accept(b"* 1 FETCH (BODY[] {99").unwrap();
        assert!(g.accept(b"999}\r\n").is_err());
        // Without a CR (bare LF) too.
        let mut g = imap();
        assert!(g.accept(b"* 1 FETCH (BODY[] {101}\n").is_err());
    }

    #[test]
    fn endless_short_lines_hit_the_total() {
        let mut g = imap();
        let err = (0..100)
            .find_map(|_| g.accept(b"* OK still here\r\n").err())
            .unwrap();
        assert_eq!(err, ProtoError::ReplyTooLarge { limit: 1000 });
        assert!(g.accept(b"x").is_err(), "and stays refused");
    }

    #[test]
    fn pop3_has_no_literals() {
        let mut g = StreamGuard::new(Limits {
            total: 1000,
            line: 40,
            literal: None,
        });
        // A POP3 line ending in braces is just text.
        g.accept(b"+OK {99999999}\r\n").unwrap();
        assert!(g.accept(&[b'z'; 41]).is_err());
    }
}
