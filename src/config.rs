//! Configuration parameters: what CONFIG GET reads and CONFIG SET changes.
//!
//! The fields the engine consults are typed; every other parameter Redis 7.0 knows is kept as
//! the text CONFIG GET prints, so clients that read settings at start-up (redis-cli, redis-py,
//! admin tools) find each one. [`PARAMS`] is the name table: canonical name, alias, the kind of
//! value (which decides parsing and error texts) and the default of a `redis-server` started
//! without a config file.

// hashbrown's hasher: every command reads a few parameters kept here by name (requirepass,
// the slow log and latency thresholds), and SipHash made those lookups a hot spot.
use hashbrown::HashMap;

#[path = "config_rewrite.rs"]
pub mod rewrite;

/// How a parameter's value is parsed and validated.
#[derive(Clone, Copy, Debug)]
pub enum Kind {
    /// `yes` / `no`, any case.
    Bool,
    /// A decimal integer in `min..=max`.
    Int(i64, i64),
    /// A byte count with an optional unit (`1gb`, `100k`) in `min..=max`.
    Mem(u64, u64),
    /// A byte count, or a percentage of maxmemory (`10%`).
    MemOrPercent,
    /// One of the listed words, any case; GET prints it in lower case.
    Enum(&'static [&'static str]),
    /// Free text.
    Str,
    /// Fixed at start-up.
    Immutable,
    /// Settable only where `enable-protected-configs` allows it.
    Protected,
    /// `save`: pairs of seconds and changes.
    Save,
    /// `notify-keyspace-events`: a set of class characters.
    NotifyEvents,
    /// `client-output-buffer-limit`: class hard soft seconds, repeated.
    ClientOutputBufferLimit,
    /// `latency-tracking-info-percentiles`: floats between 0 and 100.
    Percentiles,
    /// `oom-score-adj-values`: three integers between -2000 and 2000.
    OomScoreAdjValues,
    /// `shutdown-on-sigint`/`-sigterm`: `default`, or any of the listed flags together.
    ShutdownFlags,
}

/// One configuration parameter.
#[derive(Clone, Copy, Debug)]
pub struct Param {
    /// Canonical name.
    pub name: &'static str,
    /// The older name CONFIG GET/SET also accept (`hash-max-ziplist-entries`, `slaveof` ...).
    pub alias: Option<&'static str>,
    /// How values are parsed.
    pub kind: Kind,
    /// Value at start-up.
    pub default: &'static str,
    /// Left out of pattern matches (`CONFIG GET *`); CONFIG GET and SET by exact name only.
    pub hidden: bool,
}

const I64_MAX: u64 = i64::MAX as u64;

const fn p(
    name: &'static str,
    alias: Option<&'static str>,
    kind: Kind,
    default: &'static str,
) -> Param {
    Param {
        name,
        alias,
        kind,
        default,
        hidden: false,
    }
}

/// A parameter Redis keeps for its own tests: only an exact name reaches it.
const fn hidden(name: &'static str, kind: Kind, default: &'static str) -> Param {
    Param {
        name,
        alias: None,
        kind,
        default,
        hidden: true,
    }
}

