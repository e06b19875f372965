//! Engine events turned into the arguments of the JavaScript event callback:
//! `(childId, type, a, b)`. Plain numbers for the type keep the crossing cheap.

use napi::bindgen_prelude::{Buffer, ToNapiValue};
use napi::sys;
use napi_derive::napi;

use crate::pool::PoolEvent;
use crate::process::{ChildEvent, ExitInfo, Message, Outcome, SpawnFailure, Step};

/// One argument of the event callback.
pub enum Payload {
    Undefined,
    Null,
    Number(f64),
    Text(String),
    Bytes(Vec<u8>),
    Exit(JsExit),
    Closed(JsClosed),
    Error(JsSystemError),
    TaskFailure(JsTaskFailure),
    /// A `Uint32Array`.
    Ids(Vec<u32>),
    /// An array.
    List(Vec<Payload>),
}

impl ToNapiValue for Payload {
    unsafe fn to_napi_value(env: sys::napi_env, val: Self) -> napi::Result<sys::napi_value> {
        match val {
            Payload::Undefined => <()>::to_napi_value(env, ()),
            Payload::Null => {
                napi::bindgen_prelude::Null::to_napi_value(env, napi::bindgen_prelude::Null)
            }
            Payload::Number(n) => f64::to_napi_value(env, n),
            Payload::Text(s) => String::to_napi_value(env, s),
            Payload::Bytes(b) => Buffer::to_napi_value(env, Buffer::from(b)),
            Payload::Exit(e) => JsExit::to_napi_value(env, e),
            Payload::Closed(c) => JsClosed::to_napi_value(env, c),
            Payload::Error(e) => JsSystemError::to_napi_value(env, e),
            Payload::TaskFailure(f) => JsTaskFailure::to_napi_value(env, f),
            Payload::Ids(ids) => ids_to_napi(env, &ids),
            Payload::List(items) => {
                let mut array = std::ptr::null_mut();
                napi::check_status!(sys::napi_create_array_with_length(
                    env,
                    items.len(),
                    &mut array
                ))?;
                for (i, item) in items.into_iter().enumerate() {
                    let value = Payload::to_napi_value(env, item)?;
                    napi::check_status!(sys::napi_set_element(env, array, i as u32, value))?;
                }
                Ok(array)
            }
        }
    }
}

/// A `Uint32Array` over memory V8 allocates and frees itself: a few ids per
/// call are the usual case, where an external buffer's finalizer and memory
/// accounting would cost more than copying them.
unsafe fn ids_to_napi(env: sys::napi_env, ids: &[u32]) -> napi::Result<sys::napi_value> {
    let mut data = std::ptr::null_mut();
    let mut buffer = std::ptr::null_mut();
    napi::check_status!(sys::napi_create_arraybuffer(
        env,
        std::mem::size_of_val(ids),
        &mut data,
        &mut buffer
    ))?;
    if !ids.is_empty() {
        std::ptr::copy_nonoverlapping(ids.as_ptr(), data.cast::<u32>(), ids.len());
    }
    let mut array = std::ptr::null_mut();
    napi::check_status!(sys::napi_create_typedarray(
        env,
        sys::TypedarrayType::uint32_array,
        ids.len(),
        buffer,
        0,
        &mut array
    ))?;
    Ok(array)
}

#[napi(object)]
pub struct JsExit {
    pub code: Option<i32>,
    pub signal: Option<i32>,
    pub max_rss_bytes: f64,
    pub user_cpu_ms: f64,
    pub system_cpu_ms: f64,
    pub duration_ms: f64,
}

#[napi(object)]
pub struct JsClosed {
    pub stdout: Option<Buffer>,
    pub stderr: Option<Buffer>,
    pub timed_out: bool,
    pub canceled: bool,
    /// 1 for stdout, 2 for stderr, 0 when no output passed `maxBuffer`.
    pub max_buffer_exceeded: u32,
}

/// Why a pool task failed.
#[napi(object)]
pub struct JsTaskFailure {
    /// `ERR_OFFLOAD_WORKER_CRASHED`, `ERR_OFFLOAD_TIMEOUT`, …; none when the
    /// handler threw (`error_json`).
    pub code: Option<String>,
    pub message: String,
    pub exit_code: Option<i32>,
    pub signal: Option<i32>,
    pub stderr_tail: Option<Buffer>,
    /// The error a `serve()` handler threw, as JSON.
    pub error_json: Option<String>,
}

/// An OS error as its raw errno; `lib/errors.js` names and describes it with
/// Node's own table (`util.getSystemErrorMap`), so every errno gets the name
/// and text `fs` would give, not only the ones a table here would list.
#[napi(object)]
pub struct JsSystemError {
    /// Negative, like Node's `errno`; 0 for one of offload's own launch
    /// failures, which `message` then describes.
    pub errno: i32,
    pub message: String,
    /// Which part of the launch failed: `exec`, `cwd`, `stdio`, `limits`,
    /// `credentials`, `session`, `parentDeath`; empty for write errors.
    pub step: String,
    pub path: String,
}

