//! What a cluster node knows: itself and the other nodes, the owner of every hash slot, the
//! slots being migrated or imported, the epochs, and whether the cluster is up. It knows
//! nothing of sockets: the cluster bus (another module) feeds it, and the engine reads it to
//! answer CLUSTER commands and to redirect clients.

use std::collections::BTreeMap;

use super::slots::SLOTS;

/// Length of a node ID (hex characters).
pub const ID_LEN: usize = 40;

/// The bus port is the client port plus this, unless `cluster-port` says otherwise.
pub const BUS_PORT_OFFSET: u32 = 10000;

/// A master that starts (or restarts) waits this long before it says the cluster is ok.
pub const WRITABLE_DELAY_MS: i64 = 2000;
/// Bounds of the wait of a master that was in a minority before it rejoins as ok.
pub const MIN_REJOIN_DELAY_MS: i64 = 500;
/// See [`MIN_REJOIN_DELAY_MS`].
pub const MAX_REJOIN_DELAY_MS: i64 = 5000;

/// Node flags, as Redis's `CLUSTER_NODE_*`.
pub mod flag {
    /// This node.
    pub const MYSELF: u16 = 1;
    /// A primary.
    pub const MASTER: u16 = 2;
    /// A replica.
    pub const SLAVE: u16 = 4;
    /// Possibly failing (this node's own view).
    pub const PFAIL: u16 = 8;
    /// Failing, as the cluster agreed.
    pub const FAIL: u16 = 16;
    /// Met, but the first handshake has not completed.
    pub const HANDSHAKE: u16 = 32;
    /// Address unknown.
    pub const NOADDR: u16 = 64;
    /// A MEET is to be sent to it.
    pub const MEET: u16 = 128;
    /// A primary that may receive a migrating replica.
    pub const MIGRATE_TO: u16 = 256;
    /// A replica that will not try to fail over.
    pub const NOFAILOVER: u16 = 512;
}

/// The flags CLUSTER NODES shows, in its order, with their names.
const FLAG_NAMES: &[(u16, &str)] = &[
    (flag::MYSELF, "myself"),
    (flag::MASTER, "master"),
    (flag::SLAVE, "slave"),
    (flag::PFAIL, "fail?"),
    (flag::FAIL, "fail"),
    (flag::HANDSHAKE, "handshake"),
    (flag::NOADDR, "noaddr"),
    (flag::NOFAILOVER, "nofailover"),
];

/// A node this node knows (itself included).
#[derive(Clone, Debug)]
pub struct Node {
    /// The node ID: 40 lowercase hex characters.
    pub id: String,
    /// [`flag`] bits.
    pub flags: u16,
    /// Its address as the cluster sees it (empty until a peer tells this node its own).
    pub ip: String,
    /// Its client port.
    pub port: u16,
    /// Its cluster bus port.
    pub cport: u16,
    /// `cluster-announce-hostname`, if any.
    pub hostname: String,
    /// The ID of its primary, for a replica.
    pub master: Option<String>,
    /// When the last unanswered PING was sent (ms), 0 when none is pending.
    pub ping_sent: i64,
    /// When the last PONG arrived (ms).
    pub pong_received: i64,
    /// Its configuration epoch.
    pub config_epoch: u64,
    /// Whether this node has a bus link to it.
    pub link: bool,
    /// The nodes reporting it failing, with the time of their last report (ms).
    pub fail_reports: Vec<(String, i64)>,
    /// The replication offset it announced.
    pub repl_offset: i64,
    /// Number of slots it owns.
    pub numslots: usize,
    /// When this node learned it (ms): a handshake that takes too long is dropped.
    pub created_ms: i64,
    /// Its plaintext client port when its client port is TLS (else 0), as it announces it.
    pub pport: u16,
    /// When the bus last received anything from it (ms).
    pub data_received: i64,
    /// When it was flagged FAIL (ms).
    pub fail_time: i64,
    /// When this node last voted for one of its replicas (ms).
    pub voted_time: i64,
    /// Since when it is a primary without working replicas (ms), 0 when it is not.
    pub orphaned_time: i64,
}

impl Node {
    /// A node known by its ID only, with these [`flag`] bits.
    pub fn new(id: String, flags: u16) -> Node {
        Node {
            id,
            flags,
            ip: String::new(),
            port: 0,
            cport: 0,
            hostname: String::new(),
            master: None,
            ping_sent: 0,
            pong_received: 0,
            config_epoch: 0,
            link: false,
            fail_reports: Vec::new(),
            repl_offset: 0,
            numslots: 0,
            created_ms: 0,
            pport: 0,
            data_received: 0,
            fail_time: 0,
            voted_time: 0,
            orphaned_time: 0,
        }
    }

