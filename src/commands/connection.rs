//! The connection group: PING, ECHO, SELECT, QUIT, HELLO, CLIENT ...

use super::args;
use super::CommandSpec;
use crate::engine::Ctx;
use crate::error::{self, CmdResult};
use crate::protocol::Reply;

/// The connection group's commands.
pub const COMMANDS: &[CommandSpec] = &[
    CommandSpec::new("ping", -1, "fast", (0, 0, 0), ping).doc(
        "connection",
        "1.0.0",
        "[message]",
        "Checks the connection: replies PONG, or the message given.",
    ),
    CommandSpec::new("echo", 2, "fast", (0, 0, 0), echo).doc(
        "connection",
        "1.0.0",
        "message",
        "Replies with the message it was given.",
    ),
    CommandSpec::new("select", 2, "loading stale fast", (0, 0, 0), select).doc(
        "connection",
        "1.0.0",
        "index",
        "Switches this connection to another numbered database.",
    ),
];

/// `PING [message]` → `+PONG`, or the message as a bulk string; `["pong", message]` for a
/// subscribed RESP2 client.
fn ping(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    let id = ctx.client;
    if ctx.eng.proto(id) == 2 && ctx.eng.is_subscribed(id) && argv.len() <= 2 {
        // A subscribed RESP2 client gets PING's answer shaped like a message.
        let msg = argv.get(1).cloned().unwrap_or_default();
        return Ok(Reply::Array(vec![Reply::bulk("pong"), Reply::Bulk(msg)]));
    }
    match argv.len() {
        1 => Ok(Reply::status("PONG")),
        2 => Ok(Reply::bulk(&argv[1])),
        _ => Err(error::wrong_arity("ping")),
    }
}

/// `ECHO message` → the message.
fn echo(_ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    Ok(Reply::bulk(&argv[1]))
}

/// `SELECT index` → `+OK`.
fn select(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    let idx = args::int32(&argv[1])?;
    let idx = usize::try_from(idx).map_err(|_| error::DB_INDEX)?;
    if idx >= ctx.eng.dbs.len() {
        return Err(error::DB_INDEX);
    }
    ctx.db = idx;
    ctx.client().db = idx;
    Ok(Reply::ok())
}
