//! # lws-loop-sdevent: lws on a systemd sd-event loop
//!
//! One edge-triggered `sd_event_source` io source per descriptor (disabled
//! while the core wants nothing, which also removes the fd from sd-event's
//! epoll set; edge-triggered because sd-event calls `epoll_wait` before
//! every single dispatch, and level-triggered readiness would re-report
//! every ready descriptor each time), one
//! monotonic timer source re-armed to the scheduler's next deadline, and a
//! defer source switched on while the core wants forced service. sd-event
//! tolerates unreferencing a source from inside its own callback, so
//! teardown completes in the callback in which the context stopped.
//!
//! - **owned**: [`SdLoop`] creates and runs a private `sd_event`.
//! - **foreign**: [`SdAttached::attach`] adds sources to the host's loop
//!   ([`HostEvent::from_raw`]); the host keeps calling `sd_event_run` or
//!   `sd_event_loop`. The library never runs, exits or unreferences the
//!   host's loop; once the context has stopped every source it added is
//!   released and `on_stopped` gets the context back.
//!
//! `unsafe` lives in `ffi.rs` only.

mod ffi;
mod state;

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use lws_core::{Context, Error, EventLib, RunLoop};

pub use ffi::{HostEvent, OwnedEvent as SdHostEvent};
use state::{Shared, Sink};

/// How many further sources the owned loop dispatches (without blocking)
/// after the one `sd_event_run` returned for, before syncing the core.
const BATCH: usize = 64;

fn loop_err(e: std::io::Error) -> Error {
    Error::Loop {
        lib: "sd-event",
        source: e,
    }
}

fn new_shared(e: HostEvent, sink: Sink) -> Rc<RefCell<Shared>> {
    Rc::new(RefCell::new(Shared {
        e: e.raw(),
        sink,
        ios: HashMap::new(),
        timer: None,
        defer: None,
        detached: false,
        on_stopped: None,
    }))
}

impl SdHostEvent {
    /// A new sd-event loop (for a Rust host that wants to own one).
    pub fn create() -> Result<Self, Error> {
        ffi::OwnedEvent::new().map_err(loop_err)
    }
}

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

fn sync(ctx: &mut Context, shared: &Rc<RefCell<Shared>>) {
    let ptr = Rc::as_ptr(shared);
    let mut g = shared.borrow_mut();
    let s = &mut *g;
    let mut w = ffi::Watchers {
        e: ffi::rewrap(s.e),
        ptr,
        ios: &mut s.ios,
        timer: s.timer.as_ref().map(|t| t.src),
    };
    w.sync(ctx);
    ffi::set_defer(s, ctx.wants_forced_service());
}

impl RunLoop for SdLoop {
    fn name(&self) -> &'static str {
        "sd-event"
    }

    fn run(&mut self, ctx: &mut Context) -> Result<(), Error> {
        let shared = new_shared(self.host.host(), Sink::Queue(Vec::new()));
        ffi::init(self.host.host(), &shared).map_err(loop_err)?;
        ctx.set_edge_triggered(true);
        sync(ctx, &shared);
        while !ctx.is_stopped() {
            // sd_event_run dispatches one source per call: block for the
            // first, then take whatever else is already pending.
            if self.host.run_once(true)? {
                for _ in 0..BATCH {
                    if !self.host.run_once(false)? {
                        break;
                    }
                }
            }
            let fired = shared.borrow_mut().sink.take_queued();
            for ev in fired {
                ctx.handle_event(ev);
            }
            sync(ctx, &shared);
        }
        ffi::drop_all(&mut shared.borrow_mut());
        Ok(())
    }
}

/// The library attached to a host's sd-event loop (foreign mode).
pub struct SdAttached {
    shared: Rc<RefCell<Shared>>,
}

impl std::fmt::Debug for SdAttached {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SdAttached")
            .field("detached", &self.is_detached())
            .finish()
    }
}

impl SdAttached {
    /// Add `ctx`'s sources to the host loop; `on_stopped` gets the context
    /// back once it has stopped and the sources are gone.
    pub fn attach(
        ctx: Context,
        host: HostEvent,
        on_stopped: impl FnOnce(Context) + 'static,
    ) -> Result<Self, Error> {
        let shared = new_shared(host, Sink::Direct(None));
        ffi::init(host, &shared).map_err(loop_err)?;
        {
            let mut s = shared.borrow_mut();
            s.on_stopped = Some(Box::new(on_stopped));
            let mut ctx = ctx;
            ctx.set_edge_triggered(true);
            s.sink = Sink::Direct(Some(Box::new(ctx)));
            let _ = ffi::after_dispatch(&mut s, Rc::as_ptr(&shared));
        }
        Ok(SdAttached { shared })
    }

    /// Whether teardown completed.
    pub fn is_detached(&self) -> bool {
        self.shared.try_borrow().is_ok_and(|s| s.detached)
    }
}

impl Drop for SdAttached {
    fn drop(&mut self) {
        // Abandoned while attached: remove every source from the host loop.
        if let Ok(mut s) = self.shared.try_borrow_mut()
            && !s.detached
        {
            ffi::drop_all(&mut s);
        }
    }
}
