// Loads the engine (the wasm module built into ./pkg by scripts/build-wasm.sh) once per page,
// however many terminals use it. The import is dynamic so that a page without a built engine
// can still say what is missing instead of failing to load at all.

let loading = null;
let instances = 0;

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
    // A module imported under another URL is another instance of it; the wasm file it fetches
    // is resolved without the query, so the cache (and the offline copy) serve it.
    const url = instances === 0 ? "./pkg/redis_playground.js" : `./pkg/redis_playground.js?instance=${instances}`;
    loading = (async () => {
      let mod;
      try {
        mod = await import(url);
      } catch (e) {
        throw new Error(`the engine is not built (www/pkg is missing): run \`make play\` (${e.message})`);
      }
      await mod.default();
      // The program calls (`call`, `batch` ...) in JS, with one crossing into the module each.
      mod.installFastCalls(mod.Playground);
      return mod.Playground;
    })();
    loading.catch(() => { loading = null; });
  }
  return loading;
}
