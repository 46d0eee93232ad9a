//! The native server's bounds, over real TCP on loopback: the query buffer limit, the bulk
//! length limit, output buffer limits for pub/sub and normal clients, maxclients, and
//! thousands of idle connections. Each check is bounded in count and time.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use common::{argv, raise_own_fd_limit, reset_on_close, Conn, OurServer as Server};

impl Server {
    /// Ours with the arguments every check here shares, then `extra`.
    fn launch(extra: &[&str]) -> Server {
        let mut args = vec!["--save", "", "--appendonly", "no"];
        args.extend_from_slice(extra);
        Server::start(&args)
    }

    fn conn(&self) -> Conn {
        Conn::connect(self.port).expect("connect")
    }

    fn call(&self, words: &[&str]) -> String {
        String::from_utf8_lossy(&self.conn().call(&argv(words)).expect("reply")).into_owned()
    }

    /// `connected_clients` from INFO, counting the connection that asks.
    fn connected_clients(&self) -> usize {
        let info = self.call(&["INFO", "clients"]);
        info.lines()
            .find_map(|l| l.strip_prefix("connected_clients:"))
            .and_then(|v| v.trim().parse().ok())
            .expect("connected_clients in INFO")
    }

    /// Waits until `connected_clients` is `n`, for at most `secs` seconds.
    fn wait_clients(&self, n: usize, secs: u64) -> usize {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            let now = self.connected_clients();
            if now == n || Instant::now() > deadline {
                return now;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// Whether the server closed `s`: reads until EOF or reset (true) or a quiet `secs` (false).
fn closed_within(s: &mut TcpStream, secs: u64) -> bool {
    let deadline = Instant::now() + Duration::from_secs(secs);
    s.set_read_timeout(Some(Duration::from_millis(100)))
        .expect("timeout");
    let mut buf = [0u8; 65536];
    while Instant::now() < deadline {
        match s.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return true,
            Err(_) => {}
        }
    }
    false
}

#[test]
fn a_query_buffer_past_its_limit_closes_the_client() {
    let server = Server::launch(&["--client-query-buffer-limit", "1mb"]);
    let mut s = TcpStream::connect(("127.0.0.1", server.port)).expect("connect");
    // A bulk argument under proto-max-bulk-len, sent in part only: 1.5 MB stay unparsed.
    s.write_all(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$3000000\r\n")
        .expect("send");
    let chunk = vec![b'x'; 64 * 1024];
    for _ in 0..24 {
        if s.write_all(&chunk).is_err() {
            break;
        }
    }
    assert!(closed_within(&mut s, 10), "the connection stays open");
    // The others go on.
    assert_eq!(server.call(&["PING"]), "+PONG\r\n");
    // Under the limit, the same request completes.
    let mut c = server.conn();
    let mut req = b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$900000\r\n".to_vec();
    req.extend(std::iter::repeat_n(b'y', 900_000));
    req.extend_from_slice(b"\r\n");
    assert_eq!(c.call_bytes(&req).expect("reply"), b"+OK\r\n");
    assert_eq!(server.call(&["STRLEN", "k"]), ":900000\r\n");
}

#[test]
fn a_bulk_past_proto_max_bulk_len_is_a_protocol_error() {
    let server = Server::launch(&["--proto-max-bulk-len", "1mb"]);
    let mut s = TcpStream::connect(("127.0.0.1", server.port)).expect("connect");
    s.write_all(b"*2\r\n$3\r\nGET\r\n$1048577\r\n")
        .expect("send");
    s.set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    let mut got = Vec::new();
    let _ = s.read_to_end(&mut got);
    assert_eq!(got, b"-ERR Protocol error: invalid bulk length\r\n");
    // CONFIG SET takes effect on the next request.
    let mut c = server.conn();
    c.call(&argv(&["CONFIG", "SET", "proto-max-bulk-len", "2mb"]))
        .expect("config");
    let mut req = b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1048577\r\n".to_vec();
    req.extend(std::iter::repeat_n(b'z', 1_048_577));
    req.extend_from_slice(b"\r\n");
    assert_eq!(c.call_bytes(&req).expect("reply"), b"+OK\r\n");
}

#[test]
fn a_subscriber_that_stops_reading_is_disconnected() {
    let server = Server::launch(&["--client-output-buffer-limit", "pubsub", "256kb", "0", "0"]);
    let mut sub = TcpStream::connect(("127.0.0.1", server.port)).expect("connect");
    sub.write_all(b"*2\r\n$9\r\nSUBSCRIBE\r\n$2\r\nch\r\n")
        .expect("subscribe");
    let mut confirm = [0u8; 64];
    sub.set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    let _ = sub.read(&mut confirm).expect("confirmation");
    // The subscriber reads no more; 32 MB of messages cannot all sit in socket buffers.
    let mut publisher = server.conn();
    let message = "m".repeat(16 * 1024);
    let mut receivers = String::new();
    for _ in 0..2048 {
        let r = publisher
            .call(&argv(&["PUBLISH", "ch", &message]))
            .expect("publish");
        receivers = String::from_utf8_lossy(&r).into_owned();
        if receivers == ":0\r\n" {
            break;
        }
    }
    assert_eq!(receivers, ":0\r\n", "the subscriber is still there");
    assert!(closed_within(&mut sub, 10));
    // The publisher and the connection asking.
    assert_eq!(server.wait_clients(2, 10), 2);
}

#[test]
fn a_normal_client_that_stops_reading_is_disconnected_when_a_limit_is_set() {
    let server = Server::launch(&["--client-output-buffer-limit", "normal", "1mb", "0", "0"]);
    let value = "v".repeat(64 * 1024);
    assert_eq!(server.call(&["SET", "big", &value]), "+OK\r\n");
    let mut greedy = TcpStream::connect(("127.0.0.1", server.port)).expect("connect");
    greedy
        .set_write_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    let get = b"*2\r\n$3\r\nGET\r\n$3\r\nbig\r\n".repeat(100);
    // 64 MB of replies asked for, none read.
    for _ in 0..100 {
        if greedy.write_all(&get).is_err() {
            break;
        }
    }
    assert!(closed_within(&mut greedy, 10), "the connection stays open");
    assert_eq!(server.wait_clients(1, 10), 1);
}

#[test]
fn replies_left_unread_stop_reading_not_the_server() {
    // No limit for normal clients (the default): a client that pipelines without reading is
    // no longer read once its replies pile up, and everyone else is served meanwhile.
    let server = Server::launch(&[]);
    let value = "v".repeat(256 * 1024);
    assert_eq!(server.call(&["SET", "big", &value]), "+OK\r\n");
    let mut greedy = TcpStream::connect(("127.0.0.1", server.port)).expect("connect");
    greedy
        .set_write_timeout(Some(Duration::from_millis(500)))
        .expect("timeout");
    let get = b"*2\r\n$3\r\nGET\r\n$3\r\nbig\r\n".repeat(1000);
    // Up to 256 MB of replies asked for; the writes stop when the server stops reading.
    let mut sent = 0;
    for _ in 0..1000 {
        if greedy.write_all(&get).is_err() {
            break;
        }
        sent += 1;
    }
    assert!(sent < 1000, "the server read everything");
    assert_eq!(server.call(&["PING"]), "+PONG\r\n");
    assert_eq!(server.connected_clients(), 2);
}

#[test]
fn maxclients_refuses_with_redis_error() {
    let server = Server::launch(&["--maxclients", "2"]);
    let mut a = server.conn();
    let _b = server.conn();
    assert_eq!(a.call(&argv(&["PING"])).expect("reply"), b"+PONG\r\n");
    let mut c = TcpStream::connect(("127.0.0.1", server.port)).expect("connect");
    c.set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    let mut got = Vec::new();
    let _ = c.read_to_end(&mut got);
    assert_eq!(got, b"-ERR max number of clients reached\r\n");
    let stats =
        String::from_utf8_lossy(&a.call(&argv(&["INFO", "stats"])).expect("info")).into_owned();
    assert!(
        stats.contains("rejected_connections:1\r\n"),
        "INFO stats does not count the refused connection: {stats}"
    );
}

/// A server that listens: the process, its port and its log up to "Ready to accept
/// connections".
type Started = (common::KillOnDrop, u16, Vec<String>);

/// A server that exited instead: its log and exit code.
type Exited = (Vec<String>, Option<i32>);

/// A server started by `sh` under `ulimit -n fds` (soft and hard), its log on standard
/// output.
fn start_limited(bin: &std::path::Path, fds: u32) -> Result<Started, Exited> {
    use std::io::BufRead;
    use std::process::{Command, Stdio};
    let port = common::free_port();
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(format!("ulimit -n {fds} && exec \"$0\" \"$@\""))
        .arg(bin)
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
        .args(["--save", "", "--appendonly", "no", "--dir", "/tmp"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start");
    let out = child.stdout.take().expect("stdout");
    let mut lines = std::io::BufReader::new(out).lines();
    let mut log = Vec::new();
    for line in lines.by_ref().map_while(Result::ok) {
        let ready = line.contains("Ready to accept connections");
        log.push(line);
        if ready {
            std::thread::spawn(move || lines.for_each(drop));
            return Ok((common::KillOnDrop(child), port, log));
        }
    }
    let code = child.wait().ok().and_then(|s| s.code());
    Err((log, code))
}

/// The level mark and text of the log lines about the open file limit (without the
/// process id and time, which differ).
fn fd_lines(log: &[String]) -> Vec<String> {
    log.iter()
        .filter(|l| l.contains("open files") || l.contains("ulimit") || l.contains("max file"))
        .map(|l| l.splitn(6, ' ').nth(5).unwrap_or(l).to_string())
        .collect()
}

/// Under a low open file limit both servers lower maxclients alike, log the same lines,
/// refuse CONFIG SET maxclients above what the limit holds with the same error, and refuse
/// to start when not even one client fits. Whatever this machine lets a process raise its
/// limit to, both are compared under the same one.
#[test]
fn the_open_file_limit_bounds_maxclients_as_redis_server_does() {
    let Some(redis) = common::redis_server_path() else {
        assert!(
            std::env::var_os("REQUIRE_REDIS").is_none(),
            "REQUIRE_REDIS is set but no redis-server is installed"
        );
        return;
    };
    let ours = std::path::PathBuf::from(env!("CARGO_BIN_EXE_redis-playground-server"));
    let mut seen = Vec::new();
    for bin in [&redis, &ours] {
        let (_server, port, log) = start_limited(bin, 64).unwrap_or_else(|(log, code)| {
            panic!("{} did not start ({code:?}): {log:?}", bin.display())
        });
        let mut c = Conn::connect(port).expect("connect");
        let mut replies = Vec::new();
        for words in [
            &["CONFIG", "GET", "maxclients"][..],
            &["CONFIG", "SET", "maxclients", "100000"],
            &["CONFIG", "GET", "maxclients"],
            &["CONFIG", "SET", "maxclients", "10"],
            &["CONFIG", "GET", "maxclients"],
        ] {
            replies
                .push(String::from_utf8_lossy(&c.call(&argv(words)).expect("reply")).into_owned());
        }
        seen.push((fd_lines(&log), replies));
    }
    assert_eq!(seen[0], seen[1], "redis-server, then ours");
    let mut refused = Vec::new();
    for bin in [&redis, &ours] {
        match start_limited(bin, 30) {
            Ok(_) => panic!("{} started with 30 descriptors", bin.display()),
            Err((log, code)) => refused.push((fd_lines(&log), code)),
        }
    }
    assert_eq!(refused[0], refused[1], "redis-server, then ours");
}

#[test]
fn ten_thousand_idle_connections() {
    const WANTED: usize = 10_000;
    // Both ends of every connection are on this machine: the test needs a descriptor per
    // connection, and so does the server.
    let limit = raise_own_fd_limit();
    let n = WANTED.min(usize::try_from(limit).unwrap_or(0).saturating_sub(200));
    if n < WANTED {
        eprintln!(
            "skipped: the open file limit ({limit}) allows {n} idle connections, not {WANTED} \
             (raise `ulimit -Hn`)"
        );
        return;
    }
    let server = Server::launch(&["--maxclients", "10100"]);
    let started = Instant::now();
    let mut idle = Vec::with_capacity(n);
    for i in 0..n {
        match TcpStream::connect(("127.0.0.1", server.port)) {
            Ok(s) => {
                reset_on_close(&s);
                idle.push(s);
            }
            Err(e) => panic!("connection {i} failed: {e}"),
        }
        // A machine short of local ports connects slowly: test what it allows in time.
        if started.elapsed() > Duration::from_secs(60) {
            eprintln!("note: only {} connections in 60 s", idle.len());
            break;
        }
    }
    let n = idle.len();
    assert_eq!(server.wait_clients(n + 1, 30), n + 1);
    eprintln!("{n} idle connections accepted in {:?}", started.elapsed());
    // A sample of them, spread over the whole range, is served.
    for s in idle.iter_mut().step_by(997) {
        s.set_read_timeout(Some(Duration::from_secs(10)))
            .expect("timeout");
        s.write_all(b"PING\r\n").expect("send");
        let mut got = [0u8; 7];
        s.read_exact(&mut got).expect("reply");
        assert_eq!(&got, b"+PONG\r\n");
    }
    // Still serving, and a message reaches one of the idle ones.
    let mut c = server.conn();
    assert_eq!(
        c.call(&argv(&["SET", "k", "v"])).expect("reply"),
        b"+OK\r\n"
    );
    let last = idle.last_mut().expect("a connection");
    last.set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    last.write_all(b"GET k\r\n").expect("send");
    let mut got = [0u8; 16];
    let n_read = last.read(&mut got).expect("reply");
    assert_eq!(&got[..n_read], b"$1\r\nv\r\n");
    drop(c);
    drop(idle);
    assert_eq!(server.wait_clients(1, 30), 1);
}

/// A script that runs past busy-reply-threshold: the server goes on serving, answering BUSY
/// to other clients (those connected before and after it started), SCRIPT KILL ends it with
/// Redis's error, a script that wrote cannot be killed, and SHUTDOWN NOSAVE stops the server.
#[test]
fn a_long_script_leaves_the_server_answering_busy_until_killed() {
    let mut server = Server::start(&["--busy-reply-threshold", "50"]);
    let mut before = Conn::connect(server.port).expect("connect");
    let mut runner = Conn::connect(server.port).expect("connect");
    runner
        .call_n(&argv(&["EVAL", "while true do end", "0"]), 0)
        .expect("send");
    let busy = |c: &mut Conn| {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let r = c.call(&argv(&["PING"])).expect("reply");
            if r.starts_with(b"-BUSY") || Instant::now() > deadline {
                return String::from_utf8_lossy(&r).into_owned();
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    };
    assert_eq!(
        busy(&mut before),
        "-BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.\r\n"
    );
    let mut after = Conn::connect(server.port).expect("connect during the script");
    assert!(busy(&mut after).starts_with("-BUSY"));
    let stats = after.call(&argv(&["FUNCTION", "KILL"])).expect("reply");
    assert!(
        stats.starts_with(b"-BUSY"),
        "{}",
        String::from_utf8_lossy(&stats)
    );
    assert_eq!(
        after.call(&argv(&["SCRIPT", "KILL"])).expect("reply"),
        b"+OK\r\n"
    );
    let killed = String::from_utf8_lossy(&runner.read_reply().expect("reply")).into_owned();
    assert!(
        killed.starts_with("-ERR Script killed by user with SCRIPT KILL... script: ")
            && killed.ends_with(", on @user_script:1.\r\n"),
        "{killed}"
    );
    assert_eq!(before.call(&argv(&["PING"])).expect("reply"), b"+PONG\r\n");
    assert_eq!(
        after.call(&argv(&["SCRIPT", "KILL"])).expect("reply"),
        b"-NOTBUSY No scripts in execution right now.\r\n"
    );

    // A script that wrote cannot be killed; SHUTDOWN NOSAVE still stops the server.
    runner
        .call_n(
            &argv(&["EVAL", "redis.call('set','k','v') while true do end", "0"]),
            0,
        )
        .expect("send");
    assert!(busy(&mut before).starts_with("-BUSY"));
    assert!(before
        .call(&argv(&["SCRIPT", "KILL"]))
        .expect("reply")
        .starts_with(b"-UNKILLABLE"));
    assert!(before
        .call(&argv(&["SHUTDOWN"]))
        .expect("reply")
        .starts_with(b"-BUSY"));
    let _ = before.call(&argv(&["SHUTDOWN", "NOSAVE"]));
    let deadline = Instant::now() + Duration::from_secs(10);
    while server.child.try_wait().expect("wait").is_none() {
        assert!(
            Instant::now() < deadline,
            "SHUTDOWN NOSAVE did not stop the server"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}
