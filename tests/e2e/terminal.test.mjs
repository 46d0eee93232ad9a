// The terminal as a learner uses it: typing commands and reading redis-cli's output, history,
// hints, completion, client tabs, HELP and CLEAR, expiry, and text that must stay text.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startServer, startBrowser, openPage, run, screen, lastReply } from "./harness.mjs";

let server, browser, page, seen;

before(async () => {
  server = await startServer();
  browser = await startBrowser();
  const t0 = Date.now();
  ({ page, ...seen } = await openPage(browser.context, server.url));
  const ready = Date.now();
  assert.equal(await run(page, "PING"), "PONG\n");
  const firstReply = Date.now();
  const marks = await page.evaluate(() => Object.fromEntries(
    performance.getEntriesByType("mark")
      .filter((m) => m.name.startsWith("redis-playground:"))
      .map((m) => [m.name, Math.round(m.startTime)]),
  ));
  // Figures only: time depends on the machine, nothing is asserted on it.
  console.log(`[e2e] navigation to ready: ${ready - t0} ms; to first reply (typed PING): ${firstReply - t0} ms; in-page marks from navigation start: ${JSON.stringify(marks)}`);
});

after(async () => {
  await browser?.close();
  await server?.close();
});

test("no console errors, failed requests or dialogs on load", async () => {
  assert.deepEqual(seen.problems, []);
  assert.deepEqual(seen.dialogs, []);
  assert.equal(await screen(page).locator(".rp-prompt").last().textContent(), "127.0.0.1:6379> ");
});

