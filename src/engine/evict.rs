//! Memory accounting and `maxmemory`: what INFO's used_memory reports, and the eviction Redis
//! runs before a command when that figure is over the limit (evict.c).
//!
//! **The figure.** A host that counts its allocations installs a counter
//! ([`Engine::set_memory_counter`]): the native server and the wasm module wrap the global
//! allocator with one (the `cap` crate), so used_memory is the bytes the process actually holds
//! — every key and value, client buffers, scripts, the engine's own tables — as Redis reports
//! its allocator's figure. Without a counter (tests, an embedder that does not count) the engine
//! estimates: a fixed start-up base, each key's bytes plus its value's approximate size and a
//! per-entry overhead, and a buffer per client. Both are deterministic where tests need them:
//! a test installs a counter it controls, or uses the estimate.
//!
//! **Eviction.** Before a command (see `call.rs`), when `maxmemory` is set and used memory is
//! over it, keys are removed by the policy until the excess is freed: random picks over the
//! databases in turn for the `*-random` policies, and for the LRU, LFU and TTL ones Redis's
//! approximation — `maxmemory-samples` keys sampled from each database feed a pool of the 16
//! best candidates seen so far, and the best one still present goes. When nothing can be
//! evicted the command is refused with OOM if it may grow memory. Random draws come from the
//! engine's seeded generator, idle times from the host's clock.

use super::{ClientId, Engine};
use crate::commands::{Command, DENYOOM};
use crate::db::lfu_decay;
use crate::error::CmdError;
use crate::rng::Rng;

/// Reads the host's count of allocated bytes.
pub type MemoryCounter = fn() -> u64;

/// Candidates the eviction pool keeps (Redis's EVPOOL_SIZE).
const POOL_SIZE: usize = 16;

/// What the estimate counts for an empty server (INFO used_memory_startup).
const ESTIMATED_STARTUP: u64 = 850 * 1024;

/// What the estimate counts per key beyond its bytes and its value's.
const ESTIMATED_PER_KEY: u64 = 56;

/// What the engine counts per connected client for its buffers (mem_clients_normal).
const PER_CLIENT: u64 = 20 * 1024;

/// One eviction candidate: a score where higher means a better candidate (idle time,
/// inverted frequency or inverted expiry time), and where it lives.
#[derive(Clone, Debug)]
struct Candidate {
    score: u64,
    db: usize,
    key: Vec<u8>,
}

/// Memory accounting and eviction state.
pub struct Memory {
    counter: Option<MemoryCounter>,
    /// The counter's reading when it was installed (used_memory_startup).
    startup: u64,
    /// Keys removed by eviction since start (INFO stats evicted_keys).
    pub evicted_keys: u64,
    /// Set by CONFIG SET maxmemory: evict at the next tick even if no command comes.
    pub evict_soon: bool,
    /// Whether memory could not be brought under maxmemory before the running command
    /// (Redis's pre_command_oom_state): a script's first write is refused then.
    pub pre_command_oom: bool,
    /// Candidates ordered by ascending score; empty slots are None (at the end, or where a
    /// candidate was taken).
    pool: [Option<Candidate>; POOL_SIZE],
    /// The database the random policies looked at last.
    next_db: usize,
    /// Bytes not counted against maxmemory (INFO mem_not_counted_for_evict): Redis leaves out
    /// its replication and AOF buffers; eviction here keeps no buffer of its own, so 0.
    pub not_counted: u64,
    /// Draws for eviction sampling and the LFU counter's growth, apart from the generator
    /// commands use, so that replies of random commands do not depend on key accesses.
    pub rng: Rng,
}

impl Memory {
    /// Accounting without a counter, drawing from a generator seeded with `seed`.
    pub fn new(seed: u64) -> Memory {
        Memory {
            counter: None,
            startup: ESTIMATED_STARTUP,
            evicted_keys: 0,
            pre_command_oom: false,
            evict_soon: false,
            pool: Default::default(),
            next_db: 0,
            not_counted: 0,
            rng: Rng::new(seed ^ 0x00e7_1c7e),
        }
    }
}

/// The eviction policies (`maxmemory-policy`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Policy {
    NoEviction,
    Lru { all: bool },
    Lfu { all: bool },
    Random { all: bool },
    Ttl,
}

