//! The library's libuv handles: one `uv_poll_t` per descriptor, the timer
//! and the idle handle for forced service, and their C callbacks, which
//! hand every observation to the shared glue.
//!
//! Ownership rules, relied on by every block below:
//! - Each handle is a `Box` leaked to libuv when initialised and reclaimed
//!   in its close callback, never earlier: libuv may touch a handle until
//!   that callback ran.
//! - Each handle's `data` holds one strong count of the adapter
//!   (`Rc::into_raw`), released in the same close callback, so the adapter
//!   outlives every handle that can call into it.
//! - The loop outlives the handles: the `Kept` loop either keeps an owned
//!   loop alive or carries the host's promise.
//! - All of it runs on the loop's thread (nothing here is `Send`).

use std::ffi::{c_int, c_void};
use std::io;
use std::os::fd::RawFd;
use std::rc::Rc;
use std::time::Instant;

use libuv_sys2 as uv;
use lws_cglue::{Adapter, Link, Source, Watchers};
use lws_core::{Interest, LoopEvent, Readiness, Token};

use super::host::UvLoopBox;

type Ptr = *const Adapter<UvWatchers>;

/// One of the library's handles (opaque: only `add` makes one).
#[derive(Debug)]
pub struct UvSource(*mut uv::uv_handle_t);

#[repr(C)]
struct PollHandle {
    uv: uv::uv_poll_t,
    token: u64,
}

#[repr(C)]
struct TimerHandle {
    uv: uv::uv_timer_t,
}

#[repr(C)]
struct IdleHandle {
    uv: uv::uv_idle_t,
}

/// libuv's watcher operations for the glue.
#[derive(Debug)]
pub enum UvWatchers {}

type Lp = lws_cglue::Kept<UvLoopBox>;

pub(super) fn check(rc: c_int, what: &str) -> io::Result<()> {
    if rc < 0 {
        Err(io::Error::other(format!("{what}: libuv error {rc}")))
    } else {
        Ok(())
    }
}

