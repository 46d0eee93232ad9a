//! The one command table and the dispatcher.
//!
//! Every command is a [`CommandSpec`] in its group's `COMMANDS` slice; [`table`] gathers them
//! into one lookup. The dispatcher checks existence and arity (and resolves subcommands) before a
//! handler runs, so handlers never re-check. The same table answers COMMAND, HELP, the
//! terminal's hints and tab completion.

pub mod acl;
pub mod arg_spec;
pub mod args;
pub mod bitmaps;
pub mod blocking;
pub mod cluster;
pub mod connection;
pub mod debug;
pub mod geo;
pub mod hashes;
pub mod hyperloglog;
pub mod info;
pub mod introspect;
pub mod keys;
pub mod latency;
pub mod lists;
pub mod lolwut;
pub mod memory;
pub mod migrate;
pub mod module;
pub mod pubsub;
pub mod replication;
pub mod scan;
pub mod scripting;
pub mod server;
pub mod sets;
pub mod slowlog;
pub mod sort;
pub mod spec;
pub mod stream_groups;
pub mod streams;
pub mod strings;
pub mod transactions;
pub mod zsets;

use std::sync::OnceLock;

pub use spec::*;

use crate::engine::Ctx;
use crate::error::CmdResult;

/// A command handler: `args[0]` is the command name as typed (subcommand at `args[1]`).
pub type Handler = fn(&mut Ctx, &[Vec<u8>]) -> CmdResult;

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
    replication::COMMANDS,
    sets::COMMANDS,
    sort::COMMANDS,
    transactions::COMMANDS,
    pubsub::COMMANDS,
    streams::COMMANDS,
    stream_groups::COMMANDS,
    bitmaps::COMMANDS,
    hyperloglog::COMMANDS,
    geo::COMMANDS,
    memory::COMMANDS,
    lolwut::COMMANDS,
    slowlog::COMMANDS,
    latency::COMMANDS,
    module::COMMANDS,
    scripting::COMMANDS,
    acl::COMMANDS,
    debug::COMMANDS,
    cluster::COMMANDS,
];

/// A command as the table knows it: its spec, its full name (`config|get` for a subcommand),
/// and its index, where its INFO commandstats are kept. The dispatcher resolves a command line
/// to one of these once and carries it.
#[derive(Debug)]
pub struct Command {
    /// The description.
    pub spec: &'static CommandSpec,
    /// `get`, or `config|get` for a subcommand.
    pub full_name: &'static str,
    /// Index in [`commands`].
    pub id: usize,
    /// The container's index, for a subcommand.
    pub parent: Option<usize>,
    /// Index of the first subcommand (the others follow in table order).
    first_sub: usize,
}

impl std::fmt::Debug for CommandSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name)
    }
}

impl Command {
    /// The subcommands of a container (none for other commands).
    pub fn subs(&self) -> &'static [Command] {
        let n = self.spec.subcommands.len();
        if n == 0 {
            return &[];
        }
        &table().commands[self.first_sub..self.first_sub + n]
    }

    /// The subcommand named `name` (any case) of this container.
    pub fn sub(&self, name: &[u8]) -> Option<&'static Command> {
        let i = self
            .spec
            .subcommands
            .iter()
            .position(|s| s.name.as_bytes().eq_ignore_ascii_case(name))?;
        Some(&table().commands[self.first_sub + i])
    }

    /// The container of a subcommand.
    pub fn parent(&self) -> Option<&'static Command> {
        self.parent.map(|p| &table().commands[p])
    }
}

/// Every command and subcommand, and the names of the top-level ones.
struct Table {
    commands: Vec<Command>,
    by_name: NameIndex,
}

/// The top-level commands by name, for [`find`], which every command line goes through: an
/// open-addressing table hashed on the name's lower-case bytes as they are read, so a lookup
/// neither copies the name nor checks it is UTF-8.
struct NameIndex {
    /// Command ids (`EMPTY` for none), a power of two of them.
    slots: Vec<u16>,
}

impl NameIndex {
    const EMPTY: u16 = u16::MAX;

    /// FNV-1a over the ASCII-lower-cased bytes.
    fn hash(name: &[u8]) -> usize {
        let mut h: u32 = 0x811c_9dc5;
        for &b in name {
            h = (h ^ u32::from(b.to_ascii_lowercase())).wrapping_mul(0x0100_0193);
        }
        h as usize
    }

