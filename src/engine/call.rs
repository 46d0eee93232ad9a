//! The path of a command: [`Engine::execute`] takes what a client sent (held while the client
//! is blocked or paused, checked, queued inside MULTI, answered as CLIENT REPLY allows), and
//! [`Engine::call`] runs a resolved command, whoever asks — a client, EXEC, or the serving of
//! a blocked client — and then counts it (INFO commandstats, errorstats), shows it to MONITOR
//! and remembers the keys a tracking client read, as Redis's `call()` does. A feature that
//! needs to see every command hooks in here, never in a second copy of dispatch.

use super::blocking::Block;
use super::{Client, ClientId, Ctx, Engine, ReplyMode};
use crate::commands::{self, Command, FAST, NO_AUTH, NO_MULTI, PROTECTED, READONLY, STALE, WRITE};
use crate::error::{self, CmdError};
use crate::protocol::Reply;
use crate::types::acl::Denied;
use hashbrown::HashSet;

/// Who runs a command through [`Engine::call`] (Redis's call flags).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Via {
    /// The client sent it.
    Client,
    /// EXEC runs it from the client's queue: blocking commands answer at once.
    Exec,
    /// The client waits in it and `key` changed: the command runs again to serve it. It was
    /// counted when it blocked, so only the outcome is counted now.
    Served(Vec<u8>),
    /// A Lua script runs it (`redis.call`): blocking commands answer at once, and MONITOR
    /// shows it as coming from the `lua` client.
    Script,
    /// An EVAL or FCALL whose script was suspended between slices (the page) runs on: its
    /// script is resumed instead of the handler running again.
    Slice,
}

/// What one call produced.
pub(crate) struct Called {
    /// The reply (ignored when the command blocked).
    pub reply: Reply,
    /// Set when the command blocks the client. Boxed, as in [`Ctx`]: every call returns
    /// this struct, and a small one is copied with a few loads and stores where a large one
    /// takes a `memcpy` (in wasm a `memory.copy`, about 10 ns in V8).
    pub block: Option<Box<Block>>,
    /// The client's database after the command (SELECT changes it).
    pub db: usize,
    /// Its script was suspended between slices: nothing is counted or replied yet.
    pub suspended: bool,
    /// Where in the client's outbox the reply belongs (see [`Ctx::reply_point`]).
    pub reply_at: Option<usize>,
}

/// A command refused before it ran: the error, and the command when it was known (its
/// `rejected_calls` count it).
#[derive(Debug)]
pub struct Rejected {
    /// The known command, if any.
    pub cmd: Option<&'static Command>,
    /// Redis's error.
    pub error: CmdError,
}

impl From<CmdError> for Rejected {
    fn from(error: CmdError) -> Self {
        Rejected { cmd: None, error }
    }
}

/// What the checks before a command need of the client that sent it.
struct Caller {
    /// It is inside MULTI.
    in_multi: bool,
    /// It is a MONITOR.
    monitor: bool,
    /// It has authenticated.
    authenticated: bool,
    /// Its protocol (2 or 3).
    proto: u8,
    /// It holds a subscription (channels, patterns or shard channels).
    subscribed: bool,
    /// It replays an append-only file.
    replaying: bool,
    /// Its commands need no ACL check (see `Acl::exempts`).
    acl_exempt: bool,
}

/// Commands a RESP2 client may send while it holds subscriptions.
const SUBSCRIBED_MODE: &[&str] = &[
    "subscribe",
    "ssubscribe",
    "unsubscribe",
    "sunsubscribe",
    "psubscribe",
    "punsubscribe",
    "ping",
    "quit",
    "reset",
];

/// Commands that run at once inside MULTI instead of being queued.
const TX_CONTROL: &[&str] = &["exec", "discard", "multi", "watch", "quit", "reset"];

impl Engine {
    /// Runs one command line for `client` at time `now_ms`. Returns None when there is nothing
    /// to reply (an empty command line, an unknown client, replies turned off by CLIENT REPLY,
    /// a client that is blocked or held by a pause), or when the reply went into the client's
    /// outbox ahead of keyspace events it published after replying (see [`Ctx::reply_point`]).
    pub fn execute(&mut self, client: ClientId, argv: &[Vec<u8>], now_ms: i64) -> Option<Reply> {
        self.begin_timing();
        let reply = self.execute_timed(client, argv, now_ms);
        self.end_timing();
        reply
    }

