//! The worker-pool engine: long-lived worker processes, a queue, dispatch,
//! timeouts, crash recovery and statistics.
//!
//! # Model
//!
//! The pool's state (queue, workers, phase) sits behind one lock. [`Pool::run`]
//! takes it on the caller's thread (JavaScript's), queues the task and hands
//! out what workers have room for, writing to them directly; a driver task on
//! the runtime handles what the workers say, task deadlines, idle shrinking
//! and the close deadline. Every task settles exactly once, as a
//! [`PoolEvent::TaskDone`] on the sink: the worker's [`Answer`], or a
//! [`TaskFailure`] whose kind is a stable code.
//!
//! - **Workers** (see `worker_io.rs`): a plain Node module spoken to over Node's
//!   IPC channel (fd 3, Node's JSON lines), one task at a time (an unmodified
//!   `process.on('message', t => process.send(work(t)))` works); a Node module
//!   that calls `serve()` (`lib/worker.js`), spoken to in binary frames on a
//!   socket pair at its fd 4 (`task_frame.rs`), with task ids, `concurrency` tasks
//!   at once, raw buffers, thrown errors and cancellation; any other
//!   executable, one JSON line in and one out. Both channels of a Node worker
//!   are socket pairs the pool owns (`channel.rs`), not the process engine's
//!   IPC, so both are written and read the same way.
//! - **Reading answers.** A caller with an event loop of its own (the JS
//!   binding) takes each new channel with [`Pool::take_channels`] and
//!   reads it when readable ([`ChannelWatch::on_readable`]), so answers settle
//!   on that thread with no hop. The runtime reads unwatched channels, and
//!   watched ones whose answers queued tasks wait for, 2 ms after the watcher
//!   left them unread (a busy JS thread).
//! - **Pipelining.** While tasks are short (under 1 ms on average) and every
//!   worker is busy, a serve worker is sent up to 32 tasks beyond its
//!   `concurrency`. It starts them in order, and the pool mirrors that order to
//!   start each task's timeout when the worker does.
//! - **Failure.** A worker that dies fails the tasks it was running with
//!   `WorkerCrashed` (exit code or signal, and the tail of its stderr when piped)
//!   and is replaced; tasks it held but had not started run elsewhere. A task
//!   past its timeout, or aborted, settles at once; a serve worker gets a cancel
//!   frame (its handler's `AbortSignal`) and `CANCEL_GRACE` to answer, any
//!   other worker is killed and replaced.
//! - **Workers that cannot start** (see `start_failures.rs`). A worker that
//!   dies before it is ready, or within `QUICK_DEATH` of its launch, is a
//!   failed start, replaced at once; after `max_start_failures` in a row the
//!   pool starts none for `start_backoff` (doubling), then one at a time,
//!   refuses queued and new tasks with `WorkerStartFailed` while no worker is
//!   ready, and reports the episode once ([`PoolEvent::StartFailed`]). A task
//!   a worker held when it died still fails as `WorkerCrashed`. A command
//!   worker cannot say it is ready: its first answer is the proof, and after
//!   a failed start a new one takes tasks only once it has lived
//!   `QUICK_DEATH`. Every worker's stderr is read
//!   (see `stderr.rs`), so the failure quotes its last lines.
//! - **Recycling.** A worker is retired after `max_tasks_per_worker` tasks, or
//!   when its resident memory passed `max_rss_bytes` (read from /proc between
//!   tasks): it takes nothing new, a fresh one starts, and it stops once its
//!   tasks are done. A crashed task runs again on a fresh worker up to
//!   `retries` times.
//! - **Closing.** `close` takes no new tasks, lets the queue drain, then ends
//!   the workers (end of input, SIGTERM, SIGKILL at the deadline); `destroy`
//!   fails everything pending at once and kills the workers.
//!
//! # Layout
//!
//! No two of these files use each other, directly or around a cycle
//! (__test__/engine-modules.test.mjs checks it), and the pool uses
//! `crate::process`, never the reverse. `worker_io.rs` implements the seam
//! `worker.rs` declares, so the scheduler never sees a real process:
//!
//! - `driver.rs`: the lock and the runtime task that wakes the scheduler.
//! - `protocol.rs`: a real worker's frames, messages and process events
//!   turned into the scheduler's news.
//! - `dispatch.rs`, the scheduler: the queue and the timers (deadlines,
//!   cancel grace, idle shrinking, start backoff, close), every settlement;
//!   `dispatch/admission.rs` decides which task goes to which worker
//!   (pipelining included), `dispatch/news.rs` what each piece of worker news
//!   does, `dispatch/closing.rs` how `close` and `destroy` end the pool. Unit-tested with fake workers and tokio's paused clock
//!   (`dispatch/tests.rs`).
//! - `crew.rs`: the workers as a group: launching, counting, failed starts
//!   and probation, readiness, idle shrinking.
//! - `worker.rs`: a worker's lifecycle (one enum), the tasks it holds, and
//!   the `WorkerIo`/`Launch` seam to its process; nothing else changes a
//!   worker.
//! - `worker_io.rs`: the real process and channels behind that seam;
//!   `channel.rs` a channel's socket, `task_frame.rs` the `serve()` task
//!   channel's frames.
//! - `crash.rs`: how deaths and misbehaviour are worded; `stats.rs`: what
//!   `Pool::stats` reads; `start_failures.rs`: the backoff after failed starts.
//!
//! # Caveats
//!
//! - A worker that dies while the pool is idle, after it started, is replaced
//!   by the next `run`, not at once; a failed start is replaced at once
//!   (bounded by the backoff), so a pool that cannot start says so early.
//! - A message (or stdout line) from a plain worker that holds no task is
//!   ignored: with one task at a time there is nobody to give it to.
//! - A worker killed because one task timed out takes the other tasks it was
//!   running with it (they fail as crashed, or run again with `retries`).

