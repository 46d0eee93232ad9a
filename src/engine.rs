//! The engine: databases, clients, and the dispatch of one command.
//!
//! `Engine::execute(client, argv, now_ms)` runs one command for one client and returns its
//! reply. Nothing here reads the system clock or does I/O: the host (the TCP server, the page,
//! a test) owns time and transport.

use std::collections::BTreeMap;

use hashbrown::HashMap;

use crate::db::{Entry, LfuParams};

use crate::commands::pubsub::PubSub;
use crate::commands::{self, CommandSpec};
use crate::config::Config;
use crate::db::Db;
use crate::error::{self, CmdError};
use crate::protocol::Reply;
use crate::rng::Rng;
use crate::tracking::{Tracking, TrackingTable};

/// A client's identifier, unique for the engine's lifetime (CLIENT ID).
pub type ClientId = u64;

/// One connected client's state.
#[derive(Clone, Debug)]
pub struct Client {
    /// CLIENT ID.
    pub id: ClientId,
    /// Selected database.
    pub db: usize,
    /// CLIENT SETNAME.
    pub name: Option<Vec<u8>>,
    /// Protocol version chosen with HELLO (2 or 3).
    pub proto: u8,
    /// Peer address as CLIENT LIST shows it (`127.0.0.1:50312`).
    pub addr: String,
    /// Local address (`127.0.0.1:6379`).
    pub laddr: String,
    /// When the client connected, in ms.
    pub created_ms: i64,
    /// When the client last sent a command, in ms.
    pub last_ms: i64,
    /// Full name of the last command (`client|list`).
    pub last_cmd: String,
    /// Set by QUIT: the host closes the connection after sending the reply.
    pub closing: bool,
    /// Messages waiting for the host to deliver (pub/sub, unblocked replies).
    pub outbox: Vec<Reply>,
    /// Set when a key this client WATCHes was modified: its next EXEC fails.
    pub watch_dirty: bool,
    /// Commands queued since MULTI; None outside a transaction.
    pub multi: Option<Vec<Vec<Vec<u8>>>>,
    /// A command was rejected while queueing: EXEC will answer EXECABORT.
    pub multi_error: bool,
    /// Keys this client WATCHes: database, key, and whether the key was already logically
    /// expired (but not yet removed) when WATCH ran.
    pub watching: Vec<(usize, Vec<u8>, bool)>,
    /// Channels subscribed to, in subscription order.
    pub subs: Vec<Vec<u8>>,
    /// Patterns subscribed to.
    pub psubs: Vec<Vec<u8>>,
    /// Shard channels subscribed to.
    pub ssubs: Vec<Vec<u8>>,
    /// Commands received while the client was blocked, run once it is served.
    pub pending: std::collections::VecDeque<Vec<Vec<u8>>>,
    /// Whether the client may run commands while `requirepass` is set: true for clients that
    /// connected while there was no password, and after a successful AUTH.
    pub authenticated: bool,
    /// CLIENT REPLY state: which replies the host does not send.
    pub reply_mode: ReplyMode,
    /// CLIENT NO-EVICT ON: exempt from client eviction (shown as flag `e`).
    pub no_evict: bool,
    /// MONITOR: receives a line for every command the server runs.
    pub monitor: bool,
    /// Held by CLIENT PAUSE: its commands wait in `pending` until the pause ends.
    pub paused: bool,
    /// CLIENT TRACKING settings while tracking is on.
    pub tracking: Option<Tracking>,
    /// Messages that follow the reply of the command running now (its own MONITOR line, its
    /// own tracking invalidations).
    pub after_reply: Vec<Reply>,
}

/// CLIENT REPLY: ON sends every reply; OFF none (CLIENT REPLY OFF's own included); SKIP drops
/// its own reply and the next command's.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ReplyMode {
    /// Every reply is sent.
    #[default]
    On,
    /// No reply is sent until CLIENT REPLY ON.
    Off,
    /// The current command's reply is dropped, then the next command's.
    SkipThisAndNext,
    /// The current command's reply is dropped, then replies resume.
    SkipThis,
}

/// Counters INFO reports.
#[derive(Clone, Debug, Default)]
pub struct Stats {
    /// total_commands_processed
    pub commands: u64,
    /// total_connections_received
    pub connections: u64,
    /// keyspace_hits
    pub hits: u64,
    /// keyspace_misses
    pub misses: u64,
    /// total_error_replies
    pub error_replies: u64,
    /// INFO commandstats, by full command name (`get`, `config|get`).
    pub cmdstats: BTreeMap<String, CmdStat>,
    /// INFO errorstats: error replies by their first word (`ERR`, `WRONGTYPE`).
    pub errorstats: BTreeMap<String, u64>,
    /// used_memory_peak: the highest used_memory INFO has measured since the last reset.
    pub peak_memory: u64,
}