    /// [`Engine::execute`] once the command line's timing has begun.
    fn execute_timed(&mut self, client: ClientId, argv: &[Vec<u8>], now_ms: i64) -> Option<Reply> {
        if argv.is_empty() {
            return None;
        }
        if self.current.is_none() {
            // Not inside another command (CLIENT UNBLOCK runs the commands a client queued).
            self.propagation_top_level();
        }
        self.check_pause(now_ms);
        if self.pause.is_some() {
            // Databases replaced while paused must not expire keys either.
            for db in &mut self.dbs {
                db.expiry_paused = true;
            }
        }
        // The databases' event logging follows the configuration from the end of the last
        // command (`after_command`), and from whatever changed it since (CONFIG SET, a new
        // clock, replaced databases): nothing to bring in line here.
        let blocked = self.blocked.contains_key(&client)
            || self
                .scripts
                .slice
                .as_ref()
                .is_some_and(|s| s.client == client);
        let c = self.clients.get_mut(&client)?;
        if blocked || c.paused {
            // Like Redis, a blocked or paused client's further commands wait until it runs again.
            c.pending.push_back(argv.to_vec());
            return None;
        }
        // A SKIP from the previous command applies to this one, and to this one only.
        if c.reply_mode == ReplyMode::SkipThisAndNext {
            c.reply_mode = ReplyMode::SkipThis;
        }
        // What the checks need of the client, looked up once with the rest: none of them
        // changes it.
        let caller = Caller {
            in_multi: c.multi.is_some(),
            monitor: c.monitor,
            authenticated: c.authenticated,
            proto: c.proto,
            subscribed: c.subscribed(),
            replaying: c.replaying,
            acl_exempt: self.acl.exempts(c),
        };
        let (db, in_multi, monitor) = (c.db, caller.in_multi, caller.monitor);
        // What the checks send this client (invalidations and events of keys evicted for
        // memory) and what the command publishes to it come ahead of the reply.
        let before_check = c.outbox.len();
        let prev = self.current.replace(client);
        let checked = self.check(client, argv, &caller, now_ms);
        let mut reply_at = None;
        let mut woff = None;
        let reply = match checked {
            Ok(cmd) if !monitor && self.pause_holds(client, cmd, argv) => {
                // CLIENT PAUSE: the command waits, unanswered, for the pause to end.
                self.current = prev;
                self.paused.push(client);
                if let Some(c) = self.clients.get_mut(&client) {
                    // CLIENT LIST already shows the held command as the client's last one.
                    c.last_ms = now_ms;
                    c.last_cmd = cmd.full_name;
                    c.paused = true;
                    // At the front: when the pause that just ended left this command in the
                    // queue and a new pause holds it again, it stays ahead of the later ones.
                    c.pending.push_front(argv.to_vec());
                }
                return None;
            }
            Ok(cmd) if in_multi && !TX_CONTROL.contains(&cmd.full_name) => {
                if let Some(c) = self.clients.get_mut(&client) {
                    if let Some(queue) = c.multi.as_mut() {
                        queue.push((cmd, argv.to_vec()));
                        c.mem.multi_bytes += argv.iter().map(Vec::len).sum::<usize>();
                    }
                }
                Reply::status("QUEUED")
            }
            Ok(cmd) => {
                if let Some(c) = self.clients.get_mut(&client) {
                    c.last_ms = now_ms;
                    c.last_cmd = cmd.full_name;
                }
                let called = self.call(client, cmd, argv, db, now_ms, Via::Client);
                if called.suspended {
                    // Its reply comes with the slice its script ends in.
                    self.current = prev;
                    return None;
                }
                // The offset the command's writes reach (WAIT waits for it), set below with
                // the rest of what the command leaves in its client.
                woff = Some(self.repl.offset);
                if let Some(block) = called.block {
                    if let Some(c) = self.clients.get_mut(&client) {
                        c.woff = self.repl.offset;
                    }
                    self.block_client(client, cmd, called.db, argv, *block);
                    self.current = prev;
                    self.after_command(now_ms);
                    return None;
                }
                reply_at = called.reply_at;
                called.reply
            }
            Err(rejected) => self.reject(client, argv, rejected),
        };
        self.tracking_own(client);
        self.after_command(now_ms);
        self.current = prev;
        // The client is looked up once for all that the command leaves in it.
        let c = self.clients.get_mut(&client)?;
        if let Some(offset) = woff {
            c.woff = offset;
        }
        // ASKING covers the next command only (a whole transaction inside MULTI).
        if c.multi.is_none() && !argv[0].eq_ignore_ascii_case(b"asking") {
            c.cluster_asking = false;
        }
        // What the command changed of the client (subscriptions, WATCH, MULTI) counts now.
        super::client_mem::refresh_memory_of(c, &mut self.client_mem);
        deliver_reply(c, &mut self.mail, argv, reply, reply_at, Some(before_check))
    }

