//! COMMAND and its subcommands: descriptions generated from the command table, and the key
//! positions of a full command line (GETKEYS) computed from its key specifications.

use super::server::help_reply;
use super::{all, args, lookup, CommandSpec};
use crate::engine::Ctx;
use crate::error::{self, CmdError, CmdResult};
use crate::protocol::Reply;
use crate::util::glob::glob_match;

/// COMMAND's subcommands.
pub const SUBCOMMANDS: &[CommandSpec] = &[
    CommandSpec::new("count", 2, "loading stale", (0, 0, 0), count)
        .doc(
            "server",
            "2.8.13",
            "",
            "Counts the commands this server knows.",
        )
        .acl("connection")
        .complexity("O(1)"),
    CommandSpec::new("docs", -2, "loading stale", (0, 0, 0), docs)
        .doc(
            "server",
            "7.0.0",
            "[command-name [command-name ...]]",
            "Describes commands for people: summary, version, arguments.",
        )
        .acl("connection")
        .tips("nondeterministic_output_order")
        .complexity("O(N) where N is the number of commands to look up"),
    CommandSpec::new("getkeys", -4, "loading stale", (0, 0, 0), getkeys)
        .doc(
            "server",
            "2.8.13",
            "command [arg [arg ...]]",
            "Lists the keys a full command line names.",
        )
        .acl("connection")
        .complexity("O(N) where N is the number of arguments to the command"),
    CommandSpec::new(
        "getkeysandflags",
        -4,
        "loading stale",
        (0, 0, 0),
        getkeysandflags,
    )
    .doc(
        "server",
        "7.0.0",
        "command [arg [arg ...]]",
        "Lists the keys a full command line names, each with its access flags.",
    )
    .acl("connection")
    .complexity("O(N) where N is the number of arguments to the command"),
    CommandSpec::new("help", 2, "loading stale", (0, 0, 0), help)
        .doc("server", "5.0.0", "", "Lists the COMMAND subcommands.")
        .acl("connection")
        .complexity("O(1)"),
    CommandSpec::new("info", -2, "loading stale", (0, 0, 0), info)
        .doc(
            "server",
            "2.8.13",
            "[command-name [command-name ...]]",
            "Describes commands for clients: arity, flags, keys.",
        )
        .acl("connection")
        .tips("nondeterministic_output_order")
        .complexity("O(N) where N is the number of commands to look up"),
    CommandSpec::new("list", -2, "loading stale", (0, 0, 0), list)
        .doc(
            "server",
            "7.0.0",
            "[FILTERBY MODULE module-name|ACLCAT category|PATTERN pattern]",
            "Lists command names, optionally filtered.",
        )
        .acl("connection")
        .tips("nondeterministic_output_order")
        .complexity("O(N) where N is the total number of Redis commands"),
];

/// Every command with its full name (`config|get` for subcommands), containers first.
fn every_name() -> Vec<(String, &'static CommandSpec)> {
    let mut out = Vec::new();
    for c in all() {
        out.push((c.name.to_string(), c));
        for s in c.subcommands {
            out.push((format!("{}|{}", c.name, s.name), s));
        }
    }
    out
}

/// Finds a command by name or `container|sub`, ignoring case.
fn find(name: &[u8]) -> Option<(String, &'static CommandSpec)> {
    match name.iter().position(|&c| c == b'|') {
        None => lookup(name).map(|c| (c.name.to_string(), c)),
        Some(i) => {
            let parent = lookup(&name[..i])?;
            let sub = parent.subcommand(&name[i + 1..])?;
            Some((format!("{}|{}", parent.name, sub.name), sub))
        }
    }
}

/// `COMMAND` → array of every command's description (as COMMAND INFO gives it).
pub fn command(_ctx: &mut Ctx, _argv: &[Vec<u8>]) -> CmdResult {
    Ok(Reply::Array(
        all().into_iter().map(|c| describe(c.name, c)).collect(),
    ))
}

/// `COMMAND COUNT` → integer: number of (top-level) commands.
fn count(_ctx: &mut Ctx, _argv: &[Vec<u8>]) -> CmdResult {
    Ok(Reply::int(all().len()))
}

/// `COMMAND INFO [command-name ...]` → array with one description per name (nil for unknown
/// names); every command when no name is given.
fn info(_ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    if argv.len() == 2 {
        return command(_ctx, argv);
    }
    Ok(Reply::Array(
        argv[2..]
            .iter()
            .map(|n| find(n).map_or(Reply::Nil, |(full, c)| describe(&full, c)))
            .collect(),
    ))
}

