//! Blocking commands at the engine level: what CLIENT UNBLOCK and timeouts deliver.

use redis_playground::{Engine, EngineOptions, Reply};

fn argv(words: &[&str]) -> Vec<Vec<u8>> {
    words.iter().map(|w| w.as_bytes().to_vec()).collect()
}

fn outbox(eng: &mut Engine, id: u64) -> Vec<Reply> {
    eng.client_mut(id)
        .map(|c| std::mem::take(&mut c.outbox))
        .unwrap_or_default()
}

#[test]
fn client_unblock_answers_the_waiter() {
    let mut eng = Engine::new(EngineOptions::default());
    let (a, b) = (eng.open_client(0), eng.open_client(0));
    assert_eq!(eng.execute(a, &argv(&["BLPOP", "q", "0"]), 0), None);
    assert!(eng.is_blocked(a));
    let unblock = |id: u64, how: &str| argv(&["CLIENT", "UNBLOCK", &id.to_string(), how]);
    assert_eq!(
        eng.execute(b, &unblock(a, "TIMEOUT"), 1),
        Some(Reply::Integer(1))
    );
    assert_eq!(outbox(&mut eng, a), vec![Reply::NilArray]);
    assert_eq!(
        eng.execute(b, &unblock(a, "TIMEOUT"), 1),
        Some(Reply::Integer(0))
    );

    assert_eq!(
        eng.execute(a, &argv(&["BRPOPLPUSH", "q", "d", "10"]), 2),
        None
    );
    assert_eq!(
        eng.execute(b, &unblock(a, "ERROR"), 3),
        Some(Reply::Integer(1))
    );
    assert_eq!(
        outbox(&mut eng, a),
        vec![Reply::Error(
            "UNBLOCKED client unblocked via CLIENT UNBLOCK".into()
        )]
    );
}

#[test]
fn deadlines_pass_on_tick_and_pending_commands_follow() {
    let mut eng = Engine::new(EngineOptions::default());
    let a = eng.open_client(0);
    assert_eq!(eng.execute(a, &argv(&["BLPOP", "q", "1.5"]), 1000), None);
    assert_eq!(
        eng.execute(a, &argv(&["PING"]), 1001),
        None,
        "queued behind the wait"
    );
    eng.tick(2499);
    assert!(eng.is_blocked(a));
    eng.tick(2500);
    assert!(!eng.is_blocked(a));
    assert_eq!(
        outbox(&mut eng, a),
        vec![Reply::NilArray, Reply::status("PONG")]
    );
}

#[test]
fn closing_a_waiter_forgets_it() {
    let mut eng = Engine::new(EngineOptions::default());
    let (a, b) = (eng.open_client(0), eng.open_client(0));
    eng.execute(a, &argv(&["BLPOP", "q", "0"]), 0);
    eng.close_client(a);
    assert_eq!(
        eng.execute(b, &argv(&["RPUSH", "q", "x"]), 1),
        Some(Reply::Integer(1))
    );
    assert_eq!(
        eng.execute(b, &argv(&["LLEN", "q"]), 1),
        Some(Reply::Integer(1))
    );
}
