// Types of redis-playground's module: the engine for programs (`Playground`).

/** A reply as a plain JS value (`call`, `batch`). */
export type Value =
  | string
  | number
  | bigint
  | boolean
  | null
  | Error
  | Uint8Array
  | Value[]
  | Map<Value, Value>
  | Set<Value>;

/** An argument: strings as UTF-8, Uint8Arrays as their bytes, numbers and bigints as decimal text. */
export type Arg = string | number | bigint | Uint8Array;

/** A reply as an object: its RESP type and value (`execute`, `executeArgs`, `drain`). */
export type Reply =
  | { type: "nil" }
  | { type: "status" | "error" | "bulk" | "verbatim" | "bignum"; value: string }
  | { type: "integer"; value: number | string }
  | { type: "double"; value: number | string }
  | { type: "boolean"; value: boolean }
  | { type: "array" | "set" | "push" | "multi"; value: Reply[] }
  | { type: "map" | "attribute"; value: [Reply, Reply][] };

/** A command's outcome: redis-cli's rendering and the reply (null when nothing ran). */
export interface Outcome {
  text: string;
  reply: Reply | null;
}

export interface PlaygroundOptions {
  /** Number of databases (`databases`), 16 by default. */
  databases?: number;
  /** Seed of the engine's randomness (SPOP, RANDOMKEY, ...), for repeatable runs. */
  seed?: number;
  /**
   * The port of the server's address label, 127.0.0.1:<port> (6379 by default): its prompt,
   * INFO server's tcp_port, CONFIG GET port and CLIENT LIST's laddr show it, so several
   * playgrounds are told apart as several servers. An integer from 1 to 65535 (RangeError
   * otherwise).
   */
  port?: number;
  /**
   * The caller replaces the engine, loaded from its last durable state, when a call throws a
   * `WebAssembly.RuntimeError` (a panic: the instance's memory can no longer be trusted). DEBUG
   * SEGFAULT, PANIC, ASSERT, OOM and CRASH-AND-RECOVER then crash the engine as they crash
   * redis-server, instead of being refused. False by default.
   */
  restartsOnCrash?: boolean;
}

/** A command of the table, for pages that list or teach commands. */
export interface CommandInfo {
  name: string;
  group: string;
  since: string;
  syntax: string;
  summary: string;
}

/** One command of an append-only file: its RESP lines (each ends with CRLF in the file:
 * `*3`, `$3`, `SET` ...; bytes outside printable ASCII written `\xHH`) and the command on one
 * line, quoted as MONITOR quotes it. */
export interface AofEntry {
  resp: string[];
  command: string;
}

/** One file of the append-only file: its base (an RDB preamble summarised by its keys and
 * function libraries, or commands) or its incremental file. */
export interface AofFile {
  name: string;
  type: "base" | "incr";
  rdb: boolean;
  /** Bytes in the file. */
  size: number;
  keys: number;
  functions: number;
  /** Bytes of the file that `entries` leave out (before them in an incremental file). */
  omitted: number;
  entries: AofEntry[];
}

/** The engine's append-only file: Redis 7.0's manifest (`appendonlydir/appendonly.aof.manifest`)
 * and the files it names. */
export interface AofState {
  /** `appendonly yes`: writes are appended now. */
  enabled: boolean;
  dir: string;
  manifestName: string;
  manifest: string;
  /** INFO persistence's aof_rewrites. */
  rewrites: number;
  /** The incremental file's size past which the engine rewrites on its own (memory bound). */
  cap: number;
  /** The last rewrite: why (BGREWRITEAOF, appendonly turned on, the bound, a load) and the
   * sizes before and after, in bytes. */
  lastRewrite: { reason: string; before: number; after: number } | null;
  /** Why the last DEBUG LOADAOF failed, if it did. */
  loadError: string | null;
  files: AofFile[];
}

