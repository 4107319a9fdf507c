//! Host loops: what [`crate::Attached::attach`] takes. A C loop the library
//! may add sources to is either created by the adapter ([`Owner`], freed
//! when the last of its owner and the attachments on it is gone) or a
//! host's own loop, vouched for by the host in the adapter's `unsafe`
//! constructor ([`Host::vouched`] needs a proof only that constructor can
//! make). Either way the watchers hold it as a [`Kept`], valid while they
//! live. No C calls here.

use std::cell::Cell;
use std::marker::PhantomData;
use std::ops::Deref;
use std::rc::Rc;

use lws_core::Error;

/// A C loop an adapter creates and owns (its `uv_loop_t`, `event_base`,
/// ...), freeing it in `Drop`. Only the adapter can make one.
pub trait LoopOwner: Sized + 'static {
    /// The loop's C pointer (or `()` for a process-global loop).
    type Raw: Copy;
    /// Proof that a host vouched for a raw loop (made only by the
    /// adapter's `unsafe` constructor).
    type Vouch;
    /// The loop's name, for errors.
    const NAME: &'static str;

    /// A new loop.
    fn create() -> std::io::Result<Self>;
    /// The C loop.
    fn raw(&self) -> Self::Raw;
    /// One blocking iteration, for the owned run.
    fn iterate(&self) -> Result<(), Error>;
}

thread_local! {
    static LIVE: Cell<usize> = const { Cell::new(0) };
}

/// Loops created by adapters on this thread and not freed yet (test
/// support: attachments keep their loop alive).
#[doc(hidden)]
pub fn live_loops() -> usize {
    LIVE.with(Cell::get)
}

/// A created loop, counted in [`live_loops`] until it is freed.
struct Alive<O>(O);

impl<O> Alive<O> {
    fn new(o: O) -> Self {
        LIVE.with(|n| n.set(n.get() + 1));
        Alive(o)
    }
}

impl<O> Drop for Alive<O> {
    fn drop(&mut self) {
        LIVE.with(|n| n.set(n.get() - 1));
    }
}

/// A loop created by the adapter: the owner's handle. Attachments made
/// with [`Owner::host`] keep the loop allocated after the owner is
/// dropped.
pub struct Owner<O: LoopOwner> {
    inner: Rc<Alive<O>>,
}

impl<O: LoopOwner> std::fmt::Debug for Owner<O> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Owner({})", O::NAME)
    }
}

impl<O: LoopOwner> Owner<O> {
    /// A new loop.
    pub fn create() -> Result<Self, Error> {
        let o = O::create().map_err(|e| Error::Loop {
            lib: O::NAME,
            source: e,
        })?;
        Ok(Owner::from(o))
    }

    /// This loop, for attaching the library to it.
    pub fn host(&self) -> Host<'_, O> {
        Host {
            raw: self.inner.0.raw(),
            keep: Some(self.inner.clone()),
            _owner: PhantomData,
        }
    }
}

impl<O: LoopOwner> From<O> for Owner<O> {
    fn from(o: O) -> Self {
        Owner {
            inner: Rc::new(Alive::new(o)),
        }
    }
}

impl<O: LoopOwner> Deref for Owner<O> {
    type Target = O;

    fn deref(&self) -> &O {
        &self.inner.0
    }
}

/// A C loop the library may add sources to, borrowed from its owner for
/// `'a` (or `'static` for a loop the host vouched for).
pub struct Host<'a, O: LoopOwner> {
    raw: O::Raw,
    keep: Option<Rc<Alive<O>>>,
    _owner: PhantomData<&'a O>,
}

impl<O: LoopOwner> std::fmt::Debug for Host<'_, O> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Host({})", O::NAME)
    }
}

impl<O: LoopOwner> Host<'static, O> {
    /// A host's own loop; `proof` comes from the adapter's `unsafe`
    /// constructor, whose contract the host accepted.
    pub fn vouched(raw: O::Raw, proof: O::Vouch) -> Self {
        let _ = proof;
        Host {
            raw,
            keep: None,
            _owner: PhantomData,
        }
    }
}

impl<O: LoopOwner> Host<'_, O> {
    /// The loop as watchers hold it.
    pub fn into_kept(self) -> Kept<O> {
        Kept {
            raw: self.raw,
            _keep: self.keep,
        }
    }
}

/// A loop as the library's watchers hold it: valid while they live.
pub struct Kept<O: LoopOwner> {
    raw: O::Raw,
    _keep: Option<Rc<Alive<O>>>,
}

impl<O: LoopOwner> std::fmt::Debug for Kept<O> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Kept({})", O::NAME)
    }
}

impl<O: LoopOwner> Kept<O> {
    /// The C loop.
    pub fn raw(&self) -> O::Raw {
        self.raw
    }
}
