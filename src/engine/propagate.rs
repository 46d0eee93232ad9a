//! What each executed command propagates: the commands the append-only file records and a
//! replica would receive, as Redis 7.0 rewrites them (server.c's `alsoPropagate` and
//! `propagatePendingCommands`).
//!
//! [`Engine::call`] feeds it: a command that changed the data (the dirty counter moved, or it
//! forces propagation, as FLUSHALL does) is recorded as sent or as its handler rewrote it
//! ([`Ctx::propagate_as`]: `SET k v EX 10` becomes `SET k v PXAT <ms>`, `INCRBYFLOAT` a `SET
//! ... KEEPTTL`, a served `BLPOP` an `LPOP` ...). Keys removed by lazy expiry during a command
//! come first, as `DEL` (or `UNLINK` with `lazyfree-lazy-expire yes`). When the outermost call
//! ends, what it recorded becomes ready, inside `MULTI` ... `EXEC` when there are several
//! commands (EXEC's and a script's writes, a write after a lazy expiry), except for commands
//! that touch arbitrary keys (SCAN, RANDOMKEY). Active expiry's deletions are ready one by one.
//!
//! Nothing is recorded until a host turns recording on ([`Engine::set_propagation`]); the host
//! then drains [`Engine::take_propagated`] and writes the commands out with [`StreamEncoder`],
//! which adds `SELECT` when the database changes. The AOF uses it; the replication stream
//! (see `replication.rs`) is fed here too, encoded once, while a backlog exists.
//!
//! [`Ctx::propagate_as`]: super::Ctx::propagate_as

use super::Engine;

/// Target bit: the append-only file (Redis's `PROPAGATE_AOF`, a script's `redis.REPL_AOF`).
pub const TO_AOF: u8 = 1;
/// Target bit: replicas (Redis's `PROPAGATE_REPL`, a script's `redis.REPL_REPLICA`).
pub const TO_REPLICAS: u8 = 2;
/// Both targets: what every command propagates to unless a script's `redis.set_repl` says less.
pub const TO_ALL: u8 = TO_AOF | TO_REPLICAS;

/// One command as the AOF records it and a replica receives it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Propagated {
    /// The database it applies to.
    pub db: usize,
    /// The command and its arguments.
    pub argv: Vec<Vec<u8>>,
    /// Where it goes: [`TO_AOF`], [`TO_REPLICAS`] or both. A host writes only what carries its
    /// bit (the AOF skips a script's writes after `redis.set_repl(redis.REPL_REPLICA)`).
    pub targets: u8,
}

/// Propagation state.
#[derive(Default)]
pub struct Propagation {
    /// Whether commands are recorded for the host (the AOF turned it on).
    pub enabled: bool,
    /// Whether commands are recorded for the replication stream (a backlog exists).
    pub for_replicas: bool,
    /// What the running outermost call recorded so far.
    pending: Vec<Propagated>,
    /// How deep in nested calls (EXEC, scripts) the engine is.
    pub(crate) depth: u32,
    /// Complete units, ready for the host.
    ready: Vec<Propagated>,
    /// How much of each database's expiry log has been propagated.
    expiry_seen: Vec<usize>,
    /// The targets of the command a script is running (its `redis.set_repl` flags; all
    /// otherwise): what [`Engine::call`] records that command's own propagation with.
    pub(crate) script_targets: u8,
}

/// Writes propagated commands as RESP, emitting `SELECT <db>` before a command whose database
/// differs from the previous one's (as Redis writes its AOF and replication stream).
#[derive(Clone, Debug, Default)]
pub struct StreamEncoder {
    /// The database the stream is in; None at the start (the first command selects).
    pub selected: Option<usize>,
}

impl Propagation {
    /// Whether anyone consumes what commands propagate.
    pub fn recording(&self) -> bool {
        self.enabled || self.for_replicas
    }
}

impl StreamEncoder {
    /// Appends `p` (preceded by a SELECT when needed) to `out`.
    pub fn encode(&mut self, p: &Propagated, out: &mut Vec<u8>) {
        if self.selected != Some(p.db) {
            let db = p.db.to_string();
            encode_command(&[b"SELECT".as_slice(), db.as_bytes()], out);
            self.selected = Some(p.db);
        }
        encode_command(&p.argv, out);
    }
}

/// A command as a RESP array of bulk strings.
pub fn encode_command<A: AsRef<[u8]>>(argv: &[A], out: &mut Vec<u8>) {
    out.extend_from_slice(format!("*{}\r\n", argv.len()).as_bytes());
    for a in argv {
        let a = a.as_ref();
        out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
        out.extend_from_slice(a);
        out.extend_from_slice(b"\r\n");
    }
}