    /// Whether it is a primary.
    pub fn is_master(&self) -> bool {
        self.flags & flag::MASTER != 0
    }

    /// Whether it is a replica.
    pub fn is_replica(&self) -> bool {
        self.flags & flag::SLAVE != 0
    }

    /// Whether the cluster agreed that it fails.
    pub fn failed(&self) -> bool {
        self.flags & flag::FAIL != 0
    }

    /// The flags as CLUSTER NODES lists them (`myself,master`, or `noflags`).
    pub fn flag_names(&self) -> String {
        let names: Vec<&str> = FLAG_NAMES
            .iter()
            .filter(|(f, _)| self.flags & f != 0)
            .map(|(_, n)| *n)
            .collect();
        if names.is_empty() {
            "noflags".to_string()
        } else {
            names.join(",")
        }
    }
}

/// Whether `id` has the form of a node ID (40 characters of `0-9a-z`, as Redis checks).
pub fn valid_id(id: &[u8]) -> bool {
    id.len() == ID_LEN
        && id
            .iter()
            .all(|b| b.is_ascii_digit() || b.is_ascii_lowercase())
}

/// A fresh node ID from 160 random bits.
pub fn random_id(mut next: impl FnMut() -> u64) -> String {
    let mut s = String::with_capacity(48);
    for _ in 0..3 {
        s.push_str(&format!("{:016x}", next()));
    }
    s.truncate(ID_LEN);
    s
}

/// Why an ADDSLOTS / DELSLOTS family command refuses its slots.
#[derive(Debug, PartialEq, Eq)]
pub enum SlotsRefused {
    /// DELSLOTS of a slot nobody owns.
    Unassigned(u16),
    /// ADDSLOTS of a slot someone owns.
    Busy(u16),
    /// The same slot twice.
    Repeated(u16),
}

/// The cluster as this node sees it.
#[derive(Clone, Debug)]
pub struct ClusterState {
    /// Known nodes, in the order this node learned them (itself first on a fresh node).
    pub nodes: Vec<Node>,
    /// The ID of this node.
    pub myself: String,
    /// The owner of each slot, by index in [`ClusterState::nodes`]'s IDs.
    slots: Vec<Option<u32>>,
    /// Stable small handles for node IDs, so the slot table stays compact.
    handles: Vec<String>,
    /// Slots this node migrates, to the node with that ID.
    pub migrating: BTreeMap<u16, String>,
    /// Slots this node imports, from the node with that ID.
    pub importing: BTreeMap<u16, String>,
    /// currentEpoch.
    pub current_epoch: u64,
    /// lastVoteEpoch.
    pub last_vote_epoch: u64,
    /// Whether the cluster is ok (serving) from this node's view.
    pub ok: bool,
    /// Primaries serving at least one slot.
    pub size: usize,
    /// When the state was first evaluated (the writable delay counts from there).
    first_update_ms: Option<i64>,
    /// When this node last found itself in a minority.
    minority_ms: i64,
    /// Forgotten nodes and when they may be learned again (CLUSTER FORGET's minute).
    pub blacklist: Vec<(String, i64)>,
    /// Slots this node (or its primary) stopped serving since the engine last looked: their
    /// shard channels lose their subscribers.
    pub lost_slots: Vec<u16>,
    /// This node's failover election and manual failover, if any.
    pub election: super::failover::Election,
}

impl ClusterState {
    /// A fresh node alone in its cluster: a primary without slots, epochs at 0.
    pub fn new(myself: String, port: u16, cport: u16) -> ClusterState {
        let mut me = Node::new(myself.clone(), flag::MYSELF | flag::MASTER);
        me.port = port;
        me.cport = cport;
        ClusterState {
            nodes: vec![me],
            myself,
            slots: vec![None; SLOTS],
            handles: Vec::new(),
            migrating: BTreeMap::new(),
            importing: BTreeMap::new(),
            current_epoch: 0,
            last_vote_epoch: 0,
            ok: false,
            size: 1,
            first_update_ms: None,
            minority_ms: 0,
            blacklist: Vec::new(),
            lost_slots: Vec::new(),
            election: super::failover::Election::default(),
        }
    }

    fn handle(&mut self, id: &str) -> u32 {
        match self.handles.iter().position(|h| h == id) {
            Some(i) => i as u32,
            None => {
                self.handles.push(id.to_string());
                (self.handles.len() - 1) as u32
            }
        }
    }

