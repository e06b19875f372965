//! The spawner threads: two long-lived threads that perform every launch.
//!
//! They live as long as the process: the kernel sends the parent-death signal
//! when the *thread* that created a child exits, so launching from a pool thread
//! that retires when idle would kill children at random. Their signals are all
//! blocked, which the vfork child relies on (see `launch_linux`).

use std::collections::VecDeque;
use std::ffi::CString;
use std::io;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::sync::{Arc, Condvar, Mutex, OnceLock};
use std::time::Instant;

use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender};

use super::events::{ChildEvent, EventSink, SpawnFailure, Stream};
use super::fds;
use super::handle::{ChildShared, Control, OutputControl, WriteControl};
use super::launch_linux::{launch, ChildStack, Grouping, LaunchError, LaunchPlan, Step};
use super::request::{Input, Output, SpawnRequest};
use super::search_path;
use super::supervisor::{supervise, Policy, Running};

/// One launch, as queued to the spawner thread.
pub(crate) struct Job {
    pub request: SpawnRequest,
    pub shared: Arc<ChildShared>,
    pub sink: Arc<dyn EventSink>,
    pub started: Instant,
    pub control: UnboundedReceiver<Control>,
    /// For a force kill when the caller signalled before the launch.
    pub control_tx: UnboundedSender<Control>,
    pub outputs: [UnboundedReceiver<OutputControl>; 2],
    pub output_notify: [UnboundedSender<OutputControl>; 2],
    pub stdin: UnboundedReceiver<WriteControl>,
    pub ipc: UnboundedReceiver<WriteControl>,
}

/// The launch queue. Jobs run in order, except that reading the pid of a queued
/// child moves it (and the pipeline stages it reads from) to the front, so that
/// read waits for at most the launch in progress and its own.
struct Queue {
    jobs: Mutex<VecDeque<Job>>,
    ready: Condvar,
}

static QUEUE: OnceLock<Arc<Queue>> = OnceLock::new();

/// Launches in progress at once. A launch spends most of its time in the
/// child's `execve`, during which its spawner thread only waits; two threads
/// keep launches flowing while one waits.
const SPAWNER_THREADS: usize = 2;

fn queue() -> &'static Arc<Queue> {
    QUEUE.get_or_init(|| {
        let queue = Arc::new(Queue {
            jobs: Mutex::new(VecDeque::new()),
            ready: Condvar::new(),
        });
        for _ in 0..SPAWNER_THREADS {
            let for_thread = queue.clone();
            std::thread::Builder::new()
                .name("offload-spawner".into())
                .spawn(move || spawner_main(&for_thread))
                .expect("offload: cannot start the spawner thread");
        }
        queue
    })
}

/// Queues a launch. Returns at once.
pub(crate) fn submit(job: Job) {
    let queue = queue();
    queue.jobs.lock().unwrap().push_back(job);
    queue.ready.notify_one();
}

/// Moves the job of `child` to the front of the queue, after the queued jobs
/// whose stdout it reads (a pipeline's earlier stages must launch first).
pub(crate) fn promote(child: &ChildShared) {
    let mut jobs = queue().jobs.lock().unwrap();
    let mut chain = Vec::new();
    let mut wanted: *const ChildShared = child;
    while let Some(i) = jobs
        .iter()
        .position(|job| std::ptr::eq(Arc::as_ptr(&job.shared), wanted))
    {
        let job = jobs.remove(i).expect("index from position");
        wanted = match &job.request.stdin {
            Input::ChildStdout(source) => Arc::as_ptr(source),
            _ => std::ptr::null(),
        };
        chain.push(job);
    }
    for job in chain {
        jobs.push_front(job);
    }
}

fn spawner_main(queue: &Queue) {
    // SCHED_BATCH: waking the spawner must not preempt the JS thread that just
    // queued a launch (on a busy machine it would otherwise run the whole launch
    // in the middle of the caller's `spawn()`). The child resets it before exec.
    // SAFETY: plain syscalls on this thread.
    unsafe {
        let param = libc::sched_param { sched_priority: 0 };
        libc::sched_setscheduler(0, libc::SCHED_BATCH, &param);
    }
    // SAFETY: blocking every signal for this thread only.
    unsafe {
        let mut all: libc::sigset_t = std::mem::zeroed();
        libc::sigfillset(&mut all);
        libc::pthread_sigmask(libc::SIG_BLOCK, &all, std::ptr::null_mut());
    }
    let mut stack = ChildStack::new().expect("offload: cannot map the spawn stack");
    let dev_null = fds::open("/dev/null", libc::O_RDWR).expect("offload: cannot open /dev/null");
    loop {
        let job = {
            let mut jobs = queue.jobs.lock().unwrap();
            loop {
                match jobs.pop_front() {
                    Some(job) => break job,
                    None => jobs = queue.ready.wait(jobs).unwrap(),
                }
            }
        };
        // A bug in one launch must not take the spawner (and every later launch) down.
        let (shared, sink) = (job.shared.clone(), job.sink.clone());
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            run_job(job, &mut stack, &dev_null)
        }));
        if outcome.is_err() {
            shared.set_failed();
            let error = io::Error::other("offload: internal error while launching (see stderr)");
            sink.emit(ChildEvent::SpawnFailed(failure(Step::Exec, error, "")));
        }
    }
}

