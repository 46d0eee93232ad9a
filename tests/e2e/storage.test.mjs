// Data that outlives the page: autosave to IndexedDB and restore on reload, SAVE / BGSAVE /
// LASTSAVE, Reset, Export and Import (and refusing what is not a snapshot), and a stored
// snapshot that cannot be read, which must be kept until the user decides.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFile, writeFile, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openPlayground, run, storedSnapshot, until } from "./harness.mjs";

let app, page, seen, files;

before(async () => {
  files = await mkdtemp(join(tmpdir(), "rp-files-"));
  app = await openPlayground();
  ({ page, ...seen } = app);
});

after(async () => {
  await app?.close();
  await rm(files, { recursive: true, force: true });
});

async function reload() {
  await page.reload();
  await page.locator(".rp[data-ready][data-hints]").waitFor();
}

async function waitSaved() {
  // A write is stored before it is answered; the status line follows.
  await page.waitForFunction(() => !/unsaved changes/.test(document.querySelector(".rp-status-save").textContent)
    && /saved \d/.test(document.querySelector(".rp-status-save").textContent), null, { timeout: 10000 });
}

test("changes are saved automatically and survive a reload", async () => {
  await run(page, "SET persisted yes");
  await run(page, "SELECT 4");
  await run(page, "SET in-db4 \"<b>four</b>\"");
  // A write is answered once it is stored: the status says so and the record holds it.
  assert.match(await page.locator(".rp-status-save").textContent(), /^saved \d/);
  await waitSaved();
  const bytes = await storedSnapshot(page);
  assert.equal(Buffer.from(bytes.slice(0, 9)).toString(), "REDIS0010");
  assert.ok(Buffer.from(bytes).includes("<b>four</b>"), "the last write is in the stored snapshot");
  await reload();
  assert.equal(await run(page, "GET persisted"), "\"yes\"\n");
  assert.equal(await run(page, "SELECT 4"), "OK\n");
  assert.equal(await run(page, "GET in-db4"), "\"<b>four</b>\"\n");
  assert.equal(await page.locator(".rp-status-keys").textContent(), "db0:1 db4:1");
  // The command history came back too.
  const input = page.locator(".rp-input");
  await input.press("ArrowUp");
  assert.equal(await input.inputValue(), "GET in-db4");
  await input.fill("");
});

test("a write just before leaving the page is saved on pagehide", async () => {
  await run(page, "SELECT 0");
  await run(page, "SET last-second write");
  await reload(); // no wait: the pagehide / visibilitychange save must carry it
  assert.equal(await run(page, "GET last-second"), "\"write\"\n");
});

/** Waits until INFO says no background save is being stored. */
async function bgsaveDone() {
  await until(async () => /rdb_bgsave_in_progress:0/.test(await run(page, "INFO persistence")), "the background save to finish");
}

test("SAVE, BGSAVE and LASTSAVE use the browser's storage", async () => {
  await run(page, "SET via-save 1");
  const before = await run(page, "LASTSAVE");
  assert.match(before, /^\(integer\) \d+\n$/);
  // LASTSAVE counts seconds: wait until the clock (the engine's, the page's) is past that one.
  await page.waitForFunction((t) => Date.now() >= (t + 1) * 1000, Number(before.match(/\d+/)[0]));
  assert.equal(await run(page, "SAVE"), "OK\n");
  const afterSave = await run(page, "LASTSAVE");
  assert.ok(Number(afterSave.match(/\d+/)[0]) > Number(before.match(/\d+/)[0]), `${before} -> ${afterSave}`);
  assert.ok(Math.abs(Number(afterSave.match(/\d+/)[0]) - Date.now() / 1000) < 30);
  assert.doesNotMatch(await page.locator(".rp-status-save").textContent(), /unsaved/);
  assert.equal(await run(page, "BGSAVE"), "Background saving started\n");
  // While one is being stored another is refused, as Redis refuses one while its child runs.
  assert.match(await run(page, "BGSAVE"), /^(Background saving started|\(error\) ERR Background save already in progress)\n$/);
  await bgsaveDone();
  assert.equal(await run(page, "BGSAVE SCHEDULE"), "Background saving started\n");
  await bgsaveDone();
  assert.equal(await run(page, "SAVE now"), "(error) ERR wrong number of arguments for 'save' command\n");
  assert.equal(await run(page, "BGSAVE now"), "(error) ERR syntax error\n");
  await run(page, "SET after-bgsave 2");
  assert.equal(await run(page, "BGSAVE"), "Background saving started\n");
  await bgsaveDone();
  assert.match(await run(page, "INFO persistence"), /rdb_last_bgsave_status:ok/);
  await page.waitForFunction(() => !/unsaved/.test(document.querySelector(".rp-status-save").textContent));
  await reload();
  assert.equal(await run(page, "GET after-bgsave"), "\"2\"\n");
});

