//! Everything that calls sd-event. The only file of this crate with
//! `unsafe`.
//!
//! sd-event frees a source when its last reference goes, and allows
//! unreferencing a source from inside its own callback (it defers the free
//! until the dispatch returns). Each source's userdata is a boxed `Slot`
//! freed right after the source is disabled and unreferenced; callbacks keep
//! the shared state alive for their own duration with a strong count.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::ffi::{c_int, c_void};
use std::io;
use std::os::fd::RawFd;
use std::rc::Rc;
use std::time::Instant;

use libsystemd_sys::event as sd;
use lws_core::{Context, EventLib, Interest, LoopEvent, Readiness, Token};

use crate::state::{Shared, Sink, Source};

type SharedPtr = *const RefCell<Shared>;

const EPOLLIN: u32 = 0x001;
const EPOLLOUT: u32 = 0x004;
const EPOLLERR: u32 = 0x008;
const EPOLLHUP: u32 = 0x010;
/// Edge-triggered: sd-event runs one `epoll_wait` per dispatched source, so
/// level-triggered readiness would re-report every ready descriptor each time.
const EPOLLET: u32 = 1 << 31;
const CLOCK_MONOTONIC: c_int = 1;

/// An sd-event loop the library may add sources to.
#[derive(Debug, Clone, Copy)]
pub struct HostEvent(*mut sd::sd_event);

impl HostEvent {
    /// Wrap a host's `sd_event *`.
    ///
    /// # Safety
    /// `e` must be a valid `sd_event` that stays valid, and is only run on
    /// the current thread, until the attachment made with it is detached.
    pub unsafe fn from_raw(e: *mut c_void) -> Self {
        HostEvent(e as *mut sd::sd_event)
    }

    pub(crate) fn raw(self) -> *mut sd::sd_event {
        self.0
    }
}

pub(crate) fn rewrap(e: *mut sd::sd_event) -> HostEvent {
    HostEvent(e)
}

pub(crate) struct Slot {
    token: u64,
    kind: Kind,
    shared: SharedPtr,
}

#[derive(Clone, Copy)]
enum Kind {
    Io,
    Timer,
    Defer,
}

fn check(rc: c_int, what: &str) -> io::Result<()> {
    if rc < 0 {
        Err(io::Error::other(format!(
            "{what}: {}",
            io::Error::from_raw_os_error(-rc)
        )))
    } else {
        Ok(())
    }
}

fn new_slot(shared: SharedPtr, kind: Kind, token: u64) -> *mut Slot {
    Box::into_raw(Box::new(Slot {
        token,
        kind,
        shared,
    }))
}

fn events(i: Interest) -> u32 {
    EPOLLET | (if i.readable { EPOLLIN } else { 0 }) | (if i.writable { EPOLLOUT } else { 0 })
}

/// Disable, unreference and free a source and its slot.
fn drop_source(s: Source) {
    // SAFETY: a live source we own one reference to; sd-event defers the
    // actual free if it is dispatching it right now; the slot is freed once.
    unsafe {
        sd::sd_event_source_set_enabled(s.src, sd::SD_EVENT_OFF);
        sd::sd_event_source_unref(s.src);
        drop(Box::from_raw(s.slot));
    }
}

/// Create the timer and defer sources of a new attachment (both off).
pub(crate) fn init(e: HostEvent, shared: &Rc<RefCell<Shared>>) -> io::Result<()> {
    let ptr = Rc::as_ptr(shared);
    let (ts, ds) = (new_slot(ptr, Kind::Timer, 0), new_slot(ptr, Kind::Defer, 0));
    let mut t = std::ptr::null_mut();
    let mut d = std::ptr::null_mut();
    // SAFETY: valid loop (HostEvent contract); out-pointers are ours.
    unsafe {
        check(
            sd::sd_event_add_time(
                e.0,
                &mut t,
                CLOCK_MONOTONIC,
                0,
                1,
                Some(time_cb),
                ts as *mut c_void,
            ),
            "sd_event_add_time",
        )?;
        sd::sd_event_source_set_enabled(t, sd::SD_EVENT_OFF);
        check(
            sd::sd_event_add_defer(e.0, &mut d, Some(defer_cb), ds as *mut c_void),
            "sd_event_add_defer",
        )?;
        sd::sd_event_source_set_enabled(d, sd::SD_EVENT_OFF);
    }
    let mut s = shared.borrow_mut();
    s.timer = Some(Source { src: t, slot: ts });
    s.defer = Some(Source { src: d, slot: ds });
    Ok(())
}

pub(crate) struct Watchers<'a> {
    pub e: HostEvent,
    pub ptr: SharedPtr,
    pub ios: &'a mut HashMap<RawFd, Source>,
    pub timer: Option<*mut sd::sd_event_source>,
}

