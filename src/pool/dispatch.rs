//! The scheduler: owns the queue and the timers, hands tasks to workers with
//! room, settles every task exactly once, and replaces workers that die. It
//! hears workers as meaning-level [`News`] (`protocol.rs` decodes them), asks
//! the crew (`crew.rs`) for workers, and changes a worker only through its
//! transitions (`worker.rs`); processes sit behind [`Launch`] and
//! [`WorkerIo`], which its tests replace with fakes (`dispatch/tests.rs`).

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::time::Instant;

use super::channel::Outlet;
use super::config::PoolConfig;
use super::crash;
use super::crew::Crew;
use super::events::{Answer, FailureKind, PoolEvent, PoolSink, TaskFailure};
use super::protocol::News;
use super::start_failures::Verdict;
use super::stats::Shared;
use super::worker::{Abandoned, InFlight, Lifecycle, Mode, Task, WorkerIo};
use super::worker_io::Launch;

#[cfg(test)]
mod tests;

/// How long a `serve()` worker has, after a task's `AbortSignal` fired (abort
/// or timeout), to answer before it is killed and replaced.
pub const CANCEL_GRACE: Duration = Duration::from_millis(1000);

/// Tasks sent ahead to a `serve()` worker beyond its `concurrency`, so that it
/// never waits for the parent between short tasks. Only while tasks are short
/// (see [`PIPELINE_BELOW_MS`]) and every worker is already busy.
const PIPELINE: usize = 32;
const PIPELINE_BELOW_MS: f64 = 1.0;

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
    /// Recent task run time, milliseconds (exponential average); `None` before
    /// the first answer.
    run_ms: Option<f64>,
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
            run_ms: None,
            driver_wakes_at: None,
            closed: false,
        };
        state.top_up(false);
        state.publish();
        state
    }

    fn settle(&mut self, id: u64, result: Result<Answer, TaskFailure>) {
        self.stats.lock().unwrap().settled(result.is_ok());
        self.sink.emit(PoolEvent::TaskDone { id, result });
    }

    fn error(&self, code: &'static str, message: String) {
        self.sink.emit(PoolEvent::Error { code, message });
    }

    /// How many workers the pool wants now: enough for what runs and waits,
    /// within `min_size` and `size`.
    fn wanted(&self) -> usize {
        let slots = self.config.concurrency.max(1);
        let running: usize = self
            .crew
            .workers
            .values()
            .map(|w| w.in_flight().len())
            .sum();
        (running + self.queue.len())
            .div_ceil(slots)
            .clamp(self.config.min_size, self.config.size)
    }

    /// Starts workers up to what the pool wants.
    fn top_up(&mut self, replacing: bool) {
        if self.phase != Phase::Open {
            return;
        }
        let target = self.wanted();
        while self.crew.live() < target && self.crew.may_start() > 0 {
            match self.crew.launch(&self.config) {
                Ok(()) if replacing => self.stats.lock().unwrap().restarted += 1,
                Ok(()) => {}
                Err(failure) => self.start_failed(failure),
            }
        }
    }

    /// A start failed: `how` is its failure (kind `WorkerStartFailed`), whose
    /// message says what happened to the worker. Past `max_start_failures` in
    /// a row, the pool says so once per episode and, with no ready worker
    /// left, refuses what waits.
    fn start_failed(&mut self, mut how: TaskFailure) {
        how.message = format!("{} {}", self.config.program.describe(), how.message);
        let verdict = self.crew.starts.failed(how);
        if verdict == Verdict::Retry {
            return;
        }
        let refusal = self.crew.starts.failure().expect("tripped").clone();
        if verdict == Verdict::Tripped {
            self.sink.emit(PoolEvent::StartFailed(refusal.clone()));
        }
        if !self.crew.any_ready() {
            // What stats() says when the refusals arrive.
            self.publish();
            self.fail_queue(&refusal);
        }
    }

    /// Replaces lost workers while tasks wait; an idle pool is topped up by the
    /// next `run` instead, so a worker that dies at start cannot crash-loop.
    fn replace_if_needed(&mut self) {
        if !self.queue.is_empty() {
            self.top_up(true);
        }
    }

    fn fail_queue(&mut self, why: &TaskFailure) {
        while let Some(task) = self.queue.pop_front() {
            self.settle(task.id, Err(why.clone()));
        }
    }

    /// Queues tasks, in order, and hands out what workers have room for.
    pub fn run(&mut self, tasks: Vec<Task>) {
        // Tasks that workers have room for now do not count against `max_queue`.
        let room = match self.config.max_queue {
            Some(_) => self.room(),
            None => 0,
        };
        for task in tasks {
            self.enqueue(task, room);
        }
        self.top_up(false); // growth with demand, not a replacement
        self.dispatch();
    }

    /// Tasks the workers could start now, pipelining aside.
    fn room(&self) -> usize {
        let slots = self.config.concurrency;
        self.crew
            .workers
            .values()
            .filter(|w| w.has_room(w.capacity(slots, 0)))
            .map(|w| w.capacity(slots, 0) - w.in_flight().len())
            .sum()
    }

    /// The task channels opened since the last call, for a watcher.
    pub fn take_channels(&mut self) -> Vec<(u64, Arc<Outlet>)> {
        self.crew.take_channels()
    }

    /// Takes no new tasks; once queued and running ones are done, stops the
    /// workers, with SIGKILL after `timeout`.
    pub fn close(&mut self, timeout: Duration) {
        if self.phase == Phase::Open {
            self.phase = Phase::Closing { timeout };
            self.maybe_stop_workers();
        }
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

    fn enqueue(&mut self, task: Task, room: usize) {
        if self.phase != Phase::Open {
            let message = "the pool is closed: it takes no new tasks";
            return self.settle(task.id, Err(failure(FailureKind::PoolClosed, message)));
        }
        if let Some(refusal) = self.crew.starts.refusal() {
            if !self.crew.any_ready() {
                let refusal = refusal.clone();
                return self.settle(task.id, Err(refusal));
            }
        }
        if let Some(max) = self.config.max_queue {
            if self.queue.len() >= max + room {
                let message = format!(
                    "the pool's queue is full (maxQueue = {max}); retry later or raise maxQueue"
                );
                return self.settle(task.id, Err(failure(FailureKind::QueueFull, message)));
            }
        }
        self.queue.push_back(task);
    }

    /// Where a task handed to a worker is: (worker id, index in its in-flight list).
    fn find_in_flight(&self, id: u64) -> Option<(u64, usize)> {
        self.crew.workers.iter().find_map(|(wid, w)| {
            (w.in_flight().iter())
                .position(|e| e.task.id == id && e.pending())
                .map(|at| (*wid, at))
        })
    }

    /// Aborts a task: removed from the queue, or abandoned by its worker.
    pub fn cancel(&mut self, id: u64) {
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

    /// Fails everything pending and kills the workers now.
    pub fn destroy(&mut self) {
        let message = "the pool was destroyed";
        self.fail_queue(&failure(FailureKind::PoolClosed, message));
        let mut held = Vec::new();
        for w in self.crew.workers.values_mut() {
            held.extend(w.drop_tasks().map(|e| e.task.id));
            w.stop_now();
        }
        for id in held {
            self.settle(id, Err(failure(FailureKind::PoolClosed, message)));
        }
        // Already SIGKILLed: nothing left to escalate.
        self.phase = Phase::Stopping { kill_at: None };
    }

    /// Once closing and drained, asks every worker to stop.
    fn maybe_stop_workers(&mut self) {
        let Phase::Closing { timeout } = self.phase else {
            return;
        };
        if !self.queue.is_empty()
            || self
                .crew
                .workers
                .values()
                .any(|w| !w.in_flight().is_empty())
        {
            return;
        }
        for worker in self.crew.workers.values_mut() {
            worker.stop_gracefully();
        }
        self.phase = Phase::Stopping {
            kill_at: Some(Instant::now() + timeout),
        };
    }

    pub fn finished(&self) -> bool {
        matches!(self.phase, Phase::Stopping { .. }) && self.crew.workers.is_empty()
    }

    /// Says once that every worker is gone after `close` or `destroy`.
    pub fn report_closed(&mut self) {
        if !self.closed {
            self.closed = true;
            self.sink.emit(PoolEvent::Closed);
        }
    }

    /// Tasks sent ahead to busy `serve()` workers: only for short tasks.
    fn pipeline(&self) -> usize {
        match self.run_ms {
            Some(ms) if ms < PIPELINE_BELOW_MS => PIPELINE,
            _ => 0,
        }
    }

    fn dispatch(&mut self) {
        if self.queue.is_empty() {
            return;
        }
        // First every worker's free slots, then (for short tasks) the pipeline.
        let pipeline = self.pipeline();
        let passes: &[usize] = if pipeline > 0 { &[0, pipeline] } else { &[0] };
        let ids: Vec<u64> = self.crew.workers.keys().copied().collect();
        for &ahead in passes {
            for &wid in &ids {
                if self.queue.is_empty() {
                    return;
                }
                self.feed(wid, ahead);
            }
        }
    }

    /// Sends one worker as many tasks as it has room for, in one write.
    fn feed(&mut self, wid: u64, ahead: usize) {
        let slots = self.config.concurrency;
        let max_tasks = self.config.max_tasks_per_worker;
        let Some(w) = self.crew.workers.get_mut(&wid) else {
            return;
        };
        let capacity = w.capacity(slots, ahead);
        if !w.has_room(capacity) {
            return;
        }
        let mut sent = Vec::new();
        let mut refused = Vec::new();
        while w.in_flight().len() + sent.len() < capacity
            && max_tasks.is_none_or(|max| w.tasks_sent() + (sent.len() as u64) < max)
        {
            let Some(task) = self.queue.pop_front() else {
                break;
            };
            if task.handler.is_some() && w.mode() != Mode::Serve {
                refused.push(task.id);
                continue;
            }
            sent.push(task);
        }
        if !sent.is_empty() {
            let mut stats = self.stats.lock().unwrap();
            let held = w.hand(sent, slots, self.config.task_timeout, |task, now| {
                stats.waited(task.queued_at, now)
            });
            drop(stats);
            if let Err(sent) = held {
                for task in sent.into_iter().rev() {
                    self.queue.push_front(task);
                }
            }
        }
        let worn_out = max_tasks.is_some_and(|max| w.tasks_sent() >= max) && !w.is_retiring();
        for id in refused {
            let message = "run(task, { handler }) needs a worker that calls serve() from 'offload/worker'; this worker answers plain messages";
            self.settle(id, Err(failure(FailureKind::NoHandler, message)));
        }
        if worn_out {
            self.retire(wid);
        }
    }

    /// A worn-out worker takes nothing new, stops once its tasks are done, and
    /// a fresh one takes its place now.
    fn retire(&mut self, wid: u64) {
        if let Some(w) = self.crew.workers.get_mut(&wid) {
            w.retire();
        }
        self.top_up(true);
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
                .or(self.config.task_timeout)
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

    /// After what workers said: replacements, what now has room, the close.
    pub(crate) fn after_news(&mut self) {
        self.replace_if_needed();
        self.dispatch();
        self.maybe_stop_workers();
    }

    /// One thing worker `wid` said.
    pub(crate) fn hear(&mut self, wid: u64, news: News) {
        match news {
            News::Spawned { pid } => self.crew.spawned(&self.config, wid, pid),
            News::SpawnFailed { why } => {
                if self
                    .crew
                    .workers
                    .remove(&wid)
                    .is_some_and(|w| !w.is_stopping())
                {
                    self.start_failed(crash::not_launched(why));
                    self.top_up(true);
                }
            }
            News::Ready { serve } => {
                if let Some(w) = self.crew.workers.get_mut(&wid).filter(|_| serve) {
                    w.serve();
                }
                self.crew.became_ready(wid);
            }
            News::Answered { id, result } => self.answer(wid, id, result),
            News::Malformed(what) => {
                if let Some(w) = self.crew.workers.get(&wid).filter(|w| !w.is_stopping()) {
                    w.kill_as_broken();
                    let message = crash::broke_protocol(w.pid(), what);
                    self.error("ERR_OFFLOAD_WORKER_PROTOCOL", message);
                }
            }
            News::Exited { code, signal } => {
                if let Some(w) = self.crew.workers.get_mut(&wid) {
                    w.exited(code, signal);
                    if let Some(pid) = w.pid() {
                        self.sink.emit(PoolEvent::WorkerExit { pid, code, signal });
                    }
                }
            }
            News::Gone => self.worker_gone(wid),
        }
    }

    /// A worker's answer to the task `id` (`None`: the oldest it holds).
    fn answer(&mut self, wid: u64, id: Option<u32>, result: Result<Answer, TaskFailure>) {
        let Some(w) = self.crew.workers.get_mut(&wid) else {
            return;
        };
        let (slots, timeout) = (self.config.concurrency, self.config.task_timeout);
        // An answer to nothing (a worker talking on its own) has no one to go to.
        let Some((entry, first)) = w.answered(id, slots, timeout) else {
            return;
        };
        if first && w.mode() == Mode::Command {
            // The proof a command worker works (see `worker_gone`).
            self.crew.starts.ready(w.launched_at());
        }
        let over_memory = self
            .config
            .max_rss_bytes
            .is_some_and(|max| w.over_memory(max));
        w.stop_if_retired();
        if entry.pending() {
            let now = std::time::Instant::now();
            let ran = now - entry.started.unwrap_or(entry.sent);
            let ms = ran.as_secs_f64() * 1000.0;
            self.stats.lock().unwrap().run_time.record(ms);
            self.run_ms = Some(self.run_ms.map_or(ms, |avg| avg * 0.9 + ms * 0.1));
            self.settle(entry.task.id, result);
        }
        if over_memory {
            self.retire(wid);
        }
    }

    /// A worker is gone: what it ran fails as a crash or runs again, what it
    /// held but had not started runs elsewhere, and a death at start counts
    /// as a failed start.
    fn worker_gone(&mut self, id: u64) {
        let Some(worker) = self.crew.workers.remove(&id) else {
            return;
        };
        let mut worker = worker.into_remains();
        let stopping = worker.lifecycle == Lifecycle::Stopping;
        if !stopping {
            self.stats.lock().unwrap().crashed += 1;
        }
        let start_failure = (self.phase == Phase::Open)
            .then(|| crash::failed_start(&worker))
            .flatten();
        let serve = worker.mode == Mode::Serve;
        let mut again = Vec::new();
        // Cancelled ones were settled when they were cancelled.
        let held = std::mem::take(&mut worker.in_flight);
        for entry in held.into_iter().filter(InFlight::pending) {
            let mut task = entry.task;
            if serve && entry.started.is_none() {
                // Still in the worker's own queue: it never ran.
                again.push(task);
            } else if task.crashes < self.config.retries {
                task.crashes += 1;
                again.push(task);
            } else {
                let crash = crash::crashed_task(&worker, task.crashes);
                self.settle(task.id, Err(crash));
            }
        }
        // First in line, in their order, on a fresh worker.
        for task in again.into_iter().rev() {
            self.queue.push_front(task);
        }
        if let Some(f) = start_failure {
            self.start_failed(f);
            // Even when idle: a pool that cannot start says so at once, and
            // `start_failed` bounds the attempts.
            self.top_up(true);
        }
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
