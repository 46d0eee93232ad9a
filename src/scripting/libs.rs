//! The libraries Redis adds to its Lua besides the standard ones: `bit` (LuaBitOp) and
//! `cjson` (encode, decode, null), written here as native functions with the behaviour and
//! error texts of the C modules Redis 7.0 bundles.

use rilua::vm::state::LuaState;
use rilua::{LuaResult, Table, Val};

use super::cjsoncfg::Config;
use super::convert::{entries, to_bytes, to_number};
use super::vm::{arg, nargs};

fn type_name(state: &LuaState, i: usize) -> &'static str {
    if i >= nargs(state) {
        "no value"
    } else {
        arg(state, i).type_name()
    }
}

// ---------------------------------------------------------------------------------------
// bit
// ---------------------------------------------------------------------------------------

/// The functions of the `bit` table.
pub const BIT: &[(&str, rilua::RustFn)] = &[
    ("tobit", bit_tobit),
    ("bnot", bit_bnot),
    ("band", bit_band),
    ("bor", bit_bor),
    ("bxor", bit_bxor),
    ("lshift", bit_lshift),
    ("rshift", bit_rshift),
    ("arshift", bit_arshift),
    ("rol", bit_rol),
    ("ror", bit_ror),
    ("bswap", bit_bswap),
    ("tohex", bit_tohex),
];

/// A number argument as LuaBitOp reads it: rounded to an integer and wrapped to 32 bits.
fn barg(state: &LuaState, i: usize, name: &str) -> LuaResult<u32> {
    match to_number(state, arg(state, i)) {
        Some(n) => Ok((n + 6_755_399_441_055_744.0).to_bits() as u32),
        None => Err(rilua::runtime_error(format!(
            "bad argument #{} to '{}' (number expected, got {})",
            i + 1,
            name,
            type_name(state, i)
        ))),
    }
}

fn bret(state: &mut LuaState, b: u32) -> LuaResult<u32> {
    state.push(Val::Num(f64::from(b as i32)));
    Ok(1)
}

fn bit_tobit(state: &mut LuaState) -> LuaResult<u32> {
    let b = barg(state, 0, "tobit")?;
    bret(state, b)
}

fn bit_bnot(state: &mut LuaState) -> LuaResult<u32> {
    let b = barg(state, 0, "bnot")?;
    bret(state, !b)
}

fn fold(state: &mut LuaState, name: &str, op: fn(u32, u32) -> u32) -> LuaResult<u32> {
    let mut b = barg(state, 0, name)?;
    for i in (1..nargs(state)).rev() {
        b = op(b, barg(state, i, name)?);
    }
    bret(state, b)
}

fn bit_band(state: &mut LuaState) -> LuaResult<u32> {
    fold(state, "band", |a, b| a & b)
}

fn bit_bor(state: &mut LuaState) -> LuaResult<u32> {
    fold(state, "bor", |a, b| a | b)
}

fn bit_bxor(state: &mut LuaState) -> LuaResult<u32> {
    fold(state, "bxor", |a, b| a ^ b)
}

fn shift(state: &mut LuaState, name: &str, op: fn(u32, u32) -> u32) -> LuaResult<u32> {
    let b = barg(state, 0, name)?;
    let n = barg(state, 1, name)? & 31;
    bret(state, op(b, n))
}

fn bit_lshift(state: &mut LuaState) -> LuaResult<u32> {
    shift(state, "lshift", |b, n| b << n)
}

fn bit_rshift(state: &mut LuaState) -> LuaResult<u32> {
    shift(state, "rshift", |b, n| b >> n)
}

fn bit_arshift(state: &mut LuaState) -> LuaResult<u32> {
    shift(state, "arshift", |b, n| ((b as i32) >> n) as u32)
}

fn bit_rol(state: &mut LuaState) -> LuaResult<u32> {
    shift(state, "rol", u32::rotate_left)
}

fn bit_ror(state: &mut LuaState) -> LuaResult<u32> {
    shift(state, "ror", u32::rotate_right)
}

fn bit_bswap(state: &mut LuaState) -> LuaResult<u32> {
    let b = barg(state, 0, "bswap")?;
    bret(state, b.swap_bytes())
}

