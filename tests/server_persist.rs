//! The native server persists as redis-server does: it loads `dir/dbfilename` at start, writes
//! it on SAVE, BGSAVE, the `save` rules and SHUTDOWN, and refuses to start over a snapshot it
//! cannot load. The files interchange with a real redis-server both ways.

mod common;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use common::{
    argv, free_port, redis_server_path, scratch_dir, Conn, OurServer as Server, RedisServer,
};

impl Server {
    /// Ours with its snapshot in `dir`, then `extra`.
    fn launch(dir: &Path, extra: &[&str]) -> Server {
        let mut args: Vec<&std::ffi::OsStr> = vec!["--dir".as_ref(), dir.as_os_str()];
        args.extend(extra.iter().map(|a| std::ffi::OsStr::new(*a)));
        Server::start(&args)
    }

    fn call(&self, words: &[&str]) -> String {
        let mut c = Conn::connect(self.port).expect("connect");
        String::from_utf8_lossy(&c.call(&argv(words)).expect("reply")).into_owned()
    }

    /// Waits for the process to end by itself (SHUTDOWN); its exit status.
    fn wait_exit(mut self) -> std::process::ExitStatus {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status;
            }
            assert!(Instant::now() < deadline, "server still running");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// Writes one key of every type (and one in another database, one with a TTL).
fn fill(call: &mut dyn FnMut(&[&str]) -> String) {
    for c in [
        &["SET", "s", "hello"][..],
        &["SET", "n", "42"],
        &["SET", "ttl", "v", "EX", "1000"],
        &["RPUSH", "l", "a", "b", "c"],
        &["HSET", "h", "f", "1", "g", "2"],
        &["SADD", "set", "1", "2", "x"],
        &["ZADD", "z", "1.5", "m", "2", "n"],
        &["XADD", "x", "1-1", "f", "v"],
        &["XGROUP", "CREATE", "x", "g", "0"],
        &["SELECT", "3"],
        &["SET", "in3", "three"],
    ] {
        let r = call(c);
        assert!(!r.starts_with('-'), "{:?}: {}", c, r);
    }
}

/// Checks what [`fill`] wrote, on any server.
fn check(port: u16) {
    let mut c = Conn::connect(port).expect("connect");
    let mut ask =
        |w: &[&str]| String::from_utf8_lossy(&c.call(&argv(w)).expect("reply")).into_owned();
    assert_eq!(ask(&["GET", "s"]), "$5\r\nhello\r\n");
    assert_eq!(ask(&["GET", "n"]), "$2\r\n42\r\n");
    let ttl: i64 = ask(&["TTL", "ttl"])
        .trim_start_matches(':')
        .trim()
        .parse()
        .unwrap_or(-9);
    assert!((900..=1000).contains(&ttl), "ttl {}", ttl);
    assert_eq!(
        ask(&["LRANGE", "l", "0", "-1"]),
        "*3\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n"
    );
    assert_eq!(ask(&["HGET", "h", "g"]), "$1\r\n2\r\n");
    assert_eq!(ask(&["SCARD", "set"]), ":3\r\n");
    assert_eq!(ask(&["ZSCORE", "z", "m"]), "$3\r\n1.5\r\n");
    assert_eq!(ask(&["XLEN", "x"]), ":1\r\n");
    assert!(ask(&["XINFO", "GROUPS", "x"]).contains("$1\r\ng\r\n"));
    assert_eq!(ask(&["SELECT", "3"]), "+OK\r\n");
    assert_eq!(ask(&["GET", "in3"]), "$5\r\nthree\r\n");
}

#[test]
fn save_then_restart_brings_the_data_back() {
    let dir = scratch_dir("persist-restart");
    {
        let s = Server::launch(&dir, &["--save", ""]);
        let mut c = Conn::connect(s.port).expect("connect");
        fill(&mut |w| String::from_utf8_lossy(&c.call(&argv(w)).expect("reply")).into_owned());
        drop(c);
        assert_eq!(s.call(&["SAVE"]), "+OK\r\n");
        assert!(s
            .call(&["INFO", "persistence"])
            .contains("rdb_changes_since_last_save:0\r\n"));
        assert!(s
            .call(&["CONFIG", "GET", "dir"])
            .contains(&*dir.canonicalize().unwrap().to_string_lossy()));
    }
    assert!(dir.join("dump.rdb").exists());
    let entries: Vec<_> = std::fs::read_dir(&dir).unwrap().collect();
    assert_eq!(entries.len(), 1, "no temporary file is left behind");
    let s = Server::launch(&dir, &["--save", ""]);
    check(s.port);
    // BGSAVE writes too, and a custom file name is used.
    assert_eq!(s.call(&["SET", "later", "1"]), "+OK\r\n");
    assert_eq!(s.call(&["BGSAVE"]), "+Background saving started\r\n");
    drop(s);
    let s = Server::launch(&dir, &["--save", ""]);
    assert_eq!(s.call(&["GET", "later"]), "$1\r\n1\r\n");
    drop(s);
    let s = Server::launch(&dir, &["--save", "", "--dbfilename", "other.rdb"]);
    assert_eq!(s.call(&["DBSIZE"]), ":0\r\n");
    assert_eq!(s.call(&["SAVE"]), "+OK\r\n");
    assert!(dir.join("other.rdb").exists());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn shutdown_saves_when_rules_exist_and_nosave_does_not() {
    let dir = scratch_dir("persist-shutdown");
    let s = Server::launch(&dir, &["--save", "3600 1"]);
    assert_eq!(s.call(&["SET", "k", "v"]), "+OK\r\n");
    let mut c = Conn::connect(s.port).expect("connect");
    let _ = c.call(&argv(&["SHUTDOWN"]));
    assert!(s.wait_exit().success());
    let s = Server::launch(&dir, &["--save", "3600 1"]);
    assert_eq!(s.call(&["GET", "k"]), "$1\r\nv\r\n");
    assert_eq!(s.call(&["SET", "k", "changed"]), "+OK\r\n");
    let mut c = Conn::connect(s.port).expect("connect");
    let _ = c.call(&argv(&["SHUTDOWN", "NOSAVE"]));
    assert!(s.wait_exit().success());
    // Without rules, SHUTDOWN SAVE still saves.
    let s = Server::launch(&dir, &["--save", ""]);
    assert_eq!(s.call(&["GET", "k"]), "$1\r\nv\r\n");
    assert_eq!(s.call(&["SET", "k", "third"]), "+OK\r\n");
    let mut c = Conn::connect(s.port).expect("connect");
    let _ = c.call(&argv(&["SHUTDOWN", "SAVE"]));
    assert!(s.wait_exit().success());
    let s = Server::launch(&dir, &["--save", ""]);
    assert_eq!(s.call(&["GET", "k"]), "$5\r\nthird\r\n");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn save_rules_write_in_the_background() {
    let dir = scratch_dir("persist-rules");
    let s = Server::launch(&dir, &["--save", "1 1"]);
    assert_eq!(
        s.call(&["CONFIG", "GET", "save"]),
        "*2\r\n$4\r\nsave\r\n$3\r\n1 1\r\n"
    );
    assert_eq!(s.call(&["SET", "k", "v"]), "+OK\r\n");
    let deadline = Instant::now() + Duration::from_secs(10);
    while !dir.join("dump.rdb").exists() {
        assert!(Instant::now() < deadline, "no save after the rule was met");
        std::thread::sleep(Duration::from_millis(100));
    }
    drop(s);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_corrupt_snapshot_stops_the_start() {
    let dir = scratch_dir("persist-corrupt");
    {
        let s = Server::launch(&dir, &["--save", ""]);
        assert_eq!(s.call(&["SET", "precious", "data"]), "+OK\r\n");
        assert_eq!(s.call(&["SAVE"]), "+OK\r\n");
    }
    let file = dir.join("dump.rdb");
    let good = std::fs::read(&file).unwrap();
    for bad in [good[..good.len() - 3].to_vec(), {
        let mut b = good.clone();
        b[12] ^= 0x20;
        b
    }] {
        std::fs::write(&file, &bad).unwrap();
        let out = Command::new(env!("CARGO_BIN_EXE_redis-playground-server"))
            .args([
                "--port",
                &free_port().to_string(),
                "--bind",
                "127.0.0.1",
                "--dir",
            ])
            .arg(&dir)
            .output()
            .expect("run");
        assert!(!out.status.success(), "started over a corrupt snapshot");
        let err = String::from_utf8_lossy(&out.stdout);
        assert!(err.contains("Fatal error loading the DB"), "{}", err);
        assert_eq!(
            std::fs::read(&file).unwrap(),
            bad,
            "the file is left as it was"
        );
    }
    // A missing directory stops it too.
    let out = Command::new(env!("CARGO_BIN_EXE_redis-playground-server"))
        .args(["--port", &free_port().to_string(), "--dir"])
        .arg(dir.join("missing"))
        .output()
        .expect("run");
    assert!(!out.status.success());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn snapshots_interchange_with_redis_server() {
    if redis_server_path().is_none() {
        println!("redis-server not installed: skipped");
        return;
    }
    // Ours → redis-server.
    let dir = scratch_dir("persist-to-redis");
    {
        let s = Server::launch(&dir, &["--save", ""]);
        let mut c = Conn::connect(s.port).expect("connect");
        fill(&mut |w| String::from_utf8_lossy(&c.call(&argv(w)).expect("reply")).into_owned());
        drop(c);
        assert_eq!(s.call(&["SAVE"]), "+OK\r\n");
    }
    let bytes = std::fs::read(dir.join("dump.rdb")).unwrap();
    let theirs = RedisServer::start_loading("persist-ours", &bytes, &[])
        .expect("redis-server loads our dump.rdb");
    check(theirs.port);
    // redis-server → ours.
    let mut c = Conn::connect(theirs.port).expect("connect");
    assert_eq!(c.call(&argv(&["SAVE"])).unwrap(), b"+OK\r\n");
    // start_loading runs it in this scratch directory.
    let theirs_file = std::env::temp_dir()
        .join(format!("rp-persist-ours-{}", std::process::id()))
        .join("dump.rdb");
    let dir2 = scratch_dir("persist-from-redis");
    std::fs::copy(&theirs_file, dir2.join("dump.rdb")).unwrap();
    let s = Server::launch(&dir2, &["--save", ""]);
    check(s.port);
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::remove_dir_all(&dir2);
}
