//! Streams in snapshots: real redis-server loads the streams we save (Redis 7.0's listpack
//! node format), and we load the streams it saves (same-fields entries, deleted entries).

mod common;

use common::{argv, now_ms, redis_server_path, scratch_dir, Conn, RedisServer};
use redis_playground::{rdb, Engine, EngineOptions};

/// Commands that build streams of several shapes, run the same way on both sides.
fn setup() -> Vec<Vec<String>> {
    let w = |s: &[&str]| s.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    let mut cmds = vec![
        w(&["XADD", "small", "1-1", "f", "v"]),
        w(&["XADD", "small", "1-2", "f", "w", "g", "12345"]),
        w(&[
            "XADD",
            "small",
            "5-0",
            "",
            "-70000",
            "a\u{0}b",
            "9223372036854775807",
        ]),
        w(&["XADD", "gaps", "18446744073709551615-0", "k", "v"]),
        w(&[
            "XADD",
            "gaps",
            "18446744073709551615-18446744073709551614",
            "k",
            "v2",
        ]),
        w(&["XADD", "deleted", "1-0", "a", "1"]),
        w(&["XADD", "deleted", "2-0", "a", "2"]),
        w(&["XADD", "deleted", "3-0", "a", "3"]),
        w(&["XDEL", "deleted", "1-0", "3-0"]),
        w(&["XADD", "empty", "MAXLEN", "0", "7-7", "f", "v"]),
    ];
    for i in 1..=250 {
        let v = "x".repeat(i % 70);
        cmds.push(vec![
            "XADD".into(),
            "big".into(),
            format!("{}-{}", i * 1000, i),
            "field".into(),
            v,
        ]);
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
    checks()
        .iter()
        .map(|w| eng.execute(c, &argv(w), now).expect("reply").to_resp(2))
        .collect()
}

fn redis_replies(conn: &mut Conn) -> Vec<Vec<u8>> {
    checks()
        .iter()
        .map(|w| conn.call(&argv(w)).expect("reply"))
        .collect()
}

fn run_setup(mut exec: impl FnMut(Vec<Vec<u8>>)) {
    for cmd in setup() {
        exec(cmd.into_iter().map(String::into_bytes).collect());
    }
}

#[test]
fn redis_server_loads_our_streams() {
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
    run_setup(|a| {
        eng.execute(c, &a, now);
    });
    let ours = engine_replies(&mut eng, now);
    let _server = RedisServer::start_loading(
        "streams-ours",
        &rdb::save(&eng.dbs, now),
        &["--sanitize-dump-payload", "yes"],
    )
    .expect("redis-server loads the snapshot");
    let mut conn = Conn::connect(_server.port).expect("connect");
    assert_eq!(conn.call(&argv(&["DBSIZE"])).expect("reply"), b":5\r\n");
    let theirs = redis_replies(&mut conn);
    for (i, (a, b)) in ours.iter().zip(&theirs).enumerate() {
        assert_eq!(
            String::from_utf8_lossy(a),
            String::from_utf8_lossy(b),
            "check {}",
            i
        );
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
    let mut eng = Engine::new(EngineOptions {
        now_ms: now,
        ..EngineOptions::default()
    });
    eng.dbs = rdb::load(&bytes, 16, now).expect("our loader reads redis's dump");
    let ours = engine_replies(&mut eng, now);
    for (i, (a, b)) in ours.iter().zip(&theirs).enumerate() {
        assert_eq!(
            String::from_utf8_lossy(a),
            String::from_utf8_lossy(b),
            "check {}",
            i
        );
    }
}

/// Consumer groups of every shape redis-server can write: several groups and consumers,
/// acknowledged and pending entries, a consumer with an empty PEL, a group whose entries-read
/// counter is unknown (-1), binary names, and entries deleted while still pending.
fn group_setup() -> Vec<Vec<&'static str>> {
    vec![
        vec!["XADD", "gs", "1-1", "f", "v"],
        vec!["XADD", "gs", "2-1", "f", "v"],
        vec!["XADD", "gs", "3-1", "f", "v"],
        vec!["XADD", "gs", "4-1", "g", "w"],
        vec!["XGROUP", "CREATE", "gs", "g1", "0"],
        vec!["XGROUP", "CREATE", "gs", "g2", "$"],
        vec!["XGROUP", "CREATE", "gs", "a\u{0}\u{7f}", "2-1"],
        vec!["XGROUP", "SETID", "gs", "g2", "3-0", "ENTRIESREAD", "2"],
        vec![
            "XREADGROUP",
            "GROUP",
            "g1",
            "alice",
            "COUNT",
            "2",
            "STREAMS",
            "gs",
            ">",
        ],
        vec!["XREADGROUP", "GROUP", "g1", "bob", "STREAMS", "gs", ">"],
        vec!["XREADGROUP", "GROUP", "g1", "alice", "STREAMS", "gs", "0"],
        vec!["XACK", "gs", "g1", "2-1"],
        vec!["XGROUP", "CREATECONSUMER", "gs", "g1", "idle\u{0}one"],
        vec![
            "XREADGROUP",
            "GROUP",
            "a\u{0}\u{7f}",
            "c",
            "NOACK",
            "STREAMS",
            "gs",
            ">",
        ],
        vec!["XGROUP", "CREATE", "unk", "g", "5-0", "MKSTREAM"],
        vec!["XADD", "unk", "9-9", "f", "v"],
        vec!["XREADGROUP", "GROUP", "g", "c", "STREAMS", "unk", ">"],
        vec!["XDEL", "gs", "1-1"],
        vec!["XGROUP", "CREATE", "nogroups", "g", "0", "MKSTREAM"],
        vec!["XGROUP", "DESTROY", "nogroups", "g"],
    ]
}

/// Everything redis-server reports about the groups (times included: they come from the dump).
fn group_checks() -> Vec<Vec<&'static str>> {
    vec![
        vec!["XINFO", "STREAM", "gs", "FULL"],
        vec!["XINFO", "STREAM", "unk", "FULL"],
        vec!["XINFO", "STREAM", "nogroups", "FULL"],
        vec!["XINFO", "GROUPS", "gs"],
        vec!["XPENDING", "gs", "g1"],
    ]
}

