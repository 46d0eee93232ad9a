//! The JS boundary of the wasm build, as the page sees it: `execute` returns `{ text, reply }`,
//! snapshots round-trip, a corrupt snapshot is refused with a message and the data kept.
//! Run with `cargo test --target wasm32-unknown-unknown --test wasm` (under Node).
#![cfg(target_arch = "wasm32")]

use js_sys::{Object, Reflect};
use redis_playground::WasmPlayground as Playground;
use wasm_bindgen::prelude::*;
use wasm_bindgen_test::wasm_bindgen_test;

fn get(v: &JsValue, name: &str) -> JsValue {
    Reflect::get(v, &JsValue::from_str(name)).expect("property readable")
}

fn text(v: &JsValue) -> String {
    get(v, "text").as_string().expect("text is a string")
}

fn options(databases: u32) -> JsValue {
    let o = Object::new();
    Reflect::set(&o, &"databases".into(), &JsValue::from(databases)).expect("set option");
    Reflect::set(&o, &"seed".into(), &JsValue::from(7)).expect("set option");
    o.into()
}

#[wasm_bindgen_test]
fn execute_returns_text_and_reply() {
    let mut pg = Playground::new(options(16)).expect("valid options");
    let c = pg.open_client();
    let out = pg.execute(c, "PING");
    assert_eq!(text(&out), "PONG\n");
    let reply = get(&out, "reply");
    assert_eq!(get(&reply, "type").as_string().as_deref(), Some("status"));
    assert_eq!(get(&reply, "value").as_string().as_deref(), Some("PONG"));

    let out = pg.execute(c, "ECHO \"a\\nb\"");
    assert_eq!(text(&out), "\"a\\nb\"\n");
    assert_eq!(
        get(&get(&out, "reply"), "value").as_string().as_deref(),
        Some("a\nb")
    );

    let out = pg.execute(c, "NOSUCH x");
    assert_eq!(
        get(&get(&out, "reply"), "type").as_string().as_deref(),
        Some("error")
    );
    assert!(text(&out).starts_with("(error) ERR unknown command 'NOSUCH'"));

    // A blank line runs nothing: empty text and a null reply.
    let out = pg.execute(c, "   ");
    assert_eq!(text(&out), "");
    assert!(get(&out, "reply").is_null());

    let out = pg.execute(c, "SELECT 3");
    assert_eq!(text(&out), "OK\n");
    assert_eq!(pg.prompt(c), "127.0.0.1:6379[3]> ");
}

#[wasm_bindgen_test]
fn execute_args_and_integer_replies() {
    let mut pg = Playground::new(options(16)).expect("valid options");
    let c = pg.open_client();
    let out = pg.execute_args(c, vec!["SET".into(), "n".into(), "41".into()]);
    assert_eq!(text(&out), "OK\n");
    let out = pg.execute_args(c, vec!["INCR".into(), "n".into()]);
    assert_eq!(text(&out), "(integer) 42\n");
    let reply = get(&out, "reply");
    assert_eq!(get(&reply, "type").as_string().as_deref(), Some("integer"));
    assert_eq!(get(&reply, "value").as_f64(), Some(42.0));
    let out = pg.execute_args(c, vec!["GET".into(), "missing".into()]);
    assert_eq!(text(&out), "(nil)\n");
    assert_eq!(
        get(&get(&out, "reply"), "type").as_string().as_deref(),
        Some("nil")
    );
}

#[wasm_bindgen_test]
fn writes_count_as_dirty_until_saved() {
    let mut pg = Playground::new(options(16)).expect("valid options");
    let c = pg.open_client();
    assert_eq!(pg.dirty(), 0.0);
    pg.execute(c, "SET a 1");
    pg.execute(c, "SET b 2");
    assert_eq!(pg.dirty(), 2.0);
    // Only the changes the snapshot held are forgotten.
    pg.mark_saved(Some(1.0));
    assert_eq!(pg.dirty(), 1.0);
    pg.mark_saved(None);
    assert_eq!(pg.dirty(), 0.0);
}

