//! Everything that touches libevent: events, callbacks, finalizers. The
//! only file of this crate with `unsafe`.
//!
//! Ownership rules, relied on by every block below:
//! - Each `Slot` (one libevent `event` plus what its callback needs) is a
//!   `Box` leaked when created and reclaimed in its finalizer
//!   (`event_free_finalize`), which libevent runs once no callback of that
//!   event can still be running; so a slot may be released from inside its
//!   own callback.
//! - Each slot holds one strong count of the shared state, released in the
//!   finalizer, so the state outlives every event that can call into it.
//! - All of it runs on the base's thread: the `HostBase` contract.

use std::cell::RefCell;
use std::collections::HashMap;
use std::ffi::{c_int, c_short, c_void};
use std::io;
use std::os::fd::RawFd;
use std::rc::Rc;
use std::time::Instant;

use libevent_sys as ev;
use lws_core::{EventLib, Interest, LoopEvent, Readiness, Token};

use crate::state::{Shared, Sink};

type SharedPtr = *const RefCell<Shared>;

/// Rewrap a base pointer validated as a `HostBase` at attach time.
pub(crate) fn rewrap(base: *mut ev::event_base) -> HostBase {
    HostBase(base)
}

/// A libevent `event_base` the library may add events to.
#[derive(Debug, Clone, Copy)]
pub struct HostBase(*mut ev::event_base);

impl HostBase {
    /// Wrap a host's base.
    ///
    /// # Safety
    /// `base` must be a valid `event_base` that stays valid, and is only
    /// dispatched on the current thread, until the attachment made with it
    /// has reported its teardown complete.
    pub unsafe fn from_raw(base: *mut ev::event_base) -> Self {
        HostBase(base)
    }

    pub fn as_ptr(self) -> *mut ev::event_base {
        self.0
    }
}

/// One event and what its callback needs.
pub(crate) struct Slot {
    ev: *mut ev::event,
    token: u64,
    shared: SharedPtr,
}

#[derive(Clone, Copy)]
enum Kind {
    Io(RawFd),
    Timer,
    Forced,
}

fn flags(i: Interest) -> c_short {
    let mut f = ev::EV_PERSIST as c_short;
    if i.readable {
        f |= ev::EV_READ as c_short;
    }
    if i.writable {
        f |= ev::EV_WRITE as c_short;
    }
    f
}

/// Create a slot for `kind` (not yet added).
fn new_slot(
    base: HostBase,
    shared: SharedPtr,
    kind: Kind,
    token: u64,
    fl: c_short,
) -> io::Result<*mut Slot> {
    // SAFETY: `shared` is live (we run inside it or hold it); the slot box
    // is leaked here and reclaimed in `finalized`; `base` is valid
    // (HostBase contract); a descriptor stays open until its Unwatch.
    unsafe {
        Rc::increment_strong_count(shared);
        let slot = Box::into_raw(Box::new(Slot {
            ev: std::ptr::null_mut(),
            token,
            shared,
        }));
        let (fd, cb): (c_int, ev::event_callback_fn) = match kind {
            Kind::Io(fd) => (fd, Some(io_cb)),
            Kind::Timer => (-1, Some(timer_cb)),
            Kind::Forced => (-1, Some(forced_cb)),
        };
        let e = ev::event_new(base.0, fd, fl, cb, slot as *mut c_void);
        if e.is_null() {
            drop(Box::from_raw(slot));
            Rc::decrement_strong_count(shared);
            return Err(io::Error::other("event_new failed"));
        }
        (*slot).ev = e;
        Ok(slot)
    }
}

/// Create the timer and forced-service events of a new attachment.
pub(crate) fn init(base: HostBase, shared: &Rc<RefCell<Shared>>) -> io::Result<()> {
    let ptr = Rc::as_ptr(shared);
    let timer = new_slot(base, ptr, Kind::Timer, 0, 0)?;
    let forced = new_slot(base, ptr, Kind::Forced, 0, 0)?;
    let mut s = shared.borrow_mut();
    s.timer = timer;
    s.forced = forced;
    Ok(())
}

/// Release a slot: libevent runs `finalized` once it is safe.
fn release(slot: *mut Slot, finalizing: &mut usize) {
    if slot.is_null() {
        return;
    }
    *finalizing += 1;
    // SAFETY: `slot` is live and released exactly once (callers remove it
    // from the state first); event_free_finalize is safe from callbacks.
    unsafe { ev::event_free_finalize(0, (*slot).ev, Some(finalized)) };
}

/// The watcher operations over the events in the shared state.
pub(crate) struct Watchers<'a> {
    pub base: HostBase,
    pub ptr: SharedPtr,
    pub events: &'a mut HashMap<RawFd, *mut Slot>,
    pub timer: *mut Slot,
    pub finalizing: &'a mut usize,
}

