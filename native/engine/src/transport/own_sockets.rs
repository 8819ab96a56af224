//! The engine's own sockets (to the server, to a proxy, for the name lookups of either) as
//! the OS side wants them. While the helper's firewall blocks everything outside the tunnel,
//! these are what must still get out: the helper says how to recognise them (Linux marks
//! them with SO_MARK, which the firewall accepts and the routing rules send to the main
//! table) and how names are looked up through such sockets.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;

use tokio::net::{TcpSocket, TcpStream, UdpSocket};

/// A socket as the OS knows it (a descriptor on Unix, a SOCKET on Windows).
#[cfg(unix)]
pub type RawSocket = std::os::fd::RawFd;
#[cfg(windows)]
pub type RawSocket = std::os::windows::io::RawSocket;

/// A name lookup in progress.
pub type Lookup<'a> = Pin<Box<dyn Future<Output = io::Result<Vec<SocketAddr>>> + Send + 'a>>;

pub trait OwnSockets: Send + Sync + 'static {
    /// Called on every socket the engine opens, before it sends anything.
    fn prepare(&self, socket: RawSocket) -> io::Result<()>;
    /// The addresses of `host` (with `port`), looked up through sockets `prepare` accepts.
    fn resolve<'a>(&'a self, host: &'a str, port: u16) -> Lookup<'a>;
}

/// Sockets as the OS makes them, names through the system resolver: for a setup with no
/// firewall of its own to get past (the engine's tests), and for OSes whose firewall
/// recognises the helper by other means (Windows WFP filters by application id).
pub struct SystemSockets;

impl OwnSockets for SystemSockets {
    fn prepare(&self, _socket: RawSocket) -> io::Result<()> {
        Ok(())
    }
    fn resolve<'a>(&'a self, host: &'a str, port: u16) -> Lookup<'a> {
        Box::pin(async move { Ok(tokio::net::lookup_host((host, port)).await?.collect()) })
    }
}

pub type Sockets = Arc<dyn OwnSockets>;

#[cfg(unix)]
fn raw_of(s: &impl std::os::fd::AsRawFd) -> RawSocket {
    s.as_raw_fd()
}
#[cfg(windows)]
fn raw_of(s: &impl std::os::windows::io::AsRawSocket) -> RawSocket {
    s.as_raw_socket()
}

/// A UDP socket bound to the wildcard address of `peer`'s family, prepared, connected.
pub async fn udp_to(sockets: &dyn OwnSockets, peer: SocketAddr) -> io::Result<UdpSocket> {
    let bind: SocketAddr = if peer.is_ipv4() {
        (std::net::Ipv4Addr::UNSPECIFIED, 0).into()
    } else {
        (std::net::Ipv6Addr::UNSPECIFIED, 0).into()
    };
    // Prepared before it is bound, so nothing leaves unprepared.
    let sock = socket2::Socket::new(
        socket2::Domain::for_address(peer),
        socket2::Type::DGRAM,
        Some(socket2::Protocol::UDP),
    )?;
    sockets.prepare(raw_of(&sock))?;
    sock.bind(&bind.into())?;
    sock.set_nonblocking(true)?;
    let sock = UdpSocket::from_std(std::net::UdpSocket::from(sock))?;
    sock.connect(peer).await?;
    Ok(sock)
}

/// A TCP connection to `peer` from a prepared socket.
pub async fn tcp_to(sockets: &dyn OwnSockets, peer: SocketAddr) -> io::Result<TcpStream> {
    let sock = if peer.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    sockets.prepare(raw_of(&sock))?;
    sock.connect(peer).await
}