/// Every parameter Redis 7.0.15 lists in `CONFIG GET *`, sorted by canonical name.
pub const PARAMS: &[Param] = &[
    p(
        "acl-pubsub-default",
        None,
        Kind::Enum(&["allchannels", "resetchannels"]),
        "resetchannels",
    ),
    p("aclfile", None, Kind::Immutable, ""),
    p("acllog-max-len", None, Kind::Int(0, i64::MAX), "128"),
    p("active-defrag-cycle-max", None, Kind::Int(1, 99), "25"),
    p("active-defrag-cycle-min", None, Kind::Int(1, 99), "1"),
    p(
        "active-defrag-ignore-bytes",
        None,
        Kind::Mem(1, I64_MAX),
        "104857600",
    ),
    p(
        "active-defrag-max-scan-fields",
        None,
        Kind::Int(1, i64::MAX),
        "1000",
    ),
    p(
        "active-defrag-threshold-lower",
        None,
        Kind::Int(0, 1000),
        "10",
    ),
    p(
        "active-defrag-threshold-upper",
        None,
        Kind::Int(0, 1000),
        "100",
    ),
    p("active-expire-effort", None, Kind::Int(1, 10), "1"),
    p("activedefrag", None, Kind::Bool, "no"),
    p("activerehashing", None, Kind::Bool, "yes"),
    p("always-show-logo", None, Kind::Immutable, "no"),
    p("aof-disable-auto-gc", None, Kind::Bool, "no"),
    p("aof-load-truncated", None, Kind::Bool, "yes"),
    p("aof-rewrite-incremental-fsync", None, Kind::Bool, "yes"),
    p("aof-timestamp-enabled", None, Kind::Bool, "no"),
    p("aof-use-rdb-preamble", None, Kind::Bool, "yes"),
    p("aof_rewrite_cpulist", None, Kind::Immutable, ""),
    p("appenddirname", None, Kind::Immutable, "appendonlydir"),
    p("appendfilename", None, Kind::Immutable, "appendonly.aof"),
    p(
        "appendfsync",
        None,
        Kind::Enum(&["everysec", "always", "no"]),
        "everysec",
    ),
    p("appendonly", None, Kind::Bool, "no"),
    p(
        "auto-aof-rewrite-min-size",
        None,
        Kind::Mem(0, I64_MAX),
        "67108864",
    ),
    p(
        "auto-aof-rewrite-percentage",
        None,
        Kind::Int(0, 2147483647),
        "100",
    ),
    p("bgsave_cpulist", None, Kind::Immutable, ""),
    p("bind", None, Kind::Str, "* -::*"),
    p("bind-source-addr", None, Kind::Str, ""),
    p("bio_cpulist", None, Kind::Immutable, ""),
    p(
        "busy-reply-threshold",
        Some("lua-time-limit"),
        Kind::Int(0, i64::MAX),
        "5000",
    ),
    p(
        "client-output-buffer-limit",
        None,
        Kind::ClientOutputBufferLimit,
        "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60",
    ),
    p(
        "client-query-buffer-limit",
        None,
        Kind::Mem(1048576, I64_MAX),
        "1073741824",
    ),
    p(
        "cluster-allow-pubsubshard-when-down",
        None,
        Kind::Bool,
        "yes",
    ),
    p("cluster-allow-reads-when-down", None, Kind::Bool, "no"),
    p("cluster-allow-replica-migration", None, Kind::Bool, "yes"),
    p("cluster-announce-bus-port", None, Kind::Int(0, 65535), "0"),
    p("cluster-announce-hostname", None, Kind::Str, ""),
    p("cluster-announce-ip", None, Kind::Str, ""),
    p("cluster-announce-port", None, Kind::Int(0, 65535), "0"),
    p("cluster-announce-tls-port", None, Kind::Int(0, 65535), "0"),
    p("cluster-config-file", None, Kind::Immutable, "nodes.conf"),
    p("cluster-enabled", None, Kind::Immutable, "no"),
    p(
        "cluster-link-sendbuf-limit",
        None,
        Kind::Mem(0, u64::MAX),
        "0",
    ),
    p(
        "cluster-migration-barrier",
        None,
        Kind::Int(0, 2147483647),
        "1",
    ),
    p(
        "cluster-node-timeout",
        None,
        Kind::Int(0, i64::MAX),
        "15000",
    ),
    p("cluster-port", None, Kind::Immutable, "0"),
    p(
        "cluster-preferred-endpoint-type",
        None,
        Kind::Enum(&["ip", "hostname", "unknown-endpoint"]),
        "ip",
    ),
    p(
        "cluster-replica-no-failover",
        Some("cluster-slave-no-failover"),
        Kind::Bool,
        "no",
    ),
    p(
        "cluster-replica-validity-factor",
        Some("cluster-slave-validity-factor"),
        Kind::Int(0, 2147483647),
        "10",
    ),
    p("cluster-require-full-coverage", None, Kind::Bool, "yes"),
    p("crash-log-enabled", None, Kind::Bool, "yes"),
    p("crash-memcheck-enabled", None, Kind::Bool, "yes"),
    p("daemonize", None, Kind::Immutable, "no"),
    p("databases", None, Kind::Immutable, "16"),
    p("dbfilename", None, Kind::Protected, "dump.rdb"),
    p("dir", None, Kind::Protected, "/data"),
    p("disable-thp", None, Kind::Immutable, "yes"),
    p("dynamic-hz", None, Kind::Bool, "yes"),
    p("enable-debug-command", None, Kind::Immutable, "no"),
    p("enable-module-command", None, Kind::Immutable, "no"),
    p("enable-protected-configs", None, Kind::Immutable, "no"),
    p(
        "hash-max-listpack-entries",
        Some("hash-max-ziplist-entries"),
        Kind::Int(0, i64::MAX),
        "512",
    ),
    p(
        "hash-max-listpack-value",
        Some("hash-max-ziplist-value"),
        Kind::Mem(0, I64_MAX),
        "64",
    ),
    p("hll-sparse-max-bytes", None, Kind::Mem(0, I64_MAX), "3000"),
    p("hz", None, Kind::Int(0, 2147483647), "10"),
    p("ignore-warnings", None, Kind::Str, ""),
    p("io-threads", None, Kind::Immutable, "1"),
    p("io-threads-do-reads", None, Kind::Immutable, "no"),
    p("jemalloc-bg-thread", None, Kind::Bool, "yes"),
    p(
        "latency-monitor-threshold",
        None,
        Kind::Int(0, i64::MAX),
        "0",
    ),
    p("latency-tracking", None, Kind::Bool, "yes"),
    p(
        "latency-tracking-info-percentiles",
        None,
        Kind::Percentiles,
        "50 99 99.9",
    ),
    p("lazyfree-lazy-eviction", None, Kind::Bool, "no"),
    p("lazyfree-lazy-expire", None, Kind::Bool, "no"),
    p("lazyfree-lazy-server-del", None, Kind::Bool, "no"),
    p("lazyfree-lazy-user-del", None, Kind::Bool, "no"),
    p("lazyfree-lazy-user-flush", None, Kind::Bool, "no"),
    p("lfu-decay-time", None, Kind::Int(0, 2147483647), "1"),
    p("lfu-log-factor", None, Kind::Int(0, 2147483647), "10"),
    p("list-compress-depth", None, Kind::Int(0, 2147483647), "0"),
    p(
        "list-max-listpack-size",
        Some("list-max-ziplist-size"),
        Kind::Int(-2147483648, 2147483647),
        "-2",
    ),
    p("logfile", None, Kind::Immutable, ""),
    p(
        "loglevel",
        None,
        Kind::Enum(&["debug", "verbose", "notice", "warning"]),
        "notice",
    ),
    p("masterauth", None, Kind::Str, ""),
    p("masteruser", None, Kind::Str, ""),
    p("maxclients", None, Kind::Int(1, 4294967295), "10000"),
    p("maxmemory", None, Kind::Mem(0, u64::MAX), "0"),
    p("maxmemory-clients", None, Kind::MemOrPercent, "0"),
    p("maxmemory-eviction-tenacity", None, Kind::Int(0, 100), "10"),
    p(
        "maxmemory-policy",
        None,
        Kind::Enum(&[
            "volatile-lru",
            "volatile-lfu",
            "volatile-random",
            "volatile-ttl",
            "allkeys-lru",
            "allkeys-lfu",
            "allkeys-random",
            "noeviction",
        ]),
        "noeviction",
    ),
    p("maxmemory-samples", None, Kind::Int(1, 2147483647), "5"),
    p(
        "min-replicas-max-lag",
        Some("min-slaves-max-lag"),
        Kind::Int(0, 2147483647),
        "10",
    ),
    p(
        "min-replicas-to-write",
        Some("min-slaves-to-write"),
        Kind::Int(0, 2147483647),
        "0",
    ),
    p("no-appendfsync-on-rewrite", None, Kind::Bool, "no"),
    p("notify-keyspace-events", None, Kind::NotifyEvents, ""),
    p(
        "oom-score-adj",
        None,
        Kind::Enum(&["no", "yes", "relative", "absolute"]),
        "no",
    ),
    p(
        "oom-score-adj-values",
        None,
        Kind::OomScoreAdjValues,
        "0 200 800",
    ),
    p("pidfile", None, Kind::Immutable, ""),
    p("port", None, Kind::Int(0, 65535), "6379"),
    p(
        "proc-title-template",
        None,
        Kind::Str,
        "{title} {listen-addr} {server-mode}",
    ),
    p(
        "propagation-error-behavior",
        None,
        Kind::Enum(&["ignore", "panic", "panic-on-replicas"]),
        "ignore",
    ),
    p("protected-mode", None, Kind::Bool, "yes"),
    p(
        "proto-max-bulk-len",
        None,
        Kind::Mem(1048576, I64_MAX),
        "536870912",
    ),
    p("rdb-del-sync-files", None, Kind::Bool, "no"),
    p("rdb-save-incremental-fsync", None, Kind::Bool, "yes"),
    p("rdbchecksum", None, Kind::Immutable, "yes"),
    p("rdbcompression", None, Kind::Bool, "yes"),
    p("repl-backlog-size", None, Kind::Mem(1, I64_MAX), "1048576"),
    p("repl-backlog-ttl", None, Kind::Int(0, i64::MAX), "3600"),
    p("repl-disable-tcp-nodelay", None, Kind::Bool, "no"),
    p(
        "repl-diskless-load",
        None,
        Kind::Enum(&["disabled", "on-empty-db", "swapdb"]),
        "disabled",
    ),
    p("repl-diskless-sync", None, Kind::Bool, "yes"),
    p(
        "repl-diskless-sync-delay",
        None,
        Kind::Int(0, 2147483647),
        "5",
    ),
    p(
        "repl-diskless-sync-max-replicas",
        None,
        Kind::Int(0, 2147483647),
        "0",
    ),
    p(
        "repl-ping-replica-period",
        Some("repl-ping-slave-period"),
        Kind::Int(1, 2147483647),
        "10",
    ),
    p("repl-timeout", None, Kind::Int(1, 2147483647), "60"),
    p(
        "replica-announce-ip",
        Some("slave-announce-ip"),
        Kind::Str,
        "",
    ),
    p(
        "replica-announce-port",
        Some("slave-announce-port"),
        Kind::Int(0, 65535),
        "0",
    ),
    p("replica-announced", None, Kind::Bool, "yes"),
    p("replica-ignore-disk-write-errors", None, Kind::Bool, "no"),
    p(
        "replica-ignore-maxmemory",
        Some("slave-ignore-maxmemory"),
        Kind::Bool,
        "yes",
    ),
    p(
        "replica-lazy-flush",
        Some("slave-lazy-flush"),
        Kind::Bool,
        "no",
    ),
    p(
        "replica-priority",
        Some("slave-priority"),
        Kind::Int(0, 2147483647),
        "100",
    ),
    p(
        "replica-read-only",
        Some("slave-read-only"),
        Kind::Bool,
        "yes",
    ),
    p(
        "replica-serve-stale-data",
        Some("slave-serve-stale-data"),
        Kind::Bool,
        "yes",
    ),
    p("replicaof", Some("slaveof"), Kind::Immutable, ""),
    p("requirepass", None, Kind::Str, ""),
    p(
        "sanitize-dump-payload",
        None,
        Kind::Enum(&["no", "yes", "clients"]),
        "no",
    ),
    p("save", None, Kind::Save, ""),
    p("server_cpulist", None, Kind::Immutable, ""),
    p(
        "set-max-intset-entries",
        None,
        Kind::Int(0, i64::MAX),
        "512",
    ),
    p("set-proc-title", None, Kind::Immutable, "yes"),
    p("shutdown-on-sigint", None, Kind::ShutdownFlags, "default"),
    p("shutdown-on-sigterm", None, Kind::ShutdownFlags, "default"),
    p("shutdown-timeout", None, Kind::Int(0, 2147483647), "10"),
    p(
        "slowlog-log-slower-than",
        None,
        Kind::Int(-1, i64::MAX),
        "10000",
    ),
    p("slowlog-max-len", None, Kind::Int(0, i64::MAX), "128"),
    p("socket-mark-id", None, Kind::Immutable, "0"),
    p("stop-writes-on-bgsave-error", None, Kind::Bool, "yes"),
    p("stream-node-max-bytes", None, Kind::Mem(0, I64_MAX), "4096"),
    p(
        "stream-node-max-entries",
        None,
        Kind::Int(0, i64::MAX),
        "100",
    ),
    p("supervised", None, Kind::Immutable, "no"),
    p("syslog-enabled", None, Kind::Immutable, "no"),
    p("syslog-facility", None, Kind::Immutable, "local0"),
    p("syslog-ident", None, Kind::Immutable, "redis"),
    p("tcp-backlog", None, Kind::Immutable, "511"),
    p("tcp-keepalive", None, Kind::Int(0, 2147483647), "300"),
    p("timeout", None, Kind::Int(0, 2147483647), "0"),
    p(
        "tls-auth-clients",
        None,
        Kind::Enum(&["no", "yes", "optional"]),
        "yes",
    ),
    p("tls-ca-cert-dir", None, Kind::Str, ""),
    p("tls-ca-cert-file", None, Kind::Str, ""),
    p("tls-cert-file", None, Kind::Str, ""),
    p("tls-ciphers", None, Kind::Str, ""),
    p("tls-ciphersuites", None, Kind::Str, ""),
    p("tls-client-cert-file", None, Kind::Str, ""),
    p("tls-client-key-file", None, Kind::Str, ""),
    p("tls-client-key-file-pass", None, Kind::Str, ""),
    p("tls-cluster", None, Kind::Bool, "no"),
    p("tls-dh-params-file", None, Kind::Str, ""),
    p("tls-key-file", None, Kind::Str, ""),
    p("tls-key-file-pass", None, Kind::Str, ""),
    p("tls-port", None, Kind::Int(0, 65535), "0"),
    p("tls-prefer-server-ciphers", None, Kind::Bool, "no"),
    p("tls-protocols", None, Kind::Str, ""),
    p("tls-replication", None, Kind::Bool, "no"),
    p(
        "tls-session-cache-size",
        None,
        Kind::Int(0, 2147483647),
        "20480",
    ),
    p(
        "tls-session-cache-timeout",
        None,
        Kind::Int(0, 2147483647),
        "300",
    ),
    p("tls-session-caching", None, Kind::Bool, "yes"),
    p(
        "tracking-table-max-keys",
        None,
        Kind::Int(0, i64::MAX),
        "1000000",
    ),
    p("unixsocket", None, Kind::Immutable, ""),
    p("unixsocketperm", None, Kind::Immutable, "0"),
    p(
        "zset-max-listpack-entries",
        Some("zset-max-ziplist-entries"),
        Kind::Int(0, i64::MAX),
        "128",
    ),
    p(
        "zset-max-listpack-value",
        Some("zset-max-ziplist-value"),
        Kind::Mem(0, I64_MAX),
        "64",
    ),
    hidden("key-load-delay", Kind::Int(-2147483648, 2147483647), "0"),
    hidden(
        "loading-process-events-interval-bytes",
        Kind::Int(1024, 2147483647),
        "2097152",
    ),
    hidden(
        "rdb-key-save-delay",
        Kind::Int(-2147483648, 2147483647),
        "0",
    ),
    hidden("use-exit-on-panic", Kind::Bool, "no"),
    hidden("watchdog-period", Kind::Int(0, 2147483647), "0"),
];

