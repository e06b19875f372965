//! A Node worker's task channel (fd 4 in the worker): frames out, frames in.
//!
//! Frames go out from whichever thread dispatches (JavaScript's, for `run`):
//! [`Outlet::send`] writes straight to the socket when nothing is queued ahead,
//! so a task reaches its worker without waking another thread. Only what the
//! socket does not take at once waits for the channel's task ([`run`]), which
//! also reads the worker's frames and hands them to the pool in batches, one
//! batch per read.

use std::collections::VecDeque;
use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::{Arc, Mutex};

use tokio::io::unix::AsyncFd;
use tokio::sync::mpsc::UnboundedSender;
use tokio::sync::Notify;

use super::frame::{self, Frame};
use super::worker::WorkerEvent;
use crate::process::fds::{read_some, register};

pub(crate) enum ChannelEvent {
    /// Frames in the order the worker wrote them.
    Frames(Vec<Frame>),
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

/// The sending side of a task channel.
pub(crate) struct Outlet {
    fd: Arc<AsyncFd<OwnedFd>>,
    queued: Mutex<Queued>,
    notify: Notify,
}

impl Outlet {
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
            match q.write_out(self.fd.get_ref().as_raw_fd()) {
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
        loop {
            let mut guard = self.fd.writable().await?;
            let mut q = self.queued.lock().unwrap();
            match q.write_out(self.fd.get_ref().as_raw_fd()) {
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
pub(crate) fn open(fd: OwnedFd) -> io::Result<Arc<Outlet>> {
    Ok(Arc::new(Outlet {
        fd: Arc::new(register(fd)?),
        queued: Mutex::default(),
        notify: Notify::new(),
    }))
}

/// Runs until the worker closes its end (or the socket fails).
pub(crate) async fn run(
    outlet: Arc<Outlet>,
    worker: u64,
    events: UnboundedSender<(u64, WorkerEvent)>,
) {
    let send = |event| {
        let _ = events.send((worker, WorkerEvent::Channel(event)));
    };
    let fd = outlet.fd.clone();
    let mut input: Vec<u8> = Vec::with_capacity(64 * 1024);
    // Bytes still missing from the frame at the start of `input`.
    let mut wanted = 0;
    // A large frame being read into an allocation of its own, and its length.
    let mut own: Option<(Vec<u8>, usize)> = None;
    let mut reading = true;
    let mut shut = false;
    loop {
        let pending = outlet.pending();
        if !pending && !shut && outlet.queued.lock().unwrap().closing {
            // SAFETY: a socket we own. The worker's `serve()` sees the end;
            // we keep reading until it closes, as answers may still come.
            unsafe { libc::shutdown(fd.get_ref().as_raw_fd(), libc::SHUT_WR) };
            shut = true;
        }
        if !reading && !pending {
            break;
        }
        let read_max = match &own {
            Some((frame, len)) => len - frame.len(),
            None => wanted.max(READ_CHUNK),
        };
        tokio::select! {
            read = read_some(&fd, own.as_mut().map_or(&mut input, |o| &mut o.0), read_max), if reading => {
                if !matches!(read, Ok(n) if n > 0) {
                    break;
                }
                if let Some((frame, len)) = own.take() {
                    if frame.len() < len {
                        own = Some((frame, len));
                        continue;
                    }
                    match frame::decode_owned(frame) {
                        Ok(f) => send(ChannelEvent::Frames(vec![f])),
                        Err(e) => {
                            send(ChannelEvent::Malformed(e.0));
                            reading = false;
                        }
                    }
                    continue;
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
                        Ok(Some(len)) if len >= OWN_FRAME => {
                            let mut frame = Vec::with_capacity(len);
                            frame.extend_from_slice(&input[start..]);
                            start = input.len();
                            own = Some((frame, len));
                            break;
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
            _ = outlet.notify.notified() => {}
            written = outlet.drain(), if pending => {
                if written.is_err() {
                    break;
                }
            }
        }
    }
}
