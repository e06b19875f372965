//! Reading a child's stdout or stderr pipe.
//!
//! stdout starts *undecided*: nothing reads it, so a pipeline may still hand it
//! to the next child untouched. stderr, which cannot be piped on, starts
//! collecting at once, so a child that writes a lot of it never blocks while the
//! caller reads stdout. The caller then either collects a pipe (for the result,
//! bounded by `max_buffer`) or streams it: one chunk per `read` request, so a
//! slow consumer leaves the data in the kernel pipe and the child blocks, which
//! is the backpressure. When the child exits, an undecided pipe starts
//! collecting so its last bytes are not lost.
//!
//! Memory: every read is copied out at its exact size (see `fds::read_some`),
//! and collected output is kept as those pieces and joined once, at its final
//! size, when the child is done. Nothing is allocated at the chunk size or grown
//! by reallocation per child: such blocks, freed later on the JavaScript thread,
//! fragmented glibc's arenas until RSS grew by ~20 KB with every buffered spawn.

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

/// Collected output, as the reads returned it.
#[derive(Default)]
struct Pieces {
    parts: Vec<Vec<u8>>,
    len: usize,
}

impl Pieces {
    fn push(&mut self, part: Vec<u8>) {
        if !part.is_empty() {
            self.len += part.len();
            self.parts.push(part);
        }
    }

    /// The first `limit` bytes in one allocation of exactly their size.
    fn join(mut self, limit: usize) -> Vec<u8> {
        let len = self.len.min(limit);
        if self.parts.len() == 1 && len == self.len {
            return self.parts.pop().expect("one part");
        }
        let mut out = Vec::with_capacity(len);
        for part in &self.parts {
            let take = (len - out.len()).min(part.len());
            out.extend_from_slice(&part[..take]);
        }
        out
    }
}

/// One output pipe's reader.
struct Reader {
    stream: Stream,
    shared: Arc<ChildShared>,
    sink: Arc<dyn EventSink>,
    max_buffer: usize,
    mode: Mode,
    fd: Option<AsyncFd<OwnedFd>>,
    collected: Pieces,
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
    fn collected(self) -> Collected {
        Collected {
            overflowed: self.collected.len > self.max_buffer,
            data: Some(self.collected.join(self.max_buffer)),
        }
    }

    /// Stop waiting for end of file: keep what is readable now and finish.
    fn abandon(mut self) -> Collected {
        if matches!(self.mode, Mode::Undecided) && !self.claim() {
            return NOTHING;
        }
        let mut last = Vec::new();
        if let Some(fd) = &self.fd {
            let room = (self.max_buffer + 1).saturating_sub(self.collected.len);
            read_available(fd, &mut last, room);
        }
        match self.mode {
            Mode::Stream { .. } => {
                if !last.is_empty() {
                    self.emit(ChildEvent::Output {
                        stream: self.stream,
                        data: last,
                    });
                }
                self.emit(ChildEvent::OutputEnd {
                    stream: self.stream,
                });
                NOTHING
            }
            _ => {
                self.collected.push(last);
                self.collected()
            }
        }
    }
}

pub(crate) async fn run(
    stream: Stream,
    shared: Arc<ChildShared>,
    mut control: UnboundedReceiver<OutputControl>,
    sink: Arc<dyn EventSink>,
    max_buffer: usize,
    overflow: UnboundedSender<Stream>,
) -> Collected {
    let mut r = Reader {
        stream,
        shared,
        sink,
        max_buffer,
        mode: Mode::Undecided,
        fd: None,
        collected: Pieces::default(),
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
                        if r.collected.len > 0 {
                            let data = std::mem::take(&mut r.collected).join(usize::MAX);
                            r.emit(ChildEvent::Output { stream, data });
                        }
                        r.mode = Mode::Stream { wanted: false };
                    }
                    (OutputControl::Read, Mode::Stream { wanted }) => *wanted = true,
                    _ => {}
                }
            }
            read = read_chunk(r.fd.as_ref(), r.collected.len, &r.mode, max_buffer), if reading => {
                // An error ends the pipe like end of file does.
                let data = read.unwrap_or_default();
                match &mut r.mode {
                    Mode::Stream { wanted } => {
                        if data.is_empty() {
                            r.emit(ChildEvent::OutputEnd { stream });
                            return NOTHING;
                        }
                        *wanted = false;
                        r.emit(ChildEvent::Output { stream, data });
                    }
                    Mode::Collect => {
                        let end = data.is_empty();
                        r.collected.push(data);
                        if r.collected.len > max_buffer {
                            // Keep what fits; closing our end stops a child still writing.
                            let _ = overflow.send(stream);
                            return r.collected();
                        }
                        if end {
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

/// The next chunk, exactly its size; empty at end of file.
async fn read_chunk(
    fd: Option<&AsyncFd<OwnedFd>>,
    collected: usize,
    mode: &Mode,
    max_buffer: usize,
) -> std::io::Result<Vec<u8>> {
    let fd = fd.expect("only polled with a descriptor");
    let max = match mode {
        // One byte past the limit tells us the limit was passed.
        Mode::Collect => (max_buffer + 1).saturating_sub(collected).clamp(1, CHUNK),
        _ => CHUNK,
    };
    let mut chunk = Vec::new();
    read_some(fd, &mut chunk, max).await?;
    Ok(chunk)
}
