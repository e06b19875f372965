//! The caller's side of a child: a cheap handle whose methods never block on I/O.

use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::{Arc, Condvar, Mutex};

use tokio::sync::mpsc::UnboundedSender;

use super::events::Stream;

/// Moves a child's queued launch ahead of the others (the launch queue's, given
/// by whoever queued it: this module knows no queue).
pub(crate) type HurryLaunch = fn(&ChildShared);

/// State shared by the handle, the spawner thread and the child's tasks.
pub struct ChildShared {
    launch: Mutex<LaunchState>,
    launched: Condvar,
    hurry_launch: HurryLaunch,
    kill_tree: bool,
    /// The parent ends of the output pipes, until their reader (or, for stdout,
    /// the next stage of a pipeline) takes them.
    outputs: [Mutex<OutputSlot>; 2],
}

enum LaunchState {
    /// Queued on the spawner; signals sent meanwhile are delivered after launch.
    Pending {
        signals: Vec<i32>,
    },
    Running {
        pid: i32,
        pidfd: Arc<OwnedFd>,
    },
    /// Reaped: the pidfd is closed, so a finished child holds no descriptor.
    Exited {
        pid: i32,
    },
    Failed,
}

/// Who gets an output pipe.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Owner {
    Undecided,
    Reader,
    NextStage,
}

struct OutputSlot {
    fd: Option<OwnedFd>,
    owner: Owner,
}

impl ChildShared {
    pub(crate) fn new(kill_tree: bool, hurry_launch: HurryLaunch) -> ChildShared {
        let slot = || {
            Mutex::new(OutputSlot {
                fd: None,
                owner: Owner::Undecided,
            })
        };
        ChildShared {
            launch: Mutex::new(LaunchState::Pending {
                signals: Vec::new(),
            }),
            launched: Condvar::new(),
            hurry_launch,
            kill_tree,
            outputs: [slot(), slot()],
        }
    }

    /// Records the launch; returns the signals the caller sent before it.
    pub(crate) fn set_running(&self, pid: i32, pidfd: Arc<OwnedFd>) -> Vec<i32> {
        let previous = std::mem::replace(
            &mut *self.launch.lock().unwrap(),
            LaunchState::Running { pid, pidfd },
        );
        self.launched.notify_all();
        match previous {
            LaunchState::Pending { signals } => signals,
            _ => Vec::new(),
        }
    }

    pub(crate) fn set_failed(&self) {
        *self.launch.lock().unwrap() = LaunchState::Failed;
        self.launched.notify_all();
    }

    /// The child was reaped: drop our copy of its pidfd.
    pub(crate) fn set_exited(&self) {
        let mut state = self.launch.lock().unwrap();
        if let LaunchState::Running { pid, .. } = *state {
            *state = LaunchState::Exited { pid };
        }
    }

