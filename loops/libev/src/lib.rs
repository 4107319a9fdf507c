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
//!   [`HostLoop::from_raw`]. The host keeps running `ev_run`; the library
//!   never runs, breaks or destroys it. When the context has stopped,
//!   every watcher it added is stopped and freed and `on_stopped` gets the
//!   context back.
//!
//! `unsafe` lives in the `ffi` module only.

mod ffi;

use lws_core::{Context, Error, RunLoop};

pub use ffi::{EvHostLoop, EvWatchers, HostLoop};

/// The library attached to a host's libev loop (foreign mode).
pub type EvAttached = lws_cglue::Attached<EvWatchers>;

/// A libev loop owned and run by the library.
#[derive(Debug)]
pub struct EvLoop {
    host: EvHostLoop,
}

impl EvLoop {
    pub fn new() -> Result<Self, Error> {
        Ok(EvLoop {
            host: EvHostLoop::create()?,
        })
    }
}

impl RunLoop for EvLoop {
    fn name(&self) -> &'static str {
        "libev"
    }

    fn run(&mut self, ctx: &mut Context) -> Result<(), Error> {
        let host = &self.host;
        let w = <EvWatchers as lws_cglue::Watchers>::new(host.host());
        lws_cglue::run_owned(w, ctx, || {
            host.run_once();
            Ok(())
        })
    }
}
