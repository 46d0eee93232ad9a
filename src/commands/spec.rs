//! What the command table says about one command, as typed constants: flags, group, ACL
//! categories, key specifications. Nothing here is parsed at run time, so a typo is a compile
//! error instead of a command that silently loses its keys.

use super::arg_spec::check_args;
pub use super::arg_spec::Arg;
use super::Handler;

/// Command flags, as a bitset. COMMAND INFO prints them in [`Flags::NAMES`] order; some are
/// internal and never printed (`may_replicate`), and `movablekeys` is derived from the key
/// specifications as Redis derives it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Flags(u32);

/// Changes data.
pub const WRITE: Flags = Flags(1 << 0);
/// Only reads data.
pub const READONLY: Flags = Flags(1 << 1);
/// May grow memory: refused when over `maxmemory`.
pub const DENYOOM: Flags = Flags(1 << 2);
/// Administrative: hidden from MONITOR, `@admin` and `@dangerous`.
pub const ADMIN: Flags = Flags(1 << 3);
/// Pub/sub related.
pub const PUBSUB: Flags = Flags(1 << 4);
/// Not allowed in scripts.
pub const NOSCRIPT: Flags = Flags(1 << 5);
/// May block the client.
pub const BLOCKING: Flags = Flags(1 << 6);
/// Allowed while the dataset loads.
pub const LOADING: Flags = Flags(1 << 7);
/// Allowed on a replica with stale data.
pub const STALE: Flags = Flags(1 << 8);
/// Not shown to MONITOR.
pub const SKIP_MONITOR: Flags = Flags(1 << 9);
/// Not recorded by SLOWLOG.
pub const SKIP_SLOWLOG: Flags = Flags(1 << 10);
/// Allowed on an importing slot after ASKING.
pub const ASKING: Flags = Flags(1 << 11);
/// O(1) or O(log N): `@fast`.
pub const FAST: Flags = Flags(1 << 12);
/// Allowed before authentication.
pub const NO_AUTH: Flags = Flags(1 << 13);
/// May propagate although it is not a write (PUBLISH, PFCOUNT, scripts); never printed.
pub const MAY_REPLICATE: Flags = Flags(1 << 14);
/// Keys are optional.
pub const NO_MANDATORY_KEYS: Flags = Flags(1 << 15);
/// Refused while a replica loads asynchronously.
pub const NO_ASYNC_LOADING: Flags = Flags(1 << 16);
/// Refused inside MULTI.
pub const NO_MULTI: Flags = Flags(1 << 17);
/// Key positions depend on the arguments (derived, see [`CommandSpec::flags`]).
pub const MOVABLEKEYS: Flags = Flags(1 << 18);
/// Allowed while a script is busy.
pub const ALLOW_BUSY: Flags = Flags(1 << 19);
/// Refused while `enable-protected-configs`-style protection is on; never printed.
pub const PROTECTED: Flags = Flags(1 << 20);

impl Flags {
    /// The printed flags, in the order COMMAND INFO lists them.
    pub const NAMES: &'static [(Flags, &'static str)] = &[
        (WRITE, "write"),
        (READONLY, "readonly"),
        (DENYOOM, "denyoom"),
        (ADMIN, "admin"),
        (PUBSUB, "pubsub"),
        (NOSCRIPT, "noscript"),
        (BLOCKING, "blocking"),
        (LOADING, "loading"),
        (STALE, "stale"),
        (SKIP_MONITOR, "skip_monitor"),
        (SKIP_SLOWLOG, "skip_slowlog"),
        (ASKING, "asking"),
        (FAST, "fast"),
        (NO_AUTH, "no_auth"),
        (NO_MANDATORY_KEYS, "no_mandatory_keys"),
        (NO_ASYNC_LOADING, "no_async_loading"),
        (NO_MULTI, "no_multi"),
        (MOVABLEKEYS, "movablekeys"),
        (ALLOW_BUSY, "allow_busy"),
    ];

    /// The union of `list`.
    pub const fn of(list: &[Flags]) -> Flags {
        let mut bits = 0;
        let mut i = 0;
        while i < list.len() {
            bits |= list[i].0;
            i += 1;
        }
        Flags(bits)
    }

    /// Whether every flag of `f` is set.
    pub const fn has(self, f: Flags) -> bool {
        self.0 & f.0 == f.0
    }

    /// These flags and `f`.
    pub const fn with(self, f: Flags) -> Flags {
        Flags(self.0 | f.0)
    }

    /// The printed names of the flags set, in COMMAND INFO's order.
    pub fn names(self) -> impl Iterator<Item = &'static str> {
        Flags::NAMES
            .iter()
            .filter(move |(f, _)| self.has(*f))
            .map(|(_, n)| *n)
    }
}

