//! The WebAssembly face: the only file that touches wasm-bindgen.
//!
//! ```js
//! import init, { Playground } from "./pkg/redis_playground.js";
//! await init();
//! const pg = new Playground({ databases: 16 });
//! const c = pg.openClient();
//! pg.execute(c, 'SET greeting "hello world"');   // { text: "OK\n", reply: { type: "status", value: "OK" } }
//! pg.hints("SET greeting ");                     // "value [NX|XX] [GET] ..."
//! const bytes = pg.snapshot();                   // Uint8Array (a Redis RDB file)
//! pg.restore(bytes);                             // throws Error("...") if corrupt; data kept
//! const other = new Playground({ port: 6380 });  // another server: "127.0.0.1:6380> " ...
//! ```
//! Time comes from `Date.now()` (derived from the monotonic clock between readings of it on
//! the JS fast path, see `WallClock`), and command durations (SLOWLOG, LATENCY) from
//! `performance.now()`; everything else is the portable engine in [`crate::playground`].

use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Serialize, Serializer};
use wasm_bindgen::prelude::*;

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use crate::cluster::node::{BusAction, LinkId};
use crate::connection::ByteConnection;
use crate::engine::{ConfigFile, EngineOptions};
use crate::playground::{LineOutcome, Playground as Inner};
use crate::protocol::render::render_for;
use crate::protocol::Reply;

/// Every allocation of the module goes through this counter, so INFO used_memory and
/// maxmemory see the bytes the engine really holds in the page (see `engine::evict`). Under it,
/// Talc instead of the default dlmalloc: the engine makes many small allocations (keys,
/// values, replies), and Talc serves them faster in wasm.
#[global_allocator]
static ALLOCATOR: cap::Cap<talc::wasm::WasmDynamicTalc> =
    cap::Cap::new(talc::wasm::new_wasm_dynamic_allocator(), usize::MAX);

/// The allocator's count of bytes in use, for the engine.
fn allocated_bytes() -> u64 {
    ALLOCATOR.allocated() as u64
}

/// The JS half of the program API learns the module's memory once.
static IO_INIT: std::sync::Once = std::sync::Once::new();

fn now() -> i64 {
    js_sys::Date::now() as i64
}

/// A playground: one engine and its clients, as the page uses it.
#[wasm_bindgen]
pub struct Playground {
    inner: Inner,
    /// Clients fed RESP bytes (`openConnection`), by client id.
    connections: HashMap<u32, ByteConnection>,
    io: Io,
    /// The nodes.conf text a cluster node last wrote, until the host takes it to store it.
    nodes_conf: Rc<RefCell<Option<String>>>,
    /// The wall clock of the JS fast path's calls.
    wall: WallClock,
}

/// The `port` option: absent or undefined gives 6379; anything but an integer from 1 to
/// 65535 is refused.
fn option_port(options: &JsValue) -> Result<u16, JsValue> {
    let v = js_sys::Reflect::get(options, &JsValue::from_str("port")).unwrap_or(JsValue::UNDEFINED);
    if v.is_undefined() || v.is_null() {
        return Ok(EngineOptions::default().port);
    }
    match v.as_f64() {
        Some(p) if p.fract() == 0.0 && (1.0..=65535.0).contains(&p) => Ok(p as u16),
        _ => Err(js_sys::RangeError::new("port must be an integer from 1 to 65535").into()),
    }
}

/// Options read from the JS object given to the constructor.
fn option_u64(options: &JsValue, name: &str) -> Option<u64> {
    js_sys::Reflect::get(options, &JsValue::from_str(name))
        .ok()
        .and_then(|v| v.as_f64())
        .filter(|v| v.is_finite() && *v >= 0.0)
        .map(|v| v as u64)
}

/// Whether a boolean option is `true`.
fn option_bool(options: &JsValue, name: &str) -> bool {
    js_sys::Reflect::get(options, &JsValue::from_str(name)).is_ok_and(|v| v.as_bool() == Some(true))
}

static PANIC_HOOK: std::sync::Once = std::sync::Once::new();

/// The global property holding the last panic's message, for the host that restarts a crashed
/// engine to say what happened (the trap itself only says "unreachable").
const PANIC_PROPERTY: &str = "__redisPlaygroundPanic";

/// Logs a panic to the console with its stack, and keeps its message in [`PANIC_PROPERTY`].
fn report_panic(info: &std::panic::PanicHookInfo) {
    console_error_panic_hook::hook(info);
    let what = info.payload_as_str().unwrap_or("a panic");
    let message = match info.location() {
        Some(at) => format!("{what}, at {}:{}", at.file(), at.line()),
        None => what.to_string(),
    };
    let _ = js_sys::Reflect::set(
        &js_sys::global(),
        &JsValue::from_str(PANIC_PROPERTY),
        &JsValue::from_str(&message),
    );
}

/// The page's monotonic clock in microseconds.
fn monotonic_us() -> u64 {
    (clock_ms() * 1000.0) as u64
}

/// Wall-clock milliseconds for the JS fast path, derived from the monotonic reading JS
/// passes with each call (which also starts the command's timing): one clock read per call
/// instead of `Date.now()` and `performance.now()` both. `Date.now()` is read again whenever
/// [`WallClock::RESYNC_MS`] of monotonic time have passed since the last time, or the
/// reading goes back, so a change of the system clock (or a monotonic clock that stood still
/// while the machine slept) shows within that much time; in between, the two clocks advance
/// together, to within a millisecond.
#[derive(Default)]
struct WallClock {
    /// `Date.now()` at the last reading of it.
    wall_ms: f64,
    /// The monotonic reading (ms) it was taken at; None before the first.
    mono_ms: Option<f64>,
}

impl WallClock {
    const RESYNC_MS: f64 = 50.0;

    /// The wall clock (ms since the epoch) at the monotonic reading `mono_ms`.
    fn at(&mut self, mono_ms: f64) -> i64 {
        match self.mono_ms {
            Some(base) if (0.0..Self::RESYNC_MS).contains(&(mono_ms - base)) => {
                (self.wall_ms + (mono_ms - base)) as i64
            }
            _ => {
                self.wall_ms = js_sys::Date::now();
                self.mono_ms = Some(mono_ms);
                self.wall_ms as i64
            }
        }
    }
}

impl Playground {
    /// Runs the command whose arguments JS packed into the input buffer (`len` bytes) for
    /// `client`: its reply (the fast paths' shared first half).
    fn run_input(&mut self, client: u32, len: u32, clock_ms: f64) -> Option<Reply> {
        let now_ms = self.start_call(clock_ms);
        let io = &mut self.io;
        let len = (len as usize).min(io.input.len());
        unpack_all(&io.input[..len], &mut io.argv);
        let reply = self
            .inner
            .engine
            .execute(u64::from(client), &self.io.argv, now_ms);
        self.inner.aof_step(now_ms);
        reply
    }

    /// A fast-path call begins at `clock_ms`, the monotonic reading JS took as it made the
    /// call: the next command's timing starts from it. Returns the wall clock (ms) to run at.
    fn start_call(&mut self, clock_ms: f64) -> i64 {
        self.inner
            .engine
            .next_command_starts_at((clock_ms * 1000.0) as u64);
        self.wall.at(clock_ms)
    }

    /// The protocol to pack `reply` for: the client's, looked up only when it matters (a
    /// status, an integer or a string is packed the same for both).
    fn packing_proto(&self, client: u32, reply: &Reply) -> u8 {
        if same_in_both(reply) {
            2
        } else {
            self.inner.engine.proto(u64::from(client))
        }
    }
}

/// Whether `r` is packed the same for RESP2 and RESP3 clients (see [`pack_reply`]).
fn same_in_both(r: &Reply) -> bool {
    matches!(
        r,
        Reply::Status(_)
            | Reply::Error(_)
            | Reply::Integer(_)
            | Reply::Bulk(_)
            | Reply::Bulks(_)
            | Reply::Nil
            | Reply::NilArray
    )
}

