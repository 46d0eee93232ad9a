//! ACL: users, their rules, the ACL log, and AUTH's counterpart questions (WHOAMI, DRYRUN).
//! The rules themselves live in `types::acl`, the users and the log in `engine::acl`.

use super::server::{container, help_reply};
use super::spec::*;
use crate::engine::acl::check_user;
use crate::engine::Ctx;
use crate::error::{self, CmdError, CmdResult};
use crate::protocol::Reply;
use crate::types::acl::{self, Denied, Selector, User, FLAG_NAMES};

/// The ACL container and its subcommands.
pub const COMMANDS: &[CommandSpec] = &[CommandSpec::new("acl", -2, &[], container)
    .doc(
        Group::Server,
        "6.0.0",
        &[],
        "Manages ACL users, their permissions and the ACL log.",
    )
    .complexity("Depends on subcommand.")
    .subs(SUBCOMMANDS)];

const ADMIN_SUB: &[Flags] = &[ADMIN, NOSCRIPT, LOADING, STALE];
const PLAIN_SUB: &[Flags] = &[NOSCRIPT, LOADING, STALE];

const SUBCOMMANDS: &[CommandSpec] = &[
    CommandSpec::new("cat", -2, PLAIN_SUB, cat)
        .doc(
            Group::Server,
            "6.0.0",
            &[Arg::string("categoryname").optional()],
            "Lists the ACL categories, or the commands in one.",
        )
        .complexity("O(1) since the categories and commands are a fixed set."),
    CommandSpec::new("deluser", -3, ADMIN_SUB, deluser)
        .doc(
            Group::Server,
            "6.0.0",
            &[Arg::string("username").multiple()],
            "Deletes users and disconnects their clients.",
        )
        .complexity("O(1) amortized time considering the typical user."),
    CommandSpec::new("dryrun", -4, ADMIN_SUB, dryrun)
        .doc(
            Group::Server,
            "7.0.0",
            &[
                Arg::string("username"),
                Arg::string("command"),
                Arg::string("arg").optional().multiple(),
            ],
            "Tells whether a user could run a command, without running it.",
        )
        .complexity("O(1)."),
    CommandSpec::new("genpass", -2, PLAIN_SUB, genpass)
        .doc(
            Group::Server,
            "6.0.0",
            &[Arg::integer("bits").optional()],
            "Makes a random password (256 bits unless told) as hex digits.",
        )
        .complexity("O(1)"),
    CommandSpec::new("getuser", 3, ADMIN_SUB, getuser)
        .doc(
            Group::Server,
            "6.0.0",
            &[Arg::string("username")],
            "Describes a user: flags, password hashes, commands, keys, channels, selectors.",
        )
        .complexity(
            "O(N). Where N is the number of password, command and pattern rules that the user has.",
        ),
    CommandSpec::new("help", 2, &[LOADING, STALE], help)
        .doc(Group::Server, "6.0.0", &[], "Lists the ACL subcommands.")
        .complexity("O(1)"),
    CommandSpec::new("list", 2, ADMIN_SUB, list)
        .doc(
            Group::Server,
            "6.0.0",
            &[],
            "Lists every user's rules as an ACL file holds them.",
        )
        .complexity("O(N). Where N is the number of configured users."),
    CommandSpec::new("load", 2, ADMIN_SUB, load)
        .doc(
            Group::Server,
            "6.0.0",
            &[],
            "Replaces the users with those of the ACL file.",
        )
        .complexity("O(N). Where N is the number of configured users."),
    CommandSpec::new("log", -2, ADMIN_SUB, log)
        .doc(
            Group::Server,
            "6.0.0",
            &[Arg::oneof(
                "operation",
                &[Arg::integer("count"), Arg::token("reset", "RESET")],
            )
            .optional()],
            "Lists the newest commands, keys, channels and logins ACLs refused, or clears them.",
        )
        .complexity("O(N) with N being the number of entries shown."),
    CommandSpec::new("save", 2, ADMIN_SUB, save)
        .doc(
            Group::Server,
            "6.0.0",
            &[],
            "Writes the users to the ACL file.",
        )
        .complexity("O(N). Where N is the number of configured users."),
    CommandSpec::new("setuser", -3, ADMIN_SUB, setuser)
        .doc(
            Group::Server,
            "6.0.0",
            &[
                Arg::string("username"),
                Arg::string("rule").optional().multiple(),
            ],
            "Creates a user or changes its rules; all rules apply or none.",
        )
        .complexity("O(N). Where N is the number of rules provided."),
    CommandSpec::new("users", 2, ADMIN_SUB, users)
        .doc(Group::Server, "6.0.0", &[], "Lists the user names.")
        .complexity("O(N). Where N is the number of configured users."),
    CommandSpec::new("whoami", 2, PLAIN_SUB, whoami)
        .doc(
            Group::Server,
            "6.0.0",
            &[],
            "Names the user this connection runs as.",
        )
        .complexity("O(1)"),
];

