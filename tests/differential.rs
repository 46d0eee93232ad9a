//! The compatibility proof: every script in `tests/cases/` runs against a real redis-server and
//! against the engine, and every reply must be byte-identical (see tests/cases/README.md).
//!
//! With redis-server installed (the project's setup installs it) the replies are compared live,
//! and the recorded golden replies are checked against real Redis too. Without it, the engine is
//! compared with the golden replies alone, so `cargo test` catches regressions anywhere.
//! `UPDATE_GOLDEN=1` rewrites the golden files from real Redis.

mod common;

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use common::{escape, unescape, Conn, RedisServer};
use redis_playground::protocol::inline::split_args;
use redis_playground::protocol::resp::parse_reply;
use redis_playground::protocol::Reply;
use redis_playground::{ClientId, Engine, EngineOptions};

/// How a reply is compared.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Compare {
    Exact,
    Unordered,
    Shape,
    Stats,
    Log,
    AclLog,
}

/// One step of a script.
#[derive(Clone, Debug)]
enum Step {
    Command {
        line_no: usize,
        text: String,
        client: u32,
        compare: Compare,
        argv: Vec<Vec<u8>>,
    },
    Sleep(u64),
}

fn parse_script(path: &Path) -> Vec<Step> {
    let text = fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {}", path.display(), e));
    let mut steps = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line_no = i + 1;
        let mut line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(ms) = line.strip_prefix("!sleep ") {
            let ms = ms.trim().parse().unwrap_or_else(|_| {
                panic!("{}:{}: !sleep needs milliseconds", path.display(), line_no)
            });
            steps.push(Step::Sleep(ms));
            continue;
        }
        let mut client = 1;
        if let Some(rest) = line.strip_prefix('@') {
            let (n, rest) = rest.split_once(' ').unwrap_or((rest, ""));
            client = n.parse().unwrap_or_else(|_| {
                panic!("{}:{}: @N needs a client number", path.display(), line_no)
            });
            line = rest.trim_start();
        }
        let mut compare = Compare::Exact;
        if let Some(rest) = line.strip_prefix("~ ") {
            compare = Compare::Unordered;
            line = rest;
        } else if let Some(rest) = line.strip_prefix("% ") {
            compare = Compare::Shape;
            line = rest;
        } else if let Some(rest) = line.strip_prefix("$ ") {
            compare = Compare::Stats;
            line = rest;
        } else if let Some(rest) = line.strip_prefix("& ") {
            compare = Compare::Log;
            line = rest;
        } else if let Some(rest) = line.strip_prefix("^ ") {
            compare = Compare::AclLog;
            line = rest;
        }
        let argv = split_args(line.as_bytes())
            .unwrap_or_else(|_| panic!("{}:{}: unbalanced quotes", path.display(), line_no));
        assert!(
            !argv.is_empty(),
            "{}:{}: no command",
            path.display(),
            line_no
        );
        steps.push(Step::Command {
            line_no,
            text: line.to_string(),
            client,
            compare,
            argv,
        });
    }
    steps
}

fn deep_sort(r: Reply) -> Reply {
    fn key(r: &Reply) -> Vec<u8> {
        r.to_resp(3)
    }
    match r {
        Reply::Array(items) | Reply::Set(items) | Reply::Push(items) | Reply::Multi(items) => {
            let mut items: Vec<Reply> = items.into_iter().map(deep_sort).collect();
            items.sort_by_key(key);
            Reply::Array(items)
        }
        Reply::Map(pairs) => {
            let mut items: Vec<Reply> = pairs
                .into_iter()
                .map(|(k, v)| Reply::Array(vec![deep_sort(k), deep_sort(v)]))
                .collect();
            items.sort_by_key(key);
            Reply::Array(items)
        }
        other => other,
    }
}

/// An INFO section with what depends on the machine taken out: lines sorted (Redis prints
/// commandstats in hash order) and the time spent in commands (`usec=...`,
/// `usec_per_call=...`, latencystats' `p50=...`) blanked.
fn stats_text(r: Reply) -> Reply {
    let b = match r {
        Reply::Bulk(b) => b,
        Reply::Array(v) => return Reply::Array(v.into_iter().map(stats_text).collect()),
        other => return other,
    };
    let text = String::from_utf8_lossy(&b);
    let mut lines: Vec<String> = text
        .lines()
        .map(|l| {
            l.split(',')
                .map(|f| match f.split_once('=') {
                    Some((k, _)) if k == "usec" || k == "usec_per_call" => format!("{}=*", k),
                    Some((k, _)) if is_percentile(k.rsplit(':').next().unwrap_or(k)) => {
                        format!("{}=*", k)
                    }
                    _ => f.to_string(),
                })
                .collect::<Vec<_>>()
                .join(",")
        })
        .collect();
    lines.sort();
    Reply::Bulk(lines.join("\n").into_bytes())
}

