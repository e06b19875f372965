//! The caller's side of a child: a cheap handle whose methods never block on I/O.

use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};

use tokio::sync::mpsc::UnboundedSender;

use super::events::Stream;

/// State shared by the handle, the spawner thread and the child's tasks.
pub struct ChildShared {
    launch: Mutex<LaunchState>,
    launched: Condvar,
    exited: AtomicBool,
    kill_tree: bool,
    /// Output pipes not yet claimed by their reader: a pipeline can take the
    /// stdout pipe from here while nobody has read from it.
    pub(crate) unclaimed: [Mutex<Option<OwnedFd>>; 2],
}

enum LaunchState {
    Pending,
    Running { pid: i32, pidfd: Arc<OwnedFd> },
    Failed,
}

impl ChildShared {
    pub(crate) fn new(kill_tree: bool) -> ChildShared {
        ChildShared {
            launch: Mutex::new(LaunchState::Pending),
            launched: Condvar::new(),
            exited: AtomicBool::new(false),
            kill_tree,
            unclaimed: [Mutex::new(None), Mutex::new(None)],
        }
    }

    pub(crate) fn set_running(&self, pid: i32, pidfd: Arc<OwnedFd>) {
        *self.launch.lock().unwrap() = LaunchState::Running { pid, pidfd };
        self.launched.notify_all();
    }

    pub(crate) fn set_failed(&self) {
        *self.launch.lock().unwrap() = LaunchState::Failed;
        self.launched.notify_all();
    }

    pub(crate) fn set_exited(&self) {
        self.exited.store(true, Ordering::Release);
    }

    pub(crate) fn slot(&self, stream: Stream) -> &Mutex<Option<OwnedFd>> {
        &self.unclaimed[stream as usize - 1]
    }

    /// The pid, waiting for the spawner if it has not launched the child yet
    /// (tens of microseconds). `None` if the launch failed.
    pub fn pid(&self) -> Option<u32> {
        let mut state = self.launch.lock().unwrap();
        loop {
            match &*state {
                LaunchState::Pending => state = self.launched.wait(state).unwrap(),
                LaunchState::Running { pid, .. } => return Some(*pid as u32),
                LaunchState::Failed => return None,
            }
        }
    }

    /// Sends `signal` to the child, or to its whole process group with
    /// `kill_tree`. `Ok(false)` when there is no child to signal any more.
    pub fn signal(&self, signal: i32) -> io::Result<bool> {
        self.pid();
        let state = self.launch.lock().unwrap();
        let LaunchState::Running { pid, pidfd } = &*state else {
            return Ok(false);
        };
        if self.exited.load(Ordering::Acquire) {
            return Ok(false);
        }
        // SAFETY: plain syscalls. The pidfd cannot point to a recycled pid; the
        // process group id stays reserved while any member is alive.
        let rc = unsafe {
            if self.kill_tree {
                libc::kill(-*pid, signal) as libc::c_long
            } else {
                libc::syscall(
                    libc::SYS_pidfd_send_signal,
                    pidfd.as_raw_fd(),
                    signal,
                    std::ptr::null::<libc::siginfo_t>(),
                    0,
                )
            }
        };
        if rc == 0 {
            return Ok(true);
        }
        let err = io::Error::last_os_error();
        if err.raw_os_error() == Some(libc::ESRCH) {
            Ok(false)
        } else {
            Err(err)
        }
    }
}

/// Requests to the child's supervising task.
pub(crate) enum Control {
    /// The caller sent a signal itself: start the force-kill timer.
    Killed,
    /// Kill the child because the caller gave up on it (`AbortSignal`).
    Cancel,
}

/// Requests to an output pipe's reader.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum OutputControl {
    /// Keep everything for the result.
    Collect,
    /// Hand chunks to the caller, one per `Read`.
    Stream,
    /// The caller wants the next chunk.
    Read,
    /// The child exited: a reader nobody decided about starts collecting.
    ChildExited,
}

/// Requests to a writer (stdin or the IPC channel).
pub(crate) enum WriteControl {
    Write {
        id: u32,
        data: Vec<u8>,
    },
    /// Close our end once everything queued is written.
    End,
}

/// The caller's handle on one child. Every method returns at once; results come
/// back as [`super::ChildEvent`]s.
#[derive(Clone)]
pub struct ChildHandle {
    pub(crate) shared: Arc<ChildShared>,
    pub(crate) control: UnboundedSender<Control>,
    pub(crate) outputs: [UnboundedSender<OutputControl>; 2],
    pub(crate) stdin: UnboundedSender<WriteControl>,
    pub(crate) ipc: UnboundedSender<WriteControl>,
}

impl ChildHandle {
    pub fn shared(&self) -> &Arc<ChildShared> {
        &self.shared
    }

    pub fn pid(&self) -> Option<u32> {
        self.shared.pid()
    }

    /// Signals the child; unless the signal is SIGKILL, SIGKILL follows after
    /// `force_kill_after` if the child is still alive.
    pub fn kill(&self, signal: i32) -> io::Result<bool> {
        let sent = self.shared.signal(signal)?;
        if sent && signal != libc::SIGKILL && signal != 0 {
            let _ = self.control.send(Control::Killed);
        }
        Ok(sent)
    }

    /// Kills the child (the request's kill signal, then SIGKILL) and marks the
    /// outcome as canceled.
    pub fn cancel(&self) {
        let _ = self.control.send(Control::Cancel);
    }

    /// Keeps the stream's output for [`super::Outcome`].
    pub fn collect(&self, stream: Stream) {
        let _ = self.outputs[stream as usize - 1].send(OutputControl::Collect);
    }

    /// Switches the stream to chunks delivered on request; anything collected so
    /// far comes first.
    pub fn stream(&self, stream: Stream) {
        let _ = self.outputs[stream as usize - 1].send(OutputControl::Stream);
    }

    /// Asks for the next chunk of a streamed output.
    pub fn read(&self, stream: Stream) {
        let _ = self.outputs[stream as usize - 1].send(OutputControl::Read);
    }

    pub fn write_stdin(&self, id: u32, data: Vec<u8>) -> bool {
        self.stdin.send(WriteControl::Write { id, data }).is_ok()
    }

    pub fn end_stdin(&self) {
        let _ = self.stdin.send(WriteControl::End);
    }

    /// Sends one IPC frame (JSON text plus a newline).
    pub fn send_message(&self, id: u32, frame: Vec<u8>) -> bool {
        self.ipc
            .send(WriteControl::Write { id, data: frame })
            .is_ok()
    }

    pub fn disconnect(&self) {
        let _ = self.ipc.send(WriteControl::End);
    }
}
