//! The slow log: commands whose handler ran at least `slowlog-log-slower-than` microseconds,
//! newest first, at most `slowlog-max-len` of them (Redis's slowlog.c).
//!
//! The engine reads no clock: durations come from the monotonic microsecond clock the host
//! may install with [`Engine::set_clock_us`]. Without one every command takes 0 µs, so only
//! `slowlog-log-slower-than 0` logs anything.

use std::collections::VecDeque;

use super::{ClientId, Engine};
use crate::commands::{Command, SKIP_SLOWLOG};

/// A monotonic clock in microseconds, supplied by the host.
pub type ClockUs = fn() -> u64;

/// The host's clock as commands read it: at the start and at the end of each call. A host
/// that runs commands back to back (a batch) lets the next one start from the reading that
/// ended the previous one, saving a reading per command where reading the clock is dear (in
/// wasm, a call out to `performance.now()`).
#[derive(Default)]
pub(super) struct Timer {
    /// The host's clock.
    pub clock: Option<ClockUs>,
    /// The reading that ended the last call.
    last: u64,
    /// `last` was read by a call of the current (or just finished) command line: a command
    /// that never reached its call (refused, queued) has nothing a next one may start from.
    last_fresh: bool,
    /// A reading the next command starts from instead of reading the clock.
    carry: Option<u64>,
    /// The reading the command being run starts from, taken from `carry` when it began.
    start_at: Option<u64>,
}

/// Arguments kept per entry; the last kept one says how many more there were.
const MAX_ARGS: usize = 32;
/// Bytes kept per argument; the rest is summarised.
const MAX_ARG_BYTES: usize = 128;

/// One logged command.
#[derive(Clone, Debug)]
pub struct SlowEntry {
    /// Unique, increasing from 0 for the server's lifetime (SLOWLOG RESET keeps counting).
    pub id: u64,
    /// Unix time in seconds when it was logged.
    pub time_s: i64,
    /// Time the handler ran, in microseconds.
    pub duration_us: u64,
    /// The arguments, trimmed as Redis trims them.
    pub argv: Vec<Vec<u8>>,
    /// The client's address (`ip:port`).
    pub peer: String,
    /// The client's name (empty when it has none).
    pub name: Vec<u8>,
}

/// The slow log itself.
#[derive(Clone, Debug, Default)]
pub struct SlowLog {
    /// Newest first.
    pub entries: VecDeque<SlowEntry>,
    next_id: u64,
}

/// The arguments a slow log entry keeps: at most 32, the 32nd replaced by
/// `... (N more arguments)` when there were more; each at most 128 bytes followed by
/// `... (N more bytes)`.
pub fn trim_args(argv: &[Vec<u8>]) -> Vec<Vec<u8>> {
    let kept = argv.len().min(MAX_ARGS);
    let mut out = Vec::with_capacity(kept);
    for (j, a) in argv.iter().take(kept).enumerate() {
        if kept != argv.len() && j == kept - 1 {
            out.push(format!("... ({} more arguments)", argv.len() - kept + 1).into_bytes());
        } else if a.len() > MAX_ARG_BYTES {
            let mut s = a[..MAX_ARG_BYTES].to_vec();
            s.extend_from_slice(format!("... ({} more bytes)", a.len() - MAX_ARG_BYTES).as_bytes());
            out.push(s);
        } else {
            out.push(a.clone());
        }
    }
    out
}

/// What Redis logs in place of a secret argument.
const REDACTED: &[u8] = b"(redacted)";

/// Parameters whose values CONFIG SET keeps out of the logs.
const SENSITIVE_CONFIGS: &[&str] = &["masteruser", "masterauth", "requirepass"];

/// The positions of the arguments Redis redacts from the logs of `cmd` (passwords of AUTH,
/// HELLO, MIGRATE, sensitive CONFIG SET values, everything ACL SETUSER is given), as far as
/// its parsing gets before it stops at an error.
fn secret_positions(cmd: &str, argv: &[Vec<u8>]) -> Vec<usize> {
    let is = |a: &[u8], kw: &str| a.eq_ignore_ascii_case(kw.as_bytes());
    match cmd {
        "auth" if argv.len() <= 3 => (1..argv.len()).collect(),
        "hello" => {
            let proto = argv.get(1).and_then(|a| crate::util::parse_i64(a));
            if argv.len() < 2 || !matches!(proto, Some(2 | 3)) {
                return Vec::new();
            }
            let mut out = Vec::new();
            let mut j = 2;
            while j < argv.len() {
                let more = argv.len() - 1 - j;
                if is(&argv[j], "auth") && more >= 2 {
                    out.extend([j + 1, j + 2]);
                    j += 3;
                } else if is(&argv[j], "setname") && more >= 1 {
                    j += 2;
                } else {
                    break;
                }
            }
            out
        }
        "config|set" if argv.len().is_multiple_of(2) => (2..argv.len())
            .step_by(2)
            .filter(|&i| {
                crate::config::lookup(&argv[i]).is_some_and(|p| SENSITIVE_CONFIGS.contains(&p.name))
            })
            .map(|i| i + 1)
            .collect(),
        "acl|setuser" => (2..argv.len()).collect(),
        "migrate" => {
            let mut out = Vec::new();
            let mut j = 6;
            while j < argv.len() {
                let more = argv.len() - 1 - j;
                if is(&argv[j], "auth") && more >= 1 {
                    out.push(j + 1);
                    j += 2;
                } else if is(&argv[j], "auth2") && more >= 2 {
                    out.extend([j + 1, j + 2]);
                    j += 3;
                } else if is(&argv[j], "keys") {
                    break;
                } else {
                    j += 1;
                }
            }
            out
        }
        _ => Vec::new(),
    }
}

