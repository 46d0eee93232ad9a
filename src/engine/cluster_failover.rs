//! The engine's side of cluster failover: the settings and replication facts the rules in
//! [`crate::cluster::failover`] read, and what their outcome changes here (replication, the
//! failover's write pause, nodes.conf); what must go over the cluster bus is handed to it.

use super::master_link::LinkState;
use super::Engine;
use crate::cluster::failover::{Out, ReplicaView, Settings};
use crate::cluster::state::flag;

impl Engine {
    /// The failover settings, from the configuration.
    pub fn cluster_failover_settings(&self) -> Settings {
        let c = &self.config;
        Settings {
            node_timeout_ms: c.int_param("cluster-node-timeout"),
            validity_factor: c.int_param("cluster-replica-validity-factor"),
            repl_ping_period_s: c.int_param("repl-ping-replica-period"),
            no_failover: c.get_named("cluster-replica-no-failover") == "yes",
            migration_barrier: c.int_param("cluster-migration-barrier"),
            allow_replica_migration: c.get_named("cluster-allow-replica-migration") == "yes",
        }
    }

    /// This node's replication as failover sees it: the offset applied, and how old the data
    /// may be (since the primary last sent something, or since the link went down).
    pub fn cluster_replica_view(&self, now: i64) -> ReplicaView {
        let offset = self.repl.offset;
        let data_age_ms = match self.repl.link.as_ref() {
            None => 0,
            Some(l) if l.state == LinkState::Connected => now.saturating_sub(l.last_io_ms),
            Some(l) => now.saturating_sub(l.down_since_ms.unwrap_or(l.last_io_ms)),
        };
        ReplicaView {
            offset,
            data_age_ms: data_age_ms.max(0),
        }
    }

    /// The failover part of the cluster cron (after the bus's, every 100 ms).
    pub fn cluster_failover_cron(&mut self, now: i64) {
        if self.cluster_update_myself_flags() {
            let _ = self.cluster_changed(now);
        }
        let settings = self.cluster_failover_settings();
        let view = self.cluster_replica_view(now);
        let random = self.rng.next_u64();
        let Some(c) = self.cluster.as_deref_mut() else {
            return;
        };
        let out = c.state.failover_cron(now, &settings, &view, random);
        self.cluster_apply(out, now);
    }

    /// This node's NOFAILOVER flag follows `cluster-replica-no-failover` (the other nodes
    /// learn it from our headers). Returns whether it changed.
    pub fn cluster_update_myself_flags(&mut self) -> bool {
        let want = self.config.get_named("cluster-replica-no-failover") == "yes";
        let Some(c) = self.cluster.as_deref_mut() else {
            return false;
        };
        let myself = c.state.myself.clone();
        let Some(me) = c.state.node_mut(&myself) else {
            return false;
        };
        let old = me.flags;
        if want {
            me.flags |= flag::NOFAILOVER;
        } else {
            me.flags &= !flag::NOFAILOVER;
        }
        me.flags != old
    }

    /// Runs the replica's failover step at once (votes arrived, a manual failover may start),
    /// as Redis does before it sleeps.
    pub fn cluster_failover_step(&mut self, now: i64) {
        let settings = self.cluster_failover_settings();
        let view = self.cluster_replica_view(now);
        let random = self.rng.next_u64();
        let Some(c) = self.cluster.as_deref_mut() else {
            return;
        };
        if !c.state.me().is_replica() {
            return;
        }
        c.state.handle_manual_failover(view.offset);
        let out = c.state.replica_failover(now, &settings, &view, random);
        self.cluster_apply(out, now);
    }

    /// CLUSTER FAILOVER [FORCE|TAKEOVER] on a replica (the command checked the roles).
    pub fn cluster_manual_failover(&mut self, force: bool, takeover: bool, now: i64) {
        let Some(c) = self.cluster.as_deref_mut() else {
            return;
        };
        let out = c.state.start_manual_failover(force, takeover, now);
        self.cluster_apply(out, now);
        if force && !takeover {
            self.cluster_failover_step(now);
        }
    }

    /// Carries out what a failover step decided: messages go to the bus, replication and
    /// pauses change here, and the config is saved.
    pub fn cluster_apply(&mut self, out: Vec<Out>, now: i64) {
        if out.is_empty() {
            return;
        }
        let rest = self
            .with_bus(now, |bus, st, env| bus.send_failover(st, out, env))
            .unwrap_or_default();
        let mut changed = false;
        for o in rest {
            match o {
                Out::BecamePrimary => {
                    self.unset_master();
                    changed = true;
                }
                Out::ReplicateFrom(id) => {
                    let addr = self.cluster.as_deref().and_then(|c| {
                        c.state
                            .node(id.as_bytes())
                            .filter(|n| !n.ip.is_empty())
                            .map(|n| (n.ip.clone(), n.port))
                    });
                    if let Some((ip, port)) = addr {
                        self.set_master(&ip, port, now);
                    }
                    changed = true;
                }
                Out::PauseWrites(until) => self.pause_clients(false, until),
                Out::Unpause => self.unpause_clients(),
                Out::Changed => changed = true,
                // The bus took the others.
                _ => {}
            }
        }
        if changed {
            let _ = self.cluster_changed(now);
        }
    }

    /// After the bus handled messages: the outcomes of votes and MFSTARTs are carried out,
    /// and a replica that got a vote or its primary's paused offset moves its election on.
    pub(super) fn cluster_failover_after(&mut self, now: i64) {
        let Some(c) = self.cluster.as_deref_mut() else {
            return;
        };
        let out = std::mem::take(&mut c.state.election.engine_out);
        let step = std::mem::take(&mut c.state.election.step_soon);
        self.cluster_apply(out, now);
        if step {
            self.cluster_failover_step(now);
        }
    }
}
