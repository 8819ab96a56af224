//! Time the machine spent suspended, which `Instant` does not see on Linux (CLOCK_MONOTONIC)
//! or macOS (CLOCK_UPTIME_RAW): after a laptop lid closed for longer than the server's
//! keepalive, the server has dropped the session, yet our ping-restart would count only the
//! time since resuming and keep a dead tunnel for a whole timeout. The offset between a clock
//! that counts suspension and one that does not grows by exactly the time suspended.

use std::time::Duration;

/// How much more the suspend-counting clock has advanced than `Instant`'s since boot.
#[cfg(target_os = "linux")]
pub fn suspended_total() -> Duration {
    clock(libc::CLOCK_BOOTTIME).saturating_sub(clock(libc::CLOCK_MONOTONIC))
}

/// How much more the suspend-counting clock has advanced than `Instant`'s since boot.
#[cfg(target_os = "macos")]
pub fn suspended_total() -> Duration {
    clock(libc::CLOCK_MONOTONIC).saturating_sub(clock(libc::CLOCK_UPTIME_RAW))
}

/// Windows' `Instant` (QueryPerformanceCounter) already counts time spent asleep.
#[cfg(windows)]
pub fn suspended_total() -> Duration {
    Duration::ZERO
}

#[cfg(unix)]
fn clock(id: libc::clockid_t) -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid timespec to write; both clock ids exist on this OS.
    unsafe { libc::clock_gettime(id, &mut ts) };
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

/// Notices suspensions between two looks: each call returns the time suspended since the
/// previous one (below `MIN_SUSPEND`, none: the two clocks are read at slightly different
/// moments).
pub struct SuspendWatch {
    seen: Duration,
}

/// Shorter gaps are jitter between the two clock reads, not a suspension.
const MIN_SUSPEND: Duration = Duration::from_secs(1);

impl SuspendWatch {
    pub fn new() -> Self {
        SuspendWatch {
            seen: suspended_total(),
        }
    }

    /// The time suspended since the last call that returned some.
    pub fn since_last(&mut self) -> Option<Duration> {
        self.advance_to(suspended_total())
    }

    fn advance_to(&mut self, total: Duration) -> Option<Duration> {
        let slept = total.saturating_sub(self.seen);
        (slept >= MIN_SUSPEND).then(|| {
            self.seen = total;
            slept
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_real_gap_between_the_clocks_is_a_suspension() {
        let mut w = SuspendWatch {
            seen: Duration::from_secs(100),
        };
        assert_eq!(w.advance_to(Duration::from_millis(100_400)), None);
        assert_eq!(
            w.advance_to(Duration::from_secs(190)),
            Some(Duration::from_secs(90))
        );
        assert_eq!(w.advance_to(Duration::from_secs(190)), None);
    }

    #[test]
    fn the_clocks_agree_while_the_machine_runs() {
        let mut w = SuspendWatch::new();
        std::thread::sleep(Duration::from_millis(20));
        assert_eq!(w.since_last(), None);
    }
}
