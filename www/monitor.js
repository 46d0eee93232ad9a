// The monitor: redis-cli's monitoring modes as a panel, for a learner who has no redis-cli to
// point at a page. Each view prints what redis-cli prints for the same server:
// - `--stat`: a line per second read from INFO (keys, memory, clients, blocked clients,
//   requests and their growth, connections), with redis-cli's header every 20 lines;
// - `--bigkeys` and `--memkeys`: a SCAN of the database with each key's TYPE and its size
//   (STRLEN, LLEN, HLEN, SCARD, ZCARD, XLEN, or MEMORY USAGE), the biggest key of each type as
//   it is found and a summary;
// - `--latency`: round trips to the server (PING) for a second: min, max and average in ms.
// It reads through the page's inspection client (Shell.query), like the inspector, so its
// commands count in INFO as redis-cli's would; it watches the server of the client tab shown
// (`redis-cli -p 6380 ...` once that is another server than the first). Output is text
// (textContent) only.

import { humanBytes } from "./terminal.js";

const STAT_EVERY_MS = 1000;  // redis-cli's default interval
const STAT_KEEP = 60;        // lines of --stat kept on screen
const LATENCY_MS = 1000;     // how long --latency samples
const LATENCY_GAP_MS = 10;   // redis-cli's LATENCY_SAMPLE_RATE

export const STAT_HEADER =
  "------- data ------ --------------------- load -------------------- - child -\n" +
  "keys       mem      clients blocked requests            connections          ";

// The six types as redis-cli's summary lists them (its type table's iteration order), with
// the command that sizes a key of the type and the unit of that size.
const TYPES = [
  { name: "list", cmd: "LLEN", unit: "items" },
  { name: "hash", cmd: "HLEN", unit: "fields" },
  { name: "string", cmd: "STRLEN", unit: "bytes" },
  { name: "stream", cmd: "XLEN", unit: "entries" },
  { name: "set", cmd: "SCARD", unit: "members" },
  { name: "zset", cmd: "ZCARD", unit: "members" },
];

const pad = (s, n) => (s.length >= n ? s : s + " ".repeat(n - s.length));
const padLeft = (s, n) => (s.length >= n ? s : " ".repeat(n - s.length) + s);

/** A key quoted as redis-cli quotes it (sdscatrepr): "a\"b\n\x01". */
export function repr(s) {
  let out = '"';
  for (const ch of new TextEncoder().encode(String(s))) {
    const c = String.fromCharCode(ch);
    if (c === "\\" || c === '"') out += `\\${c}`;
    else if (c === "\n") out += "\\n";
    else if (c === "\r") out += "\\r";
    else if (c === "\t") out += "\\t";
    else if (ch === 7) out += "\\a";
    else if (ch === 8) out += "\\b";
    else if (ch >= 0x20 && ch < 0x7f) out += c;
    else out += `\\x${ch.toString(16).padStart(2, "0")}`;
  }
  return `${out}"`;
}

/** A `%05.2f` number (redis-cli's percentages). */
function pct(x) {
  return x.toFixed(2).padStart(5, "0");
}

/** Fields of an INFO text. */
export function infoFields(text) {
  const m = new Map();
  for (const line of String(text).split("\r\n")) {
    const at = line.indexOf(":");
    if (at > 0 && !line.startsWith("#")) m.set(line.slice(0, at), line.slice(at + 1));
  }
  return m;
}

/**
 * One `--stat` line from an INFO text; `prev` is the request count of the line before (0 for
 * the first, whose growth is shown as +0). Returns { line, requests }.
 */
export function statLine(info, prev) {
  const f = infoFields(info);
  const num = (k) => {
    const v = parseInt(f.get(k) ?? "", 10);
    return Number.isFinite(v) ? v : 0;
  };
  let keys = 0;
  for (let db = 0; db < 20; db++) {
    const v = f.get(`db${db}`);
    const m = v && /(?:^|,)keys=(\d+)/.exec(v);
    if (m) keys += Number(m[1]);
  }
  const requests = num("total_commands_processed");
  let line = pad(String(keys), 11);
  line += pad(humanBytes(num("used_memory")), 8);
  line += " " + pad(String(num("connected_clients")), 8);
  line += pad(String(num("blocked_clients")), 8);
  line += pad(`${requests} (+${prev === 0 ? 0 : requests - prev})`, 19);
  line += " " + pad(String(num("total_connections_received")), 12);
  const child = num("rdb_bgsave_in_progress") | (num("aof_rewrite_in_progress") << 1) | (num("loading") << 2);
  line += ["", "SAVE", "AOF", "SAVE+AOF", "LOAD"][child] ?? "";
  return { line, requests };
}

