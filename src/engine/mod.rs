//! The engine: databases, clients, and the one path every command takes.
//!
//! [`Engine::execute`] runs one command line for one client and returns its reply. Nothing here
//! reads the system clock or does I/O: the host (the TCP server, the page, a test) owns time and
//! transport. One file per concern, each an `impl Engine` block, as Redis splits server.c,
//! multi.c, blocked.c and notify.c:
//!
//! - `call.rs`: [`Engine::execute`] (what a client sends: checks, queueing, replies) and
//!   `Engine::call`, the one function that runs a handler and counts, shows and tracks it,
//!   whoever asks (a client, EXEC, a served blocked client);
//! - `ctx.rs`: [`Ctx`], what a handler sees;
//! - `clients.rs`: connected clients;
//! - `multi.rs`: running a MULTI queue, WATCH and what invalidates it;
//! - `blocking.rs`: clients waiting in blocking commands;
//! - `pause.rs`: CLIENT PAUSE;
//! - `notify.rs`: keyspace notifications;
//! - `pubsub.rs`: subscriptions and message delivery;
//! - `tracking.rs`: CLIENT TRACKING;
//! - `monitor.rs`: the MONITOR feed;
//! - `persist.rs`: SAVE, BGSAVE and the `save` rules, the host storing the snapshot;
//! - `latency.rs`: the latency monitor's events and per-command histograms;
//! - `script.rs`: the commands a Lua script sends (`redis.call`), through `Engine::call`;
//! - `slowlog.rs`: the slow log, and the host's microsecond clock that times commands;
//! - `evict.rs`: used memory (the host's allocation count, or an estimate) and maxmemory's
//!   eviction;
//! - `replication.rs`: the replication stream, backlog and replicas (no I/O: the host moves
//!   the bytes);
//! - `cluster.rs`: the engine as a cluster node: nodes.conf, the state's upkeep, and the
//!   redirection of each command (the state itself is in [`crate::cluster`]);
//! - `acl.rs`: ACL users, the ACL log, and the permission checks made before a command runs.

pub mod acl;
mod blocking;
mod call;
pub mod client_mem;
mod clients;
mod cluster;
mod cluster_bus;
mod cluster_failover;
mod ctx;
pub mod evict;
pub mod failover;
pub mod latency;
pub mod log;
pub mod master_link;
pub mod migrate;
pub mod monitor;
mod multi;
mod notify;
mod pause;
mod persist;
pub mod propagate;
pub mod pubsub;
pub mod replication;
mod rewrite;
mod script;
pub mod slowlog;
pub mod tracking;

use std::collections::{BTreeMap, VecDeque};

use hashbrown::{HashMap, HashSet};

pub use blocking::{Block, Blocked};
pub use call::{error_reply, resolve, Rejected, Renames};
pub use client_mem::Evicted;
pub use clients::{Client, ClientId, ClientTable, LinkRole, ReplyMode};
pub use ctx::Ctx;
pub use pause::Pause;
pub use persist::{
    ConfigFile, Persistence, SaveFailed, SaveRequest, SnapshotReader, SnapshotWriter,
};

use crate::commands;
use crate::config::Config;
use crate::db::Db;
use crate::rng::Rng;
use pubsub::PubSub;
use tracking::TrackingTable;

/// Counters INFO reports.
#[derive(Clone, Debug)]
pub struct Stats {
    /// total_commands_processed
    pub commands: u64,
    /// lazyfreed_objects: values (and keys of flushed databases) freed "in the background".
    pub lazyfreed_objects: u64,
    /// total_connections_received
    pub connections: u64,
    /// rejected_connections: connections refused at `maxclients`.
    pub rejected_connections: u64,
    /// keyspace_hits
    pub hits: u64,
    /// keyspace_misses
    pub misses: u64,
    /// total_error_replies
    pub error_replies: u64,
    /// `error_replies` when the running call started or its last nested call ended.
    pub error_mark: u64,
    /// INFO commandstats, by [`commands::Command::id`].
    pub cmdstats: Vec<CmdStat>,
    /// INFO errorstats: error replies by their first word (`ERR`, `WRONGTYPE`).
    pub errorstats: BTreeMap<String, u64>,
    /// used_memory_peak: the highest used_memory INFO has measured since the last reset.
    pub peak_memory: u64,
    /// evicted_clients: clients disconnected by `maxmemory-clients`.
    pub evicted_clients: u64,
    /// Set by a script whose error reply was already counted when the command in it failed:
    /// the call that returns it does not count it again.
    pub uncounted_error: bool,
}

