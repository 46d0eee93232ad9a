//! The set group: SADD, SREM, SCARD, SISMEMBER, SMISMEMBER, SMEMBERS, SMOVE, SPOP,
//! SRANDMEMBER, SINTER, SINTERCARD, SINTERSTORE, SUNION, SUNIONSTORE, SDIFF, SDIFFSTORE, SSCAN.
//!
//! Replies list members in the order Redis walks the set it answers from, so intset-encoded
//! results come out in ascending numeric order exactly as Redis sends them. Results of set
//! algebra are built the way Redis builds them (a fresh intset that converts when it must), so
//! both their order and the encoding a *STORE command leaves behind match.

use std::borrow::Cow;

use super::spec::*;
use super::{args, scan};
use crate::db::{Db, Entry};
use crate::engine::Ctx;
use crate::error::{self, CmdError, CmdResult};
use crate::protocol::Reply;
use crate::types::{Set, Value};
use crate::util::{glob::glob_match, parse_i64};

/// The set group's commands.
pub const COMMANDS: &[CommandSpec] = &[
    CommandSpec::new("sadd", -3, &[WRITE, DENYOOM, FAST], sadd)
        .doc(
            Group::Set,
            "1.0.0",
            &[Arg::key("key", 0), Arg::string("member").multiple()],
            "Adds members to a set, creating it if needed; replies how many were new.",
        )
        .key_specs(&[KeySpec::new(&[RW, INSERT], index(1), range(0, 1, 0))])
        .complexity("O(1) per element, O(N) for N elements."),
    CommandSpec::new("srem", -3, &[WRITE, FAST], srem)
        .doc(
            Group::Set,
            "1.0.0",
            &[Arg::key("key", 0), Arg::string("member").multiple()],
            "Removes members from a set; replies how many were there.",
        )
        .key_specs(&[KeySpec::new(&[RW, DELETE], index(1), range(0, 1, 0))])
        .complexity("O(N), N being the members named."),
    CommandSpec::new("scard", 2, &[READONLY, FAST], scard)
        .doc(
            Group::Set,
            "1.0.0",
            &[Arg::key("key", 0)],
            "Replies the number of members of a set.",
        )
        .key_specs(&[KeySpec::new(&[RO], index(1), range(0, 1, 0))])
        .complexity("O(1)"),
    CommandSpec::new("sismember", 3, &[READONLY, FAST], sismember)
        .doc(
            Group::Set,
            "1.0.0",
            &[Arg::key("key", 0), Arg::string("member")],
            "Tells whether a value belongs to a set (1 or 0).",
        )
        .key_specs(&[KeySpec::new(&[RO], index(1), range(0, 1, 0))])
        .complexity("O(1)"),
    CommandSpec::new("smismember", -3, &[READONLY, FAST], smismember)
        .doc(
            Group::Set,
            "6.2.0",
            &[Arg::key("key", 0), Arg::string("member").multiple()],
            "Tells, for each value given, whether it belongs to a set.",
        )
        .key_specs(&[KeySpec::new(&[RO, ACCESS], index(1), range(0, 1, 0))])
        .complexity("O(N), N being the members checked."),
    CommandSpec::new("smembers", 2, &[READONLY], smembers)
        .doc(
            Group::Set,
            "1.0.0",
            &[Arg::key("key", 0)],
            "Lists every member of a set.",
        )
        .tips(&["nondeterministic_output_order"])
        .key_specs(&[KeySpec::new(&[RO, ACCESS], index(1), range(0, 1, 0))])
        .complexity("O(N), N being the set's size."),
    CommandSpec::new("smove", 4, &[WRITE, FAST], smove)
        .doc(
            Group::Set,
            "1.0.0",
            &[
                Arg::key("source", 0),
                Arg::key("destination", 1),
                Arg::string("member"),
            ],
            "Moves a member from one set to another.",
        )
        .key_specs(&[
            KeySpec::new(&[RW, ACCESS, DELETE], index(1), range(0, 1, 0)),
            KeySpec::new(&[RW, INSERT], index(2), range(0, 1, 0)),
        ])
        .complexity("O(1)"),
    CommandSpec::new("spop", -2, &[WRITE, FAST], spop)
        .doc(
            Group::Set,
            "1.0.0",
            &[
                Arg::key("key", 0),
                Arg::integer("count").optional().since("3.2.0"),
            ],
            "Removes and replies one or more randomly chosen members of a set.",
        )
        .tips(&["nondeterministic_output"])
        .key_specs(&[KeySpec::new(
            &[RW, ACCESS, DELETE],
            index(1),
            range(0, 1, 0),
        )])
        .complexity("O(1) without a count, O(N) with one, N being the count."),
    CommandSpec::new("srandmember", -2, &[READONLY], srandmember)
        .doc(
            Group::Set,
            "1.0.0",
            &[
                Arg::key("key", 0),
                Arg::integer("count").optional().since("2.6.0"),
            ],
            "Replies randomly chosen members of a set without removing them; a negative count \
         allows repeats.",
        )
        .tips(&["nondeterministic_output"])
        .key_specs(&[KeySpec::new(&[RO, ACCESS], index(1), range(0, 1, 0))])
        .complexity("O(1) without a count, O(N) with one, N being the count's absolute value."),
    CommandSpec::new("sinter", -2, &[READONLY], sinter)
        .doc(
            Group::Set,
            "1.0.0",
            &[Arg::key("key", 0).multiple()],
            "Lists the members common to all the given sets.",
        )
        .tips(&["nondeterministic_output_order"])
        .key_specs(&[KeySpec::new(&[RO, ACCESS], index(1), range(-1, 1, 0))])
        .complexity("O(N*M) at worst: N the smallest set's size, M the number of sets."),
    CommandSpec::new("sintercard", -3, &[READONLY], sintercard)
        .doc(
            Group::Set,
            "7.0.0",
            &[
                Arg::integer("numkeys"),
                Arg::key("key", 0).multiple(),
                Arg::integer("limit").with_token("LIMIT").optional(),
            ],
            "Counts the members common to all the given sets, stopping early at LIMIT.",
        )
        .key_specs(&[KeySpec::new(&[RO, ACCESS], index(1), keynum(0, 1, 1))])
        .complexity("O(N*M) at worst: N the smallest set's size, M the number of sets."),
    CommandSpec::new("sinterstore", -3, &[WRITE, DENYOOM], sinterstore)
        .doc(
            Group::Set,
            "1.0.0",
            &[Arg::key("destination", 0), Arg::key("key", 1).multiple()],
            "Stores the intersection of the given sets in destination; replies its size.",
        )
        .key_specs(&[
            KeySpec::new(&[RW, UPDATE], index(1), range(0, 1, 0)),
            KeySpec::new(&[RO, ACCESS], index(2), range(-1, 1, 0)),
        ])
        .complexity("O(N*M) at worst: N the smallest set's size, M the number of sets."),
    CommandSpec::new("sunion", -2, &[READONLY], sunion)
        .doc(
            Group::Set,
            "1.0.0",
            &[Arg::key("key", 0).multiple()],
            "Lists the members found in any of the given sets.",
        )
        .tips(&["nondeterministic_output_order"])
        .key_specs(&[KeySpec::new(&[RO, ACCESS], index(1), range(-1, 1, 0))])
        .complexity("O(N), N being the members of all the sets together."),
    CommandSpec::new("sunionstore", -3, &[WRITE, DENYOOM], sunionstore)
        .doc(
            Group::Set,
            "1.0.0",
            &[Arg::key("destination", 0), Arg::key("key", 1).multiple()],
            "Stores the union of the given sets in destination; replies its size.",
        )
        .key_specs(&[
            KeySpec::new(&[OW, UPDATE], index(1), range(0, 1, 0)),
            KeySpec::new(&[RO, ACCESS], index(2), range(-1, 1, 0)),
        ])
        .complexity("O(N), N being the members of all the sets together."),
    CommandSpec::new("sdiff", -2, &[READONLY], sdiff)
        .doc(
            Group::Set,
            "1.0.0",
            &[Arg::key("key", 0).multiple()],
            "Lists the members of the first set found in none of the others.",
        )
        .tips(&["nondeterministic_output_order"])
        .key_specs(&[KeySpec::new(&[RO, ACCESS], index(1), range(-1, 1, 0))])
        .complexity("O(N), N being the members of all the sets together."),
    CommandSpec::new("sdiffstore", -3, &[WRITE, DENYOOM], sdiffstore)
        .doc(
            Group::Set,
            "1.0.0",
            &[Arg::key("destination", 0), Arg::key("key", 1).multiple()],
            "Stores the difference of the first set and the others in destination; replies its \
         size.",
        )
        .key_specs(&[
            KeySpec::new(&[OW, UPDATE], index(1), range(0, 1, 0)),
            KeySpec::new(&[RO, ACCESS], index(2), range(-1, 1, 0)),
        ])
        .complexity("O(N), N being the members of all the sets together."),
    CommandSpec::new("sscan", -3, &[READONLY], sscan)
        .doc(
            Group::Set,
            "2.8.0",
            &[
                Arg::key("key", 0),
                Arg::integer("cursor"),
                Arg::pattern("pattern").with_token("MATCH").optional(),
                Arg::integer("count").with_token("COUNT").optional(),
            ],
            "Walks the members of a set a few at a time with a cursor.",
        )
        .tips(&["nondeterministic_output"])
        .key_specs(&[KeySpec::new(&[RO, ACCESS], index(1), range(0, 1, 0))])
        .complexity(
            "O(1) per call; O(N) for a whole walk back to cursor 0, N being the collection's size.",
        ),
];