#[wasm_bindgen]
impl Playground {
    /// `new Playground({ databases?: number, seed?: number, port?: number,
    /// restartsOnCrash?: boolean })`
    ///
    /// `port` (6379 by default) is the server's address label, `127.0.0.1:<port>`: the prompt,
    /// `INFO server` (`tcp_port`), `CONFIG GET port` and `CLIENT LIST` (`laddr`) show it, so
    /// several playgrounds in one page are told apart as several Redis servers would be.
    /// Throws a RangeError when `port` is not an integer from 1 to 65535.
    ///
    /// `restartsOnCrash`: the caller replaces this module instance with a fresh one, loaded
    /// from its last durable state, when a call traps (a panic is a bug: the instance's memory
    /// can no longer be trusted). DEBUG SEGFAULT, PANIC, ASSERT, OOM and CRASH-AND-RECOVER then
    /// crash the engine as they crash redis-server, instead of being refused.
    #[wasm_bindgen(constructor)]
    pub fn new(options: JsValue) -> Result<Playground, JsValue> {
        PANIC_HOOK.call_once(|| std::panic::set_hook(Box::new(report_panic)));
        let port = option_port(&options)?;
        let mut opts = EngineOptions {
            now_ms: now(),
            // Servers made in the same millisecond still draw different random numbers.
            seed: (now() as u64) ^ (u64::from(port) << 40),
            port,
            ..EngineOptions::default()
        };
        if let Some(n) = option_u64(&options, "databases") {
            opts.databases = n as usize;
        }
        if let Some(seed) = option_u64(&options, "seed") {
            opts.seed = seed;
        }
        let mut inner = Inner::new(opts);
        inner.engine.persist.crash_host = option_bool(&options, "restartsOnCrash");
        inner.engine.set_clock_us(Some(monotonic_us));
        inner.engine.set_memory_counter(Some(allocated_bytes));
        IO_INIT.call_once(|| io_init(wasm_bindgen::memory()));
        Ok(Playground {
            inner,
            connections: HashMap::new(),
            io: Io::default(),
            nodes_conf: Rc::default(),
            wall: WallClock::default(),
        })
    }

    /// `pg.port` → the port of the server's address label (6379 unless given).
    #[wasm_bindgen(getter)]
    pub fn port(&self) -> u16 {
        self.inner.engine.port
    }

    /// `pg.address` → `"127.0.0.1:6379"`: the address the server's prompt and CLIENT LIST show.
    #[wasm_bindgen(getter)]
    pub fn address(&self) -> String {
        self.inner.address()
    }

    /// `pg.openClient()` → client id (number)
    #[wasm_bindgen(js_name = openClient)]
    pub fn open_client(&mut self) -> u32 {
        self.inner.engine.open_client(now()) as u32
    }

    /// `pg.closeClient(id)`
    #[wasm_bindgen(js_name = closeClient)]
    pub fn close_client(&mut self, client: u32) {
        self.inner.engine.close_client(u64::from(client));
    }

    /// `pg.isConnected(client)` → false once the server ended the client's connection
    /// (QUIT, CLIENT KILL, its ACL user deleted): the page closes it and connects anew.
    #[wasm_bindgen(js_name = isConnected)]
    pub fn is_connected(&self, client: u32) -> bool {
        self.inner
            .engine
            .clients
            .get(&u64::from(client))
            .is_some_and(|c| !c.closing)
    }

    /// `pg.execute(client, line)` → `{ text, reply }`: the redis-cli rendering and the reply
    /// (`reply` is null when nothing ran: a blank line or unbalanced quotes).
    pub fn execute(&mut self, client: u32, line: &str) -> JsValue {
        let out = self.inner.execute_line(u64::from(client), line, now());
        outcome_to_js(&out)
    }

    /// `pg.executeArgs(client, ["SET", "k", "v"])` → `{ text, reply }`, for programs.
    #[wasm_bindgen(js_name = executeArgs)]
    pub fn execute_args(&mut self, client: u32, argv: Vec<String>) -> JsValue {
        let argv: Vec<Vec<u8>> = argv.into_iter().map(String::into_bytes).collect();
        let id = u64::from(client);
        let now = now();
        let reply = self.inner.engine.execute(id, &argv, now);
        self.inner.aof_step(now);
        let text = reply
            .as_ref()
            .map(|r| self.inner.render(id, &argv, r))
            .unwrap_or_default();
        outcome_to_js(&LineOutcome { text, reply })
    }

    /// `pg.call(client, ["SET", "k", value])` → the reply as a plain JS value, for programs:
    /// arguments are strings, numbers or Uint8Arrays (bytes as they are); a status or bulk
    /// string comes back as a string, an integer as a number (a BigInt beyond 2^53), nil as
    /// null, an array as an Array (RESP3 maps as Maps, sets as Sets), and an error reply is
    /// thrown as an Error with Redis's text. Undefined when there is no reply (a blocked
    /// client; its reply comes through `drain`).
    pub fn call(&mut self, client: u32, args: &JsValue) -> Result<JsValue, JsValue> {
        self.call_packed(client, args, false)
    }

    /// `pg.callBuffer(client, args)` → as `call`, with bulk strings as Uint8Arrays: binary
    /// safe.
    #[wasm_bindgen(js_name = callBuffer)]
    pub fn call_buffer(&mut self, client: u32, args: &JsValue) -> Result<JsValue, JsValue> {
        self.call_packed(client, args, true)
    }

    /// `pg.batch(client, [["SET", "k", "v"], ["GET", "k"]])` → one value per command, as
    /// `call` gives them, in one crossing; an error reply is an Error object in its place.
    /// Every command's arguments are checked (a TypeError) before any command runs.
    pub fn batch(&mut self, client: u32, commands: &JsValue) -> Result<js_sys::Array, JsValue> {
        self.batch_packed(client, commands, false)
    }

    /// `pg.batchBuffer(client, commands)` → as `batch`, with bulk strings as Uint8Arrays
    /// (as `callBuffer` gives them): binary safe.
    #[wasm_bindgen(js_name = batchBuffer)]
    pub fn batch_buffer(
        &mut self,
        client: u32,
        commands: &JsValue,
    ) -> Result<js_sys::Array, JsValue> {
        self.batch_packed(client, commands, true)
    }

    /// `pg.callResp(client, args)` → Uint8Array: the reply as the client's protocol encodes
    /// it (RESP2 or RESP3), for code that speaks RESP; empty when there is no reply.
    #[wasm_bindgen(js_name = callResp)]
    pub fn call_resp(&mut self, client: u32, args: &JsValue) -> Result<Vec<u8>, JsValue> {
        let reply = self.run_args(client, args)?;
        let proto = self.inner.engine.proto(u64::from(client));
        Ok(reply.map(|r| r.to_resp(proto)).unwrap_or_default())
    }

    /// `pg.__ioMailbox()` → the address of four u32s through which the JS fast path of
    /// `call`, `callBuffer`, `callResp`, `batch` and `batchBuffer` (src/wasm_io.js, installed by `installFastCalls`)
    /// talks to this playground: where JS packs arguments and how much room there is, then
    /// where the last reply was packed and its length. Rewritten by every call below.
    #[wasm_bindgen(js_name = __ioMailbox)]
    pub fn io_mailbox(&mut self) -> u32 {
        self.io.reserve(IO_START);
        self.io.post();
        self.io.mailbox.as_ptr() as u32
    }

    /// `pg.__ioReserve(bytes)` → the input buffer's new address, with room for `bytes` (what
    /// JS asked for, bounded by the arguments it holds).
    #[wasm_bindgen(js_name = __ioReserve)]
    pub fn io_reserve(&mut self, bytes: u32) -> u32 {
        self.io.reserve(bytes as usize);
        self.io.post();
        self.io.input.as_ptr() as u32
    }

    /// `pg.__runPacked(client, len, clockMs)` → the length of the packed reply (0: no
    /// reply): runs the command whose arguments JS packed into the input buffer (`len`
    /// bytes), the one crossing of the JS fast path of `call`. `clockMs` is the monotonic
    /// clock (`clockMs` of src/wasm_io.js) read as the call began (see [`WallClock`]).
    #[wasm_bindgen(js_name = __runPacked)]
    pub fn run_packed(&mut self, client: u32, len: u32, clock_ms: f64) -> u32 {
        let reply = self.run_input(client, len, clock_ms);
        let proto = reply.as_ref().map_or(2, |r| self.packing_proto(client, r));
        let io = &mut self.io;
        // The previous reply was read by now, and the arguments were split out.
        io.trim();
        let n = match reply {
            Some(r) => {
                io.start();
                pack_reply(&r, proto, &mut io.out, &mut io.heap);
                io.finish();
                io.out.len() as u32
            }
            None => 0,
        };
        io.post();
        n
    }

    /// `pg.__runResp(client, len, clockMs)` → the length of the reply encoded as the client's
    /// protocol encodes it (0: no reply), left where the mailbox says: the one crossing of the
    /// JS fast path of `callResp` (`clockMs` as for `__runPacked`).
    #[wasm_bindgen(js_name = __runResp)]
    pub fn run_resp(&mut self, client: u32, len: u32, clock_ms: f64) -> u32 {
        let reply = self.run_input(client, len, clock_ms);
        let proto = self.inner.engine.proto(u64::from(client));
        let io = &mut self.io;
        io.trim();
        io.out.clear();
        if let Some(r) = reply {
            r.encode(proto, &mut io.out);
        }
        io.post();
        io.out.len() as u32
    }

