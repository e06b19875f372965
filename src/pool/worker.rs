//! One worker as the pool knows it: where it is in its life, the tasks it
//! holds, and how it speaks. Its process and channels are behind [`WorkerIo`]
//! (`worker_io.rs`); only this file changes a worker's state, through the
//! transitions below.
//!
//! # Lifecycle
//!
//! ```text
//! Starting ──ready──▶ Ready ──worn out──▶ Retiring
//!     │                 │                    │ last task answered
//!     └──────stop───────┴──────stop──────────┴──▶ Stopping
//! ```
//!
//! - **Starting**: launched, not ready. A worker that must say it is ready
//!   (`wait_for_ready`) does so with a message or a `serve()` hello; any other
//!   is ready once spawned, except a command worker launched after failed
//!   starts, which is on *probation* until it has lived `QUICK_DEATH`.
//! - **Ready**: takes tasks while it has room. Busy or idle is not a state of
//!   its own: a `serve()` worker holds several tasks, so it is the length of
//!   its in-flight list.
//! - **Retiring**: worn out (`max_tasks_per_worker`, `max_rss_bytes`): takes
//!   nothing new and stops once its last task is answered.
//! - **Stopping**: the pool ends it (timeout, abort, recycling, idle, close):
//!   its death is no crash.
//!
//! A worker is *gone* when its process has exited and its pipes drained; the
//! pool then drops it, with what it held ([`Worker::into_remains`]). A death in
//! any state but `Stopping` is a crash.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::channel::ChannelEnd;
use super::config::{PoolConfig, TaskTimeout};
use super::events::TaskId;

/// What the scheduler does to a worker's process: the seam its unit tests
/// replace with a fake (see `dispatch/tests.rs`); `worker_io.rs` is the real one.
pub(crate) trait WorkerIo {
    /// Writes these tasks, in order, in one write; `false` if the worker can
    /// no longer take them (it is dying, and its exit will say so).
    fn send(&self, mode: Mode, tasks: &[Task]) -> bool;
    /// Asks a `serve()` worker to abort the task's `AbortSignal`.
    fn cancel(&self, id: TaskId);
    /// SIGKILL, now.
    fn kill(&self);
    /// End of input (or of its channels), then SIGTERM.
    fn terminate(&self, mode: Mode);
    /// Resident memory; `None` if it cannot be read.
    fn rss_bytes(&self, pid: u32) -> Option<u64>;
    /// Its channels, for a watcher on another event loop.
    fn channels(&self) -> Vec<Arc<ChannelEnd>>;
    /// Whether its answers are awaited by queued tasks.
    fn expect_answers(&self, expecting: bool);
    /// It is gone: its channels read nothing more.
    fn finish(&self);
    /// The end of its stderr, for a crash report.
    fn stderr_tail(&self) -> Vec<u8>;
    /// The last lines of its stderr (at most `max_bytes`), for a start failure.
    fn stderr_lines(&self, lines: usize, max_bytes: usize) -> Vec<u8>;
}

/// Starts workers: the other half of the seam.
pub(crate) trait Launch {
    type Io: WorkerIo;
    fn launch(&mut self, config: &PoolConfig, id: u64) -> std::io::Result<(Self::Io, Mode)>;
}

/// A task as the pool holds it.
pub(crate) struct Task {
    pub id: TaskId,
    /// The task as JSON text (no newline); each buffer appears in it as
    /// `{"$offload:bytes":index}`. Empty in a pool of `advanced` serialization:
    /// the one buffer is then the task as V8 serialized it.
    pub payload: Vec<u8>,
    pub buffers: Vec<Arc<[u8]>>,
    /// The named handler of a `serve()` worker; `None` for its default.
    pub handler: Option<String>,
    pub timeout: TaskTimeout,
    pub queued_at: Instant,
    /// Runs so far that ended in a crash (see `PoolConfig::retries`).
    pub crashes: u32,
}

