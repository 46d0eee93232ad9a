//! The sorted-set group: ZADD, ZRANGE and its family, ZPOP*, ZMPOP, the set operations, ZSCAN.
//!
//! The blocking BZPOPMIN / BZPOPMAX / BZMPOP pop at once when a key has members and otherwise
//! block through the engine ([`Ctx::block_on`]), which runs them again when a key changes;
//! [`pop`] is the piece they share with ZPOPMIN / ZPOPMAX / ZMPOP.

use std::borrow::Cow;

use super::spec::*;
use super::{args, scan};
use crate::engine::Ctx;
use crate::error::{self, CmdError, CmdResult};
use crate::protocol::Reply;
use crate::types::zset::{LexBound, LexRange, Limits, ScoreRange, ZSet};
use crate::types::{Set, Value};
use crate::util;

const G: Group = Group::SortedSet;

/// The sorted-set group's commands.
pub const COMMANDS: &[CommandSpec] = &[
    CommandSpec::new("zadd", -4, &[WRITE, DENYOOM, FAST], zadd).doc(G, "1.2.0", &[Arg::key("key", 0), Arg::oneof("condition", &[Arg::token("nx", "NX"), Arg::token("xx", "XX")]).optional().since("3.0.2"), Arg::oneof("comparison", &[Arg::token("gt", "GT"), Arg::token("lt", "LT")]).optional().since("6.2.0"), Arg::token("change", "CH").optional().since("3.0.2"), Arg::token("increment", "INCR").optional().since("3.0.2"), Arg::block("score_member", &[Arg::double("score"), Arg::string("member")]).multiple()], "Adds members with scores to a sorted set, or updates the scores of existing ones.").key_specs(&[KeySpec::new(&[RW, UPDATE], index(1), range(0, 1, 0))]).complexity("O(log(N)) per member added, N being the sorted set's size."),
    CommandSpec::new("zcard", 2, &[READONLY, FAST], zcard).doc(G, "1.2.0", &[Arg::key("key", 0)], "Counts the members of a sorted set.").key_specs(&[KeySpec::new(&[RO], index(1), range(0, 1, 0))]).complexity("O(1)"),
    CommandSpec::new("zcount", 4, &[READONLY, FAST], zcount).doc(G, "2.0.0", &[Arg::key("key", 0), Arg::double("min"), Arg::double("max")], "Counts the members whose score lies within a range.").key_specs(&[KeySpec::new(&[RO, ACCESS], index(1), range(0, 1, 0))]).complexity("O(log(N)), N being the sorted set's size."),
    CommandSpec::new("zincrby", 4, &[WRITE, DENYOOM, FAST], zincrby).doc(G, "1.2.0", &[Arg::key("key", 0), Arg::integer("increment"), Arg::string("member")], "Adds to a member's score, creating the member (and the key) when missing.").key_specs(&[KeySpec::new(&[RW, ACCESS, UPDATE], index(1), range(0, 1, 0))]).complexity("O(log(N)), N being the sorted set's size."),
    CommandSpec::new("zscore", 3, &[READONLY, FAST], zscore).doc(G, "1.2.0", &[Arg::key("key", 0), Arg::string("member")], "Returns a member's score.").key_specs(&[KeySpec::new(&[RO, ACCESS], index(1), range(0, 1, 0))]).complexity("O(1)"),
    CommandSpec::new("zmscore", -3, &[READONLY, FAST], zmscore).doc(G, "6.2.0", &[Arg::key("key", 0), Arg::string("member").multiple()], "Returns the scores of several members, nil for those missing.").key_specs(&[KeySpec::new(&[RO, ACCESS], index(1), range(0, 1, 0))]).complexity("O(N), N being the members asked for."),
    CommandSpec::new("zrank", 3, &[READONLY, FAST], zrank).doc(G, "2.0.0", &[Arg::key("key", 0), Arg::string("member")], "Returns a member's position, counting from the lowest score.").key_specs(&[KeySpec::new(&[RO, ACCESS], index(1), range(0, 1, 0))]).complexity("O(log(N))"),
    CommandSpec::new("zrevrank", 3, &[READONLY, FAST], zrevrank).doc(G, "2.0.0", &[Arg::key("key", 0), Arg::string("member")], "Returns a member's position, counting from the highest score.").key_specs(&[KeySpec::new(&[RO, ACCESS], index(1), range(0, 1, 0))]).complexity("O(log(N))"),
    CommandSpec::new("zrange", -4, &[READONLY], zrange).doc(G, "1.2.0", &[Arg::key("key", 0), Arg::string("start"), Arg::string("stop"), Arg::oneof("sortby", &[Arg::token("byscore", "BYSCORE"), Arg::token("bylex", "BYLEX")]).optional().since("6.2.0"), Arg::token("rev", "REV").optional().since("6.2.0"), Arg::block("offset_count", &[Arg::integer("offset"), Arg::integer("count")]).with_token("LIMIT").optional().since("6.2.0"), Arg::token("withscores", "WITHSCORES").optional()], "Returns members by rank, score or lexicographic range, in either direction.").key_specs(&[KeySpec::new(&[RO, ACCESS], index(1), range(0, 1, 0))]).complexity("O(log(N)+M): N members in the sorted set, M members in the reply."),
    CommandSpec::new("zrangebyscore", -4, &[READONLY], zrangebyscore).doc(G, "1.0.5", &[Arg::key("key", 0), Arg::double("min"), Arg::double("max"), Arg::token("withscores", "WITHSCORES").optional().since("2.0.0"), Arg::block("offset_count", &[Arg::integer("offset"), Arg::integer("count")]).with_token("LIMIT").optional()], "Returns members whose score lies within a range, lowest first.").key_specs(&[KeySpec::new(&[RO, ACCESS], index(1), range(0, 1, 0))]).complexity("O(log(N)+M): N members in the sorted set, M members in the reply (O(log(N)) for a fixed LIMIT)."),
    CommandSpec::new("zrevrangebyscore", -4, &[READONLY], zrevrangebyscore).doc(G, "2.2.0", &[Arg::key("key", 0), Arg::double("max"), Arg::double("min"), Arg::token("withscores", "WITHSCORES").optional(), Arg::block("offset_count", &[Arg::integer("offset"), Arg::integer("count")]).with_token("LIMIT").optional()], "Returns members whose score lies within a range, highest first.").key_specs(&[KeySpec::new(&[RO, ACCESS], index(1), range(0, 1, 0))]).complexity("O(log(N)+M): N members in the sorted set, M members in the reply (O(log(N)) for a fixed LIMIT)."),
    CommandSpec::new("zrangebylex", -4, &[READONLY], zrangebylex).doc(G, "2.8.9", &[Arg::key("key", 0), Arg::string("min"), Arg::string("max"), Arg::block("offset_count", &[Arg::integer("offset"), Arg::integer("count")]).with_token("LIMIT").optional()], "Returns members within a lexicographic range (for members of equal score).").key_specs(&[KeySpec::new(&[RO, ACCESS], index(1), range(0, 1, 0))]).complexity("O(log(N)+M): N members in the sorted set, M members in the reply (O(log(N)) for a fixed LIMIT)."),
    CommandSpec::new("zrevrangebylex", -4, &[READONLY], zrevrangebylex).doc(G, "2.8.9", &[Arg::key("key", 0), Arg::string("max"), Arg::string("min"), Arg::block("offset_count", &[Arg::integer("offset"), Arg::integer("count")]).with_token("LIMIT").optional()], "Returns members within a lexicographic range, in reverse order.").key_specs(&[KeySpec::new(&[RO, ACCESS], index(1), range(0, 1, 0))]).complexity("O(log(N)+M): N members in the sorted set, M members in the reply (O(log(N)) for a fixed LIMIT)."),
    CommandSpec::new("zrevrange", -4, &[READONLY], zrevrange).doc(G, "1.2.0", &[Arg::key("key", 0), Arg::integer("start"), Arg::integer("stop"), Arg::token("withscores", "WITHSCORES").optional()], "Returns members by rank, counting from the highest score.").key_specs(&[KeySpec::new(&[RO, ACCESS], index(1), range(0, 1, 0))]).complexity("O(log(N)+M): N members in the sorted set, M members in the reply."),
    CommandSpec::new("zrangestore", -5, &[WRITE, DENYOOM], zrangestore).doc(G, "6.2.0", &[Arg::key("dst", 0), Arg::key("src", 1), Arg::string("min"), Arg::string("max"), Arg::oneof("sortby", &[Arg::token("byscore", "BYSCORE"), Arg::token("bylex", "BYLEX")]).optional(), Arg::token("rev", "REV").optional(), Arg::block("offset_count", &[Arg::integer("offset"), Arg::integer("count")]).with_token("LIMIT").optional()], "Stores a range of a sorted set (as ZRANGE selects it) in another key.").key_specs(&[KeySpec::new(&[OW, UPDATE], index(1), range(0, 1, 0)), KeySpec::new(&[RO, ACCESS], index(2), range(0, 1, 0))]).complexity("O(log(N)+M): N members in the source, M members stored."),
    CommandSpec::new("zrem", -3, &[WRITE, FAST], zrem).doc(G, "1.2.0", &[Arg::key("key", 0), Arg::string("member").multiple()], "Removes members from a sorted set.").key_specs(&[KeySpec::new(&[RW, DELETE], index(1), range(0, 1, 0))]).complexity("O(M*log(N)): N members in the sorted set, M members removed."),
    CommandSpec::new("zremrangebyrank", 4, &[WRITE], zremrangebyrank).doc(G, "2.0.0", &[Arg::key("key", 0), Arg::integer("start"), Arg::integer("stop")], "Removes the members within a range of ranks.").key_specs(&[KeySpec::new(&[RW, DELETE], index(1), range(0, 1, 0))]).complexity("O(log(N)+M): N members in the sorted set, M members removed."),
    CommandSpec::new("zremrangebyscore", 4, &[WRITE], zremrangebyscore).doc(G, "1.2.0", &[Arg::key("key", 0), Arg::double("min"), Arg::double("max")], "Removes the members whose score lies within a range.").key_specs(&[KeySpec::new(&[RW, DELETE], index(1), range(0, 1, 0))]).complexity("O(log(N)+M): N members in the sorted set, M members removed."),
    CommandSpec::new("zremrangebylex", 4, &[WRITE], zremrangebylex).doc(G, "2.8.9", &[Arg::key("key", 0), Arg::string("min"), Arg::string("max")], "Removes the members within a lexicographic range.").key_specs(&[KeySpec::new(&[RW, DELETE], index(1), range(0, 1, 0))]).complexity("O(log(N)+M): N members in the sorted set, M members removed."),
    CommandSpec::new("zlexcount", 4, &[READONLY, FAST], zlexcount).doc(G, "2.8.9", &[Arg::key("key", 0), Arg::string("min"), Arg::string("max")], "Counts the members within a lexicographic range.").key_specs(&[KeySpec::new(&[RO, ACCESS], index(1), range(0, 1, 0))]).complexity("O(log(N)), N being the sorted set's size."),
    CommandSpec::new("zpopmin", -2, &[WRITE, FAST], zpopmin).doc(G, "5.0.0", &[Arg::key("key", 0), Arg::integer("count").optional()], "Removes and returns the members with the lowest scores.").key_specs(&[KeySpec::new(&[RW, ACCESS, DELETE], index(1), range(0, 1, 0))]).complexity("O(log(N)*M): N members in the sorted set, M members popped."),
    CommandSpec::new("zpopmax", -2, &[WRITE, FAST], zpopmax).doc(G, "5.0.0", &[Arg::key("key", 0), Arg::integer("count").optional()], "Removes and returns the members with the highest scores.").key_specs(&[KeySpec::new(&[RW, ACCESS, DELETE], index(1), range(0, 1, 0))]).complexity("O(log(N)*M): N members in the sorted set, M members popped."),
    CommandSpec::new("zmpop", -4, &[WRITE], zmpop).doc(G, "7.0.0", &[Arg::integer("numkeys"), Arg::key("key", 0).multiple(), Arg::oneof("where", &[Arg::token("min", "MIN"), Arg::token("max", "MAX")]), Arg::integer("count").with_token("COUNT").optional()], "Pops members from the first non-empty sorted set among the keys given.").key_specs(&[KeySpec::new(&[RW, ACCESS, DELETE], index(1), keynum(0, 1, 1))]).complexity("O(K) + O(M*log(N)): K keys named, N members in the sorted set, M members popped."),
    CommandSpec::new("zrandmember", -2, &[READONLY], zrandmember).doc(G, "6.2.0", &[Arg::key("key", 0), Arg::block("options", &[Arg::integer("count"), Arg::token("withscores", "WITHSCORES").optional()]).optional()], "Returns random members: distinct for a positive count, possibly repeated for a negative one.").tips(&["nondeterministic_output"]).key_specs(&[KeySpec::new(&[RO, ACCESS], index(1), range(0, 1, 0))]).complexity("O(N), N being the elements in the reply."),
    CommandSpec::new("zunion", -3, &[READONLY], zunion).doc(G, "6.2.0", &[Arg::integer("numkeys"), Arg::key("key", 0).multiple(), Arg::integer("weight").with_token("WEIGHTS").optional().multiple(), Arg::oneof("aggregate", &[Arg::token("sum", "SUM"), Arg::token("min", "MIN"), Arg::token("max", "MAX")]).with_token("AGGREGATE").optional(), Arg::token("withscores", "WITHSCORES").optional()], "Returns the union of sorted sets, scores combined.").key_specs(&[KeySpec::new(&[RO, ACCESS], index(1), keynum(0, 1, 1))]).complexity("O(N)+O(M*log(M)): N the inputs' sizes together, M the result's size."),
    CommandSpec::new("zinter", -3, &[READONLY], zinter).doc(G, "6.2.0", &[Arg::integer("numkeys"), Arg::key("key", 0).multiple(), Arg::integer("weight").with_token("WEIGHTS").optional().multiple(), Arg::oneof("aggregate", &[Arg::token("sum", "SUM"), Arg::token("min", "MIN"), Arg::token("max", "MAX")]).with_token("AGGREGATE").optional(), Arg::token("withscores", "WITHSCORES").optional()], "Returns the members common to all sorted sets, scores combined.").key_specs(&[KeySpec::new(&[RO, ACCESS], index(1), keynum(0, 1, 1))]).complexity("O(N*K)+O(M*log(M)) at worst: N the smallest input's size, K the number of inputs, M the result's size."),
    CommandSpec::new("zdiff", -3, &[READONLY], zdiff).doc(G, "6.2.0", &[Arg::integer("numkeys"), Arg::key("key", 0).multiple(), Arg::token("withscores", "WITHSCORES").optional()], "Returns the members of the first sorted set that are in none of the others.").key_specs(&[KeySpec::new(&[RO, ACCESS], index(1), keynum(0, 1, 1))]).complexity("O(L + (N-K)log(N)) at worst: L the members of all inputs, N the first input's size, K the result's size."),
    CommandSpec::new("zunionstore", -4, &[WRITE, DENYOOM], zunionstore).doc(G, "2.0.0", &[Arg::key("destination", 0), Arg::integer("numkeys"), Arg::key("key", 1).multiple(), Arg::integer("weight").with_token("WEIGHTS").optional().multiple(), Arg::oneof("aggregate", &[Arg::token("sum", "SUM"), Arg::token("min", "MIN"), Arg::token("max", "MAX")]).with_token("AGGREGATE").optional()], "Stores the union of sorted sets in a key.").key_specs(&[KeySpec::new(&[OW, UPDATE], index(1), range(0, 1, 0)), KeySpec::new(&[RO, ACCESS], index(2), keynum(0, 1, 1))]).complexity("O(N)+O(M log(M)): N the inputs' sizes together, M the result's size."),
    CommandSpec::new("zinterstore", -4, &[WRITE, DENYOOM], zinterstore).doc(G, "2.0.0", &[Arg::key("destination", 0), Arg::integer("numkeys"), Arg::key("key", 1).multiple(), Arg::integer("weight").with_token("WEIGHTS").optional().multiple(), Arg::oneof("aggregate", &[Arg::token("sum", "SUM"), Arg::token("min", "MIN"), Arg::token("max", "MAX")]).with_token("AGGREGATE").optional()], "Stores the intersection of sorted sets in a key.").key_specs(&[KeySpec::new(&[OW, UPDATE], index(1), range(0, 1, 0)), KeySpec::new(&[RO, ACCESS], index(2), keynum(0, 1, 1))]).complexity("O(N*K)+O(M*log(M)) at worst: N the smallest input's size, K the number of inputs, M the result's size."),
    CommandSpec::new("zdiffstore", -4, &[WRITE, DENYOOM], zdiffstore).doc(G, "6.2.0", &[Arg::key("destination", 0), Arg::integer("numkeys"), Arg::key("key", 1).multiple()], "Stores the difference of sorted sets in a key.").key_specs(&[KeySpec::new(&[OW, UPDATE], index(1), range(0, 1, 0)), KeySpec::new(&[RO, ACCESS], index(2), keynum(0, 1, 1))]).complexity("O(L + (N-K)log(N)) at worst: L the members of all inputs, N the first input's size, K the result's size."),
    CommandSpec::new("zintercard", -3, &[READONLY], zintercard).doc(G, "7.0.0", &[Arg::integer("numkeys"), Arg::key("key", 0).multiple(), Arg::integer("limit").with_token("LIMIT").optional()], "Counts the members common to all sorted sets, optionally stopping at a limit.").key_specs(&[KeySpec::new(&[RO, ACCESS], index(1), keynum(0, 1, 1))]).complexity("O(N*K) at worst: N the smallest input's size, K the number of inputs."),
    CommandSpec::new("zscan", -3, &[READONLY], zscan).doc(G, "2.8.0", &[Arg::key("key", 0), Arg::integer("cursor"), Arg::pattern("pattern").with_token("MATCH").optional(), Arg::integer("count").with_token("COUNT").optional()], "Iterates over the members and scores of a sorted set.").tips(&["nondeterministic_output"]).key_specs(&[KeySpec::new(&[RO, ACCESS], index(1), range(0, 1, 0))]).complexity("O(1) per call; O(N) for a whole walk back to cursor 0, N being the collection's size."),
    CommandSpec::new("bzpopmin", -3, &[WRITE, NOSCRIPT, BLOCKING, FAST], bzpopmin).doc(G, "5.0.0", &[Arg::key("key", 0).multiple(), Arg::double("timeout")], "Pops the lowest-scored member of the first non-empty sorted set, waiting for one.").key_specs(&[KeySpec::new(&[RW, ACCESS, DELETE], index(1), range(-2, 1, 0))]).complexity("O(log(N)), N being the sorted set's size."),
    CommandSpec::new("bzpopmax", -3, &[WRITE, NOSCRIPT, BLOCKING, FAST], bzpopmax).doc(G, "5.0.0", &[Arg::key("key", 0).multiple(), Arg::double("timeout")], "Pops the highest-scored member of the first non-empty sorted set, waiting for one.").key_specs(&[KeySpec::new(&[RW, ACCESS, DELETE], index(1), range(-2, 1, 0))]).complexity("O(log(N)), N being the sorted set's size."),
    CommandSpec::new("bzmpop", -5, &[WRITE, BLOCKING], bzmpop).doc(G, "7.0.0", &[Arg::double("timeout"), Arg::integer("numkeys"), Arg::key("key", 0).multiple(), Arg::oneof("where", &[Arg::token("min", "MIN"), Arg::token("max", "MAX")]), Arg::integer("count").with_token("COUNT").optional()], "Pops members from the first non-empty sorted set among several, waiting for one.").key_specs(&[KeySpec::new(&[RW, ACCESS, DELETE], index(2), keynum(0, 1, 1))]).complexity("O(K) + O(M*log(N)): K keys named, N members in the sorted set, M members popped."),
];

