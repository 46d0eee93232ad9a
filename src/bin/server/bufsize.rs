//! The sizes redis-server gives a client's query buffer and reply buffer, which CLIENT LIST
//! shows (`qbuf-free`, `rbs`, `rbp`): this server's own buffers are plain vectors, so it keeps
//! the figures redis-server would have, from the same events (a read, a command with a big
//! argument, a reply, the client cron).
//!
//! **Query buffer.** Empty until the first read, which makes room for 16 KB (20,474 usable
//! bytes, as jemalloc and sds round it); once it holds that much it grows greedily (doubling
//! up to 1 MB). A bulk argument of 32 KB or more gets a buffer of exactly its size, and after
//! the command the client is given a fresh one of the same size (Redis expects another). The
//! client cron gives back what is unused when more than 4 KB is: everything after two idle
//! seconds, else the excess over the recent peak once the buffer is over 32 KB and twice that
//! peak.
//!
//! **Reply buffer.** 16 KB at first, its peak the buffer's size. The client cron halves it
//! down to what the peak needs (at least 1 KB) when the peak is under half of it, doubles it up
//! to 16 KB when the peak filled it, and starts a new peak every `peak-reset-time` (5 s, DEBUG
//! REPLYBUFFER changes it; `never` keeps the peak); DEBUG REPLYBUFFER RESIZING 0 stops all of it.

use redis_playground::memory::size_class;

/// What one read asks room for (Redis's PROTO_IOBUF_LEN).
const IOBUF_LEN: usize = 16 * 1024;
/// A bulk argument this large gets a query buffer of its own (PROTO_MBULK_BIG_ARG).
pub const BIG_ARG: usize = 32 * 1024;
/// Past this size an unused query buffer may shrink while its client is busy.
const RESIZE_THRESHOLD: usize = 32 * 1024;
/// Free space below this is never given back.
const SHRINK_SLACK: usize = 4 * 1024;
/// Greedy growth doubles up to this size, then adds it.
const MAX_PREALLOC: usize = 1024 * 1024;
/// The reply buffer's first and largest size (PROTO_REPLY_CHUNK_BYTES).
const REPLY_CHUNK: usize = 16 * 1024;
/// The reply buffer's smallest size.
const REPLY_MIN: usize = 1024;

/// The usable bytes of an sds string allocated for `len` bytes (header and terminator
/// included in the allocation, as jemalloc rounds it).
fn sds_usable(len: usize) -> usize {
    let header = match len {
        0..256 => 3,
        256..65536 => 5,
        _ => 9,
    };
    size_class(len.saturating_add(header + 1)) - header - 1
}

/// One client's buffer sizes as redis-server would have them.
#[derive(Clone, Debug)]
pub struct BufSizes {
    /// The query buffer's usable bytes.
    pub query_alloc: usize,
    /// The most the query buffer held since the last cron.
    query_peak: usize,
    /// The reply buffer's usable bytes (`rbs`).
    pub reply_size: usize,
    /// The most the reply buffer held since the last peak reset (`rbp`).
    pub reply_peak: usize,
    /// When the reply peak was last reset (ms).
    peak_reset_at: i64,
    /// The reply bytes the buffer holds now (Redis's `bufpos`).
    reply_pos: usize,
    /// When the client last read or was written to (s).
    last_interaction: i64,
}

impl BufSizes {
    /// A client connected at `now_ms`.
    pub fn new(now_ms: i64) -> BufSizes {
        BufSizes {
            query_alloc: 0,
            query_peak: 0,
            reply_size: REPLY_CHUNK,
            reply_peak: REPLY_CHUNK,
            peak_reset_at: now_ms,
            reply_pos: 0,
            last_interaction: now_ms.div_euclid(1000),
        }
    }

    /// A read: the buffer held `before` bytes and holds `after` now; `bulk` is the size of a
    /// big bulk argument (and its CRLF) still arriving, if one is.
    pub fn on_read(&mut self, before: usize, after: usize, bulk: Option<usize>, now_ms: i64) {
        self.last_interaction = now_ms.div_euclid(1000);
        let avail = self.query_alloc.saturating_sub(before);
        match bulk {
            // Room for exactly the argument, without slack.
            Some(size) => self.on_big_bulk(size),
            None if avail >= IOBUF_LEN => {}
            None if self.query_alloc < IOBUF_LEN => {
                self.query_alloc = sds_usable(before + IOBUF_LEN);
            }
            None => {
                let want = before + IOBUF_LEN;
                let want = if want < MAX_PREALLOC {
                    want * 2
                } else {
                    want + MAX_PREALLOC
                };
                self.query_alloc = sds_usable(want);
            }
        }
        // What arrived beyond the room made is read by later calls into a grown buffer.
        if self.query_alloc < after {
            self.query_alloc = sds_usable(after);
        }
        self.query_peak = self.query_peak.max(after);
    }

    /// A command ran whose last big argument was `len` bytes: its buffer became the
    /// argument, and the client got a new one of that size.
    pub fn on_big_arg(&mut self, len: usize) {
        self.query_alloc = sds_usable(len + 2);
    }

    /// The output changed: `pending` bytes wait to be written now (the reply buffer holds
    /// what fits of them; none once all is written).
    pub fn on_output(&mut self, pending: usize) {
        self.reply_pos = pending.min(self.reply_size);
        self.reply_peak = self.reply_peak.max(self.reply_pos);
    }

