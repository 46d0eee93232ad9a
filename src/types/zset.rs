//! The sorted set: members ordered by (score, member bytes), with rank and range queries in
//! O(log n).
//!
//! An indexable skiplist (every forward link carries its span, the number of level-0 steps it
//! skips) gives rank ↔ position in O(log n); a hash table maps each member to its node so a
//! score lookup is O(1). Nodes live in an arena (`Vec<Node>` addressed by `u32`), so no unsafe
//! code and no reference counting are needed; freed slots are reused.
//!
//! Redis keeps small sorted sets in a "listpack" (a flat sorted array) and converts them to a
//! skiplist past `zset-max-listpack-entries` / `zset-max-listpack-value`. This type always uses
//! the skiplist, but remembers which encoding Redis would be using, because OBJECT ENCODING
//! shows it and because a few behaviours differ: a listpack stores `-0` as `0`, and its lex
//! range search is a linear scan (which gives a different, but deterministic, answer when the
//! scores are not all equal).

use hashbrown::{DefaultHashBuilder, HashTable};
use std::cmp::Ordering;
use std::hash::BuildHasher;

/// Redis's ZSKIPLIST_MAXLEVEL.
const MAX_LEVEL: usize = 32;
/// "No node": the end of a chain.
const NIL: u32 = u32::MAX;
/// The header node's slot.
const HEAD: u32 = 0;

#[derive(Clone, Copy, Debug)]
struct Link {
    next: u32,
    span: u32,
}

#[derive(Clone, Debug)]
struct Node {
    member: Box<[u8]>,
    score: f64,
    back: u32,
    links: Vec<Link>,
}

/// The thresholds under which Redis keeps a sorted set as a listpack.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// `zset-max-listpack-entries`.
    pub entries: usize,
    /// `zset-max-listpack-value` (bytes of the longest member).
    pub value: usize,
}

/// A range of scores, each end inclusive or exclusive.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ScoreRange {
    /// Lower bound.
    pub min: f64,
    /// Upper bound.
    pub max: f64,
    /// Whether `min` itself is excluded.
    pub minex: bool,
    /// Whether `max` itself is excluded.
    pub maxex: bool,
}

impl ScoreRange {
    /// Whether `v` is at or above the lower bound.
    pub fn gte_min(&self, v: f64) -> bool {
        if self.minex {
            v > self.min
        } else {
            v >= self.min
        }
    }

    /// Whether `v` is at or below the upper bound.
    pub fn lte_max(&self, v: f64) -> bool {
        if self.maxex {
            v < self.max
        } else {
            v <= self.max
        }
    }

    /// Whether no score can satisfy the range.
    pub fn is_empty(&self) -> bool {
        self.min > self.max || (self.min == self.max && (self.minex || self.maxex))
    }
}

/// One end of a lexicographic range: `-`, `+`, `[member` or `(member`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LexBound {
    /// `-`: below every member.
    Min,
    /// `+`: above every member.
    Max,
    /// `[member`: inclusive.
    Incl(Vec<u8>),
    /// `(member`: exclusive.
    Excl(Vec<u8>),
}

impl LexBound {
    /// Compares two bounds as Redis's `sdscmplex` does: the sentinels sort outside every
    /// string and equal only themselves.
    fn cmp_bound(&self, other: &LexBound) -> Ordering {
        use LexBound::*;
        match (self, other) {
            (Min, Min) | (Max, Max) => Ordering::Equal,
            (Min, _) | (_, Max) => Ordering::Less,
            (Max, _) | (_, Min) => Ordering::Greater,
            (Incl(a) | Excl(a), Incl(b) | Excl(b)) => a.cmp(b),
        }
    }

    fn exclusive(&self) -> bool {
        !matches!(self, LexBound::Incl(_))
    }
}

/// A lexicographic range of members.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LexRange {
    /// Lower bound.
    pub min: LexBound,
    /// Upper bound.
    pub max: LexBound,
}