/// Most elements a random reply with repetitions may hold. Redis streams any count; the
/// playground builds replies in memory, so it refuses beyond this rather than exhaust it.
const MAX_RANDOM_REPLY: u64 = 1 << 22;

// ---- shared helpers ----

fn limits(ctx: &Ctx) -> Limits {
    Limits {
        entries: ctx.eng.config.zset_max_listpack_entries,
        value: ctx.eng.config.zset_max_listpack_value,
    }
}

fn resp3(ctx: &Ctx) -> bool {
    ctx.eng.proto(ctx.client) == 3
}

/// The sorted set under `key` for reading: None when missing, WRONGTYPE for another type.
fn read_zset<'a>(ctx: &'a mut Ctx, key: &[u8]) -> Result<Option<&'a mut ZSet>, CmdError> {
    match ctx.lookup_read(key) {
        None => Ok(None),
        Some(e) => match &mut e.value {
            Value::ZSet(z) => Ok(Some(z)),
            _ => Err(error::WRONGTYPE),
        },
    }
}

/// The sorted set under `key` for writing: None when missing, WRONGTYPE for another type.
fn write_zset<'a>(ctx: &'a mut Ctx, key: &[u8]) -> Result<Option<&'a mut ZSet>, CmdError> {
    match ctx.lookup_write(key) {
        None => Ok(None),
        Some(e) => match &mut e.value {
            Value::ZSet(z) => Ok(Some(z)),
            _ => Err(error::WRONGTYPE),
        },
    }
}

