// `make bench`, JS part: the playground's program API (pg.call, pg.batch) against
// ioredis-mock in one Node process, and the engine inside wasm against the native engine on
// the same command loop. Prints a Markdown table on stdout; asserts nothing.
//
//   node bench/js/api.mjs <native SET+GET ns/op> <wasm in Node ns/op> [<wasm in Chromium ns/op>]
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..", "..");
const { initSync, installFastCalls, Playground } = await import(join(root, "www/pkg/redis_playground.js"));
initSync({ module: readFileSync(join(root, "www/pkg/redis_playground_bg.wasm")) });
// As the package and the page load it (npm/index.js, www/engine.js).
installFastCalls(Playground);
const { default: RedisMock } = await import("ioredis-mock");

const scale = Number(process.env.BENCH_SCALE || 1);
const rows = [];

// The process's CPU time in ms. Figures are taken in CPU time rather than wall time: the
// machine is shared, and a busy neighbour stretches wall time (benches/commands.rs measures
// the native loop the same way).
function cpuMs() {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

// Best of five runs of `fn` (which does `ops` operations): operations per second.
async function rate(ops, fn) {
  let best = 0;
  for (let run = 0; run < 5; run++) {
    const t = cpuMs();
    await fn();
    best = Math.max(best, ops / (Math.max(cpuMs() - t, 0.001) / 1000));
  }
  return best;
}

function row(name, ours, mock) {
  rows.push({ name, ours, mock, ratio: ours / mock });
}

const pg = new Playground({ seed: 1 });
const c = pg.openClient();
const mock = new RedisMock();
const keys = Array.from({ length: 1000 }, (_, i) => `key:${i}`);

// One command per call.
const n = 50000 * scale;
row(
  "SET, one per call",
  await rate(n, () => { for (let i = 0; i < n; i++) pg.call(c, ["SET", keys[i % 1000], "value"]); }),
  await rate(n, async () => { for (let i = 0; i < n; i++) await mock.set(keys[i % 1000], "value"); }),
);
row(
  "GET, one per call",
  await rate(n, () => { for (let i = 0; i < n; i++) pg.call(c, ["GET", keys[i % 1000]]); }),
  await rate(n, async () => { for (let i = 0; i < n; i++) await mock.get(keys[i % 1000]); }),
);

// Batches of 100: pg.batch against an ioredis-mock pipeline. Each side builds its batch
// every round, as a program does, in the shape its API takes.
const keys100 = keys.slice(0, 100);
const rounds = n / 100;
row(
  "SET, batches of 100",
  await rate(n, () => {
    for (let r = 0; r < rounds; r++) pg.batch(c, keys100.map((k) => ["SET", k, "value"]));
  }),
  await rate(n, async () => {
    for (let r = 0; r < rounds; r++) {
      const p = mock.pipeline();
      for (const k of keys100) p.set(k, "value");
      await p.exec();
    }
  }),
);
row(
  "GET, batches of 100",
  await rate(n, () => {
    for (let r = 0; r < rounds; r++) pg.batch(c, keys100.map((k) => ["GET", k]));
  }),
  await rate(n, async () => {
    for (let r = 0; r < rounds; r++) {
      const p = mock.pipeline();
      for (const k of keys100) p.get(k);
      await p.exec();
    }
  }),
);

// Collections of 1k to 100k elements: building them, then reading them whole.
for (const size of [1000, 10000, 100000]) {
  pg.call(c, ["DEL", "z", "l"]);
  await mock.del("z", "l");
  const members = Array.from({ length: size }, (_, i) => `m${i}`);
  const build = async (ours) => {
    for (let i = 0; i < size; i++) {
      if (ours) pg.call(c, ["ZADD", "z", i, members[i]]);
      else await mock.zadd("z", i, members[i]);
    }
  };
  if (size <= 10000) {
    let t = cpuMs();
    await build(true);
    const oursAdd = size / ((cpuMs() - t) / 1000);
    t = cpuMs();
    await build(false);
    const mockAdd = size / ((cpuMs() - t) / 1000);
    row(`ZADD into a zset of ${size}`, oursAdd, mockAdd);
  } else {
    // One ZADD per member into ioredis-mock grows as the square of the size (minutes at
    // 100k): the set is built in calls of 1000 members, untimed, up to its last 1000; then
    // those are added one per call, timed (ioredis-mock: the first 100 of them, each call
    // about 70 ms, the other 900 in one call).
    const last = size - 1000;
    for (let from = 0; from < last; from += 1000) {
      const pairs = members.slice(from, from + 1000).flatMap((m, i) => [from + i, m]);
      pg.call(c, ["ZADD", "z", ...pairs]);
      await mock.zadd("z", ...pairs);
    }
    let t = cpuMs();
    for (let i = last; i < size; i++) pg.call(c, ["ZADD", "z", i, members[i]]);
    const oursAdd = 1000 / ((cpuMs() - t) / 1000);
    t = cpuMs();
    for (let i = last; i < last + 100; i++) await mock.zadd("z", i, members[i]);
    const mockAdd = 100 / ((cpuMs() - t) / 1000);
    await mock.zadd("z", ...members.slice(last + 100).flatMap((m, i) => [last + 100 + i, m]));
    row(`ZADD into a zset of ${size} (to its last members)`, oursAdd, mockAdd);
  }
  const reads = Math.max(3, Math.floor((200000 / size) * scale));
  row(
    `ZRANGE 0 -1 of ${size}`,
    await rate(reads, () => { for (let i = 0; i < reads; i++) pg.call(c, ["ZRANGE", "z", 0, -1]); }),
    await rate(reads, async () => { for (let i = 0; i < reads; i++) await mock.zrange("z", 0, -1); }),
  );
  for (let from = 0; from < size; from += 1000) {
    pg.call(c, ["RPUSH", "l", ...members.slice(from, from + 1000)]);
    await mock.rpush("l", ...members.slice(from, from + 1000));
  }
  row(
    `LRANGE 0 -1 of ${size}`,
    await rate(reads, () => { for (let i = 0; i < reads; i++) pg.call(c, ["LRANGE", "l", 0, -1]); }),
    await rate(reads, async () => { for (let i = 0; i < reads; i++) await mock.lrange("l", 0, -1); }),
  );
}

const fmt = (x) => x.toLocaleString("en-US", { maximumFractionDigits: 0 });
console.log("| JS API (Node, ops/s) | playground | ioredis-mock | ratio |");
console.log("|---|---:|---:|---:|");
for (const r of rows) {
  console.log(`| ${r.name} | ${fmt(r.ours)} | ${fmt(r.mock)} | ${r.ratio.toFixed(r.ratio < 1 ? 2 : 1)} |`);
}

// The same SET/GET loop inside wasm and natively (ns per command; lower is better), each
// measured by a process of its own (bench/js/loop.mjs, browser-loop.mjs, benches/commands.rs).
const native = Number(process.argv[2]);
const wasmNs = Number(process.argv[3] ?? 0);
const inBrowser = Number(process.argv[4] ?? 0);
console.log("");
console.log("| engine loop (SET+GET, ns/command) | wasm | native | wasm / native |");
console.log("|---|---:|---:|---:|");
const ratio = (ns) => (native > 0 && ns > 0 ? (ns / native).toFixed(2) : "n/a");
const nativeCell = native > 0 ? native.toFixed(0) : "n/a";
console.log(`| ${(100000 * scale).toLocaleString("en-US")} SET + GET, wasm in Node (CPU time, best of 5) | ${wasmNs > 0 ? wasmNs.toFixed(0) : "n/a"} | ${nativeCell} | ${ratio(wasmNs)} |`);
if (inBrowser > 0) {
  console.log(`| 100,000 SET + GET, wasm in headless Chromium (wall time, best of 9) | ${inBrowser.toFixed(0)} | ${nativeCell} | ${ratio(inBrowser)} |`);
}
