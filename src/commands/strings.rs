//! The strings command group: GET, SET and its options, counters, ranges, LCS.
//!
//! Values keep the encoding `OBJECT ENCODING` reports: whole values stored by SET, MSET,
//! GETSET, SETNX, SETEX and APPEND-to-a-new-key get Redis's `tryObjectEncoding` choice (int,
//! embstr or raw); INCR-family results are int; INCRBYFLOAT results are embstr or raw, never
//! int; strings modified in place (APPEND to an existing key, SETRANGE) are raw.

use super::args;
use super::spec::*;
use crate::db::KeyPos;
use crate::engine::Ctx;
use crate::error::{self, CmdError, CmdResult};
use crate::protocol::Reply;
use crate::types::{StrEncoding, Value};
use crate::util::longdouble::LongDouble;
use crate::util::parse_i64;

/// This group's commands.
pub const COMMANDS: &[CommandSpec] = &[
    CommandSpec::new("append", 3, &[WRITE, DENYOOM, FAST], append).doc(Group::String, "2.0.0", &[Arg::key("key", 0), Arg::string("value")], "Adds bytes to the end of a string, creating it when missing; replies the new length.").key_specs(&[KeySpec::new(&[RW, INSERT], index(1), range(0, 1, 0))]),
    CommandSpec::new("decr", 2, &[WRITE, DENYOOM, FAST], decr).doc(Group::String, "1.0.0", &[Arg::key("key", 0)], "Subtracts one from the integer held by a key (0 when missing).").key_specs(&[KeySpec::new(&[RW, ACCESS, UPDATE], index(1), range(0, 1, 0))]),
    CommandSpec::new("decrby", 3, &[WRITE, DENYOOM, FAST], decrby).doc(Group::String, "1.0.0", &[Arg::key("key", 0), Arg::integer("decrement")], "Subtracts a number from the integer held by a key (0 when missing).").key_specs(&[KeySpec::new(&[RW, ACCESS, UPDATE], index(1), range(0, 1, 0))]),
    CommandSpec::new("get", 2, &[READONLY, FAST], get).doc(Group::String, "1.0.0", &[Arg::key("key", 0)], "Returns the string held by a key, or nil.").key_specs(&[KeySpec::new(&[RO, ACCESS], index(1), range(0, 1, 0))]),
    CommandSpec::new("getdel", 2, &[WRITE, FAST], getdel).doc(Group::String, "6.2.0", &[Arg::key("key", 0)], "Returns the string held by a key and removes the key.").key_specs(&[KeySpec::new(&[RW, ACCESS, DELETE], index(1), range(0, 1, 0))]),
    CommandSpec::new("getex", -2, &[WRITE, FAST], getex).doc(Group::String, "6.2.0", &[Arg::key("key", 0), Arg::oneof("expiration", &[Arg::integer("seconds").with_token("EX"), Arg::integer("milliseconds").with_token("PX"), Arg::unix_time("unix-time-seconds").with_token("EXAT"), Arg::unix_time("unix-time-milliseconds").with_token("PXAT"), Arg::token("persist", "PERSIST")]).optional()], "Returns the string held by a key and optionally changes or removes its time to live.").key_specs(&[KeySpec::new(&[RW, ACCESS, UPDATE], index(1), range(0, 1, 0)).notes("RW and UPDATE because it changes the TTL")]),
    CommandSpec::new("getrange", 4, &[READONLY], getrange).doc(Group::String, "2.4.0", &[Arg::key("key", 0), Arg::integer("start"), Arg::integer("end")], "Returns the bytes of a string between two offsets (negative ones count from the end).").key_specs(&[KeySpec::new(&[RO, ACCESS], index(1), range(0, 1, 0))]),
    CommandSpec::new("getset", 3, &[WRITE, DENYOOM, FAST], getset).doc(Group::String, "1.0.0", &[Arg::key("key", 0), Arg::string("value")], "Stores a string and returns the previous one (deprecated: SET with GET).").key_specs(&[KeySpec::new(&[RW, ACCESS, UPDATE], index(1), range(0, 1, 0))]),
    CommandSpec::new("incr", 2, &[WRITE, DENYOOM, FAST], incr).doc(Group::String, "1.0.0", &[Arg::key("key", 0)], "Adds one to the integer held by a key (0 when missing).").key_specs(&[KeySpec::new(&[RW, ACCESS, UPDATE], index(1), range(0, 1, 0))]),
    CommandSpec::new("incrby", 3, &[WRITE, DENYOOM, FAST], incrby).doc(Group::String, "1.0.0", &[Arg::key("key", 0), Arg::integer("increment")], "Adds a number to the integer held by a key (0 when missing).").key_specs(&[KeySpec::new(&[RW, ACCESS, UPDATE], index(1), range(0, 1, 0))]),
    CommandSpec::new("incrbyfloat", 3, &[WRITE, DENYOOM, FAST], incrbyfloat).doc(Group::String, "2.6.0", &[Arg::key("key", 0), Arg::double("increment")], "Adds a decimal number to the number held by a key, in extended precision.").key_specs(&[KeySpec::new(&[RW, ACCESS, UPDATE], index(1), range(0, 1, 0))]),
    CommandSpec::new("lcs", -3, &[READONLY], lcs).doc(Group::String, "7.0.0", &[Arg::key("key1", 0), Arg::key("key2", 0), Arg::token("len", "LEN").optional(), Arg::token("idx", "IDX").optional(), Arg::integer("len").with_token("MINMATCHLEN").optional(), Arg::token("withmatchlen", "WITHMATCHLEN").optional()], "Finds the longest common subsequence of two strings, its length or its matching ranges.").key_specs(&[KeySpec::new(&[RO, ACCESS], index(1), range(1, 1, 0))]),
    CommandSpec::new("mget", -2, &[READONLY, FAST], mget).doc(Group::String, "1.0.0", &[Arg::key("key", 0).multiple()], "Returns the strings held by several keys, nil for missing or non-string ones.").key_specs(&[KeySpec::new(&[RO, ACCESS], index(1), range(-1, 1, 0))]).tips(&["request_policy:multi_shard"]),
    CommandSpec::new("mset", -3, &[WRITE, DENYOOM], mset).doc(Group::String, "1.0.1", &[Arg::block("key_value", &[Arg::key("key", 0), Arg::string("value")]).multiple()], "Stores several strings at once.").key_specs(&[KeySpec::new(&[OW, UPDATE], index(1), range(-1, 2, 0))]).tips(&["request_policy:multi_shard", "response_policy:all_succeeded"]),
    CommandSpec::new("msetnx", -3, &[WRITE, DENYOOM], msetnx).doc(Group::String, "1.0.1", &[Arg::block("key_value", &[Arg::key("key", 0), Arg::string("value")]).multiple()], "Stores several strings at once, only when none of the keys exists.").key_specs(&[KeySpec::new(&[OW, INSERT], index(1), range(-1, 2, 0))]).tips(&["request_policy:multi_shard", "response_policy:agg_min"]),
    CommandSpec::new("psetex", 4, &[WRITE, DENYOOM], psetex).doc(Group::String, "2.6.0", &[Arg::key("key", 0), Arg::integer("milliseconds"), Arg::string("value")], "Stores a string that expires after a number of milliseconds.").key_specs(&[KeySpec::new(&[OW, UPDATE], index(1), range(0, 1, 0))]),
    CommandSpec::new("set", -3, &[WRITE, DENYOOM], set).doc(Group::String, "1.0.0", &[Arg::key("key", 0), Arg::string("value"), Arg::oneof("condition", &[Arg::token("nx", "NX"), Arg::token("xx", "XX")]).optional().since("2.6.12"), Arg::token("get", "GET").optional().since("6.2.0"), Arg::oneof("expiration", &[Arg::integer("seconds").with_token("EX").since("2.6.12"), Arg::integer("milliseconds").with_token("PX").since("2.6.12"), Arg::unix_time("unix-time-seconds").with_token("EXAT").since("6.2.0"), Arg::unix_time("unix-time-milliseconds").with_token("PXAT").since("6.2.0"), Arg::token("keepttl", "KEEPTTL").since("6.0.0")]).optional()], "Stores a string, with conditions, a time to live, or a reply of the previous value.").key_specs(&[KeySpec::new(&[RW, ACCESS, UPDATE, VARIABLE_FLAGS], index(1), range(0, 1, 0)).notes("RW and ACCESS due to the optional `GET` argument")]),
    CommandSpec::new("setex", 4, &[WRITE, DENYOOM], setex).doc(Group::String, "2.0.0", &[Arg::key("key", 0), Arg::integer("seconds"), Arg::string("value")], "Stores a string that expires after a number of seconds.").key_specs(&[KeySpec::new(&[OW, UPDATE], index(1), range(0, 1, 0))]),
    CommandSpec::new("setnx", 3, &[WRITE, DENYOOM, FAST], setnx).doc(Group::String, "1.0.0", &[Arg::key("key", 0), Arg::string("value")], "Stores a string only when the key does not exist; replies 1 when it did.").key_specs(&[KeySpec::new(&[OW, INSERT], index(1), range(0, 1, 0))]),
    CommandSpec::new("setrange", 4, &[WRITE, DENYOOM], setrange).doc(Group::String, "2.2.0", &[Arg::key("key", 0), Arg::integer("offset"), Arg::string("value")], "Overwrites bytes of a string from an offset, padding with zero bytes; replies the length.").key_specs(&[KeySpec::new(&[RW, UPDATE], index(1), range(0, 1, 0))]),
    CommandSpec::new("strlen", 2, &[READONLY, FAST], strlen).doc(Group::String, "2.2.0", &[Arg::key("key", 0)], "Returns the length in bytes of the string held by a key (0 when missing).").key_specs(&[KeySpec::new(&[RO], index(1), range(0, 1, 0))]),
    CommandSpec::new("substr", 4, &[READONLY], getrange).doc(Group::String, "1.0.0", &[Arg::key("key", 0), Arg::integer("start"), Arg::integer("end")], "Returns the bytes of a string between two offsets (deprecated: GETRANGE).").key_specs(&[KeySpec::new(&[RO, ACCESS], index(1), range(0, 1, 0))]),
];

