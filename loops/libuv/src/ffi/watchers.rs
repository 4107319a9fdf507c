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
use lws_cglue::{Adapter, Link, Watchers};
use lws_core::{Interest, LoopEvent, Readiness, Token};

use super::host::UvLoopBox;

type Ptr = *const Adapter<UvWatchers>;

/// One descriptor's `uv_poll_t` handle (opaque: only `io_new` makes one).
#[derive(Debug)]
pub struct UvIo(*mut PollHandle);

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
pub struct UvWatchers {
    lp: lws_cglue::Kept<UvLoopBox>,
    timer: *mut TimerHandle,
    idle: *mut IdleHandle,
    idle_on: bool,
}

impl std::fmt::Debug for UvWatchers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("UvWatchers")
    }
}

pub(super) fn check(rc: c_int, what: &str) -> io::Result<()> {
    if rc < 0 {
        Err(io::Error::other(format!("{what}: libuv error {rc}")))
    } else {
        Ok(())
    }
}

/// A strong count of the adapter for one handle's `data`.
fn count(link: &Link<UvWatchers>) -> *mut c_void {
    Rc::into_raw(link.clone()) as *mut c_void
}

/// The adapter a live handle's `data` points to, with a count of its own.
///
/// # Safety
/// `data` must be the `data` of a handle that has not run its close callback.
unsafe fn link_of(data: *mut c_void) -> Link<UvWatchers> {
    // SAFETY: the handle holds a count (see `count`), so the adapter is live.
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

/// Close a live handle of ours; its close callback completes the release.
fn close(link: &Link<UvWatchers>, h: *mut uv::uv_handle_t) {
    link.close_started();
    // SAFETY: callers pass a live handle exactly once (they forget it).
    unsafe { uv::uv_close(h, Some(close_cb)) };
}

impl Watchers for UvWatchers {
    type Owner = UvLoopBox;
    type Io = UvIo;
    const NAME: &'static str = "libuv";

    fn new(lp: lws_cglue::Kept<UvLoopBox>) -> Self {
        UvWatchers {
            lp,
            timer: std::ptr::null_mut(),
            idle: std::ptr::null_mut(),
            idle_on: false,
        }
    }

    fn init(&mut self, link: &Link<Self>) -> io::Result<()> {
        // SAFETY: zeroed handle structs are what libuv's *_init functions
        // expect; the loop is valid (`Kept`); the boxes are leaked to
        // libuv here and reclaimed in `close_cb` (init never fails on a
        // valid loop, and a handle is only recorded once initialised).
        unsafe {
            let timer = Box::into_raw(Box::new(std::mem::zeroed::<TimerHandle>()));
            check(
                uv::uv_timer_init(self.lp.raw(), &mut (*timer).uv),
                "uv_timer_init",
            )?;
            (*timer).uv.data = count(link);
            self.timer = timer;
            let idle = Box::into_raw(Box::new(std::mem::zeroed::<IdleHandle>()));
            check(
                uv::uv_idle_init(self.lp.raw(), &mut (*idle).uv),
                "uv_idle_init",
            )?;
            (*idle).uv.data = count(link);
            self.idle = idle;
        }
        Ok(())
    }

    fn io_new(
        &mut self,
        link: &Link<Self>,
        fd: RawFd,
        token: Token,
        _interest: Interest,
    ) -> io::Result<UvIo> {
        // SAFETY: as in `init`; `fd` stays open until its Unwatch (core
        // rule), which stops and closes this handle first.
        unsafe {
            let h = Box::into_raw(Box::new(std::mem::zeroed::<PollHandle>()));
            (*h).token = token.into_raw();
            let rc = uv::uv_poll_init(self.lp.raw(), &mut (*h).uv, fd);
            if let Err(e) = check(rc, "uv_poll_init") {
                drop(Box::from_raw(h)); // never registered with libuv
                return Err(e);
            }
            (*h).uv.data = count(link);
            Ok(UvIo(h))
        }
    }

    fn io_modify(&mut self, h: &mut UvIo, _fd: RawFd, i: Interest) -> io::Result<()> {
        // SAFETY: `h` is a live poll handle (held by the glue, not closed).
        unsafe {
            match events(i) {
                0 => check(uv::uv_poll_stop(&mut (*h.0).uv), "uv_poll_stop"),
                e => check(
                    uv::uv_poll_start(&mut (*h.0).uv, e, Some(poll_cb)),
                    "uv_poll_start",
                ),
            }
        }
    }

    fn io_close(&mut self, link: &Link<Self>, mut h: UvIo) {
        // Stop first: libuv drops the fd from its epoll set now, before the
        // core closes the fd (fd numbers are reused at once).
        let _ = self.io_modify(&mut h, -1, Interest::NONE);
        close(link, h.0 as *mut uv::uv_handle_t);
    }

    fn set_timer(&mut self, deadline: Option<Instant>) {
        let t = self.timer;
        if t.is_null() {
            return;
        }
        // SAFETY: the timer handle lives until `close_fixed` closes it and
        // clears `timer`.
        unsafe {
            uv::uv_timer_stop(&mut (*t).uv);
            if let Some(at) = deadline {
                // Refresh libuv's cached time so the timer cannot fire early.
                uv::uv_update_time(self.lp.raw());
                let wait = at.saturating_duration_since(Instant::now());
                let ms = wait.as_micros().div_ceil(1000) as u64;
                uv::uv_timer_start(&mut (*t).uv, Some(timer_cb), ms, 0);
            }
        }
    }

    fn set_forced(&mut self, on: bool) {
        if self.idle.is_null() || self.idle_on == on {
            return;
        }
        // SAFETY: the idle handle lives until `close_fixed` clears it.
        unsafe {
            if on {
                uv::uv_idle_start(&mut (*self.idle).uv, Some(idle_cb));
            } else {
                uv::uv_idle_stop(&mut (*self.idle).uv);
            }
        }
        self.idle_on = on;
    }

    fn close_fixed(&mut self, link: &Link<Self>) {
        let t = std::mem::replace(&mut self.timer, std::ptr::null_mut());
        let i = std::mem::replace(&mut self.idle, std::ptr::null_mut());
        for h in [t as *mut uv::uv_handle_t, i as *mut uv::uv_handle_t] {
            if !h.is_null() {
                close(link, h);
            }
        }
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
