//! Interface addresses, MTU and flags through the ioctls `ifconfig` uses (sys/sockio.h):
//! SIOCAIFADDR with struct ifaliasreq, SIOCAIFADDR_IN6 with struct in6_aliasreq, SIOCSIFMTU
//! and SIOCGIFFLAGS/SIOCSIFFLAGS with struct ifreq. The requests are built as bytes here; their
//! sizes and field offsets are the SDK's, checked in the tests.

use std::net::{Ipv4Addr, Ipv6Addr};

use super::ioctl::{iow, iowr};
use super::sockaddr;

pub const IFNAMSIZ: usize = 16;
pub const IFREQ_LEN: usize = 32;
pub const IFALIASREQ_LEN: usize = 64;
pub const IN6_ALIASREQ_LEN: usize = 128;

pub const SIOCAIFADDR: u64 = iow(b'i', 26, IFALIASREQ_LEN);
pub const SIOCAIFADDR_IN6: u64 = iow(b'i', 26, IN6_ALIASREQ_LEN);
pub const SIOCSIFMTU: u64 = iow(b'i', 52, IFREQ_LEN);
pub const SIOCSIFFLAGS: u64 = iow(b'i', 16, IFREQ_LEN);
pub const SIOCGIFFLAGS: u64 = iowr(b'i', 17, IFREQ_LEN);

pub const IFF_UP: i16 = 0x1;
/// netinet6/in6_var.h: the address is usable at once (a tunnel has no one to clash with).
pub const IN6_IFF_NODAD: i32 = 0x0020;
pub const ND6_INFINITE_LIFETIME: u32 = 0xffff_ffff;

fn with_name<const N: usize>(name: &str) -> Option<[u8; N]> {
    if name.is_empty() || name.len() >= IFNAMSIZ {
        return None;
    }
    let mut b = [0u8; N];
    b[..name.len()].copy_from_slice(name.as_bytes());
    Some(b)
}

/// struct ifreq carrying an MTU (ifr_mtu at 16).
pub fn ifreq_mtu(name: &str, mtu: u32) -> Option<[u8; IFREQ_LEN]> {
    let mut b = with_name::<IFREQ_LEN>(name)?;
    b[16..20].copy_from_slice(&(mtu as i32).to_ne_bytes());
    Some(b)
}

/// struct ifreq carrying flags (ifr_flags at 16).
pub fn ifreq_flags(name: &str, flags: i16) -> Option<[u8; IFREQ_LEN]> {
    let mut b = with_name::<IFREQ_LEN>(name)?;
    b[16..18].copy_from_slice(&flags.to_ne_bytes());
    Some(b)
}

pub fn flags_of(ifreq: &[u8; IFREQ_LEN]) -> i16 {
    i16::from_ne_bytes([ifreq[16], ifreq[17]])
}

/// struct ifaliasreq: name, address at 16, destination at 32, mask at 48. A utun device is
/// point-to-point; like openvpn, the destination is the local address itself and the
/// subnet is reached through a route on the interface.
pub fn ifaliasreq(name: &str, addr: Ipv4Addr, prefix: u8) -> Option<[u8; IFALIASREQ_LEN]> {
    let mut b = with_name::<IFALIASREQ_LEN>(name)?;
    b[16..32].copy_from_slice(&sockaddr::inet(addr));
    b[32..48].copy_from_slice(&sockaddr::inet(addr));
    b[48..64].copy_from_slice(&sockaddr::netmask(addr.into(), prefix));
    Some(b)
}

/// struct in6_aliasreq: name, address at 16, destination at 44 (none), prefix mask at 72,
/// flags at 100, lifetimes at 104 (expire and preferred time_t, then the valid and preferred
/// lifetimes at 120 and 124: infinite).
pub fn in6_aliasreq(name: &str, addr: Ipv6Addr, prefix: u8) -> Option<[u8; IN6_ALIASREQ_LEN]> {
    let mut b = with_name::<IN6_ALIASREQ_LEN>(name)?;
    b[16..44].copy_from_slice(&sockaddr::inet6(addr, 0));
    b[72..100].copy_from_slice(&sockaddr::netmask(addr.into(), prefix));
    b[100..104].copy_from_slice(&IN6_IFF_NODAD.to_ne_bytes());
    b[120..124].copy_from_slice(&ND6_INFINITE_LIFETIME.to_ne_bytes());
    b[124..128].copy_from_slice(&ND6_INFINITE_LIFETIME.to_ne_bytes());
    Some(b)
}

#[cfg(target_os = "macos")]
pub use sys::Ifconfig;

#[cfg(target_os = "macos")]
mod sys {
    use super::*;
    use std::io;
    use std::net::IpAddr;
    use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

    const _: () = assert!(std::mem::size_of::<libc::ifaliasreq>() == IFALIASREQ_LEN);
    const _: () = assert!(std::mem::size_of::<libc::ifreq>() == IFREQ_LEN);

