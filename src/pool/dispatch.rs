//! The pool task: owns the queue and the workers, hands tasks to workers with
//! room, settles every task exactly once, and replaces workers that die.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::mpsc::{unbounded_channel, UnboundedReceiver, UnboundedSender};
use tokio::sync::Notify;
use tokio::time::{sleep_until, Instant};

use super::channel::{ChannelEvent, Outlet, Reading};
use super::config::{PoolConfig, READY_MESSAGE, READY_MESSAGE_V8};
use super::events::{Answer, FailureKind, PoolEvent, PoolSink, TaskFailure};
use super::frame::{self, Frame};
use super::start_failures::{StartFailures, TokioClock, Verdict, QUICK_DEATH};
use super::stats::Shared;
use super::worker::{InFlight, Mode, Task, Worker, WorkerEvent};
use crate::process::{ChildEvent, Message, Stream};

/// How long a `serve()` worker has, after a task's `AbortSignal` fired (abort
/// or timeout), to answer before it is killed and replaced.
pub const CANCEL_GRACE: Duration = Duration::from_millis(1000);

/// Tasks sent ahead to a `serve()` worker beyond its `concurrency`, so that it
/// never waits for the parent between short tasks. Only while tasks are short
/// (see [`PIPELINE_BELOW_MS`]) and every worker is already busy.
const PIPELINE: usize = 32;
const PIPELINE_BELOW_MS: f64 = 1.0;

/// How much of a worker's stderr a start failure quotes: its last lines.
const START_FAILURE_LINES: usize = 20;
const START_FAILURE_BYTES: usize = 4096;

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

/// The pool: its queue and workers, behind one lock. The caller's thread
/// (JavaScript's, for `run`) queues and dispatches directly, writing to the
/// workers without a hop to another thread; the driver task ([`drive`])
/// handles what the workers say and the timers.
pub(crate) struct PoolState {
    config: PoolConfig,
    sink: Arc<dyn PoolSink>,
    events_tx: UnboundedSender<(u64, WorkerEvent)>,
    workers: HashMap<u64, Worker>,
    next_worker: u64,
    queue: VecDeque<Task>,
    phase: Phase,
    stats: Arc<Mutex<Shared>>,
    /// Recent task run time, milliseconds (exponential average); `None` before
    /// the first answer.
    run_ms: Option<f64>,
    /// When the driver will next look at the timers, if it sleeps.
    driver_wakes_at: Option<Instant>,
    closed: bool,
    /// Task channels opened since the last [`PoolState::take_channels`].
    new_channels: Vec<(u64, Arc<Outlet>)>,
    /// Failed starts, the backoff after them, and the refusals meanwhile.
    starts: StartFailures,
}

/// What the pool's handles and its driver share.
pub(crate) struct Core {
    pub state: Mutex<PoolState>,
    /// Tells the driver that a timer moved earlier.
    pub wake: Notify,
}

impl Core {
    pub fn new(
        config: PoolConfig,
        sink: Arc<dyn PoolSink>,
        stats: Arc<Mutex<Shared>>,
    ) -> (Arc<Core>, UnboundedReceiver<(u64, WorkerEvent)>) {
        let (events_tx, events) = unbounded_channel();
        let starts =
            StartFailures::new(TokioClock, config.max_start_failures, config.start_backoff);
        let mut state = PoolState {
            config,
            sink,
            events_tx,
            workers: HashMap::new(),
            next_worker: 0,
            queue: VecDeque::new(),
            phase: Phase::Open,
            stats,
            run_ms: None,
            driver_wakes_at: None,
            closed: false,
            new_channels: Vec::new(),
            starts,
        };
        state.top_up(false);
        state.publish();
        let core = Core {
            state: Mutex::new(state),
            wake: Notify::new(),
        };
        (Arc::new(core), events)
    }

