//! The bitmap group: SETBIT, GETBIT, BITCOUNT, BITPOS, BITOP, BITFIELD, BITFIELD_RO.
//!
//! Bitmaps are plain strings. A string any of these commands writes to becomes `raw`, as Redis
//! turns it into a private, growable buffer before touching a bit (even when no bit changes).
//! Integer-encoded strings are read through their decimal digits.

use super::args;
use super::spec::*;
use crate::engine::Ctx;
use crate::error::{self, CmdError, CmdResult};
use crate::protocol::Reply;
use crate::types::bitmap::{self, BitOp, Overflow};
use crate::types::{StrEncoding, Value};
use crate::util::parse_i64;

/// The bitmap group's commands.
pub const COMMANDS: &[CommandSpec] = &[
    CommandSpec::new("setbit", 4, &[WRITE, DENYOOM], setbit).doc(Group::Bitmap, "2.2.0", &[Arg::key("key", 0), Arg::integer("offset"), Arg::integer("value")], "Sets or clears one bit of a string, growing it with zero bytes; replies the old bit.").key_specs(&[KeySpec::new(&[RW, ACCESS, UPDATE], index(1), range(0, 1, 0))]).complexity("O(1)"),
    CommandSpec::new("getbit", 3, &[READONLY, FAST], getbit).doc(Group::Bitmap, "2.2.0", &[Arg::key("key", 0), Arg::integer("offset")], "Replies one bit of a string (0 past its end or for a missing key).").key_specs(&[KeySpec::new(&[RO, ACCESS], index(1), range(0, 1, 0))]).complexity("O(1)"),
    CommandSpec::new("bitcount", -2, &[READONLY], bitcount).doc(Group::Bitmap, "2.6.0", &[Arg::key("key", 0), Arg::block("index", &[Arg::integer("start"), Arg::integer("end"), Arg::oneof("index_unit", &[Arg::token("byte", "BYTE"), Arg::token("bit", "BIT")]).optional().since("7.0.0")]).optional()], "Counts the set bits of a string, optionally within a byte or bit range.").key_specs(&[KeySpec::new(&[RO, ACCESS], index(1), range(0, 1, 0))]).complexity("O(N)"),
    CommandSpec::new("bitpos", -3, &[READONLY], bitpos).doc(Group::Bitmap, "2.8.7", &[Arg::key("key", 0), Arg::integer("bit"), Arg::block("index", &[Arg::integer("start"), Arg::block("end_index", &[Arg::integer("end"), Arg::oneof("index_unit", &[Arg::token("byte", "BYTE"), Arg::token("bit", "BIT")]).optional().since("7.0.0")]).optional()]).optional()], "Finds the first bit set to 1 (or 0) in a string, optionally within a range.").key_specs(&[KeySpec::new(&[RO, ACCESS], index(1), range(0, 1, 0))]).complexity("O(N)"),
    CommandSpec::new("bitop", -4, &[WRITE, DENYOOM], bitop).doc(Group::Bitmap, "2.6.0", &[Arg::string("operation"), Arg::key("destkey", 0), Arg::key("key", 1).multiple()], "Stores the bitwise AND, OR, XOR of strings (or NOT of one) in a key; replies its length.").key_specs(&[KeySpec::new(&[OW, UPDATE], index(2), range(0, 1, 0)), KeySpec::new(&[RO, ACCESS], index(3), range(-1, 1, 0))]).complexity("O(N)"),
    CommandSpec::new("bitfield", -2, &[WRITE, DENYOOM], bitfield).doc(Group::Bitmap, "3.2.0", &[Arg::key("key", 0), Arg::oneof("operation", &[Arg::block("encoding_offset", &[Arg::string("encoding"), Arg::integer("offset")]).with_token("GET"), Arg::block("write", &[Arg::oneof("wrap_sat_fail", &[Arg::token("wrap", "WRAP"), Arg::token("sat", "SAT"), Arg::token("fail", "FAIL")]).with_token("OVERFLOW").optional(), Arg::oneof("write_operation", &[Arg::block("encoding_offset_value", &[Arg::string("encoding"), Arg::integer("offset"), Arg::integer("value")]).with_token("SET"), Arg::block("encoding_offset_increment", &[Arg::string("encoding"), Arg::integer("offset"), Arg::integer("increment")]).with_token("INCRBY")])])]).optional().multiple()], "Reads, writes and increments integers of any width (i1..i64, u1..u63) at any bit offset of a string.").key_specs(&[KeySpec::new(&[RW, ACCESS, UPDATE, VARIABLE_FLAGS], index(1), range(0, 1, 0)).notes("This command allows both access and modification of the key")]).complexity("O(1) per subcommand."),
    CommandSpec::new("bitfield_ro", -2, &[READONLY, FAST], bitfield_ro).doc(Group::Bitmap, "6.0.0", &[Arg::key("key", 0), Arg::block("encoding_offset", &[Arg::string("encoding"), Arg::integer("offset")]).with_token("GET").optional().multiple().multiple_token()], "Reads integers of any width at any bit offset of a string (BITFIELD's GET only).").key_specs(&[KeySpec::new(&[RO, ACCESS], index(1), range(0, 1, 0))]).complexity("O(1) per subcommand."),
];

