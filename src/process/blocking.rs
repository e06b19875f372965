//! Running a child to completion on the calling thread: the engine of Node's
//! `spawnSync`, `execFileSync` and `execSync`, without `fork()`.
//!
//! # Model
//!
//! [`run_to_completion`] launches the child from the calling thread with the
//! same `clone(CLONE_VM | CLONE_VFORK)` routine as every launch (the thread's
//! signals are blocked for the moment of the clone, as the routine requires),
//! then runs one `poll` loop over the child's pipes and its pidfd until the
//! child has been reaped and every pipe is closed: it writes the input and
//! closes stdin, collects what the child writes on each output pipe, kills the
//! child at the deadline or when the output passes the limit, and reaps it. No
//! other thread takes part, and the caller is blocked for the child's whole run,
//! as Node's sync functions block theirs.
//!
//! The rules are those of Node's `spawnSync`, so that the drop-in returns what
//! Node returns:
//! - `max_buffer` counts the bytes of all pipes together (0 or `usize::MAX`:
//!   no limit), and the read that passes it is kept whole;
//! - a kill (deadline, output limit) sends `kill_signal` once and closes every
//!   pipe at once: output after it is not read, and a child that goes on
//!   writing gets `SIGPIPE`;
//! - the deadline counts from before the launch, and still fires after the
//!   exit while a grandchild holds a pipe open (the pipes are then closed);
//! - the first of deadline, output limit and failed kill is the run's `error`;
//!   an I/O error on a pipe (`EPIPE` when the child did not read all its input)
//!   is kept apart, and Node reports it only when there is no `error`.
//!
//! # Caveats
//!
//! - The parent-death signal is tied to the thread that creates the child; the
//!   calling thread outlives the child because it waits for it to be reaped.
//! - `Input::ChildStdout` (pipelines) needs the asynchronous engine and fails
//!   as a stdio error here.
//! - `force_kill_after` is honoured after a kill; Node has no such escalation,
//!   so the drop-in passes `None`.

use std::io;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use super::events::{ExitInfo, SpawnFailure};
use super::fds;
use super::handle::signal_child;
use super::launch_linux::{launch, ChildStack, LaunchError, LaunchPlan, Launched, Step};
use super::reap::try_reap;
use super::request::{Input, SpawnRequest};
use super::spawner::{launch_failure, plan, plumb};

/// The most one read takes: libuv's read size, so that a run passes
/// `max_buffer` on the same read as Node's does.
const READ_CHUNK: usize = 64 * 1024;

/// Why a run ended early, as Node's `spawnSync` reports it in `error`.
#[derive(Debug)]
pub enum RunError {
    /// `timeout` passed; the child was sent `kill_signal`.
    TimedOut,
    /// The pipes together gave more than `max_buffer` bytes; the child was
    /// sent `kill_signal`.
    MaxBufferExceeded,
    /// `kill_signal` could not be sent; the child was sent `SIGKILL`.
    Kill(io::Error),
}

/// What a run to completion produced.
#[derive(Debug, Default)]
pub struct Completion {
    /// 0 when the launch failed.
    pub pid: u32,
    /// Why the launch failed; then nothing else is set.
    pub spawn_failure: Option<SpawnFailure>,
    /// How the child ended.
    pub exit: Option<ExitInfo>,
    /// What each output pipe gave, by the child's descriptor number: stdout
    /// and stderr when they were pipes, then the extra pipes in the order asked.
    pub outputs: Vec<(RawFd, Vec<u8>)>,
    pub error: Option<RunError>,
    /// The first I/O error on a pipe (writing the input, reading an output).
    pub pipe_error: Option<io::Error>,
}

impl Completion {
    /// The errno Node's `spawnSync` puts in `error`: the launch failure, else
    /// the run's error, else the pipe error.
    pub fn errno(&self) -> Option<i32> {
        let code = crate::errno::os_errno;
        if let Some(failure) = &self.spawn_failure {
            return Some(code(&failure.error));
        }
        match &self.error {
            Some(RunError::TimedOut) => Some(libc::ETIMEDOUT),
            Some(RunError::MaxBufferExceeded) => Some(libc::ENOBUFS),
            Some(RunError::Kill(e)) => Some(code(e)),
            None => self.pipe_error.as_ref().map(code),
        }
    }
}

