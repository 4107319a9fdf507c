//! libevent bases the library may add events to: a host's own
//! `event_base` (promised valid by the host, [`HostBase::from_raw`]) or an
//! [`EvHostBase`] created here, which stays allocated for as long as
//! anything is attached to it. Also the host-side helpers tests and
//! examples use (a repeating timer of the host's own, an event count).

use std::cell::{Cell, RefCell};
use std::ffi::{c_int, c_short, c_void};
use std::marker::PhantomData;
use std::rc::Rc;

use libevent_sys as ev;

/// An `event_base` created by [`EvHostBase::create`], freed when the last
/// of its owner and the attachments on it is gone.
struct BaseBox {
    base: *mut ev::event_base,
    /// The host's own timers (`repeating_timer`), freed with the base.
    timers: RefCell<Vec<(*mut ev::event, *const Cell<u64>)>>,
}

thread_local! {
    static LIVE: Cell<usize> = const { Cell::new(0) };
}

impl Drop for BaseBox {
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
        LIVE.with(|n| n.set(n.get() - 1));
    }
}

impl std::fmt::Debug for BaseBox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("event_base")
    }
}

/// A libevent base the library may add events to, borrowed from its owner.
///
/// From an [`EvHostBase`] (`host()`), it keeps that base allocated for as
/// long as an attachment made with it lives; it cannot outlive the borrow
/// of its owner:
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
///
/// A host's own base needs its promise, in `unsafe`:
///
/// ```compile_fail,E0133
/// let h = lws_loop_libevent::HostBase::from_raw(std::ptr::null_mut());
/// ```
#[derive(Debug)]
pub struct HostBase<'a> {
    base: *mut ev::event_base,
    keep: Option<Rc<BaseBox>>,
    _owner: PhantomData<&'a EvHostBase>,
}

impl HostBase<'static> {
    /// Wrap a host's base.
    ///
    /// # Safety
    /// `base` must be a valid `event_base` that stays valid, and is only
    /// dispatched on the current thread, until every attachment made with
    /// it has reported its teardown complete (`on_stopped` ran); if the
    /// context never stops, for the rest of the program.
    pub unsafe fn from_raw(base: *mut ev::event_base) -> Self {
        HostBase {
            base,
            keep: None,
            _owner: PhantomData,
        }
    }
}

impl HostBase<'_> {
    pub(super) fn into_ref(self) -> BaseRef {
        BaseRef {
            base: self.base,
            _keep: self.keep,
        }
    }
}

/// The base as the library's events hold it: valid while they live.
pub(super) struct BaseRef {
    base: *mut ev::event_base,
    _keep: Option<Rc<BaseBox>>,
}

impl BaseRef {
    pub(super) fn ptr(&self) -> *mut ev::event_base {
        self.base
    }
}

/// An `event_base` created and dispatched by a Rust program (or by the
/// library's owned mode). Attachments keep it allocated after it is
/// dropped.
#[derive(Debug)]
pub struct EvHostBase {
    inner: Rc<BaseBox>,
}

impl EvHostBase {
    /// A new `event_base`.
    pub fn create() -> Result<Self, lws_core::Error> {
        // SAFETY: plain constructor; null means failure.
        let base = unsafe { ev::event_base_new() };
        if base.is_null() {
            return Err(lws_core::Error::Loop {
                lib: "libevent",
                source: std::io::Error::other("event_base_new failed"),
            });
        }
        LIVE.with(|n| n.set(n.get() + 1));
        Ok(EvHostBase {
            inner: Rc::new(BaseBox {
                base,
                timers: RefCell::default(),
            }),
        })
    }

    /// This base, for [`crate::EvAttached::attach`].
    pub fn host(&self) -> HostBase<'_> {
        HostBase {
            base: self.inner.base,
            keep: Some(self.inner.clone()),
            _owner: PhantomData,
        }
    }

    /// The raw base, for the host's own libevent calls (valid while `self`
    /// lives).
    pub fn as_ptr(&self) -> *mut ev::event_base {
        self.inner.base
    }

    /// One blocking iteration.
    pub fn run_once(&self) {
        // SAFETY: our live base, on its thread (BaseBox is !Send).
        unsafe { ev::event_base_loop(self.inner.base, ev::EVLOOP_ONCE as c_int) };
    }

    /// One iteration that does not block.
    pub fn run_nowait(&self) {
        // SAFETY: as above.
        unsafe { ev::event_base_loop(self.inner.base, ev::EVLOOP_NONBLOCK as c_int) };
    }

    /// Events added to this base (test support).
    #[doc(hidden)]
    pub fn events(&self) -> usize {
        // SAFETY: read-only query on our live base.
        let n =
            unsafe { ev::event_base_get_num_events(self.inner.base, ev::EVENT_BASE_COUNT_ADDED) };
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
        // are freed by BaseBox's Drop.
        unsafe {
            let e = ev::event_new(
                self.inner.base,
                -1,
                ev::EV_PERSIST as c_short,
                Some(tick),
                arg as *mut c_void,
            );
            if e.is_null() {
                drop(Rc::from_raw(arg));
                return count;
            }
            let tv = ev::timeval {
                tv_sec: (ms / 1000) as _,
                tv_usec: ((ms % 1000) * 1000) as _,
            };
            ev::event_add(e, &tv);
            self.inner.timers.borrow_mut().push((e, arg));
        }
        count
    }

    /// Bases created here and not freed yet, on this thread (test support:
    /// attachments keep their base alive).
    #[doc(hidden)]
    pub fn live_bases() -> usize {
        LIVE.with(Cell::get)
    }
}
