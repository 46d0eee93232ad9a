//! Helpers shared by the integration tests: a real redis-server to compare against.

#![allow(dead_code)]

pub mod cluster;

use std::ffi::OsStr;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use redis_playground::protocol::resp::parse_reply;

/// The redis-server binary to compare against: `$REDIS_SERVER`, or `redis-server` on PATH.
pub fn redis_server_path() -> Option<PathBuf> {
    if let Ok(p) = std::env::var("REDIS_SERVER") {
        return Some(PathBuf::from(p));
    }
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join("redis-server"))
            .find(|p| p.is_file())
    })
}

/// A free loopback port (the OS picks one; it is released before use, as every such scheme).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// A redis-server of our own on a loopback port, without persistence; killed on drop.
pub struct RedisServer {
    child: Child,
    /// Its working directory, removed on drop.
    dir: PathBuf,
    /// The port it listens on.
    pub port: u16,
}

impl RedisServer {
    /// Starts one, or returns None when no redis-server is installed and none is required.
    /// With `REQUIRE_REDIS` set (as `make test` sets it) a missing redis-server fails the
    /// test instead: a comparison that was asked for must not pass by comparing nothing.
    pub fn start() -> Option<RedisServer> {
        if redis_server_path().is_none() {
            assert!(
                std::env::var_os("REQUIRE_REDIS").is_none(),
                "REQUIRE_REDIS is set but no redis-server is installed"
            );
            return None;
        }
        RedisServer::start_with(&[])
    }

    /// Starts one that loads `dump` (an RDB file) at start-up, with extra arguments; None when
    /// no redis-server is installed.
    pub fn start_loading(name: &str, dump: &[u8], extra: &[&str]) -> Option<RedisServer> {
        redis_server_path()?;
        let dir = scratch_dir(name);
        std::fs::write(dir.join("dump.rdb"), dump).expect("write dump");
        let dir = dir.to_str().expect("utf-8 path");
        let mut args = vec!["--dir", dir, "--dbfilename", "dump.rdb"];
        args.extend_from_slice(extra);
        RedisServer::start_with(&args)
    }

