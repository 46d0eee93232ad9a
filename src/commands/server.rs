//! The server command group: DBSIZE, FLUSHDB, FLUSHALL, SWAPDB, TIME, SAVE, BGSAVE, LASTSAVE,
//! BGREWRITEAOF, INFO, CONFIG
//! and COMMAND (whose handlers live in [`super::introspect`]).

use super::args;
use super::introspect;
use super::spec::*;
use crate::config::{self, Config};
use crate::engine::{Ctx, SaveRequest};
use crate::error::{self, CmdError, CmdResult};
use crate::protocol::Reply;
use crate::util::glob::glob_match;

/// This group's commands.
pub const COMMANDS: &[CommandSpec] = &[
    CommandSpec::new("shutdown", -1, &[ADMIN, NOSCRIPT, LOADING, STALE, NO_MULTI, ALLOW_BUSY], shutdown).doc(Group::Server, "1.0.0", &[Arg::oneof("nosave_save", &[Arg::token("nosave", "NOSAVE"), Arg::token("save", "SAVE")]).optional(), Arg::token("now", "NOW").optional().since("7.0.0"), Arg::token("force", "FORCE").optional().since("7.0.0"), Arg::token("abort", "ABORT").optional().since("7.0.0")], "Stops the server (the page's engine has no process to stop and keeps running).").complexity("O(N) when it saves, N being the keys of every database; O(1) otherwise."),
    CommandSpec::new("dbsize", 1, &[READONLY, FAST], dbsize).doc(Group::Server, "1.0.0", &[], "Counts the keys in the selected database.").acl(&[Acl::Keyspace]).tips(&["request_policy:all_shards", "response_policy:agg_sum"]).complexity("O(1)"),
    CommandSpec::new("flushdb", -1, &[WRITE], flushdb).doc(Group::Server, "1.0.0", &[Arg::oneof("async", &[Arg::token("async", "ASYNC").since("4.0.0"), Arg::token("sync", "SYNC").since("6.2.0")]).optional()], "Deletes every key of the selected database.").acl(&[Acl::Keyspace, Acl::Dangerous]).tips(&["request_policy:all_shards", "response_policy:all_succeeded"]).complexity("O(N), N being the keys in the selected database."),
    CommandSpec::new("flushall", -1, &[WRITE], flushall).doc(Group::Server, "1.0.0", &[Arg::oneof("async", &[Arg::token("async", "ASYNC").since("4.0.0"), Arg::token("sync", "SYNC").since("6.2.0")]).optional()], "Deletes every key of every database.").acl(&[Acl::Keyspace, Acl::Dangerous]).tips(&["request_policy:all_shards", "response_policy:all_succeeded"]).complexity("O(N), N being the keys of every database."),
    CommandSpec::new("swapdb", 3, &[WRITE, FAST], swapdb).doc(Group::Server, "4.0.0", &[Arg::integer("index1"), Arg::integer("index2")], "Exchanges the contents of two databases.").acl(&[Acl::Keyspace, Acl::Dangerous]).complexity("O(N), N being the clients watching or blocked on keys of either database."),
    CommandSpec::new("time", 1, &[LOADING, STALE, FAST], time).doc(Group::Server, "2.6.0", &[], "Replies with the server time: seconds and microseconds.").tips(&["nondeterministic_output"]).complexity("O(1)"),
    CommandSpec::new("lastsave", 1, &[LOADING, STALE, FAST], lastsave).doc(Group::Server, "1.0.0", &[], "Replies with the Unix time of the last successful snapshot.").acl(&[Acl::Admin, Acl::Dangerous]).tips(&["nondeterministic_output"]).complexity("O(1)"),
    CommandSpec::new("save", 1, &[NO_ASYNC_LOADING, ADMIN, NOSCRIPT, NO_MULTI], save).doc(Group::Server, "1.0.0", &[], "Writes a snapshot of every database now, replying when it is stored.").complexity("O(N), N being the keys of every database."),
    CommandSpec::new("bgsave", -1, &[NO_ASYNC_LOADING, ADMIN, NOSCRIPT], bgsave).doc(Group::Server, "1.0.0", &[Arg::token("schedule", "SCHEDULE").optional().since("3.2.2")], "Starts writing a snapshot of every database; SCHEDULE waits for a running save instead of failing.").complexity("O(1)"),
    CommandSpec::new("bgrewriteaof", 1, &[NO_ASYNC_LOADING, ADMIN, NOSCRIPT], bgrewriteaof).doc(Group::Server, "1.0.0", &[], "Starts rewriting the append-only file.").complexity("O(1)"),
    CommandSpec::new("role", 1, &[NOSCRIPT, LOADING, STALE, FAST], role).doc(Group::Server, "2.8.12", &[], "Replies with this server's replication role: master, offset, replicas.").acl(&[Acl::Admin, Acl::Dangerous]).complexity("O(1)"),
    CommandSpec::new("info", -1, &[LOADING, STALE], info).doc(Group::Server, "1.0.0", &[Arg::string("section").optional().multiple()], "Reports server state and counters, by section.").acl(&[Acl::Dangerous]).tips(&["nondeterministic_output", "request_policy:all_shards", "response_policy:special"]).complexity("O(1)"),
    CommandSpec::new("config", -2, &[], container).doc(Group::Server, "2.0.0", &[], "Reads and changes configuration parameters.").complexity("Depends on the subcommand.").subs(CONFIG_SUBCOMMANDS),
    CommandSpec::new("command", -1, &[LOADING, STALE], introspect::command).doc(Group::Server, "2.8.13", &[], "Describes the commands this server knows.").acl(&[Acl::Connection]).tips(&["nondeterministic_output_order"]).complexity("O(N), N being the number of commands the server knows.").subs(introspect::SUBCOMMANDS),
];

