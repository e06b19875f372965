//! The event channel: one threadsafe function per JavaScript environment that
//! carries every child's and every pool's events to the JS thread. It starts unreferenced; the JS
//! layer references it while a child that should keep Node alive is running.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use napi::bindgen_prelude::{Env, FnArgs, Function, JsValue};
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi::{sys, Status};
use napi_derive::napi;

use super::payload::{encode, encode_pool_batch, Payload};
use crate::pool::{PoolEvent, PoolSink};
use crate::process::{ChildEvent, EventSink};

/// An event of a child, or a pool's waiting events, for the object registered under its id.
pub(crate) enum Event {
    Child(ChildEvent),
    Pool(Arc<Outbox>),
}

/// A pool's events waiting for the JS thread: one call of the channel takes
/// all of them (see `encode_pool_batch`).
#[derive(Default)]
pub(crate) struct Outbox(pub Mutex<Vec<PoolEvent>>);

type EventArgs = FnArgs<(u32, u32, Payload, Payload)>;
pub(crate) type EventFn = ThreadsafeFunction<(u32, Event), (), EventArgs, Status, false, true>;

/// Sends one child's events, tagged with its id, through the channel.
pub(crate) struct JsSink {
    pub id: u32,
    pub tsfn: Arc<EventFn>,
}

impl EventSink for JsSink {
    fn emit(&self, event: ChildEvent) {
        self.tsfn.call(
            (self.id, Event::Child(event)),
            ThreadsafeFunctionCallMode::NonBlocking,
        );
    }
}

/// Sends one pool's events, batched, through the channel.
pub(crate) struct PoolJsSink {
    pub id: u32,
    pub tsfn: Arc<EventFn>,
    pub outbox: Arc<Outbox>,
    /// The JS thread is settling answers it read itself and delivers the
    /// outbox right after (see `watch.rs`).
    pub on_js_thread: AtomicBool,
}

impl PoolSink for PoolJsSink {
    fn emit(&self, event: PoolEvent) {
        let first = {
            let mut waiting = self.outbox.0.lock().unwrap();
            waiting.push(event);
            waiting.len() == 1
        };
        // Later events join the call already on its way; it takes them all.
        if first && !self.on_js_thread.load(Ordering::Acquire) {
            self.tsfn.call(
                (self.id, Event::Pool(self.outbox.clone())),
                ThreadsafeFunctionCallMode::NonBlocking,
            );
        }
    }
}

#[napi]
pub struct EventChannel {
    pub(crate) tsfn: Arc<EventFn>,
    referenced: bool,
    /// For calls made straight from the JS thread (see `watch.rs`): the
    /// environment, the callback, and an async context for `make_callback`.
    pub(crate) env: sys::napi_env,
    pub(crate) callback: sys::napi_ref,
    pub(crate) context: sys::napi_async_context,
}

#[napi]
impl EventChannel {
    /// `callback(childId, type, a, b)` receives every event.
    #[napi(
        constructor,
        ts_args_type = "callback: (id: number, type: number, a: any, b: any) => void"
    )]
    pub fn new(env: Env, callback: Function<'_, EventArgs, ()>) -> napi::Result<EventChannel> {
        let raw = env.raw();
        let mut callback_ref = std::ptr::null_mut();
        let mut context = std::ptr::null_mut();
        // SAFETY: a live function of this environment; both live as long as
        // the channel, which lives as long as the environment.
        unsafe {
            napi::check_status!(sys::napi_create_reference(
                raw,
                callback.raw(),
                1,
                &mut callback_ref
            ))?;
            let mut name = std::ptr::null_mut();
            napi::check_status!(sys::napi_create_string_utf8(
                raw,
                c"offload:pool".as_ptr(),
                12,
                &mut name
            ))?;
            napi::check_status!(sys::napi_async_init(
                raw,
                std::ptr::null_mut(),
                name,
                &mut context
            ))?;
        }
        let tsfn = callback
            .build_threadsafe_function::<(u32, Event)>()
            .callee_handled::<false>()
            .weak::<true>()
            .build_callback(|ctx| {
                let (id, event) = ctx.value;
                let (kind, a, b) = match event {
                    Event::Child(event) => encode(event),
                    Event::Pool(outbox) => {
                        encode_pool_batch(std::mem::take(&mut *outbox.0.lock().unwrap()))
                    }
                };
                Ok(FnArgs::from((id, kind, a, b)))
            })?;
        Ok(EventChannel {
            tsfn: Arc::new(tsfn),
            referenced: false,
            env: raw,
            callback: callback_ref,
            context,
        })
    }

    /// Keeps the event loop alive while events are expected.
    #[napi(js_name = "ref")]
    pub fn reference(&mut self, env: Env) -> napi::Result<()> {
        if !self.referenced {
            // SAFETY: a live threadsafe function of this environment.
            napi::check_status!(unsafe {
                sys::napi_ref_threadsafe_function(env.raw(), self.tsfn.raw())
            })?;
            self.referenced = true;
        }
        Ok(())
    }

    /// Lets the event loop exit even though events may still come.
    #[napi]
    pub fn unref(&mut self, env: Env) -> napi::Result<()> {
        if self.referenced {
            // SAFETY: a live threadsafe function of this environment.
            napi::check_status!(unsafe {
                sys::napi_unref_threadsafe_function(env.raw(), self.tsfn.raw())
            })?;
            self.referenced = false;
        }
        Ok(())
    }
}
