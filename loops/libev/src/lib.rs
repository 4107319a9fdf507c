//! # lws-loop-libev: lws on a libev loop
//!
//! libev has no Rust bindings and its API is mostly macros, so a small C
//! shim (`shim/lws_ev.c`, built with `cc`) allocates the watchers: one
//! `ev_io` per descriptor, one `ev_timer` re-armed to the next deadline and
//! an `ev_idle` while forced service is pending. libev tears down
//! synchronously, so teardown completes inside the callback in which the
//! context stopped.
//!
//! - **owned**: [`EvLoop`] creates and runs a private loop.
//! - **foreign**: [`EvAttached::attach`] adds watchers to the host's loop
//!   ([`HostLoop::from_raw`]); the host keeps running `ev_run`. The library
//!   never runs, breaks or destroys it; when the context has stopped, every
//!   watcher it added is stopped and freed and `on_stopped` gets the
//!   context back.
//!
//! `unsafe` lives in `ffi.rs` only.

mod ffi;
mod state;

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use lws_core::{Context, Error, EventLib, RunLoop};

pub use ffi::{HostLoop, OwnedLoop as EvHostLoop};
use state::{Shared, Sink};

fn loop_err(e: std::io::Error) -> Error {
    Error::Loop {
        lib: "libev",
        source: e,
    }
}

fn new_shared(l: HostLoop, sink: Sink) -> Rc<RefCell<Shared>> {
    Rc::new(RefCell::new(Shared {
        l: l.raw(),
        sink,
        ios: HashMap::new(),
        timer: std::ptr::null_mut(),
        idle: std::ptr::null_mut(),
        fixed_slots: Vec::new(),
        detached: false,
        on_stopped: None,
    }))
}

impl EvHostLoop {
    /// A new libev loop (for a Rust host that wants to own one).
    pub fn create() -> Result<Self, Error> {
        ffi::OwnedLoop::new().map_err(loop_err)
    }
}

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

fn sync(ctx: &mut Context, shared: &Rc<RefCell<Shared>>) {
    let ptr = Rc::as_ptr(shared);
    let mut g = shared.borrow_mut();
    let s = &mut *g;
    let mut w = ffi::Watchers {
        l: ffi::rewrap(s.l),
        ptr,
        ios: &mut s.ios,
        timer: s.timer,
    };
    w.sync(ctx);
    ffi::set_idle(s, ctx.wants_forced_service());
}

impl RunLoop for EvLoop {
    fn name(&self) -> &'static str {
        "libev"
    }

    fn run(&mut self, ctx: &mut Context) -> Result<(), Error> {
        let shared = new_shared(self.host.host(), Sink::Queue(Vec::new()));
        ffi::init(self.host.host(), &shared).map_err(loop_err)?;
        ctx.set_edge_triggered(false);
        sync(ctx, &shared);
        while !ctx.is_stopped() {
            self.host.run_once();
            let fired = shared.borrow_mut().sink.take_queued();
            for ev in fired {
                ctx.handle_event(ev);
            }
            sync(ctx, &shared);
        }
        ffi::free_all(&mut shared.borrow_mut());
        Ok(())
    }
}

/// The library attached to a host's libev loop (foreign mode).
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
    /// Add `ctx`'s watchers to the host loop; `on_stopped` gets the context
    /// back once it has stopped and the watchers are gone.
    pub fn attach(
        ctx: Context,
        host: HostLoop,
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
            let _ = ffi::after_dispatch(&mut s, Rc::as_ptr(&shared));
        }
        Ok(EvAttached { shared })
    }

    /// Whether teardown completed.
    pub fn is_detached(&self) -> bool {
        self.shared.try_borrow().is_ok_and(|s| s.detached)
    }
}

impl Drop for EvAttached {
    fn drop(&mut self) {
        // Abandoned while attached: remove every watcher from the host loop.
        if let Ok(mut s) = self.shared.try_borrow_mut()
            && !s.detached
        {
            ffi::free_all(&mut s);
        }
    }
}
