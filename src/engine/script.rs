//! The commands a Lua script sends with `redis.call` / `redis.pcall`: the checks Redis's
//! `scriptCall` makes, then the one path, [`Engine::call`], as [`Via::Script`].

use super::call::Via;
use super::{ClientId, Engine};
use crate::commands::{MAY_REPLICATE, NOSCRIPT, STALE, WRITE};
use crate::protocol::resp::parse_reply;
use crate::protocol::Reply;

impl Engine {
    /// Runs `argv` for a script of `client` in database `db`; `resp` is the protocol the
    /// script reads replies in, `read_only` refuses writes (EVAL_RO, `no-writes`). Returns
    /// the reply as the script's protocol shapes it and the database after the command, or
    /// the text of the error that refused the command before it ran. `targets` are the
    /// script's `redis.set_repl` flags: where the command's own propagation goes.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn script_command(
        &mut self,
        client: ClientId,
        argv: &[Vec<u8>],
        db: usize,
        now: i64,
        resp: u8,
        read_only: bool,
        targets: u8,
    ) -> Result<(Reply, usize), String> {
        let cmd = match self.resolve(argv) {
            Ok(cmd) => cmd,
            Err(rejected) => {
                let text = match rejected.cmd {
                    Some(_) => "Wrong number of args calling Redis command from script",
                    None => "Unknown Redis command called from script",
                };
                return Err(self.script_refused(rejected.cmd, text));
            }
        };
        if cmd.spec.has(NOSCRIPT) && !self.script_disable_deny {
            return Err(
                self.script_refused(Some(cmd), "This Redis command is not allowed from script")
            );
        }
        if self.serves_no_stale_data() && !cmd.spec.has(STALE) {
            return Err(
                self.script_refused(Some(cmd), "Can not execute the command on a stale replica")
            );
        }
        if let Err(denied) = self.acl_check(client, cmd, argv) {
            self.acl_log_denied(client, cmd, argv, denied, "lua", now);
            return Err(self.script_refused(Some(cmd), crate::error::noperm_script(denied.0)));
        }
        if read_only && (cmd.spec.has(WRITE) || cmd.spec.has(MAY_REPLICATE)) {
            return Err(self.script_refused(
                Some(cmd),
                "Write commands are not allowed from read-only scripts.",
            ));
        }
        let wrote = self.scripts.running.as_ref().is_some_and(|r| r.wrote);
        if cmd.spec.has(WRITE) && !wrote {
            // A script that already wrote goes on; before that, its first write meets the
            // replication checks a client's write meets.
            if self.repl.link.is_some()
                && self.config.get_named("replica-read-only") == "yes"
                && !self.is_master_client(client)
            {
                let text = format!("-{}", crate::error::READONLY_REPLICA.text());
                return Err(self.script_refused(Some(cmd), &text));
            }
            if !self.enough_good_replicas(now) {
                let text = format!("-{}", crate::error::NOREPLICAS.text());
                return Err(self.script_refused(Some(cmd), &text));
            }
        }
        if self.script_oom(cmd) {
            return Err(self.script_refused(Some(cmd), &format!("-{}", crate::error::OOM.0)));
        }
        if cmd.spec.has(WRITE) {
            // From here on SCRIPT KILL refuses to stop the script (UNKILLABLE).
            if let Some(run) = self.scripts.running.as_mut() {
                run.wrote = true;
            }
        }
        if let Err(text) = self.cluster_check_script(client, cmd, argv, now) {
            return Err(self.script_refused(Some(cmd), text));
        }
        // The script's commands run as a client of the script's protocol.
        // (Its SELECT moves the script's database only, not the caller's.)
        let (proto, caller_db) = self
            .clients
            .get(&client)
            .map_or((2, db), |c| (c.proto, c.db));
        if let Some(c) = self.clients.get_mut(&client) {
            c.proto = resp;
        }
        self.propagation.script_targets = targets;
        let called = self.call(client, cmd, argv, db, now, Via::Script);
        if let Some(c) = self.clients.get_mut(&client) {
            c.proto = proto;
            c.db = caller_db;
        }
        // What the script reads is the reply as that protocol sends it.
        let bytes = called.reply.to_resp(resp);
        let reply = match parse_reply(&bytes) {
            Ok(Some((r, _))) => r,
            _ => called.reply,
        };
        Ok((reply, called.db))
    }

    /// Counts a command a script sent that was refused before it ran, as Redis does, and
    /// returns the error's text.
    fn script_refused(
        &mut self,
        cmd: Option<&'static crate::commands::Command>,
        text: &str,
    ) -> String {
        if let Some(cmd) = cmd {
            self.stats.of(cmd).rejected += 1;
        }
        match text.strip_prefix('-') {
            // An error with its own code (`-OOM ...`): counted under that code.
            Some(coded) => self.stats.count_error(coded),
            None => self.stats.count_error(&format!("ERR {}", text)),
        }
        // The refusal is this nested command's error, not the script's: a script that catches
        // it with redis.pcall and goes on has not failed (Redis moves its error mark here too).
        self.stats.error_mark = self.stats.error_replies;
        text.to_string()
    }
}