/// Password bits ACL GENPASS makes unless told, and the most it makes.
const GENPASS_DEFAULT_BITS: i64 = 256;
const GENPASS_MAX_BITS: i64 = 4096;

/// `ACL SETUSER username [rule ...]` → `+OK`. The rules apply to a copy of the user (a new
/// one if it does not exist) and replace it only if every rule is valid; subscribed clients
/// of the user lose their connection when their channels are no longer allowed.
fn setuser(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    let name = &argv[2];
    if acl::has_spaces(name) {
        return Err(error::ACL_BAD_USERNAME);
    }
    let merged = acl::merge_selector_args(&argv[3..])
        .map_err(|i| error::acl_unmatched_paren(&argv[3 + i]))?;
    let all_channels = ctx.eng.acl_all_channels();
    let old = ctx.eng.acl.users.get(name.as_slice()).cloned();
    let mut user = old.clone().unwrap_or_else(|| User::new(name, all_channels));
    for op in &merged {
        user.apply(op, all_channels)
            .map_err(|e| error::acl_setuser_rule(op, e))?;
    }
    if let Some(old) = &old {
        let me = ctx.client;
        ctx.eng.acl_drop_pubsub_clients(old, &user, me);
    }
    ctx.eng.acl.users.insert(name.clone(), user);
    ctx.eng.acl.refresh();
    Ok(Reply::ok())
}

/// `ACL DELUSER username [username ...]` → integer: users deleted. Their clients are
/// disconnected (the caller after this reply). `default` cannot be deleted.
fn deluser(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    if argv[2..].iter().any(|u| u == b"default") {
        return Err(error::ACL_DELETE_DEFAULT);
    }
    let mut deleted = Vec::new();
    for name in &argv[2..] {
        if ctx.eng.acl.users.remove(name.as_slice()).is_some() {
            deleted.push(name.clone());
        }
    }
    let me = ctx.client;
    ctx.eng.acl_drop_clients_of(&deleted, me);
    ctx.eng.acl.refresh();
    Ok(Reply::int(deleted.len()))
}

/// The `commands`, `keys` and `channels` fields of a selector, as GETUSER shows them.
fn selector_fields(s: &Selector) -> Vec<(Reply, Reply)> {
    vec![
        (Reply::bulk("commands"), Reply::bulk(s.describe_commands())),
        (Reply::bulk("keys"), Reply::bulk(s.describe_keys())),
        (Reply::bulk("channels"), Reply::bulk(s.describe_channels())),
    ]
}

/// `ACL GETUSER username` → map: flags, passwords (hashes), commands, keys, channels of
/// the root selector, and the other selectors as maps of the last three; nil when there is
/// no such user.
fn getuser(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    let Some(u) = ctx.eng.acl.users.get(argv[2].as_slice()) else {
        return Ok(Reply::Nil);
    };
    let flags = FLAG_NAMES
        .iter()
        .filter(|(f, _)| u.flags & f != 0)
        .map(|(_, n)| Reply::bulk(*n))
        .collect();
    let mut out = vec![
        (Reply::bulk("flags"), Reply::Set(flags)),
        (
            Reply::bulk("passwords"),
            Reply::Array(
                u.passwords
                    .iter()
                    .map(|p| Reply::bulk(p.as_str()))
                    .collect(),
            ),
        ),
    ];
    out.extend(selector_fields(u.root()));
    let selectors = u.selectors[1..]
        .iter()
        .map(|s| Reply::Map(selector_fields(s)))
        .collect();
    out.push((Reply::bulk("selectors"), Reply::Array(selectors)));
    Ok(Reply::Map(out))
}

