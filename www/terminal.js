// The terminal: a redis-cli look-alike over the engine, shared by the page (app.js) and the
// embeddable widget (embed.js).
//
// - Screen: one client's terminal (its prompt, its output, its input line and history).
// - Shell: the client tabs, the toolbar, notices and the status line around the screens; it
//   runs typed lines (redis-cli's own commands here, the rest on the server) and shows the
//   messages the server pushes for each client.
// - createPlayground(root, options): connects to the namespace's server (connection.js; the
//   engine and its storage live in a worker shared by every tab, see server.js) and builds a
//   Shell inside `root`.
//
// The page only renders. Hints, completion and help are stateless: a small engine of the page's
// own answers them at once, without asking the server for every keystroke.
//
// Everything shown comes from the engine as text and is inserted with textContent: a value
// such as `<img src=x onerror=alert(1)>` is displayed, never interpreted.

import { importMarks, loadEngine, mark } from "./engine.js";
import { Connection } from "./connection.js";
import { HistoryStore } from "./storage.js";

const RUNNING_MS = 200;        // a command still running after this is shown as running
const FIRST_PORT = 6379;        // the first server's port (storage.js FIRST_PORT)
const MAX_ENTRIES = 3000;      // output blocks kept per screen
const MAX_REPEAT = 10000;      // bound on redis-cli's "N command" repetition
const MAX_REDIRECTS = 16;      // MOVED/ASK followed in a row for one line (redis-cli has no bound)

const HELP_INTRO = `redis-playground: Redis 7.0 in your browser, behind a redis-cli 7.0.15 look-alike
To get help about Redis commands type:
      "help @<group>" to get a list of commands in <group>
      "help <command>" for help on <command>
      "help <tab>" to complete a command name

In this playground:
      "clear" or Ctrl+L clears the screen; Up/Down walk the command history
      Tab completes command names; "+" opens another client in its own tab
      The data is saved in this browser and shared by its tabs (SAVE saves now)
`;

function el(tag, className, text) {
  const e = document.createElement(tag);
  if (className) e.className = className;
  if (text !== undefined) e.textContent = text;
  return e;
}

function button(label, title, onClick, className = "rp-btn") {
  const b = el("button", className, label);
  b.type = "button";
  if (title) b.title = title;
  b.addEventListener("click", onClick);
  return b;
}

/** Bytes as Redis's INFO prints them (used_memory_human): 1023B, 1.50K, 2.25M ... */
export function humanBytes(n) {
  if (n < 1024) return `${n}B`;
  const units = ["K", "M", "G", "T"];
  let v = n;
  for (const u of units) {
    v /= 1024;
    if (v < 1024 || u === "T") return `${v.toFixed(2)}${u}`;
  }
  return `${n}B`;
}

function clockTime(ms) {
  const d = new Date(ms);
  return d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false });
}

/** The key of a client in Shell.byClient: client ids are per server. */
function clientKey(port, client) {
  return `${port}/${client}`;
}

/** A MOVED or ASK error among a command's outcomes, as redis-cli -c reads it: its index, the
 * slot, the host (empty in `MOVED 3999 :6381`, when the node's address is unknown), the port
 * and whether it is ASK. */
export function redirectOf(outs) {
  for (let i = 0; i < outs.length; i++) {
    const r = outs[i]?.reply;
    if (r?.type !== "error" || typeof r.value !== "string") continue;
    const m = /^(MOVED|ASK) (\d+) (.*):(\d+)$/.exec(r.value);
    if (m) return { index: i, slot: Number(m[2]), host: m[3], port: Number(m[4]), ask: m[1] === "ASK" };
  }
  return null;
}

/** Whether a redirection's host is this machine, where the page's servers listen. */
function isLocalHost(host) {
  return host === "" || host === "127.0.0.1" || host === "localhost" || host === "::1";
}

/** The prompt redis-cli shows for a server before it knows the client's db. */
function promptFor(port) {
  return `127.0.0.1:${port}> `;
}

/** One client's terminal, connected to one server (`port`). */
export class Screen {
  constructor(shell, label, history, port = FIRST_PORT) {
    this.shell = shell;
    this.port = port;                // the server this client belongs to
    this.client = null;              // the server's client id, once connected
    this.opened = Promise.resolve(); // settles when the client is connected
    this.prompt = promptFor(port);
    this.label = label;
    this.history = history;          // this screen's own input history (oldest first)
    this.histIndex = history.length; // history.length means "the line being typed"
    this.draft = "";
    this.completion = null;

    this.el = el("div", "rp-screen");
    this.el.setAttribute("role", "tabpanel");
    this.out = el("div", "rp-out");
    this.out.setAttribute("role", "log");
    this.out.setAttribute("aria-live", "polite");
    this.line = el("div", "rp-line");
    this.promptEl = el("span", "rp-prompt");
    const field = el("div", "rp-field");
    this.input = el("input", "rp-input");
    Object.assign(this.input, { type: "text", spellcheck: false, autocomplete: "off" });
    this.input.setAttribute("autocapitalize", "off");
    this.input.setAttribute("autocorrect", "off");
    this.input.setAttribute("aria-label", `Redis command for ${label}`);
    this.ghost = el("div", "rp-ghost");
    this.ghost.setAttribute("aria-hidden", "true");
    this.mirror = el("span", "rp-mirror");
    this.hint = el("span", "rp-hint");
    this.ghost.append(this.mirror, this.hint);
    field.append(this.input, this.ghost);
    // The line a Ctrl+R search found (the input then holds what is searched for).
    this.searchShow = el("div", "rp-search-match");
    this.searchShow.hidden = true;
    this.search = null;
    this.line.append(this.promptEl, field, this.searchShow);
    // Shown instead of the input line while the client waits in BLPOP and the like.
    this.wait = el("div", "rp-wait", "(waiting for a reply: push data from another client tab, or press Ctrl+C to stop waiting)");
    this.wait.hidden = true;
    this.blocked = false;
    // Shown while a command runs long on the server: the page itself stays usable.
    this.runningEl = el("div", "rp-running", "(running on the server…)");
    this.runningEl.hidden = true;
    this.runTimer = null;
    this.el.tabIndex = -1;
    this.el.addEventListener("keydown", (e) => {
      if (this.blocked && e.ctrlKey && (e.key === "c" || e.key === "C")) {
        e.preventDefault();
        this.shell.interrupt(this);
      }
    });
    this.el.append(this.out, this.runningEl, this.line, this.wait);

    // Whether the view follows new output: false while the user reads back up the screen.
    this.stick = true;
    this.el.addEventListener("scroll", () => {
      this.stick = this.el.scrollHeight - this.el.scrollTop - this.el.clientHeight < 8;
    });
    this.input.addEventListener("keydown", (e) => {
      // A line being typed wants hints; Enter on its own (a line pasted, or sent by a program)
      // does not, and its reply is not kept waiting by the engine's loading.
      if (e.key !== "Enter") this.shell.wantLocal();
      this.onKey(e);
    });
    this.input.addEventListener("input", () => {
      this.completion = null;
      if (this.search) this.searchFind(this.history.length - 1);
      this.updateHint();
    });
    this.input.addEventListener("paste", (e) => this.onPaste(e));
    this.input.addEventListener("scroll", () => this.updateHint());
    // A click anywhere focuses the input, unless it ended a text selection (to copy).
    this.el.addEventListener("mouseup", () => {
      const sel = (this.el.getRootNode().getSelection?.() ?? window.getSelection());
      if (!sel || sel.isCollapsed) this.focus();
    });
    this.refreshPrompt();
  }

