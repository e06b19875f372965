//! Launching a child without ever `fork()`ing the Node process.
//!
//! `fork()` copies the page tables of the whole process under the mm lock, which
//! stalls every thread of a large Node process for milliseconds. Instead we do what
//! glibc's `posix_spawn` does, `clone(CLONE_VM | CLONE_VFORK)`, but with our own
//! child routine so that the things `posix_spawn` cannot express (resource limits,
//! the parent-death signal, uid/gid, a new process group) still happen in the child
//! before `execve`, with no exec shim in between.
//!
//! The child shares our memory until it execs, so the routine obeys the vfork
//! rules: no allocation, no locks, no glibc wrappers that touch other threads
//! (`setuid` and friends broadcast to every thread of the process, so we issue the
//! raw syscalls), and every signal blocked until the dispositions are reset.
//! Everything the child needs is prepared by the parent in [`LaunchPlan`].
//!
//! Failures in the child are reported through shared memory (the parent is
//! suspended until the child execs or exits, so a plain atomic store is enough).

use std::ffi::CString;
use std::io;
use std::os::fd::{FromRawFd, OwnedFd, RawFd};
use std::ptr;
use std::sync::atomic::{AtomicI32, Ordering};

/// Which session or process group the child starts in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Grouping {
    /// Same process group as Node (the default, like Node's `spawn`).
    Inherit,
    /// A new process group led by the child, so the whole tree can be signalled.
    NewGroup,
    /// A new session (`detached: true`), which is also a new process group.
    NewSession,
}

/// The step of the child routine that failed, reported to the caller so the error
/// can say *what* went wrong (a missing `cwd` is not a missing program).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    Exec = 1,
    Chdir = 2,
    Stdio = 3,
    Limit = 4,
    Credentials = 5,
    Session = 6,
    ParentDeath = 7,
}

impl Step {
    fn from_i32(v: i32) -> Step {
        match v {
            2 => Step::Chdir,
            3 => Step::Stdio,
            4 => Step::Limit,
            5 => Step::Credentials,
            6 => Step::Session,
            7 => Step::ParentDeath,
            _ => Step::Exec,
        }
    }
}

/// Everything the child routine needs, prepared (and allocated) by the parent.
pub struct LaunchPlan {
    /// Paths to try with `execve`, in order (the `PATH` search result).
    pub candidates: Vec<CString>,
    pub argv: Vec<CString>,
    pub envp: Vec<CString>,
    pub cwd: Option<CString>,
    /// `(source, target)`: the child gets a copy of `source` at fd number `target`.
    pub fds: Vec<(RawFd, RawFd)>,
    pub grouping: Grouping,
    /// `(resource, limit)` pairs for `prlimit`; soft and hard limits are set together
    /// except for `RLIMIT_CPU`, whose hard limit is one second later so the child
    /// first gets a catchable `SIGXCPU`.
    pub rlimits: Vec<(libc::c_int, u64)>,
    pub nice: Option<i32>,
    pub uid: Option<u32>,
    pub gid: Option<u32>,
    /// Signal the kernel sends the child when the spawning thread dies.
    pub parent_death_signal: Option<libc::c_int>,
}

/// A child that exists: it has exec'd its program.
pub struct Launched {
    pub pid: i32,
    pub pidfd: OwnedFd,
}

/// Why a launch failed.
#[derive(Debug)]
pub struct LaunchError {
    pub step: Step,
    pub error: io::Error,
}

/// The stack the vfork child runs on. One is enough: the spawning thread is
/// suspended until the child has exec'd, so launches never overlap on it.
pub struct ChildStack {
    base: *mut libc::c_void,
    len: usize,
}

// The stack is only ever used by the thread that owns the ChildStack.
unsafe impl Send for ChildStack {}

const STACK_SIZE: usize = 256 * 1024;

/// What runs a program the kernel cannot execute itself, as execvp does.
const SHELL: &std::ffi::CStr = c"/bin/sh";

impl ChildStack {
    pub fn new() -> io::Result<ChildStack> {
        let len = STACK_SIZE;
        // SAFETY: an anonymous private mapping; checked for MAP_FAILED below.
        let base = unsafe {
            libc::mmap(
                ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_STACK,
                -1,
                0,
            )
        };
        if base == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        // A guard page at the low end turns an overflow into a fault, not corruption.
        // SAFETY: the first page of our own mapping.
        unsafe { libc::mprotect(base, page_size(), libc::PROT_NONE) };
        Ok(ChildStack { base, len })
    }

