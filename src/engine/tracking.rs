//! Server-assisted client-side caching (CLIENT TRACKING): which client cached which key, and
//! the invalidation messages sent when those keys change.
//!
//! Two modes, as in Redis: the default mode remembers the keys each tracking client read and
//! tells it once when one of them changes; broadcasting mode (BCAST) tells every client
//! registered for a prefix about every changed key under it, batched once per command. A
//! message goes to the client itself as a RESP3 push, or to its REDIRECT target (a RESP3 push,
//! or a `__redis__:invalidate` pub/sub message for a subscribed RESP2 client).

use std::collections::BTreeMap;

use super::{ClientId, Engine};
use crate::commands::CommandSpec;
use crate::protocol::Reply;

/// The pub/sub channel RESP2 redirect targets receive invalidations on.
pub const INVALIDATE_CHANNEL: &str = "__redis__:invalidate";

/// One client's CLIENT TRACKING settings while tracking is on.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Tracking {
    /// REDIRECT target; None sends to the client itself.
    pub redirect: Option<ClientId>,
    /// BCAST: prefixes instead of remembered keys.
    pub bcast: bool,
    /// OPTIN: only keys read right after CLIENT CACHING YES are remembered.
    pub optin: bool,
    /// OPTOUT: keys are remembered unless CLIENT CACHING NO came just before.
    pub optout: bool,
    /// NOLOOP: no message about keys this client changed itself.
    pub noloop: bool,
    /// CLIENT CACHING YES|NO was called for the next command.
    pub caching: bool,
    /// The REDIRECT target disconnected.
    pub broken: bool,
    /// BCAST prefixes, in registration order.
    pub prefixes: Vec<Vec<u8>>,
}

/// Keys changed under one broadcast prefix since the last batch, with the client that first
/// changed each (None for expiry), for NOLOOP.
#[derive(Clone, Debug, Default)]
pub struct BcastPrefix {
    /// Clients registered for this prefix.
    pub clients: Vec<ClientId>,
    /// Changed keys, in key order as Redis's radix tree sends them.
    pub pending: BTreeMap<Vec<u8>, Option<ClientId>>,
}

/// The tracking state the engine keeps for all clients.
#[derive(Clone, Debug, Default)]
pub struct TrackingTable {
    /// Default mode: for each key read, the clients that may have cached it.
    pub keys: hashbrown::HashMap<Vec<u8>, Vec<ClientId>>,
    /// BCAST mode: the registered prefixes.
    pub prefixes: BTreeMap<Vec<u8>, BcastPrefix>,
    /// Messages about the running command's own client, sent after its reply (Redis delays
    /// them so they do not split the reply): a key, or None for a flush.
    pub own: Vec<Option<Vec<u8>>>,
    /// How far behind `tracking-table-max-keys` enforcement is: each tick that cannot get
    /// under the limit works harder on the next.
    pub limit_effort: usize,
}

impl Engine {
    /// Turns tracking on for `client` (CLIENT TRACKING ON), or updates its options when it is
    /// already on; BCAST prefixes add to those it has.
    pub fn enable_tracking(&mut self, client: ClientId, mut t: Tracking) {
        let Some(c) = self.clients.get_mut(&client) else {
            return;
        };
        let (mut prefixes, caching) = c
            .tracking
            .take()
            .map(|old| (old.prefixes, old.caching))
            .unwrap_or_default();
        t.caching = caching;
        if t.bcast {
            // BCAST without PREFIX registers the empty prefix, which every key has.
            if t.prefixes.is_empty() {
                t.prefixes.push(Vec::new());
            }
            for p in &t.prefixes {
                let entry = self.tracking.prefixes.entry(p.clone()).or_default();
                if !entry.clients.contains(&client) {
                    entry.clients.push(client);
                }
                if !prefixes.contains(p) {
                    prefixes.push(p.clone());
                }
            }
        }
        // Redis keeps a client's prefixes in a radix tree: sorted, each once.
        prefixes.sort();
        t.prefixes = prefixes;
        if let Some(c) = self.clients.get_mut(&client) {
            c.tracking = Some(t);
        }
    }

    /// Turns tracking off for `client` (CLIENT TRACKING OFF, RESET, disconnection).
    pub fn disable_tracking(&mut self, client: ClientId) {
        let Some(t) = self
            .clients
            .get_mut(&client)
            .and_then(|c| c.tracking.take())
        else {
            return;
        };
        for p in &t.prefixes {
            if let Some(entry) = self.tracking.prefixes.get_mut(p) {
                entry.clients.retain(|id| *id != client);
                if entry.clients.is_empty() {
                    self.tracking.prefixes.remove(p);
                }
            }
        }
    }

