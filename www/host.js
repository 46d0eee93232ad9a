// The servers of one namespace: several Redis servers (engines), each with its own address
// label (127.0.0.1:6379, 6380, ...), clients, clock and stored snapshot, in one worker, so that
// every tab of an origin talking to the same namespace talks to the same servers, and a long
// command never freezes a page. Pages only render (terminal.js, through connection.js).
//
// It runs as one of:
// - a SharedWorker named "redis-playground:<namespace>": one per origin and namespace, whose
//   pages connect through MessagePorts;
// - a dedicated Worker started by the tab that holds the namespace's leader lock, where
//   SharedWorker is missing (connection.js); its pages talk to it over a BroadcastChannel;
// - a dedicated Worker private to one page (a widget without a namespace: memory only).
// Its script is server.js, which starts what the first reply waits for anyway (the engine's
// fetch and compilation, the namespace's lock) before this module has loaded, and hands the
// pages' connections and messages to the Host below.
//
// Several servers: the first (port 6379) always exists; "addServer" starts the next port and
// "removeServer" stops one and deletes its snapshot. Each server's snapshot is its own
// IndexedDB record (storage.js serverStore), and the list of ports is one more record, so a
// reload brings every server back with its data. The servers of a worker share nothing but the
// worker: a replication link between them is bytes moved from one engine to the other.
//
// Replication: a server told `REPLICAOF 127.0.0.1 <port>` of a server of this worker gets a
// connection to it, a client like any other of that server (Playground.openConnection): what
// the replica's engine sends (its handshake, PSYNC, acknowledgements) is written to that
// connection, and what the primary answers and streams (Playground.takeReplicaOutput) is fed
// to the replica's engine (linkFeed), after every request and every tick, until REPLICAOF NO
// ONE, another REPLICAOF or the removal of either server. Any other address is not reachable
// from a page: the link stays "connecting", as redis-server's does towards a host that never
// answers. Each server's primary is stored with the list of servers, and its snapshot carries
// its replication offset, so after a reload a replica continues with a partial resync when its
// primary still holds the bytes it lacks. The page's replication view reads the topology and
// the bytes exchanged ({ op: "replication", since }).
//
// Durability: a request that changed data is answered only once the snapshot holding the change
// is committed to IndexedDB (see Persistence in storage.js), for every server it changed, so no
// tab closing, leader or not, loses an acknowledged write.
//
// A crash: a call into the engine that traps (a Rust panic: a bug, or DEBUG PANIC/SEGFAULT,
// which crash this engine as they crash redis-server) leaves the module instance's memory
// untrusted, and every server of the worker shares it. The worker then drops them all, loads a
// fresh instance of the module, starts each server again from its stored snapshot (by the
// rule above: every acknowledged write), tells the pages, and announces itself under a new id,
// so that every page reconnects its clients as after a hand-over. The request that crashed it
// fails as a closed connection would.
//
// A shared or leader worker also answers on the namespace's BroadcastChannel, and takes the
// lock "redis-playground:server:<namespace>" before it reads the stored snapshots: a worker
// starting while its predecessor still lives (a page reloaded, a leader tab closing) waits until
// that one is gone, so one worker at a time owns the stored data of all the namespace's servers
// and nothing is written over.
//
// Messages (structured clones):
//   page → server  { op, id, conn, server, port, ...args }   `server` is the worker id the page
//                  was welcomed by (a request meant for another worker is refused); `port` the
//                  server the request is for (6379 when absent)
//                  { op: "hello", id, conn, lock, protocol, open }   first, and after a
//                  hand-over; `open` (a port) also opens a client there: welcome.client
//                  { op: "addServer" }, { op: "removeServer", port }   answer { servers }
//   server → page  { re: id, ok: value } | { re: id, err: message, code }
//                  { push: "client", port, client, outs, blocked, prompt }   messages for a
//                  client (with `closed: true` when the server ended the client's connection)
//                  { push: "status", port, status }                    keys, memory, saves
//                  { push: "servers", servers, stopped }   the list of servers changed:
//                                                   [{ port, address, cluster }], and the
//                                                   ports of the servers stopped (not removed)
//                  { push: "notice", message, kind }
//                  { push: "hello", server }                           a worker started
//                  { push: "alive" }   first thing on a connection (shared, private): the
//                                      worker's script runs, whatever it still waits for
//                  { push: "changed", port, version, line, db }   data changed (a command: its
//                                                           line and the db it ran in; null: other)
//   { op: "query", port, db, cmds: [[arg, ...], ...] } runs read commands on the page's
//   inspection client of that server (named "inspector", opened on first use) and answers their
//   replies: the inspector and the tutorial read the engine this way, never from the terminal's text.
//   { op: "keys", port, db, pattern, type, limit } answers [[name, type, pttl, encoding, bytes], ...]
//   for every live key matching (Playground.describeKeys: read without running commands).
//   { op: "aof", port, limit } answers the server's append-only file (Playground.aof): its
//   manifest and files, or null while it never had one (appendonly no).
//   { op: "replication", since } answers { servers: [{ port, address, role, replid, offset,
//   link, replicas }], log: [entries after `since`], seq } for the replication panel;
//   { op: "cutLink", port } ends that replica's connection to its primary (it reconnects).
// Over the BroadcastChannel every message also carries `to`: "server", or the page's `conn`.
import { loadEngine, mark, marksSinceEpoch } from "./engine.js";
import { FIRST_PORT, MemoryNodesConf, MemoryServerList, MemoryStore, NodesConfStore, Persistence, openStorage, preloadStored, serverStore } from "./storage.js";
import { LinkReader, argText, commandHead } from "./replstream.js";

const PREFIX = "redis-playground";
// The message protocol's version: a page and a server of different versions (a tab left open
// across an update of the site) must not misread each other.
const PROTOCOL = 2;
const TICK_MS = 100;
const MAX_REPEAT = 10000;
// A bound on the servers of one namespace: each is a whole engine in this worker's memory.
const MAX_SERVERS = 16;
// Rounds of byte moving between linked servers per request or tick (a chain of replicas
// passes the stream on one hop per round).
const LINK_ROUNDS = 32;
// What the replication view can read back of the bytes the links carried.
const LOG_KEEP = 500;
// Cluster nodes added from the menu take ports from here up (the ports of Redis's cluster
// tutorial); their bus port is the port + 10000, so it must stay a port.
const CLUSTER_FIRST_PORT = 7000;
const CLUSTER_LAST_PORT = 65535 - 10000;
// Rounds of cluster bus delivery per request or tick (a message answered by another, ...).
const BUS_ROUNDS = 64;
// Hash slots, and what redis-cli --cluster create needs at least.
const SLOTS = 16384;
const MIN_PRIMARIES = 3;
// How long the one-click cluster waits for its nodes to agree (redis-cli waits as long as it takes).
const JOIN_WAIT_MS = 20000;

class RequestError extends Error {
  constructor(message, code) {
    super(message);
    this.code = code;
  }
}

function addressOf(port) {
  return `127.0.0.1:${port}`;
}

/** `host:port` as { host, port }, or null. */
function parseAddress(text) {
  const m = /^(.*):(\d+)$/.exec(text ?? "");
  return m ? { host: m[1], port: Number(m[2]) } : null;
}

/** Whether a REPLICAOF host names this machine, where the page's servers listen. */
function isLocalHost(host) {
  return host === "127.0.0.1" || host === "localhost" || host === "::1";
}

/** The ports a stored list names: valid, distinct, the first server first, within the bound. */
function cleanPorts(stored) {
  const ports = [FIRST_PORT];
  for (const p of Array.isArray(stored) ? stored : []) {
    if (Number.isInteger(p) && p > 0 && p <= 65535 && !ports.includes(p) && ports.length < MAX_SERVERS) ports.push(p);
  }
  return ports;
}