/// An argument as C sees it: up to its first NUL byte. Redis compares option keywords with
/// C string functions, so `"nx\0junk"` is NX.
fn cstr(arg: &[u8]) -> &[u8] {
    arg.iter().position(|&c| c == 0).map_or(arg, |i| &arg[..i])
}

/// Whether the option argument is the keyword `kw`, compared as Redis compares it.
fn opt_is(arg: &[u8], kw: &str) -> bool {
    cstr(arg).eq_ignore_ascii_case(kw.as_bytes())
}

/// The string held by `key` for a read, None when missing, WRONGTYPE for another type.
fn read_string(ctx: &mut Ctx, key: &[u8]) -> Result<Option<Vec<u8>>, CmdError> {
    match ctx.lookup_read(key) {
        None => Ok(None),
        Some(e) => e
            .value
            .as_str()
            .map(|s| Some(s.to_vec()))
            .ok_or(error::WRONGTYPE),
    }
}

/// A string value with the given bytes and encoding.
fn string_value(bytes: Vec<u8>, enc: StrEncoding) -> Value {
    Value::Str(bytes.into(), enc)
}

/// An integer result, int-encoded as Redis creates counters.
fn int_value(n: i64) -> Value {
    let mut buf = [0u8; crate::util::I64_DIGITS];
    Value::Str(
        crate::types::CompactBytes::new(crate::util::i64_digits(n, &mut buf)),
        StrEncoding::Int,
    )
}

/// Stores a whole new value under `key` (SET, GETSET, MSET ...), dropping its time to live
/// unless `keep_ttl`. Under an LFU policy an overwritten key keeps its access counter and
/// decay time, as Redis copies them from the old object to the new one.
fn store(ctx: &mut Ctx, key: &[u8], value: Value, keep_ttl: bool) {
    store_at(ctx, key, None, value, keep_ttl);
}

/// [`store`], where `at` is where the key is live when the caller just looked it up (with
/// nothing changed since): the value goes there without a second lookup.
fn store_at(ctx: &mut Ctx, key: &[u8], at: Option<KeyPos>, value: Value, keep_ttl: bool) {
    let now = ctx.now;
    let keep_lfu = ctx.eng.config.lfu_policy();
    let db = ctx.db();
    if let Some(pos) = at {
        let e = db.entry_at(pos);
        if keep_ttl {
            e.replace_value(value);
            e.touch(now);
        } else if keep_lfu {
            let (lfu, touched) = (e.lfu, e.touched_at());
            db.set_at(pos, value, now);
            let e = db.entry_at(pos);
            e.lfu = lfu;
            e.touch(touched);
        } else {
            db.set_at(pos, value, now);
        }
        return;
    }
    let old_access = if keep_lfu {
        db.get(key, now).map(|e| (e.lfu, e.touched_at()))
    } else {
        None
    };
    if keep_ttl {
        db.set_keep_ttl(key, value, now);
    } else {
        db.set(key, value, now);
    }
    if let (Some((lfu, touched)), Some(e)) = (old_access, db.get_mut(key, now)) {
        e.lfu = lfu;
        e.touch(touched);
    }
}

/// Makes the value just stored under `key` a private object when Redis would not hand out its
/// shared small integers: with a memory limit under an LRU or LFU policy, each value needs its
/// own access data (OBJECT REFCOUNT then answers 1).
fn mark_fresh_value(ctx: &mut Ctx, key: &[u8]) {
    let cfg = &ctx.eng.config;
    let per_object_lru =
        cfg.maxmemory_policy.ends_with("-lru") || cfg.maxmemory_policy.ends_with("-lfu");
    if cfg.maxmemory == 0 || !per_object_lru {
        return;
    }
    let now = ctx.now;
    if let Some(e) = ctx.db().get_mut(key, now) {
        e.unshared = true;
    }
}

// ---------------------------------------------------------------------------------------------
// SET and its relatives

/// Which expire option was given.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ExpireKind {
    /// Seconds from now.
    Ex,
    /// Milliseconds from now.
    Px,
    /// Unix time in seconds.
    Exat,
    /// Unix time in milliseconds.
    Pxat,
}

/// The options SET and GETEX share, as Redis parses them.
#[derive(Default)]
struct StringOpts<'a> {
    nx: bool,
    xx: bool,
    get: bool,
    keepttl: bool,
    persist: bool,
    expire: Option<(ExpireKind, &'a [u8])>,
}

