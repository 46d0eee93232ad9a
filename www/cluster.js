// The cluster panel: which node of the page holds which of the 16,384 hash slots (a map of the
// slots and a line per node: role, slots, keys, epoch, the slots it is migrating or importing),
// and what changes as it happens (a slot range changing hands, a migration opening and
// closing, a node seen failing, a replica promoted), read from each cluster node's own CLUSTER
// NODES and CLUSTER INFO texts ({ op: "cluster" } on the worker, a few times a second while
// shown; no command runs on the servers for it).
//
// It also starts cluster nodes: "Add cluster node" (a server with cluster-enabled yes, to build
// a cluster by hand with CLUSTER ADDSLOTS, MEET and REPLICATE typed in its tabs), and "Create
// cluster" (N primaries with replicas, with the commands redis-cli --cluster create sends,
// shown as it sends them). Output is text (textContent) only.

const POLL_MS = 250;
const SLOTS = 16384;
const KEEP_EVENTS = 200;
const COLORS = ["#2f7ed8", "#d9534f", "#5cb85c", "#f0ad4e", "#8e5ea2", "#1aa3a3", "#c2185b", "#7f8c8d"];

function el(tag, className, text) {
  const e = document.createElement(tag);
  if (className) e.className = className;
  if (text !== undefined) e.textContent = String(text);
  return e;
}

function clock(ms) {
  const d = new Date(ms);
  const two = (n) => String(n).padStart(2, "0");
  return `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`;
}

/** One line of CLUSTER NODES as data: id, address, flags, primary, epoch, link, slot ranges
 * ([start, end]) and open slots ({ slot, dir: "migrating"|"importing", peer }). */
export function parseNodeLine(line) {
  const f = line.split(" ");
  if (f.length < 8) return null;
  const [id, addr, flags, master, , , epoch, link, ...rest] = f;
  const m = /^(.*):(\d+)@(\d+)/.exec(addr);
  const node = {
    id,
    ip: m ? m[1] : "",
    port: m ? Number(m[2]) : 0,
    flags: flags.split(","),
    master: master === "-" ? null : master,
    epoch: Number(epoch),
    link,
    slots: [],
    open: [],
  };
  for (const r of rest) {
    const o = /^\[(\d+)-([<>])-(\S+)\]$/.exec(r);
    if (o) {
      node.open.push({ slot: Number(o[1]), dir: o[2] === ">" ? "migrating" : "importing", peer: o[3] });
      continue;
    }
    const s = /^(\d+)(?:-(\d+))?$/.exec(r);
    if (s) node.slots.push([Number(s[1]), Number(s[2] ?? s[1])]);
  }
  return node;
}

/** A node's whole view: every node it knows, itself marked `myself`. */
export function parseNodes(text) {
  return text.split("\n").filter((l) => l.trim() !== "").map(parseNodeLine).filter(Boolean);
}

/** Ranges as text: "0-5460 10923-16383". */
export function rangesText(ranges) {
  return ranges.map(([a, b]) => (a === b ? `${a}` : `${a}-${b}`)).join(" ");
}

function slotCount(ranges) {
  return ranges.reduce((n, [a, b]) => n + b - a + 1, 0);
}

/** The cluster as the page's nodes report it: each live node's own line (role, slots, open
 * slots), how many others see it failing, and who owns each slot (a live primary's own claim;
 * else the owner its peers still record, such as a failed primary not yet replaced). */
