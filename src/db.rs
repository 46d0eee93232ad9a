//! One keyspace: keys to entries, with lazy and active expiry.
//!
//! Time comes from the caller (`now` in milliseconds since the Unix epoch), never from the
//! system clock, so the same code runs natively, in WebAssembly and in deterministic tests.
//!
//! **Layout.** Entries (key, value, access data) sit in one dense vector of 64-byte slots; a
//! hashbrown table of `u32` positions into it finds a key. A key leaves by swapping the last
//! slot into its place, so the slots stay dense and a random key is one draw away (RANDOMKEY,
//! eviction sampling). Expiry times live apart, in a table keyed by slot position as Redis's
//! `expires` dict is keyed by the key: a persistent key pays nothing for it, and a flag in the
//! entry says whether to look there. Keys and string values are [`CompactBytes`], inline when
//! short. For 1M `key:N` → `value:N` keys that is no allocation per key at all: 64 bytes of
//! slot plus about 10 of table per key, against Redis's 88 (see `make bench-memory`).
//!
//! Every key enters through `Db::add` and leaves through `Db::remove_at` (besides `clear` and
//! `swap_contents`, which move whole tables): per-key bookkeeping belongs there.

use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};

use hashbrown::{DefaultHashBuilder, HashTable};

use crate::types::{CompactBytes, StrEncoding, Value};

/// A value with its access data. Its expiry, if any, is kept by the [`Db`].
#[derive(Clone, Debug)]
pub struct Entry {
    /// What the key holds.
    pub value: Value,
    /// Last access (read or write), in whole seconds since the epoch: Redis's LRU clock also
    /// ticks in seconds (LRU_CLOCK_RESOLUTION), so OBJECT IDLETIME reads the same.
    touched: u32,
    /// Logarithmic access counter (for OBJECT FREQ), as Redis's LFU keeps it.
    pub lfu: u8,
    /// The value is a private object even if it is a small integer Redis would otherwise share
    /// (OBJECT REFCOUNT then answers 1): COPY's duplicate, or a value created while a maxmemory
    /// LRU/LFU policy forbids shared integers. Cleared whenever the value is replaced.
    pub unshared: bool,
    /// The key has an entry in the database's expiry table.
    volatile: bool,
}

impl Entry {
    /// A persistent entry created at `now`.
    pub fn new(value: Value, now: i64) -> Entry {
        Entry {
            value,
            touched: seconds(now),
            lfu: LFU_INIT,
            unshared: false,
            volatile: false,
        }
    }

    /// When the key was last accessed, in ms (a whole second: the clock's resolution).
    pub fn touched_at(&self) -> i64 {
        i64::from(self.touched) * 1000
    }

    /// Records an access at `now` (ms).
    pub fn touch(&mut self, now: i64) {
        self.touched = seconds(now);
    }

    /// Whether the key has an expiry.
    pub fn is_volatile(&self) -> bool {
        self.volatile
    }

    /// Replaces the value in place, keeping expiry and access data. The new value is a new
    /// object as far as sharing goes: a small integer is shared again even if the old value
    /// was a private copy (as INCR's result is in Redis).
    pub fn replace_value(&mut self, value: Value) {
        self.value = value;
        self.unshared = false;
    }

    /// The integer, when the value is one of the small integers Redis keeps a single shared
    /// object for (an `int`-encoded string in 0..10000 that is not a private copy). Every key
    /// holding it shares that object's reference count and access time.
    pub fn shared_integer(&self) -> Option<u16> {
        let Value::Str(s, StrEncoding::Int) = &self.value else {
            return None;
        };
        // 0..10000 has four digits at most and no sign: a longer text is none of them.
        if self.unshared || s.len() > 4 {
            return None;
        }
        let n = crate::util::parse_i64(s)?;
        u16::try_from(n).ok().filter(|&n| n < SHARED_INTEGERS)
    }
}

/// Whether two keys are the same bytes, compared eight bytes at a time: what a key lookup
/// does once its hash matched. The same answer as `==`, without the call to `memcmp` that
/// `==` makes, which in wasm is a byte-by-byte loop.
fn same_key(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let (mut wa, mut wb) = (a.chunks_exact(8), b.chunks_exact(8));
    let word = |c: &[u8]| c.try_into().map_or(0, u64::from_ne_bytes);
    if !(&mut wa).zip(&mut wb).all(|(x, y)| word(x) == word(y)) {
        return false;
    }
    wa.remainder()
        .iter()
        .zip(wb.remainder())
        .all(|(x, y)| x == y)
}

/// A key's hash: its bytes given to the hasher in one call. `hash_one(key)` would hash the
/// slice's length first as a separate step (the `Hash` impl of `[u8]`), a second round of
/// mixing that the byte hash, which takes the length into account itself, does not need;
/// in wasm, without a 64-bit widening multiply, each round costs several multiplications.
#[inline(always)]
fn hash_key(hasher: &DefaultHashBuilder, key: &[u8]) -> u64 {
    let mut h = hasher.build_hasher();
    h.write(key);
    h.finish()
}

