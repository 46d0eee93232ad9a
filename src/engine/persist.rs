//! Snapshots as Redis takes them (rdb.c's SAVE, BGSAVE and the `save` rules of serverCron),
//! with the writing left to the host: the engine makes the RDB bytes and keeps the state INFO
//! persistence reports; the host stores them.
//!
//! Two kinds of host:
//! - one that can write at once (the native server) installs a [`SnapshotWriter`]: SAVE and
//!   BGSAVE write through it before they reply, so a failure is SAVE's `-ERR`;
//! - one whose storage is asynchronous (the page and its IndexedDB) installs none: SAVE and
//!   BGSAVE leave a [`SaveRequest`] that the host takes with [`Engine::take_save_request`],
//!   carries out, and reports with [`Engine::save_finished`].

use super::Engine;

/// Stores a snapshot (the whole RDB file) for the host; the error says why it could not.
pub type SnapshotWriter = Box<dyn FnMut(&[u8]) -> Result<(), String> + Send>;

/// Reads the stored snapshot back for the host (DEBUG RELOAD NOSAVE); the error says why it
/// could not.
pub type SnapshotReader = Box<dyn FnMut() -> Result<Vec<u8>, String> + Send>;

/// What the engine asks a host without a writer to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SaveRequest {
    /// SAVE: store a snapshot now (the reply already said OK).
    Now,
    /// BGSAVE or a `save` rule: store a snapshot; the engine reports a background save in
    /// progress until [`Engine::save_finished`].
    Background,
}

/// A load in progress (Redis's `server.loading` and its `loading_*` figures), set while a
/// host loads its data at start, for DEBUG RELOAD or DEBUG LOADAOF. Meanwhile the host's
/// event handler (`Scripts::busy_handler`) is called every
/// `loading-process-events-interval-bytes` so other clients are answered, with LOADING for
/// what may not run during a load.
#[derive(Clone, Debug, Default)]
pub struct Loading {
    /// The client whose commands are the load (the AOF's), exempt from LOADING.
    pub client: Option<super::ClientId>,
    /// The client whose command asked for the load (DEBUG LOADAOF): it is answered once the
    /// load is over, and nothing else of it is read meanwhile.
    pub caller: Option<super::ClientId>,
    /// When it began, in seconds (loading_start_time).
    pub start_s: i64,
    /// Bytes to load (loading_total_bytes).
    pub total_bytes: u64,
    /// Bytes loaded so far (loading_loaded_bytes).
    pub loaded_bytes: u64,
    /// Where the file being read starts among all the load's bytes (an AOF's later parts).
    pub file_base: u64,
    /// The used memory the snapshot says its writer had (loading_rdb_used_mem).
    pub rdb_used_mem: u64,
    /// `loaded_bytes` when the host last handled events.
    events_at: u64,
    /// `loading-process-events-interval-bytes` as the load began.
    interval: u64,
    /// `key-load-delay` as the load began: microseconds to sleep after each key (negative:
    /// one microsecond once in that many keys).
    key_delay: i64,
    /// Keys loaded, for a negative `key_delay`.
    keys: u64,
}

