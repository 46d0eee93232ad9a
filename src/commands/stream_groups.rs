//! Stream consumer groups: XGROUP (CREATE, SETID, DESTROY, CREATECONSUMER, DELCONSUMER, HELP),
//! XREADGROUP (with BLOCK through the engine's blocking machinery), XACK, XPENDING.

use super::args;
use super::spec::*;
use super::streams::{c_str, entry_reply, parse_bound, parse_id, read_options, ReadOptions};
use crate::engine::Ctx;
use crate::error::{self, CmdError, CmdResult};
use crate::protocol::Reply;
use crate::types::stream::{self, Consumer, Fields, PendingEntry, Stream, StreamId};
use crate::types::Value;

/// The consumer-group commands, and XINFO, which reports on streams and their groups.
pub const COMMANDS: &[CommandSpec] = &[
    CommandSpec::new("xinfo", -2, &[], xgroup_container).doc(Group::Stream, "5.0.0", &[], "Describes a stream, its consumer groups or a group's consumers.").complexity("Depends on the subcommand.").subs(XINFO_SUBCOMMANDS),
    CommandSpec::new("xgroup", -2, &[], xgroup_container).doc(Group::Stream, "5.0.0", &[], "Manages a stream's consumer groups and their consumers.").complexity("Depends on the subcommand.").subs(XGROUP_SUBCOMMANDS),
    CommandSpec::new("xreadgroup", -7, &[WRITE, BLOCKING], xreadgroup).key_specs(&[KeySpec::new(&[RO, ACCESS], keyword("STREAMS", 4), range(-1, 1, 2))]).doc(Group::Stream, "5.0.0", &[Arg::block("group_consumer", &[Arg::string("group"), Arg::string("consumer")]).with_token("GROUP"), Arg::integer("count").with_token("COUNT").optional(), Arg::integer("milliseconds").with_token("BLOCK").optional(), Arg::token("noack", "NOACK").optional(), Arg::block("streams", &[Arg::key("key", 0).multiple(), Arg::string("id").multiple()]).with_token("STREAMS")], "Reads entries for a consumer of a group: new ones with `>`, or its pending ones, optionally waiting.").complexity("Per stream: O(M) for M entries in the reply (O(1) for a fixed COUNT); with BLOCK, serving N waiting clients costs the writer O(N)."),
    CommandSpec::new("xack", -4, &[WRITE, FAST], xack).key_specs(&[KeySpec::new(&[RW, UPDATE], index(1), range(0, 1, 0))]).doc(Group::Stream, "5.0.0", &[Arg::key("key", 0), Arg::string("group"), Arg::string("id").multiple()], "Acknowledges entries of a group, removing them from its pending list.").complexity("O(1) per ID."),
    CommandSpec::new("xpending", -3, &[READONLY], xpending).tips(&["nondeterministic_output"]).key_specs(&[KeySpec::new(&[RO, ACCESS], index(1), range(0, 1, 0))]).doc(Group::Stream, "5.0.0", &[Arg::key("key", 0), Arg::string("group"), Arg::block("filters", &[Arg::integer("min-idle-time").with_token("IDLE").optional().since("6.2.0"), Arg::string("start"), Arg::string("end"), Arg::integer("count"), Arg::string("consumer").optional()]).optional()], "Summarizes a group's pending entries, or lists them with owner, idle time and delivery count.").complexity("O(N) for N entries in the reply (O(1) for a small fixed count); O(M) for M entries scanned with IDLE; the summary form adds O(N) over N consumers."),
    CommandSpec::new("xclaim", -6, &[WRITE, FAST], xclaim).tips(&["nondeterministic_output"]).key_specs(&[KeySpec::new(&[RW, UPDATE], index(1), range(0, 1, 0))]).doc(Group::Stream, "5.0.0", &[Arg::key("key", 0), Arg::string("group"), Arg::string("consumer"), Arg::string("min-idle-time"), Arg::string("id").multiple(), Arg::integer("ms").with_token("IDLE").optional(), Arg::unix_time("unix-time-milliseconds").with_token("TIME").optional(), Arg::integer("count").with_token("RETRYCOUNT").optional(), Arg::token("force", "FORCE").optional(), Arg::token("justid", "JUSTID").optional(), Arg::string("id").with_token("LASTID").optional()], "Moves pending entries idle long enough to another consumer of the group.").complexity("O(log N), N being the group's pending entries."),
    CommandSpec::new("xautoclaim", -6, &[WRITE, FAST], xautoclaim).tips(&["nondeterministic_output"]).key_specs(&[KeySpec::new(&[RW, DELETE], index(1), range(0, 1, 0))]).doc(Group::Stream, "6.2.0", &[Arg::key("key", 0), Arg::string("group"), Arg::string("consumer"), Arg::string("min-idle-time"), Arg::string("start"), Arg::integer("count").with_token("COUNT").optional(), Arg::token("justid", "JUSTID").optional()], "Moves a batch of pending entries idle long enough to another consumer, resuming from a cursor.").complexity("O(1) for a small COUNT."),
];

/// XGROUP's subcommands.
const XGROUP_SUBCOMMANDS: &[CommandSpec] = &[
    CommandSpec::new("create", -5, &[WRITE, DENYOOM], xgroup)
        .key_specs(&[KeySpec::new(&[RW, INSERT], index(2), range(0, 1, 0))])
        .doc(
            Group::Stream,
            "5.0.0",
            &[
                Arg::key("key", 0),
                Arg::string("groupname"),
                Arg::oneof("id", &[Arg::string("id"), Arg::token("new_id", "$")]),
                Arg::token("mkstream", "MKSTREAM").optional(),
                Arg::integer("entries_read")
                    .with_token("ENTRIESREAD")
                    .optional(),
            ],
            "Creates a consumer group.",
        )
        .complexity("O(1)"),
    CommandSpec::new("createconsumer", 5, &[WRITE, DENYOOM], xgroup)
        .key_specs(&[KeySpec::new(&[RW, INSERT], index(2), range(0, 1, 0))])
        .doc(
            Group::Stream,
            "6.2.0",
            &[
                Arg::key("key", 0),
                Arg::string("groupname"),
                Arg::string("consumername"),
            ],
            "Adds a consumer to a group.",
        )
        .complexity("O(1)"),
    CommandSpec::new("delconsumer", 5, &[WRITE], xgroup)
        .key_specs(&[KeySpec::new(&[RW, DELETE], index(2), range(0, 1, 0))])
        .doc(
            Group::Stream,
            "5.0.0",
            &[
                Arg::key("key", 0),
                Arg::string("groupname"),
                Arg::string("consumername"),
            ],
            "Removes a consumer and its pending entries from a group.",
        )
        .complexity("O(1)"),
    CommandSpec::new("destroy", 4, &[WRITE], xgroup)
        .key_specs(&[KeySpec::new(&[RW, DELETE], index(2), range(0, 1, 0))])
        .doc(
            Group::Stream,
            "5.0.0",
            &[Arg::key("key", 0), Arg::string("groupname")],
            "Removes a consumer group.",
        )
        .complexity(
            "O(N) where N is the number of entries in the group's pending entries list (PEL).",
        ),
    CommandSpec::new("help", 2, &[LOADING, STALE], xgroup)
        .doc(Group::Stream, "5.0.0", &[], "Lists XGROUP's subcommands.")
        .complexity("O(1)"),
    CommandSpec::new("setid", -5, &[WRITE], xgroup)
        .key_specs(&[KeySpec::new(&[RW, UPDATE], index(2), range(0, 1, 0))])
        .doc(
            Group::Stream,
            "5.0.0",
            &[
                Arg::key("key", 0),
                Arg::string("groupname"),
                Arg::oneof("id", &[Arg::string("id"), Arg::token("new_id", "$")]),
                Arg::integer("entries_read")
                    .with_token("ENTRIESREAD")
                    .optional(),
            ],
            "Moves a group's last delivered ID.",
        )
        .complexity("O(1)"),
];

