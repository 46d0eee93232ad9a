// The npm package as a user gets it: `npm pack`'s tarball unpacked under node_modules, then
// imported by name. ioredis and node-redis, unmodified, run a few hundred commands through the
// in-process connections; a TypeScript program using the types compiles with `tsc --strict`.
//
//   scripts/build-package.sh && node --test tests/package/
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync, readdirSync, rmSync, writeFileSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(fileURLToPath(new URL("../..", import.meta.url)));
// Under target/, so that ioredis, redis and typescript resolve from the project's node_modules
// as a user's would from theirs; redis-playground resolves from this directory's node_modules.
const app = join(root, "target", "package-test");
let sock;

before(() => {
  const tgz = readdirSync(join(root, "target", "package")).find((f) => /^redis-playground-.*\.tgz$/.test(f));
  assert.ok(tgz, "run scripts/build-package.sh first");
  rmSync(app, { recursive: true, force: true });
  const dest = join(app, "node_modules", "redis-playground");
  mkdirSync(dest, { recursive: true });
  execFileSync("tar", ["-xzf", join(root, "target", "package", tgz), "-C", dest, "--strip-components=1"]);
  sock = join(app, "playground.sock");
});

after(() => rmSync(app, { recursive: true, force: true }));

/** Runs a module written into the app directory; its stdout. */
function runModule(name, source) {
  const file = join(app, name);
  writeFileSync(file, source);
  return execFileSync(process.execPath, [file], { encoding: "utf8", timeout: 60000 });
}

