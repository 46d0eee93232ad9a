//! The server command group: DBSIZE, FLUSHDB, FLUSHALL, SWAPDB, TIME, LASTSAVE, INFO, CONFIG
//! and COMMAND (whose handlers live in [`super::introspect`]); also FUNCTION, the scripting
//! group's library registry, which stays empty while the engine has no script engine; and
//! MEMORY, whose sizes are estimates (there is no allocator to ask).

use super::introspect;
use super::{args, CommandSpec};
use crate::config::{self, Config};
use crate::engine::Ctx;
use crate::error::{self, CmdError, CmdResult};
use crate::protocol::Reply;
use crate::util::glob::glob_match;

/// This group's commands.
pub const COMMANDS: &[CommandSpec] = &[
    CommandSpec::new("shutdown", -1, "admin noscript loading stale no_multi allow_busy", (0, 0, 0), shutdown)
        .doc(
            "server",
            "1.0.0",
            "[NOSAVE|SAVE] [NOW] [FORCE] [ABORT]",
            "Stops the server (the page's engine has no process to stop and keeps running).",
        )
        .complexity("O(N) when saving, where N is the total number of keys in all databases when saving data, otherwise O(1)"),
    CommandSpec::new("dbsize", 1, "readonly fast", (0, 0, 0), dbsize)
        .doc("server", "1.0.0", "", "Counts the keys in the selected database.")
        .acl("keyspace")
        .tips("request_policy:all_shards response_policy:agg_sum")
        .complexity("O(1)"),
    CommandSpec::new("flushdb", -1, "write", (0, 0, 0), flushdb)
        .doc("server", "1.0.0", "[ASYNC|SYNC]", "Deletes every key of the selected database.")
        .acl("keyspace dangerous")
        .tips("request_policy:all_shards response_policy:all_succeeded")
        .complexity("O(N) where N is the number of keys in the selected database"),
    CommandSpec::new("flushall", -1, "write", (0, 0, 0), flushall)
        .doc("server", "1.0.0", "[ASYNC|SYNC]", "Deletes every key of every database.")
        .acl("keyspace dangerous")
        .tips("request_policy:all_shards response_policy:all_succeeded")
        .complexity("O(N) where N is the total number of keys in all databases"),
    CommandSpec::new("swapdb", 3, "write fast", (0, 0, 0), swapdb)
        .doc("server", "4.0.0", "index1 index2", "Exchanges the contents of two databases.")
        .acl("keyspace dangerous")
        .complexity("O(N) where N is the count of clients watching or blocking on keys from both databases."),
    CommandSpec::new("time", 1, "loading stale fast", (0, 0, 0), time)
        .doc("server", "2.6.0", "", "Replies with the server time: seconds and microseconds.")
        .tips("nondeterministic_output")
        .complexity("O(1)"),
    CommandSpec::new("lastsave", 1, "loading stale fast", (0, 0, 0), lastsave)
        .doc("server", "1.0.0", "", "Replies with the Unix time of the last successful snapshot.")
        .acl("admin dangerous")
        .tips("nondeterministic_output")
        .complexity("O(1)"),
    CommandSpec::new("role", 1, "noscript loading stale fast", (0, 0, 0), role)
        .doc("server", "2.8.12", "", "Replies with this server's replication role: master, offset, replicas.")
        .acl("admin dangerous")
        .complexity("O(1)"),
    CommandSpec::new("info", -1, "loading stale", (0, 0, 0), info)
        .doc("server", "1.0.0", "[section [section ...]]", "Reports server state and counters, by section.")
        .acl("dangerous")
        .tips("nondeterministic_output request_policy:all_shards response_policy:special")
        .complexity("O(1)"),
    CommandSpec::new("config", -2, "", (0, 0, 0), container)
        .doc("server", "2.0.0", "", "Reads and changes configuration parameters.")
        .complexity("Depends on subcommand.")
        .subs(CONFIG_SUBCOMMANDS),
    CommandSpec::new("command", -1, "loading stale", (0, 0, 0), introspect::command)
        .doc("server", "2.8.13", "", "Describes the commands this server knows.")
        .acl("connection")
        .tips("nondeterministic_output_order")
        .complexity("O(N) where N is the total number of Redis commands")
        .subs(introspect::SUBCOMMANDS),
    CommandSpec::new("function", -2, "", (0, 0, 0), container)
        .doc("scripting", "7.0.0", "", "Manages the server's function libraries.")
        .complexity("Depends on subcommand.")
        .subs(FUNCTION_SUBCOMMANDS),
    CommandSpec::new("memory", -2, "", (0, 0, 0), container)
        .doc("server", "4.0.0", "", "Reports on the server's memory.")
        .complexity("Depends on subcommand.")
        .subs(MEMORY_SUBCOMMANDS),
];

