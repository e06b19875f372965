//! Small descriptor helpers: pipes, socket pairs, opening stdio files, and reads
//! and writes on non-blocking descriptors registered with the runtime.

use std::ffi::CString;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

use tokio::io::unix::AsyncFd;

fn cvt(rc: libc::c_int) -> io::Result<libc::c_int> {
    if rc < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(rc)
    }
}

/// A close-on-exec pipe: `(read end, write end)`.
pub fn pipe() -> io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [-1; 2];
    // SAFETY: pipe2 fills `fds` on success.
    cvt(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) })?;
    // SAFETY: both descriptors are new and ours.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

/// A close-on-exec Unix stream socket pair.
pub fn socket_pair() -> io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [-1; 2];
    // SAFETY: socketpair fills `fds` on success.
    cvt(unsafe {
        libc::socketpair(
            libc::AF_UNIX,
            libc::SOCK_STREAM | libc::SOCK_CLOEXEC,
            0,
            fds.as_mut_ptr(),
        )
    })?;
    // SAFETY: both descriptors are new and ours.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

/// Asks for a send buffer of `bytes` (the kernel caps it at `net.core.wmem_max`),
/// so that a large message goes out in one write instead of many wake-ups.
pub fn set_send_buffer(fd: &OwnedFd, bytes: usize) {
    let size = bytes as libc::c_int;
    // SAFETY: setsockopt with a pointer to a c_int of the size given.
    unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_SNDBUF,
            &size as *const libc::c_int as *const libc::c_void,
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        );
    }
}

pub fn set_nonblocking(fd: &OwnedFd) -> io::Result<()> {
    // SAFETY: fcntl on a descriptor we own.
    unsafe {
        let flags = cvt(libc::fcntl(fd.as_raw_fd(), libc::F_GETFL))?;
        cvt(libc::fcntl(
            fd.as_raw_fd(),
            libc::F_SETFL,
            flags | libc::O_NONBLOCK,
        ))?;
    }
    Ok(())
}

