// The page's side of the server (server.js): finds or starts the server for a namespace and
// carries requests to it and messages from it.
//
// - With a namespace and SharedWorker: the SharedWorker "redis-playground:<namespace>", shared
//   by every tab of the origin.
// - With a namespace and no SharedWorker (Chrome on Android): the tabs elect a leader with the
//   Web Locks API; the leader starts the server in a dedicated Worker and every tab (the leader
//   too) talks to it over a BroadcastChannel. When the leader tab closes, the lock passes to
//   another tab, whose new server loads the last stored snapshot; the pages notice its hello
//   and reconnect (their requests in flight fail as on a lost connection).
// - Without a namespace: a dedicated Worker of this page only, keeping data in memory.
//
// Each page holds the lock "redis-playground:conn:<id>" while it lives; the server asks for it
// too, and is granted it when the page is gone, which tells it to disconnect the page's clients.

const PREFIX = "redis-playground";
const PROTOCOL = 2; // host.js's PROTOCOL
const SERVER_URL = new URL("./server.js", import.meta.url);
// The worker says { push: "alive" } as soon as its script runs. Chromium does not always fire
// `error` on a SharedWorker whose script fails to parse (about one page in fifty here): a worker
// that has not said a word by then is reported as one that could not start.
const ALIVE_MS = 10_000;

/** Thrown for a request the server never answered because it stopped (its tab closed). */
export class ConnectionLost extends Error {
  constructor(message = "the connection to the server was lost") {
    super(message);
    this.code = "LOST";
  }
}

function randomId() {
  return `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 10)}`;
}

/** Holds a Web Lock until the page goes away; resolves once it is held. */
function holdLock(name) {
  return new Promise((held) => {
    navigator.locks.request(name, () => {
      held();
      return new Promise(() => {});
    });
  });
}

export class Connection {
  /**
   * @param {string|null} namespace
   * @param {object} handlers { onPush(msg), onServerChange(welcome) }
   */
  constructor(namespace, handlers = {}) {
    this.namespace = namespace;
    this.onPush = handlers.onPush ?? (() => {});
    this.onServerChange = handlers.onServerChange ?? (() => {});
    this.conn = randomId();
    this.lock = null;
    this.seq = 0;
    this.pending = new Map();  // request id → { resolve, reject }
    this.server = null;        // the welcoming server's id
    this.welcomed = null;      // promise of the current welcome
    this.helloMsg = null;      // the hello waiting for an answer
    this.mode = null;          // "shared", "tabs" (leader election) or "private"
    this.leader = false;
    this.aliveTimer = null;    // set until the worker's first message (shared, private)
  }

  /** Connects; resolves with the worker's welcome { server, kind, restored, status, servers }.
   * `client`: the port of a server on which the welcome also opens a client for this page
   * (welcome.client: { port, client, prompt }), one round trip sooner than asking after it. */
  async open({ client = null } = {}) {
    const shared = typeof SharedWorker === "function";
    const tabs = !shared && typeof BroadcastChannel === "function" && !!navigator.locks;
    // The page may have asked for its lock and started this very worker already (index.html):
    // both are taken over.
    const early = this.namespace === "default" ? globalThis.redisPlaygroundEarlyWorker : null;
    if (early) delete globalThis.redisPlaygroundEarlyWorker;
    if (this.namespace !== null && navigator.locks) {
      if (early?.lock) {
        this.conn = early.conn;
        this.lock = early.lock;
        await early.held;
      } else {
        this.lock = `${PREFIX}:conn:${this.conn}`;
        await holdLock(this.lock);
      }
      globalThis.performance?.mark?.("rp:conn-lock");
    }
    if (this.namespace !== null && shared) {
      this.mode = "shared";
      const name = `${PREFIX}:${this.namespace}`;
      let worker;
      if (early?.worker && early.url === SERVER_URL.href && early.name === name) {
        worker = early.worker;
        if (early.failed) queueMicrotask(() => this.failed("the server's worker could not start"));
      } else {
        worker = new SharedWorker(SERVER_URL, { type: "module", name });
      }
      worker.onerror = () => this.failed("the server's worker could not start");
      this.port = worker.port;
      this.port.onmessage = (e) => this.receive(e.data);
      this.port.start();
      this.post = (m) => this.port.postMessage(m);
    } else if (this.namespace !== null && tabs) {
      this.mode = "tabs";
      this.channel = new BroadcastChannel(`${PREFIX}:${this.namespace}`);
      this.channel.onmessage = (e) => {
        const m = e.data;
        if (m?.to === this.conn) this.receive(m);
        else if (m?.to === "*" && m.push === "hello") this.serverStarted(m.server);
      };
      this.post = (m) => this.channel.postMessage({ ...m, to: "server" });
      this.elect();
    } else {
      // A private server (or a browser with neither SharedWorker nor Web Locks: then each tab
      // has its own server, and the last one to save wins).
      this.mode = "private";
      const worker = new Worker(SERVER_URL, { type: "module", name: `${PREFIX}:private` });
      worker.onmessage = (e) => this.receive(e.data);
      worker.onerror = () => this.failed("the server's worker could not start");
      worker.postMessage({ op: "serve", namespace: this.namespace });
      this.post = (m) => worker.postMessage(m);
      this.worker = worker;
    }
    if (this.mode !== "tabs") {
      this.aliveTimer = setTimeout(() => this.failed("the server's worker could not start"), ALIVE_MS);
    }
    // Not over the channel: a hello said again there may be answered twice.
    return this.hello(this.mode === "tabs" ? null : client);
  }

