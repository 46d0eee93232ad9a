//! The engine as a cluster node: turning cluster mode on at start (nodes.conf read or
//! created), keeping the state current from the periodic tick, saving nodes.conf after a
//! change, and routing each command (Redis's processCommand redirection, before it runs).

use super::{ClientId, ConfigFile, Engine};
use crate::cluster::redirect::{self, Endpoint, Query, Route};
use crate::cluster::slots::key_slot;
use crate::cluster::state::{parse_config, random_id, ClusterState, BUS_PORT_OFFSET};
use crate::cluster::Cluster;
use crate::commands::{Command, ASKING, WRITE};
use crate::error::{self, CmdError};

impl Engine {
    /// Makes this engine a cluster node (`cluster-enabled yes`), once, at start: the state
    /// comes from `file` (nodes.conf) when it holds one, else this node is new, takes a
    /// random ID, and the file is written. The error is why the start must stop (a corrupt
    /// or unwritable nodes.conf, as redis-server exits on them).
    pub fn enable_cluster(&mut self, file: Option<ConfigFile>, now: i64) -> Result<(), String> {
        let text = match &file {
            Some(f) => (f.read)()?,
            None => String::new(),
        };
        let loaded = parse_config(&text).map_err(|e| {
            format!(
                "Unrecoverable error: corrupted cluster config file ({}).",
                e.0
            )
        })?;
        let fresh = loaded.is_none();
        let state = match loaded {
            Some(s) => s,
            None => {
                let rng = &mut self.rng;
                ClusterState::new(random_id(|| rng.next_u64()), 0, 0)
            }
        };
        let cluster = Cluster {
            state,
            file,
            announced_ip: String::new(),
            bus: crate::cluster::node::Bus::new(),
        };
        if fresh {
            // Redis writes the new node's file before it knows its ports.
            cluster.save()?;
        }
        self.cluster = Some(Box::new(cluster));
        self.cluster_refresh_myself();
        self.dbs[0].index_slots();
        self.cluster_update_state(now);
        Ok(())
    }

    /// Brings this node's own address up to date with the configuration: the ports it
    /// listens on or `cluster-announce-port` / `cluster-announce-bus-port` / `cluster-port`,
    /// `cluster-announce-hostname`, and `cluster-announce-ip` (cleared when the setting is,
    /// for the bus to learn the address again), as CONFIG SET of them does in Redis.
    pub fn cluster_refresh_myself(&mut self) {
        self.cluster_update_myself_flags();
        let port = match self.config.int_param("cluster-announce-port") {
            0 => self.port,
            p => u16::try_from(p).unwrap_or(self.port),
        };
        let cport = match (
            self.config.int_param("cluster-announce-bus-port"),
            self.config.int_param("cluster-port"),
        ) {
            (0, 0) => (u32::from(self.port) + BUS_PORT_OFFSET).min(65535) as u16,
            (0, p) | (p, _) => u16::try_from(p).unwrap_or(0),
        };
        let hostname = self.config.get_named("cluster-announce-hostname");
        let ip = self.config.get_named("cluster-announce-ip");
        let Some(c) = self.cluster.as_deref_mut() else {
            return;
        };
        let ip_changed = c.announced_ip != ip;
        if ip_changed {
            c.announced_ip = ip.to_string();
        }
        let me = c.state.myself.clone();
        if let Some(n) = c.state.nodes.iter_mut().find(|n| n.id == me) {
            n.port = port;
            n.cport = cport;
            if n.hostname != hostname {
                n.hostname = hostname.to_string();
            }
            if ip_changed {
                n.ip = ip.to_string();
            }
        }
    }

    /// After the data loaded at start, makes the slot table agree with it, as Redis's
    /// verifyClusterConfigWithData does on a primary: a slot with keys and no owner becomes
    /// this node's, a slot with keys owned by another node becomes imported from it. Returns
    /// what it changed (for the log); the error when a database other than 0 holds keys.
    pub fn cluster_verify_data(&mut self, now: i64) -> Result<Vec<String>, String> {
        let Some(cl) = self.cluster.as_deref_mut() else {
            return Ok(Vec::new());
        };
        if cl.state.me().is_replica() {
            return Ok(Vec::new());
        }
        if self.dbs.iter().skip(1).any(|db| !db.is_empty()) {
            return Err(
                "You can't have keys in a DB different than DB 0 when in Cluster mode. Exiting."
                    .into(),
            );
        }
        let Some(ix) = self.dbs[0].slot_index.as_deref() else {
            return Ok(Vec::new());
        };
        let me = cl.state.myself.clone();
        let mut log = Vec::new();
        for slot in 0..crate::cluster::slots::SLOTS as u16 {
            if ix.count(slot) == 0 || cl.state.importing.contains_key(&slot) {
                continue;
            }
            match cl.state.owner(slot).map(str::to_string) {
                Some(o) if o == me => {}
                None => {
                    log.push(format!(
                        "I have keys for unassigned slot {slot}. Taking responsibility for it."
                    ));
                    cl.state.add_slot(slot, &me);
                }
                Some(o) => {
                    log.push(format!(
                        "I have keys for slot {slot}, but the slot is assigned to another \
                         node. Setting it to importing state."
                    ));
                    cl.state.importing.insert(slot, o);
                }
            }
        }
        if !log.is_empty() {
            self.cluster_changed(now)?;
        }
        Ok(log)
    }

