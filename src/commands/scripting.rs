//! Lua scripts: EVAL, EVALSHA, EVAL_RO, EVALSHA_RO and SCRIPT; FUNCTION libraries with FCALL
//! and FCALL_RO. The scripts themselves run in `crate::scripting`.

use super::server::{container, help_reply};
use super::spec::*;
use crate::engine::Ctx;
use crate::error::{self, CmdError, CmdResult};
use crate::protocol::Reply;
use crate::scripting;

const EVAL_KEYS: &[KeySpec] = &[
    KeySpec::new(&[RW, ACCESS, UPDATE], index(2), keynum(0, 1, 1))
        .notes("We cannot tell how the keys will be used so we assume the worst, RW and UPDATE"),
];
const EVALSHA_KEYS: &[KeySpec] = &[KeySpec::new(
    &[RW, ACCESS, UPDATE],
    index(2),
    keynum(0, 1, 1),
)];
const EVAL_RO_KEYS: &[KeySpec] = &[KeySpec::new(&[RO, ACCESS], index(2), keynum(0, 1, 1))
    .notes("We cannot tell how the keys will be used so we assume the worst, RO and ACCESS")];
const EVALSHA_RO_KEYS: &[KeySpec] = &[KeySpec::new(&[RO, ACCESS], index(2), keynum(0, 1, 1))];

const EVAL_FLAGS: &[Flags] = &[
    NOSCRIPT,
    SKIP_MONITOR,
    MAY_REPLICATE,
    NO_MANDATORY_KEYS,
    STALE,
];
const EVAL_RO_FLAGS: &[Flags] = &[READONLY, NOSCRIPT, SKIP_MONITOR, NO_MANDATORY_KEYS, STALE];
const COMPLEXITY: &str = "Depends on the script that is executed.";
/// The arguments of EVAL-style commands: what to run, then numkeys, keys and arguments.
const fn script_args(first: &'static str) -> [Arg; 4] {
    [
        Arg::string(first),
        Arg::integer("numkeys"),
        Arg::key("key", 0).optional().multiple(),
        Arg::string("arg").optional().multiple(),
    ]
}
const SCRIPT_ARGS: &[Arg] = &script_args("script");
const SHA1_ARGS: &[Arg] = &script_args("sha1");
const FUNCTION_ARGS: &[Arg] = &script_args("function");

/// This group's commands.
pub const COMMANDS: &[CommandSpec] = &[
    CommandSpec::new("eval", -3, EVAL_FLAGS, eval)
        .doc(
            Group::Scripting,
            "2.6.0",
            SCRIPT_ARGS,
            "Runs a Lua script on the server.",
        )
        .key_specs(EVAL_KEYS)
        .complexity(COMPLEXITY),
    CommandSpec::new("evalsha", -3, EVAL_FLAGS, evalsha)
        .doc(
            Group::Scripting,
            "2.6.0",
            SHA1_ARGS,
            "Runs a cached Lua script by its SHA1.",
        )
        .key_specs(EVALSHA_KEYS)
        .complexity(COMPLEXITY),
    CommandSpec::new("eval_ro", -3, EVAL_RO_FLAGS, eval_ro)
        .doc(
            Group::Scripting,
            "7.0.0",
            SCRIPT_ARGS,
            "Runs a read-only Lua script on the server.",
        )
        .key_specs(EVAL_RO_KEYS)
        .complexity(COMPLEXITY),
    CommandSpec::new("evalsha_ro", -3, EVAL_RO_FLAGS, evalsha_ro)
        .doc(
            Group::Scripting,
            "7.0.0",
            SHA1_ARGS,
            "Runs a cached read-only Lua script by its SHA1.",
        )
        .key_specs(EVALSHA_RO_KEYS)
        .complexity(COMPLEXITY),
    CommandSpec::new("fcall", -3, EVAL_FLAGS, fcall)
        .doc(
            Group::Scripting,
            "7.0.0",
            FUNCTION_ARGS,
            "Runs a function of a loaded library.",
        )
        .key_specs(EVAL_KEYS)
        .complexity("Depends on the function that is executed."),
    CommandSpec::new("fcall_ro", -3, EVAL_RO_FLAGS, fcall_ro)
        .doc(
            Group::Scripting,
            "7.0.0",
            FUNCTION_ARGS,
            "Runs a read-only function of a loaded library.",
        )
        .key_specs(EVAL_RO_KEYS)
        .complexity("Depends on the function that is executed."),
    CommandSpec::new("function", -2, &[], container)
        .doc(
            Group::Scripting,
            "7.0.0",
            &[],
            "Manages libraries of Lua functions.",
        )
        .complexity("Depends on the subcommand.")
        .subs(FUNCTION_SUBCOMMANDS),
    CommandSpec::new("script", -2, &[], container)
        .doc(
            Group::Scripting,
            "2.6.0",
            &[],
            "Manages the Lua script cache.",
        )
        .complexity("Depends on the subcommand.")
        .subs(SUBCOMMANDS),
];

