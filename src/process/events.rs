//! What a child reports back, in order: `Spawned` (or `SpawnFailed`, and nothing
//! else), then any `Output`/`Message`/`WriteDone` (and `TimedOut` or
//! `OutputOverflow` when the engine kills it), `Exit` when it is reaped, and
//! finally `Closed` once its collected pipes are drained too.

use std::io;

use super::launch_linux::Step;

/// Receives a child's events, on the spawner thread or a runtime thread.
pub trait EventSink: Send + Sync + 'static {
    fn emit(&self, event: ChildEvent);
}

/// Which output pipe.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stream {
    Stdout = 1,
    Stderr = 2,
}

#[derive(Debug)]
pub enum ChildEvent {
    Spawned {
        pid: u32,
    },
    SpawnFailed(SpawnFailure),
    /// A chunk of a streamed pipe (one per [`super::ChildHandle::read`]).
    Output {
        stream: Stream,
        data: Vec<u8>,
    },
    /// A streamed pipe reached end of file.
    OutputEnd {
        stream: Stream,
    },
    /// A streamed pipe passed `max_buffer` (with `limit_streamed_output`): the
    /// `Output` just before is the last, of which the first `kept` bytes were
    /// within the limit. Nothing more is read and the child is being killed.
    OutputOverflow {
        stream: Stream,
        kept: usize,
    },
    /// The timeout passed before the child exited and the kill signal was sent.
    TimedOut,
    /// One IPC message, as the child wrote it.
    Message(Message),
    /// The IPC channel closed.
    Disconnect,
    /// A stdin or IPC write finished (`error` is set if it did not).
    WriteDone {
        id: u32,
        error: Option<io::Error>,
    },
    Exit(ExitInfo),
    Closed(Outcome),
}

#[derive(Debug)]
pub struct SpawnFailure {
    pub step: Step,
    pub error: io::Error,
    /// The file or directory the failure is about (program, cwd or stdio file).
    pub path: String,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct ExitInfo {
    /// Exit code, if the child exited.
    pub code: Option<i32>,
    /// Signal number, if a signal ended it.
    pub signal: Option<i32>,
    pub max_rss_bytes: u64,
    pub user_cpu_ms: f64,
    pub system_cpu_ms: f64,
    pub duration_ms: f64,
}

#[derive(Debug, Default)]
pub struct Outcome {
    /// Collected output; `None` when the pipe was streamed, handed on or not a pipe.
    pub stdout: Option<Vec<u8>>,
    pub stderr: Option<Vec<u8>>,
    pub timed_out: bool,
    pub canceled: bool,
    /// The stream whose output passed `max_buffer`.
    pub max_buffer_exceeded: Option<Stream>,
}

/// One message of the child, as it came.
#[derive(Debug, PartialEq, Eq)]
pub enum Message {
    /// The JSON text (`json`).
    Json(String),
    /// The whole `advanced` frame: its length (4 bytes), then what V8's
    /// serializer wrote, header included. Kept whole so that a message read
    /// alone, as a large one is, is handed on without a copy.
    Serialized(Vec<u8>),
}
