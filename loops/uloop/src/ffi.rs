//! Everything that calls uloop. The only file of this crate with `unsafe`.
//!
//! libubox-sys binds uloop's functions but leaves `struct uloop_fd` and
//! `struct uloop_timeout` opaque, so their layout (stable since 2013) is
//! declared here from `uloop.h`. Each watcher is a boxed `#[repr(C)]`
//! struct whose first field is the uloop struct, so the pointer uloop hands
//! to a callback leads back to our token. uloop tolerates deleting any fd
//! from inside a callback (it clears the fd from its pending batch), so
//! boxes are freed right after `uloop_fd_delete`/`uloop_timeout_cancel`.

use std::cell::RefCell;
use std::ffi::{c_int, c_uint};
use std::io;
use std::os::fd::RawFd;
use std::rc::Rc;
use std::time::Instant;

use libubox_sys as ub;
use lws_core::{Context, EventLib, Interest, LoopEvent, Readiness, Token};

use crate::state::{Shared, Sink};

type SharedPtr = *const RefCell<Shared>;

const ULOOP_READ: c_uint = ub::ULOOP_READ;
const ULOOP_WRITE: c_uint = ub::ULOOP_WRITE;
/// Report errors to the callback instead of uloop deleting the fd itself:
/// the core decides when a descriptor goes.
const ULOOP_ERROR_CB: c_uint = ub::ULOOP_ERROR_CB;

unsafe extern "C" {
    /// uloop's "leave `uloop_run_timeout` now" flag (`uloop_end()` is an
    /// inline function setting it; `uloop_run_timeout` clears it on entry).
    static mut uloop_cancelled: bool;
}

#[repr(C)]
struct UloopFd {
    cb: Option<unsafe extern "C" fn(*mut UloopFd, c_uint)>,
    fd: c_int,
    eof: bool,
    error: bool,
    registered: bool,
    flags: u8,
}

#[repr(C)]
struct ListHead {
    next: *mut ListHead,
    prev: *mut ListHead,
}

#[repr(C)]
struct UloopTimeout {
    list: ListHead,
    pending: bool,
    cb: Option<unsafe extern "C" fn(*mut UloopTimeout)>,
    time: libc::timeval,
}

/// One descriptor's watcher.
#[repr(C)]
pub(crate) struct Watch {
    ufd: UloopFd,
    token: u64,
    shared: SharedPtr,
}

/// The scheduler's timer, or the zero-delay timeout used for forced work.
#[repr(C)]
pub(crate) struct Tmo {
    t: UloopTimeout,
    forced: bool,
    shared: SharedPtr,
}

fn check(rc: c_int, what: &str) -> io::Result<()> {
    if rc < 0 {
        Err(io::Error::other(format!(
            "{what}: {}",
            io::Error::last_os_error()
        )))
    } else {
        Ok(())
    }
}

fn flags(i: Interest) -> c_uint {
    ULOOP_ERROR_CB
        | (if i.readable { ULOOP_READ } else { 0 })
        | (if i.writable { ULOOP_WRITE } else { 0 })
}

fn new_tmo(shared: SharedPtr, forced: bool) -> *mut Tmo {
    Box::into_raw(Box::new(Tmo {
        t: UloopTimeout {
            list: ListHead {
                next: std::ptr::null_mut(),
                prev: std::ptr::null_mut(),
            },
            pending: false,
            cb: Some(tmo_cb),
            time: libc::timeval {
                tv_sec: 0,
                tv_usec: 0,
            },
        },
        forced,
        shared,
    }))
}

/// Make the timer and forced-work timeouts of a new attachment.
pub(crate) fn init(s: &mut Shared, ptr: SharedPtr) {
    s.timer = new_tmo(ptr, false);
    s.defer = new_tmo(ptr, true);
}

fn arm(t: *mut Tmo, ms: Option<c_int>) {
    if t.is_null() {
        return;
    }
    // SAFETY: a live timeout box of ours; uloop unlinks a pending timeout
    // before relinking it (`uloop_timeout_set`) or on cancel.
    unsafe {
        match ms {
            Some(ms) => {
                ub::uloop_timeout_set(t.cast(), ms);
            }
            None => {
                ub::uloop_timeout_cancel(t.cast());
            }
        }
    }
}

fn free_tmo(t: *mut Tmo) {
    if t.is_null() {
        return;
    }
    // SAFETY: cancelling unlinks it from uloop's list; then the box is ours.
    unsafe {
        ub::uloop_timeout_cancel(t.cast());
        drop(Box::from_raw(t));
    }
}

fn free_watch(w: *mut Watch) {
    // SAFETY: deleting removes it from epoll and from uloop's pending batch,
    // after which uloop holds no pointer to the box.
    unsafe {
        ub::uloop_fd_delete(w.cast());
        drop(Box::from_raw(w));
    }
}

