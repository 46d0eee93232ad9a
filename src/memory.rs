//! A model of what Redis 7.0 (built with jemalloc on x86-64, as Debian ships it) allocates for
//! a key and its value, for MEMORY USAGE.
//!
//! Redis's figure is itself an estimate (`objectComputeSize` in object.c): the allocator's size
//! class of each allocation it knows of, the sizes of its C structures, and for big aggregates
//! an average over the first few elements multiplied by the element count. This module follows
//! the same recipe over the engine's values:
//!
//! - every allocation is rounded up to a jemalloc size class ([`size_class`]);
//! - strings: `int` is a bare 16-byte object, `embstr` one allocation of object, sds header and
//!   bytes, `raw` an object plus an sds allocation of the exact length (Redis's APPEND and
//!   SETRANGE leave spare room in the sds that is not modelled, so those strings read smaller);
//! - listpacks (small hashes and sorted sets, list nodes) are sized entry by entry with the
//!   listpack encoding; lists are cut into nodes as `list-max-listpack-size` cuts them when
//!   elements are pushed at the tail;
//! - intsets are a header and one fixed-width slot per member;
//! - hash tables (big sets and hashes, skiplist sorted sets) count the bucket array at the
//!   smallest power of two that holds the elements (Redis may be mid-rehash, or grown by an
//!   earlier peak, so its table can be bigger), and sample the first `samples` elements in the
//!   engine's own order (Redis samples in its hash order): exact when elements have equal
//!   sizes, close otherwise. Skiplist nodes use the engine's own random levels;
//! - streams: the radix tree of nodes counted as Redis counts it, one listpack per node (the
//!   last one pre-allocated to 4096 bytes), and the consumer groups' structures.

use crate::types::listpack::{entry as lp_entry, int_entry as lp_int};
use crate::types::{Hash, List, Set, Stream, Value, ZSet};

/// `sizeof(robj)`.
const OBJ: usize = 16;
/// `sizeof(dictEntry)`.
const DICT_ENTRY: usize = 24;
/// `sizeof(dict)`.
const DICT: usize = 56;
/// `sizeof(quicklist)` and `sizeof(quicklistNode)`.
const QUICKLIST: usize = 40;
const QUICKLIST_NODE: usize = 40;
/// `sizeof(zset)`, `sizeof(zskiplist)`, and a skiplist node without its levels.
const ZSET: usize = 16;
const ZSKIPLIST: usize = 32;
const ZSKIPLIST_NODE: usize = 24;
/// Bytes per skiplist level (forward pointer and span).
const ZSKIPLIST_LEVEL: usize = 16;
/// The skiplist header has every level Redis allows.
const ZSKIPLIST_MAXLEVEL: usize = 32;
/// `sizeof(stream)`, `sizeof(streamCG)`, `sizeof(streamConsumer)`, `sizeof(streamNACK)`.
const STREAM: usize = 80;
const STREAM_CG: usize = 40;
const STREAM_CONSUMER: usize = 24;
const STREAM_NACK: usize = 24;
/// A stream node's listpack is created with this many bytes.
const STREAM_PREALLOC: usize = 4096;
/// Listpack header (total bytes, element count) and end marker.
const LP_HEADER: usize = 6;
const LP_END: usize = 1;
/// The bytes quicklist adds to its estimate of a node's growth per element.
const QL_ESTIMATE_OVERHEAD: usize = 8;
/// Node sizes the negative `list-max-listpack-size` values stand for.
const QL_SIZE_LEVELS: [usize; 5] = [4096, 8192, 16384, 32768, 65536];
/// A node limited by count never grows past this many bytes.
const QL_SAFETY_LIMIT: usize = 8192;

/// The size class jemalloc serves a request of `n` bytes from: 8, then multiples of 16 up to
/// 128, then four classes per doubling.
pub fn size_class(n: usize) -> usize {
    if n <= 8 {
        return 8;
    }
    if n <= 128 {
        return (n + 15) & !15;
    }
    let lg = usize::BITS - 1 - (n - 1).leading_zeros();
    // The spacing is a power of two: a shift where a division would be.
    let shift = lg - 2;
    (((n - 1) >> shift) + 1).saturating_mul(1 << shift)
}

/// Bytes of the header sds picks for a string of `len` bytes.
fn sds_header(len: usize) -> usize {
    if len < 32 {
        1
    } else if len < 256 {
        3
    } else if len < 65536 {
        5
    } else if (len as u64) < (1u64 << 32) {
        9
    } else {
        17
    }
}

/// The allocation of an sds string of `len` bytes created at its exact size.
pub fn sds_alloc(len: usize) -> usize {
    size_class(sds_header(len) + len + 1)
}