fn bit_tohex(state: &mut LuaState) -> LuaResult<u32> {
    let mut b = barg(state, 0, "tohex")?;
    let mut n: i64 = if nargs(state) < 2 {
        8
    } else {
        i64::from(barg(state, 1, "tohex")? as i32)
    };
    let digits: &[u8; 16] = if n < 0 {
        n = -n;
        b"0123456789ABCDEF"
    } else {
        b"0123456789abcdef"
    };
    let n = n.min(8) as usize;
    let mut buf = vec![0u8; n];
    for slot in buf.iter_mut().rev() {
        *slot = digits[(b & 15) as usize];
        b >>= 4;
    }
    let r = state.gc.intern_string(&buf);
    state.push(Val::Str(r));
    Ok(1)
}

// ---------------------------------------------------------------------------------------
// cjson
// ---------------------------------------------------------------------------------------

/// The functions of the `cjson` table (`cjson.null` is set beside them).
pub const CJSON: &[(&str, rilua::RustFn)] = &[("encode", cjson_encode), ("decode", cjson_decode)];

/// `cjson.null`: a light userdata holding NULL.
pub const JSON_NULL: Val = Val::LightUserdata(0);

/// The stack slots a C function of Redis's Lua may use: deep nesting runs out of them
/// before it reaches a large max_depth setting.
const MAX_C_STACK: usize = 8000;

/// The most bytes one encode writes (a sparse array allowed by the settings can ask for
/// billions of nulls).
const MAX_OUTPUT: usize = 512 * 1024 * 1024;

fn cjson_encode(state: &mut LuaState) -> LuaResult<u32> {
    if nargs(state) != 1 {
        return Err(rilua::runtime_error(
            "bad argument #1 to 'encode' (expected 1 argument)",
        ));
    }
    let mut out = Vec::new();
    let cfg = super::cjsoncfg::config(state);
    encode_value(state, arg(state, 0), &mut out, &cfg)?;
    let r = state.gc.intern_string(&out);
    state.push(Val::Str(r));
    Ok(1)
}

fn cannot(what: Val, reason: &str) -> rilua::LuaError {
    rilua::runtime_error(format!("Cannot serialise {}: {}", what.type_name(), reason))
}

fn encode_number(n: f64, v: Val, out: &mut Vec<u8>, cfg: &Config) -> LuaResult<()> {
    if !n.is_finite() {
        match cfg.encode_invalid_numbers {
            0 => return Err(cannot(v, "must not be NaN or Inf")),
            1 if n.is_nan() => out.extend_from_slice(b"nan"),
            1 if n > 0.0 => out.extend_from_slice(b"inf"),
            1 => out.extend_from_slice(b"-inf"),
            _ => out.extend_from_slice(b"null"),
        }
        return Ok(());
    }
    let precision = cfg.encode_number_precision.clamp(1, 14) as usize;
    out.extend_from_slice(crate::util::fmt_g(n, precision).as_bytes());
    Ok(())
}

/// lua-cjson's array test: the largest key when every key is a positive integer, held in a
/// C int as the module does; 0 or less means an object. Too sparse an array is an error, or an
/// object when the settings say so.
fn array_length(items: &[(Val, Val)], v: Val, cfg: &Config) -> LuaResult<i32> {
    let (mut max, mut count) = (0i32, 0i32);
    for (k, _) in items {
        match k {
            Val::Num(n) if *n != 0.0 && n.floor() == *n && *n >= 1.0 => {
                if *n > f64::from(max) {
                    max = if *n < 2_147_483_648.0 {
                        *n as i32
                    } else {
                        i32::MIN
                    };
                }
                count = count.wrapping_add(1);
            }
            _ => return Ok(-1),
        }
    }
    if cfg.sparse_ratio > 0 && max > count.wrapping_mul(cfg.sparse_ratio) && max > cfg.sparse_safe {
        if !cfg.sparse_convert {
            return Err(cannot(v, "excessively sparse array"));
        }
        return Ok(-1);
    }
    Ok(max)
}

