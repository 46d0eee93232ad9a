//! Redirections between cluster nodes, in one process: engines that share the slots through
//! CLUSTER commands (ADDSLOTS here, SETSLOT ... NODE there), as the cluster bus would have told
//! them, and a slot moved from one to the other with SETSLOT MIGRATING / IMPORTING, DUMP and
//! RESTORE-ASKING. No bus and no sockets: what a client of each node reads.

use redis_playground::cluster::state::{flag, Node};
use redis_playground::protocol::render::render;
use redis_playground::{ClientId, Engine, EngineOptions};

const T0: i64 = 1_700_000_000_000;

struct Nodes {
    engines: Vec<Engine>,
    clients: Vec<ClientId>,
    now: i64,
}

fn words(line: &str) -> Vec<Vec<u8>> {
    line.split(' ').map(|w| w.as_bytes().to_vec()).collect()
}

impl Nodes {
    /// `n` cluster nodes on 127.0.0.1:7001, 7002 ..., each knowing the others (as primaries).
    fn new(n: usize) -> Nodes {
        let mut engines: Vec<Engine> = (0..n)
            .map(|i| {
                let mut e = Engine::new(EngineOptions {
                    now_ms: T0,
                    port: 7001 + i as u16,
                    seed: 11 + i as u64,
                    ..EngineOptions::default()
                });
                e.config.set_at_startup("cluster-enabled", "yes");
                e.config.set_at_startup("cluster-announce-ip", "127.0.0.1");
                e.enable_cluster(None, T0).expect("cluster mode");
                e
            })
            .collect();
        let known: Vec<Node> = engines
            .iter()
            .map(|e| {
                let c = e.cluster.as_ref().unwrap();
                let mut n = c.state.me().clone();
                n.flags = flag::MASTER;
                n.link = true;
                n
            })
            .collect();
        for (i, e) in engines.iter_mut().enumerate() {
            let st = &mut e.cluster.as_mut().unwrap().state;
            for (j, n) in known.iter().enumerate() {
                if i != j {
                    st.add_node(n.clone());
                }
            }
        }
        let clients = engines.iter_mut().map(|e| e.open_client(T0)).collect();
        Nodes {
            engines,
            clients,
            now: T0,
        }
    }

    fn id(&self, node: usize) -> String {
        self.engines[node]
            .cluster
            .as_ref()
            .unwrap()
            .state
            .myself
            .clone()
    }

    /// What redis-cli would print for a command sent to `node`.
    fn run(&mut self, node: usize, line: &str) -> String {
        self.run_argv(node, &words(line))
    }

    fn run_argv(&mut self, node: usize, argv: &[Vec<u8>]) -> String {
        self.now += 1;
        let reply = self.engines[node].execute(self.clients[node], argv, self.now);
        reply
            .map(|r| render(&r).trim_end_matches('\n').to_string())
            .unwrap_or_default()
    }

    /// Time passes for every node (the state turns ok after its waits).
    fn wait(&mut self, ms: i64) {
        self.now += ms;
        for e in &mut self.engines {
            e.tick(self.now);
        }
    }
}

/// Two primaries: node 0 serves 0-8191, node 1 serves 8192-16383, and each knows it.
fn two_primaries() -> Nodes {
    let mut c = Nodes::new(2);
    assert_eq!(c.run(0, "CLUSTER ADDSLOTSRANGE 0 8191"), "OK");
    assert_eq!(c.run(1, "CLUSTER ADDSLOTSRANGE 8192 16383"), "OK");
    let (a, b) = (c.id(0), c.id(1));
    for s in 0..16384 {
        let (node, owner) = if s < 8192 { (1, &a) } else { (0, &b) };
        let line = format!("CLUSTER SETSLOT {s} NODE {owner}");
        assert_eq!(c.run(node, &line), "OK", "{line}");
    }
    c.wait(6000);
    assert!(c.run(0, "CLUSTER INFO").contains("cluster_state:ok"));
    assert!(c.run(1, "CLUSTER INFO").contains("cluster_state:ok"));
    c
}

