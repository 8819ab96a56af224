//! A minimal rtnetlink client: just the link, address, route and rule operations the helper needs,
//! spoken directly over an AF_NETLINK socket (no `ip` subprocess, no extra dependency).
//! Every request asks for an ACK so the kernel's verdict comes back as a Result.

use std::io;
use std::net::IpAddr;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

use super::marked::FWMARK;
use super::policy_routing::TUNNEL_TABLE;
use crate::network::route_conflict::ObservedRoute;
use crate::platform::{NextHop as RouteLookup, PolicyRule, Route};

const NLMSG_HDRLEN: usize = 16;
const NLMSG_ERROR: u16 = 2;
const NLMSG_DONE: u16 = 3;
const NLM_F_REQUEST: u16 = 0x1;
const NLM_F_ACK: u16 = 0x4;
const NLM_F_EXCL: u16 = 0x200;
const NLM_F_CREATE: u16 = 0x400;

const RTM_NEWLINK: u16 = 16;
const RTM_NEWADDR: u16 = 20;
const RTM_NEWROUTE: u16 = 24;
const RTM_DELROUTE: u16 = 25;
const RTM_GETROUTE: u16 = 26;
const RTM_NEWRULE: u16 = 32;
const RTM_DELRULE: u16 = 33;

const IFLA_MTU: u16 = 4;
const IFA_ADDRESS: u16 = 1;
const IFA_LOCAL: u16 = 2;
const IFA_FLAGS: u16 = 8;
const IFA_F_NODAD: u32 = 0x02;
const RTA_DST: u16 = 1;
const RTA_OIF: u16 = 4;
const RTA_GATEWAY: u16 = 5;
const RTA_TABLE: u16 = 15;
const RTA_PRIORITY: u16 = 6;
const RTA_MARK: u16 = 16;
const FRA_DST: u16 = 1;
const FRA_PRIORITY: u16 = 6;
const FRA_FWMARK: u16 = 10;
const FRA_TABLE: u16 = 15;
const FRA_FWMASK: u16 = 16;
const FR_ACT_TO_TBL: u8 = 1;
const FIB_RULE_INVERT: u32 = 0x2;

/// In the fixed header, a table beyond 255 is "unspecified": RTA_TABLE carries it.
const RT_TABLE_UNSPEC: u8 = 0;
const RTPROT_STATIC: u8 = 4;
const RT_SCOPE_UNIVERSE: u8 = 0;
const RTN_UNICAST: u8 = 1;
/// The gateway is reachable through the given device even if no address route says so:
/// right for a point-to-point TUN device whatever the pushed topology is.
const RTNH_F_ONLINK: u32 = 4;
const RT_TABLE_MAIN: u32 = 254;
const RTPROT_KERNEL: u8 = 2;
/// The multicast groups of IPv4 and IPv6 route changes (RTNLGRP_IPV4_ROUTE, _IPV6_ROUTE).
const RTMGRP_IPV4_ROUTE: u32 = 0x40;
const RTMGRP_IPV6_ROUTE: u32 = 0x400;

/// A route change the kernel announced: what the conflict decision needs, and the header and
/// metric that delete exactly that route again.
#[derive(Debug, Clone)]
pub struct AnnouncedRoute {
    pub route: ObservedRoute,
    header: [u8; 12],
    table: u32,
    priority: Option<u32>,
}

pub struct Netlink {
    fd: OwnedFd,
    seq: u32,
}

fn family(addr: &IpAddr) -> u8 {
    match addr {
        IpAddr::V4(_) => libc::AF_INET as u8,
        IpAddr::V6(_) => libc::AF_INET6 as u8,
    }
}

fn addr_bytes(addr: &IpAddr) -> Vec<u8> {
    match addr {
        IpAddr::V4(a) => a.octets().to_vec(),
        IpAddr::V6(a) => a.octets().to_vec(),
    }
}

fn align4(n: usize) -> usize {
    (n + 3) & !3
}

/// Builds one request: header placeholder, fixed family header, then attributes.
struct Request {
    buf: Vec<u8>,
}

impl Request {
    fn new(msg_type: u16, flags: u16, fixed: &[u8]) -> Self {
        let mut buf = vec![0u8; NLMSG_HDRLEN];
        buf[4..6].copy_from_slice(&msg_type.to_ne_bytes());
        buf[6..8].copy_from_slice(&(flags | NLM_F_REQUEST | NLM_F_ACK).to_ne_bytes());
        buf.extend_from_slice(fixed);
        buf.resize(align4(buf.len()), 0);
        Request { buf }
    }