  focus() {
    if (this.blocked) this.el.focus({ preventScroll: true });
    else this.input.focus({ preventScroll: true });
  }

  /** A blocked client has no prompt, as in redis-cli, until its reply arrives. */
  setBlocked(blocked) {
    if (blocked === this.blocked) return;
    const hadFocus = this.el.contains(this.el.getRootNode().activeElement);
    this.blocked = blocked;
    this.line.hidden = blocked;
    this.wait.hidden = !blocked;
    if (hadFocus) this.focus();
    this.scrollToEnd();
  }

  refreshPrompt() {
    if (this.search) return;
    this.promptEl.textContent = this.prompt;
  }

  setPrompt(prompt) {
    if (typeof prompt !== "string") return;
    this.prompt = prompt;
    this.refreshPrompt();
  }

  /** Marks a command in flight (data-running); one still running after RUNNING_MS shows so. */
  setRunning(on) {
    clearTimeout(this.runTimer);
    this.runTimer = null;
    if (on) {
      this.el.dataset.running = "true";
      this.runTimer = setTimeout(() => {
        this.runningEl.hidden = false;
        this.scrollToEnd();
      }, RUNNING_MS);
    } else {
      delete this.el.dataset.running;
      this.runningEl.hidden = true;
    }
  }

  scrollToEnd() {
    // A screen with nothing printed has nothing to scroll to: its height is not read then (a
    // read lays the page out at once, as the terminal is being built before its first reply).
    if (this.out.childElementCount > 0) this.el.scrollTop = this.el.scrollHeight;
    this.stick = true;
  }

  trim() {
    while (this.out.childElementCount > MAX_ENTRIES) this.out.firstElementChild.remove();
  }

  /** The prompt and the line as typed, like the line redis-cli leaves on screen. */
  echo(line, suffix = "") {
    const row = el("div", "rp-echo");
    row.append(el("span", "rp-prompt", this.promptEl.textContent), el("span", "rp-cmd", line + suffix));
    this.out.append(row);
    this.trim();
    this.scrollToEnd();
  }

  /** Prints a block of text exactly as given (a reply's redis-cli rendering). */
  print(text, className = "") {
    if (text === "") return;
    const pre = el("pre", `rp-reply ${className}`.trim(), text);
    this.out.append(pre);
    this.trim();
    this.scrollToEnd();
    return pre;
  }

  /** Prints an engine outcome `{ text, reply }`. */
  printOutcome(out) {
    this.printOutcomes([out]);
  }

  /** Prints outcomes in one go: a repeated command's thousand replies cost one layout. */
  printOutcomes(outs) {
    if (outs.length === 0) return;
    const frag = document.createDocumentFragment();
    for (const out of outs.slice(-MAX_ENTRIES)) {
      if (out.text === "") continue;
      const pre = el("pre", out.reply?.type === "error" ? "rp-reply rp-error" : "rp-reply", out.text);
      if (out.reply) pre.dataset.type = out.reply.type;
      frag.append(pre);
    }
    this.out.append(frag);
    this.trim();
    this.scrollToEnd();
    this.shell.markFirstReply();
  }

  /** A line from the page itself (not Redis output), styled apart. */
  note(text) {
    this.print(text, "rp-note");
  }

  clear() {
    this.out.replaceChildren();
  }

  remember(line) {
    if (HistoryStore.keeps(line) && this.history[this.history.length - 1] !== line) this.history.push(line);
    this.histIndex = this.history.length;
    this.draft = "";
  }

  setInput(value) {
    this.input.value = value;
    const end = value.length;
    this.input.setSelectionRange(end, end);
    this.updateHint();
  }

  updateHint() {
    const v = this.input.value;
    let h = "";
    if (v.trim() !== "") {
      try {
        h = this.shell.local?.hints(v) ?? "";
      } catch {
        h = "";
      }
    }
    this.mirror.textContent = v;
    this.hint.textContent = h && !v.endsWith(" ") ? ` ${h}` : h;
    // The overlay cannot follow a scrolled input: the hint is left out then.
    this.ghost.hidden = h === "" || this.input.scrollWidth > this.input.clientWidth || this.input.scrollLeft > 0;
  }

  /** The prompt's db ("127.0.0.1:6379[2]> " is db 2). */
  get db() {
    const m = /\[(\d+)\]/.exec(this.prompt);
    return m ? Number(m[1]) : 0;
  }

  onKey(e) {
    if (this.search) {
      this.searchKey(e);
      return;
    }
    for (const fn of this.shell.keyHandlers) {
      if (fn(e, this)) {
        e.preventDefault();
        return;
      }
    }
    if (e.key !== "Tab" && e.key !== "Shift") {
      if (e.key === "Escape" && this.completion) {
        this.setInput(this.completion.original);
      }
      if (e.key !== "Escape" || this.completion) this.completion = null;
    }
    const ctrl = e.ctrlKey && !e.altKey && !e.metaKey;
    if (e.key === "Enter") {
      e.preventDefault();
      const line = this.input.value;
      this.setInput("");
      this.shell.submit(this, line);
    } else if (e.key === "ArrowUp" || (ctrl && e.key === "p")) {
      e.preventDefault();
      this.walkHistory(-1);
    } else if (e.key === "ArrowDown" || (ctrl && e.key === "n")) {
      e.preventDefault();
      this.walkHistory(1);
    } else if (e.key === "Tab" && !e.altKey && !e.ctrlKey && !e.metaKey) {
      e.preventDefault();
      this.complete(e.shiftKey ? -1 : 1);
    } else if (ctrl && (e.key === "r" || e.key === "R")) {
      e.preventDefault();
      this.startSearch();
    } else if (ctrl && (e.key === "l" || e.key === "L")) {
      e.preventDefault();
      this.clear();
    } else if (ctrl && (e.key === "c" || e.key === "C")) {
      // Ctrl+C copies when something is selected; otherwise it abandons the line.
      const sel = this.el.getRootNode().getSelection?.() ?? window.getSelection();
      const inputSel = this.input.selectionStart !== this.input.selectionEnd;
      if ((!sel || sel.isCollapsed) && !inputSel) {
        e.preventDefault();
        this.echo(this.input.value, "^C");
        this.setInput("");
        this.histIndex = this.history.length;
      }
    } else if (ctrl && (e.key === "u" || e.key === "U")) {
      e.preventDefault();
      this.setInput(this.input.value.slice(this.input.selectionStart ?? 0));
      this.input.setSelectionRange(0, 0);
    }
  }

