//! The cluster bus, live: what a node does with its links to the other nodes (Redis 7.0's
//! clusterProcessPacket, clusterSendPing, clusterCron), as a sans-IO state machine.
//!
//! # The host API
//!
//! The engine holds one [`Bus`] per cluster node (in [`super::Cluster`]) and exposes it through
//! a few methods (see `src/engine/cluster_bus.rs`); a host moves the bytes. Every call takes
//! the time (`now_ms`); randomness comes from the engine's seeded rng, so a host that controls
//! the clock and the bytes gets a deterministic cluster.
//!
//! - `Engine::cluster_bus_accepted(peer_ip, local_ip, now_ms) -> Option<LinkId>`: a node
//!   connected to this node's bus port. `peer_ip` is the address the connection comes from,
//!   `local_ip` the address it reached (a node learns its own IP from the MEETs it gets). None
//!   when the engine is not a cluster node (the host closes the connection).
//! - `Engine::cluster_bus_connected(link, now_ms)`: an outbound link the bus asked for
//!   ([`BusAction::Connect`]) is established; the bus greets the node (MEET or PING).
//! - `Engine::cluster_bus_read(link, bytes, now_ms)`: bytes arrived on a link (any split).
//! - `Engine::cluster_bus_closed(link, now_ms)`: the link ended (connect failure, EOF, error).
//!   Not needed after a [`BusAction::Close`].
//! - `Engine::cluster_bus_cron(now_ms)`: every 100 ms, as Redis's clusterCron: links to nodes
//!   opened, PINGs sent, timeouts checked, handshakes expired.
//! - `Engine::cluster_bus_actions() -> Vec<BusAction>`: what the host must do now, in order:
//!   [`BusAction::Connect`] (open a TCP connection to `ip:port`, then report `connected` or
//!   `closed` for that link), [`BusAction::Write`] (append bytes to the link's output; only
//!   for established links, the bus buffers the rest) and [`BusAction::Close`] (drop the link,
//!   unsent output may be dropped). Call it after every call above and after every command
//!   (commands such as CLUSTER MEET, SETSLOT and PUBLISH queue bus work).
//!
//! Link ids are opaque and never reused by one engine. A host that routes bytes between
//! in-page engines maps a Connect to the engine listening at that address: `accepted` there,
//! then `connected` here, and carries each Write to the peer link's `read`.
//!
//! # What is here and what is not
//! Handshakes (MEET, the PONG that names the node, the PING of an inbound-only peer), gossip
//! sections (learning nodes, pong times, failure reports, address changes of failing nodes),
//! node address updates, role changes, slot ownership by config epoch (claims in every header,
//! UPDATE messages to stale nodes, epoch collisions), currentEpoch, PFAIL when a PING is not
//! answered within the node timeout, FAIL when a quorum of primaries reports it (and the FAIL
//! message), PUBLISH and SPUBLISH over the bus. Elections (FAILOVER_AUTH_REQUEST / ACK,
//! MFSTART, replica promotion, manual failover, replica migration) have their hooks here
//! ([`Bus::failover_message`], [`Bus::failover_cron`]) and live elsewhere.

use std::collections::BTreeMap;

use super::bus::gossip::{self, NodeView};
use super::bus::{
    self, flags as wire, ip_field, node_name, until_nul, Body, Framer, Gossip, GossipEntry, Header,
    Msg, MsgType, NodeName, PingExt, SlotBitmap, IP_LEN, NULL_NAME,
};
use super::state::{flag, random_id, valid_id, ClusterState, Node};
use crate::rng::Rng;

/// A link's id, chosen by the bus; opaque to the host.
pub type LinkId = u64;

/// What the host must do for the bus.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BusAction {
    /// Open a connection to a node's bus port; report it with `cluster_bus_connected` or
    /// `cluster_bus_closed`.
    Connect {
        /// The link this connection is.
        link: LinkId,
        /// The node's IP.
        ip: String,
        /// Its cluster bus port.
        port: u16,
    },
    /// Send these bytes on an established link.
    Write {
        /// The link.
        link: LinkId,
        /// The bytes, one or more whole messages.
        bytes: Vec<u8>,
    },
    /// Close the link.
    Close {
        /// The link.
        link: LinkId,
    },
}

/// What the engine must do because of what the bus learned (the bus itself only knows the
/// cluster state).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Effect {
    /// Replicate from this primary (this node became, or follows, a replica).
    SetMaster {
        /// The primary's IP.
        ip: String,
        /// Its client port.
        port: u16,
    },
    /// Deliver a message published on another node.
    Publish {
        /// The channel.
        channel: Vec<u8>,
        /// The message.
        message: Vec<u8>,
        /// SPUBLISH (a shard channel).
        shard: bool,
    },
    /// This primary lost a slot that still holds keys: delete them.
    DelKeysInSlot(u16),
}

/// What the bus reads from the engine for one call.
pub struct Env<'a> {
    /// Now (ms).
    pub now: i64,
    /// `cluster-node-timeout` (ms).
    pub node_timeout: i64,
    /// This node's replication offset (the one it announces in every header).
    pub offset: i64,
    /// `cluster-announce-ip` (empty: the receivers use the socket's address).
    pub announce_ip: &'a str,
    /// `cluster-allow-replica-migration`.
    pub allow_replica_migration: bool,
    /// How many keys this node holds in a slot.
    pub keys_in_slot: &'a dyn Fn(u16) -> usize,
    /// The engine's seeded randomness.
    pub rng: &'a mut Rng,
}

/// One link to another node.
#[derive(Debug)]
pub struct Link {
    /// The node it belongs to: set at creation for an outbound link, once the sender is
    /// known for an inbound one.
    pub node: Option<String>,
    /// Accepted (the peer connected to us), rather than opened by this node.
    pub inbound: bool,
    /// When it was created (ms).
    pub ctime: i64,
    /// The connection is established (inbound links always are).
    pub connected: bool,
    /// The peer's IP (the address connected to, for an outbound link).
    pub peer_ip: String,
    /// This node's address on the connection (inbound links).
    pub local_ip: String,
    framer: Framer,
    /// Output queued while the connection is being established.
    pending: Vec<u8>,
    /// Bytes handed to the host for this link (CLUSTER LINKS' view of the send buffer is 0).
    pub sent_bytes: u64,
}

