// A Redis Cluster in the page: the Cluster panel's "Create cluster" starts six cluster nodes
// (127.0.0.1:7000 ... 7005) and joins them over the in-page cluster bus with the commands
// redis-cli --cluster create sends; tabs on cluster nodes follow MOVED and ASK as redis-cli -c
// does; the panel shows who holds which slots, a migration and a failover as they happen.
//
// Replies are compared with a real Redis 7.0 cluster of the same shape, recorded in
// cluster.fixture.json by scripts/cluster-fixture.py: node IDs and ports differ, so both
// sides are rewritten to labels (P0..P2 the primaries by first slot, R0..R2 their replicas)
// and the fields that are times, offsets or message counts are blanked.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { openPlayground, openPanel, run, runOnServer, screen, until } from "./harness.mjs";

const SHOTS = fileURLToPath(new URL("../../target/e2e-shots/", import.meta.url));
const FIXTURE = JSON.parse(readFileSync(new URL("./cluster.fixture.json", import.meta.url), "utf8"));

let app, page, seen;
// The page's nodes by label: { id, port }.
let nodes = null;

before(async () => {
  app = await openPlayground();
  ({ page, ...seen } = app);
  await mkdir(SHOTS, { recursive: true });
});

after(() => app?.close());

const panel = () => page.locator("#cluster");
const prompt = () => screen(page).locator(".rp-line .rp-prompt");

/** Labels for the nodes of one cluster, from a CLUSTER NODES text. */
function labelsOf(text) {
  const all = text.trim().split("\n").map((l) => {
    const f = l.split(" ");
    const slots = f.slice(8).filter((s) => /^\d/.test(s)).map((s) => Number(s.split("-")[0]));
    return { id: f[0], port: Number(f[1].split(":")[1].split("@")[0]), master: f[3] === "-" ? null : f[3], first: slots.length ? Math.min(...slots) : null };
  });
  const primaries = all.filter((n) => n.master === null).sort((a, b) => a.first - b.first);
  const out = {};
  primaries.forEach((p, i) => {
    out[`P${i}`] = { id: p.id, port: p.port };
    const r = all.find((n) => n.master === p.id);
    if (r) out[`R${i}`] = { id: r.id, port: r.port };
  });
  return out;
}

/** A template's placeholders ({P0}, {P1.port}) filled with one cluster's IDs and ports. */
function fill(template, labels) {
  return template.replace(/\{([PR]\d)(\.port)?\}/g, (m, label, port) => (labels[label] ? String(port ? labels[label].port : labels[label].id) : m));
}

/** A reply rewritten to labels, with what differs from run to run blanked: CLUSTER NODES'
 * ping and pong times, replication offsets, CLUSTER INFO's message counts; CLUSTER NODES
 * lines and CLUSTER SHARDS entries sorted (their order is a hash table's). */
function normalize(text, labels) {
  let t = text;
  for (const [label, { id, port }] of Object.entries(labels)) {
    t = t.replaceAll(id, `<${label}>`).replaceAll(`:${port + 10000}`, `:<${label}.bus>`).replaceAll(`@${port + 10000}`, `@<${label}.bus>`)
      .replaceAll(`:${port}`, `:<${label}.port>`).replaceAll(`(integer) ${port}\n`, `(integer) <${label}.port>\n`);
  }
  t = t.replace(/^cluster_stats_messages_.*\n/gm, "").replace(/^total_cluster_links_buffer_limit_exceeded.*\n/gm, "");
  // CLUSTER NODES lines: the ping sent and pong received times.
  t = t.replace(/^(<[PR]\d> \S+ \S+ \S+) \d+ \d+ /gm, "$1 _ _ ");
  t = t.replace(/("(?:<[PR]\d> \S+ \S+ \S+)) \d+ \d+ /g, "$1 _ _ ");
  if (/^<[PR]\d> /.test(t)) t = t.trim().split("\n").sort().join("\n") + "\n";
  // CLUSTER SHARDS: offsets, and the shards in a stable order.
  t = t.replace(/("replication-offset"\n\s+\d+\) \(integer\) )\d+/g, "$1_");
  if (/^1\) 1\) "slots"/.test(t)) {
    const items = t.split(/^(?=\d+\) 1\) "slots")/m).map((s) => s.replace(/^\d+\)/, "_)"));
    t = items.sort().join("");
  }
  return t;
}

/** Runs a line in the shown tab and returns what the screen printed for it, as redis-cli
 * prints an interactive session: the prompt and the line, then the output. */
async function typed(line) {
  const scr = screen(page);
  const before = await scr.locator(".rp-out > *").count();
  await run(page, line);
  const rows = await scr.locator(".rp-out > *").evaluateAll((els, n) => els.slice(n).map((e) => e.textContent + (e.classList.contains("rp-echo") ? "\n" : "")), before);
  return rows.join("");
}

/** A line run as `redis-cli -p <port> <line>` runs it (see harness.mjs). */
const plain = (port, line) => runOnServer(page, port, line);