/// Longest reply SRANDMEMBER builds for a negative count. Redis has no limit and would try to
/// build a reply of any length until it runs out of memory; the playground refuses instead.
const MAX_RANDOM_REPLY: u64 = 1_000_000;

/// SPOP switches from popping members one by one to rebuilding the set from the survivors when
/// fewer than one in this many members would stay (Redis's SPOP_MOVE_STRATEGY_MUL). It shows,
/// because the rebuilt set picks its encoding afresh.
const SPOP_REBUILD_RATIO: u64 = 5;

/// SRANDMEMBER samples by deletion from a copy when the count is above a third of the set.
const SRANDMEMBER_COPY_RATIO: u64 = 3;

/// The set stored in a looked-up entry: None for a missing key, WRONGTYPE for another type.
fn set_in(entry: Option<&mut Entry>) -> Result<Option<&mut Set>, CmdError> {
    match entry {
        None => Ok(None),
        Some(e) => match &mut e.value {
            Value::Set(s) => Ok(Some(s)),
            _ => Err(error::WRONGTYPE),
        },
    }
}

/// The set under `key` for modification once the command's own lookup has run (so the access
/// is not recorded twice).
fn stored_set_mut<'a>(db: &'a mut Db, key: &[u8], now: i64) -> Option<&'a mut Set> {
    match db.get_mut(key, now).map(|e| &mut e.value) {
        Some(Value::Set(s)) => Some(s),
        _ => None,
    }
}