/// Redis's command groups (COMMAND DOCS `group`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Group {
    /// Commands on keys of any type.
    #[default]
    Generic,
    /// Strings.
    String,
    /// Lists.
    List,
    /// Sets.
    Set,
    /// Sorted sets.
    SortedSet,
    /// Hashes.
    Hash,
    /// Pub/sub.
    Pubsub,
    /// MULTI/EXEC/WATCH.
    Transactions,
    /// Connection state.
    Connection,
    /// Server administration.
    Server,
    /// Lua scripts and functions.
    Scripting,
    /// HyperLogLog.
    Hyperloglog,
    /// Cluster.
    Cluster,
    /// Sentinel.
    Sentinel,
    /// Geospatial indexes.
    Geo,
    /// Streams.
    Stream,
    /// Bit operations on strings.
    Bitmap,
}

impl Group {
    /// The name COMMAND DOCS prints (`sorted-set`).
    pub const fn name(self) -> &'static str {
        match self {
            Group::Generic => "generic",
            Group::String => "string",
            Group::List => "list",
            Group::Set => "set",
            Group::SortedSet => "sorted-set",
            Group::Hash => "hash",
            Group::Pubsub => "pubsub",
            Group::Transactions => "transactions",
            Group::Connection => "connection",
            Group::Server => "server",
            Group::Scripting => "scripting",
            Group::Hyperloglog => "hyperloglog",
            Group::Cluster => "cluster",
            Group::Sentinel => "sentinel",
            Group::Geo => "geo",
            Group::Stream => "stream",
            Group::Bitmap => "bitmap",
        }
    }

    /// The ACL category the group implies for its commands, if any.
    pub const fn category(self) -> Option<Acl> {
        Some(match self {
            Group::Generic => Acl::Keyspace,
            Group::String => Acl::String,
            Group::List => Acl::List,
            Group::Set => Acl::Set,
            Group::SortedSet => Acl::Sortedset,
            Group::Hash => Acl::Hash,
            Group::Pubsub => Acl::Pubsub,
            Group::Transactions => Acl::Transaction,
            Group::Connection => Acl::Connection,
            Group::Scripting => Acl::Scripting,
            Group::Hyperloglog => Acl::Hyperloglog,
            Group::Geo => Acl::Geo,
            Group::Stream => Acl::Stream,
            Group::Bitmap => Acl::Bitmap,
            Group::Server | Group::Cluster | Group::Sentinel => return None,
        })
    }

    /// Every group, in `help @<group>` order.
    pub const ALL: &'static [Group] = &[
        Group::Generic,
        Group::String,
        Group::List,
        Group::Set,
        Group::SortedSet,
        Group::Hash,
        Group::Pubsub,
        Group::Transactions,
        Group::Connection,
        Group::Server,
        Group::Scripting,
        Group::Hyperloglog,
        Group::Cluster,
        Group::Sentinel,
        Group::Geo,
        Group::Stream,
        Group::Bitmap,
    ];
}