    /// Ends the waits that can no longer be served here, as Redis's cron does for clients
    /// blocked on lists, sorted sets and streams: with the cluster down, or when the key's
    /// slot moved to another node (MOVED) or to none, unless this node imports it (or
    /// serves it to a READONLY client as a replica of its owner).
    pub(crate) fn cluster_redirect_blocked(&mut self, now: i64) {
        let Some(cl) = self.cluster.as_deref() else {
            return;
        };
        let st = &cl.state;
        let endpoint = self.cluster_endpoint();
        let mut ends: Vec<(ClientId, CmdError)> = Vec::new();
        for (&client, b) in &self.blocked {
            use crate::commands::Group;
            if !matches!(
                b.cmd.spec.group,
                Group::List | Group::SortedSet | Group::Stream
            ) {
                continue;
            }
            if !st.ok {
                ends.push((client, error::CLUSTERDOWN));
                continue;
            }
            let first = b
                .cmd
                .spec
                .key_positions(&b.argv)
                .and_then(|k| k.first().and_then(|(i, _)| b.argv.get(*i)));
            let Some(key) = first else { continue };
            let slot = key_slot(key);
            let owner = st.owner_node(slot);
            let me = st.me();
            let readonly = self
                .clients
                .get(&client)
                .is_some_and(|c| c.cluster_readonly);
            let replica_read = readonly
                && !b.cmd.spec.has(WRITE)
                && me.is_replica()
                && owner.is_some_and(|o| me.master.as_deref() == Some(o.id.as_str()));
            if replica_read || st.importing.contains_key(&slot) {
                continue;
            }
            match owner {
                None => ends.push((client, error::CLUSTERDOWN_UNBOUND)),
                Some(o) if o.id != st.myself => ends.push((
                    client,
                    error::moved(slot, endpoint.of(&o.ip, &o.hostname), o.port),
                )),
                Some(_) => {}
            }
        }
        for (client, e) in ends {
            self.unblock(client, Some(crate::protocol::Reply::Error(e.0)), now);
        }
    }

    /// Unsubscribes every client from the shard channels of the slots this node stopped
    /// serving, each told with a `sunsubscribe` message, as Redis does when it deletes a slot.
    fn cluster_drop_lost_channels(&mut self) {
        let Some(c) = self.cluster.as_deref_mut() else {
            return;
        };
        if c.state.lost_slots.is_empty() {
            return;
        }
        let lost: hashbrown::HashSet<u16> = c.state.lost_slots.drain(..).collect();
        let map = self.pubsub.map(super::pubsub::Kind::Shard);
        let mut gone: Vec<(Vec<u8>, Vec<ClientId>)> = map
            .iter()
            .filter(|(ch, _)| lost.contains(&key_slot(ch)))
            .map(|(ch, ids)| (ch.clone(), ids.clone()))
            .collect();
        gone.sort();
        for (channel, ids) in gone {
            for id in ids {
                let msg = self.unsubscribe_one(id, super::pubsub::Kind::Shard, &channel);
                if let Some(c) = self.clients.get_mut(&id) {
                    c.outbox.push(msg);
                    self.mail.insert(id);
                }
            }
        }
    }

    /// Whether this engine is a cluster node.
    pub fn cluster_enabled(&self) -> bool {
        self.cluster.is_some()
    }

    /// Re-evaluates the cluster's ok/fail state (the tick and every change call it).
    pub fn cluster_update_state(&mut self, now: i64) {
        self.cluster_refresh_myself();
        let full = self.config.get_named("cluster-require-full-coverage") != "no";
        let timeout = self.config.int_param("cluster-node-timeout");
        if let Some(c) = self.cluster.as_mut() {
            c.state.expire_handshakes(now, timeout);
            c.state.update_state(now, full, timeout);
        }
    }

    /// After a CLUSTER command changed the state: nodes.conf rewritten and the state
    /// evaluated again, as Redis does before its next sleep.
    pub fn cluster_changed(&mut self, now: i64) -> Result<(), String> {
        self.cluster_update_state(now);
        self.cluster_drop_lost_channels();
        match &self.cluster {
            Some(c) => c.save(),
            None => Ok(()),
        }
    }

    /// The endpoint type redirections and CLUSTER SLOTS use.
    pub fn cluster_endpoint(&self) -> Endpoint {
        Endpoint::from_config(self.config.get_named("cluster-preferred-endpoint-type"))
    }

