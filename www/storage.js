// Where the playground keeps things between visits: snapshots (Redis RDB files) in IndexedDB,
// the command history in localStorage, and the autosave policy that ties them to the engine.
//
// A snapshot is one record written in one IndexedDB transaction, so a crash or a closed tab
// leaves either the previous snapshot or the new one, never half of each.

const DB_NAME = "redis-playground";
const DB_VERSION = 1;
const STORE = "snapshots";

let dbPromise = null;

function openDb(early = null) {
  if (!dbPromise) {
    dbPromise = (async () => {
      // A connection opened before this module loaded (server.js), when it is the version and
      // has the store this module wants; otherwise closed, and the database opened here.
      const db = early ? await early.catch(() => null) : null;
      if (db?.version === DB_VERSION && db.objectStoreNames.contains(STORE)) return db;
      db?.close();
      return new Promise((resolve, reject) => {
        if (typeof indexedDB === "undefined") {
          reject(new Error("IndexedDB is not available in this browser"));
          return;
        }
        const req = indexedDB.open(DB_NAME, DB_VERSION);
        req.onupgradeneeded = () => {
          if (!req.result.objectStoreNames.contains(STORE)) req.result.createObjectStore(STORE);
        };
        req.onsuccess = () => resolve(req.result);
        req.onerror = () => reject(req.error ?? new Error("IndexedDB could not be opened"));
        req.onblocked = () => reject(new Error("IndexedDB is blocked by another tab"));
      });
    })();
    // A failed open may succeed later (another tab closed): do not cache the failure.
    dbPromise.catch(() => { dbPromise = null; });
  }
  return dbPromise;
}

/** Opens the database ahead of its first use (a new profile's first open takes a while):
 * reading nothing, it is safe before the namespace's lock is held. `early`: the promise of a
 * connection opened before this module loaded (server.js; see openDb). */
export function openStorage(early = null) {
  openDb(early).catch(() => {});
}

/** Runs `fn(store)` in one transaction; resolves with the request's result once committed. */
async function inTransaction(mode, fn) {
  const db = await openDb();
  return new Promise((resolve, reject) => {
    const tx = db.transaction(STORE, mode);
    const req = fn(tx.objectStore(STORE));
    // Commit now rather than when the event loop gets back to it: a save made as the page
    // is left must be committed before the document goes away.
    tx.commit?.();
    tx.oncomplete = () => resolve(req ? req.result : undefined);
    tx.onerror = () => reject(tx.error ?? new Error("IndexedDB transaction failed"));
    tx.onabort = () => reject(tx.error ?? new Error("IndexedDB transaction aborted"));
  });
}

/** Snapshots of one namespace in IndexedDB (the page uses "default"; each widget its own). */
export class SnapshotStore {
  constructor(namespace) {
    this.key = String(namespace);
    this.early = null; // the read preload() started, for the next load()
  }

  /** Starts reading the record now (alongside other reads), for the next load() to answer. */
  preload() {
    this.early = this.read();
    this.early.catch(() => {});
  }

  /** The stored record `{ bytes, savedAt }`, or null when nothing is stored. A record whose
   * shape is wrong is returned with `bytes: null` so the caller treats it as corrupt. */
  load() {
    const early = this.early;
    this.early = null;
    return early ?? this.read();
  }

  async read() {
    const rec = await inTransaction("readonly", (s) => s.get(this.key));
    if (rec === undefined) return null;
    const bytes = rec && rec.bytes instanceof Uint8Array ? rec.bytes
      : rec && rec.bytes instanceof ArrayBuffer ? new Uint8Array(rec.bytes) : null;
    return { bytes, savedAt: typeof rec?.savedAt === "number" ? rec.savedAt : null, raw: rec };
  }

  /** Stores the whole snapshot in one transaction; resolves with the time once committed. */
  async save(bytes) {
    const savedAt = Date.now();
    await inTransaction("readwrite", (s) => s.put({ version: 1, savedAt, bytes }, this.key));
    return savedAt;
  }

  /** Deletes the stored snapshot. */
  async clear() {
    await inTransaction("readwrite", (s) => s.delete(this.key));
  }
}

/** The port of a namespace's first server, whose snapshot keeps the namespace's own key. */
export const FIRST_PORT = 6379;

/** The snapshot store of one server of a namespace: the first server (6379) keeps the key the
 * namespace always had, so data stored before there were several servers is still found; the
 * others are stored as "<namespace>#<port>". */
export function serverStore(namespace, port) {
  return new SnapshotStore(port === FIRST_PORT ? namespace : `${namespace}#${port}`);
}

/** A cluster node's nodes.conf (its ID, the nodes it knows, the slots, the epochs), as text in
 * one record beside its snapshot, "<namespace>#<port>#nodes.conf": redis-server keeps the
 * file apart from the data too, and rewrites it whole on every change. */
