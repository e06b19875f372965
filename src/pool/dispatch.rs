//! The scheduler: owns the queue and the timers (task deadlines, cancel
//! grace, idle shrinking, start backoff, the close deadline) and settles every
//! task exactly once. Which task goes where is `admission.rs`; what workers
//! say reaches it as meaning-level [`News`] (`news.rs`; `protocol.rs` decodes
//! real workers' events into it); how the pool ends, `closing.rs`. It asks the crew (`crew.rs`) for workers and
//! changes a worker only through its transitions (`worker.rs`); processes sit
//! behind [`Launch`] and [`WorkerIo`], which its tests replace with fakes
//! (`dispatch/tests.rs`).

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::time::Instant;

use super::channel::ChannelEnd;
use super::config::PoolConfig;
use super::crash;
use super::crew::Crew;
use super::events::{Answer, FailureKind, PoolEvent, PoolSink, TaskFailure, TaskId};
use super::stats::Shared;
use super::worker::{Abandoned, Launch, Task, WorkerIo};

mod admission;
mod closing;
mod news;
#[cfg(test)]
mod tests;

pub(crate) use news::News;

/// How long a `serve()` worker has, after a task's `AbortSignal` fired (abort
/// or timeout), to answer before it is killed and replaced.
pub const CANCEL_GRACE: Duration = Duration::from_millis(1000);

#[derive(PartialEq, Eq)]
enum Phase {
    Open,
    /// No new tasks; the queue drains, then the workers stop.
    Closing {
        timeout: Duration,
    },
    /// Workers asked to stop; SIGKILL at `kill_at` (then `None`: sent).
    Stopping {
        kill_at: Option<Instant>,
    },
}

/// The pool's queue and workers (see `driver.rs` for where it runs).
pub(crate) struct PoolState<L: Launch> {
    config: PoolConfig,
    sink: Arc<dyn PoolSink>,
    /// The workers, their launching and their start failures.
    crew: Crew<L>,
    queue: VecDeque<Task>,
    phase: Phase,
    stats: Arc<Mutex<Shared>>,
    pacing: admission::Pacing,
    /// When the driver will next look at the timers, if it sleeps.
    pub driver_wakes_at: Option<Instant>,
    closed: bool,
}

fn failure(kind: FailureKind, message: impl Into<String>) -> TaskFailure {
    TaskFailure::new(kind, message)
}

impl<L: Launch> PoolState<L> {
    pub fn new(
        config: PoolConfig,
        sink: Arc<dyn PoolSink>,
        stats: Arc<Mutex<Shared>>,
        launcher: L,
    ) -> PoolState<L> {
        let mut state = PoolState {
            crew: Crew::new(&config, launcher),
            config,
            sink,
            queue: VecDeque::new(),
            phase: Phase::Open,
            stats,
            pacing: admission::Pacing::default(),
            driver_wakes_at: None,
            closed: false,
        };
        state.top_up(false);
        state.publish();
        state
    }

    fn settle(&mut self, id: TaskId, result: Result<Answer, TaskFailure>) {
        self.stats.lock().unwrap().settled(result.is_ok());
        self.sink.emit(PoolEvent::TaskDone { id, result });
    }

    fn error(&self, code: &'static str, message: String) {
        self.sink.emit(PoolEvent::Error { code, message });
    }

    fn fail_queue(&mut self, why: &TaskFailure) {
        while let Some(task) = self.queue.pop_front() {
            self.settle(task.id, Err(why.clone()));
        }
    }

    /// The task channels opened since the last call, for a watcher.
    pub fn take_channels(&mut self) -> Vec<(u64, Arc<ChannelEnd>)> {
        self.crew.take_channels()
    }

    /// When the driver must next run [`PoolState::timers`].
    pub fn next_wake(&self) -> Option<Instant> {
        let kill_at = match self.phase {
            Phase::Stopping { kill_at } => kill_at,
            _ => None,
        };
        let starts = [
            self.crew.starts.due(),
            self.crew.starts.retry_at(),
            self.crew.probation_ends(&self.config),
        ];
        [
            self.next_deadline(),
            self.crew.next_idle_stop(&self.config),
            kill_at,
        ]
        .into_iter()
        .chain(starts)
        .flatten()
        .min()
    }

    /// Whatever is due: task deadlines, idle workers, the close deadline.
    pub fn timers(&mut self) {
        let now = Instant::now();
        if self.crew.starts.due().is_some_and(|d| d <= now) {
            self.crew.starts.tick();
        }
        if self
            .crew
            .probation_ends(&self.config)
            .is_some_and(|d| d <= now)
        {
            self.crew.end_probation(now);
            self.dispatch();
        }
        if self.crew.starts.consecutive() > 0 && self.crew.starts.retry_at().is_none() {
            // The wait after failed starts is over: try again, idle or not.
            self.top_up(true);
            self.dispatch();
        }
        if self.next_deadline().is_some_and(|d| d <= now) {
            self.expire();
        }
        if self
            .crew
            .next_idle_stop(&self.config)
            .is_some_and(|d| d <= now)
        {
            self.crew.shrink(&self.config);
        }
        if let Phase::Stopping {
            kill_at: Some(kill_at),
        } = self.phase
        {
            if kill_at <= now {
                self.phase = Phase::Stopping { kill_at: None };
                for worker in self.crew.workers.values_mut() {
                    worker.stop_now();
                }
            }
        }
    }

