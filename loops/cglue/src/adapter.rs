//! The adapter state behind every C callback, and what a callback does:
//! queue the event, serve the queue when the state is free, count close
//! completions, report teardown. No C calls here (they are the
//! [`Watchers`]'), and no blocking.

use std::cell::{Cell, RefCell, RefMut};
use std::collections::{HashMap, VecDeque};
use std::io;
use std::os::fd::RawFd;
use std::rc::Rc;
use std::time::Instant;

use lws_core::{Context, EventLib, Interest, LoopEvent, Token};

use crate::{Kept, Source, Watchers};

/// What a C handle's callback data points to: one strong count of the
/// adapter per handle, released when the handle is freed.
pub type Link<W> = Rc<Adapter<W>>;

pub(crate) type OnStopped = Box<dyn FnOnce(Context)>;

/// The state one attachment (or one owned run) shares with its callbacks.
pub struct Adapter<W: Watchers> {
    state: RefCell<State<W>>,
    /// Events not served yet: served by whoever holds `state` next.
    inbox: RefCell<VecDeque<LoopEvent>>,
    /// Releases started whose completion has not been reported.
    closing: Cell<usize>,
    /// Teardown started: every source was released.
    released: Cell<bool>,
    /// Teardown complete (and reported to `on_stopped`).
    detached: Cell<bool>,
    /// Owned run: the runner serves the inbox with its own context.
    owned: bool,
}

pub(crate) struct State<W: Watchers> {
    lp: Kept<W::Owner>,
    timer: Option<W::Source>,
    forced: Option<W::Source>,
    ios: HashMap<RawFd, W::Source>,
    /// Foreign mode: the context, until teardown hands it back.
    pub(crate) ctx: Option<Box<Context>>,
    pub(crate) on_stopped: Option<OnStopped>,
}

impl<W: Watchers> std::fmt::Debug for Adapter<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct(W::NAME)
            .field("closing", &self.closing.get())
            .field("detached", &self.detached.get())
            .finish()
    }
}

impl<W: Watchers> Adapter<W> {
    /// A new adapter with its timer and forced-service sources.
    pub(crate) fn new(lp: Kept<W::Owner>, owned: bool) -> io::Result<Link<W>> {
        let link = Rc::new(Adapter {
            state: RefCell::new(State {
                lp,
                timer: None,
                forced: None,
                ios: HashMap::new(),
                ctx: None,
                on_stopped: None,
            }),
            inbox: RefCell::default(),
            closing: Cell::new(0),
            released: Cell::new(false),
            detached: Cell::new(false),
            owned,
        });
        let made = link.state.borrow_mut().init(&link);
        if let Err(e) = made {
            link.teardown_now();
            return Err(e);
        }
        Ok(link)
    }

    /// A C callback observed `ev`: serve it now, or queue it for whoever
    /// holds the state. Returns `true` when it was queued for an owned
    /// run (the loop may then return early to have it served).
    pub fn serve(self: &Rc<Self>, ev: LoopEvent) -> bool {
        self.inbox.borrow_mut().push_back(ev);
        self.pump();
        self.owned
    }

    /// A release counted by [`Adapter::close_started`] completed.
    pub fn closed(self: &Rc<Self>) {
        self.closing.set(self.closing.get().saturating_sub(1));
        self.pump();
    }

    /// A release started that completes later, in a C callback that will
    /// call [`Adapter::closed`].
    pub fn close_started(&self) {
        self.closing.set(self.closing.get() + 1);
    }

    /// Whether teardown completed.
    pub fn is_detached(&self) -> bool {
        self.detached.get()
    }

    /// Events waiting to be served (diagnostics for re-entrancy tests).
    pub fn queued(&self) -> usize {
        self.inbox.borrow().len()
    }

    /// Releases not completed yet (diagnostics for re-entrancy tests).
    pub fn closing(&self) -> usize {
        self.closing.get()
    }

    /// Serve the queue if the state is free (else its holder will), then
    /// report a completed teardown.
    pub(crate) fn pump(self: &Rc<Self>) {
        while let Ok(mut st) = self.state.try_borrow_mut() {
            if self.owned {
                break;
            }
            let Some(ev) = self.inbox.borrow_mut().pop_front() else {
                break;
            };
            if let Some(ctx) = st.ctx.as_mut() {
                ctx.handle_event(ev);
                self.after_dispatch(&mut st);
            }
        }
        self.report();
    }

    /// Run `f` on the context (foreign mode) and apply what it changed.
    pub(crate) fn dispatch<R>(self: &Rc<Self>, f: impl FnOnce(&mut Context) -> R) -> Option<R> {
        let r = {
            let mut st = self.state.try_borrow_mut().ok()?;
            let r = f(st.ctx.as_mut()?);
            self.after_dispatch(&mut st);
            r
        };
        self.pump();
        Some(r)
    }

