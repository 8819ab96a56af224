//! Splitting a TUN super-segment (TSO/USO, see `vnet`) into the IP packets it stands for, and
//! completing checksums the kernel left to us (`F_NEEDS_CSUM`). Each segment is built in a
//! caller-owned scratch buffer and handed to a callback: nothing is allocated per packet.

use super::checksum::{self, pseudo_header};
use super::vnet::{self, VnetHdr, F_NEEDS_CSUM, GSO_ECN, GSO_NONE, GSO_TCPV4, GSO_TCPV6};

const TCP_FIN: u8 = 0x01;
const TCP_PSH: u8 = 0x08;
const TCP_CWR: u8 = 0x80;

/// A super-segment whose headers do not match what its virtio-net header says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SplitError {
    Vnet(vnet::VnetError),
    /// Not an IPv4/IPv6 packet of the protocol the GSO type names, or headers cut short.
    Malformed,
    /// A segment would not fit the scratch buffer.
    TooLarge,
}

impl From<vnet::VnetError> for SplitError {
    fn from(e: vnet::VnetError) -> Self {
        SplitError::Vnet(e)
    }
}

/// Where the L3 addresses of an IP packet are: (src, dst) ranges.
fn addresses(pkt: &[u8]) -> Option<(std::ops::Range<usize>, std::ops::Range<usize>)> {
    match pkt.first()? >> 4 {
        4 if pkt.len() >= 20 => Some((12..16, 16..20)),
        6 if pkt.len() >= 40 => Some((8..24, 24..40)),
        _ => None,
    }
}

/// Writes the TCP/UDP checksum of `pkt[l4..]` (the field at `l4 + field`) from scratch.
fn set_l4_checksum(pkt: &mut [u8], l4: usize, field: usize, proto: u8) -> Option<()> {
    let (src, dst) = addresses(pkt)?;
    pkt[l4 + field] = 0;
    pkt[l4 + field + 1] = 0;
    let len = pkt.len() - l4;
    let acc = checksum::sum(&pkt[l4..], pseudo_header(&pkt[src], &pkt[dst], proto, len));
    let mut c = checksum::finish(acc);
    if proto == 17 && c == 0 {
        c = 0xffff; // UDP: zero means "no checksum"
    }
    pkt[l4 + field..l4 + field + 2].copy_from_slice(&c.to_be_bytes());
    Some(())
}

/// Sets the IP header's length field(s) for a packet of `pkt.len()` bytes, and the IPv4
/// identification and header checksum.
fn fix_ip_header(pkt: &mut [u8], ipv4_id: Option<u16>) -> Option<()> {
    let len = pkt.len();
    match pkt[0] >> 4 {
        4 => {
            let ihl = usize::from(pkt[0] & 0x0f) * 4;
            pkt[2..4].copy_from_slice(&u16::try_from(len).ok()?.to_be_bytes());
            if let Some(id) = ipv4_id {
                pkt[4..6].copy_from_slice(&id.to_be_bytes());
            }
            checksum::set_ipv4_header(&mut pkt[..ihl]);
        }
        _ => pkt[4..6].copy_from_slice(&u16::try_from(len - 40).ok()?.to_be_bytes()),
    }
    Some(())
}

