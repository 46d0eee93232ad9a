//! DEBUG: the commands Redis's own tests and persistence checks lean on (RELOAD, DIGEST,
//! OBJECT, SLEEP, SET-ACTIVE-EXPIRE, PROTOCOL ...). The command is protected: it runs only when
//! `enable-debug-command` allows it (`yes`, or `local` for a client on the loopback address),
//! which `Engine::execute` checks before it runs. The page enables it; the native server
//! follows its command line, `no` by default as in redis-server.
//!
//! Subcommands that crash or restart a real Redis (SEGFAULT, PANIC, ASSERT, OOM, RESTART,
//! CRASH-AND-RECOVER) are refused, unless the host restarts a crashed engine from its last
//! durable state (the page's worker): there the crashing ones crash the engine for real, so a
//! learner sees what a crash keeps and what it loses, as a redis-server restarting would.

use super::spec::*;
use crate::engine::Ctx;
use crate::error::{self, CmdError, CmdResult};
use crate::protocol::Reply;
use crate::types::{digest, Value};

/// This group's commands.
pub const COMMANDS: &[CommandSpec] = &[CommandSpec::new(
    "debug",
    -2,
    &[ADMIN, NOSCRIPT, LOADING, STALE, PROTECTED],
    debug,
)
.doc(
    Group::Server,
    "1.0.0",
    &[],
    "Debugging and testing aids: digests, reloading the data, object internals, sleeping.",
)
.complexity("Depends on subcommand.")];

/// DEBUG HELP's lines, as Redis 7.0.15 built with jemalloc prints them (they are the reply).
const HELP: &[&str] = &[
    "AOF-FLUSH-SLEEP <microsec>",
    "    Server will sleep before flushing the AOF, this is used for testing.",
    "ASSERT",
    "    Crash by assertion failed.",
    "CHANGE-REPL-ID",
    "    Change the replication IDs of the instance.",
    "    Dangerous: should be used only for testing the replication subsystem.",
    "CONFIG-REWRITE-FORCE-ALL",
    "    Like CONFIG REWRITE but writes all configuration options, including",
    "    keywords not listed in original configuration file or default values.",
    "CRASH-AND-RECOVER [<milliseconds>]",
    "    Hard crash and restart after a <milliseconds> delay (default 0).",
    "DIGEST",
    "    Output a hex signature representing the current DB content.",
    "DIGEST-VALUE <key> [<key> ...]",
    "    Output a hex signature of the values of all the specified keys.",
    "ERROR <string>",
    "    Return a Redis protocol error with <string> as message. Useful for clients",
    "    unit tests to simulate Redis errors.",
    "LEAK <string>",
    "    Create a memory leak of the input string.",
    "LOG <message>",
    "    Write <message> to the server log.",
    "HTSTATS <dbid>",
    "    Return hash table statistics of the specified Redis database.",
    "HTSTATS-KEY <key>",
    "    Like HTSTATS but for the hash table stored at <key>'s value.",
    "LOADAOF",
    "    Flush the AOF buffers on disk and reload the AOF in memory.",
    "REPLICATE <string>",
    "    Replicates the provided string to replicas, allowing data divergence.",
    "MALLCTL <key> [<val>]",
    "    Get or set a malloc tuning integer.",
    "MALLCTL-STR <key> [<val>]",
    "    Get or set a malloc tuning string.",
    "OBJECT <key>",
    "    Show low level info about `key` and associated value.",
    "DROP-CLUSTER-PACKET-FILTER <packet-type>",
    "    Drop all packets that match the filtered type. Set to -1 allow all packets.",
    "OOM",
    "    Crash the server simulating an out-of-memory error.",
    "PANIC",
    "    Crash the server simulating a panic.",
    "POPULATE <count> [<prefix>] [<size>]",
    "    Create <count> string keys named key:<num>. If <prefix> is specified then",
    "    it is used instead of the 'key' prefix. These are not propagated to",
    "    replicas. Cluster slots are not respected so keys not belonging to the",
    "    current node can be created in cluster mode.",
    "PROTOCOL <type>",
    "    Reply with a test value of the specified type. <type> can be: string,",
    "    integer, double, bignum, null, array, set, map, attrib, push, verbatim,",
    "    true, false.",
    "RELOAD [option ...]",
    "    Save the RDB on disk and reload it back to memory. Valid <option> values:",
    "    * MERGE: conflicting keys will be loaded from RDB.",
    "    * NOFLUSH: the existing database will not be removed before load, but",
    "      conflicting keys will generate an exception and kill the server.",
    "    * NOSAVE: the database will be loaded from an existing RDB file.",
    "    Examples:",
    "    * DEBUG RELOAD: verify that the server is able to persist, flush and reload",
    "      the database.",
    "    * DEBUG RELOAD NOSAVE: replace the current database with the contents of an",
    "      existing RDB file.",
    "    * DEBUG RELOAD NOSAVE NOFLUSH MERGE: add the contents of an existing RDB",
    "      file to the database.",
    "RESTART [<milliseconds>]",
    "    Graceful restart: save config, db, restart after a <milliseconds> delay (default 0).",
    "SDSLEN <key>",
    "    Show low level SDS string info representing `key` and value.",
    "SEGFAULT",
    "    Crash the server with sigsegv.",
    "SET-ACTIVE-EXPIRE <0|1>",
    "    Setting it to 0 disables expiring keys in background when they are not",
    "    accessed (otherwise the Redis behavior). Setting it to 1 reenables back the",
    "    default.",
    "QUICKLIST-PACKED-THRESHOLD <size>",
    "    Sets the threshold for elements to be inserted as plain vs packed nodes",
    "    Default value is 1GB, allows values up to 4GB. Setting to 0 restores to default.",
    "SET-SKIP-CHECKSUM-VALIDATION <0|1>",
    "    Enables or disables checksum checks for RDB files and RESTORE's payload.",
    "SLEEP <seconds>",
    "    Stop the server for <seconds>. Decimals allowed.",
    "STRINGMATCH-TEST",
    "    Run a fuzz tester against the stringmatchlen() function.",
    "STRUCTSIZE",
    "    Return the size of different Redis core C structures.",
    "LISTPACK <key>",
    "    Show low level info about the listpack encoding of <key>.",
    "QUICKLIST <key> [<0|1>]",
    "    Show low level info about the quicklist encoding of <key>.",
    "    The optional argument (0 by default) sets the level of detail",
    "CLIENT-EVICTION",
    "    Show low level client eviction pools info (maxmemory-clients).",
    "PAUSE-CRON <0|1>",
    "    Stop periodic cron job processing.",
    "REPLYBUFFER PEAK-RESET-TIME <NEVER||RESET|time>",
    "    Sets the time (in milliseconds) to wait between client reply buffer peak resets.",
    "    In case NEVER is provided the last observed peak will never be reset",
    "    In case RESET is provided the peak reset time will be restored to the default value",
    "REPLYBUFFER RESIZING <0|1>",
    "    Enable or disable the reply buffer resize cron job",
    "CLUSTERLINK KILL <to|from|all> <node-id>",
    "    Kills the link based on the direction to/from (both) with the provided node.",
];