/// MEMORY's subcommands. DOCTOR and STATS are left out: their reports describe an allocator.
const MEMORY_SUBCOMMANDS: &[CommandSpec] = &[
    CommandSpec::new("help", 2, "loading stale", (0, 0, 0), memory_help)
        .doc("server", "4.0.0", "", "Lists the MEMORY subcommands.")
        .complexity("O(1)"),
    CommandSpec::new("malloc-stats", 2, "", (0, 0, 0), memory_malloc_stats)
        .doc("server", "4.0.0", "", "Reports the allocator's statistics.")
        .tips("nondeterministic_output request_policy:all_shards response_policy:special")
        .complexity("Depends on how much memory is allocated, could be slow"),
    CommandSpec::new("purge", 2, "", (0, 0, 0), memory_purge)
        .doc(
            "server",
            "4.0.0",
            "",
            "Asks the allocator to release memory.",
        )
        .tips("request_policy:all_shards response_policy:all_succeeded")
        .complexity("Depends on how much memory is allocated, could be slow"),
    CommandSpec::new("usage", -3, "readonly", (2, 2, 1), memory_usage)
        .doc(
            "server",
            "4.0.0",
            "key [SAMPLES count]",
            "Estimates the bytes a key and its value take.",
        )
        .key_specs(&["RO / index 2 / range 0 1 0"])
        .complexity("O(N) where N is the number of samples."),
];

/// FUNCTION's subcommands that make sense with no library ever loaded. LOAD and RESTORE need a
/// Lua engine and are left out, so they answer as unknown subcommands.
const FUNCTION_SUBCOMMANDS: &[CommandSpec] = &[
    CommandSpec::new("delete", 3, "write noscript", (0, 0, 0), function_delete)
        .doc(
            "scripting",
            "7.0.0",
            "library-name",
            "Deletes a library and its functions.",
        )
        .tips("request_policy:all_shards response_policy:all_succeeded")
        .complexity("O(1)"),
    CommandSpec::new("dump", 2, "noscript", (0, 0, 0), function_dump)
        .doc(
            "scripting",
            "7.0.0",
            "",
            "Serializes every library into a payload.",
        )
        .complexity("O(N) where N is the number of functions"),
    CommandSpec::new("flush", -2, "write noscript", (0, 0, 0), function_flush)
        .doc(
            "scripting",
            "7.0.0",
            "[ASYNC|SYNC]",
            "Deletes every library.",
        )
        .tips("request_policy:all_shards response_policy:all_succeeded")
        .complexity("O(N) where N is the number of functions deleted"),
    CommandSpec::new("help", 2, "loading stale", (0, 0, 0), function_help)
        .doc("scripting", "7.0.0", "", "Lists the FUNCTION subcommands.")
        .complexity("O(1)"),
    CommandSpec::new("kill", 2, "noscript allow_busy", (0, 0, 0), function_kill)
        .doc(
            "scripting",
            "7.0.0",
            "",
            "Stops the function that is running.",
        )
        .tips("request_policy:all_shards response_policy:one_succeeded")
        .complexity("O(1)"),
    CommandSpec::new("list", -2, "noscript", (0, 0, 0), function_list)
        .doc(
            "scripting",
            "7.0.0",
            "[LIBRARYNAME library-name-pattern] [WITHCODE]",
            "Describes the libraries and their functions.",
        )
        .tips("nondeterministic_output_order")
        .complexity("O(N) where N is the number of functions"),
    CommandSpec::new("stats", 2, "noscript allow_busy", (0, 0, 0), function_stats)
        .doc(
            "scripting",
            "7.0.0",
            "",
            "Reports the running function and the engines.",
        )
        .tips("nondeterministic_output request_policy:all_shards response_policy:special")
        .complexity("O(1)"),
];