test("the package holds what its exports name, and no more", () => {
  const pkg = JSON.parse(readFileSync(join(app, "node_modules", "redis-playground", "package.json"), "utf8"));
  const files = execFileSync("tar", ["-tzf", join(root, "target", "package", readdirSync(join(root, "target", "package")).find((f) => f.endsWith(".tgz")))], { encoding: "utf8" })
    .trim().split("\n").map((f) => f.replace(/^package\//, "")).sort();
  // Every packed file is named by an entry of `files` (a directory entry ends with "/"), and
  // every entry names something packed.
  const entries = [...pkg.files, "package.json"];
  const covers = (entry, f) => (entry.endsWith("/") ? f.startsWith(entry) : f === entry);
  assert.deepEqual(files.filter((f) => !entries.some((e) => covers(e, f))), []);
  assert.deepEqual(entries.filter((e) => !files.some((f) => covers(e, f))), []);
  const cargo = readFileSync(join(root, "Cargo.toml"), "utf8");
  assert.equal(pkg.version, /^version = "(.*)"/m.exec(cargo)[1]);
});

test("index.d.ts declares every method the engine's Playground has, and only those", () => {
  const out = runModule("methods.mjs", `
    import { Playground } from "redis-playground";
    const names = Object.getOwnPropertyNames(Playground.prototype)
      .filter((n) => n !== "constructor" && !n.startsWith("__"));
    console.log(JSON.stringify(names.sort()));
  `);
  const dts = readFileSync(join(app, "node_modules", "redis-playground", "index.d.ts"), "utf8");
  const body = dts.slice(dts.indexOf("export class Playground {"));
  // Methods, and getters (`readonly port: number`).
  const declared = [...body.matchAll(/^ {2}(?:(\w+)\(|readonly (\w+):)/gm)].map((m) => m[1] ?? m[2]).filter((n) => n !== "constructor");
  assert.deepEqual([...new Set(declared)].sort(), JSON.parse(out));
});

test("call, callBuffer and batch answer in JS as the Rust methods do", () => {
  const out = runModule("fastpath.mjs", `
    import { Playground } from "redis-playground";
    const rust = Playground.prototype.__rustCalls;
    // A value as text: Errors by class and message, bytes, BigInts, Maps and Sets spelled out.
    const show = (v) => JSON.stringify(v, (k, x) =>
      x instanceof Error ? x.constructor.name + ": " + x.message
      : x instanceof Uint8Array ? "bytes:" + Array.from(x).join(",")
      : typeof x === "bigint" ? "bigint:" + x
      : x instanceof Map ? { map: [...x] }
      : x instanceof Set ? { set: [...x] }
      : x === undefined ? "undefined" : x);
    const outcome = (f) => { try { return show(f()); } catch (e) { return "thrown " + show(e); } };
    // Two playgrounds fed the same commands, one through each path.
    const fast = new Playground({ seed: 7 }), slow = new Playground({ seed: 7 });
    const fc = fast.openClient(), sc = slow.openClient();
    const big = "x".repeat(100000) + "é";
    const cases = [
      ["SET", "k", "v"], ["GET", "k"], ["GET", "missing"], ["INCRBY", "n", 5], ["INCRBY", "n", 9007199254740990],
      ["INCRBY", "n", 10], ["SET", "b", new Uint8Array([0, 255, 10, 128])], ["GET", "b"],
      ["SET", "u", "héllo \\u{1F600} \\uD800"], ["GET", "u"], ["SET", "big", big], ["STRLEN", "big"], ["GET", "big"],
      ["RPUSH", "l", ...Array.from({ length: 3000 }, (_, i) => "m" + i)], ["LRANGE", "l", 0, 5], ["LRANGE", "l", 0, -1],
      ["ZADD", "z", 1, "a", 2.5, "b"], ["ZRANGE", "z", 0, -1, "WITHSCORES"], ["HSET", "h", "f", "v", "g", "w"],
      ["HGETALL", "h"], ["SMEMBERS", "nosuch"], ["LPUSH", "k", "x"], ["NOSUCH"], ["GET"], [], ["PING", 1n],
      ["SET", "k", { no: 1 }], ["SET", "k", null], ["SET", "k", ["nested"]], ["SET", "k", 1.5], ["GET", "k"],
      ["MULTI"], ["INCR", "n"], ["GET", "l"], ["EXEC"], ["CLIENT", "REPLY", "SKIP"], ["PING"], ["PING"],
      ["HELLO", "3"], ["HGETALL", "h"], ["SMEMBERS", "nosuch"], ["ZSCORE", "z", "b"], ["ZRANGE", "z", 0, -1, "WITHSCORES"],
      ["DEBUG", "PROTOCOL", "bignum"], ["DEBUG", "PROTOCOL", "true"], ["DEBUG", "PROTOCOL", "attrib"],
      ["EVAL", "return {1, 'a', {err='bad'}}", 0],
      ["MSET", "a1", "x".repeat(70), "a2", "y", "a3", "\u00e9t\u00e9", "a4", new Uint8Array([255, 0])],
      ["MGET", "a1", "missing", "a2", "n"], ["MGET", "a1", "a3", "a2"], ["MGET", "a2", "a4", "a1"],
      ["EVAL", "return {'short', 7, 'a longer status text, to pass sixty-four bytes in all', {ok='fine'}}", 0],
      ["BLPOP", "empty", 0],
    ];
    const lines = [];
    for (const args of cases) {
      for (const buffers of [false, true]) {
        const a = outcome(() => buffers ? fast.callBuffer(fc, args) : fast.call(fc, args));
        const b = outcome(() => buffers ? rust.callBuffer.call(slow, sc, args) : rust.call.call(slow, sc, args));
        if (a !== b) lines.push("differs: " + show(args).slice(0, 80) + " " + a.slice(0, 200) + " <> " + b.slice(0, 200));
        if (args[0] === "BLPOP") break;
      }
      if (args[0] === "BLPOP") continue;
      const a = outcome(() => fast.callResp(fc, args));
      const b = outcome(() => rust.callResp.call(slow, sc, args));
      if (a !== b) lines.push("callResp differs: " + show(args).slice(0, 80) + " " + a.slice(0, 200) + " <> " + b.slice(0, 200));
    }
    const batches = [
      [["SET", "x", "1"], ["INCR", "x"], ["LPUSH", "x", "y"], ["GET", "x"]],
      [["SET", "x", big], ["GET", "x"]],
      [["GET", "x"], "not an array"],
      [["GET", "x"], ["SET", "x", Symbol("s")]],
      [],
    ];
    const f2 = fast.openClient(), s2 = slow.openClient();
    for (const cmds of batches) {
      const a = outcome(() => fast.batch(f2, cmds)), b = outcome(() => rust.batch.call(slow, s2, cmds));
      if (a !== b) lines.push("batch differs: " + a.slice(0, 200) + " <> " + b.slice(0, 200));
      const c = outcome(() => fast.batchBuffer(f2, cmds)), d = outcome(() => rust.batchBuffer.call(slow, s2, cmds));
      if (c !== d) lines.push("batchBuffer differs: " + c.slice(0, 200) + " <> " + d.slice(0, 200));
    }
    fast.free();
    lines.push(outcome(() => fast.call(fc, ["PING"])));
    console.log(lines.join("\\n"));
  `);
  assert.match(out.trim(), /^thrown "Error: null pointer passed to rust"$/);
});

test("each string of a reply reads as its own bytes decode, whatever the others hold", () => {
  const out = runModule("texts.mjs", `
    import { Playground } from "redis-playground";
    const pg = new Playground({ seed: 1 });
    const c = pg.openClient();
    const enc = new TextEncoder(), dec = new TextDecoder("utf-8", { ignoreBOM: true });
    const bytes = (e) => (e instanceof Uint8Array ? e : enc.encode(e));
    const words = Array.from({ length: 40 }, (_, i) => "w" + i);
    const lists = {
      ascii: words,
      utf8: [...words, "\u00e9", "\u{1F600}x", "\uFEFFbom", "\u65e5\u672c", "", "a".repeat(300) + "\u00e9", "\uD800", "z"],
      // Characters cut between elements: each element is invalid alone.
      split: [...words, new Uint8Array([0xc3]), new Uint8Array([0xa9]), "\u00e9", new Uint8Array([0xf0, 0x9f]), new Uint8Array([0x98, 0x80]), "q"],
      latin1: [...words, new Uint8Array([0xe9, 0x74, 0xe9]), "\u00e9t\u00e9", new Uint8Array([0xff])],
    };
    const bad = [];
    const check = (what, got, want) => {
      if (JSON.stringify(got) !== JSON.stringify(want)) bad.push(what + ": " + JSON.stringify(got).slice(0, 300));
    };
    for (const [name, items] of Object.entries(lists)) {
      pg.call(c, ["RPUSH", name, ...items]);
      const want = items.map((e) => dec.decode(bytes(e)));
      check(name, pg.call(c, ["LRANGE", name, 0, -1]), want);
      check(name + " buffers", pg.callBuffer(c, ["LRANGE", name, 0, -1]).map((b) => Array.from(b)), items.map((e) => Array.from(bytes(e))));
      check(name + " in a batch", pg.batch(c, [["LRANGE", name, 0, -1], ["LINDEX", name, -1]]), [want, want.at(-1)]);
      // Strings of other kinds in the same reply: statuses, errors, nested arrays.
      const nested = pg.call(c, ["EVAL", "local l = redis.call('LRANGE', KEYS[1], 0, -1); return {{ok='\u00e9'}, l, {err='b\u00e4d'}, l[#l]}", 1, name]);
      check(name + " nested", [nested[0], nested[1], nested[2].message, nested[3]], ["\u00e9", want, "b\u00e4d", want.at(-1)]);
    }
    pg.call(c, ["HELLO", "3"]);
    pg.call(c, ["HSET", "h", ...lists.utf8.flatMap((e, i) => ["f\u00e9" + i, e])]);
    const map = pg.call(c, ["HGETALL", "h"]);
    check("map", [...map].sort(), lists.utf8.map((e, i) => ["f\u00e9" + i, e]).sort());
    console.log(JSON.stringify(bad));
  `);
  assert.deepEqual(JSON.parse(out), []);
});

test("Playground by name, binary-safe, errors thrown", () => {
  const out = runModule("programs.mjs", `
    import { Playground } from "redis-playground";
    const pg = new Playground({ seed: 1 });
    const c = pg.openClient();
    const r = [];
    r.push(pg.call(c, ["SET", "k", new Uint8Array([0, 255, 10])]));
    r.push(Array.from(pg.callBuffer(c, ["GET", "k"])));
    r.push(pg.call(c, ["INCRBY", "n", 5]));
    r.push(pg.batch(c, [["RPUSH", "l", "a", "b"], ["LRANGE", "l", 0, -1], ["INCR", "l"]]).map((v) => v instanceof Error ? "E:" + v.message : v));
    try { pg.call(c, ["LPUSH", "k", "x"]); } catch (e) { r.push(e.message); }
    console.log(JSON.stringify(r));
  `);
  assert.deepEqual(JSON.parse(out), [
    "OK",
    [0, 255, 10],
    5,
    [2, ["a", "b"], "E:WRONGTYPE Operation against a key holding the wrong kind of value"],
    "WRONGTYPE Operation against a key holding the wrong kind of value",
  ]);
});

test("ioredis and node-redis run hundreds of commands in process, as clients of one engine", () => {
  const out = runModule("clients.mjs", `
    import Redis from "ioredis";
    import { createClient } from "redis";
    import { Playground } from "redis-playground";
    import { IoredisConnector, serve } from "redis-playground/node";
    import { rmSync } from "node:fs";
    const pg = new Playground({ seed: 7 });
    const io = new Redis({ Connector: IoredisConnector, playground: pg });
    rmSync(${JSON.stringify(sock)}, { force: true });
    const server = await serve(pg, ${JSON.stringify(sock)});
    const nr = await createClient({ socket: { path: ${JSON.stringify(sock)} } }).connect();
    const seen = {};
    for (let i = 0; i < 150; i++) await io.set("io:" + i, String(i));
    for (let i = 0; i < 150; i++) await nr.set("nr:" + i, String(i));
    let sum = 0;
    for (let i = 0; i < 150; i++) sum += Number(await nr.get("io:" + i)) + Number(await io.get("nr:" + i));
    seen.sum = sum;
    seen.dbsize = [await io.dbsize(), await nr.dbSize()];
    seen.hash = await io.hgetall((await nr.hSet("h", { a: "1", b: "2" }), "h"));
    seen.pipeline = await io.pipeline().incr("c").incr("c").get("c").exec();
    seen.multi = await nr.multi().incr("m").incrBy("m", 10).exec();
    const sub = io.duplicate();
    await sub.subscribe("news");
    const message = new Promise((res) => sub.on("message", (ch, m) => res([ch, m])));
    seen.receivers = await nr.publish("news", "hello");
    seen.message = await message;
    const waiter = nr.duplicate();
    await waiter.connect();
    const popped = waiter.blPop("queue", 0);
    await new Promise((r) => setTimeout(r, 20));
    await io.rpush("queue", "job");
    seen.popped = await popped;
    seen.clients = (await io.client("LIST")).trim().split("\\n").length;
    try { await io.lpush("io:1", "x"); } catch (e) { seen.error = e.message; }
    await io.quit(); await sub.quit(); await nr.quit(); await waiter.quit();
    server.close();
    console.log(JSON.stringify(seen));
  `);
  const seen = JSON.parse(out);
  assert.equal(seen.sum, 2 * (149 * 150) / 2);
  assert.deepEqual(seen.dbsize, [300, 300]);
  assert.deepEqual(seen.hash, { a: "1", b: "2" });
  assert.deepEqual(seen.pipeline, [[null, 1], [null, 2], [null, "2"]]);
  assert.deepEqual(seen.multi, [1, 11]);
  assert.equal(seen.receivers, 1);
  assert.deepEqual(seen.message, ["news", "hello"]);
  assert.deepEqual(seen.popped, { key: "queue", element: "job" });
  assert.equal(seen.clients, 4); // ioredis and its subscriber, node-redis and its waiter
  assert.equal(seen.error, "WRONGTYPE Operation against a key holding the wrong kind of value");
});

test("a TypeScript program using the package's types compiles with --strict", () => {
  writeFileSync(join(app, "use.ts"), `
    import { Playground, type Value } from "redis-playground";
    import { IoredisConnector, createConnection, serve } from "redis-playground/node";
    import type { RedisPlaygroundElement } from "redis-playground/element";
    const pg: Playground = new Playground({ databases: 4, seed: 1 });
    const c: number = pg.openClient();
    const v: Value | undefined = pg.call(c, ["SET", "k", new Uint8Array([1])]);
    const all: (Value | undefined)[] = pg.batch(c, [["GET", "k"], ["INCR", "n"]]);
    const out: Uint8Array = pg.write(pg.openConnection(), new TextEncoder().encode("PING\\r\\n"));
    const text: string = pg.execute(c, "PING").text;
    const keys: [string, string, number, string, number][] = pg.describeKeys(0, "*", "", 10);
    const other = new Playground({ port: 6380 });
    const where: string = other.address;
    const port: number = other.port;
    const stream = createConnection(pg);
    stream.setNoDelay(true).end();
    const connector = new IoredisConnector({ playground: pg });
    const served: Promise<import("node:net").Server> = serve(pg, { port: 0 });
    let el: RedisPlaygroundElement | null = null;
    export { v, all, out, text, keys, where, port, connector, served, el };
  `);
  const tsc = join(root, "node_modules", "typescript", "bin", "tsc");
  execFileSync(process.execPath, [tsc, "--noEmit", "--strict", "--target", "es2022", "--module", "nodenext",
    "--moduleResolution", "nodenext", "--lib", "es2022,dom", "--types", "node", join(app, "use.ts")], { cwd: app, encoding: "utf8" });
});
