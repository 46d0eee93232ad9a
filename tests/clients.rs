//! Client features at the engine level, where client ids are known: CLIENT TRACKING with
//! REDIRECT, MONITOR's exact lines, CLIENT PAUSE deadlines. The expected bytes were taken
//! from redis-server 7.0.15.

use redis_playground::{Engine, EngineOptions, Reply};

fn argv(line: &str) -> Vec<Vec<u8>> {
    line.split(' ').map(|w| w.as_bytes().to_vec()).collect()
}

fn run(eng: &mut Engine, id: u64, line: &str) -> Option<Reply> {
    eng.execute(id, &argv(line), 1_700_000_000_123)
}

/// What the client's connection would carry: its waiting messages, then the reply.
fn wire(eng: &mut Engine, id: u64, line: &str) -> Vec<u8> {
    let reply = run(eng, id, line);
    let proto = eng.proto(id);
    let mut out = Vec::new();
    for m in eng
        .client_mut(id)
        .map(|c| std::mem::take(&mut c.outbox))
        .unwrap_or_default()
    {
        m.encode(proto, &mut out);
    }
    if let Some(r) = reply {
        r.encode(proto, &mut out);
    }
    out
}

fn outbox_bytes(eng: &mut Engine, id: u64) -> Vec<u8> {
    let proto = eng.proto(id);
    let mut out = Vec::new();
    for m in eng
        .client_mut(id)
        .map(|c| std::mem::take(&mut c.outbox))
        .unwrap_or_default()
    {
        m.encode(proto, &mut out);
    }
    out
}

fn engine() -> Engine {
    Engine::new(EngineOptions::default())
}

#[test]
fn redirect_to_a_subscribed_resp2_client() {
    let mut eng = engine();
    let (a, b, c) = (eng.open_client(0), eng.open_client(0), eng.open_client(0));
    wire(&mut eng, a, "SUBSCRIBE __redis__:invalidate");
    assert_eq!(
        wire(&mut eng, b, &format!("CLIENT TRACKING on redirect {}", a)),
        b"+OK\r\n"
    );
    assert_eq!(
        wire(&mut eng, b, "CLIENT GETREDIR"),
        format!(":{}\r\n", a).into_bytes()
    );
    assert_eq!(
        wire(&mut eng, b, "CLIENT TRACKINGINFO"),
        format!("*6\r\n$5\r\nflags\r\n*1\r\n$2\r\non\r\n$8\r\nredirect\r\n:{}\r\n$8\r\nprefixes\r\n*0\r\n", a)
            .into_bytes()
    );
    wire(&mut eng, b, "GET k");
    wire(&mut eng, c, "SET k 1");
    assert_eq!(
        outbox_bytes(&mut eng, a),
        b"*3\r\n$7\r\nmessage\r\n$20\r\n__redis__:invalidate\r\n*1\r\n$1\r\nk\r\n"
    );
    assert!(outbox_bytes(&mut eng, b).is_empty());
    // BCAST through the same redirection, and a flush (a null key list).
    wire(&mut eng, b, "CLIENT TRACKING off");
    wire(
        &mut eng,
        b,
        &format!("CLIENT TRACKING on redirect {} bcast prefix p", a),
    );
    wire(&mut eng, c, "SET p1 1");
    assert_eq!(
        outbox_bytes(&mut eng, a),
        b"*3\r\n$7\r\nmessage\r\n$20\r\n__redis__:invalidate\r\n*1\r\n$2\r\np1\r\n"
    );
    wire(&mut eng, c, "FLUSHALL");
    assert_eq!(
        outbox_bytes(&mut eng, a),
        b"*3\r\n$7\r\nmessage\r\n$20\r\n__redis__:invalidate\r\n$-1\r\n"
    );
    // Subscribed to any channel is enough; not subscribed at all, nothing is sent.
    wire(&mut eng, a, "UNSUBSCRIBE");
    wire(&mut eng, c, "SET p2 1");
    assert!(outbox_bytes(&mut eng, a).is_empty());
    wire(&mut eng, a, "SUBSCRIBE other");
    wire(&mut eng, c, "SET p3 1");
    assert_eq!(
        outbox_bytes(&mut eng, a),
        b"*3\r\n$7\r\nmessage\r\n$20\r\n__redis__:invalidate\r\n*1\r\n$2\r\np3\r\n"
    );
}