/// Snapshot state (INFO persistence).
pub struct Persistence {
    /// The host's writer, if it writes synchronously.
    pub writer: Option<SnapshotWriter>,
    /// The host's reader of the stored snapshot, if it has one.
    pub reader: Option<SnapshotReader>,
    /// The last snapshot written by DEBUG RELOAD on a host without a writer, read back by a
    /// later DEBUG RELOAD NOSAVE.
    pub reload_copy: Option<Vec<u8>>,
    /// A request waiting for the host (hosts without a writer).
    pub request: Option<SaveRequest>,
    /// A background save handed to the host and not yet reported finished.
    pub bgsave_in_progress: bool,
    /// `dirty` when the running background save was taken: what it will have saved.
    pub bgsave_changes: u64,
    /// BGSAVE inside EXEC (or during a save) asked for a later save.
    pub bgsave_scheduled: bool,
    /// Whether the last save failed (rdb_last_bgsave_status:err).
    pub last_failed: bool,
    /// Time of the last attempted save in seconds, for the retry delay after a failure.
    pub last_try_s: i64,
    /// Saves attempted (rdb_saves).
    pub saves: u64,
    /// BGREWRITEAOF inside EXEC asked for a later rewrite (aof_rewrite_scheduled).
    pub aof_rewrite_scheduled: bool,
    /// Keys the last snapshot load loaded and dropped as expired (INFO's
    /// rdb_last_load_keys_loaded and rdb_last_load_keys_expired).
    pub last_load_keys: (u64, u64),
    /// The client whose DEBUG LOADAOF asked the host to load its AOF again.
    pub aof_load_caller: Option<super::ClientId>,
    /// BGREWRITEAOF asked the host for a rewrite now (a host with an AOF takes it).
    pub aof_rewrite_requested: bool,
    /// The host keeps an append-only file it can load again (DEBUG LOADAOF).
    pub aof_host: bool,
    /// The host holds an append-only file on disk even with appendonly off (BGREWRITEAOF
    /// writes one): DEBUG LOADAOF can load it.
    pub aof_on_disk: bool,
    /// DEBUG LOADAOF asked the host to load the append-only file again.
    pub aof_load_requested: bool,
    /// The host restarts the engine from its last durable state when it crashes (the page's
    /// worker does): DEBUG SEGFAULT, PANIC, ASSERT, OOM and CRASH-AND-RECOVER then crash it for
    /// real, as they crash redis-server. Other hosts refuse them.
    pub crash_host: bool,
    /// Rewrites done (INFO aof_rewrites).
    pub aof_rewrites: u64,
    /// Background jobs started where Redis forks a child: BGSAVE (asked for, scheduled or
    /// by a save point), every AOF rewrite, the snapshot of a full resync (INFO total_forks).
    pub forks: u64,
    /// Seconds the last rewrite took, -1 before any (aof_last_rewrite_time_sec).
    pub aof_last_rewrite_time_sec: i64,
    /// Whether the last rewrite succeeded (aof_last_bgrewrite_status).
    pub aof_last_rewrite_ok: bool,
    /// Rewrites that failed since the last one that succeeded
    /// (aof_rewrites_consecutive_failures).
    pub aof_rewrite_failures: u64,
    /// Whether the last write to the AOF succeeded (aof_last_write_status).
    pub aof_last_write_ok: bool,
    /// The AOF's size in bytes, base and incremental files (aof_current_size).
    pub aof_current_size: u64,
    /// The base file's size at the last rewrite or start (aof_base_size).
    pub aof_base_size: u64,
    /// The host's config file, for CONFIG REWRITE (none: the server started without one).
    pub config_file: Option<ConfigFile>,
}

impl Persistence {
    /// A rewrite of the AOF ended (BGREWRITEAOF, `appendonly` turned on): counted either
    /// way, as Redis counts every rewrite it starts, and its outcome kept for INFO.
    pub fn aof_rewrite_finished(&mut self, ok: bool) {
        self.aof_rewrites += 1;
        self.forks += 1;
        self.aof_last_rewrite_ok = ok;
        self.aof_rewrite_failures = if ok { 0 } else { self.aof_rewrite_failures + 1 };
    }
}

/// Reads a config file's current text: empty when the file is gone; the error is the
/// system's reason.
pub type ConfigRead = Box<dyn Fn() -> Result<String, String>>;

/// Replaces a config file with a text, atomically; the error is the system's reason.
pub type ConfigWrite = Box<dyn Fn(&str) -> Result<(), String>>;

/// A config file the host reads and replaces whole (CONFIG REWRITE).
pub struct ConfigFile {
    pub read: ConfigRead,
    pub write: ConfigWrite,
}

impl Default for Persistence {
    fn default() -> Self {
        Persistence {
            writer: None,
            reader: None,
            reload_copy: None,
            request: None,
            bgsave_in_progress: false,
            bgsave_changes: 0,
            bgsave_scheduled: false,
            last_failed: false,
            last_try_s: 0,
            saves: 0,
            aof_rewrite_scheduled: false,
            aof_rewrite_requested: false,
            aof_host: false,
            aof_on_disk: false,
            aof_load_requested: false,
            aof_load_caller: None,
            last_load_keys: (0, 0),
            crash_host: false,
            aof_rewrites: 0,
            forks: 0,
            aof_last_rewrite_time_sec: -1,
            aof_last_write_ok: true,
            aof_last_rewrite_ok: true,
            aof_rewrite_failures: 0,
            aof_current_size: 0,
            aof_base_size: 0,
            config_file: None,
        }
    }
}

