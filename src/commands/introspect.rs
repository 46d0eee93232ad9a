//! COMMAND and its subcommands: descriptions generated from the command table, and the key
//! positions of a full command line (GETKEYS) computed from its key specifications.

use super::server::help_reply;
use super::spec::*;
use super::{all, args};
use crate::engine::Ctx;
use crate::engine::Renames;
use crate::error::{self, CmdError, CmdResult};
use crate::protocol::Reply;
use crate::util::glob::glob_match;

/// COMMAND's subcommands.
pub const SUBCOMMANDS: &[CommandSpec] = &[
    CommandSpec::new("count", 2, &[LOADING, STALE], count)
        .doc(
            Group::Server,
            "2.8.13",
            &[],
            "Counts the commands this server knows.",
        )
        .acl(&[Acl::Connection])
        .complexity("O(1)"),
    CommandSpec::new("docs", -2, &[LOADING, STALE], docs)
        .doc(
            Group::Server,
            "7.0.0",
            &[Arg::string("command-name").optional().multiple()],
            "Describes commands for people: summary, version, arguments.",
        )
        .acl(&[Acl::Connection])
        .tips(&["nondeterministic_output_order"])
        .complexity("O(N), N being the commands asked about."),
    CommandSpec::new("getkeys", -4, &[LOADING, STALE], getkeys)
        .doc(
            Group::Server,
            "2.8.13",
            &[],
            "Lists the keys a full command line names.",
        )
        .acl(&[Acl::Connection])
        .complexity("O(N), N being the arguments of the command line given."),
    CommandSpec::new("getkeysandflags", -4, &[LOADING, STALE], getkeysandflags)
        .doc(
            Group::Server,
            "7.0.0",
            &[],
            "Lists the keys a full command line names, each with its access flags.",
        )
        .acl(&[Acl::Connection])
        .complexity("O(N), N being the arguments of the command line given."),
    CommandSpec::new("help", 2, &[LOADING, STALE], help)
        .doc(
            Group::Server,
            "5.0.0",
            &[],
            "Lists the COMMAND subcommands.",
        )
        .acl(&[Acl::Connection])
        .complexity("O(1)"),
    CommandSpec::new("info", -2, &[LOADING, STALE], info)
        .doc(
            Group::Server,
            "2.8.13",
            &[Arg::string("command-name").optional().multiple()],
            "Describes commands for clients: arity, flags, keys.",
        )
        .acl(&[Acl::Connection])
        .tips(&["nondeterministic_output_order"])
        .complexity("O(N), N being the commands asked about."),
    CommandSpec::new("list", -2, &[LOADING, STALE], list)
        .doc(
            Group::Server,
            "7.0.0",
            &[Arg::oneof(
                "filterby",
                &[
                    Arg::string("module-name").with_token("MODULE"),
                    Arg::string("category").with_token("ACLCAT"),
                    Arg::pattern("pattern").with_token("PATTERN"),
                ],
            )
            .with_token("FILTERBY")
            .optional()],
            "Lists command names, optionally filtered.",
        )
        .acl(&[Acl::Connection])
        .tips(&["nondeterministic_output_order"])
        .complexity("O(N), N being the number of commands the server knows."),
];

/// Every top-level command the server has: those renamed to "" are gone, those renamed to
/// another name keep their own (Redis lists `cmd->fullname`).
fn present(renames: &Renames) -> Vec<&'static CommandSpec> {
    let mut v = all();
    v.retain(|c| !renames.removed(c));
    v
}

/// A top-level command by the name clients call it by (a renamed one by its new name only).
fn lookup(renames: &Renames, name: &[u8]) -> Option<&'static CommandSpec> {
    renames.find(name).map(|c| c.spec)
}

/// Every command with its full name (`config|get` for subcommands), containers first.
fn every_name(renames: &Renames) -> Vec<(String, &'static CommandSpec)> {
    let mut out = Vec::new();
    for c in present(renames) {
        out.push((c.name.to_string(), c));
        for s in c.subcommands {
            out.push((format!("{}|{}", c.name, s.name), s));
        }
    }
    out
}

/// Finds a command by name or `container|sub`, ignoring case.
fn find(renames: &Renames, name: &[u8]) -> Option<(String, &'static CommandSpec)> {
    match name.iter().position(|&c| c == b'|') {
        None => lookup(renames, name).map(|c| (c.name.to_string(), c)),
        Some(i) => {
            let parent = lookup(renames, &name[..i])?;
            let sub = parent.subcommand(&name[i + 1..])?;
            Some((format!("{}|{}", parent.name, sub.name), sub))
        }
    }
}