    /// Datagram sockets of both families, the handles the address ioctls go through.
    pub struct Ifconfig {
        inet: OwnedFd,
        inet6: OwnedFd,
    }

    fn socket(family: libc::c_int) -> io::Result<OwnedFd> {
        // SAFETY: plain socket(2); the result is checked and then owned.
        let raw = unsafe { libc::socket(family, libc::SOCK_DGRAM, 0) };
        if raw < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: a fresh descriptor nothing else owns.
        Ok(unsafe { OwnedFd::from_raw_fd(raw) })
    }

    fn ioctl<const N: usize>(fd: &OwnedFd, request: u64, arg: &mut [u8; N]) -> io::Result<()> {
        // SAFETY: `arg` is the structure `request` expects, built with the SDK's layout.
        let rc = unsafe { libc::ioctl(fd.as_raw_fd(), request as libc::c_ulong, arg.as_mut_ptr()) };
        if rc < 0 {
            Err(io::Error::last_os_error())
        } else {
            Ok(())
        }
    }

    fn bad_name(name: &str) -> io::Error {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{name:?} is not an interface name"),
        )
    }

    impl Ifconfig {
        pub fn open() -> io::Result<Self> {
            Ok(Ifconfig {
                inet: socket(libc::AF_INET)?,
                inet6: socket(libc::AF_INET6)?,
            })
        }

        pub fn set_mtu_and_up(&self, name: &str, mtu: u32) -> io::Result<()> {
            let mut req = ifreq_mtu(name, mtu).ok_or_else(|| bad_name(name))?;
            ioctl(&self.inet, SIOCSIFMTU, &mut req)?;
            let mut req = ifreq_flags(name, 0).ok_or_else(|| bad_name(name))?;
            ioctl(&self.inet, SIOCGIFFLAGS, &mut req)?;
            let mut req =
                ifreq_flags(name, flags_of(&req) | IFF_UP).ok_or_else(|| bad_name(name))?;
            ioctl(&self.inet, SIOCSIFFLAGS, &mut req)
        }

        pub fn add_address(&self, name: &str, addr: IpAddr, prefix: u8) -> io::Result<()> {
            match addr {
                IpAddr::V4(a) => {
                    let mut req = ifaliasreq(name, a, prefix).ok_or_else(|| bad_name(name))?;
                    ioctl(&self.inet, SIOCAIFADDR, &mut req)
                }
                IpAddr::V6(a) => {
                    let mut req = in6_aliasreq(name, a, prefix).ok_or_else(|| bad_name(name))?;
                    ioctl(&self.inet6, SIOCAIFADDR_IN6, &mut req)
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_numbers_are_the_sdk_values() {
        assert_eq!(SIOCAIFADDR, 0x8040_691a);
        assert_eq!(SIOCAIFADDR_IN6, 0x8080_691a);
        assert_eq!(SIOCSIFMTU, 0x8020_6934);
        assert_eq!(SIOCSIFFLAGS, 0x8020_6910);
        assert_eq!(SIOCGIFFLAGS, 0xc020_6911);
    }

    #[test]
    fn ifreq_carries_name_mtu_and_flags() {
        let r = ifreq_mtu("utun3", 1400).unwrap();
        assert_eq!(&r[..6], b"utun3\0");
        assert_eq!(i32::from_ne_bytes(r[16..20].try_into().unwrap()), 1400);
        let f = ifreq_flags("utun3", IFF_UP | 0x10).unwrap();
        assert_eq!(flags_of(&f), 0x11);
        assert!(ifreq_mtu("", 1500).is_none());
        assert!(ifreq_mtu("a-name-too-long!", 1500).is_none());
    }

    #[test]
    fn ipv4_alias_is_point_to_point_to_itself_with_the_mask() {
        let r = ifaliasreq("utun3", "10.8.0.2".parse().unwrap(), 24).unwrap();
        assert_eq!(r[16..24], [16, 2, 0, 0, 10, 8, 0, 2]);
        assert_eq!(r[32..40], [16, 2, 0, 0, 10, 8, 0, 2]);
        assert_eq!(r[48..56], [16, 2, 0, 0, 255, 255, 255, 0]);
    }

    #[test]
    fn ipv6_alias_has_prefix_mask_nodad_and_infinite_lifetimes() {
        let r = in6_aliasreq("utun3", "fd00:8::2".parse().unwrap(), 64).unwrap();
        assert_eq!((r[16], r[17]), (28, 30));
        assert_eq!(r[24..26], [0xfd, 0x00]);
        assert_eq!(r[44], 0, "no destination");
        assert_eq!((r[72], r[73]), (28, 30));
        assert_eq!(r[80..88], [0xff; 8]);
        assert_eq!(r[88..96], [0; 8]);
        assert_eq!(
            i32::from_ne_bytes(r[100..104].try_into().unwrap()),
            IN6_IFF_NODAD
        );
        assert_eq!(r[104..120], [0; 16], "no expiry times");
        assert_eq!(r[120..128], [0xff; 8]);
    }
}
