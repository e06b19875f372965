//! What a pool reports: each task settles exactly once.

/// Why a task failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FailureKind {
    /// The worker died while running the task.
    WorkerCrashed,
    /// The task ran past its timeout; the worker was killed and replaced.
    Timeout,
    /// The caller cancelled it.
    Aborted,
    /// The queue was full when the task arrived.
    QueueFull,
    /// The pool was closed or destroyed before the task ran.
    PoolClosed,
}

impl FailureKind {
    /// The stable error code JavaScript sees.
    pub fn code(&self) -> &'static str {
        match self {
            FailureKind::WorkerCrashed => "ERR_OFFLOAD_WORKER_CRASHED",
            FailureKind::Timeout => "ERR_OFFLOAD_TIMEOUT",
            FailureKind::Aborted => "ERR_OFFLOAD_ABORTED",
            FailureKind::QueueFull => "ERR_OFFLOAD_QUEUE_FULL",
            FailureKind::PoolClosed => "ERR_OFFLOAD_POOL_CLOSED",
        }
    }
}

#[derive(Clone, Debug)]
pub struct TaskFailure {
    pub kind: FailureKind,
    pub message: String,
    /// For a crash: how the worker ended, and the tail of its stderr.
    pub exit_code: Option<i32>,
    pub signal: Option<i32>,
    pub stderr_tail: Option<Vec<u8>>,
}

impl TaskFailure {
    pub fn new(kind: FailureKind, message: impl Into<String>) -> TaskFailure {
        TaskFailure {
            kind,
            message: message.into(),
            exit_code: None,
            signal: None,
            stderr_tail: None,
        }
    }
}

#[derive(Debug)]
pub enum PoolEvent {
    /// The worker's answer, as the JSON text it sent.
    TaskDone {
        id: u64,
        result: Result<String, TaskFailure>,
    },
    WorkerExit {
        pid: u32,
        code: Option<i32>,
        signal: Option<i32>,
    },
    /// Every worker is gone after `close` or `destroy`.
    Closed,
}

/// Receives a pool's events, on a runtime thread.
pub trait PoolSink: Send + Sync + 'static {
    fn emit(&self, event: PoolEvent);
}
