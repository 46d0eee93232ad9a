//! Number parsing and formatting with Redis's exact rules.
//!
//! Redis is strict about what it accepts as a number (`string2ll`: no spaces, no `+`, no leading
//! zeros) and particular about how it prints doubles (`%.17g`). Replies depend on both, so they
//! live here once.

pub mod glob;
pub mod longdouble;
pub mod pqsort;
pub mod strtod;

/// Parses a signed 64-bit integer exactly as Redis's `string2ll` does: optional `-`, digits, no
/// leading zeros (except `0` itself), no `+`, no spaces, and no overflow.
pub fn parse_i64(s: &[u8]) -> Option<i64> {
    if s.is_empty() || s.len() > 20 {
        return None;
    }
    if s == b"0" {
        return Some(0);
    }
    let (neg, digits) = match s[0] {
        b'-' => (true, &s[1..]),
        _ => (false, s),
    };
    match digits.first() {
        Some(b'1'..=b'9') => {}
        _ => return None,
    }
    let mut v: u64 = 0;
    for &c in digits {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add(u64::from(c - b'0'))?;
    }
    if neg {
        if v > (i64::MAX as u64) + 1 {
            None
        } else {
            Some((v as i64).wrapping_neg())
        }
    } else {
        i64::try_from(v).ok()
    }
}

/// Parses a double as Redis's `string2d` does: all of `s` read by `strtod` (decimal or hex
/// notation, `inf` and `infinity` in any case), no leading space, not NaN, and not a result
/// that overflowed to infinity or underflowed to zero (a subnormal result is kept).
pub fn parse_f64(s: &[u8]) -> Option<f64> {
    if s.first().is_none_or(u8::is_ascii_whitespace) {
        return None;
    }
    let r = strtod::strtod(s);
    let bad_range = r.erange && (r.value.is_infinite() || r.value == 0.0);
    if r.len != s.len() || r.value.is_nan() || bad_range {
        return None;
    }
    Some(r.value)
}

/// Formats a double like C's `printf("%.17g")`, with `inf`, `-inf` and `nan` spelled as glibc
/// spells them. Redis 7.0 uses this for every double reply (ZSCORE, ZINCRBY, GEODIST ...).
pub fn fmt_g17(d: f64) -> String {
    fmt_g(d, 17)
}

/// `printf("%.{precision}g")`.
pub fn fmt_g(d: f64, precision: usize) -> String {
    if d.is_nan() {
        return if d.is_sign_negative() {
            "-nan".into()
        } else {
            "nan".into()
        };
    }
    if d.is_infinite() {
        return if d > 0.0 { "inf".into() } else { "-inf".into() };
    }
    let p = precision.max(1);
    if d == 0.0 {
        return if d.is_sign_negative() {
            "-0".into()
        } else {
            "0".into()
        };
    }
    // Scientific form with p significant digits tells the decimal exponent after rounding.
    let sci = format!("{:.*e}", p - 1, d);
    let (mant, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if exp < -4 || exp >= p as i32 {
        let mant = trim_fraction_zeros(mant);
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{}e{}{:02}", mant, sign, exp.abs())
    } else {
        let decimals = (p as i32 - 1 - exp).max(0) as usize;
        trim_fraction_zeros(&format!("{:.*}", decimals, d)).to_string()
    }
}

fn trim_fraction_zeros(s: &str) -> &str {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.')
    } else {
        s
    }
}

/// Formats an i64 into its decimal bytes (a tiny helper for replies built from integers).
pub fn i64_bytes(n: i64) -> Vec<u8> {
    let mut buf = [0u8; I64_DIGITS];
    i64_digits(n, &mut buf).to_vec()
}

/// Room for any i64 in decimal: a sign and 19 digits.
pub const I64_DIGITS: usize = 20;

/// Writes `n` in decimal at the end of `buf` and returns those bytes: the same text as
/// `n.to_string()` without going through the formatter or allocating (INCR's new value).
pub fn i64_digits(n: i64, buf: &mut [u8; I64_DIGITS]) -> &[u8] {
    let mut at = buf.len();
    let mut v = n.unsigned_abs();
    loop {
        at -= 1;
        buf[at] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    if n < 0 {
        at -= 1;
        buf[at] = b'-';
    }
    &buf[at..]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn i64_digits_as_to_string() {
        let mut buf = [0u8; I64_DIGITS];
        for n in [0, 1, -1, 9, 10, 99, 100, 12345, -98765, i64::MAX, i64::MIN] {
            assert_eq!(i64_digits(n, &mut buf), n.to_string().as_bytes());
            assert_eq!(i64_bytes(n), n.to_string().into_bytes());
        }
    }

    #[test]
    fn parse_i64_is_strict() {
        assert_eq!(parse_i64(b"0"), Some(0));
        assert_eq!(parse_i64(b"-1"), Some(-1));
        assert_eq!(parse_i64(b"9223372036854775807"), Some(i64::MAX));
        assert_eq!(parse_i64(b"-9223372036854775808"), Some(i64::MIN));
        for bad in [
            &b"9223372036854775808"[..],
            b"-0",
            b"01",
            b"+1",
            b" 1",
            b"1 ",
            b"",
            b"-",
            b"1a",
        ] {
            assert_eq!(parse_i64(bad), None, "{:?}", std::str::from_utf8(bad));
        }
    }

    #[test]
    fn parse_f64_follows_strtod() {
        assert_eq!(parse_f64(b"1.5"), Some(1.5));
        assert_eq!(parse_f64(b"+inf"), Some(f64::INFINITY));
        assert_eq!(parse_f64(b"-Infinity"), Some(f64::NEG_INFINITY));
        assert_eq!(parse_f64(b"0x10"), Some(16.0));
        assert_eq!(parse_f64(b"1e3"), Some(1000.0));
        assert_eq!(parse_f64(b".5"), Some(0.5));
        assert_eq!(parse_f64(b"5."), Some(5.0));
        for bad in [
            &b"nan"[..],
            b" 1",
            b"1 ",
            b"",
            b"1e400",
            b"1e-400",
            b"abc",
            b"--1",
        ] {
            assert_eq!(parse_f64(bad), None, "{:?}", std::str::from_utf8(bad));
        }
    }

    #[test]
    fn g17_matches_printf() {
        assert_eq!(fmt_g17(1.1), "1.1000000000000001");
        assert_eq!(fmt_g17(1.5), "1.5");
        assert_eq!(fmt_g17(100.0), "100");
        assert_eq!(fmt_g17(1e17), "1e+17");
        assert_eq!(fmt_g17(1e16), "10000000000000000");
        assert_eq!(fmt_g17(0.0001), "0.0001");
        assert_eq!(fmt_g17(0.00001), "1.0000000000000001e-05");
        assert_eq!(fmt_g17(-0.0), "-0");
        assert_eq!(fmt_g17(f64::INFINITY), "inf");
        assert_eq!(fmt_g17(1e300), "1.0000000000000001e+300");
    }
}
