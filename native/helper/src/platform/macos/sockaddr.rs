//! BSD socket addresses as bytes (netinet/in.h, netinet6/in6.h, net/if_dl.h): the routing
//! socket and the address ioctls take them with a leading length byte. Sizes and offsets are
//! the SDK's, checked in the tests.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

pub const AF_INET: u8 = 2;
pub const AF_LINK: u8 = 18;
/// macOS's value (Linux uses 10, FreeBSD 28).
pub const AF_INET6: u8 = 30;
pub const SOCKADDR_IN_LEN: usize = 16;
pub const SOCKADDR_IN6_LEN: usize = 28;
pub const SOCKADDR_DL_LEN: usize = 20;

/// sockaddr_in: len, family, port, address, 8 bytes of zero.
pub fn inet(addr: Ipv4Addr) -> [u8; SOCKADDR_IN_LEN] {
    let mut b = [0u8; SOCKADDR_IN_LEN];
    b[0] = SOCKADDR_IN_LEN as u8;
    b[1] = AF_INET;
    b[4..8].copy_from_slice(&addr.octets());
    b
}

/// sockaddr_in6: len, family, port, flow info, address at 8, scope id at 24. A link-local
/// address carries its interface in bytes 2..4 of the address, as the kernel's routing socket
/// expects (the KAME convention the `route` tool follows).
pub fn inet6(addr: Ipv6Addr, link_index: u32) -> [u8; SOCKADDR_IN6_LEN] {
    let mut b = [0u8; SOCKADDR_IN6_LEN];
    b[0] = SOCKADDR_IN6_LEN as u8;
    b[1] = AF_INET6;
    let mut octets = addr.octets();
    if is_link_local(&addr) {
        octets[2..4].copy_from_slice(&(link_index as u16).to_be_bytes());
    }
    b[8..24].copy_from_slice(&octets);
    b
}

/// The sockaddr for `addr` (the link index only matters for IPv6 link-local addresses).
pub fn ip(addr: IpAddr, link_index: u32) -> Vec<u8> {
    match addr {
        IpAddr::V4(a) => inet(a).to_vec(),
        IpAddr::V6(a) => inet6(a, link_index).to_vec(),
    }
}

/// A netmask of `prefix` bits in the family of `like`.
pub fn netmask(like: IpAddr, prefix: u8) -> Vec<u8> {
    match like {
        IpAddr::V4(_) => {
            let m = if prefix == 0 {
                0
            } else {
                u32::MAX << (32 - prefix.min(32))
            };
            inet(Ipv4Addr::from(m)).to_vec()
        }
        IpAddr::V6(_) => {
            let m = if prefix == 0 {
                0
            } else {
                u128::MAX << (128 - prefix.min(128))
            };
            inet6(Ipv6Addr::from(m), 0).to_vec()
        }
    }
}

/// sockaddr_dl naming an interface by index: len, family, index, type, and no name or address.
pub fn link(index: u32) -> [u8; SOCKADDR_DL_LEN] {
    let mut b = [0u8; SOCKADDR_DL_LEN];
    b[0] = SOCKADDR_DL_LEN as u8;
    b[1] = AF_LINK;
    b[2..4].copy_from_slice(&(index as u16).to_ne_bytes());
    b
}

fn is_link_local(a: &Ipv6Addr) -> bool {
    a.segments()[0] & 0xffc0 == 0xfe80
}

/// A socket address read from the kernel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decoded {
    Ip(IpAddr),
    Link(u32),
    Other,
}

/// Decodes one sockaddr (its first byte is its length).
pub fn decode(b: &[u8]) -> Decoded {
    match (b.get(1).copied(), b.len()) {
        (Some(AF_INET), n) if n >= 8 => Decoded::Ip(Ipv4Addr::new(b[4], b[5], b[6], b[7]).into()),
        (Some(AF_INET6), n) if n >= 24 => {
            let mut octets: [u8; 16] = b[8..24].try_into().expect("16 bytes");
            let addr = Ipv6Addr::from(octets);
            if is_link_local(&addr) {
                // The embedded interface is not part of the address.
                octets[2..4].fill(0);
            }
            Decoded::Ip(Ipv6Addr::from(octets).into())
        }
        (Some(AF_LINK), n) if n >= 4 => Decoded::Link(u16::from_ne_bytes([b[2], b[3]]) as u32),
        _ => Decoded::Other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_encode_with_the_sdk_layout() {
        let a = inet("192.0.2.7".parse().unwrap());
        assert_eq!(a[..8], [16, 2, 0, 0, 192, 0, 2, 7]);
        let b = inet6("2001:db8::1".parse().unwrap(), 5);
        assert_eq!((b[0], b[1]), (28, 30));
        assert_eq!(b[8..10], [0x20, 0x01]);
        assert_eq!(b[23], 1);
        assert_eq!(b[24..28], [0; 4], "scope id stays zero");
        let l = link(9);
        assert_eq!((l[0], l[1]), (20, 18));
        assert_eq!(u16::from_ne_bytes([l[2], l[3]]), 9);
    }

    #[test]
    fn link_local_addresses_carry_their_interface_inside_the_address() {
        let gw: Ipv6Addr = "fe80::1".parse().unwrap();
        let b = inet6(gw, 4);
        assert_eq!(b[8..12], [0xfe, 0x80, 0, 4]);
        assert_eq!(decode(&b), Decoded::Ip(gw.into()));
        assert_eq!(ip(gw.into(), 4), b.to_vec());
    }

    #[test]
    fn netmasks_and_decoding() {
        let m = netmask("10.0.0.0".parse().unwrap(), 8);
        assert_eq!(m[4..8], [255, 0, 0, 0]);
        assert_eq!(netmask("10.0.0.0".parse().unwrap(), 0)[4..8], [0; 4]);
        let m6 = netmask("fd00::".parse().unwrap(), 64);
        assert_eq!(m6[8..16], [0xff; 8]);
        assert_eq!(m6[16..24], [0; 8]);
        assert_eq!(
            decode(&inet("10.1.2.3".parse().unwrap())),
            Decoded::Ip("10.1.2.3".parse().unwrap())
        );
        assert_eq!(decode(&link(3)), Decoded::Link(3));
        assert_eq!(decode(&[2, 99]), Decoded::Other);
        assert_eq!(decode(&[]), Decoded::Other);
    }
}