/** One Redis server of the worker: its engine, clients, clock and stored snapshot. */
class Instance {
  constructor(host, port, { cluster = false } = {}) {
    this.host = host;
    this.port = port;
    this.cluster = cluster;      // a cluster node (cluster-enabled yes), with its nodes.conf
    this.address = addressOf(port);
    this.owner = new Map();      // client id → conn
    this.inspectors = new Map(); // conn id → the conn's inspection client on this server
    this.blockedSeen = new Map();
    this.lastStatus = "";
    this.statusPending = false;
    this.examplesClaimed = false;
    this.version = 0;            // bumped whenever data changed: pages refresh what they show
    this.pg = null;
  }

  /** Starts the engine and loads its snapshot; `fresh` (a server just added) first deletes a
   * snapshot a removed server of the same port may have left; `store` is the store of the
   * server this one replaces after a crash (a memory-only server's data lives there);
   * `primary` ({ host, port }) the server it is a replica of. */
  async start(Playground, { fresh = false, store = null, primary = null, confStore = null } = {}) {
    const ns = this.host.namespace;
    this.pg = new Playground({ databases: 16, port: this.port, restartsOnCrash: true });
    // A script past busy-reply-threshold is suspended every few milliseconds, so that this
    // worker hears the other tabs (BUSY, SCRIPT KILL) while it runs: see runSlices().
    this.pg.sliceScripts(true);
    // MIGRATE reaches the other servers of this worker (a client of the target's engine).
    this.pg.setMigrateHost((op, a, b) => this.host.migrateOp(this, op, a, b));
    this.store = store ?? (ns !== null ? serverStore(ns, this.port) : new MemoryStore());
    if (fresh) await this.store.clear().catch(() => {});
    // A replica's snapshot is loaded as a replica's: it continues its primary's stream from
    // the offset the snapshot was taken at.
    const load = (bytes) => this.pg.restoreStored(bytes, primary?.host, primary?.port);
    this.persistence = new Persistence(this.pg, this.store, { onChange: () => this.storageChanged(), load });
    this.storageError = null;
    this.restored = await this.persistence.restore();
    if (this.cluster) {
      await this.startCluster(confStore, fresh);
      // A cluster node's primary is in its nodes.conf, not in the list of servers.
      primary = null;
    }
    if (primary && this.pg.replication().link === null) {
      // Nothing stored to continue from: a replica all the same, which syncs in full.
      const c = this.pg.openClient();
      this.pg.executeArgs(c, ["REPLICAOF", primary.host, String(primary.port)]);
      this.pg.closeClient(c);
      this.pg.markSaved();
    }
    this.primaryStored = primary ? `${primary.host}:${primary.port}` : null;
    this.timer = setInterval(() => this.tick(), TICK_MS);
  }

  /** Cluster mode, once the data is loaded (as redis-server reads nodes.conf after it): the
   * node comes back with its ID, the nodes it knew, its slots and epochs. A stored nodes.conf
   * that cannot be read is said, kept aside, and the node starts as a new one. */
  async startCluster(confStore, fresh) {
    const ns = this.host.namespace;
    this.confStore = confStore ?? (ns !== null ? new NodesConfStore(ns, this.port) : new MemoryNodesConf());
    this.confChain = Promise.resolve();
    if (fresh) await this.confStore.clear().catch(() => {});
    let text = null;
    try {
      text = await this.confStore.load();
    } catch {
      // storage unavailable: a new node, said by the snapshot's own notice
    }
    let log;
    try {
      log = this.pg.enableCluster(text ?? undefined);
    } catch (e) {
      this.notice(`The stored nodes.conf could not be read (${e.message}): the node starts as a new one.`, "error", true);
      this.confStore = new MemoryNodesConf();
      log = this.pg.enableCluster(undefined);
    }
    for (const line of log) this.notice(line);
    await this.storeNodesConf();
  }

  /** Stores the nodes.conf the node wrote last, if it wrote one (one write at a time, in
   * order); resolves once it is stored. Redis writes the file before it answers the command
   * that changed it, and so does the worker. */
  storeNodesConf() {
    if (!this.cluster || !this.pg) return this.confChain ?? Promise.resolve();
    const text = this.pg.takeNodesConf();
    if (text == null) return this.confChain;
    this.confChain = this.confChain.then(() => this.confStore.save(text)).catch((e) => {
      this.notice(`nodes.conf could not be stored in this browser (${e.message}).`, "error");
    });
    return this.confChain;
  }

  /** The engine crashed: the server stops without calling into it again (its memory is not to
   * be trusted: nothing more is saved from it); resolves once a save already under way ended. */
  abandon() {
    clearInterval(this.timer);
    this.persistence.destroy();
    this.persistence.onChange = () => {};
    this.pg = null;
    return this.persistence.chain;
  }

  /** Stops the server: its clients are gone, its clock stops, its engine is freed. */
  stop() {
    clearInterval(this.timer);
    this.persistence?.destroy();
    this.owner.clear();
    this.inspectors.clear();
    this.pg?.free?.();
    this.pg = null;
  }

  closeClient(client) {
    this.pg.closeClient(client);
    this.owner.delete(client);
    this.blockedSeen.delete(client);
  }

  /** A page went away: its clients on this server are disconnected. */
  dropConn(conn) {
    for (const [client, owner] of [...this.owner]) if (owner === conn) this.closeClient(client);
    const inspector = this.inspectors.get(conn.id);
    if (inspector != null) this.pg.closeClient(inspector);
    this.inspectors.delete(conn.id);
  }

  ownClient(conn, client) {
    if (this.owner.get(client) !== conn) throw new RequestError("this client is not connected", "NOCLIENT");
    return client;
  }

  // ---- requests ------------------------------------------------------------------------------

  async perform(conn, msg) {
    const pg = this.pg;
    switch (msg.op) {
      case "open": {
        const client = pg.openClient();
        this.owner.set(client, conn);
        return { client, prompt: pg.prompt(client) };
      }
      case "close": {
        this.closeClient(this.ownClient(conn, msg.client));
        return null;
      }
      case "exec":
        return this.exec(this.ownClient(conn, msg.client), String(msg.line ?? ""), msg.times, !!msg.follow);
      case "query":
        return this.query(conn, msg.db, msg.cmds);
      case "keys": {
        // Every live key of a db with its type, PTTL, encoding and size, read without commands.
        const db = Math.max(0, Math.min(15, Math.floor(Number(msg.db) || 0)));
        const limit = Math.max(0, Math.min(1000000, Math.floor(Number(msg.limit) || 0)));
        return { rows: pg.describeKeys(db, String(msg.pattern ?? "*"), String(msg.type ?? ""), limit), version: this.version };
      }
      case "unblock": {
        const client = this.ownClient(conn, msg.client);
        pg.unblock(client);
        return this.clientState(client, []);
      }
      case "save":
        await this.persistence.save({ explicit: true });
        return this.status();
      case "reset":
        await this.persistence.reset();
        this.changed(null, null);
        return this.status();
      case "import": {
        if (!(msg.bytes instanceof Uint8Array)) throw new RequestError("no file content was sent", "ERR");
        await this.persistence.import(msg.bytes);
        this.changed(null, null);
        const keys = pg.keyCounts().reduce((a, b) => a + b, 0);
        try {
          // An import is an explicit act: it is stored at once, over anything stored before.
          await this.persistence.save({ explicit: true });
          return { keys, saveError: null };
        } catch (e) {
          return { keys, saveError: e.message };
        }
      }
      case "examples": {
        // A widget's example commands run once on a server that starts empty, however many
        // widgets and tabs of its namespace open: the first to ask runs them.
        const empty = pg.keyCounts().every((n) => n === 0);
        const run = empty && !this.examplesClaimed;
        if (run) this.examplesClaimed = true;
        return { run, restored: this.restored.status === "restored" && !empty };
      }
      case "aof": {
        // At most 1 MB of each file's commands goes to the page; 64 KB unless asked.
        const limit = Math.max(0, Math.min(1 << 20, Math.floor(Number(msg.limit) || 65536)));
        return pg.aof(limit);
      }
      case "export":
        return pg.snapshot();
      case "stored":
        return this.persistence.blocked?.record?.bytes ?? null;
      case "discard":
        await this.persistence.discardStored();
        return this.status();
      default:
        throw new RequestError(`unknown request ${msg.op}`, "ERR");
    }
  }

