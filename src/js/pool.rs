//! `createPool` and the native pool handle.

use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use napi::bindgen_prelude::{Float64ArraySlice, Uint8Array};
use napi_derive::napi;

use super::channel::{EventChannel, PoolJsSink};
use super::spawn::{limits_from, millis, whole};
use super::watch::{watch, Delivery};
use crate::pool::{
    Percentiles, Pool, PoolConfig, Program, RunOptions, StderrMode, TaskTimeout, READY_MESSAGE,
};
use crate::process::{current_env, Serialization};

/// What a Node worker sends when it can take tasks (lib/worker-ready.js sends
/// it; a worker does not load the addon, so the contract test holds the two
/// together).
#[napi]
pub const WORKER_READY_MESSAGE: &str = READY_MESSAGE;

/// Positions in the `numbers` array of [`create_pool`]: options cross as in
/// `spawn` (one `Float64Array`, strings beside it), `NOT_SET` where an
/// option is not given. Exported to JS as `PoolSlot` (lib/pool.js packs by
/// these).
#[napi(js_name = "PoolSlot")]
pub mod slot {
    #[napi]
    pub const SIZE: u32 = 0;
    #[napi]
    pub const MIN_SIZE: u32 = 1;
    #[napi]
    pub const IDLE_TIMEOUT: u32 = 2;
    #[napi]
    pub const MAX_QUEUE: u32 = 3;
    /// Milliseconds; 0 or absent: none.
    #[napi]
    pub const TASK_TIMEOUT: u32 = 4;
    #[napi]
    pub const CONCURRENCY: u32 = 5;
    #[napi]
    pub const MAX_TASKS_PER_WORKER: u32 = 6;
    #[napi]
    pub const MAX_RSS_BYTES: u32 = 7;
    #[napi]
    pub const RETRIES: u32 = 8;
    /// Bytes of stderr kept per worker; absent: stderr is inherited.
    #[napi]
    pub const STDERR_TAIL: u32 = 9;
    /// 1: workers announce themselves (offload's preload for Node workers).
    #[napi]
    pub const WAIT_FOR_READY: u32 = 10;
    /// A `PoolSerialization` value.
    #[napi]
    pub const SERIALIZATION: u32 = 11;
    #[napi]
    pub const MAX_START_FAILURES: u32 = 12;
    #[napi]
    pub const START_BACKOFF_INITIAL: u32 = 13;
    #[napi]
    pub const START_BACKOFF_MAX: u32 = 14;
    /// The first of the six limits, packed as for `spawn` (`packLimits`).
    #[napi]
    pub const LIMITS: u32 = 15;
    #[napi]
    pub const LEN: u32 = LIMITS + super::super::spawn::limit_at::LEN;
}

/// Node's IPC serialization of a script pool's workers, by the names of the
/// `serialization` option. Exported to JS as `PoolSerialization`.
#[napi(js_name = "PoolSerialization")]
pub mod serialization {
    #[napi]
    pub const JSON: f64 = 0.0;
    #[napi]
    pub const ADVANCED: f64 = 1.0;
}

/// The pool's defaults that lib/pool.js documents and fills in. Exported to
/// JS as `PoolDefault`.
#[napi(js_name = "PoolDefault")]
pub mod defaults {
    use crate::pool::{Backoff, DEFAULT_MAX_START_FAILURES};

    #[napi]
    pub const MAX_START_FAILURES: u32 = DEFAULT_MAX_START_FAILURES;
    #[napi]
    pub const START_BACKOFF_INITIAL_MS: u32 = Backoff::DEFAULT.initial.as_millis() as u32;
    #[napi]
    pub const START_BACKOFF_MAX_MS: u32 = Backoff::DEFAULT.max.as_millis() as u32;
}

/// The layout of a `serve()` worker's task-channel frames (see
/// src/pool/task_frame.rs). Exported to JS as `TaskFrame`; lib/task-frame.js
/// runs in the worker, which does not load the addon, so it keeps a copy that
/// __test__/contracts.test.mjs holds to this one.
#[napi(js_name = "TaskFrame")]
pub mod task_frame_layout {
    use crate::pool::task_frame as frame;

    #[napi]
    pub const TASK: u32 = frame::TASK as u32;
    #[napi]
    pub const CANCEL: u32 = frame::CANCEL as u32;
    #[napi]
    pub const HELLO: u32 = frame::HELLO as u32;
    #[napi]
    pub const RESULT: u32 = frame::RESULT as u32;
    #[napi]
    pub const ERROR: u32 = frame::ERROR as u32;
    #[napi]
    pub const KIND_AT: u32 = frame::KIND_AT as u32;
    #[napi]
    pub const ID_AT: u32 = frame::ID_AT as u32;
    #[napi]
    pub const COUNT_AT: u32 = frame::COUNT_AT as u32;
    #[napi]
    pub const NAME_LEN_AT: u32 = frame::NAME_LEN_AT as u32;
    #[napi]
    pub const LENGTHS_AT: u32 = frame::LENGTHS_AT as u32;
}

