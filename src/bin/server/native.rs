//! The native server itself (see the binary's documentation); compiled for every target but
//! the browser, which has no sockets.

#[path = "aof.rs"]
mod aof;
#[path = "event_loop.rs"]
mod event_loop;
#[path = "migrate.rs"]
mod migrate;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream, ToSocketAddrs};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::OnceLock;
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use redis_playground::protocol::inline::split_args;
use redis_playground::{Engine, EngineOptions};

/// Every allocation the process makes goes through this counter, so INFO used_memory and
/// maxmemory see the bytes the server really holds (redis-server reads its allocator's figure
/// the same way). `cap` wraps the system allocator with an atomic count; the limit is unused.
#[global_allocator]
static ALLOCATOR: cap::Cap<std::alloc::System> = cap::Cap::new(std::alloc::System, usize::MAX);

/// The allocator's count of bytes in use, for the engine.
fn allocated_bytes() -> u64 {
    ALLOCATOR.allocated() as u64
}

/// Directives CONFIG SET refuses that the server takes itself or has no use for (logging,
/// process management): accepted silently, so a redis-server command line works unchanged.
const IGNORED: &[&str] = &[
    // Read from the command line before the engine starts (see `serve`).
    "appendfilename",
    "appenddirname",
    "replicaof",
    "slaveof",
    "logfile",
    "loglevel",
    "syslog-enabled",
    "syslog-ident",
    "syslog-facility",
    "protected-mode",
    "supervised",
    "tcp-backlog",
    "tcp-keepalive",
    "timeout",
    "always-show-logo",
    "set-proc-title",
    "proc-title-template",
    "rdbchecksum",
    "rdb-del-sync-files",
    "stop-writes-on-bgsave-error",
    "io-threads",
    "io-threads-do-reads",
    "unixsocket",
    "unixsocketperm",
    "enable-protected-configs",
    "enable-module-command",
    "aof-use-rdb-preamble",
    "no-appendfsync-on-rewrite",
    "auto-aof-rewrite-percentage",
    "auto-aof-rewrite-min-size",
    "lazyfree-lazy-eviction",
    "lazyfree-lazy-expire",
    "lazyfree-lazy-server-del",
    "lazyfree-lazy-user-del",
    "lazyfree-lazy-user-flush",
    "jemalloc-bg-thread",
    "crash-log-enabled",
    "crash-memcheck-enabled",
    "oom-score-adj",
    "disable-thp",
];

const USAGE: &str = "\
Usage: redis-playground-server [/path/to/redis.conf] [options] [-]
       redis-playground-server - (read config from stdin)
       redis-playground-server -v or --version
       redis-playground-server -h or --help

Redis 7.0 re-implemented in Rust, served over TCP. Options are redis-server's:
  --port <port>          TCP port to listen on (default 6379)
  --bind <addr> [...]    addresses to listen on (default 127.0.0.1 -::1; a leading '-'
                         marks an address that may be missing; '*' is every IPv4 address)
  --databases <n>        number of databases (default 16)
  --daemonize yes|no     yes: start in the background and return once it listens
  --dir <path>           where the snapshot lives (default: the current directory)
  --dbfilename <name>    the snapshot's file name (default dump.rdb), loaded at start
  --save '<sec> <changes> ...'  snapshot rules (default '3600 1 300 100 60 10000';
                         --save '' turns them off)
  --pidfile <path>       write the process id there
  --requirepass <pass>   the default user's password
  --aclfile <path>       ACL users, loaded at start, by ACL LOAD, written by ACL SAVE
  --user <name> <rule...>  an ACL user (as redis.conf's user lines; not with --aclfile)
  --enable-debug-command no|yes|local  allow DEBUG (default no; local: only from
                         loopback connections)
  --appendonly yes|no    keep an append-only file (Redis 7.0's multi-part layout in
                         --appenddirname, named after --appendfilename; --appendfsync
                         always|everysec|no); with yes it is loaded at start, not dump.rdb
  --<name> <value...>    any other parameter is set with CONFIG SET; logging and process
                         options (--loglevel, --logfile ...) are accepted
                         and ignored

Examples:
       redis-playground-server --port 7777
       redis-playground-server --port 7777 --save '' --appendonly no
       echo 'port 7777' | redis-playground-server -
";

/// What the command line asks for.
#[derive(Debug, PartialEq)]
enum Action {
    Run(Box<Options>),
    Help,
    Version,
}

/// The server's settings.
#[derive(Debug, PartialEq)]
struct Options {
    port: u16,
    /// Listening addresses; `optional` ones may fail to bind (`-::1` when IPv6 is off).
    binds: Vec<(String, bool)>,
    databases: Option<usize>,
    daemonize: bool,
    pidfile: Option<String>,
    /// `--dir`: the directory of the snapshot file.
    dir: Option<String>,
    /// `--dbfilename`: the snapshot file's name.
    dbfilename: Option<String>,
    /// `--aclfile`: the ACL file, loaded at start, read by ACL LOAD and written by ACL SAVE.
    aclfile: Option<String>,
    /// `user <name> <rules...>` lines, in the order given.
    users: Vec<Vec<String>>,
    /// `--enable-debug-command no|yes|local` (fixed at start-up, as in redis-server).
    enable_debug: Option<String>,
    /// Directives left for the engine (CONFIG SET) or to ignore, in the order given.
    rest: Vec<(String, Vec<String>)>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            port: 6379,
            binds: vec![("127.0.0.1".into(), false), ("::1".into(), true)],
            databases: None,
            daemonize: false,
            pidfile: None,
            dir: None,
            dbfilename: None,
            aclfile: None,
            users: Vec::new(),
            enable_debug: None,
            rest: Vec::new(),
        }
    }
}

