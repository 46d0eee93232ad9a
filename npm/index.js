// redis-playground: Redis 7.0's engine in WebAssembly, for programs (`Playground`) in browsers
// and Node. The module is ready when imported: the wasm is loaded at import time (fetched next
// to this file in a browser, read from disk in Node).
//
//   import { Playground } from "redis-playground";
//   const pg = new Playground();
//   const c = pg.openClient();
//   pg.call(c, ["SET", "greeting", "hello"]);   // "OK"
//
// `redis-playground/node` adds in-process connections for ioredis and node-redis, and
// `redis-playground/element` defines the <redis-playground> terminal element for pages.
import init, { initSync, installFastCalls, Playground } from "./pkg/redis_playground.js";

const wasmUrl = new URL("./pkg/redis_playground_bg.wasm", import.meta.url);

if (typeof process !== "undefined" && process.versions?.node && wasmUrl.protocol === "file:") {
  const { readFileSync } = await import("node:fs");
  initSync({ module: readFileSync(wasmUrl) });
} else {
  await init({ module_or_path: wasmUrl });
}
// `call`, `callBuffer` and `batch` in JS, with one crossing into the module each.
installFastCalls(Playground);

export { Playground };