fn encode_string(s: &[u8], out: &mut Vec<u8>) {
    out.push(b'"');
    for &c in s {
        match c {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'/' => out.extend_from_slice(b"\\/"),
            8 => out.extend_from_slice(b"\\b"),
            9 => out.extend_from_slice(b"\\t"),
            10 => out.extend_from_slice(b"\\n"),
            12 => out.extend_from_slice(b"\\f"),
            13 => out.extend_from_slice(b"\\r"),
            0..=31 | 127 => out.extend_from_slice(format!("\\u{:04x}", c).as_bytes()),
            _ => out.push(c),
        }
    }
    out.push(b'"');
}

/// A table being written: an array by index, or an object by its entries.
enum Open {
    Array { t: Table, next: usize, max: usize },
    Object { items: Vec<(Val, Val)>, next: usize },
}

/// Writes `root` as JSON. Tables are walked with a stack of their own, not by recursion, so
/// the 1000 levels lua-cjson allows fit in any host's stack.
fn encode_value(state: &LuaState, root: Val, out: &mut Vec<u8>, cfg: &Config) -> LuaResult<()> {
    let mut stack: Vec<Open> = Vec::new();
    let mut pending = Some(root);
    loop {
        if let Some(v) = pending.take() {
            match v {
                Val::Str(_) => encode_string(&to_bytes(state, v).unwrap_or_default(), out),
                Val::Num(n) => encode_number(n, v, out, cfg)?,
                Val::Bool(true) => out.extend_from_slice(b"true"),
                Val::Bool(false) => out.extend_from_slice(b"false"),
                Val::Nil | Val::LightUserdata(0) => out.extend_from_slice(b"null"),
                Val::Table(r) => {
                    // The C module holds one slot per array and two per object above it.
                    let depth = stack.len() + 1;
                    let slots: usize = 1 + stack
                        .iter()
                        .map(|o| match o {
                            Open::Array { .. } => 1,
                            Open::Object { .. } => 2,
                        })
                        .sum::<usize>();
                    if depth > cfg.encode_max_depth.max(0) as usize || slots + 3 > MAX_C_STACK {
                        return Err(rilua::runtime_error(format!(
                            "Cannot serialise, excessive nesting ({})",
                            depth
                        )));
                    }
                    let t = Table::from_gc_ref(r);
                    let items = entries(state, t);
                    let len = array_length(&items, v, cfg)?;
                    let (is_array, max) = (len > 0, len.max(0) as usize);
                    if is_array && max > 0 {
                        out.push(b'[');
                        stack.push(Open::Array { t, next: 1, max });
                    } else {
                        out.push(b'{');
                        stack.push(Open::Object { items, next: 0 });
                    }
                }
                _ => return Err(cannot(v, "type not supported")),
            }
        }
        let Some(top) = stack.last_mut() else {
            return Ok(());
        };
        match top {
            Open::Array { t, next, max } => {
                if out.len() > MAX_OUTPUT {
                    return Err(rilua::runtime_error("not enough memory"));
                }
                if *next > *max {
                    out.push(b']');
                    stack.pop();
                } else {
                    if *next > 1 {
                        out.push(b',');
                    }
                    pending = Some(t.raw_get(state, Val::Num(*next as f64)).unwrap_or(Val::Nil));
                    *next += 1;
                }
            }
            Open::Object { items, next } => {
                let Some(&(k, item)) = items.get(*next) else {
                    out.push(b'}');
                    stack.pop();
                    continue;
                };
                if *next > 0 {
                    out.push(b',');
                }
                *next += 1;
                match k {
                    Val::Num(n) => {
                        out.push(b'"');
                        encode_number(n, k, out, cfg)?;
                        out.extend_from_slice(b"\":");
                    }
                    Val::Str(_) => {
                        encode_string(&to_bytes(state, k).unwrap_or_default(), out);
                        out.push(b':');
                    }
                    _ => return Err(cannot(k, "table key must be a number or string")),
                }
                pending = Some(item);
            }
        }
    }
}