/// One command's line in INFO commandstats.
#[derive(Clone, Copy, Debug, Default)]
pub struct CmdStat {
    /// Times the handler ran.
    pub calls: u64,
    /// Calls refused before the handler ran (wrong number of arguments).
    pub rejected: u64,
    /// Calls whose handler replied with an error.
    pub failed: u64,
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

/// Limit on databases, so a caller-supplied count cannot allocate without bound.
pub const MAX_DATABASES: usize = 1024;

/// The whole server state.
pub struct Engine {
    /// The numbered databases.
    pub dbs: Vec<Db>,
    /// Connected clients by id.
    pub clients: BTreeMap<ClientId, Client>,
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
    /// The TCP port INFO reports.
    pub port: u16,
    /// Set by SHUTDOWN: the host stops serving (the native server exits).
    pub shutdown_requested: bool,
    /// Clients watching each (db, key), for WATCH.
    pub watched: HashMap<(usize, Vec<u8>), Vec<ClientId>>,
    /// Pub/sub subscriptions.
    pub pubsub: PubSub,
    /// Clients waiting in blocking commands.
    pub blocked: BTreeMap<ClientId, Blocked>,
    /// For each (db, key), the clients blocked on it, first blocked first.
    waiting: HashMap<(usize, Vec<u8>), Vec<ClientId>>,
    /// Keys with blocked clients that changed since they were last served.
    ready: Vec<(usize, Vec<u8>)>,
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
}

/// A CLIENT PAUSE: until when, and whether it holds every command or only writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pause {
    /// Holds every command (ALL), not only those that may change data (WRITE).
    pub all: bool,
    /// When it ends, in ms.
    pub end: i64,
}

/// What a handler sees: the engine, the calling client, its database, and the time.
pub struct Ctx<'a> {
    /// The whole engine.
    pub eng: &'a mut Engine,
    /// The calling client.
    pub client: ClientId,
    /// The calling client's selected database.
    pub db: usize,
    /// The time of this command, in ms since the Unix epoch.
    pub now: i64,
    /// Set by a blocking command that found nothing to serve: the client waits.
    pub block: Option<Block>,
    /// Inside EXEC: blocking commands answer at once as if they had timed out.
    pub no_block: bool,
    /// Where, in the calling client's outbox, Redis would have written this command's reply
    /// (set by [`Ctx::reply_point`]); None: after everything the command published.
    pub reply_at: Option<usize>,
    /// When the engine runs a blocked command again: the key whose change woke it (XREAD
    /// serves from that stream only, as Redis does).
    pub ready_key: Option<Vec<u8>>,
}

/// What a blocked client waits for.
#[derive(Clone, Debug)]
pub struct Block {
    /// Keys whose change may serve it (in the client's database).
    pub keys: Vec<Vec<u8>>,
    /// Absolute deadline in ms; None waits for ever.
    pub deadline: Option<i64>,
    /// The reply sent when the deadline passes.
    pub on_timeout: Reply,
    /// The arguments to run again instead of the command's own (XREAD fixes what `$` meant
    /// when it blocked).
    pub rerun: Option<Vec<Vec<u8>>>,
}

/// A client waiting in a blocking command, and the command to run again when a key is ready.
#[derive(Clone, Debug)]
pub struct Blocked {
    /// Database of the keys.
    pub db: usize,
    /// The blocking command's arguments.
    pub argv: Vec<Vec<u8>>,
    /// What it waits for.
    pub block: Block,
}

impl Ctx<'_> {
    /// Whether a blocking command may block now (not inside EXEC).
    pub fn can_block(&self) -> bool {
        !self.no_block
    }

    /// Blocks the calling client on `keys` until `deadline` (None: for ever); `on_timeout` is
    /// its reply if nothing serves it in time. The handler's own return value is then ignored.
    pub fn block_on(&mut self, keys: Vec<Vec<u8>>, deadline: Option<i64>, on_timeout: Reply) {
        self.block = Some(Block {
            keys,
            deadline,
            on_timeout,
            rerun: None,
        });
    }

    /// As [`Ctx::block_on`], but the command is run again with `argv` instead of its own.
    pub fn block_on_rerun(
        &mut self,
        keys: Vec<Vec<u8>>,
        deadline: Option<i64>,
        on_timeout: Reply,
        argv: Vec<Vec<u8>>,
    ) {
        self.block = Some(Block {
            keys,
            deadline,
            on_timeout,
            rerun: Some(argv),
        });
    }

    /// The calling client's database.
    pub fn db(&mut self) -> &mut Db {
        &mut self.eng.dbs[self.db]
    }

    /// The calling client.
    pub fn client(&mut self) -> &mut Client {
        self.eng
            .clients
            .get_mut(&self.client)
            .expect("the calling client exists while its command runs")
    }

    /// Counts `n` changes to the dataset (for INFO and snapshot dirtiness).
    pub fn dirty(&mut self, n: u64) {
        self.eng.dirty += n;
    }

    /// Looks a key up for reading: expires it if due, records the access, and counts a
    /// keyspace hit or miss (INFO stats). A miss is a `keymiss` keyspace event (class m).
    pub fn lookup_read(&mut self, key: &[u8]) -> Option<&mut Entry> {
        let now = self.now;
        if self.eng.notifications_on() && !self.eng.dbs[self.db].contains(key, now) {
            self.eng.stats.misses += 1;
            self.notify('m', "keymiss", key);
            return None;
        }
        let lfu = self.lfu_params();
        let eng = &mut *self.eng;
        let found = eng.dbs[self.db].lookup_lfu(key, now, lfu);
        if found.is_some() {
            eng.stats.hits += 1;
        } else {
            eng.stats.misses += 1;
        }
        if let Some(n) = found.as_ref().and_then(|e| e.shared_integer()) {
            eng.shared_int_access.insert(n, now);
        }
        found
    }

    /// Looks a key up for writing: expires it if due and records the access; no hit/miss
    /// counting (Redis counts those for reads only).
    pub fn lookup_write(&mut self, key: &[u8]) -> Option<&mut Entry> {
        let now = self.now;
        let lfu = self.lfu_params();
        let eng = &mut *self.eng;
        let found = eng.dbs[self.db].lookup_lfu(key, now, lfu);
        if let Some(n) = found.as_ref().and_then(|e| e.shared_integer()) {
            eng.shared_int_access.insert(n, now);
        }
        found
    }

    /// The LFU parameters of the current configuration, for recording accesses.
    pub fn lfu_params(&self) -> LfuParams {
        LfuParams {
            log_factor: self.eng.config.lfu_log_factor,
            decay_time: self.eng.config.lfu_decay_time,
        }
    }

    /// Publishes keyspace event `event` of class `class` (a `notify-keyspace-events`
    /// character: g $ l s h z x e t d n m) about `key` in the current database.
    pub fn notify(&mut self, class: char, event: &str, key: &[u8]) {
        let db = self.db;
        self.eng.notify(db, class, event, key);
    }

    /// Marks the moment Redis adds this command's reply, for commands that reply before they
    /// publish (some or all of) their keyspace events: a RESP3 client subscribed to its own
    /// events then gets the reply ahead of the pushes that follow this point.
    pub fn reply_point(&mut self) {
        if self.eng.notifications_on() {
            // Keys created or expired so far were published before the reply in Redis.
            self.eng.flush_db_events();
            self.reply_at = self.eng.clients.get(&self.client).map(|c| c.outbox.len());
        }
    }

    /// Wakes the clients blocked on `key` without counting a modification (WATCH keeps
    /// its state), as Redis does when XGROUP DESTROY removes a group readers wait on.
    pub fn signal_ready(&mut self, key: &[u8]) {
        let k = (self.db, key.to_vec());
        if self.eng.waiting.contains_key(&k) {
            self.eng.ready.push(k);
        }
    }

    /// Tells the engine `key` in the current database was modified: WATCHers of it will fail
    /// their EXEC. Every write command calls it for each key it changes.
    pub fn signal_modified(&mut self, key: &[u8]) {
        let db = self.db;
        self.eng.signal_modified(db, key);
    }
}