/// Deletes `key` when its sorted set has become empty, with the `del` event that follows the
/// command's own.
fn drop_if_empty(ctx: &mut Ctx, key: &[u8]) {
    let now = ctx.now;
    let empty =
        matches!(ctx.db().peek(key).map(|e| &e.value), Some(Value::ZSet(z)) if z.is_empty());
    if empty {
        ctx.db().remove(key, now);
        ctx.notify('g', "del", key);
    }
}

/// Members with their scores as ZRANGE ... WITHSCORES replies: flat in RESP2, pairs in RESP3
/// (or pairs always when `nested`).
fn scored_reply(items: Vec<(Vec<u8>, f64)>, nested: bool) -> Reply {
    if nested {
        Reply::Array(
            items
                .into_iter()
                .map(|(m, s)| Reply::Array(vec![Reply::Bulk(m), Reply::Double(s)]))
                .collect(),
        )
    } else {
        let mut out = Vec::with_capacity(items.len() * 2);
        for (m, s) in items {
            out.push(Reply::Bulk(m));
            out.push(Reply::Double(s));
        }
        Reply::Array(out)
    }
}

fn range_reply(ctx: &Ctx, items: Vec<(Vec<u8>, f64)>, withscores: bool) -> Reply {
    if withscores {
        scored_reply(items, resp3(ctx))
    } else {
        Reply::Array(items.into_iter().map(|(m, _)| Reply::Bulk(m)).collect())
    }
}

/// Reads `s` as Redis reads a score-range bound: C's `strtod` after leading white space, up to
/// a NUL (the end of a C string), which must consume everything. Looser than a score: overflow
/// gives an infinity and the empty string reads as 0. None when Redis would refuse it (NaN,
/// trailing text).
fn strtod_whole(s: &[u8]) -> Option<f64> {
    let s = &s[..s.iter().position(|&c| c == 0).unwrap_or(s.len())];
    if s.is_empty() {
        // strtod reads nothing and stops at the terminator: Redis takes that as 0.
        return Some(0.0);
    }
    let r = util::strtod::strtod(s);
    (r.len == s.len() && !r.value.is_nan()).then_some(r.value)
}

/// A score range end: `1.5`, `(1.5` (exclusive), `-inf`, `+inf`.
fn parse_score_range(min: &[u8], max: &[u8]) -> Result<ScoreRange, CmdError> {
    fn end(arg: &[u8]) -> Option<(f64, bool)> {
        match arg.first() {
            Some(b'(') => strtod_whole(&arg[1..]).map(|v| (v, true)),
            _ => strtod_whole(arg).map(|v| (v, false)),
        }
    }
    let (min, minex) = end(min).ok_or(error::MIN_MAX_NOT_FLOAT)?;
    let (max, maxex) = end(max).ok_or(error::MIN_MAX_NOT_FLOAT)?;
    Ok(ScoreRange {
        min,
        max,
        minex,
        maxex,
    })
}

/// A lex range end: `-`, `+`, `[member` or `(member`.
fn parse_lex_range(min: &[u8], max: &[u8]) -> Result<LexRange, CmdError> {
    fn end(arg: &[u8]) -> Option<LexBound> {
        // The sentinels are whole C strings: a NUL right after them ends the item.
        let alone = arg.len() == 1 || arg.get(1) == Some(&0);
        match arg.first()? {
            b'+' if alone => Some(LexBound::Max),
            b'-' if alone => Some(LexBound::Min),
            b'[' => Some(LexBound::Incl(arg[1..].to_vec())),
            b'(' => Some(LexBound::Excl(arg[1..].to_vec())),
            _ => None,
        }
    }
    let min = end(min).ok_or(error::MIN_MAX_NOT_LEX)?;
    let max = end(max).ok_or(error::MIN_MAX_NOT_LEX)?;
    Ok(LexRange { min, max })
}

// ---- ZADD / ZINCRBY ----

#[derive(Default, Clone, Copy)]
struct AddFlags {
    nx: bool,
    xx: bool,
    gt: bool,
    lt: bool,
    ch: bool,
    incr: bool,
}

