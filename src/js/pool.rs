//! `createPool` and the native pool handle.

use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

use napi::bindgen_prelude::Uint8Array;
use napi::{Error, Status};
use napi_derive::napi;

use super::channel::{EventChannel, PoolJsSink};
use super::spawn::limits_from;
use super::watch::{watch, Delivery};
use crate::pool::{
    Backoff, Percentiles, Pool, PoolConfig, Program, RunOptions, StderrMode, READY_MESSAGE,
};
use crate::process::{current_env, Serialization};

/// What a Node worker sends when it can take tasks (lib/worker-ready.js sends
/// it; a worker does not load the addon, so the contract test holds the two
/// together).
#[napi]
pub const WORKER_READY_MESSAGE: &str = READY_MESSAGE;

/// Validated by `lib/pool.js`.
#[napi(object)]
pub struct NativePoolOptions {
    /// A Node module (with `execPath`, `execArgv`, `args`), or else `command`.
    pub script: Option<String>,
    pub args: Option<Vec<String>>,
    pub exec_path: Option<String>,
    pub exec_argv: Option<Vec<String>>,
    /// `[file, ...args]` of a JSON-lines worker.
    pub command: Option<Vec<String>>,
    pub size: u32,
    pub min_size: Option<u32>,
    /// Milliseconds.
    pub idle_timeout: Option<f64>,
    pub max_queue: Option<u32>,
    /// Milliseconds.
    pub task_timeout: Option<f64>,
    /// Tasks a `serve()` worker runs at once.
    pub concurrency: Option<u32>,
    pub max_tasks_per_worker: Option<f64>,
    pub max_rss_bytes: Option<f64>,
    pub retries: Option<u32>,
    /// `KEY=value` entries; absent: this process's environment.
    pub env: Option<Vec<String>>,
    pub cwd: Option<String>,
    /// Bytes of stderr kept per worker; absent: stderr is inherited.
    pub stderr_tail: Option<u32>,
    /// Packed as for `spawn` (see `lib/native-layout.js`).
    pub limits: Option<Vec<f64>>,
    /// Workers announce themselves (offload's preload for Node workers).
    pub wait_for_ready: Option<bool>,
    /// Node's IPC serialization for a script's workers: `json` or `advanced`.
    pub serialization: Option<String>,
    pub max_start_failures: Option<u32>,
    /// Milliseconds.
    pub start_backoff_initial: Option<f64>,
    /// Milliseconds.
    pub start_backoff_max: Option<f64>,
}

fn invalid(message: impl Into<String>) -> Error {
    Error::new(Status::InvalidArg, message.into())
}

fn millis(ms: f64) -> Duration {
    Duration::from_micros((ms.max(0.0) * 1000.0) as u64)
}

/// Starts a pool; its events arrive on `channel` tagged with `id`.
#[napi]
pub fn create_pool(
    channel: &EventChannel,
    id: u32,
    options: NativePoolOptions,
) -> napi::Result<NativePool> {
    let program = match (options.script, options.command) {
        (Some(script), None) => Program::Node {
            script,
            args: options.args.unwrap_or_default(),
            exec_path: options
                .exec_path
                .ok_or_else(|| invalid("execPath is required with script"))?,
            exec_argv: options.exec_argv.unwrap_or_default(),
        },
        (None, Some(command)) => {
            let mut parts = command.into_iter();
            let file = parts
                .next()
                .ok_or_else(|| invalid("command must name a program"))?;
            Program::Command {
                file,
                args: parts.collect(),
            }
        }
        _ => return Err(invalid("give exactly one of script and command")),
    };
    let mut config = PoolConfig::new(program, options.size as usize);
    config.serialization = match options.serialization.as_deref() {
        None | Some("json") => Serialization::Json,
        Some("advanced") => Serialization::Advanced,
        Some(other) => return Err(invalid(format!("unknown serialization {other}"))),
    };
    config.max_queue = options.max_queue.map(|m| m as usize);
    config.min_size = options
        .min_size
        .map_or(config.size, |m| (m as usize).min(config.size));
    config.idle_timeout = options.idle_timeout.map(millis);
    config.task_timeout = options.task_timeout.filter(|t| *t > 0.0).map(millis);
    config.concurrency = options.concurrency.unwrap_or(1).max(1) as usize;
    config.max_tasks_per_worker = options.max_tasks_per_worker.map(|n| n.max(1.0) as u64);
    config.max_rss_bytes = options.max_rss_bytes.map(|n| n.max(0.0) as u64);
    config.retries = options.retries.unwrap_or(0);
    config.env = options.env.map_or_else(current_env, Arc::new);
    config.cwd = options.cwd;
    if let Some(packed) = options.limits {
        if packed.len() != 6 {
            return Err(invalid("limits must be six packed numbers"));
        }
        config.limits = limits_from(&packed);
    }
    config.wait_for_ready = options.wait_for_ready.unwrap_or(false);
    if let Some(n) = options.max_start_failures {
        config.max_start_failures = n.max(1);
    }
    let defaults = Backoff::default();
    config.start_backoff = Backoff {
        initial: options
            .start_backoff_initial
            .map_or(defaults.initial, millis),
        max: options.start_backoff_max.map_or(defaults.max, millis),
    };
    config.stderr = match options.stderr_tail {
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
    Ok(NativePool {
        pool: Pool::start(config, sink),
        delivery,
    })
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
    /// `{"$offload:bytes":index}`). A pool that has ended refuses it with
    /// `ERR_OFFLOAD_POOL_CLOSED`.
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
            timeout: timeout_ms.filter(|t| *t > 0.0).map(millis),
        };
        self.pool.run(task_id as u64, payload.into_bytes(), options);
        self.watch_channels();
    }

    /// Queues tasks with no options, in order: `texts` is their JSON texts
    /// joined by newlines (JSON text has none of its own), and their ids are
    /// consecutive from `first_id` (after `u32::MAX` comes 1, as in
    /// lib/pool.js). One call for the tasks of a whole tick.
    #[napi]
    pub fn submit(&self, first_id: u32, texts: String) {
        let mut next = first_id;
        let tasks = texts.split('\n').map(|text| {
            let id = next;
            next = if id == u32::MAX { 1 } else { id + 1 };
            (id as u64, text.as_bytes().to_vec())
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
        self.pool.cancel(task_id as u64);
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
