//! The library's libev watchers (through the shim): one `ev_io` per
//! descriptor, the `ev_timer` and the `ev_idle` for forced service, and the
//! one C callback, which hands every observation to the shared glue.
//!
//! Ownership rules, relied on by every block below:
//! - libev stops and frees watchers synchronously, and allows freeing a
//!   watcher from inside its own callback (the shim's callback does not
//!   touch the watcher after calling us). So every release completes at
//!   once.
//! - Each watcher's `data` is a boxed `Slot` (the glue's) holding one
//!   strong count of the adapter, freed together with the watcher; the
//!   callback takes a count of its own for its duration.
//! - The loop outlives the watchers: the `Kept` loop either keeps an owned
//!   loop alive or carries the host's promise.

use std::ffi::{c_int, c_void};
use std::io;
use std::os::fd::RawFd;
use std::time::Instant;

use lws_cglue::{Kind, Link, Source, Watchers};
use lws_core::{Interest, Readiness};

use super::host::EvLoopBox;
use super::shim::*;

type Slot = lws_cglue::Slot<EvWatchers>;

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
    drop(unsafe { Box::from_raw(slot) });
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
        let k = unsafe { (*self.slot).kind() };
        (k == kind).then_some(self.w.cast())
    }
}

impl Watchers for EvWatchers {
    type Owner = EvLoopBox;
    type Source = EvSource;
    const NAME: &'static str = "libev";

    fn add(_: &Lp, link: &Link<Self>, what: Source) -> io::Result<EvSource> {
        let slot = Box::into_raw(Box::new(Slot::new(link, &what)));
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
        if let Some(i) = s.of(Kind::Forced) {
            // SAFETY: a live idle watcher on a valid loop.
            unsafe { lws_ev_idle_set(lp.raw(), i, c_int::from(on)) };
        }
    }

    fn release(lp: &Lp, _link: &Link<Self>, s: EvSource) {
        // SAFETY: stops and frees a live watcher given up by the glue,
        // exactly once, by its kind; then its slot.
        unsafe {
            match (*s.slot).kind() {
                Kind::Io => lws_ev_io_free(lp.raw(), s.w.cast()),
                Kind::Timer => lws_ev_timer_free(lp.raw(), s.w.cast()),
                Kind::Forced => lws_ev_idle_free(lp.raw(), s.w.cast()),
            }
        }
        free_slot(s.slot);
    }
}

unsafe extern "C" fn callback(data: *mut c_void, revents: c_int) {
    // SAFETY: constant getters.
    let r = unsafe {
        Readiness {
            readable: revents & lws_ev_read() != 0,
            writable: revents & lws_ev_write() != 0,
            hangup: false,
            error: revents & lws_ev_error() != 0,
        }
    };
    // SAFETY: `data` is the slot of a live watcher (it is running); nothing
    // is read from it after this (serving may free it).
    let (link, event) = unsafe { (*(data as *const Slot)).event(r) };
    link.serve(event);
}
