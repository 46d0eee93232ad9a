//! A cluster of native servers and redis-server 7.0 nodes survives losing a primary: it is
//! killed while a client writes, the cluster flags it FAIL, its replica is elected and takes
//! its slots, and every write acknowledged by `WAIT 1` (the write reached a replica, as
//! Redis's docs ask of a write that must survive a failover) reads back. Twice: once with a
//! native replica taking over, once with a redis-server one.
//!
//! Skipped without redis-server or redis-cli, unless `REQUIRE_REDIS` is set.

mod common;

use std::collections::HashMap;
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::cluster::{key_slot, six_node_dirs, start_node, text, wait_for, Node};
use common::{argv, Conn};

/// Small, so the failovers are quick; not so small that a loaded machine sees false failures.
const NODE_TIMEOUT: &str = "3000";

/// A client that follows MOVED, and rides out a dead node by asking the others.
struct Client {
    conns: HashMap<u16, Conn>,
    owners: HashMap<u16, u16>,
    seeds: Vec<u16>,
    next_seed: usize,
}

impl Client {
    fn new(seeds: Vec<u16>) -> Client {
        Client {
            conns: HashMap::new(),
            owners: HashMap::new(),
            seeds,
            next_seed: 0,
        }
    }

    /// Sends `words` to the node serving `slot`, then `then` on the same connection when
    /// the first reply is not an error. None when no node answered in time.
    fn call(&mut self, slot: u16, words: &[&str], then: Option<&[&str]>) -> Option<Vec<Vec<u8>>> {
        for _ in 0..20 {
            let port = match self.owners.get(&slot) {
                Some(&p) => p,
                None => {
                    self.next_seed = (self.next_seed + 1) % self.seeds.len();
                    self.seeds[self.next_seed]
                }
            };
            if let std::collections::hash_map::Entry::Vacant(e) = self.conns.entry(port) {
                match Conn::connect(port) {
                    Ok(c) => {
                        e.insert(c);
                    }
                    Err(_) => {
                        self.owners.remove(&slot);
                        std::thread::sleep(Duration::from_millis(50));
                        continue;
                    }
                }
            }
            let c = self.conns.get_mut(&port).expect("connected");
            let r = match c.call(&argv(words)) {
                Ok(r) => r,
                Err(_) => {
                    self.conns.remove(&port);
                    self.owners.remove(&slot);
                    std::thread::sleep(Duration::from_millis(50));
                    continue;
                }
            };
            let line = String::from_utf8_lossy(&r).into_owned();
            if let Some(rest) = line.strip_prefix("-MOVED ") {
                let p = rest
                    .split_whitespace()
                    .nth(1)
                    .and_then(|a| a.rsplit(':').next())
                    .and_then(|p| p.parse().ok());
                if let Some(p) = p {
                    self.owners.insert(slot, p);
                }
                continue;
            }
            if line.starts_with('-') {
                // CLUSTERDOWN while the failover runs, or a replica's READONLY.
                self.owners.remove(&slot);
                std::thread::sleep(Duration::from_millis(50));
                continue;
            }
            let mut out = vec![r];
            if let Some(then) = then {
                match c.call(&argv(then)) {
                    Ok(r) => out.push(r),
                    Err(_) => {
                        self.conns.remove(&port);
                        return None;
                    }
                }
            }
            return Some(out);
        }
        None
    }
}

/// The primaries and their replicas from a node's CLUSTER NODES: (primary ID, port) → the
/// replicas' ports; and the port of every ID.
fn shards(port: u16) -> (HashMap<String, Vec<u16>>, HashMap<String, u16>) {
    let t = text(port, &["CLUSTER", "NODES"]);
    let mut ports = HashMap::new();
    let mut replicas: HashMap<String, Vec<u16>> = HashMap::new();
    let lines: Vec<Vec<&str>> = t
        .lines()
        .filter(|l| l.contains('@'))
        .map(|l| l.split(' ').collect())
        .collect();
    for w in &lines {
        let p = w[1]
            .split('@')
            .next()
            .and_then(|a| a.rsplit(':').next())
            .and_then(|p| p.parse().ok())
            .unwrap_or(0);
        ports.insert(w[0].to_string(), p);
    }
    for w in &lines {
        if w[2].contains("master") && !w[2].contains("fail") {
            replicas.entry(w[0].to_string()).or_default();
        }
    }
    for w in &lines {
        if w[2].contains("slave") && w[3] != "-" {
            if let Some(v) = replicas.get_mut(w[3]) {
                v.push(ports[w[0]]);
            }
        }
    }
    (replicas, ports)
}

/// Writes `SET w:<round>:<i> <i>` followed by `WAIT 1 100` until stopped; a write counts
/// as acknowledged when WAIT saw a replica take it (never, on a primary left without one).
fn writer(round: u32, seeds: Vec<u16>, stop: Arc<AtomicBool>, acked: Arc<Mutex<Vec<String>>>) {
    let mut client = Client::new(seeds);
    let mut i = 0u64;
    while !stop.load(Ordering::Relaxed) {
        let k = format!("w:{round}:{i}");
        let v = i.to_string();
        let wait: &[&str] = &["WAIT", "1", "100"];
        if let Some(r) = client.call(key_slot(&k), &["SET", &k, &v], Some(wait)) {
            let waited = String::from_utf8_lossy(&r[1]).into_owned();
            let replicas: i64 = waited.trim().trim_start_matches(':').parse().unwrap_or(0);
            if r[0] == b"+OK\r\n" && replicas >= 1 {
                acked.lock().expect("acked").push(k);
            }
        }
        i += 1;
    }
}

