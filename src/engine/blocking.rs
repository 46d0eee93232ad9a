//! Clients waiting in blocking commands (BLPOP, BZPOPMIN, XREAD BLOCK ...): who waits on which
//! key, serving them when a key changes (first blocked, first served), timeouts, CLIENT
//! UNBLOCK, and running what a client sent while it waited.

use super::call::Via;
use super::{ClientId, Engine};
use crate::commands::{Command, Group};
use crate::protocol::Reply;

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
    /// The blocking command.
    pub cmd: &'static Command,
    /// Database of the keys.
    pub db: usize,
    /// The blocking command's arguments.
    pub argv: Vec<Vec<u8>>,
    /// What it waits for.
    pub block: Block,
}

/// The type of value a blocking command waits for.
fn waits_for(cmd: &Command) -> Option<&'static str> {
    match cmd.spec.group {
        Group::List => Some("list"),
        Group::SortedSet => Some("zset"),
        Group::Stream => Some("stream"),
        _ => None,
    }
}

impl Engine {
    /// Whether `client` is waiting in a blocking command.
    pub fn is_blocked(&self, client: ClientId) -> bool {
        self.blocked.contains_key(&client)
    }

    /// Ends a client's wait at once (CLIENT UNBLOCK, or the page's Ctrl+C): with its timeout
    /// reply, or with `error` when given. Returns whether the client was blocked. Like Redis,
    /// the interrupted command counts as failed.
    pub fn unblock(&mut self, client: ClientId, error: Option<Reply>, now: i64) -> bool {
        match self.unblock_client(client) {
            Some(b) => {
                self.stats.of(b.cmd).failed += 1;
                // Redis logs a blocking command when its wait ends, however it ends.
                self.slowlog_consider(client, b.cmd, &b.argv, 0, now);
                let reply = match error {
                    Some(e) => {
                        if let Reply::Error(t) = &e {
                            self.stats.count_error(t);
                        }
                        e
                    }
                    None => self
                        .wait_timeout_reply(client)
                        .unwrap_or(b.block.on_timeout),
                };
                self.resume(client, reply, now);
                true
            }
            None => false,
        }
    }

    /// A key clients may be blocked on changed without being modified (WATCH keeps its
    /// state): they are served after the running command, as XGROUP DESTROY does.
    pub fn signal_ready(&mut self, db: usize, key: &[u8]) {
        if self.waiting.is_empty() {
            return;
        }
        let k = (db, key.to_vec());
        if self.waiting.contains_key(&k) {
            self.ready.push_back(k);
        }
    }

    pub(super) fn block_client(
        &mut self,
        client: ClientId,
        cmd: &'static Command,
        db: usize,
        argv: &[Vec<u8>],
        mut block: super::Block,
    ) {
        let argv = block.rerun.take().unwrap_or_else(|| argv.to_vec());
        for key in &block.keys {
            let list = self.waiting.entry((db, key.clone())).or_default();
            if !list.contains(&client) {
                list.push(client);
            }
        }
        self.blocked.insert(
            client,
            Blocked {
                cmd,
                db,
                argv,
                block,
            },
        );
    }