/// Launches `request` and waits for the child's end, feeding `Input::Data`
/// (or nothing, for `Input::Pipe`) to its stdin and collecting its piped
/// outputs. `extra_outputs` are more descriptors of the child (3 or more) to
/// give a pipe each and collect, like stdout. Honours `timeout`, `kill_signal`,
/// `force_kill_after`, `max_buffer` (see the module doc) and `kill_tree`.
pub fn run_to_completion(mut request: SpawnRequest, extra_outputs: &[RawFd]) -> Completion {
    let started = Instant::now();
    let failed = |failure: SpawnFailure| Completion {
        spawn_failure: Some(failure),
        ..Completion::default()
    };
    let stdio_failure = |error: io::Error| SpawnFailure {
        step: Step::Stdio,
        error,
        path: String::new(),
    };
    if matches!(request.stdin, Input::ChildStdout(_)) {
        let e = io::Error::other("stdin from another child needs the asynchronous engine");
        return failed(stdio_failure(e));
    }
    let mut extras = Vec::with_capacity(extra_outputs.len());
    for &target in extra_outputs {
        let pipe = fds::pipe().and_then(|(read, write)| {
            fds::set_nonblocking(&read)?;
            Ok((read, write))
        });
        let (read, write) = match pipe {
            Ok(p) => p,
            Err(e) => return failed(stdio_failure(e)),
        };
        request.inherit_fds.push((write, target));
        extras.push(OutputPipe::new(target, read));
    }
    let dev_null = match dev_null() {
        Ok(fd) => fd,
        Err(e) => return failed(stdio_failure(e)),
    };
    let mut plumbing = match plumb(&request, dev_null) {
        Ok(p) => p,
        Err(f) => return failed(f),
    };
    let launch_plan = plan(&request, std::mem::take(&mut plumbing.map));
    let launched = launch_from_this_thread(&launch_plan);
    // The child has its copies; ours would hide its end of a pipe from it.
    drop(plumbing.child_ends);
    drop(std::mem::take(&mut request.inherit_fds));
    let Launched { pid, pidfd } = match launched {
        Ok(l) => l,
        Err(e) => return failed(launch_failure(&request, e)),
    };

    let mut outputs: Vec<OutputPipe> = [1, 2]
        .into_iter()
        .zip(std::mem::take(&mut plumbing.outputs))
        .filter_map(|(target, fd)| fd.map(|fd| OutputPipe::new(target, fd)))
        .collect();
    outputs.extend(extras);
    let input = match std::mem::replace(&mut request.stdin, Input::Ignore) {
        Input::Data(data) => data,
        _ => Vec::new(),
    };
    let mut run = Run {
        pid,
        pidfd,
        kill_tree: request.kill_tree,
        kill_signal: request.kill_signal,
        force_kill_after: request.force_kill_after,
        max_buffer: request.max_buffer,
        stdin: plumbing.stdin.map(|fd| (fd, input, 0)),
        outputs,
        collected: 0,
        killed: false,
        exit: None,
        deadline: request.timeout.map(|t| started + t),
        force_at: None,
        error: None,
        pipe_error: None,
    };
    run.write_input();
    run.wait();
    let mut exit = run.exit.take().unwrap_or_default();
    exit.duration_ms = started.elapsed().as_secs_f64() * 1000.0;
    Completion {
        pid: pid as u32,
        spawn_failure: None,
        exit: Some(exit),
        outputs: run
            .outputs
            .into_iter()
            .map(|o| (o.target, o.data))
            .collect(),
        error: run.error,
        pipe_error: run.pipe_error,
    }
}

/// `/dev/null`, opened once, for stdio set to be ignored.
fn dev_null() -> io::Result<&'static OwnedFd> {
    static DEV_NULL: OnceLock<OwnedFd> = OnceLock::new();
    if let Some(fd) = DEV_NULL.get() {
        return Ok(fd);
    }
    let fd = fds::open("/dev/null", libc::O_RDWR)?;
    Ok(DEV_NULL.get_or_init(|| fd))
}

/// The launch routine wants every signal blocked in the launching thread (the
/// child inherits the mask and unblocks only once its handlers are reset).
fn launch_from_this_thread(plan: &LaunchPlan) -> Result<Launched, LaunchError> {
    let mut stack = ChildStack::new().map_err(|error| LaunchError {
        step: Step::Exec,
        error,
    })?;
    // SAFETY: changing this thread's mask, then restoring it; signals that
    // arrive meanwhile stay pending and are delivered at the restore.
    unsafe {
        let mut all: libc::sigset_t = std::mem::zeroed();
        let mut previous: libc::sigset_t = std::mem::zeroed();
        libc::sigfillset(&mut all);
        libc::pthread_sigmask(libc::SIG_BLOCK, &all, &mut previous);
        let launched = launch(plan, &mut stack);
        libc::pthread_sigmask(libc::SIG_SETMASK, &previous, std::ptr::null_mut());
        launched
    }
}

