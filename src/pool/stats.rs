//! Pool statistics: counters, and latency percentiles over recent tasks.

/// How many recent samples the percentiles are computed over.
const WINDOW: usize = 1024;

use std::time::Duration;

use tokio::time::Instant;

/// p50, p90, p99 and max of a window of durations, in milliseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Percentiles {
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub max: f64,
}

/// The most recent durations, oldest overwritten first.
#[derive(Default)]
pub(crate) struct Window {
    samples: Vec<f64>,
    next: usize,
}

impl Window {
    pub fn record(&mut self, ms: f64) {
        if self.samples.len() < WINDOW {
            self.samples.push(ms);
        } else {
            self.samples[self.next] = ms;
            self.next = (self.next + 1) % WINDOW;
        }
    }

    pub fn percentiles(&self) -> Percentiles {
        if self.samples.is_empty() {
            return Percentiles::default();
        }
        let mut sorted = self.samples.clone();
        sorted.sort_by(f64::total_cmp);
        let at = |q: f64| sorted[((sorted.len() - 1) as f64 * q).round() as usize];
        Percentiles {
            p50: at(0.5),
            p90: at(0.9),
            p99: at(0.99),
            max: sorted[sorted.len() - 1],
        }
    }
}

/// What the pool task keeps up to date and `Pool::stats` reads, without a
/// round trip to the pool task.
#[derive(Default)]
pub(crate) struct Shared {
    pub size: usize,
    pub busy: usize,
    pub starting: usize,
    pub queued: usize,
    pub completed: u64,
    pub failed: u64,
    pub crashed: u64,
    pub restarted: u64,
    pub run_time: Window,
    pub wait_time: Window,
    pub start_failures: u32,
    /// When the pool may start a worker again, after failed starts.
    pub retry_at: Option<Instant>,
    /// Until when it refuses tasks (no worker is ready meanwhile).
    pub refusing_until: Option<Instant>,
}

impl Shared {
    /// A task settled: well or not.
    pub fn settled(&mut self, ok: bool) {
        if ok {
            self.completed += 1;
        } else {
            self.failed += 1;
        }
    }

    /// A task waited from `queued_at` until a worker took it at `now`.
    pub fn waited(&mut self, queued_at: std::time::Instant, now: std::time::Instant) {
        self.wait_time
            .record((now - queued_at).as_secs_f64() * 1000.0);
    }

    /// The pool's workers as of now: `(busy, starting)` for each that takes
    /// tasks or will; with the start failures and whether tasks are refused
    /// meanwhile (see `start_failures.rs`).
    pub fn workers(
        &mut self,
        live: impl Iterator<Item = (bool, bool)>,
        queued: usize,
        start_failures: u32,
        retry_at: Option<Instant>,
        refusing: bool,
    ) {
        let (mut size, mut busy, mut starting) = (0, 0, 0);
        for (is_busy, is_starting) in live {
            size += 1;
            busy += usize::from(is_busy);
            starting += usize::from(is_starting);
        }
        self.size = size;
        self.busy = busy;
        self.starting = starting;
        self.queued = queued;
        self.start_failures = start_failures;
        if start_failures > 0 || self.retry_at.is_some() {
            self.retry_at = retry_at;
            let refusing = size == starting && refusing;
            self.refusing_until = self.retry_at.filter(|_| refusing);
        }
    }

    pub fn snapshot(&self) -> Stats {
        let now = Instant::now();
        let ahead = |at: Option<Instant>| at.filter(|at| *at > now).map(|at| at - now);
        Stats {
            size: self.size,
            busy: self.busy,
            idle: self.size.saturating_sub(self.busy + self.starting),
            starting: self.starting,
            queued: self.queued,
            completed: self.completed,
            failed: self.failed,
            crashed: self.crashed,
            restarted: self.restarted,
            run_time: self.run_time.percentiles(),
            wait_time: self.wait_time.percentiles(),
            start_failures: self.start_failures,
            next_start_in: ahead(self.retry_at),
            broken: ahead(self.refusing_until).is_some(),
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Stats {
    /// Live workers, starting ones included.
    pub size: usize,
    pub busy: usize,
    /// Ready and doing nothing.
    pub idle: usize,
    /// Launched and not ready yet.
    pub starting: usize,
    pub queued: usize,
    pub completed: u64,
    pub failed: u64,
    /// Workers that died unexpectedly (not recycled or stopped by us).
    pub crashed: u64,
    /// Workers started to replace one that died, timed out or was recycled.
    pub restarted: u64,
    /// From a worker taking the task to its result.
    pub run_time: Percentiles,
    /// From `run` to a worker taking the task.
    pub wait_time: Percentiles,
    /// Failed starts in a row (see `start_failures.rs`); 0 once a worker
    /// started and lived.
    pub start_failures: u32,
    /// How long until the pool may start a worker again, while it waits
    /// after failed starts.
    pub next_start_in: Option<Duration>,
    /// It refuses tasks with `WorkerStartFailed`: workers fail to start and
    /// none is ready.
    pub broken: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_of_a_known_series() {
        let mut w = Window::default();
        for i in 1..=100 {
            w.record(i as f64);
        }
        let p = w.percentiles();
        assert_eq!((p.p50, p.p90, p.p99, p.max), (51.0, 90.0, 99.0, 100.0));
    }

    #[test]
    fn the_window_keeps_only_recent_samples() {
        let mut w = Window::default();
        for _ in 0..WINDOW {
            w.record(1000.0);
        }
        for _ in 0..WINDOW {
            w.record(1.0);
        }
        assert_eq!(w.percentiles().max, 1.0);
    }
}