/// ACL categories, in the order Redis prints them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Acl {
    /// `@keyspace`
    Keyspace,
    /// `@read`
    Read,
    /// `@write`
    Write,
    /// `@set`
    Set,
    /// `@sortedset`
    Sortedset,
    /// `@list`
    List,
    /// `@hash`
    Hash,
    /// `@string`
    String,
    /// `@bitmap`
    Bitmap,
    /// `@hyperloglog`
    Hyperloglog,
    /// `@geo`
    Geo,
    /// `@stream`
    Stream,
    /// `@pubsub`
    Pubsub,
    /// `@admin`
    Admin,
    /// `@fast`
    Fast,
    /// `@slow`
    Slow,
    /// `@blocking`
    Blocking,
    /// `@dangerous`
    Dangerous,
    /// `@connection`
    Connection,
    /// `@transaction`
    Transaction,
    /// `@scripting`
    Scripting,
}

impl Acl {
    /// Every category, in Redis's order.
    pub const ALL: &'static [Acl] = &[
        Acl::Keyspace,
        Acl::Read,
        Acl::Write,
        Acl::Set,
        Acl::Sortedset,
        Acl::List,
        Acl::Hash,
        Acl::String,
        Acl::Bitmap,
        Acl::Hyperloglog,
        Acl::Geo,
        Acl::Stream,
        Acl::Pubsub,
        Acl::Admin,
        Acl::Fast,
        Acl::Slow,
        Acl::Blocking,
        Acl::Dangerous,
        Acl::Connection,
        Acl::Transaction,
        Acl::Scripting,
    ];

    /// The category's name without the `@`.
    pub const fn name(self) -> &'static str {
        match self {
            Acl::Keyspace => "keyspace",
            Acl::Read => "read",
            Acl::Write => "write",
            Acl::Set => "set",
            Acl::Sortedset => "sortedset",
            Acl::List => "list",
            Acl::Hash => "hash",
            Acl::String => "string",
            Acl::Bitmap => "bitmap",
            Acl::Hyperloglog => "hyperloglog",
            Acl::Geo => "geo",
            Acl::Stream => "stream",
            Acl::Pubsub => "pubsub",
            Acl::Admin => "admin",
            Acl::Fast => "fast",
            Acl::Slow => "slow",
            Acl::Blocking => "blocking",
            Acl::Dangerous => "dangerous",
            Acl::Connection => "connection",
            Acl::Transaction => "transaction",
            Acl::Scripting => "scripting",
        }
    }

    const fn bit(self) -> u32 {
        1 << self as u32
    }

    /// The bitset of `list`.
    pub const fn set_of(list: &[Acl]) -> u32 {
        let mut bits = 0;
        let mut i = 0;
        while i < list.len() {
            bits |= list[i].bit();
            i += 1;
        }
        bits
    }
}

/// Key specification flags, as a bitset printed in [`KeyFlags::NAMES`] order.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct KeyFlags(u16);

/// Read-write: the command reads and changes the key.
pub const RW: KeyFlags = KeyFlags(1 << 0);
/// Read-only.
pub const RO: KeyFlags = KeyFlags(1 << 1);
/// Overwrite: the key's old value is not read.
pub const OW: KeyFlags = KeyFlags(1 << 2);
/// Remove: the key is deleted.
pub const RM: KeyFlags = KeyFlags(1 << 3);
/// The user's data is read (returned, copied).
pub const ACCESS: KeyFlags = KeyFlags(1 << 4);
/// Existing data is changed.
pub const UPDATE: KeyFlags = KeyFlags(1 << 5);
/// Data is added.
pub const INSERT: KeyFlags = KeyFlags(1 << 6);
/// Data is removed.
pub const DELETE: KeyFlags = KeyFlags(1 << 7);
/// Not a key (a shard channel), but treated as one for slots.
pub const NOT_KEY: KeyFlags = KeyFlags(1 << 8);
/// The spec may miss keys.
pub const INCOMPLETE: KeyFlags = KeyFlags(1 << 9);
/// The flags depend on the arguments.
pub const VARIABLE_FLAGS: KeyFlags = KeyFlags(1 << 10);