/// A JSON token, as lua-cjson names them in its errors.
#[derive(Clone, Debug, PartialEq)]
enum Token {
    ObjBegin,
    ObjEnd,
    ArrBegin,
    ArrEnd,
    Str(Vec<u8>),
    Num(f64),
    Bool(bool),
    Null,
    Colon,
    Comma,
    End,
    Error(&'static str),
}

impl Token {
    fn name(&self) -> &'static str {
        match self {
            Token::ObjBegin => "T_OBJ_BEGIN",
            Token::ObjEnd => "T_OBJ_END",
            Token::ArrBegin => "T_ARR_BEGIN",
            Token::ArrEnd => "T_ARR_END",
            Token::Str(_) => "T_STRING",
            Token::Num(_) => "T_NUMBER",
            Token::Bool(_) => "T_BOOLEAN",
            Token::Null => "T_NULL",
            Token::Colon => "T_COLON",
            Token::Comma => "T_COMMA",
            Token::End => "T_END",
            Token::Error(what) => what,
        }
    }
}

struct Parser<'a> {
    data: &'a [u8],
    pos: usize,
    max_depth: usize,
    /// decode_invalid_numbers: Infinity, NaN, hexadecimal and the like are read as numbers.
    invalid_numbers: bool,
}

impl Parser<'_> {
    fn at(&self, i: usize) -> u8 {
        self.data.get(i).copied().unwrap_or(0)
    }

    /// The next token and the index it starts at.
    fn next(&mut self) -> (Token, usize) {
        while matches!(self.at(self.pos), b' ' | b'\t' | b'\n' | b'\r') {
            self.pos += 1;
        }
        let start = self.pos;
        let c = self.at(self.pos);
        let simple = match c {
            b'{' => Some(Token::ObjBegin),
            b'}' => Some(Token::ObjEnd),
            b'[' => Some(Token::ArrBegin),
            b']' => Some(Token::ArrEnd),
            b',' => Some(Token::Comma),
            b':' => Some(Token::Colon),
            _ => None,
        };
        if let Some(t) = simple {
            self.pos += 1;
            return (t, start);
        }
        if c == 0 {
            return (Token::End, start);
        }
        let rest = &self.data[self.pos..];
        if c == b'"' {
            return self.string(start);
        }
        if c == b'-' || c.is_ascii_digit() {
            if !self.invalid_numbers && super::cjsoncfg::invalid_number(rest) {
                return (Token::Error("invalid number"), start);
            }
            return self.number(start);
        }
        for (word, tok) in [
            (&b"true"[..], Token::Bool(true)),
            (b"false", Token::Bool(false)),
            (b"null", Token::Null),
        ] {
            if rest.starts_with(word) {
                self.pos += word.len();
                return (tok, start);
            }
        }
        if self.invalid_numbers
            && matches!(c, b'i' | b'I' | b'n' | b'N' | b'+')
            && super::cjsoncfg::invalid_number(rest)
        {
            return self.number(start);
        }
        (Token::Error("invalid token"), start)
    }

    fn number(&mut self, start: usize) -> (Token, usize) {
        let rest = &self.data[self.pos..];
        let mut end = 0;
        if matches!(rest.first(), Some(b'-' | b'+')) {
            end = 1;
        }
        let lower: Vec<u8> = rest[end..]
            .iter()
            .take(8)
            .map(u8::to_ascii_lowercase)
            .collect();
        for word in [&b"infinity"[..], b"inf", b"nan"] {
            if lower.starts_with(word) {
                let neg = rest.first() == Some(&b'-');
                let v = if word == b"nan" {
                    f64::NAN
                } else if neg {
                    f64::NEG_INFINITY
                } else {
                    f64::INFINITY
                };
                self.pos += end + word.len();
                return (Token::Num(v), start);
            }
        }
        if rest.get(end) == Some(&b'0')
            && matches!(rest.get(end + 1), Some(b'x' | b'X'))
            && rest.get(end + 2).is_some_and(u8::is_ascii_hexdigit)
        {
            // strtod reads hexadecimal too.
            let mut e = end + 2;
            let mut v = 0f64;
            while let Some(d) = rest.get(e).and_then(|c| (*c as char).to_digit(16)) {
                v = v * 16.0 + f64::from(d);
                e += 1;
            }
            if rest.first() == Some(&b'-') {
                v = -v;
            }
            self.pos += e;
            return (Token::Num(v), start);
        }
        let digits_start = end;
        while rest.get(end).is_some_and(u8::is_ascii_digit) {
            end += 1;
        }
        if rest.get(end) == Some(&b'.') {
            end += 1;
            while rest.get(end).is_some_and(u8::is_ascii_digit) {
                end += 1;
            }
        }
        if end > digits_start && matches!(rest.get(end), Some(b'e' | b'E')) {
            let mut e = end + 1;
            if matches!(rest.get(e), Some(b'-' | b'+')) {
                e += 1;
            }
            if rest.get(e).is_some_and(u8::is_ascii_digit) {
                while rest.get(e).is_some_and(u8::is_ascii_digit) {
                    e += 1;
                }
                end = e;
            }
        }
        let text = std::str::from_utf8(&rest[..end]).unwrap_or("");
        match text.parse::<f64>() {
            Ok(v) if end > digits_start => {
                self.pos += end;
                (Token::Num(v), start)
            }
            _ => (Token::Error("invalid number"), start),
        }
    }

    fn hex4(&self, at: usize) -> Option<u32> {
        let s = self.data.get(at..at + 4)?;
        u32::from_str_radix(std::str::from_utf8(s).ok()?, 16).ok()
    }

    fn string(&mut self, start: usize) -> (Token, usize) {
        self.pos += 1;
        let mut out = Vec::new();
        loop {
            let c = self.at(self.pos);
            if c == b'"' {
                self.pos += 1;
                return (Token::Str(out), start);
            }
            if c == 0 && self.pos >= self.data.len() {
                return (Token::Error("unexpected end of string"), self.pos);
            }
            if c == b'\\' {
                let e = self.at(self.pos + 1);
                let ch = match e {
                    b'"' | b'\\' | b'/' => e,
                    b'b' => 8,
                    b't' => 9,
                    b'n' => 10,
                    b'f' => 12,
                    b'r' => 13,
                    b'u' => match self.unicode() {
                        Some((s, len)) => {
                            out.extend_from_slice(s.encode_utf8(&mut [0; 4]).as_bytes());
                            self.pos += len;
                            continue;
                        }
                        None => return (Token::Error("invalid unicode escape code"), self.pos),
                    },
                    _ => return (Token::Error("invalid escape code"), self.pos),
                };
                out.push(ch);
                self.pos += 2;
                continue;
            }
            out.push(c);
            self.pos += 1;
        }
    }

    /// A `\uXXXX` escape (a surrogate pair takes two) as a char and its length.
    fn unicode(&self) -> Option<(char, usize)> {
        let cp = self.hex4(self.pos + 2)?;
        if cp & 0xF800 == 0xD800 {
            if cp & 0x400 != 0 || self.at(self.pos + 6) != b'\\' || self.at(self.pos + 7) != b'u' {
                return None;
            }
            let low = self.hex4(self.pos + 8)?;
            if low & 0xFC00 != 0xDC00 {
                return None;
            }
            let full = (((cp & 0x3FF) << 10) | (low & 0x3FF)) + 0x10000;
            return char::from_u32(full).map(|c| (c, 12));
        }
        char::from_u32(cp).map(|c| (c, 6))
    }
}

