//! The UDP link: received datagrams land in a ring of slots filled by one `recvmmsg` (Linux,
//! with UDP GRO when the kernel offers it: one slot may then hold several datagrams of one
//! size), and queued packets leave in one `sendmmsg`, runs of equal size as UDP GSO
//! super-datagrams. Elsewhere the same queues are served one datagram per call.
//!
//! Through a SOCKS5 proxy the socket talks to the proxy's relay: each packet is wrapped in the
//! SOCKS UDP header when queued and unwrapped when handed out, so runs stay equal in size and
//! GSO/GRO work as before; the association ends when its control connection closes.

#[cfg(target_os = "linux")]
use super::coalescing::RecvNap;
use super::proxy::socks::BoundAddr;
use super::proxy::socks_udp::{parse_udp_header, udp_header};
use std::io;
use std::net::SocketAddr;
use tokio::io::Interest;
use tokio::net::{TcpStream, UdpSocket};

/// Packets moved per syscall at most (also the kernel's UDP GSO segment limit).
pub(super) const BATCH: usize = 64;
/// A receive slot takes one datagram, or one GRO super-datagram (up to 64 KiB).
const SLOT: usize = 65536;
/// Receive slots: enough to drain a socket burst in one call, few enough to stay small.
const RX_SLOTS: usize = 16;
/// Send slots start at this capacity (an MTU-sized packet plus overhead); they grow if needed.
const TX_SLOT: usize = 2048;

#[cfg(target_os = "linux")]
use super::coalescing::BULK_BYTES_PER_10MS;

pub struct UdpLink {
    sock: UdpSocket,
    rx: Vec<Vec<u8>>,
    /// Per filled slot: (bytes, GRO segment size or 0).
    rx_lens: Vec<(usize, usize)>,
    /// Next slot to hand out and the offset within it.
    rx_next: (usize, usize),
    tx: Vec<Vec<u8>>,
    tx_queued: usize,
    /// UDP GSO in use (cleared for good when the path refuses it).
    #[cfg(target_os = "linux")]
    gso: bool,
    /// Set when the socket talks to a SOCKS5 UDP relay.
    socks: Option<SocksAssociation>,
    #[cfg(target_os = "linux")]
    nap: RecvNap,
}

/// A SOCKS5 UDP association: the proxy relays while `control` stays open.
struct SocksAssociation {
    control: TcpStream,
    /// The server: what our headers name, and the only sender whose datagrams we take.
    server: SocketAddr,
    header: Vec<u8>,
}

impl UdpLink {
    pub fn new(sock: UdpSocket) -> Self {
        #[cfg(target_os = "linux")]
        let gso = super::udp_linux::gso_supported(&sock);
        #[cfg(target_os = "linux")]
        super::udp_linux::enable_gro(&sock);
        #[cfg(target_os = "linux")]
        super::coalescing::enlarge_receive_buffer(&sock);
        Self {
            sock,
            // Zeroed and mostly never touched: only the pages datagrams fill become resident.
            rx: (0..RX_SLOTS).map(|_| vec![0u8; SLOT]).collect(),
            rx_lens: Vec::with_capacity(RX_SLOTS),
            rx_next: (0, 0),
            tx: (0..BATCH).map(|_| Vec::with_capacity(TX_SLOT)).collect(),
            tx_queued: 0,
            #[cfg(target_os = "linux")]
            gso,
            socks: None,
            #[cfg(target_os = "linux")]
            nap: RecvNap::new(BULK_BYTES_PER_10MS, std::time::Instant::now()),
        }
    }

    /// A link to `server` through a SOCKS5 relay: `sock` is connected to the relay, `control`
    /// is the association's TCP connection.
    pub fn through_socks(sock: UdpSocket, control: TcpStream, server: SocketAddr) -> Self {
        let mut link = Self::new(sock);
        link.socks = Some(SocksAssociation {
            control,
            server,
            header: udp_header(server),
        });
        link
    }

    pub async fn recv_batch(&mut self) -> io::Result<()> {
        loop {
            match &self.socks {
                Some(a) => {
                    tokio::select! {
                        r = self.sock.readable() => r?,
                        r = a.control.ready(Interest::READABLE) => {
                            r?;
                            association_alive(&a.control)?;
                            continue;
                        }
                    }
                }
                None => self.sock.readable().await?,
            }
            if self.try_recv_batch()? {
                return Ok(());
            }
        }
    }

