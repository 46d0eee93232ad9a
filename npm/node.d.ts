// Types of redis-playground/node: in-process connections for client libraries.
import type { Server } from "node:net";
import type { Duplex } from "node:stream";
import type { Playground } from "./index.js";

/** One client of a Playground as a Duplex stream of RESP bytes. */
export class PlaygroundStream extends Duplex {
  constructor(pg: Playground);
  readonly id: number;
  setNoDelay(noDelay?: boolean): this;
  setKeepAlive(enable?: boolean, initialDelay?: number): this;
  setTimeout(ms: number, callback?: () => void): this;
  ref(): this;
  unref(): this;
}

/** A new client of `pg` as a stream. */
export function createConnection(pg: Playground): PlaygroundStream;

/** ioredis's `Connector` option: `new Redis({ Connector: IoredisConnector, playground: pg })`. */
export class IoredisConnector {
  constructor(options: { playground: Playground });
  connecting: boolean;
  stream: PlaygroundStream | null;
  check(): boolean;
  connect(): Promise<PlaygroundStream>;
  disconnect(): void;
}

/** Serves `pg` on a Unix socket path (or a TCP port) from this process. */
export function serve(pg: Playground, where: string | { port: number; host?: string }): Promise<Server>;