export function summarize(views) {
  const nodes = [];
  const byId = new Map();
  for (const v of views) {
    const all = parseNodes(v.nodes ?? "");
    const me = all.find((n) => n.flags.includes("myself"));
    if (!me) continue;
    const state = /cluster_state:(\w+)/.exec(v.info ?? "")?.[1] ?? "?";
    const current = Number(/cluster_current_epoch:(\d+)/.exec(v.info ?? "")?.[1] ?? 0);
    const n = { ...me, port: v.port, address: v.address, keys: v.keys, state, current, known: all.length, all, seenFailing: [], seenFailed: [] };
    nodes.push(n);
    byId.set(n.id, n);
  }
  // How each node is seen by the others, and nodes only known from others' views (stopped).
  const ghosts = new Map();
  for (const n of nodes) {
    for (const o of n.all) {
      if (o.id === n.id) continue;
      const live = byId.get(o.id);
      const target = live ?? ghosts.get(o.id) ?? (ghosts.set(o.id, { ...o, address: `${o.ip || "?"}:${o.port}`, ghost: true, seenFailing: [], seenFailed: [], keys: null }), ghosts.get(o.id));
      if (o.flags.includes("fail?")) target.seenFailing.push(n.address);
      if (o.flags.includes("fail")) target.seenFailed.push(n.address);
      if (target.ghost && o.epoch > target.epoch) Object.assign(target, { flags: o.flags, master: o.master, epoch: o.epoch, slots: o.slots });
    }
  }
  const owner = new Array(SLOTS).fill(null);
  const claim = (node, ranges) => {
    for (const [a, b] of ranges) for (let s = a; s <= b && s < SLOTS; s++) owner[s] = node.id;
  };
  // Peers' records first, then each live primary's own claim over them.
  for (const g of ghosts.values()) claim(g, g.slots);
  for (const n of nodes) if (n.flags.includes("master")) claim(n, n.slots);
  const all = [...nodes, ...ghosts.values()];
  return { nodes, ghosts: [...ghosts.values()], owner, byId: new Map(all.map((n) => [n.id, n])) };
}

/** Slot runs of one owner: [start, end, owner id or null]. */
export function runs(owner) {
  const out = [];
  for (let s = 0; s < owner.length; s++) {
    const last = out[out.length - 1];
    if (last && last[2] === owner[s] && last[1] === s - 1) last[1] = s;
    else out.push([s, s, owner[s]]);
  }
  return out;
}

export class ClusterPanel {
  constructor(shell, box) {
    this.shell = shell;
    this.box = box;
    this.timer = null;
    this.prev = null;
    this.events = [];
    this.viewText = "";
    this.colors = new Map();
    this.build();
  }

  build() {
    const b = this.box;
    b.replaceChildren();
    const head = el("div", "rp-ins-head");
    head.append(el("h2", "rp-ins-title", "Cluster"), el("span", "rp-ins-sub", "hash slots and nodes"));

    const make = el("section", "rp-mon-part rp-cl-make");
    const tools = el("div", "rp-mon-tools");
    const num = (label, value, min, max, cls) => {
      const l = el("label", "rp-ins-sub");
      const i = document.createElement("input");
      Object.assign(i, { type: "number", value: String(value), min: String(min), max: String(max) });
      i.className = `rp-cl-num ${cls}`;
      l.append(`${label} `, i);
      return [l, i];
    };
    const [pl, primaries] = num("primaries", 3, 3, 5, "rp-cl-primaries");
    const [rl, replicas] = num("replicas each", 1, 0, 2, "rp-cl-replicas");
    this.primaries = primaries;
    this.replicas = replicas;
    this.createBtn = el("button", "page-btn rp-mon-btn rp-cl-create", "Create cluster");
    this.createBtn.type = "button";
    this.createBtn.title = "Start new cluster nodes (127.0.0.1:7000 …) and join them with the commands redis-cli --cluster create sends";
    this.createBtn.addEventListener("click", () => this.create());
    this.addBtn = el("button", "page-btn rp-mon-btn rp-cl-add", "Add cluster node");
    this.addBtn.type = "button";
    this.addBtn.title = "Start one server with cluster-enabled yes and open a client on it";
    this.addBtn.addEventListener("click", () => this.shell.addServerClicked({ cluster: true }));
    tools.append(this.createBtn, pl, rl, this.addBtn);
    this.hint = el("p", "rp-ins-sub rp-cl-hint",
      "Or by hand, as redis-cli --cluster create does: add cluster nodes, then in their tabs CLUSTER ADDSLOTSRANGE 0 5460 (and the other ranges on the others), CLUSTER MEET 127.0.0.1 7000, and CLUSTER REPLICATE <primary id> on the replicas. Tabs on cluster nodes follow MOVED and ASK as redis-cli -c does.");
    // What the one-click cluster sent and printed, as redis-cli --cluster create prints it:
    // open while it runs, folded once it is done.
    this.job = el("details", "rp-cl-jobbox");
    this.job.append(el("summary", "rp-ins-sub", "redis-cli --cluster create, step by step"));
    this.jobOut = el("pre", "rp-mon-out rp-cl-job");
    this.job.append(this.jobOut);
    this.job.hidden = true;
    make.append(tools, this.hint, this.job);

    const map = el("section", "rp-mon-part");
    this.bar = el("div", "rp-cl-bar");
    this.bar.setAttribute("role", "img");
    this.legend = el("ul", "rp-cl-legend");
    this.nodesEl = el("ul", "rp-cl-nodes");
    this.nodesEl.setAttribute("aria-live", "off");
    map.append(el("h3", "rp-mon-h", "Slots (0 … 16383)"), this.bar, this.legend, el("h3", "rp-mon-h", "Nodes"), this.nodesEl);

    const ev = el("section", "rp-mon-part");
    this.eventsOut = el("pre", "rp-mon-out rp-cl-events");
    this.eventsOut.setAttribute("aria-live", "off");
    ev.append(el("h3", "rp-mon-h", "What happened"), this.eventsOut);
    b.append(head, make, map, ev);
  }

