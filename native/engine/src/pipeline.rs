//! The data path's crypto pipeline: the packets of one batch are sealed or opened on two cores
//! when the batch is large enough for that to pay, and in the same order either way.
//!
//! Per batch, `Connection` (`connection/batch.rs`) runs three steps:
//! 1. in order, on the I/O thread: encrypt — frame the packet into a slot of `SealBatch` and
//!    take its packet id; decrypt — parse the header, pick the key, refuse an AEAD id the
//!    replay window already saw;
//! 2. the seal / open of every packet, through `Fanout::for_each`: split by bytes between the
//!    worker thread and the I/O thread, or all on the I/O thread for a small batch;
//! 3. in order, on the I/O thread: decrypt — the replay window takes each authentic packet's
//!    id in the order received (a duplicate within the batch is refused here), then the
//!    packet is handed on; encrypt — the sealed slots are queued on the link in id order.
//!
//! Ids are taken before the parallel step, so the wire order within a key's sequence is the
//! order the TUN device gave the packets. Slots, buffers and the worker are reused across
//! batches: nothing is allocated per packet or per batch.

use crate::worker::Worker;
use std::ops::Range;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// A batch with less crypto work than this stays on the I/O thread whatever was measured:
/// half of it is a few microseconds of AES-GCM, less than a hand-over costs at best.
const CANDIDATE_BYTES: usize = 16 * 1024;
/// One candidate batch in PROBE goes the way not currently preferred, so the choice follows
/// the machine's load. A probe of a parked worker costs ~150 µs here (its wake-up), so this
/// keeps that under 3 µs a batch on average.
const PROBE: u32 = 64;
/// Packets per batch: what the UDP link sends in one `sendmmsg` and decrypts per chunk.
pub const BATCH: usize = 64;

/// Splits a batch's crypto between the I/O thread and one worker thread when that pays:
/// when the I/O thread is measured to get a batch done sooner that way (`Chooser`). The
/// worker starts with the first batch that tries it; a single-core machine never does.
pub struct Fanout {
    worker: Option<Worker>,
    /// The thread could not be started (or there is one core): stay on one.
    no_worker: bool,
    min_bytes: usize,
    chooser: Chooser,
    /// Tests: always (or never) on two threads.
    #[cfg(test)]
    force: Option<bool>,
    /// Batches that ran on two threads (the tests check the parallel path really ran).
    #[cfg(test)]
    pub(crate) parallel_batches: u64,
}

impl Default for Fanout {
    fn default() -> Self {
        Self::new()
    }
}

