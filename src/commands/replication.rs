//! The replication commands a replica sends its primary: SYNC, PSYNC and REPLCONF (the state
//! they change lives in `engine/replication.rs`).

use super::spec::*;
use crate::engine::failover::Failover;
use crate::engine::Ctx;
use crate::error::{self, CmdResult};
use crate::protocol::Reply;
use crate::util::parse_i64;

/// This group's commands.
pub const COMMANDS: &[CommandSpec] = &[
    CommandSpec::new("sync", 1, &[ADMIN, NOSCRIPT, NO_ASYNC_LOADING, NO_MULTI], sync).doc(Group::Server, "1.0.0", &[], "Asks for the replication stream, after a full snapshot (the protocol before PSYNC).").complexity("O(N), N being the keys of every database."),
    CommandSpec::new("psync", -3, &[ADMIN, NOSCRIPT, NO_ASYNC_LOADING, NO_MULTI], psync).doc(Group::Server, "2.8.0", &[Arg::string("replicationid"), Arg::integer("offset")], "Asks for the replication stream from a point of a history: the missing part when the backlog holds it, else a full snapshot.").complexity("O(N), N being the bytes sent."),
    CommandSpec::new("replicaof", 3, &[ADMIN, NOSCRIPT, STALE, NO_ASYNC_LOADING], replicaof).doc(Group::Server, "5.0.0", REPLICAOF_ARGS, "Makes this server a replica of another (NO ONE: a primary again).").complexity("O(1)"),
    CommandSpec::new("slaveof", 3, &[ADMIN, NOSCRIPT, STALE, NO_ASYNC_LOADING], replicaof).doc(Group::Server, "1.0.0", REPLICAOF_ARGS, "Makes this server a replica of another (NO ONE: a primary again); REPLICAOF's old name.").complexity("O(1)"),
    CommandSpec::new("wait", 3, &[NOSCRIPT], wait).doc(Group::Generic, "3.0.0", &[Arg::integer("numreplicas"), Arg::integer("timeout")], "Waits until the replicas acknowledged this connection's writes, or the timeout (ms) passes.").acl(&[Acl::Connection]).acl_not(&[Acl::Keyspace]).tips(&["request_policy:all_shards", "response_policy:agg_min"]).complexity("O(1)"),
    CommandSpec::new("failover", -1, &[ADMIN, NOSCRIPT, STALE], failover).doc(Group::Server, "6.2.0", FAILOVER_ARGS, "Hands the primary's role to a replica once it has every write (TO one of them, FORCE at the TIMEOUT, ABORT).").complexity("O(1)"),
    CommandSpec::new("replconf", -1, &[ADMIN, NOSCRIPT, LOADING, STALE, ALLOW_BUSY], replconf).doc(Group::Server, "3.0.0", &[], "Tells the primary about a replica (its port, address, capabilities) and acknowledges offsets.").complexity("O(1)"),
];

/// `host port | NO ONE`.
const REPLICAOF_ARGS: &[Arg] = &[Arg::oneof(
    "args",
    &[
        Arg::block("host-port", &[Arg::string("host"), Arg::integer("port")]),
        Arg::block(
            "no-one",
            &[Arg::token("no", "NO"), Arg::token("one", "ONE")],
        ),
    ],
)];

/// `[TO host port [FORCE]] [ABORT] [TIMEOUT milliseconds]`.
const FAILOVER_ARGS: &[Arg] = &[
    Arg::block(
        "target",
        &[
            Arg::string("host"),
            Arg::integer("port"),
            Arg::token("force", "FORCE").optional(),
        ],
    )
    .with_token("TO")
    .optional(),
    Arg::token("abort", "ABORT").optional(),
    Arg::integer("milliseconds")
        .with_token("TIMEOUT")
        .optional(),
];

/// No reply at all (what Redis sends a replica for its acknowledgements).
fn silent() -> CmdResult {
    Ok(Reply::Multi(Vec::new()))
}

/// Refusals SYNC and PSYNC share; None when the sync may go ahead.
fn sync_refused(ctx: &Ctx) -> Option<CmdResult> {
    if ctx.eng.is_replica(ctx.client) {
        // A replica that asks again is ignored, as in Redis.
        return Some(silent());
    }
    if ctx.eng.repl.failover.is_some() {
        return Some(Err(error::SYNC_FAILING_OVER));
    }
    if ctx.eng.replica_link_blocks_sync() {
        return Some(Err(error::SYNC_NOT_CONNECTED));
    }
    None
}