/// Parses redis-server's command line: an optional config file (or `-` for stdin) first, then
/// `--name value...` groups; a value never starts with `--`.
fn parse_args(
    args: &[String],
    read_file: &dyn Fn(&str) -> Result<String, String>,
) -> Result<Action, String> {
    let mut directives: Vec<(String, Vec<String>)> = Vec::new();
    let mut rest = args;
    match args.first().map(String::as_str) {
        Some("-h" | "--help") => return Ok(Action::Help),
        Some("-v" | "--version") => return Ok(Action::Version),
        Some(first) if !first.starts_with("--") => {
            directives.extend(parse_config_text(&read_file(first)?)?);
            rest = &args[1..];
        }
        _ => {}
    }
    let mut i = 0;
    while i < rest.len() {
        let arg = &rest[i];
        if arg == "-" {
            directives.extend(parse_config_text(&read_file("-")?)?);
            i += 1;
            continue;
        }
        let Some(name) = arg.strip_prefix("--") else {
            return Err(format!(
                "unexpected argument '{arg}' (options are spelled --name value)"
            ));
        };
        if name == "help" {
            return Ok(Action::Help);
        }
        if name == "version" {
            return Ok(Action::Version);
        }
        let mut values = Vec::new();
        i += 1;
        while i < rest.len() && !rest[i].starts_with("--") {
            values.push(rest[i].clone());
            i += 1;
        }
        directives.push((name.to_ascii_lowercase(), values));
    }
    let mut opts = Options::default();
    for (name, values) in directives {
        apply_directive(&mut opts, name, values)?;
    }
    Ok(Action::Run(Box::new(opts)))
}

/// `name value...` lines of a redis.conf; `#` starts a comment line.
fn parse_config_text(text: &str) -> Result<Vec<(String, Vec<String>)>, String> {
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let words = split_args(line.as_bytes())
            .map_err(|_| format!("config line {}: unbalanced quotes", n + 1))?;
        let mut words = words
            .into_iter()
            .map(|w| String::from_utf8_lossy(&w).into_owned());
        if let Some(name) = words.next() {
            out.push((name.to_ascii_lowercase(), words.collect()));
        }
    }
    Ok(out)
}

fn one_value<'a>(name: &str, values: &'a [String]) -> Result<&'a str, String> {
    match values {
        [v] => Ok(v),
        _ => Err(format!("'{name}' takes exactly one value")),
    }
}