/**
 * redis-cli's `--bigkeys` (or `--memkeys` with `memkeys: true`) over `query(cmds) → replies`,
 * which runs commands on one database. Returns the text redis-cli prints.
 */
export async function findBigKeys(query, { memkeys = false } = {}) {
  const value = (r) => (r && r.value !== undefined ? r.value : null);
  const [sizeR] = await query([["DBSIZE"]]);
  const total = Number(value(sizeR)) || 0;
  const stats = new Map(TYPES.map((t) => [t.name, { ...t, count: 0, total: 0, biggest: 0, key: null }]));
  const out = [
    "",
    "# Scanning the entire keyspace to find biggest keys as well as",
    "# average sizes per key type.  You can use -i 0.1 to sleep 0.1 sec",
    "# per 100 SCAN commands (not usually needed).",
    "",
  ];
  let sampled = 0;
  let totlen = 0;
  let cursor = "0";
  do {
    const done = total ? (100 * sampled) / total : NaN;
    const [scanR] = await query([["SCAN", cursor]]);
    const [next, keysR] = value(scanR) ?? ["0", { value: [] }];
    cursor = String(value(next));
    const keys = (value(keysR) ?? []).map((k) => String(value(k)));
    if (keys.length === 0) continue;
    const types = (await query(keys.map((k) => ["TYPE", k]))).map((r) => stats.get(String(value(r))));
    const cmds = keys.map((k, i) => (types[i] ? (memkeys ? ["MEMORY", "USAGE", k] : [types[i].cmd, k]) : ["PING"]));
    const sizes = (await query(cmds)).map((r) => Number(value(r)) || 0);
    keys.forEach((k, i) => {
      const t = types[i];
      if (!t) return; // gone between SCAN and TYPE, or a type redis-cli does not size
      t.total += sizes[i];
      t.count++;
      totlen += new TextEncoder().encode(k).length;
      sampled++;
      if (t.biggest < sizes[i]) {
        t.key = repr(k);
        out.push(`[${pct(done)}%] Biggest ${pad(t.name, 6)} found so far '${t.key}' with ${sizes[i]} ${memkeys ? "bytes" : t.unit}`);
        t.biggest = sizes[i];
      }
      if (sampled % 1000000 === 0) out.push(`[${pct(done)}%] Sampled ${sampled} keys so far`);
    });
  } while (cursor !== "0");
  out.push("", "-------- summary -------", "");
  out.push(`Sampled ${sampled} keys in the keyspace!`);
  out.push(`Total key length in bytes is ${totlen} (avg len ${(totlen ? totlen / sampled : 0).toFixed(2)})`, "");
  for (const t of stats.values()) {
    if (t.key) out.push(`Biggest ${padLeft(t.name, 6)} found '${t.key}' has ${t.biggest} ${memkeys ? "bytes" : t.unit}`);
  }
  out.push("");
  for (const t of stats.values()) {
    const share = sampled ? (100 * t.count) / sampled : 0;
    const avg = t.count ? t.total / t.count : 0;
    out.push(`${t.count} ${t.name}s with ${t.total} ${memkeys ? "bytes" : t.unit} (${pct(share)}% of keys, avg size ${avg.toFixed(2)})`);
  }
  return out.join("\n") + "\n";
}

function el(tag, className, text) {
  const e = document.createElement(tag);
  if (className) e.className = className;
  if (text !== undefined) e.textContent = String(text);
  return e;
}

export class Monitor {
  constructor(shell, box) {
    this.shell = shell;
    this.box = box;
    this.timer = null;
    this.lines = [];
    this.requests = 0;
    this.printed = 0;
    this.busy = false;
    this.build();
  }