/// The largest value DEBUG POPULATE creates (Redis's `proto-max-bulk-len` default), so a
/// size argument cannot ask for unbounded memory.
const POPULATE_MAX_VALUE: i64 = 512 * 1024 * 1024;

/// The largest quicklist packed threshold Redis accepts: just under 4 GB.
const PACKED_THRESHOLD_MAX: u64 = (1 << 32) - (1 << 20);

/// `DEBUG <subcommand> [arg ...]`: see [`HELP`] for the subcommands.
fn debug(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    let sub = String::from_utf8_lossy(&argv[1]).to_ascii_lowercase();
    let argc = argv.len();
    let ok = Ok(Reply::ok());
    match (sub.as_str(), argc) {
        ("help", 2) => Ok(super::server::help_reply("DEBUG", HELP)),
        ("segfault" | "panic" | "assert" | "oom" | "crash-and-recover", _)
            if ctx.eng.persist.crash_host =>
        {
            // Deliberate: this host catches the trap, reports it and restarts the engine.
            panic!(
                "DEBUG {} crashed the server as asked",
                sub.to_ascii_uppercase()
            )
        }
        ("segfault" | "panic" | "assert" | "oom", _) | ("restart" | "crash-and-recover", _) => {
            Err(error::debug_unsupported(&sub))
        }
        ("loadaof", _) => {
            // The host with an append-only file empties the data and loads the file back
            // before this reply leaves; without one there is nothing to load.
            let aof = ctx.eng.config.appendonly || ctx.eng.persist.aof_on_disk;
            if !ctx.eng.persist.aof_host || !aof {
                return Err(error::debug_unsupported(&sub));
            }
            ctx.eng.persist.aof_load_requested = true;
            ctx.eng.persist.aof_load_caller = Some(ctx.client);
            ok
        }
        ("log" | "leak", 3) => ok,
        ("reload", _) => reload(ctx, &argv[2..]),
        ("drop-cluster-packet-filter", 3) => {
            let kind = super::args::int(&argv[2])?;
            if let Some(cl) = ctx.eng.cluster.as_deref_mut() {
                cl.bus.drop_filter = u16::try_from(kind).ok();
            }
            ok
        }
        ("object", 3) => object(ctx, &argv[2]),
        ("sdslen", 3) => sdslen(ctx, &argv[2]),
        ("listpack", 3) => {
            let enc = encoding_or_nokey(ctx, &argv[2])?;
            if enc != "listpack" {
                return Err(error::DEBUG_NOT_LISTPACK);
            }
            Ok(Reply::status("Listpack structure printed on stdout"))
        }
        ("quicklist", 3 | 4) => {
            let enc = encoding_or_nokey(ctx, &argv[2])?;
            if enc != "quicklist" {
                return Err(error::DEBUG_NOT_QUICKLIST);
            }
            Ok(Reply::status("Quicklist structure printed on stdout"))
        }
        ("populate", 3..=5) => populate(ctx, argv),
        ("digest", 2) => Ok(Reply::Status(
            digest::hex(&digest::of_dataset(&ctx.eng.dbs)).into(),
        )),
        ("digest-value", _) => {
            let db = &ctx.eng.dbs[ctx.db];
            Ok(Reply::Array(
                argv[2..]
                    .iter()
                    .map(|k| Reply::Status(digest::hex(&digest::of_value(db.peek(k))).into()))
                    .collect(),
            ))
        }
        ("protocol", 3) => protocol(ctx, &argv[2]),
        ("sleep", 3) => {
            let seconds = strtod(&argv[2]);
            let us = seconds * 1_000_000.0;
            if us.is_finite() && us >= 1.0 {
                ctx.eng.sleep_us(us as u64);
            }
            ok
        }
        ("set-active-expire", 3) => {
            ctx.eng.active_expire_enabled = atoi(&argv[2]) != 0;
            ok
        }
        ("quicklist-packed-threshold", 3) => {
            match crate::config::parse_memory(&argv[2]).filter(|&n| n <= PACKED_THRESHOLD_MAX) {
                Some(n) => {
                    ctx.eng.quicklist_packed_threshold = if n == 0 { 1 << 30 } else { n };
                    ok
                }
                None => Err(error::DEBUG_PACKED_THRESHOLD),
            }
        }
        ("set-skip-checksum-validation", 3) => {
            ctx.eng.skip_checksum_validation = atoi(&argv[2]) != 0;
            ok
        }
        ("set-disable-deny-scripts", 3) => {
            ctx.eng.script_disable_deny = atoi(&argv[2]) != 0;
            ok
        }
        ("aof-flush-sleep" | "pause-cron", 3) => ok,
        ("replicate", 3..) => ok,
        ("error", 3) => {
            let text: String = String::from_utf8_lossy(&argv[2])
                .chars()
                .map(|c| if c == '\r' || c == '\n' { ' ' } else { c })
                .collect();
            Err(CmdError::new(text))
        }
        ("structsize", 2) => Ok(Reply::bulk(
            "bits:64 robj:16 dictentry:24 sdshdr5:1 sdshdr8:3 sdshdr16:5 sdshdr32:9 sdshdr64:17 ",
        )),
        ("htstats", 3) => {
            let dbid = super::args::int(&argv[2])?;
            let db = usize::try_from(dbid)
                .ok()
                .and_then(|i| ctx.eng.dbs.get(i))
                .ok_or(error::OUT_OF_RANGE_DB)?;
            let mut text = String::from("[Dictionary HT]\n");
            text.push_str(&table_stats(db.len()));
            text.push_str("[Expires HT]\n");
            text.push_str(&table_stats(db.volatile_len()));
            Ok(Reply::Verbatim("txt", text.into_bytes()))
        }
        ("htstats-key", 3) => {
            let db = &ctx.eng.dbs[ctx.db];
            let entry = db.peek(&argv[2]).ok_or(error::NO_SUCH_KEY)?;
            let size = match &entry.value {
                Value::Set(s) if s.encoding_name() == "hashtable" => s.len(),
                Value::Hash(h) if h.encoding_name() == "hashtable" => h.len(),
                Value::ZSet(z) if z.encoding_name() == "skiplist" => z.len(),
                _ => return Err(error::DEBUG_NOT_HASHTABLE),
            };
            Ok(Reply::Verbatim("txt", table_stats(size).into_bytes()))
        }
        ("change-repl-id", 2) => {
            ctx.eng.new_replication_history();
            ok
        }
        ("stringmatch-test", 2) => Ok(Reply::status("Apparently Redis did not crash: test passed")),
        ("config-rewrite-force-all", 2) => {
            super::server::rewrite_config_file(ctx, true)
                .map_err(|why| error::debug_rewrite_failed(&why))?;
            ok
        }
        ("client-eviction", 2) => {
            if ctx.eng.client_eviction_limit() == 0 {
                return Err(error::DEBUG_NO_CLIENT_EVICTION);
            }
            let text = ctx.eng.client_eviction_buckets();
            Ok(Reply::Verbatim("txt", text.into_bytes()))
        }
        ("mallctl" | "mallctl-str", 3..) => Err(error::DEBUG_MALLCTL_UNKNOWN),
        ("replybuffer", 4) => {
            let settings = &mut ctx.eng.reply_buffer;
            if super::args::is(&argv[2], "peak-reset-time") {
                settings.peak_reset_ms = if super::args::is(&argv[3], "never") {
                    -1
                } else if super::args::is(&argv[3], "reset") {
                    crate::engine::client_mem::REPLY_PEAK_RESET_MS
                } else {
                    super::args::int(&argv[3])?
                };
                ok
            } else if super::args::is(&argv[2], "resizing") {
                settings.resizing = atoi(&argv[3]) != 0;
                ok
            } else {
                Err(error::subcommand_syntax(&argv[1], "debug"))
            }
        }
        ("clusterlink", 5) if super::args::is(&argv[2], "kill") => clusterlink_kill(ctx, argv),
        _ => Err(error::subcommand_syntax(&argv[1], "debug")),
    }
}