/// The access clock's reading for `now` (ms): whole seconds, within u32 (until 2106).
fn seconds(now: i64) -> u32 {
    u32::try_from(now.div_euclid(1000).max(0)).unwrap_or(u32::MAX)
}

/// Where a live key sits in its database, as [`Db::lookup_lfu_at`] found it: valid until the
/// keyspace next changes (a key added or removed moves others), so it is used at once.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KeyPos(usize);

/// Redis keeps one shared object for each integer below this.
pub const SHARED_INTEGERS: u16 = 10_000;

/// The counter a new key's LFU frequency starts at (Redis's LFU_INIT_VAL).
pub const LFU_INIT: u8 = 5;

/// One key and its entry.
#[derive(Clone, Debug)]
struct Slot {
    key: CompactBytes,
    entry: Entry,
}

/// Tables at or below this many buckets are never shrunk.
const MIN_SHRINK: usize = 64;

/// Keys pushed onto any database's [`Db::expired_log`], counted across the process: after
/// each command the engine looks through its databases' logs only when this has moved, not
/// through all of them every time.
static EXPIRY_LOGGED: AtomicU64 = AtomicU64::new(0);

/// The count of keys ever pushed onto an `expired_log` (by any engine of the process).
pub fn expiry_log_count() -> u64 {
    EXPIRY_LOGGED.load(Ordering::Relaxed)
}

fn note_expiry_logged() {
    EXPIRY_LOGGED.fetch_add(1, Ordering::Relaxed);
}

/// One numbered database.
#[derive(Default, Clone)]
pub struct Db {
    /// The host's microsecond clock, timing each expired key's removal (Redis's `expire-del`
    /// latency event); None: not timed.
    pub expire_clock: Option<fn() -> u64>,
    /// The longest removal of an expired key (µs) since the engine last looked.
    pub slowest_expire_us: u64,
    /// Every key and entry, dense (see the module documentation).
    slots: Vec<Slot>,
    /// Positions in `slots`, found by the key's hash.
    index: HashTable<u32>,
    /// (position in `slots`, absolute expiry in ms) of the keys that have an expiry, found by
    /// the position's hash.
    expires: HashTable<(u32, i64)>,
    hasher: DefaultHashBuilder,
    /// Keys removed by expiry since start (INFO stats expired_keys).
    pub expired_keys: u64,
    /// Running estimate of the remaining TTL of volatile keys, in ms (INFO keyspace avg_ttl).
    pub avg_ttl: i64,
    /// Keys removed by expiry since the engine last looked (it signals them to WATCH).
    pub expired_log: Vec<Vec<u8>>,
    /// Set during CLIENT PAUSE and on a replica: expired keys read as missing but are not
    /// removed (a replica waits for its primary's DEL).
    pub expiry_paused: bool,
    /// Set while a replica applies its primary's stream: nothing is expired at all, the
    /// primary decides.
    pub no_expiry: bool,
    /// Whether keyspace notifications are on: then key creations and expiries are logged in
    /// [`Db::events`] for the engine to publish, in the order they happened.
    pub track_events: bool,
    /// `new` and `expired` keyspace events not yet published, oldest first.
    pub events: Vec<(&'static str, Vec<u8>)>,
    /// CLUSTER HOOK: on a cluster node, database 0's keys by hash slot. Kept in step by
    /// [`Db::key_added`] and [`Db::key_removed`], called from [`Db::add`] and
    /// [`Db::remove_at`] (and cleared or swapped with the whole table).
    pub slot_index: Option<Box<crate::cluster::slots::SlotIndex>>,
    /// How Redis would free the values this database drops by itself; the engine keeps it in
    /// step with the configuration.
    pub lazy: LazyFree,
    /// Values dropped by expiry or overwritten that Redis would have freed in the background
    /// (part of INFO's lazyfreed_objects).
    pub lazy_freed: u64,
}

/// `lazyfree-lazy-expire` and `lazyfree-lazy-server-del` as a database needs them: values it
/// removes by expiry, or replaces, are freed "in the background" when one says so and the
/// value is big enough for Redis to hand it to its lazy-free thread.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LazyFree {
    pub expire: bool,
    pub server_del: bool,
    /// `list-max-listpack-size`, which a list's free effort depends on.
    pub list_fill: i64,
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Db")
            .field("keys", &self.slots.len())
            .field("volatile", &self.expires.len())
            .field("expired_keys", &self.expired_keys)
            .finish_non_exhaustive()
    }
}

impl Db {
    /// An empty database.
    pub fn new() -> Db {
        Db::default()
    }