impl Engine {
    /// A fresh engine with empty databases and no clients.
    pub fn new(opts: EngineOptions) -> Engine {
        let databases = opts.databases.clamp(1, MAX_DATABASES);
        let mut config = Config::default();
        config.set_databases(databases);
        config.port = i64::from(opts.port);
        Engine {
            dbs: (0..databases).map(|_| Db::new()).collect(),
            clients: BTreeMap::new(),
            next_client_id: 1,
            config,
            stats: Stats::default(),
            rng: Rng::new(opts.seed),
            shared_int_access: HashMap::new(),
            started_ms: opts.now_ms,
            dirty: 0,
            last_save_s: opts.now_ms / 1000,
            port: opts.port,
            shutdown_requested: false,
            watched: HashMap::new(),
            pubsub: PubSub::default(),
            blocked: BTreeMap::new(),
            waiting: HashMap::new(),
            ready: Vec::new(),
            monitors: Vec::new(),
            pause: None,
            paused: Vec::new(),
            tracking: TrackingTable::default(),
            current: None,
        }
    }

    /// Connects a client and returns its id.
    pub fn open_client(&mut self, now_ms: i64) -> ClientId {
        let id = self.next_client_id;
        self.next_client_id += 1;
        self.stats.connections += 1;
        let laddr = format!("127.0.0.1:{}", self.port);
        self.clients.insert(
            id,
            Client {
                id,
                db: 0,
                name: None,
                proto: 2,
                addr: format!("127.0.0.1:{}", 40000 + id % 20000),
                laddr,
                created_ms: now_ms,
                last_ms: now_ms,
                last_cmd: "NULL".into(),
                closing: false,
                outbox: Vec::new(),
                watch_dirty: false,
                authenticated: self.config.requirepass().is_empty(),
                reply_mode: ReplyMode::On,
                no_evict: false,
                monitor: false,
                paused: false,
                tracking: None,
                after_reply: Vec::new(),
                multi: None,
                multi_error: false,
                watching: Vec::new(),
                subs: Vec::new(),
                psubs: Vec::new(),
                ssubs: Vec::new(),
                pending: std::collections::VecDeque::new(),
            },
        );
        id
    }

    /// Disconnects a client.
    pub fn close_client(&mut self, id: ClientId) {
        self.unwatch_all(id);
        self.drop_subscriptions(id);
        self.unblock_client(id);
        self.disable_tracking(id);
        self.monitors.retain(|m| *m != id);
        self.paused.retain(|m| *m != id);
        self.clients.remove(&id);
    }

    /// Mutable access to a client, if connected.
    pub fn client_mut(&mut self, id: ClientId) -> Option<&mut Client> {
        self.clients.get_mut(&id)
    }

    /// The protocol version a client speaks (2 when unknown).
    pub fn proto(&self, id: ClientId) -> u8 {
        self.clients.get(&id).map_or(2, |c| c.proto)
    }

