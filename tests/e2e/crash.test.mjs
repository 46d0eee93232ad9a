// The engine crashing: a panic (a bug; here DEBUG PANIC and DEBUG SEGFAULT, which crash the
// engine as they crash redis-server) must not lose data. The worker reports it, loads a fresh
// instance of the engine, starts every server again from its stored snapshot (which holds every
// acknowledged write), and every page's clients reconnect. Run in both worker kinds: the
// SharedWorker, and the leader tab's dedicated Worker (pages without SharedWorker).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startServer, startBrowser, openPage, run, screen, until } from "./harness.mjs";
import { serverOf } from "./crosstab.mjs";

// What the crashing command's client prints (the reconnection note may follow it at once).
const CLOSED = /^\(error\) Server closed the connection \(the server crashed\): the command may not have run\n/;

let server;

before(async () => {
  server = await startServer();
});

after(async () => {
  await server?.close();
});

for (const mode of ["shared", "tabs"]) {
  test(`a crash of the engine (${mode}) is reported and loses no acknowledged write`, async () => {
    const browser = await startBrowser(mode === "tabs" ? { initScript: () => { delete window.SharedWorker; } } : {});
    try {
      const a = await openPage(browser.context, server.url);
      const b = await openPage(browser.context, server.url);
      const before = await serverOf(a.page);
      assert.equal(before.mode, mode);
      // Acknowledged writes of several types, in two databases, from both pages.
      assert.equal(await run(a.page, "SET greeting hello"), "OK\n");
      assert.equal(await run(b.page, "RPUSH list a b c"), "(integer) 3\n");
      assert.equal(await run(a.page, "SELECT 2"), "OK\n");
      assert.equal(await run(a.page, "HSET h f v"), "(integer) 1\n");
      assert.equal(await run(b.page, "INCRBY counter 41"), "(integer) 41\n");

      // The client whose command crashed the engine sees its connection close, as redis-cli does.
      assert.match(await run(a.page, "DEBUG PANIC"), CLOSED);
      // Every page is told what happened, and its clients reconnect to the new server.
      for (const p of [a, b]) {
        const notice = p.page.locator(".rp-notice.rp-error:not([hidden])");
        await notice.waitFor();
        assert.match(await notice.textContent(), /^The server crashed \(DEBUG PANIC crashed the server as asked, at src\/commands\/debug\.rs:\d+\)\. It was started again with the data stored before the crash: every acknowledged write\./);
        await screen(p.page).locator(".rp-note", { hasText: "the server crashed and started again" }).waitFor();
        await until(async () => (await serverOf(p.page)).id !== before.id, "the page to know the new server");
      }
      // A new client starts in db 0, as after redis-cli reconnects.
      assert.equal(await run(a.page, "GET greeting"), "\"hello\"\n");
      assert.equal(await run(b.page, "LRANGE list 0 -1"), "1) \"a\"\n2) \"b\"\n3) \"c\"\n");
      assert.equal(await run(b.page, "INCR counter"), "(integer) 42\n");
      assert.equal(await run(a.page, "SELECT 2"), "OK\n");
      assert.equal(await run(a.page, "HGET h f"), "\"v\"\n");
      // Both pages are clients of the one new server.
      assert.equal((await run(b.page, "CLIENT LIST")).trim().split("\n").length, 2);

      // It works, and survives a second crash the same way.
      assert.match(await run(b.page, "DEBUG SEGFAULT"), CLOSED);
      await screen(b.page).locator(".rp-note", { hasText: "the server crashed and started again" }).nth(1).waitFor();
      assert.equal(await run(b.page, "GET counter"), "\"42\"\n");
      assert.equal(await run(a.page, "GET greeting"), "\"hello\"\n");

      // The panics are logged in the worker's console (Chromium shows a dedicated worker's
      // under the page that started it); nothing else went wrong.
      await a.page.close();
      await b.page.close();
      const panic = /^console: panicked at src\/commands\/debug\.rs:\d+:\d+:\nDEBUG (PANIC|SEGFAULT) crashed the server as asked/;
      assert.deepEqual([...a.problems, ...b.problems].filter((p) => !panic.test(p)), []);
    } finally {
      await browser.close();
    }
  });
}
