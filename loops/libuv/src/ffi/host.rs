//! libuv loops the library may add handles to: a host's own `uv_loop_t`
//! (promised valid by the host, [`host_from_raw`]) or a [`UvHostLoop`]
//! created here, which stays allocated for as long as anything is
//! attached to it. Also the host-side helpers tests and
//! examples use (a repeating timer of the host's own, a handle count).

use std::cell::{Cell, RefCell};
use std::ffi::c_void;
use std::rc::Rc;

use libuv_sys2 as uv;

use super::watchers::check;

/// A `uv_loop_t` created here: owned through a [`UvHostLoop`], freed when
/// the last of its owner and the attachments on it is gone.
#[derive(Debug)]
pub struct UvLoopBox {
    lp: *mut uv::uv_loop_t,
    /// The host's own timers (`repeating_timer`), closed with the loop.
    timers: RefCell<Vec<*mut uv::uv_timer_t>>,
}

/// A libuv loop created and run by a Rust program (or by the library's
/// owned mode); `host()` lends it to [`crate::UvAttached::attach`], and
/// an attachment keeps it allocated after the owner is dropped. The
/// lent handle cannot outlive the owner's borrow:
///
/// ```compile_fail,E0716
/// # fn f(ctx: lws_core::Context) {
/// use lws_loop_libuv::{UvAttached, UvHostLoop};
/// let h = UvHostLoop::create().unwrap().host(); // the owner is a temporary
/// let _lws = UvAttached::attach(ctx, h, |_| {});
/// # }
/// ```
///
/// ```compile_fail,E0505
/// # fn f(ctx: lws_core::Context) {
/// use lws_loop_libuv::{UvAttached, UvHostLoop};
/// let owner = UvHostLoop::create().unwrap();
/// let h = owner.host();
/// drop(owner); // still borrowed by `h`
/// let _lws = UvAttached::attach(ctx, h, |_| {});
/// # }
/// ```
pub type UvHostLoop = lws_cglue::Owner<UvLoopBox>;

/// A libuv loop the library may add handles to: lent by a [`UvHostLoop`]
/// or vouched for by a C host ([`host_from_raw`]).
pub type HostLoop<'a> = lws_cglue::Host<'a, UvLoopBox>;

/// The host's promise that its loop stays valid ([`host_from_raw`]).
#[derive(Debug)]
pub struct Vouch(());

/// A C host's own loop, for [`crate::UvAttached::attach`]:
///
/// ```compile_fail,E0133
/// let h = lws_loop_libuv::host_from_raw(std::ptr::null_mut());
/// ```
///
/// # Safety
/// `lp` must point to an initialised `uv_loop_t` that stays valid, and is
/// only run on the current thread, until every attachment made with it
/// has reported its teardown complete (`on_stopped` ran); if the context
/// never stops, for the rest of the program.
pub unsafe fn host_from_raw(lp: *mut uv::uv_loop_t) -> HostLoop<'static> {
    lws_cglue::Host::vouched(lp, Vouch(()))
}

impl lws_cglue::LoopOwner for UvLoopBox {
    type Raw = *mut uv::uv_loop_t;
    type Vouch = Vouch;
    const NAME: &'static str = "libuv";

    fn create() -> std::io::Result<Self> {
        // SAFETY: zeroed storage handed to uv_loop_init, boxed so its
        // address is stable; freed by Drop.
        unsafe {
            let lp = Box::into_raw(Box::new(std::mem::zeroed::<uv::uv_loop_t>()));
            if let Err(e) = check(uv::uv_loop_init(lp), "uv_loop_init") {
                drop(Box::from_raw(lp));
                return Err(e);
            }
            Ok(UvLoopBox {
                lp,
                timers: RefCell::default(),
            })
        }
    }

    fn raw(&self) -> *mut uv::uv_loop_t {
        self.lp
    }

    fn iterate(&self) -> Result<(), lws_core::Error> {
        self.run_once();
        Ok(())
    }
}

impl Drop for UvLoopBox {
    fn drop(&mut self) {
        // SAFETY: nothing of the library's is on the loop any more (every
        // attachment holds this box alive); close the host timers made
        // here, let their close callbacks run, then close the loop. If a
        // handle made elsewhere is left, uv_loop_close reports EBUSY and the
        // loop's memory is leaked rather than freed under it.
        unsafe {
            for t in self.timers.borrow_mut().drain(..) {
                uv::uv_close(t as *mut uv::uv_handle_t, Some(free_timer));
            }
            uv::uv_run(self.lp, uv::uv_run_mode_UV_RUN_NOWAIT);
            if uv::uv_loop_close(self.lp) == 0 {
                drop(Box::from_raw(self.lp));
            }
        }
    }
}

impl UvLoopBox {
    /// The raw loop, for the host's own libuv calls (valid while the
    /// owner lives).
    pub fn as_ptr(&self) -> *mut uv::uv_loop_t {
        self.lp
    }

    /// One blocking iteration (returns after at least one event).
    pub fn run_once(&self) {
        // SAFETY: our live loop, run on its thread (not Send).
        unsafe { uv::uv_run(self.lp, uv::uv_run_mode_UV_RUN_ONCE) };
    }

    /// One iteration that does not block.
    pub fn run_nowait(&self) {
        // SAFETY: as above.
        unsafe { uv::uv_run(self.lp, uv::uv_run_mode_UV_RUN_NOWAIT) };
    }

    /// Number of handles on this loop (test support).
    #[doc(hidden)]
    pub fn handles(&self) -> usize {
        unsafe extern "C" fn count(_: *mut uv::uv_handle_t, arg: *mut c_void) {
            // SAFETY: `arg` is the &mut usize passed below, live for uv_walk.
            unsafe { *(arg as *mut usize) += 1 };
        }
        let mut n = 0usize;
        // SAFETY: our live loop; the callback only counts.
        unsafe { uv::uv_walk(self.lp, Some(count), &mut n as *mut usize as *mut c_void) };
        n
    }

    /// A repeating timer of the host's own (every `ms`), counting its
    /// ticks; it lives as long as the loop (test support).
    #[doc(hidden)]
    pub fn repeating_timer(&self, ms: u64) -> Rc<Cell<u64>> {
        unsafe extern "C" fn tick(h: *mut uv::uv_timer_t) {
            // SAFETY: `data` is the Rc<Cell> leaked below, live until the
            // timer's close callback.
            let c = unsafe { &*((*h).data as *const Cell<u64>) };
            c.set(c.get() + 1);
        }
        let count = Rc::new(Cell::new(0u64));
        // SAFETY: zeroed timer initialised on our live loop; the box and
        // one Rc count are reclaimed in `free_timer` when the loop goes.
        unsafe {
            let t = Box::into_raw(Box::new(std::mem::zeroed::<uv::uv_timer_t>()));
            uv::uv_timer_init(self.lp, t);
            (*t).data = Rc::into_raw(count.clone()) as *mut c_void;
            uv::uv_timer_start(t, Some(tick), ms, ms);
            self.timers.borrow_mut().push(t);
        }
        count
    }
}

unsafe extern "C" fn free_timer(h: *mut uv::uv_handle_t) {
    // SAFETY: the close callback of a `repeating_timer` timer: libuv is
    // done with it; reclaim the box and the Rc count in its data.
    unsafe {
        drop(Rc::from_raw((*h).data as *const Cell<u64>));
        drop(Box::from_raw(h as *mut uv::uv_timer_t));
    }
}