    /// Number of keys, counting those expired but not yet removed (as DBSIZE does).
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    /// Whether the database holds no key.
    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    /// Number of keys with an expiry.
    pub fn volatile_len(&self) -> usize {
        self.expires.len()
    }

    /// Bytes of slots allocated ahead of need (the slot vector's capacity beyond its keys).
    pub fn spare_bytes(&self) -> u64 {
        ((self.slots.capacity() - self.slots.len()) * std::mem::size_of::<Slot>()) as u64
    }

    #[inline(always)]
    fn key_hash(&self, key: &[u8]) -> u64 {
        hash_key(&self.hasher, key)
    }

    fn pos_hash(&self, pos: u32) -> u64 {
        self.hasher.hash_one(pos)
    }

    /// The slot position of `key`, expired or not.
    fn find(&self, key: &[u8]) -> Option<usize> {
        let slots = &self.slots;
        self.index
            .find(self.key_hash(key), |&i| {
                same_key(slots[i as usize].key.as_slice(), key)
            })
            .map(|&i| i as usize)
    }

    /// The expiry of the slot at `pos`, if it has one.
    fn expiry_at_pos(&self, pos: usize) -> Option<i64> {
        if !self.slots[pos].entry.volatile {
            return None;
        }
        let p = pos as u32;
        self.expires
            .find(self.pos_hash(p), |&(q, _)| q == p)
            .map(|&(_, at)| at)
    }

    /// Records `at` as the expiry of the slot at `pos` (which has none yet).
    fn add_expiry(&mut self, pos: usize, at: i64) {
        let p = pos as u32;
        let h = self.pos_hash(p);
        let hasher = &self.hasher;
        self.expires
            .insert_unique(h, (p, at), |&(q, _)| hasher.hash_one(q));
        self.slots[pos].entry.volatile = true;
    }

    /// Drops the expiry of the slot at `pos`; returns it.
    fn take_expiry(&mut self, pos: usize) -> Option<i64> {
        if !self.slots[pos].entry.volatile {
            return None;
        }
        self.slots[pos].entry.volatile = false;
        let p = pos as u32;
        let h = self.pos_hash(p);
        let found = self.expires.find_entry(h, |&(q, _)| q == p).ok()?;
        Some(found.remove().0 .1)
    }

    /// The one place a key enters the keyspace (it must not be present): stores it with its
    /// expiry and logs the `new` event. Returns its slot position.
    fn add(&mut self, key: CompactBytes, entry: Entry, expire_at: Option<i64>) -> usize {
        let pos = self.slots.len();
        let h = self.key_hash(&key);
        if self.track_events {
            self.events.push(("new", key.to_vec()));
        }
        self.key_added(&key);
        self.slots.push(Slot { key, entry });
        self.slots[pos].entry.volatile = false;
        let (slots, hasher) = (&self.slots, &self.hasher);
        self.index.insert_unique(h, pos as u32, |&i| {
            hash_key(hasher, slots[i as usize].key.as_slice())
        });
        if let Some(at) = expire_at {
            self.add_expiry(pos, at);
        }
        pos
    }

    /// The one place a key leaves the keyspace: removes the slot at `pos` with its expiry;
    /// the last slot moves into its place.
    fn remove_at(&mut self, pos: usize) -> (CompactBytes, Entry, Option<i64>) {
        let expire_at = self.take_expiry(pos);
        let h = self.key_hash(&self.slots[pos].key);
        let p = pos as u32;
        if let Ok(found) = self.index.find_entry(h, |&i| i == p) {
            found.remove();
        }
        let last = self.slots.len() - 1;
        let Slot { key, entry } = self.slots.swap_remove(pos);
        self.key_removed(&key);
        if pos != last {
            // The last slot now sits at `pos`: its index entry and expiry follow it.
            let moved = last as u32;
            let h = self.key_hash(&self.slots[pos].key);
            if let Some(i) = self.index.find_mut(h, |&i| i == moved) {
                *i = p;
            }
            if self.slots[pos].entry.volatile {
                let h = self.pos_hash(moved);
                if let Ok(found) = self.expires.find_entry(h, |&(q, _)| q == moved) {
                    let at = found.remove().0 .1;
                    self.slots[pos].entry.volatile = false;
                    self.add_expiry(pos, at);
                }
            }
        }
        self.shrink_if_sparse();
        (key, entry, expire_at)
    }

    /// Gives memory back after many removals, as Redis shrinks a dict under 10% full; the
    /// expiry table also stays dense enough for random draws to find keys quickly.
    fn shrink_if_sparse(&mut self) {
        let n = self.slots.len();
        if self.slots.capacity() > MIN_SHRINK && n * 8 < self.slots.capacity() {
            self.slots.shrink_to(n * 2);
        }
        let (slots, hasher) = (&self.slots, &self.hasher);
        if self.index.num_buckets() > MIN_SHRINK && n * 8 < self.index.num_buckets() {
            self.index.shrink_to(n * 2, |&i| {
                hash_key(hasher, slots[i as usize].key.as_slice())
            });
        }
        let v = self.expires.len();
        if self.expires.num_buckets() > MIN_SHRINK && v * 8 < self.expires.num_buckets() {
            self.expires.shrink_to(v * 2, |&(q, _)| hasher.hash_one(q));
        }
    }

