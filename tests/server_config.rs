//! The native server reads redis.conf and its command line as redis-server does: the same
//! files and options are refused with the same text on standard error and the same exit code,
//! and a file both accept gives the same CONFIG GET and the same CONFIG REWRITE. Each case
//! runs redis-server itself. Needs redis-server on PATH (REQUIRE_REDIS makes its absence fail).

mod common;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{free_port, redis_server_path, scratch_dir, Conn, KillOnDrop};
use redis_playground::protocol::resp::parse_reply;
use redis_playground::protocol::Reply;

fn redis() -> Option<std::path::PathBuf> {
    let found = redis_server_path();
    assert!(
        found.is_some() || std::env::var_os("REQUIRE_REDIS").is_none(),
        "REQUIRE_REDIS is set but no redis-server is installed"
    );
    found
}

const OURS: &str = env!("CARGO_BIN_EXE_redis-playground-server");

/// Runs a server that must refuse to start: its standard error and exit code.
fn refused(bin: &Path, dir: &Path, args: &[&str]) -> (String, Option<i32>) {
    let mut child = Command::new(bin)
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start");
    let started = Instant::now();
    loop {
        if let Ok(Some(_)) = child.try_wait() {
            break;
        }
        if started.elapsed() > Duration::from_secs(10) {
            let _ = child.kill();
            panic!("{} {args:?} started instead of refusing", bin.display());
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let out = child.wait_with_output().expect("output");
    (
        String::from_utf8_lossy(&out.stderr).into_owned(),
        out.status.code(),
    )
}

#[test]
fn bad_files_and_options_are_refused_as_redis_refuses_them() {
    let Some(redis) = redis() else { return };
    let dir = scratch_dir("config-refused");
    std::fs::create_dir_all(dir.join("sub")).expect("sub");
    std::fs::write(dir.join("sub/inc.conf"), "port 7\nhz abc\n").expect("inc");
    let cases: &[(&str, &[&str])] = &[
        ("port 7000\nfoo bar\n", &[]),
        ("port 7000\n", &["--port", "abc"]),
        ("port 7000", &["--port", "abc"]),
        ("", &["bar"]),
        ("port \"7000\n", &[]),
        ("save 1\n", &[]),
        ("", &["--save", "1", "--save"]),
        ("maxmemory-policy 'bad one'\n", &[]),
        ("port 99999\n", &[]),
        ("maxmemory 1 2\n", &[]),
        ("  dir sub\n\t include inc.conf\n", &[]),
        ("rename-command nosuch x\n", &[]),
        ("rename-command flushdb get\n", &[]),
        ("rename-command flushdb x\nrename-command flushdb y\n", &[]),
        ("sentinel monitor x\n", &[]),
        ("x.y\n", &[]),
        ("dbfilename a/b\n", &[]),
        ("appendfilename \"\"\n", &[]),
        ("unixsocketperm 999\n", &[]),
        ("notify-keyspace-events Q\n", &[]),
        ("client-output-buffer-limit normal 1 2\n", &[]),
        ("oom-score-adj-values 1 2\n", &[]),
        ("enable-debug-command maybe\n", &[]),
        ("shutdown-on-sigint \"save nosave\"\n", &[]),
        ("replicaof 127.0.0.1 abc\n", &[]),
        ("latency-tracking-info-percentiles 101\n", &[]),
        ("databases 0\n", &[]),
        ("logfile /nonexistent/dir/x.log\n", &[]),
        ("slaveof a\n", &[]),
        ("requirepass 'a b\n", &[]),
        (
            "list-max-ziplist-entries 3\nlist-max-ziplist-entries 3 4\n",
            &[],
        ),
        ("", &["--shutdown-on-sigint"]),
        ("", &["--logfile", "--my--log--file", "--loglevel", "--bla"]),
        ("", &["--replicaof", "--127.0.0.1", "--abc"]),
        ("", &["--maxmemory", "\u{1}\"x"]),
    ];
    for (i, (text, options)) in cases.iter().enumerate() {
        let file = format!("c{i}.conf");
        std::fs::write(dir.join(&file), text).expect("write");
        let mut args = vec![file.as_str()];
        args.extend_from_slice(options);
        let theirs = refused(&redis, &dir, &args);
        assert_eq!(
            theirs.1,
            Some(1),
            "redis-server refuses {text:?} {options:?}"
        );
        assert!(theirs.0.contains("FATAL CONFIG FILE ERROR"), "{theirs:?}");
        let ours = refused(Path::new(OURS), &dir, &args);
        assert_eq!(ours, theirs, "config {text:?} with {options:?}");
    }
}

/// Starts a server that must start, with a config file; killed on drop.
fn started(bin: &Path, dir: &Path, conf: &str) -> (KillOnDrop, Conn) {
    let port = free_port();
    let child = Command::new(bin)
        .args([conf, "--port", &port.to_string(), "--dir"])
        .arg(dir)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start");
    let child = KillOnDrop(child);
    let started = Instant::now();
    loop {
        if let Ok(c) = Conn::connect(port) {
            return (child, c);
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "{conf} did not start"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn renamed_commands_answer_to_their_new_names_as_in_redis() {
    let Some(redis) = redis() else { return };
    let dir = scratch_dir("config-rename");
    let conf = "rename-command flushdb badger\nrename-command config \"\"\n\
                rename-command set x\nrename-command x y\nsave \"\"\n";
    std::fs::write(dir.join("r.conf"), conf).expect("write");
    let script = "return redis.call('badger')";
    let lines: &[&[&str]] = &[
        &["FLUSHDB"],
        &["BADGER"],
        &["CONFIG", "GET", "port"],
        &["SET", "k", "v"],
        &["X", "k", "v"],
        &["Y", "k", "v"],
        &["GET", "k"],
        &["EVAL", script, "0"],
        &["EVAL", "return redis.call('flushdb')", "0"],
        &["MULTI"],
        &["flushdb"],
        &["Badger"],
        &["EXEC"],
        // COMMAND finds a command by the name it answers to and describes it by its own; one
        // renamed to "" is gone from every list.
        &["COMMAND", "COUNT"],
        &[
            "COMMAND",
            "INFO",
            "badger",
            "flushdb",
            "config",
            "x",
            "set",
            "y",
            "config|get",
        ],
        &["COMMAND", "GETKEYS", "y", "k", "v"],
        &["COMMAND", "GETKEYS", "set", "k", "v"],
        &["COMMAND", "GETKEYSANDFLAGS", "badger"],
        &["COMMAND", "LIST", "FILTERBY", "PATTERN", "flushd*"],
        &["COMMAND", "LIST", "FILTERBY", "PATTERN", "config*"],
        &["COMMAND", "LIST", "FILTERBY", "PATTERN", "badger"],
    ];
    let replies = |bin: &Path| -> Vec<Reply> {
        let (_server, mut c) = started(bin, &dir, "r.conf");
        lines.iter().map(|l| call(&mut c, l)).collect()
    };
    let theirs = replies(&redis);
    let ours = replies(Path::new(OURS));
    for ((line, t), o) in lines.iter().zip(&theirs).zip(&ours) {
        assert_eq!(o, t, "{line:?}");
    }
}

fn call(c: &mut Conn, words: &[&str]) -> Reply {
    let argv: Vec<Vec<u8>> = words.iter().map(|w| w.as_bytes().to_vec()).collect();
    let raw = c.call(&argv).expect("reply");
    parse_reply(&raw).ok().flatten().expect("a reply").0
}

/// CONFIG GET * as sorted name-value pairs, without what differs by design (the port, the
/// directory, the process's files).
fn config_get(c: &mut Conn) -> Vec<(String, String)> {
    let Reply::Array(items) = call(c, &["CONFIG", "GET", "*"]) else {
        panic!("CONFIG GET")
    };
    let text = |r: &Reply| match r {
        Reply::Bulk(b) => String::from_utf8_lossy(b).into_owned(),
        other => format!("{other:?}"),
    };
    let mut pairs: Vec<(String, String)> = items
        .chunks(2)
        .map(|p| (text(&p[0]), text(&p[1])))
        .filter(|(n, _)| !matches!(n.as_str(), "port" | "dir" | "pidfile" | "logfile"))
        .collect();
    pairs.sort();
    pairs
}

#[test]
fn a_file_both_accept_reads_and_rewrites_the_same() {
    let Some(redis) = redis() else { return };
    let text = "# a comment\n\
                maxmemory 100mb\n\
                save 900 1\n\
                save \"300 10\"\n\
                hash-max-ziplist-entries 7\n\
                notify-keyspace-events Ex\n\
                client-output-buffer-limit pubsub 32mb 8mb 61\n\
                appendfsync always\n\
                loglevel warning\n\
                unixsocketperm 700\n\
                slaveof no one\n\
                bind 127.0.0.1\n\
                latency-tracking-info-percentiles \"50 99.5\"\n\
                shutdown-on-sigterm \"nosave now\"\n\
                enable-debug-command local\n\
                tcp-backlog 100\n\
                include extra.conf\n\
                \n\
                \n\
                hz 11\n";
    let mut seen = Vec::new();
    for (name, bin) in [("redis", redis.as_path()), ("ours", Path::new(OURS))] {
        let dir = scratch_dir(&format!("config-same-{name}"));
        std::fs::write(dir.join("extra.conf"), "lfu-log-factor 3\n").expect("extra");
        let conf = dir.join("c.conf");
        std::fs::write(&conf, text).expect("conf");
        let (_server, mut c) = started(bin, &dir, conf.to_str().expect("utf-8 path"));
        let get = config_get(&mut c);
        call(&mut c, &["CONFIG", "SET", "hz", "12"]);
        call(&mut c, &["CONFIG", "SET", "maxmemory-clients", "10%"]);
        assert_eq!(call(&mut c, &["CONFIG", "REWRITE"]), Reply::ok());
        let rewritten = std::fs::read_to_string(&conf).expect("rewritten");
        // Lines redis-server appends come in its hash table's order: compare them as a set,
        // and the kept part of the file line by line.
        let dir_text = dir.display().to_string();
        let (kept, added) = rewritten
            .split_once("# Generated by CONFIG REWRITE\n")
            .expect("the signature");
        let mut added: Vec<String> = added
            .lines()
            .map(|l| l.replace(&dir_text, "DIR"))
            .filter(|l| !l.starts_with("port "))
            .collect();
        added.sort();
        seen.push((name, get, kept.to_string(), added));
    }
    let (ours, theirs) = (&seen[1], &seen[0]);
    assert_eq!(ours.1, theirs.1, "CONFIG GET *");
    assert_eq!(ours.2, theirs.2, "the rewritten file, before the signature");
    assert_eq!(ours.3, theirs.3, "the lines CONFIG REWRITE added");
}