/// Which command's options are being read: SET accepts NX, XX, GET and KEEPTTL; GETEX accepts
/// PERSIST; both accept the four expire forms.
#[derive(Clone, Copy, PartialEq, Eq)]
enum OptsFor {
    Set,
    Getex,
}

/// Parses the options after `argv[from..]`. An option that conflicts with one already given
/// (NX after XX, PX after EX, KEEPTTL after an expire, ...) is a syntax error, but the same
/// option twice is not: the last expire given wins.
fn parse_opts(argv: &[Vec<u8>], from: usize, cmd: OptsFor) -> Result<StringOpts<'_>, CmdError> {
    let mut o = StringOpts::default();
    let mut j = from;
    while j < argv.len() {
        let opt = argv[j].as_slice();
        let next = argv.get(j + 1).map(Vec::as_slice);
        let set = cmd == OptsFor::Set;
        let kind = o.expire.map(|(k, _)| k);
        let expire_ok = |allowed: ExpireKind| {
            !o.keepttl && !o.persist && kind.is_none_or(|k| k == allowed) && next.is_some()
        };
        if opt_is(opt, "nx") && !o.xx && set {
            o.nx = true;
        } else if opt_is(opt, "xx") && !o.nx && set {
            o.xx = true;
        } else if opt_is(opt, "get") && set {
            o.get = true;
        } else if opt_is(opt, "keepttl") && !o.persist && kind.is_none() && set {
            o.keepttl = true;
        } else if opt_is(opt, "persist") && !set && kind.is_none() && !o.keepttl {
            o.persist = true;
        } else if let Some(k) = [
            ("ex", ExpireKind::Ex),
            ("px", ExpireKind::Px),
            ("exat", ExpireKind::Exat),
            ("pxat", ExpireKind::Pxat),
        ]
        .iter()
        .find(|(name, k)| opt_is(opt, name) && expire_ok(*k))
        .map(|(_, k)| *k)
        {
            o.expire = next.map(|n| (k, n));
            j += 1;
        } else {
            return Err(error::SYNTAX);
        }
        j += 1;
    }
    Ok(o)
}

/// Turns an expire argument into an absolute time in ms, with Redis's checks: a positive
/// integer, seconds that do not overflow when multiplied, and a relative time that stays
/// positive once `now` is added (the sum wraps as Redis's does, and a wrapped sum is refused).
fn expire_at(kind: ExpireKind, arg: &[u8], now: i64, invalid: CmdError) -> Result<i64, CmdError> {
    let mut ms = args::int(arg)?;
    let seconds = matches!(kind, ExpireKind::Ex | ExpireKind::Exat);
    if ms <= 0 || (seconds && ms > i64::MAX / 1000) {
        return Err(invalid);
    }
    if seconds {
        ms *= 1000;
    }
    if matches!(kind, ExpireKind::Ex | ExpireKind::Px) {
        ms = ms.wrapping_add(now);
    }
    if ms <= 0 {
        return Err(invalid);
    }
    Ok(ms)
}

/// What a set that did not happen replies (SETNX: 0; SET: nil, or the old value with GET).
enum Abort {
    Nil,
    Zero,
}

/// The shared body of SET, SETNX, SETEX and PSETEX. Returns Ok(None) when NX/XX prevented
/// the write, otherwise the old value when `opts.get` asked for it.
fn set_generic(
    ctx: &mut Ctx,
    key: &[u8],
    val: &[u8],
    opts: &StringOpts,
    invalid_expire: CmdError,
) -> Result<(bool, Option<Vec<u8>>), CmdError> {
    let when = match opts.expire {
        Some((kind, arg)) => Some(expire_at(kind, arg, ctx.now, invalid_expire)?),
        None => None,
    };
    let old = if opts.get {
        read_string(ctx, key)?
    } else {
        None
    };
    let at = ctx.lookup_write_at(key);
    let found = at.is_some();
    if (opts.nx && found) || (opts.xx && !found) {
        return Ok((false, old));
    }
    let now = ctx.now;
    let mut at = at;
    if opts.get {
        // With GET, Redis replies the old value before it writes (and publishes `new`).
        ctx.reply_point();
        // The position is used only when nothing ran since the lookup: look again.
        at = None;
    }
    store_at(ctx, key, at, Value::string_from(val), opts.keepttl);
    if let Some(at) = when {
        ctx.db().set_expire(key, Some(at), now);
        // Relative times would mean another instant when replayed.
        ctx.propagate_as(vec![
            b"SET".to_vec(),
            key.to_vec(),
            val.to_vec(),
            b"PXAT".to_vec(),
            at.to_string().into_bytes(),
        ]);
    }
    mark_fresh_value(ctx, key);
    ctx.signal_modified(key);
    ctx.notify('$', "set", key);
    if when.is_some() {
        ctx.notify('g', "expire", key);
    }
    ctx.dirty(1);
    Ok((true, old))
}

/// Builds the reply of a SET-like command from what [`set_generic`] did.
fn set_reply(get: bool, done: bool, old: Option<Vec<u8>>, abort: Abort) -> Reply {
    if get {
        return old.map_or(Reply::Nil, Reply::Bulk);
    }
    match (done, abort) {
        (true, Abort::Zero) => Reply::Integer(1),
        (true, Abort::Nil) => Reply::ok(),
        (false, Abort::Zero) => Reply::Integer(0),
        (false, Abort::Nil) => Reply::Nil,
    }
}

/// `SET key value [NX | XX] [GET] [EX seconds | PX milliseconds | EXAT unix-time-seconds |
/// PXAT unix-time-milliseconds | KEEPTTL]` → `+OK`; nil when NX/XX prevented it; with GET the
/// previous value (or nil) instead.
fn set(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    let opts = parse_opts(argv, 3, OptsFor::Set)?;
    let (done, old) = set_generic(ctx, &argv[1], &argv[2], &opts, error::INVALID_EXPIRE_SET)?;
    if done && opts.get && opts.expire.is_none() {
        // GET changes nothing to replay.
        let kept = argv
            .iter()
            .enumerate()
            .filter(|(j, a)| *j < 3 || !opt_is(a, "get"))
            .map(|(_, a)| a.clone())
            .collect();
        ctx.propagate_as(kept);
    }
    Ok(set_reply(opts.get, done, old, Abort::Nil))
}

/// `SETNX key value` → `:1` when the key was set, `:0` when it already existed.
fn setnx(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    let opts = StringOpts {
        nx: true,
        ..StringOpts::default()
    };
    let (done, old) = set_generic(ctx, &argv[1], &argv[2], &opts, error::INVALID_EXPIRE_SET)?;
    Ok(set_reply(false, done, old, Abort::Zero))
}

/// `SETEX key seconds value` → `+OK`.
fn setex(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    let opts = StringOpts {
        expire: Some((ExpireKind::Ex, &argv[2])),
        ..StringOpts::default()
    };
    let (done, old) = set_generic(ctx, &argv[1], &argv[3], &opts, error::INVALID_EXPIRE_SETEX)?;
    Ok(set_reply(false, done, old, Abort::Nil))
}

/// `PSETEX key milliseconds value` → `+OK`.
fn psetex(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    let opts = StringOpts {
        expire: Some((ExpireKind::Px, &argv[2])),
        ..StringOpts::default()
    };
    let (done, old) = set_generic(ctx, &argv[1], &argv[3], &opts, error::INVALID_EXPIRE_PSETEX)?;
    Ok(set_reply(false, done, old, Abort::Nil))
}

