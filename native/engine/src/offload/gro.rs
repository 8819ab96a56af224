//! Coalescing (GRO) of the TCP segments that arrive from the server before they are written
//! to a TUN device with virtio-net headers: consecutive in-order segments of one flow with
//! identical headers become one super-segment the kernel takes in a single write and treats
//! as GRO'd. Anything else is written as it is, behind an empty virtio-net header.

use super::checksum::{self, pseudo_header};
use super::tcp_segment::{plain_tcp, TcpSegment};
use super::vnet::{self, VnetHdr, F_NEEDS_CSUM, GSO_TCPV4, GSO_TCPV6};

const TCP_ACK: u8 = 0x10;
const TCP_PSH: u8 = 0x08;
/// IP packets are at most 64 KiB; the super-segment's IP length field must hold its size.
const MAX_SUPER: usize = 65535;

/// The run being built: a copy of its first packet's headers and all payload so far.
#[derive(Clone, Copy)]
struct Run {
    v6: bool,
    /// Transport header offset and full header length within the IP packet.
    l4: usize,
    hdr_len: usize,
    /// Payload size of the first segment; the kernel re-segments at this size.
    mss: usize,
    next_seq: u32,
    segments: usize,
    /// A short or PSH segment ended the run: nothing more may join.
    closed: bool,
}

pub struct Coalescer {
    /// Virtio-net header + the IP packet being built.
    buf: Vec<u8>,
    run: Option<Run>,
}

impl Default for Coalescer {
    fn default() -> Self {
        Self::new()
    }
}

/// The TCP segment inside an IPv4/IPv6 packet that GRO may merge: no IP options, extension
/// headers or fragments, only ACK (and PSH) set, some payload. (l4 offset, header length.)
fn mergeable(pkt: &[u8]) -> Option<(bool, usize, usize)> {
    let TcpSegment { v6, l4, payload } = plain_tcp(pkt)?;
    let flags = pkt[l4 + 13];
    (payload < pkt.len() && flags & !TCP_PSH == TCP_ACK).then_some((v6, l4, payload))
}

fn seq_of(pkt: &[u8], l4: usize) -> u32 {
    u32::from_be_bytes([pkt[l4 + 4], pkt[l4 + 5], pkt[l4 + 6], pkt[l4 + 7]])
}

impl Coalescer {
    pub fn new() -> Self {
        Self {
            buf: Vec::with_capacity(vnet::LEN + MAX_SUPER),
            run: None,
        }
    }

    /// Offers one IP packet. It joins the current run, or the run is written out (`write`
    /// gets virtio-net header + packet) and it starts the next one or goes out alone.
    pub fn push<E>(
        &mut self,
        pkt: &[u8],
        write: &mut impl FnMut(&[u8]) -> Result<(), E>,
    ) -> Result<(), E> {
        let candidate = mergeable(pkt);
        if let (Some(run), Some((v6, l4, hdr_len))) = (self.run.as_mut(), candidate) {
            let ip = &self.buf[vnet::LEN..];
            let payload = pkt.len() - hdr_len;
            let same_headers = v6 == run.v6
                && hdr_len == run.hdr_len
                && seq_of(pkt, l4) == run.next_seq
                && payload <= run.mss
                && ip.len() + payload <= MAX_SUPER
                && !run.closed
                && same_flow(ip, pkt, v6, l4, hdr_len);
            if same_headers {
                self.buf.extend_from_slice(&pkt[hdr_len..]);
                run.next_seq = run.next_seq.wrapping_add(payload as u32);
                run.segments += 1;
                let flags = pkt[l4 + 13];
                if flags & TCP_PSH != 0 {
                    self.buf[vnet::LEN + l4 + 13] |= TCP_PSH;
                }
                run.closed = payload < run.mss || flags & TCP_PSH != 0;
                return Ok(());
            }
        }
        self.flush(write)?;
        self.buf.clear();
        self.buf.resize(vnet::LEN, 0);
        self.buf.extend_from_slice(pkt);
        match candidate {
            Some((v6, l4, hdr_len)) => {
                let mss = pkt.len() - hdr_len;
                self.run = Some(Run {
                    v6,
                    l4,
                    hdr_len,
                    mss,
                    next_seq: seq_of(pkt, l4).wrapping_add(mss as u32),
                    segments: 1,
                    closed: pkt[l4 + 13] & TCP_PSH != 0,
                });
                Ok(())
            }
            None => {
                let r = write(&self.buf);
                self.buf.clear();
                r
            }
        }
    }

