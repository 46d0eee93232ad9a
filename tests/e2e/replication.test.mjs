// Replication between the servers of one page, built as a learner builds it: two servers
// added, each told REPLICAOF 127.0.0.1 6379 in its own terminal. Writes on the primary reach
// the replicas, a replica refuses writes with Redis's error, WAIT counts both replicas, a link
// cut in the replication panel comes back with a partial resync, REPLICAOF NO ONE and FAILOVER
// change the roles, and the topology and the stream follow. A reload brings the roles back.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdir } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { openPlayground, openPanel, run, screen, until as eventually } from "./harness.mjs";

const SHOTS = fileURLToPath(new URL("../../target/e2e-shots/", import.meta.url));
// How long a state may take to come (replication is asynchronous); only a failing run waits it
// out, so it is generous for a loaded machine.
const WAIT_MS = 30000;

let app, page, seen;

before(async () => {
  app = await openPlayground();
  ({ page, ...seen } = app);
  await mkdir(SHOTS, { recursive: true });
});

after(() => app?.close());

const tab = (port) => page.locator(`.rp-tab[role=tab][data-port='${port}']`).first();
const repl = () => page.locator("#repl");

async function menuItem(text) {
  if (await page.locator(".rp-menu").isHidden()) await page.locator(".rp-servers").click();
  return page.locator(".rp-menu [role=menuitem]", { hasText: text });
}

async function addServer(port) {
  await (await menuItem(`Add server 127.0.0.1:${port}`)).click();
  await screen(page).locator(".rp-line .rp-prompt", { hasText: `127.0.0.1:${port}> ` }).waitFor();
}

/** Runs `line` on the server's tab. */
async function on(port, line) {
  await tab(port).click();
  await screen(page).locator(".rp-line .rp-prompt", { hasText: `127.0.0.1:${port}` }).last().waitFor();
  return run(page, line);
}

/** Runs `line` on the server's tab until its reply is `want` (replication is asynchronous). */
async function until(port, line, want) {
  let got;
  await eventually(async () => {
    got = await on(port, line);
    return typeof want === "string" ? got === want : want.test(got ?? "");
  }, () => `${line} on ${port} to answer ${want}: still ${JSON.stringify(got)}`, WAIT_MS);
  return got;
}

/** Waits until the replication panel's topology reads `want` (its data-topology). */
async function topology(want) {
  try {
    await page.waitForFunction((w) => document.querySelector("#repl").dataset.topology === w, want, { timeout: WAIT_MS });
  } catch {
    const got = await repl().getAttribute("data-topology");
    const tree = await repl().locator(".rp-repl-topo").textContent();
    assert.fail(`topology: want ${want}, got ${got}\n${tree}\n${await streamText()}`);
  }
}

const streamText = () => repl().locator(".rp-repl-stream").textContent();

test("two replicas of the first server, made with REPLICAOF in their terminals", async () => {
  assert.equal(await run(page, "SET before:sync 1"), "OK\n");
  await addServer(6380);
  await addServer(6381);
  await openPanel(page, "repl");
  await topology("6379:primary:0 6380:primary:0 6381:primary:0");
  assert.equal(await on(6380, "REPLICAOF 127.0.0.1 6379"), "OK\n");
  assert.equal(await on(6381, "REPLICAOF 127.0.0.1 6379"), "OK\n");
  await topology("6379:primary:2 6380:replica-of-6379:connected 6381:replica-of-6379:connected");
  // The snapshot brought what the primary held before.
  assert.equal(await until(6381, "GET before:sync", "\"1\"\n"), "\"1\"\n");
  // The status line says what the shown server is.
  assert.equal(await page.locator(".rp-status-role").textContent(), "replica of 127.0.0.1:6379 (link up)");
  const role = await on(6380, "ROLE");
  assert.match(role, /^1\) "slave"\n2\) "127\.0\.0\.1"\n3\) \(integer\) 6379\n4\) "connected"\n5\) \(integer\) \d+\n$/);
  const info = await on(6379, "INFO replication");
  assert.match(info, /\r?\nconnected_slaves:2\r?\n/);
  assert.match(info, /slave0:ip=127\.0\.0\.1,port=6380,state=online,/);
  assert.match(info, /slave1:ip=127\.0\.0\.1,port=6381,state=online,/);
  // The handshake and the full sync are in the stream.
  const stream = await streamText();
  assert.match(stream, /6380 → 6379 {2}"PSYNC" "[0-9a-f]{40}" "1"/);
  assert.match(stream, /6379 → 6380 {2}\+FULLRESYNC [0-9a-f]{40} \d+/);
  assert.match(stream, /6379 → 6380 {2}RDB snapshot, \d+ bytes/);
});

