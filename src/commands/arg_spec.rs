//! A command's arguments as typed constants: the trees COMMAND DOCS returns and the terminal's
//! hints and `help` render. Each tree is checked when the table is compiled (see
//! [`check_args`]), so a malformed one is a build error, never a wrong reply.

use crate::protocol::Reply;

/// What an argument holds (COMMAND DOCS `type`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArgType {
    /// Any string.
    String,
    /// An integer.
    Integer,
    /// A floating-point number.
    Double,
    /// A key name.
    Key,
    /// A glob-style pattern.
    Pattern,
    /// A Unix time (seconds or milliseconds).
    UnixTime,
    /// A keyword standing alone (`NX`).
    PureToken,
    /// Exactly one of the nested arguments.
    Oneof,
    /// The nested arguments, in order.
    Block,
}

impl ArgType {
    /// The name COMMAND DOCS prints.
    pub const fn name(self) -> &'static str {
        match self {
            ArgType::String => "string",
            ArgType::Integer => "integer",
            ArgType::Double => "double",
            ArgType::Key => "key",
            ArgType::Pattern => "pattern",
            ArgType::UnixTime => "unix-time",
            ArgType::PureToken => "pure-token",
            ArgType::Oneof => "oneof",
            ArgType::Block => "block",
        }
    }

    const fn nests(self) -> bool {
        matches!(self, ArgType::Oneof | ArgType::Block)
    }
}

/// Argument flags, as a bitset.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ArgFlags(u8);

/// May be left out.
pub const OPTIONAL: ArgFlags = ArgFlags(1);
/// May be repeated.
pub const MULTIPLE: ArgFlags = ArgFlags(2);
/// Repeats with its token before every value (`GET pattern [GET pattern ...]`).
pub const MULTIPLE_TOKEN: ArgFlags = ArgFlags(4);

impl ArgFlags {
    /// The printed flags, in COMMAND DOCS' order.
    pub const NAMES: &'static [(ArgFlags, &'static str)] = &[
        (OPTIONAL, "optional"),
        (MULTIPLE, "multiple"),
        (MULTIPLE_TOKEN, "multiple_token"),
    ];

    /// Whether every flag of `f` is set.
    pub const fn has(self, f: ArgFlags) -> bool {
        self.0 & f.0 == f.0
    }
}

/// One argument of a command, with its nested arguments for `oneof` and `block`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Arg {
    /// Its name (`seconds`), which hints show for a value.
    pub name: &'static str,
    /// What it holds.
    pub kind: ArgType,
    /// The keyword before the value (`EX`), or the keyword itself for a pure token.
    pub token: Option<&'static str>,
    /// Optional, multiple, multiple_token.
    pub flags: ArgFlags,
    /// The version that added it, when later than the command.
    pub since: Option<&'static str>,
    /// The version that deprecated it.
    pub deprecated_since: Option<&'static str>,
    /// The key specification describing it, for keys (and SORT's patterns, which name keys).
    pub key_spec_index: Option<u8>,
    /// Shown instead of the name in hints, when set.
    pub display: Option<&'static str>,
    /// The nested arguments of a `oneof` or `block`.
    pub args: &'static [Arg],
}

impl Arg {
    const fn of(kind: ArgType, name: &'static str) -> Arg {
        Arg {
            name,
            kind,
            token: None,
            flags: ArgFlags(0),
            since: None,
            deprecated_since: None,
            key_spec_index: None,
            display: None,
            args: &[],
        }
    }

    /// A key, described by key specification `spec`.
    pub const fn key(name: &'static str, spec: u8) -> Arg {
        Arg::of(ArgType::Key, name).key_spec(spec)
    }
    /// A string value.
    pub const fn string(name: &'static str) -> Arg {
        Arg::of(ArgType::String, name)
    }
    /// An integer value.
    pub const fn integer(name: &'static str) -> Arg {
        Arg::of(ArgType::Integer, name)
    }
    /// A floating-point value.
    pub const fn double(name: &'static str) -> Arg {
        Arg::of(ArgType::Double, name)
    }
    /// A glob-style pattern.
    pub const fn pattern(name: &'static str) -> Arg {
        Arg::of(ArgType::Pattern, name)
    }
    /// A Unix time.
    pub const fn unix_time(name: &'static str) -> Arg {
        Arg::of(ArgType::UnixTime, name)
    }
    /// A keyword standing alone.
    pub const fn token(name: &'static str, token: &'static str) -> Arg {
        Arg::of(ArgType::PureToken, name).with_token(token)
    }
    /// One of `args`.
    pub const fn oneof(name: &'static str, args: &'static [Arg]) -> Arg {
        Arg {
            args,
            ..Arg::of(ArgType::Oneof, name)
        }
    }
    /// `args` in order.
    pub const fn block(name: &'static str, args: &'static [Arg]) -> Arg {
        Arg {
            args,
            ..Arg::of(ArgType::Block, name)
        }
    }