#[wasm_bindgen_test]
fn snapshot_restore_round_trip() {
    let mut pg = Playground::new(options(16)).expect("valid options");
    let c = pg.open_client();
    pg.execute(c, "SET greeting \"hello world\"");
    pg.execute(c, "SELECT 2");
    pg.execute(c, "SET bin \"\\x00\\xff\"");
    let bytes = pg.snapshot();
    assert_eq!(&bytes[..5], b"REDIS");

    let mut other = Playground::new(options(16)).expect("valid options");
    other.restore(&bytes).expect("a snapshot of ours restores");
    assert_eq!(other.key_counts()[0], 1);
    assert_eq!(other.key_counts()[2], 1);
    let d = other.open_client();
    assert_eq!(text(&other.execute(d, "GET greeting")), "\"hello world\"\n");
    other.execute(d, "SELECT 2");
    assert_eq!(text(&other.execute(d, "GET bin")), "\"\\x00\\xff\"\n");
    assert_eq!(other.dirty(), 0.0);
}

#[wasm_bindgen_test]
fn corrupt_restore_throws_and_keeps_data() {
    let mut pg = Playground::new(options(16)).expect("valid options");
    let c = pg.open_client();
    pg.execute(c, "SET keep me");
    let mut bytes = pg.snapshot();
    let last = bytes.len() - 1;
    bytes[last] ^= 0x55; // the CRC-64 no longer matches

    for bad in [
        bytes.as_slice(),
        b"not an rdb file".as_slice(),
        b"".as_slice(),
    ] {
        let err = pg.restore(bad).expect_err("a corrupt snapshot is refused");
        let err: js_sys::Error = JsValue::from(err).unchecked_into();
        let message = String::from(err.message());
        assert!(!message.is_empty(), "the error says why");
    }
    assert_eq!(text(&pg.execute(c, "GET keep")), "\"me\"\n");
    assert_eq!(pg.key_counts()[0], 1);
}

#[wasm_bindgen_test]
fn drain_hints_complete_help() {
    let mut pg = Playground::new(options(16)).expect("valid options");
    let a = pg.open_client();
    let b = pg.open_client();
    pg.execute(a, "SUBSCRIBE news");
    assert_eq!(text(&pg.execute(b, "PUBLISH news hi")), "(integer) 1\n");
    let msgs: js_sys::Array = pg.drain(a).unchecked_into();
    assert_eq!(msgs.length(), 1);
    let msg = msgs.get(0);
    // A pub/sub message is a push (printed by redis-cli as an array under RESP2).
    assert_eq!(
        get(&get(&msg, "reply"), "type").as_string().as_deref(),
        Some("push")
    );
    assert_eq!(text(&msg), "1) \"message\"\n2) \"news\"\n3) \"hi\"\n");
    assert_eq!(js_sys::Array::from(&pg.drain(a)).length(), 0);

    assert!(pg.hints("SET ").is_some());
    assert!(pg.complete("pi").contains(&"PING".to_string()));
    assert!(pg.help("get").is_some_and(|h| h.contains("GET key")));
    assert!(pg.help("nosuch").is_none());
}

#[wasm_bindgen_test]
fn blocked_clients_are_reported_and_can_be_released() {
    let mut pg = Playground::new(options(16)).expect("valid options");
    let a = pg.open_client();
    let b = pg.open_client();
    let out = pg.execute(a, "BLPOP queue 0");
    assert_eq!(text(&out), "");
    assert!(get(&out, "reply").is_null());
    assert!(pg.is_blocked(a));
    assert_eq!(text(&pg.execute(b, "RPUSH queue job")), "(integer) 1\n");
    assert!(!pg.is_blocked(a));
    let msgs = js_sys::Array::from(&pg.drain(a));
    assert_eq!(msgs.length(), 1);
    assert_eq!(text(&msgs.get(0)), "1) \"queue\"\n2) \"job\"\n");

    pg.execute(a, "BLPOP queue 0");
    assert!(pg.unblock(a));
    assert!(!pg.unblock(a));
    let msgs = js_sys::Array::from(&pg.drain(a));
    assert_eq!(text(&msgs.get(0)), "(nil)\n");
}

#[wasm_bindgen_test]
fn command_metadata_in_one_call() {
    let pg = Playground::new(options(16)).expect("valid options");
    let all = pg.commands();
    assert!(all.length() > 200);
    let get_cmd = all
        .iter()
        .find(|m| get(m, "name").as_string().as_deref() == Some("GET"))
        .expect("GET is listed");
    assert_eq!(
        get(&get_cmd, "group").as_string().as_deref(),
        Some("string")
    );
    assert_eq!(get(&get_cmd, "syntax").as_string().as_deref(), Some("key"));
    let help = pg.help("@string").expect("a group's help");
    assert!(help.contains("\n  GET key\n"));
}