/// A latencystats field name: `p` and a percentile (`p50`, `p99.9`).
fn is_percentile(k: &str) -> bool {
    k.strip_prefix('p')
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit() || b == b'.'))
}

/// SLOWLOG GET entries with what depends on the machine blanked: each entry's time,
/// duration and client address. Ids count from the reply's last (oldest) entry, since the
/// server's counter carries what earlier scripts logged; arguments and names are compared.
fn log_entries(r: Reply) -> Reply {
    let Reply::Array(entries) = r else {
        return r;
    };
    let base = entries
        .iter()
        .filter_map(|e| match e {
            Reply::Array(f) if f.len() == 6 => match f[0] {
                Reply::Integer(id) => Some(id),
                _ => None,
            },
            _ => None,
        })
        .min()
        .unwrap_or(0);
    Reply::Array(
        entries
            .into_iter()
            .map(|e| match e {
                Reply::Array(mut f) if f.len() == 6 => {
                    if let Reply::Integer(id) = f[0] {
                        f[0] = Reply::Integer(id - base);
                    }
                    f[1] = Reply::Nil;
                    f[2] = Reply::Nil;
                    f[4] = Reply::Nil;
                    Reply::Array(f)
                }
                other => other,
            })
            .collect(),
    )
}

/// ACL LOG entries with what depends on the moment and the connection blanked: each entry's
/// `age-seconds` and `client-info` (their presence and type are still compared); count,
/// reason, context, object and username are compared.
fn acl_log_entries(r: Reply) -> Reply {
    let blank = |k: &Reply, v: &mut Reply| {
        if let Reply::Bulk(name) = k {
            if &name[..] == b"age-seconds" || &name[..] == b"client-info" {
                *v = Reply::Bulk(shape(v).into_bytes());
            }
        }
    };
    let Reply::Array(entries) = r else {
        return r;
    };
    Reply::Array(
        entries
            .into_iter()
            .map(|e| match e {
                Reply::Array(mut f) => {
                    for i in (0..f.len().saturating_sub(1)).step_by(2) {
                        let (k, v) = f.split_at_mut(i + 1);
                        blank(&k[i], &mut v[0]);
                    }
                    Reply::Array(f)
                }
                Reply::Map(mut f) => {
                    for (k, v) in &mut f {
                        blank(k, v);
                    }
                    Reply::Map(f)
                }
                other => other,
            })
            .collect(),
    )
}

fn shape(r: &Reply) -> String {
    match r {
        Reply::Array(v) => format!("array[{}]", v.len()),
        Reply::Bulks(v) => format!("array[{}]", v.len()),
        Reply::Set(v) => format!("set[{}]", v.len()),
        Reply::Push(v) => format!("push[{}]", v.len()),
        Reply::Map(v) => format!("map[{}]", v.len()),
        Reply::Status(_) => "status".into(),
        Reply::Error(_) => "error".into(),
        Reply::Integer(_) => "integer".into(),
        Reply::Bulk(_) => "bulk".into(),
        Reply::Nil => "nil".into(),
        Reply::NilArray => "nil-array".into(),
        Reply::Double(_) | Reply::DoubleText(_) => "double".into(),
        Reply::Bool(_) => "bool".into(),
        Reply::Verbatim(..) => "verbatim".into(),
        Reply::BigNum(_) => "bignum".into(),
        Reply::Attribute(v) => format!("attribute[{}]", v.len()),
        Reply::Multi(v) => format!("multi[{}]", v.len()),
    }
}