/// `SYNC` → the snapshot as `$<len>\r\n<rdb>`, then the replication stream (no reply of its
/// own: the bytes go out through the replica's stream).
fn sync(ctx: &mut Ctx, _argv: &[Vec<u8>]) -> CmdResult {
    if let Some(r) = sync_refused(ctx) {
        return r;
    }
    ctx.eng.start_sync(ctx.client, None, ctx.now);
    silent()
}

/// `PSYNC replicationid offset` → `+CONTINUE [replid]` and the missing stream, or
/// `+FULLRESYNC <replid> <offset>`, the snapshot and the stream.
fn psync(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    if ctx.eng.is_replica(ctx.client) {
        return silent();
    }
    if argv.len() > 3 && argv[3].eq_ignore_ascii_case(b"failover") {
        // Our primary hands its role over to us (its FAILOVER): we promote ourselves and
        // it continues as our replica.
        if ctx.eng.repl.link.is_none() {
            return Err(error::PSYNC_FAILOVER_TO_MASTER);
        }
        if argv[1] != ctx.eng.repl.replid.as_bytes() {
            return Err(error::PSYNC_FAILOVER_REPLID);
        }
        ctx.eng.unset_master();
    }
    if let Some(r) = sync_refused(ctx) {
        return r;
    }
    let Some(offset) = parse_i64(&argv[2]) else {
        return Err(error::NOT_INTEGER);
    };
    ctx.eng
        .start_sync(ctx.client, Some((&argv[1], offset)), ctx.now);
    silent()
}

/// `REPLICAOF host port` | `REPLICAOF NO ONE` → OK (`+OK Already connected to specified
/// master` when nothing changes).
fn replicaof(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    if ctx.eng.cluster_enabled() {
        // A cluster node follows the primary CLUSTER REPLICATE names.
        return Err(error::REPLICAOF_CLUSTER);
    }
    if ctx.eng.repl.failover.is_some() {
        return Err(error::REPLICAOF_FAILING_OVER);
    }
    if argv[1].eq_ignore_ascii_case(b"no") && argv[2].eq_ignore_ascii_case(b"one") {
        ctx.eng.unset_master();
        return Ok(Reply::ok());
    }
    if ctx.eng.is_replica(ctx.client) {
        return Err(error::REPLICAOF_FROM_REPLICA);
    }
    let port = parse_i64(&argv[2])
        .and_then(|p| u16::try_from(p).ok())
        .ok_or(error::INVALID_MASTER_PORT)?;
    let host = String::from_utf8_lossy(&argv[1]).into_owned();
    if let Some(link) = &ctx.eng.repl.link {
        if link.host.eq_ignore_ascii_case(&host) && link.port == port {
            return Ok(Reply::status("OK Already connected to specified master"));
        }
    }
    ctx.eng.set_master(&host, port, ctx.now);
    Ok(Reply::ok())
}

/// `FAILOVER [TO host port [FORCE]] [ABORT] [TIMEOUT milliseconds]` → OK: writes pause
/// until a replica has everything, then it becomes the primary and this server its replica.
fn failover(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    if ctx.eng.cluster_enabled() {
        return Err(error::FAILOVER_CLUSTER);
    }
    if argv.len() == 2 && argv[1].eq_ignore_ascii_case(b"abort") {
        if ctx.eng.repl.failover.is_none() {
            return Err(error::FAILOVER_NONE);
        }
        ctx.eng.abort_failover();
        return Ok(Reply::ok());
    }
    let (mut timeout, mut force, mut target) = (0i64, false, None);
    let mut i = 1;
    while i < argv.len() {
        let word = &argv[i];
        if word.eq_ignore_ascii_case(b"timeout") && i + 1 < argv.len() && timeout == 0 {
            timeout = parse_i64(&argv[i + 1]).ok_or(error::NOT_INTEGER)?;
            if timeout <= 0 {
                return Err(error::FAILOVER_TIMEOUT);
            }
            i += 2;
        } else if word.eq_ignore_ascii_case(b"to") && i + 2 < argv.len() && target.is_none() {
            let port = parse_i64(&argv[i + 2]).ok_or(error::NOT_INTEGER)?;
            target = Some((String::from_utf8_lossy(&argv[i + 1]).into_owned(), port));
            i += 3;
        } else if word.eq_ignore_ascii_case(b"force") && !force {
            force = true;
            i += 1;
        } else {
            return Err(error::SYNTAX);
        }
    }
    let eng = &mut ctx.eng;
    if eng.repl.failover.is_some() {
        return Err(error::FAILOVER_RUNNING);
    }
    if eng.repl.link.is_some() {
        return Err(error::FAILOVER_ON_REPLICA);
    }
    if eng.repl.attached_count() == 0 {
        return Err(error::FAILOVER_NO_REPLICAS);
    }
    if force && (timeout == 0 || target.is_none()) {
        return Err(error::FAILOVER_FORCE);
    }
    let target = match target {
        Some((host, port)) => {
            let found = u16::try_from(port)
                .ok()
                .and_then(|p| eng.find_online_replica(&host, p).map(|online| (p, online)));
            match found {
                None => return Err(error::FAILOVER_NOT_REPLICA),
                Some((_, false)) => return Err(error::FAILOVER_NOT_ONLINE),
                Some((p, true)) => Some((host, p)),
            }
        }
        None => None,
    };
    let end = (timeout > 0).then(|| ctx.now.saturating_add(timeout));
    ctx.eng.start_failover(Failover {
        target,
        end,
        force,
        in_progress: false,
    });
    Ok(Reply::ok())
}

