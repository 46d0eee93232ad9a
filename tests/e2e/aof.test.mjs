// The append-only file panel: the server of the tab shown keeps Redis 7.0's multi-part AOF in
// memory once `appendonly` is yes; the panel shows its manifest, its base and its incremental
// file as the RESP Redis appends (or one command a line), live as commands run, and what
// BGREWRITEAOF compacts the log into. Typed values are shown as text, never as HTML.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { openPlayground, openPage, run } from "./harness.mjs";

let app, page, problems;

before(async () => {
  app = await openPlayground({ panel: "aof" });
  ({ page, problems } = app);
});

after(() => app?.close());

const panel = () => page.locator("#aof");
const incr = () => panel().locator('.rp-aof-file[data-type="incr"]');

/** The panel's text once it contains `want`, or (with `gone`) once it no longer contains it. */
async function panelShows(want, { gone = false } = {}) {
  try {
    const text = await page.waitForFunction(({ want, gone }) => {
      const t = document.getElementById("aof").innerText;
      return t.includes(want) !== gone && t;
    }, { want, gone });
    return await text.jsonValue();
  } catch {
    assert.fail(`the panel never showed what was expected; it shows:\n${await panel().innerText()}`);
  }
}

/** A size as the panel writes it. */
const sizeText = (n) => (n < 1024 ? `${n} bytes` : `${(n / 1024).toFixed(2)}KB (${n.toLocaleString("en")} bytes)`);

/** The incremental file's commands as the panel shows them, one string each. */
function incrCommands() {
  return incr().locator(".rp-aof-cmd").allTextContents();
}

test("appendonly no: the panel says there is no log, and how to start one", async () => {
  const text = await panelShows("appendonly is no");
  assert.match(text, /CONFIG SET appendonly yes/);
  assert.equal(await panel().locator(".rp-aof-file").count(), 0);
});

test("CONFIG SET appendonly yes: a manifest, an RDB base of the data, an empty incremental file", async () => {
  await run(page, "SET before 1");
  assert.equal(await run(page, "CONFIG SET appendonly yes"), "OK\n");
  await panelShows("appendonly.aof.1.incr.aof");
  const manifest = await panel().locator(".rp-aof-manifest").textContent();
  assert.equal(manifest, "file appendonly.aof.1.base.rdb seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n");
  const base = await panel().locator('.rp-aof-file[data-type="base"]').innerText();
  assert.match(base, /appendonlydir\/appendonly\.aof\.1\.base\.rdb — base: RDB preamble/);
  assert.match(base, /A binary RDB snapshot of 1 key/);
  assert.match(await incr().innerText(), /Empty: the next write is appended here/);
  assert.equal(await panel().getAttribute("data-enabled"), "true");
});

test("writes appear as Redis appends them: SELECT, SET ... PXAT, MULTI/EXEC, as RESP lines", async () => {
  await run(page, "SET k v EX 100");
  await run(page, "SELECT 2");
  await run(page, "MULTI");
  await run(page, "INCR n");
  await run(page, "RPUSH l a");
  await run(page, "EXEC");
  await run(page, "GET n"); // a read: nothing logged
  await run(page, "SELECT 0");
  await panelShows("EXEC");
  const cmds = await incrCommands();
  assert.equal(cmds.length, 7, cmds.join("|"));
  assert.equal(cmds[0], "*2\\r\\n$6\\r\\nSELECT\\r\\n$1\\r\\n0\\r\\n");
  assert.match(cmds[1], /^\*5\\r\\n\$3\\r\\nSET\\r\\n\$1\\r\\nk\\r\\n\$1\\r\\nv\\r\\n\$4\\r\\nPXAT\\r\\n\$13\\r\\n\d{13}\\r\\n$/);
  assert.equal(cmds[2], "*2\\r\\n$6\\r\\nSELECT\\r\\n$1\\r\\n2\\r\\n");
  assert.equal(cmds[3], "*1\\r\\n$5\\r\\nMULTI\\r\\n");
  assert.equal(cmds[6], "*1\\r\\n$4\\r\\nEXEC\\r\\n");
  // Each RESP line on a line of its own, its CRLF marked.
  const lines = await incr().locator(".rp-aof-cmd").nth(4).locator(".rp-aof-line").allInnerTexts();
  assert.deepEqual(lines.map((l) => l.replace(/\s+/g, "")), ["*2\\r\\n", "$4\\r\\n", "INCR\\r\\n", "$1\\r\\n", "n\\r\\n"]);
  // INFO tells the same sizes the panel shows.
  const info = await run(page, "INFO persistence");
  const current = Number(/aof_current_size:(\d+)/.exec(info)[1]);
  const baseSize = Number(/aof_base_size:(\d+)/.exec(info)[1]);
  assert.match(info, /aof_enabled:1/);
  assert.ok((await panel().innerText()).includes(`${sizeText(current)} in all (INFO persistence: aof_current_size)`));
  assert.ok((await incr().locator("h3").textContent()).endsWith(`incremental, ${sizeText(current - baseSize)}`));
});

