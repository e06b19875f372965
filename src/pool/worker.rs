//! One worker process: how it is launched, fed and heard.
//!
//! A worker speaks one of three ways, and says which:
//! - **plain** Node (`process.on('message')` / `process.send()` over Node's IPC
//!   channel): one task at a time, its next message is the answer;
//! - **serve** Node (it called `serve()` from `offload/worker`, which sends a
//!   hello frame on fd 4): binary frames with task ids (see [`super::frame`]),
//!   several tasks in flight, raw bytes, errors and cancellation;
//! - **command** (any executable): one JSON task per stdin line, one JSON
//!   answer per stdout line, one task at a time.

use std::collections::VecDeque;
use std::io;
use std::os::fd::OwnedFd;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::mpsc::UnboundedSender;

use super::channel::{self, ChannelEvent, Chunk, Framing, Outlet};
use super::config::{PoolConfig, Program, StderrMode};
use super::frame;
use super::stderr::{StderrTail, INHERITED_TAIL};
use crate::process::{
    self, duplicate_fd, fds, ChildEvent, ChildHandle, EventSink, Input, Output, Serialization,
    SpawnRequest, Stream,
};

/// The descriptor a Node worker finds its task channel on (`OFFLOAD_CHANNEL_FD`).
pub const CHANNEL_FD: i32 = 4;
/// Buffers from this size on are written from the task's own copy.
const SHARED_CHUNK: usize = 16 * 1024;
/// The descriptor of a Node worker's IPC channel (`NODE_CHANNEL_FD`).
const IPC_FD: i32 = 3;
/// Socket send buffer of a task channel, each way.
const CHANNEL_BUFFER: usize = 4 << 20;

/// A socket pair for a channel at `fd` in the worker; our end, non-blocking.
fn channel_pair(request: &mut SpawnRequest, fd: i32) -> io::Result<OwnedFd> {
    let (ours, theirs) = fds::socket_pair()?;
    fds::set_nonblocking(&ours)?;
    // Room for a few MiB in flight each way: a 1 MiB Buffer then crosses in
    // one write rather than five.
    fds::set_send_buffer(&ours, CHANNEL_BUFFER);
    fds::set_send_buffer(&theirs, CHANNEL_BUFFER);
    request.inherit_fds.push((theirs, fd));
    Ok(ours)
}

/// A task as the pool holds it.
pub(crate) struct Task {
    pub id: u64,
    /// The task as JSON text (no newline); each buffer appears in it as
    /// `{"$offload:bytes":index}`. Empty in a pool of `advanced` serialization:
    /// the one buffer is then the task as V8 serialized it.
    pub payload: Vec<u8>,
    pub buffers: Vec<Arc<[u8]>>,
    /// The named handler of a `serve()` worker; `None` for its default.
    pub handler: Option<String>,
    pub timeout: Option<Duration>,
    pub queued_at: Instant,
    /// Runs so far that ended in a crash (see `PoolConfig::retries`).
    pub crashes: u32,
}

/// A task handed to a worker.
pub(crate) struct InFlight {
    pub task: Task,
    pub sent: Instant,
    /// When the worker started it: at once for one-at-a-time workers; for a
    /// serve worker, when a slot of its `concurrency` freed up (the worker runs
    /// what it was sent in order, so this mirrors it without asking).
    pub started: Option<Instant>,
    pub deadline: Option<tokio::time::Instant>,
    /// Already settled (aborted or timed out) and cancelled in the worker: the
    /// worker keeps its slot until it answers, or is killed at this deadline.
    pub cancelled_until: Option<tokio::time::Instant>,
}

/// What a worker tells the pool task.
pub(crate) enum WorkerEvent {
    Child(ChildEvent),
    Channel(ChannelEvent),
}

/// Tags a worker's events with its id on their way to the pool task.
struct WorkerSink {
    worker: u64,
    events: UnboundedSender<(u64, WorkerEvent)>,
}

