//! The replication backlog: the newest bytes of a replication stream, kept in a bounded ring so
//! a replica that lost its link for a moment can be sent only what it missed (a partial resync)
//! instead of a whole snapshot.
//!
//! Offsets count stream bytes from the start of the replication history: the byte at offset 1
//! is the first one ever written. The backlog knows the offset of the last byte it took
//! ([`Backlog::end_offset`], Redis's `master_repl_offset`) and holds at most `size` bytes before
//! it; what is older has been dropped.

use std::collections::VecDeque;

/// A bounded window over a byte stream.
#[derive(Clone, Debug)]
pub struct Backlog {
    data: VecDeque<u8>,
    size: usize,
    /// Offset of the last byte written (0 when none was).
    end: i64,
}

impl Backlog {
    /// An empty backlog holding up to `size` bytes whose next byte will have offset `end + 1`.
    pub fn new(size: usize, end: i64) -> Backlog {
        Backlog {
            data: VecDeque::new(),
            size: size.max(1),
            end,
        }
    }

    /// The most bytes it holds.
    pub fn size(&self) -> usize {
        self.size
    }

    /// Bytes held (INFO repl_backlog_histlen).
    pub fn histlen(&self) -> usize {
        self.data.len()
    }

    /// Offset of the last byte written.
    pub fn end_offset(&self) -> i64 {
        self.end
    }

    /// Offset of the oldest byte held (INFO repl_backlog_first_byte_offset): one past the end
    /// while it holds nothing.
    pub fn first_offset(&self) -> i64 {
        self.end - self.data.len() as i64 + 1
    }

    /// Appends stream bytes, dropping the oldest beyond the size.
    pub fn push(&mut self, bytes: &[u8]) {
        self.end += bytes.len() as i64;
        let keep = bytes.len().min(self.size);
        let drop = (self.data.len() + keep).saturating_sub(self.size);
        self.data.drain(..drop);
        self.data.extend(&bytes[bytes.len() - keep..]);
    }

    /// Changes the size, dropping the oldest bytes when it shrinks.
    pub fn resize(&mut self, size: usize) {
        self.size = size.max(1);
        let drop = self.data.len().saturating_sub(self.size);
        self.data.drain(..drop);
    }

    /// Every byte from `offset` on, if the backlog still holds `offset` (or it is the next
    /// byte to come: then nothing is missing).
    pub fn since(&self, offset: i64) -> Option<Vec<u8>> {
        if offset < self.first_offset() || offset > self.end + 1 {
            return None;
        }
        let skip = usize::try_from(offset - self.first_offset()).ok()?;
        Some(self.data.iter().skip(skip).copied().collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_newest_bytes() {
        let mut b = Backlog::new(4, 0);
        assert_eq!(b.first_offset(), 1);
        assert_eq!(b.since(1), Some(Vec::new()));
        b.push(b"abc");
        assert_eq!((b.first_offset(), b.end_offset(), b.histlen()), (1, 3, 3));
        b.push(b"def");
        assert_eq!((b.first_offset(), b.end_offset(), b.histlen()), (3, 6, 4));
        assert_eq!(b.since(3), Some(b"cdef".to_vec()));
        assert_eq!(b.since(6), Some(b"f".to_vec()));
        assert_eq!(b.since(7), Some(Vec::new()));
        assert_eq!(b.since(2), None);
        assert_eq!(b.since(8), None);
        b.push(b"0123456789");
        assert_eq!(b.since(13), Some(b"6789".to_vec()));
        b.resize(2);
        assert_eq!(b.since(15), Some(b"89".to_vec()));
        assert_eq!(b.since(14), None);
    }

    #[test]
    fn starts_at_any_offset() {
        let mut b = Backlog::new(10, 100);
        assert_eq!(b.first_offset(), 101);
        b.push(b"xy");
        assert_eq!(b.since(101), Some(b"xy".to_vec()));
    }
}