fn set_io(src: *mut sd::sd_event_source, i: Interest) -> io::Result<()> {
    // SAFETY: a live io source.
    unsafe {
        if i == Interest::NONE {
            return check(
                sd::sd_event_source_set_enabled(src, sd::SD_EVENT_OFF),
                "disable",
            );
        }
        check(
            sd::sd_event_source_set_io_events(src, events(i)),
            "sd_event_source_set_io_events",
        )?;
        check(
            sd::sd_event_source_set_enabled(src, sd::SD_EVENT_ON),
            "enable",
        )
    }
}

impl EventLib for Watchers<'_> {
    fn name(&self) -> &'static str {
        "sd-event"
    }

    fn watch(&mut self, fd: RawFd, token: Token, interest: Interest) -> io::Result<()> {
        let slot = new_slot(self.ptr, Kind::Io, token.into_raw());
        let mut src = std::ptr::null_mut();
        // SAFETY: valid loop; the fd stays open until its Unwatch.
        let rc = unsafe {
            sd::sd_event_add_io(
                self.e.0,
                &mut src,
                fd,
                events(interest),
                Some(io_cb),
                slot as *mut c_void,
            )
        };
        if let Err(e) = check(rc, "sd_event_add_io") {
            // SAFETY: the slot was never handed to a source.
            unsafe { drop(Box::from_raw(slot)) };
            return Err(e);
        }
        self.ios.insert(fd, Source { src, slot });
        set_io(src, interest)
    }

    fn modify(&mut self, fd: RawFd, _token: Token, interest: Interest) -> io::Result<()> {
        let s = self
            .ios
            .get(&fd)
            .ok_or_else(|| io::Error::other("modify of an unwatched fd"))?;
        set_io(s.src, interest)
    }

    fn unwatch(&mut self, fd: RawFd, _token: Token) -> io::Result<()> {
        if let Some(s) = self.ios.remove(&fd) {
            drop_source(s); // disabling removes the fd from sd-event's epoll now
        }
        Ok(())
    }

    fn set_timer(&mut self, deadline: Option<Instant>) {
        let Some(t) = self.timer else { return };
        // SAFETY: the live timer source.
        unsafe {
            match deadline {
                None => {
                    sd::sd_event_source_set_enabled(t, sd::SD_EVENT_OFF);
                }
                Some(at) => {
                    let now_us = monotonic_us();
                    let wait = at.saturating_duration_since(Instant::now()).as_micros() as u64 + 1;
                    sd::sd_event_source_set_time(t, now_us + wait);
                    sd::sd_event_source_set_enabled(t, sd::SD_EVENT_ONESHOT);
                }
            }
        }
    }
}

pub(crate) fn set_defer(s: &Shared, on: bool) {
    if let Some(d) = &s.defer {
        // SAFETY: the live defer source.
        unsafe {
            sd::sd_event_source_set_enabled(
                d.src,
                if on {
                    sd::SD_EVENT_ON
                } else {
                    sd::SD_EVENT_OFF
                },
            )
        };
    }
}

/// Teardown: every source goes now.
pub(crate) fn drop_all(s: &mut Shared) {
    for (_, src) in s.ios.drain() {
        drop_source(src);
    }
    for src in [s.timer.take(), s.defer.take()].into_iter().flatten() {
        drop_source(src);
    }
    s.detached = true;
}

/// Foreign mode: apply commands; tear down once the context stopped.
pub(crate) fn after_dispatch(s: &mut Shared, ptr: SharedPtr) -> Option<Context> {
    let timer = s.timer.as_ref().map(|t| t.src);
    let Shared {
        sink: Sink::Direct(Some(ctx)),
        ios,
        e,
        ..
    } = s
    else {
        return None;
    };
    let mut w = Watchers {
        e: HostEvent(*e),
        ptr,
        ios,
        timer,
    };
    w.sync(ctx);
    let (stopped, forced) = (ctx.is_stopped(), ctx.wants_forced_service());
    if stopped && !s.detached {
        drop_all(s);
        return match &mut s.sink {
            Sink::Direct(c) => c.take().map(|b| *b),
            Sink::Queue(_) => None,
        };
    }
    set_defer(s, forced);
    None
}

