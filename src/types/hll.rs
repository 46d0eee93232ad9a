//! HyperLogLog sketches in Redis's own byte layout, so that the string a key holds is the very
//! string Redis would hold (GET shows it, DUMP/RESTORE and RDB carry it, and a sketch written by
//! real Redis works here).
//!
//! Layout: a 16-byte header (`HYLL`, an encoding byte, 3 zero bytes, the cached cardinality as
//! 8 little-endian bytes whose top bit marks it stale) followed by 16384 six-bit registers,
//! either *dense* (packed, least significant bits first, 12288 bytes) or *sparse* (run-length
//! opcodes: `00llllll` a run of up to 64 zero registers, `01llllll llllllll` up to 16384 zero
//! registers, `1vvvvvll` up to 4 registers holding a value 1..=32). Sketches start sparse and
//! become dense when a register needs a value above 32 or the sparse form would outgrow
//! `hll-sparse-max-bytes`.
//!
//! The element hash is MurmurHash64A (seed 0xadc83b19); the low 14 bits pick the register and
//! the run of zero bits above them (plus one) is the register's candidate value. Cardinality is
//! Otmar Ertl's improved estimator over the histogram of register values.

/// Bytes in the header.
pub const HEADER_LEN: usize = 16;
/// log2 of the number of registers.
const P: u32 = 14;
/// Hash bits left for the zero-run count.
const Q: usize = 64 - P as usize;
/// Number of registers.
pub const REGISTERS: usize = 1 << P;
/// Length of a dense sketch, header included.
pub const DENSE_LEN: usize = HEADER_LEN + (REGISTERS * 6).div_ceil(8);
/// The largest value a register holds (six bits).
const REGISTER_MAX: u8 = 63;
/// Encoding byte values.
const DENSE: u8 = 0;
const SPARSE: u8 = 1;
/// Sparse opcode limits.
const VAL_MAX_VALUE: u8 = 32;
const VAL_MAX_RUN: usize = 4;
const ZERO_MAX_RUN: usize = 64;
const XZERO_MAX_RUN: usize = 16384;
/// The hash seed Redis uses for HyperLogLog elements.
const SEED: u64 = 0xadc8_3b19;

/// A sketch whose bytes do not describe 16384 registers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Corrupt;

/// MurmurHash64A over `data`, reading 8-byte little-endian words as Redis's endian-neutral
/// variant does.
pub fn murmur64a(data: &[u8], seed: u64) -> u64 {
    const M: u64 = 0xc6a4_a793_5bd1_e995;
    const R: u32 = 47;
    let mut h = seed ^ (data.len() as u64).wrapping_mul(M);
    let mut words = data.chunks_exact(8);
    for w in &mut words {
        let mut k = u64::from_le_bytes([w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7]]);
        k = k.wrapping_mul(M);
        k ^= k >> R;
        k = k.wrapping_mul(M);
        h ^= k;
        h = h.wrapping_mul(M);
    }
    let tail = words.remainder();
    if !tail.is_empty() {
        for (i, &b) in tail.iter().enumerate() {
            h ^= u64::from(b) << (8 * i);
        }
        h = h.wrapping_mul(M);
    }
    h ^= h >> R;
    h = h.wrapping_mul(M);
    h ^= h >> R;
    h
}

/// The register an element falls in and the value it proposes for it.
pub fn register_for(element: &[u8]) -> (usize, u8) {
    let hash = murmur64a(element, SEED);
    let index = (hash as usize) & (REGISTERS - 1);
    // A sentinel bit at position Q bounds the run at Q + 1.
    let rest = (hash >> P) | (1u64 << Q);
    (index, rest.trailing_zeros() as u8 + 1)
}

/// A new, empty sketch: sparse, every register in XZERO runs.
pub fn new_sketch() -> Vec<u8> {
    let mut b = vec![0u8; HEADER_LEN];
    b[..4].copy_from_slice(b"HYLL");
    b[4] = SPARSE;
    let mut left = REGISTERS;
    while left > 0 {
        let run = left.min(XZERO_MAX_RUN);
        push_xzero(&mut b, run);
        left -= run;
    }
    b
}