    /// Runs `step` on the pool, then makes sure the driver wakes in time for
    /// any timer it set.
    pub fn with<R>(&self, step: impl FnOnce(&mut PoolState) -> R) -> R {
        // Starting a worker registers its channel with the runtime's reactor.
        let _runtime = crate::runtime::handle().enter();
        let mut state = self.state.lock().unwrap();
        let result = step(&mut state);
        state.publish();
        let due = state.next_wake();
        let late = match (due, state.driver_wakes_at) {
            (Some(due), Some(at)) => due < at,
            (Some(_), None) => true,
            (None, _) => false,
        };
        let finished = state.finished();
        drop(state);
        if late || finished {
            self.wake.notify_one();
        }
        result
    }
}

/// The driver: what workers say, timeouts, idle shrinking, the close deadline.
/// Ends once the pool has closed and every worker is gone.
pub(crate) async fn drive(core: Arc<Core>, mut events: UnboundedReceiver<(u64, WorkerEvent)>) {
    loop {
        let wake_at = {
            let mut state = core.state.lock().unwrap();
            state.publish();
            if state.finished() {
                if !state.closed {
                    state.closed = true;
                    state.sink.emit(PoolEvent::Closed);
                }
                return;
            }
            let at = state.next_wake();
            state.driver_wakes_at = at;
            at
        };
        let far = Instant::now() + Duration::from_secs(86400 * 365);
        tokio::select! {
            Some((worker, event)) = events.recv() => {
                let mut state = core.state.lock().unwrap();
                state.worker_event(worker, event);
                // Take what else is already here under the same lock.
                while let Ok((worker, event)) = events.try_recv() {
                    state.worker_event(worker, event);
                }
            }
            _ = sleep_until(wake_at.unwrap_or(far)), if wake_at.is_some() => {
                core.state.lock().unwrap().timers();
            }
            _ = core.wake.notified() => {}
        }
    }
}

fn failure(kind: FailureKind, message: impl Into<String>) -> TaskFailure {
    TaskFailure::new(kind, message)
}

impl PoolState {
    fn settle(&mut self, id: u64, result: Result<Answer, TaskFailure>) {
        {
            let mut stats = self.stats.lock().unwrap();
            if result.is_ok() {
                stats.completed += 1;
            } else {
                stats.failed += 1;
            }
        }
        self.sink.emit(PoolEvent::TaskDone { id, result });
    }

    fn error(&self, code: &'static str, message: String) {
        self.sink.emit(PoolEvent::Error { code, message });
    }

    /// Workers that take tasks, or will once started.
    fn live_workers(&self) -> usize {
        self.workers
            .values()
            .filter(|w| !w.stopping && !w.retiring)
            .count()
    }

    /// How many workers the pool wants now: enough for what runs and waits,
    /// within `min_size` and `size`.
    fn wanted(&self) -> usize {
        let slots = self.config.concurrency.max(1);
        let running: usize = self.workers.values().map(|w| w.in_flight.len()).sum();
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
        while self.live_workers() < target && self.may_start() > 0 {
            let id = self.next_worker;
            self.next_worker += 1;
            match Worker::launch(&self.config, id, self.events_tx.clone()) {
                Ok(worker) => {
                    for channel in worker.channels() {
                        self.new_channels.push((id, channel.clone()));
                    }
                    self.workers.insert(id, worker);
                    if replacing {
                        self.stats.lock().unwrap().restarted += 1;
                    }
                }
                Err(e) => {
                    let how = format!("could not be started: {e}");
                    self.start_failed(failure(FailureKind::WorkerStartFailed, how));
                }
            }
        }
    }

    /// Workers launched that are not ready yet.
    fn starting(&self) -> usize {
        let starting = |w: &&Worker| !w.ready && !w.stopping;
        self.workers.values().filter(starting).count()
    }

    /// Ready workers that take tasks.
    fn any_ready(&self) -> bool {
        self.workers
            .values()
            .any(|w| w.ready && !w.stopping && !w.retiring)
    }

    /// How many more workers may start now (see `start_failures.rs`).
    fn may_start(&self) -> usize {
        if self.starts.consecutive() == 0 {
            return usize::MAX;
        }
        self.starts.may_start(self.starting())
    }