test("the server counts only the commands its clients sent", async () => {
  // The worker runs a command on a scratch engine of its own as the page starts (host.js
  // warmUp): nothing of it shows in this server's counters, which hold before()'s PING only.
  assert.match(await run(page, "INFO commandstats"), /^# Commandstats\ncmdstat_ping:calls=1,usec=\d+,usec_per_call=[\d.]+,rejected_calls=0,failed_calls=0\n$/);
  assert.match(await run(page, "INFO stats"), /\ntotal_commands_processed:2\n/);
  // The page's client is the server's first.
  assert.equal(await run(page, "CLIENT ID"), "(integer) 1\n");
});

test("strings, integers, nil and errors render exactly as redis-cli prints them", async () => {
  assert.equal(await run(page, "SET greeting \"hello world\""), "OK\n");
  assert.equal(await run(page, "GET greeting"), "\"hello world\"\n");
  assert.equal(await run(page, "APPEND greeting !"), "(integer) 12\n");
  assert.equal(await run(page, "GET nosuchkey"), "(nil)\n");
  assert.equal(await run(page, "SET bin \"\\x00\\xff\\n\""), "OK\n");
  assert.equal(await run(page, "GET bin"), "\"\\x00\\xff\\n\"\n");
  assert.equal(await run(page, "INCR greeting"), "(error) ERR value is not an integer or out of range\n");
  assert.equal(await lastReply(page).getAttribute("class"), "rp-reply rp-error");
  assert.equal(await run(page, "NOSUCH a b"), "(error) ERR unknown command 'NOSUCH', with args beginning with: 'a' 'b' \n");
  assert.equal(await run(page, "GET"), "(error) ERR wrong number of arguments for 'get' command\n");
  assert.equal(await run(page, "ECHO \"unbalanced"), "Invalid argument(s)\n");
  // The typed line stays on screen after its prompt, as in a terminal.
  const echo = screen(page).locator(".rp-echo").last();
  assert.equal(await echo.textContent(), "127.0.0.1:6379> ECHO \"unbalanced");
});

test("arrays and nested arrays", async () => {
  await run(page, "MSET a 1 b 2");
  assert.equal(await run(page, "MGET a nosuch b"), "1) \"1\"\n2) (nil)\n3) \"2\"\n");
  assert.equal(await run(page, "MULTI"), "OK\n");
  assert.equal(await screen(page).locator(".rp-line .rp-prompt").textContent(), "127.0.0.1:6379(TX)> ");
  assert.equal(await run(page, "INCR a"), "QUEUED\n");
  assert.equal(await run(page, "MGET a b"), "QUEUED\n");
  assert.equal(
    await run(page, "EXEC"),
    "1) (integer) 2\n2) 1) \"2\"\n   2) \"2\"\n",
  );
  assert.equal(await screen(page).locator(".rp-line .rp-prompt").textContent(), "127.0.0.1:6379> ");
});

test("redis-cli's repeat prefix runs a command N times", async () => {
  await run(page, "SET counter 0");
  assert.equal(await run(page, "3 INCR counter"), "(integer) 1\n(integer) 2\n(integer) 3\n");
});

test("a value that looks like HTML is shown as text, never run", async () => {
  const evil = "<img src=x onerror=alert(1)>";
  assert.equal(await run(page, `SET html "${evil}"`), "OK\n");
  assert.equal(await run(page, "GET html"), `"${evil}"\n`);
  assert.equal(await run(page, `ECHO "<script>alert(2)</script>"`), "\"<script>alert(2)</script>\"\n");
  assert.equal(await page.locator(".rp-out img, .rp-out script").count(), 0);
  // A wait that proves an absence: a broken image's onerror would have run by now.
  await page.waitForTimeout(200);
  assert.deepEqual(seen.dialogs, []);
});

test("Up and Down walk the history", async () => {
  await run(page, "ECHO first");
  await run(page, "ECHO second");
  const input = screen(page).locator(".rp-input");
  await input.fill("draft");
  await input.press("ArrowUp");
  assert.equal(await input.inputValue(), "ECHO second");
  await input.press("ArrowUp");
  assert.equal(await input.inputValue(), "ECHO first");
  await input.press("ArrowDown");
  assert.equal(await input.inputValue(), "ECHO second");
  await input.press("ArrowDown");
  assert.equal(await input.inputValue(), "draft");
  await input.fill("");
  const stored = await page.evaluate(() => JSON.parse(localStorage.getItem("redis-playground:history:default")));
  assert.deepEqual(stored.slice(-2), ["ECHO first", "ECHO second"]);
});

test("argument hints appear in grey while typing", async () => {
  // Hints come from the page's own engine, which loads beside the terminal.
  await page.locator(".rp[data-hints]").waitFor();
  const scr = screen(page);
  const input = scr.locator(".rp-input");
  await input.fill("");
  await input.pressSequentially("SET ");
  const hint = scr.locator(".rp-hint");
  assert.match(await hint.textContent(), /^key value \[NX\|XX\] \[GET\]/);
  assert.equal(await scr.locator(".rp-ghost").isVisible(), true);
  await input.pressSequentially("k v ");
  assert.match(await hint.textContent(), /^\[NX\|XX\]/);
  await input.fill("GET");
  await input.dispatchEvent("input");
  assert.equal(await hint.textContent(), " key");
  await input.fill("");
  await input.dispatchEvent("input");
  assert.equal(await scr.locator(".rp-ghost").isVisible(), false);
});

test("Tab completes command names, cycling through candidates", async () => {
  const input = screen(page).locator(".rp-input");
  await input.fill("PIN");
  await input.press("Tab");
  assert.equal(await input.inputValue(), "PING");
  await input.fill("getr");
  await input.press("Tab");
  assert.equal(await input.inputValue(), "getrange");
  await input.fill("GE");
  await input.press("Tab");
  const first = await input.inputValue();
  await input.press("Tab");
  const second = await input.inputValue();
  assert.ok(first.startsWith("GE") && second.startsWith("GE") && first !== second, `${first} then ${second}`);
  await input.press("Escape");
  assert.equal(await input.inputValue(), "GE");
  await input.fill("help inc");
  await input.press("Tab");
  assert.equal(await input.inputValue(), "help incr");
  await input.fill("");
});

test("HELP prints the intro, help <command> the command's help", async () => {
  assert.match(await run(page, "HELP"), /"help <command>" for help on <command>/);
  const h = await run(page, "help set");
  assert.match(h, /^\n {2}SET key value \[NX\|XX\] \[GET\]/);
  assert.match(h, /\n {2}group: string\n\n$/);
  const g = await run(page, "help @connection");
  assert.match(g, /\n {2}PING \[message\]\n {2}summary: .*\n {2}since: 1\.0\.0\n/);
  assert.doesNotMatch(g, /group:/);
  assert.equal(await run(page, "help nosuchcommand"), "\n");
});

test("CLEAR and Ctrl+L clear the screen", async () => {
  await run(page, "ECHO before");
  const out = screen(page).locator(".rp-out");
  const input = screen(page).locator(".rp-input");
  await input.fill("clear");
  await input.press("Enter");
  await page.waitForFunction(() => document.querySelector(".rp-screen:not([hidden]) .rp-out").childElementCount === 0);
  await run(page, "ECHO again");
  assert.ok((await out.locator("> *").count()) > 0);
  await input.press("Control+l");
  assert.equal(await out.locator("> *").count(), 0);
});

test("two clients in tabs keep their own prompt, database and screen", async () => {
  await run(page, "SELECT 0");
  await run(page, "SET shared-key from-client-1");
  await page.locator(".rp-new").click();
  assert.equal(await page.locator(".rp-tab[role=tab]").count(), 2);
  assert.equal(await screen(page).locator(".rp-out > *").count(), 0);
  assert.equal(await run(page, "SELECT 2"), "OK\n");
  assert.equal(await screen(page).locator(".rp-line .rp-prompt").textContent(), "127.0.0.1:6379[2]> ");
  assert.equal(await run(page, "GET shared-key"), "(nil)\n");
  await run(page, "SET only-in-2 yes");
  assert.match(await page.locator(".rp-status-keys").textContent(), /db2:1/);

  // Back to the first client: its prompt and its screen are as they were.
  await page.locator(".rp-tab[role=tab]").first().click();
  assert.equal(await screen(page).locator(".rp-line .rp-prompt").textContent(), "127.0.0.1:6379> ");
  assert.match(await screen(page).locator(".rp-out").textContent(), /from-client-1/);
  assert.equal(await run(page, "GET shared-key"), "\"from-client-1\"\n");

  // Pub/sub between the tabs: messages are delivered to the subscriber's screen.
  assert.match(await run(page, "SUBSCRIBE news"), /1\) "subscribe"\n2\) "news"\n3\) \(integer\) 1\n/);
  await page.locator(".rp-tab[role=tab]").nth(1).click();
  assert.equal(await run(page, "PUBLISH news hello"), "(integer) 1\n");
  await page.locator(".rp-tab[role=tab]").first().click();
  await page.waitForFunction(() => /"message"\n2\) "news"\n3\) "hello"/.test(
    document.querySelector(".rp-screen:not([hidden]) .rp-out").textContent));
  assert.match(await run(page, "UNSUBSCRIBE"), /unsubscribe/);

  // Closing the second tab disconnects that client.
  await page.locator(".rp-tab[role=tab]").nth(1).locator(".rp-tab-close").click();
  assert.equal(await page.locator(".rp-tab[role=tab]").count(), 1);
  const clients = await run(page, "CLIENT LIST");
  assert.match(clients, /^id=1 addr=\S+ laddr=127\.0\.0\.1:6379 /);
  assert.doesNotMatch(clients, /id=2 /);
});

