//! The settings of `cjson` (lua-cjson 2.1.0 as Redis 7.0 bundles it): the configuration
//! functions, `cjson.new()`, and the settings encode and decode read. Each cjson table has
//! its settings in a table of their own, held by its functions as their upvalue, so a new Lua
//! state (SCRIPT FLUSH) starts from the defaults and `cjson.new()` gets settings apart.

use rilua::vm::closure::{Closure, RustClosure};
use rilua::vm::state::LuaState;
use rilua::{LuaResult, Table, Val};

use super::convert::to_bytes;
use super::msgpack::{bad_arg, c_i64, check_number, type_name};
use super::vm::{arg, nargs};

/// The settings encode and decode follow.
#[derive(Clone, Copy, Debug)]
pub struct Config {
    /// Excessively sparse arrays become objects instead of an error.
    pub sparse_convert: bool,
    /// An array is excessively sparse when its largest index exceeds this many times its
    /// items (0: never).
    pub sparse_ratio: i32,
    /// Arrays whose largest index is at most this are never too sparse.
    pub sparse_safe: i32,
    pub encode_max_depth: i32,
    pub decode_max_depth: i32,
    /// 0: NaN and Inf are an error; 1: written as nan/inf; 2: written as null.
    pub encode_invalid_numbers: i32,
    /// Accept Infinity, NaN, hexadecimal, a leading + or leading zeros.
    pub decode_invalid_numbers: bool,
    pub encode_keep_buffer: bool,
    /// Significant digits of numbers written (`%.<n>g`).
    pub encode_number_precision: i32,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            sparse_convert: false,
            sparse_ratio: 2,
            sparse_safe: 10,
            encode_max_depth: 1000,
            decode_max_depth: 1000,
            encode_invalid_numbers: 0,
            decode_invalid_numbers: true,
            encode_keep_buffer: true,
            encode_number_precision: 14,
        }
    }
}

// Where each setting sits in the settings table.
const SPARSE_CONVERT: f64 = 1.0;
const SPARSE_RATIO: f64 = 2.0;
const SPARSE_SAFE: f64 = 3.0;
const ENCODE_MAX_DEPTH: f64 = 4.0;
const DECODE_MAX_DEPTH: f64 = 5.0;
const ENCODE_INVALID: f64 = 6.0;
const DECODE_INVALID: f64 = 7.0;
const KEEP_BUFFER: f64 = 8.0;
const PRECISION: f64 = 9.0;

/// The settings table of the cjson function being run (its first upvalue).
fn settings_table(state: &LuaState) -> Option<Table> {
    let ci = state.call_stack.get(state.ci)?;
    let Val::Function(f) = state.stack_get(ci.func) else {
        return None;
    };
    match state.gc.closures.get(f)? {
        Closure::Rust(rc) => match rc.upvalues.first()? {
            Val::Table(t) => Some(Table::from_gc_ref(*t)),
            _ => None,
        },
        Closure::Lua(_) => None,
    }
}

fn get(state: &LuaState, t: Table, at: f64, default: i32) -> i32 {
    match t.raw_get(state, Val::Num(at)) {
        Ok(Val::Num(n)) => n as i32,
        _ => default,
    }
}

fn set(state: &mut LuaState, t: Table, at: f64, v: i32) {
    let _ = t.raw_set(state, Val::Num(at), Val::Num(f64::from(v)));
}

/// The settings of the cjson table whose function is running.
pub fn config(state: &LuaState) -> Config {
    let d = Config::default();
    let Some(t) = settings_table(state) else {
        return d;
    };
    Config {
        sparse_convert: get(state, t, SPARSE_CONVERT, 0) != 0,
        sparse_ratio: get(state, t, SPARSE_RATIO, d.sparse_ratio),
        sparse_safe: get(state, t, SPARSE_SAFE, d.sparse_safe),
        encode_max_depth: get(state, t, ENCODE_MAX_DEPTH, d.encode_max_depth),
        decode_max_depth: get(state, t, DECODE_MAX_DEPTH, d.decode_max_depth),
        encode_invalid_numbers: get(state, t, ENCODE_INVALID, 0),
        decode_invalid_numbers: get(state, t, DECODE_INVALID, 1) != 0,
        encode_keep_buffer: get(state, t, KEEP_BUFFER, 1) != 0,
        encode_number_precision: get(state, t, PRECISION, d.encode_number_precision),
    }
}