    fn attr(mut self, kind: u16, data: &[u8]) -> Self {
        let len = 4 + data.len();
        self.buf.extend_from_slice(&(len as u16).to_ne_bytes());
        self.buf.extend_from_slice(&kind.to_ne_bytes());
        self.buf.extend_from_slice(data);
        self.buf.resize(align4(self.buf.len()), 0);
        self
    }

    fn finish(mut self, seq: u32) -> Vec<u8> {
        let len = self.buf.len() as u32;
        self.buf[0..4].copy_from_slice(&len.to_ne_bytes());
        self.buf[8..12].copy_from_slice(&seq.to_ne_bytes());
        self.buf
    }
}

fn rtmsg(family: u8, dst_len: u8, flags: u32) -> [u8; 12] {
    let mut m = [0u8; 12];
    m[0] = family;
    m[1] = dst_len;
    m[4] = RT_TABLE_UNSPEC;
    m[5] = RTPROT_STATIC;
    m[6] = RT_SCOPE_UNIVERSE;
    m[7] = RTN_UNICAST;
    m[8..12].copy_from_slice(&flags.to_ne_bytes());
    m
}

impl Netlink {
    pub fn open() -> io::Result<Self> {
        // SAFETY: plain socket(2) call; the returned descriptor is checked and then owned.
        let raw = unsafe {
            libc::socket(
                libc::AF_NETLINK,
                libc::SOCK_RAW | libc::SOCK_CLOEXEC,
                libc::NETLINK_ROUTE,
            )
        };
        if raw < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: `raw` is a fresh, valid descriptor that nothing else owns.
        let fd = unsafe { OwnedFd::from_raw_fd(raw) };
        Ok(Netlink { fd, seq: 1 })
    }

    /// A socket that receives the kernel's announcements of IPv4 and IPv6 route changes;
    /// each read waits at most `timeout` (so its reader can notice it should stop).
    pub fn open_route_monitor(timeout: std::time::Duration) -> io::Result<Self> {
        let nl = Netlink::open()?;
        // SAFETY: binding an owned netlink socket to a zeroed sockaddr_nl with its groups set,
        // and setting SO_RCVTIMEO from a valid timeval.
        unsafe {
            let mut sa: libc::sockaddr_nl = std::mem::zeroed();
            sa.nl_family = libc::AF_NETLINK as u16;
            sa.nl_groups = RTMGRP_IPV4_ROUTE | RTMGRP_IPV6_ROUTE;
            if libc::bind(
                nl.fd.as_raw_fd(),
                (&sa as *const libc::sockaddr_nl).cast(),
                std::mem::size_of::<libc::sockaddr_nl>() as u32,
            ) < 0
            {
                return Err(io::Error::last_os_error());
            }
            let tv = libc::timeval {
                tv_sec: timeout.as_secs() as libc::time_t,
                tv_usec: timeout.subsec_micros() as libc::suseconds_t,
            };
            if libc::setsockopt(
                nl.fd.as_raw_fd(),
                libc::SOL_SOCKET,
                libc::SO_RCVTIMEO,
                (&tv as *const libc::timeval).cast(),
                std::mem::size_of::<libc::timeval>() as u32,
            ) < 0
            {
                return Err(io::Error::last_os_error());
            }
        }
        Ok(nl)
    }

    /// The routes added in the next batch of announcements (empty when the wait timed out).
    /// An overrun (ENOBUFS: the kernel dropped announcements) is an error of its own.
    pub fn next_added_routes(&mut self) -> io::Result<Vec<AnnouncedRoute>> {
        let mut buf = vec![0u8; 32 * 1024];
        // SAFETY: reading into an owned buffer of the given length.
        let n = unsafe { libc::recv(self.fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len(), 0) };
        if n < 0 {
            let err = io::Error::last_os_error();
            return match err.kind() {
                io::ErrorKind::WouldBlock
                | io::ErrorKind::TimedOut
                | io::ErrorKind::Interrupted => Ok(Vec::new()),
                _ => Err(err),
            };
        }
        let mut added = Vec::new();
        let mut rest = &buf[..n as usize];
        while rest.len() >= NLMSG_HDRLEN {
            let len = u32::from_ne_bytes(rest[0..4].try_into().unwrap()) as usize;
            let kind = u16::from_ne_bytes(rest[4..6].try_into().unwrap());
            if len < NLMSG_HDRLEN || len > rest.len() {
                break;
            }
            if kind == RTM_NEWROUTE {
                added.extend(parse_announced_route(&rest[NLMSG_HDRLEN..len]));
            }
            rest = &rest[align4(len).min(rest.len())..];
        }
        Ok(added)
    }

