//! A worker's stderr: always a pipe we read, so that the pool keeps its last
//! bytes for error reports (a worker that cannot start, or crashes, says why
//! there), and with `stderr: 'inherit'` copies every byte on to our own stderr.
//!
//! The copy is written on a blocking thread, off the pool's lock and the
//! runtime's threads (our stderr may be a slow terminal, or a pipe another
//! process reads late); the worker's next chunk is read only once its last one
//! is out, so a worker that writes faster than our stderr takes it waits, as
//! it would on the terminal itself. The worker sees a pipe, not a terminal
//! (`process.stderr.isTTY` is false there).

use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::Arc;

use crate::process::{ChildHandle, Stream};

/// Bytes kept of an inherited stderr: enough for a stack trace.
pub const INHERITED_TAIL: usize = 8 * 1024;

pub(crate) struct StderrTail {
    tail: Vec<u8>,
    max: usize,
    /// Our stderr, when the worker's is passed through.
    relay: Option<Arc<OwnedFd>>,
}

impl StderrTail {
    pub fn new(max: usize, relay: Option<Arc<OwnedFd>>) -> StderrTail {
        StderrTail {
            tail: Vec::new(),
            max,
            relay,
        }
    }

    /// Keeps the end of `data`, passes it on, and asks `handle` for the next chunk.
    pub fn add(&mut self, data: Vec<u8>, handle: &ChildHandle) {
        let keep = data.len().min(self.max);
        self.tail.extend_from_slice(&data[data.len() - keep..]);
        if self.tail.len() > self.max {
            let cut = self.tail.len() - self.max;
            self.tail.drain(..cut);
        }
        match &self.relay {
            Some(fd) => {
                let (fd, handle) = (fd.clone(), handle.clone());
                crate::runtime::handle().spawn_blocking(move || {
                    write_all(&fd, &data);
                    handle.read(Stream::Stderr);
                });
            }
            None => handle.read(Stream::Stderr),
        }
    }

    pub fn bytes(&self) -> &[u8] {
        &self.tail
    }

    /// Its last `lines` lines.
    pub fn last_lines(&self, lines: usize) -> Vec<u8> {
        let text = self.tail.strip_suffix(b"\n").unwrap_or(&self.tail);
        let start = text
            .iter()
            .enumerate()
            .rev()
            .filter(|(_, &b)| b == b'\n')
            .nth(lines.saturating_sub(1))
            .map_or(0, |(at, _)| at + 1);
        text[start..].to_vec()
    }
}

/// Writes all of `data` to `fd`, which may be non-blocking (Node sets its
/// stdio pipes so); gives up on an error (our stderr closed: nobody reads it).
fn write_all(fd: &OwnedFd, mut data: &[u8]) {
    while !data.is_empty() {
        // SAFETY: writes from a live slice to a descriptor we own.
        let n = unsafe { libc::write(fd.as_raw_fd(), data.as_ptr().cast(), data.len()) };
        if n >= 0 {
            data = &data[n as usize..];
            continue;
        }
        match std::io::Error::last_os_error().raw_os_error() {
            Some(libc::EINTR) => {}
            Some(libc::EAGAIN) => {
                let mut pollfd = libc::pollfd {
                    fd: fd.as_raw_fd(),
                    events: libc::POLLOUT,
                    revents: 0,
                };
                // SAFETY: one valid pollfd.
                unsafe { libc::poll(&mut pollfd, 1, 1000) };
            }
            _ => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn last_lines_of_a_stack_trace() {
        let mut t = StderrTail::new(1024, None);
        t.tail = b"/tmp/bad.js:2\nthrow new Error('boom')\n^\n\nError: boom\n    at x\n".to_vec();
        assert_eq!(t.last_lines(2), b"Error: boom\n    at x");
        assert_eq!(t.last_lines(50), t.tail[..t.tail.len() - 1]);
        assert_eq!(StderrTail::new(8, None).last_lines(3), b"");
    }

    #[test]
    fn write_all_gets_every_byte_through_a_small_nonblocking_pipe() {
        let (read, write) = crate::process::fds::pipe().unwrap();
        crate::process::fds::set_nonblocking(&write).unwrap();
        let data: Vec<u8> = (0..300_000u32).map(|i| i as u8).collect();
        let reader = std::thread::spawn(move || {
            let mut got = Vec::new();
            let mut file = std::fs::File::from(read);
            std::io::Read::read_to_end(&mut file, &mut got).unwrap();
            got
        });
        write_all(&write, &data);
        drop(write);
        assert_eq!(reader.join().unwrap(), data);
    }
}
