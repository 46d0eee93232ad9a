//! MONITOR: every command the server runs, shown to the monitoring clients as one status line.

use super::{ClientId, Engine, ReplyMode};
use crate::commands::CommandSpec;
use crate::protocol::Reply;

/// Appends `arg` quoted the way Redis's sdscatrepr does, which is also how redis-cli quotes a
/// bulk string.
pub fn push_repr(out: &mut String, arg: &[u8]) {
    out.push_str(&crate::protocol::render::quote(arg));
}

/// Which arguments MONITOR hides as `(redacted)`: every argument of AUTH, and the user and
/// password after HELLO's AUTH and MIGRATE's AUTH / AUTH2.
fn redacted(argv: &[Vec<u8>]) -> Vec<bool> {
    let mut hide = vec![false; argv.len()];
    let is = |a: &[u8], w: &str| a.eq_ignore_ascii_case(w.as_bytes());
    let Some(name) = argv.first() else {
        return hide;
    };
    if is(name, "auth") {
        hide.iter_mut().skip(1).for_each(|h| *h = true);
    } else if is(name, "hello") {
        let mut i = 2;
        while i < argv.len() {
            if is(&argv[i], "auth") && i + 2 < argv.len() {
                hide[i + 1] = true;
                hide[i + 2] = true;
                i += 3;
            } else if is(&argv[i], "setname") {
                i += 2;
            } else {
                i += 1;
            }
        }
    } else if is(name, "migrate") {
        let mut i = 6;
        while i < argv.len() {
            if is(&argv[i], "auth") && i + 1 < argv.len() {
                hide[i + 1] = true;
                i += 2;
            } else if is(&argv[i], "auth2") && i + 2 < argv.len() {
                hide[i + 1] = true;
                hide[i + 2] = true;
                i += 3;
            } else if is(&argv[i], "keys") {
                break;
            } else {
                i += 1;
            }
        }
    }
    hide
}

/// The MONITOR line for a command: `<secs>.<micros> [<db> <addr>] "CMD" "arg" ...`.
pub fn line(now_ms: i64, db: usize, addr: &str, argv: &[Vec<u8>]) -> String {
    let mut out = format!(
        "{}.{:06} [{} {}]",
        now_ms.div_euclid(1000),
        now_ms.rem_euclid(1000) * 1000,
        db,
        addr
    );
    for (arg, hide) in argv.iter().zip(redacted(argv)) {
        out.push(' ');
        if hide {
            out.push_str("\"(redacted)\"");
        } else {
            push_repr(&mut out, arg);
        }
    }
    out
}

impl Engine {
    /// Shows a command `client` ran to every monitoring client, unless the command is one
    /// Redis keeps out of MONITOR (administrative ones, and scripts, whose inner commands are
    /// shown instead). The running client's own line follows its reply.
    pub(crate) fn feed_monitors(
        &mut self,
        client: ClientId,
        db: usize,
        spec: &CommandSpec,
        argv: &[Vec<u8>],
        now: i64,
    ) {
        if self.monitors.is_empty() {
            return;
        }
        let Some(addr) = self.clients.get(&client).map(|c| c.addr.clone()) else {
            return;
        };
        self.feed_monitors_as(&addr, client, db, spec, argv, now);
    }

    /// As [`Engine::feed_monitors`], with the client shown as `addr` (`lua` for a script's
    /// commands, as Redis shows its Lua client).
    pub(crate) fn feed_monitors_as(
        &mut self,
        addr: &str,
        client: ClientId,
        db: usize,
        spec: &CommandSpec,
        argv: &[Vec<u8>],
        now: i64,
    ) {
        if self.monitors.is_empty()
            || spec.has(crate::commands::ADMIN)
            || spec.has(crate::commands::SKIP_MONITOR)
        {
            return;
        }
        self.monitor_line(addr, client, db, argv, now);
    }

    /// Sends one MONITOR line about `argv` to every monitor; EVAL uses it before its script
    /// runs (it is flagged skip_monitor so that its line comes ahead of its script's).
    pub(crate) fn monitor_line(
        &mut self,
        addr: &str,
        client: ClientId,
        db: usize,
        argv: &[Vec<u8>],
        now: i64,
    ) {
        if self.monitors.is_empty() {
            return;
        }
        let text = line(now, db, addr, argv);
        for id in self.monitors.clone() {
            // MONITOR lines are ordinary replies, so CLIENT REPLY OFF (or a SKIP in effect)
            // silences them, unlike tracking pushes.
            let silenced = self
                .clients
                .get(&id)
                .is_some_and(|c| matches!(c.reply_mode, ReplyMode::Off | ReplyMode::SkipThis));
            if !silenced {
                self.send_to(id, Reply::Status(text.clone().into()), Some(client));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repr_escapes_like_redis() {
        let mut s = String::new();
        push_repr(&mut s, b"a b\x00\xff\"\\\r\n\t\x07\x08\xc3\xa9~");
        assert_eq!(s, r#""a b\x00\xff\"\\\r\n\t\a\b\xc3\xa9~""#);
    }

    #[test]
    fn line_format_and_redaction() {
        let argv: Vec<Vec<u8>> = ["HELLO", "3", "AUTH", "u", "p", "SETNAME", "n"]
            .iter()
            .map(|s| s.as_bytes().to_vec())
            .collect();
        assert_eq!(
            line(1_700_000_000_123, 2, "127.0.0.1:5", &argv),
            r#"1700000000.123000 [2 127.0.0.1:5] "HELLO" "3" "AUTH" "(redacted)" "(redacted)" "SETNAME" "n""#
        );
        let auth: Vec<Vec<u8>> = vec![b"auth".to_vec(), b"pw".to_vec()];
        assert_eq!(
            line(5, 0, "a", &auth),
            r#"0.005000 [0 a] "auth" "(redacted)""#
        );
    }
}
