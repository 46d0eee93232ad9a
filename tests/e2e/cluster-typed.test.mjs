// A cluster built by hand in the page, as redis-cli --cluster create builds one but typed
// into the nodes' terminals: cluster nodes added from the Cluster panel, CLUSTER
// ADDSLOTSRANGE on the primaries, CLUSTER MEET, CLUSTER REPLICATE; then a tab follows a
// redirection to the node that holds the key.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { openPlayground, run, runOnServer, screen, until } from "./harness.mjs";

let app, page, seen;

before(async () => {
  app = await openPlayground({ panel: "cluster" });
  ({ page, ...seen } = app);
});

after(() => app?.close());

const prompt = () => screen(page).locator(".rp-line .rp-prompt");

/** A line run as `redis-cli -p <port> <line>` runs it (see harness.mjs). */
const plain = (port, line) => runOnServer(page, port, line);

async function onTab(port) {
  await page.locator(`.rp-tab[role=tab][data-port='${port}']`).first().click();
  await prompt().filter({ hasText: `127.0.0.1:${port}> ` }).waitFor();
}

test("cluster nodes joined with CLUSTER ADDSLOTSRANGE, MEET and REPLICATE typed in their tabs", async () => {
  for (const port of [7000, 7001, 7002]) {
    await page.locator(".rp-cl-add").click();
    await prompt().filter({ hasText: `127.0.0.1:${port}> ` }).waitFor();
  }
  // A node alone: cluster mode, no slots, the cluster down.
  assert.match(await run(page, "CLUSTER INFO"), /^cluster_state:fail\ncluster_slots_assigned:0\n/);
  await onTab(7000);
  assert.equal(await run(page, "CLUSTER ADDSLOTSRANGE 0 8191"), "OK\n");
  const id = (await run(page, "CLUSTER MYID")).trim().replace(/"/g, "");
  assert.match(id, /^[0-9a-f]{40}$/);
  await onTab(7001);
  assert.equal(await run(page, "CLUSTER ADDSLOTSRANGE 8192 16383"), "OK\n");
  assert.equal(await run(page, "CLUSTER MEET 127.0.0.1 7000"), "OK\n");
  await onTab(7002);
  assert.equal(await run(page, "CLUSTER MEET 127.0.0.1 7000"), "OK\n");
  // The handshake completes over the bus; then 7002 knows 7000 and may replicate it.
  await until(async () => /cluster_known_nodes:3/.test(await run(page, "CLUSTER INFO")), "7002 to know 3 nodes", 30000);
  assert.equal(await run(page, `CLUSTER REPLICATE ${id}`), "OK\n");
  await page.waitForFunction(() => document.querySelector("#cluster")?.dataset.nodes === "7000:primary:0-8191 7001:primary:8192-16383 7002:replica:-", null, { timeout: 30000 });
  await page.waitForFunction(() => document.querySelector("#cluster")?.dataset.slots === "0-8191:7000 8192-16383:7001");
  // Every primary serves once its own view is ok: a node whose cluster was down waits a
  // rejoin delay first (Redis's, up to 5 s), so the three are asked, not only this one.
  await until(async () => {
    const infos = await Promise.all([7000, 7001, 7002].map((p) => plain(p, "CLUSTER INFO")));
    return infos.every((t) => /^cluster_state:ok/.test(t));
  }, "every node's cluster_state:ok", 30000);
  assert.match(await run(page, "CLUSTER INFO"), /^cluster_state:ok\ncluster_slots_assigned:16384\ncluster_slots_ok:16384\ncluster_slots_pfail:0\ncluster_slots_fail:0\ncluster_known_nodes:3\ncluster_size:2\n/);
  // The replica's tab follows the key to its primary, as redis-cli -c does.
  assert.equal(await run(page, "SET foo bar"), "-> Redirected to slot [12182] located at 127.0.0.1:7001\nOK\n");
  assert.equal(await prompt().textContent(), "127.0.0.1:7001> ");
  assert.equal(await page.locator(".rp-tab.rp-active .rp-tab-port").textContent(), ":7001");
  assert.equal(await run(page, "SET hello world"), "-> Redirected to slot [866] located at 127.0.0.1:7000\nOK\n");
  assert.equal(await prompt().textContent(), "127.0.0.1:7000> ");
  assert.equal(await run(page, "GET hello"), '"world"\n');
  assert.deepEqual(seen.problems, []);
});
