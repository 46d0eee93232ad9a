//! The connection group: PING, ECHO, SELECT, QUIT, HELLO, CLIENT ...

use super::args;
use super::server::{container, help_reply};
use super::spec::*;
use crate::engine::client_mem::{client_memory, request_size, QUERY_BUF, REPLY_BUF};
use crate::engine::tracking::Tracking;
use crate::engine::{Client, ClientId, Ctx, LinkRole, ReplyMode};
use crate::error::{self, CmdError, CmdResult};
use crate::protocol::Reply;

/// The connection group's commands.
pub const COMMANDS: &[CommandSpec] = &[
    CommandSpec::new("ping", -1, &[FAST], ping)
        .doc(
            Group::Connection,
            "1.0.0",
            &[Arg::string("message").optional()],
            "Checks the connection: replies PONG, or the message given.",
        )
        .tips(&["request_policy:all_shards", "response_policy:all_succeeded"])
        .complexity("O(1)"),
    CommandSpec::new("echo", 2, &[LOADING, STALE, FAST], echo)
        .doc(
            Group::Connection,
            "1.0.0",
            &[Arg::string("message")],
            "Replies with the message it was given.",
        )
        .complexity("O(1)"),
    CommandSpec::new("select", 2, &[LOADING, STALE, FAST], select)
        .doc(
            Group::Connection,
            "1.0.0",
            &[Arg::integer("index")],
            "Switches this connection to another numbered database.",
        )
        .complexity("O(1)"),
    CommandSpec::new(
        "quit",
        -1,
        &[NOSCRIPT, LOADING, STALE, FAST, NO_AUTH, ALLOW_BUSY],
        quit,
    )
    .doc(
        Group::Connection,
        "1.0.0",
        &[],
        "Closes the connection once the reply is sent.",
    )
    .complexity("O(1)"),
    CommandSpec::new(
        "reset",
        1,
        &[NOSCRIPT, LOADING, STALE, FAST, NO_AUTH, ALLOW_BUSY],
        reset,
    )
    .doc(
        Group::Connection,
        "6.2.0",
        &[],
        "Returns the connection to the state of a fresh one.",
    )
    .complexity("O(1)"),
    CommandSpec::new(
        "hello",
        -1,
        &[NOSCRIPT, LOADING, STALE, FAST, NO_AUTH, ALLOW_BUSY],
        hello,
    )
    .doc(
        Group::Connection,
        "6.0.0",
        &[Arg::block(
            "arguments",
            &[
                Arg::integer("protover"),
                Arg::block(
                    "username_password",
                    &[Arg::string("username"), Arg::string("password")],
                )
                .with_token("AUTH")
                .optional(),
                Arg::string("clientname").with_token("SETNAME").optional(),
            ],
        )
        .optional()],
        "Chooses the protocol version (RESP2 or RESP3) and describes the server.",
    )
    .complexity("O(1)"),
    CommandSpec::new(
        "auth",
        -2,
        &[NOSCRIPT, LOADING, STALE, FAST, NO_AUTH, ALLOW_BUSY],
        auth,
    )
    .doc(
        Group::Connection,
        "1.0.0",
        &[
            Arg::string("username").optional().since("6.0.0"),
            Arg::string("password"),
        ],
        "Proves the client knows the password of a user.",
    )
    .complexity("O(N), N being the user's passwords."),
    CommandSpec::new("monitor", 1, &[ADMIN, NOSCRIPT, LOADING, STALE], monitor)
        .doc(
            Group::Server,
            "1.0.0",
            &[],
            "Streams every command the server runs to this connection.",
        )
        .complexity(""),
    CommandSpec::new("client", -2, &[], container)
        .doc(
            Group::Connection,
            "2.4.0",
            &[],
            "Inspects and manages client connections.",
        )
        .complexity("Depends on the subcommand.")
        .subs(CLIENT_SUBCOMMANDS),
];