test("a blocked client waits without a prompt until another tab serves it", async () => {
  const tabs = page.locator(".rp-tab[role=tab]");
  assert.equal(await run(page, "BLPOP jobs 0"), null);
  const first = screen(page);
  assert.equal(await first.locator(".rp-wait").isVisible(), true);
  assert.equal(await first.locator(".rp-line").isVisible(), false);
  await page.locator(".rp-new").click();
  assert.equal(await run(page, "RPUSH jobs build"), "(integer) 1\n");
  await tabs.first().click();
  await page.waitForFunction(() => document.querySelector(".rp-screen:not([hidden]) .rp-out").textContent
    .endsWith('127.0.0.1:6379> BLPOP jobs 01) "jobs"\n2) "build"\n'));
  assert.equal(await screen(page).locator(".rp-line").isVisible(), true);
  // Ctrl+C ends a wait as its timeout would.
  assert.equal(await run(page, "BLPOP jobs 0"), null);
  await screen(page).press("Control+c");
  await page.waitForFunction(() => document.querySelector(".rp-screen:not([hidden]) .rp-out").textContent.endsWith("(nil)\n"));
  assert.equal(await screen(page).locator(".rp-line").isVisible(), true);
  await tabs.nth(1).locator(".rp-tab-close").click();
});

