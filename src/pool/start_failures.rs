//! Workers that cannot start: counting failed starts, backing off, and when
//! the pool refuses tasks.
//!
//! # Model
//!
//! The pool (`crash.rs`, when a worker is gone) decides what a failed
//! start is: a worker that dies (or cannot be launched) before it is ready,
//! or within [`QUICK_DEATH`] of its launch even though it was ready (one that
//! crashes on its first task, every time), unless it was running a task that
//! had already crashed a worker (`retries`: the task is the likelier cause).
//! A command worker cannot say it is ready: it has started once it answered a
//! task, and dying before that, within `QUICK_DEATH` or on its first task, is
//! a failed start. After `max_failures` failed starts in a row the pool is
//! *tripped*:
//!
//! - it starts no worker until the backoff delay has passed (`initial`,
//!   doubling on every further failure up to `max`), then one at a time;
//! - while it waits, and no ready worker is left, it refuses tasks with the
//!   last failure (see [`StartFailures::refusal`]); tasks submitted once the
//!   delay has passed wait for the worker that start brings, and are refused
//!   with its failure if it fails too;
//! - the first trip of an *episode* is reported once ([`Verdict::Tripped`]);
//!   the episode ends when a started worker has lived past `QUICK_DEATH`,
//!   which also resets the count and the delay.
//!
//! A ready worker ends the refusals at once (tasks can run on it), even though
//! the episode lasts until it has proved itself.
//!
//! The clock is a parameter ([`Clock`]) so the state machine is tested with a
//! fake one.

use std::time::Duration;

use tokio::time::Instant;

use super::events::TaskFailure;

/// A worker that dies this soon after its launch counts as a failed start,
/// even if it said it was ready.
pub const QUICK_DEATH: Duration = Duration::from_secs(1);

/// Where the state machine reads the time.
pub trait Clock {
    fn now(&self) -> Instant;
}

/// The runtime's clock.
#[derive(Clone, Copy, Default)]
pub struct TokioClock;

impl Clock for TokioClock {
    fn now(&self) -> Instant {
        Instant::now()
    }
}

/// How long a tripped pool waits before it starts a worker again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Backoff {
    pub initial: Duration,
    pub max: Duration,
}

impl Backoff {
    /// Unless configured (lib/pool.js documents it, from the addon's `PoolDefault`).
    pub const DEFAULT: Backoff = Backoff {
        initial: Duration::from_secs(1),
        max: Duration::from_secs(30),
    };
}

/// What a failed start means for the pool.
#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Fewer than `max_failures` in a row: start another at once.
    Retry,
    /// The first trip of an episode: report it (the pool's `'error'`).
    Tripped,
    /// Tripped again within a reported episode.
    StillTripped,
}

pub struct StartFailures<C: Clock = TokioClock> {
    clock: C,
    max_failures: u32,
    backoff: Backoff,
    /// Failed starts in a row.
    consecutive: u32,
    /// The delay of the current wait (doubles on each trip of an episode).
    delay: Duration,
    /// No start before this.
    retry_at: Option<Instant>,
    /// The last failure, with the pool's words around it: what queued and
    /// new tasks are refused with.
    last: Option<TaskFailure>,
    /// The episode was reported.
    reported: bool,
    /// When a worker that became ready during an episode has proved itself.
    proven_at: Option<Instant>,
}

impl<C: Clock> StartFailures<C> {
    pub fn new(clock: C, max_failures: u32, backoff: Backoff) -> StartFailures<C> {
        StartFailures {
            clock,
            max_failures: max_failures.max(1),
            backoff,
            consecutive: 0,
            delay: backoff.initial,
            retry_at: None,
            last: None,
            reported: false,
            proven_at: None,
        }
    }

    /// Failed starts in a row.
    pub fn consecutive(&self) -> u32 {
        self.consecutive
    }

    fn tripped(&self) -> bool {
        self.consecutive >= self.max_failures
    }

    fn backing_off(&self) -> bool {
        self.retry_at.is_some_and(|at| self.clock.now() < at)
    }

    /// When the pool may start a worker again, while it waits.
    pub fn retry_at(&self) -> Option<Instant> {
        self.retry_at.filter(|at| self.clock.now() < *at)
    }

    /// A start failed: `failure` says how (its message is the cause; the
    /// pool's words are added here). The verdict says what to do.
    pub fn failed(&mut self, mut failure: TaskFailure) -> Verdict {
        self.consecutive = self.consecutive.saturating_add(1);
        self.proven_at = None;
        if !self.tripped() {
            self.last = Some(failure);
            return Verdict::Retry;
        }
        let now = self.clock.now();
        if !self.backing_off() {
            // A start made after a wait failed: wait longer.
            if self.reported {
                self.delay = (self.delay * 2).min(self.backoff.max);
            }
            self.retry_at = Some(now + self.delay);
        }
        failure.message = format!(
            "{} ({} failed starts in a row; the pool starts no worker for {} ms, and refuses tasks while no worker is ready)",
            failure.message,
            self.consecutive,
            self.retry_at.map_or(0, |at| (at - now).as_millis()),
        );
        self.last = Some(failure);
        if std::mem::replace(&mut self.reported, true) {
            Verdict::StillTripped
        } else {
            Verdict::Tripped
        }
    }

    /// The last failure, once tripped.
    pub fn failure(&self) -> Option<&TaskFailure> {
        self.last.as_ref().filter(|_| self.tripped())
    }