/// The listpack entry of a sorted-set score: integral scores are stored as integers, others
/// as their `%.17g` text.
fn lp_score(score: f64) -> usize {
    // Redis writes integral scores within ±LLONG_MAX/2 as integers (but -0 as text).
    let integral = score.fract() == 0.0 && score.abs() <= (i64::MAX / 2) as f64;
    if integral && !(score == 0.0 && score.is_sign_negative()) {
        lp_int(score as i64)
    } else {
        lp_entry(crate::util::fmt_g17(score).as_bytes())
    }
}

/// Buckets of a hash table holding `n` elements.
fn dict_slots(n: usize) -> usize {
    n.max(4).next_power_of_two()
}

/// `asize + avg * count` computed as Redis computes it: in double precision, then truncated.
fn add_average(asize: usize, sampled: usize, samples: usize, count: usize) -> usize {
    if samples == 0 {
        return asize;
    }
    (asize as f64 + sampled as f64 / samples as f64 * count as f64) as usize
}

/// MEMORY USAGE of `key` holding `value`: the key's sds and dictionary entry, and the value
/// sampled up to `samples` elements (at least one); `list_fill` is `list-max-listpack-size`.
pub fn key_usage(key: &[u8], value: &Value, samples: usize, list_fill: i64) -> usize {
    sds_alloc(key.len()) + DICT_ENTRY + value_usage(value, samples.max(1), list_fill)
}

/// Redis's `objectComputeSize` for a value.
pub fn value_usage(value: &Value, samples: usize, list_fill: i64) -> usize {
    use crate::types::StrEncoding;
    match value {
        Value::Str(_, StrEncoding::Int) => OBJ,
        Value::Str(b, StrEncoding::Embstr) => size_class(OBJ + 3 + b.len() + 1),
        Value::Str(b, StrEncoding::Raw) => OBJ + sds_alloc(b.len()),
        Value::List(l) => list_usage(l, samples, list_fill),
        Value::Set(s) => set_usage(s, samples),
        Value::Hash(h) => hash_usage(h, samples),
        Value::ZSet(z) => zset_usage(z, samples),
        Value::Stream(s) => stream_usage(s, samples),
    }
}

/// Whether a quicklist node of `node_bytes` holding `count` elements takes one more element of
/// `len` raw bytes under `fill`.
fn node_takes(node_bytes: usize, count: usize, len: usize, fill: i64) -> bool {
    let grown = node_bytes + len + QL_ESTIMATE_OVERHEAD;
    if fill < 0 {
        let level = usize::try_from(-fill - 1).unwrap_or(usize::MAX);
        return QL_SIZE_LEVELS.get(level).is_some_and(|&max| grown <= max);
    }
    grown <= QL_SAFETY_LIMIT && i64::try_from(count).unwrap_or(i64::MAX) < fill
}

fn list_usage(list: &List, samples: usize, fill: i64) -> usize {
    // Node listpack sizes, filled from the head as tail pushes fill them.
    let mut nodes: Vec<usize> = Vec::new();
    let (mut bytes, mut count) = (0usize, 0usize);
    for item in list.iter() {
        if count > 0 && node_takes(bytes, count, item.len(), fill) {
            bytes += lp_entry(item);
            count += 1;
        } else {
            if count > 0 {
                nodes.push(bytes);
            }
            bytes = LP_HEADER + LP_END + lp_entry(item);
            count = 1;
        }
    }
    if count > 0 {
        nodes.push(bytes);
    }
    let asize = OBJ + QUICKLIST;
    let sampled: Vec<usize> = nodes
        .iter()
        .take(samples)
        .map(|&b| QUICKLIST_NODE + size_class(b))
        .collect();
    // Redis samples the head node even of an empty list; lists are never empty here.
    add_average(asize, sampled.iter().sum(), sampled.len(), nodes.len())
}

fn set_usage(set: &Set, samples: usize) -> usize {
    if let Some(ints) = set.ints() {
        return OBJ + size_class(8 + ints.len() * usize::from(set.int_width()));
    }
    let asize = OBJ + DICT + 8 * dict_slots(set.len());
    let mut sampled = 0;
    let mut n = 0;
    for m in set.table_members().into_iter().flatten().take(samples) {
        sampled += DICT_ENTRY + sds_alloc(m.len());
        n += 1;
    }
    add_average(asize, sampled, n, set.len())
}

fn hash_usage(hash: &Hash, samples: usize) -> usize {
    if hash.is_listpack() {
        let bytes: usize = hash.iter().map(|(f, v)| lp_entry(f) + lp_entry(v)).sum();
        return OBJ + size_class(LP_HEADER + LP_END + bytes);
    }
    let asize = OBJ + DICT + 8 * dict_slots(hash.len());
    let mut sampled = 0;
    let mut n = 0;
    for (f, v) in hash.iter().take(samples) {
        sampled += sds_alloc(f.len()) + sds_alloc(v.len()) + DICT_ENTRY;
        n += 1;
    }
    add_average(asize, sampled, n, hash.len())
}

