//! Lua scripting (EVAL and friends), on `rilua`, a Lua 5.1 interpreter written in Rust that
//! builds for wasm32-unknown-unknown where the C Lua bindings cannot.
//!
//! - `mod.rs`: the script cache (SHA1 → body and shebang flags) and running a script for a
//!   client: KEYS/ARGV, the time budget, the reply;
//! - `vm.rs`: one Lua state with Redis's sandbox (`sandbox.lua`) and the `redis` library;
//! - `convert.rs`: replies to Lua values and Lua values to replies, by Redis's rules;
//! - `libs.rs`: the `bit` and `cjson` libraries Redis adds to its Lua; `cjsoncfg.rs`: cjson's
//!   settings and `cjson.new()`; `msgpack.rs`: `cmsgpack`; `structlib.rs`: `struct`;
//! - `functions.rs`: FUNCTION libraries and FCALL, in a Lua state of their own.
//!
//! Like Redis, the commands a script sends run through `Engine::call` (as `Via::Script`), so
//! stats, MONITOR, notifications and tracking see them.

mod cjsoncfg;
pub(crate) mod convert;
pub mod functions;
mod libs;
mod msgpack;
mod structlib;
mod vm;

use hashbrown::HashMap;

use crate::engine::Ctx;
use crate::error::{CmdError, CmdResult};
use crate::protocol::Reply;

pub use vm::{LuaVm, Registered, Target};

/// Script flags from a `#!lua flags=...` shebang.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ScriptFlags {
    /// No shebang: the script runs as before Redis 7 (EVAL's own flags apply).
    pub compat: bool,
    /// `no-writes`
    pub no_writes: bool,
    /// `allow-oom`
    pub allow_oom: bool,
    /// `allow-stale`
    pub allow_stale: bool,
    /// `no-cluster`
    pub no_cluster: bool,
    /// `allow-cross-slot-keys`
    pub allow_cross_slot: bool,
}

/// One cached script.
#[derive(Clone, Debug)]
pub struct Script {
    /// The source as sent.
    pub body: Vec<u8>,
    /// Its shebang flags.
    pub flags: ScriptFlags,
}

/// The scripting state of an engine: the script cache and the Lua state (made on first use,
/// and out of the engine while a script runs).
#[derive(Default)]
pub struct Scripts {
    /// Scripts by lower-case hex SHA1.
    pub cache: HashMap<String, Script>,
    /// The Lua state, when one has been made.
    pub vm: Option<LuaVm>,
    /// FUNCTION libraries by name.
    pub libraries: std::collections::BTreeMap<String, functions::Library>,
    /// The Lua state of the functions (Redis keeps them apart from EVAL's).
    pub fvm: Option<LuaVm>,
    /// The script running now, while it runs.
    pub running: Option<Running>,
    /// How the host serves other clients while a script runs past `busy-reply-threshold`;
    /// without one, such a script is ended there (see [`BusyHandler`]).
    pub busy_handler: Option<BusyHandler>,
    /// The host runs scripts in slices (the page, whose worker must go back to its event
    /// loop to hear from other tabs): a script past `busy-reply-threshold` is suspended every
    /// few milliseconds, other clients are served (BUSY but for SCRIPT KILL and the like),
    /// and the host calls [`crate::Engine::run_script_slice`] to go on.
    pub sliced: bool,
    /// Set by a script that was just suspended; `Engine::call` takes it.
    pub yielded: bool,
    /// The command of the script suspended between slices, run on by
    /// [`crate::Engine::run_script_slice`].
    pub slice: Option<SliceCall>,
}

/// The EVAL or FCALL whose script is suspended between slices: its client waits for the
/// reply, and its later commands wait behind it.
#[derive(Clone, Debug)]
pub struct SliceCall {
    /// The client that sent it.
    pub client: crate::engine::ClientId,
    /// The command (EVAL, FCALL ... as resolved).
    pub cmd: &'static crate::commands::Command,
    /// Its arguments.
    pub argv: Vec<Vec<u8>>,
    /// The client's database when it ran.
    pub db: usize,
}

