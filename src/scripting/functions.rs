//! FUNCTION libraries and FCALL: a library's code runs once at FUNCTION LOAD to register its
//! functions (`redis.register_function`), which FCALL then calls with the keys and arguments.
//! Functions live in a Lua state of their own, as in Redis.

use super::vm::valid_name;
use super::{budget_ms, LuaVm, Registered, ScriptFlags, Target};
use crate::engine::Ctx;
use crate::error::{self, CmdError, CmdResult};
use crate::protocol::Reply;
use std::collections::BTreeMap;

/// Redis's limit on the time a library's code may take to load.
const LOAD_TIMEOUT_MS: u64 = 500;

/// One loaded library.
#[derive(Clone, Debug)]
pub struct Library {
    /// Its name (from `#!lua name=...`).
    pub name: String,
    /// The whole code, shebang included, as FUNCTION LIST WITHCODE shows it.
    pub code: Vec<u8>,
    /// The functions it registered, in order.
    pub functions: Vec<Registered>,
}

/// The library name, engine and code after the shebang line, as Redis reads them.
fn metadata(code: &[u8]) -> Result<(String, Vec<u8>, usize), CmdError> {
    if !code.starts_with(b"#!") {
        return Err(error::LIBRARY_METADATA_MISSING);
    }
    let Some(end) = code.iter().position(|&b| b == b'\n') else {
        return Err(error::LIBRARY_METADATA_INVALID);
    };
    let parts = match crate::protocol::inline::split_args(&code[..end]) {
        Ok(p) if !p.is_empty() => p,
        _ => return Err(error::LIBRARY_METADATA_INVALID),
    };
    let engine = parts[0][2..].to_vec();
    let mut name: Option<Vec<u8>> = None;
    for part in &parts[1..] {
        if part.len() >= 5 && part[..5].eq_ignore_ascii_case(b"name=") {
            if name.is_some() {
                return Err(error::LIBRARY_NAME_TWICE);
            }
            name = Some(part[5..].to_vec());
            continue;
        }
        return Err(error::library_metadata_value(part));
    }
    let Some(name) = name else {
        return Err(error::LIBRARY_NAME_MISSING);
    };
    if !valid_name(&name) {
        return Err(error::LIBRARY_NAME_INVALID);
    }
    if !engine.eq_ignore_ascii_case(b"lua") {
        return Err(error::engine_not_found(&engine));
    }
    Ok((String::from_utf8_lossy(&name).into_owned(), engine, end))
}

/// The functions' Lua state, made on first use; a state made anew (after a library or a
/// function overran its budget) loads every library again.
fn fvm_of<'a>(ctx: &'a mut Ctx) -> Result<&'a mut LuaVm, CmdError> {
    if ctx.eng.scripts.fvm.is_none() {
        let mut vm = LuaVm::new(true).map_err(error::lua_init_failed)?;
        let clock = ctx.eng.clock();
        for lib in ctx.eng.scripts.libraries.values() {
            let Some(end) = lib.code.iter().position(|&b| b == b'\n') else {
                continue;
            };
            if let Ok(registered) = vm.load_library(&lib.code[end..], LOAD_TIMEOUT_MS, clock) {
                let names: Vec<String> = registered.into_iter().map(|r| r.name).collect();
                vm.commit(&names, &[]);
            }
        }
        ctx.eng.scripts.fvm = Some(vm);
    }
    ctx.eng.scripts.fvm.as_mut().ok_or(error::LUA_UNAVAILABLE)
}

