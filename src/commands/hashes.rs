//! The hash group: fields and values under one key, HINCRBY / HINCRBYFLOAT, HRANDFIELD, HSCAN.
//!
//! Encodings follow Redis (see [`crate::types::hash`]): a write converts a listpack hash to a
//! hashtable when it would hold more than `hash-max-listpack-entries` fields or a field or value
//! longer than `hash-max-listpack-value` bytes, read from the live configuration each time.

use super::args;
use super::scan;
use super::spec::*;
use crate::db::Entry;
use crate::engine::Ctx;
use crate::error::{self, CmdError, CmdResult};
use crate::protocol::Reply;
use crate::types::{Hash, Value};
use crate::util::glob::glob_match;
use crate::util::longdouble::LongDouble;
use crate::util::parse_i64;

/// The hash group's commands.
pub const COMMANDS: &[CommandSpec] = &[
    CommandSpec::new("hdel", -3, &[WRITE, FAST], hdel).doc(Group::Hash, "2.0.0", &[Arg::key("key", 0), Arg::string("field").multiple()], "Removes fields from a hash; the key goes when the last field does.").key_specs(&[KeySpec::new(&[RW, DELETE], index(1), range(0, 1, 0))]),
    CommandSpec::new("hexists", 3, &[READONLY, FAST], hexists).doc(Group::Hash, "2.0.0", &[Arg::key("key", 0), Arg::string("field")], "Tells whether a hash has a field.").key_specs(&[KeySpec::new(&[RO], index(1), range(0, 1, 0))]),
    CommandSpec::new("hget", 3, &[READONLY, FAST], hget).doc(Group::Hash, "2.0.0", &[Arg::key("key", 0), Arg::string("field")], "Returns the value of a field of a hash.").key_specs(&[KeySpec::new(&[RO, ACCESS], index(1), range(0, 1, 0))]),
    CommandSpec::new("hgetall", 2, &[READONLY], hgetall).doc(Group::Hash, "2.0.0", &[Arg::key("key", 0)], "Returns every field and value of a hash.").tips(&["nondeterministic_output_order"]).key_specs(&[KeySpec::new(&[RO, ACCESS], index(1), range(0, 1, 0))]),
    CommandSpec::new("hincrby", 4, &[WRITE, DENYOOM, FAST], hincrby).doc(Group::Hash, "2.0.0", &[Arg::key("key", 0), Arg::string("field"), Arg::integer("increment")], "Adds an integer to the integer held by a field of a hash.").key_specs(&[KeySpec::new(&[RW, ACCESS, UPDATE], index(1), range(0, 1, 0))]),
    CommandSpec::new("hincrbyfloat", 4, &[WRITE, DENYOOM, FAST], hincrbyfloat).doc(Group::Hash, "2.6.0", &[Arg::key("key", 0), Arg::string("field"), Arg::double("increment")], "Adds a decimal number to the number held by a field of a hash, in extended precision.").key_specs(&[KeySpec::new(&[RW, ACCESS, UPDATE], index(1), range(0, 1, 0))]),
    CommandSpec::new("hkeys", 2, &[READONLY], hkeys).doc(Group::Hash, "2.0.0", &[Arg::key("key", 0)], "Returns every field name of a hash.").tips(&["nondeterministic_output_order"]).key_specs(&[KeySpec::new(&[RO, ACCESS], index(1), range(0, 1, 0))]),
    CommandSpec::new("hlen", 2, &[READONLY, FAST], hlen).doc(Group::Hash, "2.0.0", &[Arg::key("key", 0)], "Returns the number of fields in a hash.").key_specs(&[KeySpec::new(&[RO], index(1), range(0, 1, 0))]),
    CommandSpec::new("hmget", -3, &[READONLY, FAST], hmget).doc(Group::Hash, "2.0.0", &[Arg::key("key", 0), Arg::string("field").multiple()], "Returns the values of several fields of a hash, nil for missing ones.").key_specs(&[KeySpec::new(&[RO, ACCESS], index(1), range(0, 1, 0))]),
    CommandSpec::new("hmset", -4, &[WRITE, DENYOOM, FAST], hmset).doc(Group::Hash, "2.0.0", &[Arg::key("key", 0), Arg::block("field_value", &[Arg::string("field"), Arg::string("value")]).multiple()], "Sets several fields of a hash (deprecated: HSET does the same and counts new fields).").key_specs(&[KeySpec::new(&[RW, UPDATE], index(1), range(0, 1, 0))]),
    CommandSpec::new("hrandfield", -2, &[READONLY], hrandfield).doc(Group::Hash, "6.2.0", &[Arg::key("key", 0), Arg::block("options", &[Arg::integer("count"), Arg::token("withvalues", "WITHVALUES").optional()]).optional()], "Returns random fields of a hash: distinct ones for a positive count, repeats allowed for a negative one.").tips(&["nondeterministic_output"]).key_specs(&[KeySpec::new(&[RO, ACCESS], index(1), range(0, 1, 0))]),
    CommandSpec::new("hscan", -3, &[READONLY], hscan).doc(Group::Hash, "2.8.0", &[Arg::key("key", 0), Arg::integer("cursor"), Arg::pattern("pattern").with_token("MATCH").optional(), Arg::integer("count").with_token("COUNT").optional()], "Iterates over the fields and values of a hash, a few at a time.").tips(&["nondeterministic_output"]).key_specs(&[KeySpec::new(&[RO, ACCESS], index(1), range(0, 1, 0))]),
    CommandSpec::new("hset", -4, &[WRITE, DENYOOM, FAST], hset).doc(Group::Hash, "2.0.0", &[Arg::key("key", 0), Arg::block("field_value", &[Arg::string("field"), Arg::string("value")]).multiple()], "Sets fields of a hash, creating it if needed; counts the fields that were new.").key_specs(&[KeySpec::new(&[RW, UPDATE], index(1), range(0, 1, 0))]),
    CommandSpec::new("hsetnx", 4, &[WRITE, DENYOOM, FAST], hsetnx).doc(Group::Hash, "2.0.0", &[Arg::key("key", 0), Arg::string("field"), Arg::string("value")], "Sets a field of a hash only when the field does not exist yet.").key_specs(&[KeySpec::new(&[RW, INSERT], index(1), range(0, 1, 0))]),
    CommandSpec::new("hstrlen", 3, &[READONLY, FAST], hstrlen).doc(Group::Hash, "3.2.0", &[Arg::key("key", 0), Arg::string("field")], "Returns the length of the value of a field of a hash.").key_specs(&[KeySpec::new(&[RO], index(1), range(0, 1, 0))]),
    CommandSpec::new("hvals", 2, &[READONLY], hvals).doc(Group::Hash, "2.0.0", &[Arg::key("key", 0)], "Returns every value of a hash.").tips(&["nondeterministic_output_order"]).key_specs(&[KeySpec::new(&[RO, ACCESS], index(1), range(0, 1, 0))]),
];