const CLIENT_SUBCOMMANDS: &[CommandSpec] = &[
    CommandSpec::new("id", 2, &[NOSCRIPT, LOADING, STALE], client_id)
        .doc(
            Group::Connection,
            "5.0.0",
            &[],
            "Replies with this connection's unique id.",
        )
        .complexity("O(1)"),
    CommandSpec::new("getname", 2, &[NOSCRIPT, LOADING, STALE], client_getname)
        .doc(
            Group::Connection,
            "2.6.9",
            &[],
            "Replies with this connection's name.",
        )
        .complexity("O(1)"),
    CommandSpec::new("setname", 3, &[NOSCRIPT, LOADING, STALE], client_setname)
        .doc(
            Group::Connection,
            "2.6.9",
            &[Arg::string("connection-name")],
            "Names this connection (an empty name clears it).",
        )
        .complexity("O(1)"),
    CommandSpec::new("list", -2, &[ADMIN, NOSCRIPT, LOADING, STALE], client_list)
        .doc(
            Group::Connection,
            "2.4.0",
            &[
                Arg::oneof(
                    "normal_master_replica_pubsub",
                    &[
                        Arg::token("normal", "NORMAL"),
                        Arg::token("master", "MASTER"),
                        Arg::token("replica", "REPLICA"),
                        Arg::token("pubsub", "PUBSUB"),
                    ],
                )
                .with_token("TYPE")
                .optional()
                .since("5.0.0"),
                Arg::block("id", &[Arg::integer("client-id").multiple()])
                    .with_token("ID")
                    .optional()
                    .since("6.2.0"),
            ],
            "Describes the connected clients, one line each.",
        )
        .tips(&["nondeterministic_output"])
        .complexity("O(N), N being the connected clients."),
    CommandSpec::new("info", 2, &[NOSCRIPT, LOADING, STALE], client_info)
        .doc(
            Group::Connection,
            "6.2.0",
            &[],
            "Describes this connection in CLIENT LIST's line format.",
        )
        .tips(&["nondeterministic_output"])
        .complexity("O(1)"),
    CommandSpec::new("getredir", 2, &[NOSCRIPT, LOADING, STALE], client_getredir)
        .doc(
            Group::Connection,
            "6.0.0",
            &[],
            "Replies with the client tracking redirection target (-1: none).",
        )
        .complexity("O(1)"),
    CommandSpec::new(
        "trackinginfo",
        2,
        &[NOSCRIPT, LOADING, STALE],
        client_trackinginfo,
    )
    .doc(
        Group::Connection,
        "6.2.0",
        &[],
        "Describes this connection's client-side caching state.",
    )
    .complexity("O(1)"),
    CommandSpec::new(
        "no-evict",
        3,
        &[ADMIN, NOSCRIPT, LOADING, STALE],
        client_no_evict,
    )
    .doc(
        Group::Connection,
        "7.0.0",
        &[Arg::oneof(
            "enabled",
            &[Arg::token("on", "ON"), Arg::token("off", "OFF")],
        )],
        "Exempts this connection from client eviction.",
    )
    .complexity("O(1)"),
    CommandSpec::new("kill", -3, &[ADMIN, NOSCRIPT, LOADING, STALE], client_kill)
        .doc(
            Group::Connection,
            "2.4.0",
            &[Arg::oneof(
                "filter",
                &[
                    Arg::string("ip:port").deprecated_since("2.8.12"),
                    Arg::oneof(
                        "new-format",
                        &[
                            Arg::integer("client-id")
                                .with_token("ID")
                                .optional()
                                .since("2.8.12"),
                            Arg::oneof(
                                "normal_master_slave_pubsub",
                                &[
                                    Arg::token("normal", "NORMAL"),
                                    Arg::token("master", "MASTER").since("3.2.0"),
                                    Arg::token("slave", "SLAVE"),
                                    Arg::token("replica", "REPLICA").since("5.0.0"),
                                    Arg::token("pubsub", "PUBSUB"),
                                ],
                            )
                            .with_token("TYPE")
                            .optional()
                            .since("2.8.12"),
                            Arg::string("username").with_token("USER").optional(),
                            Arg::string("ip:port").with_token("ADDR").optional(),
                            Arg::string("ip:port")
                                .with_token("LADDR")
                                .optional()
                                .since("6.2.0"),
                            Arg::string("yes/no").with_token("SKIPME").optional(),
                        ],
                    )
                    .multiple(),
                ],
            )],
            "Closes the connections that match the filters.",
        )
        .complexity("O(N), N being the connected clients."),
    CommandSpec::new("reply", 3, &[NOSCRIPT, LOADING, STALE], client_reply)
        .doc(
            Group::Connection,
            "3.2.0",
            &[Arg::oneof(
                "on_off_skip",
                &[
                    Arg::token("on", "ON"),
                    Arg::token("off", "OFF"),
                    Arg::token("skip", "SKIP"),
                ],
            )],
            "Turns the server's replies to this connection off, on, or off for one command.",
        )
        .complexity("O(1)"),
    CommandSpec::new(
        "unblock",
        -3,
        &[ADMIN, NOSCRIPT, LOADING, STALE],
        client_unblock,
    )
    .doc(
        Group::Connection,
        "5.0.0",
        &[
            Arg::integer("client-id"),
            Arg::oneof(
                "timeout_error",
                &[
                    Arg::token("timeout", "TIMEOUT"),
                    Arg::token("error", "ERROR"),
                ],
            )
            .optional(),
        ],
        "Ends another connection's wait in a blocking command, as a timeout or an error.",
    )
    .complexity("O(log N), N being the connected clients."),
    CommandSpec::new(
        "pause",
        -3,
        &[ADMIN, NOSCRIPT, LOADING, STALE],
        client_pause,
    )
    .doc(
        Group::Connection,
        "2.9.50",
        &[
            Arg::integer("timeout"),
            Arg::oneof(
                "mode",
                &[Arg::token("write", "WRITE"), Arg::token("all", "ALL")],
            )
            .optional()
            .since("6.2.0"),
        ],
        "Holds the commands of every client (or only writes) for some milliseconds.",
    )
    .complexity("O(1)"),
    CommandSpec::new(
        "unpause",
        2,
        &[ADMIN, NOSCRIPT, LOADING, STALE],
        client_unpause,
    )
    .doc(
        Group::Connection,
        "6.2.0",
        &[],
        "Ends a CLIENT PAUSE at once.",
    )
    .complexity("O(N), N being the paused clients."),
    CommandSpec::new("tracking", -3, &[NOSCRIPT, LOADING, STALE], client_tracking)
        .doc(
            Group::Connection,
            "6.0.0",
            &[
                Arg::oneof(
                    "status",
                    &[Arg::token("on", "ON"), Arg::token("off", "OFF")],
                ),
                Arg::integer("client-id").with_token("REDIRECT").optional(),
                Arg::string("prefix")
                    .with_token("PREFIX")
                    .optional()
                    .multiple()
                    .multiple_token(),
                Arg::token("bcast", "BCAST").optional(),
                Arg::token("optin", "OPTIN").optional(),
                Arg::token("optout", "OPTOUT").optional(),
                Arg::token("noloop", "NOLOOP").optional(),
            ],
            "Turns server-assisted client-side caching on or off for this connection.",
        )
        .complexity("O(1), more with some options."),
    CommandSpec::new("caching", 3, &[NOSCRIPT, LOADING, STALE], client_caching)
        .doc(
            Group::Connection,
            "6.0.0",
            &[Arg::oneof(
                "mode",
                &[Arg::token("yes", "YES"), Arg::token("no", "NO")],
            )],
            "Says whether the keys of the next command are tracked (OPTIN / OPTOUT).",
        )
        .complexity("O(1)"),
    CommandSpec::new("help", 2, &[LOADING, STALE], client_help)
        .doc(
            Group::Connection,
            "5.0.0",
            &[],
            "Lists the CLIENT subcommands.",
        )
        .complexity("O(1)"),
];

