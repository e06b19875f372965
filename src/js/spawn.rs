//! `spawn` and the native child handle.

use std::os::fd::{IntoRawFd, OwnedFd};
use std::sync::Arc;
use std::time::Duration;

use napi::bindgen_prelude::{Buffer, Either, Float64ArraySlice};
use napi::{Error, Status};
use napi_derive::napi;

use super::channel::{EventChannel, JsSink};
use crate::process::{
    self, current_env, duplicate_fd, ChildHandle, Input, Limits, Output, Serialization,
    SpawnRequest, Stream,
};

/// Positions in the `numbers` array of [`spawn`]. Options cross as one
/// `Float64Array` (reused by the JS side) rather than an object, because reading
/// thirty object properties through napi costs more than the launch itself.
/// Exported to JS as `SpawnSlot` (lib/native-layout.js packs by these).
#[napi(js_name = "SpawnSlot")]
pub mod at {
    #[napi]
    pub const STDIN_KIND: u32 = 0;
    #[napi]
    pub const STDIN_FD: u32 = 1;
    #[napi]
    pub const STDOUT_KIND: u32 = 2;
    #[napi]
    pub const STDOUT_FD: u32 = 3;
    #[napi]
    pub const STDOUT_APPEND: u32 = 4;
    #[napi]
    pub const STDERR_KIND: u32 = 5;
    #[napi]
    pub const STDERR_FD: u32 = 6;
    #[napi]
    pub const STDERR_APPEND: u32 = 7;
    #[napi]
    pub const FLAGS: u32 = 8;
    #[napi]
    pub const UID: u32 = 9;
    #[napi]
    pub const GID: u32 = 10;
    #[napi]
    pub const TIMEOUT: u32 = 11;
    #[napi]
    pub const KILL_SIGNAL: u32 = 12;
    #[napi]
    pub const FORCE_KILL_AFTER: u32 = 13;
    #[napi]
    pub const MAX_BUFFER: u32 = 14;
    /// The first of the limits, laid out from here as `LimitSlot` says.
    #[napi]
    pub const MEMORY_BYTES: u32 = 15;
    #[napi]
    pub const NICE: u32 = MEMORY_BYTES + super::limit_at::NICE;
    #[napi]
    pub const LEN: u32 = MEMORY_BYTES + super::limit_at::LEN;
}

/// The limits in their packed form, by offset from where they start (`at::MEMORY_BYTES`
/// in `numbers`; 0 in a pool's `limits`). `NOT_SET` where there is no limit, NaN for
/// no `nice`. Exported to JS as `LimitSlot` (lib/native-layout.js's `packLimits`).
#[napi(js_name = "LimitSlot")]
pub mod limit_at {
    #[napi]
    pub const MEMORY_BYTES: u32 = 0;
    #[napi]
    pub const CPU_SECONDS: u32 = 1;
    #[napi]
    pub const OPEN_FILES: u32 = 2;
    #[napi]
    pub const PROCESSES: u32 = 3;
    #[napi]
    pub const FILE_SIZE_BYTES: u32 = 4;
    #[napi]
    pub const NICE: u32 = 5;
    #[napi]
    pub const LEN: u32 = 6;
}

/// An optional whole number of `numbers` (or of the packed limits) that is absent.
#[napi]
pub const NOT_SET: f64 = -1.0;

/// Which output a `NativeChild` method means, and which an `OUTPUT` event is of:
/// the child's descriptor. Exported to JS as `OutputStream`.
#[napi(js_name = "OutputStream")]
pub mod output_stream {
    use crate::process::Stream;

    #[napi]
    pub const STDOUT: u32 = Stream::Stdout as u32;
    #[napi]
    pub const STDERR: u32 = Stream::Stderr as u32;
}

