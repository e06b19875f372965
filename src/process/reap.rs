//! Reaping through a pidfd: no SIGCHLD handler, so Node's own `child_process`
//! (whose libuv handler waits only for its own pids) works beside us.

use std::io;
use std::os::fd::{AsRawFd, OwnedFd};

use super::events::ExitInfo;

/// Collects the exit status if the child has exited, with its resource usage.
/// `Ok(None)` while it runs.
pub fn try_reap(pidfd: &OwnedFd) -> io::Result<Option<ExitInfo>> {
    // SAFETY: zeroed siginfo/rusage are valid out-parameters.
    let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        // The raw syscall, because only it returns the rusage (glibc's waitid does not).
        // SAFETY: valid pointers and a pidfd we own.
        let rc = unsafe {
            libc::syscall(
                libc::SYS_waitid,
                libc::P_PIDFD,
                pidfd.as_raw_fd(),
                &mut info as *mut libc::siginfo_t,
                libc::WEXITED | libc::WNOHANG,
                &mut usage as *mut libc::rusage,
            )
        };
        if rc == 0 {
            break;
        }
        let err = io::Error::last_os_error();
        match err.raw_os_error() {
            Some(libc::EINTR) => continue,
            // Someone set SIGCHLD to SIG_IGN, so the kernel reaped it for us:
            // the child is gone and its status is lost.
            Some(libc::ECHILD) => return Ok(Some(ExitInfo::default())),
            _ => return Err(err),
        }
    }
    // SAFETY: waitid filled `info` (si_pid stays 0 while the child runs).
    let (pid, code, status) = unsafe { (info.si_pid(), info.si_code, info.si_status()) };
    if pid == 0 {
        return Ok(None);
    }
    let ms = |tv: libc::timeval| tv.tv_sec as f64 * 1000.0 + tv.tv_usec as f64 / 1000.0;
    let mut exit = ExitInfo {
        max_rss_bytes: usage.ru_maxrss as u64 * 1024,
        user_cpu_ms: ms(usage.ru_utime),
        system_cpu_ms: ms(usage.ru_stime),
        ..ExitInfo::default()
    };
    if code == libc::CLD_EXITED {
        exit.code = Some(status);
    } else {
        exit.signal = Some(status);
    }
    Ok(Some(exit))
}
