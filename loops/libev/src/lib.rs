//! # lws-loop-libev: lws on a libev loop
//!
//! libev has no Rust bindings and its API is mostly macros, so a small C
//! shim (`shim/lws_ev.c`, built with `cc`) allocates the watchers: one
//! `ev_io` per descriptor, one `ev_timer` re-armed to the next deadline and
//! an `ev_idle` while forced service is pending. libev tears down
//! synchronously, so teardown completes inside the callback in which the
//! context stopped. Serving, teardown and the owned run are the shared
//! callback-loop glue ([`lws_cglue`]); this crate holds libev's watcher
//! operations.
//!
//! - **owned**: [`EvLoop`] creates and runs a private loop.
//! - **foreign**: [`EvAttached::attach`] adds watchers to a host's loop: an
//!   [`EvHostLoop`] (`host()`), or a C host's loop given with
//!   [`host_from_raw`]. The host keeps running `ev_run`; the library
//!   never runs, breaks or destroys it. When the context has stopped,
//!   every watcher it added is stopped and freed and `on_stopped` gets the
//!   context back.
//!
//! `unsafe` lives in the `ffi` module only.

mod ffi;

pub use ffi::{EvHostLoop, EvLoopBox, EvWatchers, HostLoop, Vouch, host_from_raw};

/// The library attached to a host's libev loop (foreign mode).
pub type EvAttached = lws_cglue::Attached<EvWatchers>;

/// A libev loop owned and run by the library.
pub type EvLoop = lws_cglue::OwnedLoop<EvWatchers>;
