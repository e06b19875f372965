//! A Node worker's channels: its task channel (fd 4 in the worker, binary
//! frames, see [`super::task_frame`]) and its Node IPC channel (fd 3, Node's JSON
//! lines or `advanced` frames, for workers that use `process.on('message')`).
//! Both are socket pairs the pool owns, so both are written and read the same
//! way:
//!
//! Frames go out from whichever thread dispatches (JavaScript's, for `run`):
//! [`ChannelEnd::send`] writes straight to the socket when nothing is queued ahead,
//! so a task reaches its worker without waking another thread. Only what the
//! socket does not take at once waits for the channel's task ([`run`]), which
//! also reads the worker's frames and hands them to the pool in batches, one
//! batch per read.

use std::collections::VecDeque;
use std::io;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use tokio::io::unix::AsyncFd;
use tokio::io::Interest;
use tokio::sync::Notify;

use super::task_frame::{self, TaskFrame};
use crate::process::fds::{read_into, register_for};
use crate::process::{ipc, Message};

pub(crate) enum ChannelEvent {
    /// Frames in the order the worker wrote them.
    Frames(Vec<TaskFrame>),
    /// Messages of Node's IPC channel, in order.
    Messages(Vec<Message>),
    /// The worker wrote something that is not a frame; it cannot be trusted
    /// with tasks any more.
    Malformed(&'static str),
}

const READ_CHUNK: usize = 256 * 1024;
/// A frame from this size on is read into an allocation of its own, which
/// then carries its buffers to JavaScript as they are.
const OWN_FRAME: usize = 64 * 1024;
/// At most this many chunks per `writev`.
const IOVECS: usize = 64;

/// Bytes to send: our own, or a task's buffer (kept by the task for a retry).
pub(crate) enum Chunk {
    Owned(Vec<u8>),
    Shared(Arc<[u8]>),
}

impl Chunk {
    fn bytes(&self) -> &[u8] {
        match self {
            Chunk::Owned(v) => v,
            Chunk::Shared(v) => v,
        }
    }

    /// All of them in one allocation.
    pub fn join(chunks: Vec<Chunk>) -> Vec<u8> {
        let mut chunks = chunks.into_iter();
        let mut out = match chunks.next() {
            Some(Chunk::Owned(v)) => v,
            Some(Chunk::Shared(v)) => v.to_vec(),
            None => return Vec::new(),
        };
        for c in chunks {
            out.extend_from_slice(c.bytes());
        }
        out
    }
}

#[derive(Default)]
struct Queued {
    chunks: VecDeque<Chunk>,
    /// Bytes of the front chunk already written.
    written: usize,
    /// No more frames: shut our side once the queue is out.
    closing: bool,
    /// The socket failed: frames are refused.
    broken: bool,
}

impl Queued {
    /// Writes from the front of the queue without waiting; `Ok(true)` once empty.
    fn write_out(&mut self, fd: i32) -> io::Result<bool> {
        while !self.chunks.is_empty() {
            let mut iov: Vec<libc::iovec> = Vec::with_capacity(self.chunks.len().min(IOVECS));
            for (i, chunk) in self.chunks.iter().take(IOVECS).enumerate() {
                let bytes = &chunk.bytes()[if i == 0 { self.written } else { 0 }..];
                if !bytes.is_empty() {
                    iov.push(libc::iovec {
                        iov_base: bytes.as_ptr() as *mut libc::c_void,
                        iov_len: bytes.len(),
                    });
                }
            }
            // SAFETY: every iovec points into a chunk the queue holds until written.
            let n = unsafe { libc::writev(fd, iov.as_ptr(), iov.len() as libc::c_int) };
            if n < 0 {
                let e = io::Error::last_os_error();
                match e.kind() {
                    io::ErrorKind::Interrupted => continue,
                    io::ErrorKind::WouldBlock => return Ok(false),
                    _ => return Err(e),
                }
            }
            let mut n = n as usize;
            while let Some(front) = self.chunks.front() {
                let left = front.bytes().len() - self.written;
                if n < left {
                    self.written += n;
                    break;
                }
                n -= left;
                self.chunks.pop_front();
                self.written = 0;
            }
        }
        Ok(true)
    }
}

/// What a channel carries.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Framing {
    /// offload's binary frames (the task channel).
    Frames,
    /// Node's IPC, in the serialization given.
    NodeIpc(ipc::Serialization),
}

