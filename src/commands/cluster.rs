//! CLUSTER, READONLY, READWRITE and ASKING. On a server without cluster support
//! (`cluster-enabled no`) every one of them answers that cluster support is disabled, after
//! the table's arity check, as Redis 7.0 does. On a cluster node they read and change the
//! node's [`crate::cluster::ClusterState`]: what the node itself knows, without the bus.

use super::args;
use super::spec::*;
use crate::cluster::redirect::Endpoint;
use crate::cluster::slots::{key_slot, SLOTS};
use crate::cluster::state::{flag, random_id, ClusterState, Node, SlotsRefused, BUS_PORT_OFFSET};
use crate::cluster::Cluster;
use crate::db::Db;
use crate::engine::Ctx;
use crate::error::{self, CmdError, CmdResult};
use crate::protocol::Reply;
use crate::util;

/// This group's commands.
pub const COMMANDS: &[CommandSpec] = &[
    CommandSpec::new("cluster", -2, &[], super::server::container)
        .doc(Group::Cluster, "3.0.0", &[], "Runs a cluster subcommand.")
        .complexity("Depends on the subcommand.")
        .subs(SUBCOMMANDS),
    CommandSpec::new("readonly", 1, &[LOADING, STALE, FAST], readonly)
        .doc(
            Group::Cluster,
            "3.0.0",
            &[],
            "Lets this connection read from a cluster replica.",
        )
        .acl(&[Acl::Connection])
        .complexity("O(1)"),
    CommandSpec::new("readwrite", 1, &[LOADING, STALE, FAST], readwrite)
        .doc(
            Group::Cluster,
            "3.0.0",
            &[],
            "Ends READONLY: reads on a cluster replica are redirected again.",
        )
        .acl(&[Acl::Connection])
        .complexity("O(1)"),
    CommandSpec::new("asking", 1, &[FAST], asking)
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
    CommandSpec::new(
        "addslots",
        -3,
        &[ADMIN, STALE, NO_ASYNC_LOADING],
        c_addslots,
    )
    .doc(
        Group::Cluster,
        "3.0.0",
        &[Arg::integer("slot").multiple()],
        "Assigns hash slots to this node.",
    )
    .complexity("O(N) in the number of slots given."),
    CommandSpec::new(
        "addslotsrange",
        -4,
        &[ADMIN, STALE, NO_ASYNC_LOADING],
        c_addslotsrange,
    )
    .doc(
        Group::Cluster,
        "7.0.0",
        &[Arg::block(
            "start-slot_end-slot",
            &[Arg::integer("start-slot"), Arg::integer("end-slot")],
        )
        .multiple()],
        "Assigns ranges of hash slots to this node.",
    )
    .complexity("O(N) in the number of slots in the ranges."),
    CommandSpec::new(
        "bumpepoch",
        2,
        &[ADMIN, STALE, NO_ASYNC_LOADING],
        c_bumpepoch,
    )
    .doc(
        Group::Cluster,
        "3.0.0",
        &[],
        "Gives this node a new configuration epoch, above every epoch it knows.",
    )
    .tips(&["nondeterministic_output"])
    .complexity("O(1)"),
    CommandSpec::new(
        "count-failure-reports",
        3,
        &[ADMIN, STALE],
        c_count_failure_reports,
    )
    .doc(
        Group::Cluster,
        "3.0.0",
        &[Arg::string("node-id")],
        "Counts the live reports that a node is failing.",
    )
    .tips(&["nondeterministic_output"])
    .complexity("O(N) in the number of failure reports."),
    CommandSpec::new("countkeysinslot", 3, &[STALE], c_countkeysinslot)
        .doc(
            Group::Cluster,
            "3.0.0",
            &[Arg::integer("slot")],
            "Counts the keys this node holds in a hash slot.",
        )
        .complexity("O(1)"),
    CommandSpec::new(
        "delslots",
        -3,
        &[ADMIN, STALE, NO_ASYNC_LOADING],
        c_delslots,
    )
    .doc(
        Group::Cluster,
        "3.0.0",
        &[Arg::integer("slot").multiple()],
        "Takes hash slots away from this node.",
    )
    .complexity("O(N) in the number of slots given."),
    CommandSpec::new(
        "delslotsrange",
        -4,
        &[ADMIN, STALE, NO_ASYNC_LOADING],
        c_delslotsrange,
    )
    .doc(
        Group::Cluster,
        "7.0.0",
        &[Arg::block(
            "start-slot_end-slot",
            &[Arg::integer("start-slot"), Arg::integer("end-slot")],
        )
        .multiple()],
        "Takes ranges of hash slots away from this node.",
    )
    .complexity("O(N) in the number of slots in the ranges."),
    CommandSpec::new(
        "failover",
        -2,
        &[ADMIN, STALE, NO_ASYNC_LOADING],
        c_failover,
    )
    .doc(
        Group::Cluster,
        "3.0.0",
        &[Arg::oneof(
            "options",
            &[
                Arg::token("force", "FORCE"),
                Arg::token("takeover", "TAKEOVER"),
            ],
        )
        .optional()],
        "Makes this replica take over from its primary (FORCE, TAKEOVER: without its agreement).",
    )
    .complexity("O(1)"),
    CommandSpec::new(
        "flushslots",
        2,
        &[ADMIN, STALE, NO_ASYNC_LOADING],
        c_flushslots,
    )
    .doc(
        Group::Cluster,
        "3.0.0",
        &[],
        "Removes every hash slot from this node.",
    )
    .complexity("O(1)"),
    CommandSpec::new("forget", 3, &[ADMIN, STALE, NO_ASYNC_LOADING], c_forget)
        .doc(
            Group::Cluster,
            "3.0.0",
            &[Arg::string("node-id")],
            "Removes a node from this node's table for a minute.",
        )
        .complexity("O(1)"),
    CommandSpec::new("getkeysinslot", 4, &[STALE], c_getkeysinslot)
        .doc(
            Group::Cluster,
            "3.0.0",
            &[Arg::integer("slot"), Arg::integer("count")],
            "Lists up to count keys this node holds in a hash slot.",
        )
        .tips(&["nondeterministic_output"])
        .complexity("O(N) in the number of keys listed."),
    CommandSpec::new("help", 2, &[LOADING, STALE], c_help)
        .doc(
            Group::Cluster,
            "5.0.0",
            &[],
            "Lists the CLUSTER subcommands.",
        )
        .complexity("O(1)"),
    CommandSpec::new("info", 2, &[STALE], c_info)
        .doc(
            Group::Cluster,
            "3.0.0",
            &[],
            "Reports the cluster's state as this node sees it.",
        )
        .tips(&["nondeterministic_output"])
        .complexity("O(1)"),
    CommandSpec::new("keyslot", 3, &[STALE], c_keyslot)
        .doc(
            Group::Cluster,
            "3.0.0",
            &[Arg::string("key")],
            "Tells the hash slot of a key name (CRC16 of its hash tag or name, mod 16384).",
        )
        .complexity("O(N) in the key name's length."),
    CommandSpec::new("links", 2, &[STALE], c_links)
        .doc(
            Group::Cluster,
            "7.0.0",
            &[],
            "Lists this node's cluster bus links and their buffers.",
        )
        .tips(&["nondeterministic_output"])
        .complexity("O(N) in the number of links."),
    CommandSpec::new("meet", -4, &[ADMIN, STALE, NO_ASYNC_LOADING], c_meet)
        .doc(
            Group::Cluster,
            "3.0.0",
            &[
                Arg::string("ip"),
                Arg::integer("port"),
                Arg::integer("cluster_bus_port").optional().since("4.0.0"),
            ],
            "Connects this node to another one, joining their clusters.",
        )
        .complexity("O(1)"),
    CommandSpec::new("myid", 2, &[STALE], c_myid)
        .doc(Group::Cluster, "3.0.0", &[], "Tells this node's ID.")
        .complexity("O(1)"),
    CommandSpec::new("nodes", 2, &[STALE], c_nodes)
        .doc(
            Group::Cluster,
            "3.0.0",
            &[],
            "Lists every node this node knows, in the nodes.conf format.",
        )
        .tips(&["nondeterministic_output"])
        .complexity("O(N) in the number of nodes."),
    CommandSpec::new("replicas", 3, &[ADMIN, STALE], c_replicas)
        .doc(
            Group::Cluster,
            "5.0.0",
            &[Arg::string("node-id")],
            "Lists the replicas of a primary node.",
        )
        .tips(&["nondeterministic_output"])
        .complexity("O(N) in the number of replicas."),
    CommandSpec::new(
        "replicate",
        3,
        &[ADMIN, STALE, NO_ASYNC_LOADING],
        c_replicate,
    )
    .doc(
        Group::Cluster,
        "3.0.0",
        &[Arg::string("node-id")],
        "Makes this node a replica of the given primary.",
    )
    .complexity("O(1)"),
    CommandSpec::new("reset", -2, &[ADMIN, NOSCRIPT, STALE], c_reset)
        .doc(
            Group::Cluster,
            "3.0.0",
            &[Arg::oneof(
                "hard_soft",
                &[Arg::token("hard", "HARD"), Arg::token("soft", "SOFT")],
            )
            .optional()],
            "Forgets every other node and slot (HARD: also a new ID and epochs at 0).",
        )
        .complexity("O(N) in the number of known nodes; flushes the data."),
    CommandSpec::new(
        "saveconfig",
        2,
        &[ADMIN, STALE, NO_ASYNC_LOADING],
        c_saveconfig,
    )
    .doc(
        Group::Cluster,
        "3.0.0",
        &[],
        "Writes the node's cluster configuration to its nodes.conf now.",
    )
    .complexity("O(1)"),
    CommandSpec::new(
        "set-config-epoch",
        3,
        &[ADMIN, STALE, NO_ASYNC_LOADING],
        c_set_config_epoch,
    )
    .doc(
        Group::Cluster,
        "3.0.0",
        &[Arg::integer("config-epoch")],
        "Sets a new node's configuration epoch.",
    )
    .complexity("O(1)"),
    CommandSpec::new("setslot", -4, &[ADMIN, STALE, NO_ASYNC_LOADING], c_setslot)
        .doc(
            Group::Cluster,
            "3.0.0",
            &[
                Arg::integer("slot"),
                Arg::oneof(
                    "subcommand",
                    &[
                        Arg::string("node-id").with_token("IMPORTING"),
                        Arg::string("node-id").with_token("MIGRATING"),
                        Arg::string("node-id").with_token("NODE"),
                        Arg::token("stable", "STABLE"),
                    ],
                ),
            ],
            "Changes a hash slot's state: IMPORTING, MIGRATING, NODE or STABLE.",
        )
        .complexity("O(1)"),
    CommandSpec::new("shards", 2, &[STALE], c_shards)
        .doc(
            Group::Cluster,
            "7.0.0",
            &[],
            "Lists the cluster's shards: their slot ranges and nodes.",
        )
        .tips(&["nondeterministic_output"])
        .complexity("O(N) in the number of nodes."),
    CommandSpec::new("slaves", 3, &[ADMIN, STALE], c_replicas)
        .doc(
            Group::Cluster,
            "3.0.0",
            &[Arg::string("node-id")],
            "Lists the replicas of a primary node (the former name of CLUSTER REPLICAS).",
        )
        .tips(&["nondeterministic_output"])
        .complexity("O(N) in the number of replicas."),
    CommandSpec::new("slots", 2, &[STALE], c_slots)
        .doc(
            Group::Cluster,
            "3.0.0",
            &[],
            "Maps slot ranges to the nodes serving them (CLUSTER SHARDS replaces it).",
        )
        .tips(&["nondeterministic_output"])
        .complexity("O(N) in the number of nodes."),
];