    /// Runs one command for `client` at time `now_ms`. Returns None when there is nothing to
    /// reply (an empty command line, an unknown client, replies turned off by CLIENT REPLY), or
    /// when the reply went into the client's outbox, ahead of keyspace events it published
    /// after replying (see [`Ctx::reply_point`]).
    pub fn execute(&mut self, client: ClientId, argv: &[Vec<u8>], now_ms: i64) -> Option<Reply> {
        if argv.is_empty() {
            return None;
        }
        self.check_pause(now_ms);
        if self.pause.is_some() {
            // Databases replaced while paused (a restored snapshot) must not expire keys either.
            for db in &mut self.dbs {
                db.expiry_paused = true;
            }
        }
        // Databases replaced from outside (a loaded snapshot) start with logging off.
        self.sync_event_tracking();
        if self.blocked.contains_key(&client) || self.clients.get(&client).is_some_and(|c| c.paused)
        {
            // Like Redis, a blocked or paused client's further commands wait until it runs again.
            if let Some(c) = self.clients.get_mut(&client) {
                c.pending.push_back(argv.to_vec());
            }
            return None;
        }
        let (db, in_multi, proto, monitor) = {
            let c = self.clients.get_mut(&client)?;
            // A SKIP from the previous command applies to this one, and to this one only.
            if c.reply_mode == ReplyMode::SkipThisAndNext {
                c.reply_mode = ReplyMode::SkipThis;
            }
            (c.db, c.multi.is_some(), c.proto, c.monitor)
        };
        let resolved = resolve(argv).and_then(|spec| {
            if proto == 2 && !SUBSCRIBED_MODE.contains(&spec.name) && self.is_subscribed(client) {
                return Err(CmdError::new(format!(
                    "ERR Can't execute '{}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context",
                    full_name(argv, spec)
                )));
            }
            if monitor && touches_keyspace(spec) {
                // A monitor is a replica to Redis, and replicas may not use the keyspace.
                return Err(CmdError::from("ERR Replica can't interact with the keyspace"));
            }
            if in_multi && spec.has(commands::NO_MULTI) {
                return Err(CmdError::from("ERR Command not allowed inside a transaction"));
            }
            Ok(spec)
        });
        let prev = self.current.replace(client);
        let mut reply_at = None;
        let reply = match resolved {
            Ok(spec) if self.auth_required(client) && !spec.has(commands::NO_AUTH) => {
                self.stats
                    .cmdstats
                    .entry(full_name(argv, spec))
                    .or_default()
                    .rejected += 1;
                // Refused before queueing, so an open transaction fails at EXEC.
                if let Some(c) = self.clients.get_mut(&client).filter(|c| c.multi.is_some()) {
                    c.multi_error = true;
                }
                Reply::Error(error::NOAUTH.0)
            }
            Ok(spec) if !monitor && self.pause_holds(client, spec) => {
                // CLIENT PAUSE: the command waits, unanswered, for the pause to end.
                self.current = prev;
                self.paused.push(client);
                let full = full_name(argv, spec);
                if let Some(c) = self.clients.get_mut(&client) {
                    // CLIENT LIST already shows the held command as the client's last one.
                    c.last_ms = now_ms;
                    c.last_cmd = full;
                    c.paused = true;
                    // At the front: when the pause that just ended left this command in the
                    // queue and a new pause holds it again, it stays ahead of the later ones.
                    c.pending.push_front(argv.to_vec());
                }
                return None;
            }
            Ok(spec) if in_multi && !TX_CONTROL.contains(&spec.name) => {
                if let Some(queue) = self.clients.get_mut(&client).and_then(|c| c.multi.as_mut()) {
                    queue.push(argv.to_vec());
                }
                Reply::status("QUEUED")
            }
            Ok(spec) => {
                let full = full_name(argv, spec);
                if let Some(c) = self.clients.get_mut(&client) {
                    c.last_ms = now_ms;
                    c.last_cmd = full.clone();
                }
                let mut ctx = Ctx {
                    eng: self,
                    client,
                    db,
                    now: now_ms,
                    block: None,
                    no_block: false,
                    reply_at: None,
                    ready_key: None,
                };
                let reply = (spec.handler)(&mut ctx, argv).unwrap_or_else(error_reply);
                let db_after = ctx.db;
                // EXEC answers with one array after all its commands; their marks do not count.
                if spec.name != "exec" {
                    reply_at = ctx.reply_at;
                }
                if let Some(block) = ctx.block.take() {
                    self.block_client(client, db_after, argv.to_vec(), block);
                    // Redis shows a blocking command to monitors when it blocks, not when served.
                    self.feed_monitors(client, db_after, spec, argv, now_ms);
                    self.current = prev;
                    self.after_command(now_ms);
                    return None;
                }
                // Counted after the handler, as Redis does: INFO does not see itself, and
                // CONFIG RESETSTAT leaves its own call counted.
                self.stats.commands += 1;
                let stat = self.stats.cmdstats.entry(full).or_default();
                stat.calls += 1;
                if !error_texts(&reply).is_empty() {
                    stat.failed += 1;
                }
                self.after_call(client, db_after, spec, argv, now_ms);
                reply
            }
            Err(e) if argv[0].eq_ignore_ascii_case(b"exec") => {
                // EXEC itself refused (in a transaction or not): Redis answers EXECABORT and
                // discards any open transaction.
                if let Some(c) = self.clients.get_mut(&client) {
                    c.multi = None;
                    c.multi_error = false;
                }
                self.unwatch_all(client);
                let why = e.text().strip_prefix("ERR ").unwrap_or(e.text());
                Reply::Error(format!("EXECABORT Transaction discarded because of: {}", why).into())
            }
            Err(e) => {
                if let Some(name) = rejected_name(argv) {
                    self.stats.cmdstats.entry(name).or_default().rejected += 1;
                }
                // A command refused before it runs makes the open transaction fail at EXEC.
                if let Some(c) = self.clients.get_mut(&client).filter(|c| c.multi.is_some()) {
                    c.multi_error = true;
                }
                error_reply(e)
            }
        };
        for text in error_texts(&reply) {
            self.stats.error_replies += 1;
            let code = text.split(' ').next().unwrap_or("ERR").to_string();
            *self.stats.errorstats.entry(code).or_default() += 1;
        }
        self.tracking_own(client);
        self.after_command(now_ms);
        self.current = prev;
        let c = self.clients.get_mut(&client)?;
        // CLIENT CACHING covers the next command only (a whole transaction when in MULTI).
        if c.multi.is_none() && !argv[0].eq_ignore_ascii_case(b"client") {
            if let Some(t) = c.tracking.as_mut() {
                t.caching = false;
            }
        }
        let after = std::mem::take(&mut c.after_reply);
        let reply = match c.reply_mode {
            // The command replied before publishing what now follows in its own outbox: the
            // reply takes its place there, ahead of those pushes.
            ReplyMode::On => match reply_at.filter(|&at| at < c.outbox.len()) {
                Some(at) => {
                    c.outbox.insert(at, reply);
                    None
                }
                None => Some(reply),
            },
            ReplyMode::Off | ReplyMode::SkipThisAndNext => None,
            ReplyMode::SkipThis => {
                c.reply_mode = ReplyMode::On;
                None
            }
        };
        if after.is_empty() {
            return reply;
        }
        let mut parts = match reply {
            Some(Reply::Multi(v)) => v,
            Some(r) => vec![r],
            None => Vec::new(),
        };
        parts.extend(after);
        Some(Reply::Multi(parts))
    }