  // ---- Ctrl+R: reverse search of the history, as a readline shell has it ----------------------
  // The prompt becomes (reverse-i-search)`query': and the input holds the query; the newest
  // history line containing it is shown. Ctrl+R again finds an older one, Enter runs the match,
  // Escape or Ctrl+G gives the line back as it was, an arrow or Tab keeps the match to edit.

  startSearch() {
    this.search = { original: this.input.value, at: -1, match: "" };
    this.setInput("");
    this.searchFind(this.history.length - 1);
  }

  searchFind(from) {
    const s = this.search;
    const q = this.input.value;
    let at = -1;
    for (let i = Math.min(from, this.history.length - 1); i >= 0; i--) {
      if (q === "" || this.history[i].includes(q)) {
        at = i;
        break;
      }
    }
    if (at >= 0 || q === "") {
      s.at = at;
      s.match = at >= 0 && q !== "" ? this.history[at] : "";
    }
    s.failed = at < 0 && q !== "";
    this.promptEl.textContent = `(${s.failed ? "failed " : ""}reverse-i-search)\`${q}': `;
    this.hint.textContent = "";
    this.searchShow.textContent = s.match;
    this.searchShow.hidden = s.match === "";
    this.el.dataset.search = "true";
  }

  endSearch(value) {
    this.search = null;
    this.searchShow.hidden = true;
    delete this.el.dataset.search;
    this.refreshPrompt();
    this.setInput(value);
    this.histIndex = this.history.length;
  }

  searchKey(e) {
    const s = this.search;
    const ctrl = e.ctrlKey && !e.altKey && !e.metaKey;
    if (ctrl && (e.key === "r" || e.key === "R")) {
      e.preventDefault();
      if (s.at > 0) this.searchFind(s.at - 1);
    } else if (e.key === "Enter") {
      e.preventDefault();
      const line = s.match || this.input.value;
      this.endSearch("");
      this.shell.submit(this, line);
    } else if (e.key === "Escape" || (ctrl && (e.key === "g" || e.key === "G"))) {
      e.preventDefault();
      this.endSearch(s.original);
    } else if (["ArrowLeft", "ArrowRight", "ArrowUp", "ArrowDown", "Tab", "Home", "End"].includes(e.key)) {
      e.preventDefault();
      this.endSearch(s.match || this.input.value);
    }
  }

  walkHistory(step) {
    if (this.history.length === 0) return;
    if (this.histIndex === this.history.length) this.draft = this.input.value;
    const next = Math.min(this.history.length, Math.max(0, this.histIndex + step));
    if (next === this.histIndex) return;
    this.histIndex = next;
    this.setInput(next === this.history.length ? this.draft : this.history[next]);
  }

  /** Tab: cycles through the command names that complete the word being typed (the command,
   * or the argument of HELP), in the case it was typed in, then back to what was typed. */
  complete(step) {
    if (!this.completion) {
      const v = this.input.value;
      const m = /^(\s*)(\S*)$/.exec(v) ?? /^(\s*(?:help|\?)\s+)(\S*)$/i.exec(v);
      if (!m) return;
      const [, before, word] = m;
      let names = [];
      try {
        names = this.shell.local?.complete(word) ?? [];
      } catch {
        names = [];
      }
      if (names.length === 0) return;
      const lower = /^[a-z]/.test(word) || (word === "" && /help|\?/.test(before));
      if (lower) names = names.map((n) => n.toLowerCase());
      this.completion = { original: v, before, names, i: -1 };
    }
    const c = this.completion;
    const n = c.names.length + 1; // the last stop is what was typed
    c.i = (((c.i + step) % n) + n) % n;
    this.setInput(c.i === c.names.length ? c.original : c.before + c.names[c.i]);
  }

  /** Pasting several lines runs each complete line, as a terminal would. */
  onPaste(e) {
    const text = e.clipboardData?.getData("text/plain") ?? "";
    if (!/[\r\n]/.test(text)) return;
    e.preventDefault();
    const start = this.input.selectionStart ?? this.input.value.length;
    const end = this.input.selectionEnd ?? start;
    const whole = this.input.value.slice(0, start) + text + this.input.value.slice(end);
    const lines = whole.split(/\r\n|\r|\n/);
    const rest = lines.pop();
    this.setInput("");
    for (const line of lines) this.shell.submit(this, line);
    this.setInput(rest);
  }
}

/** The client tabs, the toolbar, notices and the status line around the screens. */
export class Shell {
  /**
   * @param {HTMLElement|ShadowRoot} root where to build
   * @param {object} o  { server: Connection, local: () => promise of a Playground (hints,
   *                      completion, help), called once they are first wanted,
   *                      history: HistoryStore, actions: ["save","reset","export","import"],
   *                      onReset: async () => {}, servers: [{ port, address }] (the worker's
   *                      servers), serverMenu: show the menu that adds and removes servers }
   */
  constructor(root, o) {
    this.server = o.server;
    this.local = null;
    this.loadLocal = o.local;
    this.localLoading = null;
    this.historyStore = o.history;
    this.onReset = o.onReset ?? (async () => {});
    this.screens = [];
    this.byClient = new Map();   // "port/client id" → Screen
    this.current = null;
    this.queue = Promise.resolve();
    this.firstReply = false;
    // Resolves once the terminal has shown its first reply, or sat idle with no line running
    // since it was ready (settleWhenIdle): what the first reply does not need (the page's own
    // engine, the page's panels) waits for it instead of sharing the machine with it.
    this.settled = new Promise((resolve) => { this.settle = resolve; });
    this.resetArmed = null;
    this.servers = o.servers ?? [{ port: FIRST_PORT, address: `127.0.0.1:${FIRST_PORT}` }];
    this.states = new Map();     // port → that server's last status
    this.listeners = new Set();  // fn(event): { kind: "run", screen, line, outs } | push messages
    this.keyHandlers = [];       // fn(keydown, screen) → true when it handled the key
    this.session = [];           // { client: tab number, port, line } typed in this page, in order (Share, .redis)

    this.el = el("div", "rp");
    const bar = el("div", "rp-bar");
    this.tabs = el("div", "rp-tabs");
    this.tabs.setAttribute("role", "tablist");
    this.newTab = button("+", "Open another client (a new connection) to this tab's server, in its own tab", () => {
      this.addClient(this.port).focus();
    }, "rp-tab rp-new");
    this.newTab.setAttribute("aria-label", "New client");
    this.tabs.append(this.newTab);
    if (o.serverMenu) this.buildServerMenu();
    const actions = el("div", "rp-actions");
    const want = new Set(o.actions ?? ["save", "reset", "export", "import"]);
    if (want.has("save")) actions.append(button("Save", "Store a snapshot in this browser now", () => this.saveClicked()));
    if (want.has("export")) actions.append(button("Export", "Download the data as a Redis .rdb file", () => this.exportClicked()));
    if (want.has("import")) {
      this.fileInput = el("input", "rp-file");
      Object.assign(this.fileInput, { type: "file", accept: ".rdb,application/octet-stream", hidden: true });
      this.fileInput.addEventListener("change", () => this.importChosen());
      actions.append(button("Import", "Load a Redis .rdb file (replaces the data)", () => this.fileInput.click()), this.fileInput);
    }
    if (want.has("reset")) {
      this.resetBtn = button("Reset", "Delete every key and the stored snapshot", () => this.resetClicked());
      actions.append(this.resetBtn);
    }
    bar.append(this.tabs, actions);
    this.bar = bar;
    this.notice = el("div", "rp-notice");
    this.notice.setAttribute("role", "status");
    this.notice.hidden = true;
    this.screensEl = el("div", "rp-screens");
    this.status = el("div", "rp-status");
    this.status.setAttribute("aria-live", "off");
    // The server of the tab shown: what the keys, memory and saves beside it are about.
    this.statusServer = el("span", "rp-status-server");
    this.statusKeys = el("span", "rp-status-keys");
    this.statusMem = el("span", "rp-status-mem");
    this.statusSave = el("span", "rp-status-save");
    this.statusShared = el("span", "rp-status-shared");
    this.statusRole = el("span", "rp-status-role");
    this.status.append(this.statusServer, this.statusRole, this.statusKeys, this.statusMem, this.statusSave, this.statusShared);
    this.el.append(bar, this.notice, this.screensEl, this.status);
    if (this.menu) this.el.append(this.menu);
    root.append(this.el);
    // A notice appearing, or a resized window, must not push the prompt out of sight.
    this.resizer = new ResizeObserver(() => {
      if (this.current?.stick) this.current.scrollToEnd();
    });
    this.resizer.observe(this.screensEl);
  }