const SUBCOMMANDS: &[CommandSpec] = &[
    CommandSpec::new("debug", 3, &[NOSCRIPT], debug)
        .doc(
            Group::Scripting,
            "3.2.0",
            &[Arg::oneof(
                "mode",
                &[
                    Arg::token("yes", "YES"),
                    Arg::token("sync", "SYNC"),
                    Arg::token("no", "NO"),
                ],
            )],
            "Sets the debug mode of later scripts.",
        )
        .complexity("O(1)"),
    CommandSpec::new("exists", -3, &[NOSCRIPT], exists)
        .doc(
            Group::Scripting,
            "2.6.0",
            &[Arg::string("sha1").multiple()],
            "Tells which scripts the cache holds.",
        )
        .tips(&[
            "request_policy:all_shards",
            "response_policy:agg_logical_and",
        ])
        .complexity("O(N) with N being the number of scripts to check"),
    CommandSpec::new("flush", -2, &[NOSCRIPT], flush)
        .doc(
            Group::Scripting,
            "2.6.0",
            &[Arg::oneof(
                "async",
                &[Arg::token("async", "ASYNC"), Arg::token("sync", "SYNC")],
            )
            .optional()
            .since("6.2.0")],
            "Empties the script cache.",
        )
        .tips(&["request_policy:all_nodes", "response_policy:all_succeeded"])
        .complexity("O(N) with N being the number of scripts in cache"),
    CommandSpec::new("help", 2, &[LOADING, STALE], help)
        .doc(
            Group::Scripting,
            "5.0.0",
            &[],
            "Lists the SCRIPT subcommands.",
        )
        .complexity("O(1)"),
    CommandSpec::new("kill", 2, &[NOSCRIPT, ALLOW_BUSY], kill)
        .doc(Group::Scripting, "2.6.0", &[], "Stops the running script.")
        .tips(&["request_policy:all_shards", "response_policy:one_succeeded"])
        .complexity("O(1)"),
    CommandSpec::new("load", 3, &[NOSCRIPT, STALE], load)
        .doc(
            Group::Scripting,
            "2.6.0",
            &[Arg::string("script")],
            "Caches a Lua script without running it.",
        )
        .tips(&["request_policy:all_nodes", "response_policy:all_succeeded"])
        .complexity("O(N) with N being the length in bytes of the script body."),
];