/// Whether `b` passes Redis's check of an HLL value: magic, a known encoding, and the exact
/// length of a dense sketch. Sparse bodies are only checked when walked.
pub fn looks_valid(b: &[u8]) -> bool {
    b.len() >= HEADER_LEN
        && &b[..4] == b"HYLL"
        && b[4] <= SPARSE
        && (b[4] != DENSE || b.len() == DENSE_LEN)
}

/// Whether the sketch is dense (its header must have been checked).
pub fn is_dense(b: &[u8]) -> bool {
    b[4] == DENSE
}

/// The cached cardinality, when it is not stale.
pub fn cached_count(b: &[u8]) -> Option<u64> {
    if b[15] & 0x80 != 0 {
        return None;
    }
    let mut c = [0u8; 8];
    c.copy_from_slice(&b[8..16]);
    Some(u64::from_le_bytes(c))
}

/// Stores `n` as the cached cardinality (which makes it fresh).
pub fn set_cached_count(b: &mut [u8], n: u64) {
    b[8..16].copy_from_slice(&n.to_le_bytes());
}

/// Marks the cached cardinality stale (its other bits stay as they were).
pub fn invalidate_cache(b: &mut [u8]) {
    b[15] |= 0x80;
}

// ---- dense registers ----

fn dense_get(regs: &[u8], i: usize) -> u8 {
    let byte = i * 6 / 8;
    let shift = (i * 6) & 7;
    let b0 = u32::from(regs[byte]);
    let b1 = u32::from(regs.get(byte + 1).copied().unwrap_or(0));
    (((b0 >> shift) | (b1 << (8 - shift))) & u32::from(REGISTER_MAX)) as u8
}

fn dense_put(regs: &mut [u8], i: usize, v: u8) {
    let byte = i * 6 / 8;
    let shift = (i * 6) & 7;
    let v = u32::from(v);
    let max = u32::from(REGISTER_MAX);
    regs[byte] &= !((max << shift) as u8);
    regs[byte] |= (v << shift) as u8;
    if let Some(next) = regs.get_mut(byte + 1) {
        *next &= !((max >> (8 - shift)) as u8);
        *next |= (v >> (8 - shift)) as u8;
    }
}

/// Raises dense register `i` to `v`; true when it changed.
fn dense_raise(regs: &mut [u8], i: usize, v: u8) -> bool {
    if v > dense_get(regs, i) {
        dense_put(regs, i, v);
        true
    } else {
        false
    }
}

// ---- sparse opcodes ----

/// One decoded sparse opcode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Op {
    /// A run of zero registers, in a one-byte opcode.
    Zero(usize),
    /// A run of zero registers, in a two-byte opcode.
    XZero(usize),
    /// A run of registers holding the same value.
    Val(u8, usize),
}

impl Op {
    fn run(self) -> usize {
        match self {
            Op::Zero(n) | Op::XZero(n) | Op::Val(_, n) => n,
        }
    }

    fn width(self) -> usize {
        if matches!(self, Op::XZero(_)) {
            2
        } else {
            1
        }
    }
}

/// The opcode at `p` (a byte past the end reads as zero, as Redis's terminator does).
fn op_at(b: &[u8], p: usize) -> Op {
    let c = b[p];
    if c & 0xc0 == 0 {
        Op::Zero(usize::from(c & 0x3f) + 1)
    } else if c & 0x80 != 0 {
        Op::Val(((c >> 2) & 0x1f) + 1, usize::from(c & 0x3) + 1)
    } else {
        let low = b.get(p + 1).copied().unwrap_or(0);
        Op::XZero(((usize::from(c & 0x3f) << 8) | usize::from(low)) + 1)
    }
}

fn val_byte(value: u8, run: usize) -> u8 {
    0x80 | ((value - 1) << 2) | (run as u8 - 1)
}

fn push_zero_run(out: &mut Vec<u8>, run: usize) {
    if run > ZERO_MAX_RUN {
        push_xzero(out, run);
    } else {
        out.push(run as u8 - 1);
    }
}

fn push_xzero(out: &mut Vec<u8>, run: usize) {
    let l = run - 1;
    out.push(0x40 | (l >> 8) as u8);
    out.push((l & 0xff) as u8);
}

