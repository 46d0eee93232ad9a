//! One Lua state as Redis sets it up: the libraries Redis loads, its sandbox (locked globals,
//! Redis's `pcall`, the error handler), the `redis` library, and a deterministic
//! `math.random`. While a script runs, the native functions reach the engine through
//! [`RUN`], set for exactly that time.

use std::cell::RefCell;

use rilua::vm::closure::{Closure, RustClosure};
use rilua::vm::gc::arena::GcRef;
use rilua::vm::state::{LuaState, LuaThread, ThreadStatus, MASK_COUNT};
use rilua::{
    Function, Lua, LuaApi, LuaApiMut, LuaError, LuaResult, RuntimeError, StdLib, Table, Val,
};

use super::convert::{self, lua_to_reply};
use crate::engine::{ClientId, Ctx, Engine};
use crate::error::CmdResult;
use crate::protocol::Reply;

/// The bound on what a running script may allocate. Redis's Lua has no limit of its own: the
/// process's memory bounds it, and a script past it fails with Lua's `not enough memory`
/// while the data stays. The engine must survive such a script, in the page too (a wasm32
/// memory cannot grow past 4 GB, and a tab holds much less). The count hook (every
/// [`HOOK_PERIOD`] instructions) measures what the host's allocator holds beyond what it held
/// when the script started (the interpreter's own count where the host has no counter:
/// unit tests); past the bound it collects the garbage, measures again, and if the script
/// still holds too much the allocation fails as Lua's does, inside the script (a `pcall`
/// sees it), and a script it ends answers Redis's error for it. Library functions that make
/// one big string (`string.rep`, `table.concat`) refuse before allocating it.
pub const LUA_HEAP_LIMIT: usize = if cfg!(target_arch = "wasm32") {
    256 << 20
} else {
    1 << 30
};

/// Lua's own error for an allocation past [`LUA_HEAP_LIMIT`].
pub const LUA_NO_MEMORY: &str = "not enough memory";

/// Instructions between two checks of the time budget and the heap: few enough that a loop
/// making a large string at each turn stays near [`LUA_HEAP_LIMIT`].
const HOOK_PERIOD: i32 = 1_000;

/// How long a script past `busy-reply-threshold` runs before it is suspended, where the host
/// runs it in slices (the page: see [`super::Scripts::sliced`]).
const SLICE_US: u64 = 20_000;

/// How long at least a script due to be suspended may go on where it cannot stop (inside a
/// `pcall`, say) before it is ended as where no host can serve others meanwhile (the
/// threshold when that is longer).
const STUCK_GRACE_US: u64 = 1_000_000;

/// Checks of the budget a script may pass without a clock to measure it (about 2·10⁹
/// instructions), so a runaway script ends even where the host gave no clock.
const MAX_CHECKS_WITHOUT_CLOCK: u64 = 2_000_000;

/// What the native functions need while a script runs.
struct Run {
    /// The engine that runs the script. Set from the `&mut Engine` the EVAL handler holds,
    /// which it does not touch until the script returns and this is cleared.
    eng: *mut Engine,
    client: ClientId,
    db: usize,
    now: i64,
    /// `redis.setresp`: the protocol replies reach the script in.
    resp: u8,
    /// EVAL_RO or a `no-writes` script: write commands are refused.
    read_only: bool,
    /// `redis.set_repl`: where the script's writes propagate (AOF and replicas at first).
    repl: u8,

    started_us: u64,
    clock: Option<fn() -> u64>,
    limit_us: u64,
    checks: u64,
    killed: bool,
    /// Where SCRIPT KILL stopped the script (source, line), for its error.
    killed_at: Option<(String, String)>,
    /// The coroutine the script runs in (EVAL and FCALL; not a library while it loads).
    thread: Option<GcRef<LuaThread>>,
    /// The host resumes a suspended script later: past the threshold the script is
    /// suspended every [`SLICE_US`] instead of holding the host.
    may_yield: bool,
    /// When the script was last resumed (or started).
    slice_from_us: u64,
    /// The hook asked the script to stop at its next instruction, to be resumed later.
    yielding: bool,
    /// The host's allocation count when the script started, if the host counts.
    heap_from: Option<u64>,
    /// Since when the hook has found the script, due to be suspended, where it cannot stop.
    stuck_since: Option<u64>,
}

thread_local! {
    static RUN: RefCell<Option<Run>> = const { RefCell::new(None) };
}

/// What to run: the registry key of the function, the name errors give it (a script's SHA1,
/// a function's name), and whether KEYS and ARGV are globals (EVAL) or arguments (FCALL).
pub struct Target<'a> {
    /// `f_<sha>` or `fn:<name>`.
    pub key: String,
    /// The name in `script: <name>, on ...`.
    pub label: String,
    /// EVAL rather than FCALL.
    pub eval: bool,
    /// The command line that runs it (FUNCTION STATS shows it).
    pub argv: &'a [Vec<u8>],
}

/// A function a library registered while it loaded.
#[derive(Clone, Debug)]
pub struct Registered {
    /// Its name.
    pub name: String,
    /// Its description, if given.
    pub desc: Option<Vec<u8>>,
    /// Its flags.
    pub flags: super::ScriptFlags,
}

thread_local! {
    /// The functions registered so far while a library loads (None outside FUNCTION LOAD).
    static LOADING: RefCell<Option<Vec<Registered>>> = const { RefCell::new(None) };
}

/// A Lua state with Redis's environment.
pub struct LuaVm {
    lua: Lua,
    /// The table behind the locked globals (KEYS and ARGV are set there).
    real: Table,
    /// The sandbox's runner: calls a function under the error handler.
    runner: Function,
    /// The sandbox's switch to what a library sees while it loads.
    control: Function,
    /// The sandbox's error handler for a script whose coroutine an error ended.
    thread_handler: Function,
    /// Lua's own `coroutine.create` and `coroutine.resume`: a script runs as a coroutine so
    /// that the page can suspend it between slices.
    create: Function,
    resume: Function,
    /// The script suspended between two slices, when one is.
    suspended: Option<Suspended>,
    /// The lrand48 state of `math.random`.
    rand: u64,
    /// Set when an error escaped the runner: the state must be made anew.
    pub broken: bool,
}

/// A script suspended between two slices: what its native functions need (set again when it
/// is resumed) and how its outcome is reported.
struct Suspended {
    run: Run,
    thread: GcRef<LuaThread>,
    label: String,
    limit_ms: u64,
}

/// Registry keys.
const RUNNER_KEY: &[u8] = b"__redis__runner";
const CONTROL_KEY: &[u8] = b"__redis__control";
const THREAD_HANDLER_KEY: &[u8] = b"__redis__thread_handler";
const CREATE_KEY: &[u8] = b"__redis__create";
const RESUME_KEY: &[u8] = b"__redis__resume";
/// The running script's coroutine, kept from the collector while it is suspended.
const THREAD_KEY: &[u8] = b"__redis__thread";