  start() {
    if (this.timer) return;
    const poll = async () => {
      if (this.polling) return;
      this.polling = true;
      try {
        const view = await this.shell.server.request("cluster");
        if (this.timer) this.render(view);
      } catch {
        // the worker is restarting: the next poll reads again
      } finally {
        this.polling = false;
      }
    };
    this.timer = setInterval(poll, POLL_MS);
    this.poll = poll;
    poll();
  }

  stop() {
    clearInterval(this.timer);
    this.timer = null;
  }

  async create() {
    const primaries = Number(this.primaries.value);
    const replicas = Number(this.replicas.value);
    try {
      await this.shell.server.request("createCluster", { primaries, replicas });
      this.job.hidden = false;
      this.job.open = true;
      this.poll?.();
    } catch (e) {
      this.shell.notify(`Could not create a cluster: ${e.message}`, { kind: "error" });
    }
  }

  colorOf(id) {
    if (!this.colors.has(id)) this.colors.set(id, COLORS[this.colors.size % COLORS.length]);
    return this.colors.get(id);
  }

  render(view) {
    if (view.job) {
      this.job.hidden = false;
      const text = view.job.lines.join("\n");
      if (this.jobOut.textContent !== text) {
        this.jobOut.textContent = text;
        this.jobOut.scrollTop = this.jobOut.scrollHeight;
      }
      const state = view.job.done ? (view.job.error ? "failed" : "done") : "running";
      if (state !== this.box.dataset.job) {
        if (state === "running") this.job.open = true;
        else if (state === "done") this.job.open = false;
      }
      this.box.dataset.job = state;
    }
    const text = JSON.stringify([view.nodes, view.stopped]);
    if (text === this.viewText) return;
    this.viewText = text;
    const sum = summarize(view.nodes);
    sum.stopped = view.stopped ?? [];
    this.renderMap(sum);
    this.renderNodes(sum);
    if (this.prev) this.diff(this.prev, sum);
    this.prev = sum;
  }

  /** Who serves each slot run: a bar of 16,384 slots, and its ranges as text. */
  renderMap(sum) {
    const parts = [];
    const legend = [];
    for (const [a, b, id] of runs(sum.owner)) {
      const n = id ? sum.byId.get(id) : null;
      const seg = el("div", "rp-cl-seg");
      seg.style.left = `${(a / SLOTS) * 100}%`;
      seg.style.width = `${((b - a + 1) / SLOTS) * 100}%`;
      const who = n ? n.address : "no node";
      seg.title = `slots ${a}-${b}: ${who}`;
      if (n) {
        seg.style.background = this.colorOf(id);
        if (n.ghost || n.seenFailed.length) seg.classList.add("rp-cl-failed");
      } else {
        seg.classList.add("rp-cl-free");
      }
      parts.push(seg);
      const li = el("li", "rp-cl-range");
      const sw = el("span", "rp-cl-swatch");
      if (n) sw.style.background = this.colorOf(id);
      li.append(sw, el("span", "", `${a === b ? a : `${a}-${b}`}  ${who}${n?.ghost ? " (not running)" : ""}`));
      legend.push(li);
    }
    // Open slots (a migration under way) as marks on the bar.
    for (const n of sum.nodes) {
      for (const o of n.open) {
        if (o.dir !== "migrating") continue;
        const mark = el("div", "rp-cl-mark");
        mark.style.left = `${(o.slot / SLOTS) * 100}%`;
        mark.title = `slot ${o.slot} migrating from ${n.address} to ${sum.byId.get(o.peer)?.address ?? o.peer}`;
        parts.push(mark);
      }
    }
    this.bar.replaceChildren(...parts);
    this.bar.setAttribute("aria-label", legend.map((l) => l.textContent).join("; "));
    this.legend.replaceChildren(...legend);
    this.box.dataset.slots = runs(sum.owner).map(([a, b, id]) => `${a}-${b}:${id ? sum.byId.get(id)?.port : "-"}`).join(" ");
  }

