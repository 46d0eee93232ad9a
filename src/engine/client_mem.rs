//! What each client's connection costs in memory (CLIENT LIST `tot-mem`, INFO
//! `mem_clients_normal`) and client eviction (`maxmemory-clients`), as Redis 7.0 counts and
//! evicts them (its evictClients).
//!
//! **The figure.** A client costs a fixed part (its state, a reply buffer and an empty query
//! buffer, sized as Redis's are) plus what grows: the query buffer as the host reports it (a
//! bulk argument that is still arriving counts whole once its length is known, as Redis
//! allocates it then), the unsent output (the host's buffer), the arguments of the command
//! it runs, its MULTI queue and WATCHed keys, its subscriptions and its tracking prefixes.
//! Every part is kept as a count, so a client's figure costs a few additions: it is
//! recomputed after each of its commands and whenever the host reports new buffer sizes,
//! and the sum over all clients is kept as it changes (no walk over the clients).
//!
//! **Eviction.** When the sum over ordinary clients (pub/sub ones included, replicas and the
//! primary's link not) reaches the limit, the clients that may be evicted go, largest first:
//! Redis files clients in buckets by the power of two of their figure and empties the
//! highest bucket first, in the order clients entered it; the engine keeps the same order
//! (a bucket and the moment the client entered it) and sorts only when it must evict.
//! `CLIENT NO-EVICT on` exempts a client. The host closes the evicted clients' connections.

use super::clients::{Client, LinkRole};
use super::{ClientId, Engine};

/// A client's state in Redis (the part every connection costs).
const CLIENT_STRUCT: usize = 768;

/// The smallest reply buffer (CLIENT LIST `rbs`).
pub(crate) const REPLY_BUF: usize = 1024;

/// An empty query buffer's usable size; its allocation is 6 bytes more (CLIENT LIST shows
/// `qbuf` + `qbuf-free` = this).
pub(crate) const QUERY_BUF: usize = 20474;
const QUERY_BUF_ALLOC: usize = QUERY_BUF + 6;

/// A WATCHed key's bookkeeping (a list node and the key's record).
const PER_WATCHED_KEY: usize = 56;

/// A queued MULTI command's record.
const PER_QUEUED: usize = 32;

/// A subscribed channel's dictionary entry (plus its slot, counted apart).
const PER_CHANNEL: usize = 24;

/// A pattern's list node.
const PER_PATTERN: usize = 24;

/// A radix-tree node of the tracking prefixes; a prefix takes about two.
const PER_PREFIX_NODE: usize = 32;

/// A pointer to an argument.
const PER_ARG: usize = 8;

/// Redis never lets `maxmemory-clients` go below this, so a bad setting cannot cut every
/// client off.
const MIN_LIMIT: u64 = 128 * 1024;

/// Buckets: clients up to 32 KB share the lowest, then one per power of two up to 4 GB.
const BUCKET_MIN_LOG: u32 = 15;
const BUCKET_MAX_LOG: u32 = 33;

/// One client's buffers as its host reports them, and what the engine counted for it.
#[derive(Clone, Debug, Default)]
pub struct ClientMem {
    /// Bytes waiting in the query buffer (CLIENT LIST `qbuf`).
    pub qbuf: usize,
    /// What the query buffer holds in memory (a big bulk argument counts whole).
    pub qbuf_mem: usize,
    /// Output not yet written (`omem` and `obl`).
    pub obuf: usize,
    /// What the output buffer holds in memory.
    pub obuf_mem: usize,
    /// Bytes of the commands queued since MULTI (their arguments).
    pub multi_bytes: usize,
    /// The sizes the host gives its buffers as redis-server would (CLIENT LIST `qbuf-free`,
    /// `rbs`, `rbp`); None where it reports none (the page), which shows the usual sizes.
    pub sizes: Option<BufferSizes>,
    /// The figure in [`ClientMemory::total`] for this client.
    counted: usize,
    /// The part of `counted` that is not the host's buffers (see [`fixed_part`]), as the
    /// last full recount found it; None before the first.
    fixed: Option<usize>,
    /// Whether it is in the total (ordinary and pub/sub clients).
    in_total: bool,
    /// Its bucket, and when it entered it.
    bucket: u32,
    entered: u64,
}

