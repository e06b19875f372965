//! What the scheduler hears from a worker, as meaning-level [`News`] (real
//! workers' frames, messages and process events become news in
//! `protocol.rs`), and what each piece of news does to the pool.

use super::PoolState;
use crate::pool::crash;
use crate::pool::events::{Answer, PoolEvent, TaskFailure, TaskId};
use crate::pool::worker::{InFlight, Launch, Lifecycle, Mode};

/// One thing a worker said, as the scheduler hears it.
pub(crate) enum News {
    Spawned {
        pid: u32,
    },
    /// Its process could not be created.
    SpawnFailed {
        why: String,
    },
    /// It is ready for tasks; `serve`: it runs `serve()` (frames from now on).
    Ready {
        serve: bool,
    },
    /// The answer to task `id` (`None`: its oldest, for a worker that answers
    /// in order).
    Answered {
        id: Option<TaskId>,
        result: Result<Answer, TaskFailure>,
    },
    /// It wrote something that is no frame or message.
    Malformed(&'static str),
    /// Its process was reaped.
    Exited {
        code: Option<i32>,
        signal: Option<i32>,
    },
    /// Reaped and its pipes drained (its stderr tail is complete).
    Gone,
}

impl<L: Launch> PoolState<L> {
    /// One thing worker `wid` said.
    pub(crate) fn hear(&mut self, wid: u64, news: News) {
        match news {
            News::Spawned { pid } => self.crew.spawned(&self.config, wid, pid),
            News::SpawnFailed { why } => {
                if (self.crew.workers.remove(&wid)).is_some_and(|w| !w.is_stopping()) {
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

    /// After what workers said: replacements, what now has room, the close.
    pub(crate) fn after_news(&mut self) {
        self.replace_if_needed();
        self.dispatch();
        self.maybe_stop_workers();
    }

    /// A worker's answer to the task `id` (`None`: the oldest it holds).
    fn answer(&mut self, wid: u64, id: Option<TaskId>, result: Result<Answer, TaskFailure>) {
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
        let over_memory = (self.config.max_rss_bytes).is_some_and(|max| w.over_memory(max));
        w.stop_if_retired();
        if entry.pending() {
            let ran = entry.started.unwrap_or(entry.sent).elapsed();
            let ms = ran.as_secs_f64() * 1000.0;
            self.stats.lock().unwrap().run_time.record(ms);
            self.pacing.ran(ms);
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
        if worker.lifecycle != Lifecycle::Stopping {
            self.stats.lock().unwrap().crashed += 1;
        }
        let start_failure = (self.phase == super::Phase::Open)
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
}
