//! Link transports for the driver: a connected UDP socket (one OpenVPN packet per datagram,
//! moved in batches, directly or through a SOCKS5 UDP relay) or a TCP stream with u16 length
//! framing (wire-protocol §1.1), directly or through a proxy. Both hand
//! out received packets in place and queue outgoing ones until `flush`, so one syscall moves
//! many packets.

pub(crate) mod coalescing;
mod own_sockets;
mod proxy;
mod tcp;
mod udp;
#[cfg(target_os = "linux")]
mod udp_linux;

use crate::config::{Proto, ProxySettings};
use std::io;
use std::net::SocketAddr;

pub use own_sockets::{
    tcp_to as own_tcp, udp_to as own_udp, Lookup, OwnSockets, RawSocket, Sockets, SystemSockets,
};
pub use proxy::is_credentials_refusal;
pub use proxy::socks_udp::udp_header_len as socks_udp_header_len;
pub use proxy::{
    http::parse_connect_response, socks::parse_reply as parse_socks_reply,
    socks_udp::parse_udp_header as parse_socks_udp_header,
};
pub use tcp::{Deframer, TcpLink};
pub use udp::UdpLink;

/// Largest OpenVPN packet we accept (u16 framing bound on TCP).
pub const MAX_PACKET: usize = 65535;

pub enum Link {
    Udp(UdpLink),
    Tcp(TcpLink),
}

impl Link {
    pub async fn connect(
        addr: SocketAddr,
        proto: Proto,
        proxy: Option<&ProxySettings>,
        timeout: std::time::Duration,
        sockets: &dyn OwnSockets,
    ) -> io::Result<Self> {
        match proto {
            Proto::Udp => {
                let association = match proxy {
                    Some(p) => Some(
                        tokio::time::timeout(timeout, proxy::associate_udp(p, sockets))
                            .await
                            .map_err(|_| {
                                io::Error::new(
                                    io::ErrorKind::TimedOut,
                                    "the SOCKS proxy did not answer UDP ASSOCIATE in time",
                                )
                            })??,
                    ),
                    None => None,
                };
                // The datagrams go to the relay when there is one: the helper's own socket either way.
                let peer = association.as_ref().map_or(addr, |(_, relay)| *relay);
                let sock = own_udp(sockets, peer).await?;
                Ok(Link::Udp(match association {
                    Some((control, _)) => UdpLink::through_socks(sock, control, addr),
                    None => UdpLink::new(sock),
                }))
            }
            Proto::Tcp => {
                let dial = async {
                    match proxy {
                        Some(p) => proxy::dial_tcp(p, addr, sockets).await,
                        None => own_tcp(sockets, addr).await,
                    }
                };
                let stream = tokio::time::timeout(timeout, dial).await.map_err(|_| {
                    io::Error::new(io::ErrorKind::TimedOut, "TCP connect timed out")
                })??;
                TcpLink::new(stream).map(Link::Tcp)
            }
        }
    }

    /// Waits until at least one packet has arrived; then `next_packet` hands them out.
    pub async fn recv_batch(&mut self) -> io::Result<()> {
        match self {
            Link::Udp(u) => u.recv_batch().await,
            Link::Tcp(t) => t.recv_batch().await,
        }
    }

    /// Reads what is already there without waiting; false when nothing was.
    pub fn try_recv_batch(&mut self) -> io::Result<bool> {
        match self {
            Link::Udp(u) => u.try_recv_batch(),
            Link::Tcp(t) => t.try_recv_batch(),
        }
    }

    /// The driver has read all that one wakeup found (see the links' receive coalescing).
    pub fn reads_done(&mut self) {
        match self {
            Link::Udp(u) => u.reads_done(),
            Link::Tcp(t) => t.reads_done(),
        }
    }

    /// Until when the driver should sleep its thread before it waits for readiness again (the
    /// links' receive coalescing); None when it should not. Asked once per nap.
    pub fn take_nap(&mut self) -> Option<std::time::Instant> {
        match self {
            Link::Udp(u) => u.take_nap(),
            Link::Tcp(t) => t.take_nap(),
        }
    }

    /// When the driver must call `recv_due` even though the link did not wake it (the TCP
    /// link's receive coalescing); None when it need not.
    pub fn recv_deadline(&self) -> Option<std::time::Instant> {
        match self {
            Link::Udp(_) => None,
            Link::Tcp(t) => t.recv_deadline(),
        }
    }

    /// `recv_deadline` passed: reads what is there without waiting; false when nothing was.
    pub fn recv_due(&mut self, now: std::time::Instant) -> io::Result<bool> {
        match self {
            Link::Udp(u) => u.try_recv_batch(),
            Link::Tcp(t) => t.recv_due(now),
        }
    }

    /// Up to `out.len()` received packets, in place (decrypted there by the caller) and in
    /// the order received; how many (0: the batch is used up).
    pub fn next_packets<'a>(&'a mut self, out: &mut [&'a mut [u8]]) -> usize {
        match self {
            Link::Udp(u) => u.next_packets(out),
            Link::Tcp(t) => t.next_packets(out),
        }
    }

    /// The session is established (TCP: back to delayed ACKs, see `TcpLink`).
    pub fn handshake_done(&mut self) {
        if let Link::Tcp(t) = self {
            t.handshake_done();
        }
    }

    /// A buffer at the end of the send queue for one packet (cleared); `commit` queues it.
    pub fn reserve(&mut self) -> &mut Vec<u8> {
        match self {
            Link::Udp(u) => u.reserve(),
            Link::Tcp(t) => t.reserve(),
        }
    }

    /// Queues the packet written into `reserve`'s buffer.
    pub fn commit(&mut self) {
        match self {
            Link::Udp(u) => u.commit(),
            Link::Tcp(t) => t.commit(),
        }
    }

    /// Queues a copy of `pkt`.
    pub fn queue(&mut self, pkt: &[u8]) {
        let b = self.reserve();
        b.extend_from_slice(pkt);
        self.commit();
    }

    /// True when the send queue should be flushed before queueing more.
    pub fn queue_full(&self) -> bool {
        match self {
            Link::Udp(u) => u.queue_full(),
            Link::Tcp(t) => t.queue_full(),
        }
    }

    /// Sends everything queued.
    pub async fn flush(&mut self) -> io::Result<()> {
        match self {
            Link::Udp(u) => u.flush().await,
            Link::Tcp(t) => t.flush().await,
        }
    }
}
