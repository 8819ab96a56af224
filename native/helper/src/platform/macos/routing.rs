//! Routes through the PF_ROUTE routing socket: RTM_ADD, RTM_DELETE and RTM_GET messages (an
//! rt_msghdr followed by the socket addresses its `rtm_addrs` bits name, each padded to 4
//! bytes), encoded and decoded here as bytes. The header's size, field offsets and the
//! constants are net/route.h's, checked in the tests (and against libc's rt_msghdr when built
//! for macOS).

use std::io;
use std::net::IpAddr;

use super::sockaddr::{self, Decoded};
use crate::platform::{NextHop, Route};

pub const RTM_VERSION: u8 = 5;
pub const RTM_ADD: u8 = 0x1;
pub const RTM_DELETE: u8 = 0x2;
pub const RTM_GET: u8 = 0x4;

pub const RTF_UP: i32 = 0x1;
pub const RTF_GATEWAY: i32 = 0x2;
pub const RTF_HOST: i32 = 0x4;
pub const RTF_STATIC: i32 = 0x800;

pub const RTA_DST: i32 = 0x1;
pub const RTA_GATEWAY: i32 = 0x2;
pub const RTA_NETMASK: i32 = 0x4;
pub const RTA_IFP: i32 = 0x10;
/// The sockaddrs after the header appear in the order of these bits (RTAX_DST … RTAX_BRD).
const RTAX_MAX: usize = 8;

/// sizeof(struct rt_msghdr): 36 bytes of fields, then struct rt_metrics (14 x u32).
pub const RT_MSGHDR_LEN: usize = 92;
const OFF_MSGLEN: usize = 0;
const OFF_VERSION: usize = 2;
const OFF_TYPE: usize = 3;
const OFF_INDEX: usize = 4;
const OFF_FLAGS: usize = 8;
const OFF_ADDRS: usize = 12;
const OFF_PID: usize = 16;
const OFF_SEQ: usize = 20;
const OFF_ERRNO: usize = 24;

/// A sockaddr's space in a message: its length rounded up to 4 (a zero length takes 4).
fn padded(len: usize) -> usize {
    if len == 0 {
        4
    } else {
        (len + 3) & !3
    }
}

fn host_prefix(dst: &IpAddr) -> u8 {
    if dst.is_ipv4() {
        32
    } else {
        128
    }
}

fn header(kind: u8, flags: i32, addrs: i32, seq: i32) -> Vec<u8> {
    let mut m = vec![0u8; RT_MSGHDR_LEN];
    m[OFF_VERSION] = RTM_VERSION;
    m[OFF_TYPE] = kind;
    m[OFF_FLAGS..OFF_FLAGS + 4].copy_from_slice(&flags.to_ne_bytes());
    m[OFF_ADDRS..OFF_ADDRS + 4].copy_from_slice(&addrs.to_ne_bytes());
    m[OFF_SEQ..OFF_SEQ + 4].copy_from_slice(&seq.to_ne_bytes());
    m
}

fn push_sockaddr(m: &mut Vec<u8>, sa: &[u8]) {
    let start = m.len();
    m.extend_from_slice(sa);
    m.resize(start + padded(sa.len()), 0);
}

fn finish(mut m: Vec<u8>) -> Vec<u8> {
    let len = m.len() as u16;
    m[OFF_MSGLEN..OFF_MSGLEN + 2].copy_from_slice(&len.to_ne_bytes());
    m
}

/// RTM_ADD or RTM_DELETE for `route`. Through a gateway: RTF_GATEWAY with its address (the
/// interface is then the kernel's to find, as for `route add -host x gw`). Without one: the
/// interface itself as the gateway (`route add -net x -interface utunN`).
pub fn change_message(kind: u8, route: &Route, seq: i32) -> Vec<u8> {
    let host = route.prefix == host_prefix(&route.dst);
    let mut flags = RTF_UP | RTF_STATIC;
    let mut addrs = RTA_DST | RTA_GATEWAY;
    if route.gateway.is_some() {
        flags |= RTF_GATEWAY;
    }
    if host {
        flags |= RTF_HOST;
    } else {
        addrs |= RTA_NETMASK;
    }
    let mut m = header(kind, flags, addrs, seq);
    push_sockaddr(&mut m, &sockaddr::ip(route.dst, route.oif));
    match route.gateway {
        Some(gw) => push_sockaddr(&mut m, &sockaddr::ip(gw, route.oif)),
        None => push_sockaddr(&mut m, &sockaddr::link(route.oif)),
    }
    if !host {
        push_sockaddr(&mut m, &sockaddr::netmask(route.dst, route.prefix));
    }
    finish(m)
}