#[test]
fn redirect_to_resp3_and_broken_redirects() {
    let mut eng = engine();
    let (a, b, c) = (eng.open_client(0), eng.open_client(0), eng.open_client(0));
    wire(&mut eng, a, "HELLO 3");
    wire(&mut eng, b, "HELLO 3");
    wire(&mut eng, b, &format!("CLIENT TRACKING on redirect {}", a));
    wire(&mut eng, b, "GET k");
    wire(&mut eng, c, "SET k 1");
    assert_eq!(
        outbox_bytes(&mut eng, a),
        b">2\r\n$10\r\ninvalidate\r\n*1\r\n$1\r\nk\r\n"
    );
    assert!(outbox_bytes(&mut eng, b).is_empty());
    // The target leaves: each lost message is reported to the RESP3 tracker.
    wire(&mut eng, b, "GET k");
    eng.close_client(a);
    let broken = format!(">2\r\n$21\r\ntracking-redir-broken\r\n:{}\r\n", a).into_bytes();
    wire(&mut eng, c, "SET k 2");
    assert_eq!(outbox_bytes(&mut eng, b), broken);
    assert_eq!(
        wire(&mut eng, b, "CLIENT TRACKINGINFO"),
        format!(
            "%3\r\n$5\r\nflags\r\n~2\r\n$2\r\non\r\n$15\r\nbroken_redirect\r\n$8\r\nredirect\r\n:{}\r\n$8\r\nprefixes\r\n*0\r\n",
            a
        )
        .into_bytes()
    );
    wire(&mut eng, b, "GET k");
    wire(&mut eng, c, "SET k 3");
    assert_eq!(outbox_bytes(&mut eng, b), broken);
    wire(&mut eng, c, "FLUSHALL");
    assert_eq!(outbox_bytes(&mut eng, b), broken);
    assert_eq!(
        wire(&mut eng, b, "CLIENT GETREDIR"),
        format!(":{}\r\n", a).into_bytes()
    );
    let list = wire(&mut eng, b, "CLIENT INFO");
    assert!(
        String::from_utf8_lossy(&list).contains(" flags=tR "),
        "{}",
        String::from_utf8_lossy(&list)
    );
    assert_eq!(
        wire(&mut eng, b, &format!("CLIENT TRACKING on redirect {}", a)),
        b"-ERR The client ID you want redirect to does not exist\r\n"
    );
}

#[test]
fn redirect_options_and_self_redirect() {
    let mut eng = engine();
    let (a, b) = (eng.open_client(0), eng.open_client(0));
    assert_eq!(
        wire(
            &mut eng,
            b,
            &format!("CLIENT TRACKING on redirect {} redirect {}", a, a)
        ),
        b"-ERR A client can only redirect to a single other client\r\n"
    );
    // Redirecting to itself is allowed; a RESP3 client then receives its own pushes.
    wire(&mut eng, b, "HELLO 3");
    assert_eq!(
        wire(&mut eng, b, &format!("CLIENT TRACKING on redirect {}", b)),
        b"+OK\r\n"
    );
    wire(&mut eng, b, "GET k");
    wire(&mut eng, a, "SET k v");
    assert_eq!(
        outbox_bytes(&mut eng, b),
        b">2\r\n$10\r\ninvalidate\r\n*1\r\n$1\r\nk\r\n"
    );
    let info = String::from_utf8_lossy(&wire(&mut eng, b, "CLIENT INFO")).into_owned();
    assert!(info.contains(&format!(" redir={} ", b)), "{}", info);
}

#[test]
fn monitor_lines_are_exact() {
    let mut eng = engine();
    let (m, c) = (eng.open_client(0), eng.open_client(0));
    assert_eq!(wire(&mut eng, m, "MONITOR"), b"+OK\r\n");
    wire(&mut eng, c, "SET k v");
    wire(&mut eng, c, "SELECT 2");
    let addr = eng
        .client_mut(c)
        .map(|x| x.addr.clone())
        .unwrap_or_default();
    assert_eq!(
        outbox_bytes(&mut eng, m),
        format!(
            "+1700000000.123000 [0 {a}] \"SET\" \"k\" \"v\"\r\n+1700000000.123000 [2 {a}] \"SELECT\" \"2\"\r\n",
            a = addr
        )
        .into_bytes()
    );
    let info = String::from_utf8_lossy(&wire(&mut eng, c, "CLIENT LIST")).into_owned();
    assert!(info.contains(" flags=O "), "{}", info);
    // Its own commands: the line follows the reply.
    let maddr = eng
        .client_mut(m)
        .map(|x| x.addr.clone())
        .unwrap_or_default();
    assert_eq!(
        wire(&mut eng, m, "PING"),
        format!("+PONG\r\n+1700000000.123000 [0 {}] \"PING\"\r\n", maddr).into_bytes()
    );
    // Nothing follows QUIT.
    assert_eq!(wire(&mut eng, m, "QUIT"), b"+OK\r\n");
}