/// Walks the sparse body: `f(first_register, op)` for each opcode.
fn walk_sparse(b: &[u8], mut f: impl FnMut(usize, Op)) -> usize {
    let mut p = HEADER_LEN;
    let mut idx = 0usize;
    while p < b.len() {
        let op = op_at(b, p);
        f(idx, op);
        idx += op.run();
        p += op.width();
    }
    idx
}

/// Walks a sparse body that must cover exactly 16384 registers: `f(first_register, op)` for
/// each opcode; an error as soon as a run would pass the last register, or when the runs end
/// short of it (Redis's checks, with Debian's fix for CVE-2025-32023).
fn walk_checked(b: &[u8], mut f: impl FnMut(usize, Op)) -> Result<(), Corrupt> {
    let mut p = HEADER_LEN;
    let mut idx = 0usize;
    while p < b.len() {
        let op = op_at(b, p);
        if idx + op.run() > REGISTERS {
            return Err(Corrupt);
        }
        f(idx, op);
        idx += op.run();
        p += op.width();
    }
    if idx == REGISTERS {
        Ok(())
    } else {
        Err(Corrupt)
    }
}

/// Converts a sparse sketch to dense in place (the header, cached count included, is kept).
/// Returns whether it converted; an error when the sparse body is corrupt.
pub fn to_dense(b: &mut Vec<u8>) -> Result<bool, Corrupt> {
    if is_dense(b) {
        return Ok(false);
    }
    let mut dense = vec![0u8; DENSE_LEN];
    dense[..HEADER_LEN].copy_from_slice(&b[..HEADER_LEN]);
    dense[4] = DENSE;
    walk_checked(b, |first, op| {
        if let Op::Val(v, run) = op {
            for i in first..first + run {
                dense_put(&mut dense[HEADER_LEN..], i, v);
            }
        }
    })?;
    *b = dense;
    Ok(true)
}

/// Raises register `index` to `value` if it is lower, in whichever encoding the sketch has,
/// possibly promoting a sparse sketch to dense. Returns whether the register changed.
pub fn raise(b: &mut Vec<u8>, index: usize, value: u8, sparse_max: u64) -> Result<bool, Corrupt> {
    if is_dense(b) {
        Ok(dense_raise(&mut b[HEADER_LEN..], index, value))
    } else {
        sparse_raise(b, index, value, sparse_max)
    }
}

/// Adds an element; true when a register changed.
pub fn add(b: &mut Vec<u8>, element: &[u8], sparse_max: u64) -> Result<bool, Corrupt> {
    let (index, value) = register_for(element);
    raise(b, index, value, sparse_max)
}

fn promote_and_raise(b: &mut Vec<u8>, index: usize, value: u8) -> Result<bool, Corrupt> {
    to_dense(b)?;
    dense_raise(&mut b[HEADER_LEN..], index, value);
    Ok(true)
}

