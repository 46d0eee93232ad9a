//! MEMORY: USAGE, STATS, DOCTOR, MALLOC-STATS, PURGE, HELP.
//!
//! Figures come from the engine's memory model: [`crate::memory`] for one key, and
//! [`crate::engine::Engine::used_memory`] for the whole server (the same figures INFO memory
//! prints). There is no allocator underneath to report on or to purge.

use super::args;
use super::server::{container, help_reply};
use super::spec::*;
use crate::engine::Ctx;
use crate::error::{self, CmdResult};
use crate::protocol::Reply;

/// This group's commands.
pub const COMMANDS: &[CommandSpec] = &[CommandSpec::new("memory", -2, &[], container)
    .doc(
        Group::Server,
        "4.0.0",
        &[],
        "Reports on the server's memory: per key, totals, advice.",
    )
    .complexity("Depends on the subcommand.")
    .subs(SUBCOMMANDS)];

const SUBCOMMANDS: &[CommandSpec] = &[
    CommandSpec::new("doctor", 2, &[], doctor)
        .doc(
            Group::Server,
            "4.0.0",
            &[],
            "Describes memory problems the server sees, in prose.",
        )
        .tips(&[
            "nondeterministic_output",
            "request_policy:all_shards",
            "response_policy:special",
        ])
        .complexity("O(1)"),
    CommandSpec::new("help", 2, &[LOADING, STALE], help)
        .doc(Group::Server, "4.0.0", &[], "Lists the MEMORY subcommands.")
        .complexity("O(1)"),
    CommandSpec::new("malloc-stats", 2, &[], malloc_stats)
        .doc(
            Group::Server,
            "4.0.0",
            &[],
            "Prints the memory allocator's own statistics.",
        )
        .tips(&[
            "nondeterministic_output",
            "request_policy:all_shards",
            "response_policy:special",
        ])
        .complexity("Depends on how much memory is allocated; may be slow"),
    CommandSpec::new("purge", 2, &[], purge)
        .doc(
            Group::Server,
            "4.0.0",
            &[],
            "Asks the allocator to give dirty pages back to the system.",
        )
        .tips(&["request_policy:all_shards", "response_policy:all_succeeded"])
        .complexity("Depends on how much memory is allocated; may be slow"),
    CommandSpec::new("stats", 2, &[], stats)
        .doc(
            Group::Server,
            "4.0.0",
            &[],
            "Breaks the server's memory use down into its parts.",
        )
        .tips(&[
            "nondeterministic_output",
            "request_policy:all_shards",
            "response_policy:special",
        ])
        .complexity("O(1)"),
    CommandSpec::new("usage", -3, &[READONLY], usage)
        .doc(
            Group::Server,
            "4.0.0",
            &[
                Arg::key("key", 0),
                Arg::integer("count").with_token("SAMPLES").optional(),
            ],
            "Estimates the bytes a key and its value occupy.",
        )
        .key_specs(&[KeySpec::new(&[RO], index(2), range(0, 1, 0))])
        .complexity("O(N) in the number of samples taken"),
];

/// Elements MEMORY USAGE samples from an aggregate unless told otherwise.
const DEFAULT_SAMPLES: usize = 5;

/// `MEMORY USAGE key [SAMPLES count]` → integer bytes, or nil when the key does not exist.
/// SAMPLES 0 samples every element. Like Redis, the lookup neither expires the key nor counts
/// a keyspace hit or miss.
fn usage(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    let mut samples = DEFAULT_SAMPLES;
    let mut i = 3;
    while i < argv.len() {
        if args::is(&argv[i], "samples") && i + 1 < argv.len() {
            let n = args::int(&argv[i + 1])?;
            samples = match n {
                0 => usize::MAX,
                n if n < 0 => return Err(error::SYNTAX),
                n => usize::try_from(n).unwrap_or(usize::MAX),
            };
            i += 2;
        } else {
            return Err(error::SYNTAX);
        }
    }
    let fill = ctx.eng.config.list_max_listpack_size;
    Ok(match ctx.db().peek(&argv[2]) {
        Some(e) => Reply::int(crate::memory::key_usage(&argv[2], &e.value, samples, fill)),
        None => Reply::Nil,
    })
}

/// The figures MEMORY STATS and MEMORY DOCTOR work from.
struct Overview {
    peak: u64,
    used: u64,
    startup: u64,
    clients: u64,
    functions: u64,
    /// Per non-empty database: (index, main table overhead, expires table overhead).
    dbs: Vec<(usize, u64, u64)>,
    keys: u64,
}

