//! What commands propagate, compared with real Redis byte for byte: each case runs on the
//! engine (recording its propagated stream) and on a redis-server 7.0 with `appendonly yes`
//! and `appendfsync always`, whose incremental AOF file shows what it propagated. The two
//! streams must be equal, case by case (millisecond timestamps near the present are compared
//! as such, since the two clocks differ by a few milliseconds).
//!
//! Case lines: a command as typed in redis-cli; `@N ` before it runs it on client N (1 by
//! default); `> ` sends it without waiting for the reply (a client that blocks); `!sleep MS`
//! waits (the engine's clock moves as much, and its active expiry runs).

mod common;

use std::collections::BTreeMap;
use std::path::PathBuf;

use common::{now_ms, Conn, RedisServer};
use redis_playground::engine::propagate::{StreamEncoder, TO_AOF};
use redis_playground::engine::ClientId;
use redis_playground::protocol::inline::split_args;
use redis_playground::{Engine, EngineOptions};

/// (name, script) pairs.
const CASES: &[(&str, &str)] = &[
    ("set", "SET a 1\nset b 2\nSET a 1 NX\nSET a 2 XX\nSET c 3 XX"),
    (
        "set-expire",
        "SET a 1 EX 100\nSET b 1 PX 100000\nSET c 1 EXAT 2000000000\nSET d 1 PXAT 2000000000000\n\
         SET e 1 NX EX 100\nSET e 2 NX EX 100\nSET f 1 KEEPTTL\nSETEX g 100 v\nPSETEX h 100000 v",
    ),
    ("set-get", "SET a 1\nSET a 2 GET\nSET a 3 GET EX 100\nSET b 1 GET\nSET b 2 XX GET"),
    (
        "expire-family",
        "SET a 1\nEXPIRE a 100\nPEXPIRE a 100000\nEXPIREAT a 2000000000\nPEXPIREAT a 2000000000000\n\
         EXPIRE a 100 NX\nEXPIRE a 50 LT\nEXPIRE nokey 100\nPERSIST a\nPERSIST a\nEXPIRE a -1\nSET b 1\n\
         PEXPIREAT b 1000",
    ),
    (
        "getex-getdel",
        "SET a 1\nGETEX a\nGETEX a EX 100\nGETEX a PX 100000\nGETEX a EXAT 2000000000\nGETEX a PERSIST\n\
         GETEX a PERSIST\nGETEX a PXAT 1000\nSET b 1\nGETDEL b\nGETDEL b\nGETSET c 1\nGETSET c 2",
    ),
    (
        "incr-float",
        "INCRBYFLOAT f 1.5\nINCRBYFLOAT f 2\nHINCRBYFLOAT h x 1.25\nINCR i\nINCRBY i 5\nDECR i\nAPPEND s ab\n\
         SETRANGE s 5 x\nSETNX s y\nSETNX t y\nMSET m1 1 m2 2\nMSETNX m1 1 m3 3\nMSETNX m4 1 m5 2",
    ),
    (
        "no-change",
        "DEL nokey\nGET nokey\nLPOP nolist\nSREM noset a\nZREM nozset a\nHDEL nohash a\nEXISTS a\n\
         EXPIRE nokey 10\nPERSIST nokey\nSETNX k 1\nSETNX k 2\nSADD s a\nSADD s a\nRENAME nokey x",
    ),
    (
        "spop",
        "SADD s a\nSPOP s\nSADD s a b c d e\nSPOP s 0\nSPOP s 10\nSPOP s\nSADD t x\nSRANDMEMBER t\nSRANDMEMBER t 5",
    ),
    // Which members SPOP draws is random: only the commands and keys are compared here.
    ("spop-count~", "SADD s a b c d e\nSPOP s 2\nSADD t 1 2 3 4 5 6 7 8 9 10\nSPOP t 9"),
    (
        "lists",
        "RPUSH l a b c d e\nLPOP l\nRPOP l 2\nLPOP l 10\nLPOP l\nRPUSH l a b\nLMOVE l m LEFT RIGHT\n\
         RPOPLPUSH l m\nLMPOP 2 nol m LEFT COUNT 5\nRPUSH l x\nBLPOP l 0\nRPUSH l y z\nBRPOP l 0\nBLMOVE l m RIGHT LEFT 0\n\
         RPUSH l q\nBLMPOP 0 1 l RIGHT COUNT 3\nRPUSH l w\nBRPOPLPUSH l m 0",
    ),
    (
        "blocked-served",
        "@2 > BLPOP bl 0\n@1 RPUSH bl a b\n@3 > BRPOP bl2 0\n@1 LPUSH bl2 x\n@2 > BLMOVE src dst LEFT RIGHT 0\n\
         @1 RPUSH src v\n@3 > BZPOPMIN bz 0\n@1 ZADD bz 1 a 2 b\n@2 > BLMPOP 0 1 bl3 LEFT COUNT 5\n@1 RPUSH bl3 a b c",
    ),
    (
        "zsets",
        "ZADD z 1 a 2 b 3 c 4 d\nZPOPMIN z\nZPOPMAX z 2\nZADD z 5 e\nZMPOP 1 z MIN COUNT 3\nZADD z 1 x\nBZPOPMAX z 0\n\
         ZADD z 1 x 2 y\nBZMPOP 0 1 z MAX COUNT 1\nZINCRBY z 2 x\nZADD z GT 1 x",
    ),
    ("hashes", "HSET h a 1 b 2\nHSETNX h a 3\nHSETNX h c 3\nHINCRBY h a 2\nHDEL h a b c\nHMSET h x 1"),
    (
        "multi-exec",
        "MULTI\nSET a 1\nEXEC\nMULTI\nSET a 1\nSET b 2\nEXEC\nMULTI\nGET a\nEXEC\nMULTI\nEXEC\nMULTI\nSET a 1\nGET a\nINCR c\nEXEC\n\
         MULTI\nSELECT 1\nSET a 1\nSELECT 0\nSET b 2\nEXEC\nMULTI\nDEL nokey\nEXEC\nMULTI\nSET k v EX 100\nINCRBYFLOAT f 1\nEXEC",
    ),
    (
        "select",
        "SELECT 1\nSET a 1\nSELECT 2\nGET a\nSET a 2\nSELECT 0\nSET a 3\nSELECT 5\nSWAPDB 0 5\nMOVE a 6\nSELECT 6\nCOPY a b DB 7",
    ),
    (
        "scripts",
        "EVAL \"return 1\" 0\nEVAL \"redis.call('set', KEYS[1], 'v')\" 1 a\n\
         EVAL \"redis.call('set', KEYS[1], 'v'); redis.call('incr', 'n'); return 1\" 1 a\n\
         EVAL \"return redis.call('get', 'a')\" 0\nEVAL \"redis.call('set', 'e', 1, 'EX', 100)\" 0\n\
         EVAL \"redis.call('select', 3); redis.call('set', 'x', 1)\" 0",
    ),
    (
        "scripts-set-repl",
        "EVAL \"redis.set_repl(redis.REPL_REPLICA); redis.call('set','a','1'); redis.call('set','b','2')\" 0\n\
         EVAL \"redis.call('set','c','1'); redis.set_repl(redis.REPL_NONE); redis.call('set','d','2')\" 0\n\
         EVAL \"redis.set_repl(redis.REPL_AOF); redis.call('set','e','1'); redis.call('incr','n')\" 0\n\
         EVAL \"redis.set_repl(redis.REPL_SLAVE); redis.call('set','f','1'); redis.set_repl(redis.REPL_ALL); redis.call('set','g','1')\" 0\n\
         EVAL \"redis.set_repl(redis.REPL_NONE); redis.call('select','4'); redis.call('set','h','1'); redis.set_repl(redis.REPL_ALL); redis.call('set','i','1')\" 0\n\
         EVAL \"redis.set_repl(1.7); redis.call('set','j','1')\" 0\nEVAL \"redis.set_repl('x'); redis.call('set','k','1')\" 0\n\
         EVAL \"redis.set_repl(-1); redis.call('set','l','1')\" 0\nEVAL \"redis.set_repl('3'); redis.call('set','m','1')\" 0\n\
         EVAL \"redis.set_repl(0); redis.call('set','x','1','EX','100'); redis.set_repl(3); redis.call('set','y','1','EX','100')\" 0\n\
         EVAL \"redis.set_repl(2); redis.call('incrbyfloat','f','1.5'); redis.set_repl(1); redis.call('incrbyfloat','f','1'); redis.call('del','nokey')\" 0\n\
         FUNCTION LOAD \"#!lua name=lib\\nredis.register_function('f', function(k) redis.set_repl(redis.REPL_NONE); redis.call('set', k[1], 1); redis.set_repl(redis.REPL_ALL); redis.call('set', 'z', 2) end)\"\n\
         FCALL f 1 w\nMULTI\nEVAL \"redis.set_repl(0); redis.call('set','q','1')\" 0\nSET r 1\nEXEC",
    ),
    // What a handler propagates of its own (SPOP's SREMs) ignores the script's flags, as in
    // Redis; the members drawn are random.
    (
        "scripts-set-repl-spop~",
        "EVAL \"redis.set_repl(0); redis.call('sadd','s','a','b','c'); redis.call('spop','s',2)\" 0\n\
         EVAL \"redis.set_repl(0); redis.call('sadd','t','a','b','c'); redis.call('spop','t',3)\" 0",
    ),
    (
        "lazy-expiry",
        "DEBUG SET-ACTIVE-EXPIRE 0\nSET a 1 PX 50\nSET b 1 PX 50\nSET c 1 PX 50\nSET d 1 PX 50\nSET e 1 PX 50\n\
         !sleep 120\nGET a\nSET b 2\nEXISTS c\nMULTI\nGET d\nSET x y\nEXEC\nDEL e\nDEBUG SET-ACTIVE-EXPIRE 1",
    ),
    (
        "lazy-expiry-script-set-repl",
        "DEBUG SET-ACTIVE-EXPIRE 0\nSET a 1 PX 50\nSET c 1 PX 50\n!sleep 120\n\
         EVAL \"redis.set_repl(0); redis.call('get','a'); redis.call('set','b','1')\" 0\n\
         EVAL \"redis.set_repl(2); redis.call('exists','c'); redis.set_repl(1); redis.call('set','d','1')\" 0\n\
         DEBUG SET-ACTIVE-EXPIRE 1",
    ),
    (
        "lazy-expiry-unlink",
        "CONFIG SET lazyfree-lazy-expire yes\nDEBUG SET-ACTIVE-EXPIRE 0\nSET a 1 PX 50\n!sleep 120\nGET a\n\
         DEBUG SET-ACTIVE-EXPIRE 1\nCONFIG SET lazyfree-lazy-expire no",
    ),
    ("active-expiry", "SET a 1 PX 30\n!sleep 400\nDBSIZE"),
    (
        "keys",
        "SET a 1\nRENAME a b\nRENAMENX b c\nRENAMENX c c\nSET d 1\nCOPY d e\nDEL d e nokey\nUNLINK c\n\
         SET t 1\nTOUCH t\nRESTORE r 0 \"\\x00\\x01v\\n\\x00\\x91\\b\\xce\\xb2\\x198\\x8a\\xce\"\n\
         RESTORE r2 100000 \"\\x00\\x01v\\n\\x00\\x91\\b\\xce\\xb2\\x198\\x8a\\xce\"\nRESTORE r3 1000 \"\\x00\\x01v\\n\\x00\\x91\\b\\xce\\xb2\\x198\\x8a\\xce\" ABSTTL\nRESTORE r REPLACE 0 \"\\x00\\x01v\\n\\x00\\x91\\b\\xce\\xb2\\x198\\x8a\\xce\"",
    ),
    (
        "flush",
        "FLUSHALL\nFLUSHDB\nSET a 1\nFLUSHDB\nFLUSHALL SYNC\nSELECT 2\nFLUSHDB ASYNC\nSELECT 0",
    ),
    (
        "streams",
        "XADD s 1-1 a 1\nXADD s * b 2\n!sleep 5\nXADD s MAXLEN 1 1-* c 3\nXTRIM s MAXLEN 0\nXADD s 5-* d 4\nXDEL s 5-0\nXDEL s 9-9",
    ),
    // Approximate trimming propagates as the exact trim it came to (`=`, the resulting
    // length or first ID); a trim that removed nothing propagates nothing.
    (
        "streams-approx-trim",
        "CONFIG SET stream-node-max-entries 4\nXADD s 1-1 a 1\nXADD s 2-1 a 1\nXADD s 3-1 a 1\n\
         XADD s 4-1 a 1\nXADD s 5-1 a 1\nXADD s 6-1 a 1\nXADD s 7-1 a 1\nXADD s 8-1 a 1\nXADD s 9-1 a 1\n\
         XADD s 10-1 a 1\nXADD s 11-1 a 1\nXADD s 12-1 a 1\nXADD s 13-1 a 1\nXADD s 14-1 a 1\n\
         XADD s MAXLEN ~ 9 15-1 a 1\nXTRIM s MAXLEN ~ 6\nXDEL s 9-1\nXTRIM s MINID ~ 11-0\n\
         XADD s MINID ~ 12 16-1 a 1\nXADD s MAXLEN ~ 1 LIMIT 4 17-1 a 1\nXTRIM s MAXLEN ~ 0 LIMIT 1\n\
         XTRIM s MAXLEN = 2\nXADD s MAXLEN ~ 100 * b 2\nXTRIM t MAXLEN ~ 0\n\
         CONFIG SET stream-node-max-entries 100",
    ),
    // Reads by a group propagate as their effects: XCLAIM ... FORCE JUSTID LASTID for each
    // delivery or claim (or entry gone), XGROUP SETID after NOACK reads, CREATECONSUMER for a
    // consumer a NOACK read creates; history reads and reads of nothing propagate nothing.
    (
        "stream-groups",
        "XADD s 1-1 a 1\nXADD s 2-1 b 2\nXADD s 3-1 c 3\nXGROUP CREATE s g 0\n\
         XREADGROUP GROUP g alice COUNT 2 STREAMS s >\nXREADGROUP GROUP g bob NOACK STREAMS s >\n\
         XREADGROUP GROUP g alice STREAMS s 0\nXREADGROUP GROUP g carol NOACK STREAMS s >\n\
         XADD s 4-1 d 4\nXREADGROUP GROUP g dave NOACK STREAMS s >\nXCLAIM s g bob 0 1-1 2\n\
         XCLAIM s g bob 0 1-1 JUSTID LASTID 9-9\nXCLAIM s g bob 0 5-5 LASTID 10-0\nXDEL s 2-1\n\
         XCLAIM s g carol 0 2-1\nXADD s 11-1 e 5\nXREADGROUP GROUP g fay STREAMS s >\n\
         XDEL s 11-1\nXAUTOCLAIM s g eve 0 0 COUNT 10\nXAUTOCLAIM s g eve 0 0 JUSTID\n\
         @2 > XREADGROUP GROUP g zed BLOCK 0 STREAMS s >\nXADD s 20-1 z 1\n\
         @3 > XREADGROUP GROUP g yan NOACK BLOCK 0 STREAMS s >\nXADD s 21-1 y 1",
    ),
    (
        "saves",
        "SET a 1\nSAVE\nSET b 2\nDEBUG RELOAD\nSET c 3\nBGSAVE\n!sleep 200\nSET d 4",
    ),
    ("geo", "GEOADD g 13.361389 38.115556 Palermo\nGEOADD g NX 15.087269 37.502669 Catania"),
    (
        "bitmaps-hll",
        "SETBIT b 7 1\nSETBIT b 7 1\nBITOP OR d b b\nPFADD h a b\nPFADD h a\nBITFIELD f SET u8 0 255\nBITFIELD f GET u8 0",
    ),
    (
        "sort-store",
        "RPUSH l 3 1 2\nSORT l STORE dst\nSORT l\nSORT nol STORE dst\nSORT nol STORE dst",
    ),
];

