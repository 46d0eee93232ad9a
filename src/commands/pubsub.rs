//! The pub/sub group: SUBSCRIBE and friends, PUBLISH, SPUBLISH, PUBSUB.
//!
//! Subscriptions live in the engine (`engine::pubsub`); a published message is pushed into each
//! receiving client's outbox, which the host delivers. Confirmations answer the subscribing
//! client directly, one reply per channel ([`Reply::Multi`]).

use hashbrown::HashMap;

use super::spec::*;
use crate::engine::pubsub::Kind;
use crate::engine::{ClientId, Ctx, ReplyMode};
use crate::error::{self, CmdError, CmdResult};
use crate::protocol::Reply;
use crate::util::glob::glob_match;

const SUB_FLAGS: &[Flags] = &[PUBSUB, NOSCRIPT, LOADING, STALE];

/// The pub/sub group's commands.
pub const COMMANDS: &[CommandSpec] = &[
    CommandSpec::new("subscribe", -2, SUB_FLAGS, subscribe).doc(
        Group::Pubsub,
        "2.0.0",
        &[Arg::string("channel").multiple()],
        "Listens for messages published to these channels.",
    ),
    CommandSpec::new("unsubscribe", -1, SUB_FLAGS, unsubscribe).doc(
        Group::Pubsub,
        "2.0.0",
        &[Arg::string("channel").optional().multiple()],
        "Stops listening to these channels (all of them when none is named).",
    ),
    CommandSpec::new("psubscribe", -2, SUB_FLAGS, psubscribe).doc(
        Group::Pubsub,
        "2.0.0",
        &[Arg::block("pattern", &[Arg::pattern("pattern")]).multiple()],
        "Listens for messages published to channels matching these glob patterns.",
    ),
    CommandSpec::new("punsubscribe", -1, SUB_FLAGS, punsubscribe).doc(
        Group::Pubsub,
        "2.0.0",
        &[Arg::pattern("pattern").optional().multiple()],
        "Stops listening to these patterns (all of them when none is named).",
    ),
    CommandSpec::new("ssubscribe", -2, SUB_FLAGS, ssubscribe)
        .key_specs(&[KeySpec::new(&[NOT_KEY], index(1), range(-1, 1, 0))])
        .doc(
            Group::Pubsub,
            "7.0.0",
            &[Arg::string("shardchannel").multiple()],
            "Listens for messages published to these shard channels.",
        ),
    CommandSpec::new("sunsubscribe", -1, SUB_FLAGS, sunsubscribe)
        .key_specs(&[KeySpec::new(&[NOT_KEY], index(1), range(-1, 1, 0))])
        .doc(
            Group::Pubsub,
            "7.0.0",
            &[Arg::string("shardchannel").optional().multiple()],
            "Stops listening to these shard channels (all of them when none is named).",
        ),
    CommandSpec::new(
        "publish",
        3,
        &[PUBSUB, LOADING, STALE, FAST, MAY_REPLICATE],
        publish,
    )
    .doc(
        Group::Pubsub,
        "2.0.0",
        &[Arg::string("channel"), Arg::string("message")],
        "Sends a message to a channel; replies with the number of clients that received it.",
    ),
    CommandSpec::new(
        "spublish",
        3,
        &[PUBSUB, LOADING, STALE, FAST, MAY_REPLICATE],
        spublish,
    )
    .key_specs(&[KeySpec::new(&[NOT_KEY], index(1), range(0, 1, 0))])
    .doc(
        Group::Pubsub,
        "7.0.0",
        &[Arg::string("shardchannel"), Arg::string("message")],
        "Sends a message to a shard channel; replies with the number of receivers.",
    ),
    CommandSpec::new("pubsub", -2, &[], pubsub_help)
        .doc(Group::Pubsub, "2.8.0", &[], "Inspects the pub/sub state.")
        .subs(PUBSUB_SUBS),
];

