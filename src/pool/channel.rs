//! The I/O task of a Node worker's task channel (fd 4 in the worker): writes
//! the frames the pool sends, reads the worker's frames and hands them to the
//! pool task in batches, one batch per read.

use std::collections::VecDeque;
use std::os::fd::{AsRawFd, OwnedFd};

use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender};

use super::frame::{self, Frame};
use super::worker::WorkerEvent;
use crate::process::fds::{read_some, register, write_some};

pub(crate) enum ChannelEvent {
    /// Frames in the order the worker wrote them.
    Frames(Vec<Frame>),
    /// The worker wrote something that is not a frame; it cannot be trusted
    /// with tasks any more.
    Malformed(&'static str),
}

const READ_CHUNK: usize = 256 * 1024;

/// Runs until the worker closes its end, or we drop the sender and every
/// queued frame is out.
pub(crate) async fn run(
    fd: OwnedFd,
    mut frames: UnboundedReceiver<Vec<u8>>,
    worker: u64,
    events: UnboundedSender<(u64, WorkerEvent)>,
) {
    let Ok(fd) = register(fd) else {
        return;
    };
    let send = |event| {
        let _ = events.send((worker, WorkerEvent::Channel(event)));
    };
    let mut input: Vec<u8> = Vec::with_capacity(64 * 1024);
    // Bytes still missing from the frame at the start of `input`.
    let mut wanted = 0;
    let mut output: VecDeque<Vec<u8>> = VecDeque::new();
    let mut written = 0;
    let mut sending = true;
    let mut reading = true;
    let mut shut = false;
    while reading || !output.is_empty() || sending {
        tokio::select! {
            read = read_some(&fd, &mut input, wanted.max(READ_CHUNK)), if reading => {
                if !matches!(read, Ok(n) if n > 0) {
                    break;
                }
                let mut batch = Vec::new();
                let mut start = 0;
                wanted = 0;
                loop {
                    match frame::frame_len(&input[start..]) {
                        Ok(Some(len)) if input.len() - start >= len => {
                            match frame::decode(&input[start..start + len]) {
                                Ok(f) => batch.push(f),
                                Err(e) => {
                                    send(ChannelEvent::Malformed(e.0));
                                    reading = false;
                                    break;
                                }
                            }
                            start += len;
                        }
                        Ok(Some(len)) => {
                            wanted = len - (input.len() - start);
                            break;
                        }
                        Ok(None) => break,
                        Err(e) => {
                            send(ChannelEvent::Malformed(e.0));
                            reading = false;
                            break;
                        }
                    }
                }
                input.drain(..start);
                if !batch.is_empty() {
                    send(ChannelEvent::Frames(batch));
                }
            }
            data = frames.recv(), if sending => match data {
                Some(data) => output.push_back(data),
                None => sending = false,
            },
            result = write_some(&fd, &output.front().map_or(&[][..], |f| &f[written..])), if !output.is_empty() => {
                match result {
                    Ok(n) => {
                        written += n;
                        if written == output.front().map_or(0, Vec::len) {
                            output.pop_front();
                            written = 0;
                        }
                    }
                    Err(_) => break,
                }
            }
        }
        if !sending && output.is_empty() && !shut {
            // SAFETY: a socket we own. The worker's `serve()` sees the end;
            // we keep reading until it closes, as answers may still come.
            unsafe { libc::shutdown(fd.get_ref().as_raw_fd(), libc::SHUT_WR) };
            shut = true;
        }
    }
}
