//! The process's uloop as a host holds it. uloop is process-global and not
//! thread-safe, so one thread at a time may use it: [`UloopHost::init`]
//! claims it for the calling thread (shared by every `UloopHost` of that
//! thread) and the owned run claims it alone. `uloop_done` runs when the
//! last holder, an attachment included, lets go. Also the host-side
//! helpers tests and examples use (a repeating timeout of the host's own).

use std::cell::{Cell, RefCell};
use std::ffi::c_int;
use std::io;
use std::rc::{Rc, Weak};
use std::sync::Mutex;
use std::thread::ThreadId;

use libubox_sys as ub;
use lws_cglue::{Host, LoopOwner, Owner};

use super::raw::UloopTimeout;

/// Who uses the process's uloop.
#[derive(Clone, Copy, PartialEq)]
enum Claim {
    Free,
    Host(ThreadId),
    Owned,
}

static CLAIM: Mutex<Claim> = Mutex::new(Claim::Free);

fn claim(want: Claim) -> io::Result<()> {
    let mut c = CLAIM.lock().unwrap_or_else(|e| e.into_inner());
    if *c != Claim::Free {
        return Err(io::Error::new(
            io::ErrorKind::ResourceBusy,
            "uloop is process-global and in use by another thread or an owned run",
        ));
    }
    *c = want;
    Ok(())
}

fn release() {
    *CLAIM.lock().unwrap_or_else(|e| e.into_inner()) = Claim::Free;
}

/// `uloop_init`, keeping the process's SIGINT/SIGTERM/SIGCHLD handlers
/// (uloop would install its own; it also ignores SIGPIPE, which we keep).
fn init_keeping_signals() -> io::Result<()> {
    const RESTORED: [c_int; 3] = [libc::SIGINT, libc::SIGTERM, libc::SIGCHLD];
    // SAFETY: plain sigaction save/restore around uloop_init; the arrays
    // are ours and filled by the kernel before use.
    unsafe {
        let mut saved: [libc::sigaction; 3] = std::mem::zeroed();
        for (sig, old) in RESTORED.iter().zip(saved.iter_mut()) {
            libc::sigaction(*sig, std::ptr::null(), old);
        }
        let rc = ub::uloop_init();
        for (sig, old) in RESTORED.iter().zip(saved.iter()) {
            libc::sigaction(*sig, old, std::ptr::null_mut());
        }
        if rc < 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(())
}
/// uloop initialised and claimed (by a thread's hosts or by an owned
/// run); `uloop_done` when the last of its holders and the attachments on
/// it is gone.
#[derive(Debug)]
pub struct UloopInit(());

thread_local! {
    static HOST: RefCell<Weak<Owner<UloopInit>>> = const { RefCell::new(Weak::new()) };
}

impl UloopInit {
    /// Claim uloop as `who` and initialise it.
    fn claim(who: Claim) -> io::Result<Self> {
        claim(who)?;
        let init = UloopInit(()); // from here on, Drop releases the claim
        init_keeping_signals()?;
        Ok(init)
    }
}

impl LoopOwner for UloopInit {
    type Raw = ();
    type Vouch = Vouch;
    const NAME: &'static str = "uloop";

    /// uloop for an owned run: claimed by it alone.
    fn create() -> io::Result<Self> {
        UloopInit::claim(Claim::Owned)
    }

    fn raw(&self) {}

    /// One `uloop_run_timeout` of at most a second (the run re-checks for
    /// teardown after each anyway).
    fn iterate(&self) -> Result<(), lws_core::Error> {
        // SAFETY: uloop initialised and claimed by this run.
        unsafe { ub::uloop_run_timeout(1000) };
        Ok(())
    }
}

impl Drop for UloopInit {
    fn drop(&mut self) {
        // SAFETY: nothing of the library's is on uloop any more (every
        // attachment holds this alive); the claim makes this thread uloop's
        // only user.
        unsafe { ub::uloop_done() };
        release();
    }
}

/// The process's uloop, held by a Rust host on this thread.
pub struct UloopHost {
    inner: Rc<Owner<UloopInit>>,
}

impl std::fmt::Debug for UloopHost {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("UloopHost")
    }
}