fn serve(slot: *mut c_void, revents: u32) -> c_int {
    // SAFETY: sd-event passes the userdata of a live source; read it before
    // anything can free it, and hold the state for this callback.
    let (ptr, token, kind) = unsafe {
        let s = &*(slot as *const Slot);
        (s.shared, s.token, s.kind)
    };
    let keep = unsafe {
        Rc::increment_strong_count(ptr);
        Rc::from_raw(ptr)
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
    let done = {
        let Ok(mut g) = keep.try_borrow_mut() else {
            return 0;
        };
        let s = &mut *g;
        match &mut s.sink {
            Sink::Queue(q) => {
                q.push(event);
                None
            }
            Sink::Direct(Some(ctx)) => {
                ctx.handle_event(event);
                after_dispatch(s, ptr).and_then(|c| s.on_stopped.take().map(|cb| (cb, c)))
            }
            Sink::Direct(None) => None,
        }
    };
    if let Some((cb, ctx)) = done {
        cb(ctx);
    }
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

/// An sd-event loop owned by the library (or by a Rust host: `SdHostEvent`).
pub struct OwnedEvent {
    e: *mut sd::sd_event,
    /// The host's own timers made by `repeating_timer`.
    own: RefCell<Vec<(*mut sd::sd_event_source, *mut TickData)>>,
}

type TickData = (Rc<Cell<u64>>, u64);

impl std::fmt::Debug for OwnedEvent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SdHostEvent")
    }
}

impl OwnedEvent {
    pub(crate) fn new() -> io::Result<Self> {
        let mut e = std::ptr::null_mut();
        // SAFETY: constructor with an out-pointer.
        check(unsafe { sd::sd_event_new(&mut e) }, "sd_event_new")?;
        Ok(OwnedEvent {
            e,
            own: RefCell::new(Vec::new()),
        })
    }

    pub fn host(&self) -> HostEvent {
        HostEvent(self.e)
    }

    /// One iteration: waits (if `block`) and dispatches at most one source.
    /// Returns whether a source was dispatched.
    pub fn run_once(&self, block: bool) -> Result<bool, lws_core::Error> {
        // SAFETY: our loop, on its thread.
        let rc = unsafe { sd::sd_event_run(self.e, if block { u64::MAX } else { 0 }) };
        check(rc, "sd_event_run")
            .map(|()| rc > 0)
            .map_err(|e| lws_core::Error::Loop {
                lib: "sd-event",
                source: e,
            })
    }

    /// A repeating timer of the host's own, counting its ticks. It lives as
    /// long as the loop (tests and examples use it as "the host's source").
    pub fn repeating_timer(&self, ms: u64) -> Rc<Cell<u64>> {
        let ticks = Rc::new(Cell::new(0u64));
        let data = Box::into_raw(Box::new((ticks.clone(), ms.max(1) * 1000)));
        let mut src = std::ptr::null_mut();
        // SAFETY: a timer source on our loop whose userdata is the box above;
        // both are released in `Drop` (source first).
        unsafe {
            let rc = sd::sd_event_add_time(
                self.e,
                &mut src,
                CLOCK_MONOTONIC,
                monotonic_us() + ms * 1000,
                1,
                Some(tick),
                data as *mut c_void,
            );
            if rc >= 0 {
                sd::sd_event_source_set_enabled(src, sd::SD_EVENT_ON);
                self.own.borrow_mut().push((src, data));
            } else {
                drop(Box::from_raw(data));
            }
        }
        ticks
    }

    /// Descriptors registered in the loop's epoll set right now, read from
    /// `/proc/self/fdinfo` (diagnostics: lets tests prove a detached library
    /// left no io source behind).
    pub fn registered_fds(&self) -> io::Result<usize> {
        // SAFETY: our loop.
        let fd = unsafe { sd::sd_event_get_fd(self.e) };
        check(fd, "sd_event_get_fd")?;
        let info = std::fs::read_to_string(format!("/proc/self/fdinfo/{fd}"))?;
        Ok(info.lines().filter(|l| l.starts_with("tfd:")).count())
    }
}

unsafe extern "C" fn tick(s: *mut sd::sd_event_source, usec: u64, data: *mut c_void) -> c_int {
    // SAFETY: `data` is the box leaked by `repeating_timer` and `s` its live
    // source, re-armed from its own callback.
    unsafe {
        let (ticks, period) = &*(data as *const TickData);
        ticks.set(ticks.get() + 1);
        sd::sd_event_source_set_time(s, usec + period);
    }
    0
}

fn monotonic_us() -> u64 {
    let now = rustix::time::clock_gettime(rustix::time::ClockId::Monotonic);
    now.tv_sec as u64 * 1_000_000 + now.tv_nsec as u64 / 1000
}

impl Drop for OwnedEvent {
    fn drop(&mut self) {
        // SAFETY: the host timers are ours (source unreferenced before its
        // userdata is freed); then drop our reference to the loop. Library
        // sources were released at teardown.
        unsafe {
            for (src, data) in self.own.borrow_mut().drain(..) {
                sd::sd_event_source_set_enabled(src, sd::SD_EVENT_OFF);
                sd::sd_event_source_unref(src);
                drop(Box::from_raw(data));
            }
            sd::sd_event_unref(self.e);
        }
    }
}
