//! `cmsgpack`: MessagePack for scripts, byte for byte as the lua-cmsgpack 0.4.0 module that
//! Redis 7.0 bundles writes it (numbers as the smallest integer or float32/float64, strings
//! with str8/str16/str32 headers, tables as arrays when their keys are exactly 1..n, tables
//! nested 16 deep written as nil) and reading it back with the same errors.

use rilua::vm::state::LuaState;
use rilua::{LuaResult, Table, Val};

use super::convert::{entries, to_bytes, to_number};
use super::vm::{arg, nargs};

/// The functions of the `cmsgpack` table.
pub const CMSGPACK: &[(&str, rilua::RustFn)] = &[
    ("pack", mp_pack),
    ("unpack", mp_unpack),
    ("unpack_one", mp_unpack_one),
    ("unpack_limit", mp_unpack_limit),
];

/// The string fields of the `cmsgpack` table.
pub const CMSGPACK_FIELDS: &[(&str, &str)] = &[
    ("_NAME", "cmsgpack"),
    ("_VERSION", "lua-cmsgpack 0.4.0"),
    ("_COPYRIGHT", "Copyright (C) 2012, Salvatore Sanfilippo"),
    ("_DESCRIPTION", "MessagePack C implementation for Lua"),
];

/// Tables deeper than this are written as nil (so a table holding itself ends).
const MAX_NESTING: usize = 16;

/// The stack slots a C function of Redis's Lua may use (LUAI_MAXCSTACK).
pub(super) const MAX_C_STACK: usize = 8000;

/// The most bytes one `pack` writes: tables referring to themselves many times grow the
/// output exponentially, and native code is not stopped by the script time limit.
const MAX_OUTPUT: usize = 512 * 1024 * 1024;

pub(super) fn type_name(state: &LuaState, i: usize) -> &'static str {
    if i >= nargs(state) {
        "no value"
    } else {
        arg(state, i).type_name()
    }
}

pub(super) fn bad_arg(i: usize, func: &str, msg: &str) -> rilua::LuaError {
    rilua::runtime_error(format!("bad argument #{} to '{}' ({})", i, func, msg))
}

/// A string argument as luaL_checklstring reads it (numbers become their text).
pub(super) fn check_bytes(state: &LuaState, i: usize, func: &str) -> LuaResult<Vec<u8>> {
    match to_bytes(state, arg(state, i)) {
        Some(b) if i < nargs(state) => Ok(b),
        _ => Err(bad_arg(
            i + 1,
            func,
            &format!("string expected, got {}", type_name(state, i)),
        )),
    }
}

/// A number argument as luaL_checknumber reads it.
pub(super) fn check_number(state: &LuaState, i: usize, func: &str) -> LuaResult<f64> {
    match to_number(state, arg(state, i)) {
        Some(n) if i < nargs(state) => Ok(n),
        _ => Err(bad_arg(
            i + 1,
            func,
            &format!("number expected, got {}", type_name(state, i)),
        )),
    }
}

/// A double converted to a 64-bit integer as x86-64 does it in C: truncated, and the
/// "integer indefinite" value (i64::MIN) when it is out of range or NaN.
pub(super) fn c_i64(x: f64) -> i64 {
    // NaN is in no range.
    if !(-9_223_372_036_854_775_808.0..9_223_372_036_854_775_808.0).contains(&x) {
        i64::MIN
    } else {
        x as i64
    }
}

/// An optional integer argument as luaL_optinteger reads it.
pub(super) fn opt_integer(state: &LuaState, i: usize, func: &str, def: i64) -> LuaResult<i64> {
    match arg(state, i) {
        Val::Nil => Ok(def),
        _ => check_number(state, i, func).map(c_i64),
    }
}

fn push_string(state: &mut LuaState, s: &[u8]) {
    let r = state.gc.intern_string(s);
    state.push(Val::Str(r));
}

// ---------------------------------------------------------------------------------------
// pack
// ---------------------------------------------------------------------------------------

fn mp_pack(state: &mut LuaState) -> LuaResult<u32> {
    let n = nargs(state);
    if n == 0 {
        return Err(bad_arg(0, "pack", "MessagePack pack needs input."));
    }
    if n.saturating_mul(2) > MAX_C_STACK {
        return Err(bad_arg(
            0,
            "pack",
            "Too many arguments for MessagePack pack.",
        ));
    }
    let mut out = Vec::new();
    for i in 0..n {
        encode(state, arg(state, i), 0, &mut out)?;
    }
    push_string(state, &out);
    Ok(1)
}

