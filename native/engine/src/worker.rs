//! One persistent helper thread that runs half of a batch's work while the calling thread
//! runs the other half (`Worker::join`, like rayon's `join` with a pool of one). The driver
//! uses it to seal and open a large batch of data packets on two cores.
//!
//! The job borrows the caller's stack (packet buffers, keys), so `join` waits for it before it
//! returns or unwinds. Handing it over allocates nothing: a pointer to the closure in a mutex,
//! an atomic state, and thread park/unpark. Both sides spin a little before they park: in
//! bulk the next batch (or the other half's end) is usually microseconds away, and a futex
//! wake-up costs more than that on a busy VM.

use std::any::Any;
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::{JoinHandle, Thread};
use std::time::{Duration, Instant};

/// How long the worker waits for the next job, and the caller for the worker's half, before
/// parking. Spinning is paid only while batches follow each other closely.
const SPIN: Duration = Duration::from_micros(50);

/// A job on the caller's stack, its type erased: `run` calls the closure behind `data` once.
struct JobRef {
    data: *mut (),
    run: unsafe fn(*mut ()),
    /// Unparked when the job is done.
    caller: Thread,
    /// The caller's `TEST_FLAG`, in force on the worker while the job runs.
    #[cfg(test)]
    flag: bool,
}

// SAFETY: the closure behind `data` is `Send` (bound on `join`), and `join` keeps it alive and
// untouched until the worker reports it done.
unsafe impl Send for JobRef {}

/// `Shared::state`: what the slot holds.
const IDLE: u8 = 0;
const POSTED: u8 = 1;
const DONE: u8 = 2;
const EXIT: u8 = 3;

