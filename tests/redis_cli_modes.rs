//! redis-cli's monitoring modes against the native server, side by side with redis-server:
//! `--bigkeys`, `--memkeys` and `--scan --pattern` print the same for the same data; `--stat`,
//! `--latency` and `--latency-history` print what they print against Redis (their figures are
//! timings and counters, so their shape is compared, never a value).

mod common;

use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};

use common::{OurServer, RedisServer};

fn which(program: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {program}")])
        .output()
        .is_ok_and(|o| o.status.success())
}

fn ours() -> OurServer {
    OurServer::start(&["--save", "", "--appendonly", "no", "--daemonize", "no"])
}

/// Runs redis-cli on `port` with `args`, feeding `input` on stdin; its stdout.
fn cli(port: u16, args: &[&str], input: &str) -> String {
    let mut child = Command::new("redis-cli")
        .args(["-p", &port.to_string()])
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("redis-cli");
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().expect("stdin");
        stdin.write_all(input.as_bytes()).expect("feed redis-cli");
    }
    let out = child.wait_with_output().expect("redis-cli output");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The same data on both servers: strings of many lengths (one longest), and one collection
/// of each type in each of its encodings' ranges.
fn seed() -> String {
    let mut s = String::new();
    for i in 0..250 {
        s += &format!("SET str:{i} {}\n", "v".repeat(i % 40 + 1));
    }
    s += &format!("SET str:big {}\n", "w".repeat(100));
    s += "SET counter 12345\n";
    let nums: Vec<String> = (0..300).map(|i| i.to_string()).collect();
    s += &format!("RPUSH biglist {}\n", nums.join(" "));
    s += "RPUSH small a b c\n";
    let fields: Vec<String> = (0..150).map(|i| format!("f{i} {i}")).collect();
    s += &format!("HSET bighash {}\n", fields.join(" "));
    s += "HSET smallhash a 1\n";
    let ints: Vec<String> = (0..600).map(|i| i.to_string()).collect();
    s += &format!("SADD intset {}\n", ints.join(" "));
    s += "SADD words alpha beta\n";
    // A listpack, not a skiplist: a skiplist node's size depends on its random level, so its
    // MEMORY USAGE differs from one redis-server run to the next.
    let members: Vec<String> = (0..100).map(|i| format!("{i} m{i}")).collect();
    s += &format!("ZADD bigz {}\n", members.join(" "));
    s += "ZADD smallz 1 a\n";
    s += "XADD stream 1-1 a 1\nXADD stream 2-1 b 2\n";
    s
}

/// What follows redis-cli's `-------- summary -------` line (before it, progress lines list
/// keys in SCAN order, which Redis leaves unspecified).
fn summary(out: &str) -> &str {
    let at = out
        .find("-------- summary -------")
        .unwrap_or_else(|| panic!("no summary in {out:?}"));
    &out[at..]
}

#[test]
fn keyspace_modes_print_what_they_print_against_redis() {
    if !which("redis-cli") {
        eprintln!("note: redis-cli is not installed; skipped");
        return;
    }
    let Some(real) = RedisServer::start() else {
        eprintln!("note: redis-server is not installed; skipped");
        return;
    };
    let server = ours();
    let data = seed();
    for port in [server.port, real.port] {
        cli(port, &[], &data);
    }
    for mode in ["--bigkeys", "--memkeys"] {
        let ours = cli(server.port, &[mode], "");
        let redis = cli(real.port, &[mode], "");
        assert_eq!(summary(&ours), summary(&redis), "{mode}");
        assert!(summary(&ours).contains("Sampled 261 keys"), "{ours}");
    }
    for pattern in ["str:1*", "*big*", "nomatch*"] {
        let sorted = |out: String| {
            let mut lines: Vec<String> = out.lines().map(str::to_owned).collect();
            lines.sort();
            lines
        };
        let ours = sorted(cli(server.port, &["--scan", "--pattern", pattern], ""));
        let redis = sorted(cli(real.port, &["--scan", "--pattern", pattern], ""));
        assert_eq!(ours, redis, "--scan --pattern {pattern}");
    }
    assert_eq!(
        sorted_lines(&cli(server.port, &["--scan", "--pattern", "*big*"], "")),
        ["bighash", "biglist", "bigz", "str:big"]
    );
}