/// Finds a parameter by canonical name or alias, ignoring case.
pub fn lookup(name: &[u8]) -> Option<&'static Param> {
    PARAMS.iter().find(|p| {
        p.name.as_bytes().eq_ignore_ascii_case(name)
            || p.alias
                .is_some_and(|a| a.as_bytes().eq_ignore_ascii_case(name))
    })
}

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
    /// `notify-keyspace-events` as flag bits. Kept apart from the string because Redis's
    /// string drops `n` when `A` is present, while the `new` events stay enabled.
    pub notify_flags: u32,
    /// `lfu-log-factor`.
    pub lfu_log_factor: i64,
    /// `lfu-decay-time`.
    pub lfu_decay_time: i64,
    /// `hz`.
    pub hz: i64,
    /// `proto-max-bulk-len`.
    pub proto_max_bulk_len: u64,
    /// `timeout`: idle seconds before a client is closed (0: never).
    pub timeout: i64,
    /// `maxclients`.
    pub maxclients: i64,
    /// `appendonly`.
    pub appendonly: bool,
    /// `lazyfree-lazy-eviction`.
    pub lazyfree_lazy_eviction: bool,
    /// `lazyfree-lazy-expire`.
    pub lazyfree_lazy_expire: bool,
    /// `lazyfree-lazy-server-del`.
    pub lazyfree_lazy_server_del: bool,
    /// `lazyfree-lazy-user-del`.
    pub lazyfree_lazy_user_del: bool,
    /// `save`, as CONFIG GET prints it (`3600 1 300 100`, empty when off).
    pub save: String,
    /// `port`.
    pub port: i64,
    /// `bind`, space-separated addresses.
    pub bind: String,
    /// Whether a config file being read has had a `save` line yet: the first one replaces
    /// the default rules, later ones add to them.
    save_loaded: bool,
    /// Every other parameter by canonical name, as CONFIG GET prints it.
    others: HashMap<&'static str, String>,
    /// Parameters every command reads, parsed from their text in `others` whenever it changes
    /// (a lookup and a parse per command cost more than the command itself).
    hot: Hot,
}

/// See [`Config::slowlog_log_slower_than`] and its neighbours.
#[derive(Clone, Copy, Debug, Default)]
struct Hot {
    slowlog_log_slower_than: i64,
    latency_monitor_threshold: i64,
    latency_tracking: bool,
    min_replicas_to_write: i64,
    min_replicas_max_lag: i64,
}

