//! Lua scripts at the engine level: what a live Redis comparison cannot show — a runaway
//! script ended by its budget, the engine still serving after it, scripts' commands seen by
//! MONITOR and INFO, and odd values returned without a crash.

use redis_playground::{Engine, EngineOptions, Reply};

/// Counts the process's allocations, as the native server's allocator does: the bound on a
/// script's heap reads it.
#[global_allocator]
static ALLOCATOR: cap::Cap<std::alloc::System> = cap::Cap::new(std::alloc::System, usize::MAX);

fn allocated() -> u64 {
    ALLOCATOR.allocated() as u64
}

fn argv(words: &[&str]) -> Vec<Vec<u8>> {
    words.iter().map(|w| w.as_bytes().to_vec()).collect()
}

fn run(eng: &mut Engine, id: u64, words: &[&str]) -> Reply {
    eng.execute(id, &argv(words), 0).unwrap_or(Reply::Nil)
}

fn clock() -> u64 {
    use std::sync::OnceLock;
    use std::time::Instant;
    static START: OnceLock<Instant> = OnceLock::new();
    START.get_or_init(Instant::now).elapsed().as_micros() as u64
}

#[test]
fn a_runaway_script_ends_and_the_engine_goes_on() {
    let mut eng = Engine::new(EngineOptions::default());
    eng.set_clock_us(Some(clock));
    let c = eng.open_client(0);
    run(
        &mut eng,
        c,
        &["CONFIG", "SET", "busy-reply-threshold", "50"],
    );
    let loaded = run(&mut eng, c, &["SCRIPT", "LOAD", "return 'still here'"]);
    for script in [
        "while true do end",
        "while true do pcall(function() while true do end end) end",
        "local t = {} for i = 1, 1e12 do t[i % 10] = i end",
    ] {
        let r = run(&mut eng, c, &["EVAL", script, "0"]);
        match r {
            Reply::Error(e) => assert!(e.contains("busy-reply-threshold"), "{}", e),
            other => panic!("{:?}", other),
        }
    }
    assert_eq!(run(&mut eng, c, &["PING"]), Reply::status("PONG"));
    // The cache survives the state being made anew.
    let Reply::Bulk(sha) = loaded else {
        panic!("{:?}", loaded)
    };
    let sha = String::from_utf8(sha).unwrap();
    assert_eq!(
        run(&mut eng, c, &["EVALSHA", &sha, "0"]),
        Reply::Bulk(b"still here".to_vec())
    );
}

#[test]
fn monitor_sees_the_script_then_its_commands_from_lua() {
    let mut eng = Engine::new(EngineOptions::default());
    let (c, m) = (eng.open_client(0), eng.open_client(0));
    run(&mut eng, m, &["MONITOR"]);
    run(
        &mut eng,
        c,
        &["EVAL", "return redis.call('set', 'k', 'v')", "0"],
    );
    let lines: Vec<String> = eng
        .client_mut(m)
        .map(|cl| std::mem::take(&mut cl.outbox))
        .unwrap_or_default()
        .into_iter()
        .filter_map(|r| match r {
            Reply::Status(s) => Some(s.to_string()),
            _ => None,
        })
        .collect();
    assert_eq!(lines.len(), 2, "{:?}", lines);
    assert!(lines[0].contains("\"EVAL\""), "{}", lines[0]);
    assert!(
        lines[1].contains("[0 lua] \"set\" \"k\" \"v\""),
        "{}",
        lines[1]
    );
}

#[test]
fn commands_in_scripts_are_counted() {
    let mut eng = Engine::new(EngineOptions::default());
    let c = eng.open_client(0);
    run(
        &mut eng,
        c,
        &[
            "EVAL",
            "redis.call('set', 'a', 1); redis.call('incr', 'a'); return 1",
            "0",
        ],
    );
    let info = match run(&mut eng, c, &["INFO", "commandstats"]) {
        Reply::Bulk(b) | Reply::Verbatim(_, b) => b,
        other => panic!("{:?}", other),
    };
    let info = String::from_utf8(info).unwrap();
    assert!(info.contains("cmdstat_set:calls=1"), "{}", info);
    assert!(info.contains("cmdstat_incr:calls=1"), "{}", info);
    assert!(info.contains("cmdstat_eval:calls=1"), "{}", info);
}

