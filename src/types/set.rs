//! The set type: unordered unique binary-safe members, in one of Redis 7.0's two encodings.
//!
//! - `intset`: while every member is an integer that Redis's `string2ll` accepts and the set
//!   holds at most `set-max-intset-entries` members, the members are kept as a sorted array of
//!   i64. Redis walks an intset in ascending numeric order, and so replies do too: SMEMBERS,
//!   SSCAN, SUNION ... list intset members sorted, and learners see that.
//! - `hashtable`: anything else. Once converted a set never goes back to `intset` (Redis never
//!   shrinks the encoding), although fresh sets built by *STORE commands start as intsets again.
//!
//! Redis 7.0 has no listpack encoding for sets (that came in 7.2).
//!
//! The hashtable keeps its members in a dense vector with a hash index of positions, so a
//! uniformly random member (SPOP, SRANDMEMBER) costs O(1), and removal swaps the last member
//! into the hole.

use std::borrow::Cow;
use std::hash::BuildHasher;

use hashbrown::hash_table::Entry as TableEntry;
use hashbrown::{DefaultHashBuilder, HashTable};

use crate::rng::Rng;
use crate::util::{i64_bytes, parse_i64};

/// A set value.
#[derive(Clone, Debug)]
pub struct Set {
    repr: Repr,
    /// Bytes per integer of the intset's memory layout (2, 4 or 8). Like Redis's intset it
    /// widens for a large member and never narrows again; snapshots (RDB) record it.
    int_width: u8,
}

#[derive(Clone, Debug)]
enum Repr {
    /// Sorted, distinct.
    Ints(Vec<i64>),
    Table(Table),
}

/// Distinct byte strings: a dense vector of members plus a hash index of their positions.
#[derive(Clone, Default)]
struct Table {
    items: Vec<Vec<u8>>,
    index: HashTable<usize>,
    hasher: DefaultHashBuilder,
}

impl std::fmt::Debug for Table {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set()
            .entries(self.items.iter().map(|m| String::from_utf8_lossy(m)))
            .finish()
    }
}

impl Table {
    fn with_capacity(n: usize) -> Table {
        Table {
            items: Vec::with_capacity(n),
            index: HashTable::with_capacity(n),
            hasher: DefaultHashBuilder::default(),
        }
    }

    fn hash(&self, m: &[u8]) -> u64 {
        self.hasher.hash_one(m)
    }

    fn position(&self, m: &[u8]) -> Option<usize> {
        let items = &self.items;
        self.index.find(self.hash(m), |&i| items[i] == m).copied()
    }

    fn contains(&self, m: &[u8]) -> bool {
        self.position(m).is_some()
    }

    fn insert(&mut self, m: &[u8]) -> bool {
        let hash = self.hash(m);
        let Table {
            items,
            index,
            hasher,
        } = self;
        match index.entry(hash, |&i| items[i] == m, |&i| hasher.hash_one(&items[i])) {
            TableEntry::Occupied(_) => false,
            TableEntry::Vacant(v) => {
                v.insert(items.len());
                items.push(m.to_vec());
                true
            }
        }
    }

    fn remove(&mut self, m: &[u8]) -> bool {
        let hash = self.hash(m);
        let Table {
            items,
            index,
            hasher,
        } = self;
        let Ok(found) = index.find_entry(hash, |&i| items[i] == m) else {
            return false;
        };
        let (pos, _) = found.remove();
        let last = items.len() - 1;
        items.swap_remove(pos);
        if pos != last {
            // The former last member now lives at `pos`: repoint its index slot.
            let moved_hash = hasher.hash_one(&items[pos]);
            if let Some(slot) = index.find_mut(moved_hash, |&i| i == last) {
                *slot = pos;
            }
        }
        true
    }
}

impl Default for Set {
    fn default() -> Self {
        Set::new_intset()
    }
}