impl ClientMem {
    /// The client's subscriptions or other state changed outside its own command (a shard
    /// channel's slot went away): the next report of its buffers recounts everything.
    pub(crate) fn state_changed(&mut self) {
        self.fixed = None;
    }
}

/// A client's buffers as redis-server would size them: the query buffer's usable bytes, the
/// reply buffer's size and its recent peak.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BufferSizes {
    pub query: usize,
    pub reply: usize,
    pub reply_peak: usize,
}

/// DEBUG REPLYBUFFER's settings for the host's reply buffers (redis-server's client cron).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReplyBufferSettings {
    /// Milliseconds between resets of a reply buffer's peak; negative: never.
    pub peak_reset_ms: i64,
    /// Whether reply buffers are resized at all.
    pub resizing: bool,
}

impl Default for ReplyBufferSettings {
    fn default() -> Self {
        ReplyBufferSettings {
            peak_reset_ms: REPLY_PEAK_RESET_MS,
            resizing: true,
        }
    }
}

/// The default time between reply buffer peak resets.
pub const REPLY_PEAK_RESET_MS: i64 = 5000;

/// The sum over clients, and what eviction needs.
#[derive(Clone, Debug, Default)]
pub struct ClientMemory {
    /// Memory of ordinary and pub/sub clients.
    pub total: u64,
    /// Bucket entries made so far (orders clients within a bucket).
    seq: u64,
}

/// A client evicted: its id and its CLIENT LIST line at that moment, for the host's log.
pub type Evicted = (ClientId, String);

/// The bucket of a client using `mem` bytes.
fn bucket_of(mem: usize) -> u32 {
    let bits = usize::BITS - mem.leading_zeros();
    bits.clamp(BUCKET_MIN_LOG, BUCKET_MAX_LOG) - BUCKET_MIN_LOG
}

/// The size of a request as the query buffer holds it (a RESP array of bulk strings).
pub(crate) fn request_size(argv: &[Vec<u8>]) -> usize {
    let header = |n: usize| n.to_string().len() + 3;
    header(argv.len())
        + argv
            .iter()
            .map(|x| header(x.len()) + x.len() + 2)
            .sum::<usize>()
}

/// The allocation behind an sds string with `usable` bytes of room (its header and
/// terminator included, as jemalloc rounds it).
fn sds_allocation(usable: usize) -> usize {
    let header = match usable {
        0..256 => 3,
        256..65536 => 5,
        _ => 9,
    };
    crate::memory::size_class(usable.saturating_add(header + 1))
}

/// The memory a client uses. `running` is the command it runs now, counted as Redis counts
/// it (its arguments, and the request still in the query buffer).
pub(crate) fn client_memory(c: &Client, running: Option<&[Vec<u8>]>) -> usize {
    let (qbuf_mem, argv_mem) = match running {
        Some(argv) => (
            request_size(argv).max(c.mem.qbuf_mem),
            argv.iter().map(|a| a.len() + PER_ARG).sum(),
        ),
        None => (c.mem.qbuf_mem, 0),
    };
    fixed_part(c) + buffer_part(c, qbuf_mem) + argv_mem
}

/// What a client's buffers cost: the output and the query buffer (holding `qbuf_mem`).
fn buffer_part(c: &Client, qbuf_mem: usize) -> usize {
    // The host's sizes when it reports them (an idle client's buffers shrink), else those
    // of a client that has been idle a while.
    let (reply_buf, query_buf) = c.mem.sizes.map_or((REPLY_BUF, QUERY_BUF_ALLOC), |s| {
        (s.reply, sds_allocation(s.query))
    });
    c.mem.obuf_mem.max(reply_buf) + qbuf_mem.max(query_buf)
}