/// The descriptors a launch needs: what the child gets and what we keep.
#[derive(Default)]
pub(super) struct Plumbing {
    /// `(source, target)` for the child.
    pub map: Vec<(RawFd, RawFd)>,
    /// Child-side descriptors we opened; closed once the child has its copies.
    pub child_ends: Vec<OwnedFd>,
    /// Our non-blocking end of the stdin pipe.
    pub stdin: Option<OwnedFd>,
    /// Our non-blocking ends of the stdout and stderr pipes.
    pub outputs: [Option<OwnedFd>; 2],
    ipc: Option<OwnedFd>,
}

fn failure(step: Step, error: io::Error, path: &str) -> SpawnFailure {
    SpawnFailure {
        step,
        error,
        path: path.to_owned(),
    }
}

pub(super) fn plumb(request: &SpawnRequest, dev_null: &OwnedFd) -> Result<Plumbing, SpawnFailure> {
    let mut p = Plumbing::default();
    let io_err = |e| failure(Step::Stdio, e, "");

    match &request.stdin {
        Input::Pipe | Input::Data(_) => {
            let (read, write) = fds::pipe().map_err(io_err)?;
            fds::set_nonblocking(&write).map_err(io_err)?;
            p.map.push((read.as_raw_fd(), 0));
            p.child_ends.push(read);
            p.stdin = Some(write);
        }
        Input::Ignore => p.map.push((dev_null.as_raw_fd(), 0)),
        Input::Fd(fd) => p.map.push((fd.as_raw_fd(), 0)),
        Input::File(path) => {
            let fd = fds::open(path, libc::O_RDONLY).map_err(|e| failure(Step::Stdio, e, path))?;
            p.map.push((fd.as_raw_fd(), 0));
            p.child_ends.push(fd);
        }
        Input::ChildStdout(source) => {
            // Reserved at the call. The source is ahead of us in the queue, so
            // it is launched or being launched by the other thread: wait for it.
            source.pid();
            let Some(fd) = source.take_for_next_stage() else {
                let e = io::Error::other("the previous command of the pipeline did not start");
                return Err(failure(Step::Stdio, e, ""));
            };
            // Our copy was non-blocking for the runtime; the child routine clears that.
            p.map.push((fd.as_raw_fd(), 0));
            p.child_ends.push(fd);
        }
    }

    for (i, output) in [&request.stdout, &request.stderr].into_iter().enumerate() {
        let target = i as RawFd + 1;
        match output {
            Output::Pipe => {
                let (read, write) = fds::pipe().map_err(io_err)?;
                fds::set_nonblocking(&read).map_err(io_err)?;
                p.map.push((write.as_raw_fd(), target));
                p.child_ends.push(write);
                p.outputs[i] = Some(read);
            }
            Output::Ignore => p.map.push((dev_null.as_raw_fd(), target)),
            Output::Fd(fd) => p.map.push((fd.as_raw_fd(), target)),
            Output::File { path, append } => {
                let mode = if *append {
                    libc::O_APPEND
                } else {
                    libc::O_TRUNC
                };
                let fd = fds::open(path, libc::O_WRONLY | libc::O_CREAT | mode)
                    .map_err(|e| failure(Step::Stdio, e, path))?;
                p.map.push((fd.as_raw_fd(), target));
                p.child_ends.push(fd);
            }
        }
    }

    if request.ipc.is_some() {
        let (ours, theirs) = fds::socket_pair().map_err(io_err)?;
        fds::set_nonblocking(&ours).map_err(io_err)?;
        p.map.push((theirs.as_raw_fd(), request.ipc_fd));
        p.child_ends.push(theirs);
        p.ipc = Some(ours);
    }
    for (fd, target) in &request.inherit_fds {
        p.map.push((fd.as_raw_fd(), *target));
    }
    Ok(p)
}

fn cstring(s: &str) -> CString {
    CString::new(s).expect("NUL bytes are rejected before a request is made")
}

