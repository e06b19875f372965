//! Feeding a child's stdin pipe.

use std::io;
use std::os::fd::OwnedFd;
use std::sync::Arc;

use tokio::sync::mpsc::UnboundedReceiver;
use tokio::sync::watch;

use super::events::EventSink;
use super::handle::WriteControl;
use super::writer::WriteQueue;

/// Writes what the caller sends until it ends stdin or the child exits; then
/// closes the pipe so the descriptor never outlives the child.
pub(crate) async fn run(
    fd: OwnedFd,
    mut control: UnboundedReceiver<WriteControl>,
    sink: Arc<dyn EventSink>,
    mut exited: watch::Receiver<bool>,
    data: Option<Vec<u8>>,
) {
    let Ok(fd) = super::fds::register(fd) else {
        return;
    };
    let mut queue = WriteQueue::new(sink);
    let mut ending = false;
    if let Some(data) = data {
        queue.push(None, data);
        ending = true;
    }
    loop {
        if ending && queue.is_empty() {
            break;
        }
        tokio::select! {
            ctl = control.recv(), if !ending => match ctl {
                Some(WriteControl::Write { id, data }) => queue.push(Some(id), data),
                Some(WriteControl::End) | None => ending = true,
            },
            result = queue.write_front(&fd), if !queue.is_empty() => {
                if result.is_err() {
                    break;
                }
            }
            _ = exited.wait_for(|e| *e), if queue.is_empty() => break,
        }
    }
    // Writes that arrive after this point find the channel closed, and the
    // caller reports them as EPIPE.
    control.close();
    while let Ok(ctl) = control.try_recv() {
        if let WriteControl::Write { id, data } = ctl {
            queue.push(Some(id), data);
        }
    }
    queue.fail_all(&io::Error::from_raw_os_error(libc::EPIPE));
}
