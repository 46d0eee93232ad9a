// The inspector: a live picture of the selected database beside the terminal.
//
// - Keys as a tree split by a separator (":"), filtered by a glob pattern and a type, each with
//   its type, encoding (OBJECT ENCODING), TTL counting down and size (MEMORY USAGE). The tree
//   is virtualised: only the rows in view exist in the DOM, so 10,000 keys cost what 40 do.
// - The selected key drawn by its structure: a list as boxes indexed from both ends, a hash as a
//   table, a set as chips, a sorted set as a ranked table (geo sets also as a plot), a stream's
//   entries with its consumer groups and their pending entries, a string's bits as a grid, an
//   HLL's registers (PFDEBUG GETREG) or its count.
// - Everything is read from the engine with read commands on the page's inspection client
//   (Shell.query), never from the terminal's text. The server pushes "changed" after any
//   command that changed data (from any client tab of any page) or after expiry; the inspector
//   then re-reads the keys the command names (COMMAND GETKEYS), or everything when it cannot
//   tell, and marks what changed.
//
// Keys and values are shown with textContent only.

const ROW = 24;              // px per tree row
const OVERSCAN = 8;          // rows rendered beyond the view
const MAX_KEYS = 100000;     // a bound on what the tree lists
const SHOW_ITEMS = 200;      // elements shown of a big value
const BIT_BYTES = 32;        // bytes of a string drawn as bits
const LAZY_MS = 500;         // least time between re-reads no command asked for (expiry)

function el(tag, className, text) {
  const e = document.createElement(tag);
  if (className) e.className = className;
  if (text !== undefined) e.textContent = String(text);
  return e;
}

const svgNS = "http://www.w3.org/2000/svg";
function svg(tag, attrs = {}) {
  const e = document.createElementNS(svgNS, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  return e;
}

/** Splits a line into arguments as redis-cli does (quotes, \xHH escapes); null if unbalanced. */
export function splitArgs(line) {
  const out = [];
  let i = 0;
  const n = line.length;
  while (true) {
    while (i < n && /\s/.test(line[i])) i++;
    if (i >= n) return out;
    let cur = "";
    let inq = false;
    let ins = false;
    for (;;) {
      const c = line[i];
      if (inq) {
        if (i >= n) return null;
        if (c === "\\" && line[i + 1] === "x" && /^[0-9a-f]{2}$/i.test(line.slice(i + 2, i + 4))) {
          cur += String.fromCharCode(parseInt(line.slice(i + 2, i + 4), 16));
          i += 3;
        } else if (c === "\\" && i + 1 < n) {
          i++;
          cur += { n: "\n", r: "\r", t: "\t", b: "\b", a: "\x07" }[line[i]] ?? line[i];
        } else if (c === '"') {
          if (i + 1 < n && !/\s/.test(line[i + 1])) return null;
          i++;
          break;
        } else cur += c;
      } else if (ins) {
        if (i >= n) return null;
        if (c === "\\" && line[i + 1] === "'") {
          i++;
          cur += "'";
        } else if (c === "'") {
          if (i + 1 < n && !/\s/.test(line[i + 1])) return null;
          i++;
          break;
        } else cur += c;
      } else {
        if (i >= n || /\s/.test(c)) break;
        if (c === '"') inq = true;
        else if (c === "'") ins = true;
        else cur += c;
      }
      i++;
    }
    out.push(cur);
  }
}

/** A Redis glob pattern as a RegExp (*, ?, [...], \x). */
export function globToRegExp(glob) {
  let re = "";
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === "*") re += "[\\s\\S]*";
    else if (c === "?") re += "[\\s\\S]";
    else if (c === "[") {
      const end = glob.indexOf("]", i + 1);
      if (end < 0) re += "\\[";
      else {
        let body = glob.slice(i + 1, end).replace(/\\/g, "\\\\");
        if (body.startsWith("^")) body = `^${body.slice(1)}`;
        re += `[${body}]`;
        i = end;
      }
    } else if (c === "\\" && i + 1 < glob.length) {
      i++;
      re += glob[i].replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
    } else re += c.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
  }
  return new RegExp(`^${re}$`);
}

/** An HLL's 16384 registers from PFDEBUG DECODE's opcodes: "z:N" and "Z:N" are runs of N zero
 * registers, "v:V,N" a run of N registers holding V. [] if the text is not such a list. */
