// The page's service worker: after one visit, the page loads and works with no network.
//
// Network first: while online every request goes to the network, as if there were no service
// worker (a new version of the site is used as soon as it is deployed), and each answer is kept
// in the cache; when the network fails, the kept answer is served. Installing fetches every file
// the page can need into the cache, so one visit is enough even for what it had not opened yet
// (the tutorial's lessons, the monitor). The data itself is in IndexedDB, not here.
//
// tests/e2e/offline.test.mjs checks that FILES lists every file of www/ the page uses (the
// engine's snippets excepted: they are read from its glue).
const CACHE = "redis-playground";
const FILES = [
  "./",
  "index.html",
  "style.css",
  "app.js",
  "cluster.js",
  "connection.js",
  "embed.js",
  "engine.js",
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

self.addEventListener("install", (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(CACHE);
    // Fresh copies (not the HTTP cache's), all or nothing: a failed file fails the install and
    // the previous worker, with its complete cache, stays.
    await cache.addAll(FILES.map((f) => new Request(f, { cache: "reload" })));
    // The engine's glue imports modules wasm-bindgen names by a hash (pkg/snippets/...):
    // they are found in the glue itself.
    const glue = await (await cache.match("pkg/redis_playground.js")).text();
    const snippets = new Set([...glue.matchAll(/from\s+["'](\.\/snippets\/[^"']+)["']/g)].map((m) => new URL(m[1], new URL("pkg/", self.registration.scope)).href));
    await cache.addAll([...snippets].map((u) => new Request(u, { cache: "reload" })));
    await self.skipWaiting();
  })());
});

self.addEventListener("activate", (event) => {
  event.waitUntil(self.clients.claim());
});

self.addEventListener("fetch", (event) => {
  const req = event.request;
  if (req.method !== "GET" || new URL(req.url).origin !== self.location.origin) return;
  event.respondWith((async () => {
    try {
      const res = await fetch(req);
      if (res.ok && res.type === "basic") {
        const copy = res.clone();
        event.waitUntil(caches.open(CACHE).then((c) => c.put(req, copy)));
      }
      return res;
    } catch (err) {
      const kept = await caches.match(req, { ignoreSearch: true });
      if (kept) return kept;
      throw err;
    }
  })());
});