    /// The header of a big bulk argument of `size` bytes (its CRLF included) arrived: the
    /// query buffer makes room for all of it.
    pub fn on_big_bulk(&mut self, size: usize) {
        if self.query_alloc < size {
            self.query_alloc = sds_usable(size);
        }
    }

    /// The client cron: `pending` bytes wait in the query buffer, `bulk` is a big argument
    /// still arriving; `peak_reset_ms` is the reply peak's reset time (negative: never).
    pub fn cron(
        &mut self,
        now_ms: i64,
        pending: usize,
        bulk: Option<usize>,
        peak_reset_ms: i64,
        resizing: bool,
    ) {
        let idle = now_ms.div_euclid(1000) - self.last_interaction;
        // Redis keeps a bulk's length without its CRLF.
        let bulk = bulk.map(|b| b.saturating_sub(2));
        if self.query_alloc.saturating_sub(pending) > SHRINK_SLACK {
            if idle > 2 {
                self.query_alloc = pending;
            } else if self.query_alloc > RESIZE_THRESHOLD && self.query_alloc / 2 > self.query_peak
            {
                self.query_alloc = pending.max(self.query_peak).max(bulk.unwrap_or(0));
            }
        }
        self.query_peak = pending.max(bulk.unwrap_or(0));

        if !resizing {
            return;
        }
        let shrink_to = self.reply_size / 2;
        let grow_to = self.reply_size * 2;
        let new_size = if shrink_to >= REPLY_MIN && self.reply_peak < shrink_to {
            Some(REPLY_MIN.max(self.reply_peak + 1))
        } else if grow_to < REPLY_CHUNK * 2 && self.reply_peak == self.reply_size {
            Some(REPLY_CHUNK.min(grow_to))
        } else {
            None
        };
        if peak_reset_ms >= 0 && now_ms - self.peak_reset_at >= peak_reset_ms {
            self.reply_peak = self.reply_pos;
            self.peak_reset_at = now_ms;
        }
        if let Some(size) = new_size {
            self.reply_size = size_class(size);
            self.reply_pos = self.reply_pos.min(self.reply_size);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use redis_playground::engine::client_mem::REPLY_PEAK_RESET_MS as PEAK_RESET_MS;

    #[test]
    fn query_buffer_as_redis_sizes_it() {
        let mut b = BufSizes::new(10_000);
        assert_eq!(b.query_alloc, 0);
        // CLIENT SETNAME: the first read makes room for 16 KB.
        b.on_read(0, 40, None, 10_000);
        assert_eq!(b.query_alloc, 20474);
        b.cron(10_100, 0, None, PEAK_RESET_MS, true);
        assert_eq!(b.query_alloc, 20474);
        // Idle for more than two seconds: all given back.
        b.cron(13_000, 0, None, PEAK_RESET_MS, true);
        assert_eq!(b.query_alloc, 0);
        // A 400,000-byte argument: a buffer of its size, then a fresh one as large.
        b.on_read(0, 16384, Some(400_002), 14_000);
        assert_eq!(b.query_alloc, 458742);
        b.on_read(16384, 400_002, Some(400_002), 14_000);
        assert_eq!(b.query_alloc, 458742);
        b.on_big_arg(400_000);
        assert_eq!(b.query_alloc, 458742);
        // Small commands: the cron trims to the recent peak, then a read makes 16 KB again.
        b.cron(14_100, 0, None, PEAK_RESET_MS, true);
        assert_eq!(b.query_alloc, 458742);
        b.on_read(0, 128, None, 14_150);
        b.cron(14_200, 0, None, PEAK_RESET_MS, true);
        assert_eq!(b.query_alloc, 128);
        b.on_read(0, 128, None, 14_250);
        assert_eq!(b.query_alloc, 20474);
    }

    #[test]
    fn a_big_argument_still_arriving_keeps_its_room() {
        let mut b = BufSizes::new(0);
        b.on_read(0, 44, None, 0);
        b.on_big_bulk(536_870_914);
        assert_eq!(b.query_alloc, 671_088_630);
        // Far above the recent peak, trimmed to the argument's length, not below it.
        b.cron(100, 3, Some(536_870_914), PEAK_RESET_MS, true);
        b.cron(200, 3, Some(536_870_914), PEAK_RESET_MS, true);
        assert_eq!(b.query_alloc, 536_870_912);
    }

    #[test]
    fn reply_buffer_shrinks_when_idle_and_grows_when_filled() {
        let mut b = BufSizes::new(0);
        assert_eq!((b.reply_size, b.reply_peak), (16384, 16384));
        b.on_output(5);
        b.on_output(0);
        b.cron(100, 0, None, 100, true);
        assert_eq!((b.reply_size, b.reply_peak), (16384, 0));
        b.cron(200, 0, None, 100, true);
        assert_eq!(b.reply_size, 1024);
        // A 32 KB reply fills the buffer each time: it doubles up to 16 KB, no further.
        let mut sizes = Vec::new();
        for i in 0..6 {
            b.on_output(32778);
            b.on_output(0);
            b.cron(300 + i * 100, 0, None, -1, true);
            sizes.push(b.reply_size);
        }
        assert_eq!(sizes, [2048, 4096, 8192, 16384, 16384, 16384]);
        // Resizing off: nothing changes, not even the peak.
        b.cron(10_000, 0, None, 100, false);
        assert_eq!((b.reply_size, b.reply_peak), (16384, 16384));
    }
}