/// `ACL LIST` → array: `user <name> <rules>` for every user, by name.
fn list(ctx: &mut Ctx, _argv: &[Vec<u8>]) -> CmdResult {
    Ok(Reply::Array(
        ctx.eng.acl.list().into_iter().map(Reply::bulk).collect(),
    ))
}

/// `ACL USERS` → array of user names, sorted.
fn users(ctx: &mut Ctx, _argv: &[Vec<u8>]) -> CmdResult {
    Ok(Reply::Array(
        ctx.eng
            .acl
            .users
            .keys()
            .map(|n| Reply::bulk(n.as_slice()))
            .collect(),
    ))
}

/// `ACL WHOAMI` → the user this connection runs as.
fn whoami(ctx: &mut Ctx, _argv: &[Vec<u8>]) -> CmdResult {
    let name = ctx.client().user.clone();
    Ok(Reply::bulk(name))
}

/// `ACL CAT [category]` → the category names, or the commands (and subcommands) in one.
fn cat(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    match argv.len() {
        2 => Ok(Reply::Array(
            Acl::ALL.iter().map(|a| Reply::bulk(a.name())).collect(),
        )),
        3 => {
            let cat = Acl::ALL
                .iter()
                .find(|a| a.name().as_bytes().eq_ignore_ascii_case(&argv[2]))
                .ok_or_else(|| error::acl_unknown_category(&argv[2]))?;
            Ok(Reply::Array(
                super::commands()
                    .iter()
                    .filter(|c| acl::in_category(c, *cat))
                    .map(|c| Reply::bulk(c.full_name))
                    .collect(),
            ))
        }
        _ => Err(subcommand_error(ctx, argv)),
    }
}

/// `ACL GENPASS [bits]` → a random password of `bits` bits (rounded up to whole hex digits).
fn genpass(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    let bits = match argv.len() {
        2 => GENPASS_DEFAULT_BITS,
        3 => super::args::int(&argv[2])?,
        _ => return Err(subcommand_error(ctx, argv)),
    };
    if bits <= 0 || bits > GENPASS_MAX_BITS {
        return Err(error::ACL_GENPASS_BITS);
    }
    let chars = ((bits + 3) / 4) as usize;
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let pass: Vec<u8> = (0..chars)
        .map(|_| HEX[(ctx.eng.rng.next_u64() % 16) as usize])
        .collect();
    Ok(Reply::bulk(pass))
}

/// `ACL LOG [count|RESET]` → array of entries, newest first (10 unless told): count,
/// reason, context, object, username, age-seconds, client-info. RESET empties the log.
fn log(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    let mut count: i64 = 10;
    match argv.len() {
        2 => {}
        3 => {
            if super::args::is(&argv[2], "reset") {
                ctx.eng.acl.log.clear();
                return Ok(Reply::ok());
            }
            count = super::args::int(&argv[2])?.max(0);
        }
        _ => return Err(subcommand_error(ctx, argv)),
    }
    let now = ctx.now;
    let entries = ctx
        .eng
        .acl
        .log
        .iter()
        .take(usize::try_from(count).unwrap_or(usize::MAX))
        .map(|e| {
            let b = Reply::bulk;
            Reply::Map(vec![
                (b("count"), Reply::int(e.count)),
                (b("reason"), b(e.reason.name())),
                (b("context"), b(e.context)),
                (b("object"), Reply::bulk(e.object.as_slice())),
                (b("username"), Reply::bulk(e.username.as_slice())),
                (
                    b("age-seconds"),
                    Reply::Double((now - e.time_ms) as f64 / 1000.0),
                ),
                (b("client-info"), b(e.client_info.as_str())),
            ])
        })
        .collect();
    Ok(Reply::Array(entries))
}