    /// `pg.__runBatch(client, len, clockMs)` → the length of the packed array of replies: the
    /// one crossing of the JS fast path of `batch` and `batchBuffer` (commands packed as
    /// `packBatch` does; `clockMs` as for `__runPacked`).
    #[wasm_bindgen(js_name = __runBatch)]
    pub fn run_batch(&mut self, client: u32, len: u32, clock_ms: f64) -> u32 {
        let now_ms = self.start_call(clock_ms);
        let packed = std::mem::take(&mut self.io.input);
        let n = (len as usize).min(packed.len());
        self.io.trim();
        self.run_batch_packed(u64::from(client), &packed[..n], now_ms);
        self.io.input = packed;
        self.io.trim_input();
        self.io.post();
        self.io.out.len() as u32
    }

    /// `pg.benchLoop(n)` → nanoseconds per command of [`crate::playground::set_get_loop`]
    /// (`n` SETs and `n` GETs with no JS in between), the loop `cargo bench --bench commands`
    /// times natively: `make bench` compares the two.
    #[wasm_bindgen(js_name = benchLoop)]
    pub fn bench_loop(&mut self, n: u32) -> f64 {
        let start = clock_ms();
        crate::playground::set_get_loop(&mut self.inner.engine, n);
        let ms = clock_ms() - start;
        ms * 1e6 / (2.0 * f64::from(n.max(1)))
    }

    /// `pg.hints(line)` → the grey argument hint for what is typed, or undefined.
    pub fn hints(&self, line: &str) -> Option<String> {
        self.inner.hints(line)
    }

    /// `pg.complete(prefix)` → command names starting with the prefix.
    pub fn complete(&self, prefix: &str) -> Vec<String> {
        self.inner.complete(prefix)
    }

    /// `pg.help("set")` → redis-cli's help text for a command (`pg.help("@string")` for a
    /// group), or undefined.
    pub fn help(&self, command: &str) -> Option<String> {
        self.inner.help(command)
    }

    /// `pg.commands()` → every command and subcommand of the table, sorted by name:
    /// `[{ name: "CONFIG GET", group: "server", since: "2.0.0", syntax: "parameter ...",
    /// summary: "..." }, ...]`, for pages that list or teach commands.
    pub fn commands(&self) -> js_sys::Array {
        let out = js_sys::Array::new();
        for m in crate::playground::command_metadata() {
            let o = js_sys::Object::new();
            let set = |k: &str, v: &str| {
                let _ = js_sys::Reflect::set(&o, &JsValue::from_str(k), &JsValue::from_str(v));
            };
            set("name", &m.name);
            set("group", m.group);
            set("since", m.since);
            set("syntax", &m.syntax);
            set("summary", m.summary);
            out.push(&o);
        }
        out
    }

    /// `pg.prompt(client)` → `"127.0.0.1:6379[2]> "`.
    pub fn prompt(&self, client: u32) -> String {
        self.inner.prompt(u64::from(client))
    }

    /// `pg.snapshot()` → Uint8Array holding every database as a Redis RDB file, with the
    /// replication history (`repl-id`, `repl-offset`) when the server is in one, as Redis's
    /// saves carry it.
    pub fn snapshot(&self) -> Vec<u8> {
        self.inner.engine.stored_snapshot(now())
    }

    /// `pg.restoreStored(bytes, host?, port?)`: loads the server's stored snapshot as it
    /// starts, as `restore` does; with a primary's `host` and `port` the server is its replica
    /// and asks it to continue from the snapshot's replication offset (a partial resync when
    /// the primary still holds it), and without them a primary keeps the snapshot's history
    /// for its replicas to continue. Throws as `restore` does.
    #[wasm_bindgen(js_name = restoreStored)]
    pub fn restore_stored(
        &mut self,
        bytes: &[u8],
        host: Option<String>,
        port: Option<u16>,
    ) -> Result<(), JsError> {
        let eng = &mut self.inner.engine;
        let primary = host.as_deref().zip(port);
        eng.load_stored_snapshot(bytes, primary, now())
            .map_err(|e| JsError::new(&e))?;
        eng.dirty = 0;
        Ok(())
    }

    /// `pg.restore(bytes)`: replaces every database with the snapshot's contents; throws an
    /// Error saying why when the snapshot is corrupt or foreign, leaving the data as it was.
    pub fn restore(&mut self, bytes: &[u8]) -> Result<(), JsError> {
        let eng = &mut self.inner.engine;
        let now = now();
        eng.load_snapshot(bytes, now)
            .map_err(|e| JsError::new(&e))?;
        eng.dirty = 0;
        Ok(())
    }

    /// `pg.dirty()` → number of changes since the last `markSaved()`.
    pub fn dirty(&self) -> f64 {
        self.inner.engine.dirty as f64
    }

    /// `pg.markSaved(changes?)`: the page stored a snapshot; sets LASTSAVE and forgets the
    /// `changes` counted when the snapshot was taken (all of them when omitted). Writes made
    /// while the snapshot was being stored stay counted, as Redis does after a BGSAVE.
    #[wasm_bindgen(js_name = markSaved)]
    pub fn mark_saved(&mut self, changes: Option<f64>) {
        let eng = &mut self.inner.engine;
        eng.dirty = match changes {
            Some(n) if n.is_finite() && n >= 0.0 => eng.dirty.saturating_sub(n as u64),
            _ => 0,
        };
        eng.last_save_s = now() / 1000;
    }

    /// `pg.takeSaveRequest()` → `"save"`, `"bgsave"` or null: a snapshot the engine was asked
    /// for (SAVE, BGSAVE, a `save` rule) that the page should store now, then report with
    /// `saveFinished(ok)`.
    #[wasm_bindgen(js_name = takeSaveRequest)]
    pub fn take_save_request(&mut self) -> Option<String> {
        use crate::engine::SaveRequest;
        self.inner.engine.take_save_request().map(|r| match r {
            SaveRequest::Now => "save".to_string(),
            SaveRequest::Background => "bgsave".to_string(),
        })
    }

    /// `pg.saveFinished(ok)`: the page stored (or failed to store) the requested snapshot.
    /// The change counter and LASTSAVE were already moved by `markSaved`; this ends the
    /// background save INFO shows and records its status.
    #[wasm_bindgen(js_name = saveFinished)]
    pub fn save_finished(&mut self, ok: bool) {
        let p = &mut self.inner.engine.persist;
        p.bgsave_in_progress = false;
        p.last_failed = !ok;
    }

    /// `pg.drain(client)` → `[{ text, reply }, ...]`: messages waiting for the client
    /// (pub/sub messages, replies of commands that were blocked).
    pub fn drain(&mut self, client: u32) -> JsValue {
        let id = u64::from(client);
        let proto = self.inner.engine.proto(id);
        let msgs = match self.inner.engine.client_mut(id) {
            Some(c) => std::mem::take(&mut c.outbox),
            None => Vec::new(),
        };
        let arr = js_sys::Array::new();
        for reply in msgs {
            let text = render_for(&reply, proto);
            arr.push(&outcome_to_js(&LineOutcome {
                text,
                reply: Some(reply),
            }));
        }
        arr.into()
    }

    /// `pg.isBlocked(client)` → whether the client waits in a blocking command (BLPOP ...),
    /// or for a script suspended between slices; its reply comes through `drain(client)`.
    #[wasm_bindgen(js_name = isBlocked)]
    pub fn is_blocked(&self, client: u32) -> bool {
        let id = u64::from(client);
        self.inner.engine.is_blocked(id) || self.inner.engine.script_slice_client() == Some(id)
    }

    /// `pg.sliceScripts(on)`: with `true`, a script that runs past `busy-reply-threshold` is
    /// suspended every few milliseconds instead of holding the caller until it ends (then it
    /// ends there with an error): `execute` returns, other clients get BUSY (SCRIPT KILL,
    /// FUNCTION KILL and SHUTDOWN NOSAVE run), and the host calls `runScriptSlice()` until it
    /// returns false; the script's client gets its reply through `drain(client)`. The
    /// page's worker turns it on, so a second tab can kill a runaway script.
    #[wasm_bindgen(js_name = sliceScripts)]
    pub fn slice_scripts(&mut self, on: bool) {
        self.inner.engine.scripts.sliced = on;
    }

    /// `pg.scriptSuspended()` → whether a script waits for `runScriptSlice()`.
    #[wasm_bindgen(js_name = scriptSuspended)]
    pub fn script_suspended(&self) -> bool {
        self.inner.engine.script_slice_client().is_some()
    }

    /// `pg.runScriptSlice()` → whether the script is still suspended after running for one
    /// more slice (see `sliceScripts`).
    #[wasm_bindgen(js_name = runScriptSlice)]
    pub fn run_script_slice(&mut self) -> bool {
        let now = now();
        let suspended = self.inner.engine.run_script_slice(now);
        self.inner.aof_step(now);
        suspended
    }

    /// `pg.unblock(client)` → whether it was blocked: ends its wait as its timeout would (the
    /// page's Ctrl+C); the reply comes through `drain(client)`.
    pub fn unblock(&mut self, client: u32) -> bool {
        let now = now();
        let was = self.inner.engine.unblock(u64::from(client), None, now);
        self.inner.aof_step(now);
        was
    }