    fn build(names: &[(&'static str, usize)]) -> NameIndex {
        let size = (names.len() * 4).next_power_of_two();
        let mut slots = vec![Self::EMPTY; size];
        for &(name, id) in names {
            let mut i = Self::hash(name.as_bytes()) & (size - 1);
            while slots[i] != Self::EMPTY {
                i = (i + 1) & (size - 1);
            }
            slots[i] = id as u16;
        }
        NameIndex { slots }
    }

    fn get(&self, commands: &[Command], name: &[u8]) -> Option<usize> {
        let mask = self.slots.len() - 1;
        let mut i = Self::hash(name) & mask;
        loop {
            let id = self.slots[i];
            if id == Self::EMPTY {
                return None;
            }
            // Names in the table are lower case.
            if commands[id as usize]
                .spec
                .name
                .as_bytes()
                .eq_ignore_ascii_case(name)
            {
                return Some(id as usize);
            }
            i = (i + 1) & mask;
        }
    }
}

fn table() -> &'static Table {
    static TABLE: OnceLock<Table> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut commands = Vec::new();
        let mut names = Vec::new();
        for spec in GROUPS.iter().flat_map(|g| g.iter()) {
            let id = commands.len();
            names.push((spec.name, id));
            commands.push(Command {
                spec,
                full_name: spec.name,
                id,
                parent: None,
                first_sub: 0,
            });
        }
        let top = commands.len();
        for parent in 0..top {
            let spec = commands[parent].spec;
            commands[parent].first_sub = commands.len();
            for sub in spec.subcommands {
                let id = commands.len();
                // Built once per process: the full names live as long as the table.
                let full: &'static str =
                    Box::leak(format!("{}|{}", spec.name, sub.name).into_boxed_str());
                commands.push(Command {
                    spec: sub,
                    full_name: full,
                    id,
                    parent: Some(parent),
                    first_sub: 0,
                });
            }
        }
        assert!(commands.len() < usize::from(NameIndex::EMPTY));
        let by_name = NameIndex::build(&names);
        Table { commands, by_name }
    })
}

/// Every command and subcommand, indexed by [`Command::id`].
pub fn commands() -> &'static [Command] {
    &table().commands
}

/// Looks a top-level command up by name, ignoring ASCII case, without allocating.
pub fn find(name: &[u8]) -> Option<&'static Command> {
    let t = table();
    t.by_name.get(&t.commands, name).map(|i| &t.commands[i])
}

/// Looks a command up by name, ignoring ASCII case.
pub fn lookup(name: &[u8]) -> Option<&'static CommandSpec> {
    find(name).map(|c| c.spec)
}

/// Every top-level command, sorted by name.
pub fn all() -> Vec<&'static CommandSpec> {
    let mut v: Vec<_> = table()
        .commands
        .iter()
        .filter(|c| c.parent.is_none())
        .map(|c| c.spec)
        .collect();
    v.sort_by_key(|c| c.name);
    v
}

/// The table entry of a spec (found by address).
pub fn command_of(spec: &CommandSpec) -> Option<&'static Command> {
    table().commands.iter().find(|c| std::ptr::eq(c.spec, spec))
}

/// The container a subcommand belongs to, if `spec` is a subcommand.
pub fn parent_of(spec: &CommandSpec) -> Option<&'static CommandSpec> {
    command_of(spec).and_then(Command::parent).map(|c| c.spec)
}

#[cfg(test)]
mod table_tests {
    use super::*;

    #[test]
    fn no_name_twice() {
        let mut seen = std::collections::HashSet::new();
        for c in commands() {
            assert!(seen.insert(c.full_name), "{} twice", c.full_name);
            assert_eq!(c.spec.name, c.spec.name.to_ascii_lowercase());
        }
    }

    /// The compile-time check of argument trees cannot see key specifications set before
    /// the arguments; this one does: every key argument names a specification that exists.
    #[test]
    fn key_arguments_name_existing_key_specs() {
        fn walk(args: &[arg_spec::Arg], specs: usize, name: &str) {
            for a in args {
                if let Some(i) = a.key_spec_index {
                    assert!(usize::from(i) < specs, "{name}: {} has no key spec", a.name);
                }
                walk(a.args, specs, name);
            }
        }
        for c in commands() {
            walk(c.spec.args, c.spec.key_specs.len(), c.full_name);
        }
    }

    #[test]
    fn lookup_ignores_case_and_long_names() {
        assert_eq!(find(b"GeT").map(|c| c.full_name), Some("get"));
        assert!(find(&[b'a'; 100]).is_none());
        assert!(find(b"\xff").is_none());
        let config = find(b"config").unwrap();
        assert_eq!(config.sub(b"GET").map(|c| c.full_name), Some("config|get"));
        assert_eq!(
            config.sub(b"GET").and_then(|c| c.parent()).map(|c| c.id),
            Some(config.id)
        );
    }
}