/// The set under `key`, without any side effect.
fn peek_set<'a>(db: &'a Db, key: &[u8]) -> Option<&'a Set> {
    match db.peek(key).map(|e| &e.value) {
        Some(Value::Set(s)) => Some(s),
        _ => None,
    }
}

fn bulk_cow(m: Cow<'_, [u8]>) -> Reply {
    Reply::Bulk(m.into_owned())
}

/// A RESP3 set (an array in RESP2) of the members of `s`, in walk order.
fn set_reply(s: &Set) -> Reply {
    Reply::Set(s.iter().map(bulk_cow).collect())
}

/// What a key held when a command looked it up.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Missing,
    Set,
    Other,
}

fn kind_of(entry: Option<&mut Entry>) -> Kind {
    match entry.map(|e| &e.value) {
        None => Kind::Missing,
        Some(Value::Set(_)) => Kind::Set,
        Some(_) => Kind::Other,
    }
}

/// `SADD key member [member ...]` → integer: how many members were added.
fn sadd(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    let key = &argv[1];
    let max = ctx.eng.config.set_max_intset_entries;
    let now = ctx.now;
    let add_all = |set: &mut Set| argv[2..].iter().filter(|m| set.add(m, max)).count();
    let added = match set_in(ctx.lookup_write(key))? {
        Some(set) => add_all(set),
        None => {
            // A new set's encoding follows its first member, as Redis creates it.
            let mut set = Set::for_member(&argv[2]);
            let n = add_all(&mut set);
            ctx.db().set(key, Value::Set(Box::new(set)), now);
            n
        }
    };
    if added > 0 {
        ctx.signal_modified(key);
        ctx.notify('s', "sadd", key);
    }
    ctx.dirty(added as u64);
    Ok(Reply::int(added))
}

/// `SREM key member [member ...]` → integer: how many members were removed. The key goes
/// when the set empties.
fn srem(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    let key = &argv[1];
    let now = ctx.now;
    let Some(set) = set_in(ctx.lookup_write(key))? else {
        return Ok(Reply::Integer(0));
    };
    let mut removed = 0u64;
    for m in &argv[2..] {
        if set.remove(m) {
            removed += 1;
            if set.is_empty() {
                break;
            }
        }
    }
    let emptied = set.is_empty();
    if removed > 0 {
        ctx.notify('s', "srem", key);
    }
    if emptied {
        ctx.db().remove(key, now);
        ctx.notify('g', "del", key);
    }
    if removed > 0 {
        ctx.signal_modified(key);
        ctx.dirty(removed);
    }
    Ok(Reply::int(removed))
}

/// `SCARD key` → integer: the number of members (0 for a missing key).
fn scard(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    let n = set_in(ctx.lookup_read(&argv[1]))?.map_or(0, |s| s.len());
    Ok(Reply::int(n))
}

/// `SISMEMBER key member` → integer 1 or 0.
fn sismember(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    let found = set_in(ctx.lookup_read(&argv[1]))?.is_some_and(|s| s.contains(&argv[2]));
    Ok(Reply::Integer(i64::from(found)))
}

/// `SMISMEMBER key member [member ...]` → array of integers 1 or 0, one per member.
fn smismember(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    let set = set_in(ctx.lookup_read(&argv[1]))?;
    let flags = argv[2..]
        .iter()
        .map(|m| Reply::Integer(i64::from(set.as_ref().is_some_and(|s| s.contains(m)))))
        .collect();
    Ok(Reply::Array(flags))
}

/// `SMEMBERS key` → set of bulk strings (empty for a missing key).
fn smembers(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    Ok(match set_in(ctx.lookup_read(&argv[1]))? {
        Some(s) => set_reply(s),
        None => Reply::Set(Vec::new()),
    })
}

/// `SMOVE source destination member` → integer 1 when moved, 0 when `member` was not in
/// `source` or `source` does not exist (whatever `destination` holds then).
fn smove(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    let (src, dst, member) = (&argv[1], &argv[2], &argv[3]);
    let src_kind = kind_of(ctx.lookup_write(src));
    let dst_kind = kind_of(ctx.lookup_write(dst));
    if src_kind == Kind::Missing {
        return Ok(Reply::Integer(0));
    }
    if src_kind == Kind::Other || dst_kind == Kind::Other {
        return Err(error::WRONGTYPE);
    }
    let now = ctx.now;
    if src == dst {
        let found = peek_set(ctx.db(), src).is_some_and(|s| s.contains(member));
        return Ok(Reply::Integer(i64::from(found)));
    }
    let max = ctx.eng.config.set_max_intset_entries;
    let Some(source) = stored_set_mut(ctx.db(), src, now) else {
        return Ok(Reply::Integer(0));
    };
    if !source.remove(member) {
        return Ok(Reply::Integer(0));
    }
    let emptied = source.is_empty();
    ctx.notify('s', "srem", src);
    if emptied {
        ctx.db().remove(src, now);
        ctx.notify('g', "del", src);
    }
    if dst_kind == Kind::Missing {
        ctx.db()
            .set(dst, Value::Set(Box::new(Set::for_member(member))), now);
    }
    ctx.signal_modified(src);
    ctx.dirty(1);
    // The destination changed only if it did not hold the member already: WATCHers of it
    // (and tracking clients) are told only then, as Redis does.
    if stored_set_mut(ctx.db(), dst, now).is_some_and(|d| d.add(member, max)) {
        ctx.dirty(1);
        ctx.signal_modified(dst);
        ctx.notify('s', "sadd", dst);
    }
    Ok(Reply::Integer(1))
}