    /// Removes the expired key at `pos` as expiry does: counted, logged for WATCH, and an
    /// `expired` event when events are tracked.
    fn expire_at_pos(&mut self, pos: usize) {
        let started = self.expire_clock.map(|clock| clock());
        let (key, entry, _) = self.remove_at(pos);
        if self.lazy.expire {
            self.count_lazy_free(&entry.value);
        }
        // Freeing the value is part of the deletion the latency monitor times.
        drop(entry);
        if let (Some(clock), Some(started)) = (self.expire_clock, started) {
            let us = clock().saturating_sub(started);
            self.slowest_expire_us = self.slowest_expire_us.max(us);
        }
        let key = key.into_vec();
        self.expired_keys += 1;
        if self.track_events {
            self.events.push(("expired", key.clone()));
        }
        self.expired_log.push(key);
        note_expiry_logged();
    }

    /// Removes `key` if it is expired at `now`; true when it is expired (while expiry is
    /// paused it stays stored, but counts as gone).
    pub fn expire_if_needed(&mut self, key: &[u8], now: i64) -> bool {
        if self.expires.is_empty() || self.no_expiry {
            // No key has an expiry: no second lookup.
            return false;
        }
        let Some(pos) = self.find(key) else {
            return false;
        };
        self.expire_pos_if_needed(pos, now)
    }

    /// [`Db::expire_if_needed`] for the key at `pos`.
    fn expire_pos_if_needed(&mut self, pos: usize, now: i64) -> bool {
        if self.no_expiry {
            return false;
        }
        match self.expiry_at_pos(pos) {
            Some(at) if at <= now => {
                if !self.expiry_paused {
                    self.expire_at_pos(pos);
                }
                true
            }
            _ => false,
        }
    }

    /// The position of the live key `key` at `now`; an expired key is removed on the way.
    fn find_live(&mut self, key: &[u8], now: i64) -> Option<usize> {
        let pos = self.find(key)?;
        if self.expire_pos_if_needed(pos, now) {
            return None;
        }
        Some(pos)
    }

    /// The live entry under `key`, or None; expired keys are removed on the way.
    pub fn get(&mut self, key: &[u8], now: i64) -> Option<&Entry> {
        let pos = self.find_live(key, now)?;
        Some(&self.slots[pos].entry)
    }

    /// The live entry under `key` for modification.
    pub fn get_mut(&mut self, key: &[u8], now: i64) -> Option<&mut Entry> {
        let pos = self.find_live(key, now)?;
        Some(&mut self.slots[pos].entry)
    }

    /// The stored entry under `key` without expiring it or recording an access.
    pub fn peek(&self, key: &[u8]) -> Option<&Entry> {
        self.find(key).map(|pos| &self.slots[pos].entry)
    }

    /// The stored expiry of `key` (absolute, ms), whether or not it has passed.
    pub fn expire_at(&self, key: &[u8]) -> Option<i64> {
        self.expiry_at_pos(self.find(key)?)
    }

    /// Whether `key` is stored with an expiry that has passed at `now` (without removing it).
    pub fn is_expired(&self, key: &[u8], now: i64) -> bool {
        self.expire_at(key).is_some_and(|t| t <= now)
    }

    /// Looks a key up for a command and records the access (OBJECT IDLETIME / FREQ), with the
    /// default LFU parameters (lfu-log-factor 10, lfu-decay-time 1).
    pub fn lookup(&mut self, key: &[u8], now: i64) -> Option<&mut Entry> {
        self.lookup_lfu(key, now, LfuParams::default())
    }

    /// Looks a key up and records the access as Redis's LFU does: the counter first loses what
    /// the time since the last access decays, then takes its logarithmic increment.
    pub fn lookup_lfu(&mut self, key: &[u8], now: i64, lfu: LfuParams) -> Option<&mut Entry> {
        let pos = self.lookup_lfu_at(key, now, lfu)?;
        Some(&mut self.slots[pos.0].entry)
    }

    /// [`Db::lookup_lfu`], answering where the key is: a command that replaces the value
    /// next (SET) stores it there with [`Db::set_at`] instead of looking the key up again.
    pub fn lookup_lfu_at(&mut self, key: &[u8], now: i64, lfu: LfuParams) -> Option<KeyPos> {
        let pos = self.find_live(key, now)?;
        let e = &mut self.slots[pos].entry;
        // In whole seconds, as the entry keeps it: one 64-bit division per lookup (in wasm a
        // call that multiplies in 128 bits) where `lfu_decay` on milliseconds makes three.
        let now_s = seconds(now);
        let decayed = decay_by_minutes(e.lfu, e.touched / 60, now_s / 60, lfu.decay_time);
        e.lfu = lfu_increment(decayed, lfu.log_factor, lfu.draw);
        e.touched = now_s;
        Some(KeyPos(pos))
    }