/// Serves the other clients while a script runs past `busy-reply-threshold`, as Redis's
/// event loop does: the host reads their commands and runs them with
/// [`crate::Engine::execute`] (which answers BUSY to all but SCRIPT KILL, FUNCTION KILL,
/// SHUTDOWN NOSAVE and the few others Redis allows), and returns. Called again and again
/// while the script runs; a SCRIPT KILL it runs ends the script.
pub type BusyHandler = fn(&mut crate::Engine);

/// The script running now (FUNCTION STATS, SCRIPT KILL, the BUSY replies).
#[derive(Clone, Debug)]
pub struct Running {
    /// The client that runs it.
    pub client: crate::engine::ClientId,
    /// EVAL (or EVALSHA) rather than FCALL.
    pub eval: bool,
    /// The function's name, or the script's SHA1.
    pub name: String,
    /// The command line that runs it.
    pub argv: Vec<Vec<u8>>,
    /// When it started, on the host's microsecond clock.
    pub started_us: u64,
    /// It called a write command: it can no longer be killed.
    pub wrote: bool,
    /// It declared `allow-oom`: its commands run even when memory is over maxmemory.
    pub allow_oom: bool,
    /// It ran past busy-reply-threshold: other clients get BUSY.
    pub timed_out: bool,
    /// SCRIPT KILL or FUNCTION KILL asked it to stop.
    pub kill: bool,
}

impl Scripts {
    /// The flags a script declared, for the EVAL or FCALL command line `argv` (`name` is the
    /// command's lower-case name): Redis then judges the command by them (a `no-writes`
    /// script is no write, so CLIENT PAUSE WRITE lets it run). None for other commands, a
    /// script without a shebang, or one not known yet that cannot be read.
    #[inline]
    pub fn declared_flags(&self, name: &str, argv: &[Vec<u8>]) -> Option<ScriptFlags> {
        // Every command asks: one byte, looked at where it asks, spares all but EVAL* and
        // FCALL* the call and the name comparisons.
        if !matches!(name.as_bytes().first(), Some(b'e' | b'f')) {
            return None;
        }
        self.declared_flags_of(name, argv)
    }

    /// [`Scripts::declared_flags`] for a command whose name may be EVAL* or FCALL*.
    #[inline(never)]
    fn declared_flags_of(&self, name: &str, argv: &[Vec<u8>]) -> Option<ScriptFlags> {
        let first = argv.get(1)?;
        let flags = match name {
            "eval" | "eval_ro" => {
                let sha = sha1_hex(first);
                match self.cache.get(&sha) {
                    Some(s) => s.flags,
                    None => parse_shebang(first).ok()?.0,
                }
            }
            "evalsha" | "evalsha_ro" if first.len() == 40 => {
                let sha = String::from_utf8_lossy(first).to_ascii_lowercase();
                self.cache.get(&sha)?.flags
            }
            "fcall" | "fcall_ro" => {
                self.libraries
                    .values()
                    .flat_map(|l| &l.functions)
                    .find(|f| f.name.as_bytes().eq_ignore_ascii_case(first))?
                    .flags
            }
            _ => return None,
        };
        (!flags.compat).then_some(flags)
    }

    /// Whether a script runs past busy-reply-threshold now, and so whether it is an EVAL.
    pub fn busy(&self) -> Option<bool> {
        self.running
            .as_ref()
            .filter(|r| r.timed_out)
            .map(|r| r.eval)
    }

    /// SCRIPT KILL (`eval`) or FUNCTION KILL: asks the running script to stop, with Redis's
    /// refusals: nothing running, the other kind running, or a script that already wrote.
    pub fn kill(&mut self, eval: bool) -> Result<(), crate::error::CmdError> {
        use crate::error;
        let Some(run) = self.running.as_mut() else {
            return Err(error::NOTBUSY);
        };
        if run.eval != eval {
            return Err(if run.eval {
                error::BUSY_EVAL
            } else {
                error::BUSY_FUNCTION
            });
        }
        if run.wrote {
            return Err(error::UNKILLABLE);
        }
        run.kill = true;
        Ok(())
    }
}