/// `SPOP key` → bulk string (nil for a missing key); `SPOP key count` → set of up to `count`
/// removed members. The key goes when the set empties.
fn spop(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    match argv.len() {
        2 => spop_one(ctx, &argv[1]),
        3 => spop_count(ctx, &argv[1], &argv[2]),
        _ => Err(error::SYNTAX),
    }
}

fn spop_one(ctx: &mut Ctx, key: &[u8]) -> CmdResult {
    let now = ctx.now;
    if set_in(ctx.lookup_write(key))?.is_none() {
        return Ok(Reply::Nil);
    }
    let eng = &mut *ctx.eng;
    let Some(set) = stored_set_mut(&mut eng.dbs[ctx.db], key, now) else {
        return Ok(Reply::Nil);
    };
    let popped = set.pop_random(&mut eng.rng);
    let emptied = set.is_empty();
    ctx.notify('s', "spop", key);
    // Redis replies between its `spop` and `del` events.
    ctx.reply_point();
    if emptied {
        ctx.db().remove(key, now);
        ctx.notify('g', "del", key);
    }
    ctx.signal_modified(key);
    ctx.dirty(1);
    if let Some(m) = &popped {
        // Replayed as the removal of the member drawn here.
        ctx.propagate_as(vec![b"SREM".to_vec(), key.to_vec(), m.clone()]);
    }
    Ok(Reply::bulk_or_nil(popped))
}

fn spop_count(ctx: &mut Ctx, key: &[u8], count_arg: &[u8]) -> CmdResult {
    // Redis reads the count before the key, and calls anything but a count "out of range".
    let count = parse_i64(count_arg)
        .and_then(|n| u64::try_from(n).ok())
        .ok_or(error::POSITIVE)?;
    let now = ctx.now;
    let max = ctx.eng.config.set_max_intset_entries;
    let Some(set) = set_in(ctx.lookup_write(key))? else {
        return Ok(Reply::Set(Vec::new()));
    };
    if count == 0 {
        return Ok(Reply::Set(Vec::new()));
    }
    let size = set.len() as u64;
    if count >= size {
        // The whole set, listed as Redis lists a union of it (an intset again when it can be).
        let all = union(&[&*set], max);
        ctx.db().remove(key, now);
        ctx.notify('s', "spop", key);
        ctx.reply_point();
        ctx.notify('g', "del", key);
        ctx.signal_modified(key);
        ctx.dirty(size);
        ctx.propagate_as(vec![b"DEL".to_vec(), key.to_vec()]);
        return Ok(set_reply(&all));
    }
    let eng = &mut *ctx.eng;
    let Some(set) = stored_set_mut(&mut eng.dbs[ctx.db], key, now) else {
        return Ok(Reply::Set(Vec::new()));
    };
    let remaining = size - count;
    let popped: Vec<Reply> = if remaining * SPOP_REBUILD_RATIO > count {
        (0..count)
            .filter_map(|_| set.pop_random(&mut eng.rng))
            .map(Reply::Bulk)
            .collect()
    } else {
        // Few survivors: move them to a fresh set (its encoding chosen by the first one moved)
        // and hand out what is left of the old one, in its order.
        let mut rebuilt: Option<Set> = None;
        for _ in 0..remaining {
            if let Some(m) = set.pop_random(&mut eng.rng) {
                rebuilt
                    .get_or_insert_with(|| Set::for_member(&m))
                    .add(&m, max);
            }
        }
        let out = set.iter().map(bulk_cow).collect();
        *set = rebuilt.unwrap_or_default();
        out
    };
    ctx.signal_modified(key);
    ctx.notify('s', "spop", key);
    ctx.dirty(count);
    // Replayed as one SREM per member drawn (a transaction, being several commands).
    ctx.no_propagate = true;
    for m in &popped {
        if let Reply::Bulk(m) = m {
            ctx.also_propagate(vec![b"SREM".to_vec(), key.to_vec(), m.clone()]);
        }
    }
    Ok(Reply::Set(popped))
}

/// `SRANDMEMBER key` → bulk string (nil for a missing key); `SRANDMEMBER key count` → array of
/// up to `count` distinct members, or of exactly `-count` members with repeats when negative.
fn srandmember(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    match argv.len() {
        2 => {
            if set_in(ctx.lookup_read(&argv[1]))?.is_none() {
                return Ok(Reply::Nil);
            }
            // The set and the generator are separate parts of the engine: borrow both.
            let eng = &mut *ctx.eng;
            let set = peek_set(&eng.dbs[ctx.db], &argv[1]);
            Ok(Reply::bulk_or_nil(set.and_then(|s| s.random(&mut eng.rng))))
        }
        3 => srandmember_count(ctx, &argv[1], &argv[2]),
        _ => Err(error::SYNTAX),
    }
}