  // ---- clients and tabs -------------------------------------------------------------------

  /** The port of the server the shown tab belongs to. */
  get port() {
    return this.current?.port ?? FIRST_PORT;
  }

  /** Opens a client tab at once, on the server at `port` (the first by default); its
   * connection follows (lines typed meanwhile wait for it). */
  addClient(port = FIRST_PORT, opened = null) {
    const n = this.screens.length === 0 ? 1 : Math.max(...this.screens.map((s) => s.number)) + 1;
    const screen = new Screen(this, `client ${n}`, this.historyStore.load(), port);
    screen.number = n;
    const tab = el("div", "rp-tab");
    tab.setAttribute("role", "tab");
    tab.tabIndex = 0;
    tab.dataset.port = String(port);
    const label = el("span", "rp-tab-label", screen.label);
    // Which server the tab's client is on, shown once there are several servers.
    const where = el("span", "rp-tab-port", `:${port}`);
    where.title = `a client of 127.0.0.1:${port}`;
    label.append(where);
    screen.where = where;
    const close = button("×", `Close ${screen.label} (disconnects it)`, (e) => {
      e.stopPropagation();
      this.closeClient(screen);
    }, "rp-tab-close");
    close.setAttribute("aria-label", `Close ${screen.label}`);
    tab.append(label, close);
    tab.addEventListener("click", () => {
      this.select(screen);
      screen.focus();
    });
    tab.addEventListener("keydown", (e) => {
      if (e.key === "Enter" || e.key === " ") {
        e.preventDefault();
        this.select(screen);
        screen.focus();
      }
    });
    screen.tab = tab;
    this.tabs.insertBefore(tab, this.newTab);
    this.screensEl.append(screen.el);
    this.screens.push(screen);
    this.connectScreen(screen, opened?.port === port ? opened : null);
    this.select(screen);
    this.updateTabs();
    return screen;
  }

  /** Gives the screen a new client on its server (`opened`: one the server already opened for
   * it, { client, prompt }). */
  connectScreen(screen, opened = null) {
    const port = screen.port;
    const open = opened ? Promise.resolve(opened) : this.server.request("open", { port });
    screen.opened = open.then(({ client, prompt }) => {
      if (!this.screens.includes(screen)) {
        this.server.request("close", { port, client }).catch(() => {});
        return;
      }
      mark("rp:client-open");
      screen.client = client;
      this.byClient.set(clientKey(port, client), screen);
      screen.setPrompt(prompt);
    });
    screen.opened.catch((e) => screen.note(`(could not connect: ${e.message})`));
  }

  /** redis-cli -c following a redirection: the tab's connection closes and a new one opens to
   * the node at `port`, whose prompt the tab then shows. Resolves once it is connected. */
  moveScreen(screen, port) {
    const old = screen.client;
    this.byClient.delete(clientKey(screen.port, old));
    if (old !== null) this.server.request("close", { port: screen.port, client: old }).catch(() => {});
    screen.client = null;
    screen.port = port;
    screen.tab.dataset.port = String(port);
    screen.where.textContent = `:${port}`;
    screen.where.title = `a client of 127.0.0.1:${port}`;
    screen.setPrompt(promptFor(port));
    this.connectScreen(screen);
    if (this.current === screen) {
      this.el.dataset.port = String(port);
      this.updateStatus();
      this.emit({ kind: "select", screen });
    }
    this.updateTabs();
    return screen.opened;
  }

  /** Whether the server at `port` is a cluster node: its tabs follow redirections. */
  isCluster(port) {
    return this.servers.some((s) => s.port === port && s.cluster);
  }

  select(screen) {
    this.current = screen;
    for (const s of this.screens) {
      const on = s === screen;
      s.el.hidden = !on;
      s.tab.classList.toggle("rp-active", on);
      s.tab.setAttribute("aria-selected", String(on));
    }
    screen.refreshPrompt();
    screen.scrollToEnd();
    this.updateStatus();
    this.el.dataset.port = String(screen.port);
    this.emit({ kind: "select", screen });
  }

  updateTabs() {
    const single = this.screens.length === 1;
    const several = this.servers.length > 1;
    for (const s of this.screens) {
      s.tab.querySelector(".rp-tab-close").hidden = single;
      s.tab.querySelector(".rp-tab-port").hidden = !several;
    }
  }

  closeClient(screen) {
    const old = screen.client;
    screen.client = null;
    this.byClient.delete(clientKey(screen.port, old));
    if (old !== null) this.server.request("close", { port: screen.port, client: old }).catch(() => {});
    if (this.screens.length === 1) {
      // The last tab stays: like restarting redis-cli, a fresh connection takes its place.
      screen.setBlocked(false);
      this.connectScreen(screen);
      screen.note("(connection closed; a new client is connected)");
      return;
    }
    this.removeScreen(screen);
    this.current.focus();
  }

  /** Takes a tab off the page (its client is already closed). */
  removeScreen(screen) {
    const i = this.screens.indexOf(screen);
    if (i < 0) return;
    this.screens.splice(i, 1);
    screen.tab.remove();
    screen.el.remove();
    if (this.current === screen) this.select(this.screens[Math.min(i, this.screens.length - 1)]);
    this.updateTabs();
  }