/// Opens a file for a child's stdio, close-on-exec in the parent.
pub fn open(path: &str, flags: libc::c_int) -> io::Result<OwnedFd> {
    let c = CString::new(path).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
    // SAFETY: a valid C string; the descriptor returned is ours.
    let fd = cvt(unsafe { libc::open(c.as_ptr(), flags | libc::O_CLOEXEC, 0o666) })?;
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// One `read` into the spare capacity of `buf`, up to `max` more bytes.
/// Returns the bytes read; 0 is end of file. It reserves `max` first, so it
/// suits a buffer that lives as long as its descriptor (a pool worker's), not
/// one handed on per read (see [`read_some`]).
pub fn read_into(fd: RawFd, buf: &mut Vec<u8>, max: usize) -> io::Result<usize> {
    buf.reserve(max);
    let spare = buf.spare_capacity_mut();
    let len = spare.len().min(max);
    // SAFETY: reading into uninitialised capacity we own, then extending the
    // length by exactly the bytes the kernel wrote.
    let n = unsafe { libc::read(fd, spare.as_mut_ptr() as *mut libc::c_void, len) };
    if n < 0 {
        return Err(io::Error::last_os_error());
    }
    unsafe { buf.set_len(buf.len() + n as usize) };
    Ok(n as usize)
}

/// The most one call of [`read_some`] or [`read_available`] reads at once: the
/// size of each thread's scratch buffer.
pub const READ_MAX: usize = 256 * 1024;

thread_local! {
    /// Where reads land before only the bytes read are copied to the caller's `Vec`.
    /// Reading straight into the caller's `Vec` would make it reserve `READ_MAX`
    /// for what is usually a few bytes, and such blocks, made on a runtime thread
    /// and freed at a JavaScript garbage collection, left glibc's arenas ever
    /// larger (~20 KB of RSS per buffered spawn, never returned).
    static SCRATCH: std::cell::RefCell<Box<[u8]>> =
        std::cell::RefCell::new(vec![0; READ_MAX].into_boxed_slice());
}

/// Reads until `max` bytes (at most [`READ_MAX`]), end of file or an empty
/// descriptor, and appends what it read to `out`. `Ok(0)` is end of file;
/// `WouldBlock` means nothing was there. An error after some bytes is left for
/// the next call, so that the bytes are not lost.
fn read_burst(fd: RawFd, out: &mut Vec<u8>, max: usize) -> io::Result<usize> {
    SCRATCH.with_borrow_mut(|scratch| {
        let max = max.min(scratch.len());
        let mut total = 0;
        let result = loop {
            if total == max {
                break Ok(total);
            }
            let room = &mut scratch[total..max];
            // SAFETY: reading into a slice we hold, at most its length.
            let n = unsafe { libc::read(fd, room.as_mut_ptr() as *mut libc::c_void, room.len()) };
            if n > 0 {
                total += n as usize;
                continue;
            }
            if n == 0 {
                break Ok(total);
            }
            let e = io::Error::last_os_error();
            match e.kind() {
                io::ErrorKind::Interrupted => continue,
                _ if total > 0 => break Ok(total),
                _ => break Err(e),
            }
        };
        out.extend_from_slice(&scratch[..total]);
        result
    })
}

/// Waits for data and appends up to `max` bytes (at most [`READ_MAX`]) to
/// `out`, reading repeatedly while more is immediately available so that chunks
/// stay large. `out` grows by the bytes read, never by `max`.
/// Returns the bytes appended; 0 is end of file.
pub async fn read_some(fd: &AsyncFd<OwnedFd>, out: &mut Vec<u8>, max: usize) -> io::Result<usize> {
    loop {
        let mut guard = fd.readable().await?;
        match guard.try_io(|inner| read_burst(inner.as_raw_fd(), out, max)) {
            Ok(r) => return r,
            Err(_would_block) => continue,
        }
    }
}

/// Appends what can be read right now, up to `max` bytes, without waiting.
pub fn read_available(fd: &AsyncFd<OwnedFd>, out: &mut Vec<u8>, max: usize) {
    let mut total = 0;
    while total < max {
        match read_burst(fd.get_ref().as_raw_fd(), out, max - total) {
            Ok(n) if n > 0 => total += n,
            _ => return,
        }
    }
}

/// Writes as much of `data` as the descriptor takes, waiting for room first.
pub async fn write_some(fd: &AsyncFd<OwnedFd>, data: &[u8]) -> io::Result<usize> {
    loop {
        let mut guard = fd.writable().await?;
        let result = guard.try_io(|inner| {
            // SAFETY: writing from a valid slice.
            let n = unsafe {
                libc::write(
                    inner.as_raw_fd(),
                    data.as_ptr() as *const libc::c_void,
                    data.len(),
                )
            };
            if n < 0 {
                Err(io::Error::last_os_error())
            } else {
                Ok(n as usize)
            }
        });
        match result {
            Ok(Err(e)) if e.kind() == io::ErrorKind::Interrupted => continue,
            Ok(r) => return r,
            Err(_would_block) => continue,
        }
    }
}

/// Registers a descriptor we own with the runtime's reactor, for `interest` only.
pub fn register_for(fd: OwnedFd, interest: tokio::io::Interest) -> io::Result<AsyncFd<OwnedFd>> {
    // SAFETY: as for `register`.
    unsafe { AsyncFd::register_with_interest(fd, interest) }.map_err(|e| e.into_parts().1)
}

/// Registers a descriptor we own with the runtime's reactor.
pub fn register(fd: OwnedFd) -> io::Result<AsyncFd<OwnedFd>> {
    // SAFETY: an OwnedFd stays open, and is the same descriptor, until dropped.
    unsafe { AsyncFd::register(fd) }.map_err(|e| e.into_parts().1)
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    /// The bug: every read reserved `READ_MAX` in the caller's buffer, so two
    /// bytes of output were handed to JavaScript in a 256 KiB block.
    #[test]
    fn a_few_bytes_read_hold_a_few_bytes_not_a_whole_read() {
        let (r, w) = pipe().unwrap();
        set_nonblocking(&r).unwrap();
        std::fs::File::from(w).write_all(b"x\n").unwrap();
        let out = crate::runtime::handle().block_on(async {
            let fd = register(r).unwrap();
            let mut out = Vec::new();
            assert_eq!(read_some(&fd, &mut out, READ_MAX).await.unwrap(), 2);
            assert_eq!(read_some(&fd, &mut out, READ_MAX).await.unwrap(), 0);
            out
        });
        assert_eq!(out, b"x\n");
        assert!(
            out.capacity() < 64,
            "capacity {} for 2 bytes",
            out.capacity()
        );
    }
}
