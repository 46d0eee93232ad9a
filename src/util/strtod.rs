//! C's `strtod`, the one reader of doubles behind every number Redis parses: scores and
//! increments (`string2d`), score-range bounds, SORT weights. Each caller then applies its own
//! rule about what it accepts (leading space, trailing text, NaN, ERANGE).

/// What `strtod` read from the front of a byte string.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Strtod {
    /// The value (0 when nothing was read).
    pub value: f64,
    /// Bytes consumed, leading white space included; 0 when no number was found.
    pub len: usize,
    /// `errno == ERANGE`: the result overflowed to an infinity, or underflowed (zero or
    /// subnormal, and inexact).
    pub erange: bool,
}

/// Reads a double from the front of `s` as glibc's `strtod` does: leading white space, an
/// optional sign, then `inf`/`infinity`/`nan` (any case), a hexadecimal float (`0x1.8p3`) or a
/// decimal one (`1.5e-3`), each rounded to nearest.
pub fn strtod(s: &[u8]) -> Strtod {
    const NONE: Strtod = Strtod {
        value: 0.0,
        len: 0,
        erange: false,
    };
    let mut i = s
        .iter()
        .position(|&c| !matches!(c, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r'))
        .unwrap_or(s.len());
    let negative = s.get(i) == Some(&b'-');
    if matches!(s.get(i), Some(b'+' | b'-')) {
        i += 1;
    }
    let sign = if negative { -1.0 } else { 1.0 };
    let rest = &s[i..];
    let starts = |w: &[u8]| rest.len() >= w.len() && rest[..w.len()].eq_ignore_ascii_case(w);
    if starts(b"infinity") || starts(b"inf") {
        let len = if starts(b"infinity") { 8 } else { 3 };
        return Strtod {
            value: sign * f64::INFINITY,
            len: i + len,
            erange: false,
        };
    }
    if starts(b"nan") {
        let mut len = 3;
        // `nan(chars)`: an optional parenthesised tag of letters, digits and underscores.
        if rest.get(3) == Some(&b'(') {
            if let Some(close) = rest[4..]
                .iter()
                .position(|&c| !(c.is_ascii_alphanumeric() || c == b'_'))
                .filter(|&k| rest.get(4 + k) == Some(&b')'))
            {
                len = 4 + close + 1;
            }
        }
        return Strtod {
            value: f64::NAN,
            len: i + len,
            erange: false,
        };
    }
    let hex = starts(b"0x") && hex_digits_follow(&rest[2..]);
    let parsed = if hex {
        hex_float(&rest[2..]).map(|(v, n, e)| (v, n + 2, e))
    } else {
        decimal_float(rest)
    };
    match parsed {
        Some((v, n, erange)) => Strtod {
            value: sign * v,
            len: i + n,
            erange,
        },
        // `0x` with no digits after it reads as the `0` alone.
        None if starts(b"0") => Strtod {
            value: sign * 0.0,
            len: i + 1,
            erange: false,
        },
        None => NONE,
    }
}

/// Whether a hex float's digits (`1`, `.8`) follow the `0x`.
fn hex_digits_follow(s: &[u8]) -> bool {
    match s.first() {
        Some(c) if c.is_ascii_hexdigit() => true,
        Some(b'.') => s.get(1).is_some_and(u8::is_ascii_hexdigit),
        _ => false,
    }
}

/// The length of an exponent (`e-3`, `p+4`) at the front of `s`, or 0 when there is no
/// complete one.
fn exponent_len(s: &[u8], marker: u8) -> usize {
    if s.first().map(u8::to_ascii_lowercase) != Some(marker) {
        return 0;
    }
    let mut k = 1;
    if matches!(s.get(k), Some(b'+' | b'-')) {
        k += 1;
    }
    let digits = s[k..].iter().take_while(|c| c.is_ascii_digit()).count();
    if digits == 0 {
        0
    } else {
        k + digits
    }
}

/// A decimal float at the front of `s`: (value, bytes read, ERANGE).
fn decimal_float(s: &[u8]) -> Option<(f64, usize, bool)> {
    let int = s.iter().take_while(|c| c.is_ascii_digit()).count();
    let mut n = int;
    let mut frac = 0;
    if s.get(n) == Some(&b'.') {
        frac = s[n + 1..].iter().take_while(|c| c.is_ascii_digit()).count();
        if int + frac > 0 {
            n += 1 + frac;
        }
    }
    if int + frac == 0 {
        return None;
    }
    n += exponent_len(&s[n..], b'e');
    let text = std::str::from_utf8(&s[..n]).ok()?;
    // Rust rounds decimal input to nearest exactly as glibc does.
    let v: f64 = text.parse().ok()?;
    let nonzero = s[..n]
        .iter()
        .take_while(|c| !matches!(c, b'e' | b'E'))
        .any(|c| (b'1'..=b'9').contains(c));
    let erange = v.is_infinite() || (nonzero && (v == 0.0 || v.abs() < f64::MIN_POSITIVE));
    Some((v, n, erange))
}

/// A hexadecimal float after its `0x`: (value, bytes read, ERANGE), rounded to nearest even
/// with subnormal results exact to the last bit, as glibc computes them.
fn hex_float(s: &[u8]) -> Option<(f64, usize, bool)> {
    // The significant bits go into `mant` (at most 60 of them); later non-zero digits only
    // matter for rounding (`sticky`). `exp2` is the power of two of `mant`'s unit.
    let mut mant: u64 = 0;
    let mut exp2: i64 = 0;
    let mut sticky = false;
    let mut n = 0;
    let mut digits = 0;
    let mut seen_point = false;
    while let Some(&c) = s.get(n) {
        if c == b'.' && !seen_point {
            seen_point = true;
            n += 1;
            continue;
        }
        let Some(d) = (c as char).to_digit(16) else {
            break;
        };
        digits += 1;
        if mant >> 56 == 0 {
            mant = mant << 4 | u64::from(d);
            if seen_point {
                exp2 -= 4;
            }
        } else {
            sticky |= d != 0;
            if !seen_point {
                exp2 += 4;
            }
        }
        n += 1;
    }
    if digits == 0 {
        return None;
    }
    let elen = exponent_len(&s[n..], b'p');
    if elen > 0 {
        let text = std::str::from_utf8(&s[n + 1..n + elen]).ok()?;
        // Saturate: anything this large over- or underflows anyway.
        let e: i64 = text.parse().unwrap_or(if text.starts_with('-') {
            -100_000
        } else {
            100_000
        });
        exp2 += e.clamp(-100_000, 100_000);
        n += elen;
    }
    Some(match compose(mant, exp2, sticky) {
        Some((v, inexact_tiny)) => (v, n, inexact_tiny),
        None => (f64::INFINITY, n, true),
    })
}

/// `mant * 2^exp2` (with `sticky` for bits below `mant`) as the nearest double: Some((value,
/// ERANGE)) or None on overflow. Like glibc, ERANGE marks a result that is tiny (zero or
/// subnormal) and inexact; an exact subnormal is not an error.
fn compose(mant: u64, exp2: i64, sticky: bool) -> Option<(f64, bool)> {
    if mant == 0 {
        return Some((0.0, false));
    }
    let bits = 64 - i64::from(mant.leading_zeros());
    // The value lies in [2^top, 2^(top+1)).
    let top = exp2 + bits - 1;
    if top > 1023 {
        return None;
    }
    // The unit of the last kept bit: 2^-1074 for subnormals, else 53 bits below the top bit.
    let unit = if top < -1022 { -1074 } else { top - 52 };
    let drop = unit - exp2;
    let (kept, inexact) = if drop <= 0 {
        (mant << (-drop).min(63), sticky)
    } else if drop >= 64 {
        // Everything is below the smallest unit: at most half of it, rounding up only past
        // an exact half.
        let half = drop == 64 && mant >> 63 == 1;
        let more = sticky || mant << 1 != 0;
        (u64::from(half && more), true)
    } else {
        let q = mant >> drop;
        let rem = mant & ((1u64 << drop) - 1);
        let half = 1u64 << (drop - 1);
        let round_up = rem > half || (rem == half && (sticky || q & 1 == 1));
        (q + u64::from(round_up), sticky || rem != 0)
    };
    if top < -1022 {
        // `kept` counts units of 2^-1074; 2^52 of them is the smallest normal number, which
        // from_bits also produces.
        return Some((f64::from_bits(kept), inexact));
    }
    let (kept, unit) = if kept >> 53 != 0 {
        (kept >> 1, unit + 1)
    } else {
        (kept, unit)
    };
    let biased = unit + 52 + 1023;
    if biased > 2046 {
        return None;
    }
    let bits = ((biased as u64) << 52) | (kept & ((1u64 << 52) - 1));
    Some((f64::from_bits(bits), false))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(s: &str) -> (f64, usize, bool) {
        let r = strtod(s.as_bytes());
        (r.value, r.len, r.erange)
    }

    #[test]
    fn decimal_prefixes() {
        assert_eq!(read("1.5"), (1.5, 3, false));
        assert_eq!(read("  -2e3x"), (-2000.0, 6, false));
        assert_eq!(read("1e"), (1.0, 1, false));
        assert_eq!(read("1e+"), (1.0, 1, false));
        assert_eq!(read(".5"), (0.5, 2, false));
        assert_eq!(read("5."), (5.0, 2, false));
        assert_eq!(read("."), (0.0, 0, false));
        assert_eq!(read("abc"), (0.0, 0, false));
        assert_eq!(read("1e400"), (f64::INFINITY, 5, true));
        assert_eq!(read("1e-400"), (0.0, 6, true));
        assert_eq!(read("0e-400"), (0.0, 6, false));
        assert!(read("4e-320").2);
    }

    #[test]
    fn words() {
        assert_eq!(read("-Infinity"), (f64::NEG_INFINITY, 9, false));
        assert_eq!(read("infx"), (f64::INFINITY, 3, false));
        let (v, n, _) = read("nan(abc)x");
        assert!(v.is_nan() && n == 8);
        let (v, n, _) = read("nan(ab");
        assert!(v.is_nan() && n == 3);
    }

    #[test]
    fn hex_floats_round_like_glibc() {
        assert_eq!(read("0x1p3"), (8.0, 5, false));
        assert_eq!(read("0x1.8p1"), (3.0, 7, false));
        assert_eq!(read("0xAp-1"), (5.0, 6, false));
        assert_eq!(read("0x"), (0.0, 1, false));
        assert_eq!(read("0xg"), (0.0, 1, false));
        assert_eq!(read("0x.8"), (0.5, 4, false));
        // Subnormal results keep every bit they can (not a product that underflows to 0).
        // glibc sets ERANGE only when such a tiny result is also inexact.
        assert_eq!(read("0x1p-1030"), (f64::from_bits(1 << 44), 9, false));
        assert_eq!(read("0x1p-1074"), (f64::from_bits(1), 9, false));
        assert_eq!(read("0x1p-1075"), (0.0, 9, true));
        assert_eq!(read("0x1.8p-1075"), (f64::from_bits(1), 11, true));
        assert_eq!(read("0x1p-1022").0, f64::MIN_POSITIVE);
        assert_eq!(read("0x1.fffffffffffffp1023").0, f64::MAX);
        assert_eq!(read("0x1p1024"), (f64::INFINITY, 8, true));
        // Round to nearest even past 53 bits.
        assert_eq!(read("0x1.00000000000008p0").0, 1.0);
        assert_eq!(read("0x1.00000000000018p0").0, 1.0 + 2.0 * f64::EPSILON);
        assert_eq!(read("0x1.000000000000081p0").0, 1.0 + f64::EPSILON);
        assert_eq!(
            read("0x123456789abcdef123p0").0,
            0x123456789abcdef123u128 as f64
        );
    }
}
