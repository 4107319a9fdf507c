//! # lws-loop-uloop: lws on OpenWrt's uloop (libubox)
//!
//! uloop is process-global: one epoll set, one timeout list, one thread.
//! The adapter adds one `uloop_fd` per descriptor (level-triggered, with
//! `ULOOP_ERROR_CB` so uloop never deletes a descriptor behind the core's
//! back), one `uloop_timeout` re-armed to the scheduler's next deadline
//! (millisecond resolution, rounded up) and a zero-delay timeout while the
//! core wants forced service. Callbacks serve the context at once, and
//! teardown completes in the callback in which the context stopped.
//!
//! - **owned**: [`UloopLoop`] runs `uloop_init`, iterates with
//!   `uloop_run_timeout` until the context stops, then `uloop_done`. It
//!   keeps the process's SIGINT/SIGTERM/SIGCHLD handlers (uloop would
//!   replace them). Only one owned loop can run per process; a second
//!   gets [`Error::Loop`] at once.
//! - **foreign**: the host calls `uloop_init` and `uloop_run` itself;
//!   [`UloopAttached::attach`] adds the context's watchers. The library
//!   never runs, ends or tears down uloop; when the context has stopped
//!   every fd and timeout it added is removed and `on_stopped` gets the
//!   context back. Attach on the thread that runs uloop.
//!
//! `unsafe` lives in `ffi.rs` only.

mod ffi;
mod state;

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};

use lws_core::{Context, Error, RunLoop};

pub use ffi::{HostTimer, host};
use state::{Shared, Sink};

/// Whether an owned loop is running in this process.
static OWNED: AtomicBool = AtomicBool::new(false);

/// Longest single wait of the owned loop; it re-checks for teardown after
/// each iteration anyway.
const OWNED_WAIT_MS: i32 = 1000;

fn new_shared(sink: Sink, on_stopped: Option<Box<dyn FnOnce(Context)>>) -> Rc<RefCell<Shared>> {
    let shared = Rc::new(RefCell::new(Shared {
        sink,
        ios: HashMap::new(),
        timer: std::ptr::null_mut(),
        defer: std::ptr::null_mut(),
        detached: false,
        on_stopped,
    }));
    ffi::init(&mut shared.borrow_mut(), Rc::as_ptr(&shared));
    shared
}

/// uloop owned and run by the library.
#[derive(Debug, Default)]
pub struct UloopLoop;

impl UloopLoop {
    pub fn new() -> Self {
        UloopLoop
    }
}

/// Releases the process-wide owned flag.
struct OwnedGuard;

impl Drop for OwnedGuard {
    fn drop(&mut self) {
        ffi::owned_done();
        OWNED.store(false, Ordering::Release);
    }
}

impl RunLoop for UloopLoop {
    fn name(&self) -> &'static str {
        "uloop"
    }

    fn run(&mut self, ctx: &mut Context) -> Result<(), Error> {
        if OWNED.swap(true, Ordering::AcqRel) {
            return Err(Error::Loop {
                lib: "uloop",
                source: std::io::Error::new(
                    std::io::ErrorKind::ResourceBusy,
                    "uloop is process-global and an owned uloop is already running",
                ),
            });
        }
        if let Err(e) = ffi::owned_init() {
            OWNED.store(false, Ordering::Release);
            return Err(Error::Loop {
                lib: "uloop",
                source: e,
            });
        }
        let _guard = OwnedGuard;
        let shared = new_shared(Sink::Queue(Vec::new()), None);
        let ptr = Rc::as_ptr(&shared);
        ctx.set_edge_triggered(false);
        ffi::sync(&mut shared.borrow_mut(), ctx, ptr);
        while !ctx.is_stopped() {
            ffi::run_once(OWNED_WAIT_MS);
            let fired = shared.borrow_mut().sink.take_queued();
            for ev in fired {
                ctx.handle_event(ev);
            }
            ffi::sync(&mut shared.borrow_mut(), ctx, ptr);
        }
        ffi::drop_all(&mut shared.borrow_mut());
        Ok(())
    }
}

/// The library attached to the process's uloop (foreign mode).
pub struct UloopAttached {
    shared: Rc<RefCell<Shared>>,
}

impl std::fmt::Debug for UloopAttached {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UloopAttached")
            .field("detached", &self.is_detached())
            .finish()
    }
}

impl UloopAttached {
    /// Add `ctx`'s watchers to the process's uloop (initialised by the
    /// host); `on_stopped` gets the context back once it has stopped and
    /// the watchers are gone.
    pub fn attach(ctx: Context, on_stopped: impl FnOnce(Context) + 'static) -> Self {
        let shared = new_shared(Sink::Direct(None), Some(Box::new(on_stopped)));
        let ptr = Rc::as_ptr(&shared);
        let done = {
            let mut s = shared.borrow_mut();
            let mut ctx = ctx;
            ctx.set_edge_triggered(false);
            s.sink = Sink::Direct(Some(Box::new(ctx)));
            ffi::after_dispatch(&mut s, ptr).map(|c| (s.on_stopped.take(), c))
        };
        if let Some((Some(cb), c)) = done {
            cb(c);
        }
        UloopAttached { shared }
    }

    /// Whether teardown completed.
    pub fn is_detached(&self) -> bool {
        self.shared.try_borrow().is_ok_and(|s| s.detached)
    }
}

impl Drop for UloopAttached {
    fn drop(&mut self) {
        // Abandoned while attached: remove every watcher from uloop.
        if let Ok(mut s) = self.shared.try_borrow_mut()
            && !s.detached
        {
            ffi::drop_all(&mut s);
        }
    }
}