const CONFIG_SUBCOMMANDS: &[CommandSpec] = &[
    CommandSpec::new(
        "get",
        -3,
        "admin noscript loading stale",
        (0, 0, 0),
        config_get,
    )
    .doc(
        "server",
        "2.0.0",
        "parameter [parameter ...]",
        "Reads the parameters whose names match the patterns.",
    )
    .complexity("O(N) when N is the number of configuration parameters provided"),
    CommandSpec::new(
        "set",
        -4,
        "admin noscript loading stale",
        (0, 0, 0),
        config_set,
    )
    .doc(
        "server",
        "2.0.0",
        "parameter value [parameter value ...]",
        "Changes parameters, all of them or none.",
    )
    .tips("request_policy:all_nodes response_policy:all_succeeded")
    .complexity("O(N) when N is the number of configuration parameters provided"),
    CommandSpec::new(
        "resetstat",
        2,
        "admin noscript loading stale",
        (0, 0, 0),
        config_resetstat,
    )
    .doc("server", "2.0.0", "", "Resets the counters INFO reports.")
    .complexity("O(1)"),
    CommandSpec::new(
        "rewrite",
        2,
        "admin noscript loading stale",
        (0, 0, 0),
        config_rewrite,
    )
    .doc(
        "server",
        "2.8.0",
        "",
        "Writes the running configuration back to the config file.",
    )
    .complexity("O(1)"),
    CommandSpec::new("help", 2, "loading stale", (0, 0, 0), config_help)
        .doc("server", "5.0.0", "", "Lists the CONFIG subcommands.")
        .complexity("O(1)"),
];

/// A container named without a subcommand never reaches its handler (the arity of every
/// container is at least 2); this answers like Redis if it ever does.
pub fn container(_ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    let name = String::from_utf8_lossy(&argv[0]).to_ascii_lowercase();
    Err(error::wrong_arity(&name))
}

/// `DBSIZE` → integer: keys in the selected database.
fn dbsize(ctx: &mut Ctx, _argv: &[Vec<u8>]) -> CmdResult {
    Ok(Reply::int(ctx.db().len()))
}

/// The optional `ASYNC` / `SYNC` of FLUSHDB and FLUSHALL; both empty at once here.
fn flush_mode(argv: &[Vec<u8>]) -> Result<(), CmdError> {
    match argv {
        [_] => Ok(()),
        [_, mode] if args::is(mode, "async") || args::is(mode, "sync") => Ok(()),
        _ => Err(error::SYNTAX),
    }
}

/// `FLUSHDB [ASYNC|SYNC]` → `+OK`.
fn flushdb(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    flush_mode(argv)?;
    let db = ctx.db;
    ctx.eng.signal_flushed(db);
    let by = ctx.eng.current;
    ctx.eng.tracking_flushed(by);
    let removed = ctx.db().len() as u64;
    ctx.db().clear();
    ctx.dirty(removed);
    Ok(Reply::ok())
}

/// `FLUSHALL [ASYNC|SYNC]` → `+OK`.
fn flushall(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    flush_mode(argv)?;
    let mut removed = 0;
    let by = ctx.eng.current;
    ctx.eng.tracking_flushed(by);
    for db in 0..ctx.eng.dbs.len() {
        ctx.eng.signal_flushed(db);
        removed += ctx.eng.dbs[db].len() as u64;
        ctx.eng.dbs[db].clear();
    }
    ctx.dirty(removed);
    Ok(Reply::ok())
}

/// `SWAPDB index1 index2` → `+OK`.
fn swapdb(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    let first = db_index(&argv[1], "ERR invalid first DB index")?;
    let second = db_index(&argv[2], "ERR invalid second DB index")?;
    let n = ctx.eng.dbs.len();
    let (Some(a), Some(b)) = (first, second) else {
        return Err(error::DB_INDEX);
    };
    if a >= n || b >= n {
        return Err(error::DB_INDEX);
    }
    if a != b {
        ctx.eng.signal_swapped(a, b);
        let (lo, hi) = (a.min(b), a.max(b));
        let (left, right) = ctx.eng.dbs.split_at_mut(hi);
        left[lo].swap_contents(&mut right[0]);
        wake_swapped(ctx, a);
        wake_swapped(ctx, b);
    }
    ctx.dirty(1);
    Ok(Reply::ok())
}

/// After SWAPDB, clients blocked on a key of database `db` that now holds that key are woken,
/// as Redis rescans the keys its blocked clients wait on; each one's command then runs again
/// (and keeps waiting if the key holds the wrong type or has expired).
fn wake_swapped(ctx: &mut Ctx, db: usize) {
    let keys: Vec<Vec<u8>> = ctx.eng.dbs[db].iter().map(|(k, _)| k.clone()).collect();
    let current = ctx.db;
    ctx.db = db;
    for key in keys {
        ctx.signal_ready(&key);
    }
    ctx.db = current;
}

