//! Snapshots in Redis's RDB format (version 10, as Redis 7.0 writes it).
//!
//! The page saves the whole dataset with [`save`] and restores it with [`load`]; because the
//! format is Redis's own, an exported snapshot loads into a real `redis-server`, and a dump
//! written by one loads here. A snapshot is checked whole (magic, version, CRC-64) before any of
//! it replaces the current data: a corrupt file is refused and nothing changes.

mod crc64;
mod lzf;
mod packed;

pub use crc64::crc64;

use crate::db::{Db, Entry};
use crate::types::{Hash, List, Set, StrEncoding, Value};

const MAGIC: &[u8] = b"REDIS";
/// The RDB version written (Redis 7.0's).
pub const VERSION: u32 = 10;

const OP_AUX: u8 = 0xFA;
const OP_RESIZEDB: u8 = 0xFB;
const OP_EXPIRETIME_MS: u8 = 0xFC;
const OP_EXPIRETIME: u8 = 0xFD;
const OP_SELECTDB: u8 = 0xFE;
const OP_EOF: u8 = 0xFF;
const OP_MODULE_AUX: u8 = 0xF7;
const OP_IDLE: u8 = 0xF8;
const OP_FREQ: u8 = 0xF9;
const OP_FUNCTION2: u8 = 0xF5;

const TYPE_STRING: u8 = 0;
const TYPE_SET: u8 = 2;
const TYPE_SET_INTSET: u8 = 11;

/// Redis's default `set-max-intset-entries`, which its loader applies to sets read back.
const SET_MAX_INTSET_ENTRIES: usize = 512;
const TYPE_LIST: u8 = 1;
const TYPE_HASH: u8 = 4;
const TYPE_LIST_ZIPLIST: u8 = 10;
const TYPE_HASH_ZIPLIST: u8 = 13;
const TYPE_LIST_QUICKLIST: u8 = 14;
const TYPE_HASH_LISTPACK: u8 = 16;
const TYPE_LIST_QUICKLIST_2: u8 = 18;
/// Quicklist 2 node containers: one element stored as is, or a listpack of several.
const QUICKLIST_NODE_PLAIN: u64 = 1;
const QUICKLIST_NODE_PACKED: u64 = 2;

/// Redis's default hash listpack limits, which its loader applies to hashes read back.
const HASH_MAX_LISTPACK_ENTRIES: usize = 512;
const HASH_MAX_LISTPACK_VALUE: usize = 64;

/// Why a snapshot was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LoadError {
    /// Not an RDB file at all.
    NotRdb,
    /// An RDB version newer than this implementation reads.
    Version(u32),
    /// The file ends early.
    Truncated,
    /// The CRC-64 at the end does not match the contents.
    Checksum,
    /// A value type or encoding this implementation does not read.
    UnsupportedType(u8),
    /// A database number beyond the configured databases.
    DbIndex(u64),
    /// Any other inconsistency.
    Corrupt(&'static str),
}

impl std::fmt::Display for LoadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LoadError::NotRdb => write!(f, "not a Redis snapshot (RDB) file"),
            LoadError::Version(v) => write!(f, "RDB version {} is newer than supported", v),
            LoadError::Truncated => write!(f, "the snapshot is truncated"),
            LoadError::Checksum => write!(f, "the snapshot is corrupt (checksum mismatch)"),
            LoadError::UnsupportedType(t) => write!(f, "unsupported value type {} in snapshot", t),
            LoadError::DbIndex(i) => write!(f, "snapshot uses database {}, beyond the configured databases", i),
            LoadError::Corrupt(what) => write!(f, "the snapshot is corrupt ({})", what),
        }
    }
}

impl std::error::Error for LoadError {}

