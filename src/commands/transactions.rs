//! The transactions group: MULTI, EXEC, DISCARD, WATCH, UNWATCH.
//!
//! Queueing happens in the dispatcher (`Engine::execute`): inside MULTI every command but these
//! control commands answers `+QUEUED`, and a command refused before running (unknown, wrong
//! arity) marks the transaction so EXEC answers EXECABORT.

use super::spec::*;
use crate::engine::{error_reply, resolve, Ctx};
use crate::error::{CmdError, CmdResult};
use crate::protocol::Reply;

const FLAGS: &[Flags] = &[NOSCRIPT, LOADING, STALE, FAST, ALLOW_BUSY];

/// The transactions group's commands.
pub const COMMANDS: &[CommandSpec] = &[
    CommandSpec::new("multi", 1, FLAGS, multi).doc(
        Group::Transactions,
        "1.2.0",
        "",
        "Opens a transaction: later commands are queued until EXEC or DISCARD.",
    ),
    CommandSpec::new("exec", 1, &[NOSCRIPT, LOADING, STALE, SKIP_SLOWLOG], exec).doc(
        Group::Transactions,
        "1.2.0",
        "",
        "Runs every queued command as one atomic step, unless a watched key changed.",
    ),
    CommandSpec::new("discard", 1, FLAGS, discard).doc(
        Group::Transactions,
        "2.0.0",
        "",
        "Drops the queued commands and leaves the transaction.",
    ),
    CommandSpec::new("watch", -2, FLAGS, watch)
        .doc(
            Group::Transactions,
            "2.2.0",
            "key [key ...]",
            "Makes the next EXEC fail if any of these keys changes before it.",
        )
        .key_specs(&[KeySpec::new(&[RO], index(1), range(-1, 1, 0))]),
    CommandSpec::new("unwatch", 1, FLAGS, unwatch).doc(
        Group::Transactions,
        "2.2.0",
        "",
        "Stops watching every key.",
    ),
];

/// `MULTI` → `+OK`.
fn multi(ctx: &mut Ctx, _argv: &[Vec<u8>]) -> CmdResult {
    let c = ctx.client();
    if c.multi.is_some() {
        return Err(CmdError::from("ERR MULTI calls can not be nested"));
    }
    c.multi = Some(Vec::new());
    c.multi_error = false;
    Ok(Reply::ok())
}

/// `EXEC` → an array with each queued command's reply; nil when a watched key changed;
/// `EXECABORT` when a command was refused while queueing.
fn exec(ctx: &mut Ctx, _argv: &[Vec<u8>]) -> CmdResult {
    let c = ctx.client();
    let Some(queue) = c.multi.take() else {
        return Err(CmdError::from("ERR EXEC without MULTI"));
    };
    let aborted = std::mem::take(&mut c.multi_error);
    let dirty = c.watch_dirty;
    let (id, now) = (ctx.client, ctx.now);
    let dirty = dirty || ctx.eng.watched_key_expired(id, now);
    ctx.eng.unwatch_all(id);
    if aborted {
        return Err(CmdError::from(
            "EXECABORT Transaction discarded because of previous errors.",
        ));
    }
    if dirty {
        return Ok(Reply::NilArray);
    }
    let mut replies = Vec::with_capacity(queue.len());
    // Inside EXEC a blocking command answers at once as if it had timed out.
    ctx.no_block = true;
    for argv in &queue {
        let reply = match resolve(argv) {
            Ok(spec) => {
                ctx.eng.stats.commands += 1;
                let reply = (spec.handler)(ctx, argv).unwrap_or_else(error_reply);
                let (db, now) = (ctx.db, ctx.now);
                ctx.eng.after_call(id, db, spec, argv, now);
                reply
            }
            Err(e) => error_reply(e),
        };
        replies.push(reply);
    }
    ctx.no_block = false;
    Ok(Reply::Array(replies))
}

/// `DISCARD` → `+OK`.
fn discard(ctx: &mut Ctx, _argv: &[Vec<u8>]) -> CmdResult {
    let c = ctx.client();
    if c.multi.take().is_none() {
        return Err(CmdError::from("ERR DISCARD without MULTI"));
    }
    c.multi_error = false;
    let id = ctx.client;
    ctx.eng.unwatch_all(id);
    Ok(Reply::ok())
}

/// `WATCH key [key ...]` → `+OK`.
fn watch(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    if ctx.client().multi.is_some() {
        return Err(CmdError::from("ERR WATCH inside MULTI is not allowed"));
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
