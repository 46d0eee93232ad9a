// The page's service worker: after one visit, the page loads from this browser, fast, and works
// with no network.
//
// Cache first, one version at a time: installing fetches every file the page can need (FILES,
// and the engine's snippets) into a cache of their own, so one visit is enough even for what it
// had not opened yet (the tutorial's lessons, the monitor). Those files are then served from
// that cache without asking the network, so a visit starts as fast as the browser can read
// them: where the browser can route requests itself (InstallEvent.addRoutes), it reads them
// from the cache without even starting this worker. After a visit (the page says when) the
// worker asks the network, in the background, whether any of them changed; if one did, it
// fetches them all into a new cache and serves that one from the next visit on: the page and
// its engine always come from one version of the site, never half of each (the engine's glue
// and wasm must match; the older copy is deleted once the new one is complete, and the browser's
// routing reads the older one first while both exist). Anything else is fetched from the
// network, with the cache as the fallback. The data itself is in IndexedDB, not here.
//
// tests/e2e/offline.test.mjs checks that FILES lists every file of www/ the page uses (the
// engine's snippets excepted: they are read from its glue).
// Caches of this worker's scope are named PREFIX + a number: the newest one holding the DONE
// mark is complete and serves. (Another scope of the origin, e.g. a copy of the page under
// another path, has caches of its own.)
const PREFIX = `redis-playground ${self.registration.scope} `;
const DONE = new URL("__complete__", self.registration.scope).href;
// The cache of the versions before this scheme (one cache filled as the network answered).
const LEGACY = "redis-playground";
// After a visit, the check for a new version waits this long (not to compete with the page's
// start) and runs at most this often.
const CHECK_DELAY_MS = 3000;
const CHECK_EVERY_MS = 30000;
const FILES = [
  "./",
  "index.html",
  "style.css",
  "aof.js",
  "app.js",
  "cluster.js",
  "connection.js",
  "embed.js",
  "engine.js",
  "host.js",
  "inspector.js",
  "monitor.js",
  "replication.js",
  "replstream.js",
  "server.js",
  "share.js",
  "storage.js",
  "terminal.js",
  "tutorial.js",
  "pkg/redis_playground.js",
  "pkg/redis_playground_bg.wasm",
  "lessons/index.json",
  "lessons/bitmaps.json",
  "lessons/blocking.json",
  "lessons/geo.json",
  "lessons/hashes.json",
  "lessons/hyperloglog.json",
  "lessons/keys.json",
  "lessons/lists.json",
  "lessons/memory.json",
  "lessons/persistence.json",
  "lessons/pubsub.json",
  "lessons/scripting.json",
  "lessons/sets.json",
  "lessons/sorted-sets.json",
  "lessons/streams.json",
  "lessons/strings.json",
  "lessons/transactions.json",
];

/** Fetches every file of the page (fresh copies, not the HTTP cache's) into a new cache and
 * marks it complete; resolves with its name. All or nothing: a failed file deletes the cache. */
async function fill() {
  const name = PREFIX + Date.now();
  const cache = await caches.open(name);
  try {
    await cache.addAll(FILES.map((f) => new Request(f, { cache: "reload" })));
    // The engine's glue imports modules wasm-bindgen names by a hash (pkg/snippets/...): they
    // are found in the glue itself.
    const glue = await (await cache.match("pkg/redis_playground.js")).text();
    const snippets = new Set([...glue.matchAll(/from\s+["'](\.\/snippets\/[^"']+)["']/g)].map((m) => new URL(m[1], new URL("pkg/", self.registration.scope)).href));
    await cache.addAll([...snippets].map((u) => new Request(u, { cache: "reload" })));
    await cache.put(DONE, new Response(""));
  } catch (e) {
    await caches.delete(name);
    throw e;
  }
  return name;
}

/** This scope's caches, newest first. */
async function versions() {
  const names = (await caches.keys()).filter((n) => n.startsWith(PREFIX));
  return names.sort((a, b) => Number(b.slice(PREFIX.length)) - Number(a.slice(PREFIX.length)));
}

let serving = null; // promise of the name of the cache that serves (null: none complete)
let opened = null;  // { name, cache: promise of that cache, opened once }

function servingCache() {
  if (!serving) {
    serving = (async () => {
      for (const name of await versions()) {
        if (await (await caches.open(name)).match(DONE)) return name;
      }
      return null;
    })();
    serving.catch(() => { serving = null; });
  }
  return serving;
}

/** The cache that serves, opened once for every request (null: none complete). */
async function servingStore() {
  const name = await servingCache();
  if (name === null) return null;
  if (opened?.name !== name) {
    opened = { name, cache: caches.open(name) };
    opened.cache.catch(() => { opened = null; });
  }
  return opened.cache;
}