/// Serialises every database. `now` (ms) is recorded as the creation time; keys already
/// expired at `now` are left out, as Redis does.
pub fn save(dbs: &[Db], now: i64) -> Vec<u8> {
    let mut w = Writer { out: Vec::new() };
    w.out.extend_from_slice(MAGIC);
    w.out.extend_from_slice(format!("{:04}", VERSION).as_bytes());
    w.aux(b"redis-ver", b"7.0.15");
    w.aux(b"redis-bits", b"64");
    w.aux(b"ctime", (now / 1000).to_string().as_bytes());
    w.aux(b"aof-base", b"0");
    for (index, db) in dbs.iter().enumerate() {
        let live: Vec<(&Vec<u8>, &Entry)> =
            db.iter().filter(|(_, e)| e.expire_at.is_none_or(|t| t > now)).collect();
        if live.is_empty() {
            continue;
        }
        w.out.push(OP_SELECTDB);
        w.len(index as u64);
        w.out.push(OP_RESIZEDB);
        w.len(live.len() as u64);
        w.len(live.iter().filter(|(_, e)| e.expire_at.is_some()).count() as u64);
        for (key, entry) in live {
            if let Some(t) = entry.expire_at {
                w.out.push(OP_EXPIRETIME_MS);
                w.out.extend_from_slice(&t.to_le_bytes());
            }
            w.value(key, &entry.value);
        }
    }
    w.out.push(OP_EOF);
    let crc = crc64(0, &w.out);
    w.out.extend_from_slice(&crc.to_le_bytes());
    w.out
}

/// Parses a snapshot into `databases` fresh databases; entries get `now` as access time.
/// Nothing is returned unless the whole file is valid.
pub fn load(bytes: &[u8], databases: usize, now: i64) -> Result<Vec<Db>, LoadError> {
    if bytes.len() < 9 || &bytes[..5] != MAGIC {
        return Err(LoadError::NotRdb);
    }
    let version: u32 = std::str::from_utf8(&bytes[5..9])
        .ok()
        .and_then(|s| s.parse().ok())
        .ok_or(LoadError::NotRdb)?;
    if version > VERSION || version == 0 {
        return Err(LoadError::Version(version));
    }
    // Check the trailing CRC first (version 5 and later carry one; 0 means "not computed").
    if version >= 5 {
        let body = bytes.len().checked_sub(8).ok_or(LoadError::Truncated)?;
        let stored = u64::from_le_bytes(bytes[body..].try_into().map_err(|_| LoadError::Truncated)?);
        if stored != 0 && stored != crc64(0, &bytes[..body]) {
            return Err(LoadError::Checksum);
        }
    }
    let mut r = Reader { buf: bytes, pos: 9 };
    let mut dbs: Vec<Db> = (0..databases).map(|_| Db::new()).collect();
    let mut current = 0usize;
    let mut expire: Option<i64> = None;
    loop {
        let op = r.byte()?;
        match op {
            OP_EOF => break,
            OP_SELECTDB => {
                let i = r.len()?;
                current = usize::try_from(i).ok().filter(|i| *i < databases).ok_or(LoadError::DbIndex(i))?;
            }
            OP_RESIZEDB => {
                r.len()?;
                r.len()?;
            }
            OP_AUX => {
                r.string()?;
                r.string()?;
            }
            OP_EXPIRETIME_MS => expire = Some(i64::from_le_bytes(r.array::<8>()?)),
            OP_EXPIRETIME => expire = Some(i64::from(i32::from_le_bytes(r.array::<4>()?)) * 1000),
            OP_IDLE => {
                r.len()?;
            }
            OP_FREQ => {
                r.byte()?;
            }
            OP_MODULE_AUX | OP_FUNCTION2 => return Err(LoadError::UnsupportedType(op)),
            ty => {
                let key = r.string()?;
                let value = r.value(ty)?;
                let mut entry = Entry::new(value, now);
                entry.expire_at = expire.take();
                dbs[current].insert(key, entry);
            }
        }
    }
    Ok(dbs)
}

struct Writer {
    out: Vec<u8>,
}

impl Writer {
    fn len(&mut self, n: u64) {
        if n < 1 << 6 {
            self.out.push(n as u8);
        } else if n < 1 << 14 {
            self.out.push(0x40 | (n >> 8) as u8);
            self.out.push(n as u8);
        } else if n <= u64::from(u32::MAX) {
            self.out.push(0x80);
            self.out.extend_from_slice(&(n as u32).to_be_bytes());
        } else {
            self.out.push(0x81);
            self.out.extend_from_slice(&n.to_be_bytes());
        }
    }

    fn string(&mut self, s: &[u8]) {
        self.len(s.len() as u64);
        self.out.extend_from_slice(s);
    }

    fn aux(&mut self, k: &[u8], v: &[u8]) {
        self.out.push(OP_AUX);
        self.string(k);
        self.string(v);
    }