/// The bus's state on one node: its links and what waits for the host.
#[derive(Debug, Default)]
pub struct Bus {
    /// The links, by id.
    pub links: BTreeMap<LinkId, Link>,
    next_link: LinkId,
    actions: Vec<BusAction>,
    effects: Vec<Effect>,
    iteration: u64,
    /// Messages sent, by type code (CLUSTER INFO).
    pub stats_sent: [u64; 11],
    /// Messages received, by type code (CLUSTER INFO).
    pub stats_received: [u64; 11],
    /// nodes.conf must be written.
    pub todo_save: bool,
    /// The cluster state must be evaluated again.
    pub todo_update_state: bool,
    /// Messages of this type are dropped on arrival (DEBUG DROP-CLUSTER-PACKET-FILTER).
    pub drop_filter: Option<u16>,
}

/// A node's [`flag`] bits as the wire carries them ([`wire`]).
pub fn flags_to_wire(f: u16) -> u16 {
    let mut w = f & (wire::HANDSHAKE | wire::NOADDR | wire::MEET | wire::MIGRATE_TO);
    w |= f & wire::NOFAILOVER;
    for (state, on_wire) in FLAG_MAP {
        if f & state != 0 {
            w |= on_wire;
        }
    }
    w
}

/// Wire flags as a node's [`flag`] bits.
pub fn flags_from_wire(w: u16) -> u16 {
    let mut f = w & (flag::HANDSHAKE | flag::NOADDR | flag::MEET | flag::MIGRATE_TO);
    f |= w & flag::NOFAILOVER;
    for (state, on_wire) in FLAG_MAP {
        if w & on_wire != 0 {
            f |= state;
        }
    }
    f
}

const FLAG_MAP: [(u16, u16); 5] = [
    (flag::MYSELF, wire::MYSELF),
    (flag::MASTER, wire::MASTER),
    (flag::SLAVE, wire::SLAVE),
    (flag::PFAIL, wire::PFAIL),
    (flag::FAIL, wire::FAIL),
];

/// A node as the gossip rules see it.
struct View {
    name: NodeName,
    flags: u16,
    link: bool,
    slots: usize,
    ping_sent: i64,
    pong_received: i64,
    ip: [u8; IP_LEN],
    port: u16,
    cport: u16,
    pport: u16,
}

impl NodeView for View {
    fn name(&self) -> &NodeName {
        &self.name
    }
    fn flags(&self) -> u16 {
        self.flags
    }
    fn has_link(&self) -> bool {
        self.link
    }
    fn slot_count(&self) -> usize {
        self.slots
    }
    fn ping_sent_ms(&self) -> i64 {
        self.ping_sent
    }
    fn pong_received_ms(&self) -> i64 {
        self.pong_received
    }
    fn ip(&self) -> [u8; IP_LEN] {
        self.ip
    }
    fn port(&self) -> u16 {
        self.port
    }
    fn cport(&self) -> u16 {
        self.cport
    }
    fn pport(&self) -> u16 {
        self.pport
    }
}

fn view(n: &Node) -> View {
    View {
        name: node_name(n.id.as_bytes()),
        flags: flags_to_wire(n.flags),
        link: n.link,
        slots: n.numslots,
        ping_sent: n.ping_sent,
        pong_received: n.pong_received,
        ip: ip_field(n.ip.as_bytes()),
        port: n.port,
        cport: n.cport,
        pport: n.pport,
    }
}

/// The text of a 40-byte node name (lossy; only valid names are looked up).
fn name_text(n: &NodeName) -> String {
    String::from_utf8_lossy(n).into_owned()
}

/// The slots of a node as a bitmap.
pub fn slot_bitmap(st: &ClusterState, id: &str) -> SlotBitmap {
    let mut b = SlotBitmap::new();
    for s in st.slots_of(id) {
        b.insert(s);
    }
    b
}

fn in_handshake(n: &Node) -> bool {
    n.flags & flag::HANDSHAKE != 0
}

impl Bus {
    /// A bus without links.
    pub fn new() -> Bus {
        Bus::default()
    }

    /// Takes what the host must do, in order.
    pub fn take_actions(&mut self) -> Vec<BusAction> {
        std::mem::take(&mut self.actions)
    }

    /// Takes what the engine must do, in order.
    pub fn take_effects(&mut self) -> Vec<Effect> {
        std::mem::take(&mut self.effects)
    }

    fn new_link(&mut self, node: Option<String>, inbound: bool, now: i64) -> LinkId {
        self.next_link += 1;
        let id = self.next_link;
        self.links.insert(
            id,
            Link {
                node,
                inbound,
                ctime: now,
                connected: inbound,
                peer_ip: String::new(),
                local_ip: String::new(),
                framer: Framer::new(),
                pending: Vec::new(),
                sent_bytes: 0,
            },
        );
        id
    }

    /// A node connected to our bus port.
    pub fn accepted(&mut self, peer_ip: &str, local_ip: &str, now: i64) -> LinkId {
        let id = self.new_link(None, true, now);
        if let Some(l) = self.links.get_mut(&id) {
            l.peer_ip = peer_ip.to_string();
            l.local_ip = local_ip.to_string();
        }
        id
    }

    /// The outbound link to `node`, if any.
    pub fn out_link(&self, node: &str) -> Option<LinkId> {
        self.links
            .iter()
            .find(|(_, l)| !l.inbound && l.node.as_deref() == Some(node))
            .map(|(&id, _)| id)
    }

    /// The inbound link from `node`, if any.
    pub fn in_link(&self, node: &str) -> Option<LinkId> {
        self.links
            .iter()
            .find(|(_, l)| l.inbound && l.node.as_deref() == Some(node))
            .map(|(&id, _)| id)
    }

    /// Drops a link (the host is told to close it).
    pub fn free_link(&mut self, st: &mut ClusterState, link: LinkId) {
        if let Some(l) = self.links.remove(&link) {
            self.actions.push(BusAction::Close { link });
            if let (false, Some(n)) = (l.inbound, l.node) {
                if let Some(n) = st.node_mut(&n) {
                    n.link = false;
                }
            }
        }
    }