/// `PING [message]` → `+PONG`, or the message as a bulk string; `["pong", message]` for a
/// subscribed RESP2 client.
fn ping(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    // One look at the client for both questions.
    let subscribed_resp2 = ctx
        .eng
        .clients
        .get(&ctx.client)
        .is_some_and(|c| c.proto == 2 && c.subscribed());
    if subscribed_resp2 && argv.len() <= 2 {
        // A subscribed RESP2 client gets PING's answer shaped like a message.
        let msg = argv.get(1).cloned().unwrap_or_default();
        return Ok(Reply::Array(vec![Reply::bulk("pong"), Reply::Bulk(msg)]));
    }
    match argv.len() {
        1 => Ok(Reply::status("PONG")),
        2 => Ok(Reply::bulk(&argv[1])),
        _ => Err(error::wrong_arity("ping")),
    }
}

/// `ECHO message` → the message.
fn echo(_ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    Ok(Reply::bulk(&argv[1]))
}

/// `SELECT index` → `+OK`.
fn select(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    let idx = args::int32(&argv[1])?;
    if idx != 0 && ctx.eng.cluster_enabled() {
        return Err(error::SELECT_CLUSTER);
    }
    let idx = usize::try_from(idx).map_err(|_| error::DB_INDEX)?;
    if idx >= ctx.eng.dbs.len() {
        return Err(error::DB_INDEX);
    }
    ctx.db = idx;
    ctx.client().db = idx;
    Ok(Reply::ok())
}

/// `QUIT` → `+OK`; the host closes the connection after sending it.
fn quit(ctx: &mut Ctx, _argv: &[Vec<u8>]) -> CmdResult {
    ctx.client().closing = true;
    Ok(Reply::ok())
}

/// `RESET` → `+RESET`: leaves any transaction, WATCH, subscription, tracking and MONITOR,
/// selects database 0,
/// speaks RESP2 again, drops the name, turns replies back on, and is authenticated only if no
/// password is set — the state of a new connection (CLIENT NO-EVICT stays, as in Redis 7.0).
fn reset(ctx: &mut Ctx, _argv: &[Vec<u8>]) -> CmdResult {
    let id = ctx.client;
    ctx.eng.unwatch_all(id);
    ctx.eng.drop_subscriptions(id);
    ctx.eng.disable_tracking(id);
    ctx.eng.monitors.retain(|m| *m != id);
    ctx.client().monitor = false;
    let authenticated = ctx.eng.acl.default_opens();
    ctx.db = 0;
    let c = ctx.client();
    c.multi = None;
    c.multi_error = false;
    c.db = 0;
    c.proto = 2;
    c.name = None;
    c.reply_mode = ReplyMode::On;
    c.authenticated = authenticated;
    c.user = b"default".to_vec();
    c.cluster_readonly = false;
    c.cluster_asking = false;
    Ok(Reply::status("RESET"))
}

/// Redis accepts client names made of the printable ASCII characters other than space.
fn valid_name(name: &[u8]) -> bool {
    name.iter().all(|c| (b'!'..=b'~').contains(c))
}

/// `HELLO [protover [AUTH username password] [SETNAME clientname]]` → map describing the
/// server (server, version, proto, id, mode, role, modules); switches the protocol first, so
/// `HELLO 3` already answers in RESP3.
fn hello(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    let mut proto = None;
    if let Some(ver) = argv.get(1) {
        let v = args::int_or(ver, error::PROTO_NOT_INTEGER)?;
        if !(2..=3).contains(&v) {
            return Err(error::NOPROTO);
        }
        proto = Some(v as u8);
    }
    let mut authed = false;
    let mut j = 2;
    while j < argv.len() {
        let more = argv.len() - 1 - j;
        let opt = &argv[j];
        if args::is(opt, "auth") && more >= 2 {
            authenticate(ctx, &argv[j + 1], &argv[j + 2], &argv[0])?;
            authed = true;
            j += 3;
        } else if args::is(opt, "setname") && more >= 1 {
            if !valid_name(&argv[j + 1]) {
                return Err(error::CLIENT_NAME_INVALID);
            }
            let n = &argv[j + 1];
            ctx.client().name = if n.is_empty() { None } else { Some(n.to_vec()) };
            j += 2;
        } else {
            return Err(error::hello_option(opt));
        }
    }
    if !authed && ctx.eng.auth_required(ctx.client) {
        return Err(error::HELLO_NOAUTH);
    }
    let mode = if ctx.eng.cluster_enabled() {
        "cluster"
    } else {
        "standalone"
    };
    let client = ctx.client();
    if let Some(p) = proto {
        client.proto = p;
    }
    let b = |s: &str| Reply::bulk(s);
    Ok(Reply::Map(vec![
        (b("server"), b("redis")),
        (b("version"), b("7.0.15")),
        (b("proto"), Reply::Integer(i64::from(client.proto))),
        (b("id"), Reply::int(client.id)),
        (b("mode"), b(mode)),
        (b("role"), b("master")),
        (b("modules"), Reply::Array(Vec::new())),
    ]))
}