/// `ZADD key [NX|XX] [GT|LT] [CH] [INCR] score member [score member ...]` → the number of
/// members added (or added and changed, with CH); with INCR the new score, or nil when a
/// condition blocked the update.
fn zadd(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    let mut f = AddFlags::default();
    let mut i = 2;
    while i < argv.len() {
        let a = &argv[i];
        if args::is(a, "nx") {
            f.nx = true;
        } else if args::is(a, "xx") {
            f.xx = true;
        } else if args::is(a, "ch") {
            f.ch = true;
        } else if args::is(a, "incr") {
            f.incr = true;
        } else if args::is(a, "gt") {
            f.gt = true;
        } else if args::is(a, "lt") {
            f.lt = true;
        } else {
            break;
        }
        i += 1;
    }
    let rest = &argv[i..];
    if rest.is_empty() || !rest.len().is_multiple_of(2) {
        return Err(error::SYNTAX);
    }
    if f.nx && f.xx {
        return Err(error::XX_AND_NX);
    }
    if (f.nx && (f.gt || f.lt)) || (f.gt && f.lt) {
        return Err(error::GT_LT_NX);
    }
    if f.incr && rest.len() > 2 {
        return Err(error::INCR_SINGLE_PAIR);
    }
    let mut pairs = Vec::with_capacity(rest.len() / 2);
    for p in rest.chunks(2) {
        pairs.push((args::float(&p[0])?, p[1].as_slice()));
    }
    add_generic(ctx, &argv[1], f, &pairs)
}

/// `ZINCRBY key increment member` → the member's new score.
fn zincrby(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    let incr = args::float(&argv[2])?;
    let f = AddFlags {
        incr: true,
        ..AddFlags::default()
    };
    add_generic(ctx, &argv[1], f, &[(incr, argv[3].as_slice())])
}

fn add_generic(ctx: &mut Ctx, key: &[u8], f: AddFlags, pairs: &[(f64, &[u8])]) -> CmdResult {
    let lim = limits(ctx);
    let now = ctx.now;
    if write_zset(ctx, key)?.is_none() {
        if f.xx {
            return Ok(if f.incr {
                Reply::Nil
            } else {
                Reply::Integer(0)
            });
        }
        ctx.db().set(key, Value::ZSet(Box::default()), now);
    }
    let Some(z) = write_zset(ctx, key)? else {
        return Err(error::NO_SUCH_KEY);
    };
    let (mut added, mut updated, mut processed) = (0i64, 0i64, 0i64);
    let mut last = 0.0;
    let mut failure = None;
    for &(score, member) in pairs {
        match z.score(member) {
            Some(cur) => {
                if f.nx {
                    continue;
                }
                let new = if f.incr { cur + score } else { score };
                if new.is_nan() {
                    failure = Some(error::SCORE_NAN);
                    break;
                }
                if (f.lt && new >= cur) || (f.gt && new <= cur) {
                    continue;
                }
                last = new;
                processed += 1;
                if new != cur {
                    z.insert(member, new, lim);
                    updated += 1;
                }
            }
            None => {
                if f.xx {
                    continue;
                }
                z.insert(member, score, lim);
                last = score;
                added += 1;
                processed += 1;
            }
        }
    }
    if added + updated > 0 {
        ctx.reply_point();
        ctx.notify('z', if f.incr { "zincr" } else { "zadd" }, key);
    }
    drop_if_empty(ctx, key);
    if added + updated > 0 {
        ctx.signal_modified(key);
        ctx.dirty((added + updated) as u64);
    }
    if let Some(e) = failure {
        return Err(e);
    }
    if f.incr {
        return Ok(if processed > 0 {
            Reply::Double(last)
        } else {
            Reply::Nil
        });
    }
    Ok(Reply::Integer(if f.ch { added + updated } else { added }))
}

// ---- simple reads ----

/// `ZCARD key` → the number of members (0 for a missing key).
fn zcard(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    Ok(Reply::int(read_zset(ctx, &argv[1])?.map_or(0, |z| z.len())))
}

/// `ZSCORE key member` → the score, or nil.
fn zscore(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    let s = read_zset(ctx, &argv[1])?.and_then(|z| z.score(&argv[2]));
    Ok(s.map_or(Reply::Nil, Reply::Double))
}

/// `ZMSCORE key member [member ...]` → an array of scores, nil for missing members.
fn zmscore(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    let z = read_zset(ctx, &argv[1])?;
    Ok(Reply::Array(
        argv[2..]
            .iter()
            .map(|m| {
                z.as_ref()
                    .and_then(|z| z.score(m))
                    .map_or(Reply::Nil, Reply::Double)
            })
            .collect(),
    ))
}

/// `ZRANK key member` → the 0-based rank by ascending score, or nil.
fn zrank(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    rank_generic(ctx, argv, false)
}

/// `ZREVRANK key member` → the 0-based rank by descending score, or nil.
fn zrevrank(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    rank_generic(ctx, argv, true)
}

fn rank_generic(ctx: &mut Ctx, argv: &[Vec<u8>], rev: bool) -> CmdResult {
    let Some(z) = read_zset(ctx, &argv[1])? else {
        return Ok(Reply::Nil);
    };
    Ok(match z.rank(&argv[2]) {
        Some(r) if rev => Reply::int(z.len() - 1 - r),
        Some(r) => Reply::int(r),
        None => Reply::Nil,
    })
}

/// `ZCOUNT key min max` → how many members have a score in the range.
fn zcount(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    let range = parse_score_range(&argv[2], &argv[3])?;
    Ok(Reply::int(
        read_zset(ctx, &argv[1])?.map_or(0, |z| z.count_in_scores(&range)),
    ))
}

/// `ZLEXCOUNT key min max` → how many members lie in the lexicographic range.
fn zlexcount(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    let range = parse_lex_range(&argv[2], &argv[3])?;
    Ok(Reply::int(
        read_zset(ctx, &argv[1])?.map_or(0, |z| z.count_in_lex(&range)),
    ))
}

// ---- ranges ----

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Rank,
    Score,
    Lex,
}

/// A parsed range request, ready to be applied to a set.
enum Selector {
    Rank(i64, i64),
    Score(ScoreRange),
    Lex(LexRange),
}

/// Selects the members a range request names, in reply order. `offset`/`limit` apply to
/// score and lex ranges (a negative offset selects nothing, a negative limit means all).
fn select(z: &ZSet, sel: &Selector, rev: bool, offset: i64, limit: i64) -> Vec<(Vec<u8>, f64)> {
    let len = z.len() as i64;
    let take = if limit < 0 {
        usize::MAX
    } else {
        limit as usize
    };
    let own = |(m, s): (&[u8], f64)| (m.to_vec(), s);
    match sel {
        Selector::Rank(start, end) => {
            let mut start = if *start < 0 {
                start.saturating_add(len)
            } else {
                *start
            };
            let mut end = if *end < 0 {
                end.saturating_add(len)
            } else {
                *end
            };
            if start < 0 {
                start = 0;
            }
            if start > end || start >= len {
                return Vec::new();
            }
            if end >= len {
                end = len - 1;
            }
            let n = (end - start + 1) as usize;
            if rev {
                z.iter_rev_from((len - 1 - start) as usize)
                    .take(n)
                    .map(own)
                    .collect()
            } else {
                z.iter_from(start as usize).take(n).map(own).collect()
            }
        }
        Selector::Score(r) => {
            if offset < 0 {
                return Vec::new();
            }
            let offset = offset as usize;
            if rev {
                let Some(last) = z.score_last(r) else {
                    return Vec::new();
                };
                if offset > last {
                    return Vec::new();
                }
                z.iter_rev_from(last - offset)
                    .take_while(|(_, s)| r.gte_min(*s))
                    .take(take)
                    .map(own)
                    .collect()
            } else {
                let Some(first) = z.score_first(r) else {
                    return Vec::new();
                };
                z.iter_from(first.saturating_add(offset))
                    .take_while(|(_, s)| r.lte_max(*s))
                    .take(take)
                    .map(own)
                    .collect()
            }
        }
        Selector::Lex(r) => {
            if offset < 0 {
                return Vec::new();
            }
            let offset = offset as usize;
            if rev {
                let Some(last) = z.lex_last(r) else {
                    return Vec::new();
                };
                if offset > last {
                    return Vec::new();
                }
                z.iter_rev_from(last - offset)
                    .take_while(|(m, _)| r.gte_min(m))
                    .take(take)
                    .map(own)
                    .collect()
            } else {
                let Some(first) = z.lex_first(r) else {
                    return Vec::new();
                };
                z.iter_from(first.saturating_add(offset))
                    .take_while(|(m, _)| r.lte_max(m))
                    .take(take)
                    .map(own)
                    .collect()
            }
        }
    }
}