const FUNCTION_SUBCOMMANDS: &[CommandSpec] = &[
    CommandSpec::new("delete", 3, &[WRITE, NOSCRIPT], function_delete)
        .doc(
            Group::Scripting,
            "7.0.0",
            &[Arg::string("library-name")],
            "Deletes a library and its functions.",
        )
        .tips(&["request_policy:all_shards", "response_policy:all_succeeded"])
        .complexity("O(1)"),
    CommandSpec::new("dump", 2, &[NOSCRIPT], function_dump)
        .doc(
            Group::Scripting,
            "7.0.0",
            &[],
            "Serializes every library into one payload (FUNCTION RESTORE takes it back).",
        )
        .complexity("O(N), N being the functions loaded."),
    CommandSpec::new("flush", -2, &[WRITE, NOSCRIPT], function_flush)
        .doc(
            Group::Scripting,
            "7.0.0",
            &[Arg::oneof(
                "async",
                &[Arg::token("async", "ASYNC"), Arg::token("sync", "SYNC")],
            )
            .optional()],
            "Deletes every library.",
        )
        .tips(&["request_policy:all_shards", "response_policy:all_succeeded"])
        .complexity("O(N), N being the functions deleted."),
    CommandSpec::new("help", 2, &[LOADING, STALE], function_help)
        .doc(
            Group::Scripting,
            "7.0.0",
            &[],
            "Lists the FUNCTION subcommands.",
        )
        .complexity("O(1)"),
    CommandSpec::new("kill", 2, &[NOSCRIPT, ALLOW_BUSY], kill_function)
        .doc(
            Group::Scripting,
            "7.0.0",
            &[],
            "Stops the running function.",
        )
        .tips(&["request_policy:all_shards", "response_policy:one_succeeded"])
        .complexity("O(1)"),
    CommandSpec::new("list", -2, &[NOSCRIPT], function_list)
        .doc(
            Group::Scripting,
            "7.0.0",
            &[
                Arg::string("library-name-pattern")
                    .with_token("LIBRARYNAME")
                    .optional(),
                Arg::token("withcode", "WITHCODE").optional(),
            ],
            "Describes the loaded libraries.",
        )
        .tips(&["nondeterministic_output_order"])
        .complexity("O(N) where N is the number of functions"),
    CommandSpec::new("load", -3, &[WRITE, DENYOOM, NOSCRIPT], function_load)
        .doc(
            Group::Scripting,
            "7.0.0",
            &[
                Arg::token("replace", "REPLACE").optional(),
                Arg::string("function-code"),
            ],
            "Loads a library of functions.",
        )
        .tips(&["request_policy:all_shards", "response_policy:all_succeeded"])
        .complexity("O(1) (considering compilation time is redundant)"),
    CommandSpec::new("restore", -3, &[WRITE, DENYOOM, NOSCRIPT], function_restore)
        .doc(
            Group::Scripting,
            "7.0.0",
            &[
                Arg::string("serialized-value"),
                Arg::oneof(
                    "policy",
                    &[
                        Arg::token("flush", "FLUSH"),
                        Arg::token("append", "APPEND"),
                        Arg::token("replace", "REPLACE"),
                    ],
                )
                .optional(),
            ],
            "Loads the libraries of a FUNCTION DUMP payload.",
        )
        .tips(&["request_policy:all_shards", "response_policy:all_succeeded"])
        .complexity("O(N), N being the functions in the payload."),
    CommandSpec::new("stats", 2, &[NOSCRIPT, ALLOW_BUSY], function_stats)
        .doc(
            Group::Scripting,
            "7.0.0",
            &[],
            "Tells which function runs and how many are loaded.",
        )
        .tips(&[
            "nondeterministic_output",
            "request_policy:all_shards",
            "response_policy:special",
        ])
        .complexity("O(1)"),
];

/// Shows the command to MONITOR before its script's commands, as Redis does.
fn monitor(ctx: &mut Ctx, argv: &[Vec<u8>]) {
    if ctx.eng.monitors.is_empty() {
        return;
    }
    let addr = ctx
        .eng
        .clients
        .get(&ctx.client)
        .map(|c| c.addr.clone())
        .unwrap_or_default();
    let (client, db, now) = (ctx.client, ctx.db, ctx.now);
    ctx.eng.monitor_line(&addr, client, db, argv, now);
}

/// The key count of an EVAL-style command line, checked against its arguments.
fn numkeys(argv: &[Vec<u8>]) -> Result<usize, CmdError> {
    let n = std::str::from_utf8(&argv[2])
        .ok()
        .and_then(|s| s.parse::<i64>().ok())
        .ok_or(error::NOT_INTEGER)?;
    if n > (argv.len() - 3) as i64 {
        return Err(error::NUMKEYS_TOO_MANY);
    }
    if n < 0 {
        return Err(error::NUMKEYS_NEGATIVE);
    }
    Ok(n as usize)
}

fn eval_generic(ctx: &mut Ctx, argv: &[Vec<u8>], ro: bool) -> CmdResult {
    monitor(ctx, argv);
    // A script propagates its effects (the writes it makes), never itself.
    ctx.no_propagate = true;
    let n = numkeys(argv)?;
    let sha = scripting::load_script(ctx, &argv[1])?;
    scripting::run(ctx, &sha, argv, n, ro)
}