    /// The node with this ID (an exact, well-formed ID).
    pub fn node(&self, id: &[u8]) -> Option<&Node> {
        if !valid_id(id) {
            return None;
        }
        self.nodes.iter().find(|n| n.id.as_bytes() == id)
    }

    /// The node with this ID, to change (the bus updates what it learns through it).
    pub fn node_mut(&mut self, id: &str) -> Option<&mut Node> {
        self.nodes.iter_mut().find(|n| n.id == id)
    }

    /// This node.
    pub fn me(&self) -> &Node {
        self.nodes
            .iter()
            .find(|n| n.id == self.myself)
            .expect("myself is always known")
    }

    fn me_mut(&mut self) -> &mut Node {
        let id = self.myself.clone();
        self.node_mut(&id).expect("myself is always known")
    }

    /// The ID of the owner of `slot`.
    pub fn owner(&self, slot: u16) -> Option<&str> {
        let h = self.slots.get(usize::from(slot)).copied().flatten()?;
        self.handles.get(h as usize).map(String::as_str)
    }

    /// The node owning `slot`.
    pub fn owner_node(&self, slot: u16) -> Option<&Node> {
        let id = self.owner(slot)?;
        self.nodes.iter().find(|n| n.id == id)
    }

    /// The slots the node `id` owns, ascending.
    pub fn slots_of(&self, id: &str) -> Vec<u16> {
        let Some(h) = self.handles.iter().position(|x| x == id) else {
            return Vec::new();
        };
        let h = h as u32;
        (0..SLOTS as u16)
            .filter(|&s| self.slots[usize::from(s)] == Some(h))
            .collect()
    }

    /// Gives a node a new ID (a handshake node learning the real one): its slots, its place
    /// in migrations and its replicas follow it.
    pub fn rename_node(&mut self, old: &str, new: &str) {
        if !self.handles.iter().any(|h| h == new) {
            if let Some(h) = self.handles.iter_mut().find(|h| *h == old) {
                *h = new.to_string();
            }
        }
        for n in &mut self.nodes {
            if n.id == old {
                n.id = new.to_string();
            }
            if n.master.as_deref() == Some(old) {
                n.master = Some(new.to_string());
            }
            for r in &mut n.fail_reports {
                if r.0 == old {
                    r.0 = new.to_string();
                }
            }
        }
        for v in self
            .migrating
            .values_mut()
            .chain(self.importing.values_mut())
        {
            if v == old {
                *v = new.to_string();
            }
        }
        if self.myself == old {
            self.myself = new.to_string();
        }
    }

    /// Whether this node owns `slot`.
    pub fn mine(&self, slot: u16) -> bool {
        self.owner(slot) == Some(self.myself.as_str())
    }

    /// Adds a node (a MEET, a gossip, a nodes.conf line). Returns false if the ID is known.
    pub fn add_node(&mut self, node: Node) -> bool {
        if self.nodes.iter().any(|n| n.id == node.id) {
            return false;
        }
        self.nodes.push(node);
        true
    }

    /// Gives `slot` to the node `id`; false if it had an owner.
    pub fn add_slot(&mut self, slot: u16, id: &str) -> bool {
        if self.slots[usize::from(slot)].is_some() {
            return false;
        }
        let h = self.handle(id);
        self.slots[usize::from(slot)] = Some(h);
        if let Some(n) = self.node_mut(id) {
            n.numslots += 1;
        }
        true
    }

    /// Takes `slot` from its owner; false if it had none.
    pub fn del_slot(&mut self, slot: u16) -> bool {
        let Some(id) = self.owner(slot).map(str::to_string) else {
            return false;
        };
        self.slots[usize::from(slot)] = None;
        if let Some(n) = self.node_mut(&id) {
            n.numslots = n.numslots.saturating_sub(1);
        }
        if id == self.myself || self.me().master.as_deref() == Some(id.as_str()) {
            self.lost_slots.push(slot);
        }
        true
    }

    /// Takes every slot from the node `id`.
    pub fn del_node_slots(&mut self, id: &str) {
        for s in 0..SLOTS as u16 {
            if self.owner(s) == Some(id) {
                self.del_slot(s);
            }
        }
    }

