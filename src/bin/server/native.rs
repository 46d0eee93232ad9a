//! The native server itself (see the binary's documentation); compiled for every target but
//! the browser, which has no sockets.

#[path = "aof.rs"]
mod aof;
#[path = "bufsize.rs"]
mod bufsize;
#[path = "conf.rs"]
mod conf;
#[path = "event_loop.rs"]
mod event_loop;
#[path = "listen.rs"]
mod listen;
#[path = "log.rs"]
pub mod log;
#[path = "migrate.rs"]
mod migrate;
#[path = "stream.rs"]
mod stream;
#[path = "title.rs"]
mod title;

use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::OnceLock;
use std::thread;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use redis_playground::config::Config;
use redis_playground::{Engine, EngineOptions};

/// Every allocation the process makes goes through this counter, so INFO used_memory and
/// maxmemory see the bytes the server really holds (redis-server reads its allocator's figure
/// the same way). `cap` wraps the allocator with an atomic count; the limit is unused. The
/// allocator is mimalloc, as redis-server's is jemalloc: a command's small allocations (its
/// reply's elements) cost a fraction of what they cost with glibc's malloc.
#[global_allocator]
static ALLOCATOR: cap::Cap<mimalloc::MiMalloc> = cap::Cap::new(mimalloc::MiMalloc, usize::MAX);

/// The allocator's count of bytes in use, for the engine.
fn allocated_bytes() -> u64 {
    ALLOCATOR.allocated() as u64
}

use conf::ConfigError;

/// redis-server's snapshot rules when no `save` line says otherwise.
const DEFAULT_SAVE: &str = "3600 1 300 100 60 10000";

const USAGE: &str = "\
Usage: redis-playground-server [/path/to/redis.conf] [options] [-]
       redis-playground-server - (read config from stdin)
       redis-playground-server -v or --version
       redis-playground-server -h or --help

Redis 7.0 re-implemented in Rust, served over TCP. Options are redis-server's:
  --port <port>          TCP port to listen on (default 6379)
  --bind <addr> [...]    addresses to listen on (default '* -::*', every address; a
                         leading '-' marks one that may be missing; '*' is every IPv4
                         address, '::*' every IPv6 one)
  --unixsocket <path>    also listen on a Unix socket (--unixsocketperm <octal> its mode)
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
  --loglevel <level>     debug, verbose, notice (default) or warning
  --logfile <path>       where the log goes (default: standard output)
  --<name> <value...>    any other parameter redis-server knows, checked as it checks
                         it (rename-command too; loadmodule stops the start, as a
                         module redis-server cannot load does)

Examples:
       redis-playground-server --port 7777
       redis-playground-server --port 7777 --save '' --appendonly no
       echo 'port 7777' | redis-playground-server -
";

/// What the command line asks for.
#[derive(Debug)]
enum Action {
    Run(Box<Options>),
    Help,
    Version,
}

/// The server's settings.
#[derive(Debug)]
struct Options {
    /// The config file, as an absolute path (CONFIG REWRITE writes it).
    config_file: Option<PathBuf>,
    /// The directory the server runs in: where it started, or the last `dir`.
    cwd: PathBuf,
    /// Every parameter as the configuration left it (what CONFIG GET shows at start).
    check: Config,
    /// `loglevel` and `logfile` (empty: standard output).
    loglevel: String,
    logfile: String,
    /// `always-show-logo`: the start banner (with the process id) even when not on a terminal.
    always_show_logo: bool,
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
    rest: Vec<conf::Directive>,
    /// `rename-command` lines, checked.
    renames: redis_playground::engine::Renames,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            config_file: None,
            cwd: PathBuf::from("."),
            check: Config::default(),
            loglevel: "notice".into(),
            logfile: String::new(),
            always_show_logo: false,
            port: 6379,
            // redis-server's default, `* -::*`: every address (protected mode keeps clients
            // from elsewhere out while the default user has no password).
            binds: vec![("0.0.0.0".into(), false), ("::".into(), true)],
            databases: None,
            daemonize: false,
            pidfile: None,
            dir: None,
            dbfilename: None,
            aclfile: None,
            users: Vec::new(),
            enable_debug: None,
            rest: Vec::new(),
            renames: Default::default(),
        }
    }
}