/// Bytes of a Redis hash table's entries and buckets when it holds `n` elements.
fn table_overhead(n: usize) -> u64 {
    if n == 0 {
        return 0;
    }
    let slots = n.next_power_of_two().max(4);
    (n * 24 + slots * 8) as u64
}

/// The memory an empty function library set takes (its dictionaries).
const FUNCTIONS_OVERHEAD: u64 = 200;

impl Overview {
    fn measure(ctx: &mut Ctx) -> Overview {
        // The peak is the highest measure taken (here, or before a command under maxmemory).
        let used = ctx.eng.measure_memory();
        let peak = ctx.eng.stats.peak_memory;
        let eng = &ctx.eng;
        let dbs: Vec<(usize, u64, u64)> = eng
            .dbs
            .iter()
            .enumerate()
            .filter(|(_, db)| !db.is_empty())
            .map(|(i, db)| {
                let expires = db.volatile_len();
                (i, table_overhead(db.len()), table_overhead(expires))
            })
            .collect();
        Overview {
            peak,
            used,
            startup: eng.used_memory_startup(),
            clients: eng.used_memory_clients(),
            functions: FUNCTIONS_OVERHEAD,
            dbs,
            keys: eng.key_count() as u64,
        }
    }

    fn overhead(&self) -> u64 {
        self.startup
            + self.clients
            + self.functions
            + self.dbs.iter().map(|(_, m, e)| m + e).sum::<u64>()
    }
}

/// `MEMORY STATS` → map of memory figures, with one nested map per non-empty database.
/// Ratios are computed in single precision, as Redis stores them.
fn stats(ctx: &mut Ctx, _argv: &[Vec<u8>]) -> CmdResult {
    let o = Overview::measure(ctx);
    let overhead = o.overhead();
    let net = o.used.saturating_sub(o.startup);
    let dataset = o.used.saturating_sub(overhead);
    let ratio = |part: u64, whole: u64| {
        if whole == 0 {
            0.0
        } else {
            f64::from(part as f32 * 100.0 / whole as f32)
        }
    };
    let int = |n: u64| Reply::Integer(i64::try_from(n).unwrap_or(i64::MAX));
    let mut m: Vec<(Reply, Reply)> = vec![
        (Reply::bulk("peak.allocated"), int(o.peak)),
        (Reply::bulk("total.allocated"), int(o.used)),
        (Reply::bulk("startup.allocated"), int(o.startup)),
        (Reply::bulk("replication.backlog"), int(0)),
        (Reply::bulk("clients.slaves"), int(0)),
        (Reply::bulk("clients.normal"), int(o.clients)),
        (Reply::bulk("cluster.links"), int(0)),
        (Reply::bulk("aof.buffer"), int(0)),
        (Reply::bulk("lua.caches"), int(0)),
        (Reply::bulk("functions.caches"), int(o.functions)),
    ];
    for (db, main, expires) in &o.dbs {
        m.push((
            Reply::bulk(format!("db.{}", db)),
            Reply::Map(vec![
                (Reply::bulk("overhead.hashtable.main"), int(*main)),
                (Reply::bulk("overhead.hashtable.expires"), int(*expires)),
                (Reply::bulk("overhead.hashtable.slot-to-keys"), int(0)),
            ]),
        ));
    }
    let per_key = net.checked_div(o.keys).unwrap_or(0);
    m.extend([
        (Reply::bulk("overhead.total"), int(overhead)),
        (Reply::bulk("keys.count"), int(o.keys)),
        (Reply::bulk("keys.bytes-per-key"), int(per_key)),
        (Reply::bulk("dataset.bytes"), int(dataset)),
        (
            Reply::bulk("dataset.percentage"),
            Reply::Double(ratio(dataset, net)),
        ),
        (
            Reply::bulk("peak.percentage"),
            Reply::Double(ratio(o.used, o.peak)),
        ),
        // No allocator stands between the model and the system: every layer reports the
        // same bytes, and every overhead is nil.
        (Reply::bulk("allocator.allocated"), int(o.used)),
        (Reply::bulk("allocator.active"), int(o.used)),
        (Reply::bulk("allocator.resident"), int(o.used)),
        (
            Reply::bulk("allocator-fragmentation.ratio"),
            Reply::Double(1.0),
        ),
        (Reply::bulk("allocator-fragmentation.bytes"), int(0)),
        (Reply::bulk("allocator-rss.ratio"), Reply::Double(1.0)),
        (Reply::bulk("allocator-rss.bytes"), int(0)),
        (Reply::bulk("rss-overhead.ratio"), Reply::Double(1.0)),
        (Reply::bulk("rss-overhead.bytes"), int(0)),
        (Reply::bulk("fragmentation"), Reply::Double(1.0)),
        (Reply::bulk("fragmentation.bytes"), int(0)),
    ]);
    Ok(Reply::Map(m))
}

