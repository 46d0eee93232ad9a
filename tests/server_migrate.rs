//! MIGRATE both ways: from the native server to real redis-servers, and from a real
//! redis-server to native servers, side by side with real redis-servers on both ends: every
//! reply byte for byte, and what the targets hold afterwards (TTLs kept, databases selected,
//! COPY and REPLACE, the target's errors, AUTH and AUTH2, a cached connection the target
//! closed, an unreachable target).

mod common;

use common::{argv, Conn, OurServer, RedisServer};

/// A source server and two target servers of its own (fresh, so both sides start equal); the
/// second target wants a password.
struct Setup {
    source: Conn,
    target_port: u16,
    secured_port: u16,
    /// The servers' processes, stopped when the setup goes.
    _servers: Vec<Box<dyn std::any::Any>>,
}

fn call(c: &mut Conn, words: &[&str]) -> String {
    String::from_utf8_lossy(&c.call(&argv(words)).expect("reply")).into_owned()
}

/// Runs the scenario against `s`; every reply, and what the targets hold, in order.
fn scenario(s: &mut Setup) -> Vec<String> {
    let t = s.target_port.to_string();
    let sec = s.secured_port.to_string();
    let src = &mut s.source;
    let mut target = Conn::connect(s.target_port).expect("target");
    let mut out = Vec::new();
    let mut step = |c: &mut Conn, words: &[&str]| {
        // The targets' ports differ between the two runs: named, not numbered.
        let shown: Vec<&str> = words
            .iter()
            .map(|w| match *w {
                w if w == t => "<target>",
                w if w == sec => "<secured>",
                w => w,
            })
            .collect();
        out.push(format!("{shown:?} -> {}", call(c, words)));
    };
    for w in [
        &["SET", "a", "1"][..],
        &["SET", "b", "2", "PX", "100000"],
        &["RPUSH", "l", "x", "y"],
        &["HSET", "h", "f", "v"],
        &["SELECT", "0"],
    ] {
        step(src, w);
    }
    step(src, &["MIGRATE", "127.0.0.1", &t, "a", "0", "5000"]);
    step(src, &["EXISTS", "a"]);
    step(src, &["MIGRATE", "127.0.0.1", &t, "nosuch", "0", "5000"]);
    step(
        src,
        &[
            "MIGRATE",
            "127.0.0.1",
            &t,
            "",
            "3",
            "5000",
            "KEYS",
            "b",
            "l",
            "nosuch",
        ],
    );
    step(src, &["EXISTS", "b", "l"]);
    step(src, &["SET", "a", "5"]);
    step(src, &["MIGRATE", "127.0.0.1", &t, "a", "0", "5000"]);
    step(src, &["MIGRATE", "127.0.0.1", &t, "a", "0", "5000", "COPY"]);
    step(
        src,
        &[
            "MIGRATE",
            "127.0.0.1",
            &t,
            "a",
            "0",
            "5000",
            "REPLACE",
            "COPY",
        ],
    );
    step(src, &["GET", "a"]);
    step(
        src,
        &["MIGRATE", "127.0.0.1", &t, "a", "99", "5000", "REPLACE"],
    );
    step(
        src,
        &["MIGRATE", "127.0.0.1", &t, "a", "0", "5000", "AUTH", "pw"],
    );
    step(src, &["MIGRATE", "127.0.0.1", &t, "a", "x", "5000"]);
    step(src, &["MIGRATE", "127.0.0.1", &t, "a", "0", "x"]);
    step(
        src,
        &["MIGRATE", "127.0.0.1", &t, "a", "0", "5000", "KEYS", "a"],
    );
    step(
        src,
        &["MIGRATE", "127.0.0.1", &t, "a", "0", "5000", "BOGUS"],
    );
    step(src, &["MIGRATE", "127.0.0.1", &t, "a", "0", "5000", "AUTH"]);
    step(
        src,
        &["MIGRATE", "127.0.0.1", &t, "a", "0", "5000", "AUTH2", "u"],
    );
    // The target closes the cached connection: MIGRATE reconnects once, unseen.
    step(
        &mut target,
        &["CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes"],
    );
    step(
        src,
        &["MIGRATE", "127.0.0.1", &t, "h", "0", "5000", "REPLACE"],
    );
    // A target that wants a password.
    step(src, &["SET", "c", "3"]);
    step(src, &["MIGRATE", "127.0.0.1", &sec, "c", "0", "5000"]);
    step(
        src,
        &[
            "MIGRATE",
            "127.0.0.1",
            &sec,
            "c",
            "0",
            "5000",
            "AUTH",
            "wrong",
        ],
    );
    step(
        src,
        &[
            "MIGRATE",
            "127.0.0.1",
            &sec,
            "c",
            "0",
            "5000",
            "AUTH",
            "secret",
        ],
    );
    step(src, &["SET", "c", "4"]);
    step(
        src,
        &[
            "MIGRATE",
            "127.0.0.1",
            &sec,
            "c",
            "1",
            "5000",
            "AUTH2",
            "default",
            "secret",
        ],
    );
    // Nobody listens on port 1.
    step(src, &["SET", "d", "4"]);
    step(src, &["MIGRATE", "127.0.0.1", "1", "d", "0", "200"]);
    step(
        src,
        &[
            "COMMAND", "GETKEYS", "MIGRATE", "h", "1", "", "0", "5", "AUTH", "KEYS", "KEYS", "x",
            "y",
        ],
    );
    step(src, &["DBSIZE"]);
    // What the targets hold.
    for (db, key) in [("0", "a"), ("3", "b"), ("3", "l"), ("0", "h"), ("99", "a")] {
        step(&mut target, &["SELECT", db]);
        step(&mut target, &["DUMP", key]);
    }
    step(&mut target, &["SELECT", "3"]);
    let pttl = call(&mut target, &["PTTL", "b"]);
    let ms: i64 = pttl.trim_start_matches(':').trim().parse().expect("pttl");
    let kept = (90_000..=100_000).contains(&ms);
    step(
        &mut target,
        &[
            "ECHO",
            if kept {
                "b keeps its TTL"
            } else {
                "b lost its TTL"
            },
        ],
    );
    let mut secured = Conn::connect(s.secured_port).expect("secured");
    step(&mut secured, &["AUTH", "secret"]);
    step(&mut secured, &["MGET", "c"]);
    step(&mut secured, &["SELECT", "1"]);
    step(&mut secured, &["GET", "c"]);
    // Both targets' connections are still cached (INFO's migrate_cached_sockets).
    let info = call(src, &["INFO", "stats"]);
    let cached = info
        .lines()
        .find(|l| l.starts_with("migrate_cached_sockets:"))
        .unwrap_or("no migrate_cached_sockets")
        .to_string();
    out.push(cached);
    out
}