/// Parses redis-server's command line and reads its configuration: an optional config file
/// first (or `-` for standard input), then `--name value...` options, read as more lines of
/// the file (see `conf.rs`). `cwd` is where relative paths start.
fn parse_args(
    args: &[String],
    read_file: &dyn Fn(&Path) -> Result<String, String>,
    cwd: PathBuf,
) -> Result<Action, ConfigError> {
    match args.first().map(String::as_str) {
        Some("-h" | "--help") => return Ok(Action::Help),
        Some("-v" | "--version") => return Ok(Action::Version),
        _ => {}
    }
    let cl = conf::command_line(args);
    let mut defaults = Config::default();
    // redis-server's own default rules, replaced by the first `save` line.
    defaults.save = DEFAULT_SAVE.into();
    let mut reader = conf::Reader {
        read: read_file,
        cwd: cwd.clone(),
        check: defaults,
        out: Vec::new(),
        renames: Default::default(),
    };
    reader.read_all(&cl)?;
    // redis-server's sanity check once every line is read: a cluster node's primary is
    // the one CLUSTER REPLICATE names.
    if reader.check.get_named("cluster-enabled") == "yes"
        && !reader.check.get_named("replicaof").is_empty()
    {
        return Err(ConfigError::Fatal {
            at: None,
            reason: "replicaof directive not allowed in cluster mode".into(),
        });
    }
    let mut opts = Options {
        config_file: cl.file.as_ref().map(|f| cwd.join(f)),
        cwd: reader.cwd,
        renames: reader.renames,
        ..Options::default()
    };
    for d in reader.out {
        apply_directive(&mut opts, d).map_err(|reason| ConfigError::Fatal { at: None, reason })?;
    }
    opts.check = reader.check;
    Ok(Action::Run(Box::new(opts)))
}

fn one_value<'a>(name: &str, values: &'a [String]) -> Result<&'a str, String> {
    match values {
        [v] => Ok(v),
        _ => Err(format!("'{name}' takes exactly one value")),
    }
}

fn apply_directive(opts: &mut Options, d: conf::Directive) -> Result<(), String> {
    let name = d.name.clone();
    let values = d.strings();
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
            // One empty word, or none: listen nowhere (the start then stops, as redis-server's).
            let values: Vec<String> = values.into_iter().filter(|v| !v.is_empty()).collect();
            opts.binds = values
                .iter()
                .map(|v| match v.strip_prefix('-') {
                    Some(addr) => (bind_address(addr), true),
                    None => (bind_address(v), false),
                })
                .collect();
        }
        // Already followed while reading (relative paths after it start there).
        "dir" => {}
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
        "loglevel" => opts.loglevel = one_value(&name, &values)?.to_string(),
        "logfile" => opts.logfile = one_value(&name, &values)?.to_string(),
        "always-show-logo" => {
            opts.always_show_logo = one_value(&name, &values)?.eq_ignore_ascii_case("yes")
        }
        _ => opts.rest.push(d),
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
/// commands with it (SLOWLOG, LATENCY), twice a command.
fn monotonic_us() -> u64 {
    static START: OnceLock<u64> = OnceLock::new();
    let now = clock_us(libc::CLOCK_MONOTONIC);
    now.saturating_sub(*START.get_or_init(|| now))
}

/// A clock's reading in microseconds, read directly (std's `Instant` and `SystemTime` go
/// through checked 128-bit arithmetic that shows on a path taken several times a command).
fn clock_us(clock: libc::clockid_t) -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes the struct it is given and nothing else.
    if unsafe { libc::clock_gettime(clock, &mut ts) } != 0 {
        return 0;
    }
    let secs = u64::try_from(ts.tv_sec).unwrap_or(0);
    let micros = u64::try_from(ts.tv_nsec).unwrap_or(0) / 1000;
    secs.saturating_mul(1_000_000).saturating_add(micros)
}

/// DEBUG SLEEP: the whole server stops, as redis-server's does.
fn sleep_us(us: u64) {
    thread::sleep(Duration::from_micros(us));
}

/// The wall clock in milliseconds since the epoch (the engine's `now_ms`, read for every
/// command).
fn now_ms() -> i64 {
    i64::try_from(clock_us(libc::CLOCK_REALTIME) / 1000).unwrap_or(i64::MAX)
}

