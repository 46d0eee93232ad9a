//! Replication over TCP with real redis-server 7.0 processes: a real replica of our primary
//! (full sync, the stream of writes of every type on several databases with expiries, a
//! partial resync after the link is cut). Data is compared with DEBUG DIGEST on both sides,
//! polled with a bounded wait.

mod common;

use std::time::{Duration, Instant};

use common::{argv, redis_server_path, Conn, OurServer, RedisServer};

/// A command's raw reply as text.
fn call(c: &mut Conn, words: &[&str]) -> String {
    let reply = c.call(&argv(words)).expect("reply");
    String::from_utf8_lossy(&reply).into_owned()
}

/// A field of INFO `section`.
fn info_field(c: &mut Conn, section: &str, field: &str) -> Option<String> {
    let text = call(c, &["INFO", section]);
    let prefix = format!("{field}:");
    text.lines()
        .find_map(|l| l.strip_prefix(&prefix).map(str::to_string))
}

/// Polls `check` every 20 ms until it holds or `secs` pass; false on time out.
fn eventually(secs: u64, mut check: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if check() {
            return true;
        }
        if Instant::now() > deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Waits until both servers report the same DEBUG DIGEST; panics with both when they do not.
fn converge(a: &mut Conn, b: &mut Conn, what: &str) {
    let mut last = (String::new(), String::new());
    let same = eventually(20, || {
        last = (call(a, &["DEBUG", "DIGEST"]), call(b, &["DEBUG", "DIGEST"]));
        last.0 == last.1
    });
    assert!(same, "{what}: digests differ: {:?}", last);
}

/// Cuts the link between primary `p` and replica `r` (from the replica's side, or from the
/// primary's), writes round `round`, and waits for the replica to come back with a partial
/// resync (the primary's `sync_partial_ok` one higher) and to hold the same data.
fn partial_resync(p: &mut Conn, r: &mut Conn, from_primary: bool, round: u32, what: &str) {
    let partial_ok = |c: &mut Conn| -> u64 {
        info_field(c, "stats", "sync_partial_ok")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    let before = partial_ok(p);
    let killed = if from_primary {
        call(p, &["CLIENT", "KILL", "TYPE", "replica"])
    } else {
        call(r, &["CLIENT", "KILL", "TYPE", "master"])
    };
    assert_eq!(killed, ":1\r\n", "{what}");
    workload(p, round);
    assert!(eventually(20, || partial_ok(p) == before + 1), "{what}");
    converge(p, r, what);
}

/// Writes of every type, on several databases, with expiries, transactions and scripts.
fn workload(c: &mut Conn, round: u32) {
    let r = round.to_string();
    let big = "x".repeat(70_000);
    let cmds: Vec<Vec<String>> = vec![
        vec!["SELECT", "0"],
        vec!["SET", "s", &r],
        vec!["APPEND", "s", "-tail"],
        vec!["INCRBY", "counter", "7"],
        vec!["INCRBYFLOAT", "float", "1.5"],
        vec!["SET", "ttl", "v", "EX", "1000"],
        vec!["SET", "short", "v", "PX", "50"],
        vec!["SET", "big", &big],
        vec!["HSET", "h", "f1", "v1", "f2", &r],
        vec!["HINCRBY", "h", "n", "3"],
        vec!["RPUSH", "l", "a", "b", "c", &r],
        vec!["LPOP", "l"],
        vec!["SADD", "si", "1", "2", "3"],
        vec!["SADD", "ss", "x", "y", &r],
        vec!["SPOP", "ss"],
        vec!["ZADD", "z", "1", "one", "2.5", "two", "3", &r],
        vec!["ZINCRBY", "z", "2", "one"],
        vec!["XADD", "st", "*", "f", &r],
        // Propagated as `MAXLEN = <length> LIMIT 100`, which a replica obeys as Redis does.
        vec![
            "XADD", "st", "MAXLEN", "~", "1", "LIMIT", "100", "*", "g", &r,
        ],
        vec!["PFADD", "hll", "a", "b", "c", &r],
        vec!["SETBIT", "bits", "77", "1"],
        vec!["GEOADD", "geo", "13.361389", "38.115556", "Palermo"],
        vec!["EXPIRE", "h", "5000"],
        vec!["PEXPIRE", "l", "900000"],
        vec!["SELECT", "5"],
        vec!["SET", "db5", &r],
        vec!["LPUSH", "db5list", "q", "r"],
        vec!["COPY", "db5", "db5copy"],
        vec!["SELECT", "9"],
        vec!["HSET", "db9", "k", &r],
        vec!["MOVE", "db9", "3"],
        vec!["SELECT", "0"],
        vec!["MULTI"],
        vec!["INCR", "tx"],
        vec!["SADD", "txset", &r],
        vec!["EXEC"],
        vec![
            "EVAL",
            "redis.call('SET', KEYS[1], ARGV[1]); return redis.call('INCR', KEYS[2])",
            "2",
            "lua1",
            "lua2",
            &r,
        ],
        vec!["DEL", "ss"],
        vec!["RENAME", "si", "si2"],
    ]
    .into_iter()
    .map(|v| v.into_iter().map(str::to_string).collect())
    .collect();
    for cmd in cmds {
        let words: Vec<&str> = cmd.iter().map(String::as_str).collect();
        let reply = call(c, &words);
        assert!(!reply.starts_with('-'), "{:?} failed: {reply}", words);
    }
}

fn our_primary() -> OurServer {
    OurServer::start(&["--save", "", "--enable-debug-command", "yes"])
}

/// A real replica follows our primary: full sync, the stream, expiries, and a partial resync
/// after its link to us is cut.
#[test]
fn real_replica_of_our_primary() {
    if redis_server_path().is_none() {
        assert!(
            std::env::var_os("REQUIRE_REDIS").is_none(),
            "no redis-server"
        );
        return;
    }
    let primary = our_primary();
    let mut p = Conn::connect(primary.port).expect("connect primary");
    // Data before the replica exists goes with the snapshot.
    workload(&mut p, 0);
    call(
        &mut p,
        &[
            "FUNCTION",
            "LOAD",
            "#!lua name=lib\nredis.register_function('f', function(k, a) return redis.call('SET', k[1], a[1]) end)",
        ],
    );
    let replica =
        RedisServer::start_with(&["--enable-debug-command", "yes"]).expect("redis-server");
    let mut r = Conn::connect(replica.port).expect("connect replica");
    assert_eq!(
        call(
            &mut r,
            &["REPLICAOF", "127.0.0.1", &primary.port.to_string()]
        ),
        "+OK\r\n"
    );
    assert!(
        eventually(20, || info_field(
            &mut r,
            "replication",
            "master_link_status"
        )
        .as_deref()
            == Some("up")),
        "the replica never synced"
    );
    converge(&mut p, &mut r, "after the full sync");
    assert_eq!(
        call(&mut r, &["FUNCTION", "LIST"]),
        call(&mut p, &["FUNCTION", "LIST"])
    );

    // The stream: writes of every type, a function call, expiries on the primary.
    for round in 1..4 {
        workload(&mut p, round);
    }
    call(&mut p, &["FCALL", "f", "1", "fkey", "fval"]);
    converge(&mut p, &mut r, "after the stream of writes");
    // `short` expired on the primary: its DEL reached the replica.
    assert!(eventually(10, || call(&mut r, &["EXISTS", "short"]) == ":0\r\n"));
    converge(&mut p, &mut r, "after the expiries");

    // The primary knows its replica, and the replica acknowledges the primary's offset.
    let mut offset = String::new();
    assert!(
        eventually(10, || {
            offset = info_field(&mut p, "replication", "master_repl_offset").unwrap_or_default();
            let line = info_field(&mut p, "replication", "slave0").unwrap_or_default();
            line.contains(&format!(
                "port={},state=online,offset={offset},",
                replica.port
            ))
        }),
        "{:?}",
        info_field(&mut p, "replication", "slave0")
    );
    let role = call(&mut p, &["ROLE"]);
    assert!(
        role.starts_with(&format!("*3\r\n$6\r\nmaster\r\n:{offset}\r\n*1\r\n*3\r\n")),
        "{role}"
    );
    assert_eq!(
        info_field(&mut p, "stats", "sync_full").as_deref(),
        Some("1")
    );

    // WAIT: the replica acknowledges this client's writes when asked (GETACK in the stream).
    call(&mut p, &["SET", "waited", "1"]);
    assert_eq!(call(&mut p, &["WAIT", "1", "10000"]), ":1\r\n");
    assert_eq!(call(&mut p, &["WAIT", "2", "100"]), ":1\r\n");
    // min-replicas-to-write counts replicas whose acknowledgement is recent enough.
    call(&mut p, &["CONFIG", "SET", "min-replicas-max-lag", "10"]);
    call(&mut p, &["CONFIG", "SET", "min-replicas-to-write", "1"]);
    assert_eq!(call(&mut p, &["SET", "guarded", "1"]), "+OK\r\n");
    assert_eq!(
        info_field(&mut p, "replication", "min_slaves_good_slaves").as_deref(),
        Some("1")
    );
    call(&mut p, &["CONFIG", "SET", "min-replicas-to-write", "2"]);
    assert_eq!(
        call(&mut p, &["SET", "guarded", "2"]),
        "-NOREPLICAS Not enough good replicas to write.\r\n"
    );
    call(&mut p, &["CONFIG", "SET", "min-replicas-to-write", "0"]);

    // Cut the link: the replica comes back with PSYNC and gets only what it missed. (Its
    // first PSYNC, with the history it had as a primary, was refused: that counted once.)
    let partial_err = info_field(&mut p, "stats", "sync_partial_err");
    partial_resync(&mut p, &mut r, false, 9, "after the partial resync");
    assert_eq!(
        info_field(&mut p, "stats", "sync_partial_ok").as_deref(),
        Some("1")
    );
    assert_eq!(
        info_field(&mut p, "stats", "sync_full").as_deref(),
        Some("1")
    );
    assert_eq!(info_field(&mut p, "stats", "sync_partial_err"), partial_err);
    let ours = info_field(&mut p, "replication", "master_repl_offset");
    assert!(eventually(10, || {
        info_field(&mut r, "replication", "master_repl_offset") == ours
    }));
    assert_eq!(
        info_field(&mut r, "replication", "master_replid"),
        info_field(&mut p, "replication", "master_replid")
    );
}

/// Our server as a replica of a real primary: the handshake, a full sync in either snapshot
/// form, the stream, a partial resync after the link is cut, read-only refusals, expiry left
/// to the primary, and REPLICAOF NO ONE.
fn our_replica_of_real_primary(diskless: bool) {
    if redis_server_path().is_none() {
        assert!(
            std::env::var_os("REQUIRE_REDIS").is_none(),
            "no redis-server"
        );
        return;
    }
    let diskless = if diskless { "yes" } else { "no" };
    let primary = RedisServer::start_with(&[
        "--enable-debug-command",
        "yes",
        "--repl-diskless-sync",
        diskless,
        "--repl-diskless-sync-delay",
        "0",
    ])
    .expect("redis-server");
    let mut p = Conn::connect(primary.port).expect("connect primary");
    workload(&mut p, 0);
    let replica = our_primary();
    let mut r = Conn::connect(replica.port).expect("connect replica");
    assert_eq!(
        call(&mut r, &["ROLE"]),
        "*3\r\n$6\r\nmaster\r\n:0\r\n*0\r\n"
    );
    assert_eq!(
        call(&mut r, &["REPLICAOF", "127.0.0.1", "x"]),
        "-ERR Invalid master port\r\n"
    );
    assert_eq!(
        call(&mut r, &["REPLICAOF", "127.0.0.1", "65536"]),
        "-ERR Invalid master port\r\n"
    );
    let port = primary.port.to_string();
    assert_eq!(call(&mut r, &["REPLICAOF", "127.0.0.1", &port]), "+OK\r\n");
    assert_eq!(
        call(&mut r, &["REPLICAOF", "127.0.0.1", &port]),
        "+OK Already connected to specified master\r\n"
    );
    assert!(
        eventually(20, || info_field(
            &mut r,
            "replication",
            "master_link_status"
        )
        .as_deref()
            == Some("up")),
        "never synced: {}",
        call(&mut r, &["INFO", "replication"])
    );
    converge(&mut p, &mut r, "after the full sync");
    let role = call(&mut r, &["ROLE"]);
    let head = format!("*5\r\n$5\r\nslave\r\n$9\r\n127.0.0.1\r\n:{port}\r\n$9\r\nconnected\r\n:");
    assert!(role.starts_with(&head), "{role}");

    // Clients may read, not write; WAIT is refused.
    assert!(call(&mut r, &["WAIT", "1", "0"]).starts_with("-ERR WAIT cannot be used with replica"));
    assert_eq!(
        call(&mut r, &["SET", "k", "v"]),
        "-READONLY You can't write against a read only replica.\r\n"
    );
    assert_eq!(call(&mut r, &["GET", "s"]), call(&mut p, &["GET", "s"]));

    for round in 1..4 {
        workload(&mut p, round);
    }
    converge(&mut p, &mut r, "after the stream of writes");

    // Expiry is the primary's: a key past its time reads as missing on the replica, which
    // keeps it until the primary's DEL arrives.
    call(&mut p, &["DEBUG", "SET-ACTIVE-EXPIRE", "0"]);
    call(&mut p, &["SET", "soon", "v", "PX", "100"]);
    assert!(eventually(10, || call(&mut r, &["EXISTS", "soon"]) == ":1\r\n"));
    std::thread::sleep(Duration::from_millis(150));
    assert_eq!(call(&mut r, &["GET", "soon"]), "$-1\r\n");
    let keys = |c: &mut Conn| call(c, &["DBSIZE"]);
    let before = keys(&mut r);
    assert_eq!(call(&mut p, &["GET", "soon"]), "$-1\r\n");
    assert!(
        eventually(10, || keys(&mut r) != before),
        "the DEL never came"
    );
    converge(&mut p, &mut r, "after the expiry");
    call(&mut p, &["DEBUG", "SET-ACTIVE-EXPIRE", "1"]);

    // The replica acknowledges the primary's offset.
    assert!(eventually(10, || {
        let offset = info_field(&mut p, "replication", "master_repl_offset").unwrap_or_default();
        let line = info_field(&mut p, "replication", "slave0").unwrap_or_default();
        line.contains(&format!(
            "port={},state=online,offset={offset},",
            replica.port
        ))
    }));

    // Cut the link from our side: PSYNC brings only what was missed.
    let full = info_field(&mut p, "stats", "sync_full");
    partial_resync(
        &mut p,
        &mut r,
        false,
        7,
        "after a partial resync (our side cut)",
    );
    // ... and from the primary's side.
    partial_resync(
        &mut p,
        &mut r,
        true,
        8,
        "after a partial resync (their side cut)",
    );
    assert_eq!(info_field(&mut p, "stats", "sync_full"), full);
    assert!(eventually(10, || {
        info_field(&mut r, "replication", "slave_repl_offset")
            == info_field(&mut p, "replication", "master_repl_offset")
    }));
    assert_eq!(
        info_field(&mut r, "replication", "master_replid"),
        info_field(&mut p, "replication", "master_replid")
    );

    // Promoted: writable, a new history that remembers the old one.
    let old_id = info_field(&mut r, "replication", "master_replid");
    assert_eq!(call(&mut r, &["REPLICAOF", "NO", "ONE"]), "+OK\r\n");
    assert_eq!(call(&mut r, &["SET", "k", "v"]), "+OK\r\n");
    assert_eq!(
        info_field(&mut r, "replication", "role").as_deref(),
        Some("master")
    );
    assert_eq!(info_field(&mut r, "replication", "master_replid2"), old_id);
}

#[test]
fn our_replica_of_real_primary_disk_sync() {
    our_replica_of_real_primary(false);
}

#[test]
fn our_replica_of_real_primary_diskless_sync() {
    our_replica_of_real_primary(true);
}

/// Our replica of our primary, and a real replica of that replica (a chain): the stream
/// passes through unchanged, WAIT counts our replica's acknowledgements, and a cut link
/// resyncs partially.
#[test]
fn chain_of_our_servers() {
    let primary = our_primary();
    let middle = our_primary();
    let mut p = Conn::connect(primary.port).expect("connect primary");
    let mut m = Conn::connect(middle.port).expect("connect middle");
    workload(&mut p, 0);
    let port = primary.port.to_string();
    assert_eq!(call(&mut m, &["REPLICAOF", "localhost", &port]), "+OK\r\n");
    assert!(eventually(20, || {
        info_field(&mut m, "replication", "master_link_status").as_deref() == Some("up")
    }));
    converge(&mut p, &mut m, "after the full sync");
    workload(&mut p, 1);
    assert_eq!(call(&mut p, &["WAIT", "1", "10000"]), ":1\r\n");
    converge(&mut p, &mut m, "after the stream");
    let list = call(&mut m, &["CLIENT", "LIST", "TYPE", "master"]);
    assert!(list.contains(" flags=M "), "{list}");
    let list = call(&mut p, &["CLIENT", "LIST", "TYPE", "replica"]);
    assert!(list.contains(" flags=S "), "{list}");

    // The stream is left in database 7 when the tail attaches: the snapshot it gets from the
    // middle says so (repl-stream-db), or the next write would land in database 0 there.
    call(&mut p, &["SELECT", "7"]);
    call(&mut p, &["SET", "in7", "1"]);
    let last = if redis_server_path().is_some() {
        let tail = RedisServer::start_with(&["--enable-debug-command", "yes"]).expect("redis");
        let mut t = Conn::connect(tail.port).expect("connect tail");
        let mport = middle.port.to_string();
        call(&mut t, &["REPLICAOF", "127.0.0.1", &mport]);
        assert!(eventually(20, || {
            info_field(&mut t, "replication", "master_link_status").as_deref() == Some("up")
        }));
        call(&mut p, &["SET", "in7-after", "2"]);
        converge(&mut p, &mut t, "at the end of the chain");
        workload(&mut p, 2);
        converge(&mut p, &mut t, "at the end of the chain, after more writes");
        Some((tail, t))
    } else {
        None
    };

    partial_resync(&mut p, &mut m, false, 3, "after the partial resync");
    assert_eq!(
        info_field(&mut p, "stats", "sync_partial_ok").as_deref(),
        Some("1")
    );
    assert_eq!(
        info_field(&mut p, "stats", "sync_full").as_deref(),
        Some("1")
    );
    if let Some((_tail, mut t)) = last {
        converge(&mut p, &mut t, "at the end of the chain, after the resync");
    }
}

/// Waits until INFO replication's `role` is `role`.
fn role_becomes(c: &mut Conn, role: &str) -> bool {
    eventually(20, || {
        info_field(c, "replication", "role").as_deref() == Some(role)
            && info_field(c, "replication", "master_failover_state").as_deref()
                == Some("no-failover")
    })
}

/// FAILOVER both ways between our server and a real one, losing no acknowledged write.
#[test]
fn failover_between_ours_and_real() {
    if redis_server_path().is_none() {
        assert!(
            std::env::var_os("REQUIRE_REDIS").is_none(),
            "no redis-server"
        );
        return;
    }
    let ours = our_primary();
    let mut o = Conn::connect(ours.port).expect("connect ours");
    let real = RedisServer::start_with(&["--enable-debug-command", "yes"]).expect("redis");
    let mut r = Conn::connect(real.port).expect("connect real");
    assert_eq!(
        call(&mut o, &["FAILOVER"]),
        "-ERR FAILOVER requires connected replicas.\r\n"
    );
    call(&mut r, &["REPLICAOF", "127.0.0.1", &ours.port.to_string()]);
    assert!(eventually(20, || {
        info_field(&mut r, "replication", "master_link_status").as_deref() == Some("up")
    }));
    workload(&mut o, 0);
    assert_eq!(call(&mut o, &["WAIT", "1", "10000"]), ":1\r\n");
    assert_eq!(
        call(&mut o, &["FAILOVER", "TO", "127.0.0.1", "1"]),
        "-ERR FAILOVER target HOST and PORT is not a replica.\r\n"
    );

    // Ours hands over to the real replica (the first one in sync).
    assert_eq!(call(&mut o, &["FAILOVER"]), "+OK\r\n");
    assert!(
        role_becomes(&mut r, "master"),
        "{}",
        call(&mut r, &["INFO", "replication"])
    );
    assert!(
        role_becomes(&mut o, "slave"),
        "{}",
        call(&mut o, &["INFO", "replication"])
    );
    assert!(eventually(20, || {
        info_field(&mut o, "replication", "master_link_status").as_deref() == Some("up")
    }));
    // The real server continued our history: a partial resync, no full one.
    assert_eq!(
        info_field(&mut r, "stats", "sync_partial_ok").as_deref(),
        Some("1")
    );
    assert_eq!(
        info_field(&mut r, "stats", "sync_full").as_deref(),
        Some("0")
    );
    workload(&mut r, 1);
    converge(&mut r, &mut o, "after the failover to the real server");

    // And back: the real primary hands over to ours.
    let port = ours.port.to_string();
    assert_eq!(
        call(&mut r, &["FAILOVER", "TO", "127.0.0.1", &port]),
        "+OK\r\n"
    );
    assert!(
        role_becomes(&mut o, "master"),
        "{}",
        call(&mut o, &["INFO", "replication"])
    );
    assert!(
        role_becomes(&mut r, "slave"),
        "{}",
        call(&mut r, &["INFO", "replication"])
    );
    assert!(eventually(20, || {
        info_field(&mut r, "replication", "master_link_status").as_deref() == Some("up")
    }));
    workload(&mut o, 2);
    assert_eq!(call(&mut o, &["WAIT", "1", "10000"]), ":1\r\n");
    converge(&mut o, &mut r, "after the failover back to ours");
}

/// A replica that asked for the stream and stays silent: PSYNC sent over a raw connection,
/// nothing read or acknowledged afterwards.
fn silent_replica(port: u16) -> Conn {
    let mut r = Conn::connect(port).expect("connect replica");
    assert_eq!(call(&mut r, &["REPLCONF", "capa", "psync2"]), "+OK\r\n");
    r.call_n(&argv(&["PSYNC", "?", "-1"]), 0).expect("psync");
    r
}

/// The primary's view of its replicas.
fn connected_replicas(p: &mut Conn) -> Option<String> {
    info_field(p, "replication", "connected_slaves")
}

/// A replica that stops acknowledging is disconnected after `repl-timeout`, as Redis's
/// replicationCron does; one that acknowledges stays.
#[test]
fn primary_drops_a_replica_silent_for_repl_timeout() {
    let primary = OurServer::start(&["--save", "", "--repl-timeout", "2"]);
    let mut p = Conn::connect(primary.port).expect("connect primary");
    let _quiet = silent_replica(primary.port);
    let mut acking = silent_replica(primary.port);
    assert!(eventually(5, || connected_replicas(&mut p).as_deref() == Some("2")));
    // The acknowledging one says where it is every half second; the other says nothing.
    let dropped = eventually(10, || {
        acking
            .call_n(&argv(&["REPLCONF", "ACK", "0"]), 0)
            .expect("ack");
        std::thread::sleep(Duration::from_millis(500));
        connected_replicas(&mut p).as_deref() == Some("1")
    });
    assert!(dropped, "{:?}", call(&mut p, &["INFO", "replication"]));
    // More than two seconds later the acknowledging replica is still there.
    for _ in 0..6 {
        acking
            .call_n(&argv(&["REPLCONF", "ACK", "0"]), 0)
            .expect("ack");
        std::thread::sleep(Duration::from_millis(500));
    }
    assert_eq!(connected_replicas(&mut p).as_deref(), Some("1"));
}

/// `client-output-buffer-limit replica ...` applies to replicas: one that does not read its
/// stream is dropped when its buffer passes the hard limit, while its snapshot, bigger than the
/// limit, did not count (Redis sends the snapshot apart from the buffer).
#[test]
fn replica_output_buffer_limit() {
    let primary = OurServer::start(&["--save", ""]);
    let mut p = Conn::connect(primary.port).expect("connect primary");
    assert_eq!(
        call(
            &mut p,
            &[
                "CONFIG",
                "SET",
                "client-output-buffer-limit",
                "replica 1mb 0 0"
            ]
        ),
        "+OK\r\n"
    );
    // A snapshot of about 24 MB that does not compress: far more than the kernel's buffers
    // take from a replica that reads nothing.
    let mut x = 0x2545_f491_4f6c_dd1du64;
    for i in 0..24 {
        let value: String = (0..1_000_000)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                char::from(b'!' + (x % 90) as u8)
            })
            .collect();
        let key = format!("big{i}");
        assert_eq!(call(&mut p, &["SET", &key, &value]), "+OK\r\n");
    }
    let _replica = silent_replica(primary.port);
    assert!(eventually(5, || connected_replicas(&mut p).as_deref() == Some("1")));
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(connected_replicas(&mut p).as_deref(), Some("1"));
    // Two megabytes of stream it does not read: over the limit.
    let value = "x".repeat(100_000);
    for i in 0..20 {
        let key = format!("k{i}");
        assert_eq!(call(&mut p, &["SET", &key, &value]), "+OK\r\n");
    }
    assert!(
        eventually(5, || connected_replicas(&mut p).as_deref() == Some("0")),
        "{:?}",
        call(&mut p, &["INFO", "replication"])
    );
}

/// `bind-source-addr`: a replica connects to its primary from that address (the primary
/// lists it under it), as redis-server's replicas do.
#[test]
fn a_replica_connects_from_bind_source_addr() {
    let primary = OurServer::start(&["--save", "", "--protected-mode", "no"]);
    let replica = OurServer::start(&["--save", ""]);
    let mut p = Conn::connect(primary.port).expect("connect");
    let mut r = Conn::connect(replica.port).expect("connect");
    assert_eq!(
        call(&mut r, &["CONFIG", "SET", "bind-source-addr", "127.0.0.2"]),
        "+OK\r\n"
    );
    let port = primary.port.to_string();
    assert_eq!(call(&mut r, &["REPLICAOF", "127.0.0.1", &port]), "+OK\r\n");
    assert!(
        eventually(10, || info_field(
            &mut r,
            "replication",
            "master_link_status"
        )
        .is_some_and(|s| s == "up")),
        "the link came up"
    );
    let slave0 = info_field(&mut p, "replication", "slave0").unwrap_or_default();
    assert!(slave0.starts_with("ip=127.0.0.2,"), "{slave0}");
}
