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
// The memory as u32s, for the mailbox (four aligned u32s).
let w32 = new Uint32Array(0);
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
    w32 = new Uint32Array(memory.buffer);
  }
  return u8;
}

// The monotonic clock (ms) the module times commands with (`clockMs` in src/wasm.rs): the
// fast path reads it as a call begins and passes the reading in, so the module neither reads
// it again to start timing the command nor reads `Date.now()` (it derives the wall clock from
// this reading; see `WallClock` in src/wasm.rs). The `performance` object is looked up once:
// a global lookup on every reading costs about 5 ns more in Node.
const perf = globalThis.performance;
export function clockMs() {
  return perf.now();
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
  const p = packList(bytes(), args, ptr, ptr + cap);
  return p < 0 ? -rest(args, 0) : p - ptr;
}

// Writes the arguments `args` from `p` on, up to `end`; the position after them, or -1 when
// they do not fit. Throws a TypeError for an argument of another type.
function packList(m, args, p, end) {
  const n = args.length;
  for (let i = 0; i < n; i++) {
    const a = args[i];
    // Strings, the common case, checked and written in one step (see `bound` and `put`).
    if (typeof a === "string" && a.length <= 64) {
      const sl = a.length;
      if (p + 4 + sl * 3 > end) return -1;
      const at = p + 4;
      let len = 0;
      while (len < sl) {
        const c = a.charCodeAt(len);
        if (c >= 0x80) break;
        m[at + len] = c;
        len++;
      }
      if (len < sl) {
        const w = at + len;
        len += encoder.encodeInto(a.slice(len), m.subarray(w, w + (sl - len) * 3)).written;
      }
      m[p] = len;
      m[p + 1] = 0;
      m[p + 2] = 0;
      m[p + 3] = 0;
      p = at + len;
      continue;
    }
    const b = bound(a);
    if (b < 0) throw badArg();
    if (p + b > end) return -1;
    p = put(m, p, a);
  }
  return p;
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
    if (p + 4 > end) return -batchRest(commands, 0);
    const argc = args.length;
    m[p] = argc & 0xff;
    m[p + 1] = (argc >>> 8) & 0xff;
    m[p + 2] = (argc >>> 16) & 0xff;
    m[p + 3] = argc >>> 24;
    p = packList(m, args, p + 4, end);
    if (p < 0) return -batchRest(commands, 0);
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

// What a packed reply's header says of its strings: all ASCII, or all valid UTF-8.
const HEAP_ASCII = 1;
const HEAP_UTF8 = 2;

// The reply being read: `at` walks the structure, `hp` the strings after it.
let at = 0;
let hp = 0;
let heapStart = 0;
let heapEnd = 0;
let heapAscii = false;
// Every string valid UTF-8 by itself (and not read as bytes): decoded at once too, and cut out
// by their lengths in UTF-16 units, `hq` walking the text as `hp` walks the bytes.
let heapUtf8 = false;
let hq = 0;
let heapText = null;
let asBuffers = false;

function u32(m, p) {
  return (m[p] | (m[p + 1] << 8) | (m[p + 2] << 16) | (m[p + 3] << 24)) >>> 0;
}

const fc = String.fromCharCode;

// `len` ASCII bytes at `p` as a string, for short ones: String.fromCharCode with the bytes as
// arguments costs less than a TextDecoder call or building the string a character at a time.
function ascii(m, p, len) {
  let s = "";
  while (len > 8) {
    s += fc(m[p], m[p + 1], m[p + 2], m[p + 3], m[p + 4], m[p + 5], m[p + 6], m[p + 7]);
    p += 8;
    len -= 8;
  }
  switch (len) {
    case 1: return s + fc(m[p]);
    case 2: return s + fc(m[p], m[p + 1]);
    case 3: return s + fc(m[p], m[p + 1], m[p + 2]);
    case 4: return s + fc(m[p], m[p + 1], m[p + 2], m[p + 3]);
    case 5: return s + fc(m[p], m[p + 1], m[p + 2], m[p + 3], m[p + 4]);
    case 6: return s + fc(m[p], m[p + 1], m[p + 2], m[p + 3], m[p + 4], m[p + 5]);
    case 7: return s + fc(m[p], m[p + 1], m[p + 2], m[p + 3], m[p + 4], m[p + 5], m[p + 6]);
    case 8: return s + fc(m[p], m[p + 1], m[p + 2], m[p + 3], m[p + 4], m[p + 5], m[p + 6], m[p + 7]);
    default: return s;
  }
}

// The longest string `ascii` makes; longer ones go through the TextDecoder.
const SHORT = 32;

// A string from `len` bytes at `p`: short ASCII ones by hand (cheaper than the decoder's
// call), anything else through TextDecoder (invalid UTF-8 as U+FFFD, as from_utf8_lossy).
function text(m, p, len) {
  if (len <= SHORT) {
    for (let i = 0; i < len; i++) {
      if (m[p + i] >= 0x80) return decoder.decode(m.subarray(p, p + len));
    }
    return ascii(m, p, len);
  }
  return decoder.decode(m.subarray(p, p + len));
}

// The length in UTF-16 units of the valid UTF-8 at `p` (`len` bytes): a unit for each
// character but those of four bytes, which take two.
function utf16Length(m, p, len) {
  let n = len;
  for (let i = p, end = p + len; i < end; i++) {
    const b = m[i];
    if (b >= 0x80) {
      if (b < 0xc0) n--;
      else if (b >= 0xf0) n++;
    }
  }
  return n;
}

// Longer strings of a UTF-8 reply are decoded by themselves rather than counted byte by byte.
const COUNTED = 256;

// The next string of the reply. When every string is ASCII, or every one valid UTF-8, and
// there are enough of them, they are decoded in one call and cut out of the result.
function str(m, len) {
  const p = hp;
  hp += len;
  if (heapAscii) {
    if (heapEnd - heapStart > 64) {
      if (heapText === null) heapText = decoder.decode(m.subarray(heapStart, heapEnd));
      return heapText.substring(p - heapStart, p - heapStart + len);
    }
    if (len <= SHORT) return ascii(m, p, len);
  } else if (heapUtf8) {
    if (len > COUNTED) {
      const s = decoder.decode(m.subarray(p, p + len));
      hq += s.length;
      return s;
    }
    if (heapText === null) heapText = decoder.decode(m.subarray(heapStart, heapEnd));
    const q = hq;
    hq += utf16Length(m, p, len);
    return heapText.substring(q, hq);
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
      let i = 0;
      if (heapAscii && heapEnd - heapStart > 64) {
        // All strings ASCII: cut out of the heap decoded once, in one tight loop while the
        // elements are strings (a flat LRANGE, ZRANGE, MGET, HGETALL walks it to the end).
        if (heapText === null) heapText = decoder.decode(m.subarray(heapStart, heapEnd));
        const whole = heapText;
        const bulk = asBuffers ? TEXT : BULK;
        let a = at;
        let q = hp - heapStart;
        for (; i < n; i++) {
          const t = m[a];
          if (t !== TEXT && t !== bulk) break;
          const len = (m[a + 1] | (m[a + 2] << 8) | (m[a + 3] << 16) | (m[a + 4] << 24)) >>> 0;
          out[i] = whole.substring(q, q + len);
          q += len;
          a += 5;
        }
        at = a;
        hp = heapStart + q;
      }
      for (; i < n; i++) {
        // Strings, the common element (LRANGE, ZRANGE, MGET ...), without the call.
        const t = m[at];
        if (t === TEXT || (t === BULK && !asBuffers)) {
          const len = u32(m, at + 1);
          at += 5;
          out[i] = str(m, len);
        } else {
          out[i] = value(m);
        }
      }
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
 * to `ptr`; u8: HEAP_ASCII when they are all ASCII, HEAP_UTF8 when each is valid UTF-8), the
 * structure, then the strings' bytes. Bulk strings come as Uint8Arrays when `buffers`.
 */
export function unpackReply(ptr, len, buffers) {
  const m = bytes();
  heapStart = ptr + u32(m, ptr);
  heapEnd = ptr + len;
  heapAscii = m[ptr + 4] === HEAP_ASCII;
  // Not for buffers: their bytes are not read as text, and `hq` would lose step.
  heapUtf8 = m[ptr + 4] === HEAP_UTF8 && !buffers && heapEnd - heapStart > 64;
  heapText = null;
  hp = heapStart;
  hq = 0;
  at = ptr + 5;
  asBuffers = buffers;
  const v = value(m);
  heapText = null;
  return v;
}

// The fast path of `pg.call`, `pg.callBuffer` and `pg.batch` (see `installFastCalls` in
// src/wasm.rs): JS packs the arguments straight into the module's input buffer, crosses once
// with numbers only (`__runPacked`, `__runBatch`), and reads the reply where the module
// packed it.
// The module tells where its buffers are through a mailbox of four u32s: the input's address
// and length, the reply's address and length.

// The mailbox's address, kept on each playground.
const MAILBOX = Symbol("mailbox");

function mailbox(pg) {
  let box = pg[MAILBOX];
  if (box === undefined) {
    box = pg.__ioMailbox();
    pg[MAILBOX] = box;
  }
  return box;
}

// Packs with `pack` (packArgsIn or packBatchIn) into the input buffer, growing it once when
// JS needs more room; the bytes written.
function packInto(pg, box, pack, what) {
  let m = u8;
  if (m.byteLength === 0) m = bytes();
  const i = box >>> 2;
  let n = pack(what, w32[i], w32[i + 1]);
  if (n < 0) {
    const ptr = pg.__ioReserve(-n);
    bytes();
    n = pack(what, ptr, w32[i + 1]);
  }
  return n;
}

// The reply packed at `ptr` (`len` bytes), an error reply thrown. A lone string, number or
// nil (most commands' reply) is read here without the walk of `unpackReply`.
function reply(m, ptr, len, buffers) {
  const tag = m[ptr + 5];
  if (tag === TEXT || tag === ERROR || (tag === BULK && !buffers)) {
    const heap = ptr + u32(m, ptr);
    const n = u32(m, ptr + 6);
    const s = m[ptr + 4] === HEAP_ASCII && n <= SHORT ? ascii(m, heap, n) : text(m, heap, n);
    if (tag === ERROR) throw new Error(s);
    return s;
  }
  if (tag === NUMBER) return dv.getFloat64(ptr + 6, true);
  if (tag === NULL) return null;
  return unpackReply(ptr, len, buffers);
}

function fastCall(pg, client, args, buffers) {
  let box = pg[MAILBOX];
  if (box === undefined) box = mailbox(pg);
  const n = packInto(pg, box, packArgsIn, args);
  const len = pg.__runPacked(client, n, clockMs());
  if (len === 0) return undefined;
  // Fresh views: the memory may have grown during the command.
  const m = bytes();
  return reply(m, w32[(box >>> 2) + 2], len, buffers);
}

// The fast path of `callResp`: the reply's RESP bytes, copied out of the module's memory.
function fastResp(pg, client, args) {
  let box = pg[MAILBOX];
  if (box === undefined) box = mailbox(pg);
  const n = packInto(pg, box, packArgsIn, args);
  const len = pg.__runResp(client, n, clockMs());
  const m = bytes();
  const ptr = w32[(box >>> 2) + 2];
  return m.slice(ptr, ptr + len);
}

// The fast path of `batch` and `batchBuffer`.
function fastBatch(pg, client, commands, buffers) {
  let box = pg[MAILBOX];
  if (box === undefined) box = mailbox(pg);
  const n = packInto(pg, box, packBatchIn, commands);
  const len = pg.__runBatch(client, n, clockMs());
  bytes();
  return unpackReply(w32[(box >>> 2) + 2], len, buffers);
}

/**
 * Gives `cls` (the Playground class) the fast path's `call`, `callBuffer`, `callResp`,
 * `batch` and `batchBuffer`.
 */
export function ioInstall(cls) {
  const proto = cls.prototype;
  if (proto.__fastCalls) return;
  const names = ["call", "callBuffer", "callResp", "batch", "batchBuffer"];
  const slow = Object.fromEntries(names.map((n) => [n, proto[n]]));
  const fast = {
    call(client, args) {
      return fastCall(this, client, args, false);
    },
    callBuffer(client, args) {
      return fastCall(this, client, args, true);
    },
    callResp(client, args) {
      return fastResp(this, client, args);
    },
    batch(client, commands) {
      return fastBatch(this, client, commands, false);
    },
    batchBuffer(client, commands) {
      return fastBatch(this, client, commands, true);
    },
  };
  const props = {
    __fastCalls: { value: true },
    // The Rust methods, which the package's tests compare the fast path with.
    __rustCalls: { value: slow },
  };
  for (const name of names) {
    const f = fast[name];
    const s = slow[name];
    props[name] = {
      // A freed playground (no pointer any more) goes the Rust way, which says so.
      value(client, what) {
        const p = this.__wbg_ptr;
        return p !== 0 && p !== undefined ? f.call(this, client, what) : s.call(this, client, what);
      },
      writable: true,
      configurable: true,
    };
  }
  Object.defineProperties(proto, props);
}