const PUBSUB_SUBS: &[CommandSpec] = &[
    CommandSpec::new("channels", -2, &[PUBSUB, LOADING, STALE], pubsub_channels).doc(
        Group::Pubsub,
        "2.8.0",
        &[Arg::pattern("pattern").optional()],
        "Lists channels with subscribers, optionally those matching a pattern.",
    ),
    CommandSpec::new("numsub", -2, &[PUBSUB, LOADING, STALE], pubsub_numsub).doc(
        Group::Pubsub,
        "2.8.0",
        &[Arg::string("channel").optional().multiple()],
        "Counts the subscribers of each channel (pattern subscriptions excluded).",
    ),
    CommandSpec::new("numpat", 2, &[PUBSUB, LOADING, STALE], pubsub_numpat).doc(
        Group::Pubsub,
        "2.8.0",
        &[],
        "Counts the distinct patterns subscribed to.",
    ),
    CommandSpec::new(
        "shardchannels",
        -2,
        &[PUBSUB, LOADING, STALE],
        pubsub_shardchannels,
    )
    .doc(
        Group::Pubsub,
        "7.0.0",
        &[Arg::pattern("pattern").optional()],
        "Lists shard channels with subscribers.",
    ),
    CommandSpec::new(
        "shardnumsub",
        -2,
        &[PUBSUB, LOADING, STALE],
        pubsub_shardnumsub,
    )
    .doc(
        Group::Pubsub,
        "7.0.0",
        &[Arg::string("shardchannel").optional().multiple()],
        "Counts the subscribers of each shard channel.",
    ),
    CommandSpec::new("help", 2, &[LOADING, STALE], pubsub_help)
        .acl_not(&[Acl::Pubsub])
        .doc(Group::Pubsub, "6.2.0", &[], "Lists the PUBSUB subcommands."),
];

fn subscribe_family(ctx: &mut Ctx, argv: &[Vec<u8>], kind: Kind) -> CmdResult {
    let id = ctx.client;
    let replies: Vec<Reply> = argv[1..]
        .iter()
        .map(|n| ctx.eng.subscribe_one(id, kind, n))
        .collect();
    Ok(confirmations(ctx, replies))
}

fn unsubscribe_family(ctx: &mut Ctx, argv: &[Vec<u8>], kind: Kind) -> CmdResult {
    let id = ctx.client;
    let replies = if argv.len() == 1 {
        match ctx.eng.unsubscribe_all(id, kind) {
            Reply::Multi(v) => v,
            other => vec![other],
        }
    } else {
        argv[1..]
            .iter()
            .map(|n| ctx.eng.unsubscribe_one(id, kind, n))
            .collect()
    };
    Ok(confirmations(ctx, replies))
}

/// The (un)subscribe confirmations as the command's reply. Like messages, Redis sends them
/// even while CLIENT REPLY OFF or SKIP silences replies: then they go out after the (dropped)
/// reply instead of as it.
fn confirmations(ctx: &mut Ctx, replies: Vec<Reply>) -> Reply {
    let client = ctx.client();
    if client.reply_mode == ReplyMode::On {
        return Reply::Multi(replies);
    }
    client.after_reply.extend(replies);
    Reply::Multi(Vec::new())
}

/// `SUBSCRIBE channel [channel ...]` → one `subscribe` confirmation per channel.
fn subscribe(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    subscribe_family(ctx, argv, Kind::Channel)
}

/// `UNSUBSCRIBE [channel ...]` → one `unsubscribe` confirmation per channel.
fn unsubscribe(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    unsubscribe_family(ctx, argv, Kind::Channel)
}

/// `PSUBSCRIBE pattern [pattern ...]` → one `psubscribe` confirmation per pattern.
fn psubscribe(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    subscribe_family(ctx, argv, Kind::Pattern)
}

/// `PUNSUBSCRIBE [pattern ...]` → one `punsubscribe` confirmation per pattern.
fn punsubscribe(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    unsubscribe_family(ctx, argv, Kind::Pattern)
}

/// `SSUBSCRIBE shardchannel [shardchannel ...]` → one `ssubscribe` confirmation each;
/// refused inside EXEC.
fn ssubscribe(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    // Unlike SUBSCRIBE, which Redis lets run inside a transaction for old clients' sake.
    if !ctx.can_block() {
        return Err(error::SSUBSCRIBE_DENY_BLOCKING);
    }
    subscribe_family(ctx, argv, Kind::Shard)
}