    /// A worker launched at `launched_at` is ready (a command worker: it
    /// answered). It proves itself (ending the episode) once it has lived
    /// `QUICK_DEATH`.
    pub fn ready(&mut self, launched_at: Instant) {
        if self.consecutive == 0 {
            return;
        }
        let proven_at = launched_at + QUICK_DEATH;
        if proven_at <= self.clock.now() {
            self.reset();
        } else {
            self.proven_at = Some(self.proven_at.map_or(proven_at, |at| at.max(proven_at)));
            // Tasks may run on it now: no more waiting for a start.
            self.retry_at = None;
        }
    }

    fn reset(&mut self) {
        self.consecutive = 0;
        self.delay = self.backoff.initial;
        self.retry_at = None;
        self.last = None;
        self.reported = false;
        self.proven_at = None;
    }

    /// When [`StartFailures::tick`] has something to do.
    pub fn due(&self) -> Option<Instant> {
        self.proven_at
    }

    /// A ready worker lived long enough: the episode is over.
    pub fn tick(&mut self) {
        if self.proven_at.is_some_and(|at| at <= self.clock.now()) {
            self.reset();
        }
    }

    /// How many more workers may be starting now, given `starting` are: none
    /// during the wait, then one at a time until a worker proves itself.
    pub fn may_start(&self, starting: usize) -> usize {
        if !self.tripped() {
            usize::MAX
        } else if self.backing_off() {
            0
        } else {
            1usize.saturating_sub(starting)
        }
    }

    /// The failure new tasks are refused with: while the pool waits to start
    /// a worker again (the caller checks that no ready worker is left).
    pub fn refusal(&self) -> Option<&TaskFailure> {
        if self.tripped() && self.backing_off() {
            self.last.as_ref()
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;
    use std::rc::Rc;

    use super::*;
    use crate::pool::events::FailureKind;

    #[derive(Clone)]
    struct FakeClock(Rc<Cell<Instant>>);

    impl Clock for FakeClock {
        fn now(&self) -> Instant {
            self.0.get()
        }
    }

    impl FakeClock {
        fn advance(&self, ms: u64) {
            self.0.set(self.0.get() + Duration::from_millis(ms));
        }
    }

    fn machine(max: u32) -> (FakeClock, StartFailures<FakeClock>) {
        let clock = FakeClock(Rc::new(Cell::new(Instant::now())));
        let backoff = Backoff {
            initial: Duration::from_millis(1000),
            max: Duration::from_millis(4000),
        };
        (clock.clone(), StartFailures::new(clock, max, backoff))
    }

    fn exit1() -> TaskFailure {
        TaskFailure::new(FailureKind::WorkerStartFailed, "bad.js exited with code 1")
    }

    #[test]
    fn trips_after_max_failures_in_a_row_and_reports_once() {
        let (_, mut s) = machine(3);
        assert_eq!(s.failed(exit1()), Verdict::Retry);
        assert_eq!(s.failed(exit1()), Verdict::Retry);
        assert!(s.refusal().is_none());
        assert_eq!(s.may_start(0), usize::MAX);
        assert_eq!(s.failed(exit1()), Verdict::Tripped);
        let refusal = s.refusal().expect("refuses while waiting");
        assert!(refusal
            .message
            .starts_with("bad.js exited with code 1 (3 failed starts in a row"));
        assert_eq!(s.may_start(0), 0);
        // Workers that were already starting fail too: same episode, same wait.
        let wait = s.retry_at();
        assert_eq!(s.failed(exit1()), Verdict::StillTripped);
        assert_eq!(s.retry_at(), wait);
    }

    #[test]
    fn the_wait_doubles_up_to_max_then_one_start_at_a_time() {
        let (clock, mut s) = machine(1);
        let mut waits = Vec::new();
        for _ in 0..5 {
            s.failed(exit1());
            let now = clock.now();
            waits.push((s.retry_at().unwrap() - now).as_millis());
            clock.advance(waits.last().copied().unwrap() as u64);
            // The wait is over: tasks queue for the one start it allows.
            assert!(s.refusal().is_none());
            assert_eq!(s.may_start(0), 1);
            assert_eq!(s.may_start(1), 0);
        }
        assert_eq!(waits, [1000, 2000, 4000, 4000, 4000]);
    }

    #[test]
    fn a_ready_worker_ends_refusals_and_once_proven_the_episode() {
        let (clock, mut s) = machine(2);
        s.failed(exit1());
        s.failed(exit1());
        clock.advance(1000);
        let launched = clock.now();
        clock.advance(100);
        s.ready(launched);
        assert!(s.refusal().is_none());
        assert_eq!(s.consecutive(), 2, "not proven yet");
        assert_eq!(s.due(), Some(launched + QUICK_DEATH));
        clock.advance(900);
        s.tick();
        assert_eq!(s.consecutive(), 0);
        assert!(s.failure().is_none());
        // A new episode is reported again, with the initial wait.
        s.failed(exit1());
        assert_eq!(s.failed(exit1()), Verdict::Tripped);
        assert_eq!(
            s.retry_at(),
            Some(clock.now() + Duration::from_millis(1000))
        );
    }

    #[test]
    fn a_quick_death_after_ready_continues_the_episode_with_a_longer_wait() {
        let (clock, mut s) = machine(1);
        assert_eq!(s.failed(exit1()), Verdict::Tripped);
        clock.advance(1000);
        let launched = clock.now();
        s.ready(launched);
        clock.advance(300);
        assert_eq!(s.failed(exit1()), Verdict::StillTripped);
        assert_eq!(
            s.retry_at(),
            Some(clock.now() + Duration::from_millis(2000))
        );
        assert_eq!(s.due(), None);
    }

    #[test]
    fn a_slow_starter_that_is_ready_after_quick_death_is_proven_at_once() {
        let (clock, mut s) = machine(3);
        s.failed(exit1());
        let launched = clock.now();
        clock.advance(1500);
        s.ready(launched);
        assert_eq!(s.consecutive(), 0);
    }
}
