//! # lws-loop-libuv: lws on a libuv loop
//!
//! One `uv_poll_t` per descriptor, one `uv_timer_t` re-armed to the
//! scheduler's next deadline, and a `uv_idle_t` while forced service is
//! pending. Handles close asynchronously in libuv, so teardown completes in
//! the last close callback, which reports it. Serving, teardown and the
//! owned run are the shared callback-loop glue ([`lws_cglue`]); this crate
//! holds libuv's watcher operations only.
//!
//! - **owned**: [`UvLoop`] creates and runs a private `uv_loop_t`.
//! - **foreign**: [`UvAttached::attach`] adds handles to a host's loop: a
//!   [`UvHostLoop`] (`host()`), or a C host's `uv_loop_t *` given with
//!   [`host_from_raw`]. The host keeps running `uv_run`; the library
//!   never runs, stops or closes that loop. When the context has stopped
//!   and every handle it added is closed, `on_stopped` receives the
//!   context back and the loop holds nothing of the library's.
//!
//! `unsafe` lives in the `ffi` module only.

mod ffi;

pub use ffi::{HostLoop, UvHostLoop, UvLoopBox, UvWatchers, Vouch, host_from_raw};

/// The library attached to a host's libuv loop (foreign mode).
pub type UvAttached = lws_cglue::Attached<UvWatchers>;

/// A libuv loop owned and run by the library.
pub type UvLoop = lws_cglue::OwnedLoop<UvWatchers>;