/// Whether two raw replies agree under `compare`.
fn same(compare: Compare, want: &[u8], got: &[u8]) -> bool {
    if compare == Compare::Exact {
        return want == got;
    }
    let (Some(w), Some(g)) = (parse_all(want), parse_all(got)) else {
        return false;
    };
    match compare {
        Compare::Unordered => {
            let sorted = |v: Vec<Reply>| deep_sort(Reply::Array(v)).to_resp(3);
            sorted(w) == sorted(g)
        }
        Compare::Stats => {
            let norm = |v: Vec<Reply>| -> Vec<Reply> { v.into_iter().map(stats_text).collect() };
            norm(w) == norm(g)
        }
        Compare::Log => {
            let norm = |v: Vec<Reply>| -> Vec<Vec<u8>> {
                v.into_iter().map(|r| log_entries(r).to_resp(3)).collect()
            };
            norm(w) == norm(g)
        }
        Compare::AclLog => {
            let norm = |v: Vec<Reply>| -> Vec<Vec<u8>> {
                v.into_iter()
                    .map(|r| acl_log_entries(r).to_resp(3))
                    .collect()
            };
            norm(w) == norm(g)
        }
        _ => w.len() == g.len() && w.iter().zip(&g).all(|(a, b)| shape(a) == shape(b)),
    }
}

/// Every reply in a byte string (a line may be answered by several: pushed messages, then the
/// command's own replies).
fn parse_all(mut bytes: &[u8]) -> Option<Vec<Reply>> {
    let mut out = Vec::new();
    while !bytes.is_empty() {
        let (r, used) = parse_reply(bytes).ok()??;
        out.push(r);
        bytes = &bytes[used..];
    }
    Some(out)
}

/// The engine side of a run: one engine, clients opened on first use.
struct EngineRun {
    engine: Engine,
    clients: BTreeMap<u32, ClientId>,
    /// None: wall clock (live comparison); Some: a virtual clock in ms.
    virtual_now: Option<i64>,
}

impl EngineRun {
    fn new(virtual_clock: bool) -> EngineRun {
        let now = if virtual_clock {
            1_700_000_000_000
        } else {
            wall_ms()
        };
        let mut engine = Engine::new(EngineOptions {
            now_ms: now,
            ..EngineOptions::default()
        });
        // Snapshots are stored at once and dropped, as a server with a disk stores them.
        engine.persist.writer = Some(Box::new(|_: &[u8]| Ok(())));
        // DEBUG runs on both sides (the reference is started with it enabled).
        engine.config.set_at_startup("enable-debug-command", "yes");
        EngineRun {
            engine,
            clients: BTreeMap::new(),
            virtual_now: virtual_clock.then_some(now),
        }
    }

    /// An engine that is a cluster node, set as the reference cluster node is started
    /// (see [`cluster_server`]).
    fn new_cluster(virtual_clock: bool) -> EngineRun {
        let mut run = EngineRun::new(virtual_clock);
        let now = run.now();
        let e = &mut run.engine;
        e.config.set_at_startup("cluster-enabled", "yes");
        e.config.set_at_startup("cluster-node-timeout", "1000");
        e.config.set_at_startup("cluster-announce-port", "7000");
        e.config
            .set_at_startup("cluster-announce-bus-port", "17000");
        e.enable_cluster(None, now).expect("cluster mode");
        run
    }

    /// This engine's cluster node ID (empty when not a cluster node).
    fn id(&self) -> Vec<u8> {
        self.engine
            .cluster
            .as_ref()
            .map(|c| c.state.myself.as_bytes().to_vec())
            .unwrap_or_default()
    }

    fn now(&self) -> i64 {
        self.virtual_now.unwrap_or_else(wall_ms)
    }

    /// Runs a command; returns what the client receives (messages that were waiting for it,
    /// then the command's replies) and how many replies that is.
    fn run(&mut self, client: u32, argv: &[Vec<u8>]) -> (Vec<u8>, usize) {
        // A virtual millisecond passes per command, as at least that much real time passes
        // between the commands of a live run (XPENDING IDLE 1 relies on it).
        if let Some(t) = &mut self.virtual_now {
            *t += 1;
        }
        let now = self.now();
        let engine = &mut self.engine;
        let id = *self
            .clients
            .entry(client)
            .or_insert_with(|| engine.open_client(now));
        // As the native server sends them: messages that were waiting, the reply, then what
        // the command left in the outbox.
        let waiting = engine
            .client_mut(id)
            .map(|c| std::mem::take(&mut c.outbox))
            .unwrap_or_default();
        let proto = engine.proto(id);
        let mut out = Vec::new();
        for m in &waiting {
            m.encode(proto, &mut out);
        }
        let reply = engine.execute(id, argv, now);
        let proto = engine.proto(id);
        let left = engine
            .client_mut(id)
            .map(|c| std::mem::take(&mut c.outbox))
            .unwrap_or_default();
        let mut count = waiting.len() + left.len();
        if let Some(r) = reply {
            let start = out.len();
            r.encode(proto, &mut out);
            // Messages a transaction sent its own client sit inside EXEC's reply, past the
            // count its header gives: on the wire they read as replies of their own.
            let mut rest = &out[start..];
            let mut on_wire = 0;
            while let Ok(Some((_, used))) = parse_reply(rest) {
                rest = &rest[used..];
                on_wire += 1;
            }
            count += r.count().max(on_wire);
        }
        for m in &left {
            m.encode(proto, &mut out);
        }
        if engine.client_mut(id).is_some_and(|c| c.closing) {
            // QUIT: the connection ends; a later line for this number opens a new one.
            engine.close_client(id);
            self.clients.remove(&client);
        }
        (out, count)
    }

