// The append-only file panel: what a redis-server with `appendonly yes` writes, shown as it
// grows. The server of the client tab shown keeps Redis 7.0's multi-part AOF in memory
// (src/memory_aof.rs): a manifest naming a base file (an RDB preamble, or the commands that
// rebuild the data with `aof-use-rdb-preamble no`) and an incremental file of the commands
// as Redis propagates them (SELECT, SET ... PXAT, MULTI/EXEC, DEL for expired keys). The
// panel shows the manifest and each file: the incremental file as its RESP lines (each ends
// with CRLF in the file) or one command a line; BGREWRITEAOF shows the compaction.
//
// It reads the worker's { op: "aof" } when a command ran or data changed, and once a second
// (another tab's command). Everything it shows is text (textContent), never HTML.

import { humanBytes } from "./terminal.js";

const POLL_MS = 1000;
// What the panel shows of each file (the worker sends at most this much of its commands).
const SHOW_BYTES = 64 * 1024;

function el(tag, className, text) {
  const e = document.createElement(tag);
  if (className) e.className = className;
  if (text !== undefined) e.textContent = String(text);
  return e;
}

/** "1,234 bytes" below a KB, else humanBytes' "1.21K". */
function size(n) {
  return n < 1024 ? `${n} byte${n === 1 ? "" : "s"}` : `${humanBytes(n)}B (${n.toLocaleString("en")} bytes)`;
}

export class AofPanel {
  constructor(shell, box) {
    this.shell = shell;
    this.box = box;
    this.mode = "resp";
    this.timer = null;
    this.unsubscribe = null;
    this.pending = false;
    this.seen = "";
    this.build();
  }

  build() {
    const b = this.box;
    b.replaceChildren();
    const head = el("div", "rp-ins-head");
    this.serverLabel = el("span", "rp-ins-sub", "");
    head.append(el("h2", "rp-ins-title", "Append-only file"), this.serverLabel);
    const tools = el("div", "rp-mon-tools");
    const button = (label, title, fn) => {
      const btn = el("button", "page-btn rp-mon-btn", label);
      btn.type = "button";
      btn.title = title;
      btn.addEventListener("click", fn);
      tools.append(btn);
      return btn;
    };
    this.toggleBtn = button("CONFIG SET appendonly yes", "Run it in the terminal: the server starts its append-only file from a rewrite of the data", () => {
      this.runInTerminal(`CONFIG SET appendonly ${this.enabled ? "no" : "yes"}`);
    });
    this.rewriteBtn = button("BGREWRITEAOF", "Run it in the terminal: the log is compacted into a new base file and an empty incremental file", () => this.runInTerminal("BGREWRITEAOF"));
    this.modeBtn = button("One command a line", "Show the incremental file as RESP, or as one command a line", () => {
      this.mode = this.mode === "resp" ? "commands" : "resp";
      this.seen = "";
      this.refresh();
    });
    this.status = el("p", "rp-aof-status", "");
    this.status.setAttribute("role", "status");
    this.body = el("div", "rp-aof-body");
    b.append(head, tools, this.status, this.body);
    this.showMode();
  }

  showMode() {
    this.modeBtn.textContent = this.mode === "resp" ? "One command a line" : "RESP as written";
    this.box.dataset.mode = this.mode;
  }

  /** Types a command into the tab shown and runs it, so the learner sees what was sent. */
  runInTerminal(line) {
    const screen = this.shell.current;
    if (!screen) return;
    this.shell.run(screen, line).then(() => this.schedule());
  }

  start() {
    if (this.timer) return;
    this.unsubscribe = this.shell.on((ev) => {
      if (ev.kind === "changed" || ev.kind === "run" || ev.kind === "select" || ev.kind === "servers") this.schedule();
    });
    this.timer = setInterval(() => this.refresh(), POLL_MS);
    this.seen = "";
    this.schedule();
  }

  stop() {
    clearInterval(this.timer);
    this.timer = null;
    this.unsubscribe?.();
    this.unsubscribe = null;
  }

  schedule() {
    if (this.pending) return;
    this.pending = true;
    requestAnimationFrame(() => {
      this.pending = false;
      this.refresh();
    });
  }

  async refresh() {
    if (!this.timer) return;
    const port = this.shell.port ?? 6379;
    let view;
    try {
      view = await this.shell.request("aof", { limit: SHOW_BYTES });
    } catch {
      return; // the server is restarting (a leader tab closed): the next poll reads again
    }
    if (!this.timer) return;
    // Drawn again only when something changed.
    const sig = JSON.stringify([port, this.mode, view && [view.enabled, view.manifest, view.rewrites, view.loadError, view.files.map((f) => f.size)]]);
    if (sig === this.seen) return;
    this.seen = sig;
    this.render(port, view);
    this.box.dataset.version = String(Number(this.box.dataset.version ?? 0) + 1);
  }

