//! Readers for the two packed sequence formats found inside RDB values: the listpack (Redis 7:
//! hash, sorted-set and quicklist nodes) and the older ziplist (Redis 6 and before). Both are
//! flat byte strings of entries that are either strings or small integers; the readers return
//! every entry as bytes (integers in decimal, as Redis would reply them), or None when the blob
//! is malformed in any way.

use crate::types::listpack::backlen as backlen_size;

/// The entries of a listpack: a 6-byte header (total bytes, count), the entries, then 0xFF.
pub fn listpack_entries(blob: &[u8]) -> Option<Vec<Vec<u8>>> {
    let total = u32::from_le_bytes(blob.get(0..4)?.try_into().ok()?) as usize;
    if total != blob.len() {
        return None;
    }
    let mut out = Vec::new();
    let mut p = 6;
    loop {
        let b = *blob.get(p)?;
        if b == 0xFF {
            return (p + 1 == blob.len()).then_some(out);
        }
        let (entry, len) = listpack_entry(&blob[p..])?;
        out.push(entry);
        // Each entry is followed by its own length, written in 1 to 5 bytes.
        p = p.checked_add(len)?.checked_add(backlen_size(len))?;
    }
}

/// One listpack entry at the start of `b`: its value and its length without the back-length.
fn listpack_entry(b: &[u8]) -> Option<(Vec<u8>, usize)> {
    let first = *b.first()?;
    let int = |v: i64, len: usize| Some((v.to_string().into_bytes(), len));
    let string = |start: usize, n: usize| {
        let end = start.checked_add(n)?;
        Some((b.get(start..end)?.to_vec(), end))
    };
    let le = |n: usize| -> Option<u64> {
        let mut v = 0u64;
        for (i, byte) in b.get(1..1 + n)?.iter().enumerate() {
            v |= u64::from(*byte) << (8 * i);
        }
        Some(v)
    };
    let signed = |v: u64, bits: u32| ((v << (64 - bits)) as i64) >> (64 - bits);
    match first {
        0x00..=0x7F => int(i64::from(first), 1),
        0x80..=0xBF => string(1, usize::from(first & 0x3F)),
        0xC0..=0xDF => {
            let v = (u64::from(first & 0x1F) << 8) | u64::from(*b.get(1)?);
            int(signed(v, 13), 2)
        }
        0xE0..=0xEF => string(
            2,
            (usize::from(first & 0x0F) << 8) | usize::from(*b.get(1)?),
        ),
        0xF0 => string(5, usize::try_from(le(4)?).ok()?),
        0xF1 => int(signed(le(2)?, 16), 3),
        0xF2 => int(signed(le(3)?, 24), 4),
        0xF3 => int(signed(le(4)?, 32), 5),
        0xF4 => int(le(8)? as i64, 9),
        _ => None,
    }
}

/// The entries of a ziplist: a 10-byte header (total bytes, tail offset, count), the entries
/// (each with the previous entry's length, an encoding and the data), then 0xFF.
pub fn ziplist_entries(blob: &[u8]) -> Option<Vec<Vec<u8>>> {
    let total = u32::from_le_bytes(blob.get(0..4)?.try_into().ok()?) as usize;
    if total != blob.len() {
        return None;
    }
    let mut out = Vec::new();
    let mut p = 10;
    loop {
        let b = *blob.get(p)?;
        if b == 0xFF {
            return (p + 1 == blob.len()).then_some(out);
        }
        p += if b < 254 { 1 } else { 5 };
        let (entry, len) = ziplist_entry(blob.get(p..)?)?;
        out.push(entry);
        p = p.checked_add(len)?;
    }
}

