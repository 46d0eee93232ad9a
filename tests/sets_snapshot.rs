//! Sets in snapshots: real redis-server loads the sets we save (intsets as their memory image,
//! hashtables member by member), and we load the sets it saves, with the encodings it gives
//! them on load.

mod common;

use common::{argv, now_ms, redis_server_path, scratch_dir, Conn, RedisServer};
use redis_playground::{rdb, Engine, EngineOptions, Reply};

/// Commands that build one set of each shape, run the same way on both sides.
fn setup() -> Vec<Vec<&'static str>> {
    vec![
        vec!["SADD", "small", "3", "1", "2"],
        vec![
            "SADD",
            "wide",
            "5",
            "-9223372036854775808",
            "9223372036854775807",
            "70000",
        ],
        vec!["SADD", "widened", "1", "2", "100000"],
        vec!["SREM", "widened", "100000"],
        vec!["SADD", "words", "apple", "banana", "cherry"],
        vec!["SADD", "intsonly", "1", "2", "x"],
        vec!["SREM", "intsonly", "x"],
        vec!["SADD", "bin", "a\u{0}b", "", "12345678901234567890"],
    ]
}

#[test]
fn redis_server_loads_our_sets() {
    let Some(_) = redis_server_path() else {
        println!("redis-server not installed: skipped");
        return;
    };
    let now = now_ms();
    let mut eng = Engine::new(EngineOptions {
        now_ms: now,
        ..EngineOptions::default()
    });
    let c = eng.open_client(now);
    for cmd in setup() {
        eng.execute(c, &argv(&cmd), now);
    }
    let many: Vec<String> = (0..600).map(|i| i.to_string()).collect();
    let mut big = vec!["SADD".to_string(), "big".to_string()];
    big.extend(many);
    eng.execute(
        c,
        &big.iter()
            .map(|w| w.as_bytes().to_vec())
            .collect::<Vec<_>>(),
        now,
    );
    let _server = RedisServer::start_loading("sets-ours", &rdb::save(&eng.dbs, now), &[])
        .expect("redis-server loads the snapshot");
    let mut conn = Conn::connect(_server.port).expect("connect");
    let mut ask =
        |w: &[&str]| String::from_utf8_lossy(&conn.call(&argv(w)).expect("reply")).into_owned();
    assert_eq!(
        ask(&["SMEMBERS", "small"]),
        "*3\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n"
    );
    assert_eq!(ask(&["OBJECT", "ENCODING", "small"]), "$6\r\nintset\r\n");
    assert_eq!(
        ask(&["SMEMBERS", "wide"]),
        "*4\r\n$20\r\n-9223372036854775808\r\n$1\r\n5\r\n$5\r\n70000\r\n$19\r\n9223372036854775807\r\n"
    );
    assert_eq!(
        ask(&["SMEMBERS", "widened"]),
        "*2\r\n$1\r\n1\r\n$1\r\n2\r\n"
    );
    assert_eq!(ask(&["OBJECT", "ENCODING", "words"]), "$9\r\nhashtable\r\n");
    assert_eq!(
        ask(&["SMISMEMBER", "words", "apple", "cherry", "x"]),
        "*3\r\n:1\r\n:1\r\n:0\r\n"
    );
    // Redis rebuilds a hashtable of few integers as an intset when it loads it.
    assert_eq!(ask(&["OBJECT", "ENCODING", "intsonly"]), "$6\r\nintset\r\n");
    assert_eq!(ask(&["SCARD", "bin"]), ":3\r\n");
    assert_eq!(ask(&["SISMEMBER", "bin", "a\u{0}b"]), ":1\r\n");
    assert_eq!(ask(&["SCARD", "big"]), ":600\r\n");
    assert_eq!(ask(&["OBJECT", "ENCODING", "big"]), "$9\r\nhashtable\r\n");
}

#[test]
fn we_load_redis_servers_sets() {
    let dir = scratch_dir("sets-theirs");
    let dir_s = dir.to_str().expect("utf-8 path");
    let Some(server) = RedisServer::start_with(&["--dir", dir_s]) else {
        println!("redis-server not installed: skipped");
        return;
    };
    let mut conn = Conn::connect(server.port).expect("connect");
    conn.call(&argv(&["FLUSHALL"])).expect("reply");
    for cmd in setup() {
        conn.call(&argv(&cmd)).expect("reply");
    }
    let mut big = vec!["SADD".to_string(), "big".to_string()];
    big.extend((0..600).map(|i| i.to_string()));
    conn.call(
        &big.iter()
            .map(|w| w.as_bytes().to_vec())
            .collect::<Vec<_>>(),
    )
    .expect("reply");
    conn.call(&argv(&["SAVE"])).expect("reply");
    let bytes = std::fs::read(dir.join("dump.rdb")).expect("redis wrote dump.rdb");
    let now = now_ms();
    let dbs = rdb::load(&bytes, 16, now).expect("our loader reads redis's dump");
    let mut eng = Engine::new(EngineOptions {
        now_ms: now,
        ..EngineOptions::default()
    });
    eng.dbs = dbs;
    let c = eng.open_client(now);
    let mut run = |w: &[&str]| eng.execute(c, &argv(w), now).expect("reply");
    let bulks = |items: &[&str]| Reply::Set(items.iter().map(Reply::bulk).collect());
    assert_eq!(run(&["SMEMBERS", "small"]), bulks(&["1", "2", "3"]));
    assert_eq!(
        run(&["SMEMBERS", "wide"]),
        bulks(&["-9223372036854775808", "5", "70000", "9223372036854775807"])
    );
    assert_eq!(run(&["SMEMBERS", "widened"]), bulks(&["1", "2"]));
    assert_eq!(run(&["SCARD", "words"]), Reply::Integer(3));
    assert_eq!(run(&["SISMEMBER", "bin", "a\u{0}b"]), Reply::Integer(1));
    assert_eq!(run(&["SCARD", "big"]), Reply::Integer(600));
    let encoding = |k: &str| {
        eng.dbs[0]
            .peek(k.as_bytes())
            .map(|e| e.value.encoding_name())
    };
    assert_eq!(encoding("small"), Some("intset"));
    assert_eq!(encoding("wide"), Some("intset"));
    assert_eq!(encoding("words"), Some("hashtable"));
    assert_eq!(encoding("intsonly"), Some("intset"));
    assert_eq!(encoding("big"), Some("hashtable"));
    // The widened intset keeps its 4-byte layout through the snapshot, as Redis's does.
    let width = eng.dbs[0].peek(b"widened").and_then(|e| match &e.value {
        redis_playground::types::Value::Set(s) => Some(s.int_width()),
        _ => None,
    });
    assert_eq!(width, Some(4));
}