/// Our end of a channel's socket: it writes what the pool sends and reads
/// what the worker sends.
pub(crate) struct ChannelEnd {
    framing: Framing,
    /// Read and written without waiting. Registered with the runtime only
    /// while needed: for writability while a write waits for room, and for
    /// readability until a watcher takes over (see [`run`]), since a
    /// registration would wake the runtime for every answer, and for every
    /// task the worker reads.
    fd: OwnedFd,
    /// The same socket registered for readability, until a watcher takes over.
    readable: Mutex<Option<Arc<AsyncFd<OwnedFd>>>>,
    /// Answers are due and tasks wait for the worker: the runtime checks that
    /// the watcher keeps up.
    expecting: AtomicBool,
    /// The worker is gone: the channel's task ends.
    finished: AtomicBool,
    queued: Mutex<Queued>,
    notify: Notify,
    reader: Mutex<Reader>,
    /// A watcher on JavaScript's event loop reads answers as they arrive.
    watched: AtomicBool,
}

impl ChannelEnd {
    /// Sends frames, in order; `false` if the channel is closed or broken.
    pub fn send(&self, chunks: Vec<Chunk>) -> bool {
        let mut q = self.queued.lock().unwrap();
        if q.broken || q.closing {
            return false;
        }
        let was_empty = q.chunks.is_empty();
        q.chunks
            .extend(chunks.into_iter().filter(|c| !c.bytes().is_empty()));
        if was_empty {
            match q.write_out(self.fd.as_raw_fd()) {
                Ok(true) => return true,
                Ok(false) => {}
                Err(_) => {
                    q.broken = true;
                    return false;
                }
            }
        }
        drop(q);
        self.notify.notify_one();
        true
    }

    /// No more frames: the worker sees the end once the queue is out.
    pub fn close(&self) {
        self.queued.lock().unwrap().closing = true;
        self.notify.notify_one();
    }

    fn pending(&self) -> bool {
        !self.queued.lock().unwrap().chunks.is_empty()
    }

    /// Waits for room and writes until the queue is empty.
    async fn drain(&self) -> io::Result<()> {
        let writable = register_for(self.fd.try_clone()?, Interest::WRITABLE)?;
        loop {
            let mut guard = writable.writable().await?;
            let mut q = self.queued.lock().unwrap();
            match q.write_out(self.fd.as_raw_fd()) {
                Ok(true) => return Ok(()),
                Ok(false) => guard.clear_ready(),
                Err(e) => {
                    q.broken = true;
                    return Err(e);
                }
            }
        }
    }
}

/// Registers our end of the channel; the task is started with [`run`].
pub(crate) fn open(fd: OwnedFd, framing: Framing) -> io::Result<Arc<ChannelEnd>> {
    let reading = fd.try_clone()?;
    Ok(Arc::new(ChannelEnd {
        framing,
        fd,
        readable: Mutex::new(Some(Arc::new(register_for(reading, Interest::READABLE)?))),
        expecting: AtomicBool::new(false),
        finished: AtomicBool::new(false),
        queued: Mutex::default(),
        notify: Notify::new(),
        reader: Mutex::new(Reader {
            input: Vec::new(),
            node: match framing {
                Framing::NodeIpc(serialization) => Some(ipc::Framer::new(serialization)),
                Framing::Frames => None,
            },
            own: None,
            done: false,
        }),
        watched: AtomicBool::new(false),
    }))
}