impl Default for Config {
    fn default() -> Self {
        let typed = |name: &str| TYPED.contains(&name);
        let mut c = Config {
            databases: 16,
            maxmemory: 0,
            maxmemory_policy: "noeviction".into(),
            list_max_listpack_size: -2,
            list_compress_depth: 0,
            hash_max_listpack_entries: 512,
            hash_max_listpack_value: 64,
            set_max_intset_entries: 512,
            zset_max_listpack_entries: 128,
            zset_max_listpack_value: 64,
            notify_keyspace_events: String::new(),
            notify_flags: 0,
            lfu_log_factor: 10,
            lfu_decay_time: 1,
            hz: 10,
            proto_max_bulk_len: 512 * 1024 * 1024,
            timeout: 0,
            maxclients: 10000,
            appendonly: false,
            lazyfree_lazy_eviction: false,
            lazyfree_lazy_expire: false,
            lazyfree_lazy_server_del: false,
            lazyfree_lazy_user_del: false,
            // Nothing here snapshots on a timer, so no save points (as the oracle runs with --save '').
            save: String::new(),
            port: 6379,
            bind: "* -::*".into(),
            save_loaded: false,
            others: PARAMS
                .iter()
                .filter(|p| !typed(p.name))
                .map(|p| (p.name, p.default.to_string()))
                .collect(),
            hot: Hot::default(),
        };
        c.refresh_hot();
        c
    }
}

/// Parameters held in typed fields rather than in `others`.
const TYPED: &[&str] = &[
    "databases",
    "maxmemory",
    "maxmemory-policy",
    "list-max-listpack-size",
    "list-compress-depth",
    "hash-max-listpack-entries",
    "hash-max-listpack-value",
    "set-max-intset-entries",
    "zset-max-listpack-entries",
    "zset-max-listpack-value",
    "notify-keyspace-events",
    "lfu-log-factor",
    "lfu-decay-time",
    "hz",
    "proto-max-bulk-len",
    "timeout",
    "maxclients",
    "appendonly",
    "lazyfree-lazy-eviction",
    "lazyfree-lazy-expire",
    "lazyfree-lazy-server-del",
    "lazyfree-lazy-user-del",
    "save",
    "port",
    "bind",
];

fn yes_no(b: bool) -> String {
    if b { "yes" } else { "no" }.to_string()
}

fn to_usize(v: i64) -> usize {
    usize::try_from(v).unwrap_or(usize::MAX)
}

impl Config {
    /// `template` (proc-title-template) expanded as redis-server expands it: `{title}` (the
    /// program as it was started), `{listen-addr}`, `{server-mode}`, `{port}`, `{tls-port}`,
    /// `{unixsocket}`, `{config-file}` (`-` without one); `{{` is a literal brace. None when
    /// a variable is unknown or a brace is left open. Spaces around the result are trimmed.
    pub fn proc_title(
        &self,
        template: &str,
        title: &str,
        config_file: Option<&str>,
    ) -> Option<String> {
        let unixsocket = self.get_named("unixsocket");
        let value = |name: &str| -> Option<String> {
            Some(match name {
                "title" => title.to_string(),
                "listen-addr" if self.port != 0 => {
                    let first = self.bind.split(' ').find(|w| !w.is_empty()).unwrap_or("*");
                    format!("{first}:{}", self.port)
                }
                "listen-addr" => format!("unixsocket:{unixsocket}"),
                "server-mode" if self.get_named("cluster-enabled") == "yes" => "[cluster]".into(),
                "server-mode" => String::new(),
                "config-file" => config_file.unwrap_or("-").to_string(),
                "port" => self.port.to_string(),
                "tls-port" => "0".to_string(),
                "unixsocket" => unixsocket.to_string(),
                _ => return None,
            })
        };
        let mut out = String::new();
        let mut rest = template;
        while let Some(open) = rest.find('{') {
            out.push_str(&rest[..open]);
            let after = &rest[open + 1..];
            if let Some(quoted) = after.strip_prefix('{') {
                out.push('{');
                rest = quoted;
                continue;
            }
            if after.is_empty() {
                return None;
            }
            let close = after.find('}')?;
            out.push_str(&value(&after[..close])?);
            rest = &after[close + 1..];
        }
        out.push_str(rest);
        Some(out.trim_matches(' ').to_string())
    }

    /// Number of databases.
    pub fn databases(&self) -> usize {
        self.databases
    }

    /// Sets the number of databases (only at start, as in Redis).
    pub fn set_databases(&mut self, n: usize) {
        self.databases = n;
    }

    /// The default user's password (`requirepass`); empty when none is set.
    pub fn requirepass(&self) -> &str {
        self.others.get("requirepass").map_or("", String::as_str)
    }

    /// A parameter kept as text, as CONFIG GET prints it (empty when unknown).
    /// The hard output-buffer limit of normal clients in bytes (0: none).
    pub fn normal_obuf_hard_limit(&self) -> u64 {
        let text = self.get_named("client-output-buffer-limit");
        let words: Vec<&str> = text.split_whitespace().collect();
        words
            .chunks_exact(4)
            .find(|c| c[0] == "normal")
            .and_then(|c| c[1].parse().ok())
            .unwrap_or(0)
    }

    pub fn get_named(&self, name: &str) -> &str {
        self.others.get(name).map_or("", String::as_str)
    }

    /// `slowlog-log-slower-than`, in microseconds (negative: the slow log is off).
    pub fn slowlog_log_slower_than(&self) -> i64 {
        self.hot.slowlog_log_slower_than
    }

    /// `latency-monitor-threshold`, in milliseconds (0: the latency monitor is off).
    pub fn latency_monitor_threshold(&self) -> i64 {
        self.hot.latency_monitor_threshold
    }

    /// `latency-tracking`: whether each command's latency histogram is kept.
    pub fn latency_tracking(&self) -> bool {
        self.hot.latency_tracking
    }

    /// `latency-tracking-info-percentiles`: each percentile as CONFIG GET shows it (which is
    /// how INFO latencystats labels it) with its value.
    pub fn latency_percentiles(&self) -> Vec<(String, f64)> {
        self.get_named("latency-tracking-info-percentiles")
            .split_whitespace()
            .filter_map(|w| Some((w.to_string(), crate::util::parse_f64(w.as_bytes())?)))
            .collect()
    }

    /// `min-replicas-to-write` (0: writes never wait for replicas); every write asks.
    pub fn min_replicas_to_write(&self) -> i64 {
        self.hot.min_replicas_to_write
    }

    /// `min-replicas-max-lag`, in seconds.
    pub fn min_replicas_max_lag(&self) -> i64 {
        self.hot.min_replicas_max_lag
    }

    /// Parses the parameters of [`Hot`] from their text.
    fn refresh_hot(&mut self) {
        self.hot = Hot {
            slowlog_log_slower_than: self.int_param("slowlog-log-slower-than"),
            latency_monitor_threshold: self.int_param("latency-monitor-threshold"),
            latency_tracking: self.get_named("latency-tracking") == "yes",
            min_replicas_to_write: self.int_param("min-replicas-to-write"),
            min_replicas_max_lag: self.int_param("min-replicas-max-lag"),
        };
    }

    /// An integer parameter kept as text (`slowlog-max-len` ...); 0 when it does not parse.
    pub fn int_param(&self, name: &str) -> i64 {
        self.others
            .get(name)
            .and_then(|v| v.parse::<i64>().ok())
            .unwrap_or(0)
    }

    /// `tracking-table-max-keys`: how many keys CLIENT TRACKING may remember (0: no limit).
    pub fn tracking_table_max_keys(&self) -> usize {
        self.others
            .get("tracking-table-max-keys")
            .and_then(|v| v.parse::<u64>().ok())
            .map_or(1_000_000, |v| usize::try_from(v).unwrap_or(usize::MAX))
    }

    /// Sets a parameter the host decides at start-up (`dir`, `dbfilename`), which CONFIG SET
    /// refuses to change; false for an unknown name.
    pub fn set_at_startup(&mut self, name: &str, value: &str) -> bool {
        match lookup(name.as_bytes()) {
            Some(p) => {
                self.store(p.name, value.to_string());
                true
            }
            None => false,
        }
    }

