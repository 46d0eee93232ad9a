//! The one command table and the dispatcher.
//!
//! Every command is a [`CommandSpec`] in its group's `COMMANDS` slice; [`table`] gathers them
//! into one lookup. The dispatcher checks existence and arity (and resolves subcommands) before a
//! handler runs, so handlers never re-check. The same table answers COMMAND, HELP, the
//! terminal's hints and tab completion.

pub mod args;
pub mod bitmaps;
pub mod blocking;
pub mod connection;
pub mod geo;
pub mod hashes;
pub mod hyperloglog;
pub mod info;
pub mod introspect;
pub mod keys;
pub mod lists;
pub mod pubsub;
pub mod scan;
pub mod server;
pub mod sets;
pub mod sort;
pub mod stream_groups;
pub mod streams;
pub mod strings;
pub mod syntax;
pub mod transactions;
pub mod xinfo;
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
    /// Command tips as COMMAND INFO lists them, space separated
    /// (`nondeterministic_output request_policy:all_shards`); empty for none.
    pub tips: &'static str,
    /// Key specifications, one string each, in the compact form `FLAGS / BEGIN / FIND [/ notes]`:
    /// FLAGS as COMMAND INFO prints them (`RW access update`), BEGIN `index N`, `keyword KW
    /// START` or `unknown`, FIND `range LASTKEY STEP LIMIT`, `keynum KEYNUMIDX FIRSTKEY STEP` or
    /// `unknown`. `tools/command_spec.py` prints them from a running redis-server.
    pub key_specs: &'static [&'static str],
    /// Time complexity for COMMAND DOCS (`O(1)`); empty when not given.
    pub complexity: &'static str,
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
            tips: "",
            key_specs: &[],
            complexity: "",
        }
    }

    /// Sets the command tips (space separated, as COMMAND INFO prints them).
    pub const fn tips(mut self, tips: &'static str) -> CommandSpec {
        self.tips = tips;
        self
    }

    /// Sets the key specifications (see [`CommandSpec::key_specs`] for the form).
    pub const fn key_specs(mut self, specs: &'static [&'static str]) -> CommandSpec {
        self.key_specs = specs;
        self
    }

    /// Sets the time complexity COMMAND DOCS reports.
    pub const fn complexity(mut self, complexity: &'static str) -> CommandSpec {
        self.complexity = complexity;
        self
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

    /// Adds ACL categories that neither the group nor the flags imply (space separated); a
    /// word with a leading `-` drops one the group would imply (SORT is in the generic group
    /// but not in `@keyspace`).
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

    /// The ACL categories COMMAND INFO lists, in Redis's category order: those the flags
    /// imply, the group's own (for a plain command or a subcommand, not for a container), and
    /// the extras of `.acl(...)`.
    pub fn acl_categories(&self) -> Vec<&'static str> {
        let mut cats: Vec<&'static str> = Vec::new();
        let extras = self
            .acl
            .split(' ')
            .filter(|w| !w.is_empty() && !w.starts_with('-'));
        let removed: Vec<&str> = self
            .acl
            .split(' ')
            .filter_map(|w| w.strip_prefix('-'))
            .collect();
        if self.subcommands.is_empty() {
            if let Some(c) = group_category(self.group) {
                if !removed.contains(&c) {
                    cats.push(c);
                }
            }
        }
        cats.extend(extras);
        let scripting = cats.contains(&"scripting");
        for (flag, cat) in [
            ("write", "write"),
            ("admin", "admin"),
            ("admin", "dangerous"),
            ("pubsub", "pubsub"),
            ("fast", "fast"),
            ("blocking", "blocking"),
        ] {
            if self.has_flag(flag) {
                cats.push(cat);
            }
        }
        if self.has_flag("readonly") && !scripting {
            cats.push("read");
        }
        if !self.has_flag("fast") {
            cats.push("slow");
        }
        ACL_ORDER
            .iter()
            .copied()
            .filter(|c| cats.contains(c))
            .collect()
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
        self.subcommands
            .iter()
            .find(|s| s.name.as_bytes().eq_ignore_ascii_case(name))
    }
}

/// ACL categories in the order Redis prints them.
pub const ACL_ORDER: &[&str] = &[
    "keyspace",
    "read",
    "write",
    "set",
    "sortedset",
    "list",
    "hash",
    "string",
    "bitmap",
    "hyperloglog",
    "geo",
    "stream",
    "pubsub",
    "admin",
    "fast",
    "slow",
    "blocking",
    "dangerous",
    "connection",
    "transaction",
    "scripting",
];

/// The ACL category a command group implies for its commands.
fn group_category(group: &str) -> Option<&'static str> {
    Some(match group {
        "generic" => "keyspace",
        "string" => "string",
        "list" => "list",
        "hash" => "hash",
        "set" => "set",
        "sorted_set" => "sortedset",
        "stream" => "stream",
        "bitmap" => "bitmap",
        "hyperloglog" => "hyperloglog",
        "geo" => "geo",
        "pubsub" => "pubsub",
        "connection" => "connection",
        "transactions" => "transaction",
        "scripting" => "scripting",
        _ => return None,
    })
}

/// Every group's commands, in the order COMMAND lists groups.
const GROUPS: &[&[CommandSpec]] = &[
    strings::COMMANDS,
    zsets::COMMANDS,
    keys::COMMANDS,
    lists::COMMANDS,
    blocking::COMMANDS,
    hashes::COMMANDS,
    connection::COMMANDS,
    server::COMMANDS,
    sets::COMMANDS,
    sort::COMMANDS,
    transactions::COMMANDS,
    pubsub::COMMANDS,
    streams::COMMANDS,
    stream_groups::COMMANDS,
    bitmaps::COMMANDS,
    hyperloglog::COMMANDS,
    geo::COMMANDS,
    xinfo::COMMANDS,
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
    table()
        .values()
        .copied()
        .find(|c| c.subcommands.iter().any(|s| std::ptr::eq(s, spec)))
}

/// Looks a command up by name, ignoring ASCII case.
pub fn lookup(name: &[u8]) -> Option<&'static CommandSpec> {
    if name.len() > 64 {
        return None;
    }
    let lower = String::from_utf8(name.to_ascii_lowercase()).ok()?;
    table().get(lower.as_str()).copied()
}
