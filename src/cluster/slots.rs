//! Hash slots: which of the 16,384 slots a key belongs to, and the per-slot index of the keys
//! a node holds (CLUSTER COUNTKEYSINSLOT, GETKEYSINSLOT, and the ASK/TRYAGAIN checks).
//!
//! The checksum is the CRC-16 Redis uses (the XMODEM variant of its crc16.c), taken from the
//! `crc` crate's catalogue rather than written here.

use crc::{Crc, CRC_16_XMODEM};
use hashbrown::HashMap;

/// Number of hash slots in a Redis Cluster.
pub const SLOTS: usize = 16384;

const CRC16: Crc<u16> = Crc::<u16>::new(&CRC_16_XMODEM);

/// The hash slot of `key`: the CRC-16 of its hash tag (the bytes between the first `{` and
/// the first `}` after it, when there is at least one byte between them), else of the whole
/// key, modulo 16,384.
pub fn key_slot(key: &[u8]) -> u16 {
    let hashed = match key.iter().position(|&b| b == b'{') {
        Some(open) => match key[open + 1..].iter().position(|&b| b == b'}') {
            Some(len) if len > 0 => &key[open + 1..open + 1 + len],
            _ => key,
        },
        None => key,
    };
    CRC16.checksum(hashed) & 0x3FFF
}

/// The keys of one database by hash slot, kept only on a cluster node. Each key carries the
/// sequence number of its insertion: Redis lists a slot's keys newest first, and so does
/// [`SlotIndex::keys_in_slot`].
#[derive(Clone, Debug, Default)]
pub struct SlotIndex {
    by_slot: HashMap<u16, HashMap<Vec<u8>, u64>>,
    next_seq: u64,
}

impl SlotIndex {
    /// An empty index.
    pub fn new() -> SlotIndex {
        SlotIndex::default()
    }

    /// Records a key the database just added.
    pub fn added(&mut self, key: &[u8]) {
        self.next_seq += 1;
        let seq = self.next_seq;
        self.by_slot
            .entry(key_slot(key))
            .or_default()
            .insert(key.to_vec(), seq);
    }

    /// Forgets a key the database just removed.
    pub fn removed(&mut self, key: &[u8]) {
        let slot = key_slot(key);
        if let Some(keys) = self.by_slot.get_mut(&slot) {
            keys.remove(key);
            if keys.is_empty() {
                self.by_slot.remove(&slot);
            }
        }
    }

    /// Forgets every key.
    pub fn clear(&mut self) {
        self.by_slot = HashMap::new();
    }

    /// Number of keys in `slot`.
    pub fn count(&self, slot: u16) -> usize {
        self.by_slot.get(&slot).map_or(0, HashMap::len)
    }

    /// Up to `max` keys of `slot`, the most recently added first.
    pub fn keys_in_slot(&self, slot: u16, max: usize) -> Vec<Vec<u8>> {
        let Some(keys) = self.by_slot.get(&slot) else {
            return Vec::new();
        };
        let mut all: Vec<(&Vec<u8>, u64)> = keys.iter().map(|(k, &s)| (k, s)).collect();
        all.sort_unstable_by_key(|e| std::cmp::Reverse(e.1));
        all.into_iter().take(max).map(|(k, _)| k.clone()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_match_redis() {
        // Values from CLUSTER KEYSLOT on redis-server 7.0.15.
        assert_eq!(key_slot(b"foo"), 12182);
        assert_eq!(key_slot(b"bar"), 5061);
        assert_eq!(key_slot(b""), 0);
        assert_eq!(key_slot(b"123456789"), 0x31C3 & 0x3FFF);
        assert_eq!(key_slot(b"{user1000}.following"), key_slot(b"user1000"));
        assert_eq!(key_slot(b"foo{}{bar}"), key_slot(b"foo{}{bar}"));
        assert_ne!(key_slot(b"foo{}{bar}"), key_slot(b"bar"));
        assert_eq!(key_slot(b"foo{{bar}}zap"), key_slot(b"{bar"));
        assert_eq!(key_slot(b"foo{bar}{zap}"), key_slot(b"bar"));
        assert_eq!(key_slot(b"{"), CRC16.checksum(b"{") & 0x3FFF);
    }

    #[test]
    fn index_lists_newest_first() {
        let mut ix = SlotIndex::new();
        ix.added(b"{t}a");
        ix.added(b"{t}b");
        ix.added(b"{t}c");
        ix.removed(b"{t}b");
        let s = key_slot(b"t");
        assert_eq!(ix.count(s), 2);
        assert_eq!(
            ix.keys_in_slot(s, 10),
            vec![b"{t}c".to_vec(), b"{t}a".to_vec()]
        );
        assert_eq!(ix.keys_in_slot(s, 1), vec![b"{t}c".to_vec()]);
        ix.clear();
        assert_eq!(ix.count(s), 0);
    }
}
