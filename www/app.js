// The page: one full-window playground whose data lives in this browser, with the tutorial
// (tutorial.js), the inspector (inspector.js), the monitor (monitor.js), the replication view
// (replication.js), the cluster view (cluster.js) and the append-only file (aof.js) as panels
// beside the terminal, and shared sessions (share.js).
//
// The panels' modules are imported apart, after the terminal's first reply: the terminal, and
// the first reply, need only terminal.js and what it imports.
import { createPlayground } from "./terminal.js";
import { decodeSession, encodeSession, fromRedisFile, hasSession, parseLine, sessionLines, toRedisFile } from "./share.js";

const PANELS_KEY = "redis-playground:panels";

function panelsWanted() {
  try {
    return JSON.parse(localStorage.getItem(PANELS_KEY) ?? "{}") ?? {};
  } catch {
    return {};
  }
}

function lessonInHash() {
  const m = /(?:^#|&)lesson=([\w-]+)/.exec(location.hash);
  return m ? m[1] : null;
}

async function main() {
  performance.mark?.("rp:app");
  const root = document.getElementById("playground");
  // A shared link replays on a private server in memory: the visitor's own data (the "default"
  // namespace, its IndexedDB snapshot and its history) is never opened.
  let shared = null;
  if (hasSession(location.hash)) {
    try {
      shared = await decodeSession(location.hash);
    } catch (e) {
      document.getElementById("share-note").textContent = `This shared link cannot be read (${e.message}).`;
      document.getElementById("share-note").hidden = false;
    }
  }
  const shell = await createPlayground(root, shared ? { namespace: null, persistHistory: false, servers: true } : { namespace: "default", servers: true });
  shell.current.focus();
  // The panels' buttons work at once; the panels themselves (their modules and their setup)
  // are made once the terminal has settled (its first reply shown, or the page idle), not on
  // the way to the first reply. A click before then is served once they are made.
  const panels = shell.settled.then(() => makePanels(shell));
  for (const name of ["learn", "inspect", "monitor", "repl", "cluster", "aof"]) {
    document.getElementById(`${name}-toggle`).addEventListener("click", () => {
      panels.then((p) => p.toggle(name), () => {});
    });
  }
  if (shared) await replay(shell, shared);
  setupSharing(shell);
  await panels;
  document.body.dataset.ready = "true";
  if (document.activeElement === document.body) shell.current.focus();
}

/** The panels beside the terminal, shown as they were left (or as the address asks):
 * resolves with `toggle(name)`, which shows or hides one. */
async function makePanels(shell) {
  const [{ Tutorial }, { Inspector }, { Monitor }, { Replication }, { ClusterPanel }, { AofPanel }] = await Promise.all([import("./tutorial.js"), import("./inspector.js"), import("./monitor.js"), import("./replication.js"), import("./cluster.js"), import("./aof.js")]);
  const learnBox = document.getElementById("learn");
  const learnBtn = document.getElementById("learn-toggle");
  const tutorial = new Tutorial(shell, learnBox);
  const inspectBox = document.getElementById("inspect");
  const inspectBtn = document.getElementById("inspect-toggle");
  const inspector = new Inspector(shell, inspectBox);
  const monitorBox = document.getElementById("monitor");
  const monitorBtn = document.getElementById("monitor-toggle");
  const monitor = new Monitor(shell, monitorBox);
  const replBox = document.getElementById("repl");
  const replBtn = document.getElementById("repl-toggle");
  const replication = new Replication(shell, replBox);
  const clusterBox = document.getElementById("cluster");
  const clusterBtn = document.getElementById("cluster-toggle");
  const cluster = new ClusterPanel(shell, clusterBox);
  const aofBox = document.getElementById("aof");
  const aofBtn = document.getElementById("aof-toggle");
  const aof = new AofPanel(shell, aofBox);
  const wanted = panelsWanted();

  const remember = () => {
    try {
      localStorage.setItem(PANELS_KEY, JSON.stringify({ learn: !learnBox.hidden, inspect: !inspectBox.hidden, monitor: !monitorBox.hidden, repl: !replBox.hidden, cluster: !clusterBox.hidden, aof: !aofBox.hidden }));
    } catch {
      // not kept
    }
  };
  const showLearn = async (on, lesson = null) => {
    learnBox.hidden = !on;
    learnBtn.setAttribute("aria-pressed", String(on));
    if (on) await tutorial.start(lesson);
    else {
      tutorial.stop();
      if (/lesson=/.test(location.hash)) history.replaceState(null, "", location.pathname + location.search);
    }
    remember();
  };
  // The inspector reads the engine on a client of its own ("inspector" in CLIENT LIST), opened
  // when the panel is first shown.
  const showInspect = (on) => {
    inspectBox.hidden = !on;
    inspectBtn.setAttribute("aria-pressed", String(on));
    if (on) inspector.start();
    else inspector.stop();
    remember();
  };
  if (wanted.inspect || /(?:^#|&)inspect\b/.test(location.hash)) showInspect(true);
  // The monitor polls INFO once a second while it is shown, as redis-cli --stat does.
  const showMonitor = (on) => {
    monitorBox.hidden = !on;
    monitorBtn.setAttribute("aria-pressed", String(on));
    if (on) monitor.start();
    else monitor.stop();
    remember();
  };
  if (wanted.monitor || /(?:^#|&)monitor\b/.test(location.hash)) showMonitor(true);
  // The replication view reads the worker's topology and link log a few times a second while shown.
  const showRepl = (on) => {
    replBox.hidden = !on;
    replBtn.setAttribute("aria-pressed", String(on));
    if (on) replication.start();
    else replication.stop();
    remember();
  };
  if (wanted.repl || /(?:^#|&)replication\b/.test(location.hash)) showRepl(true);
  // The cluster view reads each cluster node's CLUSTER NODES a few times a second while shown.
  const showCluster = (on) => {
    clusterBox.hidden = !on;
    clusterBtn.setAttribute("aria-pressed", String(on));
    if (on) cluster.start();
    else cluster.stop();
    remember();
  };
  if (wanted.cluster || /(?:^#|&)cluster\b/.test(location.hash)) showCluster(true);
  // The append-only file reads the server's log when a command ran, and once a second while shown.
  const showAof = (on) => {
    aofBox.hidden = !on;
    aofBtn.setAttribute("aria-pressed", String(on));
    if (on) aof.start();
    else aof.stop();
    remember();
  };
  if (wanted.aof || /(?:^#|&)aof\b/.test(location.hash)) showAof(true);
  window.redisPlayground = { shell, tutorial, inspector, monitor, replication, cluster, aof };
  performance.mark?.("rp:panels");
  // Tab completes inside the terminal, so F6 / Shift+F6 move between the page's regions: the
  // toolbar, the tutorial, the terminal and the inspector.
  document.addEventListener("keydown", (e) => {
    if (e.key !== "F6") return;
    e.preventDefault();
    const regions = [
      document.querySelector(".page-tools button"),
      learnBox.hidden ? null : learnBox.querySelector("select"),
      shell.current.blocked ? shell.current.el : shell.current.input,
      inspectBox.hidden ? null : inspectBox.querySelector(".rp-ins-tree"),
      monitorBox.hidden ? null : monitorBox.querySelector("button"),
      replBox.hidden ? null : replBox.querySelector("input"),
      clusterBox.hidden ? null : clusterBox.querySelector("button"),
      aofBox.hidden ? null : aofBox.querySelector("button"),
    ].filter(Boolean);
    const at = regions.findIndex((r) => r === document.activeElement || r.closest?.("aside, nav, .page-term")?.contains(document.activeElement));
    const next = regions[(at + (e.shiftKey ? -1 : 1) + regions.length) % regions.length];
    next.focus();
  });
  window.addEventListener("hashchange", () => {
    const l = lessonInHash();
    if (l && l !== tutorial.lesson?.id) showLearn(true, l);
  });
  const lesson = lessonInHash();
  if (lesson || wanted.learn) await showLearn(true, lesson);
  const toggles = {
    learn: () => showLearn(learnBox.hidden),
    inspect: () => showInspect(inspectBox.hidden),
    monitor: () => showMonitor(monitorBox.hidden),
    repl: () => showRepl(replBox.hidden),
    cluster: () => showCluster(clusterBox.hidden),
    aof: () => showAof(aofBox.hidden),
  };
  return { toggle: (name) => toggles[name]() };
}

/** Runs the shared lines in the first client tab: its screen is the transcript. */
async function replay(shell, lines) {
  const note = document.getElementById("share-note");
  note.replaceChildren();
  const text = document.createElement("span");
  text.textContent = `Replaying a shared session of ${lines.length} command${lines.length === 1 ? "" : "s"} on a separate server in memory: your own data is not used. `;
  const mine = document.createElement("a");
  mine.href = location.pathname;
  mine.textContent = "Back to my playground";
  note.append(text, mine);
  note.hidden = false;
  document.body.dataset.shared = "true";
  // Each client tab of the session gets a tab here, opened when its first line comes, on the
  // server it was a client of (servers are added until that one exists).
  const first = shell.current;
  const screens = new Map([[1, first]]);
  for (const text of lines) {
    const { client, port, line } = parseLine(text);
    let screen = screens.get(client);
    if (!screen) {
      while (!shell.servers.some((s) => s.port === port) && shell.servers.length < 16 && Math.max(...shell.servers.map((s) => s.port)) < port) {
        await shell.addServer();
      }
      screen = shell.addClient(shell.servers.some((s) => s.port === port) ? port : shell.servers[0].port);
      screens.set(client, screen);
    }
    await shell.submit(screen, line, { record: false });
  }
  shell.select(first);
  // The replayed lines ran like typed ones: sharing again includes them.
  document.body.dataset.replayed = String(lines.length);
}

function download(text, name) {
  const url = URL.createObjectURL(new Blob([text], { type: "text/plain" }));
  const a = document.createElement("a");
  a.href = url;
  a.download = name;
  a.hidden = true;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

/** The Share button, and .redis export and import. */
function setupSharing(shell) {
  const box = document.getElementById("share-box");
  const url = document.getElementById("share-url");
  const status = document.getElementById("share-status");
  document.getElementById("share").addEventListener("click", async () => {
    const lines = sessionLines(shell.session);
    if (lines.length === 0) {
      shell.notify("Nothing to share yet: the link holds the commands typed on this page.");
      return;
    }
    const link = new URL(location.href);
    link.hash = await encodeSession(lines);
    url.value = link.href;
    box.hidden = false;
    url.focus();
    url.select();
    status.textContent = `A link holding ${lines.length} command${lines.length === 1 ? "" : "s"} (${link.hash.length} characters).`;
    try {
      await navigator.clipboard.writeText(link.href);
      status.textContent += " Copied.";
    } catch {
      // no clipboard permission: the link is selected to copy by hand
    }
  });
  document.getElementById("share-close").addEventListener("click", () => {
    box.hidden = true;
    shell.current.focus();
  });
  box.addEventListener("keydown", (e) => {
    if (e.key === "Escape") {
      box.hidden = true;
      shell.current.focus();
    }
  });
  document.getElementById("save-redis").addEventListener("click", () => {
    const text = toRedisFile(shell.session.map((e) => e.line));
    if (text === "") {
      shell.notify("Nothing to save yet: the file holds the commands typed on this page.");
      return;
    }
    download(text, "session.redis");
  });
  const file = document.getElementById("open-redis-file");
  document.getElementById("open-redis").addEventListener("click", () => file.click());
  file.addEventListener("change", async () => {
    const f = file.files?.[0];
    file.value = "";
    if (!f) return;
    const lines = fromRedisFile(await f.text());
    const screen = shell.current;
    for (const line of lines) await shell.submit(screen, line);
    shell.notify(`Ran ${lines.length} command${lines.length === 1 ? "" : "s"} from “${f.name}”.`);
  });
}

// After one visit the page loads from the browser's own copy, and with no network: sw.js keeps
// every file of the page (and takes a new version of the site from the visit after it is
// deployed). It is registered once the terminal is ready: installing it fetches every file,
// the engine included, which the first visit's start need not share the machine with.
function registerServiceWorker() {
  if (!("serviceWorker" in navigator)) return;
  navigator.serviceWorker.register(new URL("./sw.js", import.meta.url)).catch((e) => {
    console.warn("redis-playground: working offline is not available:", e.message);
  });
  // The files of this visit may have come from the browser's copy without the worker seeing
  // the request: it is told that a visit happened, to look for a new version in the background.
  navigator.serviceWorker.controller?.postMessage("check");
}

main().catch((e) => console.warn("redis-playground:", e)).finally(() => {
  if (typeof requestIdleCallback === "function") requestIdleCallback(registerServiceWorker, { timeout: 2000 });
  else setTimeout(registerServiceWorker, 0);
});
