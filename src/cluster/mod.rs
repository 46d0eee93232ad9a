//! Redis Cluster, the node's side: hash slots, the cluster state a node keeps, its nodes.conf,
//! and the redirections (`MOVED`, `ASK`, `CROSSSLOT`, `TRYAGAIN`, `CLUSTERDOWN`) clients get.
//!
//! Sans-IO, like replication: the engine holds a [`Cluster`] when `cluster-enabled` is `yes`
//! and answers the CLUSTER commands from it; hosts move the bytes (the native server reads and
//! writes nodes.conf, later the cluster bus; the page may hold several nodes).
//!
//! - [`slots`]: CRC16 key slots with hash tags, and the per-slot key index;
//! - [`state`]: nodes, slot owners, open slots, epochs, ok/fail, nodes.conf text;
//! - [`failover`]: failure detection (PFAIL, reports, FAIL), elections, manual failover and
//!   replica migration;
//! - [`redirect`]: which node serves a command (Redis's getNodeByQuery);
//! - [`bus`]: the cluster bus's binary messages (port+10000), as pure data: typed messages,
//!   their byte-exact encoding and decoding, a stream framer, and the gossip rules that need no
//!   cluster state beyond a small trait;
//! - [`node`]: the bus protocol itself (handshakes, gossip, slot claims, failure detection)
//!   as a sans-IO state machine the engine drives and a host feeds with bytes.

pub mod bus;
pub mod failover;
pub mod node;
pub mod redirect;
pub mod slots;
pub mod state;

use crate::engine::ConfigFile;
pub use state::ClusterState;

/// A cluster node's state and the host's way of keeping its nodes.conf.
pub struct Cluster {
    /// What this node knows of the cluster.
    pub state: ClusterState,
    /// The host's nodes.conf (read once at start, replaced whole on every change); none in a
    /// host without files.
    pub file: Option<ConfigFile>,
    /// The `cluster-announce-ip` last applied to this node's address.
    pub announced_ip: String,
    /// The cluster bus: links to the other nodes and what waits for the host.
    pub bus: node::Bus,
}

impl Cluster {
    /// Writes nodes.conf through the host, if it keeps one.
    pub fn save(&self) -> Result<(), String> {
        match &self.file {
            Some(f) => (f.write)(&self.state.config_text()),
            None => Ok(()),
        }
    }
}