pub fn system_error(error: &std::io::Error, step: &str, path: &str) -> JsSystemError {
    let (errno, message) = match crate::errno::node_errno(error) {
        Some(errno) => (errno, String::new()),
        None => (0, error.to_string()),
    };
    JsSystemError {
        errno,
        message,
        step: step.to_owned(),
        path: path.to_owned(),
    }
}

/// The names of the launch steps in [`JsSystemError::step`], exported to JS as
/// `LaunchStep`. lib/errors.js words a failure by them; it cannot load the addon
/// (the addon's loader uses it), so __test__/contracts.test.mjs holds the names
/// it uses to these.
#[napi(js_name = "LaunchStep")]
pub mod step {
    #[napi]
    pub const EXEC: &str = "exec";
    #[napi]
    pub const CWD: &str = "cwd";
    #[napi]
    pub const STDIO: &str = "stdio";
    #[napi]
    pub const LIMITS: &str = "limits";
    #[napi]
    pub const CREDENTIALS: &str = "credentials";
    #[napi]
    pub const SESSION: &str = "session";
    #[napi]
    pub const PARENT_DEATH: &str = "parentDeath";
}

fn step_name(s: Step) -> &'static str {
    match s {
        Step::Exec => step::EXEC,
        Step::Chdir => step::CWD,
        Step::Stdio => step::STDIO,
        Step::Limit => step::LIMITS,
        Step::Credentials => step::CREDENTIALS,
        Step::Session => step::SESSION,
        Step::ParentDeath => step::PARENT_DEATH,
    }
}

/// Event types, exported to JS as `EventKind` (lib/subprocess.js and lib/pool.js
/// switch on them).
#[napi(js_name = "EventKind")]
pub mod event_kind {
    #[napi]
    pub const SPAWNED: u32 = 0;
    #[napi]
    pub const SPAWN_FAILED: u32 = 1;
    #[napi]
    pub const OUTPUT: u32 = 2;
    #[napi]
    pub const OUTPUT_END: u32 = 3;
    #[napi]
    pub const MESSAGE: u32 = 4;
    #[napi]
    pub const DISCONNECT: u32 = 5;
    #[napi]
    pub const WRITE_DONE: u32 = 6;
    #[napi]
    pub const EXIT: u32 = 7;
    #[napi]
    pub const CLOSED: u32 = 8;
    #[napi]
    pub const OUTPUT_OVERFLOW: u32 = 9;
    #[napi]
    pub const TIMED_OUT: u32 = 10;
    #[napi]
    pub const TASK_OK: u32 = 20;
    #[napi]
    pub const TASK_FAILED: u32 = 21;
    #[napi]
    pub const WORKER_EXIT: u32 = 22;
    #[napi]
    pub const POOL_CLOSED: u32 = 23;
    #[napi]
    pub const POOL_ERROR: u32 = 24;
    /// Several pool events at once: see `encode_pool_batch` (src/js/payload.rs).
    #[napi]
    pub const POOL_BATCH: u32 = 25;
    /// Workers fail to start: `b` is the failure, as a task's.
    #[napi]
    pub const POOL_START_FAILED: u32 = 26;
}

fn exit(e: ExitInfo) -> JsExit {
    JsExit {
        code: e.code,
        signal: e.signal,
        max_rss_bytes: e.max_rss_bytes as f64,
        user_cpu_ms: e.user_cpu_ms,
        system_cpu_ms: e.system_cpu_ms,
        duration_ms: e.duration_ms,
    }
}

fn closed(o: Outcome) -> JsClosed {
    JsClosed {
        stdout: o.stdout.map(Buffer::from),
        stderr: o.stderr.map(Buffer::from),
        timed_out: o.timed_out,
        canceled: o.canceled,
        max_buffer_exceeded: o.max_buffer_exceeded.map_or(0, |s| s as u32),
    }
}

fn spawn_failed(f: SpawnFailure) -> JsSystemError {
    system_error(&f.error, step_name(f.step), &f.path)
}