/// This node's cluster, or the error of a server without cluster support.
fn cluster<'a>(ctx: &'a mut Ctx) -> Result<&'a mut Cluster, CmdError> {
    ctx.eng.cluster_refresh_myself();
    ctx.eng
        .cluster
        .as_deref_mut()
        .ok_or(error::CLUSTER_DISABLED)
}

/// After a change: nodes.conf written and the state evaluated again. A failed write is
/// not the command's failure (Redis would stop the server; the next change writes again).
fn changed(ctx: &mut Ctx) {
    let now = ctx.now;
    let _ = ctx.eng.cluster_changed(now);
}

/// A slot argument: an integer from 0 to 16383.
fn slot_arg(arg: &[u8]) -> Result<u16, CmdError> {
    util::parse_i64(arg)
        .and_then(|s| u16::try_from(s).ok())
        .filter(|&s| usize::from(s) < SLOTS)
        .ok_or(error::CLUSTER_BAD_SLOT)
}

fn refused(r: SlotsRefused) -> CmdError {
    match r {
        SlotsRefused::Busy(s) => error::cluster_slot_busy(s),
        SlotsRefused::Unassigned(s) => error::cluster_slot_unassigned(s),
        SlotsRefused::Repeated(s) => error::cluster_slot_repeated(s),
    }
}