    /// A start failed: `how` is its failure (kind `WorkerStartFailed`), whose
    /// message says what happened to the worker. Past `max_start_failures` in
    /// a row, the pool says so once per episode and, with no ready worker
    /// left, refuses what waits.
    fn start_failed(&mut self, mut how: TaskFailure) {
        how.message = format!("{} {}", self.config.program.describe(), how.message);
        let verdict = self.starts.failed(how);
        if verdict == Verdict::Retry {
            return;
        }
        let refusal = self.starts.failure().expect("tripped").clone();
        if verdict == Verdict::Tripped {
            self.sink.emit(PoolEvent::StartFailed(refusal.clone()));
        }
        if !self.any_ready() {
            // What stats() says when the refusals arrive.
            self.publish();
            self.fail_queue(&refusal);
        }
    }

    /// When the first command worker on probation has lived `QUICK_DEATH`.
    fn probation_ends(&self) -> Option<Instant> {
        if self.config.wait_for_ready {
            return None;
        }
        let on_probation = self.workers.values().filter(|w| w.probation);
        on_probation.map(|w| w.launched_at + QUICK_DEATH).min()
    }

    /// Command workers on probation that lived long enough are ready.
    fn end_probation(&mut self, now: Instant) {
        let proven: Vec<u64> = (self.workers.iter())
            .filter(|(_, w)| w.probation && w.launched_at + QUICK_DEATH <= now)
            .map(|(id, _)| *id)
            .collect();
        for id in proven {
            self.became_ready(id);
        }
        self.dispatch();
    }

    /// A worker is ready for tasks.
    fn became_ready(&mut self, wid: u64) {
        if let Some(w) = self.workers.get_mut(&wid) {
            w.probation = false;
            w.ready = true;
            w.idle_since = Some(std::time::Instant::now());
            if w.mode != Mode::Command {
                self.starts.ready(w.launched_at);
            }
        }
    }

    /// When the next idle worker beyond `min_size` is due to stop.
    fn next_idle_stop(&self) -> Option<Instant> {
        let timeout = self.config.idle_timeout?;
        if self.live_workers() <= self.config.min_size {
            return None;
        }
        let idle = self.workers.values().filter(|w| w.idle());
        idle.filter_map(|w| w.idle_since)
            .min()
            .map(|since| Instant::from_std(since) + timeout)
    }

