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
pub fn bind_one(addr: &str, port: u16) -> std::io::Result<TcpListener> {
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
    use socket2::{Domain, Socket, Type};
    let socket = Socket::new(Domain::IPV6, Type::STREAM, None)?;
    socket.set_only_v6(true)?;
    socket.set_reuse_address(true)?;
    socket.bind(&std::net::SocketAddr::V6(addr).into())?;
    socket.listen(511)?;
    Ok(socket.into())
}

/// Starts a non-blocking connection to `addr` from `source` when one is given (Redis's
/// `bind-source-addr`), best effort as redis-server's: a source address that cannot be bound
/// leaves the choice to the system.
pub fn connect_from(
    addr: std::net::SocketAddr,
    source: Option<std::net::IpAddr>,
) -> std::io::Result<std::net::TcpStream> {
    use socket2::{Domain, Socket, Type};
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, None)?;
    socket.set_nonblocking(true)?;
    if let Some(ip) = source.filter(|ip| ip.is_ipv4() == addr.is_ipv4()) {
        let _ = socket.bind(&std::net::SocketAddr::new(ip, 0).into());
    }
    match socket.connect(&addr.into()) {
        Ok(()) => {}
        Err(e) if e.raw_os_error() == Some(libc::EINPROGRESS) => {}
        Err(e) => return Err(e),
    }
    Ok(socket.into())
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