    /// The host reports the link ended.
    pub fn closed(&mut self, st: &mut ClusterState, link: LinkId, now: i64) {
        let Some(l) = self.links.remove(&link) else {
            return;
        };
        if let (false, Some(id)) = (l.inbound, l.node) {
            if let Some(n) = st.node_mut(&id) {
                n.link = false;
                if !l.connected && n.ping_sent == 0 {
                    // As a connect that fails at once: failure detection needs a ping time.
                    n.ping_sent = now;
                }
            }
        }
    }

    /// Queues bytes on a link: written at once when it is established, else when it is.
    fn send(&mut self, link: LinkId, bytes: Vec<u8>, code: u16) {
        let Some(l) = self.links.get_mut(&link) else {
            return;
        };
        if let Some(c) = self.stats_sent.get_mut(usize::from(code)) {
            *c += 1;
        }
        l.sent_bytes += bytes.len() as u64;
        if l.connected {
            self.actions.push(BusAction::Write { link, bytes });
        } else {
            l.pending.extend_from_slice(&bytes);
        }
    }

    /// An outbound link is established: MEET or PING, as the node's flags say.
    pub fn connected(&mut self, st: &mut ClusterState, link: LinkId, env: &mut Env) {
        let Some(l) = self.links.get_mut(&link) else {
            return;
        };
        if l.connected {
            return;
        }
        l.connected = true;
        let pending = std::mem::take(&mut l.pending);
        let node = l.node.clone();
        if !pending.is_empty() {
            self.actions.push(BusAction::Write {
                link,
                bytes: pending,
            });
        }
        let Some(id) = node else { return };
        let Some((old_ping, meet)) = st
            .node(id.as_bytes())
            .or_else(|| st.nodes.iter().find(|n| n.id == id))
            .map(|n| (n.ping_sent, n.flags & flag::MEET != 0))
        else {
            return;
        };
        let kind = if meet { MsgType::Meet } else { MsgType::Ping };
        self.send_ping(st, link, kind, env);
        if let Some(n) = st.node_mut(&id) {
            if old_ping != 0 {
                n.ping_sent = old_ping;
            }
            n.flags &= !flag::MEET;
        }
    }

    /// Bytes arrived on a link.
    pub fn read(&mut self, st: &mut ClusterState, link: LinkId, bytes: &[u8], env: &mut Env) {
        let Some(l) = self.links.get_mut(&link) else {
            return;
        };
        l.framer.push(bytes);
        loop {
            let Some(l) = self.links.get_mut(&link) else {
                return;
            };
            match l.framer.next_frame() {
                Ok(Some(frame)) => {
                    if !self.process(st, link, &frame, env) {
                        return;
                    }
                }
                Ok(None) => return,
                Err(_) => {
                    // "Bad message length or signature received from Cluster bus."
                    self.free_link(st, link);
                    return;
                }
            }
        }
    }

    /// The header of a message this node sends.
    fn header(&self, st: &ClusterState, env: &Env) -> Header {
        let me = st.me();
        let master = me
            .master
            .as_deref()
            .filter(|_| me.is_replica())
            .and_then(|m| st.nodes.iter().find(|n| n.id == m))
            .unwrap_or(me);
        Header {
            port: me.port,
            count: 0,
            current_epoch: st.current_epoch,
            config_epoch: master.config_epoch,
            offset: env.offset.max(0) as u64,
            sender: node_name(me.id.as_bytes()),
            myslots: slot_bitmap(st, &master.id),
            slaveof: me
                .master
                .as_deref()
                .map_or(NULL_NAME, |m| node_name(m.as_bytes())),
            myip: ip_field(env.announce_ip.as_bytes()),
            extensions: 0,
            reserved: [0; 30],
            pport: me.pport,
            cport: me.cport,
            flags: flags_to_wire(me.flags),
            state: if st.ok { 0 } else { 1 },
            mflags: [elections::own_mflags(st), 0, 0],
        }
    }

    /// Sends PING, PONG or MEET on a link, with gossip about a few other nodes.
    pub fn send_ping(&mut self, st: &mut ClusterState, link: LinkId, kind: MsgType, env: &mut Env) {
        let Some(l) = self.links.get(&link) else {
            return;
        };
        if !l.inbound && kind == MsgType::Ping {
            if let Some(n) = l.node.clone().and_then(|id| st.node_mut(&id)) {
                n.ping_sent = env.now;
            }
        }
        let header = self.header(st, env);
        let views: Vec<View> = st.nodes.iter().map(view).collect();
        let rng = &mut *env.rng;
        let chosen = gossip::choose_gossip(&views, |n| rng.below(n as u64) as usize);
        let entries: Vec<GossipEntry> = chosen
            .into_iter()
            .map(|i| gossip::gossip_entry(&views[i]))
            .collect();
        let mut exts = Vec::new();
        let hostname = &st.me().hostname;
        if !hostname.is_empty() {
            exts.push(PingExt::hostname(hostname.as_bytes()));
        }
        let g = Gossip { entries, exts };
        let body = match kind {
            MsgType::Pong => Body::Pong(g),
            MsgType::Meet => Body::Meet(g),
            _ => Body::Ping(g),
        };
        let msg = Msg::new(header, body);
        self.send(link, msg.encode(), kind.code());
    }

    /// Sends a message of `body` with this node's header to a link.
    fn send_body(&mut self, st: &ClusterState, link: LinkId, body: Body, env: &Env) {
        let code = body.code();
        let msg = Msg::new(self.header(st, env), body);
        self.send(link, msg.encode(), code);
    }

    /// Sends a message to every node with a link, handshakes apart (clusterBroadcastMessage).
    pub fn broadcast(&mut self, st: &ClusterState, body: Body, env: &Env) {
        let header = self.header(st, env);
        self.broadcast_with(st, header, body);
    }

    /// [`Bus::broadcast`] with a header the caller prepared (a flag of its own set).
    pub(super) fn broadcast_with(&mut self, st: &ClusterState, header: Header, body: Body) {
        let code = body.code();
        let bytes = Msg::new(header, body).encode();
        let targets: Vec<LinkId> = st
            .nodes
            .iter()
            .filter(|n| n.flags & (flag::MYSELF | flag::HANDSHAKE) == 0)
            .filter_map(|n| self.out_link(&n.id))
            .collect();
        for link in targets {
            self.send(link, bytes.clone(), code);
        }
    }