impl LexRange {
    /// Whether `m` is at or above the lower bound.
    pub fn gte_min(&self, m: &[u8]) -> bool {
        match &self.min {
            LexBound::Min => true,
            LexBound::Max => false,
            LexBound::Incl(b) => m >= b.as_slice(),
            LexBound::Excl(b) => m > b.as_slice(),
        }
    }

    /// Whether `m` is at or below the upper bound.
    pub fn lte_max(&self, m: &[u8]) -> bool {
        match &self.max {
            LexBound::Max => true,
            LexBound::Min => false,
            LexBound::Incl(b) => m <= b.as_slice(),
            LexBound::Excl(b) => m < b.as_slice(),
        }
    }

    /// Whether the range is empty whatever the set holds.
    pub fn is_empty(&self) -> bool {
        match self.min.cmp_bound(&self.max) {
            Ordering::Greater => true,
            Ordering::Equal => self.min.exclusive() || self.max.exclusive(),
            Ordering::Less => false,
        }
    }
}

/// A sorted set.
#[derive(Clone)]
pub struct ZSet {
    nodes: Vec<Node>,
    free: Vec<u32>,
    tail: u32,
    level: usize,
    len: usize,
    index: HashTable<u32>,
    hasher: DefaultHashBuilder,
    seed: u64,
    listpack: bool,
}

impl Default for ZSet {
    fn default() -> Self {
        ZSet::new()
    }
}

impl std::fmt::Debug for ZSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.iter().map(|(m, s)| (String::from_utf8_lossy(m), s)))
            .finish()
    }
}

impl PartialEq for ZSet {
    fn eq(&self, other: &ZSet) -> bool {
        self.len == other.len
            && self
                .iter()
                .zip(other.iter())
                .all(|((m1, s1), (m2, s2))| m1 == m2 && (s1 == s2 || (s1.is_nan() && s2.is_nan())))
    }
}

/// Orders (score, member) pairs as the set does.
fn before(score: f64, member: &[u8], other_score: f64, other_member: &[u8]) -> bool {
    score < other_score || (score == other_score && member < other_member)
}

impl ZSet {
    /// An empty sorted set in the listpack encoding (Redis creates small sets that way).
    pub fn new() -> ZSet {
        let head = Node {
            member: Box::default(),
            score: 0.0,
            back: NIL,
            links: vec![Link { next: NIL, span: 0 }; MAX_LEVEL],
        };
        ZSet {
            nodes: vec![head],
            free: Vec::new(),
            tail: NIL,
            level: 1,
            len: 0,
            index: HashTable::new(),
            hasher: DefaultHashBuilder::default(),
            seed: 0x2545_F491_4F6C_DD1D,
            listpack: true,
        }
    }

    /// Number of members.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the set has no member.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Whether Redis would hold this set as a listpack.
    pub fn is_listpack(&self) -> bool {
        self.listpack
    }