impl Default for Stats {
    fn default() -> Self {
        Stats {
            commands: 0,
            lazyfreed_objects: 0,
            connections: 0,
            rejected_connections: 0,
            hits: 0,
            misses: 0,
            error_replies: 0,
            error_mark: 0,
            cmdstats: vec![CmdStat::default(); commands::commands().len()],
            errorstats: BTreeMap::new(),
            peak_memory: 0,
            evicted_clients: 0,
            uncounted_error: false,
        }
    }
}

impl Stats {
    /// The INFO commandstats line of a command (or subcommand).
    pub fn of(&mut self, cmd: &commands::Command) -> &mut CmdStat {
        &mut self.cmdstats[cmd.id]
    }

    /// Counts one error reply (`ERR ...`, `WRONGTYPE ...`) in total_error_replies and
    /// errorstats, as Redis does for every error it sends.
    pub fn count_error(&mut self, text: &str) {
        self.error_replies += 1;
        let code = text.split(' ').next().unwrap_or("ERR");
        match self.errorstats.get_mut(code) {
            Some(n) => *n += 1,
            None => {
                self.errorstats.insert(code.to_string(), 1);
            }
        }
    }
}

/// One command's line in INFO commandstats.
#[derive(Clone, Debug, Default)]
pub struct CmdStat {
    /// Times the handler ran (a blocking command counts once, when it blocks).
    pub calls: u64,
    /// Calls refused before the handler ran (wrong number of arguments, NOAUTH ...).
    pub rejected: u64,
    /// Calls whose handler replied with an error.
    pub failed: u64,
    /// Microseconds spent in the handler (a served blocked command adds its serving time).
    pub usec: u64,
    /// Calls by duration in nanoseconds, for LATENCY HISTOGRAM and INFO latencystats: made
    /// by the first call `latency-tracking` sees, as Redis makes its histogram.
    pub latency: Option<Box<latency::Histogram>>,
}

/// Options for a new engine.
#[derive(Clone, Debug)]
pub struct EngineOptions {
    /// Number of databases (`databases`, 16 by default).
    pub databases: usize,
    /// Seed of the random generator used by the random commands.
    pub seed: u64,
    /// Server start time in ms (for uptime).
    pub now_ms: i64,
    /// TCP port INFO reports (`tcp_port`); 6379 in the page.
    pub port: u16,
}

impl Default for EngineOptions {
    fn default() -> Self {
        EngineOptions {
            databases: 16,
            seed: 0x5eed,
            now_ms: 0,
            port: 6379,
        }
    }
}

/// Applies one parameter CONFIG SET changed, in the host: `(name, old, new)` with the
/// configuration before and after the command. `Ok(Some(v))` stores `v` as the value CONFIG
/// GET shows (the directory made absolute); `Err(why)` fails the command with Redis's reason,
/// and the engine applies the old configuration again for what it had applied.
pub type ConfigHook = fn(&str, &Config, &Config) -> Result<Option<String>, String>;

/// Limit on databases, so a caller-supplied count cannot allocate without bound.
pub const MAX_DATABASES: usize = 1024;

