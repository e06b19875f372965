//! The event channel: one threadsafe function per JavaScript environment that
//! carries every child's and every pool's events to the JS thread. It starts unreferenced; the JS
//! layer references it while a child that should keep Node alive is running.

use std::sync::Arc;

use napi::bindgen_prelude::{Env, FnArgs, Function};
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi::{sys, Status};
use napi_derive::napi;

use super::payload::{encode, encode_pool, Payload};
use crate::pool::{PoolEvent, PoolSink};
use crate::process::{ChildEvent, EventSink};

/// An event of a child or of a pool, for the object registered under its id.
pub(crate) enum Event {
    Child(ChildEvent),
    Pool(PoolEvent),
}

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

impl PoolSink for JsSink {
    fn emit(&self, event: PoolEvent) {
        self.tsfn.call(
            (self.id, Event::Pool(event)),
            ThreadsafeFunctionCallMode::NonBlocking,
        );
    }
}

#[napi]
pub struct EventChannel {
    pub(crate) tsfn: Arc<EventFn>,
    referenced: bool,
}

#[napi]
impl EventChannel {
    /// `callback(childId, type, a, b)` receives every event.
    #[napi(
        constructor,
        ts_args_type = "callback: (id: number, type: number, a: any, b: any) => void"
    )]
    pub fn new(callback: Function<'_, EventArgs, ()>) -> napi::Result<EventChannel> {
        let tsfn = callback
            .build_threadsafe_function::<(u32, Event)>()
            .callee_handled::<false>()
            .weak::<true>()
            .build_callback(|ctx| {
                let (id, event) = ctx.value;
                let (kind, a, b) = match event {
                    Event::Child(event) => encode(event),
                    Event::Pool(event) => encode_pool(event),
                };
                Ok(FnArgs::from((id, kind, a, b)))
            })?;
        Ok(EventChannel {
            tsfn: Arc::new(tsfn),
            referenced: false,
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
