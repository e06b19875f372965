//! offload: take heavy work off the Node.js event loop.
//!
//! The engines are plain Rust and know nothing about JavaScript; `js` is the
//! only module that touches napi.

#![deny(clippy::all)]

pub mod image;
pub mod pool;
pub mod process;
pub mod runtime;

#[cfg(not(test))]
mod js;
