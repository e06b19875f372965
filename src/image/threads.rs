//! The image threads: offload's own, never libuv's threadpool (which `fs`, `dns` and
//! `zlib` need), so a burst of resizes cannot starve file I/O. Threads, not processes (as
//! crate::pool's workers are): an image job is plain Rust on the caller's memory, with no
//! JavaScript to isolate. Their number defaults to the CPUs this process may use
//! (`available_parallelism` honours the affinity mask and cgroup CPU quotas) and can be
//! changed at any time: extra threads start on demand, surplus threads exit after their
//! current job.

use std::collections::VecDeque;
use std::ops::RangeInclusive;
use std::sync::{Condvar, Mutex, OnceLock};

type Job = Box<dyn FnOnce() + Send + 'static>;

struct State {
    jobs: VecDeque<Job>,
    /// The wanted number of threads.
    size: usize,
    /// Threads alive.
    threads: usize,
    /// Threads waiting for a job.
    idle: usize,
}

pub struct Threads {
    state: Mutex<State>,
    wake: Condvar,
}

/// The CPUs this process may use.
fn available_cpus() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// How many threads `set_size` takes; lib/image.js's setConcurrency keeps to it.
pub const SIZES: RangeInclusive<usize> = 1..=1024;

static THREADS: OnceLock<Threads> = OnceLock::new();

/// The process-wide image threads.
pub fn global() -> &'static Threads {
    THREADS.get_or_init(|| Threads::new(available_cpus().min(*SIZES.end())))
}

impl Threads {
    pub fn new(size: usize) -> Threads {
        debug_assert!(SIZES.contains(&size));
        Threads {
            state: Mutex::new(State {
                jobs: VecDeque::new(),
                size,
                threads: 0,
                idle: 0,
            }),
            wake: Condvar::new(),
        }
    }

    pub fn size(&self) -> usize {
        self.state.lock().unwrap().size
    }

    pub fn set_size(&'static self, size: usize) {
        debug_assert!(SIZES.contains(&size));
        let mut s = self.state.lock().unwrap();
        s.size = size;
        self.start_threads(&mut s);
        // Idle threads re-check the size and the surplus exits.
        self.wake.notify_all();
    }

    pub fn submit(&'static self, job: impl FnOnce() + Send + 'static) {
        let mut s = self.state.lock().unwrap();
        s.jobs.push_back(Box::new(job));
        self.start_threads(&mut s);
        self.wake.notify_one();
    }

    fn start_threads(&'static self, s: &mut State) {
        while s.threads < s.size && s.jobs.len() > s.idle {
            s.threads += 1;
            let spawned = std::thread::Builder::new()
                .name("offload-image".into())
                .spawn(move || self.work());
            if spawned.is_err() {
                s.threads -= 1;
                break;
            }
        }
    }

    fn work(&self) {
        let mut s = self.state.lock().unwrap();
        loop {
            if s.threads > s.size {
                s.threads -= 1;
                return;
            }
            if let Some(job) = s.jobs.pop_front() {
                drop(s);
                // A panic in one job must not take the thread count with it.
                let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
                s = self.state.lock().unwrap();
                continue;
            }
            s.idle += 1;
            s = self.wake.wait(s).unwrap();
            s.idle -= 1;
        }
    }
}
