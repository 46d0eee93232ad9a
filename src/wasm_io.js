// The JS half of the program API's fast path (`pg.call`, `pg.callBuffer`, `pg.batch` in
// src/wasm.rs). A command's arguments are written into the engine's memory in one pass, and
// its reply is read back from a compact binary form (see `pack_reply` in src/wasm.rs), so a
// command costs a handful of crossings whatever the number of arguments or reply elements.
//
// Arguments, as `packArgs` writes them: for each one, its length (u32, little-endian) and its
// bytes. A batch (`packBatch`) writes, for each command, its argument count (u32) and then
// its arguments the same way.

let memory = null;
let u8 = new Uint8Array(0);
let dv = new DataView(u8.buffer);
const encoder = new TextEncoder();
// ignoreBOM: a leading U+FEFF is part of the value (Rust's from_utf8_lossy keeps it too).
const decoder = new TextDecoder("utf-8", { ignoreBOM: true });

/** Called with the module's `WebAssembly.Memory`: once per instance of the module (a host
 * that restarts a crashed engine loads a fresh instance, with a memory of its own). */
export function ioInit(mem) {
  memory = mem;
  u8 = new Uint8Array(0);
}

// Views of the memory; renewed when it has grown (growing detaches the old buffer).
function bytes() {
  // A grown memory detaches the old buffer, whose views then have no bytes.
  if (u8.byteLength === 0) {
    u8 = new Uint8Array(memory.buffer);
    dv = new DataView(memory.buffer);
  }
  return u8;
}

const BAD_ARG = "arguments must be strings, numbers, bigints or Uint8Arrays";

// The most bytes an argument can take, or -1 when it is not an accepted type.
function bound(a) {
  if (typeof a === "string") return 4 + a.length * 3;
  if (a instanceof Uint8Array) return 4 + a.length;
  if (typeof a === "number" || typeof a === "bigint") return 4 + String(a).length;
  return -1;
}

// Writes argument `a` at `p`; returns the position after it. `cap` was checked with `bound`.
function put(m, p, a) {
  let len;
  if (typeof a === "string") {
    const n = a.length;
    len = 0;
    if (n <= 64) {
      // ASCII goes byte by byte; the rest of a string from its first non-ASCII character
      // goes through the encoder (whole surrogate pairs, lone ones as U+FFFD).
      while (len < n) {
        const c = a.charCodeAt(len);
        if (c >= 0x80) break;
        m[p + 4 + len] = c;
        len++;
      }
    }
    if (len < n) {
      const rest = len === 0 ? a : a.slice(len);
      const at = p + 4 + len;
      len += encoder.encodeInto(rest, m.subarray(at, at + (n - len) * 3)).written;
    }
  } else if (a instanceof Uint8Array) {
    len = a.length;
    m.set(a, p + 4);
  } else {
    // Numbers and BigInts as JavaScript writes them (what ioredis and node-redis send).
    const s = String(a);
    len = s.length;
    for (let i = 0; i < len; i++) m[p + 4 + i] = s.charCodeAt(i);
  }
  m[p] = len & 0xff;
  m[p + 1] = (len >>> 8) & 0xff;
  m[p + 2] = (len >>> 16) & 0xff;
  m[p + 3] = len >>> 24;
  return p + 4 + len;
}

function badArg() {
  return new TypeError(BAD_ARG);
}

// The error of the last packing that failed (NaN returned), for `takeError`. Errors are
// returned rather than thrown: a throwing import costs every call a wrapper.
let failure = null;

/** The error the last failed packing left (a TypeError), once. */
export function takeError() {
  const e = failure;
  failure = null;
  return e;
}

/**
 * Writes `args` at `ptr` (room for `cap` bytes); returns the bytes written, minus the room
 * needed when `cap` is too small, or NaN for an argument of another type (see `takeError`).
 */
export function packArgs(args, ptr, cap) {
  try {
    return packArgsIn(args, ptr, cap);
  } catch (e) {
    failure = e;
    return NaN;
  }
}

function packArgsIn(args, ptr, cap) {
  const m = bytes();
  const end = ptr + cap;
  let p = ptr;
  const n = args.length;
  for (let i = 0; i < n; i++) {
    const a = args[i];
    const b = bound(a);
    if (b < 0) throw badArg();
    if (p + b > end) return -(p - ptr + rest(args, i));
    p = put(m, p, a);
  }
  return p - ptr;
}

function rest(args, from) {
  let need = 0;
  for (let i = from; i < args.length; i++) {
    const b = bound(args[i]);
    if (b < 0) throw badArg();
    need += b;
  }
  return need;
}

/**
 * Writes every command of `commands` (an array of argument arrays) at `ptr`, and answers, as
 * `packArgs` does. Every command is checked before any runs.
 */
export function packBatch(commands, ptr, cap) {
  try {
    return packBatchIn(commands, ptr, cap);
  } catch (e) {
    failure = e;
    return NaN;
  }
}