/// `GET key` → the value as a bulk string, or nil.
fn get(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    // The value read is already a copy: it becomes the reply as it is.
    Ok(read_string(ctx, &argv[1])?.map_or(Reply::Nil, Reply::Bulk))
}

/// `GETDEL key` → the value (then the key is gone), or nil.
fn getdel(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    let key = &argv[1];
    let Some(v) = read_string(ctx, key)? else {
        return Ok(Reply::Nil);
    };
    let now = ctx.now;
    if ctx.db().delete(key, now).is_some() {
        ctx.signal_modified(key);
        ctx.reply_point();
        ctx.notify('g', "del", key);
        ctx.dirty(1);
        let verb = ctx.del_verb("lazyfree-lazy-user-del");
        ctx.propagate_as(vec![verb, key.to_vec()]);
    }
    Ok(Reply::Bulk(v))
}

/// `GETEX key [EX seconds | PX milliseconds | EXAT unix-time-seconds | PXAT
/// unix-time-milliseconds | PERSIST]` → the value, or nil. An absolute time already past
/// deletes the key after replying its value.
fn getex(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    let opts = parse_opts(argv, 2, OptsFor::Getex)?;
    let key = &argv[1];
    // A missing key replies nil before the expire argument is even checked.
    let Some(v) = read_string(ctx, key)? else {
        return Ok(Reply::Nil);
    };
    let now = ctx.now;
    match opts.expire {
        Some((kind, arg)) => {
            let at = expire_at(kind, arg, now, error::INVALID_EXPIRE_GETEX)?;
            let event = if matches!(kind, ExpireKind::Exat | ExpireKind::Pxat) && at <= now {
                ctx.db().delete_expired(key, now);
                let verb = ctx.del_verb("lazyfree-lazy-expire");
                ctx.propagate_as(vec![verb, key.to_vec()]);
                "del"
            } else {
                ctx.db().set_expire(key, Some(at), now);
                ctx.propagate_as(vec![
                    b"PEXPIREAT".to_vec(),
                    key.to_vec(),
                    at.to_string().into_bytes(),
                ]);
                "expire"
            };
            ctx.signal_modified(key);
            ctx.reply_point();
            ctx.notify('g', event, key);
            ctx.dirty(1);
        }
        None if opts.persist => {
            let volatile = ctx.db().peek(key).is_some_and(|e| e.is_volatile());
            if volatile {
                ctx.db().set_expire(key, None, now);
                ctx.signal_modified(key);
                ctx.reply_point();
                ctx.notify('g', "persist", key);
                ctx.dirty(1);
                ctx.propagate_as(vec![b"PERSIST".to_vec(), key.to_vec()]);
            }
        }
        None => {}
    }
    Ok(Reply::Bulk(v))
}

/// `GETSET key value` → the previous value, or nil; the new value has no time to live.
fn getset(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    let key = &argv[1];
    let old = read_string(ctx, key)?;
    // Redis's setKey looks the key up for writing again: one more access to count.
    ctx.lookup_write(key);
    // Redis replies the old value before it writes (and publishes `new`).
    ctx.reply_point();
    store(ctx, key, Value::string(argv[2].clone()), false);
    mark_fresh_value(ctx, key);
    ctx.signal_modified(key);
    ctx.notify('$', "set", key);
    ctx.dirty(1);
    ctx.propagate_as(vec![b"SET".to_vec(), key.to_vec(), argv[2].clone()]);
    Ok(old.map_or(Reply::Nil, Reply::Bulk))
}

/// `MGET key [key ...]` → an array with each key's string, nil where a key is missing or
/// holds another type.
fn mget(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    let mut out = Vec::with_capacity(argv.len() - 1);
    for key in &argv[1..] {
        let v = ctx
            .lookup_read(key)
            .and_then(|e| e.value.as_str().map(<[u8]>::to_vec));
        out.push(Reply::bulk_or_nil(v));
    }
    Ok(Reply::Array(out))
}

/// Stores every pair of `MSET`/`MSETNX` (later duplicates win), without time to live.
fn mset_pairs(ctx: &mut Ctx, argv: &[Vec<u8>]) {
    for pair in argv[1..].chunks_exact(2) {
        // Each key is looked up for writing before it is replaced: an access LFU counts.
        ctx.lookup_write(&pair[0]);
        store(ctx, &pair[0], Value::string(pair[1].clone()), false);
        mark_fresh_value(ctx, &pair[0]);
        ctx.signal_modified(&pair[0]);
        ctx.notify('$', "set", &pair[0]);
    }
    ctx.dirty(((argv.len() - 1) / 2) as u64);
}

/// `MSET key value [key value ...]` → `+OK`.
fn mset(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    if argv.len().is_multiple_of(2) {
        return Err(error::wrong_arity("mset"));
    }
    mset_pairs(ctx, argv);
    Ok(Reply::ok())
}

/// `MSETNX key value [key value ...]` → `:1` when all were set, `:0` (nothing set) when any
/// key exists.
fn msetnx(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    if argv.len().is_multiple_of(2) {
        return Err(error::wrong_arity("msetnx"));
    }
    for pair in argv[1..].chunks_exact(2) {
        if ctx.lookup_write(&pair[0]).is_some() {
            return Ok(Reply::Integer(0));
        }
    }
    mset_pairs(ctx, argv);
    Ok(Reply::Integer(1))
}

// ---------------------------------------------------------------------------------------------
// Counters

/// Adds `incr` to the integer at `key` (0 when missing), keeping its time to live.
fn incr_generic(ctx: &mut Ctx, key: &[u8], incr: i64) -> CmdResult {
    let result = match ctx.lookup_write(key) {
        Some(e) => {
            let s = e.value.as_str().ok_or(error::WRONGTYPE)?;
            let cur = parse_i64(s).ok_or(error::NOT_INTEGER)?;
            let new = cur.checked_add(incr).ok_or(error::OVERFLOW)?;
            e.replace_value(int_value(new));
            new
        }
        None => {
            let now = ctx.now;
            ctx.db().set(key, int_value(incr), now);
            incr
        }
    };
    mark_fresh_value(ctx, key);
    ctx.signal_modified(key);
    ctx.notify('$', "incrby", key);
    ctx.dirty(1);
    Ok(Reply::Integer(result))
}

/// `INCR key` → the new value.
fn incr(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    incr_generic(ctx, &argv[1], 1)
}

/// `DECR key` → the new value.
fn decr(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    incr_generic(ctx, &argv[1], -1)
}

/// `INCRBY key increment` → the new value.
fn incrby(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    let by = args::int(&argv[2])?;
    incr_generic(ctx, &argv[1], by)
}

/// `DECRBY key decrement` → the new value.
fn decrby(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    let by = args::int(&argv[2])?;
    let by = by.checked_neg().ok_or(error::DECREMENT_OVERFLOW)?;
    incr_generic(ctx, &argv[1], by)
}