impl LuaVm {
    /// Builds the state: libraries, the `redis` table, the sandbox. A state for functions
    /// also has `redis.register_function` for the code of a library while it loads.
    pub fn new(functions: bool) -> LuaResult<LuaVm> {
        let mut lua = Lua::new_with(
            StdLib::BASE
                | StdLib::STRING
                | StdLib::TABLE
                | StdLib::MATH
                | StdLib::DEBUG
                | StdLib::COROUTINE,
        )?;
        let redis = lua.create_table();
        for (name, f) in [
            ("call", redis_call as rilua::RustFn),
            ("pcall", redis_pcall),
            ("sha1hex", redis_sha1hex),
            ("error_reply", redis_error_reply),
            ("status_reply", redis_status_reply),
            ("log", redis_log),
            ("setresp", redis_setresp),
            ("set_repl", redis_set_repl),
            ("replicate_commands", redis_replicate_commands),
            ("breakpoint", redis_breakpoint),
            ("debug", redis_debug),
            ("acl_check_cmd", redis_acl_check_cmd),
        ] {
            lua.table_set_function(&redis, name, f)?;
        }
        let numbers: [(&str, f64); 10] = [
            ("LOG_DEBUG", 0.0),
            ("LOG_VERBOSE", 1.0),
            ("LOG_NOTICE", 2.0),
            ("LOG_WARNING", 3.0),
            ("REPL_NONE", 0.0),
            ("REPL_AOF", 1.0),
            ("REPL_SLAVE", 2.0),
            ("REPL_REPLICA", 2.0),
            ("REPL_ALL", 3.0),
            ("REDIS_VERSION_NUM", f64::from(0x0007_000f)),
        ];
        for (name, n) in numbers {
            let k = lua.create_string(name.as_bytes());
            lua.table_raw_set(&redis, k, Val::Num(n))?;
        }
        let k = lua.create_string(b"REDIS_VERSION");
        let v = lua.create_string(b"7.0.15");
        lua.table_raw_set(&redis, k, v)?;
        lua.set_global("redis", redis)?;
        let math: Table = lua.global("math")?;
        lua.table_set_function(&math, "random", math_random)?;
        lua.table_set_function(&math, "randomseed", math_randomseed)?;
        let t = lua.create_table();
        for (fname, f) in super::libs::BIT {
            lua.table_set_function(&t, fname, *f)?;
        }
        lua.set_global("bit", t)?;
        let t = super::cjsoncfg::module(lua.state_mut());
        lua.set_global("cjson", t)?;
        for (name, fns, fields) in [
            (
                "cmsgpack",
                super::msgpack::CMSGPACK,
                super::msgpack::CMSGPACK_FIELDS,
            ),
            ("struct", super::structlib::STRUCT, &[][..]),
        ] {
            let t = lua.create_table();
            for (fname, f) in fns {
                lua.table_set_function(&t, fname, *f)?;
            }
            for (k, v) in fields {
                let k = lua.create_string(k.as_bytes());
                let v = lua.create_string(v.as_bytes());
                lua.table_raw_set(&t, k, v)?;
            }
            lua.set_global(name, t)?;
        }
        let coroutine: Table = lua.global("coroutine")?;
        let lib_fn = |lua: &mut Lua, name: &str| -> LuaResult<Val> {
            let k = lua.create_string(name.as_bytes());
            lua.table_raw_get(&coroutine, k)
        };
        let create = lib_fn(&mut lua, "create")?;
        let resume = lib_fn(&mut lua, "resume")?;
        lua.table_set_function(&coroutine, "yield", script_yield)?;
        lua.table_set_function(&coroutine, "running", script_running)?;
        lua.table_set_function(&coroutine, "create", script_create)?;
        let string: Table = lua.global("string")?;
        lua.table_set_function(&string, "rep", string_rep)?;
        let table: Table = lua.global("table")?;
        lua.table_set_function(&table, "concat", table_concat)?;
        lua.register_function("loadstring", text_loadstring)?;
        lua.register_function("__heap_exhausted", heap_exhausted)?;

        if functions {
            lua.register_function("__register_function", register_function)?;
        }
        let sandbox = lua.load_bytes(include_bytes!("sandbox.lua"), "=redis-sandbox")?;
        let out = lua.call_function(&sandbox, &[])?;
        let (
            Some(Val::Table(env)),
            Some(Val::Table(real)),
            Some(Val::Function(runner)),
            Some(Val::Function(control)),
            Some(Val::Function(thread_handler)),
            Val::Function(create),
            Val::Function(resume),
        ) = (
            out.first().copied(),
            out.get(1).copied(),
            out.get(2).copied(),
            out.get(3).copied(),
            out.get(4).copied(),
            create,
            resume,
        )
        else {
            return Err(rilua::runtime_error("the sandbox did not set up"));
        };
        let registry = Table::from_gc_ref(lua.state().registry);
        for (key, f) in [
            (RUNNER_KEY, runner),
            (CONTROL_KEY, control),
            (THREAD_HANDLER_KEY, thread_handler),
            (CREATE_KEY, create),
            (RESUME_KEY, resume),
        ] {
            let k = lua.create_string(key);
            lua.table_raw_set(&registry, k, Val::Function(f))?;
        }
        // From now on every chunk compiled sees the locked globals.
        lua.state_mut().global = env;
        let runner = Function::from_gc_ref(runner);
        Ok(LuaVm {
            lua,
            real: Table::from_gc_ref(real),
            runner,
            control: Function::from_gc_ref(control),
            thread_handler: Function::from_gc_ref(thread_handler),
            create: Function::from_gc_ref(create),
            resume: Function::from_gc_ref(resume),
            suspended: None,
            rand: LRAND48_INIT,
            broken: false,
        })
    }

    /// Compiles a script's body as the function `f_<sha>` in the registry, as Redis names it.
    pub fn compile(&mut self, sha: &str, source: &[u8]) -> Result<(), String> {
        let f = self
            .lua
            .load_bytes(source, "@user_script")
            .map_err(|e| e.to_string())?;
        let registry = Table::from_gc_ref(self.lua.state().registry);
        let k = self.lua.create_string(format!("f_{}", sha).as_bytes());
        let f = Val::Function(f.gc_ref());
        self.lua
            .table_raw_set(&registry, k, f)
            .map_err(|e| e.to_string())?;
        barrier(self.lua.state_mut(), &registry);
        Ok(())
    }

    /// Loads a library's code (after its shebang line) as FUNCTION LOAD does: it runs with
    /// only `redis.register_function`, `redis.log` and the version to see, within
    /// `limit_ms`. Returns the functions it registered, kept under `pending:<name>` until
    /// [`LuaVm::commit`]; or Redis's error.
    pub fn load_library(
        &mut self,
        code: &[u8],
        limit_ms: u64,
        clock: Option<fn() -> u64>,
    ) -> Result<Vec<Registered>, String> {
        let f = self
            .lua
            .load_bytes(code, "@user_function")
            .map_err(|e| format!("Error compiling function: {}", e))?;
        LOADING.with(|l| *l.borrow_mut() = Some(Vec::new()));
        RUN.with(|r| {
            *r.borrow_mut() = Some(Run {
                eng: std::ptr::null_mut(),
                client: 0,
                db: 0,
                now: 0,
                resp: 2,
                read_only: true,
                started_us: clock.map_or(0, |c| c()),
                clock,
                limit_us: limit_ms.saturating_mul(1000),
                checks: 0,
                killed: false,
                killed_at: None,
                repl: crate::engine::propagate::TO_ALL,
                thread: None,
                may_yield: false,
                slice_from_us: 0,
                yielding: false,
                heap_from: None,
                stuck_since: None,
            })
        });
        let control = self.control;
        let _ = self.lua.call_function(&control, &[Val::Bool(true)]);
        self.set_hook(true);
        let runner = self.runner;
        let out = self
            .lua
            .call_function(&runner, &[Val::Function(f.gc_ref())]);
        self.set_hook(false);
        let _ = self.lua.call_function(&control, &[Val::Bool(false)]);
        let killed = RUN
            .with(|r| r.borrow_mut().take())
            .is_some_and(|r| r.killed);
        let registered = LOADING.with(|l| l.borrow_mut().take()).unwrap_or_default();
        let failure = match out {
            Err(e) => {
                self.broken = true;
                Some(if killed {
                    "FUNCTION LOAD timeout".to_string()
                } else {
                    crate::error::CmdError::err(e).0.into_owned()
                })
            }
            Ok(out) if !matches!(out.first(), Some(Val::Bool(true))) => {
                let state = self.lua.state_mut();
                let v = out.get(1).copied().unwrap_or(Val::Nil);
                Some(match v {
                    Val::Table(t) => {
                        let t = Table::from_gc_ref(t);
                        let k = Val::Str(state.gc.intern_string(b"err"));
                        let e = t.raw_get(state, k).unwrap_or(Val::Nil);
                        convert::to_bytes(state, e)
                            .map(|b| String::from_utf8_lossy(&b).into_owned())
                            .unwrap_or_default()
                    }
                    other => crate::error::CmdError::err(
                        convert::to_bytes(state, other)
                            .map(|b| String::from_utf8_lossy(&b).into_owned())
                            .unwrap_or_default(),
                    )
                    .0
                    .into_owned(),
                })
            }
            Ok(_) => None,
        };
        if let Some(msg) = failure {
            self.forget(
                &registered
                    .iter()
                    .map(|r| format!("pending:{}", r.name))
                    .collect::<Vec<_>>(),
            );
            return Err(format!("Error registering functions: {}", msg));
        }
        Ok(registered)
    }

    /// Makes the functions of a load that succeeded callable (`fn:<name>`), after dropping
    /// those of the library it replaces.
    pub fn commit(&mut self, new: &[String], old: &[String]) {
        self.forget(&old.iter().map(|n| format!("fn:{}", n)).collect::<Vec<_>>());
        let registry = Table::from_gc_ref(self.lua.state().registry);
        for name in new {
            let k = self
                .lua
                .create_string(format!("pending:{}", name).as_bytes());
            let f = self.lua.table_raw_get(&registry, k).unwrap_or(Val::Nil);
            let _ = self.lua.table_raw_set(&registry, k, Val::Nil);
            let k = self.lua.create_string(format!("fn:{}", name).as_bytes());
            let _ = self.lua.table_raw_set(&registry, k, f);
            barrier(self.lua.state_mut(), &registry);
        }
    }

