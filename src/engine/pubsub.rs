//! Pub/sub state: who is subscribed to which channel, pattern or shard channel, and delivering
//! published messages into the subscribers' outboxes.

use hashbrown::HashMap;

use super::{Client, ClientId, Engine};
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
    fn map_mut(&mut self, kind: Kind) -> &mut HashMap<Vec<u8>, Vec<ClientId>> {
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

    /// The subscriptions of one family, by channel (or pattern).
    pub fn map(&self, kind: Kind) -> &HashMap<Vec<u8>, Vec<ClientId>> {
        match kind {
            Kind::Channel => &self.channels,
            Kind::Pattern => &self.patterns,
            Kind::Shard => &self.shards,
        }
    }

    /// Number of distinct channels with subscribers (INFO stats pubsub_channels).
    pub fn channel_count(&self) -> usize {
        self.channels.len()
    }
}

impl Engine {
    /// The subscriptions `client` holds of `kind`.
    fn subs_of(&mut self, client: ClientId, kind: Kind) -> Option<&mut Vec<Vec<u8>>> {
        let c = self.clients.get_mut(&client)?;
        // Whoever changes them (another client's command may), the client's memory
        // figure is recounted whole at its next buffer report.
        c.mem.state_changed();
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

    pub fn subscribe_one(&mut self, client: ClientId, kind: Kind, name: &[u8]) -> Reply {
        if let Some(subs) = self.subs_of(client, kind) {
            if !subs.iter().any(|s| s == name) {
                subs.push(name.to_vec());
                self.pubsub
                    .map_mut(kind)
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

    pub fn unsubscribe_one(&mut self, client: ClientId, kind: Kind, name: &[u8]) -> Reply {
        if let Some(subs) = self.subs_of(client, kind) {
            if let Some(i) = subs.iter().position(|s| s == name) {
                subs.remove(i);
                let map = self.pubsub.map_mut(kind);
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
        self.clients.get(&client).is_some_and(Client::subscribed)
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
                self.mail.insert(id);
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