  /** Waits for the namespace's leader lock; holding it, runs the server in a Worker. */
  elect() {
    navigator.locks.request(`${PREFIX}:leader:${this.namespace}`, () => {
      this.leader = true;
      const worker = new Worker(SERVER_URL, { type: "module", name: `${PREFIX}:${this.namespace}` });
      worker.onerror = () => this.failed("the server's worker could not start");
      worker.postMessage({ op: "serve", namespace: this.namespace });
      this.worker = worker;
      return new Promise(() => {});
    });
  }

  /** Says hello to whichever server answers; resolves with its welcome. */
  hello(client = null) {
    const id = ++this.seq;
    const p = new Promise((resolve, reject) => this.pending.set(id, { resolve, reject }));
    this.helloMsg = { op: "hello", id, conn: this.conn, lock: this.lock, protocol: PROTOCOL };
    if (client !== null) this.helloMsg.open = client;
    this.welcomed = p.then((welcome) => {
      const previous = this.server;
      this.server = welcome.server;
      this.helloMsg = null;
      if (previous !== null && previous !== welcome.server) this.onServerChange(welcome);
      return welcome;
    });
    this.welcomed.catch(() => {});
    this.post(this.helloMsg);
    return this.welcomed;
  }

  /** A server announced itself on the channel. A hello still unanswered (no server was running
   * yet) is said again; if it is not the server this page talks to, that one stopped (its tab
   * closed): the requests in flight are lost, and the page connects to the new one. */
  serverStarted(serverId) {
    if (serverId === this.server) return;
    if (this.helloMsg) {
      this.post(this.helloMsg);
      return;
    }
    for (const [id, p] of this.pending) {
      p.reject(new ConnectionLost("the tab running the server was closed before it answered"));
      this.pending.delete(id);
    }
    this.hello();
  }

  /** The worker failed to load: every waiting request (the hello first) fails with the reason. */
  failed(reason) {
    for (const [id, p] of this.pending) {
      p.reject(new Error(reason));
      this.pending.delete(id);
    }
  }

  receive(msg) {
    if (this.aliveTimer !== null) {
      clearTimeout(this.aliveTimer);
      this.aliveTimer = null;
    }
    if (!msg || msg.push === "alive") return;
    if (msg.push !== undefined) {
      if (msg.push === "hello") this.serverStarted(msg.server);
      else this.onPush(msg);
      return;
    }
    const p = this.pending.get(msg.re);
    if (!p) return;
    this.pending.delete(msg.re);
    if (msg.err !== undefined) {
      const e = msg.code === "LOST" ? new ConnectionLost(msg.err) : new Error(msg.err);
      e.code = msg.code;
      p.reject(e);
    } else {
      p.resolve(msg.ok);
    }
  }

  /** Sends a request once connected; resolves with the server's answer. */
  async request(op, args = {}) {
    await this.welcomed;
    const id = ++this.seq;
    const p = new Promise((resolve, reject) => this.pending.set(id, { resolve, reject }));
    this.post({ ...args, op, id, conn: this.conn, server: this.server });
    return p;
  }

  /** Without waiting for an answer (the page is being left). */
  tell(op) {
    if (this.server === null) return;
    this.post({ op, id: ++this.seq, conn: this.conn, server: this.server });
  }
}
