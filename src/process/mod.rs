//! The spawn engine: launching, stdio, limits, reaping, kill and pipelines.
//!
//! # Model
//!
//! [`spawn`] returns a [`ChildHandle`] at once; the launch itself happens on a
//! long-lived *spawner thread* (one of two), and everything after it (pipes, the exit,
//! timers) on a small tokio runtime. What happens to a child comes back to the
//! caller as [`ChildEvent`]s through an [`EventSink`], in a fixed order: `Spawned`
//! or `SpawnFailed`; then output chunks, IPC messages and write completions;
//! `Exit` when the child is reaped; `Closed` when its pipes are drained.
//!
//! - **No `fork()`.** Children are created with `clone(CLONE_VM | CLONE_VFORK)`
//!   and a child routine that applies limits, credentials and the parent-death
//!   signal before `execve` (`launch_linux.rs`). Cost: tens of microseconds, at
//!   any size of the parent.
//! - **Reaping by pidfd.** Each child's pidfd is registered with the runtime;
//!   nothing installs or depends on a SIGCHLD handler.
//! - **Backpressure.** A streamed pipe is read one chunk per request, so a slow
//!   consumer leaves the data in the kernel and the child blocks on write.
//! - **Synchronous runs.** [`run_to_completion`] launches from the calling
//!   thread and waits in one `poll` loop on that thread, with Node's
//!   `spawnSync` rules (see `blocking.rs`); nothing else is involved.
//! - **Cleanup.** With `cleanup`, the kernel SIGKILLs the child when this process
//!   dies, even by SIGKILL (`PR_SET_PDEATHSIG`, tied to the spawner threads).
//!
//! # Layout
//!
//! Dependencies point down: `spawner.rs` (the launch queue and threads) uses
//! `supervisor.rs` (one task per running child), which uses the pipes' tasks
//! (`output.rs`, `stdin.rs`, `ipc.rs`, `writer.rs`); all of them use
//! `handle.rs`, what they share of one child. `handle.rs` knows no queue: the
//! caller asking for a queued child's pid hurries its launch through the
//! function [`spawn`] gave its `ChildShared` (`spawner::promote`).
//!
//! # Caveats
//!
//! - Linux only, kernel 5.3 or later (pidfds from `clone`).
//! - If something in the process sets SIGCHLD to `SIG_IGN`, the kernel reaps
//!   children itself and their exit status is lost (reported as neither code
//!   nor signal).
//! - `cleanup` reaches the direct child only; use `kill_tree` to signal a whole
//!   process group on timeout or kill.
//! - `limits.processes` (`RLIMIT_NPROC`) counts every process of the user and is
//!   not enforced for root.

mod blocking;
mod events;
pub(crate) mod fds;
mod handle;
pub(crate) mod ipc;
mod launch_linux;
mod output;
mod reap;
mod request;
mod search_path;
mod spawner;
mod stdin;
mod supervisor;
mod writer;

use std::sync::Arc;
use std::time::Instant;

use tokio::sync::mpsc::unbounded_channel;

pub use blocking::{run_to_completion, Completion, RunError};
pub use events::{ChildEvent, EventSink, ExitInfo, Message, Outcome, SpawnFailure, Stream};
pub use handle::{ChildHandle, ChildShared};
pub use ipc::Serialization;
pub use launch_linux::Step;
pub use request::{
    current_env, duplicate_fd, Input, Limits, Output, SpawnRequest, DEFAULT_FORCE_KILL_AFTER,
    DEFAULT_KILL_SIGNAL, DEFAULT_MAX_BUFFER, NODE_IPC_FD,
};

/// Starts a child. Returns at once; the launch happens on the spawner thread and
/// its result arrives as `Spawned` or `SpawnFailed` on `sink`. Fails at once only
/// when `stdin` is another child's stdout not reserved with
/// [`ChildHandle::reserve_stdout`].
pub fn spawn(request: SpawnRequest, sink: Arc<dyn EventSink>) -> std::io::Result<ChildHandle> {
    if let Input::ChildStdout(source) = &request.stdin {
        if !source.stdout_reserved_for_next_stage() {
            return Err(std::io::Error::other(
                "stdin from another child needs ChildHandle::reserve_stdout first",
            ));
        }
    }
    let started = Instant::now();
    let shared = Arc::new(ChildShared::new(request.kill_tree, spawner::promote));
    let (control_tx, control_rx) = unbounded_channel();
    let (out_tx, out_rx) = unbounded_channel();
    let (err_tx, err_rx) = unbounded_channel();
    let (stdin_tx, stdin_rx) = unbounded_channel();
    let (ipc_tx, ipc_rx) = unbounded_channel();
    let handle = ChildHandle {
        shared: shared.clone(),
        control: control_tx.clone(),
        outputs: [out_tx.clone(), err_tx.clone()],
        stdin: stdin_tx,
        ipc: ipc_tx,
    };
    spawner::submit(spawner::Job {
        request,
        shared,
        sink,
        started,
        control: control_rx,
        control_tx,
        outputs: [out_rx, err_rx],
        output_notify: [out_tx, err_tx],
        stdin: stdin_rx,
        ipc: ipc_rx,
    });
    Ok(handle)
}

#[cfg(test)]
mod tests;
