//! The hash type: a map of fields to values, with the two encodings Redis reports.
//!
//! A small hash is a `listpack` in Redis: a flat sequence of field/value pairs kept in insertion
//! order (a new field is appended, an updated one stays in place, a deleted one closes the gap),
//! searched linearly. Past `hash-max-listpack-entries` fields, or once a field or value is longer
//! than `hash-max-listpack-value` bytes, it becomes a `hashtable`, and never goes back. Clients
//! see the encoding (OBJECT ENCODING) and the listpack's order (HGETALL, HSCAN), so both are
//! kept: the pairs live in one vector, and the table encoding adds an index over it.

use std::hash::BuildHasher;

use hashbrown::{DefaultHashBuilder, HashTable};

/// A hash value.
#[derive(Clone, Debug, Default)]
pub struct Hash {
    /// The pairs: insertion order while a listpack; any order once a table.
    entries: Vec<(Vec<u8>, Vec<u8>)>,
    /// Positions in `entries` by field, present only in the `hashtable` encoding.
    index: Option<HashTable<usize>>,
    hasher: DefaultHashBuilder,
}

impl PartialEq for Hash {
    fn eq(&self, other: &Hash) -> bool {
        self.len() == other.len()
            && self.is_listpack() == other.is_listpack()
            && self.iter().all(|(f, v)| other.get(f) == Some(v))
    }
}

impl Hash {
    /// An empty listpack-encoded hash.
    pub fn new() -> Hash {
        Hash::default()
    }

    /// Number of fields.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there is no field (such a hash is never stored under a key).
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Whether the hash is still in the compact listpack encoding.
    pub fn is_listpack(&self) -> bool {
        self.index.is_none()
    }

