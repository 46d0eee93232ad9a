// Shared sessions: a link made in one browser replays in a fresh browser profile with the same
// replies, on a separate server, leaving that profile's own stored data untouched; .redis files.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { startServer, startBrowser, openPage, run, screen, storedSnapshot } from "./harness.mjs";

let server;
let maker;
let visitor;

before(async () => {
  server = await startServer();
  maker = await startBrowser();
  visitor = await startBrowser();
});

after(async () => {
  await maker?.close();
  await visitor?.close();
  await server?.close();
});

const LINES = [
  "SET greeting 'hello <b>world</b>'",
  "RPUSH queue a b c",
  "3 INCR hits",
  "HSET user:1 name Ada lang 'Lua 5.1'",
  "LRANGE queue 0 -1",
  "HGETALL user:1",
  "GET nosuchkey",
  "LPUSH greeting x",
  "ZADD board 3 c 1 a 2 b",
  "ZRANGE board 0 -1 WITHSCORES",
];

/** The transcript of a screen: [command, reply text] per echoed line. */
async function transcript(page) {
  return screen(page).locator(".rp-out > *").evaluateAll((els) => {
    const out = [];
    for (const e of els) {
      if (e.classList.contains("rp-echo")) out.push([e.querySelector(".rp-cmd").textContent, ""]);
      else if (e.classList.contains("rp-reply") && !e.classList.contains("rp-note") && out.length) out[out.length - 1][1] += e.textContent;
    }
    return out;
  });
}

test("a shared link replays with the same replies in a fresh profile, never on its own data", async () => {
  const a = await openPage(maker.context, server.url);
  for (const line of LINES) await run(a.page, line);
  const original = await transcript(a.page);
  assert.equal(original.length, LINES.length);
  await a.page.locator("#share").click();
  await a.page.locator("#share-box:not([hidden])").waitFor();
  const link = await a.page.locator("#share-url").inputValue();
  assert.match(link, /#share=1\.[A-Za-z0-9_-]+$/);

  // The visitor has data of their own in the default namespace.
  const b = await openPage(visitor.context, server.url);
  await run(b.page, "SET mine 1");
  const before = await storedSnapshot(b.page);
  assert.ok(before);
  await b.page.close();

  const { page, problems } = await openPage(visitor.context, link);
  await page.locator(`body[data-replayed="${LINES.length}"]`).waitFor();
  assert.deepEqual(await transcript(page), original);
  assert.equal(await run(page, "EXISTS mine"), "(integer) 0\n");
  assert.match(await page.locator("#share-note").textContent(), /your own data is not used/);
  // Values are shown as text.
  assert.equal(await screen(page).locator(".rp-out b").count(), 0);
  assert.deepEqual(problems, []);
  await page.close();

  // The visitor's stored snapshot is the one from before, and their own page still has it.
  assert.deepEqual(await storedSnapshot((await openPage(visitor.context, server.url)).page), before);
  const c = await openPage(visitor.context, server.url);
  assert.equal(await run(c.page, "EXISTS mine greeting queue"), "(integer) 1\n");
  await a.page.close();
});

test("a session saved as .redis, read back as commands", async () => {
  const { page } = await openPage(maker.context, server.url);
  await run(page, "SET a 1");
  await run(page, "2 INCR a");
  const [download] = await Promise.all([page.waitForEvent("download"), page.locator("#save-redis").click()]);
  const text = await readFile(await download.path(), "utf8");
  assert.equal(text, "SET a 1\nINCR a\nINCR a\n");
  await run(page, "DEL a");
  await page.locator("#open-redis-file").setInputFiles({ name: "s.redis", mimeType: "text/plain", buffer: Buffer.from(text) });
  await page.waitForFunction(() => document.querySelector(".rp-notice")?.textContent.includes("Ran 3 commands"));
  assert.equal(await run(page, "GET a"), "\"3\"\n");
});

test("a session across client tabs replays in as many tabs: pub/sub and BLPOP between clients", async () => {
  const a = await openPage(maker.context, server.url);
  const tab = (p, i) => p.locator(".rp-tab:not(.rp-new)").nth(i);
  await run(a.page, "SUBSCRIBE news");
  await a.page.locator(".rp-new").click();
  await run(a.page, "PUBLISH news hello");
  await run(a.page, "BLPOP jobs 0").catch(() => {});
  await a.page.locator(".rp-new").click();
  await run(a.page, "RPUSH jobs one");
  await run(a.page, "@notacommand");
  const shown = async (p) => {
    const out = [];
    for (let i = 0; i < 3; i++) {
      await tab(p, i).click();
      out.push(await transcript(p));
    }
    return out;
  };
  // Wait until the messages pushed to the first two tabs are shown.
  await a.page.waitForFunction(() => [...document.querySelectorAll(".rp-screen")].every((s) => !s.querySelector(".rp-wait:not([hidden])")));
  const original = await shown(a.page);
  assert.match(original[0].map((r) => r[1]).join(""), /hello/);
  assert.match(original[1].map((r) => r[1]).join(""), /one/);
  await a.page.locator("#share").click();
  await a.page.locator("#share-box:not([hidden])").waitFor();
  const link = await a.page.locator("#share-url").inputValue();
  const { page } = await openPage(visitor.context, link);
  await page.locator('body[data-replayed="5"]').waitFor();
  await page.waitForFunction(() => document.querySelectorAll(".rp-tab:not(.rp-new)").length === 3);
  await page.waitForFunction(() => [...document.querySelectorAll(".rp-screen")].every((s) => !s.querySelector(".rp-wait:not([hidden])")));
  assert.deepEqual(await shown(page), original);
  await page.close();
  await a.page.close();
});