/// A database index that must fit a C int (`bad` otherwise); None when it is negative.
fn db_index(arg: &[u8], bad: &'static str) -> Result<Option<usize>, CmdError> {
    let v = crate::util::parse_i64(arg)
        .filter(|v| i32::try_from(*v).is_ok())
        .ok_or(CmdError::from(bad))?;
    Ok(usize::try_from(v).ok())
}

/// `TIME` → `[seconds, microseconds]` as two bulk strings.
fn time(ctx: &mut Ctx, _argv: &[Vec<u8>]) -> CmdResult {
    let secs = ctx.now.div_euclid(1000);
    let micros = ctx.now.rem_euclid(1000) * 1000;
    Ok(Reply::bulks([secs.to_string(), micros.to_string()]))
}

/// `ROLE` → `["master", replication offset, [replicas]]`: a server without replicas.
fn role(_ctx: &mut Ctx, _argv: &[Vec<u8>]) -> CmdResult {
    Ok(Reply::Array(vec![
        Reply::bulk("master"),
        Reply::Integer(0),
        Reply::Array(Vec::new()),
    ]))
}

/// `LASTSAVE` → integer: Unix time of the last snapshot.
fn lastsave(ctx: &mut Ctx, _argv: &[Vec<u8>]) -> CmdResult {
    Ok(Reply::Integer(ctx.eng.last_save_s))
}

/// `INFO [section ...]` → bulk string (verbatim `txt` in RESP3): `# Section` headers and
/// `field:value` lines, CRLF-terminated, sections apart by an empty line.
fn info(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    let text = super::info::render(ctx, &argv[1..]);
    Ok(Reply::Verbatim("txt", text.into_bytes()))
}

/// `CONFIG GET parameter [parameter ...]` → map of matching names to values. A pattern
/// without glob characters names one parameter (echoed as typed); a glob pattern matches
/// every name, aliases included, ignoring case.
fn config_get(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    let cfg = &ctx.eng.config;
    let mut out: Vec<(String, String)> = Vec::new();
    let seen = |out: &Vec<(String, String)>, name: &str| {
        out.iter().any(|(n, _)| n.eq_ignore_ascii_case(name))
    };
    for pattern in &argv[2..] {
        if !pattern.iter().any(|c| matches!(c, b'*' | b'?' | b'[')) {
            let typed = String::from_utf8_lossy(pattern).into_owned();
            if seen(&out, &typed) {
                continue;
            }
            if let Some(p) = config::lookup(pattern) {
                out.push((typed, cfg.get(p)));
            }
            continue;
        }
        for p in config::PARAMS.iter().filter(|p| !p.hidden) {
            for name in std::iter::once(p.name).chain(p.alias) {
                if !seen(&out, name) && glob_match(pattern, name.as_bytes(), true) {
                    out.push((name.to_string(), cfg.get(p)));
                }
            }
        }
    }
    Ok(Reply::Map(
        out.into_iter()
            .map(|(k, v)| (Reply::bulk(k), Reply::bulk(v)))
            .collect(),
    ))
}

/// `CONFIG SET parameter value [parameter value ...]` → `+OK`. Every name is checked first
/// (unknown, immutable, protected, repeated); then the values are applied to a copy that
/// replaces the configuration only when all of them are valid.
fn config_set(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    if !argv.len().is_multiple_of(2) {
        return Err(error::SYNTAX);
    }
    let failed = |name: &[u8], why: &str| {
        CmdError::new(error::sanitize(&format!(
            "ERR CONFIG SET failed (possibly related to argument '{}') - {}",
            error::c_str_prefix(name, usize::MAX),
            why
        )))
    };
    let mut params = Vec::new();
    for (i, pair) in argv[2..].chunks(2).enumerate() {
        let name = &pair[0];
        let Some(p) = config::lookup(name) else {
            return Err(CmdError::new(error::sanitize(&format!(
                "ERR Unknown option or number of arguments for CONFIG SET - '{}'",
                error::c_str_prefix(name, usize::MAX)
            ))));
        };
        match p.kind {
            config::Kind::Immutable => return Err(failed(name, "can't set immutable config")),
            config::Kind::Protected => return Err(failed(name, "can't set protected config")),
            _ => {}
        }
        // A parameter and its alias are distinct names here, as in Redis.
        if argv[2..]
            .chunks(2)
            .take(i)
            .any(|prev| prev[0].eq_ignore_ascii_case(name))
        {
            return Err(failed(name, "duplicate parameter"));
        }
        params.push((p, name, &pair[1]));
    }
    let mut next: Config = ctx.eng.config.clone();
    for (p, name, value) in params {
        next.set(p, value).map_err(|why| failed(name, &why))?;
    }
    ctx.eng.config = next;
    // A command later in the same EXEC must already see keys created and expired logged.
    ctx.eng.sync_event_tracking();
    Ok(Reply::ok())
}

