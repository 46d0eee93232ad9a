//! XINFO: STREAM (with FULL and COUNT), GROUPS, CONSUMERS, HELP.
//!
//! Everything is Redis's except two numbers of XINFO STREAM that describe Redis's memory
//! layout rather than the stream: `radix-tree-keys` (listpack nodes) and `radix-tree-nodes`
//! (nodes of the radix tree indexing them). They are estimated here from the stream's length
//! (one node per 100 entries, the default `stream-node-max-entries`), not computed from a
//! radix tree; the differential scripts compare XINFO STREAM replies by shape for that reason.

use super::spec::*;
use super::streams::entry_reply;
use crate::engine::Ctx;
use crate::error::{self, CmdError, CmdResult};
use crate::protocol::Reply;
use crate::types::stream::{self, Stream, StreamId, NODE_MAX_ENTRIES};
use crate::types::Value;

/// XINFO and its subcommands.
pub const COMMANDS: &[CommandSpec] = &[CommandSpec::new("xinfo", -2, &[], xinfo)
    .doc(
        Group::Stream,
        "5.0.0",
        "<subcommand> [<arg> ...]",
        "Describes a stream, its consumer groups, or a group's consumers.",
    )
    .complexity("Depends on the subcommand.")
    .subs(SUBCOMMANDS)];

const SUBCOMMANDS: &[CommandSpec] = &[
    CommandSpec::new("consumers", 4, &[READONLY], xinfo)
        .doc(
            Group::Stream,
            "5.0.0",
            "key group",
            "Lists a group's consumers with their pending counts and idle times.",
        )
        .tips(&["nondeterministic_output"])
        .key_specs(&[KeySpec::new(&[RO, ACCESS], index(2), range(0, 1, 0))])
        .complexity("O(1)"),
    CommandSpec::new("groups", 3, &[READONLY], xinfo)
        .doc(
            Group::Stream,
            "5.0.0",
            "key",
            "Lists a stream's consumer groups with their pending counts, positions and lag.",
        )
        .key_specs(&[KeySpec::new(&[RO, ACCESS], index(2), range(0, 1, 0))])
        .complexity("O(1)"),
    CommandSpec::new("help", 2, &[LOADING, STALE], xinfo)
        .doc(Group::Stream, "5.0.0", "", "Lists XINFO's subcommands.")
        .complexity("O(1)"),
    CommandSpec::new("stream", -3, &[READONLY], xinfo)
        .doc(
            Group::Stream,
            "5.0.0",
            "key [FULL [COUNT count]]",
            "Describes a stream: length, IDs, first and last entries, or everything with FULL.",
        )
        .key_specs(&[KeySpec::new(&[RO, ACCESS], index(2), range(0, 1, 0))])
        .complexity("O(log N) for N stream entries; O(N) with FULL."),
];

fn syntax(argv: &[Vec<u8>]) -> CmdError {
    error::subcommand_syntax(&argv[1], "XINFO")
}

fn bulk(s: &str) -> Reply {
    Reply::bulk(s)
}

fn id_reply(id: StreamId) -> Reply {
    Reply::Bulk(id.to_bytes())
}

/// `XINFO HELP` | `XINFO CONSUMERS key group` | `XINFO GROUPS key` |
/// `XINFO STREAM key [FULL [COUNT n]]`, checked in Redis's order.
fn xinfo(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    let op = argv[1].to_ascii_lowercase();
    if op == b"help" {
        if argv.len() != 2 {
            return Err(syntax(argv));
        }
        return Ok(super::server::help_reply(
            "XINFO",
            &[
                "CONSUMERS <key> <groupname>",
                "    Show consumers of <groupname>.",
                "GROUPS <key>",
                "    Show the stream consumer groups.",
                "STREAM <key> [FULL [COUNT <count>]",
                "    Show information about the stream.",
            ],
        ));
    }
    if argv.len() < 3 {
        return Err(syntax(argv));
    }
    let key = &argv[2];
    let now = ctx.now;
    let st: Stream = match ctx.lookup_read(key) {
        None => return Err(error::NO_SUCH_KEY),
        Some(e) => match &e.value {
            Value::Stream(s) => (**s).clone(),
            _ => return Err(error::WRONGTYPE),
        },
    };
    match op.as_slice() {
        b"consumers" if argv.len() == 4 => {
            let Some(g) = st.groups.get(&argv[3]) else {
                return Err(error::no_such_group(&argv[3], key));
            };
            Ok(Reply::Array(
                g.consumers
                    .iter()
                    .map(|(name, c)| {
                        Reply::Map(vec![
                            (bulk("name"), Reply::Bulk(name.clone())),
                            (bulk("pending"), Reply::int(c.pel.len())),
                            (bulk("idle"), Reply::Integer((now - c.seen_time).max(0))),
                        ])
                    })
                    .collect(),
            ))
        }
        b"groups" if argv.len() == 3 => Ok(Reply::Array(
            st.groups
                .iter()
                .map(|(name, g)| {
                    Reply::Map(vec![
                        (bulk("name"), Reply::Bulk(name.clone())),
                        (bulk("consumers"), Reply::int(g.consumers.len())),
                        (bulk("pending"), Reply::int(g.pel.len())),
                        (bulk("last-delivered-id"), id_reply(g.last_id)),
                        (bulk("entries-read"), entries_read_reply(g)),
                        (bulk("lag"), lag_reply(&st, g)),
                    ])
                })
                .collect(),
        )),
        b"stream" => stream_info(&st, argv),
        _ => Err(syntax(argv)),
    }
}

fn entries_read_reply(g: &stream::Group) -> Reply {
    if g.entries_read >= 0 {
        Reply::Integer(g.entries_read)
    } else {
        Reply::Nil
    }
}