impl Policy {
    fn parse(name: &str) -> Policy {
        match name {
            "allkeys-lru" => Policy::Lru { all: true },
            "volatile-lru" => Policy::Lru { all: false },
            "allkeys-lfu" => Policy::Lfu { all: true },
            "volatile-lfu" => Policy::Lfu { all: false },
            "allkeys-random" => Policy::Random { all: true },
            "volatile-random" => Policy::Random { all: false },
            "volatile-ttl" => Policy::Ttl,
            _ => Policy::NoEviction,
        }
    }

    /// Whether the policy picks among every key, not only those with an expiry.
    fn all_keys(self) -> bool {
        matches!(
            self,
            Policy::Lru { all: true } | Policy::Lfu { all: true } | Policy::Random { all: true }
        )
    }
}

impl Engine {
    /// Installs the host's count of allocated bytes: INFO used_memory, MEMORY STATS and
    /// maxmemory read it from now on, and its current reading becomes used_memory_startup.
    /// `None` goes back to the estimate.
    pub fn set_memory_counter(&mut self, counter: Option<MemoryCounter>) {
        self.memory.counter = counter;
        self.memory.startup = counter.map_or(ESTIMATED_STARTUP, |f| f());
    }

    /// The host's count of allocated bytes, when it installed one.
    pub fn memory_counter(&self) -> Option<MemoryCounter> {
        self.memory.counter
    }

    /// Bytes the server uses (INFO used_memory): the host's count when it gave one, else the
    /// engine's estimate (see the module's documentation).
    ///
    /// The count leaves out the keyspaces' spare slots ([`crate::db::Db::spare_bytes`]):
    /// allocated ahead of need and holding no key, they are to the engine what free space in
    /// its arenas is to Redis's allocator, which Redis does not count either. So a removed key
    /// lowers used_memory by its slot at once, and eviction frees what it measures; growth
    /// of the vector does not jump the figure ahead of the keys (pages not yet written are not
    /// resident either).
    pub fn used_memory(&self) -> u64 {
        match self.memory.counter {
            Some(f) => {
                let spare: u64 = self.dbs.iter().map(crate::db::Db::spare_bytes).sum();
                f().saturating_sub(spare)
            }
            None => self.estimated_used_memory(),
        }
    }

    /// The estimate used without a host counter.
    fn estimated_used_memory(&self) -> u64 {
        let data: u64 = self
            .dbs
            .iter()
            .flat_map(crate::db::Db::iter)
            .map(|(k, e)| estimated_entry(k, &e.value))
            .sum();
        ESTIMATED_STARTUP + data + self.used_memory_clients()
    }

    /// The part of [`Engine::used_memory`] an empty server uses (INFO used_memory_startup).
    pub fn used_memory_startup(&self) -> u64 {
        self.memory.startup
    }

    /// The part of [`Engine::used_memory`] attributed to client buffers (mem_clients_normal).
    pub fn used_memory_clients(&self) -> u64 {
        PER_CLIENT * self.clients.len() as u64
    }

    /// Reads used memory and raises the peak INFO reports; returns the reading.
    pub fn measure_memory(&mut self) -> u64 {
        let used = self.used_memory();
        self.stats.peak_memory = self.stats.peak_memory.max(used);
        used
    }

    /// Raises the peak after a command, as Redis's call() does, when the host counts its
    /// allocations (the estimate would cost a walk over every key per command).
    pub(crate) fn note_peak_memory(&mut self) {
        let Some(count) = self.memory.counter else {
            return;
        };
        // used_memory is the count less the databases' spare slots: at most the count, so
        // while the count is under the peak the spare slots need not be added up (a walk
        // over every database, per command).
        let allocated = count();
        if allocated > self.stats.peak_memory {
            let spare: u64 = self.dbs.iter().map(crate::db::Db::spare_bytes).sum();
            self.stats.peak_memory = self.stats.peak_memory.max(allocated.saturating_sub(spare));
        }
    }

    /// Whether eviction may run now (Redis's isSafeToPerformEvictions): not while a script
    /// runs past its time limit and serves other clients, nor while clients are paused (the
    /// dataset stays as it is then).
    fn evictions_allowed(&self) -> bool {
        self.scripts.busy().is_none() && self.scripts.running.is_none() && self.pause.is_none()
    }

