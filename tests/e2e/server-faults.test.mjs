// Faults under the server. Storage that fails: IndexedDB missing, or refusing a write (quota
// exceeded); the page must say so plainly, go on in memory, and never leave less than the last
// complete snapshot stored. And a server that cannot start at all. The faults are made in the
// server's worker: under /nodb/ and /quota/ the page is served with a server.js that hides
// IndexedDB, or whose store refuses snapshots over 2 KB, before running the real one; under
// /broken/ its server.js does not even parse. Under /newer/ the page speaks a later protocol to
// the same shared server, as a tab of an updated site would to a server an old tab still runs.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { startServer, startBrowser, openPage, run, storedSnapshot, WWW } from "./harness.mjs";

const JS = "text/javascript; charset=utf-8";
// The fault is its own module, so that it is in place before the real server.js runs (a
// static import: a top-level await would install the worker's connect handler too late).
const NO_DB = `Object.defineProperty(self, "indexedDB", { value: undefined });`;
const QUOTA = `const put = IDBObjectStore.prototype.put;
IDBObjectStore.prototype.put = function (value, key) {
  if (value?.bytes?.length > 2048) throw new DOMException("The quota has been exceeded.", "QuotaExceededError");
  return put.call(this, value, key);
};`;
const WRAPPER = `import "./fault.js";\nimport "/server.js";\n`;

let server, browser;

before(async () => {
  // The page under /newer/ speaks the protocol after the current one.
  const source = await readFile(join(WWW, "connection.js"), "utf8");
  const next = Number(/const PROTOCOL = (\d+);/.exec(source)[1]) + 1;
  const connection = source
    .replace(/const PROTOCOL = \d+;/, `const PROTOCOL = ${next};`)
    .replace('new URL("./server.js", import.meta.url)', 'new URL("/server.js", import.meta.url)');
  assert.match(connection, new RegExp(`PROTOCOL = ${next};[\\s\\S]*"/server\\.js"`));
  server = await startServer(
    {
      "/nodb/server.js": { type: JS, body: WRAPPER },
      "/nodb/fault.js": { type: JS, body: NO_DB },
      "/quota/server.js": { type: JS, body: WRAPPER },
      "/quota/fault.js": { type: JS, body: QUOTA },
      "/broken/server.js": { type: JS, body: "this is not JavaScript" },
      "/newer/connection.js": { type: JS, body: connection },
    },
    { mounts: ["/nodb/", "/quota/", "/broken/", "/newer/"] },
  );
  browser = await startBrowser();
});

after(async () => {
  await browser?.close();
  await server?.close();
});

test("without IndexedDB the page says so and works in memory", async () => {
  const { page, problems } = await openPage(browser.context, `${server.url}nodb/`);
  const notice = page.locator(".rp-notice.rp-error:not([hidden])");
  await notice.waitFor();
  assert.match(await notice.textContent(), /Storage is unavailable \(IndexedDB is not available in this browser\): the data stays in memory/);
  assert.equal(await run(page, "SET k v"), "OK\n");
  assert.equal(await run(page, "GET k"), "\"v\"\n");
  assert.match(await page.locator(".rp-status-save").textContent(), /not saved: IndexedDB is not available/);
  await page.close();
  assert.deepEqual(problems, []);
});

test("a refused write keeps the data in memory and the last good snapshot stored", async () => {
  const { page, problems } = await openPage(browser.context, `${server.url}quota/`);
  assert.equal(await run(page, "SET small fits"), "OK\n");
  const good = await storedSnapshot(page);
  assert.ok(Buffer.from(good).includes("fits"));
  // A value too big for the store (letters from a generator, so that LZF cannot shrink it):
  // the write is answered, storing it is refused.
  let seed = 1;
  const noise = Array.from({ length: 3000 }, () => {
    seed = (seed * 48271) % 2147483647;
    return "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"[seed % 62];
  }).join("");
  assert.equal(await run(page, `SET big ${noise}`), "OK\n");
  const notice = page.locator(".rp-notice.rp-error:not([hidden])");
  await notice.waitFor();
  assert.match(await notice.textContent(), /Storing the data in this browser failed \(The quota has been exceeded\.\)\. It is kept in memory, and the snapshot stored before is unchanged\./);
  assert.match(await page.locator(".rp-status-save").textContent(), /not saved: The quota has been exceeded\..*unsaved changes/);
  assert.equal(await run(page, "STRLEN big"), "(integer) 3000\n");
  assert.deepEqual(await storedSnapshot(page), good);
  // SAVE fails as Redis's does when it cannot write.
  assert.equal(await run(page, "SAVE"), "(error) ERR\n");
  assert.deepEqual(await storedSnapshot(page), good);
  // Once the data fits again it is stored again, and the page says so.
  assert.equal(await run(page, "DEL big"), "(integer) 1\n");
  await page.locator(".rp-notice:not([hidden])").filter({ hasText: "stored in this browser again" }).waitFor();
  assert.match(await page.locator(".rp-status-save").textContent(), /^saved \d/);
  const after = await storedSnapshot(page);
  assert.ok(Buffer.from(after).includes("fits") && !Buffer.from(after).includes(noise.slice(0, 40)));
  // Closed, so that its server (another script for the same namespace) lets the next one start.
  await page.close();
  assert.deepEqual(problems, []);
});

test("a server that cannot start is reported instead of a terminal that never answers", async () => {
  const page = await browser.context.newPage();
  await page.goto(`${server.url}broken/`);
  const failed = page.locator(".rp-failed");
  await failed.waitFor();
  assert.equal(await failed.textContent(), "redis-playground could not start: the server's worker could not start");
  assert.equal(await page.locator(".rp-screen").count(), 0);
  await page.close();
});

test("a page and a server of different versions refuse each other plainly", async () => {
  const old = await openPage(browser.context, server.url);
  assert.equal(await run(old.page, "SET kept 1"), "OK\n");
  const page = await browser.context.newPage();
  await page.goto(`${server.url}newer/`);
  const failed = page.locator(".rp-failed");
  await failed.waitFor();
  assert.equal(await failed.textContent(), "redis-playground could not start: another tab runs a different version of the playground: close every tab of it, then reload");
  // The running server and its tab are untouched.
  assert.equal(await run(old.page, "GET kept"), "\"1\"\n");
  await page.close();
  await old.page.close();
  assert.deepEqual(old.problems, []);
});