mod channel;
mod config;
mod crash;
mod crew;
mod dispatch;
mod driver;
mod events;
mod protocol;
mod start_failures;
mod stats;
mod stderr;
pub mod task_frame;
mod worker;
mod worker_io;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub use config::{
    PoolConfig, Program, StderrMode, TaskTimeout, DEFAULT_MAX_START_FAILURES, READY_MESSAGE,
};
pub use events::{Answer, Bytes, FailureKind, PoolEvent, PoolSink, TaskFailure, TaskId};
pub use start_failures::{Backoff, QUICK_DEATH};
pub use stats::{Percentiles, Stats};

use driver::Core;
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

/// A worker's task channel, for a watcher on another event loop.
pub struct ChannelWatch {
    core: Arc<Core>,
    worker: u64,
    end: Arc<channel::ChannelEnd>,
}

impl ChannelWatch {
    /// The socket to watch for readability (owned by the pool: duplicate it
    /// to keep one's own).
    pub fn fd(&self) -> std::os::fd::RawFd {
        self.end.raw_fd()
    }

    /// Reads what arrived and settles it; `false` once the channel is done
    /// (closed or broken), when the watch should end.
    pub fn on_readable(&self) -> bool {
        let Some(got) = self.end.read_available() else {
            return true;
        };
        let open = !got.closed && got.malformed.is_none();
        self.core.with(|pool| pool.channel_read(self.worker, got));
        open
    }
}

/// What a task may carry besides its JSON text.
#[derive(Default)]
pub struct RunOptions {
    /// Raw bytes, referred to in the JSON as `{"$offload:bytes":index}`.
    pub buffers: Vec<Arc<[u8]>>,
    /// A named handler of a `serve()` worker.
    pub handler: Option<String>,
    pub timeout: TaskTimeout,
}

impl Pool {
    pub fn start(config: PoolConfig, sink: Arc<dyn PoolSink>) -> Pool {
        let stats = Arc::new(Mutex::new(Shared::default()));
        let _enter = crate::runtime::handle().enter();
        let (core, events) = Core::new(config, sink, stats.clone());
        crate::runtime::handle().spawn(driver::drive(core.clone(), events));
        Pool {
            _last_handle: Arc::new(DestroyOnDrop(core.clone())),
            core,
            stats,
        }
    }

    /// Queues a task: `payload` is its JSON text. Workers with room get it at
    /// once, written from this thread. Settles through the sink (a closed pool
    /// refuses it there).
    pub fn run(&self, id: TaskId, payload: Vec<u8>, options: RunOptions) {
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
    pub fn run_many(&self, tasks: impl Iterator<Item = (TaskId, Vec<u8>)>) {
        let queued_at = Instant::now();
        let tasks = tasks
            .map(|(id, payload)| Task {
                id,
                payload,
                buffers: Vec::new(),
                handler: None,
                timeout: TaskTimeout::Pool,
                queued_at,
                crashes: 0,
            })
            .collect();
        self.core.with(|pool| pool.run(tasks));
    }

    /// Aborts a task: removed from the queue, or its worker cancels or is replaced.
    pub fn cancel(&self, id: TaskId) {
        self.core.with(|pool| pool.cancel(id));
    }

    pub fn close(&self, timeout: Duration) {
        self.core.with(|pool| pool.close(timeout));
    }

    pub fn destroy(&self) {
        self.core.with(|pool| pool.destroy());
    }

    /// Task channels opened since the last call. A caller with an event loop
    /// of its own (JavaScript's) watches each for readability and calls
    /// [`ChannelWatch::on_readable`]: answers then reach that thread without
    /// a hop through the runtime. Unwatched channels are read by the runtime.
    pub fn take_channels(&self) -> Vec<ChannelWatch> {
        self.core
            .with(|pool| pool.take_channels())
            .into_iter()
            .map(|(worker, end)| {
                end.set_watched();
                ChannelWatch {
                    core: self.core.clone(),
                    worker,
                    end,
                }
            })
            .collect()
    }

    /// The statistics as of the pool's last step. Never waits for it.
    pub fn stats(&self) -> Stats {
        self.stats.lock().unwrap().snapshot()
    }
}

#[cfg(test)]
mod tests;