/// Kills the primary whose replica is on `replica_port` while a client writes; waits for
/// the replica to take over and checks every acknowledged write.
fn fail_over(nodes: &mut Vec<Node>, victim: u16, replica_port: u16, round: u32) {
    let stop = Arc::new(AtomicBool::new(false));
    let acked: Arc<Mutex<Vec<String>>> = Arc::new(Mutex::new(Vec::new()));
    let seeds: Vec<u16> = nodes.iter().map(|n| n.port).collect();
    let w = {
        let (stop, acked, seeds) = (stop.clone(), acked.clone(), seeds.clone());
        std::thread::spawn(move || writer(round, seeds, stop, acked))
    };
    wait_for("writes acknowledged", 30, || {
        acked.lock().expect("acked").len() >= 200
    });
    let kind = |p: u16| {
        let n = nodes.iter().find(|n| n.port == p).expect("a node");
        if n.native {
            "native"
        } else {
            "redis-server"
        }
    };
    eprintln!(
        "round {round}: killing the {} primary on {victim}; its {} replica on {replica_port} \
         should take over",
        kind(victim),
        kind(replica_port)
    );
    let before = acked.lock().expect("acked").len();
    nodes.retain(|n| n.port != victim);
    let took = wait_for("the replica promoted", 60, || {
        text(replica_port, &["ROLE"]).contains("master")
            && text(replica_port, &["CLUSTER", "INFO"]).contains("cluster_state:ok")
    });
    eprintln!("round {round}: replica promoted after {took:?}");
    for n in nodes.iter() {
        wait_for("cluster_state:ok on every live node", 30, || {
            text(n.port, &["CLUSTER", "INFO"]).contains("cluster_state:ok")
        });
        let nodes_text = text(n.port, &["CLUSTER", "NODES"]);
        let line = nodes_text
            .lines()
            .find(|l| l.contains(&format!(":{victim}@")))
            .unwrap_or("")
            .to_string();
        assert!(
            line.contains("master,fail") || line.contains("slave,fail"),
            "{line}"
        );
    }
    let after_failover = acked.lock().expect("acked").len();
    // Writes go on (a shard whose primary has no replica left acknowledges none).
    wait_for("writes acknowledged after the failover", 60, || {
        acked.lock().expect("acked").len() >= after_failover + 50
    });
    stop.store(true, Ordering::Relaxed);
    w.join().expect("the writer");
    let acked = acked.lock().expect("acked").clone();
    eprintln!(
        "round {round}: {} writes acknowledged ({before} before the kill)",
        acked.len()
    );
    let mut reader = Client::new(nodes.iter().map(|n| n.port).collect());
    let mut lost = Vec::new();
    for k in &acked {
        let i = k.rsplit(':').next().unwrap_or("");
        let want = format!("${}\r\n{i}\r\n", i.len());
        match reader.call(key_slot(k), &["GET", k], None) {
            Some(r) if r[0] == want.as_bytes() => {}
            other => lost.push((k.clone(), other)),
        }
    }
    assert!(
        lost.is_empty(),
        "{} acknowledged writes lost: {:?}",
        lost.len(),
        &lost[..lost.len().min(5)]
    );
}

#[test]
fn a_killed_primary_is_replaced_and_no_acknowledged_write_is_lost() {
    let Some((base, dirs)) = six_node_dirs("cluster-failover") else {
        return;
    };
    // Primaries: native, redis-server, native; replicas: redis-server, redis-server, native.
    let kinds = [true, false, true, false, false, true];
    let mut nodes: Vec<Node> = kinds
        .iter()
        .zip(&dirs)
        .map(|(&native, d)| start_node(native, d, NODE_TIMEOUT))
        .collect();
    let addrs: Vec<String> = nodes
        .iter()
        .map(|n| format!("127.0.0.1:{}", n.port))
        .collect();
    let mut args = vec!["--cluster", "create"];
    args.extend(addrs.iter().map(String::as_str));
    args.extend(["--cluster-replicas", "1", "--cluster-yes"]);
    let out = Command::new("redis-cli")
        .args(&args)
        .output()
        .expect("redis-cli");
    let said = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(said.contains("[OK] All 16384 slots covered"), "{said}");
    for n in &nodes {
        wait_for("cluster_state:ok on every node", 60, || {
            text(n.port, &["CLUSTER", "INFO"]).contains("cluster_state:ok")
        });
    }
    for n in &nodes {
        if text(n.port, &["ROLE"]).contains("slave") {
            wait_for("the replica's link up", 30, || {
                text(n.port, &["INFO", "replication"]).contains("master_link_status:up")
            });
        }
    }
    // Round 1: the primary with the native replica dies; round 2: one with a redis-server
    // replica.
    for (round, want_native) in [(1, true), (2, false)] {
        let (shards, ports) = shards(nodes[0].port);
        let pick = shards.iter().find_map(|(id, replicas)| {
            let r = *replicas.first()?;
            let native = nodes.iter().find(|n| n.port == r)?.native;
            (native == want_native).then_some((ports[id], r))
        });
        let Some((victim, replica)) = pick else {
            panic!("no primary with a replica of the wanted kind: {shards:?}");
        };
        fail_over(&mut nodes, victim, replica, round);
    }
    drop(nodes);
    let _ = std::fs::remove_dir_all(&base);
}