fn arm(slot: *mut Slot, base: HostBase, fd: RawFd, i: Interest) -> io::Result<()> {
    // SAFETY: `slot` is live (in the state); its event is re-assigned only
    // after `event_del`, as libevent requires.
    unsafe {
        let e = (*slot).ev;
        ev::event_del(e);
        if i == Interest::NONE {
            return Ok(());
        }
        if ev::event_assign(e, base.0, fd, flags(i), Some(io_cb), slot as *mut c_void) != 0
            || ev::event_add(e, std::ptr::null()) != 0
        {
            return Err(io::Error::other("event_add failed"));
        }
    }
    Ok(())
}

impl EventLib for Watchers<'_> {
    fn name(&self) -> &'static str {
        "libevent"
    }

    fn watch(&mut self, fd: RawFd, token: Token, interest: Interest) -> io::Result<()> {
        let slot = new_slot(
            self.base,
            self.ptr,
            Kind::Io(fd),
            token.into_raw(),
            flags(interest),
        )?;
        self.events.insert(fd, slot);
        arm(slot, self.base, fd, interest)
    }

    fn modify(&mut self, fd: RawFd, _token: Token, interest: Interest) -> io::Result<()> {
        match self.events.get(&fd) {
            Some(&slot) => arm(slot, self.base, fd, interest),
            None => Err(io::Error::other("modify of an unwatched fd")),
        }
    }

    fn unwatch(&mut self, fd: RawFd, _token: Token) -> io::Result<()> {
        if let Some(slot) = self.events.remove(&fd) {
            // SAFETY: live slot; event_del takes the fd out of the backend
            // now, before the core closes it.
            unsafe { ev::event_del((*slot).ev) };
            release(slot, self.finalizing);
        }
        Ok(())
    }

    fn set_timer(&mut self, deadline: Option<Instant>) {
        if self.timer.is_null() {
            return;
        }
        // SAFETY: the timer slot lives until teardown releases it, and
        // teardown clears `timer` first.
        unsafe {
            let e = (*self.timer).ev;
            ev::event_del(e);
            if let Some(at) = deadline {
                let d = at.saturating_duration_since(Instant::now());
                let us = d.subsec_micros() as i64 + i64::from(d.subsec_nanos() % 1000 != 0);
                let tv = ev::timeval {
                    tv_sec: d.as_secs() as _,
                    tv_usec: us as _,
                };
                ev::event_add(e, &tv);
            }
        }
    }
}

/// Arm (or not) the forced-service event for the next loop iteration.
pub(crate) fn set_forced(s: &Shared, on: bool) {
    if on && !s.forced.is_null() {
        // SAFETY: the forced slot lives until teardown clears it.
        unsafe { ev::event_active((*s.forced).ev, ev::EV_TIMEOUT as c_int, 0) };
    }
}

/// Teardown: release every event; the last finalizer reports completion.
pub(crate) fn release_all(s: &mut Shared) {
    s.released = true;
    let mut slots: Vec<*mut Slot> = s.events.drain().map(|(_, v)| v).collect();
    slots.push(std::mem::replace(&mut s.timer, std::ptr::null_mut()));
    slots.push(std::mem::replace(&mut s.forced, std::ptr::null_mut()));
    for slot in slots {
        release(slot, &mut s.finalizing);
    }
}

/// Foreign mode: apply commands; start teardown once the context stopped.
pub(crate) fn after_dispatch(s: &mut Shared, ptr: SharedPtr) {
    let Shared {
        sink: Sink::Direct(Some(ctx)),
        events,
        timer,
        finalizing,
        base,
        ..
    } = s
    else {
        return;
    };
    let mut w = Watchers {
        base: HostBase(*base),
        ptr,
        events,
        timer: *timer,
        finalizing,
    };
    w.sync(ctx);
    let (stopped, forced) = (ctx.is_stopped(), ctx.wants_forced_service());
    if stopped && !s.released {
        return release_all(s);
    }
    set_forced(s, forced);
}

fn serve(slot: *mut Slot, what: impl FnOnce(u64) -> LoopEvent) {
    // SAFETY: libevent passes the slot we registered; it and the state it
    // points to are live until its finalizer (which cannot run during this
    // callback).
    let (ptr, token) = unsafe { ((*slot).shared, (*slot).token) };
    let cell = unsafe { &*ptr };
    let Ok(mut guard) = cell.try_borrow_mut() else {
        return;
    };
    let s = &mut *guard;
    let event = what(token);
    match &mut s.sink {
        Sink::Queue(q) => q.push(event),
        Sink::Direct(Some(ctx)) => {
            ctx.handle_event(event);
            after_dispatch(s, ptr);
        }
        Sink::Direct(None) => {}
    }
}

