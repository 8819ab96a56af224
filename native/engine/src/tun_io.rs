//! Reads and writes of IP packets on the session's TUN device: a non-blocking descriptor
//! (Unix) or a packet queue the helper provides (see `api::TunDevice`). With virtio-net
//! headers (`TunFraming::VnetHdr`, Linux offloads) a read may bring a TSO/USO super-segment,
//! split here into tunnel-sized packets, and packets written are coalesced into
//! super-segments first (GRO); see `offload`. On every device, pure ACKs that a later one
//! of the same batch supersedes are not written at all (`offload::ack_thinning`).

use crate::api::{PacketQueue, Tun, TunDevice};
use crate::offload::{ack_thinning::AckThinner, gro::Coalescer, gso, vnet};
use crate::transport::coalescing::RecvNap;
use std::io;
use std::time::Instant;

/// Largest read: a 64 KiB super-segment behind its virtio-net header.
const READ_BUF: usize = vnet::LEN + 65535;

pub struct TunIo {
    device: Device,
    rbuf: Vec<u8>,
    offload: Option<Offload>,
    acks: AckThinner,
}

/// State for a TUN device with virtio-net headers.
struct Offload {
    /// One split segment at a time.
    scratch: Vec<u8>,
    gro: Coalescer,
    /// In a bulk upload, short wakeups make the driver nap (`transport::coalescing`): the
    /// kernel queues the local sender's super-segments meanwhile (its queue holds hundreds).
    nap: RecvNap,
}

enum Device {
    #[cfg(unix)]
    Fd(fd::TunFd),
    Queue(Box<dyn PacketQueue>),
}

impl TunIo {
    pub fn new(tun: Tun) -> io::Result<Self> {
        let (device, offload) = match tun.device {
            #[cfg(unix)]
            TunDevice::Fd { fd, framing } => {
                let offload = (framing == crate::api::TunFraming::VnetHdr).then(|| Offload {
                    scratch: vec![0u8; 65535],
                    gro: Coalescer::new(),
                    nap: RecvNap::new(
                        crate::transport::coalescing::BULK_BYTES_PER_10MS,
                        Instant::now(),
                    ),
                });
                (Device::Fd(fd::TunFd::new(fd, framing)?), offload)
            }
            TunDevice::Queue(q) => (Device::Queue(q), None),
        };
        Ok(Self {
            device,
            rbuf: vec![0u8; READ_BUF],
            offload,
            acks: AckThinner::new(),
        })
    }

    /// Completes when `try_recv` may have a packet.
    pub async fn readable(&self) -> io::Result<()> {
        match &self.device {
            #[cfg(unix)]
            Device::Fd(fd) => fd.readable().await,
            Device::Queue(q) => q.readable().await,
        }
    }

    /// One non-blocking read; `emit` gets each IP packet it brought. Ok(false) when the
    /// device had nothing (readiness is then cleared). A super-segment the kernel should
    /// never produce is dropped with its packets.
    pub fn read(&mut self, emit: impl FnMut(&mut [u8])) -> io::Result<bool> {
        let n = match self.device.try_recv(&mut self.rbuf) {
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(false),
            Err(e) => return Err(e),
        };
        let buf = &mut self.rbuf[..n];
        match &mut self.offload {
            Some(o) => {
                o.nap.read(n, Instant::now());
                let _malformed_is_dropped = gso::split(buf, &mut o.scratch, emit);
            }
            None if !buf.is_empty() => {
                let mut emit = emit;
                emit(buf)
            }
            None => {}
        }
        Ok(true)
    }

    /// The driver has read all that one wakeup found.
    pub fn reads_done(&mut self) {
        if let Some(o) = &mut self.offload {
            o.nap.wakeup_done();
        }
    }

    /// Until when the driver should nap before it waits for the device again; asked once per
    /// nap. Only with offloads, where the kernel's queue is deep enough.
    pub fn take_nap(&mut self) -> Option<Instant> {
        self.offload.as_mut().and_then(|o| o.nap.take())
    }

    /// Writes one IP packet (with offloads: into the coalescer; `flush` ends the batch). A
    /// full queue drops the packet (like a congested link would).
    pub fn write(&mut self, pkt: &[u8]) -> io::Result<()> {
        let (device, offload) = (&self.device, &mut self.offload);
        self.acks
            .push(pkt, &mut |p: &[u8]| device.write(offload, p))
    }

    /// Ends the batch: writes out the ACK held back and the super-segment being coalesced.
    pub fn flush(&mut self) -> io::Result<()> {
        let (device, offload) = (&self.device, &mut self.offload);
        self.acks.flush(&mut |p: &[u8]| device.write(offload, p))?;
        match offload {
            None => Ok(()),
            Some(o) => o.gro.flush(&mut |b: &[u8]| device.send(b)),
        }
    }
}

