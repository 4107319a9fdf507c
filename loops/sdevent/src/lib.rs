//! # lws-loop-sdevent: lws on a systemd sd-event loop
//!
//! One edge-triggered `sd_event_source` io source per descriptor (disabled
//! while the core wants nothing, which also removes the fd from sd-event's
//! epoll set; edge-triggered because sd-event calls `epoll_wait` before
//! every single dispatch, and level-triggered readiness would re-report
//! every ready descriptor each time), one monotonic timer source re-armed
//! to the scheduler's next deadline, and a defer source switched on while
//! the core wants forced service. sd-event tolerates unreferencing a source
//! from inside its own callback, so teardown completes in the callback in
//! which the context stopped. Serving, teardown and the owned run are the
//! shared callback-loop glue ([`lws_cglue`]); this crate holds sd-event's
//! watcher operations.
//!
//! - **owned**: [`SdLoop`] creates and runs a private `sd_event`.
//! - **foreign**: [`SdAttached::attach`] adds sources to a host's loop: an
//!   [`SdHostEvent`] (`host()`), or a C host's `sd_event *` given with
//!   [`HostEvent::from_raw`]. The host keeps calling `sd_event_run` or
//!   `sd_event_loop`; the library never runs, exits or unreferences it.
//!   Once the context has stopped every source it added is released and
//!   `on_stopped` gets the context back.
//!
//! `unsafe` lives in the `ffi` module only.

mod ffi;

use lws_core::{Context, Error, RunLoop};

pub use ffi::{HostEvent, SdHostEvent, SdWatchers};

/// The library attached to a host's sd-event loop (foreign mode).
pub type SdAttached = lws_cglue::Attached<SdWatchers>;

/// How many further sources the owned loop dispatches (without blocking)
/// after the one `sd_event_run` returned for, before syncing the core.
const BATCH: usize = 64;

/// An sd-event loop owned and run by the library.
#[derive(Debug)]
pub struct SdLoop {
    host: SdHostEvent,
}

impl SdLoop {
    pub fn new() -> Result<Self, Error> {
        Ok(SdLoop {
            host: SdHostEvent::create()?,
        })
    }
}

impl RunLoop for SdLoop {
    fn name(&self) -> &'static str {
        "sd-event"
    }

    fn run(&mut self, ctx: &mut Context) -> Result<(), Error> {
        let host = &self.host;
        let w = <SdWatchers as lws_cglue::Watchers>::new(host.host());
        // sd_event_run dispatches one source per call: block for the first,
        // then take whatever else is already pending.
        lws_cglue::run_owned(w, ctx, || {
            if host.run_once(true)? {
                for _ in 0..BATCH {
                    if !host.run_once(false)? {
                        break;
                    }
                }
            }
            Ok(())
        })
    }
}