    /// Starts one with extra command-line arguments (`--dir`, ...).
    pub fn start_with(extra: &[&str]) -> Option<RedisServer> {
        let bin = redis_server_path()?;
        for _ in 0..5 {
            let port = free_port();
            // A directory of its own: started in the crate root, redis-server would load any
            // dump.rdb lying there and begin with keys.
            let dir = std::env::temp_dir().join(format!("rpg-redis-{}-{port}", std::process::id()));
            std::fs::create_dir_all(&dir).ok()?;
            let child = Command::new(&bin)
                .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
                .args(["--save", "", "--appendonly", "no", "--daemonize", "no"])
                .arg("--dir")
                .arg(&dir)
                .args(extra)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .ok()?;
            let mut server = RedisServer {
                child,
                port,
                dir: dir.clone(),
            };
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline {
                // Exited: the port was taken (by another test's server, say). Try another.
                if !matches!(server.child.try_wait(), Ok(None)) {
                    break;
                }
                if let Ok(mut c) = Conn::connect(port) {
                    // Whoever answers must be our child, not a server someone else started on
                    // the port between our probe and our bind.
                    if let Ok(info) = c.call(&[b"INFO".to_vec(), b"server".to_vec()]) {
                        let info = String::from_utf8_lossy(&info);
                        let ours = format!("process_id:{}\r\n", server.child.id());
                        if info.contains(&ours) {
                            // The reference is Redis 7.0: another version answers differently.
                            assert!(
                                info.contains("redis_version:7.0."),
                                "{} is not Redis 7.0: {}",
                                bin.display(),
                                info.lines()
                                    .find(|l| l.starts_with("redis_version"))
                                    .unwrap_or("")
                            );
                            return Some(server);
                        }
                        break;
                    }
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        panic!(
            "{} is installed but did not start (tried 5 ports)",
            bin.display()
        );
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Words as an argument vector.
pub fn argv(words: &[&str]) -> Vec<Vec<u8>> {
    words.iter().map(|w| w.as_bytes().to_vec()).collect()
}

/// A fresh, empty directory under the system's temporary directory, named for the test.
pub fn scratch_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("rp-{}-{}", name, std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

/// Wall-clock time in ms since the Unix epoch.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// A child process killed when dropped, so a failing test leaves no server behind.
pub struct KillOnDrop(pub Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Waits until something accepts connections on `port` and returns a connection to it.
pub fn connect_when_ready(port: u16) -> Conn {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        if let Ok(c) = Conn::connect(port) {
            return c;
        }
        assert!(
            Instant::now() < deadline,
            "nothing listening on port {}",
            port
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A plain RESP connection.
pub struct Conn {
    stream: TcpStream,
    buf: Vec<u8>,
}

impl Conn {
    /// Connects to a loopback port.
    pub fn connect(port: u16) -> std::io::Result<Conn> {
        let stream = TcpStream::connect(("127.0.0.1", port))?;
        stream.set_read_timeout(Some(Duration::from_secs(10)))?;
        stream.set_nodelay(true)?;
        Ok(Conn {
            stream,
            buf: Vec::new(),
        })
    }

    /// A connection over a stream already connected.
    pub fn from_stream(stream: TcpStream) -> Conn {
        Conn {
            stream,
            buf: Vec::new(),
        }
    }

    /// The socket itself, cloned: another thread can write while this one reads.
    pub fn try_clone_stream(&self) -> std::io::Result<TcpStream> {
        self.stream.try_clone()
    }

    /// The local port of this connection (the server sees it as the client's port).
    pub fn local_port(&self) -> u16 {
        self.stream.local_addr().map_or(0, |a| a.port())
    }

    /// Waits (at most two seconds) until the server on `server_port` has read everything sent
    /// on this connection, as the kernel's receive queue of its socket shows (Linux). A
    /// command that answers nothing (one that blocks) has then been run: the server runs what
    /// it reads before it reads from anyone else. Unlike a command sent to ask, this changes
    /// none of the server's counters.
    pub fn wait_read_by(&self, server_port: u16) {
        let ours = self.local_port();
        let deadline = Instant::now() + Duration::from_secs(2);
        while Instant::now() < deadline {
            match server_rx_queue(server_port, ours) {
                Some(0) | None => return,
                Some(_) => std::thread::sleep(Duration::from_millis(1)),
            }
        }
    }

    /// Sends a command and returns the raw bytes of its reply.
    pub fn call(&mut self, argv: &[Vec<u8>]) -> std::io::Result<Vec<u8>> {
        self.call_n(argv, 1)
    }

    /// Sends a command and returns the raw bytes of the next `n` replies (messages pushed
    /// before the reply, and commands answering several times, such as SUBSCRIBE a b); `n` may
    /// be 0 for a command that blocks.
    pub fn call_n(&mut self, argv: &[Vec<u8>], n: usize) -> std::io::Result<Vec<u8>> {
        let mut req = format!("*{}\r\n", argv.len()).into_bytes();
        for a in argv {
            req.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
            req.extend_from_slice(a);
            req.extend_from_slice(b"\r\n");
        }
        self.stream.write_all(&req)?;
        let mut out = Vec::new();
        // n = 0: the command is not answered now (a client that blocks); read nothing.
        for _ in 0..n {
            out.extend(self.read_reply()?);
        }
        Ok(out)
    }

    /// Sends raw bytes and reads nothing.
    pub fn send(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.stream.write_all(bytes)
    }

    /// Sends raw bytes and returns the raw bytes of one reply.
    pub fn call_bytes(&mut self, req: &[u8]) -> std::io::Result<Vec<u8>> {
        self.stream.write_all(req)?;
        self.read_reply()
    }

    /// Reads the raw bytes of one reply.
    pub fn read_reply(&mut self) -> std::io::Result<Vec<u8>> {
        loop {
            match parse_reply(&self.buf) {
                Ok(Some((_, used))) => return Ok(self.buf.drain(..used).collect()),
                Ok(None) => {}
                Err(e) => {
                    return Err(std::io::Error::new(std::io::ErrorKind::InvalidData, e.0));
                }
            }
            let mut chunk = [0u8; 16384];
            // A signal (a child process of another test exiting) may interrupt the read.
            let n = match self.stream.read(&mut chunk) {
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                other => other?,
            };
            if n == 0 {
                return Err(std::io::ErrorKind::UnexpectedEof.into());
            }
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }
}

/// Bytes as one printable line: `\r`, `\n`, `\\` and non-printables escaped.
pub fn escape(bytes: &[u8]) -> String {
    let mut s = String::new();
    for &b in bytes {
        match b {
            b'\\' => s.push_str("\\\\"),
            b'\r' => s.push_str("\\r"),
            b'\n' => s.push_str("\\n"),
            0x20..=0x7e => s.push(b as char),
            _ => s.push_str(&format!("\\x{:02x}", b)),
        }
    }
    s
}

/// The inverse of [`escape`].
pub fn unescape(s: &str) -> Vec<u8> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' && i + 1 < b.len() {
            match b[i + 1] {
                b'r' => out.push(b'\r'),
                b'n' => out.push(b'\n'),
                b'x' if i + 3 < b.len() => {
                    let h = std::str::from_utf8(&b[i + 2..i + 4]).unwrap_or("00");
                    out.push(u8::from_str_radix(h, 16).unwrap_or(0));
                    i += 2;
                }
                other => out.push(other),
            }
            i += 2;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    out
}

/// Our native server (this crate's binary) on a free loopback port; killed on drop.
pub struct OurServer {
    /// The server process.
    pub child: Child,
    /// The port it listens on.
    pub port: u16,
}

impl OurServer {
    /// Starts one with `--port P --bind 127.0.0.1` and then `args`. A port taken by someone
    /// else between picking and binding makes the server exit: another port is tried then.
    pub fn start<S: AsRef<OsStr>>(args: &[S]) -> OurServer {
        for _ in 0..5 {
            let port = free_port();
            let mut child = our_server_command(port)
                .args(args)
                .stdout(Stdio::piped())
                .stderr(Stdio::null())
                .spawn()
                .expect("start redis-playground-server");
            if wait_ready(&mut child) {
                return OurServer { child, port };
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        panic!("redis-playground-server did not start");
    }
}

impl Drop for OurServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The command starting our server on `port` of the loopback address, to add arguments to.
pub fn our_server_command(port: u16) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_redis-playground-server"));
    cmd.args(["--port", &port.to_string(), "--bind", "127.0.0.1"]);
    cmd
}

/// Waits until a server says it listens (true) or exits (false), reading its log on standard
/// output as redis-server writes it with `logfile ""`.
/// Connecting is no proof: someone else may own the port. Its output is drained afterwards so
/// the server never blocks writing a warning.
pub fn wait_ready(child: &mut Child) -> bool {
    let Some(stdout) = child.stdout.take() else {
        return false;
    };
    let mut lines = BufReader::new(stdout).lines();
    let ready = lines
        .by_ref()
        .map_while(Result::ok)
        .any(|l| l.contains("Ready to accept connections"));
    std::thread::spawn(move || lines.for_each(drop));
    ready
}

/// The bytes waiting in the receive queue of the server's end of a loopback connection (the
/// socket bound to `server_port` whose peer is `client_port`), from /proc/net/tcp{,6}; None
/// when it cannot be found.
fn server_rx_queue(server_port: u16, client_port: u16) -> Option<u64> {
    for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
        let Ok(text) = std::fs::read_to_string(table) else {
            continue;
        };
        for line in text.lines().skip(1) {
            let f: Vec<&str> = line.split_whitespace().collect();
            if f.len() < 5 {
                continue;
            }
            let port = |addr: &str| {
                addr.rsplit(':')
                    .next()
                    .and_then(|p| u16::from_str_radix(p, 16).ok())
            };
            if port(f[1]) == Some(server_port) && port(f[2]) == Some(client_port) {
                let rx = f[4].split(':').nth(1)?;
                return u64::from_str_radix(rx, 16).ok();
            }
        }
    }
    None
}

/// Makes closing `s` send a reset, so the test leaves no TIME_WAIT sockets holding local
/// ports behind it.
pub fn reset_on_close(s: &TcpStream) {
    use std::os::fd::AsRawFd;
    let linger = libc::linger {
        l_onoff: 1,
        l_linger: 0,
    };
    // SAFETY: setsockopt reads `linger` for the size given; the descriptor is open.
    unsafe {
        libc::setsockopt(
            s.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_LINGER,
            (&linger as *const libc::linger).cast(),
            std::mem::size_of::<libc::linger>() as libc::socklen_t,
        );
    }
}

/// The open file limit of this process, raised to its hard limit.
pub fn raise_own_fd_limit() -> u64 {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit and setrlimit only read and write the struct passed to them.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) != 0 {
            return 1024;
        }
        let old = lim.rlim_cur;
        lim.rlim_cur = lim.rlim_max;
        if libc::setrlimit(libc::RLIMIT_NOFILE, &lim) != 0 {
            return old;
        }
    }
    lim.rlim_cur
}