    /// `pg.tick()`: background work (active expiry); the page calls it a few times a second.
    pub fn tick(&mut self) {
        let now = now();
        self.inner.engine.tick(now);
        self.inner.aof_step(now);
    }

    /// `pg.keyCounts()` → keys per database (for the status line).
    #[wasm_bindgen(js_name = keyCounts)]
    pub fn key_counts(&self) -> Vec<u32> {
        self.inner
            .engine
            .dbs
            .iter()
            .map(|d| d.len() as u32)
            .collect()
    }

    /// `pg.memory()` → bytes the engine holds (INFO used_memory: the module's allocations).
    pub fn memory(&self) -> f64 {
        self.inner.engine.used_memory() as f64
    }

    /// `pg.maxmemory()` → `{ limit, policy, evicted }`: the maxmemory limit in bytes (0: none),
    /// the eviction policy and the keys evicted since start, for the status line.
    pub fn maxmemory(&self) -> JsValue {
        let e = &self.inner.engine;
        let o = js_sys::Object::new();
        let set = |k: &str, v: JsValue| {
            let _ = js_sys::Reflect::set(&o, &JsValue::from_str(k), &v);
        };
        set("limit", JsValue::from_f64(e.config.maxmemory as f64));
        set("policy", JsValue::from_str(&e.config.maxmemory_policy));
        set("evicted", JsValue::from_f64(e.memory.evicted_keys as f64));
        o.into()
    }

    /// `pg.describeKeys(db, pattern, type, limit)` → `[[name, type, pttl, encoding, bytes],
    /// ...]`: for the page's inspector, what `SCAN 0 MATCH pattern TYPE type`, `TYPE`, `PTTL`,
    /// `OBJECT ENCODING` and `MEMORY USAGE` would answer for every live key (at most `limit`),
    /// read without running commands: no key is touched, expired or counted as a hit. An empty
    /// `type` means any type; names are shown as UTF-8 (invalid bytes replaced).
    #[wasm_bindgen(js_name = describeKeys)]
    pub fn describe_keys(
        &self,
        db: u32,
        pattern: &str,
        type_filter: &str,
        limit: u32,
    ) -> js_sys::Array {
        let out = js_sys::Array::new();
        let eng = &self.inner.engine;
        let Some(d) = eng.dbs.get(db as usize) else {
            return out;
        };
        let now = now();
        let fill = eng.config.list_max_listpack_size;
        let mut n = 0u32;
        for (key, e, expire_at) in d.iter_with_expiry() {
            if n >= limit {
                break;
            }
            if expire_at.is_some_and(|at| at <= now)
                || (!type_filter.is_empty() && e.value.type_name() != type_filter)
                || !crate::util::glob::glob_match(pattern.as_bytes(), key, false)
            {
                continue;
            }
            n += 1;
            let row = js_sys::Array::new();
            row.push(&JsValue::from_str(&String::from_utf8_lossy(key)));
            row.push(&JsValue::from_str(e.value.type_name()));
            row.push(&JsValue::from_f64(
                expire_at.map_or(-1.0, |at| (at - now) as f64),
            ));
            row.push(&JsValue::from_str(e.value.encoding_name()));
            let bytes = crate::memory::key_usage(key, &e.value, 5, fill);
            row.push(&JsValue::from_f64(bytes as f64));
            out.push(&row);
        }
        out
    }

    /// `pg.aof(limit?)` → the append-only file the server keeps in memory while `appendonly`
    /// is yes (and keeps after it is turned off), or null before it ever had one:
    /// `{ enabled, dir, manifestName, manifest, rewrites, cap, lastRewrite, loadError, files }`.
    /// `lastRewrite` is `{ reason, before, after }` (sizes in bytes) or null; each file is
    /// `{ name, type: "base" | "incr", rdb, size, keys, functions, omitted, entries }`, an RDB
    /// base summarised by `keys` and `functions`, the others by their commands: the last ones
    /// of an incremental file (the first ones of a base) that fit in `limit` bytes (65,536
    /// unless given), `omitted` bytes left out; an entry is `{ resp: [line, ...], command }`,
    /// the RESP lines as the file holds them (each ends with CRLF there) and the command
    /// quoted on one line.
    pub fn aof(&self, limit: Option<u32>) -> JsValue {
        let limit = limit.map_or(65_536, |n| n as usize);
        let Some(view) = self.inner.aof.view(&self.inner.engine, limit) else {
            return JsValue::NULL;
        };
        let set = |o: &js_sys::Object, k: &str, v: JsValue| {
            let _ = js_sys::Reflect::set(o, &JsValue::from_str(k), &v);
        };
        let num = |n: usize| JsValue::from_f64(n as f64);
        let o = js_sys::Object::new();
        set(&o, "enabled", view.enabled.into());
        set(&o, "dir", view.dir.into());
        set(&o, "manifestName", view.manifest_name.into());
        set(&o, "manifest", view.manifest.into());
        set(&o, "rewrites", JsValue::from_f64(view.rewrites as f64));
        set(&o, "cap", num(view.cap));
        set(
            &o,
            "loadError",
            view.load_error.map_or(JsValue::NULL, JsValue::from),
        );
        let last = match view.last_rewrite {
            Some(r) => {
                let l = js_sys::Object::new();
                set(&l, "reason", r.reason.into());
                set(&l, "before", num(r.before));
                set(&l, "after", num(r.after));
                l.into()
            }
            None => JsValue::NULL,
        };
        set(&o, "lastRewrite", last);
        let files = js_sys::Array::new();
        for f in view.files {
            let fo = js_sys::Object::new();
            set(&fo, "name", f.name.into());
            set(
                &fo,
                "type",
                (if f.kind == b'b' { "base" } else { "incr" }).into(),
            );
            set(&fo, "rdb", f.rdb.into());
            set(&fo, "size", num(f.size));
            set(&fo, "keys", JsValue::from_f64(f.keys as f64));
            set(&fo, "functions", num(f.functions));
            set(&fo, "omitted", num(f.omitted));
            let entries = js_sys::Array::new();
            for e in f.entries {
                let eo = js_sys::Object::new();
                let resp: js_sys::Array = e.resp.into_iter().map(JsValue::from).collect();
                set(&eo, "resp", resp.into());
                set(&eo, "command", e.command.into());
                entries.push(&eo);
            }
            set(&fo, "entries", entries.into());
            files.push(&fo);
        }
        set(&o, "files", files.into());
        o.into()
    }

    /// `pg.lastSave()` → LASTSAVE, in seconds since the epoch.
    #[wasm_bindgen(js_name = lastSave)]
    pub fn last_save(&self) -> f64 {
        self.inner.engine.last_save_s as f64
    }

    /// `pg.openConnection()` → client id: a client that speaks RESP as bytes, for a client
    /// library (ioredis, node-redis) connected in-process instead of through a socket.
    #[wasm_bindgen(js_name = openConnection)]
    pub fn open_connection(&mut self) -> u32 {
        let conn = ByteConnection::open(&mut self.inner.engine, now());
        let id = conn.id as u32;
        self.connections.insert(id, conn);
        id
    }

    /// `pg.write(connection, bytes)` → Uint8Array: runs the complete requests in what the
    /// library sent (a partial request waits for the rest) and answers what goes back to it.
    pub fn write(&mut self, connection: u32, bytes: &[u8]) -> Result<Vec<u8>, JsError> {
        let Some(conn) = self.connections.get_mut(&connection) else {
            return Err(JsError::new("no such connection"));
        };
        let now = now();
        let out = conn.write(&mut self.inner.engine, bytes, now);
        self.inner.aof_step(now);
        Ok(out)
    }

    /// `pg.read(connection)` → Uint8Array: what arrived for it since (pub/sub messages, the
    /// reply of a blocking command served by another client), and the replies of requests that
    /// waited while it was blocked. A host calls it after other clients' commands and ticks.
    pub fn read(&mut self, connection: u32) -> Result<Vec<u8>, JsError> {
        let Some(conn) = self.connections.get_mut(&connection) else {
            return Err(JsError::new("no such connection"));
        };
        Ok(conn.read(&mut self.inner.engine, now()))
    }

    /// `pg.connectionClosed(connection)` → whether the server ended it (QUIT, a protocol
    /// error, CLIENT KILL): the library sees its socket close.
    #[wasm_bindgen(js_name = connectionClosed)]
    pub fn connection_closed(&self, connection: u32) -> bool {
        self.connections
            .get(&connection)
            .is_none_or(|c| c.is_closed(&self.inner.engine))
    }

    /// `pg.closeConnection(connection)`: the library closed it.
    #[wasm_bindgen(js_name = closeConnection)]
    pub fn close_connection(&mut self, connection: u32) {
        if let Some(mut conn) = self.connections.remove(&connection) {
            conn.close(&mut self.inner.engine);
        }
    }
}

