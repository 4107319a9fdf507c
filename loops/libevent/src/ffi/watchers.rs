//! The library's libevent events: one persistent `event` per descriptor
//! (re-assigned when its interest changes), the timer event and the event
//! activated for forced service, and their C callbacks, which hand every
//! observation to the shared glue.
//!
//! Ownership rules, relied on by every block below:
//! - Each `Slot` (one `event` plus what its callback needs) is a `Box`
//!   leaked when created and reclaimed in its finalizer
//!   (`event_free_finalize`), which libevent runs once no callback of that
//!   event can still be running; so a slot may be released from inside its
//!   own callback.
//! - Each slot holds one strong count of the adapter, released in the
//!   finalizer, so the adapter outlives every event that can call into it.
//! - The base outlives the events: the `Kept` base either keeps an owned
//!   base alive or carries the host's promise.
//! - All of it runs on the base's thread (nothing here is `Send`).

use std::ffi::{c_int, c_short, c_void};
use std::io;
use std::os::fd::RawFd;
use std::rc::Rc;
use std::time::Instant;

use libevent_sys as ev;
use lws_cglue::{Adapter, Link, Source, Watchers};
use lws_core::{Interest, LoopEvent, Readiness, Token};

use super::host::EvBaseBox;

type Ptr = *const Adapter<EvWatchers>;

/// One of the library's events (opaque: only `add` makes one).
#[derive(Debug)]
pub struct EvSource(*mut Slot);

/// One event and what its callback needs.
struct Slot {
    ev: *mut ev::event,
    token: u64,
    link: Ptr,
}

/// libevent's watcher operations for the glue.
#[derive(Debug)]
pub enum EvWatchers {}

type Lp = lws_cglue::Kept<EvBaseBox>;

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

/// A slot (not yet added) for `fd` (-1: none) calling `cb`.
fn slot(
    lp: &Lp,
    link: &Link<EvWatchers>,
    fd: c_int,
    token: u64,
    fl: c_short,
    cb: Cb,
) -> io::Result<EvSource> {
    let slot = Box::into_raw(Box::new(Slot {
        ev: std::ptr::null_mut(),
        token,
        link: Rc::into_raw(link.clone()),
    }));
    // SAFETY: the base is valid (`Kept`); the slot box is leaked here and
    // reclaimed in `finalized`, or just below if libevent refuses.
    unsafe {
        let e = ev::event_new(lp.raw(), fd, fl, Some(cb), slot as *mut c_void);
        if e.is_null() {
            let slot = Box::from_raw(slot);
            drop(Rc::from_raw(slot.link));
            return Err(io::Error::other("event_new failed"));
        }
        (*slot).ev = e;
    }
    Ok(EvSource(slot))
}

type Cb = unsafe extern "C" fn(c_int, c_short, *mut c_void);

impl Watchers for EvWatchers {
    type Owner = EvBaseBox;
    type Source = EvSource;
    const NAME: &'static str = "libevent";

    fn add(lp: &Lp, link: &Link<Self>, what: Source) -> io::Result<EvSource> {
        match what {
            Source::Io {
                fd,
                token,
                interest,
            } => slot(lp, link, fd, token.into_raw(), flags(interest), io_cb),
            Source::Timer => slot(lp, link, -1, 0, 0, timer_cb),
            Source::Forced => slot(lp, link, -1, 0, 0, forced_cb),
        }
    }

    fn watch(lp: &Lp, s: &mut EvSource, fd: RawFd, i: Interest) -> io::Result<()> {
        // SAFETY: a live slot (held by the glue); its event is re-assigned
        // only after `event_del`, as libevent requires.
        unsafe {
            let e = (*s.0).ev;
            ev::event_del(e);
            if i == Interest::NONE {
                return Ok(());
            }
            let arg = s.0 as *mut c_void;
            if ev::event_assign(e, lp.raw(), fd, flags(i), Some(io_cb), arg) != 0
                || ev::event_add(e, std::ptr::null()) != 0
            {
                return Err(io::Error::other("event_add failed"));
            }
        }
        Ok(())
    }

    fn arm(_: &Lp, s: &mut EvSource, deadline: Option<Instant>) {
        // SAFETY: the live timer slot.
        unsafe {
            let e = (*s.0).ev;
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

    fn force(_: &Lp, s: &mut EvSource, on: bool) {
        if on {
            // SAFETY: the live forced slot: activate it for the next round.
            unsafe { ev::event_active((*s.0).ev, ev::EV_TIMEOUT as c_int, 0) };
        }
    }

    fn release(_: &Lp, link: &Link<Self>, s: EvSource) {
        link.close_started();
        // SAFETY: a live slot given up by the glue: event_del takes an fd
        // out of the backend now, before the core closes it;
        // event_free_finalize (allowed from callbacks) frees it once no
        // callback of it runs, in `finalized`.
        unsafe {
            ev::event_del((*s.0).ev);
            ev::event_free_finalize(0, (*s.0).ev, Some(finalized));
        }
    }
}

/// Serve one observation of the live slot `arg`.
fn serve(arg: *mut c_void, what: impl FnOnce(u64) -> LoopEvent) {
    // SAFETY: libevent passes the slot we registered; it and the adapter it
    // counts are live until its finalizer, which cannot run during this
    // callback. The callback takes a count of its own.
    let (link, token) = unsafe {
        let slot = &*(arg as *const Slot);
        Rc::increment_strong_count(slot.link);
        (Rc::from_raw(slot.link), slot.token)
    };
    link.serve(what(token));
}

unsafe extern "C" fn io_cb(_fd: c_int, what: c_short, arg: *mut c_void) {
    let r = Readiness {
        readable: what & ev::EV_READ as c_short != 0,
        writable: what & ev::EV_WRITE as c_short != 0,
        hangup: false,
        error: false,
    };
    serve(arg, |t| LoopEvent::Io(Token::from_raw(t), r));
}

unsafe extern "C" fn timer_cb(_fd: c_int, _what: c_short, arg: *mut c_void) {
    serve(arg, |_| LoopEvent::Timer);
}

unsafe extern "C" fn forced_cb(_fd: c_int, _what: c_short, arg: *mut c_void) {
    serve(arg, |_| LoopEvent::Forced);
}

unsafe extern "C" fn finalized(_e: *mut ev::event, arg: *mut c_void) {
    // SAFETY: libevent calls this once, after which the event is freed and
    // no callback of it can run: reclaim the slot and take over its count.
    let link = unsafe {
        let slot = Box::from_raw(arg as *mut Slot);
        Rc::from_raw(slot.link)
    };
    link.closed();
}