/// The functions of a cjson table besides encode and decode.
const SETTINGS_FNS: &[(&str, rilua::RustFn)] = &[
    ("encode_sparse_array", cfg_encode_sparse_array),
    ("encode_max_depth", cfg_encode_max_depth),
    ("decode_max_depth", cfg_decode_max_depth),
    ("encode_number_precision", cfg_encode_number_precision),
    ("encode_keep_buffer", cfg_encode_keep_buffer),
    ("encode_invalid_numbers", cfg_encode_invalid_numbers),
    ("decode_invalid_numbers", cfg_decode_invalid_numbers),
    ("new", cjson_new),
];

/// Builds a cjson table with default settings: encode, decode, the settings functions,
/// `new`, `null`, `_NAME` and `_VERSION`.
pub fn module(state: &mut LuaState) -> Table {
    let settings = Table::from_gc_ref(state.gc.alloc_table(rilua::vm::table::Table::new()));
    let d = Config::default();
    for (at, v) in [
        (SPARSE_CONVERT, i32::from(d.sparse_convert)),
        (SPARSE_RATIO, d.sparse_ratio),
        (SPARSE_SAFE, d.sparse_safe),
        (ENCODE_MAX_DEPTH, d.encode_max_depth),
        (DECODE_MAX_DEPTH, d.decode_max_depth),
        (ENCODE_INVALID, d.encode_invalid_numbers),
        (DECODE_INVALID, i32::from(d.decode_invalid_numbers)),
        (KEEP_BUFFER, i32::from(d.encode_keep_buffer)),
        (PRECISION, d.encode_number_precision),
    ] {
        set(state, settings, at, v);
    }
    let t = Table::from_gc_ref(state.gc.alloc_table(rilua::vm::table::Table::new()));
    for (name, f) in super::libs::CJSON.iter().chain(SETTINGS_FNS) {
        let mut rc = RustClosure::new(*f, name);
        rc.upvalues.push(Val::Table(settings.gc_ref()));
        let c = state.gc.alloc_closure(Closure::Rust(rc));
        let k = Val::Str(state.gc.intern_string(name.as_bytes()));
        let _ = t.raw_set(state, k, Val::Function(c));
    }
    let fields = [("_NAME", &b"cjson"[..]), ("_VERSION", b"2.1.0")];
    for (k, v) in fields {
        let k = Val::Str(state.gc.intern_string(k.as_bytes()));
        let v = Val::Str(state.gc.intern_string(v));
        let _ = t.raw_set(state, k, v);
    }
    let k = Val::Str(state.gc.intern_string(b"null"));
    let _ = t.raw_set(state, k, super::libs::JSON_NULL);
    t
}

fn cjson_new(state: &mut LuaState) -> LuaResult<u32> {
    let t = module(state);
    state.push(Val::Table(t.gc_ref()));
    Ok(1)
}

/// The settings table, after refusing more than `max` arguments.
fn arg_init(state: &LuaState, max: usize, func: &str) -> LuaResult<Table> {
    if nargs(state) > max {
        return Err(bad_arg(max + 1, func, "found too many arguments"));
    }
    settings_table(state)
        .ok_or_else(|| rilua::runtime_error("BUG: Unable to fetch CJSON configuration"))
}

/// An integer setting from argument `i` (unless nil), within `min..=max`; its value now.
fn integer_option(
    state: &mut LuaState,
    t: Table,
    i: usize,
    at: f64,
    (min, max): (i32, i32),
    func: &str,
) -> LuaResult<Val> {
    if !matches!(arg(state, i), Val::Nil) {
        // The module keeps the 64-bit integer in a C int.
        let v = c_i64(check_number(state, i, func)?) as i32;
        if v < min || v > max {
            return Err(bad_arg(
                1,
                func,
                &format!("expected integer between {} and {}", min, max),
            ));
        }
        set(state, t, at, v);
    }
    Ok(Val::Num(f64::from(get(state, t, at, 0))))
}