async function openClientOn(port) {
  await page.locator(".rp-servers").click();
  await page.locator(".rp-menu [role=menuitem]", { hasText: `New client on 127.0.0.1:${port}` }).click();
  await prompt().filter({ hasText: `127.0.0.1:${port}> ` }).waitFor();
}

test("Create cluster builds 3 primaries and 3 replicas over the in-page bus, as redis-cli --cluster create does", async () => {
  await openPanel(page, "cluster");
  await panel().locator(".rp-cl-create").click();
  await page.locator('#cluster[data-job="done"]').waitFor({ timeout: 60000 });
  const log = await panel().locator(".rp-cl-job").textContent();
  assert.match(log, /Master\[0\] -> Slots 0 - 5460\nMaster\[1\] -> Slots 5461 - 10922\nMaster\[2\] -> Slots 10923 - 16383/);
  assert.match(log, /127\.0\.0\.1:7001> CLUSTER MEET 127\.0\.0\.1 7000/);
  assert.match(log, /\[OK\] All 16384 slots covered\./);
  // The panel: each node's own view, once every replica knows its primary.
  await page.waitForFunction(() => document.querySelector("#cluster")?.dataset.nodes ===
    "7000:primary:0-5460 7001:primary:5461-10922 7002:primary:10923-16383 7003:replica:- 7004:replica:- 7005:replica:-", null, { timeout: 30000 });
  assert.equal(await panel().getAttribute("data-slots"), "0-5460:7000 5461-10922:7001 10923-16383:7002");
  const lines = await panel().locator(".rp-cl-node .rp-cl-line").allTextContents();
  assert.match(lines[3], /^127\.0\.0\.1:7003  [0-9a-f]{8}…  replica of 127\.0\.0\.1:7000/);
  // Every replica synced with its primary.
  await openClientOn(7003);
  await until(async () => /master_link_status:up/.test(await plain(7003, "INFO replication")), "7003's link to its primary", 30000);
  // Every node knows every replica's primary (gossip brings the news within a few pings).
  await until(async () => {
    const views = await Promise.all([7000, 7001, 7002, 7003, 7004, 7005].map((p) => plain(p, "CLUSTER NODES")));
    const labels = views.map((v) => JSON.stringify(labelsOf(v)));
    nodes = labelsOf(views[0]);
    return labels.every((l) => l === labels[0]) && Object.keys(nodes).length === 6;
  }, () => `every node to know the same primaries and replicas; 7000 knows ${JSON.stringify(nodes)}`, 30000);
  assert.deepEqual(Object.keys(nodes).sort(), ["P0", "P1", "P2", "R0", "R1", "R2"]);
  await page.screenshot({ path: `${SHOTS}cluster-created.png` });
});

test("CLUSTER replies and redis-cli -c sessions match a real Redis cluster of the same shape", async () => {
  assert.ok(nodes, "the cluster was created");
  for (const step of FIXTURE.steps) {
    const port = nodes[step.node].port;
    let mine;
    if (step.kind === "cmd") {
      mine = await plain(port, fill(step.line, nodes));
    } else {
      if ((await page.locator(".rp").getAttribute("data-port")) !== String(port)) await openClientOn(port);
      mine = "";
      for (const line of step.lines) mine += await typed(fill(line, nodes));
    }
    const want = normalize(step.out, FIXTURE.nodes);
    const got = normalize(mine ?? "", nodes);
    assert.equal(got, want, `${step.node}: ${step.line ?? step.lines.join(" / ")}`);
  }
  await page.screenshot({ path: `${SHOTS}cluster-redirects.png` });
  assert.deepEqual(seen.problems, []);
});

/** Waits until the panel's `data-<name>` attribute satisfies `ok`. */
async function panelUntil(name, ok, timeout = 30000) {
  try {
    await page.waitForFunction(({ name, src }) => {
      const v = document.querySelector("#cluster")?.dataset[name];
      return v !== undefined && new Function("v", `return (${src})(v)`)(v);
    }, { name, src: ok.toString() }, { timeout, polling: 100 });
  } catch (e) {
    // What the panel showed instead, to tell a slow cluster from a wrong one.
    const shown = await panel().evaluate((b) => ({ ...b.dataset, nodes: b.querySelector(".rp-cl-nodes")?.innerText, events: b.querySelector(".rp-cl-events")?.textContent }));
    throw new Error(`${e.message}\n${JSON.stringify(shown, null, 1)}`);
  }
}