/** The kept copy of a file of the page: matched exactly (one lookup); a URL with a query (a
 * second instance of the engine's glue, say) is the file without it. */
async function keptCopy(cache, req) {
  const kept = await cache.match(req);
  if (kept || !new URL(req.url).search) return kept;
  return cache.match(req, { ignoreSearch: true });
}

/** Deletes this scope's caches other than `keep`, and the one of the versions before. */
async function prune(keep) {
  const old = (await versions()).filter((n) => n !== keep);
  await Promise.all([...old, LEGACY].map((n) => caches.delete(n)));
}

/** Has the browser answer the page's own files from the caches without starting this worker:
 * one route per file, for its URL without a query (anything else comes to the fetch handler). */
async function addRoutes(event, name) {
  if (typeof event.addRoutes !== "function" || typeof URLPattern !== "function") return;
  const urls = (await (await caches.open(name)).keys()).map((r) => r.url).filter((u) => u !== DONE);
  const routes = urls.map((u) => ({
    condition: { urlPattern: new URLPattern({ pathname: new URL(u).pathname, search: "" }), requestMethod: "GET" },
    source: "cache",
  }));
  try {
    await event.addRoutes(routes);
  } catch (e) {
    // A browser without this kind of route: the fetch handler serves them all.
    console.warn("redis-playground: the service worker serves every file itself:", e.message);
  }
}

self.addEventListener("install", (event) => {
  event.waitUntil((async () => {
    // A failed install leaves the previous worker, with its complete cache, in place.
    const name = await fill();
    serving = Promise.resolve(name);
    await addRoutes(event, name);
    await self.skipWaiting();
  })());
});

self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    const name = await servingCache();
    if (name) await prune(name);
    await self.clients.claim();
  })());
});

/** Whether the network's copy of a kept file differs from it: by its validators when both
 * carry them, else by its bytes. */
async function differs(kept, fresh) {
  for (const h of ["etag", "last-modified"]) {
    const a = kept.headers.get(h);
    const b = fresh.headers.get(h);
    if (a && b) {
      fresh.body?.cancel().catch(() => {});
      return a !== b || kept.headers.get("content-length") !== fresh.headers.get("content-length");
    }
  }
  const [x, y] = await Promise.all([kept.arrayBuffer(), fresh.arrayBuffer()]);
  if (x.byteLength !== y.byteLength) return true;
  const u = new Uint8Array(x);
  const v = new Uint8Array(y);
  for (let i = 0; i < u.length; i++) if (u[i] !== v[i]) return true;
  return false;
}

let lastCheck = -Infinity;

/** A while after a visit (the page posts "check" once it is ready, and a navigation this worker
 * serves itself also counts): if any kept file changed on the network, the whole page is fetched
 * into a new cache, which serves from the next visit on. Offline, nothing happens. */
async function checkForUpdate() {
  if (Date.now() - lastCheck < CHECK_EVERY_MS) return;
  lastCheck = Date.now();
  await new Promise((ok) => setTimeout(ok, CHECK_DELAY_MS));
  const name = await servingCache();
  if (!name) return;
  const cache = await caches.open(name);
  let changed = false;
  for (const req of await cache.keys()) {
    if (req.url === DONE) continue;
    const kept = await cache.match(req);
    let fresh;
    try {
      fresh = await fetch(req.url, { cache: "no-cache" });
    } catch {
      return; // offline, or the site is gone: keep what is kept
    }
    if (!fresh.ok || !kept || await differs(kept, fresh)) {
      changed = true;
      break;
    }
  }
  if (!changed) return;
  const next = await fill();
  serving = Promise.resolve(next);
  await prune(next);
}

self.addEventListener("message", (event) => {
  if (event.data === "check") event.waitUntil(checkForUpdate().catch(() => {}));
});

self.addEventListener("fetch", (event) => {
  const req = event.request;
  if (req.method !== "GET" || new URL(req.url).origin !== self.location.origin) return;
  event.respondWith((async () => {
    const cache = await servingStore().catch(() => null);
    if (cache) {
      const kept = await keptCopy(cache, req);
      if (kept) {
        if (req.mode === "navigate") event.waitUntil(checkForUpdate().catch(() => {}));
        return kept;
      }
    }
    // Not a file of the page (or no complete cache yet): the network, else anything kept.
    try {
      return await fetch(req);
    } catch (err) {
      const kept = await caches.match(req, { ignoreSearch: true });
      if (kept) return kept;
      throw err;
    }
  })());
});
