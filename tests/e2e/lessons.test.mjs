// Every lesson can be completed by running its own suggestions (in a second client tab where
// the lesson says so), and each lesson file follows the documented format.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { startServer, startBrowser, openPage, run, WWW } from "./harness.mjs";

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

const ids = JSON.parse(await readFile(join(WWW, "lessons", "index.json"), "utf8"));

test("the lesson files follow the format", async () => {
  assert.ok(ids.length >= 15);
  for (const id of ids) {
    const l = JSON.parse(await readFile(join(WWW, "lessons", `${id}.json`), "utf8"));
    assert.equal(l.id, id);
    assert.ok(l.title && Array.isArray(l.intro) && l.intro.length > 0, id);
    assert.ok(Array.isArray(l.steps) && l.steps.length > 0, id);
    for (const s of l.steps) {
      assert.ok(typeof s.text === "string" && Array.isArray(s.try) && s.try.length > 0, id);
      assert.ok(Array.isArray(s.checks) && s.checks.length > 0, `${id}: a step without checks`);
      for (const c of s.checks) assert.ok(c.reply || c.key || c.query, `${id}: unknown check ${JSON.stringify(c)}`);
    }
  }
});

/** Lines that must run in a second client tab, by lesson and step. */
const ELSEWHERE = {
  pubsub: { 1: ["PUBLISH news hello"] },
  blocking: { 1: ["LPUSH queue:mail welcome"] },
};

test("every lesson completes with its own suggestions", async () => {
  const { page, problems } = await openPage(browser.context, `${server.url}#lesson=${ids[0]}`);
  const learn = page.locator("#learn");
  await page.locator(`#learn[data-lesson="${ids[0]}"]`).waitFor();
  const checked = async () => Number((await learn.getAttribute("data-checked")) ?? 0);
  const runChecked = async (line, scope) => {
    const n = await checked();
    const s = page.locator(".rp-screen:not([hidden])");
    const input = s.locator(".rp-input");
    await input.fill(line);
    await input.press("Enter");
    await page.waitForFunction((k) => Number(document.getElementById("learn").dataset.checked ?? 0) > k, n);
  };
  const tab = (i) => page.locator(".rp-tab").nth(i);
  for (const id of ids) {
    await page.evaluate((l) => window.redisPlayground.tutorial.open(l), id);
    await page.locator(`#learn[data-lesson="${id}"]`).waitFor();
    await run(page, "FLUSHALL");
    const lesson = JSON.parse(await readFile(join(WWW, "lessons", `${id}.json`), "utf8"));
    for (let i = 0; i < lesson.steps.length; i++) {
      const elsewhere = ELSEWHERE[id]?.[i];
      if (elsewhere) {
        if ((await page.locator(".rp-tab:not(.rp-new)").count()) < 2) await page.locator(".rp-new").click();
        else await tab(1).click();
        for (const line of elsewhere) await runChecked(line);
        await tab(0).click();
      } else if (id === "transactions" && i === 3) {
        // WATCH, MULTI and a queued INCR here; the key changes in another client; EXEC fails.
        for (const line of ["WATCH tx:counter", "MULTI", "INCR tx:counter"]) await runChecked(line);
        await page.locator(".rp-new").click();
        await runChecked("SET tx:counter 100");
        await tab(0).click();
        await runChecked("EXEC");
      } else if (id === "streams" && i === 3) {
        const ids2 = await page.evaluate(async () => {
          const { shell } = window.redisPlayground;
          const r = (await shell.query(0, [["XPENDING", "rides", "stats", "-", "+", "1"]])).replies[0];
          return r.value.map((e) => e.value[0].value);
        });
        await runChecked(`XACK rides stats ${ids2[0]}`);
      } else {
        // Some steps ask for a command more than once ("until the counter reaches 2").
        for (let round = 0; round < 3 && Number(await learn.getAttribute("data-step")) === i; round++) {
          for (const line of lesson.steps[i].try) await runChecked(line);
        }
      }
      assert.equal(Number(await learn.getAttribute("data-step")), i + 1, `${id}: step ${i + 1} did not complete`);
    }
    assert.equal(await learn.getAttribute("data-done"), "true", id);
    // Close extra client tabs (a subscribed or blocked client is left behind otherwise).
    while ((await page.locator(".rp-tab:not(.rp-new)").count()) > 1) {
      await page.locator(".rp-tab:not(.rp-new)").last().locator(".rp-tab-close").click();
    }
    const first = page.locator(".rp-screen:not([hidden])");
    if (await first.locator(".rp-wait:not([hidden])").count()) await first.press("Control+c");
    await run(page, "RESET").catch(() => {});
  }
  assert.deepEqual(problems, []);
});
