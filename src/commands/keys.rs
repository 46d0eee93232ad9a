//! The generic (keyspace) command group: commands that work on keys whatever they hold.
//!
//! DEL, UNLINK, EXISTS, TYPE, RENAME, RENAMENX, COPY, MOVE, the EXPIRE family, EXPIRETIME,
//! PEXPIRETIME, TTL, PTTL, PERSIST, KEYS, SCAN, RANDOMKEY, TOUCH and OBJECT. Nothing here looks
//! inside a value beyond `Value::type_name` / `encoding_name`, so new types need no change here.

use super::args;
use super::migrate::{migrate, migrate_keys};
use super::scan;
use super::spec::*;
use crate::db::{lfu_decay, Entry};
use crate::engine::Ctx;
use crate::error::{self, CmdError, CmdResult};
use crate::protocol::Reply;
use crate::util::glob::glob_match;

/// This group's commands. Arity, flags, key positions, tips and key specs are Redis 7.0.15's
/// (`tools/command_spec.py`); complexity as COMMAND DOCS states it.
pub const COMMANDS: &[CommandSpec] = &[
    CommandSpec::new("del", -2, &[WRITE], del).doc(Group::Generic, "1.0.0", &[Arg::key("key", 0).multiple()], "Deletes keys; replies how many existed.").tips(&["request_policy:multi_shard", "response_policy:agg_sum"]).key_specs(&[KeySpec::new(&[RM, DELETE], index(1), range(-1, 1, 0))]).complexity("O(N) for N keys removed; a collection of M elements costs O(M) of its own, a string O(1)."),
    CommandSpec::new("unlink", -2, &[WRITE, FAST], unlink).doc(Group::Generic, "4.0.0", &[Arg::key("key", 0).multiple()], "Deletes keys like DEL (Redis frees big values in the background).").tips(&["request_policy:multi_shard", "response_policy:agg_sum"]).key_specs(&[KeySpec::new(&[RM, DELETE], index(1), range(-1, 1, 0))]).complexity("O(1) per key, whatever its size; freeing its memory (O(N) in its allocations) happens later."),
    CommandSpec::new("exists", -2, &[READONLY, FAST], exists).doc(Group::Generic, "1.0.0", &[Arg::key("key", 0).multiple()], "Counts how many of the given keys exist (a key named twice counts twice).").tips(&["request_policy:multi_shard", "response_policy:agg_sum"]).key_specs(&[KeySpec::new(&[RO], index(1), range(-1, 1, 0))]).complexity("O(N), N being the keys named."),
    CommandSpec::new("type", 2, &[READONLY, FAST], type_cmd).doc(Group::Generic, "1.0.0", &[Arg::key("key", 0)], "Names the type of the value at a key, or none.").key_specs(&[KeySpec::new(&[RO], index(1), range(0, 1, 0))]).complexity("O(1)"),
    CommandSpec::new("rename", 3, &[WRITE], rename).doc(Group::Generic, "1.0.0", &[Arg::key("key", 0), Arg::key("newkey", 1)], "Gives a key a new name, replacing any key already under that name.").key_specs(&[KeySpec::new(&[RW, ACCESS, DELETE], index(1), range(0, 1, 0)), KeySpec::new(&[OW, UPDATE], index(2), range(0, 1, 0))]).complexity("O(1)"),
    CommandSpec::new("renamenx", 3, &[WRITE, FAST], renamenx).doc(Group::Generic, "1.0.0", &[Arg::key("key", 0), Arg::key("newkey", 1)], "Gives a key a new name only if no key has that name yet.").key_specs(&[KeySpec::new(&[RW, ACCESS, DELETE], index(1), range(0, 1, 0)), KeySpec::new(&[OW, INSERT], index(2), range(0, 1, 0))]).complexity("O(1)"),
    CommandSpec::new("copy", -3, &[WRITE, DENYOOM], copy).doc(Group::Generic, "6.2.0", &[Arg::key("source", 0), Arg::key("destination", 1), Arg::integer("destination-db").with_token("DB").optional(), Arg::token("replace", "REPLACE").optional()], "Copies a key's value and expiry to another key, possibly in another database.").key_specs(&[KeySpec::new(&[RO, ACCESS], index(1), range(0, 1, 0)), KeySpec::new(&[OW, UPDATE], index(2), range(0, 1, 0))]).complexity("O(1) for a string; O(N) at worst for a collection of N elements."),
    CommandSpec::new("migrate", -6, &[WRITE], migrate).getkeys(migrate_keys).doc(Group::Generic, "2.6.0", &[Arg::string("host"), Arg::integer("port"), Arg::oneof("key_or_empty_string", &[Arg::key("key", 0), Arg::token("empty_string", "")]), Arg::integer("destination-db"), Arg::integer("timeout"), Arg::token("copy", "COPY").optional().since("3.0.0"), Arg::token("replace", "REPLACE").optional().since("3.0.0"), Arg::oneof("authentication", &[Arg::string("password").with_token("AUTH").optional().since("4.0.7"), Arg::block("username_password", &[Arg::string("username"), Arg::string("password")]).with_token("AUTH2").optional().since("6.0.0")]).optional(), Arg::key("key", 1).with_token("KEYS").optional().multiple().since("3.0.6")], "Moves keys to another Redis server (DUMP here, RESTORE there, then DEL here), atomically for this server.").acl(&[Acl::Dangerous]).tips(&["nondeterministic_output"]).key_specs(&[KeySpec::new(&[RW, ACCESS, DELETE], index(3), range(0, 1, 0)), KeySpec::new(&[RW, ACCESS, DELETE, INCOMPLETE], keyword("KEYS", -2), range(-1, 1, 0))]).complexity("O(N) in the size of the keys moved: a DUMP and a DEL here, a RESTORE on the target, and the transfer between them."),
    CommandSpec::new("move", 3, &[WRITE, FAST], move_cmd).doc(Group::Generic, "1.0.0", &[Arg::key("key", 0), Arg::integer("db")], "Moves a key to another database if no key of that name is there.").key_specs(&[KeySpec::new(&[RW, ACCESS, UPDATE], index(1), range(0, 1, 0))]).complexity("O(1)"),
    CommandSpec::new("expire", -3, &[WRITE, FAST], expire).doc(Group::Generic, "1.0.0", &[Arg::key("key", 0), Arg::integer("seconds"), Arg::oneof("condition", &[Arg::token("nx", "NX"), Arg::token("xx", "XX"), Arg::token("gt", "GT"), Arg::token("lt", "LT")]).optional().since("7.0.0")], "Makes a key expire after a number of seconds.").key_specs(&[KeySpec::new(&[RW, UPDATE], index(1), range(0, 1, 0))]).complexity("O(1)"),
    CommandSpec::new("pexpire", -3, &[WRITE, FAST], pexpire).doc(Group::Generic, "2.6.0", &[Arg::key("key", 0), Arg::integer("milliseconds"), Arg::oneof("condition", &[Arg::token("nx", "NX"), Arg::token("xx", "XX"), Arg::token("gt", "GT"), Arg::token("lt", "LT")]).optional().since("7.0.0")], "Makes a key expire after a number of milliseconds.").key_specs(&[KeySpec::new(&[RW, UPDATE], index(1), range(0, 1, 0))]).complexity("O(1)"),
    CommandSpec::new("expireat", -3, &[WRITE, FAST], expireat).doc(Group::Generic, "1.2.0", &[Arg::key("key", 0), Arg::unix_time("unix-time-seconds"), Arg::oneof("condition", &[Arg::token("nx", "NX"), Arg::token("xx", "XX"), Arg::token("gt", "GT"), Arg::token("lt", "LT")]).optional().since("7.0.0")], "Makes a key expire at a Unix time given in seconds.").key_specs(&[KeySpec::new(&[RW, UPDATE], index(1), range(0, 1, 0))]).complexity("O(1)"),
    CommandSpec::new("pexpireat", -3, &[WRITE, FAST], pexpireat).doc(Group::Generic, "2.6.0", &[Arg::key("key", 0), Arg::unix_time("unix-time-milliseconds"), Arg::oneof("condition", &[Arg::token("nx", "NX"), Arg::token("xx", "XX"), Arg::token("gt", "GT"), Arg::token("lt", "LT")]).optional().since("7.0.0")], "Makes a key expire at a Unix time given in milliseconds.").key_specs(&[KeySpec::new(&[RW, UPDATE], index(1), range(0, 1, 0))]).complexity("O(1)"),
    CommandSpec::new("expiretime", 2, &[READONLY, FAST], expiretime).doc(Group::Generic, "7.0.0", &[Arg::key("key", 0)], "Tells the Unix time in seconds at which a key expires.").key_specs(&[KeySpec::new(&[RO, ACCESS], index(1), range(0, 1, 0))]).complexity("O(1)"),
    CommandSpec::new("pexpiretime", 2, &[READONLY, FAST], pexpiretime).doc(Group::Generic, "7.0.0", &[Arg::key("key", 0)], "Tells the Unix time in milliseconds at which a key expires.").key_specs(&[KeySpec::new(&[RO, ACCESS], index(1), range(0, 1, 0))]).complexity("O(1)"),
    CommandSpec::new("ttl", 2, &[READONLY, FAST], ttl).doc(Group::Generic, "1.0.0", &[Arg::key("key", 0)], "Tells how many seconds a key has left to live.").tips(&["nondeterministic_output"]).key_specs(&[KeySpec::new(&[RO, ACCESS], index(1), range(0, 1, 0))]).complexity("O(1)"),
    CommandSpec::new("pttl", 2, &[READONLY, FAST], pttl).doc(Group::Generic, "2.6.0", &[Arg::key("key", 0)], "Tells how many milliseconds a key has left to live.").tips(&["nondeterministic_output"]).key_specs(&[KeySpec::new(&[RO, ACCESS], index(1), range(0, 1, 0))]).complexity("O(1)"),
    CommandSpec::new("persist", 2, &[WRITE, FAST], persist).doc(Group::Generic, "2.2.0", &[Arg::key("key", 0)], "Removes a key's expiry so it lives until deleted.").key_specs(&[KeySpec::new(&[RW, UPDATE], index(1), range(0, 1, 0))]).complexity("O(1)"),
    CommandSpec::new("keys", 2, &[READONLY], keys).doc(Group::Generic, "1.0.0", &[Arg::pattern("pattern")], "Lists every key whose name matches a glob pattern.").acl(&[Acl::Dangerous]).tips(&["request_policy:all_shards", "nondeterministic_output_order"]).complexity("O(N), N being the keys in the database (for short names and patterns)."),
    CommandSpec::new("scan", -2, &[READONLY], scan_cmd).doc(Group::Generic, "2.8.0", &[Arg::integer("cursor"), Arg::pattern("pattern").with_token("MATCH").optional(), Arg::integer("count").with_token("COUNT").optional(), Arg::string("type").with_token("TYPE").optional().since("6.0.0")], "Walks the keyspace a few keys per call, resuming from a cursor.").tips(&["nondeterministic_output", "request_policy:special"]).complexity("O(1) per call; O(N) for a whole walk back to cursor 0, N being the collection's size."),
    CommandSpec::new("randomkey", 1, &[READONLY], randomkey).doc(Group::Generic, "1.0.0", &[], "Picks a key at random.").tips(&["request_policy:all_shards", "nondeterministic_output"]).complexity("O(1)"),
    CommandSpec::new("touch", -2, &[READONLY, FAST], touch).doc(Group::Generic, "3.2.1", &[Arg::key("key", 0).multiple()], "Marks keys as just accessed; replies how many exist.").tips(&["request_policy:multi_shard", "response_policy:agg_sum"]).key_specs(&[KeySpec::new(&[RO], index(1), range(-1, 1, 0))]).complexity("O(N), N being the keys named."),
    CommandSpec::new("dump", 2, &[READONLY], dump).doc(Group::Generic, "2.6.0", &[Arg::key("key", 0)], "Serializes a key's value in Redis's DUMP format (RDB encoding, version, CRC-64); nil if missing.").tips(&["nondeterministic_output"]).key_specs(&[KeySpec::new(&[RO, ACCESS], index(1), range(0, 1, 0))]).complexity("O(1) to find the key, then O(N*M) to serialize N inner elements of average size M."),
    CommandSpec::new("restore", -4, &[WRITE, DENYOOM], restore).doc(Group::Generic, "2.6.0", &[Arg::key("key", 0), Arg::integer("ttl"), Arg::string("serialized-value"), Arg::token("replace", "REPLACE").optional().since("3.0.0"), Arg::token("absttl", "ABSTTL").optional().since("5.0.0"), Arg::integer("seconds").with_token("IDLETIME").optional().since("5.0.0"), Arg::integer("frequency").with_token("FREQ").optional().since("5.0.0")], "Creates a key from a DUMP payload, with a TTL in ms (0: none).").acl(&[Acl::Dangerous]).key_specs(&[KeySpec::new(&[OW, UPDATE], index(1), range(0, 1, 0))]).complexity("O(1) to create the key, then O(N*M) to rebuild N inner elements of average size M (O(N*M*log(N)) for sorted sets)."),
    CommandSpec::new("restore-asking", -4, &[WRITE, DENYOOM, ASKING], restore).doc(Group::Server, "3.0.0", &[Arg::key("key", 0), Arg::integer("ttl"), Arg::string("serialized-value"), Arg::token("replace", "REPLACE").optional().since("3.0.0"), Arg::token("absttl", "ABSTTL").optional().since("5.0.0"), Arg::integer("seconds").with_token("IDLETIME").optional().since("5.0.0"), Arg::integer("frequency").with_token("FREQ").optional().since("5.0.0")], "RESTORE as cluster slot migration sends it (accepted during an import); internal.").acl(&[Acl::Keyspace, Acl::Dangerous]).key_specs(&[KeySpec::new(&[OW, UPDATE], index(1), range(0, 1, 0))]).complexity("O(1) to create the key, then O(N*M) to rebuild N inner elements of average size M (O(N*M*log(N)) for sorted sets)."),
    CommandSpec::new("object", -2, &[], object).doc(Group::Generic, "2.2.3", &[], "Inspects how a key's value is stored: encoding, references, idle time, frequency.").complexity("Depends on the subcommand.").subs(OBJECT_SUBCOMMANDS),
];