fn put_int(out: &mut Vec<u8>, n: i64) {
    if n >= 0 {
        if n <= 127 {
            out.push(n as u8);
        } else if n <= 0xff {
            out.extend_from_slice(&[0xcc, n as u8]);
        } else if n <= 0xffff {
            out.push(0xcd);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        } else if n <= 0xffff_ffff {
            out.push(0xce);
            out.extend_from_slice(&(n as u32).to_be_bytes());
        } else {
            out.push(0xcf);
            out.extend_from_slice(&n.to_be_bytes());
        }
    } else if n >= -32 {
        out.push(n as u8);
    } else if n >= -128 {
        out.extend_from_slice(&[0xd0, n as u8]);
    } else if n >= -32768 {
        out.push(0xd1);
        out.extend_from_slice(&(n as i16).to_be_bytes());
    } else if n >= -2_147_483_648 {
        out.push(0xd2);
        out.extend_from_slice(&(n as i32).to_be_bytes());
    } else {
        out.push(0xd3);
        out.extend_from_slice(&n.to_be_bytes());
    }
}

fn put_number(out: &mut Vec<u8>, n: f64) {
    // An integral value that fits 64 bits is written as an integer.
    if !n.is_infinite() && c_i64(n) as f64 == n {
        put_int(out, c_i64(n));
        return;
    }
    let f = n as f32;
    if f64::from(f) == n {
        out.push(0xca);
        out.extend_from_slice(&f.to_be_bytes());
    } else {
        out.push(0xcb);
        out.extend_from_slice(&n.to_be_bytes());
    }
}

fn put_len(out: &mut Vec<u8>, n: usize, fix: u8, b16: u8, b32: u8) {
    if n <= 15 {
        out.push(fix | n as u8);
    } else if n <= 0xffff {
        out.push(b16);
        out.extend_from_slice(&(n as u16).to_be_bytes());
    } else {
        out.push(b32);
        out.extend_from_slice(&(n as u32).to_be_bytes());
    }
}

fn put_bytes(out: &mut Vec<u8>, s: &[u8]) {
    let n = s.len();
    if n < 32 {
        out.push(0xa0 | n as u8);
    } else if n <= 0xff {
        out.extend_from_slice(&[0xd9, n as u8]);
    } else if n <= 0xffff {
        out.push(0xda);
        out.extend_from_slice(&(n as u16).to_be_bytes());
    } else {
        out.push(0xdb);
        out.extend_from_slice(&(n as u32).to_be_bytes());
    }
    out.extend_from_slice(s);
}

/// True when the keys are exactly 1..n (n may be 0): such a table is written as an array.
fn is_array(items: &[(Val, Val)]) -> bool {
    let mut max = 0f64;
    for (k, _) in items {
        match k {
            // The key must fit a C int, as the module checks it.
            Val::Num(n) if *n > 0.0 && *n <= f64::from(i32::MAX) && n.trunc() == *n => {
                max = max.max(*n)
            }
            _ => return false,
        }
    }
    max == items.len() as f64
}

/// Writes one value. Nesting is at most [`MAX_NESTING`] deep, so recursion is bounded.
fn encode(state: &LuaState, v: Val, level: usize, out: &mut Vec<u8>) -> LuaResult<()> {
    if out.len() > MAX_OUTPUT {
        return Err(rilua::runtime_error("not enough memory"));
    }
    match v {
        Val::Str(_) => put_bytes(out, &to_bytes(state, v).unwrap_or_default()),
        Val::Bool(b) => out.push(if b { 0xc3 } else { 0xc2 }),
        Val::Num(n) => put_number(out, n),
        Val::Table(r) if level < MAX_NESTING => {
            let t = Table::from_gc_ref(r);
            let items = entries(state, t);
            if is_array(&items) {
                put_len(out, items.len(), 0x90, 0xdc, 0xdd);
                for i in 1..=items.len() {
                    let item = t.raw_get(state, Val::Num(i as f64)).unwrap_or(Val::Nil);
                    encode(state, item, level + 1, out)?;
                }
            } else {
                put_len(out, items.len(), 0x80, 0xde, 0xdf);
                for (k, item) in items {
                    encode(state, k, level + 1, out)?;
                    encode(state, item, level + 1, out)?;
                }
            }
        }
        _ => out.push(0xc0),
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// unpack
// ---------------------------------------------------------------------------------------

/// Why reading stopped short.
enum Fail {
    Eof,
    BadFormat,
    Lua(rilua::LuaError),
}

/// An error raised by the VM itself inside a C function: its text carries no position.
fn plain_error(state: &mut LuaState, msg: &str) -> rilua::LuaError {
    let s = state.gc.intern_string(msg.as_bytes());
    state.error_object = Some(Val::Str(s));
    rilua::runtime_error(msg.to_string())
}

fn stack_overflow(what: &str) -> Fail {
    Fail::Lua(rilua::runtime_error(format!("stack overflow ({})", what)))
}

/// A container being filled, with the slots the C module keeps on the Lua stack for it.
enum Open {
    Array {
        t: Table,
        left: usize,
        index: f64,
    },
    Map {
        t: Table,
        left: usize,
        key: Option<Val>,
    },
}

impl Open {
    fn slots(&self) -> usize {
        match self {
            Open::Array { .. } => 2,
            Open::Map { key: None, .. } => 1,
            Open::Map { key: Some(_), .. } => 2,
        }
    }
}

struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
}

impl Reader<'_> {
    fn left(&self) -> usize {
        self.data.len() - self.pos
    }

    fn need(&self, n: usize) -> Result<&[u8], Fail> {
        if self.left() < n {
            Err(Fail::Eof)
        } else {
            Ok(&self.data[self.pos..self.pos + n])
        }
    }

    fn be(&self, at: usize, n: usize) -> Result<u64, Fail> {
        let b = self.need(at + n)?;
        Ok(b[at..]
            .iter()
            .fold(0u64, |acc, &x| (acc << 8) | u64::from(x)))
    }
}