    /// Drops registry entries (functions of a library deleted, or of a load that failed).
    pub fn forget(&mut self, keys: &[String]) {
        let registry = Table::from_gc_ref(self.lua.state().registry);
        for key in keys {
            let k = self.lua.create_string(key.as_bytes());
            let _ = self.lua.table_raw_set(&registry, k, Val::Nil);
        }
    }

    fn set_hook(&mut self, on: bool) {
        if on {
            let hook = self
                .lua
                .state_mut()
                .gc
                .alloc_closure(Closure::Rust(RustClosure::new(count_hook, "hook")));
            let h = &mut self.lua.state_mut().hook;
            h.hook_func = Val::Function(hook);
            h.hook_mask = MASK_COUNT;
            h.base_hook_count = HOOK_PERIOD;
            h.hook_count = HOOK_PERIOD;
        } else {
            let h = &mut self.lua.state_mut().hook;
            h.hook_func = Val::Nil;
            h.hook_mask = 0;
        }
    }

    /// Whether the script `sha` is compiled in this state.
    pub fn has(&mut self, sha: &str) -> bool {
        let registry = Table::from_gc_ref(self.lua.state().registry);
        let k = self.lua.create_string(format!("f_{}", sha).as_bytes());
        matches!(self.lua.table_raw_get(&registry, k), Ok(Val::Function(_)))
    }

    /// Runs the compiled script `sha` for the handler's client; the reply is the script's.
    pub fn run(
        &mut self,
        ctx: &mut Ctx,
        target: &Target<'_>,
        keys: &[Vec<u8>],
        args: &[Vec<u8>],
        read_only: bool,
        limit_ms: u64,
    ) -> CmdResult {
        let sha = target.label.as_str();
        let registry = Table::from_gc_ref(self.lua.state().registry);
        let k = self.lua.create_string(target.key.as_bytes());
        let f = self.lua.table_raw_get(&registry, k).map_err(lua_failure)?;
        if !matches!(f, Val::Function(_)) {
            return Err(crate::error::NOSCRIPT);
        }
        let mut call_args = vec![f];
        for (name, list) in [(&b"KEYS"[..], keys), (&b"ARGV"[..], args)] {
            let t = self.lua.create_table();
            for (i, item) in list.iter().enumerate() {
                let v = self.lua.create_string(item);
                self.lua
                    .table_raw_set(&t, Val::Num((i + 1) as f64), v)
                    .map_err(lua_failure)?;
            }
            if target.eval {
                // EVAL's KEYS and ARGV are globals; a function gets them as arguments.
                let k = self.lua.create_string(name);
                self.lua
                    .table_raw_set(&self.real, k, Val::Table(t.gc_ref()))
                    .map_err(lua_failure)?;
                let real = self.real;
                barrier(self.lua.state_mut(), &real);
            } else {
                call_args.push(Val::Table(t.gc_ref()));
            }
        }
        let clock = ctx.eng.clock();
        let name = String::from_utf8_lossy(&target.argv[0]).to_ascii_lowercase();
        let allow_oom = ctx
            .eng
            .scripts
            .declared_flags(&name, target.argv)
            .is_some_and(|f| f.allow_oom);
        ctx.eng.scripts.running = Some(super::Running {
            client: ctx.client,
            eval: target.eval,
            name: target.label.clone(),
            argv: target.argv.to_vec(),
            started_us: clock.map_or(0, |c| c()),
            wrote: false,
            allow_oom,
            timed_out: false,
            kill: false,
        });
        let may_yield = ctx.eng.scripts.sliced && ctx.can_block() && !ctx.from_script;
        let started_us = clock.map_or(0, |c| c());
        let Ok(Val::Thread(thread)) = self
            .lua
            .call_function(&self.create, &[f])
            .map(|out| out.first().copied().unwrap_or(Val::Nil))
        else {
            ctx.eng.scripts.running = None;
            return Err(crate::error::LUA_UNAVAILABLE);
        };
        let registry = Table::from_gc_ref(self.lua.state().registry);
        let k = self.lua.create_string(THREAD_KEY);
        let _ = self.lua.table_raw_set(&registry, k, Val::Thread(thread));
        barrier(self.lua.state_mut(), &registry);
        // The hook is the script's coroutine's own (the state's stays off).
        self.set_hook(true);
        let hook = self.lua.state().hook.clone();
        self.set_hook(false);
        if let Some(t) = self.lua.state_mut().gc.threads.get_mut(thread) {
            t.hook = hook;
        }
        RUN.with(|r| {
            *r.borrow_mut() = Some(Run {
                eng: &mut *ctx.eng as *mut Engine,
                client: ctx.client,
                db: ctx.db,
                now: ctx.now,
                resp: 2,
                read_only,
                started_us,
                clock,
                limit_us: limit_ms.saturating_mul(1000),
                checks: 0,
                killed: false,
                killed_at: None,
                repl: crate::engine::propagate::TO_ALL,
                thread: Some(thread),
                may_yield,
                slice_from_us: started_us,
                yielding: false,
                heap_from: ctx.eng.memory_counter().map(|f| f()),
                stuck_since: None,
            })
        });
        RAND.with(|r| r.set(self.rand));
        REFUSED_ALLOC.with(|r| r.set(false));
        let mut resume_args = vec![Val::Thread(thread)];
        resume_args.extend_from_slice(&call_args[1..]);
        self.step(ctx, thread, &resume_args, sha, limit_ms)
    }

    /// Whether a script is suspended in this state, waiting for [`LuaVm::resume_script`].
    pub fn is_suspended(&self) -> bool {
        self.suspended.is_some()
    }

    /// Runs the suspended script for another slice, for the same client as when it started.
    /// Its reply, once it ends, is the one [`LuaVm::run`] would have given.
    pub fn resume_script(&mut self, ctx: &mut Ctx) -> CmdResult {
        let Some(Suspended {
            mut run,
            thread,
            label,
            limit_ms,
        }) = self.suspended.take()
        else {
            ctx.eng.scripts.running = None;
            return Err(crate::error::LUA_UNAVAILABLE);
        };
        run.eng = &mut *ctx.eng as *mut Engine;
        run.slice_from_us = run.clock.map_or(0, |c| c());
        run.yielding = false;
        run.stuck_since = None;
        RUN.with(|r| *r.borrow_mut() = Some(run));
        RAND.with(|r| r.set(self.rand));
        // The values of the frame it stopped in go back in as the resume's arguments: the
        // interpreter writes those over the frame's first slots and ends the stack after
        // them, so the whole frame stays below the top (which the collector marks up to)
        // instead of the top falling to the frame's base.
        let mut args = vec![Val::Thread(thread)];
        if let Some(t) = self.lua.state_mut().gc.threads.get_mut(thread) {
            t.hook.yield_on_hook = false;
            let top = t
                .call_stack
                .get(t.ci)
                .map_or(t.base, |c| c.top)
                .min(t.stack.len());
            if let Some(frame) = t.stack.get(t.base..top) {
                args.extend_from_slice(frame);
            }
        }
        self.step(ctx, thread, &args, &label, limit_ms)
    }

