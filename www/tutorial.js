// The guided tutorial: lessons read from www/lessons/ (the format is in lessons/README.md), shown
// beside the terminal. After every command the learner runs (in any client tab of this page),
// the current step's checks are evaluated against the engine: the command's reply, and read
// commands sent on the page's inspection client (Shell.query). What was typed is never compared.
//
// Keyboard: in the terminal, Alt+ArrowDown types the step's next suggested command, Alt+ArrowRight
// and Alt+ArrowLeft open the next and previous lesson; every control of the panel is a button or
// a select reachable with Tab.

const PROGRESS_KEY = "redis-playground:lessons";
const LESSONS_URL = new URL("./lessons/", import.meta.url);

function el(tag, className, text) {
  const e = document.createElement(tag);
  if (className) e.className = className;
  if (text !== undefined) e.textContent = text;
  return e;
}

/** Text with `code` spans, built with textContent only. */
export function richText(tag, className, text) {
  const e = el(tag, className);
  String(text).split("`").forEach((part, i) => {
    if (part === "") return;
    e.append(i % 2 ? el("code", "", part) : document.createTextNode(part));
  });
  return e;
}

/** Whether a reply ({ type, value } from the engine) satisfies a matcher (lessons/README.md). */
export function matches(reply, m) {
  if (!reply || typeof m !== "object" || m === null) return false;
  if (m.at !== undefined) {
    const { at, ...rest } = m;
    const items = Array.isArray(reply.value) ? reply.value : null;
    if (!items || at >= items.length || -at > items.length) return false;
    return matches(items[at < 0 ? items.length + at : at], rest);
  }
  if (m.type !== undefined && reply.type !== m.type) return false;
  const v = reply.value;
  const list = Array.isArray(v);
  const num = list ? v.length : Number(v);
  if (m.equals !== undefined && (list || String(v) !== String(m.equals))) return false;
  if (m.min !== undefined && !(num >= m.min)) return false;
  if (m.max !== undefined && !(num <= m.max)) return false;
  if (m.length !== undefined && !(list && v.length === m.length)) return false;
  if (m.includes !== undefined) {
    const ok = list ? v.some((x) => String(x?.value) === String(m.includes)) : String(v ?? "").includes(m.includes);
    if (!ok) return false;
  }
  if (m.pattern !== undefined && (list || !new RegExp(m.pattern).test(String(v ?? "")))) return false;
  return true;
}

function loadProgress() {
  try {
    const p = JSON.parse(localStorage.getItem(PROGRESS_KEY) ?? "null");
    if (p && typeof p === "object" && p.lessons && typeof p.lessons === "object") return p;
  } catch {
    // unreadable: start over
  }
  return { current: null, lessons: {} };
}

export class Tutorial {
  /**
   * @param {Shell} shell the terminal (its lines are checked, its inspection client queried)
   * @param {HTMLElement} box where the panel is built
   */
  constructor(shell, box) {
    this.shell = shell;
    this.box = box;
    this.ids = [];
    this.lessons = new Map();
    this.progress = loadProgress();
    this.lesson = null;
    this.tryIndex = 0;
    this.checking = Promise.resolve();
    this.unsubscribe = null;
    this.onKey = (e, screen) => this.key(e, screen);
  }

  /** Loads the lesson list and opens `id` (or the lesson last opened, or the first). */
  async start(id) {
    if (this.ids.length === 0) {
      this.ids = await (await fetch(new URL("index.json", LESSONS_URL))).json();
      await Promise.all(this.ids.map(async (l) => {
        this.lessons.set(l, await (await fetch(new URL(`${l}.json`, LESSONS_URL))).json());
      }));
    }
    if (!this.unsubscribe) {
      this.unsubscribe = this.shell.on((ev) => {
        if (ev.kind !== "run") return;
        this.checking = this.checking
          .then(() => this.check(ev))
          .catch((e) => console.warn("tutorial:", e))
          .finally(() => {
            // How many commands were checked: tests wait on it.
            this.box.dataset.checked = String(Number(this.box.dataset.checked ?? 0) + 1);
          });
      });
      this.shell.keyHandlers.push(this.onKey);
    }
    const want = [id, this.progress.current, this.ids[0]].find((l) => l && this.lessons.has(l));
    this.open(want);
  }

  stop() {
    this.unsubscribe?.();
    this.unsubscribe = null;
    const i = this.shell.keyHandlers.indexOf(this.onKey);
    if (i >= 0) this.shell.keyHandlers.splice(i, 1);
  }

  save() {
    try {
      localStorage.setItem(PROGRESS_KEY, JSON.stringify(this.progress));
    } catch {
      // storage refused: progress lasts this visit only
    }
  }

  state(id) {
    const s = this.progress.lessons[id];
    return s && Number.isInteger(s.step) ? s : { step: 0, done: false };
  }

  open(id) {
    if (!this.lessons.has(id)) return;
    this.lesson = this.lessons.get(id);
    this.progress.current = id;
    this.save();
    this.tryIndex = 0;
    if (location.hash !== `#lesson=${id}`) history.replaceState(null, "", `#lesson=${id}`);
    this.render();
  }

  /** Opens the lesson `step` places away in the list (Alt+ArrowRight/Left, the Next button). */
  move(step) {
    const i = this.ids.indexOf(this.lesson?.id);
    const next = this.ids[i + step];
    if (next) this.open(next);
    return !!next;
  }