impl EventSink for WorkerSink {
    fn emit(&self, event: ChildEvent) {
        let _ = self.events.send((self.worker, WorkerEvent::Child(event)));
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Mode {
    Plain,
    Serve,
    Command,
}

pub(crate) struct Worker {
    pub handle: ChildHandle,
    pub pid: Option<u32>,
    pub mode: Mode,
    /// In the order sent.
    pub in_flight: VecDeque<InFlight>,
    /// Able to take tasks: launched, and (with `wait_for_ready`) said so.
    pub ready: bool,
    /// A command worker launched after failed starts: it takes tasks once it
    /// has lived `QUICK_DEATH` (it cannot say it is ready), so that a worker
    /// that dies at start takes no task with it.
    pub probation: bool,
    /// It answered a task (for a command worker, the proof that it started).
    pub answered: bool,
    pub tasks_sent: u64,
    /// When it last became free (ready, or done with its tasks).
    pub idle_since: Option<Instant>,
    /// We are ending it (timeout, abort, recycling, close): its exit is no crash.
    pub stopping: bool,
    /// Worn out (task count or memory): takes nothing new, stops once done.
    pub retiring: bool,
    pub last_rss_check: Instant,
    /// How it ended, once reaped.
    pub exit: Option<(Option<i32>, Option<i32>)>,
    /// When it was launched (a death soon after is a failed start).
    pub launched_at: tokio::time::Instant,
    /// A Node worker's task channel (used once it runs `serve()`).
    outlet: Option<Arc<Outlet>>,
    /// A Node worker's IPC channel (`process.send`), ours rather than the
    /// process engine's, so that it is read and written like the task channel.
    ipc: Option<Arc<Outlet>>,
    serialization: Serialization,
    /// A command worker's partial stdout line.
    partial: Vec<u8>,
    stderr: StderrTail,
}

fn without_channel_vars(env: &[String]) -> impl Iterator<Item = String> + '_ {
    // A worker is never a cluster worker, and its channels are ours.
    env.iter()
        .filter(|e| {
            !e.starts_with("NODE_CHANNEL_FD=")
                && !e.starts_with("NODE_CHANNEL_SERIALIZATION_MODE=")
                && !e.starts_with("NODE_UNIQUE_ID=")
                && !e.starts_with("OFFLOAD_CHANNEL_FD=")
                && !e.starts_with("OFFLOAD_CONCURRENCY=")
        })
        .cloned()
}

impl Worker {
    pub fn launch(
        config: &PoolConfig,
        id: u64,
        events: UnboundedSender<(u64, WorkerEvent)>,
    ) -> io::Result<Worker> {
        // Our ends of a Node worker's IPC channel (fd 3) and task channel (fd 4).
        let mut channel_ends: Option<(OwnedFd, Option<OwnedFd>)> = None;
        let (mut request, mode) = match &config.program {
            Program::Node {
                script,
                args,
                exec_path,
                exec_argv,
            } => {
                let argv = exec_argv
                    .iter()
                    .chain(std::iter::once(script))
                    .chain(args)
                    .cloned()
                    .collect();
                let mut r = SpawnRequest::new(exec_path.clone(), argv);
                // With Node's `advanced` serialization the tasks are V8's, which
                // only Node's IPC channel reads: no task channel, and a worker
                // that calls `serve()` answers its messages (as under `fork()`).
                let task_channel = config.serialization == Serialization::Json;
                let ipc_vars = [
                    format!("NODE_CHANNEL_FD={IPC_FD}"),
                    format!(
                        "NODE_CHANNEL_SERIALIZATION_MODE={}",
                        config.serialization.mode_name()
                    ),
                ];
                let task_vars = [
                    format!("OFFLOAD_CHANNEL_FD={CHANNEL_FD}"),
                    format!("OFFLOAD_CONCURRENCY={}", config.concurrency),
                ];
                let task_vars = task_vars.into_iter().filter(|_| task_channel);
                r.env = Arc::new(
                    without_channel_vars(&config.env)
                        .chain(ipc_vars)
                        .chain(task_vars)
                        .collect(),
                );
                let ipc = channel_pair(&mut r, IPC_FD)?;
                let tasks = if task_channel {
                    Some(channel_pair(&mut r, CHANNEL_FD)?)
                } else {
                    None
                };
                channel_ends = Some((ipc, tasks));
                r.stdin = Input::Ignore;
                r.stdout = Output::Fd(duplicate_fd(1)?);
                (r, Mode::Plain)
            }
            Program::Command { file, args } => {
                let mut r = SpawnRequest::new(file.clone(), args.clone());
                r.env = config.env.clone();
                (r, Mode::Command)
            }
        };
        request.cwd = config.cwd.clone();
        // The pool escalates to SIGKILL itself (close timeout, task timeout).
        request.force_kill_after = None;
        request.limits = config.limits.clone();
        // Piped either way: see `stderr.rs`.
        request.stderr = Output::Pipe;
        let stderr = match config.stderr {
            StderrMode::Inherit => {
                StderrTail::new(INHERITED_TAIL, Some(Arc::new(duplicate_fd(2)?)))
            }
            StderrMode::Tail(n) => StderrTail::new(n, None),
        };
        let sink = Arc::new(WorkerSink {
            worker: id,
            events: events.clone(),
        });
        let handle = process::spawn(request, sink)?;
        let (ipc, outlet) = match channel_ends {
            Some((ipc, tasks)) => {
                let open = |fd, framing| -> io::Result<Arc<Outlet>> {
                    let outlet = channel::open(fd, framing)?;
                    let events = events.clone();
                    crate::runtime::handle().spawn(channel::run(outlet.clone(), id, events));
                    Ok(outlet)
                };
                (
                    Some(open(ipc, Framing::NodeIpc(config.serialization))?),
                    tasks.map(|fd| open(fd, Framing::Frames)).transpose()?,
                )
            }
            None => (None, None),
        };
        if mode == Mode::Command {
            handle.stream(Stream::Stdout);
            handle.read(Stream::Stdout);
        }
        handle.stream(Stream::Stderr);
        handle.read(Stream::Stderr);
        Ok(Worker {
            handle,
            pid: None,
            mode,
            in_flight: VecDeque::new(),
            ready: false,
            probation: false,
            answered: false,
            tasks_sent: 0,
            idle_since: None,
            stopping: false,
            retiring: false,
            last_rss_check: Instant::now(),
            exit: None,
            launched_at: tokio::time::Instant::now(),
            outlet,
            ipc,
            serialization: config.serialization,
            partial: Vec::new(),
            stderr,
        })
    }

