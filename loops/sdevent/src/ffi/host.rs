//! sd-event loops the library may add sources to: a host's own
//! `sd_event *` (promised valid by the host, [`HostEvent::from_raw`]) or
//! an [`SdHostEvent`] created here, which stays allocated for as long as
//! anything is attached to it. Also the host-side helpers tests and
//! examples use (a repeating timer of the host's own, an epoll count).

use std::cell::{Cell, RefCell};
use std::ffi::{c_int, c_void};
use std::io;
use std::marker::PhantomData;
use std::rc::Rc;

use libsystemd_sys::event as sd;

use super::{CLOCK_MONOTONIC, check, monotonic_us};

/// A loop created by [`SdHostEvent::create`], unreferenced when the last
/// of its owner and the attachments on it is gone.
struct EventBox {
    e: *mut sd::sd_event,
    /// The host's own timers made by `repeating_timer`.
    own: RefCell<Vec<(*mut sd::sd_event_source, *mut TickData)>>,
}

type TickData = (Rc<Cell<u64>>, u64);

thread_local! {
    static LIVE: Cell<usize> = const { Cell::new(0) };
}

impl Drop for EventBox {
    fn drop(&mut self) {
        // SAFETY: nothing of the library's is on the loop any more (every
        // attachment holds this box alive); the host timers are ours
        // (source unreferenced before its userdata is freed); then drop
        // our reference to the loop.
        unsafe {
            for (src, data) in self.own.borrow_mut().drain(..) {
                sd::sd_event_source_set_enabled(src, sd::SD_EVENT_OFF);
                sd::sd_event_source_unref(src);
                drop(Box::from_raw(data));
            }
            sd::sd_event_unref(self.e);
        }
        LIVE.with(|n| n.set(n.get() - 1));
    }
}

impl std::fmt::Debug for EventBox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("sd_event")
    }
}

/// An sd-event loop the library may add sources to, borrowed from its
/// owner.
///
/// From an [`SdHostEvent`] (`host()`), it keeps that loop allocated for as
/// long as an attachment made with it lives; it cannot outlive the borrow
/// of its owner:
///
/// ```compile_fail,E0716
/// # fn f(ctx: lws_core::Context) {
/// use lws_loop_sdevent::{SdAttached, SdHostEvent};
/// let h = SdHostEvent::create().unwrap().host(); // the owner is a temporary
/// let _lws = SdAttached::attach(ctx, h, |_| {});
/// # }
/// ```
///
/// ```compile_fail,E0505
/// # fn f(ctx: lws_core::Context) {
/// use lws_loop_sdevent::{SdAttached, SdHostEvent};
/// let owner = SdHostEvent::create().unwrap();
/// let h = owner.host();
/// drop(owner); // still borrowed by `h`
/// let _lws = SdAttached::attach(ctx, h, |_| {});
/// # }
/// ```
///
/// A host's own loop needs its promise, in `unsafe`:
///
/// ```compile_fail,E0133
/// let h = lws_loop_sdevent::HostEvent::from_raw(std::ptr::null_mut());
/// ```
#[derive(Debug)]
pub struct HostEvent<'a> {
    e: *mut sd::sd_event,
    keep: Option<Rc<EventBox>>,
    _owner: PhantomData<&'a SdHostEvent>,
}

impl HostEvent<'static> {
    /// Wrap a host's `sd_event *`.
    ///
    /// # Safety
    /// `e` must be a valid `sd_event` that stays valid, and is only run on
    /// the current thread, until every attachment made with it has
    /// reported its teardown complete (`on_stopped` ran); if the context
    /// never stops, for the rest of the program.
    pub unsafe fn from_raw(e: *mut c_void) -> Self {
        HostEvent {
            e: e as *mut sd::sd_event,
            keep: None,
            _owner: PhantomData,
        }
    }
}

impl HostEvent<'_> {
    pub(super) fn into_ref(self) -> EventRef {
        EventRef {
            e: self.e,
            _keep: self.keep,
        }
    }
}

/// The loop as the library's sources hold it: valid while they live.
pub(super) struct EventRef {
    e: *mut sd::sd_event,
    _keep: Option<Rc<EventBox>>,
}

impl EventRef {
    pub(super) fn ptr(&self) -> *mut sd::sd_event {
        self.e
    }
}

