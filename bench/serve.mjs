// For the benches that open pages (bench/page.mjs, bench/js/browser-loop.mjs): serves a copy
// of www/ with scripts/serve.mjs, as `make play` serves it, on a free port.
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

const SERVE = fileURLToPath(new URL("../scripts/serve.mjs", import.meta.url));

/** Starts serving `dir`; resolves with its address and a function that stops it. */
export async function serve(dir) {
  const child = spawn(process.execPath, [SERVE, "--dir", dir, "--port", "0"], { stdio: ["ignore", "pipe", "inherit"] });
  const url = await new Promise((ok, fail) => {
    let out = "";
    child.stdout.on("data", (d) => {
      out += d;
      const m = /(http:\/\/\S+)/.exec(out);
      if (m) ok(m[1]);
    });
    child.once("exit", () => fail(new Error("the static server did not start")));
  });
  return { url, stop: () => child.kill() };
}