impl KeyFlags {
    /// Names in COMMAND INFO's order.
    pub const NAMES: &'static [(KeyFlags, &'static str)] = &[
        (RO, "RO"),
        (RW, "RW"),
        (OW, "OW"),
        (RM, "RM"),
        (ACCESS, "access"),
        (UPDATE, "update"),
        (INSERT, "insert"),
        (DELETE, "delete"),
        (NOT_KEY, "not_key"),
        (INCOMPLETE, "incomplete"),
        (VARIABLE_FLAGS, "variable_flags"),
    ];

    /// Whether every flag of `f` is set.
    pub const fn has(self, f: KeyFlags) -> bool {
        self.0 & f.0 == f.0
    }

    /// The printed names of the flags set.
    pub fn names(self) -> impl Iterator<Item = &'static str> {
        KeyFlags::NAMES
            .iter()
            .filter(move |(f, _)| self.has(*f))
            .map(|(_, n)| *n)
    }
}

/// Where the search for a spec's keys begins.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Begin {
    /// At a fixed argument index.
    Index(i32),
    /// After `keyword`, searched from `from` (negative: backwards from the end).
    Keyword(&'static str, i32),
    /// Unknown (the command computes its keys itself).
    Unknown,
}

/// How the keys are found from where the search began.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Find {
    /// `last` (relative to the first key; negative counts from the end), every `step`-th;
    /// `limit` > 1 stops at 1/limit of the remaining arguments.
    Range {
        /// The last key, relative.
        last: i32,
        /// Distance between keys.
        step: i32,
        /// Fraction of the remaining arguments that are keys.
        limit: i32,
    },
    /// A count of keys at `idx` (relative to the begin), the first key at `first` after it.
    Keynum {
        /// Where the count is, relative to the begin.
        idx: i32,
        /// Where the first key is, relative to the begin.
        first: i32,
        /// Distance between keys.
        step: i32,
    },
    /// Unknown.
    Unknown,
}

/// `index(n)`: a [`Begin::Index`].
pub const fn index(n: i32) -> Begin {
    Begin::Index(n)
}

/// `keyword(kw, from)`: a [`Begin::Keyword`].
pub const fn keyword(kw: &'static str, from: i32) -> Begin {
    Begin::Keyword(kw, from)
}

/// `range(last, step, limit)`: a [`Find::Range`].
pub const fn range(last: i32, step: i32, limit: i32) -> Find {
    Find::Range { last, step, limit }
}

/// `keynum(idx, first, step)`: a [`Find::Keynum`].
pub const fn keynum(idx: i32, first: i32, step: i32) -> Find {
    Find::Keynum { idx, first, step }
}

/// One key specification: its flags, where the keys start and how they are found.
#[derive(Clone, Copy, Debug)]
pub struct KeySpec {
    /// Access flags.
    pub flags: KeyFlags,
    /// Where the search begins.
    pub begin: Begin,
    /// How the keys are found.
    pub find: Find,
    /// Redis's notes on the spec (COMMAND INFO `notes`); empty for none.
    pub notes: &'static str,
}

impl KeySpec {
    /// A key spec with `flags`, `begin` and `find`.
    pub const fn new(flags: &[KeyFlags], begin: Begin, find: Find) -> KeySpec {
        let mut bits = 0;
        let mut i = 0;
        while i < flags.len() {
            bits |= flags[i].0;
            i += 1;
        }
        KeySpec {
            flags: KeyFlags(bits),
            begin,
            find,
            notes: "",
        }
    }

    /// Adds Redis's notes.
    pub const fn notes(mut self, notes: &'static str) -> KeySpec {
        self.notes = notes;
        self
    }
}

/// A command's own key finder: appends (position, flags) of the keys its specifications
/// leave unknown.
pub type GetKeys = fn(&[Vec<u8>], &mut Vec<(usize, KeyFlags)>);