    fn top(&self) -> *mut libc::c_void {
        // Stacks grow down on every architecture we build for; keep 16-byte alignment.
        let top = self.base as usize + self.len;
        (top & !15) as *mut libc::c_void
    }
}

impl Drop for ChildStack {
    fn drop(&mut self) {
        // SAFETY: unmapping the mapping created in `new`.
        unsafe { libc::munmap(self.base, self.len) };
    }
}

fn page_size() -> usize {
    // SAFETY: sysconf has no preconditions.
    unsafe { libc::sysconf(libc::_SC_PAGESIZE) as usize }
}

/// Raw pointers into a [`LaunchPlan`], built before the clone so the child
/// touches no allocator.
struct ChildArgs {
    candidates: Vec<*const libc::c_char>,
    argv: Vec<*const libc::c_char>,
    /// `/bin/sh`, the candidate (filled in by the child), then `argv[1..]`: how
    /// execvp runs a file the kernel does not recognise (ENOEXEC) as a script.
    script_argv: Vec<*const libc::c_char>,
    envp: Vec<*const libc::c_char>,
    cwd: *const libc::c_char,
    fds: *const (RawFd, RawFd),
    fds_len: usize,
    /// Scratch space for the first pass of the fd shuffle (one slot per mapping).
    scratch: Vec<RawFd>,
    grouping: Grouping,
    rlimits: *const (libc::c_int, u64),
    rlimits_len: usize,
    nice: Option<i32>,
    uid: Option<u32>,
    gid: Option<u32>,
    parent_death_signal: Option<libc::c_int>,
    parent_pid: libc::pid_t,
    failed_step: AtomicI32,
    failed_errno: AtomicI32,
}

/// Launches the child described by `plan` and returns once it has exec'd.
///
/// Must be called from a thread that lives as long as the children it creates
/// when `parent_death_signal` is set (the kernel ties that signal to the creating
/// thread), and which has every signal blocked (the child inherits the mask and
/// only unblocks once its dispositions are back to the defaults).
pub fn launch(plan: &LaunchPlan, stack: &mut ChildStack) -> Result<Launched, LaunchError> {
    let with_null = |v: &[CString]| -> Vec<*const libc::c_char> {
        v.iter()
            .map(|s| s.as_ptr())
            .chain(std::iter::once(ptr::null()))
            .collect()
    };
    let argv = with_null(&plan.argv);
    let script_argv = [SHELL.as_ptr(), ptr::null()]
        .into_iter()
        .chain(argv.iter().skip(1).copied())
        .collect();
    let mut args = ChildArgs {
        candidates: with_null(&plan.candidates),
        argv,
        script_argv,
        envp: with_null(&plan.envp),
        cwd: plan.cwd.as_ref().map_or(ptr::null(), |c| c.as_ptr()),
        fds: plan.fds.as_ptr(),
        fds_len: plan.fds.len(),
        scratch: vec![-1; plan.fds.len()],
        grouping: plan.grouping,
        rlimits: plan.rlimits.as_ptr(),
        rlimits_len: plan.rlimits.len(),
        nice: plan.nice,
        uid: plan.uid,
        gid: plan.gid,
        parent_death_signal: plan.parent_death_signal,
        // SAFETY: getpid has no preconditions.
        parent_pid: unsafe { libc::getpid() },
        failed_step: AtomicI32::new(0),
        failed_errno: AtomicI32::new(0),
    };

    let mut pidfd: libc::c_int = -1;
    let flags = libc::CLONE_VM | libc::CLONE_VFORK | libc::CLONE_PIDFD | libc::SIGCHLD;
    // SAFETY: `child_main` only performs async-signal-safe work on `args`, which
    // outlives the call because CLONE_VFORK suspends us until the child has
    // exec'd or exited; the stack is ours and unused by anyone else meanwhile.
    let pid = unsafe {
        libc::clone(
            child_main,
            stack.top(),
            flags,
            &mut args as *mut ChildArgs as *mut libc::c_void,
            &mut pidfd as *mut libc::c_int,
        )
    };
    if pid < 0 {
        return Err(LaunchError {
            step: Step::Exec,
            error: io::Error::last_os_error(),
        });
    }
    // SAFETY: CLONE_PIDFD stored a new descriptor that we now own.
    let pidfd = unsafe { OwnedFd::from_raw_fd(pidfd) };

    let step = args.failed_step.load(Ordering::Acquire);
    if step != 0 {
        let errno = args.failed_errno.load(Ordering::Acquire);
        // The child has exited (or is about to); reap it so it leaves no zombie.
        reap_blocking(&pidfd);
        return Err(LaunchError {
            step: Step::from_i32(step),
            error: io::Error::from_raw_os_error(errno),
        });
    }
    Ok(Launched { pid, pidfd })
}