export class NodesConfStore {
  constructor(namespace, port) {
    this.key = `${namespace}#${port}#nodes.conf`;
  }

  /** The stored text, or null. */
  async load() {
    const rec = await inTransaction("readonly", (s) => s.get(this.key));
    return typeof rec?.text === "string" ? rec.text : null;
  }

  async save(text) {
    await inTransaction("readwrite", (s) => s.put({ version: 1, text }, this.key));
  }

  async clear() {
    await inTransaction("readwrite", (s) => s.delete(this.key));
  }
}

/** A nodes.conf kept in memory only (a private server). */
export class MemoryNodesConf {
  constructor() {
    this.text = null;
  }
  async load() {
    return this.text;
  }
  async save(text) {
    this.text = text;
  }
  async clear() {
    this.text = null;
  }
}

/** Which servers a namespace has (their ports, the first one first): one small record beside
 * the snapshots, "<namespace>#servers", so a reload brings every server back. */
export class ServerListStore {
  constructor(namespace) {
    this.key = `${namespace}#servers`;
    this.early = null; // the read preload() started, for the next load()
  }

  /** Starts reading the record now (alongside other reads), for the next load() to use. */
  preload() {
    this.early = inTransaction("readonly", (s) => s.get(this.key));
    this.early.catch(() => {});
  }

  /** The stored ports, or null when none were stored (a namespace with only its first server).
   * The servers' primaries (`{ port: [host, primaryPort] }`) are then in `primaries`, and
   * the ports of the cluster nodes (`cluster-enabled yes`) in `cluster`. */
  async load() {
    const early = this.early;
    this.early = null;
    const rec = await (early ?? inTransaction("readonly", (s) => s.get(this.key)));
    this.primaries = rec?.primaries && typeof rec.primaries === "object" ? rec.primaries : {};
    this.cluster = Array.isArray(rec?.cluster) ? rec.cluster : [];
    return Array.isArray(rec?.ports) ? rec.ports : null;
  }

  async save(ports, primaries = {}, cluster = []) {
    await inTransaction("readwrite", (s) => s.put({ version: 1, ports: [...ports], primaries, cluster: [...cluster] }, this.key));
  }
}

/** What a worker reads first once it holds the namespace's lock, read at once and together:
 * the list of servers and the first server's snapshot (there always is a first server).
 * Resolves with the stores, whose next load() answers with what was read. */
export function preloadStored(namespace) {
  const list = new ServerListStore(namespace);
  list.preload();
  const first = serverStore(namespace, FIRST_PORT);
  first.preload();
  return { list, first };
}

/** The server list of a private server: in memory only. */
export class MemoryServerList {
  async load() {
    return null;
  }
  async save() {}
}

/** A store that keeps the snapshot in memory only (a widget without a namespace). */
export class MemoryStore {
  constructor() {
    this.record = null;
  }
  async load() {
    return this.record;
  }
  async save(bytes) {
    const savedAt = Date.now();
    this.record = { bytes, savedAt };
    return savedAt;
  }
  async clear() {
    this.record = null;
  }
}

// Lines redis-cli keeps out of its history file because they carry passwords.
const SECRET = /^\s*(auth\b|acl\s+setuser\b|hello\b.*\bauth\b|migrate\b.*\bauth2?\b|config\s+set\s+(masterauth|masteruser|requirepass)\b)/i;

/** The typed-command history, persisted in localStorage (or memory when `key` is null). */
export class HistoryStore {
  constructor(key, limit = 1000) {
    this.key = key;
    this.limit = limit;
    this.memory = [];
  }

  load() {
    if (!this.key) return [...this.memory];
    try {
      const v = JSON.parse(localStorage.getItem(this.key) ?? "[]");
      return Array.isArray(v) ? v.filter((l) => typeof l === "string") : [];
    } catch {
      return [];
    }
  }

  /** Whether a line belongs in the history at all. */
  static keeps(line) {
    return line.trim() !== "" && !SECRET.test(line);
  }

  add(line) {
    if (!HistoryStore.keeps(line)) return;
    const lines = this.load();
    if (lines[lines.length - 1] !== line) lines.push(line);
    const kept = lines.slice(-this.limit);
    if (!this.key) {
      this.memory = kept;
      return;
    }
    try {
      localStorage.setItem(this.key, JSON.stringify(kept));
    } catch {
      // A full or disabled localStorage only costs the history across visits.
    }
  }
}

