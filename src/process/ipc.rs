//! The parent side of Node's IPC channel, in either of Node's two wire formats
//! (the `serialization` option of `child_process.fork()`):
//!
//! - `json`: every frame is `JSON.stringify(message)` plus `"\n"`;
//! - `advanced`: every frame is the message as V8's serializer writes it
//!   (header included), preceded by its length as a big-endian `u32`.
//!
//! The child learns which from `NODE_CHANNEL_SERIALIZATION_MODE` and finds the
//! channel through `NODE_CHANNEL_FD=3`. The engine only frames: the JS side
//! writes and reads the values. Messages whose `cmd` starts with `NODE_` are
//! Node's own: a child process passes them on (the JS side routes them to
//! 'internalMessage', as Node does) and a pool drops them, except `NODE_HANDLE`
//! (the child sending a socket or server): unless it is answered with
//! `NODE_HANDLE_NACK` the child queues every later `send` forever. We do not
//! accept handles; the descriptor that came with it is discarded by the kernel
//! because we read without room for ancillary data. In `advanced` form they are
//! recognised by their first bytes, as in `json` form: Node writes `cmd` first
//! in every one of them.

use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::Arc;

use tokio::sync::mpsc::UnboundedReceiver;

use super::events::{ChildEvent, EventSink, Message};
use super::fds::{read_some, READ_MAX};
use super::handle::WriteControl;
use super::writer::WriteQueue;

/// How the messages of a channel are written (Node's `serialization` option).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Serialization {
    #[default]
    Json,
    Advanced,
}

impl Serialization {
    /// The value of `NODE_CHANNEL_SERIALIZATION_MODE` that tells a Node child.
    pub fn mode_name(self) -> &'static str {
        match self {
            Serialization::Json => "json",
            Serialization::Advanced => "advanced",
        }
    }

    /// The frame that refuses a handle the child offered.
    pub(crate) fn handle_nack(self) -> &'static [u8] {
        match self {
            Serialization::Json => HANDLE_NACK,
            Serialization::Advanced => HANDLE_NACK_V8,
        }
    }
}

impl Message {
    fn from_frame(serialization: Serialization, bytes: &[u8]) -> Message {
        match serialization {
            Serialization::Json => Message::Json(String::from_utf8_lossy(bytes).into_owned()),
            Serialization::Advanced => {
                let mut frame = Vec::with_capacity(LENGTH + bytes.len());
                frame.extend_from_slice(&(bytes.len() as u32).to_be_bytes());
                frame.extend_from_slice(bytes);
                Message::Serialized(frame)
            }
        }
    }

    /// Whether this is `value` (given in both forms: its JSON text, and V8's
    /// serialization of it without the header).
    pub fn is(&self, json: &str, v8_value: &[u8]) -> bool {
        match self {
            Message::Json(text) => text == json,
            Message::Serialized(frame) => frame.get(LENGTH..).and_then(v8_body) == Some(v8_value),
        }
    }
}

/// The length in front of every `advanced` frame: a big-endian `u32`.
const LENGTH: usize = 4;
/// From this size on, a frame is read to its end exactly (see `Framer::read_size`);
/// smaller ones, many to a read, are not worth the extra reads.
const LARGE_FRAME: usize = 64 * 1024;

const INTERNAL_PREFIX: &[u8] = b"{\"cmd\":\"NODE_";
const HANDLE_PREFIX: &[u8] = b"{\"cmd\":\"NODE_HANDLE\"";
const HANDLE_NACK: &[u8] = b"{\"cmd\":\"NODE_HANDLE_NACK\"}\n";

// V8's serialization of the same, after its header: an object ('o'), whose first
// key is the one-byte string ('"', length) "cmd", whose value is a one-byte
// string starting "NODE_".
const V8_CMD_KEY: &[u8] = b"o\"\x03cmd\"";
const V8_HANDLE: &[u8] = b"\x0bNODE_HANDLE";
/// `{cmd: 'NODE_HANDLE_NACK'}` in the length-prefixed `advanced` frame: header
/// version 15 (Node 20 and later write it; every later V8 reads it), then the
/// object, closed with its property count ('{', 1).
const HANDLE_NACK_V8: &[u8] = b"\x00\x00\x00\x1c\xff\x0fo\"\x03cmd\"\x10NODE_HANDLE_NACK{\x01";

