//! Everything that touches libuv: handle allocation, the C callbacks, and
//! the watcher operations. The only file of this crate with `unsafe`.
//!
//! Ownership rules, relied on by every block below:
//! - Each handle (`PollHandle`, `TimerHandle`, `IdleHandle`) is a `Box`
//!   leaked to libuv when initialised and reclaimed in its close callback,
//!   never earlier: libuv may touch a handle until that callback ran.
//! - Each handle's `data` holds one strong count of the shared state
//!   (`Rc::into_raw`), released in the same close callback, so the state
//!   outlives every handle that can call back into it.
//! - All of it runs on the loop's thread: the `HostLoop` contract.

use std::cell::RefCell;
use std::ffi::{c_int, c_void};
use std::io;
use std::os::fd::RawFd;
use std::rc::Rc;
use std::time::Instant;

use libuv_sys2 as uv;
use lws_core::{EventLib, Interest, LoopEvent, Readiness, Token};

use crate::state::{Shared, Sink};

type SharedPtr = *const RefCell<Shared>;

/// Rewrap a loop pointer that was validated as a `HostLoop` at attach.
pub(crate) fn rewrap(lp: *mut uv::uv_loop_t) -> HostLoop {
    HostLoop(lp)
}

/// A libuv loop the library may add handles to.
#[derive(Debug, Clone, Copy)]
pub struct HostLoop(*mut uv::uv_loop_t);

impl HostLoop {
    /// Wrap a host's loop.
    ///
    /// # Safety
    /// `lp` must point to an initialised `uv_loop_t` that stays valid, and
    /// is only run on the current thread, until the attachment made with it
    /// has reported its teardown complete.
    pub unsafe fn from_raw(lp: *mut uv::uv_loop_t) -> Self {
        HostLoop(lp)
    }

    pub fn as_ptr(self) -> *mut uv::uv_loop_t {
        self.0
    }
}

#[repr(C)]
pub(crate) struct PollHandle {
    uv: uv::uv_poll_t,
    token: u64,
}

#[repr(C)]
pub(crate) struct TimerHandle {
    uv: uv::uv_timer_t,
}

#[repr(C)]
pub(crate) struct IdleHandle {
    uv: uv::uv_idle_t,
}

fn check(rc: c_int, what: &str) -> io::Result<()> {
    if rc < 0 {
        Err(io::Error::other(format!("{what}: libuv error {rc}")))
    } else {
        Ok(())
    }
}

/// A new strong count of the shared state, for a handle's `data`.
fn share(ptr: SharedPtr) -> *mut c_void {
    // SAFETY: `ptr` came from `Rc::into_raw`/`Rc::as_ptr` of a live Rc (we
    // are running inside it or hold it), so incrementing is sound.
    unsafe { Rc::increment_strong_count(ptr) };
    ptr as *mut c_void
}

/// Create the timer and idle handles for a new attachment.
pub(crate) fn init_handles(lp: HostLoop, shared: &Rc<RefCell<Shared>>) -> io::Result<()> {
    let ptr = Rc::as_ptr(shared);
    // SAFETY: zeroed handle structs are what libuv's *_init functions
    // expect; the loop is valid (HostLoop contract); the boxes are leaked to
    // libuv here and reclaimed in `close_cb`.
    unsafe {
        let timer = Box::into_raw(Box::new(std::mem::zeroed::<TimerHandle>()));
        check(uv::uv_timer_init(lp.0, &mut (*timer).uv), "uv_timer_init")?;
        (*timer).uv.data = share(ptr);
        let idle = Box::into_raw(Box::new(std::mem::zeroed::<IdleHandle>()));
        check(uv::uv_idle_init(lp.0, &mut (*idle).uv), "uv_idle_init")?;
        (*idle).uv.data = share(ptr);
        let mut s = shared.borrow_mut();
        s.timer = timer;
        s.idle = idle;
    }
    Ok(())
}

/// The watcher operations, over the handles in the shared state.
pub(crate) struct Watchers<'a> {
    pub lp: HostLoop,
    pub ptr: SharedPtr,
    pub polls: &'a mut std::collections::HashMap<RawFd, *mut PollHandle>,
    pub timer: *mut TimerHandle,
    pub closing: &'a mut usize,
}

