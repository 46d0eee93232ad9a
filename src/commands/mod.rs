//! The one command table and the dispatcher.
//!
//! Every command is a [`CommandSpec`] in its group's `COMMANDS` slice; [`table`] gathers them
//! into one lookup. The dispatcher checks existence and arity (and resolves subcommands) before a
//! handler runs, so handlers never re-check. The same table answers COMMAND, HELP, the
//! terminal's hints and tab completion.

pub mod args;
pub mod connection;
pub mod keys;
pub mod scan;
pub mod server;
pub mod strings;
pub mod transactions;
pub mod zsets;

use std::collections::HashMap;
use std::sync::OnceLock;

use crate::engine::Ctx;
use crate::error::CmdResult;

/// A command handler: `args[0]` is the command name as typed (subcommand at `args[1]`).
pub type Handler = fn(&mut Ctx, &[Vec<u8>]) -> CmdResult;

/// The description of one command (or subcommand).
#[derive(Clone, Copy)]
pub struct CommandSpec {
    /// Lower-case name (`get`; `get` for the subcommand CONFIG GET, whose full name is
    /// `config|get`).
    pub name: &'static str,
    /// Redis convention: N means exactly N arguments (name included), -N at least N.
    pub arity: i32,
    /// Redis command flags, space separated, as COMMAND INFO lists them (`write denyoom fast`).
    pub flags: &'static str,
    /// ACL categories beyond those the group and the flags imply (`dangerous`, ...).
    pub acl: &'static str,
    /// First key, last key (negative counts from the end), step; (0, 0, 0) for no keys.
    pub keys: (i32, i32, i32),
    /// Redis's command group (`string`, `generic`, `server`, `connection`, ...).
    pub group: &'static str,
    /// Redis version that introduced the command.
    pub since: &'static str,
    /// Argument syntax after the name, as the terminal hints it (`key value [NX|XX]`).
    pub syntax: &'static str,
    /// One line saying what the command does.
    pub summary: &'static str,
    /// The handler.
    pub handler: Handler,
    /// Subcommands of a container command (CONFIG, CLIENT, OBJECT ...).
    pub subcommands: &'static [CommandSpec],
}

impl CommandSpec {
    /// A command with the essentials; chain `.doc(...)`, `.acl(...)`, `.subs(...)` for the rest.
    pub const fn new(
        name: &'static str,
        arity: i32,
        flags: &'static str,
        keys: (i32, i32, i32),
        handler: Handler,
    ) -> CommandSpec {
        CommandSpec {
            name,
            arity,
            flags,
            acl: "",
            keys,
            group: "",
            since: "",
            syntax: "",
            summary: "",
            handler,
            subcommands: &[],
        }
    }

    /// Sets group, first version, argument syntax and summary.
    pub const fn doc(
        mut self,
        group: &'static str,
        since: &'static str,
        syntax: &'static str,
        summary: &'static str,
    ) -> CommandSpec {
        self.group = group;
        self.since = since;
        self.syntax = syntax;
        self.summary = summary;
        self
    }

    /// Adds ACL categories that neither the group nor the flags imply.
    pub const fn acl(mut self, acl: &'static str) -> CommandSpec {
        self.acl = acl;
        self
    }

    /// Makes this a container with the given subcommands.
    pub const fn subs(mut self, subs: &'static [CommandSpec]) -> CommandSpec {
        self.subcommands = subs;
        self
    }

    /// Whether the flags include `flag`.
    pub fn has_flag(&self, flag: &str) -> bool {
        self.flags.split(' ').any(|f| f == flag)
    }

    /// Whether `argc` arguments satisfy the arity.
    pub fn arity_ok(&self, argc: usize) -> bool {
        let argc = argc as i64;
        let a = i64::from(self.arity);
        if a >= 0 {
            argc == a
        } else {
            argc >= -a
        }
    }

    /// Finds a subcommand by name, ignoring case.
    pub fn subcommand(&self, name: &[u8]) -> Option<&'static CommandSpec> {
        self.subcommands.iter().find(|s| s.name.as_bytes().eq_ignore_ascii_case(name))
    }
}

/// Every group's commands, in the order COMMAND lists groups.
const GROUPS: &[&[CommandSpec]] = &[
    strings::COMMANDS,
    zsets::COMMANDS,
    keys::COMMANDS,
    connection::COMMANDS,
    server::COMMANDS,
    transactions::COMMANDS,
];

/// The command table, by lower-case name.
pub fn table() -> &'static HashMap<&'static str, &'static CommandSpec> {
    static TABLE: OnceLock<HashMap<&'static str, &'static CommandSpec>> = OnceLock::new();
    TABLE.get_or_init(|| {
        GROUPS
            .iter()
            .flat_map(|g| g.iter())
            .map(|c| (c.name, c))
            .collect()
    })
}

/// Every command, sorted by name.
pub fn all() -> Vec<&'static CommandSpec> {
    let mut v: Vec<_> = table().values().copied().collect();
    v.sort_by_key(|c| c.name);
    v
}

/// The container a subcommand belongs to, if `spec` is a subcommand.
pub fn parent_of(spec: &CommandSpec) -> Option<&'static CommandSpec> {
    table().values().copied().find(|c| {
        c.subcommands.iter().any(|s| std::ptr::eq(s, spec))
    })
}

/// Looks a command up by name, ignoring ASCII case.
pub fn lookup(name: &[u8]) -> Option<&'static CommandSpec> {
    if name.len() > 64 {
        return None;
    }
    let lower = String::from_utf8(name.to_ascii_lowercase()).ok()?;
    table().get(lower.as_str()).copied()
}