/// A task handed to a worker.
pub(crate) struct InFlight {
    pub task: Task,
    pub sent: Instant,
    /// When the worker started it: at once for one-at-a-time workers; for a
    /// serve worker, when a slot of its `concurrency` freed up (the worker runs
    /// what it was sent in order, so this mirrors it without asking).
    pub started: Option<Instant>,
    pub deadline: Option<tokio::time::Instant>,
    /// Already settled (aborted or timed out) and cancelled in the worker: the
    /// worker keeps its slot until it answers, or is killed at this deadline.
    pub cancelled_until: Option<tokio::time::Instant>,
}

impl InFlight {
    /// Not settled yet: its answer, or its worker's death, settles it.
    pub fn pending(&self) -> bool {
        self.cancelled_until.is_none()
    }
}

/// How a worker speaks (see `worker_io.rs`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Mode {
    /// Node's IPC channel, one task at a time.
    Plain,
    /// It called `serve()`: binary frames with task ids, several at once.
    Serve,
    /// Any executable: a JSON line in, a JSON line out.
    Command,
}

/// Where a worker is in its life (see the module doc).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Lifecycle {
    Starting {
        /// A command worker launched after failed starts: it takes tasks once
        /// it has lived `QUICK_DEATH` (it cannot say it is ready), so that a
        /// worker that dies at start takes no task with it.
        probation: bool,
    },
    Ready,
    Retiring,
    Stopping,
}

/// How a task the pool gave up on (aborted, timed out) leaves its worker.
pub(crate) enum Abandoned {
    /// A `serve()` worker got a cancel frame and keeps the slot until it
    /// answers or its grace ends.
    Cancelled,
    /// Any other worker was killed.
    Killed,
}

/// What a worker that is gone leaves behind.
pub(crate) struct Remains<Io> {
    pub io: Io,
    pub mode: Mode,
    pub pid: Option<u32>,
    /// Its state when it died.
    pub lifecycle: Lifecycle,
    pub answered: bool,
    pub exit: (Option<i32>, Option<i32>),
    pub lived: Duration,
    pub in_flight: VecDeque<InFlight>,
}

pub(crate) struct Worker<Io> {
    io: Io,
    lifecycle: Lifecycle,
    mode: Mode,
    pid: Option<u32>,
    /// In the order sent.
    in_flight: VecDeque<InFlight>,
    /// It answered a task (for a command worker, the proof that it started).
    answered: bool,
    tasks_sent: u64,
    /// When it last became free (ready, or done with its tasks).
    idle_since: Option<Instant>,
    last_rss_check: Instant,
    /// How it ended, once reaped.
    exit: Option<(Option<i32>, Option<i32>)>,
    /// When it was launched (a death soon after is a failed start).
    launched_at: tokio::time::Instant,
}

impl<Io: WorkerIo> Worker<Io> {
    pub fn new(io: Io, mode: Mode) -> Worker<Io> {
        Worker {
            io,
            lifecycle: Lifecycle::Starting { probation: false },
            mode,
            pid: None,
            in_flight: VecDeque::new(),
            answered: false,
            tasks_sent: 0,
            idle_since: None,
            last_rss_check: Instant::now(),
            exit: None,
            launched_at: tokio::time::Instant::now(),
        }
    }

    pub fn io(&self) -> &Io {
        &self.io
    }

    pub fn io_mut(&mut self) -> &mut Io {
        &mut self.io
    }

    pub fn mode(&self) -> Mode {
        self.mode
    }

    pub fn pid(&self) -> Option<u32> {
        self.pid
    }

    pub fn launched_at(&self) -> tokio::time::Instant {
        self.launched_at
    }

    pub fn in_flight(&self) -> &VecDeque<InFlight> {
        &self.in_flight
    }

    pub fn tasks_sent(&self) -> u64 {
        self.tasks_sent
    }