  // ---- servers -------------------------------------------------------------------------------

  /** The worker's servers changed (here or in another tab): the tabs of a server that is gone
   * close (its clients are gone with it), and the menu and the tab labels follow. */
  setServers(servers, stopped = []) {
    if (!Array.isArray(servers) || servers.length === 0) return;
    this.servers = servers.map(({ port, address, cluster }) => ({ port, address, cluster: !!cluster }));
    const ports = new Set(this.servers.map((s) => s.port));
    for (const port of [...this.states.keys()]) if (!ports.has(port)) this.states.delete(port);
    const gone = this.screens.filter((s) => !ports.has(s.port));
    if (gone.length > 0) {
      const names = [...new Set(gone.map((s) => `127.0.0.1:${s.port}`))].join(", ");
      const all = gone.every((s) => Array.isArray(stopped) && stopped.includes(s.port));
      this.notify(all
        ? `${names} was stopped (in this tab or another): its client tabs here closed, as redis-cli loses its connection.`
        : `${names} was removed (in this tab or another): its client tabs here closed.`);
      const hadFocus = this.el.contains(this.el.getRootNode().activeElement);
      // The last tab never goes: a client on the first server takes its place.
      if (gone.length === this.screens.length) this.addClient(FIRST_PORT);
      for (const s of gone) {
        this.byClient.delete(clientKey(s.port, s.client));
        s.client = null;
        this.removeScreen(s);
      }
      if (hadFocus) this.current.focus();
    }
    this.updateTabs();
    this.renderMenu();
    this.updateStatus();
    this.emit({ kind: "servers", servers: this.servers });
  }

  /** Starts the next server (127.0.0.1:6380, 6381, ...), empty; resolves with its port. */
  async addServer({ cluster = false } = {}) {
    const res = await this.server.request("addServer", { cluster });
    this.applyStatus(res.status);
    this.setServers(res.servers);
    return res.port;
  }

  /** Stops a server (never the first) and deletes its data, here and in storage. */
  async removeServer(port) {
    const res = await this.server.request("removeServer", { port });
    this.setServers(res.servers);
  }

  /** The ▾ beside "+": a client on any server, adding a server, removing one. */
  buildServerMenu() {
    this.menuBtn = button("▾", "Servers: open a client on any server, add or remove a server", () => this.toggleMenu(), "rp-servers");
    this.menuBtn.setAttribute("aria-label", "Servers");
    this.menuBtn.setAttribute("aria-haspopup", "menu");
    this.menuBtn.setAttribute("aria-expanded", "false");
    this.tabs.append(this.menuBtn);
    this.menu = el("div", "rp-menu");
    this.menu.setAttribute("role", "menu");
    this.menu.setAttribute("aria-label", "Servers");
    this.menu.hidden = true;
    this.menu.addEventListener("keydown", (e) => {
      const items = [...this.menu.querySelectorAll("[role=menuitem]:not([disabled])")];
      const at = items.indexOf(e.target);
      if (e.key === "Escape" || e.key === "Tab") {
        if (e.key === "Escape") e.preventDefault();
        this.toggleMenu(false);
        this.menuBtn.focus();
      } else if (e.key === "ArrowDown" || e.key === "ArrowUp") {
        e.preventDefault();
        items[(at + (e.key === "ArrowDown" ? 1 : -1) + items.length) % items.length]?.focus();
      } else if (e.key === "Home" || e.key === "End") {
        e.preventDefault();
        items[e.key === "Home" ? 0 : items.length - 1]?.focus();
      }
    });
    this.menuBtn.addEventListener("keydown", (e) => {
      if (e.key === "ArrowDown") {
        e.preventDefault();
        this.toggleMenu(true);
      }
    });
    // A press anywhere else closes it.
    document.addEventListener("pointerdown", (e) => {
      if (this.menu.hidden) return;
      const path = e.composedPath();
      if (!path.includes(this.menu) && !path.includes(this.menuBtn)) this.toggleMenu(false);
    });
    this.renderMenu();
  }

  toggleMenu(open = this.menu.hidden) {
    this.menu.hidden = !open;
    this.menuBtn.setAttribute("aria-expanded", String(open));
    if (open) {
      this.renderMenu();
      this.menu.style.left = `${Math.max(0, this.menuBtn.offsetLeft - this.tabs.scrollLeft)}px`;
      this.menu.style.top = `${this.bar.offsetTop + this.bar.offsetHeight}px`;
      this.menu.querySelector("[role=menuitem]")?.focus();
    }
  }

  renderMenu() {
    if (!this.menu) return;
    const item = (text, title, fn, className = "") => {
      const b = button(text, title, () => {
        this.toggleMenu(false);
        fn();
      }, `rp-menu-item ${className}`.trim());
      b.setAttribute("role", "menuitem");
      b.tabIndex = -1;
      return b;
    };
    const sep = () => {
      const hr = el("div", "rp-menu-sep");
      hr.setAttribute("role", "separator");
      return hr;
    };
    const items = [];
    for (const { port, address } of this.servers) {
      const b = item(`New client on ${address}`, `Open a client of ${address} in its own tab`, () => this.addClient(port).focus(), "rp-menu-client");
      b.dataset.port = String(port);
      items.push(b);
    }
    items.push(sep());
    const next = Math.max(...this.servers.map((s) => s.port)) + 1;
    const add = item(`Add server 127.0.0.1:${next}`, "Start another Redis server in this page, with its own data, and open a client on it", () => this.addServerClicked(), "rp-menu-add");
    add.disabled = this.servers.length >= 16;
    items.push(add);
    for (const { port, address } of this.servers.slice(1)) {
      const b = item(`Remove ${address}…`, `Stop ${address} and delete its data`, () => this.removeServerClicked(port), "rp-menu-remove");
      b.dataset.port = String(port);
      items.push(b);
    }
    this.menu.replaceChildren(...items);
  }

  async addServerClicked({ cluster = false } = {}) {
    try {
      const port = await this.addServer({ cluster });
      this.addClient(port).focus();
      this.notify(cluster
        ? `Started the cluster node 127.0.0.1:${port} (cluster-enabled yes, bus port ${port + 10000}), empty, and opened a client on it: it follows redirections as redis-cli -c does.`
        : `Started the server 127.0.0.1:${port}, empty, and opened a client on it. Its data is stored in this browser apart from the other servers'.`);
    } catch (e) {
      this.notify(`Could not add a server: ${e.message}`, { kind: "error" });
    }
  }

  /** Removing a server deletes its data: it is asked first. */
  removeServerClicked(port) {
    const address = `127.0.0.1:${port}`;
    const tabs = this.screens.filter((s) => s.port === port).length;
    this.notify(
      `Remove the server ${address}? Its data and its snapshot stored in this browser are deleted` +
        (tabs > 0 ? `, and its ${tabs === 1 ? "client tab closes" : `${tabs} client tabs close`}.` : "."),
      {
        kind: "error",
        sticky: true,
        actions: [
          ["Remove", async () => {
            this.notice.hidden = true;
            try {
              await this.removeServer(port);
              this.notify(`Removed ${address} and deleted its data.`);
            } catch (e) {
              this.notify(`Could not remove ${address}: ${e.message}`, { kind: "error" });
            }
          }],
          ["Keep it", () => {
            this.notice.hidden = true;
            this.current.focus();
          }],
        ],
      },
    );
    this.notice.querySelector("button")?.focus();
  }

