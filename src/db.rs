//! One keyspace: keys to entries, with lazy and active expiry.
//!
//! Time comes from the caller (`now` in milliseconds since the Unix epoch), never from the
//! system clock, so the same code runs natively, in WebAssembly and in deterministic tests.

use std::sync::atomic::{AtomicU64, Ordering};

use hashbrown::hash_map::EntryRef;
use hashbrown::HashMap;

use crate::types::Value;

/// A value with its expiry and access time.
#[derive(Clone, Debug)]
pub struct Entry {
    /// What the key holds.
    pub value: Value,
    /// Absolute expiry time in ms, if the key is volatile.
    pub expire_at: Option<i64>,
    /// Last time the key was read or written (for OBJECT IDLETIME), in ms.
    pub touched_at: i64,
    /// Logarithmic access counter (for OBJECT FREQ), as Redis's LFU keeps it.
    pub lfu: u8,
    /// The value is a private object even if it is a small integer Redis would otherwise share
    /// (OBJECT REFCOUNT then answers 1): COPY's duplicate, or a value created while a maxmemory
    /// LRU/LFU policy forbids shared integers. Cleared whenever the value is replaced.
    pub unshared: bool,
}

impl Entry {
    /// A persistent entry created at `now`.
    pub fn new(value: Value, now: i64) -> Entry {
        Entry {
            value,
            expire_at: None,
            touched_at: now,
            lfu: LFU_INIT,
            unshared: false,
        }
    }

    fn is_expired(&self, now: i64) -> bool {
        matches!(self.expire_at, Some(t) if t <= now)
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
        if self.unshared || self.value.encoding_name() != "int" {
            return None;
        }
        let n = crate::util::parse_i64(self.value.as_str()?)?;
        u16::try_from(n).ok().filter(|&n| n < SHARED_INTEGERS)
    }
}

/// Redis keeps one shared object for each integer below this.
pub const SHARED_INTEGERS: u16 = 10_000;

/// The counter a new key's LFU frequency starts at (Redis's LFU_INIT_VAL).
pub const LFU_INIT: u8 = 5;

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
#[derive(Default, Clone, Debug)]
pub struct Db {
    /// Entries are boxed: the table's buckets then hold a key and a pointer (32 bytes), so
    /// its growth (the table doubles) costs a quarter of what inline entries would.
    map: HashMap<Vec<u8>, Box<Entry>>,
    volatile: usize,
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
}

impl Db {
    /// An empty database.
    pub fn new() -> Db {
        Db::default()
    }

    /// Number of keys, counting those expired but not yet removed (as DBSIZE does).
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Whether the database holds no key.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// Number of keys with an expiry.
    pub fn volatile_len(&self) -> usize {
        self.volatile
    }

    /// Removes `key` if it is expired at `now`; true when it is expired (while expiry is
    /// paused it stays stored, but counts as gone).
    pub fn expire_if_needed(&mut self, key: &[u8], now: i64) -> bool {
        if self.volatile == 0 {
            // No key has an expiry: no second lookup.
            return false;
        }
        match self.map.get(key) {
            _ if self.no_expiry => false,
            Some(e) if e.is_expired(now) && self.expiry_paused => true,
            Some(e) if e.is_expired(now) => {
                self.remove_entry(key);
                self.expired_keys += 1;
                self.expired_log.push(key.to_vec());
                note_expiry_logged();
                if self.track_events {
                    self.events.push(("expired", key.to_vec()));
                }
                true
            }
            _ => false,
        }
    }

    /// The live entry under `key`, or None; expired keys are removed on the way.
    pub fn get(&mut self, key: &[u8], now: i64) -> Option<&Entry> {
        if self.expire_if_needed(key, now) {
            return None;
        }
        self.map.get(key).map(|e| &**e)
    }

    /// The live entry under `key` for modification.
    pub fn get_mut(&mut self, key: &[u8], now: i64) -> Option<&mut Entry> {
        if self.expire_if_needed(key, now) {
            return None;
        }
        self.map.get_mut(key).map(|e| &mut **e)
    }

    /// The stored entry under `key` without expiring it or recording an access.
    pub fn peek(&self, key: &[u8]) -> Option<&Entry> {
        self.map.get(key).map(|e| &**e)
    }

    /// Looks a key up for a command and records the access (OBJECT IDLETIME / FREQ), with the
    /// default LFU parameters (lfu-log-factor 10, lfu-decay-time 1).
    pub fn lookup(&mut self, key: &[u8], now: i64) -> Option<&mut Entry> {
        self.lookup_lfu(key, now, LfuParams::default())
    }

    /// Looks a key up and records the access as Redis's LFU does: the counter first loses what
    /// the time since the last access decays, then takes its logarithmic increment.
    pub fn lookup_lfu(&mut self, key: &[u8], now: i64, lfu: LfuParams) -> Option<&mut Entry> {
        let e = self.get_mut(key, now)?;
        let decayed = lfu_decay(e.lfu, e.touched_at, now, lfu.decay_time);
        e.lfu = lfu_increment(decayed, lfu.log_factor, lfu.draw);
        e.touched_at = now;
        Some(e)
    }

    /// Whether `key` is live at `now`.
    pub fn contains(&mut self, key: &[u8], now: i64) -> bool {
        self.get(key, now).is_some()
    }

    /// Stores `value` under `key`, replacing whatever was there and dropping any expiry.
    pub fn set(&mut self, key: &[u8], value: Value, now: i64) {
        let entry = Box::new(Entry::new(value, now));
        // One lookup, and the key copied only when it is new.
        match self.map.entry_ref(key) {
            EntryRef::Occupied(mut o) => {
                if o.insert(entry).expire_at.is_some() {
                    self.volatile -= 1;
                }
            }
            EntryRef::Vacant(v) => {
                v.insert(entry);
                if self.track_events {
                    self.events.push(("new", key.to_vec()));
                }
            }
        }
    }