fn srandmember_count(ctx: &mut Ctx, key: &[u8], count_arg: &[u8]) -> CmdResult {
    let n = args::int(count_arg)?;
    if n == i64::MIN {
        return Err(error::RANGE_LONG);
    }
    let (count, distinct) = (n.unsigned_abs(), n >= 0);
    if set_in(ctx.lookup_read(key))?.is_none() || count == 0 {
        return Ok(Reply::Array(Vec::new()));
    }
    if !distinct && count > MAX_RANDOM_REPLY {
        // Each element at least an empty bulk string.
        return ctx.reply_too_long(count, 6, error::RANDOM_REPLY_TOO_LONG);
    }
    let eng = &mut *ctx.eng;
    let Some(set) = peek_set(&eng.dbs[ctx.db], key) else {
        return Ok(Reply::Array(Vec::new()));
    };
    let rng = &mut eng.rng;
    let size = set.len() as u64;
    if !distinct || count == 1 {
        let picks = (0..count)
            .filter_map(|_| set.random(rng))
            .map(bulk_cow)
            .collect();
        return Ok(Reply::Array(picks));
    }
    if count >= size {
        return Ok(Reply::Array(set.iter().map(bulk_cow).collect()));
    }
    // count < size from here on, so every allocation below is bounded by the set's size.
    let picks: Vec<Vec<u8>> = if count * SRANDMEMBER_COPY_RATIO > size {
        let mut all: Vec<Vec<u8>> = set.iter().map(Cow::into_owned).collect();
        while all.len() as u64 > count {
            let i = rng.below(all.len() as u64) as usize;
            all.swap_remove(i);
        }
        all
    } else {
        // Few wanted from many: draw until enough distinct ones turned up.
        let mut seen = Set::new_table();
        let mut out = Vec::with_capacity(count as usize);
        while (out.len() as u64) < count {
            if let Some(m) = set.random(rng) {
                if seen.add(&m, 0) {
                    out.push(m.into_owned());
                }
            }
        }
        out
    };
    Ok(Reply::bulks(picks))
}

/// Looks every source key up in order as a read (the *STORE forms too: their sources count
/// keyspace hits and misses in Redis 7.0), failing with WRONGTYPE at the first key of another
/// type. Returns whether some key is missing.
fn check_sources(ctx: &mut Ctx, keys: &[Vec<u8>]) -> Result<bool, CmdError> {
    let mut missing = false;
    for k in keys {
        match kind_of(ctx.lookup_read(k)) {
            Kind::Missing => missing = true,
            Kind::Set => {}
            Kind::Other => return Err(error::WRONGTYPE),
        }
    }
    Ok(missing)
}

/// Calls `found` with each member common to all `sets`, walking the smallest set in its own
/// order, until `found` returns false.
fn for_each_common(sets: &[&Set], mut found: impl FnMut(Cow<'_, [u8]>) -> bool) {
    let mut order = sets.to_vec();
    order.sort_by_key(|s| s.len());
    let Some((first, rest)) = order.split_first() else {
        return;
    };
    for m in first.iter() {
        if rest.iter().all(|s| s.contains(&m)) && !found(m) {
            return;
        }
    }
}

/// The union of `sets`, built as Redis builds it: an intset that converts when it must.
fn union(sets: &[&Set], max: usize) -> Set {
    let mut out = Set::new_intset();
    for s in sets {
        for m in s.iter() {
            out.add(&m, max);
        }
    }
    out
}

/// The members of the first set found in no other (a missing key is an empty set). Redis picks
/// one of two algorithms by estimated work, and the choice shows in the result's encoding: the
/// second adds the whole first set before removing, so a non-integer member removed again
/// still leaves a hashtable.
fn difference(sets: &[Option<&Set>], max: usize) -> Set {
    let mut out = Set::new_intset();
    let Some(Some(first)) = sets.first() else {
        return out;
    };
    let others: Vec<&Set> = sets[1..].iter().flatten().copied().collect();
    let first_len = first.len() as u64;
    let scan_first_work = first_len * (others.len() as u64 + 1) / 2;
    let scan_all_work = first_len + others.iter().map(|s| s.len() as u64).sum::<u64>();
    if scan_first_work <= scan_all_work {
        for m in first.iter() {
            if !others.iter().any(|s| s.contains(&m)) {
                out.add(&m, max);
            }
        }
    } else {
        for m in first.iter() {
            out.add(&m, max);
        }
        for s in &others {
            for m in s.iter() {
                out.remove(&m);
            }
            if out.is_empty() {
                break;
            }
        }
    }
    out
}

/// Which set-algebra operation a command performs.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Op {
    Inter,
    Union,
    Diff,
}

