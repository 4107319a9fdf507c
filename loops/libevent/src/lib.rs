//! # lws-loop-libevent: lws on a libevent `event_base`
//!
//! One persistent `event` per descriptor (re-assigned when its interest
//! changes), one timer event re-armed to the scheduler's next deadline,
//! and an event activated while forced service is pending. Events are
//! released with `event_free_finalize`, so teardown (which may start inside
//! one of their callbacks) completes in the last finalizer, which reports it.
//!
//! - **owned**: [`EvLoop`] creates and runs a private `event_base`.
//! - **foreign**: [`EvAttached::attach`] adds events to the host's base
//!   ([`HostBase::from_raw`]); the host keeps dispatching it. The library
//!   never dispatches, breaks or frees that base; when the context has
//!   stopped and every event it added is finalized, `on_stopped` receives
//!   the context back.
//!
//! `unsafe` lives in `ffi.rs` only.

mod ffi;
mod state;

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use lws_core::{Context, Error, EventLib, RunLoop};

pub use ffi::{HostBase, OwnedBase as EvHostBase};
use state::{Shared, Sink};

fn loop_err(e: std::io::Error) -> Error {
    Error::Loop {
        lib: "libevent",
        source: e,
    }
}

fn new_shared(base: HostBase, sink: Sink) -> Rc<RefCell<Shared>> {
    Rc::new(RefCell::new(Shared {
        base: base.as_ptr(),
        sink,
        events: HashMap::new(),
        timer: std::ptr::null_mut(),
        forced: std::ptr::null_mut(),
        finalizing: 0,
        released: false,
        detached: false,
        on_stopped: None,
    }))
}

impl EvHostBase {
    /// A new `event_base` (for a Rust host that wants to own one).
    pub fn create() -> Result<Self, Error> {
        ffi::OwnedBase::new().map_err(loop_err)
    }
}

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

fn sync(ctx: &mut Context, shared: &Rc<RefCell<Shared>>) {
    let ptr = Rc::as_ptr(shared);
    let mut g = shared.borrow_mut();
    let s = &mut *g;
    let base = ffi::rewrap(s.base);
    let mut w = ffi::Watchers {
        base,
        ptr,
        events: &mut s.events,
        timer: s.timer,
        finalizing: &mut s.finalizing,
    };
    w.sync(ctx);
    ffi::set_forced(s, ctx.wants_forced_service());
}

impl RunLoop for EvLoop {
    fn name(&self) -> &'static str {
        "libevent"
    }

    fn run(&mut self, ctx: &mut Context) -> Result<(), Error> {
        let shared = new_shared(self.base.host(), Sink::Queue(Vec::new()));
        ffi::init(self.base.host(), &shared).map_err(loop_err)?;
        ctx.set_edge_triggered(false);
        sync(ctx, &shared);
        while !ctx.is_stopped() {
            self.base.run_once();
            let fired = shared.borrow_mut().sink.take_queued();
            for ev in fired {
                ctx.handle_event(ev);
            }
            sync(ctx, &shared);
        }
        ffi::release_all(&mut shared.borrow_mut());
        while shared.borrow().finalizing > 0 {
            self.base.run_nonblock();
        }
        Ok(())
    }
}

/// The library attached to a host's `event_base` (foreign mode).
pub struct EvAttached {
    shared: Rc<RefCell<Shared>>,
}

impl std::fmt::Debug for EvAttached {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EvAttached")
            .field("detached", &self.is_detached())
            .finish()
    }
}

impl EvAttached {
    /// Add `ctx`'s events to the host's base. `on_stopped` runs, from a
    /// libevent callback, once the context has stopped and every event the
    /// library added is finalized.
    pub fn attach(
        ctx: Context,
        host: HostBase,
        on_stopped: impl FnOnce(Context) + 'static,
    ) -> Result<Self, Error> {
        let shared = new_shared(host, Sink::Direct(None));
        ffi::init(host, &shared).map_err(loop_err)?;
        {
            let mut s = shared.borrow_mut();
            s.on_stopped = Some(Box::new(on_stopped));
            let mut ctx = ctx;
            ctx.set_edge_triggered(false);
            s.sink = Sink::Direct(Some(Box::new(ctx)));
            ffi::after_dispatch(&mut s, Rc::as_ptr(&shared));
        }
        Ok(EvAttached { shared })
    }

    /// Run `f` with the context from the host, between callbacks.
    pub fn with_context<R>(&self, f: impl FnOnce(&mut Context) -> R) -> Option<R> {
        let mut s = self.shared.try_borrow_mut().ok()?;
        let r = match &mut s.sink {
            Sink::Direct(Some(ctx)) => f(ctx),
            _ => return None,
        };
        ffi::after_dispatch(&mut s, Rc::as_ptr(&self.shared));
        Some(r)
    }

    /// Whether teardown completed.
    pub fn is_detached(&self) -> bool {
        self.shared.try_borrow().is_ok_and(|s| s.detached)
    }
}
