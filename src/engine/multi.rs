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
            let before = self.clients.get(&client).map_or(0, |c| c.outbox.len());
            let called = self.call(client, cmd, argv, db, now, Via::Exec);
            db = called.db;
            let reply = self.inline_own_messages(client, before, called.reply_at, called.reply);
            replies.push(reply);
        }
        (Ok(Reply::Array(replies)), db)
    }

    /// A queued command's reply with the pub/sub messages it sent to its own client (a
    /// client subscribed to a channel it publishes to, or to its own keyspace events) taken
    /// from the outbox and put around it: Redis writes them into the client's output while
    /// EXEC runs, in the middle of EXEC's reply, where the array's length does not count
    /// them. Messages before the point the command replied at (`reply_at`) come first.
    fn inline_own_messages(
        &mut self,
        client: ClientId,
        before: usize,
        reply_at: Option<usize>,
        reply: Reply,
    ) -> Reply {
        let Some(c) = self.clients.get_mut(&client) else {
            return reply;
        };
        let is_message = |r: &Reply| match r {
            Reply::Push(v) | Reply::Array(v) => matches!(
                v.first(),
                Some(Reply::Bulk(k)) if k == b"message" || k == b"pmessage" || k == b"smessage"
            ),
            _ => false,
        };
        if c.outbox.len() <= before || !c.outbox[before..].iter().any(is_message) {
            return reply;
        }
        let at = reply_at
            .unwrap_or(c.outbox.len())
            .clamp(before, c.outbox.len());
        let (mut first, mut then, mut kept) = (Vec::new(), Vec::new(), Vec::new());
        for (i, r) in c.outbox.drain(before..).enumerate() {
            if !is_message(&r) {
                kept.push(r);
            } else if before + i < at {
                first.push(r);
            } else {
                then.push(r);
            }
        }
        c.outbox.extend(kept);
        first.push(reply);
        first.extend(then);
        Reply::Multi(first)
    }

    /// Starts watching `key` in `db` for `client` (WATCH).
    pub fn watch(&mut self, client: ClientId, db: usize, key: &[u8], now: i64) {
        let Some(c) = self.clients.get(&client) else {
            return;
        };
        if c.watching.iter().any(|(d, k, _)| *d == db && k == key) {
            return;
        }
        let expired = self.dbs[db].is_expired(key, now);
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
            c.watching
                .iter()
                .any(|(db, key, was_expired)| !was_expired && self.dbs[*db].is_expired(key, now))
        })
    }

    /// Marks the WATCHers of `key` in database `db` dirty, and wakes the clients blocked on it.
    #[inline]
    pub fn signal_modified(&mut self, db: usize, key: &[u8]) {
        // Every write signals: with no client blocked, watching or tracking (the usual case)
        // that costs a few tests and no call.
        if self.waiting.is_empty() && !self.keys_observed() {
            return;
        }
        if !self.waiting.is_empty() && self.waiting.contains_key(&(db, key.to_vec())) {
            self.ready.push_back((db, key.to_vec()));
        }
        self.signal_modified_no_wake(db, key);
    }

    /// Whether some client watches keys or tracks them (a change must be told to it).
    #[inline]
    fn keys_observed(&self) -> bool {
        !self.watched.is_empty()
            || !self.tracking.keys.is_empty()
            || !self.tracking.prefixes.is_empty()
    }

    /// Marks the WATCHers of `key` in database `db` dirty (and invalidates it for tracking)
    /// without waking the clients blocked on it: Redis wakes a stream's readers on new
    /// entries, not when XSETID moves its last ID.
    #[inline]
    pub fn signal_modified_no_wake(&mut self, db: usize, key: &[u8]) {
        if self.keys_observed() {
            self.signal_observers(db, key);
        }
    }

    /// [`Engine::signal_modified_no_wake`] once some client watches or tracks keys.
    #[inline(never)]
    fn signal_observers(&mut self, db: usize, key: &[u8]) {
        if !self.tracking.keys.is_empty() || !self.tracking.prefixes.is_empty() {
            let by = self.current;
            self.tracking_invalidate(key, by);
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

    /// Marks dirty the WATCHers of keys affected by swapping databases `a` and `b` (SWAPDB),
    /// each side being emptied and replaced with the other.
    pub fn signal_swapped(&mut self, a: usize, b: usize, now: i64) {
        self.ready_all_waiting(a);
        self.ready_all_waiting(b);
        self.touch_watched_in_db(a, Some(b), now);
        self.touch_watched_in_db(b, Some(a), now);
    }

    /// Marks dirty every WATCHer of a key in database `db` that exists now (FLUSHDB,
    /// FLUSHALL and loading data call it before they change the database).
    pub fn signal_flushed(&mut self, db: usize) {
        self.ready_all_waiting(db);
        self.touch_watched_in_db(db, None, i64::MIN);
    }

    /// Redis's touchAllWatchedKeysInDb: database `emptied` loses its keys and takes those of
    /// `replaced_with` (none for a flush). A watched key that is stored on either side counts
    /// as changed, except that a key expired when watched and still missing or expired, or a
    /// missing key replaced by an expired one, is no logical change.
    fn touch_watched_in_db(&mut self, emptied: usize, replaced_with: Option<usize>, now: i64) {
        let keys: Vec<Vec<u8>> = self
            .watched
            .keys()
            .filter(|(d, _)| *d == emptied)
            .map(|(_, k)| k.clone())
            .collect();
        for key in keys {
            let in_emptied = self.dbs[emptied].peek(&key).is_some();
            let replacement = replaced_with.and_then(|r| self.dbs[r].peek(&key));
            if !in_emptied && replacement.is_none() {
                continue;
            }
            let replacement_expired =
                replaced_with.is_some_and(|r| self.dbs[r].is_expired(&key, now));
            let replaced = replacement.is_some();
            let ids = self
                .watched
                .get(&(emptied, key.clone()))
                .cloned()
                .unwrap_or_default();
            for id in ids {
                let Some(c) = self.clients.get_mut(&id) else {
                    continue;
                };
                let Some(entry) = c
                    .watching
                    .iter_mut()
                    .find(|(d, k, _)| *d == emptied && *k == key)
                else {
                    c.watch_dirty = true;
                    continue;
                };
                if entry.2 {
                    if !replaced {
                        // Expired and now deleted: no logical change.
                        entry.2 = false;
                        continue;
                    } else if replacement_expired {
                        continue;
                    }
                } else if !in_emptied && replacement_expired {
                    entry.2 = true;
                    continue;
                }
                c.watch_dirty = true;
            }
        }
    }
}
