//! What a handler sees: the engine, the calling client, its database and the time, with the
//! lookups and signals every command uses.

use super::blocking::Block;
use super::{Client, ClientId, Engine};
use crate::db::{Db, Entry, KeyPos, LfuParams};
use crate::error::CmdError;
use crate::protocol::Reply;

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
    /// Set by a blocking command that found nothing to serve: the client waits. Boxed: a
    /// command rarely blocks, and every call moves what it produced (see `Called`).
    pub block: Option<Box<Block>>,
    /// Inside EXEC: blocking commands answer at once as if they had timed out.
    pub no_block: bool,
    /// Where, in the calling client's outbox, Redis would have written this command's reply
    /// (set by [`Ctx::reply_point`]); None: after everything the command published.
    pub reply_at: Option<usize>,
    /// When the engine runs a blocked command again: the key whose change woke it (XREAD
    /// serves from that stream only, as Redis does).
    pub ready_key: Option<Vec<u8>>,
    /// What the command propagates instead of itself (see [`Ctx::propagate_as`]).
    pub propagate_as: Option<Vec<Vec<u8>>>,
    /// The command propagates nothing of itself (EVAL: its writes propagate one by one).
    pub no_propagate: bool,
    /// The command propagates even when it changed nothing (FLUSHALL on empty databases).
    pub force_propagate: bool,
    /// A Lua script sent the command (Redis's CLIENT_SCRIPT): XREAD refuses BLOCK, SORT
    /// orders a set it was asked not to sort.
    pub from_script: bool,
}

impl Ctx<'_> {
    /// Propagates `argv` (to the AOF and replicas) in place of the command as sent, when the
    /// command changes data: Redis's rewriteClientCommandVector.
    pub fn propagate_as(&mut self, argv: Vec<Vec<u8>>) {
        self.propagate_as = Some(argv);
    }

    /// The deletion command a removal propagates as: UNLINK when the lazyfree parameter
    /// `param` is `yes`, else DEL.
    pub fn del_verb(&self, param: &str) -> Vec<u8> {
        if self.eng.config.get_named(param) == "yes" {
            b"UNLINK".to_vec()
        } else {
            b"DEL".to_vec()
        }
    }

    /// Propagates `argv` in the current database besides the command itself (Redis's
    /// alsoPropagate), after what was propagated so far in this call.
    pub fn also_propagate(&mut self, argv: Vec<Vec<u8>>) {
        let db = self.db;
        self.eng.also_propagate(db, argv);
    }

    /// Whether a blocking command may block now (not inside EXEC).
    pub fn can_block(&self) -> bool {
        !self.no_block
    }

    /// Blocks the calling client on `keys` until `deadline` (None: for ever); `on_timeout` is
    /// its reply if nothing serves it in time. The handler's own return value is then ignored.
    pub fn block_on(&mut self, keys: Vec<Vec<u8>>, deadline: Option<i64>, on_timeout: Reply) {
        self.block = Some(Box::new(Block {
            keys,
            deadline,
            on_timeout,
            rerun: None,
        }));
    }

    /// As [`Ctx::block_on`], but the command is run again with `argv` instead of its own.
    pub fn block_on_rerun(
        &mut self,
        keys: Vec<Vec<u8>>,
        deadline: Option<i64>,
        on_timeout: Reply,
        argv: Vec<Vec<u8>>,
    ) {
        self.block = Some(Box::new(Block {
            keys,
            deadline,
            on_timeout,
            rerun: Some(argv),
        }));
    }

    /// The calling client's database.
    pub fn db(&mut self) -> &mut Db {
        &mut self.eng.dbs[self.db]
    }

    /// Whether the running command must be obeyed as it was written, as Redis obeys its AOF
    /// and its primary (mustObeyClient): it was checked once already, where it first ran.
    pub fn must_obey(&self) -> bool {
        self.eng
            .clients
            .get(&self.client)
            .is_some_and(super::clients::Client::obeyed)
    }

    /// The answer to a command whose reply would have `elements` elements of `min_bytes`
    /// bytes at least, more than the engine builds (HRANDFIELD and SRANDMEMBER with a huge
    /// negative count). Redis writes such a reply as it goes, and a normal client's hard
    /// output-buffer limit closes the connection partway: when the reply would pass that
    /// limit, the connection closes the same way, with nothing written. Otherwise (no limit,
    /// one it might not reach, or a caller without a connection: a script, the primary, the
    /// AOF) the command is refused with `too_long`.
    pub fn reply_too_long(
        &mut self,
        elements: u64,
        min_bytes: u64,
        too_long: CmdError,
    ) -> Result<Reply, CmdError> {
        // A script's replies and those to a primary or the AOF loader are under no output
        // limit in Redis (no connection of their own): those are refused as before.
        if self.from_script || self.must_obey() {
            return Err(too_long);
        }
        let limit = self.eng.config.normal_obuf_hard_limit();
        if limit == 0 || elements.saturating_mul(min_bytes) <= limit {
            return Err(too_long);
        }
        let id = self.client;
        self.eng.server_log(
            super::log::LogLevel::Warning,
            format!(
                "Client id={id} scheduled to be closed ASAP for overcoming of output buffer limits."
            ),
        );
        self.client().closing = true;
        // A reply of no parts writes nothing before the connection closes.
        Ok(Reply::Multi(Vec::new()))
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

    /// [`Ctx::lookup_write`], answering where the key is (see [`Db::lookup_lfu_at`]): SET
    /// replaces the value there without looking the key up a second time.
    pub fn lookup_write_at(&mut self, key: &[u8]) -> Option<KeyPos> {
        let now = self.now;
        let lfu = self.lfu_params();
        let eng = &mut *self.eng;
        let db = &mut eng.dbs[self.db];
        let pos = db.lookup_lfu_at(key, now, lfu)?;
        if let Some(n) = db.entry_at(pos).shared_integer() {
            eng.shared_int_access.insert(n, now);
        }
        Some(pos)
    }

    /// The LFU parameters of the current configuration, for recording accesses.
    pub fn lfu_params(&mut self) -> LfuParams {
        LfuParams {
            log_factor: self.eng.config.lfu_log_factor,
            decay_time: self.eng.config.lfu_decay_time,
            draw: self.eng.memory.rng.unit(),
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
        let db = self.db;
        self.eng.signal_ready(db, key);
    }

    /// Tells the engine `key` in the current database was modified: WATCHers of it will fail
    /// their EXEC. Every write command calls it for each key it changes.
    pub fn signal_modified(&mut self, key: &[u8]) {
        let db = self.db;
        self.eng.signal_modified(db, key);
    }

    /// As [`Ctx::signal_modified`], without waking the clients blocked on `key`.
    pub fn signal_modified_no_wake(&mut self, key: &[u8]) {
        let db = self.db;
        self.eng.signal_modified_no_wake(db, key);
    }
}