/** One engine (a Redis server) and its clients. */
export class Playground {
  constructor(options?: PlaygroundOptions);
  /** Frees the engine's memory. */
  free(): void;
  /** The port of the server's address label (6379 unless given). */
  readonly port: number;
  /** "127.0.0.1:<port>", as the prompt and CLIENT LIST name the server. */
  readonly address: string;

  /** Opens a client; its id. */
  openClient(): number;
  closeClient(client: number): void;
  /** False once the server ended the client's connection (QUIT, CLIENT KILL, ...). */
  isConnected(client: number): boolean;

  /** Runs a line as redis-cli would (quotes, escapes). */
  execute(client: number, line: string): Outcome;
  /** Runs a command given as arguments. */
  executeArgs(client: number, argv: string[]): Outcome;
  /**
   * Runs a command; its reply as a plain value. Error replies are thrown as Errors; undefined
   * when the client blocked (the reply comes through `drain`).
   */
  call(client: number, args: Arg[]): Value | undefined;
  /** As `call`, with bulk strings as Uint8Arrays. */
  callBuffer(client: number, args: Arg[]): Value | undefined;
  /** Several commands in one crossing; an error reply is an Error in its place. */
  batch(client: number, commands: Arg[][]): (Value | undefined)[];
  /** As `batch`, with bulk strings as Uint8Arrays. */
  batchBuffer(client: number, commands: Arg[][]): (Value | undefined)[];
  /** The reply as the client's protocol (RESP2 or RESP3) encodes it. */
  callResp(client: number, args: Arg[]): Uint8Array;
  /** Nanoseconds per command of a SET+GET loop inside the engine (benchmarks). */
  benchLoop(n: number): number;

  /** Messages waiting for a client: pub/sub, replies of commands that were blocked. */
  drain(client: number): Outcome[];
  isBlocked(client: number): boolean;
  /** Ends a blocked client's wait as its timeout would. */
  unblock(client: number): boolean;
  /** Background work: active expiry, blocked clients' timeouts. Call a few times a second. */
  tick(): void;
  /** With true, a script past busy-reply-threshold is suspended every few milliseconds
   * (other clients get BUSY, SCRIPT KILL runs) instead of being ended there; the host then
   * calls runScriptSlice() until it returns false, and the script's client gets its reply
   * through drain(). */
  sliceScripts(on: boolean): void;
  /** Whether a script waits for runScriptSlice(). */
  scriptSuspended(): boolean;
  /** Runs the suspended script for one more slice; whether it is still suspended. */
  runScriptSlice(): boolean;

  /** A client that speaks RESP as bytes (for client libraries); its id. */
  openConnection(): number;
  /** Feeds bytes a library sent; what goes back to it. */
  write(connection: number, bytes: Uint8Array): Uint8Array;
  /** What arrived for a connection since (messages, replies of requests that waited). */
  read(connection: number): Uint8Array;
  connectionClosed(connection: number): boolean;
  closeConnection(connection: number): void;

  /** redis-cli's grey argument hint for what is typed. */
  hints(line: string): string | undefined;
  /** Command names starting with a prefix. */
  complete(prefix: string): string[];
  /** redis-cli's help text for a command, or `@group`. */
  help(command: string): string | undefined;
  commands(): CommandInfo[];
  /** The prompt, `127.0.0.1:6379[2]> `. */
  prompt(client: number): string;

  /** Every database as a Redis RDB file. */
  snapshot(): Uint8Array;
  /** Replaces every database with an RDB file's contents; throws (and keeps the data) if corrupt. */
  restore(bytes: Uint8Array): void;
  /** Changes since the last `markSaved`. */
  dirty(): number;
  markSaved(changes?: number): void;
  /** "save" or "bgsave" when a command asked for a snapshot, else null. */
  takeSaveRequest(): string | undefined;
  saveFinished(ok: boolean): void;
  /** LASTSAVE, in seconds. */
  lastSave(): number;
  /** The append-only file the engine keeps in memory once `CONFIG SET appendonly yes` ran
   * (and keeps after `appendonly no`), as Redis 7.0 writes it; null before it ever had one.
   * Each file shows at most `limit` bytes (65,536 by default) of its commands: the last ones
   * of the incremental file, the first ones of a base. */
  aof(limit?: number): AofState | null;

