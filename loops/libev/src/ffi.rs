//! The C shim's interface and everything that calls it. The only file of
//! this crate with `unsafe`.
//!
//! libev stops and frees watchers synchronously, and allows freeing a
//! watcher from inside its own callback (the shim's callback does not
//! touch the watcher after calling us). Each watcher's `data` is a boxed
//! `Slot` freed together with the watcher; callbacks keep the shared state
//! alive for their own duration by holding a strong count while they run.

use std::cell::RefCell;
use std::collections::HashMap;
use std::ffi::{c_double, c_int, c_void};
use std::io;
use std::os::fd::RawFd;
use std::rc::Rc;
use std::time::Instant;

use lws_core::{Context, EventLib, Interest, LoopEvent, Readiness, Token};

use crate::state::{Shared, Sink};

#[repr(C)]
pub struct EvLoopRaw {
    _private: [u8; 0],
}
#[repr(C)]
pub(crate) struct IoW {
    _private: [u8; 0],
}
#[repr(C)]
pub(crate) struct TimerW {
    _private: [u8; 0],
}
#[repr(C)]
pub(crate) struct IdleW {
    _private: [u8; 0],
}

type Cb = unsafe extern "C" fn(data: *mut c_void, revents: c_int);

unsafe extern "C" {
    fn lws_ev_read() -> c_int;
    fn lws_ev_write() -> c_int;
    fn lws_ev_error() -> c_int;
    fn lws_ev_loop_new() -> *mut EvLoopRaw;
    fn lws_ev_loop_destroy(l: *mut EvLoopRaw);
    fn lws_ev_run_once(l: *mut EvLoopRaw);
    fn lws_ev_now_update(l: *mut EvLoopRaw);
    fn lws_ev_io_new(fd: c_int, cb: Cb, data: *mut c_void) -> *mut IoW;
    fn lws_ev_io_set(l: *mut EvLoopRaw, w: *mut IoW, events: c_int);
    fn lws_ev_io_free(l: *mut EvLoopRaw, w: *mut IoW);
    fn lws_ev_timer_new(cb: Cb, data: *mut c_void) -> *mut TimerW;
    fn lws_ev_timer_set(l: *mut EvLoopRaw, w: *mut TimerW, after: c_double);
    fn lws_ev_timer_free(l: *mut EvLoopRaw, w: *mut TimerW);
    fn lws_ev_timer_repeat(
        l: *mut EvLoopRaw,
        every: c_double,
        cb: Cb,
        data: *mut c_void,
    ) -> *mut TimerW;
    fn lws_ev_idle_new(cb: Cb, data: *mut c_void) -> *mut IdleW;
    fn lws_ev_idle_set(l: *mut EvLoopRaw, w: *mut IdleW, on: c_int);
    fn lws_ev_idle_free(l: *mut EvLoopRaw, w: *mut IdleW);
    fn lws_ev_run_nowait(l: *mut EvLoopRaw) -> c_int;
}

type SharedPtr = *const RefCell<Shared>;

/// A libev loop the library may add watchers to.
#[derive(Debug, Clone, Copy)]
pub struct HostLoop(*mut EvLoopRaw);

impl HostLoop {
    /// Wrap a host's `struct ev_loop *`.
    ///
    /// # Safety
    /// `l` must be a valid libev loop that stays valid, and is only run on
    /// the current thread, until the attachment made with it is detached.
    pub unsafe fn from_raw(l: *mut c_void) -> Self {
        HostLoop(l as *mut EvLoopRaw)
    }
}

pub(crate) fn rewrap(l: *mut EvLoopRaw) -> HostLoop {
    HostLoop(l)
}

impl HostLoop {
    pub(crate) fn raw(self) -> *mut EvLoopRaw {
        self.0
    }
}

/// What a watcher's callback needs.
pub(crate) struct Slot {
    token: u64,
    kind: u8,
    shared: SharedPtr,
}

const IO: u8 = 0;
const TIMER: u8 = 1;
const IDLE: u8 = 2;

fn slot(shared: SharedPtr, kind: u8, token: u64) -> *mut c_void {
    Box::into_raw(Box::new(Slot {
        token,
        kind,
        shared,
    })) as *mut c_void
}

fn events(i: Interest) -> c_int {
    // SAFETY: constant getters.
    unsafe {
        (if i.readable { lws_ev_read() } else { 0 }) | (if i.writable { lws_ev_write() } else { 0 })
    }
}

/// A descriptor watcher and its slot.
pub(crate) struct Io {
    w: *mut IoW,
    data: *mut c_void,
}

