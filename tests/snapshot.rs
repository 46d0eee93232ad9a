//! Snapshots are Redis RDB files: real redis-server loads ours, and we load its own dumps.

mod common;

use common::{argv, now_ms, redis_server_path, scratch_dir, Conn, RedisServer};
use redis_playground::types::Value;
use redis_playground::{rdb, Engine, EngineOptions};

#[test]
fn redis_server_loads_our_snapshot() {
    let Some(_) = redis_server_path() else {
        println!("redis-server not installed: skipped");
        return;
    };
    let now = now_ms();
    let mut eng = Engine::new(EngineOptions {
        now_ms: now,
        ..EngineOptions::default()
    });
    let big = "x".repeat(70_000);
    let db0 = &mut eng.dbs[0];
    db0.set(b"greeting", Value::string(b"hello".to_vec()), now);
    db0.set(b"n", Value::string(b"12345".to_vec()), now);
    db0.set(b"big", Value::string(big.into_bytes()), now);
    db0.set(b"ttl", Value::string(b"v".to_vec()), now);
    db0.set_expire(b"ttl", Some(now + 1_000_000), now);
    eng.dbs[5].set(b"in5", Value::string(b"five".to_vec()), now);
    let _server = RedisServer::start_loading("snapshot-ours", &rdb::save(&eng.dbs, now), &[])
        .expect("redis-server loads the snapshot");
    let mut conn = Conn::connect(_server.port).expect("connect");
    let ask = |conn: &mut Conn, w: &[&str]| {
        String::from_utf8_lossy(&conn.call(&argv(w)).expect("reply")).into_owned()
    };
    assert_eq!(ask(&mut conn, &["GET", "greeting"]), "$5\r\nhello\r\n");
    assert_eq!(ask(&mut conn, &["GET", "n"]), "$5\r\n12345\r\n");
    assert_eq!(ask(&mut conn, &["STRLEN", "big"]), ":70000\r\n");
    assert_eq!(ask(&mut conn, &["TTL", "ttl"]), ":1000\r\n");
    assert_eq!(ask(&mut conn, &["SELECT", "5"]), "+OK\r\n");
    assert_eq!(ask(&mut conn, &["GET", "in5"]), "$4\r\nfive\r\n");
}

#[test]
fn we_load_redis_servers_dump() {
    let dir = scratch_dir("snapshot-theirs");
    let dir_s = dir.to_str().expect("utf-8 path");
    let Some(server) = RedisServer::start_with(&["--dir", dir_s]) else {
        println!("redis-server not installed: skipped");
        return;
    };
    let mut conn = Conn::connect(server.port).expect("connect");
    let long = "abc".repeat(1000); // compressed with LZF in the dump
    for cmd in [
        vec!["FLUSHALL"],
        vec!["SET", "small", "7"],
        vec!["SET", "neg", "-30000"],
        vec!["SET", "i32", "1000000000"],
        vec!["SET", "long", long.as_str()],
        vec!["SET", "ex", "v", "EX", "500"],
        vec!["SELECT", "2"],
        vec!["SET", "db2", "two"],
        vec!["SAVE"],
    ] {
        conn.call(&argv(&cmd)).expect("reply");
    }
    let bytes = std::fs::read(dir.join("dump.rdb")).expect("redis wrote dump.rdb");
    let now = now_ms();
    let dbs = rdb::load(&bytes, 16, now).expect("our loader reads redis's dump");
    let get = |db: usize, k: &str| {
        dbs[db]
            .peek(k.as_bytes())
            .and_then(|e| e.value.as_str().map(<[u8]>::to_vec))
    };
    assert_eq!(get(0, "small").as_deref(), Some(&b"7"[..]));
    assert_eq!(get(0, "neg").as_deref(), Some(&b"-30000"[..]));
    assert_eq!(get(0, "i32").as_deref(), Some(&b"1000000000"[..]));
    assert_eq!(get(0, "long").as_deref(), Some(long.as_bytes()));
    assert_eq!(get(2, "db2").as_deref(), Some(&b"two"[..]));
    let ttl = dbs[0].expire_at(b"ex").expect("expiry kept") - now;
    assert!((490_000..=500_000).contains(&ttl), "ttl {}", ttl);
}