  /** Keys per database. */
  keyCounts(): Uint32Array;
  /** Bytes the engine holds: INFO used_memory, the module's allocations. */
  memory(): number;
  /** The maxmemory limit in bytes (0: none), the eviction policy and the keys evicted so far. */
  maxmemory(): { limit: number; policy: string; evicted: number };
  /** `[name, type, pttl, encoding, bytes]` for every live key matching (at most `limit`). */
  describeKeys(db: number, pattern: string, type: string, limit: number): [string, string, number, string, number][];

  /** Loads the stored snapshot at start; with a primary's host and port, as its replica
   * continuing from the snapshot's replication offset. */
  restoreStored(bytes: Uint8Array, host?: string, port?: number): void;
  /** Replication between servers of one program: the host moves the bytes. A replica wants a
   * connection to its primary (`linkWanted`), is told it is connecting, up or lost, is fed
   * what the primary sends (`linkFeed`) and gives what it sends (`takeLinkOutput`); the
   * primary sees the replica as a connection (`openConnection`, `write`) and gives what it
   * streams to each (`takeReplicaOutput`). */
  linkWanted(): { host: string; port: number; epoch: number } | undefined;
  linkEpoch(): number | undefined;
  linkConnecting(): void;
  linkEstablished(): void;
  linkLost(): void;
  linkFeed(bytes: Uint8Array): void;
  takeLinkOutput(): Uint8Array;
  takeReplicaOutput(): [number, Uint8Array][];
  /** What ROLE and INFO replication say, read without running a command. */
  replication(): ReplicationState;

  /** Cluster mode (`cluster-enabled yes`), once, after the snapshot is loaded: `nodesConf` is
   * the nodes.conf text stored last (absent: a new node). Returns the lines redis-server would
   * log; throws on a corrupt text, as redis-server refuses to start on it. */
  enableCluster(nodesConf?: string): string[];
  /** The nodes.conf text written since the last call, to store before the reply leaves. */
  takeNodesConf(): string | undefined;
  /** CLUSTER INFO (and with `withNodes` CLUSTER NODES) as text, without running a command;
   * null on a server that is no cluster node. */
  clusterView(withNodes: boolean): { info: string; nodes?: string } | null;
  /** The cluster bus between nodes of one program: the host connects links and moves their
   * bytes. A node connected to this node's bus port (→ the link's id; undefined when this
   * server is no cluster node). */
  busAccepted(peerIp: string, localIp: string): number | undefined;
  /** The connection a `connect` action asked for is up. */
  busConnected(link: number): void;
  /** Bytes arrived on a link. */
  busRead(link: number, bytes: Uint8Array): void;
  /** A link ended. */
  busClosed(link: number): void;
  /** The bus's periodic work, every 100 ms (pings, timeouts, failover). */
  busCron(): void;
  /** What the host must do now, in order. */
  busActions(): (["connect", number, string, number] | ["write", number, Uint8Array] | ["close", number])[];
  /** MIGRATE reaches other servers through `host(op, a, b)`: `("connect", host, port)` → a
   * handle (negative: nothing listens there), `("write", handle, bytes)` → the target's reply
   * bytes (null: gone), `("close", handle)`. Without it every target is unreachable. */
  setMigrateHost(host: (op: string, a: unknown, b?: unknown) => unknown): void;
}

export interface ReplicationState {
  role: "master" | "slave";
  replid: string;
  offset: number;
  failover: string;
  link: { host: string; port: number; state: string; lastIo: number; downSince: number } | null;
  replicas: { connection: number; ip: string; port: number; state: string; ack: number; lag: number }[];
}