unsafe extern "C" fn io_cb(_fd: c_int, what: c_short, arg: *mut c_void) {
    let r = Readiness {
        readable: what & ev::EV_READ as c_short != 0,
        writable: what & ev::EV_WRITE as c_short != 0,
        hangup: false,
        error: false,
    };
    serve(arg as *mut Slot, |t| LoopEvent::Io(Token::from_raw(t), r));
}

unsafe extern "C" fn timer_cb(_fd: c_int, _what: c_short, arg: *mut c_void) {
    serve(arg as *mut Slot, |_| LoopEvent::Timer);
}

unsafe extern "C" fn forced_cb(_fd: c_int, _what: c_short, arg: *mut c_void) {
    serve(arg as *mut Slot, |_| LoopEvent::Forced);
}

unsafe extern "C" fn finalized(_e: *mut ev::event, arg: *mut c_void) {
    // SAFETY: libevent calls this once, after which the event is freed
    // and no callback of it can run: reclaim the slot.
    let slot = unsafe { Box::from_raw(arg as *mut Slot) };
    let ptr = slot.shared;
    drop(slot);
    // SAFETY: the count this slot held keeps `ptr` live here.
    let cell = unsafe { &*ptr };
    let done = match cell.try_borrow_mut() {
        Ok(mut s) => {
            s.finalizing = s.finalizing.saturating_sub(1);
            if s.released && s.finalizing == 0 && !s.detached {
                s.detached = true;
                let ctx = match &mut s.sink {
                    Sink::Direct(c) => c.take().map(|b| *b),
                    Sink::Queue(_) => None,
                };
                s.on_stopped.take().zip(ctx)
            } else {
                None
            }
        }
        Err(_) => None,
    };
    if let Some((cb, ctx)) = done {
        cb(ctx);
    }
    // SAFETY: releases the count taken in `new_slot`.
    unsafe { Rc::decrement_strong_count(ptr) };
}

/// An `event_base` owned by the library (or by a Rust host, re-exported
/// as `EvHostBase`).
pub struct OwnedBase {
    base: *mut ev::event_base,
}

impl std::fmt::Debug for OwnedBase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("EvHostBase")
    }
}

impl OwnedBase {
    pub(crate) fn new() -> io::Result<Self> {
        // SAFETY: plain constructor; null means failure.
        let base = unsafe { ev::event_base_new() };
        if base.is_null() {
            Err(io::Error::other("event_base_new failed"))
        } else {
            Ok(OwnedBase { base })
        }
    }

    pub fn host(&self) -> HostBase {
        HostBase(self.base)
    }

    /// One blocking iteration.
    pub fn run_once(&self) {
        // SAFETY: our base, on its thread.
        unsafe { ev::event_base_loop(self.base, ev::EVLOOP_ONCE as c_int) };
    }

    /// Run without blocking until nothing is active (finalizers).
    pub fn run_nonblock(&self) {
        // SAFETY: as above.
        unsafe { ev::event_base_loop(self.base, ev::EVLOOP_NONBLOCK as c_int) };
    }

    /// Events added to this base.
    pub fn events(&self) -> usize {
        // SAFETY: read-only query on our base.
        unsafe { ev::event_base_get_num_events(self.base, ev::EVENT_BASE_COUNT_ADDED) as usize }
    }

    /// A repeating timer of the host's own, counting its ticks.
    pub fn repeating_timer(&self, ms: u64) -> Rc<std::cell::Cell<u64>> {
        unsafe extern "C" fn tick(_: c_int, _: c_short, arg: *mut c_void) {
            // SAFETY: `arg` is the Rc<Cell> leaked below for the base's life.
            let c = unsafe { &*(arg as *const std::cell::Cell<u64>) };
            c.set(c.get() + 1);
        }
        let count = Rc::new(std::cell::Cell::new(0u64));
        // SAFETY: a persistent timer on our base; the event and one Rc
        // count are leaked for the base's life (freed with it).
        unsafe {
            let arg = Rc::into_raw(count.clone()) as *mut c_void;
            let e = ev::event_new(self.base, -1, ev::EV_PERSIST as c_short, Some(tick), arg);
            let tv = ev::timeval {
                tv_sec: (ms / 1000) as _,
                tv_usec: ((ms % 1000) * 1000) as _,
            };
            ev::event_add(e, &tv);
        }
        count
    }
}

impl Drop for OwnedBase {
    fn drop(&mut self) {
        // SAFETY: run pending finalizers, then free the base; events still
        // on it (a host's own) are freed by libevent with it.
        unsafe {
            ev::event_base_loop(self.base, ev::EVLOOP_NONBLOCK as c_int);
            ev::event_base_free(self.base);
        }
    }
}