    /// Resumes the script's coroutine until it ends or the hook suspends it (then it is kept
    /// for [`LuaVm::resume_script`] and the reply is Nil, to be ignored: see
    /// [`super::Scripts::yielded`]).
    fn step(
        &mut self,
        ctx: &mut Ctx,
        thread: GcRef<LuaThread>,
        resume_args: &[Val],
        sha: &str,
        limit_ms: u64,
    ) -> CmdResult {
        let resume = self.resume;
        let out = self.lua.call_function(&resume, resume_args);
        let status = self
            .lua
            .state()
            .gc
            .threads
            .get(thread)
            .map_or(ThreadStatus::Dead, |t| t.status);
        let yielding = RUN.with(|r| r.borrow().as_ref().is_some_and(|r| r.yielding));
        if yielding && status == ThreadStatus::Suspended && out.is_ok() {
            if let Some(run) = RUN.with(|r| r.borrow_mut().take()) {
                self.rand = RAND.with(|r| r.get());
                self.suspended = Some(Suspended {
                    run,
                    thread,
                    label: sha.to_string(),
                    limit_ms,
                });
                ctx.eng.scripts.yielded = true;
                return Ok(Reply::Nil);
            }
        }
        self.rand = RAND.with(|r| r.get());
        let registry = Table::from_gc_ref(self.lua.state().registry);
        let k = self.lua.create_string(THREAD_KEY);
        let _ = self.lua.table_raw_set(&registry, k, Val::Nil);
        let run = RUN.with(|r| r.borrow_mut().take());
        let running = ctx.eng.scripts.running.take();
        let resp = run.as_ref().map_or(2, |r| r.resp);
        if running.as_ref().is_some_and(|r| r.kill) {
            let place = run.as_ref().and_then(|r| r.killed_at.clone());
            return Ok(super::script_error(
                &format!("ERR {}", crate::error::LUA_KILLED_BY_USER),
                sha,
                place,
            ));
        }
        if run.as_ref().is_some_and(|r| r.killed) {
            return Ok(Reply::Error(crate::error::script_killed(limit_ms, sha).0));
        }
        let out = match out {
            // The coroutine ended: `true` and what the script returned, or `false` and its
            // error, which the sandbox's handler places as Redis's handler does.
            Ok(out) if status == ThreadStatus::Dead => match out.first() {
                Some(Val::Bool(true)) => out,
                _ => {
                    let err = out.get(1).copied().unwrap_or(Val::Nil);
                    let state = self.lua.state();
                    if state.gc.total_alloc() > LUA_HEAP_LIMIT
                        && convert::to_bytes(state, err).as_deref()
                            == Some(LUA_NO_MEMORY.as_bytes())
                    {
                        // The interpreter's own allocation failure: no handler runs for it.
                        REFUSED_ALLOC.with(|r| r.set(true));
                    }
                    let handler = self.thread_handler;
                    let handled = self
                        .lua
                        .call_function(&handler, &[Val::Thread(thread), err])
                        .ok()
                        .and_then(|v| v.first().copied())
                        .unwrap_or(err);
                    vec![Val::Bool(false), handled]
                }
            },
            // A yield the hook did not ask for: `coroutine.yield` refuses the script's own
            // coroutine, so only a failure of the VM gets here.
            Ok(_) => {
                self.broken = true;
                return Ok(super::script_error(
                    "ERR attempt to yield across metamethod/C-call boundary",
                    sha,
                    None,
                ));
            }
            Err(e) => {
                // What escapes the coroutine is a failure of the VM: the state is dropped.
                self.broken = true;
                if matches!(e, LuaError::Memory) {
                    return Ok(Reply::Error(
                        crate::error::script_failed(sha, LUA_NO_MEMORY).0,
                    ));
                }
                return Ok(super::script_error(
                    crate::error::CmdError::err(e).text(),
                    sha,
                    None,
                ));
            }
        };
        let ok = matches!(out.first(), Some(Val::Bool(true)));
        let value = out.get(1).copied().unwrap_or(Val::Nil);
        if ok {
            let state = self.lua.state_mut();
            if let Val::Table(t) = value {
                // An error table from redis.pcall, returned as it is: already counted.
                let t = Table::from_gc_ref(t);
                let k = Val::Str(state.gc.intern_string(b"err"));
                let is_err = matches!(t.raw_get(state, k), Ok(Val::Str(_)));
                let k = Val::Str(state.gc.intern_string(b"ignore_error_stats_update"));
                if is_err && matches!(t.raw_get(state, k), Ok(Val::Bool(true))) {
                    ctx.eng.stats.uncounted_error = true;
                }
            }
            return Ok(lua_to_reply(state, value, resp, 0));
        }
        let state = self.lua.state_mut();
        let Val::Table(t) = value else {
            let msg = convert::to_bytes(state, value)
                .map(|b| String::from_utf8_lossy(&b).into_owned())
                .unwrap_or_else(|| "execution failure".into());
            if msg == LUA_NO_MEMORY {
                // What the failed script left is garbage now: the next one starts with room.
                let _ = state.full_gc();
            }
            return Ok(Reply::Error(crate::error::script_failed(sha, &msg).0));
        };
        let t = Table::from_gc_ref(t);
        let field = |state: &mut LuaState, name: &[u8]| {
            let k = Val::Str(state.gc.intern_string(name));
            let v = t.raw_get(state, k).unwrap_or(Val::Nil);
            convert::to_bytes(state, v).map(|b| String::from_utf8_lossy(&b).into_owned())
        };
        let msg = field(state, b"err").unwrap_or_default();
        let place = match (field(state, b"source"), field(state, b"line")) {
            (Some(s), Some(l)) => Some((s, l)),
            _ => None,
        };
        let counted = {
            let k = Val::Str(state.gc.intern_string(b"ignore_error_stats_update"));
            matches!(t.raw_get(state, k), Ok(Val::Bool(true)))
        };
        if counted {
            ctx.eng.stats.uncounted_error = true;
        }
        Ok(super::script_error(&msg, sha, place))
    }
}

/// A Lua failure outside any script (the state itself), as an error reply.
fn lua_failure(e: LuaError) -> crate::error::CmdError {
    crate::error::CmdError::err(e)
}

// ---------------------------------------------------------------------------------------
// Helpers for the native functions.
// ---------------------------------------------------------------------------------------

/// How many arguments a native function was called with.
pub(super) fn nargs(state: &LuaState) -> usize {
    state.top.saturating_sub(state.base)
}

/// A native function's argument `i` (from 0), nil past the last.
pub(super) fn arg(state: &LuaState, i: usize) -> Val {
    if i < nargs(state) {
        state.stack_get(state.base + i)
    } else {
        Val::Nil
    }
}

fn push_bytes(state: &mut LuaState, b: &[u8]) {
    let r = state.gc.intern_string(b);
    state.push(Val::Str(r));
}

/// A new table with `field` set to the string `value` (`{ok=...}`, `{err=...}`).
fn field_table(state: &mut LuaState, field: &[u8], value: &[u8]) -> Val {
    let t = Table::from_gc_ref(state.gc.alloc_table(rilua::vm::table::Table::new()));
    let k = Val::Str(state.gc.intern_string(field));
    let v = Val::Str(state.gc.intern_string(value));
    let _ = t.raw_set(state, k, v);
    Val::Table(t.gc_ref())
}

/// Redis's error table from an error text: `-CODE msg` keeps its code, anything else gets
/// `ERR`; line ends are trimmed.
fn error_table(state: &mut LuaState, text: &[u8]) -> Val {
    let full = convert::error_text(text);
    field_table(state, b"err", &full)
}

/// After a raw set into a table that lives across collections (the registry, the globals):
/// the API's raw set has no write barrier, so a table the collector has already marked is
/// queued to be traversed again, or the new value would be swept while still in use.
fn barrier(state: &mut LuaState, t: &Table) {
    state.gc.barrier_back(t.gc_ref());
}

/// Raises `value` as the Lua error object.
fn raise(state: &mut LuaState, value: Val) -> LuaError {
    let message = convert::to_bytes(state, value)
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_else(|| "error object".into());
    state.error_object = Some(value);
    LuaError::Runtime(RuntimeError {
        message,
        level: 0,
        traceback: vec![],
    })
}

/// Raises Redis's error table for `text`.
fn raise_text(state: &mut LuaState, text: &str) -> LuaError {
    let t = error_table(state, text.as_bytes());
    raise(state, t)
}

fn in_script() -> bool {
    RUN.with(|r| r.borrow().is_some())
}

// ---------------------------------------------------------------------------------------
// The redis library.
// ---------------------------------------------------------------------------------------

/// `redis.call(cmd, ...)`: raises the command's error.
fn redis_call(state: &mut LuaState) -> LuaResult<u32> {
    command(state, true)
}

/// `redis.pcall(cmd, ...)`: returns the command's error as `{err=...}`.
fn redis_pcall(state: &mut LuaState) -> LuaResult<u32> {
    command(state, false)
}