/// One ziplist entry (after its previous-length field): the value and the bytes it spans.
fn ziplist_entry(b: &[u8]) -> Option<(Vec<u8>, usize)> {
    let first = *b.first()?;
    let string = |start: usize, n: usize| {
        let end = start.checked_add(n)?;
        Some((b.get(start..end)?.to_vec(), end))
    };
    let int_le = |n: usize| -> Option<(Vec<u8>, usize)> {
        let mut v = 0u64;
        for (i, byte) in b.get(1..1 + n)?.iter().enumerate() {
            v |= u64::from(*byte) << (8 * i);
        }
        let bits = (8 * n) as u32;
        let v = ((v << (64 - bits)) as i64) >> (64 - bits);
        Some((v.to_string().into_bytes(), 1 + n))
    };
    match first >> 6 {
        0 => string(1, usize::from(first & 0x3F)),
        1 => string(
            2,
            (usize::from(first & 0x3F) << 8) | usize::from(*b.get(1)?),
        ),
        2 => {
            let n = u32::from_be_bytes(b.get(1..5)?.try_into().ok()?);
            string(5, usize::try_from(n).ok()?)
        }
        _ => match first {
            0xC0 => int_le(2),
            0xD0 => int_le(4),
            0xE0 => int_le(8),
            0xF0 => int_le(3),
            0xFE => int_le(1),
            0xF1..=0xFD => Some(((i64::from(first & 0x0F) - 1).to_string().into_bytes(), 1)),
            _ => None,
        },
    }
}

/// A listpack built element by element, knowing its size as it grows (stream nodes and list
/// nodes are cut by size, as Redis cuts them).
#[derive(Default)]
pub struct LpBuilder {
    body: Vec<u8>,
    count: usize,
}

impl LpBuilder {
    /// Appends one element.
    pub fn push(&mut self, item: &LpItem) {
        encode_item(&mut self.body, item);
        self.count += 1;
    }

    /// Whether nothing was pushed yet.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// The size the finished listpack would have now (Redis's `lpBytes`).
    pub fn bytes(&self) -> usize {
        6 + self.body.len() + 1
    }

    /// The finished listpack; the header's count saturates at 65535 ("unknown") as Redis's.
    pub fn finish(self) -> Vec<u8> {
        let total = self.bytes();
        let count = u16::try_from(self.count).unwrap_or(u16::MAX);
        let mut out = Vec::with_capacity(total);
        out.extend_from_slice(&(total as u32).to_le_bytes());
        out.extend_from_slice(&count.to_le_bytes());
        out.extend_from_slice(&self.body);
        out.push(0xFF);
        out
    }
}

/// Writes one element and its back-length. A string that reads as a canonical 64-bit integer
/// is stored as the integer, as Redis's `lpAppend` does.
fn encode_item(body: &mut Vec<u8>, item: &LpItem) {
    let start = body.len();
    let as_int = match item {
        LpItem::Int(v) => Some(*v),
        LpItem::Str(s) => canonical_int(s),
    };
    match (as_int, item) {
        (Some(v), _) => {
            if (0..=127).contains(&v) {
                body.push(v as u8);
            } else if (-4096..4096).contains(&v) {
                let u = (v as u64) & 0x1FFF;
                body.push(0xC0 | (u >> 8) as u8);
                body.push(u as u8);
            } else if i16::try_from(v).is_ok() {
                body.push(0xF1);
                body.extend_from_slice(&(v as i16).to_le_bytes());
            } else if (-8_388_608..8_388_608).contains(&v) {
                body.push(0xF2);
                body.extend_from_slice(&(v as i32).to_le_bytes()[..3]);
            } else if i32::try_from(v).is_ok() {
                body.push(0xF3);
                body.extend_from_slice(&(v as i32).to_le_bytes());
            } else {
                body.push(0xF4);
                body.extend_from_slice(&v.to_le_bytes());
            }
        }
        (None, LpItem::Str(s)) => {
            let n = s.len();
            if n < 64 {
                body.push(0x80 | n as u8);
            } else if n < 4096 {
                body.push(0xE0 | (n >> 8) as u8);
                body.push(n as u8);
            } else {
                body.push(0xF0);
                body.extend_from_slice(&(n as u32).to_le_bytes());
            }
            body.extend_from_slice(s);
        }
        (None, LpItem::Int(_)) => {}
    }
    let len = body.len() - start;
    // The back-length: 7 bits per byte, the most significant group first and unflagged,
    // every later byte flagged with 0x80 (listpacks read it from the right).
    let size = backlen_size(len);
    let mut groups = Vec::with_capacity(size);
    let mut l = len;
    for i in 0..size {
        let mut b = (l & 0x7F) as u8;
        l >>= 7;
        if i + 1 < size {
            b |= 0x80;
        }
        groups.push(b);
    }
    groups.reverse();
    body.extend_from_slice(&groups);
}

