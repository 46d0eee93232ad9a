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
//!   cluster state beyond a small trait.

pub mod bus;
pub mod failover;
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
    /// Failure-detection and failover messages waiting for the bus to send them.
    pub bus_out: Vec<failover::Out>,
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