fn apply_directive(opts: &mut Options, name: String, values: Vec<String>) -> Result<(), String> {
    match name.as_str() {
        "port" => {
            let v = one_value(&name, &values)?;
            opts.port = v
                .parse::<u16>()
                .ok()
                .filter(|p| *p != 0)
                .ok_or_else(|| format!("invalid port '{v}' (1-65535)"))?;
        }
        "bind" => {
            if values.is_empty() {
                return Err("'bind' needs at least one address".into());
            }
            opts.binds = values
                .iter()
                .map(|v| match v.strip_prefix('-') {
                    Some(addr) => (bind_address(addr), true),
                    None => (bind_address(v), false),
                })
                .collect();
        }
        "dir" => opts.dir = Some(one_value(&name, &values)?.to_string()),
        "dbfilename" => {
            let v = one_value(&name, &values)?;
            // As redis-server: a file name, not a path.
            if v.contains('/') || v.is_empty() {
                return Err(format!(
                    "dbfilename can't be a path, just a filename ('{v}')"
                ));
            }
            opts.dbfilename = Some(v.to_string());
        }
        "databases" => {
            let v = one_value(&name, &values)?;
            let n = v
                .parse::<usize>()
                .ok()
                .filter(|n| (1..=redis_playground::engine::MAX_DATABASES).contains(n))
                .ok_or_else(|| {
                    format!(
                        "invalid databases '{v}' (1-{})",
                        redis_playground::engine::MAX_DATABASES
                    )
                })?;
            opts.databases = Some(n);
        }
        "daemonize" => {
            opts.daemonize = match one_value(&name, &values)?.to_ascii_lowercase().as_str() {
                "yes" => true,
                "no" => false,
                other => return Err(format!("daemonize must be yes or no, not '{other}'")),
            };
        }
        "enable-debug-command" => {
            let v = one_value(&name, &values)?.to_ascii_lowercase();
            if !matches!(v.as_str(), "no" | "yes" | "local") {
                return Err("argument(s) must be one of the following: no, yes, local".into());
            }
            opts.enable_debug = Some(v);
        }
        "pidfile" => {
            let v = one_value(&name, &values)?;
            opts.pidfile = (!v.is_empty()).then(|| v.to_string());
        }
        "aclfile" => {
            let v = one_value(&name, &values)?;
            opts.aclfile = (!v.is_empty()).then(|| v.to_string());
        }
        "user" => {
            if values.is_empty() {
                return Err("'user' needs a user name and its rules".into());
            }
            if opts.users.iter().any(|u| u[0] == values[0]) {
                return Err(format!(
                    "Error in user declaration '{}': Duplicate user found. A user can only be \
                     defined once in config files",
                    values[0]
                ));
            }
            opts.users.push(values);
        }
        _ => opts.rest.push((name, values)),
    }
    Ok(())
}

/// redis-server's spellings of "every address".
fn bind_address(addr: &str) -> String {
    match addr {
        "*" => "0.0.0.0".into(),
        "::*" => "::".into(),
        other => other.into(),
    }
}

/// Microseconds since the server started, from the monotonic clock: the engine times
/// commands with it (SLOWLOG, LATENCY).
fn monotonic_us() -> u64 {
    static START: OnceLock<Instant> = OnceLock::new();
    u64::try_from(START.get_or_init(Instant::now).elapsed().as_micros()).unwrap_or(u64::MAX)
}

/// DEBUG SLEEP: the whole server stops, as redis-server's does.
fn sleep_us(us: u64) {
    thread::sleep(Duration::from_micros(us));
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// Runs the server with the process's arguments.
pub fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let read_file = |path: &str| -> Result<String, String> {
        if path == "-" {
            let mut s = String::new();
            std::io::stdin()
                .read_to_string(&mut s)
                .map_err(|e| format!("reading the config from stdin: {e}"))?;
            Ok(s)
        } else {
            std::fs::read_to_string(path)
                .map_err(|e| format!("cannot open config file '{path}': {e}"))
        }
    };
    let opts = match parse_args(&args, &read_file) {
        Ok(Action::Help) => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Ok(Action::Version) => {
            println!(
                "redis-playground-server v={} (speaks Redis 7.0.15)",
                env!("CARGO_PKG_VERSION")
            );
            return ExitCode::SUCCESS;
        }
        Ok(Action::Run(opts)) => *opts,
        Err(e) => {
            eprintln!("*** FATAL CONFIG ERROR: {e}\n\n{USAGE}");
            return ExitCode::FAILURE;
        }
    };
    if opts.daemonize {
        return daemonize(&args, &opts);
    }
    match serve(opts) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("redis-playground-server: {e}");
            ExitCode::FAILURE
        }
    }
}