/// `INCRBYFLOAT key increment` → the new value as a bulk string, computed in x87 extended
/// precision and printed as `%.17Lf` without trailing zeros, as Redis does.
fn incrbyfloat(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    let key = &argv[1];
    let current = match ctx.lookup_write(key) {
        Some(e) => match &e.value {
            Value::Str(s, StrEncoding::Int) => Some(
                parse_i64(s)
                    .map(LongDouble::from_i64)
                    .ok_or(error::NOT_FLOAT)?,
            ),
            v => {
                let s = v.as_str().ok_or(error::WRONGTYPE)?;
                Some(LongDouble::parse(s).ok_or(error::NOT_FLOAT)?)
            }
        },
        None => None,
    };
    let by = LongDouble::parse(&argv[2]).ok_or(error::NOT_FLOAT)?;
    let sum = current.unwrap_or(LongDouble::ZERO).add(by);
    if !sum.is_finite() {
        return Err(error::NAN_OR_INF);
    }
    let text = sum.format_human().into_bytes();
    let enc = StrEncoding::for_created(&text);
    let reply = Reply::bulk(&text);
    let now = ctx.now;
    // Not a second lookup_write: Redis counts one access for the command.
    match ctx.db().get_mut(key, now) {
        Some(e) => e.replace_value(string_value(text, enc)),
        None => ctx.db().set(key, string_value(text, enc), now),
    }
    ctx.signal_modified(key);
    ctx.notify('$', "incrbyfloat", key);
    ctx.dirty(1);
    // The result, not the increment: float arithmetic may differ where it is replayed.
    if let Reply::Bulk(text) = &reply {
        ctx.propagate_as(vec![
            b"SET".to_vec(),
            key.to_vec(),
            text.clone(),
            b"KEEPTTL".to_vec(),
        ]);
    }
    Ok(reply)
}

// ---------------------------------------------------------------------------------------------
// Lengths and ranges

/// Whether a string of `len + extra` bytes stays within proto-max-bulk-len (`limit`); checked
/// before anything is allocated.
fn fits(len: u64, extra: u64, limit: u64) -> bool {
    len.checked_add(extra).is_some_and(|total| total <= limit)
}

/// The bytes and encoding of a string value, for changing it in place; None for other types.
fn str_mut(v: &mut Value) -> Option<(&mut Vec<u8>, &mut StrEncoding)> {
    #[allow(unreachable_patterns)] // other types join Value later
    match v {
        Value::Str(s, enc) => Some((s.make_mut(), enc)),
        _ => None,
    }
}

/// `APPEND key value` → the length after appending. A new key gets the value's usual
/// encoding; an existing one becomes raw, as Redis turns it into a growable buffer.
fn append(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    let (key, add) = (&argv[1], &argv[2]);
    let limit = ctx.eng.config.proto_max_bulk_len;
    let total = match ctx.lookup_write(key) {
        Some(e) => {
            let (s, enc) = str_mut(&mut e.value).ok_or(error::WRONGTYPE)?;
            if !fits(s.len() as u64, add.len() as u64, limit) {
                return Err(error::STRING_TOO_LONG);
            }
            s.try_reserve(add.len()).map_err(|_| error::OOM)?;
            s.extend_from_slice(add);
            *enc = StrEncoding::Raw;
            s.len()
        }
        None => {
            let now = ctx.now;
            ctx.db().set(key, Value::string(add.clone()), now);
            mark_fresh_value(ctx, key);
            add.len()
        }
    };
    ctx.signal_modified(key);
    ctx.notify('$', "append", key);
    ctx.dirty(1);
    Ok(Reply::int(total))
}

/// `SETRANGE key offset value` → the length after writing; the gap before the offset is
/// filled with zero bytes. An empty value changes nothing (and creates no key).
fn setrange(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    let key = &argv[1];
    let value = &argv[3];
    let offset = args::int(&argv[2])?;
    let offset = u64::try_from(offset).map_err(|_| error::OFFSET_RANGE)?;
    let limit = ctx.eng.config.proto_max_bulk_len;
    let len = match ctx.lookup_write(key) {
        None => {
            if value.is_empty() {
                return Ok(Reply::Integer(0));
            }
            if !fits(offset, value.len() as u64, limit) {
                return Err(error::STRING_TOO_LONG);
            }
            let mut s = Vec::new();
            write_at(&mut s, offset as usize, value)?;
            let n = s.len();
            let now = ctx.now;
            ctx.db().set(key, string_value(s, StrEncoding::Raw), now);
            n
        }
        Some(e) => {
            let (s, enc) = str_mut(&mut e.value).ok_or(error::WRONGTYPE)?;
            if value.is_empty() {
                return Ok(Reply::int(s.len()));
            }
            if !fits(offset, value.len() as u64, limit) {
                return Err(error::STRING_TOO_LONG);
            }
            write_at(s, offset as usize, value)?;
            *enc = StrEncoding::Raw;
            s.len()
        }
    };
    ctx.signal_modified(key);
    ctx.notify('$', "setrange", key);
    ctx.dirty(1);
    Ok(Reply::int(len))
}

/// Copies `value` into `s` at `offset`, growing `s` with zero bytes as needed. The caller has
/// bounded `offset + value.len()` by proto-max-bulk-len.
fn write_at(s: &mut Vec<u8>, offset: usize, value: &[u8]) -> Result<(), CmdError> {
    let end = offset + value.len();
    if end > s.len() {
        s.try_reserve_exact(end - s.len()).map_err(|_| error::OOM)?;
        s.resize(end, 0);
    }
    s[offset..end].copy_from_slice(value);
    Ok(())
}

/// `GETRANGE key start end` (and `SUBSTR`) → the bytes from `start` to `end` inclusive;
/// negative offsets count from the end; an empty string when the range is empty or the key
/// is missing.
fn getrange(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    let start = args::int(&argv[2])?;
    let end = args::int(&argv[3])?;
    let Some(s) = read_string(ctx, &argv[1])? else {
        return Ok(Reply::bulk(b""));
    };
    Ok(Reply::bulk(substring(&s, start, end)))
}

/// Redis's GETRANGE arithmetic: both negative with start after end is empty; negatives count
/// from the end and clamp to 0; the end clamps to the last byte.
fn substring(s: &[u8], start: i64, end: i64) -> &[u8] {
    if start < 0 && end < 0 && start > end {
        return b"";
    }
    let len = s.len() as i64;
    let start = if start < 0 {
        (len + start).max(0)
    } else {
        start
    };
    let end = if end < 0 { (len + end).max(0) } else { end };
    let end = end.min(len - 1);
    if len == 0 || start > end {
        return b"";
    }
    &s[start as usize..=end as usize]
}

/// `STRLEN key` → the length in bytes (of the decimal form for an int), 0 when missing.
fn strlen(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    let n = read_string(ctx, &argv[1])?.map_or(0, |s| s.len());
    Ok(Reply::int(n))
}

// ---------------------------------------------------------------------------------------------
// LCS

