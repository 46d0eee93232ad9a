// The replication panel: the servers of the page as primaries and replicas (each one's role,
// its primary or replicas, the link's state and the offsets, as ROLE and INFO replication
// report them), and the replication stream: what replicas say to their primary during the
// handshake and what the primary sends them (+FULLRESYNC or +CONTINUE, the snapshot, then the
// commands it propagates, once each, with the offset the stream reached). "Cut link" ends a
// replica's connection on its primary, as a network failure would: the replica reconnects and
// continues with a partial resync, which the stream shows.
//
// It reads the worker ({ op: "replication" }) a few times a second while shown, and never runs
// a command on the servers. Output is text (textContent) only.

const POLL_MS = 250;
const KEEP_LINES = 400;

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

/** One server's line of the topology, as ROLE would sum it up. */
export function serverLine(s) {
  if (s.link) {
    const l = s.link;
    let line = `${s.address}  replica of ${l.host}:${l.port}  link ${l.state}  offset ${s.offset}`;
    if (l.state === "connected") line += `  last io ${l.lastIo}s ago`;
    else if (l.downSince >= 0) line += `  down for ${l.downSince}s`;
    return line;
  }
  let line = `${s.address}  primary  offset ${s.offset}  replid ${s.replid.slice(0, 8)}…`;
  if (s.failover && s.failover !== "no-failover") line += `  ${s.failover}`;
  return line;
}

/** A replica as its primary lists it (INFO's slaveN line). */
export function replicaLine(r) {
  return `${r.ip}:${r.port}  ${r.state}  ack ${r.ack}  lag ${r.lag}s`;
}

export class Replication {
  constructor(shell, box) {
    this.shell = shell;
    this.box = box;
    this.timer = null;
    this.seq = 0;
    this.topoText = "";
    this.build();
  }

  build() {
    const b = this.box;
    b.replaceChildren();
    const head = el("div", "rp-ins-head");
    head.append(el("h2", "rp-ins-title", "Replication"), el("span", "rp-ins-sub", "topology and stream"));
    const topo = el("section", "rp-mon-part");
    this.topo = el("ul", "rp-repl-topo");
    this.topo.setAttribute("aria-live", "off");
    const hint = el("p", "rp-ins-sub rp-repl-hint",
      "Add a server (▾ beside +), then type REPLICAOF 127.0.0.1 6379 in its terminal to make it a replica of the first one.");
    this.hint = hint;
    topo.append(el("h3", "rp-mon-h", "Topology"), this.topo, hint);

    const stream = el("section", "rp-mon-part");
    const tools = el("div", "rp-mon-tools");
    const label = el("label", "rp-ins-sub");
    this.raw = document.createElement("input");
    this.raw.type = "checkbox";
    this.raw.className = "rp-repl-raw";
    this.raw.addEventListener("change", () => this.renderLog());
    label.append(this.raw, " show as RESP");
    const clear = el("button", "page-btn rp-mon-btn", "Clear");
    clear.type = "button";
    clear.addEventListener("click", () => {
      this.entries = [];
      this.renderLog();
    });
    tools.append(label, clear);
    this.out = el("pre", "rp-mon-out rp-repl-stream");
    this.out.setAttribute("aria-live", "off");
    stream.append(el("h3", "rp-mon-h", "Stream (primary → replicas, replica → primary)"), tools, this.out);
    this.entries = [];
    b.append(head, topo, stream);
  }

  start() {
    if (this.timer) return;
    const poll = async () => {
      if (this.polling) return;
      this.polling = true;
      try {
        const view = await this.shell.server.request("replication", { since: this.seq });
        if (!this.timer) return;
        if (view.seq < this.seq) {
          // Another worker (a reload, a new leader): its log starts over.
          this.entries = [];
        }
        this.seq = view.seq;
        this.renderTopology(view.servers);
        if (view.log.length > 0) {
          this.entries.push(...view.log);
          if (this.entries.length > KEEP_LINES) this.entries.splice(0, this.entries.length - KEEP_LINES);
          this.renderLog();
        }
      } catch {
        // the worker is restarting: the next poll reads again
      } finally {
        this.polling = false;
      }
    };
    this.timer = setInterval(poll, POLL_MS);
    poll();
  }

