//! The HyperLogLog group: PFADD, PFCOUNT, PFMERGE, PFDEBUG, PFSELFTEST.
//!
//! A sketch is a string holding Redis's exact bytes (see [`crate::types::hll`]); every command
//! that touches one makes the value `raw`, as Redis unshares it first. PFCOUNT of one key
//! refreshes the cached cardinality in the value, so it counts as a change (WATCH sees it).

use super::args;
use super::spec::*;
use crate::config;
use crate::engine::Ctx;
use crate::error::{self, CmdError, CmdResult};
use crate::protocol::Reply;
use crate::types::hll::{self, Corrupt};
use crate::types::{StrEncoding, Value};

/// The HyperLogLog group's commands.
pub const COMMANDS: &[CommandSpec] = &[
    CommandSpec::new("pfadd", -2, &[WRITE, DENYOOM, FAST], pfadd).doc(Group::Hyperloglog, "2.8.9", &[Arg::key("key", 0), Arg::string("element").optional().multiple()], "Adds elements to a HyperLogLog sketch, creating it if needed; replies 1 if its estimate may have changed.").key_specs(&[KeySpec::new(&[RW, INSERT], index(1), range(0, 1, 0))]).complexity("O(1) per element."),
    CommandSpec::new("pfcount", -2, &[READONLY, MAY_REPLICATE], pfcount).doc(Group::Hyperloglog, "2.8.9", &[Arg::key("key", 0).multiple()], "Estimates how many distinct elements a sketch (or the union of several) has seen.").key_specs(&[KeySpec::new(&[RW, ACCESS], index(1), range(-1, 1, 0)).notes("RW because it may change the internal representation of the key, and propagate to replicas")]).complexity("O(1) for one key (usually cached); O(N) for N keys, each costly."),
    CommandSpec::new("pfmerge", -2, &[WRITE, DENYOOM], pfmerge).doc(Group::Hyperloglog, "2.8.9", &[Arg::key("destkey", 0), Arg::key("sourcekey", 1).multiple()], "Merges sketches into the destination sketch (which takes part in the union too).").key_specs(&[KeySpec::new(&[RW, ACCESS, INSERT], index(1), range(0, 1, 0)), KeySpec::new(&[RO, ACCESS], index(2), range(-1, 1, 0))]).complexity("O(N) for N sketches, each costly."),
    CommandSpec::new("pfdebug", 3, &[WRITE, DENYOOM, ADMIN], pfdebug).doc(Group::Hyperloglog, "2.8.9", &[Arg::string("subcommand"), Arg::key("key", 0)], "Inspects a sketch: GETREG (its registers), DECODE (its sparse opcodes), ENCODING, TODENSE.").key_specs(&[KeySpec::new(&[RW, ACCESS], index(2), range(0, 1, 0))]).complexity("N/A"),
    CommandSpec::new("pfselftest", 1, &[ADMIN], pfselftest).doc(Group::Hyperloglog, "2.8.9", &[], "Checks the HyperLogLog implementation against itself; replies OK.").complexity("N/A"),
];

/// The `hll-sparse-max-bytes` setting.
fn sparse_max(ctx: &Ctx) -> u64 {
    config::lookup(b"hll-sparse-max-bytes")
        .and_then(|p| ctx.eng.config.get(p).parse().ok())
        .unwrap_or(3000)
}

/// Redis's checks of a value used as a sketch: a string (else the usual WRONGTYPE), and one
/// with the HLL header (else its own WRONGTYPE text).
fn check_sketch(v: &Value) -> Result<(), CmdError> {
    match v {
        Value::Str(b, enc) => {
            if *enc != StrEncoding::Int && hll::looks_valid(b) {
                Ok(())
            } else {
                Err(error::HLL_WRONGTYPE)
            }
        }
        _ => Err(error::WRONGTYPE),
    }
}