    /// Checks the slots `start..=end` for ADDSLOTS (`del` false) or DELSLOTS, marking them in
    /// `seen`, as Redis does argument by argument.
    pub fn check_slots(
        &self,
        seen: &mut [bool],
        del: bool,
        start: u16,
        end: u16,
    ) -> Result<(), SlotsRefused> {
        for s in start..=end {
            let owned = self.slots[usize::from(s)].is_some();
            if del && !owned {
                return Err(SlotsRefused::Unassigned(s));
            }
            if !del && owned {
                return Err(SlotsRefused::Busy(s));
            }
            if std::mem::replace(&mut seen[usize::from(s)], true) {
                return Err(SlotsRefused::Repeated(s));
            }
        }
        Ok(())
    }

    /// Applies checked ADDSLOTS / DELSLOTS: a slot added or removed is no longer imported.
    pub fn update_slots(&mut self, seen: &[bool], del: bool) {
        let me = self.myself.clone();
        for (s, _) in seen.iter().enumerate().filter(|(_, &b)| b) {
            let s = s as u16;
            self.importing.remove(&s);
            if del {
                self.del_slot(s);
            } else {
                self.add_slot(s, &me);
            }
        }
    }

    /// The replicas of the node `id`, in the order they were learned.
    pub fn replicas_of(&self, id: &str) -> Vec<&Node> {
        self.nodes
            .iter()
            .filter(|n| n.master.as_deref() == Some(id))
            .collect()
    }

    /// Forgets a node: its slots, its place in migrations, its replicas' link to it, and the
    /// failure reports it made.
    pub fn del_node(&mut self, id: &str) {
        self.migrating.retain(|_, n| n != id);
        self.importing.retain(|_, n| n != id);
        self.del_node_slots(id);
        for n in &mut self.nodes {
            n.fail_reports.retain(|(by, _)| by != id);
            if n.master.as_deref() == Some(id) {
                n.master = None;
            }
        }
        self.nodes.retain(|n| n.id != id);
    }

    /// CLUSTER FORGET: the node is gone and not learned again for a minute.
    pub fn forget(&mut self, id: &str, now: i64) {
        self.blacklist.retain(|(_, until)| *until > now);
        self.blacklist.push((id.to_string(), now + 60_000));
        self.del_node(id);
    }

    /// Makes this node a replica of `id` (CLUSTER REPLICATE), closing the slots it was
    /// moving when it was a primary.
    pub fn set_master(&mut self, id: &str) {
        let me = self.me_mut();
        if me.is_master() {
            me.flags &= !(flag::MASTER | flag::MIGRATE_TO);
            me.flags |= flag::SLAVE;
            self.migrating.clear();
            self.importing.clear();
        }
        self.me_mut().master = Some(id.to_string());
        self.mark_migrate_to(id);
    }

    /// A primary that has (or had) a replica may receive a migrating replica once it has
    /// none left (Redis sets MIGRATE_TO whenever a replica attaches).
    pub fn mark_migrate_to(&mut self, master: &str) {
        if let Some(m) = self.node_mut(master) {
            m.flags |= flag::MIGRATE_TO;
        }
    }

    /// Makes this node a primary again (CLUSTER RESET of a replica).
    pub fn set_myself_master(&mut self) {
        let me = self.me_mut();
        me.flags &= !flag::SLAVE;
        me.flags |= flag::MASTER;
        me.master = None;
    }

    /// Whether a node at this address is already in handshake (a second MEET is a no-op).
    pub fn handshake_in_progress(&self, ip: &str, port: u16, cport: u16) -> bool {
        self.nodes.iter().any(|n| {
            n.flags & flag::HANDSHAKE != 0 && n.ip == ip && n.port == port && n.cport == cport
        })
    }

    /// CLUSTER MEET: a node at this address, under a provisional ID, in handshake until the
    /// bus hears from it.
    pub fn meet(&mut self, id: String, ip: String, port: u16, cport: u16, now: i64) {
        let mut n = Node::new(id, flag::HANDSHAKE | flag::MEET);
        n.ip = ip;
        n.port = port;
        n.cport = cport;
        n.created_ms = now;
        self.add_node(n);
    }

    /// Drops the nodes whose handshake did not complete within the node timeout (at least a
    /// second), as Redis's cluster cron does.
    pub fn expire_handshakes(&mut self, now: i64, node_timeout: i64) {
        let limit = node_timeout.max(1000);
        let gone: Vec<String> = self
            .nodes
            .iter()
            .filter(|n| n.flags & flag::HANDSHAKE != 0 && now - n.created_ms > limit)
            .map(|n| n.id.clone())
            .collect();
        for id in gone {
            self.del_node(&id);
        }
    }