/// `--daemonize yes`: std cannot fork, so start a copy of this program in the background with
/// `--daemonize no`, and return once it accepts connections (scripts connect right after).
fn daemonize(args: &[String], opts: &Options) -> ExitCode {
    let exe = match std::env::current_exe() {
        Ok(p) => p,
        Err(e) => {
            eprintln!("redis-playground-server: cannot find own executable: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut child_args: Vec<String> = args.to_vec();
    child_args.extend(["--daemonize".to_string(), "no".to_string()]);
    let child = std::process::Command::new(exe)
        .args(&child_args)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn();
    let mut child = match child {
        Ok(c) => c,
        Err(e) => {
            eprintln!("redis-playground-server: cannot start in the background: {e}");
            return ExitCode::FAILURE;
        }
    };
    let probe = opts
        .binds
        .iter()
        .find(|(_, optional)| !optional)
        .map_or("127.0.0.1", |(a, _)| a.as_str());
    let probe = if probe == "0.0.0.0" {
        "127.0.0.1"
    } else if probe == "::" {
        "::1"
    } else {
        probe
    };
    for _ in 0..200 {
        if let Ok(Some(status)) = child.try_wait() {
            eprintln!("redis-playground-server: the background server exited ({status})");
            return ExitCode::FAILURE;
        }
        let ok = (probe, opts.port)
            .to_socket_addrs()
            .ok()
            .and_then(|mut a| a.next())
            .is_some_and(|a| TcpStream::connect_timeout(&a, Duration::from_millis(100)).is_ok());
        if ok {
            return ExitCode::SUCCESS;
        }
        thread::sleep(Duration::from_millis(25));
    }
    eprintln!("redis-playground-server: the background server did not start listening");
    ExitCode::FAILURE
}

/// Binds the listeners, applies the options to a fresh engine, and serves until killed.
fn serve(opts: Options) -> Result<(), String> {
    // Before listening: whoever sees the port open (`--daemonize yes` waits for that) finds it.
    if let Some(path) = &opts.pidfile {
        if let Err(e) = std::fs::write(path, format!("{}\n", std::process::id())) {
            eprintln!("Warning: could not write pidfile {path}: {e}");
        }
    }
    let mut listeners = Vec::new();
    for (addr, optional) in &opts.binds {
        match TcpListener::bind((addr.as_str(), opts.port)) {
            Ok(l) => listeners.push(l),
            Err(e) if *optional => {
                eprintln!(
                    "Warning: could not bind {addr}:{}: {e} (optional, skipped)",
                    opts.port
                )
            }
            Err(e) => return Err(format!("could not bind {addr}:{}: {e}", opts.port)),
        }
    }
    if listeners.is_empty() {
        return Err("no address to listen on".into());
    }
    let now = now_ms();
    let mut engine = Engine::new(EngineOptions {
        databases: opts.databases.unwrap_or(16),
        seed: SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0x5eed, |d| {
                d.as_nanos() as u64 ^ u64::from(std::process::id())
            }),
        now_ms: now,
        port: opts.port,
    });
    engine.set_clock_us(Some(monotonic_us));
    engine.sleeper = Some(sleep_us);
    engine.migrate = Some(Box::new(migrate::NativeMigrate::default()));
    engine.set_memory_counter(Some(allocated_bytes));
    if let Some(v) = &opts.enable_debug {
        engine.config.set_at_startup("enable-debug-command", v);
    }
    apply_config(&mut engine, &save_rules_directive(&opts.rest), now);
    load_users(&mut engine, &opts)?;
    let snapshot = snapshot_path(&opts)?;
    let aof_path = aof::AofPath {
        dir: snapshot
            .dir
            .join(last_value(&opts.rest, "appenddirname").unwrap_or("appendonlydir")),
        name: last_value(&opts.rest, "appendfilename")
            .unwrap_or("appendonly.aof")
            .to_string(),
    };
    for (name, value) in [
        (
            "appenddirname",
            aof_path.dir.file_name().and_then(|n| n.to_str()),
        ),
        ("appendfilename", Some(aof_path.name.as_str())),
    ] {
        if let Some(v) = value {
            engine.config.set_at_startup(name, v);
        }
    }
    // As redis-server: with appendonly yes the AOF is the data, and dump.rdb is not read.
    let aof = if engine.config.appendonly {
        let loaded = aof::load(&aof_path, &mut engine, now)?;
        // Loading is not traffic: INFO starts from zero as redis-server's does.
        engine.stats = Default::default();
        if loaded {
            eprintln!(
                "redis-playground-server: DB loaded from append only file: {} keys",
                engine.key_count()
            );
        }
        Some(aof::Aof::start(aof_path.clone(), &mut engine, now)?)
    } else {
        load_snapshot(&mut engine, &snapshot, now)?;
        None
    };
    engine
        .config
        .set_at_startup("dir", &snapshot.dir.to_string_lossy());
    engine.config.set_at_startup("dbfilename", &snapshot.file);
    let stored = snapshot.full();
    engine.persist.reader = Some(Box::new(move || {
        std::fs::read(&stored).map_err(|e| e.to_string())
    }));
    engine.persist.writer = Some(snapshot_writer(snapshot));
    engine.persist.aof_host = true;
    raise_fd_limit(engine.config.maxclients);
    // `replicaof <host> <port>` (or `slaveof`): a replica from the start.
    let master = opts
        .rest
        .iter()
        .rev()
        .find(|(n, _)| n == "replicaof" || n == "slaveof")
        .map(|(_, v)| v.clone());
    if let Some(words) = master {
        let port = words.get(1).and_then(|p| p.parse::<u16>().ok());
        match (words.first(), port) {
            (Some(host), Some(port)) => engine.set_master(host, port, now),
            _ => return Err("Invalid master port".into()),
        }
    }
    for listener in &listeners {
        if let Ok(a) = listener.local_addr() {
            eprintln!("redis-playground-server: ready to accept connections on {a}");
        }
    }
    // On standard output, as redis-server logs with `logfile ""`: its process id and that it is
    // ready, the lines Redis's own test suite waits for when it starts a server itself.
    println!(
        "redis-playground-server {} (speaks Redis 7.0.15), PID: {}",
        env!("CARGO_PKG_VERSION"),
        std::process::id()
    );
    println!("Ready to accept connections");
    event_loop::run(listeners, engine, now_ms, aof_path, aof)
}

/// The value of the last `name` directive, if one was given (a file name for the AOF).
fn last_value<'a>(directives: &'a [(String, Vec<String>)], name: &str) -> Option<&'a str> {
    directives
        .iter()
        .rev()
        .find(|(n, _)| n == name)
        .and_then(|(_, v)| v.first())
        .map(String::as_str)
        .filter(|v| !v.is_empty() && !v.contains('/'))
}