/// The sketch under `key` for modification, made raw; None when missing.
fn sketch_mut<'a>(ctx: &'a mut Ctx, key: &[u8]) -> Result<Option<&'a mut Vec<u8>>, CmdError> {
    let Some(e) = ctx.lookup_write(key) else {
        return Ok(None);
    };
    check_sketch(&e.value)?;
    match &mut e.value {
        Value::Str(b, enc) => {
            *enc = StrEncoding::Raw;
            Ok(Some(b.make_mut()))
        }
        _ => Err(error::WRONGTYPE),
    }
}

fn invalid(_: Corrupt) -> CmdError {
    error::HLL_CORRUPT
}

/// `PFADD key [element ...]` → 1 when the sketch was created or a register changed, else 0.
fn pfadd(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    let key = &argv[1];
    let max = sparse_max(ctx);
    let now = ctx.now;
    let mut updated = 0u64;
    if sketch_mut(ctx, key)?.is_none() {
        ctx.db().set(
            key,
            Value::Str(hll::new_sketch().into(), StrEncoding::Raw),
            now,
        );
        updated += 1;
    }
    let Some(b) = sketch_mut(ctx, key)? else {
        return Err(error::NO_SUCH_KEY);
    };
    for el in &argv[2..] {
        if hll::add(b, el, max).map_err(invalid)? {
            updated += 1;
        }
    }
    if updated > 0 {
        hll::invalidate_cache(b);
        ctx.signal_modified(key);
        ctx.notify('$', "pfadd", key);
        ctx.dirty(updated);
    }
    Ok(Reply::Integer(i64::from(updated > 0)))
}

/// `PFCOUNT key [key ...]` → the estimated number of distinct elements (of the union for
/// several keys; missing keys are empty sketches).
fn pfcount(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    if argv.len() > 2 {
        let mut max = vec![0u8; hll::REGISTERS];
        for key in &argv[1..] {
            let Some(e) = ctx.lookup_read(key) else {
                continue;
            };
            check_sketch(&e.value)?;
            if let Value::Str(b, _) = &e.value {
                hll::merge_into(&mut max, b).map_err(invalid)?;
            }
        }
        return Ok(Reply::int(hll::count_registers(&max)));
    }
    let key = &argv[1];
    let Some(e) = ctx.lookup_read(key) else {
        return Ok(Reply::Integer(0));
    };
    check_sketch(&e.value)?;
    let Value::Str(b, enc) = &mut e.value else {
        return Err(error::WRONGTYPE);
    };
    *enc = StrEncoding::Raw;
    if let Some(n) = hll::cached_count(b) {
        return Ok(Reply::int(n));
    }
    let n = hll::count(b).map_err(invalid)?;
    hll::set_cached_count(b, n);
    ctx.signal_modified(key);
    ctx.dirty(1);
    Ok(Reply::int(n))
}

/// `PFMERGE destkey [sourcekey ...]` → OK; the destination ends up holding the union of
/// itself and the sources (dense when any input was dense).
fn pfmerge(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    let limit = sparse_max(ctx);
    let mut max = vec![0u8; hll::REGISTERS];
    let mut dense = false;
    for key in &argv[1..] {
        let Some(e) = ctx.lookup_read(key) else {
            continue;
        };
        check_sketch(&e.value)?;
        if let Value::Str(b, _) = &e.value {
            dense |= hll::is_dense(b);
            hll::merge_into(&mut max, b).map_err(invalid)?;
        }
    }
    let dst = &argv[1];
    let now = ctx.now;
    if sketch_mut(ctx, dst)?.is_none() {
        ctx.db().set(
            dst,
            Value::Str(hll::new_sketch().into(), StrEncoding::Raw),
            now,
        );
    }
    let Some(b) = sketch_mut(ctx, dst)? else {
        return Err(error::NO_SUCH_KEY);
    };
    if dense {
        hll::to_dense(b).map_err(invalid)?;
    }
    for (i, &v) in max.iter().enumerate() {
        if v != 0 {
            // Redis ignores a corrupt destination here; the merge above has checked it.
            let _ = hll::raise(b, i, v, limit);
        }
    }
    hll::invalidate_cache(b);
    ctx.signal_modified(dst);
    ctx.notify('$', "pfadd", dst);
    ctx.dirty(1);
    Ok(Reply::ok())
}