/// The description of one command (or subcommand).
#[derive(Clone, Copy)]
pub struct CommandSpec {
    /// Lower-case name (`get`; `get` for the subcommand CONFIG GET, whose full name is
    /// `config|get`).
    pub name: &'static str,
    /// Redis convention: N means exactly N arguments (name included), -N at least N.
    pub arity: i32,
    /// Flags as written in the table; [`CommandSpec::flags`] adds the derived ones.
    pub declared_flags: Flags,
    /// ACL categories beyond those the group and the flags imply.
    pub acl_extra: u32,
    /// Categories the group would imply but the command is not in (SORT is generic but not
    /// `@keyspace`).
    pub acl_removed: u32,
    /// Redis's command group.
    pub group: Group,
    /// Redis version that introduced the command.
    pub since: &'static str,
    /// The arguments after the name, as COMMAND DOCS describes them; hints and help render
    /// them.
    pub args: &'static [Arg],
    /// One line saying what the command does.
    pub summary: &'static str,
    /// The handler.
    pub handler: Handler,
    /// Subcommands of a container command (CONFIG, CLIENT, OBJECT ...).
    pub subcommands: &'static [CommandSpec],
    /// Command tips as COMMAND INFO lists them (`nondeterministic_output`).
    pub tips: &'static [&'static str],
    /// Key specifications.
    pub key_specs: &'static [KeySpec],
    /// Time complexity for COMMAND DOCS (`O(1)`); empty when not given.
    pub complexity: &'static str,
    /// Finds keys the specifications cannot describe (Redis's getkeys procedure: SORT's
    /// STORE destination); appends (position, flags).
    pub getkeys: Option<GetKeys>,
}

impl CommandSpec {
    /// A command with the essentials; chain `.doc(...)`, `.acl(...)`, `.subs(...)` for the rest.
    pub const fn new(
        name: &'static str,
        arity: i32,
        flags: &[Flags],
        handler: Handler,
    ) -> CommandSpec {
        CommandSpec {
            name,
            arity,
            declared_flags: Flags::of(flags),
            acl_extra: 0,
            acl_removed: 0,
            group: Group::Generic,
            since: "",
            args: &[],
            summary: "",
            handler,
            subcommands: &[],
            tips: &[],
            key_specs: &[],
            complexity: "",
            getkeys: None,
        }
    }