    fn value(&mut self, key: &[u8], value: &Value) {
        match value {
            Value::Str(bytes, _) => {
                self.out.push(TYPE_STRING);
                self.string(key);
                self.string(bytes);
            }
            Value::Set(set) => match set.ints() {
                Some(ints) => {
                    // An intset is saved as its memory image: width, count, then the members
                    // little-endian and ascending.
                    let width = set.int_width();
                    let mut blob = Vec::with_capacity(8 + ints.len() * usize::from(width));
                    blob.extend_from_slice(&u32::from(width).to_le_bytes());
                    blob.extend_from_slice(&(ints.len() as u32).to_le_bytes());
                    for &n in ints {
                        blob.extend_from_slice(&n.to_le_bytes()[..usize::from(width)]);
                    }
                    self.out.push(TYPE_SET_INTSET);
                    self.string(key);
                    self.string(&blob);
                }
                None => {
                    self.out.push(TYPE_SET);
                    self.string(key);
                    self.len(set.len() as u64);
                    for m in set.iter() {
                        self.string(&m);
                    }
                }
            },
            // Lists and hashes are written in the plain forms (a counted sequence of strings)
            // that every Redis version still loads, converting them to its own encodings.
            Value::List(list) => {
                self.out.push(TYPE_LIST);
                self.string(key);
                self.len(list.len() as u64);
                for e in list.iter() {
                    self.string(e);
                }
            }
            Value::Hash(hash) => {
                self.out.push(TYPE_HASH);
                self.string(key);
                self.len(hash.len() as u64);
                for (f, v) in hash.iter() {
                    self.string(f);
                    self.string(v);
                }
            }
        }
    }
}

/// A list value from its elements, head first (an empty list is corrupt: Redis never saves one).
fn list_from(entries: Vec<Vec<u8>>) -> Result<Value, LoadError> {
    if entries.is_empty() {
        return Err(LoadError::Corrupt("empty list"));
    }
    Ok(Value::List(entries.into_iter().collect()))
}

/// A hash value from a packed blob's alternating fields and values, in their order; converted
/// to a hashtable as Redis's loader does when it is past the default listpack limits.
fn hash_from(entries: Vec<Vec<u8>>) -> Result<Value, LoadError> {
    if entries.is_empty() || !entries.len().is_multiple_of(2) {
        return Err(LoadError::Corrupt("hash pairs"));
    }
    let mut hash = Hash::new();
    let mut it = entries.into_iter();
    while let (Some(field), Some(value)) = (it.next(), it.next()) {
        if !hash.set(&field, value, HASH_MAX_LISTPACK_ENTRIES, HASH_MAX_LISTPACK_VALUE) {
            return Err(LoadError::Corrupt("duplicate hash field"));
        }
    }
    Ok(Value::Hash(hash))
}

struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

/// A length read from the file, or one of the special string encodings.
enum Len {
    Plain(u64),
    Int8,
    Int16,
    Int32,
    Lzf,
}