/// A target server: a real redis-server, or a native one (`ours`).
fn target(ours: bool) -> Option<(u16, Box<dyn std::any::Any>)> {
    if ours {
        let s = OurServer::start(&["--save", "", "--appendonly", "no", "--daemonize", "no"]);
        Some((s.port, Box::new(s)))
    } else {
        let s = RedisServer::start()?;
        Some((s.port, Box::new(s)))
    }
}

fn setup(source_port: u16, source: Box<dyn std::any::Any>, our_targets: bool) -> Option<Setup> {
    let (secured_port, secured) = target(our_targets)?;
    let mut c = Conn::connect(secured_port).expect("secured");
    call(&mut c, &["CONFIG", "SET", "requirepass", "secret"]);
    let (target_port, plain) = target(our_targets)?;
    Some(Setup {
        source: Conn::connect(source_port).expect("source"),
        target_port,
        secured_port,
        _servers: vec![source, secured, plain],
    })
}

fn same(got: &[String], want: &[String]) {
    for (g, w) in got.iter().zip(want) {
        assert_eq!(g, w);
    }
    assert_eq!(got.len(), want.len());
}

#[test]
fn migrate_answers_and_moves_as_redis_does() {
    let Some(real) = RedisServer::start() else {
        eprintln!("note: redis-server is not installed; skipped");
        return;
    };
    let real_port = real.port;
    let Some(mut theirs) = setup(real_port, Box::new(real), false) else {
        return;
    };
    let want = scenario(&mut theirs);
    drop(theirs);
    // From the native server to redis-servers.
    let ours = OurServer::start(&["--save", "", "--appendonly", "no", "--daemonize", "no"]);
    let port = ours.port;
    let mut mine = setup(port, Box::new(ours), false).expect("targets");
    same(&scenario(&mut mine), &want);
    drop(mine);
    // From a redis-server to native servers.
    let real = RedisServer::start().expect("redis-server");
    let real_port = real.port;
    let mut reverse = setup(real_port, Box::new(real), true).expect("targets");
    same(&scenario(&mut reverse), &want);
}