/// Runs the server with the process's arguments.
pub fn main() -> ExitCode {
    title::remember_program();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let read_file = |path: &Path| -> Result<String, String> {
        if path == Path::new("-") {
            log::warning("Reading config from stdin");
            let mut s = String::new();
            std::io::stdin()
                .read_to_string(&mut s)
                .map_err(|e| conf::os_reason(&e))?;
            Ok(s)
        } else {
            // Bytes that are not UTF-8 stay as they are in quoted values (\x escapes aside,
            // a config file is text).
            std::fs::read(path)
                .map(|b| String::from_utf8_lossy(&b).into_owned())
                .map_err(|e| conf::os_reason(&e))
        }
    };
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    let start_dir = cwd.clone();
    let mut opts = match parse_args(&args, &read_file, cwd) {
        Ok(Action::Help) => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Ok(Action::Version) => {
            println!(
                "Redis server v={} sha=00000000:0 malloc=libc bits=64 build=redis-playground-{}",
                conf::REDIS_VERSION,
                env!("CARGO_PKG_VERSION")
            );
            return ExitCode::SUCCESS;
        }
        Ok(Action::Run(opts)) => *opts,
        Err(e) => {
            match e.block() {
                Some(block) => eprint!("{block}"),
                None => {
                    if let ConfigError::Open(line) = e {
                        log::warning(&line);
                    }
                }
            }
            return ExitCode::FAILURE;
        }
    };
    // As redis-server's `dir`: the server runs there, so relative paths (pidfile, logfile,
    // dbfilename, aclfile) are found from it.
    if let Err(e) = std::env::set_current_dir(&opts.cwd) {
        log::warning(&format!(
            "Can't chdir to '{}': {}",
            opts.cwd.display(),
            conf::os_reason(&e)
        ));
        return ExitCode::FAILURE;
    }
    opts.dir = Some(opts.cwd.display().to_string());
    log::configure(
        log::Level::parse(&opts.loglevel).unwrap_or(log::Level::Notice),
        Some(opts.logfile.clone()),
    );
    if opts.daemonize {
        if std::env::var_os(DAEMON_CHILD).is_none() {
            return daemonize(&args, &start_dir);
        }
        // As redis-server: a server in the background writes a pid file, the default one
        // unless the configuration names another.
        if opts.pidfile.is_none() {
            opts.pidfile = Some(DEFAULT_PIDFILE.into());
            opts.check.set_at_startup("pidfile", DEFAULT_PIDFILE);
        }
    }
    log::warning("oO0OoO0OoO0Oo Redis is starting oO0OoO0OoO0Oo");
    log::warning(&format!(
        "Redis version={}, bits=64, commit=00000000, modified=0, pid={}, just started",
        conf::REDIS_VERSION,
        std::process::id()
    ));
    if args.is_empty() {
        log::warning(
            "Warning: no config file specified, using the default config. In order to specify \
             a config file use redis-playground-server /path/to/redis.conf",
        );
    } else {
        log::warning("Configuration loaded");
    }
    log::running();
    match serve(opts) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            log::warning(&e);
            ExitCode::FAILURE
        }
    }
}

/// Set in the environment of the copy `daemonize` starts: it is the server in the background.
const DAEMON_CHILD: &str = "REDIS_PLAYGROUND_DAEMON_CHILD";

/// Set in the same environment: a file the copy creates once it listens, which the
/// foreground process waits for (a connection to find out would count as a client).
const DAEMON_READY: &str = "REDIS_PLAYGROUND_DAEMON_READY";

/// redis-server's pid file when it runs in the background without `pidfile`.
const DEFAULT_PIDFILE: &str = "/var/run/redis.pid";

/// `--daemonize yes`: std cannot fork, so start a copy of this program in the background (with
/// the same arguments, so CONFIG GET daemonize says yes), and return once it listens
/// (scripts connect right after).
fn daemonize(args: &[String], start_dir: &Path) -> ExitCode {
    let exe = match std::env::current_exe() {
        Ok(p) => p,
        Err(e) => {
            eprintln!("redis-playground-server: cannot find own executable: {e}");
            return ExitCode::FAILURE;
        }
    };
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let ready = std::env::temp_dir().join(format!(
        "redis-playground-server-ready-{}-{nanos}",
        std::process::id()
    ));
    let child = std::process::Command::new(exe)
        .args(args)
        .current_dir(start_dir)
        .env(DAEMON_CHILD, "1")
        .env(DAEMON_READY, &ready)
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
    for _ in 0..400 {
        if ready.exists() {
            let _ = std::fs::remove_file(&ready);
            return ExitCode::SUCCESS;
        }
        if let Ok(Some(status)) = child.try_wait() {
            eprintln!("redis-playground-server: the background server exited ({status})");
            return ExitCode::FAILURE;
        }
        thread::sleep(Duration::from_millis(25));
    }
    eprintln!("redis-playground-server: the background server did not start listening");
    ExitCode::FAILURE
}

/// The process's own oom_score_adj before the server changed it, once it has.
static OOM_BASE: std::sync::Mutex<Option<i64>> = std::sync::Mutex::new(None);