impl Reader<'_> {
    fn byte(&mut self) -> Result<u8, LoadError> {
        let b = *self.buf.get(self.pos).ok_or(LoadError::Truncated)?;
        self.pos += 1;
        Ok(b)
    }

    fn take(&mut self, n: usize) -> Result<&[u8], LoadError> {
        let end = self.pos.checked_add(n).ok_or(LoadError::Truncated)?;
        let s = self.buf.get(self.pos..end).ok_or(LoadError::Truncated)?;
        self.pos = end;
        Ok(s)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], LoadError> {
        self.take(N)?.try_into().map_err(|_| LoadError::Truncated)
    }

    fn len_or_encoding(&mut self) -> Result<Len, LoadError> {
        let first = self.byte()?;
        Ok(match first >> 6 {
            0 => Len::Plain(u64::from(first & 0x3f)),
            1 => Len::Plain(u64::from(first & 0x3f) << 8 | u64::from(self.byte()?)),
            2 => match first {
                0x80 => Len::Plain(u64::from(u32::from_be_bytes(self.array::<4>()?))),
                0x81 => Len::Plain(u64::from_be_bytes(self.array::<8>()?)),
                _ => return Err(LoadError::Corrupt("bad length encoding")),
            },
            _ => match first & 0x3f {
                0 => Len::Int8,
                1 => Len::Int16,
                2 => Len::Int32,
                3 => Len::Lzf,
                _ => return Err(LoadError::Corrupt("bad string encoding")),
            },
        })
    }

    fn len(&mut self) -> Result<u64, LoadError> {
        match self.len_or_encoding()? {
            Len::Plain(n) => Ok(n),
            _ => Err(LoadError::Corrupt("encoded value where a length belongs")),
        }
    }

    /// A length used to size something: it may not exceed what the file could hold.
    fn count(&mut self) -> Result<usize, LoadError> {
        let n = self.len()?;
        usize::try_from(n)
            .ok()
            .filter(|n| *n <= self.buf.len() - self.pos)
            .ok_or(LoadError::Corrupt("length beyond the end of the file"))
    }

    fn string(&mut self) -> Result<Vec<u8>, LoadError> {
        Ok(match self.len_or_encoding()? {
            Len::Plain(n) => {
                let n = usize::try_from(n).map_err(|_| LoadError::Truncated)?;
                self.take(n)?.to_vec()
            }
            Len::Int8 => (self.byte()? as i8).to_string().into_bytes(),
            Len::Int16 => i16::from_le_bytes(self.array::<2>()?).to_string().into_bytes(),
            Len::Int32 => i32::from_le_bytes(self.array::<4>()?).to_string().into_bytes(),
            Len::Lzf => {
                let clen = self.count()?;
                let len = self.len()?;
                // An LZF expansion is at most a few hundred times its input: refuse anything
                // claiming more, so a corrupt length cannot allocate without bound.
                let len = usize::try_from(len)
                    .ok()
                    .filter(|l| *l <= clen.saturating_mul(300) + 64)
                    .ok_or(LoadError::Corrupt("LZF length"))?;
                let data = self.take(clen)?;
                lzf::decompress(data, len).ok_or(LoadError::Corrupt("LZF data"))?
            }
        })
    }

    fn value(&mut self, ty: u8) -> Result<Value, LoadError> {
        match ty {
            TYPE_STRING => {
                let s = self.string()?;
                let enc = StrEncoding::for_new(&s);
                Ok(Value::Str(s, enc))
            }
            TYPE_SET => {
                let n = self.count()?;
                let mut set = Set::new_intset();
                for i in 0..n {
                    let m = self.string()?;
                    if i == 0 && n > SET_MAX_INTSET_ENTRIES {
                        set = Set::new_table();
                    }
                    if !set.add(&m, SET_MAX_INTSET_ENTRIES) {
                        return Err(LoadError::Corrupt("duplicate set member"));
                    }
                }
                if set.is_empty() {
                    return Err(LoadError::Corrupt("empty set"));
                }
                Ok(Value::Set(set))
            }
            TYPE_SET_INTSET => {
                let blob = self.string()?;
                let mut set = intset_from_blob(&blob).ok_or(LoadError::Corrupt("intset"))?;
                if set.len() > SET_MAX_INTSET_ENTRIES {
                    set.convert_to_table();
                }
                Ok(Value::Set(set))
            }
            TYPE_LIST => {
                let n = self.count()?;
                let mut list = List::new();
                for _ in 0..n {
                    list.push(crate::types::list::End::Tail, self.string()?);
                }
                if list.is_empty() {
                    return Err(LoadError::Corrupt("empty list"));
                }
                Ok(Value::List(list))
            }
            TYPE_LIST_ZIPLIST => {
                let entries = packed::ziplist_entries(&self.string()?).ok_or(LoadError::Corrupt("ziplist"))?;
                list_from(entries)
            }
            TYPE_LIST_QUICKLIST => {
                let nodes = self.count()?;
                let mut entries = Vec::new();
                for _ in 0..nodes {
                    let node = self.string()?;
                    entries.extend(packed::ziplist_entries(&node).ok_or(LoadError::Corrupt("ziplist"))?);
                }
                list_from(entries)
            }
            TYPE_LIST_QUICKLIST_2 => {
                let nodes = self.count()?;
                let mut entries = Vec::new();
                for _ in 0..nodes {
                    let container = self.len()?;
                    let node = self.string()?;
                    match container {
                        QUICKLIST_NODE_PLAIN => entries.push(node),
                        QUICKLIST_NODE_PACKED => entries.extend(
                            packed::listpack_entries(&node).ok_or(LoadError::Corrupt("listpack"))?,
                        ),
                        _ => return Err(LoadError::Corrupt("quicklist node container")),
                    }
                }
                list_from(entries)
            }
            TYPE_HASH_ZIPLIST => {
                let entries = packed::ziplist_entries(&self.string()?).ok_or(LoadError::Corrupt("ziplist"))?;
                hash_from(entries)
            }
            TYPE_HASH_LISTPACK => {
                let entries = packed::listpack_entries(&self.string()?).ok_or(LoadError::Corrupt("listpack"))?;
                hash_from(entries)
            }
            TYPE_HASH => {
                let n = self.count()?;
                let mut hash = Hash::new();
                if n > HASH_MAX_LISTPACK_ENTRIES {
                    hash.convert_to_table();
                }
                for _ in 0..n {
                    let field = self.string()?;
                    let value = self.string()?;
                    let new = hash.set(&field, value, HASH_MAX_LISTPACK_ENTRIES, HASH_MAX_LISTPACK_VALUE);
                    if !new {
                        return Err(LoadError::Corrupt("duplicate hash field"));
                    }
                }
                if hash.is_empty() {
                    return Err(LoadError::Corrupt("empty hash"));
                }
                Ok(Value::Hash(hash))
            }
            other => Err(LoadError::UnsupportedType(other)),
        }
    }
}