/// `CONFIG RESETSTAT` → `+OK`: clears the INFO counters.
fn config_resetstat(ctx: &mut Ctx, _argv: &[Vec<u8>]) -> CmdResult {
    ctx.eng.reset_stats();
    Ok(Reply::ok())
}

/// `CONFIG REWRITE` → an error: there is no config file to write.
fn config_rewrite(_ctx: &mut Ctx, _argv: &[Vec<u8>]) -> CmdResult {
    Err(CmdError::from(
        "ERR The server is running without a config file",
    ))
}

/// `CONFIG HELP` → array of help lines.
fn config_help(_ctx: &mut Ctx, _argv: &[Vec<u8>]) -> CmdResult {
    Ok(help_reply(
        "CONFIG",
        &[
            "GET <pattern>",
            "    Return parameters matching the glob-like <pattern> and their values.",
            "SET <directive> <value>",
            "    Set the configuration <directive> to <value>.",
            "RESETSTAT",
            "    Reset statistics reported by the INFO command.",
            "REWRITE",
            "    Rewrite the configuration file.",
        ],
    ))
}

/// The reply of a `<CMD> HELP` subcommand: a heading, the lines given, and the HELP entry,
/// as status strings.
pub fn help_reply(cmd: &str, lines: &[&str]) -> Reply {
    let mut out = Vec::with_capacity(lines.len() + 3);
    out.push(Reply::Status(
        format!(
            "{} <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
            cmd
        )
        .into(),
    ));
    out.extend(lines.iter().map(|l| Reply::Status(l.to_string().into())));
    out.push(Reply::status("HELP"));
    out.push(Reply::status("    Prints this help."));
    Reply::Array(out)
}

#[cfg(test)]
mod tests {
    use crate::engine::{Engine, EngineOptions};
    use crate::protocol::Reply;
    use crate::types::Value;

    fn run(eng: &mut Engine, client: u64, line: &str) -> Reply {
        let argv: Vec<Vec<u8>> = line.split(' ').map(|w| w.as_bytes().to_vec()).collect();
        eng.execute(client, &argv, 1_000).expect("a reply")
    }

    #[test]
    fn flush_and_swap_count_changes_and_move_data() {
        let mut eng = Engine::new(EngineOptions::default());
        let c = eng.open_client(0);
        for k in ["a", "b", "c"] {
            eng.dbs[0].set(k.as_bytes(), Value::string(b"v".to_vec()), 0);
        }
        eng.dbs[1].set(b"x", Value::string(b"v".to_vec()), 0);
        assert_eq!(run(&mut eng, c, "DBSIZE"), Reply::Integer(3));
        assert_eq!(run(&mut eng, c, "SWAPDB 0 1"), Reply::ok());
        assert_eq!(eng.dirty, 1);
        assert_eq!(run(&mut eng, c, "DBSIZE"), Reply::Integer(1));
        assert_eq!(run(&mut eng, c, "FLUSHALL"), Reply::ok());
        assert_eq!(eng.dirty, 5);
        assert_eq!(eng.key_count(), 0);
    }

    #[test]
    fn swapdb_dirties_watchers_of_keys_in_either_db() {
        let mut eng = Engine::new(EngineOptions::default());
        let watcher = eng.open_client(0);
        let other = eng.open_client(0);
        eng.dbs[1].set(b"k", Value::string(b"v".to_vec()), 0);
        // Watching db 0's "k", which does not exist yet: the swap makes it appear.
        eng.watched.insert((0, b"k".to_vec()), vec![watcher]);
        assert_eq!(run(&mut eng, other, "SWAPDB 0 1"), Reply::ok());
        assert!(eng.clients[&watcher].watch_dirty);
    }

    #[test]
    fn config_set_is_all_or_nothing() {
        let mut eng = Engine::new(EngineOptions::default());
        let c = eng.open_client(0);
        assert!(run(&mut eng, c, "CONFIG SET hz 20 maxmemory x").is_error());
        assert_eq!(eng.config.hz, 10);
        assert_eq!(
            run(&mut eng, c, "CONFIG SET hz 20 maxmemory 1mb"),
            Reply::ok()
        );
        assert_eq!((eng.config.hz, eng.config.maxmemory), (20, 1 << 20));
    }

