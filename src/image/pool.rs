//! The image thread pool: offload's own threads, never libuv's (which `fs`, `dns` and
//! `zlib` need), so a burst of resizes cannot starve file I/O. Its size defaults to the CPUs
//! this process may use (`available_parallelism` honours the affinity mask and cgroup CPU
//! quotas) and can be changed at any time: extra threads start on demand, surplus threads
//! exit after their current job.

use std::collections::VecDeque;
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

pub struct ImagePool {
    state: Mutex<State>,
    wake: Condvar,
}

/// The CPUs this process may use.
pub fn available_cpus() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

static POOL: OnceLock<ImagePool> = OnceLock::new();

/// The process-wide pool.
pub fn global() -> &'static ImagePool {
    POOL.get_or_init(|| ImagePool::new(available_cpus()))
}

impl ImagePool {
    pub fn new(size: usize) -> ImagePool {
        ImagePool {
            state: Mutex::new(State {
                jobs: VecDeque::new(),
                size: size.max(1),
                threads: 0,
                idle: 0,
            }),
            wake: Condvar::new(),
        }
    }

    pub fn size(&self) -> usize {
        self.state.lock().unwrap().size
    }

    /// Jobs waiting for a thread.
    pub fn queued(&self) -> usize {
        self.state.lock().unwrap().jobs.len()
    }

    pub fn set_size(&'static self, size: usize) {
        let mut s = self.state.lock().unwrap();
        s.size = size.max(1);
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
                // A panic in one job must not take the pool's thread count with it.
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
