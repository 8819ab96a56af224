//! The UDP link: received datagrams land in a ring of slots filled by one `recvmmsg` (Linux,
//! with UDP GRO when the kernel offers it: one slot may then hold several datagrams of one
//! size), and queued packets leave in one `sendmmsg`, runs of equal size as UDP GSO
//! super-datagrams. Elsewhere the same queues are served one datagram per call.

use std::io;
use tokio::net::UdpSocket;

/// Packets moved per syscall at most (also the kernel's UDP GSO segment limit).
pub(super) const BATCH: usize = 64;
/// A receive slot takes one datagram, or one GRO super-datagram (up to 64 KiB).
const SLOT: usize = 65536;
/// Receive slots: enough to drain a socket burst in one call, few enough to stay small.
const RX_SLOTS: usize = 16;
/// Send slots start at this capacity (an MTU-sized packet plus overhead); they grow if needed.
const TX_SLOT: usize = 2048;

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
}

impl UdpLink {
    pub fn new(sock: UdpSocket) -> Self {
        #[cfg(target_os = "linux")]
        let gso = super::udp_linux::gso_supported(&sock);
        #[cfg(target_os = "linux")]
        super::udp_linux::enable_gro(&sock);
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
        }
    }

    pub async fn recv_batch(&mut self) -> io::Result<()> {
        loop {
            self.sock.readable().await?;
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
        match r {
            Ok(()) => Ok(!self.rx_lens.is_empty()),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(false),
            Err(e) => Err(e),
        }
    }

    pub fn next_packet(&mut self) -> Option<&mut [u8]> {
        let (slot, off) = self.rx_next;
        let &(len, seg) = self.rx_lens.get(slot)?;
        let end = if seg == 0 { len } else { (off + seg).min(len) };
        self.rx_next = if end >= len {
            (slot + 1, 0)
        } else {
            (slot, end)
        };
        Some(&mut self.rx[slot][off..end])
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
