// The page's first reply after navigation, in headless Chromium: the time from the start of
// navigation (performance.timeOrigin) until the terminal shows the reply to a first command
// (PING, entered by a script the moment the terminal is ready, so no typing time counts).
// Served by scripts/serve.mjs as `make play` serves it. Cold: a new browser profile
// (nothing cached, no service worker). Warm: the same profile visited again after every tab
// closed (HTTP cache, the service worker and V8's compiled code in place; a new server starts).
// Also: a second tab while the first is open (the server already runs). Prints a markdown
// table. Usage: node bench/page.mjs [runs]
//
// BENCH_PAGE_BASE=<another copy of www/> also measures that copy (say, the page before a
// change, with the same www/pkg), run for run in turn with this one so that both see the same
// load, and prints the two side by side. BENCH_PAGE_DETAIL=1 prints each visit's resource
// timings; BENCH_PAGE_WWW measures another copy instead of www/; BENCH_PAGE_NO_SW blocks
// service workers.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { serve } from "./serve.mjs";

const runs = Number(process.argv[2] ?? 5);
const www = process.env.BENCH_PAGE_WWW ?? fileURLToPath(new URL("../www/", import.meta.url));

// Runs in every page before its scripts: enters PING once the terminal is ready and records
// when its reply shows, in milliseconds since navigation started.
function probe() {
  window.__firstReply = new Promise((resolve) => {
    let sent = false;
    const look = () => {
      const rp = document.querySelector(".rp[data-ready]");
      if (!rp) return;
      const screen = rp.querySelector(".rp-screen:not([hidden])");
      if (!sent) {
        const input = screen?.querySelector(".rp-input");
        if (!input) return;
        sent = true;
        window.__ready = performance.now();
        input.value = "PING";
        input.dispatchEvent(new KeyboardEvent("keydown", { key: "Enter", bubbles: true }));
      }
      for (const r of screen.querySelectorAll(".rp-reply")) {
        if (r.textContent === "PONG\n") {
          observer.disconnect();
          resolve({ ready: window.__ready, reply: performance.now() });
          return;
        }
      }
    };
    const observer = new MutationObserver(look);
    observer.observe(document, { subtree: true, childList: true, attributes: true, attributeFilter: ["data-ready"] });
  });
}

// Where the time went, in milliseconds since navigation started: the document's and the
// engine's network timings and the marks the page and its server's worker leave on the way
// (engine.js mark(); a worker's marks come with its welcome, under "worker:").
const STAGES = [
  ["HTML received", "html"],
  ["app.js runs (module graph loaded)", "rp:app"],
  ["page connects to the server", "rp:connect"],
  ["page holds its connection's lock", "rp:conn-lock"],
  ["worker's script runs (server.js fetched)", "worker:rp:worker-script"],
  ["worker's servers' code loaded (host.js, its imports)", "worker:rp:worker-start"],
  ["worker holds the namespace's lock", "worker:rp:server-lock"],
  ["worker read the server list (IndexedDB)", "worker:rp:list"],
  ["worker compiled the wasm", "worker:rp:wasm-compiled"],
  ["worker's engine instantiated", "worker:rp:engine-ready"],
  ["worker restored the snapshots", "worker:rp:restored"],
  ["page welcomed by the server", "rp:welcome"],
  ["page's client open", "rp:client-open"],
  ["terminal ready", "ready"],
  ["first reply shown", "reply"],
  ["panels ready (tutorial, inspector, monitor, replication)", "rp:panels"],
  ["page's own engine (hints) ready", "rp:engine-ready"],
];

async function visit(context, url) {
  const page = await context.newPage();
  await page.goto(url);
  const t = await page.evaluate(() => window.__firstReply);
  const at = await page.evaluate(async () => {
    // The page's own engine (hints) may come after the reply: wait a little for it.
    for (let i = 0; i < 40 && !document.querySelector("[data-hints]"); i++) await new Promise((ok) => setTimeout(ok, 50));
    const out = {};
    for (const m of performance.getEntriesByType("mark")) if (!(m.name in out)) out[m.name] = m.startTime;
    out.html = performance.getEntriesByType("navigation")[0]?.responseEnd;
    out.resources = performance.getEntriesByType("resource").map((r) => [r.name.replace(location.origin, ""), Math.round(r.startTime), Math.round(r.workerStart), Math.round(r.requestStart), Math.round(r.responseStart), Math.round(r.responseEnd), r.transferSize, r.deliveryType]);
    return out;
  });
  Object.assign(t, at, { ready: t.ready, reply: t.reply });
  if (process.env.BENCH_PAGE_DETAIL) {
    console.error(`--- ${url}: resources [name, start, workerStart, requestStart, responseStart, responseEnd, transferSize, deliveryType]`);
    for (const r of t.resources) console.error(JSON.stringify(r));
    console.error(JSON.stringify(Object.fromEntries(Object.entries(t).filter(([k]) => k !== "resources").map(([k, v]) => [k, Math.round(v)]))));
  }
  delete t.resources;
  return { page, t };
}