    /// Redis's performEvictions: when `maxmemory` is set and used memory is over it, removes
    /// keys as the policy picks them until the excess is freed. Returns false when the excess
    /// could not be freed (the caller refuses commands that may grow memory), true otherwise.
    pub(crate) fn perform_evictions(&mut self, now: i64) -> bool {
        let max = self.config.maxmemory;
        if max == 0 || !self.evictions_allowed() {
            return true;
        }
        let used = self.measure_memory();
        if used <= max {
            return true;
        }
        let policy = Policy::parse(&self.config.maxmemory_policy);
        if policy == Policy::NoEviction {
            return false;
        }
        let to_free = used - max;
        let mut freed = 0u64;
        // Every pass evicts one key or gives up, and keys are finite.
        while freed < to_free {
            let Some((db, key)) = self.pick_victim(policy, now) else {
                return false;
            };
            freed = freed.saturating_add(self.evict_key(db, &key));
        }
        true
    }

    /// Removes one key for eviction, as Redis does: counted in evicted_keys, signalled as
    /// modified (WATCH, tracking, blocked clients), published as an `evicted` event and
    /// propagated as a deletion. Returns the bytes that freed.
    fn evict_key(&mut self, db: usize, key: &[u8]) -> u64 {
        let before = self.memory.counter.map(|_| self.used_memory());
        let Some(entry) = self.dbs[db].remove_entry(key) else {
            return 0;
        };
        let estimate = estimated_entry(key, &entry.value);
        if self.config.lazyfree_lazy_eviction {
            self.lazy_freed(&entry.value);
        }
        drop(entry);
        let freed = match (before, self.memory.counter) {
            (Some(b), Some(_)) => b.saturating_sub(self.used_memory()),
            _ => estimate,
        };
        self.memory.evicted_keys += 1;
        self.dirty += 1;
        // No client caused it: invalidations and events reach every client now, the one whose
        // command comes next included, ahead of that command's reply (as Redis flushes them
        // before running the command).
        let current = self.current.take();
        self.signal_modified(db, key);
        self.notify(db, 'e', "evicted", key);
        self.current = current;
        if self.propagation.recording() {
            let verb: &[u8] = if self.config.lazyfree_lazy_eviction {
                b"UNLINK"
            } else {
                b"DEL"
            };
            self.also_propagate(db, vec![verb.to_vec(), key.to_vec()]);
            if self.propagation.depth == 0 {
                // Each eviction is a unit of its own, never part of a transaction.
                self.flush_propagation(false);
            }
        }
        freed
    }

    /// The key the policy evicts next, if any.
    fn pick_victim(&mut self, policy: Policy, now: i64) -> Option<(usize, Vec<u8>)> {
        match policy {
            Policy::NoEviction => None,
            Policy::Random { all } => self.random_victim(all),
            _ => self.pooled_victim(policy, now),
        }
    }

    /// A random key of the next database (in turn) that has candidates.
    fn random_victim(&mut self, all: bool) -> Option<(usize, Vec<u8>)> {
        let n = self.dbs.len();
        for _ in 0..n {
            self.memory.next_db = (self.memory.next_db + 1) % n;
            let db = self.memory.next_db;
            if candidates(&self.dbs[db], all) == 0 {
                continue;
            }
            if let Some(key) = self.draw_keys(db, all, 1).pop() {
                return Some((db, key));
            }
        }
        None
    }

    /// The best candidate of the pool after sampling every database (LRU, LFU, TTL).
    fn pooled_victim(&mut self, policy: Policy, now: i64) -> Option<(usize, Vec<u8>)> {
        let all = policy.all_keys();
        loop {
            let mut total = 0;
            for db in 0..self.dbs.len() {
                let count = candidates(&self.dbs[db], all);
                if count == 0 {
                    continue;
                }
                total += count;
                self.populate_pool(policy, db, count, now);
            }
            if total == 0 {
                return None;
            }
            // The best candidates are at the end; one that left meanwhile is dropped.
            for slot in (0..POOL_SIZE).rev() {
                let Some(c) = self.memory.pool[slot].take() else {
                    continue;
                };
                let present = self.dbs[c.db]
                    .peek(&c.key)
                    .is_some_and(|e| all || e.is_volatile());
                if present {
                    return Some((c.db, c.key));
                }
            }
            // Every pooled candidate was a ghost: sample again.
        }
    }