fn cores() -> usize {
    static CORES: OnceLock<usize> = OnceLock::new();
    *CORES.get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

/// Which way pays, from the time the I/O thread spent per KiB of a candidate batch each way
/// (moving averages over the batches that went that way): the faster way, and every PROBE-th
/// batch the other, to notice when the load changes (a busy second core makes the worker
/// wait for its turn, and the parallel way then loses).
#[derive(Debug, Default)]
struct Chooser {
    /// [one thread, two threads], nanoseconds per KiB.
    ns_per_kib: [Option<u64>; 2],
    candidates: u32,
}

impl Chooser {
    fn parallel(&mut self) -> bool {
        self.candidates = self.candidates.wrapping_add(1);
        match self.ns_per_kib {
            [None, _] => false,
            [_, None] => true,
            [Some(one), Some(two)] => (two < one) != self.candidates.is_multiple_of(PROBE),
        }
    }

    fn record(&mut self, parallel: bool, bytes: usize, took: Duration) {
        let sample = (took.as_nanos() * 1024 / bytes.max(1) as u128).min(u64::MAX.into()) as u64;
        let avg = &mut self.ns_per_kib[usize::from(parallel)];
        // Quarter weight: a probe moves its way's average enough to tell a change of load.
        *avg = Some(avg.map_or(sample, |a| a - a / 4 + sample / 4));
    }
}

impl Fanout {
    pub fn new() -> Self {
        Self {
            worker: None,
            no_worker: cores() < 2,
            min_bytes: CANDIDATE_BYTES,
            chooser: Chooser::default(),
            #[cfg(test)]
            force: None,
            #[cfg(test)]
            parallel_batches: 0,
        }
    }

    /// Runs `f` on every item, the first items up to half the batch's `bytes` on the worker
    /// when that pays. Items are independent: which thread takes which changes nothing but
    /// the time.
    pub fn for_each<T: Send>(
        &mut self,
        items: &mut [T],
        bytes: impl Fn(&T) -> usize,
        f: impl Fn(&mut T) + Sync,
    ) {
        let total: usize = items.iter().map(&bytes).sum();
        if items.len() < 2 || total < self.min_bytes || self.no_worker {
            items.iter_mut().for_each(f);
            return;
        }
        #[cfg(test)]
        let parallel = self.force.unwrap_or_else(|| self.chooser.parallel());
        #[cfg(not(test))]
        let parallel = self.chooser.parallel();
        // A thread's start is not what a batch costs: that one is not measured.
        let started_now = parallel && self.worker.is_none();
        if started_now {
            match Worker::spawn() {
                Ok(w) => self.worker = Some(w),
                Err(_) => self.no_worker = true,
            }
        }
        let t0 = Instant::now();
        match self.worker.as_ref().filter(|_| parallel) {
            None => items.iter_mut().for_each(&f),
            Some(worker) => {
                let mut acc = 0;
                let split = items
                    .iter()
                    .position(|it| {
                        acc += bytes(it);
                        acc * 2 >= total
                    })
                    .map_or(items.len() / 2, |i| (i + 1).min(items.len() - 1));
                let (theirs, ours) = items.split_at_mut(split);
                worker.join(
                    || theirs.iter_mut().for_each(&f),
                    || ours.iter_mut().for_each(&f),
                );
                #[cfg(test)]
                {
                    self.parallel_batches += 1;
                }
            }
        }
        if !started_now {
            self.chooser
                .record(parallel && self.worker.is_some(), total, t0.elapsed());
        }
    }

    /// Tests: every batch on this thread.
    #[cfg(test)]
    pub(crate) fn one_thread() -> Self {
        Self {
            force: Some(false),
            ..Self::new()
        }
    }

    /// Tests: every batch of two packets or more on two threads, whatever its size.
    #[cfg(test)]
    pub(crate) fn always() -> Self {
        Self {
            worker: Some(Worker::spawn().unwrap()),
            no_worker: false,
            min_bytes: 0,
            force: Some(true),
            ..Self::new()
        }
    }
}

/// A TUN packet framed for sealing: its slot buffer, header length, key and packet id.
pub struct Staged {
    pub(crate) buf: Vec<u8>,
    pub(crate) hdr: usize,
    pub(crate) key_id: u8,
    pub(crate) id: u32,
    pub(crate) sealed: bool,
}

/// The encrypt side's slots: filled in order by `Connection::stage_tun`, sealed by
/// `Connection::seal_batch`, then handed to the link in the same order (swapped, not copied).
pub struct SealBatch {
    slots: Vec<Staged>,
    len: usize,
}

/// Send slots start at this capacity (an MTU-sized packet plus overhead); they grow if needed.
const SLOT: usize = 2048;

impl Default for SealBatch {
    fn default() -> Self {
        Self::new()
    }
}

impl SealBatch {
    pub fn new() -> Self {
        Self {
            slots: (0..BATCH)
                .map(|_| Staged {
                    buf: Vec::with_capacity(SLOT),
                    hdr: 0,
                    key_id: 0,
                    id: 0,
                    sealed: false,
                })
                .collect(),
            len: 0,
        }
    }

    pub fn is_full(&self) -> bool {
        self.len == self.slots.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The next free slot; `push` keeps it in the batch.
    pub(crate) fn next_slot(&mut self) -> &mut Staged {
        let s = &mut self.slots[self.len];
        s.sealed = false;
        s
    }

    pub(crate) fn push(&mut self) {
        self.len += 1;
    }

    pub(crate) fn staged(&mut self) -> &mut [Staged] {
        &mut self.slots[..self.len]
    }

    /// Hands each sealed packet's buffer to `queue` in order (to swap with a link buffer)
    /// and empties the batch.
    pub fn drain_sealed(&mut self, mut queue: impl FnMut(&mut Vec<u8>)) {
        for s in &mut self.slots[..self.len] {
            if s.sealed {
                queue(&mut s.buf);
            }
        }
        self.len = 0;
    }
}

/// A received packet on its way through `Connection::handle_link_batch`: the decrypted
/// plaintext's range within it once done.
pub struct Rx<'a> {
    pub(crate) buf: &'a mut [u8],
    /// Step 1's choice: (key_id, header length) of a data packet to open.
    pub(crate) open: Option<(u8, usize)>,
    /// Step 2's result: the packet id and plaintext range of an authentic packet.
    pub(crate) opened: Option<(u32, Range<usize>)>,
    /// Step 3's result: what goes to the TUN device.
    pub(crate) plain: Option<Range<usize>>,
}

impl<'a> Rx<'a> {
    pub fn new(buf: &'a mut [u8]) -> Self {
        Self {
            buf,
            open: None,
            opened: None,
            plain: None,
        }
    }

    /// The IP packet to write to the TUN device, if the packet carried one.
    pub fn plaintext(&self) -> Option<&[u8]> {
        self.plain.clone().map(|r| &self.buf[r])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_chooser_takes_the_faster_way_and_probes_the_other() {
        let mut c = Chooser::default();
        let ms = Duration::from_millis;
        assert!(!c.parallel(), "one thread is measured first");
        c.record(false, 64 * 1024, ms(64));
        assert!(c.parallel(), "then two");
        c.record(true, 64 * 1024, ms(32));
        let picks: Vec<bool> = (0..2 * PROBE).map(|_| c.parallel()).collect();
        assert_eq!(picks.iter().filter(|&&p| !p).count(), 2, "{picks:?}");
        // The second core gets busy: two threads now take four times as long. The average
        // follows within a few probes, and the choice flips.
        let mut flipped_after = None;
        for i in 0..20 * PROBE {
            let p = c.parallel();
            c.record(p, 64 * 1024, if p { ms(128) } else { ms(64) });
            if !p && flipped_after.is_none() && c.ns_per_kib[1] > c.ns_per_kib[0] {
                flipped_after = Some(i);
            }
        }
        assert!(
            flipped_after.is_some_and(|i| i < 10 * PROBE),
            "{flipped_after:?}"
        );
        let picks: Vec<bool> = (0..2 * PROBE).map(|_| c.parallel()).collect();
        assert_eq!(picks.iter().filter(|&&p| p).count(), 2, "{picks:?}");
    }
}