/// `oom-score-adj` and `oom-score-adj-values`, as redis-server applies them at start, after
/// each CONFIG SET and when the server becomes a replica or a master again: the value for its
/// class (the first of the three for a master, the second for a replica; the third is a
/// forked child's, and this server forks none), added to the process's score from before
/// (`relative`, `yes`) or alone (`absolute`), kept within -1000..=1000; `no` puts back the
/// score from before.
pub fn apply_oom_score_adj(config: &Config, replica: bool) {
    const FILE: &str = "/proc/self/oom_score_adj";
    let Ok(mut base) = OOM_BASE.lock() else {
        return;
    };
    let mode = config.get_named("oom-score-adj");
    let value = if mode == "no" {
        match base.take() {
            Some(before) => before,
            None => return,
        }
    } else {
        if base.is_none() {
            match std::fs::read_to_string(FILE) {
                Ok(text) => *base = Some(text.trim().parse().unwrap_or(0)),
                Err(e) => {
                    log::warning(&format!(
                        "Unable to read oom_score_adj: {}",
                        conf::os_reason(&e)
                    ));
                    return;
                }
            }
        }
        let class: i64 = config
            .get_named("oom-score-adj-values")
            .split(' ')
            .nth(usize::from(replica))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        let relative = if mode == "absolute" {
            0
        } else {
            base.unwrap_or(0)
        };
        (class + relative).clamp(-1000, 1000)
    };
    if let Err(e) = std::fs::write(FILE, format!("{value}\n")) {
        log::warning(&format!(
            "Unable to write oom_score_adj: {}",
            conf::os_reason(&e)
        ));
    }
}

/// The pid file this process wrote, removed when it exits.
static PIDFILE: OnceLock<PathBuf> = OnceLock::new();

/// The Unix socket this process listens on, removed when it exits.
static UNIXSOCKET: OnceLock<PathBuf> = OnceLock::new();

/// Ends the process as redis-server ends on SHUTDOWN or SIGTERM: the pid file and the Unix
/// socket go, and the last line of the log says so.
pub fn exit_now(code: i32) -> ! {
    event_loop::stop_listening();
    if let Some(path) = PIDFILE.get() {
        log::notice("Removing the pid file.");
        let _ = std::fs::remove_file(path);
    }
    if let Some(path) = UNIXSOCKET.get() {
        log::notice("Removing the unix socket file.");
        if let Err(e) = std::fs::remove_file(path) {
            log::warning(&format!(
                "Error removing the unix socket file: {}",
                conf::os_reason(&e)
            ));
        }
    }
    log::warning("Redis is now ready to exit, bye bye...");
    std::process::exit(code);
}

