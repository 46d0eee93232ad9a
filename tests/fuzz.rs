//! Deterministic fuzzing of everything that takes bytes from outside: the RESP request parser,
//! the redis-cli tokenizer, the reply reader and renderer, the cluster bus decoder and framer,
//! the engine itself with random command lines, the RDB, DUMP and AOF readers (with the AOF
//! manifest) and the Lua unpackers. Seeded (override with `FUZZ_SEED=n`, scale with
//! `FUZZ_SCALE=n`; `make fuzz` runs FUZZ_SCALE=350, at least 10 million inputs to each
//! parser), bounded, a few seconds in a debug build. A panic is caught and reported with the
//! input that caused it; the parsers are also checked for allocations their input cannot
//! justify. Every fuzzer prints how many inputs it fed. Counts of the recorded runs:
//! tests/FUZZING.md.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use redis_playground::cluster::bus;
use redis_playground::commands;
use redis_playground::engine::ReplyMode;
use redis_playground::protocol::inline::split_args;
use redis_playground::protocol::render::{quote, render, render_for};
use redis_playground::protocol::resp::{
    parse_reply, parse_request, parse_request_limited, Request,
};
use redis_playground::{Engine, EngineOptions, Reply};

/// SplitMix64: small, seedable, good enough to pick inputs.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

