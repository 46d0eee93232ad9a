//! CLIENT PAUSE: holding every command, or only those that may change data, until a time.

use super::{ClientId, Engine};
use crate::commands::Command;

/// A CLIENT PAUSE: until when, and whether it holds every command or only writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pause {
    /// Holds every command (ALL), not only those that may change data (WRITE).
    pub all: bool,
    /// When it ends, in ms.
    pub end: i64,
}

impl Engine {
    /// Whether the CLIENT PAUSE in force holds this command of `client`: every command under
    /// ALL; under WRITE, those that may change data or propagate (writes, PUBLISH, PFCOUNT,
    /// scripts), and EXEC of a transaction holding one.
    pub(super) fn pause_holds(&self, client: ClientId, cmd: &Command, argv: &[Vec<u8>]) -> bool {
        let Some(p) = self.pause else { return false };
        if p.all || self.may_replicate(cmd, argv) {
            return true;
        }
        if cmd.full_name != "exec" {
            return false;
        }
        self.clients
            .get(&client)
            .and_then(|c| c.multi.as_ref())
            .is_some_and(|q| q.iter().any(|(c, argv)| self.may_replicate(c, argv)))
    }

    /// Whether a command line may write or propagate, as CLIENT PAUSE WRITE judges it: by
    /// the command's flags, or for a script that declared flags, by whether it may write.
    fn may_replicate(&self, cmd: &Command, argv: &[Vec<u8>]) -> bool {
        match self.scripts.declared_flags(cmd.full_name, argv) {
            Some(flags) => !flags.no_writes,
            None => cmd.spec.may_replicate(),
        }
    }

    /// CLIENT PAUSE: holds commands (all, or writes only) until `end`; a pause in force is
    /// extended, never shortened or weakened. Keys do not expire while paused.
    pub fn pause_clients(&mut self, all: bool, end: i64) {
        let p = match self.pause {
            Some(p) => Pause {
                all: p.all || all,
                end: p.end.max(end),
            },
            None => Pause { all, end },
        };
        self.pause = Some(p);
        for db in &mut self.dbs {
            db.expiry_paused = true;
        }
    }

    /// CLIENT UNPAUSE: the pause ends once the running command is done.
    pub fn unpause_clients(&mut self) {
        if let Some(p) = self.pause.as_mut() {
            p.end = i64::MIN;
        }
    }

    /// Ends the pause when its time has come, and runs the commands it held, client by
    /// client in the order they were held.
    #[inline]
    pub(super) fn check_pause(&mut self, now: i64) {
        // Before and after every command: a test where it is made, the rest out of line.
        if self.pause.is_some_and(|p| p.end <= now) {
            self.end_pause(now);
        }
    }

    /// Ends the pause whose time has come (see [`Engine::check_pause`]).
    #[inline(never)]
    fn end_pause(&mut self, now: i64) {
        self.pause = None;
        // A replica keeps its expired keys until its primary deletes them.
        let replica = self.repl.link.is_some();
        for db in &mut self.dbs {
            db.expiry_paused = replica;
        }
        for id in std::mem::take(&mut self.paused) {
            if let Some(c) = self.clients.get_mut(&id) {
                c.paused = false;
            }
            self.run_pending(id, now);
        }
    }
}