  stop() {
    clearInterval(this.timer);
    this.timer = null;
  }

  /** The servers as a tree: each primary with its replicas under it (a replica of a replica
   * under that one); a replica whose primary is not in the page stands alone. */
  renderTopology(servers) {
    const text = JSON.stringify(servers);
    if (text === this.topoText) return;
    this.topoText = text;
    const byAddress = new Map(servers.map((s) => [s.address, s]));
    const children = new Map();
    const roots = [];
    for (const s of servers) {
      const p = s.link ? byAddress.get(`${s.link.host === "localhost" ? "127.0.0.1" : s.link.host}:${s.link.port}`) : null;
      if (p && p !== s) {
        if (!children.has(p.address)) children.set(p.address, []);
        children.get(p.address).push(s);
      } else {
        roots.push(s);
      }
    }
    const seen = new Set();
    const item = (s, depth, parent = null) => {
      const li = el("li", "rp-repl-node");
      li.dataset.port = String(s.port);
      li.dataset.role = s.link ? "replica" : "primary";
      if (s.link) li.dataset.link = s.link.state;
      li.style.paddingLeft = `${depth * 18}px`;
      const line = el("span", `rp-repl-line ${s.link ? "rp-repl-replica" : "rp-repl-primary"}`, (depth ? "└ " : "") + serverLine(s));
      li.append(line);
      if (s.link && s.link.state === "connected") {
        const cut = el("button", "page-btn rp-mon-btn rp-repl-cut", "Cut link");
        cut.type = "button";
        cut.title = "End this replica's connection to its primary, as a network failure would: it reconnects and continues with a partial resync";
        cut.addEventListener("click", () => this.shell.server.request("cutLink", { port: s.port }).catch((e) => this.shell.notify(e.message, { kind: "error" })));
        li.append(" ", cut);
      }
      // What the primary knows of this replica (its INFO slaveN line).
      const mine = parent?.replicas.find((r) => `${r.ip}:${r.port}` === s.address);
      if (mine) li.append(el("div", "rp-repl-seen", `as its primary sees it: ${mine.state}, ack ${mine.ack}, lag ${mine.lag}s`));
      // Replicas that are no server of this page (or not yet known as one).
      const known = new Set((children.get(s.address) ?? []).map((c) => c.address));
      for (const r of s.replicas) {
        if (!known.has(`${r.ip}:${r.port}`)) li.append(el("div", "rp-repl-seen", `replica ${replicaLine(r)}`));
      }
      out.push(li);
      if (seen.has(s.address)) return;
      seen.add(s.address);
      for (const c of children.get(s.address) ?? []) item(c, depth + 1, s);
    };
    const out = [];
    for (const s of roots) item(s, 0);
    // A loop of replicas (each the replica of the next) has no root: shown flat.
    for (const s of servers) if (!seen.has(s.address)) item(s, 0);
    this.topo.replaceChildren(...out);
    this.hint.hidden = servers.some((s) => s.link || s.replicas.length > 0);
    this.box.dataset.topology = servers.map((s) => `${s.port}:${s.link ? `replica-of-${s.link.port}:${s.link.state}` : `primary:${s.replicas.length}`}`).join(" ");
  }

  renderLog() {
    const raw = this.raw.checked;
    const lines = this.entries.map((e) => {
      const when = clock(e.time);
      if (e.dir === "stream") {
        const at = e.offset === null || e.offset === undefined ? "" : ` @${e.offset}`;
        return `${when} ${e.primary} ⇒ replicas${at}  ${raw ? e.resp : e.text}`;
      }
      const arrow = e.dir === "up" ? `${e.replica} → ${e.primary}` : `${e.primary} → ${e.replica}`;
      return `${when} ${arrow}  ${raw && e.resp ? e.resp : e.text}`;
    });
    this.out.textContent = lines.join("\n");
    this.out.scrollTop = this.out.scrollHeight;
    this.box.dataset.streamLines = String(this.entries.length);
  }
}