/// `(type, a, b)` for one event.
pub fn encode(event: ChildEvent) -> (u32, Payload, Payload) {
    use Payload::*;
    match event {
        ChildEvent::Spawned { pid } => (event_kind::SPAWNED, Number(pid as f64), Undefined),
        ChildEvent::SpawnFailed(f) => (event_kind::SPAWN_FAILED, Error(spawn_failed(f)), Undefined),
        ChildEvent::Output { stream, data } => (
            event_kind::OUTPUT,
            Number(stream as u32 as f64),
            Bytes(data),
        ),
        ChildEvent::OutputEnd { stream } => (
            event_kind::OUTPUT_END,
            Number(stream as u32 as f64),
            Undefined,
        ),
        ChildEvent::OutputOverflow { stream, kept } => (
            event_kind::OUTPUT_OVERFLOW,
            Number(stream as u32 as f64),
            Number(kept as f64),
        ),
        ChildEvent::TimedOut => (event_kind::TIMED_OUT, Undefined, Undefined),
        ChildEvent::Message(Message::Json(text)) => (event_kind::MESSAGE, Text(text), Undefined),
        ChildEvent::Message(Message::Serialized(bytes)) => {
            (event_kind::MESSAGE, Bytes(bytes), Undefined)
        }
        ChildEvent::Disconnect => (event_kind::DISCONNECT, Undefined, Undefined),
        ChildEvent::WriteDone { id, error } => (
            event_kind::WRITE_DONE,
            Number(id as f64),
            error.map_or(Null, |e| Error(system_error(&e, "", ""))),
        ),
        ChildEvent::Exit(e) => (event_kind::EXIT, Exit(exit(e)), Undefined),
        ChildEvent::Closed(o) => (event_kind::CLOSED, Closed(closed(o)), Undefined),
    }
}

/// `(type, a, b)` for one pool event.
fn encode_pool(event: PoolEvent) -> (u32, Payload, Payload) {
    use Payload::*;
    match event {
        PoolEvent::TaskDone {
            id,
            result: Ok(answer),
        } => {
            // `[json, bytes, start, len, start, len, …]`: the buffers are
            // views of one allocation, made without a copy. A V8-serialized
            // answer is its bytes alone.
            let value = if answer.serialized {
                Bytes(answer.bytes.data)
            } else if answer.bytes.is_empty() {
                Text(answer.json)
            } else {
                let ranges = answer
                    .bytes
                    .ranges
                    .iter()
                    .flat_map(|&(start, len)| [Number(start as f64), Number(len as f64)]);
                let mut parts = vec![Text(answer.json), Undefined];
                parts.extend(ranges);
                parts[1] = Bytes(answer.bytes.data);
                List(parts)
            };
            (event_kind::TASK_OK, Number(id as f64), value)
        }
        PoolEvent::TaskDone { id, result: Err(f) } => {
            (event_kind::TASK_FAILED, Number(id as f64), task_failure(f))
        }
        PoolEvent::WorkerExit { pid, code, signal } => (
            event_kind::WORKER_EXIT,
            Number(pid as f64),
            Exit(JsExit {
                code,
                signal,
                max_rss_bytes: 0.0,
                user_cpu_ms: 0.0,
                system_cpu_ms: 0.0,
                duration_ms: 0.0,
            }),
        ),
        PoolEvent::Error { code, message } => {
            (event_kind::POOL_ERROR, Text(code.to_owned()), Text(message))
        }
        PoolEvent::StartFailed(f) => (event_kind::POOL_START_FAILED, Undefined, task_failure(f)),
        PoolEvent::Closed => (event_kind::POOL_CLOSED, Undefined, Undefined),
    }
}

fn task_failure(f: crate::pool::TaskFailure) -> Payload {
    Payload::TaskFailure(JsTaskFailure {
        code: f.kind.code().map(str::to_owned),
        message: f.message,
        exit_code: f.exit_code,
        signal: f.signal,
        stderr_tail: f.stderr_tail.map(Buffer::from),
        error_json: f.error_json,
    })
}

/// Many pool events in one call, so that 100k answers a second do not cost
/// 100k crossings into JavaScript. `a` is the ids of the plain answers (JSON
/// text, no buffers), `b` is `[texts, type, a, b, type, a, b, …]`: `texts` is
/// those answers as one JSON array (`[t1\n,t2\n,…]`; an answer's JSON holds
/// no raw newline, so the JS side can split it if one does not parse), then
/// every other event, in order, after them. A single event is sent as itself.
pub fn encode_pool_batch(mut events: Vec<PoolEvent>) -> (u32, Payload, Payload) {
    // Tasks awaited one by one: no arrays to build and take apart.
    if events.len() == 1 {
        return encode_pool(events.pop().expect("one event"));
    }
    let mut ids = Vec::new();
    let mut texts = String::from("[");
    let mut rest = vec![Payload::Undefined];
    for event in events {
        match event {
            PoolEvent::TaskDone {
                id,
                result: Ok(answer),
            } if answer.bytes.is_empty()
                && !answer.json.is_empty()
                && !answer.json.contains('\n') =>
            {
                if !ids.is_empty() {
                    texts.push_str("\n,");
                }
                texts.push_str(&answer.json);
                ids.push(id);
            }
            other => {
                let (kind, a, b) = encode_pool(other);
                rest.extend([Payload::Number(kind as f64), a, b]);
            }
        }
    }
    texts.push(']');
    rest[0] = Payload::Text(texts);
    (
        event_kind::POOL_BATCH,
        Payload::Ids(ids),
        Payload::List(rest),
    )
}