test("a write from another tab makes a WATCHed transaction fail", async () => {
  const tabs = page.locator(".rp-tab[role=tab]");
  assert.equal(await run(page, "SET balance 100"), "OK\n");
  assert.equal(await run(page, "WATCH balance"), "OK\n");
  assert.equal(await run(page, "MULTI"), "OK\n");
  assert.equal(await screen(page).locator(".rp-line .rp-prompt").textContent(), "127.0.0.1:6379(TX)> ");
  assert.equal(await run(page, "DECRBY balance 30"), "QUEUED\n");
  await page.locator(".rp-new").click();
  assert.equal(await run(page, "SET balance 0"), "OK\n");
  await tabs.first().click();
  // The watched key changed: EXEC answers nil and nothing queued ran.
  assert.equal(await run(page, "EXEC"), "(nil)\n");
  assert.equal(await run(page, "GET balance"), "\"0\"\n");
  // Without an interfering write the same transaction goes through.
  await run(page, "WATCH balance");
  await run(page, "MULTI");
  await run(page, "INCRBY balance 5");
  assert.equal(await run(page, "EXEC"), "1) (integer) 5\n");
  await tabs.nth(1).locator(".rp-tab-close").click();
});

test("MONITOR in one tab shows the commands another tab runs", async () => {
  const tabs = page.locator(".rp-tab[role=tab]");
  await page.locator(".rp-new").click();
  assert.equal(await run(page, "MONITOR"), "OK\n");
  await tabs.first().click();
  assert.equal(await run(page, 'SET watched "a b"'), "OK\n");
  await tabs.nth(1).click();
  await page.waitForFunction(() => /\d+\.\d{6} \[0 127\.0\.0\.1:\d+\] "SET" "watched" "a b"/.test(
    document.querySelector(".rp-screen:not([hidden]) .rp-out").textContent));
  await tabs.nth(1).locator(".rp-tab-close").click();
});

test("pasting several lines runs each of them", async () => {
  const input = screen(page).locator(".rp-input");
  await input.fill("");
  await input.evaluate((el) => {
    const dt = new DataTransfer();
    dt.setData("text/plain", "SET pasted 1\nINCR pasted\nGET pas");
    el.dispatchEvent(new ClipboardEvent("paste", { clipboardData: dt, bubbles: true, cancelable: true }));
  });
  await page.locator(".rp:not([data-busy])").waitFor({ state: "attached" });
  assert.match(await screen(page).locator(".rp-out").textContent(),
    /127\.0\.0\.1:6379> SET pasted 1OK\n127\.0\.0\.1:6379> INCR pasted\(integer\) 2\n$/);
  // The unfinished last line waits in the input.
  assert.equal(await input.inputValue(), "GET pas");
  await input.fill("");
});

test("QUIT closes a client's tab", async () => {
  await page.locator(".rp-new").click();
  assert.equal(await page.locator(".rp-tab[role=tab]").count(), 2);
  const input = screen(page).locator(".rp-input");
  await input.fill("QUIT");
  await input.press("Enter");
  await page.waitForFunction(() => document.querySelectorAll(".rp-tab[role=tab]").length === 1);
  assert.equal(await page.locator(".rp-screen").count(), 1);
  assert.equal(await run(page, "PING"), "PONG\n");
});

