//! Interrupt coalescing for the links' receive side (`tcp.rs`, `udp.rs`; Linux). A stock
//! server sends one packet per call, and taken as they come each costs a wakeup, a read and a
//! TUN write of its own (which wakes the receiving application each time). So while the server
//! sends in bulk (`BulkRate`), a wakeup whose reads brought less than SHORT_WAKEUP bytes asks
//! the driver to nap until GATHER_BYTES should have arrived after its last data (at the
//! current rate, at most MAX_NAP), before it waits for the socket again (`RecvNap`). The driver
//! sleeps its thread rather than wait in epoll, which would wake at every packet. Below the
//! rate every packet is read as it comes, and an idle tunnel has no timer. A TUN device with
//! offloads naps the same way in bulk uploads (`tun_io`): the local sender's segments gather
//! in its queue, and the server's ACKs in the socket, where `ack_thinning` drops the ones a
//! later ACK supersedes.

use std::time::{Duration, Instant};

/// The receive rate from which the UDP link and a TUN device with offloads coalesce: 134
/// Mbit/s, the TCP link's.
#[cfg(unix)]
pub(crate) const BULK_BYTES_PER_10MS: usize = 160 * 1024;

/// A wakeup that brought less than this (one full TUN write, coalesced) is short.
const SHORT_WAKEUP: usize = 64 * 1024;
/// What a nap gathers: ~90 full-size packets, two large TUN writes once coalesced.
const GATHER_BYTES: usize = 128 * 1024;
/// The longest nap: the most latency coalescing adds.
pub(super) const MAX_NAP: Duration = Duration::from_millis(1);

/// Decides the driver's naps from what one side's reads brought (a link's, or the TUN device's).
pub(crate) struct RecvNap {
    pub(super) rate: BulkRate,
    last_data: Instant,
    /// Bytes read since the last `wakeup_done`.
    gathered: usize,
    /// The nap the driver should take before it waits for the socket again.
    until: Option<Instant>,
}

impl RecvNap {
    /// In bulk from `bulk_bytes_per_10ms` received per 10 ms window.
    pub fn new(bulk_bytes_per_10ms: usize, now: Instant) -> Self {
        Self {
            rate: BulkRate::new(bulk_bytes_per_10ms, now),
            last_data: now,
            gathered: 0,
            until: None,
        }
    }

    /// Counts a read of `bytes` (0: nothing was there); Some(bulk or not) when the mode
    /// changed.
    pub fn read(&mut self, bytes: usize, now: Instant) -> Option<bool> {
        if bytes > 0 {
            self.gathered += bytes;
            self.last_data = now;
        }
        self.rate.count(bytes, now)
    }

    /// The reads of one wakeup are done: decides whether the driver naps before the next.
    pub fn wakeup_done(&mut self) {
        let short = self.gathered < SHORT_WAKEUP;
        self.gathered = 0;
        let nap = self.rate.time_for(GATHER_BYTES, MAX_NAP);
        self.until = (short && self.rate.is_bulk()).then(|| self.last_data + nap);
    }

    /// The nap to take now, if any (asked once per nap).
    pub fn take(&mut self) -> Option<Instant> {
        self.until.take()
    }

    pub fn is_bulk(&self) -> bool {
        self.rate.is_bulk()
    }
}

/// The rate is measured over windows of this length.
const WINDOW: Duration = Duration::from_millis(10);

/// Whether a link is receiving in bulk, and at what rate.
pub(super) struct BulkRate {
    /// Bytes per WINDOW from which the link is in bulk.
    threshold: usize,
    bulk: bool,
    window_start: Instant,
    window_bytes: usize,
    /// Bytes of the last full window: the current rate.
    last_window: usize,
}

impl BulkRate {
    /// In bulk from `bytes_per_10ms` received per 10 ms window.
    pub fn new(bytes_per_10ms: usize, now: Instant) -> Self {
        Self {
            threshold: bytes_per_10ms,
            bulk: false,
            window_start: now,
            window_bytes: 0,
            last_window: 0,
        }
    }

