//! CLUSTER, READONLY, READWRITE and ASKING as a Redis 7.0 server without cluster support
//! (`cluster-enabled no`) answers them: every subcommand is in the command table (COMMAND,
//! arity and ACL checks, help and hints know them) and answers that cluster support is
//! disabled. A CLUSTER subcommand the table lacks gets the unknown-subcommand error first.

use super::spec::*;
use crate::engine::Ctx;
use crate::error::{self, CmdResult};

/// This group's commands.
pub const COMMANDS: &[CommandSpec] = &[
    CommandSpec::new("cluster", -2, &[], super::server::container)
        .doc(Group::Cluster, "3.0.0", &[], "Runs a cluster subcommand.")
        .complexity("Depends on the subcommand.")
        .subs(SUBCOMMANDS),
    CommandSpec::new("readonly", 1, &[LOADING, STALE, FAST], disabled)
        .doc(
            Group::Cluster,
            "3.0.0",
            &[],
            "Lets this connection read from a cluster replica.",
        )
        .acl(&[Acl::Connection])
        .complexity("O(1)"),
    CommandSpec::new("readwrite", 1, &[LOADING, STALE, FAST], disabled)
        .doc(
            Group::Cluster,
            "3.0.0",
            &[],
            "Ends READONLY: reads on a cluster replica are redirected again.",
        )
        .acl(&[Acl::Connection])
        .complexity("O(1)"),
    CommandSpec::new("asking", 1, &[FAST], disabled)
        .doc(
            Group::Cluster,
            "3.0.0",
            &[],
            "Lets the next command use a slot this node is importing (after an ASK redirection).",
        )
        .acl(&[Acl::Connection])
        .complexity("O(1)"),
];