    /// The name OBJECT ENCODING prints.
    pub fn encoding_name(&self) -> &'static str {
        if self.is_listpack() {
            "listpack"
        } else {
            "hashtable"
        }
    }

    fn find(&self, field: &[u8]) -> Option<usize> {
        match &self.index {
            None => self.entries.iter().position(|(f, _)| f.as_slice() == field),
            Some(index) => {
                let h = self.hasher.hash_one(field);
                index
                    .find(h, |&i| self.entries[i].0.as_slice() == field)
                    .copied()
            }
        }
    }

    /// The value of a field.
    pub fn get(&self, field: &[u8]) -> Option<&[u8]> {
        self.find(field).map(|i| self.entries[i].1.as_slice())
    }

    /// Whether a field exists.
    pub fn contains(&self, field: &[u8]) -> bool {
        self.find(field).is_some()
    }

    /// Switches to the `hashtable` encoding (a no-op when already there).
    pub fn convert_to_table(&mut self) {
        if self.index.is_some() {
            return;
        }
        let mut index = HashTable::with_capacity(self.entries.len());
        for (i, (f, _)) in self.entries.iter().enumerate() {
            let h = self.hasher.hash_one(f.as_slice());
            let (entries, hasher) = (&self.entries, &self.hasher);
            index.insert_unique(h, i, |&j| hasher.hash_one(entries[j].0.as_slice()));
        }
        self.index = Some(index);
    }

    /// Converts ahead of a write whose arguments include a string longer than `max_value`
    /// (Redis's check over every field and value of an HSET before it stores any).
    pub fn convert_for_lengths(&mut self, lens: impl IntoIterator<Item = usize>, max_value: usize) {
        if self.is_listpack() && lens.into_iter().any(|l| l > max_value) {
            self.convert_to_table();
        }
    }

    /// Sets a field; true when it is new. A listpack converts first when the field or the value
    /// is longer than `max_value`, and after the write when it holds more than `max_entries`
    /// fields (even when the write only updated a value: a limit lowered by CONFIG SET takes
    /// effect on the next write of any kind).
    pub fn set(
        &mut self,
        field: &[u8],
        value: Vec<u8>,
        max_entries: usize,
        max_value: usize,
    ) -> bool {
        self.convert_for_lengths([field.len(), value.len()], max_value);
        let created = match self.find(field) {
            Some(i) => {
                self.entries[i].1 = value;
                false
            }
            None => {
                let i = self.entries.len();
                self.entries.push((field.to_vec(), value));
                if let Some(index) = &mut self.index {
                    let (entries, hasher) = (&self.entries, &self.hasher);
                    index.insert_unique(hasher.hash_one(field), i, |&j| {
                        hasher.hash_one(entries[j].0.as_slice())
                    });
                }
                true
            }
        };
        if self.is_listpack() && self.entries.len() > max_entries {
            self.convert_to_table();
        }
        created
    }

    /// Removes a field; true when it existed.
    pub fn delete(&mut self, field: &[u8]) -> bool {
        let Some(i) = self.find(field) else {
            return false;
        };
        match &mut self.index {
            // A listpack closes the gap, keeping the order of the rest.
            None => {
                self.entries.remove(i);
            }
            Some(index) => {
                let hasher = &self.hasher;
                if let Ok(slot) = index.find_entry(hasher.hash_one(field), |&j| j == i) {
                    slot.remove();
                }
                let last = self.entries.len() - 1;
                self.entries.swap_remove(i);
                if i != last {
                    // The former last pair moved to `i`: repoint its index slot.
                    let moved = hasher.hash_one(self.entries[i].0.as_slice());
                    if let Some(slot) = index.find_mut(moved, |&j| j == last) {
                        *slot = i;
                    }
                }
            }
        }
        true
    }

    /// The pair at a position in `0..len()` (random picks for HRANDFIELD).
    pub fn nth(&self, i: usize) -> Option<(&[u8], &[u8])> {
        self.entries
            .get(i)
            .map(|(f, v)| (f.as_slice(), v.as_slice()))
    }

    /// Every pair: insertion order for a listpack, the table's order otherwise.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (&[u8], &[u8])> {
        self.entries
            .iter()
            .map(|(f, v)| (f.as_slice(), v.as_slice()))
    }

    /// Rough memory use in bytes (MEMORY USAGE, INFO).
    pub fn approx_bytes(&self) -> usize {
        let per = if self.is_listpack() { 4 } else { 56 };
        48 + self
            .entries
            .iter()
            .map(|(f, v)| f.len() + v.len() + per)
            .sum::<usize>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(h: &Hash) -> Vec<String> {
        h.iter()
            .map(|(f, _)| String::from_utf8_lossy(f).into_owned())
            .collect()
    }

    #[test]
    fn listpack_keeps_insertion_order() {
        let mut h = Hash::new();
        for f in ["c", "a", "b"] {
            assert!(h.set(f.as_bytes(), b"1".to_vec(), 128, 64));
        }
        assert!(!h.set(b"a", b"2".to_vec(), 128, 64));
        assert!(h.delete(b"c"));
        assert!(!h.delete(b"c"));
        assert!(h.set(b"c", b"3".to_vec(), 128, 64));
        assert_eq!(fields(&h), ["a", "b", "c"]);
        assert_eq!(h.get(b"a"), Some(&b"2"[..]));
        assert!(h.is_listpack());
    }

    #[test]
    fn converts_on_entries_and_length() {
        let mut h = Hash::new();
        for i in 0..3 {
            h.set(format!("f{}", i).as_bytes(), b"v".to_vec(), 3, 64);
        }
        assert_eq!(h.encoding_name(), "listpack");
        h.set(b"f3", b"v".to_vec(), 3, 64);
        assert_eq!(h.encoding_name(), "hashtable");

        let mut h = Hash::new();
        h.set(b"f", vec![b'x'; 64], 128, 64);
        assert!(h.is_listpack());
        h.set(b"f", vec![b'x'; 65], 128, 64);
        assert!(!h.is_listpack());
        // Never back, even when emptied down to one short pair.
        h.set(b"f", b"short".to_vec(), 128, 64);
        assert!(!h.is_listpack());

        // An update converts too once the hash is over a lowered limit.
        let mut h = Hash::new();
        h.set(b"a", b"1".to_vec(), 128, 64);
        h.set(b"b", b"2".to_vec(), 128, 64);
        h.set(b"a", b"3".to_vec(), 1, 64);
        assert!(!h.is_listpack());
    }

    #[test]
    fn table_deletes_keep_the_index_right() {
        let mut h = Hash::new();
        h.convert_to_table();
        for i in 0..200 {
            h.set(
                format!("f{}", i).as_bytes(),
                i.to_string().into_bytes(),
                0,
                0,
            );
        }
        for i in (0..200).step_by(3) {
            assert!(h.delete(format!("f{}", i).as_bytes()));
        }
        for i in 0..200 {
            let got = h.get(format!("f{}", i).as_bytes());
            if i % 3 == 0 {
                assert_eq!(got, None);
            } else {
                assert_eq!(got, Some(i.to_string().as_bytes()));
            }
        }
        assert_eq!(h.len(), 133);
    }
}