/// The 10-element description of a command: name, arity, flags, first key, last key, step,
/// ACL categories, tips, key specifications, subcommands.
pub fn describe(full_name: &str, c: &CommandSpec) -> Reply {
    let words = |s: &'static str| -> Vec<Reply> {
        s.split(' ')
            .filter(|w| !w.is_empty())
            .map(|w| Reply::Status(w.into()))
            .collect()
    };
    let parent = full_name.split('|').next().unwrap_or(full_name);
    Reply::Array(vec![
        Reply::bulk(full_name),
        Reply::Integer(i64::from(c.arity)),
        Reply::Set(words(c.flags)),
        Reply::Integer(i64::from(c.keys.0)),
        Reply::Integer(i64::from(c.keys.1)),
        Reply::Integer(i64::from(c.keys.2)),
        Reply::Set(
            c.acl_categories()
                .into_iter()
                .map(|a| Reply::Status(format!("@{}", a).into()))
                .collect(),
        ),
        Reply::Set(
            c.tips
                .split(' ')
                .filter(|w| !w.is_empty())
                .map(Reply::bulk)
                .collect(),
        ),
        Reply::Set(c.key_specs.iter().map(|s| key_spec_reply(s)).collect()),
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

/// One key specification in its compact form, parsed.
struct KeySpec<'a> {
    flags: Vec<&'a str>,
    begin: Begin<'a>,
    find: Find,
    notes: Option<&'a str>,
}

enum Begin<'a> {
    Index(i64),
    Keyword(&'a str, i64),
    Unknown,
}

enum Find {
    Range { last: i64, step: i64, limit: i64 },
    Keynum { idx: i64, first: i64, step: i64 },
    Unknown,
}

/// Parses `FLAGS / BEGIN / FIND [/ notes]`; malformed parts read as `unknown`.
fn parse_spec(s: &str) -> KeySpec<'_> {
    let mut parts = s.splitn(4, " / ");
    let flags = parts
        .next()
        .unwrap_or("")
        .split(' ')
        .filter(|w| !w.is_empty())
        .collect();
    let num = |w: Option<&str>| w.and_then(|w| w.parse::<i64>().ok());
    let begin_words: Vec<&str> = parts.next().unwrap_or("").split(' ').collect();
    let begin = match begin_words.as_slice() {
        ["index", n] => num(Some(n)).map_or(Begin::Unknown, Begin::Index),
        ["keyword", kw, n] => num(Some(n)).map_or(Begin::Unknown, |n| Begin::Keyword(kw, n)),
        _ => Begin::Unknown,
    };
    let find_words: Vec<&str> = parts.next().unwrap_or("").split(' ').collect();
    let find = match find_words.as_slice() {
        ["range", a, b, c] => match (num(Some(a)), num(Some(b)), num(Some(c))) {
            (Some(last), Some(step), Some(limit)) => Find::Range { last, step, limit },
            _ => Find::Unknown,
        },
        ["keynum", a, b, c] => match (num(Some(a)), num(Some(b)), num(Some(c))) {
            (Some(idx), Some(first), Some(step)) => Find::Keynum { idx, first, step },
            _ => Find::Unknown,
        },
        _ => Find::Unknown,
    };
    KeySpec {
        flags,
        begin,
        find,
        notes: parts.next(),
    }
}

