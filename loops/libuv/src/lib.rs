//! # lws-loop-libuv: lws on a libuv loop
//!
//! One `uv_poll_t` per descriptor, one `uv_timer_t` re-armed to the
//! scheduler's next deadline, and a `uv_idle_t` while forced service is
//! pending. Handles close asynchronously in libuv, so teardown is a state
//! machine: it starts when the context has stopped and completes in the
//! last close callback, which reports it.
//!
//! - **owned**: [`UvLoop`] creates and runs a private `uv_loop_t`.
//! - **foreign**: [`UvAttached::attach`] adds handles to the host's loop
//!   (see [`HostLoop::from_raw`]); the host keeps running `uv_run`. The
//!   library never runs, stops or closes that loop; when the context has
//!   stopped and every handle it added is closed, `on_stopped` receives the
//!   context back and the loop holds nothing of the library's.
//!
//! `unsafe` lives in `ffi.rs` only.

mod ffi;
mod state;

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use lws_core::{Context, Error, EventLib, RunLoop};

pub use ffi::{HostLoop, OwnedLoop as UvHostLoop, handle_count};
use state::{Shared, Sink};

fn loop_err(e: std::io::Error) -> Error {
    Error::Loop {
        lib: "libuv",
        source: e,
    }
}

fn new_shared(lp: HostLoop, sink: Sink) -> Rc<RefCell<Shared>> {
    Rc::new(RefCell::new(Shared {
        lp: lp.as_ptr(),
        sink,
        polls: HashMap::new(),
        timer: std::ptr::null_mut(),
        idle: std::ptr::null_mut(),
        idle_on: false,
        closing: 0,
        detached: false,
        on_stopped: None,
    }))
}

/// Apply the context's commands to the handles (owned mode).
fn sync(ctx: &mut Context, shared: &Rc<RefCell<Shared>>) {
    let ptr = Rc::as_ptr(shared);
    let mut g = shared.borrow_mut();
    let s = &mut *g;
    let mut w = ffi::Watchers {
        lp: ffi::rewrap(s.lp),
        ptr,
        polls: &mut s.polls,
        timer: s.timer,
        closing: &mut s.closing,
    };
    w.sync(ctx);
    ffi::set_idle(s, ctx.wants_forced_service());
}

/// A libuv loop owned and run by the library.
pub struct UvLoop {
    owned: ffi::OwnedLoop,
}

impl std::fmt::Debug for UvLoop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("UvLoop")
    }
}

impl UvLoop {
    pub fn new() -> Result<Self, Error> {
        Ok(UvLoop {
            owned: UvHostLoop::create()?,
        })
    }
}

impl UvHostLoop {
    /// A new libuv loop (for a Rust host that wants to own one).
    pub fn create() -> Result<Self, Error> {
        ffi::OwnedLoop::new().map_err(loop_err)
    }
}

impl RunLoop for UvLoop {
    fn name(&self) -> &'static str {
        "libuv"
    }

    fn run(&mut self, ctx: &mut Context) -> Result<(), Error> {
        let host = self.owned.host();
        let shared = new_shared(host, Sink::Queue(Vec::new()));
        ffi::init_handles(host, &shared).map_err(loop_err)?;
        ctx.set_edge_triggered(false);
        sync(ctx, &shared);
        while !ctx.is_stopped() {
            self.owned.run_once();
            let fired = shared.borrow_mut().sink.take_queued();
            for f in fired {
                ctx.handle_event(f);
            }
            sync(ctx, &shared);
        }
        ffi::close_all(&mut shared.borrow_mut());
        self.owned.run_to_end();
        Ok(())
    }
}

/// The library attached to a host's libuv loop (foreign mode).
pub struct UvAttached {
    shared: Rc<RefCell<Shared>>,
}

impl std::fmt::Debug for UvAttached {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UvAttached")
            .field("detached", &self.is_detached())
            .finish()
    }
}

impl UvAttached {
    /// Add `ctx`'s handles to the host loop. `on_stopped` runs, from a
    /// libuv callback, once the context has stopped and every handle the
    /// library added is closed.
    pub fn attach(
        ctx: Context,
        host: HostLoop,
        on_stopped: impl FnOnce(Context) + 'static,
    ) -> Result<Self, Error> {
        let shared = new_shared(host, Sink::Direct(None));
        ffi::init_handles(host, &shared).map_err(loop_err)?;
        {
            let mut s = shared.borrow_mut();
            s.on_stopped = Some(Box::new(on_stopped));
            let mut ctx = ctx;
            ctx.set_edge_triggered(false);
            s.sink = Sink::Direct(Some(Box::new(ctx)));
            ffi::after_dispatch(&mut s, Rc::as_ptr(&shared));
        }
        Ok(UvAttached { shared })
    }

    /// Run `f` with the context between loop callbacks (host side); what
    /// it changes is applied to the handles at once.
    pub fn with_context<R>(&self, f: impl FnOnce(&mut Context) -> R) -> Option<R> {
        let mut s = self.shared.try_borrow_mut().ok()?;
        let r = match &mut s.sink {
            Sink::Direct(Some(ctx)) => f(ctx),
            _ => return None,
        };
        ffi::after_dispatch(&mut s, Rc::as_ptr(&self.shared));
        Some(r)
    }

    /// Whether teardown completed (every handle closed, context handed back).
    pub fn is_detached(&self) -> bool {
        self.shared.try_borrow().is_ok_and(|s| s.detached)
    }
}
