//! `struct`: binary packing for scripts as the lua-struct module Redis 7.0 bundles does it
//! (formats of `<` `>` `!n` `b B h H l L T i[n] I[n] f d x c[n] s`, with the host's sizes
//! and C's conversions of doubles to integers), with its error texts.

use rilua::vm::state::LuaState;
use rilua::{LuaResult, Val};

use super::convert::to_number;
use super::msgpack::{bad_arg, c_i64, check_bytes, check_number, opt_integer, MAX_C_STACK};
use super::vm::nargs;

/// The functions of the `struct` table.
pub const STRUCT: &[(&str, rilua::RustFn)] =
    &[("pack", b_pack), ("unpack", b_unpack), ("size", b_size)];

/// The widest integer a format may ask for.
const MAX_INT_SIZE: usize = 32;
/// The alignment `!` sets without a number: that of a double.
const MAX_ALIGN: usize = 8;

/// A double converted to an unsigned 64-bit integer as x86-64 C does it.
fn c_u64(x: f64) -> u64 {
    if x >= 9_223_372_036_854_775_808.0 {
        (c_i64(x - 9_223_372_036_854_775_808.0) as u64) ^ (1 << 63)
    } else {
        c_i64(x) as u64
    }
}

struct Format {
    fmt: Vec<u8>,
    at: usize,
    little: bool,
    align: usize,
}

impl Format {
    fn new(mut fmt: Vec<u8>) -> Format {
        // The format is read as a C string.
        if let Some(end) = fmt.iter().position(|&b| b == 0) {
            fmt.truncate(end);
        }
        Format {
            fmt,
            at: 0,
            little: true,
            align: 1,
        }
    }

    fn next(&mut self) -> Option<u8> {
        let c = self.fmt.get(self.at).copied();
        self.at += 1;
        c
    }

    /// The number written at the cursor, or `default` when there is none.
    fn number(&mut self, default: usize) -> LuaResult<usize> {
        if !self.fmt.get(self.at).is_some_and(u8::is_ascii_digit) {
            return Ok(default);
        }
        let mut a: usize = 0;
        while let Some(&d) = self.fmt.get(self.at).filter(|d| d.is_ascii_digit()) {
            let d = usize::from(d - b'0');
            let max = i32::MAX as usize;
            if a > max / 10 || a * 10 > max - d {
                return Err(rilua::runtime_error("integral size overflow"));
            }
            a = a * 10 + d;
            self.at += 1;
        }
        Ok(a)
    }

    /// The size of one item of `opt` (0 for options that are not items).
    fn size(&mut self, opt: u8) -> LuaResult<usize> {
        Ok(match opt {
            b'b' | b'B' | b'x' => 1,
            b'h' | b'H' => 2,
            b'l' | b'L' | b'T' | b'd' => 8,
            b'f' => 4,
            b'c' => self.number(1)?,
            b'i' | b'I' => {
                let n = self.number(4)?;
                if n > MAX_INT_SIZE {
                    return Err(rilua::runtime_error(format!(
                        "integral size {} is larger than limit of {}",
                        n, MAX_INT_SIZE
                    )));
                }
                n
            }
            _ => 0,
        })
    }

    /// Padding before an item of `size` at offset `len`.
    fn padding(&self, len: u64, opt: u8, size: usize) -> u64 {
        if size == 0 || opt == b'c' {
            return 0;
        }
        let size = size.min(self.align) as u64;
        size.wrapping_sub(len & size.wrapping_sub(1)) & size.wrapping_sub(1)
    }