/// OBJECT's subcommands.
const OBJECT_SUBCOMMANDS: &[CommandSpec] = &[
    CommandSpec::new("encoding", 3, &[READONLY], object_encoding)
        .doc(
            Group::Generic,
            "2.2.3",
            &[Arg::key("key", 0)],
            "Names the internal representation of a key's value.",
        )
        .tips(&["nondeterministic_output"])
        .key_specs(&[KeySpec::new(&[RO], index(2), range(0, 1, 0))])
        .complexity("O(1)"),
    CommandSpec::new("freq", 3, &[READONLY], object_freq)
        .doc(
            Group::Generic,
            "4.0.0",
            &[Arg::key("key", 0)],
            "Tells a key's logarithmic access counter (needs an LFU maxmemory policy).",
        )
        .tips(&["nondeterministic_output"])
        .key_specs(&[KeySpec::new(&[RO], index(2), range(0, 1, 0))])
        .complexity("O(1)"),
    CommandSpec::new("idletime", 3, &[READONLY], object_idletime)
        .doc(
            Group::Generic,
            "2.2.3",
            &[Arg::key("key", 0)],
            "Tells how many seconds ago a key was last accessed.",
        )
        .tips(&["nondeterministic_output"])
        .key_specs(&[KeySpec::new(&[RO], index(2), range(0, 1, 0))])
        .complexity("O(1)"),
    CommandSpec::new("refcount", 3, &[READONLY], object_refcount)
        .doc(
            Group::Generic,
            "2.2.3",
            &[Arg::key("key", 0)],
            "Tells how many references point at a key's value.",
        )
        .tips(&["nondeterministic_output"])
        .key_specs(&[KeySpec::new(&[RO], index(2), range(0, 1, 0))])
        .complexity("O(1)"),
    CommandSpec::new("help", 2, &[LOADING, STALE], object_help)
        .doc(Group::Generic, "6.2.0", &[], "Lists OBJECT's subcommands.")
        .complexity("O(1)"),
];

/// Looks a key up the way Redis's read commands that must not count as an access do (TYPE,
/// EXISTS, TTL, OBJECT ...): expired keys are removed and the keyspace hit or miss is counted,
/// but the key's access time and LFU counter stay as they were.
fn peek_read<'a>(ctx: &'a mut Ctx, key: &[u8]) -> Option<&'a Entry> {
    peek_read_event(ctx, key, true)
}

/// [`peek_read`], with the `keymiss` event of a miss published or not (OBJECT does not).
fn peek_read_event<'a>(ctx: &'a mut Ctx, key: &[u8], miss_event: bool) -> Option<&'a Entry> {
    let now = ctx.now;
    if ctx.eng.dbs[ctx.db].get(key, now).is_none() {
        ctx.eng.stats.misses += 1;
        if miss_event {
            ctx.notify('m', "keymiss", key);
        }
        return None;
    }
    ctx.eng.stats.hits += 1;
    ctx.eng.dbs[ctx.db].get(key, now)
}