    /// Deletes the route `announced` describes, from the table it was announced in.
    pub fn delete_announced(&mut self, announced: &AnnouncedRoute) -> io::Result<()> {
        let r = &announced.route;
        let mut req = Request::new(RTM_DELROUTE, 0, &announced.header)
            .attr(RTA_TABLE, &announced.table.to_ne_bytes())
            .attr(RTA_DST, &addr_bytes(&r.dst));
        if let Some(oif) = r.oif {
            req = req.attr(RTA_OIF, &oif.to_ne_bytes());
        }
        if let Some(gw) = &r.gateway {
            req = req.attr(RTA_GATEWAY, &addr_bytes(gw));
        }
        if let Some(priority) = announced.priority {
            req = req.attr(RTA_PRIORITY, &priority.to_ne_bytes());
        }
        self.transact(req).map(|_| ())
    }

    /// Sets the MTU and brings the link up.
    pub fn set_link_up(&mut self, index: u32, mtu: u32) -> io::Result<()> {
        let mut ifi = [0u8; 16];
        ifi[0] = libc::AF_UNSPEC as u8;
        ifi[4..8].copy_from_slice(&(index as i32).to_ne_bytes());
        ifi[8..12].copy_from_slice(&(libc::IFF_UP as u32).to_ne_bytes());
        ifi[12..16].copy_from_slice(&(libc::IFF_UP as u32).to_ne_bytes());
        let req = Request::new(RTM_NEWLINK, 0, &ifi).attr(IFLA_MTU, &mtu.to_ne_bytes());
        self.transact(req).map(|_| ())
    }

    /// Adds an address to a device. IPv6 addresses skip duplicate address detection so they
    /// are usable at once (a TUN link has no neighbours to clash with).
    pub fn add_address(&mut self, index: u32, addr: IpAddr, prefix: u8) -> io::Result<()> {
        let mut ifa = [0u8; 8];
        ifa[0] = family(&addr);
        ifa[1] = prefix;
        ifa[4..8].copy_from_slice(&index.to_ne_bytes());
        let bytes = addr_bytes(&addr);
        let mut req = Request::new(RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, &ifa)
            .attr(IFA_LOCAL, &bytes)
            .attr(IFA_ADDRESS, &bytes);
        if addr.is_ipv6() {
            req = req.attr(IFA_FLAGS, &IFA_F_NODAD.to_ne_bytes());
        }
        self.transact(req).map(|_| ())
    }

    pub fn add_route(&mut self, route: &Route) -> io::Result<()> {
        let req = self.route_request(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL, route);
        self.transact(req).map(|_| ())
    }

    pub fn delete_route(&mut self, route: &Route) -> io::Result<()> {
        let req = self.route_request(RTM_DELROUTE, 0, route);
        self.transact(req).map(|_| ())
    }

    fn route_request(&self, msg_type: u16, flags: u16, route: &Route) -> Request {
        let onlink = if route.gateway.is_some() {
            RTNH_F_ONLINK
        } else {
            0
        };
        let mut req = Request::new(
            msg_type,
            flags,
            &rtmsg(family(&route.dst), route.prefix, onlink),
        )
        .attr(RTA_TABLE, &TUNNEL_TABLE.to_ne_bytes())
        .attr(RTA_DST, &addr_bytes(&route.dst))
        .attr(RTA_OIF, &route.oif.to_ne_bytes());
        if let Some(gw) = &route.gateway {
            req = req.attr(RTA_GATEWAY, &addr_bytes(gw));
        }
        req
    }

    pub fn add_rule(&mut self, rule: &PolicyRule) -> io::Result<()> {
        // No NLM_F_EXCL: a second session's identical rule is a second copy.
        let req = rule_request(RTM_NEWRULE, NLM_F_CREATE, rule);
        self.transact(req).map(|_| ())
    }

    pub fn delete_rule(&mut self, rule: &PolicyRule) -> io::Result<()> {
        let req = rule_request(RTM_DELRULE, 0, rule);
        self.transact(req).map(|_| ())
    }