/// RTM_GET for the route the kernel would use to reach `dst`, asking for its interface.
pub fn get_message(dst: IpAddr, seq: i32) -> Vec<u8> {
    let mut m = header(RTM_GET, RTF_UP | RTF_HOST, RTA_DST | RTA_IFP, seq);
    push_sockaddr(&mut m, &sockaddr::ip(dst, 0));
    // An empty sockaddr_dl for RTA_IFP: the kernel fills in the interface.
    push_sockaddr(&mut m, &sockaddr::link(0));
    finish(m)
}

fn read_i32(b: &[u8], off: usize) -> i32 {
    i32::from_ne_bytes(b[off..off + 4].try_into().expect("4 bytes"))
}

/// The parts of a routing message the helper reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub kind: u8,
    pub pid: i32,
    pub seq: i32,
    pub errno: i32,
    pub index: u32,
    pub flags: i32,
    /// The sockaddrs by RTAX slot.
    pub addrs: [Option<Decoded>; RTAX_MAX],
}

/// Decodes one routing message; None when it is short, of another version, or its
/// sockaddrs run past its end.
pub fn decode(b: &[u8]) -> Option<Reply> {
    if b.len() < RT_MSGHDR_LEN || b[OFF_VERSION] != RTM_VERSION {
        return None;
    }
    let len = u16::from_ne_bytes([b[OFF_MSGLEN], b[OFF_MSGLEN + 1]]) as usize;
    if len < RT_MSGHDR_LEN {
        return None;
    }
    let b = b.get(..len)?;
    let bits = read_i32(b, OFF_ADDRS);
    let mut addrs: [Option<Decoded>; RTAX_MAX] = Default::default();
    let mut at = RT_MSGHDR_LEN;
    for (slot, addr) in addrs.iter_mut().enumerate() {
        if bits & (1 << slot) == 0 {
            continue;
        }
        let sa_len = *b.get(at)? as usize;
        let sa = b.get(at..at + sa_len)?;
        *addr = Some(sockaddr::decode(sa));
        at += padded(sa_len);
    }
    Some(Reply {
        kind: b[OFF_TYPE],
        pid: read_i32(b, OFF_PID),
        seq: read_i32(b, OFF_SEQ),
        errno: read_i32(b, OFF_ERRNO),
        index: u16::from_ne_bytes([b[OFF_INDEX], b[OFF_INDEX + 1]]) as u32,
        flags: read_i32(b, OFF_FLAGS),
        addrs,
    })
}

/// The next hop in an RTM_GET reply: its interface, and its gateway when the route has one.
pub fn next_hop(reply: &Reply) -> io::Result<NextHop> {
    if reply.errno != 0 {
        return Err(io::Error::from_raw_os_error(reply.errno));
    }
    let gateway = match &reply.addrs[1] {
        Some(Decoded::Ip(ip)) if reply.flags & RTF_GATEWAY != 0 => Some(*ip),
        _ => None,
    };
    let oif = match (&reply.addrs[4], reply.index) {
        (Some(Decoded::Link(i)), _) if *i != 0 => *i,
        (_, i) if i != 0 => i,
        _ => return Err(io::Error::other("route reply without an interface")),
    };
    Ok(NextHop { oif, gateway })
}

#[cfg(target_os = "macos")]
pub use sys::RoutingSocket;

#[cfg(target_os = "macos")]
mod sys {
    use super::*;
    use std::mem::offset_of;
    use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

    const _: () = assert!(std::mem::size_of::<libc::rt_msghdr>() == RT_MSGHDR_LEN);
    const _: () = assert!(offset_of!(libc::rt_msghdr, rtm_flags) == OFF_FLAGS);
    const _: () = assert!(offset_of!(libc::rt_msghdr, rtm_addrs) == OFF_ADDRS);
    const _: () = assert!(offset_of!(libc::rt_msghdr, rtm_seq) == OFF_SEQ);
    const _: () = assert!(offset_of!(libc::rt_msghdr, rtm_errno) == OFF_ERRNO);
    const _: () = assert!(libc::RTM_VERSION == RTM_VERSION as libc::c_int);