/// A bit offset argument: a non-negative integer whose byte lies below proto-max-bulk-len.
/// With `width` (BITFIELD), `#N` means the N-th field of that width.
fn bit_offset(ctx: &Ctx, arg: &[u8], width: Option<u32>) -> Result<u64, CmdError> {
    let (digits, scale) = match (arg.first(), width) {
        (Some(b'#'), Some(w)) => (&arg[1..], Some(w)),
        _ => (arg, None),
    };
    let mut n = parse_i64(digits).ok_or(error::BIT_OFFSET)?;
    if let Some(w) = scale {
        // Redis multiplies in a C long long; an overflow wraps there.
        n = n.wrapping_mul(i64::from(w));
    }
    let limit = ctx.eng.config.proto_max_bulk_len;
    if n < 0 || (n as u64 >> 3) >= limit {
        return Err(error::BIT_OFFSET);
    }
    Ok(n as u64)
}

/// The string under `key` for reading: None when missing, WRONGTYPE for another type.
fn read_string(ctx: &mut Ctx, key: &[u8]) -> Result<Option<Vec<u8>>, CmdError> {
    match ctx.lookup_read(key) {
        None => Ok(None),
        Some(e) => match &e.value {
            Value::Str(b, _) => Ok(Some(b.to_vec())),
            _ => Err(error::WRONGTYPE),
        },
    }
}

/// The string under `key` made long enough to hold bit `max_bit`, created (zero-filled) when
/// missing, and turned raw. Returns its bytes and whether the key was created or grew.
fn string_for_bits<'a>(
    ctx: &'a mut Ctx,
    key: &[u8],
    max_bit: u64,
) -> Result<(&'a mut Vec<u8>, bool), CmdError> {
    let len = usize::try_from((max_bit >> 3) + 1).map_err(|_| error::OOM)?;
    let now = ctx.now;
    let exists = match ctx.lookup_write(key) {
        None => false,
        Some(e) if matches!(e.value, Value::Str(..)) => true,
        Some(_) => return Err(error::WRONGTYPE),
    };
    let mut grew = !exists;
    if !exists {
        let mut bytes = Vec::new();
        bytes.try_reserve_exact(len).map_err(|_| error::OOM)?;
        bytes.resize(len, 0);
        ctx.db()
            .set(key, Value::Str(bytes.into(), StrEncoding::Raw), now);
    }
    let Some(Value::Str(bytes, enc)) = ctx.db().get_mut(key, now).map(|e| &mut e.value) else {
        return Err(error::WRONGTYPE);
    };
    *enc = StrEncoding::Raw;
    let bytes = bytes.make_mut();
    if bytes.len() < len {
        bytes
            .try_reserve_exact(len - bytes.len())
            .map_err(|_| error::OOM)?;
        bytes.resize(len, 0);
        grew = true;
    }
    Ok((bytes, grew))
}

