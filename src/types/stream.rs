//! The stream type: entries ordered by ID, each a list of field/value pairs.
//!
//! Redis keeps a stream in a radix tree of listpack "nodes" of up to 100 entries (or about
//! 4096 bytes). Approximate trimming (`MAXLEN ~`, `MINID ~`) removes whole nodes only, so the
//! node boundaries are visible through XLEN; this type models them (which entries share a node,
//! how many each holds, a byte estimate) without storing listpacks.

use super::listpack::{entry as str_size, int_entry as int_size};
use std::collections::BTreeMap;
use std::ops::Bound;

/// Entries per node before a new one starts (`stream-node-max-entries`' default).
pub const NODE_MAX_ENTRIES: u64 = 100;
/// Bytes per node before a new one starts (`stream-node-max-bytes`' default).
pub const NODE_MAX_BYTES: usize = 4096;
/// The largest node Redis builds whatever `stream-node-max-bytes` says (1 GB).
const NODE_BYTES_CAP: u64 = 1 << 30;

/// A stream entry ID: milliseconds, then a sequence number.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct StreamId {
    pub ms: u64,
    pub seq: u64,
}

impl StreamId {
    pub const MIN: StreamId = StreamId { ms: 0, seq: 0 };
    pub const MAX: StreamId = StreamId {
        ms: u64::MAX,
        seq: u64::MAX,
    };

    pub fn new(ms: u64, seq: u64) -> StreamId {
        StreamId { ms, seq }
    }

    /// The 16 bytes Redis's radix trees key the ID by: milliseconds, then sequence, big-endian.
    pub fn key(self) -> [u8; 16] {
        let mut k = [0u8; 16];
        k[..8].copy_from_slice(&self.ms.to_be_bytes());
        k[8..].copy_from_slice(&self.seq.to_be_bytes());
        k
    }

    /// The next ID, or None past the largest.
    pub fn incr(self) -> Option<StreamId> {
        if self.seq < u64::MAX {
            Some(StreamId::new(self.ms, self.seq + 1))
        } else if self.ms < u64::MAX {
            Some(StreamId::new(self.ms + 1, 0))
        } else {
            None
        }
    }

    /// The previous ID, or None before 0-0.
    pub fn decr(self) -> Option<StreamId> {
        if self.seq > 0 {
            Some(StreamId::new(self.ms, self.seq - 1))
        } else if self.ms > 0 {
            Some(StreamId::new(self.ms - 1, u64::MAX))
        } else {
            None
        }
    }

    /// `ms-seq` as replies print it.
    pub fn to_bytes(self) -> Vec<u8> {
        format!("{}-{}", self.ms, self.seq).into_bytes()
    }
}

/// One entry's field/value pairs, in the order given.
pub type Fields = Vec<(Vec<u8>, Vec<u8>)>;

/// What Redis's node (one listpack) holds, as far as trimming can see it.
#[derive(Clone, Debug, PartialEq)]
struct Node {
    /// Fields of the node's first entry: later entries with the same fields cost less.
    master_fields: Vec<Vec<u8>>,
    /// Entries ever appended (deleted ones still occupy the node).
    total: u64,
    /// Entries not deleted.
    live: u64,
    /// Estimated listpack size.
    bytes: usize,
    /// ID of the node's last appended entry (deleted or not).
    last: StreamId,
}

/// One node of a stream, as [`Stream::nodes`] shows it.
pub struct NodeView<'a> {
    /// The ID the node is keyed by (its first entry's, even when that entry was deleted).
    pub master: StreamId,
    /// The fields of the node's first entry.
    pub master_fields: &'a [Vec<u8>],
    /// The node's live entries, in ID order.
    pub entries: Vec<(&'a StreamId, &'a Fields)>,
}

/// A stream value.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Stream {
    entries: BTreeMap<StreamId, Fields>,
    /// Nodes by the ID of their first entry (their "master" ID).
    nodes: BTreeMap<StreamId, Node>,
    /// The largest ID ever added (kept when that entry is deleted).
    pub last_id: StreamId,
    /// The first live entry's ID (0-0 when empty).
    pub first_id: StreamId,
    /// The largest ID deleted by XDEL.
    pub max_deleted_id: StreamId,
    /// Entries ever added.
    pub entries_added: u64,
    /// Consumer groups by name (byte order, as Redis's rax keeps them).
    pub groups: BTreeMap<Vec<u8>, Group>,
}

/// A delivered entry not yet acknowledged.
#[derive(Clone, Debug, PartialEq)]
pub struct PendingEntry {
    /// The consumer that owns it.
    pub consumer: Vec<u8>,
    /// Unix time in ms of its last delivery.
    pub delivery_time: i64,
    /// How many times it was delivered.
    pub delivery_count: u64,
}