  /** Runs a typed line (`times` times: redis-cli's "N command"). SAVE answers once the snapshot
   * is stored, and fails as Redis's does if it cannot be. */
  async exec(client, line, times = 1, follow = false) {
    const pg = this.pg;
    const n = Math.max(1, Math.min(MAX_REPEAT, Number.isFinite(times) ? Math.floor(times) : 1));
    const outs = [];
    for (let i = 0; i < n; i++) {
      const before = pg.dirty();
      let out = pg.execute(client, line);
      if (pg.dirty() !== before) this.changed(line, this.dbOf(client));
      const request = pg.takeSaveRequest();
      if (request === "save") out = await this.storeForSave(out);
      else if (request != null) this.storeInBackground();
      outs.push(out);
      if (pg.isBlocked(client) || !this.owner.has(client)) break;
      // redis-cli -c stops repeating at a redirection, to send the command again there.
      if (follow && out.reply?.type === "error" && /^(MOVED|ASK) /.test(out.reply.value)) break;
    }
    // Messages the command left for its own client follow its reply.
    return this.clientState(client, outs);
  }

  /** The db a client has selected, as its prompt shows it ("127.0.0.1:6379[2]> "). */
  dbOf(client) {
    const m = /\[(\d+)\]/.exec(this.pg.prompt(client));
    return m ? Number(m[1]) : 0;
  }

  /** Read commands for the inspector and the tutorial, on the page's inspection client. */
  query(conn, db, cmds) {
    const pg = this.pg;
    if (!Array.isArray(cmds)) throw new RequestError("no commands were sent", "ERR");
    let c = this.inspectors.get(conn.id);
    if (c == null) {
      c = pg.openClient();
      pg.executeArgs(c, ["CLIENT", "SETNAME", "inspector"]);
      this.inspectors.set(conn.id, c);
    }
    const n = Math.max(0, Math.min(15, Math.floor(Number(db) || 0)));
    pg.executeArgs(c, ["SELECT", String(n)]);
    const replies = [];
    for (const argv of cmds.slice(0, 200000)) {
      if (!Array.isArray(argv) || argv.length === 0) {
        replies.push(null);
        continue;
      }
      replies.push(pg.executeArgs(c, argv.map(String)).reply);
    }
    return { replies, version: this.version };
  }

  /** Data changed: every page is told once per task (a repeated command is one change). */
  changed(line, db) {
    this.version++;
    if (this.changePending) {
      if (this.changePending.line !== line) this.changePending.line = null;
      return;
    }
    this.changePending = { line, db };
    queueMicrotask(() => {
      const { line: l, db: d } = this.changePending;
      this.changePending = null;
      this.host.broadcast({ push: "changed", port: this.port, version: this.version, line: l, db: d });
    });
  }

  clientState(client, outs) {
    const pg = this.pg;
    outs.push(...pg.drain(client));
    const blocked = pg.isBlocked(client);
    this.blockedSeen.set(client, blocked);
    const state = { outs, blocked, prompt: pg.prompt(client), status: this.status() };
    if (!pg.isConnected(client)) {
      // The server ended this connection (CLIENT KILL, its ACL user deleted): the page is
      // told, after the reply, as redis-cli would see the socket close.
      state.closed = true;
      this.closeClient(client);
    }
    return state;
  }

  async storeForSave(out) {
    try {
      await this.persistence.save({ explicit: true });
      this.pg.saveFinished(true);
      return out;
    } catch (e) {
      this.pg.saveFinished(false);
      this.notice(`Save failed: ${e.message}`, "error");
      return { text: "(error) ERR\n", reply: { type: "error", value: "ERR" } };
    }
  }

  /** BGSAVE, or a save rule: stored without making anyone wait. */
  storeInBackground() {
    this.persistence
      .save({ explicit: true })
      .then(() => this.pg?.saveFinished(true))
      .catch((e) => {
        this.pg?.saveFinished(false);
        this.notice(`Background save failed: ${e.message}`, "error");
      });
  }

  // ---- background work -----------------------------------------------------------------------

  /** This server's clock: active expiry, blocked clients' timeouts, background saves. */
  tick() {
    if (!this.pg) return;
    try {
      // Keys expiring on their own change the data without a command.
      const before = this.pg.dirty();
      const keys = this.pg.keyCounts().join();
      this.pg.tick();
      // The cluster bus's cron (Redis's clusterCron, every 100 ms): pings, timeouts, failover.
      if (this.cluster) this.pg.busCron();
      if (this.pg.dirty() !== before || this.pg.keyCounts().join() !== keys) this.changed(null, null);
      // What the tick queued (a replica's acknowledgement, the primary's PING, the bus's
      // messages) moves on, and every server it reached tells its clients (a WAIT answered).
      const reached = this.host.pumpBus();
      const links = this.host.pumpLinks();
      for (const s of this.host.servers.values()) if (s !== this && (links || reached.has(s.port))) s.afterWork();
      this.host.storePrimaries().catch(() => {});
      for (const s of this.host.servers.values()) s.storeNodesConf();
      this.afterWork();
    } catch (e) {
      clearInterval(this.timer);
      if (this.host.crashed(e)) return;
      console.warn("redis-playground tick:", e);
      this.notice(`The engine stopped after an internal error (${e?.message ?? e}). Close and reopen the page; the last saved data is kept.`, "error", true);
    }
  }

  /** A script suspended between slices runs on in a task of its own, so that what other tabs
   * sent meanwhile is served between two slices, as redis-server serves other clients while
   * a script runs past busy-reply-threshold. Its client's reply goes out with afterWork(). */
  runSlices() {
    if (this.slicePending || !this.pg?.scriptSuspended()) return;
    this.slicePending = true;
    setTimeout(async () => {
      this.slicePending = false;
      const pg = this.pg;
      if (!pg) return;
      try {
        const before = pg.dirty();
        const suspended = pg.runScriptSlice();
        if (pg.dirty() !== before) this.changed(null, null);
        // The durability rule: the script's reply goes out once what it wrote is stored.
        if (!suspended && pg.dirty() > 0 && !this.persistence.blocked) {
          await this.persistence.save().catch(() => {});
        }
      } catch (e) {
        console.warn("redis-playground script:", e);
        this.notice(`The engine stopped after an internal error (${e?.message ?? e}). Close and reopen the page; the last saved data is kept.`, "error", true);
        return;
      }
      this.afterWork();
    }, 0);
  }