/// Deletes each key that exists, signalling and counting each deletion.
fn delete_keys(ctx: &mut Ctx, keys: &[Vec<u8>], lazy: bool) -> CmdResult {
    let now = ctx.now;
    let mut deleted = 0;
    for key in keys {
        if let Some(e) = ctx.db().remove(key, now) {
            if lazy {
                ctx.eng.lazy_freed(&e.value);
            }
            ctx.signal_modified(key);
            ctx.notify('g', "del", key);
            ctx.dirty(1);
            deleted += 1;
        }
    }
    Ok(Reply::Integer(deleted))
}

/// `DEL key [key ...]` → integer: how many keys were removed.
fn del(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    let lazy = ctx.eng.config.lazyfree_lazy_user_del;
    delete_keys(ctx, &argv[1..], lazy)
}

/// `UNLINK key [key ...]` → integer: how many keys were removed. Redis frees large values in a
/// background thread; here the memory is freed at once, and lazyfreed_objects counts the
/// values Redis would have handed to that thread.
fn unlink(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    delete_keys(ctx, &argv[1..], true)
}

/// `EXISTS key [key ...]` → integer: how many of the named keys exist, repeats counted.
fn exists(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    let mut n = 0;
    for key in &argv[1..] {
        if peek_read(ctx, key).is_some() {
            n += 1;
        }
    }
    Ok(Reply::Integer(n))
}

/// `TYPE key` → status: `string`, `list`, `set`, `zset`, `hash`, `stream`, or `none`.
fn type_cmd(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    let name = peek_read(ctx, &argv[1]).map_or("none", |e| e.value.type_name());
    Ok(Reply::status(name))
}

/// The shared body of RENAME and RENAMENX. The entry moves whole: value, expiry, access time.
fn rename_generic(ctx: &mut Ctx, argv: &[Vec<u8>], nx: bool) -> CmdResult {
    let (src, dst) = (&argv[1], &argv[2]);
    if ctx.lookup_write(src).is_none() {
        return Err(error::NO_SUCH_KEY);
    }
    if src == dst {
        return Ok(if nx { Reply::Integer(0) } else { Reply::ok() });
    }
    if ctx.lookup_write(dst).is_some() && nx {
        return Ok(Reply::Integer(0));
    }
    let now = ctx.now;
    let (entry, expire_at) = ctx.db().take(src, now).ok_or(error::NO_SUCH_KEY)?;
    // The destination is replaced by a new key (a `new` event even when it existed).
    ctx.db().delete(dst, now);
    ctx.db().insert(dst.clone(), entry, expire_at);
    ctx.signal_modified(src);
    ctx.signal_modified(dst);
    ctx.notify('g', "rename_from", src);
    ctx.notify('g', "rename_to", dst);
    ctx.dirty(1);
    Ok(if nx { Reply::Integer(1) } else { Reply::ok() })
}

/// `RENAME key newkey` → `+OK`; `ERR no such key` when `key` is missing. Renaming a key onto
/// itself is OK when it exists.
fn rename(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    rename_generic(ctx, argv, false)
}

/// `RENAMENX key newkey` → integer: 1 if renamed, 0 if `newkey` already exists (or is `key`).
fn renamenx(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    rename_generic(ctx, argv, true)
}

/// A database index argument (COPY's DB, MOVE's db): an integer that fits a C int, then one of
/// the configured databases.
fn db_index(ctx: &Ctx, arg: &[u8]) -> Result<usize, CmdError> {
    let idx = args::int32(arg)?;
    usize::try_from(idx)
        .ok()
        .filter(|&i| i < ctx.eng.dbs.len())
        .ok_or(error::DB_INDEX)
}

/// `COPY source destination [DB destination-db] [REPLACE]` → integer: 1 if copied, 0 if the
/// source is missing or the destination exists without REPLACE. The copy keeps the source's
/// expiry but is a new value: fresh access time and LFU counter, never a shared integer.
fn copy(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    let (src, dst) = (&argv[1], &argv[2]);
    let mut replace = false;
    let mut dst_db = ctx.db;
    let mut i = 3;
    while i < argv.len() {
        let opt = &argv[i];
        if args::is(opt, "replace") {
            replace = true;
        } else if args::is(opt, "db") && i + 1 < argv.len() {
            if ctx.eng.cluster_enabled() {
                // A cluster node has database 0 only.
                if args::int32(&argv[i + 1])? != 0 {
                    return Err(error::COPY_CLUSTER);
                }
            }
            dst_db = db_index(ctx, &argv[i + 1])?;
            i += 1;
        } else {
            return Err(error::SYNTAX);
        }
        i += 1;
    }
    if dst_db == ctx.db && src == dst {
        return Err(error::SAME_OBJECT);
    }
    let Some(entry) = ctx.lookup_read(src) else {
        return Ok(Reply::Integer(0));
    };
    let value = entry.value.clone();
    let expire_at = ctx.db().expire_at(src);
    let now = ctx.now;
    let lfu = ctx.lfu_params();
    let target = &mut ctx.eng.dbs[dst_db];
    if target.lookup_lfu(dst, now, lfu).is_some() && !replace {
        return Ok(Reply::Integer(0));
    }
    let mut copied = Entry::new(value, now);
    copied.unshared = true;
    // A replaced destination is deleted first, so the copy is a `new` key.
    target.delete(dst, now);
    target.insert(dst.clone(), copied, expire_at);
    ctx.eng.signal_modified(dst_db, dst);
    ctx.eng.notify(dst_db, 'g', "copy_to", dst);
    ctx.dirty(1);
    Ok(Reply::Integer(1))
}

/// `MOVE key db` → integer: 1 if moved, 0 if `key` is missing here or exists in `db`. The
/// entry moves whole, expiry included.
fn move_cmd(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    if ctx.eng.cluster_enabled() {
        return Err(error::MOVE_CLUSTER);
    }
    let key = &argv[1];
    let dst_db = db_index(ctx, &argv[2])?;
    if dst_db == ctx.db {
        return Err(error::SAME_OBJECT);
    }
    if ctx.lookup_write(key).is_none() {
        return Ok(Reply::Integer(0));
    }
    let now = ctx.now;
    let lfu = ctx.lfu_params();
    if ctx.eng.dbs[dst_db].lookup_lfu(key, now, lfu).is_some() {
        return Ok(Reply::Integer(0));
    }
    let Some((entry, expire_at)) = ctx.db().take(key, now) else {
        return Ok(Reply::Integer(0));
    };
    ctx.eng.dbs[dst_db].insert(key.clone(), entry, expire_at);
    ctx.signal_modified(key);
    ctx.eng.signal_modified(dst_db, key);
    ctx.notify('g', "move_from", key);
    ctx.eng.notify(dst_db, 'g', "move_to", key);
    ctx.dirty(1);
    Ok(Reply::Integer(1))
}

/// The conditions EXPIRE and friends accept after the time.
#[derive(Default)]
struct ExpireFlags {
    nx: bool,
    xx: bool,
    gt: bool,
    lt: bool,
}

impl ExpireFlags {
    /// Reads NX / XX / GT / LT (each may repeat), then rejects the combinations Redis rejects.
    fn parse(opts: &[Vec<u8>]) -> Result<ExpireFlags, CmdError> {
        let mut f = ExpireFlags::default();
        for opt in opts {
            if args::is(opt, "nx") {
                f.nx = true;
            } else if args::is(opt, "xx") {
                f.xx = true;
            } else if args::is(opt, "gt") {
                f.gt = true;
            } else if args::is(opt, "lt") {
                f.lt = true;
            } else {
                return Err(error::unsupported_option(opt));
            }
        }
        if f.nx && (f.xx || f.gt || f.lt) {
            return Err(error::EXPIRE_NX_CONFLICT);
        }
        if f.gt && f.lt {
            return Err(error::EXPIRE_GT_LT_CONFLICT);
        }
        Ok(f)
    }

    /// Whether the new absolute expiry `when` may replace `current` (None: no expiry, which GT
    /// and LT treat as infinite).
    fn allow(&self, current: Option<i64>, when: i64) -> bool {
        if self.nx && current.is_some() {
            return false;
        }
        if self.xx && current.is_none() {
            return false;
        }
        if self.gt && current.is_none_or(|c| when <= c) {
            return false;
        }
        if self.lt && current.is_some_and(|c| when >= c) {
            return false;
        }
        true
    }
}

/// The absolute expiry, in ms, that `arg` asks for: `arg` is in seconds when `seconds`, and is
/// relative to `base` (now, or 0 for the *AT forms). Overflow is `ERR invalid expire time`.
fn expire_time(arg: &[u8], seconds: bool, base: i64, cmd: &str) -> Result<i64, CmdError> {
    let mut when = args::int(arg)?;
    if seconds {
        when = when
            .checked_mul(1000)
            .ok_or_else(|| error::invalid_expire_time(cmd))?;
    }
    when.checked_add(base)
        .ok_or_else(|| error::invalid_expire_time(cmd))
}

