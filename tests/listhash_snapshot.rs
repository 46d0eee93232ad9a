//! Lists and hashes in RDB snapshots: we load redis-server's own encodings (quicklist nodes,
//! LZF-compressed nodes, listpack and hashtable hashes), and redis-server loads ours.

mod common;

use common::{argv, now_ms, redis_server_path, scratch_dir, Conn, RedisServer};
use redis_playground::types::list::End;
use redis_playground::types::{Hash, List, Value};
use redis_playground::{rdb, Engine, EngineOptions};

#[test]
fn we_load_redis_lists_and_hashes() {
    let dir = scratch_dir("listhash-theirs");
    let dir_s = dir.to_str().expect("utf-8 path");
    let Some(server) = RedisServer::start_with(&["--dir", dir_s]) else {
        println!("redis-server not installed: skipped");
        return;
    };
    let mut conn = Conn::connect(server.port).expect("connect");
    let mut call = |w: Vec<String>| {
        let w: Vec<&str> = w.iter().map(String::as_str).collect();
        conn.call(&argv(&w)).expect("reply");
    };
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    call(s(&["FLUSHALL"]));
    call(s(&[
        "RPUSH",
        "small",
        "a",
        "7",
        "-300",
        "70000",
        "-9223372036854775808",
        "",
    ]));
    // Many nodes; then a compressed copy.
    let mut big = s(&["RPUSH", "big"]);
    big.extend((0..5000).map(|i| format!("element-{}", i)));
    call(big);
    call(s(&["CONFIG", "SET", "list-compress-depth", "1"]));
    let mut zipped = s(&["RPUSH", "zipped"]);
    zipped.extend((0..3000).map(|_| "abcabcabcabcabcabcabcabc".to_string()));
    call(zipped);
    call(s(&["CONFIG", "SET", "list-compress-depth", "0"]));
    call(s(&[
        "HSET", "lp", "f", "v", "n", "12", "neg", "-5000", "", "empty",
    ]));
    let mut ht = s(&["HSET", "ht"]);
    ht.extend((0..600).flat_map(|i| [format!("f{}", i), i.to_string()]));
    call(ht);
    call(s(&["HSET", "long", "k", &"x".repeat(100)]));
    call(s(&["SAVE"]));

    let bytes = std::fs::read(dir.join("dump.rdb")).expect("redis wrote dump.rdb");
    let dbs = rdb::load(&bytes, 16, now_ms()).expect("our loader reads redis's dump");
    let list = |k: &str| match dbs[0].peek(k.as_bytes()).map(|e| &e.value) {
        Some(Value::List(l)) => l
            .iter()
            .map(|e| String::from_utf8_lossy(e).into_owned())
            .collect::<Vec<_>>(),
        other => panic!("{}: {:?}", k, other.map(Value::type_name)),
    };
    assert_eq!(
        list("small"),
        ["a", "7", "-300", "70000", "-9223372036854775808", ""]
    );
    let big = list("big");
    assert_eq!(big.len(), 5000);
    assert_eq!(big[4999], "element-4999");
    let zipped = list("zipped");
    assert_eq!(zipped.len(), 3000);
    assert!(zipped.iter().all(|e| e == "abcabcabcabcabcabcabcabc"));
    let hash = |k: &str| match dbs[0].peek(k.as_bytes()).map(|e| &e.value) {
        Some(Value::Hash(h)) => h.clone(),
        other => panic!("{}: {:?}", k, other.map(Value::type_name)),
    };
    let lp = hash("lp");
    assert_eq!(lp.encoding_name(), "listpack");
    let pairs: Vec<(Vec<u8>, Vec<u8>)> = lp.iter().map(|(f, v)| (f.to_vec(), v.to_vec())).collect();
    let want: Vec<(Vec<u8>, Vec<u8>)> = [("f", "v"), ("n", "12"), ("neg", "-5000"), ("", "empty")]
        .iter()
        .map(|(f, v)| (f.as_bytes().to_vec(), v.as_bytes().to_vec()))
        .collect();
    assert_eq!(pairs, want);
    let ht = hash("ht");
    assert_eq!(ht.encoding_name(), "hashtable");
    assert_eq!(ht.len(), 600);
    assert_eq!(ht.get(b"f599"), Some(&b"599"[..]));
    assert_eq!(hash("long").encoding_name(), "hashtable");
}

#[test]
fn redis_server_loads_our_lists_and_hashes() {
    let Some(_) = redis_server_path() else {
        println!("redis-server not installed: skipped");
        return;
    };
    let now = now_ms();
    let mut eng = Engine::new(EngineOptions {
        now_ms: now,
        ..EngineOptions::default()
    });
    let mut list = List::new();
    for e in ["x", "1", "", "\u{0}bin"] {
        list.push(End::Tail, e.as_bytes().to_vec());
    }
    let mut small = Hash::new();
    small.set(b"a", b"1".to_vec(), 512, 64);
    small.set(b"b", b"two".to_vec(), 512, 64);
    let mut large = Hash::new();
    for i in 0..700 {
        large.set(
            format!("f{}", i).as_bytes(),
            i.to_string().into_bytes(),
            512,
            64,
        );
    }
    eng.dbs[0].set(b"list", Value::List(Box::new(list)), now);
    eng.dbs[0].set(b"small", Value::Hash(Box::new(small)), now);
    eng.dbs[0].set(b"large", Value::Hash(Box::new(large)), now);
    let _server = RedisServer::start_loading("listhash-ours", &rdb::save(&eng.dbs, now), &[])
        .expect("redis-server loads the snapshot");
    let mut conn = Conn::connect(_server.port).expect("connect");
    let mut ask =
        |w: &[&str]| String::from_utf8_lossy(&conn.call(&argv(w)).expect("reply")).into_owned();
    assert_eq!(
        ask(&["LRANGE", "list", "0", "-1"]),
        "*4\r\n$1\r\nx\r\n$1\r\n1\r\n$0\r\n\r\n$4\r\n\u{0}bin\r\n"
    );
    assert_eq!(ask(&["OBJECT", "ENCODING", "list"]), "$9\r\nquicklist\r\n");
    assert_eq!(
        ask(&["HGETALL", "small"]),
        "*4\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$3\r\ntwo\r\n"
    );
    assert_eq!(ask(&["OBJECT", "ENCODING", "small"]), "$8\r\nlistpack\r\n");
    assert_eq!(ask(&["HLEN", "large"]), ":700\r\n");
    assert_eq!(ask(&["HGET", "large", "f699"]), "$3\r\n699\r\n");
    assert_eq!(ask(&["OBJECT", "ENCODING", "large"]), "$9\r\nhashtable\r\n");
}