    /// Runs the script suspended between slices (see `scripting::Scripts::sliced`) for one
    /// more slice. When it ends, its client gets the reply in its outbox, as a blocked
    /// client does, and the commands it sent meanwhile run. Returns whether a script is
    /// still suspended.
    pub fn run_script_slice(&mut self, now_ms: i64) -> bool {
        let Some(s) = self.scripts.slice.take() else {
            return false;
        };
        self.begin_timing();
        let prev = self.current.replace(s.client);
        let called = self.call(s.client, s.cmd, &s.argv, s.db, now_ms, Via::Slice);
        if called.suspended {
            self.current = prev;
            return true;
        }
        let offset = self.repl.offset;
        if let Some(c) = self.clients.get_mut(&s.client) {
            c.woff = offset;
        }
        self.tracking_own(s.client);
        self.after_command(now_ms);
        self.current = prev;
        if let Some(c) = self.clients.get_mut(&s.client) {
            let reply = called.reply;
            if let Some(reply) =
                deliver_reply(c, &mut self.mail, &s.argv, reply, called.reply_at, None)
            {
                c.outbox.push(reply);
                self.mail.insert(s.client);
            }
        }
        self.run_pending(s.client, now_ms);
        self.scripts.slice.is_some()
    }

    /// Whether a script is suspended between slices, waiting for
    /// [`Engine::run_script_slice`]; and for which client.
    pub fn script_slice_client(&self) -> Option<ClientId> {
        self.scripts.slice.as_ref().map(|s| s.client)
    }