    /// A PONG to every linked node (after a configuration change), or to the replicas of
    /// this node's shard only.
    pub fn broadcast_pong(&mut self, st: &mut ClusterState, local_replicas: bool, env: &mut Env) {
        let my_master = st.me().master.clone();
        let me = st.myself.clone();
        let targets: Vec<LinkId> = st
            .nodes
            .iter()
            .filter(|n| n.flags & flag::MYSELF == 0 && !in_handshake(n))
            .filter(|n| {
                !local_replicas
                    || (n.is_replica()
                        && n.master
                            .as_ref()
                            .is_some_and(|m| *m == me || Some(m) == my_master.as_ref()))
            })
            .filter_map(|n| self.out_link(&n.id))
            .collect();
        for link in targets {
            self.send_ping(st, link, MsgType::Pong, env);
        }
    }

    /// PUBLISH (or SPUBLISH) from a client of this node, propagated over the bus: to every
    /// node, or (shard) to the nodes of this node's shard.
    pub fn propagate_publish(
        &mut self,
        st: &ClusterState,
        channel: &[u8],
        message: &[u8],
        shard: bool,
        env: &Env,
    ) {
        let body = if shard {
            Body::PublishShard {
                channel: channel.to_vec(),
                message: message.to_vec(),
            }
        } else {
            Body::Publish {
                channel: channel.to_vec(),
                message: message.to_vec(),
            }
        };
        if !shard {
            self.broadcast(st, body, env);
            return;
        }
        let me = st.me();
        let primary = if me.is_master() {
            Some(me.id.clone())
        } else {
            me.master.clone()
        };
        let Some(primary) = primary else { return };
        let mut shard_nodes = vec![primary.clone()];
        shard_nodes.extend(st.replicas_of(&primary).into_iter().map(|n| n.id.clone()));
        let code = body.code();
        let bytes = Msg::new(self.header(st, env), body).encode();
        for id in shard_nodes {
            if id == st.myself {
                continue;
            }
            if let Some(link) = self.out_link(&id) {
                self.send(link, bytes.clone(), code);
            }
        }
    }

    /// Tells every node that `about` is failing.
    pub fn send_fail(&mut self, st: &ClusterState, about: &str, env: &Env) {
        self.broadcast(
            st,
            Body::Fail {
                about: node_name(about.as_bytes()),
            },
            env,
        );
    }

    /// Tells `to` (through its outbound link) the slots and config epoch of `about`.
    fn send_update(&mut self, st: &ClusterState, to: &str, about: &str, env: &Env) {
        let Some(link) = self.out_link(to) else {
            return;
        };
        let Some(n) = st.nodes.iter().find(|n| n.id == about) else {
            return;
        };
        let body = Body::Update {
            config_epoch: n.config_epoch,
            node: node_name(n.id.as_bytes()),
            slots: slot_bitmap(st, &n.id),
        };
        self.send_body(st, link, body, env);
    }

    /// The sender of a message on a link (getNodeFromLinkAndMsg): the link's node unless it
    /// is still in handshake, else the node the header names (which an inbound link then
    /// belongs to).
    fn sender_of(&mut self, st: &mut ClusterState, link: LinkId, h: &Header) -> Option<String> {
        let l = self.links.get(&link)?;
        if let Some(id) = &l.node {
            if st.nodes.iter().any(|n| &n.id == id && !in_handshake(n)) {
                return Some(id.clone());
            }
        }
        let sender = st.node(&h.sender).map(|n| n.id.clone())?;
        if l.node.is_none() {
            // An inbound link learns its node; an older inbound link from it goes.
            if let Some(old) = self.in_link(&sender) {
                self.free_link(st, old);
            }
            if let Some(l) = self.links.get_mut(&link) {
                l.node = Some(sender.clone());
            }
        }
        Some(sender)
    }

