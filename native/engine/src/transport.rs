//! Link transports for the driver: a connected UDP socket (one packet per datagram) or a TCP
//! stream with u16 length framing (wire-protocol §1.1).

use crate::config::Proto;
use std::io;
use std::net::SocketAddr;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};

/// Largest OpenVPN packet we accept (u16 framing bound on TCP).
pub const MAX_PACKET: usize = 65535;

/// Reassembles u16-length-framed packets from a TCP byte stream. Consumed bytes are skipped
/// with an offset and compacted only occasionally, so taking a frame costs one copy.
pub struct Deframer {
    buf: Vec<u8>,
    pos: usize,
}

impl Default for Deframer {
    fn default() -> Self {
        Self::new()
    }
}

impl Deframer {
    pub fn new() -> Self {
        Self {
            buf: Vec::with_capacity(4 * MAX_PACKET),
            pos: 0,
        }
    }

    /// Copies the next complete frame into `out`; returns its length.
    pub fn take(&mut self, out: &mut [u8]) -> Option<usize> {
        let avail = &self.buf[self.pos..];
        if avail.len() < 2 {
            return None;
        }
        let len = u16::from_be_bytes([avail[0], avail[1]]) as usize;
        if avail.len() < 2 + len {
            return None;
        }
        out[..len].copy_from_slice(&avail[2..2 + len]);
        self.pos += 2 + len;
        if self.pos == self.buf.len() {
            self.buf.clear();
            self.pos = 0;
        }
        Some(len)
    }

    pub fn extend(&mut self, data: &[u8]) {
        if self.pos > 0 && self.pos >= self.buf.len() / 2 {
            self.buf.drain(..self.pos);
            self.pos = 0;
        }
        self.buf.extend_from_slice(data);
    }
}

pub enum Link {
    Udp(UdpSocket),
    Tcp {
        stream: TcpStream,
        frames: Deframer,
        wbuf: Vec<u8>,
        /// Acknowledge every segment at once (until `handshake_done`), see `quick_ack`.
        quick_acks: bool,
    },
}

/// Asks the kernel to acknowledge received data at once instead of delaying the ACK. During
/// the handshake the server (Nagle on, as openvpn is by default) holds each small write until
/// our ACK of the previous one; a delayed ACK stalls it ~40 ms each time. The kernel clears
/// the flag by itself, so it is set again after every read. Best effort: failing costs latency.
fn quick_ack(stream: &TcpStream) {
    #[cfg(target_os = "linux")]
    {
        use std::os::fd::AsRawFd;
        let one: libc::c_int = 1;
        // SAFETY: a valid socket fd and a c_int option value of the size passed.
        unsafe {
            libc::setsockopt(
                stream.as_raw_fd(),
                libc::IPPROTO_TCP,
                libc::TCP_QUICKACK,
                (&one as *const libc::c_int).cast(),
                std::mem::size_of::<libc::c_int>() as libc::socklen_t,
            );
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = stream;
}

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
                // Our own small control packets go out at once, not after the server's ACK.
                stream.set_nodelay(true)?;
                quick_ack(&stream);
                Ok(Link::Tcp {
                    stream,
                    frames: Deframer::new(),
                    wbuf: Vec::new(),
                    quick_acks: true,
                })
            }
        }
    }

    /// Receives the next packet into `buf` (at least MAX_PACKET long); returns its length.
    pub async fn recv(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Link::Udp(s) => s.recv(buf).await,
            Link::Tcp {
                stream,
                frames,
                quick_acks,
                ..
            } => loop {
                if let Some(n) = frames.take(buf) {
                    return Ok(n);
                }
                let mut chunk = [0u8; 16384];
                let n = stream.read(&mut chunk).await?;
                if *quick_acks {
                    quick_ack(stream);
                }
                if n == 0 {
                    return Err(io::Error::new(
                        io::ErrorKind::ConnectionReset,
                        "server closed the TCP connection",
                    ));
                }
                frames.extend(&chunk[..n]);
            },
        }
    }

    /// The session is up: back to the kernel's normal (delayed) ACKs, which save packets
    /// during bulk transfer.
    pub fn handshake_done(&mut self) {
        if let Link::Tcp { quick_acks, .. } = self {
            *quick_acks = false;
        }
    }

    /// A packet that is already available without waiting (UDP socket queue, or a complete
    /// frame in the TCP buffer). None when nothing is ready.
    pub fn try_recv(&mut self, buf: &mut [u8]) -> Option<io::Result<usize>> {
        match self {
            Link::Udp(s) => match s.try_recv(buf) {
                Ok(n) => Some(Ok(n)),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => None,
                Err(e) => Some(Err(e)),
            },
            Link::Tcp { frames, .. } => frames.take(buf).map(Ok),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deframes_split_and_coalesced_segments() {
        let mut d = Deframer::new();
        let mut out = vec![0u8; MAX_PACKET];
        let mut stream = Vec::new();
        for p in [&b"abc"[..], b"", b"hello world"] {
            stream.extend_from_slice(&(p.len() as u16).to_be_bytes());
            stream.extend_from_slice(p);
        }
        // Byte by byte: a frame appears only once complete.
        let mut got = Vec::new();
        for b in &stream {
            d.extend(std::slice::from_ref(b));
            while let Some(n) = d.take(&mut out) {
                got.push(out[..n].to_vec());
            }
        }
        assert_eq!(
            got,
            vec![b"abc".to_vec(), Vec::new(), b"hello world".to_vec()]
        );
        // All at once.
        d.extend(&stream);
        assert_eq!(d.take(&mut out), Some(3));
        assert_eq!(d.take(&mut out), Some(0));
        assert_eq!(d.take(&mut out), Some(11));
        assert_eq!(d.take(&mut out), None);
    }
}
