//! The native server under load and faults, over real TCP on loopback: a pipeline of
//! megabytes, a value of exactly `proto-max-bulk-len`, clients that go away in the middle of a
//! command, a transaction, a block or a subscription, a client blocked forever while others
//! work, and two thousand connections working at once. Each time the server stays up, answers
//! the others, and what the departed clients held is given back. Every check is bounded in
//! count and time; none measures a speed.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use common::{argv, raise_own_fd_limit, reset_on_close, Conn, OurServer as Server};

fn launch(extra: &[&str]) -> Server {
    let mut args = vec!["--save", "", "--appendonly", "no"];
    args.extend_from_slice(extra);
    Server::start(&args)
}

fn call(port: u16, words: &[&str]) -> String {
    let mut c = Conn::connect(port).expect("connect");
    String::from_utf8_lossy(&c.call(&argv(words)).expect("reply")).into_owned()
}

/// A numeric field of INFO.
fn info_field(port: u16, field: &str) -> u64 {
    let info = call(port, &["INFO", "everything"]);
    info.lines()
        .find_map(|l| l.strip_prefix(field).and_then(|v| v.strip_prefix(':')))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("{field} in INFO"))
}

/// Waits (at most `secs`) until INFO's `field` is `want`; returns the last value seen.
fn wait_field(port: u16, field: &str, want: u64, secs: u64) -> u64 {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        let now = info_field(port, field);
        if now == want || Instant::now() > deadline {
            return now;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn request(words: &[&[u8]]) -> Vec<u8> {
    let mut req = format!("*{}\r\n", words.len()).into_bytes();
    for w in words {
        req.extend_from_slice(format!("${}\r\n", w.len()).as_bytes());
        req.extend_from_slice(w);
        req.extend_from_slice(b"\r\n");
    }
    req
}

/// 100,000 INCRs and SETs with a 1 MB value among them, written as one stream of about 4 MB
/// while the replies are read: every reply comes, in order.
#[test]
fn a_pipeline_of_megabytes_is_answered_in_order() {
    const N: usize = 50_000;
    let server = launch(&[]);
    let mut pipeline = Vec::new();
    for i in 0..N {
        pipeline.extend(request(&[b"INCR", b"counter"]));
        let key = format!("key:{i}");
        if i == N / 2 {
            pipeline.extend(request(&[b"SET", key.as_bytes(), &vec![b'x'; 1 << 20]]));
        } else {
            pipeline.extend(request(&[b"SET", key.as_bytes(), key.as_bytes()]));
        }
    }
    assert!(pipeline.len() > 3 << 20, "{} bytes", pipeline.len());
    let mut reader = Conn::connect(server.port).expect("connect");
    // One connection: a thread writes while this one reads, as a pipelining client does.
    let mut writer = reader.try_clone_stream().expect("clone");
    let sending = std::thread::spawn(move || writer.write_all(&pipeline));
    for i in 0..N {
        let incr = reader.read_reply().expect("INCR's reply");
        assert_eq!(incr, format!(":{}\r\n", i + 1).as_bytes(), "reply {i}");
        assert_eq!(reader.read_reply().expect("SET's reply"), b"+OK\r\n");
    }
    sending.join().expect("writer").expect("sent");
    assert_eq!(
        reader.call(&argv(&["DBSIZE"])).expect("reply"),
        format!(":{}\r\n", N + 1).as_bytes()
    );
    assert_eq!(
        reader
            .call(&argv(&["STRLEN", &format!("key:{}", N / 2)]))
            .expect("reply"),
        b":1048576\r\n"
    );
}

/// A bulk of exactly `proto-max-bulk-len` bytes is a value like any other; a string grown past
/// it by APPEND or SETRANGE is refused with Redis's error and left as it was.
#[test]
fn a_value_of_exactly_proto_max_bulk_len_is_stored() {
    const MAX: usize = 4 << 20;
    let server = launch(&["--proto-max-bulk-len", "4mb"]);
    let mut c = Conn::connect(server.port).expect("connect");
    let mut value = vec![b'a'; MAX];
    value[MAX - 1] = b'z';
    let set = request(&[b"SET", b"big", &value]);
    assert_eq!(c.call_bytes(&set).expect("reply"), b"+OK\r\n");
    let got = c.call(&argv(&["GET", "big"])).expect("reply");
    let mut want = format!("${MAX}\r\n").into_bytes();
    want.extend_from_slice(&value);
    want.extend_from_slice(b"\r\n");
    assert!(got == want, "GET gave {} bytes back", got.len());
    let too_big = b"-ERR string exceeds maximum allowed size (proto-max-bulk-len)\r\n";
    assert_eq!(
        c.call(&argv(&["APPEND", "big", "!"])).expect("reply"),
        too_big
    );
    assert_eq!(
        c.call(&argv(&["SETRANGE", "big", &MAX.to_string(), "!"]))
            .expect("reply"),
        too_big
    );
    assert_eq!(
        c.call(&argv(&["SETRANGE", "big", &(MAX - 1).to_string(), "!"]))
            .expect("reply"),
        format!(":{MAX}\r\n").as_bytes()
    );
    assert_eq!(
        c.call(&argv(&["GETRANGE", "big", "-2", "-1"]))
            .expect("reply"),
        b"$2\r\na!\r\n"
    );
}

/// Clients that leave half-way: through a command's bytes, inside MULTI, blocked, subscribed,
/// or with megabytes of replies unread. What they started never runs, nothing waits for them,
/// and the memory they held is given back: rounds of them leave `used_memory` where the first
/// round left it (that one may grow tables and buffers the server keeps for later clients).
#[test]
fn clients_that_leave_mid_command_change_nothing() {
    let server = launch(&[]);
    let port = server.port;
    let big = "v".repeat(256 * 1024);
    assert_eq!(call(port, &["SET", "big", &big]), "+OK\r\n");

    let leave_after = |bytes: &[u8]| {
        let s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
        let mut c = Conn::from_stream(s);
        c.send(bytes).expect("send");
        // Closing at once could race the server's read of the bytes: wait until it has them.
        c.wait_read_by(port);
    };
    let mut half = b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$2097152\r\n".to_vec();
    half.extend(std::iter::repeat_n(b'h', 1 << 20));
    let round = || {
        // Part of a bulk argument, part of a request's header, part of an inline command.
        leave_after(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$10\r\nabc");
        leave_after(b"*3\r\n$3\r\nSET\r\n");
        leave_after(b"SET k inline");
        // A megabyte of a bulk that announced two.
        leave_after(&half);
        // A transaction never executed.
        leave_after(
            &[
                request(&[b"MULTI"]),
                request(&[b"SET", b"k", b"from-multi"]),
            ]
            .concat(),
        );
        // A client blocked on a list, then gone: the element pushed later stays in the list.
        leave_after(&request(&[b"BLPOP", b"list", b"0"]));
        // A subscriber gone: nobody receives.
        leave_after(&request(&[b"SUBSCRIBE", b"ch"]));
        // 250 MB of replies asked for and never read.
        leave_after(&request(&[b"GET", b"big"]).repeat(1000));

        assert_eq!(wait_field(port, "connected_clients", 1, 10), 1);
        assert_eq!(info_field(port, "blocked_clients"), 0);
        assert_eq!(call(port, &["EXISTS", "k"]), ":0\r\n");
        assert_eq!(call(port, &["LPUSH", "list", "x"]), ":1\r\n");
        assert_eq!(call(port, &["LLEN", "list"]), ":1\r\n");
        assert_eq!(call(port, &["DEL", "list"]), ":1\r\n");
        assert_eq!(call(port, &["PUBLISH", "ch", "m"]), ":0\r\n");
        info_field(port, "used_memory")
    };
    let first = round();
    for _ in 0..3 {
        let after = round();
        // Each round held megabytes; a leak of any of it would show.
        assert!(
            after < first + 64 * 1024,
            "used_memory {first} after the first round, {after} after another"
        );
    }
}

/// A client blocked with no timeout holds nothing up: fifty others run their commands, and
/// the blocked one is served when its list gets an element.
#[test]
fn a_client_blocked_forever_does_not_hold_the_others() {
    let server = launch(&[]);
    let port = server.port;
    let mut blocked = Conn::connect(port).expect("connect");
    blocked
        .call_n(&argv(&["BLPOP", "never", "0"]), 0)
        .expect("send");
    blocked.wait_read_by(port);
    let workers: Vec<_> = (0..50)
        .map(|w| {
            std::thread::spawn(move || {
                let mut c = Conn::connect(port).expect("connect");
                for i in 0..100 {
                    let key = format!("w{w}");
                    let r = c.call(&argv(&["INCR", &key])).expect("reply");
                    assert_eq!(r, format!(":{}\r\n", i + 1).as_bytes());
                }
            })
        })
        .collect();
    for w in workers {
        w.join().expect("worker");
    }
    assert_eq!(info_field(port, "blocked_clients"), 1);
    assert_eq!(call(port, &["LPUSH", "never", "x"]), ":1\r\n");
    assert_eq!(
        blocked.read_reply().expect("served"),
        b"*2\r\n$5\r\nnever\r\n$1\r\nx\r\n"
    );
    assert_eq!(call(port, &["EXISTS", "never"]), ":0\r\n");
}

/// Two thousand connections, each sending INCRs at the same time as the others: every INCR
/// runs once, each reply a different number, and the total is exact.
#[test]
fn two_thousand_connections_work_at_once() {
    const CONNS: usize = 2000;
    const ROUNDS: usize = 5;
    const THREADS: usize = 4;
    let limit = raise_own_fd_limit();
    // A descriptor per connection on each side, both in this machine's limit.
    if limit < 2 * CONNS as u64 + 200 {
        eprintln!("skipped: the open file limit ({limit}) is too low for {CONNS} connections");
        return;
    }
    let server = launch(&["--maxclients", "4000"]);
    let port = server.port;
    let threads: Vec<_> = (0..THREADS)
        .map(|_| {
            std::thread::spawn(move || {
                let mut conns: Vec<TcpStream> = (0..CONNS / THREADS)
                    .map(|_| {
                        let s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
                        reset_on_close(&s);
                        s.set_read_timeout(Some(Duration::from_secs(20)))
                            .expect("timeout");
                        s
                    })
                    .collect();
                let mut seen = Vec::with_capacity(conns.len() * ROUNDS);
                for _ in 0..ROUNDS {
                    for s in &mut conns {
                        s.write_all(b"INCR total\r\n").expect("send");
                    }
                    for s in &mut conns {
                        seen.push(read_integer(s));
                    }
                }
                seen
            })
        })
        .collect();
    let mut seen: Vec<u64> = threads
        .into_iter()
        .flat_map(|t| t.join().expect("thread"))
        .collect();
    seen.sort_unstable();
    let want: Vec<u64> = (1..=(CONNS * ROUNDS) as u64).collect();
    assert!(
        seen == want,
        "{} replies, not 1..={}",
        seen.len(),
        want.len()
    );
    assert_eq!(
        call(port, &["GET", "total"]),
        format!(
            "${}\r\n{}\r\n",
            (CONNS * ROUNDS).to_string().len(),
            CONNS * ROUNDS
        )
    );
    assert_eq!(wait_field(port, "connected_clients", 1, 30), 1);
}

/// Reads one `:<n>\r\n` reply byte by byte (the replies are short, and nothing else comes).
fn read_integer(s: &mut TcpStream) -> u64 {
    let mut line = Vec::new();
    let mut byte = [0u8; 1];
    while !line.ends_with(b"\r\n") {
        s.read_exact(&mut byte).expect("reply");
        line.push(byte[0]);
    }
    let text = std::str::from_utf8(&line).expect("text");
    text.strip_prefix(':')
        .and_then(|n| n.trim_end().parse().ok())
        .unwrap_or_else(|| panic!("not an integer reply: {text:?}"))
}
