//! Reading a child's stdout or stderr pipe.
//!
//! stdout starts *undecided*: nothing reads it, so a pipeline may still hand it
//! to the next child untouched. stderr, which cannot be piped on, starts
//! collecting at once, so a child that writes a lot of it never blocks while the
//! caller reads stdout. The caller then either collects a pipe (for the result,
//! bounded by `max_buffer`) or streams it: one chunk per `read` request, so a
//! slow consumer leaves the data in the kernel pipe and the child blocks, which
//! is the backpressure. When the child exits, an undecided pipe starts
//! collecting so its last bytes are not lost. With `limit_streamed_output`
//! (Node's `execFile`, which streams its output and limits its size), streamed
//! bytes count against `max_buffer` too: the chunk that passes it is delivered,
//! `OutputOverflow` says how much of it was within the limit, and the pipe is
//! closed and the child killed, as for collected output.
//!
//! Memory: reads go through a per-thread scratch buffer and only the bytes
//! read are appended (`fds::read_some`), and collected output is trimmed to its
//! length before it is handed on: no buffer reaches JavaScript holding room it
//! does not use. Buffers that reserved a whole chunk for a few bytes, freed later
//! on the JavaScript thread, fragmented glibc's arenas until RSS grew by ~20 KB
//! with every buffered spawn.

use std::os::fd::OwnedFd;
use std::sync::Arc;

use tokio::io::unix::AsyncFd;
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender};

use super::events::{ChildEvent, EventSink, Stream};
use super::fds::{read_available, read_some, register, READ_MAX};
use super::handle::{ChildShared, OutputControl};

/// Largest chunk handed to the caller at once: each crossing into JavaScript
/// costs microseconds, so chunks are as large as one read allows.
const CHUNK: usize = READ_MAX;

enum Mode {
    Undecided,
    Collect,
    Stream { wanted: bool },
}

pub(crate) struct Collected {
    /// The output, if it was collected rather than streamed or handed on.
    pub data: Option<Vec<u8>>,
    pub overflowed: bool,
}

const NOTHING: Collected = Collected {
    data: None,
    overflowed: false,
};

/// How much output a reader lets through.
pub(crate) struct Limit {
    /// Collected output past this is cut and the child killed.
    pub max_buffer: usize,
    /// Streamed output counts against `max_buffer` too.
    pub streamed: bool,
}

/// One output pipe's reader.
struct Reader {
    stream: Stream,
    shared: Arc<ChildShared>,
    sink: Arc<dyn EventSink>,
    max_buffer: usize,
    mode: Mode,
    fd: Option<AsyncFd<OwnedFd>>,
    buf: Vec<u8>,
    /// Bytes streamed so far, when they count against `max_buffer`.
    streamed: Option<usize>,
}

impl Reader {
    /// Takes the pipe from the shared slot; `false` if a pipeline took it.
    fn claim(&mut self) -> bool {
        if self.fd.is_some() {
            return true;
        }
        match self.shared.claim_for_reader(self.stream).map(register) {
            Some(Ok(fd)) => {
                self.fd = Some(fd);
                true
            }
            _ => false,
        }
    }

    fn emit(&self, event: ChildEvent) {
        self.sink.emit(event);
    }

    /// Collected output, cut at `max_buffer`.
    fn collected(mut self) -> Collected {
        let overflowed = self.buf.len() > self.max_buffer;
        self.buf.truncate(self.max_buffer);
        // A large output grew by doubling; give back the room it did not fill.
        self.buf.shrink_to_fit();
        Collected {
            data: Some(self.buf),
            overflowed,
        }
    }

    /// Hands a chunk to the caller; `true` when it took the streamed output
    /// past `max_buffer`, which is then reported, and reading stops.
    fn emit_chunk(&mut self, data: Vec<u8>) -> bool {
        let len = data.len();
        self.emit(ChildEvent::Output {
            stream: self.stream,
            data,
        });
        let Some(streamed) = &mut self.streamed else {
            return false;
        };
        let before = *streamed;
        *streamed += len;
        if *streamed <= self.max_buffer {
            return false;
        }
        self.emit(ChildEvent::OutputOverflow {
            stream: self.stream,
            kept: self.max_buffer - before,
        });
        true
    }