/// The integer a string spells when it is exactly how that integer prints (no sign on zero,
/// no leading zeros or spaces), which is when Redis stores it as an integer.
pub fn canonical_int(s: &[u8]) -> Option<i64> {
    if s.is_empty() || s.len() > 20 {
        return None;
    }
    let v: i64 = std::str::from_utf8(s).ok()?.parse().ok()?;
    (v.to_string().as_bytes() == s).then_some(v)
}

/// A listpack element to write.
pub enum LpItem<'a> {
    Int(i64),
    Str(&'a [u8]),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listpack(entries: &[&[u8]]) -> Vec<u8> {
        // Hand-built with the encodings for strings up to 63 bytes and 7-bit integers.
        let mut body = Vec::new();
        for e in entries {
            let start = body.len();
            match std::str::from_utf8(e)
                .ok()
                .and_then(|s| s.parse::<u8>().ok())
            {
                Some(n) if n < 128 && e.len() == n.to_string().len() => body.push(n),
                _ => {
                    body.push(0x80 | e.len() as u8);
                    body.extend_from_slice(e);
                }
            }
            let len = body.len() - start;
            body.push(len as u8);
        }
        let mut out = Vec::new();
        out.extend_from_slice(&((body.len() + 7) as u32).to_le_bytes());
        out.extend_from_slice(&(entries.len() as u16).to_le_bytes());
        out.extend_from_slice(&body);
        out.push(0xFF);
        out
    }

    #[test]
    fn listpack_strings_and_small_ints() {
        let blob = listpack(&[b"field", b"7", b"", b"value"]);
        let got = listpack_entries(&blob).expect("valid");
        assert_eq!(
            got,
            vec![b"field".to_vec(), b"7".to_vec(), vec![], b"value".to_vec()]
        );
    }

    #[test]
    fn listpack_wide_integers() {
        // 13-bit -1, 16-bit -2, 64-bit i64::MIN, each followed by its back-length.
        let mut body = vec![0xDF, 0xFF, 2, 0xF1, 0xFE, 0xFF, 3, 0xF4];
        body.extend_from_slice(&i64::MIN.to_le_bytes());
        body.push(9);
        let mut blob = ((body.len() + 7) as u32).to_le_bytes().to_vec();
        blob.extend_from_slice(&[3, 0]);
        blob.extend_from_slice(&body);
        blob.push(0xFF);
        let got = listpack_entries(&blob).expect("valid");
        assert_eq!(
            got,
            vec![
                b"-1".to_vec(),
                b"-2".to_vec(),
                i64::MIN.to_string().into_bytes()
            ]
        );
    }

    #[test]
    fn malformed_blobs_are_refused() {
        let blob = listpack(&[b"abc"]);
        assert!(listpack_entries(&blob[..blob.len() - 1]).is_none());
        let mut bad = blob.clone();
        bad[6] = 0xBF; // claims a 63-byte string
        assert!(listpack_entries(&bad).is_none());
        assert!(ziplist_entries(&[1, 2, 3]).is_none());
    }

    #[test]
    fn ziplist_entries_decode() {
        // "ab", immediate 5, int16 -300.
        let mut body = vec![0, 0x02, b'a', b'b', 4, 0xF6, 2, 0xC0];
        body.extend_from_slice(&(-300i16).to_le_bytes());
        let mut blob = ((body.len() + 11) as u32).to_le_bytes().to_vec();
        blob.extend_from_slice(&[0, 0, 0, 0, 3, 0]);
        blob.extend_from_slice(&body);
        blob.push(0xFF);
        let got = ziplist_entries(&blob).expect("valid");
        assert_eq!(got, vec![b"ab".to_vec(), b"5".to_vec(), b"-300".to_vec()]);
    }
}
