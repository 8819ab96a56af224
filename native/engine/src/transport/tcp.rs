//! The TCP link: u16-length-framed packets (wire-protocol §1.1). Reads take whatever the
//! socket has (up to `READ_CHUNK`) straight into the deframer, which hands frames out in
//! place; queued packets are framed into one write buffer and written with one call.

use super::MAX_PACKET;
use std::io;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Bytes asked of the socket per read: many frames per syscall under load.
const READ_CHUNK: usize = 256 * 1024;
/// Queue at most this many framed bytes before a flush.
const WRITE_QUEUE: usize = 256 * 1024;

/// Reassembles u16-length-framed packets from a TCP byte stream in one buffer. Frames are
/// handed out in place; consumed bytes are compacted away before the next read.
pub struct Deframer {
    buf: Vec<u8>,
    /// Valid bytes, and the start of the first frame not yet handed out.
    len: usize,
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
            buf: vec![0u8; READ_CHUNK + 2 + MAX_PACKET],
            len: 0,
            pos: 0,
        }
    }

    /// The next complete frame, in place.
    pub fn take(&mut self) -> Option<&mut [u8]> {
        let avail = &self.buf[self.pos..self.len];
        if avail.len() < 2 {
            return None;
        }
        let n = usize::from(u16::from_be_bytes([avail[0], avail[1]]));
        if avail.len() < 2 + n {
            return None;
        }
        let start = self.pos + 2;
        self.pos = start + n;
        Some(&mut self.buf[start..start + n])
    }

    /// Room to read into, after moving a partial frame to the front.
    fn space(&mut self) -> &mut [u8] {
        if self.pos > 0 {
            self.buf.copy_within(self.pos..self.len, 0);
            self.len -= self.pos;
            self.pos = 0;
        }
        // Callers take every complete frame before reading again, so at most one partial
        // frame is left and READ_CHUNK bytes always fit behind it.
        debug_assert!(self.buf.len() - self.len >= READ_CHUNK);
        let end = self.len + READ_CHUNK;
        &mut self.buf[self.len..end]
    }

    fn filled(&mut self, n: usize) {
        self.len += n;
    }

    /// Appends received bytes (at most `READ_CHUNK` at a time, after every complete frame
    /// was taken): the link reads into `space` instead; tests and the fuzz target feed bytes.
    pub fn extend(&mut self, data: &[u8]) {
        self.space()[..data.len()].copy_from_slice(data);
        self.filled(data.len());
    }
}

pub struct TcpLink {
    stream: TcpStream,
    frames: Deframer,
    /// The packet being built by `reserve`, framed into `wbuf` by `commit`.
    pkt: Vec<u8>,
    wbuf: Vec<u8>,
    /// Acknowledge every segment at once (until `handshake_done`), see `quick_ack`.
    quick_acks: bool,
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

impl TcpLink {
    pub fn new(stream: TcpStream) -> io::Result<Self> {
        // Our own small control packets go out at once, not after the server's ACK.
        stream.set_nodelay(true)?;
        quick_ack(&stream);
        Ok(Self {
            stream,
            frames: Deframer::new(),
            pkt: Vec::with_capacity(MAX_PACKET),
            wbuf: Vec::with_capacity(WRITE_QUEUE + 2 + MAX_PACKET),
            quick_acks: true,
        })
    }

    fn got(&mut self, n: usize) -> io::Result<()> {
        if self.quick_acks {
            quick_ack(&self.stream);
        }
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::ConnectionReset,
                "server closed the TCP connection",
            ));
        }
        self.frames.filled(n);
        Ok(())
    }

    pub async fn recv_batch(&mut self) -> io::Result<()> {
        let n = self.stream.read(self.frames.space()).await?;
        self.got(n)
    }

    pub fn try_recv_batch(&mut self) -> io::Result<bool> {
        match self.stream.try_read(self.frames.space()) {
            Ok(n) => self.got(n).map(|()| true),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(false),
            Err(e) => Err(e),
        }
    }

    pub fn next_packet(&mut self) -> Option<&mut [u8]> {
        self.frames.take()
    }

    /// The session is up: back to the kernel's normal (delayed) ACKs, which save packets
    /// during bulk transfer.
    pub fn handshake_done(&mut self) {
        self.quick_acks = false;
    }

    pub fn reserve(&mut self) -> &mut Vec<u8> {
        self.pkt.clear();
        &mut self.pkt
    }

    pub fn commit(&mut self) {
        self.wbuf
            .extend_from_slice(&(self.pkt.len() as u16).to_be_bytes());
        self.wbuf.extend_from_slice(&self.pkt);
    }

    pub fn queue_full(&self) -> bool {
        self.wbuf.len() >= WRITE_QUEUE
    }

    pub async fn flush(&mut self) -> io::Result<()> {
        if !self.wbuf.is_empty() {
            self.stream.write_all(&self.wbuf).await?;
            self.wbuf.clear();
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
        let mut stream = Vec::new();
        for p in [&b"abc"[..], b"", b"hello world"] {
            stream.extend_from_slice(&(p.len() as u16).to_be_bytes());
            stream.extend_from_slice(p);
        }
        // Byte by byte: a frame appears only once complete.
        let mut got = Vec::new();
        for b in &stream {
            d.extend(std::slice::from_ref(b));
            while let Some(f) = d.take() {
                got.push(f.to_vec());
            }
        }
        assert_eq!(
            got,
            vec![b"abc".to_vec(), Vec::new(), b"hello world".to_vec()]
        );
        // All at once.
        d.extend(&stream);
        assert_eq!(d.take().map(|f| f.len()), Some(3));
        assert_eq!(d.take().map(|f| f.len()), Some(0));
        assert_eq!(d.take().map(|f| f.to_vec()), Some(b"hello world".to_vec()));
        assert!(d.take().is_none());
    }
}