enum Step {
    Cmd {
        client: u32,
        argv: Vec<Vec<u8>>,
        no_wait: bool,
    },
    Sleep(i64),
}

fn parse(script: &str) -> Vec<Step> {
    let mut out = Vec::new();
    for line in script.lines() {
        let mut line = line.trim();
        if line.is_empty() {
            continue;
        }
        if let Some(ms) = line.strip_prefix("!sleep ") {
            out.push(Step::Sleep(ms.trim().parse().expect("sleep ms")));
            continue;
        }
        let mut client = 1;
        if let Some(rest) = line.strip_prefix('@') {
            let (n, rest) = rest.split_once(' ').expect("@N command");
            client = n.parse().expect("client number");
            line = rest.trim();
        }
        let mut no_wait = false;
        if let Some(rest) = line.strip_prefix("> ") {
            no_wait = true;
            line = rest;
        }
        let argv = split_args(line.as_bytes()).expect("a command line");
        out.push(Step::Cmd {
            client,
            argv,
            no_wait,
        });
    }
    out
}

/// The engine's side: one engine for every case, recording what it propagates.
struct Side {
    engine: Engine,
    clients: BTreeMap<u32, ClientId>,
    encoder: StreamEncoder,
    offset_ms: i64,
}

impl Side {
    fn now(&self) -> i64 {
        now_ms() + self.offset_ms
    }