    /// Stop waiting for end of file: keep what is readable now and finish.
    fn abandon(mut self) -> Collected {
        if matches!(self.mode, Mode::Undecided) && !self.claim() {
            return NOTHING;
        }
        if let Some(fd) = &self.fd {
            let room = (self.max_buffer + 1).saturating_sub(self.buf.len());
            read_available(fd, &mut self.buf, room);
        }
        match self.mode {
            Mode::Stream { .. } => {
                if !self.buf.is_empty() {
                    let data = std::mem::take(&mut self.buf);
                    self.emit(ChildEvent::Output {
                        stream: self.stream,
                        data,
                    });
                }
                self.emit(ChildEvent::OutputEnd {
                    stream: self.stream,
                });
                NOTHING
            }
            _ => self.collected(),
        }
    }
}

pub(crate) async fn run(
    stream: Stream,
    shared: Arc<ChildShared>,
    mut control: UnboundedReceiver<OutputControl>,
    sink: Arc<dyn EventSink>,
    limit: Limit,
    overflow: UnboundedSender<Stream>,
) -> Collected {
    let max_buffer = limit.max_buffer;
    let mut r = Reader {
        stream,
        shared,
        sink,
        max_buffer,
        mode: Mode::Undecided,
        fd: None,
        buf: Vec::new(),
        streamed: limit.streamed.then_some(0),
    };
    let overflowed = |overflow: &UnboundedSender<Stream>| {
        // Closing our end (by returning) stops a child still writing.
        let _ = overflow.send(stream);
        Collected {
            data: None,
            overflowed: true,
        }
    };
    if stream == Stream::Stderr {
        if !r.claim() {
            return NOTHING;
        }
        r.mode = Mode::Collect;
    }
    let mut control_open = true;
    loop {
        let reading =
            r.fd.is_some() && matches!(r.mode, Mode::Collect | Mode::Stream { wanted: true });
        tokio::select! {
            biased;
            ctl = control.recv(), if control_open => {
                let ctl = ctl.unwrap_or_else(|| {
                    // Nobody holds the handle any more: drain so the child is not stuck.
                    control_open = false;
                    OutputControl::ChildExited
                });
                match (ctl, &mut r.mode) {
                    (OutputControl::Abandon, _) => return r.abandon(),
                    (OutputControl::Discard, _) => {
                        // Claim first so the pipe is closed even if still undecided.
                        r.claim();
                        return NOTHING;
                    }
                    (OutputControl::Collect | OutputControl::ChildExited, Mode::Undecided) => {
                        if !r.claim() {
                            return NOTHING;
                        }
                        r.mode = Mode::Collect;
                    }
                    (OutputControl::Stream, Mode::Undecided | Mode::Collect) => {
                        if !r.claim() {
                            return NOTHING;
                        }
                        r.mode = Mode::Stream { wanted: false };
                        if !r.buf.is_empty() {
                            let mut data = std::mem::take(&mut r.buf);
                            data.shrink_to_fit();
                            if r.emit_chunk(data) {
                                return overflowed(&overflow);
                            }
                        }
                    }
                    (OutputControl::Read, Mode::Stream { wanted }) => *wanted = true,
                    _ => {}
                }
            }
            read = read_chunk(r.fd.as_ref(), &mut r.buf, &r.mode, max_buffer), if reading => {
                let n = read.unwrap_or(0);
                match &mut r.mode {
                    Mode::Stream { wanted } => {
                        if n == 0 {
                            r.emit(ChildEvent::OutputEnd { stream });
                            return NOTHING;
                        }
                        *wanted = false;
                        let data = std::mem::take(&mut r.buf);
                        if r.emit_chunk(data) {
                            return overflowed(&overflow);
                        }
                    }
                    Mode::Collect => {
                        if r.buf.len() > max_buffer {
                            // Keep what fits; closing our end stops a child still writing.
                            let _ = overflow.send(stream);
                            return r.collected();
                        }
                        if n == 0 {
                            return r.collected();
                        }
                    }
                    Mode::Undecided => unreachable!("undecided pipes are not read"),
                }
            }
            // The handle is gone and nobody will ask for more: close the pipe.
            else => return NOTHING,
        }
    }
}

async fn read_chunk(
    fd: Option<&AsyncFd<OwnedFd>>,
    buf: &mut Vec<u8>,
    mode: &Mode,
    max_buffer: usize,
) -> std::io::Result<usize> {
    let fd = fd.expect("only polled with a descriptor");
    let max = match mode {
        // One byte past the limit tells us the limit was passed.
        Mode::Collect => (max_buffer + 1).saturating_sub(buf.len()).clamp(1, CHUNK),
        _ => CHUNK,
    };
    read_some(fd, buf, max).await
}