const SUBCOMMANDS: &[CommandSpec] = &[
    CommandSpec::new("addslots", -3, &[ADMIN, STALE, NO_ASYNC_LOADING], disabled).doc(Group::Cluster, "3.0.0", &[Arg::integer("slot").multiple()], "Assigns hash slots to this node.").complexity("O(N) in the number of slots given."),
    CommandSpec::new("addslotsrange", -4, &[ADMIN, STALE, NO_ASYNC_LOADING], disabled).doc(Group::Cluster, "7.0.0", &[Arg::block("start-slot_end-slot", &[Arg::integer("start-slot"), Arg::integer("end-slot")]).multiple()], "Assigns ranges of hash slots to this node.").complexity("O(N) in the number of slots in the ranges."),
    CommandSpec::new("bumpepoch", 2, &[ADMIN, STALE, NO_ASYNC_LOADING], disabled).doc(Group::Cluster, "3.0.0", &[], "Gives this node a new configuration epoch, above every epoch it knows.").tips(&["nondeterministic_output"]).complexity("O(1)"),
    CommandSpec::new("count-failure-reports", 3, &[ADMIN, STALE], disabled).doc(Group::Cluster, "3.0.0", &[Arg::string("node-id")], "Counts the live reports that a node is failing.").tips(&["nondeterministic_output"]).complexity("O(N) in the number of failure reports."),
    CommandSpec::new("countkeysinslot", 3, &[STALE], disabled).doc(Group::Cluster, "3.0.0", &[Arg::integer("slot")], "Counts the keys this node holds in a hash slot.").complexity("O(1)"),
    CommandSpec::new("delslots", -3, &[ADMIN, STALE, NO_ASYNC_LOADING], disabled).doc(Group::Cluster, "3.0.0", &[Arg::integer("slot").multiple()], "Takes hash slots away from this node.").complexity("O(N) in the number of slots given."),
    CommandSpec::new("delslotsrange", -4, &[ADMIN, STALE, NO_ASYNC_LOADING], disabled).doc(Group::Cluster, "7.0.0", &[Arg::block("start-slot_end-slot", &[Arg::integer("start-slot"), Arg::integer("end-slot")]).multiple()], "Takes ranges of hash slots away from this node.").complexity("O(N) in the number of slots in the ranges."),
    CommandSpec::new("failover", -2, &[ADMIN, STALE, NO_ASYNC_LOADING], disabled).doc(Group::Cluster, "3.0.0", &[Arg::oneof("options", &[Arg::token("force", "FORCE"), Arg::token("takeover", "TAKEOVER")]).optional()], "Makes this replica take over from its primary (FORCE, TAKEOVER: without its agreement).").complexity("O(1)"),
    CommandSpec::new("flushslots", 2, &[ADMIN, STALE, NO_ASYNC_LOADING], disabled).doc(Group::Cluster, "3.0.0", &[], "Removes every hash slot from this node.").complexity("O(1)"),
    CommandSpec::new("forget", 3, &[ADMIN, STALE, NO_ASYNC_LOADING], disabled).doc(Group::Cluster, "3.0.0", &[Arg::string("node-id")], "Removes a node from this node's table for a minute.").complexity("O(1)"),
    CommandSpec::new("getkeysinslot", 4, &[STALE], disabled).doc(Group::Cluster, "3.0.0", &[Arg::integer("slot"), Arg::integer("count")], "Lists up to count keys this node holds in a hash slot.").tips(&["nondeterministic_output"]).complexity("O(N) in the number of keys listed."),
    CommandSpec::new("help", 2, &[LOADING, STALE], disabled).doc(Group::Cluster, "5.0.0", &[], "Lists the CLUSTER subcommands.").complexity("O(1)"),
    CommandSpec::new("info", 2, &[STALE], disabled).doc(Group::Cluster, "3.0.0", &[], "Reports the cluster's state as this node sees it.").tips(&["nondeterministic_output"]).complexity("O(1)"),
    CommandSpec::new("keyslot", 3, &[STALE], disabled).doc(Group::Cluster, "3.0.0", &[Arg::string("key")], "Tells the hash slot of a key name (CRC16 of its hash tag or name, mod 16384).").complexity("O(N) in the key name's length."),
    CommandSpec::new("links", 2, &[STALE], disabled).doc(Group::Cluster, "7.0.0", &[], "Lists this node's cluster bus links and their buffers.").tips(&["nondeterministic_output"]).complexity("O(N) in the number of links."),
    CommandSpec::new("meet", -4, &[ADMIN, STALE, NO_ASYNC_LOADING], disabled).doc(Group::Cluster, "3.0.0", &[Arg::string("ip"), Arg::integer("port"), Arg::integer("cluster_bus_port").optional().since("4.0.0")], "Connects this node to another one, joining their clusters.").complexity("O(1)"),
    CommandSpec::new("myid", 2, &[STALE], disabled).doc(Group::Cluster, "3.0.0", &[], "Tells this node's ID.").complexity("O(1)"),
    CommandSpec::new("nodes", 2, &[STALE], disabled).doc(Group::Cluster, "3.0.0", &[], "Lists every node this node knows, in the nodes.conf format.").tips(&["nondeterministic_output"]).complexity("O(N) in the number of nodes."),
    CommandSpec::new("replicas", 3, &[ADMIN, STALE], disabled).doc(Group::Cluster, "5.0.0", &[Arg::string("node-id")], "Lists the replicas of a primary node.").tips(&["nondeterministic_output"]).complexity("O(N) in the number of replicas."),
    CommandSpec::new("replicate", 3, &[ADMIN, STALE, NO_ASYNC_LOADING], disabled).doc(Group::Cluster, "3.0.0", &[Arg::string("node-id")], "Makes this node a replica of the given primary.").complexity("O(1)"),
    CommandSpec::new("reset", -2, &[ADMIN, NOSCRIPT, STALE], disabled).doc(Group::Cluster, "3.0.0", &[Arg::oneof("hard_soft", &[Arg::token("hard", "HARD"), Arg::token("soft", "SOFT")]).optional()], "Forgets every other node and slot (HARD: also a new ID and epochs at 0).").complexity("O(N) in the number of known nodes; flushes the data."),
    CommandSpec::new("saveconfig", 2, &[ADMIN, STALE, NO_ASYNC_LOADING], disabled).doc(Group::Cluster, "3.0.0", &[], "Writes the node's cluster configuration to its nodes.conf now.").complexity("O(1)"),
    CommandSpec::new("set-config-epoch", 3, &[ADMIN, STALE, NO_ASYNC_LOADING], disabled).doc(Group::Cluster, "3.0.0", &[Arg::integer("config-epoch")], "Sets a new node's configuration epoch.").complexity("O(1)"),
    CommandSpec::new("setslot", -4, &[ADMIN, STALE, NO_ASYNC_LOADING], disabled).doc(Group::Cluster, "3.0.0", &[Arg::integer("slot"), Arg::oneof("subcommand", &[Arg::string("node-id").with_token("IMPORTING"), Arg::string("node-id").with_token("MIGRATING"), Arg::string("node-id").with_token("NODE"), Arg::token("stable", "STABLE")])], "Changes a hash slot's state: IMPORTING, MIGRATING, NODE or STABLE.").complexity("O(1)"),
    CommandSpec::new("shards", 2, &[STALE], disabled).doc(Group::Cluster, "7.0.0", &[], "Lists the cluster's shards: their slot ranges and nodes.").tips(&["nondeterministic_output"]).complexity("O(N) in the number of nodes."),
    CommandSpec::new("slaves", 3, &[ADMIN, STALE], disabled).doc(Group::Cluster, "3.0.0", &[Arg::string("node-id")], "Lists the replicas of a primary node (the former name of CLUSTER REPLICAS).").tips(&["nondeterministic_output"]).complexity("O(N) in the number of replicas."),
    CommandSpec::new("slots", 2, &[STALE], disabled).doc(Group::Cluster, "3.0.0", &[], "Maps slot ranges to the nodes serving them (CLUSTER SHARDS replaces it).").tips(&["nondeterministic_output"]).complexity("O(N) in the number of nodes."),
];

/// Every command here on a server without cluster support.
fn disabled(_ctx: &mut Ctx, _argv: &[Vec<u8>]) -> CmdResult {
    Err(error::CLUSTER_DISABLED)
}
