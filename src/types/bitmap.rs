//! Bit-level views of a string: single bits, counts and searches over bit ranges, the
//! BITFIELD integers (any width from 1 to 64 bits, at any bit offset) with Redis's three
//! overflow policies, and the byte-wise BITOP operations.
//!
//! Bits are numbered from the most significant bit of the first byte, as Redis numbers them.
//! Everything here works on plain byte slices; the string type stores the bytes.

/// The value of bit `offset` (false past the end).
pub fn get_bit(s: &[u8], offset: u64) -> bool {
    let byte = (offset >> 3) as usize;
    s.get(byte).is_some_and(|b| b & (0x80 >> (offset & 7)) != 0)
}

/// Sets bit `offset` (which must be inside `s`) and returns its previous value.
pub fn set_bit(s: &mut [u8], offset: u64, on: bool) -> bool {
    let byte = (offset >> 3) as usize;
    let mask = 0x80u8 >> (offset & 7);
    let old = s[byte] & mask != 0;
    if on {
        s[byte] |= mask;
    } else {
        s[byte] &= !mask;
    }
    old
}

/// The number of set bits in the inclusive bit range `first..=last` (both inside `s`).
pub fn count_bits(s: &[u8], first: u64, last: u64) -> u64 {
    if first > last {
        return 0;
    }
    let (fb, lb) = ((first >> 3) as usize, (last >> 3) as usize);
    let mut total: u64 = s[fb..=lb].iter().map(|b| u64::from(b.count_ones())).sum();
    // Take away the bits of the edge bytes that lie outside the range.
    let head = s[fb] & !(0xffu8 >> (first & 7));
    let tail_mask = if last & 7 == 7 {
        0
    } else {
        0xffu8 >> ((last & 7) + 1)
    };
    let tail = s[lb] & tail_mask;
    total -= u64::from(head.count_ones()) + u64::from(tail.count_ones());
    total
}

/// The first bit equal to `bit` in the inclusive bit range `first..=last` (both inside `s`).
pub fn find_bit(s: &[u8], bit: bool, first: u64, last: u64) -> Option<u64> {
    if first > last {
        return None;
    }
    let mut pos = first;
    // Edge bits one by one until byte-aligned, whole bytes while they cannot match, then bits.
    while pos <= last {
        if pos & 7 == 0 && pos + 7 <= last {
            let b = s[(pos >> 3) as usize];
            let skip = if bit { b == 0 } else { b == 0xff };
            if skip {
                pos += 8;
                continue;
            }
        }
        if get_bit(s, pos) == bit {
            return Some(pos);
        }
        pos += 1;
    }
    None
}

/// An unsigned integer of `bits` bits (1..=64) read at bit `offset`; bits past the end of `s`
/// read as zero.
pub fn get_unsigned(s: &[u8], offset: u64, bits: u32) -> u64 {
    let mut v: u64 = 0;
    for i in 0..u64::from(bits) {
        v = (v << 1) | u64::from(get_bit(s, offset + i));
    }
    v
}

/// A two's complement integer of `bits` bits (1..=64) read at bit `offset`.
pub fn get_signed(s: &[u8], offset: u64, bits: u32) -> i64 {
    let v = get_unsigned(s, offset, bits);
    if bits < 64 && v & (1u64 << (bits - 1)) != 0 {
        (v | (u64::MAX << bits)) as i64
    } else {
        v as i64
    }
}

/// Writes the low `bits` bits of `value` at bit `offset` (the range must be inside `s`).
pub fn set_unsigned(s: &mut [u8], offset: u64, bits: u32, value: u64) {
    for i in 0..u64::from(bits) {
        let on = value & (1u64 << (u64::from(bits) - 1 - i)) != 0;
        set_bit(s, offset + i, on);
    }
}

/// What BITFIELD does when a result does not fit its type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Overflow {
    /// Keep the low bits (two's complement wrap-around).
    Wrap,
    /// Clamp to the type's minimum or maximum.
    Sat,
    /// Refuse the operation (the reply is nil and nothing is written).
    Fail,
}

/// Adds `incr` to the unsigned `value` of width `bits` (1..=63). Returns the result and whether
/// it overflowed; on overflow the result follows `policy` (meaningless for `Fail`).
pub fn unsigned_add(value: u64, incr: i64, bits: u32, policy: Overflow) -> (u64, bool) {
    let max = if bits == 64 {
        u64::MAX
    } else {
        (1u64 << bits) - 1
    };
    let room_up = max.wrapping_sub(value) as i64;
    let room_down = value.wrapping_neg() as i64;
    let wrapped = || value.wrapping_add(incr as u64) & !(u64::MAX.checked_shl(bits).unwrap_or(0));
    if value > max || (incr > 0 && incr > room_up) {
        let v = match policy {
            Overflow::Sat => max,
            _ => wrapped(),
        };
        return (v, true);
    }
    if incr < 0 && incr < room_down {
        let v = match policy {
            Overflow::Sat => 0,
            _ => wrapped(),
        };
        return (v, true);
    }
    (value.wrapping_add(incr as u64), false)
}