#[test]
fn pause_ends_at_its_deadline_on_tick() {
    let mut eng = engine();
    let (a, b) = (eng.open_client(0), eng.open_client(0));
    assert_eq!(
        eng.execute(a, &argv("CLIENT PAUSE 100 WRITE"), 1000),
        Some(Reply::ok())
    );
    assert_eq!(eng.execute(b, &argv("SET k v"), 1010), None);
    assert_eq!(
        eng.execute(b, &argv("GET k"), 1020),
        None,
        "queued behind the held write"
    );
    assert_eq!(eng.execute(a, &argv("GET k"), 1030), Some(Reply::Nil));
    let info = match eng.execute(a, &argv("CLIENT LIST"), 1040) {
        Some(Reply::Verbatim(_, text)) => String::from_utf8_lossy(&text).into_owned(),
        other => panic!("{:?}", other),
    };
    assert!(
        info.contains(" flags=b ") && info.contains("cmd=set "),
        "{}",
        info
    );
    eng.tick(1099);
    assert!(eng.client_mut(b).is_some_and(|c| c.outbox.is_empty()));
    eng.tick(1100);
    assert_eq!(
        eng.client_mut(b).map(|c| std::mem::take(&mut c.outbox)),
        Some(vec![Reply::ok(), Reply::bulk("v")])
    );
}

#[test]
fn keys_do_not_expire_while_paused() {
    let mut eng = engine();
    let a = eng.open_client(0);
    eng.execute(a, &argv("SET e v PX 10"), 0);
    eng.execute(a, &argv("CLIENT PAUSE 1000 WRITE"), 0);
    eng.tick(500);
    assert_eq!(eng.execute(a, &argv("GET e"), 500), Some(Reply::Nil));
    assert_eq!(
        eng.execute(a, &argv("DBSIZE"), 500),
        Some(Reply::Integer(1))
    );
    eng.tick(1000);
    assert_eq!(eng.execute(a, &argv("GET e"), 1000), Some(Reply::Nil));
    assert_eq!(
        eng.execute(a, &argv("DBSIZE"), 1000),
        Some(Reply::Integer(0))
    );
}

#[test]
fn closing_clients_leave_no_trace() {
    let mut eng = engine();
    let (a, b, c) = (eng.open_client(0), eng.open_client(0), eng.open_client(0));
    wire(&mut eng, a, "MONITOR");
    wire(&mut eng, b, "CLIENT TRACKING on bcast prefix x");
    wire(&mut eng, c, "CLIENT PAUSE 100000 WRITE");
    run(&mut eng, b, "SET x1 1");
    eng.close_client(a);
    eng.close_client(b);
    assert_eq!(wire(&mut eng, c, "CLIENT UNPAUSE"), b"+OK\r\n");
    assert_eq!(wire(&mut eng, c, "SET x2 2"), b"+OK\r\n");
    assert!(eng.monitors.is_empty());
    assert!(eng.tracking.prefixes.is_empty());
}

#[test]
fn info_counts_tracking_and_blocked_clients() {
    let mut eng = engine();
    let ids: Vec<u64> = (0..6).map(|_| eng.open_client(0)).collect();
    wire(&mut eng, ids[0], "HELLO 3");
    wire(&mut eng, ids[0], "CLIENT TRACKING on");
    wire(&mut eng, ids[0], "MGET a b c");
    wire(&mut eng, ids[1], "CLIENT TRACKING on");
    wire(&mut eng, ids[1], "GET a");
    wire(
        &mut eng,
        ids[2],
        "CLIENT TRACKING on bcast prefix x prefix y",
    );
    wire(&mut eng, ids[3], "CLIENT TRACKING on bcast prefix x");
    run(&mut eng, ids[4], "BLPOP q 0");
    run(&mut eng, ids[5], "BLPOP q2 10");
    let info = match run(&mut eng, ids[0], "INFO") {
        Some(Reply::Bulk(b)) | Some(Reply::Verbatim(_, b)) => {
            String::from_utf8_lossy(&b).into_owned()
        }
        other => panic!("{:?}", other),
    };
    for want in [
        "blocked_clients:2\r\n",
        "tracking_clients:4\r\n",
        "clients_in_timeout_table:1\r\n",
        "tracking_total_keys:3\r\n",
        "tracking_total_items:4\r\n",
        "tracking_total_prefixes:2\r\n",
    ] {
        assert!(info.contains(want), "{} missing", want);
    }
}