    fn run(&mut self, steps: &[Step]) -> Vec<u8> {
        for step in steps {
            match step {
                Step::Sleep(ms) => {
                    std::thread::sleep(std::time::Duration::from_millis(*ms as u64));
                    let now = self.now();
                    self.engine.tick(now);
                }
                Step::Cmd { client, argv, .. } => {
                    let now = self.now();
                    let engine = &mut self.engine;
                    let id = *self
                        .clients
                        .entry(*client)
                        .or_insert_with(|| engine.open_client(now));
                    engine.execute(id, argv, now);
                }
            }
        }
        let mut out = Vec::new();
        for p in self.engine.take_propagated() {
            if p.targets & TO_AOF != 0 {
                self.encoder.encode(&p, &mut out);
            }
        }
        out
    }
}

/// Real Redis's side: connections and the AOF file's growth.
struct Reference {
    conns: BTreeMap<u32, Conn>,
    port: u16,
    aof: PathBuf,
    read: usize,
}

impl Reference {
    fn run(&mut self, steps: &[Step]) -> Vec<u8> {
        let mut waiting: Vec<u32> = Vec::new();
        for step in steps {
            match step {
                Step::Sleep(ms) => std::thread::sleep(std::time::Duration::from_millis(*ms as u64)),
                Step::Cmd {
                    client,
                    argv,
                    no_wait,
                } => {
                    let port = self.port;
                    let conn = self
                        .conns
                        .entry(*client)
                        .or_insert_with(|| Conn::connect(port).expect("connect"));
                    if *no_wait {
                        conn.call_n(argv, 0).expect("send");
                        waiting.push(*client);
                        // Let the server see the command before the next client's.
                        std::thread::sleep(std::time::Duration::from_millis(20));
                    } else {
                        conn.call(argv).expect("reply");
                    }
                }
            }
        }
        for c in waiting {
            if let Some(conn) = self.conns.get_mut(&c) {
                conn.read_reply().expect("served reply");
            }
        }
        let bytes = std::fs::read(&self.aof).unwrap_or_default();
        let new = bytes.get(self.read..).unwrap_or_default().to_vec();
        self.read = bytes.len();
        new
    }
}