#[test]
fn moved_and_crossslot() {
    let mut c = two_primaries();
    // foo is in slot 12182 (node 1), bar in 5061 (node 0).
    assert_eq!(c.run(0, "SET foo 1"), "(error) MOVED 12182 127.0.0.1:7002");
    assert_eq!(c.run(1, "SET foo 1"), "OK");
    assert_eq!(c.run(1, "GET bar"), "(error) MOVED 5061 127.0.0.1:7001");
    assert_eq!(
        c.run(0, "MSET bar 1 foo 2"),
        "(error) CROSSSLOT Keys in request don't hash to the same slot"
    );
    assert_eq!(c.run(0, "MSET {bar}1 1 {bar}2 2"), "OK");
    assert_eq!(c.run(0, "PING"), "PONG");
    // Both nodes list the same slot map.
    let slots0 = c.run(0, "CLUSTER SLOTS");
    assert_eq!(slots0, c.run(1, "CLUSTER SLOTS"));
    assert!(
        slots0.contains("8191") && slots0.contains("7002"),
        "{slots0}"
    );
    let nodes = c.run(0, "CLUSTER NODES");
    assert!(
        nodes.contains(&format!(
            "{} 127.0.0.1:7002@17002 master - 0 0 0 connected 8192-16383",
            c.id(1)
        )),
        "{nodes}"
    );
    // A transaction is routed by all its commands: a redirection inside MULTI fails EXEC.
    assert_eq!(c.run(0, "MULTI"), "OK");
    assert_eq!(c.run(0, "SET bar 1"), "QUEUED");
    assert_eq!(c.run(0, "GET foo"), "(error) MOVED 12182 127.0.0.1:7002");
    assert_eq!(
        c.run(0, "EXEC"),
        "(error) EXECABORT Transaction discarded because of previous errors."
    );
    // A script's undeclared key on another node.
    let eval = [
        b"EVAL".to_vec(),
        b"return redis.call('get', 'foo')".to_vec(),
        b"0".to_vec(),
    ];
    let r = c.run_argv(0, &eval);
    assert!(
        r.contains("Script attempted to access a non local key in a cluster node"),
        "{r}"
    );
    // A declared key is redirected before the script runs.
    let eval = [
        b"EVAL".to_vec(),
        b"return 1".to_vec(),
        b"1".to_vec(),
        b"foo".to_vec(),
    ];
    assert_eq!(c.run_argv(0, &eval), "(error) MOVED 12182 127.0.0.1:7002");
}

#[test]
fn slot_migration_with_ask() {
    let mut c = two_primaries();
    let (a, b) = (c.id(0), c.id(1));
    assert_eq!(c.run(0, "SET bar v"), "OK");
    assert_eq!(c.run(0, "SET {bar}2 w"), "OK");
    assert_eq!(
        c.run(1, &format!("CLUSTER SETSLOT 5061 IMPORTING {a}")),
        "OK"
    );
    assert_eq!(
        c.run(0, &format!("CLUSTER SETSLOT 5061 MIGRATING {b}")),
        "OK"
    );
    // The source serves the keys it still has, and ASKs for the others.
    assert_eq!(c.run(0, "GET bar"), "\"v\"");
    assert_eq!(c.run(0, "GET {bar}new"), "(error) ASK 5061 127.0.0.1:7002");
    assert_eq!(
        c.run(0, "MGET bar {bar}new"),
        "(error) TRYAGAIN Multiple keys request during rehashing of slot"
    );
    // The target redirects back without ASKING, serves with it (for one command).
    assert_eq!(c.run(1, "GET bar"), "(error) MOVED 5061 127.0.0.1:7001");
    assert_eq!(c.run(1, "ASKING"), "OK");
    assert_eq!(c.run(1, "GET bar"), "(nil)");
    assert_eq!(c.run(1, "GET bar"), "(error) MOVED 5061 127.0.0.1:7001");
    // Move bar: DUMP here, RESTORE-ASKING there (it needs no ASKING), DEL here.
    let now = c.now;
    let dump = c.engines[0]
        .execute(c.clients[0], &words("DUMP bar"), now)
        .unwrap();
    let redis_playground::Reply::Bulk(payload) = dump else {
        panic!("{dump:?}")
    };
    let restore = vec![
        b"RESTORE-ASKING".to_vec(),
        b"bar".to_vec(),
        b"0".to_vec(),
        payload,
    ];
    assert_eq!(c.run_argv(1, &restore), "OK");
    assert_eq!(c.run(0, "DEL bar"), "(integer) 1");
    assert_eq!(c.run(0, "GET bar"), "(error) ASK 5061 127.0.0.1:7002");
    assert_eq!(c.run(1, "ASKING"), "OK");
    assert_eq!(c.run(1, "GET bar"), "\"v\"");
    // Several keys on the target while some are still on the source: TRYAGAIN.
    assert_eq!(c.run(1, "ASKING"), "OK");
    assert_eq!(
        c.run(1, "MGET bar {bar}2"),
        "(error) TRYAGAIN Multiple keys request during rehashing of slot"
    );
    // The source cannot give the slot away while it holds keys of it.
    assert_eq!(
        c.run(0, &format!("CLUSTER SETSLOT 5061 NODE {b}")),
        "(error) ERR Can't assign hashslot 5061 to a different node while I still hold keys for this hash slot."
    );
    assert_eq!(c.run(0, "DEL {bar}2"), "(integer) 1");
    assert_eq!(c.run(0, "CLUSTER COUNTKEYSINSLOT 5061"), "(integer) 0");
    // The end of the move: the target takes the slot with a new epoch, the source follows.
    assert_eq!(c.run(1, &format!("CLUSTER SETSLOT 5061 NODE {b}")), "OK");
    assert!(c.run(1, "CLUSTER INFO").contains("cluster_my_epoch:1"));
    assert_eq!(c.run(0, &format!("CLUSTER SETSLOT 5061 NODE {b}")), "OK");
    assert_eq!(c.run(0, "GET bar"), "(error) MOVED 5061 127.0.0.1:7002");
    assert_eq!(c.run(1, "GET bar"), "\"v\"");
    assert_eq!(c.run(1, "CLUSTER GETKEYSINSLOT 5061 10"), "1) \"bar\"");
    let nodes = c.run(0, "CLUSTER NODES");
    assert!(!nodes.contains("->-") && nodes.contains(" 5061"), "{nodes}");
}