/// Cluster mode (`cluster-enabled yes`) for a server of the page, whose host keeps its
/// nodes.conf as text.
#[wasm_bindgen]
impl Playground {
    /// `pg.enableCluster(nodesConf?)` → the lines redis-server would log about the data
    /// loaded: makes this server a cluster node, once, after its snapshot is loaded (as
    /// redis-server reads nodes.conf after the data). `nodesConf` is the text stored last
    /// (absent: a new node with a new ID). Throws when the text is corrupt, as redis-server
    /// refuses to start on it.
    #[wasm_bindgen(js_name = enableCluster)]
    pub fn enable_cluster(&mut self, nodes_conf: Option<String>) -> Result<Vec<String>, JsError> {
        let eng = &mut self.inner.engine;
        if eng.cluster.is_some() {
            return Ok(Vec::new());
        }
        let out = Rc::clone(&self.nodes_conf);
        let text = nodes_conf.unwrap_or_default();
        let file = ConfigFile {
            read: Box::new(move || Ok(text.clone())),
            write: Box::new(move |t: &str| {
                *out.borrow_mut() = Some(t.to_string());
                Ok(())
            }),
        };
        eng.config.set_at_startup("cluster-enabled", "yes");
        let now = now();
        eng.enable_cluster(Some(file), now)
            .map_err(|e| JsError::new(&e))?;
        eng.cluster_verify_data(now).map_err(|e| JsError::new(&e))
    }

    /// `pg.takeNodesConf()` → the nodes.conf text written since the last call (the host
    /// stores it before it answers the command that changed it), or undefined.
    #[wasm_bindgen(js_name = takeNodesConf)]
    pub fn take_nodes_conf(&mut self) -> Option<String> {
        self.nodes_conf.borrow_mut().take()
    }

    /// `pg.clusterView(withNodes)` → `{ info, nodes? }`, the texts of CLUSTER INFO and (with
    /// `withNodes`) CLUSTER NODES, read without running a command; null when the server is
    /// no cluster node.
    #[wasm_bindgen(js_name = clusterView)]
    pub fn cluster_view(&self, with_nodes: bool) -> JsValue {
        let Some(c) = self.inner.engine.cluster.as_deref() else {
            return JsValue::NULL;
        };
        let o = js_sys::Object::new();
        if with_nodes {
            let nodes = c.state.nodes_text(false);
            let _ = js_sys::Reflect::set(&o, &"nodes".into(), &nodes.into());
        }
        let info = c.state.info_text(&c.bus.stats_sent, &c.bus.stats_received);
        let _ = js_sys::Reflect::set(&o, &"info".into(), &info.into());
        o.into()
    }
}

/// The cluster bus between the nodes of one page: the host (the worker) connects links and
/// moves their bytes, as the native server does with sockets (see `crate::cluster::node`).
#[wasm_bindgen]
impl Playground {
    /// `pg.busAccepted(peerIp, localIp)` → the new link's id: a node connected to this
    /// node's bus port; undefined when this server is no cluster node (the host closes it).
    #[wasm_bindgen(js_name = busAccepted)]
    pub fn bus_accepted(&mut self, peer_ip: &str, local_ip: &str) -> Option<f64> {
        let eng = &mut self.inner.engine;
        eng.cluster_bus_accepted(peer_ip, local_ip, now())
            .map(|l| l as f64)
    }

    /// `pg.busConnected(link)`: the connection a `connect` action asked for is up.
    #[wasm_bindgen(js_name = busConnected)]
    pub fn bus_connected(&mut self, link: f64) {
        self.inner
            .engine
            .cluster_bus_connected(link as LinkId, now());
    }

    /// `pg.busRead(link, bytes)`: bytes arrived on a link.
    #[wasm_bindgen(js_name = busRead)]
    pub fn bus_read(&mut self, link: f64, bytes: &[u8]) {
        self.inner
            .engine
            .cluster_bus_read(link as LinkId, bytes, now());
    }

    /// `pg.busClosed(link)`: a link ended (the connection failed or the other side closed).
    #[wasm_bindgen(js_name = busClosed)]
    pub fn bus_closed(&mut self, link: f64) {
        self.inner.engine.cluster_bus_closed(link as LinkId, now());
    }

    /// `pg.busCron()`: the bus's periodic work, every 100 ms (pings, timeouts, failover).
    #[wasm_bindgen(js_name = busCron)]
    pub fn bus_cron(&mut self) {
        self.inner.engine.cluster_bus_cron(now());
    }

    /// `pg.busActions()` → what the host must do now, in order: `["connect", link, ip,
    /// port]`, `["write", link, Uint8Array]`, `["close", link]`.
    #[wasm_bindgen(js_name = busActions)]
    pub fn bus_actions(&mut self) -> js_sys::Array {
        let out = js_sys::Array::new();
        for a in self.inner.engine.cluster_bus_actions() {
            let item = match a {
                BusAction::Connect { link, ip, port } => js_sys::Array::of4(
                    &"connect".into(),
                    &JsValue::from_f64(link as f64),
                    &JsValue::from_str(&ip),
                    &JsValue::from(port),
                ),
                BusAction::Write { link, bytes } => js_sys::Array::of3(
                    &"write".into(),
                    &JsValue::from_f64(link as f64),
                    &js_sys::Uint8Array::from(bytes.as_slice()),
                ),
                BusAction::Close { link } => {
                    js_sys::Array::of2(&"close".into(), &JsValue::from_f64(link as f64))
                }
            };
            out.push(&item);
        }
        out
    }
}

/// MIGRATE between servers of one page: a connection to the target is a client of its engine,
/// which answers at once, so MIGRATE stays synchronous as in Redis. `host(op, a, b)` is the
/// worker's: `("connect", host, port)` → a handle (a number; negative: nothing listens
/// there), `("write", handle, Uint8Array)` → the target's reply bytes (null: gone),
/// `("close", handle)`.
struct PageMigrate {
    host: js_sys::Function,
    conns: HashMap<String, PageConn>,
}

/// One cached connection to a target server of the page.
struct PageConn {
    host: js_sys::Function,
    handle: f64,
    input: Vec<u8>,
    last_dbid: i64,
    last_use_ms: i64,
}

/// Redis caches at most this many MIGRATE connections.
const MIGRATE_CACHED: usize = 64;
/// And closes those unused this long.
const MIGRATE_IDLE_MS: i64 = 10_000;

impl crate::engine::migrate::MigrateConn for PageConn {
    fn last_dbid(&self) -> i64 {
        self.last_dbid
    }

    fn set_last_dbid(&mut self, db: i64) {
        self.last_dbid = db;
    }

    fn write_all(
        &mut self,
        bytes: &[u8],
        _timeout_ms: u64,
    ) -> Result<(), crate::engine::migrate::IoFailure> {
        use crate::engine::migrate::IoFailure;
        let data = js_sys::Uint8Array::from(bytes);
        let answer = self
            .host
            .call3(
                &JsValue::NULL,
                &"write".into(),
                &JsValue::from_f64(self.handle),
                &data,
            )
            .map_err(|_| IoFailure::Broken)?;
        if answer.is_null() || answer.is_undefined() {
            return Err(IoFailure::Broken);
        }
        self.input
            .extend_from_slice(&js_sys::Uint8Array::new(&answer).to_vec());
        self.last_use_ms = now();
        Ok(())
    }

    fn read_line(
        &mut self,
        _timeout_ms: u64,
    ) -> Result<Vec<u8>, crate::engine::migrate::IoFailure> {
        // The target answered synchronously: a line not there now never comes.
        match self.input.windows(2).position(|w| w == b"\r\n") {
            Some(i) => {
                let line = self.input[..i].to_vec();
                self.input.drain(..i + 2);
                Ok(line)
            }
            None => Err(crate::engine::migrate::IoFailure::TimedOut),
        }
    }
}

impl PageMigrate {
    fn drop_conn(&self, c: &PageConn) {
        let _ = self.host.call2(
            &JsValue::NULL,
            &"close".into(),
            &JsValue::from_f64(c.handle),
        );
    }
}

impl crate::engine::migrate::MigrateHost for PageMigrate {
    fn connect(
        &mut self,
        host: &[u8],
        port: &[u8],
        _timeout_ms: u64,
    ) -> Option<&mut dyn crate::engine::migrate::MigrateConn> {
        let host = String::from_utf8_lossy(host).into_owned();
        let port = String::from_utf8_lossy(port).into_owned();
        let key = format!("{host}:{port}");
        if !self.conns.contains_key(&key) {
            if self.conns.len() >= MIGRATE_CACHED {
                if let Some(k) = self.conns.keys().next().cloned() {
                    if let Some(c) = self.conns.remove(&k) {
                        self.drop_conn(&c);
                    }
                }
            }
            let handle = self
                .host
                .call3(
                    &JsValue::NULL,
                    &"connect".into(),
                    &JsValue::from_str(&host),
                    &JsValue::from_str(&port),
                )
                .ok()?
                .as_f64()?;
            if handle < 0.0 {
                return None;
            }
            self.conns.insert(
                key.clone(),
                PageConn {
                    host: self.host.clone(),
                    handle,
                    input: Vec::new(),
                    last_dbid: -1,
                    last_use_ms: now(),
                },
            );
        }
        let c = self.conns.get_mut(&key)?;
        c.last_use_ms = now();
        Some(c)
    }