#[test]
fn odd_values_never_crash() {
    let mut eng = Engine::new(EngineOptions::default());
    let c = eng.open_client(0);
    for script in [
        "local t = {} t[1] = t return t",
        "return {err = {}}",
        "error({})",
        "error(setmetatable({}, {__tostring = function() return 'x' end}))",
        "return coroutine.create(function() end)",
        "return function() end",
        "return {map = {[{}] = 1}}",
        "return {set = 5}",
        "return {double = 'x'}",
        "return {verbatim_string = {format = 'txt', string = 'hi'}}",
        "return redis.call(string.rep('x', 100))",
        "return string.rep('x', 1e12)",
        "return string.rep('abc', 2^40)",
        "local co = coroutine.wrap(function() redis.call('set', 'c', 1) coroutine.yield(1) end) return co()",
        "return redis.setresp(3) or redis.call('hello', '3')",
        "return loadstring(string.dump(function() return 1 end))",
    ] {
        let r = run(&mut eng, c, &["EVAL", script, "0"]);
        let _ = r.to_resp(2);
        let _ = r.to_resp(3);
    }
    assert_eq!(run(&mut eng, c, &["PING"]), Reply::status("PONG"));
}

#[test]
fn runaway_functions_end_at_load_and_at_call() {
    let mut eng = Engine::new(EngineOptions::default());
    eng.set_clock_us(Some(clock));
    let c = eng.open_client(0);
    run(
        &mut eng,
        c,
        &["CONFIG", "SET", "busy-reply-threshold", "50"],
    );
    let r = run(
        &mut eng,
        c,
        &["FUNCTION", "LOAD", "#!lua name=spin\nwhile true do end"],
    );
    assert!(
        matches!(&r, Reply::Error(e) if e.contains("FUNCTION LOAD timeout")),
        "{:?}",
        r
    );
    let loaded = run(
        &mut eng,
        c,
        &[
            "FUNCTION",
            "LOAD",
            "#!lua name=lib\nredis.register_function('spin', function() while true do end end)\nredis.register_function('one', function() return 1 end)",
        ],
    );
    assert_eq!(loaded, Reply::Bulk(b"lib".to_vec()));
    let r = run(&mut eng, c, &["FCALL", "spin", "0"]);
    assert!(
        matches!(&r, Reply::Error(e) if e.contains("busy-reply-threshold")),
        "{:?}",
        r
    );
    // The functions' state is made anew with every library loaded again.
    assert_eq!(run(&mut eng, c, &["FCALL", "one", "0"]), Reply::Integer(1));
}