test("a migration shows in the panel as it happens: the open slot, then the slot changing hands", async () => {
  assert.ok(nodes, "the cluster was created");
  const { P0, P2 } = nodes;
  // slot 3300 moved to P1 in the fixture's steps, with MIGRATE.
  await panelUntil("slots", (v) => v.startsWith("0-3299:7000 3300-3300:7001 3301-5460:7000 "));
  assert.equal(await plain(P2.port, `CLUSTER SETSLOT 866 IMPORTING ${P0.id}`), "OK\n");
  assert.equal(await plain(P0.port, `CLUSTER SETSLOT 866 MIGRATING ${P2.id}`), "OK\n");
  const open = panel().locator(".rp-cl-node[data-port='7000'] .rp-cl-open");
  await open.filter({ hasText: "slot 866 migrating to 127.0.0.1:7002" }).waitFor();
  await panel().locator(".rp-cl-node[data-port='7002'] .rp-cl-open", { hasText: "slot 866 importing from 127.0.0.1:7000" }).waitFor();
  assert.equal(await panel().locator(".rp-cl-mark").count(), 1);
  await page.screenshot({ path: `${SHOTS}cluster-migrating.png` });
  assert.equal(await plain(P0.port, `MIGRATE 127.0.0.1 ${P2.port} "" 0 5000 KEYS hello`), "OK\n");
  assert.equal(await plain(P2.port, `CLUSTER SETSLOT 866 NODE ${P2.id}`), "OK\n");
  assert.equal(await plain(P0.port, `CLUSTER SETSLOT 866 NODE ${P2.id}`), "OK\n");
  await panelUntil("slots", (v) => v.startsWith("0-865:7000 866-866:7002 867-3299:7000 3300-3300:7001 "));
  await open.first().waitFor({ state: "detached" });
  const events = await panel().locator(".rp-cl-events").textContent();
  assert.match(events, /127\.0\.0\.1:7000: slot 866 migrating to 127\.0\.0\.1:7002/);
  assert.match(events, /slot 866: 127\.0\.0\.1:7000 → 127\.0\.0\.1:7002/);
  assert.equal(await plain(P2.port, "GET hello"), '"world"\n');
});

test("stopping a primary: the others mark it failing, its replica takes over its slots, and the terminal follows", async () => {
  assert.ok(nodes, "the cluster was created");
  const { P0, R0 } = nodes;
  // A short node timeout (Redis's default is 15 s), typed as a learner would.
  for (const { port } of Object.values(nodes)) assert.equal(await plain(port, "CONFIG SET cluster-node-timeout 2000"), "OK\n");
  await panel().locator(`.rp-cl-node[data-port='${P0.port}'] .rp-cl-stop`).click();
  await panelUntil("nodes", (v) => v.includes("7003:primary:0-865 867-3299 3301-5460"), 60000);
  const events = await panel().locator(".rp-cl-events").textContent();
  assert.match(events, /127\.0\.0\.1:7000 stopped/);
  assert.match(events, /127\.0\.0\.1:7000 marked fail \(by /);
  assert.match(events, /127\.0\.0\.1:7003 is now a primary \(it was a replica of 127\.0\.0\.1:7000\)/);
  assert.match(events, /slots 0-865: 127\.0\.0\.1:7000 → 127\.0\.0\.1:7003/);
  await page.locator(".rp-cl-node[data-ghost] .rp-cl-line", { hasText: "127.0.0.1:7000" }).waitFor();
  await page.screenshot({ path: `${SHOTS}cluster-failover.png` });
  // The data written to the old primary is on the new one, and the terminal goes there.
  await openClientOn(7001);
  assert.equal(await typed("get {b}old"), "127.0.0.1:7001> get {b}old\n\"1\"\n");
  assert.equal(await typed("get {user1000}.following"), "127.0.0.1:7001> get {user1000}.following\n-> Redirected to slot [3443] located at 127.0.0.1:7003\n(nil)\n");
  assert.equal((await plain(R0.port, "ROLE")).split("\n")[0], '1) "master"');
  // Started again, the old primary learns it lost its slots and follows the new one.
  await panel().locator(`.rp-cl-node[data-port='${P0.port}'] .rp-cl-start`).click();
  await panelUntil("nodes", (v) => v.includes("7000:replica:-"), 60000);
  assert.match(await panel().locator(".rp-cl-node[data-port='7000'] .rp-cl-line").textContent(), /replica of 127\.0\.0\.1:7003/);
  assert.deepEqual(seen.problems, []);
});

test("a reload brings every cluster node back with its ID, slots and epochs (nodes.conf is stored)", async () => {
  assert.ok(nodes, "the cluster was created");
  const before = await Promise.all([7000, 7001, 7002, 7003, 7004, 7005].map((p) => plain(p, "CLUSTER MYID")));
  const slots = await panel().getAttribute("data-slots");
  await page.reload();
  await page.locator(".rp[data-ready][data-hints]").waitFor();
  const after = await Promise.all([7000, 7001, 7002, 7003, 7004, 7005].map((p) => plain(p, "CLUSTER MYID")));
  assert.deepEqual(after, before);
  await panelUntil("slots", (v) => v.length > 0);
  assert.equal(await panel().getAttribute("data-slots"), slots);
  // Each node answers once its own view is ok again (after a rejoin delay of up to 5 s).
  await until(async () => {
    const infos = await Promise.all([7000, 7001, 7002, 7003, 7004, 7005].map((p) => plain(p, "CLUSTER INFO")));
    return infos.every((t) => /^cluster_state:ok/.test(t));
  }, "every node's cluster_state:ok", 30000);
  assert.match(await plain(7001, "CLUSTER INFO"), /^cluster_state:ok\n/);
  assert.equal(await plain(7003, "GET {b}old"), "(error) MOVED 3300 127.0.0.1:7001\n");
  assert.deepEqual(seen.problems, []);
});