/// The stream as text, one command a line.
fn normalize(stream: &[u8]) -> Vec<String> {
    let mut lines = Vec::new();
    let mut rest = stream;
    while let Some((reply, used)) = redis_playground::protocol::resp::parse_reply(rest)
        .ok()
        .flatten()
    {
        rest = &rest[used..];
        let redis_playground::Reply::Array(items) = reply else {
            lines.push(format!("{reply:?}"));
            continue;
        };
        let words: Vec<String> = items
            .iter()
            .map(|i| match i {
                redis_playground::Reply::Bulk(b) => String::from_utf8_lossy(b).into_owned(),
                other => format!("{other:?}"),
            })
            .collect();
        lines.push(words.join(" "));
    }
    if !rest.is_empty() {
        lines.push(format!("<{} bytes not parsed>", rest.len()));
    }
    lines
}

/// Whether two words are equal, or both millisecond times (alone or as a stream ID's first
/// part) within two seconds of each other: the two servers' clocks are not the same.
fn same_word(a: &str, b: &str) -> bool {
    if a == b {
        return true;
    }
    let ms = |w: &str| -> Option<(i64, String)> {
        let (t, rest) = match w.split_once('-') {
            Some((t, r)) => (t, format!("-{r}")),
            None => (w, String::new()),
        };
        let n = t.parse::<i64>().ok()?;
        (n > 1_000_000_000_000).then_some((n, rest))
    };
    match (ms(a), ms(b)) {
        (Some((x, rx)), Some((y, ry))) => rx == ry && (x - y).abs() < 2000,
        _ => false,
    }
}

