//! Reading a child's stdout or stderr pipe.
//!
//! A pipe starts *undecided*: nothing reads it, so a pipeline may still hand it
//! to the next child untouched. The caller then either collects it (for the
//! result, bounded by `max_buffer`) or streams it: one chunk per `read` request,
//! so a slow consumer leaves the data in the kernel pipe and the child blocks,
//! which is the backpressure. When the child exits, an undecided pipe starts
//! collecting so its last bytes are not lost.

use std::os::fd::OwnedFd;
use std::sync::Arc;

use tokio::io::unix::AsyncFd;
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender};

use super::events::{ChildEvent, EventSink, Stream};
use super::fds::read_some;
use super::handle::{ChildShared, OutputControl};

/// Largest chunk handed to the caller at once: each crossing into JavaScript
/// costs microseconds, so chunks are as large as the pipe allows.
const CHUNK: usize = 256 * 1024;

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

pub(crate) async fn run(
    stream: Stream,
    shared: Arc<ChildShared>,
    mut control: UnboundedReceiver<OutputControl>,
    sink: Arc<dyn EventSink>,
    max_buffer: usize,
    overflow: UnboundedSender<Stream>,
) -> Collected {
    let mut mode = Mode::Undecided;
    let mut fd: Option<AsyncFd<OwnedFd>> = None;
    let mut buf: Vec<u8> = Vec::new();
    let mut control_open = true;
    loop {
        let reading = fd.is_some() && matches!(mode, Mode::Collect | Mode::Stream { wanted: true });
        tokio::select! {
            biased;
            ctl = control.recv(), if control_open => {
                let ctl = ctl.unwrap_or_else(|| {
                    // Nobody holds the handle any more: drain so the child is not stuck.
                    control_open = false;
                    OutputControl::ChildExited
                });
                match (ctl, &mut mode) {
                    (OutputControl::Collect | OutputControl::ChildExited, Mode::Undecided) => {
                        if !claim(&shared, stream, &mut fd) {
                            return Collected { data: None, overflowed: false };
                        }
                        mode = Mode::Collect;
                    }
                    (OutputControl::Stream, Mode::Undecided | Mode::Collect) => {
                        if fd.is_none() && matches!(mode, Mode::Undecided) && !claim(&shared, stream, &mut fd) {
                            return Collected { data: None, overflowed: false };
                        }
                        if !buf.is_empty() {
                            sink.emit(ChildEvent::Output { stream, data: std::mem::take(&mut buf) });
                        }
                        mode = Mode::Stream { wanted: false };
                        if fd.is_none() {
                            sink.emit(ChildEvent::OutputEnd { stream });
                            return Collected { data: None, overflowed: false };
                        }
                    }
                    (OutputControl::Read, Mode::Stream { wanted }) => *wanted = true,
                    _ => {}
                }
            }
            read = read_chunk(fd.as_ref(), &mut buf, &mode, max_buffer), if reading => {
                let n = read.unwrap_or(0);
                match &mut mode {
                    Mode::Stream { wanted } => {
                        if n == 0 {
                            sink.emit(ChildEvent::OutputEnd { stream });
                            return Collected { data: None, overflowed: false };
                        }
                        *wanted = false;
                        sink.emit(ChildEvent::Output { stream, data: std::mem::take(&mut buf) });
                    }
                    Mode::Collect => {
                        if buf.len() > max_buffer {
                            // Keep what fits; closing our end stops a child still writing.
                            buf.truncate(max_buffer);
                            let _ = overflow.send(stream);
                            return Collected { data: Some(buf), overflowed: true };
                        }
                        if n == 0 {
                            return Collected { data: Some(buf), overflowed: false };
                        }
                    }
                    Mode::Undecided => unreachable!("undecided pipes are not read"),
                }
            }
            // The handle is gone and nobody will ask for more: close the pipe.
            else => return Collected { data: None, overflowed: false },
        }
    }
}

/// Takes the pipe from the shared slot; `false` if a pipeline took it first.
fn claim(shared: &ChildShared, stream: Stream, fd: &mut Option<AsyncFd<OwnedFd>>) -> bool {
    let Some(owned) = shared.slot(stream).lock().unwrap().take() else {
        return false;
    };
    match super::fds::register(owned) {
        Ok(async_fd) => {
            *fd = Some(async_fd);
            true
        }
        Err(_) => false,
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
