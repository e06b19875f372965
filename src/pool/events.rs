//! What a pool reports: each task settles exactly once.

pub use super::task_frame::Bytes;

/// Why a task failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FailureKind {
    /// The worker died while running the task.
    WorkerCrashed,
    /// Workers fail to start (see `start_failures.rs`): the pool refuses
    /// tasks until one does.
    WorkerStartFailed,
    /// The task ran past its timeout; the worker was killed and replaced.
    Timeout,
    /// The caller cancelled it.
    Aborted,
    /// The queue was full when the task arrived.
    QueueFull,
    /// The pool was closed or destroyed before the task ran.
    PoolClosed,
    /// The task names a handler, and its worker does not call `serve()`.
    NoHandler,
    /// The worker's handler threw (or rejected): see `TaskFailure::error_json`.
    Thrown,
}

impl FailureKind {
    /// The stable error code JavaScript sees; none for `Thrown`, whose error
    /// JavaScript rebuilds from the worker's own (`error_json`), code included.
    pub fn code(&self) -> Option<&'static str> {
        Some(match self {
            FailureKind::WorkerCrashed => "ERR_OFFLOAD_WORKER_CRASHED",
            FailureKind::WorkerStartFailed => "ERR_OFFLOAD_WORKER_START_FAILED",
            FailureKind::Timeout => "ERR_OFFLOAD_TIMEOUT",
            FailureKind::Aborted => "ERR_OFFLOAD_ABORTED",
            FailureKind::QueueFull => "ERR_OFFLOAD_QUEUE_FULL",
            FailureKind::PoolClosed => "ERR_OFFLOAD_POOL_CLOSED",
            FailureKind::NoHandler => "ERR_OFFLOAD_NO_HANDLER",
            FailureKind::Thrown => return None,
        })
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
    /// For `Thrown`: the worker's error as JSON (`name`, `message`, `stack`,
    /// `code` and its other own properties).
    pub error_json: Option<String>,
}

impl TaskFailure {
    pub fn new(kind: FailureKind, message: impl Into<String>) -> TaskFailure {
        TaskFailure {
            kind,
            message: message.into(),
            exit_code: None,
            signal: None,
            stderr_tail: None,
            error_json: None,
        }
    }
}

/// A worker's answer: JSON text (empty for `undefined`), in which each of
/// its raw buffers appears as `{"$offload:bytes":index}`; or, from a plain
/// worker of Node's `advanced` serialization, its whole frame (the length,
/// then what V8 serialized), as the one buffer.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Answer {
    pub json: String,
    pub bytes: Bytes,
    pub serialized: bool,
}

impl Answer {
    pub fn json(json: String) -> Answer {
        Answer {
            json,
            ..Answer::default()
        }
    }

    pub fn serialized(bytes: Vec<u8>) -> Answer {
        let len = bytes.len();
        Answer {
            json: String::new(),
            bytes: Bytes {
                data: bytes,
                ranges: vec![(0, len)],
            },
            serialized: true,
        }
    }
}

/// A task's id, chosen by the caller (lib/pool.js counts from 1 and wraps
/// after `u32::MAX`). 32 bits end to end: the id crosses to a `serve()`
/// worker in a 4-byte field of every frame (`task_frame.rs`) and to
/// JavaScript as a number, and no pool holds 4 billion tasks at once, so a
/// wider id in Rust would only be cut on the way out.
pub type TaskId = u32;

#[derive(Debug)]
pub enum PoolEvent {
    TaskDone {
        id: TaskId,
        result: Result<Answer, TaskFailure>,
    },
    WorkerExit {
        pid: u32,
        code: Option<i32>,
        signal: Option<i32>,
    },
    /// Something went wrong that no task's result reports: a worker that
    /// breaks the protocol, or ignores a cancel.
    Error { code: &'static str, message: String },
    /// Workers fail to start: the first trip of an episode (see
    /// `start_failures.rs`), with the last failure (kind `WorkerStartFailed`).
    StartFailed(TaskFailure),
    /// Every worker is gone after `close` or `destroy`.
    Closed,
}

/// Receives a pool's events, on a runtime thread.
pub trait PoolSink: Send + Sync + 'static {
    fn emit(&self, event: PoolEvent);
}
