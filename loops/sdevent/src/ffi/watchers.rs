//! The library's sd-event sources: one edge-triggered io source per
//! descriptor, the monotonic timer source and the defer source for forced
//! service, and their C callbacks, which hand every observation to the
//! shared glue.
//!
//! Ownership rules, relied on by every block below:
//! - sd-event frees a source when its last reference goes, and allows
//!   unreferencing a source from inside its own callback (it defers the
//!   free until the dispatch returns). So every release completes at once.
//! - Each source's userdata is a boxed `Slot` holding one strong count of
//!   the adapter, freed right after the source is disabled and
//!   unreferenced; the callback takes a count of its own for its duration.
//! - The loop outlives the sources: the `Kept` loop either keeps an owned
//!   loop alive or carries the host's promise.

use std::ffi::{c_int, c_void};
use std::io;
use std::os::fd::RawFd;
use std::rc::Rc;
use std::time::Instant;

use libsystemd_sys::event as sd;
use lws_cglue::{Adapter, Link, Watchers};
use lws_core::{Interest, LoopEvent, Readiness, Token};

use super::host::SdEventBox;
use super::{CLOCK_MONOTONIC, check, monotonic_us};

type Ptr = *const Adapter<SdWatchers>;

const EPOLLIN: u32 = 0x001;
const EPOLLOUT: u32 = 0x004;
const EPOLLERR: u32 = 0x008;
const EPOLLHUP: u32 = 0x010;
/// Edge-triggered: sd-event runs one `epoll_wait` per dispatched source, so
/// level-triggered readiness would re-report every ready descriptor each time.
const EPOLLET: u32 = 1 << 31;

/// What a source's callback needs.
struct Slot {
    token: u64,
    kind: Kind,
    link: Ptr,
}

#[derive(Clone, Copy)]
enum Kind {
    Io,
    Timer,
    Defer,
}

/// An event source and its slot (opaque outside this module).
pub struct Source {
    src: *mut sd::sd_event_source,
    slot: *mut Slot,
}

impl std::fmt::Debug for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Source")
    }
}

/// sd-event's watcher operations for the glue.
pub struct SdWatchers {
    e: lws_cglue::Kept<SdEventBox>,
    timer: Option<Source>,
    defer: Option<Source>,
}

impl std::fmt::Debug for SdWatchers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SdWatchers")
    }
}

fn events(i: Interest) -> u32 {
    EPOLLET | (if i.readable { EPOLLIN } else { 0 }) | (if i.writable { EPOLLOUT } else { 0 })
}

/// Make a source with `add` (given the slot as userdata) around a new slot.
fn source(
    link: &Link<SdWatchers>,
    kind: Kind,
    token: u64,
    add: impl FnOnce(&mut *mut sd::sd_event_source, *mut c_void) -> c_int,
) -> io::Result<Source> {
    let slot = Box::into_raw(Box::new(Slot {
        token,
        kind,
        link: Rc::into_raw(link.clone()),
    }));
    let mut src = std::ptr::null_mut();
    if let Err(e) = check(add(&mut src, slot as *mut c_void), "sd_event_add") {
        free_slot(slot);
        return Err(e);
    }
    Ok(Source { src, slot })
}

fn free_slot(slot: *mut Slot) {
    // SAFETY: a slot made by `source`, freed once with (or instead of) its
    // source, giving back its count of the adapter.
    unsafe {
        let slot = Box::from_raw(slot);
        drop(Rc::from_raw(slot.link));
    }
}

/// Disable, unreference and free a source and its slot.
fn drop_source(s: Source) {
    // SAFETY: a live source we own one reference to, given up by the
    // caller; sd-event defers the actual free if it is dispatching it.
    unsafe {
        sd::sd_event_source_set_enabled(s.src, sd::SD_EVENT_OFF);
        sd::sd_event_source_unref(s.src);
    }
    free_slot(s.slot);
}

fn enable(src: *mut sd::sd_event_source, on: c_int) -> io::Result<()> {
    // SAFETY: a live source.
    check(
        unsafe { sd::sd_event_source_set_enabled(src, on) },
        "enable",
    )
}

impl Watchers for SdWatchers {
    type Owner = SdEventBox;
    type Io = Source;
    const NAME: &'static str = "sd-event";
    const EDGE_TRIGGERED: bool = true;

    fn new(e: lws_cglue::Kept<SdEventBox>) -> Self {
        SdWatchers {
            e,
            timer: None,
            defer: None,
        }
    }

