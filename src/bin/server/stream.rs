//! A client's connection and what it was accepted from: a TCP socket, or the Unix socket
//! `unixsocket` names, served alike by the event loop.

use std::io::{self, Read, Write};
use std::os::fd::{AsRawFd, RawFd};

use mio::event::Source;
use mio::net::{TcpListener, TcpStream, UnixListener, UnixStream};
use mio::{Interest, Registry, Token};

/// A client's connection.
pub enum Stream {
    Tcp(TcpStream),
    Unix(UnixStream),
}

impl Stream {
    pub fn shutdown(&self, how: std::net::Shutdown) -> io::Result<()> {
        match self {
            Stream::Tcp(s) => s.shutdown(how),
            Stream::Unix(s) => s.shutdown(how),
        }
    }
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Stream::Tcp(s) => s.read(buf),
            Stream::Unix(s) => s.read(buf),
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Stream::Tcp(s) => s.write(buf),
            Stream::Unix(s) => s.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Stream::Tcp(s) => s.flush(),
            Stream::Unix(s) => s.flush(),
        }
    }
}

impl Source for Stream {
    fn register(&mut self, r: &Registry, t: Token, i: Interest) -> io::Result<()> {
        match self {
            Stream::Tcp(s) => s.register(r, t, i),
            Stream::Unix(s) => s.register(r, t, i),
        }
    }

    fn reregister(&mut self, r: &Registry, t: Token, i: Interest) -> io::Result<()> {
        match self {
            Stream::Tcp(s) => s.reregister(r, t, i),
            Stream::Unix(s) => s.reregister(r, t, i),
        }
    }

    fn deregister(&mut self, r: &Registry) -> io::Result<()> {
        match self {
            Stream::Tcp(s) => s.deregister(r),
            Stream::Unix(s) => s.deregister(r),
        }
    }
}

/// A listening socket: a `bind` address, or the Unix socket at `path`.
pub enum Listener {
    Tcp(TcpListener),
    Unix {
        listener: UnixListener,
        path: String,
    },
}

/// A connection just accepted, with what CLIENT LIST and protected mode need of it.
pub struct Accepted {
    pub stream: Stream,
    /// The peer as CLIENT LIST shows it (`127.0.0.1:50312`; `/tmp/redis.sock:0`).
    pub addr: String,
    /// The local end (`127.0.0.1:6379`; the socket's path and `:0`).
    pub laddr: String,
    /// 127.0.0.1, ::1 or the Unix socket: protected mode lets it in.
    pub loopback: bool,
    pub unix: bool,
}

impl Listener {
    /// The next connection waiting, if any (WouldBlock when none).
    pub fn accept(&self) -> io::Result<Accepted> {
        match self {
            Listener::Tcp(l) => {
                let (stream, peer) = l.accept()?;
                let _ = stream.set_nodelay(true);
                let laddr = stream
                    .local_addr()
                    .map(|a| a.to_string())
                    .unwrap_or_default();
                let loopback = match peer.ip() {
                    std::net::IpAddr::V4(ip) => ip == std::net::Ipv4Addr::LOCALHOST,
                    std::net::IpAddr::V6(ip) => ip == std::net::Ipv6Addr::LOCALHOST,
                };
                Ok(Accepted {
                    stream: Stream::Tcp(stream),
                    addr: peer.to_string(),
                    laddr,
                    loopback,
                    unix: false,
                })
            }
            Listener::Unix { listener, path } => {
                let (stream, _) = listener.accept()?;
                let addr = format!("{path}:0");
                Ok(Accepted {
                    stream: Stream::Unix(stream),
                    laddr: addr.clone(),
                    addr,
                    loopback: true,
                    unix: true,
                })
            }
        }
    }

    pub fn is_unix(&self) -> bool {
        matches!(self, Listener::Unix { .. })
    }
}

impl AsRawFd for Listener {
    fn as_raw_fd(&self) -> RawFd {
        match self {
            Listener::Tcp(l) => l.as_raw_fd(),
            Listener::Unix { listener, .. } => listener.as_raw_fd(),
        }
    }
}

impl Source for Listener {
    fn register(&mut self, r: &Registry, t: Token, i: Interest) -> io::Result<()> {
        match self {
            Listener::Tcp(l) => l.register(r, t, i),
            Listener::Unix { listener, .. } => listener.register(r, t, i),
        }
    }

    fn reregister(&mut self, r: &Registry, t: Token, i: Interest) -> io::Result<()> {
        match self {
            Listener::Tcp(l) => l.reregister(r, t, i),
            Listener::Unix { listener, .. } => listener.reregister(r, t, i),
        }
    }

    fn deregister(&mut self, r: &Registry) -> io::Result<()> {
        match self {
            Listener::Tcp(l) => l.deregister(r),
            Listener::Unix { listener, .. } => listener.deregister(r),
        }
    }
}

/// Listens on the Unix socket at `path` as redis-server does: a file left there is removed
/// first, and `perm` (unixsocketperm, octal; 0 leaves the default) set on the new one.
pub fn unix_listener(path: &str, perm: u32) -> io::Result<std::os::unix::net::UnixListener> {
    let _ = std::fs::remove_file(path);
    let listener = std::os::unix::net::UnixListener::bind(path)?;
    if perm != 0 {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(perm))?;
    }
    listener.set_nonblocking(true)?;
    Ok(listener)
}
