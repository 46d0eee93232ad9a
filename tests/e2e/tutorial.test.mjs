// The guided tutorial: a learner completes three lessons with the keyboard only; a wrong command
// does not advance a step and a right one does; progress survives a reload.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startServer, startBrowser, openPage } from "./harness.mjs";

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

/** How many commands the tutorial has checked so far. */
async function checked(page) {
  return Number((await page.locator("#learn").getAttribute("data-checked")) ?? 0);
}

/** Presses Enter in the focused terminal and waits until the tutorial checked the command. */
async function enter(page) {
  const n = await checked(page);
  await page.keyboard.press("Enter");
  await page.waitForFunction((k) => Number(document.getElementById("learn").dataset.checked ?? 0) > k, n);
}

/** Alt+ArrowDown types the step's suggestion; Enter runs it. */
async function suggested(page) {
  await page.keyboard.press("Alt+ArrowDown");
  await enter(page);
}

async function step(page) {
  return Number(await page.locator("#learn").getAttribute("data-step"));
}

async function completeLesson(page, id, runs) {
  await page.locator(`#learn[data-lesson="${id}"]`).waitFor();
  for (let i = 0; i < runs; i++) await suggested(page);
  await page.locator(`#learn[data-lesson="${id}"][data-done]`).waitFor();
}

test("three lessons with the keyboard only; wrong commands do not advance; progress is kept", async () => {
  const { page, problems } = await openPage(browser.context, `${server.url}#lesson=strings`);
  await page.locator('#learn[data-lesson="strings"]').waitFor();
  assert.equal(await page.evaluate(() => document.activeElement?.className), "rp-input");
  assert.equal(await step(page), 0);

  // A command that does not make bike:1 a string does not advance...
  await page.keyboard.type("SET bike:2 Deimos");
  await enter(page);
  assert.equal(await step(page), 0);
  await page.keyboard.type("HSET bike:1 model Deimos");
  await enter(page);
  assert.equal(await step(page), 0);
  await page.keyboard.type("DEL bike:1");
  await enter(page);
  // ...one that does, typed differently from the suggestion, does.
  await page.keyboard.type("set   bike:1   'a fast one'");
  await enter(page);
  assert.equal(await step(page), 1);
  // GET, INCR twice (the first gives 1: not yet), INCRBY.
  await suggested(page);
  assert.equal(await step(page), 2);
  await suggested(page);
  assert.equal(await step(page), 2, "INCR answering 1 is not enough");
  await suggested(page);
  assert.equal(await step(page), 3);
  await suggested(page);
  await page.locator('#learn[data-lesson="strings"][data-done]').waitFor();

  await page.keyboard.press("Alt+ArrowRight");
  await completeLesson(page, "keys", 4);

  await page.keyboard.press("Alt+ArrowRight");
  await page.locator('#learn[data-lesson="lists"]').waitFor();
  // The wrong list does not count.
  await page.keyboard.type("LPUSH tasks a b c");
  await enter(page);
  assert.equal(await step(page), 0);
  await completeLesson(page, "lists", 3);
  assert.deepEqual(problems, []);

  // Progress survives a reload: the lesson opened last is shown done, and the list marks all three.
  await page.reload();
  await page.locator(".rp[data-ready][data-hints]").waitFor();
  await page.locator('#learn[data-lesson="lists"][data-done]').waitFor();
  const options = await page.locator("#learn select option").allTextContents();
  assert.deepEqual(options.slice(0, 3).map((o) => o.endsWith("✓")), [true, true, true]);
  assert.equal(options[3].endsWith("✓"), false);
  await page.close();
});