/// `argv` as the logs show it, secrets replaced by `(redacted)`.
pub fn redact(cmd: &str, argv: &[Vec<u8>]) -> Vec<Vec<u8>> {
    let mut out = argv.to_vec();
    for i in secret_positions(cmd, argv) {
        if let Some(a) = out.get_mut(i) {
            *a = REDACTED.to_vec();
        }
    }
    out
}

impl Engine {
    /// Installs (or removes) the host's monotonic microsecond clock, which times commands
    /// for SLOWLOG, LATENCY and INFO.
    pub fn set_clock_us(&mut self, clock: Option<ClockUs>) {
        self.timer.clock = clock;
        let expire_clock = self.expire_clock();
        for db in &mut self.dbs {
            db.expire_clock = expire_clock;
        }
    }

    /// The clock the databases time each expiry with: only while the latency monitor is on
    /// (`latency-monitor-threshold` above 0), as Redis measures only then.
    pub(crate) fn expire_clock(&self) -> Option<ClockUs> {
        self.timer
            .clock
            .filter(|_| self.config.latency_monitor_threshold() > 0)
    }

    /// The host's monotonic microsecond clock, if it gave one (scripts measure their budget).
    pub(crate) fn clock(&self) -> Option<ClockUs> {
        self.timer.clock
    }

    /// The host's monotonic clock in microseconds; 0 without one.
    pub(super) fn now_us(&self) -> u64 {
        self.timer.clock.map_or(0, |f| f())
    }

    /// The host runs the next command right after the last one ended, with nothing worth
    /// timing in between: that command's time starts at the reading that ended the last one.
    pub fn next_command_follows(&mut self) {
        self.timer.carry = self.timer.last_fresh.then_some(self.timer.last);
    }

    /// The host read its clock (`reading_us`, the installed clock's scale) just before it
    /// runs the next command line: that command's time starts there instead of at a reading
    /// of its own (a host whose clock costs a call into JS saves one per command).
    pub fn next_command_starts_at(&mut self, reading_us: u64) {
        self.timer.carry = Some(reading_us);
    }

    /// A command line begins: it may start from the reading the host carried over to it (and
    /// only it: a carried reading never reaches a later command line).
    pub(super) fn begin_timing(&mut self) {
        self.timer.start_at = self.timer.carry.take();
        self.timer.last_fresh = false;
    }

    /// A command line ended: a carried reading its call did not take (it never ran) is not
    /// left for a call that runs later (a blocked client served by the cron).
    pub(super) fn end_timing(&mut self) {
        self.timer.start_at = None;
    }

    /// The reading a call starts from.
    pub(super) fn call_started_us(&mut self) -> u64 {
        match self.timer.start_at.take() {
            Some(t) => t,
            None => self.now_us(),
        }
    }

    /// The reading a call ends at, kept for [`Engine::next_command_follows`].
    pub(super) fn call_ended_us(&mut self) -> u64 {
        let t = self.now_us();
        self.timer.last = t;
        self.timer.last_fresh = true;
        t
    }

    /// Logs a command that ran `duration_us` if the slow log wants it, as Redis does after
    /// each call: commands flagged `skip_slowlog` (AUTH, EXEC ...) never are.
    #[inline]
    pub(super) fn slowlog_consider(
        &mut self,
        client: ClientId,
        cmd: &Command,
        argv: &[Vec<u8>],
        duration_us: u64,
        now_ms: i64,
    ) {
        // After every command: the threshold is compared where it is asked, the rest is out
        // of line.
        let threshold = self.config.slowlog_log_slower_than();
        if threshold < 0 || duration_us < threshold.unsigned_abs() || cmd.spec.has(SKIP_SLOWLOG) {
            return;
        }
        self.slowlog_add(client, cmd, argv, duration_us, now_ms);
    }