/// Calls `emit` with each IP packet `buf` (virtio-net header + packet, as read from the TUN
/// device) stands for, built in `scratch`. A packet without GSO goes out as it is, its
/// checksum completed if the kernel asked for that.
pub fn split(
    buf: &mut [u8],
    scratch: &mut [u8],
    mut emit: impl FnMut(&mut [u8]),
) -> Result<(), SplitError> {
    let h = VnetHdr::parse(buf)?;
    let pkt = &mut buf[vnet::LEN..];
    if h.gso_type == GSO_NONE {
        if h.flags & F_NEEDS_CSUM != 0 {
            complete_checksum(pkt, &h);
        }
        emit(pkt);
        return Ok(());
    }
    let l4 = usize::from(h.csum_start);
    let (proto, version) = match h.gso_type & !GSO_ECN {
        GSO_TCPV4 => (6u8, 4u8),
        GSO_TCPV6 => (6, 6),
        _ => (17, pkt.first().map_or(0, |b| b >> 4)),
    };
    if pkt.first().map(|b| b >> 4) != Some(version) || addresses(pkt).is_none() {
        return Err(SplitError::Malformed);
    }
    // An IPv4 header is 20 to 60 bytes (IHL 5 to 15) and ends where the transport header starts.
    let ihl = usize::from(pkt[0] & 0x0f) * 4;
    if version == 4 && (ihl < 20 || ihl > l4 || pkt[9] != proto) {
        return Err(SplitError::Malformed);
    }
    if version == 6 && l4 < 40 {
        return Err(SplitError::Malformed);
    }
    let l4_len = if proto == 6 {
        let doff = usize::from(*pkt.get(l4 + 12).ok_or(SplitError::Malformed)? >> 4) * 4;
        if doff < 20 {
            return Err(SplitError::Malformed);
        }
        doff
    } else {
        8
    };
    let hdr_len = l4 + l4_len;
    if hdr_len > pkt.len() {
        return Err(SplitError::Malformed);
    }
    let mss = usize::from(h.gso_size);
    if hdr_len + mss > scratch.len() {
        return Err(SplitError::TooLarge);
    }
    let (headers, payload) = pkt.split_at(hdr_len);
    let ipv4_id = (version == 4).then(|| u16::from_be_bytes([headers[4], headers[5]]));
    let seq = (proto == 6).then(|| {
        u32::from_be_bytes([
            headers[l4 + 4],
            headers[l4 + 5],
            headers[l4 + 6],
            headers[l4 + 7],
        ])
    });
    let count = payload.len().div_ceil(mss).max(1);
    for (i, chunk) in payload
        .chunks(mss)
        .chain(payload.is_empty().then_some(&[][..]))
        .enumerate()
    {
        let seg = &mut scratch[..hdr_len + chunk.len()];
        seg[..hdr_len].copy_from_slice(headers);
        seg[hdr_len..].copy_from_slice(chunk);
        fix_ip_header(seg, ipv4_id.map(|id| id.wrapping_add(i as u16)))
            .ok_or(SplitError::Malformed)?;
        if let Some(seq) = seq {
            let s = seq.wrapping_add((i * mss) as u32);
            seg[l4 + 4..l4 + 8].copy_from_slice(&s.to_be_bytes());
            // FIN and PSH belong to the last segment, CWR to the first (as the kernel's TSO).
            if i + 1 < count {
                seg[l4 + 13] &= !(TCP_FIN | TCP_PSH);
            }
            if i > 0 {
                seg[l4 + 13] &= !TCP_CWR;
            }
            set_l4_checksum(seg, l4, 16, 6).ok_or(SplitError::Malformed)?;
        } else {
            let udp_len = u16::try_from(8 + chunk.len()).map_err(|_| SplitError::Malformed)?;
            seg[l4 + 4..l4 + 6].copy_from_slice(&udp_len.to_be_bytes());
            set_l4_checksum(seg, l4, 6, 17).ok_or(SplitError::Malformed)?;
        }
        emit(seg);
    }
    Ok(())
}