/// One output pipe of the child and what it gave.
struct OutputPipe {
    target: RawFd,
    /// `None` once closed (end of file, an error, or a kill).
    fd: Option<OwnedFd>,
    data: Vec<u8>,
}

impl OutputPipe {
    fn new(target: RawFd, fd: OwnedFd) -> OutputPipe {
        OutputPipe {
            target,
            fd: Some(fd),
            data: Vec::new(),
        }
    }
}

/// What a pollfd entry stands for.
#[derive(Clone, Copy)]
enum Watched {
    Stdin,
    Output(usize),
    Exit,
}

struct Run {
    pid: i32,
    pidfd: OwnedFd,
    kill_tree: bool,
    kill_signal: i32,
    force_kill_after: Option<Duration>,
    max_buffer: usize,
    /// Our end of the stdin pipe, the input and how much of it is written.
    stdin: Option<(OwnedFd, Vec<u8>, usize)>,
    outputs: Vec<OutputPipe>,
    /// Bytes read from all pipes together.
    collected: usize,
    killed: bool,
    exit: Option<ExitInfo>,
    deadline: Option<Instant>,
    force_at: Option<Instant>,
    error: Option<RunError>,
    pipe_error: Option<io::Error>,
}

impl Run {
    fn pipes_open(&self) -> bool {
        self.stdin.is_some() || self.outputs.iter().any(|o| o.fd.is_some())
    }

    fn fail(&mut self, error: RunError) {
        if self.error.is_none() {
            self.error = Some(error);
        }
    }

    fn pipe_failed(&mut self, error: io::Error) {
        if self.pipe_error.is_none() {
            self.pipe_error = Some(error);
        }
    }

    /// Polls until the child is reaped and every pipe closed.
    fn wait(&mut self) {
        let mut scratch = vec![0u8; READ_CHUNK];
        let mut pollfds: Vec<libc::pollfd> = Vec::with_capacity(self.outputs.len() + 2);
        let mut watched: Vec<Watched> = Vec::with_capacity(pollfds.capacity());
        while self.exit.is_none() || self.pipes_open() {
            pollfds.clear();
            watched.clear();
            let mut watch = |fd: RawFd, events: libc::c_short, what: Watched| {
                pollfds.push(libc::pollfd {
                    fd,
                    events,
                    revents: 0,
                });
                watched.push(what);
            };
            if let Some((fd, _, _)) = &self.stdin {
                watch(fd.as_raw_fd(), libc::POLLOUT, Watched::Stdin);
            }
            for (i, output) in self.outputs.iter().enumerate() {
                if let Some(fd) = &output.fd {
                    watch(fd.as_raw_fd(), libc::POLLIN, Watched::Output(i));
                }
            }
            if self.exit.is_none() {
                watch(self.pidfd.as_raw_fd(), libc::POLLIN, Watched::Exit);
            }
            let next_timer = [self.deadline, self.force_at].into_iter().flatten().min();
            let wait_ms = next_timer.map_or(-1, |at| {
                let left = at.saturating_duration_since(Instant::now());
                // Round up: waking a little early would only loop.
                left.as_micros().div_ceil(1000).min(i32::MAX as u128) as libc::c_int
            });
            // SAFETY: `pollfds` holds valid entries for the duration of the call.
            let rc =
                unsafe { libc::poll(pollfds.as_mut_ptr(), pollfds.len() as libc::nfds_t, wait_ms) };
            if rc < 0 {
                let e = io::Error::last_os_error();
                if e.kind() != io::ErrorKind::Interrupted {
                    // Nothing to wait with: stop the child and reap it.
                    self.pipe_failed(e);
                    self.kill();
                    self.reap_now();
                }
                continue;
            }
            let now = Instant::now();
            if self.deadline.is_some_and(|at| at <= now) {
                self.deadline = None;
                self.fail(RunError::TimedOut);
                self.kill();
            }
            if self.force_at.is_some_and(|at| at <= now) {
                self.force_at = None;
                let _ = self.signal(libc::SIGKILL);
            }
            for (pollfd, what) in pollfds.iter().zip(&watched) {
                if pollfd.revents == 0 {
                    continue;
                }
                match *what {
                    Watched::Stdin => self.write_input(),
                    Watched::Output(i) => self.read_output(i, &mut scratch),
                    Watched::Exit => self.try_reap(),
                }
            }
        }
    }