    /// Work after a command's handler ran (also for each command inside EXEC): remembers the
    /// keys a tracking client read, and shows the command to monitors.
    pub(crate) fn after_call(
        &mut self,
        client: ClientId,
        db: usize,
        spec: &CommandSpec,
        argv: &[Vec<u8>],
        now: i64,
    ) {
        if self
            .clients
            .get(&client)
            .is_some_and(|c| c.tracking.is_some())
        {
            self.tracking_remember(client, spec, argv);
        }
        self.feed_monitors(client, db, spec, argv, now);
    }

    /// Whether the CLIENT PAUSE in force holds this command of `client`: every command under
    /// ALL; under WRITE, those that may change data or propagate (writes, PUBLISH, PFCOUNT,
    /// scripts), and EXEC of a transaction holding one.
    fn pause_holds(&self, client: ClientId, spec: &CommandSpec) -> bool {
        let Some(p) = self.pause else { return false };
        if p.all || may_replicate(spec) {
            return true;
        }
        if spec.name != "exec" {
            return false;
        }
        self.clients
            .get(&client)
            .and_then(|c| c.multi.as_ref())
            .is_some_and(|q| q.iter().any(|argv| resolve(argv).is_ok_and(may_replicate)))
    }

    /// CLIENT PAUSE: holds commands (all, or writes only) until `end`; a pause in force is
    /// extended, never shortened or weakened. Keys do not expire while paused.
    pub fn pause_clients(&mut self, all: bool, end: i64) {
        let p = match self.pause {
            Some(p) => Pause {
                all: p.all || all,
                end: p.end.max(end),
            },
            None => Pause { all, end },
        };
        self.pause = Some(p);
        for db in &mut self.dbs {
            db.expiry_paused = true;
        }
    }

    /// CLIENT UNPAUSE: the pause ends once the running command is done.
    pub fn unpause_clients(&mut self) {
        if let Some(p) = self.pause.as_mut() {
            p.end = i64::MIN;
        }
    }

    /// Ends the pause when its time has come, and runs the commands it held, client by
    /// client in the order they were held.
    fn check_pause(&mut self, now: i64) {
        if self.pause.is_none_or(|p| p.end > now) {
            return;
        }
        self.pause = None;
        for db in &mut self.dbs {
            db.expiry_paused = false;
        }
        for id in std::mem::take(&mut self.paused) {
            if let Some(c) = self.clients.get_mut(&id) {
                c.paused = false;
            }
            self.run_pending(id, now);
        }
    }

    /// Whether `client` must authenticate before running commands: the default user has a
    /// password (`requirepass`) and the client has not proven it.
    pub fn auth_required(&self, client: ClientId) -> bool {
        !self.config.requirepass().is_empty()
            && !self.clients.get(&client).is_some_and(|c| c.authenticated)
    }

    /// Work after every command: pending `new`/`expired` events are published, keys removed
    /// by expiry count as modified for WATCH, and clients blocked on keys that changed are
    /// served.
    fn after_command(&mut self, now: i64) {
        if self.notifications_on() {
            self.flush_db_events();
        }
        for db in 0..self.dbs.len() {
            if self.dbs[db].expired_log.is_empty() {
                continue;
            }
            let keys = std::mem::take(&mut self.dbs[db].expired_log);
            for k in keys {
                self.signal_modified(db, &k);
            }
        }
        self.serve_ready(now);
        let current = self.current;
        self.tracking_broadcast(current);
        self.check_pause(now);
        if self.notifications_on() {
            self.flush_db_events();
        }
        self.sync_event_tracking();
    }