  /** After every request and tick: background saves, messages for clients, status, autosave. */
  afterWork() {
    const pg = this.pg;
    if (!pg) return;
    this.runSlices();
    if (pg.takeSaveRequest() != null) this.storeInBackground();
    for (const [client, conn] of this.owner) {
      if (!pg.isConnected(client)) {
        conn.send({ push: "client", port: this.port, client, outs: pg.drain(client), blocked: false, prompt: "", closed: true });
        this.closeClient(client);
        continue;
      }
      const outs = pg.drain(client);
      const blocked = pg.isBlocked(client);
      if (outs.length === 0 && blocked === this.blockedSeen.get(client)) continue;
      this.blockedSeen.set(client, blocked);
      conn.send({ push: "client", port: this.port, client, outs, blocked, prompt: pg.prompt(client) });
    }
    this.persistence.changed();
    this.statusChanged();
  }

  status() {
    const p = this.persistence;
    return {
      port: this.port,
      address: this.address,
      keys: Array.from(this.pg.keyCounts()),
      memory: this.pg.memory(),
      maxmemory: this.pg.maxmemory(),
      dirty: this.pg.dirty(),
      savedAt: p.savedAt,
      error: p.error,
      blocked: p.blocked ? p.blocked.message : null,
      stored: this.host.namespace !== null,
      pages: this.host.conns.size,
      role: this.roleText(),
      cluster: this.cluster,
    };
  }

  /** The server's place in replication, for the status line: "" for a primary with no
   * replicas. */
  roleText() {
    const r = this.pg.replication();
    if (this.cluster) {
      const info = /cluster_state:(\w+)/.exec(this.pg.clusterView(false)?.info ?? "");
      const where = r.link ? `replica of ${r.link.host}:${r.link.port} (${r.link.state === "connected" ? "link up" : r.link.state})` : "primary";
      return `cluster node, ${where}, cluster_state:${info ? info[1] : "?"}`;
    }
    if (r.link) return `replica of ${r.link.host}:${r.link.port} (${r.link.state === "connected" ? "link up" : r.link.state})`;
    if (r.replicas.length) return `primary of ${r.replicas.length} replica${r.replicas.length === 1 ? "" : "s"}`;
    return "";
  }

  /** Storing just started failing (quota exceeded, storage gone) or works again: every page is
   * told plainly, once, besides its status line. */
  storageChanged() {
    const error = this.persistence.error;
    if (error && !this.storageError) {
      this.notice(`Storing the data in this browser failed (${error}). It is kept in memory, and the snapshot stored before is unchanged.`, "error", true);
    } else if (!error && this.storageError) {
      this.notice("The data is stored in this browser again.");
    }
    this.storageError = error;
    this.statusChanged();
  }

  /** Sends the status to every page when it changed (once per task at most). */
  statusChanged() {
    if (this.statusPending || !this.pg) return;
    this.statusPending = true;
    queueMicrotask(() => {
      this.statusPending = false;
      if (!this.pg) return;
      const status = this.status();
      const text = JSON.stringify(status);
      if (text === this.lastStatus) return;
      this.lastStatus = text;
      this.host.broadcast({ push: "status", port: this.port, status });
    });
  }

  /** A notice for every page, naming this server when there are several. */
  notice(message, kind = "info", sticky = false) {
    const text = this.host.servers.size > 1 ? `${this.address}: ${message}` : message;
    this.host.notice(text, kind, sticky);
  }
}

/** The worker's servers of one namespace, the pages connected to them, and their transports.
 * `locked`: with a namespace, the namespace's lock that server.js asked for as the worker
 * started (a promise resolved once it is held). `stored`: what
 * server.js read once it held it (a promise of preloadStored's stores), else read here. */
export class Host {
  constructor(namespace, kind, { locked = null, stored = null } = {}) {
    this.namespace = namespace;
    this.kind = kind;          // "shared", "leader" or "private"
    this.id = `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 10)}`;
    this.conns = new Map();    // conn id → { id, send }
    this.servers = new Map();  // port → Instance, the first server first
    this.warmed = null;        // the engine class warmUp() ran a command of
    // Replication links, by the replica's port: { host, port, epoch, primary (the primary's
    // port once connected, null while the address is no server of this page), conn (the
    // replica's connection on the primary), up/down (LinkReaders), offset (where the stream
    // read from the primary is) }.
    this.links = new Map();
    // The cluster bus: each link's far end, by "port/link" of either end ({ port, link }),
    // and the deliveries in flight, in order ({ port, link, bytes } or a close without bytes).
    this.bus = new Map();
    this.busQueue = [];
    // MIGRATE's connections to target servers, by handle: { port, pg, conn }.
    this.migrateConns = new Map();
    this.migrateSeq = 0;
    // Servers stopped (as a killed redis-server is) and not removed, by port: { port,
    // cluster, store, confStore }; "startServer" starts them again from their stored data.
    this.stopped = new Map();
    // The one-click cluster under way or done: { lines, done, error }, for the cluster view.
    this.clusterJob = null;
    this.log = [];             // what the links carried, for the replication view
    this.logSeq = 0;
    this.shownOffset = new Map(); // primary port → the stream offset already in the log
    this.queue = Promise.resolve();
    this.crash = null;         // the last crash: { message, at }, told in every welcome after it
    this.restarting = null;    // the restart under way after a crash
    this.started = this.start(locked, stored);
    this.started.catch((e) => console.warn("redis-playground server:", e));
  }

  async start(locked, early) {
    mark("rp:worker-start");
    // The engine loads (fetched and compiled) and the stored data is opened while this worker
    // waits for its predecessor; what is stored is read once the lock is held, while the
    // engine may still be compiling.
    const engine = loadEngine();
    engine.catch(() => {});
    if (this.namespace !== null) openStorage();
    // The namespace's lock: server.js asks for it as the worker starts.
    if (this.namespace !== null) await locked;
    mark("rp:server-lock");
    // The list of servers and the first server's snapshot, read together.
    const reads = this.namespace !== null ? await (early ?? preloadStored(this.namespace)) : null;
    const firstStore = reads?.first ?? null;
    this.list = reads?.list ?? new MemoryServerList();
    let stored = null;
    try {
      stored = await this.list.load();
    } catch {
      // Storage unavailable: the first server says so when its snapshot cannot be read either.
    }
    mark("rp:list");
    this.Playground = await engine;
    const primaries = this.list.primaries ?? {};
    const cluster = new Set(this.list.cluster ?? []);
    for (const port of cleanPorts(stored)) {
      const inst = new Instance(this, port, { cluster: cluster.has(port) && port !== FIRST_PORT });
      const p = primaries[port];
      const primary = Array.isArray(p) && typeof p[0] === "string" && Number.isInteger(p[1]) ? { host: p[0], port: p[1] } : null;
      await inst.start(this.Playground, { primary, store: port === FIRST_PORT ? firstStore : null });
      this.servers.set(port, inst);
    }
    mark("rp:restored");
    this.pumpLinks();
  }

  get first() {
    return this.servers.get(FIRST_PORT);
  }

  serverList() {
    return [...this.servers.values()].map((s) => ({ port: s.port, address: s.address, cluster: s.cluster }));
  }

  broadcast(msg) {
    for (const conn of this.conns.values()) conn.send(msg);
  }

  notice(message, kind = "info", sticky = false) {
    this.broadcast({ push: "notice", message, kind, sticky });
  }

  // ---- connections ---------------------------------------------------------------------------