/// The result of `op` over the sets under `keys`, as a new set (after `check_sources` ran).
fn compute(ctx: &mut Ctx, keys: &[Vec<u8>], op: Op, any_missing: bool) -> Set {
    let max = ctx.eng.config.set_max_intset_entries;
    let db: &Db = ctx.db();
    let sets: Vec<Option<&Set>> = keys.iter().map(|k| peek_set(db, k)).collect();
    let present: Vec<&Set> = sets.iter().flatten().copied().collect();
    match op {
        Op::Inter => {
            let mut out = Set::new_intset();
            if !any_missing {
                for_each_common(&present, |m| {
                    out.add(&m, max);
                    true
                });
            }
            out
        }
        Op::Union => union(&present, max),
        Op::Diff => difference(&sets, max),
    }
}

/// Replies `op` over `keys` (SINTER, SUNION, SDIFF) as a set.
fn algebra_reply(ctx: &mut Ctx, keys: &[Vec<u8>], op: Op) -> CmdResult {
    let missing = check_sources(ctx, keys)?;
    if op != Op::Inter {
        return Ok(set_reply(&compute(ctx, keys, op, missing)));
    }
    if missing {
        return Ok(Reply::Set(Vec::new()));
    }
    // Listed straight from the smallest set, in its own order, as Redis does.
    let db: &Db = ctx.db();
    let sets: Vec<&Set> = keys.iter().filter_map(|k| peek_set(db, k)).collect();
    let mut out = Vec::new();
    for_each_common(&sets, |m| {
        out.push(bulk_cow(m));
        true
    });
    Ok(Reply::Set(out))
}

/// Stores `op` over `keys` in `dest` (SINTERSTORE, SUNIONSTORE, SDIFFSTORE): an empty result
/// deletes `dest`; otherwise whatever `dest` held (any type, any TTL) is replaced.
fn algebra_store(ctx: &mut Ctx, dest: &[u8], keys: &[Vec<u8>], op: Op) -> CmdResult {
    let missing = check_sources(ctx, keys)?;
    let result = compute(ctx, keys, op, missing);
    let now = ctx.now;
    if result.is_empty() {
        if ctx.db().delete(dest, now).is_some() {
            ctx.signal_modified(dest);
            ctx.notify('g', "del", dest);
            ctx.dirty(1);
        }
        return Ok(Reply::Integer(0));
    }
    let n = result.len();
    // An expired destination goes first (an `expired` event), so the result is a new key.
    ctx.db().expire_if_needed(dest, now);
    ctx.db().set(dest, Value::Set(Box::new(result)), now);
    ctx.signal_modified(dest);
    ctx.reply_point();
    ctx.notify('s', op_event(op), dest);
    ctx.dirty(1);
    Ok(Reply::int(n))
}

/// The keyspace event of storing `op`'s result.
fn op_event(op: Op) -> &'static str {
    match op {
        Op::Inter => "sinterstore",
        Op::Union => "sunionstore",
        Op::Diff => "sdiffstore",
    }
}

/// `SINTER key [key ...]` → set of the members common to all (empty if any key is missing).
fn sinter(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    algebra_reply(ctx, &argv[1..], Op::Inter)
}

/// `SUNION key [key ...]` → set of the members of any of the sets.
fn sunion(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    algebra_reply(ctx, &argv[1..], Op::Union)
}

/// `SDIFF key [key ...]` → set of the members of the first set in none of the others.
fn sdiff(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    algebra_reply(ctx, &argv[1..], Op::Diff)
}

/// `SINTERSTORE destination key [key ...]` → integer: the size of the stored intersection.
fn sinterstore(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    algebra_store(ctx, &argv[1], &argv[2..], Op::Inter)
}

/// `SUNIONSTORE destination key [key ...]` → integer: the size of the stored union.
fn sunionstore(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    algebra_store(ctx, &argv[1], &argv[2..], Op::Union)
}

/// `SDIFFSTORE destination key [key ...]` → integer: the size of the stored difference.
fn sdiffstore(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    algebra_store(ctx, &argv[1], &argv[2..], Op::Diff)
}

/// `SINTERCARD numkeys key [key ...] [LIMIT limit]` → integer: the size of the intersection,
/// or `limit` when it is reached first (0 means no limit).
fn sintercard(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    let numkeys = parse_i64(&argv[1])
        .filter(|&n| n >= 1)
        .ok_or(error::NUMKEYS_POSITIVE)?;
    let numkeys = usize::try_from(numkeys)
        .ok()
        .filter(|&n| n <= argv.len() - 2)
        .ok_or(error::NUMKEYS_TOO_MANY)?;
    let keys = &argv[2..2 + numkeys];
    let mut limit: u64 = 0;
    let mut i = 2 + numkeys;
    while i < argv.len() {
        if args::is(&argv[i], "limit") && i + 1 < argv.len() {
            limit = parse_i64(&argv[i + 1])
                .and_then(|n| u64::try_from(n).ok())
                .ok_or(error::LIMIT_NEGATIVE)?;
            i += 2;
        } else {
            return Err(error::SYNTAX);
        }
    }
    if check_sources(ctx, keys)? {
        return Ok(Reply::Integer(0));
    }
    let db: &Db = ctx.db();
    let sets: Vec<&Set> = keys.iter().filter_map(|k| peek_set(db, k)).collect();
    let mut n: u64 = 0;
    for_each_common(&sets, |_| {
        n += 1;
        limit == 0 || n < limit
    });
    Ok(Reply::int(n))
}

