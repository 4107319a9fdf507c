//! sd-event loops the library may add sources to: a host's own
//! `sd_event *` (promised valid by the host, [`host_from_raw`]) or
//! an [`SdHostEvent`] created here, which stays allocated for as long as
//! anything is attached to it. Also the host-side helpers tests and
//! examples use (a repeating timer of the host's own, an epoll count).

use std::cell::{Cell, RefCell};
use std::ffi::{c_int, c_void};
use std::io;
use std::rc::Rc;

use libsystemd_sys::event as sd;

use super::{CLOCK_MONOTONIC, check, monotonic_us};

/// An `sd_event` created here: owned through an [`SdHostEvent`],
/// unreferenced when the last of its owner and the attachments on it is
/// gone.
#[derive(Debug)]
pub struct SdEventBox {
    e: *mut sd::sd_event,
    /// The host's own timers made by `repeating_timer`.
    own: RefCell<Vec<(*mut sd::sd_event_source, *mut TickData)>>,
}

type TickData = (Rc<Cell<u64>>, u64);

/// How many further sources the owned run dispatches (without blocking)
/// after the one `sd_event_run` returned for, before syncing the core.
const BATCH: usize = 64;

/// An sd-event loop created and run by a Rust program (or by the
/// library's owned mode); `host()` lends it to
/// [`crate::SdAttached::attach`], and an attachment keeps it allocated
/// after the owner is dropped. The lent handle cannot outlive the owner's
/// borrow:
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
pub type SdHostEvent = lws_cglue::Owner<SdEventBox>;

/// An sd-event loop the library may add sources to: lent by an
/// [`SdHostEvent`] or vouched for by a C host ([`host_from_raw`]).
pub type HostEvent<'a> = lws_cglue::Host<'a, SdEventBox>;

/// The host's promise that its loop stays valid ([`host_from_raw`]).
#[derive(Debug)]
pub struct Vouch(());

/// A C host's own `sd_event *`, for [`crate::SdAttached::attach`]:
///
/// ```compile_fail,E0133
/// let h = lws_loop_sdevent::host_from_raw(std::ptr::null_mut());
/// ```
///
/// # Safety
/// `e` must be a valid `sd_event` that stays valid, and is only run on the
/// current thread, until every attachment made with it has reported its
/// teardown complete (`on_stopped` ran); if the context never stops, for
/// the rest of the program.
pub unsafe fn host_from_raw(e: *mut c_void) -> HostEvent<'static> {
    lws_cglue::Host::vouched(e as *mut sd::sd_event, Vouch(()))
}

impl lws_cglue::LoopOwner for SdEventBox {
    type Raw = *mut sd::sd_event;
    type Vouch = Vouch;
    const NAME: &'static str = "sd-event";

    fn create() -> io::Result<Self> {
        let mut e = std::ptr::null_mut();
        // SAFETY: constructor with an out-pointer.
        check(unsafe { sd::sd_event_new(&mut e) }, "sd_event_new")?;
        Ok(SdEventBox {
            e,
            own: RefCell::default(),
        })
    }

    fn raw(&self) -> *mut sd::sd_event {
        self.e
    }

    /// sd_event_run dispatches one source per call: block for the first,
    /// then take whatever else is already pending.
    fn iterate(&self) -> Result<(), lws_core::Error> {
        if self.run_once(true)? {
            for _ in 0..BATCH {
                if !self.run_once(false)? {
                    break;
                }
            }
        }
        Ok(())
    }
}

impl Drop for SdEventBox {
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
    }
}

impl SdEventBox {
    /// The raw `sd_event *`, for the host's own sd-event calls (valid while
    /// the owner lives).
    pub fn as_ptr(&self) -> *mut c_void {
        self.e as *mut c_void
    }

    /// One iteration: waits (if `block`) and dispatches at most one source.
    /// Returns whether a source was dispatched.
    pub fn run_once(&self, block: bool) -> Result<bool, lws_core::Error> {
        // SAFETY: our live loop, on its thread (not Send).
        let rc = unsafe { sd::sd_event_run(self.e, if block { u64::MAX } else { 0 }) };
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
        let first = monotonic_us() + ms * 1000;
        // SAFETY: a timer source on our live loop whose userdata is the box
        // above; both are released by Drop (source first).
        unsafe {
            let d = data as *mut c_void;
            let rc =
                sd::sd_event_add_time(self.e, &mut src, CLOCK_MONOTONIC, first, 1, Some(tick), d);
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
    /// `/proc/self/fdinfo` (test support: a detached library left no io
    /// source behind).
    #[doc(hidden)]
    pub fn registered_fds(&self) -> io::Result<usize> {
        // SAFETY: our live loop.
        let fd = unsafe { sd::sd_event_get_fd(self.e) };
        check(fd, "sd_event_get_fd")?;
        let info = std::fs::read_to_string(format!("/proc/self/fdinfo/{fd}"))?;
        Ok(info.lines().filter(|l| l.starts_with("tfd:")).count())
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