    fn sleep(&mut self, ms: u64) {
        match &mut self.virtual_now {
            Some(t) => *t += ms as i64,
            None => std::thread::sleep(std::time::Duration::from_millis(ms)),
        }
        let now = self.now();
        self.engine.tick(now);
    }
}

/// Whether a script runs against cluster nodes: its first line is `#! cluster`.
fn is_cluster_script(path: &Path) -> bool {
    fs::read_to_string(path)
        .ok()
        .and_then(|t| t.lines().next().map(|l| l.trim() == "#! cluster"))
        .unwrap_or(false)
}

/// What stands for a node's own ID in a cluster script: `@MYID` in a command is replaced by
/// each side's ID, and each side's ID in a reply by [`MYID_SHOWN`] (the same length, so the
/// RESP framing stays right).
const MYID_ARG: &[u8] = b"@MYID";
const MYID_SHOWN: &[u8] = b"<myid>----------------------------------";

fn replace_all(hay: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    if from.is_empty() {
        return hay.to_vec();
    }
    let mut out = Vec::with_capacity(hay.len());
    let mut i = 0;
    while i < hay.len() {
        if hay[i..].starts_with(from) {
            out.extend_from_slice(to);
            i += from.len();
        } else {
            out.push(hay[i]);
            i += 1;
        }
    }
    out
}

/// A command line with `@MYID` replaced by `id`.
fn with_id(argv: &[Vec<u8>], id: &[u8]) -> Vec<Vec<u8>> {
    argv.iter().map(|a| replace_all(a, MYID_ARG, id)).collect()
}

/// The cluster node ID of the live server (empty when it is not a cluster node).
fn live_id(conn: &mut Conn) -> Vec<u8> {
    let r = conn
        .call(&[b"CLUSTER".to_vec(), b"MYID".to_vec()])
        .unwrap_or_default();
    match parse_reply(&r) {
        Ok(Some((Reply::Bulk(b), _))) => b,
        _ => Vec::new(),
    }
}

fn wall_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

fn scripts() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cases");
    let mut v: Vec<PathBuf> = fs::read_dir(&dir)
        .expect("tests/cases")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "txt"))
        .collect();
    // DIFF_ONLY=<part of a file name> runs the matching scripts alone (while writing one).
    if let Ok(only) = std::env::var("DIFF_ONLY") {
        v.retain(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.contains(&only))
        });
    }
    v.sort();
    v
}

fn golden_path(script: &Path) -> PathBuf {
    let name = script
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("script");
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(format!("{}.resp", name))
}

/// Golden file: for each command, a line `> command` then a line with the escaped reply.
fn read_golden(path: &Path) -> Option<Vec<(String, Vec<u8>)>> {
    let text = fs::read_to_string(path).ok()?;
    let mut out = Vec::new();
    let mut lines = text.lines();
    while let Some(cmd) = lines.next() {
        let cmd = cmd.strip_prefix("> ")?.to_string();
        out.push((cmd, unescape(lines.next()?)));
    }
    Some(out)
}

fn write_golden(path: &Path, entries: &[(String, Vec<u8>)]) {
    let mut text = String::new();
    for (cmd, reply) in entries {
        text.push_str(&format!("> {}\n{}\n", cmd, escape(reply)));
    }
    fs::create_dir_all(path.parent().expect("golden dir")).expect("create tests/golden");
    fs::write(path, text).expect("write golden file");
}