/// Never reached: the dispatcher resolves XGROUP's subcommands first.
fn xgroup_container(_ctx: &mut Ctx, _argv: &[Vec<u8>]) -> CmdResult {
    Err(error::SYNTAX)
}

fn subcommand_syntax(argv: &[Vec<u8>]) -> CmdError {
    error::subcommand_syntax(&argv[1], "XGROUP")
}

/// Whether `arg` is `$` as C's strcmp sees it.
fn is_dollar(arg: &[u8]) -> bool {
    c_str(arg) == b"$"
}

/// `XGROUP CREATE key group <id | $> [MKSTREAM] [ENTRIESREAD n]` → OK;
/// `XGROUP SETID key group <id | $> [ENTRIESREAD n]` → OK;
/// `XGROUP DESTROY key group` → 1 or 0; `XGROUP CREATECONSUMER key group consumer` → 1 or 0;
/// `XGROUP DELCONSUMER key group consumer` → the consumer's pending count; `XGROUP HELP`.
/// Checks run in Redis's order: options, key type, key existence, group existence, arity.
fn xgroup(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    let argc = argv.len();
    let op = argv[1].to_ascii_lowercase();
    if argc == 2 && op == b"help" {
        return Ok(super::server::help_reply(
            "XGROUP",
            &[
                "CREATE <key> <groupname> <id|$> [option]",
                "    Create a new consumer group. Options are:",
                "    * MKSTREAM",
                "      Create the empty stream if it does not exist.",
                "    * ENTRIESREAD entries_read",
                "      Set the group's entries_read counter (internal use).",
                "CREATECONSUMER <key> <groupname> <consumer>",
                "    Create a new consumer in the specified group.",
                "DELCONSUMER <key> <groupname> <consumer>",
                "    Remove the specified consumer.",
                "DESTROY <key> <groupname>",
                "    Remove the specified group.",
                "SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]",
                "    Set the current group ID and entries_read counter.",
            ],
        ));
    }
    if argc < 4 {
        return Err(subcommand_syntax(argv));
    }
    let mut mkstream = false;
    let mut entries_read: i64 = -1;
    if op == b"create" || op == b"setid" {
        let mut i = 5;
        while i < argc {
            if op == b"create" && args::is(&argv[i], "mkstream") {
                mkstream = true;
                i += 1;
            } else if args::is(&argv[i], "entriesread") && i + 1 < argc {
                entries_read = args::int(&argv[i + 1])?;
                if entries_read < -1 {
                    return Err(error::ENTRIESREAD_RANGE);
                }
                i += 2;
            } else {
                return Err(subcommand_syntax(argv));
            }
        }
    }
    let key = &argv[2];
    let group = &argv[3];
    let exists = match ctx.lookup_write(key).map(|e| &e.value) {
        None => false,
        Some(Value::Stream(_)) => true,
        Some(_) => return Err(error::WRONGTYPE),
    };
    if !exists && !mkstream {
        return Err(error::XGROUP_NO_KEY);
    }
    let needs_group = op == b"setid" || op == b"createconsumer" || op == b"delconsumer";
    if exists && needs_group {
        let found = stream_ref(ctx, key).is_some_and(|s| s.groups.contains_key(group));
        if !found {
            return Err(error::no_such_group(group, key));
        }
    }
    let now = ctx.now;
    match op.as_slice() {
        b"create" if argc <= 8 => {
            let id = if is_dollar(&argv[4]) {
                stream_ref(ctx, key).map(|s| s.last_id).unwrap_or_default()
            } else {
                parse_id(&argv[4], true, 0, false)?.0
            };
            if !exists {
                ctx.db()
                    .set(key, Value::Stream(Box::new(Stream::new())), now);
                ctx.signal_modified(key);
            }
            let Some(st) = stream_ref(ctx, key) else {
                return Err(error::XGROUP_NO_KEY);
            };
            if st.groups.contains_key(group) {
                return Err(error::BUSYGROUP);
            }
            st.groups.insert(
                group.clone(),
                stream::Group {
                    last_id: id,
                    entries_read,
                    ..stream::Group::default()
                },
            );
            ctx.dirty(1);
            ctx.notify('t', "xgroup-create", key);
            Ok(Reply::ok())
        }
        b"setid" if argc == 5 || argc == 7 => {
            let id = if is_dollar(&argv[4]) {
                stream_ref(ctx, key).map(|s| s.last_id).unwrap_or_default()
            } else {
                parse_id(&argv[4], false, 0, false)?.0
            };
            if let Some(g) = stream_ref(ctx, key).and_then(|s| s.groups.get_mut(group)) {
                g.last_id = id;
                g.entries_read = entries_read;
            }
            ctx.dirty(1);
            ctx.notify('t', "xgroup-setid", key);
            Ok(Reply::ok())
        }
        b"destroy" if argc == 4 => {
            let removed = stream_ref(ctx, key)
                .and_then(|s| s.groups.remove(group))
                .is_some();
            if !removed {
                return Ok(Reply::Integer(0));
            }
            ctx.dirty(1);
            ctx.notify('t', "xgroup-destroy", key);
            // Readers blocked on the group learn it is gone.
            ctx.signal_ready(key);
            Ok(Reply::Integer(1))
        }
        b"createconsumer" if argc == 5 => {
            let Some(g) = stream_ref(ctx, key).and_then(|s| s.groups.get_mut(group)) else {
                return Ok(Reply::Integer(0));
            };
            if g.consumers.contains_key(&argv[4]) {
                return Ok(Reply::Integer(0));
            }
            g.consumers.insert(
                argv[4].clone(),
                Consumer {
                    seen_time: now,
                    ..Consumer::default()
                },
            );
            ctx.dirty(1);
            ctx.notify('t', "xgroup-createconsumer", key);
            Ok(Reply::Integer(1))
        }
        b"delconsumer" if argc == 5 => {
            let Some(g) = stream_ref(ctx, key).and_then(|s| s.groups.get_mut(group)) else {
                return Ok(Reply::Integer(0));
            };
            let Some(c) = g.consumers.remove(&argv[4]) else {
                return Ok(Reply::Integer(0));
            };
            for id in &c.pel {
                g.pel.remove(id);
            }
            ctx.dirty(1);
            ctx.notify('t', "xgroup-delconsumer", key);
            Ok(Reply::Integer(c.pel.len() as i64))
        }
        _ => Err(subcommand_syntax(argv)),
    }
}