pub(crate) struct Watchers<'a> {
    pub ptr: SharedPtr,
    pub ios: &'a mut std::collections::HashMap<RawFd, *mut Watch>,
    pub timer: *mut Tmo,
}

impl EventLib for Watchers<'_> {
    fn name(&self) -> &'static str {
        "uloop"
    }

    fn watch(&mut self, fd: RawFd, token: Token, interest: Interest) -> io::Result<()> {
        let w = Box::into_raw(Box::new(Watch {
            ufd: UloopFd {
                cb: Some(fd_cb),
                fd,
                eof: false,
                error: false,
                registered: false,
                flags: 0,
            },
            token: token.into_raw(),
            shared: self.ptr,
        }));
        self.ios.insert(fd, w);
        self.modify(fd, token, interest)
    }

    fn modify(&mut self, fd: RawFd, _token: Token, interest: Interest) -> io::Result<()> {
        let w = *self
            .ios
            .get(&fd)
            .ok_or_else(|| io::Error::other("modify of an unwatched fd"))?;
        // SAFETY: a live watcher box; no interest at all deletes the fd from
        // epoll (uloop_fd_add calls uloop_fd_delete), re-adding restores it.
        let rc = unsafe {
            if interest == Interest::NONE {
                ub::uloop_fd_delete(w.cast())
            } else {
                ub::uloop_fd_add(w.cast(), flags(interest))
            }
        };
        check(rc, "uloop_fd_add")
    }

    fn unwatch(&mut self, fd: RawFd, _token: Token) -> io::Result<()> {
        if let Some(w) = self.ios.remove(&fd) {
            free_watch(w);
        }
        Ok(())
    }

    fn set_timer(&mut self, deadline: Option<Instant>) {
        // uloop timeouts have millisecond resolution: round up, so a timer
        // never fires before its deadline by more than uloop's own rounding
        // (the core re-arms when woken early).
        let ms = deadline.map(|at| {
            let us = at.saturating_duration_since(Instant::now()).as_micros();
            us.div_ceil(1000).min(c_int::MAX as u128) as c_int
        });
        arm(self.timer, ms);
    }
}

/// Teardown: every watcher and timeout goes now.
pub(crate) fn drop_all(s: &mut Shared) {
    for (_, w) in s.ios.drain() {
        free_watch(w);
    }
    free_tmo(std::mem::replace(&mut s.timer, std::ptr::null_mut()));
    free_tmo(std::mem::replace(&mut s.defer, std::ptr::null_mut()));
    s.detached = true;
}

/// Apply the context's commands and arm forced work.
pub(crate) fn sync(s: &mut Shared, ctx: &mut Context, ptr: SharedPtr) {
    let mut w = Watchers {
        ptr,
        ios: &mut s.ios,
        timer: s.timer,
    };
    w.sync(ctx);
    arm(s.defer, ctx.wants_forced_service().then_some(0));
}

/// Foreign mode: apply commands; tear down once the context stopped and
/// return it.
pub(crate) fn after_dispatch(s: &mut Shared, ptr: SharedPtr) -> Option<Context> {
    let Sink::Direct(Some(mut ctx)) = std::mem::replace(&mut s.sink, Sink::Direct(None)) else {
        return None;
    };
    sync(s, &mut ctx, ptr);
    if ctx.is_stopped() {
        drop_all(s);
        return Some(*ctx);
    }
    s.sink = Sink::Direct(Some(ctx));
    None
}

fn serve(ptr: SharedPtr, event: LoopEvent) {
    // SAFETY: `ptr` is the Rc'd state the watcher was made for; it outlives
    // every watcher (teardown frees them first). Hold a count for the call.
    let keep = unsafe {
        Rc::increment_strong_count(ptr);
        Rc::from_raw(ptr)
    };
    let done = {
        let Ok(mut g) = keep.try_borrow_mut() else {
            return;
        };
        let s = &mut *g;
        match &mut s.sink {
            Sink::Queue(q) => {
                q.push(event);
                // Owned loop: return from `uloop_run_timeout` before it
                // waits, so the event is served now (after a timeout
                // callback it would otherwise block in epoll first).
                // SAFETY: a plain flag of the single-threaded uloop, read
                // by the `uloop_run_timeout` call this callback runs in.
                unsafe { uloop_cancelled = true };
                None
            }
            Sink::Direct(Some(ctx)) => {
                ctx.handle_event(event);
                after_dispatch(s, ptr).map(|c| (s.on_stopped.take(), c))
            }
            Sink::Direct(None) => None,
        }
    };
    if let Some((Some(cb), ctx)) = done {
        cb(ctx);
    }
}

unsafe extern "C" fn fd_cb(u: *mut UloopFd, events: c_uint) {
    // SAFETY: uloop passes the `UloopFd` first field of a live `Watch`.
    let (ptr, token, eof, error) = unsafe {
        let w = &*(u as *const Watch);
        (w.shared, w.token, w.ufd.eof, w.ufd.error)
    };
    let r = Readiness {
        readable: events & ULOOP_READ != 0,
        writable: events & ULOOP_WRITE != 0,
        hangup: eof,
        error,
    };
    serve(ptr, LoopEvent::Io(Token::from_raw(token), r));
}