/// Longest reply with repeats (negative HRANDFIELD count) the playground builds. Redis has no
/// such limit and tries to build whatever it is asked for, running out of memory.
const MAX_RANDOM_REPLY: u64 = 1_000_000;

// ---------------------------------------------------------------------------------------------
// Shared helpers

/// The hash in a looked-up entry: None for a missing key, WRONGTYPE for another type.
fn hash_in(entry: Option<&mut Entry>) -> Result<Option<&mut Hash>, CmdError> {
    match entry {
        None => Ok(None),
        Some(e) => match &mut e.value {
            Value::Hash(h) => Ok(Some(h)),
            _ => Err(error::WRONGTYPE),
        },
    }
}

/// The hash under `key` for a write, created empty when the key is missing (Redis's
/// hashTypeLookupWriteOrCreate; every caller then stores at least one field).
fn hash_for_write<'a>(ctx: &'a mut Ctx, key: &[u8]) -> Result<&'a mut Hash, CmdError> {
    let now = ctx.now;
    if hash_in(ctx.lookup_write(key))?.is_none() {
        ctx.db().set(key, Value::Hash(Box::default()), now);
    }
    match ctx.db().get_mut(key, now) {
        Some(Entry {
            value: Value::Hash(h),
            ..
        }) => Ok(h),
        _ => Err(error::WRONGTYPE),
    }
}