/// `READONLY` → `+OK`: this connection reads the primary's slots on this replica.
fn readonly(ctx: &mut Ctx, _argv: &[Vec<u8>]) -> CmdResult {
    cluster(ctx)?;
    ctx.client().cluster_readonly = true;
    Ok(Reply::ok())
}

/// `READWRITE` → `+OK`: ends READONLY.
fn readwrite(ctx: &mut Ctx, _argv: &[Vec<u8>]) -> CmdResult {
    cluster(ctx)?;
    ctx.client().cluster_readonly = false;
    Ok(Reply::ok())
}

/// `ASKING` → `+OK`: the next command may use a slot this node imports.
fn asking(ctx: &mut Ctx, _argv: &[Vec<u8>]) -> CmdResult {
    cluster(ctx)?;
    ctx.client().cluster_asking = true;
    Ok(Reply::ok())
}

/// `CLUSTER HELP` → the subcommands, as status lines.
fn c_help(ctx: &mut Ctx, _argv: &[Vec<u8>]) -> CmdResult {
    cluster(ctx)?;
    Ok(super::server::help_reply("CLUSTER", HELP))
}

const HELP: &[&str] = &[
    "ADDSLOTS <slot> [<slot> ...]",
    "    Assign slots to current node.",
    "ADDSLOTSRANGE <start slot> <end slot> [<start slot> <end slot> ...]",
    "    Assign slots which are between <start-slot> and <end-slot> to current node.",
    "BUMPEPOCH",
    "    Advance the cluster config epoch.",
    "COUNT-FAILURE-REPORTS <node-id>",
    "    Return number of failure reports for <node-id>.",
    "COUNTKEYSINSLOT <slot>",
    "    Return the number of keys in <slot>.",
    "DELSLOTS <slot> [<slot> ...]",
    "    Delete slots information from current node.",
    "DELSLOTSRANGE <start slot> <end slot> [<start slot> <end slot> ...]",
    "    Delete slots information which are between <start-slot> and <end-slot> from current node.",
    "FAILOVER [FORCE|TAKEOVER]",
    "    Promote current replica node to being a master.",
    "FORGET <node-id>",
    "    Remove a node from the cluster.",
    "GETKEYSINSLOT <slot> <count>",
    "    Return key names stored by current node in a slot.",
    "FLUSHSLOTS",
    "    Delete current node own slots information.",
    "INFO",
    "    Return information about the cluster.",
    "KEYSLOT <key>",
    "    Return the hash slot for <key>.",
    "MEET <ip> <port> [<bus-port>]",
    "    Connect nodes into a working cluster.",
    "MYID",
    "    Return the node id.",
    "NODES",
    "    Return cluster configuration seen by node. Output format:",
    "    <id> <ip:port> <flags> <master> <pings> <pongs> <epoch> <link> <slot> ...",
    "REPLICATE <node-id>",
    "    Configure current node as replica to <node-id>.",
    "RESET [HARD|SOFT]",
    "    Reset current node (default: soft).",
    "SET-CONFIG-EPOCH <epoch>",
    "    Set config epoch of current node.",
    "SETSLOT <slot> (IMPORTING <node-id>|MIGRATING <node-id>|STABLE|NODE <node-id>)",
    "    Set slot state.",
    "REPLICAS <node-id>",
    "    Return <node-id> replicas.",
    "SAVECONFIG",
    "    Force saving cluster configuration on disk.",
    "SLOTS",
    "    Return information about slots range mappings. Each range is made of:",
    "    start, end, master and replicas IP addresses, ports and ids",
    "SHARDS",
    "    Return information about slot range mappings and the nodes associated with them.",
    "LINKS",
    "    Return information about all network links between this node and its peers.",
    "    Output format is an array where each array element is a map containing attributes of a link",
];

