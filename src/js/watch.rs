//! Pool answers read on the JavaScript thread's own event loop.
//!
//! A `serve()` worker's answer would otherwise wake a runtime thread, which
//! reads it and wakes the JS thread through the threadsafe function: two
//! wake-ups in a row, most of a round trip on an idle machine. Instead each
//! task channel is also watched by a libuv poll handle on the JS thread's loop
//! (uv_poll, the way libuv watches any descriptor): the JS thread wakes once,
//! reads and settles the answers, and calls JavaScript directly. The runtime
//! still reads whatever the JS thread leaves unread for a couple of
//! milliseconds (see `pool::channel::run`), so a busy JS thread does not keep
//! workers waiting for their next task.
//!
//! libuv is Node's; its functions are the ones Node exports to addons.

use std::ffi::{c_int, c_void};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::ptr;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use napi::bindgen_prelude::ToNapiValue;
use napi::sys;

use super::channel::PoolJsSink;
use super::payload::encode_pool_batch;
use crate::pool::ChannelWatch;

const UV_POLL: c_int = 8;
const UV_READABLE: c_int = 1;

type PollCallback = unsafe extern "C" fn(handle: *mut c_void, status: c_int, events: c_int);
type CloseCallback = unsafe extern "C" fn(handle: *mut c_void);

extern "C" {
    fn uv_handle_size(kind: c_int) -> usize;
    fn uv_poll_init(event_loop: *mut sys::uv_loop_s, handle: *mut c_void, fd: c_int) -> c_int;
    fn uv_poll_start(handle: *mut c_void, events: c_int, callback: PollCallback) -> c_int;
    fn uv_poll_stop(handle: *mut c_void) -> c_int;
    fn uv_close(handle: *mut c_void, callback: CloseCallback);
    fn uv_unref(handle: *mut c_void);
}

/// Where a pool's events go on the JS thread: the event channel's callback.
pub(crate) struct Delivery {
    pub env: sys::napi_env,
    pub callback: sys::napi_ref,
    pub context: sys::napi_async_context,
    pub pool: u32,
    pub sink: Arc<PoolJsSink>,
}

impl Delivery {
    /// Calls JavaScript with everything waiting in the pool's outbox.
    ///
    /// # Safety
    /// On the JS thread of `env`, outside any other call into JavaScript.
    unsafe fn deliver(&self) {
        loop {
            let events = std::mem::take(&mut *self.sink.outbox.0.lock().unwrap());
            if events.is_empty() {
                return;
            }
            let mut scope = ptr::null_mut();
            if sys::napi_open_handle_scope(self.env, &mut scope) != sys::Status::napi_ok {
                return;
            }
            let (kind, a, b) = encode_pool_batch(events);
            let _ = self.call(kind, a, b);
            sys::napi_close_handle_scope(self.env, scope);
        }
    }

    unsafe fn call(
        &self,
        kind: u32,
        a: super::payload::Payload,
        b: super::payload::Payload,
    ) -> napi::Result<()> {
        let env = self.env;
        let args = [
            u32::to_napi_value(env, self.pool)?,
            u32::to_napi_value(env, kind)?,
            super::payload::Payload::to_napi_value(env, a)?,
            super::payload::Payload::to_napi_value(env, b)?,
        ];
        let mut func = ptr::null_mut();
        sys::napi_get_reference_value(env, self.callback, &mut func);
        // make_callback wants an object as `this`.
        let mut recv = ptr::null_mut();
        sys::napi_get_global(env, &mut recv);
        let mut result = ptr::null_mut();
        // make_callback runs the microtasks after (promise reactions), as any
        // libuv callback into JavaScript must.
        let status = sys::napi_make_callback(
            env,
            self.context,
            recv,
            func,
            args.len(),
            args.as_ptr(),
            &mut result,
        );
        if status == sys::Status::napi_pending_exception {
            // An exception thrown by a handler of ours: Node's uncaught
            // exception path, as for any event callback.
            let mut error = ptr::null_mut();
            sys::napi_get_and_clear_last_exception(env, &mut error);
            sys::napi_fatal_exception(env, error);
        }
        Ok(())
    }
}

struct Watch {
    channel: ChannelWatch,
    delivery: Arc<Delivery>,
    /// Our own copy of the socket, so the poll handle's descriptor stays the
    /// same file until the handle is closed, whatever the pool does with its own.
    _fd: OwnedFd,
}

/// Starts watching `channel` on the loop of `delivery.env`.
///
/// # Safety
/// On the JS thread of `delivery.env`.
pub(crate) unsafe fn watch(channel: ChannelWatch, delivery: Arc<Delivery>) {
    let mut event_loop = ptr::null_mut();
    if sys::napi_get_uv_event_loop(delivery.env, &mut event_loop) != sys::Status::napi_ok {
        return; // the runtime reads this channel
    }
    let dup = libc::fcntl(channel.fd(), libc::F_DUPFD_CLOEXEC, 3);
    if dup < 0 {
        return;
    }
    let fd = OwnedFd::from_raw_fd(dup);
    let raw = fd.as_raw_fd();
    let handle = libc::calloc(1, uv_handle_size(UV_POLL));
    if handle.is_null() {
        return;
    }
    if uv_poll_init(event_loop, handle, raw) != 0 {
        libc::free(handle);
        return;
    }
    let state = Box::new(Watch {
        channel,
        delivery,
        _fd: fd,
    });
    // `data` is the first field of every libuv handle.
    *(handle as *mut *mut c_void) = Box::into_raw(state) as *mut c_void;
    // An idle pool must not keep Node alive: pending tasks hold it, elsewhere.
    uv_unref(handle);
    if uv_poll_start(handle, UV_READABLE, on_readable) != 0 {
        uv_close(handle, on_closed);
    }
}

unsafe extern "C" fn on_readable(handle: *mut c_void, _status: c_int, _events: c_int) {
    let watch = &*(*(handle as *mut *mut Watch));
    let sink = &watch.delivery.sink;
    // Settling happens under this flag: its events are delivered below, not
    // through the threadsafe function.
    sink.on_js_thread.store(true, Ordering::Release);
    let open = watch.channel.on_readable();
    sink.on_js_thread.store(false, Ordering::Release);
    watch.delivery.deliver();
    if !open {
        uv_poll_stop(handle);
        uv_close(handle, on_closed);
    }
}

unsafe extern "C" fn on_closed(handle: *mut c_void) {
    let state = *(handle as *mut *mut Watch);
    if !state.is_null() {
        drop(Box::from_raw(state));
    }
    libc::free(handle);
}