/// The configured listpack limits: (max entries, max value length).
fn limits(ctx: &Ctx) -> (usize, usize) {
    (
        ctx.eng.config.hash_max_listpack_entries,
        ctx.eng.config.hash_max_listpack_value,
    )
}

// ---------------------------------------------------------------------------------------------
// Writes

/// HSET / HMSET: stores every field/value pair and returns how many fields were new. An odd
/// number of arguments is an arity error in the command's own name.
fn set_pairs(ctx: &mut Ctx, argv: &[Vec<u8>], name: &str) -> Result<usize, CmdError> {
    if argv.len() % 2 == 1 {
        return Err(error::wrong_arity(name));
    }
    let key = &argv[1];
    let (max_entries, max_value) = limits(ctx);
    let hash = hash_for_write(ctx, key)?;
    // Redis converts up front when any argument is too long for a listpack.
    hash.convert_for_lengths(argv[2..].iter().map(Vec::len), max_value);
    let mut created = 0;
    for pair in argv[2..].chunks_exact(2) {
        if hash.set(&pair[0], pair[1].clone(), max_entries, max_value) {
            created += 1;
        }
    }
    ctx.signal_modified(key);
    ctx.reply_point();
    ctx.notify('h', "hset", key);
    ctx.dirty(((argv.len() - 2) / 2) as u64);
    Ok(created)
}

/// `HSET key field value [field value ...]` → how many fields were new.
fn hset(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    set_pairs(ctx, argv, "hset").map(Reply::int)
}

/// `HMSET key field value [field value ...]` → OK.
fn hmset(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    set_pairs(ctx, argv, "hmset").map(|_| Reply::ok())
}

/// `HSETNX key field value` → 1 when the field was set, 0 when it already existed.
fn hsetnx(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    let key = &argv[1];
    let (max_entries, max_value) = limits(ctx);
    let hash = hash_for_write(ctx, key)?;
    if hash.contains(&argv[2]) {
        return Ok(Reply::Integer(0));
    }
    hash.set(&argv[2], argv[3].clone(), max_entries, max_value);
    ctx.signal_modified(key);
    ctx.reply_point();
    ctx.notify('h', "hset", key);
    ctx.dirty(1);
    Ok(Reply::Integer(1))
}

/// `HDEL key field [field ...]` → how many fields were removed; the key is deleted with its
/// last field.
fn hdel(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    let key = &argv[1];
    let Some(hash) = hash_in(ctx.lookup_write(key))? else {
        return Ok(Reply::Integer(0));
    };
    let mut deleted = 0;
    for field in &argv[2..] {
        if hash.delete(field) {
            deleted += 1;
            if hash.is_empty() {
                break;
            }
        }
    }
    let emptied = hash.is_empty();
    if deleted > 0 {
        ctx.notify('h', "hdel", key);
    }
    if emptied {
        let now = ctx.now;
        ctx.db().remove(key, now);
        ctx.notify('g', "del", key);
    }
    if deleted > 0 {
        ctx.signal_modified(key);
        ctx.dirty(deleted);
    }
    Ok(Reply::int(deleted))
}

/// `HINCRBY key field increment` → the field's new value; a missing field counts as 0.
fn hincrby(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    let incr = args::int(&argv[3])?;
    let key = &argv[1];
    let (max_entries, max_value) = limits(ctx);
    let hash = hash_for_write(ctx, key)?;
    let old = match hash.get(&argv[2]) {
        Some(v) => parse_i64(v).ok_or(error::HASH_NOT_INTEGER)?,
        None => 0,
    };
    let new = old.checked_add(incr).ok_or(error::OVERFLOW)?;
    hash.set(
        &argv[2],
        new.to_string().into_bytes(),
        max_entries,
        max_value,
    );
    ctx.signal_modified(key);
    ctx.reply_point();
    ctx.notify('h', "hincrby", key);
    ctx.dirty(1);
    Ok(Reply::Integer(new))
}

