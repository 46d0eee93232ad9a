//! The server's one thread: an event loop that owns the engine, as redis-server's ae loop does.
//!
//! Sockets are non-blocking and polled with mio (epoll on Linux). Each turn of the loop:
//!
//! 1. waits for readiness, at most until the next engine tick (`hz` times a second);
//! 2. accepts new connections; reads what each readable connection has (one read into a
//!    shared buffer, usually), parses every complete request in it (pipelining) and runs them
//!    in order, encoding replies straight into the connection's output buffer;
//! 3. after each command, when the engine says a message went somewhere (pub/sub, a served
//!    blocked client, MONITOR, tracking) or a client was killed, delivers every outbox into
//!    its connection's output buffer;
//! 4. writes each connection's output once; what the socket does not take waits for a
//!    writable event.
//!
//! Bounds: unparsed input is limited by `client-query-buffer-limit` and each bulk argument by
//! `proto-max-bulk-len` (both as redis-server enforces them); output by
//! `client-output-buffer-limit` for pub/sub and normal clients; a client whose replies pile
//! up unread past [`OUTPUT_PAUSE`] is not read until it takes them, so a pipeline that never
//! reads cannot grow the server without bound. A blocked or paused client's input waits
//! unparsed in its buffer, as in Redis.

use std::collections::HashMap;
use std::io::{ErrorKind, Read, Write};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::{Duration, Instant};

use mio::net::{TcpListener, TcpStream};
use mio::{Events, Interest, Poll, Token};

use super::aof::{Aof, AofPath};
use super::bufsize::{self, BufSizes};
use super::stream::{Accepted, Listener, Stream};
use redis_playground::cluster::node::{BusAction, LinkId};
use redis_playground::engine::client_mem::BufferSizes;
use redis_playground::protocol::resp::{parse_request_into, pending_request_memory};
use redis_playground::{ClientId, Engine};
use signal_hook_mio::v1_0::Signals;

/// Starts a non-blocking connection to `host:port` (the name resolved first), from
/// `bind-source-addr` when it names an address.
fn connect_to(engine: &Engine, host: &str, port: u16) -> std::io::Result<TcpStream> {
    use std::net::ToSocketAddrs;
    let addr = (host, port)
        .to_socket_addrs()?
        .next()
        .ok_or_else(|| std::io::Error::new(ErrorKind::NotFound, "no address"))?;
    let source = engine.config.get_named("bind-source-addr").parse().ok();
    let stream = TcpStream::from_std(super::listen::connect_from(addr, source)?);
    let _ = stream.set_nodelay(true);
    Ok(stream)
}

/// redis-server's default `tcp-backlog`.
const TCP_BACKLOG: i32 = 511;

/// Bytes read from a socket at a time (Redis reads 16 KiB; larger reads help pipelines).
const READ_CHUNK: usize = 64 * 1024;

/// Reads from one connection per turn before the others get theirs.
const READS_PER_TURN: usize = 16;

/// Unsent output past which a connection's input is left unread until the client reads.
const OUTPUT_PAUSE: usize = 64 * 1024 * 1024;

/// An input buffer larger than this is given back once empty (Redis trims a client's query
/// buffer past 32 KB), so used_memory does not keep what one big request needed.
const KEEP_INPUT: usize = 32 * 1024;

/// An output buffer up to this size is kept for good: like Redis, which keeps a 16 KB reply
/// buffer per client and frees the rest once sent, so memory that replies and pushes took
/// (INFO used_memory, maxmemory) goes back when they are sent.
const KEEP_OUTPUT: usize = 16 * 1024;

/// An output buffer up to this size is kept until the next tick rather than given back as
/// soon as it is written: a pipeline of a few dozen replies (16 LRANGEs of 100 elements)
/// needs more than [`KEEP_OUTPUT`] at every turn, and freeing and growing it again each time
/// costs more than the replies. Larger ones go at once; idle ones at the tick.
const KEEP_OUTPUT_BUSY: usize = 64 * 1024;

/// Spare argument vectors kept between requests, and the largest one kept.
const KEEP_ARGS: usize = 64;
const KEEP_ARG_BYTES: usize = 64 * 1024;

/// Whether a connection just accepted, with `connected` clients already served, is turned
/// away as redis-server turns it away: past `maxclients`, or by protected mode. It is told
/// why (one write, whatever the socket takes of it; the connection closes right after) and
/// counted in `rejected_connections`.
fn turned_away(engine: &mut Engine, connected: usize, accepted: &mut Accepted) -> bool {
    let maxclients = usize::try_from(engine.config.maxclients).unwrap_or(usize::MAX);
    let error = if connected >= maxclients {
        redis_playground::error::MAX_CLIENTS_REACHED
    } else if protected_mode_refuses(engine, accepted) {
        redis_playground::error::PROTECTED_MODE
    } else {
        return false;
    };
    let line = format!("-{}\r\n", error.text());
    let _ = accepted.stream.write(line.as_bytes());
    engine.stats.rejected_connections += 1;
    true
}

/// Whether a connection is refused by protected mode, as redis-server refuses it:
/// `protected-mode yes`, a default user without a password, and a peer that is not
/// 127.0.0.1, ::1 or the Unix socket (whatever `bind` says).
fn protected_mode_refuses(engine: &Engine, accepted: &Accepted) -> bool {
    !accepted.loopback
        && engine.acl.default_user().nopass()
        && engine.config.get_named("protected-mode") == "yes"
}

/// The engine's client for a connection just accepted (CLIENT LIST's addr, laddr and flag U),
/// and the connection.
fn open_client_for(engine: &mut Engine, accepted: Accepted, now_ms: i64) -> Conn {
    let id = engine.open_client(now_ms);
    if let Some(c) = engine.client_mut(id) {
        c.addr = accepted.addr;
        c.laddr = accepted.laddr;
        c.unix_socket = accepted.unix;
    }
    new_conn(accepted.stream, id, now_ms)
}

fn new_conn(stream: Stream, id: ClientId, now_ms: i64) -> Conn {
    Conn {
        stream,
        id,
        bufs: BufSizes::new(now_ms),
        pending_bulk: None,
        input: Vec::new(),
        output: Vec::new(),
        sent: 0,
        closing: false,
        queued: false,
        soft_since: None,
        snapshot_end: 0,
        reported: None,
    }
}

/// One client connection.
struct Conn {
    stream: Stream,
    id: ClientId,
    /// Input not parsed yet (an incomplete request, or requests left while the client is
    /// blocked or its output is full). Empty most of the time: complete requests are parsed
    /// straight from the shared read buffer.
    input: Vec<u8>,
    /// Output not written yet, from `sent` on.
    output: Vec<u8>,
    sent: usize,
    /// Nothing more is read or run; the connection closes once its output is written.
    closing: bool,
    /// In the flush list for this turn.
    queued: bool,
    /// When the output first passed the soft limit of its class (reset below it).
    soft_since: Option<Instant>,
    /// The output before this index is a replica's snapshot, which its output-buffer limit
    /// does not count (0: none).
    snapshot_end: usize,
    /// The sizes redis-server's buffers would have (CLIENT LIST `qbuf-free`, `rbs`, `rbp`).
    bufs: BufSizes,
    /// A big bulk argument (its CRLF included) whose header arrived and whose bytes are still
    /// arriving.
    pending_bulk: Option<usize>,
    /// What [`Server::report_buffers`] last told the engine (query buffer, output, sizes):
    /// the same figures again need no telling. None once the sizes went by another way.
    reported: Option<[usize; 7]>,
}

impl Conn {
    fn pending(&self) -> usize {
        self.output.len() - self.sent
    }

    /// What the output-buffer limit counts: the pending output but a snapshot's bytes.
    fn limited(&self) -> usize {
        self.output.len() - self.sent.max(self.snapshot_end).min(self.output.len())
    }

    /// Writes what the socket takes of the output; the rest goes when it is writable again.
    /// False when the socket is dead (the connection must close).
    fn write_pending(&mut self) -> bool {
        while self.sent < self.output.len() {
            match self.stream.write(&self.output[self.sent..]) {
                Ok(0) => return false,
                Ok(n) => self.sent += n,
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(_) => return false,
            }
        }
        true
    }
}

/// `client-output-buffer-limit` for one class: hard bytes, soft bytes, soft seconds.
#[derive(Clone, Copy, Default, Debug, PartialEq)]
struct ObufLimit {
    hard: u64,
    soft: u64,
    soft_secs: u64,
}

/// The limits read from the configuration, refreshed after CONFIG runs.
#[derive(Clone, Copy, Debug)]
struct Limits {
    query_buffer: usize,
    max_bulk: i64,
    normal: ObufLimit,
    replica: ObufLimit,
    pubsub: ObufLimit,
    /// The smallest output limit in force (0: none): less output needs no check.
    least_obuf: u64,
    /// `maxmemory-clients` in bytes (0: no client eviction).
    clients_mem: u64,
}