/// Create the timer and idle watchers of a new attachment.
pub(crate) fn init(l: HostLoop, shared: &Rc<RefCell<Shared>>) -> io::Result<()> {
    let ptr = Rc::as_ptr(shared);
    let (ts, is) = (slot(ptr, TIMER, 0), slot(ptr, IDLE, 0));
    let mut s = shared.borrow_mut();
    s.fixed_slots.extend([ts, is]);
    // SAFETY: shim constructors; null means allocation failure (the slots
    // are freed at teardown either way).
    let (t, i) = unsafe {
        (
            lws_ev_timer_new(callback, ts),
            lws_ev_idle_new(callback, is),
        )
    };
    if t.is_null() || i.is_null() {
        return Err(io::Error::other("libev watcher allocation failed"));
    }
    s.timer = t;
    s.idle = i;
    let _ = l;
    Ok(())
}

pub(crate) struct Watchers<'a> {
    pub l: HostLoop,
    pub ptr: SharedPtr,
    pub ios: &'a mut HashMap<RawFd, Io>,
    pub timer: *mut TimerW,
}

fn free_io(l: HostLoop, io: Io) {
    // SAFETY: stops and frees a live watcher exactly once (removed from
    // the map first), then its slot.
    unsafe {
        lws_ev_io_free(l.0, io.w);
        drop(Box::from_raw(io.data as *mut Slot));
    }
}

impl EventLib for Watchers<'_> {
    fn name(&self) -> &'static str {
        "libev"
    }

    fn watch(&mut self, fd: RawFd, token: Token, interest: Interest) -> io::Result<()> {
        let data = slot(self.ptr, IO, token.into_raw());
        // SAFETY: shim constructor; the fd stays open until its Unwatch.
        let w = unsafe { lws_ev_io_new(fd, callback, data) };
        if w.is_null() {
            // SAFETY: the slot was never handed to a watcher.
            unsafe { drop(Box::from_raw(data as *mut Slot)) };
            return Err(io::Error::other("libev io watcher allocation failed"));
        }
        // SAFETY: live watcher on a valid loop.
        unsafe { lws_ev_io_set(self.l.0, w, events(interest)) };
        self.ios.insert(fd, Io { w, data });
        Ok(())
    }

    fn modify(&mut self, fd: RawFd, _token: Token, interest: Interest) -> io::Result<()> {
        let io = self
            .ios
            .get(&fd)
            .ok_or_else(|| io::Error::other("modify of an unwatched fd"))?;
        // SAFETY: live watcher on a valid loop.
        unsafe { lws_ev_io_set(self.l.0, io.w, events(interest)) };
        Ok(())
    }

    fn unwatch(&mut self, fd: RawFd, _token: Token) -> io::Result<()> {
        if let Some(io) = self.ios.remove(&fd) {
            free_io(self.l, io);
        }
        Ok(())
    }

    fn set_timer(&mut self, deadline: Option<Instant>) {
        if self.timer.is_null() {
            return;
        }
        // Refresh libev's cached time so the timer cannot fire early.
        // SAFETY: live timer on a valid loop.
        unsafe {
            lws_ev_now_update(self.l.0);
            let after = deadline.map_or(-1.0, |at| {
                at.saturating_duration_since(Instant::now()).as_secs_f64() + 1e-6
            });
            lws_ev_timer_set(self.l.0, self.timer, after);
        }
    }
}

pub(crate) fn set_idle(s: &Shared, on: bool) {
    if !s.idle.is_null() {
        // SAFETY: live idle watcher on a valid loop.
        unsafe { lws_ev_idle_set(s.l, s.idle, c_int::from(on)) };
    }
}

/// Teardown: stop and free every watcher now (libev is synchronous).
pub(crate) fn free_all(s: &mut Shared) {
    let l = HostLoop(s.l);
    for (_, io) in s.ios.drain() {
        free_io(l, io);
    }
    let (t, i) = (
        std::mem::replace(&mut s.timer, std::ptr::null_mut()),
        std::mem::replace(&mut s.idle, std::ptr::null_mut()),
    );
    // SAFETY: each freed exactly once (cleared from the state above); the
    // slots are found through the watchers' data we created them with.
    unsafe {
        if !t.is_null() {
            lws_ev_timer_free(l.0, t);
        }
        if !i.is_null() {
            lws_ev_idle_free(l.0, i);
        }
    }
    for data in s.fixed_slots.drain(..) {
        // SAFETY: the timer/idle slots, freed once with their watchers.
        unsafe { drop(Box::from_raw(data as *mut Slot)) };
    }
    s.detached = true;
}

