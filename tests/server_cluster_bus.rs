//! Native servers and redis-server 7.0 nodes in one cluster, joined over the cluster bus:
//! `redis-cli --cluster create` builds 3 primaries and 3 replicas of both kinds, `--cluster
//! check` passes, `--cluster reshard` moves 100 slots with their keys each way (native to
//! redis-server, redis-server to native) while a client writes and follows MOVED and ASK, and
//! every acknowledged write reads back through `redis-cli -c`.
//!
//! Skipped without redis-server or redis-cli, unless `REQUIRE_REDIS` is set.

mod common;

use std::collections::HashMap;
use std::io::Write;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::cluster::{key_slot, redis_cli, six_node_dirs, start_node, text, wait_for, Node};
use common::{argv, Conn};

/// The node timeout the nodes run with: small, so the test is quick, and not so small that a
/// loaded machine sees failures.
const NODE_TIMEOUT: &str = "5000";

/// A client that follows MOVED and ASK as `redis-cli -c` does, learning slot owners.
struct ClusterClient {
    conns: HashMap<u16, Conn>,
    owners: HashMap<u16, u16>,
    seed: u16,
}

impl ClusterClient {
    fn new(seed: u16) -> ClusterClient {
        ClusterClient {
            conns: HashMap::new(),
            owners: HashMap::new(),
            seed,
        }
    }

    fn conn(&mut self, port: u16) -> &mut Conn {
        self.conns
            .entry(port)
            .or_insert_with(|| Conn::connect(port).expect("connect"))
    }

    /// Runs a command on the node serving `slot`; the final reply's bytes.
    fn call(&mut self, slot: u16, words: &[&str]) -> Vec<u8> {
        let mut port = *self.owners.get(&slot).unwrap_or(&self.seed);
        let mut asking = false;
        // Redirections are followed at once; a slot being closed (TRYAGAIN) or a cluster
        // not ok yet (CLUSTERDOWN) is waited for, up to about 20 s.
        for attempt in 0..1000 {
            if attempt > 5 {
                // Nodes still disagree about the slot: give them a moment.
                std::thread::sleep(Duration::from_millis(20));
            }
            let c = self.conn(port);
            if asking {
                let r = c.call(&argv(&["ASKING"])).expect("ASKING");
                assert_eq!(r, b"+OK\r\n");
            }
            let r = match c.call(&argv(words)) {
                Ok(r) => r,
                Err(_) => {
                    self.conns.remove(&port);
                    std::thread::sleep(Duration::from_millis(50));
                    continue;
                }
            };
            let line = String::from_utf8_lossy(&r).into_owned();
            let redirect = |prefix: &str| -> Option<u16> {
                let rest = line.strip_prefix(prefix)?;
                let addr = rest.split_whitespace().nth(1)?;
                addr.rsplit(':').next()?.parse().ok()
            };
            if let Some(p) = redirect("-MOVED ") {
                self.owners.insert(slot, p);
                port = p;
                asking = false;
                continue;
            }
            if let Some(p) = redirect("-ASK ") {
                port = p;
                asking = true;
                continue;
            }
            if line.starts_with("-TRYAGAIN") || line.starts_with("-CLUSTERDOWN") {
                asking = false;
                std::thread::sleep(Duration::from_millis(20));
                continue;
            }
            return r;
        }
        panic!("too many redirections for {words:?}");
    }
}

/// The ID of the node on `port`.
fn myid(port: u16) -> String {
    let r = text(port, &["CLUSTER", "MYID"]);
    r.lines().nth(1).expect("an ID").to_string()
}

