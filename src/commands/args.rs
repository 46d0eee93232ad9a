//! Small helpers for reading command arguments with Redis's parsing rules and error texts.

use crate::error::{self, CmdError};
use crate::util;

/// Whether `arg` equals the keyword `kw`, ignoring ASCII case (`kw` is given in any case).
pub fn is(arg: &[u8], kw: &str) -> bool {
    arg.eq_ignore_ascii_case(kw.as_bytes())
}

/// An integer argument, or `ERR value is not an integer or out of range`.
pub fn int(arg: &[u8]) -> Result<i64, CmdError> {
    util::parse_i64(arg).ok_or(error::NOT_INTEGER)
}

/// An integer argument with a custom error for anything that is not one.
pub fn int_or(arg: &[u8], err: CmdError) -> Result<i64, CmdError> {
    util::parse_i64(arg).ok_or(err)
}

/// A non-negative integer (`ERR value is out of range, must be positive` when negative).
pub fn uint(arg: &[u8]) -> Result<u64, CmdError> {
    let v = int(arg)?;
    u64::try_from(v).map_err(|_| error::POSITIVE)
}

/// A float argument, or `ERR value is not a valid float`.
pub fn float(arg: &[u8]) -> Result<f64, CmdError> {
    util::parse_f64(arg).ok_or(error::NOT_FLOAT)
}

/// A cursor for SCAN-family commands, read as Redis reads it with C's `strtoul`: the text up to
/// any NUL byte, an optional sign (`-N` wraps around as unsigned arithmetic does, so `-1` is
/// 2^64-1), decimal digits, nothing after them; the empty string is cursor 0. A leading space
/// or an overflow gives `ERR invalid cursor`.
pub fn cursor(arg: &[u8]) -> Result<u64, CmdError> {
    let text = &arg[..arg.iter().position(|&b| b == 0).unwrap_or(arg.len())];
    if text.is_empty() {
        return Ok(0);
    }
    if matches!(text[0], b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r') {
        return Err(error::INVALID_CURSOR);
    }
    let (negative, digits) = match text[0] {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    if digits.is_empty() {
        return Err(error::INVALID_CURSOR);
    }
    let mut v: u64 = 0;
    for &c in digits {
        if !c.is_ascii_digit() {
            return Err(error::INVALID_CURSOR);
        }
        v = v
            .checked_mul(10)
            .and_then(|v| v.checked_add(u64::from(c - b'0')))
            .ok_or(error::INVALID_CURSOR)?;
    }
    Ok(if negative { v.wrapping_neg() } else { v })
}

/// An argument that must fit a C `int` (SELECT, ...), with Redis's two distinct errors.
pub fn int32(arg: &[u8]) -> Result<i32, CmdError> {
    let v = int(arg)?;
    i32::try_from(v).map_err(|_| error::INT32_RANGE)
}

/// A blocking command's timeout in seconds (BLPOP ...): a float, Redis's two errors, 0 for
/// "wait for ever". Returns the absolute deadline in ms, or None for ever.
pub fn block_deadline(arg: &[u8], now: i64) -> Result<Option<i64>, CmdError> {
    let secs = crate::util::longdouble::LongDouble::parse(arg)
        .map(|v| v.to_f64())
        .ok_or(error::TIMEOUT_NOT_FLOAT)?;
    // C's conversion of the product to long long: truncation toward zero, and (on x86-64)
    // anything out of range, infinities included, becomes the most negative value.
    let ms = secs * 1000.0;
    let ms = if ms.is_finite() && ms > i64::MIN as f64 && ms < i64::MAX as f64 {
        ms as i64
    } else {
        i64::MIN
    };
    if ms < 0 {
        return Err(error::TIMEOUT_NEGATIVE);
    }
    if ms == 0 {
        return Ok(None);
    }
    if ms > i64::MAX - now {
        return Err(error::TIMEOUT_RANGE);
    }
    Ok(Some(now + ms))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_parse_like_strtoul() {
        assert_eq!(cursor(b""), Ok(0));
        assert_eq!(cursor(b"0"), Ok(0));
        assert_eq!(cursor(b"+7"), Ok(7));
        assert_eq!(cursor(b"007"), Ok(7));
        assert_eq!(cursor(b"-1"), Ok(u64::MAX));
        assert_eq!(cursor(b"-18446744073709551615"), Ok(1));
        assert_eq!(cursor(b"18446744073709551615"), Ok(u64::MAX));
        assert_eq!(cursor(b"5\x00x"), Ok(5));
        for bad in [
            &b"18446744073709551616"[..],
            b" 0",
            b"\t0",
            b"0 ",
            b"-",
            b"+",
            b"--1",
            b"1e3",
            b"0x1",
        ] {
            assert_eq!(cursor(bad), Err(error::INVALID_CURSOR), "{:?}", bad);
        }
    }
}