impl PartialEq for Set {
    /// Same encoding and same members, in whatever order they are kept.
    fn eq(&self, other: &Set) -> bool {
        match (&self.repr, &other.repr) {
            (Repr::Ints(a), Repr::Ints(b)) => a == b,
            (Repr::Table(a), Repr::Table(b)) => {
                a.items.len() == b.items.len() && a.items.iter().all(|m| b.contains(m))
            }
            _ => false,
        }
    }
}

impl Set {
    /// An empty set in the `intset` encoding (where Redis starts the results of set algebra).
    pub fn new_intset() -> Set {
        Set {
            repr: Repr::Ints(Vec::new()),
            int_width: 2,
        }
    }

    /// An empty set in the `hashtable` encoding.
    pub fn new_table() -> Set {
        Set {
            repr: Repr::Table(Table::default()),
            int_width: 2,
        }
    }

    /// An empty set in the encoding Redis picks for a set about to receive `first`: `intset`
    /// when it is an integer, `hashtable` otherwise.
    pub fn for_member(first: &[u8]) -> Set {
        if parse_i64(first).is_some() {
            Set::new_intset()
        } else {
            Set::new_table()
        }
    }

    /// Number of members.
    pub fn len(&self) -> usize {
        match &self.repr {
            Repr::Ints(v) => v.len(),
            Repr::Table(t) => t.items.len(),
        }
    }

    /// Whether the set has no member.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether the set is in the `intset` encoding.
    pub fn is_intset(&self) -> bool {
        matches!(self.repr, Repr::Ints(_))
    }