    /// Resident memory, from /proc; `None` if it cannot be read.
    pub fn rss_bytes(&self) -> Option<u64> {
        let statm = std::fs::read_to_string(format!("/proc/{}/statm", self.pid?)).ok()?;
        let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
        // SAFETY: sysconf has no preconditions.
        Some(pages * unsafe { libc::sysconf(libc::_SC_PAGESIZE) } as u64)
    }

    /// A Node worker's channels: IPC and tasks.
    pub fn channels(&self) -> impl Iterator<Item = &Arc<Outlet>> {
        self.ipc.iter().chain(&self.outlet)
    }

    /// Whether its answers are awaited by queued tasks.
    pub fn expect_answers(&self, expecting: bool) {
        for channel in self.channels() {
            channel.set_expecting(expecting);
        }
    }

    /// The worker said it runs `serve()`: frames from now on.
    pub fn serve(&mut self) {
        self.mode = Mode::Serve;
        self.ready = true;
    }

    /// How many tasks it may hold: one at a time unless it runs `serve()`;
    /// then `concurrency` running plus `pipeline` waiting in its own queue.
    pub fn capacity(&self, concurrency: usize, pipeline: usize) -> usize {
        match self.mode {
            Mode::Serve => concurrency + pipeline,
            Mode::Plain | Mode::Command => 1,
        }
    }

    /// Ready, not being stopped or retired, with room for `capacity` tasks.
    pub fn has_room(&self, capacity: usize) -> bool {
        self.ready && !self.stopping && !self.retiring && self.in_flight.len() < capacity
    }

    /// Ready and doing nothing.
    pub fn idle(&self) -> bool {
        self.ready && !self.stopping && !self.retiring && self.in_flight.is_empty()
    }

    /// Adds the frame (or line, or message) of one task to `batch`, to be sent
    /// with [`Worker::flush`].
    pub fn encode(&self, task: &Task, batch: &mut Vec<Chunk>) {
        if !matches!(batch.last(), Some(Chunk::Owned(_))) {
            batch.push(Chunk::Owned(Vec::new()));
        }
        let Some(Chunk::Owned(out)) = batch.last_mut() else {
            unreachable!("pushed above")
        };
        match self.mode {
            Mode::Serve => {
                let handler = task.handler.as_deref().unwrap_or("");
                let (id, json) = (task.id as u32, &task.payload);
                frame::encode_head(out, frame::TASK, id, handler, json, &task.buffers);
                for b in &task.buffers {
                    push_buffer(batch, b);
                }
            }
            Mode::Plain if self.serialization == Serialization::Advanced => {
                // Node's frame: the length, big-endian, then V8's bytes.
                let serialized = task.buffers.first().map_or(&[][..], |b| &b[..]);
                out.extend_from_slice(&(serialized.len() as u32).to_be_bytes());
                if let Some(b) = task.buffers.first() {
                    push_buffer(batch, b);
                }
            }
            Mode::Plain | Mode::Command => {
                if task.buffers.is_empty() {
                    out.extend_from_slice(&task.payload);
                } else {
                    out.extend_from_slice(&inline_buffers(&task.payload, &task.buffers));
                }
                out.push(b'\n');
            }
        }
    }

    /// Sends what [`Worker::encode`] wrote; `false` if the worker can no
    /// longer take it (it is dying, and its exit will say so).
    pub fn flush(&self, batch: Vec<Chunk>) -> bool {
        // Write id 0: completions are not awaited, a failure shows as the worker's exit.
        match self.mode {
            Mode::Serve => self.outlet.as_ref().is_some_and(|o| o.send(batch)),
            Mode::Plain => self.ipc.as_ref().is_some_and(|o| o.send(batch)),
            Mode::Command => self.handle.write_stdin(0, Chunk::join(batch)),
        }
    }