/// XINFO's subcommands.
const XINFO_SUBCOMMANDS: &[CommandSpec] = &[
    CommandSpec::new("consumers", 4, &[READONLY], xinfo_consumers)
        .key_specs(&[KeySpec::new(&[RO, ACCESS], index(2), range(0, 1, 0))])
        .tips(&["nondeterministic_output"])
        .doc(
            Group::Stream,
            "5.0.0",
            &[Arg::key("key", 0), Arg::string("groupname")],
            "Lists a group's consumers: name, pending count, idle time.",
        )
        .complexity("O(1)"),
    CommandSpec::new("groups", 3, &[READONLY], xinfo_groups)
        .key_specs(&[KeySpec::new(&[RO, ACCESS], index(2), range(0, 1, 0))])
        .doc(
            Group::Stream,
            "5.0.0",
            &[Arg::key("key", 0)],
            "Lists a stream's consumer groups with their counters.",
        )
        .complexity("O(1)"),
    CommandSpec::new("help", 2, &[LOADING, STALE], xinfo_help)
        .doc(Group::Stream, "5.0.0", &[], "Lists the XINFO subcommands.")
        .complexity("O(1)"),
    CommandSpec::new("stream", -3, &[READONLY], xinfo_stream)
        .key_specs(&[KeySpec::new(&[RO, ACCESS], index(2), range(0, 1, 0))])
        .doc(
            Group::Stream,
            "5.0.0",
            &[
                Arg::key("key", 0),
                Arg::block(
                    "full",
                    &[Arg::integer("count").with_token("COUNT").optional()],
                )
                .with_token("FULL")
                .optional(),
            ],
            "Describes a stream; FULL adds its entries, groups, consumers and pending lists.",
        )
        .complexity("O(log N) with N being the number of entries in the stream (O(N) with FULL)."),
];

/// The stream at `key` for XINFO: `ERR no such key` when missing, WRONGTYPE for another type.
fn info_stream<'a>(ctx: &'a mut Ctx, key: &[u8]) -> Result<&'a Stream, CmdError> {
    match ctx.lookup_read(key).map(|e| &e.value) {
        None => Err(error::NO_SUCH_KEY),
        Some(Value::Stream(s)) => Ok(s),
        Some(_) => Err(error::WRONGTYPE),
    }
}

/// A stream ID as a bulk string.
fn id_bulk(id: StreamId) -> Reply {
    Reply::Bulk(id.to_bytes())
}

/// A group's lag (entries added to the stream it has not read yet); nil when unknown.
fn group_lag(st: &Stream, g: &stream::Group) -> Reply {
    let added = i64::try_from(st.entries_added).unwrap_or(i64::MAX);
    if st.entries_added == 0 {
        return Reply::Integer(0);
    }
    if g.entries_read != -1 && !has_tombstones_from(st, g.last_id) {
        return Reply::Integer(added.saturating_sub(g.entries_read));
    }
    match distance_from_first(st, g.last_id) {
        -1 => Reply::Nil,
        read => Reply::Integer(added.saturating_sub(read)),
    }
}

/// A group's read counter: nil when unknown.
fn entries_read(g: &stream::Group) -> Reply {
    if g.entries_read == -1 {
        Reply::Nil
    } else {
        Reply::Integer(g.entries_read)
    }
}

fn field(name: &str, value: Reply) -> (Reply, Reply) {
    (Reply::bulk(name), value)
}

/// `XINFO STREAM key [FULL [COUNT count]]` → map: counters, ID marks and the groups' count, with
/// the first and last entries; FULL lists entries (COUNT of them, 10 by default, 0 for all) and
/// every group with its pending list and consumers instead.
fn xinfo_stream(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    let opts = &argv[3..];
    let st = info_stream(ctx, &argv[2])?;
    let syntax = || error::xinfo_syntax(&argv[1]);
    let (full, count) = match opts {
        [] => (false, 10),
        [f] if args::is(f, "full") => (true, 10),
        [f, c, n] if args::is(f, "full") && args::is(c, "count") => {
            let n = args::int(n)?;
            (true, if n < 0 { 10 } else { n })
        }
        _ => return Err(syntax()),
    };
    let mut map = vec![
        field("length", Reply::int(st.len())),
        field("radix-tree-keys", Reply::int(st.node_count())),
        field("radix-tree-nodes", Reply::int(st.radix_tree_nodes())),
        field("last-generated-id", id_bulk(st.last_id)),
        field("max-deleted-entry-id", id_bulk(st.max_deleted_id)),
        field("entries-added", Reply::int(st.entries_added)),
        field("recorded-first-entry-id", id_bulk(st.first_id)),
    ];
    if !full {
        let edge =
            |e: Option<(&StreamId, &Fields)>| e.map_or(Reply::Nil, |(id, f)| entry_reply(*id, f));
        map.push(field("groups", Reply::int(st.groups.len())));
        map.push(field("first-entry", edge(st.iter().next())));
        map.push(field("last-entry", edge(st.iter().next_back())));
        return Ok(Reply::Map(map));
    }
    // COUNT 0 means everything; it caps the entries and each pending list.
    let cap = if count == 0 {
        usize::MAX
    } else {
        usize::try_from(count).unwrap_or(usize::MAX)
    };
    let entries = st
        .iter()
        .take(cap)
        .map(|(id, f)| entry_reply(*id, f))
        .collect();
    map.push(field("entries", Reply::Array(entries)));
    let groups = st
        .groups
        .iter()
        .map(|(name, g)| {
            let pending = g
                .pel
                .iter()
                .take(cap)
                .map(|(id, p)| {
                    Reply::Array(vec![
                        id_bulk(*id),
                        Reply::Bulk(p.consumer.clone()),
                        Reply::Integer(p.delivery_time),
                        Reply::int(p.delivery_count),
                    ])
                })
                .collect();
            let consumers = g
                .consumers
                .iter()
                .map(|(cname, c)| {
                    let own = c
                        .pel
                        .iter()
                        .take(cap)
                        .filter_map(|id| g.pel.get(id).map(|p| (id, p)))
                        .map(|(id, p)| {
                            Reply::Array(vec![
                                id_bulk(*id),
                                Reply::Integer(p.delivery_time),
                                Reply::int(p.delivery_count),
                            ])
                        })
                        .collect();
                    Reply::Map(vec![
                        field("name", Reply::Bulk(cname.clone())),
                        field("seen-time", Reply::Integer(c.seen_time)),
                        field("pel-count", Reply::int(c.pel.len())),
                        field("pending", Reply::Array(own)),
                    ])
                })
                .collect();
            Reply::Map(vec![
                field("name", Reply::Bulk(name.clone())),
                field("last-delivered-id", id_bulk(g.last_id)),
                field("entries-read", entries_read(g)),
                field("lag", group_lag(st, g)),
                field("pel-count", Reply::int(g.pel.len())),
                field("pending", Reply::Array(pending)),
                field("consumers", Reply::Array(consumers)),
            ])
        })
        .collect();
    map.push(field("groups", Reply::Array(groups)));
    Ok(Reply::Map(map))
}