/// Whether a deleted entry lies at or after `start` (Redis's tombstone check).
fn tombstones_from(st: &Stream, start: StreamId) -> bool {
    if st.is_empty() || st.max_deleted_id == StreamId::MIN || st.first_id > st.max_deleted_id {
        return false;
    }
    start <= st.max_deleted_id
}

/// How many entries were added up to `id`, when that can be known.
fn read_count_at(st: &Stream, id: StreamId) -> Option<i64> {
    let added = i64::try_from(st.entries_added).unwrap_or(i64::MAX);
    if st.entries_added == 0 {
        return Some(0);
    }
    if st.is_empty() && id <= st.last_id {
        return Some(added);
    }
    if id == st.last_id {
        return Some(added);
    }
    if id > st.last_id {
        return None;
    }
    if st.max_deleted_id == StreamId::MIN || st.max_deleted_id < st.first_id {
        let len = st.len() as i64;
        if id < st.first_id {
            return Some(added - len);
        }
        if id == st.first_id {
            return Some(added - len + 1);
        }
    }
    None
}

/// A group's lag: entries added to the stream it has not read yet, or nil when unknown.
fn lag_reply(st: &Stream, g: &stream::Group) -> Reply {
    let added = i64::try_from(st.entries_added).unwrap_or(i64::MAX);
    if st.entries_added == 0 {
        return Reply::Integer(0);
    }
    if g.entries_read >= 0 && !tombstones_from(st, g.last_id) {
        return Reply::Integer(added - g.entries_read);
    }
    match read_count_at(st, g.last_id) {
        Some(n) => Reply::Integer(added - n),
        None => Reply::Nil,
    }
}

/// The estimated (listpack nodes, radix tree nodes) of Redis's representation.
fn radix_estimate(st: &Stream) -> (usize, usize) {
    let keys = st.len().div_ceil(NODE_MAX_ENTRIES as usize);
    (keys, if keys == 0 { 1 } else { keys + 1 })
}

/// `XINFO STREAM key [FULL [COUNT n]]`.
fn stream_info(st: &Stream, argv: &[Vec<u8>]) -> CmdResult {
    let opts = &argv[3..];
    let full = !opts.is_empty();
    let mut count: i64 = 10;
    if full {
        if opts.len() != 1 && opts.len() != 3 {
            return Err(syntax(argv));
        }
        if !opts[0].eq_ignore_ascii_case(b"full") {
            return Err(syntax(argv));
        }
        if opts.len() == 3 {
            if !opts[1].eq_ignore_ascii_case(b"count") {
                return Err(syntax(argv));
            }
            count = super::args::int(&opts[2])?;
            if count < 0 {
                count = 10;
            }
        }
    }
    let (keys, nodes) = radix_estimate(st);
    let mut m = vec![
        (bulk("length"), Reply::int(st.len())),
        (bulk("radix-tree-keys"), Reply::int(keys)),
        (bulk("radix-tree-nodes"), Reply::int(nodes)),
        (bulk("last-generated-id"), id_reply(st.last_id)),
        (bulk("max-deleted-entry-id"), id_reply(st.max_deleted_id)),
        (bulk("entries-added"), Reply::int(st.entries_added)),
        (bulk("recorded-first-entry-id"), id_reply(st.first_id)),
    ];
    if !full {
        m.push((bulk("groups"), Reply::int(st.groups.len())));
        let first = st.range(StreamId::MIN, StreamId::MAX, false, 1);
        let last = st.range(StreamId::MIN, StreamId::MAX, true, 1);
        let one = |v: Vec<(StreamId, &crate::types::stream::Fields)>| {
            v.first().map_or(Reply::Nil, |(id, f)| entry_reply(*id, f))
        };
        m.push((bulk("first-entry"), one(first)));
        m.push((bulk("last-entry"), one(last)));
        return Ok(Reply::Map(m));
    }
    let limit = usize::try_from(count).unwrap_or(usize::MAX);
    let entries = st
        .range(StreamId::MIN, StreamId::MAX, false, limit)
        .into_iter()
        .map(|(id, f)| entry_reply(id, f))
        .collect();
    m.push((bulk("entries"), Reply::Array(entries)));
    let take = if limit == 0 { usize::MAX } else { limit };
    let groups = st
        .groups
        .iter()
        .map(|(name, g)| {
            let pending = g
                .pel
                .iter()
                .take(take)
                .map(|(id, p)| {
                    Reply::Array(vec![
                        id_reply(*id),
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
                    let cpel = c
                        .pel
                        .iter()
                        .take(take)
                        .map(|id| {
                            let p = g.pel.get(id);
                            Reply::Array(vec![
                                id_reply(*id),
                                Reply::Integer(p.map_or(0, |p| p.delivery_time)),
                                Reply::int(p.map_or(0, |p| p.delivery_count)),
                            ])
                        })
                        .collect();
                    Reply::Map(vec![
                        (bulk("name"), Reply::Bulk(cname.clone())),
                        (bulk("seen-time"), Reply::Integer(c.seen_time)),
                        (bulk("pel-count"), Reply::int(c.pel.len())),
                        (bulk("pending"), Reply::Array(cpel)),
                    ])
                })
                .collect();
            Reply::Map(vec![
                (bulk("name"), Reply::Bulk(name.clone())),
                (bulk("last-delivered-id"), id_reply(g.last_id)),
                (bulk("entries-read"), entries_read_reply(g)),
                (bulk("lag"), lag_reply(st, g)),
                (bulk("pel-count"), Reply::int(g.pel.len())),
                (bulk("pending"), Reply::Array(pending)),
                (bulk("consumers"), Reply::Array(consumers)),
            ])
        })
        .collect();
    m.push((bulk("groups"), Reply::Array(groups)));
    Ok(Reply::Map(m))
}