  key(e, screen) {
    if (!e.altKey || e.ctrlKey || e.metaKey || !this.lesson) return false;
    if (e.key === "ArrowDown") {
      const step = this.lesson.steps[this.state(this.lesson.id).step];
      const tries = step?.try ?? [];
      if (tries.length === 0) return true;
      screen.setInput(tries[this.tryIndex % tries.length]);
      this.tryIndex++;
      return true;
    }
    if (e.key === "ArrowRight") return this.move(1) || true;
    if (e.key === "ArrowLeft") return this.move(-1) || true;
    return false;
  }

  /** Types a suggested command into the current terminal's input (it runs on Enter). */
  suggest(line) {
    const screen = this.shell.current;
    screen.setInput(line);
    screen.focus();
  }

  /** After a command ran: does it (and the engine's state) complete the current step? */
  async check({ screen, outs }) {
    const lesson = this.lesson;
    if (!lesson) return;
    const st = this.state(lesson.id);
    const step = lesson.steps[st.step];
    if (!step || st.done) return;
    const last = [...outs].reverse().find((o) => o.reply)?.reply ?? null;
    if (!(await this.holds(step.checks ?? [], last, screen.db))) return;
    if (this.lesson !== lesson) return;
    st.step += 1;
    st.done = st.step >= lesson.steps.length;
    this.progress.lessons[lesson.id] = st;
    this.save();
    this.tryIndex = 0;
    this.render();
    this.announce(st.done ? `Lesson “${lesson.title}” complete.` : `Step ${st.step} done. Next: step ${st.step + 1}.`);
  }

  async holds(checks, last, db) {
    const queries = [];
    for (const c of checks) {
      if (c.reply !== undefined && !matches(last, c.reply)) return false;
      if (c.key !== undefined) queries.push([["TYPE", c.key], { type: "status", equals: c.type ?? "none" }]);
      if (c.query !== undefined) queries.push([c.query, c.expect ?? {}]);
    }
    if (queries.length === 0) return checks.length > 0;
    const { replies } = await this.shell.query(db, queries.map((q) => q[0]));
    return queries.every(([, m], i) => matches(replies[i], m));
  }

  announce(text) {
    this.live.textContent = text;
  }

  reset() {
    delete this.progress.lessons[this.lesson.id];
    this.save();
    this.render();
    this.announce("Lesson restarted.");
  }

  render() {
    const lesson = this.lesson;
    const st = this.state(lesson.id);
    this.box.replaceChildren();
    this.box.dataset.lesson = lesson.id;
    this.box.dataset.step = String(st.step);
    if (st.done) this.box.dataset.done = "true";
    else delete this.box.dataset.done;

    const head = el("div", "rp-learn-head");
    const label = el("label", "rp-learn-pick");
    label.append(el("span", "", "Lesson "));
    const pick = el("select", "rp-learn-select");
    this.ids.forEach((id, i) => {
      const l = this.lessons.get(id);
      const s = this.state(id);
      const opt = el("option", "", `${i + 1}. ${l.title}${s.done ? " ✓" : ""}`);
      opt.value = id;
      opt.selected = id === lesson.id;
      pick.append(opt);
    });
    pick.addEventListener("change", () => this.open(pick.value));
    label.append(pick);
    head.append(label);
    const h = el("h2", "rp-learn-title", lesson.title);
    const intro = el("div", "rp-learn-intro");
    for (const p of lesson.intro ?? []) intro.append(richText("p", "", p));
    const steps = el("ol", "rp-learn-steps");
    lesson.steps.forEach((s, i) => {
      const state = i < st.step ? "done" : i === st.step ? "current" : "todo";
      const li = el("li", `rp-learn-step rp-${state}`);
      li.dataset.state = state;
      if (state === "current") li.setAttribute("aria-current", "step");
      li.append(richText("p", "", s.text));
      if (state !== "todo" && s.try?.length) {
        const tries = el("div", "rp-learn-tries");
        for (const line of s.try) {
          const b = el("button", "rp-try", line);
          b.type = "button";
          b.title = "Type this into the terminal (Enter runs it)";
          b.addEventListener("click", () => this.suggest(line));
          tries.append(b);
        }
        li.append(tries);
      }
      steps.append(li);
    });
    const foot = el("div", "rp-learn-foot");
    const count = el("p", "rp-learn-count", st.done ? `Done: all ${lesson.steps.length} steps.` : `Step ${st.step + 1} of ${lesson.steps.length}`);
    foot.append(count);
    const i = this.ids.indexOf(lesson.id);
    const nav = el("div", "rp-learn-nav");
    const mk = (text, fn, title) => {
      const b = el("button", "rp-btn rp-small", text);
      b.type = "button";
      b.title = title;
      b.addEventListener("click", fn);
      nav.append(b);
      return b;
    };
    if (i > 0) mk("← Previous", () => this.move(-1), "Previous lesson (Alt+←)");
    mk("Restart lesson", () => this.reset(), "Forget this lesson's progress");
    if (i < this.ids.length - 1) mk(st.done ? "Next lesson →" : "Skip →", () => this.move(1), "Next lesson (Alt+→)").classList.toggle("rp-go", st.done);
    foot.append(nav);
    foot.append(el("p", "rp-learn-keys", "Keys: Alt+↓ types the suggested command, Enter runs it; Alt+→ / Alt+← change lesson; F6 moves between the panels and the terminal."));
    this.live = el("div", "rp-learn-live");
    this.live.setAttribute("role", "status");
    this.live.setAttribute("aria-live", "polite");
    this.box.append(head, h, intro, steps, foot, this.live);
  }
}