/// `SUNSUBSCRIBE [shardchannel ...]` → one `sunsubscribe` confirmation each.
fn sunsubscribe(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    unsubscribe_family(ctx, argv, Kind::Shard)
}

/// `PUBLISH channel message` → the number of clients that received it.
fn publish(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    let n = ctx.eng.publish(&argv[1], &argv[2]);
    let now = ctx.now;
    ctx.eng
        .cluster_propagate_publish(&argv[1], &argv[2], false, now);
    Ok(Reply::Integer(n))
}

/// `SPUBLISH shardchannel message` → the number of clients that received it.
fn spublish(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    let n = ctx.eng.publish_shard(&argv[1], &argv[2]);
    let now = ctx.now;
    ctx.eng
        .cluster_propagate_publish(&argv[1], &argv[2], true, now);
    Ok(Reply::Integer(n))
}

fn subcommand_syntax_error(argv: &[Vec<u8>]) -> CmdError {
    crate::error::subcommand_syntax(&argv[1], "PUBSUB")
}

fn channel_list(map: &HashMap<Vec<u8>, Vec<ClientId>>, argv: &[Vec<u8>]) -> CmdResult {
    if argv.len() > 3 {
        return Err(subcommand_syntax_error(argv));
    }
    let pattern = argv.get(2);
    Ok(Reply::bulks(map.keys().filter(|ch| {
        pattern.is_none_or(|p| glob_match(p, ch, false))
    })))
}

fn count_list(map: &HashMap<Vec<u8>, Vec<ClientId>>, argv: &[Vec<u8>]) -> CmdResult {
    let mut out = Vec::with_capacity((argv.len() - 2) * 2);
    for ch in &argv[2..] {
        out.push(Reply::bulk(ch));
        out.push(Reply::int(map.get(ch).map_or(0, Vec::len)));
    }
    Ok(Reply::Array(out))
}

/// `PUBSUB CHANNELS [pattern]` → the channels with subscribers.
fn pubsub_channels(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    channel_list(ctx.eng.pubsub.map(Kind::Channel), argv)
}

/// `PUBSUB SHARDCHANNELS [pattern]` → the shard channels with subscribers.
fn pubsub_shardchannels(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    channel_list(ctx.eng.pubsub.map(Kind::Shard), argv)
}

/// `PUBSUB NUMSUB [channel ...]` → channel, count, channel, count ...
fn pubsub_numsub(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    count_list(ctx.eng.pubsub.map(Kind::Channel), argv)
}

/// `PUBSUB SHARDNUMSUB [shardchannel ...]` → shard channel, count, ...
fn pubsub_shardnumsub(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    count_list(ctx.eng.pubsub.map(Kind::Shard), argv)
}

/// `PUBSUB NUMPAT` → the number of distinct patterns subscribed to.
fn pubsub_numpat(ctx: &mut Ctx, _argv: &[Vec<u8>]) -> CmdResult {
    Ok(Reply::int(ctx.eng.pubsub.pattern_count()))
}

/// `PUBSUB HELP` → the subcommands, one status line each.
fn pubsub_help(_ctx: &mut Ctx, _argv: &[Vec<u8>]) -> CmdResult {
    const LINES: &[&str] = &[
        "PUBSUB <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "CHANNELS [<pattern>]",
        "    Return the currently active channels matching a <pattern> (default: '*').",
        "NUMPAT",
        "    Return number of subscriptions to patterns.",
        "NUMSUB [<channel> ...]",
        "    Return the number of subscribers for the specified channels, excluding",
        "    pattern subscriptions(default: no channels).",
        "SHARDCHANNELS [<pattern>]",
        "    Return the currently active shard level channels matching a <pattern> (default: '*').",
        "SHARDNUMSUB [<shardchannel> ...]",
        "    Return the number of subscribers for the specified shard level channel(s)",
        "HELP",
        "    Prints this help.",
    ];
    Ok(Reply::Array(
        LINES.iter().map(|l| Reply::status(l)).collect(),
    ))
}