    pub fn try_recv_batch(&mut self) -> io::Result<bool> {
        self.rx_lens.clear();
        self.rx_next = (0, 0);
        #[cfg(target_os = "linux")]
        let r = self.sock.try_io(tokio::io::Interest::READABLE, || {
            super::udp_linux::recv_many(&self.sock, &mut self.rx, &mut self.rx_lens)
        });
        #[cfg(not(target_os = "linux"))]
        let r = self
            .sock
            .try_recv(&mut self.rx[0])
            .map(|n| self.rx_lens.push((n, 0)));
        let got = match r {
            Ok(()) => !self.rx_lens.is_empty(),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => false,
            Err(e) => return Err(e),
        };
        #[cfg(target_os = "linux")]
        {
            let bytes = self.rx_lens.iter().map(|&(b, _)| b).sum();
            self.nap.read(bytes, std::time::Instant::now());
        }
        Ok(got)
    }

    /// Until when the driver should nap before it waits for the socket again (see
    /// `coalescing`); asked once per nap.
    pub fn take_nap(&mut self) -> Option<std::time::Instant> {
        #[cfg(target_os = "linux")]
        return self.nap.take();
        #[cfg(not(target_os = "linux"))]
        None
    }

    /// The datagrams the last read took (a GRO slot holds several of its segment size).
    #[cfg(all(test, target_os = "linux"))]
    fn datagrams_read(&self) -> usize {
        let datagrams =
            |&(bytes, seg): &(usize, usize)| if seg > 0 { bytes.div_ceil(seg) } else { 1 };
        self.rx_lens.iter().map(datagrams).sum()
    }

    /// The driver has read all that one wakeup found.
    pub fn reads_done(&mut self) {
        #[cfg(target_os = "linux")]
        self.nap.wakeup_done();
    }

    /// Up to `out.len()` received packets at once, in place and in order (disjoint parts of
    /// the receive slots); the next call goes on where this one stopped. How many.
    pub fn next_packets<'a>(&'a mut self, out: &mut [&'a mut [u8]]) -> usize {
        let (first, mut off) = self.rx_next;
        let (lens, socks) = (&self.rx_lens, &self.socks);
        let mut n = 0;
        for (slot, buf) in self.rx.iter_mut().enumerate().skip(first) {
            let Some(&(len, seg)) = lens.get(slot) else {
                break;
            };
            let mut rest = &mut buf[off..len];
            while !rest.is_empty() {
                if n == out.len() {
                    self.rx_next = (slot, off);
                    return n;
                }
                let take = if seg == 0 {
                    rest.len()
                } else {
                    seg.min(rest.len())
                };
                let (pkt, tail) = std::mem::take(&mut rest).split_at_mut(take);
                rest = tail;
                off += take;
                let start = match socks {
                    None => 0,
                    // Anything but a whole datagram from the server is not ours: drop it.
                    Some(a) => match parse_udp_header(pkt) {
                        Ok((BoundAddr::Ip(from), h)) if same_endpoint(from, a.server) => h,
                        _ => continue,
                    },
                };
                out[n] = &mut pkt[start..];
                n += 1;
            }
            off = 0;
        }
        self.rx_next = (lens.len(), 0);
        n
    }

    pub fn reserve(&mut self) -> &mut Vec<u8> {
        // One super-segment split into many small packets may need more slots than a batch;
        // they stay for later batches (no allocation once the queue has grown).
        if self.tx_queued == self.tx.len() {
            self.tx.push(Vec::with_capacity(TX_SLOT));
        }
        let b = &mut self.tx[self.tx_queued];
        b.clear();
        b
    }

    pub fn commit(&mut self) {
        if let Some(a) = &self.socks {
            // In place: the slot's capacity has room, so nothing is allocated per packet.
            let b = &mut self.tx[self.tx_queued];
            let (len, h) = (b.len(), a.header.len());
            b.resize(len + h, 0);
            b.copy_within(..len, h);
            b[..h].copy_from_slice(&a.header);
        }
        self.tx_queued += 1;
    }

    pub fn queue_full(&self) -> bool {
        self.tx_queued >= BATCH
    }

