//! # lws-loop-libevent: lws on a libevent `event_base`
//!
//! One persistent `event` per descriptor (re-assigned when its interest
//! changes), one timer event re-armed to the scheduler's next deadline,
//! and an event activated while forced service is pending. Events are
//! released with `event_free_finalize`, so teardown (which may start inside
//! one of their callbacks) completes in the last finalizer, which reports
//! it. Serving, teardown and the owned run are the shared callback-loop
//! glue ([`lws_cglue`]); this crate holds libevent's watcher operations.
//!
//! - **owned**: [`EvLoop`] creates and runs a private `event_base`.
//! - **foreign**: [`EvAttached::attach`] adds events to a host's base: an
//!   [`EvHostBase`] (`host()`), or a C host's `event_base *` given with
//!   [`HostBase::from_raw`]. The host keeps dispatching it; the library
//!   never dispatches, breaks or frees that base. When the context has
//!   stopped and every event it added is finalized, `on_stopped` receives
//!   the context back.
//!
//! `unsafe` lives in the `ffi` module only.

mod ffi;

use lws_core::{Context, Error, RunLoop};

pub use ffi::{EvHostBase, EvWatchers, HostBase};

/// The library attached to a host's `event_base` (foreign mode).
pub type EvAttached = lws_cglue::Attached<EvWatchers>;

/// A libevent base owned and run by the library.
#[derive(Debug)]
pub struct EvLoop {
    base: EvHostBase,
}

impl EvLoop {
    pub fn new() -> Result<Self, Error> {
        Ok(EvLoop {
            base: EvHostBase::create()?,
        })
    }
}

impl RunLoop for EvLoop {
    fn name(&self) -> &'static str {
        "libevent"
    }

    fn run(&mut self, ctx: &mut Context) -> Result<(), Error> {
        let base = &self.base;
        let w = <EvWatchers as lws_cglue::Watchers>::new(base.host());
        lws_cglue::run_owned(w, ctx, || {
            base.run_once();
            Ok(())
        })
    }
}