/// `HINCRBYFLOAT key field increment` → the field's new value as a bulk string, computed in
/// x87 extended precision and printed as Redis prints long doubles.
fn hincrbyfloat(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    let incr = LongDouble::parse(&argv[3]).ok_or(error::NOT_FLOAT)?;
    if !incr.is_finite() {
        return Err(error::NAN_OR_INFINITY);
    }
    let key = &argv[1];
    let (max_entries, max_value) = limits(ctx);
    let hash = hash_for_write(ctx, key)?;
    let old = match hash.get(&argv[2]) {
        // A listpack stores integer-looking values as integers, read back exactly.
        Some(v) => match parse_i64(v) {
            Some(n) => LongDouble::from_i64(n),
            None => LongDouble::parse(v).ok_or(error::HASH_NOT_FLOAT)?,
        },
        None => LongDouble::ZERO,
    };
    let sum = old.add(incr);
    if !sum.is_finite() {
        return Err(error::NAN_OR_INF);
    }
    let text = sum.format_human().into_bytes();
    let reply = Reply::bulk(&text);
    hash.set(&argv[2], text, max_entries, max_value);
    ctx.signal_modified(key);
    ctx.reply_point();
    ctx.notify('h', "hincrbyfloat", key);
    ctx.dirty(1);
    // The result, not the increment: float arithmetic may differ where it is replayed.
    if let Reply::Bulk(text) = &reply {
        ctx.propagate_as(vec![
            b"HSET".to_vec(),
            key.to_vec(),
            argv[2].clone(),
            text.clone(),
        ]);
    }
    Ok(reply)
}

// ---------------------------------------------------------------------------------------------
// Reads

/// `HGET key field` → the value, or nil.
fn hget(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    let hash = hash_in(ctx.lookup_read(&argv[1]))?;
    Ok(Reply::bulk_or_nil(hash.and_then(|h| h.get(&argv[2]))))
}

/// `HMGET key field [field ...]` → one value or nil per field (all nil for a missing key).
fn hmget(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    let hash = hash_in(ctx.lookup_read(&argv[1]))?;
    let hash = hash.as_deref();
    Ok(Reply::Array(
        argv[2..]
            .iter()
            .map(|f| Reply::bulk_or_nil(hash.and_then(|h| h.get(f))))
            .collect(),
    ))
}

/// `HLEN key` → the number of fields (0 for a missing key).
fn hlen(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    let hash = hash_in(ctx.lookup_read(&argv[1]))?;
    Ok(Reply::int(hash.map_or(0, |h| h.len())))
}

/// `HSTRLEN key field` → the length of the field's value (0 when missing).
fn hstrlen(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    let hash = hash_in(ctx.lookup_read(&argv[1]))?;
    Ok(Reply::int(
        hash.and_then(|h| h.get(&argv[2])).map_or(0, <[u8]>::len),
    ))
}

/// `HEXISTS key field` → 1 when the field exists, else 0.
fn hexists(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    let hash = hash_in(ctx.lookup_read(&argv[1]))?;
    Ok(Reply::Integer(i64::from(
        hash.is_some_and(|h| h.contains(&argv[2])),
    )))
}

/// `HKEYS key` → every field (insertion order while the hash is a listpack).
fn hkeys(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    let hash = hash_in(ctx.lookup_read(&argv[1]))?.map(|h| &*h);
    Ok(Reply::Bulks(
        hash.into_iter()
            .flat_map(|h| h.iter().map(|(f, _)| f))
            .collect(),
    ))
}

/// `HVALS key` → every value, in the order HKEYS lists the fields.
fn hvals(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    let hash = hash_in(ctx.lookup_read(&argv[1]))?.map(|h| &*h);
    Ok(Reply::Bulks(
        hash.into_iter()
            .flat_map(|h| h.iter().map(|(_, v)| v))
            .collect(),
    ))
}