/// `WAIT numreplicas timeout` → integer: the replicas that acknowledged this client's last
/// write, once there are `numreplicas` or `timeout` ms passed (0: no limit).
fn wait(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    if ctx.eng.repl.link.is_some() {
        return Err(error::WAIT_ON_REPLICA);
    }
    let n = parse_i64(&argv[1]).ok_or(error::NOT_INTEGER)?;
    let timeout = parse_i64(&argv[2]).ok_or(error::TIMEOUT_NOT_INTEGER)?;
    if timeout < 0 {
        return Err(error::TIMEOUT_NEGATIVE);
    }
    // Redis 7.0 adds the timeout to the clock unchecked: a huge one ends in the past.
    let deadline = (timeout > 0).then(|| ctx.now.wrapping_add(timeout));
    if ctx.no_block {
        // Inside MULTI: the count now, never a wait.
        let offset = ctx.eng.clients.get(&ctx.client).map_or(0, |c| c.woff);
        return Ok(Reply::Integer(ctx.eng.acks_at(offset)));
    }
    match ctx.eng.start_wait(ctx.client, n) {
        Some(reply) => Ok(reply),
        None => {
            ctx.block_on(Vec::new(), deadline, Reply::Integer(0));
            Ok(Reply::Integer(0))
        }
    }
}

/// `REPLCONF <option> <value> ...` → OK, or nothing for ACK and GETACK.
fn replconf(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    if argv.len().is_multiple_of(2) {
        return Err(error::SYNTAX);
    }
    let client = ctx.client;
    for pair in argv[1..].chunks_exact(2) {
        let (opt, val) = (pair[0].to_ascii_lowercase(), &pair[1]);
        match opt.as_slice() {
            b"listening-port" => {
                let port = parse_i64(val).ok_or(error::NOT_INTEGER)?;
                ctx.eng.replica_entry(client).listening_port = port;
            }
            b"ip-address" => {
                if val.len() >= 256 {
                    return Err(error::replconf_ip_too_long(val.len()));
                }
                ctx.eng.replica_entry(client).ip = Some(String::from_utf8_lossy(val).into());
            }
            b"capa" => {
                let entry = ctx.eng.replica_entry(client);
                if val.eq_ignore_ascii_case(b"eof") {
                    entry.capa_eof = true;
                } else if val.eq_ignore_ascii_case(b"psync2") {
                    entry.capa_psync2 = true;
                }
            }
            b"ack" => {
                if ctx.eng.is_replica(client) {
                    if let Some(offset) = parse_i64(val) {
                        ctx.eng.replica_ack(client, offset, ctx.now);
                    }
                }
                return silent();
            }
            b"getack" => {
                ctx.eng.request_ack_from_link();
                return silent();
            }
            b"rdb-only" => match parse_i64(val) {
                Some(0 | 1) => {}
                Some(_) => return Err(error::REPLCONF_RDB_ONLY_RANGE),
                None => return Err(error::NOT_INTEGER),
            },
            b"rdb-filter-only" => {
                let text = String::from_utf8_lossy(val);
                for word in text.split_whitespace() {
                    if !word.eq_ignore_ascii_case("functions") {
                        return Err(error::replconf_filter_option(word));
                    }
                }
            }
            _ => return Err(error::replconf_unknown(&pair[0])),
        }
    }
    Ok(Reply::ok())
}