    #[test]
    fn info_counts_commands_after_they_run() {
        let mut eng = Engine::new(EngineOptions::default());
        let c = eng.open_client(0);
        run(&mut eng, c, "PING");
        run(&mut eng, c, "GET");
        let Reply::Verbatim(_, text) = run(&mut eng, c, "INFO stats") else {
            panic!("not text")
        };
        let text = String::from_utf8_lossy(&text).into_owned();
        assert!(
            text.contains("\r\ntotal_commands_processed:1\r\n"),
            "{}",
            text
        );
        assert!(text.contains("\r\ntotal_error_replies:1\r\n"), "{}", text);
        let Reply::Verbatim(_, text) = run(&mut eng, c, "INFO commandstats") else {
            panic!()
        };
        let text = String::from_utf8_lossy(&text).into_owned();
        assert!(text.contains("cmdstat_ping:calls=1,"), "{}", text);
        assert!(text.contains("cmdstat_info:calls=1,"), "{}", text);
    }
}

#[cfg(test)]
mod fuzz {
    use crate::engine::{Engine, EngineOptions};
    use crate::rng::Rng;

    /// Random command lines through this group's and the connection group's commands: every
    /// one gets a reply (or none, after CLIENT REPLY OFF/SKIP) and nothing panics.
    #[test]
    fn random_lines_never_panic() {
        const CMDS: &[&str] = &[
            "CONFIG", "COMMAND", "INFO", "CLIENT", "HELLO", "AUTH", "DBSIZE", "FLUSHDB",
            "FLUSHALL", "SWAPDB", "TIME", "LASTSAVE", "ROLE", "SELECT", "PING", "ECHO",
        ];
        const WORDS: &[&str] = &[
            "GET",
            "SET",
            "RESETSTAT",
            "REWRITE",
            "HELP",
            "INFO",
            "DOCS",
            "COUNT",
            "LIST",
            "GETKEYS",
            "GETKEYSANDFLAGS",
            "FILTERBY",
            "PATTERN",
            "ACLCAT",
            "MODULE",
            "ID",
            "GETNAME",
            "SETNAME",
            "KILL",
            "TYPE",
            "SKIPME",
            "ADDR",
            "REPLY",
            "ON",
            "OFF",
            "SKIP",
            "NO-EVICT",
            "AUTH",
            "default",
            "hz",
            "maxmemory",
            "save",
            "*",
            "?",
            "[",
            "\\",
            "",
            "0",
            "1",
            "-1",
            "3",
            "16",
            "9223372036854775807",
            "-9223372036854775808",
            "99999999999999999999",
            "1gb",
            "10%",
            "KEA",
            "x y",
            "\u{0}",
            "config|get",
            "set",
            "zunionstore",
            "mset",
            "all",
            "everything",
            "keyspace",
            "requirepass",
            "yes",
            "no",
            "notify-keyspace-events",
            "client-output-buffer-limit",
            "normal 1 2 3",
        ];
        let mut rng = Rng::new(7);
        let mut eng = Engine::new(EngineOptions::default());
        let mut client = eng.open_client(0);
        for i in 0..20_000 {
            let mut argv = vec![CMDS[rng.below(CMDS.len() as u64) as usize]
                .as_bytes()
                .to_vec()];
            for _ in 0..rng.below(6) {
                argv.push(
                    WORDS[rng.below(WORDS.len() as u64) as usize]
                        .as_bytes()
                        .to_vec(),
                );
            }
            let _ = eng.execute(client, &argv, i);
            // Start over when a line locked the client out or closed it.
            let stuck =
                eng.clients.get(&client).is_none_or(|c| c.closing) || eng.auth_required(client);
            if stuck {
                eng.config = crate::config::Config::default();
                eng.close_client(client);
                client = eng.open_client(i);
            }
        }
    }
}

/// `SHUTDOWN [NOSAVE|SAVE] [NOW] [FORCE] [ABORT]` → no reply: the host stops serving. There is
/// never a shutdown in progress to abort, and nothing to save (persistence belongs to the host).
fn shutdown(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    let (mut nosave, mut save, mut abort, mut other) = (false, false, false, false);
    for a in &argv[1..] {
        if args::is(a, "nosave") {
            nosave = true;
        } else if args::is(a, "save") {
            save = true;
        } else if args::is(a, "abort") {
            abort = true;
        } else if args::is(a, "now") || args::is(a, "force") {
            other = true;
        } else {
            return Err(error::SYNTAX);
        }
    }
    if (nosave && save) || (abort && (nosave || save || other)) {
        return Err(error::SYNTAX);
    }
    if abort {
        return Err(CmdError::from("ERR No shutdown in progress."));
    }
    ctx.eng.shutdown_requested = true;
    Ok(Reply::Multi(Vec::new()))
}