/// redis-server writes groups, we load them, save them again, and a second redis-server loads
/// our dump and reports exactly the same groups, PELs, consumers, times and counters.
#[test]
fn consumer_groups_survive_both_ways() {
    let Some(_) = redis_server_path() else {
        println!("redis-server not installed: skipped");
        return;
    };
    let dir = scratch_dir("groups-theirs");
    let Some(server) = RedisServer::start_with(&["--dir", dir.to_str().expect("utf-8 path")])
    else {
        return;
    };
    let mut conn = Conn::connect(server.port).expect("connect");
    conn.call(&argv(&["FLUSHALL"])).expect("reply");
    for cmd in group_setup() {
        let r = conn.call(&argv(&cmd)).expect("reply");
        assert!(
            !r.starts_with(b"-"),
            "{:?}: {}",
            cmd,
            String::from_utf8_lossy(&r)
        );
    }
    let theirs: Vec<Vec<u8>> = group_checks()
        .iter()
        .map(|w| conn.call(&argv(w)).expect("reply"))
        .collect();
    conn.call(&argv(&["SAVE"])).expect("reply");
    let bytes = std::fs::read(dir.join("dump.rdb")).expect("redis wrote dump.rdb");
    let now = now_ms();
    let dbs = rdb::load(&bytes, 16, now).expect("our loader reads redis's groups");
    let Some(redis_playground::types::Value::Stream(st)) = dbs[0].peek(b"gs").map(|e| &e.value)
    else {
        panic!("stream gs lost")
    };
    assert_eq!(st.groups.len(), 3);
    let g1 = &st.groups[b"g1".as_slice()];
    assert_eq!(g1.pel.len(), 3);
    assert_eq!(g1.consumers.len(), 3);
    assert_eq!(g1.consumers[b"alice".as_slice()].pel.len(), 1);
    assert_eq!(st.groups[b"a\x00\x7f".as_slice()].pel.len(), 0);
    let _second = RedisServer::start_loading(
        "groups-ours",
        &rdb::save(&dbs, now),
        &["--sanitize-dump-payload", "yes"],
    )
    .expect("redis-server loads the snapshot");
    let mut conn2 = Conn::connect(_second.port).expect("connect");
    assert_eq!(conn2.call(&argv(&["DBSIZE"])).expect("reply"), b":3\r\n");
    for (i, w) in group_checks().iter().enumerate() {
        let again = conn2.call(&argv(w)).expect("reply");
        assert_eq!(
            String::from_utf8_lossy(&again),
            String::from_utf8_lossy(&theirs[i]),
            "check {:?}",
            w
        );
    }
    // Saving what we loaded gives back the same bytes for the stream values.
    let reloaded = rdb::load(&rdb::save(&dbs, now), 16, now).expect("our own dump loads");
    assert_eq!(
        reloaded[0].peek(b"gs").map(|e| &e.value),
        dbs[0].peek(b"gs").map(|e| &e.value)
    );
}

