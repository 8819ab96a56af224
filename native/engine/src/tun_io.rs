//! Non-blocking reads and writes of IP packets on the helper's TUN fd. With virtio-net headers
//! (`Tun::vnet_hdr`, Linux offloads) a read may bring a TSO/USO super-segment, split here into
//! tunnel-sized packets, and packets written are coalesced into super-segments first (GRO); see
//! `offload`. Without them every read or write is one IP packet.

use crate::api::Tun;
use crate::offload::{gro::Coalescer, gso, vnet};
use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use tokio::io::unix::AsyncFd;

/// Largest read: a 64 KiB super-segment behind its virtio-net header.
const READ_BUF: usize = vnet::LEN + 65535;

pub struct TunIo {
    fd: AsyncFd<OwnedFd>,
    offload: Option<Offload>,
    rbuf: Vec<u8>,
}

/// State for a TUN device with virtio-net headers.
struct Offload {
    /// One split segment at a time.
    scratch: Vec<u8>,
    gro: Coalescer,
}

fn write_fd(fd: &OwnedFd, pkt: &[u8]) -> io::Result<()> {
    // SAFETY: pkt is valid for reads of pkt.len() bytes.
    let n = unsafe { libc::write(fd.as_raw_fd(), pkt.as_ptr().cast(), pkt.len()) };
    if n < 0 {
        let e = io::Error::last_os_error();
        // A full queue drops the packet, like a congested link would.
        if e.kind() != io::ErrorKind::WouldBlock {
            return Err(e);
        }
    }
    Ok(())
}

impl TunIo {
    pub fn new(tun: Tun) -> io::Result<Self> {
        let raw = tun.fd.as_raw_fd();
        // The contract says non-blocking, but make sure: a blocking fd would stall the runtime.
        // SAFETY: fcntl on a valid fd we own.
        unsafe {
            let flags = libc::fcntl(raw, libc::F_GETFL);
            if flags < 0 || libc::fcntl(raw, libc::F_SETFL, flags | libc::O_NONBLOCK) < 0 {
                return Err(io::Error::last_os_error());
            }
        }
        let offload = tun.vnet_hdr.then(|| Offload {
            scratch: vec![0u8; 65535],
            gro: Coalescer::new(),
        });
        // SAFETY: OwnedFd always returns the same open fd, and we own it for the AsyncFd's life.
        let fd = unsafe { AsyncFd::register_with_interest(tun.fd, tokio::io::Interest::READABLE) }
            .map_err(|e| e.into_parts().1)?;
        Ok(Self {
            fd,
            offload,
            rbuf: vec![0u8; READ_BUF],
        })
    }

    /// Waits until a read may succeed (readiness is cleared by the `read` that finds none).
    pub async fn readable(&self) -> io::Result<()> {
        self.fd.readable().await.map(|_| ())
    }

    /// One non-blocking read; `emit` gets each IP packet it brought. Ok(false) when the
    /// device had nothing (readiness is then cleared). A super-segment the kernel should
    /// never produce is dropped with its packets.
    pub fn read(&mut self, mut emit: impl FnMut(&[u8])) -> io::Result<bool> {
        let rbuf = &mut self.rbuf;
        let r = self.fd.try_io(tokio::io::Interest::READABLE, |fd| {
            // SAFETY: rbuf is valid for writes of its length.
            let n = unsafe { libc::read(fd.as_raw_fd(), rbuf.as_mut_ptr().cast(), rbuf.len()) };
            if n < 0 {
                Err(io::Error::last_os_error())
            } else {
                Ok(n as usize)
            }
        });
        let n = match r {
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(false),
            Err(e) => return Err(e),
        };
        let buf = &mut self.rbuf[..n];
        match &mut self.offload {
            None if !buf.is_empty() => emit(buf),
            None => {}
            Some(o) => {
                let _malformed_is_dropped = gso::split(buf, &mut o.scratch, emit);
            }
        }
        Ok(true)
    }

    /// Writes one IP packet (with offloads: into the coalescer; `flush` ends the batch).
    pub fn write(&mut self, pkt: &[u8]) -> io::Result<()> {
        let fd = self.fd.get_ref();
        match &mut self.offload {
            None => write_fd(fd, pkt),
            Some(o) => o.gro.push(pkt, &mut |b: &[u8]| write_fd(fd, b)),
        }
    }

    /// Writes out a super-segment still being coalesced.
    pub fn flush(&mut self) -> io::Result<()> {
        let fd = self.fd.get_ref();
        match &mut self.offload {
            None => Ok(()),
            Some(o) => o.gro.flush(&mut |b: &[u8]| write_fd(fd, b)),
        }
    }
}