/// `FUNCTION FLUSH [ASYNC|SYNC]` → `+OK`: there are never libraries to delete.
fn function_flush(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    match argv {
        [_, _] => {}
        [_, _, mode] if args::is(mode, "async") || args::is(mode, "sync") => {}
        [_, _, _] => {
            return Err(CmdError::from(
                "ERR FUNCTION FLUSH only supports SYNC|ASYNC option",
            ))
        }
        _ => {
            return Err(CmdError::new(error::sanitize(&format!(
                "ERR unknown subcommand or wrong number of arguments for '{}'. Try FUNCTION HELP.",
                error::c_str_prefix(&argv[1], 128)
            ))))
        }
    }
    ctx.dirty(1);
    Ok(Reply::ok())
}

/// `FUNCTION LIST [LIBRARYNAME pattern] [WITHCODE]` → array of libraries: always empty, once
/// the options parse (each may be given once, in any order).
fn function_list(_ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    let (mut with_code, mut pattern) = (false, false);
    let mut i = 2;
    while i < argv.len() {
        let a = &argv[i];
        if !with_code && args::is(a, "withcode") {
            with_code = true;
        } else if !pattern && args::is(a, "libraryname") {
            if i + 1 >= argv.len() {
                return Err(CmdError::from("ERR library name argument was not given"));
            }
            pattern = true;
            i += 1;
        } else {
            return Err(CmdError::new(error::sanitize(&format!(
                "ERR Unknown argument {}",
                error::c_str_prefix(a, usize::MAX)
            ))));
        }
        i += 1;
    }
    Ok(Reply::Array(Vec::new()))
}

/// `FUNCTION STATS` → map: `running_script` (nil: nothing runs) and `engines`, the Lua engine
/// with no libraries and no functions.
fn function_stats(_ctx: &mut Ctx, _argv: &[Vec<u8>]) -> CmdResult {
    let lua = Reply::Map(vec![
        (Reply::bulk("libraries_count"), Reply::int(0)),
        (Reply::bulk("functions_count"), Reply::int(0)),
    ]);
    Ok(Reply::Map(vec![
        (Reply::bulk("running_script"), Reply::Nil),
        (
            Reply::bulk("engines"),
            Reply::Map(vec![(Reply::bulk("LUA"), lua)]),
        ),
    ]))
}

/// `FUNCTION DELETE library-name` → error: no library exists.
fn function_delete(_ctx: &mut Ctx, _argv: &[Vec<u8>]) -> CmdResult {
    Err(CmdError::from("ERR Library not found"))
}

/// `FUNCTION KILL` → error: no function is ever running.
fn function_kill(_ctx: &mut Ctx, _argv: &[Vec<u8>]) -> CmdResult {
    Err(CmdError::from("NOTBUSY No scripts in execution right now."))
}

/// `FUNCTION DUMP` → bulk: the payload of no libraries, which is only the trailer every DUMP
/// payload ends with: the RDB version (2 bytes, little endian) and the CRC64 of what precedes.
fn function_dump(_ctx: &mut Ctx, _argv: &[Vec<u8>]) -> CmdResult {
    let mut payload = (crate::rdb::VERSION as u16).to_le_bytes().to_vec();
    let crc = crate::rdb::crc64(0, &payload);
    payload.extend_from_slice(&crc.to_le_bytes());
    Ok(Reply::Bulk(payload))
}