    /// The name OBJECT ENCODING prints.
    pub fn encoding_name(&self) -> &'static str {
        if self.listpack {
            "listpack"
        } else {
            "skiplist"
        }
    }

    /// Switches to the skiplist encoding for good (Redis never converts back on its own).
    pub fn convert_to_skiplist(&mut self) {
        self.listpack = false;
    }

    /// Picks the encoding a freshly computed result gets (ZUNIONSTORE and friends): listpack
    /// when it fits the limits, with `-0` scores stored as `0` as a listpack stores them.
    pub fn settle_encoding(&mut self, limits: Limits) {
        let fits = self.len <= limits.entries && self.iter().all(|(m, _)| m.len() <= limits.value);
        self.listpack = fits;
        if fits {
            for n in self.nodes.iter_mut().skip(1) {
                if n.score == 0.0 {
                    n.score = 0.0;
                }
            }
        }
    }

    /// The score of `member`.
    pub fn score(&self, member: &[u8]) -> Option<f64> {
        self.find(member).map(|id| self.node(id).score)
    }

    /// Whether `member` is in the set.
    pub fn contains(&self, member: &[u8]) -> bool {
        self.find(member).is_some()
    }

    /// Sets `member`'s score, adding it when new; returns the previous score. A new member
    /// that would push a listpack past `limits` converts the set to a skiplist first.
    pub fn insert(&mut self, member: &[u8], score: f64, limits: Limits) -> Option<f64> {
        let existing = self.find(member);
        if existing.is_none()
            && self.listpack
            && (self.len + 1 > limits.entries || member.len() > limits.value)
        {
            self.listpack = false;
        }
        // A listpack stores scores as text, and `-0` comes back as `0`.
        let score = if self.listpack && score == 0.0 {
            0.0
        } else {
            score
        };
        if let Some(id) = existing {
            let old = self.node(id).score;
            if old != score {
                self.unlink(id);
                self.node_mut(id).score = score;
                self.link(id);
            }
            return Some(old);
        }
        let node = Node {
            member: member.into(),
            score,
            back: NIL,
            links: Vec::new(),
        };
        let id = match self.free.pop() {
            Some(id) => {
                self.nodes[id as usize] = node;
                id
            }
            None => {
                self.nodes.push(node);
                (self.nodes.len() - 1) as u32
            }
        };
        self.link(id);
        let hash = self.hasher.hash_one(member);
        let nodes = &self.nodes;
        let hasher = &self.hasher;
        self.index
            .insert_unique(hash, id, |&i| hasher.hash_one(&*nodes[i as usize].member));
        self.len += 1;
        None
    }

    /// Removes `member`; returns its score when it was there.
    pub fn remove(&mut self, member: &[u8]) -> Option<f64> {
        let hash = self.hasher.hash_one(member);
        let nodes = &self.nodes;
        let entry = self
            .index
            .find_entry(hash, |&i| &*nodes[i as usize].member == member)
            .ok()?;
        let (id, _) = entry.remove();
        self.unlink(id);
        self.len -= 1;
        let node = self.node_mut(id);
        let score = node.score;
        node.member = Box::default();
        node.links = Vec::new();
        self.free.push(id);
        if self.len == 0 {
            // An empty set gives its arena back.
            self.nodes.truncate(1);
            self.free.clear();
        }
        Some(score)
    }

    /// The 0-based rank of `member` in ascending order.
    pub fn rank(&self, member: &[u8]) -> Option<usize> {
        let id = self.find(member)?;
        let (score, m) = (self.node(id).score, &self.node(id).member);
        let mut x = HEAD;
        let mut rank = 0usize;
        for i in (0..self.level).rev() {
            loop {
                let l = self.node(x).links[i];
                if l.next == NIL {
                    break;
                }
                let n = self.node(l.next);
                if before(n.score, &n.member, score, m) || l.next == id {
                    rank += l.span as usize;
                    x = l.next;
                    if x == id {
                        return Some(rank - 1);
                    }
                } else {
                    break;
                }
            }
        }
        None
    }

    /// The member and score at 0-based ascending rank `rank`.
    pub fn at(&self, rank: usize) -> Option<(&[u8], f64)> {
        let id = self.id_at(rank)?;
        let n = self.node(id);
        Some((&n.member, n.score))
    }

    /// Members and scores in ascending order from rank `rank`.
    pub fn iter_from(&self, rank: usize) -> Iter<'_> {
        Iter {
            set: self,
            id: self.id_at(rank).unwrap_or(NIL),
            forward: true,
        }
    }

    /// Members and scores in descending order from ascending rank `rank` down to the first.
    pub fn iter_rev_from(&self, rank: usize) -> Iter<'_> {
        Iter {
            set: self,
            id: self.id_at(rank).unwrap_or(NIL),
            forward: false,
        }
    }

    /// Every member and score, ascending.
    pub fn iter(&self) -> Iter<'_> {
        let first = self.node(HEAD).links[0].next;
        Iter {
            set: self,
            id: first,
            forward: true,
        }
    }

    /// Members in order with the number of levels of their skiplist node (MEMORY USAGE).
    pub fn levels(&self) -> impl Iterator<Item = (&[u8], usize)> + '_ {
        let mut id = self.node(HEAD).links[0].next;
        std::iter::from_fn(move || {
            if id == NIL {
                return None;
            }
            let n = self.node(id);
            id = n.links[0].next;
            Some((&n.member[..], n.links.len()))
        })
    }

    /// Every member and score, descending.
    pub fn iter_rev(&self) -> Iter<'_> {
        Iter {
            set: self,
            id: self.tail,
            forward: false,
        }
    }

    /// The rank of the first member whose score is in `range`.
    pub fn score_first(&self, range: &ScoreRange) -> Option<usize> {
        if !self.may_hold_scores(range) {
            return None;
        }
        let (x, rank) = self.descend(|n| !range.gte_min(n.score));
        let next = self.node(x).links[0].next;
        (next != NIL && range.lte_max(self.node(next).score)).then_some(rank)
    }

    /// The rank of the last member whose score is in `range`.
    pub fn score_last(&self, range: &ScoreRange) -> Option<usize> {
        if !self.may_hold_scores(range) {
            return None;
        }
        let (x, rank) = self.descend(|n| range.lte_max(n.score));
        (x != HEAD && range.gte_min(self.node(x).score)).then(|| rank - 1)
    }

    /// How many members have a score in `range`.
    pub fn count_in_scores(&self, range: &ScoreRange) -> usize {
        match (self.score_first(range), self.score_last(range)) {
            (Some(a), Some(b)) if b >= a => b - a + 1,
            _ => 0,
        }
    }

    /// The rank where a lexicographic walk forward starts: the first member at or above the
    /// lower bound, provided it is also within the upper bound. The walk then goes on while
    /// members stay within the upper bound.
    pub fn lex_first(&self, range: &LexRange) -> Option<usize> {
        if !self.may_hold_lex(range) {
            return None;
        }
        if self.listpack {
            // A listpack is scanned from its head.
            let (rank, m) = self
                .iter()
                .enumerate()
                .find(|(_, (m, _))| range.gte_min(m))
                .map(|(r, (m, _))| (r, m))?;
            return range.lte_max(m).then_some(rank);
        }
        let (x, rank) = self.descend(|n| !range.gte_min(&n.member));
        let next = self.node(x).links[0].next;
        (next != NIL && range.lte_max(&self.node(next).member)).then_some(rank)
    }

    /// The rank where a lexicographic walk backward starts: the last member at or below the
    /// upper bound, provided it is also within the lower bound.
    pub fn lex_last(&self, range: &LexRange) -> Option<usize> {
        if !self.may_hold_lex(range) {
            return None;
        }
        if self.listpack {
            let (i, m) = self
                .iter_rev()
                .enumerate()
                .find(|(_, (m, _))| range.lte_max(m))
                .map(|(i, (m, _))| (i, m))?;
            return range.gte_min(m).then(|| self.len - 1 - i);
        }
        let (x, rank) = self.descend(|n| range.lte_max(&n.member));
        (x != HEAD && range.gte_min(&self.node(x).member)).then(|| rank - 1)
    }

    /// How many members a forward lexicographic walk over `range` visits (ZLEXCOUNT).
    pub fn count_in_lex(&self, range: &LexRange) -> usize {
        let Some(first) = self.lex_first(range) else {
            return 0;
        };
        if self.listpack {
            return self
                .iter_from(first)
                .take_while(|(m, _)| range.lte_max(m))
                .count();
        }
        match self.lex_last(range) {
            Some(last) if last >= first => last - first + 1,
            _ => 0,
        }
    }

    /// A rough count of the bytes the set occupies.
    pub fn approx_bytes(&self) -> usize {
        self.nodes
            .iter()
            .map(|n| n.member.len() + 48 + n.links.len() * 8)
            .sum::<usize>()
            + self.index.capacity() * 5
    }

    // ---- internals ----

    fn node(&self, id: u32) -> &Node {
        &self.nodes[id as usize]
    }

    fn node_mut(&mut self, id: u32) -> &mut Node {
        &mut self.nodes[id as usize]
    }

    fn find(&self, member: &[u8]) -> Option<u32> {
        let hash = self.hasher.hash_one(member);
        self.index
            .find(hash, |&i| &*self.nodes[i as usize].member == member)
            .copied()
    }

    fn first_node(&self) -> Option<&Node> {
        let id = self.node(HEAD).links[0].next;
        (id != NIL).then(|| self.node(id))
    }

    fn may_hold_scores(&self, range: &ScoreRange) -> bool {
        if range.is_empty() || self.tail == NIL {
            return false;
        }
        let last = self.node(self.tail).score;
        match self.first_node() {
            Some(first) => range.gte_min(last) && range.lte_max(first.score),
            None => false,
        }
    }

    fn may_hold_lex(&self, range: &LexRange) -> bool {
        if range.is_empty() || self.tail == NIL {
            return false;
        }
        match self.first_node() {
            Some(first) => {
                range.gte_min(&self.node(self.tail).member) && range.lte_max(&first.member)
            }
            None => false,
        }
    }

    /// Walks down from the header, moving forward while `go_on` holds for the next node.
    /// Returns the last node reached and its 1-based rank (0 for the header).
    fn descend(&self, go_on: impl Fn(&Node) -> bool) -> (u32, usize) {
        let mut x = HEAD;
        let mut rank = 0usize;
        for i in (0..self.level).rev() {
            loop {
                let l = self.node(x).links[i];
                if l.next != NIL && go_on(self.node(l.next)) {
                    rank += l.span as usize;
                    x = l.next;
                } else {
                    break;
                }
            }
        }
        (x, rank)
    }

    fn id_at(&self, rank: usize) -> Option<u32> {
        if rank >= self.len {
            return None;
        }
        let target = rank + 1;
        let mut x = HEAD;
        let mut traversed = 0usize;
        for i in (0..self.level).rev() {
            loop {
                let l = self.node(x).links[i];
                if l.next != NIL && traversed + l.span as usize <= target {
                    traversed += l.span as usize;
                    x = l.next;
                } else {
                    break;
                }
            }
            if traversed == target {
                return Some(x);
            }
        }
        None
    }

    fn random_level(&mut self) -> usize {
        // xorshift64*: a branch of 1/4 per extra level, as Redis's ZSKIPLIST_P.
        let mut level = 1;
        loop {
            self.seed ^= self.seed >> 12;
            self.seed ^= self.seed << 25;
            self.seed ^= self.seed >> 27;
            let r = self.seed.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 32;
            if r & 3 != 0 || level >= MAX_LEVEL {
                return level;
            }
            level += 1;
        }
    }

    /// The nodes preceding (score, member) at each level, and their 1-based ranks.
    fn path(&self, score: f64, member: &[u8]) -> ([u32; MAX_LEVEL], [usize; MAX_LEVEL]) {
        let mut update = [HEAD; MAX_LEVEL];
        let mut rank = [0usize; MAX_LEVEL];
        let mut x = HEAD;
        let mut traversed = 0usize;
        for i in (0..self.level).rev() {
            loop {
                let l = self.node(x).links[i];
                if l.next == NIL {
                    break;
                }
                let n = self.node(l.next);
                if before(n.score, &n.member, score, member) {
                    traversed += l.span as usize;
                    x = l.next;
                } else {
                    break;
                }
            }
            update[i] = x;
            rank[i] = traversed;
        }
        (update, rank)
    }

    /// Puts arena node `id` into the skiplist at the place its score and member give it.
    fn link(&mut self, id: u32) {
        let (mut update, mut rank) = {
            let n = self.node(id);
            self.path(n.score, &n.member)
        };
        let level = self.random_level();
        if level > self.level {
            for i in self.level..level {
                update[i] = HEAD;
                rank[i] = 0;
                self.nodes[HEAD as usize].links[i].span = self.len as u32;
            }
            self.level = level;
        }
        let mut links = vec![Link { next: NIL, span: 0 }; level];
        for i in 0..level {
            let prev = self.node(update[i]).links[i];
            links[i].next = prev.next;
            links[i].span = prev.span - (rank[0] - rank[i]) as u32;
            let p = &mut self.nodes[update[i] as usize].links[i];
            p.next = id;
            p.span = (rank[0] - rank[i]) as u32 + 1;
        }
        for (i, &u) in update.iter().enumerate().take(self.level).skip(level) {
            self.nodes[u as usize].links[i].span += 1;
        }
        let back = if update[0] == HEAD { NIL } else { update[0] };
        let next0 = links[0].next;
        let node = self.node_mut(id);
        node.links = links;
        node.back = back;
        if next0 == NIL {
            self.tail = id;
        } else {
            self.node_mut(next0).back = id;
        }
    }

    /// Takes arena node `id` out of the skiplist (it stays in the arena and the index).
    fn unlink(&mut self, id: u32) {
        let (update, _) = {
            let n = self.node(id);
            self.path(n.score, &n.member)
        };
        for (i, &u) in update.iter().enumerate().take(self.level) {
            let ul = self.node(u).links[i];
            if ul.next == id {
                let nl = self.node(id).links[i];
                let p = &mut self.nodes[u as usize].links[i];
                p.span = p.span + nl.span - 1;
                p.next = nl.next;
            } else {
                self.nodes[u as usize].links[i].span -= 1;
            }
        }
        let next0 = self.node(id).links[0].next;
        let back = self.node(id).back;
        if next0 == NIL {
            self.tail = back;
        } else {
            self.node_mut(next0).back = back;
        }
        while self.level > 1 && self.node(HEAD).links[self.level - 1].next == NIL {
            self.level -= 1;
        }
    }
}