    /// Writes out the run being built, if any.
    pub fn flush<E>(&mut self, write: &mut impl FnMut(&[u8]) -> Result<(), E>) -> Result<(), E> {
        let Some(run) = self.run.take() else {
            return Ok(());
        };
        if run.segments > 1 {
            self.finish_super_segment(&run);
        }
        let r = write(&self.buf);
        self.buf.clear();
        r
    }

    /// Turns the merged packet into a valid TSO super-segment: lengths, IPv4 header checksum,
    /// the TCP checksum field as the pseudo-header sum the kernel completes, virtio-net header.
    fn finish_super_segment(&mut self, run: &Run) {
        let ip = &mut self.buf[vnet::LEN..];
        let len = ip.len();
        let (s, d) = if run.v6 {
            ip[4..6].copy_from_slice(&((len - 40) as u16).to_be_bytes());
            (8..24, 24..40)
        } else {
            ip[2..4].copy_from_slice(&(len as u16).to_be_bytes());
            checksum::set_ipv4_header(&mut ip[..20]);
            (12..16, 16..20)
        };
        let pseudo = checksum::fold(pseudo_header(&ip[s], &ip[d], 6, len - run.l4));
        ip[run.l4 + 16..run.l4 + 18].copy_from_slice(&pseudo.to_be_bytes());
        VnetHdr {
            flags: F_NEEDS_CSUM,
            gso_type: if run.v6 { GSO_TCPV6 } else { GSO_TCPV4 },
            hdr_len: run.hdr_len as u16,
            gso_size: run.mss as u16,
            csum_start: run.l4 as u16,
            csum_offset: 16,
        }
        .write(&mut self.buf);
    }
}

