// Loads the engine (the wasm module built into ./pkg by scripts/build-wasm.sh) once per page,
// however many terminals use it. The import is dynamic so that a page without a built engine
// can still say what is missing instead of failing to load at all.

const GLUE_URL = new URL("./pkg/redis_playground.js", import.meta.url);
const WASM_URL = new URL("./pkg/redis_playground_bg.wasm", import.meta.url);

let loading = null;
let compiling = null;
let instances = 0;

/** A performance mark, where the global has them (see bench/page.mjs for what reads them). */
export function mark(name) {
  try {
    globalThis.performance?.mark?.(name);
  } catch {
    // marks are only for measuring
  }
}

/** The compiled module, once per global scope: a fresh instance after a crash reuses it. It is
 * compiled while the bytes arrive (and Chromium keeps the compiled code of a response it has
 * seen before in its cache, which a streamed compile of the same URL reuses). `early`: a
 * compilation begun before this module loaded (server.js), taken when it succeeded; when it
 * failed, the engine is compiled here, which says why it cannot be (no engine built, a server
 * that does not say application/wasm). */
function compileWasm(early = null) {
  if (!compiling) {
    compiling = (async () => {
      let module = early ? await early.catch(() => null) : null;
      if (!module) {
        const res = await fetch(WASM_URL);
        if (!res.ok) throw new Error(`the engine is not built (www/pkg is missing): run \`make play\` (${res.status} fetching ${WASM_URL.pathname})`);
        if (typeof WebAssembly.compileStreaming === "function" && res.headers.get("Content-Type")?.startsWith("application/wasm")) {
          module = await WebAssembly.compileStreaming(res);
        } else {
          // A server that does not say application/wasm: compiled once the bytes are all in.
          module = await WebAssembly.compile(await res.arrayBuffer());
        }
      }
      mark("rp:wasm-compiled");
      return module;
    })();
    compiling.catch(() => { compiling = null; });
  }
  return compiling;
}

/** Starts compiling the engine (or takes over `early`, a compilation server.js began) without
 * waiting for it, so that a later loadEngine() finds it under way or done. (server.js imports
 * the engine's glue itself.) */
export function preloadEngine(early = null) {
  compileWasm(early).catch(() => {});
}

/** Resolves with the `Playground` class once the wasm module is ready. `fresh` loads a new
 * instance of the module, with a memory of its own, for a host replacing an engine that crashed
 * (a trapped instance's memory can no longer be trusted); the page's other users of the old
 * one are unaffected. */
export function loadEngine({ fresh = false } = {}) {
  if (fresh) {
    instances++;
    loading = null;
  }
  if (!loading) {
    // A module imported under another URL is another instance of it (with a memory of its own).
    const url = instances === 0 ? GLUE_URL.href : `${GLUE_URL.href}?instance=${instances}`;
    loading = (async () => {
      // The wasm is fetched and compiled while its glue is imported, not after.
      const compiled = compileWasm();
      compiled.catch(() => {});
      let mod;
      try {
        mod = await import(url);
      } catch (e) {
        throw new Error(`the engine is not built (www/pkg is missing): run \`make play\` (${e.message})`);
      }
      await mod.default({ module_or_path: await compiled });
      // The program calls (`call`, `batch` ...) in JS, with one crossing into the module each.
      mod.installFastCalls(mod.Playground);
      mark("rp:engine-ready");
      return mod.Playground;
    })();
    loading.catch(() => { loading = null; });
  }
  return loading;
}

/** This scope's marks as [name, milliseconds since the epoch], for another scope to re-mark on
 * its own clock (a worker's timeline shown in the page's). */
export function marksSinceEpoch() {
  const p = globalThis.performance;
  if (!p?.getEntriesByType) return [];
  return p.getEntriesByType("mark").filter((m) => m.name.startsWith("rp:")).map((m) => [m.name, p.timeOrigin + m.startTime]);
}

/** Re-marks another scope's marks (marksSinceEpoch) on this scope's clock, named `prefix` + name. */
export function importMarks(marks, prefix) {
  const p = globalThis.performance;
  if (!Array.isArray(marks) || !p?.mark) return;
  for (const [name, at] of marks) {
    // A worker that was already running before this scope began: its start is not news here.
    if (!(at >= p.timeOrigin)) continue;
    try {
      p.mark(prefix + name, { startTime: at - p.timeOrigin });
    } catch {
      // marks are only for measuring
    }
  }
}
