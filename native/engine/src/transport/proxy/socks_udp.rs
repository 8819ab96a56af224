//! SOCKS5 UDP relaying (RFC 1928 §7): every datagram to and from the relay carries a header
//! naming the far end (RSV 0x0000, FRAG, ATYP, DST.ADDR, DST.PORT). We never fragment, and a
//! fragment from the relay is dropped, as the RFC allows a client that does not reassemble.

use super::socks::{parse_address, put_address, BoundAddr, SocksError};
use std::io;
use std::net::SocketAddr;

/// Why a datagram from the relay is not one of ours.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UdpHeaderError {
    /// Not a SOCKS UDP header (reserved bytes, address type or length wrong, truncated).
    Malformed,
    /// A fragment (FRAG ≠ 0): reassembly is not supported, so it is dropped.
    Fragment(u8),
}

impl From<SocksError> for UdpHeaderError {
    fn from(_: SocksError) -> Self {
        UdpHeaderError::Malformed
    }
}

/// The header our datagrams to `target` carry (the same for every one of them).
pub fn udp_header(target: SocketAddr) -> Vec<u8> {
    let mut h = vec![0, 0, 0];
    put_address(&mut h, target);
    h
}

/// How many bytes `udp_header` puts before each datagram to a server of this family.
pub fn udp_header_len(ipv6: bool) -> u32 {
    // RSV, FRAG, ATYP, the address, the port.
    3 + 1 + if ipv6 { 16 } else { 4 } + 2
}

/// Parses the header of a whole datagram from the relay: the address it came from and where
/// its payload starts.
pub fn parse_udp_header(datagram: &[u8]) -> Result<(BoundAddr, usize), UdpHeaderError> {
    match datagram {
        [0, 0, 0, rest @ ..] => parse_address(rest)?
            .map(|(from, n)| (from, 3 + n))
            .ok_or(UdpHeaderError::Malformed),
        [0, 0, frag, ..] => Err(UdpHeaderError::Fragment(*frag)),
        _ => Err(UdpHeaderError::Malformed),
    }
}

/// Where to send the datagrams, from the proxy's answer to UDP ASSOCIATE: an unspecified
/// address (0.0.0.0 or ::, which many proxies send) means the proxy's own address.
pub async fn relay_address(bound: BoundAddr, proxy_addr: SocketAddr) -> io::Result<SocketAddr> {
    match bound {
        BoundAddr::Ip(a) if a.ip().is_unspecified() => {
            Ok(SocketAddr::new(proxy_addr.ip(), a.port()))
        }
        BoundAddr::Ip(a) => Ok(a),
        BoundAddr::Domain(name, port) => tokio::net::lookup_host((name.as_str(), port))
            .await?
            .next()
            .ok_or_else(|| {
                io::Error::new(
                    io::ErrorKind::NotFound,
                    format!("the SOCKS proxy's UDP relay {name} has no address"),
                )
            }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_and_reads_the_header_of_both_families() {
        for target in ["192.0.2.7:1194", "[2001:db8::7]:1194"] {
            let target: SocketAddr = target.parse().unwrap();
            let mut d = udp_header(target);
            let n = d.len();
            d.extend_from_slice(b"payload");
            assert_eq!(
                parse_udp_header(&d),
                Ok((BoundAddr::Ip(target), n)),
                "{target}"
            );
        }
        assert_eq!(
            udp_header("192.0.2.7:1194".parse().unwrap()),
            [0, 0, 0, 1, 192, 0, 2, 7, 0x04, 0xaa]
        );
        assert_eq!(udp_header_len(false), 10);
        let v6 = udp_header("[2001:db8::7]:1194".parse().unwrap());
        assert_eq!(udp_header_len(true) as usize, v6.len());
    }

    #[test]
    fn a_header_may_be_followed_by_nothing() {
        let h = udp_header("192.0.2.7:1194".parse().unwrap());
        assert_eq!(parse_udp_header(&h).map(|(_, n)| n), Ok(h.len()));
    }

    #[test]
    fn refuses_fragments_and_garbage() {
        let mut frag = udp_header("192.0.2.7:1194".parse().unwrap());
        frag[2] = 1;
        assert_eq!(parse_udp_header(&frag), Err(UdpHeaderError::Fragment(1)));
        let whole = udp_header("192.0.2.7:1194".parse().unwrap());
        for cut in 0..whole.len() {
            assert_eq!(
                parse_udp_header(&whole[..cut]),
                Err(UdpHeaderError::Malformed),
                "truncated at {cut}"
            );
        }
        for bad in [
            &[0, 1, 0, 1, 0, 0, 0, 0, 0, 0][..],
            &[5, 0, 0, 1, 0, 0, 0, 0, 0, 0],
            &[0, 0, 0, 9, 0, 0, 0, 0, 0, 0],
            &[0, 0, 0, 3, 0, 0, 0],
            b"\x00\x00\x00\x03\x02a/\x00\x35",
        ] {
            assert_eq!(
                parse_udp_header(bad),
                Err(UdpHeaderError::Malformed),
                "{bad:?}"
            );
        }
    }

    #[tokio::test]
    async fn an_unspecified_relay_address_means_the_proxy() {
        let proxy: SocketAddr = "10.99.0.3:1080".parse().unwrap();
        let relay = relay_address(BoundAddr::Ip("0.0.0.0:40000".parse().unwrap()), proxy)
            .await
            .unwrap();
        assert_eq!(relay, "10.99.0.3:40000".parse().unwrap());
        let named = relay_address(BoundAddr::Ip("10.99.0.9:40001".parse().unwrap()), proxy)
            .await
            .unwrap();
        assert_eq!(named, "10.99.0.9:40001".parse().unwrap());
    }
}