    /// The entry at `pos` (from [`Db::lookup_lfu_at`], the keyspace unchanged since).
    pub fn entry_at(&mut self, pos: KeyPos) -> &mut Entry {
        &mut self.slots[pos.0].entry
    }

    /// Whether `key` is live at `now`.
    pub fn contains(&mut self, key: &[u8], now: i64) -> bool {
        self.get(key, now).is_some()
    }

    /// Stores `value` under `key`, replacing whatever was there and dropping any expiry.
    pub fn set(&mut self, key: &[u8], value: Value, now: i64) {
        let entry = Entry::new(value, now);
        match self.find(key) {
            Some(pos) => {
                self.take_expiry(pos);
                self.overwrite(pos, entry);
            }
            None => {
                self.add(CompactBytes::new(key), entry, None);
            }
        }
    }

    /// [`Db::set`] for the live key at `pos` (from [`Db::lookup_lfu_at`], the keyspace
    /// unchanged since): the value replaced and any expiry dropped, without a second lookup.
    pub fn set_at(&mut self, pos: KeyPos, value: Value, now: i64) {
        self.take_expiry(pos.0);
        self.overwrite(pos.0, Entry::new(value, now));
    }

    /// Puts `entry` in place of the one at `pos`, counting the old value when Redis would
    /// free it in the background (`lazyfree-lazy-server-del`).
    fn overwrite(&mut self, pos: usize, entry: Entry) {
        let old = std::mem::replace(&mut self.slots[pos].entry, entry);
        if self.lazy.server_del {
            self.count_lazy_free(&old.value);
        }
    }

    /// Counts `value` in lazy_freed when Redis's lazy-free thread would have taken it.
    fn count_lazy_free(&mut self, value: &Value) {
        if value.free_effort(self.lazy.list_fill) > crate::types::LAZYFREE_THRESHOLD {
            self.lazy_freed += 1;
        }
    }

    /// Stores `value` under `key`, keeping the current expiry of a live key.
    pub fn set_keep_ttl(&mut self, key: &[u8], value: Value, now: i64) {
        let server_del = self.lazy.server_del;
        match self.get_mut(key, now) {
            Some(e) => {
                let old = std::mem::replace(&mut e.value, value);
                e.unshared = false;
                e.touch(now);
                if server_del {
                    self.count_lazy_free(&old);
                }
            }
            None => self.set(key, value, now),
        }
    }

    /// Inserts a whole entry with its expiry, replacing any previous one.
    pub fn insert(&mut self, key: Vec<u8>, entry: Entry, expire_at: Option<i64>) {
        match self.find(&key) {
            Some(pos) => {
                self.take_expiry(pos);
                self.overwrite(pos, entry);
                self.slots[pos].entry.volatile = false;
                if let Some(at) = expire_at {
                    self.add_expiry(pos, at);
                }
            }
            None => {
                self.add(CompactBytes::from_vec(key), entry, expire_at);
            }
        }
    }

    /// Removes `key` if it is live; returns its entry.
    pub fn remove(&mut self, key: &[u8], now: i64) -> Option<Entry> {
        let pos = self.find_live(key, now)?;
        Some(self.remove_at(pos).1)
    }

    /// Removes `key` if it is live as Redis's internal deletions do (RENAME's destination,
    /// an empty *STORE result, GETDEL, RESTORE REPLACE, MIGRATE): the value counted as freed
    /// in the background under `lazyfree-lazy-server-del`.
    pub fn delete(&mut self, key: &[u8], now: i64) -> Option<Entry> {
        let e = self.remove(key, now)?;
        if self.lazy.server_del {
            self.count_lazy_free(&e.value);
        }
        Some(e)
    }

    /// Removes `key` if it is live because a command gave it an expiry in the past (EXPIRE,
    /// GETEX): counted under `lazyfree-lazy-expire`, as an expiry is.
    pub fn delete_expired(&mut self, key: &[u8], now: i64) -> Option<Entry> {
        let e = self.remove(key, now)?;
        if self.lazy.expire {
            self.count_lazy_free(&e.value);
        }
        Some(e)
    }

    /// Removes `key` if it is live; returns its entry and expiry (RENAME, MOVE).
    pub fn take(&mut self, key: &[u8], now: i64) -> Option<(Entry, Option<i64>)> {
        let pos = self.find_live(key, now)?;
        let (_, entry, at) = self.remove_at(pos);
        Some((entry, at))
    }