    fn block_client(&mut self, client: ClientId, db: usize, argv: Vec<Vec<u8>>, mut block: Block) {
        let argv = block.rerun.take().unwrap_or(argv);
        for key in &block.keys {
            let list = self.waiting.entry((db, key.clone())).or_default();
            if !list.contains(&client) {
                list.push(client);
            }
        }
        self.blocked.insert(client, Blocked { db, argv, block });
    }

    /// Removes `client` from the blocked set; returns what it was waiting for.
    fn unblock_client(&mut self, client: ClientId) -> Option<Blocked> {
        let b = self.blocked.remove(&client)?;
        for key in &b.block.keys {
            let slot = (b.db, key.clone());
            if let Some(list) = self.waiting.get_mut(&slot) {
                list.retain(|id| *id != client);
                if list.is_empty() {
                    self.waiting.remove(&slot);
                }
            }
        }
        Some(b)
    }

    /// Hands `reply` to a client that was blocked, then runs what it sent meanwhile.
    fn resume(&mut self, client: ClientId, reply: Reply, now: i64) {
        let Some(c) = self.clients.get_mut(&client) else {
            return;
        };
        c.outbox.push(reply);
        self.run_pending(client, now);
    }

    /// Runs the commands a client sent while it was blocked or paused, until it blocks or is
    /// paused again; their replies go to its outbox.
    fn run_pending(&mut self, client: ClientId, now: i64) {
        while !self.blocked.contains_key(&client)
            && self.clients.get(&client).is_some_and(|c| !c.paused)
        {
            let Some(argv) = self
                .clients
                .get_mut(&client)
                .and_then(|c| c.pending.pop_front())
            else {
                break;
            };
            if let Some(r) = self.execute(client, &argv, now) {
                if let Some(c) = self.clients.get_mut(&client) {
                    c.outbox.push(r);
                }
            }
        }
    }

    /// Serves blocked clients whose keys changed, first blocked first, until nothing more can
    /// be served (serving one may make another key ready, as BLMOVE does).
    fn serve_ready(&mut self, now: i64) {
        // First made ready, first served (Redis's ready-key list is FIFO).
        while !self.ready.is_empty() {
            let (db, key) = self.ready.remove(0);
            let Some(ids) = self.waiting.get(&(db, key.clone())).cloned() else {
                continue;
            };
            for id in ids {
                let Some(b) = self.blocked.get(&id).cloned() else {
                    continue;
                };
                let Ok(spec) = resolve(&b.argv) else { continue };
                let mut ctx = Ctx {
                    eng: self,
                    client: id,
                    db: b.db,
                    now,
                    block: None,
                    no_block: false,
                    reply_at: None,
                    ready_key: Some(key.clone()),
                };
                let reply = (spec.handler)(&mut ctx, &b.argv).unwrap_or_else(error_reply);
                // Still nothing for this one, or the key now holds another type: it keeps
                // waiting (Redis 7.0 serves a blocked client only from the type it waits for).
                if ctx.block.is_some() || reply.is_error() {
                    continue;
                }
                self.unblock_client(id);
                self.resume(id, reply, now);
            }
        }
    }

    /// Ends the waits whose deadline has passed, with each command's timeout reply.
    fn expire_blocked(&mut self, now: i64) {
        let due: Vec<ClientId> = self
            .blocked
            .iter()
            .filter(|(_, b)| b.block.deadline.is_some_and(|t| t <= now))
            .map(|(id, _)| *id)
            .collect();
        for id in due {
            if let Some(b) = self.unblock_client(id) {
                self.resume(id, b.block.on_timeout, now);
            }
        }
    }

    /// Whether `client` is waiting in a blocking command.
    pub fn is_blocked(&self, client: ClientId) -> bool {
        self.blocked.contains_key(&client)
    }

    /// Ends a client's wait at once (CLIENT UNBLOCK, or the page's Ctrl+C): with its timeout
    /// reply, or with `error` when given. Returns whether the client was blocked.
    pub fn unblock(&mut self, client: ClientId, error: Option<Reply>, now: i64) -> bool {
        match self.unblock_client(client) {
            Some(b) => {
                self.resume(client, error.unwrap_or(b.block.on_timeout), now);
                true
            }
            None => false,
        }
    }

    /// Starts watching `key` in `db` for `client` (WATCH).
    pub fn watch(&mut self, client: ClientId, db: usize, key: &[u8], now: i64) {
        let Some(c) = self.clients.get(&client) else {
            return;
        };
        if c.watching.iter().any(|(d, k, _)| *d == db && k == key) {
            return;
        }
        let expired = self.dbs[db]
            .peek(key)
            .is_some_and(|e| e.expire_at.is_some_and(|t| t <= now));
        if let Some(c) = self.clients.get_mut(&client) {
            c.watching.push((db, key.to_vec(), expired));
        }
        self.watched
            .entry((db, key.to_vec()))
            .or_default()
            .push(client);
    }

    /// Forgets every key `client` watches and clears its dirty flag (UNWATCH, EXEC, DISCARD).
    pub fn unwatch_all(&mut self, client: ClientId) {
        let Some(c) = self.clients.get_mut(&client) else {
            return;
        };
        c.watch_dirty = false;
        for (db, key, _) in std::mem::take(&mut c.watching) {
            if let Some(ids) = self.watched.get_mut(&(db, key.clone())) {
                ids.retain(|id| *id != client);
                if ids.is_empty() {
                    self.watched.remove(&(db, key));
                }
            }
        }
    }

