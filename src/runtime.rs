//! The I/O runtime shared by the engines: pipes, pidfds, sockets and timers.

use std::sync::OnceLock;

use tokio::runtime::{Builder, Handle, Runtime};

static RUNTIME: OnceLock<Runtime> = OnceLock::new();

/// The runtime, started on first use. Its threads sleep in epoll when idle.
pub fn handle() -> &'static Handle {
    RUNTIME
        .get_or_init(|| {
            Builder::new_multi_thread()
                .worker_threads(2)
                .thread_name("offload-io")
                .enable_io()
                .enable_time()
                .build()
                .expect("offload: cannot start the I/O runtime")
        })
        .handle()
}
