//! Link transports for the driver: a connected UDP socket (one packet per datagram) or a TCP
//! stream with u16 length framing (wire-protocol §1.1).

use crate::config::Proto;
use std::io;
use std::net::SocketAddr;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};

pub enum Link {
    Udp(UdpSocket),
    Tcp {
        stream: TcpStream,
        rbuf: Vec<u8>,
        wbuf: Vec<u8>,
    },
}

/// Largest OpenVPN packet we accept (u16 framing bound on TCP).
pub const MAX_PACKET: usize = 65535;

impl Link {
    pub async fn connect(
        addr: SocketAddr,
        proto: Proto,
        timeout: std::time::Duration,
    ) -> io::Result<Self> {
        match proto {
            Proto::Udp => {
                let bind: SocketAddr = if addr.is_ipv4() {
                    "0.0.0.0:0".parse().unwrap()
                } else {
                    "[::]:0".parse().unwrap()
                };
                let sock = UdpSocket::bind(bind).await?;
                sock.connect(addr).await?;
                Ok(Link::Udp(sock))
            }
            Proto::Tcp => {
                let stream = tokio::time::timeout(timeout, TcpStream::connect(addr))
                    .await
                    .map_err(|_| {
                        io::Error::new(io::ErrorKind::TimedOut, "TCP connect timed out")
                    })??;
                stream.set_nodelay(true)?;
                Ok(Link::Tcp {
                    stream,
                    rbuf: Vec::with_capacity(2 * MAX_PACKET),
                    wbuf: Vec::new(),
                })
            }
        }
    }

    /// Receives the next packet into `buf` (at least MAX_PACKET long); returns its length.
    pub async fn recv(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Link::Udp(s) => s.recv(buf).await,
            Link::Tcp { stream, rbuf, .. } => loop {
                if rbuf.len() >= 2 {
                    let len = u16::from_be_bytes([rbuf[0], rbuf[1]]) as usize;
                    if rbuf.len() >= 2 + len {
                        buf[..len].copy_from_slice(&rbuf[2..2 + len]);
                        rbuf.drain(..2 + len);
                        return Ok(len);
                    }
                }
                let mut chunk = [0u8; 16384];
                let n = stream.read(&mut chunk).await?;
                if n == 0 {
                    return Err(io::Error::new(
                        io::ErrorKind::ConnectionReset,
                        "server closed the TCP connection",
                    ));
                }
                rbuf.extend_from_slice(&chunk[..n]);
            },
        }
    }

    /// Queues a packet (TCP: framed into the write buffer; UDP: sent right away when possible).
    pub async fn send(&mut self, pkt: &[u8]) -> io::Result<()> {
        match self {
            Link::Udp(s) => match s.try_send(pkt) {
                Ok(_) => Ok(()),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => s.send(pkt).await.map(|_| ()),
                Err(e) => Err(e),
            },
            Link::Tcp { wbuf, .. } => {
                wbuf.extend_from_slice(&(pkt.len() as u16).to_be_bytes());
                wbuf.extend_from_slice(pkt);
                Ok(())
            }
        }
    }

    /// Writes out what `send` queued (TCP); a no-op for UDP.
    pub async fn flush(&mut self) -> io::Result<()> {
        if let Link::Tcp { stream, wbuf, .. } = self {
            if !wbuf.is_empty() {
                stream.write_all(wbuf).await?;
                wbuf.clear();
            }
        }
        Ok(())
    }
}

impl Link {
    /// A packet that is already available without waiting (UDP socket queue, or a complete
    /// frame in the TCP buffer). None when nothing is ready.
    pub fn try_recv(&mut self, buf: &mut [u8]) -> Option<io::Result<usize>> {
        match self {
            Link::Udp(s) => match s.try_recv(buf) {
                Ok(n) => Some(Ok(n)),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => None,
                Err(e) => Some(Err(e)),
            },
            Link::Tcp { rbuf, .. } => {
                if rbuf.len() < 2 {
                    return None;
                }
                let len = u16::from_be_bytes([rbuf[0], rbuf[1]]) as usize;
                if rbuf.len() < 2 + len {
                    return None;
                }
                buf[..len].copy_from_slice(&rbuf[2..2 + len]);
                rbuf.drain(..2 + len);
                Some(Ok(len))
            }
        }
    }
}