fn events(i: Interest) -> c_int {
    let mut e = 0;
    if i.readable {
        e |= (uv::uv_poll_event_UV_READABLE | uv::uv_poll_event_UV_DISCONNECT) as c_int;
    }
    if i.writable {
        e |= uv::uv_poll_event_UV_WRITABLE as c_int;
    }
    e
}

fn start(h: *mut PollHandle, i: Interest) -> io::Result<()> {
    // SAFETY: `h` is a live poll handle (in `polls`, not yet closed).
    unsafe {
        match events(i) {
            0 => check(uv::uv_poll_stop(&mut (*h).uv), "uv_poll_stop"),
            e => check(
                uv::uv_poll_start(&mut (*h).uv, e, Some(poll_cb)),
                "uv_poll_start",
            ),
        }
    }
}

impl EventLib for Watchers<'_> {
    fn name(&self) -> &'static str {
        "libuv"
    }

    fn watch(&mut self, fd: RawFd, token: Token, interest: Interest) -> io::Result<()> {
        // SAFETY: as in `init_handles`; `fd` stays open until its Unwatch
        // (core rule), which stops and closes this handle first.
        let h = unsafe {
            let h = Box::into_raw(Box::new(std::mem::zeroed::<PollHandle>()));
            (*h).token = token.into_raw();
            if let Err(e) = check(
                uv::uv_poll_init(self.lp.0, &mut (*h).uv, fd),
                "uv_poll_init",
            ) {
                drop(Box::from_raw(h)); // never registered with libuv
                return Err(e);
            }
            (*h).uv.data = share(self.ptr);
            h
        };
        self.polls.insert(fd, h);
        start(h, interest)
    }

    fn modify(&mut self, fd: RawFd, _token: Token, interest: Interest) -> io::Result<()> {
        match self.polls.get(&fd) {
            Some(&h) => start(h, interest),
            None => Err(io::Error::other("modify of an unwatched fd")),
        }
    }

    fn unwatch(&mut self, fd: RawFd, _token: Token) -> io::Result<()> {
        if let Some(h) = self.polls.remove(&fd) {
            // Stop first: libuv drops the fd from its epoll set now, before
            // the core closes the fd (fd numbers are reused at once).
            start(h, Interest::NONE)?;
            *self.closing += 1;
            // SAFETY: `h` is live and closed exactly once (removed from
            // `polls` just above).
            unsafe { uv::uv_close(h as *mut uv::uv_handle_t, Some(close_cb)) };
        }
        Ok(())
    }

    fn set_timer(&mut self, deadline: Option<Instant>) {
        let t = self.timer;
        if t.is_null() {
            return;
        }
        // SAFETY: the timer handle lives until teardown closes it, and
        // teardown clears `timer` first.
        unsafe {
            uv::uv_timer_stop(&mut (*t).uv);
            if let Some(at) = deadline {
                // Refresh libuv's cached time so the timer cannot fire early.
                uv::uv_update_time(self.lp.0);
                let wait = at.saturating_duration_since(Instant::now());
                let ms = wait.as_micros().div_ceil(1000) as u64;
                uv::uv_timer_start(&mut (*t).uv, Some(timer_cb), ms, 0);
            }
        }
    }
}

/// Start or stop the idle handle that drives forced service.
pub(crate) fn set_idle(s: &mut Shared, on: bool) {
    if s.idle.is_null() || s.idle_on == on {
        return;
    }
    // SAFETY: the idle handle lives until teardown closes it, and teardown
    // clears `idle` first.
    unsafe {
        if on {
            uv::uv_idle_start(&mut (*s.idle).uv, Some(idle_cb));
        } else {
            uv::uv_idle_stop(&mut (*s.idle).uv);
        }
    }
    s.idle_on = on;
}

