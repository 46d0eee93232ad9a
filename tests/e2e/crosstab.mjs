// The tests every way of sharing one server between tabs must pass: several pages of one
// browser profile are clients of the same server (writes, CLIENT LIST, pub/sub, BLPOP and
// Ctrl+C), a closed page loses nothing of the others', what was saved comes back when every page
// is reopened, and a long command leaves the page usable. tabs-shared.test.mjs runs them with
// SharedWorker, tabs-fallback.test.mjs without it (leader election).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startServer, startBrowser, openPage, run, screen } from "./harness.mjs";

/** Waits until `check()` (async) returns something truthy, and returns it. */
export async function until(check, what, timeoutMs = 15000) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((ok) => setTimeout(ok, 25));
  }
}

/** The server a page talks to (its id) and how (shared, tabs, private). */
export async function serverOf(page) {
  const rp = page.locator(".rp").first();
  return { id: await rp.getAttribute("data-server"), mode: await rp.getAttribute("data-mode") };
}

/** Waits until the page's status line says every change is stored. */
export async function waitSaved(page) {
  await page.waitForFunction(() => {
    const t = document.querySelector(".rp-status-save").textContent;
    return /^saved \d/.test(t) && !/unsaved changes/.test(t);
  }, null, { timeout: 10000 });
}

/** Text of the visible screen's output. */
export function output(page) {
  return screen(page).locator(".rp-out").textContent();
}

