//! The cursor walk shared by SCAN, HSCAN, SSCAN and ZSCAN.
//!
//! Elements are visited in the order of a stable hash of their name, and the cursor is the hash
//! value to resume from. That order does not depend on the table's size, so every element
//! present for the whole walk is returned at least once even while the table grows or shrinks
//! (Redis gets the same guarantee from reverse-binary bucket cursors). Cursor 0 starts a walk and
//! a returned 0 ends it.

use crate::rng::stable_hash;

/// Where an element sits in the walk: never 0, since 0 means "start" / "done".
pub fn position(name: &[u8]) -> u64 {
    stable_hash(name).max(1)
}

/// One step of a walk: among `items` (each with the name that orders it), those at or after
/// `cursor`, at least `count` of them when that many remain (elements sharing a position are
/// never split). Returns the next cursor (0 when the walk is over) and the chosen items in walk
/// order. Costs O(n log count) for n items.
pub fn step<'a, T, I>(items: I, cursor: u64, count: usize) -> (u64, Vec<T>)
where
    I: IntoIterator<Item = (&'a [u8], T)>,
{
    let count = count.max(1);
    let mut picked: Vec<(u64, T)> = Vec::new();
    let mut bound = u64::MAX; // positions above `bound` are not needed
    let mut more = false; // whether some item lies beyond what we keep
    for (name, item) in items {
        let pos = position(name);
        if pos < cursor {
            continue;
        }
        if pos > bound {
            more = true;
            continue;
        }
        picked.push((pos, item));
        if picked.len() > count * 2 {
            // Keep the smallest positions; everything past the count-th is dropped.
            picked.sort_by_key(|(p, _)| *p);
            let cut = picked[count - 1].0;
            let keep = picked
                .iter()
                .position(|(p, _)| *p > cut)
                .unwrap_or(picked.len());
            if keep < picked.len() {
                more = true;
                picked.truncate(keep);
            }
            bound = cut;
        }
    }
    picked.sort_by_key(|(p, _)| *p);
    if picked.len() > count {
        let cut = picked[count - 1].0;
        let keep = picked
            .iter()
            .position(|(p, _)| *p > cut)
            .unwrap_or(picked.len());
        if keep < picked.len() {
            more = true;
            picked.truncate(keep);
        }
    }
    let next = match picked.last() {
        Some((p, _)) if more => p.checked_add(1).unwrap_or(0),
        _ => 0,
    };
    (next, picked.into_iter().map(|(_, t)| t).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_walk_returns_every_item_once() {
        let names: Vec<Vec<u8>> = (0..1000).map(|i| format!("k{}", i).into_bytes()).collect();
        let mut seen = Vec::new();
        let mut cursor = 0;
        loop {
            let (next, got) = step(names.iter().map(|n| (n.as_slice(), n.clone())), cursor, 10);
            assert!(got.len() >= 10 || next == 0);
            seen.extend(got);
            if next == 0 {
                break;
            }
            cursor = next;
        }
        seen.sort();
        let mut want = names.clone();
        want.sort();
        assert_eq!(seen, want);
    }

    #[test]
    fn growth_during_a_walk_misses_nothing_present_throughout() {
        let mut names: Vec<Vec<u8>> = (0..200).map(|i| format!("a{}", i).into_bytes()).collect();
        let original = names.clone();
        let mut seen = Vec::new();
        let mut cursor = 0;
        let mut round = 0;
        loop {
            let (next, got) = step(names.iter().map(|n| (n.as_slice(), n.clone())), cursor, 7);
            seen.extend(got);
            round += 1;
            for j in 0..3 {
                names.push(format!("b{}-{}", round, j).into_bytes());
            }
            if next == 0 {
                break;
            }
            cursor = next;
        }
        for n in &original {
            assert!(seen.contains(n));
        }
    }
}
