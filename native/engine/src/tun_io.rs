//! Non-blocking reads and writes of IP packets on the helper's TUN fd (IFF_TUN | IFF_NO_PI).

use crate::api::Tun;
use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use tokio::io::unix::AsyncFd;

pub struct TunIo {
    fd: AsyncFd<OwnedFd>,
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
        // SAFETY: OwnedFd always returns the same open fd, and we own it for the AsyncFd's life.
        let fd = unsafe { AsyncFd::register_with_interest(tun.fd, tokio::io::Interest::READABLE) }
            .map_err(|e| e.into_parts().1)?;
        Ok(Self { fd })
    }

    pub fn inner(&self) -> &AsyncFd<OwnedFd> {
        &self.fd
    }

    /// One non-blocking read; WouldBlock when empty.
    pub fn read_raw(fd: &OwnedFd, buf: &mut [u8]) -> io::Result<usize> {
        // SAFETY: buf is valid for writes of buf.len() bytes.
        let n = unsafe { libc::read(fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) };
        if n < 0 {
            Err(io::Error::last_os_error())
        } else {
            Ok(n as usize)
        }
    }

    /// Writes one IP packet; a full queue drops the packet (like a congested link would).
    pub fn write(&self, pkt: &[u8]) -> io::Result<()> {
        // SAFETY: pkt is valid for reads of pkt.len() bytes.
        let n = unsafe {
            libc::write(
                self.fd.get_ref().as_raw_fd(),
                pkt.as_ptr().cast(),
                pkt.len(),
            )
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