/// The largest task id; lib/pool.js numbers tasks from 1 and, after this one,
/// starts again at 1 (the id is 4 bytes on the wire: `TaskId`).
#[napi]
pub const MAX_TASK_ID: u32 = crate::pool::TaskId::MAX;

/// How a task's or an answer's JSON text refers to its raw buffers
/// (`{"$offload:bytes":index}`); lib/codec.js keeps a copy for the worker
/// side, held to this one by __test__/contracts.test.mjs.
#[napi]
pub const BYTES_KEY: &str = crate::pool::task_frame::BYTES_KEY;

/// Starts a pool; its events arrive on `channel` tagged with `id`. Everything
/// here was checked by lib/pool.js. `program` is `[script, ...args]` for a
/// Node worker (then `exec_path` is given) or `[file, ...args]` for a command;
/// `env` absent means a copy of this process's environment.
#[napi]
#[allow(clippy::too_many_arguments)]
pub fn create_pool(
    channel: &EventChannel,
    id: u32,
    numbers: Float64ArraySlice<'_>,
    program: Vec<String>,
    exec_path: Option<String>,
    exec_argv: Option<Vec<String>>,
    env: Option<Vec<String>>,
    cwd: Option<String>,
) -> NativePool {
    debug_assert!(numbers.len() == slot::LEN as usize && !program.is_empty());
    let numbers = &numbers[..];
    // A whole number lib/pool.js checked, or `None` when not given.
    let number = |at: u32| whole(numbers[at as usize]).map(|n| n as f64);
    let mut program = program.into_iter();
    let first = program.next().unwrap_or_default();
    let program = match exec_path {
        Some(exec_path) => Program::Node {
            script: first,
            args: program.collect(),
            exec_path,
            exec_argv: exec_argv.unwrap_or_default(),
        },
        None => Program::Command {
            file: first,
            args: program.collect(),
        },
    };
    let size = number(slot::SIZE).unwrap_or(1.0) as usize;
    let mut config = PoolConfig::new(program, size);
    config.serialization = match numbers[slot::SERIALIZATION as usize] {
        serialization::ADVANCED => Serialization::Advanced,
        _ => Serialization::Json,
    };
    config.min_size = number(slot::MIN_SIZE).map_or(size, |n| n as usize);
    debug_assert!(config.min_size <= size, "lib/pool.js checks it");
    config.idle_timeout = number(slot::IDLE_TIMEOUT).map(millis);
    config.max_queue = number(slot::MAX_QUEUE).map(|n| n as usize);
    // As Node's `timeout: 0`: no timeout.
    config.task_timeout = number(slot::TASK_TIMEOUT)
        .filter(|&ms| ms > 0.0)
        .map(millis);
    config.concurrency = number(slot::CONCURRENCY).map_or(1, |n| n as usize);
    config.max_tasks_per_worker = number(slot::MAX_TASKS_PER_WORKER).map(|n| n as u64);
    config.max_rss_bytes = number(slot::MAX_RSS_BYTES).map(|n| n as u64);
    config.retries = number(slot::RETRIES).map_or(0, |n| n as u32);
    config.env = env.map_or_else(current_env, Arc::new);
    config.cwd = cwd;
    config.limits = limits_from(&numbers[slot::LIMITS as usize..slot::LEN as usize]);
    config.wait_for_ready = number(slot::WAIT_FOR_READY) == Some(1.0);
    if let Some(n) = number(slot::MAX_START_FAILURES) {
        config.max_start_failures = n as u32;
    }
    debug_assert!(config.concurrency >= 1 && config.max_start_failures >= 1);
    debug_assert!(config.max_tasks_per_worker != Some(0));
    if let Some(ms) = number(slot::START_BACKOFF_INITIAL) {
        config.start_backoff.initial = millis(ms);
    }
    if let Some(ms) = number(slot::START_BACKOFF_MAX) {
        config.start_backoff.max = millis(ms);
    }
    config.stderr = match number(slot::STDERR_TAIL) {
        Some(n) => StderrMode::Tail(n as usize),
        None => StderrMode::Inherit,
    };
    let sink = Arc::new(PoolJsSink {
        id,
        tsfn: channel.tsfn.clone(),
        outbox: Arc::default(),
        on_js_thread: AtomicBool::new(false),
    });
    let delivery = Arc::new(Delivery {
        env: channel.env,
        callback: channel.callback,
        context: channel.context,
        pool: id,
        sink: sink.clone(),
    });
    NativePool {
        pool: Pool::start(config, sink),
        delivery,
    }
}

