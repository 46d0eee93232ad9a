// Produces the README's pictures from the running page: docs/tutorial.png, docs/inspector.png,
// docs/servers.png, docs/replication.png, docs/monitor.png, docs/embeds.png, docs/cluster.png and
// docs/aof.png. Run with `npm run screenshots` (after scripts/build-wasm.sh); `npm run
// screenshots -- aof monitor` makes only those.
import { fileURLToPath } from "node:url";
import { startServer, startBrowser, openPage, run } from "../tests/e2e/harness.mjs";

const DOCS = fileURLToPath(new URL("../docs/", import.meta.url));

const only = process.argv.slice(2);
const want = (name) => only.length === 0 || only.includes(name);

const server = await startServer();
const browser = await startBrowser();
try {
  // The tutorial, two steps into the hashes lesson.
  if (want("tutorial")) {
    const { page } = await openPage(browser.context, `${server.url}#lesson=hashes`);
    await page.setViewportSize({ width: 1280, height: 720 });
    await page.locator('#learn[data-lesson="hashes"]').waitFor();
    await run(page, "HSET bike:1 model Deimos brand Ergonom price 4972");
    await page.locator('#learn[data-step="1"]').waitFor();
    await run(page, "HGET bike:1 model");
    await page.locator('#learn[data-step="2"]').waitFor();
    await page.keyboard.press("Alt+ArrowDown");
    await page.screenshot({ path: `${DOCS}tutorial.png` });
    await page.locator("#learn-toggle").click();
    await page.close();
  }
  // The inspector: a few of every type, a stream with a consumer group selected.
  if (want("inspector")) {
    const { page } = await openPage(browser.context, server.url);
    await page.setViewportSize({ width: 1280, height: 860 });
    await page.locator("#inspect-toggle").click();
    await page.locator("#inspect[data-version]").waitFor();
    for (const line of [
      "FLUSHALL",
      "RPUSH bikes:repairs bike:1 bike:2 bike:3",
      "HSET bike:1 model Deimos brand Ergonom price 4972",
      "SADD bikes:racing:france bike:1 bike:2 bike:3",
      "ZADD racer_scores 10 Norem 12 Castilla 8 Sam-Bodden",
      "GEOADD bikes:rentable -122.27652 37.805186 station:1 -122.2674626 37.8062344 station:2",
      "SET session:7f3a alice EX 3600",
      "PFADD visitors alice bob carol",
      "SETBIT pings:today 3 1",
      "XADD race:france * rider Castilla speed 30.2",
      "XADD race:france * rider Norem speed 28.8",
      "XADD race:france * rider Prickett speed 29.7",
      "XGROUP CREATE race:france riders 0",
      "XREADGROUP GROUP riders alice COUNT 2 STREAMS race:france >",
    ]) await run(page, line);
    await page.waitForFunction(() => !window.redisPlayground.inspector.pending && !window.redisPlayground.inspector.running);
    await page.evaluate(() => {
      const ins = window.redisPlayground.inspector;
      for (const f of ["bike:", "bikes:", "race:", "session:"]) ins.open.add(f);
      return ins.select("race:france");
    });
    await page.locator('#inspect[data-shown="race:france"]').waitFor();
    await run(page, "XADD race:france * rider Sam-Bodden speed 31.1");
    await page.waitForFunction(() => document.querySelector("#inspect .rp-ins-entry.rp-changed"));
    await page.screenshot({ path: `${DOCS}inspector.png` });
    await page.locator("#inspect-toggle").click();
    await page.close();
  }
  // Two servers: a client on each, the same key holding different values, the servers menu open.
  if (want("servers")) {
    const { page } = await openPage(browser.context, server.url);
    await page.setViewportSize({ width: 1000, height: 560 });
    await run(page, "FLUSHALL");
    await run(page, 'SET greeting "hello from 6379"');
    await page.locator(".rp-servers").click();
    await page.locator(".rp-menu-add").click();
    await page.locator(".rp-screen:not([hidden]) .rp-line .rp-prompt", { hasText: "127.0.0.1:6380> " }).waitFor();
    await page.locator(".rp-notice .rp-dismiss").click();
    for (const line of [
      // Short lines first: the open menu covers the top of the screen.
      "CONFIG GET port",
      "GET greeting",
      "DBSIZE",
      'SET greeting "hello from 6380"',
      "GET greeting",
      "CLIENT INFO",
    ]) await run(page, line);
    await page.locator(".rp-servers").click();
    await page.locator(".rp-menu-client").first().hover();
    await page.screenshot({ path: `${DOCS}servers.png` });
    // Removed again, so that the pictures after this one show a page with one server.
    await page.locator(".rp-menu-remove").click();
    await page.locator(".rp-notice").getByRole("button", { name: "Remove", exact: true }).click();
    await page.waitForFunction(() => !document.querySelector(".rp-menu-remove") && document.querySelectorAll(".rp-tab[role=tab]").length === 1);
    await page.close();
  }
  // Replication: two replicas of the first server made with REPLICAOF in their terminals,
  // writes on the primary read on a replica, the panel showing the topology and the stream.
  if (want("replication")) {
    const { page } = await openPage(browser.context, server.url);
    const prompt = (port) => page.locator(".rp-screen:not([hidden]) .rp-line .rp-prompt", { hasText: `127.0.0.1:${port}> ` });
    await page.setViewportSize({ width: 1280, height: 760 });
    await run(page, "FLUSHALL");
    await run(page, "SET greeting hello");
    for (const port of [6380, 6381]) {
      await page.locator(".rp-servers").click();
      await page.locator(".rp-menu-add").click();
      await prompt(port).waitFor();
      await run(page, "REPLICAOF 127.0.0.1 6379");
    }
    await page.locator(".rp-notice .rp-dismiss").click();
    await page.locator("#repl-toggle").click();
    await page.waitForFunction(() => document.querySelector("#repl").dataset.topology === "6379:primary:2 6380:replica-of-6379:connected 6381:replica-of-6379:connected");
    await page.locator(".rp-tab[role=tab][data-port='6379']").click();
    for (const line of ["HSET user:1 name Ada lang Rust", "INCR visits", "WAIT 2 1000"]) await run(page, line);
    await page.locator(".rp-tab[role=tab][data-port='6380']").click();
    for (const line of ["HGETALL user:1", "GET visits", "SET visits 0", "ROLE"]) await run(page, line);
    await page.waitForFunction(() => /"INCR" "visits"/.test(document.querySelector(".rp-repl-stream").textContent));
    await page.screenshot({ path: `${DOCS}replication.png` });
    await page.locator("#repl-toggle").click();
    // Removed again, so that the pictures after this one show a page with one server.
    for (const port of [6381, 6380]) {
      await page.locator(".rp-servers").click();
      await page.locator(`.rp-menu-remove:has-text("${port}")`).click();
      await page.locator(".rp-notice").getByRole("button", { name: "Remove", exact: true }).click();
      await page.waitForFunction((p) => !document.querySelector(`.rp-tab[role=tab][data-port='${p}']`), port);
    }
    await page.close();
  }
  // The monitor: --stat running, --bigkeys over a few keys of every type.
  if (want("monitor")) {
    const { page } = await openPage(browser.context, server.url);
    await page.setViewportSize({ width: 1280, height: 760 });
    await run(page, "FLUSHALL");
    await run(page, "MSET user:1 alice user:2 bob greeting hello-world");
    await run(page, "RPUSH queue job:1 job:2 job:3");
    await run(page, "HSET bike:1 model Deimos brand Ergonom price 4972");
    await run(page, "SADD tags redis wasm rust");
    await run(page, "ZADD board 10 Norem 12 Castilla 8 Sam-Bodden");
    await run(page, "XADD events * kind click");
    await page.locator("#monitor-toggle").click();
    await page.waitForFunction(() => Number(document.querySelector("#monitor").dataset.statLines) >= 4);
    await page.locator('#monitor .rp-mon-btn:text-is("--bigkeys")').click();
    await page.waitForFunction(() => document.querySelector("#monitor").dataset.tool === "--bigkeys");
    await page.screenshot({ path: `${DOCS}monitor.png` });
    await page.locator("#monitor-toggle").click();
    await page.close();
  }
  // A docs page with widgets, in the reader's light scheme.
  if (want("embeds")) {
    const page = await browser.context.newPage();
    await page.setViewportSize({ width: 900, height: 1100 });
    await page.emulateMedia({ colorScheme: "light" });
    await page.goto(`${server.url}docs-demo.html`);
    for (const id of ["strings", "lists", "hash", "zset"]) await page.locator(`#${id} .rp[data-ready]`).waitFor();
    await page.screenshot({ path: `${DOCS}embeds.png`, fullPage: true });
    await page.close();
  }
  // A cluster: made with Create cluster, a tab following redirections as redis-cli -c does,
  // a primary stopped and its replica elected in its place, as the panel shows it.
  if (want("cluster")) {
    const { page } = await openPage(browser.context, server.url);
    await page.setViewportSize({ width: 1280, height: 860 });
    await page.locator("#cluster-toggle").click();
    await page.locator(".rp-cl-create").click();
    await page.locator('#cluster[data-job="done"]').waitFor({ timeout: 60000 });
    await page.waitForFunction(() => / 7005:replica:-$/.test(document.querySelector("#cluster").dataset.nodes ?? ""), null, { timeout: 30000 });
    const plain = (port, line) => page.evaluate(async ({ port, line }) => {
      const s = window.redisPlayground.shell.server;
      const { client } = await s.request("open", { port });
      await s.request("exec", { port, client, line });
      await s.request("close", { port, client });
    }, { port, line });
    for (const port of [7000, 7001, 7002, 7003, 7004, 7005]) await plain(port, "CONFIG SET cluster-node-timeout 2000");
    await page.locator(".rp-servers").click();
    await page.locator(".rp-menu [role=menuitem]", { hasText: "New client on 127.0.0.1:7000" }).click();
    await page.locator(".rp-screen:not([hidden]) .rp-line .rp-prompt", { hasText: "127.0.0.1:7000> " }).waitFor();
    for (const line of ["SET hello world", "SET user:1 Ada", "SET session:7f3a alice", "INCR visits"]) await run(page, line);
    await page.locator(".rp-cl-node[data-port='7000'] .rp-cl-stop").click();
    await page.waitForFunction(() => /7003:primary:0-5460/.test(document.querySelector("#cluster").dataset.nodes ?? ""), null, { timeout: 60000 });
    await page.locator(".rp-servers").click();
    await page.locator(".rp-menu [role=menuitem]", { hasText: "New client on 127.0.0.1:7001" }).click();
    await page.locator(".rp-screen:not([hidden]) .rp-line .rp-prompt", { hasText: "127.0.0.1:7001> " }).waitFor();
    for (const line of ["GET hello", "GET session:7f3a", "CLUSTER NODES"]) await run(page, line);
    await page.locator(".rp-notice .rp-dismiss").click();
    await page.waitForTimeout(600);
    await page.screenshot({ path: `${DOCS}cluster.png` });
    await page.close();
  }
  // The append-only file: a few writes logged as RESP, then BGREWRITEAOF's compaction into a
  // base of commands (aof-use-rdb-preamble no) and the writes after it.
  if (want("aof")) {
    const { page } = await openPage(browser.context, server.url);
    await page.setViewportSize({ width: 1280, height: 860 });
    await page.locator("#aof-toggle").click();
    await page.locator("#aof[data-version]").waitFor();
    for (const line of [
      "FLUSHALL",
      "CONFIG SET appendonly yes",
      "CONFIG SET aof-use-rdb-preamble no",
      "SET bike:1 Deimos",
      "INCR visits",
      "INCR visits",
      "SET session:7f3a alice EX 3600",
      "RPUSH queue job:1 job:2",
      "LPOP queue",
      "BGREWRITEAOF",
      "INCR visits",
      "MULTI",
      "HSET bike:1:stats rides 1",
      "SADD riders alice",
      "EXEC",
    ]) await run(page, line);
    await page.waitForFunction(() => document.querySelectorAll('#aof .rp-aof-file[data-type="incr"] .rp-aof-cmd').length === 6);
    await page.screenshot({ path: `${DOCS}aof.png` });
    await page.locator("#aof-toggle").click();
    await page.close();
  }
  console.log(`${only.length ? only.join(", ") : "all pictures"} written in docs/`);
} finally {
  await browser.close();
  await server.close();
}