/// `CLUSTER MEET ip port [bus-port]` → `+OK`: records the node as met (in handshake); the
/// cluster bus completes the handshake.
fn c_meet(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    if argv.len() > 5 {
        cluster(ctx)?;
        return Err(error::subcommand_syntax(&argv[1], "cluster"));
    }
    let now = ctx.now;
    let timeout = ctx.eng.config.int_param("cluster-node-timeout");
    let cl = cluster(ctx)?;
    let port =
        util::parse_i64(&argv[3]).ok_or_else(|| error::cluster_meet_port(&argv[3], false))?;
    let cport = match argv.get(4) {
        Some(c) => util::parse_i64(c).ok_or_else(|| error::cluster_meet_port(c, true))?,
        None => port + i64::from(BUS_PORT_OFFSET),
    };
    let ip = std::str::from_utf8(&argv[2])
        .ok()
        .and_then(|s| s.parse::<std::net::IpAddr>().ok());
    let in_range = |p: i64| (1..=65535).contains(&p);
    let (Some(ip), true, true) = (ip, in_range(port), in_range(cport)) else {
        return Err(error::cluster_meet_address(&argv[2], &argv[3]));
    };
    let ip = ip.to_string();
    let (port, cport) = (port as u16, cport as u16);
    cl.state.expire_handshakes(now, timeout);
    if !cl.state.handshake_in_progress(&ip, port, cport) {
        let id = random_id(|| ctx.eng.rng.next_u64());
        if let Some(cl) = ctx.eng.cluster.as_deref_mut() {
            cl.state.meet(id, ip, port, cport, now);
        }
    }
    Ok(Reply::ok())
}

/// `CLUSTER NODES` → verbatim text, a line per known node.
fn c_nodes(ctx: &mut Ctx, _argv: &[Vec<u8>]) -> CmdResult {
    let cl = cluster(ctx)?;
    Ok(Reply::Verbatim(
        "txt",
        cl.state.nodes_text(false).into_bytes(),
    ))
}

/// `CLUSTER MYID` → this node's ID.
fn c_myid(ctx: &mut Ctx, _argv: &[Vec<u8>]) -> CmdResult {
    let cl = cluster(ctx)?;
    Ok(Reply::bulk(cl.state.myself.as_bytes()))
}

/// One node as CLUSTER SLOTS lists it: endpoint, port, ID, and the other endpoint data.
fn slot_node(n: &Node, endpoint: Endpoint) -> Reply {
    let first = match endpoint {
        Endpoint::Unknown => Reply::Nil,
        e => Reply::bulk(e.of(&n.ip, &n.hostname)),
    };
    let mut extra = Vec::new();
    if endpoint != Endpoint::Ip {
        extra.push((Reply::bulk("ip"), Reply::bulk(&n.ip)));
    }
    if endpoint != Endpoint::Hostname && !n.hostname.is_empty() {
        extra.push((Reply::bulk("hostname"), Reply::bulk(&n.hostname)));
    }
    Reply::Array(vec![
        first,
        Reply::int(n.port),
        Reply::bulk(n.id.as_bytes()),
        Reply::Map(extra),
    ])
}

