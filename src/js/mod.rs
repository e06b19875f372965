//! napi bindings: JavaScript values in, engine types out, and engine events back
//! to JavaScript. Nothing here does the work itself.

mod channel;
mod image;
mod payload;
mod pool;
mod spawn;
mod spawn_sync;
mod watch;