struct Report {
    lines: usize,
    failures: Vec<String>,
}

impl Report {
    /// Records a difference between `want` (from `what`) and the engine's `got` for the
    /// script line `at` (file, line number, command text).
    fn check(
        &mut self,
        at: (&Path, usize, &str),
        cmp: Compare,
        want: &[u8],
        got: &[u8],
        what: &str,
    ) {
        let (file, line_no, cmd) = at;
        if !same(cmp, want, got) && self.failures.len() < 200 {
            self.failures.push(format!(
                "{}:{}: {}\n    {}: {}\n    engine: {}",
                file.file_name().and_then(|s| s.to_str()).unwrap_or("?"),
                line_no,
                cmd,
                what,
                escape(want),
                escape(got)
            ));
        }
    }
}

/// The cluster-enabled reference for `#! cluster` scripts: started on first use, with the
/// node timeout the engine side gets, so the waits in the scripts suit both.
fn cluster_server(slot: &mut Option<Option<RedisServer>>) -> Option<&RedisServer> {
    slot.get_or_insert_with(|| {
        RedisServer::start_with(&[
            "--enable-debug-command",
            "yes",
            "--cluster-enabled",
            "yes",
            "--cluster-config-file",
            "nodes.conf",
            "--cluster-node-timeout",
            "1000",
            // Fixed announced ports, so CLUSTER NODES, SLOTS, MOVED and ASK read the same
            // on both sides.
            "--cluster-announce-port",
            "7000",
            "--cluster-announce-bus-port",
            "17000",
        ])
    })
    .as_ref()
}

fn run_live(plain: &RedisServer, report: &mut Report) {
    let update = std::env::var_os("UPDATE_GOLDEN").is_some();
    let mut clustered: Option<Option<RedisServer>> = None;
    for script in scripts() {
        let steps = parse_script(&script);
        let cluster = is_cluster_script(&script);
        let server = if cluster {
            match cluster_server(&mut clustered) {
                Some(s) => s,
                None => continue,
            }
        } else {
            plain
        };
        let mut conns: BTreeMap<u32, Conn> = BTreeMap::new();
        let mut setup = Conn::connect(server.port).expect("connect to redis-server");
        setup.call(&[b"FLUSHALL".to_vec()]).expect("FLUSHALL");
        if cluster {
            // Each script starts from a node alone, without slots, at epoch 0.
            setup
                .call(&[b"CLUSTER".to_vec(), b"RESET".to_vec(), b"HARD".to_vec()])
                .expect("CLUSTER RESET");
        }
        let mut engine = if cluster {
            EngineRun::new_cluster(false)
        } else {
            EngineRun::new(false)
        };
        let mut golden = Vec::new();
        for step in &steps {
            match step {
                Step::Sleep(ms) => engine.sleep(*ms),
                Step::Command {
                    line_no,
                    text,
                    client,
                    compare,
                    argv,
                } => {
                    let conn = conns
                        .entry(*client)
                        .or_insert_with(|| Conn::connect(server.port).expect("connect"));
                    let (ours, theirs) = if cluster {
                        (engine.id(), live_id(&mut setup))
                    } else {
                        (Vec::new(), Vec::new())
                    };
                    let (got, count) = engine.run(*client, &with_id(argv, &ours));
                    let got = replace_all(&got, &ours, MYID_SHOWN);
                    if std::env::var_os("DIFF_TRACE").is_some() {
                        // DIFF_TRACE=1: what the engine answered each line, to follow a case.
                        eprintln!(
                            "{}: @{} count={} got={:?}",
                            line_no,
                            client,
                            count,
                            String::from_utf8_lossy(&got)
                        );
                    }
                    let want = conn
                        .call_n(&with_id(argv, &theirs), count)
                        .unwrap_or_else(|e| {
                            panic!("{}:{}: redis-server: {}", script.display(), line_no, e)
                        });
                    let want = replace_all(&want, &theirs, MYID_SHOWN);
                    if count == 0 {
                        // Nothing to read back (the command blocks): the next line, maybe
                        // on another connection, must not overtake it.
                        conn.wait_read_by(server.port);
                    }
                    if argv[0].eq_ignore_ascii_case(b"quit") {
                        conns.remove(client);
                    }
                    report.lines += 1;
                    report.check((&script, *line_no, text), *compare, &want, &got, "redis ");
                    golden.push((text.clone(), want));
                }
            }
        }
        let gpath = golden_path(&script);
        if update {
            // Keep recorded replies that still agree under their line's marker, so shape-only
            // and unordered lines do not churn the golden files on every update.
            if let Some(old) = read_golden(&gpath) {
                let compares = steps.iter().filter_map(|s| match s {
                    Step::Command { compare, .. } => Some(*compare),
                    Step::Sleep(_) => None,
                });
                for ((entry, cmp), (ocmd, oreply)) in golden.iter_mut().zip(compares).zip(old) {
                    if entry.0 == ocmd && same(cmp, &entry.1, &oreply) {
                        entry.1 = oreply;
                    }
                }
            }
            write_golden(&gpath, &golden);
        } else {
            check_golden_fresh(&script, &steps, &golden, report);
        }
    }
}

