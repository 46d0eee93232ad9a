// <redis-playground> on a documentation page: its own shadow DOM, preloaded commands, its own
// storage namespace, its height, and independence from other widgets on the page.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startServer, startBrowser, watch, run, screen } from "./harness.mjs";

const DOCS = `<!doctype html>
<html><head><meta charset="utf-8"><link rel="icon" href="data:,">
<title>Strings tutorial</title>
<script type="module" src="/embed.js"></script>
<style>.rp-screen { color: red !important }</style>
</head><body>
<h1>Strings</h1>
<p>Try it:</p>
<redis-playground id="a" namespace="strings" height="260" commands="SET greeting &quot;hello world&quot;
GET greeting
SET html &quot;<img src=x onerror=alert(1)>&quot;
GET html"></redis-playground>
<redis-playground id="b" height="12rem"></redis-playground>
</body></html>`;

// Two widgets of one namespace, as a docs page might show a publisher and a subscriber.
const SHARED = `<!doctype html>
<html><head><meta charset="utf-8"><link rel="icon" href="data:,">
<title>Pub/sub tutorial</title>
<script type="module" src="/embed.js"></script>
</head><body>
<redis-playground id="one" namespace="pubsub" commands="SET topic news"></redis-playground>
<redis-playground id="two" namespace="pubsub" commands="SET topic news"></redis-playground>
</body></html>`;

let server, browser, page, seen;

before(async () => {
  server = await startServer({ "/docs/strings.html": DOCS, "/docs/pubsub.html": SHARED });
  browser = await startBrowser();
  page = await browser.context.newPage();
  seen = watch(page);
  await page.goto(`${server.url}docs/strings.html`);
  await page.locator("#a .rp[data-ready][data-hints]").waitFor();
  await page.locator("#b .rp[data-ready][data-hints]").waitFor();
});

after(async () => {
  await browser?.close();
  await server?.close();
});

const a = () => page.locator("#a");
const b = () => page.locator("#b");

test("the widget lives in a shadow root and runs its preloaded commands", async () => {
  assert.equal(await page.evaluate(() => document.querySelector("#a").shadowRoot !== null), true);
  // Page styles do not reach inside.
  assert.equal(await page.evaluate(() => document.querySelectorAll(".rp-screen").length), 0);
  const text = await screen(page, a()).locator(".rp-out").textContent();
  assert.equal(
    text,
    '127.0.0.1:6379> SET greeting "hello world"OK\n' +
      '127.0.0.1:6379> GET greeting"hello world"\n' +
      '127.0.0.1:6379> SET html "<img src=x onerror=alert(1)>"OK\n' +
      '127.0.0.1:6379> GET html"<img src=x onerror=alert(1)>"\n',
  );
  assert.equal(await page.evaluate(() => document.querySelector("#a").shadowRoot.querySelectorAll(".rp-out img").length), 0);
  assert.deepEqual(seen.dialogs, []);
});

test("height is applied (bare numbers are pixels)", async () => {
  assert.equal(Math.round((await a().boundingBox()).height), 260);
  const rem = await page.evaluate(() => parseFloat(getComputedStyle(document.documentElement).fontSize));
  assert.equal(Math.round((await b().boundingBox()).height), Math.round(12 * rem));
});

test("typing works, and each widget is its own server", async () => {
  assert.equal(await run(page, "GET greeting", b()), "(nil)\n");
  assert.equal(await run(page, "SET only-b 1", b()), "OK\n");
  assert.equal(await run(page, "GET only-b", a()), "(nil)\n");
  assert.equal(await run(page, "INCR counter", a()), "(integer) 1\n");
  const input = screen(page, a()).locator(".rp-input");
  await input.press("ArrowUp");
  assert.equal(await input.inputValue(), "INCR counter");
  await a().locator(".rp[data-hints]").waitFor();
  await input.fill("SET ");
  await input.dispatchEvent("input");
  assert.match(await screen(page, a()).locator(".rp-hint").textContent(), /^key value/);
  await input.fill("");
});

test("a widget with a namespace keeps its data; one without starts fresh", async () => {
  await page.waitForFunction(() => /saved \d/.test(
    document.querySelector("#a").shadowRoot.querySelector(".rp-status-save").textContent), null, { timeout: 10000 });
  await page.reload();
  await page.locator("#a .rp[data-ready][data-hints]").waitFor();
  await page.locator("#b .rp[data-ready][data-hints]").waitFor();
  assert.equal(await run(page, "GET counter", a()), "\"1\"\n");
  assert.match(await screen(page, a()).locator(".rp-note").textContent(), /saved data was restored/);
  assert.equal(await run(page, "GET only-b", b()), "(nil)\n");
  // Its snapshot is stored under its own key, apart from the page's.
  const keys = await page.evaluate(() => new Promise((ok) => {
    const req = indexedDB.open("redis-playground", 1);
    req.onsuccess = () => {
      const all = req.result.transaction("snapshots").objectStore("snapshots").getAllKeys();
      all.onsuccess = () => ok(all.result);
    };
  }));
  assert.deepEqual(keys, ["embed:strings"]);
});

