// The tests every way of sharing one server between tabs must pass: several pages of one
// browser profile are clients of the same server (writes, CLIENT LIST, pub/sub, BLPOP and
// Ctrl+C), a closed page loses nothing of the others', what was saved comes back when every page
// is reopened, and a long command leaves the page usable. tabs-shared.test.mjs runs them with
// SharedWorker, tabs-fallback.test.mjs without it (leader election).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdir } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { startServer, startBrowser, openPage, run, screen, until } from "./harness.mjs";

const SHOTS = fileURLToPath(new URL("../../target/e2e-shots/", import.meta.url));

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

/** Waits until no worker of the origin holds the namespace's server lock: once every page is
 * closed the server's worker ends, but a moment later (a page opened before that would find
 * the same server still running). Asked from a page of the origin that runs no playground. */
export async function serverStopped(context, url, namespace = "default") {
  const page = await context.newPage();
  try {
    await page.goto(`${url}lessons/index.json`);
    await until(() => page.evaluate(async (name) => !(await navigator.locks.query()).held.some((l) => l.name === name),
      `redis-playground:server:${namespace}`), "the server's worker to end");
  } finally {
    await page.close();
  }
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

  test("a runaway script in one page is killed from the other; a script's heap is bounded", async () => {
    const BUSY = "(error) BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.\n";
    const BUSY_FN = "(error) BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE.\n";
    const killed = (name, where, line = 1) =>
      `(error) ERR Script killed by user with SCRIPT KILL... script: ${name}, on @${where}:${line}.\n`;
    const last = (page) => page.evaluate(() => {
      const replies = document.querySelectorAll(".rp-screen:not([hidden]) .rp-out .rp-reply");
      return replies.length ? replies[replies.length - 1].textContent : null;
    });
    const waitReply = (page, text) => page.waitForFunction((t) => {
      const replies = document.querySelectorAll(".rp-screen:not([hidden]) .rp-out .rp-reply");
      return replies.length > 0 && replies[replies.length - 1].textContent === t;
    }, text, { timeout: 20000 });
    assert.equal(await run(b.page, "CONFIG SET busy-reply-threshold 200"), "OK\n");
    assert.equal(await run(a.page, "EVAL \"return redis.call('get', KEYS[1])\" 1 shared"), "\"from page a\"\n");

    // A script that never ends: page a waits for it, page b is told BUSY, SCRIPT KILL ends it.
    const spin = "while true do end";
    assert.equal(await run(a.page, `EVAL "${spin}" 0`), null);
    await screen(a.page).locator(".rp-wait").waitFor({ state: "visible" });
    assert.equal(await run(b.page, "GET shared"), BUSY);
    assert.equal(await run(b.page, "FUNCTION KILL"), BUSY);
    // Page a's own terminal still answers while its script runs: another client there.
    await a.page.locator(".rp-new").click();
    assert.equal(await run(a.page, "PING"), BUSY);
    await mkdir(SHOTS, { recursive: true });
    await b.page.screenshot({ path: `${SHOTS}script-busy-${mode}.png` });
    assert.equal(await run(b.page, "SCRIPT KILL"), "OK\n");
    await a.page.locator(".rp-tab[role=tab]").nth(1).locator(".rp-tab-close").click();
    const sha = createHash("sha1").update(spin).digest("hex");
    await waitReply(a.page, killed(sha, "user_script"));
    await screen(a.page).locator(".rp-line").waitFor({ state: "visible" });
    await a.page.screenshot({ path: `${SHOTS}script-killed-${mode}.png` });
    assert.equal(await run(b.page, "GET shared"), "\"from page a\"\n");
    assert.equal(await run(b.page, "SCRIPT KILL"), "(error) NOTBUSY No scripts in execution right now.\n");

    // A function likewise, with FUNCTION KILL.
    assert.equal(await run(b.page, "FUNCTION LOAD REPLACE \"#!lua name=spinlib\\nredis.register_function('spin', function() while true do end end)\""), "\"spinlib\"\n");
    assert.equal(await run(a.page, "FCALL spin 0"), null);
    assert.equal(await run(b.page, "GET shared"), BUSY_FN);
    assert.equal(await run(b.page, "SCRIPT KILL"), BUSY_FN);
    assert.equal(await run(b.page, "FUNCTION KILL"), "OK\n");
    // As redis-server 7.0.15 answers: the function is on the library's second line.
    await waitReply(a.page, killed("spin", "user_function", 2));

    // A script that wrote cannot be killed; SHUTDOWN NOSAVE ends it (the page has no
    // process to stop).
    assert.equal(await run(a.page, "EVAL \"redis.call('incr', 'runs') while true do end\" 0"), null);
    assert.equal(await run(b.page, "SCRIPT KILL"),
      "(error) UNKILLABLE Sorry the script already executed write commands against the dataset. You can either wait the script termination or kill the server in a hard way using the SHUTDOWN NOSAVE command.\n");
    assert.equal(await run(b.page, "GET runs"), BUSY);
    await run(b.page, "SHUTDOWN NOSAVE");
    await screen(a.page).locator(".rp-line").waitFor({ state: "visible", timeout: 20000 });
    assert.match(await last(a.page), /^\(error\) ERR Script killed by user with SCRIPT KILL\.\.\. script: [0-9a-f]{40}, on @user_script:1\.\n$/);
    assert.equal(await run(b.page, "GET runs"), "\"1\"\n");
    assert.equal(await run(b.page, "DEL runs"), "(integer) 1\n");
    assert.equal(await run(b.page, "FUNCTION DELETE spinlib"), "OK\n");

    // A script that allocates without end fails as Redis's does when Lua runs out of memory
    // (the page's bound is 256 MB), and the server goes on with its data.
    const hog = "local t = {} while true do t[#t + 1] = string.rep('x', 1e6) .. #t end";
    const noMemory = (script) => `(error) ERR Error running script ${createHash("sha1").update(script).digest("hex")}, not enough memory\n`;
    const hogReply = await run(a.page, `EVAL "${hog}" 0`);
    if (hogReply === null) await waitReply(a.page, noMemory(hog));
    else assert.equal(hogReply, noMemory(hog));
    const rep = "return #string.rep('x', 2^31)";
    assert.equal(await run(a.page, `EVAL "${rep}" 0`), noMemory(rep));
    assert.equal(await run(b.page, "GET shared"), "\"from page a\"\n");
    assert.equal(await run(a.page, "EVAL \"return #table.concat({string.rep('y', 1e6), 'z'})\" 0"), "(integer) 1000001\n");
    assert.equal(await run(b.page, "CONFIG SET busy-reply-threshold 5000"), "OK\n");
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
    await serverStopped(browser.context, server.url);
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