/// Close every handle the library owns (teardown); completion is reported
/// by the last close callback.
pub(crate) fn close_all(s: &mut Shared) {
    let polls: Vec<_> = s.polls.drain().map(|(_, h)| h).collect();
    let timer = std::mem::replace(&mut s.timer, std::ptr::null_mut());
    let idle = std::mem::replace(&mut s.idle, std::ptr::null_mut());
    let mut handles: Vec<*mut uv::uv_handle_t> = polls
        .into_iter()
        .map(|h| h as *mut uv::uv_handle_t)
        .collect();
    handles.extend(
        [timer as *mut uv::uv_handle_t, idle as *mut uv::uv_handle_t]
            .into_iter()
            .filter(|h| !h.is_null()),
    );
    for h in handles {
        s.closing += 1;
        // SAFETY: each handle is live and not closing (removed from the
        // state just above, so closed exactly once).
        unsafe { uv::uv_close(h, Some(close_cb)) };
    }
}

/// Hand one observation to the state, and (foreign mode) serve it.
fn serve(ptr: SharedPtr, f: LoopEvent) {
    // SAFETY: `ptr` is kept alive by the handle that called us.
    let cell = unsafe { &*ptr };
    let Ok(mut guard) = cell.try_borrow_mut() else {
        return;
    };
    let s = &mut *guard;
    match &mut s.sink {
        Sink::Queue(q) => q.push(f),
        Sink::Direct(ctx) => {
            let Some(ctx) = ctx.as_mut() else { return };
            ctx.handle_event(f);
            after_dispatch(s, ptr);
        }
    }
}

/// Foreign mode: apply commands; start teardown once the context stopped
/// (it completes in the last close callback).
pub(crate) fn after_dispatch(s: &mut Shared, ptr: SharedPtr) {
    let Shared {
        sink: Sink::Direct(Some(ctx)),
        polls,
        timer,
        closing,
        lp,
        ..
    } = s
    else {
        return;
    };
    let mut w = Watchers {
        lp: HostLoop(*lp),
        ptr,
        polls,
        timer: *timer,
        closing,
    };
    w.sync(ctx);
    let stopped = ctx.is_stopped();
    let forced = ctx.wants_forced_service();
    set_idle(s, forced && !stopped);
    if stopped && !s.detached {
        close_all(s);
    }
}

unsafe extern "C" fn poll_cb(h: *mut uv::uv_poll_t, status: c_int, ev: c_int) {
    // SAFETY: libuv passes back the poll handle we initialised; it is the
    // first field of our repr(C) PollHandle.
    let (ptr, token) = unsafe { ((*h).data as SharedPtr, (*(h as *mut PollHandle)).token) };
    let readiness = Readiness {
        readable: ev & uv::uv_poll_event_UV_READABLE as c_int != 0,
        writable: ev & uv::uv_poll_event_UV_WRITABLE as c_int != 0,
        hangup: ev & uv::uv_poll_event_UV_DISCONNECT as c_int != 0,
        error: status < 0,
    };
    serve(ptr, LoopEvent::Io(Token::from_raw(token), readiness));
}

unsafe extern "C" fn timer_cb(h: *mut uv::uv_timer_t) {
    // SAFETY: our timer handle; `data` holds a strong count.
    let ptr = unsafe { (*h).data as SharedPtr };
    serve(ptr, LoopEvent::Timer);
}

unsafe extern "C" fn idle_cb(h: *mut uv::uv_idle_t) {
    // SAFETY: our idle handle; `data` holds a strong count.
    let ptr = unsafe { (*h).data as SharedPtr };
    serve(ptr, LoopEvent::Forced);
}