    /// The name `OBJECT ENCODING` prints.
    pub fn encoding_name(&self) -> &'static str {
        match self.repr {
            Repr::Ints(_) => "intset",
            Repr::Table(_) => "hashtable",
        }
    }

    /// Whether `m` is a member.
    pub fn contains(&self, m: &[u8]) -> bool {
        match &self.repr {
            Repr::Ints(v) => parse_i64(m).is_some_and(|n| v.binary_search(&n).is_ok()),
            Repr::Table(t) => t.contains(m),
        }
    }

    /// Adds `m`; true when it was not a member. An intset turns into a hashtable when `m` is
    /// not an integer or when it grows past `max_intset` members (`set-max-intset-entries`).
    pub fn add(&mut self, m: &[u8], max_intset: usize) -> bool {
        match &mut self.repr {
            Repr::Table(t) => t.insert(m),
            Repr::Ints(v) => match parse_i64(m) {
                Some(n) => match v.binary_search(&n) {
                    Ok(_) => false,
                    Err(at) => {
                        v.insert(at, n);
                        self.int_width = self.int_width.max(int_width(n));
                        if v.len() > max_intset {
                            self.convert_to_table();
                        }
                        true
                    }
                },
                None => {
                    self.convert_to_table();
                    if let Repr::Table(t) = &mut self.repr {
                        t.insert(m);
                    }
                    true
                }
            },
        }
    }

    /// Removes `m`; true when it was a member. The encoding never changes.
    pub fn remove(&mut self, m: &[u8]) -> bool {
        match &mut self.repr {
            Repr::Ints(v) => match parse_i64(m).map(|n| v.binary_search(&n)) {
                Some(Ok(at)) => {
                    v.remove(at);
                    true
                }
                _ => false,
            },
            Repr::Table(t) => t.remove(m),
        }
    }

    /// Turns an intset into a hashtable holding the same members (a no-op for a hashtable).
    pub fn convert_to_table(&mut self) {
        if let Repr::Ints(v) = &self.repr {
            let mut t = Table::with_capacity(v.len() + 1);
            for &n in v {
                t.insert(&i64_bytes(n));
            }
            self.repr = Repr::Table(t);
        }
    }

    /// The members of an intset, ascending; None for a hashtable.
    pub fn ints(&self) -> Option<&[i64]> {
        match &self.repr {
            Repr::Ints(v) => Some(v),
            Repr::Table(_) => None,
        }
    }

    /// Bytes per integer in the intset layout (2, 4 or 8): the widest member it ever held.
    pub fn int_width(&self) -> u8 {
        self.int_width
    }

    /// An intset from strictly ascending integers stored `width` bytes each (as a snapshot
    /// holds one); None when they are not ascending, do not fit `width`, or `width` is not
    /// 2, 4 or 8.
    pub fn from_ints(values: Vec<i64>, width: u8) -> Option<Set> {
        let ascending = values.windows(2).all(|w| w[0] < w[1]);
        let fits = values.iter().all(|&n| int_width(n) <= width);
        (matches!(width, 2 | 4 | 8) && ascending && fits).then_some(Set {
            repr: Repr::Ints(values),
            int_width: width,
        })
    }

    /// The members in the order Redis walks them: ascending for an intset, the table's own
    /// order for a hashtable.
    pub fn iter(&self) -> impl Iterator<Item = Cow<'_, [u8]>> + '_ {
        let (ints, table): (&[i64], &[Vec<u8>]) = match &self.repr {
            Repr::Ints(v) => (v, &[]),
            Repr::Table(t) => (&[], &t.items),
        };
        ints.iter()
            .map(|&n| Cow::Owned(i64_bytes(n)))
            .chain(table.iter().map(|m| Cow::Borrowed(m.as_slice())))
    }

    /// The members of a hashtable-encoded set, borrowed; None for an intset.
    pub fn table_members(&self) -> Option<impl Iterator<Item = &[u8]> + '_> {
        match &self.repr {
            Repr::Ints(_) => None,
            Repr::Table(t) => Some(t.items.iter().map(Vec::as_slice)),
        }
    }

    /// A uniformly chosen member, or None when the set is empty.
    pub fn random(&self, rng: &mut Rng) -> Option<Cow<'_, [u8]>> {
        let n = self.len();
        if n == 0 {
            return None;
        }
        let i = rng.below(n as u64) as usize;
        match &self.repr {
            Repr::Ints(v) => v.get(i).map(|&x| Cow::Owned(i64_bytes(x))),
            Repr::Table(t) => t.items.get(i).map(|m| Cow::Borrowed(m.as_slice())),
        }
    }

    /// Removes and returns a uniformly chosen member, or None when the set is empty.
    pub fn pop_random(&mut self, rng: &mut Rng) -> Option<Vec<u8>> {
        let n = self.len();
        if n == 0 {
            return None;
        }
        let i = rng.below(n as u64) as usize;
        match &mut self.repr {
            Repr::Ints(v) => Some(i64_bytes(v.remove(i))),
            Repr::Table(t) => {
                let m = t.items.get(i)?.clone();
                t.remove(&m);
                Some(m)
            }
        }
    }

    /// A rough count of the bytes the set occupies.
    pub fn approx_bytes(&self) -> usize {
        match &self.repr {
            Repr::Ints(v) => 16 + v.len() * 8,
            Repr::Table(t) => 16 + t.items.iter().map(|m| m.len() + 40).sum::<usize>(),
        }
    }
}

