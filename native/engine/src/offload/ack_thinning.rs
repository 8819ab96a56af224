//! Thinning of the pure TCP ACKs that arrive from the server in one batch, before they are
//! written to the TUN device. In a bulk upload the server's TCP acknowledges every other
//! segment, and each ACK written costs a syscall and, in our context, the kernel's ACK
//! processing for the local sender and a small transmit it then makes. Of ACKs of one flow
//! that arrived together the kernel would process all back to back anyway, so only the last
//! one carries news: the earlier ones are dropped (the rules of CAKE's ack-filter, RFC 3449
//! §5.2.1). An ACK is dropped only when the very next packet of the batch is a pure ACK of
//! the same flow that tells the sender everything it did and more: an ACK number at least as
//! high, every SACK block of the older one covered, and either a higher ACK number or a SACK
//! block the older one lacked. So duplicate ACKs without SACK (the sender's loss signal),
//! D-SACK reports, window updates, ECN flags and unknown options go through untouched, and
//! the order of what is written never changes.

use super::tcp_segment::{plain_tcp, TcpSegment};

const TCP_ACK: u8 = 0x10;
/// IPv6 header plus the longest TCP header.
const HELD_MAX: usize = 40 + 60;

/// A TCP option holds at most 4 SACK blocks.
const MAX_SACKS: usize = 4;

/// A pure ACK that may be thinned: its IP version, transport offset, ACK number and SACK
/// blocks (start, end).
#[derive(Clone, Copy)]
struct PureAck {
    v6: bool,
    l4: usize,
    ack: u32,
    sacks: [(u32, u32); MAX_SACKS],
    sack_count: usize,
}

/// `a` is later than `b` in sequence space (RFC 1982 serial arithmetic).
fn after(a: u32, b: u32) -> bool {
    (a.wrapping_sub(b) as i32) > 0
}

/// Block `outer` covers block `inner`.
fn covers(outer: (u32, u32), inner: (u32, u32)) -> bool {
    !after(outer.0, inner.0) && !after(inner.1, outer.1)
}

impl PureAck {
    fn sacks(&self) -> &[(u32, u32)] {
        &self.sacks[..self.sack_count]
    }

    /// Reports a duplicate segment (RFC 2883): its first block lies below the ACK number or
    /// inside its second block. The sender may undo a needless slowdown on it: never dropped.
    fn has_dsack(&self) -> bool {
        match self.sacks() {
            [first, ..] if !after(first.1, self.ack) => true,
            [first, second, ..] => covers(*second, *first),
            _ => false,
        }
    }

    /// What `self` tells the sender about `block`'s data: acknowledged or SACKed.
    fn acknowledges(&self, block: (u32, u32)) -> bool {
        !after(block.1, self.ack) || self.sacks().iter().any(|&b| covers(b, block))
    }

    /// `self`, the later ACK, makes `older` redundant.
    fn supersedes(&self, older: &PureAck) -> bool {
        if after(older.ack, self.ack) || older.has_dsack() {
            return false;
        }
        if !older.sacks().iter().all(|&b| self.acknowledges(b)) {
            return false;
        }
        after(self.ack, older.ack) || self.sacks().iter().any(|&b| !older.acknowledges(b))
    }
}

/// Holds back at most one pure ACK until the next packet shows whether it was superseded.
pub struct AckThinner {
    held: [u8; HELD_MAX],
    held_len: usize,
    held_ack: Option<PureAck>,
}

impl Default for AckThinner {
    fn default() -> Self {
        Self::new()
    }
}

/// The packet is an IPv4 (no options, not a fragment) or IPv6 (no extension headers) TCP
/// segment (`plain_tcp`) with no payload, only ACK set and no TCP option but timestamps and
/// SACK: an ACK whose only news is its ACK number, SACK blocks and window.
fn pure_ack(pkt: &[u8]) -> Option<PureAck> {
    let TcpSegment { v6, l4, payload } = plain_tcp(pkt)?;
    if payload != pkt.len() || pkt[l4 + 13] != TCP_ACK {
        return None;
    }
    let mut ack = PureAck {
        v6,
        l4,
        ack: u32::from_be_bytes([pkt[l4 + 8], pkt[l4 + 9], pkt[l4 + 10], pkt[l4 + 11]]),
        sacks: [(0, 0); MAX_SACKS],
        sack_count: 0,
    };
    parse_options(&pkt[l4 + 20..payload], &mut ack).then_some(ack)
}