/// Authenticates the client as `user` when `pass` opens it (Redis's ACLAuthenticateUser):
/// the client then runs as that user. A failure is logged in the ACL log (`object` is the
/// command name as typed) and leaves the connection as it was. Like Redis, HELLO's options
/// take effect as they are read, even if a later one fails.
fn authenticate(ctx: &mut Ctx, user: &[u8], pass: &[u8], object: &[u8]) -> Result<(), CmdError> {
    let ok = ctx
        .eng
        .acl
        .users
        .get(user)
        .is_some_and(|u| u.password_ok(pass));
    if ok {
        let c = ctx.client();
        c.authenticated = true;
        c.user = user.to_vec();
        return Ok(());
    }
    let context = if ctx.client().multi.is_some() || !ctx.can_block() {
        "multi"
    } else {
        "toplevel"
    };
    let (client, now) = (ctx.client, ctx.now);
    let argv = vec![object.to_vec()];
    ctx.eng.acl_log(
        client,
        crate::engine::acl::LogReason::Auth,
        context,
        object.to_vec(),
        Some(user.to_vec()),
        &argv,
        now,
    );
    Err(error::WRONGPASS)
}

/// `AUTH [username] password` → `+OK`, and the connection runs as that user (`default`
/// when only a password is given). A wrong pair leaves the connection as it was.
fn auth(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    let (user, pass): (&[u8], &[u8]) = match argv {
        [_, pass] => {
            if ctx.eng.acl.default_user().nopass() {
                return Err(error::AUTH_NO_PASSWORD);
            }
            (b"default", pass)
        }
        [_, user, pass] => (user, pass),
        _ => return Err(error::SYNTAX),
    };
    authenticate(ctx, user, pass, &argv[0])?;
    Ok(Reply::ok())
}

/// `CLIENT ID` → integer.
fn client_id(ctx: &mut Ctx, _argv: &[Vec<u8>]) -> CmdResult {
    Ok(Reply::int(ctx.client))
}

/// `CLIENT GETNAME` → the name, or nil when none is set.
fn client_getname(ctx: &mut Ctx, _argv: &[Vec<u8>]) -> CmdResult {
    Ok(Reply::bulk_or_nil(ctx.client().name.as_ref()))
}

/// `CLIENT SETNAME connection-name` → `+OK`; an empty name removes it.
fn client_setname(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    let name = &argv[2];
    if !valid_name(name) {
        return Err(error::CLIENT_NAME_INVALID);
    }
    ctx.client().name = if name.is_empty() {
        None
    } else {
        Some(name.clone())
    };
    Ok(Reply::ok())
}

/// Whether a client is subscribed to anything (CLIENT LIST type `pubsub`, flag `P`).
fn is_pubsub(c: &Client) -> bool {
    !(c.subs.is_empty() && c.psubs.is_empty() && c.ssubs.is_empty())
}

/// The class CLIENT LIST TYPE and CLIENT KILL TYPE match: `pubsub` while subscribed,
/// a replication link's own class, `normal` otherwise.
fn class_of(c: &Client) -> &'static str {
    if c.link == LinkRole::Replica {
        "replica"
    } else if c.link == LinkRole::Master {
        "master"
    } else if is_pubsub(c) {
        "pubsub"
    } else {
        "normal"
    }
}

/// Client classes CLIENT LIST TYPE and CLIENT KILL TYPE accept.
fn client_type(arg: &[u8]) -> Result<&'static str, CmdError> {
    for t in ["normal", "master", "replica", "slave", "pubsub"] {
        if args::is(arg, t) {
            return Ok(if t == "slave" { "replica" } else { t });
        }
    }
    Err(error::client_type(arg))
}

/// `CLIENT LIST [TYPE type] [ID id ...]` → one line per client (verbatim `txt` in RESP3).
fn client_list(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    let mut ids: Option<Vec<i64>> = None;
    let mut kind = None;
    if argv.len() == 4 && args::is(&argv[2], "type") {
        kind = Some(client_type(&argv[3])?);
    } else if argv.len() > 3 && args::is(&argv[2], "id") {
        let mut v = Vec::new();
        for a in &argv[3..] {
            v.push(args::int_or(a, error::INVALID_CLIENT_ID)?);
        }
        ids = Some(v);
    } else if argv.len() != 2 {
        return Err(error::SYNTAX);
    }
    let mut out = String::new();
    let me = ctx.client;
    for c in ctx.eng.clients.values() {
        if kind.is_some_and(|k| k != class_of(c)) {
            continue;
        }
        if let Some(ids) = &ids {
            if !ids.iter().any(|&i| u64::try_from(i).ok() == Some(c.id)) {
                continue;
            }
        }
        let blocked = ctx.eng.is_blocked(c.id) || c.paused;
        out.push_str(&client_line(
            c,
            blocked,
            ctx.now,
            (c.id == me).then_some(argv),
        ));
    }
    Ok(Reply::Verbatim("txt", out.into_bytes()))
}

