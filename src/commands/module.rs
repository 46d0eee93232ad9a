//! MODULE: a server without modules. LIST is empty; LOAD, LOADEX and UNLOAD are refused
//! before they run, as Redis refuses them while `enable-module-command` is `no` (its default,
//! fixed at start-up), by the protected-command check in `Engine::execute`.

use super::server::{container, help_reply};
use super::spec::*;
use crate::engine::Ctx;
use crate::error::CmdResult;
use crate::protocol::Reply;

/// This group's commands.
pub const COMMANDS: &[CommandSpec] = &[CommandSpec::new("module", -2, &[], container)
    .doc(
        Group::Server,
        "4.0.0",
        &[],
        "Loads, lists and unloads server extensions.",
    )
    .complexity("Depends on the subcommand.")
    .subs(SUBCOMMANDS)];

const LOADING_FLAGS: &[Flags] = &[ADMIN, NOSCRIPT, NO_ASYNC_LOADING, PROTECTED];

const SUBCOMMANDS: &[CommandSpec] = &[
    CommandSpec::new("help", 2, &[LOADING, STALE], help)
        .doc(Group::Server, "5.0.0", &[], "Lists the MODULE subcommands.")
        .complexity("O(1)"),
    CommandSpec::new("list", 2, &[ADMIN, NOSCRIPT], list)
        .doc(
            Group::Server,
            "4.0.0",
            &[],
            "Lists the loaded modules (none here).",
        )
        .tips(&["nondeterministic_output_order"])
        .complexity("O(N) in the number of loaded modules"),
    CommandSpec::new("load", -3, LOADING_FLAGS, refused)
        .doc(
            Group::Server,
            "4.0.0",
            &[
                Arg::string("path"),
                Arg::string("arg").optional().multiple(),
            ],
            "Loads a module from a shared library.",
        )
        .complexity("O(1)"),
    CommandSpec::new("loadex", -3, LOADING_FLAGS, refused)
        .doc(
            Group::Server,
            "7.0.0",
            &[
                Arg::string("path"),
                Arg::block("configs", &[Arg::string("name"), Arg::string("value")])
                    .with_token("CONFIG")
                    .optional()
                    .multiple()
                    .multiple_token(),
                Arg::block("args", &[Arg::string("arg")])
                    .with_token("ARGS")
                    .optional()
                    .multiple(),
            ],
            "Loads a module with configuration values and arguments.",
        )
        .complexity("O(1)"),
    CommandSpec::new("unload", 3, LOADING_FLAGS, refused)
        .doc(
            Group::Server,
            "4.0.0",
            &[Arg::string("name")],
            "Unloads a module by name.",
        )
        .complexity("O(1)"),
];

/// `MODULE LIST` → empty array.
fn list(_ctx: &mut Ctx, _argv: &[Vec<u8>]) -> CmdResult {
    Ok(Reply::Array(Vec::new()))
}

/// Never runs: `Engine::execute` refuses protected commands first.
fn refused(_ctx: &mut Ctx, _argv: &[Vec<u8>]) -> CmdResult {
    Err(crate::error::MODULE_NOT_ALLOWED)
}

/// `MODULE HELP` → array of help lines.
fn help(_ctx: &mut Ctx, _argv: &[Vec<u8>]) -> CmdResult {
    Ok(help_reply(
        "MODULE",
        &[
            "LIST",
            "    Return a list of loaded modules.",
            "LOAD <path> [<arg> ...]",
            "    Load a module library from <path>, passing to it any optional arguments.",
            "LOADEX <path> [[CONFIG NAME VALUE] [CONFIG NAME VALUE]] [ARGS ...]",
            "    Load a module library from <path>, while passing it module configurations and optional arguments.",
            "UNLOAD <name>",
            "    Unload a module.",
        ],
    ))
}
