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

/// Positions in the `settings` array of [`spawn`]. Options cross as one
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
    /// The first of the six limits, in the order of `limits_from`, up to `NICE`.
    #[napi]
    pub const MEMORY_BYTES: u32 = 15;
    #[napi]
    pub const NICE: u32 = 20;
    #[napi]
    pub const LEN: u32 = 21;
}

/// Stdio kinds in `settings`. Exported to JS as `StdioKind`.
#[napi(js_name = "StdioKind")]
pub mod kind {
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

/// Bits of `settings[FLAGS]`. Exported to JS as `SpawnFlag`.
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
/// In `extra_fds`, 0 to 2 come from `settings` and take only `IPC` (Node lets
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

/// `settings`, indexed by the `at` slots (u32, as JS sees them).
struct Settings<'a>(&'a [f64]);

impl std::ops::Index<u32> for Settings<'_> {
    type Output = f64;

    fn index(&self, at: u32) -> &f64 {
        &self.0[at as usize]
    }
}

pub(super) fn invalid(message: String) -> Error {
    Error::new(Status::InvalidArg, message)
}

pub(super) fn no_nul(what: &str, value: &str) -> napi::Result<()> {
    if value.contains('\0') {
        return Err(invalid(format!("{what} must not contain null bytes")));
    }
    Ok(())
}

/// A non-negative whole number, or `None` for the "absent" marker (-1).
fn whole(v: f64) -> Option<u64> {
    (v >= 0.0).then_some(v as u64)
}

/// Our own copy of a descriptor the caller passed for stdio.
fn dup(fd: f64) -> napi::Result<std::os::fd::OwnedFd> {
    duplicate_fd(fd as i32)
        .map_err(|e| invalid(format!("stdio file descriptor {fd} cannot be used: {e}")))
}

/// Limits from their packed form, six numbers in the order of `at::MEMORY_BYTES`
/// to `at::NICE` (-1: no limit; NaN: no nice). Pools send the same six.
pub(super) fn limits_from(packed: &[f64]) -> Limits {
    let [memory, cpu, files, processes, file_size, nice] = packed[..6] else {
        return Limits::default();
    };
    Limits {
        memory_bytes: whole(memory),
        cpu_seconds: whole(cpu),
        open_files: whole(files),
        processes: whole(processes),
        file_size_bytes: whole(file_size),
        nice: nice.is_finite().then_some(nice as i32),
    }
}

fn millis(ms: f64) -> Duration {
    Duration::from_micros((ms * 1000.0) as u64)
}

fn output(
    settings: &Settings,
    kind_at: u32,
    fd_at: u32,
    append_at: u32,
    path: Option<String>,
) -> napi::Result<Output> {
    Ok(match settings[kind_at] {
        kind::PIPE => Output::Pipe,
        kind::IGNORE => Output::Ignore,
        kind::FD => Output::Fd(dup(settings[fd_at])?),
        kind::FILE => Output::File {
            path: path.unwrap_or_default(),
            append: settings[append_at] != 0.0,
        },
        other => return Err(invalid(format!("unknown output kind {other}"))),
    })
}