/// The ZRANGE family. `src` is the index of the source key (the range follows it); `dst` the
/// destination for ZRANGESTORE; `kind`/`rev` are fixed by the older commands and left to the
/// options (None) by ZRANGE and ZRANGESTORE.
fn range_generic(
    ctx: &mut Ctx,
    argv: &[Vec<u8>],
    src: usize,
    dst: Option<&[u8]>,
    kind: Option<Kind>,
    rev: Option<bool>,
) -> CmdResult {
    let (mut kind_opt, mut rev_opt) = (kind, rev);
    let mut withscores = false;
    let (mut offset, mut limit) = (0i64, -1i64);
    let mut j = src + 3;
    while j < argv.len() {
        let a = &argv[j];
        let left = argv.len() - j - 1;
        if dst.is_none() && args::is(a, "withscores") {
            withscores = true;
        } else if args::is(a, "limit") && left >= 2 {
            offset = args::int(&argv[j + 1])?;
            limit = args::int(&argv[j + 2])?;
            j += 2;
        } else if rev_opt.is_none() && args::is(a, "rev") {
            rev_opt = Some(true);
        } else if kind_opt.is_none() && args::is(a, "bylex") {
            kind_opt = Some(Kind::Lex);
        } else if kind_opt.is_none() && args::is(a, "byscore") {
            kind_opt = Some(Kind::Score);
        } else {
            return Err(error::SYNTAX);
        }
        j += 1;
    }
    let rev = rev_opt.unwrap_or(false);
    let kind = kind_opt.unwrap_or(Kind::Rank);
    if limit != -1 && kind == Kind::Rank {
        return Err(error::LIMIT_NEEDS_BY);
    }
    if withscores && kind == Kind::Lex {
        return Err(error::WITHSCORES_BYLEX);
    }
    let (mut lo, mut hi) = (&argv[src + 1], &argv[src + 2]);
    if rev && kind != Kind::Rank {
        // Score and lex ranges are written high end first when reversed.
        std::mem::swap(&mut lo, &mut hi);
    }
    let sel = match kind {
        Kind::Rank => Selector::Rank(args::int(lo)?, args::int(hi)?),
        Kind::Score => Selector::Score(parse_score_range(lo, hi)?),
        Kind::Lex => Selector::Lex(parse_lex_range(lo, hi)?),
    };
    let key = &argv[src];
    let items = match dst {
        Some(_) => match read_zset(ctx, key)? {
            Some(z) => select(z, &sel, rev, offset, limit),
            None => Vec::new(),
        },
        None => match read_zset(ctx, key)? {
            Some(z) => select(z, &sel, rev, offset, limit),
            None => return Ok(Reply::Array(Vec::new())),
        },
    };
    match dst {
        Some(dst) => {
            let lim = limits(ctx);
            let mut out = ZSet::new();
            for (m, s) in &items {
                out.insert(m, *s, lim);
            }
            Ok(Reply::int(store(ctx, dst, out, "zrangestore")))
        }
        None => Ok(range_reply(ctx, items, withscores)),
    }
}

/// Writes a computed result to `dst` (replacing whatever it held), or deletes `dst` when the
/// result is empty. Returns the stored length.
/// `event` is the keyspace event of a stored result (`zunionstore`, `zrangestore` ...).
fn store(ctx: &mut Ctx, dst: &[u8], z: ZSet, event: &str) -> usize {
    let now = ctx.now;
    let n = z.len();
    if n == 0 {
        // Redis replies with the stored length before it deletes.
        ctx.reply_point();
        if ctx.db().delete(dst, now).is_some() {
            ctx.signal_modified(dst);
            ctx.notify('g', "del", dst);
            ctx.dirty(1);
        }
    } else {
        // An expired destination goes first (an `expired` event), so the result is a new key.
        ctx.db().expire_if_needed(dst, now);
        ctx.db().set(dst, Value::ZSet(Box::new(z)), now);
        ctx.signal_modified(dst);
        // Redis replies after storing (a `new` key is published first), before its event.
        ctx.reply_point();
        ctx.notify('z', event, dst);
        ctx.dirty(1);
    }
    n
}

/// `ZRANGE key start stop [BYSCORE|BYLEX] [REV] [LIMIT offset count] [WITHSCORES]` → members
/// (with scores: flat pairs in RESP2, [member, score] arrays in RESP3).
fn zrange(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    range_generic(ctx, argv, 1, None, None, None)
}

/// `ZRANGESTORE dst src min max [BYSCORE|BYLEX] [REV] [LIMIT offset count]` → the number of
/// members stored.
fn zrangestore(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    range_generic(ctx, argv, 2, Some(&argv[1]), None, None)
}

/// `ZRANGEBYSCORE key min max [WITHSCORES] [LIMIT offset count]` → members.
fn zrangebyscore(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    range_generic(ctx, argv, 1, None, Some(Kind::Score), Some(false))
}

/// `ZREVRANGEBYSCORE key max min [WITHSCORES] [LIMIT offset count]` → members.
fn zrevrangebyscore(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    range_generic(ctx, argv, 1, None, Some(Kind::Score), Some(true))
}

/// `ZRANGEBYLEX key min max [LIMIT offset count]` → members.
fn zrangebylex(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    range_generic(ctx, argv, 1, None, Some(Kind::Lex), Some(false))
}

/// `ZREVRANGEBYLEX key max min [LIMIT offset count]` → members.
fn zrevrangebylex(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    range_generic(ctx, argv, 1, None, Some(Kind::Lex), Some(true))
}

/// `ZREVRANGE key start stop [WITHSCORES]` → members, highest score first.
fn zrevrange(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    range_generic(ctx, argv, 1, None, Some(Kind::Rank), Some(true))
}

// ---- removals ----

/// `ZREM key member [member ...]` → the number of members removed.
fn zrem(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    let key = &argv[1];
    let Some(z) = write_zset(ctx, key)? else {
        return Ok(Reply::Integer(0));
    };
    let mut removed = 0u64;
    for m in &argv[2..] {
        if z.remove(m).is_some() {
            removed += 1;
        }
        if z.is_empty() {
            break;
        }
    }
    if removed > 0 {
        ctx.notify('z', "zrem", key);
    }
    drop_if_empty(ctx, key);
    if removed > 0 {
        ctx.signal_modified(key);
        ctx.dirty(removed);
    }
    Ok(Reply::int(removed))
}

fn remrange_generic(ctx: &mut Ctx, argv: &[Vec<u8>], sel: Selector) -> CmdResult {
    let key = &argv[1];
    let Some(z) = write_zset(ctx, key)? else {
        return Ok(Reply::Integer(0));
    };
    let doomed = select(z, &sel, false, 0, -1);
    for (m, _) in &doomed {
        z.remove(m);
    }
    if !doomed.is_empty() {
        let event = match sel {
            Selector::Rank(..) => "zremrangebyrank",
            Selector::Score(_) => "zremrangebyscore",
            Selector::Lex(_) => "zremrangebylex",
        };
        ctx.notify('z', event, key);
    }
    drop_if_empty(ctx, key);
    if !doomed.is_empty() {
        ctx.signal_modified(key);
        ctx.dirty(doomed.len() as u64);
    }
    Ok(Reply::int(doomed.len()))
}

/// `ZREMRANGEBYRANK key start stop` → the number of members removed.
fn zremrangebyrank(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    let sel = Selector::Rank(args::int(&argv[2])?, args::int(&argv[3])?);
    remrange_generic(ctx, argv, sel)
}

/// `ZREMRANGEBYSCORE key min max` → the number of members removed.
fn zremrangebyscore(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    let sel = Selector::Score(parse_score_range(&argv[2], &argv[3])?);
    remrange_generic(ctx, argv, sel)
}

/// `ZREMRANGEBYLEX key min max` → the number of members removed.
fn zremrangebylex(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    let sel = Selector::Lex(parse_lex_range(&argv[2], &argv[3])?);
    remrange_generic(ctx, argv, sel)
}

// ---- pops ----

