//! MIGRATE's connections to other servers, for the native server: blocking sockets with the
//! command's timeout, as redis-server makes them (MIGRATE holds the server while it runs).
//! Connections are kept by `host:port` (at most 64; one dropped at random past that) and
//! closed after 10 seconds unused.

use std::collections::HashMap;
use std::io::{ErrorKind, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

use redis_playground::engine::migrate::{IoFailure, MigrateConn, MigrateHost};

const MAX_CACHED: usize = 64;
const IDLE: Duration = Duration::from_secs(10);

struct Cached {
    /// None for a connection the target refused: Redis's non-blocking connect reports it only
    /// when MIGRATE writes (so its error says "writing", not "connecting").
    stream: Option<TcpStream>,
    last_dbid: i64,
    last_use: Instant,
}

#[derive(Default)]
pub struct NativeMigrate {
    cached: HashMap<Vec<u8>, Cached>,
}

fn name(host: &[u8], port: &[u8]) -> Vec<u8> {
    [host, b":", port].concat()
}

/// The port as C's `atoi` reads it: leading digits (0 when there are none).
fn atoi(port: &[u8]) -> u16 {
    let s = String::from_utf8_lossy(port);
    let t = s.trim_start();
    let (sign, digits) = match t.as_bytes().first() {
        Some(b'-') => (-1i64, &t[1..]),
        Some(b'+') => (1, &t[1..]),
        _ => (1, t),
    };
    let n = digits
        .bytes()
        .take_while(u8::is_ascii_digit)
        .fold(0i64, |n, d| {
            n.saturating_mul(10).saturating_add(i64::from(d - b'0'))
        });
    u16::try_from(sign * n).unwrap_or(0)
}

fn failure(e: &std::io::Error) -> IoFailure {
    match e.kind() {
        ErrorKind::WouldBlock | ErrorKind::TimedOut => IoFailure::TimedOut,
        _ => IoFailure::Broken,
    }
}

fn timeout(ms: u64) -> Option<Duration> {
    Some(Duration::from_millis(ms.max(1)))
}

impl MigrateConn for Cached {
    fn last_dbid(&self) -> i64 {
        self.last_dbid
    }

    fn set_last_dbid(&mut self, db: i64) {
        self.last_dbid = db;
    }

    fn write_all(&mut self, bytes: &[u8], ms: u64) -> Result<(), IoFailure> {
        let stream = self.stream.as_mut().ok_or(IoFailure::Broken)?;
        stream
            .set_write_timeout(timeout(ms))
            .map_err(|e| failure(&e))?;
        stream.write_all(bytes).map_err(|e| failure(&e))
    }

    fn read_line(&mut self, ms: u64) -> Result<Vec<u8>, IoFailure> {
        // Byte by byte, as Redis's syncReadLine: nothing past the line is consumed.
        let stream = self.stream.as_mut().ok_or(IoFailure::Broken)?;
        stream
            .set_read_timeout(timeout(ms))
            .map_err(|e| failure(&e))?;
        let deadline = Instant::now() + Duration::from_millis(ms.max(1));
        let mut line = Vec::new();
        let mut byte = [0u8; 1];
        loop {
            match stream.read(&mut byte) {
                Ok(0) => return Err(IoFailure::Broken),
                Ok(_) if byte[0] == b'\n' => {
                    if line.last() == Some(&b'\r') {
                        line.pop();
                    }
                    return Ok(line);
                }
                Ok(_) => line.push(byte[0]),
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return Err(failure(&e)),
            }
            if Instant::now() > deadline {
                return Err(IoFailure::TimedOut);
            }
        }
    }
}

impl MigrateHost for NativeMigrate {
    fn connect(&mut self, host: &[u8], port: &[u8], ms: u64) -> Option<&mut dyn MigrateConn> {
        let key = name(host, port);
        if !self.cached.contains_key(&key) {
            if self.cached.len() >= MAX_CACHED {
                // Any one: HashMap's order is as good as Redis's random pick.
                let drop = self.cached.keys().next().cloned();
                if let Some(k) = drop {
                    self.cached.remove(&k);
                }
            }
            let host = String::from_utf8_lossy(host).into_owned();
            let addr = (host.as_str(), atoi(port)).to_socket_addrs().ok()?.next()?;
            let stream = match TcpStream::connect_timeout(&addr, Duration::from_millis(ms.max(1))) {
                Ok(stream) => {
                    let _ = stream.set_nodelay(true);
                    Some(stream)
                }
                Err(e) if e.kind() == ErrorKind::ConnectionRefused => None,
                Err(_) => return None,
            };
            self.cached.insert(
                key.clone(),
                Cached {
                    stream,
                    last_dbid: -1,
                    last_use: Instant::now(),
                },
            );
        }
        let c = self.cached.get_mut(&key)?;
        c.last_use = Instant::now();
        Some(c)
    }

    fn close(&mut self, host: &[u8], port: &[u8]) {
        self.cached.remove(&name(host, port));
    }

    fn close_idle(&mut self, _now_ms: i64) {
        self.cached.retain(|_, c| c.last_use.elapsed() <= IDLE);
    }

    fn cached(&self) -> usize {
        self.cached.len()
    }
}

#[cfg(test)]
mod tests {
    use super::atoi;

    #[test]
    fn ports_read_as_atoi_reads_them() {
        assert_eq!(atoi(b"6379"), 6379);
        assert_eq!(atoi(b" 80x"), 80);
        assert_eq!(atoi(b"x"), 0);
        assert_eq!(atoi(b"-1"), 0);
        assert_eq!(atoi(b"99999"), 0);
    }
}