fn evalsha_generic(ctx: &mut Ctx, argv: &[Vec<u8>], ro: bool) -> CmdResult {
    monitor(ctx, argv);
    ctx.no_propagate = true;
    if argv[1].len() != 40 {
        return Err(error::NOSCRIPT);
    }
    let n = numkeys(argv)?;
    let sha = String::from_utf8_lossy(&argv[1]).to_ascii_lowercase();
    scripting::run(ctx, &sha, argv, n, ro)
}

/// `EVAL script numkeys [key ...] [arg ...]` → what the script returns.
fn eval(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    eval_generic(ctx, argv, false)
}

/// `EVAL_RO script numkeys [key ...] [arg ...]` → what the script returns; writes refused.
fn eval_ro(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    eval_generic(ctx, argv, true)
}

/// `EVALSHA sha1 numkeys [key ...] [arg ...]` → what the cached script returns.
fn evalsha(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    evalsha_generic(ctx, argv, false)
}

/// `EVALSHA_RO sha1 numkeys [key ...] [arg ...]` → as EVALSHA; writes refused.
fn evalsha_ro(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    evalsha_generic(ctx, argv, true)
}

/// `SCRIPT LOAD script` → the script's SHA1.
fn load(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    let sha = scripting::load_script(ctx, &argv[2])?;
    Ok(Reply::Bulk(sha.into_bytes()))
}

/// `SCRIPT EXISTS sha1 [sha1 ...]` → array of 1/0.
fn exists(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    Ok(Reply::Array(
        argv[2..]
            .iter()
            .map(|sha| {
                let sha = String::from_utf8_lossy(sha).to_ascii_lowercase();
                Reply::Integer(i64::from(ctx.eng.scripts.cache.contains_key(&sha)))
            })
            .collect(),
    ))
}

/// `SCRIPT FLUSH [ASYNC|SYNC]` → OK.
fn flush(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    let ok = argv.len() == 2
        || (argv.len() == 3
            && (argv[2].eq_ignore_ascii_case(b"sync") || argv[2].eq_ignore_ascii_case(b"async")));
    if !ok {
        return Err(error::SCRIPT_FLUSH_OPTION);
    }
    ctx.eng.scripts.flush();
    Ok(Reply::ok())
}

/// `SCRIPT KILL`: stops the EVAL script running past busy-reply-threshold (the host serves
/// this command while the script runs), unless it already wrote.
fn kill(ctx: &mut Ctx, _argv: &[Vec<u8>]) -> CmdResult {
    ctx.eng.scripts.kill(true)?;
    Ok(Reply::ok())
}

/// `SCRIPT DEBUG YES|SYNC|NO`: the Lua debugger is not available; NO is accepted.
fn debug(_ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    let mode = &argv[2];
    if mode.eq_ignore_ascii_case(b"no") {
        Ok(Reply::ok())
    } else if mode.eq_ignore_ascii_case(b"yes") || mode.eq_ignore_ascii_case(b"sync") {
        Err(error::LUA_DEBUGGER_UNAVAILABLE)
    } else {
        Err(error::SCRIPT_DEBUG_USAGE)
    }
}

/// `SCRIPT HELP` → array of help lines.
fn help(_ctx: &mut Ctx, _argv: &[Vec<u8>]) -> CmdResult {
    Ok(help_reply(
        "SCRIPT",
        &[
            "DEBUG (YES|SYNC|NO)",
            "    Set the debug mode for subsequent scripts executed.",
            "EXISTS <sha1> [<sha1> ...]",
            "    Return information about the existence of the scripts in the script cache.",
            "FLUSH [ASYNC|SYNC]",
            "    Flush the Lua scripts cache. Very dangerous on replicas.",
            "    When called without the optional mode argument, the behavior is determined by the",
            "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
            "    * ASYNC: Asynchronously flush the scripts cache.",
            "    * SYNC: Synchronously flush the scripts cache.",
            "KILL",
            "    Kill the currently executing Lua script.",
            "LOAD <script>",
            "    Load a script into the scripts cache without executing it.",
        ],
    ))
}