/// C's `atoi`: the leading decimal digits (with a sign), 0 when there are none.
fn atoi(arg: &[u8]) -> i64 {
    let s = String::from_utf8_lossy(arg);
    let t = s.trim_start();
    let end = t
        .char_indices()
        .take_while(|&(i, c)| c.is_ascii_digit() || (i == 0 && (c == '-' || c == '+')))
        .map(|(i, c)| i + c.len_utf8())
        .last()
        .unwrap_or(0);
    t[..end].parse::<i64>().unwrap_or(0)
}

/// C's `strtod`: the longest leading part that is a number, 0 when there is none.
fn strtod(arg: &[u8]) -> f64 {
    let s = String::from_utf8_lossy(arg);
    let t = s.trim_start();
    (1..=t.len())
        .rev()
        .filter(|&n| t.is_char_boundary(n))
        .find_map(|n| t[..n].parse::<f64>().ok())
        .unwrap_or(0.0)
}

/// The encoding of the key's value (no expiry check, as OBJECT's lookup does), or `no such
/// key`.
fn encoding_or_nokey(ctx: &mut Ctx, key: &[u8]) -> Result<&'static str, CmdError> {
    let now = ctx.now;
    ctx.db()
        .get(key, now)
        .map(|e| e.value.encoding_name())
        .ok_or(error::NO_SUCH_KEY)
}