#[test]
fn replica_reads_with_readonly() {
    let mut c = Nodes::new(2);
    let (a, _) = (c.id(0), c.id(1));
    assert_eq!(c.run(0, "CLUSTER ADDSLOTSRANGE 0 16383"), "OK");
    for s in 0..16384 {
        assert_eq!(c.run(1, &format!("CLUSTER SETSLOT {s} NODE {a}")), "OK");
    }
    assert_eq!(c.run(1, &format!("CLUSTER REPLICATE {a}")), "OK");
    c.wait(6000);
    let nodes = c.run(1, "CLUSTER NODES");
    assert!(nodes.contains(&format!("myself,slave {a}")), "{nodes}");
    assert_eq!(c.run(1, "GET bar"), "(error) MOVED 5061 127.0.0.1:7001");
    assert_eq!(c.run(1, "READONLY"), "OK");
    let info = c.run(1, "CLIENT INFO");
    assert!(info.contains(" flags=r "), "{info}");
    assert_eq!(c.run(1, "GET bar"), "(nil)");
    assert_eq!(c.run(1, "SET bar 1"), "(error) MOVED 5061 127.0.0.1:7001");
    assert_eq!(c.run(1, "READWRITE"), "OK");
    assert_eq!(c.run(1, "GET bar"), "(error) MOVED 5061 127.0.0.1:7001");
    assert_eq!(
        c.run(1, "CLUSTER SETSLOT 1 STABLE"),
        "(error) ERR Please use SETSLOT only with masters."
    );
    assert_eq!(
        c.run(1, &format!("CLUSTER FORGET {a}")),
        "(error) ERR Can't forget my master!"
    );
    let replicas = c.run(0, &format!("CLUSTER REPLICAS {a}"));
    assert_eq!(
        replicas, "(empty array)",
        "node 0 has not heard of it: no bus"
    );
    // A takeover needs no agreement: the replica takes the primary's slots.
    assert_eq!(c.run(1, "CLUSTER FAILOVER TAKEOVER"), "OK");
    let nodes = c.run(1, "CLUSTER NODES");
    assert!(
        nodes.contains("myself,master - 0 0 1 connected 0-16383"),
        "{nodes}"
    );
}

#[test]
fn down_states() {
    let mut c = two_primaries();
    assert_eq!(c.run(0, "CLUSTER DELSLOTS 0"), "OK");
    assert_eq!(
        c.run(0, "GET bar"),
        "(error) CLUSTERDOWN The cluster is down"
    );
    assert_eq!(
        c.run(0, "CONFIG SET cluster-allow-reads-when-down yes"),
        "OK"
    );
    assert_eq!(c.run(0, "GET bar"), "(nil)");
    assert_eq!(
        c.run(0, "SET bar 1"),
        "(error) CLUSTERDOWN The cluster is down and only accepts read commands"
    );
    assert_eq!(
        c.run(0, "CONFIG SET cluster-require-full-coverage no"),
        "OK"
    );
    c.wait(100);
    assert_eq!(c.run(0, "SET bar 1"), "OK");
    // k2136 is in slot 100, which node 0 still has; an unbound slot is not served.
    assert_eq!(c.run(0, "CLUSTER KEYSLOT k13474"), "(integer) 16000");
    assert_eq!(c.run(1, "CLUSTER DELSLOTS 16000"), "OK");
    assert_eq!(
        c.run(1, "GET k13474"),
        "(error) CLUSTERDOWN Hash slot not served"
    );
}