#[wasm_bindgen_test]
fn describe_keys_answers_what_the_commands_would_without_touching_keys() {
    let mut pg = Playground::new(options(16)).expect("valid options");
    let c = pg.open_client();
    for line in [
        "RPUSH bikes:repairs a b c",
        "HSET bike:1 model Deimos",
        "SET session:1 x PX 60000",
        "SET gone y PX 1",
        "SELECT 2",
        "SET elsewhere 1",
        "SELECT 0",
    ] {
        pg.execute(c, line);
    }
    let hits = |info: &str| {
        info.lines()
            .find(|l| l.starts_with("keyspace_hits:"))
            .map(str::to_string)
    };
    // Wait for the PX 1 key to be past its time (the clock is the real one).
    let start = js_sys::Date::now();
    while js_sys::Date::now() - start < 5.0 {}
    let rows: Vec<Vec<JsValue>> = pg
        .describe_keys(0, "*", "", 100)
        .iter()
        .map(|r| js_sys::Array::from(&r).iter().collect())
        .collect();
    let mut names: Vec<String> = rows.iter().map(|r| r[0].as_string().unwrap()).collect();
    names.sort();
    assert_eq!(names, ["bike:1", "bikes:repairs", "session:1"]);
    for r in &rows {
        let name = r[0].as_string().unwrap();
        let typ = text(&pg.execute(c, &format!("TYPE {name}")));
        assert_eq!(format!("{}\n", r[1].as_string().unwrap()), typ);
        let enc = text(&pg.execute(c, &format!("OBJECT ENCODING {name}")));
        assert_eq!(format!("\"{}\"\n", r[3].as_string().unwrap()), enc);
        let size = text(&pg.execute(c, &format!("MEMORY USAGE {name}")));
        assert_eq!(format!("(integer) {}\n", r[4].as_f64().unwrap()), size);
        let pttl = r[2].as_f64().unwrap();
        if name == "session:1" {
            assert!(pttl > 0.0 && pttl <= 60000.0, "{pttl}");
        } else {
            assert_eq!(pttl, -1.0);
        }
    }
    // Filters: a pattern and a type; another db.
    assert_eq!(pg.describe_keys(0, "bike*", "hash", 100).length(), 1);
    assert_eq!(pg.describe_keys(0, "*", "", 2).length(), 2);
    assert_eq!(pg.describe_keys(2, "*", "", 100).length(), 1);
    assert_eq!(pg.describe_keys(99, "*", "", 100).length(), 0);
    // Reading keys this way counts no keyspace hit (commands would).
    let mut pg2 = Playground::new(options(16)).expect("valid options");
    let c2 = pg2.open_client();
    pg2.execute(c2, "SET k v");
    let h0 = hits(&text(&pg2.execute(c2, "INFO stats")));
    pg2.describe_keys(0, "*", "", 100);
    assert_eq!(hits(&text(&pg2.execute(c2, "INFO stats"))), h0);
}

fn args(items: &[JsValue]) -> js_sys::Array {
    items.iter().collect()
}

fn s(v: &str) -> JsValue {
    JsValue::from_str(v)
}

