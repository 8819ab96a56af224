//! The virtio-net header (`struct virtio_net_hdr`, 10 bytes) in front of every packet on a TUN
//! device opened with `IFF_VNET_HDR`. The legacy layout is in host byte order.

pub const LEN: usize = 10;

pub const F_NEEDS_CSUM: u8 = 1;

pub const GSO_NONE: u8 = 0;
pub const GSO_TCPV4: u8 = 1;
pub const GSO_TCPV6: u8 = 4;
pub const GSO_UDP_L4: u8 = 5;
/// Flag bit on `gso_type`: the segments carry ECN CWR (handled like any TCP flag).
pub const GSO_ECN: u8 = 0x80;

/// What the kernel asks of a packet it hands us.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct VnetHdr {
    pub flags: u8,
    pub gso_type: u8,
    pub hdr_len: u16,
    pub gso_size: u16,
    /// Where the checksum coverage starts (the transport header) and where, relative to that,
    /// the checksum field is; valid with `F_NEEDS_CSUM`.
    pub csum_start: u16,
    pub csum_offset: u16,
}

/// A header that cannot describe the packet behind it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VnetError {
    Truncated,
    /// A GSO type we never enabled (e.g. UFO) or ECN on a non-TCP type.
    UnknownGso(u8),
    /// `csum_start`/`csum_offset` point outside the packet.
    BadChecksumOffsets,
    /// A GSO packet with a zero segment size.
    ZeroSegmentSize,
}

impl std::fmt::Display for VnetError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            VnetError::Truncated => f.write_str("packet shorter than its virtio-net header"),
            VnetError::UnknownGso(t) => write!(f, "unsupported virtio-net GSO type {t:#x}"),
            VnetError::BadChecksumOffsets => f.write_str("checksum offsets outside the packet"),
            VnetError::ZeroSegmentSize => f.write_str("GSO packet with segment size 0"),
        }
    }
}

impl VnetHdr {
    /// Parses the header at the start of `buf` and checks it against the `buf.len() - LEN`
    /// packet bytes that follow it.
    pub fn parse(buf: &[u8]) -> Result<Self, VnetError> {
        let b: &[u8; LEN] = buf
            .get(..LEN)
            .and_then(|s| s.try_into().ok())
            .ok_or(VnetError::Truncated)?;
        let u = |i: usize| u16::from_ne_bytes([b[i], b[i + 1]]);
        let h = VnetHdr {
            flags: b[0],
            gso_type: b[1],
            hdr_len: u(2),
            gso_size: u(4),
            csum_start: u(6),
            csum_offset: u(8),
        };
        let pkt_len = buf.len() - LEN;
        match h.gso_type & !GSO_ECN {
            GSO_NONE if h.gso_type & GSO_ECN == 0 => {}
            GSO_TCPV4 | GSO_TCPV6 => {}
            GSO_UDP_L4 if h.gso_type & GSO_ECN == 0 => {}
            _ => return Err(VnetError::UnknownGso(h.gso_type)),
        }
        if h.gso_type != GSO_NONE && h.gso_size == 0 {
            return Err(VnetError::ZeroSegmentSize);
        }
        if h.flags & F_NEEDS_CSUM != 0 {
            let field = usize::from(h.csum_start) + usize::from(h.csum_offset);
            if field + 2 > pkt_len {
                return Err(VnetError::BadChecksumOffsets);
            }
        }
        Ok(h)
    }

    /// Writes the header into the first `LEN` bytes of `out`.
    pub fn write(&self, out: &mut [u8]) {
        out[0] = self.flags;
        out[1] = self.gso_type;
        out[2..4].copy_from_slice(&self.hdr_len.to_ne_bytes());
        out[4..6].copy_from_slice(&self.gso_size.to_ne_bytes());
        out[6..8].copy_from_slice(&self.csum_start.to_ne_bytes());
        out[8..10].copy_from_slice(&self.csum_offset.to_ne_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn roundtrip() {
        let h = VnetHdr {
            flags: F_NEEDS_CSUM,
            gso_type: GSO_TCPV6,
            hdr_len: 74,
            gso_size: 1388,
            csum_start: 40,
            csum_offset: 16,
        };
        let mut buf = vec![0u8; LEN + 3000];
        h.write(&mut buf);
        assert_eq!(VnetHdr::parse(&buf), Ok(h));
    }

    #[test]
    fn rejects_what_it_cannot_honour() {
        let mut buf = vec![0u8; LEN + 60];
        assert_eq!(VnetHdr::parse(&buf[..4]), Err(VnetError::Truncated));
        buf[1] = 3; // UFO
        assert_eq!(VnetHdr::parse(&buf), Err(VnetError::UnknownGso(3)));
        buf[1] = GSO_TCPV4;
        assert_eq!(VnetHdr::parse(&buf), Err(VnetError::ZeroSegmentSize));
        let h = VnetHdr {
            flags: F_NEEDS_CSUM,
            csum_start: 50,
            csum_offset: 16,
            ..Default::default()
        };
        h.write(&mut buf);
        assert_eq!(VnetHdr::parse(&buf), Err(VnetError::BadChecksumOffsets));
    }

    proptest! {
        // Stands in for a cargo-fuzz target until the workspace's fuzz suite lands: arbitrary
        // bytes never panic the parser, and whatever it accepts round-trips.
        #[test]
        fn parser_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..80)) {
            if let Ok(h) = VnetHdr::parse(&bytes) {
                let mut again = bytes.clone();
                h.write(&mut again);
                prop_assert_eq!(&again, &bytes);
            }
        }
    }
}
