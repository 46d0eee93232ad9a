// The inspector: every type drawn as the engine answers it, after the commands of Redis's docs
// examples; live updates from another tab; the tree stays light with 10,000 keys.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { openPlayground, openPage, run } from "./harness.mjs";

let app, page, problems;

before(async () => {
  app = await openPlayground({ panel: "inspect" });
  ({ page, problems } = app);
});

after(() => app?.close());

/** The engine's reply to a read command (through the page's API, not the terminal). */
function engine(argv) {
  return page.evaluate(async (a) => {
    const { shell } = window.redisPlayground;
    return (await shell.query(shell.current.db, [a])).replies[0];
  }, argv);
}

const values = (r) => (r.type === "map" ? r.value.flatMap(([k, v]) => [k.value, v.value]) : r.value.map((x) => x.value));

/** Selects a key in the inspector and waits until its view is drawn. */
async function show(key) {
  await page.evaluate((k) => window.redisPlayground.inspector.select(k), key);
  await page.locator(`#inspect[data-shown="${key}"]`).waitFor();
  return page.locator("#inspect .rp-ins-detail");
}

async function settle() {
  // Every change is read in the frame after its push: wait until the inspector has caught up.
  await page.waitForFunction(() => !window.redisPlayground.inspector.pending && !window.redisPlayground.inspector.running);
}

test("a list as boxes indexed from both ends", async () => {
  await run(page, "RPUSH bikes:repairs bike:1 bike:2 bike:3");
  await settle();
  const d = await show("bikes:repairs");
  assert.equal(await d.getAttribute("data-type"), "list");
  const shown = await d.locator(".rp-ins-box .rp-ins-val").allTextContents();
  assert.deepEqual(shown, values(await engine(["LRANGE", "bikes:repairs", "0", "-1"])));
  const idx = await d.locator(".rp-ins-box").first().locator(".rp-ins-idx").allTextContents();
  assert.deepEqual(idx, ["0", "-3"]);
  // The tree row says type, encoding and size as OBJECT ENCODING and MEMORY USAGE do.
  const row = page.locator('#inspect .rp-ins-row[data-key="bikes:repairs"]');
  assert.equal(await row.locator(".rp-ins-badge").textContent(), "list");
  const meta = await row.locator(".rp-ins-meta").textContent();
  assert.ok(meta.startsWith(`${(await engine(["OBJECT", "ENCODING", "bikes:repairs"])).value} · `), meta);
  assert.equal(await row.getAttribute("role"), "treeitem");
});

test("a hash as a table", async () => {
  await run(page, "HSET bike:1 model Deimos brand Ergonom type 'Enduro bikes' price 4972");
  await settle();
  const d = await show("bike:1");
  const rows = await d.locator("tr[data-part]").evaluateAll((trs) => trs.map((tr) => [...tr.children].map((td) => td.textContent)));
  const flat = values(await engine(["HGETALL", "bike:1"]));
  const pairs = [];
  for (let i = 0; i < flat.length; i += 2) pairs.push([flat[i], flat[i + 1]]);
  pairs.sort((a, b) => (a[0] < b[0] ? -1 : 1));
  assert.deepEqual(rows, pairs);
});

test("a set as chips", async () => {
  await run(page, "SADD bikes:racing:france bike:1 bike:2 bike:3");
  await settle();
  const d = await show("bikes:racing:france");
  const chips = await d.locator(".rp-ins-chip").allTextContents();
  assert.deepEqual(chips, values(await engine(["SMEMBERS", "bikes:racing:france"])).sort());
});

test("a sorted set as a ranked table", async () => {
  await run(page, "ZADD racer_scores 10 Norem 12 Castilla 8 Sam-Bodden 10 Royce 6 Ford 14 Prickett");
  await settle();
  const d = await show("racer_scores");
  const rows = await d.locator("tr[data-part]").evaluateAll((trs) => trs.map((tr) => [...tr.children].map((td) => td.textContent)));
  const flat = values(await engine(["ZRANGE", "racer_scores", "0", "-1", "REV", "WITHSCORES"]));
  const want = [];
  for (let i = 0; i < flat.length; i += 2) want.push([String(i / 2 + 1), flat[i], flat[i + 1]]);
  assert.deepEqual(rows, want);
  assert.equal(await d.locator(".rp-ins-geo").count(), 0);
});

test("geo members plotted", async () => {
  await run(page, "GEOADD bikes:rentable -122.27652 37.805186 station:1 -122.2674626 37.8062344 station:2 -122.2469854 37.8104049 station:3");
  await settle();
  const d = await show("bikes:rentable");
  assert.equal(await d.locator(".rp-ins-geo circle").count(), 3);
  const labels = await d.locator(".rp-ins-geo text").allTextContents();
  assert.deepEqual(labels.sort(), ["station:1", "station:2", "station:3"]);
});