/// Reads the SACK blocks into `ack`; false unless the options are only NOP, end-of-list
/// padding, well-formed timestamps and at most one well-formed SACK option.
fn parse_options(mut options: &[u8], ack: &mut PureAck) -> bool {
    let mut seen_sack = false;
    loop {
        match options {
            [] | [0, ..] => return true,
            [1, rest @ ..] => options = rest,
            [8, 10, _, _, _, _, _, _, _, _, rest @ ..] => options = rest,
            [5, len, rest @ ..] => {
                let body = usize::from(*len).wrapping_sub(2);
                if seen_sack || body == 0 || body % 8 != 0 || body > 8 * MAX_SACKS {
                    return false;
                }
                let Some((blocks, rest)) = rest.split_at_checked(body) else {
                    return false;
                };
                for (i, b) in blocks.chunks_exact(8).enumerate() {
                    let edge = |o: usize| u32::from_be_bytes([b[o], b[o + 1], b[o + 2], b[o + 3]]);
                    ack.sacks[i] = (edge(0), edge(4));
                }
                ack.sack_count = body / 8;
                seen_sack = true;
                options = rest;
            }
            _ => return false,
        }
    }
}

/// Same IP version, addresses and ports.
fn same_flow(a: &[u8], b: &[u8], v6: bool, l4: usize) -> bool {
    let addrs = if v6 { 8..40 } else { 12..20 };
    a[addrs.clone()] == b[addrs] && a[l4..l4 + 4] == b[l4..l4 + 4]
}

impl AckThinner {
    pub fn new() -> Self {
        Self {
            held: [0; HELD_MAX],
            held_len: 0,
            held_ack: None,
        }
    }

    /// Offers one IP packet: a held ACK it supersedes is dropped; otherwise the held ACK goes
    /// to `next` first. A thinnable ACK is then held, anything else goes to `next`.
    pub fn push<E>(
        &mut self,
        pkt: &[u8],
        next: &mut impl FnMut(&[u8]) -> Result<(), E>,
    ) -> Result<(), E> {
        let candidate = pure_ack(pkt);
        if let (Some(new), Some(old)) = (candidate, self.held_ack) {
            let held = &self.held[..self.held_len];
            if new.v6 == old.v6 && new.supersedes(&old) && same_flow(held, pkt, new.v6, new.l4) {
                self.hold(pkt, new);
                return Ok(());
            }
        }
        self.flush(next)?;
        match candidate {
            Some(ack) => {
                self.hold(pkt, ack);
                Ok(())
            }
            None => next(pkt),
        }
    }

    /// Passes on the held ACK, if any: the batch is over.
    pub fn flush<E>(&mut self, next: &mut impl FnMut(&[u8]) -> Result<(), E>) -> Result<(), E> {
        match self.held_ack.take() {
            Some(_) => next(&self.held[..self.held_len]),
            None => Ok(()),
        }
    }

