// <redis-playground>: a live terminal for documentation pages.
//
//   <script type="module" src="/path/to/embed.js"></script>
//   <redis-playground namespace="strings-tutorial" height="320px"
//                     commands="SET greeting hello
//   GET greeting"></redis-playground>
//
// Attributes: `commands` lines run when a server starts empty (one per line), `namespace` the
// server to use and the IndexedDB key its data is kept under, `height` a CSS length (a bare
// number is pixels).
//   `readalong`: the commands are shown with their replies every time the widget opens, on a
//     private server in memory (any namespace is ignored), then the prompt is live; Reset
//     starts the reading over.
//   `compact`: smaller type, no status line, 200px high unless `height` says otherwise.
//   `theme="light"|"dark"`: by default the widget follows the reader's prefers-color-scheme. Widgets with the same namespace, on this page or in other tabs, are clients
// of one server (server.js); a widget without a namespace has a private server whose data stays
// in memory. The terminal code is the page's (terminal.js), inside a shadow root.
import { createPlayground } from "./terminal.js";

const STYLE_URL = new URL("./style.css", import.meta.url).href;

function cssLength(v) {
  if (v == null || v.trim() === "") return "320px";
  return /^\d+(\.\d+)?$/.test(v.trim()) ? `${v.trim()}px` : v.trim();
}

export class RedisPlaygroundElement extends HTMLElement {
  static get observedAttributes() {
    return ["height"];
  }

  connectedCallback() {
    if (this.shadowRoot) {
      // Moved, or put back after a removal: the same server carries on.
      this.shell?.start();
      return;
    }
    const shadow = this.attachShadow({ mode: "open" });
    const link = document.createElement("link");
    link.rel = "stylesheet";
    link.href = STYLE_URL;
    const host = document.createElement("style");
    host.textContent = ":host{display:block;height:var(--rp-height,320px)} :host([hidden]){display:none}";
    const box = document.createElement("div");
    box.className = "rp-host";
    shadow.append(link, host, box);
    const readAlong = this.hasAttribute("readalong") || this.getAttribute("mode") === "read-along";
    box.classList.toggle("rp-compact", this.hasAttribute("compact"));
    const theme = this.getAttribute("theme");
    if (theme === "light" || theme === "dark") box.dataset.theme = theme;
    this.applyHeight();
    const commands = (this.getAttribute("commands") ?? "")
      .split(/\r\n|\r|\n/)
      .map((l) => l.trim())
      .filter((l) => l !== "");
    const namespace = this.getAttribute("namespace");
    this.ready = createPlayground(box, {
      namespace: !readAlong && namespace && namespace.trim() !== "" ? `embed:${namespace.trim()}` : null,
      commands,
      actions: ["reset", "export"],
      readAlong,
    }).then((shell) => {
      this.shell = shell;
      if (!this.isConnected) shell.stop();
      return shell;
    });
    this.ready.catch((e) => console.warn("<redis-playground>:", e));
  }

  disconnectedCallback() {
    // Removal for good (not a move) stops the timers and saves what is pending.
    queueMicrotask(() => {
      if (!this.isConnected) this.shell?.stop();
    });
  }

  attributeChangedCallback() {
    this.applyHeight();
  }

  applyHeight() {
    const h = this.getAttribute("height");
    this.style.setProperty("--rp-height", h == null && this.hasAttribute("compact") ? "200px" : cssLength(h));
  }
}

if (!customElements.get("redis-playground")) {
  customElements.define("redis-playground", RedisPlaygroundElement);
}