/// The narrowest intset layout (2, 4 or 8 bytes) that holds `n`.
fn int_width(n: i64) -> u8 {
    if i16::try_from(n).is_ok() {
        2
    } else if i32::try_from(n).is_ok() {
        4
    } else {
        8
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn members(s: &Set) -> Vec<Vec<u8>> {
        s.iter().map(Cow::into_owned).collect()
    }

    #[test]
    fn integers_stay_an_intset_in_numeric_order() {
        let mut s = Set::for_member(b"10");
        assert!(s.is_intset());
        for m in [
            "10",
            "-3",
            "2",
            "10",
            "9223372036854775807",
            "-9223372036854775808",
        ] {
            s.add(m.as_bytes(), 512);
        }
        assert_eq!(s.encoding_name(), "intset");
        assert_eq!(
            members(&s),
            vec![
                b"-9223372036854775808".to_vec(),
                b"-3".to_vec(),
                b"2".to_vec(),
                b"10".to_vec(),
                b"9223372036854775807".to_vec()
            ]
        );
        assert!(s.contains(b"2"));
        assert!(!s.contains(b"02"));
        assert!(!s.contains(b"x"));
    }

    #[test]
    fn a_non_integer_member_converts_to_a_hashtable() {
        for odd in ["x", "01", " 1", "-0", "+1", "9223372036854775808", ""] {
            let mut s = Set::for_member(b"1");
            assert!(s.add(b"1", 512));
            assert!(s.add(odd.as_bytes(), 512), "{odd}");
            assert_eq!(s.encoding_name(), "hashtable", "{odd}");
            assert!(s.contains(b"1") && s.contains(odd.as_bytes()));
            assert_eq!(s.len(), 2);
        }
        assert_eq!(Set::for_member(b"a").encoding_name(), "hashtable");
    }

    #[test]
    fn growing_past_the_threshold_converts() {
        let mut s = Set::new_intset();
        s.add(b"1", 2);
        s.add(b"2", 2);
        assert!(s.is_intset());
        assert!(!s.add(b"2", 2));
        assert!(s.is_intset());
        s.add(b"3", 2);
        assert!(!s.is_intset());
        // Removal never converts back.
        s.remove(b"3");
        s.remove(b"2");
        assert!(!s.is_intset());
        let mut z = Set::new_intset();
        z.add(b"5", 0);
        assert!(!z.is_intset());
        assert!(z.contains(b"5"));
    }

    #[test]
    fn table_insert_remove_keeps_the_index_consistent() {
        let mut s = Set::new_table();
        let names: Vec<Vec<u8>> = (0..200).map(|i| format!("m{i}").into_bytes()).collect();
        for n in &names {
            assert!(s.add(n, 512));
        }
        for n in names.iter().step_by(3) {
            assert!(s.remove(n));
            assert!(!s.remove(n));
        }
        for (i, n) in names.iter().enumerate() {
            assert_eq!(s.contains(n), i % 3 != 0, "{i}");
        }
        assert_eq!(s.len(), 200 - 67);
        let mut got = members(&s);
        got.sort();
        got.dedup();
        assert_eq!(got.len(), s.len());
    }

    #[test]
    fn random_and_pop_cover_the_set() {
        let mut rng = Rng::new(7);
        for mut s in [Set::new_intset(), Set::new_table()] {
            for i in 0..20 {
                s.add(format!("{i}").as_bytes(), 512);
            }
            for _ in 0..100 {
                let m = s.random(&mut rng).map(Cow::into_owned);
                assert!(m.is_some_and(|m| s.contains(&m)));
            }
            let mut popped = Vec::new();
            while let Some(m) = s.pop_random(&mut rng) {
                assert!(!s.contains(&m));
                popped.push(m);
            }
            assert_eq!(popped.len(), 20);
            assert!(s.is_empty());
            assert!(s.random(&mut rng).is_none());
        }
    }

    #[test]
    fn the_intset_layout_widens_and_never_narrows() {
        let mut s = Set::new_intset();
        s.add(b"5", 512);
        assert_eq!(s.int_width(), 2);
        s.add(b"40000", 512);
        assert_eq!(s.int_width(), 4);
        s.add(b"-9223372036854775808", 512);
        assert_eq!(s.int_width(), 8);
        s.remove(b"-9223372036854775808");
        s.remove(b"40000");
        assert_eq!(s.int_width(), 8);
        assert_eq!(s.ints(), Some(&[5][..]));
        assert!(Set::from_ints(vec![1, 2, 3], 2).is_some());
        assert!(Set::from_ints(vec![1, 3, 2], 2).is_none());
        assert!(Set::from_ints(vec![1, 1], 2).is_none());
        assert!(Set::from_ints(vec![70000], 2).is_none());
        assert!(Set::from_ints(vec![1], 3).is_none());
    }

    #[test]
    fn equality_ignores_table_order() {
        let mut a = Set::new_table();
        let mut b = Set::new_table();
        for m in ["x", "y", "z"] {
            a.add(m.as_bytes(), 512);
        }
        for m in ["z", "x", "y"] {
            b.add(m.as_bytes(), 512);
        }
        assert_eq!(a, b);
        let mut c = Set::new_intset();
        c.add(b"1", 512);
        let mut d = Set::new_table();
        d.add(b"1", 512);
        assert_ne!(c, d);
    }
}