/// `PFDEBUG GETREG|DECODE|ENCODING|TODENSE key` → the registers (converting to dense), the
/// sparse opcodes as text, `sparse`/`dense`, or 1/0 for whether TODENSE converted.
fn pfdebug(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    let sub = &argv[1];
    let key = &argv[2];
    let Some(b) = sketch_mut(ctx, key)? else {
        return Err(error::HLL_NO_KEY);
    };
    if args::is(sub, "getreg") {
        let converted = hll::to_dense(b).map_err(invalid)?;
        let regs = hll::dense_registers(b);
        if converted {
            ctx.dirty(1);
        }
        Ok(Reply::Array(
            regs.into_iter()
                .map(|r| Reply::Integer(i64::from(r)))
                .collect(),
        ))
    } else if args::is(sub, "decode") {
        if hll::is_dense(b) {
            return Err(error::HLL_NOT_SPARSE);
        }
        Ok(Reply::bulk(hll::decode_sparse(b)))
    } else if args::is(sub, "encoding") {
        Ok(Reply::status(if hll::is_dense(b) {
            "dense"
        } else {
            "sparse"
        }))
    } else if args::is(sub, "todense") {
        let converted = hll::to_dense(b).map_err(invalid)?;
        if converted {
            ctx.dirty(1);
        }
        Ok(Reply::Integer(i64::from(converted)))
    } else {
        Err(error::pfdebug_subcommand(sub))
    }
}

/// `PFSELFTEST` → OK, after checking that register packing round-trips and that sparse and
/// dense sketches fed the same elements agree and estimate within bounds. (Redis runs its
/// estimate check up to ten million elements; this one stops at one hundred thousand, which
/// exercises the same code paths, sparse promotion included, in a fraction of the time.)
fn pfselftest(ctx: &mut Ctx, _argv: &[Vec<u8>]) -> CmdResult {
    let limit = sparse_max(ctx);
    let rng = &mut ctx.eng.rng;
    let mut dense = hll::new_sketch();
    hll::to_dense(&mut dense).map_err(invalid)?;
    for _ in 0..16 {
        let values: Vec<u8> = (0..hll::REGISTERS)
            .map(|_| (rng.next_u64() & 63) as u8)
            .collect();
        let mut b = dense.clone();
        for (i, &v) in values.iter().enumerate() {
            hll::raise(&mut b, i, v, limit).map_err(invalid)?;
        }
        let back = hll::dense_registers(&b);
        if let Some(i) = (0..hll::REGISTERS).find(|&i| back[i] != values[i]) {
            return Err(error::pfselftest_failed(&format!(
                "Register {} should be {} but is {}",
                i, values[i], back[i]
            )));
        }
    }
    let mut sparse = hll::new_sketch();
    let seed = rng.next_u64();
    let rel_err = 1.04 / (hll::REGISTERS as f64).sqrt();
    let mut checkpoint = 1u64;
    for j in 1..=100_000u64 {
        let element = (j ^ seed).to_le_bytes();
        hll::add(&mut dense, &element, limit).map_err(invalid)?;
        hll::add(&mut sparse, &element, limit).map_err(invalid)?;
        if j != checkpoint {
            continue;
        }
        if j < limit / 2 && hll::is_dense(&sparse) {
            return Err(error::pfselftest_failed("sparse encoding not used"));
        }
        let n = hll::count(&dense).map_err(invalid)?;
        if hll::count(&sparse).map_err(invalid)? != n {
            return Err(error::pfselftest_failed("dense/sparse disagree"));
        }
        let max_err = if j == 10 {
            1
        } else {
            (rel_err * 6.0 * j as f64).ceil() as u64
        };
        if n.abs_diff(j) > max_err {
            return Err(error::pfselftest_failed(&format!(
                "Too big error. card:{} abserr:{}",
                j,
                n.abs_diff(j)
            )));
        }
        checkpoint *= 10;
    }
    Ok(Reply::ok())
}