/// `CLIENT INFO` → this connection's line (verbatim `txt` in RESP3).
fn client_info(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    let now = ctx.now;
    let line = client_line(ctx.client(), false, now, Some(argv));
    Ok(Reply::Verbatim("txt", line.into_bytes()))
}

/// One CLIENT LIST line with every field Redis 7.0 prints, newline-terminated. Buffers are
/// those the host reported (see `engine/client_mem.rs`; none in the page); there is no socket
/// descriptor (`fd=-1`). The flags are
/// those the engine tracks, in Redis's order: `O` monitor, `P` subscribed, `x` in MULTI, `b`
/// blocked or paused, `t` tracking, `R` tracking redirect broken, `B` broadcast tracking, `d` a
/// WATCHed key changed, `c` closing after this reply, `e` no-evict; `N` for none. `running` is
/// the command the client is running now (the one asking): like Redis, its arguments count in
/// `argv-mem`, and the request still sits in the query buffer (`qbuf`, its size as a RESP
/// array of bulk strings).
pub(crate) fn client_line(
    c: &Client,
    blocked: bool,
    now: i64,
    running: Option<&[Vec<u8>]>,
) -> String {
    let argv_mem: usize = running.map_or(0, |a| a.iter().map(Vec::len).sum());
    let qbuf: usize = running.map_or(c.mem.qbuf, request_size);
    let (query_alloc, rbs, rbp) = c.mem.sizes.map_or((QUERY_BUF, REPLY_BUF, 0), |s| {
        (s.query, s.reply, s.reply_peak)
    });
    let qbuf_free = query_alloc.saturating_sub(qbuf);
    // The first 16 KB of output are Redis's reply buffer (`obl`), the rest its reply list
    // (`oll` blocks of 16 KB, `omem` bytes).
    let obl = c.mem.obuf.min(16 * 1024);
    let omem = c.mem.obuf - obl;
    let oll = omem.div_ceil(16 * 1024);
    let name = c
        .name
        .as_deref()
        .map(String::from_utf8_lossy)
        .unwrap_or_default();
    let mut flags = String::new();
    let tracking = c.tracking.as_ref();
    for (on, f) in [
        (c.link == LinkRole::Replica, 'S'),
        (c.link == LinkRole::Master, 'M'),
        (c.monitor, 'O'),
        (is_pubsub(c), 'P'),
        (c.multi.is_some(), 'x'),
        (blocked, 'b'),
        (tracking.is_some(), 't'),
        (tracking.is_some_and(|t| t.broken), 'R'),
        (tracking.is_some_and(|t| t.bcast), 'B'),
        (c.watch_dirty, 'd'),
        (c.closing, 'c'),
        (c.unix_socket, 'U'),
        (c.cluster_readonly, 'r'),
        (c.no_evict, 'e'),
    ] {
        if on {
            flags.push(f);
        }
    }
    if flags.is_empty() {
        flags.push('N');
    }
    let (multi, multi_mem) = match &c.multi {
        Some(queue) => (
            i64::try_from(queue.len()).unwrap_or(i64::MAX),
            c.mem.multi_bytes,
        ),
        None => (-1, 0),
    };
    format!(
        "id={} addr={} laddr={} fd=-1 name={} age={} idle={} flags={} db={} sub={} psub={} ssub={} \
         multi={} qbuf={} qbuf-free={} argv-mem={} multi-mem={} rbs={} rbp={} obl={} oll={} \
         omem={} tot-mem={} events=r cmd={} user={} redir={} resp={}\n",
        c.id,
        c.addr,
        c.laddr,
        name,
        now.saturating_sub(c.created_ms).max(0) / 1000,
        now.saturating_sub(c.last_ms).max(0) / 1000,
        flags,
        c.db,
        c.subs.len(),
        c.psubs.len(),
        c.ssubs.len(),
        multi,
        qbuf,
        qbuf_free,
        argv_mem,
        multi_mem,
        rbs,
        rbp,
        obl,
        oll,
        omem,
        client_memory(c, running),
        c.last_cmd,
        String::from_utf8_lossy(&c.user),
        tracking.map_or(-1, |t| t.redirect.map_or(0, |r| i64::try_from(r).unwrap_or(i64::MAX))),
        c.proto
    )
}

/// `CLIENT REPLY ON|OFF|SKIP` → `+OK` for ON; OFF and SKIP send nothing, OFF until ON,
/// SKIP for the next command too.
fn client_reply(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    let client = ctx.client();
    if args::is(&argv[2], "on") {
        client.reply_mode = ReplyMode::On;
        Ok(Reply::ok())
    } else if args::is(&argv[2], "off") {
        client.reply_mode = ReplyMode::Off;
        Ok(Reply::ok())
    } else if args::is(&argv[2], "skip") {
        if client.reply_mode != ReplyMode::Off {
            client.reply_mode = ReplyMode::SkipThisAndNext;
        }
        Ok(Reply::ok())
    } else {
        Err(error::SYNTAX)
    }
}

/// `CLIENT GETREDIR` → integer: the REDIRECT target while tracking, 0 when tracking without
/// one, -1 when tracking is off.
fn client_getredir(ctx: &mut Ctx, _argv: &[Vec<u8>]) -> CmdResult {
    Ok(Reply::Integer(redirect_of(ctx.client())))
}

fn redirect_of(c: &Client) -> i64 {
    c.tracking.as_ref().map_or(-1, |t| {
        t.redirect
            .map_or(0, |r| i64::try_from(r).unwrap_or(i64::MAX))
    })
}