    /// Adds the keyword written before the value (`COUNT count`).
    pub const fn with_token(mut self, token: &'static str) -> Arg {
        self.token = Some(token);
        self
    }
    /// Marks it as describing the keys of key specification `spec`.
    pub const fn key_spec(mut self, spec: u8) -> Arg {
        self.key_spec_index = Some(spec);
        self
    }
    /// May be left out.
    pub const fn optional(mut self) -> Arg {
        self.flags = ArgFlags(self.flags.0 | OPTIONAL.0);
        self
    }
    /// May be repeated.
    pub const fn multiple(mut self) -> Arg {
        self.flags = ArgFlags(self.flags.0 | MULTIPLE.0);
        self
    }
    /// Repeats with its token before every value.
    pub const fn multiple_token(mut self) -> Arg {
        self.flags = ArgFlags(self.flags.0 | MULTIPLE_TOKEN.0);
        self
    }
    /// Added in version `v`.
    pub const fn since(mut self, v: &'static str) -> Arg {
        self.since = Some(v);
        self
    }
    /// Deprecated since version `v`.
    pub const fn deprecated_since(mut self, v: &'static str) -> Arg {
        self.deprecated_since = Some(v);
        self
    }
    /// Shown as `text` in hints.
    pub const fn display(mut self, text: &'static str) -> Arg {
        self.display = Some(text);
        self
    }

    /// The argument as COMMAND DOCS describes it (a map).
    pub fn reply(&self) -> Reply {
        let b = |s: &str| Reply::bulk(s);
        let mut pairs = vec![(b("name"), b(self.name)), (b("type"), b(self.kind.name()))];
        if let Some(i) = self.key_spec_index {
            pairs.push((b("key_spec_index"), Reply::Integer(i64::from(i))));
        }
        if let Some(t) = self.token {
            pairs.push((b("token"), b(t)));
        }
        if let Some(v) = self.since {
            pairs.push((b("since"), b(v)));
        }
        if let Some(v) = self.deprecated_since {
            pairs.push((b("deprecated_since"), b(v)));
        }
        let flags: Vec<Reply> = ArgFlags::NAMES
            .iter()
            .filter(|(f, _)| self.flags.has(*f))
            .map(|(_, n)| Reply::status(n))
            .collect();
        if !flags.is_empty() {
            pairs.push((b("flags"), Reply::Set(flags)));
        }
        if self.kind.nests() {
            pairs.push((
                b("arguments"),
                Reply::Array(self.args.iter().map(Arg::reply).collect()),
            ));
        }
        Reply::Map(pairs)
    }

    /// The argument as redis-cli's help shows it: `[EX seconds|PX milliseconds]`,
    /// `key [key ...]`, `[GET pattern [GET pattern ...]]`.
    pub fn render(&self) -> String {
        let mut text = match self.kind {
            ArgType::Block => join(self.args, " "),
            ArgType::Oneof => join(self.args, "|"),
            ArgType::PureToken => String::new(),
            _ => self.display.unwrap_or(self.name).to_string(),
        };
        if self.flags.has(MULTIPLE) {
            text = match self.token {
                Some(t) if self.flags.has(MULTIPLE_TOKEN) => format!("{text} [{t} {text} ...]"),
                _ => format!("{text} [{text} ...]"),
            };
        }
        if let Some(t) = self.token {
            text = if text.is_empty() {
                t.to_string()
            } else {
                format!("{t} {text}")
            };
        }
        if self.flags.has(OPTIONAL) {
            text = format!("[{text}]");
        }
        text
    }
}

/// Renders `args` and joins them with `sep`.
pub fn join(args: &[Arg], sep: &str) -> String {
    args.iter().map(Arg::render).collect::<Vec<_>>().join(sep)
}

/// Checks a tree when the table is compiled: a pure token has its token, only `oneof` and
/// `block` nest (and never empty), every key names a key specification below `key_specs`.
/// Called from the table's `const` builders, so a failure stops the build.
pub const fn check_args(args: &[Arg], key_specs: usize) {
    let mut i = 0;
    while i < args.len() {
        let a = &args[i];
        assert!(!a.name.is_empty(), "an argument without a name");
        if matches!(a.kind, ArgType::PureToken) {
            assert!(a.token.is_some(), "a pure token without its token");
        }
        assert!(
            a.kind.nests() != a.args.is_empty(),
            "only oneof and block nest, and never empty"
        );
        if matches!(a.kind, ArgType::Key) {
            assert!(a.key_spec_index.is_some(), "a key without its key spec");
        }
        if let Some(k) = a.key_spec_index {
            assert!(
                key_specs == 0 || (k as usize) < key_specs,
                "a key_spec_index past the key specs"
            );
        }
        if a.flags.has(MULTIPLE_TOKEN) {
            assert!(a.token.is_some(), "multiple_token without a token");
        }
        check_args(a.args, key_specs);
        i += 1;
    }
}