/// The program API: plain JS values back, errors thrown, binary arguments and replies kept
/// byte for byte, RESP3 shapes, a batch in one crossing, and raw RESP.
#[wasm_bindgen_test]
fn call_returns_plain_values() {
    let mut pg = Playground::new(options(16)).expect("valid options");
    let c = pg.open_client();
    assert_eq!(
        pg.call(c, &args(&[s("SET"), s("k"), JsValue::from_f64(1.5)]))
            .expect("no error")
            .as_string()
            .as_deref(),
        Some("OK")
    );
    assert_eq!(
        pg.call(c, &args(&[s("GET"), s("k")]))
            .expect("ok")
            .as_string()
            .as_deref(),
        Some("1.5")
    );
    assert_eq!(
        pg.call(c, &args(&[s("INCRBY"), s("n"), JsValue::from_f64(41.0)]))
            .expect("ok")
            .as_f64(),
        Some(41.0)
    );
    assert!(pg
        .call(c, &args(&[s("GET"), s("nope")]))
        .expect("ok")
        .is_null());
    let err = pg
        .call(c, &args(&[s("INCR"), s("k")]))
        .expect_err("an error reply");
    let msg = js_sys::Error::from(err).message();
    assert_eq!(
        String::from(msg),
        "ERR value is not an integer or out of range"
    );

    // Binary safe both ways.
    let bytes = js_sys::Uint8Array::from(&[0u8, 255, 13, 10][..]);
    pg.call(c, &args(&[s("SET"), s("bin"), bytes.into()]))
        .expect("ok");
    let back = pg
        .call_buffer(c, &args(&[s("GET"), s("bin")]))
        .expect("ok")
        .dyn_into::<js_sys::Uint8Array>()
        .expect("a Uint8Array");
    assert_eq!(back.to_vec(), vec![0u8, 255, 13, 10]);

    // Arrays, and a map as RESP2 flattens it and as RESP3 keeps it.
    pg.call(c, &args(&[s("HSET"), s("h"), s("f"), s("v")]))
        .expect("ok");
    let flat: js_sys::Array = pg
        .call(c, &args(&[s("HGETALL"), s("h")]))
        .expect("ok")
        .dyn_into()
        .expect("an array");
    assert_eq!(flat.length(), 2);
    pg.call(c, &args(&[s("HELLO"), s("3")])).expect("ok");
    let map: js_sys::Map = pg
        .call(c, &args(&[s("HGETALL"), s("h")]))
        .expect("ok")
        .dyn_into()
        .expect("a Map");
    assert_eq!(map.get(&s("f")).as_string().as_deref(), Some("v"));

    // A batch: values in order, an error in its place.
    let cmds: js_sys::Array = [
        args(&[s("SET"), s("a"), s("1")]),
        args(&[s("LPUSH"), s("a"), s("x")]),
        args(&[s("GET"), s("a")]),
    ]
    .iter()
    .collect();
    let out = pg.batch(c, &cmds).expect("a batch");
    assert_eq!(out.get(0).as_string().as_deref(), Some("OK"));
    assert!(out.get(1).is_instance_of::<js_sys::Error>());
    assert_eq!(out.get(2).as_string().as_deref(), Some("1"));
    // The same with bulk strings as bytes.
    let out = pg.batch_buffer(c, &cmds).expect("a batch");
    assert_eq!(out.get(0).as_string().as_deref(), Some("OK"));
    assert!(out.get(1).is_instance_of::<js_sys::Error>());
    let bytes: js_sys::Uint8Array = out.get(2).dyn_into().expect("bytes");
    assert_eq!(bytes.to_vec(), b"1");

    // Raw RESP in the client's protocol (RESP3 now).
    let resp = pg.call_resp(c, &args(&[s("GET"), s("a")])).expect("ok");
    assert_eq!(resp, b"$1\r\n1\r\n");
    let bad = pg.call(c, &args(&[JsValue::TRUE]));
    assert!(bad.is_err(), "a boolean argument is refused");
    assert!(pg.bench_loop(100) > 0.0);
}

fn options_on_port(port: JsValue) -> JsValue {
    let o = options(16);
    Reflect::set(&o, &"port".into(), &port).expect("set option");
    o
}

#[wasm_bindgen_test]
fn several_servers_each_with_its_own_port_and_data() {
    let mut first = Playground::new(options(16)).expect("valid options");
    let mut second = Playground::new(options_on_port(6380.into())).expect("valid options");
    assert_eq!(first.port(), 6379);
    assert_eq!(first.address(), "127.0.0.1:6379");
    assert_eq!(second.port(), 6380);
    assert_eq!(second.address(), "127.0.0.1:6380");

    let a = first.open_client();
    let b = second.open_client();
    assert_eq!(second.prompt(b), "127.0.0.1:6380> ");
    second.execute(b, "SELECT 2");
    assert_eq!(second.prompt(b), "127.0.0.1:6380[2]> ");
    second.execute(b, "SELECT 0");

    // Each server answers with its own port, as two redis-server processes would.
    assert_eq!(
        text(&second.execute(b, "CONFIG GET port")),
        "1) \"port\"\n2) \"6380\"\n"
    );
    assert_eq!(
        text(&first.execute(a, "CONFIG GET port")),
        "1) \"port\"\n2) \"6379\"\n"
    );
    assert!(text(&second.execute(b, "INFO server")).contains("tcp_port:6380\n"));
    assert!(text(&second.execute(b, "CLIENT LIST")).contains(" laddr=127.0.0.1:6380 "));
    assert!(text(&first.execute(a, "CLIENT INFO")).contains(" laddr=127.0.0.1:6379 "));

    // And keeps its own data.
    assert_eq!(text(&second.execute(b, "SET only:here 1")), "OK\n");
    assert_eq!(text(&first.execute(a, "GET only:here")), "(nil)\n");
    assert_eq!(text(&second.execute(b, "GET only:here")), "\"1\"\n");
}