    /// Resolves a command line and applies the checks Redis makes before running it: the
    /// client's authentication, commands MULTI refuses, the user's ACL permissions (a denial
    /// is logged), RESP2 subscribed mode, MONITOR.
    fn check(
        &mut self,
        client: ClientId,
        argv: &[Vec<u8>],
        caller: &Caller,
        now: i64,
    ) -> Result<&'static Command, Rejected> {
        let cmd = self.resolve_again(argv)?;
        let &Caller {
            in_multi,
            monitor,
            authenticated,
            proto,
            subscribed,
            replaying,
            acl_exempt,
        } = caller;
        // Redis's loader runs what an append-only file holds without the checks below: each
        // command passed them when it first ran, and a log replayed on a read-only replica,
        // under min-replicas-to-write, maxmemory, a narrower ACL or another cluster layout
        // must come back whole.
        if replaying {
            return Ok(cmd);
        }
        let refuse = |error| -> Result<&'static Command, Rejected> {
            Err(Rejected {
                cmd: Some(cmd),
                error,
            })
        };
        if cmd.spec.has(PROTECTED) {
            if cmd.full_name == "debug" {
                if !self.debug_allowed(client) {
                    return refuse(error::DEBUG_NOT_ALLOWED);
                }
            } else {
                // enable-module-command is `no` and cannot change while the server runs.
                return refuse(error::MODULE_NOT_ALLOWED);
            }
        }
        // As `auth_required`, with the client's flag already at hand.
        if !authenticated && !self.acl.default_opens() && !cmd.spec.has(NO_AUTH) {
            return refuse(error::NOAUTH);
        }
        if in_multi && cmd.spec.has(NO_MULTI) {
            return refuse(error::NOT_IN_MULTI);
        }
        let permitted = if acl_exempt {
            Ok(())
        } else {
            self.acl_check(client, cmd, argv)
        };
        if let Err(denied) = permitted {
            let context = if in_multi { "multi" } else { "toplevel" };
            self.acl_log_denied(client, cmd, argv, denied, context, now);
            return refuse(match denied.0 {
                Denied::Command => error::noperm_command(cmd.full_name),
                Denied::Key => error::NOPERM_KEY,
                Denied::Channel => error::NOPERM_CHANNEL,
            });
        }
        // Only a cluster node routes (and reads the slot): elsewhere the slot stays None, and
        // the client is not looked up again for it.
        if self.cluster.is_some() {
            match self.cluster_route(client, cmd, argv, now) {
                // A cluster node redirects before anything else checks the command.
                Err(e) => return refuse(e),
                Ok(slot) => {
                    if let Some(c) = self.clients.get_mut(&client) {
                        c.cluster_slot = slot;
                    }
                }
            }
        }
        if let Err(e) = self.check_maxmemory(client, cmd, argv, in_multi, now) {
            return refuse(e);
        }
        // Like Redis, the tracking table is brought within tracking-table-max-keys before every
        // command (a queued one too); what that tells this client comes ahead of its reply.
        self.tracking_limit();
        // A script that declared its flags (a shebang, a function) writes unless `no-writes`.
        let script_writes = self
            .scripts
            .declared_flags(cmd.full_name, argv)
            .is_some_and(|f| !f.compat && !f.no_writes);
        let writes = cmd.spec.has(WRITE)
            || script_writes
            || (cmd.full_name == "exec"
                && self.clients.get(&client).is_some_and(|c| {
                    c.multi
                        .as_ref()
                        .is_some_and(|q| q.iter().any(|(c, _)| c.spec.has(WRITE)))
                }));
        if writes && !self.enough_good_replicas(now) {
            return refuse(error::NOREPLICAS);
        }
        if writes
            && self.repl.link.is_some()
            && self.config.get_named("replica-read-only") == "yes"
            && !self.is_master_client(client)
        {
            return refuse(error::READONLY_REPLICA);
        }
        if proto == 2 && subscribed && !SUBSCRIBED_MODE.contains(&cmd.full_name) {
            return refuse(error::subscribed_context(cmd.full_name));
        }
        if monitor && (cmd.spec.may_replicate() || cmd.spec.has(READONLY)) {
            // A monitor is a replica to Redis, and replicas may not use the keyspace.
            return refuse(error::MONITOR_KEYSPACE);
        }
        if self.serves_no_stale_data() {
            // A script that declared its flags runs on a stale replica only with `allow-stale`;
            // EXEC only when every queued command may.
            let stale_ok = match self.scripts.declared_flags(cmd.full_name, argv) {
                Some(f) if !f.compat => f.allow_stale,
                _ => cmd.spec.has(STALE),
            };
            let queued_deny = cmd.full_name == "exec"
                && self.clients.get(&client).is_some_and(|c| {
                    c.multi
                        .as_ref()
                        .is_some_and(|q| q.iter().any(|(c, _)| !c.spec.has(STALE)))
                });
            if !stale_ok || queued_deny {
                return refuse(error::MASTERDOWN);
            }
        }
        if self
            .loading
            .as_ref()
            .is_some_and(|l| l.client != Some(client))
            && !cmd.spec.has(crate::commands::LOADING)
        {
            // The data is loading: only commands marked for it run meanwhile (INFO, CONFIG,
            // DEBUG ...), ahead of the BUSY check as in Redis's processCommand.
            return refuse(error::LOADING);
        }
        if let Some(eval) = self.scripts.busy() {
            // A script runs past busy-reply-threshold: only the few commands that can end
            // it, or that a pipelined transaction needs, run meanwhile.
            if !cmd.spec.has(crate::commands::ALLOW_BUSY) {
                return refuse(if eval {
                    error::BUSY_EVAL
                } else {
                    error::BUSY_FUNCTION
                });
            }
        }
        Ok(cmd)
    }

    /// Whether `enable-debug-command` lets this client run DEBUG: `yes`, or `local` for a
    /// client connected from the loopback address.
    fn debug_allowed(&self, client: ClientId) -> bool {
        self.protected_action_allowed("enable-debug-command", client)
    }

    /// Whether a protected action (`setting`: enable-debug-command, enable-module-command,
    /// enable-protected-configs) is allowed to this client: `yes`, or `local` for a client
    /// connected from the loopback address (Redis's allowProtectedAction).
    pub(crate) fn protected_action_allowed(&self, setting: &str, client: ClientId) -> bool {
        match self.config.get_named(setting) {
            "yes" => true,
            "local" => self.clients.get(&client).is_some_and(|c| {
                c.addr.starts_with("127.")
                    || c.addr.starts_with("[::1]")
                    || c.addr.starts_with("::1")
            }),
            _ => false,
        }
    }

    /// The reply to a command refused before it ran, counted as Redis counts it: the error,
    /// and `rejected_calls` of the command when it is known. A refusal inside MULTI makes
    /// EXEC fail; a refused EXEC discards the transaction with EXECABORT.
    fn reject(&mut self, client: ClientId, argv: &[Vec<u8>], rejected: Rejected) -> Reply {
        if let Some(cmd) = rejected.cmd {
            self.stats.of(cmd).rejected += 1;
        }
        let is_exec = argv[0].eq_ignore_ascii_case(b"exec");
        let reply = if is_exec {
            if let Some(c) = self.clients.get_mut(&client) {
                c.multi = None;
                c.multi_error = false;
            }
            self.unwatch_all(client);
            if error::is_cluster_redirection(&rejected.error) {
                // Redis discards the transaction and sends the redirection as it is.
                error_reply(rejected.error)
            } else {
                Reply::Error(error::exec_abort(&rejected.error).0)
            }
        } else {
            if let Some(c) = self.clients.get_mut(&client).filter(|c| c.multi.is_some()) {
                c.multi_error = true;
            }
            error_reply(rejected.error)
        };
        count_errors(&mut self.stats, &reply);
        reply
    }

    /// Runs a resolved command: the handler, then what Redis's `call()` does after it —
    /// total_commands_processed, the command's calls and failed_calls, errorstats, MONITOR and
    /// the keys a tracking client read. A command that blocks counts as called when it
    /// blocks; when it is served later only a failure is counted.
    pub(crate) fn call(
        &mut self,
        client: ClientId,
        cmd: &'static Command,
        argv: &[Vec<u8>],
        db: usize,
        now: i64,
        via: Via,
    ) -> Called {
        // Like Redis, a call failed when any error reply was sent while it ran (its own, or
        // one it sent another client, as CLIENT UNBLOCK ERROR does), except the errors of the
        // calls nested in it (EXEC's commands count their own).
        self.stats.error_mark = self.stats.error_replies;
        let mut ctx = Ctx {
            eng: self,
            client,
            db,
            now,
            block: None,
            no_block: matches!(via, Via::Exec | Via::Script),
            reply_at: None,
            ready_key: None,
            propagate_as: None,
            no_propagate: false,
            force_propagate: false,
            from_script: matches!(via, Via::Script),
        };
        if let Via::Served(key) = &via {
            ctx.ready_key = Some(key.clone());
        }
        let dirty_before = ctx.eng.dirty;
        ctx.eng.propagation.depth += 1;
        let started = ctx.eng.call_started_us();
        let reply = if matches!(via, Via::Slice) {
            crate::scripting::resume(&mut ctx)
        } else {
            (cmd.spec.handler)(&mut ctx, argv)
        }
        .unwrap_or_else(error_reply);
        ctx.eng.propagation.depth -= 1;
        if std::mem::take(&mut ctx.eng.scripts.yielded) {
            // The script goes on later (`run_script_slice`): what it wrote is propagated,
            // and the command counted, once it has ended.
            let db = ctx.db;
            self.scripts.slice = Some(crate::scripting::SliceCall {
                client,
                cmd,
                argv: argv.to_vec(),
                db,
            });
            return Called {
                reply,
                block: None,
                db,
                reply_at: None,
                suspended: true,
            };
        }
        // `ctx` taken apart: what the handler left in it is used or dropped field by field,
        // with no call to drop the whole.
        let Ctx {
            db,
            block,
            reply_at,
            ready_key,
            propagate_as,
            no_propagate,
            force_propagate,
            ..
        } = ctx;
        drop(ready_key);
        let propagate_self = !no_propagate
            // A save lowers the counter: only an increase is a change (as Redis's call()).
            && (force_propagate || self.dirty > dirty_before)
            && cmd.full_name != "exec";
        let called = Called {
            reply,
            block,
            db,
            reply_at,
            suspended: false,
        };
        if self.propagation.recording() {
            self.propagate_new_expiries();
            if propagate_self && called.block.is_none() {
                let argv = propagate_as.unwrap_or_else(|| argv.to_vec());
                // A script's command goes where its `redis.set_repl` flags say (what a
                // handler adds with `Ctx::also_propagate` goes everywhere, as in Redis).
                let targets = if matches!(via, Via::Script) {
                    self.propagation.script_targets
                } else {
                    super::propagate::TO_ALL
                };
                self.also_propagate_to(called.db, argv, targets);
            }
            if self.propagation.depth == 0 && self.scripts.slice.is_none() {
                // Commands that may expire any key (SCAN, RANDOMKEY) are never a transaction.
                let arbitrary = matches!(cmd.full_name, "scan" | "randomkey");
                self.flush_propagation(!arbitrary);
            }
        }
        let duration = self.call_ended_us().saturating_sub(started);
        if let Via::Served(_) = via {
            // Counted by the server when the reply is sent (see `serve_ready`).
            if called.block.is_none() && !called.reply.is_error() {
                // Redis logs a blocking command when it is served, not when it blocks.
                self.slowlog_consider(client, cmd, argv, duration, now);
                self.track_latency(cmd, duration);
                self.stats.of(cmd).usec += duration;
            }
            return called;
        }
        let event = if cmd.spec.has(FAST) {
            "fast-command"
        } else {
            "command"
        };
        if duration >= 1000 {
            // Below a millisecond no threshold is reached (and in wasm the 64-bit division
            // is a call).
            self.latency_sample(event, duration / 1000, now);
        }
        if called.block.is_none() {
            self.slowlog_consider(client, cmd, argv, duration, now);
            self.track_latency(cmd, duration);
        }
        self.stats.commands += 1;
        let stat = self.stats.of(cmd);
        stat.calls += 1;
        stat.usec += duration;
        self.note_peak_memory();
        // A script's error that a command inside it already counted fails the script's
        // call without being counted again.
        let uncounted = std::mem::take(&mut self.stats.uncounted_error);
        if called.block.is_none() && !uncounted {
            count_errors(&mut self.stats, &called.reply);
        }
        if self.stats.error_replies > self.stats.error_mark
            || (uncounted && called.reply.is_error())
        {
            self.stats.of(cmd).failed += 1;
        }
        self.stats.error_mark = self.stats.error_replies;
        // A read remembers keys for a tracking client; a script's read remembers the keys its
        // EVAL or FCALL declared (a script that reads nothing tracks nothing). The _RO
        // script commands are readonly but track only through their scripts' reads.
        if called.block.is_none()
            && cmd.spec.has(READONLY)
            && !matches!(cmd.full_name, "eval_ro" | "evalsha_ro" | "fcall_ro")
            && self
                .clients
                .get(&client)
                .is_some_and(|c| c.tracking.is_some())
        {
            if matches!(via, Via::Script) {
                let caller = self.scripts.running.as_ref().map(|r| r.argv.clone());
                if let Some(caller) = caller {
                    if let Ok(caller_cmd) = self.resolve(&caller) {
                        self.tracking_remember(client, caller_cmd.spec, &caller);
                    }
                }
            } else {
                self.tracking_remember(client, cmd.spec, argv);
            }
        }
        if matches!(via, Via::Script) {
            self.feed_monitors_as("lua", client, called.db, cmd.spec, argv, now);
        } else {
            self.feed_monitors(client, called.db, cmd.spec, argv, now);
        }
        called
    }

    /// Adds a call's duration to its command's histogram when `latency-tracking` is on.
    fn track_latency(&mut self, cmd: &Command, duration_us: u64) {
        if self.config.latency_tracking() {
            super::latency::record(&mut self.stats.of(cmd).latency, duration_us);
        }
    }

    /// Counts the outcome of serving a blocked client: an error reply fails its command.
    pub(crate) fn count_served(&mut self, cmd: &Command, reply: &Reply) {
        if count_errors(&mut self.stats, reply) {
            self.stats.of(cmd).failed += 1;
        }
    }

    /// Work after every command: pending `new`/`expired` events are published, keys removed
    /// by expiry count as modified for WATCH, and clients blocked on keys that changed are
    /// served.
    pub(super) fn after_command(&mut self, now: i64) {
        // A command that slept ends later than it started: blocked clients are served at the
        // time it ended, as Redis serves them on the real clock (a key may have expired).
        let slept_us = std::mem::take(&mut self.slept_us);
        // Divided only when it slept: in wasm a 64-bit division is a call.
        let now = if slept_us == 0 {
            now
        } else {
            now.saturating_add(i64::try_from(slept_us / 1000).unwrap_or(i64::MAX))
        };
        if self.scripts.running.is_some() {
            // A command served while a script runs (see `scripting::BusyHandler`): what
            // the script changed is looked at once it has returned.
            return;
        }
        if self.propagation.recording() && self.propagation.depth == 0 {
            // Keys expired outside any command's call are deletions of their own.
            self.propagate_new_expiries();
            self.flush_propagation(false);
        }
        if self.notifications_on() {
            self.flush_db_events();
        }
        // Looking at every database's log after every command costs more than most
        // commands: only when some key was logged since the last look.
        let logged = crate::db::expiry_log_count();
        let any_logged = logged != self.expiry_log_seen;
        self.expiry_log_seen = logged;
        let mut slowest_us = 0;
        for db in 0..if any_logged { self.dbs.len() } else { 0 } {
            slowest_us = slowest_us.max(std::mem::take(&mut self.dbs[db].slowest_expire_us));
            if self.dbs[db].expired_log.is_empty() {
                continue;
            }
            let keys = std::mem::take(&mut self.dbs[db].expired_log);
            self.expiry_log_drained(db);
            for k in keys {
                self.signal_modified(db, &k);
            }
        }
        if any_logged {
            // The longest removal of an expired key, lazy or active (Redis's `expire-del`).
            self.latency_sample("expire-del", slowest_us / 1000, now);
        }
        // Keys the command expired lazily invalidate its own client's cache after its reply.
        if let Some(client) = self.current {
            if !self.tracking.own.is_empty() {
                self.tracking_own(client);
            }
        }
        self.serve_ready(now);
        let current = self.current;
        self.tracking_broadcast(current);
        self.check_pause(now);
        if self.notifications_on() {
            self.flush_db_events();
        }
        self.sync_event_tracking();
    }
}