/// INFO's blocked_clients counts a client whose command waits for CLIENT PAUSE to end, as
/// redis-server 7.0.15 does (Redis's suite waits on that count in its pause unit).
#[test]
fn info_counts_paused_clients_as_blocked() {
    let mut eng = engine();
    let (a, b, c) = (eng.open_client(0), eng.open_client(0), eng.open_client(0));
    let blocked = |eng: &mut Engine| match eng.execute(a, &argv("INFO clients"), 0) {
        Some(Reply::Bulk(b)) | Some(Reply::Verbatim(_, b)) => String::from_utf8_lossy(&b)
            .lines()
            .find_map(|l| l.strip_prefix("blocked_clients:").map(str::to_owned)),
        _ => None,
    };
    assert_eq!(
        eng.execute(a, &argv("CLIENT PAUSE 100000 WRITE"), 0),
        Some(Reply::ok())
    );
    assert_eq!(eng.execute(b, &argv("SET k 1"), 0), None);
    assert_eq!(eng.execute(c, &argv("BLPOP q 0"), 0), None);
    assert_eq!(blocked(&mut eng).as_deref(), Some("2"));
    assert_eq!(
        eng.execute(a, &argv("CLIENT UNPAUSE"), 0),
        Some(Reply::ok())
    );
    eng.tick(1);
    assert_eq!(blocked(&mut eng).as_deref(), Some("1"));
}

#[test]
fn a_new_pause_keeps_held_commands_in_order() {
    let mut eng = engine();
    let (a, b) = (eng.open_client(0), eng.open_client(0));
    assert_eq!(
        eng.execute(a, &argv("CLIENT PAUSE 100 ALL"), 0),
        Some(Reply::ok())
    );
    // b's commands wait; the first one starts a new WRITE pause when it finally runs.
    assert_eq!(eng.execute(b, &argv("CLIENT PAUSE 100 WRITE"), 10), None);
    assert_eq!(eng.execute(b, &argv("SET k 1"), 10), None);
    assert_eq!(eng.execute(b, &argv("SET k 2"), 10), None);
    eng.tick(100);
    assert_eq!(
        eng.client_mut(b).map(|c| std::mem::take(&mut c.outbox)),
        Some(vec![Reply::ok()])
    );
    eng.tick(200);
    assert_eq!(
        eng.client_mut(b).map(|c| std::mem::take(&mut c.outbox)),
        Some(vec![Reply::ok(), Reply::ok()])
    );
    assert_eq!(eng.execute(a, &argv("GET k"), 200), Some(Reply::bulk("2")));
}