/// `XINFO GROUPS key` → array of maps: each group's name, consumers, pending count,
/// last delivered ID, read counter and lag.
fn xinfo_groups(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    let st = info_stream(ctx, &argv[2])?;
    let groups = st
        .groups
        .iter()
        .map(|(name, g)| {
            Reply::Map(vec![
                field("name", Reply::Bulk(name.clone())),
                field("consumers", Reply::int(g.consumers.len())),
                field("pending", Reply::int(g.pel.len())),
                field("last-delivered-id", id_bulk(g.last_id)),
                field("entries-read", entries_read(g)),
                field("lag", group_lag(st, g)),
            ])
        })
        .collect();
    Ok(Reply::Array(groups))
}

/// `XINFO CONSUMERS key group` → array of maps: each consumer's name, pending count and
/// milliseconds since it was last seen.
fn xinfo_consumers(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    let now = ctx.now;
    let (key, group) = (&argv[2], &argv[3]);
    let st = info_stream(ctx, key)?;
    let Some(g) = st.groups.get(group.as_slice()) else {
        return Err(error::no_such_group(group, key));
    };
    let consumers = g
        .consumers
        .iter()
        .map(|(name, c)| {
            Reply::Map(vec![
                field("name", Reply::Bulk(name.clone())),
                field("pending", Reply::int(c.pel.len())),
                field(
                    "idle",
                    Reply::Integer(now.saturating_sub(c.seen_time).max(0)),
                ),
            ])
        })
        .collect();
    Ok(Reply::Array(consumers))
}

/// `XINFO HELP` → the subcommands, one status line each.
fn xinfo_help(_ctx: &mut Ctx, _argv: &[Vec<u8>]) -> CmdResult {
    Ok(super::server::help_reply(
        "XINFO",
        &[
            "CONSUMERS <key> <groupname>",
            "    Show consumers of <groupname>.",
            "GROUPS <key>",
            "    Show the stream consumer groups.",
            "STREAM <key> [FULL [COUNT <count>]",
            "    Show information about the stream.",
        ],
    ))
}

/// The stream at `key`, without counting an access (the caller already looked it up).
fn stream_ref<'a>(ctx: &'a mut Ctx, key: &[u8]) -> Option<&'a mut Stream> {
    let now = ctx.now;
    match ctx.db().get_mut(key, now).map(|e| &mut e.value) {
        Some(Value::Stream(s)) => Some(s),
        _ => None,
    }
}

/// Whether the stream holds a deleted entry at or after `start` (then the group's read
/// counter cannot simply be incremented).
fn has_tombstones_from(st: &Stream, start: StreamId) -> bool {
    if st.is_empty() || st.max_deleted_id == StreamId::MIN || st.first_id > st.max_deleted_id {
        return false;
    }
    start <= st.max_deleted_id
}

/// How many entries precede `id` since the stream began, when that can be known; -1 if not.
fn distance_from_first(st: &Stream, id: StreamId) -> i64 {
    let added = i64::try_from(st.entries_added).unwrap_or(i64::MAX);
    if st.entries_added == 0 {
        return 0;
    }
    if st.is_empty() && id <= st.last_id {
        return added;
    }
    if id == st.last_id {
        return added;
    }
    if id > st.last_id {
        return -1;
    }
    if st.max_deleted_id == StreamId::MIN || st.max_deleted_id < st.first_id {
        let len = st.len() as i64;
        if id < st.first_id {
            return added - len;
        } else if id == st.first_id {
            return added - len + 1;
        }
    }
    -1
}

/// Refreshes `consumer`'s seen time in `group`, creating it (a change, with its keyspace
/// event) when missing; false when the stream or the group does not exist.
fn enter_consumer(ctx: &mut Ctx, key: &[u8], group: &[u8], consumer: &[u8]) -> bool {
    let now = ctx.now;
    let Some(g) = stream_ref(ctx, key).and_then(|s| s.groups.get_mut(group)) else {
        return false;
    };
    if touch_consumer(g, consumer, now) {
        ctx.dirty(1);
        ctx.notify('t', "xgroup-createconsumer", key);
    }
    true
}

/// Delivers new entries after the group's last ID to `consumer` (created when missing, its
/// seen time refreshed): moves the group's last ID and read counter, and records each entry in
/// the PELs unless `noack` (taking it over from another consumer if it was pending there).
fn deliver_new(
    ctx: &mut Ctx,
    key: &[u8],
    group: &[u8],
    consumer: &[u8],
    count: usize,
    noack: bool,
) -> Vec<Reply> {
    let now = ctx.now;
    if !enter_consumer(ctx, key, group, consumer) {
        return Vec::new();
    }
    let Some(st) = stream_ref(ctx, key) else {
        return Vec::new();
    };
    let Some(last) = st.groups.get(group).map(|g| g.last_id) else {
        return Vec::new();
    };
    let Some(start) = last.incr() else {
        return Vec::new();
    };
    let picked: Vec<(StreamId, Fields)> = st
        .range(start, StreamId::MAX, false, count)
        .into_iter()
        .map(|(id, f)| (id, f.clone()))
        .collect();
    let mut out = Vec::with_capacity(picked.len());
    // What a replica and the AOF get instead of the XREADGROUP (Redis's
    // streamPropagateXCLAIM / streamPropagateGroupID).
    let mut props: Vec<Vec<Vec<u8>>> = Vec::new();
    let mut moved = false;
    for (id, fields) in picked {
        let tomb = has_tombstones_from(st, id);
        let dist = distance_from_first(st, id);
        let added = st.entries_added;
        let Some(g) = st.groups.get_mut(group) else {
            break;
        };
        if id > g.last_id {
            if g.entries_read != -1 && !tomb {
                g.entries_read += 1;
            } else if added > 0 {
                g.entries_read = dist;
            }
            g.last_id = id;
            moved = true;
        }
        out.push(entry_reply(id, &fields));
        if !noack {
            if let Some(old) = g.pel.insert(
                id,
                PendingEntry {
                    consumer: consumer.to_vec(),
                    delivery_time: now,
                    delivery_count: 1,
                },
            ) {
                if let Some(c) = g.consumers.get_mut(&old.consumer) {
                    c.pel.remove(&id);
                }
            }
            if let Some(c) = g.consumers.get_mut(consumer) {
                c.pel.insert(id);
            }
            if let Some(pe) = g.pel.get(&id) {
                props.push(claim_prop(key, group, &id.to_bytes(), pe, g.last_id));
            }
        }
    }
    if noack && moved {
        if let Some(g) = st.groups.get(group) {
            props.push(setid_prop(key, group, g));
        }
    }
    for p in props {
        ctx.also_propagate(p);
    }
    out
}