/// Hands a command's reply for client `c` to the host as its reply mode allows: in its place in
/// the outbox when the command published events it had replied before, followed by what
/// must come after it (the client's own MONITOR line and tracking invalidations).
#[inline]
fn deliver_reply(
    c: &mut Client,
    mail: &mut HashSet<ClientId>,
    argv: &[Vec<u8>],
    reply: Reply,
    reply_at: Option<usize>,
    own_from: Option<usize>,
) -> Option<Reply> {
    // CLIENT CACHING covers the next command only (a whole transaction when in MULTI).
    if c.multi.is_none() && !argv[0].eq_ignore_ascii_case(b"client") {
        if let Some(t) = c.tracking.as_mut() {
            t.caching = false;
        }
    }
    let reply = match c.reply_mode {
        // The command replied before publishing what now follows in its own outbox: the
        // reply takes its place there, ahead of those pushes.
        ReplyMode::On => match reply_at.filter(|&at| at < c.outbox.len()) {
            Some(at) => {
                c.outbox.insert(at, reply);
                mail.insert(c.id);
                None
            }
            // Otherwise what the checks and the command sent this client (messages it
            // published to itself, its own keyspace events) comes ahead of the reply, as
            // Redis writes them into the client's output while the command runs: they
            // leave the outbox for the reply's own parts, so every host sends them first.
            None => match own_from.filter(|&at| at < c.outbox.len()) {
                Some(at) => {
                    let mut parts: Vec<Reply> = c.outbox.drain(at..).collect();
                    match reply {
                        Reply::Multi(v) => parts.extend(v),
                        r => parts.push(r),
                    }
                    Some(Reply::Multi(parts))
                }
                None => Some(reply),
            },
        },
        ReplyMode::Off | ReplyMode::SkipThisAndNext => None,
        ReplyMode::SkipThis => {
            c.reply_mode = ReplyMode::On;
            None
        }
    };
    if c.after_reply.is_empty() {
        return reply;
    }
    let after = std::mem::take(&mut c.after_reply);
    let mut parts = match reply {
        Some(Reply::Multi(v)) => v,
        Some(r) => vec![r],
        None => Vec::new(),
    };
    parts.extend(after);
    Some(Reply::Multi(parts))
}