/// An on/off setting (or off/on/null with `with_null`) from argument `i` (unless nil),
/// given as a boolean or an option name; its value now, as a boolean or "null".
fn enum_option(
    state: &mut LuaState,
    t: Table,
    i: usize,
    at: f64,
    with_null: bool,
    func: &str,
) -> LuaResult<Val> {
    let options: &[&str] = if with_null {
        &["off", "on", "null"]
    } else {
        &["off", "on"]
    };
    match arg(state, i) {
        Val::Nil => {}
        Val::Bool(b) => set(state, t, at, i32::from(b)),
        v => {
            let name = match v {
                Val::Str(_) | Val::Num(_) => to_bytes(state, v).unwrap_or_default(),
                _ => {
                    return Err(bad_arg(
                        i + 1,
                        func,
                        &format!("string expected, got {}", type_name(state, i)),
                    ))
                }
            };
            let Some(n) = options.iter().position(|o| o.as_bytes() == name) else {
                return Err(bad_arg(
                    i + 1,
                    func,
                    &format!("invalid option '{}'", String::from_utf8_lossy(&name)),
                ));
            };
            set(state, t, at, n as i32);
        }
    }
    Ok(match get(state, t, at, 0) {
        0 => Val::Bool(false),
        1 => Val::Bool(true),
        _ => Val::Str(state.gc.intern_string(b"null")),
    })
}

fn push_all(state: &mut LuaState, vals: &[Val]) -> LuaResult<u32> {
    for v in vals {
        state.push(*v);
    }
    Ok(vals.len() as u32)
}

fn cfg_encode_sparse_array(state: &mut LuaState) -> LuaResult<u32> {
    let f = "encode_sparse_array";
    let t = arg_init(state, 3, f)?;
    let a = enum_option(state, t, 0, SPARSE_CONVERT, false, f)?;
    let b = integer_option(state, t, 1, SPARSE_RATIO, (0, i32::MAX), f)?;
    let c = integer_option(state, t, 2, SPARSE_SAFE, (0, i32::MAX), f)?;
    push_all(state, &[a, b, c])
}

fn int_setting(state: &mut LuaState, f: &str, at: f64, range: (i32, i32)) -> LuaResult<u32> {
    let t = arg_init(state, 1, f)?;
    let v = integer_option(state, t, 0, at, range, f)?;
    push_all(state, &[v])
}

fn cfg_encode_max_depth(state: &mut LuaState) -> LuaResult<u32> {
    int_setting(state, "encode_max_depth", ENCODE_MAX_DEPTH, (1, i32::MAX))
}

fn cfg_decode_max_depth(state: &mut LuaState) -> LuaResult<u32> {
    int_setting(state, "decode_max_depth", DECODE_MAX_DEPTH, (1, i32::MAX))
}

fn cfg_encode_number_precision(state: &mut LuaState) -> LuaResult<u32> {
    int_setting(state, "encode_number_precision", PRECISION, (1, 14))
}

fn enum_setting(state: &mut LuaState, f: &str, at: f64, with_null: bool) -> LuaResult<u32> {
    let t = arg_init(state, 1, f)?;
    let v = enum_option(state, t, 0, at, with_null, f)?;
    push_all(state, &[v])
}

fn cfg_encode_keep_buffer(state: &mut LuaState) -> LuaResult<u32> {
    enum_setting(state, "encode_keep_buffer", KEEP_BUFFER, false)
}

fn cfg_encode_invalid_numbers(state: &mut LuaState) -> LuaResult<u32> {
    enum_setting(state, "encode_invalid_numbers", ENCODE_INVALID, true)
}

fn cfg_decode_invalid_numbers(state: &mut LuaState) -> LuaResult<u32> {
    enum_setting(state, "decode_invalid_numbers", DECODE_INVALID, false)
}

/// lua-cjson's test for number text that is not JSON (a leading `+`, hexadecimal, leading
/// zeros, Infinity, NaN), refused when decode_invalid_numbers is off.
pub fn invalid_number(text: &[u8]) -> bool {
    let at = |i: usize| text.get(i).copied().unwrap_or(0);
    if at(0) == b'+' {
        return true;
    }
    let p = usize::from(at(0) == b'-');
    let c = at(p);
    if c == b'0' {
        let c2 = at(p + 1);
        return (c2 | 0x20) == b'x' || c2.is_ascii_digit();
    }
    if c <= b'9' {
        return false;
    }
    let rest: Vec<u8> = (p..p + 3).map(|i| at(i).to_ascii_lowercase()).collect();
    rest == b"inf" || rest == b"nan"
}
