// `make bench-js`, second part: where the time of one `pg.call` goes, stage by stage (ns per
// call, CPU time, best of seven runs). Prints a Markdown table; asserts nothing.
//
//   node bench/js/stages.mjs
//
// The stages are timed apart, each in a loop of its own: packing the arguments into the
// module's memory (src/wasm_io.js), reading the clock (`clockMs`, which the fast path reads
// once as a call begins), the crossing with the command run and
// its reply packed (`__runPacked`, arguments packed beforehand), and reading the reply back
// into JS values. The engine's own loop (`benchLoop`, the same SET+GET with no JS) is the
// floor of the middle stage.
import { readFileSync, readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";

const pkg = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "www", "pkg");
const mod = await import(join(pkg, "redis_playground.js"));
const wasm = mod.initSync({ module: readFileSync(join(pkg, "redis_playground_bg.wasm")) });
mod.installFastCalls(mod.Playground);
// The JS half of the fast path, as wasm-bindgen copied it next to the glue.
const io = await import(join(pkg, "snippets", readdirSync(join(pkg, "snippets"))[0], "src", "wasm_io.js"));

const pg = new mod.Playground({ seed: 1 });
const c = pg.openClient();
const keys = Array.from({ length: 1000 }, (_, i) => `key:${i}`);

function cpuMs() {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

// ns per operation of `fn(n)`, which does n operations: the best of seven runs.
function ns(n, fn) {
  let best = Infinity;
  for (let r = 0; r < 7; r++) {
    const t = cpuMs();
    fn(n);
    best = Math.min(best, ((cpuMs() - t) * 1e6) / n);
  }
  return best;
}

const box = pg.__ioMailbox();
const mailbox = () => new Uint32Array(wasm.memory.buffer, box, 4);

// The stages of one command (`args`), read `reps` times each.
function stages(name, args, reps) {
  const whole = ns(reps, (n) => { for (let i = 0; i < n; i++) pg.call(c, args); });
  const pack = ns(reps, (n) => {
    const [ptr, cap] = mailbox();
    for (let i = 0; i < n; i++) io.packArgs(args, ptr, cap);
  });
  const clock = ns(reps, (n) => { let x = 0; for (let i = 0; i < n; i++) x += io.clockMs(); return x; });
  const [ptr, cap] = mailbox();
  const len = io.packArgs(args, ptr, cap);
  const run = ns(reps, (n) => { for (let i = 0; i < n; i++) pg.__runPacked(c, len, io.clockMs()); });
  const replyLen = pg.__runPacked(c, len, io.clockMs());
  const at = mailbox()[2];
  const read = ns(reps, (n) => { for (let i = 0; i < n; i++) io.unpackReply(at, replyLen, false); });
  return { name, whole, pack, clock, run, read };
}

const rows = [];
const n = 100000;
rows.push(stages("SET k value", ["SET", keys[1], "value"], n));
rows.push(stages("GET k", ["GET", keys[1]], n));
rows.push(stages("PING", ["PING"], n));
pg.call(c, ["RPUSH", "l", ...Array.from({ length: 1000 }, (_, i) => `m${i}`)]);
rows.push(stages("LRANGE l 0 -1 (1000 elements)", ["LRANGE", "l", "0", "-1"], 200));
// The same with a non-ASCII character in each element (decoded at once as UTF-8).
pg.call(c, ["RPUSH", "u", ...Array.from({ length: 1000 }, (_, i) => `m\u00e9${i}`)]);
rows.push(stages("LRANGE u 0 -1 (1000 UTF-8 elements)", ["LRANGE", "u", "0", "-1"], 200));
const engine = ns(n, (k) => pg.benchLoop(k / 2));

const f = (x) => x.toLocaleString("en-US", { maximumFractionDigits: 0 });
console.log("| one pg.call, ns | whole call | pack arguments | clock read | cross + run + pack reply | read reply |");
console.log("|---|---:|---:|---:|---:|---:|");
for (const r of rows) {
  console.log(`| ${r.name} | ${f(r.whole)} | ${f(r.pack)} | ${f(r.clock)} | ${f(r.run)} | ${f(r.read)} |`);
}
console.log("");
console.log(`The engine alone (benchLoop: SET and GET with no JS around them): ${f(engine)} ns per command.`);

// How often a command reads the clock, counted last (the counting wrappers would slow the
// timed loops): each read is a call into the host (performance.now in JS as a call begins,
// which starts the command's duration and gives its wall time, and from inside the module as
// each command ends; Date.now only now and then, to follow the wall clock).
const clockReads = { perf: 0, date: 0 };
const perfNow = performance.now.bind(performance);
const dateNow = Date.now;
performance.now = () => (clockReads.perf++, perfNow());
Date.now = () => (clockReads.date++, dateNow());
function reads(name, commands, fn) {
  clockReads.perf = clockReads.date = 0;
  fn();
  const r = (x) => (x / commands).toFixed(2);
  return `| ${name} | ${r(clockReads.perf)} | ${r(clockReads.date)} |`;
}
const clockRows = [
  reads("pg.call (SET, then GET)", 2000, () => {
    for (let i = 0; i < 1000; i++) {
      pg.call(c, ["SET", keys[i], "value"]);
      pg.call(c, ["GET", keys[i]]);
    }
  }),
  reads("pg.batch of 100 GETs", 1000, () => {
    for (let r = 0; r < 10; r++) pg.batch(c, keys.slice(0, 100).map((k) => ["GET", k]));
  }),
  reads("benchLoop (SET+GET in the module)", 2000, () => pg.benchLoop(1000)),
];
performance.now = perfNow;
Date.now = dateNow;
console.log("");
console.log("| clock reads per command | performance.now | Date.now |");
console.log("|---|---:|---:|");
for (const line of clockRows) console.log(line);