/// The whole server state.
pub struct Engine {
    /// The numbered databases.
    pub dbs: Vec<Db>,
    /// Connected clients by id.
    pub clients: ClientTable,
    next_client_id: ClientId,
    /// Configuration parameters (CONFIG GET / SET).
    pub config: Config,
    /// INFO counters.
    pub stats: Stats,
    /// Random source for RANDOMKEY, SPOP, ...
    pub rng: Rng,
    /// Last access time in ms of each shared small integer that has been accessed (OBJECT
    /// IDLETIME of a key holding one): Redis's keys share one object per such integer, so an
    /// access through any key counts for all, and the clock starts when the server does.
    pub shared_int_access: HashMap<u16, i64>,
    /// Start time in ms.
    pub started_ms: i64,
    /// Changes since the last snapshot (INFO rdb_changes_since_last_save).
    pub dirty: u64,
    /// Time of the last snapshot, in seconds (LASTSAVE).
    pub last_save_s: i64,
    /// How many times the data was replaced by a snapshot's (one loaded by the host, a
    /// primary's full sync): an append-only file kept since no longer describes the data.
    /// DEBUG RELOAD loads back the data it saved, and is not counted.
    pub data_replaced: u64,
    /// The TCP port INFO reports.
    pub port: u16,
    /// Set by SHUTDOWN: the host stops serving (the native server exits).
    pub shutdown_requested: bool,
    /// Clients whose outbox got a message since the host last took this set: a host serving
    /// many connections delivers to these instead of looking through every client.
    pub mail: HashSet<ClientId>,
    /// [`crate::db::expiry_log_count`] when the databases' expiry logs were last drained.
    expiry_log_seen: u64,
    /// Clients watching each (db, key), for WATCH.
    pub watched: HashMap<(usize, Vec<u8>), Vec<ClientId>>,
    /// Pub/sub subscriptions.
    pub pubsub: PubSub,
    /// Clients waiting in blocking commands.
    pub blocked: BTreeMap<ClientId, Blocked>,
    /// For each (db, key), the clients blocked on it, first blocked first.
    waiting: HashMap<(usize, Vec<u8>), Vec<ClientId>>,
    /// Keys with blocked clients that changed since they were last served.
    ready: VecDeque<(usize, Vec<u8>)>,
    /// Monitoring clients, in the order they sent MONITOR.
    pub monitors: Vec<ClientId>,
    /// The CLIENT PAUSE in force, if any.
    pub pause: Option<Pause>,
    /// Clients held by the pause, first held first.
    paused: Vec<ClientId>,
    /// CLIENT TRACKING: remembered keys and broadcast prefixes.
    pub tracking: TrackingTable,
    /// The client whose command runs now (messages to it wait until after its reply).
    pub current: Option<ClientId>,
    /// Snapshot state and the host's way of storing snapshots.
    pub persist: Persistence,
    /// The data is loading (INFO's `loading:1`): other clients get LOADING meanwhile.
    pub loading: Option<persist::Loading>,
    /// The host's monotonic microsecond clock, if it supplied one, as commands read it.
    timer: slowlog::Timer,
    /// SLOWLOG.
    pub slowlog: slowlog::SlowLog,
    /// LATENCY's events.
    pub latency: latency::LatencyMonitor,
    /// The script cache and the Lua state.
    pub scripts: crate::scripting::Scripts,
    /// ACL users and the ACL log.
    pub acl: acl::Acl,
    /// Used memory and maxmemory eviction.
    pub memory: evict::Memory,
    /// Clients' memory and client eviction (see `client_mem.rs`).
    pub client_mem: client_mem::ClientMemory,
    /// What executed commands propagate (the AOF and replicas read it).
    pub propagation: propagate::Propagation,
    /// Active expiry runs in [`Engine::tick`] (DEBUG SET-ACTIVE-EXPIRE 0 turns it off).
    pub active_expire_enabled: bool,
    /// DEBUG QUICKLIST-PACKED-THRESHOLD: list elements from this size get a node of their own.
    pub quicklist_packed_threshold: u64,
    /// DEBUG SET-SKIP-CHECKSUM-VALIDATION: RESTORE and loading skip the CRC check.
    pub skip_checksum_validation: bool,
    /// Replication: IDs, offsets, the backlog, replicas.
    pub repl: replication::Replication,
    /// Lines for the server's log, until the host takes them (see [`log`]).
    logs: Vec<(log::LogLevel, String)>,
    /// `rename-command`: the commands that answer to another name, or to none.
    pub renames: call::Renames,
    /// The command name a client sent last and what it named (see [`call::LastName`]).
    last_name: call::LastName,
    /// `DEBUG SET-DISABLE-DENY-SCRIPTS`: scripts may call the commands flagged `noscript`.
    pub script_disable_deny: bool,
    /// `DEBUG REPLYBUFFER`: how the host resizes its clients' reply buffers.
    pub reply_buffer: client_mem::ReplyBufferSettings,
    /// The host's way of stopping the whole server for some microseconds (DEBUG SLEEP);
    /// without one the engine waits on the host's clock, or not at all without a clock.
    pub sleeper: Option<fn(u64)>,
    /// Microseconds the current command slept (DEBUG SLEEP): the host's `now` is its start
    /// time, and what follows the command (serving blocked clients) sees the time after.
    pub slept_us: u64,
    /// The host's way of making room for `maxclients` connections (the open file limit, as
    /// redis-server raises it): given the wanted number, it returns how many the process can
    /// hold. CONFIG SET maxclients fails when that is fewer. None: no limit to raise.
    pub room_for_clients: Option<fn(u64) -> u64>,
    /// The host program's absolute path and the config file it read, for INFO's
    /// `executable` and `config_file` (empty: none, as in the page).
    pub executable: String,
    pub config_path: String,
    /// The host's part of CONFIG SET for what lives outside the engine (listening sockets for
    /// `port` and `bind`, the working directory for `dir`, the snapshot's name): see
    /// [`ConfigHook`]. Without one those parameters are only stored.
    pub config_hook: Option<ConfigHook>,
    /// The host's connections to other servers, for MIGRATE (none: no server is reachable).
    pub migrate: Option<Box<dyn migrate::MigrateHost>>,
    /// The cluster state, on a cluster node (`cluster-enabled yes`).
    pub cluster: Option<Box<crate::cluster::Cluster>>,
}