/// A consumer inside a group.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Consumer {
    /// Unix time in ms the consumer last read (or was created).
    pub seen_time: i64,
    /// IDs in the group's PEL owned by this consumer.
    pub pel: std::collections::BTreeSet<StreamId>,
}

/// A consumer group.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Group {
    /// The last ID delivered to any consumer of the group with `>`.
    pub last_id: StreamId,
    /// Entries the group has read, or -1 when unknown (Redis's "invalid" counter).
    pub entries_read: i64,
    /// Pending entries of all consumers.
    pub pel: BTreeMap<StreamId, PendingEntry>,
    /// Consumers by name.
    pub consumers: BTreeMap<Vec<u8>, Consumer>,
}

/// An ID part's difference from the node's master ID as Redis stores it: the unsigned
/// difference read as a signed 64-bit integer (a sequence below the master's is negative).
fn diff_i64(v: u64) -> i64 {
    i64::from_ne_bytes(v.to_ne_bytes())
}

/// Nodes of Redis's radix tree (rax) holding sorted, distinct 16-byte `keys`: XINFO STREAM
/// reports it for the stream's nodes, MEMORY USAGE sizes every tree of IDs with it.
pub fn rax_nodes(keys: &[[u8; 16]]) -> usize {
    radix_nodes(keys, 0)
}

/// Nodes of a compressed radix tree over sorted, distinct 16-byte `keys` from byte `depth` on.
fn radix_nodes(keys: &[[u8; 16]], depth: usize) -> usize {
    let (Some(first), Some(last)) = (keys.first(), keys.last()) else {
        return 1;
    };
    if depth >= 16 {
        return 1;
    }
    // Sorted keys: what the first and the last share, all of them share.
    let shared = (depth..16).take_while(|&i| first[i] == last[i]).count();
    if shared > 0 {
        return 1 + radix_nodes(keys, depth + shared);
    }
    let mut total = 1;
    let mut start = 0;
    while start < keys.len() {
        let byte = keys[start][depth];
        let end = start
            + keys[start..]
                .iter()
                .take_while(|k| k[depth] == byte)
                .count();
        total += radix_nodes(&keys[start..end], depth + 1);
        start = end;
    }
    total
}

impl Stream {
    pub fn new() -> Stream {
        Stream::default()
    }

    /// The first live entry's ID, or None when the stream is empty.
    pub fn first_entry_id(&self) -> Option<StreamId> {
        self.entries.keys().next().copied()
    }

    /// How many entries a group whose last delivered ID is `id` has read, when it can be told
    /// from the stream's counters alone (Redis's streamEstimateDistanceFromFirstEverEntry);
    /// -1 when it cannot (an ID beyond the last, or one before a deletion's gap).
    pub fn estimate_entries_read(&self, id: StreamId) -> i64 {
        let added = i64::try_from(self.entries_added).unwrap_or(i64::MAX);
        if self.entries_added == 0 {
            return 0;
        }
        if self.is_empty() && id <= self.last_id {
            return added;
        }
        match id.cmp(&self.last_id) {
            std::cmp::Ordering::Equal => return added,
            std::cmp::Ordering::Greater => return -1,
            std::cmp::Ordering::Less => {}
        }
        let no_gap = self.max_deleted_id == StreamId::MIN || self.max_deleted_id < self.first_id;
        let before_first = added - self.len() as i64;
        match id.cmp(&self.first_id) {
            std::cmp::Ordering::Less if no_gap => before_first,
            std::cmp::Ordering::Equal if no_gap => before_first + 1,
            _ => -1,
        }
    }

    /// Live entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The ID of the first entry a node still holds, deleted ones included (the first node's
    /// master ID); None when no node is left.
    pub fn first_node_id(&self) -> Option<StreamId> {
        self.nodes.keys().next().copied()
    }