/// Random interleavings of the client features among a few clients: nothing panics, every
/// queue drains once pauses end, and the engine keeps answering.
#[test]
fn client_features_survive_random_interleavings() {
    let mut state: u64 = 0x5eed_c11e;
    let mut next = move |n: u64| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state % n
    };
    let lines = [
        "MONITOR",
        "CLIENT PAUSE 5",
        "CLIENT PAUSE 20 WRITE",
        "CLIENT PAUSE 0 ALL",
        "CLIENT UNPAUSE",
        "CLIENT TRACKING on",
        "CLIENT TRACKING on noloop",
        "CLIENT TRACKING on optin",
        "CLIENT TRACKING on optout",
        "CLIENT TRACKING on bcast",
        "CLIENT TRACKING on bcast prefix k prefix x",
        "CLIENT TRACKING on redirect 1",
        "CLIENT TRACKING on redirect 2 bcast prefix k",
        "CLIENT TRACKING off",
        "CLIENT CACHING yes",
        "CLIENT CACHING no",
        "CLIENT TRACKINGINFO",
        "CLIENT GETREDIR",
        "CLIENT LIST",
        "HELLO 3",
        "HELLO 2",
        "SUBSCRIBE __redis__:invalidate",
        "UNSUBSCRIBE",
        "RESET",
        "GET k1",
        "MGET k1 k2 x1",
        "SET k1 v",
        "MSET k2 a x1 b",
        "DEL k1 k2",
        "SET e v PX 3",
        "GET e",
        "FLUSHALL",
        "FLUSHDB",
        "MULTI",
        "EXEC",
        "BLPOP q 0.01",
        "RPUSH q a",
        "CLIENT REPLY SKIP",
        "CLIENT REPLY ON",
        "QUIT",
        "INFO",
    ];
    let mut eng = engine();
    let mut clients: Vec<u64> = (0..4).map(|_| eng.open_client(0)).collect();
    let mut now = 1_000;
    for _ in 0..20_000 {
        now += next(4) as i64;
        let i = next(clients.len() as u64) as usize;
        let line = lines[next(lines.len() as u64) as usize];
        let _ = run_at(&mut eng, clients[i], line, now);
        if next(8) == 0 {
            eng.tick(now);
        }
        for &c in &clients {
            if let Some(cl) = eng.client_mut(c) {
                cl.outbox.clear();
            }
        }
        if eng.client_mut(clients[i]).is_some_and(|c| c.closing) {
            eng.close_client(clients[i]);
            clients[i] = eng.open_client(now);
        }
    }
    // Once every pause and wait is over, every client answers at once again.
    now += 1_000;
    eng.execute(clients[0], &argv("CLIENT UNPAUSE"), now);
    eng.tick(now);
    for &c in &clients {
        eng.unblock(c, None, now);
        eng.execute(c, &argv("RESET"), now);
        assert!(!eng.client_mut(c).is_some_and(|x| x.paused));
        assert_eq!(
            eng.execute(c, &argv("PING"), now),
            Some(Reply::status("PONG"))
        );
    }
}

fn run_at(eng: &mut Engine, id: u64, line: &str, now: i64) -> Option<Reply> {
    eng.execute(id, &argv(line), now)
}

#[test]
fn the_tracking_table_is_kept_within_its_limit() {
    let mut eng = engine();
    let (a, b) = (eng.open_client(0), eng.open_client(0));
    run(&mut eng, a, "CONFIG SET tracking-table-max-keys 2");
    wire(&mut eng, b, "HELLO 3");
    wire(&mut eng, b, "CLIENT TRACKING on");
    wire(&mut eng, b, "MGET k1 k2 k3 k4 k5");
    assert_eq!(eng.tracking.keys.len(), 5);
    eng.tick(1_700_000_000_200);
    assert_eq!(eng.tracking.keys.len(), 2);
    let pushes = eng
        .client_mut(b)
        .map(|c| std::mem::take(&mut c.outbox))
        .unwrap_or_default();
    assert_eq!(pushes.len(), 3);
    assert!(pushes
        .iter()
        .all(|p| matches!(p, Reply::Push(v) if v.first() == Some(&Reply::bulk("invalidate")))));
    // 0 means no limit.
    run(&mut eng, a, "CONFIG SET tracking-table-max-keys 0");
    wire(&mut eng, b, "MGET k1 k2 k3 k4 k5");
    eng.tick(1_700_000_000_300);
    assert_eq!(eng.tracking.keys.len(), 5);
}

/// CLIENT LIST and CLIENT INFO show the asking client's request in its query buffer, as
/// redis-server 7.0.15 does (`qbuf=26` for `CLIENT INFO` sent as a RESP array); other clients'
/// buffers are empty.
#[test]
fn client_lines_show_the_running_request_in_the_query_buffer() {
    let mut eng = engine();
    let (a, b) = (eng.open_client(0), eng.open_client(0));
    let text = |r: Option<Reply>| match r {
        Some(Reply::Bulk(b)) | Some(Reply::Verbatim(_, b)) => {
            String::from_utf8_lossy(&b).into_owned()
        }
        other => panic!("{:?}", other),
    };
    let info = text(eng.execute(a, &argv("CLIENT INFO"), 0));
    assert!(info.contains(" qbuf=26 "), "{}", info);
    let list = text(eng.execute(b, &argv("CLIENT LIST"), 0));
    let lines: Vec<&str> = list.lines().collect();
    assert_eq!(lines.len(), 2);
    for line in lines {
        let want = if line.starts_with(&format!("id={} ", b)) {
            " qbuf=26 "
        } else {
            " qbuf=0 "
        };
        assert!(line.contains(want), "{}", line);
    }
}