/// FUNCTION LOAD: runs the library's code and keeps its functions; returns its name.
pub fn load(ctx: &mut Ctx, code: &[u8], replace: bool) -> Result<String, CmdError> {
    let (name, _engine, end) = metadata(code)?;
    let old = ctx.eng.scripts.libraries.get(&name).cloned();
    if old.is_some() && !replace {
        return Err(error::library_exists(&name));
    }
    let clock = ctx.eng.clock();
    let vm = fvm_of(ctx)?;
    let registered = vm.load_library(&code[end..], LOAD_TIMEOUT_MS, clock);
    let broken = vm.broken;
    if broken {
        ctx.eng.scripts.fvm = None;
    }
    let registered = registered.map_err(CmdError::err)?;
    let pending: Vec<String> = registered
        .iter()
        .map(|r| format!("pending:{}", r.name))
        .collect();
    let refuse = |ctx: &mut Ctx, e: CmdError| {
        if let Some(vm) = ctx.eng.scripts.fvm.as_mut() {
            vm.forget(&pending);
        }
        Err(e)
    };
    if registered.is_empty() {
        return refuse(ctx, error::NO_FUNCTIONS_REGISTERED);
    }
    for r in &registered {
        let taken = ctx
            .eng
            .scripts
            .libraries
            .values()
            .filter(|l| l.name != name)
            .any(|l| {
                l.functions
                    .iter()
                    .any(|f| f.name.eq_ignore_ascii_case(&r.name))
            });
        if taken {
            return refuse(ctx, error::function_exists(&r.name));
        }
    }
    let new_names: Vec<String> = registered.iter().map(|r| r.name.clone()).collect();
    let old_names: Vec<String> = old
        .map(|l| l.functions.into_iter().map(|f| f.name).collect())
        .unwrap_or_default();
    if broken {
        // The state is made anew with every library, this one included.
        ctx.eng.scripts.libraries.insert(
            name.clone(),
            Library {
                name: name.clone(),
                code: code.to_vec(),
                functions: registered,
            },
        );
        return Ok(name);
    }
    if let Some(vm) = ctx.eng.scripts.fvm.as_mut() {
        vm.commit(&new_names, &old_names);
    }
    ctx.eng.scripts.libraries.insert(
        name.clone(),
        Library {
            name: name.clone(),
            code: code.to_vec(),
            functions: registered,
        },
    );
    ctx.dirty(1);
    Ok(name)
}

/// Builds libraries from their code in a Lua state of their own, as Redis builds a new set of
/// libraries for FUNCTION RESTORE and for a snapshot's function records: every library must
/// load, and no two may share a library or function name.
pub fn compile_all(
    codes: &[Vec<u8>],
    clock: Option<fn() -> u64>,
) -> Result<BTreeMap<String, Library>, CmdError> {
    let mut vm = LuaVm::new(true).map_err(error::lua_init_failed)?;
    let mut libs: BTreeMap<String, Library> = BTreeMap::new();
    for code in codes {
        let (name, _engine, end) = metadata(code)?;
        if libs.contains_key(&name) {
            return Err(error::library_exists(&name));
        }
        let registered = vm
            .load_library(&code[end..], LOAD_TIMEOUT_MS, clock)
            .map_err(CmdError::err)?;
        if registered.is_empty() {
            return Err(error::NO_FUNCTIONS_REGISTERED);
        }
        for r in &registered {
            if libs.values().any(|l| {
                l.functions
                    .iter()
                    .any(|f| f.name.eq_ignore_ascii_case(&r.name))
            }) {
                return Err(error::function_exists(&r.name));
            }
        }
        let names: Vec<String> = registered.iter().map(|r| r.name.clone()).collect();
        vm.commit(&names, &[]);
        libs.insert(
            name.clone(),
            Library {
                name,
                code: code.clone(),
                functions: registered,
            },
        );
    }
    Ok(libs)
}

/// How FUNCTION RESTORE treats the libraries already loaded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RestorePolicy {
    /// Add the payload's libraries; a library name already loaded fails the whole restore.
    Append,
    /// Add them, replacing loaded libraries of the same name.
    Replace,
    /// Drop every loaded library first.
    Flush,
}

/// FUNCTION RESTORE: the payload's libraries, all or none, by `policy`.
pub fn restore(ctx: &mut Ctx, payload: &[u8], policy: RestorePolicy) -> CmdResult {
    use crate::rdb::FunctionPayloadError as E;
    let codes = crate::rdb::undump_functions(payload).map_err(|e| match e {
        E::Footer => error::DUMP_PAYLOAD,
        E::NotFunction => error::RESTORE_NOT_FUNCTION,
        E::Record => error::RESTORE_FUNCTION_RECORD,
    })?;
    let staged = compile_all(&codes, ctx.eng.clock())?;
    let current = &ctx.eng.scripts.libraries;
    let merged = match policy {
        RestorePolicy::Flush => staged,
        RestorePolicy::Append | RestorePolicy::Replace => {
            let mut kept = current.clone();
            for name in staged.keys() {
                if kept.remove(name).is_some() && policy == RestorePolicy::Append {
                    return Err(error::restore_library_exists(name));
                }
            }
            for f in staged.values().flat_map(|l| &l.functions) {
                if kept.values().any(|l| {
                    l.functions
                        .iter()
                        .any(|g| g.name.eq_ignore_ascii_case(&f.name))
                }) {
                    return Err(error::function_exists(&f.name));
                }
            }
            kept.extend(staged);
            kept
        }
    };
    install(ctx, merged);
    ctx.dirty(1);
    Ok(Reply::ok())
}