/// `SETBIT key offset value` → the bit's previous value (0 or 1).
fn setbit(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    let key = &argv[1];
    let offset = bit_offset(ctx, &argv[2], None)?;
    let on = match parse_i64(&argv[3]) {
        Some(0) => false,
        Some(1) => true,
        _ => return Err(error::BIT_VALUE),
    };
    let (bytes, grew) = string_for_bits(ctx, key, offset)?;
    let old = bitmap::set_bit(bytes, offset, on);
    if grew || old != on {
        ctx.signal_modified(key);
        ctx.notify('$', "setbit", key);
        ctx.dirty(1);
    }
    Ok(Reply::Integer(i64::from(old)))
}

/// `GETBIT key offset` → 0 or 1.
fn getbit(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    let offset = bit_offset(ctx, &argv[2], None)?;
    let s = read_string(ctx, &argv[1])?.unwrap_or_default();
    Ok(Reply::Integer(i64::from(bitmap::get_bit(&s, offset))))
}

/// Whether a BYTE|BIT argument says BIT.
fn unit_is_bit(arg: &[u8]) -> Result<bool, CmdError> {
    if args::is(arg, "bit") {
        Ok(true)
    } else if args::is(arg, "byte") {
        Ok(false)
    } else {
        Err(error::SYNTAX)
    }
}

/// Redis's range arithmetic for BITCOUNT and BITPOS over `total` units: negative indexes
/// count from the end, both ends clamp into the string. The result may be empty (start > end).
fn clamp_range(start: i64, end: i64, total: i64) -> (i64, i64) {
    let start = if start < 0 { total + start } else { start };
    let end = if end < 0 { total + end } else { end };
    let start = start.max(0);
    let end = end.max(0).min(total - 1);
    (start, end)
}

/// `BITCOUNT key [start end [BYTE|BIT]]` → the number of set bits in the range.
fn bitcount(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    let Some(s) = read_string(ctx, &argv[1])? else {
        return Ok(Reply::Integer(0));
    };
    let len = s.len() as i64;
    let (first, last) = match argv.len() {
        2 => (0, len * 8 - 1),
        4 | 5 => {
            let start = args::int(&argv[2])?;
            let end = args::int(&argv[3])?;
            if start < 0 && end < 0 && start > end {
                return Ok(Reply::Integer(0));
            }
            let isbit = match argv.get(4) {
                Some(a) => unit_is_bit(a)?,
                None => false,
            };
            if isbit {
                clamp_range(start, end, len * 8)
            } else {
                let (a, b) = clamp_range(start, end, len);
                (a.saturating_mul(8), b.saturating_mul(8).saturating_add(7))
            }
        }
        _ => return Err(error::SYNTAX),
    };
    if first > last || len == 0 {
        return Ok(Reply::Integer(0));
    }
    let n = bitmap::count_bits(&s, first as u64, last as u64);
    Ok(Reply::int(n))
}

/// `BITPOS key bit [start [end [BYTE|BIT]]]` → the first position of `bit`, or -1. Without an
/// explicit end, a string of all ones has its first clear bit just past its end.
fn bitpos(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    let bit = match args::int(&argv[2])? {
        0 => false,
        1 => true,
        _ => return Err(error::BIT_ARGUMENT),
    };
    let Some(s) = read_string(ctx, &argv[1])? else {
        return Ok(Reply::Integer(if bit { -1 } else { 0 }));
    };
    let len = s.len() as i64;
    let mut end_given = false;
    let (first, last) = match argv.len() {
        3 => (0, len * 8 - 1),
        4..=6 => {
            let start = args::int(&argv[3])?;
            let isbit = match argv.get(5) {
                Some(a) => unit_is_bit(a)?,
                None => false,
            };
            let end = match argv.get(4) {
                Some(a) => {
                    end_given = true;
                    args::int(a)?
                }
                None => len - 1,
            };
            if isbit {
                clamp_range(start, end, len * 8)
            } else {
                let (a, b) = clamp_range(start, end, len);
                if a > b {
                    (1, 0)
                } else {
                    (a.saturating_mul(8), b.saturating_mul(8).saturating_add(7))
                }
            }
        }
        _ => return Err(error::SYNTAX),
    };
    if first > last || len == 0 {
        return Ok(Reply::Integer(-1));
    }
    let pos = match bitmap::find_bit(&s, bit, first as u64, last as u64) {
        Some(p) => p as i64,
        None if bit || end_given => -1,
        // Searching for a clear bit with an open end: the string continues with zeros.
        None => (last / 8 + 1) * 8,
    };
    Ok(Reply::Integer(pos))
}