  build() {
    const b = this.box;
    b.replaceChildren();
    const head = el("div", "rp-ins-head");
    head.append(el("h2", "rp-ins-title", "Monitor"), el("span", "rp-ins-sub", "redis-cli's views"));
    const stat = el("section", "rp-mon-part");
    this.statHead = el("h3", "rp-mon-h", "redis-cli --stat");
    stat.append(this.statHead);
    this.statOut = el("pre", "rp-mon-out rp-mon-stat");
    this.statOut.setAttribute("aria-live", "off");
    stat.append(this.statOut);

    const scan = el("section", "rp-mon-part");
    const tools = el("div", "rp-mon-tools");
    const run = (label, title, fn) => {
      const btn = el("button", "page-btn rp-mon-btn", label);
      btn.type = "button";
      btn.title = title;
      btn.addEventListener("click", () => this.runTool(label, fn));
      tools.append(btn);
      return btn;
    };
    run("--bigkeys", "The biggest key of each type, by length (SCAN, TYPE, then LLEN, HLEN, ...)", () => findBigKeys(this.query(), {}));
    run("--memkeys", "The biggest key of each type, by memory (SCAN, TYPE, then MEMORY USAGE)", () => findBigKeys(this.query(), { memkeys: true }));
    run("--latency", "Round trips to the server for a second", () => this.latency());
    this.dbNote = el("span", "rp-ins-sub", "");
    tools.append(this.dbNote);
    this.toolOut = el("pre", "rp-mon-out rp-mon-tool");
    this.toolOut.textContent = "Run one of redis-cli's scans of the keyspace above.";
    scan.append(el("h3", "rp-mon-h", "Keyspace and latency"), tools, this.toolOut);
    b.append(head, stat, scan);
  }

  /** The current client tab's database, read like redis-cli -n. */
  query() {
    const db = this.shell.current?.db ?? 0;
    return (cmds) => this.shell.query(db, cmds).then((r) => r.replies);
  }

  /** redis-cli's options naming the shown tab's server (-p, when not the first) and db (-n). */
  cliArgs(db = 0) {
    const port = this.shell.port ?? 6379;
    return `${port !== 6379 ? `-p ${port} ` : ""}${db ? `-n ${db} ` : ""}`;
  }

  async runTool(label, fn) {
    if (this.busy) return;
    this.busy = true;
    const db = this.shell.current?.db ?? 0;
    const args = this.cliArgs(db);
    this.dbNote.textContent = `db${db}`;
    this.toolOut.textContent = `redis-cli ${args}${label} …`;
    try {
      const text = await fn();
      this.toolOut.textContent = `$ redis-cli ${args}${label}\n${text}`;
    } catch (e) {
      this.toolOut.textContent = `redis-cli ${label}: ${e.message}`;
    } finally {
      this.busy = false;
      this.box.dataset.tool = label;
    }
  }

  async latency() {
    const q = this.query();
    let min = Infinity;
    let max = 0;
    let sum = 0;
    let n = 0;
    const end = performance.now() + LATENCY_MS;
    while (performance.now() < end) {
      const t = performance.now();
      await q([["PING"]]);
      const ms = Math.floor(performance.now() - t);
      min = Math.min(min, ms);
      max = Math.max(max, ms);
      sum += ms;
      n++;
      await new Promise((r) => setTimeout(r, LATENCY_GAP_MS));
    }
    return `min: ${min}, max: ${max}, avg: ${(sum / n).toFixed(2)} (${n} samples)\n`;
  }

  start() {
    if (this.timer) return;
    this.lines = [];
    this.requests = 0;
    this.printed = 0;
    this.statPort = null;
    const tick = async () => {
      try {
        // Another server's tab shown: its own --stat starts over, as a new redis-cli would.
        const port = this.shell.port ?? 6379;
        if (port !== this.statPort) {
          this.statPort = port;
          this.lines = [];
          this.requests = 0;
          this.printed = 0;
          this.statHead.textContent = `redis-cli ${this.cliArgs()}--stat`;
        }
        const [infoR] = await this.shell.query(0, [["INFO"]]).then((r) => r.replies);
        if (!this.timer || port !== this.statPort) return;
        if (this.printed++ % 20 === 0) this.lines.push(...STAT_HEADER.split("\n"));
        const { line, requests } = statLine(infoR?.value ?? "", this.requests);
        this.requests = requests;
        this.lines.push(line);
        if (this.lines.length > STAT_KEEP) this.lines.splice(0, this.lines.length - STAT_KEEP);
        this.statOut.textContent = this.lines.join("\n");
        this.statOut.scrollTop = this.statOut.scrollHeight;
        this.box.dataset.statLines = String(this.printed);
      } catch {
        // the server is restarting (a leader tab closed): the next tick reads again
      }
    };
    this.timer = setInterval(tick, STAT_EVERY_MS);
    tick();
  }

  stop() {
    clearInterval(this.timer);
    this.timer = null;
  }
}