#[wasm_bindgen_test]
fn a_port_out_of_range_is_refused() {
    for bad in [
        JsValue::from(0),
        JsValue::from(65536),
        JsValue::from(6379.5),
        JsValue::from(-1),
        JsValue::from_str("6380"),
    ] {
        let err = Playground::new(options_on_port(bad))
            .err()
            .expect("refused");
        assert!(err.is_instance_of::<js_sys::RangeError>());
    }
    let pg = Playground::new(options_on_port(JsValue::UNDEFINED)).expect("default port");
    assert_eq!(pg.port(), 6379);
}

/// The packed path's edges: text that is not ASCII (both ways, a BOM kept), arguments larger
/// than the reused buffer, long replies of ASCII and of other text, BigInt arguments and
/// replies, errors inside arrays, RESP3 sets, and a batch whose bad command stops it before
/// any command runs.
#[wasm_bindgen_test]
fn call_packs_any_text_and_size() {
    let mut pg = Playground::new(options(16)).expect("valid options");
    let c = pg.open_client();
    let text = "\u{feff}héllo wörld ✓ 😀";
    pg.call(c, &args(&[s("SET"), s("t"), s(text)])).expect("ok");
    let back = pg.call(c, &args(&[s("GET"), s("t")])).expect("ok");
    assert_eq!(back.as_string().as_deref(), Some(text));
    assert_eq!(
        pg.call(c, &args(&[s("STRLEN"), s("t")]))
            .expect("ok")
            .as_f64(),
        Some(text.len() as f64)
    );

    // Larger than the buffer the arguments go through (it grows), and back.
    let big = "x".repeat(100_000) + "é";
    pg.call(c, &args(&[s("SET"), s("big"), s(&big)]))
        .expect("ok");
    let back = pg.call(c, &args(&[s("GET"), s("big")])).expect("ok");
    assert_eq!(back.as_string().as_deref(), Some(big.as_str()));

    // Many strings in one reply: all ASCII, then one that is not.
    let members: Vec<String> = (0..300).map(|i| format!("member:{i}")).collect();
    let mut push = vec![s("RPUSH"), s("l")];
    push.extend(members.iter().map(|m| s(m)));
    pg.call(c, &args(&push)).expect("ok");
    let list: js_sys::Array = pg
        .call(
            c,
            &args(&[
                s("LRANGE"),
                s("l"),
                JsValue::from_f64(0.0),
                JsValue::from_f64(-1.0),
            ]),
        )
        .expect("ok")
        .dyn_into()
        .expect("an array");
    assert_eq!(list.length(), 300);
    assert_eq!(list.get(299).as_string().as_deref(), Some("member:299"));
    pg.call(c, &args(&[s("RPUSH"), s("l"), s("ünï")]))
        .expect("ok");
    let list: js_sys::Array = pg
        .call(
            c,
            &args(&[
                s("LRANGE"),
                s("l"),
                JsValue::from_f64(-2.0),
                JsValue::from_f64(-1.0),
            ]),
        )
        .expect("ok")
        .dyn_into()
        .expect("an array");
    assert_eq!(list.get(0).as_string().as_deref(), Some("member:299"));
    assert_eq!(list.get(1).as_string().as_deref(), Some("ünï"));

    // Invalid UTF-8 reads as U+FFFD in strings, byte for byte in buffers.
    let bad = js_sys::Uint8Array::from(&[b'a', 0xff, b'b'][..]);
    pg.call(c, &args(&[s("SET"), s("bad"), bad.into()]))
        .expect("ok");
    let lossy = pg.call(c, &args(&[s("GET"), s("bad")])).expect("ok");
    assert_eq!(lossy.as_string().as_deref(), Some("a\u{fffd}b"));

    // BigInt arguments, and integers beyond 2^53 as BigInts.
    let n = js_sys::BigInt::from(9_007_199_254_740_993i64);
    pg.call(c, &args(&[s("SET"), s("n"), n.into()]))
        .expect("ok");
    let incr = pg.call(c, &args(&[s("INCR"), s("n")])).expect("ok");
    assert!(incr.is_bigint());
    assert_eq!(
        js_sys::BigInt::from(incr)
            .to_string(10)
            .ok()
            .map(String::from)
            .as_deref(),
        Some("9007199254740994")
    );

    // An error inside an array is an Error object in its place.
    pg.call(c, &args(&[s("MULTI")])).expect("ok");
    pg.call(c, &args(&[s("INCR"), s("t")])).expect("queued");
    pg.call(c, &args(&[s("PING")])).expect("queued");
    let exec: js_sys::Array = pg
        .call(c, &args(&[s("EXEC")]))
        .expect("ok")
        .dyn_into()
        .expect("an array");
    assert!(exec.get(0).is_instance_of::<js_sys::Error>());
    assert_eq!(exec.get(1).as_string().as_deref(), Some("PONG"));

    // RESP3: a set as a Set, a double as a number.
    pg.call(c, &args(&[s("HELLO"), s("3")])).expect("ok");
    pg.call(c, &args(&[s("SADD"), s("s"), s("a"), s("b")]))
        .expect("ok");
    let set: js_sys::Set = pg
        .call(c, &args(&[s("SMEMBERS"), s("s")]))
        .expect("ok")
        .dyn_into()
        .expect("a Set");
    assert_eq!(set.size(), 2);
    let score = pg
        .call(c, &args(&[s("ZINCRBY"), s("z"), s("1.5"), s("m")]))
        .expect("ok");
    assert_eq!(score.as_f64(), Some(1.5));

    // A batch with a bad command runs none of its commands.
    let cmds: js_sys::Array = [
        args(&[s("SET"), s("never"), s("1")]),
        args(&[s("SET"), s("k"), JsValue::NULL]),
    ]
    .iter()
    .collect();
    assert!(pg.batch(c, &cmds).is_err());
    assert!(pg
        .call(c, &args(&[s("GET"), s("never")]))
        .expect("ok")
        .is_null());
}