fn zset_usage(z: &ZSet, samples: usize) -> usize {
    if z.is_listpack() {
        let bytes: usize = z.iter().map(|(m, s)| lp_entry(m) + lp_score(s)).sum();
        return OBJ + size_class(LP_HEADER + LP_END + bytes);
    }
    let header = size_class(ZSKIPLIST_NODE + ZSKIPLIST_MAXLEVEL * ZSKIPLIST_LEVEL);
    let asize = OBJ + ZSET + ZSKIPLIST + DICT + 8 * dict_slots(z.len()) + header;
    let mut sampled = 0;
    let mut n = 0;
    for (m, level) in z.levels().take(samples) {
        sampled +=
            sds_alloc(m.len()) + DICT_ENTRY + size_class(ZSKIPLIST_NODE + level * ZSKIPLIST_LEVEL);
        n += 1;
    }
    add_average(asize, sampled, n, z.len())
}

/// Redis's `streamRadixTreeMemoryUsage` for a tree of stream IDs.
fn rax_usage(ids: &[[u8; 16]]) -> usize {
    let nodes = crate::types::stream::rax_nodes(ids);
    ids.len() * 16 + nodes * 4 + nodes * 8 * 30
}

fn stream_usage(s: &Stream, samples: usize) -> usize {
    let nodes: Vec<([u8; 16], usize)> = s
        .node_layout()
        .map(|(id, bytes)| (id.key(), bytes))
        .collect();
    let keys: Vec<[u8; 16]> = nodes.iter().map(|(k, _)| *k).collect();
    let mut asize = OBJ + STREAM + rax_usage(&keys);
    let last = nodes.len().saturating_sub(1);
    let alloc = |i: usize, bytes: usize| {
        if i == last {
            size_class(bytes.max(STREAM_PREALLOC))
        } else {
            size_class(bytes)
        }
    };
    let taken = nodes.len().min(samples);
    let lpsize: usize = nodes
        .iter()
        .take(taken)
        .enumerate()
        .map(|(i, (_, b))| alloc(i, *b))
        .sum();
    if nodes.len() <= taken {
        asize += lpsize;
    } else {
        asize += lpsize / taken.max(1) * (nodes.len() - 1);
        asize += alloc(last, nodes[last].1);
    }
    for g in s.groups.values() {
        let pel: Vec<[u8; 16]> = g.pel.keys().map(|id| id.key()).collect();
        asize += STREAM_CG + rax_usage(&pel) + STREAM_NACK * pel.len();
        for (name, c) in &g.consumers {
            let cpel: Vec<[u8; 16]> = c.pel.iter().map(|id| id.key()).collect();
            asize += STREAM_CONSUMER + name.len() + rax_usage(&cpel);
        }
    }
    asize
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn size_class_rounds_up_as_a_division_would() {
        for n in (129..70_000).chain([usize::MAX / 2, usize::MAX - 1, usize::MAX]) {
            let lg = usize::BITS - 1 - (n - 1).leading_zeros();
            let spacing = 1usize << (lg - 2);
            assert_eq!(
                size_class(n),
                n.div_ceil(spacing).saturating_mul(spacing),
                "{n}"
            );
        }
    }

    #[test]
    fn jemalloc_classes() {
        let got: Vec<usize> = [1, 8, 9, 21, 33, 129, 160, 161, 257, 1006, 4096, 4097]
            .iter()
            .map(|&n| size_class(n))
            .collect();
        assert_eq!(
            got,
            [8, 8, 16, 32, 48, 160, 160, 192, 320, 1024, 4096, 5120]
        );
    }

    #[test]
    fn strings_as_redis_counts_them() {
        // Measured on Redis 7.0.15: SET foo bar → 64, SET n 123 → 48, 100 bytes → 160.
        assert_eq!(
            key_usage(b"foo", &Value::string(b"bar".to_vec()), 5, -2),
            64
        );
        assert_eq!(key_usage(b"n", &Value::string(b"123".to_vec()), 5, -2), 48);
        assert_eq!(
            key_usage(b"big", &Value::string(vec![b'x'; 100]), 5, -2),
            160
        );
    }

    #[test]
    fn radix_tree_nodes() {
        use crate::types::stream::rax_nodes;
        assert_eq!(rax_nodes(&[]), 1);
        assert_eq!(rax_nodes(&[[0u8; 16]]), 2);
        let mut a = [0u8; 16];
        let mut b = [0u8; 16];
        a[15] = 1;
        b[15] = 2;
        // root (compressed), the branching point, two leaves.
        assert_eq!(rax_nodes(&[a, b]), 4);
    }
}