  /** A line per node: its place, its slots, keys and epoch, its open slots, how others see it. */
  renderNodes(sum) {
    const rows = [];
    const ordered = [...sum.nodes].sort((a, b) => a.port - b.port);
    const addr = (id) => sum.byId.get(id)?.address ?? `${id.slice(0, 8)}…`;
    for (const n of [...ordered, ...sum.ghosts]) {
      const li = el("li", "rp-cl-node");
      const primary = n.flags.includes("master");
      li.dataset.port = String(n.port);
      li.dataset.role = primary ? "primary" : "replica";
      if (n.ghost) li.dataset.ghost = "true";
      const sw = el("span", "rp-cl-swatch");
      if (primary && slotCount(n.slots)) sw.style.background = this.colorOf(n.id);
      const flags = n.flags.filter((f) => f !== "myself").join(",");
      let line = `${n.address}  ${n.id.slice(0, 8)}…  ${primary ? "primary" : `replica of ${n.master ? addr(n.master) : "?"}`}`;
      line += n.ghost ? "  not running" : `  ${n.state === "ok" ? "ok" : `cluster_state:${n.state}`}`;
      const text = el("span", "rp-cl-line", line);
      li.append(sw, text);
      let more = primary ? `slots ${slotCount(n.slots) ? `${rangesText(n.slots)} (${slotCount(n.slots)})` : "none"}` : "";
      if (n.keys !== null) more += `${more ? " · " : ""}keys ${n.keys}`;
      more += `${more ? " · " : ""}config epoch ${n.epoch}`;
      if (!n.ghost) more += ` · current epoch ${n.current}`;
      const detail = el("div", "rp-cl-detail", more);
      if (!n.ghost) li.append(" ", this.serverButton("Stop", n.port, "stopServer", `Stop ${n.address} as a killed redis-server stops (its data and nodes.conf are kept): the others mark it failing, and a replica of a primary takes over`));
      else if (sum.stopped.includes(n.port)) li.append(" ", this.serverButton("Start", n.port, "startServer", `Start ${n.address} again from its stored data and nodes.conf`));
      li.append(detail);
      li.dataset.flags = flags;
      for (const o of n.open) {
        li.append(el("div", "rp-cl-open", o.dir === "migrating" ? `slot ${o.slot} migrating to ${addr(o.peer)}` : `slot ${o.slot} importing from ${addr(o.peer)}`));
      }
      if (n.seenFailed.length) li.append(el("div", "rp-cl-fail", `marked fail by ${n.seenFailed.join(", ")}`));
      else if (n.seenFailing.length) li.append(el("div", "rp-cl-fail", `failing to answer (fail?) as seen by ${n.seenFailing.join(", ")}`));
      if (!n.ghost && n.known < sum.nodes.length + sum.ghosts.length) li.append(el("div", "rp-cl-open", `knows ${n.known} node${n.known === 1 ? "" : "s"}`));
      rows.push(li);
    }
    for (const port of sum.stopped) {
      if ([...ordered, ...sum.ghosts].some((n) => n.port === port)) continue;
      const li = el("li", "rp-cl-node");
      li.dataset.port = String(port);
      li.dataset.ghost = "true";
      li.append(el("span", "rp-cl-swatch"), el("span", "rp-cl-line", `127.0.0.1:${port}  not running`), " ",
        this.serverButton("Start", port, "startServer", `Start 127.0.0.1:${port} again from its stored data and nodes.conf`));
      rows.push(li);
    }
    this.nodesEl.replaceChildren(...rows);
    this.hint.hidden = sum.nodes.length > 1 && sum.nodes.every((n) => n.state === "ok");
    this.box.dataset.nodes = ordered.map((n) => `${n.port}:${n.flags.includes("master") ? "primary" : "replica"}:${rangesText(n.slots) || "-"}`).join(" ");
  }