    /// Counts `n` bytes received (0: a look at the clock); Some(bulk or not) when a window
    /// ended and the mode changed.
    pub fn count(&mut self, n: usize, now: Instant) -> Option<bool> {
        self.window_bytes += n;
        if now.duration_since(self.window_start) < WINDOW {
            return None;
        }
        let bulk = self.window_bytes >= self.threshold;
        self.last_window = self.window_bytes;
        self.window_start = now;
        self.window_bytes = 0;
        (bulk != self.bulk).then(|| {
            self.bulk = bulk;
            bulk
        })
    }

    pub fn is_bulk(&self) -> bool {
        self.bulk
    }

    /// How long `bytes` take to arrive at the last window's rate, at most `max`.
    pub fn time_for(&self, bytes: usize, max: Duration) -> Duration {
        if bytes >= self.last_window {
            return max; // also no rate measured yet
        }
        max.min(WINDOW * bytes as u32 / self.last_window as u32)
    }

    /// Puts the link in bulk mode at once, for tests of what the links do then.
    #[cfg(test)]
    pub fn force_bulk(&mut self) {
        self.bulk = true;
    }
}

/// Receive buffer: room for what gathers while the driver naps, at a few Gbit/s.
#[cfg(target_os = "linux")]
const RCVBUF: libc::c_int = 1 << 20;

/// Raises the socket's receive buffer to RCVBUF, past `net.core.rmem_max` where the process
/// may (SO_RCVBUFFORCE, CAP_NET_ADMIN: the helper), else as far as that allows. Best effort:
/// a small buffer only drops datagrams (UDP) or holds the server back (TCP) at high rates.
#[cfg(target_os = "linux")]
pub(super) fn enlarge_receive_buffer(sock: &impl std::os::fd::AsRawFd) {
    let set = |opt| {
        // SAFETY: setsockopt with a c_int value of the size passed.
        unsafe {
            libc::setsockopt(
                sock.as_raw_fd(),
                libc::SOL_SOCKET,
                opt,
                (&RCVBUF as *const libc::c_int).cast(),
                std::mem::size_of::<libc::c_int>() as libc::socklen_t,
            ) == 0
        }
    };
    if !set(libc::SO_RCVBUFFORCE) {
        set(libc::SO_RCVBUF);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bulk_begins_after_a_window_over_the_threshold_and_ends_after_one_below() {
        let t0 = Instant::now();
        let ms = |n| t0 + Duration::from_millis(n);
        let mut rate = BulkRate::new(1000, t0);
        assert_eq!(rate.count(999, ms(5)), None, "the window is not over");
        assert_eq!(rate.count(1, ms(10)), Some(true));
        assert!(rate.is_bulk());
        assert_eq!(rate.count(5000, ms(20)), None, "still bulk: no change");
        assert_eq!(rate.count(10, ms(30)), Some(false));
        assert!(!rate.is_bulk());
        assert_eq!(
            rate.count(0, ms(45)),
            None,
            "an empty window keeps it quiet"
        );
    }

    #[test]
    fn the_time_to_gather_follows_the_last_window_and_is_capped() {
        let t0 = Instant::now();
        let mut rate = BulkRate::new(1000, t0);
        let max = Duration::from_millis(1);
        assert_eq!(rate.time_for(100, max), max, "no rate measured yet");
        rate.count(100_000, t0 + WINDOW);
        assert_eq!(rate.time_for(5_000, max), WINDOW / 20);
        assert_eq!(rate.time_for(50_000, max), max);
    }

    /// In bulk, a short wakeup asks for one nap, timed from its last data; a long one, or a
    /// wakeup outside bulk, asks for none.
    #[test]
    fn in_bulk_a_short_wakeup_asks_for_one_nap() {
        let t0 = Instant::now();
        let mut nap = RecvNap::new(1000, t0);
        nap.read(100, t0);
        nap.wakeup_done();
        assert_eq!(nap.take(), None, "not in bulk");

        nap.rate.force_bulk();
        let t1 = t0 + Duration::from_micros(10);
        nap.read(100, t1);
        nap.read(0, t1 + Duration::from_micros(5));
        nap.wakeup_done();
        assert_eq!(
            nap.take(),
            Some(t1 + MAX_NAP),
            "no rate yet: the longest nap"
        );
        assert_eq!(nap.take(), None, "one nap per wakeup");

        nap.read(SHORT_WAKEUP, t1);
        nap.wakeup_done();
        assert_eq!(nap.take(), None, "a long wakeup");
    }
}
