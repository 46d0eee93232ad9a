//! The pub/sub group: SUBSCRIBE and friends, PUBLISH, SPUBLISH, PUBSUB.
//!
//! Subscriptions live in the engine ([`PubSub`]); a published message is pushed into each
//! receiving client's outbox, which the host delivers. Confirmations answer the subscribing
//! client directly, one reply per channel ([`Reply::Multi`]).

use hashbrown::HashMap;

use super::CommandSpec;
use crate::engine::{ClientId, Ctx, Engine, ReplyMode};
use crate::error::{CmdError, CmdResult};
use crate::protocol::Reply;
use crate::util::glob::glob_match;

/// Which family of subscription: plain channels, patterns, or shard channels.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// SUBSCRIBE / UNSUBSCRIBE.
    Channel,
    /// PSUBSCRIBE / PUNSUBSCRIBE.
    Pattern,
    /// SSUBSCRIBE / SUNSUBSCRIBE.
    Shard,
}

impl Kind {
    fn verbs(self) -> (&'static str, &'static str) {
        match self {
            Kind::Channel => ("subscribe", "unsubscribe"),
            Kind::Pattern => ("psubscribe", "punsubscribe"),
            Kind::Shard => ("ssubscribe", "sunsubscribe"),
        }
    }
}

/// Every subscription, by channel (or pattern), with subscribers in subscription order.
#[derive(Default, Debug)]
pub struct PubSub {
    channels: HashMap<Vec<u8>, Vec<ClientId>>,
    patterns: HashMap<Vec<u8>, Vec<ClientId>>,
    shards: HashMap<Vec<u8>, Vec<ClientId>>,
}

impl PubSub {
    fn map(&mut self, kind: Kind) -> &mut HashMap<Vec<u8>, Vec<ClientId>> {
        match kind {
            Kind::Channel => &mut self.channels,
            Kind::Pattern => &mut self.patterns,
            Kind::Shard => &mut self.shards,
        }
    }

    /// Number of distinct patterns subscribed to (PUBSUB NUMPAT).
    pub fn pattern_count(&self) -> usize {
        self.patterns.len()
    }

    /// Number of distinct channels with subscribers (INFO stats pubsub_channels).
    pub fn channel_count(&self) -> usize {
        self.channels.len()
    }
}

const SUB_FLAGS: &str = "pubsub noscript loading stale";

/// The pub/sub group's commands.
pub const COMMANDS: &[CommandSpec] = &[
    CommandSpec::new("subscribe", -2, SUB_FLAGS, (0, 0, 0), subscribe).doc(
        "pubsub",
        "2.0.0",
        "channel [channel ...]",
        "Listens for messages published to these channels.",
    ),
    CommandSpec::new("unsubscribe", -1, SUB_FLAGS, (0, 0, 0), unsubscribe).doc(
        "pubsub",
        "2.0.0",
        "[channel [channel ...]]",
        "Stops listening to these channels (all of them when none is named).",
    ),
    CommandSpec::new("psubscribe", -2, SUB_FLAGS, (0, 0, 0), psubscribe).doc(
        "pubsub",
        "2.0.0",
        "pattern [pattern ...]",
        "Listens for messages published to channels matching these glob patterns.",
    ),
    CommandSpec::new("punsubscribe", -1, SUB_FLAGS, (0, 0, 0), punsubscribe).doc(
        "pubsub",
        "2.0.0",
        "[pattern [pattern ...]]",
        "Stops listening to these patterns (all of them when none is named).",
    ),
    CommandSpec::new("ssubscribe", -2, SUB_FLAGS, (1, -1, 1), ssubscribe)
        .key_specs(&["not_key / index 1 / range -1 1 0"])
        .doc(
            "pubsub",
            "7.0.0",
            "shardchannel [shardchannel ...]",
            "Listens for messages published to these shard channels.",
        ),
    CommandSpec::new("sunsubscribe", -1, SUB_FLAGS, (1, -1, 1), sunsubscribe)
        .key_specs(&["not_key / index 1 / range -1 1 0"])
        .doc(
            "pubsub",
            "7.0.0",
            "[shardchannel [shardchannel ...]]",
            "Stops listening to these shard channels (all of them when none is named).",
        ),
    CommandSpec::new(
        "publish",
        3,
        "pubsub loading stale fast",
        (0, 0, 0),
        publish,
    )
    .doc(
        "pubsub",
        "2.0.0",
        "channel message",
        "Sends a message to a channel; replies with the number of clients that received it.",
    ),
    CommandSpec::new(
        "spublish",
        3,
        "pubsub loading stale fast",
        (1, 1, 1),
        spublish,
    )
    .key_specs(&["not_key / index 1 / range 0 1 0"])
    .doc(
        "pubsub",
        "7.0.0",
        "shardchannel message",
        "Sends a message to a shard channel; replies with the number of receivers.",
    ),
    CommandSpec::new("pubsub", -2, "", (0, 0, 0), pubsub_help)
        .doc(
            "pubsub",
            "2.8.0",
            "subcommand [argument ...]",
            "Inspects the pub/sub state.",
        )
        .subs(PUBSUB_SUBS),
];

