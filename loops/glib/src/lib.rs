//! # lws-loop-glib: lws in a GLib `MainContext`
//!
//! One `GSource` per descriptor (`g_unix_fd_source_new`) and one timeout
//! source for the scheduler's next deadline, all attached to the
//! `MainContext` the library is given, never to the global default.
//!
//! - **owned**: [`GlibLoop`] creates a private `MainContext` and iterates it
//!   until the context stops.
//! - **foreign**: [`GlibAttached::attach`] adds the context's sources to the
//!   host's `MainContext` (a GTK application's, say). The host keeps running
//!   its `MainLoop`; the library never runs, quits or iterates it. When the
//!   context has stopped, every source the library added is destroyed and
//!   the `on_stopped` callback receives the context back.
//!
//! The host must iterate that `MainContext` on the thread that created the
//! lws context (sources hold it through `glib::ThreadGuard`, which panics
//! on any other thread rather than race). No unsafe code: glib and
//! glib-unix wrap the C calls.
#![forbid(unsafe_code)]

mod watchers;

use std::cell::RefCell;
use std::rc::{Rc, Weak};

use glib::MainContext;
use lws_core::{Context, Error, EventLib, RunLoop};

/// The glib crate this adapter is built against (hosts use the same one).
pub use glib;
pub use watchers::Watchers;
use watchers::{Fired, Sink};

/// A GLib main context owned and iterated by the library.
#[derive(Debug, Default)]
pub struct GlibLoop {
    _private: (),
}

impl GlibLoop {
    pub fn new() -> Self {
        GlibLoop { _private: () }
    }
}

impl RunLoop for GlibLoop {
    fn name(&self) -> &'static str {
        "glib"
    }

    fn run(&mut self, ctx: &mut Context) -> Result<(), Error> {
        let main = MainContext::new();
        let _owner = main.acquire().map_err(|e| Error::Loop {
            lib: "glib",
            source: std::io::Error::other(e.to_string()),
        })?;
        // Sources queue what fired; this loop hands it to the context.
        let queue: Rc<RefCell<Vec<Fired>>> = Rc::default();
        let q = Rc::downgrade(&queue);
        let sink: Sink = Rc::new(move |f| {
            if let Some(q) = q.upgrade() {
                q.borrow_mut().push(f);
            }
        });
        let mut w = Watchers::new(main.clone(), sink);
        ctx.set_edge_triggered(false);
        w.sync(ctx);
        while !ctx.is_stopped() {
            main.iteration(true);
            let fired = std::mem::take(&mut *queue.borrow_mut());
            for f in fired {
                watchers::deliver(ctx, f);
            }
            w.after_dispatch(ctx);
        }
        w.sync(ctx);
        w.clear();
        Ok(())
    }
}

struct Shared {
    ctx: Option<Context>,
    watchers: Option<Watchers>,
    on_stopped: Option<Box<dyn FnOnce(Context)>>,
}

/// The library attached to a host's `MainContext` (foreign mode).
pub struct GlibAttached {
    shared: Rc<RefCell<Shared>>,
}

impl std::fmt::Debug for GlibAttached {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GlibAttached")
            .field("sources", &self.sources())
            .finish()
    }
}

impl GlibAttached {
    /// Attach `ctx` to the host's `main` context. `on_stopped` runs (from a
    /// source callback, once the library's sources are gone) when the
    /// context has stopped, with the context handed back.
    pub fn attach(
        mut ctx: Context,
        main: &MainContext,
        on_stopped: impl FnOnce(Context) + 'static,
    ) -> GlibAttached {
        let shared = Rc::new(RefCell::new(Shared {
            ctx: None,
            watchers: None,
            on_stopped: Some(Box::new(on_stopped)),
        }));
        let weak = Rc::downgrade(&shared);
        let sink: Sink = Rc::new(move |f| serve(&weak, f));
        let mut w = Watchers::new(main.clone(), sink);
        ctx.set_edge_triggered(false);
        w.sync(&mut ctx);
        {
            let mut s = shared.borrow_mut();
            s.ctx = Some(ctx);
            s.watchers = Some(w);
        }
        GlibAttached { shared }
    }

    /// Sources the library currently has attached to the host's context.
    pub fn sources(&self) -> usize {
        self.shared
            .try_borrow()
            .map(|s| s.watchers.as_ref().map_or(0, Watchers::len))
            .unwrap_or(0)
    }

    /// Run `f` with the context (from the host, between dispatches); what
    /// it changes is applied to the watchers at once.
    pub fn with_context<R>(&self, f: impl FnOnce(&mut Context) -> R) -> Option<R> {
        let r = {
            let mut s = self.shared.borrow_mut();
            let Shared { ctx, watchers, .. } = &mut *s;
            let (ctx, w) = (ctx.as_mut()?, watchers.as_mut()?);
            let r = f(ctx);
            w.after_dispatch(ctx);
            r
        };
        finish_if_stopped(&self.shared);
        Some(r)
    }

    /// Remove every source now and take the context back, stopped or not.
    pub fn detach(self) -> Option<Context> {
        let mut s = self.shared.borrow_mut();
        if let Some(mut w) = s.watchers.take() {
            w.clear();
        }
        s.on_stopped = None;
        s.ctx.take()
    }
}

/// A source fired in foreign mode: serve it, then finish if stopped.
fn serve(weak: &Weak<RefCell<Shared>>, f: Fired) {
    let Some(shared) = weak.upgrade() else { return };
    {
        let Ok(mut s) = shared.try_borrow_mut() else {
            return;
        };
        let Shared { ctx, watchers, .. } = &mut *s;
        if let (Some(ctx), Some(w)) = (ctx.as_mut(), watchers.as_mut()) {
            watchers::deliver(ctx, f);
            w.after_dispatch(ctx);
        }
    }
    finish_if_stopped(&shared);
}

/// Once stopped: destroy our sources, hand the context to `on_stopped`.
fn finish_if_stopped(shared: &Rc<RefCell<Shared>>) {
    let (ctx, cb) = {
        let Ok(mut s) = shared.try_borrow_mut() else {
            return;
        };
        if !s.ctx.as_ref().is_some_and(Context::is_stopped) {
            return;
        }
        if let Some(mut w) = s.watchers.take() {
            w.clear();
        }
        (s.ctx.take(), s.on_stopped.take())
    };
    if let (Some(ctx), Some(cb)) = (ctx, cb) {
        cb(ctx);
    }
}
