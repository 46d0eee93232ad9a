// The static server of `make play` (scripts/serve.sh) and bench/page.mjs: serves www/ on
// 127.0.0.1 with node's http module and nothing else.
//
// Why not python3 -m http.server: it answers over HTTP/1.0, one connection per file, and sends
// no Cache-Control, so the browser guesses how long a file stays fresh (a rebuilt engine could
// be served stale from the cache). Here connections are kept alive, and every answer carries
// `Cache-Control: no-cache` with an ETag: the browser keeps each file, asks every time whether
// it changed, and a file that did not is a bodyless 304. A rebuilt wasm is fetched at once; an
// unchanged one is a cache hit, and so is the compiled code Chromium keeps beside it.
//
// Usage: node scripts/serve.mjs [--port PORT] [--dir DIR]   (prints its address, then serves)
import { createServer } from "node:http";
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { extname, join, normalize, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";

const MIME = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json",
  ".wasm": "application/wasm",
  ".png": "image/png",
  ".svg": "image/svg+xml",
  ".txt": "text/plain; charset=utf-8",
  ".md": "text/plain; charset=utf-8",
};

function arg(name, fallback) {
  const i = process.argv.indexOf(name);
  return i > 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}

const root = resolve(arg("--dir", fileURLToPath(new URL("../www/", import.meta.url))));
const port = Number(arg("--port", "8080"));

/** The file a URL path names inside root, or null (outside it, or not a file). */
async function fileFor(urlPath) {
  let path;
  try {
    path = decodeURIComponent(urlPath);
  } catch {
    return null;
  }
  let file = normalize(join(root, path));
  if (file !== root && !file.startsWith(root + sep)) return null;
  try {
    let st = await stat(file);
    if (st.isDirectory()) {
      file = join(file, "index.html");
      st = await stat(file);
    }
    return st.isFile() ? { file, st } : null;
  } catch {
    return null;
  }
}

const server = createServer(async (req, res) => {
  if (req.method !== "GET" && req.method !== "HEAD") {
    res.writeHead(405, { allow: "GET, HEAD" }).end();
    return;
  }
  const url = new URL(req.url, "http://localhost");
  const found = await fileFor(url.pathname);
  if (!found) {
    res.writeHead(404, { "content-type": "text/plain; charset=utf-8" }).end("not found\n");
    return;
  }
  const { file, st } = found;
  const etag = `"${st.size.toString(36)}-${Math.floor(st.mtimeMs).toString(36)}"`;
  const headers = {
    "content-type": MIME[extname(file)] ?? "application/octet-stream",
    "cache-control": "no-cache",
    etag,
    "last-modified": st.mtime.toUTCString(),
  };
  if (req.headers["if-none-match"] === etag) {
    res.writeHead(304, headers).end();
    return;
  }
  res.writeHead(200, { ...headers, "content-length": st.size });
  if (req.method === "HEAD") {
    res.end();
    return;
  }
  createReadStream(file).on("error", () => res.destroy()).pipe(res);
});

server.listen(port, "127.0.0.1", () => {
  console.log(`redis-playground: http://127.0.0.1:${server.address().port}/`);
});
