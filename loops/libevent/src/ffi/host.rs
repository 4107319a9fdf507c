//! libevent bases the library may add events to: a host's own
//! `event_base` (promised valid by the host, [`host_from_raw`]) or an
//! [`EvHostBase`] created here, which stays allocated for as long as
//! anything is attached to it. Also the host-side helpers tests and
//! examples use (a repeating timer of the host's own, an event count).

use std::cell::{Cell, RefCell};
use std::ffi::{c_int, c_short, c_void};
use std::rc::Rc;

use libevent_sys as ev;

/// An `event_base` created here: owned through an [`EvHostBase`], freed
/// when the last of its owner and the attachments on it is gone.
#[derive(Debug)]
pub struct EvBaseBox {
    base: *mut ev::event_base,
    /// The host's own timers (`repeating_timer`), freed with the base.
    timers: RefCell<Vec<(*mut ev::event, *const Cell<u64>)>>,
}

/// An `event_base` created and dispatched by a Rust program (or by the
/// library's owned mode); `host()` lends it to
/// [`crate::EvAttached::attach`], and an attachment keeps it allocated
/// after the owner is dropped. The lent handle cannot outlive the owner's
/// borrow:
///
/// ```compile_fail,E0716
/// # fn f(ctx: lws_core::Context) {
/// use lws_loop_libevent::{EvAttached, EvHostBase};
/// let h = EvHostBase::create().unwrap().host(); // the owner is a temporary
/// let _lws = EvAttached::attach(ctx, h, |_| {});
/// # }
/// ```
///
/// ```compile_fail,E0505
/// # fn f(ctx: lws_core::Context) {
/// use lws_loop_libevent::{EvAttached, EvHostBase};
/// let owner = EvHostBase::create().unwrap();
/// let h = owner.host();
/// drop(owner); // still borrowed by `h`
/// let _lws = EvAttached::attach(ctx, h, |_| {});
/// # }
/// ```
pub type EvHostBase = lws_cglue::Owner<EvBaseBox>;

/// A libevent base the library may add events to: lent by an
/// [`EvHostBase`] or vouched for by a C host ([`host_from_raw`]).
pub type HostBase<'a> = lws_cglue::Host<'a, EvBaseBox>;

/// The host's promise that its base stays valid ([`host_from_raw`]).
#[derive(Debug)]
pub struct Vouch(());

/// A C host's own base, for [`crate::EvAttached::attach`]:
///
/// ```compile_fail,E0133
/// let h = lws_loop_libevent::host_from_raw(std::ptr::null_mut());
/// ```
///
/// # Safety
/// `base` must be a valid `event_base` that stays valid, and is only
/// dispatched on the current thread, until every attachment made with it
/// has reported its teardown complete (`on_stopped` ran); if the context
/// never stops, for the rest of the program.
pub unsafe fn host_from_raw(base: *mut ev::event_base) -> HostBase<'static> {
    lws_cglue::Host::vouched(base, Vouch(()))
}

impl lws_cglue::LoopOwner for EvBaseBox {
    type Raw = *mut ev::event_base;
    type Vouch = Vouch;
    const NAME: &'static str = "libevent";

    fn create() -> std::io::Result<Self> {
        // SAFETY: plain constructor; null means failure.
        let base = unsafe { ev::event_base_new() };
        if base.is_null() {
            return Err(std::io::Error::other("event_base_new failed"));
        }
        Ok(EvBaseBox {
            base,
            timers: RefCell::default(),
        })
    }

    fn raw(&self) -> *mut ev::event_base {
        self.base
    }

    fn iterate(&self) -> Result<(), lws_core::Error> {
        self.run_once();
        Ok(())
    }
}

impl Drop for EvBaseBox {
    fn drop(&mut self) {
        // SAFETY: nothing of the library's is on the base any more (every
        // attachment holds this box alive); free the host timers made here
        // (event_free removes them first), then the base.
        unsafe {
            for (e, count) in self.timers.borrow_mut().drain(..) {
                ev::event_free(e);
                drop(Rc::from_raw(count));
            }
            ev::event_base_free(self.base);
        }
    }
}

impl EvBaseBox {
    /// The raw base, for the host's own libevent calls (valid while the
    /// owner lives).
    pub fn as_ptr(&self) -> *mut ev::event_base {
        self.base
    }

    /// One blocking iteration.
    pub fn run_once(&self) {
        // SAFETY: our live base, on its thread (not Send).
        unsafe { ev::event_base_loop(self.base, ev::EVLOOP_ONCE as c_int) };
    }

    /// One iteration that does not block.
    pub fn run_nowait(&self) {
        // SAFETY: as above.
        unsafe { ev::event_base_loop(self.base, ev::EVLOOP_NONBLOCK as c_int) };
    }

    /// Events added to this base (test support).
    #[doc(hidden)]
    pub fn events(&self) -> usize {
        // SAFETY: read-only query on our live base.
        let n = unsafe { ev::event_base_get_num_events(self.base, ev::EVENT_BASE_COUNT_ADDED) };
        n as usize
    }

    /// A repeating timer of the host's own, counting its ticks; it lives as
    /// long as the base (test support).
    #[doc(hidden)]
    pub fn repeating_timer(&self, ms: u64) -> Rc<Cell<u64>> {
        unsafe extern "C" fn tick(_: c_int, _: c_short, arg: *mut c_void) {
            // SAFETY: `arg` is the Rc<Cell> count kept until the base goes.
            let c = unsafe { &*(arg as *const Cell<u64>) };
            c.set(c.get() + 1);
        }
        let count = Rc::new(Cell::new(0u64));
        let arg = Rc::into_raw(count.clone());
        // SAFETY: a persistent timer on our live base; it and the Rc count
        // are freed by Drop.
        unsafe {
            let fl = ev::EV_PERSIST as c_short;
            let e = ev::event_new(self.base, -1, fl, Some(tick), arg as *mut c_void);
            if e.is_null() {
                drop(Rc::from_raw(arg));
                return count;
            }
            let tv = ev::timeval {
                tv_sec: (ms / 1000) as _,
                tv_usec: ((ms % 1000) * 1000) as _,
            };
            ev::event_add(e, &tv);
            self.timers.borrow_mut().push((e, arg));
        }
        count
    }
}