/// Adds `incr` to the signed `value` of width `bits` (1..=64), as [`unsigned_add`] does for
/// unsigned fields.
pub fn signed_add(value: i64, incr: i64, bits: u32, policy: Overflow) -> (i64, bool) {
    let max: i64 = if bits == 64 {
        i64::MAX
    } else {
        (1i64 << (bits - 1)) - 1
    };
    let min = -max - 1;
    let room_up = (max as u64).wrapping_sub(value as u64) as i64;
    let room_down = min.wrapping_sub(value);
    let wrapped = || {
        let mut c = (value as u64).wrapping_add(incr as u64);
        if bits < 64 {
            let high = u64::MAX << bits;
            if c & (1u64 << (bits - 1)) != 0 {
                c |= high;
            } else {
                c &= !high;
            }
        }
        c as i64
    };
    let too_big =
        value > max || (bits != 64 && incr > room_up) || (value >= 0 && incr > 0 && incr > room_up);
    if too_big {
        let v = match policy {
            Overflow::Sat => max,
            _ => wrapped(),
        };
        return (v, true);
    }
    let too_small = value < min
        || (bits != 64 && incr < room_down)
        || (value < 0 && incr < 0 && incr < room_down);
    if too_small {
        let v = match policy {
            Overflow::Sat => min,
            _ => wrapped(),
        };
        return (v, true);
    }
    (value.wrapping_add(incr), false)
}

/// A BITOP operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BitOp {
    /// Bitwise AND.
    And,
    /// Bitwise OR.
    Or,
    /// Bitwise XOR.
    Xor,
    /// Bitwise NOT of a single source.
    Not,
}

/// Combines the sources byte by byte; shorter sources (and missing ones, given as empty
/// slices) read as zero bytes up to the longest source's length.
pub fn bitop(op: BitOp, sources: &[&[u8]]) -> Vec<u8> {
    let len = sources.iter().map(|s| s.len()).max().unwrap_or(0);
    let byte = |s: &[u8], i: usize| s.get(i).copied().unwrap_or(0);
    (0..len)
        .map(|i| {
            let first = byte(sources[0], i);
            let rest = sources[1..].iter().map(|s| byte(s, i));
            match op {
                BitOp::Not => !first,
                BitOp::And => rest.fold(first, |a, b| a & b),
                BitOp::Or => rest.fold(first, |a, b| a | b),
                BitOp::Xor => rest.fold(first, |a, b| a ^ b),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bits_are_numbered_from_the_high_bit() {
        let mut s = vec![0u8; 2];
        assert!(!set_bit(&mut s, 0, true));
        assert!(!set_bit(&mut s, 15, true));
        assert_eq!(s, [0x80, 0x01]);
        assert!(get_bit(&s, 0) && get_bit(&s, 15) && !get_bit(&s, 16));
    }

    #[test]
    fn counts_and_searches_respect_bit_ranges() {
        let s = [0xffu8, 0x00, 0x0f];
        assert_eq!(count_bits(&s, 0, 23), 12);
        assert_eq!(count_bits(&s, 4, 5), 2);
        assert_eq!(count_bits(&s, 8, 19), 0);
        assert_eq!(count_bits(&s, 20, 23), 4);
        assert_eq!(find_bit(&s, false, 0, 23), Some(8));
        assert_eq!(find_bit(&s, true, 8, 23), Some(20));
        assert_eq!(find_bit(&s, true, 8, 19), None);
    }

    #[test]
    fn fields_read_and_write_across_bytes() {
        let mut s = vec![0u8; 3];
        set_unsigned(&mut s, 4, 12, 0xabc);
        assert_eq!(s, [0x0a, 0xbc, 0x00]);
        assert_eq!(get_unsigned(&s, 4, 12), 0xabc);
        assert_eq!(get_signed(&s, 4, 4), -6);
        assert_eq!(get_unsigned(&s, 20, 8), 0);
    }

    #[test]
    fn overflow_policies() {
        assert_eq!(unsigned_add(250, 10, 8, Overflow::Wrap), (4, true));
        assert_eq!(unsigned_add(250, 10, 8, Overflow::Sat), (255, true));
        assert_eq!(unsigned_add(5, -10, 8, Overflow::Sat), (0, true));
        assert_eq!(unsigned_add(5, -3, 8, Overflow::Wrap), (2, false));
        assert_eq!(signed_add(120, 10, 8, Overflow::Wrap), (-126, true));
        assert_eq!(signed_add(-120, -10, 8, Overflow::Sat), (-128, true));
        assert_eq!(
            signed_add(i64::MAX, 1, 64, Overflow::Wrap),
            (i64::MIN, true)
        );
        assert_eq!(signed_add(300, 0, 8, Overflow::Wrap), (44, true));
    }

    #[test]
    fn bitop_pads_short_sources_with_zeros() {
        assert_eq!(bitop(BitOp::Or, &[b"\x01", b"\x10\x20"]), [0x11, 0x20]);
        assert_eq!(bitop(BitOp::And, &[b"\xff\xff", b"\x0f"]), [0x0f, 0x00]);
        assert_eq!(bitop(BitOp::Not, &[b"\x0f"]), [0xf0]);
        assert_eq!(bitop(BitOp::Xor, &[b"", b"ab"]), *b"ab");
    }
}
