// The page's first reply after navigation, in headless Chromium: the time from the start of
// navigation (performance.timeOrigin) until the terminal shows the reply to a first command
// (PING, entered by a script the moment the terminal is ready, so no typing time counts).
// Served by `python3 -m http.server` as `make play` serves it. Cold: a new browser profile
// (nothing cached, no service worker). Warm: the same profile visited again after every tab
// closed (HTTP cache, the service worker and V8's compiled code in place; a new server starts).
// Also: a second tab while the first is open (the server already runs). Prints a markdown
// table. Usage: node bench/page.mjs [runs]
import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const runs = Number(process.argv[2] ?? 5);
const www = fileURLToPath(new URL("../www/", import.meta.url));

function freePort() {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.once("error", fail);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => ok(port));
    });
  });
}

async function serve() {
  const port = await freePort();
  const child = spawn("python3", ["-m", "http.server", "--bind", "127.0.0.1", "--directory", www, String(port)], { stdio: "ignore" });
  const url = `http://127.0.0.1:${port}/`;
  for (let i = 0; i < 100; i++) {
    try {
      if ((await fetch(url)).ok) return { url, stop: () => child.kill() };
    } catch {
      // not listening yet
    }
    await new Promise((ok) => setTimeout(ok, 50));
  }
  child.kill();
  throw new Error("the static server did not start");
}

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

async function visit(context, url) {
  const page = await context.newPage();
  await page.goto(url);
  const t = await page.evaluate(() => window.__firstReply);
  return { page, t };
}

async function profile() {
  const dir = await mkdtemp(join(tmpdir(), "rp-bench-"));
  const context = await chromium.launchPersistentContext(dir, {
    executablePath: "/usr/bin/chromium",
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  await context.addInitScript(probe);
  return { context, close: async () => { await context.close(); await rm(dir, { recursive: true, force: true }); } };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const server = await serve();
const rows = { cold: [], warm: [], second: [] };
try {
  for (let i = 0; i < runs; i++) {
    const p = await profile();
    try {
      const cold = await visit(p.context, server.url);
      rows.cold.push(cold.t);
      // The service worker has cached the files once it is ready.
      await cold.page.evaluate(() => navigator.serviceWorker?.ready);
      const second = await visit(p.context, server.url);
      rows.second.push(second.t);
      await second.page.close();
      await cold.page.close();
      // Every tab closed: the shared server stops; the next visit starts a new one.
      await new Promise((ok) => setTimeout(ok, 500));
      const warm = await visit(p.context, server.url);
      rows.warm.push(warm.t);
      await warm.page.close();
    } finally {
      await p.close();
    }
  }
} finally {
  server.stop();
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