impl Engine {
    /// Turns the recording of propagated commands on or off (off drops what was not taken).
    pub fn set_propagation(&mut self, on: bool) {
        if on && !self.propagation.recording() {
            // Expiries before now were not this stream's to record.
            self.propagation.expiry_seen = self.dbs.iter().map(|d| d.expired_log.len()).collect();
        }
        self.propagation.enabled = on;
        if !on {
            if !self.propagation.for_replicas {
                self.propagation.pending.clear();
            }
            self.propagation.ready.clear();
        }
    }

    /// Turns the recording for the replication stream on (a backlog now exists).
    pub(crate) fn record_for_replicas(&mut self) {
        if !self.propagation.recording() {
            self.propagation.expiry_seen = self.dbs.iter().map(|d| d.expired_log.len()).collect();
        }
        self.propagation.for_replicas = true;
    }

    /// The commands propagated since the last call, oldest first, in complete units (a
    /// transaction is never split).
    pub fn take_propagated(&mut self) -> Vec<Propagated> {
        std::mem::take(&mut self.propagation.ready)
    }

    /// A command line from a client starts at the top: a call a panic cut short (the native
    /// server survives a panicking handler) must not leave the engine thinking it is nested.
    pub(crate) fn propagation_top_level(&mut self) {
        self.propagation.depth = 0;
    }

    /// The targets a host consumes now: the AOF when recording is on, the replicas while a
    /// backlog exists. Redis drops what goes to no live target at once, so such a command
    /// does not make a script's writes a transaction.
    fn live_targets(&self) -> u8 {
        let mut targets = 0;
        if self.propagation.enabled {
            targets |= TO_AOF;
        }
        if self.propagation.for_replicas {
            targets |= TO_REPLICAS;
        }
        targets
    }

    /// Records `argv` as propagated in `db` to `targets` within the running call (Redis's
    /// alsoPropagate).
    pub(crate) fn also_propagate_to(&mut self, db: usize, argv: Vec<Vec<u8>>, targets: u8) {
        if targets & self.live_targets() != 0 {
            self.propagation
                .pending
                .push(Propagated { db, argv, targets });
        }
    }

    /// Records `argv` as propagated in `db` to every target within the running call.
    pub(crate) fn also_propagate(&mut self, db: usize, argv: Vec<Vec<u8>>) {
        self.also_propagate_to(db, argv, TO_ALL);
    }

    /// The deletion a key removed by expiry propagates as.
    pub(crate) fn propagate_expired(&mut self, db: usize, key: Vec<u8>) {
        let verb: &[u8] = if self.config.lazyfree_lazy_expire {
            b"UNLINK"
        } else {
            b"DEL"
        };
        self.also_propagate(db, vec![verb.to_vec(), key]);
    }

    /// Propagates the deletion of every key expired since the last look (lazily in a command,
    /// or by active expiry); each expiry is propagated once, however deep the call.
    pub(crate) fn propagate_new_expiries(&mut self) {
        if !self.propagation.recording() {
            return;
        }
        let n = self.dbs.len();
        self.propagation.expiry_seen.resize(n, 0);
        for db in 0..n {
            let len = self.dbs[db].expired_log.len();
            let seen = self.propagation.expiry_seen[db];
            // A log shorter than what was seen was emptied since (or the data replaced).
            let from = if seen > len { 0 } else { seen };
            if from < len {
                let keys: Vec<Vec<u8>> = self.dbs[db].expired_log[from..].to_vec();
                for k in keys {
                    self.propagate_expired(db, k);
                }
            }
            self.propagation.expiry_seen[db] = len;
        }
    }

    /// Database `db`'s expiry log was emptied (its keys were signalled to WATCH).
    pub(crate) fn expiry_log_drained(&mut self, db: usize) {
        if let Some(s) = self.propagation.expiry_seen.get_mut(db) {
            *s = 0;
        }
    }

    /// The outermost call ended: what it recorded becomes ready, wrapped in MULTI/EXEC when
    /// it is several commands and `wrap` allows.
    pub(crate) fn flush_propagation(&mut self, wrap: bool) {
        let pending = std::mem::take(&mut self.propagation.pending);
        if pending.is_empty() {
            return;
        }
        let mut unit = Vec::with_capacity(pending.len() + 2);
        if wrap && pending.len() > 1 {
            let (first, last) = (pending[0].db, pending[pending.len() - 1].db);
            unit.push(Propagated {
                db: first,
                argv: vec![b"MULTI".to_vec()],
                targets: TO_ALL,
            });
            unit.extend(pending);
            unit.push(Propagated {
                db: last,
                argv: vec![b"EXEC".to_vec()],
                targets: TO_ALL,
            });
        } else {
            unit = pending;
        }
        if self.propagation.for_replicas {
            self.feed_replication(&unit);
        }
        if self.propagation.enabled {
            self.propagation.ready.extend(unit);
        }
    }
}
