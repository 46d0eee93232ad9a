// Takes docs/screenshot.png: the page after a few commands (needs www/pkg built).
// Usage: node scripts/screenshot.mjs
import { startServer, startBrowser, openPage, run } from "../tests/e2e/harness.mjs";
import { fileURLToPath } from "node:url";

const server = await startServer();
const browser = await startBrowser();
try {
  const { page } = await openPage(browser.context, server.url);
  await page.setViewportSize({ width: 900, height: 500 });
  for (const line of [
    'SET greeting "hello world"',
    "GET greeting",
    "MSET visits 41 user:1 ada",
    "INCR visits",
    "MGET greeting user:1 missing",
    "MULTI",
    "INCR visits",
    "MGET visits user:1",
    "EXEC",
    "INCR greeting",
  ]) {
    await run(page, line);
  }
  await page.locator(".rp-new").click();
  await page.locator(".rp-tab[role=tab]").first().click();
  const input = page.locator(".rp-screen:not([hidden]) .rp-input");
  await input.pressSequentially("SET session:42 ");
  await page.waitForTimeout(1200); // let the autosave and the status line settle
  await page.screenshot({ path: fileURLToPath(new URL("../docs/screenshot.png", import.meta.url)) });
} finally {
  await browser.close();
  await server.close();
}