/// The adapter a live handle's `data` points to, with a count of its own.
///
/// # Safety
/// `data` must be the `data` of a handle that has not run its close callback.
unsafe fn link_of(data: *mut c_void) -> Link<UvWatchers> {
    // SAFETY: the handle holds a count (see `init`), so the adapter is live.
    unsafe {
        Rc::increment_strong_count(data as Ptr);
        Rc::from_raw(data as Ptr)
    }
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

/// Box a zeroed `T`, initialise it with `init` on the loop and give it a
/// count of the adapter; freed in `close_cb` (or here if init fails).
fn init<T>(
    link: &Link<UvWatchers>,
    what: &str,
    init: impl FnOnce(*mut T) -> c_int,
) -> io::Result<UvSource> {
    // SAFETY: zeroed handle structs are what libuv's *_init functions
    // expect; the box is leaked to libuv once initialised.
    unsafe {
        let h = Box::into_raw(Box::new(std::mem::zeroed::<T>()));
        if let Err(e) = check(init(h), what) {
            drop(Box::from_raw(h)); // never registered with libuv
            return Err(e);
        }
        let h = h as *mut uv::uv_handle_t;
        (*h).data = Rc::into_raw(link.clone()) as *mut c_void;
        Ok(UvSource(h))
    }
}

/// The handle as a `T` if it is of libuv type `ty`.
fn as_kind<T>(s: &UvSource, ty: uv::uv_handle_type) -> Option<*mut T> {
    // SAFETY: a live handle of ours (held by the glue).
    (unsafe { (*s.0).type_ } == ty).then_some(s.0 as *mut T)
}

impl Watchers for UvWatchers {
    type Owner = UvLoopBox;
    type Source = UvSource;
    const NAME: &'static str = "libuv";

    fn add(lp: &Lp, link: &Link<Self>, what: Source) -> io::Result<UvSource> {
        let l = lp.raw();
        match what {
            Source::Io { fd, token, .. } => init(link, "uv_poll_init", |h: *mut PollHandle| {
                // SAFETY: a zeroed handle of ours on a valid loop (`Kept`);
                // the fd stays open until its Unwatch (core rule), which
                // closes this handle first.
                unsafe {
                    (*h).token = token.into_raw();
                    uv::uv_poll_init(l, &mut (*h).uv, fd)
                }
            }),
            Source::Timer => init(link, "uv_timer_init", |h: *mut TimerHandle| {
                // SAFETY: a zeroed handle of ours on a valid loop.
                unsafe { uv::uv_timer_init(l, &mut (*h).uv) }
            }),
            Source::Forced => init(link, "uv_idle_init", |h: *mut IdleHandle| {
                // SAFETY: a zeroed handle of ours on a valid loop.
                unsafe { uv::uv_idle_init(l, &mut (*h).uv) }
            }),
        }
    }

    fn watch(_: &Lp, s: &mut UvSource, _fd: RawFd, i: Interest) -> io::Result<()> {
        let p: *mut uv::uv_poll_t = as_kind(s, uv::uv_handle_type_UV_POLL)
            .ok_or_else(|| io::Error::other("not a poll handle"))?;
        // SAFETY: a live poll handle.
        unsafe {
            match events(i) {
                0 => check(uv::uv_poll_stop(p), "uv_poll_stop"),
                e => check(uv::uv_poll_start(p, e, Some(poll_cb)), "uv_poll_start"),
            }
        }
    }

    fn arm(lp: &Lp, s: &mut UvSource, deadline: Option<Instant>) {
        let Some(t) = as_kind::<uv::uv_timer_t>(s, uv::uv_handle_type_UV_TIMER) else {
            return;
        };
        // SAFETY: a live timer handle on a valid loop.
        unsafe {
            uv::uv_timer_stop(t);
            if let Some(at) = deadline {
                // Refresh libuv's cached time so the timer cannot fire early.
                uv::uv_update_time(lp.raw());
                let wait = at.saturating_duration_since(Instant::now());
                let ms = wait.as_micros().div_ceil(1000) as u64;
                uv::uv_timer_start(t, Some(timer_cb), ms, 0);
            }
        }
    }

    fn force(_: &Lp, s: &mut UvSource, on: bool) {
        let Some(i) = as_kind::<uv::uv_idle_t>(s, uv::uv_handle_type_UV_IDLE) else {
            return;
        };
        // SAFETY: a live idle handle (starting an active one is a no-op).
        unsafe {
            if on {
                uv::uv_idle_start(i, Some(idle_cb));
            } else {
                uv::uv_idle_stop(i);
            }
        }
    }

    fn release(_: &Lp, link: &Link<Self>, s: UvSource) {
        link.close_started();
        // SAFETY: a live handle given up by the glue, closed exactly once.
        // Closing stops it first: a poll handle's fd leaves libuv's epoll
        // set now, before the core closes the fd (fd numbers are reused).
        unsafe { uv::uv_close(s.0, Some(close_cb)) };
    }
}
unsafe extern "C" fn poll_cb(h: *mut uv::uv_poll_t, status: c_int, ev: c_int) {
    // SAFETY: libuv passes back a live poll handle we initialised; it is the
    // first field of our repr(C) PollHandle.
    let (link, token) = unsafe { (link_of((*h).data), (*(h as *mut PollHandle)).token) };
    let readiness = Readiness {
        readable: ev & uv::uv_poll_event_UV_READABLE as c_int != 0,
        writable: ev & uv::uv_poll_event_UV_WRITABLE as c_int != 0,
        hangup: ev & uv::uv_poll_event_UV_DISCONNECT as c_int != 0,
        error: status < 0,
    };
    link.serve(LoopEvent::Io(Token::from_raw(token), readiness));
}

unsafe extern "C" fn timer_cb(h: *mut uv::uv_timer_t) {
    // SAFETY: our live timer handle.
    let link = unsafe { link_of((*h).data) };
    link.serve(LoopEvent::Timer);
}

unsafe extern "C" fn idle_cb(h: *mut uv::uv_idle_t) {
    // SAFETY: our live idle handle.
    let link = unsafe { link_of((*h).data) };
    link.serve(LoopEvent::Forced);
}

unsafe extern "C" fn close_cb(h: *mut uv::uv_handle_t) {
    // SAFETY: libuv is done with `h` (this is its close callback): reclaim
    // the box we leaked, by its real type, exactly once, and take over the
    // count its `data` held.
    let link = unsafe {
        let data = (*h).data;
        match (*h).type_ {
            uv::uv_handle_type_UV_POLL => drop(Box::from_raw(h as *mut PollHandle)),
            uv::uv_handle_type_UV_TIMER => drop(Box::from_raw(h as *mut TimerHandle)),
            _ => drop(Box::from_raw(h as *mut IdleHandle)),
        }
        Rc::from_raw(data as Ptr)
    };
    link.closed();
}