    /// Where a task handed to a worker is: (worker id, index in its in-flight list).
    fn find_in_flight(&self, id: TaskId) -> Option<(u64, usize)> {
        self.crew.workers.iter().find_map(|(wid, w)| {
            (w.in_flight().iter())
                .position(|e| e.task.id == id && e.pending())
                .map(|at| (*wid, at))
        })
    }

    /// Aborts a task: removed from the queue, or abandoned by its worker.
    pub fn cancel(&mut self, id: TaskId) {
        if let Some(at) = self.queue.iter().position(|t| t.id == id) {
            self.queue.remove(at);
            let message = "the task was aborted before it ran";
            return self.settle(id, Err(failure(FailureKind::Aborted, message)));
        }
        let Some((wid, at)) = self.find_in_flight(id) else {
            return;
        };
        let message = self.abandon(wid, at, "was aborted");
        self.settle(id, Err(failure(FailureKind::Aborted, message)));
        self.replace_if_needed();
        self.dispatch();
    }

    /// Gives up on a task a worker holds (aborted or timed out). Returns how
    /// the task ended, for its error message.
    fn abandon(&mut self, wid: u64, at: usize, what: &str) -> String {
        let w = self.crew.workers.get_mut(&wid).expect("found above");
        match w.abandon(at, Instant::now() + CANCEL_GRACE) {
            Abandoned::Cancelled => format!("the task {what}; its handler's AbortSignal fired"),
            Abandoned::Killed => format!("the task {what}; its worker was killed and replaced"),
        }
    }

    fn next_deadline(&self) -> Option<Instant> {
        self.crew
            .workers
            .values()
            .flat_map(|w| w.in_flight().iter())
            .filter_map(|e| e.deadline.or(e.cancelled_until))
            .min()
    }

    /// Fails the tasks past their deadline, and kills workers that did not
    /// answer a cancelled task in time.
    fn expire(&mut self) {
        let now = Instant::now();
        let mut timed_out = Vec::new();
        let mut unresponsive = Vec::new();
        for (wid, w) in &self.crew.workers {
            for e in w.in_flight() {
                if e.deadline.is_some_and(|d| d <= now) {
                    timed_out.push((*wid, e.task.id));
                } else if e.cancelled_until.is_some_and(|d| d <= now) {
                    unresponsive.push(*wid);
                }
            }
        }
        for (wid, id) in timed_out {
            let Some(at) =
                (self.crew.workers[&wid].in_flight().iter()).position(|e| e.task.id == id)
            else {
                continue;
            };
            let ms = self.crew.workers[&wid].in_flight()[at]
                .task
                .timeout
                .resolve(self.config.task_timeout)
                .unwrap_or_default()
                .as_millis();
            let how = self.abandon(wid, at, &format!("timed out after {ms} ms"));
            self.settle(id, Err(failure(FailureKind::Timeout, how)));
        }
        for wid in unresponsive {
            if let Some(w) = self.crew.workers.get_mut(&wid) {
                if !w.is_stopping() {
                    w.stop_now();
                    let message = crash::unresponsive(w.pid(), CANCEL_GRACE);
                    self.error("ERR_OFFLOAD_WORKER_UNRESPONSIVE", message);
                }
            }
        }
        self.replace_if_needed();
        self.dispatch();
    }

    /// The I/O of worker `wid`, for the news it carries (see `protocol.rs`).
    pub(crate) fn worker_io_mut(&mut self, wid: u64) -> Option<&mut L::Io> {
        self.crew.workers.get_mut(&wid).map(|w| w.io_mut())
    }

    /// Updates the counts that `Pool::stats` reads, and tells each worker's
    /// channel whether its answers are awaited by queued tasks (then the
    /// runtime reads them if JavaScript does not; see `channel::run`).
    pub fn publish(&self) {
        let waiting = !self.queue.is_empty();
        for w in self.crew.workers.values() {
            w.io().expect_answers(waiting && !w.in_flight().is_empty());
        }
        let live = (self.crew.workers.values().filter(|w| w.is_live()))
            .map(|w| (!w.in_flight().is_empty(), w.is_starting()));
        self.stats.lock().unwrap().workers(
            live,
            self.queue.len(),
            self.crew.starts.consecutive(),
            self.crew.starts.retry_at(),
            self.crew.starts.refusal().is_some(),
        );
    }
}