/// `LCS key1 key2 [LEN] [IDX] [MINMATCHLEN min-match-len] [WITHMATCHLEN]` → the longest common
/// subsequence as a bulk string; with LEN its length; with IDX a map
/// `{matches: [[[a_start, a_end], [b_start, b_end](, len)], ...], len: n}` listing the matched
/// ranges from the end of the strings backwards. Missing keys count as empty strings.
fn lcs(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    // Keys are read first: a key of another type is reported before any syntax error.
    let a = ctx
        .lookup_read(&argv[1])
        .map(|e| e.value.as_str().map(<[u8]>::to_vec));
    let b = ctx
        .lookup_read(&argv[2])
        .map(|e| e.value.as_str().map(<[u8]>::to_vec));
    let (a, b) = match (a, b) {
        (Some(None), _) | (_, Some(None)) => return Err(error::LCS_NOT_STRINGS),
        (a, b) => (
            a.flatten().unwrap_or_default(),
            b.flatten().unwrap_or_default(),
        ),
    };
    let (mut getlen, mut getidx, mut withmatchlen) = (false, false, false);
    let mut minmatchlen: i64 = 0;
    let mut j = 3;
    while j < argv.len() {
        let opt = &argv[j];
        let more = j + 1 < argv.len();
        if opt_is(opt, "idx") {
            getidx = true;
        } else if opt_is(opt, "len") {
            getlen = true;
        } else if opt_is(opt, "withmatchlen") {
            withmatchlen = true;
        } else if opt_is(opt, "minmatchlen") && more {
            minmatchlen = args::int(&argv[j + 1])?.max(0);
            j += 1;
        } else {
            return Err(error::SYNTAX);
        }
        j += 1;
    }
    if getidx && getlen {
        return Err(error::LCS_LEN_AND_IDX);
    }
    // Redis refuses a table that would exceed proto-max-bulk-len instead of allocating it.
    let cells = (a.len() as u128 + 1) * (b.len() as u128 + 1);
    if cells * 4 > u128::from(ctx.eng.config.proto_max_bulk_len) {
        return Err(error::LCS_TABLE_TOO_BIG);
    }
    let table = LcsTable::build(&a, &b).ok_or(error::LCS_ALLOC_FAILED)?;
    let total = table.at(a.len(), b.len());
    if getlen {
        return Ok(Reply::int(total));
    }
    let (common, ranges) = table.walk(&a, &b);
    if !getidx {
        return Ok(Reply::Bulk(common));
    }
    let matches = ranges
        .into_iter()
        .filter(|r| minmatchlen == 0 || i64::from(r.len()) >= minmatchlen)
        .map(|r| {
            let mut item = vec![
                Reply::Array(vec![Reply::int(r.a.0), Reply::int(r.a.1)]),
                Reply::Array(vec![Reply::int(r.b.0), Reply::int(r.b.1)]),
            ];
            if withmatchlen {
                item.push(Reply::int(r.len()));
            }
            Reply::Array(item)
        })
        .collect();
    Ok(Reply::Map(vec![
        (Reply::bulk("matches"), Reply::Array(matches)),
        (Reply::bulk("len"), Reply::int(total)),
    ]))
}

/// One matched range: inclusive byte offsets in the first and the second string.
struct LcsRange {
    a: (u32, u32),
    b: (u32, u32),
}

impl LcsRange {
    fn len(&self) -> u32 {
        self.a.1 - self.a.0 + 1
    }
}

/// The dynamic-programming table: cell (i, j) holds the LCS length of the first i bytes of
/// `a` and the first j bytes of `b`.
struct LcsTable {
    cells: Vec<u32>,
    width: usize,
}

impl LcsTable {
    /// Fills the table; None when its memory cannot be had (the caller has bounded its size).
    fn build(a: &[u8], b: &[u8]) -> Option<LcsTable> {
        let width = b.len() + 1;
        let size = (a.len() + 1).checked_mul(width)?;
        let mut cells = Vec::new();
        cells.try_reserve_exact(size).ok()?;
        cells.resize(size, 0u32);
        for i in 1..=a.len() {
            for j in 1..=b.len() {
                let v = if a[i - 1] == b[j - 1] {
                    cells[(i - 1) * width + j - 1] + 1
                } else {
                    cells[(i - 1) * width + j].max(cells[i * width + j - 1])
                };
                cells[i * width + j] = v;
            }
        }
        Some(LcsTable { cells, width })
    }

    fn at(&self, i: usize, j: usize) -> u32 {
        self.cells[i * self.width + j]
    }

