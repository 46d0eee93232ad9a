// Shared by the end-to-end tests: a small static server for www/, headless Chromium through
// playwright-core, and helpers that type into the terminal and read what it shows.
import { createServer } from "node:http";
import { readFile, mkdtemp, rm } from "node:fs/promises";
import { existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { extname, join, normalize, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

export const WWW = resolve(fileURLToPath(new URL("../../www/", import.meta.url)));

const MIME = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".wasm": "application/wasm",
  ".json": "application/json",
  ".png": "image/png",
  ".svg": "image/svg+xml",
};

/** Serves www/ (plus extra in-memory files: HTML strings, or `{ type, body }`) on a free
 * loopback port; www/ is also served under each prefix of `mounts` (e.g. "/faulty/"), where
 * `extra` can replace single files. */
export async function startServer(extra = {}, { mounts = [] } = {}) {
  if (!existsSync(join(WWW, "pkg", "redis_playground_bg.wasm"))) {
    throw new Error("www/pkg is missing: run scripts/build-wasm.sh first (make test-e2e does)");
  }
  const server = createServer(async (req, res) => {
    let path = decodeURIComponent(new URL(req.url, "http://x").pathname);
    if (extra[path] !== undefined) {
      const file = typeof extra[path] === "string" ? { type: MIME[".html"], body: extra[path] } : extra[path];
      res.writeHead(200, { "content-type": file.type, "cache-control": "no-store" });
      res.end(file.body);
      return;
    }
    const mount = mounts.find((m) => path.startsWith(m));
    if (mount) path = `/${path.slice(mount.length)}`;
    const file = normalize(join(WWW, path.endsWith("/") ? `${path}index.html` : path));
    if (file !== WWW && !file.startsWith(WWW + sep)) {
      res.writeHead(403).end();
      return;
    }
    try {
      const body = await readFile(file);
      res.writeHead(200, {
        "content-type": MIME[extname(file)] ?? "application/octet-stream",
        "cache-control": "no-store",
      });
      res.end(body);
    } catch {
      res.writeHead(404, { "content-type": "text/plain" }).end("not found");
    }
  });
  await new Promise((ok) => server.listen(0, "127.0.0.1", ok));
  const { port } = server.address();
  let closed = null;
  return {
    url: `http://127.0.0.1:${port}/`,
    // Kept-alive connections are cut too: after close() nothing is served (the offline test).
    // A second close() (a test closed it, then `after` does) waits for the first.
    close: () => (closed ??= new Promise((ok) => { server.close(() => ok()); server.closeAllConnections(); })),
  };
}

/** A fresh Chromium profile (its own IndexedDB and localStorage) for one test file.
 * `initScript` runs in every page before its own scripts (e.g. to remove SharedWorker). */
export async function startBrowser({ initScript } = {}) {
  const dir = await mkdtemp(join(tmpdir(), "rp-e2e-"));
  const context = await chromium.launchPersistentContext(dir, {
    executablePath: "/usr/bin/chromium",
    headless: true,
    acceptDownloads: true,
    viewport: { width: 1000, height: 640 },
    args: [
      "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync",
    ],
  });
  if (initScript) await context.addInitScript(initScript);
  return {
    context,
    close: async () => {
      await context.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Watches a page for console errors, uncaught exceptions, failed requests and dialogs. */
export function watch(page) {
  const problems = [];
  const dialogs = [];
  page.on("console", (m) => { if (m.type() === "error") problems.push(`console: ${m.text()}`); });
  page.on("pageerror", (e) => problems.push(`pageerror: ${e.message}`));
  page.on("requestfailed", (r) => {
    // Chromium lists the shared server's script (a SharedWorker's) under the page that started
    // the worker, and reports it aborted when that page is left, while the worker goes on
    // serving the other pages: not a failure.
    if (r.failure()?.errorText === "net::ERR_ABORTED" && new URL(r.url()).pathname === "/server.js") return;
    problems.push(`requestfailed: ${r.url()} ${r.failure()?.errorText}`);
  });
  page.on("response", (r) => { if (r.status() >= 400) problems.push(`http ${r.status()}: ${r.url()}`); });
  page.on("dialog", (d) => { dialogs.push(d.message()); d.dismiss().catch(() => {}); });
  return { problems, dialogs };
}

/** Opens the page and waits until the terminal accepts input. */
export async function openPage(context, url) {
  const page = await context.newPage();
  const seen = watch(page);
  await page.goto(url);
  await page.locator(".rp[data-ready][data-hints]").waitFor();
  return { page, ...seen };
}

/** What one test file drives: the static server (startServer), a fresh browser profile
 * (startBrowser) and the page open on the server (openPage), with `panel` open and ready
 * (openPanel) when one is named. Returns `{ server, browser, page, problems, dialogs, close }`;
 * `close()`, for `after`, ends the browser, then the server. */
export async function openPlayground({ panel } = {}) {
  const server = await startServer();
  let browser = null;
  const close = async () => {
    await browser?.close();
    await server.close();
  };
  try {
    browser = await startBrowser();
    const opened = await openPage(browser.context, server.url);
    if (panel) await openPanel(opened.page, panel);
    return { server, browser, ...opened, close };
  } catch (e) {
    await close();
    throw e;
  }
}

// What "the panel is ready" means: it is shown and it has drawn a view read from the server,
// which each panel marks with a data attribute of its box (kept while the panel is hidden).
const PANEL_DRAWN = {
  learn: "data-lesson", // the tutorial: a lesson is shown
  inspect: "data-version", // the inspector: the key tree has been read and drawn
  monitor: "data-stat-lines", // the monitor: --stat printed its first line
  repl: "data-topology", // replication: the servers' roles drawn
  cluster: "data-slots", // the cluster: the slot map drawn (no node yet is a map too)
  aof: "data-version", // the append-only file: the server's log (or its absence) drawn
};

/** Opens one of the page's panels with its toolbar button (`#<name>-toggle`: clicked, or
 * `key` pressed on it) and waits until the panel is ready (PANEL_DRAWN). */
export async function openPanel(page, name, { key } = {}) {
  const drawn = PANEL_DRAWN[name];
  if (!drawn) throw new Error(`no panel named ${name}`);
  const toggle = page.locator(`#${name}-toggle`);
  if (key) await toggle.press(key);
  else await toggle.click();
  await page.locator(`#${name}:not([hidden])[${drawn}]`).waitFor();
}

/** Waits until `check()` (async: it may run commands) returns something truthy, and returns
 * it. For a state that has to be asked for rather than watched in the page (a reply, a lock);
 * it fails with `what` (a text, or a function giving one) after `timeoutMs`. The pause between
 * two asks only spaces them: the wait ends on the state, never on a time. */
export async function until(check, what, timeoutMs = 15000) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${typeof what === "function" ? what() : what}`);
    await new Promise((ok) => setTimeout(ok, 25));
  }
}

/** The visible screen (current client tab) of the page, or of one widget (`scope`). */
export function screen(page, scope = page) {
  return scope.locator(".rp-screen:not([hidden])");
}

/** Types a line into the visible terminal (of `scope`: a widget), presses Enter, and returns
 * the text of the reply blocks it produced (null when the line printed nothing). */
export async function run(page, line, scope = page) {
  const scr = screen(page, scope);
  const before = await scr.locator(".rp-out > *").count();
  const input = scr.locator(".rp-input");
  await input.fill(line);
  await input.press("Enter");
  // The echo row appears first; the reply (if any) follows it synchronously in the same run.
  await scr.locator(".rp-out > *").nth(before).waitFor({ state: "attached" });
  await scope.locator(".rp:not([data-busy])").waitFor({ state: "attached" });
  const added = await scr.locator(".rp-out > *").evaluateAll(
    (els, n) => els.slice(n).map((e) => ({ cls: e.className, text: e.textContent })),
    before,
  );
  const replies = added.filter((a) => a.cls.includes("rp-reply"));
  return replies.length ? replies.map((r) => r.text).join("") : null;
}

/** Runs `line` on the page's server at `port` on a client of its own, opened and closed
 * around it, as `redis-cli -p <port> <line>` runs it (no -c: a redirection is printed as the
 * error it is); returns the text redis-cli would print. */
export function runOnServer(page, port, line) {
  return page.evaluate(async ({ port, line }) => {
    const s = window.redisPlayground.shell.server;
    const { client } = await s.request("open", { port });
    try {
      const res = await s.request("exec", { port, client, line });
      return res.outs.map((o) => o.text).join("");
    } finally {
      await s.request("close", { port, client });
    }
  }, { port, line });
}

/** The last reply block's element on the visible screen. */
export function lastReply(page) {
  return screen(page).locator(".rp-reply").last();
}

/** Bytes of the stored snapshot for `namespace` in IndexedDB, or null. */
export async function storedSnapshot(page, namespace = "default") {
  return page.evaluate((ns) => new Promise((ok, fail) => {
    const req = indexedDB.open("redis-playground", 1);
    req.onerror = () => fail(req.error);
    req.onsuccess = () => {
      const db = req.result;
      const tx = db.transaction("snapshots", "readonly");
      const get = tx.objectStore("snapshots").get(ns);
      get.onsuccess = () => {
        const rec = get.result;
        db.close();
        ok(rec && rec.bytes ? Array.from(new Uint8Array(rec.bytes)) : null);
      };
      get.onerror = () => fail(get.error);
    };
  }), namespace);
}