/// The replication offset of a node as this node reports it (its own, for itself).
fn node_offset(n: &Node, own: i64) -> i64 {
    if n.flags & flag::MYSELF != 0 {
        own
    } else {
        n.repl_offset
    }
}

/// `CLUSTER SLOTS` → for each run of slots with one owner: start, end, the primary, and
/// the replicas that can serve reads.
fn c_slots(ctx: &mut Ctx, _argv: &[Vec<u8>]) -> CmdResult {
    let endpoint = ctx.eng.cluster_endpoint();
    let own = ctx.eng.repl.offset;
    let cl = cluster(ctx)?;
    let st = &cl.state;
    let mut out = Vec::new();
    for (a, b, id) in st.slot_runs() {
        let Some(owner) = st.node(id.as_bytes()) else {
            continue;
        };
        let mut entry = vec![Reply::int(a), Reply::int(b), slot_node(owner, endpoint)];
        for r in st.replicas_of(id) {
            if !r.failed() && node_offset(r, own) != 0 {
                entry.push(slot_node(r, endpoint));
            }
        }
        out.push(Reply::Array(entry));
    }
    Ok(Reply::Array(out))
}

/// One node as CLUSTER SHARDS lists it.
fn shard_node(n: &Node, endpoint: Endpoint, own: i64) -> Reply {
    let mut m = vec![(Reply::bulk("id"), Reply::bulk(n.id.as_bytes()))];
    if n.port != 0 {
        m.push((Reply::bulk("port"), Reply::int(n.port)));
    }
    m.push((Reply::bulk("ip"), Reply::bulk(&n.ip)));
    m.push((
        Reply::bulk("endpoint"),
        Reply::bulk(endpoint.of(&n.ip, &n.hostname)),
    ));
    if !n.hostname.is_empty() {
        m.push((Reply::bulk("hostname"), Reply::bulk(&n.hostname)));
    }
    let offset = node_offset(n, own);
    m.push((
        Reply::bulk("role"),
        Reply::bulk(if n.is_replica() { "replica" } else { "master" }),
    ));
    m.push((Reply::bulk("replication-offset"), Reply::int(offset)));
    let health = if n.failed() {
        "fail"
    } else if n.is_replica() && offset == 0 {
        "loading"
    } else {
        "online"
    };
    m.push((Reply::bulk("health"), Reply::bulk(health)));
    Reply::Map(m)
}

/// `CLUSTER SHARDS` → for each primary: its slot ranges and its nodes (it, then its
/// replicas).
fn c_shards(ctx: &mut Ctx, _argv: &[Vec<u8>]) -> CmdResult {
    let endpoint = ctx.eng.cluster_endpoint();
    let own = ctx.eng.repl.offset;
    let cl = cluster(ctx)?;
    let st = &cl.state;
    let runs = st.slot_runs();
    let mut out = Vec::new();
    for n in st.nodes.iter().filter(|n| n.is_master()) {
        let slots: Vec<Reply> = runs
            .iter()
            .filter(|r| r.2 == n.id)
            .flat_map(|&(a, b, _)| [Reply::int(a), Reply::int(b)])
            .collect();
        let mut nodes = vec![shard_node(n, endpoint, own)];
        nodes.extend(
            st.replicas_of(&n.id)
                .into_iter()
                .map(|r| shard_node(r, endpoint, own)),
        );
        out.push(Reply::Map(vec![
            (Reply::bulk("slots"), Reply::Array(slots)),
            (Reply::bulk("nodes"), Reply::Array(nodes)),
        ]));
    }
    Ok(Reply::Array(out))
}

/// `CLUSTER FLUSHSLOTS` → `+OK`: this node serves no slot any more (its database must be
/// empty).
fn c_flushslots(ctx: &mut Ctx, _argv: &[Vec<u8>]) -> CmdResult {
    cluster(ctx)?;
    if !ctx.eng.dbs[0].is_empty() {
        return Err(error::CLUSTER_FLUSHSLOTS_KEYS);
    }
    let cl = cluster(ctx)?;
    let me = cl.state.myself.clone();
    cl.state.del_node_slots(&me);
    changed(ctx);
    Ok(Reply::ok())
}

/// ADDSLOTS / DELSLOTS and their RANGE forms: every argument checked before any slot
/// changes.
fn slots_change(ctx: &mut Ctx, argv: &[Vec<u8>], del: bool, ranges: bool) -> CmdResult {
    let cl = cluster(ctx)?;
    if ranges && argv.len() % 2 == 1 {
        return Err(error::wrong_arity(if del {
            "cluster|delslotsrange"
        } else {
            "cluster|addslotsrange"
        }));
    }
    let mut seen = vec![false; SLOTS];
    if ranges {
        for pair in argv[2..].chunks(2) {
            let a = slot_arg(&pair[0])?;
            let b = slot_arg(&pair[1])?;
            if a > b {
                return Err(error::cluster_range_backwards(a, b));
            }
            cl.state
                .check_slots(&mut seen, del, a, b)
                .map_err(refused)?;
        }
    } else {
        for a in &argv[2..] {
            slot_arg(a)?;
        }
        for a in &argv[2..] {
            let s = slot_arg(a)?;
            cl.state
                .check_slots(&mut seen, del, s, s)
                .map_err(refused)?;
        }
    }
    cl.state.update_slots(&seen, del);
    changed(ctx);
    Ok(Reply::ok())
}

