//! Bounded CRLF line framing over a byte buffer.

use super::ProtoError;

/// Accumulates bytes from the wire and hands out complete lines.
/// Bare LF is accepted as a line end (servers in the wild send it); the CR is stripped.
#[derive(Debug)]
pub struct LineReader {
    buf: Vec<u8>,
    max_line: usize,
    /// How far `buf` is known to hold no `\n` (a drip-fed line is not rescanned from the start).
    scanned: usize,
}

impl LineReader {
    pub fn new(max_line: usize) -> Self {
        LineReader {
            buf: Vec::new(),
            max_line,
            scanned: 0,
        }
    }

    /// Appends bytes read from the wire.
    pub fn push(&mut self, data: &[u8]) {
        self.buf.extend_from_slice(data);
    }

    /// Bytes received but not yet consumed.
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }

    /// Drops everything buffered (used when discarding pre-TLS state).
    pub fn clear(&mut self) {
        self.buf.clear();
        self.scanned = 0;
    }

    /// Hands out everything buffered (and forgets it): a session handed over to other code
    /// passes on what already arrived instead of losing it.
    pub fn take_buffered(&mut self) -> Vec<u8> {
        self.scanned = 0;
        std::mem::take(&mut self.buf)
    }

    /// The next complete line without its line end, `None` when more bytes are needed.
    /// Errors when a line exceeds the limit, whether or not its end has arrived.
    pub fn next_line(&mut self) -> Result<Option<Vec<u8>>, ProtoError> {
        let found = self.buf[self.scanned..].iter().position(|&b| b == b'\n');
        match found.map(|p| p + self.scanned) {
            Some(pos) => {
                self.scanned = 0;
                if pos > self.max_line {
                    return Err(ProtoError::LineTooLong {
                        limit: self.max_line,
                    });
                }
                let mut line: Vec<u8> = self.buf.drain(..=pos).collect();
                line.pop();
                if line.last() == Some(&b'\r') {
                    line.pop();
                }
                Ok(Some(line))
            }
            None if self.buf.len() > self.max_line => Err(ProtoError::LineTooLong {
                limit: self.max_line,
            }),
            None => {
                self.scanned = self.buf.len();
                Ok(None)
            }
        }
    }

    /// Takes exactly `n` raw bytes (an IMAP literal), `None` until they have all arrived.
    pub fn take_bytes(&mut self, n: usize) -> Option<Vec<u8>> {
        if self.buf.len() >= n {
            self.scanned = 0;
            Some(self.buf.drain(..n).collect())
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_split_across_pushes() {
        let mut r = LineReader::new(100);
        r.push(b"* OK hel");
        assert_eq!(r.next_line().unwrap(), None);
        r.push(b"lo\r\nA1 OK\nrest");
        assert_eq!(r.next_line().unwrap().unwrap(), b"* OK hello");
        assert_eq!(r.next_line().unwrap().unwrap(), b"A1 OK");
        assert_eq!(r.next_line().unwrap(), None);
        assert_eq!(r.buffered(), 4);
    }

    #[test]
    fn long_lines_fail_even_without_newline() {
        let mut r = LineReader::new(8);
        r.push(b"123456789");
        assert!(matches!(r.next_line(), Err(ProtoError::LineTooLong { .. })));
        let mut r = LineReader::new(8);
        r.push(b"1234567890\r\n");
        assert!(r.next_line().is_err());
    }

    #[test]
    fn literal_bytes() {
        let mut r = LineReader::new(100);
        r.push(b"abc");
        assert_eq!(r.take_bytes(4), None);
        r.push(b"d\r\n");
        assert_eq!(r.take_bytes(4).unwrap(), b"abcd");
        assert_eq!(r.next_line().unwrap().unwrap(), b"");
    }
}
