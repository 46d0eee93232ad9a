//! The native server as a cluster node (`--cluster-enabled yes`): its nodes.conf written at
//! start, kept on every change and read back by a restart; a node alone with every slot
//! serves `redis-cli -c` and passes `redis-cli --cluster check`.

mod common;

use std::process::Command;
use std::time::{Duration, Instant};

use common::{argv, scratch_dir, Conn, OurServer};

fn call(c: &mut Conn, words: &[&str]) -> String {
    let r = c.call(&argv(words)).expect("reply");
    String::from_utf8_lossy(&r).into_owned()
}

fn node(dir: &std::path::Path) -> OurServer {
    OurServer::start(&[
        "--save",
        "",
        "--appendonly",
        "no",
        "--cluster-enabled",
        "yes",
        "--cluster-config-file",
        "nodes-test.conf",
        "--cluster-node-timeout",
        "1000",
        "--dir",
        dir.to_str().expect("utf-8 dir"),
    ])
}

fn wait_ok(c: &mut Conn) {
    let deadline = Instant::now() + Duration::from_secs(15);
    while Instant::now() < deadline {
        if call(c, &["CLUSTER", "INFO"]).contains("cluster_state:ok") {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("the cluster never turned ok");
}

fn redis_cli(args: &[&str]) -> Option<(bool, String)> {
    let out = Command::new("redis-cli").args(args).output().ok()?;
    Some((
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    ))
}

#[test]
fn one_node_with_every_slot() {
    let dir = scratch_dir("cluster-node");
    let server = node(&dir);
    let port = server.port.to_string();
    let mut c = Conn::connect(server.port).expect("connect");
    let id = call(&mut c, &["CLUSTER", "MYID"]);
    let id = id.lines().nth(1).expect("an ID").to_string();
    assert_eq!(id.len(), 40);
    let conf = dir.join("nodes-test.conf");
    let text = std::fs::read_to_string(&conf).expect("nodes.conf written at start");
    assert!(text.starts_with(&format!("{id} :0@0 myself,master - 0 0 0 connected\n")));
    assert!(call(&mut c, &["INFO", "cluster"]).contains("cluster_enabled:1"));
    assert!(call(&mut c, &["SET", "foo", "1"]).starts_with("-CLUSTERDOWN Hash slot not served"));
    assert_eq!(
        call(&mut c, &["CLUSTER", "ADDSLOTSRANGE", "0", "16383"]),
        "+OK\r\n"
    );
    let text = std::fs::read_to_string(&conf).expect("nodes.conf");
    assert!(
        text.contains(&format!(":{port}@")) && text.contains("connected 0-16383\n"),
        "{text}"
    );
    wait_ok(&mut c);
    if let Some((ok, out)) = redis_cli(&["-c", "-p", &port, "SET", "{user}name", "ada"]) {
        assert!(ok && out.trim() == "OK", "{out}");
        let (_, out) = redis_cli(&["-c", "-p", &port, "GET", "{user}name"]).unwrap();
        assert_eq!(out.trim(), "ada");
        let addr = format!("127.0.0.1:{port}");
        let (ok, out) = redis_cli(&["--cluster", "check", &addr]).unwrap();
        assert!(ok, "{out}");
        assert!(
            out.contains("[OK] All nodes agree about slots configuration."),
            "{out}"
        );
        assert!(out.contains("[OK] All 16384 slots covered."), "{out}");
        assert!(out.contains("1 keys | 16384 slots | 0 slaves"), "{out}");
    }
    assert_eq!(
        call(&mut c, &["CLUSTER", "SET-CONFIG-EPOCH", "3"]),
        "+OK\r\n"
    );
    drop(c);
    drop(server);
    // A restart is the same node: its ID, slots and epoch come back from nodes.conf.
    let server = node(&dir);
    let mut c = Conn::connect(server.port).expect("connect");
    let again = call(&mut c, &["CLUSTER", "MYID"]);
    assert!(again.contains(&id), "{again}");
    let nodes = call(&mut c, &["CLUSTER", "NODES"]);
    assert!(
        nodes.contains(&format!("{id} :{}@", server.port))
            && nodes.contains("myself,master - 0 0 3 connected 0-16383"),
        "{nodes}"
    );
    wait_ok(&mut c);
}

#[test]
fn a_corrupt_nodes_conf_stops_the_start() {
    let dir = scratch_dir("cluster-corrupt");
    std::fs::write(dir.join("nodes-test.conf"), "not a node line\n").unwrap();
    let out = common::our_server_command(common::free_port())
        .args(["--save", "", "--cluster-enabled", "yes"])
        .args(["--cluster-config-file", "nodes-test.conf"])
        .arg("--dir")
        .arg(&dir)
        .output()
        .expect("run the server");
    assert!(!out.status.success());
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(all.contains("corrupted cluster config file"), "{all}");
}

#[test]
fn keys_loaded_claim_their_slots() {
    let dir = scratch_dir("cluster-claim");
    let server = node(&dir);
    let mut c = Conn::connect(server.port).expect("connect");
    assert_eq!(
        call(&mut c, &["CLUSTER", "ADDSLOTSRANGE", "0", "16383"]),
        "+OK\r\n"
    );
    wait_ok(&mut c);
    assert_eq!(call(&mut c, &["SET", "foo", "1"]), "+OK\r\n");
    assert_eq!(call(&mut c, &["SAVE"]), "+OK\r\n");
    assert_eq!(call(&mut c, &["CLUSTER", "DELSLOTS", "12182"]), "+OK\r\n");
    drop(c);
    drop(server);
    // The snapshot holds a key of slot 12182, which nodes.conf gives nobody: the node
    // takes the slot back at start.
    let server = node(&dir);
    let mut c = Conn::connect(server.port).expect("connect");
    let nodes = call(&mut c, &["CLUSTER", "NODES"]);
    assert!(nodes.contains("connected 0-16383"), "{nodes}");
    assert!(call(&mut c, &["CLUSTER", "COUNTKEYSINSLOT", "12182"]).contains(":1"));
}