/// A serialized value without V8's header (`0xFF`, then the format version as
/// a varint); `None` if it has none.
pub fn v8_body(bytes: &[u8]) -> Option<&[u8]> {
    let rest = bytes.strip_prefix(&[0xff])?;
    let end = rest.iter().position(|b| b & 0x80 == 0)?;
    Some(&rest[end + 1..])
}

/// What one complete frame of the channel is.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum IpcFrame<'a> {
    Message(&'a [u8]),
    /// The child offers a handle; it must be refused.
    Handle,
    /// Another of Node's own messages ('internalMessage' to a ChildProcess).
    Internal(&'a [u8]),
}

pub(crate) fn classify(line: &[u8]) -> IpcFrame<'_> {
    if line.starts_with(HANDLE_PREFIX) {
        IpcFrame::Handle
    } else if line.starts_with(INTERNAL_PREFIX) {
        IpcFrame::Internal(line)
    } else {
        IpcFrame::Message(line)
    }
}

fn classify_serialized(bytes: &[u8]) -> IpcFrame<'_> {
    let cmd = v8_body(bytes).and_then(|body| body.strip_prefix(V8_CMD_KEY));
    match cmd {
        Some(value) if value.starts_with(V8_HANDLE) => IpcFrame::Handle,
        Some([len, name @ ..]) if *len < 0x80 && name.starts_with(b"NODE_") => {
            IpcFrame::Internal(bytes)
        }
        _ => IpcFrame::Message(bytes),
    }
}

/// Bytes read from a channel, cut into frames as they complete.
#[derive(Default)]
pub(crate) struct Framer {
    pub serialization: Serialization,
    /// Where reads append.
    pub input: Vec<u8>,
    /// `json`: how much of `input` is known to hold no newline, kept between
    /// calls so that a long message is not searched again with every read.
    scanned: usize,
}

impl Framer {
    pub fn new(serialization: Serialization) -> Framer {
        Framer {
            serialization,
            ..Framer::default()
        }
    }

    /// How much to read next: `chunk`, or, while a large `advanced` frame is
    /// arriving, exactly the rest of it, so that it fills the room made for
    /// it without growing it and is then handed on whole (`take_messages`).
    pub fn read_size(&self, chunk: usize) -> usize {
        if self.serialization == Serialization::Advanced {
            if let Some(len) = self.input.get(..LENGTH) {
                let end = LENGTH + u32::from_be_bytes(len.try_into().expect("4 bytes")) as usize;
                if end >= LARGE_FRAME && end > self.input.len() {
                    return end - self.input.len();
                }
            }
        }
        chunk
    }

    /// Whether `input` is exactly one `advanced` frame, in an allocation made
    /// for it, so that handing the allocation on costs no copy and keeps no
    /// unused room alive. A reader that reserves a large chunk before each read
    /// (a pool worker's channel reserves 256 KiB) leaves a small frame in a big
    /// block: handed on to JavaScript, each such block lived until a garbage
    /// collection and left its touched pages in glibc's heap, ~3 KB of RSS per
    /// message, never returned. Such a frame is copied out instead.
    fn holds_one_whole_frame(&self) -> bool {
        match self.input.get(..LENGTH) {
            Some(len) => {
                let len = u32::from_be_bytes(len.try_into().expect("4 bytes")) as usize;
                LENGTH + len == self.input.len() && self.input.capacity() <= 2 * self.input.len()
            }
            None => false,
        }
    }