    /// Samples up to `maxmemory-samples` candidates of `db` (which has `count` of them) from
    /// a random point, and inserts them in the pool by score as Redis's
    /// evictionPoolPopulate does.
    fn populate_pool(&mut self, policy: Policy, db: usize, count: usize, now: i64) {
        let samples = self
            .config
            .get_named("maxmemory-samples")
            .parse::<usize>()
            .unwrap_or(5)
            .clamp(1, MAX_SAMPLES)
            .min(count);
        let all = policy.all_keys();
        let decay_time = self.config.lfu_decay_time;
        for key in self.draw_keys(db, all, samples) {
            let Some(e) = self.dbs[db].peek(&key) else {
                continue;
            };
            let score = match policy {
                Policy::Lru { .. } => {
                    // Redis's access clock ticks in seconds; idle time is reported in ms.
                    ((now / 1000).saturating_sub(e.touched_at() / 1000).max(0) as u64) * 1000
                }
                Policy::Lfu { .. } => {
                    255 - u64::from(lfu_decay(e.lfu, e.touched_at(), now, decay_time))
                }
                Policy::Ttl => u64::MAX - self.dbs[db].expire_at(&key).unwrap_or(0).max(0) as u64,
                _ => 0,
            };
            pool_insert(&mut self.memory.pool, Candidate { score, db, key });
        }
    }

    /// Up to `n` distinct random keys of `db` that the policy may evict (any key, or only
    /// volatile ones), as Redis's dictGetSomeKeys feeds its pool. Each draw is one step (the
    /// keyspace's slots are dense, its expiry table kept dense enough), so sampling costs the
    /// same in a keyspace of ten keys or of ten million.
    fn draw_keys(&mut self, db: usize, all: bool, n: usize) -> Vec<Vec<u8>> {
        let d = &self.dbs[db];
        let want = n.min(candidates(d, all));
        let mut out: Vec<Vec<u8>> = Vec::with_capacity(want);
        // Repeats are skipped; a few spare draws make up for them, and bound the work.
        for _ in 0..want.saturating_mul(4) {
            if out.len() >= want {
                break;
            }
            let key = if all {
                let pick = self.memory.rng.below(d.len() as u64) as usize;
                d.nth_key(pick)
            } else {
                d.volatile_key(self.memory.rng.next_u64())
            };
            if let Some(k) = key {
                if !out.iter().any(|o| o.as_slice() == k) {
                    out.push(k.to_vec());
                }
            }
        }
        out
    }

    /// Whether a command line may grow memory, and so is refused when memory is over
    /// maxmemory: by the command's `denyoom` flag, or for a script that declared flags, unless
    /// it declared `allow-oom` or `no-writes`.
    pub(crate) fn denies_oom(&self, cmd: &Command, argv: &[Vec<u8>]) -> bool {
        match self.scripts.declared_flags(cmd.full_name, argv) {
            Some(flags) => !(flags.allow_oom || flags.no_writes),
            None => cmd.spec.has(DENYOOM),
        }
    }

    /// The maxmemory step of Redis's processCommand for a command `client` sent: evict what
    /// the policy allows, then refuse the command when memory is still over the limit and
    /// the command may grow it (EXEC when a queued command may; inside MULTI, anything but
    /// EXEC, DISCARD, QUIT and RESET, since queueing itself takes memory).
    pub(crate) fn check_maxmemory(
        &mut self,
        client: ClientId,
        cmd: &Command,
        argv: &[Vec<u8>],
        in_multi: bool,
        now: i64,
    ) -> Result<(), CmdError> {
        if self.config.maxmemory == 0 || self.scripts.busy().is_some() {
            return Ok(());
        }
        let out_of_memory = !self.perform_evictions(now);
        self.memory.pre_command_oom = out_of_memory;
        if !out_of_memory {
            return Ok(());
        }
        let mut refuse = self.denies_oom(cmd, argv);
        if cmd.full_name == "exec" {
            refuse |= self
                .clients
                .get(&client)
                .and_then(|c| c.multi.as_ref())
                .is_some_and(|q| q.iter().any(|(c, a)| self.denies_oom(c, a)));
        } else if in_multi && !matches!(cmd.full_name, "discard" | "quit" | "reset") {
            refuse = true;
        }
        if refuse {
            Err(crate::error::OOM)
        } else {
            Ok(())
        }
    }

    /// Whether a script's command is refused for memory (Redis's scriptVerifyOOM): memory
    /// was over maxmemory when the script started, the script has not written yet (it cannot
    /// stop half way after that), it did not declare `allow-oom`, and the command may grow
    /// memory.
    pub(crate) fn script_oom(&self, cmd: &Command) -> bool {
        self.config.maxmemory != 0
            && self.memory.pre_command_oom
            && cmd.spec.has(DENYOOM)
            && self
                .scripts
                .running
                .as_ref()
                .is_some_and(|r| !r.wrote && !r.allow_oom)
    }
}