/// `F_NEEDS_CSUM` without GSO: the checksum field holds the pseudo-header sum; fold in the
/// rest of the transport segment.
fn complete_checksum(pkt: &mut [u8], h: &VnetHdr) {
    let start = usize::from(h.csum_start);
    let field = start + usize::from(h.csum_offset);
    // `VnetHdr::parse` checked the field lies inside the packet.
    let c = checksum::finish(checksum::sum(&pkt[start..], 0));
    pkt[field..field + 2].copy_from_slice(&c.to_be_bytes());
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::offload::checksum::{finish, sum};
    use crate::offload::vnet::GSO_UDP_L4;

    /// A TCP/IPv4 or IPv6 packet with valid checksums, for tests here and in `gro`.
    pub(crate) fn tcp_packet(
        v6: bool,
        seq: u32,
        flags: u8,
        options: &[u8],
        payload: &[u8],
    ) -> Vec<u8> {
        let mut tcp = vec![0u8; 20];
        tcp[0..2].copy_from_slice(&5001u16.to_be_bytes());
        tcp[2..4].copy_from_slice(&40000u16.to_be_bytes());
        tcp[4..8].copy_from_slice(&seq.to_be_bytes());
        tcp[8..12].copy_from_slice(&77u32.to_be_bytes());
        tcp[12] = (((20 + options.len()) / 4) as u8) << 4;
        tcp[13] = flags;
        tcp[14..16].copy_from_slice(&512u16.to_be_bytes());
        tcp.extend_from_slice(options);
        tcp.extend_from_slice(payload);
        ip_packet(v6, 6, &[], &tcp, 16)
    }

    /// Wraps a transport segment in IPv4 or IPv6 (with `ext` extension-header bytes whose
    /// first byte chain ends in `proto`) and sets the transport checksum at `csum_field`.
    pub(crate) fn ip_packet(
        v6: bool,
        proto: u8,
        ext: &[u8],
        l4: &[u8],
        csum_field: usize,
    ) -> Vec<u8> {
        let mut p = if v6 {
            let mut h = vec![0u8; 40];
            h[0] = 0x60;
            h[4..6].copy_from_slice(&((ext.len() + l4.len()) as u16).to_be_bytes());
            h[6] = if ext.is_empty() { proto } else { 0 }; // hop-by-hop first
            h[7] = 64;
            h[8..24].copy_from_slice(&[0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
            h[24..40].copy_from_slice(&[0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2]);
            h.extend_from_slice(ext);
            h
        } else {
            let mut h = vec![
                0x45, 0, 0, 0, 0x12, 0x34, 0x40, 0, 64, proto, 0, 0, 10, 8, 0, 1, 10, 8, 0, 6,
            ];
            h[2..4].copy_from_slice(&((20 + l4.len()) as u16).to_be_bytes());
            checksum::set_ipv4_header(&mut h);
            h
        };
        let off = p.len();
        p.extend_from_slice(l4);
        set_l4_checksum(&mut p, off, csum_field, proto).unwrap();
        p
    }

    fn l4_checksum_ok(pkt: &[u8], l4: usize, proto: u8) -> bool {
        let (s, d) = addresses(pkt).unwrap();
        finish(sum(
            &pkt[l4..],
            pseudo_header(&pkt[s], &pkt[d], proto, pkt.len() - l4),
        )) == 0
    }

    /// What the kernel hands us for a TSO write: one header, checksum field = pseudo sum.
    fn super_segment(pkt: &[u8], gso_type: u8, l4: usize, mss: u16, csum_offset: u16) -> Vec<u8> {
        let mut buf = vec![0u8; vnet::LEN];
        VnetHdr {
            flags: F_NEEDS_CSUM,
            gso_type,
            hdr_len: 0,
            gso_size: mss,
            csum_start: l4 as u16,
            csum_offset,
        }
        .write(&mut buf);
        buf.extend_from_slice(pkt);
        buf
    }

    fn split_all(buf: &mut [u8]) -> Result<Vec<Vec<u8>>, SplitError> {
        let mut scratch = vec![0u8; 65536];
        let mut out = Vec::new();
        split(buf, &mut scratch, |p| out.push(p.to_vec()))?;
        Ok(out)
    }

    fn tcp_split_case(v6: bool, payload_len: usize, mss: u16) {
        let options = [1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2]; // NOP NOP timestamps
        let payload: Vec<u8> = (0..payload_len).map(|i| (i * 7) as u8).collect();
        let big = tcp_packet(v6, 1000, 0x18 | TCP_FIN | TCP_CWR, &options, &payload);
        let l4 = if v6 { 40 } else { 20 };
        let mut buf = super_segment(&big, if v6 { GSO_TCPV6 } else { GSO_TCPV4 }, l4, mss, 16);
        let segs = split_all(&mut buf).unwrap();
        let mss = usize::from(mss);
        assert_eq!(segs.len(), payload_len.div_ceil(mss));
        let mut joined = Vec::new();
        for (i, s) in segs.iter().enumerate() {
            let hdr = l4 + 32;
            let last = i + 1 == segs.len();
            assert_eq!(
                s.len() - hdr,
                if last { payload_len - i * mss } else { mss }
            );
            assert!(l4_checksum_ok(s, l4, 6), "segment {i} TCP checksum");
            if v6 {
                assert_eq!(usize::from(u16::from_be_bytes([s[4], s[5]])), s.len() - 40);
            } else {
                assert_eq!(usize::from(u16::from_be_bytes([s[2], s[3]])), s.len());
                assert_eq!(finish(sum(&s[..20], 0)), 0, "IPv4 header checksum");
                assert_eq!(u16::from_be_bytes([s[4], s[5]]), 0x1234 + i as u16);
            }
            let seq = u32::from_be_bytes([s[l4 + 4], s[l4 + 5], s[l4 + 6], s[l4 + 7]]);
            assert_eq!(seq as usize, 1000 + i * mss);
            let flags = s[l4 + 13];
            assert_eq!(flags & TCP_FIN != 0, last, "FIN only on the last");
            assert_eq!(flags & TCP_PSH != 0, last, "PSH only on the last");
            assert_eq!(flags & TCP_CWR != 0, i == 0, "CWR only on the first");
            assert_eq!(&s[l4 + 20..l4 + 32], &options, "options copied");
            joined.extend_from_slice(&s[hdr..]);
        }
        assert_eq!(joined, payload);
    }

    #[test]
    fn tcp_ipv4_and_ipv6_with_odd_tails() {
        for v6 in [false, true] {
            for (len, mss) in [
                (4000, 1388),
                (2776, 1388),
                (1, 1388),
                (1389, 1388),
                (65000, 1448),
                (777, 100),
            ] {
                tcp_split_case(v6, len, mss);
            }
        }
    }

    #[test]
    fn udp_ipv6_behind_extension_headers() {
        // Hop-by-hop options header (8 bytes: next header UDP, length 0, PadN) before UDP.
        let ext = [17u8, 0, 1, 4, 0, 0, 0, 0];
        let payload: Vec<u8> = (0..3001).map(|i| i as u8).collect();
        let mut udp = vec![0u8; 8];
        udp[0..2].copy_from_slice(&53u16.to_be_bytes());
        udp[2..4].copy_from_slice(&9u16.to_be_bytes());
        udp.extend_from_slice(&payload);
        let big = ip_packet(true, 17, &ext, &udp, 6);
        let l4 = 48;
        let mut buf = super_segment(&big, GSO_UDP_L4, l4, 1200, 6);
        let segs = split_all(&mut buf).unwrap();
        assert_eq!(segs.len(), 3);
        for (i, s) in segs.iter().enumerate() {
            assert_eq!(&s[40..48], &ext, "extension header kept");
            assert!(l4_checksum_ok(s, l4, 17), "segment {i} UDP checksum");
            assert_eq!(
                usize::from(u16::from_be_bytes([s[l4 + 4], s[l4 + 5]])),
                s.len() - l4
            );
            assert_eq!(usize::from(u16::from_be_bytes([s[4], s[5]])), s.len() - 40);
        }
        assert_eq!(segs[2].len() - l4 - 8, 601);
    }

    #[test]
    fn completes_a_partial_checksum_without_gso() {
        let good = tcp_packet(false, 5, 0x10, &[], b"hello, odd tail");
        let mut partial = good.clone();
        // What the kernel leaves: the (uncomplemented) pseudo-header sum in the field.
        let (s, d) = addresses(&partial).unwrap();
        let pseudo = checksum::fold(pseudo_header(
            &partial[s],
            &partial[d],
            6,
            partial.len() - 20,
        ));
        partial[36..38].copy_from_slice(&pseudo.to_be_bytes());
        let mut buf = super_segment(&partial, GSO_NONE, 20, 0, 16);
        assert_eq!(split_all(&mut buf).unwrap(), vec![good]);
    }

    #[test]
    fn plain_packets_pass_unchanged() {
        let pkt = tcp_packet(true, 9, 0x02, &[2, 4, 5, 0xb4], &[]);
        let mut buf = vec![0u8; vnet::LEN];
        buf.extend_from_slice(&pkt);
        assert_eq!(split_all(&mut buf).unwrap(), vec![pkt]);
    }

    #[test]
    fn mismatched_headers_are_refused() {
        let pkt = tcp_packet(false, 1, 0x10, &[], &[0u8; 3000]);
        let mut v6_claim = super_segment(&pkt, GSO_TCPV6, 20, 1000, 16);
        assert_eq!(split_all(&mut v6_claim), Err(SplitError::Malformed));
        let mut cut = super_segment(&pkt[..30], GSO_TCPV4, 20, 1000, 16);
        assert!(split_all(&mut cut).is_err());
        // An IPv4 header length under 20 bytes (found by the vnet_offload fuzz target: it
        // panicked rewriting a 4-byte "header").
        let mut short_ihl = pkt.clone();
        short_ihl[0] = 0x41;
        let mut buf = super_segment(&short_ihl, GSO_TCPV4, 20, 1000, 16);
        assert_eq!(split_all(&mut buf), Err(SplitError::Malformed));
    }
}