    /// clusterProcessPacket: acts on one whole message. Returns false when the link is gone.
    fn process(
        &mut self,
        st: &mut ClusterState,
        link: LinkId,
        frame: &[u8],
        env: &mut Env,
    ) -> bool {
        let now = env.now;
        if frame.len() >= 14 {
            let code = u16::from_be_bytes([frame[12], frame[13]]);
            if let Some(c) = self.stats_received.get_mut(usize::from(code)) {
                *c += 1;
            }
        }
        if frame.len() >= 14 {
            let code = u16::from_be_bytes([frame[12], frame[13]]);
            if self.drop_filter == Some(code) {
                return true;
            }
        }
        let Ok(msg) = Msg::decode(frame) else {
            // A wrong version or a length that disagrees with the type: ignored.
            return true;
        };
        let h = &msg.header;
        let Some(kind) = msg.msg_type() else {
            return true;
        };
        let sender = self.sender_of(st, link, h);
        if let Some(n) = sender.as_deref().and_then(|id| st.node_mut(id)) {
            n.data_received = now;
        }
        let (mut sender_current, mut sender_config) = (0, 0);
        if let Some(id) = sender.clone() {
            let known = st.nodes.iter().any(|n| n.id == id && !in_handshake(n));
            if known {
                sender_current = h.current_epoch;
                sender_config = h.config_epoch;
                if sender_current > st.current_epoch {
                    st.current_epoch = sender_current;
                    self.todo_save = true;
                }
                if let Some(n) = st.node_mut(&id) {
                    if sender_config > n.config_epoch {
                        n.config_epoch = sender_config;
                        self.todo_save = true;
                    }
                    n.repl_offset = h.offset.min(i64::MAX as u64) as i64;
                }
                self.election_header(st, &id, h.mflags[0]);
            }
        }
        let (inbound, link_node) = match self.links.get(&link) {
            Some(l) => (l.inbound, l.node.clone()),
            None => return false,
        };
        let gossip = msg.body.gossip().cloned();

        if matches!(kind, MsgType::Ping | MsgType::Meet) {
            if (kind == MsgType::Meet || st.me().ip.is_empty()) && env.announce_ip.is_empty() {
                let local = self
                    .links
                    .get(&link)
                    .map(|l| l.local_ip.clone())
                    .unwrap_or_default();
                let myself = st.myself.clone();
                if let Some(me) = st.node_mut(&myself) {
                    if !local.is_empty() && me.ip != local {
                        me.ip = local;
                        self.todo_save = true;
                    }
                }
            }
            if sender.is_none() && kind == MsgType::Meet {
                let id = random_id(|| env.rng.next_u64());
                let mut n = Node::new(id, flag::HANDSHAKE);
                n.ip = self.peer_address(link, h);
                n.port = h.port;
                n.pport = h.pport;
                n.cport = h.cport;
                n.created_ms = now;
                st.add_node(n);
                self.todo_save = true;
                if let Some(g) = &gossip {
                    self.process_gossip(st, None, g, env);
                }
            }
            self.send_ping(st, link, MsgType::Pong, env);
        }

        if let Some(g) = gossip {
            if !inbound {
                let Some(node_id) = link_node.clone() else {
                    return true;
                };
                let node_hs = st
                    .nodes
                    .iter()
                    .find(|n| n.id == node_id)
                    .is_some_and(in_handshake);
                if node_hs {
                    if let Some(known) = sender.clone() {
                        // We know this node already: maybe at another address.
                        if self.update_address(st, &known, link, h, env) {
                            self.todo_save = true;
                            self.todo_update_state = true;
                        }
                        self.delete_node(st, &node_id);
                        return false;
                    }
                    let real = name_text(&h.sender);
                    if !valid_id(real.as_bytes()) {
                        return true;
                    }
                    st.rename_node(&node_id, &real);
                    for l in self.links.values_mut() {
                        if l.node.as_deref() == Some(node_id.as_str()) {
                            l.node = Some(real.clone());
                        }
                    }
                    if let Some(n) = st.node_mut(&real) {
                        n.flags &= !flag::HANDSHAKE;
                        n.flags |= flags_from_wire(h.flags) & (flag::MASTER | flag::SLAVE);
                    }
                    // As in Redis, the rest of this first PONG is read as from an unknown
                    // sender: its epochs, role and slots come with the next message.
                    self.todo_save = true;
                } else if node_id.as_bytes() != h.sender {
                    // The node at this address is another one now.
                    if let Some(n) = st.node_mut(&node_id) {
                        n.flags |= flag::NOADDR;
                        n.ip.clear();
                        n.port = 0;
                        n.pport = 0;
                        n.cport = 0;
                    }
                    self.free_link(st, link);
                    self.todo_save = true;
                    return false;
                }
            }
            let link_node = self.links.get(&link).and_then(|l| l.node.clone());

            if let Some(n) = sender.as_deref().and_then(|id| st.node_mut(id)) {
                n.flags &= !flag::NOFAILOVER;
                n.flags |= flags_from_wire(h.flags) & flag::NOFAILOVER;
            }

            if let Some(id) = sender.clone() {
                let hs = st.nodes.iter().any(|n| n.id == id && in_handshake(n));
                if kind == MsgType::Ping && !hs && self.update_address(st, &id, link, h, env) {
                    self.todo_save = true;
                    self.todo_update_state = true;
                }
            }

            if !inbound && kind == MsgType::Pong {
                if let Some(id) = link_node.clone() {
                    let mut clear_fail = false;
                    if let Some(n) = st.node_mut(&id) {
                        n.pong_received = now;
                        n.ping_sent = 0;
                        if n.flags & flag::PFAIL != 0 {
                            n.flags &= !flag::PFAIL;
                            self.todo_save = true;
                            self.todo_update_state = true;
                        } else if n.failed() {
                            clear_fail = true;
                        }
                    }
                    if clear_fail {
                        self.clear_failure_if_needed(st, &id, env);
                    }
                }
            }

            if let Some(id) = sender.clone() {
                self.role_from_header(st, &id, h);
            }

            let mut dirty = false;
            if let Some(id) = sender.as_deref() {
                let s = st.nodes.iter().find(|n| n.id == id);
                let sm = s.and_then(|s| {
                    if s.is_master() {
                        Some(s.id.clone())
                    } else {
                        s.master.clone()
                    }
                });
                if let Some(sm) = sm {
                    dirty = slot_bitmap(st, &sm) != h.myslots;
                }
            }
            let sender_master = sender
                .as_deref()
                .and_then(|id| st.nodes.iter().find(|n| n.id == id))
                .is_some_and(Node::is_master);
            if let (Some(id), true, true) = (sender.clone(), sender_master, dirty) {
                self.update_slots_with(st, &id, sender_config, &h.myslots, env);
            }
            if let (Some(id), true) = (sender.clone(), dirty) {
                for slot in 0..bus::SLOTS as u16 {
                    if !h.myslots.contains(slot) {
                        continue;
                    }
                    match st.owner(slot) {
                        Some(o) if o != id => {}
                        _ => continue,
                    }
                    let Some(owner) = st.owner_node(slot) else {
                        continue;
                    };
                    if owner.config_epoch > sender_config {
                        let owner = owner.id.clone();
                        self.send_update(st, &id, &owner, env);
                        break;
                    }
                }
            }

            if let Some(id) = sender.clone() {
                let me = st.me();
                let sender_is_master = st
                    .nodes
                    .iter()
                    .find(|n| n.id == id)
                    .is_some_and(Node::is_master);
                if me.is_master() && sender_is_master && sender_config == me.config_epoch {
                    self.epoch_collision(st, &id);
                }
                self.process_gossip(st, Some(&id), &g, env);
                let hostname = g
                    .hostname()
                    .map(|b| String::from_utf8_lossy(b).into_owned())
                    .unwrap_or_default();
                if let Some(n) = st.node_mut(&id) {
                    if n.hostname != hostname {
                        n.hostname = hostname;
                        self.todo_save = true;
                    }
                }
            }
            return true;
        }

        // The other types are taken from known nodes only.
        let Some(sender) = sender else {
            return true;
        };
        match msg.body {
            Body::Fail { about } => {
                let failing = st.node(&about).map(|n| n.id.clone());
                if let Some(n) = failing.and_then(|id| st.node_mut(&id)) {
                    if n.flags & (flag::FAIL | flag::MYSELF) == 0 {
                        n.flags |= flag::FAIL;
                        n.fail_time = now;
                        n.flags &= !flag::PFAIL;
                        self.todo_save = true;
                        self.todo_update_state = true;
                    }
                }
            }
            Body::Publish { channel, message } => self.effects.push(Effect::Publish {
                channel,
                message,
                shard: false,
            }),
            Body::PublishShard { channel, message } => self.effects.push(Effect::Publish {
                channel,
                message,
                shard: true,
            }),
            Body::Update {
                config_epoch,
                node,
                slots,
            } => {
                let Some(n) = st.node(&node) else {
                    return true;
                };
                if n.config_epoch >= config_epoch {
                    return true;
                }
                let id = n.id.clone();
                if n.is_replica() {
                    self.set_node_as_master(st, &id);
                }
                if let Some(n) = st.node_mut(&id) {
                    n.config_epoch = config_epoch;
                }
                self.todo_save = true;
                self.update_slots_with(st, &id, config_epoch, &slots, env);
            }
            Body::FailoverAuthRequest | Body::FailoverAuthAck | Body::MfStart => {
                self.failover_message(st, link, &sender, &msg, env);
            }
            _ => {}
        }
        let _ = sender_current;
        true
    }