/// `pg.aof(limit)`: null until `appendonly yes`, then the manifest and the files, the
/// incremental one as Redis appends it, whichever call ran the command (`execute`,
/// `executeArgs`).
#[wasm_bindgen_test]
fn aof_shows_the_log_once_appendonly_is_on() {
    let mut pg = Playground::new(options(16)).expect("valid options");
    let c = pg.open_client();
    assert!(pg.aof(None).is_null());
    pg.execute(c, "CONFIG SET appendonly yes");
    pg.execute(c, "SET k v");
    pg.execute_args(c, vec!["RPUSH".into(), "l".into(), "a".into()]);
    let view = pg.aof(None);
    assert_eq!(get(&view, "enabled").as_bool(), Some(true));
    assert_eq!(
        get(&view, "manifest").as_string().as_deref(),
        Some("file appendonly.aof.1.base.rdb seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n")
    );
    let files = js_sys::Array::from(&get(&view, "files"));
    assert_eq!(files.length(), 2);
    assert_eq!(get(&files.get(0), "rdb").as_bool(), Some(true));
    let incr = files.get(1);
    assert_eq!(get(&incr, "type").as_string().as_deref(), Some("incr"));
    let entries = js_sys::Array::from(&get(&incr, "entries"));
    let commands: Vec<String> = entries
        .iter()
        .map(|e| get(&e, "command").as_string().expect("a string"))
        .collect();
    assert_eq!(
        commands,
        [
            "\"SELECT\" \"0\"",
            "\"SET\" \"k\" \"v\"",
            "\"RPUSH\" \"l\" \"a\""
        ]
    );
    let resp = js_sys::Array::from(&get(&entries.get(1), "resp"));
    assert_eq!(resp.length(), 7);
    assert_eq!(resp.get(0).as_string().as_deref(), Some("*3"));
    // A limit shows the last commands that fit, and says how much is left out.
    let view = pg.aof(Some(29));
    let incr = js_sys::Array::from(&get(&view, "files")).get(1);
    assert_eq!(js_sys::Array::from(&get(&incr, "entries")).length(), 1);
    assert_eq!(get(&incr, "omitted").as_f64(), Some(50.0));
}