/// A script that asks for more than the engine allocates at once fails with the reply Redis
/// gives for Lua's own `not enough memory` (Redis's heap is bounded by the process's memory),
/// and the engine keeps its data and runs the next script.
#[test]
fn a_script_past_the_memory_bound_fails_and_the_data_stays() {
    let mut eng = Engine::new(EngineOptions::default());
    eng.set_clock_us(Some(clock));
    eng.set_memory_counter(Some(allocated));
    let c = eng.open_client(0);
    run(
        &mut eng,
        c,
        &["CONFIG", "SET", "busy-reply-threshold", "600000"],
    );
    run(&mut eng, c, &["SET", "k", "v"]);
    let sha = |s: &str| redis_playground::scripting::sha1_hex(s.as_bytes());
    for script in [
        // string.rep past the bound: refused before it allocates.
        "local s = string.rep('x', 1024 * 1024 * 1024 * 8) return #s",
        "local s = string.rep('abc', 2^40) return #s",
        "local ok, e = pcall(string.rep, 'x', 2^40) return string.rep('y', 2^40)",
        // The whole heap: a table of strings that grows without end.
        "local t = {} while true do t[#t + 1] = string.rep('x', 1e6) .. #t end",
        // One big string made of a long table.
        "local t = {} for i = 1, 1000 do t[i] = 'x' end return #table.concat(t, string.rep('-', 1e7))",
    ] {
        let want = format!(
            "ERR Error running script {}, not enough memory",
            sha(script)
        );
        match run(&mut eng, c, &["EVAL", script, "0"]) {
            Reply::Error(e) => assert_eq!(&*e, want, "{script}"),
            other => panic!("{script}: {other:?}"),
        }
        assert_eq!(run(&mut eng, c, &["GET", "k"]), Reply::bulk("v"));
        assert_eq!(
            run(
                &mut eng,
                c,
                &["EVAL", "return #string.rep('z', 1000000)", "0"]
            ),
            Reply::Integer(1_000_000)
        );
    }
    // A pcall inside the script sees the failure, as in Lua.
    assert_eq!(
        run(
            &mut eng,
            c,
            &[
                "EVAL",
                "local ok, e = pcall(function() local t = {} while true do t[#t + 1] = string.rep('x', 1e6) .. #t end end) return e",
                "0"
            ]
        ),
        Reply::bulk("not enough memory")
    );
    // Garbage does not count: a script may make and drop far more than the limit.
    assert_eq!(
        run(
            &mut eng,
            c,
            &[
                "EVAL",
                "for i = 1, 3000 do local s = i .. string.rep('x', 1000000) end return 1",
                "0"
            ]
        ),
        Reply::Integer(1)
    );
    // pcall catches it, as in C Lua.
    let r = run(
        &mut eng,
        c,
        &[
            "EVAL",
            "local ok, e = pcall(string.rep, 'x', 2^40) return {tostring(ok), e}",
            "0",
        ],
    );
    assert_eq!(
        r,
        Reply::Array(vec![Reply::bulk("false"), Reply::bulk("not enough memory")])
    );
    // A function hits the same limit, named as Redis names it.
    run(
        &mut eng,
        c,
        &[
            "FUNCTION",
            "LOAD",
            "#!lua name=m\nredis.register_function('big', function() return string.rep('x', 2^40) end)",
        ],
    );
    assert_eq!(
        run(&mut eng, c, &["FCALL", "big", "0"]),
        Reply::Error("ERR Error running script big, not enough memory".into())
    );
    // A script's own error of the same text stays a script error.
    match run(&mut eng, c, &["EVAL", "error('not enough memory', 0)", "0"]) {
        Reply::Error(e) => assert!(e.starts_with("ERR not enough memory script:"), "{e}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(run(&mut eng, c, &["GET", "k"]), Reply::bulk("v"));
}

/// The outbox of a client, taken.
fn outbox(eng: &mut Engine, id: u64) -> Vec<Reply> {
    eng.client_mut(id)
        .map(|cl| std::mem::take(&mut cl.outbox))
        .unwrap_or_default()
}

/// Runs the suspended script's slices until it ends or `turns` run out, with `between`
/// called after each slice (what the page's worker serves meanwhile).
fn slices(eng: &mut Engine, turns: usize, mut between: impl FnMut(&mut Engine, usize)) -> bool {
    for turn in 0..turns {
        if !eng.run_script_slice(0) {
            return false;
        }
        between(eng, turn);
    }
    true
}

/// The page's way (a host that runs scripts in slices): a runaway script is suspended past
/// busy-reply-threshold, the other clients get BUSY between slices, SCRIPT KILL and FUNCTION
/// KILL end it with Redis's replies, a script that wrote answers UNKILLABLE until SHUTDOWN
/// NOSAVE ends it, and the engine goes on with its data.
#[test]
fn a_sliced_script_is_killed_from_another_client() {
    let mut eng = Engine::new(EngineOptions::default());
    eng.set_clock_us(Some(clock));
    eng.scripts.sliced = true;
    let (a, b) = (eng.open_client(0), eng.open_client(0));
    run(
        &mut eng,
        b,
        &["CONFIG", "SET", "busy-reply-threshold", "50"],
    );
    run(&mut eng, b, &["SET", "k", "v"]);
    // A script that ends within the threshold runs at once.
    assert_eq!(
        run(&mut eng, a, &["EVAL", "return redis.call('get', 'k')", "0"]),
        Reply::Bulk(b"v".to_vec())
    );

    assert!(eng
        .execute(a, &argv(&["EVAL", "while true do end", "0"]), 0)
        .is_none());
    assert_eq!(eng.script_slice_client(), Some(a));
    // The script's own client waits behind it.
    assert!(eng.execute(a, &argv(&["PING"]), 0).is_none());
    let busy = run(&mut eng, b, &["GET", "k"]);
    assert_eq!(
        busy,
        Reply::Error("BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.".into())
    );
    assert_eq!(
        run(&mut eng, b, &["FUNCTION", "KILL"]),
        Reply::Error("BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.".into())
    );
    assert!(slices(&mut eng, 3, |_, _| {}));
    assert_eq!(run(&mut eng, b, &["SCRIPT", "KILL"]), Reply::ok());
    assert!(!slices(&mut eng, 100, |_, _| {}));
    let got = outbox(&mut eng, a);
    assert_eq!(got.len(), 2, "{:?}", got);
    let Reply::Error(e) = &got[0] else {
        panic!("{:?}", got)
    };
    assert!(
        e.starts_with("ERR Script killed by user with SCRIPT KILL... script: ")
            && e.ends_with(", on @user_script:1."),
        "{}",
        e
    );
    assert_eq!(got[1], Reply::status("PONG"));
    assert_eq!(run(&mut eng, b, &["GET", "k"]), Reply::Bulk(b"v".to_vec()));

    // A function, likewise, with FUNCTION KILL.
    run(
        &mut eng,
        b,
        &[
            "FUNCTION",
            "LOAD",
            "#!lua name=spin\nredis.register_function('spin', function() while true do end end)",
        ],
    );
    assert!(eng.execute(a, &argv(&["FCALL", "spin", "0"]), 0).is_none());
    assert_eq!(
        run(&mut eng, b, &["SCRIPT", "KILL"]),
        Reply::Error("BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE.".into())
    );
    assert_eq!(run(&mut eng, b, &["FUNCTION", "KILL"]), Reply::ok());
    assert!(!slices(&mut eng, 100, |_, _| {}));
    let got = outbox(&mut eng, a);
    let [Reply::Error(e)] = &got[..] else {
        panic!("{:?}", got)
    };
    assert!(
        e.starts_with("ERR Script killed by user with SCRIPT KILL... "),
        "{}",
        e
    );

    // A script that wrote cannot be killed; SHUTDOWN NOSAVE ends it.
    assert!(eng
        .execute(
            a,
            &argv(&["EVAL", "redis.call('set', 'w', 1) while true do end", "0"]),
            0
        )
        .is_none());
    assert_eq!(
        run(&mut eng, b, &["SCRIPT", "KILL"]),
        Reply::Error("UNKILLABLE Sorry the script already executed write commands against the dataset. You can either wait the script termination or kill the server in a hard way using the SHUTDOWN NOSAVE command.".into())
    );
    run(&mut eng, b, &["SHUTDOWN", "NOSAVE"]);
    assert!(!slices(&mut eng, 100, |_, _| {}));
    assert_eq!(outbox(&mut eng, a).len(), 1);
    assert_eq!(run(&mut eng, b, &["GET", "k"]), Reply::Bulk(b"v".to_vec()));
    assert_eq!(
        run(&mut eng, a, &["EVAL", "return 1 + 1", "0"]),
        Reply::Integer(2)
    );
}

/// A script suspended and resumed many times keeps every value it holds: what the collector
/// runs between two of its slices sees the whole frame it stopped in.
#[test]
fn a_sliced_script_keeps_its_values_across_slices() {
    let mut eng = Engine::new(EngineOptions::default());
    eng.set_clock_us(Some(clock));
    eng.scripts.sliced = true;
    let a = eng.open_client(0);
    run(
        &mut eng,
        a,
        &["CONFIG", "SET", "busy-reply-threshold", "20"],
    );
    let n: i64 = 600_000;
    let script = format!(
        "local keep = {{}} for i = 1, {n} do local t = {{i, 'v' .. i}} keep[i % 100 + 1] = t end \
         local s = 0 for j = 1, 100 do s = s + keep[j][1] + #keep[j][2] end return s"
    );
    let mut reply = eng.execute(a, &argv(&["EVAL", &script, "0"]), 0);
    let mut turns = 0;
    if reply.is_none() {
        while eng.run_script_slice(0) {
            turns += 1;
        }
        reply = outbox(&mut eng, a).pop();
    }
    let want: i64 = (n - 99..=n)
        .map(|i| i + 1 + i.to_string().len() as i64)
        .sum();
    assert_eq!(reply, Some(Reply::Integer(want)), "after {turns} slices");
}

/// A script that reads globals (through the sandbox's `__index`, a Lua function the hook
/// often lands in) and allocates is still suspended between slices, and ends with its reply.
#[test]
fn a_sliced_script_reading_globals_is_suspended() {
    let mut eng = Engine::new(EngineOptions::default());
    eng.set_clock_us(Some(clock));
    eng.scripts.sliced = true;
    let a = eng.open_client(0);
    run(
        &mut eng,
        a,
        &["CONFIG", "SET", "busy-reply-threshold", "20"],
    );
    let script =
        "local t = {} for i = 1, 300 do t[#t + 1] = string.rep('x', 1e6) .. #t end return #t";
    assert_eq!(eng.execute(a, &argv(&["EVAL", script, "0"]), 0), None);
    while eng.run_script_slice(0) {}
    assert_eq!(outbox(&mut eng, a), vec![Reply::Integer(300)]);
}