/// With NOACK a consumer XREADGROUP creates reaches replicas as XGROUP CREATECONSUMER (without
/// NOACK the XCLAIMs of its entries create it there).
fn propagate_new_consumer(ctx: &mut Ctx, key: &[u8], group: &[u8], consumer: &[u8], noack: bool) {
    let exists = stream_ref(ctx, key)
        .and_then(|s| s.groups.get(group))
        .is_none_or(|g| g.consumers.contains_key(consumer));
    if noack && !exists {
        ctx.also_propagate(vec![
            b"XGROUP".to_vec(),
            b"CREATECONSUMER".to_vec(),
            key.to_vec(),
            group.to_vec(),
            consumer.to_vec(),
        ]);
    }
}

/// Looks the consumer up, refreshing its seen time, or creates it; true when created.
fn touch_consumer(g: &mut stream::Group, consumer: &[u8], now: i64) -> bool {
    match g.consumers.get_mut(consumer) {
        Some(c) => {
            c.seen_time = now;
            false
        }
        None => {
            g.consumers.insert(
                consumer.to_vec(),
                Consumer {
                    seen_time: now,
                    ..Consumer::default()
                },
            );
            true
        }
    }
}

/// Replies the consumer's own pending entries after `after` (up to `count`, 0 for all),
/// counting a new delivery for each still in the stream; deleted ones show a nil body.
fn deliver_history(
    ctx: &mut Ctx,
    key: &[u8],
    group: &[u8],
    consumer: &[u8],
    after: StreamId,
    count: usize,
) -> Vec<Reply> {
    let now = ctx.now;
    if !enter_consumer(ctx, key, group, consumer) {
        return Vec::new();
    }
    let Some(st) = stream_ref(ctx, key) else {
        return Vec::new();
    };
    let Some(start) = after.incr() else {
        return Vec::new();
    };
    let ids: Vec<StreamId> = match st.groups.get(group).and_then(|g| g.consumers.get(consumer)) {
        Some(c) => c
            .pel
            .range(start..)
            .take(if count == 0 { usize::MAX } else { count })
            .copied()
            .collect(),
        None => Vec::new(),
    };
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        let entry = st
            .range(id, id, false, 1)
            .into_iter()
            .next()
            .map(|(i, f)| entry_reply(i, f));
        match entry {
            Some(e) => {
                out.push(e);
                if let Some(pe) = st.groups.get_mut(group).and_then(|g| g.pel.get_mut(&id)) {
                    pe.delivery_time = now;
                    pe.delivery_count += 1;
                }
            }
            None => out.push(Reply::Array(vec![
                Reply::Bulk(id.to_bytes()),
                Reply::NilArray,
            ])),
        }
    }
    out
}

/// `XREADGROUP GROUP group consumer [COUNT count] [BLOCK milliseconds] [NOACK] STREAMS key
/// [key ...] id [id ...]` → per stream, `[key, entries]` (RESP2) or a map (RESP3): with `>`
/// the entries never delivered to the group, with an ID the consumer's pending entries after
/// it (a deleted entry shows `[id, nil]`); a nil array when nothing came (after BLOCK's wait).
fn xreadgroup(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    let argc = argv.len();
    let ReadOptions {
        block,
        count,
        streams_arg,
        group,
        noack,
    } = read_options(ctx, argv, true)?;
    let Some((gname, cname)) = group else {
        return Err(error::XREADGROUP_NO_GROUP);
    };
    let nkeys = (argc - streams_arg) / 2;
    let keys = &argv[streams_arg..streams_arg + nkeys];
    let resp3 = ctx.eng.proto(ctx.client) >= 3;
    // Never propagated as sent: its effects go as XCLAIM, XGROUP SETID and CREATECONSUMER.
    ctx.no_propagate = true;
    if let Some(ready) = ctx.ready_key.clone() {
        return serve_blocked(
            ctx,
            argv,
            keys,
            &ready,
            &gname,
            &cname,
            count,
            noack,
            block.flatten(),
            resp3,
        );
    }
    // None stands for `>`.
    let mut ids: Vec<Option<StreamId>> = Vec::with_capacity(nkeys);
    for (k, key) in keys.iter().enumerate() {
        let has_group = match ctx.lookup_read(key).map(|e| &e.value) {
            None => false,
            Some(Value::Stream(s)) => s.groups.contains_key(&gname),
            Some(_) => return Err(error::WRONGTYPE),
        };
        if !has_group {
            return Err(error::no_key_or_group(
                key,
                &gname,
                " in XREADGROUP with GROUP option",
            ));
        }
        let arg = &argv[streams_arg + nkeys + k];
        if is_dollar(arg) {
            return Err(error::XREADGROUP_DOLLAR);
        } else if c_str(arg) == b">" {
            ids.push(None);
        } else {
            let id = parse_id(arg, true, 0, false)?.0;
            // The largest ID is how Redis marks `>` internally, so it reads as `>` too.
            ids.push(if id == StreamId::MAX { None } else { Some(id) });
        }
    }
    let mut served: Vec<(Reply, Reply)> = Vec::new();
    for (key, id) in keys.iter().zip(&ids) {
        // Redis looks every key up again to serve it (a second keyspace hit).
        ctx.lookup_read(key);
        let serves = match id {
            Some(_) => true,
            None => stream_ref(ctx, key).is_some_and(|st| {
                st.groups
                    .get(&gname)
                    .is_some_and(|g| !st.is_empty() && st.last_live_id() > g.last_id)
            }),
        };
        if serves {
            propagate_new_consumer(ctx, key, &gname, &cname, noack);
        }
        let entries = match id {
            Some(after) => deliver_history(ctx, key, &gname, &cname, *after, count),
            None => {
                let Some(st) = stream_ref(ctx, key) else {
                    continue;
                };
                let Some(g) = st.groups.get(&gname) else {
                    continue;
                };
                if st.is_empty() || st.last_live_id() <= g.last_id {
                    continue;
                }
                deliver_new(ctx, key, &gname, &cname, count, noack)
            }
        };
        ctx.dirty(1);
        served.push((Reply::Bulk(key.clone()), Reply::Array(entries)));
    }
    if !served.is_empty() {
        return Ok(shape(served, resp3));
    }
    if let Some(deadline) = block {
        if ctx.can_block() {
            ctx.block_on_rerun(keys.to_vec(), deadline, Reply::NilArray, argv.to_vec());
        }
    }
    Ok(Reply::NilArray)
}