/// `BITOP AND|OR|XOR|NOT destkey key [key ...]` → the length of the stored result. An empty
/// result deletes the destination.
fn bitop(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    let op = if args::is(&argv[1], "and") {
        BitOp::And
    } else if args::is(&argv[1], "or") {
        BitOp::Or
    } else if args::is(&argv[1], "xor") {
        BitOp::Xor
    } else if args::is(&argv[1], "not") {
        BitOp::Not
    } else {
        return Err(error::SYNTAX);
    };
    if op == BitOp::Not && argv.len() != 4 {
        return Err(error::BITOP_NOT_ONE_KEY);
    }
    let mut sources = Vec::with_capacity(argv.len() - 3);
    for key in &argv[3..] {
        sources.push(read_string(ctx, key)?.unwrap_or_default());
    }
    let refs: Vec<&[u8]> = sources.iter().map(Vec::as_slice).collect();
    let result = bitmap::bitop(op, &refs);
    let dst = &argv[2];
    let n = result.len();
    let now = ctx.now;
    if n > 0 {
        ctx.db()
            .set(dst, Value::Str(result.into(), StrEncoding::Raw), now);
        ctx.signal_modified(dst);
        ctx.notify('$', "set", dst);
        ctx.dirty(1);
    } else if ctx.db().delete(dst, now).is_some() {
        ctx.signal_modified(dst);
        ctx.notify('g', "del", dst);
        ctx.dirty(1);
    }
    Ok(Reply::int(n))
}

