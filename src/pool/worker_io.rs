//! A worker's process and channels: how it is launched, written to, read
//! and ended. What the pool knows about a worker (its lifecycle, the tasks it
//! holds) is `worker.rs`; this is the I/O behind it, reached through the
//! [`WorkerIo`] seam so that the scheduler is tested without processes.
//!
//! A worker speaks one of three ways, and says which:
//! - **plain** Node (`process.on('message')` / `process.send()` over Node's IPC
//!   channel): one task at a time, its next message is the answer;
//! - **serve** Node (it called `serve()` from `offload/worker`, which sends a
//!   hello frame on fd 4): binary frames with task ids (see [`super::task_frame`]),
//!   several tasks in flight, raw bytes, errors and cancellation;
//! - **command** (any executable): one JSON task per stdin line, one JSON
//!   answer per stdout line, one task at a time.

use std::io;
use std::os::fd::OwnedFd;
use std::sync::Arc;

use tokio::sync::mpsc::UnboundedSender;

use super::channel::{self, ChannelEnd, ChannelEvent, Chunk, Framing};
use super::config::{PoolConfig, Program, StderrMode};
use super::events::TaskId;
use super::stderr::{StderrTail, INHERITED_TAIL};
use super::task_frame::{self, BYTES_KEY};
use super::worker::{Launch, Mode, Task, WorkerIo};
use crate::process::{
    self, duplicate_fd, fds, ChildEvent, ChildHandle, EventSink, Input, Output, Serialization,
    SpawnRequest, Stream, NODE_IPC_FD,
};

/// The descriptor a Node worker finds its task channel on (`OFFLOAD_CHANNEL_FD`).
pub const CHANNEL_FD: i32 = 4;
/// Buffers from this size on are written from the task's own copy.
const SHARED_CHUNK: usize = 16 * 1024;
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

/// Launches real processes, whose events go to the pool's driver.
pub(crate) struct Launcher {
    pub events: UnboundedSender<(u64, WorkerEvent)>,
}

impl Launch for Launcher {
    type Io = ProcessIo;

    fn launch(&mut self, config: &PoolConfig, id: u64) -> io::Result<(ProcessIo, Mode)> {
        ProcessIo::launch(config, id, self.events.clone())
    }
}

/// A real worker process and its channels.
pub(crate) struct ProcessIo {
    handle: ChildHandle,
    /// A Node worker's task channel (used once it runs `serve()`).
    task_end: Option<Arc<ChannelEnd>>,
    /// A Node worker's IPC channel (`process.send`), ours rather than the
    /// process engine's, so that it is read and written like the task channel.
    ipc: Option<Arc<ChannelEnd>>,
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

impl ProcessIo {
    fn launch(
        config: &PoolConfig,
        id: u64,
        events: UnboundedSender<(u64, WorkerEvent)>,
    ) -> io::Result<(ProcessIo, Mode)> {
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
                    format!("NODE_CHANNEL_FD={NODE_IPC_FD}"),
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
                let ipc = channel_pair(&mut r, NODE_IPC_FD)?;
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
        let (ipc, task_end) = match channel_ends {
            Some((ipc, tasks)) => {
                let open = |fd, framing| -> io::Result<Arc<ChannelEnd>> {
                    let task_end = channel::open(fd, framing)?;
                    let events = events.clone();
                    let deliver = move |event| {
                        let _ = events.send((id, WorkerEvent::Channel(event)));
                    };
                    crate::runtime::handle().spawn(channel::run(task_end.clone(), deliver));
                    Ok(task_end)
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
        let io = ProcessIo {
            handle,
            task_end,
            ipc,
            serialization: config.serialization,
            partial: Vec::new(),
            stderr,
        };
        Ok((io, mode))
    }

    /// A Node worker's channels: IPC and tasks.
    fn ends(&self) -> impl Iterator<Item = &Arc<ChannelEnd>> {
        self.ipc.iter().chain(&self.task_end)
    }

    /// Adds the frame (or line, or message) of one task to `batch`.
    fn encode(&self, mode: Mode, task: &Task, batch: &mut Vec<Chunk>) {
        if !matches!(batch.last(), Some(Chunk::Owned(_))) {
            batch.push(Chunk::Owned(Vec::new()));
        }
        let Some(Chunk::Owned(out)) = batch.last_mut() else {
            unreachable!("pushed above")
        };
        match mode {
            Mode::Serve => {
                let handler = task.handler.as_deref().unwrap_or("");
                let (id, json) = (task.id, &task.payload);
                task_frame::encode_head(out, task_frame::TASK, id, handler, json, &task.buffers);
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
}

impl WorkerIo for ProcessIo {
    fn send(&self, mode: Mode, tasks: &[Task]) -> bool {
        let mut batch = Vec::new();
        for task in tasks {
            self.encode(mode, task, &mut batch);
        }
        // Write id 0: completions are not awaited, a failure shows as the worker's exit.
        match mode {
            Mode::Serve => self.task_end.as_ref().is_some_and(|o| o.send(batch)),
            Mode::Plain => self.ipc.as_ref().is_some_and(|o| o.send(batch)),
            Mode::Command => self.handle.write_stdin(0, Chunk::join(batch)),
        }
    }

    fn cancel(&self, id: TaskId) {
        if let Some(task_end) = &self.task_end {
            let mut out = Vec::new();
            task_frame::encode::<&[u8]>(&mut out, task_frame::CANCEL, id, "", b"", &[]);
            task_end.send(vec![Chunk::Owned(out)]);
        }
    }

    fn kill(&self) {
        let _ = self.handle.kill(libc::SIGKILL);
    }

    fn terminate(&self, mode: Mode) {
        for channel in self.ends() {
            channel.close();
        }
        if mode == Mode::Command {
            self.handle.end_stdin();
        }
        let _ = self.handle.kill(libc::SIGTERM);
    }

    fn rss_bytes(&self, pid: u32) -> Option<u64> {
        let statm = std::fs::read_to_string(format!("/proc/{pid}/statm")).ok()?;
        let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
        // SAFETY: sysconf has no preconditions.
        Some(pages * unsafe { libc::sysconf(libc::_SC_PAGESIZE) } as u64)
    }

    fn channels(&self) -> Vec<Arc<ChannelEnd>> {
        self.ends().cloned().collect()
    }

    fn expect_answers(&self, expecting: bool) {
        for channel in self.ends() {
            channel.set_expecting(expecting);
        }
    }

    fn finish(&self) {
        for channel in self.ends() {
            channel.finish();
        }
    }

    fn stderr_tail(&self) -> Vec<u8> {
        self.stderr.bytes().to_vec()
    }

    fn stderr_lines(&self, lines: usize, max_bytes: usize) -> Vec<u8> {
        let mut tail = self.stderr.last_lines(lines);
        tail.drain(..tail.len().saturating_sub(max_bytes));
        tail
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
        let placeholder = format!("{{\"{BYTES_KEY}\":{i}}}");
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