/// `CLIENT TRACKINGINFO` → map: `flags` (a set: `off`, or `on` and the options in force),
/// `redirect` (as CLIENT GETREDIR), `prefixes` (the BCAST prefixes).
fn client_trackinginfo(ctx: &mut Ctx, _argv: &[Vec<u8>]) -> CmdResult {
    let c = ctx.client();
    let mut flags = Vec::new();
    let mut prefixes = Vec::new();
    match &c.tracking {
        None => flags.push("off"),
        Some(t) => {
            flags.push("on");
            if t.bcast {
                flags.push("bcast");
                prefixes = t.prefixes.iter().map(Reply::bulk).collect();
            }
            if t.optin {
                flags.push("optin");
                if t.caching {
                    flags.push("caching-yes");
                }
            }
            if t.optout {
                flags.push("optout");
                if t.caching {
                    flags.push("caching-no");
                }
            }
            if t.noloop {
                flags.push("noloop");
            }
            if t.broken {
                flags.push("broken_redirect");
            }
        }
    }
    Ok(Reply::Map(vec![
        (
            Reply::bulk("flags"),
            Reply::Set(flags.into_iter().map(Reply::bulk).collect()),
        ),
        (Reply::bulk("redirect"), Reply::Integer(redirect_of(c))),
        (Reply::bulk("prefixes"), Reply::Array(prefixes)),
    ]))
}

/// Whether one prefix is a prefix of the other (so one key could match both).
fn overlap(a: &[u8], b: &[u8]) -> bool {
    a.starts_with(b) || b.starts_with(a)
}

fn overlap_error(p: &[u8], q: &[u8], existing: bool) -> Reply {
    Reply::Error(error::prefix_overlap(p, q, existing).0)
}

/// `CLIENT TRACKING ON|OFF [REDIRECT id] [PREFIX p ...] [BCAST] [OPTIN] [OPTOUT] [NOLOOP]` →
/// `+OK`. Options are read (and the REDIRECT target looked up) before ON or OFF is; ON checks
/// them against each other and against the tracking already on.
fn client_tracking(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    let mut t = Tracking::default();
    let mut j = 3;
    while j < argv.len() {
        let more = j + 1 < argv.len();
        let opt = &argv[j];
        if args::is(opt, "redirect") && more {
            j += 1;
            if t.redirect.is_some_and(|r| r != 0) {
                return Err(error::REDIRECT_TWICE);
            }
            let id = args::int(&argv[j])?;
            let target = u64::try_from(id)
                .ok()
                .filter(|id| ctx.eng.clients.contains_key(id));
            let Some(target) = target else {
                return Err(error::REDIRECT_MISSING);
            };
            t.redirect = Some(target);
        } else if args::is(opt, "bcast") {
            t.bcast = true;
        } else if args::is(opt, "optin") {
            t.optin = true;
        } else if args::is(opt, "optout") {
            t.optout = true;
        } else if args::is(opt, "noloop") {
            t.noloop = true;
        } else if args::is(opt, "prefix") && more {
            j += 1;
            t.prefixes.push(argv[j].clone());
        } else {
            return Err(error::SYNTAX);
        }
        j += 1;
    }
    let id = ctx.client;
    if args::is(&argv[2], "off") {
        ctx.eng.disable_tracking(id);
        return Ok(Reply::ok());
    }
    if !args::is(&argv[2], "on") {
        return Err(error::SYNTAX);
    }
    if !t.bcast && !t.prefixes.is_empty() {
        return Err(error::PREFIX_WITHOUT_BCAST);
    }
    let old = ctx.client().tracking.clone();
    if old.as_ref().is_some_and(|o| o.bcast != t.bcast) {
        return Err(error::BCAST_SWITCH);
    }
    if t.bcast && (t.optin || t.optout) {
        return Err(error::OPT_WITH_BCAST);
    }
    if t.optin && t.optout {
        return Err(error::OPTIN_AND_OPTOUT);
    }
    if old
        .as_ref()
        .is_some_and(|o| (t.optin && o.optout) || (t.optout && o.optin))
    {
        return Err(error::OPT_SWITCH);
    }
    let mut reply = Reply::ok();
    if t.bcast {
        let existing = old.map(|o| o.prefixes).unwrap_or_default();
        for (i, p) in t.prefixes.iter().enumerate() {
            if let Some(q) = existing.iter().find(|q| overlap(p, q)) {
                return Ok(overlap_error(p, q, true));
            }
            if let Some(q) = t.prefixes[i + 1..].iter().find(|q| overlap(p, q)) {
                // Redis 7.0 reports the clash, but only a clash of the first prefix stops it:
                // otherwise tracking is turned on anyway and +OK follows the error.
                let err = overlap_error(p, q, false);
                if i == 0 {
                    return Ok(err);
                }
                reply = Reply::Multi(vec![err, Reply::ok()]);
                break;
            }
        }
    }
    ctx.eng.enable_tracking(id, t);
    Ok(reply)
}

/// `CLIENT CACHING YES|NO` → `+OK`: in OPTIN mode YES tracks the keys of the next command; in
/// OPTOUT mode NO leaves them untracked.
fn client_caching(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    let c = ctx.client();
    let Some(t) = c.tracking.as_mut() else {
        return Err(error::CACHING_NOT_OPT);
    };
    if args::is(&argv[2], "yes") {
        if !t.optin {
            return Err(error::CACHING_YES_NOT_OPTIN);
        }
    } else if args::is(&argv[2], "no") {
        if !t.optout {
            return Err(error::CACHING_NO_NOT_OPTOUT);
        }
    } else {
        return Err(error::SYNTAX);
    }
    t.caching = true;
    Ok(Reply::ok())
}

