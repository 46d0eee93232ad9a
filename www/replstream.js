// Reads the bytes of a replication link as the page's replication view shows them: what a
// replica says to its primary (PING, REPLCONF, PSYNC, acknowledgements) and what the primary
// answers (the handshake replies, +FULLRESYNC or +CONTINUE, the snapshot, then the stream of
// commands). The bytes are only looked at: the engines exchange them untouched (server.js).

const CR = 13;
const LF = 10;
// The longest argument kept for display; the rest is counted, not kept.
const SHOWN_ARG = 120;
// A command is shown whole up to this many bytes of RESP; a bigger one is summarised.
const SHOWN_RESP = 600;

const decoder = new TextDecoder("utf-8", { fatal: false });

function lineEnd(buf, from) {
  for (let i = from; i + 1 < buf.length; i++) {
    if (buf[i] === CR && buf[i + 1] === LF) return i;
  }
  return -1;
}

function concat(a, b) {
  if (a.length === 0) return b;
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/** A command's arguments quoted as redis-cli and MONITOR quote them. */
export function quoteArgs(args) {
  return args.map((a) => {
    let out = '"';
    for (const ch of a.bytes) {
      const c = String.fromCharCode(ch);
      if (c === "\\" || c === '"') out += `\\${c}`;
      else if (c === "\n") out += "\\n";
      else if (c === "\r") out += "\\r";
      else if (c === "\t") out += "\\t";
      else if (ch >= 0x20 && ch < 0x7f) out += c;
      else out += `\\x${ch.toString(16).padStart(2, "0")}`;
    }
    if (a.more > 0) out += `…(+${a.more} bytes)`;
    return `${out}"`;
  }).join(" ");
}

/** RESP bytes as readable text: \r\n shown as such, other control bytes escaped. */
export function showResp(bytes) {
  let out = "";
  const n = Math.min(bytes.length, SHOWN_RESP);
  for (let i = 0; i < n; i++) {
    const ch = bytes[i];
    if (ch === CR) out += "\\r";
    else if (ch === LF) out += "\\n";
    else if (ch >= 0x20 && ch < 0x7f) out += String.fromCharCode(ch);
    else out += `\\x${ch.toString(16).padStart(2, "0")}`;
  }
  if (bytes.length > n) out += `…(+${bytes.length - n} bytes)`;
  return out;
}

/**
 * One direction of a link. `primarySide` reads what a primary sends (reply lines, then the
 * snapshot, then commands); otherwise commands only (what a replica sends). `push(bytes)`
 * returns what became complete: `{ kind: "reply", text }`, `{ kind: "snapshot", size }`,
 * `{ kind: "command", args, text, resp, size }`.
 */
export class LinkReader {
  constructor(primarySide) {
    this.buf = new Uint8Array(0);
    this.state = primarySide ? "lines" : "commands";
    this.skip = 0; // snapshot bytes still to pass over
  }

  push(bytes) {
    const events = [];
    let data = bytes;
    if (this.skip > 0) {
      const n = Math.min(this.skip, data.length);
      this.skip -= n;
      data = data.subarray(n);
      if (this.skip > 0) return events;
    }
    this.buf = concat(this.buf, data);
    let at = 0;
    for (;;) {
      if (this.state === "commands") {
        const cmd = this.command(at);
        if (!cmd) break;
        events.push(cmd.event);
        at = cmd.end;
        continue;
      }
      // Newlines a primary sends while it prepares a snapshot keep the link alive.
      while (at < this.buf.length && this.buf[at] === LF) at++;
      const end = lineEnd(this.buf, at);
      if (end < 0) break;
      const line = decoder.decode(this.buf.subarray(at, end));
      if (this.state === "lines") {
        at = end + 2;
        events.push({ kind: "reply", text: line });
        if (line.startsWith("+FULLRESYNC")) this.state = "snapshot";
        else if (line.startsWith("+CONTINUE")) this.state = "commands";
        continue;
      }
      // "snapshot": `$<len>` then that many bytes (or the disk-less `$EOF:` form, whose end
      // mark is not looked for: nothing in this page sends it).
      const size = Number(line.slice(1));
      at = end + 2;
      if (!line.startsWith("$") || !Number.isSafeInteger(size) || size < 0) {
        events.push({ kind: "reply", text: line });
        continue;
      }
      events.push({ kind: "snapshot", size });
      this.state = "commands";
      const here = Math.min(size, this.buf.length - at);
      at += here;
      this.skip = size - here;
      if (this.skip > 0) break;
    }
    this.buf = this.buf.slice(at);
    return events;
  }

  /** A whole RESP command from `at`, or null while incomplete. */
  command(at) {
    const buf = this.buf;
    if (at >= buf.length) return null;
    if (buf[at] !== 42 /* '*' */) {
      // An inline command (a line of words).
      const end = lineEnd(buf, at);
      if (end < 0) return null;
      const text = decoder.decode(buf.subarray(at, end));
      const args = text.split(" ").filter(Boolean).map((w) => ({ bytes: new TextEncoder().encode(w), more: 0 }));
      return { end: end + 2, event: this.event(args, buf.subarray(at, end + 2)) };
    }
    let end = lineEnd(buf, at);
    if (end < 0) return null;
    const count = Number(decoder.decode(buf.subarray(at + 1, end)));
    let pos = end + 2;
    const args = [];
    for (let i = 0; i < count; i++) {
      end = lineEnd(buf, pos);
      if (end < 0) return null;
      const len = Number(decoder.decode(buf.subarray(pos + 1, end)));
      const start = end + 2;
      if (!Number.isSafeInteger(len) || len < 0) return null;
      if (start + len + 2 > buf.length) return null;
      const shown = Math.min(len, SHOWN_ARG);
      args.push({ bytes: buf.slice(start, start + shown), more: len - shown });
      pos = start + len + 2;
    }
    return { end: pos, event: this.event(args, buf.subarray(at, pos)) };
  }

  event(args, raw) {
    return { kind: "command", args, text: quoteArgs(args), resp: showResp(raw), size: raw.length };
  }
}

/** A command's name in upper case ("" when it has none). */
export function commandName(event) {
  const a = event.args?.[0];
  return a ? decoder.decode(a.bytes).toUpperCase() : "";
}

/** The first two words of a command, upper case: "REPLCONF ACK", "PSYNC ?". */
export function commandHead(event) {
  return (event.args ?? []).slice(0, 2).map((a) => decoder.decode(a.bytes).toUpperCase()).join(" ");
}

/** An argument as text. */
export function argText(event, i) {
  const a = event.args?.[i];
  return a ? decoder.decode(a.bytes) : "";
}
