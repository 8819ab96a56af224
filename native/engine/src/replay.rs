//! Replay protection (wire-protocol §2.2, §6.4): a 64-entry sliding window over packet ids,
//! optionally scoped by the sender's counter epoch (`time`) for the long-form control ids.

const WINDOW: u32 = 64;

#[derive(Debug, Default, Clone)]
pub struct ReplayWindow {
    /// Epoch of the current sequence (long-form ids only; 0 for data packets).
    time: u32,
    highest: u32,
    /// Bit i set = id (highest - i) was seen.
    seen: u64,
}

impl ReplayWindow {
    pub fn new() -> Self {
        Self::default()
    }

    /// Checks without recording (so a forged packet cannot advance the window before its
    /// authentication is verified). Returns true if the id would be accepted.
    pub fn check(&self, time: u32, id: u32) -> bool {
        if id == 0 {
            return false;
        }
        if time != self.time {
            // A newer epoch starts a new sequence; an older one is a replay.
            return time > self.time || self.highest == 0;
        }
        if id > self.highest {
            return true;
        }
        let back = self.highest - id;
        back < WINDOW && self.seen & (1u64 << back) == 0
    }

    /// Records an id previously accepted by `check`.
    pub fn record(&mut self, time: u32, id: u32) {
        if time != self.time {
            self.time = time;
            self.highest = id;
            self.seen = 1;
            return;
        }
        if id > self.highest {
            let shift = id - self.highest;
            self.seen = if shift >= WINDOW {
                0
            } else {
                self.seen << shift
            };
            self.seen |= 1;
            self.highest = id;
        } else {
            self.seen |= 1u64 << (self.highest - id);
        }
    }

    pub fn check_and_record(&mut self, time: u32, id: u32) -> bool {
        let ok = self.check(time, id);
        if ok {
            self.record(time, id);
        }
        ok
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn in_order_duplicates_and_window() {
        let mut w = ReplayWindow::new();
        assert!(!w.check_and_record(0, 0), "id 0 is invalid");
        for id in 1..=100 {
            assert!(w.check_and_record(0, id));
        }
        assert!(!w.check_and_record(0, 100));
        assert!(!w.check_and_record(0, 50));
        assert!(!w.check_and_record(0, 30), "older than the window");
    }

    #[test]
    fn out_of_order_within_window_accepted_once() {
        let mut w = ReplayWindow::new();
        assert!(w.check_and_record(0, 10));
        assert!(w.check_and_record(0, 5));
        assert!(!w.check_and_record(0, 5));
        assert!(w.check_and_record(0, 9));
        assert!(w.check_and_record(0, 200));
        assert!(!w.check_and_record(0, 136));
        assert!(w.check_and_record(0, 137));
    }

    #[test]
    fn epochs() {
        let mut w = ReplayWindow::new();
        assert!(w.check_and_record(1000, 5));
        assert!(
            w.check_and_record(1001, 1),
            "new epoch restarts the sequence"
        );
        assert!(!w.check_and_record(1000, 6), "older epoch rejected");
        assert!(w.check_and_record(1001, 2));
    }
}
