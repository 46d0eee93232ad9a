// The page: one full-window playground whose data lives in this browser.
import { createPlayground } from "./terminal.js";

const root = document.getElementById("playground");
createPlayground(root, { namespace: "default" })
  .then((shell) => shell.current.focus())
  .catch((e) => console.warn("redis-playground:", e));
