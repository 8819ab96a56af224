//! `mssfix`: lowers the MSS option of TCP SYNs crossing the tunnel, in both directions, so
//! that both ends of every TCP connection send segments whose encrypted packets fit the path
//! (OpenVPN 2.6's `--mssfix`, default `1492 mtu`). Without it a path that silently drops large
//! packets stalls every bulk TCP transfer while pings still pass.

use crate::config::{Compression, MssFix, MssFixMode};

/// IPv4 + TCP headers without options: what `mssfix` assumes the inner packet carries.
const INNER_V4_TCP: u32 = 20 + 20;
/// What one data packet adds to the IP packet it carries: opcode and peer-id (4), packet id
/// (4), AEAD tag (16).
const DATA_OVERHEAD: u32 = 4 + 4 + 16;
const TCP_SYN: u8 = 0x02;
const TCP_OPT_END: u8 = 0;
const TCP_OPT_NOP: u8 = 1;
const TCP_OPT_MSS: u8 = 2;

/// The largest MSS the tunnel lets through, computed once per connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MssClamp {
    /// For TCP over IPv4 inside the tunnel; IPv6 has 20 more header bytes.
    max_v4: u16,
    /// `mssfix N fixed`: the limit is the MSS itself, whatever the encryption adds.
    fixed: bool,
}

/// How the encrypted packets travel: the outer IP family, the link protocol, and what a
/// SOCKS5 UDP relay's header adds to each datagram between us and the relay (0 without one).
#[derive(Debug, Clone, Copy)]
pub struct OuterPath {
    pub ipv6: bool,
    pub tcp: bool,
    pub relay_header: u32,
}

impl MssClamp {
    /// None when `mssfix 0` turned the clamp off.
    pub fn new(fix: MssFix, path: OuterPath, compression: Compression) -> Option<Self> {
        if fix.max == 0 {
            return None;
        }
        // `comp-lzo no` and `compress stub` put one framing byte before every packet.
        let framing = u32::from(compression != Compression::None);
        let outer = path.relay_header
            + match (path.ipv6, path.tcp) {
                (false, false) => 20 + 8,
                (true, false) => 40 + 8,
                // TCP link: IP and TCP headers and OpenVPN's 2-byte packet length.
                (false, true) => 20 + 20 + 2,
                (true, true) => 40 + 20 + 2,
            };
        let overhead = match fix.mode {
            MssFixMode::Fixed => INNER_V4_TCP,
            MssFixMode::Payload => INNER_V4_TCP + DATA_OVERHEAD + framing,
            MssFixMode::Mtu => INNER_V4_TCP + DATA_OVERHEAD + framing + outer,
        };
        // A limit below the headers themselves still leaves the smallest MSS there is.
        let max = fix
            .max
            .saturating_sub(overhead)
            .clamp(1, u32::from(u16::MAX));
        Some(Self {
            max_v4: u16::try_from(max).unwrap_or(u16::MAX),
            fixed: fix.mode == MssFixMode::Fixed,
        })
    }

    /// The clamp once the negotiated cipher is known to add `extra` bytes per packet beyond
    /// the AEAD layout `new` assumes (the CBC ciphers: HMAC, IV, padding).
    pub fn with_extra_data_overhead(self, extra: usize) -> Self {
        if self.fixed {
            return self;
        }
        let extra = u16::try_from(extra).unwrap_or(u16::MAX);
        Self {
            max_v4: self.max_v4.saturating_sub(extra).max(1),
            ..self
        }
    }

    /// The MSS an IPv4 TCP connection through the tunnel ends up with at most.
    pub fn max_v4(&self) -> u16 {
        self.max_v4
    }

    /// Lowers the MSS option of `ip` if it is a TCP SYN asking for more; fixes the checksum.
    /// Anything else (other protocols, fragments, malformed packets) is left alone.
    pub fn apply(&self, ip: &mut [u8]) {
        let Some((tcp, limit)) = tcp_syn(ip, self.max_v4) else {
            return;
        };
        clamp_tcp_mss(tcp, limit);
    }
}

/// The TCP segment of a SYN (IPv4 not fragmented, or IPv6 with TCP as the first next header,
/// as OpenVPN handles it) and the MSS limit for its family.
fn tcp_syn(ip: &mut [u8], max_v4: u16) -> Option<(&mut [u8], u16)> {
    let (l4, limit) = match ip.first()? >> 4 {
        4 => {
            let ihl = usize::from(ip[0] & 0x0f) * 4;
            let total = usize::from(u16::from_be_bytes([*ip.get(2)?, *ip.get(3)?]));
            let fragment = u16::from_be_bytes([*ip.get(6)?, *ip.get(7)?]) & 0x1fff;
            if ihl < 20 || *ip.get(9)? != 6 || fragment != 0 || total > ip.len() {
                return None;
            }
            (ihl..total, max_v4)
        }
        6 => {
            let payload = usize::from(u16::from_be_bytes([*ip.get(4)?, *ip.get(5)?]));
            if *ip.get(6)? != 6 || 40 + payload > ip.len() {
                return None;
            }
            (40..40 + payload, max_v4.saturating_sub(20).max(1))
        }
        _ => return None,
    };
    let tcp = ip.get_mut(l4)?;
    let doff = usize::from(*tcp.get(12)? >> 4) * 4;
    if doff < 20 || doff > tcp.len() || tcp[13] & TCP_SYN == 0 {
        return None;
    }
    Some((tcp, limit))
}