/// Seconds Redis waits before retrying a failed automatic save.
const RETRY_DELAY_S: i64 = 5;

/// Why a synchronous save failed: Redis's SAVE answers a bare `-ERR`.
#[derive(Debug)]
pub struct SaveFailed(pub String);

impl Engine {
    /// A load of `total_bytes` begins (see [`Loading`]); `client` runs its commands, if any.
    pub fn begin_loading(
        &mut self,
        total_bytes: u64,
        client: Option<super::ClientId>,
        caller: Option<super::ClientId>,
        now_ms: i64,
    ) {
        let interval = u64::try_from(
            self.config
                .int_param("loading-process-events-interval-bytes"),
        )
        .unwrap_or(0)
        .max(1024);
        self.loading = Some(Loading {
            client,
            caller,
            start_s: now_ms.div_euclid(1000),
            total_bytes,
            interval,
            key_delay: self.config.int_param("key-load-delay"),
            ..Loading::default()
        });
    }

    /// The load has read `loaded` bytes (one more key, for a snapshot: `key` says so): the
    /// host handles events when another interval has passed, and `key-load-delay` sleeps.
    pub fn loading_progress(&mut self, loaded: u64, key: bool) {
        let Some(l) = self.loading.as_mut() else {
            return;
        };
        l.loaded_bytes = loaded;
        let mut sleep = 0;
        if key && l.key_delay != 0 {
            l.keys += 1;
            sleep = match l.key_delay {
                d if d > 0 => d.unsigned_abs(),
                d => u64::from(l.keys.is_multiple_of(d.unsigned_abs())),
            };
        }
        let events = loaded.saturating_sub(l.events_at) >= l.interval;
        if events {
            l.events_at = loaded;
        }
        if sleep > 0 {
            if let Some(sleeper) = self.sleeper {
                sleeper(sleep);
            }
        }
        if events {
            if let Some(handler) = self.scripts.busy_handler {
                handler(self);
            }
        }
    }

    /// An AOF's load has run `commands` commands and read `at` bytes of its current file:
    /// every 1024 commands (the first included) the host handles events, as Redis's AOF
    /// loader does.
    pub fn loading_commands(&mut self, commands: u64, at: u64) {
        let Some(l) = self.loading.as_mut() else {
            return;
        };
        l.loaded_bytes = l.file_base.saturating_add(at);
        if commands.is_multiple_of(1024) {
            if let Some(handler) = self.scripts.busy_handler {
                handler(self);
            }
        }
    }

    /// The load is over.
    pub fn end_loading(&mut self) {
        self.loading = None;
    }

    /// The whole dataset as an RDB file, as of `now_ms`: the function libraries, then every
    /// database.
    pub fn snapshot(&self, now_ms: i64) -> Vec<u8> {
        let codes: Vec<&[u8]> = self
            .scripts
            .libraries
            .values()
            .map(|l| l.code.as_slice())
            .collect();
        crate::rdb::save_with_aux(
            &self.dbs,
            &codes,
            now_ms,
            &[],
            self.config.rdb_compression(),
        )
    }

    /// Replaces every database and function library with a snapshot's, and returns the
    /// number of keys loaded. A snapshot that does not parse, or a library in it that does
    /// not load, is refused with the reason and nothing changes.
    /// Keys whose expiry has passed are dropped unless this server is a replica (Redis's
    /// rdbLoad on a primary).
    pub fn load_snapshot(&mut self, bytes: &[u8], now_ms: i64) -> Result<usize, String> {
        let drop_expired = self.repl.link.is_none();
        self.install_snapshot(bytes, now_ms, drop_expired)
            .map(|(keys, _)| keys)
    }

