//! The pool's workers as a group: launching them, counting them by
//! lifecycle, the failed starts and the probation after them, readiness,
//! and stopping the idle ones. The scheduler (`dispatch.rs`) decides how
//! many it wants and what they run.

use std::collections::HashMap;
use std::sync::Arc;

use tokio::time::Instant;

use super::channel::ChannelEnd;
use super::config::PoolConfig;
use super::crash;
use super::events::TaskFailure;
use super::start_failures::{StartFailures, TokioClock, QUICK_DEATH};
use super::worker::{Launch, Mode, Worker, WorkerIo};

pub(crate) struct Crew<L: Launch> {
    launcher: L,
    pub workers: HashMap<u64, Worker<L::Io>>,
    next_worker: u64,
    /// Task channels opened since the last [`Crew::take_channels`].
    new_channels: Vec<(u64, Arc<ChannelEnd>)>,
    /// Failed starts, the backoff after them, and the refusals meanwhile.
    pub starts: StartFailures,
}

impl<L: Launch> Crew<L> {
    pub fn new(config: &PoolConfig, launcher: L) -> Crew<L> {
        Crew {
            launcher,
            workers: HashMap::new(),
            next_worker: 0,
            new_channels: Vec::new(),
            starts: StartFailures::new(TokioClock, config.max_start_failures, config.start_backoff),
        }
    }

    /// Launches one worker; `Err` is the start failure if it cannot be.
    pub fn launch(&mut self, config: &PoolConfig) -> Result<(), TaskFailure> {
        let id = self.next_worker;
        self.next_worker += 1;
        let (io, mode) = self
            .launcher
            .launch(config, id)
            .map_err(crash::not_launched)?;
        for channel in io.channels() {
            self.new_channels.push((id, channel));
        }
        self.workers.insert(id, Worker::new(io, mode));
        Ok(())
    }

    /// The task channels opened since the last call, for a watcher.
    pub fn take_channels(&mut self) -> Vec<(u64, Arc<ChannelEnd>)> {
        std::mem::take(&mut self.new_channels)
    }

    /// Workers that take tasks, or will once started.
    pub fn live(&self) -> usize {
        self.workers.values().filter(|w| w.is_live()).count()
    }

    /// Workers launched that are not ready yet.
    fn starting(&self) -> usize {
        self.workers.values().filter(|w| w.is_starting()).count()
    }

    /// Ready workers that take tasks.
    pub fn any_ready(&self) -> bool {
        self.workers.values().any(|w| w.is_ready())
    }

    /// How many more workers may start now (see `start_failures.rs`).
    pub fn may_start(&self) -> usize {
        if self.starts.consecutive() == 0 {
            return usize::MAX;
        }
        self.starts.may_start(self.starting())
    }

    /// A worker was spawned: ready now, unless it says so itself
    /// (`wait_for_ready`) or must prove itself after failed starts.
    pub fn spawned(&mut self, config: &PoolConfig, wid: u64, pid: u32) {
        let after_failures = self.starts.consecutive() > 0;
        let Some(w) = self.workers.get_mut(&wid) else {
            return;
        };
        w.spawned(pid);
        if config.wait_for_ready {
            // It says so itself.
        } else if after_failures {
            w.put_on_probation();
        } else {
            self.became_ready(wid);
        }
    }

    /// A worker is ready for tasks.
    pub fn became_ready(&mut self, wid: u64) {
        if let Some(w) = self.workers.get_mut(&wid) {
            w.became_ready();
            if w.mode() != Mode::Command {
                self.starts.ready(w.launched_at());
            }
        }
    }

    /// When the first command worker on probation has lived `QUICK_DEATH`.
    pub fn probation_ends(&self, config: &PoolConfig) -> Option<Instant> {
        if config.wait_for_ready {
            return None;
        }
        let on_probation = self.workers.values().filter(|w| w.on_probation());
        on_probation.map(|w| w.launched_at() + QUICK_DEATH).min()
    }

    /// Command workers on probation that lived long enough are ready.
    pub fn end_probation(&mut self, now: Instant) {
        let proven: Vec<u64> = (self.workers.iter())
            .filter(|(_, w)| w.on_probation() && w.launched_at() + QUICK_DEATH <= now)
            .map(|(id, _)| *id)
            .collect();
        for id in proven {
            self.became_ready(id);
        }
    }

    /// When the next idle worker beyond `min_size` is due to stop.
    pub fn next_idle_stop(&self, config: &PoolConfig) -> Option<Instant> {
        let timeout = config.idle_timeout?;
        if self.live() <= config.min_size {
            return None;
        }
        let idle = self.workers.values().filter_map(|w| w.idle_since());
        idle.min().map(|since| Instant::from_std(since) + timeout)
    }

    /// Stops workers idle for `idle_timeout`, down to `min_size`.
    pub fn shrink(&mut self, config: &PoolConfig) {
        let Some(timeout) = config.idle_timeout else {
            return;
        };
        let mut spare = self.live().saturating_sub(config.min_size);
        for worker in self.workers.values_mut() {
            if spare == 0 {
                break;
            }
            if (worker.idle_since()).is_some_and(|since| since.elapsed() >= timeout) {
                worker.stop_gracefully();
                spare -= 1;
            }
        }
    }
}