/// Foreign mode: apply commands; tear down once the context stopped.
/// Returns the context for `on_stopped` when teardown completed.
pub(crate) fn after_dispatch(s: &mut Shared, ptr: SharedPtr) -> Option<Context> {
    let Shared {
        sink: Sink::Direct(Some(ctx)),
        ios,
        timer,
        l,
        ..
    } = s
    else {
        return None;
    };
    let mut w = Watchers {
        l: HostLoop(*l),
        ptr,
        ios,
        timer: *timer,
    };
    w.sync(ctx);
    let (stopped, forced) = (ctx.is_stopped(), ctx.wants_forced_service());
    if stopped && !s.detached {
        free_all(s);
        return match &mut s.sink {
            Sink::Direct(c) => c.take().map(|b| *b),
            Sink::Queue(_) => None,
        };
    }
    set_idle(s, forced);
    None
}

unsafe extern "C" fn callback(data: *mut c_void, revents: c_int) {
    // SAFETY: `data` is a live slot (its watcher is running); read what we
    // need before anything may free it.
    let (ptr, token, kind) = unsafe {
        let s = &*(data as *const Slot);
        (s.shared, s.token, s.kind)
    };
    // SAFETY: hold the state alive for this callback, whatever the host
    // does inside `on_stopped`.
    let keep = unsafe {
        Rc::increment_strong_count(ptr);
        Rc::from_raw(ptr)
    };
    let event = match kind {
        // SAFETY: constant getters.
        IO => LoopEvent::Io(Token::from_raw(token), unsafe {
            Readiness {
                readable: revents & lws_ev_read() != 0,
                writable: revents & lws_ev_write() != 0,
                hangup: false,
                error: revents & lws_ev_error() != 0,
            }
        }),
        TIMER => LoopEvent::Timer,
        _ => LoopEvent::Forced,
    };
    let done = {
        let Ok(mut g) = keep.try_borrow_mut() else {
            return;
        };
        let s = &mut *g;
        match &mut s.sink {
            Sink::Queue(q) => {
                q.push(event);
                None
            }
            Sink::Direct(Some(ctx)) => {
                ctx.handle_event(event);
                after_dispatch(s, ptr).and_then(|c| s.on_stopped.take().map(|cb| (cb, c)))
            }
            Sink::Direct(None) => None,
        }
    };
    if let Some((cb, ctx)) = done {
        cb(ctx);
    }
    drop(keep);
}

/// A libev loop owned by the library (or a Rust host: `EvHostLoop`).
pub struct OwnedLoop {
    l: *mut EvLoopRaw,
}

impl std::fmt::Debug for OwnedLoop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("EvHostLoop")
    }
}

impl OwnedLoop {
    pub(crate) fn new() -> io::Result<Self> {
        // SAFETY: constructor; null means failure.
        let l = unsafe { lws_ev_loop_new() };
        if l.is_null() {
            Err(io::Error::other("ev_loop_new failed"))
        } else {
            Ok(OwnedLoop { l })
        }
    }

    pub fn host(&self) -> HostLoop {
        HostLoop(self.l)
    }

    pub fn run_once(&self) {
        // SAFETY: our loop, on its thread.
        unsafe { lws_ev_run_once(self.l) };
    }

    /// Run once without blocking; `true` while watchers other than
    /// `repeating_timer`s (which do not hold the loop) are active.
    pub fn has_active_watchers(&self) -> bool {
        // SAFETY: our loop, on its thread.
        unsafe { lws_ev_run_nowait(self.l) != 0 }
    }

    /// A repeating timer of the host's own, counting its ticks.
    pub fn repeating_timer(&self, ms: u64) -> Rc<std::cell::Cell<u64>> {
        unsafe extern "C" fn tick(data: *mut c_void, _: c_int) {
            // SAFETY: the Rc<Cell> leaked below for the loop's life.
            let c = unsafe { &*(data as *const std::cell::Cell<u64>) };
            c.set(c.get() + 1);
        }
        let count = Rc::new(std::cell::Cell::new(0u64));
        // SAFETY: a repeating watcher on our loop; it and one Rc count are
        // leaked for the loop's life.
        unsafe {
            let data = Rc::into_raw(count.clone()) as *mut c_void;
            lws_ev_timer_repeat(self.l, ms as f64 / 1000.0, tick, data);
        }
        count
    }
}

impl Drop for OwnedLoop {
    fn drop(&mut self) {
        // SAFETY: destroys our loop; library watchers were freed at
        // teardown (a host's leaked ones go with the loop).
        unsafe { lws_ev_loop_destroy(self.l) };
    }
}