/// Counts the error replies among `reply` (one, or several for a reply in parts, as CLIENT
/// TRACKING can send) in total_error_replies and errorstats; returns whether there was one.
fn count_errors(stats: &mut super::Stats, reply: &Reply) -> bool {
    match reply {
        Reply::Error(t) => {
            stats.count_error(t);
            true
        }
        Reply::Multi(parts) => {
            let mut any = false;
            for p in parts {
                if let Reply::Error(t) = p {
                    stats.count_error(t);
                    any = true;
                }
            }
            any
        }
        _ => false,
    }
}

/// An error as a reply.
pub fn error_reply(e: CmdError) -> Reply {
    Reply::Error(e.0)
}

/// Finds the command (or subcommand) `argv` names and checks its arity, with Redis's errors.
/// (A server's `rename-command` names go through [`Engine::resolve`].)
pub fn resolve(argv: &[Vec<u8>]) -> Result<&'static Command, Rejected> {
    resolve_found(commands::find(&argv[0]), argv)
}

/// [`resolve`] once the command `argv[0]` names is looked up (None: no such command).
#[inline]
fn resolve_found(
    found: Option<&'static Command>,
    argv: &[Vec<u8>],
) -> Result<&'static Command, Rejected> {
    let Some(cmd) = found else {
        return Err(error::unknown_command(argv).into());
    };
    let cmd = if cmd.spec.subcommands.is_empty() || argv.len() == 1 {
        // A container named alone runs itself when its arity allows (COMMAND does).
        cmd
    } else {
        match cmd.sub(&argv[1]) {
            Some(sub) => sub,
            None => return Err(error::unknown_subcommand(&argv[1], cmd.full_name).into()),
        }
    };
    if !cmd.spec.arity_ok(argv.len()) {
        return Err(Rejected {
            cmd: Some(cmd),
            error: error::wrong_arity(cmd.full_name),
        });
    }
    Ok(cmd)
}