/// The shared body of EXPIRE, PEXPIRE, EXPIREAT and PEXPIREAT.
fn expire_generic(
    ctx: &mut Ctx,
    argv: &[Vec<u8>],
    seconds: bool,
    relative: bool,
    cmd: &str,
) -> CmdResult {
    let key = &argv[1];
    let flags = ExpireFlags::parse(&argv[3..])?;
    let base = if relative { ctx.now } else { 0 };
    let when = expire_time(&argv[2], seconds, base, cmd)?;
    if ctx.lookup_write(key).is_none() {
        return Ok(Reply::Integer(0));
    }
    if !flags.allow(ctx.db().expire_at(key), when) {
        return Ok(Reply::Integer(0));
    }
    let now = ctx.now;
    // Loading an AOF, obeying a primary, or as any replica, a time already past is stored as
    // given: the deletion is the primary's to send (Redis's checkAlreadyExpired).
    let keep_past = ctx.must_obey() || ctx.eng.repl.link.is_some();
    let event = if when <= now && !keep_past {
        // A time already past deletes the key, as if it had expired this instant.
        ctx.db().delete_expired(key, now);
        let verb = ctx.del_verb("lazyfree-lazy-expire");
        ctx.propagate_as(vec![verb, key.to_vec()]);
        "del"
    } else {
        ctx.db().set_expire(key, Some(when), now);
        // Replayed as an absolute time, with the condition given.
        let mut prop = vec![
            b"PEXPIREAT".to_vec(),
            key.to_vec(),
            when.to_string().into_bytes(),
        ];
        prop.extend(argv[3..].iter().cloned());
        ctx.propagate_as(prop);
        "expire"
    };
    ctx.signal_modified(key);
    if event == "expire" {
        // Redis replies before publishing `expire` (but after publishing a `del`).
        ctx.reply_point();
    }
    ctx.notify('g', event, key);
    ctx.dirty(1);
    Ok(Reply::Integer(1))
}

/// `EXPIRE key seconds [NX | XX | GT | LT]` → integer: 1 if the expiry was set (or the key
/// deleted for a time already past), 0 if the key is missing or the condition failed.
fn expire(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    expire_generic(ctx, argv, true, true, "expire")
}

/// `PEXPIRE key milliseconds [NX | XX | GT | LT]` → integer, as EXPIRE.
fn pexpire(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    expire_generic(ctx, argv, false, true, "pexpire")
}

/// `EXPIREAT key unix-time-seconds [NX | XX | GT | LT]` → integer, as EXPIRE.
fn expireat(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    expire_generic(ctx, argv, true, false, "expireat")
}

/// `PEXPIREAT key unix-time-milliseconds [NX | XX | GT | LT]` → integer, as EXPIRE.
fn pexpireat(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    expire_generic(ctx, argv, false, false, "pexpireat")
}

/// What TTL, PTTL, EXPIRETIME and PEXPIRETIME report.
#[derive(Clone, Copy)]
enum TtlKind {
    /// Time left, in ms or s.
    Left,
    /// Absolute Unix time, in ms or s.
    At,
}

/// The shared body of TTL, PTTL, EXPIRETIME and PEXPIRETIME: -2 for a missing key, -1 for a
/// key without expiry, else the time (never negative), seconds rounded to nearest.
fn ttl_generic(ctx: &mut Ctx, key: &[u8], kind: TtlKind, ms: bool) -> CmdResult {
    let now = ctx.now;
    if peek_read(ctx, key).is_none() {
        return Ok(Reply::Integer(-2));
    }
    let Some(at) = ctx.db().expire_at(key) else {
        return Ok(Reply::Integer(-1));
    };
    let t = match kind {
        TtlKind::Left => at.saturating_sub(now),
        TtlKind::At => at,
    }
    .max(0);
    if ms {
        return Ok(Reply::Integer(t));
    }
    // Rounded in unsigned arithmetic so a time near i64::MAX does not wrap.
    let secs = (t as u64 + 500) / 1000;
    Ok(Reply::Integer(secs as i64))
}

/// `TTL key` → integer: seconds left (rounded), -1 without expiry, -2 when missing.
fn ttl(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    ttl_generic(ctx, &argv[1], TtlKind::Left, false)
}

/// `PTTL key` → integer: milliseconds left, -1 without expiry, -2 when missing.
fn pttl(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    ttl_generic(ctx, &argv[1], TtlKind::Left, true)
}

/// `EXPIRETIME key` → integer: Unix time of expiry in seconds, -1 without expiry, -2 when
/// missing.
fn expiretime(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    ttl_generic(ctx, &argv[1], TtlKind::At, false)
}

/// `PEXPIRETIME key` → integer: Unix time of expiry in ms, -1 without expiry, -2 when missing.
fn pexpiretime(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    ttl_generic(ctx, &argv[1], TtlKind::At, true)
}

/// `PERSIST key` → integer: 1 if an expiry was removed, 0 if the key is missing or had none.
fn persist(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    let key = &argv[1];
    match ctx.lookup_write(key) {
        Some(e) if e.is_volatile() => {}
        _ => return Ok(Reply::Integer(0)),
    }
    let now = ctx.now;
    ctx.db().set_expire(key, None, now);
    ctx.signal_modified(key);
    ctx.notify('g', "persist", key);
    ctx.dirty(1);
    Ok(Reply::Integer(1))
}

/// `KEYS pattern` → array of every live key matching the glob pattern, in table order.
fn keys(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    let pattern = &argv[1];
    let all = pattern.as_slice() == b"*";
    let now = ctx.now;
    Ok(Reply::Bulks(
        ctx.db()
            .live_keys(now)
            .filter(|k| all || glob_match(pattern, k, false))
            .collect(),
    ))
}

/// `SCAN cursor [MATCH pattern] [COUNT count] [TYPE type]` → a two-element array: the next
/// cursor (a bulk string, `0` when the walk is over) and the keys of this step.
///
/// As in Redis, COUNT bounds the keys visited, and MATCH, TYPE and expiry then filter those, so
/// a step may return fewer keys than COUNT (even none) before the walk ends.
fn scan_cmd(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    let cursor = args::cursor(&argv[1])?;
    let mut count: i64 = 10;
    let mut pattern: Option<&[u8]> = None;
    let mut type_name: Option<&[u8]> = None;
    let mut i = 2;
    while i < argv.len() {
        let opt = &argv[i];
        let has_value = i + 1 < argv.len();
        if args::is(opt, "count") && has_value {
            count = args::int(&argv[i + 1])?;
            if count < 1 {
                return Err(error::SYNTAX);
            }
        } else if args::is(opt, "match") && has_value {
            let p = argv[i + 1].as_slice();
            pattern = if p == b"*" { None } else { Some(p) };
        } else if args::is(opt, "type") && has_value {
            type_name = Some(&argv[i + 1]);
        } else {
            return Err(error::SYNTAX);
        }
        i += 2;
    }
    // A COUNT above the number of keys means the same as that number; capping it keeps the
    // walk's arithmetic in range for any COUNT a user sends.
    let db_len = ctx.db().len().max(1);
    let count = usize::try_from(count).unwrap_or(usize::MAX).min(db_len);
    let (next, visited) = {
        let db = ctx.db();
        let (next, picked) = scan::step(db.iter().map(|(k, _)| (k, k)), cursor, count);
        // Only the keys of this step are copied out, not the whole table.
        (
            next,
            picked
                .into_iter()
                .map(<[u8]>::to_vec)
                .collect::<Vec<Vec<u8>>>(),
        )
    };
    let now = ctx.now;
    let mut out = Vec::new();
    for key in visited {
        if let Some(p) = pattern {
            if !glob_match(p, &key, false) {
                continue;
            }
        }
        if let Some(want) = type_name {
            // Redis looks the key up (expiring it) to learn its type; a key gone by then is of
            // type "none", and is then kept when the filter asks for "none".
            let found = peek_read(ctx, &key).map_or("none", |e| e.value.type_name());
            if !want.eq_ignore_ascii_case(found.as_bytes()) {
                continue;
            }
        }
        if ctx.db().expire_if_needed(&key, now) {
            continue;
        }
        out.push(Reply::Bulk(key));
    }
    Ok(Reply::Array(vec![
        Reply::bulk(next.to_string()),
        Reply::Array(out),
    ]))
}

