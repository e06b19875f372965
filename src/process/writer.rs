//! The queue behind every descriptor we write to a child (stdin and the IPC
//! channel): writes complete in order, each reported once.

use std::collections::VecDeque;
use std::io;
use std::os::fd::OwnedFd;
use std::sync::Arc;

use tokio::io::unix::AsyncFd;

use super::events::{ChildEvent, EventSink};
use super::fds::write_some;

struct Pending {
    /// `None` for writes nobody waits for (stdin data given up front, IPC replies).
    id: Option<u32>,
    data: Vec<u8>,
    written: usize,
}

pub(crate) struct WriteQueue {
    queue: VecDeque<Pending>,
    sink: Arc<dyn EventSink>,
}

impl WriteQueue {
    pub fn new(sink: Arc<dyn EventSink>) -> WriteQueue {
        WriteQueue {
            queue: VecDeque::new(),
            sink,
        }
    }

    pub fn push(&mut self, id: Option<u32>, data: Vec<u8>) {
        if data.is_empty() {
            self.done(id, None);
        } else {
            self.queue.push_back(Pending {
                id,
                data,
                written: 0,
            });
        }
    }

    pub fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }

    /// Writes from the front of the queue; completes the front write when it is
    /// all out. An error fails every queued write and is returned.
    pub async fn write_front(&mut self, fd: &AsyncFd<OwnedFd>) -> io::Result<()> {
        let Some(front) = self.queue.front_mut() else {
            return Ok(());
        };
        match write_some(fd, &front.data[front.written..]).await {
            Ok(n) => {
                front.written += n;
                if front.written == front.data.len() {
                    let id = front.id;
                    self.queue.pop_front();
                    self.done(id, None);
                }
                Ok(())
            }
            Err(e) => {
                self.fail_all(&e);
                Err(e)
            }
        }
    }

    /// Fails every queued write with `error`.
    pub fn fail_all(&mut self, error: &io::Error) {
        while let Some(p) = self.queue.pop_front() {
            self.done(p.id, Some(copy_error(error)));
        }
    }

    fn done(&self, id: Option<u32>, error: Option<io::Error>) {
        if let Some(id) = id {
            self.sink.emit(ChildEvent::WriteDone { id, error });
        }
    }
}

/// `io::Error` is not `Clone`; keep the OS error number so callers still see `EPIPE`.
pub(crate) fn copy_error(e: &io::Error) -> io::Error {
    match e.raw_os_error() {
        Some(errno) => io::Error::from_raw_os_error(errno),
        None => io::Error::new(e.kind(), e.to_string()),
    }
}