    /// Writes what the pipe takes now; closes stdin once all is written (the
    /// child's end of file) or when the child stopped reading.
    fn write_input(&mut self) {
        let Some((fd, data, written)) = &mut self.stdin else {
            return;
        };
        while *written < data.len() {
            let rest = &data[*written..];
            // SAFETY: writing from a valid slice to a descriptor we own.
            let n = unsafe {
                libc::write(
                    fd.as_raw_fd(),
                    rest.as_ptr() as *const libc::c_void,
                    rest.len(),
                )
            };
            if n >= 0 {
                *written += n as usize;
                continue;
            }
            let e = io::Error::last_os_error();
            match e.kind() {
                io::ErrorKind::Interrupted => continue,
                io::ErrorKind::WouldBlock => return,
                _ => {
                    self.stdin = None;
                    self.pipe_failed(e);
                    return;
                }
            }
        }
        self.stdin = None;
    }

    /// Reads what output `i` has now; past `max_buffer`, kills the child.
    fn read_output(&mut self, i: usize, scratch: &mut [u8]) {
        loop {
            let Some(fd) = &self.outputs[i].fd else {
                return;
            };
            // SAFETY: reading into a buffer we own, at most its length.
            let n = unsafe {
                libc::read(
                    fd.as_raw_fd(),
                    scratch.as_mut_ptr() as *mut libc::c_void,
                    scratch.len(),
                )
            };
            if n > 0 {
                let n = n as usize;
                self.outputs[i].data.extend_from_slice(&scratch[..n]);
                self.collected = self.collected.saturating_add(n);
                if self.max_buffer > 0 && self.collected > self.max_buffer {
                    self.fail(RunError::MaxBufferExceeded);
                    self.kill();
                }
                continue;
            }
            if n == 0 {
                self.outputs[i].fd = None;
                return;
            }
            let e = io::Error::last_os_error();
            match e.kind() {
                io::ErrorKind::Interrupted => continue,
                io::ErrorKind::WouldBlock => return,
                _ => {
                    self.outputs[i].fd = None;
                    self.pipe_failed(e);
                    return;
                }
            }
        }
    }

    fn try_reap(&mut self) {
        match try_reap(&self.pidfd) {
            Ok(Some(exit)) => self.exit = Some(exit),
            Ok(None) => {}
            // Never seen for a pidfd of our own child; report an unknown end
            // rather than poll forever.
            Err(_) => self.exit = Some(ExitInfo::default()),
        }
    }

    /// Waits for the exit without polling (used only when `poll` itself fails).
    fn reap_now(&mut self) {
        while self.exit.is_none() {
            self.try_reap();
            if self.exit.is_none() {
                std::thread::yield_now();
            }
        }
    }

    /// Node's kill: `kill_signal` once (`SIGKILL` if it cannot be sent), then
    /// every pipe closed and the deadline dropped.
    fn kill(&mut self) {
        if self.killed {
            return;
        }
        self.killed = true;
        if self.exit.is_none() {
            match self.signal(self.kill_signal) {
                Ok(()) => {
                    if self.kill_signal != libc::SIGKILL {
                        self.force_at = self.force_kill_after.map(|after| Instant::now() + after);
                    }
                }
                Err(e) => {
                    self.fail(RunError::Kill(e));
                    let _ = self.signal(libc::SIGKILL);
                }
            }
        }
        self.stdin = None;
        for output in &mut self.outputs {
            output.fd = None;
        }
        self.deadline = None;
    }