    /// Takes tasks now, or will once started.
    pub fn is_live(&self) -> bool {
        matches!(
            self.lifecycle,
            Lifecycle::Starting { .. } | Lifecycle::Ready
        )
    }

    pub fn is_starting(&self) -> bool {
        matches!(self.lifecycle, Lifecycle::Starting { .. })
    }

    pub fn is_ready(&self) -> bool {
        self.lifecycle == Lifecycle::Ready
    }

    pub fn is_retiring(&self) -> bool {
        self.lifecycle == Lifecycle::Retiring
    }

    pub fn is_stopping(&self) -> bool {
        self.lifecycle == Lifecycle::Stopping
    }

    pub fn on_probation(&self) -> bool {
        self.lifecycle == Lifecycle::Starting { probation: true }
    }

    /// Ready and doing nothing.
    pub fn idle(&self) -> bool {
        self.is_ready() && self.in_flight.is_empty()
    }

    /// Ready and doing nothing since this instant.
    pub fn idle_since(&self) -> Option<Instant> {
        self.idle_since.filter(|_| self.idle())
    }

    /// How many tasks it may hold: one at a time unless it runs `serve()`;
    /// then `concurrency` running plus `pipeline` waiting in its own queue.
    pub fn capacity(&self, concurrency: usize, pipeline: usize) -> usize {
        match self.mode {
            Mode::Serve => concurrency + pipeline,
            Mode::Plain | Mode::Command => 1,
        }
    }

    /// Ready, with room for `capacity` tasks.
    pub fn has_room(&self, capacity: usize) -> bool {
        self.is_ready() && self.in_flight.len() < capacity
    }

    /// Its process started.
    pub fn spawned(&mut self, pid: u32) {
        self.pid = Some(pid);
    }

    /// A command worker after failed starts proves itself by living.
    pub fn put_on_probation(&mut self) {
        if self.is_starting() {
            self.lifecycle = Lifecycle::Starting { probation: true };
        }
    }

    /// It said it runs `serve()`: frames from now on.
    pub fn serve(&mut self) {
        self.mode = Mode::Serve;
    }

    /// Ready for tasks (a worker already being ended stays so).
    pub fn became_ready(&mut self) {
        if self.is_starting() {
            self.lifecycle = Lifecycle::Ready;
        }
        self.idle_since = Some(Instant::now());
    }

    /// Writes `tasks` to the worker and holds them; `Err` gives them back if
    /// it can no longer take them (its channel closed: it is dying, and its
    /// exit brings a replacement). `on_sent` sees each task as it is held.
    pub fn hand(
        &mut self,
        tasks: Vec<Task>,
        concurrency: usize,
        default_timeout: Option<Duration>,
        mut on_sent: impl FnMut(&Task, Instant),
    ) -> Result<(), Vec<Task>> {
        if !self.io.send(self.mode, &tasks) {
            self.lifecycle = Lifecycle::Stopping;
            return Err(tasks);
        }
        let now = Instant::now();
        for task in tasks {
            on_sent(&task, now);
            self.in_flight.push_back(InFlight {
                task,
                sent: now,
                started: None,
                deadline: None,
                cancelled_until: None,
            });
            self.tasks_sent += 1;
        }
        self.start_waiting(concurrency, default_timeout);
        Ok(())
    }

    /// Starts (in our mirror of the worker) the tasks that now have a slot.
    fn start_waiting(&mut self, concurrency: usize, default_timeout: Option<Duration>) {
        let limit = match self.mode {
            Mode::Serve => concurrency,
            Mode::Plain | Mode::Command => 1,
        };
        let now = Instant::now();
        for entry in self.in_flight.iter_mut().take(limit) {
            if entry.started.is_none() {
                entry.started = Some(now);
                // On the runtime's clock, as every timer the scheduler reads.
                entry.deadline = (entry.task.timeout.resolve(default_timeout))
                    .map(|t| tokio::time::Instant::now() + t);
            }
        }
    }