    /// `rdbcompression`: whether snapshots and DUMP compress long strings with LZF.
    pub fn rdb_compression(&self) -> bool {
        self.others.get("rdbcompression").is_none_or(|v| v == "yes")
    }

    /// `stream-node-max-bytes`: the size a stream node may reach before a new one starts.
    pub fn stream_node_max_bytes(&self) -> u64 {
        self.others
            .get("stream-node-max-bytes")
            .and_then(|v| parse_memory(v.as_bytes()))
            .unwrap_or(4096)
    }

    /// `stream-node-max-entries`: entries (live or deleted) per stream node (0: no limit).
    pub fn stream_node_max_entries(&self) -> u64 {
        self.others
            .get("stream-node-max-entries")
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(100)
    }

    /// Whether the eviction policy is an LFU one (OBJECT FREQ needs it).
    pub fn lfu_policy(&self) -> bool {
        self.maxmemory_policy.ends_with("-lfu")
    }

    /// Whether keyspace notifications include the class character `c` (`K`, `E`, `g`, `$`,
    /// ...); `A` in the stored string stands for every data class.
    pub fn notify_has(&self, c: char) -> bool {
        notify_bit(c).is_some_and(|bit| self.notify_flags & bit == bit)
    }

    /// Where an event of class `c` goes: (to `__keyspace@<db>__:<key>`, to
    /// `__keyevent@<db>__:<event>`); both false when the class is off or neither channel kind
    /// is enabled.
    pub fn notify_targets(&self, c: char) -> (bool, bool) {
        let flags = self.notify_flags;
        let on = notify_bit(c).is_some_and(|bit| flags & bit == bit);
        (
            on && flags & NOTIFY_KEYSPACE != 0,
            on && flags & NOTIFY_KEYEVENT != 0,
        )
    }

    /// The value CONFIG GET prints for `param`.
    pub fn get(&self, param: &Param) -> String {
        match param.name {
            "databases" => self.databases.to_string(),
            "maxmemory" => self.maxmemory.to_string(),
            "maxmemory-policy" => self.maxmemory_policy.clone(),
            "list-max-listpack-size" => self.list_max_listpack_size.to_string(),
            "list-compress-depth" => self.list_compress_depth.to_string(),
            "hash-max-listpack-entries" => self.hash_max_listpack_entries.to_string(),
            "hash-max-listpack-value" => self.hash_max_listpack_value.to_string(),
            "set-max-intset-entries" => self.set_max_intset_entries.to_string(),
            "zset-max-listpack-entries" => self.zset_max_listpack_entries.to_string(),
            "zset-max-listpack-value" => self.zset_max_listpack_value.to_string(),
            "notify-keyspace-events" => self.notify_keyspace_events.clone(),
            "lfu-log-factor" => self.lfu_log_factor.to_string(),
            "lfu-decay-time" => self.lfu_decay_time.to_string(),
            "hz" => self.hz.to_string(),
            "proto-max-bulk-len" => self.proto_max_bulk_len.to_string(),
            "timeout" => self.timeout.to_string(),
            "maxclients" => self.maxclients.to_string(),
            "appendonly" => yes_no(self.appendonly),
            "lazyfree-lazy-eviction" => yes_no(self.lazyfree_lazy_eviction),
            "lazyfree-lazy-expire" => yes_no(self.lazyfree_lazy_expire),
            "lazyfree-lazy-server-del" => yes_no(self.lazyfree_lazy_server_del),
            "lazyfree-lazy-user-del" => yes_no(self.lazyfree_lazy_user_del),
            "save" => self.save.clone(),
            "port" => self.port.to_string(),
            "bind" => self.bind.clone(),
            name => self.others.get(name).cloned().unwrap_or_default(),
        }
    }

    /// Validates `raw` for `param` and stores it. The error is the reason CONFIG SET appends
    /// after `CONFIG SET failed (possibly related to argument '...') - `.
    pub fn set(&mut self, param: &Param, raw: &[u8]) -> Result<(), String> {
        let text = String::from_utf8_lossy(raw).into_owned();
        let canonical = match param.kind {
            Kind::Immutable => return Err("can't set immutable config".into()),
            // CONFIG SET checked that protected parameters may change (see the command).
            Kind::Protected => {
                if param.name == "dbfilename" && (text.contains('/') || text.contains('\\')) {
                    return Err("dbfilename can't be a path, just a filename".into());
                }
                text
            }
            Kind::Bool => match text.to_ascii_lowercase().as_str() {
                "yes" => "yes".to_string(),
                "no" => "no".to_string(),
                _ => return Err("argument must be 'yes' or 'no'".into()),
            },
            Kind::Int(min, max) => {
                let v = crate::util::parse_i64(raw)
                    .ok_or("argument couldn't be parsed into an integer")?;
                if v < min || v > max {
                    return Err(format!(
                        "argument must be between {} and {} inclusive",
                        min, max
                    ));
                }
                v.to_string()
            }
            Kind::Mem(min, max) => {
                let v = parse_memory(raw).ok_or("argument must be a memory value")?;
                if v < min || v > max {
                    return Err(format!(
                        "argument must be between {} and {} inclusive",
                        min, max
                    ));
                }
                v.to_string()
            }
            Kind::MemOrPercent => parse_mem_or_percent(raw)?,
            Kind::Enum(options) => {
                let lower = text.to_ascii_lowercase();
                match options.iter().find(|o| **o == lower) {
                    Some(o) => o.to_string(),
                    None => {
                        return Err(format!(
                            "argument(s) must be one of the following: {}",
                            options.join(", ")
                        ))
                    }
                }
            }
            Kind::Str if param.name == "bind" && text.split(' ').count() > 16 => {
                return Err("Too many bind addresses specified.".into())
            }
            // As redis-server: every variable known, and something left once expanded with
            // an empty title.
            Kind::Str
                if param.name == "proc-title-template"
                    && self
                        .proc_title(&text, "", None)
                        .is_none_or(|t| t.is_empty()) =>
            {
                return Err("template format is invalid or contains unknown variables".into())
            }
            Kind::Str => text,
            Kind::Save => parse_save(raw).ok_or("Invalid save parameters")?,
            Kind::NotifyEvents => {
                let flags = parse_notify(raw)
                    .ok_or("Invalid event class character. Use 'Ag$lshzxeKEtmdn'.")?;
                self.notify_flags = flags;
                notify_string(flags)
            }
            Kind::ClientOutputBufferLimit => self.client_output_buffer_limit(raw)?,
            Kind::Percentiles => parse_percentiles(raw)?,
            Kind::OomScoreAdjValues => parse_oom_values(raw)?,
            Kind::ShutdownFlags => parse_shutdown_flags(raw)?,
        };
        self.store(param.name, canonical);
        Ok(())
    }