  /** The server changed (the tab that ran it closed, another tab took over with the last saved
   * data; or it crashed and started again from the stored data): every screen gets a new
   * client, and says so. */
  serverChanged(welcome) {
    const crashed = welcome.crash != null && welcome.crash.at !== this.crashSeen;
    if (crashed) this.crashSeen = welcome.crash.at;
    const why = crashed
      ? "(the server crashed and started again with the data stored before the crash: this client reconnected)"
      : "(the tab that ran the server was closed: this client reconnected to the server another tab now runs, which loaded the last saved data)";
    this.byClient.clear();
    for (const st of welcome.servers ?? []) this.applyStatus(st.status);
    this.setServers(welcome.servers ?? this.servers);
    for (const s of this.screens) {
      s.client = null;
      s.setBlocked(false);
      this.connectScreen(s);
      s.note(why);
    }
    this.el.dataset.server = welcome.server;
    this.applyStatus(welcome.status);
  }

  // ---- running lines -----------------------------------------------------------------------

  /** Queues a typed line: lines run one after another, each once the previous one answered. */
  submit(screen, line, { record = true } = {}) {
    if (record) {
      screen.remember(line);
      this.historyStore.add(line);
    }
    // data-busy marks lines still running (a SAVE waits for storage), for tests and styles.
    this.pending = (this.pending ?? 0) + 1;
    this.el.dataset.busy = "true";
    const p = this.queue.then(() => this.run(screen, line)).finally(() => {
      if (--this.pending === 0) delete this.el.dataset.busy;
    });
    this.queue = p.catch(() => {});
    return p;
  }

