// Several servers in one page: the ▾ menu beside "+" adds a server (127.0.0.1:6380, ...),
// opens a client on any server and removes one; each server has its own data, clients, port
// and stored snapshot, a reload brings every server back, and removing one deletes its data.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdir } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { openPlayground, openPanel, openPage, run, screen, storedSnapshot } from "./harness.mjs";

const SHOTS = fileURLToPath(new URL("../../target/e2e-shots/", import.meta.url));

let app, page, seen;

before(async () => {
  app = await openPlayground();
  ({ page, ...seen } = app);
  await mkdir(SHOTS, { recursive: true });
});

after(() => app?.close());

const tabs = () => page.locator(".rp-tab[role=tab]");
const prompt = () => screen(page).locator(".rp-line .rp-prompt");

async function menuItem(text) {
  if (await page.locator(".rp-menu").isHidden()) await page.locator(".rp-servers").click();
  return page.locator(".rp-menu [role=menuitem]", { hasText: text });
}

async function reload() {
  await page.reload();
  await page.locator(".rp[data-ready][data-hints]").waitFor();
}

/** The stored list of servers ("default#servers"), or null. */
function storedPorts() {
  return page.evaluate(() => new Promise((ok, fail) => {
    const req = indexedDB.open("redis-playground", 1);
    req.onerror = () => fail(req.error);
    req.onsuccess = () => {
      const get = req.result.transaction("snapshots", "readonly").objectStore("snapshots").get("default#servers");
      get.onsuccess = () => {
        req.result.close();
        ok(get.result ? get.result.ports : null);
      };
      get.onerror = () => fail(get.error);
    };
  }));
}

test("one server at first: the status line and the menu name it", async () => {
  assert.equal(await prompt().textContent(), "127.0.0.1:6379> ");
  assert.equal(await page.locator(".rp-status-server").textContent(), "127.0.0.1:6379");
  const items = await (await menuItem("")).allTextContents();
  assert.deepEqual(items, ["New client on 127.0.0.1:6379", "Add server 127.0.0.1:6380"]);
  await page.keyboard.press("Escape");
  assert.equal(await page.locator(".rp-menu").isHidden(), true);
  assert.match(await run(page, "help"), /"\+" opens another client in its own tab;\n {6}"▾" beside it adds servers/);
  // With one server the tabs need not say which.
  assert.equal(await tabs().first().locator(".rp-tab-port").isHidden(), true);
});

test("adding a server opens a client on it, with its own port and its own data", async () => {
  assert.equal(await run(page, "SET shared:name first"), "OK\n");
  await (await menuItem("Add server 127.0.0.1:6380")).click();
  await page.waitForFunction(() => document.querySelectorAll(".rp-tab[role=tab]").length === 2);
  await page.locator(".rp-tab[role=tab][data-port='6380'].rp-active").waitFor();
  await screen(page).locator(".rp-line .rp-prompt", { hasText: "127.0.0.1:6380> " }).waitFor();
  assert.equal(await page.locator(".rp-status-server").textContent(), "127.0.0.1:6380");
  assert.equal(await tabs().nth(1).locator(".rp-tab-port").textContent(), ":6380");
  assert.equal(await tabs().nth(0).locator(".rp-tab-port").textContent(), ":6379");

  // The new server is empty, and what is set on it stays on it.
  assert.equal(await run(page, "GET shared:name"), "(nil)\n");
  assert.equal(await run(page, "SET only:6380 yes"), "OK\n");
  assert.equal(await page.locator(".rp-status-keys").textContent(), "db0:1");
  // Answered once stored: the server's own record holds the write already.
  assert.ok(Buffer.from(await storedSnapshot(page, "default#6380")).includes("only:6380"));
  // Its own clock: a key expiring on it goes without any command typed.
  // (No check that it was counted first: on a loaded machine it may be gone before the check.)
  assert.equal(await run(page, "SET brief x PX 300"), "OK\n");
  await page.waitForFunction(() => document.querySelector(".rp-status-keys").textContent === "db0:1");
  // It answers with its own port, as another redis-server would.
  assert.equal(await run(page, "CONFIG GET port"), "1) \"port\"\n2) \"6380\"\n");
  assert.match(await run(page, "INFO server"), /\ntcp_port:6380\n/);
  assert.match(await run(page, "CLIENT LIST"), /laddr=127\.0\.0\.1:6380 /);
  assert.equal(await run(page, "SELECT 3"), "OK\n");
  assert.equal(await prompt().textContent(), "127.0.0.1:6380[3]> ");
  assert.equal(await run(page, "SELECT 0"), "OK\n");

  // Back on the first server's tab: its data and its port.
  await tabs().nth(0).click();
  assert.equal(await prompt().textContent(), "127.0.0.1:6379> ");
  assert.equal(await page.locator(".rp-status-server").textContent(), "127.0.0.1:6379");
  assert.equal(await run(page, "GET only:6380"), "(nil)\n");
  assert.equal(await run(page, "GET shared:name"), "\"first\"\n");
  assert.equal(await run(page, "CONFIG GET port"), "1) \"port\"\n2) \"6379\"\n");
  // Client lists are per server: the first server knows none of the other's clients.
  assert.doesNotMatch(await run(page, "CLIENT LIST"), /6380/);
  await page.screenshot({ path: `${SHOTS}servers-two.png` });
});

