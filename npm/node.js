// In-process connections for Node: a Duplex stream that speaks RESP with a Playground's engine,
// so a Redis client library runs against it with no socket and no server process.
//
//   import { Playground } from "redis-playground";
//   import { createConnection, IoredisConnector } from "redis-playground/node";
//   const pg = new Playground();
//   const redis = new Redis({ Connector: IoredisConnector, playground: pg });   // ioredis
//
// node-redis has no hook for a custom stream: `serve(pg)` listens on a Unix socket (or a TCP
// port) inside this process, each accepted socket a client of `pg`, and node-redis (or
// redis-cli) connects there: `createClient({ socket: { path } })`.
//
// Each stream is one client of the engine (CLIENT LIST shows it). What the library writes runs
// as soon as a request is complete; replies, pub/sub messages and the replies of blocking
// commands served by other clients are pushed to it as they arise. A timer ticks the engine
// (expiry, blocking timeouts) while connections are open; it does not keep Node alive.
import { createServer } from "node:net";
import { Duplex } from "node:stream";

const TICK_MS = 100;
const hubs = new WeakMap();

/** The open streams of one Playground: after any of them runs something, the others read. */
function hubOf(pg) {
  let hub = hubs.get(pg);
  if (!hub) {
    hub = { streams: new Set(), timer: null };
    hubs.set(pg, hub);
  }
  return hub;
}

function pumpAll(hub) {
  for (const s of hub.streams) s._pump();
}

export class PlaygroundStream extends Duplex {
  constructor(pg) {
    super();
    this.pg = pg;
    this.id = pg.openConnection();
    this.hub = hubOf(pg);
    this.hub.streams.add(this);
    if (!this.hub.timer) {
      this.hub.timer = setInterval(() => {
        this.pg.tick();
        pumpAll(this.hub);
      }, TICK_MS);
      this.hub.timer.unref?.();
    }
    // A socket's shape, for libraries that read or set it.
    this.connecting = false;
    this.remoteAddress = "127.0.0.1";
    this.remotePort = 6379;
    this.localAddress = "127.0.0.1";
    this.localPort = 0;
  }

  setNoDelay() { return this; }
  setKeepAlive() { return this; }
  setTimeout(ms, cb) { if (cb && ms) this.once("timeout", cb); return this; }
  ref() { return this; }
  unref() { return this; }

  _read() {}

  _write(chunk, _encoding, callback) {
    let out;
    try {
      out = this.pg.write(this.id, chunk);
    } catch (e) {
      callback(e);
      return;
    }
    // As from a socket, the answer never arrives inside write(): a library queues the command
    // it wrote after write() returns.
    process.nextTick(() => {
      if (out.length && !this.destroyed) this.push(Buffer.from(out.buffer, out.byteOffset, out.length));
      this._checkClosed();
      // Others may have been served (PUBLISH, LPUSH for a BLPOP, CLIENT KILL).
      pumpAll(this.hub);
    });
    callback();
  }

  /** Delivers what arrived for this client since its last write. */
  _pump() {
    if (this.destroyed || !this.hub.streams.has(this)) return;
    const out = this.pg.read(this.id);
    if (out.length && !this.destroyed) this.push(Buffer.from(out.buffer, out.byteOffset, out.length));
    this._checkClosed();
  }

  _checkClosed() {
    if (this.pg.connectionClosed(this.id) && this.hub.streams.has(this)) {
      this._detach();
      this.push(null);
      queueMicrotask(() => this.destroy());
    }
  }

  _detach() {
    this.hub.streams.delete(this);
    if (this.hub.streams.size === 0 && this.hub.timer) {
      clearInterval(this.hub.timer);
      this.hub.timer = null;
    }
  }

  _final(callback) {
    this._close();
    this.push(null);
    callback();
  }

  _destroy(err, callback) {
    this._close();
    callback(err);
  }

  _close() {
    if (!this.hub.streams.has(this)) return;
    this._detach();
    this.pg.closeConnection(this.id);
  }
}

/** A new client of `pg` as a Duplex stream of RESP bytes. */
export function createConnection(pg) {
  return new PlaygroundStream(pg);
}

/**
 * ioredis's `Connector` option: `new Redis({ Connector: IoredisConnector, playground: pg })`
 * connects to `pg` in-process (ioredis passes its options, `playground` among them).
 */
export class IoredisConnector {
  constructor(options) {
    if (!options?.playground) throw new TypeError("IoredisConnector needs the `playground` option");
    this.pg = options.playground;
    this.connecting = false;
    this.stream = null;
  }

  check() {
    return true;
  }

  connect() {
    this.connecting = true;
    this.stream = createConnection(this.pg);
    this.connecting = false;
    return Promise.resolve(this.stream);
  }

  disconnect() {
    this.connecting = false;
    this.stream?.end();
  }
}

/**
 * Serves `pg` on a Unix socket `path` (or `{ port, host }`) from this process: every accepted
 * socket is piped to a new client. Resolves to the listening net.Server.
 */
export function serve(pg, where) {
  const server = createServer((socket) => {
    const stream = createConnection(pg);
    socket.pipe(stream).pipe(socket);
    socket.on("error", () => stream.destroy());
    socket.on("close", () => stream.destroy());
    stream.on("end", () => socket.end());
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(typeof where === "string" ? { path: where } : where, () => resolve(server));
  });
}