    /// An AOF's RDB base: as [`Engine::load_snapshot`], keeping every key (the commands
    /// after it may still find a key whose expiry passed, as in Redis).
    pub fn load_aof_preamble(&mut self, bytes: &[u8], now_ms: i64) -> Result<usize, String> {
        self.install_snapshot(bytes, now_ms, false)
            .map(|(keys, _)| keys)
    }

    /// As [`Engine::load_snapshot`], also returning the snapshot's `repl-stream-db`: the
    /// database the stream after it has selected.
    pub(crate) fn load_snapshot_from_primary(
        &mut self,
        bytes: &[u8],
        now_ms: i64,
    ) -> Result<(usize, Option<usize>), String> {
        let (keys, snap) = self.install_snapshot(bytes, now_ms, false)?;
        Ok((keys, snap.repl_stream_db))
    }

    /// Parses a snapshot and, when it and its function libraries load, makes its data and
    /// libraries the engine's (through replace_data, so WATCH, tracking and blocked clients
    /// see the change). Returns the keys loaded and the rest of the snapshot (its auxiliary
    /// fields); on error nothing changes.
    fn install_snapshot(
        &mut self,
        bytes: &[u8],
        now_ms: i64,
        drop_expired: bool,
    ) -> Result<(usize, crate::rdb::Snapshot), String> {
        let databases = self.dbs.len();
        let mut snap = crate::rdb::load_snapshot_with_progress(
            bytes,
            databases,
            now_ms,
            drop_expired,
            &mut |at| self.loading_progress(at as u64, true),
        )
        .map_err(|e| e.to_string())?;
        self.persist.last_load_keys = (snap.keys_loaded, snap.keys_expired);
        let libraries = crate::scripting::functions::compile_all(&snap.functions, self.clock())
            .map_err(|e| format!("a function library in the snapshot does not load: {}", e.0))?;
        let keys = snap.dbs.iter().map(|db| db.len()).sum();
        self.replace_data(std::mem::take(&mut snap.dbs), now_ms);
        self.data_replaced += 1;
        self.scripts.libraries = libraries;
        self.scripts.fvm = None;
        Ok((keys, snap))
    }

    /// A snapshot for a replica: the data, with the replication history and the database the
    /// stream after it has selected (`stream_db`), as Redis's replication snapshots carry.
    pub(crate) fn snapshot_for_replica(&self, now_ms: i64, stream_db: Option<usize>) -> Vec<u8> {
        let codes: Vec<&[u8]> = self
            .scripts
            .libraries
            .values()
            .map(|l| l.code.as_slice())
            .collect();
        let db = stream_db.map_or("-1".to_string(), |d| d.to_string());
        let offset = self.repl.offset.to_string();
        let extra: [(&[u8], &[u8]); 3] = [
            (b"repl-stream-db", db.as_bytes()),
            (b"repl-id", self.repl.replid.as_bytes()),
            (b"repl-offset", offset.as_bytes()),
        ];
        crate::rdb::save_with_aux(
            &self.dbs,
            &codes,
            now_ms,
            &extra,
            self.config.rdb_compression(),
        )
    }

    /// The snapshot a host stores for this server: the data and, as Redis's own saves carry
    /// them, the replication history it is at (a primary with a backlog, or a replica), so a
    /// server loaded from it can go on replicating where it stopped
    /// ([`Engine::load_stored_snapshot`]).
    pub fn stored_snapshot(&self, now_ms: i64) -> Vec<u8> {
        let stream_db = match self.repl.link.as_ref() {
            Some(link) => Some(
                link.client
                    .and_then(|id| self.clients.get(&id))
                    .map_or(link.stream_db(), |c| c.db),
            ),
            // A primary that wrote nothing since its replicas synced selects before its next
            // write: 0 is as good as any.
            None if self.repl.backlog.is_some() => Some(self.repl.stream_db().unwrap_or(0)),
            None => None,
        };
        match stream_db {
            Some(db) => self.snapshot_for_replica(now_ms, Some(db)),
            None => self.snapshot(now_ms),
        }
    }

