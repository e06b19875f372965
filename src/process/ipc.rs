//! The parent side of Node's IPC channel, spoken in Node's JSON wire format.
//!
//! The child finds the channel through `NODE_CHANNEL_FD=3` and
//! `NODE_CHANNEL_SERIALIZATION_MODE=json`. Every frame is `JSON.stringify(message)`
//! plus `"\n"`. Messages whose `cmd` starts with `NODE_` are Node's own: a child
//! process passes them on (the JS side routes them to 'internalMessage', as Node
//! does) and a pool drops them, except `NODE_HANDLE` (the child sending a socket or
//! server): unless it is answered with `NODE_HANDLE_NACK` the child queues every
//! later `send` forever.
//! We do not accept handles; the descriptor that came with it is discarded by the
//! kernel because we read without room for ancillary data.

use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::Arc;

use tokio::sync::mpsc::UnboundedReceiver;

use super::events::{ChildEvent, EventSink};
use super::fds::{read_some, READ_MAX};
use super::handle::WriteControl;
use super::writer::WriteQueue;

const INTERNAL_PREFIX: &[u8] = b"{\"cmd\":\"NODE_";
const HANDLE_PREFIX: &[u8] = b"{\"cmd\":\"NODE_HANDLE\"";
pub(crate) const HANDLE_NACK: &[u8] = b"{\"cmd\":\"NODE_HANDLE_NACK\"}\n";

/// What one complete line of the channel is.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Frame<'a> {
    Message(&'a [u8]),
    /// The child offers a handle; it must be refused.
    Handle,
    /// Another of Node's own messages ('internalMessage' to a ChildProcess).
    Internal(&'a [u8]),
}

pub(crate) fn classify(line: &[u8]) -> Frame<'_> {
    if line.starts_with(HANDLE_PREFIX) {
        Frame::Handle
    } else if line.starts_with(INTERNAL_PREFIX) {
        Frame::Internal(line)
    } else {
        Frame::Message(line)
    }
}

/// Takes the complete lines off the front of `input`, each to `each` as what it
/// is. `scanned` is how much of `input` is known to hold no newline, kept
/// between calls so that a long message is not searched again with every read.
pub(crate) fn take_lines(
    input: &mut Vec<u8>,
    scanned: &mut usize,
    mut each: impl FnMut(Frame<'_>),
) {
    let mut start = 0;
    while let Some(nl) = input[*scanned..].iter().position(|&b| b == b'\n') {
        let end = *scanned + nl;
        each(classify(&input[start..end]));
        start = end + 1;
        *scanned = start;
    }
    input.drain(..start);
    *scanned = input.len();
}

/// Runs the channel until either side closes it.
pub(crate) async fn run(
    fd: OwnedFd,
    mut control: UnboundedReceiver<WriteControl>,
    sink: Arc<dyn EventSink>,
) {
    let Ok(fd) = super::fds::register(fd) else {
        return;
    };
    let mut queue = WriteQueue::new(sink.clone());
    // Grows to the longest message seen; reads append only what they read.
    let mut input: Vec<u8> = Vec::new();
    let mut scanned = 0;
    let mut closing = false;
    loop {
        if closing && queue.is_empty() {
            break;
        }
        tokio::select! {
            read = read_some(&fd, &mut input, READ_MAX) => {
                match read {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {}
                }
                take_lines(&mut input, &mut scanned, |frame| match frame {
                    Frame::Message(text) | Frame::Internal(text) => {
                        sink.emit(ChildEvent::Message(String::from_utf8_lossy(text).into_owned()));
                    }
                    Frame::Handle => queue.push(None, HANDLE_NACK.to_vec()),
                });
            }
            ctl = control.recv(), if !closing => match ctl {
                Some(WriteControl::Write { id, data }) => queue.push(Some(id), data),
                Some(WriteControl::End) | None => closing = true,
            },
            result = queue.write_front(&fd), if !queue.is_empty() => {
                if result.is_err() {
                    break;
                }
            }
        }
    }
    // SAFETY: shutting down a socket we own; the child sees end of file and
    // emits 'disconnect'.
    unsafe { libc::shutdown(fd.get_ref().as_raw_fd(), libc::SHUT_RDWR) };
    queue.fail_all(&std::io::Error::from_raw_os_error(libc::EPIPE));
    sink.emit(ChildEvent::Disconnect);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_nodes_internal_messages() {
        assert_eq!(
            classify(br#"{"cmd":"NODE_HANDLE","type":"net.Socket","msg":{}}"#),
            Frame::Handle
        );
        assert_eq!(
            classify(br#"{"cmd":"NODE_HANDLE_ACK"}"#),
            Frame::Internal(br#"{"cmd":"NODE_HANDLE_ACK"}"#)
        );
        assert_eq!(
            classify(br#"{"cmd":"NODE_CLUSTER"}"#),
            Frame::Internal(br#"{"cmd":"NODE_CLUSTER"}"#)
        );
        assert_eq!(
            classify(br#"{"cmd":"work","n":1}"#),
            Frame::Message(br#"{"cmd":"work","n":1}"#)
        );
        assert_eq!(classify(b"42"), Frame::Message(b"42"));
    }
}
