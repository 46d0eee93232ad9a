//! The list group: pushes and pops at both ends, indexing, ranges, LINSERT, LREM, LTRIM, LPOS,
//! and the moves between lists (LMOVE, RPOPLPUSH, LMPOP).
//!
//! The popping and moving halves ([`pop_range`], [`move_element`], [`mpop`]) are public so
//! the blocking variants (BLPOP, BRPOP, BLMOVE, BRPOPLPUSH, BLMPOP) can serve a client with
//! the same code once the engine can park it.

use super::args;
use super::spec::*;
use crate::db::Entry;
use crate::engine::Ctx;
use crate::error::{self, CmdError, CmdResult};
use crate::protocol::{Bulks, Reply};
use crate::types::list::{End, Side};
use crate::types::{List, Value};

/// The list group's commands.
pub const COMMANDS: &[CommandSpec] = &[
    CommandSpec::new("lindex", 3, &[READONLY], lindex).doc(Group::List, "1.0.0", &[Arg::key("key", 0), Arg::integer("index")], "Returns the element at an index of a list (negative indices count from the tail).").key_specs(&[KeySpec::new(&[RO, ACCESS], index(1), range(0, 1, 0))]),
    CommandSpec::new("linsert", 5, &[WRITE, DENYOOM], linsert).doc(Group::List, "2.2.0", &[Arg::key("key", 0), Arg::oneof("where", &[Arg::token("before", "BEFORE"), Arg::token("after", "AFTER")]), Arg::string("pivot"), Arg::string("element")], "Inserts an element before or after the first occurrence of a pivot element.").key_specs(&[KeySpec::new(&[RW, INSERT], index(1), range(0, 1, 0))]),
    CommandSpec::new("llen", 2, &[READONLY, FAST], llen).doc(Group::List, "1.0.0", &[Arg::key("key", 0)], "Returns the number of elements in a list.").key_specs(&[KeySpec::new(&[RO], index(1), range(0, 1, 0))]),
    CommandSpec::new("lmove", 5, &[WRITE, DENYOOM], lmove).doc(Group::List, "6.2.0", &[Arg::key("source", 0), Arg::key("destination", 1), Arg::oneof("wherefrom", &[Arg::token("left", "LEFT"), Arg::token("right", "RIGHT")]), Arg::oneof("whereto", &[Arg::token("left", "LEFT"), Arg::token("right", "RIGHT")])], "Pops an element from one end of a list and pushes it onto an end of another (or the same) list.").key_specs(&[KeySpec::new(&[RW, ACCESS, DELETE], index(1), range(0, 1, 0)), KeySpec::new(&[RW, INSERT], index(2), range(0, 1, 0))]),
    CommandSpec::new("lmpop", -4, &[WRITE], lmpop).doc(Group::List, "7.0.0", &[Arg::integer("numkeys"), Arg::key("key", 0).multiple(), Arg::oneof("where", &[Arg::token("left", "LEFT"), Arg::token("right", "RIGHT")]), Arg::integer("count").with_token("COUNT").optional()], "Pops elements from the first non-empty list among several keys.").key_specs(&[KeySpec::new(&[RW, ACCESS, DELETE], index(1), keynum(0, 1, 1))]),
    CommandSpec::new("lpop", -2, &[WRITE, FAST], lpop).doc(Group::List, "1.0.0", &[Arg::key("key", 0), Arg::integer("count").optional().since("6.2.0")], "Removes and returns the first element of a list, or the first count elements.").key_specs(&[KeySpec::new(&[RW, ACCESS, DELETE], index(1), range(0, 1, 0))]),
    CommandSpec::new("lpos", -3, &[READONLY], lpos).doc(Group::List, "6.0.6", &[Arg::key("key", 0), Arg::string("element"), Arg::integer("rank").with_token("RANK").optional(), Arg::integer("num-matches").with_token("COUNT").optional(), Arg::integer("len").with_token("MAXLEN").optional()], "Returns the index of matching elements in a list.").key_specs(&[KeySpec::new(&[RO, ACCESS], index(1), range(0, 1, 0))]),
    CommandSpec::new("lpush", -3, &[WRITE, DENYOOM, FAST], lpush).doc(Group::List, "1.0.0", &[Arg::key("key", 0), Arg::string("element").multiple()], "Prepends elements to a list, creating it if needed.").key_specs(&[KeySpec::new(&[RW, INSERT], index(1), range(0, 1, 0))]),
    CommandSpec::new("lpushx", -3, &[WRITE, DENYOOM, FAST], lpushx).doc(Group::List, "2.2.0", &[Arg::key("key", 0), Arg::string("element").multiple()], "Prepends elements to a list only when the list exists.").key_specs(&[KeySpec::new(&[RW, INSERT], index(1), range(0, 1, 0))]),
    CommandSpec::new("lrange", 4, &[READONLY], lrange).doc(Group::List, "1.0.0", &[Arg::key("key", 0), Arg::integer("start"), Arg::integer("stop")], "Returns the elements between two indices of a list, both included.").key_specs(&[KeySpec::new(&[RO, ACCESS], index(1), range(0, 1, 0))]),
    CommandSpec::new("lrem", 4, &[WRITE], lrem).doc(Group::List, "1.0.0", &[Arg::key("key", 0), Arg::integer("count"), Arg::string("element")], "Removes occurrences of an element from a list, from the head, the tail, or all of them.").key_specs(&[KeySpec::new(&[RW, DELETE], index(1), range(0, 1, 0))]),
    CommandSpec::new("lset", 4, &[WRITE, DENYOOM], lset).doc(Group::List, "1.0.0", &[Arg::key("key", 0), Arg::integer("index"), Arg::string("element")], "Replaces the element at an index of a list.").key_specs(&[KeySpec::new(&[RW, UPDATE], index(1), range(0, 1, 0))]),
    CommandSpec::new("ltrim", 4, &[WRITE], ltrim).doc(Group::List, "1.0.0", &[Arg::key("key", 0), Arg::integer("start"), Arg::integer("stop")], "Keeps only the elements between two indices of a list, both included.").key_specs(&[KeySpec::new(&[RW, DELETE], index(1), range(0, 1, 0))]),
    CommandSpec::new("rpop", -2, &[WRITE, FAST], rpop).doc(Group::List, "1.0.0", &[Arg::key("key", 0), Arg::integer("count").optional().since("6.2.0")], "Removes and returns the last element of a list, or the last count elements.").key_specs(&[KeySpec::new(&[RW, ACCESS, DELETE], index(1), range(0, 1, 0))]),
    CommandSpec::new("rpoplpush", 3, &[WRITE, DENYOOM], rpoplpush).doc(Group::List, "1.2.0", &[Arg::key("source", 0), Arg::key("destination", 1)], "Pops the last element of a list and pushes it onto the head of another (or the same) list.").key_specs(&[KeySpec::new(&[RW, ACCESS, DELETE], index(1), range(0, 1, 0)), KeySpec::new(&[RW, INSERT], index(2), range(0, 1, 0))]),
    CommandSpec::new("rpush", -3, &[WRITE, DENYOOM, FAST], rpush).doc(Group::List, "1.0.0", &[Arg::key("key", 0), Arg::string("element").multiple()], "Appends elements to a list, creating it if needed.").key_specs(&[KeySpec::new(&[RW, INSERT], index(1), range(0, 1, 0))]),
    CommandSpec::new("rpushx", -3, &[WRITE, DENYOOM, FAST], rpushx).doc(Group::List, "2.2.0", &[Arg::key("key", 0), Arg::string("element").multiple()], "Appends elements to a list only when the list exists.").key_specs(&[KeySpec::new(&[RW, INSERT], index(1), range(0, 1, 0))]),
];