impl Device {
    /// One IP packet into the coalescer (offloads) or straight to the device.
    fn write(&self, offload: &mut Option<Offload>, pkt: &[u8]) -> io::Result<()> {
        match offload {
            None => self.send(pkt),
            Some(o) => o.gro.push(pkt, &mut |b: &[u8]| self.send(b)),
        }
    }

    fn try_recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            #[cfg(unix)]
            Device::Fd(fd) => fd.try_recv(buf),
            Device::Queue(q) => q.try_recv(buf),
        }
    }

    fn send(&self, pkt: &[u8]) -> io::Result<()> {
        match self {
            #[cfg(unix)]
            Device::Fd(fd) => fd.write(pkt),
            Device::Queue(q) => q.send(pkt),
        }
    }
}

/// The 4-byte address-family header a utun descriptor expects before `pkt` (network byte
/// order), from the IP version nibble; None for something that is not IPv4 or IPv6.
#[cfg(unix)]
fn af_header(pkt: &[u8]) -> Option<[u8; 4]> {
    let family = match pkt.first()? >> 4 {
        4 => libc::AF_INET,
        6 => libc::AF_INET6,
        _ => return None,
    };
    Some((family as u32).to_be_bytes())
}

#[cfg(unix)]
mod fd {
    use super::af_header;
    use crate::api::TunFraming;
    use std::io;
    use std::os::fd::{AsRawFd, OwnedFd};
    use tokio::io::unix::AsyncFd;
    use tokio::io::Interest;

    pub struct TunFd {
        fd: AsyncFd<OwnedFd>,
        framing: TunFraming,
    }

    impl TunFd {
        pub fn new(fd: OwnedFd, framing: TunFraming) -> io::Result<Self> {
            let raw = fd.as_raw_fd();
            // The contract says non-blocking, but make sure: a blocking fd would stall the
            // runtime.
            // SAFETY: fcntl on a valid fd we own.
            unsafe {
                let flags = libc::fcntl(raw, libc::F_GETFL);
                if flags < 0 || libc::fcntl(raw, libc::F_SETFL, flags | libc::O_NONBLOCK) < 0 {
                    return Err(io::Error::last_os_error());
                }
            }
            // SAFETY: OwnedFd always returns the same open fd, and we own it for the
            // AsyncFd's life.
            let fd = unsafe { AsyncFd::register_with_interest(fd, Interest::READABLE) }
                .map_err(|e| e.into_parts().1)?;
            Ok(Self { fd, framing })
        }

        pub async fn readable(&self) -> io::Result<()> {
            // Dropping the guard keeps the readiness; `try_recv` clears it on WouldBlock.
            self.fd.readable().await.map(drop)
        }

        pub fn try_recv(&self, buf: &mut [u8]) -> io::Result<usize> {
            self.fd
                .try_io(Interest::READABLE, |fd| read(fd, self.framing, buf))
        }

        pub fn write(&self, pkt: &[u8]) -> io::Result<()> {
            let raw = self.fd.get_ref().as_raw_fd();
            let n = match self.framing {
                // SAFETY: pkt is valid for reads of pkt.len() bytes. (With a virtio-net header,
                // `pkt` already starts with it.)
                TunFraming::Bare | TunFraming::VnetHdr => unsafe {
                    libc::write(raw, pkt.as_ptr().cast(), pkt.len())
                },
                TunFraming::AfHeader => {
                    let Some(header) = af_header(pkt) else {
                        return Ok(()); // not an IP packet: nothing the OS could route
                    };
                    let iov = [iovec(&header), iovec(pkt)];
                    // SAFETY: both iovecs point at live buffers of the given lengths.
                    unsafe { libc::writev(raw, iov.as_ptr(), 2) }
                }
            };
            if n < 0 {
                let e = io::Error::last_os_error();
                if e.kind() == io::ErrorKind::WouldBlock {
                    return Ok(());
                }
                return Err(e);
            }
            Ok(())
        }
    }

    fn iovec(buf: &[u8]) -> libc::iovec {
        libc::iovec {
            iov_base: buf.as_ptr() as *mut libc::c_void,
            iov_len: buf.len(),
        }
    }