/// `RANDOMKEY` → bulk: a random live key, or nil when the database is empty.
fn randomkey(ctx: &mut Ctx, _argv: &[Vec<u8>]) -> CmdResult {
    let now = ctx.now;
    let mut swept = false;
    loop {
        let len = ctx.db().len();
        if len == 0 {
            return Ok(Reply::Nil);
        }
        let n = ctx.eng.rng.below(len as u64) as usize;
        let db = &mut ctx.eng.dbs[ctx.db];
        let Some(key) = db.nth_key(n).map(<[u8]>::to_vec) else {
            return Ok(Reply::Nil);
        };
        if !db.expire_if_needed(&key, now) {
            return Ok(Reply::Bulk(key));
        }
        // Redis retries after deleting the expired pick. Sweeping every expired key once keeps
        // the retries bounded when most of the table has expired.
        if !swept {
            db.active_expire(now);
            swept = true;
        }
    }
}

/// `TOUCH key [key ...]` → integer: how many of the keys exist; each is marked as accessed.
fn touch(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    let mut n = 0;
    for key in &argv[1..] {
        if ctx.lookup_read(key).is_some() {
            n += 1;
        }
    }
    Ok(Reply::Integer(n))
}

/// `OBJECT <subcommand> ...`: the dispatcher routes to the subcommands; reaching the container
/// itself means the subcommand is unknown.
fn object(_ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    let sub = argv.get(1).map_or(&[][..], |s| s.as_slice());
    Err(error::unknown_subcommand(sub, "object"))
}

/// `OBJECT ENCODING key` → bulk: the encoding name (`embstr`, `listpack` ...), nil if missing.
fn object_encoding(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    Ok(peek_read_event(ctx, &argv[2], false)
        .map_or(Reply::Nil, |e| Reply::bulk(e.value.encoding_name())))
}

/// `OBJECT FREQ key` → integer: the LFU access counter after its time decay; nil if missing;
/// an error unless the maxmemory policy is an LFU one.
fn object_freq(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    let now = ctx.now;
    let decay_time = ctx.eng.config.lfu_decay_time;
    let lfu = ctx.eng.config.lfu_policy();
    let Some(e) = peek_read_event(ctx, &argv[2], false) else {
        return Ok(Reply::Nil);
    };
    if !lfu {
        return Err(error::LFU_NOT_SELECTED);
    }
    Ok(Reply::Integer(i64::from(lfu_decay(
        e.lfu,
        e.touched_at(),
        now,
        decay_time,
    ))))
}

/// `OBJECT IDLETIME key` → integer: whole seconds since the key was last accessed; nil if
/// missing; an error when the maxmemory policy is an LFU one (access time is not kept then).
/// A key holding a shared small integer reports that object's idle time: the last access
/// through any key holding the same integer, or else the server's start.
fn object_idletime(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    let now = ctx.now;
    let lfu = ctx.eng.config.lfu_policy();
    let Some(e) = peek_read_event(ctx, &argv[2], false) else {
        return Ok(Reply::Nil);
    };
    if lfu {
        return Err(error::LFU_SELECTED);
    }
    let last = match e.shared_integer() {
        Some(n) => ctx
            .eng
            .shared_int_access
            .get(&n)
            .copied()
            .unwrap_or(ctx.eng.started_ms),
        None => e.touched_at(),
    };
    // Redis's access clock ticks in whole seconds.
    Ok(Reply::Integer(
        (now / 1000).saturating_sub(last / 1000).max(0),
    ))
}

/// The reference count Redis reports for a shared object.
const SHARED_REFCOUNT: i64 = i32::MAX as i64;

/// `OBJECT REFCOUNT key` → integer: 2147483647 for Redis's shared small integers, else 1; nil
/// if missing.
fn object_refcount(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    Ok(
        peek_read_event(ctx, &argv[2], false).map_or(Reply::Nil, |e| {
            Reply::Integer(if e.shared_integer().is_some() {
                SHARED_REFCOUNT
            } else {
                1
            })
        }),
    )
}

/// The lines OBJECT HELP prints, exactly as Redis 7.0 prints them (they are the reply).
const OBJECT_HELP: &[&str] = &[
    "OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "ENCODING <key>",
    "    Return the kind of internal representation used in order to store the value",
    "    associated with a <key>.",
    "FREQ <key>",
    "    Return the access frequency index of the <key>. The returned integer is",
    "    proportional to the logarithm of the recent access frequency of the key.",
    "IDLETIME <key>",
    "    Return the idle time of the <key>, that is the approximated number of",
    "    seconds elapsed since the last access to the key.",
    "REFCOUNT <key>",
    "    Return the number of references of the value associated with the specified",
    "    <key>.",
    "HELP",
    "    Prints this help.",
];

/// `OBJECT HELP` → array of status lines describing the subcommands.
fn object_help(_ctx: &mut Ctx, _argv: &[Vec<u8>]) -> CmdResult {
    Ok(Reply::Array(
        OBJECT_HELP.iter().map(|l| Reply::status(l)).collect(),
    ))
}

/// `DUMP key` → bulk string: the value serialized as Redis's DUMP does (see [`crate::rdb::dump`]),
/// or nil when the key does not exist.
fn dump(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    let compress = ctx.eng.config.rdb_compression();
    Ok(match ctx.lookup_read(&argv[1]) {
        Some(e) => Reply::Bulk(crate::rdb::dump(&e.value, compress)),
        None => Reply::Nil,
    })
}

