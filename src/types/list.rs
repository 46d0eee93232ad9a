//! The list type: a double-ended sequence of byte strings.
//!
//! Redis 7.0 keeps every list in a quicklist (a linked list of listpack nodes); the only thing a
//! client can observe of that is `OBJECT ENCODING quicklist`, so a `VecDeque` gives the same
//! behaviour with O(1) pushes and pops at both ends and O(1) indexing.

use std::collections::VecDeque;

/// Which end of a list an operation works on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum End {
    /// The head (index 0): LPUSH, LPOP, LEFT.
    Head,
    /// The tail (index -1): RPUSH, RPOP, RIGHT.
    Tail,
}

/// Where a LINSERT puts the new element relative to the pivot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    /// In front of the pivot.
    Before,
    /// Behind the pivot.
    After,
}

/// A list of byte strings.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct List {
    items: VecDeque<Vec<u8>>,
}

impl List {
    /// An empty list.
    pub fn new() -> List {
        List::default()
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Whether the list has no element (such a list is never stored under a key).
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Adds an element at one end.
    pub fn push(&mut self, end: End, value: Vec<u8>) {
        match end {
            End::Head => self.items.push_front(value),
            End::Tail => self.items.push_back(value),
        }
    }

    /// Removes and returns the element at one end.
    pub fn pop(&mut self, end: End) -> Option<Vec<u8>> {
        match end {
            End::Head => self.items.pop_front(),
            End::Tail => self.items.pop_back(),
        }
    }

    /// Maps a Redis index (negative counts from the tail, -1 the last) to a position.
    pub fn position(&self, index: i64) -> Option<usize> {
        let len = self.items.len() as i64;
        let i = if index < 0 {
            len.checked_add(index)?
        } else {
            index
        };
        if (0..len).contains(&i) {
            usize::try_from(i).ok()
        } else {
            None
        }
    }

    /// The element at a Redis index.
    pub fn get(&self, index: i64) -> Option<&[u8]> {
        self.position(index)
            .and_then(|p| self.items.get(p))
            .map(Vec::as_slice)
    }

    /// Replaces the element at a Redis index; false when the index is out of range.
    pub fn set(&mut self, index: i64, value: Vec<u8>) -> bool {
        match self.position(index).and_then(|p| self.items.get_mut(p)) {
            Some(slot) => {
                *slot = value;
                true
            }
            None => false,
        }
    }

    /// The inclusive position range LRANGE and LTRIM keep for `start..=end` (Redis indices),
    /// or None when it is empty: negative indices count from the tail, a start before the head
    /// is clamped to 0 and an end past the tail to the last element.
    pub fn range_positions(&self, start: i64, end: i64) -> Option<(usize, usize)> {
        let len = self.items.len() as i64;
        let mut start = if start < 0 { len + start } else { start };
        let mut end = if end < 0 { len + end } else { end };
        if start < 0 {
            start = 0;
        }
        if start > end || start >= len {
            return None;
        }
        if end >= len {
            end = len - 1;
        }
        Some((start as usize, end as usize))
    }

    /// The elements in `start..=end` (Redis indices, as LRANGE reads them).
    pub fn range(&self, start: i64, end: i64) -> impl Iterator<Item = &[u8]> + Clone {
        let (from, count) = match self.range_positions(start, end) {
            Some((s, e)) => (s, e - s + 1),
            None => (0, 0),
        };
        self.items.iter().skip(from).take(count).map(Vec::as_slice)
    }

    /// Keeps only `start..=end` (Redis indices, as LTRIM does); returns how many elements were
    /// removed from the head and from the tail.
    pub fn trim(&mut self, start: i64, end: i64) -> (usize, usize) {
        let len = self.items.len();
        let (ltrim, rtrim) = match self.range_positions(start, end) {
            Some((s, e)) => (s, len - e - 1),
            None => (len, 0),
        };
        self.items.drain(..ltrim);
        self.items.truncate(self.items.len() - rtrim);
        (ltrim, rtrim)
    }

    /// Inserts `value` next to the first element equal to `pivot` (from the head); false when
    /// there is no such element.
    pub fn insert(&mut self, side: Side, pivot: &[u8], value: Vec<u8>) -> bool {
        let Some(p) = self.items.iter().position(|e| e.as_slice() == pivot) else {
            return false;
        };
        let at = match side {
            Side::Before => p,
            Side::After => p + 1,
        };
        self.items.insert(at, value);
        true
    }

    /// Removes elements equal to `value` as LREM does: `count` > 0 removes up to `count` from
    /// the head, < 0 up to `|count|` from the tail, 0 all of them. Returns how many went.
    pub fn remove(&mut self, count: i64, value: &[u8]) -> usize {
        let limit = match count.unsigned_abs() {
            0 => usize::MAX,
            n => usize::try_from(n).unwrap_or(usize::MAX),
        };
        // Mark the positions to drop walking from the chosen end, then keep the rest in order.
        let len = self.items.len();
        let mut drop = Vec::new();
        let mut removed = 0;
        for step in 0..len {
            if removed >= limit {
                break;
            }
            let i = if count < 0 { len - 1 - step } else { step };
            if self.items[i].as_slice() == value {
                if drop.is_empty() {
                    drop = vec![false; len];
                }
                drop[i] = true;
                removed += 1;
            }
        }
        if removed > 0 {
            let mut i = 0;
            self.items.retain(|_| {
                let keep = !drop[i];
                i += 1;
                keep
            });
        }
        removed
    }

    /// Positions (from the head) of the elements equal to `value`, as LPOS finds them.
    ///
    /// The search starts at the head, or at the tail when `rank` is negative; the first
    /// `|rank| - 1` matches are skipped; at most `count` positions are returned (0: all);
    /// at most `maxlen` elements are compared (0: all). Redis negates a rank of i64::MIN into
    /// itself, which makes every match qualify and no count ever reached: that is kept.
    pub fn positions(&self, value: &[u8], rank: i64, count: u64, maxlen: u64) -> Vec<usize> {
        let from_tail = rank < 0;
        let rank = if from_tail { rank.wrapping_neg() } else { rank };
        let len = self.items.len();
        let mut out = Vec::new();
        let mut matches: i64 = 0;
        for step in 0..len {
            if maxlen != 0 && step as u64 >= maxlen {
                break;
            }
            let pos = if from_tail { len - 1 - step } else { step };
            if self.items[pos].as_slice() != value {
                continue;
            }
            matches += 1;
            if matches >= rank {
                out.push(pos);
                let taken = matches.wrapping_sub(rank).wrapping_add(1);
                if count != 0 && taken >= 0 && taken as u64 >= count {
                    break;
                }
            }
        }
        out
    }

    /// Every element from head to tail.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &[u8]> + ExactSizeIterator {
        self.items.iter().map(Vec::as_slice)
    }

