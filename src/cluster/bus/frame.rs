//! Cutting a cluster bus byte stream into whole messages.

use super::{peek_totlen, BusError, HEADER_LEN, PUBLISH_FIXED_LEN};

/// The framer's default bound on a message's total length: the largest PUBLISH a Redis 7.0
/// node with the default `proto-max-bulk-len` (512 MB) can send, a channel and a message of
/// 512 MB each. A node that lowers its own limits can bound links tighter with
/// [`Framer::with_max_len`].
pub const DEFAULT_MAX_MSG_LEN: u32 = (HEADER_LEN + PUBLISH_FIXED_LEN) as u32 + 2 * (512 << 20);

/// Takes the bytes of one link as they arrive and yields whole messages, as a node's read
/// handler does: the first 8 bytes give the signature and total length (checked at once, so a
/// stream of garbage is refused after 8 bytes), then the message is complete when that many
/// bytes are in. A framing error is final: the stream cannot be resynchronised and a node
/// closes the link; every later call returns the same error.
#[derive(Debug)]
pub struct Framer {
    buf: Vec<u8>,
    /// Where the next message starts in `buf`; the consumed prefix is dropped in batches.
    start: usize,
    max_len: u32,
    failed: Option<BusError>,
}

impl Default for Framer {
    fn default() -> Self {
        Framer::new()
    }
}

impl Framer {
    /// A framer bounding messages at [`DEFAULT_MAX_MSG_LEN`].
    pub fn new() -> Framer {
        Framer::with_max_len(DEFAULT_MAX_MSG_LEN)
    }

    /// A framer refusing messages longer than `max_len` bytes.
    pub fn with_max_len(max_len: u32) -> Framer {
        Framer {
            buf: Vec::new(),
            start: 0,
            max_len,
            failed: None,
        }
    }

    /// Appends bytes read from the link (ignored once the framer has failed).
    pub fn push(&mut self, bytes: &[u8]) {
        if self.failed.is_some() {
            return;
        }
        if self.start > 0 && self.start >= self.buf.len() / 2 {
            self.buf.drain(..self.start);
            self.start = 0;
        }
        self.buf.extend_from_slice(bytes);
    }

    /// Bytes received and not yet yielded.
    pub fn buffered(&self) -> usize {
        self.buf.len() - self.start
    }

    /// The next whole message's bytes (decode them with [`super::Msg::decode`]), None while
    /// it is incomplete, or the framing error that ends the link.
    pub fn next_frame(&mut self) -> Result<Option<Vec<u8>>, BusError> {
        if let Some(e) = &self.failed {
            return Err(e.clone());
        }
        let pending = &self.buf[self.start..];
        if pending.len() < 8 {
            return Ok(None);
        }
        let checked = peek_totlen(pending).and_then(|totlen| {
            if totlen > self.max_len {
                Err(BusError::TooLong {
                    totlen,
                    max: self.max_len,
                })
            } else {
                Ok(totlen as usize)
            }
        });
        let totlen = match checked {
            Ok(n) => n,
            Err(e) => {
                self.failed = Some(e.clone());
                self.buf = Vec::new();
                self.start = 0;
                return Err(e);
            }
        };
        if pending.len() < totlen {
            return Ok(None);
        }
        let frame = pending[..totlen].to_vec();
        self.start += totlen;
        if self.start == self.buf.len() {
            self.buf.clear();
            self.start = 0;
        }
        Ok(Some(frame))
    }
}
