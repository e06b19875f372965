//! How the pool ends: `close` drains the queue and then stops the workers
//! (SIGKILL at the close deadline, which the scheduler's timers watch);
//! `destroy` fails everything pending and kills them at once.

use std::time::Duration;

use tokio::time::Instant;

use super::{failure, Phase, PoolState};
use crate::pool::events::{FailureKind, PoolEvent};
use crate::pool::worker::Launch;

impl<L: Launch> PoolState<L> {
    /// Takes no new tasks; once queued and running ones are done, stops the
    /// workers, with SIGKILL after `timeout`.
    pub fn close(&mut self, timeout: Duration) {
        if self.phase == Phase::Open {
            self.phase = Phase::Closing { timeout };
            self.maybe_stop_workers();
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
    pub(super) fn maybe_stop_workers(&mut self) {
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
}