impl Scripts {
    /// SCRIPT FLUSH: forgets every script and the Lua state with them.
    pub fn flush(&mut self) {
        self.cache.clear();
        self.vm = None;
    }
}

/// The lower-case hex SHA1 of `data` (script names, `redis.sha1hex`).
pub fn sha1_hex(data: &[u8]) -> String {
    sha1_smol::Sha1::from(data).digest().to_string()
}

/// Reads a `#!lua ...` first line as Redis does: the flags, and the length of the shebang
/// (the line feed stays in the source so line numbers do not move).
pub fn parse_shebang(body: &[u8]) -> Result<(ScriptFlags, usize), CmdError> {
    let mut flags = ScriptFlags {
        compat: true,
        ..ScriptFlags::default()
    };
    if !body.starts_with(b"#!") {
        return Ok((flags, 0));
    }
    let Some(end) = body.iter().position(|&b| b == b'\n') else {
        return Err(crate::error::SHEBANG_INVALID);
    };
    let parts = match crate::protocol::inline::split_args(&body[..end]) {
        Ok(p) if !p.is_empty() => p,
        _ => return Err(crate::error::SHEBANG_ENGINE_INVALID),
    };
    if parts[0] != b"#!lua" {
        return Err(crate::error::shebang_engine(&parts[0]));
    }
    flags.compat = false;
    for part in &parts[1..] {
        let Some(list) = part.strip_prefix(b"flags=") else {
            return Err(crate::error::shebang_option(part));
        };
        if list.is_empty() {
            continue;
        }
        for name in list.split(|&b| b == b',') {
            match name {
                b"no-writes" => flags.no_writes = true,
                b"allow-oom" => flags.allow_oom = true,
                b"allow-stale" => flags.allow_stale = true,
                b"no-cluster" => flags.no_cluster = true,
                b"allow-cross-slot-keys" => flags.allow_cross_slot = true,
                other => return Err(crate::error::shebang_flag(other)),
            }
        }
    }
    Ok((flags, end))
}

/// Makes sure `body` is in the cache and compiled (SCRIPT LOAD, EVAL); returns its SHA1.
pub fn load_script(ctx: &mut Ctx, body: &[u8]) -> Result<String, CmdError> {
    let sha = sha1_hex(body);
    if ctx.eng.scripts.cache.contains_key(&sha) {
        return Ok(sha);
    }
    let (flags, shebang_len) = parse_shebang(body)?;
    let vm = vm_of(ctx)?;
    vm.compile(&sha, &body[shebang_len..])
        .map_err(crate::error::script_compile)?;
    ctx.eng.scripts.cache.insert(
        sha.clone(),
        Script {
            body: body.to_vec(),
            flags,
        },
    );
    Ok(sha)
}

/// The engine's Lua state, made on first use.
fn vm_of<'a>(ctx: &'a mut Ctx) -> Result<&'a mut LuaVm, CmdError> {
    if ctx.eng.scripts.vm.is_none() {
        let vm = LuaVm::new(false).map_err(crate::error::lua_init_failed)?;
        ctx.eng.scripts.vm = Some(vm);
    }
    ctx.eng
        .scripts
        .vm
        .as_mut()
        .ok_or(crate::error::LUA_UNAVAILABLE)
}