    fn slot(&self, stream: Stream) -> std::sync::MutexGuard<'_, OutputSlot> {
        self.outputs[stream as usize - 1].lock().unwrap()
    }

    /// The spawner hands over the parent end of an output pipe.
    pub(crate) fn fill_output(&self, stream: Stream, fd: OwnedFd) {
        self.slot(stream).fd = Some(fd);
    }

    /// The reader takes its pipe; `None` if the next stage of a pipeline has it.
    pub(crate) fn claim_for_reader(&self, stream: Stream) -> Option<OwnedFd> {
        let mut slot = self.slot(stream);
        if slot.owner == Owner::NextStage {
            return None;
        }
        slot.owner = Owner::Reader;
        slot.fd.take()
    }

    /// Promises stdout to the next stage of a pipeline, at the call (so a child
    /// that exits meanwhile does not have its pipe collected). Fails if a reader
    /// already has it.
    pub fn reserve_stdout_for_next_stage(&self) -> io::Result<()> {
        let mut slot = self.slot(Stream::Stdout);
        match slot.owner {
            Owner::Undecided => {
                slot.owner = Owner::NextStage;
                Ok(())
            }
            Owner::Reader => Err(io::Error::other(
                "its stdout was already read; pipe it before reading or awaiting it",
            )),
            Owner::NextStage => Err(io::Error::other(
                "its stdout is already piped to another command",
            )),
        }
    }

    pub(crate) fn stdout_reserved_for_next_stage(&self) -> bool {
        self.slot(Stream::Stdout).owner == Owner::NextStage
    }

    /// The next stage takes the reserved stdout pipe (on the spawner thread,
    /// after the source's own launch).
    pub(crate) fn take_for_next_stage(&self) -> Option<OwnedFd> {
        self.slot(Stream::Stdout).fd.take()
    }

    /// The pid, waiting for the spawner if it has not launched the child yet.
    /// The launch moves to the front of the queue, so this waits for at most
    /// the launch in progress and this one. `None` if the launch failed.
    pub fn pid(&self) -> Option<u32> {
        let mut state = self.launch.lock().unwrap();
        let mut promoted = false;
        loop {
            match &*state {
                LaunchState::Pending { .. } if !promoted => {
                    // Jump the queue rather than wait for every launch before ours.
                    drop(state);
                    (self.hurry_launch)(self);
                    promoted = true;
                    state = self.launch.lock().unwrap();
                }
                LaunchState::Pending { .. } => state = self.launched.wait(state).unwrap(),
                LaunchState::Running { pid, .. } | LaunchState::Exited { pid } => {
                    return Some(*pid as u32)
                }
                LaunchState::Failed => return None,
            }
        }
    }

    /// Sends `signal` to the child, or to its whole process group with
    /// `kill_tree`. Never waits: a signal for a child still queued for launch is
    /// delivered right after it starts. `Ok(false)` when there is no child to
    /// signal any more.
    pub fn signal(&self, signal: i32) -> io::Result<bool> {
        let mut state = self.launch.lock().unwrap();
        let (pid, pidfd) = match &mut *state {
            LaunchState::Pending { signals } => {
                signals.push(signal);
                return Ok(true);
            }
            LaunchState::Running { pid, pidfd } => (*pid, pidfd),
            LaunchState::Exited { .. } | LaunchState::Failed => return Ok(false),
        };
        signal_child(pid, pidfd, self.kill_tree, signal)
    }

    /// The child was launched (it may have exited and been reaped since).
    pub(crate) fn has_started(&self) -> bool {
        matches!(
            *self.launch.lock().unwrap(),
            LaunchState::Running { .. } | LaunchState::Exited { .. }
        )
    }
}

/// Sends `signal` to a child that has not been reaped, through its pidfd, or to
/// its whole process group with `kill_tree`. `Ok(false)` when it is gone.
pub(crate) fn signal_child(
    pid: i32,
    pidfd: &OwnedFd,
    kill_tree: bool,
    signal: i32,
) -> io::Result<bool> {
    // SAFETY: plain syscalls. The pidfd cannot point to a recycled pid; the
    // process group id stays reserved while any member is alive.
    let rc = unsafe {
        if kill_tree {
            libc::kill(-pid, signal) as libc::c_long
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
    /// The caller threw the stream away: close the pipe (a child still writing
    /// gets EPIPE or SIGPIPE, as with Node) and report nothing more.
    Discard,
    /// Stop waiting for end of file (the child timed out or was cancelled and a
    /// grandchild may hold the pipe): take what is there and finish.
    Abandon,
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

    /// Promises stdout to a child started next with `Input::ChildStdout`;
    /// `false` if a reader already has it (it was read, awaited, or the child
    /// exited and it was collected).
    pub fn reserve_stdout(&self) -> bool {
        self.shared.reserve_stdout_for_next_stage().is_ok()
    }

    /// Signals the child; unless the signal is SIGKILL, SIGKILL follows after
    /// `force_kill_after` if the child is still alive.
    ///
    /// A child that has exited but whose exit the caller has not been told of yet
    /// also counts as signalled: the caller still sees it running, and we reap on
    /// another thread, where Node keeps a zombie until its own loop reaps it (and
    /// a signal to a zombie succeeds). Without this, an abort or `kill()` in the
    /// same tick as the launch could find the child gone and be dropped.
    pub fn kill(&self, signal: i32) -> io::Result<bool> {
        let sent = self.shared.signal(signal)?;
        if sent && signal != libc::SIGKILL && signal != 0 {
            let _ = self.control.send(Control::Killed);
        }
        Ok(sent || self.shared.has_started())
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

    /// Closes an output the caller no longer wants.
    pub fn discard(&self, stream: Stream) {
        let _ = self.outputs[stream as usize - 1].send(OutputControl::Discard);
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

    /// Sends one IPC frame, whole, in the channel's serialization.
    pub fn send_message(&self, id: u32, frame: Vec<u8>) -> bool {
        self.ipc
            .send(WriteControl::Write { id, data: frame })
            .is_ok()
    }

    pub fn disconnect(&self) {
        let _ = self.ipc.send(WriteControl::End);
    }
}