/// The receiving side: bytes read so far, cut into frames or Node's messages.
struct Reader {
    input: Vec<u8>,
    /// Node's IPC is cut by the process engine's framer, which holds its own input.
    node: Option<ipc::Framer>,
    /// A large frame being read into an allocation of its own, and its length.
    own: Option<(Vec<u8>, usize)>,
    /// End of file, an error, or garbage: nothing more is read.
    done: bool,
}

/// What one round of reading found.
#[derive(Default)]
pub(crate) struct Reading {
    pub frames: Vec<TaskFrame>,
    pub messages: Vec<Message>,
    /// The worker offered a handle (Node IPC), which must be refused.
    pub refuse_handle: bool,
    pub malformed: Option<&'static str>,
    /// The worker closed its end (or the socket failed).
    pub closed: bool,
}

impl Reader {
    /// Reads what the socket holds now, without waiting, and decodes the
    /// complete frames; `None` if there was nothing to read (and the socket
    /// is still open).
    fn read_available(&mut self, fd: RawFd, framing: Framing) -> Option<Reading> {
        let mut got = Reading::default();
        if self.done {
            // Said before; said again, so that every reader stops watching.
            got.closed = true;
            return Some(got);
        }
        let mut any = false;
        loop {
            let (buf, max) = match &mut self.own {
                Some((frame, len)) => {
                    let max = *len - frame.len();
                    (frame, max)
                }
                None => match &mut self.node {
                    Some(framer) => {
                        let max = framer.read_size(READ_CHUNK);
                        (&mut framer.input, max)
                    }
                    None => (&mut self.input, READ_CHUNK),
                },
            };
            let short = match read_into(fd, buf, max) {
                Ok(0) => {
                    got.closed = true;
                    self.done = true;
                    break;
                }
                Ok(n) => {
                    any = true;
                    n < max
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(_) => {
                    got.closed = true;
                    self.done = true;
                    break;
                }
            };
            match framing {
                Framing::Frames => {
                    if let Err(what) = self.cut(&mut got.frames) {
                        got.malformed = Some(what);
                        self.done = true;
                        break;
                    }
                }
                Framing::NodeIpc(_) => self.cut_messages(&mut got),
            }
            // A short read emptied the socket: asking again would only say so.
            // (More arriving later wakes the watcher again.)
            if short {
                break;
            }
        }
        (any || got.closed).then_some(got)
    }

    /// Moves the complete frames read so far to `frames`.
    fn cut(&mut self, frames: &mut Vec<TaskFrame>) -> Result<(), &'static str> {
        if let Some((frame, len)) = self.own.take() {
            if frame.len() < len {
                self.own = Some((frame, len));
                return Ok(());
            }
            frames.push(task_frame::decode_owned(frame).map_err(|e| e.0)?);
        }
        let mut start = 0;
        loop {
            match task_frame::frame_len(&self.input[start..]).map_err(|e| e.0)? {
                Some(len) if self.input.len() - start >= len => {
                    frames.push(
                        task_frame::decode(&self.input[start..start + len]).map_err(|e| e.0)?,
                    );
                    start += len;
                }
                Some(len) if len >= OWN_FRAME => {
                    let mut frame = Vec::with_capacity(len);
                    frame.extend_from_slice(&self.input[start..]);
                    start = self.input.len();
                    self.own = Some((frame, len));
                    break;
                }
                _ => break,
            }
        }
        self.input.drain(..start);
        Ok(())
    }

    /// Moves the complete messages read so far to `got`, and whether Node
    /// offered a handle. Node's own other messages are dropped.
    fn cut_messages(&mut self, got: &mut Reading) {
        if let Some(framer) = &mut self.node {
            let messages = &mut got.messages;
            got.refuse_handle |= framer.take_messages(false, |m| messages.push(m));
        }
    }
}