/// Stdio kinds in `numbers`. Exported to JS as `StdioKind`.
#[napi(js_name = "StdioKind")]
pub mod stdio_kind {
    #[napi]
    pub const PIPE: f64 = 0.0;
    #[napi]
    pub const IGNORE: f64 = 1.0;
    #[napi]
    pub const FD: f64 = 2.0;
    #[napi]
    pub const FILE: f64 = 3.0;
    #[napi]
    pub const DATA: f64 = 4.0;
    #[napi]
    pub const CHILD: f64 = 5.0;
}

/// Bits of `numbers[FLAGS]`. Exported to JS as `SpawnFlag`.
#[napi(js_name = "SpawnFlag")]
pub mod flag {
    #[napi]
    pub const IPC: u32 = 1;
    #[napi]
    pub const DETACHED: u32 = 2;
    #[napi]
    pub const KILL_TREE: u32 = 4;
    #[napi]
    pub const NO_CLEANUP: u32 = 8;
    #[napi]
    pub const LIMIT_STREAMED_OUTPUT: u32 = 16;
    /// The IPC channel speaks Node's `advanced` serialization.
    #[napi]
    pub const ADVANCED_IPC: u32 = 32;
}

/// What the child gets at one descriptor, in the `extra_fds` array of [`spawn`]
/// (descriptor 0, 1, 2, 3, …: Node's `stdio` array) and the `stdio` array of
/// `spawnSync`, besides a number of ours (0 or more), which the child inherits.
/// In `extra_fds`, 0 to 2 come from `numbers` and take only `IPC` (Node lets
/// the channel be anywhere) or `NONE`; in `spawnSync`'s, `NONE` there is
/// `/dev/null`. Exported to JS as `FdEntry`.
#[napi(js_name = "FdEntry")]
pub mod fd_entry {
    #[napi]
    pub const NONE: i32 = -1;
    #[napi]
    pub const PIPE: i32 = -2;
    #[napi]
    pub const IPC: i32 = -3;
}

/// Positions in the `strings` array of [`spawn`]; absent entries are `undefined`.
/// Exported to JS as `SpawnText`.
#[napi(js_name = "SpawnText")]
pub mod text {
    #[napi]
    pub const CWD: u32 = 0;
    #[napi]
    pub const ARGV0: u32 = 1;
    #[napi]
    pub const STDIN_PATH: u32 = 2;
    #[napi]
    pub const STDOUT_PATH: u32 = 3;
    #[napi]
    pub const STDERR_PATH: u32 = 4;
    #[napi]
    pub const LEN: u32 = 5;
}

/// Where a forked Node child finds its IPC channel unless `fd_entry::IPC`
/// puts it elsewhere (`NODE_CHANNEL_FD`).
#[napi]
pub const IPC_FD: i32 = process::NODE_IPC_FD;

/// The engine's defaults for what the JS API's options leave out (lib/options.js).
#[napi(js_name = "SpawnDefault")]
pub mod defaults {
    use crate::process::{DEFAULT_FORCE_KILL_AFTER, DEFAULT_KILL_SIGNAL, DEFAULT_MAX_BUFFER};

    #[napi]
    pub const KILL_SIGNAL: i32 = DEFAULT_KILL_SIGNAL;
    #[napi]
    pub const FORCE_KILL_AFTER_MS: u32 = DEFAULT_FORCE_KILL_AFTER.as_millis() as u32;
    #[napi]
    pub const MAX_BUFFER: f64 = DEFAULT_MAX_BUFFER as f64;
}

/// `numbers`, indexed by the `at` slots (u32, as JS sees them).
struct Numbers<'a>(&'a [f64]);

impl std::ops::Index<u32> for Numbers<'_> {
    type Output = f64;

    fn index(&self, at: u32) -> &f64 {
        &self.0[at as usize]
    }
}

fn invalid(message: String) -> Error {
    Error::new(Status::InvalidArg, message)
}

/// lib/ refuses a NUL byte in anything that becomes a C string (`checkString`,
/// `validateNoNull`), on every path to [`spawn`] and `spawnSync`; this only
/// checks that it did, in debug builds.
pub(super) fn debug_assert_no_nul<'a>(texts: impl IntoIterator<Item = &'a str>) {
    debug_assert!(
        texts.into_iter().all(|text| !text.contains('\0')),
        "lib/ let a NUL byte through to the native spawn"
    );
}