/// Makes `libraries` the loaded set; their Lua state is built again on first use.
pub fn install(ctx: &mut Ctx, libraries: BTreeMap<String, Library>) {
    ctx.eng.scripts.libraries = libraries;
    ctx.eng.scripts.fvm = None;
}

/// The library and flags of function `name`.
fn find(ctx: &Ctx, name: &[u8]) -> Option<(String, ScriptFlags)> {
    ctx.eng.scripts.libraries.values().find_map(|l| {
        l.functions
            .iter()
            .find(|f| f.name.as_bytes().eq_ignore_ascii_case(name))
            .map(|f| (f.name.clone(), f.flags))
    })
}

/// FCALL and FCALL_RO: `name numkeys [key ...] [arg ...]`.
pub fn fcall(ctx: &mut Ctx, argv: &[Vec<u8>], ro: bool) -> CmdResult {
    let Some((name, flags)) = find(ctx, &argv[1]) else {
        return Err(error::FUNCTION_NOT_FOUND);
    };
    let numkeys = std::str::from_utf8(&argv[2])
        .ok()
        .and_then(|s| s.parse::<i64>().ok())
        .ok_or(error::BAD_NUMBER_OF_KEYS)?;
    if numkeys > (argv.len() - 3) as i64 {
        return Err(error::NUMKEYS_TOO_MANY);
    }
    if numkeys < 0 {
        return Err(error::NUMKEYS_NEGATIVE);
    }
    let numkeys = numkeys as usize;
    if flags.no_cluster && ctx.eng.cluster_enabled() {
        return Err(error::SCRIPT_NO_CLUSTER);
    }
    if ctx.eng.serves_no_stale_data() && !flags.allow_stale {
        return Err(error::MASTERDOWN_SCRIPT);
    }
    if !flags.no_writes && ro {
        return Err(error::SCRIPT_WRITE_IN_RO);
    }
    let read_only = ro || flags.no_writes;
    let limit_ms = budget_ms(ctx);
    fvm_of(ctx)?;
    let Some(mut vm) = ctx.eng.scripts.fvm.take() else {
        return Err(error::LUA_UNAVAILABLE);
    };
    let target = Target {
        key: format!("fn:{}", name),
        label: name,
        eval: false,
        argv,
    };
    let outcome = vm.run(
        ctx,
        &target,
        &argv[3..3 + numkeys],
        &argv[3 + numkeys..],
        read_only,
        limit_ms,
    );
    if ctx.eng.scripts.fvm.is_none() && !vm.broken {
        ctx.eng.scripts.fvm = Some(vm);
    }
    outcome
}

/// FUNCTION DELETE library.
pub fn delete(ctx: &mut Ctx, name: &[u8]) -> CmdResult {
    let name = String::from_utf8_lossy(name).into_owned();
    let Some(lib) = ctx.eng.scripts.libraries.remove(&name) else {
        return Err(error::LIBRARY_NOT_FOUND);
    };
    if let Some(vm) = ctx.eng.scripts.fvm.as_mut() {
        let keys: Vec<String> = lib
            .functions
            .iter()
            .map(|f| format!("fn:{}", f.name))
            .collect();
        vm.forget(&keys);
    }
    ctx.dirty(1);
    Ok(Reply::ok())
}

/// FUNCTION FLUSH: every library, and their Lua state.
pub fn flush(ctx: &mut Ctx) {
    ctx.eng.scripts.libraries.clear();
    ctx.eng.scripts.fvm = None;
    ctx.dirty(1);
}

