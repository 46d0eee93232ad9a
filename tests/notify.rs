//! Keyspace notifications at the engine level, on a virtual clock: the orders a live Redis
//! cannot show deterministically (lazy expiry racing the active cycle), and the quiet path
//! when notifications are off.

use redis_playground::{Engine, EngineOptions, Reply};

fn argv(words: &[&str]) -> Vec<Vec<u8>> {
    words.iter().map(|w| w.as_bytes().to_vec()).collect()
}

/// A subscriber on `__key*__:*` and a client that runs commands.
fn setup(flags: &str) -> (Engine, u64, u64) {
    let mut eng = Engine::new(EngineOptions::default());
    let (cmd, sub) = (eng.open_client(0), eng.open_client(0));
    eng.execute(sub, &argv(&["PSUBSCRIBE", "__key*__:*"]), 0);
    eng.execute(
        cmd,
        &argv(&["CONFIG", "SET", "notify-keyspace-events", flags]),
        0,
    );
    take(&mut eng, sub);
    (eng, cmd, sub)
}

/// The (channel, message) pairs waiting for `id`.
fn take(eng: &mut Engine, id: u64) -> Vec<(String, String)> {
    let msgs = eng
        .client_mut(id)
        .map(|c| std::mem::take(&mut c.outbox))
        .unwrap_or_default();
    msgs.into_iter()
        .filter_map(|m| match m {
            Reply::Push(parts) if parts.len() == 4 => {
                let text = |r: &Reply| match r {
                    Reply::Bulk(b) => String::from_utf8_lossy(b).into_owned(),
                    other => format!("{:?}", other),
                };
                Some((text(&parts[2]), text(&parts[3])))
            }
            _ => None,
        })
        .collect()
}

/// Just the keyevent channels' event names, in order.
fn events(msgs: &[(String, String)]) -> Vec<String> {
    msgs.iter()
        .filter_map(|(ch, _)| ch.strip_prefix("__keyevent@0__:").map(str::to_string))
        .collect()
}

#[test]
fn lazy_expiry_comes_before_the_commands_own_events() {
    let (mut eng, cmd, sub) = setup("KEAn");
    eng.execute(cmd, &argv(&["SET", "k", "v", "PX", "10"]), 0);
    assert_eq!(events(&take(&mut eng, sub)), ["new", "set", "expire"]);
    // No tick: the key is still stored, and the next write finds it expired.
    eng.execute(cmd, &argv(&["LPUSH", "k", "x"]), 100);
    assert_eq!(events(&take(&mut eng, sub)), ["expired", "new", "lpush"]);
}

#[test]
fn lazy_expiry_then_key_miss_on_a_read() {
    let (mut eng, cmd, sub) = setup("KEAm");
    eng.execute(cmd, &argv(&["SET", "k", "v", "PX", "10"]), 0);
    take(&mut eng, sub);
    assert_eq!(
        eng.execute(cmd, &argv(&["GET", "k"]), 100),
        Some(Reply::Nil)
    );
    let got = take(&mut eng, sub);
    assert_eq!(
        got,
        [
            ("__keyspace@0__:k".to_string(), "expired".to_string()),
            ("__keyevent@0__:expired".to_string(), "k".to_string()),
            ("__keyspace@0__:k".to_string(), "keymiss".to_string()),
            ("__keyevent@0__:keymiss".to_string(), "k".to_string()),
        ]
    );
}

#[test]
fn active_expiry_names_the_database() {
    let (mut eng, cmd, sub) = setup("Ex");
    eng.execute(cmd, &argv(&["SELECT", "3"]), 0);
    eng.execute(cmd, &argv(&["SET", "k", "v", "PX", "10"]), 0);
    assert!(take(&mut eng, sub).is_empty(), "only class x is on");
    eng.tick(50);
    assert_eq!(
        take(&mut eng, sub),
        [("__keyevent@3__:expired".to_string(), "k".to_string())]
    );
}

#[test]
fn nothing_is_logged_or_published_while_off() {
    let (mut eng, cmd, sub) = setup("");
    eng.execute(cmd, &argv(&["SET", "k", "v", "PX", "10"]), 0);
    eng.execute(cmd, &argv(&["RPUSH", "l", "a"]), 0);
    eng.execute(cmd, &argv(&["GET", "k"]), 100);
    eng.tick(200);
    assert!(take(&mut eng, sub).is_empty());
    assert!(eng
        .dbs
        .iter()
        .all(|d| d.events.is_empty() && !d.track_events));
}