fn parse_error(expected: &str, token: &Token, at: usize) -> rilua::LuaError {
    rilua::runtime_error(format!(
        "Expected {} but found {} at character {}",
        expected,
        token.name(),
        at + 1
    ))
}

fn new_table(state: &mut LuaState) -> Table {
    Table::from_gc_ref(state.gc.alloc_table(rilua::vm::table::Table::new()))
}

/// A container being read: the table, and the next array index or the pending key.
struct Filling {
    t: Table,
    object: bool,
    index: f64,
    key: Val,
}

/// Reads an object's `"key":` and returns the token after the colon.
fn object_key(
    state: &mut LuaState,
    p: &mut Parser,
    tok: Token,
    at: usize,
) -> LuaResult<(Val, Token, usize)> {
    let Token::Str(k) = tok else {
        return Err(parse_error("object key string", &tok, at));
    };
    let (colon, cat) = p.next();
    if colon != Token::Colon {
        return Err(parse_error("colon", &colon, cat));
    }
    let key = Val::Str(state.gc.intern_string(&k));
    let (tok, at) = p.next();
    Ok((key, tok, at))
}

/// Reads one JSON value starting with `token`. Nested containers are kept on a stack of
/// their own, not by recursion, so 1000 levels fit in any host's stack.
fn value(state: &mut LuaState, p: &mut Parser, token: Token, at: usize) -> LuaResult<Val> {
    let mut stack: Vec<Filling> = Vec::new();
    let (mut tok, mut at) = (token, at);
    'value: loop {
        let mut v = match tok {
            Token::Str(s) => Val::Str(state.gc.intern_string(&s)),
            Token::Num(n) => Val::Num(n),
            Token::Bool(b) => Val::Bool(b),
            Token::Null => JSON_NULL,
            Token::ObjBegin | Token::ArrBegin => {
                // The C module holds one slot per array and two per object above it, and
                // asks for two (array) or three (object) more.
                let depth = stack.len() + 1;
                let used: usize = 1 + stack
                    .iter()
                    .map(|f| if f.object { 2 } else { 1 })
                    .sum::<usize>();
                let need = if tok == Token::ObjBegin { 3 } else { 2 };
                if depth > p.max_depth || used + need > MAX_C_STACK {
                    return Err(rilua::runtime_error(format!(
                        "Found too many nested data structures ({}) at character {}",
                        depth, p.pos
                    )));
                }
                let object = tok == Token::ObjBegin;
                let t = new_table(state);
                let close = if object { Token::ObjEnd } else { Token::ArrEnd };
                let (next, nat) = p.next();
                if next == close {
                    Val::Table(t.gc_ref())
                } else {
                    let mut f = Filling {
                        t,
                        object,
                        index: 1.0,
                        key: Val::Nil,
                    };
                    if object {
                        let (key, t2, a2) = object_key(state, p, next, nat)?;
                        f.key = key;
                        (tok, at) = (t2, a2);
                    } else {
                        (tok, at) = (next, nat);
                    }
                    stack.push(f);
                    continue 'value;
                }
            }
            other => return Err(parse_error("value", &other, at)),
        };
        // A whole value: it goes into the container that waits for it, which may be whole
        // in turn.
        loop {
            let Some(f) = stack.last_mut() else {
                return Ok(v);
            };
            let key = if f.object { f.key } else { Val::Num(f.index) };
            let _ = f.t.raw_set(state, key, v);
            f.index += 1.0;
            let (object, t) = (f.object, f.t);
            let (sep, sat) = p.next();
            let close = if object { Token::ObjEnd } else { Token::ArrEnd };
            if sep == close {
                stack.pop();
                v = Val::Table(t.gc_ref());
                continue;
            }
            if sep != Token::Comma {
                let what = if object {
                    "comma or object end"
                } else {
                    "comma or array end"
                };
                return Err(parse_error(what, &sep, sat));
            }
            let (next, nat) = p.next();
            if object {
                let (key, t2, a2) = object_key(state, p, next, nat)?;
                if let Some(f) = stack.last_mut() {
                    f.key = key;
                }
                (tok, at) = (t2, a2);
            } else {
                (tok, at) = (next, nat);
            }
            continue 'value;
        }
    }
}

