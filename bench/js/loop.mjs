// `make bench`, JS part: the engine's SET/GET loop inside wasm in Node (pg.benchLoop;
// benches/commands.rs runs the same loop natively), in a process of its own with nothing else
// loaded, as the native one runs: other work in the process (ioredis-mock's modules, the API
// benchmarks' garbage) keeps V8's helper threads busy, which counts in the process's CPU time.
// Prints ns per command, the best of five runs in CPU time. Asserts nothing.
//
//   node bench/js/loop.mjs
import { readFileSync } from "node:fs";

const pkg = new URL("../../www/pkg/", import.meta.url);
const { initSync, Playground } = await import(new URL("redis_playground.js", pkg).href);
initSync({ module: readFileSync(new URL("redis_playground_bg.wasm", pkg)) });
const scale = Number(process.env.BENCH_SCALE || 1);

function cpuMs() {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

const pg = new Playground({ databases: 16 });
let best = Infinity;
for (let run = 0; run < 5; run++) {
  const t = cpuMs();
  pg.benchLoop(100000 * scale);
  best = Math.min(best, ((cpuMs() - t) * 1e6) / (2 * 100000 * scale));
}
console.log(best.toFixed(0));