    /// CLUSTER FAILOVER TAKEOVER's change of roles: this replica becomes a primary and takes
    /// every slot of its former primary.
    pub fn take_over_master(&mut self) {
        let Some(old) = self.me().master.clone() else {
            return;
        };
        self.set_myself_master();
        let me = self.myself.clone();
        for s in 0..SLOTS as u16 {
            if self.owner(s) == Some(old.as_str()) {
                self.del_slot(s);
                self.add_slot(s, &me);
            }
        }
    }

    /// The highest epoch known: currentEpoch or any node's configEpoch.
    pub fn max_epoch(&self) -> u64 {
        self.nodes
            .iter()
            .map(|n| n.config_epoch)
            .fold(self.current_epoch, u64::max)
    }

    /// CLUSTER BUMPEPOCH: a new configEpoch without asking the cluster, unless this node's is
    /// already the highest (and not 0). Returns whether it changed.
    pub fn bump_epoch(&mut self) -> bool {
        let max = self.max_epoch();
        let mine = self.me().config_epoch;
        if mine == 0 || mine != max {
            self.current_epoch += 1;
            let e = self.current_epoch;
            self.me_mut().config_epoch = e;
            true
        } else {
            false
        }
    }

    /// Sets this node's configEpoch (CLUSTER SET-CONFIG-EPOCH, checked by the caller).
    pub fn set_config_epoch(&mut self, epoch: u64) {
        self.me_mut().config_epoch = epoch;
        if self.current_epoch < epoch {
            self.current_epoch = epoch;
        }
    }

    /// The epoch CLUSTER INFO and NODES show for a node: a replica shows its primary's.
    pub fn shown_epoch(&self, n: &Node) -> u64 {
        match (&n.master, n.is_replica()) {
            (Some(m), true) => self
                .nodes
                .iter()
                .find(|x| &x.id == m)
                .map_or(0, |m| m.config_epoch),
            _ => n.config_epoch,
        }
    }

    /// CLUSTER RESET: forgets every other node and every slot; HARD also takes a new ID
    /// (`new_id`) and sets the epochs to 0.
    pub fn reset(&mut self, new_id: Option<String>) {
        if self.me().is_replica() {
            self.set_myself_master();
        }
        self.migrating.clear();
        self.importing.clear();
        for s in 0..SLOTS as u16 {
            self.del_slot(s);
        }
        let me = self.myself.clone();
        let others: Vec<String> = self
            .nodes
            .iter()
            .filter(|n| n.id != me)
            .map(|n| n.id.clone())
            .collect();
        for id in others {
            self.del_node(&id);
        }
        if let Some(id) = new_id {
            self.current_epoch = 0;
            self.last_vote_epoch = 0;
            let m = self.me_mut();
            m.config_epoch = 0;
            m.id = id.clone();
            self.myself = id;
        }
    }

    /// Re-evaluates whether the cluster is ok, as Redis's clusterUpdateState does: every slot
    /// served by a node not failing (with `full_coverage`), this node among a majority of the
    /// primaries that serve slots, and the waits after a start or a minority partition.
    pub fn update_state(&mut self, now: i64, full_coverage: bool, node_timeout: i64) {
        let first = *self.first_update_ms.get_or_insert(now);
        let me_master = self.me().is_master();
        if me_master && !self.ok && now - first < WRITABLE_DELAY_MS {
            return;
        }
        let mut new_ok = true;
        if full_coverage {
            // Every slot has an owner, and no owner is failing: counted by node.
            let owners = self.nodes.iter().filter(|n| n.numslots > 0);
            let assigned: usize = owners.clone().map(|n| n.numslots).sum();
            if assigned < SLOTS || owners.clone().any(Node::failed) {
                new_ok = false;
            }
        }
        let serving = self
            .nodes
            .iter()
            .filter(|n| n.is_master() && n.numslots > 0);
        self.size = serving.clone().count();
        let reachable = serving
            .filter(|n| n.flags & (flag::FAIL | flag::PFAIL) == 0)
            .count();
        if reachable < self.size / 2 + 1 {
            new_ok = false;
            self.minority_ms = now;
        }
        if new_ok != self.ok {
            let delay = node_timeout.clamp(MIN_REJOIN_DELAY_MS, MAX_REJOIN_DELAY_MS);
            if new_ok && me_master && now - self.minority_ms < delay {
                return;
            }
            self.ok = new_ok;
        }
    }

