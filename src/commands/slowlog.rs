//! SLOWLOG: GET, LEN, RESET, HELP over the engine's slow log (see `engine/slowlog.rs`).

use super::server::{container, help_reply};
use super::spec::*;
use crate::engine::Ctx;
use crate::error::{self, CmdResult};
use crate::protocol::Reply;

/// This group's commands.
pub const COMMANDS: &[CommandSpec] = &[CommandSpec::new("slowlog", -2, &[], container)
    .doc(
        Group::Server,
        "2.2.12",
        &[],
        "Reads and clears the log of slow commands.",
    )
    .complexity("Depends on the subcommand.")
    .subs(SUBCOMMANDS)];

const SUBCOMMANDS: &[CommandSpec] = &[
    CommandSpec::new("get", -2, &[ADMIN, LOADING, STALE], get)
        .doc(
            Group::Server,
            "2.2.12",
            &[Arg::integer("count").optional()],
            "Lists the newest slow log entries (10 unless told; -1 for all).",
        )
        .tips(&["request_policy:all_nodes", "nondeterministic_output"])
        .complexity("O(N) in the number of entries returned"),
    CommandSpec::new("help", 2, &[LOADING, STALE], help)
        .doc(
            Group::Server,
            "6.2.0",
            &[],
            "Lists the SLOWLOG subcommands.",
        )
        .complexity("O(1)"),
    CommandSpec::new("len", 2, &[ADMIN, LOADING, STALE], len)
        .doc(
            Group::Server,
            "2.2.12",
            &[],
            "Counts the entries in the slow log.",
        )
        .tips(&[
            "request_policy:all_nodes",
            "response_policy:agg_sum",
            "nondeterministic_output",
        ])
        .complexity("O(1)"),
    CommandSpec::new("reset", 2, &[ADMIN, LOADING, STALE], reset)
        .doc(Group::Server, "2.2.12", &[], "Empties the slow log.")
        .tips(&["request_policy:all_nodes", "response_policy:all_succeeded"])
        .complexity("O(N) in the number of entries in the slow log"),
];

/// Entries SLOWLOG GET lists when not told how many.
const DEFAULT_COUNT: usize = 10;

/// `SLOWLOG GET [count]` → array of entries, newest first: `[id, unix time, microseconds,
/// [arguments], client address, client name]`. A count of -1 lists them all; the reply never
/// holds more than the log does, however large the count.
fn get(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    if argv.len() > 3 {
        return Err(error::subcommand_syntax(&argv[1], "slowlog"));
    }
    let bad = || error::SLOWLOG_COUNT;
    let count = match argv.get(2) {
        None => DEFAULT_COUNT,
        Some(a) => match crate::util::parse_i64(a).ok_or_else(bad)? {
            -1 => usize::MAX,
            n if n < -1 => return Err(bad()),
            n => usize::try_from(n).unwrap_or(usize::MAX),
        },
    };
    let entries = ctx
        .eng
        .slowlog
        .entries
        .iter()
        .take(count)
        .map(|e| {
            Reply::Array(vec![
                Reply::int(e.id),
                Reply::Integer(e.time_s),
                Reply::int(e.duration_us),
                Reply::bulks(e.argv.iter()),
                Reply::bulk(&e.peer),
                Reply::bulk(&e.name),
            ])
        })
        .collect();
    Ok(Reply::Array(entries))
}

/// `SLOWLOG LEN` → integer.
fn len(ctx: &mut Ctx, _argv: &[Vec<u8>]) -> CmdResult {
    Ok(Reply::int(ctx.eng.slowlog.entries.len()))
}

/// `SLOWLOG RESET` → `+OK`. Entry ids keep counting.
fn reset(ctx: &mut Ctx, _argv: &[Vec<u8>]) -> CmdResult {
    ctx.eng.slowlog.entries.clear();
    Ok(Reply::ok())
}

/// `SLOWLOG HELP` → array of help lines.
fn help(_ctx: &mut Ctx, _argv: &[Vec<u8>]) -> CmdResult {
    Ok(help_reply(
        "SLOWLOG",
        &[
            "GET [<count>]",
            "    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
            "    Entries are made of:",
            "    id, timestamp, time in microseconds, arguments array, client IP and port,",
            "    client name",
            "LEN",
            "    Return the length of the slowlog.",
            "RESET",
            "    Reset the slowlog.",
        ],
    ))
}
