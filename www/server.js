// The script of the server's worker (the servers themselves are in host.js: see there for
// the kinds of worker and the messages). It imports nothing statically, so that it runs as
// soon as this one file is fetched, and starts at once what the first reply waits for anyway,
// while host.js and the modules it imports load:
// - the engine's fetch and compilation, and its glue's import (engine.js adopts them);
// - in a SharedWorker, the namespace's lock (its name says the namespace), which a worker
//   starting while its predecessor still lives waits for; the opening of IndexedDB (storage.js
//   adopts it); and once the lock is held, the reading of what is stored (storage.js
//   preloadStored).
// The pages' connections and messages arriving meanwhile are answered in order once the Host
// exists. The connect handler is installed now: one installed after the script's first run
// would miss the connections made before.
const PREFIX = "redis-playground";
// storage.js's database (opened early here: see openExisting).
const DB_NAME = "redis-playground";

try {
  performance.mark("rp:worker-script");
} catch {
  // marks are only for measuring
}

// The two longest waits on the way to the first reply begin before any import: the engine's
// compilation, and (in a SharedWorker) the opening of IndexedDB. engine.js and storage.js take
// them over once loaded.
const earlyModule = typeof WebAssembly.compileStreaming === "function"
  ? WebAssembly.compileStreaming(fetch(new URL("./pkg/redis_playground_bg.wasm", self.location.href)))
  : null;
earlyModule?.catch(() => {});
import("./engine.js").then((m) => m.preloadEngine(earlyModule), () => {});
// The engine's glue too (engine.js imports it by the same URL, so it is this one module), rather
// than once engine.js has loaded.
import("./pkg/redis_playground.js").catch(() => {});
const loaded = import("./host.js");
loaded.catch(() => {});
// host.js's own imports, fetched now with it rather than once it is read.
const storage = import("./storage.js");
storage.catch(() => {});
import("./replstream.js").catch(() => {});

/** Holds a Web Lock until the worker ends; resolves once it is held (at once without locks). */
function holdLock(name) {
  if (!self.navigator?.locks) return Promise.resolve();
  return new Promise((held) => {
    self.navigator.locks.request(name, () => {
      held();
      return new Promise(() => {});
    });
  });
}

/** Opens the IndexedDB database `name` if it exists (resolves with it; storage.js checks it is
 * the version it wants), without creating it: a new one is storage.js's to create with its
 * stores, so an open that would create it is aborted (and rejects). */
function openExisting(name) {
  return new Promise((resolve, reject) => {
    if (typeof indexedDB === "undefined") {
      reject(new Error("no IndexedDB"));
      return;
    }
    const req = indexedDB.open(name);
    req.onupgradeneeded = () => req.transaction.abort();
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
    req.onblocked = () => reject(new Error("blocked"));
  });
}

let hosting = null; // promise of the Host, once the kind of worker is known

/** A page's message, handed to the Host once it exists (in the order they came). */
function deliver(msg, send) {
  hosting.then((host) => host.receive(msg, send), (e) => {
    if (typeof msg?.op === "string" && msg.id !== undefined) {
      send({ re: msg.id, err: `the server could not start: ${e?.message ?? e}`, code: "START" });
    }
  });
}

if (typeof SharedWorkerGlobalScope !== "undefined" && self instanceof SharedWorkerGlobalScope) {
  const name = String(self.name ?? "");
  const namespace = name.startsWith(`${PREFIX}:`) ? name.slice(PREFIX.length + 1) : "default";
  const locked = holdLock(`${PREFIX}:server:${namespace}`);
  const earlyDb = openExisting(DB_NAME);
  storage.then((m) => m.openStorage(earlyDb), () => {});
  // Once the lock is held, what is stored is read while host.js loads.
  const stored = Promise.all([storage, locked]).then(([m]) => m.preloadStored(namespace));
  stored.catch(() => {});
  hosting = loaded.then(({ Host }) => {
    const host = new Host(namespace, "shared", { locked, stored });
    host.listenBroadcast();
    return host;
  });
  hosting.catch((e) => console.warn("redis-playground server:", e));
  self.onconnect = (e) => {
    const port = e.ports[0];
    const send = (reply) => port.postMessage(reply);
    port.onmessage = (m) => deliver(m.data, send);
    port.start();
    port.postMessage({ push: "alive" });
  };
} else {
  // A dedicated worker: the page says which kind in its first message.
  let kind = null;
  const send = (reply) => self.postMessage(reply);
  self.onmessage = (e) => {
    const msg = e.data;
    if (!hosting && msg?.op === "serve") {
      const namespace = typeof msg.namespace === "string" ? msg.namespace : null;
      kind = namespace === null ? "private" : "leader";
      hosting = loaded.then(({ Host }) => {
        const locked = namespace === null ? null : holdLock(`${PREFIX}:server:${namespace}`);
        const host = new Host(namespace, kind, { locked });
        if (namespace !== null) host.listenBroadcast();
        return host;
      });
      hosting.catch((e) => console.warn("redis-playground server:", e));
      if (namespace === null) self.postMessage({ push: "alive" });
      return;
    }
    if (kind === "private") deliver(msg, send);
  };
}