    fn close(&mut self, host: &[u8], port: &[u8]) {
        let key = format!(
            "{}:{}",
            String::from_utf8_lossy(host),
            String::from_utf8_lossy(port)
        );
        if let Some(c) = self.conns.remove(&key) {
            self.drop_conn(&c);
        }
    }

    fn close_idle(&mut self, now_ms: i64) {
        let idle: Vec<String> = self
            .conns
            .iter()
            .filter(|(_, c)| now_ms - c.last_use_ms > MIGRATE_IDLE_MS)
            .map(|(k, _)| k.clone())
            .collect();
        for k in idle {
            if let Some(c) = self.conns.remove(&k) {
                self.drop_conn(&c);
            }
        }
    }
    fn cached(&self) -> usize {
        self.conns.len()
    }
}

#[wasm_bindgen]
impl Playground {
    /// `pg.setMigrateHost(host)`: MIGRATE reaches other servers through `host(op, a, b)` (see
    /// [`PageMigrate`]); without it every target is unreachable.
    #[wasm_bindgen(js_name = setMigrateHost)]
    pub fn set_migrate_host(&mut self, host: js_sys::Function) {
        self.inner.engine.migrate = Some(Box::new(PageMigrate {
            host,
            conns: HashMap::new(),
        }));
    }
}

/// Replication links between servers of one page: the host (the worker) moves the bytes.
#[wasm_bindgen]
impl Playground {
    /// `pg.linkWanted()` → `{ host, port, epoch }` when this server, a replica, wants a new
    /// connection to its primary now; undefined otherwise.
    #[wasm_bindgen(js_name = linkWanted)]
    pub fn link_wanted(&self) -> JsValue {
        match self.inner.engine.link_wanted(now()) {
            Some((host, port, epoch)) => {
                let o = js_sys::Object::new();
                let _ = js_sys::Reflect::set(&o, &"host".into(), &JsValue::from_str(&host));
                let _ = js_sys::Reflect::set(&o, &"port".into(), &JsValue::from(port));
                let _ = js_sys::Reflect::set(&o, &"epoch".into(), &JsValue::from_f64(epoch as f64));
                o.into()
            }
            None => JsValue::UNDEFINED,
        }
    }

    /// `pg.linkEpoch()` → the epoch of the connection to the primary the host should keep, or
    /// undefined: no link any more (REPLICAOF NO ONE), or a new connection is wanted.
    #[wasm_bindgen(js_name = linkEpoch)]
    pub fn link_epoch(&self) -> Option<f64> {
        self.inner.engine.link_epoch().map(|e| e as f64)
    }

    /// `pg.linkConnecting()`: the host started connecting to the primary.
    #[wasm_bindgen(js_name = linkConnecting)]
    pub fn link_connecting(&mut self) {
        self.inner.engine.link_connecting(now());
    }

    /// `pg.linkEstablished()`: the connection to the primary is up (the handshake starts).
    #[wasm_bindgen(js_name = linkEstablished)]
    pub fn link_established(&mut self) {
        self.inner.engine.link_established(now());
    }

    /// `pg.linkLost()`: the connection to the primary closed; another is wanted later.
    #[wasm_bindgen(js_name = linkLost)]
    pub fn link_lost(&mut self) {
        self.inner.engine.link_lost(now());
    }

    /// `pg.linkFeed(bytes)`: bytes the primary sent on the link.
    #[wasm_bindgen(js_name = linkFeed)]
    pub fn link_feed(&mut self, bytes: &[u8]) {
        let now = now();
        self.inner.engine.link_feed(bytes, now);
        self.inner.aof_step(now);
    }

    /// `pg.takeLinkOutput()` → Uint8Array: bytes this replica sends its primary.
    #[wasm_bindgen(js_name = takeLinkOutput)]
    pub fn take_link_output(&mut self) -> Vec<u8> {
        self.inner.engine.take_link_output()
    }

    /// `pg.takeReplicaOutput()` → `[[connection, Uint8Array], ...]`: what this server, a
    /// primary, sends each replica connected through `openConnection` (the resync answer, the
    /// snapshot, then the stream).
    #[wasm_bindgen(js_name = takeReplicaOutput)]
    pub fn take_replica_output(&mut self) -> js_sys::Array {
        let out = js_sys::Array::new();
        if !self.inner.engine.has_replica_output() {
            return out;
        }
        for (id, bytes) in self.inner.engine.take_replica_output() {
            let pair = js_sys::Array::new();
            pair.push(&JsValue::from_f64(id as f64));
            pair.push(&js_sys::Uint8Array::from(bytes.as_slice()));
            out.push(&pair);
        }
        out
    }

    /// `pg.replication()` → what ROLE and INFO replication say, read without running a
    /// command: `{ role, replid, offset, failover, link, replicas }`; `link` (a replica's) is
    /// `{ host, port, state, lastIo, downSince }` (seconds; -1 when never) or null, `replicas`
    /// `[{ connection, ip, port, state, ack, lag }]`.
    pub fn replication(&self) -> JsValue {
        let eng = &self.inner.engine;
        let now = now();
        let o = js_sys::Object::new();
        let set = |o: &js_sys::Object, k: &str, v: JsValue| {
            let _ = js_sys::Reflect::set(o, &JsValue::from_str(k), &v);
        };
        let role = if eng.repl.link.is_some() {
            "slave"
        } else {
            "master"
        };
        set(&o, "role", JsValue::from_str(role));
        set(&o, "replid", JsValue::from_str(&eng.repl.replid));
        set(&o, "offset", JsValue::from_f64(eng.repl.offset as f64));
        set(&o, "failover", JsValue::from_str(eng.failover_state_name()));
        let link = match eng.repl.link.as_ref() {
            Some(l) => {
                let lo = js_sys::Object::new();
                set(&lo, "host", JsValue::from_str(&l.host));
                set(&lo, "port", JsValue::from(l.port));
                set(&lo, "state", JsValue::from_str(eng.link_state_name()));
                set(
                    &lo,
                    "lastIo",
                    JsValue::from_f64(((now - l.last_io_ms) / 1000) as f64),
                );
                let down = l.down_since_ms.map_or(-1, |d| (now - d) / 1000);
                set(&lo, "downSince", JsValue::from_f64(down as f64));
                lo.into()
            }
            None => JsValue::NULL,
        };
        set(&o, "link", link);
        let replicas = js_sys::Array::new();
        for (id, r) in eng.repl.attached() {
            let ro = js_sys::Object::new();
            set(&ro, "connection", JsValue::from_f64(*id as f64));
            set(&ro, "ip", JsValue::from_str(&eng.replica_ip(*id, r)));
            set(&ro, "port", JsValue::from_f64(r.listening_port as f64));
            set(
                &ro,
                "state",
                JsValue::from_str(r.state.map_or("wait_bgsave", |s| s.name())),
            );
            set(&ro, "ack", JsValue::from_f64(r.ack_offset as f64));
            set(
                &ro,
                "lag",
                JsValue::from_f64(((now - r.ack_ms) / 1000) as f64),
            );
            replicas.push(&ro);
        }
        set(&o, "replicas", replicas.into());
        o.into()
    }
}

impl Playground {
    /// Runs the commands packed in `input` (as `packBatch` writes them) one after the other,
    /// packing their replies as one array into the output buffer.
    fn run_batch_packed(&mut self, id: u64, input: &[u8], now: i64) {
        let io = &mut self.io;
        let engine = &mut self.inner.engine;
        let mut at = 0;
        let mut count = 0u32;
        io.start();
        let head = io.out.len();
        put_head(&mut io.out, ARRAY, 0);
        while let Some(argc) = read_u32(input, at) {
            at = unpack_args(input, at + 4, argc as usize, &mut io.argv);
            if count > 0 {
                engine.next_command_follows();
            }
            let reply = engine.execute(id, &io.argv, now);
            match reply {
                Some(r) => pack_reply(&r, engine.proto(id), &mut io.out, &mut io.heap),
                None => io.out.push(UNDEFINED),
            }
            count += 1;
        }
        io.out[head + 1..head + 5].copy_from_slice(&count.to_le_bytes());
        io.finish();
        self.inner.aof_step(now);
    }