/// `CLIENT PAUSE timeout [WRITE|ALL]` → `+OK`: for `timeout` ms, every client's commands (or
/// only those that may write, with WRITE) wait unanswered; monitors are never held.
fn client_pause(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    let all = match argv.get(3) {
        None => true,
        Some(m) if argv.len() == 4 && args::is(m, "all") => true,
        Some(m) if argv.len() == 4 && args::is(m, "write") => false,
        Some(_) if argv.len() == 4 => return Err(error::PAUSE_MODE),
        Some(_) => return Err(error::PAUSE_SYNTAX),
    };
    let timeout = crate::util::parse_i64(&argv[2]).ok_or(error::TIMEOUT_NOT_INTEGER)?;
    if timeout < 0 {
        return Err(error::TIMEOUT_NEGATIVE);
    }
    // Redis adds the timeout to the clock with C's wrapping arithmetic: a huge timeout ends
    // in the past, and 0 means "until the epoch".
    let end = if timeout > 0 {
        ctx.now.wrapping_add(timeout)
    } else {
        0
    };
    ctx.eng.pause_clients(all, end);
    Ok(Reply::ok())
}

/// `CLIENT UNPAUSE` → `+OK`; held commands run once this one is done.
fn client_unpause(ctx: &mut Ctx, _argv: &[Vec<u8>]) -> CmdResult {
    ctx.eng.unpause_clients();
    Ok(Reply::ok())
}

/// `MONITOR` → `+OK`, then a status line for every command any client runs; nothing when the
/// connection already monitors. Refused inside EXEC.
fn monitor(ctx: &mut Ctx, _argv: &[Vec<u8>]) -> CmdResult {
    if !ctx.can_block() {
        return Err(error::MONITOR_DENY_BLOCKING);
    }
    let id = ctx.client;
    let c = ctx.client();
    if c.monitor {
        return Ok(Reply::Multi(Vec::new()));
    }
    c.monitor = true;
    ctx.eng.monitors.push(id);
    Ok(Reply::ok())
}

/// `CLIENT NO-EVICT ON|OFF` → `+OK`; the setting shows as flag `e` in CLIENT LIST.
fn client_no_evict(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    let on = if args::is(&argv[2], "on") {
        true
    } else if args::is(&argv[2], "off") {
        false
    } else {
        return Err(error::SYNTAX);
    };
    ctx.client().no_evict = on;
    Ok(Reply::ok())
}

/// `CLIENT KILL ip:port` → `+OK`, or `CLIENT KILL <filter> <value> ...` → integer: clients
/// closed.
fn client_kill(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    let me = ctx.client;
    if argv.len() == 3 {
        let addr = String::from_utf8_lossy(&argv[2]);
        let target = ctx
            .eng
            .clients
            .values()
            .find(|c| c.addr == addr)
            .map(|c| c.id);
        let Some(id) = target else {
            return Err(error::NO_SUCH_CLIENT);
        };
        close(ctx, id);
        return Ok(Reply::ok());
    }
    if !argv.len().is_multiple_of(2) {
        return Err(error::SYNTAX);
    }
    let mut id: Option<u64> = None;
    let mut kind = None;
    let mut user: Option<&[u8]> = None;
    let mut addr: Option<&[u8]> = None;
    let mut laddr: Option<&[u8]> = None;
    let mut skipme = true;
    for pair in argv[2..].chunks(2) {
        let (opt, val) = (&pair[0], &pair[1]);
        if args::is(opt, "id") {
            let v = crate::util::parse_i64(val).filter(|v| *v > 0);
            id = Some(v.ok_or(error::CLIENT_ID_NOT_POSITIVE)? as u64);
        } else if args::is(opt, "type") {
            kind = Some(client_type(val)?);
        } else if args::is(opt, "addr") {
            addr = Some(val);
        } else if args::is(opt, "laddr") {
            laddr = Some(val);
        } else if args::is(opt, "user") {
            user = Some(val);
        } else if args::is(opt, "skipme") {
            skipme = if args::is(val, "yes") {
                true
            } else if args::is(val, "no") {
                false
            } else {
                return Err(error::SYNTAX);
            };
        } else {
            return Err(error::SYNTAX);
        }
    }
    if let Some(u) = user {
        if !ctx.eng.acl.users.contains_key(u) {
            return Err(error::no_such_user(u));
        }
    }
    let victims: Vec<ClientId> = ctx
        .eng
        .clients
        .values()
        .filter(|c| id.is_none_or(|i| c.id == i))
        .filter(|c| kind.is_none_or(|k| k == class_of(c)))
        .filter(|c| addr.is_none_or(|a| c.addr.as_bytes() == a))
        .filter(|c| laddr.is_none_or(|a| c.laddr.as_bytes() == a))
        .filter(|c| user.is_none_or(|u| c.user == u))
        .filter(|c| !(skipme && c.id == me))
        .map(|c| c.id)
        .collect();
    for v in &victims {
        close(ctx, *v);
    }
    Ok(Reply::int(victims.len()))
}

/// Disconnects a killed client: the caller after its reply (`closing`), any other one at once,
/// as Redis frees it before the next command runs. A host finds a removed client unknown to
/// [`crate::Engine::execute`] and drops its connection.
fn close(ctx: &mut Ctx, id: ClientId) {
    if id == ctx.client {
        ctx.client().closing = true;
    } else {
        ctx.eng.close_client(id);
    }
}

