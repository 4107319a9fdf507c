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
use lws_cglue::{Adapter, Link, Watchers};
use lws_core::{Interest, LoopEvent, Readiness, Token};

use super::host::EvBaseBox;

type Ptr = *const Adapter<EvWatchers>;

/// One descriptor's event (opaque: only `io_new` makes one).
#[derive(Debug)]
pub struct EvIo(*mut Slot);

/// One event and what its callback needs.
struct Slot {
    ev: *mut ev::event,
    token: u64,
    link: Ptr,
}

/// libevent's watcher operations for the glue.
pub struct EvWatchers {
    base: lws_cglue::Kept<EvBaseBox>,
    timer: *mut Slot,
    forced: *mut Slot,
}

impl std::fmt::Debug for EvWatchers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("EvWatchers")
    }
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

impl EvWatchers {
    /// A slot (not yet added) for `fd` (-1: none) calling `cb`.
    fn slot(
        &self,
        link: &Link<Self>,
        fd: c_int,
        token: u64,
        fl: c_short,
        cb: ev::event_callback_fn,
    ) -> io::Result<*mut Slot> {
        let slot = Box::into_raw(Box::new(Slot {
            ev: std::ptr::null_mut(),
            token,
            link: Rc::into_raw(link.clone()),
        }));
        // SAFETY: the base is valid (`Kept`); the slot box is leaked here
        // and reclaimed in `finalized`, or just below if libevent refuses.
        unsafe {
            let e = ev::event_new(self.base.raw(), fd, fl, cb, slot as *mut c_void);
            if e.is_null() {
                let slot = Box::from_raw(slot);
                drop(Rc::from_raw(slot.link));
                return Err(io::Error::other("event_new failed"));
            }
            (*slot).ev = e;
        }
        Ok(slot)
    }
}

/// Release a live slot exactly once: its finalizer completes the release.
fn release(link: &Link<EvWatchers>, slot: *mut Slot) {
    if slot.is_null() {
        return;
    }
    link.close_started();
    // SAFETY: callers give up `slot`; event_free_finalize is allowed from
    // callbacks and defers the free until no callback of it runs.
    unsafe { ev::event_free_finalize(0, (*slot).ev, Some(finalized)) };
}

impl Watchers for EvWatchers {
    type Owner = EvBaseBox;
    type Io = EvIo;
    const NAME: &'static str = "libevent";

    fn new(base: lws_cglue::Kept<EvBaseBox>) -> Self {
        EvWatchers {
            base,
            timer: std::ptr::null_mut(),
            forced: std::ptr::null_mut(),
        }
    }

    fn init(&mut self, link: &Link<Self>) -> io::Result<()> {
        self.timer = self.slot(link, -1, 0, 0, Some(timer_cb))?;
        self.forced = self.slot(link, -1, 0, 0, Some(forced_cb))?;
        Ok(())
    }

    fn io_new(&mut self, link: &Link<Self>, fd: RawFd, t: Token, i: Interest) -> io::Result<EvIo> {
        self.slot(link, fd, t.into_raw(), flags(i), Some(io_cb))
            .map(EvIo)
    }

    fn io_modify(&mut self, io: &mut EvIo, fd: RawFd, i: Interest) -> io::Result<()> {
        // SAFETY: `slot` is live (held by the glue); its event is
        // re-assigned only after `event_del`, as libevent requires.
        unsafe {
            let slot = io.0;
            let e = (*slot).ev;
            ev::event_del(e);
            if i == Interest::NONE {
                return Ok(());
            }
            let base = self.base.raw();
            if ev::event_assign(e, base, fd, flags(i), Some(io_cb), slot as *mut c_void) != 0
                || ev::event_add(e, std::ptr::null()) != 0
            {
                return Err(io::Error::other("event_add failed"));
            }
        }
        Ok(())
    }

    fn io_close(&mut self, link: &Link<Self>, io: EvIo) {
        // SAFETY: a live slot; event_del takes the fd out of the backend
        // now, before the core closes it.
        unsafe { ev::event_del((*io.0).ev) };
        release(link, io.0);
    }

    fn set_timer(&mut self, deadline: Option<Instant>) {
        if self.timer.is_null() {
            return;
        }
        // SAFETY: the timer slot lives until `close_fixed` clears it.
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

    fn set_forced(&mut self, on: bool) {
        if on && !self.forced.is_null() {
            // SAFETY: the forced slot lives until `close_fixed` clears it.
            unsafe { ev::event_active((*self.forced).ev, ev::EV_TIMEOUT as c_int, 0) };
        }
    }

    fn close_fixed(&mut self, link: &Link<Self>) {
        release(
            link,
            std::mem::replace(&mut self.timer, std::ptr::null_mut()),
        );
        release(
            link,
            std::mem::replace(&mut self.forced, std::ptr::null_mut()),
        );
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
