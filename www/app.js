// The page: one full-window playground whose data lives in this browser, with the tutorial
// (tutorial.js) and the inspector (inspector.js) as panels beside the terminal, and shared
// sessions (share.js).
import { createPlayground } from "./terminal.js";
import { Tutorial } from "./tutorial.js";
import { Inspector } from "./inspector.js";

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
  const root = document.getElementById("playground");
  const shell = await createPlayground(root, { namespace: "default" });
  const learnBox = document.getElementById("learn");
  const learnBtn = document.getElementById("learn-toggle");
  const tutorial = new Tutorial(shell, learnBox);
  const inspectBox = document.getElementById("inspect");
  const inspectBtn = document.getElementById("inspect-toggle");
  const inspector = new Inspector(shell, inspectBox);
  const wanted = panelsWanted();

  const remember = () => {
    try {
      localStorage.setItem(PANELS_KEY, JSON.stringify({ learn: !learnBox.hidden, inspect: !inspectBox.hidden }));
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
  learnBtn.addEventListener("click", () => showLearn(learnBox.hidden));
  // The inspector reads the engine on a client of its own ("inspector" in CLIENT LIST), opened
  // when the panel is first shown.
  const showInspect = (on) => {
    inspectBox.hidden = !on;
    inspectBtn.setAttribute("aria-pressed", String(on));
    if (on) inspector.start();
    else inspector.stop();
    remember();
  };
  inspectBtn.addEventListener("click", () => showInspect(inspectBox.hidden));
  if (wanted.inspect || /(?:^#|&)inspect\b/.test(location.hash)) showInspect(true);
  window.redisPlayground = { shell, tutorial, inspector };
  window.addEventListener("hashchange", () => {
    const l = lessonInHash();
    if (l && l !== tutorial.lesson?.id) showLearn(true, l);
  });
  const lesson = lessonInHash();
  if (lesson || wanted.learn) await showLearn(true, lesson);
  document.body.dataset.ready = "true";
  shell.current.focus();
}

main().catch((e) => console.warn("redis-playground:", e));