/// Pops up to `count` members from the low (or high, with `max`) end of the sorted set under
/// `key`, which must exist and be a sorted set; deletes the key when emptied and records the
/// change. Shared by ZPOPMIN, ZPOPMAX, ZMPOP and (later) their blocking forms.
pub fn pop(ctx: &mut Ctx, key: &[u8], max: bool, count: u64) -> Vec<(Vec<u8>, f64)> {
    let mut out = Vec::new();
    if let Ok(Some(z)) = write_zset(ctx, key) {
        let n = usize::try_from(count).unwrap_or(usize::MAX).min(z.len());
        for _ in 0..n {
            let picked = if max {
                z.iter_rev().next()
            } else {
                z.iter().next()
            };
            let Some((m, s)) = picked.map(|(m, s)| (m.to_vec(), s)) else {
                break;
            };
            z.remove(&m);
            out.push((m, s));
        }
    }
    if !out.is_empty() {
        ctx.notify('z', if max { "zpopmax" } else { "zpopmin" }, key);
    }
    drop_if_empty(ctx, key);
    if !out.is_empty() {
        ctx.signal_modified(key);
        ctx.dirty(out.len() as u64);
    }
    out
}

/// The pop a ZMPOP, BZMPOP or BZPOP* propagates as: ZPOPMIN/ZPOPMAX `key` [`count`].
fn propagate_pop(ctx: &mut Ctx, key: &[u8], max: bool, count: Option<usize>) {
    let name: &[u8] = if max { b"ZPOPMAX" } else { b"ZPOPMIN" };
    let mut argv = vec![name.to_vec(), key.to_vec()];
    if let Some(n) = count {
        argv.push(n.to_string().into_bytes());
    }
    ctx.propagate_as(argv);
}

/// `ZPOPMIN key [count]` → [member, score] without a count; with one, the popped pairs (flat in
/// RESP2, nested in RESP3).
fn zpopmin(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    zpop_generic(ctx, argv, false)
}

/// `ZPOPMAX key [count]` → as ZPOPMIN, from the highest scores.
fn zpopmax(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    zpop_generic(ctx, argv, true)
}

fn zpop_generic(ctx: &mut Ctx, argv: &[Vec<u8>], max: bool) -> CmdResult {
    if argv.len() > 3 {
        return Err(error::SYNTAX);
    }
    let count = match argv.get(2) {
        Some(a) => Some(args::uint(a).map_err(|_| error::POSITIVE)?),
        None => None,
    };
    let key = &argv[1];
    if write_zset(ctx, key)?.is_none() || count == Some(0) {
        return Ok(Reply::Array(Vec::new()));
    }
    let items = pop(ctx, key, max, count.unwrap_or(1));
    Ok(match count {
        None => scored_reply(items, false),
        Some(_) => scored_reply(items, resp3(ctx)),
    })
}

/// `ZMPOP numkeys key [key ...] MIN|MAX [COUNT count]` → [key, [[member, score] ...]] from
/// the first non-empty key, or a nil array when all are empty.
fn zmpop(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    let (keys, max, count) = parse_mpop(argv, 1)?;
    for key in keys {
        if write_zset(ctx, key)?.is_some() {
            let items = pop(ctx, key, max, count);
            propagate_pop(ctx, key, max, Some(items.len()));
            return Ok(Reply::Array(vec![
                Reply::bulk(key),
                scored_reply(items, true),
            ]));
        }
    }
    Ok(Reply::NilArray)
}

/// Parses `numkeys key [key ...] MIN|MAX [COUNT count]` starting at `numkeys_idx`: the keys,
/// whether to pop from the top, and the count. BZMPOP will reuse it.
pub fn parse_mpop(
    argv: &[Vec<u8>],
    numkeys_idx: usize,
) -> Result<(&[Vec<u8>], bool, u64), CmdError> {
    let numkeys_err = error::NUMKEYS_POSITIVE;
    let n = args::int(&argv[numkeys_idx]).map_err(|_| numkeys_err.clone())?;
    if n < 1 {
        return Err(numkeys_err);
    }
    let avail = argv.len() - numkeys_idx - 1;
    let n = usize::try_from(n).unwrap_or(usize::MAX);
    if n >= avail {
        return Err(error::SYNTAX);
    }
    let keys = &argv[numkeys_idx + 1..numkeys_idx + 1 + n];
    let where_idx = numkeys_idx + 1 + n;
    let max = if args::is(&argv[where_idx], "min") {
        false
    } else if args::is(&argv[where_idx], "max") {
        true
    } else {
        return Err(error::SYNTAX);
    };
    let mut count = None;
    let mut j = where_idx + 1;
    while j < argv.len() {
        if count.is_none() && args::is(&argv[j], "count") && j + 1 < argv.len() {
            let c = args::int(&argv[j + 1]).ok().filter(|c| *c >= 1);
            count = Some(c.ok_or(error::COUNT_POSITIVE)? as u64);
            j += 2;
        } else {
            return Err(error::SYNTAX);
        }
    }
    Ok((keys, max, count.unwrap_or(1)))
}

/// The first of `keys` holding a non-empty sorted set; WRONGTYPE when a key before it (or it)
/// holds another type.
fn first_nonempty<'k>(ctx: &mut Ctx, keys: &'k [Vec<u8>]) -> Result<Option<&'k [u8]>, CmdError> {
    for key in keys {
        if write_zset(ctx, key)?.is_some_and(|z| !z.is_empty()) {
            return Ok(Some(key));
        }
    }
    Ok(None)
}

/// Blocks on `keys` until `deadline` when the client may block; a client that may not (inside
/// MULTI) gets the timeout reply at once.
fn wait_for(ctx: &mut Ctx, keys: &[Vec<u8>], deadline: Option<i64>) -> CmdResult {
    if ctx.can_block() {
        ctx.block_on(keys.to_vec(), deadline, Reply::NilArray);
    }
    Ok(Reply::NilArray)
}

/// `BZPOPMIN key [key ...] timeout` → `[key, member, score]` from the first non-empty key, or
/// a nil array when the timeout passes.
fn bzpopmin(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    bzpop_generic(ctx, argv, false)
}

/// `BZPOPMAX key [key ...] timeout` → `[key, member, score]`, or a nil array on timeout.
fn bzpopmax(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    bzpop_generic(ctx, argv, true)
}

fn bzpop_generic(ctx: &mut Ctx, argv: &[Vec<u8>], max: bool) -> CmdResult {
    let deadline = args::block_deadline(&argv[argv.len() - 1], ctx.now)?;
    let keys = &argv[1..argv.len() - 1];
    // Served from a wait: the key that became ready only, whatever the others hold.
    let tried = super::blocking::serve_order(ctx, keys);
    match first_nonempty(ctx, tried)? {
        Some(key) => {
            let mut items = pop(ctx, key, max, 1);
            propagate_pop(ctx, key, max, None);
            let Some((m, s)) = items.pop() else {
                return Ok(Reply::NilArray);
            };
            Ok(Reply::Array(vec![
                Reply::bulk(key),
                Reply::Bulk(m),
                Reply::Double(s),
            ]))
        }
        None => wait_for(ctx, keys, deadline),
    }
}

/// `BZMPOP timeout numkeys key [key ...] MIN|MAX [COUNT count]` → `[key, [[member, score]
/// ...]]` from the first non-empty key, or a nil array when the timeout passes.
fn bzmpop(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    let (keys, max, count) = parse_mpop(argv, 2)?;
    let deadline = args::block_deadline(&argv[1], ctx.now)?;
    // Served from a wait: the key that became ready only, whatever the others hold.
    let tried = super::blocking::serve_order(ctx, keys);
    match first_nonempty(ctx, tried)? {
        Some(key) => {
            let items = pop(ctx, key, max, count);
            propagate_pop(ctx, key, max, Some(items.len()));
            Ok(Reply::Array(vec![
                Reply::bulk(key),
                scored_reply(items, true),
            ]))
        }
        None => wait_for(ctx, keys, deadline),
    }
}

// ---- random members ----