    /// Sends `signal` to the child (its group with `kill_tree`); a child that
    /// is already gone is not an error.
    fn signal(&self, signal: i32) -> io::Result<()> {
        signal_child(self.pid, &self.pidfd, self.kill_tree, signal).map(drop)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::process::{current_env, Output};

    fn sh(script: &str) -> SpawnRequest {
        let mut request = SpawnRequest::new("sh", vec!["-c".into(), script.into()]);
        request.env = current_env();
        request.force_kill_after = None;
        request.max_buffer = 0;
        request.stdin = Input::Data(Vec::new());
        request
    }

    fn output(c: &Completion, target: RawFd) -> &[u8] {
        &c.outputs
            .iter()
            .find(|(t, _)| *t == target)
            .expect("no such output")
            .1
    }

    #[test]
    fn collects_stdout_stderr_and_the_exit_code() {
        let c = run_to_completion(sh("echo out; echo err >&2; exit 3"), &[]);
        assert!(c.pid > 0);
        assert_eq!(c.exit.as_ref().unwrap().code, Some(3));
        assert_eq!(output(&c, 1), b"out\n");
        assert_eq!(output(&c, 2), b"err\n");
        assert_eq!(c.errno(), None);
    }

    #[test]
    fn feeds_the_input_then_end_of_file() {
        let mut request = sh("cat; echo done");
        let input: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
        request.stdin = Input::Data(input.clone());
        let c = run_to_completion(request, &[]);
        let mut expected = input;
        expected.extend_from_slice(b"done\n");
        assert_eq!(output(&c, 1), &expected[..]);
        assert_eq!(c.exit.unwrap().code, Some(0));
    }

    #[test]
    fn input_the_child_never_reads_is_a_pipe_error_not_a_run_error() {
        let mut request = sh("exec 0<&-; exit 0");
        request.stdin = Input::Data(vec![b'x'; 1 << 20]);
        let c = run_to_completion(request, &[]);
        assert_eq!(c.exit.as_ref().unwrap().code, Some(0));
        assert!(c.error.is_none());
        assert_eq!(c.errno(), Some(libc::EPIPE));
    }

    #[test]
    fn the_timeout_sends_kill_signal_and_reports_timed_out() {
        let mut request = sh("echo before; exec sleep 5");
        request.timeout = Some(Duration::from_millis(100));
        request.kill_signal = libc::SIGINT;
        let started = Instant::now();
        let c = run_to_completion(request, &[]);
        assert!(started.elapsed() < Duration::from_secs(3));
        assert!(matches!(c.error, Some(RunError::TimedOut)));
        assert_eq!(c.errno(), Some(libc::ETIMEDOUT));
        assert_eq!(c.exit.as_ref().unwrap().signal, Some(libc::SIGINT));
        assert_eq!(output(&c, 1), b"before\n");
    }

    #[test]
    fn the_timeout_closes_pipes_a_grandchild_holds_after_the_exit() {
        let mut request = sh("sleep 5 & echo started");
        request.timeout = Some(Duration::from_millis(200));
        let started = Instant::now();
        let c = run_to_completion(request, &[]);
        assert!(started.elapsed() < Duration::from_secs(3));
        assert_eq!(c.exit.as_ref().unwrap().code, Some(0));
        assert!(matches!(c.error, Some(RunError::TimedOut)));
        assert_eq!(output(&c, 1), b"started\n");
    }

    #[test]
    fn max_buffer_counts_both_pipes_and_keeps_the_read_that_passed_it() {
        let mut request = sh("printf 123456; printf 123456 >&2; exec sleep 5");
        request.max_buffer = 10;
        let c = run_to_completion(request, &[]);
        assert!(matches!(c.error, Some(RunError::MaxBufferExceeded)));
        assert_eq!(c.errno(), Some(libc::ENOBUFS));
        assert_eq!(c.exit.as_ref().unwrap().signal, Some(libc::SIGTERM));
        assert_eq!(output(&c, 1), b"123456");
        assert_eq!(output(&c, 2), b"123456");
    }

    #[test]
    fn output_exactly_at_max_buffer_is_fine() {
        let mut request = sh("printf 0123456789");
        request.max_buffer = 10;
        let c = run_to_completion(request, &[]);
        assert!(c.error.is_none());
        assert_eq!(output(&c, 1), b"0123456789");
    }

    #[test]
    fn a_missing_program_fails_the_launch_with_enoent_and_no_pid() {
        let c = run_to_completion(SpawnRequest::new("offload-no-such-program", vec![]), &[]);
        assert_eq!(c.pid, 0);
        assert!(c.exit.is_none());
        assert_eq!(c.errno(), Some(libc::ENOENT));
        let failure = c.spawn_failure.unwrap();
        assert_eq!(failure.step, Step::Exec);
        assert_eq!(failure.path, "offload-no-such-program");
    }

    #[test]
    fn a_missing_cwd_fails_the_launch_at_chdir() {
        let mut request = sh("true");
        request.cwd = Some("/offload-no-such-dir".into());
        let c = run_to_completion(request, &[]);
        assert_eq!(c.errno(), Some(libc::ENOENT));
        assert_eq!(c.spawn_failure.unwrap().step, Step::Chdir);
    }

    #[test]
    fn extra_pipes_beyond_stderr_are_collected() {
        let mut request = sh("echo three >&3; echo five >&5");
        request.stdout = Output::Ignore;
        let c = run_to_completion(request, &[3, 5]);
        assert_eq!(output(&c, 3), b"three\n");
        assert_eq!(output(&c, 5), b"five\n");
        assert!(!c.outputs.iter().any(|(t, _)| *t == 1));
    }

    #[test]
    fn every_child_is_reaped_before_the_run_returns() {
        for _ in 0..20 {
            let c = run_to_completion(sh("echo x; echo y >&2"), &[3]);
            assert_eq!(c.exit.unwrap().code, Some(0));
            // A zombie would still have its /proc entry.
            assert!(!std::path::Path::new(&format!("/proc/{}", c.pid)).exists());
        }
    }
}