/// `DEBUG RELOAD [MERGE] [NOFLUSH] [NOSAVE]`: saves a snapshot (unless NOSAVE), then loads
/// it back (into emptied databases unless NOFLUSH; MERGE lets loaded keys replace existing
/// ones).
fn reload(ctx: &mut Ctx, opts: &[Vec<u8>]) -> CmdResult {
    let (mut merge, mut flush, mut save) = (false, true, true);
    for o in opts {
        if super::args::is(o, "merge") {
            merge = true;
        } else if super::args::is(o, "noflush") {
            flush = false;
        } else if super::args::is(o, "nosave") {
            save = false;
        } else {
            return Err(error::DEBUG_RELOAD_OPTIONS);
        }
    }
    let now = ctx.now;
    ctx.eng.debug_reload(save, flush, merge, now)?;
    Ok(Reply::ok())
}

/// `DEBUG OBJECT key` → status: the value's address, refcount, encoding, RDB length and LRU
/// clock, with the quicklist's shape for a list.
fn object(ctx: &mut Ctx, key: &[u8]) -> CmdResult {
    let now = ctx.now;
    let lfu = ctx.eng.config.lfu_policy();
    let compress = ctx.eng.config.rdb_compression();
    let fill = ctx.eng.config.list_max_listpack_size;
    let depth = ctx.eng.config.int_param("list-compress-depth");
    let started = ctx.eng.started_ms;
    let db = &ctx.eng.dbs[ctx.db];
    let e = db.peek(key).ok_or(error::NO_SUCH_KEY)?;
    let shared = e.shared_integer();
    let last = match shared {
        Some(n) => ctx
            .eng
            .shared_int_access
            .get(&n)
            .copied()
            .unwrap_or(started),
        None => e.touched_at(),
    };
    let refcount: i64 = if shared.is_some() { i32::MAX as i64 } else { 1 };
    let serialized = crate::rdb::dump(&e.value, compress)
        .len()
        .saturating_sub(11);
    let lru = if lfu {
        (((last / 60_000) & 0xffff) << 8) | i64::from(e.lfu)
    } else {
        (last / 1000) & 0xff_ffff
    };
    let idle = (now / 1000).saturating_sub(last / 1000).max(0);
    // Redis prints the value's address; a stable fake one per key keeps the shape.
    let addr = 0x7f00_0000_0000u64 | (fnv(key) & 0x00ff_ffff_fff0);
    let mut text = format!(
        "Value at:0x{addr:x} refcount:{refcount} encoding:{} serializedlength:{serialized} \
         lru:{lru} lru_seconds_idle:{idle}",
        e.value.encoding_name()
    );
    if let Value::List(l) = &e.value {
        let (nodes, bytes) = crate::rdb::quicklist_shape(l.iter());
        let avg = l.len() as f64 / nodes.max(1) as f64;
        text.push_str(&format!(
            " ql_nodes:{nodes} ql_avg_node:{avg:.2} ql_listpack_max:{fill} ql_compressed:{} \
             ql_uncompressed_size:{bytes}",
            i32::from(depth != 0)
        ));
    }
    Ok(Reply::Status(text.into()))
}

