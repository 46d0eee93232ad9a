//! MIGRATE's way out of the engine: the host's connections to other servers.
//!
//! MIGRATE runs synchronously, as in Redis: while it writes the keys' RESTORE commands to the
//! target and reads the replies, nothing else runs. The engine does no I/O, so a host that can
//! reach other servers (the native server) installs a [`MigrateHost`]; without one, every
//! target is unreachable and MIGRATE answers as Redis does when it cannot connect. The host
//! keeps connections open between calls, by `host:port`, as Redis caches them (with the
//! database each one last SELECTed) and closes those idle for 10 seconds
//! ([`MigrateHost::close_idle`], from [`super::Engine::tick`]).

/// Why an exchange with the target failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IoFailure {
    /// The timeout passed (MIGRATE then does not retry).
    TimedOut,
    /// Any other failure (the connection was closed, reset ...).
    Broken,
}

/// One open connection to a target server.
pub trait MigrateConn {
    /// The database this connection last SELECTed successfully (-1: none known).
    fn last_dbid(&self) -> i64;
    /// Remembers the database SELECTed.
    fn set_last_dbid(&mut self, db: i64);
    /// Writes all of `bytes` within `timeout_ms`.
    fn write_all(&mut self, bytes: &[u8], timeout_ms: u64) -> Result<(), IoFailure>;
    /// Reads one reply line (without its line end) within `timeout_ms`.
    fn read_line(&mut self, timeout_ms: u64) -> Result<Vec<u8>, IoFailure>;
}

/// The host's connections to other servers.
pub trait MigrateHost {
    /// The cached connection to `host:port`, or a new one made within `timeout_ms`; None
    /// when it cannot connect.
    fn connect(
        &mut self,
        host: &[u8],
        port: &[u8],
        timeout_ms: u64,
    ) -> Option<&mut dyn MigrateConn>;
    /// Closes and forgets the connection to `host:port`.
    fn close(&mut self, host: &[u8], port: &[u8]);
    /// Closes the connections unused for 10 seconds.
    fn close_idle(&mut self, now_ms: i64);
    /// How many connections are open (INFO's migrate_cached_sockets).
    fn cached(&self) -> usize;
}
