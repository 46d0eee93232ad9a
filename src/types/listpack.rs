//! The sizes of listpack entries, as Redis lays them out: stream nodes end by these sizes
//! (`stream-node-max-bytes`), MEMORY USAGE counts with them, and the RDB reader walks entries
//! by them.

/// Bytes an entry holding the integer `v` takes, its back-length byte included.
pub fn int_entry(v: i64) -> usize {
    let encoded = if (0..=127).contains(&v) {
        1
    } else if (-4096..4096).contains(&v) {
        2
    } else if (-32768..32768).contains(&v) {
        3
    } else if (-8_388_608..8_388_608).contains(&v) {
        4
    } else if i32::try_from(v).is_ok() {
        5
    } else {
        9
    };
    encoded + 1
}

/// Bytes of the back-length that follows an entry of `n` bytes.
pub fn backlen(n: usize) -> usize {
    match n {
        0..=127 => 1,
        128..=16382 => 2,
        16383..=2_097_150 => 3,
        2_097_151..=268_435_454 => 4,
        _ => 5,
    }
}

/// Bytes an entry for `s` takes: strings that read as canonical integers are stored as such.
pub fn entry(s: &[u8]) -> usize {
    if s.len() <= 20 {
        if let Some(v) = crate::util::parse_i64(s) {
            return int_entry(v);
        }
    }
    let head = if s.len() < 64 {
        1
    } else if s.len() < 4096 {
        2
    } else {
        5
    };
    let n = head + s.len();
    n + backlen(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_follow_the_encodings() {
        assert_eq!(entry(b"12"), 2);
        assert_eq!(entry(b"abc"), 5);
        assert_eq!(int_entry(-5000), 4);
        assert_eq!(entry(&[b'x'; 100]), 103);
        assert_eq!(backlen(16382), 2);
        assert_eq!(backlen(16383), 3);
    }
}