/// The sparse update, opcode for opcode as Redis performs it (so the bytes come out the same):
/// find the opcode covering the register, rewrite it (splitting a run into up to three
/// opcodes), then merge neighbouring equal VAL opcodes within a short window.
fn sparse_raise(
    b: &mut Vec<u8>,
    index: usize,
    value: u8,
    sparse_max: u64,
) -> Result<bool, Corrupt> {
    if value > VAL_MAX_VALUE {
        return promote_and_raise(b, index, value);
    }
    // Step 1: the opcode covering `index`.
    let mut p = HEADER_LEN;
    let mut first = 0usize;
    let mut prev: Option<usize> = None;
    let mut found = None;
    while p < b.len() {
        let op = op_at(b, p);
        if index < first + op.run() {
            found = Some(op);
            break;
        }
        prev = Some(p);
        p += op.width();
        first += op.run();
    }
    let Some(op) = found else {
        return Err(Corrupt);
    };
    // Step 2: the trivial cases rewrite one byte.
    let mut rewritten = false;
    match op {
        Op::Val(old, _) if old >= value => return Ok(false),
        Op::Val(_, 1) | Op::Zero(1) => {
            b[p] = val_byte(value, 1);
            rewritten = true;
        }
        _ => {}
    }
    if !rewritten {
        // Step 3: split the run around the register.
        let last = first + op.run() - 1;
        let mut seq = Vec::with_capacity(5);
        match op {
            Op::Val(cur, _) => {
                if index != first {
                    seq.push(val_byte(cur, index - first));
                }
                seq.push(val_byte(value, 1));
                if index != last {
                    seq.push(val_byte(cur, last - index));
                }
            }
            Op::Zero(_) | Op::XZero(_) => {
                if index != first {
                    push_zero_run(&mut seq, index - first);
                }
                seq.push(val_byte(value, 1));
                if index != last {
                    push_zero_run(&mut seq, last - index);
                }
            }
        }
        let old_width = op.width();
        if seq.len() > old_width && (b.len() + seq.len() - old_width) as u64 > sparse_max {
            return promote_and_raise(b, index, value);
        }
        let stop = (p + old_width).min(b.len());
        b.splice(p..stop, seq);
    }
    // Step 4: merge adjacent VAL opcodes of equal value, scanning five opcodes from `prev`.
    let mut p = prev.unwrap_or(HEADER_LEN);
    let mut budget = 5;
    while p < b.len() && budget > 0 {
        budget -= 1;
        match op_at(b, p) {
            Op::XZero(_) => p += 2,
            Op::Zero(_) => p += 1,
            Op::Val(v1, r1) => {
                if p + 1 < b.len() && b[p + 1] & 0x80 != 0 {
                    if let Op::Val(v2, r2) = op_at(b, p + 1) {
                        if v1 == v2 && r1 + r2 <= VAL_MAX_RUN {
                            b[p + 1] = val_byte(v1, r1 + r2);
                            b.remove(p);
                            continue;
                        }
                    }
                }
                p += 1;
            }
        }
    }
    invalidate_cache(b);
    Ok(true)
}

/// Raises each of `max`'s registers to this sketch's (PFMERGE and multi-key PFCOUNT).
pub fn merge_into(max: &mut [u8], b: &[u8]) -> Result<(), Corrupt> {
    if is_dense(b) {
        let regs = &b[HEADER_LEN..];
        for (i, m) in max.iter_mut().enumerate().take(REGISTERS) {
            *m = (*m).max(dense_get(regs, i));
        }
        return Ok(());
    }
    walk_checked(b, |first, op| {
        if let Op::Val(v, run) = op {
            for m in &mut max[first..first + run] {
                *m = (*m).max(v);
            }
        }
    })
}

/// The estimated cardinality of a stored sketch; an error when a sparse body does not cover
/// exactly 16384 registers.
pub fn count(b: &[u8]) -> Result<u64, Corrupt> {
    let mut histo = [0u64; 64];
    if is_dense(b) {
        let regs = &b[HEADER_LEN..];
        for i in 0..REGISTERS {
            histo[usize::from(dense_get(regs, i))] += 1;
        }
    } else {
        walk_checked(b, |_, op| match op {
            Op::Zero(n) | Op::XZero(n) => histo[0] += n as u64,
            Op::Val(v, n) => histo[usize::from(v)] += n as u64,
        })?;
    }
    Ok(estimate(&histo))
}

/// The estimated cardinality of plain registers, one byte each (values up to 63).
pub fn count_registers(regs: &[u8]) -> u64 {
    let mut histo = [0u64; 64];
    for &r in regs {
        histo[usize::from(r & 63)] += 1;
    }
    estimate(&histo)
}

/// The register values of a dense sketch.
pub fn dense_registers(b: &[u8]) -> Vec<u8> {
    let regs = &b[HEADER_LEN..];
    (0..REGISTERS).map(|i| dense_get(regs, i)).collect()
}

/// The sparse opcodes in PFDEBUG DECODE's notation (`Z:n`, `z:n`, `v:value,run`).
pub fn decode_sparse(b: &[u8]) -> String {
    let mut parts = Vec::new();
    walk_sparse(b, |_, op| {
        parts.push(match op {
            Op::Zero(n) => format!("z:{}", n),
            Op::XZero(n) => format!("Z:{}", n),
            Op::Val(v, n) => format!("v:{},{}", v, n),
        })
    });
    parts.join(" ")
}