  /** A message from a page: requests run one after another, as Redis runs commands. */
  async receive(msg, send) {
    if (!msg || typeof msg.op !== "string") return;
    try {
      await this.started;
    } catch (e) {
      send({ re: msg.id, err: `the server could not start: ${e.message}`, code: "START" });
      return;
    }
    if (msg.op === "hello") {
      if (msg.protocol !== PROTOCOL) {
        send({ re: msg.id, err: "another tab runs a different version of the playground: close every tab of it, then reload", code: "VERSION" });
        return;
      }
      send({ re: msg.id, ok: this.welcome(msg, send) });
      this.warmUp();
      return;
    }
    if (msg.server !== this.id) {
      send({ re: msg.id, err: "the server this page knew has stopped", code: "LOST" });
      return;
    }
    const conn = this.conns.get(msg.conn);
    if (!conn) {
      send({ re: msg.id, err: "this page is not connected", code: "LOST" });
      return;
    }
    const run = async () => {
      let answer;
      let inst = null;
      try {
        answer = { re: msg.id, ok: await this.perform(conn, msg, (i) => { inst = i; }) };
        // Replicas receive what the command wrote before anything is stored or answered, and
        // the bus carries what it asked for (CLUSTER MEET's handshake, a PONG after ADDSLOTS).
        this.pumpBus();
        this.pumpLinks();
        await this.storePrimaries();
        // As redis-server saves nodes.conf before it answers (CLUSTER ADDSLOTS, MEET ...).
        await Promise.all([...this.servers.values()].map((s) => s.storeNodesConf()));
      } catch (e) {
        if (this.crashed(e)) {
          // As redis-cli sees a server that crashed under its command.
          send({ re: msg.id, err: "Server closed the connection (the server crashed)", code: "LOST" });
          return;
        }
        answer = { re: msg.id, err: e?.message ?? String(e), code: e?.code ?? "ERR" };
      }
      // The durability rule: what changed data is answered once it is stored, on every server
      // it changed. A failed store (storage refused) is shown in the status line and the
      // server goes on in memory.
      await Promise.all([...this.servers.values()].map((s) =>
        s.pg.dirty() > 0 && !s.persistence.blocked ? s.persistence.save().catch(() => {}) : null));
      if (inst?.pg && answer.ok && typeof answer.ok === "object" && "status" in answer.ok) answer.ok.status = inst.status();
      send(answer);
      for (const s of this.servers.values()) s.afterWork();
    };
    const p = this.queue.then(run);
    this.queue = p.catch(() => {});
    await p;
  }

  /** Whether `e` is the engine trapping; if so, the restart from stored data begins (once). */
  crashed(e) {
    if (!(e instanceof WebAssembly.RuntimeError)) return false;
    if (!this.restarting) {
      this.restarting = this.restart(e);
      // Requests wait for the new servers; those sent to the old id are refused as lost.
      this.queue = this.queue.then(() => this.restarting).catch(() => {});
    }
    return true;
  }

  /** Replaces every server with a new one on a fresh instance of the engine, loaded from the
   * stored snapshots, then has every page reconnect. */
  async restart(error) {
    const message = String(self.__redisPlaygroundPanic ?? error?.message ?? error);
    delete self.__redisPlaygroundPanic;
    console.warn("redis-playground: the engine crashed; restarting it from the stored data:", error);
    this.crash = { message, at: Date.now() };
    const old = [...this.servers.values()];
    // A save under way when it crashed completes first: the new servers load what it stored.
    await Promise.all(old.map((s) => s.abandon().catch(() => {})));
    this.servers = new Map();
    // The links were connections of the old engines: the new ones make theirs again.
    this.links.clear();
    this.shownOffset.clear();
    this.bus.clear();
    this.busQueue = [];
    this.migrateConns.clear();
    try {
      this.Playground = await loadEngine({ fresh: true });
      for (const s of old) {
        const inst = new Instance(this, s.port, { cluster: s.cluster });
        await inst.start(this.Playground, { store: s.store, primary: parseAddress(s.primaryStored), confStore: s.confStore });
        this.servers.set(s.port, inst);
      }
      this.pumpLinks();
    } catch (e) {
      this.notice(`The server crashed (${message}) and could not be started again (${e?.message ?? e}). Reload the page: the stored data is kept.`, "error", true);
      throw e;
    } finally {
      this.restarting = null;
    }
    this.id = `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 10)}`;
    this.notice(`The server crashed (${message}). It was started again with the data stored before the crash: every acknowledged write.`, "error", true);
    this.broadcast({ push: "hello", server: this.id });
  }

  /** Once per engine module, just after a page is welcomed (while it makes its terminal ready):
   * a command run on a scratch engine, with data and counters of its own, and dropped. The
   * browser compiles the engine's functions on their first call, a few milliseconds for the
   * command path that the page's first command would otherwise wait for. */
  warmUp() {
    if (this.warmed === this.Playground || !this.Playground) return;
    this.warmed = this.Playground;
    setTimeout(() => {
      let pg = null;
      try {
        pg = new this.warmed({ databases: 1 });
        const client = pg.openClient();
        pg.execute(client, "PING");
        pg.prompt(client);
      } catch {
        // only ever a head start
      } finally {
        pg?.free();
      }
    }, 0);
  }

  welcome(msg, send) {
    let conn = this.conns.get(msg.conn);
    if (!conn) {
      conn = { id: msg.conn, send };
      this.conns.set(msg.conn, conn);
      // The page holds this lock while it lives: when it is granted here, the page is gone
      // (closed, reloaded or crashed) and its clients are disconnected.
      if (msg.lock && self.navigator?.locks) {
        self.navigator.locks.request(msg.lock, () => this.drop(msg.conn));
      }
    }
    // The page's first client, opened with the welcome rather than one request later.
    let client = null;
    const inst = msg.open != null && !this.restarting ? this.servers.get(Number(msg.open)) : null;
    if (inst?.pg) {
      try {
        const id = inst.pg.openClient();
        inst.owner.set(id, conn);
        client = { port: inst.port, client: id, prompt: inst.pg.prompt(id) };
      } catch (e) {
        // An engine that trapped is restarted; the page's clients then reconnect.
        if (!this.crashed(e)) throw e;
      }
    }
    for (const s of this.servers.values()) s.statusChanged();
    const first = this.first;
    return {
      client,
      server: this.id,
      kind: this.kind,
      crash: this.crash,
      restored: first.restored,
      status: first.status(),
      servers: [...this.servers.values()].map((s) => ({ port: s.port, address: s.address, cluster: s.cluster, status: s.status(), restored: s.restored })),
      // How this worker's start went (see bench/page.mjs).
      marks: marksSinceEpoch(),
    };
  }

  drop(connId) {
    const conn = this.conns.get(connId);
    if (!conn) return;
    this.conns.delete(connId);
    for (const s of this.servers.values()) {
      s.dropConn(conn);
      s.afterWork();
    }
  }

  /** Host-level requests (the server list, a page leaving), or a request for one server. */
  async perform(conn, msg, target) {
    switch (msg.op) {
      case "addServer":
        return this.addServer({ cluster: !!msg.cluster });
      case "cluster":
        return this.clusterView();
      case "stopServer":
        return this.stopServer(Number(msg.port));
      case "startServer":
        return this.startServer(Number(msg.port));
      case "createCluster":
        return this.createCluster(Number(msg.primaries), Number(msg.replicas));
      case "removeServer":
        return this.removeServer(Number(msg.port));
      case "bye":
        this.drop(conn.id);
        return null;
      case "replication":
        return this.replicationView(Number(msg.since) || 0);
      case "cutLink":
        return this.cutLink(Number(msg.port));
      case "flush":
        // A page is hidden or left: whatever any server has not stored yet is stored now.
        for (const s of this.servers.values()) s.persistence.flush();
        return null;
      default: {
        const port = msg.port ?? FIRST_PORT;
        const inst = this.servers.get(port);
        if (!inst) throw new RequestError(`there is no server at ${addressOf(port)} any more`, "NOSERVER");
        target(inst);
        return inst.perform(conn, msg);
      }
    }
  }

