//! napi bindings: JavaScript values in, engine types out, and engine events back
//! to JavaScript. Nothing here does the work itself.
//!
//! Every number both sides must agree on (spawn slots and flags, the limits'
//! layout and the absent marker, descriptor entries, output and event kinds,
//! the IPC descriptor, spawn defaults, launch step names, the worker-ready
//! message, the pool's slots and task frames; the image slots and flags, and the
//! image options' names, defaults and ranges, which src/image/options.rs
//! declares) is exported from here once with `#[napi] const` (in a `#[napi] mod`
//! for a named table); lib/ reads them from the binding and
//! __test__/contracts.test.mjs fails if it writes one down itself.

mod channel;
mod image;
mod payload;
mod pool;
mod spawn;
mod spawn_sync;
mod watch;