fn reap_blocking(pidfd: &OwnedFd) {
    use std::os::fd::AsRawFd;
    let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
    loop {
        // SAFETY: waitid on a pidfd we own, with a valid siginfo pointer.
        let rc = unsafe {
            libc::waitid(
                libc::P_PIDFD,
                pidfd.as_raw_fd() as libc::id_t,
                &mut info,
                libc::WEXITED,
            )
        };
        if rc == 0 || io::Error::last_os_error().raw_os_error() != Some(libc::EINTR) {
            return;
        }
    }
}

fn errno() -> i32 {
    // SAFETY: reading the calling thread's errno.
    unsafe { *libc::__errno_location() }
}

/// Records a failure for the parent and exits the child.
///
/// # Safety
/// Only called in the vfork child.
unsafe fn fail(args: &ChildArgs, step: Step, err: i32) -> ! {
    args.failed_errno.store(err, Ordering::Release);
    args.failed_step.store(step as i32, Ordering::Release);
    libc::_exit(127)
}

/// The vfork child. Async-signal-safe code only.
extern "C" fn child_main(arg: *mut libc::c_void) -> libc::c_int {
    // SAFETY: `arg` is the ChildArgs of `launch`, alive while we run.
    unsafe {
        let args = &mut *(arg as *mut ChildArgs);
        child_setup_and_exec(args)
    }
}