/// Inserts a candidate in the pool kept in ascending score order: a candidate worse than every
/// pooled one is ignored when the pool is full; otherwise it takes its place in order, moving
/// the better ones right when there is room there, else dropping the worst one on the left.
fn pool_insert(pool: &mut [Option<Candidate>; POOL_SIZE], c: Candidate) {
    let mut k = 0;
    while k < POOL_SIZE && pool[k].as_ref().is_some_and(|p| p.score < c.score) {
        k += 1;
    }
    if k == 0 && pool[POOL_SIZE - 1].is_some() {
        return;
    }
    if k < POOL_SIZE && pool[k].is_none() {
        pool[k] = Some(c);
        return;
    }
    if pool[POOL_SIZE - 1].is_none() {
        // Room on the right: shift k.. one step right.
        pool[k..].rotate_right(1);
        pool[k] = Some(c);
    } else {
        // Full: drop the worst candidate (leftmost) and insert just before k.
        let k = k - 1;
        pool[..=k].rotate_left(1);
        pool[k] = Some(c);
    }
}

/// The most keys sampled per database for the pool (maxmemory-samples is bounded by this).
const MAX_SAMPLES: usize = 1024;

/// How many keys of `db` a policy may evict: all of them, or those with an expiry.
fn candidates(db: &crate::db::Db, all: bool) -> usize {
    if all {
        db.len()
    } else {
        db.volatile_len()
    }
}