/// The golden file must hold what real Redis answered just now.
fn check_golden_fresh(
    script: &Path,
    steps: &[Step],
    live: &[(String, Vec<u8>)],
    report: &mut Report,
) {
    let gpath = golden_path(script);
    let Some(stored) = read_golden(&gpath) else {
        report.failures.push(format!(
            "{}: golden file missing or malformed; run UPDATE_GOLDEN=1 cargo test --test differential",
            gpath.display()
        ));
        return;
    };
    let cmds = steps.iter().filter_map(|s| match s {
        Step::Command {
            line_no, compare, ..
        } => Some((*line_no, *compare)),
        Step::Sleep(_) => None,
    });
    if stored.len() != live.len() {
        report.failures.push(format!(
            "{}: stale golden file (regenerate it)",
            gpath.display()
        ));
        return;
    }
    for (((line_no, cmp), (scmd, sreply)), (lcmd, lreply)) in cmds.zip(&stored).zip(live) {
        if scmd != lcmd {
            report.failures.push(format!(
                "{}: stale golden file at {:?} (regenerate it)",
                gpath.display(),
                lcmd
            ));
            return;
        }
        report.check((script, line_no, lcmd), cmp, lreply, sreply, "redis ");
    }
}

fn run_offline(report: &mut Report) {
    for script in scripts() {
        let steps = parse_script(&script);
        let gpath = golden_path(&script);
        let Some(golden) = read_golden(&gpath) else {
            report
                .failures
                .push(format!("{}: golden file missing", gpath.display()));
            continue;
        };
        let cluster = is_cluster_script(&script);
        let mut engine = if cluster {
            EngineRun::new_cluster(true)
        } else {
            EngineRun::new(true)
        };
        let mut replies = golden.iter();
        for step in &steps {
            match step {
                Step::Sleep(ms) => engine.sleep(*ms),
                Step::Command {
                    line_no,
                    text,
                    client,
                    compare,
                    argv,
                } => {
                    let Some((gcmd, want)) = replies.next().filter(|(c, _)| c == text) else {
                        report.failures.push(format!(
                            "{}: stale golden file at line {}",
                            gpath.display(),
                            line_no
                        ));
                        break;
                    };
                    let _ = gcmd;
                    let ours = engine.id();
                    let (got, _) = engine.run(*client, &with_id(argv, &ours));
                    let got = replace_all(&got, &ours, MYID_SHOWN);
                    report.lines += 1;
                    report.check((&script, *line_no, text), *compare, want, &got, "golden");
                }
            }
        }
        if let Some((cmd, _)) = replies.next() {
            report.failures.push(format!(
                "{}: stale golden file: {:?} recorded past the script's end",
                gpath.display(),
                cmd
            ));
        }
    }
}

#[test]
fn replies_match_real_redis() {
    let mut report = Report {
        lines: 0,
        failures: Vec::new(),
    };
    let offline = std::env::var_os("DIFF_OFFLINE").is_some();
    let server = if offline {
        None
    } else {
        RedisServer::start_with(&["--enable-debug-command", "yes"]).or_else(RedisServer::start)
    };
    let mode = match &server {
        Some(s) => {
            run_live(s, &mut report);
            "against a live redis-server"
        }
        None => {
            run_offline(&mut report);
            "against recorded golden replies"
        }
    };
    println!(
        "differential: {} command lines in {} scripts, {}: {} differences",
        report.lines,
        scripts().len(),
        mode,
        report.failures.len()
    );
    assert!(
        report.failures.is_empty(),
        "\n{}\n",
        report.failures.join("\n")
    );
}