/// `RESTORE key ttl serialized-value [REPLACE] [ABSTTL] [IDLETIME seconds] [FREQ frequency]`
/// → `+OK`. Checks in Redis's order: options, an existing key (BUSYKEY without REPLACE), the
/// TTL, the payload's footer, then its value. A TTL already past (with ABSTTL, or overflowing)
/// creates nothing and only deletes a key REPLACE would have replaced. IDLETIME sets the access
/// time under an LRU (or no) eviction policy, FREQ the counter under an LFU one; each refuses
/// the other. Also RESTORE-ASKING, the same command as cluster migration sends it.
fn restore(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    let (mut replace, mut absttl) = (false, false);
    let (mut idle, mut freq): (Option<i64>, Option<i64>) = (None, None);
    let mut i = 4;
    while i < argv.len() {
        let opt = &argv[i];
        let has_value = i + 1 < argv.len();
        if args::is(opt, "replace") {
            replace = true;
        } else if args::is(opt, "absttl") {
            absttl = true;
        } else if args::is(opt, "idletime") && has_value && freq.is_none() {
            let v = crate::util::parse_i64(&argv[i + 1]).ok_or(error::NOT_INTEGER)?;
            if v < 0 {
                return Err(error::RESTORE_IDLETIME);
            }
            idle = Some(v);
            i += 1;
        } else if args::is(opt, "freq") && has_value && idle.is_none() {
            let v = crate::util::parse_i64(&argv[i + 1]).ok_or(error::NOT_INTEGER)?;
            if !(0..=255).contains(&v) {
                return Err(error::RESTORE_FREQ);
            }
            freq = Some(v);
            i += 1;
        } else {
            return Err(error::SYNTAX);
        }
        i += 1;
    }
    let key = &argv[1];
    if !replace && ctx.lookup_write(key).is_some() {
        return Err(error::BUSYKEY);
    }
    let ttl = crate::util::parse_i64(&argv[2]).ok_or(error::NOT_INTEGER)?;
    if ttl < 0 {
        return Err(error::RESTORE_TTL);
    }
    let value = crate::rdb::undump(&argv[3]).map_err(|e| match e {
        crate::rdb::PayloadError::Footer => error::DUMP_PAYLOAD,
        crate::rdb::PayloadError::Format(_) => error::BAD_DATA_FORMAT,
    })?;
    let now = ctx.now;
    let deleted = replace && ctx.db().delete(key, now).is_some();
    // Redis adds the relative TTL to the clock in 64-bit arithmetic that wraps.
    let expire_at = match ttl {
        0 => None,
        t if absttl => Some(t),
        t => Some(t.wrapping_add(now)),
    };
    if expire_at.is_some_and(|at| at <= now) {
        if deleted {
            ctx.signal_modified(key);
            ctx.notify('g', "del", key);
            ctx.dirty(1);
            ctx.propagate_as(vec![b"DEL".to_vec(), key.clone()]);
        }
        return Ok(Reply::ok());
    }
    if let (Some(at), false) = (expire_at, absttl) {
        // Replayed with the absolute time it got here.
        let mut prop = argv.to_vec();
        prop[2] = at.to_string().into_bytes();
        prop.push(b"ABSTTL".to_vec());
        ctx.propagate_as(prop);
    }
    let mut entry = Entry::new(value, now);
    if ctx.eng.config.lfu_policy() {
        if let Some(f) = freq {
            entry.lfu = f as u8;
        }
    } else if let Some(secs) = idle {
        let at = now.saturating_sub(secs.saturating_mul(1000));
        match entry.shared_integer() {
            // The value is Redis's shared integer object: its clock is the one that moves.
            Some(n) => {
                ctx.eng.shared_int_access.insert(n, at);
            }
            None => entry.touch(at),
        }
    }
    ctx.db().insert(key.clone(), entry, expire_at);
    ctx.signal_modified(key);
    ctx.notify('g', "restore", key);
    ctx.dirty(1);
    Ok(Reply::ok())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::LFU_INIT;
    use crate::engine::{Engine, EngineOptions};
    use crate::testkit::{engine, run_at as run, NOW as T0};
    use crate::types::Value;

    fn set(eng: &mut Engine, db: usize, key: &str, val: &str) {
        eng.dbs[db].set(key.as_bytes(), Value::string(val.as_bytes().to_vec()), T0);
    }

    #[test]
    fn unlink_and_async_flushes_count_what_redis_frees_in_the_background() {
        let (mut eng, c) = engine();
        let members: Vec<String> = (0..100).map(|i| format!("m{i}")).collect();
        run(&mut eng, c, T0, &format!("SADD big {}", members.join(" ")));
        run(&mut eng, c, T0, "SADD small a b c");
        run(&mut eng, c, T0, "SET s v");
        // A set of 100 in a hash table is above the threshold of 64; the others are not.
        assert_eq!(run(&mut eng, c, T0, "UNLINK small s big"), int(3));
        assert_eq!(eng.stats.lazyfreed_objects, 1);
        // DEL is synchronous unless lazyfree-lazy-user-del says otherwise.
        run(&mut eng, c, T0, &format!("SADD big {}", members.join(" ")));
        run(&mut eng, c, T0, "DEL big");
        assert_eq!(eng.stats.lazyfreed_objects, 1);
        run(&mut eng, c, T0, "CONFIG SET lazyfree-lazy-user-del yes");
        run(&mut eng, c, T0, &format!("SADD big {}", members.join(" ")));
        run(&mut eng, c, T0, "DEL big");
        assert_eq!(eng.stats.lazyfreed_objects, 2);
        // An asynchronous flush counts every key it drops.
        run(&mut eng, c, T0, "MSET a 1 b 2 c 3");
        run(&mut eng, c, T0, "FLUSHDB SYNC");
        assert_eq!(eng.stats.lazyfreed_objects, 2);
        run(&mut eng, c, T0, "MSET a 1 b 2 c 3");
        run(&mut eng, c, T0, "FLUSHALL ASYNC");
        assert_eq!(eng.stats.lazyfreed_objects, 5);
        run(&mut eng, c, T0, "CONFIG RESETSTAT");
        assert_eq!(eng.stats.lazyfreed_objects, 0);
    }

    /// The values the databases drop by themselves, counted as redis-server 7.0.15 counts
    /// them after the same steps (1 to 7, then no more once the settings are off): an expiry
    /// under lazyfree-lazy-expire (active, lazy, or a time in the past), an overwrite (SET,
    /// a *STORE result, COPY REPLACE) or an internal deletion (RENAME's destination, an empty
    /// *STORE result) under lazyfree-lazy-server-del. A DEBUG RELOAD keeps the count.
    #[test]
    fn expiries_and_overwrites_count_what_redis_frees_in_the_background() {
        let (mut eng, c) = engine();
        let big = |key: &str| {
            let fields: Vec<String> = (0..600).map(|i| format!("f{i} v")).collect();
            format!("HSET {key} {}", fields.join(" "))
        };
        let mut t = T0;
        let mut step = |eng: &mut Engine, cmds: &[String], want: u64| {
            for cmd in cmds {
                run(eng, c, t, cmd);
            }
            t += 10;
            // Active expiry runs in the cron; INFO's figure is the total.
            eng.tick(t);
            assert_eq!(eng.lazyfreed_objects(), want, "after {cmds:?}");
        };
        let s = |x: &str| x.to_string();
        step(
            &mut eng,
            &[
                s("CONFIG SET lazyfree-lazy-expire yes"),
                s("CONFIG SET lazyfree-lazy-server-del yes"),
            ],
            0,
        );
        step(&mut eng, &[big("e"), s("PEXPIRE e 1")], 1);
        step(&mut eng, &[big("s"), s("SET s x")], 2);
        step(&mut eng, &[big("r"), big("r2"), s("RENAME r r2")], 3);
        let members: Vec<String> = (1..=600).map(|i| i.to_string()).collect();
        step(
            &mut eng,
            &[
                format!("SADD st {}", members.join(" ")),
                s("SUNIONSTORE st2 st"),
                s("SUNIONSTORE st2 st"),
            ],
            4,
        );
        step(&mut eng, &[s("SUNIONSTORE st2 nothing")], 5);
        step(&mut eng, &[big("x"), s("EXPIRE x -1")], 6);
        step(&mut eng, &[big("z"), big("z2"), s("COPY z z2 REPLACE")], 7);
        step(
            &mut eng,
            &[
                s("CONFIG SET lazyfree-lazy-server-del no"),
                s("CONFIG SET lazyfree-lazy-expire no"),
                big("s"),
                s("SET s x"),
                big("e"),
                s("PEXPIRE e 1"),
            ],
            7,
        );
        let expired: u64 = eng.dbs.iter().map(|d| d.expired_keys).sum();
        assert!(expired >= 2);
        let fresh = (0..eng.dbs.len()).map(|_| crate::db::Db::new()).collect();
        eng.replace_data(fresh, t);
        assert_eq!(eng.lazyfreed_objects(), 7, "a reload keeps the figure");
        let after: u64 = eng.dbs.iter().map(|d| d.expired_keys).sum();
        assert_eq!(after, expired, "and expired_keys");
        run(&mut eng, c, t, "CONFIG RESETSTAT");
        assert_eq!(eng.lazyfreed_objects(), 0);
    }

    fn int(n: i64) -> Reply {
        Reply::Integer(n)
    }

    fn err(e: CmdError) -> Reply {
        Reply::Error(e.0)
    }

    #[test]
    fn del_counts_only_live_keys() {
        let (mut eng, c) = engine();
        set(&mut eng, 0, "a", "1");
        set(&mut eng, 0, "b", "1");
        eng.dbs[0].set_expire(b"b", Some(T0 + 10), T0);
        assert_eq!(run(&mut eng, c, T0 + 10, "DEL a b a c"), int(1));
        assert_eq!(eng.dirty, 1);
        assert_eq!(eng.dbs[0].len(), 0);
    }

    #[test]
    fn exists_counts_repeats_without_touching() {
        let (mut eng, c) = engine();
        set(&mut eng, 0, "a", "x");
        assert_eq!(run(&mut eng, c, T0 + 5000, "EXISTS a a b"), int(2));
        assert_eq!(
            eng.dbs[0].peek(b"a").map(|e| e.touched_at()),
            Some(T0 / 1000 * 1000)
        );
        assert_eq!((eng.stats.hits, eng.stats.misses), (2, 1));
    }

    #[test]
    fn expire_options_and_overflow() {
        let (mut eng, c) = engine();
        set(&mut eng, 0, "k", "v");
        assert_eq!(run(&mut eng, c, T0, "EXPIRE k 10 GT"), int(0));
        assert_eq!(run(&mut eng, c, T0, "EXPIRE k 10 XX"), int(0));
        assert_eq!(run(&mut eng, c, T0, "EXPIRE k 10 LT"), int(1));
        assert_eq!(eng.dbs[0].expire_at(b"k"), Some(T0 + 10_000));
        assert_eq!(run(&mut eng, c, T0, "EXPIRE k 20 NX"), int(0));
        assert_eq!(run(&mut eng, c, T0, "EXPIRE k 20 LT"), int(0));
        assert_eq!(run(&mut eng, c, T0, "EXPIRE k 20 gt xx"), int(1));
        assert_eq!(
            run(&mut eng, c, T0, "EXPIRE k 20 nx xx"),
            err(error::EXPIRE_NX_CONFLICT)
        );
        assert_eq!(
            run(&mut eng, c, T0, "EXPIRE k 20 xx gt lt"),
            err(error::EXPIRE_GT_LT_CONFLICT)
        );
        assert_eq!(
            run(&mut eng, c, T0, "EXPIRE k 9223372036854775"),
            err(error::invalid_expire_time("expire"))
        );
        assert_eq!(
            run(&mut eng, c, T0, "PEXPIRE k 9223372036854775807"),
            err(error::invalid_expire_time("pexpire"))
        );
        assert_eq!(
            run(&mut eng, c, T0, "PEXPIREAT k 9223372036854775807"),
            int(1)
        );
        assert_eq!(
            run(&mut eng, c, T0, "EXPIRETIME k"),
            int(9_223_372_036_854_776)
        );
        assert_eq!(
            run(&mut eng, c, T0, "EXPIRE k 10 foo"),
            err(error::unsupported_option(b"foo"))
        );
        // A time in the past deletes the key and counts as a change.
        let dirty = eng.dirty;
        assert_eq!(run(&mut eng, c, T0, "PEXPIREAT k 1"), int(1));
        assert_eq!(eng.dirty, dirty + 1);
        assert_eq!(eng.dbs[0].len(), 0);
        assert_eq!(run(&mut eng, c, T0, "EXPIRE k 10"), int(0));
    }

    #[test]
    fn ttl_rounds_to_nearest_second() {
        let (mut eng, c) = engine();
        set(&mut eng, 0, "k", "v");
        assert_eq!(run(&mut eng, c, T0, "TTL k"), int(-1));
        assert_eq!(run(&mut eng, c, T0, "TTL nokey"), int(-2));
        assert_eq!(run(&mut eng, c, T0, "PEXPIRE k 1499"), int(1));
        assert_eq!(run(&mut eng, c, T0, "TTL k"), int(1));
        assert_eq!(run(&mut eng, c, T0 - 1, "TTL k"), int(2));
        assert_eq!(run(&mut eng, c, T0 + 100, "PTTL k"), int(1399));
        assert_eq!(run(&mut eng, c, T0 + 1499, "PTTL k"), int(-2));
    }

    #[test]
    fn rename_moves_expiry_and_access_time() {
        let (mut eng, c) = engine();
        set(&mut eng, 0, "a", "v");
        eng.dbs[0].set_expire(b"a", Some(T0 + 60_000), T0);
        assert_eq!(run(&mut eng, c, T0 + 1, "RENAME a b"), Reply::ok());
        let e = eng.dbs[0].peek(b"b").cloned().expect("renamed");
        assert_eq!(eng.dbs[0].expire_at(b"b"), Some(T0 + 60_000));
        assert_eq!(e.touched_at(), (T0 + 1) / 1000 * 1000);
        assert_eq!(run(&mut eng, c, T0, "RENAME a b"), err(error::NO_SUCH_KEY));
        assert_eq!(run(&mut eng, c, T0, "RENAME b b"), Reply::ok());
        assert_eq!(run(&mut eng, c, T0, "RENAMENX b b"), int(0));
    }

    #[test]
    fn copy_to_another_db_keeps_ttl_and_unshares() {
        let (mut eng, c) = engine();
        set(&mut eng, 0, "a", "100");
        eng.dbs[0].set_expire(b"a", Some(T0 + 60_000), T0);
        assert_eq!(
            run(&mut eng, c, T0, "OBJECT REFCOUNT a"),
            int(SHARED_REFCOUNT)
        );
        assert_eq!(run(&mut eng, c, T0, "COPY a a"), err(error::SAME_OBJECT));
        assert_eq!(run(&mut eng, c, T0, "COPY a a DB 3"), int(1));
        assert_eq!(run(&mut eng, c, T0, "COPY a a DB 3"), int(0));
        assert_eq!(run(&mut eng, c, T0, "COPY a a REPLACE DB 3"), int(1));
        assert_eq!(run(&mut eng, c, T0, "COPY a b DB 16"), err(error::DB_INDEX));
        assert_eq!(run(&mut eng, c, T0, "COPY a b DB"), err(error::SYNTAX));
        let e = eng.dbs[3].peek(b"a").cloned().expect("copied");
        assert_eq!(eng.dbs[3].expire_at(b"a"), Some(T0 + 60_000));
        assert!(e.unshared);
        assert_eq!(e.lfu, LFU_INIT);
        run(&mut eng, c, T0, "SELECT 3");
        assert_eq!(run(&mut eng, c, T0, "OBJECT REFCOUNT a"), int(1));
    }

    #[test]
    fn move_checks_both_databases() {
        let (mut eng, c) = engine();
        set(&mut eng, 0, "a", "v");
        set(&mut eng, 1, "b", "v");
        set(&mut eng, 0, "b", "v");
        assert_eq!(run(&mut eng, c, T0, "MOVE a 0"), err(error::SAME_OBJECT));
        assert_eq!(run(&mut eng, c, T0, "MOVE b 1"), int(0));
        assert_eq!(run(&mut eng, c, T0, "MOVE a 1"), int(1));
        assert!(eng.dbs[1].peek(b"a").is_some());
        assert!(eng.dbs[0].peek(b"a").is_none());
        assert_eq!(run(&mut eng, c, T0, "MOVE a -1"), err(error::DB_INDEX));
    }

    #[test]
    fn scan_returns_every_lasting_key_while_others_come_and_go() {
        // Removals move the last slot into the freed one: a cursor must not depend on slots.
        let (mut eng, c) = engine();
        for i in 0..300 {
            set(&mut eng, 0, &format!("stay{}", i), "v");
            set(&mut eng, 0, &format!("go{}", i), "v");
        }
        let mut cursor = "0".to_string();
        let mut seen = std::collections::BTreeSet::new();
        let mut step = 0;
        loop {
            let Reply::Array(parts) = run(&mut eng, c, T0, &format!("SCAN {} COUNT 10", cursor))
            else {
                panic!("scan reply")
            };
            let (Some(Reply::Bulk(next)), Some(Reply::Array(keys))) = (parts.first(), parts.get(1))
            else {
                panic!("scan reply shape")
            };
            for k in keys {
                if let Reply::Bulk(k) = k {
                    seen.insert(k.clone());
                }
            }
            // Between steps: delete some of the passing keys, add new ones.
            for j in 0..7 {
                let n = (step * 7 + j) % 300;
                run(&mut eng, c, T0, &format!("DEL go{}", n));
                run(&mut eng, c, T0, &format!("SET new{}-{} v", step, j));
            }
            step += 1;
            cursor = String::from_utf8(next.clone()).expect("digits");
            if cursor == "0" {
                break;
            }
            assert!(step < 10_000, "the walk ends");
        }
        for i in 0..300 {
            let k = format!("stay{}", i).into_bytes();
            assert!(seen.contains(&k), "stay{} missed", i);
        }
    }

    #[test]
    fn scan_walks_everything_and_skips_expired() {
        let (mut eng, c) = engine();
        for i in 0..250 {
            set(&mut eng, 0, &format!("k{}", i), "v");
        }
        eng.dbs[0].set_expire(b"k7", Some(T0 + 1), T0);
        let mut cursor = "0".to_string();
        let mut seen = std::collections::BTreeSet::new();
        loop {
            let Reply::Array(parts) = run(&mut eng, c, T0 + 5, &format!("SCAN {} COUNT 7", cursor))
            else {
                panic!("scan reply")
            };
            let (Some(Reply::Bulk(next)), Some(Reply::Array(keys))) = (parts.first(), parts.get(1))
            else {
                panic!("scan reply shape")
            };
            for k in keys {
                if let Reply::Bulk(k) = k {
                    assert!(seen.insert(k.clone()), "returned twice");
                }
            }
            cursor = String::from_utf8(next.clone()).expect("digits");
            if cursor == "0" {
                break;
            }
        }
        assert_eq!(seen.len(), 249);
        assert!(!seen.contains(b"k7".as_slice()));
        // Everything fits in one step: cursor 0 at once.
        let r = run(
            &mut eng,
            c,
            T0 + 5,
            "SCAN 0 COUNT 9223372036854775807 MATCH k1?",
        );
        let Reply::Array(parts) = r else {
            panic!("scan reply")
        };
        assert_eq!(parts[0], Reply::bulk("0"));
        let Reply::Array(mut keys) = parts[1].clone() else {
            panic!("keys")
        };
        keys.sort_by_key(|k| format!("{:?}", k));
        let want: Vec<Reply> = (10..20).map(|i| Reply::bulk(format!("k{}", i))).collect();
        assert_eq!(keys, want);
    }

    #[test]
    fn scan_type_none_keeps_a_key_that_expired_on_the_way() {
        let (mut eng, c) = engine();
        set(&mut eng, 0, "x", "v");
        eng.dbs[0].set_expire(b"x", Some(T0 + 1), T0);
        set(&mut eng, 0, "y", "v");
        let r = run(&mut eng, c, T0 + 5, "SCAN 0 TYPE none");
        assert_eq!(
            r,
            Reply::Array(vec![Reply::bulk("0"), Reply::Array(vec![Reply::bulk("x")])])
        );
        assert_eq!(eng.dbs[0].len(), 1);
        let r = run(&mut eng, c, T0 + 5, "SCAN 0 TYPE none");
        assert_eq!(
            r,
            Reply::Array(vec![Reply::bulk("0"), Reply::Array(vec![])])
        );
    }

    /// Watches (db, key) for client `c` and reports whether a command made it dirty.
    fn dirties(eng: &mut Engine, c: crate::ClientId, db: usize, key: &str, line: &str) -> bool {
        eng.watched.insert((db, key.as_bytes().to_vec()), vec![c]);
        if let Some(cl) = eng.client_mut(c) {
            cl.watch_dirty = false;
        }
        run(eng, c, T0, line);
        eng.watched.clear();
        eng.client_mut(c).is_some_and(|cl| cl.watch_dirty)
    }

    #[test]
    fn writes_signal_every_key_they_change() {
        let (mut eng, c) = engine();
        set(&mut eng, 0, "a", "v");
        assert!(dirties(&mut eng, c, 0, "a", "EXPIRE a 100"));
        assert!(!dirties(&mut eng, c, 0, "a", "EXPIRE a 100 NX"));
        assert!(dirties(&mut eng, c, 0, "a", "PERSIST a"));
        assert!(!dirties(&mut eng, c, 0, "a", "PERSIST a"));
        assert!(dirties(&mut eng, c, 0, "a", "RENAME a b"));
        set(&mut eng, 0, "a", "v");
        assert!(dirties(&mut eng, c, 0, "b", "RENAME a b"));
        assert!(dirties(&mut eng, c, 0, "c", "COPY b c DB 0"));
        assert!(!dirties(&mut eng, c, 0, "c", "COPY b c"));
        assert!(!dirties(&mut eng, c, 0, "b", "COPY b c DB 2"));
        assert!(dirties(&mut eng, c, 2, "d", "COPY b d DB 2"));
        assert!(dirties(&mut eng, c, 0, "c", "MOVE c 3"));
        assert!(dirties(&mut eng, c, 3, "b", "MOVE b 3"));
        assert!(!dirties(&mut eng, c, 0, "b", "DEL b"));
        assert!(!dirties(&mut eng, c, 0, "d", "TOUCH d"));
        assert!(!dirties(&mut eng, c, 3, "b", "DEL b"));
        // The client is in db 0, where neither key is left.
        let before = eng.dirty;
        assert!(!dirties(&mut eng, c, 2, "d", "UNLINK c d"));
        assert_eq!(eng.dirty, before);
        run(&mut eng, c, T0, "SELECT 2");
        // Both were copied into db 2 above: one change each.
        assert!(dirties(&mut eng, c, 2, "d", "UNLINK c d"));
        assert_eq!(eng.dirty, before + 2);
    }

    #[test]
    fn randomkey_never_returns_expired() {
        let (mut eng, c) = engine();
        assert_eq!(run(&mut eng, c, T0, "RANDOMKEY"), Reply::Nil);
        for i in 0..50 {
            set(&mut eng, 0, &format!("gone{}", i), "v");
            eng.dbs[0].set_expire(format!("gone{}", i).as_bytes(), Some(T0 + 1), T0);
        }
        set(&mut eng, 0, "live", "v");
        for _ in 0..20 {
            assert_eq!(run(&mut eng, c, T0 + 2, "RANDOMKEY"), Reply::bulk("live"));
        }
    }

    /// Random command lines from this group's vocabulary, with hostile numbers and names:
    /// whatever the input, a reply comes back and nothing panics.
    #[test]
    fn random_lines_never_panic() {
        let (mut eng, c) = engine();
        let mut rng = crate::rng::Rng::new(7);
        let cmds = [
            "DEL",
            "UNLINK",
            "EXISTS",
            "TYPE",
            "RENAME",
            "RENAMENX",
            "COPY",
            "MOVE",
            "EXPIRE",
            "PEXPIRE",
            "EXPIREAT",
            "PEXPIREAT",
            "EXPIRETIME",
            "PEXPIRETIME",
            "TTL",
            "PTTL",
            "PERSIST",
            "KEYS",
            "SCAN",
            "RANDOMKEY",
            "TOUCH",
            "OBJECT",
            "SELECT",
        ];
        let words = [
            "a",
            "b",
            "c",
            "",
            "*",
            "[",
            "[^",
            "\\",
            "a*?[b-a]",
            "0",
            "1",
            "-1",
            "15",
            "16",
            "9223372036854775807",
            "-9223372036854775808",
            "18446744073709551615",
            "NX",
            "XX",
            "GT",
            "LT",
            "DB",
            "REPLACE",
            "MATCH",
            "COUNT",
            "TYPE",
            "string",
            "none",
            "ENCODING",
            "FREQ",
            "IDLETIME",
            "REFCOUNT",
            "HELP",
            "1000",
            "2147483648",
        ];
        let mut now = T0;
        for i in 0..20_000 {
            if i % 50 == 0 {
                let k = words[rng.below(3) as usize];
                set(
                    &mut eng,
                    rng.below(3) as usize,
                    k,
                    words[rng.below(words.len() as u64) as usize],
                );
            }
            now += rng.below(300) as i64;
            let mut argv = vec![cmds[rng.below(cmds.len() as u64) as usize]
                .as_bytes()
                .to_vec()];
            for _ in 0..rng.below(6) {
                argv.push(
                    words[rng.below(words.len() as u64) as usize]
                        .as_bytes()
                        .to_vec(),
                );
            }
            assert!(eng.execute(c, &argv, now).is_some());
            if i % 1000 == 0 {
                eng.tick(now);
            }
        }
    }

    #[test]
    fn shared_integers_share_their_idle_time() {
        let mut eng = Engine::new(EngineOptions {
            now_ms: T0 - 60_000,
            ..EngineOptions::default()
        });
        let c = eng.open_client(T0);
        set(&mut eng, 0, "a", "100");
        set(&mut eng, 0, "b", "100");
        set(&mut eng, 0, "big", "10000");
        // Never accessed: the shared object is as old as the server.
        assert_eq!(run(&mut eng, c, T0, "OBJECT IDLETIME a"), int(60));
        assert_eq!(run(&mut eng, c, T0, "OBJECT IDLETIME big"), int(0));
        assert_eq!(run(&mut eng, c, T0 + 1000, "TOUCH a"), int(1));
        assert_eq!(run(&mut eng, c, T0 + 4000, "OBJECT IDLETIME b"), int(3));
        // A private copy keeps its own clock.
        assert_eq!(run(&mut eng, c, T0 + 4000, "COPY a c"), int(1));
        assert_eq!(run(&mut eng, c, T0 + 6000, "OBJECT IDLETIME c"), int(2));
        assert_eq!(run(&mut eng, c, T0 + 6000, "OBJECT REFCOUNT c"), int(1));
        assert_eq!(run(&mut eng, c, T0 + 6000, "OBJECT IDLETIME a"), int(2));
    }

    #[test]
    fn object_subcommands() {
        let (mut eng, c) = engine();
        set(&mut eng, 0, "s", "hello");
        set(&mut eng, 0, "n", "10000");
        assert_eq!(
            run(&mut eng, c, T0, "OBJECT ENCODING s"),
            Reply::bulk("embstr")
        );
        assert_eq!(
            run(&mut eng, c, T0, "OBJECT ENCODING n"),
            Reply::bulk("int")
        );
        assert_eq!(run(&mut eng, c, T0, "OBJECT REFCOUNT n"), int(1));
        assert_eq!(run(&mut eng, c, T0, "OBJECT ENCODING x"), Reply::Nil);
        assert_eq!(run(&mut eng, c, T0 + 3500, "OBJECT IDLETIME s"), int(3));
        // OBJECT itself is not an access.
        assert_eq!(run(&mut eng, c, T0 + 3500, "OBJECT IDLETIME s"), int(3));
        assert_eq!(
            run(&mut eng, c, T0, "OBJECT FREQ s"),
            err(error::LFU_NOT_SELECTED)
        );
        eng.config.maxmemory_policy = "allkeys-lfu".into();
        assert_eq!(
            run(&mut eng, c, T0, "OBJECT FREQ s"),
            int(i64::from(LFU_INIT))
        );
        assert_eq!(
            run(&mut eng, c, T0, "OBJECT IDLETIME s"),
            err(error::LFU_SELECTED)
        );
        // Two decay periods of one minute each.
        assert_eq!(
            run(&mut eng, c, T0 + 120_000, "OBJECT FREQ s"),
            int(i64::from(LFU_INIT) - 2)
        );
        assert_eq!(
            run(&mut eng, c, T0, "OBJECT NOPE s"),
            err(error::unknown_subcommand(b"NOPE", "object"))
        );
        let Reply::Array(help) = run(&mut eng, c, T0, "OBJECT help") else {
            panic!("help")
        };
        assert_eq!(help.len(), 15);
    }
}