    /// Takes the complete frames off the front of `input`, each to `each` as
    /// what it is.
    fn take(&mut self, mut each: impl FnMut(IpcFrame<'_>)) {
        match self.serialization {
            Serialization::Json => {
                let mut start = 0;
                while let Some(nl) = self.input[self.scanned..].iter().position(|&b| b == b'\n') {
                    let end = self.scanned + nl;
                    each(classify(&self.input[start..end]));
                    start = end + 1;
                    self.scanned = start;
                }
                self.input.drain(..start);
                self.scanned = self.input.len();
            }
            Serialization::Advanced => {
                let mut start = 0;
                let mut wanted = 0;
                while let Some(len) = self.input.get(start..start + LENGTH) {
                    let len = u32::from_be_bytes(len.try_into().expect("4 bytes")) as usize;
                    if self.input.len() - start - LENGTH < len {
                        wanted = LENGTH + len;
                        break;
                    }
                    let body = start + LENGTH;
                    each(classify_serialized(&self.input[body..body + len]));
                    start = body + len;
                }
                self.input.drain(..start);
                // A large message is read into room made once, not doubled into.
                self.input.reserve(wanted.saturating_sub(self.input.len()));
            }
        }
    }

    /// Takes the complete frames: the messages to `message` (Node's own too
    /// when `internal`, else they are dropped), and whether the child offered
    /// a handle.
    pub fn take_messages(&mut self, internal: bool, mut message: impl FnMut(Message)) -> bool {
        let serialization = self.serialization;
        let mut handle = false;
        if serialization == Serialization::Advanced && self.holds_one_whole_frame() {
            let frame = std::mem::take(&mut self.input);
            match classify_serialized(&frame[LENGTH..]) {
                IpcFrame::Message(_) => message(Message::Serialized(frame)),
                IpcFrame::Internal(_) if internal => message(Message::Serialized(frame)),
                IpcFrame::Handle => handle = true,
                IpcFrame::Internal(_) => {}
            }
            return handle;
        }
        self.take(|frame| match frame {
            IpcFrame::Message(bytes) => message(Message::from_frame(serialization, bytes)),
            IpcFrame::Internal(bytes) if internal => {
                message(Message::from_frame(serialization, bytes))
            }
            IpcFrame::Handle => handle = true,
            IpcFrame::Internal(_) => {}
        });
        handle
    }
}

/// Runs the channel until either side closes it.
pub(crate) async fn run(
    fd: OwnedFd,
    serialization: Serialization,
    mut control: UnboundedReceiver<WriteControl>,
    sink: Arc<dyn EventSink>,
) {
    let Ok(fd) = super::fds::register(fd) else {
        return;
    };
    let mut queue = WriteQueue::new(sink.clone());
    // Reads append only what they read; a large `advanced` message leaves
    // with the allocation it was read into.
    let mut framer = Framer::new(serialization);
    let mut closing = false;
    loop {
        if closing && queue.is_empty() {
            break;
        }
        let read_max = framer.read_size(READ_MAX);
        tokio::select! {
            read = read_some(&fd, &mut framer.input, read_max) => {
                match read {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {}
                }
                let handle = framer.take_messages(true, |m| sink.emit(ChildEvent::Message(m)));
                if handle {
                    queue.push(None, serialization.handle_nack().to_vec());
                }
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

    fn advanced_frame(body: &[u8]) -> Vec<u8> {
        let mut frame = (body.len() as u32).to_be_bytes().to_vec();
        frame.extend_from_slice(body);
        frame
    }

    fn messages(framer: &mut Framer) -> (Vec<Message>, bool) {
        let mut got = Vec::new();
        let handle = framer.take_messages(false, |m| got.push(m));
        (got, handle)
    }

    #[test]
    fn recognises_nodes_internal_messages() {
        assert_eq!(
            classify(br#"{"cmd":"NODE_HANDLE","type":"net.Socket","msg":{}}"#),
            IpcFrame::Handle
        );
        assert_eq!(
            classify(br#"{"cmd":"NODE_HANDLE_ACK"}"#),
            IpcFrame::Internal(br#"{"cmd":"NODE_HANDLE_ACK"}"#)
        );
        assert_eq!(
            classify(br#"{"cmd":"NODE_CLUSTER"}"#),
            IpcFrame::Internal(br#"{"cmd":"NODE_CLUSTER"}"#)
        );
        assert_eq!(
            classify(br#"{"cmd":"work","n":1}"#),
            IpcFrame::Message(br#"{"cmd":"work","n":1}"#)
        );
        assert_eq!(classify(b"42"), IpcFrame::Message(b"42"));
    }

    /// The bytes Node 20 writes for `{cmd: 'NODE_HANDLE', type: 'net.Socket', msg: {a: 1}}`
    /// and `{cmd: 'NODE_HANDLE_ACK'}`, and for a message of the user's own.
    #[test]
    fn recognises_nodes_internal_messages_in_advanced_form() {
        let handle = b"\xff\x0fo\"\x03cmd\"\x0bNODE_HANDLE\"\x04type\"\x0anet.Socket\"\x03msgo\"\x01aI\x02{\x01{\x03";
        assert_eq!(classify_serialized(handle), IpcFrame::Handle);
        let ack = b"\xff\x0fo\"\x03cmd\"\x0fNODE_HANDLE_ACK{\x01";
        assert_eq!(classify_serialized(ack), IpcFrame::Internal(ack));
        let own = b"\xff\x0fo\"\x03cmd\"\x04work{\x01";
        assert_eq!(classify_serialized(own), IpcFrame::Message(own));
        assert_eq!(
            classify_serialized(b"\xff\x0fI\x02"),
            IpcFrame::Message(b"\xff\x0fI\x02")
        );
    }

    #[test]
    fn the_advanced_nack_is_one_whole_frame() {
        let len = u32::from_be_bytes(HANDLE_NACK_V8[..4].try_into().unwrap()) as usize;
        assert_eq!(len, HANDLE_NACK_V8.len() - 4);
        assert_eq!(
            classify_serialized(&HANDLE_NACK_V8[4..]),
            IpcFrame::Internal(&HANDLE_NACK_V8[4..]),
            "it reads as Node's own message"
        );
    }

    #[test]
    fn v8_body_skips_the_header_and_its_varint_version() {
        assert_eq!(v8_body(b"\xff\x0fI\x02"), Some(&b"I\x02"[..]));
        assert_eq!(v8_body(b"\xff\x8f\x01I\x02"), Some(&b"I\x02"[..]));
        assert_eq!(v8_body(b"I\x02"), None);
        assert_eq!(v8_body(b"\xff"), None);
    }

    #[test]
    fn advanced_frames_are_cut_whatever_the_reads_split_them_into() {
        let bodies: Vec<Vec<u8>> = vec![
            b"\xff\x0fI\x02".to_vec(),
            vec![7; 300_000],
            Vec::new(),
            b"\xff\x0fT".to_vec(),
        ];
        let stream: Vec<u8> = bodies.iter().flat_map(|b| advanced_frame(b)).collect();
        for chunk in [1, 3, 4, 5, 4096, stream.len()] {
            let mut framer = Framer::new(Serialization::Advanced);
            let mut got = Vec::new();
            for piece in stream.chunks(chunk) {
                framer.input.extend_from_slice(piece);
                got.extend(messages(&mut framer).0);
            }
            let want: Vec<Message> = bodies
                .iter()
                .map(|b| Message::Serialized(advanced_frame(b)))
                .collect();
            assert_eq!(got, want, "read {chunk} bytes at a time");
            assert!(framer.input.is_empty());
        }
    }

    #[test]
    fn a_message_read_alone_is_handed_on_in_the_allocation_it_was_read_into() {
        let mut framer = Framer::new(Serialization::Advanced);
        framer.input = advanced_frame(&[3; 100_000]);
        let at = framer.input.as_ptr();
        let (got, _) = messages(&mut framer);
        match &got[..] {
            [Message::Serialized(frame)] => assert_eq!(frame.as_ptr(), at, "not copied"),
            other => panic!("{other:?}"),
        }
        assert!(framer.input.is_empty());
    }

    #[test]
    fn bug_a_small_message_read_into_a_large_reservation_was_handed_on_with_it() {
        // As a pool worker's channel reads: 256 KiB reserved, one small frame read.
        let mut framer = Framer::new(Serialization::Advanced);
        framer.input.reserve(256 * 1024);
        framer.input.extend(advanced_frame(&[5; 1000]));
        let reserved = framer.input.capacity();
        let (got, _) = messages(&mut framer);
        match &got[..] {
            [Message::Serialized(frame)] => {
                assert_eq!(frame, &advanced_frame(&[5; 1000]));
                assert!(
                    frame.capacity() < 2 * frame.len(),
                    "{} bytes kept for {}",
                    frame.capacity(),
                    frame.len()
                );
            }
            other => panic!("{other:?}"),
        }
        assert!(framer.input.is_empty());
        assert_eq!(
            framer.input.capacity(),
            reserved,
            "the reservation stays for the next reads"
        );
    }

    #[test]
    fn a_partial_large_frame_makes_room_for_the_whole_of_it_once_and_is_read_to_its_end() {
        let mut framer = Framer::new(Serialization::Advanced);
        assert_eq!(framer.read_size(READ_MAX), READ_MAX);
        framer.input.extend_from_slice(&(32u32 << 20).to_be_bytes());
        framer.input.extend_from_slice(&[1; 1000]);
        assert!(messages(&mut framer).0.is_empty());
        assert!(framer.input.capacity() >= (32 << 20) + 4);
        assert_eq!(framer.read_size(READ_MAX), (32 << 20) - 1000);
        let mut small = Framer::new(Serialization::Advanced);
        small.input.extend_from_slice(&1000u32.to_be_bytes());
        assert_eq!(
            small.read_size(READ_MAX),
            READ_MAX,
            "small frames are read many at once"
        );
    }

    #[test]
    fn a_handle_is_refused_in_the_form_of_the_channel() {
        let mut json = Framer::new(Serialization::Json);
        json.input
            .extend_from_slice(b"{\"cmd\":\"NODE_HANDLE\",\"msg\":1}\n{\"a\":1}\n");
        assert_eq!(
            messages(&mut json),
            (vec![Message::Json("{\"a\":1}".into())], true)
        );
        let mut advanced = Framer::new(Serialization::Advanced);
        advanced
            .input
            .extend(advanced_frame(b"\xff\x0fo\"\x03cmd\"\x0bNODE_HANDLE{\x01"));
        assert_eq!(messages(&mut advanced), (vec![], true));
        assert_eq!(Serialization::Advanced.handle_nack(), HANDLE_NACK_V8);
    }

    #[test]
    fn nodes_own_messages_are_passed_on_only_when_asked() {
        let ack = b"\xff\x0fo\"\x03cmd\"\x0fNODE_HANDLE_ACK{\x01";
        for internal in [true, false] {
            let mut advanced = Framer::new(Serialization::Advanced);
            advanced.input.extend(advanced_frame(ack));
            advanced.input.extend(advanced_frame(b"\xff\x0fT"));
            let mut got = Vec::new();
            advanced.take_messages(internal, |m| got.push(m));
            let mut want = vec![Message::Serialized(advanced_frame(b"\xff\x0fT"))];
            if internal {
                want.insert(0, Message::Serialized(advanced_frame(ack)));
            }
            assert_eq!(got, want, "internal: {internal}");
            let mut json = Framer::new(Serialization::Json);
            json.input.extend_from_slice(b"{\"cmd\":\"NODE_X\"}\n");
            let mut got = Vec::new();
            json.take_messages(internal, |m| got.push(m));
            assert_eq!(got.len(), usize::from(internal));
        }
    }

    #[test]
    fn a_message_is_recognised_in_either_form() {
        let v8 = b"o\"\x01aI\x02{\x01";
        assert!(Message::Json("{\"a\":1}".into()).is("{\"a\":1}", v8));
        let mut serialized = b"\xff\x0f".to_vec();
        serialized.extend_from_slice(v8);
        let frame = advanced_frame(&serialized);
        assert!(Message::Serialized(frame).is("{\"a\":1}", v8));
        let other = advanced_frame(b"\xff\x0fI\x02");
        assert!(!Message::Serialized(other).is("{\"a\":1}", v8));
    }
}