fn shape(served: Vec<(Reply, Reply)>, resp3: bool) -> Reply {
    if resp3 {
        Reply::Map(served)
    } else {
        Reply::Array(
            served
                .into_iter()
                .map(|(k, v)| Reply::Array(vec![k, v]))
                .collect(),
        )
    }
}

/// A blocked XREADGROUP woken by a change to `ready`: an error if its group is gone, served
/// from that stream alone when it has entries past the group's last ID, else it waits on.
#[allow(clippy::too_many_arguments)]
fn serve_blocked(
    ctx: &mut Ctx,
    argv: &[Vec<u8>],
    keys: &[Vec<u8>],
    ready: &[u8],
    gname: &[u8],
    cname: &[u8],
    count: usize,
    noack: bool,
    deadline: Option<i64>,
    resp3: bool,
) -> CmdResult {
    let state = match ctx.lookup_read(ready).map(|e| &e.value) {
        Some(Value::Stream(s)) => Some(s.groups.get(gname).map(|g| s.last_id > g.last_id)),
        _ => None,
    };
    match state {
        Some(None) => Err(error::NOGROUP_GONE),
        Some(Some(true)) => {
            propagate_new_consumer(ctx, ready, gname, cname, noack);
            let entries = deliver_new(ctx, ready, gname, cname, count, noack);
            ctx.dirty(1);
            Ok(shape(
                vec![(Reply::Bulk(ready.to_vec()), Reply::Array(entries))],
                resp3,
            ))
        }
        _ => {
            ctx.block_on_rerun(keys.to_vec(), deadline, Reply::NilArray, argv.to_vec());
            Ok(Reply::NilArray)
        }
    }
}

/// `XACK key group id [id ...]` → how many of the IDs were pending and are now acknowledged
/// (0 for a missing key or group); every ID is checked before any is acknowledged.
fn xack(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    let key = &argv[1];
    let has_group = match ctx.lookup_read(key).map(|e| &e.value) {
        None => false,
        Some(Value::Stream(s)) => s.groups.contains_key(&argv[2]),
        Some(_) => return Err(error::WRONGTYPE),
    };
    if !has_group {
        return Ok(Reply::Integer(0));
    }
    let mut ids = Vec::with_capacity(argv.len() - 3);
    for a in &argv[3..] {
        ids.push(parse_id(a, true, 0, false)?.0);
    }
    let mut acked = 0;
    if let Some(g) = stream_ref(ctx, key).and_then(|s| s.groups.get_mut(&argv[2])) {
        for id in ids {
            if let Some(pe) = g.pel.remove(&id) {
                if let Some(c) = g.consumers.get_mut(&pe.consumer) {
                    c.pel.remove(&id);
                }
                acked += 1;
            }
        }
    }
    ctx.dirty(acked);
    Ok(Reply::Integer(acked as i64))
}

/// `XPENDING key group` → `[count, first id, last id, [[consumer, count], ...]]` (nils when
/// nothing is pending); `XPENDING key group [IDLE ms] start end count [consumer]` →
/// `[[id, consumer, idle ms, deliveries], ...]`.
fn xpending(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    let argc = argv.len();
    if argc != 3 && !(6..=9).contains(&argc) {
        return Err(error::SYNTAX);
    }
    let mut range = None;
    let mut min_idle = 0i64;
    let mut consumer = None;
    if argc >= 6 {
        let mut at = 3;
        if args::is(&argv[3], "idle") {
            min_idle = args::int(&argv[4])?;
            if argc < 8 {
                return Err(error::SYNTAX);
            }
            at += 2;
        }
        let count = args::int(&argv[at + 2])?.max(0);
        let (mut start, ex) = parse_bound(&argv[at], 0)?;
        if ex {
            start = start.incr().ok_or(error::STREAM_START_ID)?;
        }
        let (mut end, ex) = parse_bound(&argv[at + 1], u64::MAX)?;
        if ex {
            end = end.decr().ok_or(error::STREAM_END_ID)?;
        }
        if at + 3 < argc {
            consumer = Some(argv[at + 3].clone());
        }
        range = Some((start, end, count));
    }
    let now = ctx.now;
    let g = match ctx.lookup_read(&argv[1]).map(|e| &e.value) {
        Some(Value::Stream(s)) => s.groups.get(&argv[2]),
        Some(_) => return Err(error::WRONGTYPE),
        None => None,
    };
    let Some(g) = g else {
        return Err(error::no_key_or_group(&argv[1], &argv[2], ""));
    };
    let Some((start, end, mut count)) = range else {
        let (Some(first), Some(last)) = (g.pel.keys().next(), g.pel.keys().next_back()) else {
            return Ok(Reply::Array(vec![
                Reply::Integer(0),
                Reply::Nil,
                Reply::Nil,
                Reply::NilArray,
            ]));
        };
        let owners = g
            .consumers
            .iter()
            .filter(|(_, c)| !c.pel.is_empty())
            .map(|(n, c)| {
                Reply::Array(vec![
                    Reply::Bulk(n.clone()),
                    Reply::Bulk(c.pel.len().to_string().into_bytes()),
                ])
            })
            .collect();
        return Ok(Reply::Array(vec![
            Reply::Integer(g.pel.len() as i64),
            Reply::Bulk(first.to_bytes()),
            Reply::Bulk(last.to_bytes()),
            Reply::Array(owners),
        ]));
    };
    let ids: Vec<StreamId> = match &consumer {
        Some(name) => match g.consumers.get(name) {
            Some(c) => c.pel.iter().copied().collect(),
            None => return Ok(Reply::Array(Vec::new())),
        },
        None => Vec::new(),
    };
    let mut out = Vec::new();
    if start > end {
        return Ok(Reply::Array(out));
    }
    let mut visit = |id: StreamId, pe: &PendingEntry| -> bool {
        if count == 0 {
            return false;
        }
        let idle = now.saturating_sub(pe.delivery_time);
        if min_idle != 0 && idle < min_idle {
            return true;
        }
        count -= 1;
        out.push(Reply::Array(vec![
            Reply::Bulk(id.to_bytes()),
            Reply::Bulk(pe.consumer.clone()),
            Reply::Integer(idle.max(0)),
            Reply::Integer(pe.delivery_count as i64),
        ]));
        true
    };
    if consumer.is_some() {
        for id in ids.into_iter().filter(|id| *id >= start && *id <= end) {
            let Some(pe) = g.pel.get(&id) else { continue };
            if !visit(id, pe) {
                break;
            }
        }
    } else {
        for (id, pe) in g.pel.range(start..=end) {
            if !visit(*id, pe) {
                break;
            }
        }
    }
    Ok(Reply::Array(out))
}