/// Binds the listeners, applies the options to a fresh engine, and serves until killed.
fn serve(mut opts: Options) -> Result<(), String> {
    // The arguments were read: their bytes (and the environment's) may now hold the title.
    let config_path = opts
        .config_file
        .as_ref()
        .map(|p| p.to_string_lossy().into_owned());
    if let Some(path) = &config_path {
        title::remember_config_file(path.clone());
    }
    title::init();
    // As redis-server, first of all: the open file limit for maxclients, or fewer clients.
    let maxclients = u64::try_from(opts.check.maxclients).unwrap_or(0);
    let allowed = adjust_open_files_limit(maxclients)?;
    opts.check.maxclients = i64::try_from(allowed).unwrap_or(i64::MAX);
    // Before listening: whoever sees the port open (`--daemonize yes` waits for that) finds it.
    if let Some(path) = &opts.pidfile {
        let _ = PIDFILE.set(PathBuf::from(path));
        if let Err(e) = std::fs::write(path, format!("{}\n", std::process::id())) {
            log::warning(&format!(
                "Failed to write PID file: {}",
                conf::os_reason(&e)
            ));
        }
    }
    let mut listeners = Vec::new();
    for (addr, optional) in &opts.binds {
        match listen::bind_one(addr, opts.port) {
            Ok(l) => listeners.push(l),
            Err(e) if *optional => log::verbose(&format!(
                "Skipping optional address {addr}:{}: {}",
                opts.port,
                conf::os_reason(&e)
            )),
            Err(e) => {
                // The suite that starts servers itself looks for the second line to try
                // another port.
                log::warning(&format!(
                    "Warning: Could not create server TCP listening socket {addr}:{}: bind: {}",
                    opts.port,
                    conf::os_reason(&e)
                ));
                return Err(format!(
                    "Failed listening on port {} (TCP), aborting.",
                    opts.port
                ));
            }
        }
    }
    let unixsocket = opts.check.get_named("unixsocket").to_string();
    let unix = if unixsocket.is_empty() {
        None
    } else {
        let perm = u32::from_str_radix(opts.check.get_named("unixsocketperm"), 8).unwrap_or(0);
        match stream::unix_listener(&unixsocket, perm) {
            Ok(l) => {
                let _ = UNIXSOCKET.set(PathBuf::from(&unixsocket));
                Some((l, unixsocket.clone()))
            }
            Err(e) => {
                return Err(format!(
                    "Failed opening Unix socket: {}",
                    conf::os_reason(&e)
                ))
            }
        }
    };
    if listeners.is_empty() && unix.is_none() {
        return Err("Configured to not listen anywhere, exiting.".into());
    }
    let has_tcp = !listeners.is_empty();
    if let Some(ready) = std::env::var_os(DAEMON_READY) {
        // The foreground process that started this one returns now (see `daemonize`).
        let _ = std::fs::write(ready, b"");
    }
    // As redis-server: the banner once listening, before the data loads, so a start that
    // then fails has shown its process id (Redis's own test suite waits for it when it starts
    // a server itself). redis-server shows it when asked to, or on a terminal.
    let mode = if opts.check.get_named("cluster-enabled") == "yes" {
        "cluster"
    } else {
        "standalone"
    };
    if opts.always_show_logo || std::io::stdout().is_terminal() {
        log::notice(&format!(
            "redis-playground-server {} (speaks Redis {}) 64 bit, {mode} mode, Port: {}, \
             PID: {}",
            env!("CARGO_PKG_VERSION"),
            conf::REDIS_VERSION,
            opts.port,
            std::process::id()
        ));
    } else {
        log::notice(&format!("Running mode={mode}, port={}.", opts.port));
    }
    log::warning("Server initialized");
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
    engine.room_for_clients = Some(room_for_clients);
    engine.migrate = Some(Box::new(migrate::NativeMigrate::default()));
    engine.set_memory_counter(Some(allocated_bytes));
    engine.config_hook = Some(apply_in_host);
    if let Some(v) = &opts.enable_debug {
        engine.config.set_at_startup("enable-debug-command", v);
    }
    apply_config(&mut engine, &opts)?;
    engine.executable = title::executable();
    engine.config_path = config_path.unwrap_or_default();
    title::apply(&engine.config);
    apply_oom_score_adj(&engine.config, engine.repl.link.is_some());
    load_users(&mut engine, &opts)?;
    let snapshot = snapshot_path(&opts)?;
    let aof_path = aof::AofPath {
        dir: snapshot.dir.join(opts.check.get_named("appenddirname")),
        name: opts.check.get_named("appendfilename").to_string(),
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
    // The data loads once the event loop runs, so clients that connect meanwhile are answered
    // (LOADING for most commands, as redis-server answers them).
    let binds = opts.binds.clone();
    let port = opts.port;
    let conf_path = opts.config_file.clone();
    let loop_aof_path = aof_path.clone();
    let start: event_loop::Start = Box::new(move |engine: &mut Engine| {
        // As redis-server: with appendonly yes the AOF is the data, and dump.rdb is not read.
        let aof = if engine.config.appendonly {
            let loaded = aof::load(&aof_path, engine, None, now)?;
            // Loading is not traffic: INFO starts from zero as redis-server's does.
            engine.stats = Default::default();
            if loaded {
                log::notice(&format!(
                    "DB loaded from append only file: {} keys",
                    engine.key_count()
                ));
            }
            Some(aof::Aof::start(aof_path.clone(), engine, now)?)
        } else {
            load_snapshot(engine, &snapshot, now)?;
            None
        };
        engine
            .config
            .set_at_startup("dir", &snapshot.dir.to_string_lossy());
        engine.config.set_at_startup("dbfilename", &snapshot.file);
        if engine.config.get_named("cluster-enabled") == "yes" {
            // nodes.conf, relative to `dir` as redis-server (which works in `dir`) finds it.
            let name = engine.config.get_named("cluster-config-file").to_string();
            let path = snapshot.dir.join(name);
            engine.enable_cluster(Some(nodes_conf(path)), now)?;
            if let Some(c) = &engine.cluster {
                log::notice(&format!(
                    "Cluster node configuration ready, I'm {}",
                    c.state.myself
                ));
            }
            for line in engine.cluster_verify_data(now)? {
                log::warning(&line);
            }
        }
        // A cluster node listens on its bus port too (`cluster-port`, else port + 10000), on the
        // same addresses as its clients' port.
        let mut bus_listeners = Vec::new();
        if engine.cluster_enabled() {
            let cport = match engine.config.int_param("cluster-port") {
                0 => u32::from(port) + 10000,
                p => u32::try_from(p).unwrap_or(0),
            };
            let cport = u16::try_from(cport)
                .ok()
                .filter(|&p| p != 0)
                .ok_or("Port number too high. Cluster communication port is 10,000 port numbers higher than your Redis port. Your Redis port number must be 55535 or less.")?;
            bus_listeners = listen::bind_all(&binds, cport)
                .map_err(|_| format!("Failed listening on port {cport} (cluster), aborting."))?;
        }
        if let Ok(mut now) = SNAPSHOT.lock() {
            *now = Some(snapshot.clone());
        }
        let stored = snapshot.clone();
        engine.persist.reader = Some(Box::new(move || {
            std::fs::read(current_snapshot(&stored).full()).map_err(|e| e.to_string())
        }));
        engine.persist.writer = Some(snapshot_writer(snapshot));
        engine.persist.aof_host = true;
        engine.persist.aof_on_disk = aof_path.manifest().exists();
        if let Some(path) = conf_path {
            engine.persist.config_file = Some(config_file(path));
        }
        // `replicaof <host> <port>` (or `slaveof`): a replica from the start.
        let master = engine.config.get_named("replicaof").to_string();
        if let Some((host, port)) = master.rsplit_once(' ') {
            let port = port.parse::<u16>().map_err(|_| "Invalid master port")?;
            engine.set_master(host, port, now);
        }
        if has_tcp {
            log::notice("Ready to accept connections");
        }
        if !unixsocket.is_empty() {
            log::notice(&format!(
                "The server is now ready to accept connections at {unixsocket}"
            ));
        }
        Ok(event_loop::Started { aof, bus_listeners })
    });
    event_loop::run(listeners, unix, engine, now_ms, loop_aof_path, start)
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

/// Descriptors kept for the server's own files beyond one per client (redis-server's
/// CONFIG_MIN_RESERVED_FDS).
const RESERVED_FDS: u64 = 32;

/// Makes the open file limit (soft and hard) room for `maxclients` clients plus
/// [`RESERVED_FDS`], as redis-server does at start and when CONFIG SET raises maxclients:
/// when the system refuses, it tries 16 descriptors less at a time, and returns the
/// maxclients the limit it got allows, logging redis-server's lines. An error when not even
/// one client would fit (redis-server exits then).
fn adjust_open_files_limit(maxclients: u64) -> Result<u64, String> {
    let want = maxclients.saturating_add(RESERVED_FDS);
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes the struct it is given and nothing else.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } != 0 {
        let e = std::io::Error::last_os_error();
        log::warning(&format!(
            "Unable to obtain the current NOFILE limit ({}), assuming 1024 and setting the max \
             clients configuration accordingly.",
            conf::os_reason(&e)
        ));
        return Ok(1024 - RESERVED_FDS);
    }
    let old = lim.rlim_cur;
    if old >= want {
        return Ok(maxclients);
    }
    let mut best = want;
    let mut refused = None;
    while best > old {
        let tried = libc::rlimit {
            rlim_cur: best,
            rlim_max: best,
        };
        // SAFETY: setrlimit reads the struct it is given and nothing else.
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &tried) } == 0 {
            break;
        }
        refused = Some(std::io::Error::last_os_error());
        if best < 16 {
            best = old;
            break;
        }
        best -= 16;
    }
    let best = best.max(old);
    if best >= want {
        log::notice(&format!(
            "Increased maximum number of open files to {want} (it was originally set to {old})."
        ));
        return Ok(maxclients);
    }
    if best <= RESERVED_FDS {
        return Err(format!(
            "Your current 'ulimit -n' of {old} is not enough for the server to start. Please \
             increase your open file limit to at least {want}. Exiting."
        ));
    }
    let reduced = best - RESERVED_FDS;
    let why = refused.map_or_else(String::new, |e| conf::os_reason(&e));
    log::warning(&format!(
        "You requested maxclients of {maxclients} requiring at least {want} max file descriptors."
    ));
    log::warning(&format!(
        "Server can't set maximum open files to {want} because of OS error: {why}."
    ));
    log::warning(&format!(
        "Current maximum open files is {best}. maxclients has been reduced to {reduced} to \
         compensate for low ulimit. If you need higher maxclients increase 'ulimit -n'."
    ));
    Ok(reduced)
}