function packBatchIn(commands, ptr, cap) {
  const m = bytes();
  const end = ptr + cap;
  let p = ptr;
  const n = commands.length;
  for (let c = 0; c < n; c++) {
    const args = commands[c];
    if (!Array.isArray(args)) throw new TypeError("each command must be an array");
    if (p + 4 > end) return -(p - ptr + batchRest(commands, c));
    const argc = args.length;
    m[p] = argc & 0xff;
    m[p + 1] = (argc >>> 8) & 0xff;
    m[p + 2] = (argc >>> 16) & 0xff;
    m[p + 3] = argc >>> 24;
    p += 4;
    for (let i = 0; i < argc; i++) {
      const a = args[i];
      const b = bound(a);
      if (b < 0) throw badArg();
      if (p + b > end) return -(p - ptr + rest(args, i) + batchRest(commands, c + 1));
      p = put(m, p, a);
    }
  }
  return p - ptr;
}

function batchRest(commands, from) {
  let need = 0;
  for (let c = from; c < commands.length; c++) {
    const args = commands[c];
    if (!Array.isArray(args)) throw new TypeError("each command must be an array");
    need += 4 + rest(args, 0);
  }
  return need;
}

// Reply tags: the same numbers as in src/wasm.rs.
const NULL = 0;
const TEXT = 1;
const BULK = 2;
const ERROR = 3;
const NUMBER = 4;
const BIGINT = 5;
const ARRAY = 6;
const SET = 7;
const MAP = 8;
const TRUE = 9;
const FALSE = 10;
const BIGNUM = 11;
const UNDEFINED = 12;

// The reply being read: `at` walks the structure, `hp` the strings after it.
let at = 0;
let hp = 0;
let heapStart = 0;
let heapEnd = 0;
let heapAscii = false;
let heapText = null;
let asBuffers = false;

function u32(m, p) {
  return (m[p] | (m[p + 1] << 8) | (m[p + 2] << 16) | (m[p + 3] << 24)) >>> 0;
}

// A string from `len` bytes at `p`: short ASCII ones by hand (cheaper than the decoder's
// call), anything else through TextDecoder (invalid UTF-8 as U+FFFD, as from_utf8_lossy).
function text(m, p, len) {
  if (len <= 32) {
    let s = "";
    for (let i = 0; i < len; i++) {
      const c = m[p + i];
      if (c >= 0x80) return decoder.decode(m.subarray(p, p + len));
      s += String.fromCharCode(c);
    }
    return s;
  }
  return decoder.decode(m.subarray(p, p + len));
}

// The next string of the reply. When every string is ASCII and there are enough of them,
// they are decoded in one call and cut out of the result (a character per byte).
function str(m, len) {
  const p = hp;
  hp += len;
  if (heapAscii && heapEnd - heapStart > 64) {
    if (heapText === null) heapText = decoder.decode(m.subarray(heapStart, heapEnd));
    return heapText.substring(p - heapStart, p - heapStart + len);
  }
  return text(m, p, len);
}

function value(m) {
  const tag = m[at++];
  switch (tag) {
    case NULL:
      return null;
    case TEXT:
    case BULK:
    case ERROR:
    case BIGNUM: {
      const len = u32(m, at);
      at += 4;
      if (tag === BULK && asBuffers) {
        const p = hp;
        hp += len;
        return m.slice(p, p + len);
      }
      const s = str(m, len);
      if (tag === ERROR) return new Error(s);
      if (tag === BIGNUM) {
        try {
          return BigInt(s);
        } catch {
          return s;
        }
      }
      return s;
    }
    case NUMBER: {
      const x = dv.getFloat64(at, true);
      at += 8;
      return x;
    }
    case BIGINT: {
      const x = dv.getBigInt64(at, true);
      at += 8;
      return x;
    }
    case ARRAY:
    case SET: {
      const n = u32(m, at);
      at += 4;
      const out = new Array(n);
      for (let i = 0; i < n; i++) out[i] = value(m);
      return tag === SET ? new Set(out) : out;
    }
    case MAP: {
      const n = u32(m, at);
      at += 4;
      const out = new Map();
      for (let i = 0; i < n; i++) {
        const k = value(m);
        out.set(k, value(m));
      }
      return out;
    }
    case TRUE:
      return true;
    case FALSE:
      return false;
    default:
      return undefined;
  }
}

/**
 * The reply packed at `ptr` (`len` bytes): a header (u32: where the strings start, relative
 * to `ptr`; u8: whether they are all ASCII), the structure, then the strings' bytes. Bulk
 * strings come as Uint8Arrays when `buffers`.
 */
export function unpackReply(ptr, len, buffers) {
  const m = bytes();
  heapStart = ptr + u32(m, ptr);
  heapEnd = ptr + len;
  heapAscii = m[ptr + 4] === 1;
  heapText = null;
  hp = heapStart;
  at = ptr + 5;
  asBuffers = buffers;
  const v = value(m);
  heapText = null;
  return v;
}