/// Ertl's estimator (arXiv:1702.01284) over the histogram of register values.
fn estimate(histo: &[u64; 64]) -> u64 {
    let m = REGISTERS as f64;
    let mut z = m * tau((m - histo[Q + 1] as f64) / m);
    for j in (1..=Q).rev() {
        z += histo[j] as f64;
        z *= 0.5;
    }
    z += m * sigma(histo[0] as f64 / m);
    let alpha_inf = 0.721_347_520_444_481_7_f64; // 0.5 / ln 2
    (alpha_inf * m * m / z).round() as u64
}

fn sigma(mut x: f64) -> f64 {
    if x == 1.0 {
        return f64::INFINITY;
    }
    let mut y = 1.0;
    let mut z = x;
    loop {
        x *= x;
        let before = z;
        z += x * y;
        y += y;
        if z == before {
            return z;
        }
    }
}

fn tau(mut x: f64) -> f64 {
    if x == 0.0 || x == 1.0 {
        return 0.0;
    }
    let mut y = 1.0;
    let mut z = 1.0 - x;
    loop {
        x = x.sqrt();
        let before = z;
        y *= 0.5;
        z -= (1.0 - x) * (1.0 - x) * y;
        if z == before {
            return z / 3.0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_sketch_is_the_18_byte_sparse_form() {
        let b = new_sketch();
        assert_eq!(b.len(), 18);
        assert_eq!(&b[..5], b"HYLL\x01");
        assert_eq!(&b[16..], [0x7f, 0xff]);
        assert_eq!(decode_sparse(&b), "Z:16384");
        assert_eq!(count(&b), Ok(0));
        assert!(looks_valid(&b));
    }

    #[test]
    fn murmur_matches_known_values() {
        // MurmurHash64A reference values for seed 0.
        assert_eq!(murmur64a(b"", 0), 0);
        assert_ne!(murmur64a(b"a", SEED), murmur64a(b"b", SEED));
    }

    #[test]
    fn sparse_and_dense_agree() {
        let mut sparse = new_sketch();
        let mut dense = new_sketch();
        to_dense(&mut dense).unwrap();
        assert_eq!(dense.len(), DENSE_LEN);
        for i in 0..2000u32 {
            let e = format!("element:{}", i);
            add(&mut sparse, e.as_bytes(), 1_000_000).unwrap();
            add(&mut dense, e.as_bytes(), 1_000_000).unwrap();
        }
        assert!(!is_dense(&sparse));
        assert_eq!(count(&sparse), count(&dense));
        let mut converted = sparse.clone();
        to_dense(&mut converted).unwrap();
        assert_eq!(dense_registers(&converted), dense_registers(&dense));
        let n = count(&dense).unwrap();
        assert!((1900..2100).contains(&n), "{}", n);
    }

    #[test]
    fn promotion_at_the_byte_limit() {
        let mut b = new_sketch();
        for i in 0..200u32 {
            add(&mut b, &i.to_le_bytes(), 100).unwrap();
        }
        assert!(is_dense(&b));
    }

    #[test]
    fn corrupt_sparse_bodies_are_refused() {
        let mut b = new_sketch();
        b.truncate(17);
        b[16] = 0x00; // z:1 only
        assert_eq!(count(&b), Err(Corrupt));
        assert_eq!(to_dense(&mut b.clone()), Err(Corrupt));
        let mut max = vec![0u8; REGISTERS];
        assert_eq!(merge_into(&mut max, &b), Err(Corrupt));
    }

    #[test]
    fn dense_registers_pack_six_bits() {
        let mut regs = vec![0u8; 12288];
        dense_put(&mut regs, 1, 63);
        dense_put(&mut regs, 16383, 5);
        assert_eq!(regs[0], 0xc0);
        assert_eq!(regs[1], 0x0f);
        assert_eq!(dense_get(&regs, 1), 63);
        assert_eq!(dense_get(&regs, 0), 0);
        assert_eq!(dense_get(&regs, 16383), 5);
    }
}