impl Limits {
    fn of(engine: &Engine) -> Limits {
        let query_buffer = engine
            .config
            .get_named("client-query-buffer-limit")
            .parse::<u64>()
            .map_or(1024 * 1024 * 1024, |n| {
                usize::try_from(n).unwrap_or(usize::MAX)
            });
        let (normal, replica, pubsub) =
            parse_obuf_limits(engine.config.get_named("client-output-buffer-limit"));
        let least_obuf = [
            normal.hard,
            normal.soft,
            replica.hard,
            replica.soft,
            pubsub.hard,
            pubsub.soft,
        ]
        .into_iter()
        .filter(|&n| n > 0)
        .min()
        .unwrap_or(0);
        Limits {
            query_buffer,
            max_bulk: i64::try_from(engine.config.proto_max_bulk_len).unwrap_or(i64::MAX),
            normal,
            replica,
            pubsub,
            least_obuf,
            clients_mem: engine.client_eviction_limit(),
        }
    }
}

/// The `normal`, `replica` and `pubsub` classes of `client-output-buffer-limit` as CONFIG GET
/// prints it (`normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60`).
fn parse_obuf_limits(text: &str) -> (ObufLimit, ObufLimit, ObufLimit) {
    let words: Vec<&str> = text.split_whitespace().collect();
    let (mut normal, mut replica, mut pubsub) = Default::default();
    for group in words.chunks_exact(4) {
        let n = |s: &str| s.parse::<u64>().unwrap_or(0);
        let limit = ObufLimit {
            hard: n(group[1]),
            soft: n(group[2]),
            soft_secs: n(group[3]),
        };
        match group[0] {
            "normal" => normal = limit,
            "slave" | "replica" => replica = limit,
            "pubsub" => pubsub = limit,
            _ => {}
        }
    }
    (normal, replica, pubsub)
}

/// The event loop's state: the engine and every connection.
struct Server {
    poll: Poll,
    /// The `bind` addresses' listeners, then the Unix socket's if `unixsocket` names one.
    listeners: Vec<Listener>,
    /// Connections by slot; a connection's token is its slot (listeners have tokens of their
    /// own, see [`listener_token`], so CONFIG SET bind can change how many there are).
    conns: Vec<Option<Conn>>,
    free: Vec<usize>,
    by_client: HashMap<ClientId, usize>,
    engine: Engine,
    limits: Limits,
    /// Connections with output to write at the end of this turn.
    flush: Vec<usize>,
    /// Connections that may have more to read than one turn takes.
    again: Vec<usize>,
    /// Connections holding unparsed input while their client waits (blocked, paused, or
    /// output full): looked at again after each turn.
    stalled: Vec<usize>,
    /// The shared read buffer.
    scratch: Vec<u8>,
    /// Arguments of the request being run, reused.
    argv: Vec<Vec<u8>>,
    now_ms: fn() -> i64,
    /// Accepting failed for want of resources: retried at every tick.
    accept_failing: bool,
    /// Where the append-only file lives (`dir`, `appenddirname`, `appendfilename`).
    aof_path: AofPath,
    /// The append-only file, while `appendonly` is yes.
    aof: Option<Aof>,
    /// SIGTERM and SIGINT, delivered as events of the loop (None if they could not be hooked).
    signals: Option<Signals>,
    /// The connection to our primary while this server is a replica.
    master: Option<MasterConn>,
    /// The cluster bus port's listeners (a cluster node only).
    bus_listeners: Vec<TcpListener>,
    /// The cluster bus links, by the engine's link id.
    bus_links: HashMap<LinkId, BusConn>,
    /// When the cluster bus's cron runs next (every 100 ms).
    next_bus_cron: Instant,
    /// Whether the oom score last applied was a replica's (see `apply_oom_score_adj`).
    oom_replica: bool,
}

/// One cluster bus link's connection; the engine runs the protocol (see
/// `redis_playground::cluster::node`).
struct BusConn {
    stream: TcpStream,
    /// The non-blocking connect completed (accepted links are connected).
    connected: bool,
    output: Vec<u8>,
    sent: usize,
}

/// How often the allocator is asked to give back the memory it holds free.
const PURGE_EVERY: Duration = Duration::from_secs(1);

/// Has the allocator return to the system the pages freed since it last looked (after a
/// large table was resized, a big reply sent, many keys deleted or connections closed), as
/// redis-server's jemalloc does from its background thread. mimalloc purges such pages only
/// when it is next called into: a server gone quiet would keep them resident indefinitely.
fn release_free_pages() {
    // SAFETY: mi_collect takes no pointer and may be called at any time from the thread
    // that allocates; `false` asks for the regular, not the forced, collection.
    unsafe { libmimalloc_sys::mi_collect(false) };
}

/// The cluster bus's cron period, as Redis's clusterCron.
const BUS_CRON: Duration = Duration::from_millis(100);

/// Tokens of the cluster bus links: this plus the link id (far above any slot, below the
/// busy turn's tokens).
const BUS_LINKS: usize = usize::MAX / 4;

/// Tokens of the cluster bus listeners: a range below the client listeners'.
const BUS_LISTENERS: usize = LISTENERS - MAX_LISTENERS;

fn bus_link_of(token: usize) -> Option<LinkId> {
    (BUS_LINKS..BUSY_TOKENS)
        .contains(&token)
        .then(|| (token - BUS_LINKS) as LinkId)
}

fn bus_listener_index(token: usize) -> Option<usize> {
    (BUS_LISTENERS..BUS_LISTENERS + MAX_LISTENERS)
        .contains(&token)
        .then(|| token - BUS_LISTENERS)
}

/// The connection to the primary; the engine runs the protocol (see `master_link.rs`).
struct MasterConn {
    stream: TcpStream,
    /// The engine's link epoch this connection serves.
    epoch: u64,
    /// The non-blocking connect completed.
    connected: bool,
    output: Vec<u8>,
    sent: usize,
}

/// The event token of the connection to the primary.
const MASTER: Token = Token(usize::MAX - 1);

/// The event token of the signals.
const SIGNALS: Token = Token(usize::MAX);

/// Listeners' tokens: a range of their own below the primary's and the signals'.
const LISTENERS: usize = usize::MAX - 2 - MAX_LISTENERS;

/// Redis listens on 16 addresses at most.
const MAX_LISTENERS: usize = 16;

fn listener_token(i: usize) -> Token {
    Token(LISTENERS + i)
}

fn listener_index(token: usize) -> Option<usize> {
    (LISTENERS..LISTENERS + MAX_LISTENERS)
        .contains(&token)
        .then(|| token - LISTENERS)
}

