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
//! glib-unix wrap the C calls, and every GLib object the adapter keeps (the
//! `MainContext`, its `Source`s) is reference-counted, so no handle can
//! outlive what it points to.
//!
//! **Re-entrancy.** A host may iterate its `MainContext` from inside the
//! library (a handler that runs a modal dialog's nested loop, or a
//! `with_context` closure that flushes pending events). The context is
//! busy then: what the library's sources observe meanwhile is kept and
//! served as soon as the busy call returns, never dropped, and a source
//! whose observation is kept leaves the host context until then, so the
//! nested loop does not spin on it. Calls into the attachment from inside
//! its own callbacks do not panic: [`GlibAttached::with_context`] returns
//! `None`, [`GlibAttached::detach`] completes when the callback returns.
#![forbid(unsafe_code)]

mod watchers;

use std::cell::{Cell, RefCell};
use std::rc::{Rc, Weak};

use glib::MainContext;
use lws_core::{Context, Error, EventLib, LoopEvent, RunLoop};

/// The glib crate this adapter is built against (hosts use the same one).
pub use glib;
pub use watchers::Watchers;
use watchers::{Sink, Taken};

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
        // The context is never busy when this private context dispatches
        // (nothing else can iterate it), so everything is taken now.
        let queue: Rc<RefCell<Vec<LoopEvent>>> = Rc::default();
        let q = Rc::downgrade(&queue);
        let sink: Sink = Rc::new(move |ev| {
            if let Some(q) = q.upgrade() {
                q.borrow_mut().push(ev);
            }
            Taken::Now
        });
        let mut w = Watchers::new(main.clone(), sink);
        ctx.set_edge_triggered(false);
        w.sync(ctx);
        while !ctx.is_stopped() {
            main.iteration(true);
            let fired = std::mem::take(&mut *queue.borrow_mut());
            for ev in fired {
                ctx.handle_event(ev);
            }
            w.after_dispatch(ctx);
        }
        w.sync(ctx);
        w.clear();
        Ok(())
    }
}

/// The attachment's state, shared (weakly) with its sources.
struct Attached {
    state: RefCell<Shared>,
    /// What sources observed while `state` was busy (a callback or
    /// `with_context` closure re-entered the host's main context). Borrowed
    /// only to push or take, never across a call out.
    later: RefCell<Vec<LoopEvent>>,
    /// `detach` was called while `state` was busy: finish it when free.
    detach: Cell<bool>,
}

/// Fields drop in order: sources first, then the context.
struct Shared {
    watchers: Option<Watchers>,
    ctx: Option<Context>,
    on_stopped: Option<Box<dyn FnOnce(Context)>>,
}

impl Attached {
    fn is_busy(&self) -> bool {
        self.state.try_borrow_mut().is_err()
    }

    /// Run `f` on the context unless it is busy or gone, apply what it
    /// changed, serve what was kept meanwhile, then settle.
    fn enter<R>(&self, f: impl FnOnce(&mut Context) -> R) -> Option<R> {
        let r = {
            let mut s = self.state.try_borrow_mut().ok()?;
            let Shared { ctx, watchers, .. } = &mut *s;
            let (ctx, w) = (ctx.as_mut()?, watchers.as_mut()?);
            let r = f(ctx);
            w.after_dispatch(ctx);
            // In rounds: serving may re-enter the host's context again.
            loop {
                let later = std::mem::take(&mut *self.later.borrow_mut());
                if later.is_empty() {
                    break;
                }
                for ev in later {
                    ctx.handle_event(ev);
                    w.after_dispatch(ctx);
                }
                w.revive();
            }
            r
        };
        self.settle();
        Some(r)
    }

    /// Once stopped (or detached from inside a callback): destroy our
    /// sources; hand a stopped context to `on_stopped`, drop a detached one.
    fn settle(&self) {
        let (ctx, cb) = {
            let Ok(mut s) = self.state.try_borrow_mut() else {
                return;
            };
            let detach = self.detach.get();
            if !detach && !s.ctx.as_ref().is_some_and(Context::is_stopped) {
                return;
            }
            s.watchers = None;
            let cb = s.on_stopped.take();
            (s.ctx.take(), cb.filter(|_| !detach))
        };
        if let (Some(ctx), Some(cb)) = (ctx, cb) {
            cb(ctx);
        }
    }
}

/// The library attached to a host's `MainContext` (foreign mode).
pub struct GlibAttached {
    shared: Rc<Attached>,
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
    /// context has stopped, with the context handed back. Dropping the
    /// attachment removes its sources and drops the context.
    pub fn attach(
        mut ctx: Context,
        main: &MainContext,
        on_stopped: impl FnOnce(Context) + 'static,
    ) -> GlibAttached {
        let shared = Rc::new(Attached {
            state: RefCell::new(Shared {
                watchers: None,
                ctx: None,
                on_stopped: Some(Box::new(on_stopped)),
            }),
            later: RefCell::default(),
            detach: Cell::new(false),
        });
        let weak = Rc::downgrade(&shared);
        let sink: Sink = Rc::new(move |ev| serve(&weak, ev));
        let mut w = Watchers::new(main.clone(), sink);
        ctx.set_edge_triggered(false);
        w.sync(&mut ctx);
        {
            let mut s = shared.state.borrow_mut();
            s.ctx = Some(ctx);
            s.watchers = Some(w);
        }
        GlibAttached { shared }
    }

    /// Sources the library currently has attached to the host's context
    /// (0 once stopped or detached, and while the context is busy in one of
    /// its callbacks).
    pub fn sources(&self) -> usize {
        self.shared
            .state
            .try_borrow()
            .map(|s| s.watchers.as_ref().map_or(0, Watchers::len))
            .unwrap_or(0)
    }

    /// Run `f` with the context (from the host, between dispatches); what
    /// it changes is applied to the watchers at once. `None` once the
    /// context has stopped or been detached, and when called from inside
    /// one of the context's own callbacks (it is busy there).
    pub fn with_context<R>(&self, f: impl FnOnce(&mut Context) -> R) -> Option<R> {
        self.shared.enter(f)
    }

    /// Remove every source now and take the context back, stopped or not.
    /// Called from inside one of the context's own callbacks, where the
    /// context is busy, it returns `None`: the sources are removed and the
    /// context is dropped (closing its connections) when that callback
    /// returns; `on_stopped` does not run.
    pub fn detach(self) -> Option<Context> {
        let Ok(mut s) = self.shared.state.try_borrow_mut() else {
            self.shared.detach.set(true);
            return None;
        };
        s.watchers = None;
        s.on_stopped = None;
        s.ctx.take()
    }
}

/// A source fired in foreign mode: serve it now, or keep it for later if
/// the context is busy (the host re-entered its main context from inside
/// one of our callbacks or `with_context`).
fn serve(weak: &Weak<Attached>, ev: LoopEvent) -> Taken {
    let Some(a) = weak.upgrade() else {
        return Taken::Now;
    };
    if a.is_busy() {
        a.later.borrow_mut().push(ev);
        return Taken::Later;
    }
    a.enter(|ctx| ctx.handle_event(ev));
    Taken::Now
}