/// A server's `rename-command` directives: each renamed command under its new lowercase name
/// ("" for none). A renamed command answers to its new name only, and one renamed to "" to
/// none; it keeps its own name everywhere else (COMMAND, ACL, stats), as in Redis.
#[derive(Clone, Debug, Default)]
pub struct Renames(Vec<(Vec<u8>, &'static Command)>);

impl Renames {
    /// Adds `rename-command <name> <new name>`, refused with redis-server's reasons.
    pub fn add(&mut self, name: &[u8], new_name: &[u8]) -> Result<(), &'static str> {
        const NO_SUCH: &str = "No such command in rename-command";
        let cmd = self.find(name).ok_or(NO_SUCH)?;
        let new_name = new_name.to_ascii_lowercase();
        if !new_name.is_empty() && self.find(&new_name).is_some() {
            return Err("Target command name already exists");
        }
        // A command renamed twice answers to the last name only.
        self.0.retain(|(_, c)| !std::ptr::eq(*c, cmd));
        self.0.push((new_name, cmd));
        Ok(())
    }

    /// The command `name` names under these renames.
    pub fn find(&self, name: &[u8]) -> Option<&'static Command> {
        if self.0.is_empty() {
            return commands::find(name);
        }
        let name = name.to_ascii_lowercase();
        if let Some((_, cmd)) = self.0.iter().find(|(n, _)| !n.is_empty() && *n == name) {
            return Some(cmd);
        }
        commands::find(&name).filter(|cmd| !self.0.iter().any(|(_, c)| std::ptr::eq(*c, *cmd)))
    }

    /// Whether `spec` was renamed to "" (Redis then drops it from its command table: COMMAND,
    /// COMMAND COUNT and COMMAND LIST leave it out).
    pub fn removed(&self, spec: &commands::CommandSpec) -> bool {
        self.0
            .iter()
            .any(|(n, c)| n.is_empty() && std::ptr::eq(c.spec, spec))
    }

    /// [`resolve`] under these renames.
    pub fn resolve(&self, argv: &[Vec<u8>]) -> Result<&'static Command, Rejected> {
        if self.0.is_empty() {
            return resolve(argv);
        }
        resolve_found(self.find(&argv[0]), argv)
    }
}