test("writes on the primary are read on the replicas; a replica refuses writes", async () => {
  assert.equal(await on(6379, "HSET user:1 name Ada lang Rust"), "(integer) 2\n");
  assert.equal(await on(6379, "SELECT 2"), "OK\n");
  assert.equal(await on(6379, "RPUSH queue a b c"), "(integer) 3\n");
  assert.equal(await on(6379, "SELECT 0"), "OK\n");
  assert.equal(await until(6380, "HGET user:1 name", "\"Ada\"\n"), "\"Ada\"\n");
  assert.equal(await until(6381, "HGET user:1 lang", "\"Rust\"\n"), "\"Rust\"\n");
  assert.equal(await on(6381, "SELECT 2"), "OK\n");
  assert.equal(await until(6381, "LRANGE queue 0 -1", "1) \"a\"\n2) \"b\"\n3) \"c\"\n"), "1) \"a\"\n2) \"b\"\n3) \"c\"\n");
  assert.equal(await on(6381, "SELECT 0"), "OK\n");
  assert.equal(await on(6380, "SET mine 1"), "(error) READONLY You can't write against a read only replica.\n");
  // WAIT: both replicas acknowledge the primary's writes.
  assert.equal(await on(6379, "WAIT 2 5000"), "(integer) 2\n");
  // The stream shows each command once, with the offset it reached.
  const stream = await streamText();
  assert.match(stream, /6379 ⇒ replicas @\d+ {2}"HSET" "user:1" "name" "Ada" "lang" "Rust"/);
  assert.match(stream, /6379 ⇒ replicas @\d+ {2}"SELECT" "2"/);
  assert.equal(stream.match(/"RPUSH" "queue"/g).length, 1);
  // As RESP, the bytes the primary sends.
  await repl().locator(".rp-repl-raw").check();
  assert.match(await streamText(), /⇒ replicas @\d+ {2}\*5\\r\\n\$5\\r\\nRPUSH\\r\\n\$5\\r\\nqueue\\r\\n/);
  await repl().locator(".rp-repl-raw").uncheck();
});

test("a link cut in the panel comes back with a partial resync", async () => {
  const before = await on(6379, "INFO stats");
  const partial = Number(/sync_partial_ok:(\d+)/.exec(before)[1]);
  await repl().locator(".rp-repl-node[data-port='6380'] .rp-repl-cut").click();
  await page.waitForFunction(() => /6379 → 6380 {2}\+CONTINUE/.test(document.querySelector(".rp-repl-stream").textContent), null, { timeout: WAIT_MS });
  assert.match(await on(6379, "INFO stats"), new RegExp(`sync_partial_ok:${partial + 1}\\r?\\n`));
  await topology("6379:primary:2 6380:replica-of-6379:connected 6381:replica-of-6379:connected");
  assert.equal(await on(6379, "SET after:cut yes"), "OK\n");
  assert.equal(await until(6380, "GET after:cut", "\"yes\"\n"), "\"yes\"\n");
  await page.screenshot({ path: `${SHOTS}replication.png` });
});

test("an address that is no server of the page stays connecting", async () => {
  await addServer(6382);
  assert.equal(await run(page, "REPLICAOF 10.0.0.9 6379"), "OK\n");
  await topology("6379:primary:2 6380:replica-of-6379:connected 6381:replica-of-6379:connected 6382:replica-of-6379:connecting");
  assert.match(await run(page, "ROLE"), /^1\) "slave"\n2\) "10\.0\.0\.9"\n3\) \(integer\) 6379\n4\) "connecting"\n5\) \(integer\) -1\n$/);
  assert.match(await run(page, "INFO replication"), /master_link_status:down/);
  assert.equal(await run(page, "REPLICAOF NO ONE"), "OK\n");
  await tab(6382).locator(".rp-tab-close").click();
  await (await menuItem("Remove 127.0.0.1:6382")).click();
  await page.locator(".rp-notice").getByRole("button", { name: "Remove", exact: true }).click();
  await topology("6379:primary:2 6380:replica-of-6379:connected 6381:replica-of-6379:connected");
});

