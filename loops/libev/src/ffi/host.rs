//! libev loops the library may add watchers to: a host's own
//! `struct ev_loop *` (promised valid by the host, [`host_from_raw`])
//! or an [`EvHostLoop`] created here, which stays allocated for as long as
//! anything is attached to it. Also the host-side helpers tests and
//! examples use (a repeating timer of the host's own).

use std::cell::{Cell, RefCell};
use std::ffi::{c_int, c_void};
use std::rc::Rc;

use super::shim::*;

/// A libev loop created here: owned through an [`EvHostLoop`], destroyed
/// when the last of its owner and the attachments on it is gone.
#[derive(Debug)]
pub struct EvLoopBox {
    l: *mut EvLoopRaw,
    /// The host's own timers (`repeating_timer`), freed with the loop.
    timers: RefCell<Vec<(*mut Watcher, *const Cell<u64>)>>,
}

/// A libev loop created and run by a Rust program (or by the library's
/// owned mode); `host()` lends it to [`crate::EvAttached::attach`], and an
/// attachment keeps it allocated after the owner is dropped. The lent
/// handle cannot outlive the owner's borrow:
///
/// ```compile_fail,E0716
/// # fn f(ctx: lws_core::Context) {
/// use lws_loop_libev::{EvAttached, EvHostLoop};
/// let h = EvHostLoop::create().unwrap().host(); // the owner is a temporary
/// let _lws = EvAttached::attach(ctx, h, |_| {});
/// # }
/// ```
///
/// ```compile_fail,E0505
/// # fn f(ctx: lws_core::Context) {
/// use lws_loop_libev::{EvAttached, EvHostLoop};
/// let owner = EvHostLoop::create().unwrap();
/// let h = owner.host();
/// drop(owner); // still borrowed by `h`
/// let _lws = EvAttached::attach(ctx, h, |_| {});
/// # }
/// ```
pub type EvHostLoop = lws_cglue::Owner<EvLoopBox>;

/// A libev loop the library may add watchers to: lent by an
/// [`EvHostLoop`] or vouched for by a C host ([`host_from_raw`]).
pub type HostLoop<'a> = lws_cglue::Host<'a, EvLoopBox>;

/// The host's promise that its loop stays valid ([`host_from_raw`]).
#[derive(Debug)]
pub struct Vouch(());

/// A C host's own `struct ev_loop *`, for [`crate::EvAttached::attach`]:
///
/// ```compile_fail,E0133
/// let h = lws_loop_libev::host_from_raw(std::ptr::null_mut());
/// ```
///
/// # Safety
/// `l` must be a valid libev loop that stays valid, and is only run on the
/// current thread, until every attachment made with it has reported its
/// teardown complete (`on_stopped` ran); if the context never stops, for
/// the rest of the program.
pub unsafe fn host_from_raw(l: *mut c_void) -> HostLoop<'static> {
    lws_cglue::Host::vouched(l as *mut EvLoopRaw, Vouch(()))
}

impl lws_cglue::LoopOwner for EvLoopBox {
    type Raw = *mut EvLoopRaw;
    type Vouch = Vouch;
    const NAME: &'static str = "libev";

    fn create() -> std::io::Result<Self> {
        // SAFETY: constructor; null means failure.
        let l = unsafe { lws_ev_loop_new() };
        if l.is_null() {
            return Err(std::io::Error::other("ev_loop_new failed"));
        }
        Ok(EvLoopBox {
            l,
            timers: RefCell::default(),
        })
    }

    fn raw(&self) -> *mut EvLoopRaw {
        self.l
    }

    fn iterate(&self) -> Result<(), lws_core::Error> {
        self.run_once();
        Ok(())
    }
}

impl Drop for EvLoopBox {
    fn drop(&mut self) {
        // SAFETY: nothing of the library's is on the loop any more (every
        // attachment holds this box alive); free the host timers made here,
        // then destroy the loop.
        unsafe {
            for (t, count) in self.timers.borrow_mut().drain(..) {
                lws_ev_timer_repeat_free(self.l, t);
                drop(Rc::from_raw(count));
            }
            lws_ev_loop_destroy(self.l);
        }
    }
}

impl EvLoopBox {
    /// The raw `struct ev_loop *`, for the host's own libev calls (valid
    /// while the owner lives).
    pub fn as_ptr(&self) -> *mut c_void {
        self.l as *mut c_void
    }

    /// One blocking iteration.
    pub fn run_once(&self) {
        // SAFETY: our live loop, on its thread (not Send).
        unsafe { lws_ev_run_once(self.l) };
    }

    /// One iteration that does not block; `true` while watchers other
    /// than `repeating_timer`s (which do not hold the loop) are active.
    pub fn run_nowait(&self) -> bool {
        // SAFETY: as above.
        unsafe { lws_ev_run_nowait(self.l) != 0 }
    }

    /// Run once without blocking; whether watchers other than the host's
    /// `repeating_timer`s are active (test support).
    #[doc(hidden)]
    pub fn has_active_watchers(&self) -> bool {
        self.run_nowait()
    }

    /// A repeating timer of the host's own, counting its ticks; it does
    /// not hold the loop and lives as long as it (test support).
    #[doc(hidden)]
    pub fn repeating_timer(&self, ms: u64) -> Rc<Cell<u64>> {
        unsafe extern "C" fn tick(data: *mut c_void, _: c_int) {
            // SAFETY: the Rc<Cell> count kept until the loop goes.
            let c = unsafe { &*(data as *const Cell<u64>) };
            c.set(c.get() + 1);
        }
        let count = Rc::new(Cell::new(0u64));
        let data = Rc::into_raw(count.clone());
        // SAFETY: a repeating watcher on our live loop; it and the count
        // are freed by Drop.
        unsafe {
            let t = lws_ev_timer_repeat(self.l, ms as f64 / 1000.0, tick, data as *mut c_void);
            if t.is_null() {
                drop(Rc::from_raw(data));
            } else {
                self.timers.borrow_mut().push((t, data));
            }
        }
        count
    }
}