/// CONFIG SET maxclients: [`adjust_open_files_limit`], and redis-server's line when the
/// new value cannot be had (the command then fails and changes nothing).
fn room_for_clients(maxclients: u64) -> u64 {
    let allowed = adjust_open_files_limit(maxclients).unwrap_or(0);
    if allowed < maxclients {
        log::warning(
            "Failed applying new configuration. Possibly related to new maxclients setting. \
             Restoring previous settings.",
        );
    }
    allowed
}

/// Where the snapshot lives now: CONFIG SET dir and dbfilename change it.
static SNAPSHOT: std::sync::Mutex<Option<SnapshotPath>> = std::sync::Mutex::new(None);

/// The snapshot's place now (`start` until the server runs).
fn current_snapshot(start: &SnapshotPath) -> SnapshotPath {
    SNAPSHOT
        .lock()
        .ok()
        .and_then(|s| s.clone())
        .unwrap_or_else(|| start.clone())
}

/// The host's part of CONFIG SET (see `ConfigHook`): `port` and `bind` listen again, `dir`
/// changes the working directory (CONFIG GET shows it absolute), and the snapshot follows
/// `dir` and `dbfilename`. The errors are redis-server's.
fn apply_in_host(
    name: &str,
    _old: &redis_playground::config::Config,
    new: &redis_playground::config::Config,
) -> Result<Option<String>, String> {
    match name {
        "port" | "bind" => {
            let port = u16::try_from(new.port).unwrap_or(0);
            event_loop::rebind(&listen::parse_binds(&new.bind), port).map_err(|_| {
                if name == "port" {
                    "Unable to listen on this port. Check server logs.".to_string()
                } else {
                    "Failed to bind to specified addresses.".to_string()
                }
            })?;
            Ok(None)
        }
        "dir" => {
            std::env::set_current_dir(new.get_named("dir")).map_err(|e| conf::os_reason(&e))?;
            let dir = std::env::current_dir().map_err(|e| conf::os_reason(&e))?;
            if let Ok(mut s) = SNAPSHOT.lock() {
                if let Some(s) = s.as_mut() {
                    s.dir = dir.clone();
                }
            }
            Ok(Some(dir.to_string_lossy().into_owned()))
        }
        "proc-title-template" => {
            title::apply(new);
            Ok(None)
        }
        "dbfilename" => {
            if let Ok(mut s) = SNAPSHOT.lock() {
                if let Some(s) = s.as_mut() {
                    s.file = new.get_named("dbfilename").to_string();
                }
            }
            Ok(None)
        }
        _ => Ok(None),
    }
}