    /// Stops workers idle for `idle_timeout`, down to `min_size`.
    fn shrink(&mut self) {
        let Some(timeout) = self.config.idle_timeout else {
            return;
        };
        let mut spare = self.live_workers().saturating_sub(self.config.min_size);
        for worker in self.workers.values_mut() {
            if spare == 0 {
                break;
            }
            if worker.idle()
                && worker
                    .idle_since
                    .is_some_and(|since| since.elapsed() >= timeout)
            {
                worker.stop_gracefully();
                spare -= 1;
            }
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
        self.workers
            .values()
            .filter(|w| w.has_room(w.capacity(slots, 0)))
            .map(|w| w.capacity(slots, 0) - w.in_flight.len())
            .sum()
    }

    /// The task channels opened since the last call, for a watcher.
    pub fn take_channels(&mut self) -> Vec<(u64, Arc<Outlet>)> {
        std::mem::take(&mut self.new_channels)
    }

    /// What a watcher read from worker `id`'s channel.
    pub fn channel_read(&mut self, id: u64, got: Reading) {
        if !got.frames.is_empty() {
            self.worker_event(id, WorkerEvent::Channel(ChannelEvent::Frames(got.frames)));
        }
        if !got.messages.is_empty() {
            let messages = ChannelEvent::Messages(got.messages);
            self.worker_event(id, WorkerEvent::Channel(messages));
        }
        if let Some(what) = got.malformed {
            self.worker_event(id, WorkerEvent::Channel(ChannelEvent::Malformed(what)));
        }
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
    fn next_wake(&self) -> Option<Instant> {
        let kill_at = match self.phase {
            Phase::Stopping { kill_at } => kill_at,
            _ => None,
        };
        let starts = [
            self.starts.due(),
            self.starts.retry_at(),
            self.probation_ends(),
        ];
        [self.next_deadline(), self.next_idle_stop(), kill_at]
            .into_iter()
            .chain(starts)
            .flatten()
            .min()
    }

    /// Whatever is due: task deadlines, idle workers, the close deadline.
    fn timers(&mut self) {
        let now = Instant::now();
        if self.starts.due().is_some_and(|d| d <= now) {
            self.starts.tick();
        }
        if self.probation_ends().is_some_and(|d| d <= now) {
            self.end_probation(now);
        }
        if self.starts.consecutive() > 0 && self.starts.retry_at().is_none() {
            // The wait after failed starts is over: try again, idle or not.
            self.top_up(true);
            self.dispatch();
        }
        if self.next_deadline().is_some_and(|d| d <= now) {
            self.expire();
        }
        if self.next_idle_stop().is_some_and(|d| d <= now) {
            self.shrink();
        }
        if let Phase::Stopping {
            kill_at: Some(kill_at),
        } = self.phase
        {
            if kill_at <= now {
                self.phase = Phase::Stopping { kill_at: None };
                for worker in self.workers.values_mut() {
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
        if let Some(refusal) = self.starts.refusal() {
            if !self.any_ready() {
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
        self.workers.iter().find_map(|(wid, w)| {
            w.in_flight
                .iter()
                .position(|e| e.task.id == id && e.cancelled_until.is_none())
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

    /// Gives up on a task a worker holds (aborted or timed out): a `serve()`
    /// worker gets a cancel frame and `CANCEL_GRACE` to answer; any other
    /// worker is killed. Returns how the task ended, for its error message.
    fn abandon(&mut self, wid: u64, at: usize, what: &str) -> String {
        let w = self.workers.get_mut(&wid).expect("found above");
        if w.mode == Mode::Serve {
            let entry = &mut w.in_flight[at];
            entry.cancelled_until = Some(Instant::now() + CANCEL_GRACE);
            entry.deadline = None;
            let id = entry.task.id;
            w.cancel_in_worker(id);
            format!("the task {what}; its handler's AbortSignal fired")
        } else {
            w.in_flight.remove(at);
            w.stop_now();
            format!("the task {what}; its worker was killed and replaced")
        }
    }

    /// Fails everything pending and kills the workers now.
    pub fn destroy(&mut self) {
        let message = "the pool was destroyed";
        self.fail_queue(&failure(FailureKind::PoolClosed, message));
        let mut held = Vec::new();
        for w in self.workers.values_mut() {
            held.extend(
                w.in_flight
                    .drain(..)
                    .filter(|e| e.cancelled_until.is_none())
                    .map(|e| e.task.id),
            );
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
        if !self.queue.is_empty() || self.workers.values().any(|w| !w.in_flight.is_empty()) {
            return;
        }
        for worker in self.workers.values_mut() {
            worker.stop_gracefully();
        }
        self.phase = Phase::Stopping {
            kill_at: Some(Instant::now() + timeout),
        };
    }

    fn finished(&self) -> bool {
        matches!(self.phase, Phase::Stopping { .. }) && self.workers.is_empty()
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
        let ids: Vec<u64> = self.workers.keys().copied().collect();
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
        let Some(w) = self.workers.get_mut(&wid) else {
            return;
        };
        let capacity = w.capacity(slots, ahead);
        if !w.has_room(capacity) {
            return;
        }
        let mut batch = Vec::new();
        let mut sent = Vec::new();
        let mut refused = Vec::new();
        while w.in_flight.len() + sent.len() < capacity
            && max_tasks.is_none_or(|max| w.tasks_sent + (sent.len() as u64) < max)
        {
            let Some(task) = self.queue.pop_front() else {
                break;
            };
            if task.handler.is_some() && w.mode != Mode::Serve {
                refused.push(task.id);
                continue;
            }
            w.encode(&task, &mut batch);
            sent.push(task);
        }
        if !sent.is_empty() {
            if w.flush(batch) {
                let now = std::time::Instant::now();
                let mut stats = self.stats.lock().unwrap();
                for task in sent {
                    stats
                        .wait_time
                        .record((now - task.queued_at).as_secs_f64() * 1000.0);
                    w.in_flight.push_back(InFlight {
                        task,
                        sent: now,
                        started: None,
                        deadline: None,
                        cancelled_until: None,
                    });
                    w.tasks_sent += 1;
                }
                drop(stats);
                w.start_waiting(slots, self.config.task_timeout);
            } else {
                // Its channel just closed: it is dying, and its exit brings a replacement.
                w.stopping = true;
                for task in sent.into_iter().rev() {
                    self.queue.push_front(task);
                }
            }
        }
        let worn_out = max_tasks.is_some_and(|max| w.tasks_sent >= max) && !w.retiring;
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
        if let Some(w) = self.workers.get_mut(&wid) {
            w.retiring = true;
            if w.in_flight.is_empty() {
                w.stop_gracefully();
            }
        }
        self.top_up(true);
    }

    fn next_deadline(&self) -> Option<Instant> {
        self.workers
            .values()
            .flat_map(|w| w.in_flight.iter())
            .filter_map(|e| e.deadline.or(e.cancelled_until))
            .min()
    }

    /// Fails the tasks past their deadline, and kills workers that did not
    /// answer a cancelled task in time.
    fn expire(&mut self) {
        let now = Instant::now();
        let mut timed_out = Vec::new();
        let mut unresponsive = Vec::new();
        for (wid, w) in &self.workers {
            for e in &w.in_flight {
                if e.deadline.is_some_and(|d| d <= now) {
                    timed_out.push((*wid, e.task.id));
                } else if e.cancelled_until.is_some_and(|d| d <= now) {
                    unresponsive.push(*wid);
                }
            }
        }
        for (wid, id) in timed_out {
            let Some(at) = self.workers[&wid]
                .in_flight
                .iter()
                .position(|e| e.task.id == id)
            else {
                continue;
            };
            let ms = self.workers[&wid].in_flight[at]
                .task
                .timeout
                .or(self.config.task_timeout)
                .unwrap_or_default()
                .as_millis();
            let how = self.abandon(wid, at, &format!("timed out after {ms} ms"));
            self.settle(id, Err(failure(FailureKind::Timeout, how)));
        }
        for wid in unresponsive {
            if let Some(w) = self.workers.get_mut(&wid) {
                if !w.stopping {
                    w.stop_now();
                    let message = format!(
                        "a worker (pid {}) did not answer a cancelled task within {} ms of its AbortSignal; it was killed and replaced",
                        w.pid.unwrap_or(0),
                        CANCEL_GRACE.as_millis()
                    );
                    self.error("ERR_OFFLOAD_WORKER_UNRESPONSIVE", message);
                }
            }
        }
        self.replace_if_needed();
        self.dispatch();
    }

    /// A worker's answer to the task `id` (`None`: the oldest it holds, for
    /// workers that answer in order).
    fn answer(&mut self, wid: u64, id: Option<u32>, result: Result<Answer, TaskFailure>) {
        let Some(w) = self.workers.get_mut(&wid) else {
            return;
        };
        let at = match id {
            Some(id) => w.in_flight.iter().position(|e| e.task.id as u32 == id),
            None => (!w.in_flight.is_empty()).then_some(0),
        };
        // An answer to nothing (a worker talking on its own) has no one to go to.
        let Some(at) = at else {
            return;
        };
        let entry = w.in_flight.remove(at).expect("found above");
        if !w.answered {
            w.answered = true;
            if w.mode == Mode::Command {
                // The proof a command worker works (see `worker_gone`).
                self.starts.ready(w.launched_at);
            }
        }
        w.start_waiting(self.config.concurrency, self.config.task_timeout);
        let now = std::time::Instant::now();
        if w.in_flight.is_empty() {
            w.idle_since = Some(now);
        }
        let over_memory = self.config.max_rss_bytes.is_some_and(|max| {
            // Between tasks; under a steady stream, at most every 100 ms.
            let due =
                w.in_flight.is_empty() || now - w.last_rss_check >= Duration::from_millis(100);
            due && {
                w.last_rss_check = now;
                w.rss_bytes().is_some_and(|rss| rss > max)
            }
        });
        let done_retiring = w.retiring && w.in_flight.is_empty();
        if done_retiring {
            w.stop_gracefully();
        }
        if entry.cancelled_until.is_none() {
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

    fn frames(&mut self, wid: u64, frames: Vec<Frame>) {
        for f in frames {
            match f.kind {
                frame::HELLO => {
                    if let Some(w) = self.workers.get_mut(&wid) {
                        w.serve();
                    }
                    self.became_ready(wid);
                }
                frame::RESULT => {
                    let answer = Answer {
                        json: f.json,
                        bytes: f.bytes,
                        serialized: false,
                    };
                    self.answer(wid, Some(f.id), Ok(answer));
                }
                frame::ERROR => {
                    let mut thrown = failure(FailureKind::Thrown, "the worker's handler threw");
                    thrown.error_json = Some(f.json);
                    self.answer(wid, Some(f.id), Err(thrown));
                }
                _ => self.malformed(wid, "a frame of an unknown kind"),
            }
        }
    }

    /// What a plain Node worker sent with `process.send()`: that it is
    /// ready, or the answer to its task.
    fn messages(&mut self, wid: u64, messages: Vec<Message>) {
        for message in messages {
            if message.is(READY_MESSAGE, READY_MESSAGE_V8) {
                self.became_ready(wid);
            } else {
                let answer = match message {
                    Message::Json(text) => Answer::json(text),
                    Message::Serialized(bytes) => Answer::serialized(bytes),
                };
                self.answer(wid, None, Ok(answer));
            }
        }
    }

    fn malformed(&mut self, wid: u64, what: &str) {
        if let Some(w) = self.workers.get_mut(&wid) {
            if !w.stopping {
                // Not `stopping`: what it held fails as a crash (or runs again).
                let _ = w.handle.kill(libc::SIGKILL);
                let message = format!(
                    "a worker (pid {}) wrote {what} on its task channel; it was killed and replaced",
                    w.pid.unwrap_or(0)
                );
                self.error("ERR_OFFLOAD_WORKER_PROTOCOL", message);
            }
        }
    }

    pub(crate) fn worker_event(&mut self, id: u64, event: WorkerEvent) {
        match event {
            WorkerEvent::Channel(ChannelEvent::Frames(frames)) => self.frames(id, frames),
            WorkerEvent::Channel(ChannelEvent::Messages(messages)) => self.messages(id, messages),
            WorkerEvent::Channel(ChannelEvent::Malformed(what)) => self.malformed(id, what),
            WorkerEvent::Child(event) => self.child_event(id, event),
        }
        self.replace_if_needed();
        self.dispatch();
        self.maybe_stop_workers();
    }

    fn child_event(&mut self, id: u64, event: ChildEvent) {
        match event {
            ChildEvent::Spawned { pid } => {
                if let Some(w) = self.workers.get_mut(&id) {
                    w.pid = Some(pid);
                    if self.config.wait_for_ready {
                        // It says so itself.
                    } else if self.starts.consecutive() > 0 {
                        w.probation = true;
                    } else {
                        self.became_ready(id);
                    }
                }
            }
            ChildEvent::SpawnFailed(f) => {
                if self.workers.remove(&id).is_some_and(|w| !w.stopping) {
                    let how = format!("could not be started: {} ({})", f.error, f.path);
                    self.start_failed(failure(FailureKind::WorkerStartFailed, how));
                    self.top_up(true);
                }
            }
            ChildEvent::Output {
                stream: Stream::Stdout,
                data,
            } => {
                let lines = match self.workers.get_mut(&id) {
                    Some(w) => w.stdout_lines(&data),
                    None => return,
                };
                for line in lines {
                    self.answer(id, None, Ok(Answer::json(line)));
                }
            }
            ChildEvent::Output {
                stream: Stream::Stderr,
                data,
            } => {
                if let Some(w) = self.workers.get_mut(&id) {
                    w.add_stderr(data);
                }
            }
            ChildEvent::Exit(info) => {
                if let Some(w) = self.workers.get_mut(&id) {
                    w.exit = Some((info.code, info.signal));
                    if let Some(pid) = w.pid {
                        let (code, signal) = (info.code, info.signal);
                        self.sink.emit(PoolEvent::WorkerExit { pid, code, signal });
                    }
                }
            }
            // Pipes drained (so the stderr tail is complete): the worker is gone.
            ChildEvent::Closed(_) => self.worker_gone(id),
            // A Node worker's IPC channel is the pool's own (see `messages`).
            ChildEvent::Message(_)
            | ChildEvent::OutputEnd { .. }
            | ChildEvent::Disconnect
            | ChildEvent::WriteDone { .. }
            // Workers have neither a timeout nor a streamed output limit.
            | ChildEvent::OutputOverflow { .. }
            | ChildEvent::TimedOut => {}
        }
    }

    fn worker_gone(&mut self, id: u64) {
        let Some(worker) = self.workers.remove(&id) else {
            return;
        };
        for channel in worker.channels() {
            channel.finish();
        }
        let (code, signal) = worker.exit.unwrap_or((None, None));
        if !worker.stopping {
            self.stats.lock().unwrap().crashed += 1;
        }
        let stderr_tail = worker.stderr_tail();
        let how = match (code, signal) {
            (_, Some(sig)) => format!("was killed by signal {sig}"),
            (Some(code), None) => format!("exited with code {code}"),
            (None, None) => "ended".to_owned(),
        };
        let lived = worker.launched_at.elapsed();
        // A task that already crashed a worker is the likelier cause of this
        // death too (`retries`): that is no failed start.
        let retried = worker.in_flight.iter().any(|e| e.task.crashes > 0);
        let failed_start = !worker.stopping
            && self.phase == Phase::Open
            && match worker.mode {
                // It cannot say it is ready: its first answer says it works.
                // Dying on its first task, or soon, is a failed start.
                Mode::Command => {
                    !worker.answered
                        && !retried
                        && (lived < QUICK_DEATH || !worker.in_flight.is_empty())
                }
                Mode::Plain | Mode::Serve => !worker.ready || (lived < QUICK_DEATH && !retried),
            };
        let start_failure = failed_start.then(|| {
            let ms = lived.as_millis();
            let when = if !worker.ready {
                format!("{ms} ms after it started, before it was ready")
            } else if worker.mode == Mode::Command && !worker.answered {
                format!("{ms} ms after it started, before its first answer")
            } else {
                format!("{ms} ms after it started")
            };
            let mut f = failure(FailureKind::WorkerStartFailed, format!("{how} {when}"));
            (f.exit_code, f.signal) = (code, signal);
            f.stderr_tail = Some(worker.stderr_lines(START_FAILURE_LINES, START_FAILURE_BYTES));
            f
        });
        let serve = worker.mode == Mode::Serve;
        let mut again = Vec::new();
        for entry in worker.in_flight {
            if entry.cancelled_until.is_some() {
                continue; // settled when it was cancelled
            }
            let mut task = entry.task;
            if serve && entry.started.is_none() {
                // Still in the worker's own queue: it never ran.
                again.push(task);
                continue;
            }
            if task.crashes < self.config.retries {
                task.crashes += 1;
                again.push(task);
                continue;
            }
            let retried = match task.crashes {
                0 => String::new(),
                n => format!(" (after {n} retries on fresh workers)"),
            };
            let mut crash = failure(
                FailureKind::WorkerCrashed,
                format!(
                    "the worker (pid {}) {how} while running the task{retried}",
                    worker.pid.unwrap_or(0)
                ),
            );
            crash.exit_code = code;
            crash.signal = signal;
            crash.stderr_tail = stderr_tail.clone();
            self.settle(task.id, Err(crash));
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
    fn publish(&self) {
        let waiting = !self.queue.is_empty();
        let (mut size, mut busy, mut starting) = (0, 0, 0);
        for w in self.workers.values() {
            w.expect_answers(waiting && !w.in_flight.is_empty());
            if !w.stopping && !w.retiring {
                size += 1;
                busy += usize::from(!w.in_flight.is_empty());
                starting += usize::from(!w.ready);
            }
        }
        let mut stats = self.stats.lock().unwrap();
        stats.size = size;
        stats.busy = busy;
        stats.starting = starting;
        stats.queued = self.queue.len();
        stats.start_failures = self.starts.consecutive();
        if stats.start_failures > 0 || stats.retry_at.is_some() {
            stats.retry_at = self.starts.retry_at();
            let refusing = size == starting && self.starts.refusal().is_some();
            stats.refusing_until = stats.retry_at.filter(|_| refusing);
        }
    }
}