/// The users of `user` lines, or of the ACL file (redis-server refuses both at once); a
/// file with errors stops the start, as it does redis-server's.
fn load_users(engine: &mut Engine, opts: &Options) -> Result<(), String> {
    if opts.aclfile.is_some() && !opts.users.is_empty() {
        return Err(
            "users are defined both in the configuration ('user' lines) and in an \
             ACL file; use one or the other"
                .into(),
        );
    }
    for words in &opts.users {
        let rules: Vec<Vec<u8>> = words[1..].iter().map(|w| w.as_bytes().to_vec()).collect();
        engine
            .acl_config_user(words[0].as_bytes(), &rules)
            .map_err(|e| format!("Error loading ACL user '{}': {e}", words[0]))?;
    }
    if let Some(path) = &opts.aclfile {
        engine.config.set_at_startup("aclfile", path);
        // redis-server works in `dir`, so a relative ACL file path is found there.
        let file = match &opts.dir {
            Some(dir) if std::path::Path::new(path).is_relative() => PathBuf::from(dir).join(path),
            _ => PathBuf::from(path),
        };
        engine.acl.file = Some(Box::new(AclFilePath(file)));
        engine
            .acl_load_file(0)
            .map_err(|e| format!("Aborting startup because of ACL errors: {e}"))?;
    }
    Ok(())
}

/// The ACL file on disk: written whole to a temporary file beside it, then renamed over it,
/// so a reader never sees half a file.
struct AclFilePath(PathBuf);

impl redis_playground::engine::acl::AclFile for AclFilePath {
    fn path(&self) -> String {
        self.0.display().to_string()
    }

    fn read(&self) -> Result<String, String> {
        std::fs::read_to_string(&self.0).map_err(|e| {
            // Redis prints strerror's text alone.
            let text = e.to_string();
            text.split(" (os error").next().unwrap_or(&text).to_string()
        })
    }

    fn write(&self, text: &str) -> Result<(), String> {
        let tmp = PathBuf::from(format!(
            "{}.tmp-{}-{}",
            self.0.display(),
            std::process::id(),
            now_ms()
        ));
        let written = std::fs::write(&tmp, text).and_then(|()| std::fs::rename(&tmp, &self.0));
        if let Err(e) = written {
            let _ = std::fs::remove_file(&tmp);
            eprintln!("ACL SAVE: {e}");
            return Err(e.to_string());
        }
        Ok(())
    }
}