    /// Endianness, alignment and spaces; anything else is not a format option.
    fn control(&mut self, opt: u8, func: &str) -> LuaResult<()> {
        match opt {
            b' ' => {}
            b'>' => self.little = false,
            b'<' => self.little = true,
            b'!' => {
                let a = self.number(MAX_ALIGN)?;
                if a == 0 || a & (a - 1) != 0 {
                    return Err(rilua::runtime_error(format!(
                        "alignment {} is not a power of 2",
                        a
                    )));
                }
                self.align = a;
            }
            _ => {
                return Err(bad_arg(
                    1,
                    func,
                    &format!(
                        "invalid format option '{}'",
                        String::from_utf8_lossy(&[opt])
                    ),
                ))
            }
        }
        Ok(())
    }
}

fn is_int_option(opt: u8) -> bool {
    matches!(
        opt,
        b'b' | b'B' | b'h' | b'H' | b'l' | b'L' | b'T' | b'i' | b'I'
    )
}

fn push_bytes(state: &mut LuaState, s: &[u8]) {
    let r = state.gc.intern_string(s);
    state.push(Val::Str(r));
}

/// Item arguments of `pack` after the last one read as nil, not "no value": the module
/// pushes a nil right after its arguments before it reads them.
fn pack_arg<T>(
    state: &LuaState,
    i: usize,
    what: &str,
    check: fn(&LuaState, usize, &str) -> LuaResult<T>,
) -> LuaResult<T> {
    if i >= nargs(state) {
        return Err(bad_arg(
            i + 1,
            "pack",
            &format!("{} expected, got nil", what),
        ));
    }
    check(state, i, "pack")
}

fn b_pack(state: &mut LuaState) -> LuaResult<u32> {
    let mut f = Format::new(check_bytes(state, 0, "pack")?);
    let mut argi = 1usize;
    let mut out: Vec<u8> = Vec::new();
    let mut total = 0usize;
    while let Some(opt) = f.next() {
        let mut size = f.size(opt)?;
        let pad = f.padding(total as u64, opt, size) as usize;
        total += pad;
        out.resize(out.len() + pad, 0);
        match opt {
            _ if is_int_option(opt) => {
                let n = pack_arg(state, argi, "number", check_number)?;
                argi += 1;
                let mut v = if n < 0.0 { c_i64(n) as u64 } else { c_u64(n) };
                let mut bytes = vec![0u8; size];
                for i in 0..size {
                    let at = if f.little { i } else { size - 1 - i };
                    bytes[at] = v as u8;
                    v = v.checked_shr(8).unwrap_or(0);
                }
                out.extend_from_slice(&bytes);
            }
            b'x' => out.push(0),
            b'f' => {
                let v = pack_arg(state, argi, "number", check_number)? as f32;
                argi += 1;
                if f.little {
                    out.extend_from_slice(&v.to_le_bytes());
                } else {
                    out.extend_from_slice(&v.to_be_bytes());
                }
            }
            b'd' => {
                let v = pack_arg(state, argi, "number", check_number)?;
                argi += 1;
                if f.little {
                    out.extend_from_slice(&v.to_le_bytes());
                } else {
                    out.extend_from_slice(&v.to_be_bytes());
                }
            }
            b'c' | b's' => {
                let s = pack_arg(state, argi, "string", check_bytes)?;
                argi += 1;
                if size == 0 {
                    size = s.len();
                }
                if s.len() < size {
                    return Err(bad_arg(argi + 1, "pack", "string too short"));
                }
                out.extend_from_slice(&s[..size]);
                if opt == b's' {
                    out.push(0);
                    size += 1;
                }
            }
            _ => f.control(opt, "pack")?,
        }
        total += size;
    }
    push_bytes(state, &out);
    Ok(1)
}

/// An integer of `size` bytes, sign-extended as the module does it with 64-bit arithmetic.
fn get_integer(b: &[u8], little: bool, signed: bool) -> f64 {
    let mut l: u64 = 0;
    let mut add = |x: u8| l = (l << 8) | u64::from(x);
    if little {
        b.iter().rev().for_each(|&x| add(x));
    } else {
        b.iter().for_each(|&x| add(x));
    }
    if !signed {
        return l as f64;
    }
    let shift = ((b.len() as i64) * 8 - 1) & 63;
    let mask = u64::MAX << shift;
    if l & mask != 0 {
        l |= mask;
    }
    l as i64 as f64
}