/// `COMMAND` → array of every command's description (as COMMAND INFO gives it).
pub fn command(ctx: &mut Ctx, _argv: &[Vec<u8>]) -> CmdResult {
    Ok(Reply::Array(
        present(&ctx.eng.renames)
            .into_iter()
            .map(|c| describe(c.name, c))
            .collect(),
    ))
}

/// `COMMAND COUNT` → integer: number of (top-level) commands.
fn count(ctx: &mut Ctx, _argv: &[Vec<u8>]) -> CmdResult {
    Ok(Reply::int(present(&ctx.eng.renames).len()))
}

/// `COMMAND INFO [command-name ...]` → array with one description per name (nil for unknown
/// names); every command when no name is given.
fn info(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    if argv.len() == 2 {
        return command(ctx, argv);
    }
    Ok(Reply::Array(
        argv[2..]
            .iter()
            .map(|n| find(&ctx.eng.renames, n).map_or(Reply::Nil, |(full, c)| describe(&full, c)))
            .collect(),
    ))
}

/// The 10-element description of a command: name, arity, flags, first key, last key, step,
/// ACL categories, tips, key specifications, subcommands.
pub fn describe(full_name: &str, c: &CommandSpec) -> Reply {
    let parent = full_name.split('|').next().unwrap_or(full_name);
    let ((first, last, step), _) = c.legacy_range();
    Reply::Array(vec![
        Reply::bulk(full_name),
        Reply::Integer(i64::from(c.arity)),
        Reply::Set(c.flags().names().map(|w| Reply::Status(w.into())).collect()),
        Reply::Integer(i64::from(first)),
        Reply::Integer(i64::from(last)),
        Reply::Integer(i64::from(step)),
        Reply::Set(
            c.acl_categories()
                .map(|a| Reply::Status(format!("@{}", a.name()).into()))
                .collect(),
        ),
        Reply::Set(c.tips.iter().map(Reply::bulk).collect()),
        Reply::Set(c.key_specs.iter().map(key_spec_reply).collect()),
        // Redis sends an empty set when there are no subcommands, an array otherwise.
        if c.subcommands.is_empty() {
            Reply::Set(Vec::new())
        } else {
            Reply::Array(
                c.subcommands
                    .iter()
                    .map(|s| describe(&format!("{}|{}", parent, s.name), s))
                    .collect(),
            )
        },
    ])
}

fn key_spec_reply(spec: &KeySpec) -> Reply {
    let b = |s: &str| Reply::bulk(s);
    let int = |n: i32| Reply::Integer(i64::from(n));
    let mut pairs = Vec::new();
    if !spec.notes.is_empty() {
        pairs.push((b("notes"), b(spec.notes)));
    }
    pairs.push((
        b("flags"),
        Reply::Set(
            spec.flags
                .names()
                .map(|f| Reply::Status(f.into()))
                .collect(),
        ),
    ));
    let (btype, bspec) = match spec.begin {
        Begin::Index(i) => ("index", vec![(b("index"), int(i))]),
        Begin::Keyword(kw, from) => (
            "keyword",
            vec![(b("keyword"), b(kw)), (b("startfrom"), int(from))],
        ),
        Begin::Unknown => ("unknown", vec![]),
    };
    pairs.push((
        b("begin_search"),
        Reply::Map(vec![(b("type"), b(btype)), (b("spec"), Reply::Map(bspec))]),
    ));
    let (ftype, fspec) = match spec.find {
        Find::Range { last, step, limit } => (
            "range",
            vec![
                (b("lastkey"), int(last)),
                (b("keystep"), int(step)),
                (b("limit"), int(limit)),
            ],
        ),
        Find::Keynum { idx, first, step } => (
            "keynum",
            vec![
                (b("keynumidx"), int(idx)),
                (b("firstkey"), int(first)),
                (b("keystep"), int(step)),
            ],
        ),
        Find::Unknown => ("unknown", vec![]),
    };
    pairs.push((
        b("find_keys"),
        Reply::Map(vec![(b("type"), b(ftype)), (b("spec"), Reply::Map(fspec))]),
    ));
    Reply::Map(pairs)
}

/// `COMMAND DOCS [command-name ...]` → map of command name to its documentation: summary,
/// since, group, complexity, arguments (from the table's argument trees), subcommands. Unknown names are
/// left out.
fn docs(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    let renames = &ctx.eng.renames;
    let chosen: Vec<(String, &'static CommandSpec)> = if argv.len() == 2 {
        present(renames)
            .into_iter()
            .map(|c| (c.name.to_string(), c))
            .collect()
    } else {
        argv[2..].iter().filter_map(|n| find(renames, n)).collect()
    };
    Ok(Reply::Map(
        chosen
            .iter()
            .map(|(name, c)| (Reply::bulk(name), doc_reply(name, c)))
            .collect(),
    ))
}

