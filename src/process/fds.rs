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
/// Returns the bytes read; 0 is end of file.
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

/// Waits for data and appends up to `max` bytes to `buf`, reading repeatedly
/// while more is immediately available so that chunks stay large.
/// Returns the bytes appended; 0 is end of file.
pub async fn read_some(fd: &AsyncFd<OwnedFd>, buf: &mut Vec<u8>, max: usize) -> io::Result<usize> {
    loop {
        let mut guard = fd.readable().await?;
        let result = guard.try_io(|inner| {
            let mut total = 0;
            while total < max {
                match read_into(inner.as_raw_fd(), buf, max - total) {
                    Ok(0) => break,
                    Ok(n) => total += n,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock && total > 0 => break,
                    Err(e) => return Err(e),
                }
            }
            Ok(total)
        });
        match result {
            Ok(r) => return r,
            Err(_would_block) => continue,
        }
    }
}

/// Appends what can be read right now, up to `max` bytes, without waiting.
pub fn read_available(fd: &AsyncFd<OwnedFd>, buf: &mut Vec<u8>, max: usize) {
    let mut total = 0;
    while total < max {
        match read_into(fd.get_ref().as_raw_fd(), buf, max - total) {
            Ok(0) => return,
            Ok(n) => total += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(_) => return,
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