/// `FCALL function numkeys [key ...] [arg ...]` → what the function returns.
fn fcall(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    monitor(ctx, argv);
    ctx.no_propagate = true;
    scripting::functions::fcall(ctx, argv, false)
}

/// `FCALL_RO function numkeys [key ...] [arg ...]` → as FCALL; writes refused.
fn fcall_ro(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    monitor(ctx, argv);
    ctx.no_propagate = true;
    scripting::functions::fcall(ctx, argv, true)
}

/// `FUNCTION LOAD [REPLACE] code` → the library's name.
fn function_load(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    let mut replace = false;
    let mut pos = 2;
    while pos < argv.len() - 1 {
        let a = &argv[pos];
        pos += 1;
        if a.eq_ignore_ascii_case(b"replace") {
            replace = true;
            continue;
        }
        return Err(error::function_load_option(a));
    }
    if pos >= argv.len() {
        return Err(error::FUNCTION_CODE_MISSING);
    }
    let name = scripting::functions::load(ctx, &argv[pos], replace)?;
    Ok(Reply::Bulk(name.into_bytes()))
}

/// `FUNCTION DELETE library` → OK.
fn function_delete(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    scripting::functions::delete(ctx, &argv[2])
}

/// `FUNCTION FLUSH [ASYNC|SYNC]` → OK.
fn function_flush(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    if argv.len() > 3 {
        return Err(crate::error::subcommand_syntax(&argv[1], "FUNCTION"));
    }
    let ok = argv.len() == 2
        || (argv.len() == 3
            && (argv[2].eq_ignore_ascii_case(b"sync") || argv[2].eq_ignore_ascii_case(b"async")));
    if !ok {
        return Err(error::FUNCTION_FLUSH_OPTION);
    }
    scripting::functions::flush(ctx);
    Ok(Reply::ok())
}

/// `FUNCTION DUMP` → bulk: every library's code in Redis's payload format (version, CRC-64),
/// libraries in name order.
fn function_dump(ctx: &mut Ctx, _argv: &[Vec<u8>]) -> CmdResult {
    let mut libs: Vec<&scripting::functions::Library> =
        ctx.eng.scripts.libraries.values().collect();
    libs.sort_by(|a, b| a.name.cmp(&b.name));
    let compress = ctx.eng.config.rdb_compression();
    Ok(Reply::Bulk(crate::rdb::dump_functions(
        libs.iter().map(|l| l.code.as_slice()),
        compress,
    )))
}

/// `FUNCTION RESTORE payload [FLUSH|APPEND|REPLACE]` → OK; all of the payload's libraries
/// or none.
fn function_restore(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    use scripting::functions::RestorePolicy;
    if argv.len() > 4 {
        return Err(crate::error::subcommand_syntax(&argv[1], "FUNCTION"));
    }
    let policy = match argv.get(3) {
        None => RestorePolicy::Append,
        Some(p) if p.eq_ignore_ascii_case(b"append") => RestorePolicy::Append,
        Some(p) if p.eq_ignore_ascii_case(b"replace") => RestorePolicy::Replace,
        Some(p) if p.eq_ignore_ascii_case(b"flush") => RestorePolicy::Flush,
        Some(_) => return Err(crate::error::RESTORE_POLICY),
    };
    scripting::functions::restore(ctx, &argv[2], policy)
}

/// `FUNCTION LIST [LIBRARYNAME pattern] [WITHCODE]` → one map per library.
fn function_list(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    scripting::functions::list(ctx, argv)
}

/// `FUNCTION STATS` → the running function (never one) and the engine's counts.
fn function_stats(ctx: &mut Ctx, _argv: &[Vec<u8>]) -> CmdResult {
    scripting::functions::stats(ctx)
}

/// `FUNCTION KILL`: as SCRIPT KILL, for a function.
fn kill_function(ctx: &mut Ctx, _argv: &[Vec<u8>]) -> CmdResult {
    ctx.eng.scripts.kill(false)?;
    Ok(Reply::ok())
}

/// `FUNCTION HELP` → array of help lines.
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