test("one command a line, and typed values only ever as text", async () => {
  await run(page, 'SET "<img src=x onerror=window.pwned=1>" "a b\\x00"');
  await page.locator("#aof button", { hasText: "One command a line" }).click();
  await page.locator('#aof[data-mode="commands"]').waitFor();
  await panelShows('"<img src=x onerror=window.pwned=1>"');
  const cmds = await incrCommands();
  assert.equal(cmds.at(-1), '"SET" "<img src=x onerror=window.pwned=1>" "a b\\x00"');
  assert.equal(await panel().locator("img").count(), 0);
  assert.equal(await page.evaluate(() => window.pwned), undefined);
  await page.locator("#aof button", { hasText: "RESP as written" }).click();
  await page.locator('#aof[data-mode="resp"]').waitFor();
});

test("BGREWRITEAOF from the panel: a new base of commands, an empty incremental file", async () => {
  await run(page, "CONFIG SET aof-use-rdb-preamble no");
  await run(page, "SELECT 2");
  await run(page, "DEL l");
  await run(page, "SELECT 0");
  await page.locator("#aof button", { hasText: "BGREWRITEAOF" }).click();
  const text = await panelShows("appendonly.aof.2.base.aof");
  assert.match(text, /Rewrite 2 \(BGREWRITEAOF\): .* of files became a base of .*\./);
  const manifest = await panel().locator(".rp-aof-manifest").textContent();
  assert.equal(manifest, "file appendonly.aof.2.base.aof seq 2 type b\nfile appendonly.aof.2.incr.aof seq 2 type i\n");
  // The terminal shows the command the button ran, and its reply.
  const out = await page.locator(".rp-screen:not([hidden]) .rp-out").innerText();
  assert.match(out, /BGREWRITEAOF\s*\n\s*Background append only file rewriting started/);
  // The base is the data as commands: no MULTI, no INCR, no deleted list.
  const base = await panel().locator('.rp-aof-file[data-type="base"] .rp-aof-cmd').allTextContents();
  const joined = base.join("|");
  assert.ok(joined.includes("$9\\r\\nPEXPIREAT\\r\\n$1\\r\\nk"), joined);
  assert.ok(!joined.includes("MULTI") && !joined.includes("RPUSH") && !joined.includes("INCR"), joined);
  assert.ok(joined.includes("$3\\r\\nSET\\r\\n$1\\r\\nn\\r\\n$1\\r\\n1"), joined);
  assert.match(await incr().innerText(), /Empty: the next write is appended here/);
  await run(page, "SET after 1");
  await panelShows("Empty: the next write", { gone: true });
  assert.deepEqual((await incrCommands()).length, 2);
});

test("a log longer than the panel shows: the last commands, and a note saying so", async () => {
  await run(page, `SET big ${"x".repeat(70000)}`);
  await panelShows("alone is larger than the 64.00KB (65,536 bytes) the panel shows; the file itself is whole.");
  assert.equal(await incr().locator(".rp-aof-cmd").count(), 0);
  const info = await run(page, "INFO persistence");
  const current = Number(/aof_current_size:(\d+)/.exec(info)[1]);
  assert.ok(current > 70000, info);
});

test("another tab's writes show up live in the panel", async () => {
  const { page: other, problems: otherProblems } = await openPage(app.browser.context, app.server.url);
  await run(other, "SET from:other:tab 1");
  await panelShows("from:other:tab");
  // The big command is left out, the note says how much is shown of how much.
  assert.match(await incr().innerText(), /Showing the last \d+ bytes of 68\.\d\dKB \([\d,]+ bytes\); the file itself is whole\./);
  assert.match((await incrCommands()).at(-1), /^\*3\\r\\n\$3\\r\\nSET\\r\\n\$14\\r\\nfrom:other:tab\\r\\n/);
  await other.close();
  assert.deepEqual(otherProblems, []);
});

test("CONFIG SET appendonly no: nothing more is appended", async () => {
  await page.locator("#aof button", { hasText: "CONFIG SET appendonly no" }).click();
  await panelShows("appendonly no: nothing is appended");
  const n = (await incrCommands()).length;
  await run(page, "SET later 1");
  // The panel reads the log again now, after the write: had anything been appended, it would
  // be drawn once this read returns.
  await page.evaluate(() => window.redisPlayground.aof.refresh());
  assert.equal((await incrCommands()).length, n);
  assert.match(await run(page, "INFO persistence"), /aof_enabled:0/);
  assert.deepEqual(problems, []);
});