/// Raises the open file limit towards `maxclients` plus some for the server's own files, as
/// redis-server does at start, so thousands of clients can connect; says so when the system
/// allows fewer.
fn raise_fd_limit(maxclients: i64) {
    let want = u64::try_from(maxclients).unwrap_or(0).saturating_add(32);
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit and setrlimit only read and write the struct passed to them.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) != 0 || lim.rlim_cur >= want {
            return;
        }
        let old = lim.rlim_cur;
        lim.rlim_cur = want.min(lim.rlim_max);
        if libc::setrlimit(libc::RLIMIT_NOFILE, &lim) != 0 {
            lim.rlim_cur = old;
        }
    }
    if lim.rlim_cur < want {
        eprintln!(
            "Warning: the open file limit is {}: fewer than maxclients {maxclients} clients can \
             connect",
            lim.rlim_cur
        );
    }
}

/// Where the snapshot lives.
struct SnapshotPath {
    dir: std::path::PathBuf,
    file: String,
}

impl SnapshotPath {
    fn full(&self) -> std::path::PathBuf {
        self.dir.join(&self.file)
    }
}

/// `--dir` (made absolute, as CONFIG GET dir shows it) and `--dbfilename`; a directory that
/// does not exist stops the start, as redis-server's chdir failing does.
fn snapshot_path(opts: &Options) -> Result<SnapshotPath, String> {
    let dir = opts.dir.clone().unwrap_or_else(|| ".".into());
    let dir = std::fs::canonicalize(&dir).map_err(|e| format!("Can't chdir to '{dir}': {e}"))?;
    if !dir.is_dir() {
        return Err(format!(
            "Can't chdir to '{}': Not a directory",
            dir.display()
        ));
    }
    Ok(SnapshotPath {
        dir,
        file: opts.dbfilename.clone().unwrap_or_else(|| "dump.rdb".into()),
    })
}

/// The `save` directives as one CONFIG SET: redis-server appends the rules of every `save`
/// line, an empty one clearing those before it; without any, its default rules apply.
fn save_rules_directive(directives: &[(String, Vec<String>)]) -> Vec<(String, Vec<String>)> {
    let mut rules: Option<String> = None;
    let mut out = Vec::new();
    for (name, values) in directives {
        if name == "save" {
            let joined = values.join(" ");
            rules = Some(match rules {
                Some(r) if !r.is_empty() && !joined.is_empty() => format!("{r} {joined}"),
                _ => joined,
            });
        } else {
            out.push((name.clone(), values.clone()));
        }
    }
    let rules = rules.unwrap_or_else(|| "3600 1 300 100 60 10000".into());
    out.insert(0, ("save".into(), vec![rules]));
    out
}

/// Loads the snapshot if there is one. A file that cannot be read or does not load stops the
/// start with the reason: starting empty would lose it at the next save.
fn load_snapshot(engine: &mut Engine, path: &SnapshotPath, now: i64) -> Result<(), String> {
    let full = path.full();
    let bytes = match std::fs::read(&full) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => {
            return Err(format!(
                "Fatal error loading the DB ({}): {e}. Exiting.",
                full.display()
            ))
        }
    };
    let keys = engine.load_snapshot(&bytes, now).map_err(|e| {
        format!(
            "Fatal error loading the DB ({}): {e}. Exiting.",
            full.display()
        )
    })?;
    engine.dirty = 0;
    engine.last_save_s = now / 1000;
    eprintln!("redis-playground-server: DB loaded from disk: {keys} keys");
    Ok(())
}

/// Writes snapshots as redis-server does: a temporary file in the same directory, flushed to
/// disk, then renamed over the old one, so a crash mid-save leaves the previous file whole.
fn snapshot_writer(path: SnapshotPath) -> redis_playground::engine::SnapshotWriter {
    Box::new(move |bytes: &[u8]| {
        let tmp = path.dir.join(format!("temp-{}.rdb", std::process::id()));
        let write = || -> std::io::Result<()> {
            let mut f = std::fs::File::create(&tmp)?;
            f.write_all(bytes)?;
            f.sync_all()?;
            drop(f);
            std::fs::rename(&tmp, path.full())?;
            // The rename itself reaches the disk with the directory.
            if let Ok(d) = std::fs::File::open(&path.dir) {
                let _ = d.sync_all();
            }
            Ok(())
        };
        match write() {
            Ok(()) => {
                eprintln!("redis-playground-server: DB saved on disk");
                Ok(())
            }
            Err(e) => {
                let _ = std::fs::remove_file(&tmp);
                eprintln!(
                    "redis-playground-server: failed saving the DB to {}: {e}",
                    path.full().display()
                );
                Err(e.to_string())
            }
        }
    })
}

