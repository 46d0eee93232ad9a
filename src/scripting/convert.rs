//! Replies to Lua values and back, by Redis's rules (script_lua.c).
//!
//! A reply reaches a script in the protocol the script chose with `redis.setresp` (RESP2 by
//! default): integers become numbers, bulk strings strings, a RESP2 null `false`, a status
//! `{ok=...}`, an error `{err=...}`, arrays tables; RESP3 adds `nil`, booleans, `{double=n}`,
//! `{map={...}}`, `{set={...}}`. What a script returns goes the other way: numbers are
//! truncated to integers, a table is an array up to its first nil unless it is one of those
//! single-field shapes.

use rilua::vm::state::LuaState;
use rilua::{Table, Val};

use crate::protocol::Reply;

/// How deep a returned table may nest before the conversion stops (a table can hold itself).
const MAX_DEPTH: usize = 200;

/// The bytes of a string, or of a number as Lua prints it (`%.14g`); None for other values.
pub fn to_bytes(state: &LuaState, v: Val) -> Option<Vec<u8>> {
    match v {
        Val::Str(r) => state.gc.string_arena.get(r).map(|s| s.data().to_vec()),
        Val::Num(_) => Some(v.to_string().into_bytes()),
        _ => None,
    }
}

/// A number, or a string that reads as one (Lua's `tonumber` rules); None otherwise.
pub fn to_number(state: &LuaState, v: Val) -> Option<f64> {
    match v {
        Val::Num(n) => Some(n),
        Val::Str(_) => {
            let b = to_bytes(state, v)?;
            let s = std::str::from_utf8(&b).ok()?.trim();
            if let Some(hex) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
                return u64::from_str_radix(hex, 16).ok().map(|n| n as f64);
            }
            if s.is_empty() || s.eq_ignore_ascii_case("inf") || s.eq_ignore_ascii_case("nan") {
                return None;
            }
            s.parse::<f64>().ok()
        }
        _ => None,
    }
}

fn new_table(state: &mut LuaState) -> Table {
    Table::from_gc_ref(state.gc.alloc_table(rilua::vm::table::Table::new()))
}

fn set(state: &mut LuaState, t: Table, k: Val, v: Val) {
    let _ = t.raw_set(state, k, v);
}

fn string(state: &mut LuaState, b: &[u8]) -> Val {
    Val::Str(state.gc.intern_string(b))
}

fn with_field(state: &mut LuaState, field: &[u8], v: Val) -> Val {
    let t = new_table(state);
    let k = string(state, field);
    set(state, t, k, v);
    Val::Table(t.gc_ref())
}

/// A reply (already in the script's protocol) as the Lua value a script gets.
pub fn reply_to_lua(state: &mut LuaState, r: &Reply, resp: u8) -> Val {
    match r {
        Reply::Status(s) => {
            let v = string(state, s.as_bytes());
            with_field(state, b"ok", v)
        }
        Reply::Error(e) => {
            let mut text = b"-".to_vec();
            text.extend_from_slice(e.as_bytes());
            let full = error_text(&text);
            let v = string(state, &full);
            with_field(state, b"err", v)
        }
        Reply::Integer(n) => Val::Num(*n as f64),
        Reply::Bulk(b) => string(state, b),
        Reply::Nil | Reply::NilArray => {
            if resp == 3 {
                Val::Nil
            } else {
                Val::Bool(false)
            }
        }
        Reply::Bool(b) => Val::Bool(*b),
        Reply::BigNum(t) => {
            let v = string(state, t.as_bytes());
            with_field(state, b"big_number", v)
        }
        // Attributes describe the reply that follows; a script sees only that reply.
        Reply::Attribute(_) => Val::Nil,
        Reply::Double(d) => with_field(state, b"double", Val::Num(*d)),
        Reply::DoubleText(t) => with_field(state, b"double", Val::Num(t.parse().unwrap_or(0.0))),
        Reply::Bulks(b) => {
            let t = new_table(state);
            for (i, item) in b.iter().enumerate() {
                let v = string(state, item);
                set(state, t, Val::Num((i + 1) as f64), v);
            }
            Val::Table(t.gc_ref())
        }
        Reply::Array(items) | Reply::Push(items) | Reply::Multi(items) => {
            let t = new_table(state);
            for (i, item) in items.iter().enumerate() {
                let v = reply_to_lua(state, item, resp);
                set(state, t, Val::Num((i + 1) as f64), v);
            }
            Val::Table(t.gc_ref())
        }
        Reply::Set(items) => {
            let t = new_table(state);
            for item in items {
                let k = reply_to_lua(state, item, resp);
                if !matches!(k, Val::Nil) {
                    set(state, t, k, Val::Bool(true));
                }
            }
            with_field(state, b"set", Val::Table(t.gc_ref()))
        }
        Reply::Map(pairs) => {
            let t = new_table(state);
            for (k, v) in pairs {
                let k = reply_to_lua(state, k, resp);
                let v = reply_to_lua(state, v, resp);
                if !matches!(k, Val::Nil) {
                    set(state, t, k, v);
                }
            }
            with_field(state, b"map", Val::Table(t.gc_ref()))
        }
        Reply::Verbatim(format, text) => {
            let t = new_table(state);
            let k = string(state, b"format");
            let f = string(state, format.as_bytes());
            set(state, t, k, f);
            let k = string(state, b"string");
            let s = string(state, text);
            set(state, t, k, s);
            with_field(state, b"verbatim_string", Val::Table(t.gc_ref()))
        }
    }
}

