//! Transactions: running a MULTI queue (EXEC), WATCH, and what makes a watched key dirty.

use super::call::Via;
use super::{ClientId, Engine};
use crate::error::{self, CmdResult};
use crate::protocol::Reply;

impl Engine {
    /// EXEC for `client`: each queued command through [`Engine::call`], their replies in one
    /// array; nil when a watched key changed; `EXECABORT` when a command was refused while
    /// queueing. `db` is the client's database when EXEC runs; the returned one is where the
    /// queue left it (SELECT inside MULTI).
    pub(crate) fn exec_transaction(
        &mut self,
        client: ClientId,
        mut db: usize,
        now: i64,
    ) -> (CmdResult, usize) {
        let Some(c) = self.clients.get_mut(&client) else {
            return (Err(error::EXEC_WITHOUT_MULTI), db);
        };
        let Some(queue) = c.multi.take() else {
            return (Err(error::EXEC_WITHOUT_MULTI), db);
        };
        let aborted = std::mem::take(&mut c.multi_error);
        let dirty = c.watch_dirty || self.watched_key_expired(client, now);
        self.unwatch_all(client);
        if aborted {
            return (Err(error::EXECABORT), db);
        }
        if dirty {
            return (Ok(Reply::NilArray), db);
        }
        let mut replies = Vec::with_capacity(queue.len());
        for (cmd, argv) in &queue {
            // The user's rules may have changed since the command was queued.
            if let Err(denied) = self.acl_check(client, cmd, argv) {
                self.acl_log_denied(client, cmd, argv, denied, "multi", now);
                let e = error::noperm_at_exec(denied.0);
                self.stats.count_error(e.text());
                replies.push(Reply::Error(e.0));
                continue;
            }
            let called = self.call(client, cmd, argv, db, now, Via::Exec);
            db = called.db;
            replies.push(called.reply);
        }
        (Ok(Reply::Array(replies)), db)
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

    /// Marks the WATCHers of `key` in database `db` dirty.
    pub fn signal_modified(&mut self, db: usize, key: &[u8]) {
        if !self.tracking.keys.is_empty() || !self.tracking.prefixes.is_empty() {
            let by = self.current;
            self.tracking_invalidate(key, by);
        }
        if !self.waiting.is_empty() && self.waiting.contains_key(&(db, key.to_vec())) {
            self.ready.push_back((db, key.to_vec()));
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
        self.ready_all_waiting(a);
        self.ready_all_waiting(b);
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
        self.ready_all_waiting(db);
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
}