impl Engine {
    /// [`resolve`] under this server's `rename-command` directives (see [`Renames`]).
    pub fn resolve(&self, argv: &[Vec<u8>]) -> Result<&'static Command, Rejected> {
        self.renames.resolve(argv)
    }

    /// [`Engine::resolve`] for a client's command line: a name spelled as the one before
    /// it (a pipeline, or clients sending the same command) is not looked up again.
    fn resolve_again(&mut self, argv: &[Vec<u8>]) -> Result<&'static Command, Rejected> {
        if !self.renames.0.is_empty() {
            return self.resolve(argv);
        }
        let found = match self.last_name.get(&argv[0]) {
            Some(cmd) => Some(cmd),
            None => {
                let found = commands::find(&argv[0]);
                if let Some(cmd) = found {
                    self.last_name.set(&argv[0], cmd);
                }
                found
            }
        };
        resolve_found(found, argv)
    }
}

/// The last command name [`Engine::resolve_again`] looked up, byte for byte as sent (short
/// names only), with the table entry it named.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct LastName {
    len: usize,
    name: [u8; LastName::MAX],
    cmd: Option<&'static Command>,
}

impl LastName {
    const MAX: usize = 24;

    fn get(&self, name: &[u8]) -> Option<&'static Command> {
        (name.len() == self.len && name == &self.name[..self.len])
            .then_some(self.cmd)
            .flatten()
    }

    fn set(&mut self, name: &[u8], cmd: &'static Command) {
        if name.len() <= Self::MAX {
            self.name[..name.len()].copy_from_slice(name);
            self.len = name.len();
            self.cmd = Some(cmd);
        }
    }
}
