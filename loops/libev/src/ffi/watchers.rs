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

use lws_cglue::{Adapter, Link, Watchers};
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

#[derive(Clone, Copy)]
enum Kind {
    Io,
    Timer,
    Idle,
}

/// A watcher and its slot (opaque outside this module).
pub struct Watch<T> {
    w: *mut T,
    slot: *mut Slot,
}

impl<T> std::fmt::Debug for Watch<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Watch")
    }
}

/// libev's watcher operations for the glue.
pub struct EvWatchers {
    l: lws_cglue::Kept<EvLoopBox>,
    timer: Option<Watch<TimerW>>,
    idle: Option<Watch<IdleW>>,
}

impl std::fmt::Debug for EvWatchers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("EvWatchers")
    }
}

/// Allocate a watcher with `new` around a fresh slot.
fn watch<T>(
    link: &Link<EvWatchers>,
    kind: Kind,
    token: u64,
    new: impl FnOnce(*mut c_void) -> *mut T,
) -> io::Result<Watch<T>> {
    let slot = Box::into_raw(Box::new(Slot {
        token,
        kind,
        link: Rc::into_raw(link.clone()),
    }));
    let w = new(slot as *mut c_void);
    if w.is_null() {
        free_slot(slot);
        return Err(io::Error::other("libev watcher allocation failed"));
    }
    Ok(Watch { w, slot })
}

fn free_slot(slot: *mut Slot) {
    // SAFETY: a slot made by `watch`, freed once with (or instead of) its
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

impl Watchers for EvWatchers {
    type Owner = EvLoopBox;
    type Io = Watch<IoW>;
    const NAME: &'static str = "libev";

    fn new(l: lws_cglue::Kept<EvLoopBox>) -> Self {
        EvWatchers {
            l,
            timer: None,
            idle: None,
        }
    }

    fn init(&mut self, link: &Link<Self>) -> io::Result<()> {
        // SAFETY: shim constructors; null means allocation failure.
        self.timer = Some(watch(link, Kind::Timer, 0, |d| unsafe {
            lws_ev_timer_new(callback, d)
        })?);
        // SAFETY: as above.
        self.idle = Some(watch(link, Kind::Idle, 0, |d| unsafe {
            lws_ev_idle_new(callback, d)
        })?);
        Ok(())
    }

    fn io_new(
        &mut self,
        link: &Link<Self>,
        fd: RawFd,
        t: Token,
        _: Interest,
    ) -> io::Result<Watch<IoW>> {
        // SAFETY: shim constructor; the fd stays open until its Unwatch.
        watch(link, Kind::Io, t.into_raw(), |d| unsafe {
            lws_ev_io_new(fd, callback, d)
        })
    }

    fn io_modify(&mut self, io: &mut Watch<IoW>, _fd: RawFd, i: Interest) -> io::Result<()> {
        // SAFETY: a live watcher on a valid loop.
        unsafe { lws_ev_io_set(self.l.raw(), io.w, events(i)) };
        Ok(())
    }

    fn io_close(&mut self, _link: &Link<Self>, io: Watch<IoW>) {
        // SAFETY: stops and frees a live watcher exactly once (the glue
        // gave it up), then its slot.
        unsafe { lws_ev_io_free(self.l.raw(), io.w) };
        free_slot(io.slot);
    }

    fn set_timer(&mut self, deadline: Option<Instant>) {
        let Some(t) = &self.timer else { return };
        // Refresh libev's cached time so the timer cannot fire early.
        // SAFETY: the live timer on a valid loop.
        unsafe {
            lws_ev_now_update(self.l.raw());
            let after = deadline.map_or(-1.0, |at| {
                at.saturating_duration_since(Instant::now()).as_secs_f64() + 1e-6
            });
            lws_ev_timer_set(self.l.raw(), t.w, after);
        }
    }

    fn set_forced(&mut self, on: bool) {
        if let Some(i) = &self.idle {
            // SAFETY: the live idle watcher on a valid loop.
            unsafe { lws_ev_idle_set(self.l.raw(), i.w, c_int::from(on)) };
        }
    }

    fn close_fixed(&mut self, _link: &Link<Self>) {
        // SAFETY: each freed exactly once (taken out of `self`).
        unsafe {
            if let Some(t) = self.timer.take() {
                lws_ev_timer_free(self.l.raw(), t.w);
                free_slot(t.slot);
            }
            if let Some(i) = self.idle.take() {
                lws_ev_idle_free(self.l.raw(), i.w);
                free_slot(i.slot);
            }
        }
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
