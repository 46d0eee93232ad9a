//! COMMAND INFO of every command in the table, compared with a real redis-server 7.0 field by
//! field: name, arity, flags, first/last/step, ACL categories, tips, key specifications and
//! subcommands (matched by name: Redis lists subcommands in hash order). Every mismatch is
//! printed with the command and the field it is in; the test fails if there is any.
//! Without redis-server on PATH the test has nothing to compare with and says so.

mod common;

use common::{Conn, RedisServer};
use redis_playground::commands;
use redis_playground::protocol::resp::parse_reply;
use redis_playground::protocol::Reply;
use redis_playground::{Engine, EngineOptions};

const FIELDS: [&str; 10] = [
    "name",
    "arity",
    "flags",
    "first key",
    "last key",
    "step",
    "acl categories",
    "tips",
    "key specs",
    "subcommands",
];

/// A reply as readable text (statuses and bulks bare, aggregates in brackets).
fn text(r: &Reply) -> String {
    match r {
        Reply::Status(s) | Reply::Error(s) => s.to_string(),
        Reply::Bulk(b) => String::from_utf8_lossy(b).into_owned(),
        Reply::Integer(n) => n.to_string(),
        Reply::Nil | Reply::NilArray => "nil".into(),
        Reply::Array(v) | Reply::Set(v) | Reply::Push(v) => {
            format!("[{}]", v.iter().map(text).collect::<Vec<_>>().join(" "))
        }
        Reply::Map(v) => format!(
            "{{{}}}",
            v.iter()
                .map(|(k, v)| format!("{}: {}", text(k), text(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        other => format!("{:?}", other),
    }
}

fn items(r: &Reply) -> &[Reply] {
    match r {
        Reply::Array(v) | Reply::Set(v) => v,
        _ => &[],
    }
}

/// Compares one 10-element description, recursing into subcommands.
/// Subcommands Redis has and the table lacks go to `missing`: not implementing one is not a
/// mismatch of the ones that are.
fn compare(
    name: &str,
    redis: &Reply,
    ours: &Reply,
    out: &mut Vec<String>,
    missing: &mut Vec<String>,
) {
    let (r, o) = (items(redis), items(ours));
    if r.len() != 10 || o.len() != 10 {
        out.push(format!(
            "{}: description: redis {} | ours {}",
            name,
            text(redis),
            text(ours)
        ));
        return;
    }
    for i in 0..10 {
        let kind = |x: &Reply| {
            if matches!(x, Reply::Set(_)) {
                "a set"
            } else {
                "an array"
            }
        };
        if i == 9 {
            // Compared one by one below; here only the aggregate type (RESP3 tells them apart).
            if kind(&r[9]) != kind(&o[9]) {
                out.push(format!(
                    "{}: subcommands: redis sends {} | ours {}",
                    name,
                    kind(&r[9]),
                    kind(&o[9])
                ));
            }
            continue;
        }
        if r[i] != o[i] {
            out.push(format!(
                "{}: {}: redis {} | ours {}",
                name,
                FIELDS[i],
                text(&r[i]),
                text(&o[i])
            ));
        }
    }
    let sub_name = |s: &Reply| items(s).first().map(text).unwrap_or_default();
    let mut rs: Vec<&Reply> = items(&r[9]).iter().collect();
    let mut os: Vec<&Reply> = items(&o[9]).iter().collect();
    rs.sort_by_key(|s| sub_name(s));
    os.sort_by_key(|s| sub_name(s));
    for s in &rs {
        let n = sub_name(s);
        match os.iter().find(|o| sub_name(o) == n) {
            Some(o) => compare(&n, s, o, out, missing),
            None => missing.push(n),
        }
    }
    for o in &os {
        let n = sub_name(o);
        if !rs.iter().any(|s| sub_name(s) == n) {
            out.push(format!(
                "{}: subcommands: ours has {} | redis does not",
                name, n
            ));
        }
    }
}

fn parse(bytes: &[u8]) -> Reply {
    match parse_reply(bytes) {
        Ok(Some((r, _))) => r,
        other => panic!(
            "unparsable reply {:?}: {:?}",
            String::from_utf8_lossy(bytes),
            other.err()
        ),
    }
}

#[test]
fn command_info_matches_redis() {
    let Some(server) = RedisServer::start() else {
        println!("command_info: no redis-server on PATH, nothing to compare with");
        return;
    };
    let mut conn = Conn::connect(server.port).expect("connect to redis-server");
    let mut engine = Engine::new(EngineOptions::default());
    let client = engine.open_client(0);
    let mut mismatches = Vec::new();
    let mut missing = Vec::new();
    let names: Vec<&str> = commands::all().iter().map(|c| c.name).collect();
    // RESP2 first, then RESP3, where sets and arrays are told apart.
    for proto in ["2", "3"] {
        let hello = vec![b"HELLO".to_vec(), proto.as_bytes().to_vec()];
        conn.call(&hello).expect("HELLO on redis-server");
        engine.execute(client, &hello, 0);
        for name in &names {
            let argv = vec![
                b"COMMAND".to_vec(),
                b"INFO".to_vec(),
                name.as_bytes().to_vec(),
            ];
            let redis = parse(&conn.call(&argv).expect("COMMAND INFO on redis-server"));
            let ours = engine.execute(client, &argv, 0).expect("a reply");
            let ours = parse(&ours.to_resp(engine.proto(client)));
            let (Some(r), Some(o)) = (items(&redis).first(), items(&ours).first()) else {
                mismatches.push(format!(
                    "{}: reply: redis {} | ours {}",
                    name,
                    text(&redis),
                    text(&ours)
                ));
                continue;
            };
            if matches!(r, Reply::Nil | Reply::NilArray) {
                mismatches.push(format!("{}: unknown to redis-server 7.0", name));
                continue;
            }
            let label = if proto == "2" {
                name.to_string()
            } else {
                format!("{} (RESP3)", name)
            };
            compare(&label, r, o, &mut mismatches, &mut missing);
        }
    }
    missing.sort();
    missing.dedup();
    if !missing.is_empty() {
        println!(
            "command_info: subcommands not implemented here: {}",
            missing.join(" ")
        );
    }
    println!(
        "command_info: {} commands compared, {} mismatches",
        names.len(),
        mismatches.len()
    );
    for m in &mismatches {
        println!("  {}", m);
    }
    assert!(
        mismatches.is_empty(),
        "COMMAND INFO differs from redis-server:\n{}",
        mismatches.join("\n")
    );
}

/// The value under `key` in a RESP3 map.
fn field<'a>(map: &'a Reply, key: &str) -> Option<&'a Reply> {
    match map {
        Reply::Map(pairs) => pairs.iter().find(|(k, _)| text(k) == key).map(|(_, v)| v),
        _ => None,
    }
}

/// Compares the `arguments` of one COMMAND DOCS entry and of its subcommands (matched by name),
/// counting entries that match exactly and describing the ones that do not.
fn compare_docs(name: &str, redis: &Reply, ours: &Reply, same: &mut usize, out: &mut Vec<String>) {
    let (r, o) = (field(redis, "arguments"), field(ours, "arguments"));
    if r == o {
        *same += 1;
    } else {
        out.push(format!(
            "{}: arguments:\n    redis {}\n    ours  {}",
            name,
            r.map(text).unwrap_or_default(),
            o.map(text).unwrap_or_default()
        ));
    }
    if let Some(Reply::Map(subs)) = field(redis, "subcommands") {
        for (sub, doc) in subs {
            let n = text(sub);
            if let Some(o) = field(ours, "subcommands").and_then(|m| field(m, &n)) {
                compare_docs(&n, doc, o, same, out);
            }
        }
    }
}

#[test]
fn command_docs_arguments_match_redis() {
    let Some(server) = RedisServer::start() else {
        println!("command_docs: no redis-server on PATH, nothing to compare with");
        return;
    };
    let mut conn = Conn::connect(server.port).expect("connect to redis-server");
    let mut engine = Engine::new(EngineOptions::default());
    let client = engine.open_client(0);
    let hello = vec![b"HELLO".to_vec(), b"3".to_vec()];
    conn.call(&hello).expect("HELLO on redis-server");
    engine.execute(client, &hello, 0);
    let (mut same, mut mismatches) = (0, Vec::new());
    for c in commands::all() {
        let argv = vec![
            b"COMMAND".to_vec(),
            b"DOCS".to_vec(),
            c.name.as_bytes().to_vec(),
        ];
        let redis = parse(&conn.call(&argv).expect("COMMAND DOCS on redis-server"));
        let ours = engine.execute(client, &argv, 0).expect("a reply");
        let ours = parse(&ours.to_resp(engine.proto(client)));
        match (field(&redis, c.name), field(&ours, c.name)) {
            (Some(r), Some(o)) => compare_docs(c.name, r, o, &mut same, &mut mismatches),
            _ => mismatches.push(format!("{}: missing from a COMMAND DOCS reply", c.name)),
        }
    }
    println!(
        "command_docs: {} entries with the same arguments as redis-server, {} differ",
        same,
        mismatches.len()
    );
    assert!(
        mismatches.is_empty(),
        "COMMAND DOCS arguments differ from redis-server:\n{}",
        mismatches.join("\n")
    );
}