  /** Starts a server on the next port, empty, and stores the new list of servers. */
  async addServer({ cluster = false } = {}) {
    if (this.servers.size >= MAX_SERVERS) throw new RequestError(`a playground holds at most ${MAX_SERVERS} servers`, "LIMIT");
    const port = cluster ? this.freeClusterPort() : Math.max(...this.servers.keys(), ...this.stopped.keys()) + 1;
    if (port > 65535 || port === null) throw new RequestError("no port is left for another server", "LIMIT");
    const inst = new Instance(this, port, { cluster });
    await inst.start(this.Playground, { fresh: true });
    this.servers.set(port, inst);
    await this.storeList();
    this.broadcast({ push: "servers", servers: this.serverList(), stopped: [...this.stopped.keys()] });
    return { port, address: inst.address, servers: this.serverList(), status: inst.status() };
  }

  /** Stops a server (never the first) as a killed redis-server stops: its clients, links and
   * bus links are gone, its stored data and nodes.conf stay, and it is still listed (a reload
   * or "startServer" starts it again). */
  async stopServer(port) {
    if (port === FIRST_PORT) throw new RequestError(`the first server, ${addressOf(FIRST_PORT)}, cannot be stopped`, "ERR");
    const inst = this.servers.get(port);
    if (!inst) throw new RequestError(`there is no server running at ${addressOf(port)}`, "NOSERVER");
    this.servers.delete(port);
    this.unlinkServer(port);
    this.unbusServer(port);
    this.stopped.set(port, { port, cluster: inst.cluster, store: inst.store, confStore: inst.confStore });
    this.broadcast({ push: "servers", servers: this.serverList(), stopped: [...this.stopped.keys()] });
    await inst.persistence.chain;
    await inst.storeNodesConf();
    inst.stop();
    return { servers: this.serverList(), stopped: [...this.stopped.keys()] };
  }

  /** Starts a stopped server again from its stored snapshot (and nodes.conf). */
  async startServer(port) {
    const was = this.stopped.get(port);
    if (!was) throw new RequestError(`${addressOf(port)} is not stopped`, "ERR");
    const inst = new Instance(this, port, { cluster: was.cluster });
    await inst.start(this.Playground, { store: was.store, confStore: was.confStore });
    this.stopped.delete(port);
    this.servers.set(port, inst);
    this.pumpBus();
    this.pumpLinks();
    this.broadcast({ push: "servers", servers: this.serverList(), stopped: [...this.stopped.keys()] });
    return { port, servers: this.serverList(), stopped: [...this.stopped.keys()], status: inst.status() };
  }

  /** The first port from 7000 up that no server has, its bus port a port too; or null. */
  freeClusterPort() {
    for (let p = CLUSTER_FIRST_PORT; p <= CLUSTER_LAST_PORT; p++) if (!this.servers.has(p) && !this.stopped.has(p)) return p;
    return null;
  }

  /** What the cluster view shows: each cluster node's CLUSTER NODES and CLUSTER INFO as it
   * sees them, and its keys, read without running commands. */
  clusterView() {
    const nodes = [];
    for (const s of this.servers.values()) {
      if (!s.cluster || !s.pg) continue;
      const view = s.pg.clusterView(true);
      if (view) nodes.push({ port: s.port, address: s.address, keys: s.pg.keyCounts()[0] ?? 0, ...view });
    }
    const stopped = [...this.stopped.values()].filter((s) => s.cluster).map((s) => s.port);
    return { nodes, stopped, at: Date.now(), job: this.clusterJob };
  }

  // ---- the cluster bus -----------------------------------------------------------------------

  /** Does what every cluster node's bus asks (connect, write, close) and delivers the bytes
   * and closes in flight, until nothing moves; returns the ports of the servers it delivered
   * to (their clients may have news: a message published on another node). A node's bus address 127.0.0.1:<port+10000>
   * is the server of this worker on <port>; any other address refuses the connection. */
  pumpBus() {
    const reached = new Set();
    for (let round = 0; round < BUS_ROUNDS; round++) {
      let moved = false;
      for (const inst of this.servers.values()) {
        if (!inst.cluster || !inst.pg) continue;
        for (const action of inst.pg.busActions()) {
          moved = true;
          this.busAct(inst, action);
        }
      }
      for (const ev of this.busQueue.splice(0)) {
        const inst = this.servers.get(ev.port);
        if (!inst?.pg) continue;
        moved = true;
        reached.add(ev.port);
        if (ev.bytes) inst.pg.busRead(ev.link, ev.bytes);
        else inst.pg.busClosed(ev.link);
      }
      if (!moved) break;
    }
    return reached;
  }

  /** One bus action of a node: ["connect", link, ip, port], ["write", link, bytes] or
   * ["close", link]. */
  busAct(inst, [kind, link, a, b]) {
    const mine = `${inst.port}/${link}`;
    if (kind === "connect") {
      const target = isLocalHost(a) ? this.servers.get(b - 10000) : null;
      const theirs = target?.cluster && target.pg ? target.pg.busAccepted("127.0.0.1", "127.0.0.1") : undefined;
      if (theirs === undefined || theirs === null) {
        // Connection refused: no node listens there.
        this.busQueue.push({ port: inst.port, link });
        return;
      }
      this.bus.set(mine, { port: target.port, link: theirs });
      this.bus.set(`${target.port}/${theirs}`, { port: inst.port, link });
      inst.pg.busConnected(link);
    } else if (kind === "write") {
      const peer = this.bus.get(mine);
      if (peer) this.busQueue.push({ port: peer.port, link: peer.link, bytes: a });
    } else if (kind === "close") {
      const peer = this.bus.get(mine);
      this.bus.delete(mine);
      if (peer) {
        this.bus.delete(`${peer.port}/${peer.link}`);
        this.busQueue.push({ port: peer.port, link: peer.link });
      }
    }
  }

  /** A node is going: every bus link it had closes at the other end. */
  unbusServer(port) {
    for (const [key, peer] of [...this.bus]) {
      if (!key.startsWith(`${port}/`)) continue;
      this.bus.delete(key);
      this.bus.delete(`${peer.port}/${peer.link}`);
      this.busQueue.push({ port: peer.port, link: peer.link });
    }
    this.busQueue = this.busQueue.filter((ev) => ev.port !== port);
    this.pumpBus();
  }

  // ---- MIGRATE between servers ----------------------------------------------------------------

  /** MIGRATE's I/O for the server `from`, synchronous as Redis's: "connect" (host, port) → a
   * handle, or -1 when no server of this worker is there (or it is `from` itself, which
   * could not answer while it migrates); "write" (handle, bytes) → what the target answered,
   * or null when it is gone; "close" (handle). */
  migrateOp(from, op, a, b) {
    if (op === "connect") {
      const target = isLocalHost(a) ? this.servers.get(Number(b)) : null;
      if (!target?.pg || target === from) return -1;
      const handle = ++this.migrateSeq;
      this.migrateConns.set(handle, { port: target.port, pg: target.pg, conn: target.pg.openConnection() });
      return handle;
    }
    const c = this.migrateConns.get(a);
    const target = c ? this.servers.get(c.port) : null;
    const alive = target?.pg && target.pg === c.pg;
    if (op === "write") {
      if (!alive) return null;
      try {
        const before = target.pg.dirty();
        const out = target.pg.write(c.conn, b);
        if (target.pg.dirty() !== before) target.changed(null, null);
        return out;
      } catch {
        return null;
      }
    }
    if (op === "close" && c) {
      this.migrateConns.delete(a);
      if (alive) target.pg.closeConnection(c.conn);
    }
    return null;
  }

  // ---- the one-click cluster ------------------------------------------------------------------