#[test]
fn expiry_after_turning_off_is_silent() {
    let (mut eng, cmd, sub) = setup("KEA");
    eng.execute(cmd, &argv(&["SET", "k", "v", "PX", "10"]), 0);
    take(&mut eng, sub);
    // Notifications go off before the active cycle removes the key: Redis checks the flags
    // when an event happens, so nothing is published and nothing stays logged.
    eng.execute(
        cmd,
        &argv(&["CONFIG", "SET", "notify-keyspace-events", ""]),
        100,
    );
    eng.tick(100);
    assert!(take(&mut eng, sub).is_empty());
    assert!(eng.dbs.iter().all(|d| d.events.is_empty()));
}

#[test]
fn a_served_blocked_client_publishes_after_the_push() {
    let (mut eng, cmd, sub) = setup("KEAn");
    let waiter = eng.open_client(0);
    assert_eq!(
        eng.execute(
            waiter,
            &argv(&["BLMOVE", "q", "d", "LEFT", "RIGHT", "0"]),
            0
        ),
        None
    );
    eng.execute(cmd, &argv(&["RPUSH", "q", "a"]), 1);
    assert_eq!(
        events(&take(&mut eng, sub)),
        ["new", "rpush", "new", "rpush", "lpop", "del"]
    );
}

/// Random command lines over a few shared keys, with every class enabled, a RESP3 client
/// subscribed to its own events and a RESP2 subscriber: nothing panics, and every message
/// published is a well-formed keyspace/keyevent pair.
#[test]
fn random_writes_with_every_class_enabled() {
    use redis_playground::commands;
    // Data commands only: the ones that would change the test clients' own state are left out.
    const SKIP: &[&str] = &[
        "flushall", "flushdb", "swapdb", "migrate", "publish", "spublish",
    ];
    const ARGS: &[&str] = &[
        "k1", "k2", "k3", "0", "1", "-1", "2", "5", "a", "b", "x", "LEFT", "RIGHT", "MIN", "MAX",
        "COUNT", "EX", "PX", "GET", "NX", "XX", "100", "1.5", "+inf", "-", "+", "[a", "(1",
        "STORE", "REPLACE", "DB",
    ];
    let names: Vec<_> = commands::all()
        .into_iter()
        .filter(|c| {
            (c.has(redis_playground::commands::WRITE)
                || c.has(redis_playground::commands::READONLY))
                && !SKIP.contains(&c.name)
        })
        .collect();
    let (mut eng, cmd, sub) = setup("KEAnm");
    let own = eng.open_client(0);
    eng.execute(own, &argv(&["HELLO", "3"]), 0);
    eng.execute(own, &argv(&["PSUBSCRIBE", "__key*__:*"]), 0);
    let mut seed: u64 = 0x6e6f_7469_6679;
    let mut next = |n: usize| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed % n.max(1) as u64) as usize
    };
    let mut now = 1_000;
    let mut published = 0;
    for _ in 0..5_000 {
        now += next(40) as i64;
        let spec = names[next(names.len())];
        let mut line = vec![spec.name.to_string()];
        if !spec.subcommands.is_empty() {
            line.push(
                spec.subcommands[next(spec.subcommands.len())]
                    .name
                    .to_string(),
            );
        }
        for _ in 0..next(6) {
            line.push(ARGS[next(ARGS.len())].to_string());
        }
        let words: Vec<&str> = line.iter().map(String::as_str).collect();
        let client = if next(4) == 0 { own } else { cmd };
        if eng.is_blocked(client) {
            eng.unblock(client, None, now);
        }
        eng.execute(client, &argv(&words), now);
        if next(10) == 0 {
            eng.tick(now);
        }
        // Keep the test's own clients in their roles whatever the line did to them.
        eng.execute(
            cmd,
            &argv(&["CONFIG", "SET", "notify-keyspace-events", "KEAnm"]),
            now,
        );
        for id in [cmd, own] {
            if let Some(c) = eng.client_mut(id) {
                c.reply_mode = redis_playground::engine::ReplyMode::On;
                c.multi = None;
                c.outbox.clear();
            }
        }
        for (channel, message) in take(&mut eng, sub) {
            let ok = channel.starts_with("__keyspace@") || channel.starts_with("__keyevent@");
            assert!(ok, "{channel} {message}");
            published += 1;
        }
    }
    assert!(
        published > 1_000,
        "only {published} events: the lines hardly wrote"
    );
}