/// Same addresses, ports, ACK number, TCP options and the IP fields GRO keeps per flow
/// (IPv4: TOS, DF, TTL; IPv6: traffic class, flow label, hop limit).
fn same_flow(run: &[u8], pkt: &[u8], v6: bool, l4: usize, hdr_len: usize) -> bool {
    let ip_same = if v6 {
        run[..4] == pkt[..4] && run[7] == pkt[7] && run[8..40] == pkt[8..40]
    } else {
        run[1] == pkt[1]
            && (run[6] & 0x40) == (pkt[6] & 0x40)
            && run[8] == pkt[8]
            && run[12..20] == pkt[12..20]
    };
    ip_same
        && run[l4..l4 + 4] == pkt[l4..l4 + 4]
        && run[l4 + 8..l4 + 12] == pkt[l4 + 8..l4 + 12]
        && run[l4 + 20..hdr_len] == pkt[l4 + 20..hdr_len]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::offload::gso::{self, tests::tcp_packet};

    fn coalesce(pkts: &[Vec<u8>]) -> Vec<Vec<u8>> {
        let mut c = Coalescer::new();
        let mut out = Vec::new();
        let mut w = |b: &[u8]| -> Result<(), ()> {
            out.push(b.to_vec());
            Ok(())
        };
        for p in pkts {
            c.push(p, &mut w).unwrap();
        }
        c.flush(&mut w).unwrap();
        out
    }

    /// Splits a written super-segment again the way the kernel would (our own `gso::split`).
    fn resegment(written: &[u8]) -> Vec<Vec<u8>> {
        let mut buf = written.to_vec();
        let mut scratch = vec![0u8; 65536];
        let mut out = Vec::new();
        gso::split(&mut buf, &mut scratch, |p| out.push(p.to_vec())).unwrap();
        out
    }

    fn stream(v6: bool, sizes: &[usize], options: &[u8]) -> Vec<Vec<u8>> {
        let mut seq = 7000u32;
        sizes
            .iter()
            .enumerate()
            .map(|(i, &n)| {
                let payload: Vec<u8> = (0..n).map(|j| (i * 31 + j) as u8).collect();
                let flags = if i + 1 == sizes.len() {
                    TCP_ACK | TCP_PSH
                } else {
                    TCP_ACK
                };
                let p = tcp_packet(v6, seq, flags, options, &payload);
                seq += n as u32;
                p
            })
            .collect()
    }

    #[test]
    fn merges_in_order_segments_and_resegments_to_the_same_packets() {
        let ts = [1, 1, 8, 10, 0, 0, 0, 9, 0, 0, 0, 3];
        for v6 in [false, true] {
            let pkts = stream(v6, &[1388, 1388, 1388, 501], &ts);
            let out = coalesce(&pkts);
            assert_eq!(out.len(), 1, "one write");
            let h = VnetHdr::parse(&out[0]).unwrap();
            assert_eq!(h.gso_type, if v6 { GSO_TCPV6 } else { GSO_TCPV4 });
            assert_eq!(h.gso_size, 1388);
            let again = resegment(&out[0]);
            if v6 {
                assert_eq!(again, pkts);
            } else {
                // IPv4 IDs are renumbered from the first; everything else is identical.
                assert_eq!(again.len(), pkts.len());
                for (a, p) in again.iter().zip(&pkts) {
                    assert_eq!(a[20..], p[20..]);
                }
            }
        }
    }

    #[test]
    fn keeps_apart_what_must_not_merge() {
        let mut pkts = stream(false, &[1000, 1000, 1000], &[]);
        // A gap in the sequence.
        pkts[2][24..28].copy_from_slice(&99u32.to_be_bytes());
        let n = pkts[2].len();
        let fixed = tcp_packet(false, 99, TCP_ACK, &[], &pkts[2][40..n]);
        pkts[2] = fixed;
        assert_eq!(coalesce(&pkts).len(), 2);
        // A FIN, a SYN: alone.
        let fin = tcp_packet(false, 9000, TCP_ACK | 0x01, &[], b"x");
        let out = coalesce(std::slice::from_ref(&fin));
        assert_eq!(&out[0][vnet::LEN..], &fin[..]);
        assert_eq!(VnetHdr::parse(&out[0]).unwrap(), VnetHdr::default());
        // A bad checksum: alone, untouched.
        let mut bad = stream(true, &[500, 500], &[]);
        bad[1][70] ^= 0xff;
        assert_eq!(coalesce(&bad).len(), 2);
        // A bad IPv4 header checksum too: merged, the header would be summed afresh.
        let mut bad_ip = stream(false, &[500, 500], &[]);
        bad_ip[1][8] ^= 1;
        assert_eq!(coalesce(&bad_ip).len(), 2);
        // Different options (e.g. a SACK block) do not merge.
        let a = tcp_packet(false, 1, TCP_ACK, &[1, 1, 1, 1], &[0u8; 100]);
        let b = tcp_packet(false, 101, TCP_ACK, &[1, 1, 1, 0], &[0u8; 100]);
        assert_eq!(coalesce(&[a, b]).len(), 2);
        // After a short segment the run is closed.
        let c = stream(false, &[1000, 10, 10], &[]);
        assert_eq!(coalesce(&c).len(), 2);
    }

    #[test]
    fn single_segment_goes_out_unchanged() {
        let p = stream(false, &[1200], &[]);
        let out = coalesce(&p);
        assert_eq!(out, vec![[&[0u8; vnet::LEN][..], &p[0]].concat()]);
    }

    #[test]
    fn stops_below_64k() {
        let p = stream(false, &[1448; 60], &[]);
        let out = coalesce(&p);
        assert!(out.len() >= 2);
        assert!(out.iter().all(|w| w.len() - vnet::LEN <= MAX_SUPER));
        let total: usize = out.iter().map(|w| resegment(w).len()).sum();
        assert_eq!(total, 60);
    }
}