/// `FUNCTION HELP` → the subcommands, one status line each.
fn function_help(_ctx: &mut Ctx, _argv: &[Vec<u8>]) -> CmdResult {
    Ok(help_reply(
        "FUNCTION",
        &[
            "LOAD [REPLACE] <FUNCTION CODE>",
            "    Create a new library with the given library name and code.",
            "DELETE <LIBRARY NAME>",
            "    Delete the given library.",
            "LIST [LIBRARYNAME PATTERN] [WITHCODE]",
            "    Return general information on all the libraries:",
            "    * Library name",
            "    * The engine used to run the Library",
            "    * Library description",
            "    * Functions list",
            "    * Library code (if WITHCODE is given)",
            "    It also possible to get only function that matches a pattern using LIBRARYNAME argument.",
            "STATS",
            "    Return information about the current function running:",
            "    * Function name",
            "    * Command used to run the function",
            "    * Duration in MS that the function is running",
            "    If no function is running, return nil",
            "    In addition, returns a list of available engines.",
            "KILL",
            "    Kill the current running function.",
            "FLUSH [ASYNC|SYNC]",
            "    Delete all the libraries.",
            "    When called without the optional mode argument, the behavior is determined by the",
            "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
            "    * ASYNC: Asynchronously flush the libraries.",
            "    * SYNC: Synchronously flush the libraries.",
            "DUMP",
            "    Return a serialized payload representing the current libraries, can be restored using FUNCTION RESTORE command",
            "RESTORE <PAYLOAD> [FLUSH|APPEND|REPLACE]",
            "    Restore the libraries represented by the given payload, it is possible to give a restore policy to",
            "    control how to handle existing libraries (default APPEND):",
            "    * FLUSH: delete all existing libraries.",
            "    * APPEND: appends the restored libraries to the existing libraries. On collision, abort.",
            "    * REPLACE: appends the restored libraries to the existing libraries, On collision, replace the old",
            "      libraries with the new libraries (notice that even on this option there is a chance of failure",
            "      in case of functions name collision with another library).",
        ],
    ))
}

/// `MEMORY USAGE key [SAMPLES count]` → integer: an estimate of the bytes the key, its value
/// and its table entry take; nil if there is no such key. Like Redis, it neither expires the
/// key nor counts a keyspace hit. Strings are sized as Redis 7.0 with jemalloc sizes them
/// (object header, sds header, allocation size class); other values are rough estimates.
fn memory_usage(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    let mut j = 3;
    while j < argv.len() {
        if args::is(&argv[j], "samples") && j + 1 < argv.len() {
            if args::int(&argv[j + 1])? < 0 {
                return Err(error::SYNTAX);
            }
            j += 2;
        } else {
            return Err(error::SYNTAX);
        }
    }
    let Some(entry) = ctx.db().peek(&argv[2]) else {
        return Ok(Reply::Nil);
    };
    const OBJECT_HEADER: usize = 16;
    const DICT_ENTRY: usize = 24;
    let value = match &entry.value {
        crate::types::Value::Str(_, crate::types::StrEncoding::Int) => OBJECT_HEADER,
        // One allocation: the object, then an sds with the 3-byte header of short strings.
        crate::types::Value::Str(b, crate::types::StrEncoding::Embstr) => {
            alloc_size(OBJECT_HEADER + 3 + b.len() + 1)
        }
        crate::types::Value::Str(b, crate::types::StrEncoding::Raw) => {
            OBJECT_HEADER + alloc_size(sds_size(b.len()))
        }
        other => OBJECT_HEADER + other.approx_bytes(),
    };
    let key = alloc_size(sds_size(argv[2].len()));
    Ok(Reply::int(value + key + DICT_ENTRY))
}

/// The bytes an sds string of `len` bytes needs: its header (which grows with the length; an
/// empty string never gets the 1-byte one), the bytes and the terminating NUL.
fn sds_size(len: usize) -> usize {
    let header = match len {
        1..=31 => 1,
        0..=255 => 3,
        256..=65_535 => 5,
        65_536..=4_294_967_295 => 9,
        _ => 17,
    };
    header + len + 1
}

/// The size class jemalloc serves a request of `n` bytes from: 8, then multiples of 16 up to
/// 128, then four classes per doubling.
fn alloc_size(n: usize) -> usize {
    if n <= 8 {
        return 8;
    }
    if n <= 128 {
        return n.div_ceil(16) * 16;
    }
    let lg = usize::BITS - 1 - (n - 1).leading_zeros();
    let step = 1usize << (lg - 2);
    n.div_ceil(step).saturating_mul(step)
}

/// `MEMORY PURGE` → `+OK`: there is no allocator cache to release.
fn memory_purge(_ctx: &mut Ctx, _argv: &[Vec<u8>]) -> CmdResult {
    Ok(Reply::ok())
}

/// `MEMORY MALLOC-STATS` → bulk: what Redis says when its allocator keeps no statistics.
fn memory_malloc_stats(_ctx: &mut Ctx, _argv: &[Vec<u8>]) -> CmdResult {
    Ok(Reply::bulk("Stats not supported for the current allocator"))
}

/// `MEMORY HELP` → the subcommands, one status line each.
fn memory_help(_ctx: &mut Ctx, _argv: &[Vec<u8>]) -> CmdResult {
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