  render(port, view) {
    this.serverLabel.textContent = `127.0.0.1:${port}`;
    this.enabled = !!view?.enabled;
    this.toggleBtn.textContent = `CONFIG SET appendonly ${this.enabled ? "no" : "yes"}`;
    this.showMode();
    this.box.dataset.enabled = String(this.enabled);
    this.modeBtn.hidden = !view;
    const body = [];
    if (!view) {
      this.status.textContent = "appendonly is no: this server keeps no append-only file. Turn it on and every write is logged here as Redis appends it, in RESP.";
      this.body.replaceChildren();
      return;
    }
    const files = view.files;
    const total = files.reduce((n, f) => n + f.size, 0);
    this.status.textContent = view.enabled
      ? `appendonly yes: every write is appended to the incremental file. ${size(total)} in all (INFO persistence: aof_current_size).`
      : "appendonly no: nothing is appended; the files below are what it last wrote (BGREWRITEAOF still writes a base).";
    if (view.loadError) body.push(el("p", "rp-aof-error", `DEBUG LOADAOF failed: ${view.loadError}`));
    if (view.lastRewrite) {
      const r = view.lastRewrite;
      const from = r.before > 0 ? `${size(r.before)} of files` : "the data";
      body.push(el("p", "rp-aof-note", `Rewrite ${view.rewrites} (${r.reason}): ${from} became a base of ${size(r.after)}.`));
    }
    const dir = el("section", "rp-aof-file");
    dir.append(el("h3", "rp-mon-h", `${view.dir}/${view.manifestName}`));
    const manifest = el("pre", "rp-mon-out rp-aof-manifest", view.manifest);
    dir.append(manifest);
    body.push(dir);
    for (const f of files) body.push(this.renderFile(f, view));
    this.body.replaceChildren(...body);
    const incr = this.body.querySelector('[data-type="incr"] .rp-aof-text');
    if (incr) incr.scrollTop = incr.scrollHeight;
  }

  renderFile(f, view) {
    const part = el("section", "rp-aof-file");
    part.dataset.type = f.type;
    part.dataset.name = f.name;
    const what = f.type === "base" ? (f.rdb ? "base: RDB preamble" : "base: commands") : "incremental";
    part.append(el("h3", "rp-mon-h", `${view.dir}/${f.name} — ${what}, ${size(f.size)}`));
    if (f.rdb) {
      const libs = f.functions ? `, ${f.functions} function librar${f.functions === 1 ? "y" : "ies"}` : "";
      part.append(el("p", "rp-aof-summary", `A binary RDB snapshot of ${f.keys} key${f.keys === 1 ? "" : "s"}${libs}, loaded before the incremental file (aof-use-rdb-preamble yes; with no, the base is the commands that rebuild the data).`));
      return part;
    }
    if (f.entries.length === 0 && f.size === 0) {
      part.append(el("p", "rp-aof-summary", f.type === "incr" ? "Empty: the next write is appended here." : "Empty: there was no data to write."));
      return part;
    }
    if (f.omitted > 0 && f.entries.length === 0) {
      part.append(el("p", "rp-aof-note", `The ${f.type === "incr" ? "last" : "first"} command of this ${size(f.size)} file alone is larger than the ${size(SHOW_BYTES)} the panel shows; the file itself is whole.`));
      return part;
    }
    if (f.omitted > 0) {
      const where = f.type === "incr" ? `the last ${size(f.size - f.omitted)}` : `the first ${size(f.size - f.omitted)}`;
      part.append(el("p", "rp-aof-note", `Showing ${where} of ${size(f.size)}; the file itself is whole.`));
    }
    const pre = el("pre", "rp-mon-out rp-aof-text");
    for (const e of f.entries) {
      const cmd = el("div", "rp-aof-cmd");
      if (this.mode === "resp") {
        cmd.title = e.command;
        for (const line of e.resp) {
          const row = el("div", "rp-aof-line");
          row.append(el("span", "", line), el("span", "rp-aof-crlf", "\\r\\n"));
          cmd.append(row);
        }
      } else {
        cmd.textContent = e.command;
      }
      pre.append(cmd);
    }
    part.append(pre);
    return part;
  }
}