fn seed() -> u64 {
    std::env::var("FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x5eed_f00d)
}

fn scale() -> usize {
    std::env::var("FUZZ_SCALE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1)
        .max(1)
}

fn show(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|&b| match b {
            0x20..=0x7e if b != b'\\' => (b as char).to_string(),
            _ => format!("\\x{b:02x}"),
        })
        .collect()
}

fn show_argv(argv: &[Vec<u8>]) -> String {
    argv.iter()
        .map(|a| format!("\"{}\"", show(a)))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Runs `f`, turning a panic into a test failure that names the input.
fn guarded<T>(what: impl Fn() -> String, f: impl FnOnce() -> T) -> T {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(v) => v,
        Err(e) => {
            let msg = e
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            panic!("panic on input {}: {msg} (FUZZ_SEED={})", what(), seed());
        }
    }
}

/// The system allocator, noting the largest single allocation each thread asks for, so a
/// fuzzer can check that no input makes a parser allocate more than its size justifies (a
/// length field claiming gigabytes must be refused, not believed).
struct Tracking;

thread_local! {
    static LARGEST: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

fn note_size(size: usize) {
    let _ = LARGEST.try_with(|l| {
        if size > l.get() {
            l.set(size);
        }
    });
}

unsafe impl std::alloc::GlobalAlloc for Tracking {
    unsafe fn alloc(&self, layout: std::alloc::Layout) -> *mut u8 {
        note_size(layout.size());
        unsafe { std::alloc::System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: std::alloc::Layout) -> *mut u8 {
        note_size(layout.size());
        unsafe { std::alloc::System.alloc_zeroed(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: std::alloc::Layout) {
        unsafe { std::alloc::System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: std::alloc::Layout, new_size: usize) -> *mut u8 {
        note_size(new_size);
        unsafe { std::alloc::System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Tracking = Tracking;

/// The largest single allocation an input of `len` bytes may cause: a fixed allowance for a
/// parser's own tables (a dense HyperLogLog is 12 KB whatever its encoding) plus a multiple
/// of the input (listpacks and intsets expand into vectors of larger items).
fn justified(len: usize) -> usize {
    64 * 1024 + 64 * len
}

/// [`guarded`], and also fails when `f` made an allocation larger than an input of
/// `input_len` bytes justifies.
fn guarded_bounded<T>(what: impl Fn() -> String, input_len: usize, f: impl FnOnce() -> T) -> T {
    LARGEST.with(|l| l.set(0));
    let v = guarded(&what, f);
    let largest = LARGEST.with(|l| l.get());
    assert!(
        largest <= justified(input_len),
        "an allocation of {largest} bytes for an input of {input_len} bytes: {} (FUZZ_SEED={})",
        what(),
        seed()
    );
    v
}

/// The allocation check works: an allocation past the bound fails, one within it passes.
#[test]
fn allocation_check_catches_a_large_allocation() {
    let small = guarded_bounded(|| "small".into(), 10, || vec![0u8; 1000].len());
    assert_eq!(small, 1000);
    let big = catch_unwind(|| guarded_bounded(|| "big".into(), 10, || vec![1u8; 1 << 20].len()));
    assert!(
        big.is_err(),
        "a 1 MB allocation for 10 bytes of input is reported"
    );
}

/// Bytes biased towards the characters the parsers look at.
fn protocol_bytes(rng: &mut Rng, max: usize) -> Vec<u8> {
    const ALPHABET: &[u8] = b"*$\r\n\r\n0123456789-+ \t\"'\\xAf\x00\xff:_,#%~>=!(|PINGECHO";
    let len = rng.below(max + 1);
    (0..len)
        .map(|_| {
            if rng.chance(85) {
                *rng.pick(ALPHABET)
            } else {
                rng.next() as u8
            }
        })
        .collect()
}

fn random_arg(rng: &mut Rng) -> Vec<u8> {
    match rng.below(4) {
        0 => Vec::new(),
        1 => (0..rng.below(8)).map(|_| rng.next() as u8).collect(),
        2 => (0..rng.below(40))
            .map(|_| *rng.pick(b"ab \"'\\\r\n\t"))
            .collect(),
        _ => INTERESTING[rng.below(INTERESTING.len())]
            .as_bytes()
            .to_vec(),
    }
}

fn encode_request(argv: &[Vec<u8>]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", argv.len()).into_bytes();
    for a in argv {
        out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
        out.extend_from_slice(a);
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// What every answer of the request parser must satisfy.
fn check_parse(buf: &[u8], result: &Result<Option<Request>, impl std::fmt::Debug>) {
    if let Ok(Some((_, used))) = result {
        assert!(
            *used > 0 && *used <= buf.len(),
            "consumed {used} of {} bytes",
            buf.len()
        );
    }
}

#[test]
fn request_parser_survives_random_bytes() {
    let mut rng = Rng(seed());
    let mut count = 0u64;
    for _ in 0..30_000 * scale() {
        let buf = if rng.chance(20) {
            // A valid request with a length field set to an edge value.
            let argv: Vec<Vec<u8>> = (0..1 + rng.below(3))
                .map(|_| random_arg(&mut rng))
                .collect();
            let mut b = encode_request(&argv);
            set_huge_number(&mut rng, &mut b);
            b
        } else {
            protocol_bytes(&mut rng, 48)
        };
        let limit = *rng.pick(&[0i64, 1, 4, 512 * 1024 * 1024]);
        count += 1;
        guarded_bounded(
            || show(&buf),
            buf.len(),
            || {
                let r = parse_request(&buf);
                check_parse(&buf, &r);
                let r = parse_request_limited(&buf, limit);
                check_parse(&buf, &r);
                // A pipeline: keep parsing what is left, as the server does.
                let mut pos = 0;
                while let Ok(Some((_, used))) = parse_request(&buf[pos..]) {
                    pos += used;
                }
            },
        );
    }
    println!("request parser fuzz (random bytes): {count} inputs, no panic");
}

#[test]
fn request_parser_round_trips_and_mutations() {
    let mut rng = Rng(seed() ^ 1);
    let (mut count, mut mutated) = (0u64, 0u64);
    for _ in 0..3_000 * scale() {
        let argv: Vec<Vec<u8>> = (0..1 + rng.below(5))
            .map(|_| random_arg(&mut rng))
            .collect();
        // Multibulk: the exact arguments back, every prefix incomplete.
        let bytes = encode_request(&argv);
        count += 1 + bytes.len() as u64;
        guarded(
            || show(&bytes),
            || {
                assert_eq!(parse_request(&bytes), Ok(Some((argv.clone(), bytes.len()))));
                for cut in 0..bytes.len() {
                    assert_eq!(
                        parse_request(&bytes[..cut]),
                        Ok(None),
                        "prefix of {} bytes",
                        cut
                    );
                }
            },
        );
        // Inline, quoted as redis-cli shows strings: the same arguments back.
        let mut line = argv
            .iter()
            .map(|a| quote(a))
            .collect::<Vec<_>>()
            .join(" ")
            .into_bytes();
        line.extend_from_slice(b"\r\n");
        count += 1;
        guarded(
            || show(&line),
            || {
                assert_eq!(parse_request(&line), Ok(Some((argv.clone(), line.len()))));
            },
        );
        // Damaged copies: any answer but a panic, within bounds.
        for _ in 0..10 {
            let mut m = if rng.chance(50) {
                bytes.clone()
            } else {
                line.clone()
            };
            for _ in 0..1 + rng.below(3) {
                let at = rng.below(m.len() + 1);
                match rng.below(5) {
                    0 if at < m.len() => m[at] = rng.next() as u8,
                    1 => m.insert(at, *rng.pick(b"*$\r\n-0\x00\"")),
                    2 => set_huge_number(&mut rng, &mut m),
                    3 => mutate(&mut rng, &mut m),
                    _ if at < m.len() => {
                        m.remove(at);
                    }
                    _ => {}
                }
            }
            count += 1;
            mutated += 1;
            guarded_bounded(|| show(&m), m.len(), || check_parse(&m, &parse_request(&m)));
        }
    }
    println!(
        "request parser fuzz (round trips, prefixes, damaged copies): {count} inputs \
         ({mutated} damaged), no panic"
    );
}

#[test]
fn tokenizer_survives_random_lines_and_round_trips() {
    let mut rng = Rng(seed() ^ 2);
    let mut count = 0u64;
    for _ in 0..20_000 * scale() {
        let line = protocol_bytes(&mut rng, 40);
        guarded_bounded(
            || show(&line),
            line.len(),
            || {
                let _ = split_args(&line);
            },
        );
        let args: Vec<Vec<u8>> = (0..rng.below(4)).map(|_| random_arg(&mut rng)).collect();
        let sep = *rng.pick(&[" ", "  ", "\t", " \r "]);
        let joined = args.iter().map(|a| quote(a)).collect::<Vec<_>>().join(sep);
        guarded(
            || joined.clone(),
            || {
                assert_eq!(split_args(joined.as_bytes()), Ok(args.clone()));
            },
        );
        count += 2;
    }
    println!("inline tokenizer fuzz: {count} inputs, no panic");
}

fn random_reply(rng: &mut Rng, depth: usize) -> Reply {
    let scalar = depth >= 3 || rng.chance(60);
    if scalar {
        match rng.below(9) {
            0 => Reply::status("OK"),
            1 => Reply::Error("ERR bad \u{e9}".into()),
            2 => Reply::Integer(rng.next() as i64),
            3 => Reply::Bulk(random_arg(rng)),
            4 => Reply::Nil,
            5 => Reply::NilArray,
            6 => Reply::Double(*rng.pick(&[
                0.0,
                -1.5,
                1e300,
                f64::INFINITY,
                f64::NEG_INFINITY,
                f64::NAN,
            ])),
            7 => Reply::Bool(rng.chance(50)),
            _ => Reply::Verbatim("txt", random_arg(rng)),
        }
    } else {
        let n = *rng.pick(&[0, 1, 2, 3, 10, 12]);
        let items = |rng: &mut Rng| (0..n).map(|_| random_reply(rng, depth + 1)).collect();
        match rng.below(4) {
            0 => Reply::Array(items(rng)),
            1 => Reply::Set(items(rng)),
            2 => Reply::Push(items(rng)),
            _ => Reply::Map(
                (0..n)
                    .map(|_| (random_reply(rng, depth + 1), random_reply(rng, depth + 1)))
                    .collect(),
            ),
        }
    }
}

#[test]
fn reply_reader_and_renderer_survive() {
    let mut rng = Rng(seed() ^ 3);
    let mut count = 0u64;
    for _ in 0..3_000 * scale() {
        let reply = random_reply(&mut rng, 0);
        count += 2;
        for proto in [2u8, 3] {
            let bytes = reply.to_resp(proto);
            guarded(
                || format!("{reply:?} (RESP{proto})"),
                || {
                    let (back, used) = parse_reply(&bytes).expect("valid").expect("complete");
                    assert_eq!(used, bytes.len());
                    // What the reader returns encodes to the same bytes.
                    assert_eq!(show(&back.to_resp(proto)), show(&bytes));
                    let text = render_for(&reply, proto);
                    assert!(text.ends_with('\n'));
                    if proto == 3 {
                        assert_eq!(text, render(&reply));
                    }
                },
            );
        }
    }
    for _ in 0..25_000 * scale() {
        let buf = if rng.chance(20) {
            let mut b = random_reply(&mut rng, 1).to_resp(3);
            set_huge_number(&mut rng, &mut b);
            b
        } else {
            protocol_bytes(&mut rng, 48)
        };
        count += 1;
        guarded_bounded(
            || show(&buf),
            buf.len(),
            || {
                if let Ok(Some((r, used))) = parse_reply(&buf) {
                    assert!(used <= buf.len());
                    let _ = render(&r);
                }
            },
        );
    }
    println!("reply reader/renderer fuzz: {count} inputs, no panic");
}

/// Arguments that have found bugs in Redis ports before: empty, signs, limits, non-numbers,
/// glob specials, binary, and the option words commands look for.
const INTERESTING: &[&str] = &[
    "",
    "0",
    "1",
    "-1",
    "2",
    "3",
    "10",
    "-2",
    "100",
    "-100",
    "9223372036854775807",
    "-9223372036854775808",
    "9223372036854775808",
    "-9223372036854775809",
    "18446744073709551615",
    "4294967296",
    "2147483648",
    "nan",
    "NaN",
    "inf",
    "-inf",
    "+inf",
    "1.5",
    "-0",
    "1e308",
    "1e309",
    "0x10",
    " 1",
    "1 ",
    "01",
    "abc",
    "*",
    "?",
    "[",
    "[a-",
    "\\",
    "\x00",
    "\x00\x7f",
    "\u{e9}",
    "k1",
    "k2",
    "k3",
    "k1",
    "k2",
    "field",
    "member",
    "NX",
    "XX",
    "GT",
    "LT",
    "CH",
    "INCR",
    "EX",
    "PX",
    "EXAT",
    "PXAT",
    "KEEPTTL",
    "GET",
    "WITHSCORES",
    "LIMIT",
    "COUNT",
    "MATCH",
    "TYPE",
    "BY",
    "STORE",
    "ASC",
    "DESC",
    "ALPHA",
    "REV",
    "BYSCORE",
    "BYLEX",
    "(1",
    "[a",
    "+",
    "-",
    "$",
    ">",
    "MAXLEN",
    "~",
    "=",
    "ID",
    "LEN",
    "IDX",
    "MINMATCHLEN",
    "WITHMATCHLEN",
    "REPLACE",
    "ABSTTL",
    "IDLETIME",
    "FREQ",
    "BEFORE",
    "AFTER",
    "LEFT",
    "RIGHT",
    "AND",
    "OR",
    "XOR",
    "NOT",
    "BIT",
    "BYTE",
    "u8",
    "i64",
    "#1",
    "OVERFLOW",
    "WRAP",
    "SAT",
    "FAIL",
    "WEIGHTS",
    "AGGREGATE",
    "SUM",
    "MIN",
    "MAX",
    "WITHVALUES",
    "RANK",
    "MAXLEN",
    "0-1",
    "*",
    "NOMKSTREAM",
    "MKSTREAM",
    "GROUP",
    "STREAMS",
    "BLOCK",
    "NOACK",
    "JUSTID",
    "FORCE",
    "RETRYCOUNT",
    "IDLE",
    "TIME",
    "FULL",
    "m",
    "km",
    "FROMMEMBER",
    "FROMLONLAT",
    "BYRADIUS",
    "BYBOX",
    "WITHCOORD",
    "WITHDIST",
    "WITHHASH",
    "ANY",
    "STOREDIST",
    "13.361389",
    "38.115556",
    "-180",
    "85.06",
    "SCHEDULE",
    "ASYNC",
    "SYNC",
    "DB",
    "COPY",
    "AUTH",
    "AUTH2",
    "KEYS",
    "RESP",
    "SETNAME",
    "NOLOOP",
    "BCAST",
    "PREFIX",
    "OPTIN",
    "OPTOUT",
    "ON",
    "OFF",
    "YES",
    "NO",
];

/// Commands a fuzz must not run: they stop or stall the process, or wait on other clients by
/// design (the engine is exercised without a host here, but a host would block on these).
const SKIP: &[&str] = &[
    "shutdown",
    "debug",
    "monitor",
    "sync",
    "psync",
    "replicaof",
    "slaveof",
    "failover",
    "wait",
    "waitaof",
    "subscribe",
    "psubscribe",
    "ssubscribe",
];

fn random_argv(rng: &mut Rng, names: &[&'static commands::CommandSpec]) -> Vec<Vec<u8>> {
    if names.is_empty() || rng.chance(3) {
        return (0..1 + rng.below(3)).map(|_| random_arg(rng)).collect();
    }
    let mut spec = *rng.pick(names);
    let mut name = spec.name.as_bytes().to_vec();
    if rng.chance(30) {
        name.make_ascii_uppercase();
    }
    let mut argv = vec![name];
    if !spec.subcommands.is_empty() && rng.chance(90) {
        spec = rng.pick(spec.subcommands);
        argv.push(spec.name.as_bytes().to_vec());
    }
    // Mostly a count of arguments the arity allows, so the handlers run, not the arity check.
    let min = spec.arity.unsigned_abs() as usize;
    let target = if spec.arity > 0 && rng.chance(90) {
        min
    } else if spec.arity < 0 && rng.chance(90) {
        min + rng.below(6)
    } else {
        rng.below(min + 4)
    };
    let ((first, last, step), _) = spec.legacy_range();
    while argv.len() < target {
        let pos = argv.len() as i32;
        let last = if last < 0 { i32::MAX } else { last };
        let is_key = first > 0 && pos >= first && pos <= last && (pos - first) % step.max(1) == 0;
        // A few shared key names, so commands meet keys of every type other commands made.
        if is_key && rng.chance(85) {
            argv.push(rng.pick(&[&b"k1"[..], b"k2", b"k3", b"{t}k"]).to_vec());
        } else {
            argv.push(random_arg(rng));
        }
    }
    argv
}

#[test]
fn engine_survives_random_commands() {
    let names: Vec<&'static commands::CommandSpec> = commands::all()
        .into_iter()
        .filter(|c| !SKIP.contains(&c.name))
        .collect();
    let iterations = 30_000 * scale();
    // A hang is a failure too: the fuzz runs in a thread and names the command it is stuck on.
    let current = Arc::new(Mutex::new(String::new()));
    let (done_tx, done_rx) = mpsc::channel();
    let worker = {
        let current = Arc::clone(&current);
        std::thread::spawn(move || {
            let mut rng = Rng(seed() ^ 4);
            let mut engine = Engine::new(EngineOptions::default());
            let clients: Vec<_> = (0..3).map(|_| engine.open_client(0)).collect();
            // Not fuzzed: it rescues the others from blocking commands.
            let admin = engine.open_client(0);
            let mut now: i64 = 1_700_000_000_000;
            for i in 0..iterations {
                now += if rng.chance(5) {
                    rng.below(100_000) as i64
                } else {
                    rng.below(3) as i64
                };
                let client = *rng.pick(&clients);
                let argv = random_argv(&mut rng, &names);
                if let Ok(mut c) = current.lock() {
                    *c = format!("#{i} client {client}: {}", show_argv(&argv));
                }
                let what = || format!("#{i} {}", show_argv(&argv));
                guarded(what, || {
                    let reply = engine.execute(client, &argv, now);
                    if let Some(reply) = reply {
                        let proto = engine.proto(client);
                        let _ = reply.to_resp(proto);
                        let _ = render_for(&reply, proto);
                    }
                    if rng.chance(10) {
                        engine.tick(now);
                    }
                    // Whatever happened, the engine still answers PING, in whatever way the
                    // client's state calls for; a client would then leave that state.
                    let ping = engine.execute(client, &[b"PING".to_vec()], now);
                    match &ping {
                        Some(Reply::Status(s)) if s == "PONG" => {}
                        // Inside MULTI.
                        Some(Reply::Status(s)) if s == "QUEUED" => {
                            let _ = engine.execute(client, &[b"DISCARD".to_vec()], now);
                        }
                        // Subscribed (RESP2 answers PING with an array there).
                        Some(Reply::Array(_)) | Some(Reply::Push(_)) => {
                            let _ = engine.execute(client, &[b"RESET".to_vec()], now);
                        }
                        // A password was set, or the client runs as an ACL user the fuzz
                        // made without PING; the engine still answers.
                        Some(Reply::Error(e))
                            if e.starts_with("NOAUTH") || e.starts_with("NOPERM") => {}
                        // Blocked (BLPOP ...): the PING waits behind it. Another client
                        // unblocks it, as CLIENT UNBLOCK does for a real one.
                        None if engine.blocked.contains_key(&client) => {
                            let id = client.to_string().into_bytes();
                            let unblock = [b"CLIENT".to_vec(), b"UNBLOCK".to_vec(), id];
                            let r = engine.execute(admin, &unblock, now);
                            assert_eq!(r, Some(Reply::Integer(1)), "CLIENT UNBLOCK");
                            assert!(!engine.blocked.contains_key(&client), "still blocked");
                        }
                        // CLIENT REPLY OFF / SKIP.
                        None if engine
                            .clients
                            .get(&client)
                            .is_some_and(|c| c.reply_mode != ReplyMode::On) =>
                        {
                            if let Some(c) = engine.client_mut(client) {
                                c.reply_mode = ReplyMode::On;
                            }
                        }
                        // A blocking command is waiting (PING queued behind it): end the
                        // wait as a host would (CLIENT UNBLOCK, the page's Ctrl+C).
                        None if engine.is_blocked(client) => {
                            engine.unblock(client, None, now);
                        }
                        // CLIENT PAUSE holds the client's commands: end the pause as CLIENT
                        // UNPAUSE would.
                        None if engine.client_mut(client).is_some_and(|c| c.paused) => {
                            engine.unpause_clients();
                            engine.tick(now);
                        }
                        other => panic!("PING answered {other:?}"),
                    }
                    // Reconnect-like reset of what a host would act on.
                    if let Some(c) = engine.client_mut(client) {
                        c.outbox.clear();
                        c.closing = false;
                    }
                });
            }
            let _ = done_tx.send(iterations);
        })
    };
    let limit = Duration::from_secs(120 * scale() as u64);
    match done_rx.recv_timeout(limit) {
        Ok(n) => println!("engine fuzz: {n} random command lines, no panic"),
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            // The worker panicked: re-raise its message (it names the input).
            if let Err(e) = worker.join() {
                std::panic::resume_unwind(e);
            }
            return;
        }
        Err(mpsc::RecvTimeoutError::Timeout) => {
            let stuck = current.lock().map(|c| c.clone()).unwrap_or_default();
            panic!(
                "no progress for {limit:?}; stuck on {stuck} (FUZZ_SEED={})",
                seed()
            );
        }
    }
    let _ = worker.join();
}

/// A valid snapshot (with a function library) and DUMP payloads of every type and encoding
/// plus a FUNCTION DUMP payload, to mutate.
fn sample_data() -> (Vec<u8>, Vec<Vec<u8>>) {
    let mut eng = Engine::new(EngineOptions::default());
    let c = eng.open_client(0);
    let mut run = |words: &[&str]| {
        let argv: Vec<Vec<u8>> = words.iter().map(|w| w.as_bytes().to_vec()).collect();
        eng.execute(c, &argv, 0);
    };
    run(&["SET", "s", "hello"]);
    run(&["SET", "n", "12345"]);
    run(&["SET", "long", &"x".repeat(300)]);
    run(&["RPUSH", "l", "a", "b", "1", "2"]);
    run(&["SADD", "is", "1", "2", "3"]);
    run(&["SADD", "ss", "a", "b", "c"]);
    run(&["HSET", "h", "f", "v", "g", "w"]);
    run(&["ZADD", "z", "1", "a", "2.5", "b"]);
    run(&["PFADD", "hll", "a", "b", "c"]);
    run(&["XADD", "x", "1-1", "f", "v"]);
    run(&["XADD", "x", "2-1", "f", "w", "g", "1"]);
    run(&["XGROUP", "CREATE", "x", "g", "0"]);
    run(&[
        "XREADGROUP",
        "GROUP",
        "g",
        "c",
        "COUNT",
        "1",
        "STREAMS",
        "x",
        ">",
    ]);
    run(&["PEXPIRE", "s", "100000"]);
    run(&[
        "FUNCTION",
        "LOAD",
        "#!lua name=lib\nredis.register_function('f', function() return 1 end)",
    ]);
    let rdb = eng.snapshot(0);
    let mut payloads: Vec<Vec<u8>> = eng.dbs[0]
        .iter()
        .map(|(_, e)| redis_playground::rdb::dump(&e.value, false))
        .collect();
    payloads.push(redis_playground::rdb::dump_functions(
        eng.scripts.libraries.values().map(|l| l.code.as_slice()),
        true,
    ));
    (rdb, payloads)
}

/// One random change: a flipped bit, a changed, inserted or deleted byte, a truncation, or a
/// run of bytes copied from elsewhere in the input.
fn mutate(rng: &mut Rng, data: &mut Vec<u8>) {
    if data.is_empty() {
        data.push(rng.next() as u8);
        return;
    }
    let at = rng.below(data.len());
    match rng.below(6) {
        0 => data[at] ^= 1 << rng.below(8),
        1 => data[at] = *rng.pick(&[0u8, 1, 0x7f, 0x80, 0xfe, 0xff, 0x40, 0xc0]),
        2 => data.insert(at, rng.next() as u8),
        3 => {
            data.remove(at);
        }
        4 => data.truncate(at),
        _ => {
            let from = rng.below(data.len());
            let len = rng.below(16).min(data.len() - from);
            let run: Vec<u8> = data[from..from + len].to_vec();
            let at = at.min(data.len());
            data.splice(at..at, run);
        }
    }
}

/// Huge and edge values a length field may be set to, as decimal text.
const HUGE_NUMBERS: &[&[u8]] = &[
    b"0",
    b"-1",
    b"-2",
    b"1048576",
    b"536870912",
    b"536870913",
    b"2147483647",
    b"2147483648",
    b"4294967295",
    b"4294967296",
    b"9223372036854775807",
    b"9223372036854775808",
    b"-9223372036854775808",
    b"18446744073709551615",
    b"99999999999999999999999",
];

/// Sets a decimal number in text (a RESP length after `*`, `$` and the RESP3 aggregates, a
/// manifest's `seq`, an AOF argument) to a huge or edge value; when there is none, inserts one.
fn set_huge_number(rng: &mut Rng, data: &mut Vec<u8>) {
    let starts: Vec<usize> = (0..data.len())
        .filter(|&i| {
            data[i].is_ascii_digit() && (i == 0 || !data[i - 1].is_ascii_digit())
                || (i > 0 && data[i] == b'-' && b"*$%~>=!:".contains(&data[i - 1]))
        })
        .collect();
    let value = *rng.pick(HUGE_NUMBERS);
    if starts.is_empty() {
        let at = rng.below(data.len() + 1);
        data.splice(at..at, value.iter().copied());
        return;
    }
    let from = *rng.pick(&starts);
    let mut to = from + 1;
    while to < data.len() && data[to].is_ascii_digit() {
        to += 1;
    }
    data.splice(from..to, value.iter().copied());
}

/// Overwrites the bytes at a random place with a huge length in one of the binary forms the
/// RDB format and its embedded encodings use: an RDB 14-, 32- or 64-bit length, and little-
/// or big-endian 16-, 32- and 64-bit integers (listpack, ziplist and intset headers).
fn set_huge_length(rng: &mut Rng, data: &mut Vec<u8>) {
    let field: Vec<u8> = match rng.below(8) {
        0 => vec![0x7f, 0xff],
        1 => [&[0x80u8][..], &u32::MAX.to_be_bytes()].concat(),
        2 => [&[0x80u8][..], &(1u32 << 30).to_be_bytes()].concat(),
        3 => [&[0x81u8][..], &u64::MAX.to_be_bytes()].concat(),
        4 => [&[0x81u8][..], &(1u64 << 40).to_be_bytes()].concat(),
        5 => u16::MAX.to_le_bytes().to_vec(),
        6 => u32::MAX.to_le_bytes().to_vec(),
        _ => (1u32 << 31).to_le_bytes().to_vec(),
    };
    if data.len() < field.len() {
        data.extend_from_slice(&field);
        return;
    }
    let at = rng.below(data.len() - field.len() + 1);
    data[at..at + field.len()].copy_from_slice(&field);
}

/// Rewrites a DUMP payload's trailing CRC-64 so the mutated body is parsed, not refused at
/// the checksum.
fn fix_dump_crc(p: &mut [u8]) {
    if p.len() >= 10 {
        let body = p.len() - 8;
        let crc = redis_playground::rdb::crc64(&p[..body]);
        p[body..].copy_from_slice(&crc.to_le_bytes());
    }
}

/// Rewrites a snapshot's trailing CRC-64 likewise.
fn fix_rdb_crc(p: &mut [u8]) {
    fix_dump_crc(p);
}

#[test]
fn rdb_and_dump_readers_survive_mutations() {
    let mut rng = Rng(seed() ^ 0xd0d0);
    let (rdb, payloads) = sample_data();
    let (mut rdb_count, mut dump_count) = (0u64, 0u64);
    for _ in 0..30_000 * scale() {
        let mut snap = rdb.clone();
        for _ in 0..1 + rng.below(4) {
            if rng.chance(25) {
                set_huge_length(&mut rng, &mut snap);
            } else {
                mutate(&mut rng, &mut snap);
            }
        }
        if rng.chance(80) {
            fix_rdb_crc(&mut snap);
        }
        guarded_bounded(
            || show(&snap),
            snap.len(),
            || {
                let _ = redis_playground::rdb::load_snapshot(&snap, 16, 0);
            },
        );
        rdb_count += 1;
        let mut p = rng.pick(&payloads).clone();
        for _ in 0..1 + rng.below(4) {
            if rng.chance(25) {
                set_huge_length(&mut rng, &mut p);
            } else {
                mutate(&mut rng, &mut p);
            }
        }
        if rng.chance(80) {
            fix_dump_crc(&mut p);
        }
        guarded_bounded(
            || show(&p),
            p.len(),
            || {
                let _ = redis_playground::rdb::undump(&p);
                let _ = redis_playground::rdb::undump_functions(&p);
            },
        );
        dump_count += 1;
    }
    println!("rdb fuzz: {rdb_count} mutated snapshots, no panic");
    println!("dump fuzz: {dump_count} mutated DUMP payloads, no panic");
}

/// The script-side readers of outside bytes: cmsgpack's unpackers, struct's unpack/pack/size
/// with random formats, and cjson.decode, fed mutated MessagePack, JSON and format strings.
#[test]
fn lua_unpackers_survive_mutations() {
    let mut rng = Rng(seed() ^ 0x10a5);
    let mut engine = Engine::new(EngineOptions::default());
    let client = engine.open_client(0);
    let now = 1_700_000_000_000;
    let eval = |engine: &mut Engine, args: &[&[u8]]| {
        let mut argv: Vec<Vec<u8>> = vec![b"EVAL".to_vec()];
        argv.extend(args.iter().map(|a| a.to_vec()));
        engine.execute(client, &argv, now)
    };
    // Seeds: MessagePack written by cmsgpack itself, and JSON written by cjson.
    let mut seeds: Vec<Vec<u8>> = Vec::new();
    for script in [
        "return cmsgpack.pack({1, -1, 300, -300, 70000, -70000, 2^40, -2^40, 0.5, 0.1})",
        "return cmsgpack.pack({a = 'x', b = {c = {true, false}}, [3] = string.rep('s', 40)})",
        "return cmsgpack.pack(string.rep('y', 300), {}, {{{}}}, 1e300, -0.0)",
        "return cmsgpack.pack(1, 2, 3, 'abc', {1, {2, {3, {4}}}})",
        "return cjson.encode({a = {1, 2, {b = 'c'}}, d = 'e\\n', f = 1.5e10})",
        "return struct.pack('>bBhHlLiIfdc3s', -1, 2, -3, 4, -5, 6, -7, 8, 0.5, 0.25, 'abc', 'zz')",
    ] {
        if let Some(Reply::Bulk(b)) = eval(&mut engine, &[script.as_bytes(), b"0"]) {
            seeds.push(b);
        }
    }
    assert!(seeds.len() >= 5, "the seed scripts ran");
    let script: &[u8] = b"local f, d, n = ARGV[1], ARGV[2], tonumber(ARGV[3])
        local r = {pcall(cmsgpack.unpack, d)}
        pcall(cmsgpack.unpack_one, d, n)
        pcall(cmsgpack.unpack_limit, d, n % 7, n)
        pcall(struct.unpack, f, d, n)
        pcall(struct.size, f)
        pcall(struct.pack, f, n, d, n, d, -n, d)
        pcall(cjson.decode, d)
        if r[1] and #r < 100 then pcall(cmsgpack.pack, unpack(r, 2)) end
        return #r";
    let letters = b"<>! bBhHlLTiIfdxcsz0123456789";
    let mut count = 0u64;
    for _ in 0..1_500 * scale() {
        let mut data = rng.pick(&seeds).clone();
        for _ in 0..1 + rng.below(4) {
            mutate(&mut rng, &mut data);
        }
        let fmt: Vec<u8> = (0..rng.below(12))
            .map(|_| *rng.pick(&letters[..]))
            .collect();
        let n = format!("{}", rng.below(40) as i64 - 5);
        let args: [&[u8]; 5] = [script, b"0", &fmt, &data, n.as_bytes()];
        guarded(
            || format!("fmt {} data {} n {}", show(&fmt), show(&data), n),
            || {
                let reply = eval(&mut engine, &args);
                assert!(
                    matches!(reply, Some(Reply::Integer(_))),
                    "the script ran to its end: {:?}",
                    reply
                );
            },
        );
        count += 1;
    }
    println!("lua unpackers fuzz: {} mutated inputs, no panic", count);
}

/// An append-only file of every kind of entry a server writes: SELECTs, writes of each type,
/// a transaction, an annotation, expiries; with a function library when `with_function`
/// (which costs a Lua interpreter per file read, so most files go without).
fn sample_aof(with_function: bool) -> Vec<u8> {
    let mut out = Vec::new();
    for line in [
        "SELECT 0",
        "SET s hello",
        "RPUSH l a b c",
        "HSET h f v g w",
        "SADD st 1 2 3",
        "ZADD z 1 a 2.5 b",
        "XADD x 1-1 f v",
        "XGROUP CREATE x g 0",
        "XCLAIM x g c 0 1-1 TIME 1 RETRYCOUNT 1 FORCE JUSTID LASTID 1-1",
        "PEXPIREAT s 99999999999999",
        "MULTI",
        "INCR n",
        "LPOP l",
        "EXEC",
        "SELECT 3",
        "PFADD hll a b c",
        "SETBIT b 7 1",
        "FUNCTION LOAD \"#!lua name=lib\nredis.register_function('f', function() return 1 end)\"",
    ] {
        if line.starts_with("FUNCTION") && !with_function {
            continue;
        }
        let argv = split_args(line.as_bytes()).expect("a line");
        out.extend_from_slice(&encode_request(&argv));
        if line == "EXEC" {
            out.extend_from_slice(b"#TS:1700000000\r\n");
        }
    }
    out
}

/// The AOF reader (run through an engine, as the native server loads a file) and the manifest
/// parser, fed mutated files: no panic, and every outcome is one of the reader's answers.
#[test]
fn aof_reader_and_manifest_survive_mutations() {
    use redis_playground::aof::{parse_manifest, read_aof};
    let mut rng = Rng(seed() ^ 0xa0f);
    let (aof, aof_with_function) = (sample_aof(false), sample_aof(true));
    let manifest =
        b"file appendonly.aof.1.base.rdb seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n"
            .to_vec();
    let (mut aof_count, mut manifest_count) = (0u64, 0u64);
    for _ in 0..30_000 * scale() {
        let mut file = if rng.chance(10) {
            aof_with_function.clone()
        } else {
            aof.clone()
        };
        for _ in 0..1 + rng.below(4) {
            if rng.chance(25) {
                set_huge_number(&mut rng, &mut file);
            } else {
                mutate(&mut rng, &mut file);
            }
        }
        let mut engine = Engine::new(EngineOptions::default());
        let client = engine.open_client(0);
        guarded_bounded(
            || show(&file),
            file.len(),
            || {
                let _ = read_aof(&mut engine, client, &file, 1_700_000_000_000);
            },
        );
        aof_count += 1;
        let mut m = manifest.clone();
        for _ in 0..1 + rng.below(4) {
            if rng.chance(20) {
                set_huge_number(&mut rng, &mut m);
            } else {
                mutate(&mut rng, &mut m);
            }
        }
        guarded_bounded(
            || show(&m),
            m.len(),
            || {
                let _ = parse_manifest(&String::from_utf8_lossy(&m));
            },
        );
        manifest_count += 1;
    }
    println!("aof fuzz: {aof_count} mutated files, no panic");
    println!("aof manifest fuzz: {manifest_count} mutated manifests, no panic");
}

/// A random, valid cluster bus message of any type.
fn random_bus_msg(rng: &mut Rng) -> bus::Msg {
    let name = |rng: &mut Rng| -> bus::NodeName {
        let mut n = [0u8; 40];
        for b in n.iter_mut() {
            *b = *rng.pick(b"0123456789abcdef");
        }
        n
    };
    let mut h = bus::Header::new(name(rng));
    h.port = rng.next() as u16;
    h.cport = rng.next() as u16;
    h.current_epoch = rng.next() % 100;
    h.config_epoch = rng.next() % 100;
    h.offset = rng.next();
    h.flags = rng.next() as u16 & 0x3ff;
    h.state = rng.below(2) as u8;
    h.mflags[0] = rng.below(4) as u8;
    for _ in 0..rng.below(4) {
        let first = rng.below(16384) as u16;
        h.myslots
            .insert_range(first, first.saturating_add(rng.below(300) as u16));
    }
    if rng.chance(30) {
        h.slaveof = name(rng);
    }
    if rng.chance(30) {
        h.myip = bus::ip_field(b"192.168.1.20");
    }
    let bytes = |rng: &mut Rng, max: usize| -> Vec<u8> {
        (0..rng.below(max + 1)).map(|_| rng.next() as u8).collect()
    };
    let gossip = |rng: &mut Rng| -> bus::Gossip {
        let entries = (0..rng.below(4))
            .map(|_| bus::GossipEntry {
                nodename: name(rng),
                ping_sent: rng.next() as u32,
                pong_received: rng.next() as u32,
                ip: bus::ip_field(b"127.0.0.1"),
                port: rng.next() as u16,
                cport: rng.next() as u16,
                flags: rng.next() as u16,
                pport: 0,
                notused: 0,
            })
            .collect();
        let exts = (0..rng.below(3))
            .map(|_| {
                if rng.chance(70) {
                    let host = bytes(rng, 20);
                    bus::PingExt::hostname(&host)
                } else {
                    let mut data = bytes(rng, 24);
                    data.resize(bus::align8(data.len()), 0);
                    bus::PingExt {
                        kind: rng.next() as u16,
                        unused: 0,
                        data,
                    }
                }
            })
            .collect();
        bus::Gossip { entries, exts }
    };
    let body = match rng.below(12) {
        0 => bus::Body::Ping(gossip(rng)),
        1 => bus::Body::Pong(gossip(rng)),
        2 => bus::Body::Meet(gossip(rng)),
        3 => bus::Body::Fail { about: name(rng) },
        4 => bus::Body::Publish {
            channel: bytes(rng, 12),
            message: bytes(rng, 30),
        },
        5 => bus::Body::PublishShard {
            channel: bytes(rng, 12),
            message: bytes(rng, 30),
        },
        6 => bus::Body::FailoverAuthRequest,
        7 => bus::Body::FailoverAuthAck,
        8 => bus::Body::MfStart,
        9 => {
            let mut slots = bus::SlotBitmap::new();
            slots.insert(rng.below(16384) as u16);
            bus::Body::Update {
                config_epoch: rng.next(),
                node: name(rng),
                slots,
            }
        }
        10 => bus::Body::Module {
            module_id: (rng.next()).to_be_bytes(),
            kind: rng.next() as u8,
            payload: bytes(rng, 40),
        },
        _ => bus::Body::Unknown {
            code: 11 + rng.below(100) as u16,
            data: bytes(rng, 40),
        },
    };
    bus::Msg::new(h, body)
}

/// Writes a random interesting value over one of the fields the decoder's checks read: the
/// header's length, version, type, count and extension count, and the first length fields
/// after the header (gossip, extension, PUBLISH and MODULE lengths).
fn poke_bus_field(rng: &mut Rng, m: &mut [u8]) {
    const FIELDS: &[(usize, usize)] = &[
        (4, 4),
        (8, 2),
        (12, 2),
        (14, 2),
        (2214, 2),
        (2253, 1),
        (2256, 4),
        (2260, 4),
        (2264, 4),
        (2256 + 104, 4),
        (2256 + 208, 4),
    ];
    let (at, width) = *rng.pick(FIELDS);
    if at + width > m.len() {
        return;
    }
    let v: u64 = match rng.below(5) {
        0 => 0,
        1 => rng.below(12) as u64,
        2 => u64::MAX,
        3 => (m.len() as u64)
            .wrapping_add(rng.below(17) as u64)
            .wrapping_sub(8),
        _ => rng.next(),
    };
    let be = v.to_be_bytes();
    m[at..at + width].copy_from_slice(&be[8 - width..]);
}

/// The cluster bus decoder and framer: valid messages round-trip byte for byte; mutated ones
/// (random bytes, or a length or count field set to an edge value, usually with the total
/// length fixed up so the deeper checks run) are refused or decode to a message that
/// re-encodes to exactly the input; the framer takes any stream in any chunks.
#[test]
fn cluster_bus_decoder_survives_mutations() {
    let mut rng = Rng(seed() ^ 0xb05);
    let mut count = 0u64;
    let mut accepted = 0u64;
    for _ in 0..20_000 * scale() {
        let msg = random_bus_msg(&mut rng);
        let good = msg.encode();
        guarded(
            || format!("{msg:?}"),
            || assert_eq!(bus::Msg::decode(&good).as_ref(), Ok(&msg)),
        );
        let mut m = good.clone();
        for _ in 0..1 + rng.below(3) {
            if rng.chance(50) {
                poke_bus_field(&mut rng, &mut m);
            } else {
                mutate(&mut rng, &mut m);
            }
        }
        if rng.chance(80) && m.len() >= 8 {
            let len = (m.len() as u32).to_be_bytes();
            m[4..8].copy_from_slice(&len);
        }
        guarded_bounded(
            || show(&m),
            good.len() + m.len(),
            || {
                if let Ok(back) = bus::Msg::decode(&m) {
                    accepted += 1;
                    assert_eq!(back.encode(), m, "re-encoding differs");
                }
                // The same bytes twice, after the valid message, in random chunks.
                let stream = [good.as_slice(), &m, &m].concat();
                let mut f = bus::Framer::with_max_len(1 << 20);
                let mut yielded = 0;
                let mut pos = 0;
                while pos < stream.len() {
                    let n = (1 + rng.below(3000)).min(stream.len() - pos);
                    f.push(&stream[pos..pos + n]);
                    pos += n;
                    loop {
                        match f.next_frame() {
                            Ok(Some(frame)) => {
                                yielded += frame.len();
                                let _ = bus::Msg::decode(&frame);
                            }
                            Ok(None) => break,
                            Err(e) => {
                                assert!(e.closes_link(), "{e}");
                                break;
                            }
                        }
                    }
                }
                assert!(yielded + f.buffered() <= stream.len());
                assert!(yielded >= good.len(), "the valid message comes out first");
            },
        );
        count += 2;
    }
    println!("cluster bus fuzz: {count} inputs ({accepted} mutated ones accepted), no panic");
}