#[napi(object)]
pub struct JsPercentiles {
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub max: f64,
}

impl From<Percentiles> for JsPercentiles {
    fn from(p: Percentiles) -> Self {
        JsPercentiles {
            p50: p.p50,
            p90: p.p90,
            p99: p.p99,
            max: p.max,
        }
    }
}

#[napi(object)]
pub struct JsPoolStats {
    pub size: u32,
    pub busy: u32,
    pub idle: u32,
    /// Launched, not ready yet.
    pub starting: u32,
    pub queued: u32,
    pub completed: f64,
    pub failed: f64,
    pub crashed: f64,
    pub restarted: f64,
    /// Milliseconds.
    pub run_time: JsPercentiles,
    /// Milliseconds.
    pub wait_time: JsPercentiles,
    pub start_failures: u32,
    /// Refusing tasks: workers fail to start and none is ready.
    pub broken: bool,
    /// When (epoch milliseconds) the pool may start a worker again; `null`
    /// unless it waits after failed starts.
    pub next_start_at: Option<f64>,
}

#[napi]
pub struct NativePool {
    pool: Pool,
    delivery: Arc<Delivery>,
}

// SAFETY: the raw napi handles in `Delivery` are only used on the JS thread
// (from `watch_channels`, called by this object's methods, and from libuv
// callbacks on that thread's loop).
unsafe impl Send for Delivery {}
unsafe impl Sync for Delivery {}

#[napi]
impl NativePool {
    /// Queues a task (its JSON text, in which each of `buffers` appears as
    /// `{"$offload:bytes":index}`). `timeout_ms`: absent, the pool's
    /// `taskTimeout`; 0, none for this task (as Node's `timeout: 0`). A pool
    /// that has ended refuses it with `ERR_OFFLOAD_POOL_CLOSED`.
    #[napi]
    pub fn run(
        &self,
        task_id: u32,
        payload: String,
        timeout_ms: Option<f64>,
        handler: Option<String>,
        buffers: Option<Vec<Uint8Array>>,
    ) {
        let options = RunOptions {
            buffers: buffers
                .unwrap_or_default()
                .iter()
                .map(|b| Arc::from(&b[..]))
                .collect(),
            handler,
            timeout: match timeout_ms {
                None => TaskTimeout::Pool,
                Some(0.0) => TaskTimeout::Never,
                Some(ms) => TaskTimeout::After(millis(ms)),
            },
        };
        self.pool.run(task_id, payload.into_bytes(), options);
        self.watch_channels();
    }

    /// Queues tasks with no options, in order: `texts` is their JSON texts
    /// joined by newlines (JSON text has none of its own), and their ids are
    /// consecutive from `first_id` (after [`MAX_TASK_ID`] comes 1, as in
    /// lib/pool.js). One call for the tasks of a whole tick.
    #[napi]
    pub fn submit(&self, first_id: u32, texts: String) {
        let mut next = first_id;
        let tasks = texts.split('\n').map(|text| {
            let id = next;
            next = if id == MAX_TASK_ID { 1 } else { id + 1 };
            (id, text.as_bytes().to_vec())
        });
        self.pool.run_many(tasks);
        self.watch_channels();
    }

    /// Watches the task channels of workers started since the last call.
    fn watch_channels(&self) {
        for channel in self.pool.take_channels() {
            // SAFETY: napi methods run on the JS thread.
            unsafe { watch(channel, self.delivery.clone()) };
        }
    }

    #[napi]
    pub fn cancel(&self, task_id: u32) {
        self.pool.cancel(task_id);
    }

    #[napi]
    pub fn close(&self, timeout_ms: f64) {
        self.pool.close(millis(timeout_ms));
    }

    #[napi]
    pub fn destroy(&self) {
        self.pool.destroy();
    }

    #[napi]
    pub fn stats(&self) -> JsPoolStats {
        let s = self.pool.stats();
        JsPoolStats {
            size: s.size as u32,
            busy: s.busy as u32,
            idle: s.idle as u32,
            starting: s.starting as u32,
            queued: s.queued as u32,
            completed: s.completed as f64,
            failed: s.failed as f64,
            crashed: s.crashed as f64,
            restarted: s.restarted as f64,
            run_time: s.run_time.into(),
            wait_time: s.wait_time.into(),
            start_failures: s.start_failures,
            broken: s.broken,
            next_start_at: s.next_start_in.map(|d| {
                let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
                (now.unwrap_or_default() + d).as_millis() as f64
            }),
        }
    }
}