/// `ZRANDMEMBER key [count [WITHSCORES]]` → a member (nil for a missing key); with a count, an
/// array: distinct members for a positive count, possibly repeated ones for a negative count.
fn zrandmember(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    if argv.len() == 2 {
        let Some(len) = read_zset(ctx, &argv[1])?.map(|z| z.len()) else {
            return Ok(Reply::Nil);
        };
        let r = ctx.eng.rng.below(len as u64) as usize;
        let m = peek_zset(ctx, &argv[1])
            .and_then(|z| z.at(r))
            .map(|(m, _)| m.to_vec());
        return Ok(Reply::bulk_or_nil(m));
    }
    let count = args::int(&argv[2])?;
    if count == i64::MIN {
        return Err(error::RANGE_LONG);
    }
    let withscores = match argv.len() {
        3 => false,
        4 if args::is(&argv[3], "withscores") => true,
        _ => return Err(error::SYNTAX),
    };
    if withscores && !(-(i64::MAX / 2)..=i64::MAX / 2).contains(&count) {
        return Err(error::VALUE_OUT_OF_RANGE);
    }
    let Some(len) = read_zset(ctx, &argv[1])?.map(|z| z.len()) else {
        return Ok(Reply::Array(Vec::new()));
    };
    if count == 0 {
        return Ok(Reply::Array(Vec::new()));
    }
    let items: Vec<(Vec<u8>, f64)> = if count < 0 {
        let want = count.unsigned_abs();
        if want > MAX_RANDOM_REPLY {
            // Each element at least an empty bulk string (and a score of 1 byte).
            let min_bytes = if withscores { 13 } else { 6 };
            return ctx.reply_too_long(want, min_bytes, error::VALUE_OUT_OF_RANGE);
        }
        let mut out = Vec::with_capacity(want as usize);
        for _ in 0..want {
            let r = ctx.eng.rng.below(len as u64) as usize;
            if let Some((m, s)) = peek_zset(ctx, &argv[1]).and_then(|z| z.at(r)) {
                out.push((m.to_vec(), s));
            }
        }
        out
    } else if count as u64 >= len as u64 {
        // The whole set, in the order Redis's set iterator walks it (highest first).
        peek_zset(ctx, &argv[1])
            .into_iter()
            .flat_map(|z| z.iter_rev())
            .map(|(m, s)| (m.to_vec(), s))
            .collect()
    } else {
        let want = count as usize;
        let ranks = distinct_ranks(ctx, len, want);
        let z = peek_zset(ctx, &argv[1]);
        ranks
            .into_iter()
            .filter_map(|r| z.and_then(|z| z.at(r)).map(|(m, s)| (m.to_vec(), s)))
            .collect()
    };
    Ok(range_reply(ctx, items, withscores))
}

fn peek_zset<'a>(ctx: &'a mut Ctx, key: &[u8]) -> Option<&'a ZSet> {
    match ctx.db().peek(key).map(|e| &e.value) {
        Some(Value::ZSet(z)) => Some(z),
        _ => None,
    }
}

/// `want` distinct ranks below `len` (`want` < `len`), in random order.
fn distinct_ranks(ctx: &mut Ctx, len: usize, want: usize) -> Vec<usize> {
    if want * 3 > len {
        // Dense: a partial Fisher-Yates shuffle of all ranks.
        let mut all: Vec<usize> = (0..len).collect();
        for i in 0..want {
            let j = i + ctx.eng.rng.below((len - i) as u64) as usize;
            all.swap(i, j);
        }
        all.truncate(want);
        all
    } else {
        let mut seen = std::collections::HashSet::with_capacity(want);
        let mut out = Vec::with_capacity(want);
        while out.len() < want {
            let r = ctx.eng.rng.below(len as u64) as usize;
            if seen.insert(r) {
                out.push(r);
            }
        }
        out
    }
}

// ---- set operations ----

#[derive(Clone, Copy, PartialEq, Eq)]
enum SetOp {
    Union,
    Inter,
    Diff,
}

#[derive(Clone, Copy)]
enum Aggregate {
    Sum,
    Min,
    Max,
}

fn aggregate(target: &mut f64, v: f64, how: Aggregate) {
    match how {
        Aggregate::Sum => {
            *target += v;
            // inf + -inf is NaN; Redis settles on 0 instead.
            if target.is_nan() {
                *target = 0.0;
            }
        }
        Aggregate::Min => {
            if v < *target {
                *target = v;
            }
        }
        Aggregate::Max => {
            if v > *target {
                *target = v;
            }
        }
    }
}