const PUBSUB_SUBS: &[CommandSpec] = &[
    CommandSpec::new(
        "channels",
        -2,
        "pubsub loading stale",
        (0, 0, 0),
        pubsub_channels,
    )
    .doc(
        "pubsub",
        "2.8.0",
        "[pattern]",
        "Lists channels with subscribers, optionally those matching a pattern.",
    ),
    CommandSpec::new(
        "numsub",
        -2,
        "pubsub loading stale",
        (0, 0, 0),
        pubsub_numsub,
    )
    .doc(
        "pubsub",
        "2.8.0",
        "[channel [channel ...]]",
        "Counts the subscribers of each channel (pattern subscriptions excluded).",
    ),
    CommandSpec::new(
        "numpat",
        2,
        "pubsub loading stale",
        (0, 0, 0),
        pubsub_numpat,
    )
    .doc(
        "pubsub",
        "2.8.0",
        "",
        "Counts the distinct patterns subscribed to.",
    ),
    CommandSpec::new(
        "shardchannels",
        -2,
        "pubsub loading stale",
        (0, 0, 0),
        pubsub_shardchannels,
    )
    .doc(
        "pubsub",
        "7.0.0",
        "[pattern]",
        "Lists shard channels with subscribers.",
    ),
    CommandSpec::new(
        "shardnumsub",
        -2,
        "pubsub loading stale",
        (0, 0, 0),
        pubsub_shardnumsub,
    )
    .doc(
        "pubsub",
        "7.0.0",
        "[shardchannel [shardchannel ...]]",
        "Counts the subscribers of each shard channel.",
    ),
    CommandSpec::new("help", 2, "loading stale", (0, 0, 0), pubsub_help)
        .acl("-pubsub")
        .doc("pubsub", "6.2.0", "", "Lists the PUBSUB subcommands."),
];

impl Engine {
    /// The subscriptions `client` holds of `kind`.
    fn subs_of(&mut self, client: ClientId, kind: Kind) -> Option<&mut Vec<Vec<u8>>> {
        let c = self.clients.get_mut(&client)?;
        Some(match kind {
            Kind::Channel => &mut c.subs,
            Kind::Pattern => &mut c.psubs,
            Kind::Shard => &mut c.ssubs,
        })
    }

    /// The count a (un)subscribe confirmation reports: channels plus patterns, or shard
    /// channels for the shard family.
    fn subscription_count(&self, client: ClientId, kind: Kind) -> i64 {
        self.clients.get(&client).map_or(0, |c| match kind {
            Kind::Shard => c.ssubs.len() as i64,
            _ => (c.subs.len() + c.psubs.len()) as i64,
        })
    }

    fn subscribe_one(&mut self, client: ClientId, kind: Kind, name: &[u8]) -> Reply {
        if let Some(subs) = self.subs_of(client, kind) {
            if !subs.iter().any(|s| s == name) {
                subs.push(name.to_vec());
                self.pubsub
                    .map(kind)
                    .entry(name.to_vec())
                    .or_default()
                    .push(client);
            }
        }
        let count = self.subscription_count(client, kind);
        Reply::Push(vec![
            Reply::bulk(kind.verbs().0),
            Reply::bulk(name),
            Reply::Integer(count),
        ])
    }

    fn unsubscribe_one(&mut self, client: ClientId, kind: Kind, name: &[u8]) -> Reply {
        if let Some(subs) = self.subs_of(client, kind) {
            if let Some(i) = subs.iter().position(|s| s == name) {
                subs.remove(i);
                let map = self.pubsub.map(kind);
                if let Some(ids) = map.get_mut(name) {
                    ids.retain(|id| *id != client);
                    if ids.is_empty() {
                        map.remove(name);
                    }
                }
            }
        }
        let count = self.subscription_count(client, kind);
        Reply::Push(vec![
            Reply::bulk(kind.verbs().1),
            Reply::bulk(name),
            Reply::Integer(count),
        ])
    }

    /// Drops every subscription of `client` of `kind`, one confirmation each (or one with a
    /// nil channel when there was none).
    pub fn unsubscribe_all(&mut self, client: ClientId, kind: Kind) -> Reply {
        let names = self
            .subs_of(client, kind)
            .map(|s| s.clone())
            .unwrap_or_default();
        if names.is_empty() {
            let count = self.subscription_count(client, kind);
            return Reply::Push(vec![
                Reply::bulk(kind.verbs().1),
                Reply::Nil,
                Reply::Integer(count),
            ]);
        }
        Reply::Multi(
            names
                .iter()
                .map(|n| self.unsubscribe_one(client, kind, n))
                .collect(),
        )
    }

