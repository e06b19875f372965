//! How the pool words a worker's death: the failure of the tasks it ran, a
//! failed start, and the workers it kills for misbehaving.

use std::time::Duration;

use super::events::{FailureKind, TaskFailure};
use super::start_failures::QUICK_DEATH;
use super::worker::{Lifecycle, Mode, Remains, WorkerIo};

/// How much of a worker's stderr a start failure quotes: its last lines.
const START_FAILURE_LINES: usize = 20;
const START_FAILURE_BYTES: usize = 4096;

/// "exited with code 3", "was killed by signal 9".
pub(crate) fn how_it_ended((code, signal): (Option<i32>, Option<i32>)) -> String {
    match (code, signal) {
        (_, Some(sig)) => format!("was killed by signal {sig}"),
        (Some(code), None) => format!("exited with code {code}"),
        (None, None) => "ended".to_owned(),
    }
}

/// The failure of a task its worker died running, after `crashes` retries.
pub(crate) fn crashed_task<Io: WorkerIo>(worker: &Remains<Io>, crashes: u32) -> TaskFailure {
    let retried = match crashes {
        0 => String::new(),
        n => format!(" (after {n} retries on fresh workers)"),
    };
    let how = how_it_ended(worker.exit);
    let pid = worker.pid.unwrap_or(0);
    let message = format!("the worker (pid {pid}) {how} while running the task{retried}");
    let mut crash = TaskFailure::new(FailureKind::WorkerCrashed, message);
    (crash.exit_code, crash.signal) = worker.exit;
    crash.stderr_tail = Some(worker.io.stderr_tail());
    crash
}

/// Whether a worker that died unexpectedly failed to start (see
/// `start_failures.rs`), and then its failure (kind `WorkerStartFailed`; the
/// pool prefixes the program).
pub(crate) fn failed_start<Io: WorkerIo>(worker: &Remains<Io>) -> Option<TaskFailure> {
    // A task that already crashed a worker is the likelier cause of this
    // death too (`retries`): that is no failed start.
    let retried = worker.in_flight.iter().any(|e| e.task.crashes > 0);
    let quick = worker.lived < QUICK_DEATH;
    let starting = matches!(worker.lifecycle, Lifecycle::Starting { .. });
    let failed = match worker.mode {
        _ if worker.lifecycle == Lifecycle::Stopping => false,
        // It cannot say it is ready: its first answer says it works. Dying on
        // its first task, or soon, is a failed start.
        Mode::Command => !worker.answered && !retried && (quick || !worker.in_flight.is_empty()),
        Mode::Plain | Mode::Serve => starting || (quick && !retried),
    };
    failed.then(|| start_failure(worker))
}

fn start_failure<Io: WorkerIo>(worker: &Remains<Io>) -> TaskFailure {
    let ms = worker.lived.as_millis();
    let when = if matches!(worker.lifecycle, Lifecycle::Starting { .. }) {
        format!("{ms} ms after it started, before it was ready")
    } else if worker.mode == Mode::Command && !worker.answered {
        format!("{ms} ms after it started, before its first answer")
    } else {
        format!("{ms} ms after it started")
    };
    let how = how_it_ended(worker.exit);
    let mut f = TaskFailure::new(FailureKind::WorkerStartFailed, format!("{how} {when}"));
    (f.exit_code, f.signal) = worker.exit;
    f.stderr_tail = Some((worker.io).stderr_lines(START_FAILURE_LINES, START_FAILURE_BYTES));
    f
}

/// A worker that could not even be launched.
pub(crate) fn not_launched(why: impl std::fmt::Display) -> TaskFailure {
    TaskFailure::new(
        FailureKind::WorkerStartFailed,
        format!("could not be started: {why}"),
    )
}

/// The pool's `'error'` for a serve worker that ignored a cancel.
pub(crate) fn unresponsive(pid: Option<u32>, grace: Duration) -> String {
    format!(
        "a worker (pid {}) did not answer a cancelled task within {} ms of its AbortSignal; it was killed and replaced",
        pid.unwrap_or(0),
        grace.as_millis()
    )
}

/// The pool's `'error'` for a worker that wrote what is no frame or message.
pub(crate) fn broke_protocol(pid: Option<u32>, what: &str) -> String {
    format!(
        "a worker (pid {}) wrote {what} on its task channel; it was killed and replaced",
        pid.unwrap_or(0)
    )
}