struct Shared {
    state: AtomicU8,
    /// The posted job, taken by the worker when it runs it.
    job: Mutex<Option<JobRef>>,
    /// The job's panic payload, if it panicked; `join` resumes it on the caller.
    panic: Mutex<Option<Box<dyn Any + Send>>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // Nothing panics while holding these locks, but a poisoned one is still consistent.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Spins up to SPIN, then parks, until `state` is one of `wanted` (parking may wake early:
/// the state is checked again each time).
fn wait_for(state: &AtomicU8, wanted: &[u8]) -> u8 {
    let start = Instant::now();
    let mut spins = 0u32;
    loop {
        let s = state.load(Ordering::Acquire);
        if wanted.contains(&s) {
            return s;
        }
        spins += 1;
        if !spins.is_multiple_of(64) || start.elapsed() < SPIN {
            std::hint::spin_loop();
        } else {
            std::thread::park();
        }
    }
}

pub struct Worker {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

thread_local! {
    /// Set on worker threads: a job that called `join` there would wait for itself.
    // The initializer is const; clippy still flags it on windows-gnu, where thread_local!
    // expands through OS TLS keys.
    #[allow(clippy::missing_const_for_thread_local)]
    static ON_WORKER: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

#[cfg(test)]
thread_local! {
    /// A per-thread flag that a job carries from its caller onto the worker, so a test's
    /// counting allocator sees the worker's allocations for a caller as that caller's.
    #[allow(clippy::missing_const_for_thread_local)] // as ON_WORKER's
    pub(crate) static TEST_FLAG: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

impl Worker {
    /// Starts the thread (this allocates: call it outside the packet path).
    pub fn spawn() -> std::io::Result<Self> {
        let shared = Arc::new(Shared {
            state: AtomicU8::new(IDLE),
            job: Mutex::new(None),
            panic: Mutex::new(None),
        });
        let theirs = shared.clone();
        let thread = std::thread::Builder::new()
            .name("causeway-crypto".into())
            .spawn(move || serve(&theirs))?;
        Ok(Self {
            shared,
            thread: Some(thread),
        })
    }

    /// Runs `theirs` on the worker and `ours` on this thread, and returns when both are done;
    /// a panic in either is resumed here after both finished.
    pub fn join<A, R>(&self, theirs: A, ours: impl FnOnce() -> R) -> R
    where
        A: FnOnce() + Send,
    {
        assert!(
            !ON_WORKER.with(|w| w.get()),
            "join called from the worker itself"
        );
        let mut job = Some(theirs);
        *lock(&self.shared.job) = Some(JobRef {
            data: (&mut job as *mut Option<A>).cast(),
            run: run_job::<A>,
            caller: std::thread::current(),
            #[cfg(test)]
            flag: TEST_FLAG.with(|f| f.get()),
        });
        self.shared.state.store(POSTED, Ordering::Release);
        if let Some(t) = &self.thread {
            t.thread().unpark();
        }
        let result = panic::catch_unwind(AssertUnwindSafe(ours));
        // The job borrows this stack frame: wait for it whatever happened to ours.
        wait_for(&self.shared.state, &[DONE]);
        self.shared.state.store(IDLE, Ordering::Relaxed);
        if let Some(p) = lock(&self.shared.panic).take() {
            panic::resume_unwind(p);
        }
        result.unwrap_or_else(|p| panic::resume_unwind(p))
    }
}

/// # Safety
/// `data` points at a live `Option<A>` that nothing else touches until this returns.
unsafe fn run_job<A: FnOnce()>(data: *mut ()) {
    // SAFETY: per the contract above.
    let job = unsafe { &mut *data.cast::<Option<A>>() };
    if let Some(f) = job.take() {
        f();
    }
}

fn serve(shared: &Shared) {
    ON_WORKER.with(|w| w.set(true));
    while wait_for(&shared.state, &[POSTED, EXIT]) == POSTED {
        let Some(job) = lock(&shared.job).take() else {
            continue;
        };
        #[cfg(test)]
        let before = TEST_FLAG.with(|f| f.replace(job.flag));
        // SAFETY: `join` keeps the closure alive and untouched until it sees DONE below.
        let outcome = panic::catch_unwind(AssertUnwindSafe(|| unsafe { (job.run)(job.data) }));
        #[cfg(test)]
        TEST_FLAG.with(|f| f.set(before));
        if let Err(p) = outcome {
            *lock(&shared.panic) = Some(p);
        }
        shared.state.store(DONE, Ordering::Release);
        job.caller.unpark();
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        self.shared.state.store(EXIT, Ordering::Release);
        if let Some(t) = self.thread.take() {
            t.thread().unpark();
            let _ = t.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_halves_run_and_borrow_the_callers_data() {
        let w = Worker::spawn().unwrap();
        let mut data = vec![1u32; 1000];
        for round in 0..100u32 {
            let (left, right) = data.split_at_mut(500);
            let sum = w.join(
                || left.iter_mut().for_each(|x| *x += round),
                || {
                    right.iter_mut().for_each(|x| *x += round);
                    right.iter().map(|&x| u64::from(x)).sum::<u64>()
                },
            );
            assert_eq!(sum, 500 * u64::from(1 + round * (round + 1) / 2));
        }
        let expect = 1 + 99 * 100 / 2;
        assert!(data.iter().all(|&x| x == expect));
        let worker_thread = w.join(
            || assert!(ON_WORKER.with(|o| o.get())),
            || ON_WORKER.with(|o| o.get()),
        );
        assert!(!worker_thread, "the caller's half runs on the caller");
    }

    #[test]
    fn a_panic_on_either_side_reaches_the_caller_after_both_finished() {
        let w = Worker::spawn().unwrap();
        let finished = std::sync::atomic::AtomicBool::new(false);
        let r = panic::catch_unwind(AssertUnwindSafe(|| {
            w.join(
                || {
                    std::thread::sleep(std::time::Duration::from_millis(20));
                    finished.store(true, std::sync::atomic::Ordering::SeqCst);
                },
                || panic!("ours"),
            )
        }));
        assert!(r.is_err());
        assert!(
            finished.load(std::sync::atomic::Ordering::SeqCst),
            "returned before the worker's half was done"
        );
        let r = panic::catch_unwind(AssertUnwindSafe(|| w.join(|| panic!("theirs"), || 7)));
        assert!(r.is_err());
        // Still serving after both.
        assert_eq!(w.join(|| {}, || 3), 3);
    }
}