    /// After a read of a tracking client in default mode: remembers the keys of `argv` (the
    /// read itself, or the script command whose script read), as OPTIN / OPTOUT and CLIENT
    /// CACHING allow.
    pub(crate) fn tracking_remember(
        &mut self,
        client: ClientId,
        spec: &CommandSpec,
        argv: &[Vec<u8>],
    ) {
        let Some(t) = self.clients.get(&client).and_then(|c| c.tracking.as_ref()) else {
            return;
        };
        if t.bcast || (t.optin && !t.caching) || (t.optout && t.caching) {
            return;
        }
        let Some(positions) = spec.key_positions(argv) else {
            return;
        };
        for (i, _) in positions {
            let Some(key) = argv.get(i) else { continue };
            let ids = self.tracking.keys.entry(key.clone()).or_default();
            if !ids.contains(&client) {
                ids.push(client);
            }
        }
    }

    /// A key changed (by `by`, the running command's client, if any): tells the clients that
    /// may have cached it, and queues it for the broadcast prefixes it falls under.
    pub(crate) fn tracking_invalidate(&mut self, key: &[u8], by: Option<ClientId>) {
        if !self.tracking.prefixes.is_empty() {
            for (prefix, entry) in self.tracking.prefixes.iter_mut() {
                if key.starts_with(prefix) {
                    entry.pending.entry(key.to_vec()).or_insert(by);
                }
            }
        }
        self.tracking_invalidate_remembered(key, by);
    }

    /// Tells the clients that remembered `key` (default mode) that it changed, and forgets it.
    fn tracking_invalidate_remembered(&mut self, key: &[u8], by: Option<ClientId>) {
        let Some(ids) = self.tracking.keys.remove(key) else {
            return;
        };
        for id in ids {
            let Some(t) = self.clients.get(&id).and_then(|c| c.tracking.as_ref()) else {
                continue;
            };
            if t.bcast {
                continue;
            }
            if Some(id) == by {
                if !t.noloop {
                    self.tracking.own.push(Some(key.to_vec()));
                }
                continue;
            }
            self.send_invalidation(id, Some(vec![Reply::bulk(key)]), by);
        }
    }

    /// Keeps the remembered keys within `tracking-table-max-keys`, as Redis's cron does:
    /// random keys are dropped, their clients told as if the keys had changed. Each call does
    /// a bounded amount of work and does more next time if that was not enough.
    #[inline]
    pub(crate) fn tracking_limit(&mut self) {
        // Before every command: nothing remembered (the usual case) costs no call and no
        // config lookup.
        if self.tracking.keys.is_empty() {
            self.tracking.limit_effort = 0;
        } else {
            self.tracking_limit_remembered();
        }
    }

    /// [`Engine::tracking_limit`] once some keys are remembered.
    #[inline(never)]
    fn tracking_limit_remembered(&mut self) {
        let max = self.config.tracking_table_max_keys();
        if max == 0 || self.tracking.keys.len() <= max {
            self.tracking.limit_effort = 0;
            return;
        }
        let effort = 100 * (self.tracking.limit_effort + 1);
        let mut keys: Vec<Vec<u8>> = self.tracking.keys.keys().cloned().collect();
        for _ in 0..effort {
            if self.tracking.keys.len() <= max || keys.is_empty() {
                break;
            }
            let i = self.rng.below(keys.len() as u64) as usize;
            let key = keys.swap_remove(i);
            self.tracking_invalidate_remembered(&key, None);
        }
        if self.tracking.keys.len() > max {
            self.tracking.limit_effort = self.tracking.limit_effort.saturating_add(1).min(1_000);
        } else {
            self.tracking.limit_effort = 0;
        }
    }

    /// FLUSHDB / FLUSHALL: every tracking client is told that everything changed (a null key
    /// list); the remembered keys are forgotten.
    pub(crate) fn tracking_flushed(&mut self, by: Option<ClientId>) {
        let ids: Vec<ClientId> = self
            .clients
            .values()
            .filter(|c| c.tracking.is_some())
            .map(|c| c.id)
            .collect();
        for id in ids {
            if Some(id) == by {
                self.tracking.own.push(None);
            } else {
                self.send_invalidation(id, None, by);
            }
        }
        self.tracking.keys.clear();
    }

    /// Sends the batched broadcast invalidations, one message per prefix and client (Redis
    /// does this before it sleeps, so after the command's reply).
    #[inline]
    pub(crate) fn tracking_broadcast(&mut self, current: Option<ClientId>) {
        // After every command: with no BCAST client (the usual case) that costs a test.
        if !self.tracking.prefixes.is_empty() {
            self.tracking_broadcast_pending(current);
        }
    }