/// Runs a command from a script through `Engine::call`, with the checks Redis's
/// `scriptCall` makes first, and pushes its reply converted to Lua.
fn command(state: &mut LuaState, raise_errors: bool) -> LuaResult<u32> {
    if !in_script() {
        return Err(raise_text(
            state,
            "redis.call/pcall can only be called inside a script invocation",
        ));
    }
    let n = nargs(state);
    let fail = |state: &mut LuaState, text: &str| -> LuaResult<u32> {
        let t = error_table(state, text.as_bytes());
        if raise_errors {
            Err(raise(state, t))
        } else {
            state.push(t);
            Ok(1)
        }
    };
    if n == 0 {
        return fail(
            state,
            "Please specify at least one argument for this redis lib call",
        );
    }
    let mut argv = Vec::with_capacity(n);
    for i in 0..n {
        match arg(state, i) {
            Val::Num(x) => argv.push(crate::util::fmt_g17(x).into_bytes()),
            v @ Val::Str(_) => argv.push(convert::to_bytes(state, v).unwrap_or_default()),
            _ => {
                return fail(
                    state,
                    "Lua redis lib command arguments must be strings or integers",
                )
            }
        }
    }
    let Some((eng, client, db, now, resp, read_only, repl)) = RUN.with(|r| {
        r.borrow()
            .as_ref()
            .map(|r| (r.eng, r.client, r.db, r.now, r.resp, r.read_only, r.repl))
    }) else {
        return fail(
            state,
            "redis.call/pcall can only be called inside a script invocation",
        );
    };
    if eng.is_null() {
        return fail(
            state,
            "redis.call/pcall can only be called inside a script invocation",
        );
    }
    // SAFETY: `eng` comes from the `&mut Engine` of the EVAL handler, which is suspended in
    // `LuaVm::run` until the script returns (and `RUN` is cleared); the Lua state is not part
    // of the engine while it runs, so nothing else reaches either.
    let eng: &mut Engine = unsafe { &mut *eng };
    let reply = match eng.script_command(client, &argv, db, now, resp, read_only, repl) {
        Ok((reply, new_db)) => {
            RUN.with(|r| {
                if let Some(r) = r.borrow_mut().as_mut() {
                    r.db = new_db;
                }
            });
            reply
        }
        Err(text) => {
            let t = error_table(state, text.as_bytes());
            let k = Val::Str(state.gc.intern_string(b"ignore_error_stats_update"));
            if let Val::Table(r) = t {
                let _ = Table::from_gc_ref(r).raw_set(state, k, Val::Bool(true));
            }
            if raise_errors {
                return Err(raise(state, t));
            }
            state.push(t);
            return Ok(1);
        }
    };
    let is_error = matches!(reply, Reply::Error(_));
    let v = convert::reply_to_lua(state, &reply, resp);
    if is_error {
        let k = Val::Str(state.gc.intern_string(b"ignore_error_stats_update"));
        if let Val::Table(r) = v {
            let _ = Table::from_gc_ref(r).raw_set(state, k, Val::Bool(true));
        }
        if raise_errors {
            return Err(raise(state, v));
        }
    }
    state.push(v);
    Ok(1)
}

/// Whether a function (or library) name has only letters, digits and underscores.
pub fn valid_name(name: &[u8]) -> bool {
    !name.is_empty() && name.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'_')
}

/// `redis.register_function(name, callback)` or `redis.register_function{function_name=...,
/// callback=..., flags={...}, description=...}`, while a library loads.
fn register_function(state: &mut LuaState) -> LuaResult<u32> {
    if LOADING.with(|l| l.borrow().is_none()) {
        return Err(raise_text(
            state,
            "redis.register_function can only be called on FUNCTION LOAD command",
        ));
    }
    let n = nargs(state);
    if !(1..=2).contains(&n) {
        return Err(raise_text(
            state,
            "wrong number of arguments to redis.register_function",
        ));
    }
    let mut name = None;
    let mut desc = None;
    let mut callback = None;
    let mut flags = super::ScriptFlags::default();
    if n == 2 {
        let v = arg(state, 0);
        name = match v {
            Val::Str(_) | Val::Num(_) => convert::to_bytes(state, v),
            _ => None,
        };
        if name.is_none() {
            return Err(raise_text(
                state,
                "first argument to redis.register_function must be a string",
            ));
        }
        match arg(state, 1) {
            f @ Val::Function(_) => callback = Some(f),
            _ => {
                return Err(raise_text(
                    state,
                    "second argument to redis.register_function must be a function",
                ))
            }
        }
    } else {
        let Val::Table(t) = arg(state, 0) else {
            return Err(raise_text(state, "calling redis.register_function with a single argument is only applicable to Lua table (representing named arguments)."));
        };
        let entries: Vec<(Val, Val)> = {
            let mut out = Vec::new();
            if let Some(tab) = state.gc.tables.get(t) {
                let mut key = Val::Nil;
                while let Ok(Some((k, v))) = tab.next(key, &state.gc.string_arena) {
                    out.push((k, v));
                    key = k;
                }
            }
            out
        };
        for (k, v) in entries {
            let key = match k {
                Val::Str(_) | Val::Num(_) => convert::to_bytes(state, k).unwrap_or_default(),
                _ => {
                    return Err(raise_text(
                        state,
                        "named argument key given to redis.register_function is not a string",
                    ))
                }
            };
            let string_of = |state: &LuaState, v: Val| match v {
                Val::Str(_) | Val::Num(_) => convert::to_bytes(state, v),
                _ => None,
            };
            if key.eq_ignore_ascii_case(b"function_name") {
                name = string_of(state, v);
                if name.is_none() {
                    return Err(raise_text(
                        state,
                        "function_name argument given to redis.register_function must be a string",
                    ));
                }
            } else if key.eq_ignore_ascii_case(b"description") {
                desc = string_of(state, v);
                if desc.is_none() {
                    return Err(raise_text(
                        state,
                        "description argument given to redis.register_function must be a string",
                    ));
                }
            } else if key.eq_ignore_ascii_case(b"callback") {
                if !matches!(v, Val::Function(_)) {
                    return Err(raise_text(
                        state,
                        "callback argument given to redis.register_function must be a function",
                    ));
                }
                callback = Some(v);
            } else if key.eq_ignore_ascii_case(b"flags") {
                let Val::Table(ft) = v else {
                    return Err(raise_text(state, "flags argument to redis.register_function must be a table representing function flags"));
                };
                let mut values = Vec::new();
                if let Some(tab) = state.gc.tables.get(ft) {
                    let mut key = Val::Nil;
                    while let Ok(Some((k2, v2))) = tab.next(key, &state.gc.string_arena) {
                        values.push(v2);
                        key = k2;
                    }
                }
                for fv in values {
                    let flag = match fv {
                        Val::Str(_) | Val::Num(_) => {
                            convert::to_bytes(state, fv).unwrap_or_default()
                        }
                        _ => return Err(raise_text(state, "unknown flag given")),
                    };
                    match flag.as_slice() {
                        b"no-writes" => flags.no_writes = true,
                        b"allow-oom" => flags.allow_oom = true,
                        b"allow-stale" => flags.allow_stale = true,
                        b"no-cluster" => flags.no_cluster = true,
                        b"allow-cross-slot-keys" => flags.allow_cross_slot = true,
                        _ => return Err(raise_text(state, "unknown flag given")),
                    }
                }
            } else {
                return Err(raise_text(
                    state,
                    "unknown argument given to redis.register_function",
                ));
            }
        }
        if name.is_none() {
            return Err(raise_text(
                state,
                "redis.register_function must get a function name argument",
            ));
        }
        if callback.is_none() {
            return Err(raise_text(
                state,
                "redis.register_function must get a callback argument",
            ));
        }
    }
    let (Some(name), Some(callback)) = (name, callback) else {
        return Err(raise_text(
            state,
            "redis.register_function must get a callback argument",
        ));
    };
    if !valid_name(&name) {
        return Err(raise_text(state, "Library names can only contain letters, numbers, or underscores(_) and must be at least one character long"));
    }
    let name = String::from_utf8_lossy(&name).into_owned();
    let duplicate = LOADING.with(|l| {
        l.borrow()
            .as_ref()
            .is_some_and(|list| list.iter().any(|r| r.name == name))
    });
    if duplicate {
        return Err(raise_text(state, "Function already exists in the library"));
    }
    let registry = Table::from_gc_ref(state.registry);
    let k = Val::Str(
        state
            .gc
            .intern_string(format!("pending:{}", name).as_bytes()),
    );
    let _ = registry.raw_set(state, k, callback);
    barrier(state, &registry);
    LOADING.with(|l| {
        if let Some(list) = l.borrow_mut().as_mut() {
            list.push(Registered { name, desc, flags });
        }
    });
    Ok(0)
}

/// `redis.sha1hex(s)`
fn redis_sha1hex(state: &mut LuaState) -> LuaResult<u32> {
    if nargs(state) != 1 {
        return Err(raise_text(state, "wrong number of arguments"));
    }
    let v = arg(state, 0);
    let data = convert::to_bytes(state, v).unwrap_or_default();
    push_bytes(state, super::sha1_hex(&data).as_bytes());
    Ok(1)
}

