// Offline and responsiveness: after one visit the page loads, runs commands and finds its data
// with the web server gone (sw.js); while one tab runs `DEBUG SLEEP` on the shared server,
// another tab keeps taking keystrokes and rendering them (the input latency is printed, never
// asserted: it measures this machine).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { openPlayground, openPanel, openPage, run, screen, WWW } from "./harness.mjs";

let app;

before(async () => {
  app = await openPlayground();
});

after(() => app?.close());

function filesUnder(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? filesUnder(join(dir, e.name)) : [relative(WWW, join(dir, e.name))]);
}

test("the service worker keeps every file the page uses", () => {
  const listed = [...readFileSync(join(WWW, "sw.js"), "utf8").matchAll(/^ {2}"([^"]+)",$/gm)].map((m) => m[1]);
  // What the page can load: its modules and style, the lessons, the engine. Not the worker
  // itself, the docs demo page or the lessons' format notes.
  const used = filesUnder(WWW).filter((f) =>
    /\.(js|css|json|wasm)$/.test(f) && f !== "sw.js" && !/^pkg\/.*\.d\.ts$/.test(f) && !f.startsWith("pkg/snippets/"))
    .concat(["index.html", "./"]);
  assert.deepEqual([...new Set(listed)].sort(), [...new Set(used)].sort());
});

test("after one visit the page works with the web server gone", async () => {
  const { page, problems } = app;
  await page.evaluate(async () => {
    const reg = await navigator.serviceWorker.ready;
    return reg.active.state;
  });
  // The worker is installed (its cache complete) once it is active and controls a page.
  await page.reload();
  await page.locator(".rp[data-ready][data-hints]").waitFor();
  assert.ok(await page.evaluate(() => navigator.serviceWorker.controller !== null));
  assert.equal(await run(page, "SET offline:key kept"), "OK\n");
  await app.server.close();
  await page.reload();
  await page.locator(".rp[data-ready][data-hints]").waitFor();
  assert.equal(await run(page, "GET offline:key"), '"kept"\n');
  assert.equal(await run(page, "INCR offline:n"), "(integer) 1\n");
  // The tutorial's lessons come from the cache too.
  await openPanel(page, "learn");
  assert.deepEqual(problems.filter((p) => !p.includes("sw.js")), []);
  await page.close();
});

test("a tab keeps typing and rendering while another tab's DEBUG SLEEP holds the server", async () => {
  const other = await openPlayground();
  try {
    const { page: a } = other;
    const { page: b } = await openPage(other.browser.context, other.server.url);
    await run(a, "SET before sleep");
    const input = screen(a).locator(".rp-input");
    await input.fill("DEBUG SLEEP 3");
    await input.press("Enter");
    await a.locator(".rp[data-busy]").waitFor();
    // In tab B: the time from each keydown to the frame that shows the typed character.
    await b.evaluate(() => {
      const field = document.querySelector(".rp-screen:not([hidden]) .rp-input");
      window.latencies = [];
      let t0 = 0;
      field.addEventListener("keydown", () => { t0 = performance.now(); });
      field.addEventListener("input", () => {
        requestAnimationFrame(() => window.latencies.push(performance.now() - t0));
      });
    });
    const typed = "GET before";
    await screen(b).locator(".rp-input").pressSequentially(typed, { delay: 40 });
    const shown = await screen(b).locator(".rp-input").inputValue();
    const stillSleeping = await a.locator(".rp[data-busy]").count();
    assert.equal(shown, typed);
    assert.equal(stillSleeping, 1, "the keystrokes were rendered while the server slept");
    const lat = (await b.evaluate(() => window.latencies)).sort((x, y) => x - y);
    assert.equal(lat.length, typed.length);
    console.log(`input latency in tab B during DEBUG SLEEP in tab A: median ${lat[lat.length >> 1].toFixed(1)} ms, max ${lat.at(-1).toFixed(1)} ms over ${lat.length} keystrokes`);
    // B's command waits for the server, then is answered.
    await screen(b).locator(".rp-input").press("Enter");
    await b.locator(".rp:not([data-busy])").waitFor({ timeout: 15000 });
    await a.locator(".rp:not([data-busy])").waitFor({ timeout: 15000 });
    assert.match(await screen(b).locator(".rp-reply").last().textContent(), /"sleep"/);
    assert.match(await screen(a).locator(".rp-reply").last().textContent(), /^OK/);
  } finally {
    await other.close();
  }
});