test("Export downloads an RDB file and Import brings it back", async () => {
  await run(page, "SELECT 0");
  await run(page, "FLUSHALL");
  await run(page, "SET exported \"round trip\"");
  await run(page, "SET bin \"\\x00\\x01\\xfe\"");
  const [download] = await Promise.all([page.waitForEvent("download"), page.getByRole("button", { name: "Export" }).click()]);
  assert.match(download.suggestedFilename(), /^redis-playground-\d{8}-\d{6}\.rdb$/);
  const file = join(files, "export.rdb");
  await download.saveAs(file);
  const bytes = await readFile(file);
  assert.equal(bytes.subarray(0, 5).toString(), "REDIS");

  await run(page, "FLUSHALL");
  await run(page, "SET other thing");
  await page.locator(".rp-file").setInputFiles(file);
  await page.locator(".rp-notice:not([hidden])").filter({ hasText: "Imported" }).waitFor();
  assert.match(await page.locator(".rp-notice-text").textContent(), /Imported “export\.rdb”: 2 keys\./);
  assert.equal(await run(page, "GET exported"), "\"round trip\"\n");
  assert.equal(await run(page, "GET bin"), "\"\\x00\\x01\\xfe\"\n");
  assert.equal(await run(page, "GET other"), "(nil)\n");
  // An import is an explicit save: it is what a reload shows.
  await reload();
  assert.equal(await run(page, "GET exported"), "\"round trip\"\n");
});

test("a corrupt or foreign file is refused and the data kept", async () => {
  await run(page, "SET precious data");
  const good = await readFile(join(files, "export.rdb"));
  const flipped = Buffer.from(good);
  flipped[flipped.length - 3] ^= 0xff; // breaks the CRC-64 checksum
  const cases = {
    "flipped.rdb": flipped,
    "truncated.rdb": good.subarray(0, good.length - 12),
    "notes.txt": Buffer.from("just some text, not a snapshot\n"),
    "empty.rdb": Buffer.alloc(0),
  };
  for (const [name, content] of Object.entries(cases)) {
    const path = join(files, name);
    await writeFile(path, content);
    await page.locator(".rp-file").setInputFiles(path);
    const notice = page.locator(".rp-notice.rp-error:not([hidden])").filter({ hasText: name });
    await notice.waitFor();
    assert.match(await notice.textContent(), /Import refused: .* is not a usable Redis snapshot \(.+\)\. Your data is unchanged\./);
    assert.equal(await run(page, "GET precious"), "\"data\"\n", name);
    assert.equal(await run(page, "GET exported"), "\"round trip\"\n", name);
  }
  assert.deepEqual(seen.dialogs, []);
});

test("Reset deletes every key and the stored snapshot", async () => {
  await run(page, "SELECT 6");
  await run(page, "SET doomed 1");
  await run(page, "SELECT 0");
  const reset = page.locator(".rp-actions .rp-btn", { hasText: /Reset|Really reset\?/ });
  await reset.click();
  assert.equal(await reset.textContent(), "Really reset?");
  await reset.click();
  await page.locator(".rp-notice:not([hidden])").filter({ hasText: "All data deleted" }).waitFor();
  assert.equal(await page.locator(".rp-status-keys").textContent(), "no keys");
  assert.equal(await run(page, "DBSIZE"), "(integer) 0\n");
  assert.equal(await storedSnapshot(page), null);
  await reload();
  assert.equal(await page.locator(".rp-status-keys").textContent(), "no keys");
  assert.equal(await run(page, "GET precious"), "(nil)\n");
});

test("an unreadable stored snapshot is reported and kept until the user decides", async () => {
  // Store garbage under the page's key, as a broken write or another program might leave it.
  const garbage = Array.from(Buffer.from("REDIS0010 this is not really a snapshot"));
  await page.evaluate((bytes) => new Promise((ok, fail) => {
    const req = indexedDB.open("redis-playground", 1);
    req.onsuccess = () => {
      const tx = req.result.transaction("snapshots", "readwrite");
      tx.objectStore("snapshots").put({ version: 1, savedAt: Date.now(), bytes: new Uint8Array(bytes) }, "default");
      tx.oncomplete = () => { req.result.close(); ok(); };
      tx.onerror = () => fail(tx.error);
    };
  }), garbage);
  // Leaving must not overwrite it: nothing changed since the last save.
  await page.reload();
  await page.locator(".rp[data-ready][data-hints]").waitFor();
  const notice = page.locator(".rp-notice.rp-error:not([hidden])");
  await notice.waitFor();
  assert.match(await notice.textContent(), /could not be loaded \(.+\)\. The playground started empty; the stored copy is kept untouched/);
  assert.match(await page.locator(".rp-status-save").textContent(), /autosave paused/);
  assert.equal(await page.locator(".rp-status-keys").textContent(), "no keys");

  // Writing does not trigger an autosave over it, even across a page hide.
  // Waits that prove an absence: the autosave comes within a second of a write, and a save
  // on pagehide within moments; none may come, so nothing the page shows can be waited for.
  await run(page, "SET new-work 1");
  await page.waitForTimeout(2000);
  await page.evaluate(() => window.dispatchEvent(new PageTransitionEvent("pagehide")));
  await page.waitForTimeout(300);
  assert.deepEqual(await storedSnapshot(page), garbage);

  // The stored copy can be downloaded, then discarded: autosave resumes.
  const [download] = await Promise.all([
    page.waitForEvent("download"),
    notice.getByRole("button", { name: "Download stored copy" }).click(),
  ]);
  const path = join(files, "unreadable.rdb");
  await download.saveAs(path);
  assert.deepEqual(Array.from(await readFile(path)), garbage);
  await notice.getByRole("button", { name: "Discard it" }).click();
  await page.locator(".rp-notice:not([hidden])").filter({ hasText: "discarded" }).waitFor();
  const stored = await storedSnapshot(page);
  assert.equal(Buffer.from(stored.slice(0, 5)).toString(), "REDIS");
  await reload();
  assert.equal(await run(page, "GET new-work"), "\"1\"\n");
});

test("no console errors along the way", () => {
  assert.deepEqual(seen.problems, []);
});