    /// Removes `key` whether or not it is expired (eviction); returns its entry.
    pub fn remove_entry(&mut self, key: &[u8]) -> Option<Entry> {
        let pos = self.find(key)?;
        Some(self.remove_at(pos).1)
    }

    /// Sets or clears the expiry of a live key; false when the key does not exist.
    pub fn set_expire(&mut self, key: &[u8], at: Option<i64>, now: i64) -> bool {
        let Some(pos) = self.find_live(key, now) else {
            return false;
        };
        self.take_expiry(pos);
        if let Some(at) = at {
            self.add_expiry(pos, at);
        }
        true
    }

    /// Removes every key.
    pub fn clear(&mut self) {
        // New tables rather than `clear()`, which keeps the old ones' capacity: FLUSHALL
        // gives the memory back, as Redis frees its dict (INFO used_memory drops).
        self.slots = Vec::new();
        self.index = HashTable::new();
        self.expires = HashTable::new();
        if let Some(ix) = self.slot_index.as_mut() {
            ix.clear();
        }
        self.avg_ttl = 0;
    }

    /// Iterates over every stored key and entry, expired or not, in slot order.
    pub fn iter(&self) -> impl Iterator<Item = (&[u8], &Entry)> {
        self.slots.iter().map(|s| (s.key.as_slice(), &s.entry))
    }

    /// Iterates over every stored key, entry and expiry, expired or not, in slot order.
    pub fn iter_with_expiry(&self) -> impl Iterator<Item = (&[u8], &Entry, Option<i64>)> {
        self.slots
            .iter()
            .enumerate()
            .map(|(pos, s)| (s.key.as_slice(), &s.entry, self.expiry_at_pos(pos)))
    }

    /// Every live key at `now` (KEYS): expired ones are skipped, not removed.
    pub fn live_keys(&self, now: i64) -> impl Iterator<Item = &[u8]> {
        self.iter_with_expiry()
            .filter(move |(_, _, at)| at.is_none_or(|t| t > now))
            .map(|(k, _, _)| k)
    }

    /// The `n`-th stored key (RANDOMKEY draws `n`), if any: one step, the slots being dense.
    pub fn nth_key(&self, n: usize) -> Option<&[u8]> {
        self.slots.get(n).map(|s| s.key.as_slice())
    }

    /// A key with an expiry picked by `draw` (any number; eviction's volatile policies draw
    /// it at random): the first filled bucket of the expiry table from a position the draw
    /// gives. The table is kept at least an eighth full, so few buckets are looked at.
    pub fn volatile_key(&self, draw: u64) -> Option<&[u8]> {
        let n = self.expires.num_buckets();
        if self.expires.is_empty() || n == 0 {
            return None;
        }
        let start = (draw % n as u64) as usize;
        (0..n).find_map(|k| {
            self.expires
                .get_bucket((start + k) % n)
                .map(|&(pos, _)| self.slots[pos as usize].key.as_slice())
        })
    }

    /// One active-expiry pass: removes every expired key and returns how many it removed.
    /// A full pass over the keys with an expiry (not all keys; rather than Redis's random
    /// sampling) keeps the result deterministic; the host calls it a few times a second.
    pub fn active_expire(&mut self, now: i64) -> usize {
        if self.expires.is_empty() {
            return 0;
        }
        let mut expired: Vec<u32> = self
            .expires
            .iter()
            .filter(|&&(_, at)| at <= now)
            .map(|&(pos, _)| pos)
            .collect();
        // Highest positions first: removing one moves only the last slot, which is never a
        // lower position still to be removed.
        expired.sort_unstable_by(|a, b| b.cmp(a));
        for &pos in &expired {
            self.expire_at_pos(pos as usize);
        }
        expired.len()
    }

    /// Swaps contents with another database (SWAPDB), keeping each one's counters.
    pub fn swap_contents(&mut self, other: &mut Db) {
        std::mem::swap(&mut self.slots, &mut other.slots);
        std::mem::swap(&mut self.index, &mut other.index);
        std::mem::swap(&mut self.expires, &mut other.expires);
        std::mem::swap(&mut self.hasher, &mut other.hasher);
        std::mem::swap(&mut self.slot_index, &mut other.slot_index);
        std::mem::swap(&mut self.avg_ttl, &mut other.avg_ttl);
    }

    // ---- CLUSTER HOOK: the per-slot key index (only on a cluster node's database 0) ----

    /// Starts (or rebuilds) the per-slot key index from the keys stored now.
    pub fn index_slots(&mut self) {
        let mut ix = crate::cluster::slots::SlotIndex::new();
        for s in &self.slots {
            ix.added(s.key.as_slice());
        }
        self.slot_index = Some(Box::new(ix));
    }

    fn key_added(&mut self, key: &[u8]) {
        if let Some(ix) = self.slot_index.as_mut() {
            ix.added(key);
        }
    }

