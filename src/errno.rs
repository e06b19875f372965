//! The number an OS error crosses to JavaScript as, for every engine.
//!
//! Rust sends the OS's own number and lib/errors.js names and describes it with
//! Node's table (`util.getSystemErrorMap`), so an errno reads as `fs` or
//! `child_process` would give it and no engine keeps a table of names. What is
//! decided here is the number: the OS's (positive, as the engines keep it) or
//! Node's (negative, libuv's convention, as the bindings hand it over), and what
//! an error the OS gave no number for counts as.
//!
//! A leaf: it depends on nothing in the crate, so the image engine can use it
//! without depending on the process engine.

use std::io;

/// The OS's number for a failed operation. An error the OS gave no number for
/// (a short write, a failure of offload's own) counts as `EIO`, as
/// lib/errors.js counts one too.
pub fn os_errno(e: &io::Error) -> i32 {
    e.raw_os_error().unwrap_or(libc::EIO)
}

/// Node's `errno` for `e`: the OS's number negated; `None` when the OS gave none
/// (then the error's message is all there is to say).
pub fn node_errno(e: &io::Error) -> Option<i32> {
    e.raw_os_error().map(|n| -n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_os_error_keeps_its_number_and_node_sees_it_negated() {
        let e = io::Error::from_raw_os_error(libc::ENOENT);
        assert_eq!(os_errno(&e), libc::ENOENT);
        assert_eq!(node_errno(&e), Some(-libc::ENOENT));
    }

    #[test]
    fn an_error_without_a_number_is_eio_for_the_os_and_none_for_node() {
        let e = io::Error::other("short write");
        assert_eq!(os_errno(&e), libc::EIO);
        assert_eq!(node_errno(&e), None);
    }

    #[test]
    fn the_last_os_error_is_read_as_the_os_gave_it() {
        // SAFETY: closing a descriptor that is never open fails with EBADF.
        assert_eq!(unsafe { libc::close(-1) }, -1);
        let e = io::Error::last_os_error();
        assert_eq!(
            (os_errno(&e), node_errno(&e)),
            (libc::EBADF, Some(-libc::EBADF))
        );
    }
}