unsafe fn child_setup_and_exec(args: &mut ChildArgs) -> ! {
    // Handlers installed by Node or libuv point into the parent's memory, which we
    // share: put every signal back to its default (as libuv does for its children,
    // so SIGPIPE is not left ignored). Signals are still blocked at this point.
    let mut dfl: libc::sigaction = std::mem::zeroed();
    dfl.sa_sigaction = libc::SIG_DFL;
    for sig in 1..65 {
        if sig != libc::SIGKILL && sig != libc::SIGSTOP {
            // glibc refuses its two internal signals; that is fine.
            libc::sigaction(sig, &dfl, ptr::null_mut());
        }
    }

    // The spawner thread runs SCHED_BATCH; the program gets the normal policy.
    let normal = libc::sched_param { sched_priority: 0 };
    libc::syscall(
        libc::SYS_sched_setscheduler,
        0,
        libc::SCHED_OTHER,
        &normal as *const libc::sched_param,
    );

    match args.grouping {
        Grouping::Inherit => {}
        Grouping::NewGroup => {
            if libc::setpgid(0, 0) != 0 {
                fail(args, Step::Session, errno());
            }
        }
        Grouping::NewSession => {
            if libc::setsid() < 0 {
                fail(args, Step::Session, errno());
            }
        }
    }

    // Stdio: first copy every source above the highest target (so a source that
    // is also someone's target is not clobbered), then move the copies into place.
    // dup2 from a different number clears close-on-exec on the target; the scratch
    // copies are close-on-exec and vanish at exec.
    let fds = std::slice::from_raw_parts(args.fds, args.fds_len);
    let above = fds.iter().map(|&(_, t)| t).max().unwrap_or(2) + 1;
    for (i, &(src, _)) in fds.iter().enumerate() {
        let copy = libc::fcntl(src, libc::F_DUPFD_CLOEXEC, above);
        if copy < 0 {
            fail(args, Step::Stdio, errno());
        }
        args.scratch[i] = copy;
    }
    for (i, &(_, target)) in fds.iter().enumerate() {
        if libc::dup2(args.scratch[i], target) < 0 {
            fail(args, Step::Stdio, errno());
        }
        // Programs expect blocking stdio. A descriptor the caller passed may be
        // non-blocking (libuv makes its sockets and pipes so); as libuv does for
        // its children, clear it (the flag belongs to the shared file description).
        if target <= 2 {
            let flags = libc::fcntl(target, libc::F_GETFL);
            if flags >= 0 && flags & libc::O_NONBLOCK != 0 {
                libc::fcntl(target, libc::F_SETFL, flags & !libc::O_NONBLOCK);
            }
        }
    }
    // Numbers below the highest target that are no one's target (Node's
    // `'ignore'` beyond stderr, or gaps) are closed in the child, as libuv
    // leaves them: close-on-exec here, since close_range below starts above.
    for fd in 3..above {
        if !fds.iter().any(|&(_, target)| target == fd) {
            let flags = libc::fcntl(fd, libc::F_GETFD);
            if flags >= 0 {
                libc::fcntl(fd, libc::F_SETFD, flags | libc::FD_CLOEXEC);
            }
        }
    }
    // Descriptors Node or a native module opened without O_CLOEXEC must not leak
    // into the child. Errors (kernels before 5.11) are harmless: libuv opens
    // everything close-on-exec anyway.
    libc::syscall(
        libc::SYS_close_range,
        above as libc::c_uint,
        libc::c_uint::MAX,
        libc::CLOSE_RANGE_CLOEXEC,
    );

    if !args.cwd.is_null() && libc::chdir(args.cwd) != 0 {
        fail(args, Step::Chdir, errno());
    }

    let rlimits = std::slice::from_raw_parts(args.rlimits, args.rlimits_len);
    for &(resource, value) in rlimits {
        let hard = if resource == libc::RLIMIT_CPU as libc::c_int {
            value.saturating_add(1)
        } else {
            value
        };
        let lim = libc::rlimit64 {
            rlim_cur: value,
            rlim_max: hard,
        };
        if libc::syscall(
            libc::SYS_prlimit64,
            0,
            resource,
            &lim as *const libc::rlimit64,
            ptr::null_mut::<libc::rlimit64>(),
        ) != 0
        {
            fail(args, Step::Limit, errno());
        }
    }
    if let Some(nice) = args.nice {
        if libc::setpriority(libc::PRIO_PROCESS, 0, nice) != 0 {
            fail(args, Step::Limit, errno());
        }
    }

    // Raw syscalls: glibc's wrappers would try to change the credentials of every
    // thread of the (shared) parent process.
    if args.uid.is_some() || args.gid.is_some() {
        let rc = libc::syscall(libc::SYS_setgroups, 0, ptr::null::<libc::gid_t>());
        if rc != 0 && errno() != libc::EPERM {
            fail(args, Step::Credentials, errno());
        }
    }
    if let Some(gid) = args.gid {
        if libc::syscall(libc::SYS_setgid, gid) != 0 {
            fail(args, Step::Credentials, errno());
        }
    }
    if let Some(uid) = args.uid {
        if libc::syscall(libc::SYS_setuid, uid) != 0 {
            fail(args, Step::Credentials, errno());
        }
    }

    // After the credential change, which clears it. If the parent died before this
    // point the signal will never come, so check and go.
    if let Some(sig) = args.parent_death_signal {
        if libc::prctl(libc::PR_SET_PDEATHSIG, sig as libc::c_ulong, 0, 0, 0) != 0 {
            fail(args, Step::ParentDeath, errno());
        }
        if libc::getppid() != args.parent_pid {
            libc::_exit(127);
        }
    }

    let empty: u64 = 0;
    libc::syscall(
        libc::SYS_rt_sigprocmask,
        libc::SIG_SETMASK,
        &empty as *const u64,
        ptr::null_mut::<u64>(),
        8,
    );

    // The PATH search, like execvp: a missing candidate moves on, a permission
    // problem is remembered, anything else stops.
    let mut saw_eacces = false;
    let mut last = libc::ENOENT;
    for &path in &args.candidates {
        if path.is_null() {
            break;
        }
        libc::execve(path, args.argv.as_ptr(), args.envp.as_ptr());
        last = errno();
        if last == libc::ENOEXEC {
            // A script without `#!`: the shell runs it, as execvp (and so Node) does.
            args.script_argv[1] = path;
            libc::execve(
                SHELL.as_ptr(),
                args.script_argv.as_ptr(),
                args.envp.as_ptr(),
            );
            break;
        }
        match last {
            libc::ENOENT | libc::ENOTDIR | libc::ESTALE | libc::ENODEV | libc::ETIMEDOUT => {}
            libc::EACCES => saw_eacces = true,
            _ => break,
        }
    }
    if saw_eacces
        && matches!(
            last,
            libc::ENOENT | libc::ENOTDIR | libc::ESTALE | libc::ENODEV | libc::ETIMEDOUT
        )
    {
        last = libc::EACCES;
    }
    fail(args, Step::Exec, last)
}
