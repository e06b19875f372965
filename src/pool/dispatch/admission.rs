//! Admission: which tasks the pool takes, how many workers it keeps for them,
//! and which worker gets which task, pipelining included.

use super::{failure, Phase, PoolState};
use crate::pool::events::{FailureKind, PoolEvent, TaskFailure};
use crate::pool::start_failures::Verdict;
use crate::pool::worker::{Launch, Mode, Task};

/// Tasks sent ahead to a `serve()` worker beyond its `concurrency`, so that it
/// never waits for the parent between short tasks. Only while tasks are short
/// (see [`PIPELINE_BELOW_MS`]) and every worker is already busy.
const PIPELINE: usize = 32;
const PIPELINE_BELOW_MS: f64 = 1.0;

/// How long tasks run lately, which decides how far ahead busy `serve()`
/// workers are sent tasks.
#[derive(Default)]
pub(super) struct Pacing {
    /// Milliseconds, exponential average; `None` before the first answer.
    run_ms: Option<f64>,
}

impl Pacing {
    pub fn ran(&mut self, ms: f64) {
        self.run_ms = Some(self.run_ms.map_or(ms, |avg| avg * 0.9 + ms * 0.1));
    }

    /// Tasks sent ahead to busy `serve()` workers: only for short tasks.
    fn pipeline(&self) -> usize {
        match self.run_ms {
            Some(ms) if ms < PIPELINE_BELOW_MS => PIPELINE,
            _ => 0,
        }
    }
}

impl<L: Launch> PoolState<L> {
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

    /// How many workers the pool wants now: enough for what runs and waits,
    /// within `min_size` and `size`.
    fn wanted(&self) -> usize {
        debug_assert!(self.config.concurrency >= 1, "lib/pool.js checks it");
        let running: usize = (self.crew.workers.values())
            .map(|w| w.in_flight().len())
            .sum();
        (running + self.queue.len())
            .div_ceil(self.config.concurrency)
            .clamp(self.config.min_size, self.config.size)
    }

    /// Starts workers up to what the pool wants.
    pub(super) fn top_up(&mut self, replacing: bool) {
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

    /// Replaces lost workers while tasks wait; an idle pool is topped up by the
    /// next `run` instead, so a worker that dies at start cannot crash-loop.
    pub(super) fn replace_if_needed(&mut self) {
        if !self.queue.is_empty() {
            self.top_up(true);
        }
    }

    /// A start failed: `how` is its failure (kind `WorkerStartFailed`), whose
    /// message says what happened to the worker. Past `max_start_failures` in
    /// a row, the pool says so once per episode and, with no ready worker
    /// left, refuses what waits.
    pub(super) fn start_failed(&mut self, mut how: TaskFailure) {
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

    /// Hands queued tasks to workers: first every worker's free slots, then
    /// (for short tasks) the pipeline.
    pub(super) fn dispatch(&mut self) {
        if self.queue.is_empty() {
            return;
        }
        let pipeline = self.pacing.pipeline();
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
    pub(super) fn retire(&mut self, wid: u64) {
        if let Some(w) = self.crew.workers.get_mut(&wid) {
            w.retire();
        }
        self.top_up(true);
    }
}