    fn key_removed(&mut self, key: &[u8]) {
        if let Some(ix) = self.slot_index.as_mut() {
            ix.removed(key);
        }
    }

    // ---- end of the CLUSTER HOOK ----

    /// Folds the current mean TTL of the volatile keys into [`Db::avg_ttl`] as Redis's expire
    /// cycle does: the first measure is taken whole, later ones weigh 2% against 98% for the
    /// estimate; no volatile key resets it to 0. Called from the engine's periodic tick.
    pub fn update_avg_ttl(&mut self, now: i64) {
        if self.expires.is_empty() {
            self.avg_ttl = 0;
            return;
        }
        let (mut sum, mut n) = (0i128, 0i128);
        for &(_, at) in self.expires.iter() {
            if at > now {
                sum += i128::from(at - now);
                n += 1;
            }
        }
        if n == 0 {
            return;
        }
        let sample = i64::try_from(sum / n).unwrap_or(i64::MAX);
        if self.avg_ttl == 0 {
            self.avg_ttl = sample;
        }
        self.avg_ttl = (self.avg_ttl / 50) * 49 + sample / 50;
    }
}

/// The LFU tuning CONFIG exposes: `lfu-log-factor` and `lfu-decay-time` (minutes).
#[derive(Clone, Copy, Debug)]
pub struct LfuParams {
    /// How slowly the counter grows (`lfu-log-factor`).
    pub log_factor: i64,
    /// Minutes per decay step (`lfu-decay-time`); 0 never decays.
    pub decay_time: i64,
    /// A uniform draw in [0, 1) that decides whether this access grows the counter (Redis
    /// draws it with rand(); the engine from its seeded generator).
    pub draw: f64,
}

impl Default for LfuParams {
    fn default() -> Self {
        LfuParams {
            log_factor: 10,
            decay_time: 1,
            draw: 0.5,
        }
    }
}

/// The counter as Redis reads it: lowered by one for every `decay_time` whole minutes between
/// the last access and `now` (Redis keeps access time in minutes), never below 0.
pub fn lfu_decay(counter: u8, last_access: i64, now: i64, decay_time: i64) -> u8 {
    if decay_time <= 0 {
        return counter;
    }
    let minutes = (now / 60_000).saturating_sub(last_access / 60_000).max(0);
    let periods = minutes / decay_time;
    u8::try_from(i64::from(counter).saturating_sub(periods).max(0)).unwrap_or(0)
}

/// [`lfu_decay`] between two readings of the minute clock (`seconds(ms) / 60`): the same
/// count of whole minutes for an access at or after the epoch.
fn decay_by_minutes(counter: u8, last_min: u32, now_min: u32, decay_time: i64) -> u8 {
    if decay_time <= 0 || now_min <= last_min {
        return counter;
    }
    let periods = i64::from(now_min - last_min) / decay_time;
    u8::try_from(i64::from(counter).saturating_sub(periods).max(0)).unwrap_or(0)
}