/// An optional whole number of a packed array (spawn's, a pool's): `None` for
/// [`NOT_SET`]. lib/ sends nothing else that is not a whole number ≥ 0; were a
/// bug to send another negative, it too means "not given", never 0 (a uid of
/// 0 is root).
pub(super) fn whole(v: f64) -> Option<u64> {
    debug_assert!(
        v == NOT_SET || (v >= 0.0 && v.fract() == 0.0),
        "not a whole number: {v}"
    );
    (v >= 0.0).then_some(v as u64)
}

/// Our own copy of a descriptor the caller passed for stdio. The one check JS
/// cannot make: whether the descriptor is open now.
fn dup(fd: f64) -> napi::Result<std::os::fd::OwnedFd> {
    duplicate_fd(fd as i32)
        .map_err(|e| invalid(format!("stdio file descriptor {fd} cannot be used: {e}")))
}

/// Limits from their packed form (`limit_at`). Pools send the same numbers.
pub(super) fn limits_from(packed: &[f64]) -> Limits {
    debug_assert_eq!(packed.len(), limit_at::LEN as usize);
    let at = |offset: u32| packed[offset as usize];
    let nice = at(limit_at::NICE);
    Limits {
        memory_bytes: whole(at(limit_at::MEMORY_BYTES)),
        cpu_seconds: whole(at(limit_at::CPU_SECONDS)),
        open_files: whole(at(limit_at::OPEN_FILES)),
        processes: whole(at(limit_at::PROCESSES)),
        file_size_bytes: whole(at(limit_at::FILE_SIZE_BYTES)),
        nice: (!nice.is_nan()).then_some(nice as i32),
    }
}

/// Milliseconds as lib/ sends them (checked ≥ 0), as a `Duration`.
pub(super) fn millis(ms: f64) -> Duration {
    debug_assert!(ms >= 0.0, "lib/ checks it: {ms}");
    Duration::from_micros((ms * 1000.0) as u64)
}

fn output(
    numbers: &Numbers,
    kind_at: u32,
    fd_at: u32,
    append_at: u32,
    path: Option<String>,
) -> napi::Result<Output> {
    Ok(match numbers[kind_at] {
        stdio_kind::PIPE => Output::Pipe,
        stdio_kind::IGNORE => Output::Ignore,
        stdio_kind::FD => Output::Fd(dup(numbers[fd_at])?),
        file => {
            debug_assert_eq!(file, stdio_kind::FILE, "not an output kind");
            Output::File {
                path: path.unwrap_or_default(),
                append: numbers[append_at] != 0.0,
            }
        }
    })
}