    pub async fn flush(&mut self) -> io::Result<()> {
        let mut sent = 0;
        while sent < self.tx_queued {
            self.sock.writable().await?;
            #[cfg(target_os = "linux")]
            let r = self.sock.try_io(tokio::io::Interest::WRITABLE, || {
                super::udp_linux::send_many(
                    &self.sock,
                    &self.tx[sent..self.tx_queued],
                    &mut self.gso,
                )
            });
            #[cfg(not(target_os = "linux"))]
            let r = self.sock.try_send(&self.tx[sent]).map(|_| 1);
            match r {
                Ok(n) => sent += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) => {
                    self.tx_queued = 0;
                    return Err(e);
                }
            }
        }
        self.tx_queued = 0;
        Ok(())
    }
}

/// The control connection became readable: the proxy closed it (the association is over) or
/// sent something it never should. Either way the relay is gone or untrustworthy.
fn association_alive(control: &TcpStream) -> io::Result<()> {
    let mut b = [0u8; 64];
    match control.try_read(&mut b) {
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(()),
        Err(e) => Err(e),
        Ok(_) => Err(io::Error::new(
            io::ErrorKind::ConnectionReset,
            "the SOCKS proxy ended the UDP association",
        )),
    }
}

/// The relay may name an IPv4 server as an IPv4-mapped IPv6 address.
fn same_endpoint(a: SocketAddr, b: SocketAddr) -> bool {
    a.port() == b.port() && a.ip().to_canonical() == b.ip().to_canonical()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A GRO slot of three equal segments and a short last one, then a plain datagram,
    /// handed out two at a time: in order, each packet whole, across calls.
    #[tokio::test]
    async fn received_packets_come_out_in_order_across_calls() {
        let sock = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let mut link = UdpLink::new(sock);
        for (i, b) in link.rx[0][..350].iter_mut().enumerate() {
            *b = (i / 100) as u8;
        }
        link.rx[1][..70].fill(9);
        link.rx_lens.extend([(350, 100), (70, 0)]);
        let mut got = Vec::new();
        loop {
            let mut two: [&mut [u8]; 2] = Default::default();
            let n = link.next_packets(&mut two);
            if n == 0 {
                break;
            }
            got.push(two[..n].iter().map(|p| (p[0], p.len())).collect::<Vec<_>>());
        }
        assert_eq!(
            got,
            [
                vec![(0, 100), (1, 100)],
                vec![(2, 100), (3, 50)],
                vec![(9, 70)]
            ]
        );
    }

    /// The link counts what the driver's reads brought: in bulk, a wakeup whose reads found
    /// few datagrams (the driver reads on until a read finds nothing) asks for a nap, and what
    /// gathered meanwhile comes in one read after it; a wakeup outside bulk asks for none.
    #[cfg(target_os = "linux")]
    #[tokio::test]
    async fn in_bulk_a_short_wakeup_asks_for_a_nap() {
        let sock = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let peer = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        peer.connect(sock.local_addr().unwrap()).await.unwrap();
        sock.connect(peer.local_addr().unwrap()).await.unwrap();
        let mut link = UdpLink::new(sock);
        // What the driver does per wakeup: read, read on while there is more, say it is done.
        let wakeup = |link: &mut UdpLink| {
            while link.try_recv_batch().unwrap() {}
            link.reads_done();
        };

        peer.send(&[1; 100]).await.unwrap();
        link.recv_batch().await.unwrap();
        wakeup(&mut link);
        assert_eq!(
            link.take_nap(),
            None,
            "not in bulk: every datagram as it comes"
        );

        link.nap.rate.force_bulk();
        peer.send(&[2; 100]).await.unwrap();
        link.recv_batch().await.unwrap();
        wakeup(&mut link);
        let until = link.take_nap().expect("a short wakeup in bulk naps");
        assert!(until <= std::time::Instant::now() + super::super::coalescing::MAX_NAP);
        assert_eq!(link.take_nap(), None, "one nap per wakeup");
        for _ in 0..3 {
            peer.send(&[3; 100]).await.unwrap();
        }
        std::thread::sleep(until.saturating_duration_since(std::time::Instant::now()));
        link.recv_batch().await.unwrap();
        assert_eq!(link.datagrams_read(), 3, "what gathered came in one read");
        wakeup(&mut link);
        assert!(
            link.take_nap().is_some(),
            "3 datagrams are still a short wakeup"
        );

        // A wakeup that brought a TUN write's worth needs no nap.
        for _ in 0..48 {
            peer.send(&[5; 1400]).await.unwrap();
        }
        link.recv_batch().await.unwrap();
        wakeup(&mut link);
        assert_eq!(link.take_nap(), None, "a full wakeup");
    }
}