    /// Whether a key `client` watches, live when watched, has since expired (EXEC fails then).
    pub fn watched_key_expired(&self, client: ClientId, now: i64) -> bool {
        self.clients.get(&client).is_some_and(|c| {
            c.watching.iter().any(|(db, key, was_expired)| {
                !was_expired
                    && self.dbs[*db]
                        .peek(key)
                        .is_some_and(|e| e.expire_at.is_some_and(|t| t <= now))
            })
        })
    }

    /// Whether any keyspace notification is enabled: the one check made on the hot path.
    pub fn notifications_on(&self) -> bool {
        self.config.notify_flags != 0
    }

    /// Publishes keyspace event `event` of class `class` about `key` in database `db`: to
    /// `__keyspace@<db>__:<key>` (message: the event) when `K` is enabled, then to
    /// `__keyevent@<db>__:<event>` (message: the key) when `E` is, as Redis does. Key creations
    /// and expiries logged by the databases since the last event are published first, so
    /// subscribers see events in the order they happened.
    pub fn notify(&mut self, db: usize, class: char, event: &str, key: &[u8]) {
        if !self.notifications_on() {
            return;
        }
        self.flush_db_events();
        self.publish_event(db, class, event, key);
    }

    fn publish_event(&mut self, db: usize, class: char, event: &str, key: &[u8]) {
        let (keyspace, keyevent) = self.config.notify_targets(class);
        if keyspace {
            let mut channel = format!("__keyspace@{}__:", db).into_bytes();
            channel.extend_from_slice(key);
            self.publish(&channel, event.as_bytes());
        }
        if keyevent {
            let channel = format!("__keyevent@{}__:{}", db, event);
            self.publish(channel.as_bytes(), key);
        }
    }

    /// Publishes the `new` and `expired` events the databases logged.
    fn flush_db_events(&mut self) {
        for db in 0..self.dbs.len() {
            if self.dbs[db].events.is_empty() {
                continue;
            }
            for (event, key) in std::mem::take(&mut self.dbs[db].events) {
                let class = if event == "new" { 'n' } else { 'x' };
                self.publish_event(db, class, event, &key);
            }
        }
    }

    /// Turns the databases' logging of `new`/`expired` events on or off to follow the
    /// configuration, so nothing is logged while notifications are off. CONFIG SET calls it;
    /// after every command it only compares one flag.
    pub fn sync_event_tracking(&mut self) {
        let on = self.notifications_on();
        if self.dbs.first().is_some_and(|d| d.track_events == on) {
            return;
        }
        for db in &mut self.dbs {
            db.track_events = on;
            if !on {
                db.events.clear();
            }
        }
    }

    /// Marks the WATCHers of `key` in database `db` dirty.
    pub fn signal_modified(&mut self, db: usize, key: &[u8]) {
        if !self.tracking.keys.is_empty() || !self.tracking.prefixes.is_empty() {
            let by = self.current;
            self.tracking_invalidate(key, by);
        }
        if !self.waiting.is_empty() && self.waiting.contains_key(&(db, key.to_vec())) {
            self.ready.push((db, key.to_vec()));
        }
        if self.watched.is_empty() {
            return;
        }
        let Some(ids) = self.watched.get(&(db, key.to_vec())) else {
            return;
        };
        let gone = self.dbs[db].peek(key).is_none();
        for id in ids.clone() {
            let Some(c) = self.clients.get_mut(&id) else {
                continue;
            };
            let entry = c.watching.iter_mut().find(|(d, k, _)| *d == db && k == key);
            match entry {
                // Watched while already expired, and now removed: logically nothing changed.
                Some((_, _, was_expired)) if *was_expired && gone => *was_expired = false,
                _ => c.watch_dirty = true,
            }
        }
    }

    /// Marks dirty the WATCHers of keys affected by swapping databases `a` and `b` (SWAPDB): a
    /// watched key changes when it exists on either side.
    pub fn signal_swapped(&mut self, a: usize, b: usize) {
        let hit: Vec<ClientId> = self
            .watched
            .iter()
            .filter(|((d, k), _)| {
                (*d == a || *d == b)
                    && (self.dbs[a].peek(k).is_some() || self.dbs[b].peek(k).is_some())
            })
            .flat_map(|(_, ids)| ids.iter().copied())
            .collect();
        for id in hit {
            if let Some(c) = self.clients.get_mut(&id) {
                c.watch_dirty = true;
            }
        }
    }

    /// Marks dirty every WATCHer of a key in database `db` that exists now (FLUSHDB,
    /// FLUSHALL and SWAPDB call it before they change the database).
    pub fn signal_flushed(&mut self, db: usize) {
        let hit: Vec<ClientId> = self
            .watched
            .iter()
            .filter(|((d, k), _)| *d == db && self.dbs[db].peek(k).is_some())
            .flat_map(|(_, ids)| ids.iter().copied())
            .collect();
        for id in hit {
            if let Some(c) = self.clients.get_mut(&id) {
                c.watch_dirty = true;
            }
        }
    }

