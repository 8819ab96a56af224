//! The control-channel reliability layer (wire-protocol §1.3): message packet ids, a send
//! window of 6 with retransmission (timeout doubling, fast retransmit), a receive window of 12
//! with in-order delivery, and the ACKs owed to the peer.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

pub const SEND_WINDOW: usize = 6;
pub const RECV_WINDOW: u32 = 12;
/// ACKs piggybacked on a control packet / carried by a dedicated P_ACK_V1.
pub const ACKS_PER_CONTROL: usize = 4;
pub const ACKS_PER_ACK: usize = 8;

#[derive(Debug)]
struct Pending {
    mpid: u32,
    opcode: u8,
    payload: Vec<u8>,
    next_try: Instant,
    timeout: Duration,
    /// ACKs seen for higher ids since the last send (3 trigger a fast retransmit).
    skipped: u8,
}

#[derive(Debug)]
pub struct ReliableSend {
    next_id: u32,
    pending: VecDeque<Pending>,
    initial_timeout: Duration,
}

/// A packet the caller must (re)transmit now.
#[derive(Debug, PartialEq, Eq)]
pub struct Due<'a> {
    pub mpid: u32,
    pub opcode: u8,
    pub payload: &'a [u8],
}

impl ReliableSend {
    pub fn new(initial_timeout: Duration) -> Self {
        Self {
            next_id: 0,
            pending: VecDeque::new(),
            initial_timeout,
        }
    }

    /// Whether a new message packet id may be allocated now.
    pub fn can_send(&self) -> bool {
        let lowest = self.pending.front().map_or(self.next_id, |p| p.mpid);
        self.next_id.wrapping_sub(lowest) < SEND_WINDOW as u32
    }

    /// Queues a new reliable packet; it becomes due immediately. Returns its id.
    pub fn push(&mut self, opcode: u8, payload: Vec<u8>, now: Instant) -> u32 {
        let mpid = self.next_id;
        self.next_id = self.next_id.wrapping_add(1);
        self.pending.push_back(Pending {
            mpid,
            opcode,
            payload,
            next_try: now,
            timeout: self.initial_timeout,
            skipped: 0,
        });
        mpid
    }

    pub fn ack(&mut self, mpid: u32) {
        if let Some(pos) = self.pending.iter().position(|p| p.mpid == mpid) {
            self.pending.remove(pos);
            for p in self
                .pending
                .iter_mut()
                .filter(|p| p.mpid.wrapping_sub(mpid) > u32::MAX / 2)
            {
                p.skipped = p.skipped.saturating_add(1);
            }
        }
    }

    pub fn is_empty(&self) -> bool {
        self.pending.is_empty()
    }

    /// Makes every pending packet due now (first packet seen from the peer, §1.3 "burst").
    pub fn resend_all_now(&mut self, now: Instant) {
        for p in &mut self.pending {
            p.next_try = now;
        }
    }

    /// Returns the oldest packet that is due at `now` and schedules its next retransmission.
    pub fn next_due(&mut self, now: Instant) -> Option<Due<'_>> {
        let p = self
            .pending
            .iter_mut()
            .find(|p| p.next_try <= now || p.skipped >= 3)?;
        p.next_try = now + p.timeout;
        p.timeout = p.timeout.saturating_mul(2);
        p.skipped = 0;
        Some(Due {
            mpid: p.mpid,
            opcode: p.opcode,
            payload: &p.payload,
        })
    }

    pub fn next_deadline(&self) -> Option<Instant> {
        self.pending.iter().map(|p| p.next_try).min()
    }
}

#[derive(Debug, Default)]
pub struct ReliableRecv {
    next_expected: u32,
    buffered: Vec<(u32, u8, Vec<u8>)>,
    /// ACKs owed to the peer, oldest first.
    owed: VecDeque<u32>,
}

#[derive(Debug, PartialEq, Eq)]
pub enum Received {
    /// New packet, buffered (and ACK queued).
    Accepted,
    /// Already delivered or buffered; ACK queued again.
    Duplicate,
    /// Beyond the receive window: dropped without ACK.
    OutOfWindow,
}

