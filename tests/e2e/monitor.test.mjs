// The monitor: redis-cli's --stat, --bigkeys, --memkeys and --latency views in the page. The
// keyspace scans print what redis-cli itself prints against a real redis-server holding the
// same data (when one is installed); --stat and --latency are compared by shape.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { createServer } from "node:net";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openPlayground, run } from "./harness.mjs";

let app, page;
let redis = null;

const has = (cmd) => spawnSync("sh", ["-c", `command -v ${cmd}`]).status === 0;

function freePort() {
  return new Promise((resolve) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** A redis-server of the test's own, or null when none is installed. */
async function startRedis() {
  if (!has("redis-server") || !has("redis-cli")) {
    assert.ok(!process.env.REQUIRE_REDIS, "REQUIRE_REDIS is set but redis-server is missing");
    return null;
  }
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), "rpg-monitor-"));
  const child = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir], { stdio: ["ignore", "pipe", "ignore"] });
  // It logs to its standard output; this line comes once it listens.
  await new Promise((ready, fail) => {
    let log = "";
    child.stdout.on("data", (d) => {
      log += d;
      if (log.includes("Ready to accept connections")) ready();
    });
    child.on("exit", (code) => fail(new Error(`redis-server exited (${code}):\n${log}`)));
  });
  return { port, stop: () => { child.kill(); rmSync(dir, { recursive: true, force: true }); } };
}

const cli = (args, input = "") => spawnSync("redis-cli", ["-p", String(redis.port), ...args], { input }).stdout.toString();

// Keys of every type with one longest of each (ties would be reported in SCAN order, which
// Redis leaves unspecified); small collections, whose MEMORY USAGE does not depend on chance.
const DATA = [
  `MSET ${Array.from({ length: 60 }, (_, i) => `str:${i} ${"v".repeat((i % 20) + 1)}`).join(" ")}`,
  `SET str:big ${"w".repeat(90)}`,
  "RPUSH biglist a b c d e f g",
  "RPUSH small a",
  "HSET bighash f1 1 f2 2 f3 3",
  "SADD nums 1 2 3 4 5",
  "SADD words alpha",
  "ZADD board 1 a 2 b 3 c",
  "XADD stream 1-1 a 1",
];

const summary = (text) => text.slice(text.indexOf("-------- summary -------"));

before(async () => {
  redis = await startRedis();
  app = await openPlayground({ panel: "monitor" });
  ({ page } = app);
});

after(async () => {
  await app?.close();
  redis?.stop();
});

test("--stat prints a line a second from INFO, under redis-cli's header", async () => {
  await run(page, "SET a 1");
  await run(page, "SET b 2");
  await page.waitForFunction(() => Number(document.querySelector("#monitor").dataset.statLines) >= 3);
  const lines = (await page.locator("#monitor .rp-mon-stat").textContent()).split("\n");
  assert.match(lines[0], /^------- data ------ -+ load -+ - child -$/);
  assert.match(lines[1], /^keys +mem +clients blocked requests +connections +$/);
  const last = lines.at(-1).trim().split(/\s+/);
  assert.equal(last.length, 7, lines.at(-1));
  assert.equal(last[0], "2", "keys");
  assert.match(last[1], /^\d+(\.\d\d[KMG]|B)$/, "memory");
  assert.match(last[4], /^\d+$/, "requests");
  assert.match(last[5], /^\(\+\d+\)$/, "requests' growth");
  if (redis) {
    const theirs = spawnSync("sh", ["-c", `redis-cli -p ${redis.port} --stat -i 0.01 | head -2`]).stdout.toString();
    assert.equal(lines.slice(0, 2).join("\n") + "\n", theirs);
  }
});

for (const mode of ["--bigkeys", "--memkeys"]) {
  test(`${mode} prints what redis-cli prints for the same data`, async () => {
    await run(page, "FLUSHALL");
    for (const line of DATA) await run(page, line);
    await page.locator(`#monitor .rp-mon-btn:text-is("${mode}")`).click();
    await page.waitForFunction((m) => document.querySelector("#monitor").dataset.tool === m, mode);
    const ours = await page.locator("#monitor .rp-mon-tool").textContent();
    assert.ok(ours.startsWith(`$ redis-cli ${mode}\n`), ours);
    assert.match(ours, /Sampled 68 keys in the keyspace!/);
    assert.match(ours, mode === "--bigkeys" ? /Biggest string found '"str:big"' has 90 bytes/ : /Biggest string found '"str:big"' has \d+ bytes/);
    if (redis) {
      cli(["FLUSHALL"]);
      cli([], DATA.join("\n") + "\n");
      assert.equal(summary(ours), summary(cli([mode])));
    }
  });
}

test("--latency samples round trips for a second", async () => {
  await page.locator('#monitor .rp-mon-btn:text-is("--latency")').click();
  await page.waitForFunction(() => document.querySelector("#monitor").dataset.tool === "--latency");
  const out = await page.locator("#monitor .rp-mon-tool").textContent();
  assert.match(out, /^\$ redis-cli --latency\nmin: \d+, max: \d+, avg: \d+\.\d\d \(\d+ samples\)\n$/);
});