fn doc_reply(full_name: &str, c: &CommandSpec) -> Reply {
    let b = |s: &str| Reply::bulk(s);
    let mut pairs = vec![
        (b("summary"), b(c.summary)),
        (b("since"), b(c.since)),
        (b("group"), b(c.group.name())),
    ];
    if !c.complexity.is_empty() {
        pairs.push((b("complexity"), b(c.complexity)));
    }
    if !c.args.is_empty() {
        pairs.push((
            b("arguments"),
            Reply::Array(c.args.iter().map(|a| a.reply()).collect()),
        ));
    }
    if !c.subcommands.is_empty() {
        let parent = full_name.split('|').next().unwrap_or(full_name);
        pairs.push((
            b("subcommands"),
            Reply::Map(
                c.subcommands
                    .iter()
                    .map(|s| {
                        let name = format!("{}|{}", parent, s.name);
                        (b(&name), doc_reply(&name, s))
                    })
                    .collect(),
            ),
        ));
    }
    Reply::Map(pairs)
}

/// A COMMAND LIST filter over a full command name and its entry.
type NameFilter = dyn Fn(&str, &CommandSpec) -> bool;

/// `COMMAND LIST [FILTERBY MODULE m|ACLCAT c|PATTERN p]` → array of command names,
/// subcommands included (`config|get`).
fn list(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    let names = every_name(&ctx.eng.renames);
    let keep: Box<NameFilter> = match &argv[2..] {
        [] => Box::new(|_, _| true),
        [f, kind, value] if args::is(f, "filterby") => {
            let value = value.clone();
            if args::is(kind, "module") {
                // No modules are loaded, so no command belongs to one.
                Box::new(|_, _| false)
            } else if args::is(kind, "aclcat") {
                Box::new(move |_, c| {
                    c.acl_categories()
                        .any(|a| a.name().as_bytes().eq_ignore_ascii_case(&value))
                })
            } else if args::is(kind, "pattern") {
                Box::new(move |name, _| glob_match(&value, name.as_bytes(), true))
            } else {
                return Err(error::SYNTAX);
            }
        }
        _ => return Err(error::SYNTAX),
    };
    Ok(Reply::bulks(
        names
            .iter()
            .filter(|(n, c)| keep(n, c))
            .map(|(n, _)| n.as_bytes()),
    ))
}

/// `COMMAND HELP` → array of help lines.
fn help(_ctx: &mut Ctx, _argv: &[Vec<u8>]) -> CmdResult {
    Ok(help_reply(
        "COMMAND",
        &[
            "(no subcommand)",
            "    Return details about all Redis commands.",
            "COUNT",
            "    Return the total number of commands in this Redis server.",
            "LIST",
            "    Return a list of all commands in this Redis server.",
            "INFO [<command-name> ...]",
            "    Return details about multiple Redis commands.",
            "    If no command names are given, documentation details for all",
            "    commands are returned.",
            "DOCS [<command-name> ...]",
            "    Return documentation details about multiple Redis commands.",
            "    If no command names are given, documentation details for all",
            "    commands are returned.",
            "GETKEYS <full-command>",
            "    Return the keys from a full Redis command.",
            "GETKEYSANDFLAGS <full-command>",
            "    Return the keys and the access flags from a full Redis command.",
        ],
    ))
}

/// `COMMAND GETKEYS command [arg ...]` → array of the keys the command line names.
fn getkeys(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    let keys = keys_of(&ctx.eng.renames, &argv[2..])?;
    Ok(Reply::Array(
        keys.into_iter()
            .map(|(i, _)| Reply::bulk(&argv[2 + i]))
            .collect(),
    ))
}

/// `COMMAND GETKEYSANDFLAGS command [arg ...]` → array of `[key, [flag ...]]`.
fn getkeysandflags(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    let keys = keys_of(&ctx.eng.renames, &argv[2..])?;
    Ok(Reply::Array(
        keys.into_iter()
            .map(|(i, flags)| {
                Reply::Array(vec![
                    Reply::bulk(&argv[2 + i]),
                    Reply::Set(flags.names().map(|f| Reply::Status(f.into())).collect()),
                ])
            })
            .collect(),
    ))
}