    /// Loads a stored snapshot when a server starts, `primary` being where it replicates
    /// from (None: it is a primary). With the replication history the snapshot carries, a
    /// replica asks its primary to continue from the snapshot's offset (a partial resync if
    /// the primary still has those bytes), and a primary keeps the history as its previous
    /// one, so its replicas can continue too, as Redis does when it starts from its RDB file.
    pub fn load_stored_snapshot(
        &mut self,
        bytes: &[u8],
        primary: Option<(&str, u16)>,
        now_ms: i64,
    ) -> Result<usize, String> {
        let (keys, snap) = self.install_snapshot(bytes, now_ms, primary.is_none())?;
        let history = match (snap.repl_id, snap.repl_offset, snap.repl_stream_db) {
            (Some(id), Some(offset), Some(db)) if offset >= 0 => Some((id, offset, db)),
            _ => None,
        };
        match (primary, history) {
            (Some((host, port)), history) => {
                if let Some((id, offset, _)) = &history {
                    self.repl.replid = id.clone();
                    self.repl.offset = *offset;
                    self.repl.backlog = None;
                }
                self.set_master(host, port, now_ms);
                if let (Some((_, _, db)), Some(link)) = (history, self.repl.link.as_mut()) {
                    link.set_stream_db(db);
                }
            }
            (None, Some((id, offset, _))) => {
                self.repl.replid2 = id;
                self.repl.second_offset = offset + 1;
                self.repl.offset = offset;
                let size = self.backlog_size_config();
                self.repl.backlog = Some(crate::types::backlog::Backlog::new(size, offset));
                self.record_for_replicas();
            }
            (None, None) => {}
        }
        Ok(keys)
    }

    /// Writes a snapshot through the host's writer (SAVE, SHUTDOWN, a rule with a writer).
    /// Without a writer nothing is written and the call fails.
    pub fn save_now(&mut self, now_ms: i64) -> Result<(), SaveFailed> {
        let bytes = self.snapshot(now_ms);
        let changes = self.dirty;
        self.persist.saves += 1;
        self.persist.last_try_s = now_ms / 1000;
        let result = match self.persist.writer.as_mut() {
            Some(w) => w(&bytes),
            None => Err("no snapshot storage".to_string()),
        };
        self.record_save(result.is_ok(), changes, now_ms);
        result.map_err(SaveFailed)
    }

    /// SAVE, BGSAVE and the rules end here: a host with a writer saves at once; any other is
    /// asked to. Returns whether the save succeeded or was handed over.
    pub(crate) fn start_save(&mut self, kind: SaveRequest, now_ms: i64) -> bool {
        if kind == SaveRequest::Background {
            self.persist.forks += 1;
        }
        if self.persist.writer.is_some() {
            return self.save_now(now_ms).is_ok();
        }
        self.persist.saves += 1;
        self.persist.last_try_s = now_ms / 1000;
        if kind == SaveRequest::Background {
            self.persist.bgsave_in_progress = true;
            self.persist.bgsave_changes = self.dirty;
        }
        self.persist.request = Some(kind);
        true
    }

    /// The save the host should carry out now, if any (hosts without a writer). After
    /// storing the snapshot ([`Engine::snapshot`]), the host calls [`Engine::save_finished`].
    pub fn take_save_request(&mut self) -> Option<SaveRequest> {
        let req = self.persist.request.take();
        if req == Some(SaveRequest::Now) {
            self.persist.bgsave_changes = self.dirty;
        }
        req
    }

    /// The host stored (or failed to store) the snapshot it was asked for: LASTSAVE and the
    /// change counter move on success, rdb_last_bgsave_status says err on failure.
    pub fn save_finished(&mut self, ok: bool, now_ms: i64) {
        let changes = self.persist.bgsave_changes;
        self.persist.bgsave_in_progress = false;
        self.record_save(ok, changes, now_ms);
    }

    fn record_save(&mut self, ok: bool, changes: u64, now_ms: i64) {
        self.persist.last_failed = !ok;
        if ok {
            // Writes made while a background save ran stay counted, as in Redis.
            self.dirty = self.dirty.saturating_sub(changes);
            self.last_save_s = now_ms / 1000;
        }
    }

