//! Creating a TUN device through /dev/net/tun.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

const TUNSETIFF: libc::c_ulong = 0x4004_54ca;
const IFF_TUN: libc::c_short = 0x0001;
const IFF_NO_PI: libc::c_short = 0x1000;

/// Name pattern handed to the kernel: it picks the lowest free cwN, so concurrent sessions
/// get distinct devices without the helper tracking numbers.
const NAME_PATTERN: &str = "cw%d";

#[repr(C)]
struct IfReq {
    name: [u8; libc::IFNAMSIZ],
    flags: libc::c_short,
    _pad: [u8; 22],
}

/// Opens a new, non-persistent TUN device (IFF_TUN | IFF_NO_PI, non-blocking). The device
/// disappears with its last descriptor, so a crashed helper cannot leave it behind.
pub fn create() -> io::Result<(String, OwnedFd)> {
    // SAFETY: open(2) on a constant NUL-terminated path; the result is checked.
    let raw = unsafe {
        libc::open(
            c"/dev/net/tun".as_ptr(),
            libc::O_RDWR | libc::O_NONBLOCK | libc::O_CLOEXEC,
        )
    };
    if raw < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: a fresh descriptor that nothing else owns.
    let fd = unsafe { OwnedFd::from_raw_fd(raw) };
    let mut req = IfReq {
        name: [0; libc::IFNAMSIZ],
        flags: IFF_TUN | IFF_NO_PI,
        _pad: [0; 22],
    };
    req.name[..NAME_PATTERN.len()].copy_from_slice(NAME_PATTERN.as_bytes());
    // SAFETY: TUNSETIFF reads and writes a struct ifreq, which IfReq mirrors in size and layout.
    if unsafe { libc::ioctl(fd.as_raw_fd(), TUNSETIFF, &mut req) } < 0 {
        return Err(io::Error::last_os_error());
    }
    let end = req
        .name
        .iter()
        .position(|&b| b == 0)
        .unwrap_or(libc::IFNAMSIZ);
    let name = String::from_utf8_lossy(&req.name[..end]).into_owned();
    Ok((name, fd))
}

#[cfg(test)]
mod tests {
    #[test]
    fn ifreq_matches_the_kernel_layout() {
        assert_eq!(std::mem::size_of::<super::IfReq>(), 40);
    }
}