/// An sd-event loop created and run by a Rust program (or by the library's
/// owned mode). Attachments keep it allocated after it is dropped.
#[derive(Debug)]
pub struct SdHostEvent {
    inner: Rc<EventBox>,
}

impl SdHostEvent {
    /// A new sd-event loop.
    pub fn create() -> Result<Self, lws_core::Error> {
        let mut e = std::ptr::null_mut();
        // SAFETY: constructor with an out-pointer.
        check(unsafe { sd::sd_event_new(&mut e) }, "sd_event_new").map_err(|e| {
            lws_core::Error::Loop {
                lib: "sd-event",
                source: e,
            }
        })?;
        LIVE.with(|n| n.set(n.get() + 1));
        Ok(SdHostEvent {
            inner: Rc::new(EventBox {
                e,
                own: RefCell::default(),
            }),
        })
    }

    /// This loop, for [`crate::SdAttached::attach`].
    pub fn host(&self) -> HostEvent<'_> {
        HostEvent {
            e: self.inner.e,
            keep: Some(self.inner.clone()),
            _owner: PhantomData,
        }
    }

    /// The raw `sd_event *`, for the host's own sd-event calls (valid while
    /// `self` lives).
    pub fn as_ptr(&self) -> *mut c_void {
        self.inner.e as *mut c_void
    }

    /// One iteration: waits (if `block`) and dispatches at most one source.
    /// Returns whether a source was dispatched.
    pub fn run_once(&self, block: bool) -> Result<bool, lws_core::Error> {
        // SAFETY: our live loop, on its thread (EventBox is !Send).
        let rc = unsafe { sd::sd_event_run(self.inner.e, if block { u64::MAX } else { 0 }) };
        check(rc, "sd_event_run")
            .map(|()| rc > 0)
            .map_err(|e| lws_core::Error::Loop {
                lib: "sd-event",
                source: e,
            })
    }

    /// A repeating timer of the host's own, counting its ticks; it lives as
    /// long as the loop (test support).
    #[doc(hidden)]
    pub fn repeating_timer(&self, ms: u64) -> Rc<Cell<u64>> {
        let ticks = Rc::new(Cell::new(0u64));
        let data = Box::into_raw(Box::new((ticks.clone(), ms.max(1) * 1000)));
        let mut src = std::ptr::null_mut();
        // SAFETY: a timer source on our live loop whose userdata is the box
        // above; both are released by EventBox's Drop (source first).
        unsafe {
            let rc = sd::sd_event_add_time(
                self.inner.e,
                &mut src,
                CLOCK_MONOTONIC,
                monotonic_us() + ms * 1000,
                1,
                Some(tick),
                data as *mut c_void,
            );
            if rc >= 0 {
                sd::sd_event_source_set_enabled(src, sd::SD_EVENT_ON);
                self.inner.own.borrow_mut().push((src, data));
            } else {
                drop(Box::from_raw(data));
            }
        }
        ticks
    }

    /// Descriptors registered in the loop's epoll set right now, read from
    /// `/proc/self/fdinfo` (test support: a detached library left no io
    /// source behind).
    #[doc(hidden)]
    pub fn registered_fds(&self) -> io::Result<usize> {
        // SAFETY: our live loop.
        let fd = unsafe { sd::sd_event_get_fd(self.inner.e) };
        check(fd, "sd_event_get_fd")?;
        let info = std::fs::read_to_string(format!("/proc/self/fdinfo/{fd}"))?;
        Ok(info.lines().filter(|l| l.starts_with("tfd:")).count())
    }

    /// Loops created here and not released yet, on this thread (test
    /// support: attachments keep their loop alive).
    #[doc(hidden)]
    pub fn live_loops() -> usize {
        LIVE.with(Cell::get)
    }
}

unsafe extern "C" fn tick(s: *mut sd::sd_event_source, usec: u64, data: *mut c_void) -> c_int {
    // SAFETY: `data` is the box made by `repeating_timer` and `s` its live
    // source, re-armed from its own callback.
    unsafe {
        let (ticks, period) = &*(data as *const TickData);
        ticks.set(ticks.get() + 1);
        sd::sd_event_source_set_time(s, usec + period);
    }
    0
}