    /// Reads one directive of a config file (or of the command line, which redis-server
    /// reads as more lines of it): `args` are the words after the name. Unlike CONFIG SET this
    /// also sets the parameters fixed at start-up, takes several words for the multi-word
    /// parameters (`save 900 1 300 10`, or all of them quoted as one word), and adds the rules
    /// of each `save` line to those of the lines before. The error is the reason redis-server
    /// prints under the offending line.
    pub fn load(&mut self, param: &Param, args: &[Vec<u8>]) -> Result<(), String> {
        const WRONG_ARITY: &str = "wrong number of arguments";
        if !MULTI_WORD.contains(&param.name) {
            let [value] = args else {
                return Err(WRONG_ARITY.into());
            };
            return match startup_kind(param) {
                Some(kind) => {
                    let stored = validate_startup(param.name, kind, value)?;
                    self.store(param.name, stored);
                    Ok(())
                }
                None => self.set(param, value),
            };
        }
        // One non-empty word holding them all is split as the line itself would be.
        let split;
        let words: &[Vec<u8>] = match args {
            [one] if !one.is_empty() => {
                split = crate::protocol::inline::split_args(one)
                    .map_err(|_| "Unbalanced quotes in configuration line".to_string())?;
                &split
            }
            _ => args,
        };
        match param.name {
            "save" => {
                let words: &[Vec<u8>] = match words {
                    [one] if one.is_empty() => &[],
                    w => w,
                };
                let joined = words.join(&b' ');
                let rules = parse_save(&joined).ok_or("Invalid save parameters")?;
                // `save ""` clears every rule; the first line replaces the default rules.
                self.save = if self.save_loaded && !words.is_empty() && !self.save.is_empty() {
                    format!("{} {rules}", self.save)
                } else {
                    rules
                };
                self.save_loaded = true;
                Ok(())
            }
            "bind" => {
                if words.len() > 16 {
                    return Err("Too many bind addresses specified.".into());
                }
                let addrs: Vec<String> = match words {
                    [one] if one.is_empty() => Vec::new(),
                    w => w
                        .iter()
                        .map(|a| String::from_utf8_lossy(a).into_owned())
                        .collect(),
                };
                self.bind = addrs.join(" ");
                Ok(())
            }
            "replicaof" => {
                let [host, port] = words else {
                    return Err(WRONG_ARITY.into());
                };
                if host.eq_ignore_ascii_case(b"no") && port.eq_ignore_ascii_case(b"one") {
                    self.store(param.name, String::new());
                    return Ok(());
                }
                let port = crate::util::parse_i64(port)
                    .filter(|p| (0..=65535).contains(p))
                    .ok_or("Invalid master port")?;
                self.store(
                    param.name,
                    format!("{} {port}", String::from_utf8_lossy(host)),
                );
                Ok(())
            }
            _ => self.set(param, &words.join(&b' ')),
        }
    }

    /// Puts a validated value into its typed field or the text table.
    fn store(&mut self, name: &'static str, v: String) {
        let int = || crate::util::parse_i64(v.as_bytes()).unwrap_or(0);
        match name {
            "maxmemory" => self.maxmemory = v.parse().unwrap_or(0),
            "maxmemory-policy" => self.maxmemory_policy = v,
            "list-max-listpack-size" => self.list_max_listpack_size = int(),
            "list-compress-depth" => self.list_compress_depth = int(),
            "hash-max-listpack-entries" => self.hash_max_listpack_entries = to_usize(int()),
            "hash-max-listpack-value" => self.hash_max_listpack_value = to_usize(int()),
            "set-max-intset-entries" => self.set_max_intset_entries = to_usize(int()),
            "zset-max-listpack-entries" => self.zset_max_listpack_entries = to_usize(int()),
            "zset-max-listpack-value" => self.zset_max_listpack_value = to_usize(int()),
            "notify-keyspace-events" => self.notify_keyspace_events = v,
            "lfu-log-factor" => self.lfu_log_factor = int(),
            "lfu-decay-time" => self.lfu_decay_time = int(),
            // Redis accepts any non-negative hz and then keeps it within 1..=500.
            "hz" => self.hz = int().clamp(1, 500),
            "proto-max-bulk-len" => self.proto_max_bulk_len = v.parse().unwrap_or(0),
            "timeout" => self.timeout = int(),
            "maxclients" => self.maxclients = int(),
            "appendonly" => self.appendonly = v == "yes",
            "lazyfree-lazy-eviction" => self.lazyfree_lazy_eviction = v == "yes",
            "lazyfree-lazy-expire" => self.lazyfree_lazy_expire = v == "yes",
            "lazyfree-lazy-server-del" => self.lazyfree_lazy_server_del = v == "yes",
            "lazyfree-lazy-user-del" => self.lazyfree_lazy_user_del = v == "yes",
            "save" => self.save = v,
            "port" => self.port = int(),
            "bind" => self.bind = v,
            _ => {
                self.others.insert(name, v);
                self.refresh_hot();
            }
        }
    }

    /// Parses `class hard soft seconds` groups and merges them into the current limits, which
    /// keep their value for the classes not named.
    fn client_output_buffer_limit(&self, raw: &[u8]) -> Result<String, String> {
        let text = String::from_utf8_lossy(raw);
        let words: Vec<&str> = text.split_whitespace().collect();
        if !words.len().is_multiple_of(4) {
            return Err("Wrong number of arguments in buffer limit configuration.".into());
        }
        let current = self
            .others
            .get("client-output-buffer-limit")
            .cloned()
            .unwrap_or_default();
        let mut classes: Vec<(String, [u64; 3])> = current
            .split(' ')
            .collect::<Vec<_>>()
            .chunks(4)
            .filter(|c| c.len() == 4)
            .map(|c| {
                let n = |s: &str| s.parse().unwrap_or(0);
                (c[0].to_string(), [n(c[1]), n(c[2]), n(c[3])])
            })
            .collect();
        for group in words.chunks(4) {
            let class = match group[0].to_ascii_lowercase().as_str() {
                "normal" => "normal",
                "slave" | "replica" => "slave",
                "pubsub" => "pubsub",
                _ => {
                    return Err(
                        "Invalid client class specified in buffer limit configuration.".into(),
                    )
                }
            };
            let hard = parse_memory(group[1].as_bytes());
            let soft = parse_memory(group[2].as_bytes());
            let secs = crate::util::parse_i64(group[3].as_bytes()).filter(|s| *s >= 0);
            let (Some(hard), Some(soft), Some(secs)) = (hard, soft, secs) else {
                return Err(
                    "Error in hard, soft or soft_seconds setting in buffer limit configuration."
                        .into(),
                );
            };
            if let Some(slot) = classes.iter_mut().find(|(c, _)| c == class) {
                slot.1 = [hard, soft, secs as u64];
            }
        }
        Ok(classes
            .iter()
            .map(|(c, v)| format!("{} {} {} {}", c, v[0], v[1], v[2]))
            .collect::<Vec<_>>()
            .join(" "))
    }
}

/// Parameters a config line gives as several words (`save 900 1 300 10`, `bind a b`).
const MULTI_WORD: &[&str] = &[
    "save",
    "client-output-buffer-limit",
    "oom-score-adj-values",
    "bind",
    "replicaof",
    "latency-tracking-info-percentiles",
    "shutdown-on-sigint",
    "shutdown-on-sigterm",
];

/// How a parameter CONFIG SET refuses to change (fixed at start-up, or protected) is read
/// from a config file; `None` for the others, read as CONFIG SET reads them.
fn startup_kind(param: &Param) -> Option<Kind> {
    const ACTION: Kind = Kind::Enum(&["no", "yes", "local"]);
    if !matches!(param.kind, Kind::Immutable | Kind::Protected) {
        return None;
    }
    Some(match param.name {
        "always-show-logo"
        | "cluster-enabled"
        | "daemonize"
        | "disable-thp"
        | "io-threads-do-reads"
        | "rdbchecksum"
        | "set-proc-title"
        | "syslog-enabled" => Kind::Bool,
        "databases" | "tcp-backlog" => {
            Kind::Int(if param.name == "databases" { 1 } else { 0 }, 2147483647)
        }
        "io-threads" => Kind::Int(1, 128),
        "cluster-port" => Kind::Int(0, 65535),
        "socket-mark-id" => Kind::Int(0, 4294967295),
        "enable-debug-command" | "enable-module-command" | "enable-protected-configs" => ACTION,
        "supervised" => Kind::Enum(&["upstart", "systemd", "auto", "no"]),
        "syslog-facility" => Kind::Enum(&[
            "user", "local0", "local1", "local2", "local3", "local4", "local5", "local6", "local7",
        ]),
        _ => Kind::Str,
    })
}