/// The one string argument of `redis.error_reply` / `redis.status_reply`; None after pushing
/// Redis's `{err=...}` for a wrong number or type of arguments.
fn reply_text_arg(state: &mut LuaState) -> Option<Vec<u8>> {
    let v = arg(state, 0);
    if nargs(state) != 1 || !matches!(v, Val::Str(_)) {
        let t = error_table(state, b"wrong number or type of arguments");
        state.push(t);
        return None;
    }
    Some(convert::to_bytes(state, v).unwrap_or_default())
}

/// `redis.error_reply(msg)` → `{err=msg}`, with `ERR` when msg has no code.
fn redis_error_reply(state: &mut LuaState) -> LuaResult<u32> {
    let Some(text) = reply_text_arg(state) else {
        return Ok(1);
    };
    let mut with_dash = text.clone();
    if !text.starts_with(b"-") {
        with_dash.insert(0, b'-');
    }
    let t = error_table(state, &with_dash);
    state.push(t);
    Ok(1)
}

/// `redis.status_reply(msg)` → `{ok=msg}`.
fn redis_status_reply(state: &mut LuaState) -> LuaResult<u32> {
    let Some(text) = reply_text_arg(state) else {
        return Ok(1);
    };
    let t = field_table(state, b"ok", &text);
    state.push(t);
    Ok(1)
}

/// `redis.log(level, ...)`: checked as Redis checks it; there is no log file to write.
fn redis_log(state: &mut LuaState) -> LuaResult<u32> {
    let n = nargs(state);
    if n < 2 {
        return Err(raise_text(
            state,
            "redis.log() requires two arguments or more.",
        ));
    }
    let level = match convert::to_number(state, arg(state, 0)) {
        Some(l) => l,
        None => {
            return Err(raise_text(
                state,
                "First argument must be a number (log level).",
            ))
        }
    };
    if !(0.0..4.0).contains(&level.trunc()) {
        return Err(raise_text(state, "Invalid debug level."));
    }
    Ok(0)
}

/// `redis.setresp(2|3)`: the protocol of the replies the script gets.
fn redis_setresp(state: &mut LuaState) -> LuaResult<u32> {
    if !in_script() {
        return Err(raise_text(
            state,
            "redis.setresp can only be called inside a script invocation",
        ));
    }
    if nargs(state) != 1 {
        return Err(raise_text(state, "redis.setresp() requires one argument."));
    }
    let resp = convert::to_number(state, arg(state, 0)).unwrap_or(0.0) as i64;
    if resp != 2 && resp != 3 {
        return Err(raise_text(state, "RESP version must be 2 or 3."));
    }
    RUN.with(|r| {
        if let Some(r) = r.borrow_mut().as_mut() {
            r.resp = resp as u8;
        }
    });
    Ok(0)
}

/// `redis.set_repl(flags)`: where the script's next writes propagate (`redis.REPL_NONE`,
/// `REPL_AOF`, `REPL_REPLICA`/`REPL_SLAVE`, `REPL_ALL`). A number is truncated as C does; a
/// value that is no number counts as 0.
fn redis_set_repl(state: &mut LuaState) -> LuaResult<u32> {
    if !in_script() {
        return Err(raise_text(
            state,
            "redis.set_repl can only be called inside a script invocation",
        ));
    }
    if nargs(state) != 1 {
        return Err(raise_text(
            state,
            "redis.set_repl() requires two arguments.",
        ));
    }
    // C converts to int: NaN and numbers out of its range become INT_MIN, an invalid flag.
    let flags = match convert::to_number(state, arg(state, 0)) {
        Some(x) if x.is_nan() => -1,
        Some(x) => x as i64,
        None => 0,
    };
    if flags & !3 != 0 {
        return Err(raise_text(
            state,
            "Invalid replication flags. Use REPL_AOF, REPL_REPLICA, REPL_ALL or REPL_NONE.",
        ));
    }
    RUN.with(|r| {
        if let Some(r) = r.borrow_mut().as_mut() {
            r.repl = flags as u8;
        }
    });
    Ok(0)
}

/// `redis.replicate_commands()`: always on in Redis 7, returns true.
fn redis_replicate_commands(state: &mut LuaState) -> LuaResult<u32> {
    state.push(Val::Bool(true));
    Ok(1)
}

/// `redis.breakpoint()`: false outside the debugger.
fn redis_breakpoint(state: &mut LuaState) -> LuaResult<u32> {
    state.push(Val::Bool(false));
    Ok(1)
}

/// `redis.debug(...)`: nothing outside the debugger.
fn redis_debug(_state: &mut LuaState) -> LuaResult<u32> {
    Ok(0)
}

/// `redis.acl_check_cmd(cmd, ...)`: the default user may run every command that exists.
fn redis_acl_check_cmd(state: &mut LuaState) -> LuaResult<u32> {
    if !in_script() {
        return Err(raise_text(
            state,
            "redis.acl_check_cmd can only be called inside a script invocation",
        ));
    }
    let n = nargs(state);
    if n == 0 {
        return Err(raise_text(
            state,
            "Please specify at least one argument for this redis lib call",
        ));
    }
    let mut argv = Vec::with_capacity(n);
    for i in 0..n {
        match arg(state, i) {
            Val::Num(x) => argv.push(crate::util::fmt_g17(x).into_bytes()),
            v @ Val::Str(_) => argv.push(convert::to_bytes(state, v).unwrap_or_default()),
            _ => {
                return Err(raise_text(
                    state,
                    "Lua redis lib command arguments must be strings or integers",
                ))
            }
        }
    }
    // The command must exist; its arity is not checked (Redis looks it up only).
    let target = RUN.with(|r| r.borrow().as_ref().map(|r| (r.eng, r.client)));
    let resolved = match target {
        // SAFETY: as in `command`: the engine is suspended in `LuaVm::run` while the script
        // runs, and only read here.
        Some((eng, _)) if !eng.is_null() => unsafe { &*eng }.resolve(&argv),
        _ => crate::engine::resolve(&argv),
    };
    let cmd = match resolved {
        Ok(cmd) => Some(cmd),
        Err(rejected) => rejected.cmd,
    };
    let Some(cmd) = cmd else {
        return Err(raise_text(
            state,
            "Invalid command passed to redis.acl_check_cmd()",
        ));
    };
    let allowed = match target {
        Some((eng, client)) if !eng.is_null() => {
            // SAFETY: as in `command`: the engine is suspended in `LuaVm::run` while
            // the script runs, and only read here.
            let eng: &Engine = unsafe { &*eng };
            eng.acl_check(client, cmd, &argv).is_ok()
        }
        _ => true,
    };
    state.push(Val::Bool(allowed));
    Ok(1)
}

// ---------------------------------------------------------------------------------------
// math.random as Redis's: lrand48, the same sequence on every platform.
// ---------------------------------------------------------------------------------------

const LRAND48_INIT: u64 = 0x1234_ABCD_330E;
const LRAND48_MAX: u64 = i32::MAX as u64;

thread_local! {
    static RAND: std::cell::Cell<u64> = const { std::cell::Cell::new(LRAND48_INIT) };
}

fn lrand48() -> u64 {
    RAND.with(|r| {
        let x = r.get().wrapping_mul(0x5_DEEC_E66D).wrapping_add(0xB) & 0xFFFF_FFFF_FFFF;
        r.set(x);
        x >> 17
    })
}

fn check_int(state: &mut LuaState, i: usize, name: &str) -> LuaResult<i64> {
    match convert::to_number(state, arg(state, i)) {
        Some(n) => Ok(n as i32 as i64),
        None => {
            let got = arg(state, i);
            let tn = if matches!(got, Val::Nil) && i >= nargs(state) {
                "no value"
            } else {
                got.type_name()
            };
            Err(rilua::runtime_error(format!(
                "bad argument #{} to '{}' (number expected, got {})",
                i + 1,
                name,
                tn
            )))
        }
    }
}