impl ChannelEnd {
    /// Reads and decodes what the worker sent, if anything; callable from any
    /// thread (the runtime's, or JavaScript's when it watches the socket).
    pub fn read_available(&self) -> Option<Reading> {
        let got = {
            let mut reader = self.reader.lock().unwrap();
            reader.read_available(self.fd.as_raw_fd(), self.framing)?
        };
        if let (true, Framing::NodeIpc(serialization)) = (got.refuse_handle, self.framing) {
            // Unanswered, Node holds back every later message of the worker.
            self.send(vec![Chunk::Owned(serialization.handle_nack().to_vec())]);
        }
        Some(got)
    }

    /// The socket, for a watcher of its readability on another event loop.
    pub fn raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }

    /// Another thread now reads as soon as data arrives (see [`run`]).
    pub fn set_watched(&self) {
        self.watched.store(true, Ordering::Release);
        // Our readability registration would wake the runtime for every answer.
        self.readable.lock().unwrap().take();
        self.notify.notify_one();
    }

    /// Whether answers are due while tasks wait for this worker.
    pub fn set_expecting(&self, expecting: bool) {
        if self.expecting.swap(expecting, Ordering::AcqRel) != expecting && expecting {
            self.notify.notify_one();
        }
    }

    /// The worker is gone: the channel's task ends.
    pub fn finish(&self) {
        self.finished.store(true, Ordering::Release);
        self.notify.notify_one();
    }
}

/// How long the channel's task leaves arriving data to a watcher on another
/// thread (JavaScript's) before reading it itself: when that thread is busy,
/// answers still free their workers for the next tasks.
const WATCHER_GRACE: std::time::Duration = std::time::Duration::from_millis(2);

/// Runs until the worker closes its end (or the socket fails): writes what
/// the socket did not take at once, and reads the worker's frames, unless a
/// watcher reads them first; `send` takes what it read to the pool.
pub(crate) async fn run(end: Arc<ChannelEnd>, send: impl Fn(ChannelEvent)) {
    let mut reading = true;
    let mut shut = false;
    let deliver = |got: Reading, reading: &mut bool| {
        if !got.frames.is_empty() {
            send(ChannelEvent::Frames(got.frames));
        }
        if !got.messages.is_empty() {
            send(ChannelEvent::Messages(got.messages));
        }
        if let Some(what) = got.malformed {
            send(ChannelEvent::Malformed(what));
            *reading = false;
        }
        if got.closed {
            *reading = false;
        }
    };
    loop {
        let pending = end.pending();
        if !pending && !shut && end.queued.lock().unwrap().closing {
            // SAFETY: a socket we own. The worker sees the end (`serve()`
            // finishes, Node's IPC emits 'disconnect'); we keep reading until
            // it closes, as answers may still come.
            unsafe { libc::shutdown(end.fd.as_raw_fd(), libc::SHUT_WR) };
            shut = true;
        }
        if (!reading && !pending) || end.finished.load(Ordering::Acquire) {
            break;
        }
        // Unwatched: wait for data. Watched: while answers are due and tasks
        // wait, look every WATCHER_GRACE for data the watcher left unread.
        let readable = end.readable.lock().unwrap().clone();
        let watchdog = readable.is_none() && end.expecting.load(Ordering::Acquire);
        tokio::select! {
            guard = async { readable.as_ref().expect("checked").readable().await }, if reading && readable.is_some() => {
                let Ok(mut guard) = guard else { break };
                match end.read_available() {
                    None => guard.clear_ready(),
                    Some(got) => {
                        deliver(got, &mut reading);
                        // Data may have come since: the next read says.
                        guard.clear_ready();
                    }
                }
            }
            _ = tokio::time::sleep(WATCHER_GRACE), if reading && watchdog => {
                if let Some(got) = end.read_available() {
                    deliver(got, &mut reading);
                }
            }
            _ = end.notify.notified() => {}
            written = end.drain(), if pending => {
                if written.is_err() {
                    break;
                }
            }
        }
    }
}