fn cjson_decode(state: &mut LuaState) -> LuaResult<u32> {
    if nargs(state) != 1 {
        return Err(rilua::runtime_error(
            "bad argument #1 to 'decode' (expected 1 argument)",
        ));
    }
    let v = arg(state, 0);
    let Some(data) = to_bytes(state, v) else {
        return Err(rilua::runtime_error(format!(
            "bad argument #1 to 'decode' (string expected, got {})",
            type_name(state, 0)
        )));
    };
    if data.len() >= 2 && (data[0] == 0 || data[1] == 0) {
        return Err(rilua::runtime_error(
            "JSON parser does not support UTF-16 or UTF-32",
        ));
    }
    // lua-cjson reads a C string: a NUL ends the text.
    let end = data.iter().position(|&b| b == 0).unwrap_or(data.len());
    let cfg = super::cjsoncfg::config(state);
    let mut p = Parser {
        data: &data[..end],
        pos: 0,
        max_depth: cfg.decode_max_depth.max(0) as usize,
        invalid_numbers: cfg.decode_invalid_numbers,
    };
    let (tok, at) = p.next();
    let out = value(state, &mut p, tok, at)?;
    let (tok, at) = p.next();
    if tok != Token::End {
        return Err(parse_error("the end", &tok, at));
    }
    state.push(out);
    Ok(1)
}