/// `SSCAN key cursor [MATCH pattern] [COUNT count]` → array of the next cursor (bulk) and an
/// array of members. An intset comes back whole with cursor 0 whatever the cursor and COUNT,
/// as in Redis.
fn sscan(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    let cursor = args::cursor(&argv[2])?;
    let Some(set) = set_in(ctx.lookup_read(&argv[1]))? else {
        return Ok(scan_reply(0, Vec::new()));
    };
    let mut count: i64 = 10;
    let mut pattern: Option<&[u8]> = None;
    let mut i = 3;
    while i < argv.len() {
        let has_value = i + 1 < argv.len();
        if args::is(&argv[i], "count") && has_value {
            count = args::int(&argv[i + 1])?;
            if count < 1 {
                return Err(error::SYNTAX);
            }
        } else if args::is(&argv[i], "match") && has_value {
            pattern = Some(&argv[i + 1]);
        } else {
            return Err(error::SYNTAX);
        }
        i += 2;
    }
    // "*" matches everything, so Redis skips matching altogether.
    let pattern = pattern.filter(|p| *p != b"*");
    let keep = |m: &[u8]| pattern.is_none_or(|p| glob_match(p, m, false));
    let (next, members): (u64, Vec<Vec<u8>>) = match set.table_members() {
        None => (
            0,
            set.iter()
                .filter(|m| keep(m))
                .map(Cow::into_owned)
                .collect(),
        ),
        Some(table) => {
            // A count beyond the set's size returns the rest in one step anyway.
            let count = usize::try_from(count)
                .unwrap_or(usize::MAX)
                .min(set.len().max(1));
            let (next, got) = scan::step(table.map(|m| (m, m)), cursor, count);
            (
                next,
                got.into_iter()
                    .filter(|m| keep(m))
                    .map(<[u8]>::to_vec)
                    .collect(),
            )
        }
    };
    Ok(scan_reply(next, members))
}

fn scan_reply(cursor: u64, members: Vec<Vec<u8>>) -> Reply {
    Reply::Array(vec![Reply::bulk(cursor.to_string()), Reply::bulks(members)])
}

#[cfg(test)]
mod tests {
    use crate::protocol::Reply;
    use crate::testkit::{encoding, engine, run, NOW};
    use crate::types::Value;
    use crate::Engine;

    fn bulks(r: Reply) -> Vec<Vec<u8>> {
        match r {
            Reply::Array(v) | Reply::Set(v) => v
                .into_iter()
                .map(|x| match x {
                    Reply::Bulk(b) => b,
                    other => panic!("not a bulk: {other:?}"),
                })
                .collect(),
            other => panic!("not an aggregate: {other:?}"),
        }
    }

    #[test]
    fn every_command_refuses_a_string_key() {
        let (mut e, c) = engine();
        e.dbs[0].set(b"str", Value::string(b"x".to_vec()), NOW);
        run(&mut e, c, "SADD s 1");
        for line in [
            "SADD str a",
            "SREM str a",
            "SCARD str",
            "SISMEMBER str a",
            "SMISMEMBER str a",
            "SMEMBERS str",
            "SMOVE str s a",
            "SMOVE s str 1",
            "SPOP str",
            "SPOP str 0",
            "SRANDMEMBER str",
            "SRANDMEMBER str -3",
            "SINTER s str",
            "SINTER nokey str",
            "SINTERCARD 2 nokey str",
            "SINTERSTORE d s str",
            "SUNION nokey str",
            "SUNIONSTORE d str",
            "SDIFF nokey str",
            "SDIFFSTORE d s str",
            "SSCAN str 0",
        ] {
            assert_eq!(
                run(&mut e, c, line),
                Reply::Error(crate::error::WRONGTYPE.0),
                "{line}"
            );
        }
        assert_eq!(run(&mut e, c, "SMOVE nokey str 1"), Reply::Integer(0));
        // STORE forms replace a string destination.
        assert_eq!(run(&mut e, c, "SUNIONSTORE str s"), Reply::Integer(1));
        assert_eq!(
            e.dbs[0].peek(b"str").map(|en| en.value.type_name()),
            Some("set")
        );
    }

    #[test]
    fn encodings_follow_members_and_the_threshold() {
        let (mut e, c) = engine();
        run(&mut e, c, "SADD s 1 2 3");
        assert_eq!(encoding(&e, "s"), "intset");
        run(&mut e, c, "SADD s x");
        assert_eq!(encoding(&e, "s"), "hashtable");
        run(&mut e, c, "SREM s x");
        assert_eq!(encoding(&e, "s"), "hashtable");
        run(&mut e, c, "SUNIONSTORE d s");
        assert_eq!(encoding(&e, "d"), "intset");
        assert_eq!(
            bulks(run(&mut e, c, "SMEMBERS d")),
            vec![b"1".to_vec(), b"2".to_vec(), b"3".to_vec()]
        );
        e.config.set_max_intset_entries = 3;
        run(&mut e, c, "SADD d 4");
        assert_eq!(encoding(&e, "d"), "hashtable");
        e.config.set_max_intset_entries = 0;
        run(&mut e, c, "SADD z 1");
        assert_eq!(encoding(&e, "z"), "hashtable");
    }

