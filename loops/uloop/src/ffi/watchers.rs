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
use lws_cglue::{Adapter, Link, Source, Watchers};
use lws_core::{Interest, LoopEvent, Readiness, Token};

use super::host::UloopInit;
use super::raw::{UloopFd, UloopTimeout, uloop_cancelled};

type Ptr = *const Adapter<UloopWatchers>;

const ULOOP_READ: c_uint = ub::ULOOP_READ;
const ULOOP_WRITE: c_uint = ub::ULOOP_WRITE;
/// Report errors to the callback instead of uloop deleting the fd itself:
/// the core decides when a descriptor goes.
const ULOOP_ERROR_CB: c_uint = ub::ULOOP_ERROR_CB;

/// One of the library's fds or timeouts (opaque: only `add` makes one).
#[derive(Debug)]
pub struct UloopSource(Kind);

#[derive(Debug)]
enum Kind {
    Fd(*mut Watch),
    Timeout(*mut Tmo),
}

/// One descriptor's watcher.
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
#[derive(Debug)]
pub enum UloopWatchers {}

type Lp = lws_cglue::Kept<UloopInit>;

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

fn tmo(s: &UloopSource) -> Option<*mut Tmo> {
    match s.0 {
        Kind::Timeout(t) => Some(t),
        Kind::Fd(_) => None,
    }
}

/// Set (`Some(ms)`) or cancel a live timeout box of ours; uloop unlinks a
/// pending timeout before relinking it (`uloop_timeout_set`) or on cancel.
fn set(t: *mut Tmo, ms: Option<c_int>) {
    // SAFETY: a live timeout box (held by the glue).
    unsafe {
        match ms {
            Some(ms) => ub::uloop_timeout_set(t.cast(), ms),
            None => ub::uloop_timeout_cancel(t.cast()),
        };
    }
}

impl Watchers for UloopWatchers {
    type Owner = UloopInit;
    type Source = UloopSource;
    const NAME: &'static str = "uloop";

    fn add(_: &Lp, link: &Link<Self>, what: Source) -> io::Result<UloopSource> {
        let link = Rc::into_raw(link.clone());
        let kind = match what {
            Source::Io { fd, token, .. } => Kind::Fd(Box::into_raw(Box::new(Watch {
                ufd: UloopFd {
                    cb: Some(fd_cb),
                    fd,
                    eof: false,
                    error: false,
                    registered: false,
                    flags: 0,
                },
                token: token.into_raw(),
                link,
            }))),
            Source::Timer | Source::Forced => Kind::Timeout(Box::into_raw(Box::new(Tmo {
                t: UloopTimeout::new(tmo_cb),
                forced: matches!(what, Source::Forced),
                link,
            }))),
        };
        Ok(UloopSource(kind))
    }

    fn watch(_: &Lp, s: &mut UloopSource, _fd: RawFd, i: Interest) -> io::Result<()> {
        let Kind::Fd(w) = s.0 else {
            return Err(io::Error::other("not an fd watcher"));
        };
        // SAFETY: a live watcher box; no interest at all deletes the fd from
        // epoll (uloop_fd_add calls uloop_fd_delete), re-adding restores it.
        let rc = unsafe {
            if i == Interest::NONE {
                ub::uloop_fd_delete(w.cast())
            } else {
                ub::uloop_fd_add(w.cast(), flags(i))
            }
        };
        check(rc, "uloop_fd_add")
    }

    fn arm(_: &Lp, s: &mut UloopSource, deadline: Option<Instant>) {
        // uloop timeouts have millisecond resolution: round up, so a timer
        // never fires before its deadline by more than uloop's own rounding
        // (the core re-arms when woken early).
        let ms = deadline.map(|at| {
            let us = at.saturating_duration_since(Instant::now()).as_micros();
            us.div_ceil(1000).min(c_int::MAX as u128) as c_int
        });
        if let Some(t) = tmo(s) {
            set(t, ms);
        }
    }

    fn force(_: &Lp, s: &mut UloopSource, on: bool) {
        if let Some(t) = tmo(s) {
            set(t, on.then_some(0));
        }
    }

    fn release(_: &Lp, _link: &Link<Self>, s: UloopSource) {
        // SAFETY: a live box given up by the glue. Deleting an fd removes it
        // from epoll and from uloop's pending batch, cancelling unlinks a
        // timeout: then uloop holds no pointer to the box, which is freed
        // with its count of the adapter.
        let link = unsafe {
            match s.0 {
                Kind::Fd(w) => {
                    ub::uloop_fd_delete(w.cast());
                    Box::from_raw(w).link
                }
                Kind::Timeout(t) => {
                    ub::uloop_timeout_cancel(t.cast());
                    Box::from_raw(t).link
                }
            }
        };
        // SAFETY: the count the box held.
        drop(unsafe { Rc::from_raw(link) });
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