/// Positions (in `line`, the command name at 0) and access flags of the keys of a full
/// command line, with COMMAND GETKEYS's errors.
fn keys_of(renames: &Renames, line: &[Vec<u8>]) -> Result<Vec<(usize, KeyFlags)>, CmdError> {
    let top = lookup(renames, &line[0]).ok_or(error::INVALID_COMMAND)?;
    let cmd = if top.subcommands.is_empty() {
        top
    } else {
        match line.get(1) {
            Some(sub) => top.subcommand(sub).ok_or(error::INVALID_COMMAND)?,
            None => top,
        }
    };
    if cmd.key_specs.is_empty() {
        return Err(error::GETKEYS_NO_KEYS);
    }
    if !cmd.arity_ok(line.len()) {
        return Err(error::GETKEYS_ARITY);
    }
    match cmd.key_positions(line) {
        Some(keys) => Ok(keys),
        None if cmd.has(NO_MANDATORY_KEYS) => Ok(Vec::new()),
        None => Err(error::GETKEYS_INVALID),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn noop(_ctx: &mut Ctx, _argv: &[Vec<u8>]) -> CmdResult {
        Ok(Reply::ok())
    }

    fn line(words: &str) -> Vec<Vec<u8>> {
        words.split(' ').map(|w| w.as_bytes().to_vec()).collect()
    }

    fn keys(spec: &CommandSpec, words: &str) -> Option<Vec<String>> {
        let l = line(words);
        spec.key_positions(&l).map(|v| {
            v.into_iter()
                .map(|(i, _)| String::from_utf8_lossy(&l[i]).into_owned())
                .collect()
        })
    }

    #[test]
    fn keynum_specs_count_their_keys() {
        const ZUNIONSTORE: CommandSpec =
            CommandSpec::new("zunionstore", -4, &[WRITE, DENYOOM], noop).key_specs(&[
                KeySpec::new(&[OW, UPDATE], index(1), range(0, 1, 0)),
                KeySpec::new(&[RO, ACCESS], index(2), keynum(0, 1, 1)),
            ]);
        assert_eq!(
            keys(&ZUNIONSTORE, "zunionstore d 2 a b w").unwrap(),
            ["d", "a", "b"]
        );
        assert_eq!(keys(&ZUNIONSTORE, "zunionstore d 0 a"), None);
        assert_eq!(keys(&ZUNIONSTORE, "zunionstore d 3 a b"), None);
        assert_eq!(keys(&ZUNIONSTORE, "zunionstore d x a b"), None);
        assert_eq!(keys(&ZUNIONSTORE, "zunionstore d -1 a b"), None);
        assert_eq!(
            keys(&ZUNIONSTORE, "zunionstore d 9223372036854775807 a"),
            None
        );
        assert_eq!(
            keys(&ZUNIONSTORE, "zunionstore d -9223372036854775808 a"),
            None
        );
    }

    #[test]
    fn keyword_specs_search_for_their_keyword() {
        const XREAD: CommandSpec = CommandSpec::new("xread", -4, &[READONLY, BLOCKING], noop)
            .key_specs(&[KeySpec::new(
                &[RO, ACCESS],
                keyword("STREAMS", 1),
                range(-1, 1, 2),
            )]);
        assert_eq!(keys(&XREAD, "xread streams a b 1 2").unwrap(), ["a", "b"]);
        assert_eq!(keys(&XREAD, "xread count 1 streams a b 1").unwrap(), ["a"]);
        assert!(keys(&XREAD, "xread count 1 block 2").unwrap().is_empty());
        const MIGRATE: CommandSpec = CommandSpec::new("migrate", -6, &[WRITE], noop).key_specs(&[
            KeySpec::new(&[RW, ACCESS, DELETE], index(3), range(0, 1, 0)),
            KeySpec::new(
                &[RW, ACCESS, DELETE, INCOMPLETE],
                keyword("KEYS", -2),
                range(-1, 1, 0),
            ),
        ]);
        assert_eq!(
            keys(&MIGRATE, "migrate h p  0 5 keys a b").unwrap(),
            ["", "a", "b"]
        );
    }

    #[test]
    fn describe_prints_specs_like_redis() {
        const GET: CommandSpec = CommandSpec::new("get", 2, &[READONLY, FAST], noop)
            .doc(Group::String, "1.0.0", &[], "")
            .key_specs(&[KeySpec::new(&[RO, ACCESS], index(1), range(0, 1, 0))]);
        let r = describe("get", &GET).to_resp(2);
        let text = String::from_utf8_lossy(&r).into_owned();
        assert!(text.starts_with("*10\r\n$3\r\nget\r\n:2\r\n*2\r\n+readonly\r\n+fast\r\n:1\r\n:1\r\n:1\r\n*3\r\n+@read\r\n+@string\r\n+@fast\r\n*0\r\n*1\r\n*6\r\n$5\r\nflags\r\n*2\r\n+RO\r\n+access\r\n"), "{}", text);
        assert!(
            text.ends_with(
                "$7\r\nlastkey\r\n:0\r\n$7\r\nkeystep\r\n:1\r\n$5\r\nlimit\r\n:0\r\n*0\r\n"
            ),
            "{}",
            text
        );
    }
}