    /// Asks a serve worker to abort the task's `AbortSignal`.
    pub fn cancel_in_worker(&self, id: u64) {
        if let Some(outlet) = &self.outlet {
            let mut out = Vec::new();
            frame::encode::<&[u8]>(&mut out, frame::CANCEL, id as u32, "", b"", &[]);
            outlet.send(vec![Chunk::Owned(out)]);
        }
    }

    /// Starts (in our mirror of the worker) the tasks that now have a slot.
    pub fn start_waiting(&mut self, concurrency: usize, default_timeout: Option<Duration>) {
        let limit = match self.mode {
            Mode::Serve => concurrency,
            Mode::Plain | Mode::Command => 1,
        };
        let now = Instant::now();
        for entry in self.in_flight.iter_mut().take(limit) {
            if entry.started.is_none() {
                entry.started = Some(now);
                entry.deadline = entry
                    .task
                    .timeout
                    .or(default_timeout)
                    .map(|t| tokio::time::Instant::from_std(now) + t);
            }
        }
    }

    /// Complete stdout lines of a command worker, each one result.
    pub fn stdout_lines(&mut self, data: &[u8]) -> Vec<String> {
        self.partial.extend_from_slice(data);
        let mut lines = Vec::new();
        let mut start = 0;
        while let Some(nl) = self.partial[start..].iter().position(|&b| b == b'\n') {
            let line = &self.partial[start..start + nl];
            if !line.iter().all(u8::is_ascii_whitespace) {
                lines.push(String::from_utf8_lossy(line).into_owned());
            }
            start += nl + 1;
        }
        self.partial.drain(..start);
        self.handle.read(Stream::Stdout);
        lines
    }

    pub fn add_stderr(&mut self, data: Vec<u8>) {
        self.stderr.add(data, &self.handle);
    }

    /// The end of its stderr, for a crash report.
    pub fn stderr_tail(&self) -> Option<Vec<u8>> {
        Some(self.stderr.bytes().to_vec())
    }

    /// The last lines of its stderr (at most `max_bytes`), for a start failure.
    pub fn stderr_lines(&self, lines: usize, max_bytes: usize) -> Vec<u8> {
        let mut tail = self.stderr.last_lines(lines);
        tail.drain(..tail.len().saturating_sub(max_bytes));
        tail
    }

    /// Ends the worker now; its exit will not count as a crash.
    pub fn stop_now(&mut self) {
        self.stopping = true;
        let _ = self.handle.kill(libc::SIGKILL);
    }

    /// Asks the worker to finish: end of input (or of its channels), then
    /// SIGTERM; the caller escalates to SIGKILL at its deadline.
    pub fn stop_gracefully(&mut self) {
        self.stopping = true;
        for channel in self.channels() {
            channel.close();
        }
        if self.mode == Mode::Command {
            self.handle.end_stdin();
        }
        let _ = self.handle.kill(libc::SIGTERM);
    }
}

/// Adds a task's buffer to `batch`: a large one is written from where it is;
/// a small one joins the frame.
fn push_buffer(batch: &mut Vec<Chunk>, buffer: &Arc<[u8]>) {
    if buffer.len() >= SHARED_CHUNK {
        batch.push(Chunk::Shared(buffer.clone()));
        batch.push(Chunk::Owned(Vec::new()));
    } else if let Some(Chunk::Owned(out)) = batch.last_mut() {
        out.extend_from_slice(buffer);
    }
}

/// A task with raw buffers, for a worker that only reads JSON: each buffer in
/// the form `JSON.stringify` gives a Node `Buffer`, which is what a worker of
/// `child_process.fork()` would have received.
pub(crate) fn inline_buffers<B: AsRef<[u8]>>(json: &[u8], buffers: &[B]) -> Vec<u8> {
    let mut text = String::from_utf8_lossy(json).into_owned();
    for (i, bytes) in buffers.iter().enumerate() {
        let bytes = bytes.as_ref();
        let placeholder = format!("{{\"$offload:bytes\":{i}}}");
        let mut inline = String::with_capacity(bytes.len() * 4 + 32);
        inline.push_str("{\"type\":\"Buffer\",\"data\":[");
        for (k, b) in bytes.iter().enumerate() {
            if k > 0 {
                inline.push(',');
            }
            inline.push_str(&b.to_string());
        }
        inline.push_str("]}");
        text = text.replacen(&placeholder, &inline, 1);
    }
    text.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buffers_inline_as_nodes_buffer_json() {
        let json = br#"{"a":{"$offload:bytes":0},"b":[{"$offload:bytes":1}]}"#;
        let out = inline_buffers(json, &[vec![1u8, 255], vec![]]);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            r#"{"a":{"type":"Buffer","data":[1,255]},"b":[{"type":"Buffer","data":[]}]}"#
        );
    }
}