/// Replies that do not depend on the clock: group counters, PEL summaries, histories.
fn timeless_group_checks() -> Vec<Vec<&'static str>> {
    vec![
        vec!["XINFO", "GROUPS", "gs"],
        vec!["XINFO", "GROUPS", "unk"],
        vec!["XINFO", "GROUPS", "nogroups"],
        vec!["XPENDING", "gs", "g1"],
        vec!["XPENDING", "gs", "a\u{0}\u{7f}"],
        vec!["XPENDING", "unk", "g"],
        vec!["XREADGROUP", "GROUP", "g1", "alice", "STREAMS", "gs", "0"],
        vec!["XREADGROUP", "GROUP", "g1", "bob", "STREAMS", "gs", "0"],
        vec![
            "XREADGROUP",
            "GROUP",
            "g1",
            "idle\u{0}one",
            "STREAMS",
            "gs",
            "0",
        ],
        vec!["XREADGROUP", "GROUP", "g2", "zed", "STREAMS", "gs", ">"],
        vec!["XPENDING", "gs", "g2"],
    ]
}

/// Groups made by our own commands: redis-server loads our dump and reports the same groups
/// as it does after running the same commands itself.
#[test]
fn redis_server_loads_our_consumer_groups() {
    let Some(_) = redis_server_path() else {
        println!("redis-server not installed: skipped");
        return;
    };
    let Some(reference) = RedisServer::start() else {
        return;
    };
    let mut conn = Conn::connect(reference.port).expect("connect");
    conn.call(&argv(&["FLUSHALL"])).expect("reply");
    let now = now_ms();
    let mut eng = Engine::new(EngineOptions {
        now_ms: now,
        ..EngineOptions::default()
    });
    let c = eng.open_client(now);
    for cmd in group_setup() {
        let theirs = conn.call(&argv(&cmd)).expect("reply");
        let ours = eng.execute(c, &argv(&cmd), now).expect("reply").to_resp(2);
        assert_eq!(
            String::from_utf8_lossy(&ours),
            String::from_utf8_lossy(&theirs),
            "{:?}",
            cmd
        );
    }
    let expected: Vec<Vec<u8>> = timeless_group_checks()
        .iter()
        .map(|w| conn.call(&argv(w)).expect("reply"))
        .collect();
    let _server = RedisServer::start_loading(
        "groups-ours-cmds",
        &rdb::save(&eng.dbs, now),
        &["--sanitize-dump-payload", "yes"],
    )
    .expect("redis-server loads the snapshot");
    let mut loaded = Conn::connect(_server.port).expect("connect");
    assert_eq!(loaded.call(&argv(&["DBSIZE"])).expect("reply"), b":3\r\n");
    for (w, want) in timeless_group_checks().iter().zip(&expected) {
        let got = loaded.call(&argv(w)).expect("reply");
        assert_eq!(
            String::from_utf8_lossy(&got),
            String::from_utf8_lossy(want),
            "check {:?}",
            w
        );
    }
}