/// One input of a set operation: a sorted set, or a plain set whose members all score 1.
#[derive(Clone, Copy)]
enum Source<'a> {
    Missing,
    Sorted(&'a ZSet),
    Plain(&'a Set),
}

impl<'a> Source<'a> {
    fn len(&self) -> usize {
        match self {
            Source::Missing => 0,
            Source::Sorted(z) => z.len(),
            Source::Plain(s) => s.len(),
        }
    }

    fn score(&self, m: &[u8]) -> Option<f64> {
        match self {
            Source::Missing => None,
            Source::Sorted(z) => z.score(m),
            Source::Plain(s) => s.contains(m).then_some(1.0),
        }
    }

    /// Elements in the order Redis's set-operation iterator visits them. Members come as
    /// `Cow` because a plain set may hold integers that are formatted on the way out.
    fn items(&self) -> Box<dyn Iterator<Item = (Cow<'a, [u8]>, f64)> + 'a> {
        match *self {
            Source::Missing => Box::new(std::iter::empty()),
            Source::Sorted(z) => Box::new(z.iter_rev().map(|(m, s)| (Cow::Borrowed(m), s))),
            Source::Plain(s) => Box::new(s.iter().map(|m| (m, 1.0))),
        }
    }
}

/// Whether a value may be an input of a set operation.
fn is_setop_input(v: &Value) -> bool {
    matches!(v, Value::ZSet(_) | Value::Set(_))
}

fn setop_generic(
    ctx: &mut Ctx,
    argv: &[Vec<u8>],
    numkeys_idx: usize,
    dst: Option<&[u8]>,
    op: SetOp,
    card_only: bool,
) -> CmdResult {
    let n = args::int(&argv[numkeys_idx])?;
    if n < 1 {
        return Err(error::needs_input_key(&argv[0]));
    }
    let avail = argv.len() - numkeys_idx - 1;
    let n = usize::try_from(n).unwrap_or(usize::MAX);
    if n > avail {
        return Err(error::SYNTAX);
    }
    let keys = &argv[numkeys_idx + 1..numkeys_idx + 1 + n];
    for k in keys {
        let found = if dst.is_some() {
            ctx.lookup_write(k)
        } else {
            ctx.lookup_read(k)
        };
        if let Some(e) = found {
            if !is_setop_input(&e.value) {
                return Err(error::WRONGTYPE);
            }
        }
    }
    let mut weights = vec![1.0f64; n];
    let mut how = Aggregate::Sum;
    let mut withscores = false;
    let mut limit = 0u64;
    let mut j = numkeys_idx + 1 + n;
    while j < argv.len() {
        let remaining = argv.len() - j;
        let a = &argv[j];
        if op != SetOp::Diff && !card_only && remaining > n && args::is(a, "weights") {
            for (i, w) in weights.iter_mut().enumerate() {
                *w = util::parse_f64(&argv[j + 1 + i]).ok_or(error::WEIGHT_NOT_FLOAT)?;
            }
            j += 1 + n;
        } else if op != SetOp::Diff && !card_only && remaining >= 2 && args::is(a, "aggregate") {
            let h = &argv[j + 1];
            how = if args::is(h, "sum") {
                Aggregate::Sum
            } else if args::is(h, "min") {
                Aggregate::Min
            } else if args::is(h, "max") {
                Aggregate::Max
            } else {
                return Err(error::SYNTAX);
            };
            j += 2;
        } else if dst.is_none() && !card_only && args::is(a, "withscores") {
            withscores = true;
            j += 1;
        } else if card_only && remaining >= 2 && args::is(a, "limit") {
            let l = args::int(&argv[j + 1]).ok().filter(|l| *l >= 0);
            limit = l.ok_or(error::LIMIT_NEGATIVE)? as u64;
            j += 2;
        } else {
            return Err(error::SYNTAX);
        }
    }

    let db = &ctx.eng.dbs[ctx.db];
    let mut srcs: Vec<(Source, f64)> = keys
        .iter()
        .zip(&weights)
        .map(|(k, w)| {
            let s = match db.peek(k).map(|e| &e.value) {
                Some(Value::ZSet(z)) => Source::Sorted(z),
                Some(Value::Set(s)) => Source::Plain(s),
                _ => Source::Missing,
            };
            (s, *w)
        })
        .collect();
    if op != SetOp::Diff {
        // Smallest first: cheaper intersections, and the order Redis folds scores in.
        srcs.sort_by_key(|(s, _)| s.len());
    }
    let mut out = ZSet::new();
    out.convert_to_skiplist();
    let unlimited = Limits {
        entries: usize::MAX,
        value: usize::MAX,
    };
    let mut card = 0u64;
    match op {
        SetOp::Union => {
            let mut acc: hashbrown::HashMap<Cow<[u8]>, f64> = hashbrown::HashMap::new();
            for (s, w) in &srcs {
                for (m, sc) in s.items() {
                    let mut v = w * sc;
                    if v.is_nan() {
                        v = 0.0;
                    }
                    match acc.get_mut(&m) {
                        Some(t) => aggregate(t, v, how),
                        None => {
                            acc.insert(m, v);
                        }
                    }
                }
            }
            for (m, s) in acc {
                out.insert(&m, s, unlimited);
            }
        }
        SetOp::Inter => {
            if srcs.iter().all(|(s, _)| s.len() > 0) {
                let (first, w0) = srcs[0];
                'outer: for (m, sc) in first.items() {
                    let mut t = w0 * sc;
                    if t.is_nan() {
                        t = 0.0;
                    }
                    for (s, w) in &srcs[1..] {
                        match s.score(&m) {
                            Some(v) => aggregate(&mut t, v * w, how),
                            None => continue 'outer,
                        }
                    }
                    if card_only {
                        card += 1;
                        if limit > 0 && card >= limit {
                            break;
                        }
                    } else {
                        out.insert(&m, t, unlimited);
                    }
                }
            }
        }
        SetOp::Diff => {
            let (first, _) = srcs[0];
            for (m, sc) in first.items() {
                if srcs[1..].iter().all(|(s, _)| s.score(&m).is_none()) {
                    out.insert(&m, sc, unlimited);
                }
            }
        }
    }
    if card_only {
        return Ok(Reply::int(card));
    }
    match dst {
        Some(dst) => {
            out.settle_encoding(limits(ctx));
            let event = match op {
                SetOp::Union => "zunionstore",
                SetOp::Inter => "zinterstore",
                SetOp::Diff => "zdiffstore",
            };
            Ok(Reply::int(store(ctx, dst, out, event)))
        }
        None => {
            let items = out.iter().map(|(m, s)| (m.to_vec(), s)).collect();
            Ok(range_reply(ctx, items, withscores))
        }
    }
}

/// `ZUNION numkeys key [key ...] [WEIGHTS w ...] [AGGREGATE SUM|MIN|MAX] [WITHSCORES]` →
/// the members of the union, ordered by combined score.
fn zunion(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    setop_generic(ctx, argv, 1, None, SetOp::Union, false)
}

/// `ZINTER numkeys key [key ...] [WEIGHTS w ...] [AGGREGATE SUM|MIN|MAX] [WITHSCORES]` →
/// the members common to all inputs.
fn zinter(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    setop_generic(ctx, argv, 1, None, SetOp::Inter, false)
}

/// `ZDIFF numkeys key [key ...] [WITHSCORES]` → the members of the first input only.
fn zdiff(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    setop_generic(ctx, argv, 1, None, SetOp::Diff, false)
}

/// `ZUNIONSTORE destination numkeys key [key ...] [WEIGHTS w ...] [AGGREGATE ...]` → the
/// size of the stored result.
fn zunionstore(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    setop_generic(ctx, argv, 2, Some(&argv[1]), SetOp::Union, false)
}

/// `ZINTERSTORE destination numkeys key [key ...] [WEIGHTS w ...] [AGGREGATE ...]` → the
/// size of the stored result.
fn zinterstore(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    setop_generic(ctx, argv, 2, Some(&argv[1]), SetOp::Inter, false)
}

/// `ZDIFFSTORE destination numkeys key [key ...]` → the size of the stored result.
fn zdiffstore(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    setop_generic(ctx, argv, 2, Some(&argv[1]), SetOp::Diff, false)
}

/// `ZINTERCARD numkeys key [key ...] [LIMIT limit]` → the size of the intersection, counting
/// stopped at `limit` when it is not 0.
fn zintercard(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    setop_generic(ctx, argv, 1, None, SetOp::Inter, true)
}

// ---- scan ----

/// `ZSCAN key cursor [MATCH pattern] [COUNT count]` → [next cursor, [member, score, ...]].
/// A listpack-encoded set comes back whole in one call, with cursor 0, as Redis does.
fn zscan(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    let cursor = args::cursor(&argv[2])?;
    let empty = || Reply::Array(vec![Reply::bulk("0"), Reply::Array(Vec::new())]);
    if read_zset(ctx, &argv[1])?.is_none() {
        return Ok(empty());
    }
    let mut pattern: Option<&[u8]> = None;
    let mut count = 10usize;
    let mut j = 3;
    while j < argv.len() {
        let left = argv.len() - j;
        if args::is(&argv[j], "count") && left >= 2 {
            let c = args::int(&argv[j + 1])?;
            if c < 1 {
                return Err(error::SYNTAX);
            }
            count = usize::try_from(c).unwrap_or(usize::MAX);
            j += 2;
        } else if args::is(&argv[j], "match") && left >= 2 {
            pattern = Some(&argv[j + 1])
                .map(|p| p.as_slice())
                .filter(|p| *p != b"*");
            j += 2;
        } else {
            return Err(error::SYNTAX);
        }
    }
    let Some(z) = peek_zset(ctx, &argv[1]) else {
        return Ok(empty());
    };
    let (next, items): (u64, Vec<(&[u8], f64)>) = if z.is_listpack() {
        (0, z.iter().collect())
    } else {
        scan::step(z.iter().map(|(m, s)| (m, (m, s))), cursor, count)
    };
    let mut out = Vec::with_capacity(items.len() * 2);
    for (m, s) in items {
        if pattern.is_some_and(|p| !util::glob::glob_match(p, m, false)) {
            continue;
        }
        out.push(Reply::bulk(m));
        out.push(Reply::bulk(util::fmt_g17(s)));
    }
    Ok(Reply::Array(vec![
        Reply::bulk(next.to_string()),
        Reply::Array(out),
    ]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Engine, EngineOptions};

    fn run(eng: &mut Engine, c: crate::ClientId, line: &str) -> Reply {
        let argv: Vec<Vec<u8>> = line.split(' ').map(|w| w.as_bytes().to_vec()).collect();
        eng.execute(c, &argv, 0).expect("a reply")
    }

    #[test]
    fn random_members_stay_bounded() {
        let mut eng = Engine::new(EngineOptions::default());
        let c = eng.open_client(0);
        run(&mut eng, c, "zadd z 1 a 2 b 3 c");
        // A huge positive count is the whole set, without reserving room for the count.
        let all = run(&mut eng, c, "zrandmember z 9223372036854775807");
        assert_eq!(
            all,
            Reply::Array(vec![Reply::bulk("c"), Reply::bulk("b"), Reply::bulk("a")])
        );
        // A huge negative count is refused rather than built.
        assert!(run(&mut eng, c, "zrandmember z -9223372036854775807").is_error());
        match run(&mut eng, c, "zrandmember z -1000") {
            Reply::Array(v) => assert_eq!(v.len(), 1000),
            other => panic!("{:?}", other),
        }
        match run(&mut eng, c, "zrandmember z 2") {
            Reply::Array(v) => {
                assert_eq!(v.len(), 2);
                assert_ne!(v[0], v[1]);
            }
            other => panic!("{:?}", other),
        }
    }

    #[test]
    fn pops_delete_the_emptied_key_and_count_changes() {
        let mut eng = Engine::new(EngineOptions::default());
        let c = eng.open_client(0);
        run(&mut eng, c, "zadd z 1 a 2 b");
        let before = eng.dirty;
        run(&mut eng, c, "zpopmin z 5");
        assert_eq!(eng.dirty - before, 2);
        assert!(eng.dbs[0].peek(b"z").is_none());
    }

    #[test]
    fn range_floats_follow_strtod_prefix_rules() {
        assert_eq!(strtod_whole(b""), Some(0.0));
        assert_eq!(strtod_whole(b" 1"), Some(1.0));
        assert_eq!(strtod_whole(b"1\0abc"), Some(1.0));
        assert_eq!(strtod_whole(b"+1"), Some(1.0));
        assert_eq!(strtod_whole(b"1e400"), Some(f64::INFINITY));
        assert_eq!(strtod_whole(b"-infinity"), Some(f64::NEG_INFINITY));
        assert_eq!(strtod_whole(b"0x10"), Some(16.0));
        assert_eq!(strtod_whole(b"0x1p3"), Some(8.0));
        assert_eq!(strtod_whole(b"1.5e2"), Some(150.0));
        assert_eq!(strtod_whole(b"5."), Some(5.0));
        for bad in [
            &b"nan"[..],
            b"1 ",
            b"1e",
            b"1e+",
            b".",
            b"(1",
            b"abc",
            b"0x",
            b"infx",
            b"-",
        ] {
            assert_eq!(
                strtod_whole(bad),
                None,
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
    }
}