/// Below this many bytes in use, MEMORY DOCTOR has nothing to judge.
const DOCTOR_MIN_BYTES: u64 = 5 * 1024 * 1024;
/// MEMORY DOCTOR warns when clients hold more than this on average.
const DOCTOR_CLIENT_BYTES: u64 = 200 * 1024;

/// `MEMORY DOCTOR` → verbatim text: Redis's report for the conditions the model can show (an
/// almost empty server, a past peak, big client buffers). Fragmentation, replica buffers and
/// script caches never arise here.
fn doctor(ctx: &mut Ctx, _argv: &[Vec<u8>]) -> CmdResult {
    let o = Overview::measure(ctx);
    let text = if o.used < DOCTOR_MIN_BYTES {
        "Hi Sam, this instance is empty or is using very little memory, my issues detector can't be used in these conditions. Please, leave for your mission on Earth and fill it with some data. The new Sam and I will be back to our programming as soon as I finished rebooting.\n".to_string()
    } else {
        let big_peak = o.peak as f32 / o.used as f32 > 1.5;
        let clients = ctx.eng.clients.len().max(1) as u64;
        let big_clients = o.clients / clients > DOCTOR_CLIENT_BYTES;
        if !big_peak && !big_clients {
            "Hi Sam, I can't find any memory issue in your instance. I can only account for what occurs on this base.\n".to_string()
        } else {
            let mut s = String::from(
                "Sam, I detected a few issues in this Redis instance memory implants:\n\n",
            );
            if big_peak {
                s.push_str(" * Peak memory: In the past this instance used more than 150% the memory that is currently using. The allocator is normally not able to release memory after a peak, so you can expect to see a big fragmentation ratio, however this is actually harmless and is only due to the memory peak, and if the Redis instance Resident Set Size (RSS) is currently bigger than expected, the memory will be used as soon as you fill the Redis instance with more data. If the memory peak was only occasional and you want to try to reclaim memory, please try the MEMORY PURGE command, otherwise the only other option is to shutdown and restart the instance.\n\n");
            }
            if big_clients {
                s.push_str(" * Big client buffers: The clients output buffers in this instance are greater than 200K per client (on average). This may result from different causes, like Pub/Sub clients subscribed to channels bot not receiving data fast enough, so that data piles on the Redis instance output buffer, or clients sending commands with large replies or very large sequences of commands in the same pipeline. Please use the CLIENT LIST command in order to investigate the issue if it causes problems in your instance, or to understand better why certain clients are using a big amount of memory.\n\n");
            }
            s.push_str("I'm here to keep you safe, Sam. I want to help you.\n");
            s
        }
    };
    Ok(Reply::Verbatim("txt", text.into_bytes()))
}

/// `MEMORY MALLOC-STATS` → bulk: what a Redis built without jemalloc answers, since no
/// allocator report exists here.
fn malloc_stats(_ctx: &mut Ctx, _argv: &[Vec<u8>]) -> CmdResult {
    Ok(Reply::bulk("Stats not supported for the current allocator"))
}

/// `MEMORY PURGE` → `+OK`: there are no dirty pages to give back.
fn purge(_ctx: &mut Ctx, _argv: &[Vec<u8>]) -> CmdResult {
    Ok(Reply::ok())
}

/// `MEMORY HELP` → array of help lines.
fn help(_ctx: &mut Ctx, _argv: &[Vec<u8>]) -> CmdResult {
    Ok(help_reply(
        "MEMORY",
        &[
            "DOCTOR",
            "    Return memory problems reports.",
            "MALLOC-STATS",
            "    Return internal statistics report from the memory allocator.",
            "PURGE",
            "    Attempt to purge dirty pages for reclamation by the allocator.",
            "STATS",
            "    Return information about the memory usage of the server.",
            "USAGE <key> [SAMPLES <count>]",
            "    Return memory in bytes used by <key> and its value. Nested values are",
            "    sampled up to <count> times (default: 5, 0 means sample all).",
        ],
    ))
}
