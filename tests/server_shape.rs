//! The parts of INFO and CONFIG GET whose values differ between servers but whose shape must
//! not: every INFO section lists the same fields in the same order as redis-server 7.0, and
//! `CONFIG GET *` knows the same parameter names. Needs redis-server on PATH.

mod common;

use common::{Conn, RedisServer};
use redis_playground::protocol::resp::parse_reply;
use redis_playground::protocol::Reply;
use redis_playground::{Engine, EngineOptions};

fn call_redis(conn: &mut Conn, args: &[&str]) -> Reply {
    let argv: Vec<Vec<u8>> = args.iter().map(|a| a.as_bytes().to_vec()).collect();
    let raw = conn.call(&argv).expect("redis-server reply");
    parse_reply(&raw).ok().flatten().expect("parsable reply").0
}

fn call_engine(engine: &mut Engine, client: u64, args: &[&str]) -> Reply {
    let argv: Vec<Vec<u8>> = args.iter().map(|a| a.as_bytes().to_vec()).collect();
    engine.execute(client, &argv, 1_700_000_000_000).expect("a reply")
}

fn body(r: &Reply) -> String {
    match r {
        Reply::Bulk(b) | Reply::Verbatim(_, b) => String::from_utf8_lossy(b).into_owned(),
        other => panic!("INFO replied {:?}", other),
    }
}

/// `# Section` headers and field names, in order. Per-command and per-error lines are left
/// out: which commands ran differs between the two servers.
fn outline(info: &str) -> Vec<String> {
    info.split("\r\n")
        .filter(|l| !l.is_empty())
        .filter(|l| {
            !["cmdstat_", "errorstat_", "latency_percentiles_usec_", "db"]
                .iter()
                .any(|p| l.starts_with(p))
        })
        .map(|l| l.split(':').next().unwrap_or(l).to_string())
        .collect()
}

#[test]
fn info_sections_have_redis_fields() {
    let Some(server) = RedisServer::start() else {
        println!("server_shape: no redis-server on PATH, nothing to compare with");
        return;
    };
    let mut conn = Conn::connect(server.port).expect("connect");
    let mut engine = Engine::new(EngineOptions { now_ms: 1_700_000_000_000, ..Default::default() });
    let client = engine.open_client(1_700_000_000_000);
    let mut diffs = Vec::new();
    for args in [
        vec!["INFO"],
        vec!["INFO", "everything"],
        vec!["INFO", "all"],
        vec!["INFO", "default"],
        vec!["INFO", "server", "stats"],
        vec!["INFO", "memory"],
        vec!["INFO", "persistence"],
        vec!["INFO", "replication"],
    ] {
        let want = outline(&body(&call_redis(&mut conn, &args)));
        let got = outline(&body(&call_engine(&mut engine, client, &args)));
        assert!(want.len() > 1, "{}: redis-server printed no fields", args.join(" "));
        if want != got {
            let missing: Vec<_> = want.iter().filter(|f| !got.contains(f)).collect();
            let extra: Vec<_> = got.iter().filter(|f| !want.contains(f)).collect();
            diffs.push(format!(
                "{}: missing {:?}, extra {:?}, same set but other order: {}",
                args.join(" "),
                missing,
                extra,
                missing.is_empty() && extra.is_empty()
            ));
        }
    }
    assert!(diffs.is_empty(), "INFO fields differ:\n{}", diffs.join("\n"));
}

#[test]
fn config_get_knows_redis_parameters() {
    let Some(server) = RedisServer::start() else {
        println!("server_shape: no redis-server on PATH, nothing to compare with");
        return;
    };
    let mut conn = Conn::connect(server.port).expect("connect");
    let mut engine = Engine::new(EngineOptions::default());
    let client = engine.open_client(0);
    let names = |r: &Reply| -> Vec<String> {
        let mut v: Vec<String> = match r {
            Reply::Array(items) => items.iter().step_by(2).map(body_or_text).collect(),
            Reply::Map(pairs) => pairs.iter().map(|(k, _)| body_or_text(k)).collect(),
            other => panic!("CONFIG GET replied {:?}", other),
        };
        v.sort();
        v
    };
    let want = names(&call_redis(&mut conn, &["CONFIG", "GET", "*"]));
    let got = names(&call_engine(&mut engine, client, &["CONFIG", "GET", "*"]));
    assert!(want.len() > 100, "redis-server listed only {} parameters", want.len());
    let missing: Vec<_> = want.iter().filter(|n| !got.contains(n)).collect();
    let extra: Vec<_> = got.iter().filter(|n| !want.contains(n)).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "CONFIG GET * differs: missing {:?}, extra {:?}",
        missing,
        extra
    );
}

fn body_or_text(r: &Reply) -> String {
    match r {
        Reply::Bulk(b) => String::from_utf8_lossy(b).into_owned(),
        other => format!("{:?}", other),
    }
}

/// `field=value` pairs of a CLIENT INFO line.
fn client_fields(line: &str) -> Vec<(String, String)> {
    line.trim_end()
        .split(' ')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn client_info_has_redis_fields_and_state() {
    let Some(server) = RedisServer::start() else {
        println!("server_shape: no redis-server on PATH, nothing to compare with");
        return;
    };
    let mut conn = Conn::connect(server.port).expect("connect");
    let mut engine = Engine::new(EngineOptions { now_ms: 1_700_000_000_000, ..Default::default() });
    let client = engine.open_client(1_700_000_000_000);
    // RESP3 first: a subscribed RESP2 connection could not run CLIENT INFO.
    let setup: &[&[&str]] = &[
        &["HELLO", "3"],
        &["CLIENT", "SETNAME", "learner"],
        &["SELECT", "3"],
        &["CLIENT", "NO-EVICT", "on"],
        // One channel per call: each confirmation is a reply of its own.
        &["SUBSCRIBE", "a"],
        &["SUBSCRIBE", "b"],
        &["PSUBSCRIBE", "p*"],
    ];
    for args in setup {
        call_redis(&mut conn, args);
        call_engine(&mut engine, client, args);
    }
    let compare_now = |conn: &mut Conn, engine: &mut Engine, what: &str| {
        let want = client_fields(&body(&call_redis(conn, &["CLIENT", "INFO"])));
        let got = client_fields(&body(&call_engine(engine, client, &["CLIENT", "INFO"])));
        let names = |v: &[(String, String)]| v.iter().map(|(k, _)| k.clone()).collect::<Vec<_>>();
        assert_eq!(names(&want), names(&got), "{}: CLIENT INFO field names", what);
        for field in ["name", "flags", "db", "sub", "psub", "ssub", "multi", "cmd", "user", "redir", "resp"] {
            let w = want.iter().find(|(k, _)| k == field);
            let g = got.iter().find(|(k, _)| k == field);
            assert_eq!(w, g, "{}: CLIENT INFO {}", what, field);
        }
    };
    compare_now(&mut conn, &mut engine, "subscribed, RESP3");
    for args in [&["UNSUBSCRIBE", "a"][..], &["UNSUBSCRIBE", "b"], &["PUNSUBSCRIBE"], &["MULTI"]] {
        call_redis(&mut conn, args);
        call_engine(&mut engine, client, args);
    }
    call_redis(&mut conn, &["DISCARD"]);
    call_engine(&mut engine, client, &["DISCARD"]);
    compare_now(&mut conn, &mut engine, "after DISCARD");
}
