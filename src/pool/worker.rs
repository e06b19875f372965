//! One worker process: how it is launched, fed and heard.

use std::io;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::mpsc::UnboundedSender;

use super::config::{PoolConfig, Program, StderrMode};
use crate::process::{
    self, duplicate_fd, ChildEvent, ChildHandle, EventSink, Input, Output, SpawnRequest, Stream,
};

/// A task as the pool holds it.
pub(crate) struct Task {
    pub id: u64,
    /// The task as JSON text (no newline).
    pub payload: Vec<u8>,
    pub timeout: Option<Duration>,
    pub queued_at: Instant,
    /// Runs so far that ended in a crash (see `PoolConfig::retries`).
    pub crashes: u32,
}

pub(crate) struct Running {
    pub task: Task,
    pub started: Instant,
    pub deadline: Option<tokio::time::Instant>,
}

/// Tags a worker's events with its id on their way to the pool task.
struct WorkerSink {
    worker: u64,
    events: UnboundedSender<(u64, ChildEvent)>,
}

impl EventSink for WorkerSink {
    fn emit(&self, event: ChildEvent) {
        let _ = self.events.send((self.worker, event));
    }
}

pub(crate) struct Worker {
    pub handle: ChildHandle,
    pub pid: Option<u32>,
    pub running: Option<Running>,
    /// Able to take tasks: launched, and (with `wait_for_ready`) said so.
    pub ready: bool,
    pub tasks_done: u64,
    /// When it last became free (ready, or done with a task).
    pub idle_since: Option<Instant>,
    /// We are ending it (timeout, abort, recycling, close): its exit is no crash.
    pub stopping: bool,
    /// How it ended, once reaped.
    pub exit: Option<(Option<i32>, Option<i32>)>,
    node: bool,
    /// A command worker's partial stdout line.
    partial: Vec<u8>,
    stderr_tail: Vec<u8>,
    tail_max: usize,
}

fn without_channel_vars(env: &[String]) -> impl Iterator<Item = String> + '_ {
    // A worker is never a cluster worker, and its channel is ours.
    env.iter()
        .filter(|e| {
            !e.starts_with("NODE_CHANNEL_FD=")
                && !e.starts_with("NODE_CHANNEL_SERIALIZATION_MODE=")
                && !e.starts_with("NODE_UNIQUE_ID=")
        })
        .cloned()
}

impl Worker {
    pub fn launch(
        config: &PoolConfig,
        id: u64,
        events: UnboundedSender<(u64, ChildEvent)>,
    ) -> io::Result<Worker> {
        let node = matches!(config.program, Program::Node { .. });
        let mut request = match &config.program {
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
                r.env = Arc::new(
                    without_channel_vars(&config.env)
                        .chain([
                            "NODE_CHANNEL_FD=3".into(),
                            "NODE_CHANNEL_SERIALIZATION_MODE=json".into(),
                        ])
                        .collect(),
                );
                r.ipc = true;
                r.stdin = Input::Ignore;
                r.stdout = Output::Fd(duplicate_fd(1)?);
                r
            }
            Program::Command { file, args } => {
                let mut r = SpawnRequest::new(file.clone(), args.clone());
                r.env = config.env.clone();
                r
            }
        };
        request.cwd = config.cwd.clone();
        // The pool escalates to SIGKILL itself (close timeout, task timeout).
        request.force_kill_after = None;
        request.limits = config.limits.clone();
        request.stderr = match config.stderr {
            StderrMode::Inherit => Output::Fd(duplicate_fd(2)?),
            StderrMode::Tail(_) => Output::Pipe,
        };
        let handle = process::spawn(request, Arc::new(WorkerSink { worker: id, events }))?;
        if !node {
            handle.stream(Stream::Stdout);
            handle.read(Stream::Stdout);
        }
        let tail_max = match config.stderr {
            StderrMode::Tail(n) => {
                handle.stream(Stream::Stderr);
                handle.read(Stream::Stderr);
                n
            }
            StderrMode::Inherit => 0,
        };
        Ok(Worker {
            handle,
            pid: None,
            running: None,
            ready: false,
            tasks_done: 0,
            idle_since: None,
            stopping: false,
            exit: None,
            node,
            partial: Vec::new(),
            stderr_tail: Vec::new(),
            tail_max,
        })
    }

    /// Resident memory, from /proc; `None` if it cannot be read.
    pub fn rss_bytes(&self) -> Option<u64> {
        let statm = std::fs::read_to_string(format!("/proc/{}/statm", self.pid?)).ok()?;
        let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
        // SAFETY: sysconf has no preconditions.
        Some(pages * unsafe { libc::sysconf(libc::_SC_PAGESIZE) } as u64)
    }

    /// Ready, idle and not being stopped.
    pub fn available(&self) -> bool {
        self.ready && !self.stopping && self.running.is_none()
    }

    /// Sends one task; `false` if the worker can no longer take it.
    pub fn send(&self, task: &Task) -> bool {
        let mut frame = Vec::with_capacity(task.payload.len() + 1);
        frame.extend_from_slice(&task.payload);
        frame.push(b'\n');
        // Write id 0: completions are not awaited, a failure shows as the worker's exit.
        if self.node {
            self.handle.send_message(0, frame)
        } else {
            self.handle.write_stdin(0, frame)
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

    pub fn add_stderr(&mut self, data: &[u8]) {
        self.stderr_tail.extend_from_slice(data);
        if self.stderr_tail.len() > self.tail_max {
            let cut = self.stderr_tail.len() - self.tail_max;
            self.stderr_tail.drain(..cut);
        }
        self.handle.read(Stream::Stderr);
    }

    pub fn stderr_tail(&self) -> Option<Vec<u8>> {
        (self.tail_max > 0).then(|| self.stderr_tail.clone())
    }

    /// Ends the worker now; its exit will not count as a crash.
    pub fn stop_now(&mut self) {
        self.stopping = true;
        let _ = self.handle.kill(libc::SIGKILL);
    }

    /// Asks the worker to finish: end of input (or of the IPC channel), then
    /// SIGTERM; the caller escalates to SIGKILL at its deadline.
    pub fn stop_gracefully(&mut self) {
        self.stopping = true;
        if self.node {
            self.handle.disconnect();
        } else {
            self.handle.end_stdin();
        }
        let _ = self.handle.kill(libc::SIGTERM);
    }
}