    /// The address of the node that sent `h` on `link`: the IP it announces, else the
    /// link's peer address.
    fn peer_address(&self, link: LinkId, h: &Header) -> String {
        let announced = until_nul(&h.myip);
        if !announced.is_empty() {
            return String::from_utf8_lossy(announced).into_owned();
        }
        self.links
            .get(&link)
            .map(|l| l.peer_ip.clone())
            .unwrap_or_default()
    }

    /// nodeUpdateAddressIfNeeded: a message from `id` on another link than its outbound one
    /// tells its address; when it changed, the outbound link is dropped (it reconnects).
    fn update_address(
        &mut self,
        st: &mut ClusterState,
        id: &str,
        link: LinkId,
        h: &Header,
        env: &mut Env,
    ) -> bool {
        if self.out_link(id) == Some(link) {
            return false;
        }
        let ip = self.peer_address(link, h);
        if ip.is_empty() {
            return false;
        }
        let Some(n) = st.node_mut(id) else {
            return false;
        };
        if n.port == h.port && n.cport == h.cport && n.pport == h.pport && n.ip == ip {
            return false;
        }
        n.ip = ip.clone();
        n.port = h.port;
        n.pport = h.pport;
        n.cport = h.cport;
        n.flags &= !flag::NOADDR;
        let port = h.port;
        if let Some(l) = self.out_link(id) {
            self.free_link(st, l);
        }
        let me = st.me();
        if me.is_replica() && me.master.as_deref() == Some(id) {
            self.effects.push(Effect::SetMaster { ip, port });
        }
        let _ = env;
        true
    }

    /// The sender's role from its header: a primary, or a replica of the node it names.
    fn role_from_header(&mut self, st: &mut ClusterState, id: &str, h: &Header) {
        if h.slaveof == NULL_NAME {
            self.set_node_as_master(st, id);
            return;
        }
        let master = st.node(&h.slaveof).map(|n| n.id.clone());
        let Some(n) = st.nodes.iter().find(|n| n.id == id) else {
            return;
        };
        if n.is_master() {
            st.del_node_slots(id);
            if let Some(n) = st.node_mut(id) {
                n.flags &= !(flag::MASTER | flag::MIGRATE_TO);
                n.flags |= flag::SLAVE;
            }
            self.todo_save = true;
            self.todo_update_state = true;
        }
        if let Some(m) = master {
            if let Some(n) = st.node_mut(id) {
                if n.master.as_deref() != Some(m.as_str()) {
                    n.master = Some(m.clone());
                    self.todo_save = true;
                }
            }
            st.mark_migrate_to(&m);
        }
    }

    /// clusterSetNodeAsMaster.
    fn set_node_as_master(&mut self, st: &mut ClusterState, id: &str) {
        let myself = st.myself.clone();
        let Some(n) = st.node_mut(id) else { return };
        if n.is_master() {
            return;
        }
        if n.master.is_some() && n.id != myself {
            n.flags |= flag::MIGRATE_TO;
        }
        n.flags &= !flag::SLAVE;
        n.flags |= flag::MASTER;
        n.master = None;
        self.todo_save = true;
        self.todo_update_state = true;
    }

    /// clusterUpdateSlotsConfigWith: the slots `sender` claims with `epoch` become its own
    /// where our owner has an older epoch (imported slots excepted); this node may follow
    /// the new owner of its slots as a replica.
    pub fn update_slots_with(
        &mut self,
        st: &mut ClusterState,
        sender: &str,
        epoch: u64,
        slots: &SlotBitmap,
        env: &mut Env,
    ) {
        if sender == st.myself {
            return;
        }
        let me = st.me();
        let curmaster = if me.is_master() {
            Some(me.id.clone())
        } else {
            me.master.clone()
        };
        let myself = st.myself.clone();
        let mut dirty: Vec<u16> = Vec::new();
        let (mut sender_slots, mut migrated) = (0usize, 0usize);
        let mut new_master = false;
        let epochs: std::collections::HashMap<String, u64> = st
            .nodes
            .iter()
            .map(|n| (n.id.clone(), n.config_epoch))
            .collect();
        for slot in 0..bus::SLOTS as u16 {
            if !slots.contains(slot) {
                continue;
            }
            sender_slots += 1;
            let owner = st
                .owner(slot)
                .and_then(|o| Some((o.to_string(), *epochs.get(o)?)));
            if owner.as_ref().is_some_and(|(o, _)| o == sender) {
                continue;
            }
            if st.importing.contains_key(&slot) {
                continue;
            }
            let take = match &owner {
                None => true,
                Some((_, e)) => *e < epoch,
            };
            if !take {
                continue;
            }
            if let Some((o, _)) = &owner {
                if *o == myself && (env.keys_in_slot)(slot) > 0 {
                    dirty.push(slot);
                }
                if Some(o) == curmaster.as_ref() {
                    new_master = true;
                    migrated += 1;
                }
            }
            st.del_slot(slot);
            st.add_slot(slot, sender);
            self.todo_save = true;
            self.todo_update_state = true;
        }
        let cur_slots = curmaster
            .as_deref()
            .and_then(|c| st.nodes.iter().find(|n| n.id == c))
            .map_or(0, |n| n.numslots);
        let me = st.me();
        let grand = me
            .master
            .as_deref()
            .and_then(|m| st.nodes.iter().find(|n| n.id == m))
            .and_then(|m| m.master.clone());
        if new_master && cur_slots == 0 && (env.allow_replica_migration || sender_slots == migrated)
        {
            self.set_master(st, sender);
        } else if let Some(g) = grand.filter(|g| *g != myself) {
            self.set_master(st, &g);
        } else {
            for s in dirty {
                self.effects.push(Effect::DelKeysInSlot(s));
            }
        }
    }