unsafe extern "C" fn close_cb(h: *mut uv::uv_handle_t) {
    // SAFETY: libuv is done with `h` (this is its close callback): reclaim
    // the box we leaked, by its real type, exactly once.
    let ptr = unsafe {
        let ptr = (*h).data as SharedPtr;
        match (*h).type_ {
            uv::uv_handle_type_UV_POLL => drop(Box::from_raw(h as *mut PollHandle)),
            uv::uv_handle_type_UV_TIMER => drop(Box::from_raw(h as *mut TimerHandle)),
            _ => drop(Box::from_raw(h as *mut IdleHandle)),
        }
        ptr
    };
    // SAFETY: the strong count this handle held keeps `ptr` live here.
    let cell = unsafe { &*ptr };
    let finished = match cell.try_borrow_mut() {
        Ok(mut s) => {
            s.closing = s.closing.saturating_sub(1);
            let all_gone = s.closing == 0 && s.timer.is_null() && s.idle.is_null();
            if all_gone && !s.detached {
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
        Err(_) => None, // close callbacks never run inside our own borrow
    };
    if let Some((cb, ctx)) = finished {
        cb(ctx);
    }
    // SAFETY: releases the count taken in `share` for this handle.
    unsafe { Rc::decrement_strong_count(ptr) };
}

/// Owned loops: create, run and close a private `uv_loop_t`. Also the
/// safe host loop Rust programs and tests can attach the library to
/// (re-exported as `UvHostLoop`).
pub struct OwnedLoop {
    lp: Box<uv::uv_loop_t>,
}

impl OwnedLoop {
    pub fn new() -> io::Result<Self> {
        // SAFETY: zeroed storage handed to uv_loop_init, boxed so its
        // address is stable for the loop's life.
        unsafe {
            let mut lp: Box<uv::uv_loop_t> = Box::new(std::mem::zeroed());
            check(uv::uv_loop_init(&mut *lp), "uv_loop_init")?;
            Ok(OwnedLoop { lp })
        }
    }

    pub fn host(&mut self) -> HostLoop {
        HostLoop(&mut *self.lp)
    }

    /// Number of handles on this loop.
    pub fn handles(&mut self) -> usize {
        handle_count(self.host())
    }

    /// A repeating timer of the host's own (every `ms`), counting its
    /// ticks; it lives as long as the loop.
    pub fn repeating_timer(&mut self, ms: u64) -> Rc<std::cell::Cell<u64>> {
        unsafe extern "C" fn tick(h: *mut uv::uv_timer_t) {
            // SAFETY: `data` is the Rc<Cell> leaked below, live until the
            // loop is closed (the timer is never closed before that).
            let c = unsafe { &*((*h).data as *const std::cell::Cell<u64>) };
            c.set(c.get() + 1);
        }
        let count = Rc::new(std::cell::Cell::new(0u64));
        // SAFETY: zeroed timer initialised on our valid loop; the timer box
        // and one Rc count are deliberately leaked for the loop's life.
        unsafe {
            let t = Box::into_raw(Box::new(std::mem::zeroed::<uv::uv_timer_t>()));
            uv::uv_timer_init(&mut *self.lp, t);
            (*t).data = Rc::into_raw(count.clone()) as *mut c_void;
            uv::uv_timer_start(t, Some(tick), ms, ms);
        }
        count
    }

    /// One blocking iteration (returns after at least one event).
    pub fn run_once(&mut self) {
        // SAFETY: our loop, run on its owning thread.
        unsafe { uv::uv_run(&mut *self.lp, uv::uv_run_mode_UV_RUN_ONCE) };
    }

    /// Run until no handle is left (after teardown).
    pub fn run_to_end(&mut self) {
        // SAFETY: as above.
        unsafe { uv::uv_run(&mut *self.lp, uv::uv_run_mode_UV_RUN_DEFAULT) };
    }
}

impl Drop for OwnedLoop {
    fn drop(&mut self) {
        // SAFETY: closes the loop only if no handle is left (uv_loop_close
        // reports EBUSY otherwise, and the loop memory is then leaked
        // rather than freed under live handles).
        unsafe {
            if uv::uv_loop_close(&mut *self.lp) != 0 {
                let lp = std::mem::replace(&mut self.lp, Box::new(std::mem::zeroed()));
                std::mem::forget(lp);
            }
        }
    }
}

impl std::fmt::Debug for OwnedLoop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("UvHostLoop")
    }
}

/// Number of handles on `lp` (for teardown checks).
pub fn handle_count(lp: HostLoop) -> usize {
    unsafe extern "C" fn count(_: *mut uv::uv_handle_t, arg: *mut c_void) {
        // SAFETY: `arg` is the &mut usize passed below, live for uv_walk.
        unsafe { *(arg as *mut usize) += 1 };
    }
    let mut n = 0usize;
    // SAFETY: valid loop (HostLoop contract); the callback only counts.
    unsafe { uv::uv_walk(lp.0, Some(count), &mut n as *mut usize as *mut c_void) };
    n
}
