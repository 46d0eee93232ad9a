//! Sorted-set cost as the set grows: ZADD, ZRANK and ZRANGE (10 members from a random rank)
//! through the engine, at 1k, 10k, 100k and 1M members. Each figure is the mean over a batch of
//! operations on a set of that size; O(log n) shows as a slow, steady rise per tenfold growth.
//! Prints only; nothing here asserts on time. Run with `cargo bench --bench zset`.

use std::time::Instant;

use redis_playground::{Engine, EngineOptions};

const BATCH: usize = 20_000;

/// A small deterministic generator, so every run measures the same work.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 17
    }
}

fn cmd(parts: &[&[u8]]) -> Vec<Vec<u8>> {
    parts.iter().map(|p| p.to_vec()).collect()
}

fn ns_per_op(start: Instant, ops: usize) -> f64 {
    start.elapsed().as_nanos() as f64 / ops as f64
}

fn main() {
    println!(
        "{:>10} {:>14} {:>14} {:>14}",
        "members", "ZADD ns/op", "ZRANK ns/op", "ZRANGE ns/op"
    );
    for &n in &[1_000usize, 10_000, 100_000, 1_000_000] {
        let mut eng = Engine::new(EngineOptions::default());
        let c = eng.open_client(0);
        let mut rng = Lcg(42);
        for i in 0..n {
            let score = (rng.next() % 1_000_000).to_string();
            let member = format!("member:{}", i);
            eng.execute(
                c,
                &cmd(&[b"zadd", b"z", score.as_bytes(), member.as_bytes()]),
                0,
            );
        }

        // ZADD of new members into a set of about n members.
        let extra: Vec<(String, String)> = (0..BATCH)
            .map(|i| ((rng.next() % 1_000_000).to_string(), format!("extra:{}", i)))
            .collect();
        let t = Instant::now();
        for (s, m) in &extra {
            eng.execute(c, &cmd(&[b"zadd", b"z", s.as_bytes(), m.as_bytes()]), 0);
        }
        let zadd = ns_per_op(t, BATCH);

        let probes: Vec<String> = (0..BATCH)
            .map(|_| format!("member:{}", rng.next() as usize % n))
            .collect();
        let t = Instant::now();
        for m in &probes {
            eng.execute(c, &cmd(&[b"zrank", b"z", m.as_bytes()]), 0);
        }
        let zrank = ns_per_op(t, BATCH);

        let starts: Vec<(String, String)> = (0..BATCH)
            .map(|_| {
                let r = rng.next() as usize % n;
                (r.to_string(), (r + 9).to_string())
            })
            .collect();
        let t = Instant::now();
        for (a, b) in &starts {
            eng.execute(c, &cmd(&[b"zrange", b"z", a.as_bytes(), b.as_bytes()]), 0);
        }
        let zrange = ns_per_op(t, BATCH);

        println!("{:>10} {:>14.0} {:>14.0} {:>14.0}", n, zadd, zrank, zrange);
    }
}