// ---------------------------------------------------------------------------------------------
// Shared helpers

/// The list in a looked-up entry: None for a missing key, WRONGTYPE for another type.
fn list_in(entry: Option<&mut Entry>) -> Result<Option<&mut List>, CmdError> {
    match entry {
        None => Ok(None),
        Some(e) => match &mut e.value {
            Value::List(l) => Ok(Some(l)),
            _ => Err(error::WRONGTYPE),
        },
    }
}

/// The list stored under `key` right now, without touching access statistics (for the second
/// half of a command that already looked the key up).
fn stored_list<'a>(ctx: &'a mut Ctx, key: &[u8]) -> Option<&'a mut List> {
    let now = ctx.now;
    match ctx.db().get_mut(key, now) {
        Some(Entry {
            value: Value::List(l),
            ..
        }) => Some(l),
        _ => None,
    }
}

/// Deletes `key` when its list has become empty (Redis never keeps an empty list), with the
/// `del` event that follows the command's own.
fn drop_if_empty(ctx: &mut Ctx, key: &[u8]) {
    if stored_list(ctx, key).is_some_and(|l| l.is_empty()) {
        let now = ctx.now;
        ctx.db().remove(key, now);
        ctx.notify('g', "del", key);
    }
}

/// The keyspace event of a push at `end`.
fn push_event(end: End) -> &'static str {
    match end {
        End::Head => "lpush",
        End::Tail => "rpush",
    }
}