/// FNV-1a of a key, for DEBUG OBJECT's made-up address.
fn fnv(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    })
}

/// `DEBUG SDSLEN key` → status: the key's and the string value's lengths and allocations.
fn sdslen(ctx: &mut Ctx, key: &[u8]) -> CmdResult {
    let db = &ctx.eng.dbs[ctx.db];
    let e = db.peek(key).ok_or(error::NO_SUCH_KEY)?;
    let Value::Str(v, enc) = &e.value else {
        return Err(error::DEBUG_NOT_SDS);
    };
    if enc.name() == "int" {
        return Err(error::DEBUG_NOT_SDS);
    }
    // sds header (1 to 9 bytes) plus the bytes and the terminator, rounded up to jemalloc's
    // size classes.
    let alloc = |n: usize| jemalloc_class(sds_header(n) + n + 1);
    let val_alloc = if enc.name() == "embstr" {
        // An embstr lives in one allocation with its object header (16 bytes).
        jemalloc_class(16 + 3 + v.len() + 1)
    } else {
        alloc(v.len())
    };
    Ok(Reply::Status(
        format!(
            "key_sds_len:{}, key_sds_avail:0, key_zmalloc: {}, val_sds_len:{}, \
             val_sds_avail:0, val_zmalloc: {}",
            key.len(),
            alloc(key.len()),
            v.len(),
            val_alloc
        )
        .into(),
    ))
}

fn sds_header(len: usize) -> usize {
    match len {
        0..=31 => 1,
        32..=255 => 3,
        256..=65535 => 5,
        _ if len as u64 <= u64::from(u32::MAX) => 9,
        _ => 17,
    }
}

/// jemalloc's size class for an allocation of `n` bytes (small classes, then pages).
fn jemalloc_class(n: usize) -> usize {
    const SMALL: &[usize] = &[
        8, 16, 32, 48, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384, 448, 512, 640, 768, 896,
        1024, 1280, 1536, 1792, 2048, 2560, 3072, 3584, 4096, 5120, 6144, 7168, 8192, 10240, 12288,
        14336,
    ];
    SMALL
        .iter()
        .copied()
        .find(|&c| c >= n)
        .unwrap_or_else(|| n.div_ceil(4096) * 4096)
}