fn same_stream(want: &[String], got: &[String]) -> bool {
    want.len() == got.len()
        && want.iter().zip(got).all(|(w, g)| {
            let (w, g): (Vec<&str>, Vec<&str>) = (w.split(' ').collect(), g.split(' ').collect());
            w.len() == g.len() && w.iter().zip(&g).all(|(a, b)| same_word(a, b))
        })
}

#[test]
fn propagation_matches_real_redis() {
    let dir = common::scratch_dir("propagation");
    let dir_s = dir.to_str().expect("utf-8 path").to_string();
    let Some(server) = RedisServer::start_with(&[
        "--appendonly",
        "yes",
        "--appendfsync",
        "always",
        "--dir",
        &dir_s,
        "--enable-debug-command",
        "yes",
    ]) else {
        assert!(
            std::env::var_os("REQUIRE_REDIS").is_none(),
            "REQUIRE_REDIS is set but no redis-server is installed"
        );
        eprintln!("propagation: no redis-server, skipped");
        return;
    };
    let aof = dir.join("appendonlydir").join("appendonly.aof.1.incr.aof");
    let mut reference = Reference {
        conns: BTreeMap::new(),
        port: server.port,
        aof,
        read: 0,
    };
    let mut engine = Engine::new(EngineOptions {
        now_ms: now_ms(),
        ..EngineOptions::default()
    });
    engine.config.set_at_startup("enable-debug-command", "yes");
    engine.persist.writer = Some(Box::new(|_: &[u8]| Ok(())));
    engine.set_propagation(true);
    let mut side = Side {
        engine,
        clients: BTreeMap::new(),
        encoder: StreamEncoder::default(),
        offset_ms: 0,
    };
    let only = std::env::var("PROP_ONLY").ok();
    let mut failures = Vec::new();
    let mut compared = 0;
    for (name, script) in CASES {
        if only.as_deref().is_some_and(|o| o != *name) {
            continue;
        }
        // Each case starts from empty databases, client 1 in database 0 (what this setup
        // propagates is not compared).
        let setup = parse("SELECT 0\nFLUSHALL");
        reference.run(&setup);
        side.run(&setup);
        let steps = parse(script);
        let want = reference.run(&steps);
        let got = side.run(&steps);
        compared += 1;
        let (w, g) = (normalize(&want), normalize(&got));
        if std::env::var_os("PROP_SHOW").is_some() {
            eprintln!(
                "case {name}:\n  redis : {}\n  engine: {}",
                w.join(" | "),
                g.join(" | ")
            );
        }
        let (w, g) = if name.ends_with('~') {
            let head = |l: &String| l.split(' ').take(2).collect::<Vec<_>>().join(" ");
            (w.iter().map(head).collect(), g.iter().map(head).collect())
        } else {
            (w, g)
        };
        if !same_stream(&w, &g) {
            failures.push(format!(
                "case {name}:\n  redis : {}\n  engine: {}",
                w.join(" | "),
                g.join(" | ")
            ));
        }
    }
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
    eprintln!(
        "propagation: {compared} cases, {} differences",
        failures.len()
    );
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}