    #[test]
    fn spop_rebuilds_from_few_survivors() {
        let (mut e, c) = engine();
        run(&mut e, c, "SADD h 1 2 3 4 5 6 x");
        run(&mut e, c, "SREM h x");
        assert_eq!(encoding(&e, "h"), "hashtable");
        assert_eq!(bulks(run(&mut e, c, "SPOP h 5")).len(), 5);
        assert_eq!(encoding(&e, "h"), "intset");
        assert_eq!(run(&mut e, c, "SCARD h"), Reply::Integer(1));
        run(&mut e, c, "SADD g 1 2 3 4 5 6 x");
        assert_eq!(bulks(run(&mut e, c, "SPOP g 1")).len(), 1);
        assert_eq!(encoding(&e, "g"), "hashtable");
        assert_eq!(bulks(run(&mut e, c, "SPOP g 100")).len(), 6);
        assert_eq!(encoding(&e, "g"), "none");
    }

    #[test]
    fn srandmember_samples_stay_in_the_set_and_huge_negative_counts_are_refused() {
        let (mut e, c) = engine();
        run(&mut e, c, "SADD s a b c d e f g h i j");
        for count in 1..=10 {
            let got = bulks(run(&mut e, c, &format!("SRANDMEMBER s {count}")));
            let mut uniq = got.clone();
            uniq.sort();
            uniq.dedup();
            assert_eq!(uniq.len(), count, "distinct");
            assert!(got
                .iter()
                .all(|m| m.len() == 1 && (b'a'..=b'j').contains(&m[0])));
        }
        assert_eq!(bulks(run(&mut e, c, "SRANDMEMBER s -25")).len(), 25);
        assert!(run(&mut e, c, "SRANDMEMBER s -9223372036854775807").is_error());
        assert_eq!(
            run(&mut e, c, "SRANDMEMBER nokey -9223372036854775807"),
            Reply::Array(vec![])
        );
        assert_eq!(run(&mut e, c, "SCARD s"), Reply::Integer(10));
    }

    #[test]
    fn sscan_walks_a_hashtable_completely() {
        let (mut e, c) = engine();
        let members: Vec<String> = (0..300).map(|i| format!("m{i}")).collect();
        run(&mut e, c, &format!("SADD s {}", members.join(" ")));
        let mut seen = Vec::new();
        let mut cursor = b"0".to_vec();
        loop {
            let r = run(
                &mut e,
                c,
                &format!("SSCAN s {} COUNT 7", String::from_utf8_lossy(&cursor)),
            );
            let Reply::Array(mut parts) = r else {
                panic!("array")
            };
            let page = parts.pop().expect("page");
            let Some(Reply::Bulk(next)) = parts.pop() else {
                panic!("cursor")
            };
            seen.extend(bulks(page));
            if next == b"0" {
                break;
            }
            cursor = next;
        }
        seen.sort();
        seen.dedup();
        assert_eq!(seen.len(), 300);
    }

    #[test]
    fn sintercard_limit_stops_counting() {
        let (mut e, c) = engine();
        run(&mut e, c, "SADD a 1 2 3 4 5");
        run(&mut e, c, "SADD b 2 3 4 5 6");
        assert_eq!(run(&mut e, c, "SINTERCARD 2 a b"), Reply::Integer(4));
        assert_eq!(
            run(&mut e, c, "SINTERCARD 2 a b LIMIT 2"),
            Reply::Integer(2)
        );
        assert_eq!(
            run(&mut e, c, "SINTERCARD 2 a b LIMIT 0"),
            Reply::Integer(4)
        );
    }

    #[test]
    fn keyspace_hits_count_read_lookups_only() {
        let (mut e, c) = engine();
        run(&mut e, c, "SADD a 1 2");
        run(&mut e, c, "SADD b 2 3");
        let counts = |e: &Engine| (e.stats.hits, e.stats.misses);
        let base = counts(&e);
        run(&mut e, c, "SINTERSTORE d a b nokey");
        assert_eq!(counts(&e), (base.0 + 2, base.1 + 1));
        run(&mut e, c, "SMOVE a b 1");
        run(&mut e, c, "SPOP b 1");
        run(&mut e, c, "SREM nokey 1");
        assert_eq!(counts(&e), (base.0 + 2, base.1 + 1));
        run(&mut e, c, "SSCAN nokey 0");
        run(&mut e, c, "SRANDMEMBER a 2");
        assert_eq!(counts(&e), (base.0 + 3, base.1 + 2));
    }

    #[test]
    fn dirty_counts_follow_redis() {
        let (mut e, c) = engine();
        let check = |e: &mut Engine, line: &str, n: u64| {
            let before = e.dirty;
            run(e, c, line);
            assert_eq!(e.dirty - before, n, "{line}");
        };
        check(&mut e, "SADD a 1 2 3 4 5 6 7 8 9 10", 10);
        check(&mut e, "SADD a 1 11", 1);
        check(&mut e, "SREM a 1 2 99", 2);
        check(&mut e, "SPOP a 0", 0);
        check(&mut e, "SPOP a 2", 2);
        check(&mut e, "SPOP a 100", 7);
        check(&mut e, "SADD a 1 2", 2);
        check(&mut e, "SMOVE a b 1", 2);
        check(&mut e, "SMOVE a b 1", 0);
        check(&mut e, "SADD a 1", 1);
        check(&mut e, "SMOVE a b 1", 1);
        check(&mut e, "SUNIONSTORE d b", 1);
        check(&mut e, "SUNIONSTORE d nokey", 1);
        check(&mut e, "SUNIONSTORE d nokey", 0);
    }
}