test("the + button opens a client on the shown tab's server; the menu on any server", async () => {
  await tabs().nth(1).click();
  await page.locator(".rp-new").click();
  await page.waitForFunction(() => document.querySelectorAll(".rp-tab[role=tab]").length === 3);
  await screen(page).locator(".rp-line .rp-prompt", { hasText: "127.0.0.1:6380> " }).waitFor();
  assert.equal(await run(page, "GET only:6380"), "\"yes\"\n");
  // A second client of 6380 sees the first one in CLIENT LIST.
  assert.equal((await run(page, "CLIENT LIST")).trim().split("\n").length, 2);
  await page.locator(".rp-servers").click();
  await page.screenshot({ path: `${SHOTS}servers-menu.png` });
  const items = await page.locator(".rp-menu [role=menuitem]").allTextContents();
  assert.deepEqual(items, [
    "New client on 127.0.0.1:6379", "New client on 127.0.0.1:6380",
    "Add server 127.0.0.1:6381", "Remove 127.0.0.1:6380…",
  ]);
  // The menu works from the keyboard: arrows move, Enter picks.
  await page.keyboard.press("ArrowDown");
  await page.keyboard.press("ArrowUp");
  assert.equal(await page.evaluate(() => document.activeElement.textContent), "New client on 127.0.0.1:6379");
  await page.keyboard.press("Enter");
  await page.waitForFunction(() => document.querySelectorAll(".rp-tab[role=tab]").length === 4);
  await screen(page).locator(".rp-line .rp-prompt", { hasText: "127.0.0.1:6379> " }).waitFor();
  assert.equal(await run(page, "GET shared:name"), "\"first\"\n");
  // Closed again: two tabs, one per server, remain.
  await tabs().nth(3).locator(".rp-tab-close").click();
  await tabs().nth(2).locator(".rp-tab-close").click();
  assert.equal(await tabs().count(), 2);
});

test("each server has its own stored snapshot, and a reload brings both back", async () => {
  const first = Buffer.from(await storedSnapshot(page, "default"));
  const second = Buffer.from(await storedSnapshot(page, "default#6380"));
  assert.ok(first.includes("shared:name") && !first.includes("only:6380"));
  assert.ok(second.includes("only:6380") && !second.includes("shared:name"));
  assert.deepEqual(await storedPorts(), [6379, 6380]);

  await reload();
  // The page opens one tab on the first server; the second server is there with its data.
  assert.equal(await run(page, "GET shared:name"), "\"first\"\n");
  const item = await menuItem("New client on 127.0.0.1:6380");
  await item.click();
  await screen(page).locator(".rp-line .rp-prompt", { hasText: "127.0.0.1:6380> " }).waitFor();
  assert.equal(await run(page, "GET only:6380"), "\"yes\"\n");
  assert.equal(await run(page, "CONFIG GET port"), "1) \"port\"\n2) \"6380\"\n");
});

test("user text on a server stays text", async () => {
  assert.equal(await run(page, "SET \"<img src=x onerror=window.pwned=1>\" v"), "OK\n");
  assert.equal(await page.evaluate(() => window.pwned), undefined);
  assert.equal(await page.locator(".rp-screen img").count(), 0);
});

test("the inspector shows the keys of the shown tab's server", async () => {
  await openPanel(page, "inspect");
  const ins = page.locator("#inspect");
  await ins.locator(".rp-ins-server", { hasText: "127.0.0.1:6380" }).waitFor();
  // Keys are a tree split on ":": "only:6380" is under the folder "only".
  await ins.locator(".rp-ins-row", { hasText: "only" }).waitFor();
  assert.equal(await ins.locator(".rp-ins-row", { hasText: "shared" }).count(), 0);
  await page.screenshot({ path: `${SHOTS}servers-inspector.png` });
  await tabs().nth(0).click();
  await ins.locator(".rp-ins-server", { hasText: "127.0.0.1:6379" }).waitFor();
  await ins.locator(".rp-ins-row", { hasText: "shared" }).waitFor();
  assert.equal(await ins.locator(".rp-ins-row", { hasText: "only" }).count(), 0);
  await page.locator("#inspect-toggle").click();
});