    fn read(fd: &OwnedFd, framing: TunFraming, buf: &mut [u8]) -> io::Result<usize> {
        let raw = fd.as_raw_fd();
        let n = match framing {
            // SAFETY: buf is valid for writes of buf.len() bytes.
            TunFraming::Bare | TunFraming::VnetHdr => unsafe {
                libc::read(raw, buf.as_mut_ptr().cast(), buf.len())
            },
            TunFraming::AfHeader => {
                let mut header = [0u8; 4];
                let iov = [
                    libc::iovec {
                        iov_base: header.as_mut_ptr().cast(),
                        iov_len: header.len(),
                    },
                    libc::iovec {
                        iov_base: buf.as_mut_ptr().cast(),
                        iov_len: buf.len(),
                    },
                ];
                // SAFETY: both iovecs point at live, writable buffers of the given lengths.
                let n = unsafe { libc::readv(raw, iov.as_ptr(), 2) };
                // The header is not part of the packet.
                if n >= 4 {
                    n - 4
                } else {
                    n.min(0)
                }
            }
        };
        if n < 0 {
            Err(io::Error::last_os_error())
        } else {
            Ok(n as usize)
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        /// A socketpair of datagrams stands in for a utun descriptor: what the engine writes
        /// carries the header, and a framed datagram is read back without it.
        #[tokio::test]
        async fn af_header_framing_adds_and_strips_the_family() {
            let (a, b) = std::os::unix::net::UnixDatagram::pair().unwrap();
            b.set_nonblocking(true).unwrap();
            let tun = TunFd::new(OwnedFd::from(a), TunFraming::AfHeader).unwrap();
            let v6 = [0x60u8, 0, 0, 0, 0, 0, 0x3a, 0x40];
            tun.write(&v6).unwrap();
            let mut got = [0u8; 64];
            let n = b.recv(&mut got).unwrap();
            assert_eq!(&got[..4], &(libc::AF_INET6 as u32).to_be_bytes());
            assert_eq!(&got[4..n], &v6);
            tun.write(&[0x10, 0]).unwrap();
            assert!(b.recv(&mut got).is_err(), "a non-IP packet was written");

            let v4 = [0x45u8, 0, 0, 20];
            let mut framed = (libc::AF_INET as u32).to_be_bytes().to_vec();
            framed.extend_from_slice(&v4);
            b.send(&framed).unwrap();
            tun.readable().await.unwrap();
            let mut buf = [0u8; 64];
            let n = tun.try_recv(&mut buf).unwrap();
            assert_eq!(&buf[..n], &v4);
            let e = tun.try_recv(&mut buf).unwrap_err();
            assert_eq!(e.kind(), io::ErrorKind::WouldBlock);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::VecDeque;
    use std::sync::Mutex;

    /// An in-memory queue: what a Wintun-style device looks like to the engine.
    #[derive(Default)]
    struct Queue {
        incoming: Mutex<VecDeque<Vec<u8>>>,
        sent: std::sync::Arc<Mutex<Vec<Vec<u8>>>>,
    }

    impl PacketQueue for Queue {
        fn readable(
            &self,
        ) -> std::pin::Pin<Box<dyn std::future::Future<Output = io::Result<()>> + Send + '_>>
        {
            Box::pin(async { Ok(()) })
        }
        fn try_recv(&self, buf: &mut [u8]) -> io::Result<usize> {
            let p = self.incoming.lock().unwrap().pop_front();
            let p = p.ok_or(io::ErrorKind::WouldBlock)?;
            buf[..p.len()].copy_from_slice(&p);
            Ok(p.len())
        }
        fn send(&self, packet: &[u8]) -> io::Result<()> {
            self.sent.lock().unwrap().push(packet.to_vec());
            Ok(())
        }
    }

    #[tokio::test]
    async fn a_packet_queue_device_is_read_and_written_through_tun_io() {
        let q = Queue::default();
        q.incoming.lock().unwrap().push_back(vec![0x45, 1, 2]);
        let sent = q.sent.clone();
        let mut tun = TunIo::new(Tun {
            name: "queue0".into(),
            device: TunDevice::Queue(Box::new(q)),
        })
        .unwrap();
        tun.readable().await.unwrap();
        let mut got = Vec::new();
        assert!(tun.read(|p| got.push(p.to_vec())).unwrap());
        assert_eq!(got, vec![vec![0x45, 1, 2]]);
        assert!(!tun.read(|_| panic!("empty queue")).unwrap());
        tun.write(&[0x60, 9]).unwrap();
        assert_eq!(*sent.lock().unwrap(), vec![vec![0x60, 9]]);
    }

    #[cfg(unix)]
    #[test]
    fn af_header_follows_the_ip_version() {
        assert_eq!(
            af_header(&[0x45, 0]),
            Some((libc::AF_INET as u32).to_be_bytes())
        );
        assert_eq!(
            af_header(&[0x60]),
            Some((libc::AF_INET6 as u32).to_be_bytes())
        );
        assert_eq!(af_header(&[]), None);
        assert_eq!(af_header(&[0x20]), None);
    }
}