impl Engine {
    /// A fresh engine with empty databases and no clients.
    pub fn new(opts: EngineOptions) -> Engine {
        let databases = opts.databases.clamp(1, MAX_DATABASES);
        let mut config = Config::default();
        config.set_databases(databases);
        config.port = i64::from(opts.port);
        let mut engine = Engine {
            dbs: (0..databases).map(|_| Db::new()).collect(),
            clients: ClientTable::new(),
            next_client_id: 1,
            config,
            stats: Stats::default(),
            rng: Rng::new(opts.seed),
            shared_int_access: HashMap::new(),
            started_ms: opts.now_ms,
            dirty: 0,
            last_save_s: opts.now_ms / 1000,
            data_replaced: 0,
            port: opts.port,
            shutdown_requested: false,
            mail: HashSet::new(),
            expiry_log_seen: 0,
            watched: HashMap::new(),
            pubsub: PubSub::default(),
            blocked: BTreeMap::new(),
            waiting: HashMap::new(),
            ready: VecDeque::new(),
            monitors: Vec::new(),
            pause: None,
            paused: Vec::new(),
            tracking: TrackingTable::default(),
            current: None,
            persist: Persistence::default(),
            timer: slowlog::Timer::default(),
            slowlog: slowlog::SlowLog::default(),
            latency: latency::LatencyMonitor::default(),
            scripts: crate::scripting::Scripts::default(),
            acl: acl::Acl::default(),
            memory: evict::Memory::new(opts.seed),
            client_mem: client_mem::ClientMemory::default(),
            propagation: propagate::Propagation::default(),
            active_expire_enabled: true,
            quicklist_packed_threshold: 1 << 30,
            skip_checksum_validation: false,
            repl: replication::Replication::new(opts.now_ms as u64 ^ opts.seed),
            logs: Vec::new(),
            renames: call::Renames::default(),
            last_name: call::LastName::default(),
            loading: None,
            script_disable_deny: false,
            reply_buffer: client_mem::ReplyBufferSettings::default(),
            sleeper: None,
            slept_us: 0,
            room_for_clients: None,
            executable: String::new(),
            config_path: String::new(),
            config_hook: None,
            migrate: None,
            cluster: None,
        };
        // The databases log and free as the configuration says from the first command on
        // (after that, every command's end keeps them in line).
        engine.sync_event_tracking();
        engine
    }