/// Redis's error text from `-CODE msg` or `msg` (code ERR), line ends trimmed.
pub fn error_text(text: &[u8]) -> Vec<u8> {
    let (code, msg): (&[u8], &[u8]) = match text.strip_prefix(b"-") {
        Some(rest) => match rest.iter().position(|&b| b == b' ') {
            Some(sp) => (&rest[..sp], &rest[sp + 1..]),
            None => (b"ERR", rest),
        },
        None => (b"ERR", text),
    };
    let mut start = 0;
    let mut end = msg.len();
    while start < end && matches!(msg[start], b'\r' | b'\n') {
        start += 1;
    }
    while end > start && matches!(msg[end - 1], b'\r' | b'\n') {
        end -= 1;
    }
    let mut full = code.to_vec();
    full.push(b' ');
    full.extend_from_slice(&msg[start..end]);
    full
}

/// `(long long)` of a double as C on x86-64 does it: truncation, and the smallest integer
/// for what does not fit.
fn to_integer(n: f64) -> i64 {
    if n.is_nan() || !(-9_223_372_036_854_775_808.0..9_223_372_036_854_775_808.0).contains(&n) {
        i64::MIN
    } else {
        n as i64
    }
}

fn field(state: &mut LuaState, t: Table, name: &[u8]) -> Val {
    let k = string(state, name);
    t.raw_get(state, k).unwrap_or(Val::Nil)
}

fn no_newlines(b: &[u8]) -> String {
    String::from_utf8_lossy(b).replace(['\r', '\n'], " ")
}

/// What a script returned, as the reply to its caller. `resp` is the script's protocol
/// (`redis.setresp`), which decides how booleans are sent.
pub fn lua_to_reply(state: &mut LuaState, v: Val, resp: u8, depth: usize) -> Reply {
    if depth > MAX_DEPTH {
        return Reply::Error(crate::error::LUA_STACK_LIMIT.0);
    }
    match v {
        Val::Str(_) => Reply::Bulk(to_bytes(state, v).unwrap_or_default()),
        Val::Bool(b) => {
            if resp == 2 {
                if b {
                    Reply::Integer(1)
                } else {
                    Reply::Nil
                }
            } else {
                Reply::Bool(b)
            }
        }
        Val::Num(n) => Reply::Integer(to_integer(n)),
        Val::Table(r) => {
            let t = Table::from_gc_ref(r);
            let err = field(state, t, b"err");
            if let Val::Str(_) = err {
                let text = to_bytes(state, err).unwrap_or_default();
                return Reply::Error(no_newlines(&text).into());
            }
            let ok = field(state, t, b"ok");
            if let Val::Str(_) = ok {
                let text = to_bytes(state, ok).unwrap_or_default();
                return Reply::Status(no_newlines(&text).into());
            }
            if let Val::Num(d) = field(state, t, b"double") {
                return Reply::Double(d);
            }
            let big = field(state, t, b"big_number");
            if let Val::Str(_) = big {
                let text = to_bytes(state, big).unwrap_or_default();
                return Reply::BigNum(no_newlines(&text));
            }
            if let Val::Table(vr) = field(state, t, b"verbatim_string") {
                let vt = Table::from_gc_ref(vr);
                let f = field(state, vt, b"format");
                let s = field(state, vt, b"string");
                if let (Some(f), Some(s)) = (
                    matches!(f, Val::Str(_))
                        .then(|| to_bytes(state, f))
                        .flatten(),
                    matches!(s, Val::Str(_))
                        .then(|| to_bytes(state, s))
                        .flatten(),
                ) {
                    let format = match f.as_slice() {
                        b"mkd" => "mkd",
                        _ => "txt",
                    };
                    return Reply::Verbatim(format, s);
                }
            }
            if let Val::Table(mr) = field(state, t, b"map") {
                let mt = Table::from_gc_ref(mr);
                let mut pairs = Vec::new();
                for (k, v) in entries(state, mt) {
                    let k = lua_to_reply(state, k, resp, depth + 1);
                    let v = lua_to_reply(state, v, resp, depth + 1);
                    pairs.push((k, v));
                }
                return Reply::Map(pairs);
            }
            if let Val::Table(sr) = field(state, t, b"set") {
                let st = Table::from_gc_ref(sr);
                let mut items = Vec::new();
                for (k, _) in entries(state, st) {
                    items.push(lua_to_reply(state, k, resp, depth + 1));
                }
                return Reply::Set(items);
            }
            let mut items = Vec::new();
            let mut i = 1.0;
            loop {
                let v = t.raw_get(state, Val::Num(i)).unwrap_or(Val::Nil);
                if matches!(v, Val::Nil) {
                    break;
                }
                items.push(lua_to_reply(state, v, resp, depth + 1));
                i += 1.0;
            }
            Reply::Array(items)
        }
        _ => Reply::Nil,
    }
}

/// A table's entries in `next` order.
pub(super) fn entries(state: &LuaState, t: Table) -> Vec<(Val, Val)> {
    let mut out = Vec::new();
    let Some(tab) = state.gc.tables.get(t.gc_ref()) else {
        return out;
    };
    let mut key = Val::Nil;
    while let Ok(Some((k, v))) = tab.next(key, &state.gc.string_arena) {
        out.push((k, v));
        key = k;
    }
    out
}