    /// Sets the command tips.
    pub const fn tips(mut self, tips: &'static [&'static str]) -> CommandSpec {
        self.tips = tips;
        self
    }

    /// Sets the key specifications.
    pub const fn key_specs(mut self, specs: &'static [KeySpec]) -> CommandSpec {
        self.key_specs = specs;
        check_args(self.args, specs.len());
        self
    }

    /// Sets the procedure that finds the keys the specifications leave unknown.
    pub const fn getkeys(mut self, f: GetKeys) -> CommandSpec {
        self.getkeys = Some(f);
        self
    }

    /// Sets the time complexity COMMAND DOCS reports.
    pub const fn complexity(mut self, complexity: &'static str) -> CommandSpec {
        self.complexity = complexity;
        self
    }

    /// Sets group, first version, arguments and summary.
    pub const fn doc(
        mut self,
        group: Group,
        since: &'static str,
        args: &'static [Arg],
        summary: &'static str,
    ) -> CommandSpec {
        check_args(args, self.key_specs.len());
        self.group = group;
        self.since = since;
        self.args = args;
        self.summary = summary;
        self
    }

    /// Adds ACL categories that neither the group nor the flags imply.
    pub const fn acl(mut self, extra: &[Acl]) -> CommandSpec {
        self.acl_extra |= Acl::set_of(extra);
        self
    }

    /// Drops categories the group would imply.
    pub const fn acl_not(mut self, removed: &[Acl]) -> CommandSpec {
        self.acl_removed |= Acl::set_of(removed);
        self
    }

    /// Makes this a container with the given subcommands.
    pub const fn subs(mut self, subs: &'static [CommandSpec]) -> CommandSpec {
        self.subcommands = subs;
        self
    }

    /// The command's flags: those declared, plus `movablekeys` when its key specifications
    /// cannot be described by one first/last/step range (Redis derives it the same way).
    pub const fn flags(&self) -> Flags {
        if self.legacy_range().1 {
            self.declared_flags.with(MOVABLEKEYS)
        } else {
            self.declared_flags
        }
    }

    /// Whether the command has flag `f`. Only `movablekeys` is derived (from the key
    /// specifications): every command asks for other flags, and they are read as declared.
    pub const fn has(&self, f: Flags) -> bool {
        if self.declared_flags.has(f) {
            return true;
        }
        f.0 & MOVABLEKEYS.0 != 0 && self.flags().has(f)
    }

    /// Whether the command may change data or propagate: a write, or flagged
    /// `may_replicate` (what CLIENT PAUSE WRITE holds).
    pub const fn may_replicate(&self) -> bool {
        self.declared_flags.has(WRITE) || self.declared_flags.has(MAY_REPLICATE)
    }

    /// First key, last key and step as COMMAND INFO's legacy fields report them, derived from
    /// the key specifications as Redis does; and whether keys lie outside that range
    /// (`movablekeys`).
    pub const fn legacy_range(&self) -> ((i32, i32, i32), bool) {
        let specs = self.key_specs;
        if specs.is_empty() {
            return ((0, 0, 0), false);
        }
        if specs.len() == 1 {
            if let (Begin::Index(pos), Find::Range { last, step, .. }) =
                (specs[0].begin, specs[0].find)
            {
                let abs = if last >= 0 { last + pos } else { last };
                return ((pos, abs, step), specs[0].flags.has(INCOMPLETE));
            }
        }
        let mut movable = false;
        let mut first = i32::MAX;
        let mut lastkey: i32 = 0;
        let mut prev_last: i32 = 0;
        let mut i = 0;
        while i < specs.len() {
            let s = specs[i];
            i += 1;
            let (pos, last, step) = match (s.begin, s.find) {
                (Begin::Index(pos), Find::Range { last, step, .. }) => (pos, last, step),
                _ => {
                    movable = true;
                    continue;
                }
            };
            if step != 1 || (prev_last != 0 && prev_last != pos - 1) {
                movable = true;
                continue;
            }
            if s.flags.has(INCOMPLETE) {
                movable = true;
            }
            if pos < first {
                first = pos;
            }
            let abs = if last >= 0 { last + pos } else { last };
            // Compared as unsigned, as Redis does: a negative (from the end) last key wins.
            if (abs as u32) > (lastkey as u32) {
                lastkey = abs;
            }
            prev_last = lastkey;
        }
        if first == i32::MAX {
            return ((0, 0, 0), true);
        }
        ((first, lastkey, 1), movable)
    }

    /// The ACL categories COMMAND INFO lists, in Redis's category order: the group's own (for
    /// a plain command or a subcommand, not for a container), the extras, and those the flags
    /// imply.
    pub fn acl_categories(&self) -> impl Iterator<Item = Acl> {
        let mut bits = self.acl_extra;
        if self.subcommands.is_empty() {
            if let Some(c) = self.group.category() {
                bits |= Acl::set_of(&[c]) & !self.acl_removed;
            }
        }
        let f = self.declared_flags;
        let implied = [
            (WRITE, Acl::Write),
            (ADMIN, Acl::Admin),
            (ADMIN, Acl::Dangerous),
            (PUBSUB, Acl::Pubsub),
            (FAST, Acl::Fast),
            (BLOCKING, Acl::Blocking),
        ];
        for (flag, cat) in implied {
            if f.has(flag) {
                bits |= Acl::set_of(&[cat]);
            }
        }
        if f.has(READONLY) && bits & Acl::set_of(&[Acl::Scripting]) == 0 {
            bits |= Acl::set_of(&[Acl::Read]);
        }
        if !f.has(FAST) {
            bits |= Acl::set_of(&[Acl::Slow]);
        }
        Acl::ALL
            .iter()
            .copied()
            .filter(move |c| bits & Acl::set_of(&[*c]) != 0)
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

/// The access flags of a key whose spec says `variable_flags`: they depend on the arguments
/// (SET with or without GET, BITFIELD with or without writing operations).
fn variable_flags(name: &str, line: &[Vec<u8>]) -> Option<KeyFlags> {
    let is = |a: &[u8], w: &str| a.eq_ignore_ascii_case(w.as_bytes());
    let of = |f: &[KeyFlags]| KeySpec::new(f, Begin::Unknown, Find::Unknown).flags;
    match name {
        "set" => Some(if line.iter().skip(3).any(|a| is(a, "get")) {
            of(&[RW, ACCESS, UPDATE])
        } else {
            of(&[OW, UPDATE])
        }),
        "bitfield" => {
            let mut i = 2;
            while i < line.len() {
                let rest = line.len() - i - 1;
                let a = &line[i];
                if is(a, "get") && rest >= 2 {
                    i += 3;
                } else if (is(a, "set") || is(a, "incrby")) && rest >= 3 {
                    return Some(of(&[RW, ACCESS, UPDATE]));
                } else if is(a, "overflow") && rest >= 1 {
                    i += 2;
                } else {
                    break;
                }
            }
            Some(of(&[RO, ACCESS]))
        }
        _ => None,
    }
}

impl CommandSpec {
    /// Positions (in `line`, the command name at 0) and access flags of the keys a full
    /// command line names, found by walking the key specifications. None when a key count
    /// argument is not a positive number that fits the line.
    pub fn key_positions(&self, line: &[Vec<u8>]) -> Option<Vec<(usize, KeyFlags)>> {
        let argc = line.len() as i64;
        let is = |a: &[u8], w: &str| a.eq_ignore_ascii_case(w.as_bytes());
        let mut out = Vec::new();
        for spec in self.key_specs {
            let first = match spec.begin {
                Begin::Index(i) => {
                    let i = i64::from(i);
                    if i >= argc {
                        continue;
                    }
                    i
                }
                Begin::Keyword(kw, from) => {
                    let from = i64::from(from);
                    let found = if from >= 0 {
                        (from.max(1)..argc).find(|&i| is(&line[i as usize], kw))
                    } else {
                        (1..=(argc + from))
                            .rev()
                            .find(|&i| is(&line[i as usize], kw))
                    };
                    match found {
                        Some(i) => i + 1,
                        None => continue,
                    }
                }
                Begin::Unknown => continue,
            };
            let (first, last, step) = match spec.find {
                Find::Range { last, step, limit } => {
                    let (last, limit) = (i64::from(last), i64::from(limit));
                    let end = if last >= 0 {
                        first + last
                    } else if limit <= 1 {
                        argc + last
                    } else {
                        first + ((argc - first) / limit + last)
                    };
                    (first, end, i64::from(step).max(1))
                }
                Find::Keynum {
                    idx,
                    first: fk,
                    step,
                } => {
                    let at = usize::try_from(first + i64::from(idx)).ok()?;
                    let n = crate::util::parse_i64(line.get(at)?)?;
                    let start = first + i64::from(fk);
                    let step = i64::from(step).max(1);
                    if n < 1 {
                        return None;
                    }
                    let end = (n - 1)
                        .checked_mul(step)
                        .and_then(|span| start.checked_add(span));
                    match end {
                        Some(end) if end < argc => (start, end, step),
                        _ => return None,
                    }
                }
                Find::Unknown => continue,
            };
            if spec.flags.has(INCOMPLETE) {
                if let Some(getkeys) = self.getkeys {
                    // A spec that found keys but cannot tell them all (MIGRATE's KEYS): the
                    // command's own procedure names every key instead, as in Redis.
                    out.clear();
                    getkeys(line, &mut out);
                    return (!out.is_empty()).then_some(out);
                }
            }
            let mut flags = spec.flags;
            if flags.has(VARIABLE_FLAGS) {
                flags = variable_flags(self.name, line).unwrap_or(flags);
            }
            let mut i = first;
            while i <= last && i < argc {
                out.push((i as usize, flags));
                i += step;
            }
        }
        // Keys the specifications leave unknown (SORT's STORE) come from the procedure.
        if let Some(getkeys) = self.getkeys {
            if self
                .key_specs
                .iter()
                .any(|s| matches!(s.begin, Begin::Unknown))
            {
                getkeys(line, &mut out);
            }
        }
        Some(out)
    }
}