    /// Background work the host runs a few times a second: active expiry, and ending the
    /// waits of blocked clients whose timeout passed.
    pub fn tick(&mut self, now_ms: i64) {
        if self.scripts.slice.is_some() {
            // As redis-server's timers, which wait while a script runs: the script's writes
            // so far are neither propagated nor joined by expiries until it ends.
            return;
        }
        self.check_pause(now_ms);
        if let Some(m) = self.migrate.as_mut() {
            m.close_idle(now_ms);
        }
        self.sync_event_tracking();
        let active = self.active_expire_enabled;
        // Expiries of earlier commands are theirs; what follows is active expiry's.
        self.propagate_new_expiries();
        self.flush_propagation(true);
        let started = self.now_us();
        for db in &mut self.dbs {
            if active && !db.expiry_paused {
                db.active_expire(now_ms);
            }
            db.update_avg_ttl(now_ms);
        }
        if active {
            let ms = self.now_us().saturating_sub(started) / 1000;
            self.latency_sample("expire-cycle", ms, now_ms);
        }
        // Each deletion is its own unit, never a transaction (Redis's active expiry).
        self.propagate_new_expiries();
        self.flush_propagation(false);
        if std::mem::take(&mut self.memory.evict_soon) {
            self.perform_evictions(now_ms);
        }
        self.expire_blocked(now_ms);
        self.replication_cron(now_ms);
        self.cluster_update_state(now_ms);
        self.cluster_redirect_blocked(now_ms);
        self.tracking_limit();
        self.cron_save(now_ms);
        self.after_command(now_ms);
    }

    /// Replaces every database with `dbs` (a loaded snapshot), as FLUSHALL followed by a load:
    /// WATCHers of keys that existed are invalidated, tracking clients are told to flush, and
    /// the new databases follow the engine's expiry and notification state.
    pub fn replace_data(&mut self, mut dbs: Vec<Db>, now_ms: i64) {
        for db in 0..self.dbs.len() {
            self.signal_flushed(db);
        }
        let by = self.current;
        self.tracking_flushed(by);
        dbs.resize_with(self.dbs.len(), Db::new);
        dbs.truncate(self.dbs.len());
        let paused = self.pause.is_some() || self.repl.link.is_some();
        let events = self.notifications_on();
        let lazy = self.lazy_free();
        let expire_clock = self.expire_clock();
        for (db, old) in dbs.iter_mut().zip(&self.dbs) {
            db.expiry_paused = paused;
            db.track_events = events;
            db.lazy = lazy;
            db.expire_clock = expire_clock;
            // Statistics are the server's, not the data's: a reload keeps them.
            db.expired_keys += old.expired_keys;
            db.lazy_freed += old.lazy_freed;
        }
        self.dbs = dbs;
        if self.cluster.is_some() {
            self.dbs[0].index_slots();
        }
        self.after_command(now_ms);
    }

    /// Stops the whole server for `us` microseconds, as Redis's DEBUG SLEEP does: through the
    /// host's sleeper, else by waiting on the host's clock (a worker has no other way).
    pub fn sleep_us(&mut self, us: u64) {
        self.slept_us = self.slept_us.saturating_add(us);
        if let Some(sleep) = self.sleeper {
            sleep(us);
        } else if self.timer.clock.is_some() {
            let end = self.now_us().saturating_add(us);
            while self.now_us() < end {
                std::hint::spin_loop();
            }
        }
    }

    /// Clears the INFO counters (CONFIG RESETSTAT).
    pub fn reset_stats(&mut self) {
        self.stats = Stats::default();
        self.memory.evicted_keys = 0;
        self.persist.forks = 0;
        for db in &mut self.dbs {
            db.expired_keys = 0;
            db.lazy_freed = 0;
        }
    }

    /// The lazy-free settings the databases apply to what they drop by themselves.
    pub(crate) fn lazy_free(&self) -> crate::db::LazyFree {
        crate::db::LazyFree {
            expire: self.config.lazyfree_lazy_expire,
            server_del: self.config.lazyfree_lazy_server_del,
            list_fill: self.config.list_max_listpack_size,
        }
    }

    /// lazyfreed_objects: values freed "in the background" by commands and by the databases.
    pub fn lazyfreed_objects(&self) -> u64 {
        self.stats.lazyfreed_objects + self.dbs.iter().map(|d| d.lazy_freed).sum::<u64>()
    }

    /// A value deleted the lazy way (UNLINK, a lazy-free setting): counted in
    /// lazyfreed_objects when Redis would have freed it in the background.
    pub(crate) fn lazy_freed(&mut self, value: &crate::types::Value) {
        let fill = self.config.list_max_listpack_size;
        if value.free_effort(fill) > crate::types::LAZYFREE_THRESHOLD {
            self.stats.lazyfreed_objects += 1;
        }
    }

    /// Total keys across databases.
    pub fn key_count(&self) -> usize {
        self.dbs.iter().map(Db::len).sum()
    }
}