    /// Slot ranges as runs of one owner: (start, end, owner ID), in slot order.
    pub fn slot_runs(&self) -> Vec<(u16, u16, &str)> {
        // By handle first (a number compared per slot), named at the end.
        let mut runs: Vec<(u16, u16, u32)> = Vec::new();
        for (s, h) in self.slots.iter().enumerate() {
            let (Some(h), s) = (*h, s as u16) else {
                continue;
            };
            match runs.last_mut() {
                Some(last) if last.1 + 1 == s && last.2 == h => last.1 = s,
                _ => runs.push((s, s, h)),
            }
        }
        runs.into_iter()
            .filter_map(|(a, b, h)| Some((a, b, self.handles.get(h as usize)?.as_str())))
            .collect()
    }

    /// One node's line of CLUSTER NODES and nodes.conf (without the newline). `runs` are
    /// the slot runs from [`ClusterState::slot_runs`].
    pub fn node_line(&self, n: &Node, runs: &[(u16, u16, &str)]) -> String {
        let mut line = format!("{} {}:{}@{}", n.id, n.ip, n.port, n.cport);
        if !n.hostname.is_empty() {
            line.push(',');
            line.push_str(&n.hostname);
        }
        line.push(' ');
        line.push_str(&n.flag_names());
        line.push(' ');
        line.push_str(n.master.as_deref().unwrap_or("-"));
        line.push_str(&format!(
            " {} {} {} {}",
            n.ping_sent,
            n.pong_received,
            self.shown_epoch(n),
            if n.link || n.flags & flag::MYSELF != 0 {
                "connected"
            } else {
                "disconnected"
            }
        ));
        for &(a, b, id) in runs {
            if id != n.id {
                continue;
            }
            if a == b {
                line.push_str(&format!(" {a}"));
            } else {
                line.push_str(&format!(" {a}-{b}"));
            }
        }
        if n.flags & flag::MYSELF != 0 {
            let open: std::collections::BTreeSet<u16> = self
                .migrating
                .keys()
                .chain(self.importing.keys())
                .copied()
                .collect();
            for s in open {
                if let Some(to) = self.migrating.get(&s) {
                    line.push_str(&format!(" [{s}->-{to}]"));
                } else if let Some(from) = self.importing.get(&s) {
                    line.push_str(&format!(" [{s}-<-{from}]"));
                }
            }
        }
        line
    }

    /// CLUSTER NODES: a line per node, nodes in handshake left out when `no_handshake`
    /// (nodes.conf leaves them out).
    pub fn nodes_text(&self, no_handshake: bool) -> String {
        let runs = self.slot_runs();
        let mut out = String::new();
        for n in &self.nodes {
            if no_handshake && n.flags & flag::HANDSHAKE != 0 {
                continue;
            }
            out.push_str(&self.node_line(n, &runs));
            out.push('\n');
        }
        out
    }

    /// The whole nodes.conf: the nodes, then the `vars` line.
    pub fn config_text(&self) -> String {
        let mut out = self.nodes_text(true);
        out.push_str(&format!(
            "vars currentEpoch {} lastVoteEpoch {}\n",
            self.current_epoch, self.last_vote_epoch
        ));
        out
    }

    /// CLUSTER INFO's text; `sent` and `received` count the bus messages by type code.
    pub fn info_text(&self, sent: &[u64], received: &[u64]) -> String {
        let (mut assigned, mut ok, mut pfail, mut fail) = (0, 0, 0, 0);
        for n in self.nodes.iter().filter(|n| n.numslots > 0) {
            assigned += n.numslots;
            if n.failed() {
                fail += n.numslots;
            } else if n.flags & flag::PFAIL != 0 {
                pfail += n.numslots;
            } else {
                ok += n.numslots;
            }
        }
        let mut out = format!(
            "cluster_state:{}\r\ncluster_slots_assigned:{}\r\ncluster_slots_ok:{}\r\n\
             cluster_slots_pfail:{}\r\ncluster_slots_fail:{}\r\ncluster_known_nodes:{}\r\n\
             cluster_size:{}\r\ncluster_current_epoch:{}\r\ncluster_my_epoch:{}\r\n",
            if self.ok { "ok" } else { "fail" },
            assigned,
            ok,
            pfail,
            fail,
            self.nodes.len(),
            self.size,
            self.current_epoch,
            self.shown_epoch(self.me()),
        );
        for (counts, dir) in [(sent, "sent"), (received, "received")] {
            let mut total = 0;
            for (code, &n) in counts.iter().enumerate() {
                if n == 0 {
                    continue;
                }
                total += n;
                let name = crate::cluster::bus::type_name(code as u16);
                out.push_str(&format!("cluster_stats_messages_{name}_{dir}:{n}\r\n"));
            }
            out.push_str(&format!("cluster_stats_messages_{dir}:{total}\r\n"));
        }
        out.push_str("total_cluster_links_buffer_limit_exceeded:0\r\n");
        out
    }
}