/// `CLUSTER ADDSLOTS slot...` → `+OK`.
fn c_addslots(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    slots_change(ctx, argv, false, false)
}

/// `CLUSTER DELSLOTS slot...` → `+OK`.
fn c_delslots(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    slots_change(ctx, argv, true, false)
}

/// `CLUSTER ADDSLOTSRANGE start end [start end ...]` → `+OK`.
fn c_addslotsrange(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    slots_change(ctx, argv, false, true)
}

/// `CLUSTER DELSLOTSRANGE start end [start end ...]` → `+OK`.
fn c_delslotsrange(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    slots_change(ctx, argv, true, true)
}

/// `CLUSTER SETSLOT slot IMPORTING id | MIGRATING id | STABLE | NODE id` → `+OK`.
fn c_setslot(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    let keys_in = |ctx: &Ctx, slot: u16| {
        ctx.eng.dbs[0]
            .slot_index
            .as_ref()
            .map_or(0, |ix| ix.count(slot))
    };
    let cl = cluster(ctx)?;
    if cl.state.me().is_replica() {
        return Err(error::CLUSTER_SETSLOT_REPLICA);
    }
    let slot = slot_arg(&argv[2])?;
    let action = &argv[3];
    let target = |st: &ClusterState, id: &[u8], unknown: fn(&[u8]) -> CmdError| match st.node(id) {
        None => Err(unknown(id)),
        Some(n) if n.is_replica() => Err(error::CLUSTER_TARGET_NOT_MASTER),
        Some(n) => Ok(n.id.clone()),
    };
    if args::is(action, "migrating") && argv.len() == 5 {
        if !cl.state.mine(slot) {
            return Err(error::cluster_not_owner(slot));
        }
        let id = target(&cl.state, &argv[4], error::cluster_dont_know)?;
        cl.state.migrating.insert(slot, id);
    } else if args::is(action, "importing") && argv.len() == 5 {
        if cl.state.mine(slot) {
            return Err(error::cluster_already_owner(slot));
        }
        let id = target(&cl.state, &argv[4], error::cluster_dont_know)?;
        cl.state.importing.insert(slot, id);
    } else if args::is(action, "stable") && argv.len() == 4 {
        cl.state.importing.remove(&slot);
        cl.state.migrating.remove(&slot);
    } else if args::is(action, "node") && argv.len() == 5 {
        let id = target(&cl.state, &argv[4], error::cluster_unknown_node)?;
        let me = cl.state.myself.clone();
        let was_mine = cl.state.mine(slot);
        let keys = keys_in(ctx, slot);
        if was_mine && id != me && keys != 0 {
            return Err(error::cluster_slot_has_keys(slot));
        }
        let allow_migration = ctx.eng.config.get_named("cluster-allow-replica-migration") != "no";
        let cl = cluster(ctx)?;
        if keys == 0 {
            cl.state.migrating.remove(&slot);
        }
        cl.state.del_slot(slot);
        cl.state.add_slot(slot, &id);
        let mut follow = None;
        if was_mine && id != me && cl.state.me().numslots == 0 && allow_migration {
            // A primary left without slots becomes a replica of the node that took them.
            cl.state.set_master(&id);
            follow = cl.state.node(id.as_bytes()).map(|n| (n.ip.clone(), n.port));
        }
        let imported = id == me && cl.state.importing.remove(&slot).is_some();
        if imported {
            cl.state.bump_epoch();
        }
        if let Some((ip, port)) = follow.filter(|(ip, _)| !ip.is_empty()) {
            let now = ctx.now;
            ctx.eng.set_master(&ip, port, now);
        }
        if imported {
            // The other nodes learn the new owner (and its epoch) at once.
            changed(ctx);
            let now = ctx.now;
            ctx.eng.cluster_bus_broadcast_pong(now);
        }
    } else {
        return Err(error::CLUSTER_SETSLOT_SYNTAX);
    }
    changed(ctx);
    Ok(Reply::ok())
}

/// `CLUSTER BUMPEPOCH` → `+BUMPED epoch`, or `+STILL epoch` when this node's epoch is
/// already the highest.
fn c_bumpepoch(ctx: &mut Ctx, _argv: &[Vec<u8>]) -> CmdResult {
    let cl = cluster(ctx)?;
    let bumped = cl.state.bump_epoch();
    let epoch = cl.state.me().config_epoch;
    changed(ctx);
    Ok(Reply::Status(
        format!("{} {epoch}", if bumped { "BUMPED" } else { "STILL" }).into(),
    ))
}

