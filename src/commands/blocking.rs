//! The blocking list commands: BLPOP, BRPOP, BLMOVE, BRPOPLPUSH, BLMPOP.
//!
//! Each runs its non-blocking twin when there is data. Otherwise it blocks the client through
//! the engine ([`Ctx::block_on`]), which runs the command again whenever one of its keys
//! changes, first blocked first, and answers a nil array when the timeout passes. Inside EXEC
//! it answers the nil array at once, as Redis does.

use super::args;
use super::lists::{move_element, mpop, parse_end, parse_mpop};
use super::spec::*;
use crate::engine::Ctx;
use crate::error::{self, CmdError, CmdResult};
use crate::protocol::Reply;
use crate::types::list::End;
use crate::types::Value;

/// The blocking list commands.
pub const COMMANDS: &[CommandSpec] = &[
    CommandSpec::new("blpop", -3, &[WRITE, NOSCRIPT, BLOCKING], blpop).key_specs(&[KeySpec::new(&[RW, ACCESS, DELETE], index(1), range(-2, 1, 0))]).doc(Group::List, "2.0.0", &[Arg::key("key", 0).multiple(), Arg::double("timeout")], "Pops the head of the first non-empty list, waiting up to timeout seconds (0: for ever)."),
    CommandSpec::new("brpop", -3, &[WRITE, NOSCRIPT, BLOCKING], brpop).key_specs(&[KeySpec::new(&[RW, ACCESS, DELETE], index(1), range(-2, 1, 0))]).doc(Group::List, "2.0.0", &[Arg::key("key", 0).multiple(), Arg::double("timeout")], "Pops the tail of the first non-empty list, waiting up to timeout seconds (0: for ever)."),
    CommandSpec::new("blmove", 6, &[WRITE, DENYOOM, NOSCRIPT, BLOCKING], blmove).key_specs(&[KeySpec::new(&[RW, ACCESS, DELETE], index(1), range(0, 1, 0)), KeySpec::new(&[RW, INSERT], index(2), range(0, 1, 0))]).doc(Group::List, "6.2.0", &[Arg::key("source", 0), Arg::key("destination", 1), Arg::oneof("wherefrom", &[Arg::token("left", "LEFT"), Arg::token("right", "RIGHT")]), Arg::oneof("whereto", &[Arg::token("left", "LEFT"), Arg::token("right", "RIGHT")]), Arg::double("timeout")], "Moves an element between lists, waiting for the source to have one."),
    CommandSpec::new("brpoplpush", 4, &[WRITE, DENYOOM, NOSCRIPT, BLOCKING], brpoplpush).key_specs(&[KeySpec::new(&[RW, ACCESS, DELETE], index(1), range(0, 1, 0)), KeySpec::new(&[RW, INSERT], index(2), range(0, 1, 0))]).doc(Group::List, "2.2.0", &[Arg::key("source", 0), Arg::key("destination", 1), Arg::double("timeout")], "Moves the source's tail to the destination's head, waiting for the source to have one."),
    CommandSpec::new("blmpop", -5, &[WRITE, BLOCKING], blmpop).key_specs(&[KeySpec::new(&[RW, ACCESS, DELETE], index(2), keynum(0, 1, 1))]).doc(Group::List, "7.0.0", &[Arg::double("timeout"), Arg::integer("numkeys"), Arg::key("key", 0).multiple(), Arg::oneof("where", &[Arg::token("left", "LEFT"), Arg::token("right", "RIGHT")]), Arg::integer("count").with_token("COUNT").optional()], "Pops elements from the first non-empty list among several, waiting for one."),
];

/// Whether `key` holds a non-empty list; WRONGTYPE for another type.
fn has_elements(ctx: &mut Ctx, key: &[u8]) -> Result<bool, CmdError> {
    match ctx.lookup_write(key) {
        None => Ok(false),
        Some(e) => match &e.value {
            Value::List(l) => Ok(!l.is_empty()),
            _ => Err(error::WRONGTYPE),
        },
    }
}

/// The keys to try, in order: all of them on the first run; when the engine runs a blocked
/// command again, only the key whose change woke it (Redis serves each ready key in the order
/// they became ready, so a later-ready key must not be taken first).
pub(super) fn serve_order<'a>(ctx: &Ctx, keys: &'a [Vec<u8>]) -> &'a [Vec<u8>] {
    match &ctx.ready_key {
        Some(ready) => keys
            .iter()
            .position(|k| k == ready)
            .map_or(&keys[..0], |i| &keys[i..=i]),
        None => keys,
    }
}