test("a learner creates an ACL user and switches a tab to it; deleting it disconnects that tab", async () => {
  const tabs = page.locator(".rp-tab[role=tab]");
  assert.equal(await run(page, "ACL SETUSER learner on >secret ~lesson:* +get +set +acl|whoami"), "OK\n");
  await page.locator(".rp-new").click();
  assert.equal(await run(page, "AUTH learner wrong"), "(error) WRONGPASS invalid username-password pair or user is disabled.\n");
  assert.equal(await run(page, "AUTH learner secret"), "OK\n");
  assert.equal(await run(page, "ACL WHOAMI"), "\"learner\"\n");
  assert.equal(await run(page, "SET lesson:1 done"), "OK\n");
  assert.equal(await run(page, "SET other x"), "(error) NOPERM this user has no permissions to access one of the keys used as arguments\n");
  assert.equal(await run(page, "DEL lesson:1"), "(error) NOPERM this user has no permissions to run the 'del' command\n");
  await tabs.first().click();
  assert.equal(await run(page, "ACL DELUSER learner"), "(integer) 1\n");
  await tabs.nth(1).click();
  await page.waitForFunction(() => document.querySelector(".rp-screen:not([hidden]) .rp-out").textContent
    .includes("(the server closed the connection; a new client is connected)"));
  assert.equal(await run(page, "ACL WHOAMI"), "\"default\"\n");
  await tabs.nth(1).locator(".rp-tab-close").click();
  assert.equal(await run(page, "DEL lesson:1"), "(integer) 1\n");
});

test("keys expire while the page is idle (active expiry)", async () => {
  // Lifetimes long enough for the reads that must still see a key on a loaded machine; the
  // expiry itself is waited for as a condition.
  assert.equal(await run(page, "SET temp v PX 1500"), "OK\n");
  const set = Date.now(); // the engine's clock (Date.now in its worker) read the SET before this
  assert.equal(await run(page, "GET temp"), "\"v\"\n");
  await page.waitForFunction((deadline) => Date.now() > deadline, set + 1500);
  assert.equal(await run(page, "GET temp"), "(nil)\n");
  // Active expiry (the server's tick) deletes a key nobody reads: DBSIZE counts keys that are
  // still stored, expired or not, so 0 means the key was removed in the background.
  await run(page, "SELECT 9");
  await run(page, "SET temp2 v PX 3000");
  assert.equal(await run(page, "DBSIZE"), "(integer) 1\n");
  assert.match(await page.locator(".rp-status-keys").textContent(), /db9:1/);
  // The status line follows the server's own deletions, with nothing typed.
  await page.waitForFunction(() => !/db9:/.test(document.querySelector(".rp-status-keys").textContent), null, { timeout: 15000 });
  assert.equal(await run(page, "DBSIZE"), "(integer) 0\n");
  await run(page, "SELECT 0");
});

test("the status line shows keys per database and memory", async () => {
  await run(page, "SELECT 0");
  await run(page, "FLUSHALL");
  await run(page, "SET one 1");
  await run(page, "SET two 2");
  await run(page, "SELECT 3");
  await run(page, "SET three 3");
  await run(page, "SELECT 0");
  assert.equal(await page.locator(".rp-status-keys").textContent(), "db0:2 db3:1");
  assert.match(await page.locator(".rp-status-mem").textContent(), /^memory \d+(\.\d\d[KMG])?B?$/);
  assert.deepEqual(seen.problems, []);
});

test("with maxmemory set, the status line shows the limit, the policy and the keys evicted", async () => {
  await run(page, "SELECT 0");
  await run(page, "FLUSHALL");
  await run(page, "DEBUG POPULATE 3000 k 100");
  await run(page, "CONFIG SET maxmemory-policy allkeys-random");
  await run(page, "CONFIG SET maxmemory 300kb");
  const left = Number(/\d+/.exec(await run(page, "DBSIZE"))[0]);
  assert.ok(left < 3000, `${left} keys left`);
  await page.waitForFunction(
    () => / of 300\.00K max \(allkeys-random\) · [1-9]\d* evicted$/.test(document.querySelector(".rp-status-mem").textContent),
    null,
    { timeout: 15000 },
  );
  await run(page, "CONFIG SET maxmemory 0");
  await run(page, "CONFIG SET maxmemory-policy noeviction");
  await run(page, "FLUSHALL");
  assert.deepEqual(seen.problems, []);
});