/// What Redis's dictGetStats says about a table of `size` elements: the table size (the
/// power of two at or above it) and the element count.
fn table_stats(size: usize) -> String {
    if size == 0 {
        return "Hash table 0 stats (main hash table):\nNo stats available for empty \
                dictionaries\n"
            .into();
    }
    let table = size.next_power_of_two().max(4);
    format!(
        "Hash table 0 stats (main hash table):\n table size: {table}\n number of elements: \
         {size}\n"
    )
}

/// `DEBUG POPULATE count [prefix] [size]`: creates `prefix:N` keys holding `value:N` (padded
/// with zero bytes or cut to `size`), skipping names that exist. Not a change to propagate.
fn populate(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    let count = positive(&argv[2])?;
    let size = match argv.get(4) {
        Some(a) => positive(a)?.min(POPULATE_MAX_VALUE) as usize,
        None => 0,
    };
    let prefix: &[u8] = argv.get(3).map_or(b"key", |p| p.as_slice());
    let now = ctx.now;
    for j in 0..count {
        let mut key = prefix.to_vec();
        key.extend_from_slice(format!(":{j}").as_bytes());
        if ctx.lookup_write(&key).is_some() {
            continue;
        }
        let text = format!("value:{j}").into_bytes();
        let value = if size == 0 {
            text
        } else {
            let mut v = vec![0u8; size];
            let n = size.min(text.len());
            v[..n].copy_from_slice(&text[..n]);
            v
        };
        let enc = crate::types::StrEncoding::for_created(&value);
        ctx.db().set(&key, Value::Str(value.into(), enc), now);
        ctx.signal_modified(&key);
    }
    Ok(Reply::ok())
}

/// A count that must be zero or more (Redis's getPositiveLongFromObjectOrReply).
fn positive(arg: &[u8]) -> Result<i64, CmdError> {
    super::args::int(arg)
        .ok()
        .filter(|&n| n >= 0)
        .ok_or(error::POSITIVE)
}

/// `DEBUG PROTOCOL type` → a sample reply of each RESP type.
// Redis's sample double is the literal 3.141, not pi.
#[allow(clippy::approx_constant)]
fn protocol(ctx: &mut Ctx, name: &[u8]) -> CmdResult {
    let proto = ctx.client().proto;
    let is = |kw| super::args::is(name, kw);
    let three = || (0..3).map(Reply::Integer).collect::<Vec<_>>();
    Ok(if is("string") {
        Reply::bulk("Hello World")
    } else if is("integer") {
        Reply::Integer(12345)
    } else if is("double") {
        Reply::Double(3.141)
    } else if is("bignum") {
        Reply::BigNum("1234567999999999999999999999999999999".into())
    } else if is("null") {
        Reply::Nil
    } else if is("array") {
        Reply::Array(three())
    } else if is("set") {
        Reply::Set(three())
    } else if is("map") {
        Reply::Map(
            (0..3)
                .map(|j| (Reply::Integer(j), Reply::Bool(j == 1)))
                .collect(),
        )
    } else if is("attrib") {
        let real = Reply::bulk("Some real reply following the attribute");
        if proto >= 3 {
            Reply::Multi(vec![
                Reply::Attribute(vec![(
                    Reply::bulk("key-popularity"),
                    Reply::Array(vec![Reply::bulk("key:123"), Reply::Integer(90)]),
                )]),
                real,
            ])
        } else {
            real
        }
    } else if is("push") {
        if proto < 3 {
            return Err(error::RESP2_NOT_SUPPORTED);
        }
        Reply::Multi(vec![
            Reply::Push(vec![Reply::bulk("server-cpu-usage"), Reply::Integer(42)]),
            Reply::bulk("Some real reply following the push reply"),
        ])
    } else if is("true") {
        Reply::Bool(true)
    } else if is("false") {
        Reply::Bool(false)
    } else if is("verbatim") {
        Reply::Verbatim("txt", b"This is a verbatim\nstring".to_vec())
    } else {
        return Err(error::DEBUG_PROTOCOL_TYPE);
    })
}