/// The keyspace event of a pop from `end`.
fn pop_event(end: End) -> &'static str {
    match end {
        End::Head => "lpop",
        End::Tail => "rpop",
    }
}

/// `LEFT` or `RIGHT` (any case), else a syntax error.
pub fn parse_end(arg: &[u8]) -> Result<End, CmdError> {
    if args::is(arg, "left") {
        Ok(End::Head)
    } else if args::is(arg, "right") {
        Ok(End::Tail)
    } else {
        Err(error::SYNTAX)
    }
}

/// A long in `0..` with one error for both a non-number and a negative (Redis's
/// getPositiveLongFromObjectOrReply with a message).
fn non_negative(arg: &[u8], err: CmdError) -> Result<u64, CmdError> {
    let v = args::int_or(arg, err.clone())?;
    u64::try_from(v).map_err(|_| err)
}

/// A long in `1..` with one error for both a non-number and anything below 1.
fn at_least_one(arg: &[u8], err: CmdError) -> Result<u64, CmdError> {
    match args::int_or(arg, err.clone())? {
        v if v >= 1 => Ok(v as u64),
        _ => Err(err),
    }
}

// ---------------------------------------------------------------------------------------------
// Pops and moves (shared with the blocking variants)

/// Pops up to `count` elements from one end of the list under `key`, in popping order. The key
/// must hold a list (the caller looked it up); it is deleted once empty, WATCHers are told, and
/// each element popped counts as a change.
pub fn pop_range(ctx: &mut Ctx, key: &[u8], end: End, count: u64) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    if let Some(list) = stored_list(ctx, key) {
        let n = usize::try_from(count).unwrap_or(usize::MAX).min(list.len());
        out.reserve(n);
        for _ in 0..n {
            if let Some(v) = list.pop(end) {
                out.push(v);
            }
        }
    }
    if !out.is_empty() {
        // Redis replies with the popped elements before it publishes.
        ctx.reply_point();
        ctx.notify('l', pop_event(end), key);
    }
    drop_if_empty(ctx, key);
    ctx.signal_modified(key);
    ctx.dirty(out.len() as u64);
    out
}

/// Moves one element from an end of `src` to an end of `dst` (LMOVE, RPOPLPUSH) and replies
/// with it, or nil when `src` does not exist. WRONGTYPE when either key holds another type;
/// `src` may equal `dst` (the list rotates).
pub fn move_element(ctx: &mut Ctx, src: &[u8], dst: &[u8], from: End, to: End) -> CmdResult {
    if list_in(ctx.lookup_write(src))?.is_none() {
        return Ok(Reply::Nil);
    }
    list_in(ctx.lookup_write(dst))?;
    let Some(value) = stored_list(ctx, src).and_then(|l| l.pop(from)) else {
        return Ok(Reply::Nil);
    };
    let reply = Reply::bulk(&value);
    // Push before deleting an emptied source, so a one-element rotation keeps its key.
    match stored_list(ctx, dst) {
        Some(l) => l.push(to, value),
        None => {
            let now = ctx.now;
            let mut l = List::new();
            l.push(to, value);
            ctx.db().set(dst, Value::List(Box::new(l)), now);
        }
    }
    ctx.signal_modified(dst);
    ctx.notify('l', push_event(to), dst);
    ctx.reply_point();
    ctx.notify('l', pop_event(from), src);
    drop_if_empty(ctx, src);
    ctx.signal_modified(src);
    ctx.dirty(1);
    Ok(reply)
}

/// Pops up to `count` elements from the first of `keys` holding a non-empty list and replies
/// `[key, [elements]]`; a nil array when every key is missing. WRONGTYPE stops the search at a
/// key of another type met before any list.
/// The pop command of one end of a list, as propagated.
pub fn end_pop_name(end: End) -> &'static [u8] {
    match end {
        End::Head => b"LPOP",
        End::Tail => b"RPOP",
    }
}

