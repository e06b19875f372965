//! What the caller asks for: the plain-Rust description of one launch.

use std::ffi::CStr;
use std::io;
use std::os::fd::{BorrowedFd, OwnedFd, RawFd};
use std::sync::{Arc, Mutex};
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

/// Where a Node child finds its IPC channel (`NODE_CHANNEL_FD`) unless the
/// caller puts it elsewhere: Node's `fork()` puts it at 3.
pub const NODE_IPC_FD: RawFd = 3;
/// The signal that stops a child on a timeout or a cancel, unless the caller
/// gives another (the JS API's default too).
pub const DEFAULT_KILL_SIGNAL: i32 = libc::SIGTERM;
/// How long a stopped child has before SIGKILL follows.
pub const DEFAULT_FORCE_KILL_AFTER: Duration = Duration::from_secs(5);
/// Bytes of output collected per stream before the child is stopped.
pub const DEFAULT_MAX_BUFFER: usize = 100 * 1024 * 1024;

/// One launch.
pub struct SpawnRequest {
    pub file: String,
    /// Arguments after `argv[0]`.
    pub args: Vec<String>,
    /// `argv[0]`; defaults to `file`.
    pub argv0: Option<String>,
    pub cwd: Option<String>,
    /// The complete environment, as `KEY=value` entries (shared: the snapshot of
    /// this process's environment is reused from launch to launch).
    pub env: Arc<Vec<String>>,
    pub stdin: Input,
    pub stdout: Output,
    pub stderr: Output,
    /// Open a Node IPC channel (`fork`), framed as given, at `ipc_fd` in the child.
    pub ipc: Option<super::ipc::Serialization>,
    /// The child's descriptor for the IPC channel: 3 unless the caller put
    /// `'ipc'` elsewhere in Node's `stdio` array (`NODE_CHANNEL_FD` says which).
    pub ipc_fd: RawFd,
    /// More descriptors for the child, each at the number given (never 0 to 2,
    /// nor `ipc_fd` when `ipc` is set): a pool's binary task channel, another
    /// stream's descriptor, one end of a [`SpawnRequest::pipe_at`] pair. Ours
    /// stay open here until the launch.
    pub inherit_fds: Vec<(OwnedFd, RawFd)>,
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
    /// Per collected stream; past it the child is killed. For
    /// [`super::run_to_completion`], all pipes together, 0 meaning no limit.
    pub max_buffer: usize,
    /// Count streamed output against `max_buffer` too (Node's `execFile`,
    /// whose caller sees the output as a stream and its size as a limit): past
    /// it the reader reports [`super::ChildEvent::OutputOverflow`], stops, and
    /// the child is killed.
    pub limit_streamed_output: bool,
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
            env: Arc::default(),
            stdin: Input::Pipe,
            stdout: Output::Pipe,
            stderr: Output::Pipe,
            ipc: None,
            ipc_fd: NODE_IPC_FD,
            inherit_fds: Vec::new(),
            detached: false,
            kill_tree: false,
            uid: None,
            gid: None,
            limits: Limits::default(),
            cleanup: true,
            timeout: None,
            kill_signal: DEFAULT_KILL_SIGNAL,
            force_kill_after: Some(DEFAULT_FORCE_KILL_AFTER),
            max_buffer: DEFAULT_MAX_BUFFER,
            limit_streamed_output: false,
        }
    }

    /// A new two-way pipe for the child at descriptor `target` (Node's `'pipe'`
    /// beyond stdin, stdout and stderr): the child's end goes into
    /// `inherit_fds`, ours is returned, close-on-exec and blocking, for the
    /// caller to read and write as it likes (Node wraps it in a socket). A
    /// Unix socket pair, as libuv makes for every stdio pipe, so that both
    /// sides can read and write. Made here, on the caller's thread, so the
    /// caller holds its end as soon as the request exists; if the launch fails
    /// the child's end is dropped and ours reads end of file.
    pub fn pipe_at(&mut self, target: RawFd) -> io::Result<OwnedFd> {
        let (ours, theirs) = super::fds::socket_pair()?;
        self.inherit_fds.push((theirs, target));
        Ok(ours)
    }
}

extern "C" {
    /// The C library's environment: what `setenv` (and Node's `process.env`) change.
    static environ: *const *const libc::c_char;
}

/// The entries of `environ`, as pointers.
fn environ_pointers() -> Vec<usize> {
    let mut pointers = Vec::with_capacity(64);
    // SAFETY: `environ` is a NULL-terminated array of C strings. Read on the JS
    // thread, which is where Node changes it.
    unsafe {
        let mut at = environ;
        while !at.is_null() && !(*at).is_null() {
            pointers.push(*at as usize);
            at = at.add(1);
        }
    }
    pointers
}

/// `environ`'s entry pointers when the copy was made, and the copy.
type Snapshot = (Vec<usize>, Arc<Vec<String>>);

/// This process's environment as `KEY=value` entries (lossy for non-UTF-8).
///
/// Copying it costs an allocation or two per variable, which on the JS thread
/// of every spawn was a third of the call. The copy is kept and reused while
/// the list of entry pointers is unchanged: `setenv` and `unsetenv` (so Node's
/// `process.env` writes) always change it, since glibc stores a new string for
/// every write.
pub fn current_env() -> Arc<Vec<String>> {
    static CACHE: Mutex<Option<Snapshot>> = Mutex::new(None);
    let pointers = environ_pointers();
    let mut cache = CACHE.lock().unwrap();
    if let Some((cached, env)) = &*cache {
        if *cached == pointers {
            return env.clone();
        }
    }
    // SAFETY: each pointer is one of `environ`'s C strings, read just above.
    let env: Arc<Vec<String>> = Arc::new(
        pointers
            .iter()
            .map(|&p| {
                unsafe { CStr::from_ptr(p as *const libc::c_char) }
                    .to_string_lossy()
                    .into_owned()
            })
            .collect(),
    );
    *cache = Some((pointers, env.clone()));
    env
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_environment_snapshot_follows_setenv() {
        std::env::set_var("OFFLOAD_SNAPSHOT_TEST", "one");
        let first = current_env();
        assert!(first.iter().any(|e| e == "OFFLOAD_SNAPSHOT_TEST=one"));
        assert!(
            Arc::ptr_eq(&first, &current_env()),
            "unchanged environment, same snapshot"
        );
        std::env::set_var("OFFLOAD_SNAPSHOT_TEST", "two");
        let second = current_env();
        assert!(second.iter().any(|e| e == "OFFLOAD_SNAPSHOT_TEST=two"));
        assert!(!second.iter().any(|e| e == "OFFLOAD_SNAPSHOT_TEST=one"));
        std::env::remove_var("OFFLOAD_SNAPSHOT_TEST");
        assert!(!current_env()
            .iter()
            .any(|e| e.starts_with("OFFLOAD_SNAPSHOT_TEST=")));
    }
}
