//! What the caller asks for: the plain-Rust description of one launch.

use std::io;
use std::os::fd::{BorrowedFd, OwnedFd, RawFd};
use std::sync::Arc;
use std::time::Duration;

use super::handle::ChildShared;

/// Where the child's stdin comes from.
pub enum Input {
    /// A pipe the caller writes to with [`super::ChildHandle::write`].
    Pipe,
    /// `/dev/null`.
    Ignore,
    /// A descriptor of ours, duplicated when the request is made so the caller
    /// may close theirs at once (`inherit` is a copy of fd 0).
    Fd(OwnedFd),
    /// A file opened for reading.
    File(String),
    /// These bytes, then end of file.
    Data(Vec<u8>),
    /// The stdout pipe of another child, which must not have been read from yet
    /// (pipelines: the bytes never pass through us).
    ChildStdout(Arc<ChildShared>),
}

/// Where the child's stdout or stderr goes.
pub enum Output {
    /// A pipe we read: collected for the result or streamed to the caller.
    Pipe,
    /// `/dev/null`.
    Ignore,
    /// A descriptor of ours, duplicated when the request is made (`inherit` is
    /// a copy of fd 1 or 2).
    Fd(OwnedFd),
    /// A file, truncated first unless `append`.
    File { path: String, append: bool },
}

/// Resource limits applied in the child before it execs.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Limits {
    /// `RLIMIT_DATA`: heap and private writable mappings. Unlike `RLIMIT_AS` it
    /// does not count address space that runtimes (V8, Go, the JVM) merely reserve.
    pub memory_bytes: Option<u64>,
    /// `RLIMIT_CPU`: `SIGXCPU` at this many CPU seconds, `SIGKILL` one second later.
    pub cpu_seconds: Option<u64>,
    /// `RLIMIT_NOFILE`.
    pub open_files: Option<u64>,
    /// `RLIMIT_NPROC` (per user; not enforced for root).
    pub processes: Option<u64>,
    /// `RLIMIT_FSIZE`: writing past it raises `SIGXFSZ`.
    pub file_size_bytes: Option<u64>,
    /// Scheduling priority, -20 (highest) to 19.
    pub nice: Option<i32>,
}

/// One launch.
pub struct SpawnRequest {
    pub file: String,
    /// Arguments after `argv[0]`.
    pub args: Vec<String>,
    /// `argv[0]`; defaults to `file`.
    pub argv0: Option<String>,
    pub cwd: Option<String>,
    /// The complete environment, as `KEY=value` entries.
    pub env: Vec<String>,
    pub stdin: Input,
    pub stdout: Output,
    pub stderr: Output,
    /// Open a Node IPC channel on fd 3 (`fork`).
    pub ipc: bool,
    /// Start a new session (`detached`).
    pub detached: bool,
    /// Start a new process group and signal the whole group.
    pub kill_tree: bool,
    pub uid: Option<u32>,
    pub gid: Option<u32>,
    pub limits: Limits,
    /// Kill the child (SIGKILL) when this process dies, however it dies.
    pub cleanup: bool,
    pub timeout: Option<Duration>,
    pub kill_signal: i32,
    /// After a kill with another signal, SIGKILL if the child is still alive.
    pub force_kill_after: Option<Duration>,
    /// Per collected stream; past it the child is killed.
    pub max_buffer: usize,
}

impl SpawnRequest {
    /// A request with Node's defaults (pipes for all three, SIGTERM, 100 MiB) and
    /// an empty environment: see [`current_env`].
    pub fn new(file: impl Into<String>, args: Vec<String>) -> SpawnRequest {
        SpawnRequest {
            file: file.into(),
            args,
            argv0: None,
            cwd: None,
            env: Vec::new(),
            stdin: Input::Pipe,
            stdout: Output::Pipe,
            stderr: Output::Pipe,
            ipc: false,
            detached: false,
            kill_tree: false,
            uid: None,
            gid: None,
            limits: Limits::default(),
            cleanup: true,
            timeout: None,
            kill_signal: libc::SIGTERM,
            force_kill_after: Some(Duration::from_secs(5)),
            max_buffer: 100 * 1024 * 1024,
        }
    }
}

/// This process's environment as `KEY=value` entries (lossy for non-UTF-8).
pub fn current_env() -> Vec<String> {
    std::env::vars_os()
        .map(|(k, v)| {
            let mut entry = k.to_string_lossy().into_owned();
            entry.push('=');
            entry.push_str(&v.to_string_lossy());
            entry
        })
        .collect()
}

/// A close-on-exec copy of `fd`, owned by the request, for `Input::Fd` and
/// `Output::Fd`: the launch happens later, on the spawner thread, by which time
/// the caller may have closed (or reused) the number it passed.
pub fn duplicate_fd(fd: RawFd) -> io::Result<OwnedFd> {
    if fd < 0 {
        return Err(io::Error::from_raw_os_error(libc::EBADF));
    }
    // SAFETY: only borrowed for the duplication; an invalid number fails with EBADF.
    unsafe { BorrowedFd::borrow_raw(fd) }.try_clone_to_owned()
}