#[test]
fn nodes_conf_round_trips_through_the_host() {
    use std::cell::RefCell;
    use std::rc::Rc;
    let stored = Rc::new(RefCell::new(String::new()));
    let file = |s: &Rc<RefCell<String>>| {
        let (r, w) = (s.clone(), s.clone());
        redis_playground::engine::ConfigFile {
            read: Box::new(move || Ok(r.borrow().clone())),
            write: Box::new(move |t: &str| {
                *w.borrow_mut() = t.to_string();
                Ok(())
            }),
        }
    };
    let mut e = Engine::new(EngineOptions {
        port: 7005,
        ..EngineOptions::default()
    });
    e.config.set_at_startup("cluster-enabled", "yes");
    e.enable_cluster(Some(file(&stored)), T0).unwrap();
    let id = e.cluster.as_ref().unwrap().state.myself.clone();
    // A new node writes its file before it knows its ports, as Redis does.
    assert_eq!(
        *stored.borrow(),
        format!("{id} :0@0 myself,master - 0 0 0 connected\nvars currentEpoch 0 lastVoteEpoch 0\n")
    );
    let c = e.open_client(T0);
    e.execute(c, &words("CLUSTER ADDSLOTSRANGE 0 99 200 300"), T0);
    e.execute(c, &words("CLUSTER SET-CONFIG-EPOCH 7"), T0);
    let saved = stored.borrow().clone();
    assert_eq!(
        saved,
        format!(
            "{id} :7005@17005 myself,master - 0 0 7 connected 0-99 200-300\nvars currentEpoch 7 lastVoteEpoch 0\n"
        )
    );
    // A restart reads it back: same ID, slots and epochs.
    let mut again = Engine::new(EngineOptions {
        port: 7005,
        ..EngineOptions::default()
    });
    again.config.set_at_startup("cluster-enabled", "yes");
    again.enable_cluster(Some(file(&stored)), T0).unwrap();
    assert_eq!(again.cluster.as_ref().unwrap().state.config_text(), saved);
    // A corrupt file stops the start.
    *stored.borrow_mut() = "garbage\n".into();
    let mut bad = Engine::new(EngineOptions::default());
    let err = bad.enable_cluster(Some(file(&stored)), T0).unwrap_err();
    assert!(err.contains("corrupted cluster config file"), "{err}");
}

#[test]
fn blocked_clients_follow_their_slot() {
    let mut c = two_primaries();
    let b = c.id(1);
    let waiter = c.engines[0].open_client(c.now);
    let now = c.now;
    // bar is node 0's slot 5061: BLPOP waits there.
    let r = c.engines[0].execute(waiter, &words("BLPOP bar 0"), now);
    assert!(r.is_none(), "blocked");
    c.wait(200);
    assert!(c.engines[0].is_blocked(waiter));
    // The slot goes to node 1: the waiter is sent there.
    assert_eq!(c.run(0, &format!("CLUSTER SETSLOT 5061 NODE {b}")), "OK");
    c.wait(200);
    assert!(!c.engines[0].is_blocked(waiter));
    let out = std::mem::take(&mut c.engines[0].client_mut(waiter).unwrap().outbox);
    let shown: Vec<String> = out.iter().map(render).collect();
    assert_eq!(
        shown,
        vec!["(error) MOVED 5061 127.0.0.1:7002\n".to_string()]
    );
    // A cluster that goes down ends the waits too.
    let now = c.now;
    let r = c.engines[1].execute(c.clients[1], &words("BLPOP foo 0"), now);
    assert!(r.is_none());
    assert_eq!(c.run(0, "PING"), "PONG");
    let other = c.engines[1].open_client(now);
    c.engines[1].execute(other, &words("CLUSTER DELSLOTS 0"), now);
    c.wait(200);
    let out = std::mem::take(&mut c.engines[1].client_mut(c.clients[1]).unwrap().outbox);
    let shown: Vec<String> = out.iter().map(render).collect();
    assert_eq!(
        shown,
        vec!["(error) CLUSTERDOWN The cluster is down\n".to_string()]
    );
}

#[test]
fn scripts_declaring_no_cluster_are_refused() {
    let mut c = Nodes::new(1);
    let body = "#!lua name=lib\nredis.register_function{function_name='f1', \
                callback=function() return 'hello' end, flags={'no-cluster'}}";
    let load: Vec<Vec<u8>> = vec![b"FUNCTION".to_vec(), b"LOAD".to_vec(), body.into()];
    assert_eq!(c.run_argv(0, &load), "\"lib\"");
    let refused = "(error) ERR Can not run script on cluster, 'no-cluster' flag is set.";
    assert_eq!(c.run(0, "FCALL f1 0"), refused);
    let eval: Vec<Vec<u8>> = vec![
        b"EVAL".to_vec(),
        b"#!lua flags=no-cluster\nreturn 1".to_vec(),
        b"0".to_vec(),
    ];
    assert_eq!(c.run_argv(0, &eval), refused);
    let compat: Vec<Vec<u8>> = vec![b"EVAL".to_vec(), b"return 1".to_vec(), b"0".to_vec()];
    assert_eq!(c.run_argv(0, &compat), "(integer) 1");
}
