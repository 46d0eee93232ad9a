//! The transactions group: MULTI, EXEC, DISCARD, WATCH, UNWATCH.
//!
//! Queueing happens in the dispatcher (`Engine::execute`) and running the queue in the engine
//! (`Engine::exec_transaction`): inside MULTI every command but these
//! control commands answers `+QUEUED`, and a command refused before running (unknown, wrong
//! arity) marks the transaction so EXEC answers EXECABORT.

use super::spec::*;
use crate::engine::Ctx;
use crate::error::{self, CmdResult};
use crate::protocol::Reply;

const FLAGS: &[Flags] = &[NOSCRIPT, LOADING, STALE, FAST, ALLOW_BUSY];

/// The transactions group's commands.
pub const COMMANDS: &[CommandSpec] = &[
    CommandSpec::new("multi", 1, FLAGS, multi).doc(
        Group::Transactions,
        "1.2.0",
        &[],
        "Opens a transaction: later commands are queued until EXEC or DISCARD.",
    ),
    CommandSpec::new("exec", 1, &[NOSCRIPT, LOADING, STALE, SKIP_SLOWLOG], exec).doc(
        Group::Transactions,
        "1.2.0",
        &[],
        "Runs every queued command as one atomic step, unless a watched key changed.",
    ),
    CommandSpec::new("discard", 1, FLAGS, discard).doc(
        Group::Transactions,
        "2.0.0",
        &[],
        "Drops the queued commands and leaves the transaction.",
    ),
    CommandSpec::new("watch", -2, FLAGS, watch)
        .doc(
            Group::Transactions,
            "2.2.0",
            &[Arg::key("key", 0).multiple()],
            "Makes the next EXEC fail if any of these keys changes before it.",
        )
        .key_specs(&[KeySpec::new(&[RO], index(1), range(-1, 1, 0))]),
    CommandSpec::new("unwatch", 1, FLAGS, unwatch).doc(
        Group::Transactions,
        "2.2.0",
        &[],
        "Stops watching every key.",
    ),
];

/// `MULTI` → `+OK`.
fn multi(ctx: &mut Ctx, _argv: &[Vec<u8>]) -> CmdResult {
    let c = ctx.client();
    if c.multi.is_some() {
        return Err(error::MULTI_NESTED);
    }
    c.multi = Some(Vec::new());
    c.mem.multi_bytes = 0;
    c.multi_error = false;
    Ok(Reply::ok())
}

/// `EXEC` → an array with each queued command's reply; nil when a watched key changed;
/// `EXECABORT` when a command was refused while queueing.
fn exec(ctx: &mut Ctx, _argv: &[Vec<u8>]) -> CmdResult {
    let (id, db, now) = (ctx.client, ctx.db, ctx.now);
    let (reply, db) = ctx.eng.exec_transaction(id, db, now);
    ctx.db = db;
    reply
}

/// `DISCARD` → `+OK`.
fn discard(ctx: &mut Ctx, _argv: &[Vec<u8>]) -> CmdResult {
    let c = ctx.client();
    if c.multi.take().is_none() {
        return Err(error::DISCARD_WITHOUT_MULTI);
    }
    c.multi_error = false;
    let id = ctx.client;
    ctx.eng.unwatch_all(id);
    Ok(Reply::ok())
}

/// `WATCH key [key ...]` → `+OK`.
fn watch(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    if ctx.client().multi.is_some() {
        return Err(error::WATCH_INSIDE_MULTI);
    }
    let (id, db, now) = (ctx.client, ctx.db, ctx.now);
    for key in &argv[1..] {
        ctx.eng.watch(id, db, key, now);
    }
    Ok(Reply::ok())
}

/// `UNWATCH` → `+OK`.
fn unwatch(ctx: &mut Ctx, _argv: &[Vec<u8>]) -> CmdResult {
    let id = ctx.client;
    ctx.eng.unwatch_all(id);
    Ok(Reply::ok())
}
