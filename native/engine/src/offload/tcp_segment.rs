//! Recognises the TCP segments the offloads may rewrite or drop: carried in IPv4 without
//! options or fragmentation, or in IPv6 without extension headers, with lengths that agree and
//! checksums that hold. A corrupt packet must reach the kernel alone, which drops it: merged
//! into a super-segment (whose checksums are computed afresh) or standing in for another, it
//! would hide the corruption.

use super::checksum::{self, pseudo_header};

/// Where a plain TCP segment's header lies in its IP packet.
#[derive(Clone, Copy)]
pub struct TcpSegment {
    pub v6: bool,
    /// Offset of the TCP header.
    pub l4: usize,
    /// Offset of the payload (TCP header with options included).
    pub payload: usize,
}

/// The packet's TCP segment, or None when it is anything else, malformed or corrupt.
pub fn plain_tcp(pkt: &[u8]) -> Option<TcpSegment> {
    let (v6, l4) = match pkt.first()? >> 4 {
        4 if pkt.len() >= 40 && pkt[0] == 0x45 && pkt[9] == 6 => {
            let frag = u16::from_be_bytes([pkt[6], pkt[7]]);
            let total = usize::from(u16::from_be_bytes([pkt[2], pkt[3]]));
            if frag & 0x3fff != 0 || total != pkt.len() {
                return None;
            }
            if checksum::finish(checksum::sum(&pkt[..20], 0)) != 0 {
                return None;
            }
            (false, 20)
        }
        6 if pkt.len() >= 60 && pkt[6] == 6 => {
            if usize::from(u16::from_be_bytes([pkt[4], pkt[5]])) + 40 != pkt.len() {
                return None;
            }
            (true, 40)
        }
        _ => return None,
    };
    let doff = usize::from(pkt[l4 + 12] >> 4) * 4;
    if doff < 20 || l4 + doff > pkt.len() {
        return None;
    }
    let (s, d) = if v6 {
        (8..24, 24..40)
    } else {
        (12..16, 16..20)
    };
    let len = pkt.len() - l4;
    let sum = checksum::sum(&pkt[l4..], pseudo_header(&pkt[s], &pkt[d], 6, len));
    (checksum::finish(sum) == 0).then_some(TcpSegment {
        v6,
        l4,
        payload: l4 + doff,
    })
}
