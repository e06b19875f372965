//! The pool task: owns the queue and the workers, hands tasks to idle workers,
//! settles every task exactly once, and replaces workers that die.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc::{unbounded_channel, UnboundedReceiver, UnboundedSender};
use tokio::time::{sleep_until, Instant};

use super::config::{PoolConfig, READY_MESSAGE};
use super::events::{FailureKind, PoolEvent, PoolSink, TaskFailure};
use std::sync::Mutex;

use super::stats::Shared;
use super::worker::{Running, Task, Worker};
use crate::process::{ChildEvent, Stream};

pub(crate) enum Command {
    Run(Task),
    Cancel(u64),
    /// Finish queued and running tasks, then stop the workers; SIGKILL after `timeout`.
    Close {
        timeout: Duration,
    },
    /// Fail everything pending and kill the workers now.
    Destroy,
}

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

struct PoolTask {
    config: PoolConfig,
    sink: Arc<dyn PoolSink>,
    events_tx: UnboundedSender<(u64, ChildEvent)>,
    workers: HashMap<u64, Worker>,
    next_worker: u64,
    queue: VecDeque<Task>,
    phase: Phase,
    stats: Arc<Mutex<Shared>>,
}

pub(crate) async fn run(
    config: PoolConfig,
    sink: Arc<dyn PoolSink>,
    mut commands: UnboundedReceiver<Command>,
    stats: Arc<Mutex<Shared>>,
) {
    let (events_tx, mut events) = unbounded_channel();
    let mut pool = PoolTask {
        config,
        sink,
        events_tx,
        workers: HashMap::new(),
        next_worker: 0,
        queue: VecDeque::new(),
        phase: Phase::Open,
        stats,
    };
    pool.top_up(false);
    let far = Instant::now() + Duration::from_secs(86400 * 365);
    let mut commands_open = true;
    loop {
        pool.publish();
        if pool.finished() {
            pool.sink.emit(PoolEvent::Closed);
            return;
        }
        let next_deadline = pool.next_deadline();
        let next_idle_stop = pool.next_idle_stop();
        let kill_at = match pool.phase {
            Phase::Stopping { kill_at } => kill_at,
            _ => None,
        };
        tokio::select! {
            command = commands.recv(), if commands_open => match command {
                Some(command) => pool.command(command),
                None => {
                    // Nobody can submit or wait any more: stop everything.
                    commands_open = false;
                    pool.destroy();
                }
            },
            Some((worker, event)) = events.recv() => pool.worker_event(worker, event),
            _ = sleep_until(next_deadline.unwrap_or(far)), if next_deadline.is_some() => pool.expire(),
            _ = sleep_until(next_idle_stop.unwrap_or(far)), if next_idle_stop.is_some() => pool.shrink(),
            _ = sleep_until(kill_at.unwrap_or(far)), if kill_at.is_some() => {
                pool.phase = Phase::Stopping { kill_at: None };
                for worker in pool.workers.values_mut() {
                    worker.stop_now();
                }
            }
        }
    }
}