    /// `batch` and `batchBuffer`: every command run, the replies packed as one array, then
    /// read back as JS values by JS.
    fn batch_packed(
        &mut self,
        client: u32,
        commands: &JsValue,
        buffers: bool,
    ) -> Result<js_sys::Array, JsValue> {
        let io = &mut self.io;
        let n = fill(&mut io.input, |ptr, cap| pack_batch(commands, ptr, cap))?;
        let packed = std::mem::take(&mut io.input);
        self.run_batch_packed(u64::from(client), &packed[..n], now());
        let io = &mut self.io;
        io.input = packed;
        let value = unpack_reply(io.out.as_ptr() as u32, io.out.len() as u32, buffers);
        io.trim();
        Ok(value.unchecked_into())
    }

    /// One command's arguments, packed by JS into memory, run for `client`.
    fn run_args(&mut self, client: u32, args: &JsValue) -> Result<Option<Reply>, JsValue> {
        let io = &mut self.io;
        let n = fill(&mut io.input, |ptr, cap| pack_args(args, ptr, cap))?;
        unpack_all(&io.input[..n], &mut io.argv);
        let now = now();
        let reply = self.inner.engine.execute(u64::from(client), &io.argv, now);
        self.inner.aof_step(now);
        Ok(reply)
    }

    /// `call` and `callBuffer`: the reply packed, then read back as JS values by JS.
    fn call_packed(
        &mut self,
        client: u32,
        args: &JsValue,
        buffers: bool,
    ) -> Result<JsValue, JsValue> {
        let reply = self.run_args(client, args)?;
        let proto = self.inner.engine.proto(u64::from(client));
        let value = match reply {
            Some(Reply::Error(e)) => return Err(js_sys::Error::new(&e).into()),
            Some(r) => {
                let io = &mut self.io;
                io.start();
                pack_reply(&r, proto, &mut io.out, &mut io.heap);
                io.finish();
                unpack_reply(io.out.as_ptr() as u32, io.out.len() as u32, buffers)
            }
            None => JsValue::UNDEFINED,
        };
        self.io.trim();
        Ok(value)
    }
}

/// The buffers the program API reuses from one command to the next: the arguments as JS
/// packed them, the arguments split for the engine, and the reply packed for JS.
#[derive(Default)]
struct Io {
    input: Vec<u8>,
    argv: Vec<Vec<u8>>,
    out: Vec<u8>,
    heap: Vec<u8>,
    /// For the JS fast path: the input's address and length, the packed reply's address and
    /// length (see [`Playground::io_mailbox`]). Boxed, so its address stays put.
    mailbox: Box<[u32; 4]>,
}

/// What the reused buffers may keep between commands; a larger command's are given back.
const IO_KEEP: usize = 64 * 1024;

/// The input buffer's size to start with.
const IO_START: usize = 4096;

impl Io {
    /// Makes the input buffer at least `bytes` long.
    fn reserve(&mut self, bytes: usize) {
        if self.input.len() < bytes {
            self.input.resize(bytes, 0);
        }
    }

    /// Tells the JS fast path where the buffers are now.
    fn post(&mut self) {
        self.reserve(IO_START);
        self.mailbox[0] = self.input.as_ptr() as u32;
        self.mailbox[1] = self.input.len() as u32;
        self.mailbox[2] = self.out.as_ptr() as u32;
        self.mailbox[3] = self.out.len() as u32;
    }

    /// Gives back a large input buffer (its arguments were split out).
    fn trim_input(&mut self) {
        if self.input.len() > IO_KEEP {
            self.input = Vec::new();
        }
    }

    /// Starts a packed reply: its header (where the strings start, whether they are all
    /// ASCII) is written by [`Io::finish`].
    fn start(&mut self) {
        self.out.clear();
        self.out.extend_from_slice(&[0; 5]);
        self.heap.clear();
    }

    /// Ends a packed reply: the header, then the strings after the structure. JS decodes
    /// the strings in one call and cuts them out of the result when they are all ASCII, or
    /// all valid UTF-8 each on its own (then the text of all is the texts of each in a row).
    fn finish(&mut self) {
        let at = self.out.len() as u32;
        self.out[..4].copy_from_slice(&at.to_le_bytes());
        self.out[4] = if self.heap.is_ascii() {
            HEAP_ASCII
        } else if strings_utf8(&self.out[5..], &self.heap) {
            HEAP_UTF8
        } else {
            0
        };
        self.out.extend_from_slice(&self.heap);
    }

    fn trim(&mut self) {
        self.trim_input();
        if self.out.capacity() > IO_KEEP {
            self.out = Vec::new();
        }
        if self.heap.capacity() > IO_KEEP {
            self.heap = Vec::new();
        }
        if self.argv.len() > 64 || self.argv.iter().any(|a| a.capacity() > IO_KEEP) {
            self.argv = Vec::new();
        }
    }
}

#[wasm_bindgen(module = "/src/wasm_io.js")]
extern "C" {
    /// Hands the module's memory to the JS half once.
    #[wasm_bindgen(js_name = ioInit)]
    fn io_init(memory: JsValue);
    /// Packs one command's arguments at `ptr`: the bytes written, minus the room needed, or
    /// NaN when an argument is refused (the error from `take_error`).
    #[wasm_bindgen(js_name = packArgs)]
    fn pack_args(args: &JsValue, ptr: u32, cap: u32) -> f64;
    /// Packs a batch of commands at `ptr`, as `packArgs`.
    #[wasm_bindgen(js_name = packBatch)]
    fn pack_batch(commands: &JsValue, ptr: u32, cap: u32) -> f64;
    /// The error of the packing that returned NaN.
    #[wasm_bindgen(js_name = takeError)]
    fn take_error() -> JsValue;
    /// Puts the fast path's `call`, `callBuffer` and `batch` on the class's prototype.
    #[wasm_bindgen(js_name = ioInstall)]
    fn io_install(class: &JsValue);
    /// The JS value of the reply [`pack_reply`] wrote at `ptr` (`len` bytes).
    #[wasm_bindgen(js_name = unpackReply)]
    fn unpack_reply(ptr: u32, len: u32, buffers: bool) -> JsValue;
    /// `performance.now()`: milliseconds, monotonic, with sub-millisecond precision (the
    /// module's one clock for timing commands).
    #[wasm_bindgen(js_name = clockMs)]
    fn clock_ms() -> f64;
}

/// `installFastCalls(Playground)`: gives the class JS versions of `call`, `callBuffer`,
/// `callResp`, `batch` and `batchBuffer` with the same results and errors, which cross into the module once per command
/// (or batch) with numbers only: JS packs the arguments straight into the module's memory
/// and reads the reply from it (src/wasm_io.js). The Rust methods stay for callers in Rust.
#[wasm_bindgen(js_name = installFastCalls)]
pub fn install_fast_calls(class: &JsValue) {
    io_install(class);
}

/// Lets JS pack into `input`, growing it to the room JS asks for; the bytes written.
fn fill(input: &mut Vec<u8>, pack: impl Fn(u32, u32) -> f64) -> Result<usize, JsValue> {
    if input.len() < 4096 {
        input.resize(4096, 0);
    }
    loop {
        let n = pack(input.as_mut_ptr() as u32, input.len() as u32);
        if n.is_nan() {
            return Err(take_error());
        }
        if n >= 0.0 {
            return Ok((n as usize).min(input.len()));
        }
        // The room JS needs for what it holds: bounded by the arguments themselves.
        input.resize((-n) as usize, 0);
    }
}