    /// clusterSetMaster: this node becomes a replica of `id` and replicates from it.
    pub fn set_master(&mut self, st: &mut ClusterState, id: &str) {
        if id == st.myself {
            return;
        }
        st.set_master(id);
        // A manual failover this node took part in is over (a primary lifts its pause).
        let ended = st.reset_manual_failover();
        st.election.engine_out.extend(ended);
        if let Some(n) = st.nodes.iter().find(|n| n.id == id) {
            if !n.ip.is_empty() {
                self.effects.push(Effect::SetMaster {
                    ip: n.ip.clone(),
                    port: n.port,
                });
            }
        }
        self.todo_save = true;
        self.todo_update_state = true;
    }

    /// clusterHandleConfigEpochCollision: of two primaries with the same config epoch, the
    /// one with the smaller id takes a new epoch.
    fn epoch_collision(&mut self, st: &mut ClusterState, sender: &str) {
        let me = st.me();
        if sender.as_bytes() <= me.id.as_bytes() {
            return;
        }
        st.current_epoch += 1;
        let e = st.current_epoch;
        let myself = st.myself.clone();
        if let Some(m) = st.node_mut(&myself) {
            m.config_epoch = e;
        }
        self.todo_save = true;
    }

    /// clusterProcessGossipSection.
    fn process_gossip(
        &mut self,
        st: &mut ClusterState,
        sender: Option<&str>,
        g: &Gossip,
        env: &mut Env,
    ) {
        let now = env.now;
        let sender_is_master = sender
            .and_then(|s| st.nodes.iter().find(|n| n.id == s))
            .is_some_and(Node::is_master);
        for e in &g.entries {
            let gflags = flags_from_wire(e.flags);
            let failing = gflags & (flag::PFAIL | flag::FAIL) != 0;
            let Some(id) = st.node(&e.nodename).map(|n| n.id.clone()) else {
                let name = name_text(&e.nodename);
                let blacklisted = st
                    .blacklist
                    .iter()
                    .any(|(b, until)| *b == name && *until > now);
                if sender.is_some()
                    && gflags & flag::NOADDR == 0
                    && valid_id(name.as_bytes())
                    && !blacklisted
                {
                    let mut n = Node::new(name, gflags & !flag::MYSELF);
                    n.ip = String::from_utf8_lossy(until_nul(&e.ip)).into_owned();
                    n.port = e.port;
                    n.pport = e.pport;
                    n.cport = e.cport;
                    n.created_ms = now;
                    st.add_node(n);
                    self.todo_save = true;
                }
                continue;
            };
            if let (Some(s), true) = (sender, sender_is_master) {
                if id != st.myself {
                    if failing {
                        if let Some(n) = st.node_mut(&id) {
                            match n.fail_reports.iter_mut().find(|(by, _)| by == s) {
                                Some(r) => r.1 = now,
                                None => n.fail_reports.push((s.to_string(), now)),
                            }
                        }
                        self.mark_failing_if_needed(st, &id, env);
                    } else if let Some(n) = st.node_mut(&id) {
                        n.fail_reports.retain(|(by, _)| by != s);
                    }
                }
            }
            let timeout = env.node_timeout;
            if let Some(n) = st.node_mut(&id) {
                let max_age = timeout.saturating_mul(gossip::FAIL_REPORT_VALIDITY_MULT);
                n.fail_reports
                    .retain(|&(_, t)| now.saturating_sub(t) <= max_age);
                if !failing && n.ping_sent == 0 && n.fail_reports.is_empty() {
                    if let Some(t) = gossip::adopt_pong_time(e.pong_received, n.pong_received, now)
                    {
                        n.pong_received = t;
                    }
                }
            }
            let ip = String::from_utf8_lossy(until_nul(&e.ip)).into_owned();
            let readdress = st.nodes.iter().find(|n| n.id == id).is_some_and(|n| {
                n.flags & (flag::FAIL | flag::PFAIL) != 0
                    && gflags & flag::NOADDR == 0
                    && !failing
                    && (!n.ip.eq_ignore_ascii_case(&ip) || n.port != e.port || n.cport != e.cport)
            });
            if readdress {
                if let Some(l) = self.out_link(&id) {
                    self.free_link(st, l);
                }
                if let Some(n) = st.node_mut(&id) {
                    n.ip = ip;
                    n.port = e.port;
                    n.pport = e.pport;
                    n.cport = e.cport;
                    n.flags &= !flag::NOADDR;
                }
            }
        }
    }

    /// markNodeAsFailingIfNeeded: a node this node sees in PFAIL becomes FAIL when enough
    /// primaries report it failing; every node is told.
    fn mark_failing_if_needed(&mut self, st: &mut ClusterState, id: &str, env: &mut Env) {
        let me_master = st.me().is_master();
        let size = st.size;
        let (now, timeout) = (env.now, env.node_timeout);
        let Some(n) = st.node_mut(id) else { return };
        if n.flags & flag::PFAIL == 0 || n.failed() {
            return;
        }
        let max_age = timeout.saturating_mul(gossip::FAIL_REPORT_VALIDITY_MULT);
        n.fail_reports
            .retain(|&(_, t)| now.saturating_sub(t) <= max_age);
        let votes = n.fail_reports.len() + usize::from(me_master);
        if votes < gossip::quorum(size) {
            return;
        }
        n.flags &= !flag::PFAIL;
        n.flags |= flag::FAIL;
        n.fail_time = now;
        self.send_fail(st, id, env);
        self.todo_save = true;
        self.todo_update_state = true;
    }