/**
 * Keeps the engine's data in a store. It runs where the engine runs (the server worker, see
 * host.js): restores the snapshot on start, saves after changes, and carries out the
 * explicit actions (save, reset, import). When the stored snapshot cannot be read it is never
 * overwritten automatically: autosave stays paused until the user saves, resets, imports or
 * discards it.
 *
 * The durability rule: a request that changed data is answered only once a snapshot holding
 * the change is committed (the server calls `save()` before it answers, as Redis does with
 * `appendfsync always`), so an acknowledged write survives any tab closing or crashing. Changes
 * no request made (active expiry deleting keys) are stored at most `delayMs` (one second)
 * later, through `changed()`. A snapshot is one IndexedDB transaction, so a crash leaves the
 * previous snapshot or the new one, never half of each. When storing fails (no IndexedDB, quota
 * exceeded), the data stays in memory, the status says why, and the stored snapshot is the
 * last good one.
 */
export class Persistence {
  constructor(pg, store, { onChange = () => {}, delayMs = 1000, load = null } = {}) {
    this.pg = pg;
    // How the stored snapshot is loaded at start (a replica's differs: see host.js).
    this.load = load ?? ((bytes) => pg.restore(bytes));
    this.store = store;
    this.onChange = onChange;
    this.delayMs = delayMs;
    this.savedAt = null;     // when the data last reached the store (ms), null if never
    this.blocked = null;     // { message } while a corrupt stored snapshot is protected
    this.error = null;       // the last save failure, shown in the status line
    this.timer = null;
    this.chain = Promise.resolve();
  }

  destroy() {
    clearTimeout(this.timer);
  }

  /** Restores the stored snapshot: "empty", "restored", or "corrupt" (with `message`). */
  async restore() {
    let rec;
    try {
      rec = await this.store.load();
    } catch (e) {
      this.error = e.message;
      this.onChange();
      return { status: "unavailable", message: e.message };
    }
    if (!rec) return { status: "empty" };
    try {
      if (!rec.bytes) throw new Error("the stored record holds no snapshot bytes");
      this.load(rec.bytes);
    } catch (e) {
      this.blocked = { message: e.message, record: rec };
      this.onChange();
      return { status: "corrupt", message: e.message };
    }
    this.pg.markSaved();
    this.savedAt = rec.savedAt ?? Date.now();
    this.onChange();
    return { status: "restored" };
  }

  /** Called after anything that may have written (and on every tick): when there are
   * unsaved changes and no save is scheduled, schedules one `delayMs` from now. */
  changed() {
    if (this.blocked || this.timer !== null || this.pg.dirty() === 0) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.save().catch(() => {});
    }, this.delayMs);
  }

  /** Saves now if there is anything unsaved (a page was hidden or left). */
  flush() {
    if (this.blocked || this.pg.dirty() === 0) return;
    clearTimeout(this.timer);
    this.timer = null;
    this.save().catch(() => {});
  }

  /** Stores a snapshot now. `explicit` (SAVE, the Save button) also overwrites a protected
   * corrupt snapshot. Saves run one after another. */
  save({ explicit = false } = {}) {
    const run = async () => {
      if (this.blocked && !explicit) return;
      // A script suspended between slices has written only part of what it will: its
      // writes are stored once it has ended (the server saves then).
      if (this.pg.scriptSuspended?.()) return;
      const changes = this.pg.dirty();
      const bytes = this.pg.snapshot();
      try {
        this.savedAt = await this.store.save(bytes);
      } catch (e) {
        this.error = e.message;
        this.onChange();
        throw e;
      }
      // Writes made while the record was being stored stay counted for the next save.
      this.pg.markSaved(changes);
      this.blocked = null;
      this.error = null;
      this.onChange();
      if (this.pg.dirty() > 0) this.changed();
    };
    const p = this.chain.then(run);
    this.chain = p.catch(() => {});
    return p;
  }

  /** Empties every database and deletes the stored snapshot. */
  async reset() {
    clearTimeout(this.timer);
    this.timer = null;
    await this.chain;
    const c = this.pg.openClient();
    let reply;
    try {
      reply = this.pg.executeArgs(c, ["FLUSHALL"]).reply;
    } finally {
      this.pg.closeClient(c);
    }
    if (reply?.type !== "status") {
      // Without FLUSHALL, an empty snapshot empties every database just as well.
      this.pg.restore(emptySnapshot(this.pg));
    }
    await this.store.clear();
    this.pg.markSaved();
    this.savedAt = null;
    this.blocked = null;
    this.error = null;
    this.onChange();
  }

  /** Replaces the data with an imported snapshot (throws, data kept, if it is refused). The
   * caller stores it with `save({ explicit: true })`. */
  async import(bytes) {
    await this.chain;
    this.pg.restore(bytes);
    this.onChange();
  }

  /** Drops a protected corrupt snapshot and stores the current data instead. */
  async discardStored() {
    await this.store.clear();
    this.blocked = null;
    this.onChange();
    await this.save({ explicit: true });
  }
}

function emptySnapshot(pg) {
  const Ctor = pg.constructor;
  const empty = new Ctor({ databases: pg.keyCounts().length });
  try {
    return empty.snapshot();
  } finally {
    empty.free?.();
  }
}
