//! The library's uloop watchers: one `uloop_fd` per descriptor
//! (level-triggered, with `ULOOP_ERROR_CB` so uloop never deletes a
//! descriptor behind the core's back), the scheduler's `uloop_timeout`
//! (millisecond resolution, rounded up) and a zero-delay timeout for forced
//! service, and their C callbacks, which hand every observation to the
//! shared glue.
//!
//! Ownership rules, relied on by every block below:
//! - Each watcher is a boxed `#[repr(C)]` struct whose first field is the
//!   uloop struct, so the pointer uloop hands to a callback leads back to
//!   our token. uloop tolerates deleting any fd from inside a callback (it
//!   clears the fd from its pending batch), so boxes are freed right after
//!   `uloop_fd_delete`/`uloop_timeout_cancel`: every release completes at
//!   once.
//! - Each box holds one strong count of the adapter, released when it is
//!   freed; a callback takes a count of its own for its duration.
//! - uloop stays initialised while the watchers live: the `Kept` uloop
//!   either keeps a Rust host's or the owned run's hold alive or carries
//!   a C host's promise.

use std::ffi::{c_int, c_uint};
use std::io;
use std::os::fd::RawFd;
use std::rc::Rc;
use std::time::Instant;

use libubox_sys as ub;
use lws_cglue::{Adapter, Link, Watchers};
use lws_core::{Interest, LoopEvent, Readiness, Token};

use super::host::UloopInit;
use super::raw::{UloopFd, UloopTimeout, uloop_cancelled};

type Ptr = *const Adapter<UloopWatchers>;

const ULOOP_READ: c_uint = ub::ULOOP_READ;
const ULOOP_WRITE: c_uint = ub::ULOOP_WRITE;
/// Report errors to the callback instead of uloop deleting the fd itself:
/// the core decides when a descriptor goes.
const ULOOP_ERROR_CB: c_uint = ub::ULOOP_ERROR_CB;

/// One descriptor's watcher (opaque: only `io_new` makes one).
#[derive(Debug)]
pub struct UloopIo(*mut Watch);

#[repr(C)]
struct Watch {
    ufd: UloopFd,
    token: u64,
    link: Ptr,
}

/// The scheduler's timer, or the zero-delay timeout used for forced work.
#[repr(C)]
struct Tmo {
    t: UloopTimeout,
    forced: bool,
    link: Ptr,
}

/// uloop's watcher operations for the glue.
pub struct UloopWatchers {
    _keep: lws_cglue::Kept<UloopInit>,
    timer: *mut Tmo,
    defer: *mut Tmo,
}

impl std::fmt::Debug for UloopWatchers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("UloopWatchers")
    }
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

fn new_tmo(link: &Link<UloopWatchers>, forced: bool) -> *mut Tmo {
    Box::into_raw(Box::new(Tmo {
        t: UloopTimeout::new(tmo_cb),
        forced,
        link: Rc::into_raw(link.clone()),
    }))
}

fn arm(t: *mut Tmo, ms: Option<c_int>) {
    if t.is_null() {
        return;
    }
    // SAFETY: a live timeout box of ours; uloop unlinks a pending timeout
    // before relinking it (`uloop_timeout_set`) or on cancel.
    unsafe {
        match ms {
            Some(ms) => ub::uloop_timeout_set(t.cast(), ms),
            None => ub::uloop_timeout_cancel(t.cast()),
        };
    }
}

fn free_tmo(t: *mut Tmo) {
    if t.is_null() {
        return;
    }
    // SAFETY: cancelling unlinks it from uloop's list; then the box and
    // its count are ours.
    unsafe {
        ub::uloop_timeout_cancel(t.cast());
        let t = Box::from_raw(t);
        drop(Rc::from_raw(t.link));
    }
}

impl Watchers for UloopWatchers {
    type Owner = UloopInit;
    type Io = UloopIo;
    const NAME: &'static str = "uloop";