/// One parsed BITFIELD operation.
#[derive(Clone, Copy, Debug)]
struct FieldOp {
    kind: FieldKind,
    signed: bool,
    bits: u32,
    offset: u64,
    value: i64,
    overflow: Overflow,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum FieldKind {
    Get,
    Set,
    Incrby,
}

/// A field type: `i1`..`i64` or `u1`..`u63`.
fn field_type(arg: &[u8]) -> Result<(bool, u32), CmdError> {
    let signed = match arg.first() {
        Some(b'i') => true,
        Some(b'u') => false,
        _ => return Err(error::BITFIELD_TYPE),
    };
    let digits = &arg[1..];
    let digits = &digits[..digits.iter().position(|&c| c == 0).unwrap_or(digits.len())];
    let bits = parse_i64(digits).ok_or(error::BITFIELD_TYPE)?;
    let max = if signed { 64 } else { 63 };
    if !(1..=max).contains(&bits) {
        return Err(error::BITFIELD_TYPE);
    }
    Ok((signed, bits as u32))
}

/// Parses BITFIELD's operations, in order, with Redis's errors.
fn parse_field_ops(ctx: &Ctx, argv: &[Vec<u8>]) -> Result<Vec<FieldOp>, CmdError> {
    let mut ops = Vec::new();
    let mut overflow = Overflow::Wrap;
    let mut j = 2;
    while j < argv.len() {
        let left = argv.len() - j - 1;
        let sub = &argv[j];
        let kind = if args::is(sub, "get") && left >= 2 {
            FieldKind::Get
        } else if args::is(sub, "set") && left >= 3 {
            FieldKind::Set
        } else if args::is(sub, "incrby") && left >= 3 {
            FieldKind::Incrby
        } else if args::is(sub, "overflow") && left >= 1 {
            let w = &argv[j + 1];
            overflow = if args::is(w, "wrap") {
                Overflow::Wrap
            } else if args::is(w, "sat") {
                Overflow::Sat
            } else if args::is(w, "fail") {
                Overflow::Fail
            } else {
                return Err(error::BITFIELD_OVERFLOW_TYPE);
            };
            j += 2;
            continue;
        } else {
            return Err(error::SYNTAX);
        };
        let (signed, bits) = field_type(&argv[j + 1])?;
        let offset = bit_offset(ctx, &argv[j + 2], Some(bits))?;
        let value = if kind == FieldKind::Get {
            0
        } else {
            args::int(&argv[j + 3])?
        };
        ops.push(FieldOp {
            kind,
            signed,
            bits,
            offset,
            value,
            overflow,
        });
        j += if kind == FieldKind::Get { 3 } else { 4 };
    }
    Ok(ops)
}

/// `BITFIELD key [GET type offset] [SET type offset value] [INCRBY type offset increment]
/// [OVERFLOW WRAP|SAT|FAIL] ...` → one reply per GET/SET/INCRBY: the value read, the old
/// value (SET), the new value (INCRBY), or nil when OVERFLOW FAIL refused it.
fn bitfield(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    bitfield_generic(ctx, argv, false)
}

/// `BITFIELD_RO key [GET type offset ...]` → the values read.
fn bitfield_ro(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    bitfield_generic(ctx, argv, true)
}

fn bitfield_generic(ctx: &mut Ctx, argv: &[Vec<u8>], read_only: bool) -> CmdResult {
    let key = &argv[1];
    let ops = parse_field_ops(ctx, argv)?;
    let writes = ops.iter().any(|o| o.kind != FieldKind::Get);
    if !writes {
        let s = read_string(ctx, key)?.unwrap_or_default();
        let out = ops
            .iter()
            .map(|o| Reply::Integer(read_field(&s, o)))
            .collect();
        return Ok(Reply::Array(out));
    }
    if read_only {
        return Err(error::BITFIELD_RO_GET_ONLY);
    }
    let max_bit = ops
        .iter()
        .filter(|o| o.kind != FieldKind::Get)
        .map(|o| o.offset + u64::from(o.bits) - 1)
        .max()
        .unwrap_or(0);
    let (bytes, grew) = string_for_bits(ctx, key, max_bit)?;
    let mut out = Vec::with_capacity(ops.len());
    let mut changes = 0u64;
    for o in &ops {
        if o.kind == FieldKind::Get {
            out.push(Reply::Integer(read_field(bytes, o)));
            continue;
        }
        let incr = o.kind == FieldKind::Incrby;
        let (old, new, overflowed) = if o.signed {
            let old = bitmap::get_signed(bytes, o.offset, o.bits);
            let (new, of) = if incr {
                bitmap::signed_add(old, o.value, o.bits, o.overflow)
            } else {
                bitmap::signed_add(o.value, 0, o.bits, o.overflow)
            };
            (old as u64, new as u64, of)
        } else {
            let old = bitmap::get_unsigned(bytes, o.offset, o.bits);
            let (new, of) = if incr {
                bitmap::unsigned_add(old, o.value, o.bits, o.overflow)
            } else {
                bitmap::unsigned_add(o.value as u64, 0, o.bits, o.overflow)
            };
            (old, new, of)
        };
        if overflowed && o.overflow == Overflow::Fail {
            out.push(Reply::Nil);
            continue;
        }
        out.push(Reply::Integer(if incr { new as i64 } else { old as i64 }));
        bitmap::set_unsigned(bytes, o.offset, o.bits, new);
        if grew || old != new {
            changes += 1;
        }
    }
    if changes > 0 {
        ctx.signal_modified(key);
        ctx.notify('$', "setbit", key);
        ctx.dirty(changes);
    }
    Ok(Reply::Array(out))
}

/// The value of a GET operation on `s` (bits past the end read as zero).
fn read_field(s: &[u8], o: &FieldOp) -> i64 {
    if o.signed {
        bitmap::get_signed(s, o.offset, o.bits)
    } else {
        bitmap::get_unsigned(s, o.offset, o.bits) as i64
    }
}
