//! `spawn` and the native child handle.

use std::sync::Arc;
use std::time::Duration;

use napi::bindgen_prelude::Buffer;
use napi::{Error, Status};
use napi_derive::napi;

use super::channel::{EventChannel, JsSink};
use crate::process::{self, current_env, ChildHandle, Input, Limits, Output, SpawnRequest, Stream};

/// One stdio slot, already validated by `lib/options.js`.
#[napi(object)]
pub struct NativeStdio {
    /// `pipe`, `ignore`, `fd`, `file`, `data` (stdin only) or `child` (stdin only:
    /// the stdout of the child passed as `stdinFrom`).
    pub kind: String,
    pub fd: Option<i32>,
    pub path: Option<String>,
    pub append: Option<bool>,
    pub data: Option<Buffer>,
}

#[napi(object)]
pub struct NativeLimits {
    pub memory_bytes: Option<f64>,
    pub cpu_seconds: Option<f64>,
    pub open_files: Option<f64>,
    pub processes: Option<f64>,
    pub file_size_bytes: Option<f64>,
    pub nice: Option<i32>,
}

#[napi(object)]
pub struct NativeSpawnOptions {
    pub argv0: Option<String>,
    pub cwd: Option<String>,
    /// `KEY=value` entries; absent means a copy of this process's environment.
    pub env: Option<Vec<String>>,
    pub stdin: Option<NativeStdio>,
    pub stdout: Option<NativeStdio>,
    pub stderr: Option<NativeStdio>,
    pub ipc: Option<bool>,
    pub detached: Option<bool>,
    pub kill_tree: Option<bool>,
    pub uid: Option<u32>,
    pub gid: Option<u32>,
    pub limits: Option<NativeLimits>,
    pub cleanup: Option<bool>,
    /// Milliseconds; 0 or absent: none.
    pub timeout: Option<f64>,
    pub kill_signal: Option<i32>,
    /// Milliseconds; negative: never.
    pub force_kill_after: Option<f64>,
    pub max_buffer: Option<f64>,
}

fn invalid(message: String) -> Error {
    Error::new(Status::InvalidArg, message)
}

fn no_nul(what: &str, value: &str) -> napi::Result<()> {
    if value.contains('\0') {
        return Err(invalid(format!("{what} must not contain null bytes")));
    }
    Ok(())
}

fn input(stdio: Option<NativeStdio>, from: Option<&NativeChild>) -> napi::Result<Input> {
    let Some(s) = stdio else {
        return Ok(Input::Pipe);
    };
    Ok(match s.kind.as_str() {
        "pipe" => Input::Pipe,
        "ignore" => Input::Ignore,
        "fd" => Input::Fd(s.fd.unwrap_or(0)),
        "file" => Input::File(s.path.unwrap_or_default()),
        "data" => Input::Data(s.data.map(|b| b.to_vec()).unwrap_or_default()),
        "child" => match from {
            Some(child) => Input::ChildStdout(child.handle.shared().clone()),
            None => return Err(invalid("stdin kind 'child' needs the source child".into())),
        },
        other => return Err(invalid(format!("unknown stdin kind '{other}'"))),
    })
}

fn output(stdio: Option<NativeStdio>, default_fd: i32) -> napi::Result<Output> {
    let Some(s) = stdio else {
        return Ok(Output::Pipe);
    };
    Ok(match s.kind.as_str() {
        "pipe" => Output::Pipe,
        "ignore" => Output::Ignore,
        "fd" => Output::Fd(s.fd.unwrap_or(default_fd)),
        "file" => Output::File {
            path: s.path.unwrap_or_default(),
            append: s.append.unwrap_or(false),
        },
        other => return Err(invalid(format!("unknown output kind '{other}'"))),
    })
}

fn limits(l: Option<NativeLimits>) -> Limits {
    let Some(l) = l else { return Limits::default() };
    let whole = |v: Option<f64>| v.map(|v| v.max(0.0) as u64);
    Limits {
        memory_bytes: whole(l.memory_bytes),
        cpu_seconds: whole(l.cpu_seconds),
        open_files: whole(l.open_files),
        processes: whole(l.processes),
        file_size_bytes: whole(l.file_size_bytes),
        nice: l.nice,
    }
}

fn millis(ms: f64) -> Duration {
    Duration::from_micros((ms * 1000.0) as u64)
}

/// Starts a child; its events arrive on `channel` tagged with `id`.
#[napi]
pub fn spawn(
    channel: &EventChannel,
    id: u32,
    file: String,
    args: Vec<String>,
    options: NativeSpawnOptions,
    stdin_from: Option<&NativeChild>,
) -> napi::Result<NativeChild> {
    no_nul("file", &file)?;
    for a in &args {
        no_nul("arguments", a)?;
    }
    let env = options.env.unwrap_or_else(current_env);
    for e in &env {
        no_nul("environment entries", e)?;
    }
    if let Some(cwd) = &options.cwd {
        no_nul("cwd", cwd)?;
    }
    if let Some(argv0) = &options.argv0 {
        no_nul("argv0", argv0)?;
    }
    let mut request = SpawnRequest::new(file, args);
    request.argv0 = options.argv0;
    request.cwd = options.cwd;
    request.env = env;
    request.stdin = input(options.stdin, stdin_from)?;
    request.stdout = output(options.stdout, 1)?;
    request.stderr = output(options.stderr, 2)?;
    request.ipc = options.ipc.unwrap_or(false);
    request.detached = options.detached.unwrap_or(false);
    request.kill_tree = options.kill_tree.unwrap_or(false);
    request.uid = options.uid;
    request.gid = options.gid;
    request.limits = limits(options.limits);
    request.cleanup = options.cleanup.unwrap_or(true);
    request.timeout = options.timeout.filter(|t| *t > 0.0).map(millis);
    if let Some(sig) = options.kill_signal {
        request.kill_signal = sig;
    }
    if let Some(after) = options.force_kill_after {
        request.force_kill_after = (after >= 0.0).then(|| millis(after));
    }
    if let Some(max) = options.max_buffer {
        request.max_buffer = max.max(0.0) as usize;
    }
    let sink = Arc::new(JsSink {
        id,
        tsfn: channel.tsfn.clone(),
    });
    Ok(NativeChild {
        handle: process::spawn(request, sink),
    })
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
}

#[napi]
impl NativeChild {
    /// Waits (tens of microseconds at most) for the spawner if the child is not
    /// launched yet; `null` if the launch failed.
    #[napi(getter)]
    pub fn pid(&self) -> Option<u32> {
        self.handle.pid()
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

    /// Sends one IPC frame; `false` when the channel is closed.
    #[napi]
    pub fn send(&self, id: u32, frame: String) -> bool {
        self.handle.send_message(id, frame.into_bytes())
    }

    #[napi]
    pub fn disconnect(&self) {
        self.handle.disconnect();
    }
}