    /// Asks the kernel how the helper's own (marked) sockets reach `dst` now (like `ip route
    /// get … mark`): past the tunnel's table, through the main one.
    pub fn lookup_route(&mut self, dst: IpAddr) -> io::Result<RouteLookup> {
        let full = if dst.is_ipv4() { 32 } else { 128 };
        let mut m = rtmsg(family(&dst), full, 0);
        m[4] = 0; // table, protocol, scope and type are outputs of a lookup
        m[5] = 0;
        m[7] = 0;
        let req = Request::new(RTM_GETROUTE, 0, &m)
            .attr(RTA_DST, &addr_bytes(&dst))
            .attr(RTA_MARK, &FWMARK.to_ne_bytes());
        let reply = self.transact(req)?;
        let reply = reply.ok_or_else(|| io::Error::other("route lookup returned no route"))?;
        parse_route_reply(&reply)
    }

    /// Sends a request and waits for its ACK; returns the data message that preceded the ACK
    /// (only RTM_GETROUTE gets one).
    fn transact(&mut self, req: Request) -> io::Result<Option<Vec<u8>>> {
        self.seq = self.seq.wrapping_add(1);
        let seq = self.seq;
        let msg = req.finish(seq);
        // SAFETY: the buffer is valid for its length; the socket is an owned netlink socket and
        // a zeroed sockaddr_nl addresses the kernel.
        let sent = unsafe {
            let mut sa: libc::sockaddr_nl = std::mem::zeroed();
            sa.nl_family = libc::AF_NETLINK as u16;
            libc::sendto(
                self.fd.as_raw_fd(),
                msg.as_ptr().cast(),
                msg.len(),
                0,
                (&sa as *const libc::sockaddr_nl).cast(),
                std::mem::size_of::<libc::sockaddr_nl>() as u32,
            )
        };
        if sent < 0 {
            return Err(io::Error::last_os_error());
        }
        let mut data = None;
        let mut buf = vec![0u8; 32 * 1024];
        loop {
            // SAFETY: reading into an owned buffer of the given length.
            let n =
                unsafe { libc::recv(self.fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len(), 0) };
            if n < 0 {
                let err = io::Error::last_os_error();
                if err.kind() == io::ErrorKind::Interrupted {
                    continue;
                }
                return Err(err);
            }
            let mut rest = &buf[..n as usize];
            while rest.len() >= NLMSG_HDRLEN {
                let len = u32::from_ne_bytes(rest[0..4].try_into().unwrap()) as usize;
                let kind = u16::from_ne_bytes(rest[4..6].try_into().unwrap());
                let msg_seq = u32::from_ne_bytes(rest[8..12].try_into().unwrap());
                if len < NLMSG_HDRLEN || len > rest.len() {
                    return Err(io::Error::other("malformed netlink reply"));
                }
                let body = &rest[NLMSG_HDRLEN..len];
                if msg_seq == seq {
                    match kind {
                        NLMSG_ERROR => {
                            let code = i32::from_ne_bytes(body[0..4].try_into().unwrap());
                            return if code == 0 {
                                Ok(data)
                            } else {
                                Err(io::Error::from_raw_os_error(-code))
                            };
                        }
                        NLMSG_DONE => return Ok(data),
                        _ => data = Some(body.to_vec()),
                    }
                }
                rest = &rest[align4(len).min(rest.len())..];
            }
        }
    }
}

/// A rule request (struct fib_rule_hdr, then attributes): look up `rule.table`.
fn rule_request(msg_type: u16, flags: u16, rule: &PolicyRule) -> Request {
    let mut hdr = [0u8; 12];
    hdr[0] = if rule.ipv6 {
        libc::AF_INET6 as u8
    } else {
        libc::AF_INET as u8
    };
    if let Some((_, prefix)) = rule.to {
        hdr[1] = prefix;
    }
    hdr[4] = RT_TABLE_UNSPEC;
    hdr[7] = FR_ACT_TO_TBL;
    let invert = if rule.unless_mark.is_some() {
        FIB_RULE_INVERT
    } else {
        0
    };
    hdr[8..12].copy_from_slice(&invert.to_ne_bytes());
    let mut req = Request::new(msg_type, flags, &hdr)
        .attr(FRA_PRIORITY, &rule.priority.to_ne_bytes())
        .attr(FRA_TABLE, &rule.table.to_ne_bytes());
    if let Some((dst, _)) = &rule.to {
        req = req.attr(FRA_DST, &addr_bytes(dst));
    }
    if let Some(mark) = rule.unless_mark {
        req = req
            .attr(FRA_FWMARK, &mark.to_ne_bytes())
            .attr(FRA_FWMASK, &u32::MAX.to_ne_bytes());
    }
    req
}

