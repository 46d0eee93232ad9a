//! MIGRATE from the native server to real redis-servers, side by side with a real redis-server
//! doing the same: every reply byte for byte, and what the targets hold afterwards (TTLs kept,
//! databases selected, COPY and REPLACE, the target's errors, AUTH and AUTH2, a cached
//! connection the target closed, an unreachable target).

mod common;

use common::{argv, Conn, OurServer, RedisServer};

/// A source server and two target servers of its own (fresh, so both sides start equal).
struct Setup {
    source: Conn,
    target: RedisServer,
    secured: RedisServer,
    _source_server: Box<dyn std::any::Any>,
}

fn call(c: &mut Conn, words: &[&str]) -> String {
    String::from_utf8_lossy(&c.call(&argv(words)).expect("reply")).into_owned()
}

/// Runs the scenario against `s`; every reply, and what the targets hold, in order.
fn scenario(s: &mut Setup) -> Vec<String> {
    let t = s.target.port.to_string();
    let sec = s.secured.port.to_string();
    let src = &mut s.source;
    let mut target = Conn::connect(s.target.port).expect("target");
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
    let mut secured = Conn::connect(s.secured.port).expect("secured");
    step(&mut secured, &["AUTH", "secret"]);
    step(&mut secured, &["MGET", "c"]);
    step(&mut secured, &["SELECT", "1"]);
    step(&mut secured, &["GET", "c"]);
    out
}

fn setup(source_port: u16, source: Box<dyn std::any::Any>) -> Option<Setup> {
    let secured = RedisServer::start()?;
    let mut c = Conn::connect(secured.port).expect("secured");
    call(&mut c, &["CONFIG", "SET", "requirepass", "secret"]);
    Some(Setup {
        source: Conn::connect(source_port).expect("source"),
        target: RedisServer::start()?,
        secured,
        _source_server: source,
    })
}

#[test]
fn migrate_answers_and_moves_as_redis_does() {
    let Some(real) = RedisServer::start() else {
        eprintln!("note: redis-server is not installed; skipped");
        return;
    };
    let real_port = real.port;
    let Some(mut theirs) = setup(real_port, Box::new(real)) else {
        return;
    };
    let want = scenario(&mut theirs);
    let ours = OurServer::start(&["--save", "", "--appendonly", "no", "--daemonize", "no"]);
    let port = ours.port;
    let mut mine = setup(port, Box::new(ours)).expect("targets");
    let got = scenario(&mut mine);
    for (g, w) in got.iter().zip(&want) {
        assert_eq!(g, w);
    }
    assert_eq!(got.len(), want.len());
}