/// `CLIENT HELP` → array of help lines.
fn client_help(_ctx: &mut Ctx, _argv: &[Vec<u8>]) -> CmdResult {
    Ok(help_reply(
        "CLIENT",
        &[
            "CACHING (YES|NO)",
            "    Enable/disable tracking of the keys for next command in OPTIN/OPTOUT modes.",
            "GETREDIR",
            "    Return the client ID we are redirecting to when tracking is enabled.",
            "GETNAME",
            "    Return the name of the current connection.",
            "ID",
            "    Return the ID of the current connection.",
            "INFO",
            "    Return information about the current client connection.",
            "KILL <ip:port>",
            "    Kill connection made from <ip:port>.",
            "KILL <option> <value> [<option> <value> [...]]",
            "    Kill connections. Options are:",
            "    * ADDR (<ip:port>|<unixsocket>:0)",
            "      Kill connections made from the specified address",
            "    * LADDR (<ip:port>|<unixsocket>:0)",
            "      Kill connections made to specified local address",
            "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
            "      Kill connections by type.",
            "    * USER <username>",
            "      Kill connections authenticated by <username>.",
            "    * SKIPME (YES|NO)",
            "      Skip killing current connection (default: yes).",
            "LIST [options ...]",
            "    Return information about client connections. Options:",
            "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
            "      Return clients of specified type.",
            "UNPAUSE",
            "    Stop the current client pause, resuming traffic.",
            "PAUSE <timeout> [WRITE|ALL]",
            "    Suspend all, or just write, clients for <timeout> milliseconds.",
            "REPLY (ON|OFF|SKIP)",
            "    Control the replies sent to the current connection.",
            "SETNAME <name>",
            "    Assign the name <name> to the current connection.",
            "UNBLOCK <clientid> [TIMEOUT|ERROR]",
            "    Unblock the specified blocked client.",
            "TRACKING (ON|OFF) [REDIRECT <id>] [BCAST] [PREFIX <prefix> [...]]",
            "         [OPTIN] [OPTOUT] [NOLOOP]",
            "    Control server assisted client side caching.",
            "TRACKINGINFO",
            "    Report tracking status for the current connection.",
            "NO-EVICT (ON|OFF)",
            "    Protect current client connection from eviction.",
        ],
    ))
}

/// `CLIENT UNBLOCK client-id [TIMEOUT|ERROR]` → 1 when that client was blocked and is now
/// answered (with its timeout reply, or `-UNBLOCKED ...`), else 0.
fn client_unblock(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    if argv.len() > 4 {
        return Err(error::subcommand_syntax(b"unblock", "CLIENT"));
    }
    let as_error = match argv.get(3) {
        None => false,
        Some(r) if args::is(r, "timeout") => false,
        Some(r) if args::is(r, "error") => true,
        Some(_) => return Err(error::UNBLOCK_REASON),
    };
    // Redis reads the reason before the id.
    let id = args::int(&argv[2])?;
    let Ok(target) = u64::try_from(id) else {
        return Ok(Reply::Integer(0));
    };
    let error = as_error.then_some(Reply::Error(error::CLIENT_UNBLOCKED.0));
    let now = ctx.now;
    Ok(Reply::Integer(i64::from(
        ctx.eng.unblock(target, error, now),
    )))
}

#[cfg(test)]
mod tests {
    use crate::engine::{Engine, EngineOptions};
    use crate::protocol::Reply;

    fn run(eng: &mut Engine, client: u64, line: &str) -> Option<Reply> {
        let argv: Vec<Vec<u8>> = line.split(' ').map(|w| w.as_bytes().to_vec()).collect();
        eng.execute(client, &argv, 0)
    }

    #[test]
    fn client_reply_modes() {
        let mut eng = Engine::new(EngineOptions::default());
        let c = eng.open_client(0);
        assert_eq!(run(&mut eng, c, "CLIENT REPLY SKIP"), None);
        assert_eq!(run(&mut eng, c, "PING"), None);
        assert_eq!(run(&mut eng, c, "PING"), Some(Reply::status("PONG")));
        assert_eq!(run(&mut eng, c, "CLIENT REPLY OFF"), None);
        assert_eq!(run(&mut eng, c, "ECHO"), None);
        assert_eq!(run(&mut eng, c, "CLIENT REPLY SKIP"), None);
        assert_eq!(run(&mut eng, c, "PING"), None);
        assert_eq!(run(&mut eng, c, "CLIENT REPLY ON"), Some(Reply::ok()));
        assert_eq!(run(&mut eng, c, "PING"), Some(Reply::status("PONG")));
        assert!(run(&mut eng, c, "CLIENT REPLY maybe").is_some_and(|r| r.is_error()));
    }

    #[test]
    fn auth_gates_new_connections_while_a_password_is_set() {
        let mut eng = Engine::new(EngineOptions::default());
        let old = eng.open_client(0);
        run(&mut eng, old, "CONFIG SET requirepass pw");
        let new = eng.open_client(0);
        assert_eq!(run(&mut eng, old, "PING"), Some(Reply::status("PONG")));
        assert!(
            matches!(run(&mut eng, new, "PING"), Some(Reply::Error(e)) if e.starts_with("NOAUTH"))
        );
        assert!(run(&mut eng, new, "AUTH bad").is_some_and(|r| r.is_error()));
        assert_eq!(run(&mut eng, new, "AUTH pw"), Some(Reply::ok()));
        assert_eq!(run(&mut eng, new, "PING"), Some(Reply::status("PONG")));
    }
}
