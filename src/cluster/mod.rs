//! Redis Cluster.
//!
//! - [`bus`]: the cluster bus's binary messages (port+10000), as pure data: typed messages,
//!   their byte-exact encoding and decoding, a stream framer, and the gossip rules that need no
//!   cluster state beyond a small trait.

pub mod bus;