/// Why a nodes.conf cannot be loaded (Redis stops with "corrupted cluster config file").
#[derive(Debug, PartialEq, Eq)]
pub struct CorruptConfig(pub String);

/// Reads a nodes.conf. `Ok(None)` for an empty file (a fresh node writes one).
pub fn parse_config(text: &str) -> Result<Option<ClusterState>, CorruptConfig> {
    let bad = |why: &str| CorruptConfig(why.to_string());
    let mut nodes: Vec<Node> = Vec::new();
    let mut myself: Option<String> = None;
    let mut owners: Vec<(u16, u16, String)> = Vec::new();
    let mut migrating = BTreeMap::new();
    let mut importing = BTreeMap::new();
    let (mut current, mut last_vote) = (0u64, 0u64);
    let mut any = false;
    fn ensure(nodes: &mut Vec<Node>, id: &str) -> usize {
        match nodes.iter().position(|n| n.id == id) {
            Some(i) => i,
            None => {
                nodes.push(Node::new(id.to_string(), 0));
                nodes.len() - 1
            }
        }
    }
    for line in text.lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        if words.is_empty() {
            continue;
        }
        any = true;
        if words[0].eq_ignore_ascii_case("vars") {
            if words.len().is_multiple_of(2) {
                return Err(bad("vars line with an odd count of words"));
            }
            for pair in words[1..].chunks(2) {
                let v = pair[1].parse::<u64>().unwrap_or(0);
                if pair[0].eq_ignore_ascii_case("currentEpoch") {
                    current = v;
                } else if pair[0].eq_ignore_ascii_case("lastVoteEpoch") {
                    last_vote = v;
                }
            }
            continue;
        }
        if words.len() < 8 {
            return Err(bad("a node line with fewer than 8 fields"));
        }
        if !valid_id(words[0].as_bytes()) {
            return Err(bad("a malformed node ID"));
        }
        let i = ensure(&mut nodes, words[0]);
        let (addr, hostname) = match words[1].split_once(',') {
            Some((a, h)) => (a, h),
            None => (words[1], ""),
        };
        let Some((ip, ports)) = addr.rsplit_once(':') else {
            return Err(bad("an address without a port"));
        };
        let (port, cport) = match ports.split_once('@') {
            Some((p, c)) => (p, Some(c)),
            None => (ports, None),
        };
        let port: u16 = port.parse().unwrap_or(0);
        let cport = match cport {
            Some(c) => c.parse().unwrap_or(0),
            None => (u32::from(port) + BUS_PORT_OFFSET).min(65535) as u16,
        };
        let mut flags = 0;
        for f in words[2].split(',') {
            flags |= match f.to_ascii_lowercase().as_str() {
                "myself" => {
                    if myself.is_some() {
                        return Err(bad("two nodes flagged myself"));
                    }
                    myself = Some(words[0].to_string());
                    flag::MYSELF
                }
                "master" => flag::MASTER,
                "slave" => flag::SLAVE,
                "fail?" => flag::PFAIL,
                "fail" => flag::FAIL,
                "handshake" => flag::HANDSHAKE,
                "noaddr" => flag::NOADDR,
                "nofailover" => flag::NOFAILOVER,
                "noflags" => 0,
                _ => return Err(bad("an unknown node flag")),
            };
        }
        let master = if words[3].starts_with('-') {
            None
        } else {
            if !valid_id(words[3].as_bytes()) {
                return Err(bad("a malformed primary ID"));
            }
            ensure(&mut nodes, words[3]);
            Some(words[3].to_string())
        };
        let epoch = words[6].parse::<u64>().unwrap_or(0);
        {
            let n = &mut nodes[i];
            n.ip = ip.to_string();
            n.hostname = hostname.to_string();
            n.port = port;
            n.cport = cport;
            n.flags |= flags;
            n.config_epoch = if n.is_replica() && master.is_some() {
                0
            } else {
                epoch
            };
            n.master = master;
        }
        for w in &words[8..] {
            if let Some(inner) = w.strip_prefix('[') {
                let inner = inner.trim_end_matches(']');
                let (slot, dir, id) = if let Some((s, id)) = inner.split_once("->-") {
                    (s, '>', id)
                } else if let Some((s, id)) = inner.split_once("-<-") {
                    (s, '<', id)
                } else {
                    return Err(bad("a malformed open slot"));
                };
                let slot: u16 = slot
                    .parse()
                    .ok()
                    .filter(|&s: &u16| usize::from(s) < SLOTS)
                    .ok_or_else(|| bad("a slot out of range"))?;
                if !valid_id(id.as_bytes()) {
                    return Err(bad("a malformed node ID in an open slot"));
                }
                ensure(&mut nodes, id);
                if dir == '>' {
                    migrating.insert(slot, id.to_string());
                } else {
                    importing.insert(slot, id.to_string());
                }
                continue;
            }
            let (a, b) = match w.split_once('-') {
                Some((a, b)) => (a, b),
                None => (*w, *w),
            };
            let parse = |s: &str| s.parse::<u16>().ok().filter(|&s| usize::from(s) < SLOTS);
            match (parse(a), parse(b)) {
                (Some(a), Some(b)) => {
                    if a <= b {
                        owners.push((a, b, words[0].to_string()));
                    }
                }
                _ => return Err(bad("a slot out of range")),
            }
        }
    }
    if !any {
        return Ok(None);
    }
    let Some(me) = myself else {
        return Err(bad("no node flagged myself"));
    };
    let mut st = ClusterState::new(me.clone(), 0, 0);
    st.nodes = nodes;
    st.current_epoch = current;
    st.last_vote_epoch = last_vote;
    st.migrating = migrating;
    st.importing = importing;
    for (a, b, id) in owners {
        for s in a..=b {
            st.add_slot(s, &id);
        }
    }
    let primaries: Vec<String> = st.nodes.iter().filter_map(|n| n.master.clone()).collect();
    for m in primaries {
        st.mark_migrate_to(&m);
    }
    let max = st.max_epoch();
    if max > st.current_epoch {
        st.current_epoch = max;
    }
    Ok(Some(st))
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "db170723d379c41266d880000a01e548822fb2f5";
    const B: &str = "0cb0845191e04fa44f978a5bbe1be0a051c73ec0";

    #[test]
    fn fresh_node_lines() {
        let st = ClusterState::new(A.into(), 7221, 17221);
        assert_eq!(
            st.config_text(),
            format!("{A} :7221@17221 myself,master - 0 0 0 connected\nvars currentEpoch 0 lastVoteEpoch 0\n")
        );
    }

    #[test]
    fn slots_and_open_slots_round_trip() {
        let mut st = ClusterState::new(A.into(), 7221, 17221);
        let mut b = Node::new(B.into(), flag::MASTER);
        b.ip = "127.0.0.1".into();
        b.port = 7222;
        b.cport = 17222;
        st.add_node(b);
        for s in 0..100 {
            st.add_slot(s, A);
        }
        st.add_slot(200, A);
        st.add_slot(101, B);
        st.migrating.insert(5, B.into());
        st.importing.insert(101, B.into());
        st.current_epoch = 3;
        let text = st.config_text();
        assert!(text.contains(&format!(
            "{A} :7221@17221 myself,master - 0 0 0 connected 0-99 200 [5->-{B}] [101-<-{B}]\n"
        )));
        assert!(text.contains(&format!(
            "{B} 127.0.0.1:7222@17222 master - 0 0 0 disconnected 101\n"
        )));
        let back = parse_config(&text).unwrap().unwrap();
        assert_eq!(back.config_text(), text);
        assert_eq!(back.me().numslots, 101);
    }

    #[test]
    fn corrupt_files_are_refused() {
        assert!(parse_config("\n\n").unwrap().is_none());
        assert!(parse_config("vars currentEpoch").is_err());
        assert!(parse_config(&format!("{A} :1@2 master - 0 0 0 connected\n")).is_err());
        assert!(parse_config(&format!("{A} :1@2 myself,bogus - 0 0 0 connected\n")).is_err());
        assert!(
            parse_config(&format!("{A} :1@2 myself,master - 0 0 0 connected 16384\n")).is_err()
        );
    }

    #[test]
    fn state_waits_then_turns_ok() {
        let mut st = ClusterState::new(A.into(), 1, 2);
        st.update_state(0, true, 15000);
        assert!(!st.ok);
        st.update_state(2500, true, 15000);
        assert!(!st.ok);
        assert_eq!(st.size, 0);
        for s in 0..SLOTS as u16 {
            st.add_slot(s, A);
        }
        st.update_state(3000, true, 15000);
        assert!(!st.ok, "still in the rejoin delay");
        st.update_state(7600, true, 15000);
        assert!(st.ok);
        assert_eq!(st.size, 1);
    }
}