fn read_u32(buf: &[u8], at: usize) -> Option<u32> {
    let b = buf.get(at..at + 4)?;
    Some(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

/// Splits `count` packed arguments from `at` into `argv` (its vectors reused); returns where
/// they end.
fn unpack_args(buf: &[u8], mut at: usize, count: usize, argv: &mut Vec<Vec<u8>>) -> usize {
    let mut n = 0;
    while n < count {
        let Some(len) = read_u32(buf, at) else { break };
        let start = at + 4;
        let end = (start + len as usize).min(buf.len());
        let bytes = &buf[start.min(end)..end];
        match argv.get_mut(n) {
            Some(a) => {
                a.clear();
                a.extend_from_slice(bytes);
            }
            None => argv.push(bytes.to_vec()),
        }
        n += 1;
        at = end;
    }
    argv.truncate(n);
    at
}

/// Every packed argument of `buf` into `argv`.
fn unpack_all(buf: &[u8], argv: &mut Vec<Vec<u8>>) {
    unpack_args(buf, 0, usize::MAX, argv);
}

// The tags of a packed reply, read by src/wasm_io.js (same numbers there).
const NULL: u8 = 0;
const TEXT: u8 = 1;
const BULK: u8 = 2;
const ERROR: u8 = 3;
const NUMBER: u8 = 4;
const BIGINT: u8 = 5;
const ARRAY: u8 = 6;
const SET: u8 = 7;
const MAP: u8 = 8;
const TRUE: u8 = 9;
const FALSE: u8 = 10;
const BIGNUM: u8 = 11;
const UNDEFINED: u8 = 12;

// What a packed reply's header says of its strings (src/wasm_io.js reads the same numbers).
const HEAP_ASCII: u8 = 1;
const HEAP_UTF8: u8 = 2;

/// Whether every string of the packed structure `s` (its bytes one after another in `heap`)
/// is valid UTF-8 by itself.
fn strings_utf8(s: &[u8], heap: &[u8]) -> bool {
    let (mut at, mut hp) = (0, 0);
    while let Some(&tag) = s.get(at) {
        at += 1;
        match tag {
            TEXT | BULK | ERROR | BIGNUM => {
                let Some(len) = read_u32(s, at) else {
                    return false;
                };
                at += 4;
                let end = hp + len as usize;
                match heap.get(hp..end) {
                    Some(b) if std::str::from_utf8(b).is_ok() => hp = end,
                    _ => return false,
                }
            }
            NUMBER | BIGINT => at += 8,
            ARRAY | SET | MAP => at += 4,
            _ => {}
        }
    }
    true
}

fn put_bytes(out: &mut Vec<u8>, heap: &mut Vec<u8>, tag: u8, b: &[u8]) {
    out.push(tag);
    out.extend_from_slice(&(b.len() as u32).to_le_bytes());
    heap.extend_from_slice(b);
}

fn put_number(out: &mut Vec<u8>, x: f64) {
    out.push(NUMBER);
    out.extend_from_slice(&x.to_le_bytes());
}

fn put_head(out: &mut Vec<u8>, tag: u8, n: usize) {
    out.push(tag);
    out.extend_from_slice(&(n as u32).to_le_bytes());
}

/// Packs a reply for `unpackReply`, in the shape the client's protocol gives it (RESP2: maps
/// as flat arrays, doubles as strings, booleans as 0/1): a tag byte, then a u32 length and
/// bytes for strings (the bytes go to `heap`, after the structure), a u32 count for aggregates, 8 bytes for numbers. Errors inside
/// aggregates become Error objects; a reply in parts gives its last part (the command's own,
/// after tracking's invalidations); attributes give undefined.
fn pack_reply(r: &Reply, proto: u8, out: &mut Vec<u8>, heap: &mut Vec<u8>) {
    let resp3 = proto >= 3;
    match r {
        Reply::Nil | Reply::NilArray => out.push(NULL),
        Reply::Status(s) => put_bytes(out, heap, TEXT, s.as_bytes()),
        Reply::Error(e) => put_bytes(out, heap, ERROR, e.as_bytes()),
        Reply::Integer(i) if i.unsigned_abs() <= (1u64 << 53) => put_number(out, *i as f64),
        Reply::Integer(i) => {
            out.push(BIGINT);
            out.extend_from_slice(&i.to_le_bytes());
        }
        Reply::Bulk(b) | Reply::Verbatim(_, b) => put_bytes(out, heap, BULK, b),
        Reply::Array(v) | Reply::Push(v) => {
            put_head(out, ARRAY, v.len());
            v.iter().for_each(|x| pack_reply(x, proto, out, heap));
        }
        // As an array of bulk strings, the bytes copied to the strings at once.
        Reply::Bulks(b) => {
            put_head(out, ARRAY, b.len());
            out.reserve(5 * b.len());
            for e in b.iter() {
                out.push(BULK);
                out.extend_from_slice(&(e.len() as u32).to_le_bytes());
            }
            heap.extend_from_slice(b.bytes());
        }
        Reply::Set(v) => {
            put_head(out, if resp3 { SET } else { ARRAY }, v.len());
            v.iter().for_each(|x| pack_reply(x, proto, out, heap));
        }
        Reply::Map(pairs) => {
            if resp3 {
                put_head(out, MAP, pairs.len());
            } else {
                put_head(out, ARRAY, pairs.len() * 2);
            }
            for (k, v) in pairs {
                pack_reply(k, proto, out, heap);
                pack_reply(v, proto, out, heap);
            }
        }
        Reply::Double(d) if resp3 => put_number(out, *d),
        Reply::Double(d) => put_bytes(
            out,
            heap,
            TEXT,
            crate::protocol::reply::format_double(*d).as_bytes(),
        ),
        Reply::DoubleText(t) if resp3 => put_number(out, t.parse().unwrap_or(f64::NAN)),
        Reply::DoubleText(t) => put_bytes(out, heap, TEXT, t.as_bytes()),
        Reply::Bool(b) if resp3 => out.push(if *b { TRUE } else { FALSE }),
        Reply::Bool(b) => put_number(out, if *b { 1.0 } else { 0.0 }),
        Reply::BigNum(t) if resp3 => put_bytes(out, heap, BIGNUM, t.as_bytes()),
        Reply::BigNum(t) => put_bytes(out, heap, TEXT, t.as_bytes()),
        // Out-of-band data about a reply, not the reply (DEBUG PROTOCOL attrib).
        Reply::Attribute(_) => out.push(UNDEFINED),
        // A reply in parts (tracking's invalidation before it): the command's own is last.
        Reply::Multi(parts) => match parts
            .iter()
            .rev()
            .find(|p| !matches!(p, Reply::Attribute(_)))
        {
            Some(x) => pack_reply(x, proto, out, heap),
            None => out.push(UNDEFINED),
        },
    }
}

fn outcome_to_js(out: &LineOutcome) -> JsValue {
    let obj = js_sys::Object::new();
    let _ = js_sys::Reflect::set(&obj, &"text".into(), &JsValue::from_str(&out.text));
    let reply = match &out.reply {
        // Plain objects, not ES Maps (serde-wasm-bindgen's default for maps), so that
        // `reply.type` and `reply.value` read as the page expects.
        Some(r) => JsReply(r)
            .serialize(&serde_wasm_bindgen::Serializer::new().serialize_maps_as_objects(true))
            .unwrap_or(JsValue::NULL),
        None => JsValue::NULL,
    };
    let _ = js_sys::Reflect::set(&obj, &"reply".into(), &reply);
    obj.into()
}

/// A reply as a plain JS object: `{ type, value }`, aggregates holding arrays of such objects
/// (maps: arrays of `[key, value]` pairs). Integers beyond 2^53 become strings to stay exact.
struct JsReply<'a>(&'a Reply);

impl Serialize for JsReply<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let (ty, n) = match self.0 {
            Reply::Nil | Reply::NilArray => ("nil", 1),
            Reply::Status(_) => ("status", 2),
            Reply::Error(_) => ("error", 2),
            Reply::Integer(_) => ("integer", 2),
            Reply::Bulk(_) => ("bulk", 2),
            Reply::Array(_) | Reply::Bulks(_) => ("array", 2),
            Reply::Map(_) => ("map", 2),
            Reply::Set(_) => ("set", 2),
            Reply::Double(_) | Reply::DoubleText(_) => ("double", 2),
            Reply::Bool(_) => ("boolean", 2),
            Reply::Verbatim(..) => ("verbatim", 2),
            Reply::Push(_) => ("push", 2),
            Reply::BigNum(_) => ("bignum", 2),
            Reply::Attribute(_) => ("attribute", 2),
            Reply::Multi(_) => ("multi", 2),
        };
        let mut m = s.serialize_map(Some(n))?;
        m.serialize_entry("type", ty)?;
        match self.0 {
            Reply::Nil | Reply::NilArray => {}
            Reply::Status(t) | Reply::Error(t) => m.serialize_entry("value", t.as_ref())?,
            Reply::Integer(i) if i.unsigned_abs() <= (1u64 << 53) => {
                m.serialize_entry("value", &(*i as f64))?
            }
            Reply::Integer(i) => m.serialize_entry("value", &i.to_string())?,
            Reply::Bulk(b) | Reply::Verbatim(_, b) => {
                m.serialize_entry("value", &String::from_utf8_lossy(b))?
            }
            Reply::Array(v) | Reply::Set(v) | Reply::Push(v) | Reply::Multi(v) => {
                m.serialize_entry("value", &Items(v))?
            }
            Reply::Bulks(b) => m.serialize_entry("value", &Items(&b.to_replies()))?,
            Reply::Map(pairs) => m.serialize_entry("value", &Pairs(pairs))?,
            Reply::Double(d) => {
                m.serialize_entry("value", &crate::protocol::reply::format_double(*d))?
            }
            Reply::DoubleText(t) | Reply::BigNum(t) => m.serialize_entry("value", t)?,
            Reply::Attribute(pairs) => m.serialize_entry("value", &Pairs(pairs))?,
            Reply::Bool(b) => m.serialize_entry("value", b)?,
        }
        m.end()
    }
}

struct Items<'a>(&'a [Reply]);

impl Serialize for Items<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.0.len()))?;
        for r in self.0 {
            seq.serialize_element(&JsReply(r))?;
        }
        seq.end()
    }
}

struct Pairs<'a>(&'a [(Reply, Reply)]);

impl Serialize for Pairs<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.0.len()))?;
        for (k, v) in self.0 {
            seq.serialize_element(&(JsReply(k), JsReply(v)))?;
        }
        seq.end()
    }
}
