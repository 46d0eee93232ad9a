//! Binding the listening sockets as `bind` and `port` say, for CONFIG SET of either while
//! the server runs (the event loop swaps them in, see `event_loop::rebind`).

use std::net::TcpListener;

/// The addresses of a `bind` value (`127.0.0.1 -::1`): each with whether it is optional (a
/// leading `-`: it may be missing on this machine), `*` and `::*` meaning every address.
pub fn parse_binds(text: &str) -> Vec<(String, bool)> {
    text.split_whitespace()
        .map(|word| {
            let (addr, optional) = match word.strip_prefix('-') {
                Some(a) => (a, true),
                None => (word, false),
            };
            let addr = match addr {
                "*" => "0.0.0.0",
                "::*" => "::",
                other => other,
            };
            (addr.to_string(), optional)
        })
        .collect()
}

/// Binds every address on `port`, as redis-server's listenToPort: an optional address that
/// is not on this machine, or an address family the system lacks, is skipped with a
/// warning; any other failure closes what was bound and fails.
pub fn bind_all(binds: &[(String, bool)], port: u16) -> Result<Vec<TcpListener>, String> {
    let mut bound = Vec::new();
    for (addr, optional) in binds {
        match bind_one(addr, port) {
            Ok(l) => bound.push(l),
            Err(e) => {
                super::log::warning(&format!(
                    "Warning: Could not create server TCP listening socket {addr}:{port}: bind: {}",
                    super::conf::os_reason(&e)
                ));
                let code = e.raw_os_error().unwrap_or(0);
                let skip = (code == libc::EADDRNOTAVAIL && *optional)
                    || [
                        libc::ENOPROTOOPT,
                        libc::EPROTONOSUPPORT,
                        libc::ESOCKTNOSUPPORT,
                        libc::EPFNOSUPPORT,
                        libc::EAFNOSUPPORT,
                    ]
                    .contains(&code);
                if !skip {
                    return Err(super::conf::os_reason(&e));
                }
            }
        }
    }
    Ok(bound)
}

/// Binds one address. An IPv6 socket takes IPv6 only (as redis-server's do), so `::` and
/// `0.0.0.0` can share a port.
fn bind_one(addr: &str, port: u16) -> std::io::Result<TcpListener> {
    use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
    let target: SocketAddr = match addr.parse::<IpAddr>() {
        Ok(ip) => SocketAddr::new(ip, port),
        Err(_) => (addr, port)
            .to_socket_addrs()?
            .next()
            .ok_or_else(|| std::io::Error::from(std::io::ErrorKind::AddrNotAvailable))?,
    };
    let SocketAddr::V6(v6) = target else {
        return TcpListener::bind(target);
    };
    v6_only_listener(v6)
}

/// A listening IPv6 socket with IPV6_V6ONLY and SO_REUSEADDR set before it binds.
fn v6_only_listener(addr: std::net::SocketAddrV6) -> std::io::Result<TcpListener> {
    use std::os::fd::FromRawFd;
    let last_error = std::io::Error::last_os_error;
    // SAFETY: plain socket calls on a descriptor created here; the address structure is
    // fully initialised before it is passed with its size. On any failure the descriptor is
    // closed before returning; on success it is handed to the TcpListener, which owns it.
    unsafe {
        let fd = libc::socket(libc::AF_INET6, libc::SOCK_STREAM | libc::SOCK_CLOEXEC, 0);
        if fd < 0 {
            return Err(last_error());
        }
        let one: libc::c_int = 1;
        let opt = |level, name| {
            libc::setsockopt(
                fd,
                level,
                name,
                std::ptr::addr_of!(one).cast(),
                std::mem::size_of::<libc::c_int>() as libc::socklen_t,
            )
        };
        let mut sa: libc::sockaddr_in6 = std::mem::zeroed();
        sa.sin6_family = libc::AF_INET6 as libc::sa_family_t;
        sa.sin6_port = addr.port().to_be();
        sa.sin6_addr.s6_addr = addr.ip().octets();
        sa.sin6_scope_id = addr.scope_id();
        let failed = opt(libc::IPPROTO_IPV6, libc::IPV6_V6ONLY) < 0
            || opt(libc::SOL_SOCKET, libc::SO_REUSEADDR) < 0
            || libc::bind(
                fd,
                std::ptr::addr_of!(sa).cast(),
                std::mem::size_of::<libc::sockaddr_in6>() as libc::socklen_t,
            ) < 0
            || libc::listen(fd, 511) < 0;
        if failed {
            let e = last_error();
            libc::close(fd);
            return Err(e);
        }
        Ok(TcpListener::from_raw_fd(fd))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bind_words() {
        assert_eq!(
            parse_binds("* -::*"),
            vec![("0.0.0.0".to_string(), false), ("::".to_string(), true)]
        );
        assert!(parse_binds("").is_empty());
    }

    #[test]
    fn a_taken_port_fails() {
        let taken = TcpListener::bind(("127.0.0.1", 0)).unwrap();
        let port = taken.local_addr().unwrap().port();
        assert!(bind_all(&[("127.0.0.1".into(), false)], port).is_err());
        // A missing optional address is skipped.
        let free = bind_all(
            &[("127.0.0.1".into(), false), ("192.0.2.1".into(), true)],
            0,
        );
        assert_eq!(free.map(|v| v.len()).ok(), Some(1));
    }
}
