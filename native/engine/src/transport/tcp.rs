//! The TCP link: u16-length-framed packets (wire-protocol §1.1). Reads take whatever the
//! socket has (up to `READ_CHUNK`) straight into the deframer, which hands frames out in
//! place; queued packets are framed into one write buffer and written with one call. During
//! bulk transfer from the server the link waits for a few packets per wakeup (see
//! `RecvCoalescing`).

use super::coalescing::RecvNap;
use super::MAX_PACKET;
use std::io;
use std::time::{Duration, Instant};
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
        let mut one: [&mut [u8]; 1] = [&mut []];
        (self.take_many(&mut one) == 1).then(move || {
            let [frame] = one;
            frame
        })
    }

    /// Up to `out.len()` complete frames at once, in place and in order (disjoint parts of
    /// the buffer, so they can be worked on side by side); how many.
    pub fn take_many<'a>(&'a mut self, out: &mut [&'a mut [u8]]) -> usize {
        let mut rest = &mut self.buf[self.pos..self.len];
        let mut n = 0;
        while n < out.len() && rest.len() >= 2 {
            let len = usize::from(u16::from_be_bytes([rest[0], rest[1]]));
            if rest.len() < 2 + len {
                break;
            }
            let (frame, tail) = std::mem::take(&mut rest)[2..].split_at_mut(len);
            out[n] = frame;
            rest = tail;
            n += 1;
            self.pos += 2 + len;
        }
        n
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

/// Bytes the kernel gathers before it wakes us while the server sends in bulk (~11 packets),
/// when the link waits for the socket between naps.
const BULK_LOW_WATER: usize = 16 * 1024;
/// Longest a packet below the low-water mark waits: the link reads what is there after this.
const BULK_LINGER: Duration = Duration::from_millis(1);
/// Bulk is a receive rate at which BULK_LOW_WATER gathers within BULK_LINGER (134 Mbit/s).
const BULK_BYTES_PER_10MS: usize = BULK_LOW_WATER * 10;

/// Interrupt coalescing for the TCP link's receive side (Linux; the other OSes read every
/// packet as it comes): while the server sends in bulk, short wakeups make the driver nap
/// (`coalescing`), and when it waits for the socket the kernel wakes it only once
/// BULK_LOW_WATER has gathered (`SO_RCVLOWAT`); the driver reads what is there at the latest
/// BULK_LINGER after the last read (`deadline`), so a quiet moment costs at most that much
/// latency. Below the rate the mark is back at one byte and there is no deadline.
struct RecvCoalescing {
    nap: RecvNap,
    last_read: Instant,
}

impl RecvCoalescing {
    fn new(now: Instant) -> Self {
        Self {
            nap: RecvNap::new(BULK_BYTES_PER_10MS, now),
            last_read: now,
        }
    }

    /// Counts a read of `n` bytes (0: none); Some(new low-water mark) when the mode changes.
    fn read(&mut self, n: usize, now: Instant) -> Option<usize> {
        self.last_read = now;
        let bulk = self.nap.read(n, now)?;
        Some(if bulk { BULK_LOW_WATER } else { 1 })
    }

    fn deadline(&self) -> Option<Instant> {
        self.nap.is_bulk().then(|| self.last_read + BULK_LINGER)
    }
}

/// Sets `SO_RCVLOWAT`. Best effort: failing only costs wakeups.
fn set_low_water(stream: &TcpStream, bytes: usize) {
    #[cfg(target_os = "linux")]
    {
        use std::os::fd::AsRawFd;
        let v = bytes as libc::c_int;
        // SAFETY: a valid socket fd and a c_int option value of the size passed.
        unsafe {
            libc::setsockopt(
                stream.as_raw_fd(),
                libc::SOL_SOCKET,
                libc::SO_RCVLOWAT,
                (&v as *const libc::c_int).cast(),
                std::mem::size_of::<libc::c_int>() as libc::socklen_t,
            );
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = (stream, bytes);
}

/// Reads what the socket holds without waiting. Not through tokio: below the low-water mark
/// the kernel signals no readiness, so tokio would answer WouldBlock without asking it.
fn read_below_low_water(stream: &TcpStream, buf: &mut [u8]) -> io::Result<usize> {
    #[cfg(target_os = "linux")]
    {
        use std::os::fd::AsRawFd;
        // SAFETY: buf is valid for writes of buf.len() bytes; the fd is a live socket.
        let n = unsafe {
            libc::recv(
                stream.as_raw_fd(),
                buf.as_mut_ptr().cast(),
                buf.len(),
                libc::MSG_DONTWAIT,
            )
        };
        if n < 0 {
            Err(io::Error::last_os_error())
        } else {
            Ok(n as usize)
        }
    }
    #[cfg(not(target_os = "linux"))]
    stream.try_read(buf)
}

pub struct TcpLink {
    stream: TcpStream,
    frames: Deframer,
    /// None until the handshake is done, and on other OSes than Linux.
    coalescing: Option<RecvCoalescing>,
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
        // Room for what gathers while the driver naps.
        #[cfg(target_os = "linux")]
        super::coalescing::enlarge_receive_buffer(&stream);
        Ok(Self {
            stream,
            frames: Deframer::new(),
            coalescing: None,
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
        if let Some(c) = self.coalescing.as_mut() {
            if let Some(mark) = c.read(n, Instant::now()) {
                set_low_water(&self.stream, mark);
            }
        }
        Ok(())
    }

    /// The driver has read all that one wakeup found (see `RecvCoalescing`).
    pub fn reads_done(&mut self) {
        if let Some(c) = self.coalescing.as_mut() {
            c.nap.wakeup_done();
        }
    }

    /// Until when the driver should nap before it waits for the socket again; asked once per
    /// nap.
    pub fn take_nap(&mut self) -> Option<Instant> {
        self.coalescing.as_mut().and_then(|c| c.nap.take())
    }

    /// When the driver should read what has arrived even below the low-water mark.
    pub fn recv_deadline(&self) -> Option<Instant> {
        self.coalescing.as_ref().and_then(RecvCoalescing::deadline)
    }

    /// The deadline passed: reads what is there (false when nothing was), and leaves bulk
    /// mode once the rate dropped.
    pub fn recv_due(&mut self, now: Instant) -> io::Result<bool> {
        let got = match read_below_low_water(&self.stream, self.frames.space()) {
            Ok(n) => self.got(n).map(|()| true),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(false),
            Err(e) => Err(e),
        }?;
        if let Some(c) = self.coalescing.as_mut() {
            // With nothing read the deadline stays where it is: move it on.
            if let Some(mark) = c.read(0, now) {
                set_low_water(&self.stream, mark);
            }
        }
        Ok(got)
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

    pub fn next_packets<'a>(&'a mut self, out: &mut [&'a mut [u8]]) -> usize {
        self.frames.take_many(out)
    }

    /// The session is up: back to the kernel's normal (delayed) ACKs, which save packets
    /// during bulk transfer.
    pub fn handshake_done(&mut self) {
        self.quick_acks = false;
        if cfg!(target_os = "linux") {
            self.coalescing = Some(RecvCoalescing::new(Instant::now()));
        }
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
    fn coalescing_raises_the_low_water_mark_in_bulk_and_lowers_it_after() {
        let t0 = Instant::now();
        let ms = |n| t0 + Duration::from_millis(n);
        let mut c = RecvCoalescing::new(t0);
        assert_eq!(c.deadline(), None, "starts reading every packet");
        assert_eq!(c.read(1000, ms(10)), None, "a slow window: no change");
        assert_eq!(c.deadline(), None);
        assert_eq!(c.read(BULK_BYTES_PER_10MS, ms(15)), None);
        assert_eq!(c.read(1, ms(20)), Some(BULK_LOW_WATER));
        assert_eq!(c.deadline(), Some(ms(20) + BULK_LINGER));
        // A read of nothing at the deadline still ends a quiet window.
        assert_eq!(c.read(0, ms(30)), Some(1));
        assert_eq!(c.deadline(), None);
    }

    /// In bulk mode the kernel holds a small packet back (SO_RCVLOWAT), and the read at the
    /// deadline delivers it anyway.
    #[cfg(target_os = "linux")]
    #[tokio::test]
    async fn a_packet_below_the_low_water_mark_is_read_at_the_deadline() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let client = TcpStream::connect(listener.local_addr().unwrap());
        let (client, server) = tokio::join!(client, listener.accept());
        let (mut server, _) = server.unwrap();
        let mut link = TcpLink::new(client.unwrap()).unwrap();
        link.handshake_done();
        let c = link.coalescing.as_mut().unwrap();
        c.nap.rate.force_bulk();
        set_low_water(&link.stream, BULK_LOW_WATER);

        server.write_all(&[0, 3, 7, 8, 9]).await.unwrap();
        let woke = tokio::time::timeout(Duration::from_millis(100), link.recv_batch()).await;
        assert!(woke.is_err(), "woken below the low-water mark");
        let due = link.recv_deadline().unwrap();
        assert!(due <= Instant::now());
        assert!(link.recv_due(Instant::now()).unwrap());
        assert_eq!(link.frames.take().map(|p| p.to_vec()), Some(vec![7, 8, 9]));
        assert!(
            !link.recv_due(Instant::now()).unwrap(),
            "nothing more there"
        );
        assert_eq!(link.recv_deadline(), None, "a quiet window ended bulk mode");
        // Back at one byte: a small packet wakes the link at once.
        server.write_all(&[0, 1, 5]).await.unwrap();
        let woke = tokio::time::timeout(Duration::from_secs(5), link.recv_batch()).await;
        woke.unwrap().unwrap();
        assert_eq!(link.frames.take().map(|p| p.to_vec()), Some(vec![5]));
    }

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
        // Several at once, as many as asked for, and a partial frame waits.
        d.extend(&stream);
        d.extend(&[0, 5, b'x']);
        let mut two: [&mut [u8]; 2] = Default::default();
        assert_eq!(d.take_many(&mut two), 2);
        assert_eq!([two[0].len(), two[1].len()], [3, 0]);
        let mut more: [&mut [u8]; 4] = Default::default();
        assert_eq!(d.take_many(&mut more), 1);
        assert_eq!(&*more[0], b"hello world");
        d.extend(b"yzzz");
        assert_eq!(d.take().map(|f| f.to_vec()), Some(b"xyzzz".to_vec()));
    }
}