/// Blocks on `keys` until `deadline` when allowed; otherwise answers the timeout reply now.
fn wait(ctx: &mut Ctx, keys: Vec<Vec<u8>>, deadline: Option<i64>) -> CmdResult {
    if ctx.can_block() {
        ctx.block_on(keys, deadline, Reply::NilArray);
    }
    Ok(Reply::NilArray)
}

fn pop_either(ctx: &mut Ctx, argv: &[Vec<u8>], end: End) -> CmdResult {
    let deadline = args::block_deadline(&argv[argv.len() - 1], ctx.now)?;
    let keys = &argv[1..argv.len() - 1];
    for key in serve_order(ctx, keys) {
        if has_elements(ctx, key)? {
            // The one-key form of LMPOP's reply is exactly BLPOP's [key, element].
            let reply = mpop(ctx, std::slice::from_ref(key), end, 1)?;
            ctx.propagate_as(vec![super::lists::end_pop_name(end).to_vec(), key.clone()]);
            return Ok(match reply {
                Reply::Array(mut parts) if parts.len() == 2 => match parts.pop() {
                    Some(Reply::Array(mut elems)) if elems.len() == 1 => {
                        Reply::Array(vec![parts.remove(0), elems.remove(0)])
                    }
                    _ => Reply::NilArray,
                },
                other => other,
            });
        }
    }
    wait(ctx, keys.to_vec(), deadline)
}

/// `BLPOP key [key ...] timeout` → `[key, element]`, or a nil array on timeout.
fn blpop(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    pop_either(ctx, argv, End::Head)
}

/// `BRPOP key [key ...] timeout` → `[key, element]`, or a nil array on timeout.
fn brpop(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    pop_either(ctx, argv, End::Tail)
}

/// BLMOVE and BRPOPLPUSH: `typed` holds BLMOVE's two end arguments as sent (None for
/// BRPOPLPUSH).
fn move_blocking(
    ctx: &mut Ctx,
    src: &[u8],
    dst: &[u8],
    (from, to): (End, End),
    typed: Option<(&[u8], &[u8])>,
    timeout: &[u8],
) -> CmdResult {
    let deadline = args::block_deadline(timeout, ctx.now)?;
    if has_elements(ctx, src)? {
        let reply = move_element(ctx, src, dst, from, to)?;
        // Replayed as the non-blocking move: with the ends as sent, or, served from a wait,
        // spelled in lower case as Redis spells them then.
        let side = |e: End| -> Vec<u8> {
            match e {
                End::Head => b"left".to_vec(),
                End::Tail => b"right".to_vec(),
            }
        };
        let prop = match typed {
            None => vec![b"RPOPLPUSH".to_vec(), src.to_vec(), dst.to_vec()],
            Some((f, t)) => {
                let (f, t) = if ctx.ready_key.is_some() {
                    (side(from), side(to))
                } else {
                    (f.to_vec(), t.to_vec())
                };
                vec![b"LMOVE".to_vec(), src.to_vec(), dst.to_vec(), f, t]
            }
        };
        ctx.propagate_as(prop);
        return Ok(reply);
    }
    if !ctx.can_block() {
        // Inside EXEC Redis answers a nil bulk here, where a wait that times out answers a
        // nil array.
        return Ok(Reply::Nil);
    }
    wait(ctx, vec![src.to_vec()], deadline)
}

/// `BLMOVE source destination <LEFT | RIGHT> <LEFT | RIGHT> timeout` → the element moved, or
/// a nil array on timeout (a nil bulk inside EXEC).
fn blmove(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    let from = parse_end(&argv[3])?;
    let to = parse_end(&argv[4])?;
    let typed = Some((argv[3].as_slice(), argv[4].as_slice()));
    move_blocking(ctx, &argv[1], &argv[2], (from, to), typed, &argv[5])
}

/// `BRPOPLPUSH source destination timeout` → the element moved, or a nil array on timeout (a
/// nil bulk inside EXEC).
fn brpoplpush(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    let ends = (End::Tail, End::Head);
    move_blocking(ctx, &argv[1], &argv[2], ends, None, &argv[3])
}

/// `BLMPOP timeout numkeys key [key ...] <LEFT | RIGHT> [COUNT count]` → `[key, [elements]]`,
/// or a nil array on timeout.
fn blmpop(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    let deadline = args::block_deadline(&argv[1], ctx.now)?;
    let (keys, end, count) = parse_mpop(argv, 2)?;
    for key in serve_order(ctx, keys) {
        if has_elements(ctx, key)? {
            return mpop(ctx, std::slice::from_ref(key), end, count);
        }
    }
    wait(ctx, keys.to_vec(), deadline)
}