    /// Rough memory use in bytes (MEMORY USAGE, INFO).
    pub fn approx_bytes(&self) -> usize {
        48 + self.items.iter().map(|e| e.len() + 24).sum::<usize>()
    }
}

impl FromIterator<Vec<u8>> for List {
    fn from_iter<I: IntoIterator<Item = Vec<u8>>>(iter: I) -> List {
        List {
            items: iter.into_iter().collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(items: &[&str]) -> List {
        items.iter().map(|s| s.as_bytes().to_vec()).collect()
    }

    fn strs(l: &List) -> Vec<String> {
        l.iter()
            .map(|e| String::from_utf8_lossy(e).into_owned())
            .collect()
    }

    #[test]
    fn push_pop_both_ends() {
        let mut l = List::new();
        l.push(End::Tail, b"b".to_vec());
        l.push(End::Head, b"a".to_vec());
        l.push(End::Tail, b"c".to_vec());
        assert_eq!(strs(&l), ["a", "b", "c"]);
        assert_eq!(l.pop(End::Tail).as_deref(), Some(&b"c"[..]));
        assert_eq!(l.pop(End::Head).as_deref(), Some(&b"a"[..]));
        assert_eq!(l.len(), 1);
    }

    #[test]
    fn negative_indices() {
        let l = list(&["a", "b", "c"]);
        assert_eq!(l.get(0), Some(&b"a"[..]));
        assert_eq!(l.get(-1), Some(&b"c"[..]));
        assert_eq!(l.get(-3), Some(&b"a"[..]));
        assert_eq!(l.get(-4), None);
        assert_eq!(l.get(3), None);
        assert_eq!(l.get(i64::MIN), None);
        assert_eq!(l.get(i64::MAX), None);
    }

    #[test]
    fn ranges_clamp_like_lrange() {
        let l = list(&["a", "b", "c", "d"]);
        let r = |s, e| l.range(s, e).map(|x| x[0] as char).collect::<String>();
        assert_eq!(r(0, -1), "abcd");
        assert_eq!(r(-100, 100), "abcd");
        assert_eq!(r(1, 2), "bc");
        assert_eq!(r(2, 1), "");
        assert_eq!(r(4, 10), "");
        assert_eq!(r(-2, -1), "cd");
        assert_eq!(r(i64::MIN, i64::MAX), "abcd");
    }

    #[test]
    fn trim_reports_both_sides() {
        let mut l = list(&["a", "b", "c", "d", "e"]);
        assert_eq!(l.trim(1, -2), (1, 1));
        assert_eq!(strs(&l), ["b", "c", "d"]);
        assert_eq!(l.trim(5, 10), (3, 0));
        assert!(l.is_empty());
    }

    #[test]
    fn insert_and_remove() {
        let mut l = list(&["a", "x", "b", "x", "c", "x"]);
        assert!(l.insert(Side::Before, b"b", b"y".to_vec()));
        assert!(l.insert(Side::After, b"c", b"z".to_vec()));
        assert!(!l.insert(Side::After, b"nope", b"z".to_vec()));
        assert_eq!(strs(&l), ["a", "x", "y", "b", "x", "c", "z", "x"]);
        assert_eq!(l.remove(-2, b"x"), 2);
        assert_eq!(strs(&l), ["a", "x", "y", "b", "c", "z"]);
        assert_eq!(l.remove(0, b"x"), 1);
        assert_eq!(l.remove(1, b"q"), 0);
        assert_eq!(l.remove(i64::MIN, b"a"), 1);
    }

    #[test]
    fn lpos_rank_count_maxlen() {
        let l = list(&["a", "b", "a", "c", "a"]);
        assert_eq!(l.positions(b"a", 1, 1, 0), [0]);
        assert_eq!(l.positions(b"a", 2, 0, 0), [2, 4]);
        assert_eq!(l.positions(b"a", -1, 2, 0), [4, 2]);
        assert_eq!(l.positions(b"a", 1, 0, 2), [0]);
        assert_eq!(l.positions(b"a", i64::MIN, 2, 0), [4, 2, 0]);
        assert_eq!(l.positions(b"a", i64::MAX, 0, 0), Vec::<usize>::new());
    }
}
