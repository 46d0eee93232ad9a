// Loads the engine (the wasm module built into ./pkg by scripts/build-wasm.sh) once per page,
// however many terminals use it. The import is dynamic so that a page without a built engine
// can still say what is missing instead of failing to load at all.

let loading = null;

/** Resolves with the `Playground` class once the wasm module is ready. */
export function loadEngine() {
  if (!loading) {
    loading = (async () => {
      let mod;
      try {
        mod = await import("./pkg/redis_playground.js");
      } catch (e) {
        throw new Error(`the engine is not built (www/pkg is missing): run \`make play\` (${e.message})`);
      }
      await mod.default();
      // `call`, `callBuffer` and `batch` in JS, with one crossing into the module each.
      mod.installFastCalls(mod.Playground);
      return mod.Playground;
    })();
    loading.catch(() => { loading = null; });
  }
  return loading;
}