/// Function libraries travel in snapshots as Redis 7.0 writes them (one record each, before
/// the databases): Redis loads ours, we load Redis's, and a library that does not load makes
/// the whole snapshot refused with the data kept.
#[test]
fn function_libraries_travel_in_snapshots() {
    let dir = scratch_dir("snapshot-functions");
    let dir_s = dir.to_str().expect("utf-8 path");
    let Some(server) = RedisServer::start_with(&["--dir", dir_s]) else {
        println!("redis-server not installed: skipped");
        return;
    };
    let now = now_ms();
    let mut eng = Engine::new(EngineOptions {
        now_ms: now,
        ..EngineOptions::default()
    });
    let client = eng.open_client(now);
    let lib = "#!lua name=greet\nredis.register_function('hello', function(keys, args) return 'hi ' .. args[1] end)";
    let run = |eng: &mut Engine, w: &[&str]| eng.execute(client, &argv(w), now);
    assert_eq!(
        run(&mut eng, &["FUNCTION", "LOAD", lib]),
        Some(redis_playground::protocol::Reply::Bulk(b"greet".to_vec()))
    );
    run(&mut eng, &["SET", "k", "v"]);
    let ours = eng.snapshot(now);

    // Redis loads our snapshot, functions included.
    let loaded = RedisServer::start_loading("snapshot-functions-ours", &ours, &[])
        .expect("redis-server loads the snapshot");
    let mut conn = Conn::connect(loaded.port).expect("connect");
    let reply = conn
        .call(&argv(&["FCALL", "hello", "0", "you"]))
        .expect("reply");
    assert_eq!(String::from_utf8_lossy(&reply), "$6\r\nhi you\r\n");

    // We load Redis's own dump with two libraries.
    let mut conn = Conn::connect(server.port).expect("connect");
    for w in [
        vec!["FUNCTION", "LOAD", lib],
        vec![
            "FUNCTION",
            "LOAD",
            "#!lua name=other\nredis.register_function('twice', function(keys, args) return args[1] * 2 end)",
        ],
        vec!["SET", "theirs", "1"],
        vec!["SAVE"],
    ] {
        conn.call(&argv(&w)).expect("reply");
    }
    let theirs = std::fs::read(dir.join("dump.rdb")).expect("redis wrote dump.rdb");
    let mut fresh = Engine::new(EngineOptions {
        now_ms: now,
        ..EngineOptions::default()
    });
    let c = fresh.open_client(now);
    assert_eq!(fresh.load_snapshot(&theirs, now), Ok(1));
    let reply = fresh.execute(c, &argv(&["FCALL", "twice", "0", "21"]), now);
    assert_eq!(reply, Some(redis_playground::protocol::Reply::Integer(42)));
    let reply = fresh.execute(c, &argv(&["FCALL", "hello", "0", "me"]), now);
    assert_eq!(
        reply,
        Some(redis_playground::protocol::Reply::Bulk(b"hi me".to_vec()))
    );

    // A snapshot whose library does not compile is refused; the data and libraries stay.
    let broken = rdb::save_with_functions(&[], &[b"#!lua name=bad\nreturn +"], now);
    let err = fresh.load_snapshot(&broken, now).expect_err("refused");
    assert!(err.contains("Error compiling function"), "{err}");
    let reply = fresh.execute(c, &argv(&["FCALL", "twice", "0", "2"]), now);
    assert_eq!(reply, Some(redis_playground::protocol::Reply::Integer(4)));
    let reply = fresh.execute(c, &argv(&["GET", "theirs"]), now);
    assert_eq!(
        reply,
        Some(redis_playground::protocol::Reply::Bulk(b"1".to_vec()))
    );
}