/// The estimate's bytes for one key and its value.
fn estimated_entry(key: &[u8], value: &crate::types::Value) -> u64 {
    key.len() as u64 + value.approx_bytes() as u64 + ESTIMATED_PER_KEY
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::Reply;

    fn cand(score: u64) -> Candidate {
        Candidate {
            score,
            db: 0,
            key: score.to_string().into_bytes(),
        }
    }

    fn scores(pool: &[Option<Candidate>; POOL_SIZE]) -> Vec<u64> {
        pool.iter().flatten().map(|c| c.score).collect()
    }

    #[test]
    fn evictions_reach_the_replication_stream() {
        use crate::testkit::{engine, run_at};
        let (mut eng, c) = engine();
        eng.record_for_replicas();
        eng.repl.backlog = Some(crate::types::backlog::Backlog::new(1 << 20, 0));
        for i in 0..3 {
            run_at(&mut eng, c, 0, &format!("SET asdf{i} {i}"));
        }
        run_at(&mut eng, c, 0, "CONFIG SET maxmemory-policy allkeys-lru");
        run_at(&mut eng, c, 0, "CONFIG SET maxmemory 1");
        eng.tick(0);
        assert_eq!(eng.dbs[0].len(), 0);
        let stream = eng
            .repl
            .backlog
            .as_ref()
            .and_then(|b| b.since(1))
            .unwrap_or_default();
        let text = String::from_utf8_lossy(&stream);
        assert_eq!(text.matches("$3\r\nDEL\r\n").count(), 3, "{text}");
    }

    #[test]
    fn allkeys_lru_evicts_the_idle_keys_first() {
        use crate::testkit::{engine, run_at};
        let (mut eng, c) = engine();
        let value = "v".repeat(100);
        for i in 0..100 {
            run_at(&mut eng, c, 0, &format!("SET k{i} {value}"));
        }
        // Half the keys are read 100 seconds later; the other half stay idle.
        for i in 50..100 {
            run_at(&mut eng, c, 100_000, &format!("GET k{i}"));
        }
        let per_key = estimated_entry(b"k10", &eng.dbs[0].peek(b"k10").unwrap().value);
        let limit = eng.used_memory() - 30 * per_key;
        run_at(
            &mut eng,
            c,
            100_000,
            "CONFIG SET maxmemory-policy allkeys-lru",
        );
        run_at(
            &mut eng,
            c,
            100_000,
            &format!("CONFIG SET maxmemory {limit}"),
        );
        run_at(&mut eng, c, 100_000, "PING");
        // Keys k0..k9 are a byte shorter than the one measured: one more goes.
        let evicted = eng.memory.evicted_keys;
        assert!((30..=31).contains(&evicted), "{evicted}");
        assert_eq!(eng.dbs[0].len() as u64, 100 - evicted);
        for i in 50..100 {
            assert!(
                eng.dbs[0].peek(format!("k{i}").as_bytes()).is_some(),
                "k{i}"
            );
        }
    }

    static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

    fn counter() -> u64 {
        COUNTER.load(std::sync::atomic::Ordering::Relaxed)
    }

    #[test]
    fn an_installed_counter_is_the_figure_and_noeviction_refuses() {
        use crate::testkit::{engine, run};
        use std::sync::atomic::Ordering::Relaxed;
        let (mut eng, c) = engine();
        COUNTER.store(1000, Relaxed);
        eng.set_memory_counter(Some(counter));
        assert_eq!(eng.used_memory_startup(), 1000);
        COUNTER.store(5000, Relaxed);
        assert_eq!(eng.used_memory(), 5000);
        run(&mut eng, c, "CONFIG SET maxmemory 4000");
        let oom = Reply::Error(crate::error::OOM.0.clone());
        assert_eq!(run(&mut eng, c, "SET k v"), oom);
        assert_eq!(run(&mut eng, c, "GET k"), Reply::Nil);
        COUNTER.store(3000, Relaxed);
        assert_eq!(run(&mut eng, c, "SET k v"), Reply::status("OK"));
        assert_eq!(eng.stats.peak_memory, 5000);
    }

    #[test]
    fn draws_are_distinct_candidates_still_present() {
        use crate::testkit::{engine, run};
        let (mut eng, c) = engine();
        for i in 0..50 {
            run(&mut eng, c, &format!("SET k{i} v"));
        }
        run(&mut eng, c, "EXPIRE k7 100");
        assert_eq!(eng.draw_keys(0, false, 3), vec![b"k7".to_vec()]);
        let mut seen = std::collections::BTreeSet::new();
        for _ in 0..200 {
            let keys = eng.draw_keys(0, true, 5);
            assert_eq!(keys.len(), 5);
            let distinct: std::collections::BTreeSet<_> = keys.iter().collect();
            assert_eq!(distinct.len(), 5);
            seen.extend(keys);
        }
        // Every key gets drawn sooner or later.
        assert_eq!(seen.len(), 50);
        // Deleted keys are never drawn.
        run(&mut eng, c, "DEL k1 k2");
        for _ in 0..100 {
            for k in eng.draw_keys(0, true, 5) {
                assert!(k != b"k1".to_vec() && k != b"k2".to_vec());
            }
        }
    }

    #[test]
    fn invalidations_of_evicted_keys_come_before_the_reply() {
        use crate::testkit::{engine, run};
        let (mut eng, c) = engine();
        run(&mut eng, c, "HELLO 3");
        run(&mut eng, c, "CLIENT TRACKING on");
        run(&mut eng, c, "SETEX volatile-key 10000 x");
        run(&mut eng, c, "GET volatile-key");
        run(&mut eng, c, "CONFIG SET maxmemory-policy volatile-random");
        run(&mut eng, c, "CONFIG SET maxmemory 1");
        let argv: Vec<Vec<u8>> = vec![b"DBSIZE".to_vec()];
        // What the host sends: the reply (with what must precede it), then the outbox.
        let mut sent = match eng.execute(c, &argv, 0) {
            Some(Reply::Multi(parts)) => parts,
            Some(r) => vec![r],
            None => Vec::new(),
        };
        sent.append(&mut eng.clients.get_mut(&c).unwrap().outbox);
        let push = Reply::Push(vec![
            Reply::bulk("invalidate"),
            Reply::Array(vec![Reply::bulk("volatile-key")]),
        ]);
        assert_eq!(sent, vec![push, Reply::Integer(0)]);
    }

    #[test]
    fn pool_keeps_the_best_candidates_in_order() {
        let mut pool: [Option<Candidate>; POOL_SIZE] = Default::default();
        for s in [5, 1, 9, 3] {
            pool_insert(&mut pool, cand(s));
        }
        assert_eq!(scores(&pool), vec![1, 3, 5, 9]);
        for s in 10..30 {
            pool_insert(&mut pool, cand(s));
        }
        let got = scores(&pool);
        assert_eq!(got.len(), POOL_SIZE);
        assert_eq!(got.last(), Some(&29));
        assert!(got.windows(2).all(|w| w[0] <= w[1]));
        // Worse than every pooled candidate with the pool full: ignored.
        pool_insert(&mut pool, cand(0));
        assert_eq!(scores(&pool), got);
    }
}