/// An iterator over (member, score) in one direction.
pub struct Iter<'a> {
    set: &'a ZSet,
    id: u32,
    forward: bool,
}

impl<'a> Iterator for Iter<'a> {
    type Item = (&'a [u8], f64);

    fn next(&mut self) -> Option<Self::Item> {
        if self.id == NIL {
            return None;
        }
        let n = self.set.node(self.id);
        self.id = if self.forward {
            n.links[0].next
        } else {
            n.back
        };
        Some((&n.member, n.score))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BIG: Limits = Limits {
        entries: 128,
        value: 64,
    };

    fn set(items: &[(&str, f64)]) -> ZSet {
        let mut z = ZSet::new();
        for (m, s) in items {
            z.insert(m.as_bytes(), *s, BIG);
        }
        z
    }

    fn members(it: Iter<'_>) -> Vec<String> {
        it.map(|(m, _)| String::from_utf8_lossy(m).into_owned())
            .collect()
    }

    #[test]
    fn orders_by_score_then_member() {
        let z = set(&[("b", 1.0), ("a", 1.0), ("c", 0.5), ("d", f64::INFINITY)]);
        assert_eq!(members(z.iter()), ["c", "a", "b", "d"]);
        assert_eq!(members(z.iter_rev()), ["d", "b", "a", "c"]);
        assert_eq!(z.rank(b"a"), Some(1));
        assert_eq!(z.rank(b"d"), Some(3));
        assert_eq!(z.rank(b"x"), None);
        assert_eq!(z.at(2), Some((&b"b"[..], 1.0)));
        assert_eq!(z.at(4), None);
    }

    #[test]
    fn update_moves_and_remove_unlinks() {
        let mut z = set(&[("a", 1.0), ("b", 2.0), ("c", 3.0)]);
        assert_eq!(z.insert(b"a", 5.0, BIG), Some(1.0));
        assert_eq!(members(z.iter()), ["b", "c", "a"]);
        assert_eq!(z.remove(b"c"), Some(3.0));
        assert_eq!(z.remove(b"c"), None);
        assert_eq!(members(z.iter()), ["b", "a"]);
        assert_eq!(members(z.iter_rev()), ["a", "b"]);
        assert_eq!(z.len(), 2);
    }

    #[test]
    fn ranks_stay_right_under_random_churn() {
        let mut z = ZSet::new();
        let mut model: Vec<(f64, Vec<u8>)> = Vec::new();
        let mut r = crate::rng::Rng::new(7);
        for step in 0..4000 {
            let m = format!("m{}", r.below(600)).into_bytes();
            if r.below(3) == 0 {
                z.remove(&m);
                model.retain(|(_, x)| *x != m);
            } else {
                let s = r.below(50) as f64;
                z.insert(&m, s, BIG);
                model.retain(|(_, x)| *x != m);
                model.push((s, m));
            }
            if step % 200 == 0 {
                model.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
                let got: Vec<(f64, Vec<u8>)> = z.iter().map(|(m, s)| (s, m.to_vec())).collect();
                assert_eq!(got, model);
                for (i, (_, m)) in model.iter().enumerate() {
                    assert_eq!(z.rank(m), Some(i));
                    assert_eq!(z.at(i).map(|(x, _)| x.to_vec()), Some(m.clone()));
                }
            }
        }
    }

    #[test]
    fn score_ranges() {
        let z = set(&[("a", 1.0), ("b", 2.0), ("c", 3.0), ("d", 4.0)]);
        let r = |min, max, minex, maxex| ScoreRange {
            min,
            max,
            minex,
            maxex,
        };
        assert_eq!(z.score_first(&r(2.0, 3.0, false, false)), Some(1));
        assert_eq!(z.score_last(&r(2.0, 3.0, false, false)), Some(2));
        assert_eq!(z.count_in_scores(&r(2.0, 3.0, true, false)), 1);
        assert_eq!(
            z.count_in_scores(&r(f64::NEG_INFINITY, f64::INFINITY, false, false)),
            4
        );
        assert_eq!(z.count_in_scores(&r(5.0, 9.0, false, false)), 0);
        assert_eq!(z.count_in_scores(&r(3.0, 3.0, true, false)), 0);
        assert_eq!(z.score_first(&r(2.5, 2.7, false, false)), None);
    }

    #[test]
    fn lex_ranges_in_both_encodings() {
        let mut z = set(&[("a", 0.0), ("b", 0.0), ("c", 0.0), ("d", 0.0)]);
        for _ in 0..2 {
            let range = LexRange {
                min: LexBound::Excl(b"a".to_vec()),
                max: LexBound::Incl(b"c".to_vec()),
            };
            assert_eq!(z.lex_first(&range), Some(1));
            assert_eq!(z.lex_last(&range), Some(2));
            assert_eq!(z.count_in_lex(&range), 2);
            let all = LexRange {
                min: LexBound::Min,
                max: LexBound::Max,
            };
            assert_eq!(z.count_in_lex(&all), 4);
            let none = LexRange {
                min: LexBound::Max,
                max: LexBound::Min,
            };
            assert!(none.is_empty());
            assert_eq!(z.count_in_lex(&none), 0);
            z.convert_to_skiplist();
        }
    }

    #[test]
    fn listpack_limits_and_negative_zero() {
        let small = Limits {
            entries: 2,
            value: 3,
        };
        let mut z = ZSet::new();
        z.insert(b"a", -0.0, small);
        assert!(z.score(b"a").is_some_and(|s| s.is_sign_positive()));
        z.insert(b"b", 1.0, small);
        assert!(z.is_listpack());
        z.insert(b"c", 1.0, small);
        assert!(!z.is_listpack());
        z.insert(b"d", -0.0, small);
        assert!(z.score(b"d").is_some_and(|s| s.is_sign_negative()));
        let mut y = ZSet::new();
        y.insert(b"long", 1.0, small);
        assert_eq!(y.encoding_name(), "skiplist");
    }
}
