//! Lines for the server's log. The engine has no log file of its own: it queues what Redis
//! would log at the moment it happens (a replication link that fails its AUTH, say), and the
//! host writes the lines where its `logfile` says, dropping what `loglevel` leaves out.

use super::Engine;

/// A log line's level, as `loglevel` names them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum LogLevel {
    Debug,
    Verbose,
    Notice,
    Warning,
}

/// Lines kept for a host that does not collect them; older ones are dropped first.
const KEPT: usize = 1024;

impl Engine {
    /// Queues a line for the server's log.
    pub(crate) fn server_log(&mut self, level: LogLevel, line: String) {
        if self.logs.len() >= KEPT {
            self.logs.remove(0);
        }
        self.logs.push((level, line));
    }

    /// The lines queued since the last call, oldest first.
    pub fn take_logs(&mut self) -> Vec<(LogLevel, String)> {
        std::mem::take(&mut self.logs)
    }
}