    /// DEBUG RELOAD: saves a snapshot (unless `save` is false: then the stored one is read),
    /// then loads it, into emptied databases when `flush`, else beside the keys there; a key
    /// that exists is replaced only with `merge`.
    pub(crate) fn debug_reload(
        &mut self,
        save: bool,
        flush: bool,
        merge: bool,
        now_ms: i64,
    ) -> Result<(), crate::error::CmdError> {
        use crate::error;
        let bytes = if save {
            let bytes = self.snapshot(now_ms);
            if self.persist.writer.is_some() {
                self.save_now(now_ms).map_err(|_| error::SAVE_FAILED)?;
            } else {
                self.record_save(true, self.dirty, now_ms);
            }
            if self.persist.reader.is_none() {
                // Nothing to read the stored copy back with: keep this one for NOSAVE.
                self.persist.reload_copy = Some(bytes.clone());
            }
            bytes
        } else {
            let read = match self.persist.reader.as_mut() {
                Some(r) => r(),
                None => self.persist.reload_copy.clone().ok_or_else(String::new),
            };
            read.map_err(|_| error::DEBUG_RELOAD_FAILED)?
        };
        let drop_expired = self.repl.link.is_none();
        let snap = crate::rdb::load_snapshot_with_progress(
            &bytes,
            self.dbs.len(),
            now_ms,
            drop_expired,
            &mut |_| {},
        )
        .map_err(|_| error::DEBUG_RELOAD_FAILED)?;
        self.persist.last_load_keys = (snap.keys_loaded, snap.keys_expired);
        let libraries = crate::scripting::functions::compile_all(&snap.functions, self.clock())
            .map_err(|_| error::DEBUG_RELOAD_FAILED)?;
        let loaded = snap.dbs;
        if flush {
            self.replace_data(loaded, now_ms);
            self.scripts.libraries = libraries;
            self.scripts.fvm = None;
            return Ok(());
        }
        // Without FLUSH the snapshot's libraries join those loaded; one already loaded fails
        // the load unless MERGE lets it replace its namesake, as keys do.
        if !merge
            && libraries
                .keys()
                .any(|n| self.scripts.libraries.contains_key(n))
        {
            return Err(error::DEBUG_RELOAD_FAILED);
        }
        if !merge {
            let clash = loaded.iter().enumerate().any(|(i, db)| {
                db.iter()
                    .any(|(k, _)| self.dbs.get(i).is_some_and(|d| d.peek(k).is_some()))
            });
            if clash {
                return Err(error::DEBUG_RELOAD_DUPLICATE);
            }
        }
        if !libraries.is_empty() {
            self.scripts.libraries.extend(libraries);
            self.scripts.fvm = None;
        }
        for (i, db) in loaded.into_iter().enumerate() {
            let keys: Vec<Vec<u8>> = db.iter().map(|(k, _)| k.to_vec()).collect();
            let mut db = db;
            for k in keys {
                if let Some((entry, expire_at)) = db.take(&k, i64::MIN) {
                    self.dbs[i].insert(k.clone(), entry, expire_at);
                    self.signal_modified(i, &k);
                }
            }
        }
        Ok(())
    }

    /// serverCron's part: a scheduled BGSAVE, or the first `save` rule met (at least
    /// `changes` changes and `seconds` since the last save; after a failure, not before the
    /// retry delay).
    pub(crate) fn cron_save(&mut self, now_ms: i64) {
        if self.persist.bgsave_in_progress || self.persist.request.is_some() {
            return;
        }
        let now_s = now_ms / 1000;
        if self.persist.bgsave_scheduled {
            self.persist.bgsave_scheduled = false;
            self.start_save(SaveRequest::Background, now_ms);
            return;
        }
        let may_retry =
            !self.persist.last_failed || now_s - self.persist.last_try_s > RETRY_DELAY_S;
        if !may_retry || self.dirty == 0 {
            return;
        }
        let due = crate::config::save_rules(&self.config.save)
            .into_iter()
            .any(|(seconds, changes)| self.dirty >= changes && now_s - self.last_save_s > seconds);
        if due {
            self.start_save(SaveRequest::Background, now_ms);
        }
    }
}