    fn hold(&mut self, pkt: &[u8], ack: PureAck) {
        // A pure ACK is at most an IPv6 header and a full TCP header.
        self.held[..pkt.len()].copy_from_slice(pkt);
        self.held_len = pkt.len();
        self.held_ack = Some(ack);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::offload::gso::tests::{ip_packet, tcp_packet};

    const TS: [u8; 12] = [1, 1, 8, 10, 0, 0, 0, 9, 0, 0, 0, 3];

    /// A pure ACK of the test flow (ports 5001 → 40000) with the given ACK number.
    fn ack(v6: bool, ack: u32, flags: u8, options: &[u8]) -> Vec<u8> {
        with_ack(tcp_packet(v6, 1000, flags, options, &[]), v6, ack)
    }

    /// Sets the ACK number and recomputes the TCP checksum.
    fn with_ack(mut p: Vec<u8>, v6: bool, ack: u32) -> Vec<u8> {
        let l4 = if v6 { 40 } else { 20 };
        p[l4 + 8..l4 + 12].copy_from_slice(&ack.to_be_bytes());
        ip_packet(v6, 6, &[], &p[l4..], 16)
    }

    fn thin(pkts: &[Vec<u8>]) -> Vec<Vec<u8>> {
        let mut t = AckThinner::new();
        let mut out = Vec::new();
        let mut w = |b: &[u8]| -> Result<(), ()> {
            out.push(b.to_vec());
            Ok(())
        };
        for p in pkts {
            t.push(p, &mut w).unwrap();
        }
        t.flush(&mut w).unwrap();
        out
    }

    #[test]
    fn of_advancing_acks_in_a_row_only_the_last_is_written() {
        for v6 in [false, true] {
            for options in [&[][..], &TS[..]] {
                let acks: Vec<_> = [100, 2996, 5892, 8788]
                    .iter()
                    .map(|&n| ack(v6, n, TCP_ACK, options))
                    .collect();
                assert!(pure_ack(&acks[0]).is_some());
                assert_eq!(thin(&acks), vec![acks[3].clone()]);
            }
        }
    }

    #[test]
    fn the_ack_number_may_wrap() {
        let acks = [
            ack(false, 0xffff_fff0, TCP_ACK, &[]),
            ack(false, 0x10, TCP_ACK, &[]),
        ];
        assert_eq!(thin(&acks), vec![acks[1].clone()]);
    }

    /// A SACK option (padded by two NOPs) with the given blocks.
    fn sack(blocks: &[(u32, u32)]) -> Vec<u8> {
        let mut o = vec![1, 1, 5, (2 + 8 * blocks.len()) as u8];
        for (s, e) in blocks {
            o.extend_from_slice(&s.to_be_bytes());
            o.extend_from_slice(&e.to_be_bytes());
        }
        o
    }

    #[test]
    fn a_later_ack_that_sacks_all_the_older_one_did_supersedes_it() {
        for v6 in [false, true] {
            // The ACK number holds at a hole while SACKed data grows: RFC 6675 needs only the
            // SACK blocks, and the last ACK has them all.
            let a = ack(v6, 1000, TCP_ACK, &sack(&[(2000, 3000)]));
            let b = ack(v6, 1000, TCP_ACK, &sack(&[(2000, 4000)]));
            let c = ack(v6, 1000, TCP_ACK, &sack(&[(5000, 6000), (2000, 4000)]));
            assert!(pure_ack(&a).is_some());
            assert_eq!(thin(&[a, b, c.clone()]), vec![c.clone()]);
            // The hole is filled: the cumulative ACK covers the old blocks.
            let d = ack(v6, 6000, TCP_ACK, &[]);
            assert_eq!(thin(&[c, d.clone()]), [d]);
        }
    }

    #[test]
    fn an_ack_with_sack_news_of_its_own_stays() {
        // The later ACK no longer lists a block the older reported, and has not ACKed it.
        let a = ack(false, 1000, TCP_ACK, &sack(&[(2000, 3000)]));
        let b = ack(false, 1500, TCP_ACK, &sack(&[(5000, 6000)]));
        assert_eq!(thin(&[a.clone(), b.clone()]), [a, b]);
        // The same ACK and the same blocks: a true duplicate.
        let c = ack(false, 1000, TCP_ACK, &sack(&[(2000, 3000)]));
        assert_eq!(thin(&[c.clone(), c.clone()]), [c.clone(), c]);
        // A D-SACK, below the ACK number or inside the second block, is never dropped.
        for dsack in [sack(&[(500, 800)]), sack(&[(2200, 2400), (2000, 3000)])] {
            let d = ack(false, 1000, TCP_ACK, &dsack);
            let e = ack(false, 9000, TCP_ACK, &[]);
            assert_eq!(thin(&[d.clone(), e.clone()]), [d, e]);
        }
    }

    #[test]
    fn malformed_sack_options_are_not_thinned() {
        for options in [
            vec![1, 1, 5, 6, 0, 0, 0, 1],                // half a block
            vec![5, 2, 1, 1],                            // no block
            [sack(&[(1, 2)]), sack(&[(3, 4)])].concat(), // two SACK options
            vec![1, 1, 5, 10, 0, 0, 0, 1, 0, 0],         // shorter than it says
        ] {
            let mut p = tcp_packet(false, 1000, TCP_ACK, &options, &[]);
            // `tcp_packet` rounds the header length down; `with_ack` rebuilds the IP header.
            p.truncate(20 + (20 + options.len()) / 4 * 4);
            let p = with_ack(p, false, 1000);
            assert!(pure_ack(&p).is_none(), "{options:?}");
        }
    }

    #[test]
    fn duplicate_and_older_acks_go_through() {
        // Three duplicate ACKs are the sender's fast-retransmit signal.
        let dup = vec![ack(false, 500, TCP_ACK, &[]); 3];
        assert_eq!(thin(&dup), dup);
        let older = [ack(true, 900, TCP_ACK, &[]), ack(true, 500, TCP_ACK, &[])];
        assert_eq!(thin(&older), older);
    }

    #[test]
    fn acks_with_other_news_go_through() {
        for (flags, options) in [
            (TCP_ACK, &[3, 3, 7, 1][..]), // an unknown option
            (TCP_ACK | 0x40, &[][..]),    // ECE
            (TCP_ACK | 0x80, &[][..]),    // CWR
            (TCP_ACK | 0x01, &[][..]),    // FIN
            (TCP_ACK | 0x04, &[][..]),    // RST
            (TCP_ACK | 0x08, &[][..]),    // PSH
        ] {
            let pkts = [
                ack(false, 100, flags, options),
                ack(false, 200, flags, options),
            ];
            assert_eq!(thin(&pkts), pkts, "flags {flags:#x} options {options:?}");
        }
        // With payload: data, not a pure ACK.
        let data = [
            tcp_packet(false, 1, TCP_ACK, &[], b"abc"),
            tcp_packet(false, 4, TCP_ACK, &[], b"def"),
        ];
        assert_eq!(thin(&data), data);
    }

    #[test]
    fn a_corrupt_ack_supersedes_nothing() {
        let mut bad = ack(false, 300, TCP_ACK, &[]);
        bad[36] ^= 0x55; // the window: the checksum no longer holds
        let pkts = [ack(false, 100, TCP_ACK, &[]), bad];
        assert_eq!(thin(&pkts), pkts);
        let mut bad_ip = ack(false, 300, TCP_ACK, &[]);
        bad_ip[8] ^= 1; // the TTL: the IPv4 header checksum no longer holds
        assert!(pure_ack(&bad_ip).is_none());
    }

    #[test]
    fn other_flows_and_other_packets_keep_their_place() {
        let a1 = ack(false, 100, TCP_ACK, &[]);
        let a2 = ack(false, 200, TCP_ACK, &[]);
        let mut other = ack(false, 300, TCP_ACK, &[]);
        other[22] ^= 1; // another source port
        let other = with_ack(other, false, 300);
        assert_eq!(thin(&[a1.clone(), other.clone()]), [a1.clone(), other]);
        // Data between two ACKs: the first is written before it, nothing is dropped.
        let data = tcp_packet(false, 1, TCP_ACK, &[], b"abc");
        let pkts = [a1.clone(), data, a2.clone()];
        assert_eq!(thin(&pkts), pkts);
        // IPv4 and IPv6 are never one flow.
        let v6 = ack(true, 200, TCP_ACK, &[]);
        assert_eq!(thin(&[a1.clone(), v6.clone()]), [a1, v6]);
    }

    #[test]
    fn nothing_is_held_past_a_flush() {
        let mut t = AckThinner::new();
        let mut out = 0;
        let mut w = |_: &[u8]| -> Result<(), ()> {
            out += 1;
            Ok(())
        };
        for n in 1..=5 {
            t.push(&ack(false, n * 100, TCP_ACK, &[]), &mut w).unwrap();
        }
        t.flush(&mut w).unwrap();
        t.flush(&mut w).unwrap();
        // After a flush the next ACK starts afresh: the batch boundary is kept.
        t.push(&ack(false, 600, TCP_ACK, &[]), &mut w).unwrap();
        t.flush(&mut w).unwrap();
        assert_eq!(out, 2);
    }

    #[test]
    fn truncated_and_odd_packets_pass_unchanged() {
        let good = ack(false, 100, TCP_ACK, &TS);
        for cut in 0..good.len() {
            let p = &good[..cut];
            assert!(pure_ack(p).is_none());
            assert_eq!(thin(&[p.to_vec()]), vec![p.to_vec()]);
        }
        // A timestamp option with a wrong length; anything after end-of-list is padding.
        let mut a = pure_ack(&good).unwrap();
        assert!(!parse_options(&[8, 9, 0, 0, 0, 0, 0, 0, 0, 0], &mut a));
        assert!(!parse_options(&[8, 10, 0, 0], &mut a));
        assert!(parse_options(&[1, 1, 0, 5, 5], &mut a));
    }
}