    /// Where a command a client sent must run: Ok when here (with the slot of its keys, if
    /// it names any), else the redirection or refusal the client gets. EXEC is routed by
    /// the commands it queued. Commands without keys, and those from this node's primary,
    /// always run here.
    pub(crate) fn cluster_route(
        &mut self,
        client: ClientId,
        cmd: &'static Command,
        argv: &[Vec<u8>],
        now: i64,
    ) -> Result<Option<u16>, CmdError> {
        if self.cluster.is_none() || self.is_master_client(client) {
            return Ok(None);
        }
        let is_exec = cmd.full_name == "exec";
        let keyless = cmd.spec.key_specs.is_empty() && cmd.spec.getkeys.is_none();
        if keyless && !is_exec {
            return Ok(None);
        }
        let Some(c) = self.clients.get(&client) else {
            return Ok(None);
        };
        let mut keys: Vec<&[u8]> = Vec::new();
        let mut any_write = cmd.spec.has(WRITE);
        let single = [(cmd, argv)];
        let queued: Vec<(&'static Command, &[Vec<u8>])>;
        let lines: &[(&'static Command, &[Vec<u8>])] = if is_exec {
            match &c.multi {
                Some(q) => {
                    queued = q.iter().map(|(c, a)| (*c, a.as_slice())).collect();
                    &queued
                }
                None => return Ok(None),
            }
        } else {
            &single
        };
        for &(c, a) in lines {
            any_write |= c.spec.has(WRITE);
            if let Some(found) = c.spec.key_positions(a) {
                keys.extend(
                    found
                        .into_iter()
                        .filter_map(|(i, _)| a.get(i).map(Vec::as_slice)),
                );
            }
        }
        let name = cmd.full_name;
        let q = Query {
            write: cmd.spec.has(WRITE),
            any_write,
            asking: c.cluster_asking || cmd.spec.has(ASKING),
            readonly: c.cluster_readonly,
            pubsub_shard: matches!(name, "ssubscribe" | "sunsubscribe" | "spublish"),
            migrate: name == "migrate",
            reads_when_down: self.config.get_named("cluster-allow-reads-when-down") == "yes",
            pubsub_when_down: self.config.get_named("cluster-allow-pubsubshard-when-down") != "no",
        };
        let endpoint = self.cluster_endpoint();
        let refs = keys;
        let (dbs, cluster) = (&self.dbs, &self.cluster);
        let Some(cl) = cluster.as_ref() else {
            return Ok(None);
        };
        let exists = |k: &[u8]| dbs[0].peek(k).is_some() && !dbs[0].is_expired(k, now);
        match redirect::route(&cl.state, &refs, q, endpoint, exists) {
            Route::Serve => Ok(refs.first().map(|k| key_slot(k))),
            Route::Moved(slot, host, port) => Err(error::moved(slot, &host, port)),
            Route::Ask(slot, host, port) => Err(error::ask(slot, &host, port)),
            Route::CrossSlot => Err(error::CROSSSLOT),
            Route::TryAgain => Err(error::TRYAGAIN),
            Route::Unbound => Err(error::CLUSTERDOWN_UNBOUND),
            Route::Down => Err(error::CLUSTERDOWN),
            Route::DownReadOnly => Err(error::CLUSTERDOWN_READONLY),
        }
    }

    /// The cluster check of a command a script sends (Redis's scriptVerifyClusterState): its
    /// keys must be served here, and, unless the script is an old-style EVAL or declared
    /// `allow-cross-slot-keys`, in the slot of the keys the script used before. The error is
    /// the script's error text.
    pub(crate) fn cluster_check_script(
        &mut self,
        client: ClientId,
        cmd: &'static Command,
        argv: &[Vec<u8>],
        now: i64,
    ) -> Result<(), &'static str> {
        if self.cluster.is_none() || self.is_master_client(client) {
            return Ok(());
        }
        let slot = match self.cluster_route(client, cmd, argv, now) {
            Ok(slot) => slot,
            Err(e) if e == error::CLUSTERDOWN_READONLY => {
                return Err(error::SCRIPT_CLUSTER_DOWN_READONLY)
            }
            Err(e) if e == error::CLUSTERDOWN => return Err(error::SCRIPT_CLUSTER_DOWN),
            Err(_) => return Err(error::SCRIPT_NON_LOCAL_KEY),
        };
        let cross_ok = self.scripts.running.as_ref().is_none_or(|r| {
            let name = r
                .argv
                .first()
                .map(|n| String::from_utf8_lossy(n).to_ascii_lowercase())
                .unwrap_or_default();
            self.scripts
                .declared_flags(&name, &r.argv)
                .is_none_or(|f| f.compat || f.allow_cross_slot)
        });
        let (Some(slot), false) = (slot, cross_ok) else {
            return Ok(());
        };
        let Some(c) = self.clients.get_mut(&client) else {
            return Ok(());
        };
        match c.cluster_slot {
            None => {
                c.cluster_slot = Some(slot);
                Ok(())
            }
            Some(s) if s == slot => Ok(()),
            Some(_) => Err(error::SCRIPT_CROSS_SLOT),
        }
    }
}