unsafe extern "C" fn tmo_cb(t: *mut UloopTimeout) {
    // SAFETY: uloop passes the `UloopTimeout` first field of a live `Tmo`.
    let (ptr, forced) = unsafe {
        let t = &*(t as *const Tmo);
        (t.shared, t.forced)
    };
    serve(
        ptr,
        if forced {
            LoopEvent::Forced
        } else {
            LoopEvent::Timer
        },
    );
}

/// Signals uloop_init takes over (it also ignores SIGPIPE, which we keep).
const RESTORED: [c_int; 3] = [libc::SIGINT, libc::SIGTERM, libc::SIGCHLD];

/// `uloop_init` for the owned loop, keeping the process's own handlers for
/// SIGINT/SIGTERM/SIGCHLD (uloop would install its own).
pub(crate) fn owned_init() -> io::Result<()> {
    // SAFETY: plain sigaction save/restore around uloop_init; the arrays
    // are ours and fully initialised by the kernel before use.
    unsafe {
        let mut saved: [libc::sigaction; 3] = std::mem::zeroed();
        for (sig, old) in RESTORED.iter().zip(saved.iter_mut()) {
            libc::sigaction(*sig, std::ptr::null(), old);
        }
        check(ub::uloop_init(), "uloop_init")?;
        for (sig, old) in RESTORED.iter().zip(saved.iter()) {
            libc::sigaction(*sig, old, std::ptr::null_mut());
        }
    }
    Ok(())
}

/// One iteration of uloop: run due timeouts, wait at most `ms`, dispatch
/// one descriptor.
pub(crate) fn run_once(ms: c_int) {
    // SAFETY: the owned loop, initialised, on this thread.
    unsafe { ub::uloop_run_timeout(ms) };
}

/// `uloop_done` for the owned loop: closes uloop's epoll descriptor.
pub(crate) fn owned_done() {
    // SAFETY: every watcher of ours was deleted before.
    unsafe { ub::uloop_done() };
}

/// A repeating uloop timeout of the host's own (tests and examples use it
/// as "the host's source"); cancelled and freed on drop.
pub struct HostTimer {
    t: *mut HostTmo,
}

#[repr(C)]
struct HostTmo {
    t: UloopTimeout,
    period_ms: c_int,
    ticks: Rc<std::cell::Cell<u64>>,
}

impl std::fmt::Debug for HostTimer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("HostTimer")
    }
}

impl HostTimer {
    /// Start a timeout firing every `ms` milliseconds on the process's
    /// uloop; the returned cell counts its ticks.
    pub fn every(ms: u32) -> (Self, Rc<std::cell::Cell<u64>>) {
        let ticks = Rc::new(std::cell::Cell::new(0));
        let t = Box::into_raw(Box::new(HostTmo {
            t: UloopTimeout {
                list: ListHead {
                    next: std::ptr::null_mut(),
                    prev: std::ptr::null_mut(),
                },
                pending: false,
                cb: Some(host_tick),
                time: libc::timeval {
                    tv_sec: 0,
                    tv_usec: 0,
                },
            },
            period_ms: ms.min(c_int::MAX as u32) as c_int,
            ticks: ticks.clone(),
        }));
        // SAFETY: a fresh timeout box, freed in Drop after cancelling.
        unsafe { ub::uloop_timeout_set(t.cast(), ms as c_int) };
        (HostTimer { t }, ticks)
    }
}

unsafe extern "C" fn host_tick(t: *mut UloopTimeout) {
    // SAFETY: the first field of a live `HostTmo`; re-armed from its own
    // callback, which uloop allows.
    unsafe {
        let h = &*(t as *const HostTmo);
        h.ticks.set(h.ticks.get() + 1);
        ub::uloop_timeout_set(t.cast(), h.period_ms);
    }
}

impl Drop for HostTimer {
    fn drop(&mut self) {
        // SAFETY: cancel unlinks it; then the box is ours to free.
        unsafe {
            ub::uloop_timeout_cancel(self.t.cast());
            drop(Box::from_raw(self.t));
        }
    }
}

/// The process's uloop as a host would run it (tests and examples):
/// `uloop_init` and `uloop_run_timeout`/`uloop_done`.
pub mod host {
    use super::*;

    /// `uloop_init()`.
    pub fn init() -> io::Result<()> {
        // SAFETY: idempotent initialisation of the process's loop.
        check(unsafe { ub::uloop_init() }, "uloop_init")
    }

    /// One `uloop_run_timeout(ms)` iteration.
    pub fn run_once(ms: i32) {
        super::run_once(ms);
    }

    /// `uloop_done()`.
    pub fn done() {
        super::owned_done();
    }
}