pub(super) fn plan(request: &SpawnRequest, map: Vec<(RawFd, RawFd)>) -> LaunchPlan {
    let envp: Vec<CString> = request.env.iter().map(|e| cstring(e)).collect();
    let argv0 = request.argv0.as_deref().unwrap_or(&request.file);
    let limits = &request.limits;
    let rlimits = [
        (libc::RLIMIT_DATA, limits.memory_bytes),
        (libc::RLIMIT_CPU, limits.cpu_seconds),
        (libc::RLIMIT_NOFILE, limits.open_files),
        (libc::RLIMIT_NPROC, limits.processes),
        (libc::RLIMIT_FSIZE, limits.file_size_bytes),
    ]
    .into_iter()
    .filter_map(|(resource, value)| value.map(|v| (resource as libc::c_int, v)))
    .collect();
    LaunchPlan {
        candidates: search_path::candidates(&request.file, &envp),
        argv: std::iter::once(argv0)
            .chain(request.args.iter().map(String::as_str))
            .map(cstring)
            .collect(),
        envp,
        cwd: request.cwd.as_deref().map(cstring),
        fds: map,
        grouping: if request.detached {
            Grouping::NewSession
        } else if request.kill_tree {
            Grouping::NewGroup
        } else {
            Grouping::Inherit
        },
        rlimits,
        nice: limits.nice,
        uid: request.uid,
        gid: request.gid,
        parent_death_signal: (request.cleanup && !request.detached).then_some(libc::SIGKILL),
    }
}

/// A failed launch, naming the directory when `chdir` failed and the program otherwise.
pub(super) fn launch_failure(request: &SpawnRequest, e: LaunchError) -> SpawnFailure {
    let path = match e.step {
        Step::Chdir => request.cwd.as_deref().unwrap_or_default(),
        _ => &request.file,
    };
    failure(e.step, e.error, path)
}

fn run_job(job: Job, stack: &mut ChildStack, dev_null: &OwnedFd) {
    let Job {
        mut request,
        shared,
        sink,
        started,
        control,
        control_tx,
        outputs,
        output_notify,
        stdin,
        ipc,
    } = job;
    let fail = |f: SpawnFailure| {
        shared.set_failed();
        sink.emit(ChildEvent::SpawnFailed(f));
    };
    let mut plumbing = match plumb(&request, dev_null) {
        Ok(p) => p,
        Err(f) => return fail(f),
    };
    let launch_plan = plan(&request, std::mem::take(&mut plumbing.map));
    let launched = launch(&launch_plan, stack);
    drop(plumbing.child_ends);
    // The child has its copies; ours would hide its death from the other end.
    drop(std::mem::take(&mut request.inherit_fds));
    let launched = match launched {
        Ok(l) => l,
        Err(e) => return fail(launch_failure(&request, e)),
    };

    let pidfd = Arc::new(launched.pidfd);
    let [out_fd, err_fd] = std::mem::take(&mut plumbing.outputs);
    for (stream, fd) in [(Stream::Stdout, out_fd), (Stream::Stderr, err_fd)] {
        if let Some(fd) = fd {
            shared.fill_output(stream, fd);
        }
    }
    let piped = [
        matches!(request.stdout, Output::Pipe),
        matches!(request.stderr, Output::Pipe),
    ];
    let [out_rx, err_rx] = outputs;
    let data = match &mut request.stdin {
        Input::Data(d) => Some(std::mem::take(d)),
        _ => None,
    };
    let early_signals = shared.set_running(launched.pid, pidfd.clone());
    sink.emit(ChildEvent::Spawned {
        pid: launched.pid as u32,
    });
    // Signals sent before the launch; unless SIGKILL, SIGKILL may follow.
    let escalate = early_signals.into_iter().any(|signal| {
        shared.signal(signal).unwrap_or(false) && signal != libc::SIGKILL && signal != 0
    });
    if escalate {
        let _ = control_tx.send(Control::Killed);
    }

    let running = Running {
        pidfd,
        shared,
        sink,
        policy: Policy {
            timeout: request.timeout,
            kill_signal: request.kill_signal,
            force_kill_after: request.force_kill_after,
            max_buffer: request.max_buffer,
            limit_streamed_output: request.limit_streamed_output,
            started,
        },
        control,
        outputs: [piped[0].then_some(out_rx), piped[1].then_some(err_rx)],
        output_notify,
        stdin: plumbing.stdin.map(|fd| (fd, stdin, data)),
        ipc: plumbing
            .ipc
            .map(|fd| (fd, request.ipc.unwrap_or_default(), ipc)),
    };
    crate::runtime::handle().spawn(supervise(running));
}
