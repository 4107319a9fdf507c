//! The library's sd-event sources: one edge-triggered io source per
//! descriptor, the monotonic timer source and the defer source for forced
//! service, and their C callbacks, which hand every observation to the
//! shared glue.
//!
//! Ownership rules, relied on by every block below:
//! - sd-event frees a source when its last reference goes, and allows
//!   unreferencing a source from inside its own callback (it defers the
//!   free until the dispatch returns). So every release completes at once.
//! - Each source's userdata is a boxed `Slot` (the glue's) holding one
//!   strong count of the adapter, freed right after the source is disabled and
//!   unreferenced; the callback takes a count of its own for its duration.
//! - The loop outlives the sources: the `Kept` loop either keeps an owned
//!   loop alive or carries the host's promise.

use std::ffi::{c_int, c_void};
use std::io;
use std::os::fd::RawFd;
use std::time::Instant;

use libsystemd_sys::event as sd;
use lws_cglue::{Kind, Link, Source, Watchers};
use lws_core::{Interest, Readiness};

use super::host::SdEventBox;
use super::{CLOCK_MONOTONIC, check, monotonic_us};

const EPOLLIN: u32 = 0x001;
const EPOLLOUT: u32 = 0x004;
const EPOLLERR: u32 = 0x008;
const EPOLLHUP: u32 = 0x010;
/// Edge-triggered: sd-event runs one `epoll_wait` per dispatched source, so
/// level-triggered readiness would re-report every ready descriptor each time.
const EPOLLET: u32 = 1 << 31;

type Slot = lws_cglue::Slot<SdWatchers>;

/// One of the library's sources and its slot (opaque: only `add` makes
/// one).
#[derive(Debug)]
pub struct SdSource {
    src: *mut sd::sd_event_source,
    slot: *mut Slot,
}

/// sd-event's watcher operations for the glue.
#[derive(Debug)]
pub enum SdWatchers {}

type Lp = lws_cglue::Kept<SdEventBox>;

fn events(i: Interest) -> u32 {
    EPOLLET | (if i.readable { EPOLLIN } else { 0 }) | (if i.writable { EPOLLOUT } else { 0 })
}

fn free_slot(slot: *mut Slot) {
    // SAFETY: a slot made by `add`, freed once with (or instead of) its
    // source, giving back its count of the adapter.
    drop(unsafe { Box::from_raw(slot) });
}

fn enable(src: *mut sd::sd_event_source, on: c_int) -> io::Result<()> {
    // SAFETY: a live source.
    check(
        unsafe { sd::sd_event_source_set_enabled(src, on) },
        "enable",
    )
}

impl SdSource {
    /// The source, if it is of `kind`.
    fn of(&self, kind: Kind) -> Option<*mut sd::sd_event_source> {
        // SAFETY: a live slot of ours (held by the glue).
        (unsafe { (*self.slot).kind() } == kind).then_some(self.src)
    }
}

impl Watchers for SdWatchers {
    type Owner = SdEventBox;
    type Source = SdSource;
    const NAME: &'static str = "sd-event";
    const EDGE_TRIGGERED: bool = true;

    fn add(lp: &Lp, link: &Link<Self>, what: Source) -> io::Result<SdSource> {
        let slot = Box::into_raw(Box::new(Slot::new(link, &what)));
        let (e, d, mut src) = (lp.raw(), slot as *mut c_void, std::ptr::null_mut());
        // SAFETY: a valid loop (`Kept`); the out-pointer is ours; a
        // descriptor stays open until its Unwatch.
        let rc = unsafe {
            match what {
                Source::Io { fd, interest, .. } => {
                    sd::sd_event_add_io(e, &mut src, fd, events(interest), Some(io_cb), d)
                }
                Source::Timer => {
                    sd::sd_event_add_time(e, &mut src, CLOCK_MONOTONIC, 0, 1, Some(time_cb), d)
                }
                Source::Forced => sd::sd_event_add_defer(e, &mut src, Some(defer_cb), d),
            }
        };
        if let Err(err) = check(rc, "sd_event_add") {
            free_slot(slot);
            return Err(err);
        }
        let s = SdSource { src, slot };
        if !matches!(what, Source::Io { .. }) {
            enable(src, sd::SD_EVENT_OFF)?;
        }
        Ok(s)
    }

    fn watch(_: &Lp, s: &mut SdSource, _fd: RawFd, i: Interest) -> io::Result<()> {
        let src = s
            .of(Kind::Io)
            .ok_or_else(|| io::Error::other("not an io source"))?;
        if i == Interest::NONE {
            // Disabling also takes the fd out of sd-event's epoll set.
            return enable(src, sd::SD_EVENT_OFF);
        }
        // SAFETY: a live io source.
        let rc = unsafe { sd::sd_event_source_set_io_events(src, events(i)) };
        check(rc, "sd_event_source_set_io_events")?;
        enable(src, sd::SD_EVENT_ON)
    }

    fn arm(_: &Lp, s: &mut SdSource, deadline: Option<Instant>) {
        let Some(t) = s.of(Kind::Timer) else { return };
        let Some(at) = deadline else {
            let _ = enable(t, sd::SD_EVENT_OFF);
            return;
        };
        let wait = at.saturating_duration_since(Instant::now()).as_micros() as u64 + 1;
        // SAFETY: the live timer source.
        unsafe { sd::sd_event_source_set_time(t, monotonic_us() + wait) };
        let _ = enable(t, sd::SD_EVENT_ONESHOT);
    }

    fn force(_: &Lp, s: &mut SdSource, on: bool) {
        if let Some(d) = s.of(Kind::Forced) {
            let _ = enable(
                d,
                if on {
                    sd::SD_EVENT_ON
                } else {
                    sd::SD_EVENT_OFF
                },
            );
        }
    }

    fn release(_: &Lp, _link: &Link<Self>, s: SdSource) {
        // SAFETY: a live source given up by the glue, of which we own one
        // reference; disabling takes an fd out of the epoll set now, and
        // sd-event defers the free if it is dispatching the source.
        unsafe {
            sd::sd_event_source_set_enabled(s.src, sd::SD_EVENT_OFF);
            sd::sd_event_source_unref(s.src);
        }
        free_slot(s.slot);
    }
}

fn serve(data: *mut c_void, revents: u32) -> c_int {
    let r = Readiness {
        readable: revents & EPOLLIN != 0,
        writable: revents & EPOLLOUT != 0,
        hangup: revents & EPOLLHUP != 0,
        error: revents & EPOLLERR != 0,
    };
    // SAFETY: sd-event passes the userdata of a live source; nothing is
    // read from it after this (serving may free it).
    let (link, event) = unsafe { (*(data as *const Slot)).event(r) };
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