/// CONFIG SET port or bind: the listeners close and the server listens as `binds` and
/// `port` say (nowhere for port 0), as redis-server's changeListenPort and changeBindAddr
/// do. When an address cannot be bound (one marked optional may be missing) nothing listens
/// and the error is returned: the caller applies the old values again.
pub fn rebind(binds: &[(String, bool)], port: u16) -> Result<(), String> {
    let server = SERVER.with(|p| p.get());
    if server.is_null() {
        return Err("not serving".into());
    }
    // SAFETY: `server` is the Server whose `serve` loop is suspended in the CONFIG SET that
    // calls this (from the engine's hook, in this thread); only its poll and listeners are
    // reached, never the engine the command borrows.
    let (poll, listeners) = unsafe {
        (
            &*std::ptr::addr_of!((*server).poll),
            &mut *std::ptr::addr_of_mut!((*server).listeners),
        )
    };
    // The Unix socket stays as it is.
    let mut kept = Vec::new();
    for mut l in listeners.drain(..) {
        let _ = poll.registry().deregister(&mut l);
        if l.is_unix() {
            kept.push(l);
        }
    }
    let bound = if port == 0 {
        Vec::new()
    } else {
        super::listen::bind_all(binds, port)?
    };
    for l in bound.into_iter().take(MAX_LISTENERS - 1) {
        let _ = l.set_nonblocking(true);
        set_backlog(&l);
        listeners.push(Listener::Tcp(TcpListener::from_std(l)));
    }
    listeners.extend(kept);
    for (i, l) in listeners.iter_mut().enumerate() {
        poll.registry()
            .register(l, listener_token(i), Interest::READABLE)
            .map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// Stops listening before the process exits, as redis-server closes its listening sockets
/// first when it shuts down: a client that saw its connection end (SHUTDOWN, SIGTERM) is then
/// refused if it connects again at once, even while the exit is still closing what the busy
/// turns accepted. The sockets stay open (the process ends right after); they only stop
/// accepting.
pub fn stop_listening() {
    use std::os::fd::AsRawFd;
    let server = SERVER.with(|p| p.get());
    if server.is_null() {
        return;
    }
    // SAFETY: `server` is the Server whose loop runs in this thread (possibly suspended in the
    // command or busy turn that exits); its listeners are only read, to learn their
    // descriptors.
    let (listeners, bus) = unsafe {
        (
            &*std::ptr::addr_of!((*server).listeners),
            &*std::ptr::addr_of!((*server).bus_listeners),
        )
    };
    for fd in listeners
        .iter()
        .map(AsRawFd::as_raw_fd)
        .chain(bus.iter().map(AsRawFd::as_raw_fd))
    {
        // SAFETY: shutdown(2) on a descriptor this process owns; it frees nothing.
        unsafe {
            libc::shutdown(fd, libc::SHUT_RDWR);
        }
    }
}

/// What the server's start does once it listens: loads the data (while the loop's handler
/// answers the clients that connect meanwhile, LOADING for most commands) and readies what
/// depends on it. Its error stops the start.
pub type Start = Box<dyn FnOnce(&mut Engine) -> Result<Started, String>>;

/// What [`Start`] leaves to the loop.
pub struct Started {
    /// The append-only file, with appendonly yes.
    pub aof: Option<Aof>,
    /// The cluster bus port's listeners (a cluster node only).
    pub bus_listeners: Vec<std::net::TcpListener>,
}

/// Runs `start`, then serves the listeners until SHUTDOWN (which exits the process) or a
/// fatal poll error.
pub fn run(
    listeners: Vec<std::net::TcpListener>,
    unix: Option<(std::os::unix::net::UnixListener, String)>,
    engine: Engine,
    now_ms: fn() -> i64,
    aof_path: AofPath,
    start: Start,
) -> Result<(), String> {
    let poll = Poll::new().map_err(|e| format!("cannot create the event loop: {e}"))?;
    let mut mio_listeners = Vec::new();
    for (i, l) in listeners.into_iter().enumerate() {
        l.set_nonblocking(true)
            .map_err(|e| format!("listener: {e}"))?;
        set_backlog(&l);
        let mut l = Listener::Tcp(TcpListener::from_std(l));
        poll.registry()
            .register(&mut l, listener_token(i), Interest::READABLE)
            .map_err(|e| format!("listener: {e}"))?;
        mio_listeners.push(l);
    }
    if let Some((l, path)) = unix {
        set_backlog(&l);
        let mut l = Listener::Unix {
            listener: mio::net::UnixListener::from_std(l),
            path,
        };
        poll.registry()
            .register(
                &mut l,
                listener_token(mio_listeners.len()),
                Interest::READABLE,
            )
            .map_err(|e| format!("listener: {e}"))?;
        mio_listeners.push(l);
    }
    let limits = Limits::of(&engine);
    let signals = match Signals::new([libc::SIGTERM, libc::SIGINT]) {
        Ok(mut sig) => match poll
            .registry()
            .register(&mut sig, SIGNALS, Interest::READABLE)
        {
            Ok(()) => Some(sig),
            Err(e) => {
                super::log::warning(&format!("Warning: signals are not handled: {e}"));
                None
            }
        },
        Err(e) => {
            super::log::warning(&format!("Warning: signals are not handled: {e}"));
            None
        }
    };
    let oom_replica = engine.repl.link.is_some();
    let mut server = Server {
        poll,
        listeners: mio_listeners,
        conns: Vec::new(),
        free: Vec::new(),
        by_client: HashMap::new(),
        engine,
        limits,
        flush: Vec::new(),
        again: Vec::new(),
        stalled: Vec::new(),
        scratch: vec![0; READ_CHUNK],
        argv: Vec::new(),
        now_ms,
        accept_failing: false,
        aof_path,
        aof: None,
        signals,
        master: None,
        bus_listeners: Vec::new(),
        bus_links: HashMap::new(),
        next_bus_cron: Instant::now(),
        oom_replica,
    };
    server.start(start)?;
    server.serve()
}

/// DEBUG LOADAOF: the data emptied and the append-only file loaded back.
fn load_aof_again(engine: &mut Engine, path: &super::aof::AofPath, now: i64) {
    engine.replace_data(Vec::new(), now);
    let caller = engine.persist.aof_load_caller.take();
    match super::aof::load(path, engine, caller, now) {
        Ok(_) => super::log::warning("Append Only File loaded by DEBUG LOADAOF"),
        Err(e) => {
            // redis-server exits when the file it wrote cannot be loaded back.
            super::log::warning(&e.to_string());
            std::process::exit(1);
        }
    }
}

/// redis-server's `tcp-backlog` (511) instead of std's 128, so a burst of connections waits
/// in the kernel instead of being dropped and retried a second later. Listening again on a
/// listening socket only changes its backlog (Linux; elsewhere a failure leaves it as it was).
fn set_backlog(l: &impl std::os::fd::AsRawFd) {
    // SAFETY: listen on a descriptor this listener owns; it touches no memory.
    unsafe {
        libc::listen(l.as_raw_fd(), TCP_BACKLOG);
    }
}

/// Writes what the engine queued for the log.
fn write_engine_logs(engine: &mut Engine) {
    use redis_playground::engine::log::LogLevel;
    for (level, line) in engine.take_logs() {
        let level = match level {
            LogLevel::Debug => super::log::Level::Debug,
            LogLevel::Verbose => super::log::Level::Verbose,
            LogLevel::Notice => super::log::Level::Notice,
            LogLevel::Warning => super::log::Level::Warning,
        };
        super::log::log(level, &line);
    }
}

impl Server {
    /// Writes what the engine queued for the log.
    fn write_engine_logs(&mut self) {
        write_engine_logs(&mut self.engine);
    }

    /// Runs the start (see [`Start`]) with the busy handler installed, so clients that
    /// connect while the data loads are answered, then takes what it readied.
    fn start(&mut self, start: Start) -> Result<(), String> {
        SERVER.with(|p| p.set(self as *mut Server));
        self.engine.scripts.busy_handler = Some(busy_turn);
        let started = start(&mut self.engine)?;
        self.aof = started.aof;
        for (i, l) in started
            .bus_listeners
            .into_iter()
            .take(MAX_LISTENERS)
            .enumerate()
        {
            l.set_nonblocking(true)
                .map_err(|e| format!("cluster bus listener: {e}"))?;
            set_backlog(&l);
            let mut l = TcpListener::from_std(l);
            self.poll
                .registry()
                .register(&mut l, Token(BUS_LISTENERS + i), Interest::READABLE)
                .map_err(|e| format!("cluster bus listener: {e}"))?;
            self.bus_listeners.push(l);
        }
        Ok(())
    }

    fn serve(&mut self) -> Result<(), String> {
        let mut events = Events::with_capacity(1024);
        let mut next_tick = Instant::now();
        let mut next_purge = Instant::now() + PURGE_EVERY;
        SERVER.with(|p| p.set(self as *mut Server));
        self.engine.scripts.busy_handler = Some(busy_turn);
        loop {
            self.after_busy();
            let now = Instant::now();
            let timeout = if self.again.is_empty() {
                let next = if self.bus_listeners.is_empty() {
                    next_tick
                } else {
                    next_tick.min(self.next_bus_cron)
                };
                next.saturating_duration_since(now)
            } else {
                Duration::ZERO
            };
            match self.poll.poll(&mut events, Some(timeout)) {
                Ok(()) => {}
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) => return Err(format!("event loop: {e}")),
            }
            for slot in std::mem::take(&mut self.again) {
                self.read_and_run(slot);
            }
            for event in events.iter() {
                let token = event.token().0;
                if token == SIGNALS.0 {
                    self.on_signal();
                    continue;
                }
                if token == MASTER.0 {
                    self.master_io();
                    continue;
                }
                if let Some(i) = listener_index(token) {
                    self.accept(i);
                    continue;
                }
                if let Some(i) = bus_listener_index(token) {
                    self.bus_accept(i);
                    continue;
                }
                if let Some(link) = bus_link_of(token) {
                    self.bus_io(link);
                    continue;
                }
                let slot = token;
                if event.is_writable() {
                    self.queue_flush(slot);
                }
                if event.is_readable() || event.is_read_closed() || event.is_error() {
                    self.read_and_run(slot);
                }
            }
            if Instant::now() >= next_tick {
                if self.accept_failing {
                    for i in 0..self.listeners.len() {
                        self.accept(i);
                    }
                }
                self.engine.tick((self.now_ms)());
                self.follow_oom_class(false);
                self.aof_step();
                if let Some(aof) = self.aof.as_mut() {
                    aof.tick();
                }
                self.deliver();
                self.check_closed_clients();
                self.evict_clients();
                let hz = self.engine.config.hz.clamp(1, 500) as u64;
                next_tick = Instant::now() + Duration::from_micros(1_000_000 / hz);
                self.check_soft_limits();
                self.trim_idle_output();
                self.resize_buffers();
                if Instant::now() >= next_purge {
                    next_purge = Instant::now() + PURGE_EVERY;
                    release_free_pages();
                }
                // Readiness a busy script turn took is not reported again: look anyway.
                self.master_io();
            }
            if !self.bus_listeners.is_empty() && Instant::now() >= self.next_bus_cron {
                self.next_bus_cron = Instant::now() + BUS_CRON;
                let now = (self.now_ms)();
                self.engine.cluster_bus_cron(now);
                // Readiness a busy script turn took is not reported again: look anyway.
                let links: Vec<LinkId> = self.bus_links.keys().copied().collect();
                for link in links {
                    self.bus_io(link);
                }
            }
            self.bus_step();
            self.master_link_step();
            self.write_engine_logs();
            // Writing may end a connection, which may serve or tell others; a client that
            // may go on runs what it kept: until nothing more is queued.
            loop {
                self.resume_stalled();
                if self.flush.is_empty() {
                    break;
                }
                self.flush_all();
            }
        }
    }

    /// Picks up what [`busy_turn`] left for the loop: connections to read again (their
    /// readiness was taken while a script ran), output to write, listeners to accept from.
    fn after_busy(&mut self) {
        let left = BUSY_LEFT.with(|b| std::mem::take(&mut *b.borrow_mut()));
        if left.slots.is_empty() && !left.accept && left.conns.is_empty() {
            return;
        }
        for conn in left.conns {
            self.place_conn(conn);
        }
        for slot in left.slots {
            if !self.again.contains(&slot) {
                self.again.push(slot);
            }
            self.queue_flush(slot);
        }
        if left.accept {
            for i in 0..self.listeners.len() {
                self.accept(i);
            }
        }
    }

    fn accept(&mut self, index: usize) {
        loop {
            let accepted = match self.listeners[index].accept() {
                Ok(s) => s,
                Err(e) if e.kind() == ErrorKind::WouldBlock => return,
                Err(e)
                    if matches!(
                        e.kind(),
                        ErrorKind::Interrupted
                            | ErrorKind::ConnectionAborted
                            | ErrorKind::ConnectionReset
                    ) =>
                {
                    continue
                }
                // Out of descriptors or memory: the connections wait in the backlog, and the
                // next tick tries again (no new event may come for them).
                Err(e) => {
                    if !self.accept_failing {
                        super::log::warning(&format!("Error accepting a client connection: {e}"));
                    }
                    self.accept_failing = true;
                    return;
                }
            };
            self.accept_failing = false;
            self.add_conn(accepted);
        }
    }

    fn add_conn(&mut self, mut accepted: Accepted) {
        if turned_away(&mut self.engine, self.by_client.len(), &mut accepted) {
            return;
        }
        let conn = open_client_for(&mut self.engine, accepted, (self.now_ms)());
        self.place_conn(conn);
    }

    /// Gives a connection a slot and registers it with the poll under that slot's token.
    fn place_conn(&mut self, mut conn: Conn) {
        let slot = self.free.pop().unwrap_or_else(|| {
            self.conns.push(None);
            self.conns.len() - 1
        });
        let token = Token(slot);
        // A connection accepted while a script ran is registered already (another token).
        let registry = self.poll.registry();
        let done = registry
            .reregister(
                &mut conn.stream,
                token,
                Interest::READABLE | Interest::WRITABLE,
            )
            .or_else(|_| {
                registry.register(
                    &mut conn.stream,
                    token,
                    Interest::READABLE | Interest::WRITABLE,
                )
            });
        if let Err(e) = done {
            super::log::warning(&format!("register: {e}"));
            self.free.push(slot);
            self.engine.close_client(conn.id);
            return;
        }
        self.by_client.insert(conn.id, slot);
        self.conns[slot] = Some(conn);
        // What it sent meanwhile raised no new event.
        self.again.push(slot);
    }

    /// Reads what a connection has and runs every complete request in it.
    fn read_and_run(&mut self, slot: usize) {
        for _ in 0..READS_PER_TURN {
            let Some(conn) = self.conns.get_mut(slot).and_then(Option::as_mut) else {
                return;
            };
            if conn.closing {
                // Its client is gone (it may have left while a script ran or the data
                // loaded): what is left to write goes, then the connection closes.
                self.queue_flush(slot);
                return;
            }
            if conn.pending() > OUTPUT_PAUSE {
                // Left in the socket; a full output is looked at again once written.
                return;
            }
            let n = match conn.stream.read(&mut self.scratch) {
                Ok(0) => {
                    // The client is gone (or only stopped sending): what it asked for is
                    // still written, then the connection closes.
                    conn.closing = true;
                    self.queue_flush(slot);
                    return;
                }
                Ok(n) => n,
                Err(e) if e.kind() == ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(_) => {
                    self.close(slot);
                    return;
                }
            };
            let scratch = std::mem::take(&mut self.scratch);
            self.take_input(slot, &scratch[..n]);
            self.scratch = scratch;
            if n < READ_CHUNK {
                // A short read emptied the socket: the next bytes raise a new event.
                return;
            }
        }
        self.again.push(slot);
    }

    /// Runs the complete requests in `bytes` (after any input the connection kept), keeping
    /// the rest; enforces the query buffer limit.
    fn take_input(&mut self, slot: usize, bytes: &[u8]) {
        let Some(conn) = self.conns.get_mut(slot).and_then(Option::as_mut) else {
            return;
        };
        let before = conn.input.len();
        conn.bufs.on_read(
            before,
            before + bytes.len(),
            conn.pending_bulk,
            (self.now_ms)(),
        );
        let b = &conn.bufs;
        let sizes = [b.query_alloc, b.reply_size, b.reply_peak];
        // Its commands see the buffer this read made (CLIENT LIST of itself), which is most
        // often the one last reported.
        if conn.reported.is_none_or(|r| r[4..] != sizes) {
            self.engine
                .set_client_buffer_sizes(conn.id, sizes[0], sizes[1], sizes[2]);
            conn.reported = None;
        }
        if conn.input.is_empty() {
            let used = self.run_requests(slot, bytes);
            if let Some(conn) = self.conns.get_mut(slot).and_then(Option::as_mut) {
                if !conn.closing {
                    conn.input.extend_from_slice(&bytes[used..]);
                }
            }
        } else {
            conn.input.extend_from_slice(bytes);
            self.run_kept_input(slot);
        }
        let limit = self.limits.query_buffer;
        let Some(conn) = self.conns.get_mut(slot).and_then(Option::as_mut) else {
            return;
        };
        if conn.input.len() > limit {
            let id = conn.id;
            let head = String::from_utf8_lossy(&conn.input[..conn.input.len().min(64)])
                .escape_debug()
                .to_string();
            let addr = self
                .engine
                .clients
                .get(&id)
                .map_or(String::new(), |c| c.addr.clone());
            super::log::warning(&format!(
                "Closing client that reached max query buffer length: id={id} addr={addr} \
                 qbuf={} (qbuf initial bytes: \"{head}\")",
                conn.input.len()
            ));
            self.close(slot);
            return;
        }
        self.report_buffers(slot);
        self.evict_clients();
    }

    /// Runs the complete requests in the input a connection kept.
    fn run_kept_input(&mut self, slot: usize) {
        let Some(conn) = self.conns.get_mut(slot).and_then(Option::as_mut) else {
            return;
        };
        let mut input = std::mem::take(&mut conn.input);
        let used = self.run_requests(slot, &input);
        if let Some(conn) = self.conns.get_mut(slot).and_then(Option::as_mut) {
            if !conn.closing {
                input.drain(..used);
                if input.is_empty() && input.capacity() > KEEP_INPUT {
                    input = Vec::new();
                }
                conn.input = input;
            }
        }
    }

    /// Whether a client must not run its next request yet: it is blocked, held by CLIENT
    /// PAUSE, or has unread output past [`OUTPUT_PAUSE`].
    fn must_wait(&self, conn: &Conn) -> bool {
        conn.pending() > OUTPUT_PAUSE
            || self.engine.blocked.contains_key(&conn.id)
            || self.engine.clients.get(&conn.id).is_some_and(|c| c.paused)
    }

    /// Parses and runs requests from the start of `bytes` until the input ends, is
    /// incomplete or invalid, or the client must wait. Returns the bytes used.
    fn run_requests(&mut self, slot: usize, bytes: &[u8]) -> usize {
        let mut pos = 0;
        let mut ran = false;
        loop {
            let Some(conn) = self.conns.get(slot).and_then(Option::as_ref) else {
                return pos;
            };
            if conn.closing || pos == bytes.len() {
                return pos;
            }
            if self.must_wait(conn) {
                if !self.stalled.contains(&slot) {
                    self.stalled.push(slot);
                }
                return pos;
            }
            let unauthenticated = self.engine.auth_required(conn.id);
            match parse_request_into(
                &bytes[pos..],
                self.limits.max_bulk,
                unauthenticated,
                &mut self.argv,
            ) {
                Ok(Some((argc, used))) => {
                    pos += used;
                    // A blank inline line or `*0` is no command at all: no reply.
                    if argc > 0 {
                        // A pipelined request starts where the one before it ended, as the
                        // page's batches do: a clock reading less per request. Not with an
                        // append-only file, whose writes come between them.
                        if ran && self.aof.is_none() {
                            self.engine.next_command_follows();
                        }
                        self.run_one(slot, argc);
                        ran = true;
                    }
                }
                Ok(None) => return pos,
                Err(e) => {
                    // Requests before it ran; Redis replies with the error and closes.
                    if let Some(conn) = self.conns.get_mut(slot).and_then(Option::as_mut) {
                        conn.output.extend_from_slice(&e.to_wire());
                        conn.closing = true;
                    }
                    self.queue_flush(slot);
                    return pos;
                }
            }
        }
    }

    /// Runs the request in `self.argv[..argc]` for the connection in `slot`.
    fn run_one(&mut self, slot: usize, argc: usize) {
        let Some(id) = self.conns.get(slot).and_then(Option::as_ref).map(|c| c.id) else {
            return;
        };
        let now = (self.now_ms)();
        let argv = &self.argv[..argc];
        let engine = &mut self.engine;
        let ran = catch_unwind(AssertUnwindSafe(|| engine.execute(id, argv, now)));
        // Written before the reply can leave (and synced then, see `flush_all`).
        self.aof_step();
        let mut failed = false;
        match ran {
            Ok(Some(reply)) => {
                let proto = self.engine.proto(id);
                if let Some(conn) = self.conns.get_mut(slot).and_then(Option::as_mut) {
                    reply.encode(proto, &mut conn.output);
                }
            }
            Ok(None) => {}
            Err(_) => {
                // A bug in a handler must not take the other clients down: drop this one.
                let name = String::from_utf8_lossy(&self.argv[0]).into_owned();
                super::log::warning(&format!(
                    "client {id}: command '{name}' panicked; closing the connection"
                ));
                failed = true;
            }
        }
        if self.engine.shutdown_requested {
            // SHUTDOWN saved first when it had to (see the command); every connection closes
            // with the process, as redis-server's do.
            super::log::warning("User requested shutdown...");
            self.sync_aof_before_exit();
            super::exit_now(0);
        }
        let big_arg = self.argv[..argc]
            .iter()
            .rev()
            .map(Vec::len)
            .find(|&len| len >= bufsize::BIG_ARG);
        if let (Some(len), Some(conn)) =
            (big_arg, self.conns.get_mut(slot).and_then(Option::as_mut))
        {
            conn.bufs.on_big_arg(len);
        }
        let config = self.argv[0].eq_ignore_ascii_case(b"config");
        if config {
            self.limits = Limits::of(&self.engine);
        }
        self.follow_oom_class(config);
        self.trim_argv(argc);
        // The client's own messages follow its reply; others' wait in their buffers.
        self.deliver();
        self.check_closed_clients();
        let quit = failed || self.engine.clients.get(&id).is_none_or(|c| c.closing);
        if let Some(conn) = self.conns.get_mut(slot).and_then(Option::as_mut) {
            // After QUIT (or a fatal error) Redis runs nothing more the client sent.
            conn.closing |= quit;
        }
        self.queue_flush(slot);
        self.check_output_limit(slot);
        self.report_buffers(slot);
        self.evict_clients();
    }

    /// Applies the oom score again after a CONFIG command (`config`) or when the server became
    /// a replica or a master since it was last applied (the class's value differs).
    fn follow_oom_class(&mut self, config: bool) {
        let replica = self.engine.repl.link.is_some();
        if config || replica != self.oom_replica {
            self.oom_replica = replica;
            super::apply_oom_score_adj(&self.engine.config, replica);
        }
    }

    /// SIGTERM or SIGINT: shuts down as redis-server does on them, saving a snapshot first
    /// when `save` rules are configured and syncing the append-only file.
    fn on_signal(&mut self) {
        let Some(signals) = self.signals.as_mut() else {
            return;
        };
        let got: Vec<i32> = signals.pending().collect();
        let Some(&sig) = got
            .iter()
            .find(|&&s| s == libc::SIGTERM || s == libc::SIGINT)
        else {
            return;
        };
        let name = if sig == libc::SIGTERM {
            "SIGTERM"
        } else {
            "SIGINT"
        };
        super::log::warning(&format!("Received {name} scheduling shutdown..."));
        let rules = !redis_playground::config::save_rules(&self.engine.config.save).is_empty();
        if rules && self.engine.persist.writer.is_some() {
            let now = (self.now_ms)();
            if self.engine.save_now(now).is_err() {
                super::log::warning("Error trying to save the DB, can't exit.");
                return;
            }
        }
        self.sync_aof_before_exit();
        super::exit_now(0);
    }

    /// Writes and syncs what the append-only file has not yet, before the process exits.
    fn sync_aof_before_exit(&mut self) {
        if let Some(aof) = self.aof.as_mut() {
            aof.feed(&mut self.engine);
            aof.sync();
        }
    }

    /// The append-only file after a command or a tick: turned on or off as `appendonly`
    /// now says, rewritten when BGREWRITEAOF asked, and fed what the engine propagated.
    fn aof_step(&mut self) {
        // Read only when needed: this runs after every request, and most need no time.
        let now = self.now_ms;
        let want = self.engine.config.appendonly;
        if want && self.aof.is_none() {
            // CONFIG SET appendonly yes: the AOF starts from a rewrite of the data.
            self.engine.persist.aof_rewrite_requested = false;
            match Aof::turn_on(self.aof_path.clone(), &mut self.engine, now()) {
                Ok(aof) => {
                    self.aof = Some(aof);
                    // Its files stay on disk once appendonly is off again (DEBUG LOADAOF).
                    self.engine.persist.aof_on_disk = true;
                    self.engine.persist.aof_rewrite_finished(true);
                }
                Err(e) => {
                    super::log::warning(&e.to_string());
                    self.engine.persist.aof_rewrite_finished(false);
                }
            }
        } else if !want {
            if let Some(mut aof) = self.aof.take() {
                aof.feed(&mut self.engine);
                aof.sync();
                self.engine.set_propagation(false);
            }
        }
        let Some(aof) = self.aof.as_mut() else {
            // BGREWRITEAOF with appendonly off still writes a base file, as Redis does.
            let persist = &mut self.engine.persist;
            if persist.aof_rewrite_requested || persist.aof_rewrite_scheduled {
                persist.aof_rewrite_requested = false;
                persist.aof_rewrite_scheduled = false;
                if let Err(e) =
                    super::aof::rewrite_base_only(&self.aof_path, &mut self.engine, now())
                {
                    eprintln!("redis-playground-server: {e}");
                }
                self.engine.persist.aof_on_disk = self.aof_path.manifest().exists();
            }
            if std::mem::take(&mut self.engine.persist.aof_load_requested) {
                // DEBUG LOADAOF with appendonly off loads what BGREWRITEAOF wrote.
                load_aof_again(&mut self.engine, &self.aof_path, now());
            }
            return;
        };
        aof.feed(&mut self.engine);
        if std::mem::take(&mut self.engine.persist.aof_load_requested) {
            // DEBUG LOADAOF: what was written is synced, the data emptied and loaded back.
            aof.sync();
            load_aof_again(&mut self.engine, &self.aof_path, now());
        }
        let persist = &mut self.engine.persist;
        if persist.aof_rewrite_requested || persist.aof_rewrite_scheduled {
            persist.aof_rewrite_requested = false;
            persist.aof_rewrite_scheduled = false;
            if let Err(e) = aof.rewrite(&mut self.engine, now()) {
                super::log::warning(&e.to_string());
            }
        }
    }

    /// Gives back argument buffers a big request left behind.
    fn trim_argv(&mut self, argc: usize) {
        for a in &mut self.argv[..argc] {
            if a.capacity() > KEEP_ARG_BYTES {
                *a = Vec::new();
            }
        }
        self.argv.truncate(KEEP_ARGS);
        // The list itself too: 100,000 arguments leave 2.4 MB of slots behind otherwise.
        if self.argv.capacity() > 4 * KEEP_ARGS {
            self.argv.shrink_to(KEEP_ARGS);
        }
    }

    /// Moves every outbox message (pub/sub, served blocked clients, MONITOR, tracking) into
    /// its connection's output, when the engine says there is any.
    fn deliver(&mut self) {
        if self.engine.has_replica_output() {
            self.deliver_replication();
        }
        if self.engine.mail.is_empty() {
            return;
        }
        let mut touched = Vec::new();
        for id in std::mem::take(&mut self.engine.mail) {
            let Some(client) = self.engine.clients.get_mut(&id) else {
                continue;
            };
            if client.outbox.is_empty() {
                continue;
            }
            let Some(conn) = self
                .by_client
                .get(&client.id)
                .and_then(|&slot| self.conns.get_mut(slot))
                .and_then(Option::as_mut)
            else {
                // A client with no connection (the start-up one) has nobody to read.
                client.outbox.clear();
                continue;
            };
            for msg in client.outbox.drain(..) {
                msg.encode(client.proto, &mut conn.output);
            }
            if let Some(&slot) = self.by_client.get(&client.id) {
                touched.push(slot);
            }
        }
        for slot in touched {
            self.queue_flush(slot);
            self.check_output_limit(slot);
            self.report_buffers(slot);
        }
    }

    /// Accepts the nodes connecting to the cluster bus port.
    fn bus_accept(&mut self, index: usize) {
        loop {
            let Some(listener) = self.bus_listeners.get(index) else {
                return;
            };
            let (mut stream, peer) = match listener.accept() {
                Ok(s) => s,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(_) => return,
            };
            let _ = stream.set_nodelay(true);
            let local = stream
                .local_addr()
                .map(|a| a.ip().to_string())
                .unwrap_or_default();
            let now = (self.now_ms)();
            let Some(link) = self
                .engine
                .cluster_bus_accepted(&peer.ip().to_string(), &local, now)
            else {
                continue;
            };
            let token = Token(BUS_LINKS.saturating_add(link as usize));
            if self
                .poll
                .registry()
                .register(&mut stream, token, Interest::READABLE | Interest::WRITABLE)
                .is_err()
            {
                self.engine.cluster_bus_closed(link, now);
                continue;
            }
            self.bus_links.insert(
                link,
                BusConn {
                    stream,
                    connected: true,
                    output: Vec::new(),
                    sent: 0,
                },
            );
        }
    }

    /// Does what the cluster bus asks (connect, write, close) until it asks nothing more.
    fn bus_step(&mut self) {
        for _ in 0..16 {
            let actions = self.engine.cluster_bus_actions();
            if actions.is_empty() {
                return;
            }
            let now = (self.now_ms)();
            for a in actions {
                match a {
                    BusAction::Connect { link, ip, port } => {
                        match connect_to(&self.engine, &ip, port) {
                            Ok(mut stream) => {
                                let token = Token(BUS_LINKS.saturating_add(link as usize));
                                let registered = self.poll.registry().register(
                                    &mut stream,
                                    token,
                                    Interest::READABLE | Interest::WRITABLE,
                                );
                                if registered.is_ok() {
                                    self.bus_links.insert(
                                        link,
                                        BusConn {
                                            stream,
                                            connected: false,
                                            output: Vec::new(),
                                            sent: 0,
                                        },
                                    );
                                } else {
                                    self.engine.cluster_bus_closed(link, now);
                                }
                            }
                            Err(_) => self.engine.cluster_bus_closed(link, now),
                        }
                    }
                    BusAction::Write { link, bytes } => {
                        if let Some(c) = self.bus_links.get_mut(&link) {
                            c.output.extend_from_slice(&bytes);
                        }
                        self.bus_write(link);
                    }
                    BusAction::Close { link } => self.bus_drop(link),
                }
            }
        }
    }

    /// Reads what a bus link has (completing a pending connect first) and writes what it
    /// holds.
    fn bus_io(&mut self, link: LinkId) {
        let now = (self.now_ms)();
        let Some(c) = self.bus_links.get_mut(&link) else {
            return;
        };
        if !c.connected {
            if let Ok(Some(_)) | Err(_) = c.stream.take_error() {
                self.bus_lost(link, now);
                return;
            }
            match c.stream.peer_addr() {
                Ok(_) => {
                    c.connected = true;
                    self.engine.cluster_bus_connected(link, now);
                    self.bus_step();
                }
                Err(e) if e.kind() == ErrorKind::NotConnected => return,
                Err(_) => {
                    self.bus_lost(link, now);
                    return;
                }
            }
        }
        let mut fed = false;
        for _ in 0..READS_PER_TURN {
            let Some(c) = self.bus_links.get_mut(&link) else {
                break;
            };
            match c.stream.read(&mut self.scratch) {
                Ok(0) => {
                    self.bus_lost(link, now);
                    break;
                }
                Ok(n) => {
                    let scratch = std::mem::take(&mut self.scratch);
                    self.engine.cluster_bus_read(link, &scratch[..n], now);
                    self.scratch = scratch;
                    fed = true;
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(_) => {
                    self.bus_lost(link, now);
                    break;
                }
            }
        }
        self.bus_write(link);
        if fed {
            // What the bus learned may have changed data or told clients something.
            self.aof_step();
            self.deliver();
            self.check_closed_clients();
            self.bus_step();
        }
    }

    /// Writes what a connected bus link holds, as much as the socket takes.
    fn bus_write(&mut self, link: LinkId) {
        let Some(c) = self.bus_links.get_mut(&link) else {
            return;
        };
        if !c.connected {
            return;
        }
        while c.sent < c.output.len() {
            match c.stream.write(&c.output[c.sent..]) {
                Ok(0) => break,
                Ok(n) => c.sent += n,
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(_) => {
                    let now = (self.now_ms)();
                    self.bus_lost(link, now);
                    return;
                }
            }
        }
        if c.sent == c.output.len() {
            c.output.clear();
            c.sent = 0;
        }
    }

    /// A bus link failed or closed: the engine forgets it (and reconnects later).
    fn bus_lost(&mut self, link: LinkId, now: i64) {
        self.bus_drop(link);
        self.engine.cluster_bus_closed(link, now);
    }

    fn bus_drop(&mut self, link: LinkId) {
        if let Some(mut c) = self.bus_links.remove(&link) {
            let _ = self.poll.registry().deregister(&mut c.stream);
            let _ = c.stream.shutdown(std::net::Shutdown::Both);
        }
    }

    /// Opens or drops the connection to the primary as the engine's link asks, and writes
    /// what the engine has for the primary.
    fn master_link_step(&mut self) {
        if self.master.is_none() && self.engine.repl.link.is_none() {
            return;
        }
        let now = (self.now_ms)();
        let want = self.engine.link_epoch();
        if self.master.as_ref().is_some_and(|m| Some(m.epoch) != want) {
            self.drop_master();
        }
        if self.master.is_none() {
            if let Some((host, port, epoch)) = self.engine.link_wanted(now) {
                match connect_to(&self.engine, &host, port) {
                    Ok(mut stream) => {
                        let registered = self.poll.registry().register(
                            &mut stream,
                            MASTER,
                            Interest::READABLE | Interest::WRITABLE,
                        );
                        if registered.is_ok() {
                            self.engine.link_connecting(now);
                            self.master = Some(MasterConn {
                                stream,
                                epoch,
                                connected: false,
                                output: Vec::new(),
                                sent: 0,
                            });
                        } else {
                            self.engine.link_lost(now);
                        }
                    }
                    Err(e) => {
                        eprintln!("Error condition on socket for SYNC: {e}");
                        self.engine.link_lost(now);
                    }
                }
            }
        }
        self.master_write();
    }

    /// Reads what the primary sent and hands it to the engine (which applies it); completes
    /// a pending connect first.
    fn master_io(&mut self) {
        let now = (self.now_ms)();
        let Some(m) = self.master.as_mut() else {
            return;
        };
        if !m.connected {
            if let Ok(Some(_)) | Err(_) = m.stream.take_error() {
                self.master_lost(now);
                return;
            }
            match m.stream.peer_addr() {
                Ok(_) => {
                    m.connected = true;
                    self.engine.link_established(now);
                }
                Err(e) if e.kind() == ErrorKind::NotConnected => return,
                Err(_) => {
                    self.master_lost(now);
                    return;
                }
            }
        }
        let mut fed = false;
        while let Some(m) = self.master.as_mut() {
            match m.stream.read(&mut self.scratch) {
                Ok(0) => {
                    self.master_lost(now);
                    break;
                }
                Ok(n) => {
                    let scratch = std::mem::take(&mut self.scratch);
                    self.engine.link_feed(&scratch[..n], now);
                    self.scratch = scratch;
                    fed = true;
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(_) => {
                    self.master_lost(now);
                    break;
                }
            }
        }
        if fed {
            // The stream changed data: the AOF, replicas of ours, blocked clients, pub/sub.
            self.aof_step();
            self.deliver();
            self.check_closed_clients();
        }
        self.master_link_step();
    }

    /// Writes what the engine has for the primary.
    fn master_write(&mut self) {
        let out = self.engine.take_link_output();
        let Some(m) = self.master.as_mut() else {
            return;
        };
        m.output.extend_from_slice(&out);
        if !m.connected {
            return;
        }
        while m.sent < m.output.len() {
            match m.stream.write(&m.output[m.sent..]) {
                Ok(0) => break,
                Ok(n) => m.sent += n,
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(_) => {
                    let now = (self.now_ms)();
                    self.master_lost(now);
                    return;
                }
            }
        }
        if m.sent == m.output.len() {
            m.output.clear();
            m.sent = 0;
        }
    }

    /// The connection to the primary failed or closed: the engine tries again.
    fn master_lost(&mut self, now: i64) {
        self.drop_master();
        self.engine.link_lost(now);
        self.check_closed_clients();
    }

    fn drop_master(&mut self) {
        if let Some(mut m) = self.master.take() {
            let _ = self.poll.registry().deregister(&mut m.stream);
            let _ = m.stream.shutdown(std::net::Shutdown::Both);
        }
    }

    /// Moves the replication stream (and snapshots) the engine queued for replicas into
    /// their connections' output.
    fn deliver_replication(&mut self) {
        for (id, bytes) in self.engine.take_replica_output() {
            let Some(&slot) = self.by_client.get(&id) else {
                continue;
            };
            let snapshot = self.engine.repl.snapshot_len.remove(&id).unwrap_or(0);
            if let Some(conn) = self.conns.get_mut(slot).and_then(Option::as_mut) {
                if snapshot > 0 {
                    conn.snapshot_end = conn.output.len() + snapshot;
                }
                conn.output.extend_from_slice(&bytes);
            }
            self.queue_flush(slot);
            // A replica that does not read its stream is dropped at its class's limit.
            self.check_output_limit(slot);
        }
    }

    /// Connections whose client the engine ended on another client's word (CLIENT KILL)
    /// close now, even while idle. Every engine client has a connection, so only a count
    /// that differs means one went.
    fn check_closed_clients(&mut self) {
        if self.engine.clients.len() == self.by_client.len() {
            return;
        }
        let gone: Vec<usize> = self
            .by_client
            .iter()
            .filter(|(id, _)| !self.engine.clients.contains_key(id))
            .map(|(_, &slot)| slot)
            .collect();
        for slot in gone {
            if let Some(conn) = self.conns.get_mut(slot).and_then(Option::as_mut) {
                conn.closing = true;
            }
            self.queue_flush(slot);
        }
    }

    /// The `client-output-buffer-limit` class of a connection's client (monitors count as
    /// normal clients, as in Redis).
    fn obuf_limit(&self, id: ClientId) -> ObufLimit {
        if self.engine.is_replica(id) {
            return self.limits.replica;
        }
        let subscribed = self
            .engine
            .clients
            .get(&id)
            .is_some_and(|c| !c.subs.is_empty() || !c.psubs.is_empty() || !c.ssubs.is_empty());
        if subscribed {
            self.limits.pubsub
        } else {
            self.limits.normal
        }
    }

    /// Closes a client whose unsent output passed its class's hard limit, or stayed over the
    /// soft limit longer than allowed, as redis-server does.
    fn check_output_limit(&mut self, slot: usize) {
        let Some(conn) = self.conns.get(slot).and_then(Option::as_ref) else {
            return;
        };
        let least = self.limits.least_obuf;
        if conn.soft_since.is_none() && (least == 0 || (conn.limited() as u64) < least) {
            return;
        }
        let limit = self.obuf_limit(conn.id);
        let pending = conn.limited() as u64;
        let now = Instant::now();
        let hard = limit.hard > 0 && pending >= limit.hard;
        let mut soft = false;
        let mut soft_since = conn.soft_since;
        if limit.soft > 0 && pending >= limit.soft {
            match soft_since {
                None => soft_since = Some(now),
                Some(t) => soft = now.duration_since(t).as_secs() > limit.soft_secs,
            }
        } else {
            soft_since = None;
        }
        let id = conn.id;
        if let Some(conn) = self.conns.get_mut(slot).and_then(Option::as_mut) {
            conn.soft_since = soft_since;
        }
        if hard || soft {
            let addr = self
                .engine
                .clients
                .get(&id)
                .map_or(String::new(), |c| c.addr.clone());
            super::log::warning(&format!(
                "Client id={id} addr={addr} scheduled to be closed ASAP for overcoming of \
                 output buffer limits."
            ));
            self.close(slot);
        }
    }

    /// Soft limits also end while nothing new is queued (checked at every tick).
    fn check_soft_limits(&mut self) {
        let over: Vec<usize> = self
            .conns
            .iter()
            .enumerate()
            .filter_map(|(slot, c)| c.as_ref().filter(|c| c.soft_since.is_some()).map(|_| slot))
            .collect();
        for slot in over {
            self.check_output_limit(slot);
        }
    }

    /// Gives back the output buffers larger than [`KEEP_OUTPUT`] that wait empty (see
    /// [`KEEP_OUTPUT_BUSY`]), as Redis's client cron trims what a client does not use.
    fn trim_idle_output(&mut self) {
        for conn in self.conns.iter_mut().flatten() {
            if conn.pending() == 0 && conn.output.capacity() > KEEP_OUTPUT {
                conn.sent = 0;
                conn.output = Vec::new();
            }
        }
    }

    /// Runs the input kept by connections whose clients may go on now.
    fn resume_stalled(&mut self) {
        if self.stalled.is_empty() {
            return;
        }
        let stalled = std::mem::take(&mut self.stalled);
        for slot in stalled {
            let Some(conn) = self.conns.get(slot).and_then(Option::as_ref) else {
                continue;
            };
            if self.must_wait(conn) {
                if !self.stalled.contains(&slot) {
                    self.stalled.push(slot);
                }
                continue;
            }
            self.run_kept_input(slot);
            // Input left unread in the socket while the client waited.
            self.read_and_run(slot);
        }
    }

    fn queue_flush(&mut self, slot: usize) {
        if let Some(conn) = self.conns.get_mut(slot).and_then(Option::as_mut) {
            if !conn.queued {
                conn.queued = true;
                self.flush.push(slot);
            }
        }
    }

    /// Writes every queued connection's output, one write each when the socket takes it all.
    fn flush_all(&mut self) {
        // appendfsync always: what the commands answered here wrote reaches the disk before
        // any of their replies leaves, with one fsync for all of them (Redis's beforeSleep).
        if let Some(aof) = self.aof.as_mut() {
            aof.sync_if_always();
        }
        let mut list = std::mem::take(&mut self.flush);
        for &slot in &list {
            self.write_out(slot);
        }
        list.clear();
        if self.flush.is_empty() {
            self.flush = list;
        }
    }

    fn write_out(&mut self, slot: usize) {
        let Some(conn) = self.conns.get_mut(slot).and_then(Option::as_mut) else {
            return;
        };
        conn.queued = false;
        let was_full = conn.pending() > OUTPUT_PAUSE;
        if !conn.write_pending() {
            self.close(slot);
            return;
        }
        if conn.sent == conn.output.len() {
            conn.sent = 0;
            conn.snapshot_end = 0;
            conn.output.clear();
            if conn.output.capacity() > KEEP_OUTPUT_BUSY {
                conn.output = Vec::new();
            }
            conn.soft_since = None;
            if conn.closing {
                self.close(slot);
                return;
            }
        }
        if was_full && conn.pending() <= OUTPUT_PAUSE && !self.stalled.contains(&slot) {
            self.stalled.push(slot);
        }
        self.report_buffers(slot);
    }

    /// Tells the engine the sizes of a connection's buffers (CLIENT LIST, client eviction).
    fn report_buffers(&mut self, slot: usize) {
        let Some(conn) = self.conns.get_mut(slot).and_then(Option::as_mut) else {
            return;
        };
        let (qbuf, qbuf_mem) = if conn.input.is_empty() {
            (0, 0)
        } else {
            pending_request_memory(&conn.input)
        };
        // A big argument still arriving: the part received shows, all of it is held.
        conn.pending_bulk = (qbuf_mem > conn.input.len() || qbuf < conn.input.len())
            .then(|| qbuf_mem - (conn.input.len() - qbuf));
        if let Some(size) = conn.pending_bulk {
            conn.bufs.on_big_bulk(size);
        }
        let (pending, held) = (conn.pending(), conn.output.capacity());
        conn.bufs.on_output(pending);
        let id = conn.id;
        let b = &conn.bufs;
        let sizes = (b.query_alloc, b.reply_size, b.reply_peak);
        let report = [qbuf, qbuf_mem, pending, held, sizes.0, sizes.1, sizes.2];
        if conn.reported == Some(report) {
            // Told already (the read's report after its last request's): nothing changed.
            return;
        }
        conn.reported = Some(report);
        let sizes = BufferSizes {
            query: sizes.0,
            reply: sizes.1,
            reply_peak: sizes.2,
        };
        self.engine
            .set_client_buffers_sized(id, qbuf, qbuf_mem, pending, held, sizes);
    }

    /// Redis's client cron for the buffers: each connection's query and reply buffer sizes
    /// follow its use (see `bufsize`), and CLIENT LIST shows them.
    fn resize_buffers(&mut self) {
        let now = (self.now_ms)();
        let (reset, resizing) = (
            self.engine.reply_buffer.peak_reset_ms,
            self.engine.reply_buffer.resizing,
        );
        for conn in self.conns.iter_mut().flatten() {
            conn.bufs
                .cron(now, conn.input.len(), conn.pending_bulk, reset, resizing);
            conn.reported = None;
            let b = &conn.bufs;
            self.engine
                .set_client_buffer_sizes(conn.id, b.query_alloc, b.reply_size, b.reply_peak);
        }
    }

    /// Disconnects clients, largest first, while the clients' memory is at or over
    /// `maxmemory-clients` (Redis's evictClients).
    fn evict_clients(&mut self) {
        let limit = self.limits.clients_mem;
        if limit == 0 || self.engine.client_mem.total < limit {
            return;
        }
        let evicted = self.engine.evict_clients(limit, (self.now_ms)());
        if evicted.is_empty() {
            return;
        }
        for (id, line) in evicted {
            super::log::notice(&format!("Evicting client: {line}"));
            if let Some(&slot) = self.by_client.get(&id) {
                self.close(slot);
            }
        }
        if self.engine.client_mem.total >= limit {
            super::log::warning("Over client maxmemory after evicting all evictable clients");
        }
        // Closing clients may serve others or tell them something.
        self.deliver();
    }

    /// Ends a connection and its client.
    fn close(&mut self, slot: usize) {
        let Some(mut conn) = self.conns.get_mut(slot).and_then(Option::take) else {
            return;
        };
        let _ = self.poll.registry().deregister(&mut conn.stream);
        let _ = conn.stream.shutdown(std::net::Shutdown::Both);
        self.by_client.remove(&conn.id);
        if self.engine.clients.contains_key(&conn.id) {
            self.engine.close_client(conn.id);
            // Closing may serve others (a blocked client's key) or tell them something.
            self.deliver();
        }
        self.free.push(slot);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_limits_by_class() {
        let (normal, replica, pubsub) = parse_obuf_limits(
            "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60",
        );
        assert_eq!(normal, ObufLimit::default());
        assert_eq!(
            replica,
            ObufLimit {
                hard: 268435456,
                soft: 67108864,
                soft_secs: 60
            }
        );
        assert_eq!(
            pubsub,
            ObufLimit {
                hard: 33554432,
                soft: 8388608,
                soft_secs: 60
            }
        );
        assert_eq!(parse_obuf_limits("pubsub x"), Default::default());
    }
}

thread_local! {
    /// The server the loop runs, for [`busy_turn`]; set once `serve` starts.
    static SERVER: std::cell::Cell<*mut Server> = const { std::cell::Cell::new(std::ptr::null_mut()) };
    /// What [`busy_turn`] leaves for the loop's next turn.
    static BUSY_LEFT: std::cell::RefCell<BusyLeft> = std::cell::RefCell::new(BusyLeft::default());
}

#[derive(Default)]
struct BusyLeft {
    /// Connections whose readiness a busy turn took.
    slots: Vec<usize>,
    /// A listener was ready and was not (fully) accepted from.
    accept: bool,
    /// Connections accepted while the script ran, under tokens from [`BUSY_TOKENS`] by
    /// their index here; the loop gives them slots afterwards.
    conns: Vec<Conn>,
    /// This script's first busy turn looked at every connection.
    swept: bool,
}

/// Tokens of the connections accepted while a script runs (far above any slot's).
const BUSY_TOKENS: usize = usize::MAX / 2;

/// What the event loop does while a script runs past `busy-reply-threshold` (the engine
/// calls it from the script's hook, again and again): it accepts connections and runs the
/// other clients' requests, so they get BUSY at once and SCRIPT KILL, FUNCTION KILL and
/// SHUTDOWN NOSAVE work, as in redis-server. The script's own client is left alone.
fn busy_turn(engine: &mut Engine) {
    let server = SERVER.with(|p| p.get());
    if server.is_null() {
        return;
    }
    // The script's client, the loading client and the one whose command asked for the load
    // are in the middle of a command: nothing more of theirs is read or written.
    let running = [
        engine.scripts.running.as_ref().map(|r| r.client),
        engine.loading.as_ref().and_then(|l| l.client),
        engine.loading.as_ref().and_then(|l| l.caller),
    ];
    write_engine_logs(engine);
    let mut events = Events::with_capacity(64);
    // SAFETY: `server` is the Server whose `serve` loop is suspended in the command that runs
    // the script; `engine` is its engine. Only the fields below, never `engine`, are reached
    // through the pointer, and none is written: the connections' buffers live on the heap,
    // and what the loop must learn goes through BUSY_LEFT, not the server's own lists.
    let (poll, conns, listeners, limits, now_ms) = unsafe {
        (
            &mut *std::ptr::addr_of_mut!((*server).poll),
            &mut (*server).conns,
            &(*server).listeners,
            (*server).limits,
            (*server).now_ms,
        )
    };
    if poll.poll(&mut events, Some(Duration::ZERO)).is_err() {
        return;
    }
    let mut busy = Busy {
        engine,
        limits,
        now_ms,
        running,
        argv: Vec::new(),
        scratch: vec![0u8; 16 * 1024],
    };
    BUSY_LEFT.with(|left| {
        let mut left = left.borrow_mut();
        if !left.swept {
            // Readiness the loop took before the script started (it is edge-triggered) will
            // not be reported again: every connection and listener is looked at once.
            left.swept = true;
            left.accept = true;
            for listener in listeners.iter() {
                busy.accept(listener, poll, &mut left.conns);
            }
            for (slot, conn) in conns.iter_mut().enumerate() {
                if let Some(conn) = conn.as_mut() {
                    left.slots.push(slot);
                    busy.serve(conn);
                }
            }
        }
        for event in events.iter() {
            let token = event.token().0;
            if let Some(i) = listener_index(token) {
                left.accept = true;
                if let Some(listener) = listeners.get(i) {
                    busy.accept(listener, poll, &mut left.conns);
                }
                continue;
            }
            if bus_link_of(token).is_some() || bus_listener_index(token).is_some() {
                // The loop looks at every bus link at its next cron.
                continue;
            }
            if token >= BUSY_TOKENS {
                if let Some(conn) = left.conns.get_mut(token - BUSY_TOKENS) {
                    busy.serve(conn);
                }
                continue;
            }
            let slot = token;
            if !left.slots.contains(&slot) {
                left.slots.push(slot);
            }
            if let Some(conn) = conns.get_mut(slot).and_then(Option::as_mut) {
                busy.serve(conn);
            }
        }
    });
}

/// A busy turn's state: see [`busy_turn`].
struct Busy<'a> {
    engine: &'a mut Engine,
    limits: Limits,
    now_ms: fn() -> i64,
    running: [Option<ClientId>; 3],
    argv: Vec<Vec<u8>>,
    scratch: Vec<u8>,
}

impl Busy<'_> {
    /// Accepts what waits on `listener` (up to maxclients), registered under busy tokens.
    fn accept(&mut self, listener: &Listener, poll: &Poll, conns: &mut Vec<Conn>) {
        while let Ok(mut accepted) = listener.accept() {
            let connected = self.engine.clients.len();
            if turned_away(self.engine, connected, &mut accepted) {
                continue;
            }
            let token = Token(BUSY_TOKENS + conns.len());
            if poll
                .registry()
                .register(
                    &mut accepted.stream,
                    token,
                    Interest::READABLE | Interest::WRITABLE,
                )
                .is_err()
            {
                continue;
            }
            let mut conn = open_client_for(self.engine, accepted, (self.now_ms)());
            self.serve(&mut conn);
            conns.push(conn);
        }
    }

    /// Reads what a connection sent, runs its complete requests (BUSY for most) and writes
    /// the replies at once: the script may run for a long time yet.
    fn serve(&mut self, conn: &mut Conn) {
        if self.running.contains(&Some(conn.id)) || conn.closing {
            return;
        }
        while conn.input.len() <= self.limits.query_buffer {
            match conn.stream.read(&mut self.scratch) {
                Ok(0) => {
                    conn.closing = true;
                    if self.engine.loading.is_some() {
                        // As Redis frees a client that left while the data loads (the loop
                        // closes the socket afterwards).
                        self.engine.close_client(conn.id);
                        conn.input.clear();
                        return;
                    }
                    break;
                }
                Ok(n) => conn.input.extend_from_slice(&self.scratch[..n]),
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(_) => break,
            }
        }
        let mut used = 0;
        loop {
            let unauthenticated = self.engine.auth_required(conn.id);
            let Ok(Some((argc, n))) = parse_request_into(
                &conn.input[used..],
                self.limits.max_bulk,
                unauthenticated,
                &mut self.argv,
            ) else {
                break;
            };
            used += n;
            if argc == 0 {
                continue;
            }
            let now = (self.now_ms)();
            if let Some(reply) = self.engine.execute(conn.id, &self.argv[..argc], now) {
                reply.encode(self.engine.proto(conn.id), &mut conn.output);
            }
            if self.engine.shutdown_requested {
                super::log::warning("SHUTDOWN NOSAVE while a script ran: exiting");
                super::exit_now(0);
            }
        }
        conn.input.drain(..used);
        // A dead socket is the loop's to close, once the script has ended.
        conn.write_pending();
        if conn.sent == conn.output.len() {
            conn.sent = 0;
            conn.snapshot_end = 0;
            conn.output.clear();
        }
    }
}