    /// Removes `client` from the blocked set; returns what it was waiting for.
    pub(super) fn unblock_client(&mut self, client: ClientId) -> Option<Blocked> {
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

    /// Ends a WAIT that its replicas satisfied.
    pub(super) fn finish_wait(&mut self, client: ClientId, reply: Reply, now: i64) {
        if self.unblock_client(client).is_some() {
            self.resume(client, reply, now);
        }
    }

    /// Hands `reply` to a client that was blocked, then runs what it sent meanwhile.
    fn resume(&mut self, client: ClientId, reply: Reply, now: i64) {
        let Some(c) = self.clients.get_mut(&client) else {
            return;
        };
        c.outbox.push(reply);
        self.mail.insert(client);
        self.tracking_own_sent(client);
        self.run_pending(client, now);
    }

    /// Runs the commands a client sent while it was blocked or paused, until it blocks or is
    /// paused again; their replies go to its outbox.
    pub(super) fn run_pending(&mut self, client: ClientId, now: i64) {
        while !self.blocked.contains_key(&client)
            && self.clients.get(&client).is_some_and(|c| !c.paused)
            && self
                .scripts
                .slice
                .as_ref()
                .is_none_or(|s| s.client != client)
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
                    self.mail.insert(client);
                }
            }
        }
    }

    /// Serves blocked clients whose keys changed, first blocked first, until nothing more can
    /// be served (serving one may make another key ready, as BLMOVE does). As in Redis, a
    /// client is served only when the key now holds the type it waits for (a list, a sorted
    /// set, a stream), and then gets whatever its command answers, an error included (BLMOVE
    /// to a destination of the wrong type, XREADGROUP whose group was destroyed); otherwise it
    /// keeps waiting, except an XREADGROUP whose stream is gone, which Redis unblocks with an
    /// error.
    pub(super) fn serve_ready(&mut self, now: i64) {
        // First made ready, first served (Redis's ready-key list is FIFO).
        while let Some((db, key)) = self.ready.pop_front() {
            let Some(ids) = self.waiting.get(&(db, key.clone())).cloned() else {
                continue;
            };
            for id in ids {
                let Some(b) = self.blocked.get(&id) else {
                    continue;
                };
                let (cmd, argv, bdb) = (b.cmd, b.argv.clone(), b.db);
                let held = self.dbs[bdb].get(&key, now).map(|e| e.value.type_name());
                if held.is_none() || held != waits_for(cmd) {
                    if cmd.full_name == "xreadgroup" && held != Some("stream") {
                        let error = Reply::Error(crate::error::STREAM_GONE.0);
                        self.unblock(id, Some(error), now);
                    }
                    continue;
                }
                // As Redis does, the served client is the current one while its command runs:
                // what it invalidates in its own cache reaches it after its reply.
                let prev = self.current.replace(id);
                let called = self.call(id, cmd, &argv, bdb, now, Via::Served(key.clone()));
                self.current = prev;
                // Nothing for this one yet (XREAD woken by a change before its ID): it waits on.
                if called.block.is_some() {
                    self.tracking_own_sent(id);
                    continue;
                }
                self.count_served(cmd, &called.reply);
                self.unblock_client(id);
                self.resume(id, called.reply, now);
            }
        }
    }

    /// Every key clients wait on in database `db` becomes ready, so each waiter is served,
    /// unblocked or left waiting by what the key now holds (FLUSHDB, SWAPDB, a loaded
    /// snapshot).
    pub(super) fn ready_all_waiting(&mut self, db: usize) {
        let keys: Vec<(usize, Vec<u8>)> = self
            .waiting
            .keys()
            .filter(|(d, _)| *d == db)
            .cloned()
            .collect();
        self.ready.extend(keys);
    }

    /// Ends the waits whose deadline has passed, with each command's timeout reply.
    pub(super) fn expire_blocked(&mut self, now: i64) {
        let due: Vec<ClientId> = self
            .blocked
            .iter()
            .filter(|(_, b)| b.block.deadline.is_some_and(|t| t <= now))
            .map(|(id, _)| *id)
            .collect();
        for id in due {
            if let Some(b) = self.unblock_client(id) {
                // Unlike a served or interrupted wait, a timeout is not logged by Redis.
                let reply = self.wait_timeout_reply(id).unwrap_or(b.block.on_timeout);
                self.resume(id, reply, now);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::testkit::{engine, run, NOW};

    /// (calls, rejected, failed) of a command, by its full name.
    fn stat(eng: &crate::Engine, name: &str) -> (u64, u64, u64) {
        let cmd = crate::commands::commands()
            .iter()
            .find(|c| c.full_name == name)
            .expect("a command of the table");
        let s = &eng.stats.cmdstats[cmd.id];
        (s.calls, s.rejected, s.failed)
    }

    /// Checked against redis-server 7.0.15: CLIENT UNBLOCK fails the interrupted command
    /// either way; with ERROR the error counts, and CLIENT UNBLOCK itself failed (an error
    /// reply went out while it ran).
    #[test]
    fn client_unblock_counts_like_redis() {
        let (mut eng, a) = engine();
        let b = eng.open_client(NOW);
        assert!(eng
            .execute(b, &[b"BLPOP".to_vec(), b"q".to_vec(), b"0".to_vec()], NOW)
            .is_none());
        run(&mut eng, a, &format!("CLIENT UNBLOCK {} ERROR", b));
        assert_eq!(stat(&eng, "blpop"), (1, 0, 1));
        assert_eq!(stat(&eng, "client|unblock"), (1, 0, 1));
        assert_eq!(eng.stats.errorstats.get("UNBLOCKED"), Some(&1));
        assert!(eng
            .execute(b, &[b"BLPOP".to_vec(), b"q".to_vec(), b"0".to_vec()], NOW)
            .is_none());
        run(&mut eng, a, &format!("CLIENT UNBLOCK {}", b));
        assert_eq!(stat(&eng, "blpop"), (2, 0, 2));
        assert_eq!(stat(&eng, "client|unblock"), (2, 0, 1));
        assert_eq!(eng.stats.error_replies, 1);
    }
}
