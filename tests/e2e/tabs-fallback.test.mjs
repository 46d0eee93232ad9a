// Tabs of a browser without SharedWorker (Chrome on Android): the tabs elect a leader with Web
// Locks, the leader runs the server in a dedicated Worker, the others reach it over a
// BroadcastChannel. The same cross-tab tests as with SharedWorker, plus the hand-over when the
// leader's page closes.
import { test } from "node:test";
import assert from "node:assert/strict";
import { run, screen, until } from "./harness.mjs";
import { crossTabTests, serverOf, waitSaved } from "./crosstab.mjs";

const t = crossTabTests({ mode: "tabs", initScript: () => { delete window.SharedWorker; } });

test("when the leader's page closes, another page takes over with the saved data", async () => {
  // After the shared tests, every page was closed and two reopened: the first one leads.
  const [leader, follower] = t.pages;
  assert.equal(await leader.page.evaluate(() => typeof SharedWorker), "undefined");
  const before = await serverOf(follower.page);
  assert.equal(await run(leader.page, "SET from-leader 1"), "OK\n");
  assert.equal(await run(follower.page, "SET from-follower 2"), "OK\n");
  await waitSaved(follower.page);
  // A second client of the follower waits in BLPOP while the leader goes.
  await follower.page.locator(".rp-new").click();
  assert.equal(await run(follower.page, "BLPOP never 0"), null);
  await screen(follower.page).locator(".rp-wait").waitFor({ state: "visible" });
  await leader.page.close();
  t.pages.splice(t.pages.indexOf(leader), 1);
  // The follower's clients reconnect to the server its own tab now runs, and say so.
  await screen(follower.page).locator(".rp-note", { hasText: "reconnected to the server another tab now runs" }).waitFor();
  const after = await until(async () => {
    const s = await serverOf(follower.page);
    return s.id !== before.id && s;
  }, "the follower to know the new server");
  assert.equal(after.mode, "tabs");
  // The waiting client's connection ended with the old server: it has its prompt back.
  await screen(follower.page).locator(".rp-line").waitFor({ state: "visible" });
  assert.equal(await screen(follower.page).locator(".rp-wait").isVisible(), false);
  await follower.page.locator(".rp-tab[role=tab]").nth(1).locator(".rp-tab-close").click();
  assert.equal(await run(follower.page, "GET from-leader"), "\"1\"\n");
  assert.equal(await run(follower.page, "GET from-follower"), "\"2\"\n");
  assert.equal((await run(follower.page, "CLIENT LIST")).trim().split("\n").length, 1);
  // A page opened now joins the new leader's server.
  const third = await t.open();
  assert.equal((await serverOf(third.page)).id, after.id);
  assert.equal(await run(third.page, "GET from-leader"), "\"1\"\n");
  assert.equal(await run(third.page, "PUBLISH nobody x"), "(integer) 0\n");
  assert.equal((await run(follower.page, "CLIENT LIST")).trim().split("\n").length, 2);
  assert.deepEqual(follower.problems, []);
  assert.deepEqual(third.problems, []);
});