/// Hands the directives the server does not handle itself to the engine's CONFIG SET.
fn apply_config(engine: &mut Engine, directives: &[(String, Vec<String>)], now: i64) {
    if directives.is_empty() {
        return;
    }
    let admin = engine.open_client(now);
    for (name, values) in directives {
        let mut argv: Vec<Vec<u8>> = vec![
            b"CONFIG".to_vec(),
            b"SET".to_vec(),
            name.as_bytes().to_vec(),
        ];
        // CONFIG SET takes one value; redis-server joins a directive's words with spaces.
        argv.push(values.join(" ").into_bytes());
        let reply = engine.execute(admin, &argv, now);
        let failed = reply.as_ref().is_none_or(|r| r.is_error());
        if failed && !IGNORED.contains(&name.as_str()) {
            let why = match reply {
                Some(redis_playground::Reply::Error(e)) => e.into_owned(),
                _ => "no reply".into(),
            };
            eprintln!(
                "Warning: ignoring option --{name} {}: {why}",
                values.join(" ")
            );
        }
    }
    engine.close_client(admin);
    // Setting up is not traffic: INFO starts from zero as redis-server's does.
    engine.stats = Default::default();
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &[&str]) -> Vec<String> {
        s.iter().map(|a| a.to_string()).collect()
    }

    fn no_file(_: &str) -> Result<String, String> {
        Err("no file".into())
    }

    fn run(s: &[&str]) -> Options {
        match parse_args(&args(s), &no_file) {
            Ok(Action::Run(o)) => *o,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn redis_server_command_lines() {
        let o = run(&[
            "--port",
            "7000",
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--daemonize",
            "no",
        ]);
        assert_eq!(o.port, 7000);
        assert_eq!(o.binds, vec![("127.0.0.1".to_string(), false)]);
        assert!(!o.daemonize);
        assert_eq!(
            o.rest,
            vec![
                ("save".to_string(), vec![String::new()]),
                ("appendonly".to_string(), vec!["no".to_string()])
            ]
        );
        let o = run(&["--bind", "*", "-::1", "--save", "--port", "1"]);
        assert_eq!(
            o.binds,
            vec![("0.0.0.0".to_string(), false), ("::1".to_string(), true)]
        );
        assert_eq!(o.rest, vec![("save".to_string(), vec![])]);
        assert_eq!(run(&[]), Options::default());
        assert_eq!(run(&["--databases", "4"]).databases, Some(4));
        assert_eq!(parse_args(&args(&["--help"]), &no_file), Ok(Action::Help));
        assert_eq!(parse_args(&args(&["-h"]), &no_file), Ok(Action::Help));
        assert_eq!(parse_args(&args(&["-v"]), &no_file), Ok(Action::Version));
        assert!(parse_args(&args(&["--port", "x"]), &no_file).is_err());
        assert!(parse_args(&args(&["--port", "70000"]), &no_file).is_err());
        assert!(parse_args(&args(&["--port"]), &no_file).is_err());
        assert!(parse_args(&args(&["--databases", "0"]), &no_file).is_err());
        assert!(parse_args(&args(&["--daemonize", "maybe"]), &no_file).is_err());
        assert!(parse_args(&args(&["/no/such.conf"]), &no_file).is_err());
    }

    #[test]
    fn config_files() {
        let file = |_: &str| -> Result<String, String> {
            Ok("# comment\nport 7001\n\n  bind 127.0.0.1 -::1\nsave \"\"\nmaxmemory 1mb\n".into())
        };
        let Ok(Action::Run(o)) = parse_args(&args(&["x.conf", "--port", "7002"]), &file) else {
            panic!()
        };
        assert_eq!(o.port, 7002, "the command line overrides the file");
        assert_eq!(
            o.binds,
            vec![("127.0.0.1".to_string(), false), ("::1".to_string(), true)]
        );
        assert_eq!(
            o.rest[1],
            ("maxmemory".to_string(), vec!["1mb".to_string()])
        );
    }
}