    pub struct RoutingSocket {
        fd: OwnedFd,
        seq: i32,
    }

    impl RoutingSocket {
        pub fn open() -> io::Result<Self> {
            // SAFETY: plain socket(2); the result is checked and then owned.
            let raw = unsafe { libc::socket(libc::PF_ROUTE, libc::SOCK_RAW, libc::AF_UNSPEC) };
            if raw < 0 {
                return Err(io::Error::last_os_error());
            }
            // SAFETY: a fresh descriptor nothing else owns.
            let fd = unsafe { OwnedFd::from_raw_fd(raw) };
            // SAFETY: fcntl on a descriptor we own.
            unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_SETFD, libc::FD_CLOEXEC) };
            Ok(RoutingSocket { fd, seq: 0 })
        }

        fn next_seq(&mut self) -> i32 {
            self.seq = self.seq.wrapping_add(1);
            self.seq
        }

        /// Writes a message; the kernel's verdict on a change is the write's result
        /// (EEXIST, ESRCH, ...).
        fn send(&self, m: &[u8]) -> io::Result<()> {
            // SAFETY: `m` is valid for reads of its length.
            let n = unsafe { libc::write(self.fd.as_raw_fd(), m.as_ptr().cast(), m.len()) };
            if n < 0 {
                return Err(io::Error::last_os_error());
            }
            Ok(())
        }

        pub fn change(&mut self, kind: u8, route: &Route) -> io::Result<()> {
            let seq = self.next_seq();
            self.send(&change_message(kind, route, seq))
        }

        /// RTM_GET: the reply is the message with our pid and sequence number (the socket
        /// also sees every other routing message on the system).
        pub fn lookup(&mut self, dst: IpAddr) -> io::Result<NextHop> {
            let seq = self.next_seq();
            self.send(&get_message(dst, seq))?;
            let me = std::process::id() as i32;
            let mut buf = vec![0u8; 2048];
            loop {
                // SAFETY: `buf` is writable for its length.
                let n =
                    unsafe { libc::read(self.fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) };
                if n < 0 {
                    let e = io::Error::last_os_error();
                    // ENOBUFS: other messages overflowed the buffer; ours may still come.
                    if e.raw_os_error() == Some(libc::ENOBUFS)
                        || e.kind() == io::ErrorKind::Interrupted
                    {
                        continue;
                    }
                    return Err(e);
                }
                match decode(&buf[..n as usize]) {
                    Some(r) if r.kind == RTM_GET && r.pid == me && r.seq == seq => {
                        return next_hop(&r)
                    }
                    _ => continue,
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn route(dst: &str, prefix: u8, gw: Option<&str>, oif: u32) -> Route {
        Route {
            dst: dst.parse().unwrap(),
            prefix,
            gateway: gw.map(|g| g.parse().unwrap()),
            oif,
        }
    }

    #[test]
    fn the_header_has_net_route_h_layout() {
        let m = get_message("192.0.2.1".parse().unwrap(), 7);
        assert_eq!(RT_MSGHDR_LEN, 36 + 14 * 4);
        assert_eq!(u16::from_ne_bytes([m[0], m[1]]) as usize, m.len());
        assert_eq!((m[OFF_VERSION], m[OFF_TYPE]), (5, RTM_GET));
        assert_eq!(read_i32(&m, OFF_ADDRS), RTA_DST | RTA_IFP);
        assert_eq!(read_i32(&m, OFF_SEQ), 7);
        // Header, then a sockaddr_in and an empty sockaddr_dl.
        assert_eq!(m.len(), 92 + 16 + 20);
        assert_eq!((m[92], m[93]), (16, 2));
        assert_eq!((m[108], m[109]), (20, 18));
    }

    #[test]
    fn a_host_route_via_the_original_gateway() {
        let m = change_message(
            RTM_ADD,
            &route("198.51.100.7", 32, Some("192.168.1.1"), 4),
            1,
        );
        let flags = read_i32(&m, OFF_FLAGS);
        assert_eq!(flags, RTF_UP | RTF_STATIC | RTF_GATEWAY | RTF_HOST);
        assert_eq!(read_i32(&m, OFF_ADDRS), RTA_DST | RTA_GATEWAY);
        assert_eq!(m.len(), 92 + 16 + 16);
        assert_eq!(m[92 + 16 + 4..92 + 16 + 8], [192, 168, 1, 1]);
    }

    #[test]
    fn a_network_route_through_the_tunnel_interface() {
        let m = change_message(RTM_DELETE, &route("0.0.0.0", 1, None, 9), 2);
        assert_eq!(m[OFF_TYPE], RTM_DELETE);
        assert_eq!(read_i32(&m, OFF_FLAGS), RTF_UP | RTF_STATIC);
        assert_eq!(read_i32(&m, OFF_ADDRS), RTA_DST | RTA_GATEWAY | RTA_NETMASK);
        // dst (16), the interface as gateway (sockaddr_dl, 20), netmask (16).
        assert_eq!(m.len(), 92 + 16 + 20 + 16);
        assert_eq!(m[92 + 16 + 1], 18);
        assert_eq!(m[92 + 36 + 4], 128);
        let v6 = change_message(RTM_ADD, &route("fd00:1::", 64, None, 9), 3);
        assert_eq!(v6.len(), 92 + 28 + 20 + 28);
    }

    fn reply(flags: i32, index: u16, addrs: &[(i32, Vec<u8>)], errno: i32) -> Vec<u8> {
        let bits = addrs.iter().fold(0, |b, (bit, _)| b | bit);
        let mut m = header(RTM_GET, flags, bits, 7);
        m[OFF_INDEX..OFF_INDEX + 2].copy_from_slice(&index.to_ne_bytes());
        m[OFF_PID..OFF_PID + 4].copy_from_slice(&42i32.to_ne_bytes());
        m[OFF_ERRNO..OFF_ERRNO + 4].copy_from_slice(&errno.to_ne_bytes());
        for (_, sa) in addrs {
            push_sockaddr(&mut m, sa);
        }
        finish(m)
    }

    #[test]
    fn replies_give_the_interface_and_the_gateway() {
        let dst = sockaddr::inet("198.51.100.7".parse().unwrap()).to_vec();
        let gw = sockaddr::inet("192.168.1.1".parse().unwrap()).to_vec();
        let m = reply(
            RTF_UP | RTF_GATEWAY,
            0,
            &[
                (RTA_DST, dst.clone()),
                (RTA_GATEWAY, gw),
                (RTA_NETMASK, vec![0]),
                (RTA_IFP, sockaddr::link(4).to_vec()),
            ],
            0,
        );
        let r = decode(&m).unwrap();
        assert_eq!((r.pid, r.seq), (42, 7));
        assert_eq!(
            next_hop(&r).unwrap(),
            NextHop {
                oif: 4,
                gateway: Some("192.168.1.1".parse().unwrap())
            }
        );
        // On the LAN: the gateway is the interface's link address, there is no next hop.
        let lan = reply(
            RTF_UP,
            5,
            &[(RTA_DST, dst), (RTA_GATEWAY, sockaddr::link(5).to_vec())],
            0,
        );
        assert_eq!(
            next_hop(&decode(&lan).unwrap()).unwrap(),
            NextHop {
                oif: 5,
                gateway: None
            }
        );
        let unreachable = reply(RTF_UP, 0, &[], 3);
        assert_eq!(
            next_hop(&decode(&unreachable).unwrap())
                .unwrap_err()
                .raw_os_error(),
            Some(3)
        );
    }

    #[test]
    fn malformed_messages_are_rejected_not_misread() {
        let dst = sockaddr::inet("198.51.100.7".parse().unwrap()).to_vec();
        let m = reply(RTF_UP, 1, &[(RTA_DST, dst)], 0);
        assert!(decode(&m[..50]).is_none());
        let mut wrong_version = m.clone();
        wrong_version[OFF_VERSION] = 4;
        assert!(decode(&wrong_version).is_none());
        // A sockaddr that claims more bytes than the message has.
        let mut overlong = m.clone();
        overlong[RT_MSGHDR_LEN] = 200;
        assert!(decode(&overlong).is_none());
        for cut in 0..m.len() {
            let _ = decode(&m[..cut]);
        }
    }
}