/// `XCLAIM key group consumer min-idle-time id [id ...] [IDLE ms] [TIME ms] [RETRYCOUNT n]
/// [FORCE] [JUSTID] [LASTID id]` → the claimed entries (`[id, fields]`, or their IDs with
/// JUSTID). Pending IDs whose entry was deleted are dropped from the PEL; with FORCE an entry
/// not pending yet is added. All arguments are checked before anything is claimed.
fn xclaim(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    let key = &argv[1];
    let gname = &argv[2];
    let cname = &argv[3];
    let has_group = match ctx.lookup_read(key).map(|e| &e.value) {
        Some(Value::Stream(s)) => s.groups.contains_key(gname),
        Some(_) => return Err(error::WRONGTYPE),
        None => false,
    };
    if !has_group {
        return Err(error::no_key_or_group(key, gname, ""));
    }
    let min_idle = args::int_or(&argv[4], error::XCLAIM_MIN_IDLE)?.max(0);
    let mut ids = Vec::new();
    let mut j = 5;
    while j < argv.len() {
        match parse_id(&argv[j], true, 0, false) {
            Ok((id, _)) => ids.push(id),
            Err(_) => break,
        }
        j += 1;
    }
    let now = ctx.now;
    let mut force = false;
    let mut justid = false;
    let mut delivery: Option<i64> = None;
    let mut retrycount: i64 = -1;
    let mut last_id = StreamId::MIN;
    while j < argv.len() {
        let more = j + 1 < argv.len();
        let opt = &argv[j];
        if args::is(opt, "force") {
            force = true;
        } else if args::is(opt, "justid") {
            justid = true;
        } else if args::is(opt, "idle") && more {
            j += 1;
            let v = args::int_or(&argv[j], error::XCLAIM_IDLE)?;
            delivery = Some(now.wrapping_sub(v));
        } else if args::is(opt, "time") && more {
            j += 1;
            delivery = Some(args::int_or(&argv[j], error::XCLAIM_TIME)?);
        } else if args::is(opt, "retrycount") && more {
            j += 1;
            retrycount = args::int_or(&argv[j], error::XCLAIM_RETRYCOUNT)?;
        } else if args::is(opt, "lastid") && more {
            j += 1;
            last_id = parse_id(&argv[j], true, 0, false)?.0;
        } else {
            return Err(error::xclaim_option(opt));
        }
        j += 1;
    }
    // A bogus time (negative or in the future) means now, as in Redis.
    let delivery = match delivery {
        Some(t) if (0..=now).contains(&t) => t,
        _ => now,
    };
    // Never propagated as sent: each claim (or dropped entry) goes as an idempotent XCLAIM,
    // and a LASTID that moved the group without any as XGROUP SETID.
    ctx.no_propagate = true;
    let Some(st) = stream_ref(ctx, key) else {
        return Ok(Reply::Array(Vec::new()));
    };
    let mut dirty = 0u64;
    let mut props: Vec<Vec<Vec<u8>>> = Vec::new();
    let mut propagate_last_id = false;
    if st.groups.get(gname).is_some_and(|g| last_id > g.last_id) {
        if let Some(g) = st.groups.get_mut(gname) {
            g.last_id = last_id;
        }
        dirty = 1;
        propagate_last_id = true;
    }
    let mut out = Vec::new();
    let mut consumer_created = false;
    let mut consumer_touched = false;
    for (k, id) in ids.into_iter().enumerate() {
        let id_arg = &argv[5 + k];
        let entry = st
            .range(id, id, false, 1)
            .into_iter()
            .next()
            .map(|(i, f)| entry_reply(i, f));
        let Some(g) = st.groups.get_mut(gname) else {
            break;
        };
        let Some(entry) = entry else {
            // The entry is gone: its pending record goes too.
            if let Some(pe) = g.pel.remove(&id) {
                props.push(claim_prop(key, gname, id_arg, &pe, g.last_id));
                propagate_last_id = false;
                if let Some(c) = g.consumers.get_mut(&pe.consumer) {
                    c.pel.remove(&id);
                }
                dirty += 1;
            }
            continue;
        };
        let forced = if force && !g.pel.contains_key(&id) {
            g.pel.insert(
                id,
                PendingEntry {
                    consumer: Vec::new(),
                    delivery_time: now,
                    delivery_count: 1,
                },
            );
            true
        } else {
            false
        };
        let Some(pe) = g.pel.get(&id) else { continue };
        if !forced && min_idle != 0 && now.saturating_sub(pe.delivery_time) < min_idle {
            continue;
        }
        if !consumer_touched {
            consumer_touched = true;
            consumer_created = touch_consumer(g, cname, now);
        }
        let Some(pe) = g.pel.get_mut(&id) else {
            continue;
        };
        let old = std::mem::replace(&mut pe.consumer, cname.clone());
        pe.delivery_time = delivery;
        if retrycount >= 0 {
            pe.delivery_count = retrycount as u64;
        } else if !justid {
            pe.delivery_count += 1;
        }
        if old != *cname {
            if let Some(c) = g.consumers.get_mut(&old) {
                c.pel.remove(&id);
            }
        }
        if let Some(c) = g.consumers.get_mut(cname) {
            c.pel.insert(id);
        }
        if let Some(pe) = g.pel.get(&id) {
            props.push(claim_prop(key, gname, id_arg, pe, g.last_id));
            propagate_last_id = false;
        }
        out.push(if justid {
            Reply::Bulk(id.to_bytes())
        } else {
            entry
        });
        dirty += 1;
    }
    if propagate_last_id {
        if let Some(g) = st.groups.get(gname) {
            props.push(setid_prop(key, gname, g));
        }
    }
    for p in props {
        ctx.also_propagate(p);
    }
    if consumer_created {
        ctx.dirty(1);
        ctx.notify('t', "xgroup-createconsumer", key);
    }
    ctx.dirty(dirty);
    Ok(Reply::Array(out))
}