pub fn mpop(ctx: &mut Ctx, keys: &[Vec<u8>], end: End, count: u64) -> CmdResult {
    for key in keys {
        match list_in(ctx.lookup_write(key))? {
            Some(l) if !l.is_empty() => {
                let popped = pop_range(ctx, key, end, count);
                // Replayed as the plain pop of what it took (Redis's [LR]POP key count).
                ctx.propagate_as(vec![
                    end_pop_name(end).to_vec(),
                    key.clone(),
                    popped.len().to_string().into_bytes(),
                ]);
                return Ok(Reply::Array(vec![Reply::bulk(key), Reply::bulks(popped)]));
            }
            _ => continue,
        }
    }
    Ok(Reply::NilArray)
}

// ---------------------------------------------------------------------------------------------
// Pushes

/// LPUSH / RPUSH / LPUSHX / RPUSHX: pushes `argv[2..]` in order at one end; with
/// `only_existing` a missing key is left alone (reply 0). Replies the new length.
fn push(ctx: &mut Ctx, argv: &[Vec<u8>], end: End, only_existing: bool) -> CmdResult {
    let key = &argv[1];
    let values = &argv[2..];
    let len = match list_in(ctx.lookup_write(key))? {
        Some(list) => {
            for v in values {
                list.push(end, v.clone());
            }
            list.len()
        }
        None if only_existing => return Ok(Reply::Integer(0)),
        None => {
            let mut list = List::new();
            for v in values {
                list.push(end, v.clone());
            }
            let len = list.len();
            let now = ctx.now;
            ctx.db().set(key, Value::List(Box::new(list)), now);
            len
        }
    };
    ctx.signal_modified(key);
    ctx.reply_point();
    ctx.notify('l', push_event(end), key);
    ctx.dirty(values.len() as u64);
    Ok(Reply::int(len))
}

/// `LPUSH key element [element ...]` → the list's length after pushing each element at the
/// head in turn (so they end up reversed).
fn lpush(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    push(ctx, argv, End::Head, false)
}

/// `RPUSH key element [element ...]` → the list's length after appending.
fn rpush(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    push(ctx, argv, End::Tail, false)
}

/// `LPUSHX key element [element ...]` → the new length, or 0 (nothing done) when the key is
/// missing.
fn lpushx(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    push(ctx, argv, End::Head, true)
}

/// `RPUSHX key element [element ...]` → the new length, or 0 when the key is missing.
fn rpushx(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    push(ctx, argv, End::Tail, true)
}

// ---------------------------------------------------------------------------------------------
// Pops

/// LPOP / RPOP: the count is parsed before the key is looked up, as Redis does, so a bad
/// count is reported even for a missing key or one of another type.
fn pop(ctx: &mut Ctx, argv: &[Vec<u8>], end: End, name: &str) -> CmdResult {
    if argv.len() > 3 {
        return Err(error::wrong_arity(name));
    }
    let count = match argv.get(2) {
        Some(arg) => Some(non_negative(arg, error::POSITIVE)?),
        None => None,
    };
    let key = &argv[1];
    if list_in(ctx.lookup_write(key))?.is_none() {
        return Ok(if count.is_some() {
            Reply::NilArray
        } else {
            Reply::Nil
        });
    }
    match count {
        None => {
            let popped = pop_range(ctx, key, end, 1);
            Ok(Reply::bulk_or_nil(popped.into_iter().next()))
        }
        Some(0) => Ok(Reply::Array(Vec::new())),
        Some(n) => Ok(Reply::bulks(pop_range(ctx, key, end, n))),
    }
}

/// `LPOP key [count]` → the first element (nil when the key is missing); with a count, an
/// array of up to count elements from the head (a nil array when the key is missing).
fn lpop(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    pop(ctx, argv, End::Head, "lpop")
}

/// `RPOP key [count]` → the last element, or with a count an array from the tail; nil (a nil
/// array with a count) when the key is missing.
fn rpop(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    pop(ctx, argv, End::Tail, "rpop")
}

/// `LMPOP numkeys key [key ...] <LEFT | RIGHT> [COUNT count]` → `[key, [elements]]` from the
/// first non-empty list, or a nil array.
fn lmpop(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    let (keys, end, count) = parse_mpop(argv, 1)?;
    mpop(ctx, keys, end, count)
}