fn parse_route_reply(body: &[u8]) -> io::Result<RouteLookup> {
    if body.len() < 12 {
        return Err(io::Error::other("short route reply"));
    }
    let family = body[0];
    let mut oif = None;
    let mut gateway = None;
    let mut attrs = &body[12..];
    while attrs.len() >= 4 {
        let len = u16::from_ne_bytes([attrs[0], attrs[1]]) as usize;
        let kind = u16::from_ne_bytes([attrs[2], attrs[3]]);
        if len < 4 || len > attrs.len() {
            break;
        }
        let data = &attrs[4..len];
        match kind {
            RTA_OIF if data.len() == 4 => oif = Some(u32::from_ne_bytes(data.try_into().unwrap())),
            RTA_GATEWAY => gateway = ip_from_bytes(family, data),
            _ => {}
        }
        attrs = &attrs[align4(len).min(attrs.len())..];
    }
    let oif = oif.ok_or_else(|| io::Error::other("route reply without an output device"))?;
    Ok(RouteLookup { oif, gateway })
}

/// An RTM_NEWROUTE body: struct rtmsg, then attributes. None for what is not a unicast
/// route to a network (local, broadcast, multicast entries; a default route has no RTA_DST
/// and gets the unspecified address).
fn parse_announced_route(body: &[u8]) -> Option<AnnouncedRoute> {
    let header: [u8; 12] = body.get(..12)?.try_into().ok()?;
    let (family, prefix, protocol, kind) = (header[0], header[1], header[5], header[7]);
    if kind != RTN_UNICAST {
        return None;
    }
    let mut table = u32::from(header[4]);
    let mut dst = match family as i32 {
        libc::AF_INET => IpAddr::from([0u8; 4]),
        libc::AF_INET6 => IpAddr::from([0u8; 16]),
        _ => return None,
    };
    let (mut oif, mut gateway, mut priority) = (None, None, None);
    let mut attrs = &body[12..];
    while attrs.len() >= 4 {
        let len = u16::from_ne_bytes([attrs[0], attrs[1]]) as usize;
        let attr = u16::from_ne_bytes([attrs[2], attrs[3]]);
        if len < 4 || len > attrs.len() {
            break;
        }
        let data = &attrs[4..len];
        let word = <[u8; 4]>::try_from(data).ok().map(u32::from_ne_bytes);
        match attr {
            RTA_DST => dst = ip_from_bytes(family, data)?,
            RTA_OIF => oif = word,
            RTA_GATEWAY => gateway = ip_from_bytes(family, data),
            RTA_PRIORITY => priority = word,
            RTA_TABLE => table = word.unwrap_or(table),
            _ => {}
        }
        attrs = &attrs[align4(len).min(attrs.len())..];
    }
    Some(AnnouncedRoute {
        route: ObservedRoute {
            dst,
            prefix,
            gateway,
            oif,
            in_main_table: table == RT_TABLE_MAIN,
            made_by_kernel: protocol == RTPROT_KERNEL,
        },
        header,
        table,
        priority,
    })
}

fn ip_from_bytes(family: u8, data: &[u8]) -> Option<IpAddr> {
    match (family as i32, data.len()) {
        (libc::AF_INET, 4) => Some(IpAddr::from(<[u8; 4]>::try_from(data).ok()?)),
        (libc::AF_INET6, 16) => Some(IpAddr::from(<[u8; 16]>::try_from(data).ok()?)),
        _ => None,
    }
}

/// The kernel index of a device, or None when no such device exists.
pub fn link_index(name: &str) -> Option<u32> {
    let c = std::ffi::CString::new(name).ok()?;
    // SAFETY: `c` is a valid NUL-terminated string.
    let idx = unsafe { libc::if_nametoindex(c.as_ptr()) };
    (idx != 0).then_some(idx)
}

