//! What a pool runs and how.

use std::sync::Arc;
use std::time::Duration;

use super::start_failures::Backoff;
use crate::process::{Limits, Serialization};

/// The worker program.
#[derive(Clone, Debug)]
pub enum Program {
    /// A Node module spoken to over Node's IPC channel (`process.on('message')`,
    /// `process.send()`).
    Node {
        script: String,
        args: Vec<String>,
        exec_path: String,
        exec_argv: Vec<String>,
    },
    /// Any executable that reads one JSON task per line on stdin and writes one
    /// JSON result per line on stdout.
    Command { file: String, args: Vec<String> },
}

impl Program {
    /// How error messages name it: the script, or the command line.
    pub fn describe(&self) -> String {
        match self {
            Program::Node { script, .. } => format!("the worker script {script}"),
            Program::Command { file, args } => {
                let line: Vec<&str> = std::iter::once(file)
                    .chain(args)
                    .map(String::as_str)
                    .collect();
                format!("the worker command `{}`", line.join(" "))
            }
        }
    }
}

/// What a worker sends, before anything else, when it is ready for tasks (see
/// [`PoolConfig::wait_for_ready`]).
pub const READY_MESSAGE: &str = r#"{"$offload":"ready"}"#;
/// The same, as V8 serializes it (without its header) for Node's `advanced`
/// serialization: an object ('o'), the one-byte strings ('"', length)
/// "$offload" and "ready", closed with its property count ('{', 1).
pub const READY_MESSAGE_V8: &[u8] = b"o\"\x08$offload\"\x05ready{\x01";

/// Where a worker's stderr goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StderrMode {
    /// Passed through to ours; the last `stderr::INHERITED_TAIL` bytes are
    /// kept for error reports.
    Inherit,
    /// Piped; the last `n` bytes are kept for crash reports.
    Tail(usize),
}

#[derive(Clone, Debug)]
pub struct PoolConfig {
    pub program: Program,
    /// How a Node worker's IPC channel is written (Node's `serialization`):
    /// with `Advanced`, every task comes already serialized (see `Task`).
    pub serialization: Serialization,
    /// The most workers.
    pub size: usize,
    /// Workers kept when idle; the pool grows from here to `size` with demand.
    pub min_size: usize,
    /// An idle worker beyond `min_size` is stopped after this long.
    pub idle_timeout: Option<Duration>,
    /// Queued tasks (not running) past which `run` is refused.
    pub max_queue: Option<usize>,
    /// Default per-task timeout; the worker is killed and replaced.
    pub task_timeout: Option<Duration>,
    /// Tasks a worker runs at once; only workers that call `serve()` take more
    /// than one (the others answer in order, one message per task).
    pub concurrency: usize,
    /// Recycle a worker after this many tasks.
    pub max_tasks_per_worker: Option<u64>,
    /// Recycle a worker whose resident memory passed this, checked between tasks.
    pub max_rss_bytes: Option<u64>,
    /// Times a task whose worker crashed runs again, on a fresh worker, before
    /// the crash is reported.
    pub retries: u32,
    /// The complete environment of the workers (`KEY=value`).
    pub env: Arc<Vec<String>>,
    pub cwd: Option<String>,
    pub limits: Limits,
    pub stderr: StderrMode,
    /// Hand a worker tasks only once it sent [`READY_MESSAGE`] (a Node worker
    /// started with offload's preload does, once Node is up), so a task's
    /// timeout does not include the worker's start. Otherwise from its launch.
    pub wait_for_ready: bool,
    /// Failed starts in a row after which the pool waits `start_backoff`
    /// before starting another, and refuses tasks meanwhile.
    pub max_start_failures: u32,
    pub start_backoff: Backoff,
}

/// A task's own timeout, against the pool's `task_timeout`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum TaskTimeout {
    /// The pool's `task_timeout`.
    #[default]
    Pool,
    /// None for this task, whatever the pool's.
    Never,
    After(Duration),
}

impl TaskTimeout {
    /// How long the task may run, given the pool's default.
    pub fn resolve(self, pool: Option<Duration>) -> Option<Duration> {
        match self {
            TaskTimeout::Pool => pool,
            TaskTimeout::Never => None,
            TaskTimeout::After(t) => Some(t),
        }
    }
}

/// Failed starts in a row after which a pool backs off, unless configured.
pub const DEFAULT_MAX_START_FAILURES: u32 = 3;

impl PoolConfig {
    pub fn new(program: Program, size: usize) -> PoolConfig {
        debug_assert!(size >= 1, "lib/pool.js checks it");
        PoolConfig {
            program,
            serialization: Serialization::Json,
            size,
            min_size: size,
            idle_timeout: None,
            max_queue: None,
            task_timeout: None,
            concurrency: 1,
            max_tasks_per_worker: None,
            max_rss_bytes: None,
            retries: 0,
            env: crate::process::current_env(),
            cwd: None,
            limits: Limits::default(),
            stderr: StderrMode::Inherit,
            wait_for_ready: false,
            max_start_failures: DEFAULT_MAX_START_FAILURES,
            start_backoff: Backoff::DEFAULT,
        }
    }
}