/// `CLUSTER INFO` → verbatim text: state, slots, nodes, epochs, bus message counts.
fn c_info(ctx: &mut Ctx, _argv: &[Vec<u8>]) -> CmdResult {
    let now = ctx.now;
    ctx.eng.cluster_update_state(now);
    let cl = cluster(ctx)?;
    let text = cl
        .state
        .info_text(&cl.bus.stats_sent, &cl.bus.stats_received);
    Ok(Reply::Verbatim("txt", text.into_bytes()))
}

/// `CLUSTER SAVECONFIG` → `+OK` once nodes.conf is written.
fn c_saveconfig(ctx: &mut Ctx, _argv: &[Vec<u8>]) -> CmdResult {
    let cl = cluster(ctx)?;
    cl.save().map_err(|e| error::cluster_save_failed(&e))?;
    Ok(Reply::ok())
}

/// `CLUSTER KEYSLOT key` → the key's hash slot.
fn c_keyslot(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    cluster(ctx)?;
    Ok(Reply::int(key_slot(&argv[2])))
}

/// `CLUSTER COUNTKEYSINSLOT slot` → how many keys this node holds in the slot.
fn c_countkeysinslot(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    cluster(ctx)?;
    let slot = args::int(&argv[2])?;
    let slot = u16::try_from(slot)
        .ok()
        .filter(|&s| usize::from(s) < SLOTS)
        .ok_or(error::CLUSTER_INVALID_SLOT)?;
    let n = ctx.eng.dbs[0]
        .slot_index
        .as_ref()
        .map_or(0, |ix| ix.count(slot));
    Ok(Reply::int(n as i64))
}

/// `CLUSTER GETKEYSINSLOT slot count` → up to count keys of the slot, newest first.
fn c_getkeysinslot(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    cluster(ctx)?;
    let slot = args::int(&argv[2])?;
    let max = args::int(&argv[3])?;
    let slot = u16::try_from(slot)
        .ok()
        .filter(|&s| usize::from(s) < SLOTS && max >= 0)
        .ok_or(error::CLUSTER_SLOT_OR_COUNT)?;
    let max = usize::try_from(max).unwrap_or(usize::MAX);
    let keys = ctx.eng.dbs[0]
        .slot_index
        .as_ref()
        .map_or_else(Vec::new, |ix| ix.keys_in_slot(slot, max));
    Ok(Reply::bulks(keys))
}

/// `CLUSTER FORGET id` → `+OK`: the node is removed from this node's table for a minute.
fn c_forget(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    let now = ctx.now;
    let cl = cluster(ctx)?;
    let Some(n) = cl.state.node(&argv[2]) else {
        return Err(error::cluster_unknown_node(&argv[2]));
    };
    let id = n.id.clone();
    let me = cl.state.me();
    if id == me.id {
        return Err(error::CLUSTER_FORGET_MYSELF);
    }
    if me.is_replica() && me.master.as_deref() == Some(id.as_str()) {
        return Err(error::CLUSTER_FORGET_MASTER);
    }
    cl.state.forget(&id, now);
    changed(ctx);
    Ok(Reply::ok())
}

/// `CLUSTER REPLICATE id` → `+OK`: this node becomes a replica of that primary.
fn c_replicate(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    let empty = ctx.eng.dbs[0].is_empty();
    let cl = cluster(ctx)?;
    let Some(n) = cl.state.node(&argv[2]) else {
        return Err(error::cluster_unknown_node(&argv[2]));
    };
    if n.id == cl.state.myself {
        return Err(error::CLUSTER_REPLICATE_MYSELF);
    }
    if n.is_replica() {
        return Err(error::CLUSTER_REPLICATE_REPLICA);
    }
    let (id, ip, port) = (n.id.clone(), n.ip.clone(), n.port);
    let me = cl.state.me();
    if me.is_master() && (me.numslots != 0 || !empty) {
        return Err(error::CLUSTER_REPLICATE_NOT_EMPTY);
    }
    cl.state.set_master(&id);
    if !ip.is_empty() {
        let now = ctx.now;
        ctx.eng.set_master(&ip, port, now);
    }
    changed(ctx);
    Ok(Reply::ok())
}

/// `CLUSTER REPLICAS id` (and `SLAVES`) → the node lines of a primary's replicas.
fn c_replicas(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    let cl = cluster(ctx)?;
    let st = &cl.state;
    let Some(n) = st.node(&argv[2]) else {
        return Err(error::cluster_unknown_node(&argv[2]));
    };
    if n.is_replica() {
        return Err(error::CLUSTER_NOT_A_MASTER);
    }
    let runs = st.slot_runs();
    Ok(Reply::Array(
        st.replicas_of(&n.id)
            .into_iter()
            .map(|r| Reply::bulk(st.node_line(r, &runs)))
            .collect(),
    ))
}