    /// Foreign mode: apply the context's commands; tear down once it stopped.
    fn after_dispatch(self: &Rc<Self>, st: &mut RefMut<'_, State<W>>) {
        let mut ctx = st.ctx.take();
        if let Some(c) = ctx.as_mut() {
            st.apply(self, c);
            if c.is_stopped() && !self.released.get() {
                self.teardown(st);
            }
        }
        st.ctx = ctx;
    }

    /// Owned mode: apply `ctx`'s commands.
    pub(crate) fn sync_owned(self: &Rc<Self>, ctx: &mut Context) {
        self.state.borrow_mut().apply(self, ctx);
    }

    /// The next event an owned run should serve.
    pub(crate) fn next_owned(&self) -> Option<LoopEvent> {
        self.inbox.borrow_mut().pop_front()
    }

    /// Release every source; completion is reported by [`Adapter::report`].
    fn teardown(self: &Rc<Self>, st: &mut State<W>) {
        self.released.set(true);
        let fixed = [st.timer.take(), st.forced.take()];
        let all: Vec<W::Source> = st.ios.drain().map(|(_, s)| s).collect();
        for s in all.into_iter().chain(fixed.into_iter().flatten()) {
            W::release(&st.lp, self, s);
        }
    }

    /// Start teardown from outside any callback (owned runs, failed init).
    pub(crate) fn teardown_now(self: &Rc<Self>) {
        if let Ok(mut st) = self.state.try_borrow_mut()
            && !self.released.get()
        {
            self.teardown(&mut st);
        }
        self.report();
    }

    /// Once every release completed: mark detached and hand the context
    /// to `on_stopped` (outside any borrow, so it may do anything).
    fn report(self: &Rc<Self>) {
        if !self.released.get() || self.closing.get() > 0 || self.detached.get() {
            return;
        }
        let Ok(mut st) = self.state.try_borrow_mut() else {
            return; // the holder reports when it lets go
        };
        self.detached.set(true);
        let back = st.on_stopped.take().zip(st.ctx.take());
        drop(st);
        if let Some((cb, ctx)) = back {
            cb(*ctx);
        }
    }

    pub(crate) fn state(&self) -> Option<RefMut<'_, State<W>>> {
        self.state.try_borrow_mut().ok()
    }
}

impl<W: Watchers> State<W> {
    /// Make the timer and forced-service sources.
    fn init(&mut self, link: &Link<W>) -> io::Result<()> {
        self.timer = Some(W::add(&self.lp, link, Source::Timer)?);
        self.forced = Some(W::add(&self.lp, link, Source::Forced)?);
        Ok(())
    }

    /// Apply `ctx`'s commands; switch forced service as it wants.
    fn apply(&mut self, link: &Link<W>, ctx: &mut Context) {
        Sync { st: self, link }.sync(ctx);
        let on = ctx.wants_forced_service() && !ctx.is_stopped();
        if let Some(f) = self.forced.as_mut() {
            W::force(&self.lp, f, on);
        }
    }
}

/// The core's commands applied to the watchers.
struct Sync<'a, W: Watchers> {
    st: &'a mut State<W>,
    link: &'a Link<W>,
}

impl<W: Watchers> EventLib for Sync<'_, W> {
    fn name(&self) -> &'static str {
        W::NAME
    }

    fn edge_triggered(&self) -> bool {
        W::EDGE_TRIGGERED
    }

    fn watch(&mut self, fd: RawFd, token: Token, interest: Interest) -> io::Result<()> {
        let what = Source::Io {
            fd,
            token,
            interest,
        };
        let s = W::add(&self.st.lp, self.link, what)?;
        if let Some(stale) = self.st.ios.insert(fd, s) {
            W::release(&self.st.lp, self.link, stale);
        }
        self.modify(fd, token, interest)
    }

    fn modify(&mut self, fd: RawFd, _token: Token, interest: Interest) -> io::Result<()> {
        match self.st.ios.get_mut(&fd) {
            Some(s) => W::watch(&self.st.lp, s, fd, interest),
            None => Err(io::Error::other("modify of an unwatched fd")),
        }
    }

    fn unwatch(&mut self, fd: RawFd, _token: Token) -> io::Result<()> {
        if let Some(s) = self.st.ios.remove(&fd) {
            W::release(&self.st.lp, self.link, s);
        }
        Ok(())
    }

    fn set_timer(&mut self, deadline: Option<Instant>) {
        if let Some(t) = self.st.timer.as_mut() {
            W::arm(&self.st.lp, t, deadline);
        }
    }
}