  /** Calls `fn(event)` for every line run and every message pushed; returns an unsubscriber. */
  on(fn) {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  emit(event) {
    for (const fn of this.listeners) {
      try {
        fn(event);
      } catch (e) {
        console.warn("redis-playground:", e);
      }
    }
  }

  /** Read commands on this page's inspection client: resolves with their replies. */
  query(db, cmds) {
    return this.server.request("query", { port: this.port, db, cmds });
  }

  /** A request for the server of the tab shown (the inspector's key list). */
  request(op, args = {}) {
    return this.server.request(op, { port: this.port, ...args });
  }

  async run(screen, line) {
    if (!this.screens.includes(screen)) return;
    screen.echo(line);
    try {
      await screen.opened;
      await this.dispatch(screen, line);
    } catch (e) {
      if (e?.code === "LOST" || e?.code === "NOCLIENT") {
        // As redis-cli says when its server goes away: the command may or may not have run.
        screen.print(`(error) ${e.message}: the command may not have run\n`, "rp-error");
      } else {
        // The server failing is a bug, not a Redis error: say so plainly.
        screen.print(`(page error) ${e?.message ?? e}\n`, "rp-error");
        console.warn("redis-playground:", e);
      }
    }
  }

  async dispatch(screen, line) {
    let rest = line.trim();
    if (rest === "") return;
    // redis-cli's "N command": run the command N times.
    let times = 1;
    const rep = /^(\d+)\s+(\S.*)$/.exec(rest);
    if (rep) {
      times = Math.min(Number(rep[1]), MAX_REPEAT);
      rest = rep[2];
      if (Number(rep[1]) > MAX_REPEAT) screen.note(`(repeating ${MAX_REPEAT} times, the playground's limit)`);
    }
    const words = rest.split(/\s+/);
    const name = words[0].toLowerCase();
    if (name === "clear" && words.length === 1) {
      screen.clear();
      return;
    }
    if (name === "help" || name.startsWith("?")) {
      await this.localEngine();
      screen.print(this.helpText(words.slice(1).join(" ")));
      return;
    }
    if (name === "quit" || name === "exit") {
      this.closeClient(screen);
      return;
    }
    if (times === 0) return;
    this.session.push({ client: screen.number, port: screen.port, line: times > 1 ? `${times} ${rest}` : rest });
    let res;
    let asking = false;
    for (let hop = 0; ; hop++) {
      const follow = this.isCluster(screen.port) && hop < MAX_REDIRECTS;
      screen.setRunning(true);
      try {
        // After ASK, redis-cli sends ASKING on the new connection first, its reply unread.
        if (asking) await this.server.request("exec", { port: screen.port, client: screen.client, line: "ASKING" });
        res = await this.server.request("exec", { port: screen.port, client: screen.client, line: rest, times, follow });
      } finally {
        screen.setRunning(false);
      }
      const to = follow && !res.closed ? redirectOf(res.outs ?? []) : null;
      if (!to) break;
      // redis-cli -c prints where it goes instead of the error, and sends the command there.
      const outs = res.outs.slice();
      outs.splice(to.index, 1);
      screen.printOutcomes(outs);
      const host = to.host === "" ? "127.0.0.1" : to.host;
      screen.print(`-> Redirected to slot [${to.slot}] located at ${host}:${to.port}\n`, "rp-redirect");
      if (!isLocalHost(to.host) || !this.servers.some((s) => s.port === to.port)) {
        screen.print(`Could not connect to Redis at ${host}:${to.port}: Connection refused\n`, "rp-error");
        this.emit({ kind: "run", screen, line: rest, outs: [], blocked: false });
        return;
      }
      await this.moveScreen(screen, to.port);
      asking = to.ask;
    }
    this.showClient(screen, res);
    this.applyStatus(res.status);
    this.emit({ kind: "run", screen, line: rest, outs: res.outs ?? [], blocked: !!res.blocked });
  }

  /** Prints what the server sent for a client: replies, messages, its prompt, whether it waits. */
  showClient(screen, { outs = [], prompt, blocked = false, closed = false }) {
    screen.printOutcomes(outs);
    if (closed) {
      // The server closed this connection (CLIENT KILL, its ACL user deleted): like
      // redis-cli reconnecting, the tab gets a new client, which starts as the default user.
      this.byClient.delete(clientKey(screen.port, screen.client));
      screen.client = null;
      screen.setBlocked(false);
      this.connectScreen(screen);
      screen.note("(the server closed the connection; a new client is connected)");
      return;
    }
    screen.setPrompt(prompt);
    screen.setBlocked(blocked);
  }

  /** A message the server pushed: for a client (pub/sub, a served BLPOP), the status, a notice. */
  onPush(msg) {
    if (msg.push === "client") {
      const screen = this.byClient.get(clientKey(msg.port ?? FIRST_PORT, msg.client));
      if (screen) this.showClient(screen, msg);
    } else if (msg.push === "status") {
      this.applyStatus(msg.status);
    } else if (msg.push === "servers") {
      this.setServers(msg.servers, msg.stopped);
    } else if (msg.push === "changed") {
      this.emit({ kind: "changed", port: msg.port ?? FIRST_PORT, version: msg.version, line: msg.line, db: msg.db });
    } else if (msg.push === "notice") {
      this.notify(String(msg.message), { kind: msg.kind === "error" ? "error" : "info", sticky: !!msg.sticky });
    }
  }

  /** HELP, HELP <command>, HELP @<group>, as redis-cli prints them. */
  helpText(arg) {
    const topic = arg.trim();
    if (topic === "") {
      return this.menu
        ? HELP_INTRO.replace("in its own tab\n", "in its own tab;\n      \"▾\" beside it adds servers (127.0.0.1:6380 ...) and opens clients on any of them\n")
        : HELP_INTRO;
    }
    return this.local.help(topic) ?? "\n";
  }

  /** The page's own engine (hints, completion, help): loaded after the terminal, not before
   * it, so that neither the server's start nor the first command waits for it or shares the
   * machine with its compilation. It loads on the first key typed (Enter excepted), the help
   * command, or once the terminal settled (its first reply painted, or the page idle after
   * the terminal is ready), whichever comes first. */
  wantLocal() {
    if (!this.localLoading) {
      this.localLoading = Promise.resolve().then(() => this.loadLocal());
      this.localLoading.then((pg) => {
        this.local = pg;
        this.el.dataset.hints = "ready";
        for (const s of this.screens) s.updateHint();
      }, (e) => console.warn("redis-playground: hints are unavailable:", e));
    }
    return this.localLoading;
  }

  async localEngine() {
    if (!this.local) this.local = await this.wantLocal();
    return this.local;
  }

  /** Ctrl+C on a blocked client: it stops waiting, with the reply its timeout would give. */
  async interrupt(screen) {
    if (screen.client === null) return;
    try {
      this.showClient(screen, await this.server.request("unblock", { port: screen.port, client: screen.client }));
    } catch (e) {
      screen.note(`(could not stop waiting: ${e.message})`);
    }
  }

  markFirstReply() {
    if (this.firstReply) return;
    this.firstReply = true;
    performance.mark?.("redis-playground:first-reply");
    // Once the reply is painted (rAF, then a task), or soon if the page is not being drawn.
    let done = false;
    const settle = () => {
      if (done) return;
      done = true;
      this.settle();
    };
    requestAnimationFrame(() => setTimeout(settle, 0));
    setTimeout(settle, 100);
  }

  /** Settles once the page is idle with no line running (the first reply may come first). */
  settleWhenIdle() {
    const idle = (fn) => (typeof requestIdleCallback === "function" ? requestIdleCallback(fn, { timeout: 1000 }) : setTimeout(fn, 200));
    const check = () => {
      if (this.pending) this.queue.then(() => idle(check));
      else this.settle();
    };
    idle(check);
  }

  // ---- background work ---------------------------------------------------------------------

  /** The server does the background work; a widget put back on the page has nothing to resume. */
  start() {
    this.updateStatus();
  }

  /** A widget removed from the page: asks the server to store what is pending. */
  stop() {
    this.server.tell("flush");
  }

  /** A server's status (every status names its server's port). */
  applyStatus(status) {
    if (!status) return;
    this.states.set(status.port ?? FIRST_PORT, status);
    this.updateStatus();
  }

  /** The status of the server the tab shown belongs to. */
  get state() {
    return this.states.get(this.port) ?? null;
  }

  updateStatus() {
    const st = this.state;
    if (!st) return;
    this.statusServer.textContent = st.address ?? `127.0.0.1:${this.port}`;
    // Its place in replication: "replica of 127.0.0.1:6379 (link up)", "primary of 2 replicas".
    this.statusRole.textContent = st.role ?? "";
    this.statusRole.hidden = this.statusRole.textContent === "";
    const parts = [];
    st.keys.forEach((n, i) => { if (n > 0) parts.push(`db${i}:${n}`); });
    this.statusKeys.textContent = parts.length ? parts.join(" ") : "no keys";
    let mem = `memory ${humanBytes(st.memory)}`;
    // With a limit set, the learner sees it and the keys the policy evicted to keep under it.
    const mm = st.maxmemory;
    if (mm && mm.limit > 0) {
      mem += ` of ${humanBytes(mm.limit)} max (${mm.policy}) · ${mm.evicted} evicted`;
    }
    this.statusMem.textContent = mem;
    let save;
    if (st.blocked) save = "autosave paused (stored snapshot unreadable)";
    else if (st.error) save = `not saved: ${st.error}`;
    else if (st.savedAt) save = `saved ${clockTime(st.savedAt)}`;
    else save = "not saved yet";
    if (!st.blocked && st.dirty > 0) save += " · unsaved changes";
    this.statusSave.textContent = save;
    const others = (st.pages ?? 1) - 1;
    this.statusShared.textContent = st.stored && others > 0 ? `shared with ${others} other tab${others === 1 ? "" : "s"}` : "";
    this.statusShared.hidden = this.statusShared.textContent === "";
  }

  // ---- notices and toolbar -----------------------------------------------------------------

  /** Shows a message above the terminal; `actions` are [label, fn] buttons. */
  notify(message, { kind = "info", actions = [], sticky = false } = {}) {
    clearTimeout(this.noticeTimer);
    this.notice.replaceChildren();
    this.notice.className = `rp-notice rp-${kind}`;
    this.notice.append(el("span", "rp-notice-text", message));
    for (const [label, fn] of actions) this.notice.append(button(label, "", fn, "rp-btn rp-small"));
    this.notice.append(button("×", "Dismiss", () => { this.notice.hidden = true; }, "rp-btn rp-small rp-dismiss"));
    this.notice.hidden = false;
    if (!sticky) this.noticeTimer = setTimeout(() => { this.notice.hidden = true; }, 8000);
  }

  async saveClicked() {
    try {
      this.applyStatus(await this.request("save"));
      this.notify("Saved in this browser.");
    } catch (e) {
      this.notify(`Saving failed: ${e.message}`, { kind: "error" });
    }
  }

  async resetClicked() {
    // Two clicks, so that one stray click cannot delete everything.
    if (!this.resetArmed) {
      this.resetBtn.textContent = "Really reset?";
      this.resetBtn.classList.add("rp-armed");
      this.resetArmed = setTimeout(() => this.disarmReset(), 4000);
      return;
    }
    this.disarmReset();
    try {
      this.applyStatus(await this.request("reset"));
      this.notify("All data deleted, here and in this browser's storage.");
      await this.onReset();
    } catch (e) {
      this.notify(`Reset failed: ${e.message}`, { kind: "error" });
    }
  }

  disarmReset() {
    clearTimeout(this.resetArmed);
    this.resetArmed = null;
    this.resetBtn.textContent = "Reset";
    this.resetBtn.classList.remove("rp-armed");
  }

  async exportClicked() {
    try {
      const bytes = await this.request("export");
      this.download(bytes, `redis-playground-${new Date().toISOString().slice(0, 19).replace(/[-:]/g, "").replace("T", "-")}.rdb`);
    } catch (e) {
      this.notify(`Export failed: ${e.message}`, { kind: "error" });
    }
  }

  download(bytes, filename) {
    const url = URL.createObjectURL(new Blob([bytes], { type: "application/octet-stream" }));
    const a = el("a");
    a.href = url;
    a.download = filename;
    a.hidden = true;
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
  }

  async importChosen() {
    const file = this.fileInput.files?.[0];
    this.fileInput.value = "";
    if (!file) return;
    let bytes;
    try {
      bytes = new Uint8Array(await file.arrayBuffer());
    } catch (e) {
      this.notify(`Import refused: “${file.name}” could not be read (${e.message}). Your data is unchanged.`, { kind: "error" });
      return;
    }
    let res;
    try {
      res = await this.request("import", { bytes });
    } catch (e) {
      this.notify(`Import refused: “${file.name}” is not a usable Redis snapshot (${e.message}). Your data is unchanged.`, { kind: "error", sticky: true });
      return;
    }
    const what = `Imported “${file.name}”: ${res.keys} key${res.keys === 1 ? "" : "s"}.`;
    if (res.saveError) this.notify(`${what} Storing it in this browser failed (${res.saveError}); use Save to retry.`, { kind: "error" });
    else this.notify(what);
  }
}

/**
 * Builds a playground inside `root`.
 * Options: namespace (the server to share, and its storage key; null: a private server whose
 * data stays in memory), actions (toolbar buttons), commands (lines to run first on a new
 * server), persistHistory (keep the input history in localStorage), servers (show the menu
 * that opens clients on any server of the namespace, adds servers and removes them).
 * Resolves with the Shell; on failure, shows why inside `root` and rejects.
 */
export async function createPlayground(root, options = {}) {
  const { namespace = "default", actions, commands = [], persistHistory = true, readAlong = false, servers = false } = options;
  let shell = null;
  const server = new Connection(namespace, {
    onPush: (msg) => shell?.onPush(msg),
    onServerChange: (welcome) => shell?.serverChanged(welcome),
  });
  let welcome;
  // Shown until the server answers; a server waits for its predecessor to stop (see host.js).
  const connecting = el("div", "rp rp-connecting", "Connecting to the Redis server…");
  root.append(connecting);
  const slow = setTimeout(() => {
    connecting.textContent = "Waiting for the Redis server: the previous server of this data is still stopping (or another copy of the playground in this browser holds it: close its tabs).";
  }, 3000);
  mark("rp:connect");
  const history = new HistoryStore(namespace && persistHistory ? `redis-playground:history:${namespace}` : null);
  const opening = server.open({ client: FIRST_PORT });
  // The history is read while the server answers, once the hello is sent: a page's first read
  // of localStorage loads all of it at once, and the terminal would wait for that after.
  setTimeout(() => history.load(), 0);
  try {
    welcome = await opening;
  } catch (e) {
    const msg = el("div", "rp rp-failed", `redis-playground could not start: ${e.message}`);
    root.append(msg);
    throw e;
  } finally {
    clearTimeout(slow);
    connecting.remove();
  }
  mark("rp:welcome");
  importMarks(welcome.marks, "worker:");
  // The page's own engine answers hints, completion and help; it holds no data. It loads once
  // wanted (Shell.wantLocal), and the terminal does not wait for it.
  const local = () => loadEngine().then((Playground) => new Playground({ databases: 1 }));
  const runCommands = async (screen) => {
    for (const line of commands) await shell.submit(screen, line, { record: false });
  };
  shell = new Shell(root, {
    server,
    local,
    history,
    actions,
    servers: welcome.servers,
    serverMenu: servers,
    onReset: async () => {
      // Read-along widgets start the reading over on a clean screen.
      if (readAlong) shell.current.clear();
      await runCommands(shell.current);
      if (readAlong) shell.current.note("(your turn: type a command)");
    },
  });
  if (readAlong) shell.el.dataset.readalong = "true";
  shell.el.dataset.mode = server.mode;
  // A crash before this page came is not news to it.
  shell.crashSeen = welcome.crash?.at;
  for (const st of welcome.servers ?? []) shell.applyStatus(st.status);
  shell.applyStatus(welcome.status);
  // The server stores what is pending when a page is hidden or left (it also does so within a
  // second of any change).
  const flush = () => server.tell("flush");
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "hidden") flush();
  });
  window.addEventListener("pagehide", flush);

  const screen = shell.addClient(FIRST_PORT, welcome.client);
  // The preloaded lines are reachable with the Up arrow even when they are not run.
  for (const line of commands) screen.remember(line);
  // A server whose stored snapshot is unreadable (the first one to say so).
  const unreadable = (welcome.servers ?? [{ port: FIRST_PORT, status: welcome.status }]).find((s) => s.status.blocked);
  if (unreadable) {
    const { port } = unreadable;
    const which = port === FIRST_PORT ? "The snapshot" : `The snapshot of 127.0.0.1:${port}`;
    shell.notify(
      `${which} stored in this browser could not be loaded (${unreadable.status.blocked}). ` +
        "The playground started empty; the stored copy is kept untouched until you choose.",
      {
        kind: "error",
        sticky: true,
        actions: [
          ["Download stored copy", async () => {
            const raw = await server.request("stored", { port }).catch(() => null);
            if (raw) shell.download(raw, "redis-playground-unreadable.rdb");
            else shell.notify("The stored record holds no bytes to download.", { kind: "error" });
          }],
          ["Discard it", async () => {
            try {
              shell.applyStatus(await server.request("discard", { port }));
              shell.notify("The unreadable snapshot was discarded; autosave is back on.");
            } catch (e) {
              shell.notify(`Discarding failed: ${e.message}`, { kind: "error" });
            }
          }],
        ],
      },
    );
  } else if (welcome.restored?.status === "unavailable") {
    shell.notify(`Storage is unavailable (${welcome.restored.message}): the data stays in memory and will not survive closing every tab.`, { kind: "error" });
  }
  shell.start();
  const examples = commands.length ? await server.request("examples") : { run: false };
  if (examples.run) {
    await runCommands(screen);
    if (readAlong) screen.note("(your turn: type a command)");
  } else if (commands.length) {
    // The server was restored, or already runs for another tab or widget: its data is kept.
    screen.note(examples.restored
      ? "(your saved data was restored; Reset starts over with the example commands)"
      : "(this server is shared by every tab and widget using the same data; Reset starts over with the example commands)");
  }
  shell.el.dataset.ready = "true";
  shell.el.dataset.server = server.server;
  performance.mark?.("redis-playground:ready");
  // Hints, completion and help after the first reply or once the page has a moment, if
  // nothing asked for them before.
  shell.settleWhenIdle();
  shell.settled.then(() => shell.wantLocal());
  return shell;
}
