// `make bench`, JS part: the engine's SET/GET loop (pg.benchLoop, as bench/js/loop.mjs runs it
// in Node) inside headless Chromium, where the page runs it. Prints ns per command, the best
// of nine runs in wall time (a page has no CPU clock), or nothing when no browser is found.
// Asserts nothing.
//
//   node bench/js/browser-loop.mjs
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { serve } from "../serve.mjs";

const CHROMIUM = process.env.CHROMIUM ?? "/usr/bin/chromium";
if (!existsSync(CHROMIUM)) process.exit(0);
const { chromium } = await import("playwright-core");

const { url, stop } = await serve(fileURLToPath(new URL("../../www/", import.meta.url)));
try {
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ["--no-sandbox", "--disable-gpu"] });
  try {
    const page = await browser.newPage();
    // Any document of the origin will do: the engine is imported into it, not the page's app.
    await page.goto(new URL("pkg/redis_playground.js", url).href);
    const ns = await page.evaluate(async (base) => {
      const mod = await import(`${base}pkg/redis_playground.js`);
      await mod.default({ module_or_path: `${base}pkg/redis_playground_bg.wasm` });
      const pg = new mod.Playground({ databases: 16 });
      let best = Infinity;
      for (let run = 0; run < 9; run++) {
        const t = performance.now();
        pg.benchLoop(100000);
        best = Math.min(best, ((performance.now() - t) * 1e6) / 200000);
      }
      pg.free();
      return best;
    }, url);
    console.log(ns.toFixed(0));
  } finally {
    await browser.close();
  }
} finally {
  stop();
}