/// The flags FUNCTION LIST shows, in Redis's order.
fn flag_names(f: &ScriptFlags) -> Vec<Reply> {
    [
        (f.no_writes, "no-writes"),
        (f.allow_oom, "allow-oom"),
        (f.allow_stale, "allow-stale"),
        (f.no_cluster, "no-cluster"),
        (f.allow_cross_slot, "allow-cross-slot-keys"),
    ]
    .into_iter()
    .filter(|(on, _)| *on)
    .map(|(_, n)| Reply::status(n))
    .collect()
}

/// FUNCTION LIST [LIBRARYNAME pattern] [WITHCODE].
pub fn list(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    let mut with_code = false;
    let mut pattern: Option<&[u8]> = None;
    let mut i = 2;
    while i < argv.len() {
        let a = &argv[i];
        if !with_code && a.eq_ignore_ascii_case(b"withcode") {
            with_code = true;
        } else if pattern.is_none() && a.eq_ignore_ascii_case(b"libraryname") {
            if i >= argv.len() - 1 {
                return Err(error::LIBRARY_PATTERN_MISSING);
            }
            i += 1;
            pattern = Some(&argv[i]);
        } else {
            return Err(error::function_list_argument(a));
        }
        i += 1;
    }
    let mut out = Vec::new();
    for lib in ctx.eng.scripts.libraries.values() {
        if let Some(p) = pattern {
            if !crate::util::glob::glob_match(p, lib.name.as_bytes(), true) {
                continue;
            }
        }
        let functions = lib
            .functions
            .iter()
            .map(|f| {
                Reply::Map(vec![
                    (
                        Reply::Bulk(b"name".to_vec()),
                        Reply::Bulk(f.name.clone().into_bytes()),
                    ),
                    (
                        Reply::Bulk(b"description".to_vec()),
                        f.desc.clone().map_or(Reply::Nil, Reply::Bulk),
                    ),
                    (
                        Reply::Bulk(b"flags".to_vec()),
                        Reply::Set(flag_names(&f.flags)),
                    ),
                ])
            })
            .collect();
        let mut fields = vec![
            (
                Reply::Bulk(b"library_name".to_vec()),
                Reply::Bulk(lib.name.clone().into_bytes()),
            ),
            (
                Reply::Bulk(b"engine".to_vec()),
                Reply::Bulk(b"LUA".to_vec()),
            ),
            (Reply::Bulk(b"functions".to_vec()), Reply::Array(functions)),
        ];
        if with_code {
            fields.push((
                Reply::Bulk(b"library_code".to_vec()),
                Reply::Bulk(lib.code.clone()),
            ));
        }
        out.push(Reply::Map(fields));
    }
    Ok(Reply::Array(out))
}

/// FUNCTION STATS: the function running (when the host serves this command during a long
/// one), and the engine's counts. During a long EVAL script it answers BUSY, as Redis does.
pub fn stats(ctx: &mut Ctx) -> CmdResult {
    let now_us = ctx.eng.clock().map_or(0, |c| c());
    let running = match &ctx.eng.scripts.running {
        None => Reply::Nil,
        Some(r) if r.eval => return Err(error::BUSY_EVAL),
        Some(r) => Reply::Map(vec![
            (
                Reply::Bulk(b"name".to_vec()),
                Reply::Bulk(r.name.clone().into_bytes()),
            ),
            (
                Reply::Bulk(b"command".to_vec()),
                Reply::Array(r.argv.iter().cloned().map(Reply::Bulk).collect()),
            ),
            (
                Reply::Bulk(b"duration_ms".to_vec()),
                Reply::Integer((now_us.saturating_sub(r.started_us) / 1000) as i64),
            ),
        ]),
    };
    let libs = ctx.eng.scripts.libraries.len() as i64;
    let fns = ctx
        .eng
        .scripts
        .libraries
        .values()
        .map(|l| l.functions.len() as i64)
        .sum();
    Ok(Reply::Map(vec![
        (Reply::Bulk(b"running_script".to_vec()), running),
        (
            Reply::Bulk(b"engines".to_vec()),
            Reply::Map(vec![(
                Reply::Bulk(b"LUA".to_vec()),
                Reply::Map(vec![
                    (
                        Reply::Bulk(b"libraries_count".to_vec()),
                        Reply::Integer(libs),
                    ),
                    (
                        Reply::Bulk(b"functions_count".to_vec()),
                        Reply::Integer(fns),
                    ),
                ]),
            )]),
        ),
    ]))
}