/// Parses LMPOP's arguments from `numkeys` at `argv[at]` (BLMPOP has a timeout before it):
/// the keys, the end, and the count (1 when absent).
pub fn parse_mpop(argv: &[Vec<u8>], at: usize) -> Result<(&[Vec<u8>], End, u64), CmdError> {
    let numkeys = at_least_one(&argv[at], error::NUMKEYS_POSITIVE)?;
    // The end's position, unless the keys would run past the arguments (Redis: syntax error).
    let first_key = at + 1;
    let where_at = usize::try_from(numkeys)
        .ok()
        .and_then(|n| first_key.checked_add(n))
        .filter(|&w| w < argv.len())
        .ok_or(error::SYNTAX)?;
    let end = parse_end(&argv[where_at])?;
    let mut count = None;
    let mut i = where_at + 1;
    while i < argv.len() {
        if count.is_none() && args::is(&argv[i], "count") && i + 1 < argv.len() {
            count = Some(at_least_one(&argv[i + 1], error::COUNT_POSITIVE)?);
            i += 2;
        } else {
            return Err(error::SYNTAX);
        }
    }
    Ok((&argv[first_key..where_at], end, count.unwrap_or(1)))
}

/// `LMOVE source destination <LEFT | RIGHT> <LEFT | RIGHT>` → the element moved, or nil when
/// the source is missing.
fn lmove(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    let from = parse_end(&argv[3])?;
    let to = parse_end(&argv[4])?;
    move_element(ctx, &argv[1], &argv[2], from, to)
}

/// `RPOPLPUSH source destination` → the element moved from the source's tail to the
/// destination's head, or nil when the source is missing.
fn rpoplpush(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    move_element(ctx, &argv[1], &argv[2], End::Tail, End::Head)
}

// ---------------------------------------------------------------------------------------------
// Reads

/// `LLEN key` → the number of elements (0 when the key is missing).
fn llen(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    let len = list_in(ctx.lookup_read(&argv[1]))?.map_or(0, |l| l.len());
    Ok(Reply::int(len))
}

/// `LINDEX key index` → the element, or nil when the key is missing or the index is out of
/// range.
fn lindex(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    let Some(list) = list_in(ctx.lookup_read(&argv[1]))? else {
        return Ok(Reply::Nil);
    };
    // Redis looks the key up before it parses the index.
    let index = args::int(&argv[2])?;
    Ok(Reply::bulk_or_nil(list.get(index)))
}

/// `LRANGE key start stop` → the elements from start to stop, both included (negative indices
/// count from the tail; out-of-range ones are clamped).
fn lrange(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    let start = args::int(&argv[2])?;
    let stop = args::int(&argv[3])?;
    let Some(list) = list_in(ctx.lookup_read(&argv[1]))? else {
        return Ok(Reply::Array(Vec::new()));
    };
    Ok(Reply::Bulks(Bulks::from_slices(list.range(start, stop))))
}

