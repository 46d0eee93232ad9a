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

/// A cursor for SCAN-family commands, read as C's `strtoul` reads it: an optional sign then
/// decimal digits, a negative value wrapping around (`-1` is 2^64-1); no leading space, no
/// trailing text, no overflow; the empty string reads as 0. Anything else is `ERR invalid cursor`.
pub fn cursor(arg: &[u8]) -> Result<u64, CmdError> {
    if arg.is_empty() {
        return Ok(0); // strtoul reads nothing and stops at the terminator
    }
    let (neg, digits) = match arg.first() {
        Some(b'-') => (true, &arg[1..]),
        Some(b'+') => (false, &arg[1..]),
        _ => (false, arg),
    };
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return Err(error::INVALID_CURSOR);
    }
    let v: u64 = std::str::from_utf8(digits)
        .ok()
        .and_then(|s| s.parse().ok())
        .ok_or(error::INVALID_CURSOR)?;
    Ok(if neg { v.wrapping_neg() } else { v })
}

/// An argument that must fit a C `int` (SELECT, ...), with Redis's two distinct errors.
pub fn int32(arg: &[u8]) -> Result<i32, CmdError> {
    let v = int(arg)?;
    i32::try_from(v).map_err(|_| {
        CmdError::from("ERR value is out of range, value must between -2147483648 and 2147483647")
    })
}