    fn new(keep: lws_cglue::Kept<UloopInit>) -> Self {
        UloopWatchers {
            _keep: keep,
            timer: std::ptr::null_mut(),
            defer: std::ptr::null_mut(),
        }
    }

    fn init(&mut self, link: &Link<Self>) -> io::Result<()> {
        self.timer = new_tmo(link, false);
        self.defer = new_tmo(link, true);
        Ok(())
    }

    fn io_new(
        &mut self,
        link: &Link<Self>,
        fd: RawFd,
        t: Token,
        _: Interest,
    ) -> io::Result<UloopIo> {
        Ok(UloopIo(Box::into_raw(Box::new(Watch {
            ufd: UloopFd {
                cb: Some(fd_cb),
                fd,
                eof: false,
                error: false,
                registered: false,
                flags: 0,
            },
            token: t.into_raw(),
            link: Rc::into_raw(link.clone()),
        }))))
    }

    fn io_modify(&mut self, w: &mut UloopIo, _fd: RawFd, i: Interest) -> io::Result<()> {
        // SAFETY: a live watcher box; no interest at all deletes the fd from
        // epoll (uloop_fd_add calls uloop_fd_delete), re-adding restores it.
        let rc = unsafe {
            if i == Interest::NONE {
                ub::uloop_fd_delete(w.0.cast())
            } else {
                ub::uloop_fd_add(w.0.cast(), flags(i))
            }
        };
        check(rc, "uloop_fd_add")
    }

    fn io_close(&mut self, _link: &Link<Self>, UloopIo(w): UloopIo) {
        // SAFETY: deleting removes it from epoll and from uloop's pending
        // batch, after which uloop holds no pointer to the box.
        unsafe {
            ub::uloop_fd_delete(w.cast());
            let w = Box::from_raw(w);
            drop(Rc::from_raw(w.link));
        }
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

    fn set_forced(&mut self, on: bool) {
        arm(self.defer, on.then_some(0));
    }

    fn close_fixed(&mut self, _link: &Link<Self>) {
        free_tmo(std::mem::replace(&mut self.timer, std::ptr::null_mut()));
        free_tmo(std::mem::replace(&mut self.defer, std::ptr::null_mut()));
    }
}

/// Serve `event` on the adapter `link` points to (a live watcher's).
fn serve(link: Ptr, event: LoopEvent) {
    // SAFETY: the watcher that called holds a count, so the adapter is
    // live; take one of our own for this callback.
    let link = unsafe {
        Rc::increment_strong_count(link);
        Rc::from_raw(link)
    };
    if link.serve(event) {
        // Owned run: return from `uloop_run_timeout` before it waits, so
        // the event is served now (after a timeout callback it would
        // otherwise block in epoll first).
        // SAFETY: a plain flag of the single-threaded uloop, read by the
        // `uloop_run_timeout` call this callback runs in.
        unsafe { uloop_cancelled = true };
    }
}

unsafe extern "C" fn fd_cb(u: *mut UloopFd, events: c_uint) {
    // SAFETY: uloop passes the `UloopFd` first field of a live `Watch`.
    let (link, token, eof, error) = unsafe {
        let w = &*(u as *const Watch);
        (w.link, w.token, w.ufd.eof, w.ufd.error)
    };
    let r = Readiness {
        readable: events & ULOOP_READ != 0,
        writable: events & ULOOP_WRITE != 0,
        hangup: eof,
        error,
    };
    serve(link, LoopEvent::Io(Token::from_raw(token), r));
}

unsafe extern "C" fn tmo_cb(t: *mut UloopTimeout) {
    // SAFETY: uloop passes the `UloopTimeout` first field of a live `Tmo`.
    let (link, forced) = unsafe {
        let t = &*(t as *const Tmo);
        (t.link, t.forced)
    };
    let event = if forced {
        LoopEvent::Forced
    } else {
        LoopEvent::Timer
    };
    serve(link, event);
}