/// `math.random([m [, n]])`
fn math_random(state: &mut LuaState) -> LuaResult<u32> {
    if !in_script() {
        return Err(rilua::runtime_error(
            "math.random can only be called inside a script invocation",
        ));
    }
    let r = (lrand48() % LRAND48_MAX) as f64 / LRAND48_MAX as f64;
    let v = match nargs(state) {
        0 => r,
        1 => {
            let u = check_int(state, 0, "random")?;
            if u < 1 {
                return Err(rilua::runtime_error(
                    "bad argument #1 to 'random' (interval is empty)",
                ));
            }
            (r * u as f64).floor() + 1.0
        }
        2 => {
            let l = check_int(state, 0, "random")?;
            let u = check_int(state, 1, "random")?;
            if l > u {
                return Err(rilua::runtime_error(
                    "bad argument #2 to 'random' (interval is empty)",
                ));
            }
            (r * (u - l + 1) as f64).floor() + l as f64
        }
        _ => return Err(rilua::runtime_error("wrong number of arguments")),
    };
    state.push(Val::Num(v));
    Ok(1)
}

/// `math.randomseed(n)`
fn math_randomseed(state: &mut LuaState) -> LuaResult<u32> {
    if !in_script() {
        return Err(rilua::runtime_error(
            "math.randomseed can only be called inside a script invocation",
        ));
    }
    let seed = check_int(state, 0, "randomseed")? as i32 as u32 as u64;
    RAND.with(|r| r.set((seed << 16) | 0x330E));
    Ok(0)
}