/// The name of the device with kernel index `index`, or None when there is none.
pub fn link_name(index: u32) -> Option<String> {
    let mut buf = [0 as libc::c_char; libc::IF_NAMESIZE];
    // SAFETY: `buf` has the IF_NAMESIZE bytes if_indextoname writes at most.
    let named = unsafe { libc::if_indextoname(index, buf.as_mut_ptr()) };
    if named.is_null() {
        return None;
    }
    // SAFETY: on success `buf` holds a NUL-terminated name.
    let name = unsafe { std::ffi::CStr::from_ptr(buf.as_ptr()) };
    Some(name.to_string_lossy().into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn route_request_encodes_header_and_attributes() {
        let nl = Netlink::open().unwrap();
        let route = Route {
            dst: "10.8.0.0".parse().unwrap(),
            prefix: 24,
            gateway: Some("10.8.0.1".parse().unwrap()),
            oif: 7,
        };
        let msg = nl
            .route_request(RTM_NEWROUTE, NLM_F_CREATE, &route)
            .finish(9);
        assert_eq!(
            u32::from_ne_bytes(msg[0..4].try_into().unwrap()) as usize,
            msg.len()
        );
        assert_eq!(
            u16::from_ne_bytes(msg[4..6].try_into().unwrap()),
            RTM_NEWROUTE
        );
        assert_eq!(u32::from_ne_bytes(msg[8..12].try_into().unwrap()), 9);
        let rt = &msg[16..28];
        assert_eq!(
            (rt[0], rt[1], rt[4]),
            (libc::AF_INET as u8, 24, RT_TABLE_UNSPEC)
        );
        assert_eq!(&msg[28 + 4..28 + 8], &TUNNEL_TABLE.to_ne_bytes());
        assert_eq!(
            u32::from_ne_bytes(rt[8..12].try_into().unwrap()),
            RTNH_F_ONLINK
        );
        // table(8) + dst(8) + oif(8) + gateway(8)
        assert_eq!(msg.len(), 28 + 32);
        assert_eq!(&msg[28 + 12..28 + 16], &[10, 8, 0, 0]);
        assert_eq!(&msg[28 + 20..28 + 24], &7u32.to_ne_bytes());
        assert_eq!(&msg[28 + 28..28 + 32], &[10, 8, 0, 1]);
    }

    #[test]
    fn parses_a_route_reply_with_gateway() {
        let mut body = rtmsg(libc::AF_INET as u8, 32, 0).to_vec();
        body.extend_from_slice(&8u16.to_ne_bytes());
        body.extend_from_slice(&RTA_OIF.to_ne_bytes());
        body.extend_from_slice(&3u32.to_ne_bytes());
        body.extend_from_slice(&8u16.to_ne_bytes());
        body.extend_from_slice(&RTA_GATEWAY.to_ne_bytes());
        body.extend_from_slice(&[192, 168, 1, 1]);
        let r = parse_route_reply(&body).unwrap();
        assert_eq!(
            r,
            RouteLookup {
                oif: 3,
                gateway: Some("192.168.1.1".parse().unwrap())
            }
        );
        assert!(parse_route_reply(&body[..12]).is_err());
    }

    #[test]
    fn parses_an_announced_route_in_the_main_table() {
        let mut body = rtmsg(libc::AF_INET as u8, 24, 0).to_vec();
        body[4] = RT_TABLE_MAIN as u8;
        body[5] = 3; // RTPROT_BOOT: `ip route add`
        for (kind, data) in [
            (RTA_TABLE, RT_TABLE_MAIN.to_ne_bytes().to_vec()),
            (RTA_DST, vec![192, 0, 2, 0]),
            (RTA_GATEWAY, vec![10, 99, 0, 1]),
            (RTA_OIF, 3u32.to_ne_bytes().to_vec()),
        ] {
            body.extend_from_slice(&8u16.to_ne_bytes());
            body.extend_from_slice(&kind.to_ne_bytes());
            body.extend_from_slice(&data);
        }
        let announced = parse_announced_route(&body).unwrap();
        assert_eq!(
            announced.route,
            ObservedRoute {
                dst: "192.0.2.0".parse().unwrap(),
                prefix: 24,
                gateway: Some("10.99.0.1".parse().unwrap()),
                oif: Some(3),
                in_main_table: true,
                made_by_kernel: false,
            }
        );
        assert_eq!(announced.priority, None);
        let mut local = body.clone();
        local[7] = 2; // RTN_LOCAL
        assert!(parse_announced_route(&local).is_none());
        assert!(parse_announced_route(&body[..8]).is_none());
    }

    #[test]
    fn loopback_is_found_by_name() {
        assert!(link_index("lo").is_some());
        assert_eq!(link_index("no-such-dev-x"), None);
        assert_eq!(link_name(link_index("lo").unwrap()).as_deref(), Some("lo"));
    }
}