test("REPLICAOF NO ONE promotes a replica; FAILOVER swaps primary and replica", async () => {
  assert.equal(await on(6380, "REPLICAOF NO ONE"), "OK\n");
  await topology("6379:primary:1 6380:primary:0 6381:replica-of-6379:connected");
  // A primary now: it takes writes, which the old primary never sees.
  assert.equal(await on(6380, "SET promoted yes"), "OK\n");
  assert.equal(await on(6379, "GET promoted"), "(nil)\n");
  // Back as a replica (its writes of its own go, the primary's data comes).
  assert.equal(await on(6380, "REPLICAOF 127.0.0.1 6379"), "OK\n");
  await topology("6379:primary:2 6380:replica-of-6379:connected 6381:replica-of-6379:connected");
  assert.equal(await until(6380, "GET promoted", "(nil)\n"), "(nil)\n");
  // FAILOVER: 6379 hands over to 6380 and becomes its replica, losing no acknowledged write;
  // 6381 stays 6379's replica, and gets 6380's writes through it.
  assert.equal(await on(6379, "SET before:failover 1"), "OK\n");
  assert.equal(await on(6379, "FAILOVER TO 127.0.0.1 6380"), "OK\n");
  await topology("6379:replica-of-6380:connected 6380:primary:1 6381:replica-of-6379:connected");
  assert.equal(await on(6380, "GET before:failover"), "\"1\"\n");
  assert.match(await on(6380, "ROLE"), /^1\) "master"\n/);
  assert.equal(await on(6380, "SET after:failover 2"), "OK\n");
  assert.equal(await until(6379, "GET after:failover", "\"2\"\n"), "\"2\"\n");
  assert.equal(await until(6381, "GET after:failover", "\"2\"\n"), "\"2\"\n");
  assert.equal(await on(6379, "SET x 1"), "(error) READONLY You can't write against a read only replica.\n");
  assert.equal(await page.locator(".rp-status-role").textContent(), "replica of 127.0.0.1:6380 (link up)");
  await page.screenshot({ path: `${SHOTS}replication-failover.png` });
});

test("a reload brings the roles back, and the replicas continue", async () => {
  await page.reload();
  await page.locator(".rp[data-ready][data-hints]").waitFor();
  await page.locator("#repl:not([hidden])").waitFor();
  await topology("6379:replica-of-6380:connected 6380:primary:1 6381:replica-of-6379:connected");
  await (await menuItem("New client on 127.0.0.1:6380")).click();
  await screen(page).locator(".rp-line .rp-prompt", { hasText: "127.0.0.1:6380> " }).waitFor();
  assert.equal(await run(page, "SET after:reload 3"), "OK\n");
  assert.equal(await run(page, "WAIT 1 5000"), "(integer) 1\n");
  // Each replica continued from the offset its snapshot was stored at.
  const stream = await streamText();
  assert.match(stream, /6380 → 6379 {2}\+CONTINUE [0-9a-f]{40}/);
  assert.match(stream, /6379 → 6381 {2}\+CONTINUE [0-9a-f]{40}/);
  assert.doesNotMatch(stream, /FULLRESYNC/);
  await (await menuItem("New client on 127.0.0.1:6381")).click();
  await screen(page).locator(".rp-line .rp-prompt", { hasText: "127.0.0.1:6381> " }).waitFor();
  assert.equal(await run(page, "GET after:reload"), "\"3\"\n");
  assert.equal(await run(page, "GET before:failover"), "\"1\"\n");
});

test("after an engine crash the servers come back with their roles, and replicate", async () => {
  await (await menuItem("New client on 127.0.0.1:6380")).click();
  await screen(page).locator(".rp-line .rp-prompt", { hasText: "127.0.0.1:6380> " }).waitFor();
  assert.match(await run(page, "DEBUG PANIC"), /^\(error\) Server closed the connection \(the server crashed\)/);
  await page.locator(".rp-notice.rp-error:not([hidden])").waitFor();
  await topology("6379:replica-of-6380:connected 6380:primary:1 6381:replica-of-6379:connected");
  await screen(page).locator(".rp-note", { hasText: "the server crashed and started again" }).waitFor();
  assert.equal(await run(page, "SET after:crash 4"), "OK\n");
  assert.equal(await until(6381, "GET after:crash", "\"4\"\n"), "\"4\"\n");
  assert.equal(await on(6381, "GET after:reload"), "\"3\"\n");
});

test("user text in the stream stays text", async () => {
  await (await menuItem("New client on 127.0.0.1:6380")).click();
  await screen(page).locator(".rp-line .rp-prompt", { hasText: "127.0.0.1:6380> " }).waitFor();
  assert.equal(await run(page, "SET \"<img src=x onerror=window.pwned=1>\" v"), "OK\n");
  await page.waitForFunction(() => document.querySelector(".rp-repl-stream").textContent.includes("<img"), null, { timeout: WAIT_MS });
  assert.equal(await page.evaluate(() => window.pwned), undefined);
  assert.equal(await page.locator("#repl img").count(), 0);
});

test("no console errors, failed requests or dialogs", async () => {
  assert.deepEqual(seen.problems, []);
  assert.deepEqual(seen.dialogs, []);
});