fn new_table(state: &mut LuaState) -> Table {
    Table::from_gc_ref(state.gc.alloc_table(rilua::vm::table::Table::new()))
}

/// Reads one value (with everything nested in it). `used` is how many stack slots the
/// calling function holds already, for the module's stack limit.
fn decode_one(state: &mut LuaState, r: &mut Reader, used: usize) -> Result<Val, Fail> {
    let mut stack: Vec<Open> = Vec::new();
    let mut slots = used;
    loop {
        // One value starts here.
        r.need(1)?;
        if slots + 1 > MAX_C_STACK {
            return Err(stack_overflow(
                "too many return values at once; use unpack_one or unpack_limit instead.",
            ));
        }
        let c = r.data[r.pos];
        let mut open = None;
        let mut v = match c {
            0xcc => {
                let n = r.be(1, 1)?;
                r.pos += 2;
                Val::Num(n as f64)
            }
            0xd0 => {
                let n = r.be(1, 1)? as u8 as i8;
                r.pos += 2;
                Val::Num(f64::from(n))
            }
            0xcd => {
                let n = r.be(1, 2)?;
                r.pos += 3;
                Val::Num(n as f64)
            }
            0xd1 => {
                let n = r.be(1, 2)? as u16 as i16;
                r.pos += 3;
                Val::Num(f64::from(n))
            }
            0xce => {
                let n = r.be(1, 4)?;
                r.pos += 5;
                Val::Num(n as f64)
            }
            0xd2 => {
                let n = r.be(1, 4)? as u32 as i32;
                r.pos += 5;
                Val::Num(f64::from(n))
            }
            // Both 64-bit forms go through a signed integer.
            0xcf | 0xd3 => {
                let n = r.be(1, 8)? as i64;
                r.pos += 9;
                Val::Num(n as f64)
            }
            0xc0 => {
                r.pos += 1;
                Val::Nil
            }
            0xc2 | 0xc3 => {
                r.pos += 1;
                Val::Bool(c == 0xc3)
            }
            0xca => {
                let n = f32::from_bits(r.be(1, 4)? as u32);
                r.pos += 5;
                Val::Num(f64::from(n))
            }
            0xcb => {
                let n = f64::from_bits(r.be(1, 8)?);
                r.pos += 9;
                Val::Num(n)
            }
            0xd9 | 0xda | 0xdb | 0xa0..=0xbf => {
                let (hdr, len) = match c {
                    0xd9 => (2usize, r.be(1, 1)? as usize),
                    0xda => (3, r.be(1, 2)? as usize),
                    0xdb => (5, r.be(1, 4)? as usize),
                    _ => (1, usize::from(c & 0x1f)),
                };
                let s = r.need(len.saturating_add(hdr))?[hdr..].to_vec();
                r.pos += hdr + len;
                let s = state.gc.intern_string(&s);
                Val::Str(s)
            }
            0xdc | 0xdd | 0x90..=0x9f | 0xde | 0xdf | 0x80..=0x8f => {
                let (hdr, len) = match c {
                    0xdc | 0xde => (3, r.be(1, 2)? as usize),
                    0xdd | 0xdf => (5, r.be(1, 4)? as usize),
                    _ => (1, usize::from(c & 0xf)),
                };
                r.pos += hdr;
                let t = new_table(state);
                if matches!(c, 0xdc | 0xdd | 0x90..=0x9f) {
                    if slots + 2 > MAX_C_STACK {
                        return Err(stack_overflow("in function mp_decode_to_lua_array"));
                    }
                    open = Some(Open::Array {
                        t,
                        left: len,
                        index: 1.0,
                    });
                } else {
                    open = Some(Open::Map {
                        t,
                        left: len,
                        key: None,
                    });
                }
                Val::Table(t.gc_ref())
            }
            0x00..=0x7f => {
                r.pos += 1;
                Val::Num(f64::from(c))
            }
            0xe0..=0xff => {
                r.pos += 1;
                Val::Num(f64::from(c as i8))
            }
            _ => return Err(Fail::BadFormat),
        };
        let mut place = true;
        if let Some(o) = open {
            let empty = match &o {
                Open::Array { left, .. } | Open::Map { left, .. } => *left == 0,
            };
            if !empty {
                stack.push(o);
                place = false;
            }
        }
        // Place whole values into their containers; a container with nothing left to read
        // is whole in turn.
        if place {
            loop {
                let Some(top) = stack.last_mut() else {
                    return Ok(v);
                };
                let whole = match top {
                    Open::Array { t, left, index } => {
                        let _ = t.raw_set(state, Val::Num(*index), v);
                        *index += 1.0;
                        *left -= 1;
                        *left == 0
                    }
                    Open::Map { t, left, key } => match key.take() {
                        None => {
                            *key = Some(v);
                            false
                        }
                        Some(k) => {
                            match k {
                                Val::Nil => {
                                    return Err(Fail::Lua(plain_error(state, "table index is nil")))
                                }
                                Val::Num(n) if n.is_nan() => {
                                    return Err(Fail::Lua(plain_error(state, "table index is NaN")))
                                }
                                _ => {}
                            }
                            let _ = t.raw_set(state, k, v);
                            *left -= 1;
                            *left == 0
                        }
                    },
                };
                if !whole {
                    break;
                }
                if let Some(Open::Array { t, .. } | Open::Map { t, .. }) = stack.pop() {
                    v = Val::Table(t.gc_ref());
                }
            }
        }
        slots = used + stack.iter().map(Open::slots).sum::<usize>();
    }
}

