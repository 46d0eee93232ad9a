// Keyboard and screen: Ctrl+R reverse history search, ARIA roles, the phone layout.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startServer, startBrowser, openPage, openPanel, run, screen } from "./harness.mjs";

let server;
let browser;

before(async () => {
  server = await startServer();
  browser = await startBrowser();
});

after(async () => {
  await browser?.close();
  await server?.close();
});

test("Ctrl+R searches the history backwards; Enter runs the match, Escape gives the line back", async () => {
  const { page, problems } = await openPage(browser.context, server.url);
  for (const line of ["SET alpha 1", "GET alpha", "SET beta 2"]) await run(page, line);
  const scr = screen(page);
  const input = scr.locator(".rp-input");
  await input.fill("draft");
  await input.press("Control+r");
  await page.keyboard.type("alpha");
  assert.equal(await scr.locator(".rp-line .rp-prompt").textContent(), "(reverse-i-search)`alpha': ");
  assert.equal(await scr.locator(".rp-search-match").textContent(), "GET alpha");
  await input.press("Control+r");
  assert.equal(await scr.locator(".rp-search-match").textContent(), "SET alpha 1");
  await input.press("Escape");
  assert.equal(await input.inputValue(), "draft");
  assert.equal(await scr.locator(".rp-line .rp-prompt").textContent(), "127.0.0.1:6379> ");

  await input.fill("");
  await input.press("Control+r");
  await page.keyboard.type("beta");
  await page.keyboard.type("zzz");
  assert.match(await scr.locator(".rp-line .rp-prompt").textContent(), /^\(failed reverse-i-search\)/);
  for (let i = 0; i < 3; i++) await page.keyboard.press("Backspace");
  const before = await scr.locator(".rp-out > *").count();
  await input.press("Enter");
  await scr.locator(".rp-out > *").nth(before + 1).waitFor();
  assert.deepEqual(await scr.locator(".rp-out > *").evaluateAll((els, n) => els.slice(n).map((e) => e.textContent), before), ["127.0.0.1:6379> SET beta 2", "OK\n"]);
  // An arrow keeps the match on the line to edit.
  await input.press("Control+r");
  await page.keyboard.type("GET");
  await input.press("ArrowRight");
  assert.equal(await input.inputValue(), "GET alpha");
  assert.deepEqual(problems, []);
  await page.close();
});

test("roles for screen readers: the log, the tree, the tabs", async () => {
  const { page } = await openPage(browser.context, server.url);
  await openPanel(page, "inspect", { key: "Enter" });
  await run(page, "SET a:b 1");
  await page.locator('#inspect [role="treeitem"]').first().waitFor();
  assert.equal(await page.locator('[role="log"]').count(), 1);
  assert.equal(await page.locator('[role="tree"]').count(), 1);
  assert.equal(await page.locator('[role="tablist"]').count(), 1);
  assert.equal(await page.locator("#inspect-toggle").getAttribute("aria-pressed"), "true");
  // F6 walks the regions: terminal → inspector tree → toolbar → terminal.
  await screen(page).locator(".rp-input").focus();
  await page.keyboard.press("F6");
  assert.equal(await page.evaluate(() => document.activeElement.className), "rp-ins-tree");
  await page.keyboard.press("F6");
  assert.equal(await page.evaluate(() => document.activeElement.id), "learn-toggle");
  await page.keyboard.press("Shift+F6");
  assert.equal(await page.evaluate(() => document.activeElement.className), "rp-ins-tree");
  await page.locator("#inspect-toggle").press("Enter");
  await page.close();
});

test("a phone: the terminal and the panels stack, nothing scrolls sideways", async () => {
  const { page } = await openPage(browser.context, `${server.url}#lesson=hashes`);
  await page.setViewportSize({ width: 390, height: 800 });
  await page.locator('#learn[data-lesson="hashes"]').waitFor();
  const box = (sel) => page.locator(sel).evaluate((e) => { const r = e.getBoundingClientRect(); return { x: r.x, y: r.y, w: r.width, h: r.height }; });
  const term = await box("#playground");
  const learn = await box("#learn");
  assert.ok(learn.y >= term.y + term.h - 1, "the tutorial is under the terminal");
  assert.ok(term.w <= 390 && learn.w <= 390);
  assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= 390));
  assert.equal(await run(page, "PING"), "PONG\n");
  await page.close();
});