/// `HGETALL key` → a map of every field to its value (a flat array in RESP2).
fn hgetall(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    let hash = hash_in(ctx.lookup_read(&argv[1]))?.map(|h| &*h);
    Ok(Reply::Map(
        hash.into_iter()
            .flat_map(|h| h.iter().map(|(f, v)| (Reply::bulk(f), Reply::bulk(v))))
            .collect(),
    ))
}

/// `HRANDFIELD key [count [WITHVALUES]]` → without a count, one random field (nil for a missing
/// key); with a count, an array: distinct fields for a positive count (the whole hash when it
/// is at least the size), `|count|` independent picks for a negative one. WITHVALUES adds each
/// value: flat in RESP2, `[field, value]` pairs in RESP3.
fn hrandfield(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    if argv.len() >= 3 {
        let count = args::int(&argv[2])?;
        if count == i64::MIN {
            return Err(error::RANGE_LONG);
        }
        let withvalues = match argv.get(3) {
            _ if argv.len() > 4 => return Err(error::SYNTAX),
            Some(a) if !args::is(a, "withvalues") => return Err(error::SYNTAX),
            Some(_) => true,
            None => false,
        };
        // Redis refuses counts whose reply length (doubled by the values) could overflow.
        if withvalues && !(-(i64::MAX / 2)..=i64::MAX / 2).contains(&count) {
            return Err(error::VALUE_OUT_OF_RANGE);
        }
        return hrandfield_count(ctx, &argv[1], count, withvalues);
    }
    let Some(len) = hash_in(ctx.lookup_read(&argv[1]))?.map(|h| h.len()) else {
        return Ok(Reply::Nil);
    };
    let i = ctx.eng.rng.below(len as u64) as usize;
    match ctx.eng.dbs[ctx.db].peek(&argv[1]) {
        Some(Entry {
            value: Value::Hash(h),
            ..
        }) => Ok(Reply::bulk_or_nil(h.nth(i).map(|(f, _)| f))),
        _ => Ok(Reply::Nil),
    }
}

/// HRANDFIELD with a count (already validated): see [`hrandfield`] for the reply.
fn hrandfield_count(ctx: &mut Ctx, key: &[u8], count: i64, withvalues: bool) -> CmdResult {
    let resp3 = ctx.eng.proto(ctx.client) == 3;
    let (wanted, distinct) = (count.unsigned_abs(), count >= 0);
    if hash_in(ctx.lookup_read(key))?.is_none() || wanted == 0 {
        return Ok(Reply::Array(Vec::new()));
    }
    if !distinct && wanted > MAX_RANDOM_REPLY {
        // Each element at least an empty bulk string (two with values).
        let min_bytes = if withvalues { 12 } else { 6 };
        return ctx.reply_too_long(wanted, min_bytes, error::RANDOM_REPLY_TOO_LONG);
    }
    let eng = &mut *ctx.eng;
    let Some(Entry {
        value: Value::Hash(hash),
        ..
    }) = eng.dbs[ctx.db].peek(key)
    else {
        return Ok(Reply::Array(Vec::new()));
    };
    let rng = &mut eng.rng;
    let size = hash.len();
    let picks: Vec<usize> = if !distinct || wanted == 1 {
        (0..wanted)
            .map(|_| rng.below(size as u64) as usize)
            .collect()
    } else if wanted >= size as u64 {
        (0..size).collect()
    } else {
        // wanted < size here, so everything below is bounded by the hash's size.
        let wanted = wanted as usize;
        let mut chosen: Vec<usize> = if wanted * 3 > size {
            // Many of them: drop random positions until the rest is the right size.
            let mut all: Vec<usize> = (0..size).collect();
            while all.len() > wanted {
                let i = rng.below(all.len() as u64) as usize;
                all.swap_remove(i);
            }
            all
        } else {
            // Few of many: draw until enough distinct positions turned up.
            let mut seen = vec![false; size];
            let mut out = Vec::with_capacity(wanted);
            while out.len() < wanted {
                let i = rng.below(size as u64) as usize;
                if !std::mem::replace(&mut seen[i], true) {
                    out.push(i);
                }
            }
            out
        };
        if hash.is_listpack() {
            // A listpack sample comes back in the listpack's order.
            chosen.sort_unstable();
        }
        chosen
    };
    let mut out = Vec::with_capacity(picks.len() * if withvalues && !resp3 { 2 } else { 1 });
    for i in picks {
        let Some((f, v)) = hash.nth(i) else { continue };
        match (withvalues, resp3) {
            (false, _) => out.push(Reply::bulk(f)),
            (true, false) => {
                out.push(Reply::bulk(f));
                out.push(Reply::bulk(v));
            }
            (true, true) => out.push(Reply::Array(vec![Reply::bulk(f), Reply::bulk(v)])),
        }
    }
    Ok(Reply::Array(out))
}