fn b_unpack(state: &mut LuaState) -> LuaResult<u32> {
    let mut f = Format::new(check_bytes(state, 0, "unpack")?);
    let data = check_bytes(state, 1, "unpack")?;
    let ld = data.len() as u64;
    let pos = opt_integer(state, 2, "unpack", 1)? as u64;
    if pos == 0 {
        return Err(bad_arg(3, "unpack", "offset must be 1 or greater"));
    }
    let mut pos = pos - 1;
    let used = nargs(state);
    let mut out: Vec<Val> = Vec::new();
    let too_short = || bad_arg(2, "unpack", "data string too short");
    while let Some(opt) = f.next() {
        let size0 = f.size(opt)?;
        let mut size = size0 as u64;
        pos = pos.wrapping_add(f.padding(pos, opt, size0));
        if size > ld || pos > ld - size {
            return Err(too_short());
        }
        if used + out.len() + 2 > MAX_C_STACK {
            return Err(rilua::runtime_error("stack overflow (too many results)"));
        }
        let at = pos as usize;
        match opt {
            _ if is_int_option(opt) => {
                let v = get_integer(&data[at..at + size0], f.little, opt.is_ascii_lowercase());
                out.push(Val::Num(v));
            }
            b'x' => {}
            b'f' => {
                let b: [u8; 4] = data[at..at + 4].try_into().unwrap_or_default();
                let v = if f.little {
                    f32::from_le_bytes(b)
                } else {
                    f32::from_be_bytes(b)
                };
                out.push(Val::Num(f64::from(v)));
            }
            b'd' => {
                let b: [u8; 8] = data[at..at + 8].try_into().unwrap_or_default();
                let v = if f.little {
                    f64::from_le_bytes(b)
                } else {
                    f64::from_be_bytes(b)
                };
                out.push(Val::Num(v));
            }
            b'c' => {
                if size == 0 {
                    let prev = out.last().and_then(|v| to_number(state, *v));
                    let Some(n) = prev else {
                        return Err(rilua::runtime_error("format 'c0' needs a previous size"));
                    };
                    size = c_u64(n);
                    out.pop();
                    if size > ld || pos > ld - size {
                        return Err(too_short());
                    }
                }
                let s = state.gc.intern_string(&data[at..at + size as usize]);
                out.push(Val::Str(s));
            }
            b's' => {
                let Some(end) = data[at..].iter().position(|&b| b == 0) else {
                    return Err(rilua::runtime_error("unfinished string in data"));
                };
                size = end as u64 + 1;
                let s = state.gc.intern_string(&data[at..at + end]);
                out.push(Val::Str(s));
            }
            _ => f.control(opt, "unpack")?,
        }
        pos = pos.wrapping_add(size);
    }
    let n = out.len() as u32;
    for v in out {
        state.push(v);
    }
    state.push(Val::Num(pos.wrapping_add(1) as i64 as f64));
    Ok(n + 1)
}

fn b_size(state: &mut LuaState) -> LuaResult<u32> {
    let mut f = Format::new(check_bytes(state, 0, "size")?);
    let mut pos = 0u64;
    while let Some(opt) = f.next() {
        let size = f.size(opt)?;
        pos = pos.wrapping_add(f.padding(pos, opt, size));
        if opt == b's' {
            return Err(bad_arg(1, "size", "option 's' has no fixed size"));
        }
        if opt == b'c' && size == 0 {
            return Err(bad_arg(1, "size", "option 'c0' has no fixed size"));
        }
        if !opt.is_ascii_alphanumeric() {
            f.control(opt, "size")?;
        }
        pos = pos.wrapping_add(size as u64);
    }
    state.push(Val::Num(pos as i64 as f64));
    Ok(1)
}
