// Shared sessions: the lines typed in a page, carried in a link's fragment (so nothing is sent
// to any server) or in a `.redis` file of commands that redis-cli can read from its standard
// input (`redis-cli < session.redis`).
//
// A link is `#share=1.<data>`: the lines joined by newlines, compressed with the browser's
// CompressionStream("deflate-raw"), in base64url. A line typed in another client tab than the
// first is written `@N line` (N: the tab's number), so pub/sub, WATCH and BLPOP between clients
// replay as they ran, and `@N:PORT line` when the tab is a client of another server than the
// first (127.0.0.1:6380 ...); `@1 ` marks a first-tab line that itself starts with "@". Opening one replays the lines on a private
// in-memory server (app.js), never on the visitor's stored data.

const VERSION = "1";
const MAX_LINES = 10000;

function toBase64Url(bytes) {
  let bin = "";
  for (let i = 0; i < bytes.length; i += 0x8000) bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function fromBase64Url(text) {
  const b64 = text.replace(/-/g, "+").replace(/_/g, "/");
  const bin = atob(b64 + "=".repeat((4 - (b64.length % 4)) % 4));
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

async function pipe(bytes, stream) {
  const out = new Blob([bytes]).stream().pipeThrough(stream);
  return new Uint8Array(await new Response(out).arrayBuffer());
}

/** The fragment (without "#") that carries `lines`. */
export async function encodeSession(lines) {
  const text = lines.slice(0, MAX_LINES).join("\n");
  const packed = await pipe(new TextEncoder().encode(text), new CompressionStream("deflate-raw"));
  return `share=${VERSION}.${toBase64Url(packed)}`;
}

/** The lines a fragment carries; throws when it is not a share fragment this page can read. */
export async function decodeSession(fragment) {
  const m = /(?:^#?|&)share=(\d+)\.([A-Za-z0-9_-]*)/.exec(fragment);
  if (!m) throw new Error("no shared session in this link");
  if (m[1] !== VERSION) throw new Error(`this link was made by another version of the playground (${m[1]})`);
  const bytes = await pipe(fromBase64Url(m[2]), new DecompressionStream("deflate-raw"));
  const text = new TextDecoder().decode(bytes);
  return text === "" ? [] : text.split("\n").slice(0, MAX_LINES);
}

export function hasSession(fragment) {
  return /(?:^#?|&)share=\d+\./.test(fragment);
}

const FIRST_PORT = 6379;

/** Session entries ({ client, port, line }) as the lines of a link. */
export function sessionLines(entries) {
  return entries.map(({ client, port = FIRST_PORT, line }) => {
    if (port !== FIRST_PORT) return `@${client}:${port} ${line}`;
    return client > 1 || line.startsWith("@") ? `@${client} ${line}` : line;
  });
}

/** A link's line as { client, port, line }: client 1 of the first server unless marked. */
export function parseLine(text) {
  const m = /^@(\d{1,2})(?::(\d{1,5}))? (.*)$/.exec(text);
  if (!m) return { client: 1, port: FIRST_PORT, line: text };
  const port = m[2] === undefined ? FIRST_PORT : Number(m[2]);
  return { client: Math.max(1, Number(m[1])), port: port >= 1 && port <= 65535 ? port : FIRST_PORT, line: m[3] };
}

/** The lines as a `.redis` file: one command per line; redis-cli's "N command" is spelled out
 * N times, as redis-cli reading a file does not repeat. */
export function toRedisFile(lines) {
  const out = [];
  for (const line of lines) {
    const m = /^(\d+)\s+(\S.*)$/.exec(line);
    if (m) for (let i = 0; i < Math.min(Number(m[1]), MAX_LINES); i++) out.push(m[2]);
    else out.push(line);
  }
  return out.length ? `${out.join("\n")}\n` : "";
}

/** The commands of a `.redis` file: its non-empty lines. */
export function fromRedisFile(text) {
  return text.split(/\r\n|\r|\n/).map((l) => l.trim()).filter((l) => l !== "").slice(0, MAX_LINES);
}