/// `DEBUG CLUSTERLINK KILL to|from|all node-id` → `+OK`: drops this node's bus links with
/// that node (the bus reconnects). An unknown direction is answered, as Redis 7.0 answers
/// it, with its error followed by `+OK`.
fn clusterlink_kill(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    let Some(cl) = ctx.eng.cluster.as_deref_mut() else {
        return Err(error::DEBUG_CLUSTER_ONLY);
    };
    let Some(id) = cl.state.node(&argv[4]).map(|n| n.id.clone()) else {
        return Err(error::cluster_unknown_node(&argv[4]));
    };
    let dir = &argv[3];
    let (to, from) = (super::args::is(dir, "to"), super::args::is(dir, "from"));
    let all = super::args::is(dir, "all");
    if to || from || all {
        let (bus, st) = (&mut cl.bus, &mut cl.state);
        if to || all {
            if let Some(l) = bus.out_link(&id) {
                bus.free_link(st, l);
            }
        }
        if from || all {
            if let Some(l) = bus.in_link(&id) {
                bus.free_link(st, l);
            }
        }
        Ok(Reply::ok())
    } else {
        Ok(Reply::Multi(vec![
            Reply::Error(error::cluster_link_direction(dir).0),
            Reply::ok(),
        ]))
    }
}

#[cfg(test)]
mod tests {
    use crate::error;
    use crate::protocol::Reply;
    use crate::testkit::{engine, run};

    #[test]
    fn refused_unless_enabled() {
        let (mut eng, c) = engine();
        assert_eq!(
            run(&mut eng, c, "DEBUG DIGEST"),
            Reply::Error(error::DEBUG_NOT_ALLOWED.0)
        );
        eng.config.set_at_startup("enable-debug-command", "local");
        eng.clients.get_mut(&c).expect("client").addr = "10.0.0.2:5000".into();
        assert_eq!(
            run(&mut eng, c, "DEBUG DIGEST"),
            Reply::Error(error::DEBUG_NOT_ALLOWED.0)
        );
        eng.clients.get_mut(&c).expect("client").addr = "127.0.0.1:5000".into();
        assert_eq!(
            run(&mut eng, c, "DEBUG DIGEST"),
            Reply::Status("0".repeat(40).into())
        );
        eng.config.set_at_startup("enable-debug-command", "yes");
        assert_eq!(
            run(&mut eng, c, "DEBUG STRINGMATCH-TEST"),
            Reply::status("Apparently Redis did not crash: test passed")
        );
    }

    #[test]
    fn snapshots_follow_rdbcompression() {
        let (mut eng, c) = engine();
        let value = "a".repeat(1000);
        run(&mut eng, c, &format!("SET k {value}"));
        let now = crate::testkit::NOW;
        let compressed = eng.snapshot(now);
        assert_eq!(
            run(&mut eng, c, "CONFIG SET rdbcompression no"),
            Reply::ok()
        );
        let raw = eng.snapshot(now);
        let holds = |b: &[u8]| b.windows(value.len()).any(|w| w == value.as_bytes());
        assert!(!holds(&compressed) && compressed.len() < 200);
        assert!(holds(&raw) && raw.len() > 1000);
    }

    #[test]
    fn reload_keeps_the_data_and_set_active_expire_stops_the_sweep() {
        let (mut eng, c) = engine();
        eng.config.set_at_startup("enable-debug-command", "yes");
        run(&mut eng, c, "RPUSH l a b c");
        run(&mut eng, c, "SET s v PX 10");
        let before = run(&mut eng, c, "DEBUG DIGEST-VALUE l");
        assert_eq!(run(&mut eng, c, "DEBUG RELOAD"), Reply::ok());
        assert_eq!(run(&mut eng, c, "DEBUG DIGEST-VALUE l"), before);
        assert_eq!(run(&mut eng, c, "DEBUG RELOAD NOSAVE"), Reply::ok());
        assert_eq!(run(&mut eng, c, "DEBUG DIGEST-VALUE l"), before);
        assert_eq!(run(&mut eng, c, "DEBUG SET-ACTIVE-EXPIRE 0"), Reply::ok());
        eng.tick(crate::testkit::NOW + 1000);
        assert_eq!(
            eng.dbs[0].len(),
            2,
            "the expired key stays until it is read"
        );
        assert_eq!(run(&mut eng, c, "DEBUG SET-ACTIVE-EXPIRE 1"), Reply::ok());
        eng.tick(crate::testkit::NOW + 1000);
        assert_eq!(eng.dbs[0].len(), 1);
    }
}
