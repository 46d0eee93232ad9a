// The page: one full-window playground whose data lives in this browser, with the tutorial
// (tutorial.js) and the inspector (inspector.js) as panels beside the terminal, and shared
// sessions (share.js).
import { createPlayground } from "./terminal.js";
import { Tutorial } from "./tutorial.js";

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
  const wanted = panelsWanted();

  const remember = () => {
    try {
      localStorage.setItem(PANELS_KEY, JSON.stringify({ learn: !learnBox.hidden }));
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