test("the monitor watches the shown tab's server, as redis-cli -p would", async () => {
  await tabs().nth(1).click();
  await openPanel(page, "monitor");
  const mon = page.locator("#monitor");
  await mon.locator(".rp-mon-h", { hasText: "redis-cli -p 6380 --stat" }).waitFor();
  await page.locator('#monitor .rp-mon-btn:text-is("--bigkeys")').click();
  await page.waitForFunction(() => document.querySelector("#monitor").dataset.tool === "--bigkeys");
  const out = await mon.locator(".rp-mon-tool").textContent();
  assert.match(out, /^\$ redis-cli -p 6380 --bigkeys\n/);
  assert.match(out, /only:6380/);
  assert.doesNotMatch(out, /shared:name/);
  await tabs().nth(0).click();
  await mon.locator(".rp-mon-h", { hasText: /^redis-cli --stat$/ }).waitFor();
  await page.locator("#monitor-toggle").click();
});

test("removing a server asks first, then closes its tabs and deletes its data", async () => {
  await tabs().nth(1).click();
  await (await menuItem("Remove 127.0.0.1:6380")).click();
  const notice = page.locator(".rp-notice");
  assert.match(await notice.textContent(), /Remove the server 127\.0\.0\.1:6380\? Its data and its snapshot stored in this browser are deleted, and its client tab closes\./);
  await page.screenshot({ path: `${SHOTS}servers-remove.png` });
  // "Keep it" keeps everything.
  await notice.getByRole("button", { name: "Keep it" }).click();
  assert.equal(await tabs().count(), 2);
  assert.ok(await storedSnapshot(page, "default#6380"));

  await (await menuItem("Remove 127.0.0.1:6380")).click();
  await notice.getByRole("button", { name: "Remove", exact: true }).click();
  await page.waitForFunction(() => document.querySelectorAll(".rp-tab[role=tab]").length === 1);
  assert.equal(await prompt().textContent(), "127.0.0.1:6379> ");
  assert.equal(await page.locator(".rp-status-server").textContent(), "127.0.0.1:6379");
  await page.waitForFunction(() => /Removed 127\.0\.0\.1:6380/.test(document.querySelector(".rp-notice").textContent));
  assert.equal(await storedSnapshot(page, "default#6380"), null);
  assert.deepEqual(await storedPorts(), [6379]);
  // The first server cannot be removed: the menu does not offer it.
  const items = await (await menuItem("")).allTextContents();
  assert.deepEqual(items, ["New client on 127.0.0.1:6379", "Add server 127.0.0.1:6380"]);
  await page.keyboard.press("Escape");

  // Added again, 6380 starts empty, and after a reload it is still gone.
  await (await menuItem("Add server 127.0.0.1:6380")).click();
  await screen(page).locator(".rp-line .rp-prompt", { hasText: "127.0.0.1:6380> " }).waitFor();
  assert.equal(await run(page, "DBSIZE"), "(integer) 0\n");
  await tabs().nth(1).locator(".rp-tab-close").click();
  await (await menuItem("Remove 127.0.0.1:6380")).click();
  await notice.getByRole("button", { name: "Remove", exact: true }).click();
  await page.waitForFunction(() => !document.querySelector(".rp-menu-remove") && document.querySelector(".rp-notice").textContent.includes("Removed"));
  await reload();
  const after = await (await menuItem("")).allTextContents();
  assert.deepEqual(after, ["New client on 127.0.0.1:6379", "Add server 127.0.0.1:6380"]);
  await page.keyboard.press("Escape");
  assert.equal(await run(page, "GET shared:name"), "\"first\"\n");
});

test("a shared link replays each line on the server it ran on", async () => {
  await run(page, "SET where first");
  await (await menuItem("Add server 127.0.0.1:6380")).click();
  await screen(page).locator(".rp-line .rp-prompt", { hasText: "127.0.0.1:6380> " }).waitFor();
  await run(page, "SET where second");
  await page.locator("#share").click();
  await page.locator("#share-box:not([hidden])").waitFor();
  const link = await page.locator("#share-url").inputValue();
  await page.locator("#share-close").click();
  const visitor = await openPage(app.browser.context, link);
  const v = visitor.page;
  await v.locator("body[data-replayed]").waitFor();
  // The replay runs on a private server in memory, which got its own 127.0.0.1:6380.
  await v.waitForFunction(() => document.querySelectorAll(".rp-tab[role=tab]").length >= 2);
  const last = v.locator(".rp-tab[role=tab][data-port='6380']").last();
  await last.click();
  assert.equal(await run(v, "GET where"), "\"second\"\n");
  await v.locator(".rp-tab[role=tab][data-port='6379']").first().click();
  assert.equal(await run(v, "GET where"), "\"first\"\n");
  assert.deepEqual(visitor.problems, []);
  await v.close();
});

test("no console errors, failed requests or dialogs", async () => {
  assert.deepEqual(seen.problems, []);
  assert.deepEqual(seen.dialogs, []);
});