export function sparseRegisters(text) {
  if (typeof text !== "string") return [];
  const regs = [];
  for (const op of text.trim().split(/\s+/)) {
    let m;
    if ((m = /^[zZ]:(\d+)$/.exec(op))) {
      for (let i = 0; i < Number(m[1]) && regs.length < 16384; i++) regs.push(0);
    } else if ((m = /^v:(\d+),(\d+)$/.exec(op))) {
      for (let i = 0; i < Number(m[2]) && regs.length < 16384; i++) regs.push(Number(m[1]));
    } else if (op !== "") return [];
  }
  return regs.length === 16384 ? regs : [];
}

const val = (r) => (r && r.value !== undefined ? r.value : null);
const items = (r) => (r && Array.isArray(r.value) ? r.value : []);
const num = (r) => (r && (r.type === "integer" || r.type === "bulk") ? Number(r.value) : null);

/** Milliseconds left as TTL shows it: "59s", "1h 2m", "" for no expiry. */
export function ttlText(ms) {
  if (ms == null) return "";
  if (ms <= 0) return "0s";
  const s = Math.ceil(ms / 1000);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
  return `${Math.floor(s / 86400)}d ${Math.floor((s % 86400) / 3600)}h`;
}

function sizeText(n) {
  if (n == null) return "";
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

export class Inspector {
  constructor(shell, box) {
    this.shell = shell;
    this.box = box;
    this.sep = ":";
    this.db = 0;
    this.port = null;             // the server shown: the one the shown client tab belongs to
    this.pattern = "*";
    this.type = "";
    this.keys = new Map();        // name → { type, deadline, enc, size }
    this.open = new Set();        // expanded folder paths
    this.rows = [];               // the flattened tree
    this.active = 0;              // the row the keyboard is on
    this.selected = null;         // the key shown below the tree
    this.changed = new Set();     // keys the last change touched
    this.lastDetail = null;       // signature of the shown value's parts, to mark what changed
    this.pending = null;          // { full, lines } waiting for the next frame
    this.lastFull = -Infinity;    // when everything was last re-read
    this.running = null;
    this.unsubscribe = null;
    this.build();
  }

  build() {
    const b = this.box;
    b.replaceChildren();
    const head = el("div", "rp-ins-head");
    this.serverLabel = el("span", "rp-ins-server", "");
    this.dbLabel = el("span", "rp-ins-db", "db0");
    this.countLabel = el("span", "rp-ins-count", "");
    head.append(el("h2", "rp-ins-title", "Keys"), this.serverLabel, this.dbLabel, this.countLabel);
    const filters = el("div", "rp-ins-filters");
    this.patternInput = el("input", "rp-ins-pattern");
    Object.assign(this.patternInput, { type: "search", placeholder: "pattern, e.g. bike:*", spellcheck: false });
    this.patternInput.setAttribute("aria-label", "Filter keys by pattern");
    this.patternInput.addEventListener("input", () => {
      this.pattern = this.patternInput.value.trim() || "*";
      this.schedule({ full: true });
    });
    this.typeSelect = el("select", "rp-ins-type");
    this.typeSelect.setAttribute("aria-label", "Filter keys by type");
    for (const t of ["", "string", "list", "hash", "set", "zset", "stream"]) {
      const o = el("option", "", t || "all types");
      o.value = t;
      this.typeSelect.append(o);
    }
    this.typeSelect.addEventListener("change", () => {
      this.type = this.typeSelect.value;
      this.schedule({ full: true });
    });
    filters.append(this.patternInput, this.typeSelect);

    this.tree = el("div", "rp-ins-tree");
    this.tree.setAttribute("role", "tree");
    this.tree.setAttribute("aria-label", "Keys");
    this.tree.tabIndex = 0;
    this.spacer = el("div", "rp-ins-spacer");
    this.tree.append(this.spacer);
    this.tree.addEventListener("scroll", () => this.paint());
    this.tree.addEventListener("keydown", (e) => this.treeKey(e));
    this.tree.addEventListener("click", (e) => {
      const row = e.target.closest?.(".rp-ins-row");
      if (!row) return;
      this.active = Number(row.dataset.index);
      this.activate(this.rows[this.active]);
    });

    this.detail = el("section", "rp-ins-detail");
    this.detail.setAttribute("aria-label", "Selected key");
    // Says briefly which keys a change touched, rather than reading the whole view again.
    this.live = el("div", "rp-learn-live");
    this.live.setAttribute("role", "status");
    this.live.setAttribute("aria-live", "polite");
    this.detail.append(el("p", "rp-ins-empty", "Select a key to see its value."));
    b.append(head, filters, this.tree, this.detail, this.live);
  }

  start() {
    if (this.unsubscribe) return;
    this.unsubscribe = this.shell.on((ev) => {
      if (ev.kind === "changed") {
        if (ev.port !== this.port || (ev.db !== null && ev.db !== this.db)) return;
        const args = ev.line ? splitArgs(ev.line) : null;
        // A change no command named (keys expiring) re-reads everything, at most twice a second.
        this.schedule(args ? { line: args } : { full: true, lazy: !ev.line });
      } else if ((ev.kind === "run" || ev.kind === "select") && ev.screen === this.shell.current && (ev.screen.db !== this.db || ev.screen.port !== this.port)) {
        this.schedule({ full: true });
      } else if (ev.kind === "servers" && !ev.servers.some((s) => s.port === this.port)) {
        this.schedule({ full: true });
      }
    });
    this.ticker = setInterval(() => this.tickTtl(), 1000);
    this.schedule({ full: true });
  }

  stop() {
    this.unsubscribe?.();
    this.unsubscribe = null;
    clearInterval(this.ticker);
  }

  /** Coalesces refreshes into the next animation frame (one read per frame at most). */
  schedule(what) {
    if (!this.pending) {
      this.pending = { full: false, lines: [], at: performance.now() };
      const wait = what.lazy ? this.lastFull + LAZY_MS - performance.now() : 0;
      if (wait > 0) setTimeout(() => requestAnimationFrame(() => this.flush()), wait);
      else requestAnimationFrame(() => this.flush());
    }
    if (what.full) this.pending.full = true;
    if (what.line) this.pending.lines.push(what.line);
  }

  async flush() {
    if (this.running) {
      await this.running;
      if (!this.pending) return;
    }
    const job = this.pending;
    this.pending = null;
    if (!job) return;
    this.running = this.refresh(job).catch((e) => console.warn("inspector:", e));
    await this.running;
    this.running = null;
    // From the change's push to its picture on screen.
    this.box.dataset.latencyMs = (performance.now() - job.at).toFixed(1);
    this.box.dataset.version = String(Number(this.box.dataset.version ?? 0) + 1);
  }

  query(cmds) {
    return this.shell.query(this.db, cmds).then((r) => r.replies);
  }

  async refresh({ full, lines }) {
    const t0 = performance.now();
    const db = this.shell.current?.db ?? 0;
    const port = this.shell.port;
    if (db !== this.db || port !== this.port) {
      this.db = db;
      this.port = port;
      full = true;
      this.selected = null;
    }
    this.serverLabel.textContent = `127.0.0.1:${this.port}`;
    this.dbLabel.textContent = `db${this.db}`;
    const changed = new Set();
    let names = null;
    if (!full) {
      const replies = await this.query(lines.map((argv) => ["COMMAND", "GETKEYS", ...argv]));
      names = new Set();
      for (const r of replies) {
        if (!r || r.type !== "array") {
          full = true;
          break;
        }
        for (const k of r.value) names.add(String(k.value));
      }
    }
    if (full) {
      this.lastFull = performance.now();
      const before = this.keys;
      this.keys = await this.readAll();
      for (const [k, info] of this.keys) {
        const old = before.get(k);
        if (!old || old.type !== info.type || old.size !== info.size || old.enc !== info.enc) changed.add(k);
      }
      if (before.size === 0) changed.clear();
    } else {
      const list = [...names];
      const info = await this.describe(list);
      const re = globToRegExp(this.pattern);
      for (const k of list) {
        const d = info.get(k);
        if (d && re.test(k) && (!this.type || d.type === this.type)) this.keys.set(k, d);
        else this.keys.delete(k);
        changed.add(k);
      }
      // Keys the command did not name (a served BLPOP's source, eviction): check the count.
      if (this.pattern === "*" && !this.type) {
        const [size] = await this.query([["DBSIZE"]]);
        if (num(size) !== this.keys.size) return this.refresh({ full: true, lines: [] });
      }
    }
    this.changed = changed;
    if (changed.size > 0 && (lines.length > 0 || !full)) {
      const names = [...changed].slice(0, 3).join(", ");
      this.live.textContent = `changed: ${names}${changed.size > 3 ? ` and ${changed.size - 3} more` : ""}`;
    }
    const t1 = performance.now();
    this.layout();
    if (this.selected !== null && (full || changed.has(this.selected))) await this.showKey(this.selected, changed.has(this.selected));
    const t2 = performance.now();
    this.box.dataset.readMs = (t1 - t0).toFixed(1);
    this.box.dataset.renderMs = (t2 - t1).toFixed(1);
  }

  /** Every key matching the filters, with type, TTL, encoding and size, in one request. */
  async readAll() {
    const { rows } = await this.shell.request("keys", { db: this.db, pattern: this.pattern, type: this.type, limit: MAX_KEYS });
    const now = Date.now();
    const map = new Map();
    for (const [name, type, pttl, enc, size] of rows) {
      map.set(name, { type, deadline: pttl >= 0 ? now + pttl : null, enc, size });
    }
    return map;
  }

  /** TYPE, PTTL, OBJECT ENCODING and MEMORY USAGE of each key, in one request. */
  async describe(names) {
    const cmds = [];
    for (const k of names) cmds.push(["TYPE", k], ["PTTL", k], ["OBJECT", "ENCODING", k], ["MEMORY", "USAGE", k]);
    const replies = cmds.length ? await this.query(cmds) : [];
    const now = Date.now();
    const map = new Map();
    names.forEach((k, i) => {
      const type = val(replies[4 * i]);
      if (!type || type === "none") return;
      const pttl = num(replies[4 * i + 1]);
      map.set(k, {
        type,
        deadline: pttl != null && pttl >= 0 ? now + pttl : null,
        enc: val(replies[4 * i + 2]) ?? "",
        size: num(replies[4 * i + 3]),
      });
    });
    return map;
  }

  // ---- the tree ------------------------------------------------------------------------------

  /** Builds the folder tree and flattens its open part into rows. */
  layout() {
    const rootNode = { children: new Map(), count: 0 };
    const names = [...this.keys.keys()].sort();
    for (const name of names) {
      const parts = this.sep ? name.split(this.sep) : [name];
      let node = rootNode;
      node.count++;
      let path = "";
      for (let i = 0; i < parts.length - 1; i++) {
        path += parts[i] + this.sep;
        let next = node.children.get(`f:${parts[i]}`);
        if (!next) {
          next = { folder: true, label: parts[i], path, children: new Map(), count: 0 };
          node.children.set(`f:${parts[i]}`, next);
        }
        next.count++;
        node = next;
      }
      node.children.set(`k:${name}`, { key: name, label: parts[parts.length - 1] });
    }
    const rows = [];
    const walk = (node, level) => {
      const kids = [...node.children.values()].sort((a, b) => (a.folder === b.folder ? (a.label < b.label ? -1 : a.label > b.label ? 1 : 0) : a.folder ? -1 : 1));
      kids.forEach((c, i) => {
        rows.push({ ...c, level, pos: i + 1, setsize: kids.length });
        if (c.folder && this.open.has(c.path)) walk(c, level + 1);
      });
    };
    walk(rootNode, 1);
    this.rows = rows;
    this.active = Math.min(this.active, Math.max(0, rows.length - 1));
    this.countLabel.textContent = `${this.keys.size} key${this.keys.size === 1 ? "" : "s"}`;
    this.spacer.style.height = `${rows.length * ROW}px`;
    this.paint();
  }

  /** Renders the rows in view (and a few around them). */
  paint() {
    const top = this.tree.scrollTop;
    const h = this.tree.clientHeight || 300;
    const first = Math.max(0, Math.floor(top / ROW) - OVERSCAN);
    const last = Math.min(this.rows.length, Math.ceil((top + h) / ROW) + OVERSCAN);
    const frag = document.createDocumentFragment();
    const now = Date.now();
    for (let i = first; i < last; i++) frag.append(this.rowEl(this.rows[i], i, now));
    for (const old of this.tree.querySelectorAll(".rp-ins-row")) old.remove();
    this.tree.append(frag);
    const active = this.rows[this.active];
    if (active) this.tree.setAttribute("aria-activedescendant", `rp-ins-row-${this.active}`);
    else this.tree.removeAttribute("aria-activedescendant");
  }

  rowEl(r, i, now) {
    const row = el("div", "rp-ins-row");
    row.id = `rp-ins-row-${i}`;
    row.dataset.index = String(i);
    row.style.top = `${i * ROW}px`;
    row.style.paddingLeft = `${(r.level - 1) * 14 + 4}px`;
    row.setAttribute("role", "treeitem");
    row.setAttribute("aria-level", String(r.level));
    row.setAttribute("aria-setsize", String(r.setsize));
    row.setAttribute("aria-posinset", String(r.pos));
    if (i === this.active) row.classList.add("rp-ins-active");
    if (r.folder) {
      const open = this.open.has(r.path);
      row.setAttribute("aria-expanded", String(open));
      row.classList.add("rp-ins-folder");
      row.append(el("span", "rp-ins-twist", open ? "▾" : "▸"), el("span", "rp-ins-name", r.label + this.sep), el("span", "rp-ins-meta", String(r.count)));
      return row;
    }
    const info = this.keys.get(r.key);
    row.dataset.key = r.key;
    row.setAttribute("aria-selected", String(r.key === this.selected));
    if (r.key === this.selected) row.classList.add("rp-ins-selected");
    if (this.changed.has(r.key)) row.classList.add("rp-changed");
    const badge = el("span", `rp-ins-badge rp-t-${info?.type ?? "none"}`, info?.type ?? "");
    const ttl = el("span", "rp-ins-ttl", info?.deadline != null ? ttlText(info.deadline - now) : "");
    ttl.dataset.key = r.key;
    row.append(badge, el("span", "rp-ins-name", r.label), el("span", "rp-ins-meta", `${info?.enc ?? ""} · ${sizeText(info?.size)}`), ttl);
    row.title = r.key;
    return row;
  }

  treeKey(e) {
    const r = this.rows[this.active];
    let handled = true;
    if (e.key === "ArrowDown") this.active = Math.min(this.rows.length - 1, this.active + 1);
    else if (e.key === "ArrowUp") this.active = Math.max(0, this.active - 1);
    else if (e.key === "Home") this.active = 0;
    else if (e.key === "End") this.active = Math.max(0, this.rows.length - 1);
    else if (e.key === "ArrowRight" && r?.folder && !this.open.has(r.path)) this.activate(r);
    else if (e.key === "ArrowLeft" && r?.folder && this.open.has(r.path)) this.activate(r);
    else if (e.key === "ArrowLeft" && r && r.level > 1) {
      for (let i = this.active - 1; i >= 0; i--) {
        if (this.rows[i].folder && this.rows[i].level === r.level - 1) {
          this.active = i;
          break;
        }
      }
    } else if (e.key === "Enter" || e.key === " ") {
      if (r) this.activate(r);
    } else handled = false;
    if (!handled) return;
    e.preventDefault();
    const y = this.active * ROW;
    if (y < this.tree.scrollTop) this.tree.scrollTop = y;
    else if (y + ROW > this.tree.scrollTop + this.tree.clientHeight) this.tree.scrollTop = y + ROW - this.tree.clientHeight;
    this.paint();
  }

  /** A folder opens or closes; a key is selected. */
  activate(r) {
    if (!r) return;
    if (r.folder) {
      if (this.open.has(r.path)) this.open.delete(r.path);
      else this.open.add(r.path);
      this.layout();
      return;
    }
    this.selected = r.key;
    this.lastDetail = null;
    this.paint();
    this.showKey(r.key, false).then(() => {
      this.box.dataset.shown = r.key;
    });
  }

  /** Selects a key by name, opening its folders (for tests and links). */
  async select(name) {
    const parts = name.split(this.sep);
    let path = "";
    for (let i = 0; i < parts.length - 1; i++) {
      path += parts[i] + this.sep;
      this.open.add(path);
    }
    this.layout();
    const i = this.rows.findIndex((r) => r.key === name);
    if (i >= 0) this.active = i;
    this.selected = name;
    this.lastDetail = null;
    this.paint();
    await this.showKey(name, false);
    this.box.dataset.shown = name;
  }

  tickTtl() {
    const now = Date.now();
    for (const t of this.tree.querySelectorAll(".rp-ins-ttl")) {
      const info = this.keys.get(t.dataset.key);
      t.textContent = info?.deadline != null ? ttlText(info.deadline - now) : "";
    }
    const t = this.detail.querySelector(".rp-ins-dttl");
    const info = this.keys.get(this.selected);
    if (t && info) t.textContent = info.deadline != null ? `TTL ${ttlText(info.deadline - now)}` : "no expiry";
  }

  // ---- the selected key ----------------------------------------------------------------------

  async showKey(key, markChanges) {
    const [typeR, pttlR, encR, sizeR, lenR] = await this.query([
      ["TYPE", key], ["PTTL", key], ["OBJECT", "ENCODING", key], ["MEMORY", "USAGE", key], ["STRLEN", key],
    ]);
    const type = val(typeR);
    const box = el("div", "rp-ins-view");
    const head = el("div", "rp-ins-dhead");
    head.append(el("h3", "rp-ins-key", key));
    this.detail.replaceChildren(box);
    if (!type || type === "none") {
      box.append(head, el("p", "rp-ins-empty", "This key no longer exists."));
      this.detail.dataset.type = "none";
      return;
    }
    const pttl = num(pttlR);
    const meta = el("p", "rp-ins-dmeta");
    meta.append(
      el("span", `rp-ins-badge rp-t-${type}`, type),
      el("span", "", ` ${val(encR)} · ${sizeText(num(sizeR))} · `),
      el("span", "rp-ins-dttl", pttl >= 0 ? `TTL ${ttlText(pttl)}` : "no expiry"),
    );
    head.append(meta);
    box.append(head);
    this.detail.dataset.type = type;
    const parts = new Map(); // part id → signature, to mark what changed since last shown
    const view = await this.render(type, key, num(lenR), parts);
    box.append(view);
    if (markChanges && this.lastDetail && this.lastDetail.key === key) {
      for (const node of view.querySelectorAll("[data-part]")) {
        const id = node.dataset.part;
        if (this.lastDetail.parts.get(id) !== parts.get(id)) node.classList.add("rp-changed");
      }
    }
    this.lastDetail = { key, parts };
  }

  async render(type, key, strlen, parts) {
    const mark = (node, id, sig) => {
      node.dataset.part = id;
      parts.set(id, sig);
      return node;
    };
    const more = (shown, total, what) => (total > shown ? el("p", "rp-ins-more", `first ${shown} of ${total} ${what}`) : null);
    if (type === "list") {
      const [lenR, rangeR] = await this.query([["LLEN", key], ["LRANGE", key, "0", String(SHOW_ITEMS - 1)]]);
      const len = num(lenR);
      const row = el("ol", "rp-ins-list");
      items(rangeR).forEach((it, i) => {
        const li = el("li", "rp-ins-box");
        li.append(el("span", "rp-ins-idx", `${i}`), el("span", "rp-ins-val", it.value), el("span", "rp-ins-idx", `${i - len}`));
        row.append(mark(li, `i${i}`, it.value));
      });
      const wrap = el("div", "rp-ins-body");
      wrap.append(el("p", "rp-ins-sub", `${len} elements (index from the head above, from the tail below)`), row);
      const m = more(Math.min(SHOW_ITEMS, len), len, "elements");
      if (m) wrap.append(m);
      return wrap;
    }
    if (type === "hash") {
      const [lenR, scanR] = await this.query([["HLEN", key], ["HSCAN", key, "0", "COUNT", String(SHOW_ITEMS)]]);
      const pairs = items(items(scanR)[1]).map((x) => x.value);
      const rows = [];
      for (let i = 0; i + 1 < pairs.length; i += 2) rows.push([pairs[i], pairs[i + 1]]);
      rows.sort((a, b) => (a[0] < b[0] ? -1 : 1));
      const table = el("table", "rp-ins-table");
      const thead = el("tr");
      thead.append(el("th", "", "field"), el("th", "", "value"));
      table.append(thead);
      for (const [f, v] of rows) {
        const tr = el("tr");
        tr.append(el("td", "rp-ins-field", f), el("td", "rp-ins-val", v));
        table.append(mark(tr, `f${f}`, v));
      }
      const wrap = el("div", "rp-ins-body");
      wrap.append(el("p", "rp-ins-sub", `${num(lenR)} fields`), table);
      const m = more(rows.length, num(lenR), "fields");
      if (m) wrap.append(m);
      return wrap;
    }
    if (type === "set") {
      const [lenR, scanR] = await this.query([["SCARD", key], ["SSCAN", key, "0", "COUNT", String(SHOW_ITEMS)]]);
      const members = items(items(scanR)[1]).map((x) => x.value).sort();
      const chips = el("div", "rp-ins-chips");
      for (const m of members) chips.append(mark(el("span", "rp-ins-chip", m), `m${m}`, "1"));
      const wrap = el("div", "rp-ins-body");
      wrap.append(el("p", "rp-ins-sub", `${num(lenR)} members`), chips);
      const m = more(members.length, num(lenR), "members");
      if (m) wrap.append(m);
      return wrap;
    }
    if (type === "zset") {
      const [lenR, rangeR] = await this.query([["ZCARD", key], ["ZRANGE", key, "0", String(SHOW_ITEMS - 1), "REV", "WITHSCORES"]]);
      const flat = items(rangeR).map((x) => x.value);
      const rows = [];
      for (let i = 0; i + 1 < flat.length; i += 2) rows.push([flat[i], flat[i + 1]]);
      const table = el("table", "rp-ins-table");
      const thead = el("tr");
      thead.append(el("th", "", "rank"), el("th", "", "member"), el("th", "", "score"));
      table.append(thead);
      rows.forEach(([m, s], i) => {
        const tr = el("tr");
        tr.append(el("td", "rp-ins-idx", String(i + 1)), el("td", "rp-ins-val", m), el("td", "rp-ins-score", s));
        table.append(mark(tr, `z${m}`, `${s}`));
      });
      const wrap = el("div", "rp-ins-body");
      wrap.append(el("p", "rp-ins-sub", `${num(lenR)} members, highest score first`));
      // Geo sets: members whose scores are 52-bit geohashes get a plot.
      const geo = rows.length > 0 && rows.every(([, s]) => Number.isInteger(Number(s)) && Number(s) >= 2 ** 32 && Number(s) < 2 ** 52);
      if (geo) wrap.append(await this.geoPlot(key, rows.map(([m]) => m)));
      wrap.append(table);
      const m = more(rows.length, num(lenR), "members");
      if (m) wrap.append(m);
      return wrap;
    }
    if (type === "stream") return this.streamView(key, mark);
    // A string: its text, then what it also is (an HLL, a bitmap).
    const [headR, valueR] = await this.query([["GETRANGE", key, "0", "3"], ["GETRANGE", key, "0", "511"]]);
    const wrap = el("div", "rp-ins-body");
    if (val(headR) === "HYLL") {
      const [countR, encR] = await this.query([["PFCOUNT", key], ["PFDEBUG", "ENCODING", key]]);
      const sparse = val(encR) === "sparse";
      wrap.append(el("p", "rp-ins-sub", `HyperLogLog (${sparse ? "sparse" : "dense"}): PFCOUNT estimates ${num(countR)} distinct items`));
      // GETREG would convert a sparse sketch to dense (a write): a sparse one is read from its
      // run-length opcodes (PFDEBUG DECODE) instead.
      const [regsR] = await this.query([sparse ? ["PFDEBUG", "DECODE", key] : ["PFDEBUG", "GETREG", key]]);
      const regs = sparse ? sparseRegisters(val(regsR)) : items(regsR).map((x) => Number(x.value));
      if (regs.length > 0) wrap.append(this.registerGrid(regs));
      else wrap.append(el("p", "rp-ins-more", "(its registers are not readable here)"));
      wrap.dataset.hll = String(num(countR));
      return wrap;
    }
    const text = el("pre", "rp-ins-string", val(valueR) ?? "");
    mark(text, "s", val(valueR));
    wrap.append(el("p", "rp-ins-sub", `${strlen} bytes${strlen > 512 ? " (first 512 shown)" : ""}`), text);
    // The first bytes as bits (what SETBIT and GETBIT address).
    const nbytes = Math.min(strlen, BIT_BYTES);
    if (nbytes > 0) {
      const cmd = ["BITFIELD_RO", key];
      for (let i = 0; i < nbytes; i++) cmd.push("GET", "u8", String(i * 8));
      const [bitsR] = await this.query([cmd]);
      const grid = el("div", "rp-ins-bits");
      grid.setAttribute("aria-label", `bits 0 to ${nbytes * 8 - 1}`);
      items(bitsR).forEach((b, i) => {
        const byte = Number(b.value);
        for (let j = 0; j < 8; j++) {
          const on = (byte >> (7 - j)) & 1;
          const cell = el("span", on ? "rp-bit rp-on" : "rp-bit");
          cell.title = `bit ${i * 8 + j}: ${on}`;
          grid.append(mark(cell, `b${i * 8 + j}`, String(on)));
        }
      });
      wrap.append(el("p", "rp-ins-sub", `bits 0–${nbytes * 8 - 1} (GETBIT offsets, 8 per byte)`), grid);
    }
    return wrap;
  }

  async streamView(key, mark) {
    const [lenR, entriesR, groupsR] = await this.query([
      ["XLEN", key], ["XREVRANGE", key, "+", "-", "COUNT", "50"], ["XINFO", "GROUPS", key],
    ]);
    const wrap = el("div", "rp-ins-body");
    wrap.append(el("p", "rp-ins-sub", `${num(lenR)} entries (newest first)`));
    const list = el("ol", "rp-ins-entries");
    for (const e of items(entriesR)) {
      const [idR, fieldsR] = items(e);
      const li = el("li", "rp-ins-entry");
      li.append(el("span", "rp-ins-id", val(idR)));
      const f = items(fieldsR).map((x) => x.value);
      for (let i = 0; i + 1 < f.length; i += 2) {
        li.append(el("span", "rp-ins-field", f[i]), el("span", "rp-ins-val", f[i + 1]));
      }
      list.append(mark(li, `e${val(idR)}`, f.join("\u0000")));
    }
    wrap.append(list);
    const groups = items(groupsR).map((g) => {
      const o = {};
      if (g.type === "map") {
        for (const [k, v] of g.value) o[k.value] = v.value;
      } else {
        const kv = items(g).map((x) => x.value);
        for (let i = 0; i + 1 < kv.length; i += 2) o[kv[i]] = kv[i + 1];
      }
      return o;
    });
    if (groups.length) {
      const pend = await this.query(groups.map((g) => ["XPENDING", key, String(g.name), "-", "+", "50"]));
      const gl = el("div", "rp-ins-groups");
      groups.forEach((g, i) => {
        const box = el("div", "rp-ins-group");
        box.append(el("h4", "", `group ${g.name}`), el("p", "rp-ins-sub", `last delivered ${g["last-delivered-id"]} · ${g.consumers} consumer${Number(g.consumers) === 1 ? "" : "s"} · ${g.pending} pending`));
        const t = el("table", "rp-ins-table");
        const hr = el("tr");
        hr.append(el("th", "", "pending id"), el("th", "", "consumer"), el("th", "", "deliveries"));
        t.append(hr);
        for (const p of items(pend[i])) {
          const [id, consumer, , count] = items(p).map((x) => x.value);
          const tr = el("tr");
          tr.append(el("td", "rp-ins-id", id), el("td", "", consumer), el("td", "", count));
          t.append(mark(tr, `p${g.name}\u0000${id}`, `${consumer}\u0000${count}`));
        }
        box.append(t);
        gl.append(mark(box, `g${g.name}`, `${g["last-delivered-id"]}\u0000${g.pending}`));
      });
      wrap.append(el("h4", "rp-ins-sub", "Consumer groups"), gl);
    }
    return wrap;
  }

  async geoPlot(key, members) {
    const [posR] = await this.query([["GEOPOS", key, ...members]]);
    const pts = [];
    items(posR).forEach((p, i) => {
      const xy = items(p).map((x) => Number(x.value));
      if (xy.length === 2) pts.push({ m: members[i], lon: xy[0], lat: xy[1] });
    });
    const W = 300;
    const H = 180;
    const plot = svg("svg", { class: "rp-ins-geo", viewBox: `0 0 ${W} ${H}`, role: "img" });
    plot.setAttribute("aria-label", `${pts.length} places by longitude and latitude`);
    if (pts.length === 0) return plot;
    let [x0, x1, y0, y1] = [Math.min(...pts.map((p) => p.lon)), Math.max(...pts.map((p) => p.lon)), Math.min(...pts.map((p) => p.lat)), Math.max(...pts.map((p) => p.lat))];
    const pad = Math.max(x1 - x0, y1 - y0, 0.001) * 0.15;
    x0 -= pad;
    x1 += pad;
    y0 -= pad;
    y1 += pad;
    plot.append(svg("rect", { x: 0, y: 0, width: W, height: H, class: "rp-geo-bg" }));
    for (const p of pts) {
      const cx = ((p.lon - x0) / (x1 - x0)) * (W - 20) + 10;
      const cy = H - (((p.lat - y0) / (y1 - y0)) * (H - 20) + 10);
      const dot = svg("circle", { cx: cx.toFixed(1), cy: cy.toFixed(1), r: 4, class: "rp-geo-dot" });
      const t = svg("title");
      t.textContent = `${p.m}: ${p.lon.toFixed(5)}, ${p.lat.toFixed(5)}`;
      dot.append(t);
      const label = svg("text", { x: (cx + 6).toFixed(1), y: (cy + 4).toFixed(1), class: "rp-geo-label" });
      label.textContent = p.m;
      plot.append(dot, label);
    }
    return plot;
  }

  /** An HLL's 16384 registers as a 128×128 grid, darker for higher values. */
  registerGrid(regs) {
    const canvas = el("canvas", "rp-ins-hll");
    canvas.width = 128;
    canvas.height = 128;
    const ctx = canvas.getContext("2d");
    const max = Math.max(1, ...regs);
    const img = ctx.createImageData(128, 128);
    regs.forEach((r, i) => {
      const v = r === 0 ? 0 : 60 + Math.round((195 * r) / max);
      img.data.set([v, Math.round(v * 0.35), Math.round(v * 0.3), 255], i * 4);
    });
    ctx.putImageData(img, 0, 0);
    canvas.setAttribute("role", "img");
    const nonzero = regs.filter((r) => r > 0).length;
    canvas.setAttribute("aria-label", `${regs.length} registers, ${nonzero} set, highest ${max}`);
    const wrap = el("div");
    wrap.append(canvas, el("p", "rp-ins-sub", `${regs.length} registers, ${nonzero} non-zero, highest ${max}`));
    return wrap;
  }
}
