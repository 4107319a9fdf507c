//! The library's libev watchers (through the shim): one `ev_io` per
//! descriptor, the `ev_timer` and the `ev_idle` for forced service, and the
//! one C callback, which hands every observation to the shared glue.
//!
//! Ownership rules, relied on by every block below:
//! - libev stops and frees watchers synchronously, and allows freeing a
//!   watcher from inside its own callback (the shim's callback does not
//!   touch the watcher after calling us). So every release completes at
//!   once.
//! - Each watcher's `data` is a boxed `Slot` holding one strong count of
//!   the adapter, freed together with the watcher; the callback takes a
//!   count of its own for its duration.
//! - The loop outlives the watchers: the `Kept` loop either keeps an owned
//!   loop alive or carries the host's promise.

use std::ffi::{c_int, c_void};
use std::io;
use std::os::fd::RawFd;
use std::rc::Rc;
use std::time::Instant;

use lws_cglue::{Adapter, Link, Source, Watchers};
use lws_core::{Interest, LoopEvent, Readiness, Token};

use super::host::EvLoopBox;
use super::shim::*;

type Ptr = *const Adapter<EvWatchers>;

/// What a watcher's callback needs.
struct Slot {
    token: u64,
    kind: Kind,
    link: Ptr,
}

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Io,
    Timer,
    Idle,
}

/// One of the library's watchers and its slot (opaque: only `add` makes
/// one).
#[derive(Debug)]
pub struct EvSource {
    w: *mut c_void,
    slot: *mut Slot,
}

/// libev's watcher operations for the glue.
#[derive(Debug)]
pub enum EvWatchers {}

type Lp = lws_cglue::Kept<EvLoopBox>;

fn free_slot(slot: *mut Slot) {
    // SAFETY: a slot made by `add`, freed once with (or instead of) its
    // watcher, giving back its count of the adapter.
    unsafe {
        let slot = Box::from_raw(slot);
        drop(Rc::from_raw(slot.link));
    }
}

fn events(i: Interest) -> c_int {
    // SAFETY: constant getters.
    unsafe {
        (if i.readable { lws_ev_read() } else { 0 }) | (if i.writable { lws_ev_write() } else { 0 })
    }
}

impl EvSource {
    /// The watcher, if this source is of `kind`.
    fn of<T>(&self, kind: Kind) -> Option<*mut T> {
        // SAFETY: a live slot of ours (held by the glue).
        let k = unsafe { (*self.slot).kind };
        (k == kind).then_some(self.w.cast())
    }
}

impl Watchers for EvWatchers {
    type Owner = EvLoopBox;
    type Source = EvSource;
    const NAME: &'static str = "libev";

    fn add(_: &Lp, link: &Link<Self>, what: Source) -> io::Result<EvSource> {
        let (kind, token) = match what {
            Source::Io { token, .. } => (Kind::Io, token.into_raw()),
            Source::Timer => (Kind::Timer, 0),
            Source::Forced => (Kind::Idle, 0),
        };
        let slot = Box::into_raw(Box::new(Slot {
            token,
            kind,
            link: Rc::into_raw(link.clone()),
        }));
        let d = slot as *mut c_void;
        // SAFETY: shim constructors (null: allocation failure); a
        // descriptor stays open until its Unwatch.
        let w: *mut c_void = unsafe {
            match what {
                Source::Io { fd, .. } => lws_ev_io_new(fd, callback, d).cast(),
                Source::Timer => lws_ev_timer_new(callback, d).cast(),
                Source::Forced => lws_ev_idle_new(callback, d).cast(),
            }
        };
        if w.is_null() {
            free_slot(slot);
            return Err(io::Error::other("libev watcher allocation failed"));
        }
        Ok(EvSource { w, slot })
    }

    fn watch(lp: &Lp, s: &mut EvSource, _fd: RawFd, i: Interest) -> io::Result<()> {
        let w = s
            .of(Kind::Io)
            .ok_or_else(|| io::Error::other("not an io watcher"))?;
        // SAFETY: a live io watcher on a valid loop.
        unsafe { lws_ev_io_set(lp.raw(), w, events(i)) };
        Ok(())
    }

    fn arm(lp: &Lp, s: &mut EvSource, deadline: Option<Instant>) {
        let Some(t) = s.of(Kind::Timer) else { return };
        let after = deadline.map_or(-1.0, |at| {
            at.saturating_duration_since(Instant::now()).as_secs_f64() + 1e-6
        });
        // SAFETY: a live timer on a valid loop; libev's cached time is
        // refreshed first so the timer cannot fire early.
        unsafe {
            lws_ev_now_update(lp.raw());
            lws_ev_timer_set(lp.raw(), t, after);
        }
    }

    fn force(lp: &Lp, s: &mut EvSource, on: bool) {
        if let Some(i) = s.of(Kind::Idle) {
            // SAFETY: a live idle watcher on a valid loop.
            unsafe { lws_ev_idle_set(lp.raw(), i, c_int::from(on)) };
        }
    }

    fn release(lp: &Lp, _link: &Link<Self>, s: EvSource) {
        // SAFETY: stops and frees a live watcher given up by the glue,
        // exactly once, by its kind; then its slot.
        unsafe {
            match (*s.slot).kind {
                Kind::Io => lws_ev_io_free(lp.raw(), s.w.cast()),
                Kind::Timer => lws_ev_timer_free(lp.raw(), s.w.cast()),
                Kind::Idle => lws_ev_idle_free(lp.raw(), s.w.cast()),
            }
        }
        free_slot(s.slot);
    }
}

unsafe extern "C" fn callback(data: *mut c_void, revents: c_int) {
    // SAFETY: `data` is the slot of a live watcher (it is running); read it
    // and take a count of the adapter before anything may free it.
    let (link, token, kind) = unsafe {
        let s = &*(data as *const Slot);
        Rc::increment_strong_count(s.link);
        (Rc::from_raw(s.link), s.token, s.kind)
    };
    let event = match kind {
        // SAFETY: constant getters.
        Kind::Io => LoopEvent::Io(Token::from_raw(token), unsafe {
            Readiness {
                readable: revents & lws_ev_read() != 0,
                writable: revents & lws_ev_write() != 0,
                hangup: false,
                error: revents & lws_ev_error() != 0,
            }
        }),
        Kind::Timer => LoopEvent::Timer,
        Kind::Idle => LoopEvent::Forced,
    };
    link.serve(event);
}