impl UloopHost {
    /// `uloop_init` (once per thread: a second call shares the first);
    /// fails while another thread or an owned run uses uloop.
    pub fn init() -> Result<Self, lws_core::Error> {
        if let Some(inner) = HOST.with(|h| h.borrow().upgrade()) {
            return Ok(UloopHost { inner });
        }
        let me = Claim::Host(std::thread::current().id());
        let init = UloopInit::claim(me).map_err(|e| lws_core::Error::Loop {
            lib: "uloop",
            source: e,
        })?;
        let inner = Rc::new(Owner::from(init));
        HOST.with(|h| *h.borrow_mut() = Rc::downgrade(&inner));
        Ok(UloopHost { inner })
    }

    /// uloop, for [`crate::UloopAttached::attach`].
    pub fn host(&self) -> HostUloop<'_> {
        self.inner.host()
    }

    /// One `uloop_run_timeout(ms)` iteration.
    pub fn run_once(&self, ms: i32) {
        // SAFETY: uloop initialised and claimed by this thread.
        unsafe { ub::uloop_run_timeout(ms) };
    }
}

/// The process's uloop as the library may add watchers to it: lent by a
/// [`UloopHost`] (it cannot outlive that borrow) or vouched for by a C
/// host ([`host_from_raw`]):
///
/// ```compile_fail,E0716
/// # fn f(ctx: lws_core::Context) {
/// use lws_loop_uloop::{UloopAttached, UloopHost};
/// let h = UloopHost::init().unwrap().host(); // the holder is a temporary
/// let _lws = UloopAttached::attach(ctx, h, |_| {});
/// # }
/// ```
///
/// ```compile_fail,E0505
/// # fn f(ctx: lws_core::Context) {
/// use lws_loop_uloop::{UloopAttached, UloopHost};
/// let holder = UloopHost::init().unwrap();
/// let h = holder.host();
/// drop(holder); // still borrowed by `h`
/// let _lws = UloopAttached::attach(ctx, h, |_| {});
/// # }
/// ```
pub type HostUloop<'a> = Host<'a, UloopInit>;

/// The host's promise about its uloop ([`host_from_raw`]).
#[derive(Debug)]
pub struct Vouch(());

/// The uloop a C host runs, for [`crate::UloopAttached::attach`]:
///
/// ```compile_fail,E0133
/// let h = lws_loop_uloop::host_from_raw();
/// ```
///
/// # Safety
/// The host must have called `uloop_init` on the current thread, run uloop
/// on this thread only, and not call `uloop_done` until every attachment
/// made with it has reported its teardown complete (`on_stopped` ran); if
/// the context never stops, never.
pub unsafe fn host_from_raw() -> HostUloop<'static> {
    Host::vouched((), Vouch(()))
}

/// A repeating uloop timeout of the host's own (test support: tests and
/// examples use it as "the host's source"); cancelled and freed on drop.
#[doc(hidden)]
pub struct HostTimer {
    t: *mut HostTmo,
}

#[repr(C)]
struct HostTmo {
    t: UloopTimeout,
    period_ms: c_int,
    ticks: Rc<Cell<u64>>,
}

impl std::fmt::Debug for HostTimer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("HostTimer")
    }
}

impl HostTimer {
    /// Start a timeout firing every `ms` milliseconds on `host`'s uloop;
    /// the returned cell counts its ticks.
    pub fn every(host: &UloopHost, ms: u32) -> (Self, Rc<Cell<u64>>) {
        let _ = host; // uloop is claimed by this thread
        let ticks = Rc::new(Cell::new(0));
        let t = Box::into_raw(Box::new(HostTmo {
            t: UloopTimeout::new(host_tick),
            period_ms: ms.min(c_int::MAX as u32) as c_int,
            ticks: ticks.clone(),
        }));
        // SAFETY: a fresh timeout box, freed in Drop after cancelling.
        unsafe { ub::uloop_timeout_set(t.cast(), ms as c_int) };
        (HostTimer { t }, ticks)
    }
}

unsafe extern "C" fn host_tick(t: *mut UloopTimeout) {
    // SAFETY: the first field of a live `HostTmo`; re-armed from its own
    // callback, which uloop allows.
    unsafe {
        let h = &*(t as *const HostTmo);
        h.ticks.set(h.ticks.get() + 1);
        ub::uloop_timeout_set(t.cast(), h.period_ms);
    }
}

impl Drop for HostTimer {
    fn drop(&mut self) {
        // SAFETY: cancel unlinks it; then the box is ours to free.
        unsafe {
            ub::uloop_timeout_cancel(self.t.cast());
            drop(Box::from_raw(self.t));
        }
    }
}