fn sorted_lines(out: &str) -> Vec<&str> {
    let mut lines: Vec<&str> = out.lines().collect();
    lines.sort();
    lines
}

/// `--stat` keeps printing one line a tick: its two header lines are Redis's, and each row
/// reads keys, memory, clients, blocked, requests (+delta) and connections from INFO.
#[test]
fn stat_mode_reads_info_as_against_redis() {
    if !which("redis-cli") {
        eprintln!("note: redis-cli is not installed; skipped");
        return;
    }
    let server = ours();
    cli(server.port, &[], "SET a 1\nSET b 2\n");
    let head = |port: u16| -> Vec<String> {
        let mut child = Command::new("redis-cli")
            .args(["-p", &port.to_string(), "--stat", "-i", "0.01"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-cli --stat");
        let reader = BufReader::new(child.stdout.take().expect("stdout"));
        let lines = reader.lines().take(4).map(|l| l.expect("line")).collect();
        let _ = child.kill();
        let _ = child.wait();
        lines
    };
    let lines = head(server.port);
    if let Some(real) = RedisServer::start() {
        let redis = head(real.port);
        assert_eq!(lines[..2], redis[..2], "--stat headers");
    }
    assert!(lines[0].starts_with("------- data ------"), "{lines:?}");
    for row in &lines[2..] {
        let cols: Vec<&str> = row.split_whitespace().collect();
        assert_eq!(cols.len(), 7, "{row:?}");
        assert_eq!(cols[0], "2", "keys: {row:?}");
        assert!(
            cols[1].ends_with('K') || cols[1].ends_with('M'),
            "mem: {row:?}"
        );
        assert_eq!(cols[2], "1", "clients: {row:?}");
        assert_eq!(cols[3], "0", "blocked: {row:?}");
        assert!(cols[4].parse::<u64>().is_ok(), "requests: {row:?}");
        assert!(
            cols[5].starts_with("(+") && cols[5].ends_with(')'),
            "{row:?}"
        );
        assert!(cols[6].parse::<u64>().is_ok(), "connections: {row:?}");
    }
}

/// `--latency` without a terminal samples for the interval and prints `min max avg samples`;
/// `--latency-history` (in a terminal, through `script`) prints a range line per interval.
#[test]
fn latency_modes_sample_the_server() {
    if !which("redis-cli") {
        eprintln!("note: redis-cli is not installed; skipped");
        return;
    }
    let server = ours();
    let out = cli(server.port, &["--latency", "-i", "0.2"], "");
    let fields: Vec<&str> = out.split_whitespace().collect();
    assert_eq!(fields.len(), 4, "{out:?}");
    let min: u64 = fields[0].parse().expect("min");
    let max: u64 = fields[1].parse().expect("max");
    assert!(min <= max, "{out:?}");
    assert!(fields[2].parse::<f64>().is_ok(), "{out:?}");
    assert!(fields[3].parse::<u64>().expect("samples") > 0, "{out:?}");

    if !which("script") {
        eprintln!("note: script(1) is not installed; --latency-history skipped");
        return;
    }
    let command = format!("redis-cli -p {} --latency-history -i 0.2", server.port);
    let mut child = Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("script");
    let mut stdout = child.stdout.take().expect("stdout");
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    while !String::from_utf8_lossy(&seen).contains("seconds range") {
        let n = stdout.read(&mut buf).expect("read");
        assert!(
            n > 0,
            "--latency-history ended: {:?}",
            String::from_utf8_lossy(&seen)
        );
        seen.extend_from_slice(&buf[..n]);
    }
    let _ = child.kill();
    let _ = child.wait();
    let text = String::from_utf8_lossy(&seen);
    let line = text
        .split("\x1b[0G\x1b[2K")
        .find(|part| part.contains("seconds range"))
        .expect("a range line");
    assert!(line.starts_with("min: "), "{line:?}");
    assert!(line.contains(" samples) -- "), "{line:?}");
}