  /** Builds a cluster of `primaries` primaries with `replicas` replicas each on new cluster
   * nodes, with the commands redis-cli --cluster create sends, and its messages; answers at
   * once (the cluster view follows the work in `clusterJob`). */
  createCluster(primaries, replicas) {
    if (this.clusterJob && !this.clusterJob.done) throw new RequestError("a cluster is being created already", "ERR");
    if (!Number.isInteger(primaries) || primaries < MIN_PRIMARIES) throw new RequestError(`a cluster needs at least ${MIN_PRIMARIES} primaries`, "ERR");
    if (!Number.isInteger(replicas) || replicas < 0) throw new RequestError("replicas must be 0 or more", "ERR");
    const total = primaries * (1 + replicas);
    if (this.servers.size + total > MAX_SERVERS) {
      throw new RequestError(`a playground holds at most ${MAX_SERVERS} servers: ${total} more do not fit beside the ${this.servers.size} it has`, "LIMIT");
    }
    const job = { lines: [], done: false, error: null, ports: [] };
    this.clusterJob = job;
    this.buildCluster(job, primaries, replicas).catch((e) => {
      job.error = e?.message ?? String(e);
      job.lines.push(`[ERR] ${job.error}`);
    }).finally(() => {
      job.done = true;
    });
    return { started: true };
  }

  async buildCluster(job, primaries, replicas) {
    const say = (line) => job.lines.push(line);
    const nodes = [];
    for (let i = 0; i < primaries * (1 + replicas); i++) {
      const { port } = await this.addServer({ cluster: true });
      nodes.push(this.servers.get(port));
      job.ports.push(port);
    }
    // A client of each node, as redis-cli has a connection to each.
    const clients = new Map(nodes.map((n) => [n.port, n.pg.openClient()]));
    const send = (node, argv, shown = argv.join(" ")) => {
      if (!node.pg) throw new Error(`${node.address} stopped`);
      say(`${node.address}> ${shown}`);
      const out = node.pg.executeArgs(clients.get(node.port), argv);
      if (out.reply?.type === "error") say(`(error) ${out.reply.value}`);
      node.changed(null, null);
      this.pumpBus();
      this.pumpLinks();
      return out.reply;
    };
    const masters = nodes.slice(0, primaries);
    say(`>>> Performing hash slots allocation on ${nodes.length} nodes...`);
    // redis-cli's split: a float cursor, each range's end rounded.
    const per = Math.fround(SLOTS / primaries);
    let first = 0;
    let cursor = 0;
    const ranges = [];
    for (let i = 0; i < primaries; i++) {
      let last = Math.round(Math.fround(cursor + per - 1));
      if (last > SLOTS || i === primaries - 1) last = SLOTS - 1;
      if (last < first) last = first;
      say(`Master[${i}] -> Slots ${first} - ${last}`);
      ranges.push([first, last]);
      first = last + 1;
      cursor = Math.fround(cursor + per);
    }
    const replicaOf = new Map();
    for (let r = 0; r < replicas; r++) {
      for (let i = 0; i < primaries; i++) {
        const replica = nodes[primaries + r * primaries + i];
        replicaOf.set(replica, masters[i]);
        say(`Adding replica ${replica.address} to ${masters[i].address}`);
      }
    }
    for (let i = 0; i < primaries; i++) {
      const [a, b] = ranges[i];
      const slots = [];
      for (let s = a; s <= b; s++) slots.push(String(s));
      send(masters[i], ["CLUSTER", "ADDSLOTS", ...slots], `CLUSTER ADDSLOTS ${a} ${a + 1} … ${b} (${b - a + 1} slots)`);
    }
    say(">>> Nodes configuration updated");
    say(">>> Assign a different config epoch to each node");
    nodes.forEach((n, i) => send(n, ["CLUSTER", "SET-CONFIG-EPOCH", String(i + 1)]));
    say(">>> Sending CLUSTER MEET messages to join the cluster");
    for (const n of nodes.slice(1)) send(n, ["CLUSTER", "MEET", "127.0.0.1", String(nodes[0].port)]);
    say("Waiting for the cluster to join");
    const ids = nodes.map((n) => /^(\S+) .*\bmyself\b/m.exec(n.pg.clusterView(true).nodes)?.[1]);
    const joined = () => nodes.every((n) => {
      const text = n.pg?.clusterView(true)?.nodes ?? "";
      return ids.every((id) => text.includes(id)) && !/handshake|noaddr/.test(text);
    });
    await this.until(joined, JOIN_WAIT_MS, () => say("."));
    for (const [replica, master] of replicaOf) {
      send(replica, ["CLUSTER", "REPLICATE", ids[nodes.indexOf(master)]]);
    }
    say(">>> Performing Cluster Check (using node " + nodes[0].address + ")");
    const covered = () => nodes.every((n) => /cluster_state:ok/.test(n.pg?.clusterView(false)?.info ?? ""));
    await this.until(covered, JOIN_WAIT_MS);
    say("[OK] All nodes agree about slots configuration.");
    say("[OK] All 16384 slots covered.");
    for (const n of nodes) n.pg?.closeClient(clients.get(n.port));
  }

  /** Resolves once `ok()` holds, checking every 100 ms (the bus moves on the servers' ticks);
   * fails after `ms`. */
  async until(ok, ms, waiting = () => {}) {
    const end = Date.now() + ms;
    let tick = 0;
    while (!ok()) {
      if (Date.now() > end) throw new Error("the nodes did not agree in time");
      await new Promise((r) => setTimeout(r, 100));
      if (++tick % 10 === 0) waiting();
    }
  }

  /** Stops a server (never the first), disconnects its clients and deletes its snapshot. The
   * list is stored first: a crash in between leaves an unlisted snapshot, which a server added
   * later on that port deletes before it starts. */
  async removeServer(port) {
    if (port === FIRST_PORT) throw new RequestError(`the first server, ${addressOf(FIRST_PORT)}, cannot be removed`, "ERR");
    const inst = this.servers.get(port);
    if (!inst) throw new RequestError(`there is no server at ${addressOf(port)}`, "NOSERVER");
    this.servers.delete(port);
    this.unlinkServer(port);
    this.unbusServer(port);
    // Pages close the tabs of a server that is gone when they hear of the new list.
    this.broadcast({ push: "servers", servers: this.serverList(), stopped: [...this.stopped.keys()] });
    await inst.persistence.chain;
    inst.stop();
    await this.storeList();
    await inst.store.clear();
    await inst.confStore?.clear().catch(() => {});
    return { servers: this.serverList() };
  }

  async storeList() {
    try {
      const primaries = {};
      for (const s of this.servers.values()) {
        if (s.cluster) continue;
        const link = s.pg?.replication().link;
        if (link) primaries[s.port] = [link.host, link.port];
        if (s.pg) s.primaryStored = link ? `${link.host}:${link.port}` : null;
      }
      const cluster = [...this.servers.values(), ...this.stopped.values()].filter((s) => s.cluster).map((s) => s.port);
      await this.list.save([...this.servers.keys(), ...this.stopped.keys()], primaries, cluster);
    } catch (e) {
      this.notice(`The list of servers could not be stored in this browser (${e.message}): a reload brings back only the servers stored before.`, "error");
    }
  }

  // ---- replication links ---------------------------------------------------------------------

  /** Moves bytes along every link until none are waiting: a replica's handshake and
   * acknowledgements to its primary, the primary's answers and stream to the replica. */
  pumpLinks() {
    let any = false;
    for (let round = 0; round < LINK_ROUNDS; round++) {
      let moved = false;
      for (const inst of this.servers.values()) {
        if (inst.pg) moved = this.linkStep(inst) || moved;
      }
      for (const inst of this.servers.values()) {
        if (inst.pg) moved = this.deliverStream(inst) || moved;
      }
      if (!moved) break;
      any = true;
    }
    return any;
  }