test("a stream with its consumer group and pending entries", async () => {
  await run(page, "XADD race:france * rider Castilla speed 30.2 position 1 location_id 1");
  await run(page, "XADD race:france * rider Norem speed 28.8 position 3 location_id 1");
  await run(page, "XADD race:france * rider Prickett speed 29.7 position 2 location_id 1");
  await run(page, "XGROUP CREATE race:france riders 0");
  await run(page, "XREADGROUP GROUP riders alice COUNT 2 STREAMS race:france >");
  await settle();
  const d = await show("race:france");
  const ids = await d.locator(".rp-ins-entry .rp-ins-id").allTextContents();
  const want = (await engine(["XREVRANGE", "race:france", "+", "-"])).value.map((e) => e.value[0].value);
  assert.deepEqual(ids, want);
  const pending = await d.locator(".rp-ins-group tr[data-part]").evaluateAll((trs) => trs.map((tr) => [...tr.children].map((td) => td.textContent)));
  const p = (await engine(["XPENDING", "race:france", "riders", "-", "+", "10"])).value.map((e) => [e.value[0].value, e.value[1].value, String(e.value[3].value)]);
  assert.deepEqual(pending, p);
  assert.equal(pending.length, 2);
});

test("a bitmap as a grid of bits", async () => {
  await run(page, "SETBIT pings:2024-01-01-00:00 123 1");
  await run(page, "SETBIT pings:2024-01-01-00:00 7 1");
  await settle();
  const d = await show("pings:2024-01-01-00:00");
  const on = await d.locator(".rp-bit.rp-on").evaluateAll((cells) => cells.map((c) => Number(c.dataset.part.slice(1))));
  assert.deepEqual(on, [7, 123]);
  assert.equal(on.length, (await engine(["BITCOUNT", "pings:2024-01-01-00:00"])).value);
});

test("a HyperLogLog's registers or count, and a string", async () => {
  await run(page, "PFADD bikes Hyperion Deimos Phoebe Quaoar");
  await run(page, "SET res1 'Deimos <b>bold</b>'");
  await settle();
  const size = (await engine(["MEMORY", "USAGE", "bikes"])).value;
  let d = await show("bikes");
  assert.equal(Number(await d.locator("[data-hll]").getAttribute("data-hll")), (await engine(["PFCOUNT", "bikes"])).value);
  // The registers are drawn from the sparse form without converting it to dense.
  assert.equal((await engine(["PFDEBUG", "ENCODING", "bikes"])).value, "sparse");
  assert.equal((await engine(["MEMORY", "USAGE", "bikes"])).value, size);
  assert.match(await d.locator(".rp-ins-hll").getAttribute("aria-label"), /^16384 registers, [1-4] set/);
  // A dense one is read with GETREG.
  await run(page, "PFDEBUG TODENSE bikes");
  d = await show("bikes");
  const regs = (await engine(["PFDEBUG", "GETREG", "bikes"])).value.map((x) => x.value);
  const set = regs.filter((r) => r > 0).length;
  assert.match(await d.locator(".rp-ins-hll").getAttribute("aria-label"), new RegExp(`^16384 registers, ${set} set, highest ${Math.max(...regs)}$`));
  d = await show("res1");
  assert.equal(await d.locator(".rp-ins-string").textContent(), (await engine(["GET", "res1"])).value);
  assert.equal(await d.locator(".rp-ins-string b").count(), 0, "values are text, never HTML");
});

test("updates after a command in another tab, and marks what changed", async () => {
  await show("bikes:repairs");
  const other = await openPage(app.browser.context, app.server.url);
  const before = await page.locator("#inspect").getAttribute("data-version");
  await run(other.page, "RPUSH bikes:repairs bike:4");
  await page.waitForFunction((v) => document.getElementById("inspect").dataset.version !== v, before);
  await settle();
  const d = page.locator("#inspect .rp-ins-detail");
  await page.waitForFunction(() => document.querySelectorAll("#inspect .rp-ins-box").length === 4);
  assert.deepEqual(await d.locator(".rp-ins-box .rp-ins-val").allTextContents(), ["bike:1", "bike:2", "bike:3", "bike:4"]);
  assert.deepEqual(await d.locator(".rp-ins-box.rp-changed .rp-ins-val").allTextContents(), ["bike:4"]);
  console.log(`from the other tab's change to the picture: ${await page.locator("#inspect").getAttribute("data-latency-ms")} ms`);
  assert.equal(await page.locator('#inspect .rp-ins-row.rp-changed[data-key="bikes:repairs"]').count(), 1);
  // Screen readers hear which key changed, not the whole view again.
  assert.equal(await page.locator('#inspect [role="status"]').textContent(), "changed: bikes:repairs");
  assert.equal(await page.locator("#inspect .rp-ins-detail").getAttribute("aria-live"), null);
  // A key another tab deletes leaves the tree.
  await run(other.page, "DEL res1");
  await page.waitForFunction(() => !window.redisPlayground.inspector.keys.has("res1"));
  await other.page.close();
});

