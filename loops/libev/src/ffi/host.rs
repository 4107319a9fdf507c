//! libev loops the library may add watchers to: a host's own
//! `struct ev_loop *` (promised valid by the host, [`HostLoop::from_raw`])
//! or an [`EvHostLoop`] created here, which stays allocated for as long as
//! anything is attached to it. Also the host-side helpers tests and
//! examples use (a repeating timer of the host's own).

use std::cell::{Cell, RefCell};
use std::ffi::{c_int, c_void};
use std::marker::PhantomData;
use std::rc::Rc;

use super::shim::*;

/// A loop created by [`EvHostLoop::create`], destroyed when the last of
/// its owner and the attachments on it is gone.
struct LoopBox {
    l: *mut EvLoopRaw,
    /// The host's own timers (`repeating_timer`), freed with the loop.
    timers: RefCell<Vec<(*mut TimerW, *const Cell<u64>)>>,
}

thread_local! {
    static LIVE: Cell<usize> = const { Cell::new(0) };
}

impl Drop for LoopBox {
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
        LIVE.with(|n| n.set(n.get() - 1));
    }
}

impl std::fmt::Debug for LoopBox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ev_loop")
    }
}

/// A libev loop the library may add watchers to, borrowed from its owner.
///
/// From an [`EvHostLoop`] (`host()`), it keeps that loop allocated for as
/// long as an attachment made with it lives; it cannot outlive the borrow
/// of its owner:
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
///
/// A host's own loop needs its promise, in `unsafe`:
///
/// ```compile_fail,E0133
/// let h = lws_loop_libev::HostLoop::from_raw(std::ptr::null_mut());
/// ```
#[derive(Debug)]
pub struct HostLoop<'a> {
    l: *mut EvLoopRaw,
    keep: Option<Rc<LoopBox>>,
    _owner: PhantomData<&'a EvHostLoop>,
}

impl HostLoop<'static> {
    /// Wrap a host's `struct ev_loop *`.
    ///
    /// # Safety
    /// `l` must be a valid libev loop that stays valid, and is only run on
    /// the current thread, until every attachment made with it has
    /// reported its teardown complete (`on_stopped` ran); if the context
    /// never stops, for the rest of the program.
    pub unsafe fn from_raw(l: *mut c_void) -> Self {
        HostLoop {
            l: l as *mut EvLoopRaw,
            keep: None,
            _owner: PhantomData,
        }
    }
}

impl HostLoop<'_> {
    pub(super) fn into_ref(self) -> LoopRef {
        LoopRef {
            l: self.l,
            _keep: self.keep,
        }
    }
}

/// The loop as the library's watchers hold it: valid while they live.
pub(super) struct LoopRef {
    l: *mut EvLoopRaw,
    _keep: Option<Rc<LoopBox>>,
}

impl LoopRef {
    pub(super) fn ptr(&self) -> *mut EvLoopRaw {
        self.l
    }
}

/// A libev loop created and run by a Rust program (or by the library's
/// owned mode). Attachments keep it allocated after it is dropped.
#[derive(Debug)]
pub struct EvHostLoop {
    inner: Rc<LoopBox>,
}

impl EvHostLoop {
    /// A new libev loop.
    pub fn create() -> Result<Self, lws_core::Error> {
        // SAFETY: constructor; null means failure.
        let l = unsafe { lws_ev_loop_new() };
        if l.is_null() {
            return Err(lws_core::Error::Loop {
                lib: "libev",
                source: std::io::Error::other("ev_loop_new failed"),
            });
        }
        LIVE.with(|n| n.set(n.get() + 1));
        Ok(EvHostLoop {
            inner: Rc::new(LoopBox {
                l,
                timers: RefCell::default(),
            }),
        })
    }

    /// This loop, for [`crate::EvAttached::attach`].
    pub fn host(&self) -> HostLoop<'_> {
        HostLoop {
            l: self.inner.l,
            keep: Some(self.inner.clone()),
            _owner: PhantomData,
        }
    }

    /// The raw `struct ev_loop *`, for the host's own libev calls (valid
    /// while `self` lives).
    pub fn as_ptr(&self) -> *mut c_void {
        self.inner.l as *mut c_void
    }

    /// One blocking iteration.
    pub fn run_once(&self) {
        // SAFETY: our live loop, on its thread (LoopBox is !Send).
        unsafe { lws_ev_run_once(self.inner.l) };
    }

    /// One iteration that does not block; `true` while watchers other
    /// than `repeating_timer`s (which do not hold the loop) are active.
    pub fn run_nowait(&self) -> bool {
        // SAFETY: as above.
        unsafe { lws_ev_run_nowait(self.inner.l) != 0 }
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
        // are freed by LoopBox's Drop.
        unsafe {
            let t =
                lws_ev_timer_repeat(self.inner.l, ms as f64 / 1000.0, tick, data as *mut c_void);
            if t.is_null() {
                drop(Rc::from_raw(data));
            } else {
                self.inner.timers.borrow_mut().push((t, data));
            }
        }
        count
    }

    /// Loops created here and not destroyed yet, on this thread (test
    /// support: attachments keep their loop alive).
    #[doc(hidden)]
    pub fn live_loops() -> usize {
        LIVE.with(Cell::get)
    }
}
