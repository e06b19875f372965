//! `spawnSync`: one blocking run of a child, for `offload/child_process`'s
//! `spawnSync`, `execFileSync` and `execSync`. The JS thread waits here for the
//! child's whole run, as it does in Node's.

use std::sync::Arc;
use std::time::Duration;

use napi::bindgen_prelude::Buffer;
use napi_derive::napi;

use super::spawn::{debug_assert_no_nul, fd_entry};
use crate::process::{current_env, duplicate_fd, run_to_completion, Input, Output, SpawnRequest};

#[napi(object)]
pub struct NativeSyncOptions {
    pub file: String,
    /// The arguments after `argv[0]`.
    pub args: Vec<String>,
    pub argv0: Option<String>,
    pub cwd: Option<String>,
    /// `KEY=value` entries; absent: this process's environment.
    pub env: Option<Vec<String>>,
    /// One entry per descriptor of the child, from 0: `fd_entry::PIPE` (stdin
    /// gets `input`; the others are collected), `fd_entry::NONE` (`/dev/null`
    /// for 0 to 2), or a descriptor of this process for the child to share.
    pub stdio: Vec<i32>,
    pub input: Option<Buffer>,
    pub detached: bool,
    pub uid: Option<u32>,
    pub gid: Option<u32>,
    /// Milliseconds; absent or 0: none.
    pub timeout: Option<f64>,
    pub kill_signal: i32,
    /// Bytes of all pipes together; 0 or `Infinity`: no limit.
    pub max_buffer: f64,
}

#[napi(object)]
pub struct NativeSyncResult {
    /// 0 when the launch failed.
    pub pid: u32,
    /// The run's error as a negative errno, as Node's `spawnSync` gives it.
    pub error: Option<i32>,
    pub status: Option<i32>,
    pub signal: Option<i32>,
    /// One entry per `stdio` entry: the bytes of each collected pipe, null
    /// for the others. Absent when the launch failed.
    pub output: Option<Vec<Option<Buffer>>>,
}

/// Runs a child to completion. Blocks the calling thread until it has exited
/// and its pipes are closed (or the timeout or output limit stopped it).
/// Every value was checked by lib/child_process/; what can still fail (a
/// descriptor that is not open, the launch, the run) is the result's `error`,
/// as in Node.
#[napi]
pub fn spawn_sync(options: NativeSyncOptions) -> NativeSyncResult {
    debug_assert_no_nul(
        std::iter::once(&options.file)
            .chain(&options.args)
            .chain(&options.argv0)
            .chain(&options.cwd)
            .chain(options.env.iter().flatten())
            .map(String::as_str),
    );
    debug_assert!(options.stdio.len() >= 3, "stdio has 0, 1 and 2");

    let mut request = SpawnRequest::new(options.file, options.args);
    request.argv0 = options.argv0;
    request.cwd = options.cwd;
    request.env = options.env.map_or_else(current_env, Arc::new);
    let mut extra_outputs = Vec::new();
    // A descriptor that cannot be shared is the run's error (EBADF), as in Node.
    let mut build_stdio = || -> std::io::Result<()> {
        for (target, &entry) in options.stdio.iter().enumerate() {
            let target = target as i32;
            match (target, entry) {
                (0, fd_entry::PIPE) => {
                    let input = options.input.as_deref().map(<[u8]>::to_vec);
                    request.stdin = Input::Data(input.unwrap_or_default())
                }
                (0, fd_entry::NONE) => request.stdin = Input::Ignore,
                (0, fd) => request.stdin = Input::Fd(duplicate_fd(fd)?),
                (1 | 2, _) => {
                    let output = match entry {
                        fd_entry::PIPE => Output::Pipe,
                        fd_entry::NONE => Output::Ignore,
                        fd => Output::Fd(duplicate_fd(fd)?),
                    };
                    if target == 1 {
                        request.stdout = output;
                    } else {
                        request.stderr = output;
                    }
                }
                (_, fd_entry::PIPE) => extra_outputs.push(target),
                (_, fd_entry::NONE) => {}
                (_, fd) => request.inherit_fds.push((duplicate_fd(fd)?, target)),
            }
        }
        Ok(())
    };
    if let Err(e) = build_stdio() {
        return NativeSyncResult {
            pid: 0,
            error: Some(-crate::errno::os_errno(&e)),
            status: None,
            signal: None,
            output: None,
        };
    }
    request.detached = options.detached;
    request.uid = options.uid;
    request.gid = options.gid;
    request.timeout = options
        .timeout
        .filter(|ms| *ms > 0.0)
        .map(|ms| Duration::from_micros((ms * 1000.0) as u64));
    request.kill_signal = options.kill_signal;
    // Node's spawnSync sends killSignal once and never escalates.
    request.force_kill_after = None;
    request.max_buffer = if options.max_buffer.is_finite() && options.max_buffer > 0.0 {
        options.max_buffer as usize
    } else {
        0
    };

    let completion = run_to_completion(request, &extra_outputs);
    let error = completion.errno().map(|errno| -errno);
    let (status, signal) = completion
        .exit
        .as_ref()
        .map_or((None, None), |e| (e.code, e.signal));
    let output = completion.exit.as_ref().map(|_| {
        let mut collected = completion.outputs;
        (0..options.stdio.len() as i32)
            .map(|fd| {
                let at = collected.iter().position(|(target, _)| *target == fd)?;
                Some(Buffer::from(collected.swap_remove(at).1))
            })
            .collect()
    });
    NativeSyncResult {
        pid: completion.pid,
        error,
        status,
        signal,
        output,
    }
}