    /// Background work the host runs a few times a second: active expiry, and ending the
    /// waits of blocked clients whose timeout passed.
    pub fn tick(&mut self, now_ms: i64) {
        self.check_pause(now_ms);
        self.sync_event_tracking();
        for db in &mut self.dbs {
            if !db.expiry_paused {
                db.active_expire(now_ms);
            }
            db.update_avg_ttl(now_ms);
        }
        self.expire_blocked(now_ms);
        self.tracking_limit();
        self.after_command(now_ms);
    }

    /// Clears the INFO counters (CONFIG RESETSTAT).
    pub fn reset_stats(&mut self) {
        self.stats = Stats::default();
        for db in &mut self.dbs {
            db.expired_keys = 0;
        }
    }

    /// An estimate of the bytes the dataset and clients occupy (INFO used_memory): the
    /// start-up base, each key with its value and a per-entry overhead, and a buffer per
    /// client.
    pub fn used_memory(&self) -> u64 {
        const PER_KEY: u64 = 56;
        let data: u64 = self
            .dbs
            .iter()
            .flat_map(Db::iter)
            .map(|(k, e)| k.len() as u64 + e.value.approx_bytes() as u64 + PER_KEY)
            .sum();
        self.used_memory_startup() + data + self.used_memory_clients()
    }

    /// The part of [`Engine::used_memory`] an empty server uses (INFO used_memory_startup).
    pub fn used_memory_startup(&self) -> u64 {
        850 * 1024
    }

    /// The part of [`Engine::used_memory`] attributed to client buffers (mem_clients_normal).
    pub fn used_memory_clients(&self) -> u64 {
        20 * 1024 * self.clients.len() as u64
    }

    /// Total keys across databases.
    pub fn key_count(&self) -> usize {
        self.dbs.iter().map(Db::len).sum()
    }
}

/// Commands a RESP2 client may send while it holds subscriptions.
const SUBSCRIBED_MODE: &[&str] = &[
    "subscribe",
    "ssubscribe",
    "unsubscribe",
    "sunsubscribe",
    "psubscribe",
    "punsubscribe",
    "ping",
    "quit",
    "reset",
];

/// Whether a command may change data or be propagated (what CLIENT PAUSE WRITE holds).
fn may_replicate(spec: &CommandSpec) -> bool {
    spec.may_replicate()
}

/// Whether a command reads or writes keys (what a monitoring client may not run).
fn touches_keyspace(spec: &CommandSpec) -> bool {
    may_replicate(spec) || spec.has(commands::READONLY)
}

/// Commands that run at once inside MULTI instead of being queued.
const TX_CONTROL: &[&str] = &["exec", "discard", "multi", "watch", "quit", "reset"];

/// The error replies a command sent: its reply, or the errors among several replies (CLIENT
/// TRACKING can answer an error and then +OK).
fn error_texts(reply: &Reply) -> Vec<&str> {
    match reply {
        Reply::Error(t) => vec![t.as_ref()],
        Reply::Multi(parts) => parts
            .iter()
            .filter_map(|r| match r {
                Reply::Error(t) => Some(t.as_ref()),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// An error as a reply.
pub fn error_reply(e: CmdError) -> Reply {
    Reply::Error(e.0)
}

/// Finds the command (or subcommand) `argv` names and checks its arity, with Redis's errors.
pub fn resolve(argv: &[Vec<u8>]) -> Result<&'static CommandSpec, CmdError> {
    let Some(spec) = commands::lookup(&argv[0]) else {
        return Err(unknown_command(argv));
    };
    if spec.subcommands.is_empty() || argv.len() == 1 {
        // A container named alone runs itself when its arity allows (COMMAND does).
        if !spec.arity_ok(argv.len()) {
            return Err(error::wrong_arity(spec.name));
        }
        return Ok(spec);
    }
    let Some(sub) = spec.subcommand(&argv[1]) else {
        return Err(error::unknown_subcommand(&argv[1], spec.name));
    };
    if !sub.arity_ok(argv.len()) {
        return Err(error::wrong_arity(&format!("{}|{}", spec.name, sub.name)));
    }
    Ok(sub)
}

/// The full name of a known command (or subcommand) refused for its arity, for its
/// `rejected_calls`; None for unknown commands and subcommands.
fn rejected_name(argv: &[Vec<u8>]) -> Option<String> {
    let spec = commands::lookup(&argv[0])?;
    if spec.subcommands.is_empty() || argv.len() == 1 {
        return Some(spec.name.to_string());
    }
    let sub = spec.subcommand(&argv[1])?;
    Some(format!("{}|{}", spec.name, sub.name))
}

fn full_name(argv: &[Vec<u8>], spec: &CommandSpec) -> String {
    match commands::lookup(&argv[0]) {
        Some(parent) if !parent.subcommands.is_empty() => format!("{}|{}", parent.name, spec.name),
        _ => spec.name.to_string(),
    }
}

/// `ERR unknown command '<name>', with args beginning with: '<a>' '<b>' ` — the preview stops
/// once 128 bytes of arguments are shown, as Redis's does.
fn unknown_command(argv: &[Vec<u8>]) -> CmdError {
    let mut args = String::new();
    for a in &argv[1..] {
        if args.len() >= 128 {
            break;
        }
        let room = 128 - args.len();
        args.push('\'');
        args.push_str(&error::c_str_prefix(a, room));
        args.push_str("' ");
    }
    CmdError::new(error::sanitize(&format!(
        "ERR unknown command '{}', with args beginning with: {}",
        error::c_str_prefix(&argv[0], 128),
        args
    )))
}
