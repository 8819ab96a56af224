//! Creating a TUN device through /dev/net/tun, with virtio-net headers and the kernel's
//! offloads (TSO4/TSO6, USO where the kernel has it) so reads and writes move super-segments
//! of up to 64 KiB; the engine splits and coalesces them (`causeway_engine::offload`).

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

const TUNSETIFF: libc::c_ulong = 0x4004_54ca;
const IFF_TUN: libc::c_short = 0x0001;
const IFF_NO_PI: libc::c_short = 0x1000;
const IFF_VNET_HDR: libc::c_short = 0x4000;
const TUNSETOFFLOAD: libc::c_ulong = 0x4004_54d0;
const TUN_F_CSUM: libc::c_uint = 0x01;
const TUN_F_TSO4: libc::c_uint = 0x02;
const TUN_F_TSO6: libc::c_uint = 0x04;
const TUN_F_TSO_ECN: libc::c_uint = 0x08;
/// UDP segmentation offload, Linux 6.2+.
const TUN_F_USO4: libc::c_uint = 0x20;
const TUN_F_USO6: libc::c_uint = 0x40;

/// Name pattern handed to the kernel: it picks the lowest free cwN, so concurrent sessions
/// get distinct devices without the helper tracking numbers.
const NAME_PATTERN: &str = "cw%d";

#[repr(C)]
struct IfReq {
    name: [u8; libc::IFNAMSIZ],
    flags: libc::c_short,
    _pad: [u8; 22],
}

/// A new TUN device: its name, descriptor and whether the kernel takes our offload settings.
pub struct Created {
    pub name: String,
    pub fd: OwnedFd,
    pub offloads: bool,
}

/// Turns on the offloads the kernel has: with USO first, then without (kernels before 6.2).
/// False if it takes none; the device still carries (empty) virtio-net headers then.
fn enable_offloads(fd: &OwnedFd) -> bool {
    let tcp = TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_TSO_ECN;
    [tcp | TUN_F_USO4 | TUN_F_USO6, tcp]
        .into_iter()
        .any(|flags| {
            // SAFETY: TUNSETOFFLOAD takes the flags as an integer argument.
            unsafe { libc::ioctl(fd.as_raw_fd(), TUNSETOFFLOAD, flags as libc::c_ulong) == 0 }
        })
}

/// Opens a new, non-persistent TUN device (IFF_TUN | IFF_NO_PI | IFF_VNET_HDR, non-blocking)
/// with offloads on. The device disappears with its last descriptor, so a crashed helper
/// cannot leave it behind.
pub fn create() -> io::Result<Created> {
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
        flags: IFF_TUN | IFF_NO_PI | IFF_VNET_HDR,
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
    let offloads = enable_offloads(&fd);
    Ok(Created { name, fd, offloads })
}

#[cfg(test)]
mod tests {
    #[test]
    fn ifreq_matches_the_kernel_layout() {
        assert_eq!(std::mem::size_of::<super::IfReq>(), 40);
    }
}