/// Reads every key back through `redis-cli -c` (one process, commands on its input).
fn read_back(port: u16, keys: &[String]) -> Vec<String> {
    let mut child = Command::new("redis-cli")
        .args(["-c", "-p", &port.to_string()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("redis-cli -c");
    let mut input = String::new();
    for k in keys {
        input.push_str(&format!("GET {k}\n"));
    }
    let mut stdin = child.stdin.take().expect("stdin");
    let feeder = std::thread::spawn(move || {
        let _ = stdin.write_all(input.as_bytes());
    });
    let out = child.wait_with_output().expect("redis-cli output");
    let _ = feeder.join();
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| !l.starts_with("-> Redirected"))
        .map(str::to_string)
        .collect()
}

#[test]
fn native_and_redis_nodes_form_one_cluster() {
    let Some((base, dirs)) = six_node_dirs("cluster-bus") else {
        return;
    };
    // The order redis-cli is given: the first three become primaries (native, redis,
    // native); the replicas are of both kinds too.
    let kinds = [true, false, true, false, false, true];
    let nodes: Vec<Node> = kinds
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
    let started = Instant::now();
    let (ok, out) = redis_cli(&args);
    assert!(ok && out.contains("[OK] All 16384 slots covered"), "{out}");
    eprintln!("cluster create: {:?}", started.elapsed());

    for n in &nodes {
        wait_for("cluster_state:ok on every node", 60, || {
            text(n.port, &["CLUSTER", "INFO"]).contains("cluster_state:ok")
        });
    }
    // Every node sees the five others, connected, none failing.
    for n in &nodes {
        wait_for("every node connected to every other", 30, || {
            let t = text(n.port, &["CLUSTER", "NODES"]);
            // The bulk string's length line, then a line per node.
            t.lines().filter(|l| l.contains('@')).count() == 6
                && !t.contains("disconnected")
                && !t.contains("fail")
                && !t.contains("handshake")
        });
    }
    // Replicas learn a moved slot from the next PING: the check passes once they have.
    let check = |port: u16| {
        let passes = |out: &str| {
            out.contains("[OK] All nodes agree about slots configuration.")
                && out.contains("[OK] All 16384 slots covered.")
                && !out.contains("[ERR]")
                && !out.contains("[WARNING]")
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let (ok, out) = redis_cli(&["--cluster", "check", &format!("127.0.0.1:{port}")]);
            if ok && passes(&out) {
                return;
            }
            assert!(Instant::now() < deadline, "{out}");
            std::thread::sleep(Duration::from_millis(500));
        }
    };
    check(nodes[0].port);
    check(nodes[1].port);

    // Replicas of both kinds replicate from primaries of both kinds.
    let mut replicas = 0;
    for n in &nodes {
        let info = text(n.port, &["INFO", "replication"]);
        if info.contains("role:slave") {
            replicas += 1;
            wait_for("the replica's link up", 30, || {
                text(n.port, &["INFO", "replication"]).contains("master_link_status:up")
            });
        }
    }
    assert_eq!(replicas, 3);

    // Keys before the reshard, then a writer during it.
    let mut client = ClusterClient::new(nodes[0].port);
    let mut keys: Vec<String> = Vec::new();
    for i in 0..2000 {
        let k = format!("key:{i}");
        let r = client.call(key_slot(&k), &["SET", &k, &format!("v{i}")]);
        assert_eq!(r, b"+OK\r\n", "{}", String::from_utf8_lossy(&r));
        keys.push(k);
    }
    let stop = Arc::new(AtomicBool::new(false));
    let acked: Arc<Mutex<Vec<String>>> = Arc::new(Mutex::new(Vec::new()));
    let writer = {
        let (stop, acked) = (stop.clone(), acked.clone());
        let seed = nodes[1].port;
        std::thread::spawn(move || {
            let mut client = ClusterClient::new(seed);
            let mut i = 0u64;
            while !stop.load(Ordering::Relaxed) || i < 500 {
                let k = format!("w:{i}");
                let r = client.call(key_slot(&k), &["SET", &k, &format!("w{i}")]);
                if r == b"+OK\r\n" {
                    acked.lock().expect("acked").push(k);
                }
                i += 1;
            }
        })
    };

    // 100 slots from a native primary to a redis-server primary, then 100 back the other
    // way from a redis-server primary to a native one.
    let (native_primary, redis_primary) = (myid(nodes[0].port), myid(nodes[1].port));
    for (from, to) in [
        (&native_primary, &redis_primary),
        (&redis_primary, &native_primary),
    ] {
        // redis-cli refuses to reshard until every node agrees on the slots, which takes the
        // gossip a moment after the previous move: wait for that, as a user would.
        wait_for("the nodes to agree on the slots", 60, || {
            let (ok, out) = redis_cli(&["--cluster", "check", &addrs[0]]);
            ok && !out.contains("[ERR]")
        });
        let started = Instant::now();
        let (ok, out) = redis_cli(&[
            "--cluster",
            "reshard",
            &addrs[0],
            "--cluster-from",
            from,
            "--cluster-to",
            to,
            "--cluster-slots",
            "100",
            "--cluster-yes",
        ]);
        assert!(ok && !out.contains("[ERR]"), "{out}");
        eprintln!("reshard of 100 slots: {:?}", started.elapsed());
    }
    stop.store(true, Ordering::Relaxed);
    writer.join().expect("the writer");
    check(nodes[2].port);
    check(nodes[5].port);

    // Every write that was acknowledged reads back, through redis-cli -c from any node.
    let acked = acked.lock().expect("acked").clone();
    assert!(acked.len() >= 500, "{} writes acknowledged", acked.len());
    eprintln!("writes acknowledged during the reshards: {}", acked.len());
    for (list, prefix) in [(&keys, "v"), (&acked, "w")] {
        let got = read_back(nodes[3].port, list);
        assert_eq!(got.len(), list.len());
        for (k, v) in list.iter().zip(&got) {
            let i = k.rsplit(':').next().unwrap_or("");
            assert_eq!(v, &format!("{prefix}{i}"), "{k}");
        }
    }
    // And the keys the node holds are the slots it serves: none left behind by a move.
    let mut total = 0;
    for n in nodes
        .iter()
        .filter(|n| text(n.port, &["INFO", "replication"]).contains("role:master"))
    {
        let size = text(n.port, &["DBSIZE"]);
        total += size
            .trim()
            .trim_start_matches(':')
            .parse::<usize>()
            .unwrap_or(0);
        let _ = n.native;
    }
    assert_eq!(total, keys.len() + acked.len());
    drop(nodes);
    let _ = std::fs::remove_dir_all(&base);
}