/// Walks the options of a TCP header and lowers an MSS above `limit`.
fn clamp_tcp_mss(tcp: &mut [u8], limit: u16) {
    let doff = usize::from(tcp[12] >> 4) * 4;
    let mut i = 20;
    while i < doff {
        match tcp[i] {
            TCP_OPT_END => return,
            TCP_OPT_NOP => i += 1,
            kind => {
                let Some(&len) = tcp.get(i + 1) else { return };
                let len = usize::from(len);
                if len < 2 || i + len > doff {
                    return;
                }
                if kind == TCP_OPT_MSS && len == 4 {
                    let mss = u16::from_be_bytes([tcp[i + 2], tcp[i + 3]]);
                    if mss > limit {
                        tcp[i + 2..i + 4].copy_from_slice(&limit.to_be_bytes());
                        let sum = u16::from_be_bytes([tcp[16], tcp[17]]);
                        tcp[16..18]
                            .copy_from_slice(&checksum_replace(sum, mss, limit).to_be_bytes());
                    }
                    return;
                }
                i += len;
            }
        }
    }
}

/// The internet checksum after one 16-bit word changed from `old` to `new` (RFC 1624, eqn. 3).
fn checksum_replace(sum: u16, old: u16, new: u16) -> u16 {
    let mut s = u32::from(!sum) + u32::from(!old) + u32::from(new);
    while s > 0xffff {
        s = (s & 0xffff) + (s >> 16);
    }
    !(s as u16)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::offload::checksum;

    const UDP4: OuterPath = OuterPath {
        ipv6: false,
        tcp: false,
        relay_header: 0,
    };

    fn fix(max: u32, mode: MssFixMode) -> MssFix {
        MssFix { max, mode }
    }

    fn clamp(max: u32, mode: MssFixMode) -> MssClamp {
        MssClamp::new(fix(max, mode), UDP4, Compression::None).unwrap()
    }

    /// An IPv4 or IPv6 TCP segment with `flags`, options NOP NOP MSS `mss` WS, a valid checksum.
    fn segment(v6: bool, flags: u8, mss: u16) -> Vec<u8> {
        let mut tcp = vec![0u8; 32];
        tcp[0..2].copy_from_slice(&40000u16.to_be_bytes());
        tcp[2..4].copy_from_slice(&443u16.to_be_bytes());
        tcp[12] = 8 << 4;
        tcp[13] = flags;
        tcp[20..32].copy_from_slice(&[1, 1, 2, 4, (mss >> 8) as u8, mss as u8, 3, 3, 7, 0, 0, 0]);
        let mut ip = if v6 {
            let mut h = vec![0u8; 40];
            h[0] = 0x60;
            h[4..6].copy_from_slice(&32u16.to_be_bytes());
            h[6] = 6;
            h[7] = 64;
            h[23] = 1;
            h[39] = 2;
            h
        } else {
            let mut h = vec![0u8; 20];
            h[0] = 0x45;
            h[2..4].copy_from_slice(&52u16.to_be_bytes());
            h[8] = 64;
            h[9] = 6;
            h[12..16].copy_from_slice(&[10, 8, 1, 2]);
            h[16..20].copy_from_slice(&[10, 8, 1, 1]);
            h
        };
        ip.extend_from_slice(&tcp);
        let l4 = if v6 { 40 } else { 20 };
        let sum = tcp_checksum(&ip, l4);
        ip[l4 + 16..l4 + 18].copy_from_slice(&sum.to_be_bytes());
        ip
    }

    /// The TCP checksum of `ip` computed from scratch (its checksum field must be zero).
    fn tcp_checksum(ip: &[u8], l4: usize) -> u16 {
        let (src, dst) = if l4 == 40 {
            (&ip[8..24], &ip[24..40])
        } else {
            (&ip[12..16], &ip[16..20])
        };
        let len = ip.len() - l4;
        checksum::finish(checksum::sum(
            &ip[l4..],
            checksum::pseudo_header(src, dst, 6, len),
        ))
    }

    fn mss_of(ip: &[u8]) -> u16 {
        let l4 = if ip[0] >> 4 == 6 { 40 } else { 20 };
        u16::from_be_bytes([ip[l4 + 24], ip[l4 + 25]])
    }

    fn checksum_ok(ip: &[u8]) -> bool {
        let l4 = if ip[0] >> 4 == 6 { 40 } else { 20 };
        let mut zeroed = ip.to_vec();
        zeroed[l4 + 16..l4 + 18].fill(0);
        tcp_checksum(&zeroed, l4).to_be_bytes() == ip[l4 + 16..l4 + 18]
    }

    #[test]
    fn openvpn_defaults_give_the_usual_mss() {
        // 1492 mtu over UDP/IPv4: 1492 - 28 outer - 24 data - 40 inner.
        assert_eq!(clamp(1492, MssFixMode::Mtu).max_v4(), 1400);
        // 2.5's default, 1450 of UDP payload.
        assert_eq!(clamp(1450, MssFixMode::Payload).max_v4(), 1386);
        assert_eq!(clamp(1400, MssFixMode::Fixed).max_v4(), 1360);
        let tcp6 = OuterPath {
            ipv6: true,
            tcp: true,
            relay_header: 0,
        };
        let c = MssClamp::new(fix(1492, MssFixMode::Mtu), tcp6, Compression::CompLzoNo).unwrap();
        assert_eq!(c.max_v4(), 1492 - 62 - 25 - 40);
        // Through a SOCKS5 relay each datagram also carries its 10-byte header (IPv4 server).
        let socks = OuterPath {
            relay_header: 10,
            ..UDP4
        };
        let c = MssClamp::new(fix(1492, MssFixMode::Mtu), socks, Compression::None).unwrap();
        assert_eq!(c.max_v4(), 1390);
    }

    #[test]
    fn cbc_overhead_lowers_the_limit_unless_fixed() {
        // AES-CBC + HMAC-SHA256: 32 HMAC + 16 IV + 4 id + 16 padding instead of 4 id + 16 tag.
        let extra = crate::cbc::extra_overhead(crate::config::AuthDigest::Sha256);
        assert_eq!(extra, 48);
        let mtu = clamp(1492, MssFixMode::Mtu).with_extra_data_overhead(extra);
        assert_eq!(mtu.max_v4(), 1400 - 48);
        let fixed = clamp(1400, MssFixMode::Fixed).with_extra_data_overhead(extra);
        assert_eq!(fixed.max_v4(), 1360);
        assert_eq!(
            clamp(50, MssFixMode::Mtu)
                .with_extra_data_overhead(extra)
                .max_v4(),
            1
        );
    }

    #[test]
    fn zero_turns_it_off_and_tiny_limits_keep_a_positive_mss() {
        assert_eq!(
            MssClamp::new(fix(0, MssFixMode::Mtu), UDP4, Compression::None),
            None
        );
        assert_eq!(clamp(50, MssFixMode::Mtu).max_v4(), 1);
    }

    #[test]
    fn lowers_a_large_syn_mss_and_keeps_the_checksum_valid() {
        let c = clamp(1300, MssFixMode::Mtu);
        for (v6, limit) in [(false, 1208), (true, 1188)] {
            for flags in [TCP_SYN, TCP_SYN | 0x10] {
                let mut ip = segment(v6, flags, 1460);
                c.apply(&mut ip);
                assert_eq!(mss_of(&ip), limit, "v6 {v6} flags {flags:#x}");
                assert!(checksum_ok(&ip));
            }
        }
    }

    #[test]
    fn leaves_small_mss_and_non_syn_segments_alone() {
        let c = clamp(1300, MssFixMode::Mtu);
        let small = segment(false, TCP_SYN, 1000);
        let mut ip = small.clone();
        c.apply(&mut ip);
        assert_eq!(ip, small);
        let ack = segment(false, 0x10, 1460);
        let mut ip = ack.clone();
        c.apply(&mut ip);
        assert_eq!(ip, ack);
    }

    #[test]
    fn ignores_fragments_other_protocols_and_truncated_packets() {
        let c = clamp(1300, MssFixMode::Mtu);
        let mut frag = segment(false, TCP_SYN, 1460);
        frag[6] = 0x00;
        frag[7] = 0x10; // fragment offset 16
        let before = frag.clone();
        c.apply(&mut frag);
        assert_eq!(frag, before);
        let mut udp = segment(false, TCP_SYN, 1460);
        udp[9] = 17;
        let before = udp.clone();
        c.apply(&mut udp);
        assert_eq!(udp, before);
        let whole = segment(true, TCP_SYN, 1460);
        for cut in 0..whole.len() {
            let mut short = whole[..cut].to_vec();
            c.apply(&mut short);
            assert_eq!(short, whole[..cut]);
        }
    }
}