/// `HSCAN key cursor [MATCH pattern] [COUNT count]` → `[next cursor, [field, value, ...]]`. A
/// listpack hash comes back whole with cursor 0, as in Redis; a hashtable is walked a few
/// fields at a time (see [`scan`]).
fn hscan(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    let cursor = args::cursor(&argv[2])?;
    let empty = || Reply::Array(vec![Reply::bulk("0"), Reply::Array(Vec::new())]);
    let Some(hash) = hash_in(ctx.lookup_read(&argv[1]))?.map(|h| &*h) else {
        return Ok(empty());
    };
    let mut count: usize = 10;
    let mut pattern: Option<&[u8]> = None;
    let mut i = 3;
    while i < argv.len() {
        let more = i + 1 < argv.len();
        if args::is(&argv[i], "count") && more {
            let n = args::int(&argv[i + 1])?;
            if n < 1 {
                return Err(error::SYNTAX);
            }
            // Any count past the hash's size means "all of it"; the cap keeps the walk's
            // arithmetic far from overflow on 32-bit targets.
            count = usize::try_from(n).unwrap_or(usize::MAX).min(1 << 28);
        } else if args::is(&argv[i], "match") && more {
            // "*" matches everything: skip the matching altogether, as Redis does.
            pattern = Some(argv[i + 1].as_slice()).filter(|p| *p != b"*");
        } else {
            return Err(error::SYNTAX);
        }
        i += 2;
    }
    type Pair<'a> = (&'a [u8], &'a [u8]);
    let (next, pairs): (u64, Vec<Pair>) = if hash.is_listpack() {
        (0, hash.iter().collect())
    } else {
        scan::step(hash.iter().map(|(f, v)| (f, (f, v))), cursor, count)
    };
    let mut items = Vec::with_capacity(pairs.len() * 2);
    for (f, v) in pairs {
        if pattern.is_some_and(|p| !glob_match(p, f, false)) {
            continue;
        }
        items.push(Reply::bulk(f));
        items.push(Reply::bulk(v));
    }
    Ok(Reply::Array(vec![
        Reply::bulk(next.to_string()),
        Reply::Array(items),
    ]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::{encoding as enc, engine, run as cmd};

    #[test]
    fn configured_limits_apply_to_later_writes() {
        let (mut e, c) = engine();
        e.config.hash_max_listpack_entries = 2;
        cmd(&mut e, c, "HSET h a 1 b 2");
        assert_eq!(enc(&e, "h"), "listpack");
        cmd(&mut e, c, "HSET h c 3");
        assert_eq!(enc(&e, "h"), "hashtable");
        cmd(&mut e, c, "HDEL h b c");
        assert_eq!(enc(&e, "h"), "hashtable");

        e.config.hash_max_listpack_entries = 0;
        cmd(&mut e, c, "HSET z a 1");
        assert_eq!(enc(&e, "z"), "hashtable");

        e.config.hash_max_listpack_entries = 128;
        e.config.hash_max_listpack_value = 3;
        cmd(&mut e, c, "HSET v abc 123");
        assert_eq!(enc(&e, "v"), "listpack");
        cmd(&mut e, c, "HINCRBY v abc 1000");
        assert_eq!(enc(&e, "v"), "hashtable");
        assert_eq!(cmd(&mut e, c, "HGET v abc"), Reply::bulk("1123"));
    }

    #[test]
    fn failed_increments_create_nothing() {
        let (mut e, c) = engine();
        assert!(cmd(&mut e, c, "HINCRBY h f x").is_error());
        assert!(cmd(&mut e, c, "HINCRBYFLOAT h f inf").is_error());
        assert!(e.dbs[0].peek(b"h").is_none());
        cmd(&mut e, c, "HSET h f 9223372036854775807");
        assert!(cmd(&mut e, c, "HINCRBY h f 1").is_error());
        assert_eq!(
            cmd(&mut e, c, "HGET h f"),
            Reply::bulk("9223372036854775807")
        );
    }

    #[test]
    fn huge_negative_counts_are_refused_not_allocated() {
        let (mut e, c) = engine();
        cmd(&mut e, c, "HSET h a 1 b 2");
        let r = cmd(&mut e, c, "HRANDFIELD h -9223372036854775807");
        assert_eq!(r, Reply::Error(error::RANDOM_REPLY_TOO_LONG.0));
        let r = cmd(&mut e, c, "HRANDFIELD h -4611686018427387903 WITHVALUES");
        assert_eq!(r, Reply::Error(error::RANDOM_REPLY_TOO_LONG.0));
        match cmd(&mut e, c, "HRANDFIELD h -1000000") {
            Reply::Array(v) => assert_eq!(v.len(), 1_000_000),
            other => panic!("{:?}", other),
        }
        // With a hard output-buffer limit the reply would pass, the connection closes the way
        // Redis's limit closes it partway through such a reply: nothing is written.
        let set: [&[u8]; 4] = [
            b"CONFIG",
            b"SET",
            b"client-output-buffer-limit",
            b"normal 1000000 0 0",
        ];
        crate::testkit::run_args(&mut e, c, &set);
        assert_eq!(
            cmd(&mut e, c, "HRANDFIELD h -999999999"),
            Reply::Multi(Vec::new())
        );
        assert!(e.clients[&c].closing);
        // A script's call is under no output limit: refused, its caller kept.
        let (mut e, c) = engine();
        cmd(&mut e, c, "HSET h a 1");
        crate::testkit::run_args(&mut e, c, &set);
        let script: [&[u8]; 3] = [
            b"EVAL",
            b"return redis.pcall('hrandfield', 'h', -999999999)",
            b"0",
        ];
        let r = crate::testkit::run_args(&mut e, c, &script);
        assert!(matches!(r, Reply::Error(_)), "{r:?}");
        assert!(!e.clients[&c].closing);
    }

    #[test]
    fn hscan_walks_a_hashtable_completely() {
        let (mut e, c) = engine();
        let mut line = String::from("HSET big");
        for i in 0..600 {
            line.push_str(&format!(" f{} v{}", i, i));
        }
        cmd(&mut e, c, &line);
        assert_eq!(enc(&e, "big"), "hashtable");
        let mut cursor = "0".to_string();
        let mut seen = Vec::new();
        loop {
            let Reply::Array(parts) = cmd(&mut e, c, &format!("HSCAN big {} COUNT 7", cursor))
            else {
                panic!("not an array")
            };
            let (Reply::Bulk(next), Reply::Array(items)) = (&parts[0], &parts[1]) else {
                panic!("bad shape")
            };
            for pair in items.chunks(2) {
                seen.push(pair[0].clone());
            }
            cursor = String::from_utf8(next.clone()).expect("digits");
            if cursor == "0" {
                break;
            }
        }
        seen.sort_by_key(|r| r.to_resp(2));
        seen.dedup();
        assert_eq!(seen.len(), 600);
    }
}