    /// Stores `value` under `key`, keeping the current expiry of a live key.
    pub fn set_keep_ttl(&mut self, key: &[u8], value: Value, now: i64) {
        match self.get_mut(key, now) {
            Some(e) => {
                e.replace_value(value);
                e.touched_at = now;
            }
            None => self.set(key, value, now),
        }
    }

    /// Inserts a whole entry (expiry included), replacing any previous one.
    pub fn insert(&mut self, key: Vec<u8>, entry: Entry) {
        if entry.expire_at.is_some() {
            self.volatile += 1;
        }
        let created = self.track_events.then(|| key.clone());
        match self.map.insert(key, Box::new(entry)) {
            Some(old) => {
                if old.expire_at.is_some() {
                    self.volatile -= 1;
                }
            }
            None => {
                if let Some(k) = created {
                    self.events.push(("new", k));
                }
            }
        }
    }

    /// Removes `key` if it is live; returns its entry.
    pub fn remove(&mut self, key: &[u8], now: i64) -> Option<Entry> {
        if self.expire_if_needed(key, now) {
            return None;
        }
        self.remove_entry(key)
    }

    /// Removes `key` whether or not it is expired (eviction); returns its entry.
    pub fn remove_entry(&mut self, key: &[u8]) -> Option<Entry> {
        let e = *self.map.remove(key)?;
        if e.expire_at.is_some() {
            self.volatile -= 1;
        }
        Some(e)
    }

    /// Sets or clears the expiry of a live key; false when the key does not exist.
    pub fn set_expire(&mut self, key: &[u8], at: Option<i64>, now: i64) -> bool {
        let Some(e) = self.get_mut(key, now) else {
            return false;
        };
        let was = e.expire_at.is_some();
        e.expire_at = at;
        match (was, at.is_some()) {
            (false, true) => self.volatile += 1,
            (true, false) => self.volatile -= 1,
            _ => {}
        }
        true
    }

    /// Removes every key.
    pub fn clear(&mut self) {
        // A new table rather than `clear()`, which keeps the old one's capacity: FLUSHALL
        // gives the memory back, as Redis frees its dict (INFO used_memory drops).
        self.map = HashMap::new();
        self.volatile = 0;
        self.avg_ttl = 0;
    }

    /// Iterates over every stored key and entry, expired or not.
    pub fn iter(&self) -> impl Iterator<Item = (&Vec<u8>, &Entry)> {
        self.map.iter().map(|(k, e)| (k, &**e))
    }

    /// Every live key at `now` (KEYS): expired ones are skipped, not removed.
    pub fn live_keys(&self, now: i64) -> impl Iterator<Item = &Vec<u8>> {
        self.map
            .iter()
            .filter(move |(_, e)| !e.is_expired(now))
            .map(|(k, _)| k)
    }

    /// The `n`-th stored key in table order (for RANDOMKEY), if any.
    pub fn nth_key(&self, n: usize) -> Option<&Vec<u8>> {
        self.map.keys().nth(n)
    }

    /// One active-expiry pass: removes every expired key and returns how many it removed.
    /// A full pass (rather than Redis's random sampling) keeps the result deterministic; it
    /// only runs when some key is volatile, and the host calls it a few times a second.
    pub fn active_expire(&mut self, now: i64) -> usize {
        if self.volatile == 0 {
            return 0;
        }
        let before = self.map.len();
        let mut volatile_removed = 0;
        let log = &mut self.expired_log;
        let mut events = self.track_events.then_some(&mut self.events);
        self.map.retain(|k, e| {
            let keep = !e.is_expired(now);
            if !keep {
                volatile_removed += 1;
                log.push(k.clone());
                note_expiry_logged();
                if let Some(ev) = events.as_mut() {
                    ev.push(("expired", k.clone()));
                }
            }
            keep
        });
        self.volatile -= volatile_removed;
        let removed = before - self.map.len();
        self.expired_keys += removed as u64;
        removed
    }

    /// Swaps contents with another database (SWAPDB), keeping each one's counters.
    pub fn swap_contents(&mut self, other: &mut Db) {
        std::mem::swap(&mut self.map, &mut other.map);
        std::mem::swap(&mut self.volatile, &mut other.volatile);
        std::mem::swap(&mut self.avg_ttl, &mut other.avg_ttl);
    }

    /// Folds the current mean TTL of the volatile keys into [`Db::avg_ttl`] as Redis's expire
    /// cycle does: the first measure is taken whole, later ones weigh 2% against 98% for the
    /// estimate; no volatile key resets it to 0. Called from the engine's periodic tick.
    pub fn update_avg_ttl(&mut self, now: i64) {
        if self.volatile == 0 {
            self.avg_ttl = 0;
            return;
        }
        let (mut sum, mut n) = (0i128, 0i128);
        for e in self.map.values() {
            if let Some(at) = e.expire_at {
                if at > now {
                    sum += i128::from(at - now);
                    n += 1;
                }
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

/// Redis's logarithmic LFU counter increment: the counter grows by one with probability
/// 1 / ((counter - LFU_INIT) * log_factor + 1), decided by `draw` (uniform in [0, 1)).
fn lfu_increment(counter: u8, log_factor: i64, draw: f64) -> u8 {
    if counter == 255 {
        return 255;
    }
    let base = f64::from(counter.saturating_sub(LFU_INIT));
    let p = 1.0 / (base * log_factor.max(0) as f64 + 1.0);
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