/// Where the snapshot lives.
#[derive(Clone)]
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
    engine.begin_loading(bytes.len() as u64, None, None, now);
    let loaded = engine.load_snapshot(&bytes, now);
    engine.end_loading();
    let keys = loaded.map_err(|e| {
        format!(
            "Fatal error loading the DB ({}): {e}. Exiting.",
            full.display()
        )
    })?;
    engine.dirty = 0;
    engine.last_save_s = now / 1000;
    log::notice(&format!("DB loaded from disk: {keys} keys"));
    Ok(())
}

/// Writes snapshots as redis-server does: a temporary file in the same directory, flushed to
/// disk, then renamed over the old one, so a crash mid-save leaves the previous file whole.
fn snapshot_writer(start: SnapshotPath) -> redis_playground::engine::SnapshotWriter {
    Box::new(move |bytes: &[u8]| {
        let path = current_snapshot(&start);
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
                log::notice("DB saved on disk");
                Ok(())
            }
            Err(e) => {
                let _ = std::fs::remove_file(&tmp);
                log::warning(&format!(
                    "Failed saving the DB to {}: {}",
                    path.full().display(),
                    conf::os_reason(&e)
                ));
                Err(e.to_string())
            }
        }
    })
}

/// Reads a whole text file; a missing file reads as empty.
fn read_whole(path: &Path) -> std::io::Result<String> {
    match std::fs::read(path) {
        Ok(b) => Ok(String::from_utf8_lossy(&b).into_owned()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(String::new()),
        Err(e) => Err(e),
    }
}

/// Replaces a file with `text` whole or not at all: written to a temporary file beside it,
/// synced, renamed over it, and the rename synced with the directory. On failure the
/// temporary file is removed and the old file stays.
fn replace_whole(path: &Path, text: &str) -> std::io::Result<()> {
    replace_file(path, text, true)
}

/// [`replace_whole`], synced to disk only when `durable`: nodes.conf changes many times a
/// second while a cluster changes shape (redis-server syncs it only for some changes), and
/// two syncs per change made each CLUSTER SETSLOT take tens of milliseconds.
fn replace_file(path: &Path, text: &str, durable: bool) -> std::io::Result<()> {
    let tmp = PathBuf::from(format!("{}.tmp-{}", path.display(), std::process::id()));
    let write = || -> std::io::Result<()> {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(text.as_bytes())?;
        if durable {
            f.sync_all()?;
        }
        std::fs::rename(&tmp, path)?;
        if let Some(dir) = path
            .parent()
            .filter(|d| durable && !d.as_os_str().is_empty())
        {
            std::fs::File::open(dir)?.sync_all()?;
        }
        Ok(())
    };
    write().inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })
}

/// The config file for CONFIG REWRITE, read and replaced whole.
fn config_file(path: PathBuf) -> redis_playground::engine::ConfigFile {
    let read_path = path.clone();
    redis_playground::engine::ConfigFile {
        read: Box::new(move || read_whole(&read_path).map_err(|e| conf::os_reason(&e))),
        write: Box::new(move |text: &str| match replace_whole(&path, text) {
            Ok(()) => {
                log::warning("CONFIG REWRITE executed with success.");
                Ok(())
            }
            Err(e) => {
                log::warning(&format!("CONFIG REWRITE failed: {}", conf::os_reason(&e)));
                Err(conf::os_reason(&e))
            }
        }),
    }
}