/// `XAUTOCLAIM key group consumer min-idle-time start [COUNT count] [JUSTID]` →
/// `[next cursor, claimed entries (or IDs with JUSTID), IDs dropped because their entry was
/// deleted]`. It examines at most ten times COUNT (default 100) pending entries.
fn xautoclaim(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    let key = &argv[1];
    let gname = &argv[2];
    let cname = &argv[3];
    let min_idle = args::int_or(&argv[4], error::XAUTOCLAIM_MIN_IDLE)?.max(0);
    let (mut start, ex) = parse_bound(&argv[5], 0)?;
    if ex {
        start = start.incr().ok_or(error::STREAM_START_ID)?;
    }
    // Redis bounds COUNT so that its buffers (16 bytes an ID) and attempts (10 a claim) fit.
    const MAX_COUNT: i64 = i64::MAX / 16;
    let mut count: i64 = 100;
    let mut justid = false;
    let mut j = 6;
    while j < argv.len() {
        let more = j + 1 < argv.len();
        if args::is(&argv[j], "count") && more {
            let bad = || error::COUNT_ABOVE_ZERO;
            count = args::int_or(&argv[j + 1], bad())?;
            if !(1..=MAX_COUNT).contains(&count) {
                return Err(bad());
            }
            j += 1;
        } else if args::is(&argv[j], "justid") {
            justid = true;
        } else {
            return Err(error::SYNTAX);
        }
        j += 1;
    }
    let has_group = match ctx.lookup_read(key).map(|e| &e.value) {
        Some(Value::Stream(s)) => s.groups.contains_key(gname),
        Some(_) => return Err(error::WRONGTYPE),
        None => false,
    };
    if !has_group {
        return Err(error::no_key_or_group(key, gname, ""));
    }
    // Redis allocates 16 bytes per COUNT up front; past the 128 TiB of a process's address
    // space that allocation fails (smaller ones are only reserved, never touched).
    if count >= 1 << 43 {
        return Err(error::COUNT_TOO_HIGH);
    }
    let now = ctx.now;
    // Never propagated as sent: each claim or dropped entry goes as an idempotent XCLAIM.
    ctx.no_propagate = true;
    let Some(st) = stream_ref(ctx, key) else {
        return Ok(Reply::Array(Vec::new()));
    };
    let mut props: Vec<Vec<Vec<u8>>> = Vec::new();
    let mut attempts = count.saturating_mul(10);
    let mut claimed = Vec::new();
    let mut deleted = Vec::new();
    let mut dirty = 0u64;
    let mut consumer_created = false;
    let mut consumer_touched = false;
    let mut cursor = StreamId::MIN;
    // None once the largest possible ID was examined: nothing can follow it.
    let mut from = Some(start);
    loop {
        let next = from.and_then(|f| {
            st.groups
                .get(gname)
                .and_then(|g| g.pel.range(f..).next().map(|(id, _)| *id))
        });
        if attempts == 0 || count == 0 {
            cursor = next.unwrap_or(StreamId::MIN);
            break;
        }
        attempts -= 1;
        let Some(id) = next else { break };
        let entry = st
            .range(id, id, false, 1)
            .into_iter()
            .next()
            .map(|(i, f)| entry_reply(i, f));
        let Some(g) = st.groups.get_mut(gname) else {
            break;
        };
        from = id.incr();
        let Some(entry) = entry else {
            if let Some(pe) = g.pel.remove(&id) {
                props.push(claim_prop(key, gname, &id.to_bytes(), &pe, g.last_id));
                if let Some(c) = g.consumers.get_mut(&pe.consumer) {
                    c.pel.remove(&id);
                }
            }
            dirty += 1;
            deleted.push(Reply::Bulk(id.to_bytes()));
            count -= 1;
            continue;
        };
        let Some(pe) = g.pel.get(&id) else { continue };
        if min_idle != 0 && now.saturating_sub(pe.delivery_time) < min_idle {
            continue;
        }
        if !consumer_touched {
            consumer_touched = true;
            consumer_created = touch_consumer(g, cname, now);
        }
        let Some(pe) = g.pel.get_mut(&id) else {
            continue;
        };
        let old = std::mem::replace(&mut pe.consumer, cname.clone());
        pe.delivery_time = now;
        if !justid {
            pe.delivery_count += 1;
        }
        if old != *cname {
            if let Some(c) = g.consumers.get_mut(&old) {
                c.pel.remove(&id);
            }
        }
        if let Some(c) = g.consumers.get_mut(cname) {
            c.pel.insert(id);
        }
        if let Some(pe) = g.pel.get(&id) {
            props.push(claim_prop(key, gname, &id.to_bytes(), pe, g.last_id));
        }
        claimed.push(if justid {
            Reply::Bulk(id.to_bytes())
        } else {
            entry
        });
        count -= 1;
        dirty += 1;
    }
    for p in props {
        ctx.also_propagate(p);
    }
    if consumer_created {
        ctx.dirty(1);
        ctx.notify('t', "xgroup-createconsumer", key);
    }
    ctx.dirty(dirty);
    Ok(Reply::Array(vec![
        Reply::Bulk(cursor.to_bytes()),
        Reply::Array(claimed),
        Reply::Array(deleted),
    ]))
}

/// The idempotent XCLAIM a change to pending entry `pe` (`id_arg` as the ID) propagates as:
/// `XCLAIM key group consumer 0 id TIME t RETRYCOUNT n FORCE JUSTID LASTID last` (Redis's
/// streamPropagateXCLAIM); for an entry that is gone, replaying it drops it there too.
fn claim_prop(
    key: &[u8],
    group: &[u8],
    id_arg: &[u8],
    pe: &PendingEntry,
    last: StreamId,
) -> Vec<Vec<u8>> {
    vec![
        b"XCLAIM".to_vec(),
        key.to_vec(),
        group.to_vec(),
        pe.consumer.clone(),
        b"0".to_vec(),
        id_arg.to_vec(),
        b"TIME".to_vec(),
        pe.delivery_time.to_string().into_bytes(),
        b"RETRYCOUNT".to_vec(),
        pe.delivery_count.to_string().into_bytes(),
        b"FORCE".to_vec(),
        b"JUSTID".to_vec(),
        b"LASTID".to_vec(),
        last.to_bytes(),
    ]
}

/// `XGROUP SETID key group last-id ENTRIESREAD n`: a group's position, as propagated.
fn setid_prop(key: &[u8], group: &[u8], g: &stream::Group) -> Vec<Vec<u8>> {
    vec![
        b"XGROUP".to_vec(),
        b"SETID".to_vec(),
        key.to_vec(),
        group.to_vec(),
        g.last_id.to_bytes(),
        b"ENTRIESREAD".to_vec(),
        g.entries_read.to_string().into_bytes(),
    ]
}