fn unpack_full(state: &mut LuaState, func: &str, limit: i64, offset: i64) -> LuaResult<u32> {
    let data = check_bytes(state, 0, func)?;
    let len = data.len();
    let all = limit == 0 && offset == 0;
    if offset < 0 || limit < 0 {
        return Err(rilua::runtime_error(format!(
            "Invalid request to unpack with offset of {} and limit of {}.",
            offset as i32, len as i32
        )));
    }
    if offset as u64 > len as u64 {
        return Err(rilua::runtime_error(format!(
            "Start offset {} greater than input length {}.",
            offset as i32, len as i32
        )));
    }
    // `unpack` keeps all its arguments on the stack; the others keep only the string.
    let mut used = if all { nargs(state) } else { 1 };
    let limit = if all { i64::from(i32::MAX) } else { limit };
    let mut r = Reader {
        data: &data,
        pos: offset as usize,
    };
    let mut out = Vec::new();
    while r.left() > 0 && (out.len() as i64) < limit {
        match decode_one(state, &mut r, used) {
            Ok(v) => out.push(v),
            Err(Fail::Eof) => return Err(rilua::runtime_error("Missing bytes in input.")),
            Err(Fail::BadFormat) => return Err(rilua::runtime_error("Bad data format in input.")),
            Err(Fail::Lua(e)) => return Err(e),
        }
        used += 1;
    }
    let mut n = out.len() as u32;
    if !all {
        let next = if r.left() == 0 { -1.0 } else { r.pos as f64 };
        state.push(Val::Num(next));
        n += 1;
    }
    for v in out {
        state.push(v);
    }
    Ok(n)
}

fn mp_unpack(state: &mut LuaState) -> LuaResult<u32> {
    unpack_full(state, "unpack", 0, 0)
}

fn mp_unpack_one(state: &mut LuaState) -> LuaResult<u32> {
    let offset = opt_integer(state, 1, "unpack_one", 0)?;
    unpack_full(state, "unpack_one", 1, offset)
}

fn mp_unpack_limit(state: &mut LuaState) -> LuaResult<u32> {
    let limit = check_number(state, 1, "unpack_limit").map(c_i64)?;
    let offset = opt_integer(state, 2, "unpack_limit", 0)?;
    unpack_full(state, "unpack_limit", limit, offset)
}