    /// Walks back from the end, as Redis does, collecting the common subsequence and the
    /// contiguous ranges in the order they are found (last ones first). On a tie between
    /// dropping a byte of `a` or of `b`, a byte of `b` is dropped.
    fn walk(&self, a: &[u8], b: &[u8]) -> (Vec<u8>, Vec<LcsRange>) {
        let total = self.at(a.len(), b.len()) as usize;
        let mut common = vec![0u8; total];
        let mut idx = total;
        let mut ranges = Vec::new();
        let (mut i, mut j) = (a.len(), b.len());
        let mut current: Option<LcsRange> = None;
        while i > 0 && j > 0 {
            let mut emit = false;
            if a[i - 1] == b[j - 1] {
                common[idx - 1] = a[i - 1];
                let (ai, bj) = ((i - 1) as u32, (j - 1) as u32);
                match &mut current {
                    None => {
                        current = Some(LcsRange {
                            a: (ai, ai),
                            b: (bj, bj),
                        })
                    }
                    Some(r) if r.a.0 == ai + 1 && r.b.0 == bj + 1 => {
                        r.a.0 = ai;
                        r.b.0 = bj;
                    }
                    Some(_) => emit = true,
                }
                if current.as_ref().is_some_and(|r| r.a.0 == 0 || r.b.0 == 0) {
                    emit = true;
                }
                idx -= 1;
                i -= 1;
                j -= 1;
            } else {
                if self.at(i - 1, j) > self.at(i, j - 1) {
                    i -= 1;
                } else {
                    j -= 1;
                }
                if current.is_some() {
                    emit = true;
                }
            }
            if emit {
                if let Some(r) = current.take() {
                    ranges.push(r);
                }
            }
        }
        (common, ranges)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::{encoding as enc, engine, run as cmd, run_args as run, NOW};

    fn err(text: &str) -> Reply {
        Reply::Error(text.to_string().into())
    }

    #[test]
    fn encodings_follow_redis() {
        let (mut e, c) = engine();
        cmd(&mut e, c, "SET a 123");
        assert_eq!(enc(&e, "a"), "int");
        cmd(&mut e, c, "SET a 0123");
        assert_eq!(enc(&e, "a"), "embstr");
        cmd(&mut e, c, "SET a 12345678901234567890");
        assert_eq!(enc(&e, "a"), "embstr");
        let long44 = "x".repeat(44);
        cmd(&mut e, c, &format!("SET a {}", long44));
        assert_eq!(enc(&e, "a"), "embstr");
        cmd(&mut e, c, &format!("SET a {}x", long44));
        assert_eq!(enc(&e, "a"), "raw");
        cmd(&mut e, c, "APPEND b 12");
        assert_eq!(enc(&e, "b"), "int");
        cmd(&mut e, c, "APPEND b 3");
        assert_eq!(enc(&e, "b"), "raw");
        cmd(&mut e, c, "SETRANGE s 0 1");
        assert_eq!(enc(&e, "s"), "raw");
        cmd(&mut e, c, "SET n 5");
        cmd(&mut e, c, "SETRANGE n 0 ");
        assert_eq!(enc(&e, "n"), "int");
        cmd(&mut e, c, "SET n abc");
        cmd(&mut e, c, "INCRBYFLOAT f 1");
        assert_eq!(enc(&e, "f"), "embstr");
        cmd(&mut e, c, "SET i 0100");
        assert_eq!(
            cmd(&mut e, c, "INCR i"),
            err("ERR value is not an integer or out of range")
        );
        cmd(&mut e, c, "APPEND r 5");
        cmd(&mut e, c, "APPEND r 5");
        assert_eq!(enc(&e, "r"), "raw");
        assert_eq!(cmd(&mut e, c, "INCR r"), Reply::Integer(56));
        assert_eq!(enc(&e, "r"), "int");
        cmd(&mut e, c, "MSET m1 1 m2 x");
        assert_eq!((enc(&e, "m1"), enc(&e, "m2")), ("int", "embstr"));
        cmd(&mut e, c, "GETSET m2 7");
        assert_eq!(enc(&e, "m2"), "int");
    }

    #[test]
    fn set_options_and_errors() {
        let (mut e, c) = engine();
        assert_eq!(cmd(&mut e, c, "SET k v NX XX"), err("ERR syntax error"));
        assert_eq!(
            cmd(&mut e, c, "SET k v EX 10 PX 10"),
            err("ERR syntax error")
        );
        assert_eq!(
            cmd(&mut e, c, "SET k v KEEPTTL EX 1"),
            err("ERR syntax error")
        );
        assert_eq!(cmd(&mut e, c, "SET k v PERSIST"), err("ERR syntax error"));
        assert_eq!(cmd(&mut e, c, "SET k v EX"), err("ERR syntax error"));
        assert_eq!(
            cmd(&mut e, c, "SET k v EX 0"),
            err("ERR invalid expire time in 'set' command")
        );
        assert_eq!(
            cmd(&mut e, c, "SET k v EX x"),
            err("ERR value is not an integer or out of range")
        );
        assert_eq!(
            cmd(&mut e, c, "SET k v EX 9223372036854776"),
            err("ERR invalid expire time in 'set' command")
        );
        assert_eq!(
            cmd(&mut e, c, "SET k v PX 9223372036854775807"),
            err("ERR invalid expire time in 'set' command")
        );
        assert_eq!(cmd(&mut e, c, "SET k v EX 10 EX 20"), Reply::ok());
        assert_eq!(e.dbs[0].expire_at(b"k"), Some(NOW + 20_000));
        assert_eq!(cmd(&mut e, c, "SET k w KEEPTTL GET"), Reply::bulk("v"));
        assert_eq!(e.dbs[0].expire_at(b"k"), Some(NOW + 20_000));
        assert_eq!(cmd(&mut e, c, "SET k x"), Reply::ok());
        assert_eq!(e.dbs[0].expire_at(b"k"), None);
        assert_eq!(cmd(&mut e, c, "SET k y NX GET"), Reply::bulk("x"));
        assert_eq!(cmd(&mut e, c, "GET k"), Reply::bulk("x"));
        assert_eq!(cmd(&mut e, c, "SET q y XX"), Reply::Nil);
        assert_eq!(cmd(&mut e, c, "SET q y XX GET"), Reply::Nil);
        assert_eq!(
            run(&mut e, c, &[b"SET", b"k", b"z", b"nx\0junk"]),
            Reply::Nil
        );
        assert_eq!(
            cmd(&mut e, c, "SETEX k 0 v"),
            err("ERR invalid expire time in 'setex' command")
        );
        assert_eq!(
            cmd(&mut e, c, "PSETEX k -1 v"),
            err("ERR invalid expire time in 'psetex' command")
        );
        assert_eq!(cmd(&mut e, c, "SETNX k v"), Reply::Integer(0));
        assert_eq!(cmd(&mut e, c, "SETNX k2 v"), Reply::Integer(1));
    }

    #[test]
    fn getex_and_getdel() {
        let (mut e, c) = engine();
        assert_eq!(cmd(&mut e, c, "GETEX nokey EX abc"), Reply::Nil);
        assert_eq!(cmd(&mut e, c, "GETEX nokey NX"), err("ERR syntax error"));
        cmd(&mut e, c, "SET k v");
        assert_eq!(
            cmd(&mut e, c, "GETEX k EX 0"),
            err("ERR invalid expire time in 'getex' command")
        );
        assert_eq!(
            cmd(&mut e, c, "GETEX k PERSIST EX 1"),
            err("ERR syntax error")
        );
        assert_eq!(cmd(&mut e, c, "GETEX k PX 500"), Reply::bulk("v"));
        assert_eq!(e.dbs[0].expire_at(b"k"), Some(NOW + 500));
        assert_eq!(cmd(&mut e, c, "GETEX k PERSIST"), Reply::bulk("v"));
        assert_eq!(e.dbs[0].expire_at(b"k"), None);
        assert_eq!(cmd(&mut e, c, "GETEX k EXAT 1"), Reply::bulk("v"));
        assert!(e.dbs[0].peek(b"k").is_none());
        cmd(&mut e, c, "SET k v");
        assert_eq!(cmd(&mut e, c, "GETDEL k"), Reply::bulk("v"));
        assert_eq!(cmd(&mut e, c, "GETDEL k"), Reply::Nil);
    }

    #[test]
    fn counters() {
        let (mut e, c) = engine();
        assert_eq!(cmd(&mut e, c, "INCR n"), Reply::Integer(1));
        assert_eq!(cmd(&mut e, c, "DECRBY n 5"), Reply::Integer(-4));
        assert_eq!(
            cmd(&mut e, c, "DECRBY n -9223372036854775808"),
            err("ERR decrement would overflow")
        );
        cmd(&mut e, c, "SET n 9223372036854775807");
        assert_eq!(
            cmd(&mut e, c, "INCR n"),
            err("ERR increment or decrement would overflow")
        );
        cmd(&mut e, c, "SET n -9223372036854775808");
        assert_eq!(
            cmd(&mut e, c, "DECR n"),
            err("ERR increment or decrement would overflow")
        );
        assert_eq!(
            cmd(&mut e, c, "INCRBY n x"),
            err("ERR value is not an integer or out of range")
        );
        cmd(&mut e, c, "SETEX t 100 5");
        assert_eq!(cmd(&mut e, c, "INCR t"), Reply::Integer(6));
        assert_eq!(e.dbs[0].expire_at(b"t"), Some(NOW + 100_000));
        assert_eq!(cmd(&mut e, c, "INCRBYFLOAT f 10.5"), Reply::bulk("10.5"));
        assert_eq!(cmd(&mut e, c, "INCRBYFLOAT f 0.1"), Reply::bulk("10.6"));
        assert_eq!(
            cmd(&mut e, c, "INCRBYFLOAT f inf"),
            err("ERR increment would produce NaN or Infinity")
        );
        assert_eq!(
            cmd(&mut e, c, "INCRBYFLOAT f x"),
            err("ERR value is not a valid float")
        );
        cmd(&mut e, c, "SET s abc");
        assert_eq!(
            cmd(&mut e, c, "INCRBYFLOAT s 1"),
            err("ERR value is not a valid float")
        );
        assert_eq!(cmd(&mut e, c, "INCRBYFLOAT t 1.5"), Reply::bulk("7.5"));
        assert_eq!(e.dbs[0].expire_at(b"t"), Some(NOW + 100_000));
    }

    #[test]
    fn ranges_and_sizes() {
        let (mut e, c) = engine();
        cmd(&mut e, c, "SET k hello");
        assert_eq!(cmd(&mut e, c, "GETRANGE k -100 -200"), Reply::bulk(""));
        assert_eq!(cmd(&mut e, c, "GETRANGE k 0 -100"), Reply::bulk("h"));
        assert_eq!(cmd(&mut e, c, "GETRANGE k -3 -1"), Reply::bulk("llo"));
        assert_eq!(
            cmd(
                &mut e,
                c,
                "GETRANGE k -9223372036854775808 9223372036854775807"
            ),
            Reply::bulk("hello")
        );
        assert_eq!(cmd(&mut e, c, "SUBSTR k 1 2"), Reply::bulk("el"));
        assert_eq!(
            cmd(&mut e, c, "SETRANGE k -1 x"),
            err("ERR offset is out of range")
        );
        assert_eq!(
            cmd(&mut e, c, "SETRANGE k 536870911 xy"),
            err("ERR string exceeds maximum allowed size (proto-max-bulk-len)")
        );
        assert_eq!(cmd(&mut e, c, "SETRANGE k 536870912 "), Reply::Integer(5));
        assert_eq!(cmd(&mut e, c, "SETRANGE k 7 !"), Reply::Integer(8));
        assert_eq!(cmd(&mut e, c, "GET k"), Reply::bulk(b"hello\0\0!"));
        assert_eq!(
            cmd(&mut e, c, "SETRANGE nk 9223372036854775807 "),
            Reply::Integer(0)
        );
        assert!(e.dbs[0].peek(b"nk").is_none());
        e.config.proto_max_bulk_len = 8;
        assert_eq!(
            cmd(&mut e, c, "APPEND k x"),
            err("ERR string exceeds maximum allowed size (proto-max-bulk-len)")
        );
        assert_eq!(cmd(&mut e, c, "STRLEN k"), Reply::Integer(8));
        assert_eq!(cmd(&mut e, c, "STRLEN nokey"), Reply::Integer(0));
    }

    #[test]
    fn overwrite_keeps_lfu_counter_under_lfu_policy() {
        let (mut e, c) = engine();
        cmd(&mut e, c, "SET k v");
        e.dbs[0].peek(b"k").expect("k");
        if let Some(en) = e.dbs[0].get_mut(b"k", NOW) {
            en.lfu = 42;
        }
        cmd(&mut e, c, "SET k w");
        assert_eq!(
            e.dbs[0].peek(b"k").map(|x| x.lfu),
            Some(crate::db::LFU_INIT)
        );
        e.config.maxmemory_policy = "allkeys-lfu".into();
        if let Some(en) = e.dbs[0].get_mut(b"k", NOW) {
            en.lfu = 42;
        }
        cmd(&mut e, c, "SET k x");
        let lfu = e.dbs[0].peek(b"k").map(|x| x.lfu).unwrap_or(0);
        assert!((42..=43).contains(&lfu), "{}", lfu);
        cmd(&mut e, c, "MSET k y");
        cmd(&mut e, c, "GETSET k z");
        assert!(e.dbs[0].peek(b"k").map(|x| x.lfu).unwrap_or(0) >= 42);
    }

    #[test]
    fn keyspace_hits_and_misses_count_reads_only() {
        let (mut e, c) = engine();
        for line in [
            "GET nokey",
            "SET k v",
            "GET k",
            "SET k v GET",
            "SET n v GET",
            "MGET k nokey",
            "LCS k nokey",
            "GETRANGE k 0 1",
            "STRLEN nokey",
            "GETEX k",
            "GETDEL k",
            "INCR x",
            "APPEND k x",
            "SETNX k v",
            "GETSET k v",
            "GETSET z v",
            "INCRBYFLOAT x 1",
            "SETRANGE k 0 a",
            "MSETNX a 1",
            "SET k v NX",
            "GETEX nokey PERSIST",
            "SUBSTR nokey 0 1",
        ] {
            cmd(&mut e, c, line);
        }
        // The figures redis-server 7.0.15 reports for the same commands.
        assert_eq!((e.stats.hits, e.stats.misses), (8, 8));
    }

    #[test]
    fn dirty_counts_changes_as_redis_does() {
        // Each case starts from `SET k v`; the counts are what redis-server 7.0.15 adds to
        // rdb_changes_since_last_save.
        let cases: &[(&[&str], u64)] = &[
            (&["SET k v"], 1),
            (&["MSET a 1 b 2 a 3"], 3),
            (&["MSETNX a 1 b 2"], 2),
            (&["SETRANGE k 0 "], 0),
            (&["SETRANGE k 1 x"], 1),
            (&["GETEX k PERSIST"], 0),
            (&["GETEX k EX 100", "GETEX k PERSIST"], 2),
            (&["GETEX k EXAT 1"], 1),
            (&["GETDEL k"], 1),
            (&["GETDEL nokey"], 0),
            (&["SETNX k v"], 0),
            (&["SETNX q v"], 1),
            (&["INCR k", "INCR n"], 1),
            (&["APPEND k "], 1),
            (&["INCRBYFLOAT f 1"], 1),
            (&["GETSET k x"], 1),
            (&["SET k v NX"], 0),
            (&["SET k v XX EX 10"], 1),
            (&["SET k v GET"], 1),
            (&["LCS k k"], 0),
            (&["SETEX k 10 v"], 1),
            (&["GETEX k"], 0),
        ];
        for (lines, want) in cases {
            let (mut e, c) = engine();
            cmd(&mut e, c, "SET k v");
            let base = e.dirty;
            for line in *lines {
                cmd(&mut e, c, line);
            }
            assert_eq!(e.dirty - base, *want, "{:?}", lines);
        }
    }

    #[test]
    fn lcs_replies() {
        let (mut e, c) = engine();
        cmd(&mut e, c, "MSET x ohmytext y mynewtext");
        assert_eq!(cmd(&mut e, c, "LCS x y"), Reply::bulk("mytext"));
        assert_eq!(cmd(&mut e, c, "LCS x y LEN"), Reply::Integer(6));
        let m = |a: (i64, i64), b: (i64, i64), len: Option<i64>| {
            let mut v = vec![
                Reply::Array(vec![Reply::Integer(a.0), Reply::Integer(a.1)]),
                Reply::Array(vec![Reply::Integer(b.0), Reply::Integer(b.1)]),
            ];
            v.extend(len.map(Reply::Integer));
            Reply::Array(v)
        };
        assert_eq!(
            cmd(&mut e, c, "LCS x y IDX MINMATCHLEN 4 WITHMATCHLEN"),
            Reply::Map(vec![
                (
                    Reply::bulk("matches"),
                    Reply::Array(vec![m((4, 7), (5, 8), Some(4))])
                ),
                (Reply::bulk("len"), Reply::Integer(6)),
            ])
        );
        assert_eq!(
            cmd(&mut e, c, "LCS x y IDX"),
            Reply::Map(vec![
                (
                    Reply::bulk("matches"),
                    Reply::Array(vec![m((4, 7), (5, 8), None), m((2, 3), (0, 1), None)])
                ),
                (Reply::bulk("len"), Reply::Integer(6)),
            ])
        );
        assert_eq!(
            cmd(&mut e, c, "LCS x y LEN IDX"),
            err("ERR If you want both the length and indexes, please just use IDX.")
        );
        assert_eq!(
            cmd(&mut e, c, "LCS x y MINMATCHLEN"),
            err("ERR syntax error")
        );
        e.config.proto_max_bulk_len = 100;
        assert_eq!(
            cmd(&mut e, c, "LCS x y"),
            err("ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len")
        );
    }
}