    /// Takes the task an answer is for (`None`: the oldest it holds, for
    /// workers that answer in order), and starts what waited for its slot.
    /// The flag says it is the worker's first answer.
    pub fn answered(
        &mut self,
        id: Option<TaskId>,
        concurrency: usize,
        default_timeout: Option<Duration>,
    ) -> Option<(InFlight, bool)> {
        let at = match id {
            Some(id) => self.in_flight.iter().position(|e| e.task.id == id),
            None => (!self.in_flight.is_empty()).then_some(0),
        }?;
        let entry = self.in_flight.remove(at).expect("found above");
        let first = !self.answered;
        self.answered = true;
        self.start_waiting(concurrency, default_timeout);
        if self.in_flight.is_empty() {
            self.idle_since = Some(Instant::now());
        }
        Some((entry, first))
    }

    /// Whether its resident memory passed `max`: read between tasks, and
    /// under a steady stream at most every 100 ms.
    pub fn over_memory(&mut self, max: u64) -> bool {
        let now = Instant::now();
        let due =
            self.in_flight.is_empty() || now - self.last_rss_check >= Duration::from_millis(100);
        due && {
            self.last_rss_check = now;
            (self.pid).is_some_and(|pid| self.io.rss_bytes(pid).is_some_and(|rss| rss > max))
        }
    }

    /// Worn out: takes nothing new, stops once its tasks are done.
    pub fn retire(&mut self) {
        if self.lifecycle == Lifecycle::Ready {
            self.lifecycle = Lifecycle::Retiring;
        }
        self.stop_if_retired();
    }

    /// A retiring worker whose last task was answered stops.
    pub fn stop_if_retired(&mut self) {
        if self.is_retiring() && self.in_flight.is_empty() {
            self.stop_gracefully();
        }
    }

    /// Gives up on the task at `at`: a `serve()` worker cancels it and has
    /// until `grace_until` to answer; any other worker is killed.
    pub fn abandon(&mut self, at: usize, grace_until: tokio::time::Instant) -> Abandoned {
        if self.mode == Mode::Serve {
            let entry = &mut self.in_flight[at];
            entry.cancelled_until = Some(grace_until);
            entry.deadline = None;
            self.io.cancel(entry.task.id);
            Abandoned::Cancelled
        } else {
            self.in_flight.remove(at);
            self.stop_now();
            Abandoned::Killed
        }
    }

    /// The tasks it holds that are not settled yet, given up (destroy).
    pub fn drop_tasks(&mut self) -> impl Iterator<Item = InFlight> + '_ {
        self.in_flight.drain(..).filter(InFlight::pending)
    }

    /// Ends the worker now; its death will not count as a crash.
    pub fn stop_now(&mut self) {
        self.lifecycle = Lifecycle::Stopping;
        self.io.kill();
    }

    /// Asks the worker to finish (end of input, SIGTERM); the pool escalates
    /// to SIGKILL at its deadline. Its death will not count as a crash.
    pub fn stop_gracefully(&mut self) {
        self.lifecycle = Lifecycle::Stopping;
        self.io.terminate(self.mode);
    }

    /// Kills a worker that broke the protocol: what it held fails as a crash
    /// (or runs again).
    pub fn kill_as_broken(&self) {
        self.io.kill();
    }

    /// Its process was reaped.
    pub fn exited(&mut self, code: Option<i32>, signal: Option<i32>) {
        self.exit = Some((code, signal));
    }

    /// It is gone: what the pool must settle or run again.
    pub fn into_remains(self) -> Remains<Io> {
        self.io.finish();
        Remains {
            lived: self.launched_at.elapsed(),
            io: self.io,
            mode: self.mode,
            pid: self.pid,
            lifecycle: self.lifecycle,
            answered: self.answered,
            exit: self.exit.unwrap_or((None, None)),
            in_flight: self.in_flight,
        }
    }
}
