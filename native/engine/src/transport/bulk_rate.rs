//! Whether a link is receiving in bulk: the links' interrupt coalescing (`tcp.rs`, `udp.rs`)
//! gathers packets before a read only while the server sends at a high rate, so interactive
//! traffic is read at once and an idle tunnel has no timer.

use std::time::{Duration, Instant};

/// The rate is measured over windows of this length.
const WINDOW: Duration = Duration::from_millis(10);

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
    #[cfg(target_os = "linux")]
    pub fn time_for(&self, bytes: usize, max: Duration) -> Duration {
        if bytes >= self.last_window {
            return max; // also no rate measured yet
        }
        max.min(WINDOW * bytes as u32 / self.last_window as u32)
    }

    /// Puts the link in bulk mode at once, for tests of what the links do then (on Linux, the
    /// only OS that coalesces).
    #[cfg(all(test, target_os = "linux"))]
    pub fn force_bulk(&mut self) {
        self.bulk = true;
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

    #[cfg(target_os = "linux")]
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
}
