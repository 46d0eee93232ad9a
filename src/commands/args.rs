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

/// A cursor for SCAN-family commands, parsed as Redis does with C's `strtoul`: an optional
/// `+` or `-` (a negative cursor wraps modulo 2^64), decimal digits, nothing after them, no
/// leading space, no overflow. The empty string is cursor 0, as `strtoul` leaves it. Anything
/// else is `ERR invalid cursor`.
pub fn cursor(arg: &[u8]) -> Result<u64, CmdError> {
    if arg.is_empty() {
        return Ok(0);
    }
    let (neg, digits) = match arg[0] {
        b'-' => (true, &arg[1..]),
        b'+' => (false, &arg[1..]),
        _ => (false, arg),
    };
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return Err(error::INVALID_CURSOR);
    }
    let mut v: u64 = 0;
    for &d in digits {
        v = v
            .checked_mul(10)
            .and_then(|v| v.checked_add(u64::from(d - b'0')))
            .ok_or(error::INVALID_CURSOR)?;
    }
    Ok(if neg { v.wrapping_neg() } else { v })
}

/// An argument that must fit a C `int` (SELECT, ...), with Redis's two distinct errors.
pub fn int32(arg: &[u8]) -> Result<i32, CmdError> {
    let v = int(arg)?;
    i32::try_from(v).map_err(|_| {
        CmdError::from("ERR value is out of range, value must between -2147483648 and 2147483647")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_follows_strtoul() {
        assert_eq!(cursor(b"0"), Ok(0));
        assert_eq!(cursor(b""), Ok(0));
        assert_eq!(cursor(b"+7"), Ok(7));
        assert_eq!(cursor(b"-1"), Ok(u64::MAX));
        assert_eq!(cursor(b"-0"), Ok(0));
        assert_eq!(cursor(b"18446744073709551615"), Ok(u64::MAX));
        assert_eq!(cursor(b"-18446744073709551615"), Ok(1));
        for bad in [&b"18446744073709551616"[..], b" 1", b"1 ", b"-", b"+", b"0x1", b"1a", b"--1"] {
            assert_eq!(cursor(bad), Err(error::INVALID_CURSOR), "{:?}", bad);
        }
    }
}