/// Redis's logarithmic LFU counter increment: the counter grows by one with probability
/// 1 / ((counter - LFU_INIT) * log_factor + 1), decided by `draw` (uniform in [0, 1)).
fn lfu_increment(counter: u8, log_factor: i64, draw: f64) -> u8 {
    if counter == 255 {
        return 255;
    }
    let base = counter.saturating_sub(LFU_INIT);
    if base == 0 {
        // The chance is 1: every draw in [0, 1) grows the counter.
        return counter + 1;
    }
    let p = 1.0 / (f64::from(base) * log_factor.max(0) as f64 + 1.0);
    if draw < p {
        counter + 1
    } else {
        counter
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_key_is_slice_equality() {
        let base: Vec<u8> = (0..40u8).map(|i| b'a' + i % 26).collect();
        for n in 0..base.len() {
            let a = &base[..n];
            assert!(same_key(a, a));
            assert!(!same_key(a, &base[..n + 1]));
            for at in 0..n {
                let mut b = a.to_vec();
                b[at] ^= 0x20;
                assert!(!same_key(a, &b), "length {n}, differing at {at}");
            }
        }
    }

    #[cfg(target_pointer_width = "64")]
    #[test]
    fn a_slot_is_64_bytes() {
        assert_eq!(std::mem::size_of::<Value>(), 32);
        assert_eq!(std::mem::size_of::<Entry>(), 40);
        assert_eq!(std::mem::size_of::<Slot>(), 64);
    }

    #[test]
    fn removals_keep_index_and_expiries_in_step() {
        let mut db = Db::new();
        let key = |i: usize| format!("key:{}", i).into_bytes();
        for i in 0..2000 {
            db.set(&key(i), Value::string(i.to_string().into_bytes()), 0);
            if i % 3 == 0 {
                db.set_expire(&key(i), Some(1_000_000 + i as i64), 0);
            }
        }
        // Remove in an order that moves volatile and persistent slots about.
        let mut gone = std::collections::BTreeSet::new();
        let mut x = 7usize;
        for _ in 0..1500 {
            x = (x * 1103 + 17) % 2000;
            if db.remove(&key(x), 0).is_some() {
                gone.insert(x);
            }
        }
        for i in 0..2000 {
            let e = db.peek(&key(i));
            if gone.contains(&i) {
                assert!(e.is_none(), "{} removed", i);
                continue;
            }
            let e = e.expect("still there");
            assert_eq!(e.value.as_str(), Some(i.to_string().as_bytes()));
            let want = (i % 3 == 0).then_some(1_000_000 + i as i64);
            assert_eq!(db.expire_at(&key(i)), want, "{}", i);
            assert_eq!(e.is_volatile(), want.is_some());
        }
        let volatile = (0..2000)
            .filter(|i| i % 3 == 0 && !gone.contains(i))
            .count();
        assert_eq!(db.volatile_len(), volatile);
        assert_eq!(db.len(), 2000 - gone.len());
        // Every draw of a volatile key finds one with an expiry.
        for d in 0..100u64 {
            let k = db
                .volatile_key(d.wrapping_mul(0x9e37_79b9_7f4a_7c15))
                .expect("some");
            assert!(db.expire_at(k).is_some());
        }
        // Expire the rest of the volatile keys in one pass.
        assert_eq!(db.active_expire(i64::MAX), volatile);
        assert_eq!(db.volatile_len(), 0);
        assert_eq!(db.volatile_key(1), None);
        assert_eq!(db.len(), 2000 - gone.len() - volatile);
        for (k, _) in db.iter() {
            assert!(db.peek(k).is_some());
        }
    }

    #[test]
    fn lazy_expiry_removes_on_access() {
        let mut db = Db::new();
        db.set(b"k", Value::string(b"v".to_vec()), 0);
        assert!(db.set_expire(b"k", Some(100), 0));
        assert_eq!(db.volatile_len(), 1);
        assert!(db.get(b"k", 99).is_some());
        assert!(db.get(b"k", 100).is_none());
        assert_eq!(db.len(), 0);
        assert_eq!(db.volatile_len(), 0);
        assert_eq!(db.expired_keys, 1);
    }

    #[test]
    fn avg_ttl_is_a_running_estimate() {
        let mut db = Db::new();
        db.set(b"k", Value::string(b"v".to_vec()), 0);
        db.set_expire(b"k", Some(10_000), 0);
        assert_eq!(db.avg_ttl, 0);
        db.update_avg_ttl(0);
        assert_eq!(db.avg_ttl, 10_000);
        db.update_avg_ttl(5_000);
        assert_eq!(db.avg_ttl, 200 * 49 + 100);
        db.set_expire(b"k", None, 5_000);
        db.update_avg_ttl(5_000);
        assert_eq!(db.avg_ttl, 0);
    }

    #[test]
    fn active_expiry_sweeps() {
        let mut db = Db::new();
        for i in 0..100 {
            let k = format!("k{}", i).into_bytes();
            db.set(&k, Value::string(b"v".to_vec()), 0);
            db.set_expire(&k, Some(10), 0);
        }
        db.set(b"keep", Value::string(b"v".to_vec()), 0);
        assert_eq!(db.active_expire(20), 100);
        assert_eq!(db.len(), 1);
    }

    #[test]
    fn lfu_decays_before_it_grows() {
        let mut db = Db::new();
        db.set(b"k", Value::string(b"v".to_vec()), 0);
        // Three idle minutes take 5 down to 2; the increment from below LFU_INIT is certain.
        let e = db.lookup(b"k", 180_000).map(|e| e.lfu);
        assert_eq!(e, Some(3));
        let slow = LfuParams {
            log_factor: 10,
            decay_time: 0,
            draw: 0.99,
        };
        assert_eq!(
            db.lookup_lfu(b"k", 10_000_000, slow).map(|e| e.lfu),
            Some(4)
        );
        assert_eq!(lfu_decay(200, 0, 59_999, 1), 200);
        assert_eq!(lfu_decay(200, 59_999, 60_000, 1), 199);
        assert_eq!(lfu_decay(3, 0, 3_600_000, 1), 0);
        assert_eq!(lfu_decay(3, 0, 3_600_000, 0), 3);
    }

    #[test]
    fn lfu_grows_by_the_draw() {
        // At LFU_INIT + 1 with log factor 10 the chance is 1/11: a draw below it grows.
        assert_eq!(lfu_increment(6, 10, 0.05), 7);
        assert_eq!(lfu_increment(6, 10, 0.5), 6);
        assert_eq!(lfu_increment(255, 10, 0.0), 255);
        // Log factor 0 always grows.
        assert_eq!(lfu_increment(100, 0, 0.99), 101);
    }
}