/// What a client costs apart from its buffers: its state, MULTI queue, WATCHed keys,
/// subscriptions and tracking prefixes. Only its own commands change these (and its
/// departure), so the host's frequent buffer reports reuse the figure its last command left.
fn fixed_part(c: &Client) -> usize {
    let multi = c
        .multi
        .as_ref()
        .map_or(0, |q| c.mem.multi_bytes + q.len() * PER_QUEUED);
    let channels = |n: usize| {
        if n == 0 {
            0
        } else {
            n * PER_CHANNEL + n.next_power_of_two() * 8
        }
    };
    let prefixes = c
        .tracking
        .as_ref()
        .map_or(0, |t| t.prefixes.len() * 2 * PER_PREFIX_NODE);
    CLIENT_STRUCT
        + multi
        + c.watching.len() * PER_WATCHED_KEY
        + channels(c.subs.len())
        + channels(c.ssubs.len())
        + c.psubs.len() * PER_PATTERN
        + prefixes
}

/// Whether a client counts in the total: ordinary and pub/sub clients, not replication links.
fn counts(c: &Client) -> bool {
    c.link == LinkRole::None
}

/// Whether a client may be evicted.
fn evictable(c: &Client) -> bool {
    counts(c) && !c.no_evict
}

impl Engine {
    /// Records a client's buffers as the host holds them: the query buffer (`qbuf` bytes
    /// shown, `qbuf_mem` held), the output (`obuf` unsent, `obuf_mem` held) and the sizes
    /// redis-server would give them ([`Engine::set_client_buffer_sizes`]), with one look-up
    /// of the client and one recount (the host reports them after every command).
    pub fn set_client_buffers_sized(
        &mut self,
        id: ClientId,
        qbuf: usize,
        qbuf_mem: usize,
        obuf: usize,
        obuf_mem: usize,
        sizes: BufferSizes,
    ) {
        if let Some(c) = self.clients.get_mut(&id) {
            c.mem.qbuf = qbuf;
            c.mem.qbuf_mem = qbuf_mem;
            c.mem.obuf = obuf;
            c.mem.obuf_mem = obuf_mem;
            c.mem.sizes = Some(sizes);
            match c.mem.fixed {
                Some(fixed) => {
                    let mem = fixed + buffer_part(c, qbuf_mem);
                    count_memory_of(c, mem, &mut self.client_mem);
                }
                None => refresh_memory_of(c, &mut self.client_mem),
            }
        }
    }

    /// Records the sizes the host gives a client's buffers as redis-server would (CLIENT LIST
    /// `qbuf-free`, `rbs`, `rbp`).
    pub fn set_client_buffer_sizes(
        &mut self,
        id: ClientId,
        query: usize,
        reply: usize,
        reply_peak: usize,
    ) {
        if let Some(c) = self.clients.get_mut(&id) {
            let sizes = Some(BufferSizes {
                query,
                reply,
                reply_peak,
            });
            if c.mem.sizes == sizes {
                return;
            }
            c.mem.sizes = sizes;
        }
        self.refresh_client_mem(id);
    }

    /// Recomputes a client's figure and the total (a few additions).
    pub(crate) fn refresh_client_mem(&mut self, id: ClientId) {
        let Some(c) = self.clients.get_mut(&id) else {
            return;
        };
        refresh_memory_of(c, &mut self.client_mem);
    }

    /// Takes a departing client out of the total.
    pub(crate) fn forget_client_mem(&mut self, c: &Client) {
        if c.mem.in_total {
            self.client_mem.total = self.client_mem.total.saturating_sub(c.mem.counted as u64);
        }
    }

    /// The limit in bytes `maxmemory-clients` sets now (a percentage is of `maxmemory`);
    /// 0 for none.
    pub fn client_eviction_limit(&self) -> u64 {
        let text = self.config.get_named("maxmemory-clients");
        let limit = match text.strip_suffix('%') {
            Some(pct) => {
                let pct: u64 = pct.parse().unwrap_or(0);
                if pct == 0 || self.config.maxmemory == 0 {
                    return 0;
                }
                (self.config.maxmemory as f64 * pct as f64 / 100.0) as u64
            }
            None => text.parse().unwrap_or(0),
        };
        if limit == 0 {
            0
        } else {
            limit.max(MIN_LIMIT)
        }
    }