/// EVAL, EVALSHA and their _RO forms once the script is known: checks its flags against the
/// command, runs it with KEYS and ARGV, and converts what it returns.
pub fn run(ctx: &mut Ctx, sha: &str, argv: &[Vec<u8>], numkeys: usize, ro: bool) -> CmdResult {
    let Some(script) = ctx.eng.scripts.cache.get(sha) else {
        return Err(crate::error::NOSCRIPT);
    };
    let flags = script.flags;
    if !flags.compat && flags.no_cluster && ctx.eng.cluster_enabled() {
        return Err(crate::error::SCRIPT_NO_CLUSTER);
    }
    if ctx.eng.serves_no_stale_data() {
        // A script without flags (EVAL's compatibility mode) passed the command's own check,
        // as EVAL may run on a stale replica: it is refused here.
        if flags.compat {
            return Err(crate::error::MASTERDOWN);
        }
        if !flags.allow_stale {
            return Err(crate::error::MASTERDOWN_SCRIPT);
        }
    }
    if !flags.compat && !flags.no_writes && ro {
        return Err(crate::error::SCRIPT_WRITE_IN_RO);
    }
    let read_only = ro || (!flags.compat && flags.no_writes);
    let keys = &argv[3..3 + numkeys];
    let args = &argv[3 + numkeys..];
    let body = script.body.clone();
    let vm = vm_of(ctx)?;
    if !vm.has(sha) {
        // A state made anew (after a script overran its budget) compiles on first use.
        let (_, shebang_len) = parse_shebang(&body).unwrap_or((flags, 0));
        vm.compile(sha, &body[shebang_len..])
            .map_err(crate::error::script_compile)?;
    }
    let Some(mut vm) = ctx.eng.scripts.vm.take() else {
        return Err(crate::error::LUA_UNAVAILABLE);
    };
    let limit_ms = match ctx
        .eng
        .config
        .get_named("busy-reply-threshold")
        .parse::<u64>()
    {
        Ok(0) | Err(_) => 60_000,
        Ok(ms) => ms,
    };
    let target = Target {
        key: format!("f_{}", sha),
        label: sha.to_string(),
        eval: true,
        argv,
    };
    let outcome = vm.run(ctx, &target, keys, args, read_only, limit_ms);
    if ctx.eng.scripts.vm.is_none() && !vm.broken {
        ctx.eng.scripts.vm = Some(vm);
    }
    outcome
}

/// Runs the script suspended between slices for another slice (see [`Scripts::sliced`]).
pub fn resume(ctx: &mut Ctx) -> CmdResult {
    let eval = ctx.eng.scripts.running.as_ref().is_some_and(|r| r.eval);
    let taken = if eval {
        ctx.eng.scripts.vm.take()
    } else {
        ctx.eng.scripts.fvm.take()
    };
    let outcome = match taken {
        Some(mut vm) if vm.is_suspended() => {
            let outcome = vm.resume_script(ctx);
            if !vm.broken {
                let slot = if eval {
                    &mut ctx.eng.scripts.vm
                } else {
                    &mut ctx.eng.scripts.fvm
                };
                slot.get_or_insert(vm);
            }
            return outcome;
        }
        other => other,
    };
    // Nothing to resume (the state was replaced meanwhile): the script is gone.
    if eval {
        ctx.eng.scripts.vm = outcome;
    } else {
        ctx.eng.scripts.fvm = outcome;
    }
    ctx.eng.scripts.running = None;
    Err(crate::error::LUA_UNAVAILABLE)
}

/// How long a script may run: `busy-reply-threshold`, or a minute when that is 0.
fn budget_ms(ctx: &Ctx) -> u64 {
    match ctx
        .eng
        .config
        .get_named("busy-reply-threshold")
        .parse::<u64>()
    {
        Ok(0) | Err(_) => 60_000,
        Ok(ms) => ms,
    }
}

/// The Redis error a failed script answers with: its message, and where it was raised.
fn script_error(msg: &str, sha: &str, place: Option<(String, String)>) -> Reply {
    let mut text = msg.to_string();
    if let Some((source, line)) = place {
        text.push_str(&format!(" script: {}, on {}:{}.", sha, source, line));
    }
    Reply::Error(text.replace(['\r', '\n'], " ").into())
}