/// A value for a parameter fixed at start-up, checked as redis-server checks it when reading
/// its config file; the text CONFIG GET then prints.
fn validate_startup(name: &str, kind: Kind, raw: &[u8]) -> Result<String, String> {
    let base_name = |what: &str, noun: &str| -> Result<String, String> {
        if raw.is_empty() && what != "dbfilename" {
            return Err(format!("{what} can't be empty"));
        }
        if raw.contains(&b'/') {
            return Err(format!("{what} can't be a path, just a {noun}"));
        }
        Ok(String::from_utf8_lossy(raw).into_owned())
    };
    match name {
        "dbfilename" => return base_name(name, "filename"),
        "appendfilename" => return base_name(name, "filename"),
        "appenddirname" => return base_name(name, "dirname"),
        "unixsocketperm" => {
            // An octal number (as strtoll reads one, sign included), shown in octal.
            let text = std::str::from_utf8(raw).unwrap_or("");
            let v = i64::from_str_radix(text, 8)
                .map_err(|_| "argument couldn't be parsed as an octal number")?;
            if !(0..=0o777).contains(&v) {
                return Err("argument must be between 0 and 777 inclusive".into());
            }
            return Ok(format!("{v:o}"));
        }
        _ => {}
    }
    let mut scratch = Config::default();
    let param = Param {
        name: "startup",
        alias: None,
        kind,
        default: "",
        hidden: true,
    };
    scratch.set(&param, raw)?;
    Ok(scratch.get(&param))
}

/// Redis's `memtoull`: decimal digits and an optional unit (`b`, `k`, `kb`, `m`, `mb`, `g`,
/// `gb`, any case; `k` is 1000 and `kb` 1024). No sign, no spaces, no fraction. An empty
/// number counts as 0, and an over-long one saturates before the unit multiplies it, as
/// strtoull does.
pub fn parse_memory(raw: &[u8]) -> Option<u64> {
    let digits = raw.iter().take_while(|c| c.is_ascii_digit()).count();
    let unit = raw[digits..].to_ascii_lowercase();
    let mul: u64 = match unit.as_slice() {
        b"" | b"b" => 1,
        b"k" => 1000,
        b"kb" => 1024,
        b"m" => 1000 * 1000,
        b"mb" => 1024 * 1024,
        b"g" => 1000 * 1000 * 1000,
        b"gb" => 1024 * 1024 * 1024,
        _ => return None,
    };
    let mut v: u64 = 0;
    for &c in &raw[..digits] {
        v = v
            .checked_mul(10)
            .and_then(|v| v.checked_add(u64::from(c - b'0')))
            .unwrap_or(u64::MAX);
    }
    Some(v.wrapping_mul(mul))
}

fn parse_mem_or_percent(raw: &[u8]) -> Result<String, String> {
    const BAD: &str = "argument must be a memory or percent value";
    if let Some(num) = raw.strip_suffix(b"%") {
        let v = crate::util::parse_i64(num).filter(|v| *v >= 0).ok_or(BAD)?;
        if v > 100 {
            return Err("percentage argument must be less or equal to 100".into());
        }
        return Ok(format!("{}%", v));
    }
    let v = parse_memory(raw).ok_or(BAD)?;
    if v > I64_MAX {
        return Err(format!(
            "argument must be between 0 and {} inclusive",
            I64_MAX
        ));
    }
    Ok(v.to_string())
}

/// The shutdown flags in the order CONFIG GET lists them; `default` is none of them.
const SHUTDOWN_FLAGS: [&str; 4] = ["save", "nosave", "now", "force"];

/// `default`, or flags separated by single spaces; CONFIG GET lists the flags set, in
/// [`SHUTDOWN_FLAGS`] order.
fn parse_shutdown_flags(raw: &[u8]) -> Result<String, String> {
    let mut set = [false; 4];
    let words: Vec<&[u8]> = if raw.is_empty() {
        Vec::new()
    } else {
        raw.split(|&c| c == b' ').collect()
    };
    if words.is_empty() {
        return Err(SHUTDOWN_FLAGS_ERR.into());
    }
    for w in words {
        if w.eq_ignore_ascii_case(b"default") {
            continue;
        }
        let i = SHUTDOWN_FLAGS
            .iter()
            .position(|f| f.as_bytes().eq_ignore_ascii_case(w))
            .ok_or(SHUTDOWN_FLAGS_ERR)?;
        set[i] = true;
    }
    if set[0] && set[1] {
        return Err("shutdown options SAVE and NOSAVE can't be used simultaneously".into());
    }
    let names: Vec<&str> = SHUTDOWN_FLAGS
        .iter()
        .zip(set)
        .filter(|(_, on)| *on)
        .map(|(f, _)| *f)
        .collect();
    Ok(if names.is_empty() {
        "default".into()
    } else {
        names.join(" ")
    })
}

const SHUTDOWN_FLAGS_ERR: &str =
    "argument(s) must be one of the following: default, save, nosave, now, force";

/// `save`: empty, or space-separated pairs `seconds changes` with seconds >= 1.
fn parse_save(raw: &[u8]) -> Option<String> {
    if raw.is_empty() {
        return Some(String::new());
    }
    let words: Vec<&[u8]> = raw.split(|&c| c == b' ').collect();
    if !words.len().is_multiple_of(2) {
        return None;
    }
    for pair in words.chunks(2) {
        let secs = crate::util::parse_i64(pair[0])?;
        let changes = crate::util::parse_i64(pair[1])?;
        if secs < 1 || changes < 0 {
            return None;
        }
    }
    Some(String::from_utf8_lossy(raw).into_owned())
}

fn parse_percentiles(raw: &[u8]) -> Result<String, String> {
    let text = String::from_utf8_lossy(raw);
    let mut out = Vec::new();
    for w in text.split_whitespace() {
        let v = crate::util::parse_f64(w.as_bytes())
            .ok_or("Invalid latency-tracking-info-percentiles parameters")?;
        if !(0.0..=100.0).contains(&v) {
            return Err(
                "latency-tracking-info-percentiles parameters should sit between [0.0,100.0]"
                    .into(),
            );
        }
        out.push(percentile_text(v));
    }
    Ok(out.join(" "))
}

/// A percentile as CONFIG GET shows it: six decimals (C's `%f`), then no trailing zeros and no
/// trailing point (`99.9`, `50`, `33.333333`).
fn percentile_text(v: f64) -> String {
    let mut s = format!("{:.6}", v);
    if s.contains('.') {
        let keep = s.trim_end_matches('0').trim_end_matches('.').len();
        s.truncate(keep);
    }
    s
}

fn parse_oom_values(raw: &[u8]) -> Result<String, String> {
    let text = String::from_utf8_lossy(raw);
    let words: Vec<&str> = text.split_whitespace().collect();
    if words.len() != 3 {
        return Err("wrong number of arguments".into());
    }
    let mut vals = Vec::new();
    for w in words {
        match crate::util::parse_i64(w.as_bytes()) {
            Some(v) if (-2000..=2000).contains(&v) => vals.push(v.to_string()),
            _ => {
                return Err(
                    "Invalid oom-score-adj-values, elements must be between -2000 and 2000.".into(),
                )
            }
        }
    }
    Ok(vals.join(" "))
}