    fn init(&mut self, link: &Link<Self>) -> io::Result<()> {
        let e = self.e.raw();
        // SAFETY: a valid loop (`Kept`); the out-pointer is ours.
        let timer = source(link, Kind::Timer, 0, |src, d| unsafe {
            sd::sd_event_add_time(e, src, CLOCK_MONOTONIC, 0, 1, Some(time_cb), d)
        })?;
        enable(timer.src, sd::SD_EVENT_OFF)?;
        self.timer = Some(timer);
        // SAFETY: as above.
        let defer = source(link, Kind::Defer, 0, |src, d| unsafe {
            sd::sd_event_add_defer(e, src, Some(defer_cb), d)
        })?;
        enable(defer.src, sd::SD_EVENT_OFF)?;
        self.defer = Some(defer);
        Ok(())
    }

    fn io_new(
        &mut self,
        link: &Link<Self>,
        fd: RawFd,
        t: Token,
        i: Interest,
    ) -> io::Result<Source> {
        let e = self.e.raw();
        // SAFETY: a valid loop; the fd stays open until its Unwatch.
        source(link, Kind::Io, t.into_raw(), |src, d| unsafe {
            sd::sd_event_add_io(e, src, fd, events(i), Some(io_cb), d)
        })
    }

    fn io_modify(&mut self, io: &mut Source, _fd: RawFd, i: Interest) -> io::Result<()> {
        if i == Interest::NONE {
            // Disabling also takes the fd out of sd-event's epoll set.
            return enable(io.src, sd::SD_EVENT_OFF);
        }
        // SAFETY: a live io source.
        let rc = unsafe { sd::sd_event_source_set_io_events(io.src, events(i)) };
        check(rc, "sd_event_source_set_io_events")?;
        enable(io.src, sd::SD_EVENT_ON)
    }

    fn io_close(&mut self, _link: &Link<Self>, io: Source) {
        drop_source(io);
    }

    fn set_timer(&mut self, deadline: Option<Instant>) {
        let Some(t) = &self.timer else { return };
        let Some(at) = deadline else {
            let _ = enable(t.src, sd::SD_EVENT_OFF);
            return;
        };
        let wait = at.saturating_duration_since(Instant::now()).as_micros() as u64 + 1;
        // SAFETY: the live timer source.
        unsafe { sd::sd_event_source_set_time(t.src, monotonic_us() + wait) };
        let _ = enable(t.src, sd::SD_EVENT_ONESHOT);
    }

    fn set_forced(&mut self, on: bool) {
        if let Some(d) = &self.defer {
            let _ = enable(
                d.src,
                if on {
                    sd::SD_EVENT_ON
                } else {
                    sd::SD_EVENT_OFF
                },
            );
        }
    }

    fn close_fixed(&mut self, _link: &Link<Self>) {
        for s in [self.timer.take(), self.defer.take()].into_iter().flatten() {
            drop_source(s);
        }
    }
}

fn serve(data: *mut c_void, revents: u32) -> c_int {
    // SAFETY: sd-event passes the userdata of a live source; read it and
    // take a count of the adapter before anything can free it.
    let (link, token, kind) = unsafe {
        let s = &*(data as *const Slot);
        Rc::increment_strong_count(s.link);
        (Rc::from_raw(s.link), s.token, s.kind)
    };
    let event = match kind {
        Kind::Io => LoopEvent::Io(
            Token::from_raw(token),
            Readiness {
                readable: revents & EPOLLIN != 0,
                writable: revents & EPOLLOUT != 0,
                hangup: revents & EPOLLHUP != 0,
                error: revents & EPOLLERR != 0,
            },
        ),
        Kind::Timer => LoopEvent::Timer,
        Kind::Defer => LoopEvent::Forced,
    };
    link.serve(event);
    0
}

unsafe extern "C" fn io_cb(
    _s: *mut sd::sd_event_source,
    _fd: c_int,
    revents: u32,
    data: *mut c_void,
) -> c_int {
    serve(data, revents)
}

unsafe extern "C" fn time_cb(_s: *mut sd::sd_event_source, _usec: u64, data: *mut c_void) -> c_int {
    serve(data, 0)
}

unsafe extern "C" fn defer_cb(_s: *mut sd::sd_event_source, data: *mut c_void) -> c_int {
    serve(data, 0)
}