/// Starts a child; its events arrive on `channel` tagged with `id`.
/// `env` absent means a copy of this process's environment. Every value was
/// checked by lib/ (lib/options.js, lib/child_process/); the only failures left
/// are the system's: a stdio descriptor that is not open, no pipe to be had.
#[napi]
#[allow(clippy::too_many_arguments)]
pub fn spawn(
    channel: &EventChannel,
    id: u32,
    file: String,
    args: Vec<String>,
    env: Option<Vec<String>>,
    numbers: Float64ArraySlice<'_>,
    strings: Vec<Option<String>>,
    stdin_data: Option<Buffer>,
    stdin_from: Option<&NativeChild>,
    extra_fds: Option<Vec<i32>>,
) -> napi::Result<NativeChild> {
    debug_assert_eq!(numbers.len(), at::LEN as usize);
    debug_assert_eq!(strings.len(), text::LEN as usize);
    debug_assert_no_nul(
        std::iter::once(file.as_str())
            .chain(args.iter().map(String::as_str))
            .chain(env.iter().flatten().map(String::as_str))
            .chain(strings.iter().flatten().map(String::as_str)),
    );
    let packed_limits = &numbers[at::MEMORY_BYTES as usize..at::LEN as usize];
    let numbers = Numbers(&numbers);
    let mut strings = strings;
    let mut string = |at: u32| strings[at as usize].take();

    let mut request = SpawnRequest::new(file, args);
    request.cwd = string(text::CWD);
    request.argv0 = string(text::ARGV0);
    request.env = env.map_or_else(current_env, Arc::new);
    let stdin_kind = numbers[at::STDIN_KIND];
    request.stdin = match stdin_from {
        Some(child) => {
            debug_assert_eq!(stdin_kind, stdio_kind::CHILD);
            Input::ChildStdout(child.handle.shared().clone())
        }
        None => match stdin_kind {
            stdio_kind::PIPE => Input::Pipe,
            stdio_kind::IGNORE => Input::Ignore,
            stdio_kind::FD => Input::Fd(dup(numbers[at::STDIN_FD])?),
            stdio_kind::FILE => Input::File(string(text::STDIN_PATH).unwrap_or_default()),
            data => {
                debug_assert_eq!(
                    data,
                    stdio_kind::DATA,
                    "not a stdin kind without a source child"
                );
                Input::Data(stdin_data.map(|b| b.to_vec()).unwrap_or_default())
            }
        },
    };
    request.stdout = output(
        &numbers,
        at::STDOUT_KIND,
        at::STDOUT_FD,
        at::STDOUT_APPEND,
        string(text::STDOUT_PATH),
    )?;
    request.stderr = output(
        &numbers,
        at::STDERR_KIND,
        at::STDERR_FD,
        at::STDERR_APPEND,
        string(text::STDERR_PATH),
    )?;
    let flags = numbers[at::FLAGS] as u32;
    request.ipc = (flags & flag::IPC != 0).then_some(if flags & flag::ADVANCED_IPC != 0 {
        Serialization::Advanced
    } else {
        Serialization::Json
    });
    request.detached = flags & flag::DETACHED != 0;
    request.kill_tree = flags & flag::KILL_TREE != 0;
    request.cleanup = flags & flag::NO_CLEANUP == 0;
    request.uid = whole(numbers[at::UID]).map(|v| v as u32);
    request.gid = whole(numbers[at::GID]).map(|v| v as u32);
    // 0 is no timeout, as in Node.
    request.timeout = (numbers[at::TIMEOUT] > 0.0).then(|| millis(numbers[at::TIMEOUT]));
    request.kill_signal = numbers[at::KILL_SIGNAL] as i32;
    request.force_kill_after =
        (numbers[at::FORCE_KILL_AFTER] != NOT_SET).then(|| millis(numbers[at::FORCE_KILL_AFTER]));
    debug_assert!(numbers[at::MAX_BUFFER] >= 0.0);
    request.max_buffer = numbers[at::MAX_BUFFER] as usize;
    request.limit_streamed_output = flags & flag::LIMIT_STREAMED_OUTPUT != 0;
    request.limits = limits_from(packed_limits);
    let pipes = match extra_fds {
        Some(entries) => extra_descriptors(&mut request, &entries)?,
        None => Vec::new(),
    };
    let sink = Arc::new(JsSink {
        id,
        tsfn: channel.tsfn.clone(),
    });
    // Fails only for a source child whose stdout was not reserved, which
    // Subprocess#_handOverStdout does before it passes the source.
    let handle = process::spawn(request, sink).map_err(|e| invalid(e.to_string()))?;
    // Ours are handed to JavaScript only now: on an error above they are closed.
    let pipes = pipes
        .into_iter()
        .map(|fd| fd.map_or(fd_entry::NONE, IntoRawFd::into_raw_fd))
        .collect();
    Ok(NativeChild { handle, pipes })
}