/// `CLUSTER COUNT-FAILURE-REPORTS id` → how many nodes report that node failing.
fn c_count_failure_reports(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    let now = ctx.now;
    let timeout = ctx.eng.config.int_param("cluster-node-timeout");
    let cl = cluster(ctx)?;
    let Some(n) = cl.state.node(&argv[2]) else {
        return Err(error::cluster_unknown_node(&argv[2]));
    };
    let id = n.id.clone();
    let count = cl.state.failure_report_count(&id, now, timeout);
    Ok(Reply::int(count as i64))
}

/// `CLUSTER FAILOVER [FORCE|TAKEOVER]` → `+OK` once the failover started: TAKEOVER takes the
/// primary's slots at once with a new epoch, FORCE starts an election, the default first asks
/// the primary to pause its writes until this replica caught up.
fn c_failover(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    if argv.len() > 3 {
        cluster(ctx)?;
        return Err(error::subcommand_syntax(&argv[1], "cluster"));
    }
    let cl = cluster(ctx)?;
    let (mut force, mut takeover) = (false, false);
    if let Some(opt) = argv.get(2) {
        if args::is(opt, "force") {
            force = true;
        } else if args::is(opt, "takeover") {
            (force, takeover) = (true, true);
        } else {
            return Err(error::SYNTAX);
        }
    }
    let me = cl.state.me();
    if me.is_master() {
        return Err(error::CLUSTER_FAILOVER_MASTER);
    }
    let Some(master) = me
        .master
        .as_deref()
        .and_then(|m| cl.state.node(m.as_bytes()))
    else {
        return Err(error::CLUSTER_FAILOVER_NO_MASTER);
    };
    if !force && (master.failed() || !master.link) {
        return Err(error::CLUSTER_FAILOVER_MASTER_DOWN);
    }
    let now = ctx.now;
    ctx.eng.cluster_manual_failover(force, takeover, now);
    Ok(Reply::ok())
}

/// `CLUSTER SET-CONFIG-EPOCH epoch` → `+OK`: a new node's epoch (only while it knows no
/// other node and has none).
fn c_set_config_epoch(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    let cl = cluster(ctx)?;
    let epoch = args::int(&argv[2])?;
    if epoch < 0 {
        return Err(error::cluster_bad_epoch(epoch));
    }
    if cl.state.nodes.len() > 1 {
        return Err(error::CLUSTER_EPOCH_NOT_ALONE);
    }
    if cl.state.me().config_epoch != 0 {
        return Err(error::CLUSTER_EPOCH_SET);
    }
    cl.state.set_config_epoch(epoch as u64);
    changed(ctx);
    Ok(Reply::ok())
}

/// `CLUSTER RESET [HARD|SOFT]` → `+OK`: forgets the other nodes and the slots; a replica
/// becomes an empty primary; HARD also takes a new ID and sets the epochs to 0.
fn c_reset(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    if argv.len() > 3 {
        cluster(ctx)?;
        return Err(error::subcommand_syntax(&argv[1], "cluster"));
    }
    cluster(ctx)?;
    let hard = match argv.get(2) {
        None => false,
        Some(a) if args::is(a, "hard") => true,
        Some(a) if args::is(a, "soft") => false,
        Some(_) => return Err(error::SYNTAX),
    };
    let db = ctx.db;
    let cl = cluster(ctx)?;
    let replica = cl.state.me().is_replica();
    if !replica && !ctx.eng.dbs[db].is_empty() {
        return Err(error::CLUSTER_RESET_KEYS);
    }
    if replica {
        ctx.eng.unset_master();
        let now = ctx.now;
        let empty = (0..ctx.eng.dbs.len()).map(|_| Db::new()).collect();
        ctx.eng.replace_data(empty, now);
    }
    let new_id = hard.then(|| random_id(|| ctx.eng.rng.next_u64()));
    if let Some(cl) = ctx.eng.cluster.as_deref_mut() {
        cl.state.reset(new_id);
    }
    changed(ctx);
    Ok(Reply::ok())
}

/// `CLUSTER LINKS` → this node's bus links that belong to a known node, by node: the link
/// to it, then the link from it. The send buffer is the host's, shown as empty.
fn c_links(ctx: &mut Ctx, _argv: &[Vec<u8>]) -> CmdResult {
    let cl = cluster(ctx)?;
    let mut out = Vec::new();
    for n in &cl.state.nodes {
        for link in [cl.bus.out_link(&n.id), cl.bus.in_link(&n.id)]
            .into_iter()
            .flatten()
        {
            let Some(l) = cl.bus.links.get(&link) else {
                continue;
            };
            out.push(Reply::Map(vec![
                (
                    Reply::bulk("direction"),
                    Reply::bulk(if l.inbound { "from" } else { "to" }),
                ),
                (Reply::bulk("node"), Reply::bulk(n.id.as_bytes())),
                (Reply::bulk("create-time"), Reply::int(l.ctime)),
                (
                    Reply::bulk("events"),
                    Reply::bulk(if l.connected { "r" } else { "" }),
                ),
                (Reply::bulk("send-buffer-allocated"), Reply::int(0)),
                (Reply::bulk("send-buffer-used"), Reply::int(0)),
            ]));
        }
    }
    Ok(Reply::Array(out))
}
