//! Configuration parameters: what CONFIG GET reads and CONFIG SET changes.
//!
//! The fields the engine consults are typed; CONFIG GET/SET map parameter names onto them.

/// The server's configuration.
#[derive(Clone, Debug)]
pub struct Config {
    /// `databases` (fixed after start).
    pub databases: usize,
    /// `maxmemory` in bytes (0: no limit).
    pub maxmemory: u64,
    /// `maxmemory-policy` (`noeviction`, `allkeys-lru`, `allkeys-lfu`, ...).
    pub maxmemory_policy: String,
    /// `list-max-listpack-size`: positive = entries per node, negative = node byte class.
    pub list_max_listpack_size: i64,
    /// `list-compress-depth`.
    pub list_compress_depth: i64,
    /// `hash-max-listpack-entries`.
    pub hash_max_listpack_entries: usize,
    /// `hash-max-listpack-value`.
    pub hash_max_listpack_value: usize,
    /// `set-max-intset-entries`.
    pub set_max_intset_entries: usize,
    /// `zset-max-listpack-entries`.
    pub zset_max_listpack_entries: usize,
    /// `zset-max-listpack-value`.
    pub zset_max_listpack_value: usize,
    /// `notify-keyspace-events`, as the flag string CONFIG GET prints.
    pub notify_keyspace_events: String,
    /// `lfu-log-factor`.
    pub lfu_log_factor: i64,
    /// `lfu-decay-time`.
    pub lfu_decay_time: i64,
    /// `hz`.
    pub hz: i64,
    /// `proto-max-bulk-len`.
    pub proto_max_bulk_len: u64,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            databases: 16,
            maxmemory: 0,
            maxmemory_policy: "noeviction".into(),
            list_max_listpack_size: -2,
            list_compress_depth: 0,
            hash_max_listpack_entries: 128,
            hash_max_listpack_value: 64,
            set_max_intset_entries: 512,
            zset_max_listpack_entries: 128,
            zset_max_listpack_value: 64,
            notify_keyspace_events: String::new(),
            lfu_log_factor: 10,
            lfu_decay_time: 1,
            hz: 10,
            proto_max_bulk_len: 512 * 1024 * 1024,
        }
    }
}

impl Config {
    /// Number of databases.
    pub fn databases(&self) -> usize {
        self.databases
    }

    /// Sets the number of databases (only at start, as in Redis).
    pub fn set_databases(&mut self, n: usize) {
        self.databases = n;
    }

    /// Whether the eviction policy is an LFU one (OBJECT FREQ needs it).
    pub fn lfu_policy(&self) -> bool {
        self.maxmemory_policy.ends_with("-lfu")
    }
}