/// An intset's memory image (u32 width, u32 count, members little-endian) as a set; None when
/// malformed, unsorted or empty.
fn intset_from_blob(blob: &[u8]) -> Option<Set> {
    let width = u32::from_le_bytes(blob.get(0..4)?.try_into().ok()?);
    let count = u32::from_le_bytes(blob.get(4..8)?.try_into().ok()?) as usize;
    let width = u8::try_from(width).ok().filter(|w| matches!(w, 2 | 4 | 8))?;
    let body = &blob[8..];
    if count == 0 || body.len() != count.checked_mul(usize::from(width))? {
        return None;
    }
    let values = body
        .chunks_exact(usize::from(width))
        .map(|c| match c.len() {
            2 => i64::from(i16::from_le_bytes([c[0], c[1]])),
            4 => i64::from(i32::from_le_bytes([c[0], c[1], c[2], c[3]])),
            _ => i64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]),
        })
        .collect();
    Set::from_ints(values, width)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Vec<Db> {
        let mut dbs: Vec<Db> = (0..16).map(|_| Db::new()).collect();
        dbs[0].set(b"a", Value::string(b"1".to_vec()), 0);
        dbs[0].set(b"bin\x00\xff", Value::string(vec![7u8; 20_000]), 0);
        dbs[3].set(b"t", Value::string(b"v".to_vec()), 0);
        dbs[3].set_expire(b"t", Some(5_000_000_000_000), 0);
        dbs[3].set(b"gone", Value::string(b"v".to_vec()), 0);
        dbs[3].set_expire(b"gone", Some(10), 0);
        dbs
    }

    #[test]
    fn round_trip() {
        let bytes = save(&sample(), 1000);
        assert!(bytes.starts_with(b"REDIS0010"));
        let back = load(&bytes, 16, 0).unwrap();
        assert_eq!(back[0].len(), 2);
        assert_eq!(back[3].len(), 1, "keys expired at save time are left out");
        assert_eq!(back[3].peek(b"t").unwrap().expire_at, Some(5_000_000_000_000));
        assert_eq!(back[0].peek(b"bin\x00\xff").unwrap().value.as_str().unwrap().len(), 20_000);
    }

    #[test]
    fn corruption_is_refused() {
        let bytes = save(&sample(), 1000);
        for i in [0, 5, 12, bytes.len() / 2, bytes.len() - 1] {
            let mut bad = bytes.clone();
            bad[i] ^= 0x40;
            assert!(load(&bad, 16, 0).is_err(), "flipped byte {}", i);
        }
        for cut in [0, 4, 9, 20, bytes.len() - 9, bytes.len() - 1] {
            assert!(load(&bytes[..cut], 16, 0).is_err(), "cut at {}", cut);
        }
        assert!(matches!(load(b"hello world", 16, 0), Err(LoadError::NotRdb)));
        assert!(matches!(load(&bytes, 2, 0), Err(LoadError::DbIndex(3))));
    }
}

