//! The engine's side of the cluster bus: the host API of [`crate::cluster::node`] (see its
//! module documentation), and what the bus's findings do to the rest of the engine
//! (replicating from a new primary, delivering PUBLISH from other nodes, dropping the keys of
//! a lost slot, nodes.conf saved after every change).

use super::Engine;
use crate::cluster::node::{Bus, BusAction, Effect, Env, LinkId};
use crate::cluster::state::ClusterState;

impl Engine {
    /// Runs `f` on the bus with the environment it reads, then applies what it left for the
    /// engine. Nothing (None) on an engine that is not a cluster node.
    pub(super) fn with_bus<R>(
        &mut self,
        now: i64,
        f: impl FnOnce(&mut Bus, &mut ClusterState, &mut Env) -> R,
    ) -> Option<R> {
        self.cluster.as_ref()?;
        self.cluster_refresh_myself();
        let node_timeout = self.config.int_param("cluster-node-timeout");
        let allow_replica_migration =
            self.config.get_named("cluster-allow-replica-migration") != "no";
        let announce_ip = self.config.get_named("cluster-announce-ip").to_string();
        let offset = self.repl.offset;
        let dbs = &self.dbs;
        let keys_in_slot = |slot: u16| dbs[0].slot_index.as_ref().map_or(0, |ix| ix.count(slot));
        let cl = self.cluster.as_deref_mut()?;
        let mut env = Env {
            now,
            node_timeout,
            offset,
            announce_ip: &announce_ip,
            allow_replica_migration,
            keys_in_slot: &keys_in_slot,
            rng: &mut self.rng,
        };
        let out = f(&mut cl.bus, &mut cl.state, &mut env);
        self.cluster_bus_after(now);
        Some(out)
    }

    /// Applies the bus's effects and saves nodes.conf when it changed.
    fn cluster_bus_after(&mut self, now: i64) {
        self.cluster_failover_after(now);
        let Some(cl) = self.cluster.as_deref_mut() else {
            return;
        };
        let effects = cl.bus.take_effects();
        let save = std::mem::take(&mut cl.bus.todo_save);
        let update = std::mem::take(&mut cl.bus.todo_update_state);
        for e in effects {
            match e {
                Effect::SetMaster { ip, port } => self.set_master(&ip, port, now),
                Effect::Publish {
                    channel,
                    message,
                    shard,
                } => {
                    if shard {
                        self.publish_shard(&channel, &message);
                    } else {
                        self.publish(&channel, &message);
                    }
                }
                Effect::DelKeysInSlot(slot) => self.cluster_del_keys_in_slot(slot, now),
            }
        }
        if update {
            self.cluster_update_state(now);
        }
        if save {
            let _ = self.cluster_changed(now);
        }
    }

    /// Deletes every key of a slot this primary lost, as deletions its replicas see.
    fn cluster_del_keys_in_slot(&mut self, slot: u16, now: i64) {
        let keys = self.dbs[0]
            .slot_index
            .as_ref()
            .map_or_else(Vec::new, |ix| ix.keys_in_slot(slot, usize::MAX));
        for key in keys {
            if self.dbs[0].delete(&key, now).is_some() {
                self.signal_modified(0, &key);
                self.notify(0, 'g', "del", &key);
                self.also_propagate(0, vec![b"DEL".to_vec(), key]);
            }
        }
        self.flush_propagation(false);
    }

    /// A node connected to this node's cluster bus port: the link's id, None when this engine
    /// is not a cluster node (the host closes the connection).
    pub fn cluster_bus_accepted(
        &mut self,
        peer_ip: &str,
        local_ip: &str,
        now: i64,
    ) -> Option<LinkId> {
        self.with_bus(now, |bus, _, _| bus.accepted(peer_ip, local_ip, now))
    }

    /// An outbound link the bus asked for is established.
    pub fn cluster_bus_connected(&mut self, link: LinkId, now: i64) {
        self.with_bus(now, |bus, st, env| bus.connected(st, link, env));
    }

    /// Bytes arrived on a link.
    pub fn cluster_bus_read(&mut self, link: LinkId, bytes: &[u8], now: i64) {
        self.with_bus(now, |bus, st, env| bus.read(st, link, bytes, env));
    }

    /// A link ended (connect failure, EOF, error).
    pub fn cluster_bus_closed(&mut self, link: LinkId, now: i64) {
        self.with_bus(now, |bus, st, _| bus.closed(st, link, now));
    }

    /// The bus's periodic work, every 100 ms (Redis's clusterCron); a replica whose primary
    /// has an address and that does not replicate yet starts replicating.
    pub fn cluster_bus_cron(&mut self, now: i64) {
        self.with_bus(now, |bus, st, env| bus.cron(st, env));
        self.cluster_failover_cron(now);
        let Some(cl) = self.cluster.as_deref() else {
            return;
        };
        let me = cl.state.me();
        if !me.is_replica() || self.repl.link.is_some() {
            return;
        }
        let target = me
            .master
            .as_deref()
            .and_then(|m| cl.state.nodes.iter().find(|n| n.id == m))
            .filter(|m| !m.ip.is_empty() && m.port != 0)
            .map(|m| (m.ip.clone(), m.port));
        if let Some((ip, port)) = target {
            self.set_master(&ip, port, now);
        }
    }

    /// What the host must do for the bus now (connect, write, close), in order. Also closes
    /// the links of nodes that commands removed.
    pub fn cluster_bus_actions(&mut self) -> Vec<BusAction> {
        let Some(cl) = self.cluster.as_deref_mut() else {
            return Vec::new();
        };
        cl.bus.reconcile(&mut cl.state);
        cl.bus.take_actions()
    }

    /// A PONG to every linked node, so a configuration change (a slot taken) spreads at once.
    pub fn cluster_bus_broadcast_pong(&mut self, now: i64) {
        self.with_bus(now, |bus, st, env| bus.broadcast_pong(st, false, env));
    }

    /// PUBLISH or SPUBLISH from a client, sent to the other nodes.
    pub fn cluster_propagate_publish(
        &mut self,
        channel: &[u8],
        message: &[u8],
        shard: bool,
        now: i64,
    ) {
        self.with_bus(now, |bus, st, env| {
            bus.propagate_publish(st, channel, message, shard, env)
        });
    }
}