impl ReliableRecv {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn receive(&mut self, mpid: u32, opcode: u8, payload: &[u8]) -> Received {
        let ahead = mpid.wrapping_sub(self.next_expected);
        if ahead >= RECV_WINDOW {
            if ahead > u32::MAX / 2 {
                self.owe(mpid);
                return Received::Duplicate;
            }
            return Received::OutOfWindow;
        }
        self.owe(mpid);
        if self.buffered.iter().any(|(id, _, _)| *id == mpid) {
            return Received::Duplicate;
        }
        self.buffered.push((mpid, opcode, payload.to_vec()));
        Received::Accepted
    }

    fn owe(&mut self, mpid: u32) {
        if !self.owed.contains(&mpid) {
            self.owed.push_back(mpid);
        }
    }

    /// Next packet in id order, if it has arrived.
    pub fn pop_ordered(&mut self) -> Option<(u8, Vec<u8>)> {
        let pos = self
            .buffered
            .iter()
            .position(|(id, _, _)| *id == self.next_expected)?;
        let (_, op, data) = self.buffered.swap_remove(pos);
        self.next_expected = self.next_expected.wrapping_add(1);
        Some((op, data))
    }

    pub fn has_owed_acks(&self) -> bool {
        !self.owed.is_empty()
    }

    /// Takes up to `max` owed ACKs.
    pub fn take_acks(&mut self, max: usize) -> Vec<u32> {
        let n = self.owed.len().min(max);
        self.owed.drain(..n).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn send_window_and_acks() {
        let t0 = Instant::now();
        let mut s = ReliableSend::new(Duration::from_secs(2));
        for i in 0..6 {
            assert!(s.can_send());
            assert_eq!(s.push(4, vec![i], t0), i as u32);
        }
        assert!(!s.can_send(), "window of 6");
        s.ack(3);
        assert!(!s.can_send(), "window counts from the lowest unacked id");
        s.ack(0);
        assert!(s.can_send());
    }

    #[test]
    fn retransmit_backoff_and_fast_retransmit() {
        let t0 = Instant::now();
        let mut s = ReliableSend::new(Duration::from_secs(2));
        s.push(4, b"a".to_vec(), t0);
        assert_eq!(s.next_due(t0).unwrap().mpid, 0);
        assert!(s.next_due(t0).is_none());
        assert_eq!(s.next_deadline(), Some(t0 + Duration::from_secs(2)));
        assert!(s.next_due(t0 + Duration::from_secs(2)).is_some());
        assert_eq!(
            s.next_deadline(),
            Some(t0 + Duration::from_secs(6)),
            "timeout doubled"
        );
        for i in 1..=3 {
            s.push(4, vec![i], t0);
        }
        while s.next_due(t0 + Duration::from_secs(2)).is_some() {}
        s.ack(1);
        s.ack(2);
        assert!(s.next_due(t0 + Duration::from_secs(2)).is_none());
        s.ack(3);
        assert_eq!(
            s.next_due(t0 + Duration::from_secs(2)).unwrap().mpid,
            0,
            "3 later acks => fast retransmit"
        );
    }

    #[test]
    fn receive_orders_dedups_and_limits() {
        let mut r = ReliableRecv::new();
        assert_eq!(r.receive(1, 4, b"b"), Received::Accepted);
        assert!(r.pop_ordered().is_none());
        assert_eq!(r.receive(0, 8, b"a"), Received::Accepted);
        assert_eq!(r.receive(0, 8, b"a"), Received::Duplicate);
        assert_eq!(r.pop_ordered(), Some((8, b"a".to_vec())));
        assert_eq!(r.pop_ordered(), Some((4, b"b".to_vec())));
        assert_eq!(
            r.receive(0, 8, b"a"),
            Received::Duplicate,
            "already delivered"
        );
        assert_eq!(r.receive(14, 4, b"x"), Received::OutOfWindow);
        assert_eq!(r.take_acks(8), vec![1, 0]);
    }
}