  /** A button that stops or starts a node. */
  serverButton(label, port, op, title) {
    const b = el("button", `page-btn rp-mon-btn rp-cl-${label.toLowerCase()}`, label);
    b.type = "button";
    b.title = title;
    b.dataset.port = String(port);
    b.addEventListener("click", async () => {
      b.disabled = true;
      try {
        const res = await this.shell.server.request(op, { port });
        if (res.status) this.shell.applyStatus(res.status);
        this.shell.setServers(res.servers, res.stopped);
        this.shell.notify(op === "stopServer"
          ? `Stopped 127.0.0.1:${port} (its data and nodes.conf are kept; Start brings it back). The other nodes mark it failing after cluster-node-timeout.`
          : `Started 127.0.0.1:${port} again from its stored data: it rejoins the cluster over the bus.`);
      } catch (e) {
        this.shell.notify(`Could not ${label.toLowerCase()} 127.0.0.1:${port}: ${e.message}`, { kind: "error" });
      } finally {
        b.disabled = false;
        this.poll?.();
      }
    });
    return b;
  }

  event(text) {
    this.events.push(`${clock(Date.now())} ${text}`);
    if (this.events.length > KEEP_EVENTS) this.events.splice(0, this.events.length - KEEP_EVENTS);
    this.eventsOut.textContent = this.events.join("\n");
    this.eventsOut.scrollTop = this.eventsOut.scrollHeight;
    this.box.dataset.events = String(this.events.length);
  }

  /** What changed between two looks: roles, slot owners, open slots, failure flags, states. */
  diff(a, b) {
    const name = (sum, id) => sum.byId.get(id)?.address ?? (id ? `${id.slice(0, 8)}…` : "no node");
    // cluster_state changes, one line per new state.
    const states = new Map();
    for (const n of b.nodes) {
      const o = a.byId.get(n.id);
      if (o && !o.ghost && o.state !== n.state) states.set(n.state, [...(states.get(n.state) ?? []), n.address]);
    }
    for (const [state, who] of states) this.event(`cluster_state:${state} on ${who.join(", ")}`);
    for (const n of b.nodes) {
      const o = a.byId.get(n.id);
      if (!o) {
        this.event(`${n.address} joined the view (${n.flags.includes("master") ? "primary" : "replica"})`);
        continue;
      }
      const was = o.flags.includes("master");
      const is = n.flags.includes("master");
      if (was !== is) this.event(is ? `${n.address} is now a primary (it was a replica of ${name(a, o.master)})` : `${n.address} is now a replica of ${name(b, n.master)}`);
      else if (!is && o.master !== n.master) this.event(`${n.address} now replicates ${name(b, n.master)}`);
      const key = (x) => `${x.dir} ${x.slot} ${x.peer}`;
      const before = new Set((o.open ?? []).map(key));
      const after = new Set(n.open.map(key));
      for (const x of n.open) if (!before.has(key(x))) this.event(`${n.address}: slot ${x.slot} ${x.dir} ${x.dir === "migrating" ? "to" : "from"} ${name(b, x.peer)}`);
      for (const x of o.open ?? []) if (!after.has(key(x))) this.event(`${n.address}: slot ${x.slot} no longer ${x.dir}`);
    }
    for (const n of [...b.nodes, ...b.ghosts]) {
      const o = a.byId.get(n.id);
      if (n.seenFailed.length && !(o?.seenFailed?.length)) this.event(`${n.address} marked fail (by ${n.seenFailed.join(", ")})`);
      else if (n.seenFailing.length && !(o?.seenFailing?.length) && !n.seenFailed.length) this.event(`${n.address} not answering pings: fail? (as ${n.seenFailing.join(", ")} see it)`);
      if (o && o.seenFailed?.length && !n.seenFailed.length && !n.ghost) this.event(`${n.address} is reachable again: fail cleared`);
    }
    for (const o of a.nodes) if (!b.byId.get(o.id) || b.byId.get(o.id).ghost) if (!a.ghosts.some((g) => g.id === o.id)) this.event(`${o.address} stopped`);
    // Slot ranges that changed owner, grouped by (from, to) and contiguous.
    let cur = null;
    const flush = () => {
      if (!cur) return;
      const [s, e, from, to] = cur;
      const range = s === e ? `slot ${s}` : `slots ${s}-${e}`;
      this.event(`${range}: ${from ? name(a, from) : "no node"} → ${to ? name(b, to) : "no node"}`);
      cur = null;
    };
    for (let s = 0; s < SLOTS; s++) {
      const from = a.owner[s];
      const to = b.owner[s];
      if (from === to) {
        flush();
        continue;
      }
      if (cur && cur[2] === from && cur[3] === to && cur[1] === s - 1) cur[1] = s;
      else {
        flush();
        cur = [s, s, from, to];
      }
    }
    flush();
  }
}
