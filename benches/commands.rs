//! The cost of one command through the whole engine path (`Engine::execute`: lookup, checks,
//! handler, stats, reply), for a few of the commonest commands on small values. Prints ns per
//! command, in CPU time; nothing here asserts on time. Run with `cargo bench --bench commands`.
//! `BENCH_ONLY=GET` times one case alone (`GET/acl` its ACL variant, `SET+GET` the loop), so
//! that a profiler (callgrind) counts one command's instructions: the difference between two
//! runs with different `BENCH_OPS`, divided by the difference in ops.

use std::sync::OnceLock;

use redis_playground::{Engine, EngineOptions};

/// The native server's allocator (src/bin/server/native.rs), counted as it counts it: the
/// engine is timed here as the server runs it.
#[global_allocator]
static ALLOCATOR: cap::Cap<mimalloc::MiMalloc> = cap::Cap::new(mimalloc::MiMalloc, usize::MAX);

/// The allocator's count of bytes in use, for the engine (INFO used_memory).
fn allocated_bytes() -> u64 {
    ALLOCATOR.allocated() as u64
}

/// Commands per timed run; `BENCH_OPS` changes it (a profiler's run wants fewer).
const OPS: usize = 300_000;

fn main() {
    let ops: usize = std::env::var("BENCH_OPS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(OPS);
    let only = std::env::var("BENCH_ONLY").ok();
    let mut eng = Engine::new(EngineOptions::default());
    // Commands timed as the server times them (SLOWLOG, LATENCY), and as the wasm build does
    // with `performance.now()`: the SET+GET loop below is compared with the wasm one.
    eng.set_clock_us(Some(monotonic_us));
    let c = eng.open_client(0);
    // The same commands from a client of an ACL user whose rules must be checked (a key
    // pattern, a category): the cost of the permission check beside the default user's.
    let acl_client = eng.open_client(0);
    let setup: &[&[&[u8]]] = &[
        &[
            b"ACL",
            b"SETUSER",
            b"bench",
            b"on",
            b"nopass",
            b"~key:*",
            b"+@string",
            b"+@connection",
        ],
        &[b"AUTH", b"bench", b"x"],
    ];
    for words in setup {
        let argv: Vec<Vec<u8>> = words.iter().map(|w| w.to_vec()).collect();
        eng.execute(acl_client, &argv, 0);
    }
    let keys: Vec<Vec<u8>> = (0..10_000)
        .map(|i| format!("key:{}", i).into_bytes())
        .collect();
    let cases: &[(&str, &[&[u8]])] = &[
        ("SET", &[b"SET", b"", b"value"]),
        ("GET", &[b"GET", b""]),
        ("INCR", &[b"INCR", b"counter"]),
        ("LPUSH", &[b"LPUSH", b"list", b"element"]),
        ("HSET", &[b"HSET", b"hash", b"", b"v"]),
        ("PING", &[b"PING"]),
    ];
    println!("{:>8} {:>10}", "command", "ns/op");
    let runs = cases
        .iter()
        .map(|(n, w)| (n.to_string(), *w, c))
        .chain(
            cases
                .iter()
                .filter(|(n, _)| matches!(*n, "SET" | "GET" | "PING"))
                .map(|(n, w)| (format!("{n}/acl"), *w, acl_client)),
        )
        .collect::<Vec<_>>();
    // With BENCH_ONLY, the cases before the chosen one still run, untimed and a fixed number
    // of times (GET finds the keys SET wrote): two profiles with different BENCH_OPS then
    // differ by the chosen command's work alone.
    let chosen = only.as_deref().map(|o| {
        runs.iter()
            .position(|(n, _, _)| o.eq_ignore_ascii_case(n))
            .unwrap_or(runs.len())
    });
    for (i, (name, words, c)) in runs.iter().enumerate() {
        let runs_for = match chosen {
            None => ops,
            Some(k) if k == runs.len() => break,
            Some(k) if i < k => keys.len(),
            Some(k) if i == k => ops,
            Some(_) => break,
        };
        let c = *c;
        let mut argv: Vec<Vec<u8>> = words.iter().map(|w| w.to_vec()).collect();
        let t = cpu_ns();
        for i in 0..runs_for {
            // An empty word stands for a key that varies with each call.
            let key = &keys[i % keys.len()];
            if let Some(slot) = argv
                .iter_mut()
                .skip(1)
                .find(|a| a.is_empty() || a.starts_with(b"key:"))
            {
                slot.clone_from(key);
            }
            std::hint::black_box(eng.execute(c, &argv, 0));
        }
        if chosen.is_none_or(|k| k == i) {
            println!(
                "{:>8} {:>10.0}",
                name,
                cpu_ns().saturating_sub(t) as f64 / ops as f64
            );
        }
    }
    if only
        .as_deref()
        .is_some_and(|o| !o.eq_ignore_ascii_case("SET+GET"))
    {
        return;
    }
    // The loop the wasm build times too (`pg.benchLoop`, make bench): SET and GET in turn,
    // best of three as bench/js/api.mjs takes it, on an engine set up as the page's is (a
    // fresh one, with the host's clock and allocation count; src/wasm.rs) and as the
    // server's is (src/bin/server/native.rs), so that the two figures compare the same work.
    let mut fresh = Engine::new(EngineOptions::default());
    fresh.set_clock_us(Some(monotonic_us));
    fresh.set_memory_counter(Some(allocated_bytes));
    let best = (0..3)
        .map(|_| {
            let t = cpu_ns();
            redis_playground::playground::set_get_loop(&mut fresh, (ops / 2) as u32);
            cpu_ns().saturating_sub(t)
        })
        .min()
        .unwrap_or(0);
    println!("{:>8} {:>10.0}", "SET+GET", best as f64 / ops as f64);
}

/// The CPU time the process has used, in ns: what the figures are taken in rather than wall
/// time, since the machine they run on is shared and a busy neighbour stretches wall time
/// (bench/js/api.mjs measures the wasm side the same way).
fn cpu_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes one timespec through a valid pointer.
    unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut ts) };
    (ts.tv_sec as u64) * 1_000_000_000 + ts.tv_nsec as u64
}

/// Microseconds from a monotonic clock, read as the native server reads it for the engine
/// (src/bin/server/native.rs): `clock_gettime` directly, since std's `Instant` goes through
/// checked 128-bit arithmetic that would add its own cost to every command timed here.
fn monotonic_us() -> u64 {
    static START: OnceLock<u64> = OnceLock::new();
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes one timespec through a valid pointer.
    if unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) } != 0 {
        return 0;
    }
    let secs = u64::try_from(ts.tv_sec).unwrap_or(0);
    let micros = u64::try_from(ts.tv_nsec).unwrap_or(0) / 1000;
    let now = secs.saturating_mul(1_000_000).saturating_add(micros);
    now.saturating_sub(*START.get_or_init(|| now))
}