/// Classes in the order CONFIG GET prints them, with their bits.
const NOTIFY_CLASSES: &[(char, u32)] = &[
    ('g', 1 << 2),
    ('$', 1 << 3),
    ('l', 1 << 4),
    ('s', 1 << 5),
    ('h', 1 << 6),
    ('z', 1 << 7),
    ('x', 1 << 8),
    ('e', 1 << 9),
    ('t', 1 << 10),
    ('d', 1 << 13),
    ('n', 1 << 14),
];
const NOTIFY_KEYSPACE: u32 = 1;
const NOTIFY_KEYEVENT: u32 = 1 << 1;
const NOTIFY_KEY_MISS: u32 = 1 << 11;
/// What `A` stands for: every data class except key-miss and new-key events.
const NOTIFY_ALL: u32 = (1 << 2)
    | (1 << 3)
    | (1 << 4)
    | (1 << 5)
    | (1 << 6)
    | (1 << 7)
    | (1 << 8)
    | (1 << 9)
    | (1 << 10)
    | (1 << 13);

fn notify_bit(c: char) -> Option<u32> {
    match c {
        'A' => Some(NOTIFY_ALL),
        'K' => Some(NOTIFY_KEYSPACE),
        'E' => Some(NOTIFY_KEYEVENT),
        'm' => Some(NOTIFY_KEY_MISS),
        _ => NOTIFY_CLASSES
            .iter()
            .find(|(k, _)| *k == c)
            .map(|(_, b)| *b),
    }
}

fn parse_notify(raw: &[u8]) -> Option<u32> {
    raw.iter()
        .try_fold(0, |acc, &c| Some(acc | notify_bit(char::from(c))?))
}

fn notify_string(flags: u32) -> String {
    let mut s = String::new();
    if flags & NOTIFY_ALL == NOTIFY_ALL {
        s.push('A');
    } else {
        for (c, bit) in NOTIFY_CLASSES {
            if flags & bit != 0 {
                s.push(*c);
            }
        }
    }
    if flags & NOTIFY_KEYSPACE != 0 {
        s.push('K');
    }
    if flags & NOTIFY_KEYEVENT != 0 {
        s.push('E');
    }
    if flags & NOTIFY_KEY_MISS != 0 {
        s.push('m');
    }
    s
}

/// The snapshot rules of a `save` value: (seconds, changes) pairs; none for `""`.
pub fn save_rules(save: &str) -> Vec<(i64, u64)> {
    let words: Vec<&str> = save.split_whitespace().collect();
    words
        .chunks(2)
        .filter_map(|p| match p {
            [s, c] => Some((s.parse().ok()?, c.parse().ok()?)),
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proc_title_templates_expand_as_redis_expands_them() {
        let mut c = Config {
            port: 7000,
            ..Config::default()
        };
        let t = |c: &Config, s: &str| c.proc_title(s, "/bin/rs", Some("/etc/r.conf"));
        assert_eq!(
            t(&c, "{title} {listen-addr} {server-mode}").as_deref(),
            Some("/bin/rs *:7000")
        );
        assert_eq!(
            t(&c, "x {{ }} {port} {tls-port} {config-file}").as_deref(),
            Some("x { }} 7000 0 /etc/r.conf")
        );
        assert_eq!(t(&c, "{config-file}").as_deref(), Some("/etc/r.conf"));
        assert_eq!(
            c.proc_title("{config-file}", "", None).as_deref(),
            Some("-")
        );
        for bad in ["{invalid-var}", "{title", "x {"] {
            assert_eq!(t(&c, bad), None, "{bad}");
        }
        let param = lookup(b"proc-title-template").expect("known");
        for refused in ["{invalid-var}", "", " ", "{title}", "{server-mode}"] {
            assert_eq!(
                c.set(param, refused.as_bytes()).map_err(|e| e.to_string()),
                Err("template format is invalid or contains unknown variables".to_string()),
                "{refused:?}"
            );
        }
        assert!(c.set(param, b"{title}}").is_ok());
        c.bind = "127.0.0.1 -::1".into();
        c.port = 0;
        assert_eq!(t(&c, "{listen-addr}").as_deref(), Some("unixsocket:"));
    }

    fn load(c: &mut Config, name: &str, args: &[&str]) -> Result<String, String> {
        let p = lookup(name.as_bytes()).expect("a parameter");
        let args: Vec<Vec<u8>> = args.iter().map(|a| a.as_bytes().to_vec()).collect();
        c.load(p, &args).map(|()| c.get(p))
    }

    #[test]
    fn config_file_lines_read_as_redis_reads_them() {
        let mut c = Config {
            save: "3600 1".into(),
            ..Config::default()
        };
        assert_eq!(load(&mut c, "save", &["900", "1"]).as_deref(), Ok("900 1"));
        assert_eq!(
            load(&mut c, "save", &["300 10"]).as_deref(),
            Ok("900 1 300 10")
        );
        assert_eq!(load(&mut c, "save", &[""]).as_deref(), Ok(""));
        assert_eq!(
            load(&mut c, "save", &["1"]),
            Err("Invalid save parameters".into())
        );
        assert_eq!(load(&mut c, "daemonize", &["YES"]).as_deref(), Ok("yes"));
        assert_eq!(
            load(&mut c, "daemonize", &["maybe"]),
            Err("argument must be 'yes' or 'no'".into())
        );
        assert_eq!(
            load(&mut c, "unixsocketperm", &["0700"]).as_deref(),
            Ok("700")
        );
        assert_eq!(
            load(&mut c, "unixsocketperm", &["999"]),
            Err("argument couldn't be parsed as an octal number".into())
        );
        assert_eq!(
            load(&mut c, "dbfilename", &["a/b"]),
            Err("dbfilename can't be a path, just a filename".into())
        );
        assert_eq!(
            load(&mut c, "maxmemory", &["1", "2"]),
            Err("wrong number of arguments".into())
        );
        assert_eq!(
            load(&mut c, "slaveof", &["h", "x"]),
            Err("Invalid master port".into())
        );
        assert_eq!(
            load(&mut c, "shutdown-on-sigterm", &["now", "force"]).as_deref(),
            Ok("now force")
        );
        assert!(load(&mut c, "shutdown-on-sigint", &["save nosave"]).is_err());
        assert_eq!(load(&mut c, "bind", &["a", "b"]).as_deref(), Ok("a b"));
    }

    #[test]
    fn notify_flags_normalise_as_redis() {
        let n = |s: &str| parse_notify(s.as_bytes()).map(notify_string);
        assert_eq!(n("KEA").as_deref(), Some("AKE"));
        assert_eq!(n("Kx").as_deref(), Some("xK"));
        assert_eq!(n("Am").as_deref(), Some("Am"));
        assert_eq!(n("An").as_deref(), Some("A"));
        assert_eq!(n("mnEK").as_deref(), Some("nKEm"));
        assert_eq!(n("g$lshzxetd").as_deref(), Some("A"));
        assert_eq!(n("Q"), None);
    }

    #[test]
    fn memory_units() {
        assert_eq!(parse_memory(b"1gb"), Some(1 << 30));
        assert_eq!(parse_memory(b"100k"), Some(100_000));
        assert_eq!(parse_memory(b"5B"), Some(5));
        assert_eq!(parse_memory(b""), Some(0));
        assert_eq!(parse_memory(b"-1"), None);
        assert_eq!(parse_memory(b"1.5gb"), None);
    }

    #[test]
    fn aliases_reach_the_same_field() {
        let mut c = Config::default();
        let p = lookup(b"HASH-MAX-ZIPLIST-ENTRIES").expect("alias known");
        c.set(p, b"100").expect("valid");
        assert_eq!(c.hash_max_listpack_entries, 100);
        assert!(c.set(lookup(b"databases").expect("known"), b"3").is_err());
    }
}