test("filters by pattern and type; keyboard in the tree", async () => {
  await page.locator("#inspect .rp-ins-pattern").fill("bike*");
  await settle();
  await page.waitForFunction(() => [...window.redisPlayground.inspector.keys.keys()].every((k) => k.startsWith("bike")));
  const keys = await page.evaluate(() => [...window.redisPlayground.inspector.keys.keys()].sort());
  assert.deepEqual(keys, values(await engine(["KEYS", "bike*"])).sort());
  await page.locator("#inspect .rp-ins-type").selectOption("hash");
  await settle();
  await page.waitForFunction(() => window.redisPlayground.inspector.keys.size === 1);
  await page.locator("#inspect .rp-ins-pattern").fill("");
  await page.locator("#inspect .rp-ins-type").selectOption("");
  await settle();
  // The tree: Home, then Enter opens or closes the first folder.
  await page.locator("#inspect .rp-ins-tree").focus();
  await page.keyboard.press("Home");
  const first = page.locator("#inspect .rp-ins-row").first();
  const was = await first.getAttribute("aria-expanded");
  await page.keyboard.press("Enter");
  await page.waitForFunction((w) => document.querySelector("#inspect .rp-ins-row")?.getAttribute("aria-expanded") !== w, was);
});

test("10,000 keys: the tree renders only the rows in view", async () => {
  await run(page, "EVAL \"for i = 1, 10000 do redis.call('SET', 'user:' .. (i % 50) .. ':' .. i, i) end\" 0");
  await page.evaluate(() => window.redisPlayground.inspector.schedule({ full: true }));
  await settle();
  await page.waitForFunction(() => window.redisPlayground.inspector.keys.size > 10000);
  const times = [];
  for (let i = 0; i < 3; i++) {
    const v = await page.locator("#inspect").getAttribute("data-version");
    await page.evaluate(() => window.redisPlayground.inspector.schedule({ full: true }));
    await page.waitForFunction((x) => document.getElementById("inspect").dataset.version !== x, v);
    times.push(await page.evaluate(() => ({ read: Number(document.getElementById("inspect").dataset.readMs), render: Number(document.getElementById("inspect").dataset.renderMs) })));
  }
  console.log(`inspector with ${await page.evaluate(() => window.redisPlayground.inspector.keys.size)} keys: ${JSON.stringify(times)}`);
  // Open the big folder: 10,000 keys under user:, still only the visible rows exist.
  await page.evaluate(() => {
    const ins = window.redisPlayground.inspector;
    for (let i = 0; i < 50; i++) ins.open.add(`user:${i}:`);
    ins.open.add("user:");
    ins.layout();
  });
  const rows = await page.locator("#inspect .rp-ins-row").count();
  assert.ok(rows < 120, `${rows} rows in the DOM`);
  const t0 = await page.evaluate(() => {
    const ins = window.redisPlayground.inspector;
    const t = performance.now();
    ins.layout();
    return performance.now() - t;
  });
  console.log(`tree layout of the opened tree: ${t0.toFixed(1)} ms`);
  assert.deepEqual(problems, []);
});

test("follows the db of the client tab shown, and expiry", async () => {
  await run(page, "SELECT 3");
  await run(page, "SET only:in:three 1");
  await page.waitForFunction(() => window.redisPlayground.inspector.db === 3 && window.redisPlayground.inspector.keys.has("only:in:three"));
  assert.equal(await page.locator("#inspect .rp-ins-db").textContent(), "db3");
  // The key expires on its own; the server's notice of it refreshes the tree. (Its lifetime
  // starts once the tree shows it: a loaded machine may take longer than that to draw it.)
  await run(page, "PEXPIRE only:in:three 400");
  await page.waitForFunction(() => !window.redisPlayground.inspector.keys.has("only:in:three"));
  // A new client tab starts in db 0: the inspector follows it.
  await page.locator(".rp-new").click();
  await page.waitForFunction(() => window.redisPlayground.inspector.db === 0 && window.redisPlayground.inspector.keys.size > 0);
  await page.locator(".rp-tab:not(.rp-new)").last().locator(".rp-tab-close").click();
  await page.waitForFunction(() => window.redisPlayground.inspector.db === 3);
  await run(page, "SELECT 0");
});