test("Reset starts over with the example commands", async () => {
  const reset = a().locator(".rp-actions .rp-btn", { hasText: /Reset|Really reset\?/ });
  await reset.click();
  await reset.click();
  await screen(page, a()).locator(".rp-echo", { hasText: "GET html" }).last().waitFor();
  await page.locator("#a .rp:not([data-busy])").waitFor();
  assert.equal(await run(page, "GET counter", a()), "(nil)\n");
  assert.equal(await run(page, "GET greeting", a()), "\"hello world\"\n");
});

test("widgets with the same namespace share one server, in this page and in another tab", async () => {
  const shared = await browser.context.newPage();
  const problems = watch(shared);
  await shared.goto(`${server.url}docs/pubsub.html`);
  const one = shared.locator("#one");
  const two = shared.locator("#two");
  await shared.locator("#one .rp[data-ready][data-hints]").waitFor();
  await shared.locator("#two .rp[data-ready][data-hints]").waitFor();
  // The example commands ran once, in one of them; the other says it shares the data.
  const echoes = async (w) => screen(shared, w).locator(".rp-echo", { hasText: "SET topic news" }).count();
  assert.equal((await echoes(one)) + (await echoes(two)), 1);
  assert.equal(await run(shared, "GET topic", two), "\"news\"\n");
  assert.match(await run(shared, "SUBSCRIBE alerts", one), /1\) "subscribe"/);
  assert.equal(await run(shared, "PUBLISH alerts fire", two), "(integer) 1\n");
  await screen(shared, one).locator(".rp-reply", { hasText: '"message"' }).waitFor();
  assert.equal((await run(shared, "CLIENT LIST", two)).trim().split("\n").length, 2);
  // Another tab's widget of that namespace is a client of the same server too.
  const tab = await browser.context.newPage();
  const tabProblems = watch(tab);
  await tab.goto(`${server.url}docs/pubsub.html`);
  await tab.locator("#two .rp[data-ready][data-hints]").waitFor();
  await tab.locator("#one .rp[data-ready][data-hints]").waitFor();
  assert.match(await screen(tab, tab.locator("#one")).locator(".rp-note").textContent(), /shared by every tab and widget/);
  assert.equal(await run(tab, "PUBLISH alerts again", tab.locator("#two")), "(integer) 1\n");
  assert.equal((await run(tab, "CLIENT LIST", tab.locator("#one"))).trim().split("\n").length, 4);
  // The strings page's widgets are not part of it.
  assert.equal(await run(page, "GET topic", a()), "(nil)\n");
  await tab.close();
  await shared.close();
  assert.deepEqual(problems.problems, []);
  assert.deepEqual(tabProblems.problems, []);
});

test("no console errors", () => {
  assert.deepEqual(seen.problems, []);
  assert.deepEqual(seen.dialogs, []);
});

test("the docs demo page: read-along, compact, themes, each widget isolated", async () => {
  const p = await browser.context.newPage();
  const problems = watch(p).problems;
  await p.emulateMedia({ colorScheme: "light" });
  await p.goto(`${server.url}docs-demo.html`);
  for (const id of ["strings", "lists", "hash", "zset"]) await p.locator(`#${id} .rp[data-ready][data-hints]`).waitFor();
  const strings = p.locator("#strings");
  // Read-along: the commands with their replies, then a live prompt.
  const out = await screen(p, strings).locator(".rp-out").textContent();
  assert.equal(out, "127.0.0.1:6379> SET bike:1 DeimosOK\n127.0.0.1:6379> GET bike:1\"Deimos\"\n127.0.0.1:6379> INCR total_rides(integer) 1\n127.0.0.1:6379> INCRBY total_rides 10(integer) 11\n(your turn: type a command)");
  // Isolated: a key of one widget is not in another.
  assert.equal(await run(p, "EXISTS bike:1", p.locator("#lists")), "(integer) 0\n");
  assert.equal(await run(p, "EXISTS racer_scores", p.locator("#hash")), "(integer) 0\n");
  // Reset plays the reading again on a clean screen.
  await run(p, "SET extra 1", strings);
  const reset = strings.locator(".rp-actions .rp-btn", { hasText: "Reset" });
  await reset.click();
  await strings.locator(".rp-actions .rp-btn", { hasText: "Really reset?" }).click();
  await p.waitForFunction(() => document.querySelector("#strings").shadowRoot.querySelector(".rp-out")?.textContent.endsWith("(your turn: type a command)"));
  assert.equal(await run(p, "EXISTS extra", strings), "(integer) 0\n");
  // Light by default here (the reader's scheme), dark where the page asks for it; compact
  // widgets have no status line.
  const bg = (id) => p.evaluate((i) => getComputedStyle(document.querySelector(`#${i}`).shadowRoot.querySelector(".rp")).backgroundColor, id);
  assert.equal(await bg("hash"), "rgb(255, 255, 255)");
  assert.equal(await bg("zset"), "rgb(17, 21, 28)");
  await p.emulateMedia({ colorScheme: "dark" });
  assert.equal(await bg("hash"), "rgb(17, 21, 28)");
  assert.equal(await p.evaluate(() => getComputedStyle(document.querySelector("#hash").shadowRoot.querySelector(".rp-status")).display), "none");
  assert.equal(await p.evaluate(() => document.querySelector("#hash").getBoundingClientRect().height), 240);
  assert.deepEqual(problems, []);
  await p.close();
});