/// `ACL DRYRUN username command [arg ...]` → `+OK` when the user could run the command, or
/// a bulk string saying what it may not touch.
fn dryrun(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    let Some(user) = ctx.eng.acl.users.get(argv[2].as_slice()) else {
        return Err(error::acl_no_such_user(&argv[2]));
    };
    let line = &argv[3..];
    let Some(base) = super::find(&line[0]) else {
        return Err(error::acl_no_such_command(&line[0]));
    };
    let cmd = if base.spec.subcommands.is_empty() || line.len() == 1 {
        base
    } else {
        base.sub(&line[1])
            .ok_or_else(|| error::acl_no_such_command(&line[0]))?
    };
    if !cmd.spec.arity_ok(line.len()) {
        return Err(error::wrong_arity(cmd.full_name));
    }
    match check_user(user, cmd, line) {
        Ok(()) => Ok(Reply::ok()),
        Err((denied, pos)) => {
            let what = String::from_utf8_lossy(line.get(pos).map_or(&[][..], |a| a.as_slice()))
                .into_owned();
            let text = match denied {
                Denied::Command => format!(
                    "This user has no permissions to run the '{}' command",
                    cmd.full_name
                ),
                Denied::Key => format!("This user has no permissions to access the '{}' key", what),
                Denied::Channel => format!(
                    "This user has no permissions to access the '{}' channel",
                    what
                ),
            };
            Ok(Reply::bulk(text))
        }
    }
}

/// `ACL LOAD` → `+OK` when the ACL file's users replaced the current ones (their clients,
/// except the default user's, are disconnected); the file's problems otherwise, with the
/// users left as they were.
fn load(ctx: &mut Ctx, _argv: &[Vec<u8>]) -> CmdResult {
    if ctx.eng.acl.file.is_none() {
        return Err(error::ACL_NO_FILE);
    }
    let me = ctx.client;
    ctx.eng
        .acl_load_file(me)
        .map_err(|e| error::acl_load_failed(&e))?;
    Ok(Reply::ok())
}

/// `ACL SAVE` → `+OK` once the ACL file holds every user's rules.
fn save(ctx: &mut Ctx, _argv: &[Vec<u8>]) -> CmdResult {
    let Some(file) = ctx.eng.acl.file.as_ref() else {
        return Err(error::ACL_NO_FILE);
    };
    let mut text = String::new();
    for line in ctx.eng.acl.list() {
        text.push_str(&line);
        text.push('\n');
    }
    file.write(&text).map_err(|_| error::ACL_SAVE_FAILED)?;
    Ok(Reply::ok())
}

/// `ACL HELP` → array of help lines.
fn help(_ctx: &mut Ctx, _argv: &[Vec<u8>]) -> CmdResult {
    Ok(help_reply(
        "ACL",
        &[
            "CAT [<category>]",
            "    List all commands that belong to <category>, or all command categories",
            "    when no category is specified.",
            "DELUSER <username> [<username> ...]",
            "    Delete a list of users.",
            "DRYRUN <username> <command> [<arg> ...]",
            "    Returns whether the user can execute the given command without executing the command.",
            "GETUSER <username>",
            "    Get the user's details.",
            "GENPASS [<bits>]",
            "    Generate a secure 256-bit user password. The optional `bits` argument can",
            "    be used to specify a different size.",
            "LIST",
            "    Show users details in config file format.",
            "LOAD",
            "    Reload users from the ACL file.",
            "LOG [<count> | RESET]",
            "    Show the ACL log entries.",
            "SAVE",
            "    Save the current config to the ACL file.",
            "SETUSER <username> <attribute> [<attribute> ...]",
            "    Create or modify a user with the specified attributes.",
            "USERS",
            "    List all the registered usernames.",
            "WHOAMI",
            "    Return the current connection username.",
        ],
    ))
}

/// Redis's answer to a subcommand given the wrong arguments inside its own handler.
fn subcommand_error(_ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdError {
    error::subcommand_syntax(&argv[1], "acl")
}