    /// clearNodeFailureIfNeeded: a FAIL node that answers again.
    fn clear_failure_if_needed(&mut self, st: &mut ClusterState, id: &str, env: &mut Env) {
        let Some(n) = st.node_mut(id) else { return };
        if gossip::should_clear_failure(
            n.is_replica(),
            n.numslots,
            n.fail_time,
            env.now,
            env.node_timeout,
        ) {
            n.flags &= !flag::FAIL;
            self.todo_save = true;
            self.todo_update_state = true;
        }
    }

    /// Deletes a node and its links (clusterDelNode).
    pub fn delete_node(&mut self, st: &mut ClusterState, id: &str) {
        let links: Vec<LinkId> = self
            .links
            .iter()
            .filter(|(_, l)| l.node.as_deref() == Some(id))
            .map(|(&k, _)| k)
            .collect();
        for l in links {
            self.free_link(st, l);
        }
        st.del_node(id);
    }

    /// Closes the links of nodes that are gone (CLUSTER FORGET, RESET) and keeps each node's
    /// `link` flag true to its outbound link.
    pub fn reconcile(&mut self, st: &mut ClusterState) {
        let gone: Vec<LinkId> = self
            .links
            .iter()
            .filter(|(_, l)| {
                l.node
                    .as_ref()
                    .is_some_and(|id| !st.nodes.iter().any(|n| &n.id == id))
            })
            .map(|(&k, _)| k)
            .collect();
        for l in gone {
            self.free_link(st, l);
        }
        let outbound: Vec<String> = self
            .links
            .values()
            .filter(|l| !l.inbound)
            .filter_map(|l| l.node.clone())
            .collect();
        for n in &mut st.nodes {
            n.link = outbound.contains(&n.id);
        }
    }

    /// clusterCron, every 100 ms.
    pub fn cron(&mut self, st: &mut ClusterState, env: &mut Env) {
        self.reconcile(st);
        let now = env.now;
        let timeout = env.node_timeout;
        self.iteration += 1;
        let handshake_timeout = timeout.max(1000);
        let ids: Vec<String> = st.nodes.iter().map(|n| n.id.clone()).collect();
        for id in &ids {
            let Some(n) = st.nodes.iter().find(|n| &n.id == id) else {
                continue;
            };
            if n.flags & (flag::MYSELF | flag::NOADDR) != 0 {
                continue;
            }
            if in_handshake(n) && now - n.created_ms > handshake_timeout {
                self.delete_node(st, id);
                self.todo_save = true;
                continue;
            }
            if self.out_link(id).is_none() {
                let (ip, cport) = (n.ip.clone(), n.cport);
                if ip.is_empty() || cport == 0 {
                    continue;
                }
                let link = self.new_link(Some(id.clone()), false, now);
                if let Some(l) = self.links.get_mut(&link) {
                    l.peer_ip = ip.clone();
                }
                if let Some(n) = st.node_mut(id) {
                    n.link = true;
                }
                self.actions.push(BusAction::Connect {
                    link,
                    ip,
                    port: cport,
                });
            }
        }

        if self.iteration.is_multiple_of(10) && !st.nodes.is_empty() {
            let mut best: Option<(String, i64)> = None;
            for _ in 0..5 {
                let i = env.rng.below(st.nodes.len() as u64) as usize;
                let n = &st.nodes[i];
                if !n.link || n.ping_sent != 0 || self.out_link(&n.id).is_none() {
                    continue;
                }
                if n.flags & (flag::MYSELF | flag::HANDSHAKE) != 0 {
                    continue;
                }
                if best.as_ref().is_none_or(|(_, p)| *p > n.pong_received) {
                    best = Some((n.id.clone(), n.pong_received));
                }
            }
            if let Some((id, _)) = best {
                if let Some(link) = self.out_link(&id) {
                    self.send_ping(st, link, MsgType::Ping, env);
                }
            }
        }

        let mut update_state = false;
        for id in &ids {
            let Some(n) = st.nodes.iter().find(|n| &n.id == id) else {
                continue;
            };
            if n.flags & (flag::MYSELF | flag::NOADDR | flag::HANDSHAKE) != 0 {
                continue;
            }
            let ping_delay = now - n.ping_sent;
            let data_delay = now - n.data_received;
            let (ping_sent, pong_received) = (n.ping_sent, n.pong_received);
            let link = self.out_link(id);
            if let Some(l) = link {
                let ctime = self.links.get(&l).map_or(now, |l| l.ctime);
                if now - ctime > timeout
                    && ping_sent != 0
                    && ping_delay > timeout / 2
                    && data_delay > timeout / 2
                {
                    self.free_link(st, l);
                }
            }
            let link = self.out_link(id);
            if let (Some(l), 0) = (link, ping_sent) {
                if now - pong_received > timeout / 2 {
                    self.send_ping(st, l, MsgType::Ping, env);
                    continue;
                }
            }
            if ping_sent == 0 {
                continue;
            }
            let delay = ping_delay.min(data_delay);
            if delay > timeout {
                if let Some(n) = st.node_mut(id) {
                    if n.flags & (flag::PFAIL | flag::FAIL) == 0 {
                        n.flags |= flag::PFAIL;
                        update_state = true;
                    }
                }
            }
        }
        self.failover_cron(st, env);
        if update_state {
            self.todo_update_state = true;
        }
        self.reconcile(st);
    }

    /// Elections: FAILOVER_AUTH_REQUEST, FAILOVER_AUTH_ACK and MFSTART from a known node
    /// (see `node/elections.rs`).
    pub fn failover_message(
        &mut self,
        st: &mut ClusterState,
        link: LinkId,
        sender: &str,
        msg: &Msg,
        env: &mut Env,
    ) {
        let _ = link;
        self.election_message(st, sender, msg, env);
    }

    /// Hook for elections in the cron: nothing here, the engine runs the failover cron after
    /// the bus's (it reads the replication state the bus does not see).
    pub fn failover_cron(&mut self, st: &mut ClusterState, env: &mut Env) {
        let _ = (st, env);
    }
}

mod elections;
#[cfg(test)]
mod tests;