/// A cluster node's nodes.conf, read whole at start and replaced whole on every change, so
/// the file is always either the old configuration or the new one.
fn nodes_conf(path: PathBuf) -> redis_playground::engine::ConfigFile {
    let read_path = path.clone();
    redis_playground::engine::ConfigFile {
        read: Box::new(move || {
            read_whole(&read_path).map_err(|e| {
                format!(
                    "Loading the cluster node config from {}: {}",
                    read_path.display(),
                    conf::os_reason(&e)
                )
            })
        }),
        write: Box::new(move |text: &str| {
            replace_file(&path, text, false).map_err(|e| conf::os_reason(&e))
        }),
    }
}

/// Gives the engine every parameter the configuration set (already checked while reading).
/// A module to load stops the start, as redis-server stops when it cannot load one: this
/// server loads none.
fn apply_config(engine: &mut Engine, opts: &Options) -> Result<(), String> {
    if let Some(d) = opts.rest.iter().find(|d| d.name == "loadmodule") {
        let path = d
            .args
            .first()
            .map(|p| String::from_utf8_lossy(p))
            .unwrap_or_default();
        log::warning(&format!(
            "Module {path} failed to load: this server does not load modules"
        ));
        return Err(format!("Can't load module from {path}: server aborting"));
    }
    // Every parameter as the lines left it, the server's own ones (port, loglevel ...)
    // included, so CONFIG GET shows them.
    engine.config = opts.check.clone();
    engine.renames = opts.renames.clone();
    let pass = engine.config.requirepass().as_bytes().to_vec();
    if !pass.is_empty() {
        // requirepass is the default user's password, as in Redis 6+.
        engine.acl.set_default_password(&pass);
        engine.acl.refresh();
    }
    engine.sync_event_tracking();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &[&str]) -> Vec<String> {
        s.iter().map(|a| a.to_string()).collect()
    }

    fn no_file(_: &Path) -> Result<String, String> {
        Err("No such file or directory".into())
    }

    fn parse(
        s: &[&str],
        read: &dyn Fn(&Path) -> Result<String, String>,
    ) -> Result<Action, ConfigError> {
        parse_args(&args(s), read, std::env::temp_dir())
    }

    #[test]
    fn cluster_mode_refuses_replicaof() {
        let Err(e) = parse(
            &[
                "--cluster-enabled",
                "yes",
                "--replicaof",
                "127.0.0.1",
                "6379",
            ],
            &no_file,
        ) else {
            panic!("accepted")
        };
        assert_eq!(
            e.block().as_deref(),
            Some(
                "\n*** FATAL CONFIG FILE ERROR (Redis 7.0.15) ***\nreplicaof directive not \
                 allowed in cluster mode\n"
            )
        );
        run(&["--cluster-enabled", "yes", "--replicaof", "no", "one"]);
    }

    fn run(s: &[&str]) -> Options {
        match parse(s, &no_file) {
            Ok(Action::Run(o)) => *o,
            other => panic!("{other:?}"),
        }
    }

    fn rest(o: &Options) -> Vec<(String, Vec<String>)> {
        o.rest
            .iter()
            .map(|d| (d.name.clone(), d.strings()))
            .collect()
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
            rest(&o),
            vec![
                ("save".to_string(), vec![String::new()]),
                ("appendonly".to_string(), vec!["no".to_string()])
            ]
        );
        assert_eq!(o.check.save, "");
        let o = run(&["--bind", "*", "-::1", "--save", "--port", "1"]);
        assert_eq!(
            o.binds,
            vec![("0.0.0.0".to_string(), false), ("::1".to_string(), true)]
        );
        assert_eq!(o.check.save, "");
        assert_eq!(run(&[]).check.save, DEFAULT_SAVE);
        assert_eq!(run(&["--databases", "4"]).databases, Some(4));
        assert!(matches!(parse(&["--help"], &no_file), Ok(Action::Help)));
        assert!(matches!(parse(&["-h"], &no_file), Ok(Action::Help)));
        assert!(matches!(parse(&["-v"], &no_file), Ok(Action::Version)));
        for bad in [
            &["--port", "x"][..],
            &["--port", "70000"],
            &["--port"],
            &["--databases", "0"],
            &["--daemonize", "maybe"],
            &["/no/such.conf"],
        ] {
            assert!(parse(bad, &no_file).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn config_files() {
        let file = |_: &Path| -> Result<String, String> {
            Ok("# comment\nport 7001\n\n  bind 127.0.0.1 -::1\nsave \"\"\nmaxmemory 1mb\n".into())
        };
        let Ok(Action::Run(o)) = parse(&["x.conf", "--port", "7002"], &file) else {
            panic!()
        };
        assert_eq!(o.port, 7002, "the command line overrides the file");
        assert_eq!(
            o.binds,
            vec![("127.0.0.1".to_string(), false), ("::1".to_string(), true)]
        );
        assert_eq!(o.check.maxmemory, 1 << 20);
        assert_eq!(o.check.port, 7002);
        assert_eq!(o.config_file, Some(std::env::temp_dir().join("x.conf")));
    }
}
