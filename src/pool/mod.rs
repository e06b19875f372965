//! The worker-pool engine: long-lived worker processes, a queue, dispatch,
//! timeouts, crash recovery and statistics.
//!
//! # Model
//!
//! [`Pool::start`] launches `size` workers with the spawn engine (so they never
//! `fork()` Node, and die with it) and runs one tokio task that owns the queue
//! and the workers. [`Pool::run`] hands it a task (JSON text) and returns at
//! once; the task settles exactly once, as a [`PoolEvent::TaskDone`] on the sink:
//! the worker's answer, or a [`TaskFailure`] whose kind is a stable code.
//!
//! - **Workers.** A Node module is spoken to over Node's IPC channel (an
//!   unmodified `process.on('message', t => process.send(work(t)))` works); any
//!   other executable reads one JSON task per line on stdin and writes one JSON
//!   result per line on stdout. Each worker runs one task at a time, and its
//!   next message or line is that task's result.
//! - **Failure.** A worker that dies mid-task fails that task with
//!   `WorkerCrashed` (exit code or signal, and the tail of its stderr when piped)
//!   and is replaced. A task past its timeout, or aborted while running, has its
//!   worker killed and replaced.
//! - **Recycling.** A worker is replaced after `max_tasks_per_worker` tasks, or
//!   when its resident memory passed `max_rss_bytes` (read from /proc between
//!   tasks); a crashed task runs again on a fresh worker up to `retries` times.
//! - **Closing.** `close` takes no new tasks, lets the queue drain, then ends
//!   the workers (end of input, SIGTERM, SIGKILL at the deadline); `destroy`
//!   fails everything pending at once and kills the workers.
//!
//! # Caveats
//!
//! - A worker that dies while the pool is idle is replaced by the next `run`,
//!   not at once, so a worker that cannot start does not spin in a loop.
//! - A worker that writes a message (or a stdout line) when it has no task is
//!   ignored: with one task at a time there is nobody to give it to.

mod channel;
mod config;
mod dispatch;
mod events;
mod frame;
mod stats;
mod worker;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub use config::{PoolConfig, Program, StderrMode};
pub use events::{Answer, Bytes, FailureKind, PoolEvent, PoolSink, TaskFailure};
pub use stats::{Percentiles, Stats};

use dispatch::Core;
use stats::Shared;
use worker::Task;

/// A running pool. Dropping every handle destroys it.
#[derive(Clone)]
pub struct Pool {
    core: Arc<Core>,
    stats: Arc<Mutex<Shared>>,
    _last_handle: Arc<DestroyOnDrop>,
}

/// Destroys the pool when the last handle goes: nobody can submit or wait any more.
struct DestroyOnDrop(Arc<Core>);

impl Drop for DestroyOnDrop {
    fn drop(&mut self) {
        self.0.with(|pool| pool.destroy());
    }
}

/// What a task may carry besides its JSON text.
#[derive(Default)]
pub struct RunOptions {
    /// Raw bytes, referred to in the JSON as `{"$offload:bytes":index}`.
    pub buffers: Vec<Arc<[u8]>>,
    /// A named handler of a `serve()` worker.
    pub handler: Option<String>,
    /// Overrides the pool's `task_timeout`.
    pub timeout: Option<Duration>,
}

impl Pool {
    pub fn start(config: PoolConfig, sink: Arc<dyn PoolSink>) -> Pool {
        let stats = Arc::new(Mutex::new(Shared::default()));
        let _enter = crate::runtime::handle().enter();
        let (core, events) = Core::new(config, sink, stats.clone());
        crate::runtime::handle().spawn(dispatch::drive(core.clone(), events));
        Pool {
            _last_handle: Arc::new(DestroyOnDrop(core.clone())),
            core,
            stats,
        }
    }

    /// Queues a task: `payload` is its JSON text. Workers with room get it at
    /// once, written from this thread. Settles through the sink (a closed pool
    /// refuses it there).
    pub fn run(&self, id: u64, payload: Vec<u8>, options: RunOptions) {
        let task = Task {
            id,
            payload,
            buffers: options.buffers,
            handler: options.handler,
            timeout: options.timeout,
            queued_at: Instant::now(),
            crashes: 0,
        };
        self.core.with(|pool| pool.run(vec![task]));
    }

    /// Queues several tasks with no options, in order, in one step.
    pub fn run_many(&self, tasks: impl Iterator<Item = (u64, Vec<u8>)>) {
        let queued_at = Instant::now();
        let tasks = tasks
            .map(|(id, payload)| Task {
                id,
                payload,
                buffers: Vec::new(),
                handler: None,
                timeout: None,
                queued_at,
                crashes: 0,
            })
            .collect();
        self.core.with(|pool| pool.run(tasks));
    }

    /// Aborts a task: removed from the queue, or its worker cancels or is replaced.
    pub fn cancel(&self, id: u64) {
        self.core.with(|pool| pool.cancel(id));
    }

    pub fn close(&self, timeout: Duration) {
        self.core.with(|pool| pool.close(timeout));
    }

    pub fn destroy(&self) {
        self.core.with(|pool| pool.destroy());
    }

    /// The statistics as of the pool's last step. Never waits for it.
    pub fn stats(&self) -> Stats {
        self.stats.lock().unwrap().snapshot()
    }
}

#[cfg(test)]
mod tests;