/// Starts a child; its events arrive on `channel` tagged with `id`.
/// `env` absent means a copy of this process's environment.
#[napi]
#[allow(clippy::too_many_arguments)]
pub fn spawn(
    channel: &EventChannel,
    id: u32,
    file: String,
    args: Vec<String>,
    env: Option<Vec<String>>,
    settings: Float64ArraySlice<'_>,
    strings: Vec<Option<String>>,
    stdin_data: Option<Buffer>,
    stdin_from: Option<&NativeChild>,
    extra_fds: Option<Vec<i32>>,
) -> napi::Result<NativeChild> {
    if settings.len() < at::LEN as usize {
        return Err(invalid(format!("settings must have {} entries", at::LEN)));
    }
    let packed_limits = &settings[at::MEMORY_BYTES as usize..=at::NICE as usize];
    let settings = Settings(&settings);
    let mut strings = strings;
    strings.resize(text::LEN as usize, None);
    no_nul("file", &file)?;
    for a in &args {
        no_nul("arguments", a)?;
    }
    let env = match env {
        Some(entries) => {
            for e in &entries {
                no_nul("environment entries", e)?;
            }
            Arc::new(entries)
        }
        None => current_env(),
    };
    for s in strings.iter().flatten() {
        no_nul("paths", s)?;
    }
    let mut string = |at: u32| strings[at as usize].take();

    let mut request = SpawnRequest::new(file, args);
    request.cwd = string(text::CWD);
    request.argv0 = string(text::ARGV0);
    request.env = env;
    request.stdin = match settings[at::STDIN_KIND] {
        kind::PIPE => Input::Pipe,
        kind::IGNORE => Input::Ignore,
        kind::FD => Input::Fd(dup(settings[at::STDIN_FD])?),
        kind::FILE => Input::File(string(text::STDIN_PATH).unwrap_or_default()),
        kind::DATA => Input::Data(stdin_data.map(|b| b.to_vec()).unwrap_or_default()),
        kind::CHILD => match stdin_from {
            Some(child) => Input::ChildStdout(child.handle.shared().clone()),
            None => return Err(invalid("stdin from a child needs the source child".into())),
        },
        other => return Err(invalid(format!("unknown stdin kind {other}"))),
    };
    request.stdout = output(
        &settings,
        at::STDOUT_KIND,
        at::STDOUT_FD,
        at::STDOUT_APPEND,
        string(text::STDOUT_PATH),
    )?;
    request.stderr = output(
        &settings,
        at::STDERR_KIND,
        at::STDERR_FD,
        at::STDERR_APPEND,
        string(text::STDERR_PATH),
    )?;
    let flags = settings[at::FLAGS] as u32;
    request.ipc = (flags & flag::IPC != 0).then_some(if flags & flag::ADVANCED_IPC != 0 {
        Serialization::Advanced
    } else {
        Serialization::Json
    });
    request.detached = flags & flag::DETACHED != 0;
    request.kill_tree = flags & flag::KILL_TREE != 0;
    request.cleanup = flags & flag::NO_CLEANUP == 0;
    request.uid = whole(settings[at::UID]).map(|v| v as u32);
    request.gid = whole(settings[at::GID]).map(|v| v as u32);
    request.timeout = (settings[at::TIMEOUT] > 0.0).then(|| millis(settings[at::TIMEOUT]));
    request.kill_signal = settings[at::KILL_SIGNAL] as i32;
    request.force_kill_after =
        (settings[at::FORCE_KILL_AFTER] >= 0.0).then(|| millis(settings[at::FORCE_KILL_AFTER]));
    request.max_buffer = settings[at::MAX_BUFFER].max(0.0) as usize;
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
            _ if target < 3 => {
                return Err(invalid(format!(
                    "stdio[{target}] comes from the settings, not extra descriptors"
                )))
            }
            fd_entry::PIPE => {
                let fd = request.pipe_at(target).map_err(|e| {
                    Error::new(
                        Status::GenericFailure,
                        format!("cannot create a pipe for stdio[{target}]: {e}"),
                    )
                })?;
                pipe = Some(fd);
            }
            fd => {
                let copy = dup(fd as f64)?;
                request.inherit_fds.push((copy, target));
            }
        }
        ours.push(pipe);
    }
    Ok(ours)
}

fn stream(n: u32) -> napi::Result<Stream> {
    match n {
        1 => Ok(Stream::Stdout),
        2 => Ok(Stream::Stderr),
        _ => Err(invalid(format!("no output stream {n}"))),
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

    /// `true` if the signal was sent.
    #[napi]
    pub fn kill(&self, signal: i32) -> napi::Result<bool> {
        self.handle
            .kill(signal)
            .map_err(|e| Error::new(Status::GenericFailure, e.to_string()))
    }

    #[napi]
    pub fn cancel(&self) {
        self.handle.cancel();
    }

    #[napi]
    pub fn collect(&self, which: u32) -> napi::Result<()> {
        self.handle.collect(stream(which)?);
        Ok(())
    }

    #[napi]
    pub fn stream(&self, which: u32) -> napi::Result<()> {
        self.handle.stream(stream(which)?);
        Ok(())
    }

    #[napi]
    pub fn discard(&self, which: u32) -> napi::Result<()> {
        self.handle.discard(stream(which)?);
        Ok(())
    }

    #[napi]
    pub fn read(&self, which: u32) -> napi::Result<()> {
        self.handle.read(stream(which)?);
        Ok(())
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