thread_local! {
    /// Set when a library function refused an allocation the heap has no room for (before
    /// making it, so the heap is not past its limit then).
    static REFUSED_ALLOC: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// The error of an allocation the heap has no room for, raised by a library function.
pub(super) fn no_room() -> LuaError {
    REFUSED_ALLOC.with(|r| r.set(true));
    LuaError::Memory
}

/// `__heap_exhausted()`: whether a library function just refused an allocation (the sandbox's
/// error handler asks, to tell Lua's own `not enough memory` from a script's error of the
/// same text).
fn heap_exhausted(state: &mut LuaState) -> LuaResult<u32> {
    let refused = REFUSED_ALLOC.with(|r| r.replace(false));
    state.push(Val::Bool(refused));
    Ok(1)
}

/// Whether the heap has room for `bytes` more within [`LUA_HEAP_LIMIT`], by the interpreter's
/// count (after collecting the garbage, when that count says no).
fn has_room(state: &mut LuaState, bytes: usize) -> bool {
    if bytes > LUA_HEAP_LIMIT {
        return false;
    }
    let fits = |state: &LuaState| state.gc.total_alloc().saturating_add(bytes) <= LUA_HEAP_LIMIT;
    fits(state) || (state.full_gc().is_ok() && fits(state))
}

/// What the running script holds now: the host's allocations beyond those when it started,
/// or the interpreter's count.
fn heap_in_use(state: &LuaState, counter: Option<(fn() -> u64, u64)>) -> usize {
    match counter {
        Some((f, from)) => usize::try_from(f().saturating_sub(from)).unwrap_or(usize::MAX),
        None => state.gc.total_alloc(),
    }
}

/// The heap check of the count hook: past [`LUA_HEAP_LIMIT`] the garbage is collected, and
/// if the script still holds too much, Lua's allocation failure is raised.
fn check_heap(state: &mut LuaState, counter: Option<(fn() -> u64, u64)>) -> LuaResult<()> {
    if heap_in_use(state, counter) <= LUA_HEAP_LIMIT {
        return Ok(());
    }
    let _ = state.full_gc();
    if heap_in_use(state, counter) <= LUA_HEAP_LIMIT {
        return Ok(());
    }
    Err(no_room())
}

/// `table.concat(t [, sep [, i [, j]]])`: Lua's, after making sure the string it would make
/// fits in the heap (a separator repeated over a long table could ask for far more than the
/// heap holds). The length is counted over the values from `i` that are strings or numbers:
/// the library itself then raises the errors for bad arguments.
fn table_concat(state: &mut LuaState) -> LuaResult<u32> {
    if let Val::Table(t) = arg(state, 0) {
        let t = Table::from_gc_ref(t);
        let sep = match arg(state, 1) {
            v @ (Val::Str(_) | Val::Num(_)) => convert::to_bytes(state, v).map_or(0, |b| b.len()),
            _ => 0,
        };
        let from = match arg(state, 2) {
            Val::Num(n) => n as i64,
            _ => 1,
        };
        let to = match arg(state, 3) {
            Val::Num(n) => n as i64,
            _ => t.raw_len(state),
        };
        let mut total = 0usize;
        let mut i = from;
        while i <= to {
            let len = match t.raw_get(state, Val::Num(i as f64)) {
                Ok(Val::Str(r)) => state.gc.string_arena.get(r).map_or(0, |s| s.data().len()),
                Ok(Val::Num(_)) => 24,
                _ => break,
            };
            total = total.saturating_add(len).saturating_add(sep);
            if !has_room(state, total) {
                return Err(no_room());
            }
            i += 1;
        }
    }
    rilua::stdlib::table::tab_concat(state)
}

/// `string.rep(s, n)`: a string longer than the heap has room for fails as an allocation past
/// the process's memory does in Redis, before anything is allocated.
fn string_rep(state: &mut LuaState) -> LuaResult<u32> {
    let s = arg(state, 0);
    let Some(bytes) = convert::to_bytes(state, s) else {
        let got = if nargs(state) == 0 {
            "no value"
        } else {
            s.type_name()
        };
        return Err(rilua::runtime_error(format!(
            "bad argument #1 to 'rep' (string expected, got {})",
            got
        )));
    };
    let n = arg(state, 1);
    let Some(count) = convert::to_number(state, n) else {
        let got = if nargs(state) < 2 {
            "no value"
        } else {
            n.type_name()
        };
        return Err(rilua::runtime_error(format!(
            "bad argument #2 to 'rep' (number expected, got {})",
            got
        )));
    };
    let count = if count.is_nan() { 0 } else { count as i32 };
    let count = usize::try_from(count).unwrap_or(0);
    if !has_room(state, bytes.len().saturating_mul(count)) {
        return Err(no_room());
    }
    push_bytes(state, &bytes.repeat(count));
    Ok(1)
}

/// `loadstring(s [, chunkname])` for source text only: Redis's Lua reads every chunk as text,
/// so a precompiled chunk (`string.dump`'s output, starting with ESC) fails to parse instead
/// of loading, with the parser's error for its first byte. Numbers are accepted as strings and
/// the name ends at a NUL byte, as C Lua reads them.
fn text_loadstring(state: &mut LuaState) -> LuaResult<u32> {
    let string_arg = |state: &LuaState, i: usize| -> LuaResult<Option<Vec<u8>>> {
        match arg(state, i) {
            Val::Nil if i > 0 => Ok(None),
            v @ (Val::Str(_) | Val::Num(_)) => Ok(convert::to_bytes(state, v)),
            v => {
                let got = if i >= nargs(state) {
                    "no value"
                } else {
                    v.type_name()
                };
                Err(rilua::runtime_error(format!(
                    "bad argument #{} to 'loadstring' (string expected, got {})",
                    i + 1,
                    got
                )))
            }
        }
    };
    let source = string_arg(state, 0)?.unwrap_or_default();
    let name = string_arg(state, 1)?.unwrap_or_else(|| source.clone());
    let name = match name.iter().position(|&c| c == 0) {
        Some(n) => name[..n].to_vec(),
        None => name,
    };
    let id = parser_chunkid(&name);
    if source.first() == Some(&0x1b) {
        state.push(Val::Nil);
        push_bytes(
            state,
            format!("{id}:1: unexpected symbol near 'char(27)'").as_bytes(),
        );
        return Ok(2);
    }
    // The library's own loadstring, with both arguments as strings.
    state.top = state.base;
    push_bytes(state, &source);
    push_bytes(state, &name);
    let n = rilua::stdlib::base::lua_loadstring(state)?;
    // A syntax error names the chunk as C Lua's parser does (it allows longer names than
    // runtime errors; the library uses the shorter form for both).
    if n == 2 && state.top >= 2 {
        let at = state.top - 1;
        if let Some(msg) = convert::to_bytes(state, state.stack_get(at)) {
            let short = rilua::error::chunkid(&String::from_utf8_lossy(&name));
            if let Some(rest) = msg.strip_prefix(short.as_bytes()) {
                let mut fixed = id.into_bytes();
                fixed.extend_from_slice(rest);
                let r = state.gc.intern_string(&fixed);
                state.stack_set(at, Val::Str(r));
            }
        }
    }
    Ok(n)
}

/// How C Lua's parser names a chunk in its errors (`luaO_chunkid` with the lexer's 80-byte
/// buffer): `=name` as is, `@file` from its end, source text as `[string "first line..."]`.
fn parser_chunkid(name: &[u8]) -> String {
    const MAXSRC: usize = 80;
    let lossy = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    if let Some(rest) = name.strip_prefix(b"=") {
        lossy(&rest[..rest.len().min(MAXSRC - 1)])
    } else if let Some(rest) = name.strip_prefix(b"@") {
        let room = MAXSRC - " '...' ".len() - 1;
        if rest.len() > room {
            format!("...{}", lossy(&rest[rest.len() - room..]))
        } else {
            lossy(rest)
        }
    } else {
        let room = MAXSRC - " [string \"...\"] ".len() - 1;
        let line = name
            .iter()
            .position(|&c| c == b'\n' || c == b'\r')
            .unwrap_or(name.len());
        let len = line.min(room);
        if len < name.len() {
            format!("[string \"{}...\"]", lossy(&name[..len]))
        } else {
            format!("[string \"{}\"]", lossy(name))
        }
    }
}

// ---------------------------------------------------------------------------------------
// The time budget.
// ---------------------------------------------------------------------------------------

/// The count hook, every [`HOOK_PERIOD`] instructions. Past the budget
/// (`busy-reply-threshold`) a host that can serve other clients meanwhile (a
/// [`super::BusyHandler`]) is called, and the script goes on until SCRIPT KILL or FUNCTION
/// KILL stops it; a host that runs scripts in slices (the page) gets the script suspended
/// every [`SLICE_US`], at the first instruction where its coroutine can stop (not inside a
/// `pcall` or a metamethod: if none comes for another threshold, or [`STUCK_GRACE_US`], the
/// script is ended as where neither is possible). Once it has been stopped the hook fires at every instruction,
/// so a `pcall` in the script cannot keep it alive.
fn count_hook(state: &mut LuaState) -> LuaResult<u32> {
    let heap = RUN.with(|r| {
        let r = r.borrow();
        let run = r.as_ref()?;
        if run.eng.is_null() || run.killed {
            return None;
        }
        // SAFETY: as in `command`; only read.
        let eng: &Engine = unsafe { &*run.eng };
        Some((eng.memory_counter()?, run.heap_from?))
    });
    if heap.is_some() || RUN.with(|r| r.borrow().as_ref().is_some_and(|r| !r.killed)) {
        check_heap(state, heap)?;
    }
    let (over, eng, now, may_yield, thread, slice_from, limit) = RUN.with(|r| {
        let mut r = r.borrow_mut();
        let Some(run) = r.as_mut() else {
            return (false, std::ptr::null_mut(), 0, false, None, 0, 0);
        };
        if run.killed {
            return (true, std::ptr::null_mut(), 0, false, None, 0, 0);
        }
        run.checks += 1;
        let now = run.clock.map_or(0, |c| c());
        let over = match run.clock {
            Some(_) => now.saturating_sub(run.started_us) > run.limit_us,
            None => run.checks > MAX_CHECKS_WITHOUT_CLOCK,
        };
        (
            over,
            run.eng,
            now,
            run.may_yield && run.clock.is_some(),
            run.thread,
            run.slice_from_us,
            run.limit_us,
        )
    });
    if !over {
        return Ok(0);
    }
    let mut by_user = false;
    if !eng.is_null() {
        // SAFETY: as in `command`: the engine's handler is suspended in `LuaVm::run` (or
        // `resume_script`) until the coroutine yields or returns; the host's handler reaches
        // it only through this reference.
        let eng: &mut Engine = unsafe { &mut *eng };
        let mut slow = None;
        if let Some(run) = eng.scripts.running.as_mut() {
            if !run.timed_out {
                let elapsed_ms = now.saturating_sub(run.started_us) / 1000;
                let kill = if run.eval {
                    "SCRIPT KILL"
                } else {
                    "FUNCTION KILL"
                };
                slow = Some(format!(
                    "Slow script detected: still in execution after {elapsed_ms} milliseconds. \
                     You can try killing the script using the {kill} command. Script name is: {}.",
                    run.name
                ));
            }
            run.timed_out = true;
            by_user = run.kill;
        }
        if let Some(line) = slow {
            eng.server_log(crate::engine::log::LogLevel::Warning, line);
        }
        if !by_user {
            if let Some(handler) = eng.scripts.busy_handler {
                handler(eng);
                by_user = eng.scripts.running.as_ref().is_some_and(|r| r.kill);
                if !by_user {
                    return Ok(0);
                }
            } else if may_yield {
                // Inside the hook the call to it is the one C call: any other is a pcall, a
                // metamethod or a library function running Lua, which a yield cannot cross.
                let yieldable = state.current_thread.is_some()
                    && state.current_thread == thread
                    && state.n_ccalls == 1;
                if yieldable {
                    RUN.with(|r| {
                        if let Some(run) = r.borrow_mut().as_mut() {
                            run.stuck_since = None;
                        }
                    });
                    if now.saturating_sub(slice_from) >= SLICE_US {
                        state.hook.yield_on_hook = true;
                        state.hook.hook_count = 1;
                        RUN.with(|r| {
                            if let Some(run) = r.borrow_mut().as_mut() {
                                run.yielding = true;
                            }
                        });
                    }
                    return Ok(0);
                }
                // Look again soon, at another point of the loop (a global read runs the
                // sandbox's __index, a Lua function called as a metamethod).
                state.hook.hook_count = 1 + (now % 97) as i32;
                let since = RUN.with(|r| {
                    r.borrow_mut()
                        .as_mut()
                        .map_or(now, |run| *run.stuck_since.get_or_insert(now))
                });
                if now.saturating_sub(since) <= limit.max(STUCK_GRACE_US) {
                    return Ok(0);
                }
            }
        }
    }
    let place = if by_user { current_place(state) } else { None };
    RUN.with(|r| {
        if let Some(run) = r.borrow_mut().as_mut() {
            if !run.killed {
                run.killed = true;
                run.killed_at = place;
            }
        }
    });
    state.hook.base_hook_count = 1;
    state.hook.hook_count = 1;
    Err(raise_text(state, crate::error::LUA_KILLED_BY_USER))
}

/// `coroutine.yield(...)`: as Lua's, except in the script's own coroutine, which stands for
/// the main thread Redis runs scripts in and so cannot yield.
fn script_yield(state: &mut LuaState) -> LuaResult<u32> {
    let own = RUN.with(|r| r.borrow().as_ref().and_then(|r| r.thread));
    if own.is_some() && state.current_thread == own {
        return Err(rilua::runtime_error(
            "attempt to yield across metamethod/C-call boundary",
        ));
    }
    rilua::stdlib::coroutine::co_yield(state)
}

/// `coroutine.running()`: nil in the script's own coroutine, as in Redis's main thread.
fn script_running(state: &mut LuaState) -> LuaResult<u32> {
    let own = RUN.with(|r| r.borrow().as_ref().and_then(|r| r.thread));
    match state.current_thread {
        Some(t) if Some(t) != own => state.push(Val::Thread(t)),
        _ => state.push(Val::Nil),
    }
    Ok(1)
}

/// `coroutine.create(f)`: the new coroutine gets the creator's hook, as a thread made with
/// `lua_newthread` does in C Lua, so the time budget reaches a loop inside it.
fn script_create(state: &mut LuaState) -> LuaResult<u32> {
    let n = rilua::stdlib::coroutine::co_create(state)?;
    if let Some(Val::Thread(t)) = state.top.checked_sub(1).map(|i| state.stack_get(i)) {
        let mut hook = state.hook.clone();
        hook.yield_on_hook = false;
        if let Some(th) = state.gc.threads.get_mut(t) {
            th.hook = hook;
        }
    }
    Ok(n)
}

/// The source and line of the user's code running now (the innermost frame of the script
/// or library, not of the sandbox), as the error handler names them.
fn current_place(state: &LuaState) -> Option<(String, String)> {
    let top = state.ci.min(state.call_stack.len().checked_sub(1)?);
    (0..=top).rev().find_map(|i| {
        let ci = &state.call_stack[i];
        let Val::Function(r) = state.stack_get(ci.func) else {
            return None;
        };
        let Some(Closure::Lua(lcl)) = state.gc.closures.get(r) else {
            return None;
        };
        if !lcl.proto.source.starts_with("@user_") {
            return None;
        }
        let info = &lcl.proto.line_info;
        let line = match ci.saved_pc {
            pc if pc > 0 && pc <= info.len() => info[pc - 1],
            _ => *info.first()?,
        };
        Some((lcl.proto.source.clone(), line.to_string()))
    })
}