/// `LPOS key element [RANK rank] [COUNT num-matches] [MAXLEN len]` → the index of the first
/// match (nil when none); with COUNT an array of up to num-matches indices (0: all).
fn lpos(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    let mut rank: i64 = 1;
    let mut count: Option<u64> = None;
    let mut maxlen: u64 = 0;
    let mut i = 3;
    while i < argv.len() {
        let more = i + 1 < argv.len();
        if args::is(&argv[i], "rank") && more {
            rank = args::int(&argv[i + 1])?;
            if rank == 0 {
                return Err(error::LPOS_RANK_ZERO);
            }
        } else if args::is(&argv[i], "count") && more {
            count = Some(non_negative(&argv[i + 1], error::LPOS_COUNT_NEGATIVE)?);
        } else if args::is(&argv[i], "maxlen") && more {
            maxlen = non_negative(&argv[i + 1], error::LPOS_MAXLEN_NEGATIVE)?;
        } else {
            return Err(error::SYNTAX);
        }
        i += 2;
    }
    let Some(list) = list_in(ctx.lookup_read(&argv[1]))? else {
        return Ok(if count.is_some() {
            Reply::Array(Vec::new())
        } else {
            Reply::Nil
        });
    };
    match count {
        Some(n) => {
            let found = list.positions(&argv[2], rank, n, maxlen);
            Ok(Reply::Array(found.into_iter().map(Reply::int).collect()))
        }
        None => {
            let found = list.positions(&argv[2], rank, 1, maxlen);
            Ok(found.first().map_or(Reply::Nil, |&p| Reply::int(p)))
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Changes in place

/// `LSET key index element` → OK; `ERR no such key` when the key is missing, `ERR index out
/// of range` past either end.
fn lset(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    let key = &argv[1];
    let Some(list) = list_in(ctx.lookup_write(key))? else {
        return Err(error::NO_SUCH_KEY);
    };
    let index = args::int(&argv[2])?;
    if !list.set(index, argv[3].clone()) {
        return Err(error::INDEX_OUT_OF_RANGE);
    }
    ctx.signal_modified(key);
    ctx.reply_point();
    ctx.notify('l', "lset", key);
    ctx.dirty(1);
    Ok(Reply::ok())
}

/// `LINSERT key <BEFORE | AFTER> pivot element` → the new length, -1 when the pivot is not
/// found, 0 when the key is missing.
fn linsert(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    let side = if args::is(&argv[2], "after") {
        Side::After
    } else if args::is(&argv[2], "before") {
        Side::Before
    } else {
        return Err(error::SYNTAX);
    };
    let key = &argv[1];
    let Some(list) = list_in(ctx.lookup_write(key))? else {
        return Ok(Reply::Integer(0));
    };
    if !list.insert(side, &argv[3], argv[4].clone()) {
        return Ok(Reply::Integer(-1));
    }
    let len = list.len();
    ctx.signal_modified(key);
    ctx.notify('l', "linsert", key);
    ctx.dirty(1);
    Ok(Reply::int(len))
}

/// `LREM key count element` → how many were removed: count > 0 from the head, < 0 from the
/// tail, 0 all occurrences.
fn lrem(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    let count = args::int(&argv[2])?;
    let key = &argv[1];
    let Some(list) = list_in(ctx.lookup_write(key))? else {
        return Ok(Reply::Integer(0));
    };
    let removed = list.remove(count, &argv[3]);
    if removed > 0 {
        ctx.signal_modified(key);
        ctx.notify('l', "lrem", key);
        ctx.dirty(removed as u64);
    }
    drop_if_empty(ctx, key);
    Ok(Reply::int(removed))
}

/// `LTRIM key start stop` → OK, keeping only the elements from start to stop (an empty range
/// deletes the key).
fn ltrim(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    let start = args::int(&argv[2])?;
    let stop = args::int(&argv[3])?;
    let key = &argv[1];
    let Some(list) = list_in(ctx.lookup_write(key))? else {
        return Ok(Reply::ok());
    };
    let (head, tail) = list.trim(start, stop);
    ctx.notify('l', "ltrim", key);
    drop_if_empty(ctx, key);
    ctx.signal_modified(key);
    ctx.dirty((head + tail) as u64);
    Ok(Reply::ok())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{Engine, EngineOptions};

    const NOW: i64 = 1_700_000_000_000;

    fn cmd(eng: &mut Engine, c: u64, line: &str) -> Reply {
        let argv: Vec<Vec<u8>> = line.split(' ').map(|a| a.as_bytes().to_vec()).collect();
        eng.execute(c, &argv, NOW).expect("a reply")
    }

    #[test]
    fn emptied_lists_disappear_and_rotation_keeps_the_key() {
        let mut e = Engine::new(EngineOptions::default());
        let c = e.open_client(NOW);
        cmd(&mut e, c, "RPUSH l a");
        cmd(&mut e, c, "LMOVE l l LEFT RIGHT");
        assert!(e.dbs[0].peek(b"l").is_some());
        cmd(&mut e, c, "LMOVE l m LEFT RIGHT");
        assert!(e.dbs[0].peek(b"l").is_none());
        assert_eq!(
            e.dbs[0].peek(b"m").map(|x| x.value.encoding_name()),
            Some("quicklist")
        );
        cmd(&mut e, c, "LTRIM m 1 0");
        assert!(e.dbs[0].peek(b"m").is_none());
        let dirty = e.dirty;
        cmd(&mut e, c, "RPUSH n a b c");
        assert_eq!(e.dirty - dirty, 3);
        assert_eq!(
            cmd(&mut e, c, "LPOP n 9223372036854775807"),
            Reply::bulks(["a", "b", "c"])
        );
        assert!(e.dbs[0].peek(b"n").is_none());
    }
}