    /// Whether `client` holds any subscription (RESP2 clients are then limited in commands).
    pub fn is_subscribed(&self, client: ClientId) -> bool {
        self.clients
            .get(&client)
            .is_some_and(|c| !c.subs.is_empty() || !c.psubs.is_empty() || !c.ssubs.is_empty())
    }

    /// Delivers `message` on `channel` to its subscribers and matching patterns; returns how
    /// many deliveries were made (PUBLISH's reply).
    pub fn publish(&mut self, channel: &[u8], message: &[u8]) -> i64 {
        let mut deliveries: Vec<(ClientId, Reply)> = Vec::new();
        if let Some(ids) = self.pubsub.channels.get(channel) {
            for id in ids {
                let msg = vec![
                    Reply::bulk("message"),
                    Reply::bulk(channel),
                    Reply::bulk(message),
                ];
                deliveries.push((*id, Reply::Push(msg)));
            }
        }
        for (pattern, ids) in &self.pubsub.patterns {
            if glob_match(pattern, channel, false) {
                for id in ids {
                    let msg = vec![
                        Reply::bulk("pmessage"),
                        Reply::bulk(pattern),
                        Reply::bulk(channel),
                        Reply::bulk(message),
                    ];
                    deliveries.push((*id, Reply::Push(msg)));
                }
            }
        }
        self.deliver(deliveries)
    }

    /// Delivers `message` to the subscribers of shard channel `channel` (SPUBLISH).
    pub fn publish_shard(&mut self, channel: &[u8], message: &[u8]) -> i64 {
        let deliveries = self
            .pubsub
            .shards
            .get(channel)
            .map(|ids| {
                ids.iter()
                    .map(|id| {
                        let msg = vec![
                            Reply::bulk("smessage"),
                            Reply::bulk(channel),
                            Reply::bulk(message),
                        ];
                        (*id, Reply::Push(msg))
                    })
                    .collect()
            })
            .unwrap_or_default();
        self.deliver(deliveries)
    }

    fn deliver(&mut self, deliveries: Vec<(ClientId, Reply)>) -> i64 {
        let n = deliveries.len() as i64;
        for (id, msg) in deliveries {
            if let Some(c) = self.clients.get_mut(&id) {
                c.outbox.push(msg);
            }
        }
        n
    }

    /// Removes every subscription of a client that is going away.
    pub fn drop_subscriptions(&mut self, client: ClientId) {
        for kind in [Kind::Channel, Kind::Pattern, Kind::Shard] {
            let names = self
                .subs_of(client, kind)
                .map(|s| s.clone())
                .unwrap_or_default();
            for n in names {
                self.unsubscribe_one(client, kind, &n);
            }
        }
    }
}

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

/// `SSUBSCRIBE shardchannel [shardchannel ...]` → one `ssubscribe` confirmation each.
fn ssubscribe(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    subscribe_family(ctx, argv, Kind::Shard)
}

/// `SUNSUBSCRIBE [shardchannel ...]` → one `sunsubscribe` confirmation each.
fn sunsubscribe(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    unsubscribe_family(ctx, argv, Kind::Shard)
}

/// `PUBLISH channel message` → the number of clients that received it.
fn publish(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    Ok(Reply::Integer(ctx.eng.publish(&argv[1], &argv[2])))
}

/// `SPUBLISH shardchannel message` → the number of clients that received it.
fn spublish(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    Ok(Reply::Integer(ctx.eng.publish_shard(&argv[1], &argv[2])))
}

fn subcommand_syntax_error(argv: &[Vec<u8>]) -> CmdError {
    CmdError::new(crate::error::sanitize(&format!(
        "ERR unknown subcommand or wrong number of arguments for '{}'. Try PUBSUB HELP.",
        crate::error::c_str_prefix(&argv[1], 128)
    )))
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
    channel_list(&ctx.eng.pubsub.channels, argv)
}

/// `PUBSUB SHARDCHANNELS [pattern]` → the shard channels with subscribers.
fn pubsub_shardchannels(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    channel_list(&ctx.eng.pubsub.shards, argv)
}

/// `PUBSUB NUMSUB [channel ...]` → channel, count, channel, count ...
fn pubsub_numsub(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    count_list(&ctx.eng.pubsub.channels, argv)
}

/// `PUBSUB SHARDNUMSUB [shardchannel ...]` → shard channel, count, ...
fn pubsub_shardnumsub(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    count_list(&ctx.eng.pubsub.shards, argv)
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
