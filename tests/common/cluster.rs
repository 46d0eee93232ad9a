//! Cluster nodes of both kinds (the native server and redis-server) for the cluster tests,
//! and the small tools they share: redis-cli, a reply as text, waiting for a condition.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::{argv, free_port, our_server_command, redis_server_path, Conn};

/// The slot Redis puts `key` in: CRC16 (XMODEM) of the key, or of its hash tag, mod 16384.
pub fn key_slot(key: &str) -> u16 {
    redis_playground::cluster::slots::key_slot(key.as_bytes())
}

/// One node: its process (killed on drop), its client port and its kind.
pub struct Node {
    pub child: Child,
    pub port: u16,
    pub native: bool,
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn redis_cli_present() -> bool {
    Command::new("redis-cli")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Whatever answers PING on `port` within 15 s.
pub fn wait_ping(port: u16, child: &mut Child) -> bool {
    let deadline = Instant::now() + Duration::from_secs(15);
    while Instant::now() < deadline {
        if !matches!(child.try_wait(), Ok(None)) {
            return false;
        }
        if let Ok(mut c) = Conn::connect(port) {
            if c.call(&argv(&["PING"])).is_ok_and(|r| r == b"+PONG\r\n") {
                return true;
            }
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

/// Starts a cluster node of either kind in `dir`, on a free port with a free bus port
/// (`cluster-port`); another pair of ports is tried when one was taken meanwhile.
pub fn start_node(native: bool, dir: &Path, node_timeout: &str) -> Node {
    for _ in 0..5 {
        let (port, cport) = (free_port(), free_port());
        if port == cport {
            continue;
        }
        let cluster = [
            "--cluster-enabled",
            "yes",
            "--cluster-port",
            &cport.to_string(),
            "--cluster-node-timeout",
            node_timeout,
            "--cluster-config-file",
            "nodes.conf",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            dir.to_str().expect("utf-8 dir"),
        ]
        .map(str::to_string);
        let mut child = if native {
            our_server_command(port)
                .args(&cluster)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("start redis-playground-server")
        } else {
            Command::new(redis_server_path().expect("redis-server"))
                .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
                .args(&cluster)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("start redis-server")
        };
        if wait_ping(port, &mut child) {
            return Node {
                child,
                port,
                native,
            };
        }
        let _ = child.kill();
        let _ = child.wait();
    }
    panic!("a cluster node did not start");
}

/// A command's reply as text, or the connection error's.
pub fn text(port: u16, words: &[&str]) -> String {
    match Conn::connect(port).and_then(|mut c| c.call(&argv(words))) {
        Ok(r) => String::from_utf8_lossy(&r).into_owned(),
        Err(e) => format!("-connection: {e}"),
    }
}

pub fn redis_cli(args: &[&str]) -> (bool, String) {
    let out = Command::new("redis-cli")
        .args(args)
        .output()
        .expect("run redis-cli");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
    )
}

pub fn wait_for(what: &str, secs: u64, mut ok: impl FnMut() -> bool) -> Duration {
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(secs) {
        if ok() {
            return started.elapsed();
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("timed out waiting for {what}");
}

/// A scratch directory named `name` with six empty node directories in it, or None when
/// redis-server or redis-cli is missing (a failure instead when `REQUIRE_REDIS` is set).
pub fn six_node_dirs(name: &str) -> Option<(PathBuf, Vec<PathBuf>)> {
    if redis_server_path().is_none() || !redis_cli_present() {
        assert!(
            std::env::var_os("REQUIRE_REDIS").is_none(),
            "REQUIRE_REDIS is set but redis-server or redis-cli is missing"
        );
        return None;
    }
    let base = super::scratch_dir(name);
    let dirs: Vec<PathBuf> = (0..6).map(|i| base.join(format!("n{i}"))).collect();
    for d in &dirs {
        std::fs::create_dir_all(d).expect("node dir");
    }
    Some((base, dirs))
}