    /// How many nodes hold the entries (Redis's radix tree keys, one per listpack).
    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }

    /// How many nodes the radix tree indexing the stream's nodes has, as XINFO STREAM reports
    /// (`radix-tree-nodes`): the tree of the nodes' 16-byte big-endian master IDs, with runs
    /// shared by every key below a point compressed into one node, a node where keys part,
    /// and a node where each key ends; an empty tree is its root alone.
    pub fn radix_tree_nodes(&self) -> usize {
        let keys: Vec<[u8; 16]> = self.nodes.keys().map(|id| id.key()).collect();
        rax_nodes(&keys)
    }

    /// The last live entry's ID (0-0 when empty).
    pub fn last_live_id(&self) -> StreamId {
        self.entries.keys().next_back().copied().unwrap_or_default()
    }

    /// Appends an entry whose ID is larger than `last_id` (the caller checks), with the
    /// default node limits.
    pub fn append(&mut self, id: StreamId, fields: Fields) {
        self.append_limited(id, fields, NODE_MAX_BYTES as u64, NODE_MAX_ENTRIES);
    }

    /// Appends an entry whose ID is larger than `last_id` (the caller checks). A new node
    /// starts when the last one would reach `max_bytes` (0 or more than 1 GB: 1 GB) or already
    /// holds `max_entries` entries, live or deleted (0: no count limit).
    pub fn append_limited(
        &mut self,
        id: StreamId,
        fields: Fields,
        max_bytes: u64,
        max_entries: u64,
    ) {
        let payload: usize = fields.iter().map(|(f, v)| f.len() + v.len()).sum();
        let max_bytes = if max_bytes == 0 || max_bytes > NODE_BYTES_CAP {
            NODE_BYTES_CAP
        } else {
            max_bytes
        };
        // The node to append to: the last one, unless it is full (Redis checks the bytes it
        // has plus the new entry's raw payload, and the count of entries it ever held).
        let reuse = self.nodes.iter().next_back().and_then(|(k, n)| {
            let bytes = n.bytes.saturating_add(payload) as u64;
            (bytes < max_bytes && (max_entries == 0 || n.total < max_entries)).then_some(*k)
        });
        let key = match reuse {
            Some(k) => k,
            None => {
                let master: Vec<Vec<u8>> = fields.iter().map(|(f, _)| f.clone()).collect();
                // Header, end byte, count, deleted, field count, fields, terminator.
                let bytes = 7
                    + 2
                    + 2
                    + int_size(master.len() as i64)
                    + master.iter().map(|f| str_size(f)).sum::<usize>()
                    + 2;
                self.nodes.insert(
                    id,
                    Node {
                        master_fields: master,
                        total: 0,
                        live: 0,
                        bytes,
                        last: id,
                    },
                );
                id
            }
        };
        if let Some(node) = self.nodes.get_mut(&key) {
            let same = node.master_fields.len() == fields.len()
                && node
                    .master_fields
                    .iter()
                    .zip(&fields)
                    .all(|(m, (f, _))| m == f);
            let ms_diff = diff_i64(id.ms.wrapping_sub(key.ms));
            let seq_diff = diff_i64(id.seq.wrapping_sub(key.seq));
            let mut size = 2 + int_size(ms_diff) + int_size(seq_diff);
            if same {
                size += fields.iter().map(|(_, v)| str_size(v)).sum::<usize>();
            } else {
                size += int_size(fields.len() as i64)
                    + fields
                        .iter()
                        .map(|(f, v)| str_size(f) + str_size(v))
                        .sum::<usize>();
            }
            let lp_count = if same {
                fields.len() + 3
            } else {
                fields.len() * 2 + 4
            };
            size += int_size(lp_count as i64);
            node.bytes += size;
            node.total += 1;
            node.live += 1;
            node.last = id;
        }
        if self.entries.is_empty() {
            self.first_id = id;
        }
        self.entries.insert(id, fields);
        self.last_id = id;
        self.entries_added += 1;
    }

    /// The stream's nodes as Redis lays them out (its radix tree of listpacks): each node's
    /// master ID and fields, and its live entries. Entries deleted from a node are not kept
    /// here, so a node Redis would still hold them in is given without them.
    pub fn nodes(&self) -> Vec<NodeView<'_>> {
        let keys: Vec<StreamId> = self.nodes.keys().copied().collect();
        let mut out = Vec::with_capacity(keys.len());
        for (i, key) in keys.iter().enumerate() {
            let entries: Vec<(&StreamId, &Fields)> = match keys.get(i + 1) {
                Some(next) => self.entries.range(*key..*next).collect(),
                None => self.entries.range(*key..).collect(),
            };
            if entries.is_empty() {
                continue;
            }
            let master_fields = self
                .nodes
                .get(key)
                .map_or(&[][..], |n| &n.master_fields[..]);
            out.push(NodeView {
                master: *key,
                master_fields,
                entries,
            });
        }
        out
    }

    fn node_of(&self, id: StreamId) -> Option<StreamId> {
        self.nodes.range(..=id).next_back().map(|(k, _)| *k)
    }

    /// Removes an entry; its node goes when it has no live entry left. False if absent.
    pub fn delete(&mut self, id: StreamId) -> bool {
        if self.entries.remove(&id).is_none() {
            return false;
        }
        if let Some(k) = self.node_of(id) {
            let gone = match self.nodes.get_mut(&k) {
                Some(n) => {
                    n.live = n.live.saturating_sub(1);
                    n.live == 0
                }
                None => false,
            };
            if gone {
                self.nodes.remove(&k);
            }
        }
        true
    }

    /// XDEL's bookkeeping after deletions: first ID and the largest deleted ID.
    pub fn refresh_first(&mut self) {
        self.first_id = self.entries.keys().next().copied().unwrap_or_default();
    }

    /// Entries with IDs in `[start, end]`, ascending or descending, at most `count` (0: all).
    pub fn range(
        &self,
        start: StreamId,
        end: StreamId,
        rev: bool,
        count: usize,
    ) -> Vec<(StreamId, &Fields)> {
        if start > end {
            return Vec::new();
        }
        let it = self
            .entries
            .range((Bound::Included(start), Bound::Included(end)));
        let limit = if count == 0 { usize::MAX } else { count };
        if rev {
            it.rev().take(limit).map(|(k, v)| (*k, v)).collect()
        } else {
            it.take(limit).map(|(k, v)| (*k, v)).collect()
        }
    }

    /// Trims as Redis's stream trimming does: by length (`maxlen`) or by smallest ID to keep
    /// (`minid`); `approx` removes whole nodes only; `limit` (0: none) caps the work, counted
    /// in entries. Returns the entries removed.
    pub fn trim(
        &mut self,
        maxlen: Option<u64>,
        minid: Option<StreamId>,
        approx: bool,
        limit: u64,
    ) -> u64 {
        let mut deleted: u64 = 0;
        loop {
            if limit != 0 && deleted >= limit {
                break;
            }
            if let Some(m) = maxlen {
                if self.len() as u64 <= m {
                    break;
                }
            }
            let Some((&key, node)) = self.nodes.iter().next() else {
                break;
            };
            let live = node.live;
            let remove_node = match (maxlen, minid) {
                (Some(m), _) => (self.len() as u64).saturating_sub(live) >= m,
                (None, Some(id)) => node.last < id,
                _ => false,
            };
            if remove_node {
                // The work cap counts whole nodes: one that would pass it is left alone.
                if limit != 0 && deleted + live > limit {
                    break;
                }
                let end = self
                    .nodes
                    .range((Bound::Excluded(key), Bound::Unbounded))
                    .next()
                    .map(|(k, _)| *k);
                let ids: Vec<StreamId> = match end {
                    Some(e) => self.entries.range(key..e).map(|(k, _)| *k).collect(),
                    None => self.entries.range(key..).map(|(k, _)| *k).collect(),
                };
                for id in ids {
                    self.entries.remove(&id);
                }
                self.nodes.remove(&key);
                deleted += live;
                continue;
            }
            if approx {
                break;
            }
            // Exact: delete entries inside this first node until the condition holds; the node
            // keeps at least one live entry (otherwise it would have gone whole above).
            let ids: Vec<StreamId> = self.entries.range(key..).map(|(k, _)| *k).collect();
            for id in ids {
                match (maxlen, minid) {
                    (Some(m), _) if self.len() as u64 <= m => break,
                    (None, Some(min)) if id >= min => break,
                    _ => {}
                }
                self.entries.remove(&id);
                if let Some(n) = self.nodes.get_mut(&key) {
                    n.live = n.live.saturating_sub(1);
                }
                deleted += 1;
            }
            break;
        }
        if deleted > 0 {
            self.refresh_first();
        }
        deleted
    }

    /// All entries, ascending (for snapshots).
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = (&StreamId, &Fields)> {
        self.entries.iter()
    }

    /// Each node's master ID and listpack size in bytes, in ID order (MEMORY USAGE).
    pub fn node_layout(&self) -> impl Iterator<Item = (StreamId, usize)> + '_ {
        self.nodes.iter().map(|(id, n)| (*id, n.bytes))
    }

    /// A rough count of the bytes this stream occupies.
    pub fn approx_bytes(&self) -> usize {
        self.nodes.values().map(|n| n.bytes + 32).sum::<usize>() + 64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry() -> Fields {
        vec![(b"f".to_vec(), b"v".to_vec())]
    }

    #[test]
    fn radix_tree_nodes_follow_the_node_ids() {
        let mut st = Stream::new();
        // An empty tree is its root.
        assert_eq!(st.radix_tree_nodes(), 1);
        // One key: a compressed run of its 16 bytes, then the node where it ends.
        st.append_limited(StreamId::new(1, 1), entry(), 4096, 1);
        assert_eq!((st.node_count(), st.radix_tree_nodes()), (1, 2));
        // Two keys parting at the last byte: shared run, the parting node, two ends.
        st.append_limited(StreamId::new(1, 2), entry(), 4096, 1);
        assert_eq!((st.node_count(), st.radix_tree_nodes()), (2, 4));
    }
}
