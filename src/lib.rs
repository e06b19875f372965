//! offload: take heavy work off the Node.js event loop.
//!
//! The engines are plain Rust and know nothing about JavaScript; `js` is the
//! only module that touches napi.

#![deny(clippy::all)]

pub mod errno;
pub mod image;
pub mod pool;
pub mod process;
pub mod runtime;

// The bindings need Node's libuv symbols at link time, which only the addon gets (from
// the node process that loads it); the fuzzer links the engines alone (feature `node` off).
#[cfg(all(not(test), feature = "node"))]
mod js;
