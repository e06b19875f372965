//! Where the pool runs: its state behind one lock, stepped on the caller's
//! thread (JavaScript's, for `run`) and by a driver task on the runtime that
//! hears the workers and wakes for the scheduler's timers.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::mpsc::{unbounded_channel, UnboundedReceiver};
use tokio::sync::Notify;
use tokio::time::{sleep_until, Instant};

use super::config::PoolConfig;
use super::dispatch::PoolState;
use super::events::PoolSink;
use super::stats::Shared;
use super::worker_io::{Launcher, WorkerEvent};

/// What the pool's handles and its driver share.
pub(crate) struct Core {
    pub state: Mutex<PoolState<Launcher>>,
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
        let launcher = Launcher { events: events_tx };
        let state = PoolState::new(config, sink, stats, launcher);
        let core = Core {
            state: Mutex::new(state),
            wake: Notify::new(),
        };
        (Arc::new(core), events)
    }

    /// Runs `step` on the pool, then makes sure the driver wakes in time for
    /// any timer it set.
    pub fn with<R>(&self, step: impl FnOnce(&mut PoolState<Launcher>) -> R) -> R {
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
                state.report_closed();
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