export function crossTabTests({ mode, initScript }) {
  let server, browser, a, b;
  const pages = [];

  async function open() {
    const p = await openPage(browser.context, server.url);
    pages.push(p);
    return p;
  }

  before(async () => {
    server = await startServer();
    browser = await startBrowser({ initScript });
    a = await open();
    b = await open();
  });

  after(async () => {
    await browser?.close();
    await server?.close();
  });

  test(`two pages are clients of one server (${mode})`, async () => {
    const [sa, sb] = [await serverOf(a.page), await serverOf(b.page)];
    assert.equal(sa.mode, mode);
    assert.equal(sb.mode, mode);
    assert.ok(sa.id && sa.id === sb.id, `${sa.id} vs ${sb.id}`);
    assert.equal(await run(a.page, "SET shared \"from page a\""), "OK\n");
    assert.equal(await run(b.page, "GET shared"), "\"from page a\"\n");
    assert.equal(await run(b.page, "INCR visits"), "(integer) 1\n");
    assert.equal(await run(a.page, "INCR visits"), "(integer) 2\n");
    // The other page's status line follows without anything typed there.
    await b.page.waitForFunction(() => document.querySelector(".rp-status-keys").textContent === "db0:2");
    assert.match(await b.page.locator(".rp-status-shared").textContent(), /shared with 1 other tab/);
  });

  test("CLIENT LIST shows the clients of both pages", async () => {
    await a.page.locator(".rp-new").click();
    assert.equal(await run(a.page, "CLIENT SETNAME second-in-a"), "OK\n");
    const list = await run(b.page, "CLIENT LIST");
    const lines = list.trim().split("\n");
    assert.equal(lines.length, 3, list);
    assert.match(list, /name=second-in-a /);
    assert.match(list, /cmd=client\|list /);
    await a.page.locator(".rp-tab[role=tab]").nth(1).locator(".rp-tab-close").click();
    await until(async () => (await run(b.page, "CLIENT LIST")).trim().split("\n").length === 2, "the closed tab's client to go");
  });

  test("PUBLISH in one page reaches SUBSCRIBE in the other", async () => {
    assert.match(await run(a.page, "SUBSCRIBE news"), /1\) "subscribe"\n2\) "news"\n3\) \(integer\) 1\n/);
    assert.equal(await run(b.page, "PUBLISH news \"<b>hello</b> from b\""), "(integer) 1\n");
    await a.page.waitForFunction(() => /1\) "message"\n2\) "news"\n3\) "<b>hello<\/b> from b"\n$/.test(
      document.querySelector(".rp-screen:not([hidden]) .rp-out").textContent));
    assert.equal(await a.page.locator(".rp-out b").count(), 0);
    assert.match(await run(a.page, "UNSUBSCRIBE"), /unsubscribe/);
    assert.equal(await run(b.page, "PUBLISH news again"), "(integer) 0\n");
  });

  test("BLPOP in one page is served by LPUSH in the other; Ctrl+C ends a wait", async () => {
    assert.equal(await run(a.page, "BLPOP jobs 0"), null);
    await screen(a.page).locator(".rp-wait").waitFor({ state: "visible" });
    assert.equal(await run(b.page, "LPUSH jobs build"), "(integer) 1\n");
    await a.page.waitForFunction(() => document.querySelector(".rp-screen:not([hidden]) .rp-out").textContent
      .endsWith('127.0.0.1:6379> BLPOP jobs 01) "jobs"\n2) "build"\n'));
    await screen(a.page).locator(".rp-line").waitFor({ state: "visible" });
    assert.equal(await run(b.page, "LLEN jobs"), "(integer) 0\n");
    // Ctrl+C asks the server to end the wait, as the timeout would.
    assert.equal(await run(a.page, "BLPOP jobs 0"), null);
    await screen(a.page).locator(".rp-wait").waitFor({ state: "visible" });
    await screen(a.page).press("Control+c");
    await a.page.waitForFunction(() => document.querySelector(".rp-screen:not([hidden]) .rp-out").textContent.endsWith("(nil)\n"));
    await screen(a.page).locator(".rp-line").waitFor({ state: "visible" });
    assert.equal(await run(b.page, "LPUSH jobs later"), "(integer) 1\n");
    assert.equal(await run(a.page, "LPOP jobs"), "\"later\"\n");
    // A wait with a timeout ends by itself: the server's clock runs without any page's help.
    assert.equal(await run(a.page, "BLPOP nothing 0.3"), null);
    await a.page.waitForFunction(() => document.querySelector(".rp-screen:not([hidden]) .rp-out").textContent
      .endsWith("127.0.0.1:6379> BLPOP nothing 0.3(nil)\n"));
    await screen(a.page).locator(".rp-line").waitFor({ state: "visible" });
  });

  test("a long command shows it is running and leaves the page usable", async () => {
    assert.equal(await run(a.page, "SETRANGE big 16000000 x"), "(integer) 16000001\n");
    const input = screen(a.page).locator(".rp-input");
    await input.fill("200 BITCOUNT big");
    await input.press("Enter");
    await screen(a.page).locator(".rp-running").waitFor({ state: "visible" });
    // The page still answers while the server works: hints come from the page's own engine.
    await a.page.locator(".rp[data-hints]").waitFor();
    await input.fill("SET ");
    await input.dispatchEvent("input");
    assert.match(await screen(a.page).locator(".rp-hint").textContent(), /^key value/);
    assert.equal(await screen(a.page).getAttribute("data-running"), "true");
    await input.fill("");
    await a.page.locator(".rp:not([data-busy])").waitFor({ timeout: 120000 });
    assert.equal(await screen(a.page).locator(".rp-running").isVisible(), false);
    assert.match(await output(a.page), /200 BITCOUNT big(\(integer\) 4\n){200}$/);
    assert.equal(await run(a.page, "DEL big"), "(integer) 1\n");
  });

  /** Clicks the servers menu's item holding `text`. */
  async function pick(page, text) {
    if (await page.locator(".rp-menu").isHidden()) await page.locator(".rp-servers").click();
    await page.locator(".rp-menu [role=menuitem]", { hasText: text }).click();
  }
  const prompt = (page) => screen(page).locator(".rp-line .rp-prompt");

  test("a server added in one page serves the other; removing it closes its tabs there", async () => {
    await pick(a.page, "Add server 127.0.0.1:6380");
    await prompt(a.page).filter({ hasText: "127.0.0.1:6380> " }).waitFor();
    assert.equal(await run(a.page, "SET on:6380 \"from a\""), "OK\n");
    await pick(b.page, "New client on 127.0.0.1:6380");
    await prompt(b.page).filter({ hasText: "127.0.0.1:6380> " }).waitFor();
    assert.equal(await run(b.page, "GET on:6380"), "\"from a\"\n");
    assert.equal((await run(b.page, "CLIENT LIST")).trim().split("\n").length, 2);
    await b.page.waitForFunction(() => document.querySelector(".rp-status-server").textContent === "127.0.0.1:6380"
      && document.querySelector(".rp-status-keys").textContent === "db0:1");
    // Removed in page a: page b's tab on it closes too.
    await pick(a.page, "Remove 127.0.0.1:6380");
    await a.page.locator(".rp-notice").getByRole("button", { name: "Remove", exact: true }).click();
    await b.page.waitForFunction(() => document.querySelectorAll(".rp-tab[role=tab]").length === 1);
    assert.equal(await prompt(b.page).textContent(), "127.0.0.1:6379> ");
    assert.match(await b.page.locator(".rp-notice").textContent(), /127\.0\.0\.1:6380 was removed \(in this tab or another\): its client tabs here closed\./);
    await a.page.waitForFunction(() => document.querySelectorAll(".rp-tab[role=tab]").length === 1);
    // One more server, kept: it must outlive the pages (and, with leader election, the leader).
    await pick(b.page, "Add server 127.0.0.1:6380");
    await prompt(b.page).filter({ hasText: "127.0.0.1:6380> " }).waitFor();
    assert.equal(await run(b.page, "GET on:6380"), "(nil)\n");
    assert.equal(await run(b.page, "SET kept:6380 yes"), "OK\n");
    await b.page.locator(".rp-tab[role=tab]").nth(1).locator(".rp-tab-close").click();
    await a.page.locator(".rp-menu-client[data-port='6380']").waitFor({ state: "attached" });
  });

  test("closing one page loses nothing of the other's and disconnects its clients", async () => {
    assert.equal(await run(a.page, "SET written-by-a kept"), "OK\n");
    assert.equal(await run(b.page, "SET written-by-b kept"), "OK\n");
    const before = await serverOf(b.page);
    await a.page.close();
    pages.splice(pages.indexOf(a), 1);
    if (mode === "tabs") {
      // Page a, opened first, ran the server: page b's tab takes over from the stored data.
      await until(async () => (await serverOf(b.page)).id !== before.id, "page b to take over the server");
    }
    assert.equal(await run(b.page, "GET written-by-a"), "\"kept\"\n");
    assert.equal(await run(b.page, "GET written-by-b"), "\"kept\"\n");
    await until(async () => (await run(b.page, "CLIENT LIST")).trim().split("\n").length === 1, "page a's client to be disconnected");
    if (mode === "shared") assert.equal((await serverOf(b.page)).id, before.id);
  });

  test("what was acknowledged and saved comes back when every page is reopened", async () => {
    assert.equal(await run(b.page, "SET durable \"yes\""), "OK\n");
    await waitSaved(b.page);
    const old = await serverOf(b.page);
    for (const p of pages.splice(0)) await p.page.close();
    a = await open();
    const fresh = await serverOf(a.page);
    assert.notEqual(fresh.id, old.id, "a new server started");
    assert.equal(await run(a.page, "GET durable"), "\"yes\"\n");
    assert.equal(await run(a.page, "GET written-by-a"), "\"kept\"\n");
    assert.equal(await run(a.page, "GET shared"), "\"from page a\"\n");
    b = await open();
    assert.equal(await run(b.page, "GET durable"), "\"yes\"\n");
    // Every server came back with its data.
    await pick(b.page, "New client on 127.0.0.1:6380");
    await prompt(b.page).filter({ hasText: "127.0.0.1:6380> " }).waitFor();
    assert.equal(await run(b.page, "GET kept:6380"), "\"yes\"\n");
    await b.page.locator(".rp-tab[role=tab]").nth(1).locator(".rp-tab-close").click();
    assert.equal(await prompt(b.page).textContent(), "127.0.0.1:6379> ");
  });

  test("no console errors, failed requests or dialogs", () => {
    for (const p of [a, b]) {
      assert.deepEqual(p.problems, []);
      assert.deepEqual(p.dialogs, []);
    }
  });

  return { open, get pages() { return pages; }, get server() { return server; } };
}