    /// Adds a slow log entry for a call [`Engine::slowlog_consider`] found slow.
    #[inline(never)]
    fn slowlog_add(
        &mut self,
        client: ClientId,
        cmd: &Command,
        argv: &[Vec<u8>],
        duration_us: u64,
        now_ms: i64,
    ) {
        let (peer, name) = match self.clients.get(&client) {
            Some(c) => (c.addr.clone(), c.name.clone().unwrap_or_default()),
            None => (String::new(), Vec::new()),
        };
        let id = self.slowlog.next_id;
        self.slowlog.next_id += 1;
        self.slowlog.entries.push_front(SlowEntry {
            id,
            time_s: now_ms.div_euclid(1000),
            duration_us,
            argv: trim_args(&redact(cmd.full_name, argv)),
            peer,
            name,
        });
        self.slowlog_trim();
    }

    /// Drops the oldest entries beyond `slowlog-max-len`.
    pub fn slowlog_trim(&mut self) {
        let max = usize::try_from(self.config.int_param("slowlog-max-len")).unwrap_or(0);
        self.slowlog.entries.truncate(max);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::Reply;
    use crate::testkit::{engine, run};
    use std::sync::atomic::{AtomicU64, Ordering};

    /// A fake clock that advances 500 µs each time it is read, so a command lasts 500 µs.
    fn ticking() -> u64 {
        static T: AtomicU64 = AtomicU64::new(0);
        T.fetch_add(500, Ordering::Relaxed)
    }

    #[test]
    fn logs_commands_slower_than_the_threshold() {
        let (mut eng, c) = engine();
        eng.set_clock_us(Some(ticking));
        run(&mut eng, c, "CONFIG SET slowlog-log-slower-than 600");
        run(&mut eng, c, "SET a 1");
        assert_eq!(run(&mut eng, c, "SLOWLOG LEN"), Reply::Integer(0));
        run(&mut eng, c, "CONFIG SET slowlog-log-slower-than 500");
        run(&mut eng, c, "SET a 1");
        let Reply::Array(entries) = run(&mut eng, c, "SLOWLOG GET") else {
            panic!("an array");
        };
        // CONFIG SET (which ran under the new threshold), then SET.
        assert_eq!(entries.len(), 2);
        let Reply::Array(newest) = &entries[0] else {
            panic!("an entry");
        };
        assert_eq!(newest[2], Reply::Integer(500));
        assert_eq!(newest[3], Reply::bulks(["SET", "a", "1"]));
    }

    thread_local! {
        static SET_CLOCK: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
    }

    /// A clock that reads what the test set.
    fn set_clock() -> u64 {
        SET_CLOCK.with(|t| t.get())
    }

    #[test]
    fn a_command_that_never_ran_carries_no_reading() {
        let (mut eng, c) = engine();
        eng.set_clock_us(Some(set_clock));
        run(&mut eng, c, "CONFIG SET slowlog-log-slower-than 1000");
        run(&mut eng, c, "SET a 1");
        // Long after, a batch: a refused command, then one the host says follows it.
        SET_CLOCK.with(|t| t.set(5_000_000));
        let argv = |s: &str| -> Vec<Vec<u8>> { s.split(' ').map(|w| w.into()).collect() };
        eng.execute(c, &argv("NOSUCHCOMMAND x"), 0);
        eng.next_command_follows();
        eng.execute(c, &argv("GET a"), 0);
        // GET took no time: it started from a reading of its own, not from SET's end.
        assert_eq!(run(&mut eng, c, "SLOWLOG LEN"), Reply::Integer(0));
        // After a command that ran, the next one does start where it ended.
        eng.execute(c, &argv("GET a"), 0);
        SET_CLOCK.with(|t| t.set(5_002_000));
        eng.next_command_follows();
        eng.execute(c, &argv("GET a"), 0);
        assert_eq!(run(&mut eng, c, "SLOWLOG LEN"), Reply::Integer(1));
    }

    #[test]
    fn redacts_secrets() {
        let v = |s: &str| {
            s.split(' ')
                .map(|w| w.as_bytes().to_vec())
                .collect::<Vec<_>>()
        };
        assert_eq!(
            redact("auth", &v("AUTH u p")),
            v("AUTH (redacted) (redacted)")
        );
        assert_eq!(redact("auth", &v("AUTH u p x")), v("AUTH u p x"));
        assert_eq!(
            redact("hello", &v("HELLO 3 SETNAME n AUTH u p")),
            v("HELLO 3 SETNAME n AUTH (redacted) (redacted)")
        );
        assert_eq!(
            redact("config|set", &v("CONFIG SET maxmemory 1 requirepass x")),
            v("CONFIG SET maxmemory 1 requirepass (redacted)")
        );
    }

    #[test]
    fn trims_arguments_as_redis() {
        let argv: Vec<Vec<u8>> = (0..40).map(|i| i.to_string().into_bytes()).collect();
        let t = trim_args(&argv);
        assert_eq!(t.len(), 32);
        assert_eq!(t[30], b"30");
        assert_eq!(t[31], b"... (9 more arguments)");
        let long = vec![vec![b'a'; 130]];
        let t = trim_args(&long);
        assert_eq!(t[0].len(), 128 + "... (2 more bytes)".len());
        assert!(t[0].ends_with(b"a... (2 more bytes)"));
    }
}