fn key_spec_reply(s: &str) -> Reply {
    let spec = parse_spec(s);
    let b = |s: &str| Reply::bulk(s);
    let mut pairs = Vec::new();
    if let Some(notes) = spec.notes {
        pairs.push((b("notes"), b(notes)));
    }
    pairs.push((
        b("flags"),
        Reply::Set(
            spec.flags
                .iter()
                .map(|f| Reply::Status(f.to_string().into()))
                .collect(),
        ),
    ));
    let (btype, bspec) = match spec.begin {
        Begin::Index(i) => ("index", vec![(b("index"), Reply::Integer(i))]),
        Begin::Keyword(kw, from) => (
            "keyword",
            vec![
                (b("keyword"), b(kw)),
                (b("startfrom"), Reply::Integer(from)),
            ],
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
                (b("lastkey"), Reply::Integer(last)),
                (b("keystep"), Reply::Integer(step)),
                (b("limit"), Reply::Integer(limit)),
            ],
        ),
        Find::Keynum { idx, first, step } => (
            "keynum",
            vec![
                (b("keynumidx"), Reply::Integer(idx)),
                (b("firstkey"), Reply::Integer(first)),
                (b("keystep"), Reply::Integer(step)),
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
/// since, group, complexity, arguments (from the syntax line), subcommands. Unknown names are
/// left out.
fn docs(_ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    let chosen: Vec<(String, &'static CommandSpec)> = if argv.len() == 2 {
        all().into_iter().map(|c| (c.name.to_string(), c)).collect()
    } else {
        argv[2..].iter().filter_map(|n| find(n)).collect()
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
        (b("group"), b(c.group)),
    ];
    if !c.complexity.is_empty() {
        pairs.push((b("complexity"), b(c.complexity)));
    }
    let args = super::syntax::parse(c.syntax, !c.key_specs.is_empty());
    if !args.is_empty() {
        pairs.push((b("arguments"), Reply::Array(args)));
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
fn list(_ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    let names = every_name();
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
                        .iter()
                        .any(|a| a.as_bytes().eq_ignore_ascii_case(&value))
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
fn getkeys(_ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    let keys = keys_of(&argv[2..])?;
    Ok(Reply::Array(
        keys.into_iter()
            .map(|(i, _)| Reply::bulk(&argv[2 + i]))
            .collect(),
    ))
}

/// `COMMAND GETKEYSANDFLAGS command [arg ...]` → array of `[key, [flag ...]]`.
fn getkeysandflags(_ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    let keys = keys_of(&argv[2..])?;
    Ok(Reply::Array(
        keys.into_iter()
            .map(|(i, flags)| {
                Reply::Array(vec![
                    Reply::bulk(&argv[2 + i]),
                    Reply::Set(flags.into_iter().map(|f| Reply::Status(f.into())).collect()),
                ])
            })
            .collect(),
    ))
}

/// Positions (in `line`, the command name at 0) and access flags of the keys of a full
/// command line, with COMMAND GETKEYS's errors.
fn keys_of(line: &[Vec<u8>]) -> Result<Vec<(usize, Vec<String>)>, CmdError> {
    const INVALID_CMD: &str = "ERR Invalid command specified";
    let top = lookup(&line[0]).ok_or(CmdError::from(INVALID_CMD))?;
    let cmd = if top.subcommands.is_empty() {
        top
    } else {
        match line.get(1) {
            Some(sub) => top.subcommand(sub).ok_or(CmdError::from(INVALID_CMD))?,
            None => top,
        }
    };
    if cmd.key_specs.is_empty() && cmd.keys.0 == 0 {
        return Err(CmdError::from("ERR The command has no key arguments"));
    }
    if !cmd.arity_ok(line.len()) {
        return Err(CmdError::from(
            "ERR Invalid number of arguments specified for command",
        ));
    }
    match key_positions(cmd, line) {
        Some(keys) => Ok(keys),
        None if cmd.has_flag("no_mandatory_keys") => Ok(Vec::new()),
        None => Err(CmdError::from(
            "ERR Invalid arguments specified for command",
        )),
    }
}

/// The access flags of a key whose spec says `variable_flags`: they depend on the arguments
/// (SET with or without GET, BITFIELD with or without writing operations).
fn variable_flags(name: &str, line: &[Vec<u8>]) -> Option<Vec<String>> {
    let words = |w: &[&str]| Some(w.iter().map(|s| s.to_string()).collect());
    match name {
        "set" => {
            if line.iter().skip(3).any(|a| args::is(a, "get")) {
                words(&["RW", "access", "update"])
            } else {
                words(&["OW", "update"])
            }
        }
        "bitfield" => {
            let mut i = 2;
            while i < line.len() {
                let rest = line.len() - i - 1;
                let a = &line[i];
                if args::is(a, "get") && rest >= 2 {
                    i += 3;
                } else if (args::is(a, "set") || args::is(a, "incrby")) && rest >= 3 {
                    return words(&["RW", "access", "update"]);
                } else if args::is(a, "overflow") && rest >= 1 {
                    i += 2;
                } else {
                    break;
                }
            }
            words(&["RO", "access"])
        }
        _ => None,
    }
}

/// Walks the key specifications (or, for entries without any, the legacy first/last/step)
/// over `line`. None when a key count argument is not a positive number that fits the line.
pub fn key_positions(cmd: &CommandSpec, line: &[Vec<u8>]) -> Option<Vec<(usize, Vec<String>)>> {
    let argc = line.len() as i64;
    let mut out = Vec::new();
    if cmd.key_specs.is_empty() {
        let (first, last, step) = (
            i64::from(cmd.keys.0),
            i64::from(cmd.keys.1),
            i64::from(cmd.keys.2).max(1),
        );
        let last = if last < 0 { argc + last } else { last };
        let mut i = first;
        while i <= last && i < argc {
            out.push((i as usize, Vec::new()));
            i += step;
        }
        return Some(out);
    }
    for text in cmd.key_specs {
        let spec = parse_spec(text);
        let first = match spec.begin {
            Begin::Index(i) => {
                if i >= argc {
                    continue;
                }
                i
            }
            Begin::Keyword(kw, from) => {
                let found = if from >= 0 {
                    (from.max(1)..argc).find(|&i| args::is(&line[i as usize], kw))
                } else {
                    (1..=(argc + from))
                        .rev()
                        .find(|&i| args::is(&line[i as usize], kw))
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
                let end = if last >= 0 {
                    first + last
                } else if limit <= 1 {
                    argc + last
                } else {
                    first + ((argc - first) / limit + last)
                };
                (first, end, step.max(1))
            }
            Find::Keynum {
                idx,
                first: fk,
                step,
            } => {
                let at = usize::try_from(first + idx).ok()?;
                let n = crate::util::parse_i64(line.get(at)?)?;
                let start = first + fk;
                let step = step.max(1);
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
        let mut flags: Vec<String> = spec.flags.iter().map(|f| f.to_string()).collect();
        if spec.flags.contains(&"variable_flags") {
            flags = variable_flags(cmd.name, line).unwrap_or(flags);
        }
        let mut i = first;
        while i <= last {
            if i >= argc {
                break;
            }
            out.push((i as usize, flags.clone()));
            i += step;
        }
    }
    // SORT's STORE key has no fixed place: Redis finds it with a walk of the options.
    if cmd.name == "sort" {
        if let Some(i) = super::sort::store_key_index(line) {
            out.push((i, vec!["OW".to_string(), "update".to_string()]));
        }
    }
    Some(out)
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
        key_positions(spec, &l).map(|v| {
            v.into_iter()
                .map(|(i, _)| String::from_utf8_lossy(&l[i]).into_owned())
                .collect()
        })
    }

    #[test]
    fn keynum_specs_count_their_keys() {
        const ZUNIONSTORE: CommandSpec = CommandSpec::new(
            "zunionstore",
            -4,
            "write denyoom movablekeys",
            (1, 1, 1),
            noop,
        )
        .key_specs(&[
            "OW update / index 1 / range 0 1 0",
            "RO access / index 2 / keynum 0 1 1",
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
        const XREAD: CommandSpec = CommandSpec::new(
            "xread",
            -4,
            "readonly blocking movablekeys",
            (0, 0, 0),
            noop,
        )
        .key_specs(&["RO access / keyword STREAMS 1 / range -1 1 2"]);
        assert_eq!(keys(&XREAD, "xread streams a b 1 2").unwrap(), ["a", "b"]);
        assert_eq!(keys(&XREAD, "xread count 1 streams a b 1").unwrap(), ["a"]);
        assert!(keys(&XREAD, "xread count 1 block 2").unwrap().is_empty());
        const MIGRATE: CommandSpec =
            CommandSpec::new("migrate", -6, "write movablekeys", (3, 3, 1), noop).key_specs(&[
                "RW access delete / index 3 / range 0 1 0",
                "RW access delete incomplete / keyword KEYS -2 / range -1 1 0",
            ]);
        assert_eq!(
            keys(&MIGRATE, "migrate h p  0 5 keys a b").unwrap(),
            ["", "a", "b"]
        );
    }

    #[test]
    fn legacy_positions_without_specs() {
        const MSET: CommandSpec = CommandSpec::new("mset", -3, "write denyoom", (1, -1, 2), noop);
        assert_eq!(keys(&MSET, "mset a 1 b 2").unwrap(), ["a", "b"]);
        assert_eq!(keys(&MSET, "mset a 1 b").unwrap(), ["a", "b"]);
    }

    #[test]
    fn describe_prints_specs_like_redis() {
        const GET: CommandSpec = CommandSpec::new("get", 2, "readonly fast", (1, 1, 1), noop)
            .doc("string", "1.0.0", "key", "")
            .key_specs(&["RO access / index 1 / range 0 1 0"]);
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