/// Puts Node's `stdio` entries beyond stderr, and the IPC channel's place,
/// into `request`. Returns our ends of the pipes, one entry per child
/// descriptor, for JavaScript (it wraps them in sockets).
fn extra_descriptors(
    request: &mut SpawnRequest,
    entries: &[i32],
) -> napi::Result<Vec<Option<OwnedFd>>> {
    let mut ours = Vec::with_capacity(entries.len());
    for (i, &entry) in entries.iter().enumerate() {
        let target = i as i32;
        let mut pipe = None;
        match entry {
            fd_entry::NONE => {}
            fd_entry::IPC => request.ipc_fd = target,
            fd_entry::PIPE => {
                debug_assert!(target > 2, "stdio[{target}] comes from `numbers`");
                let fd = request.pipe_at(target).map_err(|e| {
                    Error::new(
                        Status::GenericFailure,
                        format!("cannot create a pipe for stdio[{target}]: {e}"),
                    )
                })?;
                pipe = Some(fd);
            }
            fd => {
                debug_assert!(target > 2, "stdio[{target}] comes from `numbers`");
                let copy = dup(fd as f64)?;
                request.inherit_fds.push((copy, target));
            }
        }
        ours.push(pipe);
    }
    Ok(ours)
}

/// The output an `OutputStream` number means.
fn stream(n: u32) -> Stream {
    debug_assert!(n == output_stream::STDOUT || n == output_stream::STDERR);
    if n == output_stream::STDERR {
        Stream::Stderr
    } else {
        Stream::Stdout
    }
}

/// The JS side's handle on one child. Every method returns at once.
#[napi]
pub struct NativeChild {
    handle: ChildHandle,
    pipes: Vec<i32>,
}

#[napi]
impl NativeChild {
    /// Our ends of the pipes, by the child's descriptor (-1 where there is
    /// none), now the caller's to close.
    #[napi(getter)]
    pub fn extra_pipes(&self) -> Vec<i32> {
        self.pipes.clone()
    }

    /// Waits (tens of microseconds at most) for the spawner if the child is not
    /// launched yet; `null` if the launch failed.
    #[napi(getter)]
    pub fn pid(&self) -> Option<u32> {
        self.handle.pid()
    }

    /// Promises stdout to the next stage of a pipeline; `false` if it is
    /// already being read or collected.
    #[napi]
    pub fn reserve_stdout(&self) -> bool {
        self.handle.reserve_stdout()
    }

    /// 1 if the signal was sent, 0 if there is no child to signal any more,
    /// else Node's (negative) errno of the OS's refusal (`EPERM`), which lib/
    /// makes the `kill EPERM` error of.
    #[napi]
    pub fn kill(&self, signal: i32) -> i32 {
        match self.handle.kill(signal) {
            Ok(sent) => i32::from(sent),
            Err(e) => -crate::errno::os_errno(&e),
        }
    }

    #[napi]
    pub fn cancel(&self) {
        self.handle.cancel();
    }

    #[napi]
    pub fn collect(&self, which: u32) {
        self.handle.collect(stream(which));
    }

    #[napi]
    pub fn stream(&self, which: u32) {
        self.handle.stream(stream(which));
    }

    #[napi]
    pub fn discard(&self, which: u32) {
        self.handle.discard(stream(which));
    }

    #[napi]
    pub fn read(&self, which: u32) {
        self.handle.read(stream(which));
    }

    /// `false` when stdin is already closed.
    #[napi]
    pub fn write(&self, id: u32, data: Buffer) -> bool {
        self.handle.write_stdin(id, data.to_vec())
    }

    #[napi]
    pub fn end(&self) {
        self.handle.end_stdin();
    }

    /// Sends one IPC frame (JSON text, or an `advanced` frame's bytes);
    /// `false` when the channel is closed.
    #[napi]
    pub fn send(&self, id: u32, frame: Either<String, Buffer>) -> bool {
        let bytes = match frame {
            Either::A(text) => text.into_bytes(),
            Either::B(bytes) => bytes.to_vec(),
        };
        self.handle.send_message(id, bytes)
    }

    #[napi]
    pub fn disconnect(&self) {
        self.handle.disconnect();
    }
}