impl PoolTask {
    fn settle(&mut self, id: u64, result: Result<String, TaskFailure>) {
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

    fn live_workers(&self) -> usize {
        self.workers.values().filter(|w| !w.stopping).count()
    }

    /// How many workers the pool wants now: enough for what runs and waits,
    /// within `min_size` and `size`.
    fn wanted(&self) -> usize {
        let running = self
            .workers
            .values()
            .filter(|w| w.running.is_some())
            .count();
        (running + self.queue.len()).clamp(self.config.min_size, self.config.size)
    }

    /// Starts workers up to what the pool wants.
    fn top_up(&mut self, replacing: bool) {
        if self.phase != Phase::Open {
            return;
        }
        let target = self.wanted();
        while self.live_workers() < target {
            let id = self.next_worker;
            self.next_worker += 1;
            match Worker::launch(&self.config, id, self.events_tx.clone()) {
                Ok(worker) => {
                    self.workers.insert(id, worker);
                    if replacing {
                        self.stats.lock().unwrap().restarted += 1;
                    }
                }
                Err(e) => {
                    self.fail_queue(
                        FailureKind::WorkerCrashed,
                        &format!("a worker could not be started: {e}"),
                    );
                    return;
                }
            }
        }
    }

    /// When the next idle worker beyond `min_size` is due to stop.
    fn next_idle_stop(&self) -> Option<Instant> {
        let timeout = self.config.idle_timeout?;
        if self.live_workers() <= self.config.min_size {
            return None;
        }
        let idle = self.workers.values().filter(|w| w.available());
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
            if worker.available()
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

    fn fail_queue(&mut self, kind: FailureKind, message: &str) {
        while let Some(task) = self.queue.pop_front() {
            self.settle(task.id, Err(TaskFailure::new(kind.clone(), message)));
        }
    }

    fn command(&mut self, command: Command) {
        match command {
            Command::Run(task) => {
                if self.phase != Phase::Open {
                    let message = "the pool is closed: it takes no new tasks";
                    return self.settle(
                        task.id,
                        Err(TaskFailure::new(FailureKind::PoolClosed, message)),
                    );
                }
                let idle = self.workers.values().any(|w| w.available());
                if let Some(max) = self.config.max_queue {
                    if !idle && self.queue.len() >= max {
                        let message = format!("the pool's queue is full (maxQueue = {max}); retry later or raise maxQueue");
                        return self.settle(
                            task.id,
                            Err(TaskFailure::new(FailureKind::QueueFull, message)),
                        );
                    }
                }
                self.queue.push_back(task);
                self.top_up(false); // growth with demand, not a replacement
                self.dispatch();
            }
            Command::Cancel(id) => self.cancel(id),
            Command::Close { timeout } => {
                if self.phase == Phase::Open {
                    self.phase = Phase::Closing { timeout };
                    self.maybe_stop_workers();
                }
            }
            Command::Destroy => self.destroy(),
        }
    }

    fn cancel(&mut self, id: u64) {
        if let Some(at) = self.queue.iter().position(|t| t.id == id) {
            self.queue.remove(at);
            return self.settle(
                id,
                Err(TaskFailure::new(
                    FailureKind::Aborted,
                    "the task was aborted before it ran",
                )),
            );
        }
        let running = self
            .workers
            .values_mut()
            .find(|w| w.running.as_ref().is_some_and(|r| r.task.id == id));
        if let Some(worker) = running {
            worker.running = None;
            worker.stop_now();
            let message = "the task was aborted while running; its worker was killed and replaced";
            self.settle(id, Err(TaskFailure::new(FailureKind::Aborted, message)));
            self.replace_if_needed();
            self.dispatch();
        }
    }

    fn destroy(&mut self) {
        let message = "the pool was destroyed";
        self.fail_queue(FailureKind::PoolClosed, message);
        let running: Vec<u64> = self
            .workers
            .values_mut()
            .filter_map(|w| w.running.take().map(|r| r.task.id))
            .collect();
        for id in running {
            self.settle(id, Err(TaskFailure::new(FailureKind::PoolClosed, message)));
        }
        for worker in self.workers.values_mut() {
            worker.stop_now();
        }
        // Already SIGKILLed: nothing left to escalate.
        self.phase = Phase::Stopping { kill_at: None };
    }

    /// Once closing and drained, asks every worker to stop.
    fn maybe_stop_workers(&mut self) {
        let Phase::Closing { timeout } = self.phase else {
            return;
        };
        if !self.queue.is_empty() || self.workers.values().any(|w| w.running.is_some()) {
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

    fn dispatch(&mut self) {
        while !self.queue.is_empty() {
            let Some(worker) = self.workers.values_mut().find(|w| w.available()) else {
                return;
            };
            let task = self.queue.pop_front().expect("checked non-empty");
            if !worker.send(&task) {
                // Its channel just closed: it is dying, and its exit brings a replacement.
                self.queue.push_front(task);
                worker.stopping = true;
                continue;
            }
            let started = std::time::Instant::now();
            let waited = (started - task.queued_at).as_secs_f64() * 1000.0;
            self.stats.lock().unwrap().wait_time.record(waited);
            let deadline = task
                .timeout
                .or(self.config.task_timeout)
                .map(|t| Instant::from_std(started) + t);
            worker.running = Some(Running {
                task,
                started,
                deadline,
            });
        }
    }

    fn next_deadline(&self) -> Option<Instant> {
        self.workers
            .values()
            .filter_map(|w| w.running.as_ref().and_then(|r| r.deadline))
            .min()
    }

    /// Fails the tasks past their deadline and replaces their workers.
    fn expire(&mut self) {
        let now = Instant::now();
        let mut expired = Vec::new();
        for worker in self.workers.values_mut() {
            if worker
                .running
                .as_ref()
                .and_then(|r| r.deadline)
                .is_some_and(|d| d <= now)
            {
                let running = worker.running.take().expect("checked above");
                worker.stop_now();
                expired.push(running);
            }
        }
        for running in expired {
            let ms = running
                .task
                .timeout
                .or(self.config.task_timeout)
                .unwrap_or_default()
                .as_millis();
            let message =
                format!("the task timed out after {ms} ms; its worker was killed and replaced");
            self.settle(
                running.task.id,
                Err(TaskFailure::new(FailureKind::Timeout, message)),
            );
        }
        self.replace_if_needed();
        self.dispatch();
    }

    fn result(&mut self, worker: u64, text: String) {
        let Some(w) = self.workers.get_mut(&worker) else {
            return;
        };
        // A message with no task running (a worker talking on its own) has no one to go to.
        let Some(running) = w.running.take() else {
            return;
        };
        let ran = running.started.elapsed().as_secs_f64() * 1000.0;
        self.stats.lock().unwrap().run_time.record(ran);
        w.tasks_done += 1;
        w.idle_since = Some(std::time::Instant::now());
        let worn_out = self
            .config
            .max_tasks_per_worker
            .is_some_and(|max| w.tasks_done >= max)
            || self
                .config
                .max_rss_bytes
                .is_some_and(|max| w.rss_bytes().is_some_and(|rss| rss > max));
        if worn_out {
            w.stop_gracefully();
        }
        self.settle(running.task.id, Ok(text));
        if worn_out {
            self.top_up(true);
        }
        self.dispatch();
        self.maybe_stop_workers();
    }

    fn worker_event(&mut self, id: u64, event: ChildEvent) {
        match event {
            ChildEvent::Spawned { pid } => {
                if let Some(w) = self.workers.get_mut(&id) {
                    w.pid = Some(pid);
                    w.ready = !self.config.wait_for_ready;
                    w.idle_since = Some(std::time::Instant::now());
                }
                self.dispatch();
            }
            ChildEvent::SpawnFailed(f) => {
                self.workers.remove(&id);
                let message = format!("a worker could not be started: {} ({})", f.error, f.path);
                self.fail_queue(FailureKind::WorkerCrashed, &message);
            }
            ChildEvent::Message(text) if text == READY_MESSAGE => {
                if let Some(w) = self.workers.get_mut(&id) {
                    w.ready = true;
                    w.idle_since = Some(std::time::Instant::now());
                }
                self.dispatch();
            }
            ChildEvent::Message(text) => self.result(id, text),
            ChildEvent::Output {
                stream: Stream::Stdout,
                data,
            } => {
                let lines = match self.workers.get_mut(&id) {
                    Some(w) => w.stdout_lines(&data),
                    None => return,
                };
                for line in lines {
                    self.result(id, line);
                }
            }
            ChildEvent::Output {
                stream: Stream::Stderr,
                data,
            } => {
                if let Some(w) = self.workers.get_mut(&id) {
                    w.add_stderr(&data);
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
            ChildEvent::OutputEnd { .. }
            | ChildEvent::Disconnect
            | ChildEvent::WriteDone { .. } => {}
        }
    }

    fn worker_gone(&mut self, id: u64) {
        let Some(worker) = self.workers.remove(&id) else {
            return;
        };
        let (code, signal) = worker.exit.unwrap_or((None, None));
        if !worker.stopping {
            self.stats.lock().unwrap().crashed += 1;
        }
        let stderr_tail = worker.stderr_tail();
        if let Some(mut running) = worker.running {
            if running.task.crashes < self.config.retries {
                // Run it again, first in line, on a fresh worker.
                running.task.crashes += 1;
                self.queue.push_front(running.task);
                self.replace_if_needed();
                self.dispatch();
                return;
            }
            let how = match (code, signal) {
                (_, Some(sig)) => format!("was killed by signal {sig}"),
                (Some(code), None) => format!("exited with code {code}"),
                (None, None) => "ended".to_owned(),
            };
            let mut failure = TaskFailure::new(
                FailureKind::WorkerCrashed,
                format!(
                    "the worker (pid {}) {how} while running the task{}",
                    worker.pid.unwrap_or(0),
                    match running.task.crashes {
                        0 => String::new(),
                        n => format!(" (after {n} retries on fresh workers)"),
                    }
                ),
            );
            failure.exit_code = code;
            failure.signal = signal;
            failure.stderr_tail = stderr_tail;
            self.settle(running.task.id, Err(failure));
        }
        self.replace_if_needed();
        self.dispatch();
        self.maybe_stop_workers();
    }

    /// Updates the counts that `Pool::stats` reads.
    fn publish(&self) {
        let size = self.live_workers();
        let busy = self
            .workers
            .values()
            .filter(|w| !w.stopping && w.running.is_some())
            .count();
        let mut stats = self.stats.lock().unwrap();
        stats.size = size;
        stats.busy = busy;
        stats.queued = self.queue.len();
    }
}