const CONFIG_SUBCOMMANDS: &[CommandSpec] = &[
    CommandSpec::new("get", -3, &[ADMIN, NOSCRIPT, LOADING, STALE], config_get)
        .doc(
            Group::Server,
            "2.0.0",
            &[Arg::block("parameter", &[Arg::string("parameter")]).multiple()],
            "Reads the parameters whose names match the patterns.",
        )
        .complexity("O(N), N being the parameters named."),
    CommandSpec::new("set", -4, &[ADMIN, NOSCRIPT, LOADING, STALE], config_set)
        .doc(
            Group::Server,
            "2.0.0",
            &[Arg::block(
                "parameter_value",
                &[Arg::string("parameter"), Arg::string("value")],
            )
            .multiple()],
            "Changes parameters, all of them or none.",
        )
        .tips(&["request_policy:all_nodes", "response_policy:all_succeeded"])
        .complexity("O(N), N being the parameters named."),
    CommandSpec::new(
        "resetstat",
        2,
        &[ADMIN, NOSCRIPT, LOADING, STALE],
        config_resetstat,
    )
    .doc(
        Group::Server,
        "2.0.0",
        &[],
        "Resets the counters INFO reports.",
    )
    .complexity("O(1)"),
    CommandSpec::new(
        "rewrite",
        2,
        &[ADMIN, NOSCRIPT, LOADING, STALE],
        config_rewrite,
    )
    .doc(
        Group::Server,
        "2.8.0",
        &[],
        "Writes the running configuration back to the config file.",
    )
    .complexity("O(1)"),
    CommandSpec::new("help", 2, &[LOADING, STALE], config_help)
        .doc(Group::Server, "5.0.0", &[], "Lists the CONFIG subcommands.")
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

/// The optional `ASYNC` / `SYNC` of FLUSHDB and FLUSHALL (none: `lazyfree-lazy-user-flush`
/// decides): whether the flush is asynchronous. Both empty at once here; an asynchronous one
/// counts its keys in lazyfreed_objects, as Redis's background thread does.
fn flush_mode(ctx: &Ctx, argv: &[Vec<u8>]) -> Result<bool, CmdError> {
    match argv {
        [_] => Ok(ctx.eng.config.get_named("lazyfree-lazy-user-flush") == "yes"),
        [_, mode] if args::is(mode, "async") => Ok(true),
        [_, mode] if args::is(mode, "sync") => Ok(false),
        _ => Err(error::SYNTAX),
    }
}

/// `FLUSHDB [ASYNC|SYNC]` → `+OK`.
fn flushdb(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    let lazy = flush_mode(ctx, argv)?;
    let db = ctx.db;
    ctx.eng.signal_flushed(db);
    let by = ctx.eng.current;
    ctx.eng.tracking_flushed(by);
    let removed = ctx.db().len() as u64;
    ctx.db().clear();
    if lazy {
        ctx.eng.stats.lazyfreed_objects += removed;
    }
    ctx.dirty(removed);
    // Propagated even when there was nothing to remove.
    ctx.force_propagate = true;
    Ok(Reply::ok())
}

/// `FLUSHALL [ASYNC|SYNC]` → `+OK`.
fn flushall(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    let lazy = flush_mode(ctx, argv)?;
    let mut removed = 0;
    let by = ctx.eng.current;
    ctx.eng.tracking_flushed(by);
    for db in 0..ctx.eng.dbs.len() {
        ctx.eng.signal_flushed(db);
        removed += ctx.eng.dbs[db].len() as u64;
        ctx.eng.dbs[db].clear();
    }
    if lazy {
        ctx.eng.stats.lazyfreed_objects += removed;
    }
    ctx.dirty(removed);
    // With save points configured Redis saves the empty data set at once, so that a restart
    // does not bring the flushed keys back (and the change counter starts again from 0); a
    // failed save does not fail the FLUSHALL.
    if !config::save_rules(&ctx.eng.config.save).is_empty() {
        ctx.eng.start_save(SaveRequest::Now, ctx.now);
    }
    ctx.force_propagate = true;
    Ok(Reply::ok())
}

/// `SWAPDB index1 index2` → `+OK`.
fn swapdb(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    if ctx.eng.cluster_enabled() {
        return Err(error::SWAPDB_CLUSTER);
    }
    let first = db_index(&argv[1], error::SWAPDB_FIRST)?;
    let second = db_index(&argv[2], error::SWAPDB_SECOND)?;
    let n = ctx.eng.dbs.len();
    let (Some(a), Some(b)) = (first, second) else {
        return Err(error::DB_INDEX);
    };
    if a >= n || b >= n {
        return Err(error::DB_INDEX);
    }
    if a != b {
        ctx.eng.signal_swapped(a, b, ctx.now);
        let (lo, hi) = (a.min(b), a.max(b));
        let (left, right) = ctx.eng.dbs.split_at_mut(hi);
        left[lo].swap_contents(&mut right[0]);
    }
    ctx.dirty(1);
    Ok(Reply::ok())
}

/// A database index that must fit a C int (`bad` otherwise); None when it is negative.
fn db_index(arg: &[u8], bad: CmdError) -> Result<Option<usize>, CmdError> {
    let v = crate::util::parse_i64(arg)
        .filter(|v| i32::try_from(*v).is_ok())
        .ok_or(bad)?;
    Ok(usize::try_from(v).ok())
}

/// `TIME` → `[seconds, microseconds]` as two bulk strings.
fn time(ctx: &mut Ctx, _argv: &[Vec<u8>]) -> CmdResult {
    let secs = ctx.now.div_euclid(1000);
    let micros = ctx.now.rem_euclid(1000) * 1000;
    Ok(Reply::bulks([secs.to_string(), micros.to_string()]))
}

/// `SAVE` → `+OK` once the snapshot is stored (a bare `-ERR` if storing failed); an error
/// while a background save runs.
fn save(ctx: &mut Ctx, _argv: &[Vec<u8>]) -> CmdResult {
    if ctx.eng.persist.bgsave_in_progress {
        return Err(error::BGSAVE_RUNNING);
    }
    if ctx.eng.start_save(SaveRequest::Now, ctx.now) {
        Ok(Reply::ok())
    } else {
        Err(error::SAVE_FAILED)
    }
}

/// `BGSAVE [SCHEDULE]` → `+Background saving started`; `+Background saving scheduled` inside
/// EXEC (the save starts after it, as Redis's cron starts it); an error while one runs.
fn bgsave(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    match argv {
        [_] => {}
        [_, opt] if args::is(opt, "schedule") => {}
        _ => return Err(error::SYNTAX),
    }
    if ctx.eng.persist.bgsave_in_progress {
        return Err(error::BGSAVE_RUNNING);
    }
    if ctx.no_block {
        ctx.eng.persist.bgsave_scheduled = true;
        return Ok(Reply::status("Background saving scheduled"));
    }
    if ctx.eng.start_save(SaveRequest::Background, ctx.now) {
        Ok(Reply::status("Background saving started"))
    } else {
        Err(error::SAVE_FAILED)
    }
}

/// `BGREWRITEAOF` → `+Background append only file rewriting started` (`scheduled` inside
/// EXEC). The host rewrites its append-only file (the server's files, the page's log in
/// memory) when the command has run.
fn bgrewriteaof(ctx: &mut Ctx, _argv: &[Vec<u8>]) -> CmdResult {
    if ctx.no_block {
        ctx.eng.persist.aof_rewrite_scheduled = true;
        return Ok(Reply::status(
            "Background append only file rewriting scheduled",
        ));
    }
    ctx.eng.persist.aof_rewrite_requested = true;
    Ok(Reply::status(
        "Background append only file rewriting started",
    ))
}

/// `ROLE` → `["master", replication offset, [[ip, port, acked offset] ...]]` with the
/// replicas in sync; on a replica `["slave", host, port, link state, offset or -1]`.
fn role(ctx: &mut Ctx, _argv: &[Vec<u8>]) -> CmdResult {
    let eng = &ctx.eng;
    if let Some(link) = &eng.repl.link {
        let state = eng.link_state_name();
        let offset = if state == "connected" {
            eng.repl.offset
        } else {
            -1
        };
        return Ok(Reply::Array(vec![
            Reply::bulk("slave"),
            Reply::bulk(&link.host),
            Reply::Integer(i64::from(link.port)),
            Reply::bulk(state),
            Reply::Integer(offset),
        ]));
    }
    let replicas = eng
        .repl
        .attached()
        .filter(|(_, r)| r.state == Some(crate::engine::replication::ReplicaState::Online))
        .map(|(id, r)| {
            Reply::Array(vec![
                Reply::bulk(eng.replica_ip(*id, r)),
                Reply::bulk(r.listening_port.to_string()),
                Reply::bulk(r.ack_offset.to_string()),
            ])
        })
        .collect();
    Ok(Reply::Array(vec![
        Reply::bulk("master"),
        Reply::Integer(eng.repl.offset),
        Reply::Array(replicas),
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
    let failed = |name: &[u8], why: &str| error::config_set_failed(name, why);
    let mut params = Vec::new();
    let mut deny_loading = false;
    for (i, pair) in argv[2..].chunks(2).enumerate() {
        let name = &pair[0];
        let Some(p) = config::lookup(name) else {
            return Err(error::config_set_unknown(name));
        };
        match p.kind {
            config::Kind::Immutable => return Err(failed(name, "can't set immutable config")),
            config::Kind::Protected
                if !ctx
                    .eng
                    .protected_action_allowed("enable-protected-configs", ctx.client) =>
            {
                return Err(failed(name, "can't set protected config"))
            }
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
        if ctx.eng.loading.is_some() && matches!(p.name, "dir" | "appendonly") {
            // Redis's DENY_LOADING_CONFIG: these wait until the data has loaded.
            deny_loading = true;
        }
        params.push((p, name, &pair[1]));
    }
    if deny_loading {
        return Err(error::LOADING);
    }
    let mut next: Config = ctx.eng.config.clone();
    for &(p, name, value) in &params {
        next.set(p, value).map_err(|why| failed(name, &why))?;
    }
    if next.maxclients != ctx.eng.config.maxclients {
        // As redis-server: more clients may need a higher open file limit; when the system
        // refuses it, nothing of this CONFIG SET applies.
        if let Some(room) = ctx.eng.room_for_clients {
            let want = u64::try_from(next.maxclients).unwrap_or(0);
            let allowed = room(want);
            if allowed < want {
                return Err(failed(
                    b"maxclients",
                    &error::os_cannot_hold_clients(allowed),
                ));
            }
        }
    }
    if let Some(hook) = ctx.eng.config_hook {
        apply_in_host(hook, &ctx.eng.config, &mut next, &params)?;
    }
    let old_pass = ctx.eng.config.requirepass().to_string();
    if next.appendonly && !ctx.eng.config.appendonly && ctx.no_block {
        // The host starts the file's first rewrite once EXEC is over.
        ctx.eng.server_log(
            crate::engine::log::LogLevel::Warning,
            "AOF was enabled during a transaction. An AOF background was scheduled to start \
             when possible."
                .to_string(),
        );
    }
    // A new maxmemory is enforced right after the command, not only before the next one (as
    // Redis starts its eviction timer).
    ctx.eng.memory.evict_soon |= next.maxmemory != 0 && next.maxmemory != ctx.eng.config.maxmemory;
    ctx.eng.config = next;
    if ctx.eng.config.requirepass() != old_pass {
        // requirepass is the default user's password, as in Redis 6+.
        let pass = ctx.eng.config.requirepass().as_bytes().to_vec();
        ctx.eng.acl.set_default_password(&pass);
        ctx.eng.acl.refresh();
    }
    ctx.eng.resize_backlog();
    // A command later in the same EXEC must already see keys created and expired logged.
    ctx.eng.sync_event_tracking();
    Ok(Reply::ok())
}

/// The parameters whose change the host applies (see [`crate::engine::ConfigHook`]).
const HOST_APPLIED: &[&str] = &["port", "bind", "dir", "dbfilename", "proc-title-template"];

/// Has the host apply, in the order given, the parameters of a CONFIG SET it is in charge of
/// and that changed. When one fails, what was applied (the failed one included) is applied
/// again from the old configuration, and the command fails naming it, as Redis rolls back.
fn apply_in_host(
    hook: crate::engine::ConfigHook,
    old: &Config,
    next: &mut Config,
    params: &[(&'static config::Param, &Vec<u8>, &Vec<u8>)],
) -> Result<(), CmdError> {
    let mut applied: Vec<&str> = Vec::new();
    for &(p, name, _) in params {
        if !HOST_APPLIED.contains(&p.name) || old.get(p) == next.get(p) || applied.contains(&p.name)
        {
            continue;
        }
        applied.push(p.name);
        match hook(p.name, old, next) {
            Ok(Some(shown)) => {
                next.set_at_startup(p.name, &shown);
            }
            Ok(None) => {}
            Err(why) => {
                for undo in applied.iter().rev() {
                    let _ = hook(undo, next, old);
                }
                return Err(error::config_set_failed(name, &why));
            }
        }
    }
    Ok(())
}

/// `CONFIG RESETSTAT` → `+OK`: clears the INFO counters.
fn config_resetstat(ctx: &mut Ctx, _argv: &[Vec<u8>]) -> CmdResult {
    ctx.eng.reset_stats();
    Ok(Reply::ok())
}

/// `CONFIG REWRITE` → `+OK` once the config file the server started with holds the current
/// configuration (see `config::rewrite`); an error when it started without one.
fn config_rewrite(ctx: &mut Ctx, _argv: &[Vec<u8>]) -> CmdResult {
    if ctx.eng.persist.config_file.is_none() {
        return Err(error::NO_CONFIG_FILE);
    }
    rewrite_config_file(ctx, false).map_err(|why| error::config_rewrite_failed(&why))?;
    Ok(Reply::ok())
}

/// Writes the configuration into the host's config file (every parameter with `force_all`);
/// the error is the system's reason (`Bad address` without a file, as redis-server's).
pub(crate) fn rewrite_config_file(ctx: &mut Ctx, force_all: bool) -> Result<(), String> {
    let Some(file) = &ctx.eng.persist.config_file else {
        return Err("Bad address".into());
    };
    let old = (file.read)()?;
    // Users kept in an ACL file stay there; otherwise the config file holds them.
    let users = ctx
        .eng
        .config
        .get_named("aclfile")
        .is_empty()
        .then(|| ctx.eng.acl.list());
    let new = config::rewrite::rewrite(&old, &ctx.eng.config, users.as_deref(), force_all);
    (file.write)(&new)
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
    let (mut nosave, mut save, mut abort, mut now, mut force) = (false, false, false, false, false);
    for a in &argv[1..] {
        if args::is(a, "nosave") {
            nosave = true;
        } else if args::is(a, "save") {
            save = true;
        } else if args::is(a, "abort") {
            abort = true;
        } else if args::is(a, "now") {
            now = true;
        } else if args::is(a, "force") {
            force = true;
        } else {
            return Err(error::SYNTAX);
        }
    }
    if (nosave && save) || (abort && (nosave || save || now || force)) {
        return Err(error::SYNTAX);
    }
    if abort {
        return Err(error::NO_SHUTDOWN);
    }
    // While a script runs past busy-reply-threshold only SHUTDOWN NOSAVE may stop the server.
    // A host that runs scripts in slices has no process to stop (the page): the script is
    // ended instead, written or not, as the server's end would end it.
    if nosave && ctx.eng.scripts.sliced {
        if let Some(run) = ctx.eng.scripts.running.as_mut().filter(|r| r.timed_out) {
            run.kill = true;
        }
    }
    if let Some(eval) = ctx.eng.scripts.busy().filter(|_| !nosave) {
        return Err(if eval {
            error::BUSY_EVAL
        } else {
            error::BUSY_FUNCTION
        });
    }
    // Like redis-server: save first when asked to, or when snapshot rules are configured and
    // NOSAVE was not given; a failed save stops the shutdown unless FORCE.
    let rules = !config::save_rules(&ctx.eng.config.save).is_empty();
    if (save || (rules && !nosave)) && ctx.eng.persist.writer.is_some() {
        let at = ctx.now;
        if ctx.eng.save_now(at).is_err() && !force {
            return Err(error::SHUTDOWN_FAILED);
        }
    }
    ctx.eng.shutdown_requested = true;
    Ok(Reply::Multi(Vec::new()))
}
