//! Streams in snapshots: real redis-server loads the streams we save (Redis 7.0's listpack
//! node format), and we load the streams it saves (same-fields entries, deleted entries).

mod common;

use std::process::{Command, Stdio};

use common::{argv, connect_when_ready, free_port, now_ms, redis_server_path, scratch_dir, Conn, KillOnDrop, RedisServer};
use redis_playground::{rdb, Engine, EngineOptions};

/// Commands that build streams of several shapes, run the same way on both sides.
fn setup() -> Vec<Vec<String>> {
    let w = |s: &[&str]| s.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    let mut cmds = vec![
        w(&["XADD", "small", "1-1", "f", "v"]),
        w(&["XADD", "small", "1-2", "f", "w", "g", "12345"]),
        w(&["XADD", "small", "5-0", "", "-70000", "a\u{0}b", "9223372036854775807"]),
        w(&["XADD", "gaps", "18446744073709551615-0", "k", "v"]),
        w(&["XADD", "gaps", "18446744073709551615-18446744073709551614", "k", "v2"]),
        w(&["XADD", "deleted", "1-0", "a", "1"]),
        w(&["XADD", "deleted", "2-0", "a", "2"]),
        w(&["XADD", "deleted", "3-0", "a", "3"]),
        w(&["XDEL", "deleted", "1-0", "3-0"]),
        w(&["XADD", "empty", "MAXLEN", "0", "7-7", "f", "v"]),
    ];
    for i in 1..=250 {
        let v = "x".repeat(i % 70);
        cmds.push(vec!["XADD".into(), "big".into(), format!("{}-{}", i * 1000, i), "field".into(), v]);
    }
    cmds.push(w(&["XDEL", "big", "5000-5", "250000-250"]));
    cmds
}

/// Replies compared on both sides.
fn checks() -> Vec<Vec<&'static str>> {
    vec![
        vec!["XRANGE", "small", "-", "+"],
        vec!["XRANGE", "gaps", "-", "+"],
        vec!["XRANGE", "deleted", "-", "+"],
        vec!["XLEN", "empty"],
        vec!["TYPE", "empty"],
        vec!["XRANGE", "big", "-", "+"],
        vec!["XLEN", "big"],
        // The last ID survives deletion: these IDs are refused on both sides.
        vec!["XADD", "deleted", "3-0", "f", "v"],
        vec!["XADD", "empty", "7-7", "f", "v"],
        vec!["XADD", "big", "250000-250", "f", "v"],
    ]
}

fn engine_replies(eng: &mut Engine, now: i64) -> Vec<Vec<u8>> {
    let c = eng.open_client(now);
    checks().iter().map(|w| eng.execute(c, &argv(w), now).expect("reply").to_resp(2)).collect()
}

fn redis_replies(conn: &mut Conn) -> Vec<Vec<u8>> {
    checks().iter().map(|w| conn.call(&argv(w)).expect("reply")).collect()
}

fn run_setup(mut exec: impl FnMut(Vec<Vec<u8>>)) {
    for cmd in setup() {
        exec(cmd.into_iter().map(String::into_bytes).collect());
    }
}

#[test]
fn redis_server_loads_our_streams() {
    let Some(bin) = redis_server_path() else {
        println!("redis-server not installed: skipped");
        return;
    };
    let now = now_ms();
    let mut eng = Engine::new(EngineOptions { now_ms: now, ..EngineOptions::default() });
    let c = eng.open_client(now);
    run_setup(|a| {
        eng.execute(c, &a, now);
    });
    let dir = scratch_dir("streams-ours");
    std::fs::write(dir.join("dump.rdb"), rdb::save(&eng.dbs, now)).expect("write dump");
    let ours = engine_replies(&mut eng, now);
    let port = free_port();
    let _server = KillOnDrop(
        Command::new(bin)
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--appendonly", "no"])
            .args(["--dir", dir.to_str().expect("utf-8 path"), "--dbfilename", "dump.rdb"])
            .args(["--save", "", "--sanitize-dump-payload", "yes"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start redis-server"),
    );
    let mut conn = connect_when_ready(port);
    assert_eq!(conn.call(&argv(&["DBSIZE"])).expect("reply"), b":5\r\n");
    let theirs = redis_replies(&mut conn);
    for (i, (a, b)) in ours.iter().zip(&theirs).enumerate() {
        assert_eq!(String::from_utf8_lossy(a), String::from_utf8_lossy(b), "check {}", i);
    }
}

#[test]
fn we_load_redis_servers_streams() {
    let dir = scratch_dir("streams-theirs");
    let dir_s = dir.to_str().expect("utf-8 path");
    let Some(server) = RedisServer::start_with(&["--dir", dir_s]) else {
        println!("redis-server not installed: skipped");
        return;
    };
    let mut conn = Conn::connect(server.port).expect("connect");
    conn.call(&argv(&["FLUSHALL"])).expect("reply");
    run_setup(|a| {
        conn.call(&a).expect("reply");
    });
    let theirs = redis_replies(&mut conn);
    conn.call(&argv(&["SAVE"])).expect("reply");
    let bytes = std::fs::read(dir.join("dump.rdb")).expect("redis wrote dump.rdb");
    let now = now_ms();
    let mut eng = Engine::new(EngineOptions { now_ms: now, ..EngineOptions::default() });
    eng.dbs = rdb::load(&bytes, 16, now).expect("our loader reads redis's dump");
    let ours = engine_replies(&mut eng, now);
    for (i, (a, b)) in ours.iter().zip(&theirs).enumerate() {
        assert_eq!(String::from_utf8_lossy(a), String::from_utf8_lossy(b), "check {}", i);
    }
}
