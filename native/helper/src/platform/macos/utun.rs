//! utun devices through the `com.apple.net.utun_control` kernel control: a PF_SYSTEM socket
//! connected to that control is the device (every packet on it carries a 4-byte address-family
//! header), and it disappears when the socket is closed, so a crashed helper leaves none.
//!
//! The structures below mirror sys/kern_control.h and net/if_utun.h; their sizes and the
//! constants are checked against the SDK's values in the tests.

use super::ioctl::iowr;

pub const UTUN_CONTROL_NAME: &str = "com.apple.net.utun_control";
/// sys/socket.h AF_SYSTEM / PF_SYSTEM.
pub const AF_SYSTEM: u8 = 32;
/// sys/sys_domain.h: the kernel control protocol and its address subfamily.
pub const SYSPROTO_CONTROL: i32 = 2;
pub const AF_SYS_CONTROL: u16 = 2;
/// net/if_utun.h: getsockopt option that returns the interface name.
pub const UTUN_OPT_IFNAME: i32 = 2;
pub const MAX_KCTL_NAME: usize = 96;
pub const CTLIOCGINFO: u64 = iowr(b'N', 3, std::mem::size_of::<CtlInfo>());

/// struct ctl_info: the control's name in, its id out.
#[repr(C)]
pub struct CtlInfo {
    pub ctl_id: u32,
    pub ctl_name: [u8; MAX_KCTL_NAME],
}

/// struct sockaddr_ctl.
#[repr(C)]
pub struct SockaddrCtl {
    pub sc_len: u8,
    pub sc_family: u8,
    pub ss_sysaddr: u16,
    pub sc_id: u32,
    /// utun unit + 1; 0 lets the kernel pick the first free unit.
    pub sc_unit: u32,
    pub sc_reserved: [u32; 5],
}

/// The CTLIOCGINFO request for the utun control.
pub fn utun_ctl_info() -> CtlInfo {
    let mut info = CtlInfo {
        ctl_id: 0,
        ctl_name: [0; MAX_KCTL_NAME],
    };
    info.ctl_name[..UTUN_CONTROL_NAME.len()].copy_from_slice(UTUN_CONTROL_NAME.as_bytes());
    info
}

/// The address to connect to for a new utun device of control `ctl_id`.
pub fn utun_address(ctl_id: u32) -> SockaddrCtl {
    SockaddrCtl {
        sc_len: std::mem::size_of::<SockaddrCtl>() as u8,
        sc_family: AF_SYSTEM,
        ss_sysaddr: AF_SYS_CONTROL,
        sc_id: ctl_id,
        sc_unit: 0,
        sc_reserved: [0; 5],
    }
}

/// The interface name from UTUN_OPT_IFNAME's buffer (NUL-terminated, e.g. "utun3").
pub fn ifname(buf: &[u8]) -> Option<String> {
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    let name = std::str::from_utf8(&buf[..end]).ok()?;
    (name.starts_with("utun") && name.len() > 4).then(|| name.to_owned())
}

#[cfg(target_os = "macos")]
pub use sys::create;

#[cfg(target_os = "macos")]
mod sys {
    use super::*;
    use std::io;
    use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

    const _: () = assert!(std::mem::size_of::<CtlInfo>() == std::mem::size_of::<libc::ctl_info>());
    const _: () =
        assert!(std::mem::size_of::<SockaddrCtl>() == std::mem::size_of::<libc::sockaddr_ctl>());
    const _: () = assert!(CTLIOCGINFO == libc::CTLIOCGINFO);

    fn check(rc: libc::c_int) -> io::Result<()> {
        if rc < 0 {
            Err(io::Error::last_os_error())
        } else {
            Ok(())
        }
    }

    /// A new utun device: its name and its non-blocking, close-on-exec descriptor.
    pub fn create() -> io::Result<(String, OwnedFd)> {
        // SAFETY: plain socket(2); the result is checked and then owned.
        let raw = unsafe { libc::socket(libc::PF_SYSTEM, libc::SOCK_DGRAM, SYSPROTO_CONTROL) };
        check(raw)?;
        // SAFETY: a fresh descriptor nothing else owns.
        let fd = unsafe { OwnedFd::from_raw_fd(raw) };
        let mut info = utun_ctl_info();
        // SAFETY: CTLIOCGINFO reads and writes a struct ctl_info, which CtlInfo mirrors.
        check(unsafe { libc::ioctl(fd.as_raw_fd(), CTLIOCGINFO as libc::c_ulong, &mut info) })?;
        let addr = utun_address(info.ctl_id);
        // SAFETY: `addr` is a valid sockaddr_ctl of the length given.
        check(unsafe {
            libc::connect(
                fd.as_raw_fd(),
                (&addr as *const SockaddrCtl).cast(),
                std::mem::size_of::<SockaddrCtl>() as libc::socklen_t,
            )
        })?;
        let mut name = [0u8; libc::IFNAMSIZ];
        let mut len = name.len() as libc::socklen_t;
        // SAFETY: `name` is writable for `len` bytes.
        check(unsafe {
            libc::getsockopt(
                fd.as_raw_fd(),
                SYSPROTO_CONTROL,
                UTUN_OPT_IFNAME,
                name.as_mut_ptr().cast(),
                &mut len,
            )
        })?;
        // SAFETY: fcntl on a descriptor we own.
        unsafe {
            check(libc::fcntl(fd.as_raw_fd(), libc::F_SETFD, libc::FD_CLOEXEC))?;
            let flags = libc::fcntl(fd.as_raw_fd(), libc::F_GETFL);
            check(flags)?;
            check(libc::fcntl(
                fd.as_raw_fd(),
                libc::F_SETFL,
                flags | libc::O_NONBLOCK,
            ))?;
        }
        let name = ifname(&name[..len as usize])
            .ok_or_else(|| io::Error::other("the utun control returned no interface name"))?;
        Ok((name, fd))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::mem::{offset_of, size_of};

    #[test]
    fn structures_match_the_sdk_layout() {
        assert_eq!(size_of::<CtlInfo>(), 100);
        assert_eq!(offset_of!(CtlInfo, ctl_name), 4);
        assert_eq!(size_of::<SockaddrCtl>(), 32);
        assert_eq!(offset_of!(SockaddrCtl, sc_id), 4);
        assert_eq!(offset_of!(SockaddrCtl, sc_unit), 8);
        assert_eq!(CTLIOCGINFO, 0xc064_4e03);
        // sys/sys_domain.h, sys/socket.h and net/if_utun.h.
        assert_eq!((SYSPROTO_CONTROL, AF_SYS_CONTROL, AF_SYSTEM), (2, 2, 32));
        assert_eq!(UTUN_OPT_IFNAME, 2);
    }

    #[test]
    fn the_request_names_the_utun_control_and_asks_for_any_unit() {
        let info = utun_ctl_info();
        assert_eq!(&info.ctl_name[..27], b"com.apple.net.utun_control\0");
        let a = utun_address(7);
        assert_eq!((a.sc_len, a.sc_family, a.ss_sysaddr), (32, 32, 2));
        assert_eq!((a.sc_id, a.sc_unit), (7, 0));
    }

    #[test]
    fn interface_names_come_from_the_nul_terminated_option() {
        assert_eq!(ifname(b"utun3\0\0\0").as_deref(), Some("utun3"));
        assert_eq!(ifname(b"utun12").as_deref(), Some("utun12"));
        assert_eq!(ifname(b"utun\0"), None);
        assert_eq!(ifname(b"en0\0"), None);
    }
}