    /// Redis's evictClients: while the clients' total is at or over `maxmemory-clients`,
    /// the largest evictable client is disconnected (counted in INFO `evicted_clients`).
    /// Returns the clients evicted, for the host to close their connections and log them;
    /// `limit` is [`Engine::client_eviction_limit`], which the host keeps.
    pub fn evict_clients(&mut self, limit: u64, now: i64) -> Vec<Evicted> {
        if limit == 0 || self.client_mem.total < limit {
            return Vec::new();
        }
        let mut order: Vec<(u32, u64, ClientId)> = self
            .clients
            .values()
            .filter(|c| evictable(c))
            .map(|c| (c.mem.bucket, c.mem.entered, c.id))
            .collect();
        // Highest bucket first; within one, the client that entered it first.
        order.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        let mut evicted = Vec::new();
        for (_, _, id) in order {
            if self.client_mem.total < limit {
                break;
            }
            let Some(c) = self.clients.get(&id) else {
                continue;
            };
            let line = crate::commands::connection::client_line(c, false, now, None);
            self.close_client(id);
            self.stats.evicted_clients += 1;
            evicted.push((id, line.trim_end().to_string()));
        }
        evicted
    }

    /// DEBUG CLIENT-EVICTION: per bucket, the clients in it and their memory.
    pub(crate) fn client_eviction_buckets(&self) -> String {
        let n = (BUCKET_MAX_LOG - BUCKET_MIN_LOG + 1) as usize;
        let mut sums = vec![(0usize, 0usize); n];
        for c in self.clients.values().filter(|c| evictable(c)) {
            let slot = &mut sums[c.mem.bucket as usize];
            slot.0 += c.mem.counted;
            slot.1 += 1;
        }
        let mut out = String::new();
        for (j, (mem, clients)) in sums.iter().enumerate() {
            if j == 0 {
                out.push_str("bucket          0");
            } else {
                out.push_str(&format!(
                    "bucket {:>10}",
                    1usize << (j as u32 - 1 + BUCKET_MIN_LOG)
                ));
            }
            if j == n - 1 {
                out.push_str("+            : ");
            } else {
                out.push_str(&format!(
                    " - {:>10}: ",
                    (1usize << (j as u32 + BUCKET_MIN_LOG)) - 1
                ));
            }
            out.push_str(&format!("tot-mem: {mem:>10}, clients: {clients}\n"));
        }
        out
    }
}

/// [`Engine::refresh_client_mem`] for a client already at hand (the engine looks it up once
/// after a command for this and the rest).
pub(crate) fn refresh_memory_of(c: &mut Client, totals: &mut ClientMemory) {
    let fixed = fixed_part(c);
    c.mem.fixed = Some(fixed);
    let mem = fixed + buffer_part(c, c.mem.qbuf_mem);
    count_memory_of(c, mem, totals);
}

/// Records `mem` as a client's figure: the total, its bucket.
fn count_memory_of(c: &mut Client, mem: usize, totals: &mut ClientMemory) {
    // The usual case after a command: the same figure, counted the same way, in the same
    // bucket it entered already.
    if mem == c.mem.counted && c.mem.entered != 0 && c.mem.in_total == counts(c) {
        return;
    }
    if c.mem.in_total {
        totals.total = totals.total.saturating_sub(c.mem.counted as u64);
    }
    c.mem.in_total = counts(c);
    c.mem.counted = mem;
    if c.mem.in_total {
        totals.total += mem as u64;
    }
    let bucket = bucket_of(mem);
    if bucket != c.mem.bucket || c.mem.entered == 0 {
        totals.seq += 1;
        c.mem.bucket = bucket;
        c.mem.entered = totals.seq;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_by_power_of_two() {
        assert_eq!(bucket_of(0), 0);
        assert_eq!(bucket_of(32767), 0);
        assert_eq!(bucket_of(32768), 1);
        assert_eq!(bucket_of(65535), 1);
        assert_eq!(bucket_of(65536), 2);
        assert_eq!(bucket_of(usize::MAX), BUCKET_MAX_LOG - BUCKET_MIN_LOG);
    }

    #[test]
    fn request_size_counts_resp_framing() {
        // *2\r\n$6\r\nclient\r\n$4\r\nlist\r\n
        assert_eq!(request_size(&[b"client".to_vec(), b"list".to_vec()]), 26);
    }
}