    /// [`Engine::tracking_broadcast`] once some client tracks prefixes.
    #[inline(never)]
    fn tracking_broadcast_pending(&mut self, current: Option<ClientId>) {
        if self
            .tracking
            .prefixes
            .values()
            .all(|p| p.pending.is_empty())
        {
            return;
        }
        let mut out: Vec<(ClientId, Vec<Reply>)> = Vec::new();
        for entry in self.tracking.prefixes.values_mut() {
            let pending = std::mem::take(&mut entry.pending);
            if pending.is_empty() {
                continue;
            }
            for &id in &entry.clients {
                let noloop = self
                    .clients
                    .get(&id)
                    .and_then(|c| c.tracking.as_ref())
                    .is_some_and(|t| t.noloop);
                let keys: Vec<Reply> = pending
                    .iter()
                    .filter(|(_, who)| !(noloop && **who == Some(id)))
                    .map(|(k, _)| Reply::bulk(k))
                    .collect();
                if !keys.is_empty() {
                    out.push((id, keys));
                }
            }
        }
        for (id, keys) in out {
            self.send_invalidation(id, Some(keys), current);
        }
    }

    /// Sends the messages about the running command's own client, after its reply.
    #[inline]
    pub(crate) fn tracking_own(&mut self, client: ClientId) {
        // After nearly every command: nothing taken, nothing to free, no call.
        if !self.tracking.own.is_empty() {
            self.tracking_own_send(client);
        }
    }

    /// [`Engine::tracking_own`] once there are messages to send.
    #[inline(never)]
    fn tracking_own_send(&mut self, client: ClientId) {
        for key in std::mem::take(&mut self.tracking.own) {
            let keys = key.map(|k| vec![Reply::bulk(k)]);
            self.send_invalidation(client, keys, Some(client));
        }
    }

    /// Sends the messages about a blocked client's own command straight to its outbox, which
    /// already holds the reply it was served.
    pub(crate) fn tracking_own_sent(&mut self, client: ClientId) {
        for key in std::mem::take(&mut self.tracking.own) {
            let keys = key.map(|k| vec![Reply::bulk(k)]);
            self.send_invalidation(client, keys, None);
        }
    }

    /// Delivers one invalidation for tracking client `client`: `keys` None means "all keys"
    /// (a flush). Messages for `current` (the client whose command runs) go after its reply.
    fn send_invalidation(
        &mut self,
        client: ClientId,
        keys: Option<Vec<Reply>>,
        current: Option<ClientId>,
    ) {
        let Some(c) = self.clients.get(&client) else {
            return;
        };
        let Some(redirect) = c.tracking.as_ref().map(|t| t.redirect) else {
            return;
        };
        let own_proto = c.proto;
        let target = match redirect {
            None => client,
            Some(r) if self.clients.contains_key(&r) => r,
            Some(r) => {
                // The target went away: a RESP3 client hears of it each time a message is lost.
                if let Some(t) = self
                    .clients
                    .get_mut(&client)
                    .and_then(|c| c.tracking.as_mut())
                {
                    t.broken = true;
                }
                if own_proto == 3 {
                    let msg =
                        Reply::Push(vec![Reply::bulk("tracking-redir-broken"), Reply::int(r)]);
                    self.send_to(client, msg, current);
                }
                return;
            }
        };
        let Some(tc) = self.clients.get(&target) else {
            return;
        };
        let payload = match keys {
            Some(k) => Reply::Array(k),
            None => Reply::Nil,
        };
        let msg = if tc.proto == 3 {
            Reply::Push(vec![Reply::bulk("invalidate"), payload])
        } else if redirect.is_some() && self.is_subscribed(target) {
            Reply::Push(vec![
                Reply::bulk("message"),
                Reply::bulk(INVALIDATE_CHANNEL),
                payload,
            ])
        } else {
            // A RESP2 connection cannot carry a push among its replies.
            return;
        };
        self.send_to(target, msg, current);
    }

    /// Queues a message for `target`: after the reply when its own command is running, in its
    /// outbox otherwise; none once the connection is closing.
    pub(crate) fn send_to(&mut self, target: ClientId, msg: Reply, current: Option<ClientId>) {
        if let Some(c) = self.clients.get_mut(&target) {
            // After QUIT (or CLIENT KILL of itself) nothing more is written to a connection.
            if c.closing {
                return;
            }
            if Some(target) == current {
                c.after_reply.push(msg);
            } else {
                c.outbox.push(msg);
                self.mail.insert(target);
            }
        }
    }
}