  /** One replica's link: opened, dropped or fed as its engine asks. Whether bytes moved. */
  linkStep(inst) {
    const pg = inst.pg;
    let link = this.links.get(inst.port);
    const epoch = pg.linkEpoch();
    if (link && epoch !== link.epoch) {
      // REPLICAOF NO ONE or another primary, or the engine gave the connection up.
      this.closeLink(inst.port, link);
      link = null;
    }
    if (!link) {
      const want = pg.linkWanted();
      if (!want) return false;
      pg.linkConnecting();
      link = { host: want.host, port: want.port, epoch: want.epoch, primary: null, conn: null };
      this.links.set(inst.port, link);
    }
    if (link.primary === null) {
      const target = isLocalHost(link.host) ? this.servers.get(link.port) : null;
      if (!target?.pg) return false;
      link.primary = target.port;
      link.conn = target.pg.openConnection();
      link.up = new LinkReader(false);
      link.down = new LinkReader(true);
      link.offset = null;
      link.psync = null;
      pg.linkEstablished();
    }
    const primary = this.servers.get(link.primary);
    if (!primary?.pg) {
      this.links.delete(inst.port);
      pg.linkLost();
      return true;
    }
    let moved = false;
    const out = pg.takeLinkOutput();
    if (out.length > 0) {
      moved = true;
      this.logUp(inst, link, out);
      const answer = primary.pg.write(link.conn, out);
      if (answer.length > 0) this.feed(inst, link, answer);
    }
    const late = primary.pg.read(link.conn);
    if (late.length > 0) {
      moved = true;
      this.feed(inst, link, late);
    }
    if (primary.pg.connectionClosed(link.conn)) {
      // The primary ended the connection (CLIENT KILL, a replica it lost patience with).
      primary.pg.closeConnection(link.conn);
      this.links.delete(inst.port);
      this.record(primary.port, inst.port, "down", "connection closed by the primary");
      pg.linkLost();
      moved = true;
    }
    return moved;
  }

  /** What a primary queued for its replicas, to each replica's engine. */
  deliverStream(inst) {
    const pairs = inst.pg.takeReplicaOutput();
    if (pairs.length === 0) return false;
    for (const [conn, bytes] of pairs) {
      for (const [port, link] of this.links) {
        if (link.primary === inst.port && link.conn === conn) {
          const replica = this.servers.get(port);
          if (replica?.pg) this.feed(replica, link, bytes);
        }
      }
    }
    return true;
  }

  /** Bytes from the primary into a replica's engine, read for the log on the way. */
  feed(inst, link, bytes) {
    const before = inst.pg.dirty();
    const keys = inst.pg.keyCounts().join();
    inst.pg.linkFeed(bytes);
    if (inst.pg.dirty() !== before || inst.pg.keyCounts().join() !== keys) inst.changed(null, null);
    for (const e of link.down.push(bytes)) {
      if (e.kind === "reply") {
        const m = /^\+(FULLRESYNC) \S+ (\d+)|^\+(CONTINUE)/.exec(e.text);
        if (m?.[1]) link.offset = Number(m[2]);
        else if (m?.[3]) link.offset = link.psync;
        this.record(link.primary, inst.port, "down", e.text, { kind: "reply" });
      } else if (e.kind === "snapshot") {
        this.record(link.primary, inst.port, "down", `RDB snapshot, ${e.size} bytes`, { kind: "snapshot" });
      } else {
        // The stream: each command once per primary, however many replicas it went to.
        const end = link.offset === null ? null : link.offset + e.size;
        if (end !== null) link.offset = end;
        const shown = this.shownOffset.get(link.primary) ?? -1;
        if (end !== null && end <= shown) continue;
        if (end !== null) this.shownOffset.set(link.primary, end);
        this.record(link.primary, null, "stream", e.text, { kind: "command", resp: e.resp, offset: end });
      }
    }
  }

  /** Bytes from a replica to its primary, read for the log (acknowledgements are not kept:
   * one a second per replica would bury the rest). */
  logUp(inst, link, bytes) {
    for (const e of link.up.push(bytes)) {
      const head = commandHead(e);
      if (head.startsWith("PSYNC")) {
        const next = Number(argText(e, 2));
        link.psync = Number.isFinite(next) ? next - 1 : null;
      }
      if (head === "REPLCONF ACK") continue;
      this.record(link.primary, inst.port, "up", e.text, { kind: "command", resp: e.resp });
    }
  }

  record(primary, replica, dir, text, extra = {}) {
    this.log.push({ seq: ++this.logSeq, time: Date.now(), primary, replica, dir, text, ...extra });
    if (this.log.length > LOG_KEEP) this.log.splice(0, this.log.length - LOG_KEEP);
  }

  /** Ends a replica's connection on its primary (the replica's engine already moved on). */
  closeLink(port, link) {
    this.links.delete(port);
    if (link.primary === null) return;
    const primary = this.servers.get(link.primary);
    if (primary?.pg) {
      primary.pg.closeConnection(link.conn);
      primary.afterWork();
    }
  }

  /** The page's "Cut link": a replica's connection ends as on a network failure; the replica
   * reconnects and asks to continue where it stopped. */
  cutLink(port) {
    const link = this.links.get(port);
    const replica = this.servers.get(port);
    if (!link || link.primary === null || !replica?.pg) throw new RequestError(`${addressOf(port)} has no link up to cut`, "ERR");
    this.closeLink(port, link);
    this.record(link.primary, port, "down", "link cut (connection closed)");
    replica.pg.linkLost();
    this.pumpLinks();
    return null;
  }

  /** A server is going: its own link closes, and its replicas lose theirs. */
  unlinkServer(port) {
    const own = this.links.get(port);
    if (own) this.closeLink(port, own);
    for (const [replicaPort, link] of [...this.links]) {
      if (link.primary !== port) continue;
      this.links.delete(replicaPort);
      this.servers.get(replicaPort)?.pg?.linkLost();
    }
    this.pumpLinks();
  }

  /** A server whose primary changed (REPLICAOF, FAILOVER) has it stored with the list. */
  async storePrimaries() {
    const changed = [...this.servers.values()].some((s) => {
      if (s.cluster) return false;
      const link = s.pg?.replication().link;
      return s.pg && (link ? `${link.host}:${link.port}` : null) !== s.primaryStored;
    });
    if (changed) await this.storeList();
  }

  /** The replication view: every server's role, links and offsets, and the log after `since`. */
  replicationView(since) {
    const servers = [...this.servers.values()].map((s) => ({ port: s.port, address: s.address, ...s.pg.replication() }));
    return { servers, log: this.log.filter((e) => e.seq > since), seq: this.logSeq };
  }

  // ---- transports ----------------------------------------------------------------------------

  /** Answers on the namespace's BroadcastChannel (pages without SharedWorker), and says so. */
  listenBroadcast() {
    if (this.namespace === null || typeof BroadcastChannel === "undefined") return;
    // Only once this worker owns the stored data: a predecessor may still be answering.
    this.started.then(() => {
      const channel = new BroadcastChannel(`${PREFIX}:${this.namespace}`);
      channel.onmessage = (e) => {
        const msg = e.data;
        if (msg?.to !== "server") return;
        this.receive(msg, (reply) => channel.postMessage({ ...reply, to: msg.conn }));
      };
      channel.postMessage({ to: "*", push: "hello", server: this.id });
    }, () => {});
  }
}
