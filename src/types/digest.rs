//! DEBUG DIGEST and DEBUG DIGEST-VALUE: a SHA-1 based fingerprint of the data that equals the
//! one Redis 7.0 computes for the same data, so a dataset here and in a real Redis can be
//! compared with one command each.
//!
//! The rules (Redis's debug.c): unordered collections (the keys of a database, set members,
//! hash fields, sorted set members) are combined by XOR of each element's SHA-1, so their
//! order does not matter; ordered data (list elements, stream entries, the parts of one
//! element) is "mixed": the running digest is XORed with the SHA-1 of the data and then
//! replaced by its own SHA-1, so order matters.

use super::Value;
use crate::db::{Db, Entry};

/// A 20-byte digest.
pub type Digest = [u8; 20];

fn sha1(data: &[u8]) -> Digest {
    sha1_smol::Sha1::from(data).digest().bytes()
}

/// XORs the SHA-1 of `data` into `d` (order-free combination).
fn xor_in(d: &mut Digest, data: &[u8]) {
    for (a, b) in d.iter_mut().zip(sha1(data)) {
        *a ^= b;
    }
}

/// XORs the SHA-1 of `data` into `d`, then replaces `d` with its own SHA-1 (ordered
/// combination).
fn mix_in(d: &mut Digest, data: &[u8]) {
    xor_in(d, data);
    *d = sha1(d);
}

/// Redis's type codes, which enter every value's digest.
fn type_code(v: &Value) -> u32 {
    match v {
        Value::Str(..) => 0,
        Value::List(_) => 1,
        Value::Set(_) => 2,
        Value::ZSet(_) => 3,
        Value::Hash(_) => 4,
        Value::Stream(_) => 6,
    }
}

/// Adds the digest of one value (with its expiry flag) to `d`, as DEBUG DIGEST-VALUE does
/// starting from zero.
pub fn value_into(d: &mut Digest, entry: &Entry) {
    let v = &entry.value;
    mix_in(d, &type_code(v).to_be_bytes());
    match v {
        Value::Str(b, _) => mix_in(d, b),
        Value::List(l) => {
            for item in l.iter() {
                mix_in(d, item);
            }
        }
        Value::Set(s) => {
            for m in s.iter() {
                xor_in(d, &m);
            }
        }
        Value::ZSet(z) => {
            for (member, score) in z.iter() {
                let mut e = [0u8; 20];
                mix_in(&mut e, member);
                mix_in(&mut e, crate::util::fmt_g17(score).as_bytes());
                xor_in(d, &e);
            }
        }
        Value::Hash(h) => {
            for (field, value) in h.iter() {
                let mut e = [0u8; 20];
                mix_in(&mut e, field);
                mix_in(&mut e, value);
                xor_in(d, &e);
            }
        }
        Value::Stream(s) => {
            for (id, fields) in s.iter() {
                mix_in(d, format!("{}.{}", id.ms, id.seq).as_bytes());
                for (f, v) in fields {
                    mix_in(d, f);
                    mix_in(d, v);
                }
            }
        }
    }
    if entry.is_volatile() {
        xor_in(d, b"!!expire!!");
    }
}

/// The digest of one key's value (DEBUG DIGEST-VALUE); zero for a missing key.
pub fn of_value(entry: Option<&Entry>) -> Digest {
    let mut d = [0u8; 20];
    if let Some(e) = entry {
        value_into(&mut d, e);
    }
    d
}

/// The digest of every database (DEBUG DIGEST): zero when all are empty. Keys are taken as
/// stored, logically expired ones included, as Redis walks its dictionaries.
pub fn of_dataset(dbs: &[Db]) -> Digest {
    let mut out = [0u8; 20];
    for (index, db) in dbs.iter().enumerate() {
        if db.is_empty() {
            continue;
        }
        mix_in(&mut out, &(index as u32).to_be_bytes());
        for (key, entry) in db.iter() {
            let mut d = [0u8; 20];
            mix_in(&mut d, key);
            value_into(&mut d, entry);
            xor_in(&mut out, &d);
        }
    }
    out
}

/// A digest as Redis prints it: 40 lower-case hex digits.
pub fn hex(d: &Digest) -> String {
    d.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_dataset_is_zero() {
        assert_eq!(hex(&of_dataset(&[Db::new()])), "0".repeat(40));
    }
}