async function profile() {
  const dir = await mkdtemp(join(tmpdir(), "rp-bench-"));
  const context = await chromium.launchPersistentContext(dir, {
    executablePath: "/usr/bin/chromium",
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    ...(process.env.BENCH_PAGE_NO_SW ? { serviceWorkers: "block" } : {}),
  });
  await context.addInitScript(probe);
  return { context, close: async () => { await context.close(); await rm(dir, { recursive: true, force: true }); } };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** One run in a new profile: a first visit (cold), a second tab, then a visit after both closed. */
async function measure(url, rows) {
  const p = await profile();
  try {
    const cold = await visit(p.context, url);
    rows.cold.push(cold.t);
    // The service worker has cached the files once it is ready.
    if (!process.env.BENCH_PAGE_NO_SW) await cold.page.evaluate(() => navigator.serviceWorker?.ready);
    const second = await visit(p.context, url);
    rows.second.push(second.t);
    await second.page.close();
    await cold.page.close();
    // Every tab closed: the shared server stops; the next visit starts a new one.
    await new Promise((ok) => setTimeout(ok, 500));
    const warm = await visit(p.context, url);
    rows.warm.push(warm.t);
    await warm.page.close();
  } finally {
    await p.close();
  }
}

const baseDir = process.env.BENCH_PAGE_BASE;
const baseName = process.env.BENCH_PAGE_BASE_NAME ?? baseDir;
const server = await serve(www);
const base = baseDir ? await serve(baseDir) : null;
const rows = { cold: [], warm: [], second: [] };
const baseRows = { cold: [], warm: [], second: [] };
try {
  for (let i = 0; i < runs; i++) {
    if (base) await measure(base.url, baseRows);
    await measure(server.url, rows);
  }
} finally {
  server.stop();
  base?.stop();
}

const line = (name, ts) => {
  const reply = ts.map((t) => t.reply);
  const ready = ts.map((t) => t.ready);
  return `| ${name} | ${Math.round(median(ready))} | ${Math.round(median(reply))} | ${Math.round(Math.min(...reply))}–${Math.round(Math.max(...reply))} |`;
};
console.log(`| first visit of the page (${runs} runs) | terminal ready, ms (median) | first reply, ms (median) | first reply, ms (range) |`);
console.log("|---|---:|---:|---:|");
console.log(line("cold: new browser profile", rows.cold));
console.log(line("warm: visited before, no tab open", rows.warm));
console.log(line("a second tab, the server running", rows.second));
if (base) {
  const med = (ts) => Math.round(median(ts.map((t) => t.reply)));
  console.log();
  console.log(`| first reply, ms (median of ${runs}, the two copies run in turn) | ${baseName} | this www/ | ratio |`);
  console.log("|---|---:|---:|---:|");
  for (const [name, key] of [["cold", "cold"], ["warm", "warm"], ["a second tab", "second"]]) {
    const [b, n] = [med(baseRows[key]), med(rows[key])];
    console.log(`| ${name} | ${b} | ${n} | ${(n / b).toFixed(2)} |`);
  }
}
console.log();
console.log(`| where the time goes: ms since navigation started (median of ${runs}) | cold | warm | second tab |`);
console.log("|---|---:|---:|---:|");
for (const [label, key] of STAGES) {
  const cell = (ts) => {
    const xs = ts.map((t) => t[key]).filter((x) => typeof x === "number");
    return xs.length === ts.length ? String(Math.round(median(xs))) : xs.length ? `${Math.round(median(xs))} (${xs.length} of ${ts.length})` : "–";
  };
  console.log(`| ${label} | ${cell(rows.cold)} | ${cell(rows.warm)} | ${cell(rows.second)} |`);
}
